//! The high-frequency limiter's host parameters (`hfl_*`), ranges from
//! `dsp::dynamics::hf_limiter`.

use nice_plug::prelude::*;

use crate::dsp::dynamics::hf_limiter::{self, HfLimiterSettings};
use crate::params::text::{freq_param, gain_db_param, in_range, ms_param, switch_param};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

#[derive(Params)]
pub struct HfLimiterParams {
    /// Switching changes the latency: structural, faded by the chain (like the clipper's).
    #[id = "hfl_on"]
    pub enabled: BoolParam,
    #[id = "hfl_limit"]
    pub limit: FloatParam,
    #[id = "hfl_split"]
    pub split: FloatParam,
    #[id = "hfl_release"]
    pub release: FloatParam,
}

impl Default for HfLimiterParams {
    fn default() -> Self {
        let d = HfLimiterSettings::default();
        Self {
            enabled: switch_param("HF Limiter On", d.enabled),
            limit: gain_db_param("HF Limiter Limit", hf_limiter::LIMIT_DB),
            split: freq_param("HF Limiter Split", hf_limiter::SPLIT_HZ),
            release: ms_param("HF Limiter Release", hf_limiter::RELEASE_MS),
        }
    }
}

impl HfLimiterParams {
    pub fn settings(&self) -> HfLimiterSettings {
        HfLimiterSettings {
            enabled: self.enabled.value(),
            limit_db: in_range(&self.limit),
            split_hz: in_range(&self.split),
            release_ms: in_range(&self.release),
        }
    }
}

impl StageParamGroup for HfLimiterParams {
    fn read(&self, s: &mut ChainSettings) {
        s.hf_limiter = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        let h = &s.hf_limiter;
        w.switch(&self.enabled, h.enabled);
        w.float(&self.limit, h.limit_db);
        w.float(&self.split, h.split_hz);
        w.float(&self.release, h.release_ms);
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
