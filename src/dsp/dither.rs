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

/// `1.5 * 2^52`: for `|v| < 2^51`, `(v + MAGIC) - MAGIC` is `v` rounded to the nearest
/// integer (ties to even) in two additions. `f64::round` is a libm call on the x86-64
/// baseline (no SSE4.1 `roundsd`) and sat on the error-feedback loop's critical path.
const ROUNDING_MAGIC: f64 = 6_755_399_441_055_744.0;
/// Input is clamped to +-this (full scale is 1) before quantising. Output is clamped to
/// `[-1, 1 - LSB]` anyway, so this changes no output value; it bounds every intermediate in
/// LSB units far below 2^51, which makes the magic-number rounding valid and the error
/// bounded (|e| <= 1.5 LSB) without a per-sample finiteness check.
const INPUT_LIMIT: f64 = 2.0;

/// xorshift128+ (Vigna 2017, "Further scramblings of Marsaglia's xorshift generators"),
/// one independent generator per channel, stepped together as 2-lane vectors. Shifts, xors
/// and one add (no 64-bit multiply), so both channels' generators map onto SSE2 integer
/// vectors; period 2^128 - 1 per channel, deterministic, ample quality for dither.
#[derive(Clone, Debug)]
struct StereoXorshift128Plus {
    /// `[left, right]` halves of each channel's 128-bit state.
    first: [u64; 2],
    second: [u64; 2],
}

/// SplitMix64 (`dsp::util::splitmix64`) expands a seed into well-mixed generator state, made
/// non-zero (the recommended seeding for the xorshift family).
fn splitmix64(state: &mut u64) -> u64 {
    crate::dsp::util::splitmix64(state) | 1
}

/// `2^52` as f64: `f64::from_bits(EXPONENT_2_52 | n) - 2^52 == n` exactly for `n < 2^52`, an
/// integer-to-float conversion made of vector-friendly bit operations.
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
const EXPONENT_2_52: u64 = 0x4330_0000_0000_0000;

impl StereoXorshift128Plus {
    fn new(left_seed: u64, right_seed: u64) -> Self {
        let (mut left, mut right) = (left_seed, right_seed);
        Self {
            first: [splitmix64(&mut left), splitmix64(&mut right)],
            second: [splitmix64(&mut left), splitmix64(&mut right)],
        }
    }

    #[inline(always)]
    fn next(&mut self) -> [u64; 2] {
        std::array::from_fn(|lane| {
            let mut s1 = self.first[lane];
            let s0 = self.second[lane];
            self.first[lane] = s0;
            s1 ^= s1 << 23;
            self.second[lane] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
            self.second[lane].wrapping_add(s0)
        })
    }

    /// TPDF values in LSB units, range (-1, 1), per channel: the sum of the two 32-bit
    /// halves of one draw (two independent uniforms), scaled by 2^-32, minus 1.
    #[inline(always)]
    fn tpdf(&mut self) -> Lanes {
        let bits = self.next();
        bits.map(|b| {
            let sum = (b >> 32) + (b & 0xFFFF_FFFF);
            (f64::from_bits(EXPONENT_2_52 | sum) - TWO_POW_52) * (1.0 / (1u64 << 32) as f64) - 1.0
        })
    }
}

/// Clamp written as two selects, which compile to plain `maxpd`/`minpd`: `f64::clamp`
/// asserts `lo <= hi` per call and `f64::max`/`min` add NaN fix-ups; the values here are
/// never NaN.
#[inline(always)]
fn clamp_select(value: f64, lo: f64, hi: f64) -> f64 {
    let value = if value > hi { hi } else { value };
    if value < lo {
        lo
    } else {
        value
    }
}

/// Replaces NaN/Inf by 0 like `util::sanitize`, but with a bit mask instead of a branch, so
/// the per-frame work stays branch-free and vectorisable.
#[inline(always)]
fn finite_or_zero(x: f32) -> f32 {
    let bits = x.to_bits();
    let finite = u32::from((bits & 0x7F80_0000) != 0x7F80_0000);
    f32::from_bits(bits & finite.wrapping_neg())
}

/// Both channels' values side by side, so the serial feedback pass runs on 2-lane vectors.
type Lanes = [f64; 2];

#[inline(always)]
fn lanes_mul(a: Lanes, b: Lanes) -> Lanes {
    [a[0] * b[0], a[1] * b[1]]
}

#[inline(always)]
fn lanes_add(a: Lanes, b: Lanes) -> Lanes {
    [a[0] + b[0], a[1] + b[1]]
}

#[inline(always)]
fn lanes_sub(a: Lanes, b: Lanes) -> Lanes {
    [a[0] - b[0], a[1] - b[1]]
}

/// `[newest, history[0], .., history[7]]`, written out element by element so the history
/// stays in registers (a `copy_within` becomes a memmove through the stack, which puts a
/// store-to-load forwarding delay on the feedback loop).
#[inline(always)]
fn shift_in(history: [Lanes; SHAPING_TAPS], newest: Lanes) -> [Lanes; SHAPING_TAPS] {
    [
        newest, history[0], history[1], history[2], history[3], history[4], history[5], history[6],
        history[7],
    ]
}

