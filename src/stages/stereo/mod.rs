//! The stereo stage: width and phase-coherent mono bass (`dsp::stereo`), crossfaded on and off.

pub mod panel;
mod params;

pub use params::StereoParams;

use crate::dsp::stereo::Stereo;
use crate::dsp::util::bypass::BypassFade;
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct StereoStage {
    stereo: Stereo,
    fade: BypassFade,
}

impl Default for StereoStage {
    fn default() -> Self {
        Self {
            stereo: Stereo::new(48_000.0),
            fade: BypassFade::new(false),
        }
    }
}

impl StageProcessor for StereoStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.stereo.reset(sample_rate);
        self.set(s, structure);
        self.fade.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, _structure: &Structure) {
        self.stereo.set(&s.stereo);
        self.fade.set_enabled(s.stereo_enabled);
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    ) {
        self.fade
            .run(&mut self.stereo, left, right, dry_left, dry_right);
    }

    fn clear(&mut self) {
        self.stereo.clear();
    }

    fn is_active(&self) -> bool {
        !self.fade.is_bypassed()
    }
}
