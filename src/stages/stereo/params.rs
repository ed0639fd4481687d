//! The stereo stage's host parameters (`st_*`), ranges from `dsp::stereo`.

use nice_plug::prelude::*;

use crate::dsp::stereo;
use crate::params::text::{freq_param, in_range, percent_param, switch_param};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

#[derive(Params)]
pub struct StereoParams {
    #[id = "st_on"]
    pub enabled: BoolParam,
    #[id = "st_width"]
    pub width: FloatParam,
    #[id = "st_mono_bass_on"]
    pub mono_bass_enabled: BoolParam,
    #[id = "st_mono_bass"]
    pub mono_bass: FloatParam,
}

impl Default for StereoParams {
    fn default() -> Self {
        let d = stereo::StereoSettings::default();
        Self {
            enabled: switch_param("Stereo On", false),
            width: percent_param("Width", stereo::WIDTH),
            mono_bass_enabled: switch_param("Mono Bass On", d.mono_bass_enabled),
            mono_bass: freq_param("Mono Bass Freq", stereo::MONO_BASS_HZ),
        }
    }
}

impl StereoParams {
    pub fn settings(&self) -> stereo::StereoSettings {
        stereo::StereoSettings {
            width: in_range(&self.width),
            mono_bass_enabled: self.mono_bass_enabled.value(),
            mono_bass_hz: in_range(&self.mono_bass),
        }
    }
}

impl StageParamGroup for StereoParams {
    fn read(&self, s: &mut ChainSettings) {
        s.stereo_enabled = self.enabled.value();
        s.stereo = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        w.switch(&self.enabled, s.stereo_enabled);
        w.float(&self.width, s.stereo.width);
        w.switch(&self.mono_bass_enabled, s.stereo.mono_bass_enabled);
        w.float(&self.mono_bass, s.stereo.mono_bass_hz);
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
