//! The mastering chain in signal order. Owns the DSP modules and calls them in turn on each
//! block:
//!
//! input gain -> EQ -> compressor -> stereo -> limiter -> output gain -> dither
//!
//! Plain Rust: no framework types, so tests, benches and the offline renderer drive it directly.
//!
//! Latency: the limiter's lookahead always (it delays even when off, so toggling it never moves
//! audio in time), plus the linear-phase EQ's delay while the EQ is on in linear-phase mode.
//! A change of latency (EQ mode, EQ on/off in linear-phase mode, limiter lookahead) is a
//! *structural* change: the chain fades its output out over [`STRUCTURAL_FADE_SECONDS`],
//! switches and clears every module, reports the new latency, and fades its input back in, so
//! the jump in time is a short dip, never a click.

use crate::dsp::dither::{Dither, DitherSettings};
use crate::dsp::dynamics::compressor::{Compressor, CompressorSettings};
use crate::dsp::dynamics::limiter::{Limiter, LimiterSettings};
use crate::dsp::filters::eq::{Eq, EqSettings};
use crate::dsp::filters::linear_phase::{
    linear_phase_latency_samples, LinearPhaseEq, LinearPhaseKernels,
};
use crate::dsp::filters::linear_phase_designer::LinearPhaseDesigner;
use crate::dsp::stereo::{Stereo, StereoSettings};
use crate::dsp::util::bypass::BypassFade;
use crate::dsp::util::gain::Gain;
use crate::dsp::util::smoothing::approach;

/// Length of the fade out (and again in) around a structural (latency) change.
pub const STRUCTURAL_FADE_SECONDS: f32 = 0.010;

/// Internal block length: the chain splits host blocks into chunks of at most this many
/// samples so its scratch buffers have a fixed, preallocated size.
pub const MAX_CHUNK: usize = 512;

/// Plain settings for the whole chain, produced from the host parameters by `params.rs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainSettings {
    pub input_gain_db: f32,
    pub output_gain_db: f32,
    pub eq_enabled: bool,
    pub eq_linear_phase: bool,
    pub eq: EqSettings,
    pub compressor: CompressorSettings,
    pub stereo_enabled: bool,
    pub stereo: StereoSettings,
    pub limiter: LimiterSettings,
    pub dither: DitherSettings,
}

impl Default for ChainSettings {
    /// The safe insert state: every module neutral or off except the limiter, which is on at a
    /// -1 dBTP ceiling with 0 dB drive.
    fn default() -> Self {
        Self {
            input_gain_db: 0.0,
            output_gain_db: 0.0,
            eq_enabled: false,
            eq_linear_phase: false,
            eq: EqSettings::default(),
            compressor: CompressorSettings {
                enabled: false,
                ..CompressorSettings::default()
            },
            stereo_enabled: false,
            stereo: StereoSettings::default(),
            limiter: LimiterSettings::default(),
            dither: DitherSettings::default(),
        }
    }
}

/// The parts of the settings that change the chain's latency.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Structure {
    linear_phase_eq: bool,
    lookahead_ms: f32,
}

impl Structure {
    fn of(s: &ChainSettings) -> Self {
        Self {
            linear_phase_eq: s.eq_enabled && s.eq_linear_phase,
            lookahead_ms: s.limiter.lookahead_ms,
        }
    }
}

