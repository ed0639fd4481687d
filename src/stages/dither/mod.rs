//! The dither stage, last in the chain: TPDF dither with optional noise shaping
//! (`dsp::dither`), after the output gain so the word length it dithers to is the delivered one.

pub mod panel;
mod params;

pub use params::{DitherModeParam, DitherParams};

use crate::dsp::dither::Dither;
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct DitherStage {
    dither: Dither,
}

impl Default for DitherStage {
    fn default() -> Self {
        Self {
            dither: Dither::new(48_000.0),
        }
    }
}

impl StageProcessor for DitherStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.dither.reset(sample_rate);
        self.set(s, structure);
    }

    fn set(&mut self, s: &ChainSettings, _structure: &Structure) {
        self.dither.set(&s.dither);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32], _: &mut [f32], _: &mut [f32]) {
        self.dither.process(left, right);
    }

    /// Dither holds no signal (its noise-shaping error feedback is a few samples of
    /// quantisation error, which the chain's fade leaves at silence).
    fn clear(&mut self) {}
}
