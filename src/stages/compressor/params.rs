//! The compressor's host parameters (`comp_*`), ranges from `dsp::dynamics::compressor`.

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::dynamics::compressor;
use crate::params::text::{
    freq_param, gain_db_param, in_range, ms_param, parse_ratio, percent_param, skewed_param,
    switch_param,
};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

#[derive(Params)]
pub struct CompressorParams {
    #[id = "comp_on"]
    pub enabled: BoolParam,
    #[id = "comp_threshold"]
    pub threshold: FloatParam,
    #[id = "comp_ratio"]
    pub ratio: FloatParam,
    #[id = "comp_knee"]
    pub knee: FloatParam,
    #[id = "comp_attack"]
    pub attack: FloatParam,
    #[id = "comp_release"]
    pub release: FloatParam,
    #[id = "comp_auto_release"]
    pub auto_release: BoolParam,
    #[id = "comp_sc_hpf_on"]
    pub sidechain_hpf_enabled: BoolParam,
    #[id = "comp_sc_hpf"]
    pub sidechain_hpf: FloatParam,
    #[id = "comp_mix"]
    pub mix: FloatParam,
    #[id = "comp_makeup"]
    pub makeup: FloatParam,
}

impl Default for CompressorParams {
    fn default() -> Self {
        let d = compressor::CompressorSettings::default();
        Self {
            enabled: switch_param("Comp On", false),
            threshold: gain_db_param("Comp Threshold", compressor::THRESHOLD_DB),
            ratio: skewed_param("Comp Ratio", compressor::RATIO, -1.5)
                .with_value_to_string(formatters::v2s_compression_ratio(2))
                .with_string_to_value(Arc::new(parse_ratio)),
            knee: gain_db_param("Comp Knee", compressor::KNEE_DB),
            attack: ms_param("Comp Attack", compressor::ATTACK_MS),
            release: ms_param("Comp Release", compressor::RELEASE_MS),
            auto_release: switch_param("Comp Auto Release", d.auto_release),
            sidechain_hpf_enabled: switch_param("Comp SC HPF On", d.sidechain_hpf_enabled),
            sidechain_hpf: freq_param("Comp SC HPF", compressor::SIDECHAIN_HPF_HZ),
            mix: percent_param("Comp Mix", compressor::MIX),
            makeup: gain_db_param("Comp Makeup", compressor::MAKEUP_DB),
        }
    }
}

impl CompressorParams {
    pub fn settings(&self) -> compressor::CompressorSettings {
        compressor::CompressorSettings {
            enabled: self.enabled.value(),
            threshold_db: in_range(&self.threshold),
            ratio: in_range(&self.ratio),
            knee_db: in_range(&self.knee),
            attack_ms: in_range(&self.attack),
            release_ms: in_range(&self.release),
            auto_release: self.auto_release.value(),
            sidechain_hpf_enabled: self.sidechain_hpf_enabled.value(),
            sidechain_hpf_hz: in_range(&self.sidechain_hpf),
            mix: in_range(&self.mix),
            makeup_db: in_range(&self.makeup),
        }
    }
}

impl StageParamGroup for CompressorParams {
    fn read(&self, s: &mut ChainSettings) {
        s.compressor = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        let c = &s.compressor;
        w.switch(&self.enabled, c.enabled);
        w.float(&self.threshold, c.threshold_db);
        w.float(&self.ratio, c.ratio);
        w.float(&self.knee, c.knee_db);
        w.float(&self.attack, c.attack_ms);
        w.float(&self.release, c.release_ms);
        w.switch(&self.auto_release, c.auto_release);
        w.switch(&self.sidechain_hpf_enabled, c.sidechain_hpf_enabled);
        w.float(&self.sidechain_hpf, c.sidechain_hpf_hz);
        w.float(&self.mix, c.mix);
        w.float(&self.makeup, c.makeup_db);
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
