//! Tonal match: the EQ that moves a mix's tonal balance toward a reference's, for mastering
//! toward a reference offline (`fairmaster-render --target reference --match-eq AMOUNT`).
//!
//! Method (after Matchering 2, which divides the reference's 4096-point average spectrum by
//! the mix's, separately for mid and side, and smooths the ratio with LOWESS over about a third
//! of an octave):
//!
//! 1. Both programmes' long-term spectra come from [`super::tonal`]: 16384-point Hann STFT,
//!    frames more than 20 LU below the programme's integrated loudness dropped (silence,
//!    fades and breaks do not pull the curve), each normalised to its own loudness, read in
//!    1/6-octave bands. The difference `reference - mix` per band is what the match wants.
//! 2. The difference is smoothed with a box average over `smoothing_octaves` in log frequency
//!    (1/3 octave by default: three 1/6-octave bands), clamped to ±[`MAX_CORRECTION_DB`] so
//!    that a reference of another genre (or a broken file) cannot wreck a mix, and scaled by
//!    the amount (0–100 %). Only 30 Hz–16 kHz is matched: below, the bands hold too few STFT
//!    bins and too much room and arrangement; above, most masters' content is a lowpass
//!    decision, not balance.
//! 3. The chain's own EQ is a parametric EQ (two shelves and four bells, linear phase in
//!    mastering use), so the curve is realised by fitting band gains at fixed, overlapping
//!    frequencies ([`MATCH_BANDS`]) by Gauss–Newton least squares on the EQ's *exact* digital
//!    response ([`EqResponse`], the coefficients the chain runs). The matched bands replace the
//!    settings' shelves and bells (a preset's generic tone would otherwise stay on top of the
//!    match, and the master would be the reference plus that tone); the settings' low and high
//!    cuts are kept and the fit works around them. All bands act
//!    on both channels (mid and side alike): six bands are too few to split, and the mid
//!    carries the tonal balance; the side's differences are reported as width, not corrected.
//! 4. The rest of the chain colours the master too (a glue compressor and a limiter take
//!    more from a kick-heavy low end than from the mids), so the renderer measures its first
//!    master and corrects the curve once by what is still missing ([`refine_curve`]): one
//!    more target search, started from the drive already found.

use super::tonal::{sixth_centre_hz, TonalBalance, SIXTH_BANDS};
use crate::dsp::filters::eq::{BandChannels, BellBand, EqPath, EqSettings, ShelfBand, GAIN_DB};

/// The largest correction the match applies at any frequency, dB.
pub const MAX_CORRECTION_DB: f64 = 6.0;
/// Default smoothing of the difference curve, octaves (Matchering: about 1/3 octave).
pub const DEFAULT_SMOOTHING_OCTAVES: f64 = 1.0 / 3.0;
/// The matched frequency range, Hz (see the module docs).
pub const MATCH_LOW_HZ: f64 = 30.0;
pub const MATCH_HIGH_HZ: f64 = 16_000.0;

/// One band the fit uses: frequency and Q fixed, gain fitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchBand {
    pub freq_hz: f32,
    pub q: f32,
}

/// Low shelf, four bells, high shelf. The bells' Q of 0.8 spans about 1.7 octaves (RBJ
/// bandwidth), the spacing of their centres, so neighbouring bells overlap at about half gain
/// and together form smooth curves without ripple; the shelves take the extremes.
pub const MATCH_BANDS: [MatchBand; 6] = [
    MatchBand {
        freq_hz: 80.0,
        q: std::f32::consts::FRAC_1_SQRT_2,
    },
    MatchBand {
        freq_hz: 180.0,
        q: 0.8,
    },
    MatchBand {
        freq_hz: 600.0,
        q: 0.8,
    },
    MatchBand {
        freq_hz: 2_000.0,
        q: 0.8,
    },
    MatchBand {
        freq_hz: 5_500.0,
        q: 0.8,
    },
    MatchBand {
        freq_hz: 10_000.0,
        q: std::f32::consts::FRAC_1_SQRT_2,
    },
];

