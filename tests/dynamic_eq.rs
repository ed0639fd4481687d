//! The dynamic EQ measured (issue 28, part 2): a sibilant burst gets the set cut, a band below
//! its threshold is the static band, moves are click-free, boost mode, a detector on another
//! frequency, a mid-only band, NaN/denormal input, block-size independence.
//!
//! Print the figures with `cargo test --test dynamic_eq -- --nocapture`.

mod common;

use common::signals::{pink_noise, white_noise};
use fairmaster::dsp::filters::eq::{BandChannels, BellBand, Eq, EqPath, EqSettings, DYN_RATIO};
use realfft::RealFftPlanner;
use std::f64::consts::TAU;

const FS: f64 = 44_100.0;

/// Bell 4 at `freq` (Q 2, static `gain_db`), dynamic with `range_db`, ratio ∞, threshold -30
/// dBFS, attack 1 ms, release 50 ms.
fn dynamic_bell(freq: f32, gain_db: f32, range_db: f32) -> EqSettings {
    let mut s = EqSettings::default();
    s.bells[3] = BellBand {
        enabled: true,
        freq_hz: freq,
        gain_db,
        q: 2.0,
        channels: BandChannels::Stereo,
    };
    let d = &mut s.dynamic[4];
    d.enabled = true;
    d.threshold_db = -30.0;
    d.range_db = range_db;
    d.ratio = DYN_RATIO.max;
    d.attack_ms = 1.0;
    d.release_ms = 50.0;
    s
}

fn eq_with(settings: &EqSettings) -> Eq {
    let mut eq = Eq::new();
    eq.set(settings);
    eq.reset(FS as f32);
    eq
}

/// Runs `eq` on (l, r) in 512-sample blocks, returns the outputs.
fn run(eq: &mut Eq, l: &[f32], r: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = (l.to_vec(), r.to_vec());
    for (lb, rb) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        eq.process(lb, rb);
    }
    (l, r)
}

/// Complex single-bin DFT (Goertzel-equivalent) of `x` at `freq`.
fn bin(x: &[f32], freq: f64) -> (f64, f64) {
    let w = TAU * freq / FS;
    x.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, &v)| {
        let (s, c) = (w * n as f64).sin_cos();
        (re + v as f64 * c, im - v as f64 * s)
    })
}

/// Level of `out` relative to `inp` at `freq` over the same samples, dB.
fn gain_at_db(inp: &[f32], out: &[f32], freq: f64) -> f64 {
    let (a, b) = (bin(inp, freq), bin(out, freq));
    10.0 * ((b.0 * b.0 + b.1 * b.1) / (a.0 * a.0 + a.1 * a.1)).log10()
}

/// Tone bursts at `freq`, `amp` peak, `on_s` seconds on every `period_s`, starting at
/// `first_s`, with raised-cosine edges of `edge_s` (so the input itself has no click).
fn bursts(
    n: usize,
    freq: f64,
    amp: f64,
    first_s: f64,
    on_s: f64,
    period_s: f64,
    edge_s: f64,
) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / FS;
            if t < first_s {
                return 0.0;
            }
            let u = (t - first_s) % period_s;
            let env = if u >= on_s {
                0.0
            } else if u < edge_s {
                0.5 - 0.5 * (std::f64::consts::PI * u / edge_s).cos()
            } else if u > on_s - edge_s {
                0.5 - 0.5 * (std::f64::consts::PI * (on_s - u) / edge_s).cos()
            } else {
                1.0
            };
            (amp * env * (TAU * freq * t).sin()) as f32
        })
        .collect()
}

/// Samples covering exactly 1000 cycles of 7 kHz at 44.1 kHz (no leakage from the tone).
const WINDOW_7K: usize = 6_300;

