//! The mastering chain: runs the stages of `stages/` in signal order on each block:
//!
//! input gain -> the movable stages in the engineer's order (default: EQ -> compressor ->
//! stereo) -> saturation -> clipper -> limiter -> output gain -> dither
//!
//! Plain Rust: no framework types, so tests, benches and the offline renderer drive it directly.
//!
//! Latency: the limiter's lookahead always (it delays even when off, so toggling it never moves
//! audio in time), plus the linear-phase EQ's delay while the EQ is on in linear-phase mode,
//! whatever the order, plus the multiband dynamics' lookahead and linear-phase crossover while
//! it is on, plus the
//! saturation's and the clipper's oversampling filters while they are on. A change of latency
//! (EQ mode, EQ on/off in linear-phase mode, multiband on/off with a lookahead or in linear
//! phase, its lookahead or crossover mode, saturation or clipper on/off or their oversampling, limiter lookahead) or of the stage order is a *structural* change: the chain fades its output out
//! over [`STRUCTURAL_FADE_SECONDS`], switches and clears every stage, reports the new latency,
//! and fades its input back in, so the jump is a short dip, never a click.

use crate::dsp::dynamics::limiter::LOOKAHEAD_MS;
use crate::dsp::filters::linear_phase_designer::LinearPhaseDesigner;
use crate::dsp::filters::oversampler::MAX_FACTOR;
use crate::dsp::util::designer_thread::DesignerThread;
use crate::dsp::util::resident::resident_vec;
use crate::dsp::util::smoothing::approach;
use crate::shared_state::MasterTapProducer;
use crate::stages::audition::{AuditionSettings, StageAudition, StageReport};
use crate::stages::clipper::ClipperStage;
use crate::stages::eq::EqStage;
use crate::stages::hf_limiter::HfLimiterStage;
use crate::stages::limiter::LimiterStage;
use crate::stages::multiband::MultibandStage;
use crate::stages::saturation::SaturationStage;
use crate::stages::StageProcessor;
use crate::stages::{placed, ChainSettings, Place, StageId, StageOrder, Stages, Structure};

/// Length of the fade out (and again in) around a structural (latency) change.
pub const STRUCTURAL_FADE_SECONDS: f32 = 0.010;

/// Internal block length: the chain splits host blocks into chunks of at most this many
/// samples so its scratch buffers have a fixed, preallocated size.
pub const MAX_CHUNK: usize = 512;

/// Gain-reduction and level readings for meters, updated every block.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChainMeters {
    /// Compressor gain reduction in dB (positive = reducing).
    pub compressor_gr_db: f32,
    /// How deep the clipper clipped, dB over its ceiling (0 = untouched or off).
    pub clipper_depth_db: f32,
    /// Limiter gain reduction in dB (positive = reducing).
    pub limiter_gr_db: f32,
    /// The multiband dynamics' gain change per band, dB (negative = reduction, positive =
    /// upward gain; the largest magnitude over the block; 0 while off).
    pub multiband_gain_db: [f32; crate::dsp::dynamics::multiband::MAX_BANDS],
    /// The loudness offset a compared stage plays at (what the stage adds), dB; 0 when no
    /// compare is asked for.
    pub compare_offset_db: f32,
    /// Gain movement of the EQ's dynamic bands at the end of the block, dB (slot order: low
    /// shelf, bells 1-4, high shelf; 0 for static bands).
    pub eq_dynamic_db: [f32; crate::dsp::filters::eq::NUM_DYNAMIC],
}

/// The chain's background designer threads (see [`Chain::attach_designers`]); dropping it
/// stops and joins them.
pub struct ChainDesigners {
    _eq: LinearPhaseDesigner,
    _crossover: DesignerThread,
}

/// The chain. `reset` preallocates; `process` never allocates, locks or blocks.
pub struct Chain {
    sample_rate: f32,
    settings: ChainSettings,
    structure: Structure,
    pending_structure: Option<Structure>,
    /// Output gain used for the fade-out before a structural switch: 1 normally.
    structural_gain: f32,
    /// Input gain used for the fade-in after a structural switch: 1 normally.
    input_fade: f32,
    structural_step: f32,

