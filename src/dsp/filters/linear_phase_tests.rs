//! Measured tests of the linear-phase EQ engine (`linear_phase.rs`).

use super::*;
use crate::dsp::filters::fir_design::tests::{cascade_magnitude, rbj_bell, rbj_high_pass};
use crate::test_signals::white_noise;

const FS: f32 = 48_000.0;

fn bell_kernels(fs: f32, mid_db: f64, side_db: f64) -> Box<LinearPhaseKernels> {
    let f = fs as f64;
    let mid = [rbj_bell(f, 1000.0, 1.0, mid_db)];
    let side = [rbj_bell(f, 1000.0, 1.0, side_db)];
    Box::new(LinearPhaseKernels::design(
        |hz| cascade_magnitude(&mid, f, hz),
        |hz| cascade_magnitude(&side, f, hz),
        fs,
    ))
}

fn process_in_blocks(eq: &mut LinearPhaseEq, mid: &mut [f32], side: &mut [f32], block: usize) {
    for (m, s) in mid.chunks_mut(block).zip(side.chunks_mut(block)) {
        eq.process(m, s);
    }
}

/// The engine moves to the audio thread, the sender stays on the editor/worker side.
#[test]
fn thread_handover_types_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<LinearPhaseEq>();
    assert_send::<KernelSender>();
    assert_send::<Box<LinearPhaseKernels>>();
}

#[test]
fn latency_is_partition_plus_half_fir_and_constant() {
    let expected = [
        (44_100.0, 7167),
        (48_000.0, 7167),
        (96_000.0, 14335),
        (192_000.0, 28671),
    ];
    let mut eq = LinearPhaseEq::new();
    for (fs, latency) in expected {
        eq.reset(fs);
        assert_eq!(eq.latency_samples(), latency);
        assert_eq!(linear_phase_latency_samples(fs), latency);
    }
    eq.reset(FS);
    let mut sender = eq.kernel_channel();
    // A kernel designed for another rate is refused (retired unused); latency is unchanged.
    sender.send(bell_kernels(96_000.0, 6.0, 6.0)).unwrap();
    let mut mid = vec![0.0; 4096];
    let mut side = vec![0.0; 4096];
    eq.process(&mut mid, &mut side);
    assert!(!eq.is_crossfading());
    assert_eq!(sender.collect_garbage(), 1);
    assert_eq!(eq.latency_samples(), 7167);
    assert!(eq
        .set_kernels_now(bell_kernels(96_000.0, 0.0, 0.0))
        .is_err());
}

/// An impulse comes out at exactly `latency_samples()` and the whole response is the FIR.
#[test]
fn impulse_emerges_at_latency_with_kernel_shape() {
    let fs = FS as f64;
    let mid_curve = [rbj_bell(fs, 60.0, 2.0, 6.0)];
    let q = [0.5412, 1.3066];
    let side_curve = [rbj_high_pass(fs, 30.0, q[0]), rbj_high_pass(fs, 30.0, q[1])];
    let len = linear_phase_fir_len(FS);
    let mid_fir = design_linear_phase_fir(|f| cascade_magnitude(&mid_curve, fs, f), fs, len);
    let side_fir = design_linear_phase_fir(|f| cascade_magnitude(&side_curve, fs, f), fs, len);
    let mut eq = LinearPhaseEq::new();
    eq.reset(FS);
    let kernels = LinearPhaseKernels::new(&mid_fir, &side_fir, eq.partition_size());
    eq.set_kernels_now(Box::new(kernels)).unwrap();
    let latency = eq.latency_samples() as usize;
    let total = eq.partition_size() + len + 100;
    let mut mid = vec![0.0f32; total];
    let mut side = vec![0.0f32; total];
    mid[0] = 1.0;
    side[0] = 1.0;
    process_in_blocks(&mut eq, &mut mid, &mut side, 333);
    let peak = mid.iter().enumerate().fold((0, 0.0f32), |acc, (i, &y)| {
        if y.abs() > acc.1.abs() {
            (i, y)
        } else {
            acc
        }
    });
    assert_eq!(peak.0, latency);
    let shift = eq.partition_size();
    let mut max_err = 0.0f32;
    for n in 0..total {
        let k = n.wrapping_sub(shift);
        let (expect_m, expect_s) = if k < len {
            (mid_fir[k], side_fir[k])
        } else {
            (0.0, 0.0)
        };
        max_err = max_err
            .max((mid[n] - expect_m).abs())
            .max((side[n] - expect_s).abs());
    }
    println!("impulse response vs FIR: max error {max_err:e}");
    assert!(max_err < 1e-6, "{max_err}");
}

/// Output through `process` equals f64 direct convolution with the FIR (delayed by the
/// partition size) to better than -120 dB relative to the output RMS.
#[test]
fn matches_direct_convolution_below_minus_120_db() {
    let fs = FS as f64;
    let curve = [rbj_bell(fs, 200.0, 10.0, 12.0)];
    let len = linear_phase_fir_len(FS);
    let fir = design_linear_phase_fir(|f| cascade_magnitude(&curve, fs, f), fs, len);
    let mut eq = LinearPhaseEq::new();
    eq.reset(FS);
    eq.set_kernels_now(Box::new(LinearPhaseKernels::new(
        &fir,
        &fir,
        eq.partition_size(),
    )))
    .unwrap();
    let input = white_noise(len + 4096, 7, 0.5);
    let mut mid = input.clone();
    let mut side = vec![0.0; input.len()];
    eq.process(&mut mid, &mut side);
    let shift = eq.partition_size();
    let (mut err2, mut ref2) = (0.0f64, 0.0f64);
    // Only the last 2048 outputs (full overlap with the FIR) to keep the test fast.
    let first = input.len() - 2048;
    for (n, &output) in mid.iter().enumerate().skip(first) {
        let t = n - shift;
        let direct: f64 = (0..len.min(t + 1))
            .map(|k| fir[k] as f64 * input[t - k] as f64)
            .sum();
        err2 += (output as f64 - direct).powi(2);
        ref2 += direct * direct;
    }
    let err_db = 10.0 * (err2 / ref2).log10();
    println!("process vs direct convolution: {err_db:.1} dB");
    assert!(err_db < -120.0, "{err_db} dB");
    assert!(side.iter().all(|&y| y == 0.0));
}

