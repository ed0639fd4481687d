//! Small numeric helpers shared by the DSP modules. Plain Rust, no framework types.

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
