//! Measured-behaviour tests of the limiter (split out of limiter.rs to keep it focused).

use super::*;
use crate::dsp::meters::true_peak::{true_peak_dbtp, TruePeakDetector};
use std::f64::consts::PI;

/// xorshift64* white noise, uniform in [-1, 1).
use crate::test_signals::Noise;

fn run(limiter: &mut Limiter, left: &[f32], right: &[f32], block: usize) -> (Vec<f32>, Vec<f32>) {
    let mut out_l = left.to_vec();
    let mut out_r = right.to_vec();
    for (l, r) in out_l.chunks_mut(block).zip(out_r.chunks_mut(block)) {
        limiter.process(l, r);
    }
    (out_l, out_r)
}

fn settings(
    drive_db: f32,
    ceiling_db: f32,
    auto: bool,
    release_ms: f32,
    la: f32,
) -> LimiterSettings {
    LimiterSettings {
        enabled: true,
        drive_db,
        ceiling_db,
        release_ms,
        auto_release: auto,
        lookahead_ms: la,
        character: LimiterCharacter::Transparent,
    }
}

fn sine(freq: f64, fs: f64, amp: f64, len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| (amp * (2.0 * PI * freq * i as f64 / fs).sin()) as f32)
        .collect()
}

/// Torture signals from the spec, each paired with its drive in dB.
fn torture_signals(fs: f64) -> Vec<(&'static str, f32, Vec<f32>, Vec<f32>)> {
    let len = (0.15 * fs) as usize;
    let square = |freq: f64| -> Vec<f32> {
        (0..len)
            .map(|i| {
                if (i as f64 * freq / fs).fract() < 0.5 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect()
    };
    let mut noise = Noise::new(0x1234_5678_9abc_def1);
    let noise_l: Vec<f32> = (0..len).map(|_| noise.next()).collect();
    let noise_r: Vec<f32> = (0..len).map(|_| noise.next()).collect();
    let mut impulse = vec![0.0f32; len];
    impulse[len / 3] = 1.0;
    let train: Vec<f32> = (0..len)
        .map(|i| if i % 37 == 0 { 1.0 } else { 0.0 })
        .collect();
    // Clusters of random-amplitude, random-sign impulses: rapidly changing gain inside the
    // interpolation filter's support is the hardest case for a base-rate gain.
    let clusters: Vec<f32> = (0..len)
        .map(|i| {
            let r = noise.next();
            if (i / 50) % 3 == 0 && r.abs() > 0.6 {
                r.signum() * noise.next().abs()
            } else {
                0.0
            }
        })
        .collect();
    let sweep_len = len * 2;
    let (f0, f1) = (20.0f64, 20_000.0f64);
    let duration = sweep_len as f64 / fs;
    let k = (f1 / f0).ln() / duration;
    let sweep: Vec<f32> = (0..sweep_len)
        .map(|i| {
            let t = i as f64 / fs;
            (2.0 * PI * f0 * ((k * t).exp() - 1.0) / k).sin() as f32
        })
        .collect();
    let alternating: Vec<f32> = (0..len)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let near_nyquist = sine(20_000.0, fs, 1.0, len);
    vec![
        ("square 1 kHz", 0.0, square(1000.0), square(1000.0)),
        ("square 50 Hz", 0.0, square(50.0), square(50.0)),
        ("alternating +-1", 0.0, alternating.clone(), alternating),
        ("sine 20 kHz +12", 12.0, near_nyquist.clone(), near_nyquist),
        ("impulse +24", 24.0, impulse.clone(), impulse),
        ("impulse train +12", 12.0, train.clone(), train),
        ("impulse clusters +24", 24.0, clusters.clone(), clusters),
        ("white noise +20", 20.0, noise_l, noise_r),
        ("log sweep +12", 12.0, sweep.clone(), sweep),
    ]
}

#[test]
fn output_true_peak_never_exceeds_ceiling() {
    let mut worst = f32::NEG_INFINITY;
    for fs in [44_100.0, 96_000.0] {
        for (auto, release, lookahead) in
            [(true, 100.0, 1.5), (false, 1.0, 0.5), (false, 1000.0, 5.0)]
        {
            for (name, drive, left, right) in torture_signals(fs) {
                let ceiling = -1.0;
                let mut limiter = Limiter::new(fs as f32);
                limiter.set(&settings(drive, ceiling, auto, release, lookahead));
                limiter.reset(fs as f32);
                // Zero tail so the signal's end goes through the limiter as well (otherwise the
                // measurement's zero padding would add a step the limiter never saw).
                let tail = limiter.latency_samples() as usize + 16;
                let left: Vec<f32> = left.iter().copied().chain(vec![0.0; tail]).collect();
                let right: Vec<f32> = right.iter().copied().chain(vec![0.0; tail]).collect();
                let (out_l, out_r) = run(&mut limiter, &left, &right, 256);
                let over = true_peak_dbtp(&out_l, &out_r) - ceiling;
                worst = worst.max(over);
                assert!(
                    over <= 0.1,
                    "{name} at {fs} Hz (auto {auto}, release {release}, la {lookahead}): {over} dB over"
                );
            }
        }
    }
    eprintln!("worst true-peak relative to ceiling: {worst:.4} dB");
}

#[test]
fn no_gain_reduction_is_bit_exact_delay() {
    for fs in [44_100.0f32, 48_000.0, 192_000.0] {
        let mut limiter = Limiter::new(fs);
        limiter.set(&LimiterSettings::default());
        let latency = limiter.latency_samples() as usize;
        let mut noise = Noise::new(99);
        let left: Vec<f32> = (0..4000).map(|_| 0.3 * noise.next()).collect();
        let right: Vec<f32> = (0..4000).map(|_| 0.3 * noise.next()).collect();
        let (out_l, out_r) = run(&mut limiter, &left, &right, 100);
        assert!(out_l[..latency].iter().all(|&v| v == 0.0));
        for n in 0..left.len() - latency {
            assert_eq!(out_l[n + latency], left[n]);
            assert_eq!(out_r[n + latency], right[n]);
        }
        assert_eq!(limiter.gain_reduction_db(), 0.0);
    }
}

#[test]
fn latency_is_the_exact_impulse_delay() {
    for fs in [44_100.0f32, 96_000.0, 192_000.0] {
        for lookahead in [0.5, 1.5, 5.0] {
            let mut limiter = Limiter::new(fs);
            limiter.set(&settings(0.0, -1.0, true, 100.0, lookahead));
            limiter.reset(fs);
            let expected = (lookahead * 0.001 * fs).round() as u32 + SUPPORT_DELAY_FRAMES as u32;
            assert_eq!(limiter.latency_samples(), expected);
            let mut x = vec![0.0f32; 2000];
            x[3] = 0.5;
            let (out, _) = run(&mut limiter, &x, &x, 64);
            let pos = out.iter().position(|&v| v != 0.0).unwrap();
            assert_eq!(pos, 3 + expected as usize);
            assert_eq!(out[pos], 0.5);
        }
    }
}

/// THD from DFT bins of harmonics 2..10 over a window of whole periods.
fn thd_percent(x: &[f32], freq: f64, fs: f64) -> f64 {
    let bin = |f: f64| -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &v) in x.iter().enumerate() {
            let w = 2.0 * PI * f * n as f64 / fs;
            re += v as f64 * w.cos();
            im += v as f64 * w.sin();
        }
        re * re + im * im
    };
    let fundamental = bin(freq);
    let harmonics: f64 = (2..=10)
        .map(|k| k as f64 * freq)
        .filter(|&f| f < fs / 2.0)
        .map(bin)
        .sum();
    100.0 * (harmonics / fundamental).sqrt()
}