/// How much and how smoothly to match.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchOptions {
    /// 0 (no change) … 1 (the whole bounded difference).
    pub amount: f64,
    pub smoothing_octaves: f64,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            amount: 1.0,
            smoothing_octaves: DEFAULT_SMOOTHING_OCTAVES,
        }
    }
}

/// The wanted change per 1/6-octave band inside the matched range (dB, positive = boost).
#[derive(Clone, Debug, PartialEq)]
pub struct CorrectionCurve {
    pub centres_hz: Vec<f64>,
    pub correction_db: Vec<f64>,
}

/// Step 2 of the module docs: `amount × clamp(smooth(reference − mix))` over the matched
/// range. Bands either programme lacks (above its Nyquist frequency, or with no energy) are
/// left out.
pub fn correction_curve(
    mix: &TonalBalance,
    reference: &TonalBalance,
    options: MatchOptions,
) -> CorrectionCurve {
    let difference: Vec<Option<f64>> = (0..SIXTH_BANDS)
        .map(|i| {
            let (m, r) = (
                mix.sixth.get(i)?.as_ref()?,
                reference.sixth.get(i)?.as_ref()?,
            );
            let d = r.level_db - m.level_db;
            d.is_finite().then_some(d)
        })
        .collect();
    let amount = options.amount.clamp(0.0, 1.0);
    let mut curve = CorrectionCurve {
        centres_hz: Vec::new(),
        correction_db: Vec::new(),
    };
    for i in 0..SIXTH_BANDS {
        let centre = sixth_centre_hz(i);
        if !(MATCH_LOW_HZ..=MATCH_HIGH_HZ).contains(&centre) || difference[i].is_none() {
            continue;
        }
        let bands = (0..SIXTH_BANDS).map(|j| (sixth_centre_hz(j), difference[j]));
        // Band i itself has a value, so the mean exists.
        let smoothed = box_mean(centre, bands, options.smoothing_octaves).unwrap_or(0.0);
        curve.centres_hz.push(centre);
        curve
            .correction_db
            .push(amount * smoothed.clamp(-MAX_CORRECTION_DB, MAX_CORRECTION_DB));
    }
    curve
}

/// The second look (the module docs' step 4): the chain around the EQ (compressor, limiter,
/// stereo stage) colours the master too, so after a first render the curve is corrected by
/// what the master still lacks. Per band of `curve`: the level wanted, `mix + correction`, less
/// what the settings' cuts take away (they stay by design), minus the master's level, smoothed
/// like the first curve and added to it; the total stays within ±[`MAX_CORRECTION_DB`].
pub fn refine_curve(
    curve: &CorrectionCurve,
    mix: &TonalBalance,
    master: &TonalBalance,
    cuts: &EqSettings,
    sample_rate: f64,
    smoothing_octaves: f64,
) -> CorrectionCurve {
    let cuts = cuts_only(cuts).response(sample_rate);
    let level = |balance: &TonalBalance, f: f64| -> Option<f64> {
        (0..SIXTH_BANDS)
            .find(|&i| (sixth_centre_hz(i) / f - 1.0).abs() < 1e-9)
            .and_then(|i| balance.sixth.get(i).copied().flatten())
            .map(|b| b.level_db)
            .filter(|l| l.is_finite())
    };
    let shortfall: Vec<Option<f64>> = curve
        .centres_hz
        .iter()
        .zip(&curve.correction_db)
        .map(|(&f, &c)| {
            let wanted = level(mix, f)? + c + cuts.magnitude_db(f, EqPath::Mid);
            Some(wanted - level(master, f)?)
        })
        .collect();
    let correction_db = curve
        .centres_hz
        .iter()
        .zip(&curve.correction_db)
        .map(|(&f, &c)| {
            let bands = curve
                .centres_hz
                .iter()
                .copied()
                .zip(shortfall.iter().copied());
            let smoothed = box_mean(f, bands, smoothing_octaves).unwrap_or(0.0);
            (c + smoothed).clamp(-MAX_CORRECTION_DB, MAX_CORRECTION_DB)
        })
        .collect();
    CorrectionCurve {
        centres_hz: curve.centres_hz.clone(),
        correction_db,
    }
}

