//! Level-matched A/B monitoring: the product's headline.
//!
//! * **A** is the processed master; **B** is the original mix, delayed by exactly the chain's
//!   latency so A and B are sample-aligned.
//! * Both are measured continuously (BS.1770 K-weighted short-term loudness, 3 s), whichever is
//!   being heard. While matching is on, B is played at the processed loudness:
//!   `gain = L_processed - L_original`, smoothed ([`MATCH_SMOOTHING_SECONDS`]), held while
//!   either signal is below [`MATCH_GATE_LUFS`] (silence and fades do not swing it), clamped to
//!   ±[`MATCH_RANGE_DB`], and optionally frozen.
//! * The offset also makes up the loudness the safety limiter (below) takes off the raised
//!   original: B is measured before and after that limiter (same gain history, same window),
//!   and the difference is added, so the B that is *heard* matches A.
//! * **Clipping of the raised original** — design decision: B passes through its own true-peak
//!   safety limiter at the *same ceiling as the master's limiter*, with no drive. It only acts on
//!   the peaks that raising the original pushed over the ceiling, so A and B share one peak
//!   ceiling and the master (A) is never turned down for the comparison. The safety limiter's
//!   gain reduction is published so the editor can say when B is being held. With matching off
//!   the safety limiter is out and B is the delayed input, bit for bit.
//! * Switching A <-> B is an equal-power (sin/cos) crossfade of [`AB_FADE_SECONDS`]; the host
//!   bypass is a separate equal-power fade to the unmatched, delayed original.
//! * **Cost**: the B path (match gain, safety limiter, its two loss meters) only runs while B is
//!   audible (heard, or in a crossfade). Hearing A, the monitor costs the two programme meters
//!   and the delay line, which the match offset needs anyway. When B is switched in, the safety
//!   limiter and its loss meters first catch up on the last [`B_PRIME_SECONDS`] of the original
//!   (read back from the delay line), so B starts with a settled limiter and no click. The
//!   safety limiter's loudness loss is kept from the last time B was heard and re-measured once
//!   B has played for [`LOSS_REMEASURE_SECONDS`]; it only changes when the peaks of the music
//!   have changed meanwhile, and then B's level glides to the new value with the 1 s match
//!   smoothing.
//! * Render safety: when the host renders offline, the output is always A, whatever the A/B
//!   switch says, so a forgotten switch never ends up in a bounced master. The mode is given
//!   per process call ([`AbMonitor::set_offline`]): switching to offline while B plays outputs
//!   the master from the next sample on, without a fade.

use crate::chain::{Chain, MAX_CHUNK};
use crate::dsp::dynamics::limiter::{Limiter, LimiterSettings};
use crate::dsp::meters::loudness::LoudnessMeter;
use crate::dsp::meters::program_meter::{ProgramMeterPair, ProgramReadings};
use crate::dsp::util::db_to_gain;
use crate::dsp::util::delay::StereoDelay;
use crate::dsp::util::resident::resident_vec;
use crate::dsp::util::smoothing::approach;
use crate::reference::playback::{MatchMode, ReferenceLoudness};

mod reference_path;
use reference_path::{ReferencePath, MASTER_READING_SECONDS};

/// A/B crossfade length (equal power). 20 ms: no click, and short enough to compare transients.
pub const AB_FADE_SECONDS: f32 = 0.020;
use crate::dsp::meters::loudness_match::{both_audible, follow_offset};
pub use crate::dsp::meters::loudness_match::{
    MATCH_GATE_LUFS, MATCH_RANGE_DB, MATCH_SMOOTHING_SECONDS,
};
/// History the B path catches up on when it starts (safety limiter envelope, loss meters):
/// longer than the safety limiter's lookahead and attack, short enough to cost little.
pub const B_PRIME_SECONDS: f32 = 0.010;
/// Audio the loss meters need (incl. the prime) before their reading replaces the loss kept
/// from the last time B was heard: one momentary window, so one transient cannot swing it.
pub const LOSS_REMEASURE_SECONDS: f32 = 0.4;
/// BS.1770 short-term window (EBU Tech 3341), the loudness the match follows.
const SHORT_TERM_SECONDS: f32 = 3.0;

