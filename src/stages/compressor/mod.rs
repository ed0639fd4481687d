//! The glue compressor stage (`dsp::dynamics::compressor`), crossfaded on and off.

pub mod panel;
mod params;

pub use params::CompressorParams;

use crate::dsp::dynamics::compressor::Compressor;
use crate::dsp::util::bypass::BypassFade;
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct CompressorStage {
    compressor: Compressor,
    fade: BypassFade,
}

impl Default for CompressorStage {
    fn default() -> Self {
        Self {
            compressor: Compressor::new(48_000.0),
            fade: BypassFade::new(false),
        }
    }
}

impl CompressorStage {
    /// Gain reduction of the last chunk in dB (0 while bypassed).
    pub fn gain_reduction_db(&self) -> f32 {
        if self.fade.is_bypassed() {
            0.0
        } else {
            self.compressor.gain_reduction_db()
        }
    }
}

impl StageProcessor for CompressorStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.compressor.reset(sample_rate);
        self.set(s, structure);
        self.fade.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, _structure: &Structure) {
        self.compressor.set(&s.compressor);
        self.fade.set_enabled(s.compressor.enabled);
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    ) {
        self.fade
            .run(&mut self.compressor, left, right, dry_left, dry_right);
    }

    fn clear(&mut self) {
        self.compressor.clear();
    }

    fn is_active(&self) -> bool {
        !self.fade.is_bypassed()
    }
}
