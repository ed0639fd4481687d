//! Memoryless transfer curves, normalised so that the curve's limit (its "ceiling") is ±1.
//!
//! Every curve is odd-symmetric (`f(-x) = -f(x)`), so on a sine it makes only odd harmonics;
//! how fast they fall with order is set by the curve's smoothness (a curve with a
//! discontinuous k-th derivative makes harmonics falling as 1/n^(k+1); Smith, "Physical Audio
//! Signal Processing", "Soft Clipping"; Parker et al., "Reducing the Aliasing of Nonlinear
//! Waveshaping Using Continuous-Time Convolution", DAFx 2016). That is both their sound and
//! their aliasing: the hard curve's slope jumps (harmonics as 1/n²), the soft knee's curvature
//! jumps (1/n³), tanh is analytic (harmonics fall exponentially).

/// The clipper's curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClipCurve {
    /// `clamp(x, -1, 1)`: transparent below the ceiling, the most harmonics above it.
    Hard,
    /// Unity below [`SOFT_KNEE_START`], then a quadratic knee that meets the ceiling with zero
    /// slope at `2 - SOFT_KNEE_START`: continuous slope, so harmonics fall a decade faster than
    /// the hard clip's while the level below the knee is untouched.
    #[default]
    Soft,
    /// `tanh(x)`: analytic, rounds everything a little (-0.35 dB at half the ceiling), the
    /// gentlest highs.
    Tanh,
}

/// Where the soft curve's knee starts, as a fraction of the ceiling (-3.1 dB). The knee ends
/// at `2 - SOFT_KNEE_START` (+2.3 dB): a peak driven 2.3 dB over the ceiling lands on it.
pub const SOFT_KNEE_START: f32 = 0.7;

impl ClipCurve {
    pub const ALL: [ClipCurve; 3] = [ClipCurve::Hard, ClipCurve::Soft, ClipCurve::Tanh];

    pub fn name(self) -> &'static str {
        match self {
            ClipCurve::Hard => "Hard",
            ClipCurve::Soft => "Soft",
            ClipCurve::Tanh => "Tanh",
        }
    }

    /// Applies the curve in place.
    #[inline]
    pub fn apply(self, samples: &mut [f32]) {
        match self {
            ClipCurve::Hard => samples.iter_mut().for_each(|x| *x = hard(*x)),
            ClipCurve::Soft => samples.iter_mut().for_each(|x| *x = soft_knee(*x)),
            ClipCurve::Tanh => samples.iter_mut().for_each(|x| *x = tanh(*x)),
        }
    }

    #[inline]
    pub fn shape(self, x: f32) -> f32 {
        match self {
            ClipCurve::Hard => hard(x),
            ClipCurve::Soft => soft_knee(x),
            ClipCurve::Tanh => tanh(x),
        }
    }
}

/// Hard clip at ±1 (NaN stays NaN for the caller's sanitiser to see; `clamp` would keep it
/// too).
#[inline]
pub fn hard(x: f32) -> f32 {
    x.clamp(-1.0, 1.0)
}

/// The soft knee (see [`ClipCurve::Soft`]): `y = a + t - t²/(2w)` for `t = |x| - a` in the
/// knee of width `w = 2(1 - a)`, which gives `y = 1` and `y' = 0` at its end.
#[inline]
pub fn soft_knee(x: f32) -> f32 {
    const A: f32 = SOFT_KNEE_START;
    const W: f32 = 2.0 * (1.0 - A);
    let m = x.abs();
    let t = (m - A).clamp(0.0, W);
    let y = if m <= A { m } else { A + t - t * t / (2.0 * W) };
    y.copysign(x)
}

/// `tanh` by Lambert's continued fraction cut after the x⁹/x⁸ terms, held at its maximum
/// (x = ±5.697, where it reads 0.99995): within 5.1e-5 (-86 dB) of the true tanh everywhere,
/// monotonic, and no libm call (std's `tanhf` would be one per sample, and at 16x the clipper
/// evaluates it 32 times per stereo frame).
#[inline]
pub fn tanh(x: f32) -> f32 {
    let x = x.clamp(-TANH_HOLD, TANH_HOLD);
    let x2 = x * x;
    let num = x * (2_027_025.0 + x2 * (270_270.0 + x2 * (6_930.0 + x2 * 36.0)));
    let den = 2_027_025.0 + x2 * (945_945.0 + x2 * (51_975.0 + x2 * (630.0 + x2)));
    num / den
}

/// Where the rational [`tanh`] reaches its maximum; held beyond.
const TANH_HOLD: f32 = 5.697;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_odd_bounded_and_unity_at_low_level() {
        for curve in ClipCurve::ALL {
            for i in -400..=400 {
                let x = i as f32 * 0.01;
                let y = curve.shape(x);
                assert!(y.abs() <= 1.0, "{curve:?} {x}");
                assert_eq!(curve.shape(-x), -y, "{curve:?} not odd at {x}");
            }
            // Small signals pass at unity (tanh within its x³/3 term).
            assert!((curve.shape(0.01) - 0.01).abs() < 1e-6, "{curve:?}");
        }
        assert_eq!(soft_knee(0.69), 0.69);
        assert_eq!(soft_knee(1.3), 1.0);
        assert!((soft_knee(1.29) - 1.0).abs() < 1e-4);
        assert_eq!(hard(1.5), 1.0);
    }

    #[test]
    fn soft_knee_has_a_continuous_slope() {
        let slope = |x: f32| (soft_knee(x + 1e-3) - soft_knee(x - 1e-3)) / 2e-3;
        assert!((slope(SOFT_KNEE_START) - 1.0).abs() < 2e-3);
        assert!(slope(2.0 - SOFT_KNEE_START).abs() < 2e-3);
    }

    #[test]
    fn fast_tanh_matches_std() {
        let worst = (-12_000..=12_000)
            .map(|i| i as f32 * 1e-3)
            .map(|x| (tanh(x) - x.tanh()).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 6e-5, "worst {worst}");
    }
}