/// Plain A/B settings, from the host parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbSettings {
    /// `ab_bypass`: true = hear the original (B).
    pub listen_original: bool,
    /// `match_level`: play B at the processed loudness.
    pub match_level: bool,
    /// `match_freeze`: keep the current offset.
    pub freeze: bool,
    /// The host's bypass flag: latency-compensated original, not level-matched.
    pub host_bypass: bool,
    /// `listen_reference`: hear the selected reference track (overrides `listen_original`).
    pub listen_reference: bool,
    /// `reference_match`: how the reference is brought to the master's loudness.
    pub reference_match: MatchMode,
    /// `reference_platform`: index into `targets::PLATFORMS` for [`MatchMode::AsStreamed`].
    pub platform: usize,
    /// Gain on everything heard while snapshots are compared at matched loudness (dB; 0 with
    /// `snapshot_match` off): `snapshots::SnapshotBank::match_gain_db`. Applied by the engine
    /// after the A/B and reference paths, so they stay matched to the master as heard; never
    /// to an offline render or with the host bypass on.
    pub version_gain_db: f32,
}

impl Default for AbSettings {
    fn default() -> Self {
        Self {
            listen_original: false,
            match_level: true,
            freeze: false,
            host_bypass: false,
            listen_reference: false,
            reference_match: MatchMode::Integrated,
            platform: 0,
            version_gain_db: 0.0,
        }
    }
}

/// What the engineer hears: one decision, read by the audio path's layers (the host bypass
/// over the reference over the A/B mix) and by the editor's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// The host's bypass: the latency-compensated original, not matched.
    HostBypass,
    /// The selected reference track, matched.
    Reference,
    /// B: the original, matched (or not, with matching off).
    Original,
    /// A: the master.
    Master,
}

impl AbSettings {
    /// What these settings play; `offline` (a bounce) is always the master, unless the host
    /// itself bypasses the plugin.
    pub fn heard(&self, offline: bool) -> Heard {
        if self.host_bypass {
            Heard::HostBypass
        } else if offline {
            Heard::Master
        } else if self.listen_reference {
            Heard::Reference
        } else if self.listen_original {
            Heard::Original
        } else {
            Heard::Master
        }
    }
}

/// What the A/B stage publishes for the editor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbStatus {
    /// Current match offset applied to B, in LU (dB).
    pub match_offset_db: f32,
    /// 0 = hearing A, 1 = hearing B (mid-fade values in between).
    pub position: f32,
    /// Gain reduction of the B safety limiter in dB (positive while it holds peaks).
    pub original_limited_db: f32,
    /// Loudness the safety limiter takes off the raised original, in LU, included in
    /// `match_offset_db`.
    pub safety_loss_db: f32,
    /// Gain applied to the reference before its safety limiter (match + trim), dB.
    pub reference_offset_db: f32,
    /// 0 = not hearing the reference, 1 = hearing it.
    pub reference_position: f32,
    /// Gain reduction of the reference's safety limiter, dB.
    pub reference_limited_db: f32,
    /// How far the match raises the reference above its peak headroom, into its safety
    /// limiter (dB, at most `track::MAX_SAFETY_LIMITING_DB`; 0 = no limiting needed).
    pub reference_safety_limiting_db: f32,
    /// How much the master (and the matched original) is turned down in monitoring because
    /// the reference cannot be raised to it within that limiting, dB (>= 0; never offline).
    pub master_down_db: f32,
    /// Gain the streaming normalisation applies to the master (and original) in the
    /// as-streamed mode, dB (0 otherwise).
    pub master_streamed_db: f32,
}

/// One block of the selected reference, rendered raw by the player (lead by the reference
/// path's safety-limiter latency, [`AbMonitor::reference_lead`]), and its loudness figures.
pub struct ReferenceBlock<'a> {
    pub left: &'a mut [f32],
    pub right: &'a mut [f32],
    pub loudness: ReferenceLoudness,
}

/// Frames the dry path's delay line holds at `sample_rate`: the chain's longest latency at
/// this rate (sized per activation, not for 192 kHz: a quarter of the memory at 48 kHz), the
/// B path's prime read back before it, and one chunk, so a block is always copied whole.
fn dry_delay_capacity(sample_rate: f32) -> usize {
    let rate = crate::dsp::util::usable_sample_rate(sample_rate);
    Chain::max_latency_for(rate) as usize + (B_PRIME_SECONDS * rate).ceil() as usize + MAX_CHUNK
}