#[test]
fn thd_is_low_with_6_db_gain_reduction() {
    // -6 dBFS 1 kHz sine, drive +6 dB -> 0 dBFS into a -6 dBTP ceiling: 6 dB of reduction.
    for fs in [48_000.0f64, 44_100.0] {
        for auto in [true, false] {
            let mut limiter = Limiter::new(fs as f32);
            limiter.set(&settings(6.0, -6.0, auto, 100.0, 1.5));
            limiter.reset(fs as f32);
            let settle = (0.4 * fs) as usize;
            let window = (0.1 * fs) as usize; // 100 whole periods
            let x = sine(1000.0, fs, 0.5, settle + window);
            let (out, _) = run(&mut limiter, &x, &x, 512);
            let gr = limiter.gain_reduction_db();
            assert!((gr - 6.05).abs() < 0.3, "gain reduction {gr} dB");
            let thd = thd_percent(&out[settle..], 1000.0, fs);
            eprintln!("THD 1 kHz, 6 dB GR, fs {fs}, auto {auto}: {thd:.5} %");
            assert!(thd < 0.1, "THD {thd} %");
            // Steady-state true peak of the output, taken from the detector directly (a
            // truncated slice would add measurement edges).
            let mut detector = TruePeakDetector::new();
            let peaks: Vec<f32> = out.iter().map(|&v| detector.process_sample(v)).collect();
            let tp = gain_to_db(peaks[settle..].iter().fold(0.0f32, |m, &p| m.max(p)));
            assert!(tp <= -5.9 && tp > -6.3, "output true peak {tp} dBTP");
        }
    }
}