    stages: Stages,
    /// A stage compared at matched loudness, or its delta (`stages::audition`).
    audition: StageAudition,
    /// The EQ stage's input, pushed for the editor's match EQ ("match to reference" compares
    /// the reference with what enters the EQ, never with its output, which would chase
    /// itself) while `eq_input_tap_on`.
    eq_input_tap: Option<MasterTapProducer>,
    eq_input_tap_on: bool,

    scratch_left: Vec<f32>,
    scratch_right: Vec<f32>,
    meters: ChainMeters,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    pub fn new() -> Self {
        let fs = 48_000.0;
        let settings = ChainSettings::default();
        let mut chain = Self {
            sample_rate: fs,
            settings,
            structure: Structure::of(&settings),
            pending_structure: None,
            structural_gain: 1.0,
            input_fade: 1.0,
            structural_step: 1.0 / (STRUCTURAL_FADE_SECONDS * fs),
            stages: Stages::default(),
            audition: StageAudition::new(0),
            eq_input_tap: None,
            eq_input_tap_on: false,
            scratch_left: resident_vec(0.0, MAX_CHUNK),
            scratch_right: resident_vec(0.0, MAX_CHUNK),
            meters: ChainMeters::default(),
        };
        chain.apply_stage_settings();
        chain
    }

    /// Prepares every stage for `sample_rate` with the current settings and clears all state.
    /// Allocates (and designs linear-phase kernels inline if needed): call from `activate` or
    /// offline code, never from the audio thread.
    pub fn reset(&mut self, sample_rate: f32) {
        let fs = crate::dsp::util::usable_sample_rate(sample_rate);
        self.sample_rate = fs;
        // Any structural change waiting for a fade is applied at once: nothing is playing.
        if let Some(s) = self.pending_structure.take() {
            self.structure = s;
        }
        self.structural_gain = 1.0;
        self.input_fade = 1.0;
        self.structural_step = 1.0 / (STRUCTURAL_FADE_SECONDS * fs);
        for &id in StageId::ALL {
            self.stages
                .get_mut(id)
                .reset(fs, &self.settings, &self.structure);
        }
        self.audition.reset(fs, Self::max_latency_for(fs) as usize);
    }

    /// What is auditioned (a stage compared, or its delta). Allocation-free.
    pub fn set_audition(&mut self, settings: &AuditionSettings) {
        self.audition.set(settings);
    }

    /// Gives the chain the audio-thread end of the EQ input tap (`shared_state`).
    pub fn set_eq_input_tap(&mut self, tap: Option<MasterTapProducer>) {
        self.eq_input_tap = tap;
    }

    /// Feeds the EQ input tap (when set) from the next block on: on while the editor is open.
    pub fn set_eq_input_tap_enabled(&mut self, on: bool) {
        self.eq_input_tap_on = on;
    }

    /// Offline (a bounce): no stage is auditioned, whatever the settings say.
    pub fn set_offline(&mut self, offline: bool) {
        self.audition.set_offline(offline);
        self.stages.multiband.set_offline(offline);
        self.apply_stage_settings();
    }

    /// Watch every active stage's loudness (the editor is open), so a compare starts matched.
    pub fn set_audition_armed(&mut self, armed: bool) {
        self.audition.set_armed(armed);
    }

