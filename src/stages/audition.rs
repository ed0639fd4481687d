//! One stage heard on its own terms: **compare** (the signal without that stage, at the
//! loudness the stage produces) and **delta** (only what the stage takes away).
//!
//! The A/B's idea applied per stage. Louder sounds better, so judging a stage by switching it
//! off mostly judges its gain: a +3 dB shelf or a clipper's drive wins by being louder.
//! Compare plays the stage's input, delayed by the stage's latency (sample-aligned with what
//! the stage outputs), at the loudness the stage produces: the offset is measured across the
//! stage by the A/B's matcher ([`LoudnessMatch`]: K-weighted short-term, gated, 1 s follow).
//! Everything after the stage (limiter, output gain, dither) then runs on the compared signal
//! as it would on the stage's output, and the loudness is matched **as heard at the output**:
//! the loudness the rest of the chain takes off (the limiter catching the peaks the clipper
//! no longer shaves) is measured before the compare starts and while it runs, and the change
//! is added to the offset, the way the A/B adds its safety limiter's loss.
//!
//! * Measuring costs two K-weighted meters per watched stage, so stages are watched only while
//!   the editor is open ([`StageAudition::set_armed`]) or while one is auditioned: the default
//!   state's cost stays what it was.
//! * Switching in, out or between stages crossfades (equal gain: the two signals are coherent)
//!   over [`AUDITION_FADE_SECONDS`]; a stage with latency first fills its delay for that long,
//!   so the compared path never plays stale samples.
//! * **Never in an offline bounce**: offline, the chain plays every stage, whatever the
//!   audition says (the A/B's render safety).
//! * Delta: `drive · delayed input − output`, the part of the (driven) signal the clipper's
//!   curve or the limiter's gain removed, at its real level (not matched: it is a residue).

use crate::dsp::meters::loudness::LoudnessMeter;
use crate::dsp::meters::loudness_match::{both_audible, follow_offset, ramp_gain, LoudnessMatch};
use crate::dsp::util::db_to_gain;
use crate::dsp::util::delay::StereoDelay;
use crate::dsp::util::resident::resident_vec;
use crate::dsp::util::smoothing::approach;
use crate::stages::StageId;

/// Normal listening measured before the downstream loss is trusted: one short-term window
/// plus the match smoothing.
const DOWNSTREAM_SETTLE_SECONDS: f32 = 4.0;

/// Crossfade between the stage's output and the auditioned signal.
pub const AUDITION_FADE_SECONDS: f32 = 0.020;

/// How a stage is heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditionMode {
    #[default]
    Off,
    /// The signal without the stage (matched, or not).
    Compare,
    /// Only what the stage removes.
    Delta,
}

/// What the engineer asked to hear (host parameters `compare_stage`, `compare_match`,
/// `delta_stage`). A delta request wins over a compare request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditionSettings {
    pub compare: Option<StageId>,
    /// Play the compared signal at the stage's loudness (off: plain bypass, for hearing the
    /// real difference).
    pub match_level: bool,
    pub delta: Option<StageId>,
}

impl Default for AuditionSettings {
    fn default() -> Self {
        Self {
            compare: None,
            match_level: true,
            delta: None,
        }
    }
}

impl AuditionSettings {
    /// The stage auditioned and how, if any.
    pub fn request(&self) -> Option<(StageId, AuditionMode)> {
        match (self.delta, self.compare) {
            (Some(id), _) => Some((id, AuditionMode::Delta)),
            (None, Some(id)) => Some((id, AuditionMode::Compare)),
            (None, None) => None,
        }
    }
}

/// What the chain tells the audition about the stage it just ran.
#[derive(Debug, Clone, Copy)]
pub struct StageReport {
    /// The stage is on (a stage that is off has nothing to compare).
    pub active: bool,
    pub latency: usize,
    /// The linear gain the stage applies before its nonlinearity (clipper, limiter: drive),
    /// for the delta.
    pub drive_gain: f32,
}

/// What the chain's output tells the audition (for the downstream correction).
#[derive(Clone, Debug)]
struct Downstream {
    /// `L_after_stage - L_output` while the stage is heard normally, kept while it is
    /// auditioned.
    normal_loss_db: f32,
    /// The same while auditioned.
    audition_loss_db: f32,
    /// Frames over which `normal_loss_db` was measured (a correction needs a normal reading
    /// to correct from: a compare started blind plays the match across the stage alone).
    normal_frames: usize,
}

/// The largest downstream correction: a limiter never takes more than this off a compare.
const MAX_DOWNSTREAM_CORRECTION_DB: f32 = 3.0;

const STAGES: usize = StageId::ALL.len();