pub struct AbMonitor {
    sample_rate: f32,
    settings: AbSettings,
    /// Ceiling of the master limiter (dBTP), from the chain's settings (their one owner); the
    /// safety limiters of B and of the reference hold the same.
    ceiling_db: f32,
    offline: bool,
    /// Chain latency the dry taps are aligned to.
    latency: usize,
    /// A pending latency: the B path fades out, switches taps, and fades in.
    pending_latency: Option<usize>,
    tap_gain: f32,
    tap_step: f32,
    delay: StereoDelay,
    safety: Limiter,
    safety_latency: usize,
    /// Original (delayed input) and processed (chain output) programme meters, one pass.
    meters: ProgramMeterPair,
    /// B before and after its safety limiter: their difference is the limiter's loudness loss.
    safety_in_meter: LoudnessMeter,
    safety_out_meter: LoudnessMeter,
    match_db: f32,
    mono: bool,
    /// Samples since the safety limiter last reduced gain; once it exceeds the short-term
    /// window, its loudness loss is exactly zero (both meters hold the same audio).
    samples_since_safety_limited: usize,
    /// Whether the B path runs (B audible); see the module docs.
    b_path_active: bool,
    /// Frames the loss meters have measured since the B path started (prime included).
    b_path_frames: usize,
    /// Loudness the safety limiter takes off B, in dB: measured while B plays, kept otherwise.
    safety_loss_db: f32,
    applied_gain: f32,
    ab_position: f32,
    bypass_position: f32,
    fade_step: f32,
    b_left: Vec<f32>,
    b_right: Vec<f32>,
    /// B after the match gain, before the safety limiter.
    safety_in_left: Vec<f32>,
    safety_in_right: Vec<f32>,
    raw_left: Vec<f32>,
    raw_right: Vec<f32>,
    /// The reference's listening path and its crossfade position (0 = not heard).
    reference: ReferencePath,
    ref_position: f32,
}

impl Default for AbMonitor {
    fn default() -> Self {
        Self::new()
    }
}

impl AbMonitor {
    /// Allocates everything (delay line, meters, scratch). Off the audio thread.
    pub fn new() -> Self {
        let fs = 48_000.0;
        Self {
            sample_rate: fs,
            settings: AbSettings::default(),
            ceiling_db: LimiterSettings::default().ceiling_db,
            offline: false,
            latency: 0,
            pending_latency: None,
            tap_gain: 1.0,
            tap_step: 1.0 / (0.005 * fs),
            delay: StereoDelay::new(dry_delay_capacity(fs)),
            safety: Limiter::new(fs),
            safety_latency: 0,
            meters: ProgramMeterPair::new(),
            // Short-term loudness is all the loss needs: no histograms (640 KB saved).
            safety_in_meter: LoudnessMeter::short_term_only(),
            safety_out_meter: LoudnessMeter::short_term_only(),
            match_db: 0.0,
            mono: false,
            samples_since_safety_limited: usize::MAX,
            b_path_active: false,
            b_path_frames: 0,
            safety_loss_db: 0.0,
            applied_gain: 1.0,
            ab_position: 0.0,
            bypass_position: 0.0,
            fade_step: 1.0 / (AB_FADE_SECONDS * fs),
            b_left: resident_vec(0.0, MAX_CHUNK),
            b_right: resident_vec(0.0, MAX_CHUNK),
            safety_in_left: resident_vec(0.0, MAX_CHUNK),
            safety_in_right: resident_vec(0.0, MAX_CHUNK),
            raw_left: resident_vec(0.0, MAX_CHUNK),
            raw_right: resident_vec(0.0, MAX_CHUNK),
            reference: ReferencePath::new(),
            ref_position: 0.0,
        }
    }

    /// Prepares for `sample_rate`, aligned to `chain_latency`, and clears all state.
    /// `offline` (the host's offline render mode) forces A. `mono` meters BS.1770 mono.
    /// Allocates a longer delay line when this rate needs one: off the audio thread.
    pub fn reset(&mut self, sample_rate: f32, chain_latency: u32, offline: bool, mono: bool) {
        self.sample_rate = sample_rate;
        self.offline = offline;
        let capacity = dry_delay_capacity(sample_rate);
        if self.delay.max_delay() < capacity {
            self.delay = StereoDelay::new(capacity);
        } else {
            self.delay.clear();
        }
        self.latency = (chain_latency as usize).min(self.delay.max_delay());
        self.pending_latency = None;
        self.tap_gain = 1.0;
        self.tap_step = 1.0 / (0.005 * sample_rate);
        self.safety.reset(sample_rate);
        self.apply_safety_settings();
        self.safety.clear();
        self.safety_latency = self.safety.latency_samples() as usize;
        self.meters.reset(sample_rate, mono);
        self.safety_in_meter.reset(sample_rate);
        self.safety_out_meter.reset(sample_rate);
        self.mono = mono;
        self.samples_since_safety_limited = usize::MAX;
        self.b_path_active = false;
        self.b_path_frames = 0;
        self.safety_loss_db = 0.0;
        self.match_db = 0.0;
        self.applied_gain = 1.0;
        self.fade_step = 1.0 / (AB_FADE_SECONDS * sample_rate);
        self.ab_position = self.ab_target();
        self.reference.reset(sample_rate, self.ceiling_db);
        self.ref_position = self.ref_target();
        self.bypass_position = if self.settings.host_bypass { 1.0 } else { 0.0 };
    }