/// A 7 kHz sibilant (250 ms tone bursts at -12 dBFS every 750 ms) in pink noise at -40 dBFS
/// RMS, through a 7 kHz bell (Q 2, 0 dB static) with range -6 dB, ratio ∞, threshold -30 dBFS:
/// the detector reads the burst 18 dB over the threshold, so once settled the band must cut
/// the burst by the range. Measured independently of the EQ's own bookkeeping: the output vs
/// input DFT at 7 kHz over 1000 cycles of the burst's steady part (60-203 ms into each burst).
/// Between the bursts (noise alone, peaks about -38 dBFS in the detector band) it is static.
#[test]
fn sibilant_burst_gets_the_set_cut() {
    let n = (2.0 * FS) as usize;
    let noise = pink_noise(n, 7, -40.0);
    let tone = bursts(n, 7_000.0, 0.25, 0.25, 0.25, 0.75, 0.002);
    let input: Vec<f32> = noise.iter().zip(&tone).map(|(a, b)| a + b).collect();
    let mut eq = eq_with(&dynamic_bell(7_000.0, 0.0, -6.0));
    let (out, _) = run(&mut eq, &input, &input);
    let mut worst: f64 = 0.0;
    for burst in 0..3 {
        let start = ((0.25 + 0.75 * burst as f64 + 0.06) * FS) as usize;
        let range = start..start + WINDOW_7K;
        let cut = gain_at_db(&input[range.clone()], &out[range], 7_000.0);
        println!("burst {burst}: {cut:.3} dB at 7 kHz (set: -6 dB)");
        worst = worst.max((cut + 6.0).abs());
    }
    println!("burst cut error: {worst:.2e} dB (bound 0.5)");
    assert!(worst < 0.5, "{worst}");
    // Between bursts (300 ms after one, after the release) the noise alone stays below the
    // threshold.
    let start = ((0.5 + 0.3) * FS) as usize;
    let quiet = gain_at_db(
        &input[start..start + WINDOW_7K],
        &out[start..start + WINDOW_7K],
        7_000.0,
    );
    println!("between bursts: {quiet:.4} dB at 7 kHz");
    assert!(quiet.abs() < 0.05, "{quiet}");
}

/// Boost mode: the same burst with range +6 dB is raised by 6 dB.
#[test]
fn boost_mode_raises() {
    let n = (1.0 * FS) as usize;
    let input = bursts(n, 7_000.0, 0.25, 0.1, 0.4, 1.0, 0.002);
    let mut eq = eq_with(&dynamic_bell(7_000.0, 0.0, 6.0));
    let (out, _) = run(&mut eq, &input, &input);
    let start = ((0.1 + 0.06) * FS) as usize;
    let range = start..start + WINDOW_7K;
    let boost = gain_at_db(&input[range.clone()], &out[range], 7_000.0);
    println!("boost mode: {boost:.3} dB at 7 kHz (set: +6 dB)");
    assert!((boost - 6.0).abs() < 0.5, "{boost}");
}

/// Below the threshold a dynamic band is the static band: the impulse response of a dynamic
/// bell (3 kHz, Q 1, +4 dB static, range -12 dB, threshold -20 dBFS) at -60 dBFS, measured
/// by DFT, equals the static band's designed response within 0.05 dB, and the output for
/// quiet noise is the static EQ's output sample for sample; likewise for dynamic shelves.
#[test]
fn below_threshold_is_the_static_band() {
    let mut s = dynamic_bell(3_000.0, 4.0, -12.0);
    s.bells[3].q = 1.0;
    s.dynamic[4].threshold_db = -20.0;
    s.low_shelf.enabled = true;
    s.low_shelf.gain_db = -3.0;
    s.dynamic[0] = s.dynamic[4];
    s.high_shelf.enabled = true;
    s.high_shelf.gain_db = 2.0;
    s.dynamic[5] = s.dynamic[4];
    s.dynamic[5].range_db = 6.0;
    let mut static_s = s;
    for d in static_s.dynamic.iter_mut() {
        d.enabled = false;
    }
    let len = 16_384;
    let mut imp = vec![0.0f32; len];
    imp[0] = 1e-3;
    let (h, _) = run(&mut eq_with(&s), &imp, &imp);
    let h: Vec<f64> = h.iter().map(|&v| v as f64 * 1e3).collect();
    let response = static_s.response(FS);
    let mut worst: f64 = 0.0;
    for f in [
        30.0, 100.0, 300.0, 1_000.0, 2_000.0, 3_000.0, 4_500.0, 7_000.0, 12_000.0,
    ] {
        let measured = common::signals::dft_magnitude_db(&h, f, FS);
        worst = worst.max((measured - response.magnitude_db(f, EqPath::Mid)).abs());
    }
    println!("static deviation below threshold: {worst:.2e} dB (bound 0.05)");
    assert!(worst < 0.05, "{worst}");
    let noise = white_noise(40_000, 3, 0.01);
    let (dynamic_out, _) = run(&mut eq_with(&s), &noise, &noise);
    let (static_out, _) = run(&mut eq_with(&static_s), &noise, &noise);
    let diff = dynamic_out
        .iter()
        .zip(&static_out)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("quiet noise, dynamic vs static output: max difference {diff:e}");
    assert!(diff <= 1e-6, "{diff}");
}

