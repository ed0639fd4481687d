//! The reference's listening path inside the A/B monitor: the fitted match gain, its safety
//! limiter, and the master's monitoring gains that go with it (as streamed; turned down when
//! the reference cannot meet the master).

use super::{AbSettings, MATCH_GATE_LUFS, MATCH_RANGE_DB};
use crate::chain::MAX_CHUNK;
use crate::dsp::dynamics::limiter::{Limiter, LimiterSettings};
use crate::dsp::meters::loudness_match::follow_offset;
use crate::dsp::util::db_to_gain;
use crate::reference::playback::{MatchMode, ReferenceLoudness};
use crate::reference::track::{fit_reference, SafetyLoudness};
use crate::targets::PLATFORMS;

/// Below this integrated/short-term loudness the reference match is held (silence, a fade).
const REFERENCE_GATE_LUFS: f32 = MATCH_GATE_LUFS;
/// The master's integrated loudness is re-read from its histogram this often (the reading
/// sums 10 000 bins; the match does not need it every chunk).
pub(super) const MASTER_READING_SECONDS: f32 = 0.1;

/// The reference's listening path: match gain, safety limiter (the same design as B's: the
/// reference is raised to the master's loudness, and the peaks that pushes over the master's
/// ceiling are held there, so every source shares one peak ceiling), and the master's
/// monitoring gains (as streamed; turned down when the reference cannot meet it).
///
/// The gain is fitted to the loudness the reference will be *heard* at through its safety
/// limiter, read from the limiting curve the loader measured (`track::SafetyCurve`,
/// `track::fit_reference`), not from the limiter's live loss: the make-up can then never feed
/// back on the limiter's work.
pub(super) struct ReferencePath {
    pub(super) sample_rate: f32,
    pub(super) safety: Limiter,
    pub(super) safety_latency: usize,
    pub(super) ceiling_db: f32,
    /// Smoothed match target (dB) and the linear gain applied at the end of the last chunk.
    pub(super) gain_db: f32,
    pub(super) applied_gain: f32,
    /// The last fit's limiting above headroom (dB), for the status.
    pub(super) safety_limiting_db: f32,
    pub(super) active: bool,
    /// Master readings, refreshed every [`MASTER_READING_SECONDS`].
    pub(super) master_integrated_lufs: f32,
    pub(super) master_true_peak_dbtp: f32,
    pub(super) frames_until_master_reading: usize,
    /// As-streamed gain of the master (dB, smoothed) and its applied linear value.
    pub(super) master_streamed_db: f32,
    pub(super) master_applied_gain: f32,
    /// The master's monitoring turn-down when the reference cannot be raised to it (dB >= 0,
    /// smoothed, and its target): set while the reference plays, kept while it does not, so
    /// switching between them stays matched.
    pub(super) master_down_db: f32,
    pub(super) master_down_target_db: f32,
    /// Frames until the next [`AbMonitor::observe_reference`] while the reference is not heard.
    pub(super) frames_until_fit: usize,
}

/// A fitted gain for the reference, and the master's turn-down that goes with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ReferenceTarget {
    pub(super) gain_db: f32,
    pub(super) safety_limiting_db: f32,
    pub(super) master_down_db: f32,
}

impl ReferencePath {
    pub(super) fn new() -> Self {
        Self {
            sample_rate: 48_000.0,
            safety: Limiter::new(48_000.0),
            safety_latency: 0,
            ceiling_db: -1.0,
            gain_db: 0.0,
            applied_gain: 1.0,
            safety_limiting_db: 0.0,
            active: false,
            master_integrated_lufs: f32::NEG_INFINITY,
            master_true_peak_dbtp: f32::NEG_INFINITY,
            frames_until_master_reading: 0,
            master_streamed_db: 0.0,
            master_applied_gain: 1.0,
            master_down_db: 0.0,
            master_down_target_db: 0.0,
            frames_until_fit: 0,
        }
    }

    pub(super) fn reset(&mut self, sample_rate: f32, ceiling_db: f32) {
        self.sample_rate = sample_rate;
        self.safety.reset(sample_rate);
        self.set_ceiling(ceiling_db);
        self.safety.clear();
        self.safety_latency = self.safety.latency_samples() as usize;
        self.gain_db = 0.0;
        self.applied_gain = 1.0;
        self.safety_limiting_db = 0.0;
        self.active = false;
        self.master_integrated_lufs = f32::NEG_INFINITY;
        self.master_true_peak_dbtp = f32::NEG_INFINITY;
        self.frames_until_master_reading = 0;
        self.master_streamed_db = 0.0;
        self.master_applied_gain = 1.0;
        self.master_down_db = 0.0;
        self.master_down_target_db = 0.0;
        self.frames_until_fit = 0;
    }

    pub(super) fn set_ceiling(&mut self, ceiling_db: f32) {
        self.ceiling_db = ceiling_db;
        self.safety.set(&LimiterSettings::safety(ceiling_db, true));
    }