pub struct StageAudition {
    sample_rate: f32,
    settings: AuditionSettings,
    offline: bool,
    armed: bool,
    /// Per stage: loudness before/after, watched while armed or auditioned.
    matches: Vec<LoudnessMatch>,
    downstream: Vec<Downstream>,
    watched: [bool; STAGES],
    /// The chain's output loudness (for the downstream correction).
    output_meter: LoudnessMeter,
    /// The stage being auditioned now (it may still be fading out of an old request).
    current: Option<(StageId, AuditionMode)>,
    /// 0 = the stage's output is heard, 1 = the auditioned signal.
    mix: f32,
    step: f32,
    /// Frames of delayed input the current stage has pushed (the fade waits for `latency`).
    filled: usize,
    delay: StereoDelay,
    /// The stage's input for the current chunk, and the delayed input / auditioned signal.
    input: [Vec<f32>; 2],
    delayed: [Vec<f32>; 2],
    /// The compare gain applied at the end of the last chunk (the next ramp starts there).
    applied_gain: f32,
}

impl Default for StageAudition {
    fn default() -> Self {
        Self::new(0)
    }
}

impl StageAudition {
    /// `max_latency`: the longest stage latency at the highest rate it will run at (the delay
    /// line is sized for it). `max_chunk`: the longest chunk. Allocates.
    pub fn new(max_latency: usize) -> Self {
        let chunk = crate::chain::MAX_CHUNK;
        Self {
            sample_rate: 48_000.0,
            settings: AuditionSettings::default(),
            offline: false,
            armed: false,
            matches: (0..STAGES).map(|_| LoudnessMatch::new()).collect(),
            downstream: (0..STAGES)
                .map(|_| Downstream {
                    normal_loss_db: 0.0,
                    audition_loss_db: 0.0,
                    normal_frames: 0,
                })
                .collect(),
            watched: [false; STAGES],
            output_meter: LoudnessMeter::short_term_only(),
            current: None,
            mix: 0.0,
            step: 1.0,
            filled: 0,
            delay: StereoDelay::new(max_latency.max(1)),
            input: [resident_vec(0.0, chunk), resident_vec(0.0, chunk)],
            delayed: [resident_vec(0.0, chunk), resident_vec(0.0, chunk)],
            applied_gain: 1.0,
        }
    }

    /// Prepares for `sample_rate` with a delay for `max_latency` (reallocates if it grew) and
    /// clears every measurement.
    pub fn reset(&mut self, sample_rate: f32, max_latency: usize) {
        self.sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        if self.delay.max_delay() < max_latency {
            self.delay = StereoDelay::new(max_latency);
        }
        self.delay.clear();
        for m in &mut self.matches {
            m.reset(self.sample_rate);
        }
        for d in &mut self.downstream {
            d.normal_loss_db = 0.0;
            d.audition_loss_db = 0.0;
            d.normal_frames = 0;
        }
        self.output_meter.reset(self.sample_rate);
        self.step = 1.0 / (AUDITION_FADE_SECONDS * self.sample_rate).max(1.0);
        self.mix = 0.0;
        self.current = None;
        self.filled = 0;
        self.applied_gain = 1.0;
        self.watched = [false; STAGES];
    }

    /// Forgets the delayed signal (the chain's structural switch: every stage restarts from
    /// silence, and the compared path with them).
    pub fn clear_signal(&mut self) {
        self.delay.clear();
    }

    pub fn set(&mut self, settings: &AuditionSettings) {
        self.settings = *settings;
    }