    fn apply_safety_settings(&mut self) {
        self.safety.set(&LimiterSettings::safety(
            self.ceiling_db,
            self.settings.match_level,
        ));
    }

    /// The reference layer: up while the reference is what is heard (under a host bypass too,
    /// so releasing the bypass returns to it).
    fn ref_target(&self) -> f32 {
        let heard = AbSettings {
            host_bypass: false,
            ..self.settings
        }
        .heard(self.offline);
        if heard == Heard::Reference {
            1.0
        } else {
            0.0
        }
    }

    /// Whether the reference is (or is fading) audible: the engine renders it only then.
    pub fn reference_audible(&self) -> bool {
        self.ref_target() > 0.0 || self.ref_position > 0.0
    }

    /// Frames the player must read ahead so the reference is aligned after its safety limiter.
    pub fn reference_lead(&self) -> usize {
        self.reference.safety_latency
    }

    /// The reference path is audible but not running yet: the engine calls
    /// [`Self::start_reference`] with the frames before the next block first.
    pub fn reference_needs_start(&self) -> bool {
        self.reference_audible() && !self.reference.active
    }

    /// Whether the engine should hand the selected reference's loudness to
    /// [`Self::observe_reference`] now: every [`MASTER_READING_SECONDS`] while the reference
    /// is not heard, in the modes that match it to the master (realtime only). Counts `n`
    /// frames down.
    pub fn wants_reference_fit(&mut self, n: usize) -> bool {
        if self.offline || self.settings.reference_match == MatchMode::AsStreamed {
            return false;
        }
        if self.reference.frames_until_fit > n {
            self.reference.frames_until_fit -= n;
            return false;
        }
        self.reference.frames_until_fit =
            ((MASTER_READING_SECONDS * self.sample_rate) as usize).max(1);
        true
    }

    /// The selected reference's loudness while it is not heard (`None`: no track): keeps the
    /// master's monitoring turn-down current, so the master is already where the reference
    /// can meet it when the engineer switches over (and a `--listen master` render hears it
    /// as the plugin would).
    pub fn observe_reference(&mut self, loudness: Option<&ReferenceLoudness>) {
        self.read_master();
        // The same fit as while it plays (at the position it would play), so the master's
        // turn-down is the same whichever source is heard.
        let target = loudness.and_then(|loudness| {
            self.reference.target_db(
                &self.settings,
                loudness,
                self.meters.processed_short_term_lufs(),
            )
        });
        match (loudness, target) {
            (None, _) => self.reference.master_down_target_db = 0.0,
            (Some(_), Some(target)) => self.reference.master_down_target_db = target.master_down_db,
            (Some(_), None) => {} // silence: hold
        }
    }

    /// Starts the reference path (settled limiter, the match applied at once).
    pub fn start_reference(&mut self, preceding: ReferenceBlock<'_>) {
        let target = self.reference.target_db(
            &self.settings,
            &preceding.loudness,
            self.meters.processed_short_term_lufs(),
        );
        self.reference
            .start(preceding.left, preceding.right, target);
    }

    fn ab_target(&self) -> f32 {
        if self.settings.listen_original && !self.offline {
            1.0
        } else {
            0.0
        }
    }

    /// The host's render mode for the coming calls. Going offline with B selected (or mid-fade)
    /// jumps to A at once: a render needs no fade, and every sample of it must be the master.
    /// Going back to realtime returns to B (if selected) with the usual crossfade, from A.
    pub fn set_offline(&mut self, offline: bool) {
        if offline && !self.offline {
            self.ab_position = 0.0;
            self.ref_position = 0.0;
            self.reference.master_applied_gain = 1.0;
            self.reference.master_streamed_db = 0.0;
            self.reference.master_down_db = 0.0;
        }
        self.offline = offline;
    }

    /// Applies settings, the chain's current latency and its limiter's ceiling (`ceiling_db`,
    /// dBTP). Allocation-free.
    pub fn set(&mut self, settings: &AbSettings, chain_latency: u32, ceiling_db: f32) {
        if *settings != self.settings || ceiling_db != self.ceiling_db {
            // The engine calls this every chunk; the limiter's coefficient update (several
            // `exp`) only when something changed.
            self.settings = *settings;
            self.ceiling_db = ceiling_db;
            self.apply_safety_settings();
            self.reference.set_ceiling(ceiling_db);
        }
        let latency = (chain_latency as usize).min(self.delay.max_delay());
        self.pending_latency = (latency != self.latency).then_some(latency);
    }

