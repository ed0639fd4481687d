//! The elliptical EQ's host parameters (`ell_*`), ranges from `dsp::filters::elliptical`.

use nice_plug::prelude::*;

use crate::dsp::filters::elliptical::{self, EllipticalSettings};
use crate::params::text::{freq_param, in_range, switch_param};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

#[derive(Params)]
pub struct EllipticalParams {
    #[id = "ell_on"]
    pub enabled: BoolParam,
    #[id = "ell_freq"]
    pub crossover: FloatParam,
}

impl Default for EllipticalParams {
    fn default() -> Self {
        let d = EllipticalSettings::default();
        Self {
            enabled: switch_param("Elliptical EQ On", d.enabled),
            crossover: freq_param("Elliptical EQ Freq", elliptical::CROSSOVER_HZ),
        }
    }
}

impl EllipticalParams {
    pub fn settings(&self) -> EllipticalSettings {
        EllipticalSettings {
            enabled: self.enabled.value(),
            crossover_hz: in_range(&self.crossover),
        }
    }
}

impl StageParamGroup for EllipticalParams {
    fn read(&self, s: &mut ChainSettings) {
        s.elliptical = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        w.switch(&self.enabled, s.elliptical.enabled);
        w.float(&self.crossover, s.elliptical.crossover_hz);
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
