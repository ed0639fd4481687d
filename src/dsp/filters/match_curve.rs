//! The match EQ's curve: an arbitrary smooth magnitude per 1/6 octave, one for the mid and one
//! for the side, realised inside the EQ's linear-phase FIR together with the parametric bands
//! (one convolver and one latency, not a second linear-phase filter stacked on the first; see
//! [`crate::dsp::filters::linear_phase::LinearPhaseKernels::for_eq`]).
//!
//! The curve is what the match *applies* (amount, smoothing and bounds already in it): how it
//! is measured and shaped from a mix and a reference is `analysis::tonal_match`'s job. Between
//! its points the curve is interpolated linearly in dB over log frequency; below the first and
//! above the last point it holds the edge value. Sixty points at 1/6 octave (the tonal
//! analysis' bands, 19.7 Hz–20.2 kHz) are finer than the 12287-tap FIR's resolution only below
//! about 50 Hz (its bins are 3.9 Hz apart at 48 kHz; 1/6 octave at 60 Hz is 7 Hz wide), which
//! is where the match is held flat by design anyway (see `analysis::tonal_match`).

use crate::dsp::filters::eq::EqPath;

/// Points of the curve: the 1/6-octave bands of the tonal analysis.
pub const MATCH_POINTS: usize = 60;

/// Centre of point `i`, Hz: `1 kHz · 2^((i − 33.5)/6)` (the geometric centre of the tonal
/// analysis' 1/6-octave band `i`, whose edges are `1 kHz · 2^((i − 34)/6)`).
pub fn match_point_hz(i: usize) -> f64 {
    1000.0 * 2f64.powf((i as f64 - 33.5) / 6.0)
}

/// The applied match: gain per point, dB, for the mid and the side. `Default` is flat.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchCurve {
    pub mid_db: [f32; MATCH_POINTS],
    pub side_db: [f32; MATCH_POINTS],
}

impl Default for MatchCurve {
    fn default() -> Self {
        Self::FLAT
    }
}

impl MatchCurve {
    pub const FLAT: Self = Self {
        mid_db: [0.0; MATCH_POINTS],
        side_db: [0.0; MATCH_POINTS],
    };

    /// True when the curve changes nothing (every point within 0.001 dB of 0).
    pub fn is_flat(&self) -> bool {
        self.mid_db
            .iter()
            .chain(&self.side_db)
            .all(|g| g.abs() < 1e-3 || !g.is_finite())
    }

    /// The curve's gain at `freq_hz` on `path`, dB (see the module docs). Non-finite points
    /// count as 0 dB.
    pub fn magnitude_db(&self, freq_hz: f64, path: EqPath) -> f64 {
        let points = match path {
            EqPath::Mid => &self.mid_db,
            EqPath::Side => &self.side_db,
        };
        let value = |i: usize| {
            let g = f64::from(points[i]);
            if g.is_finite() {
                g
            } else {
                0.0
            }
        };
        if freq_hz.is_nan() || freq_hz <= 0.0 {
            return value(0);
        }
        // Position in points: i + fraction.
        let position = 6.0 * (freq_hz / 1000.0).log2() + 33.5;
        if position <= 0.0 {
            return value(0);
        }
        let last = MATCH_POINTS - 1;
        if position >= last as f64 {
            return value(last);
        }
        let i = position.floor() as usize;
        let t = position - i as f64;
        value(i) + t * (value(i + 1) - value(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_the_tonal_analysis_bands() {
        for i in 0..MATCH_POINTS {
            let centre = crate::analysis::tonal::sixth_centre_hz(i);
            assert!((match_point_hz(i) / centre - 1.0).abs() < 1e-12, "{i}");
        }
        assert_eq!(MATCH_POINTS, crate::analysis::tonal::SIXTH_BANDS);
    }

    #[test]
    fn interpolates_in_log_frequency_and_holds_the_edges() {
        let mut curve = MatchCurve::FLAT;
        curve.mid_db[30] = 6.0;
        curve.side_db[59] = -3.0;
        let f30 = match_point_hz(30);
        let f31 = match_point_hz(31);
        assert!((curve.magnitude_db(f30, EqPath::Mid) - 6.0).abs() < 1e-9);
        // Half-way on a log axis: half the step.
        let between = (f30 * f31).sqrt();
        assert!((curve.magnitude_db(between, EqPath::Mid) - 3.0).abs() < 1e-9);
        assert!(curve.magnitude_db(between, EqPath::Side).abs() < 1e-12);
        assert!((curve.magnitude_db(22_000.0, EqPath::Side) + 3.0).abs() < 1e-9);
        assert!(curve.magnitude_db(5.0, EqPath::Mid).abs() < 1e-12);
        assert!(!curve.is_flat());
        assert!(MatchCurve::FLAT.is_flat());
        curve.mid_db[3] = f32::NAN;
        assert!(curve.magnitude_db(match_point_hz(3), EqPath::Mid).abs() < 1e-12);
    }
}
