//! Linear-phase FIR design by frequency sampling (non-realtime; allocates).
//!
//! The EQ's minimum-phase path defines a magnitude curve |H(f)|. The linear-phase mode realises
//! the same magnitude with zero phase plus a pure delay of (N-1)/2 samples: sample |H| on a dense
//! DFT grid with zero phase, inverse FFT (the result is real and even), rotate it so the centre
//! tap sits at (N-1)/2, and taper its ends with a Tukey window (Oppenheim & Schafer,
//! "Discrete-Time Signal Processing", 3rd ed., sec. 7.5: design by windowing; Smith, "Spectral
//! Audio Signal Processing", "Frequency Sampling Method for FIR Filter Design").
//!
//! Sampling on a grid several times denser than N keeps the time aliasing of the ideal (infinitely
//! long) zero-phase response negligible, so truncation by the window is the only approximation.
//! Truncation convolves |H| with the window spectrum. For EQ curves (impulse responses that
//! decay exponentially) measurement showed that any main-lobe widening costs accuracy at narrow
//! low-frequency features (Kaiser beta 6 on 8191 taps: 1.9 dB error on a Q 10 bell at 200 Hz,
//! rectangular: 0.23 dB), so the window is a Tukey with a short 10 % raised-cosine end taper:
//! nearly the least-squares-optimal rectangular truncation, without a hard step at the ends.
//! With 12287 taps per 48 kHz the realised magnitude stays within 0.07 dB of the target above
//! 40 Hz for all demanding mastering curves in the tests.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// FIR length at 44.1/48 kHz: 12287 taps (256 ms at 48 kHz). Measured: 8191 taps cannot hold a
/// +12 dB Q 10 bell at 200 Hz within 0.2 dB (0.23 dB even unwindowed, because its impulse response
/// decays with a 16 ms time constant), 12287 taps hold every test curve within 0.07 dB.
pub const BASE_LINEAR_PHASE_FIR_LEN: usize = 12287;

/// Tukey taper fraction used by [`design_linear_phase_fir`] (measured, see the tests).
pub const LINEAR_PHASE_TAPER_FRACTION: f64 = 0.1;

/// How much denser than the FIR length the frequency-sampling grid is. Larger values push the
/// time aliasing of the ideal response further out.
const DESIGN_GRID_OVERSAMPLING: usize = 8;

/// Power-of-two factor (1, 2, 4, 8) by which the FIR length and the partition size grow with the
/// sample rate, so frequency resolution (Hz per bin) and latency in milliseconds stay roughly
/// constant from 44.1 to 384 kHz.
pub fn sample_rate_factor(sample_rate: f32) -> usize {
    let mut factor = 1usize;
    // The NaN check makes a bogus rate fall back to the 48 kHz configuration.
    while factor < 8 && sample_rate.is_finite() && sample_rate > 50_000.0 * factor as f32 {
        factor *= 2;
    }
    factor
}

/// Default linear-phase FIR length for a sample rate: 12287 taps at 44.1/48 kHz, 24575 at
/// 88.2/96 kHz, 49151 at 176.4/192 kHz (and 98303 at 352.8/384 kHz). Always odd, so the
/// delay (N-1)/2 is an integer number of samples.
pub fn linear_phase_fir_len(sample_rate: f32) -> usize {
    (BASE_LINEAR_PHASE_FIR_LEN + 1) * sample_rate_factor(sample_rate) - 1
}

/// Designs a symmetric (linear-phase) FIR whose magnitude follows `magnitude(f)` (linear gain,
/// frequency in Hz, evaluated from 0 to `sample_rate / 2`). The FIR delay is `(len - 1) / 2`.
///
/// `len` is rounded up to the next odd number (minimum 1). Non-finite or negative values from
/// `magnitude` are treated as 0 and |value| respectively. Allocates; call off the audio thread.
pub fn design_linear_phase_fir(
    magnitude: impl Fn(f64) -> f64,
    sample_rate: f64,
    len: usize,
) -> Vec<f32> {
    design_linear_phase_fir_with_taper(magnitude, sample_rate, len, LINEAR_PHASE_TAPER_FRACTION)
}

