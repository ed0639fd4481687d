//! The dither's host parameters.

use nice_plug::prelude::*;

use crate::dsp::dither;
use crate::params::text::switch_param;
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DitherModeParam {
    #[id = "off"]
    #[name = "Off"]
    Off,
    #[id = "24"]
    #[name = "24-bit"]
    Bits24,
    #[id = "16"]
    #[name = "16-bit"]
    Bits16,
}

#[derive(Params)]
pub struct DitherParams {
    #[id = "dither_mode"]
    pub mode: EnumParam<DitherModeParam>,
    #[id = "dither_shaping"]
    pub noise_shaping: BoolParam,
}

impl Default for DitherParams {
    fn default() -> Self {
        Self {
            mode: EnumParam::new("Dither", DitherModeParam::Off),
            noise_shaping: switch_param("Noise Shaping", false),
        }
    }
}

impl DitherParams {
    pub fn settings(&self) -> dither::DitherSettings {
        dither::DitherSettings {
            mode: match self.mode.value() {
                DitherModeParam::Off => dither::DitherMode::Off,
                DitherModeParam::Bits24 => dither::DitherMode::Bits24,
                DitherModeParam::Bits16 => dither::DitherMode::Bits16,
            },
            noise_shaping: self.noise_shaping.value(),
        }
    }
}

impl StageParamGroup for DitherParams {
    fn read(&self, s: &mut ChainSettings) {
        s.dither = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        let mode = match s.dither.mode {
            dither::DitherMode::Off => DitherModeParam::Off,
            dither::DitherMode::Bits24 => DitherModeParam::Bits24,
            dither::DitherMode::Bits16 => DitherModeParam::Bits16,
        };
        w.choice(&self.mode, mode);
        w.switch(&self.noise_shaping, s.dither.noise_shaping);
    }

    /// Off is a mode of its own (the choice), not a switch.
    fn enabled(&self) -> Option<&BoolParam> {
        None
    }
}
