//! The match EQ's place in the plugin's state: the measured difference to a reference (saved
//! with the session, not a host parameter: 120 numbers have no automation lane) and the four
//! host parameters that shape it into the applied curve (`analysis::tonal_match`): amount,
//! width, smoothing and bound. The curve is realised in the EQ's linear-phase FIR.

use std::sync::atomic::{AtomicU32, Ordering};

use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::tonal_match::{MatchDifference, MatchOptions, MAX_BOUND_DB};
use crate::dsp::filters::match_curve::{MatchCurve, MATCH_POINTS};
use crate::dsp::util::range::Range;
use crate::params::text::{gain_db_param, in_range, parse_number_with_unit, percent_param};
use crate::params::writer::ParamWriter;

/// How much of the tonal difference the match applies (0–1, shown in %).
pub const MATCH_AMOUNT: Range = Range::new(0.0, 1.0, 1.0, "");
/// How much of the side/mid difference per band the match applies (0–1, shown in %).
pub const MATCH_WIDTH: Range = Range::new(0.0, 1.0, 1.0, "");
/// Smoothing of the difference, octaves (default 1/3, Matchering's).
pub const MATCH_SMOOTHING_OCT: Range = Range::new(0.0, 1.0, 1.0 / 3.0, "oct");
/// The largest correction at any frequency, dB.
pub const MATCH_BOUND_DB: Range = Range::new(1.0, MAX_BOUND_DB as f32, 12.0, "dB");

#[derive(Params)]
pub struct MatchParams {
    #[id = "eq_match_amount"]
    pub amount: FloatParam,
    #[id = "eq_match_width"]
    pub width: FloatParam,
    #[id = "eq_match_smoothing"]
    pub smoothing: FloatParam,
    #[id = "eq_match_bound"]
    pub bound: FloatParam,
}

impl Default for MatchParams {
    fn default() -> Self {
        Self {
            amount: percent_param("Match Amount", MATCH_AMOUNT),
            width: percent_param("Match Width", MATCH_WIDTH),
            smoothing: FloatParam::new(
                "Match Smoothing",
                MATCH_SMOOTHING_OCT.default,
                FloatRange::Linear {
                    min: MATCH_SMOOTHING_OCT.min,
                    max: MATCH_SMOOTHING_OCT.max,
                },
            )
            .with_unit(" oct")
            .with_value_to_string(formatters::v2s_f32_rounded(2))
            .with_string_to_value(parse_number_with_unit(&[("oct", 1.0)])),
            bound: gain_db_param("Match Bound", MATCH_BOUND_DB),
        }
    }
}

impl MatchParams {
    /// The shaping the parameters ask for.
    pub fn options(&self) -> MatchOptions {
        MatchOptions {
            amount: f64::from(in_range(&self.amount)),
            width_amount: f64::from(in_range(&self.width)),
            smoothing_octaves: f64::from(in_range(&self.smoothing)),
            bound_db: f64::from(in_range(&self.bound)),
        }
    }

    /// Writes `options` (a preset, a snapshot, the offline renderer's settings).
    pub fn write(&self, options: &MatchOptions, w: &mut impl ParamWriter) {
        w.float(&self.amount, options.amount as f32);
        w.float(&self.width, options.width_amount as f32);
        w.float(&self.smoothing, options.smoothing_octaves as f32);
        w.float(&self.bound, options.bound_db as f32);
    }
}

/// The measured difference, saved with the session (`"eq_match"`), read by the audio thread
/// once per block: every value in an atomic, and a version counter bumped around each store so
/// that a read racing a store (the editor's match action) retries instead of mixing two
/// measurements.
pub struct PersistedMatchDifference {
    mid: [AtomicU32; MATCH_POINTS],
    width: [AtomicU32; MATCH_POINTS],
    /// Odd while a store is under way.
    version: AtomicU32,
}

impl Default for PersistedMatchDifference {
    fn default() -> Self {
        let nan = || std::array::from_fn(|_| AtomicU32::new(f32::NAN.to_bits()));
        Self {
            mid: nan(),
            width: nan(),
            version: AtomicU32::new(0),
        }
    }
}

