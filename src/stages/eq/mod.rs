//! The EQ stage: the minimum-phase SVF EQ (crossfaded on and off) or, in linear-phase mode,
//! the linear-phase EQ in the mid/side domain, whose kernels are designed off the audio
//! thread (`LinearPhaseDesigner`) in the plugin and inline offline. Linear-phase mode adds
//! latency, so the chain switches it only at the bottom of its structural fade
//! ([`Structure::linear_phase_eq`]).

mod dynamic_params;
pub mod matching;
pub mod panel;
mod params;

pub use dynamic_params::DynamicParams;
pub use params::{BandParams, ChannelsParam, CutParams, EqModeParam, EqParams, SlopeParam};

use crate::dsp::filters::eq::{Eq, EqSettings};
use crate::dsp::filters::linear_phase::{
    linear_phase_latency_samples, LinearPhaseEq, LinearPhaseKernels,
};
use crate::dsp::filters::linear_phase_designer::{LinearPhaseDesign, LinearPhaseDesigner};
use crate::dsp::filters::match_curve::MatchCurve;
use crate::dsp::util::bypass::BypassFade;
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct EqStage {
    sample_rate: f32,
    settings: EqSettings,
    /// The match EQ's curve, realised in the linear-phase kernels (flat in minimum phase).
    curve: MatchCurve,
    /// Whether the chain has linear-phase mode in place (its structure, not the request).
    linear_phase_active: bool,
    eq: Eq,
    fade: BypassFade,
    linear_phase: LinearPhaseEq,
    /// What the current linear-phase kernels were designed for.
    linear_phase_designed_for: Option<LinearPhaseDesign>,
    /// Whether the linear-phase kernels are redesigned off-thread (plugin) or inline (offline).
    linear_phase_requests: Option<rtrb::Producer<LinearPhaseDesign>>,
}

impl Default for EqStage {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            settings: EqSettings::default(),
            curve: MatchCurve::FLAT,
            linear_phase_active: false,
            eq: Eq::new(),
            fade: BypassFade::new(false),
            linear_phase: LinearPhaseEq::new(),
            linear_phase_designed_for: None,
            linear_phase_requests: None,
        }
    }
}

impl EqStage {
    /// The EQ's latency with `structure` at `sample_rate`: the linear-phase EQ's delay while
    /// it is in place, none in minimum-phase mode.
    pub fn latency_for(structure: &Structure, sample_rate: f32) -> u32 {
        if structure.linear_phase_eq {
            linear_phase_latency_samples(sample_rate)
        } else {
            0
        }
    }

    /// Hands linear-phase redesign to a background thread for the current sample rate: from
    /// now on `set` only queues the new EQ settings (allocation-free) and the designer sends
    /// kernels back through the linear-phase EQ's kernel channel. Without a designer the stage
    /// designs inline in `set` (offline rendering, tests). Call after `reset` (the kernels are
    /// sized for the rate); allocates and spawns a thread.
    pub fn attach_linear_phase_designer(&mut self) -> LinearPhaseDesigner {
        let (designer, requests) =
            LinearPhaseDesigner::spawn(self.sample_rate, self.linear_phase.kernel_channel());
        self.linear_phase_requests = Some(requests);
        designer
    }

    /// Designs and installs linear-phase kernels for the current EQ settings right now.
    /// Allocates; not for the audio thread.
    pub fn design_linear_phase_now(&mut self) {
        let design = self.design();
        let kernels: LinearPhaseKernels = design.kernels(self.sample_rate);
        // The kernels are designed for this rate's length and partition size, so they fit.
        let _ = self.linear_phase.set_kernels_now(Box::new(kernels));
        self.linear_phase_designed_for = Some(design);
    }

    fn design(&self) -> LinearPhaseDesign {
        LinearPhaseDesign {
            eq: self.settings,
            curve: self.curve,
        }
    }

    /// The dynamic bands' current gain movement (dB, slot order: low shelf, bells 1-4, high
    /// shelf). Zero while the EQ is off or in linear-phase mode, where dynamic bands act at
    /// their static gain (the linear-phase kernels are static).
    pub fn dynamic_movement_db(&self) -> [f32; crate::dsp::filters::eq::NUM_DYNAMIC] {
        if self.linear_phase_active || self.fade.is_bypassed() {
            [0.0; crate::dsp::filters::eq::NUM_DYNAMIC]
        } else {
            self.eq.dynamic_movement_db()
        }
    }

    fn request_linear_phase_design(&mut self) {
        let design = self.design();
        if self.linear_phase_designed_for == Some(design) {
            return;
        }
        match &mut self.linear_phase_requests {
            Some(requests) => {
                // Full queue: the designer is busy; the next block asks again.
                if requests.push(design).is_ok() {
                    self.linear_phase_designed_for = Some(design);
                }
            }
            None => self.design_linear_phase_now(),
        }
    }
}

impl StageProcessor for EqStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.sample_rate = sample_rate;
        self.settings = s.eq;
        self.curve = s.eq_match;
        self.linear_phase_active = structure.linear_phase_eq;
        self.eq.reset(sample_rate);
        self.eq.set(&s.eq);
        self.linear_phase.reset(sample_rate);
        self.linear_phase_designed_for = None;
        self.fade
            .set_enabled(s.eq_enabled && !structure.linear_phase_eq);
        self.fade.reset(sample_rate);
        if self.linear_phase_active {
            self.design_linear_phase_now();
        }
    }

    fn set(&mut self, s: &ChainSettings, structure: &Structure) {
        self.settings = s.eq;
        self.curve = s.eq_match;
        self.linear_phase_active = structure.linear_phase_eq;
        self.eq.set(&s.eq);
        self.fade
            .set_enabled(s.eq_enabled && !structure.linear_phase_eq);
        // Design ahead while a switch to linear phase waits for the chain's fade.
        if structure.linear_phase_eq || Structure::of(s).linear_phase_eq {
            self.request_linear_phase_design();
        }
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    ) {
        if self.linear_phase_active {
            linear_phase_process(&mut self.linear_phase, left, right);
            return;
        }
        self.fade
            .run(&mut self.eq, left, right, dry_left, dry_right);
    }

    fn clear(&mut self) {
        self.linear_phase.clear();
        self.eq.clear();
        self.fade.reset(self.sample_rate);
    }

    fn is_active(&self) -> bool {
        self.linear_phase_active || !self.fade.is_bypassed()
    }

    fn latency_samples(&self) -> u32 {
        if self.linear_phase_active {
            linear_phase_latency_samples(self.sample_rate)
        } else {
            0
        }
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