/// Gain-reduction and level readings for meters, updated every block.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChainMeters {
    /// Compressor gain reduction in dB (positive = reducing).
    pub compressor_gr_db: f32,
    /// Limiter gain reduction in dB (positive = reducing).
    pub limiter_gr_db: f32,
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

    input_gain: Gain,
    eq: Eq,
    eq_fade: BypassFade,
    linear_phase: LinearPhaseEq,
    /// The EQ settings the current linear-phase kernels were designed for.
    linear_phase_designed_for: Option<EqSettings>,
    /// Whether the linear-phase kernels are redesigned off-thread (plugin) or inline (offline).
    linear_phase_requests: Option<rtrb::Producer<EqSettings>>,
    compressor: Compressor,
    compressor_fade: BypassFade,
    stereo: Stereo,
    stereo_fade: BypassFade,
    limiter: Limiter,
    output_gain: Gain,
    dither: Dither,

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
        Self {
            sample_rate: fs,
            settings,
            structure: Structure::of(&settings),
            pending_structure: None,
            structural_gain: 1.0,
            input_fade: 1.0,
            structural_step: 1.0 / (STRUCTURAL_FADE_SECONDS * fs),
            input_gain: Gain::new(),
            eq: Eq::new(),
            eq_fade: BypassFade::new(false),
            linear_phase: LinearPhaseEq::new(),
            linear_phase_designed_for: None,
            linear_phase_requests: None,
            compressor: Compressor::new(fs),
            compressor_fade: BypassFade::new(false),
            stereo: Stereo::new(fs),
            stereo_fade: BypassFade::new(false),
            limiter: Limiter::new(fs),
            output_gain: Gain::new(),
            dither: Dither::new(fs),
            scratch_left: vec![0.0; MAX_CHUNK],
            scratch_right: vec![0.0; MAX_CHUNK],
            meters: ChainMeters::default(),
        }
    }

    /// Prepares every module for `sample_rate` with the current settings and clears all state.
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
        self.input_gain.reset(fs);
        self.eq.reset(fs);
        self.linear_phase.reset(fs);
        self.linear_phase_designed_for = None;
        self.compressor.reset(fs);
        self.stereo.reset(fs);
        self.limiter.reset(fs);
        self.output_gain.reset(fs);
        self.dither.reset(fs);
        self.apply_module_settings();
        for fade in [
            &mut self.eq_fade,
            &mut self.compressor_fade,
            &mut self.stereo_fade,
        ] {
            fade.reset(fs);
        }
        self.input_gain.reset(fs);
        self.output_gain.reset(fs);
        if self.structure.linear_phase_eq {
            self.design_linear_phase_now();
        }
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// Hands linear-phase redesign to a background thread for the current sample rate: from
    /// now on `set` only queues the new EQ settings (allocation-free) and the designer sends
    /// kernels back through the linear-phase EQ's kernel channel. Without a designer the chain
    /// designs inline in `set` (offline rendering, tests). Call after [`Chain::reset`] (the
    /// kernels are sized for the rate); allocates and spawns a thread.
    pub fn attach_linear_phase_designer(&mut self) -> LinearPhaseDesigner {
        let (designer, requests) =
            LinearPhaseDesigner::spawn(self.sample_rate, self.linear_phase.kernel_channel());
        self.linear_phase_requests = Some(requests);
        designer
    }

    /// Designs and installs linear-phase kernels for the current EQ settings right now.
    /// Allocates; not for the audio thread.
    pub fn design_linear_phase_now(&mut self) {
        let eq = self.settings.eq;
        let kernels = LinearPhaseKernels::for_eq(&eq, self.sample_rate);
        // The kernels are designed for this rate's length and partition size, so they fit.
        let _ = self.linear_phase.set_kernels_now(Box::new(kernels));
        self.linear_phase_designed_for = Some(eq);
    }

    /// Applies new settings. Allocation-free when a background designer is attached (the
    /// plugin); changes are smoothed inside the modules, latency changes are faded.
    pub fn set(&mut self, settings: &ChainSettings) {
        self.settings = *settings;
        let wanted = Structure::of(settings);
        if wanted != self.structure {
            // Start (or retarget) a structural fade; the switch happens at the bottom of it.
            self.pending_structure = Some(wanted);
        } else {
            self.pending_structure = None;
        }
        self.apply_module_settings();
        if self.structure.linear_phase_eq || wanted.linear_phase_eq {
            self.request_linear_phase_design();
        }
    }

    fn apply_module_settings(&mut self) {
        let s = self.settings;
        self.input_gain.set_gain_db(s.input_gain_db);
        self.output_gain.set_gain_db(s.output_gain_db);
        self.eq.set(&s.eq);
        self.eq_fade
            .set_enabled(s.eq_enabled && !self.structure.linear_phase_eq);
        self.compressor.set(&s.compressor);
        self.compressor_fade.set_enabled(s.compressor.enabled);
        self.stereo.set(&s.stereo);
        self.stereo_fade.set_enabled(s.stereo_enabled);
        // Lookahead is structural: the limiter keeps the current one until the fade switches.
        let limiter = LimiterSettings {
            lookahead_ms: self.structure.lookahead_ms,
            ..s.limiter
        };
        self.limiter.set(&limiter);
        self.dither.set(&s.dither);
    }

    fn request_linear_phase_design(&mut self) {
        let eq = self.settings.eq;
        if self.linear_phase_designed_for == Some(eq) {
            return;
        }
        match &mut self.linear_phase_requests {
            Some(requests) => {
                // Full queue: the designer is busy; the next block asks again.
                if requests.push(eq).is_ok() {
                    self.linear_phase_designed_for = Some(eq);
                }
            }
            None => self.design_linear_phase_now(),
        }
    }

    /// Latency of the whole chain in samples: exactly the delay of an impulse through
    /// `process`. Changes only at the bottom of a structural fade.
    pub fn latency_samples(&self) -> u32 {
        let eq = if self.structure.linear_phase_eq {
            linear_phase_latency_samples(self.sample_rate)
        } else {
            0
        };
        eq + self.limiter.latency_samples()
    }

    /// The latency a chain with `settings` has at `sample_rate` once they are in place, without
    /// a chain: hosts ask for it after a state load, before activation and the first block
    /// (`Plugin::latency_for`). Equal to [`Self::latency_samples`] after `set` + `reset`.
    pub fn latency_for(settings: &ChainSettings, sample_rate: f32) -> u32 {
        let structure = Structure::of(settings);
        let eq = if structure.linear_phase_eq {
            linear_phase_latency_samples(sample_rate)
        } else {
            0
        };
        eq + Limiter::latency_for(structure.lookahead_ms, sample_rate)
    }

    /// Gain reduction readings of the last block.
    pub fn meters(&self) -> ChainMeters {
        self.meters
    }

    /// Processes one stereo block in place. Any length; mono callers pass a copy of the
    /// channel as `right` (see `lib.rs`).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut compressor_gr = 0.0f32;
        let mut limiter_gr = 0.0f32;
        let mut start = 0;
        while start < len {
            let end = (start + MAX_CHUNK).min(len);
            self.process_chunk(&mut left[start..end], &mut right[start..end]);
            compressor_gr = compressor_gr.max(self.compressor.gain_reduction_db());
            limiter_gr = limiter_gr.max(self.limiter.gain_reduction_db());
            start = end;
        }
        self.meters = ChainMeters {
            compressor_gr_db: if self.compressor_fade.is_bypassed() {
                0.0
            } else {
                compressor_gr
            },
            limiter_gr_db: if self.settings.limiter.enabled {
                limiter_gr
            } else {
                0.0
            },
        };
    }

    fn process_chunk(&mut self, left: &mut [f32], right: &mut [f32]) {
        self.input_gain.process(left, right);
        self.apply_structural_fade_in(left, right);

        let (dry_l, dry_r) = (&mut self.scratch_left, &mut self.scratch_right);

        if self.structure.linear_phase_eq {
            linear_phase_process(&mut self.linear_phase, left, right);
        } else {
            if self.eq_fade.is_starting() {
                self.eq.clear();
            }
            let eq = &mut self.eq;
            self.eq_fade
                .process(left, right, dry_l, dry_r, |l, r| eq.process(l, r));
        }

        if self.compressor_fade.is_starting() {
            self.compressor.clear();
        }
        let compressor = &mut self.compressor;
        self.compressor_fade
            .process(left, right, dry_l, dry_r, |l, r| compressor.process(l, r));

        if self.stereo_fade.is_starting() {
            self.stereo.clear();
        }
        let stereo = &mut self.stereo;
        self.stereo_fade
            .process(left, right, dry_l, dry_r, |l, r| stereo.process(l, r));

        self.limiter.process(left, right);
        self.output_gain.process(left, right);
        self.apply_structural_fade_out(left, right);
        self.dither.process(left, right);
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

    /// Applies a latency change at the bottom of the structural fade-out. Allocation-free: the
    /// limiter's delay lines and the convolver were sized in `reset`.
    fn switch_structure(&mut self, next: Structure) {
        self.structure = next;
        // New lookahead first, then clear: the limiter starts at the new latency at once
        // instead of running its own lookahead fade (the chain is silent here).
        self.apply_module_settings();
        self.linear_phase.clear();
        self.eq.clear();
        self.compressor.clear();
        self.stereo.clear();
        self.limiter.clear();
        self.eq_fade.reset(self.sample_rate);
        self.structural_gain = 1.0;
        self.input_fade = 0.0;
    }
}

/// Runs the linear-phase EQ in the mid/side domain (its kernels are the mid and side curves).
fn linear_phase_process(eq: &mut LinearPhaseEq, left: &mut [f32], right: &mut [f32]) {
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let (m, s) = ((*l + *r) * 0.5, (*l - *r) * 0.5);
        *l = m;
        *r = s;
    }
    eq.process(left, right);
    for (m, s) in left.iter_mut().zip(right.iter_mut()) {
        let (l, r) = (*m + *s, *m - *s);
        *m = l;
        *s = r;
    }
}