impl PersistedMatchDifference {
    /// The stored difference (allocation-free, lock-free: the audio thread's read). A read
    /// that keeps racing stores gives the last consistent attempt's values anyway.
    pub fn get(&self) -> MatchDifference {
        let mut d = MatchDifference::NONE;
        for _ in 0..4 {
            let before = self.version.load(Ordering::Acquire);
            for i in 0..MATCH_POINTS {
                d.mid_db[i] = f32::from_bits(self.mid[i].load(Ordering::Relaxed));
                d.width_db[i] = f32::from_bits(self.width[i].load(Ordering::Relaxed));
            }
            std::sync::atomic::fence(Ordering::Acquire);
            if before.is_multiple_of(2) && self.version.load(Ordering::Relaxed) == before {
                break;
            }
        }
        d
    }

    /// Stores a new difference (the editor's match action, a state load).
    pub fn set(&self, d: &MatchDifference) {
        self.version.fetch_add(1, Ordering::AcqRel);
        for i in 0..MATCH_POINTS {
            self.mid[i].store(d.mid_db[i].to_bits(), Ordering::Relaxed);
            self.width[i].store(d.width_db[i].to_bits(), Ordering::Relaxed);
        }
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// The applied curve for `options` (flat when nothing was measured; allocation-free).
    pub fn curve(&self, options: &MatchOptions) -> MatchCurve {
        let d = self.get();
        if d.is_empty() {
            MatchCurve::FLAT
        } else {
            d.curve(options).curve
        }
    }
}

/// The saved form: dB per 1/6-octave point, `null` where nothing was measured (JSON has no NaN).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct MatchDifferenceState {
    pub mid_db: Vec<Option<f32>>,
    pub width_db: Vec<Option<f32>>,
}

impl MatchDifferenceState {
    pub fn from_difference(d: &MatchDifference) -> Self {
        let keep = |v: &[f32; MATCH_POINTS]| {
            v.iter()
                .map(|x| x.is_finite().then_some(*x))
                .collect::<Vec<_>>()
        };
        Self {
            mid_db: keep(&d.mid_db),
            width_db: keep(&d.width_db),
        }
    }

    /// Back to a difference: missing, extra or out-of-bounds values (a hand-edited or damaged
    /// state) become "not measured"; values are limited to ±60 dB.
    pub fn to_difference(&self) -> MatchDifference {
        let mut d = MatchDifference::NONE;
        let read = |from: &[Option<f32>], to: &mut [f32; MATCH_POINTS]| {
            for (slot, v) in to.iter_mut().zip(from) {
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    *slot = v.clamp(-60.0, 60.0);
                }
            }
        };
        read(&self.mid_db, &mut d.mid_db);
        read(&self.width_db, &mut d.width_db);
        d
    }
}

impl<'a> PersistentField<'a, MatchDifferenceState> for PersistedMatchDifference {
    fn set(&self, state: MatchDifferenceState) {
        PersistedMatchDifference::set(self, &state.to_difference());
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&MatchDifferenceState) -> R,
    {
        f(&MatchDifferenceState::from_difference(&self.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_round_trips_through_the_saved_form_and_bad_values_are_dropped() {
        let mut d = MatchDifference::NONE;
        d.mid_db[10] = 3.5;
        d.width_db[10] = -2.0;
        d.mid_db[40] = -7.25;
        let stored = PersistedMatchDifference::default();
        PersistedMatchDifference::set(&stored, &d);
        let state = stored.map(|s| s.clone());
        let json = serde_json::to_string(&state).unwrap();
        let back: MatchDifferenceState = serde_json::from_str(&json).unwrap();
        let again = back.to_difference();
        for i in 0..MATCH_POINTS {
            assert_eq!(again.mid_db[i].to_bits(), d.mid_db[i].to_bits(), "{i}");
            assert_eq!(again.width_db[i].to_bits(), d.width_db[i].to_bits(), "{i}");
        }
        // Damaged: too short, too long, absurd values.
        let damaged = MatchDifferenceState {
            mid_db: vec![Some(1e9), None, Some(2.0)],
            width_db: vec![Some(1.0); 200],
        };
        let d = damaged.to_difference();
        assert_eq!(d.mid_db[0], 60.0);
        assert!(d.mid_db[1].is_nan() && d.mid_db[3].is_nan());
        assert_eq!(d.mid_db[2], 2.0);
        assert!(d.width_db.iter().all(|&w| w == 1.0));
        // Nothing measured: a flat curve.
        assert!(PersistedMatchDifference::default()
            .curve(&MatchOptions::default())
            .is_flat());
    }
}