/// [`design_linear_phase_fir`] with an explicit Tukey taper fraction (0 = rectangular window,
/// 1 = Hann): the fraction of each half of the kernel over which a raised-cosine taper falls.
pub fn design_linear_phase_fir_with_taper(
    magnitude: impl Fn(f64) -> f64,
    sample_rate: f64,
    len: usize,
    taper_fraction: f64,
) -> Vec<f32> {
    let len = (len | 1).max(1);
    let half = (len - 1) / 2;
    let grid_len = (len.next_power_of_two() * DESIGN_GRID_OVERSAMPLING).max(16);

    let mut planner = RealFftPlanner::<f64>::new();
    let inverse = planner.plan_fft_inverse(grid_len);
    let mut spectrum = inverse.make_input_vec();
    for (bin, value) in spectrum.iter_mut().enumerate() {
        let frequency = bin as f64 * sample_rate / grid_len as f64;
        let gain = magnitude(frequency);
        let gain = if gain.is_finite() { gain.abs() } else { 0.0 };
        // Zero phase: a real, non-negative spectrum gives a real, even impulse response.
        *value = Complex::new(gain, 0.0);
    }
    let mut zero_phase_response = inverse.make_output_vec();
    if inverse
        .process(&mut spectrum, &mut zero_phase_response)
        .is_err()
    {
        // Cannot happen with planner-made buffers; fall back to a pure delay rather than panic.
        let mut fir = vec![0.0f32; len];
        fir[half] = 1.0;
        return fir;
    }
    let scale = 1.0 / grid_len as f64;

    let taper_fraction = taper_fraction.clamp(0.0, 1.0);
    let mut fir = vec![0.0f32; len];
    fir[half] = (zero_phase_response[0] * scale) as f32;
    for offset in 1..=half {
        let window = tukey_half_window(offset as f64 / (half as f64 + 1.0), taper_fraction);
        // Using the same (positive-lag) value on both sides makes the kernel exactly symmetric.
        let tap = (zero_phase_response[offset] * scale * window) as f32;
        fir[half + offset] = tap;
        fir[half - offset] = tap;
    }
    fir
}