    /// Offline (a bounce): nothing is auditioned, from the next sample on.
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
        if offline {
            self.mix = 0.0;
            self.current = None;
        }
    }

    /// Watch every active stage (the editor is open and may ask for a compare at any time:
    /// the offset is then ready at once).
    pub fn set_armed(&mut self, armed: bool) {
        self.armed = armed;
    }

    /// The stage heard in audition now (fully or fading), and how.
    pub fn current(&self) -> Option<(StageId, AuditionMode)> {
        self.current.filter(|_| self.mix > 0.0)
    }

    /// The loudness offset the compared signal of `id` is played at, dB (what the stage adds,
    /// including the downstream correction).
    pub fn offset_db(&self, id: StageId) -> f32 {
        let i = id as usize;
        self.matches[i].offset_db() + self.downstream_correction_db(i)
    }

    /// The offset of the stage a compare is asked for (0 if none): what the editor shows.
    pub fn requested_offset_db(&self) -> f32 {
        match self.settings.request() {
            Some((id, AuditionMode::Compare)) if self.settings.match_level => self.offset_db(id),
            _ => 0.0,
        }
    }

    fn downstream_correction_db(&self, i: usize) -> f32 {
        let d = &self.downstream[i];
        let settled = (DOWNSTREAM_SETTLE_SECONDS * self.sample_rate) as usize;
        if d.normal_frames < settled {
            return 0.0;
        }
        (d.audition_loss_db - d.normal_loss_db)
            .clamp(-MAX_DOWNSTREAM_CORRECTION_DB, MAX_DOWNSTREAM_CORRECTION_DB)
    }

    fn wanted(&self) -> Option<(StageId, AuditionMode)> {
        if self.offline {
            None
        } else {
            self.settings.request()
        }
    }

    /// Whether the chain must hand `id`'s input over before running it ([`Self::before_stage`]).
    #[inline]
    pub fn watches(&self, id: StageId) -> bool {
        !self.offline
            && (self.armed || self.current.is_some() || self.wanted().is_some())
            && id_can_be_auditioned(id)
    }

    /// Keeps the stage's input (call before the stage runs, when [`Self::watches`]).
    pub fn before_stage(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len();
        self.input[0][..n].copy_from_slice(left);
        self.input[1][..n].copy_from_slice(right);
    }

    /// After the stage ran on `left`/`right` (its output): measures, and replaces the output by
    /// the auditioned signal where it is heard.
    pub fn after_stage(
        &mut self,
        id: StageId,
        report: StageReport,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let i = id as usize;
        let n = left.len().min(right.len());
        self.watched[i] = report.active;
        if !report.active {
            if self.current.is_some_and(|(stage, _)| stage == id) {
                // Switched off while auditioned: nothing left to compare.
                self.current = None;
                self.mix = 0.0;
            }
            return;
        }
        let before = (&self.input[0][..n], &self.input[1][..n]);
        self.matches[i].measure(before, (&left[..n], &right[..n]));

        // Which stage the audition follows: a new request waits until the old one has faded
        // out; a stage that is off cannot be auditioned.
        let wanted = self.wanted();
        if (self.current.is_none() || self.mix == 0.0) && self.current != wanted {
            self.current = wanted;
            self.filled = 0;
            self.applied_gain = 1.0;
        }
        let Some((stage, mode)) = self.current else {
            return;
        };
        if stage != id {
            return;
        }
        let target = if wanted == self.current { 1.0 } else { 0.0 };
        if self.mix == 0.0 && target == 0.0 {
            return;
        }
        let offset = if self.settings.match_level {
            self.offset_db(id)
        } else {
            0.0
        };
        // The stage's input, delayed by its latency.
        let latency = report.latency.min(self.delay.max_delay());
        let [dl, dr] = &mut self.delayed;
        self.delay.push_block_and_read_one(
            &self.input[0][..n],
            &self.input[1][..n],
            latency,
            [&mut dl[..n], &mut dr[..n]],
        );
        self.filled = self.filled.saturating_add(n);
        if self.filled < latency + n {
            // Still filling the delay with this stage's input: keep playing the stage.
            return;
        }
        match mode {
            AuditionMode::Compare => {
                let gain = db_to_gain(offset);
                ramp_gain(&mut dl[..n], &mut dr[..n], self.applied_gain, gain);
                self.applied_gain = gain;
            }
            AuditionMode::Delta => {
                let g = report.drive_gain;
                for k in 0..n {
                    dl[k] = dl[k] * g - left[k];
                    dr[k] = dr[k] * g - right[k];
                }
            }
            AuditionMode::Off => return,
        }
        for k in 0..n {
            self.mix = approach(self.mix, target, self.step);
            left[k] += (dl[k] - left[k]) * self.mix;
            right[k] += (dr[k] - right[k]) * self.mix;
        }
        if self.mix == 0.0 {
            self.current = None;
        }
    }

    /// Measures the chain's output (call at the end of the chain while anything is watched):
    /// the loudness the stages after a watched stage take off, normally and in audition.
    pub fn after_chain(&mut self, left: &[f32], right: &[f32]) {
        if !self.watched.iter().any(|&w| w) {
            return;
        }
        let n = left.len();
        self.output_meter.process_stereo(left, right);
        let out = self.output_meter.short_term_lufs();
        let auditioned = self
            .current
            .filter(|(_, mode)| *mode == AuditionMode::Compare && self.mix == 1.0)
            .map(|(id, _)| id as usize);
        for i in 0..STAGES {
            if !self.watched[i] {
                continue;
            }
            let after_stage = self.matches[i].after_lufs();
            if !both_audible(after_stage, out) {
                continue;
            }
            let loss = after_stage - out;
            let d = &mut self.downstream[i];
            if auditioned == Some(i) {
                // Heard: the compared path's loss, with the stage's (still running) output as
                // the level it should have.
                d.audition_loss_db = follow_offset(d.audition_loss_db, loss, n, self.sample_rate);
            } else {
                d.normal_loss_db = follow_offset(d.normal_loss_db, loss, n, self.sample_rate);
                d.audition_loss_db = d.normal_loss_db;
                d.normal_frames = d.normal_frames.saturating_add(n);
            }
        }
        self.watched = [false; STAGES];
    }
}

/// The stages a compare or delta makes sense for: the ones that shape the sound. Input and
/// output gain are the level itself; the dither is noise at -90 dB.
pub fn id_can_be_auditioned(id: StageId) -> bool {
    !matches!(
        id,
        StageId::InputGain | StageId::OutputGain | StageId::Dither
    )
}