/// Blocks of 1, 100 and 4096 samples give bit-identical output, including a kernel swap
/// (crossfade) picked up at the same partition boundary.
#[test]
fn output_independent_of_block_size() {
    let input_mid = white_noise(12_000, 3, 0.5);
    let input_side = white_noise(12_000, 4, 0.5);
    let kernels = bell_kernels(FS, 6.0, -3.0);
    let mut results = Vec::new();
    for block in [1usize, 100, 4096] {
        let mut eq = LinearPhaseEq::new();
        eq.reset(FS);
        let mut sender = eq.kernel_channel();
        sender.send(kernels.clone()).unwrap();
        let (mut mid, mut side) = (input_mid.clone(), input_side.clone());
        process_in_blocks(&mut eq, &mut mid, &mut side, block);
        assert_eq!(sender.collect_garbage(), 1, "identity kernel retired");
        results.push((mid, side));
    }
    assert!(results[0].0.iter().any(|&y| y != 0.0));
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

/// NaN/Inf input never reaches the output or the state: the output equals that of the same
/// signal with the bad samples replaced by silence, and huge values are bounded.
#[test]
fn non_finite_input_is_contained() {
    let clean = white_noise(16_384, 5, 0.5);
    let mut poisoned = clean.clone();
    let mut zeroed = clean.clone();
    for i in 3000..3100 {
        poisoned[i] = if i % 2 == 0 { f32::NAN } else { f32::INFINITY };
        zeroed[i] = 0.0;
    }
    poisoned[5000] = f32::NEG_INFINITY;
    zeroed[5000] = 0.0;
    let run = |input: &[f32]| {
        let mut eq = LinearPhaseEq::new();
        eq.reset(FS);
        eq.set_kernels_now(bell_kernels(FS, 9.0, 9.0)).unwrap();
        let (mut mid, mut side) = (input.to_vec(), input.to_vec());
        process_in_blocks(&mut eq, &mut mid, &mut side, 512);
        (mid, side)
    };
    let (out, out_side) = run(&poisoned);
    assert!(out.iter().chain(&out_side).all(|y| y.is_finite()));
    assert_eq!(out, run(&zeroed).0);

    let mut eq = LinearPhaseEq::new();
    let mut huge = vec![f32::MAX; 20_000];
    let mut side = vec![-1e30f32; 20_000];
    eq.process(&mut huge, &mut side);
    assert!(huge.iter().chain(&side).all(|y| y.is_finite()));
}

/// Switching from +12 dB to -12 dB at 1 kHz on a 1 kHz sine while processing: the envelope
/// falls monotonically and no sample step exceeds what the sine's own slope explains.
#[test]
fn kernel_swap_is_click_free() {
    let mut eq = LinearPhaseEq::new();
    eq.reset(FS);
    eq.set_kernels_now(bell_kernels(FS, 12.0, 12.0)).unwrap();
    let mut sender = eq.kernel_channel();
    let amplitude = 0.25f32;
    let omega = 2.0 * std::f32::consts::PI * 1000.0 / FS;
    let total = 30_000;
    let swap_at = 16_000;
    let mut mid: Vec<f32> = (0..total)
        .map(|n| amplitude * (omega * n as f32).sin())
        .collect();
    let mut side = mid.clone();
    let mut pending = Some(bell_kernels(FS, -12.0, -12.0));
    for start in (0..total).step_by(256) {
        if start >= swap_at {
            if let Some(kernels) = pending.take() {
                sender.send(kernels).unwrap();
            }
        }
        let end = (start + 256).min(total);
        eq.process(&mut mid[start..end], &mut side[start..end]);
    }
    assert_eq!(sender.collect_garbage(), 1);
    // Steady state before and after: +12 dB and -12 dB (within 0.2 dB).
    let peak = |s: &[f32]| s.iter().fold(0.0f32, |m, &y| m.max(y.abs()));
    let before = 20.0 * (peak(&mid[12_000..14_000]) / amplitude).log10();
    let after = 20.0 * (peak(&mid[total - 2000..]) / amplitude).log10();
    assert!(
        (before - 12.0).abs() < 0.2 && (after + 12.0).abs() < 0.2,
        "{before} {after}"
    );
    // Per-cycle (48 samples) peaks never rise, and the fall happens (4 -> 0.25 of input).
    let cycle_peaks: Vec<f32> = mid[12_000..].chunks(48).map(peak).collect();
    for pair in cycle_peaks.windows(2) {
        assert!(pair[1] <= pair[0] * 1.002, "envelope rose: {pair:?}");
    }
    let max_slope = 4.0 * amplitude * 2.0 * (omega / 2.0).sin() * 1.01;
    let max_step = mid
        .windows(2)
        .skip(12_000)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    println!("max step {max_step}, sine slope bound {max_slope}");
    assert!(max_step <= max_slope);
}
