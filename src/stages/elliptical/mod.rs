//! The elliptical EQ stage (`dsp::filters::elliptical`): the low end made mono below a corner
//! by a high-pass on the side only, for a vinyl cut. Zero latency; the DSP crossfades its own
//! switching (20 ms) and glides its corner, so it needs no bypass fade of its own.
//!
//! Default place: after the movable stages that can widen the image (stereo, multiband), so
//! the cut's low end is mono whatever came before it.

pub mod panel;
mod params;

pub use params::EllipticalParams;

use crate::dsp::filters::elliptical::EllipticalEq;
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct EllipticalStage {
    eq: EllipticalEq,
}

impl Default for EllipticalStage {
    fn default() -> Self {
        Self {
            eq: EllipticalEq::new(48_000.0),
        }
    }
}

impl StageProcessor for EllipticalStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.set(s, structure);
        self.eq.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, _structure: &Structure) {
        self.eq.set(&s.elliptical);
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        _dry_left: &mut [f32],
        _dry_right: &mut [f32],
    ) {
        self.eq.process(left, right);
    }

    fn clear(&mut self) {
        self.eq.clear();
    }

    fn is_active(&self) -> bool {
        !self.eq.is_neutral()
    }
}
