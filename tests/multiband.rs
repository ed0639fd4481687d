//! The multiband dynamics measured (issue 28, part 1): each band's static curve on steady
//! sines against its design (downward and upward), the flat sum with no band acting for 2-5
//! bands, band solos summing to the whole, mid/side bands touching only their channel, the
//! compare at matched loudness, the lookahead's exact latency, NaN recovery, and no
//! allocation in the plugin's process with the stage on and every band control moving.
//!
//! Print the figures with `cargo test --release --test multiband -- --nocapture`.

// Tests read best as "defaults, then the one change under test".
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::clap_host::{ClapParamEvent, ClapTestHost};
use common::signals::{dft_magnitude_db, sine, white_noise};
use fairmaster::chain::Chain;
use fairmaster::dsp::dynamics::multiband::{
    static_gain_db, BandSettings, Channels, Direction, Multiband, MultibandSettings,
};
use fairmaster::stages::ChainSettings;

const FS: f32 = 48_000.0;
const SPLITS: [f32; 4] = [120.0, 1000.0, 5000.0, 10_000.0];

/// Every band neutral (ratio 1), `bands` in use, the stage on.
fn neutral(bands: usize) -> MultibandSettings {
    let mut s = MultibandSettings {
        enabled: true,
        bands,
        splits_hz: SPLITS,
        ..Default::default()
    };
    for b in &mut s.band {
        b.ratio = 1.0;
    }
    s
}