    /// Clears the integrated/LRA/true-peak measurements of both meters (the meter reset button).
    pub fn reset_measurement(&mut self) {
        self.meters.reset_measurement();
    }

    /// Readings of the original (input) and processed (output) signals.
    pub fn readings(&self) -> (ProgramReadings, ProgramReadings) {
        self.meters.readings()
    }

    pub fn status(&self) -> AbStatus {
        AbStatus {
            match_offset_db: self.match_db,
            position: self.ab_position,
            original_limited_db: if self.settings.match_level && self.b_path_active {
                self.safety.gain_reduction_db()
            } else {
                0.0
            },
            safety_loss_db: self.safety_loss_db,
            reference_offset_db: self.reference.gain_db,
            reference_position: self.ref_position,
            reference_limited_db: if self.reference.active {
                self.reference.safety.gain_reduction_db()
            } else {
                0.0
            },
            master_streamed_db: self.reference.master_streamed_db,
            reference_safety_limiting_db: self.reference.safety_limiting_db,
            master_down_db: self.reference.master_down_db,
        }
    }

    /// `original_*`: the host input before the chain; `output_*`: the chain's output, replaced
    /// in place by what the engineer hears. Equal lengths, at most `MAX_CHUNK` (the plugin
    /// splits host blocks).
    pub fn process(
        &mut self,
        original_left: &[f32],
        original_right: &[f32],
        output_left: &mut [f32],
        output_right: &mut [f32],
    ) {
        self.process_with_reference(
            original_left,
            original_right,
            output_left,
            output_right,
            None,
        );
    }

    /// [`Self::process`] with the selected reference's raw block (when it is audible; `None`
    /// plays silence for it, e.g. an empty slot).
    pub fn process_with_reference(
        &mut self,
        original_left: &[f32],
        original_right: &[f32],
        output_left: &mut [f32],
        output_right: &mut [f32],
        mut reference: Option<ReferenceBlock<'_>>,
    ) {
        let n = original_left
            .len()
            .min(original_right.len())
            .min(output_left.len())
            .min(output_right.len())
            .min(MAX_CHUNK);
        let b_audible = self.ab_target() > 0.0 || self.ab_position > 0.0;
        if b_audible && !self.b_path_active {
            // Before this chunk enters the delay line: the prime reads the frames just before.
            self.start_b_path();
        }
        self.b_path_active = b_audible;
        self.align_original(&original_left[..n], &original_right[..n]);

        // Measure both signals, whichever is heard.
        self.meters.process(
            [&self.raw_left[..n], &self.raw_right[..n]],
            [&output_left[..n], &output_right[..n]],
        );
        self.update_match(n);
        self.update_master_readings(n);

        let target_gain = self.b_gain_target();
        if !self.b_path_active {
            // Hearing A: B is silent in the mix, so it is not computed.
            self.applied_gain = target_gain;
        } else {
            // B: the aligned original at the matched level, through the safety limiter.
            self.limit_and_measure_b(n, target_gain);
        }
        let reference_audible = self.reference_audible();
        if !reference_audible {
            self.reference.active = false;
        }
        let reference = match reference.as_mut() {
            Some(block) if reference_audible => {
                let target = self.reference.target_db(
                    &self.settings,
                    &block.loudness,
                    self.meters.processed_short_term_lufs(),
                );
                let (left, right) = (&mut block.left[..n], &mut block.right[..n]);
                self.reference.process(left, right, target);
                Some((&*left, &*right))
            }
            None if reference_audible => {
                // An empty slot plays silence: nothing for the master to meet.
                self.reference.master_down_target_db = 0.0;
                None
            }
            _ => None,
        };
        self.mix_outputs(&mut output_left[..n], &mut output_right[..n], reference);
    }

    /// The master's integrated loudness and true-peak maximum for the reference match and the
    /// as-streamed gain (reading sums the meter's histogram: a few times a second, not per
    /// chunk).
    fn read_master(&mut self) {
        let (_, processed) = self.meters.readings();
        self.reference.master_integrated_lufs = processed.integrated_lufs;
        self.reference.master_true_peak_dbtp = processed.true_peak_max_dbtp;
    }

