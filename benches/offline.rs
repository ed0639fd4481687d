//! Offline render speed of the full chain (the reference master, every module on, 24-bit
//! dither) on a 3-minute stereo 44.1 kHz file, as a realtime factor (target >= 200x).
//!
//! `cargo bench --bench offline`. Prints the realtime factor of the render alone (what the
//! criterion figure measures: `Engine` over the whole file, latency-compensated, with
//! gain-reduction statistics) and of the whole job once (decode a 24-bit WAV, analyse, render,
//! analyse, write a 24-bit WAV).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fairmaster::ab::AbSettings;
use fairmaster::dsp::dither::DitherMode;
use fairmaster::offline::audio_io::{write_wav_atomic, OutputFormat};
use fairmaster::offline::cli::{run, Options};
use fairmaster::offline::demo::demo_mix;
use fairmaster::offline::render::render;
use fairmaster::offline::Audio;
use fairmaster::presets::reference_master;

const SECONDS: f64 = 180.0;

/// Three minutes of the demo mix, looped.
fn three_minutes() -> Audio {
    let mix = demo_mix();
    let n = (SECONDS * f64::from(mix.sample_rate)) as usize;
    Audio {
        sample_rate: mix.sample_rate,
        channels: mix
            .channels
            .iter()
            .map(|c| c.iter().copied().cycle().take(n).collect())
            .collect(),
    }
}

fn bench_offline(c: &mut Criterion) {
    let input = three_minutes();
    let mut settings = reference_master(false);
    settings.dither.mode = DitherMode::Bits24;
    let ab = AbSettings::default();

    let start = Instant::now();
    let rendered = render(&input, &settings, &ab, &mut |_| {});
    let render_time = start.elapsed().as_secs_f64();
    assert_eq!(rendered.audio.frames(), input.frames());
    println!(
        "offline render, 3 min stereo 44.1 kHz, reference master: {:.3} s = {:.0}x realtime",
        render_time,
        SECONDS / render_time
    );

    let dir = std::env::temp_dir().join(format!("fairmaster-bench-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let in_path = dir.join("three-minutes.wav");
    write_wav_atomic(&in_path, &input, OutputFormat::Int24, true).unwrap();
    let options = Options {
        inputs: vec![in_path.clone()],
        output: Some(dir.join("three-minutes.master.wav")),
        force: true,
        quiet: true,
        ..Options::default()
    };
    let start = Instant::now();
    run(&options).unwrap();
    let job_time = start.elapsed().as_secs_f64();
    println!(
        "whole job (decode 24-bit WAV, analyse, render, analyse, write 24-bit WAV): {:.3} s = \
         {:.0}x realtime",
        job_time,
        SECONDS / job_time
    );
    let _ = std::fs::remove_dir_all(&dir);

    let mut group = c.benchmark_group("offline");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("render_3min_stereo_44k1_reference_master", |b| {
        b.iter(|| render(&input, &settings, &ab, &mut |_| {}))
    });
    group.finish();
}

criterion_group!(benches, bench_offline);
criterion_main!(benches);
