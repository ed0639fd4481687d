//! CPU cost of one full editor frame: every panel, the spectrum analyzer fed with a new 60 Hz
//! block of audio (FFT of input and output), the EQ curve, meters. Two measurements:
//!
//! - `editor_frame_egui`: what the plugin window does per frame on the CPU: egui layout of the
//!   whole UI plus tessellation into triangles (the GPU upload/draw is not included).
//! - `editor_frame_kittest`: the same frame in the egui_kittest harness used by the UI tests
//!   (adds building and diffing the AccessKit tree, which the plugin does not do).
//!
//! The goal (issue 6) is under 2 ms per frame. Run: `cargo bench --bench editor`; the mean of
//! each benchmark is printed at the end.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, Criterion};
use egui_kittest::Harness;
use fairmaster::editor::test_host::RecordingHost;
use fairmaster::editor::widgets::Ctl;
use fairmaster::editor::{presets, EditorUi};
use fairmaster::params::FairmasterParams;
use fairmaster::shared_state::{spectrum_rings, SharedState, SpectrumProducer};
use nice_plug::context::gui::GuiContext;

const SIZE: [f32; 2] = [1280.0, 800.0];
/// Samples per frame at 48 kHz and 60 frames per second.
const BLOCK: usize = 800;

struct Setup {
    ui: EditorUi,
    gui: GuiContext,
    producer: SpectrumProducer,
    signal: Vec<f32>,
}

fn setup() -> Setup {
    let params = Arc::new(FairmasterParams::default());
    let shared = Arc::new(SharedState::default());
    shared
        .output
        .integrated_lufs
        .store(-14.2, std::sync::atomic::Ordering::Relaxed);
    let host = RecordingHost::new(params.clone());
    let gui = host.context();
    {
        let setter = gui.param_setter();
        let ctl = Ctl::new(&setter);
        presets::apply_chain_settings(&ctl, &params, &fairmaster::presets::reference_master(false));
    }
    let (producer, consumer) = spectrum_rings(1 << 15);
    let ui = EditorUi::new(params, shared, Some(consumer));
    let mut x = 1u32;
    let signal = (0..BLOCK * 64)
        .map(|i| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = i as f32 / 48_000.0;
            0.3 * (2.0 * std::f32::consts::PI * 110.0 * t).sin()
                + 0.1 * ((x >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
        })
        .collect();
    Setup {
        ui,
        gui,
        producer,
        signal,
    }
}

fn feed(s: &mut Setup, frame: usize) {
    let start = (frame % 64) * BLOCK;
    let block = &s.signal[start..start + BLOCK];
    s.producer.push_input(block, block);
    s.producer.push_output(block, block);
}

fn bench(c: &mut Criterion) {
    // Plain egui: layout + tessellation, as in the plugin window.
    let mut s = setup();
    let ctx = egui::Context::default();
    let mut frame = 0usize;
    let mut time = 0.0;
    c.bench_function("editor_frame_egui", |b| {
        b.iter(|| {
            feed(&mut s, frame);
            frame += 1;
            time += 1.0 / 60.0;
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::Vec2::from(SIZE),
                )),
                time: Some(time),
                ..Default::default()
            };
            let Setup { ui, gui, .. } = &mut s;
            let output = ctx.run_ui(input, |eui| ui.ui(eui, gui));
            let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
            black_box(primitives.len())
        })
    });

    // The kittest harness (as in the UI tests).
    let s = setup();
    let mut h = Harness::builder()
        .with_size(SIZE)
        .with_step_dt(1.0 / 60.0)
        .build_ui_state(|eui, s: &mut Setup| s.ui.ui(eui, &s.gui), s);
    let mut frame = 0usize;
    c.bench_function("editor_frame_kittest", |b| {
        b.iter(|| {
            feed(h.state_mut(), frame);
            frame += 1;
            h.step();
        })
    });
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    for name in ["editor_frame_egui", "editor_frame_kittest"] {
        let path = std::path::Path::new("target/criterion")
            .join(name)
            .join("new")
            .join("estimates.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(ns) = json["mean"]["point_estimate"].as_f64() {
            let ms = ns / 1e6;
            let verdict = if ms < 2.0 { "within" } else { "OVER" };
            println!("{name}: {ms:.3} ms per frame ({verdict} the 2 ms budget)");
        }
    }
}