/// Tukey window as a function of the distance from the centre, `position` in [0, 1): flat up to
/// `1 - taper_fraction`, then a raised-cosine fall towards 0 at position 1.
fn tukey_half_window(position: f64, taper_fraction: f64) -> f64 {
    let flat_end = 1.0 - taper_fraction;
    if position <= flat_end || taper_fraction <= 0.0 {
        1.0
    } else {
        let x = (position - flat_end) / taper_fraction;
        0.5 + 0.5 * (std::f64::consts::PI * x).cos()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use realfft::RealFftPlanner;
    use std::f64::consts::PI;

    /// Normalised biquad coefficients [b0, b1, b2, a1, a2] (a0 = 1).
    pub(crate) type Biquad = [f64; 5];

    /// RBJ Audio EQ Cookbook peaking EQ.
    pub(crate) fn rbj_bell(fs: f64, f0: f64, q: f64, gain_db: f64) -> Biquad {
        let a = 10f64.powf(gain_db / 40.0);
        let w0 = 2.0 * PI * f0 / fs;
        let alpha = w0.sin() / (2.0 * q);
        let a0 = 1.0 + alpha / a;
        [
            (1.0 + alpha * a) / a0,
            -2.0 * w0.cos() / a0,
            (1.0 - alpha * a) / a0,
            -2.0 * w0.cos() / a0,
            (1.0 - alpha / a) / a0,
        ]
    }

    /// RBJ Audio EQ Cookbook low shelf (Q form).
    pub(crate) fn rbj_low_shelf(fs: f64, f0: f64, q: f64, gain_db: f64) -> Biquad {
        let a = 10f64.powf(gain_db / 40.0);
        let w0 = 2.0 * PI * f0 / fs;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let sq = 2.0 * a.sqrt() * alpha;
        let a0 = (a + 1.0) + (a - 1.0) * cos + sq;
        [
            a * ((a + 1.0) - (a - 1.0) * cos + sq) / a0,
            2.0 * a * ((a - 1.0) - (a + 1.0) * cos) / a0,
            a * ((a + 1.0) - (a - 1.0) * cos - sq) / a0,
            -2.0 * ((a - 1.0) + (a + 1.0) * cos) / a0,
            ((a + 1.0) + (a - 1.0) * cos - sq) / a0,
        ]
    }

    /// RBJ Audio EQ Cookbook high-pass.
    pub(crate) fn rbj_high_pass(fs: f64, f0: f64, q: f64) -> Biquad {
        let w0 = 2.0 * PI * f0 / fs;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        [
            (1.0 + cos) / 2.0 / a0,
            -(1.0 + cos) / a0,
            (1.0 + cos) / 2.0 / a0,
            -2.0 * cos / a0,
            (1.0 - alpha) / a0,
        ]
    }

    /// Exact |H(e^jw)| of a cascade of biquads at `f` Hz.
    pub(crate) fn cascade_magnitude(sections: &[Biquad], fs: f64, f: f64) -> f64 {
        let w = 2.0 * PI * f / fs;
        let (s1, c1) = w.sin_cos();
        let (s2, c2) = (2.0 * w).sin_cos();
        sections.iter().fold(1.0, |acc, s| {
            let nr = s[0] + s[1] * c1 + s[2] * c2;
            let ni = -(s[1] * s1 + s[2] * s2);
            let dr = 1.0 + s[3] * c1 + s[4] * c2;
            let di = -(s[3] * s1 + s[4] * s2);
            acc * ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
        })
    }

    /// The demanding mastering curves the linear-phase mode must reproduce.
    pub(crate) fn demanding_cases(fs: f64) -> Vec<(&'static str, Vec<Biquad>)> {
        // 24 dB/oct Butterworth = two high-pass biquads with Q 0.5412 and 1.3066.
        let butterworth_q = [
            1.0 / (2.0 * (PI / 8.0).cos()),
            1.0 / (2.0 * (3.0 * PI / 8.0).cos()),
        ];
        vec![
            (
                "low shelf 80 Hz +6 dB Q0.7",
                vec![rbj_low_shelf(fs, 80.0, 0.7, 6.0)],
            ),
            (
                "low shelf 80 Hz -6 dB Q0.7",
                vec![rbj_low_shelf(fs, 80.0, 0.7, -6.0)],
            ),
            ("bell 60 Hz Q2 +6 dB", vec![rbj_bell(fs, 60.0, 2.0, 6.0)]),
            ("bell 60 Hz Q2 -6 dB", vec![rbj_bell(fs, 60.0, 2.0, -6.0)]),
            (
                "bell 200 Hz Q10 +6 dB",
                vec![rbj_bell(fs, 200.0, 10.0, 6.0)],
            ),
            (
                "bell 200 Hz Q10 -6 dB",
                vec![rbj_bell(fs, 200.0, 10.0, -6.0)],
            ),
            (
                "bell 200 Hz Q10 +12 dB",
                vec![rbj_bell(fs, 200.0, 10.0, 12.0)],
            ),
            (
                "bell 200 Hz Q10 -12 dB",
                vec![rbj_bell(fs, 200.0, 10.0, -12.0)],
            ),
            (
                "low cut 30 Hz 24 dB/oct",
                vec![
                    rbj_high_pass(fs, 30.0, butterworth_q[0]),
                    rbj_high_pass(fs, 30.0, butterworth_q[1]),
                ],
            ),
        ]
    }

    /// Magnitude of `fir` on a dense zero-padded FFT grid: (frequency Hz, |H|) per bin.
    pub(crate) fn measured_magnitude(fir: &[f32], fs: f64) -> Vec<(f64, f64)> {
        let grid = (fir.len().next_power_of_two() * 4).max(64);
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(grid);
        let mut input = forward.make_input_vec();
        for (slot, &tap) in input.iter_mut().zip(fir) {
            *slot = tap as f64;
        }
        let mut spectrum = forward.make_output_vec();
        forward.process(&mut input, &mut spectrum).unwrap();
        spectrum
            .iter()
            .enumerate()
            .map(|(bin, c)| (bin as f64 * fs / grid as f64, c.norm()))
            .collect()
    }

    /// Largest |dB error| of the realised FIR against `target` from `min_hz` to Nyquist.
    pub(crate) fn max_error_db(
        fir: &[f32],
        fs: f64,
        min_hz: f64,
        target: impl Fn(f64) -> f64,
    ) -> f64 {
        measured_magnitude(fir, fs)
            .iter()
            .filter(|(f, _)| *f >= min_hz)
            .map(|&(f, m)| (20.0 * (m / target(f)).log10()).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn fir_lengths_are_odd_and_scale_with_rate() {
        assert_eq!(linear_phase_fir_len(44_100.0), 12287);
        assert_eq!(linear_phase_fir_len(48_000.0), 12287);
        assert_eq!(linear_phase_fir_len(88_200.0), 24575);
        assert_eq!(linear_phase_fir_len(96_000.0), 24575);
        assert_eq!(linear_phase_fir_len(176_400.0), 49151);
        assert_eq!(linear_phase_fir_len(192_000.0), 49151);
        assert_eq!(linear_phase_fir_len(f32::NAN), 12287);
        assert_eq!(design_linear_phase_fir(|_| 1.0, 48_000.0, 100).len(), 101);
    }

    /// Linear phase: the kernel is exactly symmetric about (N-1)/2, hence its group delay is the
    /// constant (N-1)/2. Also checks the group delay numerically from the phase slope.
    #[test]
    fn kernel_is_symmetric_with_constant_group_delay() {
        let fs = 48_000.0;
        let bell = [rbj_bell(fs, 1000.0, 1.0, 9.0)];
        let fir = design_linear_phase_fir(|f| cascade_magnitude(&bell, fs, f), fs, 255);
        let n = fir.len();
        for i in 0..n {
            assert_eq!(fir[i], fir[n - 1 - i], "tap {i}");
        }
        // Group delay from the DTFT phase derivative at a few frequencies (in the passband).
        let expected_delay = (n - 1) as f64 / 2.0;
        for f in [100.0, 1000.0, 5000.0] {
            let phase = |f: f64| {
                let w = 2.0 * PI * f / fs;
                let (re, im) = fir
                    .iter()
                    .enumerate()
                    .fold((0.0, 0.0), |(re, im), (k, &h)| {
                        (
                            re + h as f64 * (w * k as f64).cos(),
                            im - h as f64 * (w * k as f64).sin(),
                        )
                    });
                im.atan2(re)
            };
            let df = 0.01;
            let mut dphi = phase(f + df) - phase(f - df);
            dphi = (dphi + PI).rem_euclid(2.0 * PI) - PI;
            let delay = -dphi / (2.0 * PI * 2.0 * df / fs);
            assert!(
                (delay - expected_delay).abs() < 1e-3,
                "{f} Hz: delay {delay}"
            );
        }
    }

    /// The requirement: within 0.2 dB of the target above 40 Hz for every demanding case, at
    /// 44.1, 48, 96 and 192 kHz with the default lengths.
    #[test]
    fn default_design_meets_0_2_db_above_40_hz() {
        for fs in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            let len = linear_phase_fir_len(fs as f32);
            for (name, sections) in demanding_cases(fs) {
                let target = |f: f64| cascade_magnitude(&sections, fs, f);
                let fir = design_linear_phase_fir(target, fs, len);
                let err = max_error_db(&fir, fs, 40.0, target);
                println!("{fs} Hz, {len} taps, {name}: max error {err:.4} dB");
                assert!(err < 0.2, "{fs} Hz {name}: {err} dB");
            }
        }
    }

    /// Exploration helper (run with --ignored --nocapture): error per Tukey taper fraction at 48 kHz.
    #[test]
    #[ignore]
    fn explore_window_taper() {
        let fs = 48_000.0;
        for len in [8191usize, 12287, 16383] {
            for taper in [0.0, 0.05, 0.1, 0.2, 0.3] {
                let mut worst = (0.0, "");
                let mut line = String::new();
                for (name, sections) in demanding_cases(fs) {
                    let target = |f: f64| cascade_magnitude(&sections, fs, f);
                    let fir = design_linear_phase_fir_with_taper(target, fs, len, taper);
                    let err = max_error_db(&fir, fs, 40.0, target);
                    line.push_str(&format!(" {err:.3}"));
                    if err > worst.0 {
                        worst = (err, name);
                    }
                }
                println!(
                    "len {len} taper {taper}: worst {:.4} ({}) |{line}",
                    worst.0, worst.1
                );
            }
        }
    }
}
