//! Tonal match: the curve that moves a mix's tonal balance toward a reference's, for the mid
//! and the side, realised by the match EQ (`dsp::filters::match_curve`, inside the EQ's
//! linear-phase FIR): offline by `fairmaster-render --match-eq AMOUNT [--match-width AMOUNT]`,
//! in the plugin by the reference panel's "Match to reference" action.
//!
//! Method (after Matchering 2, which divides the reference's average spectrum by the mix's,
//! separately for mid and side, smooths the ratio over about a third of an octave and applies
//! it as a long FIR; issue 28 measured that six parametric bands fitted to the same curve
//! cannot follow it: at 200–250 Hz and 8–10 kHz they left most of the difference):
//!
//! 1. Both programmes' long-term spectra come from [`super::tonal`]: 16384-point Hann STFT,
//!    frames more than 20 LU below the programme's integrated loudness dropped, each programme
//!    normalised to its own loudness, read in 1/6-octave bands for the mid `(L+R)/2` and the
//!    side `(L−R)/2`. [`MatchDifference::measure`] keeps `reference − mix` per band for the mid,
//!    and for the side *relative to the mid* (the change of the side/mid ratio: the width).
//!    The mid difference's mean over the measured bands is removed: each programme is
//!    normalised to its own loudness, so a constant is only gain (the loudness target sets
//!    it), and centring it keeps the bound for the shape (a reference with a +15 dB air shelf
//!    reads, after normalisation, as −12 dB of lows and +3 dB of air; centred, as about −6 and
//!    +9, so a ±6 dB bound takes half of each instead of all of the air and half the lows).
//! 2. [`MatchDifference::curve`] shapes it: a box average over `smoothing_octaves` in log
//!    frequency (1/3 octave by default: three 1/6-octave bands), clamped to ±`bound_db`
//!    (default [`DEFAULT_BOUND_DB`]; the bands that hit it are reported), its slope bounded to
//!    [`MAX_STEP_DB`] per 1/6 octave (36 dB/octave: steeper than any tonal difference between two records, gentle enough for the FIR to follow without ringing)
//!    and scaled by the amount, so a lower amount moves exactly proportionally. Only
//!    [`MATCH_LOW_HZ`]–[`MATCH_HIGH_HZ`] is measured; outside it the curve holds its edge
//!    values (the FIR's 3.9 Hz bins cannot resolve 1/6 octave lower down, and above 16 kHz
//!    most masters' content is a lowpass decision, not balance).
//! 3. The side's curve is the mid's plus the width term (`width amount × shaped side/mid
//!    difference`): one owner for the side level per band, so a width match never stacks on
//!    a side curve. `--match-width 0` keeps the mix's width, band by band.
//! 4. The rest of the chain colours the master too (a glue compressor and a limiter take more
//!    from a kick-heavy low end than from the mids), so the renderer measures its first master
//!    and corrects the curve once by what is still missing ([`refine`]).
//!
//! Everything here works on fixed arrays and allocates nothing, so the plugin can shape a
//! stored difference into a curve while it reads its parameters.

use super::tonal::{TonalBalance, SIXTH_BANDS};
use crate::dsp::filters::eq::{EqPath, EqResponse};
use crate::dsp::filters::match_curve::{match_point_hz, MatchCurve, MATCH_POINTS};

/// Default bound of the correction at any frequency, dB (configurable: `--match-bound`).
pub const DEFAULT_BOUND_DB: f64 = 12.0;
/// The largest bound the settings accept, dB.
pub const MAX_BOUND_DB: f64 = 24.0;
/// Default smoothing of the difference curve, octaves (Matchering: about 1/3 octave).
pub const DEFAULT_SMOOTHING_OCTAVES: f64 = 1.0 / 3.0;
/// The largest change of the curve between neighbouring 1/6-octave points, dB (36 dB/octave).
pub const MAX_STEP_DB: f64 = 6.0;
/// The measured frequency range, Hz (see the module docs).
pub const MATCH_LOW_HZ: f64 = 30.0;
pub const MATCH_HIGH_HZ: f64 = 16_000.0;

