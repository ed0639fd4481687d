//! Deterministic test signals and measurements, the one set used by the integration tests
//! (`mod common`) and the library's unit tests (included there as `crate::test_signals`).

use std::f32::consts::PI;

/// xorshift64 white noise in [-1, 1).
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }
}

/// `n` samples of [`Noise`] scaled to `amplitude` (uniform in [-amplitude, amplitude)).
pub fn white_noise(n: usize, seed: u64, amplitude: f32) -> Vec<f32> {
    let mut white = Noise::new(seed);
    (0..n).map(|_| amplitude * white.next()).collect()
}

/// Pink noise (Paul Kellet's refined filter, -3 dB/oct within 0.05 dB above 10 Hz at 44.1k),
/// scaled to about `rms_dbfs` RMS.
pub fn pink_noise(n: usize, seed: u64, rms_dbfs: f32) -> Vec<f32> {
    let mut white = Noise::new(seed);
    let mut b = [0.0f32; 7];
    let mut out: Vec<f32> = (0..n)
        .map(|_| {
            let w = white.next();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.153_852;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let pink = b.iter().sum::<f32>() + w * 0.5362;
            b[6] = w * 0.115926;
            pink
        })
        .collect();
    let rms = (out.iter().map(|x| x * x).sum::<f32>() / n as f32).sqrt();
    let scale = 10f32.powf(rms_dbfs / 20.0) / rms;
    out.iter_mut().for_each(|x| *x *= scale);
    out
}

/// A multi-tone "mix": kick-like 55 Hz thumps at 120 BPM, a bass line, a sustained chord, and
/// hi-hat noise bursts, panned differently per channel. Peaks around -3 dBFS.
pub fn multitone_mix(n: usize, fs: f32) -> (Vec<f32>, Vec<f32>) {
    let mut hat = Noise::new(99);
    let beat = (fs * 0.5) as usize;
    let mut left = Vec::with_capacity(n);
    let mut right = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f32 / fs;
        let in_beat = (i % beat) as f32 / fs;
        let kick = 0.5 * (-in_beat * 18.0).exp() * (2.0 * PI * 55.0 * in_beat).sin();
        let bass_freq = if (i / (4 * beat)).is_multiple_of(2) {
            82.4
        } else {
            110.0
        };
        let bass = 0.18 * (2.0 * PI * bass_freq * t).sin();
        let chord = [261.6f32, 329.6, 392.0]
            .iter()
            .map(|f| 0.06 * (2.0 * PI * f * t).sin())
            .sum::<f32>();
        let half = (i + beat / 2) % beat;
        let hat_env = (-(half as f32 / fs) * 60.0).exp();
        let hats = 0.08 * hat_env * hat.next();
        left.push(kick + bass + chord * 1.2 + hats * 0.6);
        right.push(kick + bass + chord * 0.8 + hats * 1.0);
    }
    (left, right)
}

/// `n` samples of `amp · sin(2π f i / fs + phase)` computed in f64 (phase-accurate over long
/// signals), rounded to f32.
pub fn sine_f64(n: usize, freq: f64, fs: f64, amp: f64, phase: f64) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / fs + phase).sin()) as f32)
        .collect()
}

pub fn sine(n: usize, freq: f32, fs: f32, amp: f32) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (2.0 * PI * freq * i as f32 / fs).sin())
        .collect()
}

/// Largest |output - input delayed by `latency`| over both channels, from output sample
/// `start` on (`start >= latency`). The null-test measure used across the suites.
pub fn max_deviation_from_delayed(
    out: (&[f32], &[f32]),
    input: (&[f32], &[f32]),
    latency: usize,
    start: usize,
) -> f32 {
    (start.max(latency)..out.0.len().min(out.1.len()))
        .map(|i| {
            (out.0[i] - input.0[i - latency])
                .abs()
                .max((out.1[i] - input.1[i - latency]).abs())
        })
        .fold(0.0f32, f32::max)
}

/// Magnitude in dB of the DFT of `response` (an impulse response) at `freq` Hz: the response
/// measured the way an analyser would, for comparison with a designed curve.
pub fn dft_magnitude_db(response: &[f64], freq: f64, fs: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / fs;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &h) in response.iter().enumerate() {
        re += h * (w * n as f64).cos();
        im -= h * (w * n as f64).sin();
    }
    10.0 * (re * re + im * im).log10()
}

/// Largest sample-to-sample step |x[i+1] - x[i]|: the click detector of the switching tests.
pub fn largest_step(x: &[f32]) -> f32 {
    x.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f32, f32::max)
}

/// Index and magnitude of the largest sample (the first of equals).
pub fn peak(x: &[f32]) -> (usize, f32) {
    x.iter()
        .enumerate()
        .map(|(i, v)| (i, v.abs()))
        .fold((0, 0.0f32), |best, c| if c.1 > best.1 { c } else { best })
}

/// The chain's latency at 48 kHz from the README's formula: limiter lookahead (rounded to
/// samples) + 42 samples of detector alignment, + 7167 for the linear-phase EQ when it is on.
pub fn expected_latency_48k(lookahead_ms: f64, linear_phase_eq: bool) -> u32 {
    (lookahead_ms * 48.0).round() as u32 + 42 + if linear_phase_eq { 7167 } else { 0 }
}
