//! The multiband saturation stage (`dsp::shaping::saturation`): after the movable stages,
//! before the clipper and the limiter (colour first, then the peaks, then the ceiling: the
//! order of a loudness chain).
//!
//! Like the clipper: off, it is out of the path with no latency; on, it delays by its
//! oversampling filters, so switching it or changing the factor is structural
//! ([`Structure::saturation_oversampling`]); at 1x it switches with a crossfade.

pub mod panel;
mod params;

pub use params::{
    SaturationBandParams, SaturationBandsParam, SaturationCurveParam, SaturationParams,
};

use crate::dsp::shaping::saturation::{Saturation, SaturationSettings};
use crate::dsp::util::bypass::{BypassFade, Switchable};
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct SaturationStage {
    saturation: Saturation,
    fade: BypassFade,
}

impl Default for SaturationStage {
    fn default() -> Self {
        Self {
            saturation: Saturation::new(48_000.0),
            fade: BypassFade::new(false),
        }
    }
}

impl Switchable for Saturation {
    fn clear(&mut self) {
        Saturation::clear(self);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        Saturation::process(self, left, right);
    }
}

impl SaturationStage {
    /// The stage's latency with `structure` at `sample_rate` (0 while off).
    pub fn latency_for(structure: &Structure, sample_rate: f32) -> u32 {
        Saturation::latency_for(structure.saturation_oversampling, sample_rate)
    }

    /// The loudness the automatic gain takes back out, dB (what the editor shows).
    pub fn auto_gain_db(&self) -> f32 {
        if self.fade.is_bypassed() {
            0.0
        } else {
            -self.saturation.loudness_offset_db()
        }
    }
}

impl StageProcessor for SaturationStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.set(s, structure);
        self.saturation.reset(sample_rate);
        self.fade.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, structure: &Structure) {
        // The factor is structural: the one in place until the chain's fade switches it.
        self.saturation.set(&SaturationSettings {
            oversampling: structure.saturation_oversampling,
            ..s.saturation
        });
        self.fade.set_enabled(s.saturation.enabled);
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    ) {
        self.fade
            .run(&mut self.saturation, left, right, dry_left, dry_right);
    }

    fn clear(&mut self) {
        self.saturation.clear();
    }

    fn is_active(&self) -> bool {
        !self.fade.is_bypassed()
    }

    fn latency_samples(&self) -> u32 {
        self.saturation.latency_samples()
    }
}