#[test]
fn low_frequency_thd_is_bounded() {
    // 100 Hz (period 480 samples > hold window of 83): the gain can follow the waveform,
    // which is where the program-dependent release earns its keep.
    let fs = 48_000.0;
    let mut results = Vec::new();
    for auto in [true, false] {
        let mut limiter = Limiter::new(fs as f32);
        limiter.set(&settings(6.0, -6.0, auto, 100.0, 1.5));
        limiter.reset(fs as f32);
        let settle = (1.0 * fs) as usize;
        let x = sine(100.0, fs, 0.5, settle + 4800);
        let (out, _) = run(&mut limiter, &x, &x, 512);
        let thd = thd_percent(&out[settle..], 100.0, fs);
        eprintln!("THD 100 Hz, 6 dB GR, auto {auto}: {thd:.4} %");
        results.push(thd);
    }
    assert!(results[0] < 1.0 && results[1] < 1.0, "{results:?}");
}

/// Gain the limiter applied to each input sample (DC test signals, so out / in).
fn applied_gain(limiter: &mut Limiter, x: &[f32]) -> Vec<f32> {
    let latency = limiter.latency_samples() as usize;
    let (out, _) = run(limiter, x, x, 256);
    (0..x.len() - latency)
        .map(|n| out[n + latency] / x[n])
        .collect()
}

/// Time (s) from the end of a loud DC burst until the gain is within 1 dB of unity.
fn recovery_after_burst(auto: bool, burst_seconds: f64) -> f64 {
    let fs = 48_000.0;
    let mut limiter = Limiter::new(fs as f32);
    limiter.set(&settings(0.0, -6.0, auto, 100.0, 1.5));
    limiter.reset(fs as f32);
    let start = 4800;
    let end = start + (burst_seconds * fs) as usize;
    let total = end + (2.0 * fs) as usize;
    let x: Vec<f32> = (0..total)
        .map(|n| if (start..end).contains(&n) { 1.0 } else { 0.1 })
        .collect();
    let gain = applied_gain(&mut limiter, &x);
    let threshold = db_to_gain(-1.0);
    let recovered = (end..gain.len()).find(|&n| gain[n] >= threshold).unwrap();
    (recovered - end) as f64 / fs
}

#[test]
fn auto_release_is_program_dependent() {
    // Auto: a 5 ms transient releases near the fast stage (release/4 = 25 ms time constant),
    // 2 s of sustained reduction releases with the slow stage (3 x release = 300 ms):
    // analytic recovery from -6 dB to -1 dB is tau * ln(0.5 / 0.109) = 1.52 tau, i.e.
    // 38 ms / 457 ms (+ hold and ramp of ~3 ms); manual 100 ms gives 152 ms for both.
    let short_auto = recovery_after_burst(true, 0.005);
    let long_auto = recovery_after_burst(true, 2.0);
    let short_manual = recovery_after_burst(false, 0.005);
    let long_manual = recovery_after_burst(false, 2.0);
    eprintln!(
        "recovery to -1 dB: auto short {short_auto:.4} s, long {long_auto:.4} s; manual short {short_manual:.4} s, long {long_manual:.4} s"
    );
    assert!(short_auto < 0.06, "{short_auto}");
    assert!(long_auto > 5.0 * short_auto, "{long_auto} vs {short_auto}");
    assert!((long_manual / short_manual - 1.0).abs() < 0.1);
}

