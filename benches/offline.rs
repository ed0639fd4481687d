//! Offline renderer costs.
//!
//! 1. Render speed of the full chain (the reference master, every module on, 24-bit dither) on
//!    a 3-minute stereo 44.1 kHz file, as a realtime factor (target >= 200x). Prints the
//!    realtime factor of the render alone (what the criterion figure measures: `Engine` over
//!    the whole file, latency-compensated, with gain-reduction statistics) and of the whole job
//!    once (decode a 24-bit WAV, analyse, render, analyse, write a 24-bit WAV).
//! 2. The cost targets of issue 14, each a whole `fairmaster-render` job driven through the
//!    library (`cli::parse_args` + `cli::run`, exactly what the binary runs) on WAV files
//!    written once per process into a temp folder:
//!    * `job_4min_target_spotify`: `mix.wav --target spotify --dry-run --quiet` (4-minute
//!      song), the baseline of the two targets below;
//!    * `job_4min_reference_match_eq`: `mix.wav --reference ref.wav --target reference
//!      --match-eq 100 --dry-run --quiet`; target: at most 2x the baseline;
//!    * `job_4min_target_spotify_written` / `job_4min_target_spotify_pack`: the plain job
//!      writing its master (`-o FILE --force` instead of `--dry-run`, which writes no pack)
//!      without and with `--pack DIR`; target: the listening pack adds at most 2 s;
//!    * `album_12x20s_jobs_1` / `album_12x20s_jobs_default`: a 12-song album (20 s songs, to
//!      keep the bench short) `--target spotify --dry-run --quiet` with `--jobs 1` and with
//!      the default (all cores); target: the default at least 1.8x faster on 2 cores.
//!
//!    Criterion has no ratio between benchmarks, so every job run is also timed with `Instant`
//!    and a summary line per target is printed at the end from the medians of those runs (the
//!    first run of each, criterion's warm-up on cold caches, is left out). The load average is
//!    printed alongside: the machine is shared, and a concurrent build skews especially the
//!    parallel album figure.
//!
//! `cargo bench --bench offline`. A flag the parser does not know yet (`--pack`, `--jobs` are
//! newer than this file's first version) skips its benchmark with a message instead of failing
//! the others.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use fairmaster::ab::AbSettings;
use fairmaster::dsp::dither::DitherMode;
use fairmaster::offline::audio_io::{write_wav_atomic, OutputFormat};
use fairmaster::offline::cli::{parse_args, run, Command, Options};
use fairmaster::offline::demo::demo_mix;
use fairmaster::offline::render::render;
use fairmaster::offline::Audio;
use fairmaster::presets::reference_master;

const SECONDS: f64 = 180.0;
/// The issue's song length for the reference and pack targets.
const SONG_SECONDS: f64 = 240.0;
const ALBUM_SONGS: usize = 12;
/// Short album songs: the album comparison is about scheduling, not song length, and 12
/// four-minute songs twice over would take most of the bench's time budget.
const ALBUM_SONG_SECONDS: f64 = 20.0;

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