/// The smoothing of both curves: the mean of the values (`None`s skipped) whose frequency lies
/// within half of `smoothing_octaves` of `centre` on a log-frequency axis (a box window);
/// `None` when no value does.
fn box_mean(
    centre: f64,
    values: impl Iterator<Item = (f64, Option<f64>)>,
    smoothing_octaves: f64,
) -> Option<f64> {
    let half_width = 0.5 * smoothing_octaves.max(0.0);
    let (sum, count) = values
        .filter(|(f, _)| (f / centre).log2().abs() <= half_width + 1e-9)
        .filter_map(|(_, v)| v)
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (count > 0).then(|| sum / count as f64)
}

/// `base` with its shelves and bells off: only the cuts.
fn cuts_only(base: &EqSettings) -> EqSettings {
    let mut eq = *base;
    eq.low_shelf.enabled = false;
    eq.high_shelf.enabled = false;
    for bell in &mut eq.bells {
        bell.enabled = false;
    }
    eq
}

/// The fitted EQ and how closely it follows the wanted curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FittedEq {
    pub eq: EqSettings,
    /// Fitted band gains, dB, in [`MATCH_BANDS`] order.
    pub gains_db: [f32; 6],
    /// RMS and largest deviation of the EQ's change from the wanted curve, dB.
    pub rms_error_db: f64,
    pub max_error_db: f64,
}

fn with_gains(base: &EqSettings, gains: &[f64; 6]) -> EqSettings {
    let mut eq = *base;
    let shelf = |band: MatchBand, gain: f64| ShelfBand {
        enabled: true,
        freq_hz: band.freq_hz,
        gain_db: gain as f32,
        q: band.q,
        channels: BandChannels::Stereo,
    };
    eq.low_shelf = shelf(MATCH_BANDS[0], gains[0]);
    eq.high_shelf = shelf(MATCH_BANDS[5], gains[5]);
    for (k, bell) in eq.bells.iter_mut().enumerate() {
        let band = MATCH_BANDS[k + 1];
        *bell = BellBand {
            enabled: true,
            freq_hz: band.freq_hz,
            gain_db: gains[k + 1] as f32,
            q: band.q,
            channels: BandChannels::Stereo,
        };
    }
    eq
}

/// Gauss–Newton iterations of the fit (the response is nearly linear in the band gains, so a
/// few suffice; more change nothing at 0.001 dB).
const FIT_ITERATIONS: usize = 12;
/// Tikhonov damping: keeps the normal equations well conditioned where the curve gives a band
/// nothing to do (its gain then stays near 0 instead of trading off against a neighbour).
const FIT_DAMPING: f64 = 1e-3;