    /// The match target for the reference (before smoothing), or `None` to hold.
    pub(super) fn target_db(
        &self,
        settings: &AbSettings,
        loudness: &ReferenceLoudness,
        master_short_term: f32,
    ) -> Option<ReferenceTarget> {
        let gated = |x: f32| x.is_finite() && x > REFERENCE_GATE_LUFS;
        let fit = |wanted: f32, raw: f32, limited: Option<&SafetyLoudness>| {
            if !(gated(wanted) && gated(raw)) {
                return None;
            }
            let fit = fit_reference(
                wanted + loudness.trim_db,
                raw,
                limited,
                loudness.track_true_peak_dbtp,
                self.ceiling_db,
            )?;
            Some(ReferenceTarget {
                gain_db: fit.gain_db.clamp(-MATCH_RANGE_DB, MATCH_RANGE_DB),
                safety_limiting_db: fit.safety_limiting_db,
                master_down_db: fit.master_down_db,
            })
        };
        // Until the master has 400 ms of integrated measurement, its short-term.
        let master_integrated = if gated(self.master_integrated_lufs) {
            self.master_integrated_lufs
        } else {
            master_short_term
        };
        let integrated = || {
            fit(
                master_integrated,
                loudness.loop_integrated_lufs,
                loudness.loop_limited_lufs.as_ref(),
            )
        };
        match settings.reference_match {
            MatchMode::Integrated => integrated(),
            MatchMode::ShortTerm => {
                // The master's turn-down comes from the loop's integrated fit in both modes, so
                // the master does not pump with the reference's sections; the short-term fit
                // then meets the master as heard (turned down), up to the same limiting cap.
                let down = integrated().map_or(self.master_down_target_db, |f| f.master_down_db);
                let short_term = fit(
                    master_short_term - down,
                    loudness.short_term_lufs,
                    loudness.short_term_limited_lufs.as_ref(),
                )?;
                Some(ReferenceTarget {
                    master_down_db: down + short_term.master_down_db,
                    ..short_term
                })
            }
            MatchMode::AsStreamed => {
                // What the platform does, and nothing else: its gain, no make-up for limiting
                // (a platform that raises a song raises it only as far as its peaks allow).
                let platform = PLATFORMS[settings.platform.min(PLATFORMS.len() - 1)];
                let gain = platform.normalisation_gain_db(
                    loudness.track_integrated_lufs,
                    loudness.track_true_peak_dbtp,
                )?;
                let headroom = self.ceiling_db - loudness.track_true_peak_dbtp;
                Some(ReferenceTarget {
                    gain_db: (gain + loudness.trim_db).clamp(-MATCH_RANGE_DB, MATCH_RANGE_DB),
                    safety_limiting_db: (gain + loudness.trim_db - headroom).max(0.0),
                    master_down_db: 0.0,
                })
            }
        }
    }

    /// The as-streamed gain of the master in dB (0 in the other modes).
    pub(super) fn master_streamed_target_db(&self, settings: &AbSettings) -> f32 {
        if settings.reference_match != MatchMode::AsStreamed {
            return 0.0;
        }
        let platform = PLATFORMS[settings.platform.min(PLATFORMS.len() - 1)];
        platform
            .normalisation_gain_db(self.master_integrated_lufs, self.master_true_peak_dbtp)
            .unwrap_or(self.master_streamed_db)
    }

    /// Brings the raw reference block to its matched level and through the safety limiter,
    /// in place. `target` = the match target (None = hold).
    pub(super) fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        target: Option<ReferenceTarget>,
    ) {
        let n = left.len().min(right.len());
        if let Some(target) = target {
            // Already within ±MATCH_RANGE_DB (see `fit`), so the clamp inside changes nothing.
            self.gain_db = follow_offset(self.gain_db, target.gain_db, n, self.sample_rate);
            self.safety_limiting_db = target.safety_limiting_db;
            self.master_down_target_db = target.master_down_db;
        }
        let target_gain = db_to_gain(self.gain_db);
        let start_gain = self.applied_gain;
        let step = (target_gain - start_gain) / n.max(1) as f32;
        for i in 0..n {
            let g = start_gain + step * (i + 1) as f32;
            left[i] *= g;
            right[i] *= g;
        }
        self.applied_gain = target_gain;
        self.safety.process(&mut left[..n], &mut right[..n]);
    }

    /// Starts the path with a settled limiter: clears it and runs it over the frames that
    /// precede the first audible block (`preceding_*`, rendered by the player), at the target
    /// gain, output discarded.
    pub(super) fn start(
        &mut self,
        preceding_left: &mut [f32],
        preceding_right: &mut [f32],
        target: Option<ReferenceTarget>,
    ) {
        self.safety.clear();
        if let Some(target) = target {
            // The first listen is matched at once, not after a glide.
            self.gain_db = target.gain_db;
            self.master_down_target_db = target.master_down_db;
            self.master_down_db = target.master_down_db;
        }
        self.applied_gain = db_to_gain(self.gain_db);
        let n = preceding_left
            .len()
            .min(preceding_right.len())
            .min(MAX_CHUNK);
        self.process(&mut preceding_left[..n], &mut preceding_right[..n], None);
        self.active = true;
    }
}
