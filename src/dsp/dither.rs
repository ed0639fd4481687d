//! Word-length reduction with TPDF dither and optional noise shaping (last stage of the chain).
//!
//! Why TPDF: Lipshitz, Wannamaker, Vanderkooy, "Quantization and Dither: A Theoretical
//! Survey" (JAES 1992): adding triangular-PDF dither of 2 LSB peak-to-peak (sum of two
//! independent uniform ±0.5 LSB variables) before rounding makes the first and second
//! moments of the total error independent of the signal. The error is then a benign, signal
//! independent noise of power LSB²/6 (dither) + LSB²/12 (rounding) = LSB²/4, with no
//! truncation distortion or noise modulation, at the cost of 4.77 dB more noise than plain
//! rounding.
//!
//! Noise shaping is error feedback (Lipshitz et al.; Wannamaker, "Psychoacoustically Optimal
//! Noise Shaping", JAES 1992): the value handed to the quantiser is `x - sum c_k e[n-k]`,
//! where `e` is the total (dither + rounding) error, so the output noise is `e` filtered by
//! the FIR `1 - sum c_k z^-k`. Because that filter is FIR and `e` is bounded (|e| <= 1.5 LSB,
//! computed *before* the output clamp, so clipping never enters the loop) the loop is
//! unconditionally stable, even on full-scale input.
//! * Below 50 kHz (44.1 / 48 kHz): Wannamaker's 9-tap F-weighted filter, designed at
//!   44.1 kHz (the coefficients used by SoX and FFmpeg as "f-weighted"); at 48 kHz its
//!   curve is stretched by 48/44.1 (noise minimum moves from ~4 kHz to ~4.3 kHz).
//! * From 50 kHz up: second-order high-pass shaping `(1 - z^-1)^2`; at these rates the
//!   audible band is a small fraction of Nyquist, so a plain high-pass moves the noise out of
//!   it (-19 dB at 5 kHz at 96 kHz) without the huge HF gain of a 44.1 kHz design.
//!
//! The output values are exact multiples of `2^-(bits-1)` and clamped to
//! `[-1, 1 - LSB]`, so a host converting to integers reproduces them exactly.

use crate::dsp::util::sanitize;

/// Target word length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DitherMode {
    /// Bit-exact passthrough.
    #[default]
    Off,
    Bits24,
    Bits16,
}