    pub fn audition(&self) -> &StageAudition {
        &self.audition
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// Hands the EQ's linear-phase redesign to a background thread (see
    /// [`EqStage::attach_linear_phase_designer`]). Call after [`Chain::reset`]; allocates and
    /// spawns a thread.
    pub fn attach_linear_phase_designer(&mut self) -> LinearPhaseDesigner {
        self.stages.eq.attach_linear_phase_designer()
    }

    /// Hands every kernel redesign to background threads: the EQ's linear-phase kernels and
    /// the multiband's linear-phase crossover. Call after [`Chain::reset`] (which replaces
    /// their channels); allocates and spawns threads. Dropping the result stops them.
    pub fn attach_designers(&mut self) -> ChainDesigners {
        ChainDesigners {
            _eq: self.attach_linear_phase_designer(),
            _crossover: self.stages.multiband.attach_crossover_designer(),
        }
    }

    /// Designs and installs linear-phase kernels for the current EQ settings right now.
    /// Allocates; not for the audio thread.
    pub fn design_linear_phase_now(&mut self) {
        self.stages.eq.design_linear_phase_now();
    }

    /// Applies new settings. Allocation-free when a background designer is attached (the
    /// plugin); changes are smoothed inside the stages, structural changes are faded.
    pub fn set(&mut self, settings: &ChainSettings) {
        self.settings = *settings;
        let wanted = Structure::of(settings);
        // Start (or retarget) a structural fade; the switch happens at the bottom of it.
        self.pending_structure = (wanted != self.structure).then_some(wanted);
        self.apply_stage_settings();
    }

    fn apply_stage_settings(&mut self) {
        for &id in StageId::ALL {
            self.stages.get_mut(id).set(&self.settings, &self.structure);
        }
    }

    /// Latency of the whole chain in samples: exactly the delay of an impulse through
    /// `process`. Changes only at the bottom of a structural fade.
    pub fn latency_samples(&self) -> u32 {
        EqStage::latency_for(&self.structure, self.sample_rate)
            + self.stages.multiband.latency_samples()
            + self.stages.hf_limiter.latency_samples()
            + self.stages.saturation.latency_samples()
            + self.stages.clipper.latency_samples()
            + self.stages.limiter.latency_samples()
    }

    /// The latency a chain with `settings` has at `sample_rate` once they are in place, without
    /// a chain: hosts ask for it after a state load, before activation and the first block
    /// (`Plugin::latency_for`). Equal to [`Self::latency_samples`] after `set` + `reset`.
    pub fn latency_for(settings: &ChainSettings, sample_rate: f32) -> u32 {
        let structure = Structure::of(settings);
        EqStage::latency_for(&structure, sample_rate)
            + MultibandStage::latency_for(&structure, sample_rate)
            + HfLimiterStage::latency_for(&structure, sample_rate)
            + SaturationStage::latency_for(&structure, sample_rate)
            + ClipperStage::latency_for(&structure, sample_rate)
            + LimiterStage::latency_for(&structure, sample_rate)
    }

    /// The longest latency any settings give at `sample_rate` (EQ on in linear phase, the
    /// saturation and the clipper at their largest oversampling, the longest limiter lookahead): how far the A/B's dry path must be able to delay the
    /// original, since settings change on the audio thread where it cannot grow.
    pub fn max_latency_for(sample_rate: f32) -> u32 {
        let sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        let longest = Structure {
            linear_phase_eq: true,
            saturation_oversampling: MAX_FACTOR,
            clipper_oversampling: MAX_FACTOR,
            multiband_lookahead_ms: crate::dsp::dynamics::multiband::LOOKAHEAD_MS.max,
            multiband_linear_phase: true,
            hf_limiter_on: true,
            lookahead_ms: LOOKAHEAD_MS.max,
            order: StageOrder::default(),
        };
        EqStage::latency_for(&longest, sample_rate)
            + MultibandStage::latency_for(&longest, sample_rate)
            + HfLimiterStage::latency_for(&longest, sample_rate)
            + SaturationStage::latency_for(&longest, sample_rate)
            + ClipperStage::latency_for(&longest, sample_rate)
            + LimiterStage::latency_for(&longest, sample_rate)
    }

    /// Gain reduction readings of the last block.
    pub fn meters(&self) -> ChainMeters {
        self.meters
    }

    /// Processes one stereo block in place. Any length; mono callers pass a copy of the
    /// channel as `right` (see `lib.rs`).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut meters = ChainMeters::default();
        let mut start = 0;
        while start < len {
            let end = (start + MAX_CHUNK).min(len);
            self.process_chunk(&mut left[start..end], &mut right[start..end]);
            meters.compressor_gr_db = meters
                .compressor_gr_db
                .max(self.stages.comp.gain_reduction_db());
            meters.clipper_depth_db = meters
                .clipper_depth_db
                .max(self.stages.clipper.clip_depth_db());
            meters.limiter_gr_db = meters
                .limiter_gr_db
                .max(self.stages.limiter.gain_reduction_db());
            for (m, g) in meters
                .multiband_gain_db
                .iter_mut()
                .zip(self.stages.multiband.gain_change_db())
            {
                if g.abs() > m.abs() {
                    *m = g;
                }
            }
            start = end;
        }
        meters.compare_offset_db = self.audition.requested_offset_db();
        meters.eq_dynamic_db = self.stages.eq.dynamic_movement_db();
        self.meters = meters;
    }

