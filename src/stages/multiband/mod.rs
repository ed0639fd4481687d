//! The multiband dynamics stage (`dsp::dynamics::multiband`): a movable stage, after the
//! stereo stage by default (the full-band tone and glue first, then the band-wise control,
//! before the colour and the peaks of the last stages).
//!
//! Off, it is out of the path with no latency and costs nothing. On, it delays by its
//! lookahead and, in linear phase, its FIR crossover, so switching it on or off with either,
//! or changing them, is structural ([`Structure::multiband_lookahead_ms`],
//! [`Structure::multiband_linear_phase`]), like the clipper's oversampling; with neither it
//! switches with a crossfade.
//!
//! Solo and compare are listening aids: offline (a bounce) they are ignored, as the chain's
//! stage compare is.

pub mod panel;
mod params;

pub use params::{
    ChannelsParam, DirectionParam, MultibandBandParams, MultibandBandsParam, MultibandParams,
    PhaseParam,
};

use crate::dsp::dynamics::multiband::{self, Multiband, MultibandSettings, MAX_BANDS};
use crate::dsp::util::bypass::{BypassFade, Switchable};
use crate::dsp::util::designer_thread::DesignerThread;
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct MultibandStage {
    multiband: Multiband,
    fade: BypassFade,
    offline: bool,
}

impl Default for MultibandStage {
    fn default() -> Self {
        Self {
            multiband: Multiband::new(48_000.0),
            fade: BypassFade::new(false),
            offline: false,
        }
    }
}

impl Switchable for Multiband {
    fn clear(&mut self) {
        Multiband::clear(self);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        Multiband::process(self, left, right);
    }
}

impl MultibandStage {
    /// Hands the linear-phase crossover's redesign to a background thread (see
    /// `Multiband::attach_crossover_designer`). Call after a reset; allocates.
    pub fn attach_crossover_designer(&mut self) -> DesignerThread {
        self.multiband.attach_crossover_designer()
    }

    /// The stage's latency with `structure` at `sample_rate` (0 while off).
    pub fn latency_for(structure: &Structure, sample_rate: f32) -> u32 {
        multiband::latency_for(
            structure.multiband_lookahead_ms,
            structure.multiband_linear_phase,
            sample_rate,
        )
    }

    /// The lookahead a chain with `s` has in place (0 while the stage is off).
    pub fn structural_lookahead_ms(s: &MultibandSettings) -> f32 {
        if s.enabled {
            multiband::LOOKAHEAD_MS.sanitize(s.lookahead_ms)
        } else {
            0.0
        }
    }

    /// Offline (a bounce): solos and compares are ignored.
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
    }

    /// Each band's gain change in the last chunk, dB (negative = reduction; 0 while off or
    /// for bands not in use).
    pub fn gain_change_db(&self) -> [f32; MAX_BANDS] {
        if self.fade.is_bypassed() {
            [0.0; MAX_BANDS]
        } else {
            self.multiband.gain_change_db()
        }
    }

    fn dsp_settings(&self, s: &ChainSettings, structure: &Structure) -> MultibandSettings {
        let mut m = MultibandSettings {
            // The lookahead and the crossover mode are structural: the ones in place until the
            // chain's fade switches them.
            lookahead_ms: structure.multiband_lookahead_ms,
            linear_phase: structure.multiband_linear_phase,
            ..s.multiband
        };
        if self.offline {
            for b in &mut m.band {
                b.solo = false;
                b.compare = false;
            }
        }
        m
    }
}

impl StageProcessor for MultibandStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.set(s, structure);
        self.multiband.reset(sample_rate);
        self.fade.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, structure: &Structure) {
        let m = self.dsp_settings(s, structure);
        self.multiband.set(&m);
        self.fade.set_enabled(s.multiband.enabled);
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    ) {
        self.fade
            .run(&mut self.multiband, left, right, dry_left, dry_right);
    }

    fn clear(&mut self) {
        self.multiband.clear();
    }

    fn is_active(&self) -> bool {
        !self.fade.is_bypassed()
    }

    fn latency_samples(&self) -> u32 {
        // The structure's lookahead and linear-phase crossover: 0 while off.
        self.multiband.latency_samples()
    }
}