    /// Refreshes the master's integrated loudness and true peak for the reference match and
    /// the as-streamed gain, and glides that gain (1 s, like the match).
    fn update_master_readings(&mut self, n: usize) {
        let wanted =
            self.reference_audible() || self.settings.reference_match == MatchMode::AsStreamed;
        if wanted {
            if self.reference.frames_until_master_reading <= n {
                self.read_master();
                self.reference.frames_until_master_reading =
                    ((MASTER_READING_SECONDS * self.sample_rate) as usize).max(1);
            } else {
                self.reference.frames_until_master_reading -= n;
            }
        } else if self.reference.master_down_db == self.reference.master_down_target_db
            && self.reference.master_streamed_db == 0.0
        {
            return; // nothing heard depends on the master's readings, nothing gliding
        }
        let target = if self.offline {
            0.0
        } else {
            self.reference.master_streamed_target_db(&self.settings)
        };
        let k = 1.0 - (-(n as f32) / (MATCH_SMOOTHING_SECONDS * self.sample_rate)).exp();
        let glide = |value: &mut f32, target: f32| {
            *value += (target - *value) * k;
            if (*value - target).abs() < 1e-4 {
                *value = target;
            }
        };
        if self.settings.reference_match == MatchMode::AsStreamed && !self.offline {
            glide(&mut self.reference.master_streamed_db, target);
        } else {
            // Leaving as-streamed: the master is back at its own level within the A/B's fade
            // (a linear slew covering the whole match range in AB_FADE_SECONDS), not over the
            // match's 1 s glide: the as-streamed gain may have raised the master over its
            // ceiling, and only the listening mode that asked for it may play it there.
            let max_step = MATCH_RANGE_DB * n as f32 / (AB_FADE_SECONDS * self.sample_rate);
            let value = &mut self.reference.master_streamed_db;
            *value -= value.clamp(-max_step, max_step);
        }
        let down = if self.offline || self.settings.reference_match == MatchMode::AsStreamed {
            0.0
        } else {
            self.reference.master_down_target_db
        };
        glide(&mut self.reference.master_down_db, down);
    }

    fn b_gain_target(&self) -> f32 {
        if self.settings.match_level {
            db_to_gain(self.match_db)
        } else {
            1.0
        }
    }

    /// Starts the B path: clears the safety limiter and its loss meters, then runs them over
    /// the last [`B_PRIME_SECONDS`] of the B tap's history at the current match gain (output
    /// discarded), so the limiter's lookahead and envelope are settled when B becomes audible.
    /// Allocation-free; costs about as much as processing that much audio.
    fn start_b_path(&mut self) {
        self.safety.clear();
        self.safety_in_meter.reset(self.sample_rate);
        self.safety_out_meter.reset(self.sample_rate);
        self.samples_since_safety_limited = usize::MAX;
        self.b_path_frames = 0;
        // Primed also without matching: the (bypassed) limiter's delay line must hold the
        // original, or B would start with a stretch of silence.
        let gain = self.b_gain_target();
        self.applied_gain = gain; // the prime runs at a constant gain
        let b_delay = self.latency.saturating_sub(self.safety_latency);
        let mut remaining = ((B_PRIME_SECONDS * self.sample_rate) as usize).max(1);
        while remaining > 0 {
            let n = remaining.min(MAX_CHUNK);
            // The `n` frames that start `remaining` frames before the next B-tap read.
            self.delay.read_preceding(
                b_delay + remaining - n,
                [&mut self.b_left[..n], &mut self.b_right[..n]],
            );
            self.limit_and_measure_b(n, gain);
            remaining -= n;
        }
    }

    /// Brings `b_*[..n]` (the aligned original) to the match gain, ramping linearly from the
    /// gain applied last to `target_gain`, and runs it through the safety limiter and, while
    /// it matters, the loss meters.
    fn limit_and_measure_b(&mut self, n: usize, target_gain: f32) {
        let start_gain = self.applied_gain;
        let step = (target_gain - start_gain) / n.max(1) as f32;
        for i in 0..n {
            let g = start_gain + step * (i + 1) as f32;
            self.b_left[i] *= g;
            self.b_right[i] *= g;
        }
        self.applied_gain = target_gain;
        if self.settings.match_level {
            // B before the safety limiter, for its loudness meter (fed below, once we know
            // whether the limiter acted in this chunk).
            self.safety_in_left[..n].copy_from_slice(&self.b_left[..n]);
            self.safety_in_right[..n].copy_from_slice(&self.b_right[..n]);
        }
        self.safety
            .process(&mut self.b_left[..n], &mut self.b_right[..n]);
        self.b_path_frames = self.b_path_frames.saturating_add(n);
        self.samples_since_safety_limited = if self.safety.gain_reduction_db() > 0.0 {
            0
        } else {
            self.samples_since_safety_limited.saturating_add(n)
        };
        // The two safety meters are only read while the limiter has reduced gain within the
        // last short-term window (`update_match` takes the loss as exactly 0 otherwise), so
        // they are frozen once it has been idle for longer than that window. Why this keeps
        // the loss consistent: at the moment they freeze, both windows hold only audio the
        // limiter passed at unity gain (the same audio, offset by its lookahead), so they
        // read the same loudness; when limiting resumes, both continue from that identical
        // frozen content with the new before/after audio, and their difference is again
        // the loudness the limiter takes off (diluted by unity-gain audio exactly as with
        // unfrozen meters, only with older unity-gain audio in the window for up to 3 s).
        let window = (SHORT_TERM_SECONDS * self.sample_rate) as usize;
        if self.settings.match_level && self.samples_since_safety_limited <= window {
            let right = (!self.mono).then_some(&self.safety_in_right[..n]);
            self.safety_in_meter
                .process(&self.safety_in_left[..n], right);
            let right = (!self.mono).then_some(&self.b_right[..n]);
            self.safety_out_meter.process(&self.b_left[..n], right);
        }
    }