#[test]
fn manual_release_time_constant_matches_setting() {
    // Linear-domain one-pole release: the remaining reduction 1 - g halves every tau * ln 2.
    let fs = 48_000.0;
    for release_ms in [10.0f32, 100.0, 500.0] {
        let mut limiter = Limiter::new(fs);
        limiter.set(&settings(0.0, -6.0, false, release_ms, 1.5));
        limiter.reset(fs);
        let end = 4800 + 2400;
        let x: Vec<f32> = (0..end + (3.0 * release_ms * 0.001 * fs) as usize + 4800)
            .map(|n| if (4800..end).contains(&n) { 1.0 } else { 0.1 })
            .collect();
        let gain = applied_gain(&mut limiter, &x);
        let t60 = (end..gain.len()).find(|&n| gain[n] >= 0.6).unwrap();
        let t80 = (end..gain.len()).find(|&n| gain[n] >= 0.8).unwrap();
        let measured_tau_ms = (t80 - t60) as f32 / fs * 1000.0 / std::f32::consts::LN_2;
        let error = (measured_tau_ms / release_ms - 1.0).abs();
        assert!(
            error < 0.03,
            "release {release_ms} ms measured {measured_tau_ms} ms"
        );
    }
}

#[test]
fn stereo_link_applies_identical_gain() {
    let fs = 48_000.0;
    let mut limiter = Limiter::new(fs);
    limiter.set(&settings(12.0, -1.0, true, 50.0, 1.5));
    let left = sine(440.0, fs as f64, 0.9, 9600);
    let right = sine(660.0, fs as f64, 0.05, 9600);
    let (out_l, out_r) = run(&mut limiter, &left, &right, 128);
    let latency = limiter.latency_samples() as usize;
    let drive = db_to_gain(12.0);
    for n in 1000..9600 - latency {
        if left[n].abs() > 0.05 && right[n].abs() > 0.01 {
            let gl = out_l[n + latency] / left[n];
            let gr = out_r[n + latency] / right[n];
            assert!((gl - gr).abs() <= 1e-6 * drive, "{gl} vs {gr}");
            assert!(gl < drive * 0.5, "left was not limited");
        }
    }
}

#[test]
fn output_is_independent_of_block_size() {
    let fs = 44_100.0;
    let mut noise = Noise::new(7);
    let left: Vec<f32> = (0..6000).map(|_| noise.next()).collect();
    let right: Vec<f32> = (0..6000).map(|_| noise.next()).collect();
    let mut reference = None;
    for block in [1usize, 7, 64, 1000, 6000] {
        let mut limiter = Limiter::new(fs);
        limiter.set(&settings(10.0, -2.0, true, 30.0, 2.0));
        let out = run(&mut limiter, &left, &right, block);
        match &reference {
            None => reference = Some(out),
            Some(r) => assert_eq!(r, &out, "block {block}"),
        }
    }
}

#[test]
fn non_finite_input_recovers_within_one_block() {
    let fs = 48_000.0;
    let mut limiter = Limiter::new(fs);
    limiter.set(&settings(6.0, -1.0, true, 100.0, 1.5));
    let mut bad = vec![f32::NAN; 256];
    bad[10] = f32::INFINITY;
    bad[20] = f32::NEG_INFINITY;
    let mut bad_r = bad.clone();
    limiter.process(&mut bad, &mut bad_r);
    assert!(bad.iter().chain(bad_r.iter()).all(|v| v.is_finite()));
    let x = sine(1000.0, fs as f64, 0.5, 4096);
    let (out, _) = run(&mut limiter, &x, &x, 512);
    assert!(out.iter().all(|v| v.is_finite()));
    // After latency + smoothing the output is the limited sine at the ceiling.
    let mut detector = TruePeakDetector::new();
    let peaks: Vec<f32> = out.iter().map(|&v| detector.process_sample(v)).collect();
    let tp = gain_to_db(peaks[1024..].iter().fold(0.0f32, |m, &p| m.max(p)));
    assert!(tp <= -0.9 && tp > -1.3, "{tp}");
}