    fn process_chunk(&mut self, left: &mut [f32], right: &mut [f32]) {
        for id in placed(Place::First) {
            self.run_stage(id, left, right);
        }
        self.apply_structural_fade_in(left, right);
        let order = self.structure.order;
        for &id in order.as_slice() {
            self.run_stage(id, left, right);
        }
        // Saturation -> clipper -> limiter -> output gain, then the fade-out before the dither: the dither stays last
        // and is never faded (faded dither noise would no longer fit the word length).
        for id in placed(Place::Last) {
            if id == StageId::Dither {
                self.apply_structural_fade_out(left, right);
            }
            self.run_stage(id, left, right);
        }
        self.audition.after_chain(left, right);
    }

    fn run_stage(&mut self, id: StageId, left: &mut [f32], right: &mut [f32]) {
        if id == StageId::Eq && self.eq_input_tap_on {
            if let Some(tap) = &mut self.eq_input_tap {
                tap.push(left, right);
            }
        }
        let n = left.len();
        let (dry_left, dry_right) = (&mut self.scratch_left[..n], &mut self.scratch_right[..n]);
        let watched = self.audition.watches(id);
        if watched {
            self.audition.before_stage(left, right);
        }
        let stage = self.stages.get_mut(id);
        stage.process(left, right, dry_left, dry_right);
        if watched {
            let report = StageReport {
                active: stage.is_active(),
                latency: stage.latency_samples() as usize,
                drive_gain: stage.drive_gain(),
            };
            self.audition.after_stage(id, report, left, right);
        }
    }
    /// Fades the output out while a structural change is pending; at silence, switches.
    fn apply_structural_fade_out(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.pending_structure.is_none() {
            return;
        }
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            self.structural_gain = approach(self.structural_gain, 0.0, self.structural_step);
            *l *= self.structural_gain;
            *r *= self.structural_gain;
        }
        if self.structural_gain == 0.0 {
            if let Some(next) = self.pending_structure.take() {
                self.switch_structure(next);
            }
        }
    }

    /// After a switch, fades the *input* back in. Every module was cleared at the switch, so the
    /// new path starts from silence and the faded-in input emerges after the new latency without
    /// any step (fading the output instead would cut into a delay line that starts abruptly).
    fn apply_structural_fade_in(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.input_fade == 1.0 {
            return;
        }
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            self.input_fade = approach(self.input_fade, 1.0, self.structural_step);
            *l *= self.input_fade;
            *r *= self.input_fade;
        }
    }

    /// Applies a structural change at the bottom of the fade-out. Allocation-free: the
    /// limiter's delay lines and the convolver were sized in `reset`.
    fn switch_structure(&mut self, next: Structure) {
        self.structure = next;
        // New structure first, then clear: the limiter starts at the new latency at once
        // instead of running its own lookahead fade (the chain is silent here).
        self.apply_stage_settings();
        for &id in StageId::ALL {
            self.stages.get_mut(id).clear();
        }
        self.audition.clear_signal();
        self.structural_gain = 1.0;
        self.input_fade = 0.0;
    }
}