impl DitherMode {
    fn bits(self) -> Option<u32> {
        match self {
            DitherMode::Off => None,
            DitherMode::Bits24 => Some(24),
            DitherMode::Bits16 => Some(16),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DitherSettings {
    pub mode: DitherMode,
    /// Error-feedback noise shaping (F-weighted at 44.1/48 kHz, 2nd-order HP above 50 kHz).
    pub noise_shaping: bool,
}

/// Wannamaker 1992 9-tap F-weighted error-feedback coefficients (44.1 kHz design).
const F_WEIGHTED_44K: [f64; 9] = [
    2.412, -3.370, 3.937, -4.174, 3.353, -2.205, 1.281, -0.569, 0.0847,
];
/// `1 - (2 z^-1 - z^-2) = (1 - z^-1)^2`: second-order high-pass noise transfer function.
const SECOND_ORDER_HIGH_PASS: [f64; 9] = [2.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
const SHAPING_TAPS: usize = 9;
/// Rates from here up use the second-order high-pass shaper.
const HIGH_RATE_THRESHOLD: f32 = 50_000.0;

/// xorshift64* (Vigna 2016): fast, statistically good enough for dither, deterministic.
#[derive(Clone, Debug)]
struct Xorshift64Star(u64);

impl Xorshift64Star {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// TPDF value in LSB units, range (-1, 1): two independent uniforms from one draw.
    #[inline]
    fn tpdf(&mut self) -> f64 {
        let bits = self.next();
        let scale = 1.0 / (1u64 << 32) as f64;
        let first = (bits >> 32) as f64 * scale;
        let second = (bits & 0xFFFF_FFFF) as f64 * scale;
        first + second - 1.0
    }
}

#[derive(Clone, Debug)]
struct ChannelDither {
    rng: Xorshift64Star,
    /// Past total errors, newest first, in signal units.
    errors: [f64; SHAPING_TAPS],
}

impl ChannelDither {
    fn new(seed: u64) -> Self {
        Self {
            rng: Xorshift64Star(seed),
            errors: [0.0; SHAPING_TAPS],
        }
    }

    #[inline]
    fn process(
        &mut self,
        x: f32,
        scale: f64,
        coefficients: &[f64; SHAPING_TAPS],
        shaping: bool,
    ) -> f32 {
        let feedback: f64 = if shaping {
            coefficients
                .iter()
                .zip(self.errors.iter())
                .map(|(c, e)| c * e)
                .sum()
        } else {
            0.0
        };
        let wanted = f64::from(sanitize(x)) - feedback;
        // Quantise in LSB units; the error is taken before the clamp (see module docs).
        let steps = (wanted * scale + self.rng.tpdf()).round();
        let error = steps / scale - wanted;
        self.errors.copy_within(0..SHAPING_TAPS - 1, 1);
        // Bounded by construction; the clamp only guards against non-finite arithmetic.
        self.errors[0] = if error.is_finite() {
            error.clamp(-2.0 / scale, 2.0 / scale)
        } else {
            0.0
        };
        (steps.clamp(-scale, scale - 1.0) / scale) as f32
    }
}

/// Stereo TPDF ditherer / word-length reducer with optional noise shaping.
pub struct Dither {
    settings: DitherSettings,
    coefficients: &'static [f64; SHAPING_TAPS],
    channels: [ChannelDither; 2],
}

const LEFT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const RIGHT_SEED: u64 = 0xD1B5_4A32_D192_ED03;

impl Dither {
    pub fn new(sample_rate: f32) -> Self {
        let mut dither = Self {
            settings: DitherSettings::default(),
            coefficients: &F_WEIGHTED_44K,
            channels: [
                ChannelDither::new(LEFT_SEED),
                ChannelDither::new(RIGHT_SEED),
            ],
        };
        dither.reset(sample_rate);
        dither
    }

    /// Chooses the shaping filter for the rate and restarts RNGs and error history
    /// (deterministic output after reset).
    pub fn reset(&mut self, sample_rate: f32) {
        self.coefficients = if sample_rate >= HIGH_RATE_THRESHOLD {
            &SECOND_ORDER_HIGH_PASS
        } else {
            &F_WEIGHTED_44K
        };
        self.channels = [
            ChannelDither::new(LEFT_SEED),
            ChannelDither::new(RIGHT_SEED),
        ];
    }

    /// Realtime-safe. A word-length change clears the error history (it is in the old LSB's
    /// units); toggling shaping keeps it (it is always tracked).
    pub fn set(&mut self, settings: &DitherSettings) {
        if settings.mode != self.settings.mode {
            for channel in &mut self.channels {
                channel.errors = [0.0; SHAPING_TAPS];
            }
        }
        self.settings = *settings;
    }

    /// Dithers and quantises in place. `Off` leaves the samples untouched (bit-exact).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let Some(bits) = self.settings.mode.bits() else {
            return;
        };
        let scale = (1u64 << (bits - 1)) as f64;
        let shaping = self.settings.noise_shaping;
        let coefficients = self.coefficients;
        let [left_state, right_state] = &mut self.channels;
        for x in left.iter_mut() {
            *x = left_state.process(*x, scale, coefficients, shaping);
        }
        for x in right.iter_mut() {
            *x = right_state.process(*x, scale, coefficients, shaping);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const LSB16: f64 = 1.0 / 32768.0;

    fn sine(freq: f64, fs: f64, amp: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / fs).sin()) as f32)
            .collect()
    }

    fn run(
        mode: DitherMode,
        shaping: bool,
        fs: f32,
        left: &[f32],
        right: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        let mut dither = Dither::new(fs);
        dither.set(&DitherSettings {
            mode,
            noise_shaping: shaping,
        });
        let mut l = left.to_vec();
        let mut r = right.to_vec();
        for (a, b) in l.chunks_mut(300).zip(r.chunks_mut(300)) {
            dither.process(a, b);
        }
        (l, r)
    }

    /// Power of one DFT bin at `freq` (Goertzel), normalised by N².
    fn bin_power(x: &[f64], freq: f64, fs: f64) -> f64 {
        let coeff = 2.0 * (2.0 * PI * freq / fs).cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &v in x {
            let s0 = v + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let n = x.len() as f64;
        (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)
    }

    fn error(out: &[f32], input: &[f32]) -> Vec<f64> {
        out.iter()
            .zip(input)
            .map(|(&o, &i)| o as f64 - i as f64)
            .collect()
    }

    #[test]
    fn off_is_bit_exact() {
        let x = sine(997.0, 48_000.0, 0.7, 1000);
        let (l, r) = run(DitherMode::Off, true, 48_000.0, &x, &x);
        assert_eq!(l, x);
        assert_eq!(r, x);
    }

    #[test]
    fn outputs_lie_on_the_quantisation_grid() {
        let x: Vec<f32> = sine(441.0, 44_100.0, 1.2, 20_000); // includes clipping
        for (mode, bits) in [(DitherMode::Bits16, 16), (DitherMode::Bits24, 24)] {
            for shaping in [false, true] {
                let (l, r) = run(mode, shaping, 44_100.0, &x, &x);
                let scale = (1u64 << (bits - 1)) as f64;
                for &v in l.iter().chain(r.iter()) {
                    let steps = v as f64 * scale;
                    assert_eq!(steps, steps.round(), "{v} not on the {bits}-bit grid");
                    assert!((-scale..=scale - 1.0).contains(&steps));
                }
            }
        }
    }

    #[test]
    fn tpdf_error_power_is_lsb_squared_over_4() {
        let fs = 48_000.0;
        let x = sine(1000.0, fs, 0.01, 96_000);
        let (l, r) = run(DitherMode::Bits16, false, fs as f32, &x, &x);
        for out in [&l, &r] {
            let e = error(out, &x);
            let mean = e.iter().sum::<f64>() / e.len() as f64;
            let power = e.iter().map(|v| v * v).sum::<f64>() / e.len() as f64;
            let ratio = power / (LSB16 * LSB16 / 4.0);
            assert!((ratio - 1.0).abs() < 0.1, "power ratio {ratio}");
            assert!(mean.abs() < 0.02 * LSB16, "mean {mean}");
        }
        // Channels use different seeds: their errors are uncorrelated.
        let (el, er) = (error(&l, &x), error(&r, &x));
        let cross: f64 = el.iter().zip(&er).map(|(a, b)| a * b).sum::<f64>();
        let norm =
            (el.iter().map(|v| v * v).sum::<f64>() * er.iter().map(|v| v * v).sum::<f64>()).sqrt();
        assert!((cross / norm).abs() < 0.02, "correlation {}", cross / norm);
    }

    #[test]
    fn dither_removes_truncation_distortion() {
        // -90 dBFS 1 kHz sine at 16 bits (about 1 LSB peak). Plain rounding gives a
        // square-ish wave with a strong 3rd harmonic; TPDF dither leaves only noise.
        let fs = 48_000.0;
        let x = sine(1000.0, fs, 10f64.powf(-90.0 / 20.0), 48_000);
        let rounded: Vec<f64> = x
            .iter()
            .map(|&v| (v as f64 * 32768.0).round() / 32768.0)
            .collect();
        let (dithered, _) = run(DitherMode::Bits16, false, fs as f32, &x, &x);
        let dithered: Vec<f64> = dithered.iter().map(|&v| v as f64).collect();
        let h3_rounded = bin_power(&rounded, 3000.0, fs);
        let h3_dithered = bin_power(&dithered, 3000.0, fs);
        let noise_floor = (1..=40)
            .map(|k| bin_power(&dithered, 3000.0 + 7.0 * k as f64, fs))
            .sum::<f64>()
            / 40.0;
        let spur_db = 10.0 * (h3_rounded / noise_floor).log10();
        let dithered_db = 10.0 * (h3_dithered / noise_floor).log10();
        eprintln!("H3 vs noise floor: rounded {spur_db:.1} dB, dithered {dithered_db:.1} dB");
        assert!(
            spur_db > 20.0,
            "undithered H3 only {spur_db} dB above the floor"
        );
        assert!(
            dithered_db < 10.0,
            "dithered H3 {dithered_db} dB above the floor"
        );
        // The fundamental survives dithering (1 LSB sine is still there, -90 dBFS).
        let fundamental = bin_power(&dithered, 1000.0, fs);
        let expected = (10f64.powf(-90.0 / 20.0) / 2.0).powi(2);
        assert!((fundamental / expected - 1.0).abs() < 0.2);
    }

    /// Mean error power per bin over `lo..hi` Hz, averaged over 8 segments of 4096.
    fn band_power(e: &[f64], fs: f64, lo: f64, hi: f64) -> f64 {
        let n = 4096;
        let mut total = 0.0;
        let mut count = 0;
        for segment in e.chunks_exact(n).take(8) {
            let mut k = (lo * n as f64 / fs).ceil() as usize;
            while (k as f64) * fs / (n as f64) <= hi {
                total += bin_power(segment, k as f64 * fs / n as f64, fs);
                count += 1;
                k += 3;
            }
        }
        total / count as f64
    }

    #[test]
    fn noise_shaping_moves_noise_out_of_1_to_5_khz() {
        for fs in [44_100.0f64, 48_000.0, 96_000.0] {
            let x = sine(440.0, fs, 0.01, 8 * 4096);
            let (flat, _) = run(DitherMode::Bits16, false, fs as f32, &x, &x);
            let (shaped, _) = run(DitherMode::Bits16, true, fs as f32, &x, &x);
            let flat_band = band_power(&error(&flat, &x), fs, 1000.0, 5000.0);
            let shaped_band = band_power(&error(&shaped, &x), fs, 1000.0, 5000.0);
            let reduction_db = 10.0 * (flat_band / shaped_band).log10();
            eprintln!("{fs} Hz: 1-5 kHz noise {reduction_db:.1} dB below flat TPDF");
            assert!(reduction_db > 6.0, "{fs} Hz: only {reduction_db} dB");
        }
    }

    #[test]
    fn noise_shaping_is_stable_on_full_scale_input() {
        let fs = 44_100.0;
        let square: Vec<f32> = (0..44_100)
            .map(|i| if (i / 50) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let loud_sine = sine(1000.0, fs, 1.0, 44_100);
        for x in [square, loud_sine] {
            let (out, _) = run(DitherMode::Bits16, true, fs as f32, &x, &x);
            let max_deviation = out
                .iter()
                .zip(&x)
                .map(|(&o, &i)| (o as f64 - (i as f64).clamp(-1.0, 1.0 - LSB16)).abs())
                .fold(0.0, f64::max);
            // |e| <= 1.5 LSB and sum |c_k| = 21.4: deviation is bounded by ~34 LSB.
            assert!(
                max_deviation < 34.0 * LSB16,
                "{} LSB",
                max_deviation / LSB16
            );
            let e = error(&out, &x);
            let first: f64 = e[..22_050].iter().map(|v| v * v).sum();
            let last: f64 = e[22_050..].iter().map(|v| v * v).sum();
            assert!(
                last < 2.0 * first + 1e-12,
                "error power grew: {first} -> {last}"
            );
        }
    }

    #[test]
    fn non_finite_input_gives_grid_values() {
        let mut dither = Dither::new(48_000.0);
        dither.set(&DitherSettings {
            mode: DitherMode::Bits16,
            noise_shaping: true,
        });
        let mut l = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.5];
        let mut r = l;
        dither.process(&mut l, &mut r);
        for v in l.iter().chain(r.iter()) {
            assert!(v.is_finite());
            assert!(v.abs() < 0.51);
        }
    }
}
