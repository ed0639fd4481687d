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

/// The saturation's curves: unlike [`ClipCurve`] they are heard *below* full scale (the drive
/// pushes the programme into them), so each is a colour with its own measured harmonic
/// signature (H2-H7 of a 1 kHz sine at -6 dBFS driven 12 dB, `shaping::saturation` tests,
/// tabled in the README). Every curve has `f(0) = 0` and `f'(0) = 1`: quiet signals pass at
/// their level (the saturation divides the drive out again, `y = f(g·x)/g`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaturationCurve {
    /// Asymmetric, even-dominant: a tanh biased by [`TUBE_BIAS`], `(tanh(x+b) - tanh b)/sech² b`,
    /// the shape of a triode's grid-cathode transfer around its working point (Zölzer (ed.),
    /// "DAFX", 2nd ed. 2011, §4.3.2, tube simulation; Pakarinen & Yeh, "A Review of Digital
    /// Techniques for Modeling Vacuum-Tube Guitar Amplifiers", CMJ 33(2), 2009). Its Taylor
    /// series starts `x - tanh(b)·x²`: H2 from the first dB of drive, growing with level as a
    /// triode's does; the two halves saturate at different levels (+0.68 and -1.86), which keeps
    /// H2 the strongest harmonic when driven hard. The bias makes DC, which the saturation
    /// removes after the curve.
    Tube,
    /// Symmetric and soft, odd-dominant: `tanh`, the memoryless part of tape saturation (the
    /// magnetisation curve without its hysteresis; Zölzer, DAFX §4.3.3). Only odd harmonics,
    /// falling fast (tanh is analytic): H3, then H5 some 13 dB under it.
    #[default]
    Tape,
    /// The hard clip `clamp(x, -1, 1)`: odd harmonics falling only as 1/n² (the slope jumps),
    /// the brightest, most "digital" colour and the most aliasing without oversampling.
    Hard,
}

/// The Tube curve's bias `b` (in units of the curve's input): `tanh(0.5) = 0.46` of
/// second-order term, which keeps H2 above H3 up to +12 dB of drive at -6 dBFS.
pub const TUBE_BIAS: f32 = 0.5;

impl SaturationCurve {
    pub const ALL: [SaturationCurve; 3] = [
        SaturationCurve::Tube,
        SaturationCurve::Tape,
        SaturationCurve::Hard,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SaturationCurve::Tube => "Tube",
            SaturationCurve::Tape => "Tape",
            SaturationCurve::Hard => "Hard",
        }
    }

    /// True when the curve is odd-symmetric (no even harmonics, no DC).
    pub fn is_symmetric(self) -> bool {
        !matches!(self, SaturationCurve::Tube)
    }

    #[inline]
    pub fn shape(self, x: f32) -> f32 {
        match self {
            SaturationCurve::Tube => tube(x),
            SaturationCurve::Tape => tanh(x),
            SaturationCurve::Hard => hard(x),
        }
    }
}

/// The biased tanh of [`SaturationCurve::Tube`] scaled to unity slope at 0, written with the
/// addition theorem: `(tanh(x+b) - t)/(1 - t²) = tanh(x)/(1 + t·tanh(x))` with `t = tanh b`.
/// No bias is added to the signal, so quiet signals keep their full f32 precision (adding 0.5
/// first would round everything to multiples of 6e-8, a floor a low band's impulse response
/// tail falls into), and the slope at 0 is exactly 1.
#[inline]
pub fn tube(x: f32) -> f32 {
    let t = tanh(x);
    t / (1.0 + TUBE_T * t)
}

/// `tanh(TUBE_BIAS)` (0.462117157).
const TUBE_T: f32 = 0.462_117_16;

#[cfg(test)]
mod tests {

    #[test]
    fn saturation_curves_pass_quiet_signals_at_unity_and_stay_monotonic() {
        for curve in SaturationCurve::ALL {
            assert_eq!(curve.shape(0.0), 0.0, "{curve:?}");
            for x in [1e-4f32, -1e-4, 1e-3, -1e-3] {
                let gain = curve.shape(x) / x;
                assert!((gain - 1.0).abs() < 2e-3, "{curve:?} at {x}: {gain}");
            }
            let mut last = curve.shape(-20.0);
            for i in -2000..=2000 {
                let y = curve.shape(i as f32 * 0.01);
                assert!(y >= last, "{curve:?} not monotonic at {}", i as f32 * 0.01);
                last = y;
            }
        }
        let slope = (tube(1e-3) - tube(-1e-3)) / 2e-3;
        assert!((slope - 1.0).abs() < 1e-4, "tube slope {slope}");
        assert!((TUBE_T - TUBE_BIAS.tanh()).abs() < 1e-7);
        for i in -300..=300 {
            // The addition-theorem form is the biased tanh it documents.
            let x = i as f64 * 0.01;
            let t = f64::from(TUBE_BIAS).tanh();
            let biased = ((x + f64::from(TUBE_BIAS)).tanh() - t) / (1.0 - t * t);
            assert!((f64::from(tube(x as f32)) - biased).abs() < 2e-4, "{x}");
        }
        // The asymmetric ceilings of the biased tanh.
        assert!((tube(20.0) - 0.684).abs() < 0.01, "{}", tube(20.0));
        assert!((tube(-20.0) + 1.862).abs() < 0.01, "{}", tube(-20.0));
    }
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