#[test]
fn lookahead_change_is_clean_and_updates_latency() {
    let fs = 48_000.0f32;
    let mut limiter = Limiter::new(fs);
    limiter.set(&settings(6.0, -1.0, true, 100.0, 1.5));
    let x = sine(500.0, fs as f64, 0.9, 24_000);
    let mut out_l = x.clone();
    let mut out_r = x.clone();
    limiter.process(&mut out_l[..9000], &mut out_r[..9000]);
    limiter.set(&settings(6.0, -1.0, true, 100.0, 5.0));
    limiter.process(&mut out_l[9000..], &mut out_r[9000..]);
    assert!(out_l.iter().all(|v| v.is_finite()));
    assert!(true_peak_dbtp(&out_l, &out_r) <= -0.9);
    // No step larger than the sine's own maximum slope (2 pi f A / fs at the ceiling).
    let max_slope = 2.0 * std::f32::consts::PI * 500.0 * db_to_gain(-1.0) / fs;
    let max_step = out_l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(
        max_step <= max_slope * 1.05,
        "step {max_step} vs slope {max_slope}"
    );
    // New latency is in effect for subsequent audio.
    assert_eq!(limiter.latency_samples(), 240 + SUPPORT_DELAY_FRAMES as u32);
    let mut silence = vec![0.0f32; 2000];
    let mut silence_r = silence.clone();
    limiter.process(&mut silence, &mut silence_r);
    let mut probe = vec![0.0f32; 1000];
    probe[0] = 0.25;
    let mut probe_r = probe.clone();
    limiter.process(&mut probe, &mut probe_r);
    let pos = probe.iter().position(|&v| v != 0.0).unwrap();
    assert_eq!(pos, 240 + SUPPORT_DELAY_FRAMES);
}

#[test]
fn bypass_passes_input_delayed_and_unlimited() {
    let fs = 48_000.0;
    let mut s = settings(12.0, -6.0, true, 100.0, 1.5);
    s.enabled = false;
    let mut limiter = Limiter::new(fs);
    limiter.set(&s);
    limiter.reset(fs);
    let x = sine(1000.0, fs as f64, 0.9, 4800);
    let (out, _) = run(&mut limiter, &x, &x, 300);
    let latency = limiter.latency_samples() as usize;
    for n in 0..x.len() - latency {
        assert_eq!(out[n + latency], x[n]);
    }
}

#[test]
fn drive_change_is_smoothed() {
    // A +12 dB drive jump on a quiet sine must ramp (10 ms one-pole), never step.
    let fs = 48_000.0f32;
    let mut limiter = Limiter::new(fs);
    limiter.set(&settings(0.0, -1.0, false, 100.0, 1.0));
    let x = sine(200.0, fs as f64, 0.05, 9600);
    let mut l = x.clone();
    let mut r = x.clone();
    limiter.process(&mut l[..4800], &mut r[..4800]);
    limiter.set(&settings(12.0, -1.0, false, 100.0, 1.0));
    limiter.process(&mut l[4800..], &mut r[4800..]);
    let max_slope = 2.0 * std::f32::consts::PI * 200.0 * 0.05 * db_to_gain(12.0) / fs;
    let max_step = l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(max_step <= max_slope * 1.1, "{max_step} vs {max_slope}");
}

#[test]
fn drive_glide_arrives_exactly_at_its_target() {
    // The glide must end on the target bit for bit (the steady fast path): an f32 one-pole
    // stalled ~0.01 dB short of +12 dB forever. 10 ms one-pole, 1e-9 snap: ~21 time constants.
    let fs = 48_000.0f32;
    let mut limiter = Limiter::new(fs);
    limiter.set(&settings(12.0, -1.0, false, 100.0, 1.0));
    limiter.reset(fs);
    limiter.set(&settings(0.0, -1.0, false, 100.0, 1.0));
    let mut l = vec![0.0f32; 512];
    let mut r = l.clone();
    let mut blocks = 0;
    while !limiter.drive.is_settled() {
        limiter.process(&mut l, &mut r);
        blocks += 1;
        assert!(
            blocks < 30,
            "the drive glide did not arrive within {blocks} blocks"
        );
    }
    assert_eq!(limiter.drive.current, 1.0);
    assert!(
        blocks >= 19,
        "arrived after only {blocks} blocks of 512: no glide"
    );
}

/// Run with `cargo test --release -- --ignored --nocapture` to print ns per stereo frame.
#[test]
#[ignore]
fn performance_ns_per_frame() {
    let fs = 48_000.0;
    let mut limiter = Limiter::new(fs);
    limiter.set(&settings(12.0, -1.0, true, 100.0, 1.5));
    let mut noise = Noise::new(3);
    let mut l: Vec<f32> = (0..480_000).map(|_| noise.next()).collect();
    let mut r = l.clone();
    // Best of 5 runs: the machine may be shared.
    let mut ns = f64::INFINITY;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
            limiter.process(a, b);
        }
        ns = ns.min(start.elapsed().as_nanos() as f64 / 480_000.0);
    }
    eprintln!("limiter: {ns:.1} ns per stereo frame ({})", l[1000]);
}