    /// Pushes the original into the delay line; fills `b_*` (tap at latency - safety latency,
    /// so B is aligned after its safety limiter) and `raw_*` (tap at latency).
    fn align_original(&mut self, left: &[f32], right: &[f32]) {
        if self.pending_latency.is_none() && self.tap_gain == 1.0 {
            // Steady taps (the usual case): the per-frame loop below would multiply by
            // exactly 1.0, so block copies give identical samples.
            let n = left.len();
            if !self.b_path_active {
                // B is not computed while A is heard: only the original's meter tap.
                self.delay.push_block_and_read_one(
                    left,
                    right,
                    self.latency,
                    [&mut self.raw_left[..n], &mut self.raw_right[..n]],
                );
                return;
            }
            let b_delay = self.latency.saturating_sub(self.safety_latency);
            self.delay.push_block_and_read(
                left,
                right,
                b_delay,
                [&mut self.b_left[..n], &mut self.b_right[..n]],
                self.latency,
                [&mut self.raw_left[..n], &mut self.raw_right[..n]],
            );
            return;
        }
        for i in 0..left.len() {
            if self.pending_latency.is_some() {
                self.tap_gain = approach(self.tap_gain, 0.0, self.tap_step);
                if self.tap_gain == 0.0 {
                    if let Some(latency) = self.pending_latency.take() {
                        self.latency = latency;
                        self.safety.clear();
                    }
                }
            } else if self.tap_gain < 1.0 {
                self.tap_gain = approach(self.tap_gain, 1.0, self.tap_step);
            }
            let b_delay = self.latency.saturating_sub(self.safety_latency);
            let ((bl, br), (rl, rr)) =
                self.delay
                    .push_and_read(left[i], right[i], b_delay, self.latency);
            self.b_left[i] = bl * self.tap_gain;
            self.b_right[i] = br * self.tap_gain;
            self.raw_left[i] = rl * self.tap_gain;
            self.raw_right[i] = rr * self.tap_gain;
        }
    }

    fn update_match(&mut self, n: usize) {
        if self.settings.freeze {
            return;
        }
        let original = self.meters.original_short_term_lufs();
        let processed = self.meters.processed_short_term_lufs();
        if !both_audible(original, processed) {
            return; // silence or a fade: hold the offset
        }
        // Loudness the safety limiter takes off B (0 while it does not act), re-measured while
        // B plays and kept while it does not.
        let remeasure = (LOSS_REMEASURE_SECONDS * self.sample_rate) as usize;
        if self.b_path_active && self.settings.match_level && self.b_path_frames >= remeasure {
            let window = (SHORT_TERM_SECONDS * self.sample_rate) as usize;
            self.safety_loss_db = if self.samples_since_safety_limited > window {
                0.0
            } else {
                let (before, after) = (
                    self.safety_in_meter.short_term_lufs(),
                    self.safety_out_meter.short_term_lufs(),
                );
                if before.is_finite() && after.is_finite() {
                    (before - after).max(0.0)
                } else {
                    0.0
                }
            };
        }
        let target = processed - original + self.safety_loss_db;
        self.match_db = follow_offset(self.match_db, target, n, self.sample_rate);
    }