/// How much and how smoothly to match.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchOptions {
    /// 0 (no change) … 1 (the whole bounded difference), for the tone (mid, and the side with
    /// it).
    pub amount: f64,
    /// 0 (keep the mix's side/mid ratio) … 1 (the reference's), per band.
    pub width_amount: f64,
    pub smoothing_octaves: f64,
    /// The largest correction at any frequency, dB.
    pub bound_db: f64,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            amount: 1.0,
            width_amount: 1.0,
            smoothing_octaves: DEFAULT_SMOOTHING_OCTAVES,
            bound_db: DEFAULT_BOUND_DB,
        }
    }
}

/// The measured difference `reference − mix` per 1/6-octave point, dB: the mid's, and the
/// side/mid ratio's. NaN where it was not measured (outside the matched range, a band either
/// programme lacks).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchDifference {
    pub mid_db: [f32; MATCH_POINTS],
    pub width_db: [f32; MATCH_POINTS],
}

impl Default for MatchDifference {
    fn default() -> Self {
        Self::NONE
    }
}

/// The shaped curve and where the bound held it back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShapedMatch {
    pub curve: MatchCurve,
    /// Points whose correction (mid or side) the bound clamped.
    pub at_bound: [bool; MATCH_POINTS],
}

impl ShapedMatch {
    /// Centre frequencies of the points the bound clamped, Hz.
    pub fn bands_at_bound_hz(&self) -> Vec<f64> {
        (0..MATCH_POINTS)
            .filter(|&i| self.at_bound[i])
            .map(match_point_hz)
            .collect()
    }
}

impl MatchDifference {
    /// Nothing measured: shapes to a flat curve.
    pub const NONE: Self = Self {
        mid_db: [f32::NAN; MATCH_POINTS],
        width_db: [f32::NAN; MATCH_POINTS],
    };

    /// Step 1 of the module docs.
    pub fn measure(mix: &TonalBalance, reference: &TonalBalance) -> Self {
        let mut d = Self::NONE;
        for i in 0..SIXTH_BANDS.min(MATCH_POINTS) {
            if !(MATCH_LOW_HZ..=MATCH_HIGH_HZ).contains(&match_point_hz(i)) {
                continue;
            }
            let (Some(Some(m)), Some(Some(r))) = (mix.sixth.get(i), reference.sixth.get(i)) else {
                continue;
            };
            let mid = r.mid_db - m.mid_db;
            if mid.is_finite() && m.mid_db > -120.0 && r.mid_db > -120.0 {
                d.mid_db[i] = mid as f32;
                // Side/mid ratio change; a (near) mono programme has no side to match.
                let width = (r.side_db - r.mid_db) - (m.side_db - m.mid_db);
                if width.is_finite() && m.side_db > -120.0 && r.side_db > -120.0 {
                    d.width_db[i] = width as f32;
                }
            }
        }
        remove_mean(&mut d.mid_db);
        d
    }

    /// True when no point was measured.
    pub fn is_empty(&self) -> bool {
        self.mid_db.iter().all(|v| !v.is_finite())
    }

    /// Steps 2 and 3 of the module docs. Allocation-free.
    pub fn curve(&self, options: &MatchOptions) -> ShapedMatch {
        let bound = options.bound_db.clamp(0.0, MAX_BOUND_DB);
        let (mid, mid_bound) = shape(&self.mid_db, options.smoothing_octaves, bound);
        let (width, width_bound) = shape(&self.width_db, options.smoothing_octaves, bound);
        let amount = options.amount.clamp(0.0, 1.0);
        let width_amount = options.width_amount.clamp(0.0, 1.0);
        let mut shaped = ShapedMatch {
            curve: MatchCurve::FLAT,
            at_bound: [false; MATCH_POINTS],
        };
        for i in 0..MATCH_POINTS {
            let m = amount * mid[i];
            let s = m + width_amount * width[i];
            shaped.curve.mid_db[i] = m as f32;
            shaped.curve.side_db[i] = s.clamp(-bound, bound) as f32;
            shaped.at_bound[i] = (amount > 0.0 && mid_bound[i])
                || (width_amount > 0.0 && width_bound[i])
                || s.abs() > bound;
        }
        shaped
    }
}

