//! Renders the real editor offscreen (wgpu; Mesa's software Vulkan driver is enough) and
//! compares it with `tests/snapshots/editor.png`. A visual change beyond a small threshold fails.
//! `UPDATE_SNAPSHOTS=1 cargo test --test editor_snapshot` rewrites the image after an
//! intended change. Without any GPU adapter the test prints why it is skipped.

mod editor_support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use editor_support::{app, harness_builder, App};
use egui_kittest::SnapshotOptions;
use fairmaster::shared_state::{spectrum_rings, SharedState, SpectrumProducer};

/// A deterministic "programme": a few tones with falling level plus noise.
fn programme(n: usize, seed: &mut u32, brightness: f32) -> Vec<f32> {
    let fs = 48_000.0;
    (0..n)
        .map(|i| {
            let t = i as f32 / fs;
            let mut x = 0.0;
            for (k, f) in [55.0, 110.0, 220.0, 440.0, 880.0, 1760.0, 3520.0, 7040.0]
                .iter()
                .enumerate()
            {
                x += (0.25 / (k as f32 + 1.0).powf(1.0 / brightness))
                    * (2.0 * std::f32::consts::PI * f * t).sin();
            }
            *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            x + 0.02 * ((*seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
        })
        .collect()
}

pub fn fill_meters(shared: &SharedState) {
    let s = |a: &atomic_float::AtomicF32, v: f32| a.store(v, Ordering::Relaxed);
    s(&shared.input.momentary_lufs, -17.8);
    s(&shared.input.short_term_lufs, -18.3);
    s(&shared.input.integrated_lufs, -18.6);
    s(&shared.input.loudness_range_lu, 7.1);
    s(&shared.input.true_peak_max_dbtp, -3.2);
    s(&shared.input.sample_peak_dbfs, -4.0);
    s(&shared.output.momentary_lufs, -13.6);
    s(&shared.output.short_term_lufs, -14.1);
    s(&shared.output.integrated_lufs, -14.4);
    s(&shared.output.loudness_range_lu, 5.3);
    s(&shared.output.true_peak_max_dbtp, -1.1);
    s(&shared.output.sample_peak_dbfs, -1.4);
    s(&shared.compressor_gr_db, 2.4);
    s(&shared.limiter_gr_db, 1.2);
    s(&shared.correlation, 0.82);
    s(&shared.match_offset_db, 4.3);
}

pub fn feed(producer: &mut SpectrumProducer, seed: &mut u32) {
    let input = programme(1600, seed, 1.0);
    let output = programme(1600, seed, 1.3);
    producer.push_input(&input, &input);
    producer.push_output(&output, &output);
}

/// A realistic session: the reference master preset with two bells, meters running.
fn session() -> (App, SpectrumProducer) {
    let (producer, consumer) = spectrum_rings(1 << 15);
    let app = app(Some(consumer));
    fill_meters(&app.shared);
    {
        let setter = app.gui.param_setter();
        let ctl = fairmaster::editor::widgets::Ctl::new(&setter);
        fairmaster::editor::presets::apply_chain_settings(
            &ctl,
            &app.params,
            &fairmaster::presets::reference_master(false),
        );
    }
    (app, producer)
}

#[test]
fn editor_snapshot() {
    let (app, mut producer) = session();
    assert!(app.params.stages.eq.enabled.value());
    let built = catch_unwind(AssertUnwindSafe(|| {
        harness_builder()
            .wgpu()
            .build_ui_state(|ui, app: &mut App| app.ui.ui(ui, &app.gui), app)
    }));
    let mut h = match built {
        Ok(h) => h,
        Err(_) => {
            eprintln!(
                "SKIPPED editor_snapshot: no wgpu adapter (install mesa-vulkan-drivers for a \
                 software Vulkan driver)"
            );
            return;
        }
    };
    let mut seed = 1;
    for _ in 0..40 {
        feed(&mut producer, &mut seed);
        h.step();
    }
    h.run();
    if let Err(e) = h.render() {
        eprintln!("SKIPPED editor_snapshot: rendering failed: {e}");
        return;
    }
    let options = SnapshotOptions::new()
        .threshold(1.0)
        .max_failed_pixels(1500);
    h.snapshot_options("editor", &options);
}