/// Step 3 of the module docs: the shelves and bells of `base` replaced by [`MATCH_BANDS`] whose
/// gains make the EQ's response (with `base`'s cuts) equal the cuts' response plus `curve` in
/// the least-squares sense (mid path).
pub fn fit_eq(base: &EqSettings, curve: &CorrectionCurve, sample_rate: f64) -> FittedEq {
    let cuts_only = cuts_only(base);
    let cuts = cuts_only.response(sample_rate);
    // Only frequencies below 0.45 fs: the matched range at 44.1 kHz and above.
    let points: Vec<(f64, f64)> = curve
        .centres_hz
        .iter()
        .zip(&curve.correction_db)
        .filter(|(f, _)| **f < 0.45 * sample_rate)
        .map(|(&f, &c)| (f, cuts.magnitude_db(f, EqPath::Mid) + c))
        .collect();
    let residuals = |gains: &[f64; 6]| -> Vec<f64> {
        let response = with_gains(&cuts_only, gains).response(sample_rate);
        points
            .iter()
            .map(|&(f, want)| response.magnitude_db(f, EqPath::Mid) - want)
            .collect()
    };
    let (lo, hi) = (f64::from(GAIN_DB.min), f64::from(GAIN_DB.max));
    let mut gains = [0.0f64; 6];
    if !points.is_empty() {
        for _ in 0..FIT_ITERATIONS {
            let r = residuals(&gains);
            // Numerical Jacobian: d residual / d gain, by a 0.01 dB forward step.
            let step = 0.01;
            let columns: Vec<Vec<f64>> = (0..6)
                .map(|k| {
                    let mut g = gains;
                    g[k] += step;
                    residuals(&g)
                        .iter()
                        .zip(&r)
                        .map(|(a, b)| (a - b) / step)
                        .collect()
                })
                .collect();
            let mut normal = [[0.0f64; 6]; 6];
            let mut rhs = [0.0f64; 6];
            for a in 0..6 {
                for b in 0..6 {
                    normal[a][b] = columns[a].iter().zip(&columns[b]).map(|(x, y)| x * y).sum();
                }
                normal[a][a] += FIT_DAMPING * points.len() as f64;
                rhs[a] = -columns[a].iter().zip(&r).map(|(x, y)| x * y).sum::<f64>();
            }
            let Some(delta) = solve6(normal, rhs) else {
                break;
            };
            for k in 0..6 {
                gains[k] = (gains[k] + delta[k]).clamp(lo, hi);
            }
        }
    }
    let r = residuals(&gains);
    let rms = (r.iter().map(|x| x * x).sum::<f64>() / r.len().max(1) as f64).sqrt();
    let max = r.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    FittedEq {
        eq: with_gains(&cuts_only, &gains),
        gains_db: gains.map(|g| g as f32),
        rms_error_db: rms,
        max_error_db: max,
    }
}

