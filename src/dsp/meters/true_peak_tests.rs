use super::*;
use crate::test_signals::white_noise;
use std::f64::consts::PI;

/// Sine with 5 ms raised-cosine fades at both ends: an abrupt start or end is a step whose
/// Gibbs ringing would be (correctly) measured as inter-sample overshoot.
fn sine(freq: f64, sample_rate: f64, amplitude: f64, phase: f64, len: usize) -> Vec<f32> {
    let fade = (0.005 * sample_rate) as usize;
    (0..len)
        .map(|i| {
            let ramp = if i < fade {
                0.5 - 0.5 * (PI * i as f64 / fade as f64).cos()
            } else if i >= len - fade {
                0.5 - 0.5 * (PI * (len - 1 - i) as f64 / fade as f64).cos()
            } else {
                1.0
            };
            (amplitude * ramp * (2.0 * PI * freq / sample_rate * i as f64 + phase).sin()) as f32
        })
        .collect()
}

fn db(x: f32) -> f32 {
    20.0 * x.log10()
}

#[test]
#[allow(clippy::needless_range_loop)] // k and j index the table and its mirror
fn phase_table_interpolates_exactly_at_the_samples_and_is_mirror_symmetric() {
    for (j, &c) in PHASE_COEFFS[0].iter().enumerate() {
        assert_eq!(c, if j == HALF - 1 { 1.0 } else { 0.0 });
    }
    for k in 1..TRUE_PEAK_PHASES {
        let dc: f64 = PHASE_COEFFS[k].iter().sum();
        assert!((dc - 1.0).abs() < 1e-12, "phase {k} DC {dc}");
        for j in 0..TRUE_PEAK_TAPS {
            let mirror = PHASE_COEFFS[TRUE_PEAK_PHASES - k][TRUE_PEAK_TAPS - 1 - j];
            assert!(
                (PHASE_COEFFS[k][j] - mirror).abs() < 1e-12,
                "phase {k} tap {j}"
            );
        }
    }
    // Spot value: phase 4 (half way) next to the centre is sinc(0.5) * kaiser(0.5 / 16),
    // normalised: close to 2 / pi = 0.6366.
    assert!((PHASE_COEFFS[4][HALF - 1] - std::f64::consts::FRAC_2_PI).abs() < 0.01);
}

#[test]
fn const_math_matches_std() {
    for &x in &[0.0, 0.3, 1.0, 2.5, PI] {
        assert!((sin_series(x) - x.sin()).abs() < 1e-14, "sin {x}");
    }
    for &x in &[0.0, 0.01, 0.5, 1.0] {
        assert!((sqrt_newton(x) - x.sqrt()).abs() < 1e-15, "sqrt {x}");
    }
    // I0(6) = 67.234406976...
    assert!((bessel_i0(6.0) - 67.234_406_976_478).abs() < 1e-9);
}

#[test]
fn block_kernels_equal_the_per_sample_detector() {
    for &len in &[1usize, 7, 8, 9, 63, 64, 65, 200, 1000] {
        let left = white_noise(len + TRUE_PEAK_HISTORY, 3 + len as u64, 0.9);
        let right = white_noise(len + TRUE_PEAK_HISTORY, 11 + len as u64, 0.5);
        let mut fast = vec![0.0f32; len];
        let mut portable = vec![0.0f32; len];
        stereo_true_peak_block(&left, &right, &mut fast);
        stereo_true_peak_block_portable(&left, &right, &mut portable);
        let (mut dl, mut dr) = (TruePeakDetector::new(), TruePeakDetector::new());
        let mut expected = vec![0.0f32; len + TRUE_PEAK_HISTORY];
        for n in 0..len + TRUE_PEAK_HISTORY {
            expected[n] = dl.process_sample(left[n]).max(dr.process_sample(right[n]));
        }
        for i in 0..len {
            // Per-sample form: the history is real signal, so compare where the detector has
            // seen the same samples as the block (its first outputs describe zeros before).
            let want = expected[TRUE_PEAK_HISTORY + i];
            assert!(
                (fast[i] - want).abs() <= 2e-6 * want.max(1e-3),
                "len {len} frame {i}"
            );
            assert!(
                (portable[i] - want).abs() <= 2e-6 * want.max(1e-3),
                "len {len} frame {i}"
            );
        }
        let max = stereo_true_peak_max(&left, &right);
        let block_max = fast.iter().fold(0.0f32, |m, &p| m.max(p));
        assert!((max - block_max).abs() <= 1e-7, "len {len}");
    }
}

