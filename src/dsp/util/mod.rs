//! The small building blocks every DSP module shares, each once: [`range`] (ranges, defaults
//! and the non-finite rule), [`smoothing`] (one-pole, linear ramps), [`gain`], [`delay`],
//! [`bypass`] (click-free module switching), [`denormals`], [`designer_thread`] (kernel design
//! off the audio thread), [`simd`] (the one CPU-feature
//! check), [`resident`] (audio buffers mapped before the first `process()`), and below, the
//! numeric helpers (dB conversion, input conditioning, the sample-rate rule).

pub mod bypass;
pub mod delay;
pub mod denormals;
pub mod designer_thread;
pub mod gain;
pub mod range;
pub mod resident;
pub mod simd;
pub mod smoothing;

/// Lowest sample rate a module accepts; anything lower (or non-finite) is a broken host.
pub const MIN_SAMPLE_RATE: f32 = 1000.0;
/// What a module runs at when the host reports an unusable rate.
pub const FALLBACK_SAMPLE_RATE: f32 = 48_000.0;

/// The one rule for a sample rate handed to `reset`: a finite rate of at least
/// [`MIN_SAMPLE_RATE`] is used as it is, anything else becomes [`FALLBACK_SAMPLE_RATE`], so
/// coefficient design never divides by zero or builds an unstable filter.
#[inline]
pub fn usable_sample_rate(sample_rate: f32) -> f32 {
    if sample_rate.is_finite() && sample_rate >= MIN_SAMPLE_RATE {
        sample_rate
    } else {
        FALLBACK_SAMPLE_RATE
    }
}

/// One SplitMix64 step (Steele, Lea, Flood 2014): a tiny generator with well-mixed output,
/// used to seed the dither's xorshift state and to shuffle the listening pack's blind file.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Decibels to linear amplitude.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db * 0.05)
}

/// Linear amplitude to decibels; very small values floor at -240 dB instead of -inf.
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    20.0 * gain.abs().max(1e-12).log10()
}

/// Decibels to linear amplitude in double precision (filter design, analysis).
#[inline]
pub fn db_to_gain_f64(db: f64) -> f64 {
    10f64.powf(db * 0.05)
}

/// Linear amplitude to decibels in double precision.
#[inline]
pub fn gain_to_db_f64(gain: f64) -> f64 {
    20.0 * gain.abs().max(1e-30).log10()
}

/// Replaces NaN/Inf with 0 so one bad sample from the host cannot poison recursive filter
/// state; finite values pass unchanged.
#[inline]
pub fn sanitize(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// `max` for values known to be finite (sanitised audio): a plain compare and select, which
/// vectorises to one instruction, unlike `f32::max`'s NaN handling.
#[inline(always)]
pub fn finite_max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// `min` for values known to be finite, as [`finite_max`]: one compare and select, branch-free.
#[inline(always)]
pub fn finite_min(a: f32, b: f32) -> f32 {
    if b < a {
        b
    } else {
        a
    }
}

/// Largest |x| of finite samples. Eight independent lanes: a single running max is a serial
/// chain the compiler will not reorder for floats (with `f32::max`, a NaN-aware select per
/// sample: the limiter's quiet-chunk test cost 4 ns per frame that way, issue 26); per-lane
/// maxima vectorise.
#[inline(always)]
pub fn abs_peak(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut groups = values.chunks_exact(8);
    for group in &mut groups {
        for (lane, &v) in lanes.iter_mut().zip(group) {
            *lane = finite_max(*lane, v.abs());
        }
    }
    let tail = groups
        .remainder()
        .iter()
        .fold(0.0f32, |m, &v| finite_max(m, v.abs()));
    lanes.iter().fold(tail, |m, &v| finite_max(m, v))
}

/// Largest input magnitude the chain accepts: +60 dBFS. Float buses legitimately run a few
/// tens of dB over full scale; nothing musical comes near this. A larger host value (1e30,
/// `f32::MAX`) is a broken host or plug-in upstream; letting it in overflows the stages' f32
/// arithmetic (squared levels, FFT convolution) and the gains it would need (~1e-38) are below
/// the rounding of the limiter's gain average, so
/// the output came out at +128.9 dBTP (found by `tests/fuzz.rs`).
pub const MAX_INPUT_MAGNITUDE: f32 = 1000.0;

/// Conditions host input in place: NaN and ±Inf become 0 (as [`sanitize`]) and finite
/// values are clamped to ±[`MAX_INPUT_MAGNITUDE`]; everything within range passes bit for bit.
#[inline]
pub fn condition_input(samples: &mut [f32]) {
    for x in samples.iter_mut() {
        *x = sanitize(*x).clamp(-MAX_INPUT_MAGNITUDE, MAX_INPUT_MAGNITUDE);
    }
}

/// Flushes denormal-range values to zero. Recursive filters decaying towards silence would
/// otherwise spend many cycles on subnormal arithmetic on x86 without FTZ.
#[inline]
pub fn flush_denormal(x: f64) -> f64 {
    if x.abs() < 1e-30 {
        0.0
    } else {
        x
    }
}

/// One-pole smoothing coefficient for a time constant `tau_seconds` (time to reach 1 - 1/e).
#[inline]
pub fn one_pole_coeff(tau_seconds: f32, sample_rate: f32) -> f32 {
    if tau_seconds <= 0.0 {
        0.0
    } else {
        (-1.0 / (tau_seconds * sample_rate)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_input_zeroes_non_finite_clamps_huge_and_passes_the_rest_bit_for_bit() {
        let mut x = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e30,
            f32::MIN,
            MAX_INPUT_MAGNITUDE,
            -999.5,
            0.25,
            -0.0,
            1e-40,
        ];
        condition_input(&mut x);
        let want = [
            0.0,
            0.0,
            0.0,
            MAX_INPUT_MAGNITUDE,
            -MAX_INPUT_MAGNITUDE,
            MAX_INPUT_MAGNITUDE,
            -999.5,
            0.25,
            -0.0,
            1e-40,
        ];
        for (got, want) in x.iter().zip(want) {
            assert_eq!(got.to_bits(), want.to_bits(), "{got} vs {want}");
        }
    }
}