/// Gaussian elimination with partial pivoting; `None` for a singular system.
fn solve6(mut a: [[f64; 6]; 6], mut b: [f64; 6]) -> Option<[f64; 6]> {
    for col in 0..6 {
        let pivot = (col..6).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..6 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 6];
    for row in (0..6).rev() {
        let s: f64 = (row + 1..6).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tonal::SixthBand;

    fn balance(levels: impl Fn(f64) -> f64) -> TonalBalance {
        TonalBalance {
            integrated_lufs: -14.0,
            frames_used: 100,
            seconds_analysed: 30.0,
            sixth: (0..SIXTH_BANDS)
                .map(|i| {
                    let f = sixth_centre_hz(i);
                    Some(SixthBand {
                        centre_hz: f,
                        level_db: levels(f),
                        p10_db: levels(f) - 3.0,
                        p90_db: levels(f) + 3.0,
                    })
                })
                .collect(),
            third: Vec::new(),
        }
    }

    #[test]
    fn the_curve_is_the_bounded_scaled_difference() {
        let mix = balance(|_| -20.0);
        let reference = balance(|f| if f > 1_000.0 { -17.0 } else { -30.0 });
        let half = correction_curve(
            &mix,
            &reference,
            MatchOptions {
                amount: 0.5,
                smoothing_octaves: 0.0,
            },
        );
        for (f, c) in half.centres_hz.iter().zip(&half.correction_db) {
            let want = if *f > 1_000.0 { 1.5 } else { -3.0 }; // -10 dB clamped to -6, halved
            assert!((c - want).abs() < 1e-9, "{f} Hz: {c}");
        }
        assert!(half
            .centres_hz
            .iter()
            .all(|f| (30.0..=16_000.0).contains(f)));
    }

    #[test]
    fn smoothing_averages_a_third_of_an_octave() {
        // One band +6 dB: with 1/3-octave smoothing, it and each neighbour read 2 dB.
        let spike = sixth_centre_hz(30);
        let mix = balance(|_| 0.0);
        let reference = balance(|f| {
            if (f / spike - 1.0).abs() < 1e-9 {
                6.0
            } else {
                0.0
            }
        });
        let c = correction_curve(&mix, &reference, MatchOptions::default());
        let at = |f: f64| {
            c.centres_hz
                .iter()
                .position(|x| (x / f - 1.0).abs() < 1e-9)
                .map(|k| c.correction_db[k])
                .unwrap()
        };
        assert!((at(spike) - 2.0).abs() < 1e-9);
        assert!((at(sixth_centre_hz(29)) - 2.0).abs() < 1e-9);
        assert!((at(sixth_centre_hz(31)) - 2.0).abs() < 1e-9);
        assert!(at(sixth_centre_hz(32)).abs() < 1e-9);
    }

    #[test]
    fn a_smooth_tilt_is_fitted_within_half_a_db() {
        // A +-3 dB tilt over the range (1.5 dB per octave around 1 kHz, clamped).
        let tilt = |f: f64| (1.5 * (f / 1000.0).log2()).clamp(-3.0, 3.0);
        let curve = CorrectionCurve {
            centres_hz: (0..SIXTH_BANDS)
                .map(sixth_centre_hz)
                .filter(|f| (MATCH_LOW_HZ..=MATCH_HIGH_HZ).contains(f))
                .collect(),
            correction_db: Vec::new(),
        };
        let curve = CorrectionCurve {
            correction_db: curve.centres_hz.iter().map(|&f| tilt(f)).collect(),
            ..curve
        };
        let fit = fit_eq(&EqSettings::default(), &curve, 48_000.0);
        assert!(fit.max_error_db < 0.5, "{fit:?}");
        assert!(fit.rms_error_db < 0.25, "{fit:?}");
        // The fitted EQ, evaluated independently of the fit's residuals.
        let response = fit.eq.response(48_000.0);
        for (&f, &c) in curve.centres_hz.iter().zip(&curve.correction_db) {
            assert!(
                (response.magnitude_db(f, EqPath::Mid) - c).abs() < 0.5,
                "{f}"
            );
        }
    }

    #[test]
    fn the_match_replaces_shelves_and_bells_and_keeps_the_cuts() {
        let mut base = EqSettings::default();
        base.low_cut.enabled = true;
        base.bells[1].enabled = true;
        base.bells[1].gain_db = 4.0;
        let centres: Vec<f64> = (0..SIXTH_BANDS)
            .map(sixth_centre_hz)
            .filter(|f| (MATCH_LOW_HZ..=MATCH_HIGH_HZ).contains(f))
            .collect();
        let curve = CorrectionCurve {
            correction_db: vec![0.0; centres.len()],
            centres_hz: centres,
        };
        // No correction wanted: the bell's +4 dB is gone, the low cut stays and the bands do
        // not fight it (all gains near 0).
        let fit = fit_eq(&base, &curve, 44_100.0);
        assert!(fit.eq.low_cut.enabled);
        assert!(fit.gains_db.iter().all(|g| g.abs() < 0.05), "{fit:?}");
        assert!(fit.max_error_db < 0.05, "{fit:?}");
    }

    #[test]
    fn solves_a_linear_system() {
        let mut a = [[0.0; 6]; 6];
        for (i, row) in a.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if i == j {
                    4.0
                } else {
                    1.0 / (1.0 + (i + j) as f64)
                };
            }
        }
        let x = [1.0, -2.0, 3.0, 0.5, -0.25, 2.0];
        let b: [f64; 6] = std::array::from_fn(|i| (0..6).map(|j| a[i][j] * x[j]).sum());
        let got = solve6(a, b).unwrap();
        for k in 0..6 {
            assert!((got[k] - x[k]).abs() < 1e-12);
        }
    }
}
