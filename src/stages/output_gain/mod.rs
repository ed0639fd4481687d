//! The output gain stage: a smoothed gain after the limiter, before the dither (so the dither
//! stays last).

pub mod panel;

use nice_plug::prelude::*;

use crate::dsp::util::gain::{Gain, GAIN_DB};
use crate::params::text::{gain_db_param, in_range};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup, StageProcessor, Structure};

#[derive(Default)]
pub struct OutputGainStage {
    gain: Gain,
}

impl StageProcessor for OutputGainStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.set(s, structure);
        // After the target: a reset lands on it without a ramp.
        self.gain.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, _structure: &Structure) {
        self.gain.set_gain_db(s.output_gain_db);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32], _: &mut [f32], _: &mut [f32]) {
        self.gain.process(left, right);
    }

    /// A gain holds no signal.
    fn clear(&mut self) {}
}

#[derive(Params)]
pub struct OutputGainParams {
    /// In dB.
    #[id = "output_gain"]
    pub gain: FloatParam,
}

impl Default for OutputGainParams {
    fn default() -> Self {
        Self {
            gain: gain_db_param("Output Gain", GAIN_DB),
        }
    }
}

impl StageParamGroup for OutputGainParams {
    fn read(&self, s: &mut ChainSettings) {
        s.output_gain_db = in_range(&self.gain);
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        w.float(&self.gain, s.output_gain_db);
    }

    fn enabled(&self) -> Option<&BoolParam> {
        None
    }
}
