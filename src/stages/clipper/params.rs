//! The clipper's host parameters (`clip_*`), ranges from `dsp::shaping::clipper`.

use nice_plug::prelude::*;

use crate::dsp::shaping::clipper::{self, ClipperSettings};
use crate::dsp::shaping::curves::ClipCurve;
use crate::params::text::{gain_db_param, in_range, switch_param};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipCurveParam {
    #[id = "hard"]
    #[name = "Hard"]
    Hard,
    #[id = "soft"]
    #[name = "Soft"]
    Soft,
    #[id = "tanh"]
    #[name = "Tanh"]
    Tanh,
}

impl ClipCurveParam {
    pub fn curve(self) -> ClipCurve {
        match self {
            ClipCurveParam::Hard => ClipCurve::Hard,
            ClipCurveParam::Soft => ClipCurve::Soft,
            ClipCurveParam::Tanh => ClipCurve::Tanh,
        }
    }

    pub fn of(curve: ClipCurve) -> Self {
        match curve {
            ClipCurve::Hard => ClipCurveParam::Hard,
            ClipCurve::Soft => ClipCurveParam::Soft,
            ClipCurve::Tanh => ClipCurveParam::Tanh,
        }
    }
}

/// Oversampling factor of a nonlinear stage (clipper, saturation). Not automatable: it
/// changes the latency.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OversamplingParam {
    #[id = "1x"]
    #[name = "1x"]
    X1,
    #[id = "2x"]
    #[name = "2x"]
    X2,
    #[id = "4x"]
    #[name = "4x"]
    X4,
    #[id = "8x"]
    #[name = "8x"]
    X8,
    #[id = "16x"]
    #[name = "16x"]
    X16,
}

impl OversamplingParam {
    pub fn factor(self) -> usize {
        1 << self.to_index()
    }

    pub fn of(factor: usize) -> Self {
        Self::from_index(
            (crate::dsp::filters::oversampler::valid_factor(factor).trailing_zeros() as usize)
                .min(4),
        )
    }
}

#[derive(Params)]
pub struct ClipperParams {
    #[id = "clip_on"]
    pub enabled: BoolParam,
    #[id = "clip_drive"]
    pub drive: FloatParam,
    #[id = "clip_ceiling"]
    pub ceiling: FloatParam,
    #[id = "clip_curve"]
    pub curve: EnumParam<ClipCurveParam>,
    #[id = "clip_oversampling"]
    pub oversampling: EnumParam<OversamplingParam>,
}

impl Default for ClipperParams {
    fn default() -> Self {
        let d = ClipperSettings::default();
        Self {
            enabled: switch_param("Clipper On", d.enabled),
            drive: gain_db_param("Clipper Drive", clipper::DRIVE_DB),
            ceiling: gain_db_param("Clipper Ceiling", clipper::CEILING_DB),
            curve: EnumParam::new("Clipper Curve", ClipCurveParam::of(d.curve)),
            oversampling: EnumParam::new(
                "Clipper Oversampling",
                OversamplingParam::of(d.oversampling),
            )
            .non_automatable(),
        }
    }
}

impl ClipperParams {
    pub fn settings(&self) -> ClipperSettings {
        ClipperSettings {
            enabled: self.enabled.value(),
            drive_db: in_range(&self.drive),
            ceiling_db: in_range(&self.ceiling),
            curve: self.curve.value().curve(),
            oversampling: self.oversampling.value().factor(),
        }
    }
}

impl StageParamGroup for ClipperParams {
    fn read(&self, s: &mut ChainSettings) {
        s.clipper = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        let c = &s.clipper;
        w.switch(&self.enabled, c.enabled);
        w.float(&self.drive, c.drive_db);
        w.float(&self.ceiling, c.ceiling_db);
        w.choice(&self.curve, ClipCurveParam::of(c.curve));
        w.choice(&self.oversampling, OversamplingParam::of(c.oversampling));
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