    /// Mixes what is heard: A/B (equal-power crossfade) at the as-streamed master gain, then
    /// the reference (equal-power crossfade from the A/B mix), then the host bypass (to the
    /// unmatched delayed original).
    fn mix_outputs(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        reference: Option<(&[f32], &[f32])>,
    ) {
        let n = left.len();
        let ab_target = self.ab_target();
        let ref_target = self.ref_target();
        let bypass_target = if self.settings.host_bypass { 1.0 } else { 0.0 };
        let master_start = self.reference.master_applied_gain;
        let master_target =
            db_to_gain(self.reference.master_streamed_db - self.reference.master_down_db);
        self.reference.master_applied_gain = master_target;
        let steady = self.ab_position == ab_target
            && self.bypass_position == bypass_target
            && self.ref_position == ref_target
            && master_start == master_target;
        if steady && bypass_target == 1.0 {
            left.copy_from_slice(&self.raw_left[..n]);
            right.copy_from_slice(&self.raw_right[..n]);
            return;
        }
        if steady && ref_target == 1.0 {
            match reference {
                Some((rl, rr)) => {
                    left.copy_from_slice(&rl[..n]);
                    right.copy_from_slice(&rr[..n]);
                }
                None => {
                    left.fill(0.0);
                    right.fill(0.0);
                }
            }
            return;
        }
        if steady && master_target == 1.0 {
            if ab_target == 0.0 {
                return; // hearing A: the processed signal as it is
            }
            left.copy_from_slice(&self.b_left[..n]);
            right.copy_from_slice(&self.b_right[..n]);
            return;
        }
        let half_pi = std::f32::consts::FRAC_PI_2;
        let master_step = (master_target - master_start) / n.max(1) as f32;
        for i in 0..n {
            self.ab_position = approach(self.ab_position, ab_target, self.fade_step);
            self.ref_position = approach(self.ref_position, ref_target, self.fade_step);
            self.bypass_position = approach(self.bypass_position, bypass_target, self.fade_step);
            let (b_gain, a_gain) = (self.ab_position * half_pi).sin_cos();
            let (ref_gain, ab_gain) = (self.ref_position * half_pi).sin_cos();
            let (raw_gain, monitor_gain) = (self.bypass_position * half_pi).sin_cos();
            let master = (master_start + master_step * (i + 1) as f32) * ab_gain;
            let (rl, rr) = reference.map_or((0.0, 0.0), |(l, r)| (l[i], r[i]));
            let monitor_l = (left[i] * a_gain + self.b_left[i] * b_gain) * master + rl * ref_gain;
            let monitor_r = (right[i] * a_gain + self.b_right[i] * b_gain) * master + rr * ref_gain;
            left[i] = monitor_l * monitor_gain + self.raw_left[i] * raw_gain;
            right[i] = monitor_r * monitor_gain + self.raw_right[i] * raw_gain;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_decision_says_what_is_heard() {
        let s = |original, reference, bypass| AbSettings {
            listen_original: original,
            listen_reference: reference,
            host_bypass: bypass,
            ..AbSettings::default()
        };
        assert_eq!(s(false, false, false).heard(false), Heard::Master);
        assert_eq!(s(true, false, false).heard(false), Heard::Original);
        // The reference wins over B (ab_bypass keeps its meaning under it).
        assert_eq!(s(true, true, false).heard(false), Heard::Reference);
        // The host's bypass wins over everything, in a bounce too.
        assert_eq!(s(true, true, true).heard(false), Heard::HostBypass);
        assert_eq!(s(false, false, true).heard(true), Heard::HostBypass);
        // A bounce is the master whatever the switches say.
        assert_eq!(s(true, true, false).heard(true), Heard::Master);
    }

    /// The dry delay line is sized per activation: it aligns the chain's longest latency at
    /// every rate (with the B prime and a chunk to spare), and at 48 kHz takes a quarter of
    /// the 65 536 frames it took when it was sized for 192 kHz.
    #[test]
    fn dry_delay_line_fits_the_longest_latency_at_each_rate() {
        let mut ab = AbMonitor::new();
        for fs in [48_000.0, 44_100.0, 96_000.0, 192_000.0, 48_000.0, 384_000.0] {
            let longest = Chain::max_latency_for(fs);
            ab.reset(fs, longest, false, false);
            assert_eq!(ab.latency, longest as usize, "{fs} Hz: latency clamped");
            let prime = (B_PRIME_SECONDS * fs).ceil() as usize;
            assert!(
                ab.delay.max_delay() >= longest as usize + prime + MAX_CHUNK,
                "{fs} Hz: {} frames for {longest} + {prime} + {MAX_CHUNK}",
                ab.delay.max_delay()
            );
        }
        let at_48k = AbMonitor::new();
        assert_eq!(at_48k.delay.max_delay() + 1, 16_384);
    }
}
