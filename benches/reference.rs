//! Cost of loading a reference track (issue 13): decode, resample 44.1 -> 48 kHz and analyse
//! (loudness blocks, summary, overview, tonal frames) a 5-minute stereo FLAC and MP3, as the
//! plugin's loader thread does before the track plays (`decode_reference` +
//! `ReferenceTrack::analyse_for_playback`), then the limiting curve it measures after (issue
//! 24, `ReferenceTrack::measure_safety_curve`). The target is under 3 s each on one core. Also the memory a loaded track holds beyond its decoded samples
//! (target: under 10 %).
//!
//! The files are encoded by ffmpeg (a program this project did not write) from a synthesised
//! 5-minute mix; without ffmpeg on PATH the benchmark says so and measures nothing.
//! Run: `cargo bench --bench reference`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use fairmaster::offline::audio_io::{write_wav_atomic, OutputFormat};
use fairmaster::offline::demo::demo_mix;
use fairmaster::offline::Audio;
use fairmaster::reference::decode::{decode_reference, MAX_REFERENCE_BYTES};
use fairmaster::reference::track::ReferenceTrack;

const SECONDS: usize = 300;
const SESSION_RATE: u32 = 48_000;

/// The demo mix (8 s) tiled to 5 minutes with a gain that changes per section, at 44.1 kHz
/// (resampled from the demo's rate by ffmpeg when encoding).
fn five_minute_wav(dir: &Path) -> PathBuf {
    let demo = demo_mix();
    let n = SECONDS * demo.sample_rate as usize;
    let section = demo.frames();
    let channels = demo
        .channels
        .iter()
        .map(|c| {
            (0..n)
                .map(|i| {
                    let gain = [1.0, 0.6, 0.8, 0.45][(i / section) % 4];
                    gain * c[i % section]
                })
                .collect()
        })
        .collect();
    let audio = Audio {
        sample_rate: demo.sample_rate,
        channels,
    };
    let path = dir.join("five-minutes.wav");
    write_wav_atomic(&path, &audio, OutputFormat::Float32, true).expect("write the source WAV");
    path
}

fn encode(source: &Path, target: &Path, codec_args: &[&str]) -> bool {
    Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-i"])
        .arg(source)
        .args(["-ar", "44100"])
        .args(codec_args)
        .arg(target)
        .status()
        .is_ok_and(|s| s.success())
}

/// What the loader does before the track plays (the limiting curve follows it).
fn load(path: &Path) -> ReferenceTrack {
    let decoded = decode_reference(path, SESSION_RATE, MAX_REFERENCE_BYTES).expect("decode");
    ReferenceTrack::analyse_for_playback(decoded, path.to_path_buf())
}

/// Bytes a loaded track holds beyond its samples: the loudness blocks, the overview and the
/// tonal frames (their element counts times their sizes; the Vec/VecDeque capacities as
/// allocated).
fn analysis_bytes(track: &ReferenceTrack) -> usize {
    let frames = track.tonal.frames();
    frames.capacity() * std::mem::size_of_val(frames.front().expect("tonal frames"))
        + track.overview.capacity() * std::mem::size_of::<f32>()
        + track.loudness.bytes()
        + track.safety().map_or(0, |curve| curve.bytes())
}

fn bench(c: &mut Criterion) {
    let dir =
        std::env::temp_dir().join(format!("fairmaster-bench-reference-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let source = five_minute_wav(&dir);
    let files = [
        ("flac", dir.join("five-minutes.flac"), vec!["-c:a", "flac"]),
        (
            "mp3",
            dir.join("five-minutes.mp3"),
            vec!["-c:a", "libmp3lame", "-b:a", "256k"],
        ),
    ];
    let mut group = c.benchmark_group("reference_load_5min_44k1_to_48k");
    group.sample_size(10);
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.measurement_time(std::time::Duration::from_secs(20));
    let mut summary = Vec::new();
    for (name, path, args) in &files {
        if !encode(&source, path, args) {
            summary.push(format!(
                "{name}: SKIPPED (ffmpeg could not encode it; is ffmpeg installed?)"
            ));
            continue;
        }
        let mut times = Vec::new();
        group.bench_function(*name, |b| {
            b.iter_custom(|iterations| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    let track = load(path);
                    let elapsed = start.elapsed();
                    std::hint::black_box(&track);
                    times.push(elapsed.as_secs_f64());
                    total += elapsed;
                }
                total
            })
        });
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
        let track = load(path);
        // The limiting curve (six passes of the safety limiter), measured after the track
        // plays: the time until the match accounts for the limiter.
        let start = Instant::now();
        track.measure_safety_curve();
        let curve_seconds = start.elapsed().as_secs_f64();
        let samples = 8 * track.left.len();
        let extra = analysis_bytes(&track);
        summary.push(format!(
            "{name}: decode + resample + analyse {median:.2} s for {SECONDS} s ({:.0}x realtime; \
             target < 3 s: {}); then the limiting curve {curve_seconds:.2} s; analysis holds \
             {:.2} MB beside {:.1} MB of samples ({:.1} %; target < 10 %)",
            SECONDS as f64 / median,
            if median < 3.0 { "met" } else { "MISSED" },
            extra as f64 / 1e6,
            samples as f64 / 1e6,
            100.0 * extra as f64 / samples as f64
        ));
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("\nReference loading (medians):");
    for line in summary {
        eprintln!("  {line}");
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