/// Smooth, bound, slope-limit and fill one measured array (unscaled): the value per point and
/// whether the bound clamped it.
fn shape(
    values: &[f32; MATCH_POINTS],
    smoothing_octaves: f64,
    bound: f64,
) -> ([f64; MATCH_POINTS], [bool; MATCH_POINTS]) {
    // The points are exactly 1/6 octave apart: the box spans `reach` points each side.
    let reach = (3.0 * smoothing_octaves.clamp(0.0, 2.0) + 1e-9).floor() as usize;
    let mut out = [f64::NAN; MATCH_POINTS];
    let mut clamped = [false; MATCH_POINTS];
    for i in 0..MATCH_POINTS {
        if !values[i].is_finite() {
            continue;
        }
        let window = &values[i.saturating_sub(reach)..(i + reach + 1).min(MATCH_POINTS)];
        let (sum, count) = window
            .iter()
            .filter(|v| v.is_finite())
            .fold((0.0f64, 0usize), |(s, n), &v| (s + f64::from(v), n + 1));
        let smoothed = sum / count as f64; // point i itself counts
        clamped[i] = smoothed.abs() > bound;
        out[i] = smoothed.clamp(-bound, bound);
    }
    // Points not measured hold the nearest measured value (edges); interior gaps interpolate.
    fill_gaps(&mut out);
    // Slope bound: two passes, each pulling a point within MAX_STEP_DB of its neighbour
    // toward 0 dB (the smaller correction wins, so the limit never invents a boost).
    for _ in 0..2 {
        for i in 1..MATCH_POINTS {
            limit_step(&mut out, i - 1, i);
        }
        for i in (1..MATCH_POINTS).rev() {
            limit_step(&mut out, i, i - 1);
        }
    }
    (out, clamped)
}

/// Pulls `v[to]` toward 0 until it is within [`MAX_STEP_DB`] of `v[from]`, or pulls `v[from]`
/// when that is the larger correction.
fn limit_step(v: &mut [f64; MATCH_POINTS], from: usize, to: usize) {
    let step = v[to] - v[from];
    if step.abs() <= MAX_STEP_DB {
        return;
    }
    if v[to].abs() >= v[from].abs() {
        v[to] = v[from] + MAX_STEP_DB.copysign(step);
    } else {
        v[from] = v[to] - MAX_STEP_DB.copysign(step);
    }
}

/// NaN points: before the first and after the last finite value, that value; between two,
/// linear interpolation over the points; all NaN gives all 0.
fn fill_gaps(v: &mut [f64; MATCH_POINTS]) {
    let Some(first) = v.iter().position(|x| x.is_finite()) else {
        *v = [0.0; MATCH_POINTS];
        return;
    };
    let last = v.iter().rposition(|x| x.is_finite()).unwrap_or(first);
    for i in 0..first {
        v[i] = v[first];
    }
    for i in last + 1..MATCH_POINTS {
        v[i] = v[last];
    }
    let mut i = first;
    while i < last {
        let next = (i + 1..=last).find(|&j| v[j].is_finite()).unwrap_or(last);
        for k in i + 1..next {
            let t = (k - i) as f64 / (next - i) as f64;
            v[k] = v[i] + t * (v[next] - v[i]);
        }
        i = next;
    }
}

/// Step 4 of the module docs: after a first render with `applied`, what the master still
/// lacks per point (for mid and side: the level wanted, `mix + applied + the rest of the EQ`,
/// minus the master's, its mean over the matched range removed, since each programme is
/// normalised to its own loudness), shaped like the first curve (smoothing, bound, slope;
/// at full amount: the first pass already scaled) and added to `applied`.
pub fn refine(
    applied: &MatchCurve,
    mix: &TonalBalance,
    master: &TonalBalance,
    rest_of_eq: &EqResponse,
    options: &MatchOptions,
) -> ShapedMatch {
    let level = |b: &TonalBalance, i: usize, path: EqPath| -> Option<f64> {
        let band = b.sixth.get(i)?.as_ref()?;
        let l = match path {
            EqPath::Mid => band.mid_db,
            EqPath::Side => band.side_db,
        };
        (l.is_finite() && l > -120.0).then_some(l)
    };
    let shortfall = |path: EqPath, curve: &[f32; MATCH_POINTS]| {
        let mut s = [f32::NAN; MATCH_POINTS];
        for i in 0..MATCH_POINTS.min(SIXTH_BANDS) {
            let f = match_point_hz(i);
            if !(MATCH_LOW_HZ..=MATCH_HIGH_HZ).contains(&f) {
                continue;
            }
            if let (Some(m), Some(out)) = (level(mix, i, path), level(master, i, path)) {
                let wanted = m + f64::from(curve[i]) + rest_of_eq.magnitude_db(f, path);
                s[i] = (wanted - out) as f32;
            }
        }
        remove_mean(&mut s);
        s
    };
    let mid_shortfall = shortfall(EqPath::Mid, &applied.mid_db);
    let side_shortfall = shortfall(EqPath::Side, &applied.side_db);
    let bound = options.bound_db.clamp(0.0, MAX_BOUND_DB);
    let (mid_fix, _) = shape(&mid_shortfall, options.smoothing_octaves, bound);
    let (side_fix, _) = shape(&side_shortfall, options.smoothing_octaves, bound);
    let mut refined = ShapedMatch {
        curve: *applied,
        at_bound: [false; MATCH_POINTS],
    };
    for i in 0..MATCH_POINTS {
        let m = f64::from(applied.mid_db[i]) + mid_fix[i];
        let s = f64::from(applied.side_db[i]) + side_fix[i];
        refined.at_bound[i] = m.abs() > bound || s.abs() > bound;
        refined.curve.mid_db[i] = m.clamp(-bound, bound) as f32;
        refined.curve.side_db[i] = s.clamp(-bound, bound) as f32;
    }
    refined
}