/// The block sliding minimum equals the brute-force minimum of the last `window` values
/// (fewer at the start and after `clear`), for windows that divide the stream's length and
/// windows that do not, and after a window change (which restarts it).
#[test]
fn sliding_minimum_is_the_minimum_of_the_last_window_values() {
    let mut state = 0x1234_5678_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut hold = SlidingMinimum::with_capacity(100);
    for window in [1usize, 2, 3, 7, 64, 67, 100] {
        hold.clear();
        let mut pushed: Vec<f32> = Vec::new();
        for i in 0..1000 {
            // Runs of equal values and steps, as limiter requirements have.
            let value = if i % 50 < 10 { 1.0 } else { next() };
            pushed.push(value);
            let start = pushed.len().saturating_sub(window);
            let expected = pushed[start..].iter().fold(f32::INFINITY, |m, &v| m.min(v));
            assert_eq!(
                hold.push(value, window),
                expected,
                "window {window} value {i}"
            );
        }
    }
}

// ---- Characters (issue 27 item 3). Transparent is what every test above measures. ----

fn with_character(mut s: LimiterSettings, character: LimiterCharacter) -> LimiterSettings {
    s.character = character;
    s
}

/// The torture set of [`output_true_peak_never_exceeds_ceiling`], same bound, for the
/// characters that change the envelope's behaviour.
#[test]
fn every_character_holds_the_ceiling_on_the_torture_set() {
    for character in [LimiterCharacter::Punchy, LimiterCharacter::Dense] {
        let mut worst = f32::NEG_INFINITY;
        for fs in [44_100.0, 96_000.0] {
            for (auto, release, lookahead) in
                [(true, 100.0, 1.5), (false, 1.0, 0.5), (false, 1000.0, 5.0)]
            {
                for (name, drive, left, right) in torture_signals(fs) {
                    let ceiling = -1.0;
                    let mut limiter = Limiter::new(fs as f32);
                    limiter.set(&with_character(
                        settings(drive, ceiling, auto, release, lookahead),
                        character,
                    ));
                    limiter.reset(fs as f32);
                    let tail = limiter.latency_samples() as usize + 16;
                    let left: Vec<f32> = left.iter().copied().chain(vec![0.0; tail]).collect();
                    let right: Vec<f32> = right.iter().copied().chain(vec![0.0; tail]).collect();
                    let (out_l, out_r) = run(&mut limiter, &left, &right, 256);
                    let over = true_peak_dbtp(&out_l, &out_r) - ceiling;
                    worst = worst.max(over);
                    assert!(
                        over <= 0.1,
                        "{character:?}: {name} at {fs} Hz (auto {auto}, release {release}, la {lookahead}): {over} dB over"
                    );
                }
            }
        }
        eprintln!("{character:?}: worst true-peak relative to ceiling: {worst:.4} dB");
    }
}

/// No character changes the latency, and below the threshold every character is the exact
/// delay (Punchy's clipper starts at the threshold, Dense only changes the release).
#[test]
fn characters_keep_latency_and_pass_quiet_audio_bit_exact() {
    let fs = 48_000.0f32;
    for character in LimiterCharacter::ALL {
        let mut limiter = Limiter::new(fs);
        limiter.set(&with_character(
            settings(0.0, -1.0, true, 100.0, 1.5),
            character,
        ));
        limiter.reset(fs);
        let latency = limiter.latency_samples() as usize;
        assert_eq!(latency, 72 + SUPPORT_DELAY_FRAMES, "{character:?}");
        let mut noise = Noise::new(5);
        let left: Vec<f32> = (0..4000).map(|_| 0.3 * noise.next()).collect();
        let right: Vec<f32> = (0..4000).map(|_| 0.3 * noise.next()).collect();
        let (out_l, out_r) = run(&mut limiter, &left, &right, 100);
        for n in 0..left.len() - latency {
            assert_eq!(out_l[n + latency], left[n], "{character:?}");
            assert_eq!(out_r[n + latency], right[n], "{character:?}");
        }
    }
}