/// Fraction of `x`'s energy (Hann-windowed spectrum) outside `lo..hi` Hz, in dB.
fn energy_outside_db(x: &[f32], lo: f64, hi: f64) -> f64 {
    let n = x.len();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut input: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f64 * (0.5 - 0.5 * (TAU * i as f64 / n as f64).cos()))
        .collect();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).unwrap();
    let (mut inside, mut outside) = (0.0, 0.0);
    for (k, c) in spectrum.iter().enumerate() {
        let f = k as f64 * FS / n as f64;
        if (lo..hi).contains(&f) {
            inside += c.norm_sqr();
        } else {
            outside += c.norm_sqr();
        }
    }
    10.0 * (outside / (inside + outside)).log10()
}

/// Click-free modulation. A train of 7 kHz bursts (40 ms on, 60 ms off, 2 ms raised-cosine
/// edges) drives a 7 kHz bell with a -12 dB range and a fast 0.5 ms attack, 20 ms release:
/// the gain moves by 12 dB at every burst. A smooth gain move of a 7 kHz tone only spreads
/// it over a few hundred Hz (its modulation rate), while a click is broadband, so the metric
/// is the output's energy outside 5-9 kHz relative to its total. Bound: -60 dB, and at least
/// 20 dB below what the same bursts get from a hard switch of the static -12 dB bell at the
/// same moments (the click we must not make), which is measured alongside.
#[test]
fn modulation_is_click_free() {
    let n = 1 << 16;
    let input = bursts(n, 7_000.0, 0.25, 0.01, 0.04, 0.1, 0.002);
    let mut s = dynamic_bell(7_000.0, 0.0, -12.0);
    s.dynamic[4].attack_ms = 0.5;
    s.dynamic[4].release_ms = 20.0;
    let mut eq = eq_with(&s);
    let (out, _) = run(&mut eq, &input, &input);
    let dynamic_db = energy_outside_db(&out, 5_000.0, 9_000.0);
    let input_db = energy_outside_db(&input, 5_000.0, 9_000.0);
    // The click we must not make: the static -12 dB bell switched in hard 1 ms into each
    // burst and out 20 ms after it (two EQs, output picked per sample).
    let mut cut = dynamic_bell(7_000.0, -12.0, -12.0);
    cut.dynamic[4].enabled = false;
    let (cut_out, _) = run(&mut eq_with(&cut), &input, &input);
    let switched: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / FS;
            let u = (t - 0.01).rem_euclid(0.1);
            if t >= 0.01 && (0.001..0.06).contains(&u) {
                cut_out[i]
            } else {
                input[i]
            }
        })
        .collect();
    let switched_db = energy_outside_db(&switched, 5_000.0, 9_000.0);
    println!(
        "energy outside 5-9 kHz: dynamic {dynamic_db:.1} dB, input {input_db:.1} dB, \
         hard-switched bell {switched_db:.1} dB"
    );
    assert!(dynamic_db < -60.0, "{dynamic_db}");
    assert!(
        dynamic_db < switched_db - 20.0,
        "{dynamic_db} vs {switched_db}"
    );
    // The band did move: the steady part of a burst is cut by the range.
    let start = ((0.01 + 0.1 * 3.0 + 0.022) * FS) as usize;
    let moved = gain_at_db(
        &input[start..start + 630],
        &out[start..start + 630],
        7_000.0,
    );
    println!("cut in a burst of the train: {moved:.2} dB (range -12)");
    assert!((moved + 12.0).abs() < 0.5, "{moved}");
}

/// A detector on another frequency: a 100 Hz trigger ducks a 3 kHz band. A steady 3 kHz tone
/// at -30 dBFS through a 3 kHz bell (range -6 dB) whose detector listens at 100 Hz: no change
/// while the 100 Hz trigger is silent, the full -6 dB while it plays at -6 dBFS.
#[test]
fn detector_on_another_frequency_ducks() {
    let n = (1.5 * FS) as usize;
    let tone: Vec<f32> = (0..n)
        .map(|i| (0.0316 * (TAU * 3_000.0 * i as f64 / FS).sin()) as f32)
        .collect();
    let trigger = bursts(n, 100.0, 0.5, 0.5, 0.6, 2.0, 0.005);
    let input: Vec<f32> = tone.iter().zip(&trigger).map(|(a, b)| a + b).collect();
    let mut s = dynamic_bell(3_000.0, 0.0, -6.0);
    s.dynamic[4].detector_follows = false;
    s.dynamic[4].detector_freq_hz = 100.0;
    s.dynamic[4].release_ms = 200.0;
    let (out, _) = run(&mut eq_with(&s), &input, &input);
    // 2646 samples hold exactly 6 cycles of 100 Hz and 180 of 3 kHz: no leakage between them.
    let span = |t: f64| ((t * FS) as usize)..((t * FS) as usize + 2646);
    let before = gain_at_db(&tone[span(0.3)], &out[span(0.3)], 3_000.0);
    let during = gain_at_db(&tone[span(0.9)], &out[span(0.9)], 3_000.0);
    println!(
        "3 kHz band, detector at 100 Hz: {before:.3} dB before, {during:.3} dB during the trigger"
    );
    assert!(before.abs() < 0.05, "{before}");
    assert!((during + 6.0).abs() < 0.5, "{during}");
}