/// Stereo TPDF ditherer / word-length reducer with optional noise shaping.
pub struct Dither {
    settings: DitherSettings,
    coefficients: &'static [f64; SHAPING_TAPS],
    rng: StereoXorshift128Plus,
    /// Past total errors, newest first, in LSB units (|e| <= 1.5), `[left, right]` per tap.
    errors: [Lanes; SHAPING_TAPS],
    /// The two terms of the newest error, `errors[0] = last_steps - last_wanted`, kept apart
    /// for the short feedback chain (see [`Dither::process_frames`]).
    last_steps: Lanes,
    last_wanted: Lanes,
}

const LEFT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const RIGHT_SEED: u64 = 0xD1B5_4A32_D192_ED03;

impl Dither {
    pub fn new(sample_rate: f32) -> Self {
        let mut dither = Self {
            settings: DitherSettings::default(),
            coefficients: &F_WEIGHTED_44K,
            rng: StereoXorshift128Plus::new(LEFT_SEED, RIGHT_SEED),
            errors: [[0.0; 2]; SHAPING_TAPS],
            last_steps: [0.0; 2],
            last_wanted: [0.0; 2],
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
        self.rng = StereoXorshift128Plus::new(LEFT_SEED, RIGHT_SEED);
        self.clear_errors();
    }

    fn clear_errors(&mut self) {
        self.errors = [[0.0; 2]; SHAPING_TAPS];
        self.last_steps = [0.0; 2];
        self.last_wanted = [0.0; 2];
    }

    /// Realtime-safe. A word-length change clears the error history (it is in the old LSB's
    /// units); toggling shaping keeps it (it is always tracked).
    pub fn set(&mut self, settings: &DitherSettings) {
        if settings.mode != self.settings.mode {
            self.clear_errors();
        }
        self.settings = *settings;
    }

    /// Dithers and quantises in place. `Off` leaves the samples untouched (bit-exact).
    /// Slices should have equal length; if not, only the common length is processed.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let Some(bits) = self.settings.mode.bits() else {
            return;
        };
        let scale = (1u64 << (bits - 1)) as f64;
        if self.settings.noise_shaping {
            self.process_frames::<true>(left, right, scale);
        } else {
            self.process_frames::<false>(left, right, scale);
        }
    }

    /// Both channels in one loop as 2-lane vectors: their error-feedback chains are
    /// independent, and the random numbers and input/output conversions (throughput work)
    /// fill the gaps of the latency-bound feedback chain. Everything is in LSB units
    /// (`x * scale`), so the error needs no rescaling.
    ///
    /// Feedback: the quantiser input is `t[n] = x[n] + d[n] - sum_k c_k e[n-1-k]` with
    /// `e = steps - wanted` and `wanted = t - d`. The taps k >= 1 use errors known one
    /// sample earlier, and `c_0 e[n-1] = c_0 steps[n-1] - c_0 wanted[n-1]` where the second
    /// product is also computed off the chain, so the loop-carried chain is only
    /// `steps -> * c_0 -> - -> + MAGIC -> - MAGIC -> steps` (four operations).
    fn process_frames<const SHAPING: bool>(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        scale: f64,
    ) {
        let coefficients = self.coefficients.map(|c| [c; 2]);
        let inverse_scale = 1.0 / scale;
        let mut rng = self.rng.clone();
        let mut errors = self.errors;
        let mut last_steps = self.last_steps;
        let mut last_wanted = self.last_wanted;
        let frames = left.len().min(right.len());
        for (l, r) in left[..frames].iter_mut().zip(right[..frames].iter_mut()) {
            let dither = rng.tpdf();
            let input = [*l, *r]
                .map(|x| clamp_select(f64::from(finite_or_zero(x)), -INPUT_LIMIT, INPUT_LIMIT));
            let target = lanes_add(lanes_mul(input, [scale; 2]), dither);
            let quantiser_input = if SHAPING {
                let base = coefficients[1..]
                    .iter()
                    .zip(errors[1..].iter())
                    .fold(target, |sum, (&c, &e)| lanes_sub(sum, lanes_mul(c, e)));
                let base = lanes_add(base, lanes_mul(coefficients[0], last_wanted));
                lanes_sub(base, lanes_mul(coefficients[0], last_steps))
            } else {
                target
            };
            let wanted = lanes_sub(quantiser_input, dither);
            let steps = lanes_sub(
                lanes_add(quantiser_input, [ROUNDING_MAGIC; 2]),
                [ROUNDING_MAGIC; 2],
            );
            // The error is taken before the output clamp (see module docs). Tracked in both
            // modes, so switching shaping on continues from the real history.
            errors = shift_in(errors, lanes_sub(steps, wanted));
            last_steps = steps;
            last_wanted = wanted;
            let out = steps.map(|v| clamp_select(v, -scale, scale - 1.0) * inverse_scale);
            *l = out[0] as f32;
            *r = out[1] as f32;
        }
        self.rng = rng;
        self.errors = errors;
        self.last_steps = last_steps;
        self.last_wanted = last_wanted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const LSB16: f64 = 1.0 / 32768.0;

    fn sine(freq: f64, fs: f64, amp: f64, len: usize) -> Vec<f32> {
        crate::test_signals::sine_f64(len, freq, fs, amp, 0.0)
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