/// Largest sample-to-sample step of `x` from `from` on.
fn max_step(x: &[f32], from: usize) -> f32 {
    x[from..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

/// Switching character while loud tone bursts play (6 dB into the limiter) never makes a
/// step larger than the characters make on their own: the clipper fades in and out over
/// 10 ms, the release rate changes under a continuous envelope. The switches fall on the
/// first crest of a burst, where Punchy clips hardest: without the fade, leaving Punchy
/// there unclips the crest within one sample (a step of 0.164 where the characters on their
/// own reach 0.071).
#[test]
fn switching_character_while_playing_is_click_free() {
    let fs = 48_000.0f32;
    let base = settings(6.0, -1.0, true, 100.0, 1.5);
    // 500 Hz, 20 ms on (from a zero crossing), 40 ms off.
    let period = 2880;
    let x: Vec<f32> = sine(500.0, fs as f64, 0.9, 48_000)
        .iter()
        .enumerate()
        .map(|(n, &v)| if n % period < 960 { v } else { 0.0 })
        .collect();
    let settle = 4800;
    let process_all = |limiter: &mut Limiter, switches: &[(usize, LimiterCharacter)]| {
        let (mut l, mut r) = (x.clone(), x.clone());
        let mut from = 0;
        for &(at, character) in switches
            .iter()
            .chain([(x.len(), LimiterCharacter::Transparent)].iter())
        {
            for (a, b) in l[from..at].chunks_mut(256).zip(r[from..at].chunks_mut(256)) {
                limiter.process(a, b);
            }
            limiter.set(&with_character(base, character));
            from = at;
        }
        (l, r)
    };
    // Each character on its own.
    let mut steady = 0.0f32;
    for character in LimiterCharacter::ALL {
        let mut limiter = Limiter::new(fs);
        limiter.set(&with_character(base, character));
        limiter.reset(fs);
        let (out, _) = process_all(&mut limiter, &[]);
        steady = steady.max(max_step(&out, settle));
    }
    // Every change of character, each at the first crest (a quarter period in) of a burst.
    use LimiterCharacter::{Dense, Punchy, Transparent};
    let sequence = [
        Punchy,
        Transparent,
        Punchy,
        Dense,
        Punchy,
        Transparent,
        Dense,
        Transparent,
    ];
    let switches: Vec<(usize, LimiterCharacter)> = sequence
        .iter()
        .enumerate()
        .map(|(i, &c)| ((i + 2) * period + 24, c))
        .collect();
    let mut limiter = Limiter::new(fs);
    limiter.set(&with_character(base, Punchy));
    limiter.reset(fs);
    let (out_l, _) = process_all(&mut limiter, &switches);
    let switching = max_step(&out_l, settle);
    eprintln!("largest step: switching {switching:.5}, steady characters {steady:.5}");
    assert!(
        switching <= steady * 1.02,
        "step {switching} while switching vs {steady} steady"
    );
    // The ceiling holds through the switches (streaming detector: no measurement edge at the
    // end, where the tone is cut).
    let mut detector = TruePeakDetector::new();
    let peaks: Vec<f32> = out_l.iter().map(|&v| detector.process_sample(v)).collect();
    let tp = gain_to_db(peaks[settle..].iter().fold(0.0f32, |m, &p| m.max(p)));
    eprintln!("true peak while switching: {tp:.3} dBTP");
    assert!(tp <= -0.9, "{tp} dBTP");
}

/// Punchy's clipper glide is per sample, so its output (a switch to Dense included, which
/// fades the clipper out) does not depend on the host's block size either.
#[test]
fn character_output_is_independent_of_block_size() {
    let fs = 44_100.0;
    let mut noise = Noise::new(11);
    let left: Vec<f32> = (0..6000).map(|_| noise.next()).collect();
    let right: Vec<f32> = (0..6000).map(|_| noise.next()).collect();
    let mut reference = None;
    for block in [1usize, 7, 64, 1000, 3000] {
        let mut limiter = Limiter::new(fs);
        limiter.set(&with_character(
            settings(10.0, -2.0, true, 30.0, 2.0),
            LimiterCharacter::Punchy,
        ));
        let (mut out_l, mut out_r) = (left.clone(), right.clone());
        // The change arrives between two host blocks, at frame 3000 whatever the block size.
        let (first_l, second_l) = out_l.split_at_mut(3000);
        let (first_r, second_r) = out_r.split_at_mut(3000);
        for (l, r) in first_l.chunks_mut(block).zip(first_r.chunks_mut(block)) {
            limiter.process(l, r);
        }
        limiter.set(&with_character(
            settings(10.0, -2.0, true, 30.0, 2.0),
            LimiterCharacter::Dense,
        ));
        for (l, r) in second_l.chunks_mut(block).zip(second_r.chunks_mut(block)) {
            limiter.process(l, r);
        }
        let out = (out_l, out_r);
        match &reference {
            None => reference = Some(out),
            Some(r) => assert_eq!(r, &out, "block {block}"),
        }
    }
}

/// Punchy clips a transient's first milliseconds instead of turning them down: at the onset
/// of a 1 kHz tone 6 dB over the ceiling its output is louder than Transparent's (1 dB over
/// the first 3 ms), and once the tone has lasted (the follower caught up) both turn it down
/// alike; Punchy's knee then sits at a follower that sags between crests, so the crests are
/// still touched a little (0.17 % THD against Transparent's 0.00000 %), not clipped.
/// Dense releases 1/0.3 times faster than Transparent (manual release time constant).
#[test]
fn characters_do_what_they_say() {
    let fs = 48_000.0;
    let rms_db = |x: &[f32]| {
        let power = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64;
        10.0 * power.log10()
    };
    let burst = |character| {
        let mut limiter = Limiter::new(fs as f32);
        limiter.set(&with_character(
            settings(6.0, -6.0, true, 100.0, 1.5),
            character,
        ));
        limiter.reset(fs as f32);
        let onset = 4800;
        let x: Vec<f32> = vec![0.0; onset]
            .into_iter()
            .chain(sine(1000.0, fs, 0.5, 24_000))
            .collect();
        let latency = limiter.latency_samples() as usize;
        let (out, _) = run(&mut limiter, &x, &x, 512);
        let at = |ms: f64| onset + latency + (ms * 0.001 * fs) as usize;
        let first = rms_db(&out[at(0.0)..at(3.0)]);
        let settled = out[at(300.0)..at(400.0)].to_vec();
        (first, rms_db(&settled), thd_percent(&settled, 1000.0, fs))
    };
    let (t_first, t_settled, t_thd) = burst(LimiterCharacter::Transparent);
    let (p_first, p_settled, p_thd) = burst(LimiterCharacter::Punchy);
    eprintln!(
        "1 kHz burst 6 dB over: first 3 ms transparent {t_first:.2} dB, punchy {p_first:.2} dB; \
         after 300 ms {t_settled:.3} / {p_settled:.3} dB, THD {t_thd:.5} / {p_thd:.5} %"
    );
    assert!(p_first > t_first + 0.5, "{p_first} vs {t_first}");
    assert!(
        (p_settled - t_settled).abs() < 0.1,
        "{p_settled} vs {t_settled}"
    );
    assert!(t_thd < 0.001 && p_thd < 0.5, "{t_thd} {p_thd}");

    // Manual release 100 ms: the remaining reduction halves every tau ln 2.
    let tau_ms = |character| {
        let mut limiter = Limiter::new(fs as f32);
        limiter.set(&with_character(
            settings(0.0, -6.0, false, 100.0, 1.5),
            character,
        ));
        limiter.reset(fs as f32);
        let end = 4800 + 2400;
        let x: Vec<f32> = (0..end + 24_000)
            .map(|n| if (4800..end).contains(&n) { 1.0 } else { 0.1 })
            .collect();
        let gain = applied_gain(&mut limiter, &x);
        let t60 = (end..gain.len()).find(|&n| gain[n] >= 0.6).unwrap();
        let t80 = (end..gain.len()).find(|&n| gain[n] >= 0.8).unwrap();
        (t80 - t60) as f64 / fs * 1000.0 / std::f64::consts::LN_2
    };
    let (transparent, dense) = (
        tau_ms(LimiterCharacter::Transparent),
        tau_ms(LimiterCharacter::Dense),
    );
    eprintln!("release time constant: transparent {transparent:.2} ms, dense {dense:.2} ms");
    assert!((transparent / 100.0 - 1.0).abs() < 0.03, "{transparent}");
    assert!((dense / 30.0 - 1.0).abs() < 0.05, "{dense}");
}