fn bench_render(c: &mut Criterion) {
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

    let dir = TempDir::new("render");
    let in_path = dir.0.join("three-minutes.wav");
    write_wav_atomic(&in_path, &input, OutputFormat::Int24, true).unwrap();
    let options = Options {
        inputs: vec![in_path.clone()],
        output: Some(dir.0.join("three-minutes.master.wav")),
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

    let mut group = c.benchmark_group("offline");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("render_3min_stereo_44k1_reference_master", |b| {
        b.iter(|| render(&input, &settings, &ab, &mut |_| {}))
    });
    group.finish();
}

/// A per-process folder under the system temp dir, removed on drop (also when a benchmark
/// panics), so repeated runs leave nothing behind.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "fairmaster-bench-offline-{what}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One-pole low-pass state, for the brightness changes below.
fn low_pass(x: &[f32], sample_rate: u32, cutoff_hz: f64) -> Vec<f32> {
    let a = (1.0 - (-std::f64::consts::TAU * cutoff_hz / f64::from(sample_rate)).exp()) as f32;
    let mut y = 0.0f32;
    x.iter()
        .map(|&v| {
            y += a * (v - y);
            y
        })
        .collect()
}

/// `seconds` of the demo mix from `offset_seconds` on, looped, each 8 s repetition at the next
/// gain of `section_gains` and with its treble (above ~2 kHz) scaled by the next of
/// `section_treble`: verses and choruses, so the loudness search, the short-term loudness
/// curve of the pack and the tonal analysis see a song that changes rather than one bar
/// repeated (a constant loop would make the pack's "loudest 30 s" search degenerate).
fn song(seconds: f64, offset_seconds: f64, section_gains: &[f32], section_treble: &[f32]) -> Audio {
    let mix = demo_mix();
    let rate = mix.sample_rate;
    let loop_len = mix.frames();
    let n = (seconds * f64::from(rate)) as usize;
    let offset = (offset_seconds * f64::from(rate)) as usize;
    let channels = mix
        .channels
        .iter()
        .map(|c| {
            let lows = low_pass(c, rate, 2_000.0);
            (0..n)
                .map(|i| {
                    let j = (i + offset) % loop_len;
                    let section = (i + offset) / loop_len;
                    let gain = section_gains[section % section_gains.len()];
                    let treble = section_treble[section % section_treble.len()];
                    gain * (lows[j] + treble * (c[j] - lows[j]))
                })
                .collect()
        })
        .collect();
    Audio {
        sample_rate: rate,
        channels,
    }
}

/// The 4-minute mix: quieter verses, louder choruses, the chorus slightly brighter.
fn four_minute_mix() -> Audio {
    song(
        SONG_SECONDS,
        0.0,
        &[0.6, 0.6, 1.0, 1.0, 0.75, 1.0],
        &[1.0, 1.0, 1.2, 1.2, 0.9, 1.2],
    )
}

/// A reference master: the same music, brighter and louder, saturated (tanh keeps it inside
/// full scale like a limited master; its loudness and tonal balance differ from the mix's, so
/// `--target reference` and `--match-eq` have real work to do).
fn reference_track() -> Audio {
    let mut audio = song(SONG_SECONDS, 2.0, &[0.8, 1.0], &[1.8, 1.8]);
    for channel in &mut audio.channels {
        for v in channel {
            *v = (2.2 * *v).tanh() * 0.9;
        }
    }
    audio
}

fn path_arg(path: &Path) -> String {
    path.to_str().expect("temp paths are UTF-8").to_string()
}

/// `fairmaster-render ARGS` as the binary parses them; `Err` with the usage message when the
/// parser refuses them (e.g. a flag it does not know yet).
fn job(args: &[String]) -> Result<Options, String> {
    match parse_args(args)? {
        Command::Render(options) => Ok(*options),
        Command::Help => Err("parsed as --help".into()),
    }
}

/// Benchmarks the whole job `options` in `group`; every run's wall time is pushed to `times`.
/// `check` looks at each report (a job that silently did less would bench faster).
fn bench_job(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    options: &Options,
    times: &mut Vec<f64>,
    check: impl Fn(&fairmaster::offline::report::RunReport),
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let report = run(black_box(options))
                    .unwrap_or_else(|e| panic!("{name}: the job failed: {e}"));
                let elapsed = start.elapsed();
                check(&report);
                total += elapsed;
                times.push(elapsed.as_secs_f64());
            }
            total
        })
    });
}