fn remove_mean(v: &mut [f32; MATCH_POINTS]) {
    let (sum, n) = v
        .iter()
        .filter(|x| x.is_finite())
        .fold((0.0f64, 0usize), |(s, n), &x| (s + f64::from(x), n + 1));
    if n > 0 {
        let mean = (sum / n as f64) as f32;
        for x in v.iter_mut().filter(|x| x.is_finite()) {
            *x -= mean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tonal::SixthBand;
    use crate::dsp::filters::eq::EqSettings;

    fn balance(mid: impl Fn(f64) -> f64, side: impl Fn(f64) -> f64) -> TonalBalance {
        TonalBalance {
            integrated_lufs: -14.0,
            frames_used: 100,
            seconds_analysed: 30.0,
            sixth: (0..SIXTH_BANDS)
                .map(|i| {
                    let f = match_point_hz(i);
                    Some(SixthBand {
                        centre_hz: f,
                        level_db: mid(f),
                        p10_db: mid(f) - 3.0,
                        p90_db: mid(f) + 3.0,
                        mid_db: mid(f),
                        side_db: side(f),
                    })
                })
                .collect(),
            third: Vec::new(),
        }
    }

    fn options(amount: f64, width: f64, smoothing: f64) -> MatchOptions {
        MatchOptions {
            amount,
            width_amount: width,
            smoothing_octaves: smoothing,
            bound_db: DEFAULT_BOUND_DB,
        }
    }

    #[test]
    fn the_curve_is_the_bounded_scaled_difference_and_moves_proportionally() {
        // A smooth tilt well inside the slope bound, +-15 dB at the ends (bound 12).
        let tilt = |f: f64| (3.0 * (f / 1000.0).log2()).clamp(-15.0, 15.0);
        let mix = balance(|_| -20.0, |_| -30.0);
        let reference = balance(|f| -20.0 + tilt(f), |f| -30.0 + tilt(f));
        let d = MatchDifference::measure(&mix, &reference);
        let full = d.curve(&options(1.0, 1.0, 0.0));
        let half = d.curve(&options(0.5, 0.5, 0.0));
        let measured = |f: f64| (MATCH_LOW_HZ..=MATCH_HIGH_HZ).contains(&f);
        let first = (0..MATCH_POINTS)
            .find(|&i| measured(match_point_hz(i)))
            .unwrap();
        let last = (0..MATCH_POINTS)
            .rfind(|&i| measured(match_point_hz(i)))
            .unwrap();
        // The mid difference is centred (its mean over the measured points removed).
        let mean = (first..=last).map(|i| tilt(match_point_hz(i))).sum::<f64>()
            / (last - first + 1) as f64;
        let centred = |f: f64| tilt(f) - mean;
        for i in 0..MATCH_POINTS {
            let f = match_point_hz(i);
            let want = if i < first {
                centred(match_point_hz(first)).clamp(-12.0, 12.0)
            } else if i > last {
                centred(match_point_hz(last)).clamp(-12.0, 12.0)
            } else {
                centred(f).clamp(-12.0, 12.0)
            };
            assert!((f64::from(full.curve.mid_db[i]) - want).abs() < 1e-4, "{f}");
            // Same width in both: the side follows the mid.
            assert_eq!(full.curve.side_db[i], full.curve.mid_db[i]);
            assert!(
                (f64::from(half.curve.mid_db[i]) - 0.5 * want).abs() < 1e-4,
                "{f}"
            );
            assert_eq!(
                full.at_bound[i],
                centred(f).abs() > 12.0 && (30.0..=16e3).contains(&f)
            );
        }
        assert!(!full.bands_at_bound_hz().is_empty());
    }

    #[test]
    fn the_width_term_owns_the_side_and_can_be_left_out() {
        // The reference has 4 dB more side (relative to its mid) everywhere, same tone.
        let mix = balance(|_| -20.0, |_| -30.0);
        let reference = balance(|_| -20.0, |_| -26.0);
        let d = MatchDifference::measure(&mix, &reference);
        let with = d.curve(&options(1.0, 1.0, 1.0 / 3.0));
        let without = d.curve(&options(1.0, 0.0, 1.0 / 3.0));
        let half = d.curve(&options(1.0, 0.5, 1.0 / 3.0));
        for i in 0..MATCH_POINTS {
            assert!(with.curve.mid_db[i].abs() < 1e-5);
            assert!((with.curve.side_db[i] - 4.0).abs() < 1e-5);
            assert!(without.curve.side_db[i].abs() < 1e-5);
            assert!((half.curve.side_db[i] - 2.0).abs() < 1e-5);
        }
    }

    #[test]
    fn smoothing_averages_a_third_of_an_octave_and_the_slope_is_bounded() {
        let spike = match_point_hz(30);
        let mix = balance(|_| 0.0, |_| -10.0);
        let at_spike = |f: f64| {
            if (f / spike - 1.0).abs() < 1e-9 {
                9.0
            } else {
                0.0
            }
        };
        let reference = balance(at_spike, |f| at_spike(f) - 10.0);
        let d = MatchDifference::measure(&mix, &reference);
        let c = d.curve(&options(1.0, 1.0, 1.0 / 3.0)).curve;
        // The centring spreads the spike's 9 dB over the measured points.
        let measured = (0..MATCH_POINTS)
            .filter(|&i| (MATCH_LOW_HZ..=MATCH_HIGH_HZ).contains(&match_point_hz(i)))
            .count();
        let offset = (9.0 / measured as f64) as f32;
        // One band +9 dB: with 1/3-octave smoothing, it and each neighbour read 3 dB.
        for i in 29..=31 {
            assert!(
                (c.mid_db[i] - (3.0 - offset)).abs() < 1e-5,
                "{i}: {}",
                c.mid_db[i]
            );
        }
        assert!((c.mid_db[32] + offset).abs() < 1e-5);
        // Unsmoothed, the 9 dB step is more than the slope bound: pulled to 6 dB.
        let raw = d.curve(&options(1.0, 1.0, 0.0)).curve;
        assert!(
            (raw.mid_db[30] - (6.0 - offset)).abs() < 1e-5,
            "{}",
            raw.mid_db[30]
        );
        for i in 1..MATCH_POINTS {
            assert!(f64::from((raw.mid_db[i] - raw.mid_db[i - 1]).abs()) <= MAX_STEP_DB + 1e-5);
        }
    }

    #[test]
    fn nothing_measured_is_flat() {
        let shaped = MatchDifference::NONE.curve(&MatchOptions::default());
        assert!(shaped.curve.is_flat());
        assert!(MatchDifference::NONE.is_empty());
    }

    #[test]
    fn the_refinement_adds_what_the_master_still_lacks() {
        // The chain took 2 dB of the master's highs that the first curve asked for.
        let mix = balance(|_| -20.0, |_| -30.0);
        let master = balance(
            |f| if f > 2_000.0 { -22.0 } else { -20.0 },
            |f| if f > 2_000.0 { -32.0 } else { -30.0 },
        );
        let rest = EqSettings::default().response(48_000.0);
        let refined = refine(
            &MatchCurve::FLAT,
            &mix,
            &master,
            &rest,
            &options(1.0, 1.0, 0.0),
        );
        // Mean removed: the highs' lack shows as a step of 2 dB between lows and highs.
        let lo = refined.curve.mid_db[20]; // ~ 140 Hz
        let hi = refined.curve.mid_db[50]; // ~ 7 kHz
        assert!(((hi - lo) - 2.0).abs() < 1e-4, "{lo} {hi}");
        assert!(((refined.curve.side_db[50] - refined.curve.side_db[20]) - 2.0).abs() < 1e-4);
    }
}