/// The vector variants compute the same fused multiply-adds in the same order, so they agree
/// bit for bit, at every length (whole AVX-512 groups, an AVX2 group and single intervals
/// for the rest), and the portable one to f32 rounding. Levels this CPU lacks are reported.
#[test]
fn every_instruction_set_variant_gives_the_same_peaks() {
    use crate::dsp::util::simd::Level;
    let mut ran = Vec::new();
    for len in (1usize..=80).chain([127, 128, 129, 200, 1000]) {
        let left = white_noise(len + TRUE_PEAK_HISTORY, 5 + len as u64, 0.9);
        let right = white_noise(len + TRUE_PEAK_HISTORY, 17 + len as u64, 0.7);
        let mut portable = vec![0.0f32; len];
        stereo_true_peak_block_portable(&left, &right, &mut portable);
        let mut first_vector: Option<Vec<f32>> = None;
        for level in [Level::Avx2Fma, Level::Avx512] {
            let mut peaks = vec![0.0f32; len];
            if stereo_true_peak_block_at(level, &left, &right, &mut peaks).is_none() {
                continue;
            }
            if len == 1 {
                ran.push(level);
            }
            for (i, (&p, &q)) in peaks.iter().zip(&portable).enumerate() {
                assert!(
                    (p - q).abs() <= 2e-6 * q.max(1e-3),
                    "{level:?} len {len} frame {i}"
                );
            }
            match &first_vector {
                None => first_vector = Some(peaks),
                Some(other) => {
                    for (i, (&p, &q)) in peaks.iter().zip(other).enumerate() {
                        assert_eq!(p.to_bits(), q.to_bits(), "{level:?} len {len} frame {i}");
                    }
                }
            }
        }
    }
    eprintln!("vector variants compared on this CPU: {ran:?}");
}

#[test]
fn steady_sines_read_their_amplitude_up_to_0_45_fs() {
    // The grid alone would miss up to 0.14 dB at 0.45 fs; the parabola brings it under 0.02.
    for &fs in &[44_100.0, 48_000.0, 96_000.0] {
        for &ratio in &[0.01, 0.1, 0.2, 0.25, 0.3, 0.37, 0.41, 0.45] {
            for &phase in &[0.0, 0.37, PI / 4.0, 1.3] {
                let s = sine(ratio * fs, fs, 0.5, phase, 8192);
                let err = true_peak_dbtp(&s, &s) - db(0.5);
                assert!(
                    err.abs() < 0.02,
                    "fs {fs} f {ratio} fs phase {phase}: {err} dB"
                );
            }
        }
    }
}

#[test]
fn quarter_rate_sine_at_45_degrees_reads_3_db_over_its_samples() {
    // EBU Tech 3341 case 19's construction: fs/4 at 1.41 FS, 45 degrees: samples +-0.997,
    // true peak 1.41 (+2.99 dBTP).
    let s = sine(12_000.0, 48_000.0, 1.41, PI / 4.0, 4800);
    let tp = true_peak_dbtp(&s, &s);
    assert!((tp - db(1.41)).abs() < 0.01, "{tp}");
}

#[test]
fn max_filter_gain_bounds_every_frame_and_is_reached_by_the_worst_sign_pattern() {
    // The sign pattern of the largest-|c| phase drives it to its L1 norm.
    let mut worst_phase = 1;
    let l1 = |k: usize| PHASE_COEFFS[k].iter().map(|c| c.abs()).sum::<f64>();
    for k in 1..TRUE_PEAK_PHASES {
        if l1(k) > l1(worst_phase) {
            worst_phase = k;
        }
    }
    let mut x = vec![0.0f32; TRUE_PEAK_HISTORY + 2 * TRUE_PEAK_TAPS + 16];
    for j in 0..TRUE_PEAK_TAPS {
        x[TRUE_PEAK_HISTORY + 8 + j] = PHASE_COEFFS[worst_phase][j].signum() as f32;
    }
    let peak = stereo_true_peak_max(&x, &x);
    assert!(peak > (l1(worst_phase) * 0.999) as f32, "{peak}");
    assert!(peak <= TRUE_PEAK_MAX_FILTER_GAIN, "{peak}");
    for seed in 0..20 {
        let n = white_noise(TRUE_PEAK_HISTORY + 64, seed, 1.0);
        let m = n.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(stereo_true_peak_max(&n, &n) <= m * TRUE_PEAK_MAX_FILTER_GAIN);
    }
}

#[test]
fn never_below_the_sample_peak_and_impulses_are_exact() {
    for pos in 0..20 {
        let mut x = vec![0.0f32; 100];
        x[40 + pos] = -0.7;
        let tp = true_peak_dbtp(&x, &[]);
        assert!((tp - db(0.7)).abs() < 1e-5, "{tp}");
    }
    let n = white_noise(5000, 9, 0.8);
    let sample_peak = n.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(true_peak_dbtp(&n, &n) >= db(sample_peak));
}

#[test]
fn detector_delay_matches_the_documented_interval() {
    // An impulse at sample 0 is the grid value k = 0 of interval 0, reported when sample
    // TRUE_PEAK_DELAY arrives.
    let mut detector = TruePeakDetector::new();
    let mut outputs = Vec::new();
    for n in 0..40 {
        outputs.push(detector.process_sample(if n == 0 { 1.0 } else { 0.0 }));
    }
    assert!((outputs[TRUE_PEAK_DELAY] - 1.0).abs() < 1e-6);
    // Earlier intervals see only the sinc's side lobes (largest |sinc| beyond 1 sample: 0.217).
    assert!(outputs[..TRUE_PEAK_DELAY - 1].iter().all(|&v| v < 0.22));
}

#[test]
fn non_finite_input_counts_as_silence() {
    let mut x = vec![0.0f32; 100];
    x[10] = f32::NAN;
    x[20] = f32::INFINITY;
    x[50] = 0.25;
    assert!((true_peak_dbtp(&x, &x) - db(0.25)).abs() < 1e-5);
    let mut detector = TruePeakDetector::new();
    for &v in &x {
        assert!(detector.process_sample(v).is_finite());
    }
}