/// Median of the runs after the first (criterion's warm-up, on cold caches and page cache);
/// NaN for a benchmark the command line filtered out.
fn median(times: &[f64]) -> f64 {
    let mut t: Vec<f64> = if times.len() > 1 {
        times[1..].to_vec()
    } else {
        times.to_vec()
    };
    if t.is_empty() {
        // Filtered out on the command line (`cargo bench --bench offline -- album`).
        return f64::NAN;
    }
    t.sort_by(f64::total_cmp);
    let mid = t.len() / 2;
    if t.len() % 2 == 1 {
        t[mid]
    } else {
        0.5 * (t[mid - 1] + t[mid])
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// A group for multi-second jobs: flat sampling (every sample one run; criterion's default
/// linear sampling would run 1 + 2 + ... + 10 = 55 of them) and a short measurement time, so
/// each benchmark costs its warm-up run plus ten runs. Criterion then warns that ten samples
/// do not fit the measurement time; that is intended (a longer time would only add runs).
fn job_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group
}

fn bench_issue14(c: &mut Criterion) {
    let dir = TempDir::new("issue14");
    let mix = dir.0.join("mix.wav");
    let reference = dir.0.join("ref.wav");
    write_wav_atomic(&mix, &four_minute_mix(), OutputFormat::Float32, true).unwrap();
    write_wav_atomic(&reference, &reference_track(), OutputFormat::Float32, true).unwrap();
    let mut album_args: Vec<String> = Vec::new();
    for k in 0..ALBUM_SONGS {
        // Each song its own level (up to 6 dB apart, so relative album mode gives each its own
        // target) and its own start in the loop.
        let gain = 10f32.powf(-((k % 4) as f32) * 2.0 / 20.0);
        let audio = song(
            ALBUM_SONG_SECONDS,
            k as f64 * 0.7,
            &[gain, gain * 0.8, gain],
            &[1.0, 0.8, 1.3],
        );
        let path = dir.0.join(format!("song-{:02}.wav", k + 1));
        write_wav_atomic(&path, &audio, OutputFormat::Float32, true).unwrap();
        album_args.push(path_arg(&path));
    }
    let pack_dir = dir.0.join("pack");

    let args = |list: &[&str]| -> Vec<String> { list.iter().map(|s| s.to_string()).collect() };
    let (mix_s, reference_s, pack_s) = (path_arg(&mix), path_arg(&reference), path_arg(&pack_dir));
    let plain = job(&args(&[
        &mix_s,
        "--target",
        "spotify",
        "--dry-run",
        "--quiet",
    ]))
    .expect("the plain --target job parses");
    let with_reference = job(&args(&[
        &mix_s,
        "--reference",
        &reference_s,
        "--target",
        "reference",
        "--match-eq",
        "100",
        "--dry-run",
        "--quiet",
    ]))
    .expect("the reference job parses");
    // `--dry-run` writes no pack, so the pack's cost is measured between two jobs that both
    // write the master (24-bit WAV into the temp folder): the difference is the pack alone.
    let master_s = path_arg(&dir.0.join("mix.master.wav"));
    let written = args(&[
        &mix_s, "--target", "spotify", "--quiet", "-o", &master_s, "--force",
    ]);
    let plain_written = job(&written).expect("the plain written job parses");
    let with_pack = job(&[written.clone(), args(&["--pack", &pack_s])].concat());
    let album_tail = args(&["--target", "spotify", "--dry-run", "--quiet"]);
    let album_sequential = job(&[
        album_args.clone(),
        album_tail.clone(),
        args(&["--jobs", "1"]),
    ]
    .concat());
    let album_parallel = job(&[album_args, album_tail].concat());

    let mut summary = Vec::new();
    let one_file = |r: &fairmaster::offline::report::RunReport| assert_eq!(r.files.len(), 1);

    let mut group = job_group(c, "offline_issue14");
    let load_before = load_average();
    let mut plain_times = Vec::new();
    bench_job(
        &mut group,
        "job_4min_target_spotify",
        &plain,
        &mut plain_times,
        one_file,
    );
    let mut reference_times = Vec::new();
    bench_job(
        &mut group,
        "job_4min_reference_match_eq",
        &with_reference,
        &mut reference_times,
        |r| {
            assert_eq!(r.files.len(), 1);
            assert!(
                r.files[0]
                    .reference
                    .as_ref()
                    .is_some_and(|x| x.tonal_match.is_some()),
                "the reference job made no tonal match"
            );
        },
    );
    let (plain_s, reference_s) = (median(&plain_times), median(&reference_times));
    let ratio = reference_s / plain_s;
    summary.push(format!(
        "reference mastering (4 min, --target reference --match-eq 100) / plain --target \
         spotify: {reference_s:.2} s / {plain_s:.2} s = {ratio:.2}x (target <= 2x): {}",
        verdict(ratio <= 2.0)
    ));
    match &with_pack {
        Ok(with_pack) => {
            let mut written_times = Vec::new();
            bench_job(
                &mut group,
                "job_4min_target_spotify_written",
                &plain_written,
                &mut written_times,
                one_file,
            );
            let mut pack_times = Vec::new();
            bench_job(
                &mut group,
                "job_4min_target_spotify_pack",
                with_pack,
                &mut pack_times,
                |r| {
                    assert_eq!(r.files.len(), 1);
                    assert!(r.pack.is_some(), "the --pack job reported no pack");
                    assert!(pack_dir.join("report.html").is_file(), "no report.html");
                },
            );
            let (written_s, pack_s) = (median(&written_times), median(&pack_times));
            let extra = pack_s - written_s;
            summary.push(format!(
                "listening pack (4 min, -o FILE --force with / without --pack DIR): {pack_s:.2} \
                 s - {written_s:.2} s = {extra:.2} s beyond the render (target <= 2 s): {}",
                verdict(extra <= 2.0)
            ));
        }
        Err(e) => summary.push(format!("listening pack: SKIPPED, --pack not parsed: {e}")),
    }
    group.finish();

    let mut group = job_group(c, "offline_issue14_album");
    match (&album_sequential, &album_parallel) {
        (Ok(sequential), Ok(parallel)) => {
            let twelve = |r: &fairmaster::offline::report::RunReport| {
                assert_eq!(r.files.len(), ALBUM_SONGS);
                assert!(r.album.is_some(), "no album summary");
            };
            let mut sequential_times = Vec::new();
            bench_job(
                &mut group,
                "album_12x20s_jobs_1",
                sequential,
                &mut sequential_times,
                twelve,
            );
            let mut parallel_times = Vec::new();
            bench_job(
                &mut group,
                "album_12x20s_jobs_default",
                parallel,
                &mut parallel_times,
                twelve,
            );
            let (sequential_s, parallel_s) = (median(&sequential_times), median(&parallel_times));
            let speedup = sequential_s / parallel_s;
            let cores = std::thread::available_parallelism().map_or(0, usize::from);
            summary.push(format!(
                "album 12 x 20 s, --jobs 1 / default ({cores} cores): {sequential_s:.2} s / \
                 {parallel_s:.2} s = {speedup:.2}x faster in parallel (target >= 1.8x): {}",
                verdict(speedup >= 1.8)
            ));
        }
        (Err(e), _) | (_, Err(e)) => summary.push(format!(
            "album parallelism: SKIPPED, --jobs not parsed: {e}"
        )),
    }
    group.finish();

    eprintln!(
        "\nIssue 14 cost targets (medians of the timed runs; load average {load_before} before, \
         {} after):",
        load_average()
    );
    for line in &summary {
        eprintln!("  {line}");
    }
}

criterion_group!(benches, bench_render, bench_issue14);
criterion_main!(benches);