/// A Mid dynamic band cuts the mid burst and leaves the side signal untouched.
#[test]
fn mid_only_band_leaves_side_alone() {
    let n = (1.0 * FS) as usize;
    let mid = bursts(n, 7_000.0, 0.25, 0.1, 0.4, 1.0, 0.002);
    let side = white_noise(n, 11, 0.1);
    let l: Vec<f32> = mid.iter().zip(&side).map(|(m, s)| m + s).collect();
    let r: Vec<f32> = mid.iter().zip(&side).map(|(m, s)| m - s).collect();
    let mut s = dynamic_bell(7_000.0, 0.0, -6.0);
    s.bells[3].channels = BandChannels::Mid;
    let (ol, or) = run(&mut eq_with(&s), &l, &r);
    let out_side: Vec<f32> = ol.iter().zip(&or).map(|(a, b)| 0.5 * (a - b)).collect();
    let out_mid: Vec<f32> = ol.iter().zip(&or).map(|(a, b)| 0.5 * (a + b)).collect();
    let side_err = out_side
        .iter()
        .zip(&side)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let start = ((0.1 + 0.06) * FS) as usize;
    let range = start..start + WINDOW_7K;
    let mid_cut = gain_at_db(&mid[range.clone()], &out_mid[range], 7_000.0);
    println!("mid-only band: mid {mid_cut:.3} dB at 7 kHz, side max error {side_err:e}");
    assert!(side_err < 1e-6, "{side_err}");
    assert!((mid_cut + 6.0).abs() < 0.5, "{mid_cut}");
}

/// NaN/Inf bursts and subnormal input: the output stays finite, and after the bad samples
/// the dynamic band recovers (returns to the static band once the input is quiet).
#[test]
fn nan_and_denormal_safe() {
    let mut eq = eq_with(&dynamic_bell(7_000.0, 3.0, -6.0));
    let mut l = bursts(20_000, 7_000.0, 0.25, 0.0, 0.2, 1.0, 0.002);
    l[1000..1040].iter_mut().for_each(|v| *v = f32::NAN);
    l[3000] = f32::INFINITY;
    l[3001] = f32::NEG_INFINITY;
    let r = l.clone();
    let (ol, or) = run(&mut eq, &l, &r);
    assert!(ol.iter().chain(&or).all(|v| v.is_finite()));
    let tiny = vec![1e-39f32; 44_100];
    let (ol, or) = run(&mut eq, &tiny, &tiny);
    assert!(ol.iter().chain(&or).all(|v| v.is_finite()));
    assert_eq!(eq.dynamic_movement_db()[4], 0.0);
}

/// Same output whatever the host's block size (1, 37, 512), with dynamic bands moving.
#[test]
fn block_size_independent() {
    let n = 20_000;
    let l = bursts(n, 7_000.0, 0.25, 0.05, 0.15, 0.25, 0.002);
    let r: Vec<f32> = white_noise(n, 5, 0.05)
        .iter()
        .zip(&l)
        .map(|(a, b)| a + 0.5 * b)
        .collect();
    let mut s = dynamic_bell(7_000.0, 2.0, -9.0);
    s.low_shelf.enabled = true;
    s.low_shelf.gain_db = 3.0;
    s.low_shelf.channels = BandChannels::Side;
    s.dynamic[0] = s.dynamic[4];
    let process = |block: usize| {
        let mut eq = eq_with(&s);
        let (mut ol, mut or) = (l.clone(), r.clone());
        for (lb, rb) in ol.chunks_mut(block).zip(or.chunks_mut(block)) {
            eq.process(lb, rb);
        }
        (ol, or)
    };
    let reference = process(512);
    for block in [1, 37] {
        let other = process(block);
        assert_eq!(reference, other, "block {block}");
    }
}