fn run(settings: &MultibandSettings, fs: f32, left: &[f32], right: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut m = Multiband::new(fs);
    m.set(settings);
    m.reset(fs);
    let (mut l, mut r) = (left.to_vec(), right.to_vec());
    for (a, b) in l.chunks_mut(441).zip(r.chunks_mut(441)) {
        m.process(a, b);
    }
    (l, r)
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// The geometric centre of band `b` of `bands` (20 Hz and 20 kHz close the outer bands).
fn centre(b: usize, bands: usize) -> f32 {
    let low = if b == 0 { 20.0 } else { SPLITS[b - 1] };
    let high = if b + 1 == bands { 20_000.0 } else { SPLITS[b] };
    (low * high).sqrt()
}

/// The worst deviation (dB) of band `b`'s steady-state gain from [`static_gain_db`], a sine at
/// its centre swept from 20 dB under to 20 dB over the threshold.
fn static_curve_error(b: usize, band: BandSettings) -> f64 {
    let bands = 4;
    let f = centre(b, bands);
    let n = (1.5 * FS) as usize;
    let tail = (0.5 * FS) as usize;
    let mut worst = 0.0f64;
    for step in 0..=8 {
        let over = -20.0 + 5.0 * step as f32;
        let mut reference = neutral(bands);
        reference.band[b].solo = true;
        // The band's own level is the input's minus the crossover's loss at `f` (measured).
        let probe = sine(n, f, FS, 0.1);
        let (p, _) = run(&reference, FS, &probe, &probe);
        let loss_db = db(rms(&p[n - tail..]) / rms(&probe[n - tail..]));
        let level_db = band.threshold_db + over;
        let amp = 10f32.powf((level_db as f64 - loss_db) as f32 / 20.0);
        let x = sine(n, f, FS, amp);
        let (neutral_out, _) = run(&reference, FS, &x, &x);
        let mut acting = reference;
        acting.band[b] = BandSettings { solo: true, ..band };
        let (out, _) = run(&acting, FS, &x, &x);
        let measured = db(rms(&out[n - tail..]) / rms(&neutral_out[n - tail..]));
        let design = f64::from(static_gain_db(&band, level_db));
        let err = (measured - design).abs();
        println!(
            "band {} ({f:.0} Hz) {:?}: level {level_db:+.1} dB, gain {measured:+.3} dB, design {design:+.3} dB, error {err:.3} dB",
            b + 1,
            band.direction
        );
        worst = worst.max(err);
    }
    worst
}

#[test]
fn each_band_follows_its_static_curve_within_a_tenth_of_a_db() {
    for b in 0..4 {
        for direction in [Direction::Downward, Direction::Upward] {
            let band = BandSettings {
                threshold_db: -30.0,
                ratio: 4.0,
                knee_db: 6.0,
                range_db: 24.0,
                makeup_db: 1.5,
                direction,
                ..BandSettings::default()
            };
            let worst = static_curve_error(b, band);
            println!("band {} {direction:?}: worst error {worst:.3} dB", b + 1);
            assert!(worst < 0.1, "band {} {direction:?}: {worst:.3} dB", b + 1);
        }
    }
}

#[test]
fn upward_compression_raises_a_quiet_band_by_the_design_amount() {
    // 20 dB under a -30 dB threshold at 2:1: +10 dB, capped by a 6 dB range.
    let band = BandSettings {
        threshold_db: -30.0,
        ratio: 2.0,
        knee_db: 0.0,
        range_db: 6.0,
        direction: Direction::Upward,
        ..BandSettings::default()
    };
    assert_eq!(static_gain_db(&band, -50.0), 6.0);
    let worst = static_curve_error(2, band);
    assert!(worst < 0.1, "{worst:.3} dB");
}

/// Magnitude (dB) of the neutral stage's impulse response, worst over 20 Hz - 20 kHz.
fn flat_sum_deviation(settings: &MultibandSettings, fs: f32) -> f64 {
    let n = fs as usize;
    let mut x = vec![0.0f32; n];
    x[0] = 0.01;
    let (l, _) = run(settings, fs, &x, &x);
    let h: Vec<f64> = l.iter().map(|&v| f64::from(v) / 0.01).collect();
    (0..=120)
        .map(|i| 20.0 * 1000f64.powf(i as f64 / 120.0))
        .map(|f| dft_magnitude_db(&h, f, f64::from(fs)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn bands_sum_flat_within_a_tenth_of_a_db_with_no_band_acting() {
    for fs in [44_100.0, 96_000.0] {
        for bands in 2..=5 {
            // Ratio 1 everywhere.
            let worst = flat_sum_deviation(&neutral(bands), fs);
            println!("{bands} bands at {fs} Hz, ratio 1: {worst:.4} dB");
            assert!(worst < 0.1, "{bands} bands at {fs} Hz: {worst:.4} dB");
            // Compressing, but every threshold far above the signal.
            let mut s = neutral(bands);
            for b in &mut s.band {
                *b = BandSettings {
                    threshold_db: 0.0,
                    ratio: 8.0,
                    ..BandSettings::default()
                };
            }
            let worst = flat_sum_deviation(&s, fs);
            println!("{bands} bands at {fs} Hz, thresholds above: {worst:.4} dB");
            assert!(worst < 0.1, "{bands} bands at {fs} Hz: {worst:.4} dB");
            // Linear phase: the same, and the sum is the input delayed by the latency.
            s.linear_phase = true;
            let worst = flat_sum_deviation(&s, fs);
            println!("{bands} bands at {fs} Hz, linear phase: {worst:.4} dB");
            assert!(
                worst < 0.1,
                "{bands} bands at {fs} Hz, linear phase: {worst:.4} dB"
            );
        }
    }
}

#[test]
fn linear_phase_bands_sum_to_the_input_delayed_by_the_reported_latency() {
    for fs in [44_100.0f32, 96_000.0] {
        for bands in 2..=5 {
            let mut s = neutral(bands);
            s.linear_phase = true;
            s.lookahead_ms = 3.0;
            let mut m = Multiband::new(fs);
            m.set(&s);
            m.reset(fs);
            let latency = m.latency_samples() as usize;
            assert_eq!(
                latency as u32,
                fairmaster::dsp::dynamics::multiband::latency_for(3.0, true, fs)
            );
            let n = latency + fs as usize / 2;
            let x = white_noise(n, 7, 0.3);
            let (l, _) = run(&s, fs, &x, &x);
            let err = (latency..n)
                .map(|i| (l[i] - x[i - latency]).abs())
                .fold(0.0f32, f32::max);
            println!("{bands} bands at {fs} Hz, linear phase: latency {latency}, largest error {err:.1e}");
            assert!(err < 1e-5, "{bands} bands at {fs} Hz: {err}");
        }
    }
}

#[test]
fn a_linear_phase_band_follows_its_static_curve() {
    // Band 3 (1-5 kHz) compressing, linear phase, steady sines at its centre.
    let band = BandSettings {
        threshold_db: -30.0,
        ratio: 4.0,
        knee_db: 6.0,
        range_db: 24.0,
        ..BandSettings::default()
    };
    let f = centre(2, 4);
    let n = (1.5 * FS) as usize;
    let tail = (0.5 * FS) as usize;
    let mut worst = 0.0f64;
    for over in [-20.0f32, -5.0, 0.0, 5.0, 20.0] {
        let mut reference = neutral(4);
        reference.linear_phase = true;
        reference.band[2].solo = true;
        let level_db = band.threshold_db + over;
        let probe = sine(n, f, FS, 0.1);
        let (p, _) = run(&reference, FS, &probe, &probe);
        let loss_db = db(rms(&p[n - tail..]) / rms(&probe[n - tail..]));
        let x = sine(
            n,
            f,
            FS,
            10f32.powf((level_db as f64 - loss_db) as f32 / 20.0),
        );
        let (neutral_out, _) = run(&reference, FS, &x, &x);
        let mut acting = reference;
        acting.band[2] = BandSettings { solo: true, ..band };
        let (out, _) = run(&acting, FS, &x, &x);
        let measured = db(rms(&out[n - tail..]) / rms(&neutral_out[n - tail..]));
        let err = (measured - f64::from(static_gain_db(&band, level_db))).abs();
        worst = worst.max(err);
    }
    println!("band 3, linear phase: worst error {worst:.3} dB");
    assert!(worst < 0.1, "{worst:.3} dB");
}

/// Four bands all acting hard (different settings each), on noise.
fn acting() -> MultibandSettings {
    let mut s = neutral(4);
    for (i, b) in s.band.iter_mut().enumerate() {
        *b = BandSettings {
            threshold_db: -40.0 + 3.0 * i as f32,
            ratio: 2.0 + i as f32,
            attack_ms: 2.0 + 5.0 * i as f32,
            release_ms: 80.0,
            auto_release: i % 2 == 1,
            makeup_db: 2.0,
            direction: if i == 3 {
                Direction::Upward
            } else {
                Direction::Downward
            },
            ..BandSettings::default()
        };
    }
    s
}

#[test]
fn band_solos_sum_to_the_whole() {
    let n = FS as usize;
    let l = white_noise(n, 1, 0.3);
    let r = white_noise(n, 2, 0.3);
    let whole = run(&acting(), FS, &l, &r);
    // Every band soloed: the whole, sample for sample.
    let mut all = acting();
    for b in &mut all.band[..4] {
        b.solo = true;
    }
    assert_eq!(run(&all, FS, &l, &r), whole);
    // Each band soloed alone, the four outputs summed: the whole.
    let mut sum = (vec![0.0f32; n], vec![0.0f32; n]);
    for b in 0..4 {
        let mut one = acting();
        one.band[b].solo = true;
        let (bl, br) = run(&one, FS, &l, &r);
        for i in 0..n {
            sum.0[i] += bl[i];
            sum.1[i] += br[i];
        }
    }
    let err = sum
        .0
        .iter()
        .zip(&whole.0)
        .chain(sum.1.iter().zip(&whole.1))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let residual_db = db(f64::from(err)) - db(rms(&whole.0));
    println!("solos summed vs whole: max error {err:.2e} ({residual_db:.1} dB under the RMS)");
    assert!(err < 1e-5, "{err}");
}

#[test]
fn a_mid_or_side_band_touches_only_its_channel() {
    let n = FS as usize;
    let mid = sine(n, 700.0, FS, 0.3);
    let side = sine(n, 1300.0, FS, 0.2);
    let l: Vec<f32> = mid.iter().zip(&side).map(|(m, s)| m + s).collect();
    let r: Vec<f32> = mid.iter().zip(&side).map(|(m, s)| m - s).collect();
    let mut base = neutral(2);
    base.splits_hz[0] = 200.0;
    let split = |(l, r): (Vec<f32>, Vec<f32>)| -> (Vec<f32>, Vec<f32>) {
        let m = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
        let s = l.iter().zip(&r).map(|(a, b)| 0.5 * (a - b)).collect();
        (m, s)
    };
    let (m0, s0) = split(run(&base, FS, &l, &r));
    for (channels, touched) in [(Channels::Mid, "mid"), (Channels::Side, "side")] {
        let mut s = base;
        s.band[1] = BandSettings {
            threshold_db: -40.0,
            ratio: 4.0,
            channels,
            ..BandSettings::default()
        };
        let (m1, s1) = split(run(&s, FS, &l, &r));
        let tail = n / 2..n;
        let change = |a: &[f32], b: &[f32]| db(rms(&a[tail.clone()]) / rms(&b[tail.clone()]));
        let untouched_err = |a: &[f32], b: &[f32]| {
            a[tail.clone()]
                .iter()
                .zip(&b[tail.clone()])
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max)
        };
        let (mid_change, side_change, other_err) = (
            change(&m1, &m0),
            change(&s1, &s0),
            if channels == Channels::Mid {
                untouched_err(&s1, &s0)
            } else {
                untouched_err(&m1, &m0)
            },
        );
        println!(
            "{touched} band: mid {mid_change:+.2} dB, side {side_change:+.2} dB, the other channel's largest difference {other_err:.1e}"
        );
        assert!(other_err < 1e-6, "{touched}: {other_err}");
        let own = if channels == Channels::Mid {
            mid_change
        } else {
            side_change
        };
        assert!(own < -6.0, "{touched}: {own:.2} dB");
    }
}

#[test]
fn a_compared_band_plays_unprocessed_at_the_processed_loudness() {
    let n = 8 * FS as usize;
    let l = white_noise(n, 3, 0.3);
    let r = white_noise(n, 4, 0.3);
    let mut s = neutral(3);
    s.band[1] = BandSettings {
        threshold_db: -40.0,
        ratio: 4.0,
        makeup_db: 6.0,
        ..BandSettings::default()
    };
    let (processed, _) = run(&s, FS, &l, &r);
    s.band[1].compare = true;
    let (compared, _) = run(&s, FS, &l, &r);
    let tail = n - 2 * FS as usize..n;
    let level = db(rms(&compared[tail.clone()]) / rms(&processed[tail.clone()]));
    let difference: f64 = compared[tail.clone()]
        .iter()
        .zip(&processed[tail.clone()])
        .map(|(a, b)| f64::from(a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    println!("compared band: {level:+.2} dB against the processed stage");
    assert!(level.abs() < 0.5, "{level:.2} dB");
    assert!(
        difference > 1.0,
        "the compare sounds the same: {difference}"
    );
}

#[test]
fn the_lookahead_is_the_reported_latency_exactly() {
    for fs in [44_100.0f32, 96_000.0] {
        let mut s = ChainSettings::default();
        s.multiband = acting();
        let base = {
            let mut c = Chain::new();
            c.set(&s);
            c.reset(fs);
            c.latency_samples()
        };
        let noise = white_noise(fs as usize, 5, 0.05);
        let out = |s: &ChainSettings| {
            let mut c = Chain::new();
            c.set(s);
            c.reset(fs);
            let (mut l, mut r) = (noise.clone(), noise.clone());
            for (a, b) in l.chunks_mut(300).zip(r.chunks_mut(300)) {
                c.process(a, b);
            }
            (c.latency_samples(), Chain::latency_for(s, fs), l)
        };
        // Neutral bands: with a lookahead the output is the same, delayed by exactly it.
        s.multiband = neutral(4);
        let (l0, _, y0) = out(&s);
        assert_eq!(l0, base);
        s.multiband.lookahead_ms = 5.0;
        let (l1, reported, y1) = out(&s);
        let delay = (l1 - l0) as usize;
        assert_eq!(delay, (0.005 * fs).round() as usize);
        assert_eq!(reported, l1);
        let err = y1[delay..]
            .iter()
            .zip(&y0)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-6, "{fs} Hz: {err}");
        // Off: no latency of its own, whatever the lookahead says.
        s.multiband.enabled = false;
        assert_eq!(out(&s).0, base);
    }
}

#[test]
fn nan_and_denormal_input_never_reach_the_output() {
    let n = FS as usize;
    let mut x = sine(n, 440.0, FS, 0.5);
    for v in &mut x[1000..1100] {
        *v = f32::NAN;
    }
    for v in &mut x[2000..3000] {
        *v = 1e-39;
    }
    let (l, r) = run(&acting(), FS, &x, &x);
    assert!(l.iter().chain(&r).all(|v| v.is_finite()));
    // The tone is back at the end.
    assert!(rms(&l[n - 4800..]) > 0.1);
}

#[test]
fn plugin_process_does_not_allocate_with_the_stage_on() {
    // nice-plug's `assert_process_allocs` aborts the test binary on an allocation in process.
    let mut host = ClapTestHost::new(48_000.0, 1, 1024, 2);
    let noise = white_noise(1024, 6, 0.3);
    // Values on the CLAP scale: switches 0/1, choices their index, floats through the text.
    let f = |host: &ClapTestHost, id: &'static str, plain: f64| (id, host.plain_to_clap(id, plain));
    let rounds: Vec<Vec<(&str, f64)>> = vec![
        vec![("mb_on", 1.0), ("mb_bands", 3.0)],
        vec![
            f(&host, "mb_split1", 300.0),
            f(&host, "mb_b1_threshold", -40.0),
            f(&host, "mb_b1_ratio", 6.0),
        ],
        vec![
            ("mb_b2_solo", 1.0),
            ("mb_b3_mode", 1.0),
            ("mb_b4_channels", 2.0),
        ],
        vec![
            ("mb_b2_compare", 1.0),
            ("mb_b5_auto_release", 1.0),
            f(&host, "mb_b1_makeup", 6.0),
        ],
        vec![
            ("mb_b2_solo", 0.0),
            ("mb_b1_bypass", 1.0),
            ("mb_bands", 0.0),
        ],
        vec![("mb_b2_compare", 0.0)],
        vec![],
        // Linear phase, then splits moved while playing: the crossover's kernels are
        // redesigned on its designer thread and crossfaded in on the audio thread.
        vec![("mb_phase", 1.0), ("mb_bands", 2.0)],
        vec![f(&host, "mb_split1", 800.0)],
        vec![f(&host, "mb_split2", 3_000.0)],
        vec![],
    ];
    for round in &rounds {
        // Time for the designer thread to deliver (the test thread waits, not the audio one).
        std::thread::sleep(std::time::Duration::from_millis(40));
        let events: Vec<ClapParamEvent> = round
            .iter()
            .map(|&(id, clap_value)| ClapParamEvent {
                id,
                clap_value,
                time: 0,
            })
            .collect();
        for n in [1, 64, 512, 1024] {
            let (mut l, mut r) = (noise[..n].to_vec(), noise[..n].to_vec());
            host.process_clap(&mut l, Some(&mut r), &events);
            assert!(l.iter().chain(&r).all(|v| v.is_finite()));
        }
    }
}
