//! The saturation's host parameters (`sat_*`, bands `sat_b1_*` ... `sat_b5_*`), ranges from
//! `dsp::shaping::saturation`.

use nice_plug::prelude::*;

use crate::dsp::shaping::curves::SaturationCurve;
use crate::dsp::shaping::saturation::{
    self, BandSettings, SaturationSettings, MAX_BANDS, MAX_SPLITS,
};
use crate::dsp::util::range::Range;
use crate::params::text::{
    freq_param, gain_db_param, in_range, parse_number_with_unit, switch_param,
};
use crate::params::writer::ParamWriter;
use crate::stages::clipper::OversamplingParam;
use crate::stages::{ChainSettings, StageParamGroup};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaturationCurveParam {
    #[id = "tube"]
    #[name = "Tube"]
    Tube,
    #[id = "tape"]
    #[name = "Tape"]
    Tape,
    #[id = "hard"]
    #[name = "Hard"]
    Hard,
}

impl SaturationCurveParam {
    pub fn curve(self) -> SaturationCurve {
        match self {
            SaturationCurveParam::Tube => SaturationCurve::Tube,
            SaturationCurveParam::Tape => SaturationCurve::Tape,
            SaturationCurveParam::Hard => SaturationCurve::Hard,
        }
    }

    pub fn of(curve: SaturationCurve) -> Self {
        match curve {
            SaturationCurve::Tube => SaturationCurveParam::Tube,
            SaturationCurve::Tape => SaturationCurveParam::Tape,
            SaturationCurve::Hard => SaturationCurveParam::Hard,
        }
    }
}

/// How many bands (a choice: the crossover's sections in use change with it).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaturationBandsParam {
    #[id = "2"]
    #[name = "2 bands"]
    Two,
    #[id = "3"]
    #[name = "3 bands"]
    Three,
    #[id = "4"]
    #[name = "4 bands"]
    Four,
    #[id = "5"]
    #[name = "5 bands"]
    Five,
}

impl SaturationBandsParam {
    pub fn count(self) -> usize {
        self.to_index() + saturation::MIN_BANDS
    }

    pub fn of(count: usize) -> Self {
        Self::from_index(count.clamp(saturation::MIN_BANDS, MAX_BANDS) - saturation::MIN_BANDS)
    }
}

/// One band: drive, mix and curve.
#[derive(Params)]
pub struct SaturationBandParams {
    #[id = "drive"]
    pub drive: FloatParam,
    #[id = "mix"]
    pub mix: FloatParam,
    #[id = "curve"]
    pub curve: EnumParam<SaturationCurveParam>,
}

/// A 0-100 % parameter (the saturation's mix is in percent in its DSP).
fn percent_0_100_param(name: &str, range: Range) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Linear {
            min: range.min,
            max: range.max,
        },
    )
    .with_unit(" %")
    .with_step_size(1.0)
    .with_value_to_string(formatters::v2s_f32_rounded(0))
    .with_string_to_value(parse_number_with_unit(&[("%", 1.0)]))
}

impl SaturationBandParams {
    fn new(band: usize) -> Self {
        let d = BandSettings::default();
        Self {
            drive: gain_db_param(&format!("Sat Band {band} Drive"), saturation::DRIVE_DB),
            mix: percent_0_100_param(&format!("Sat Band {band} Mix"), saturation::MIX_PERCENT),
            curve: EnumParam::new(
                format!("Sat Band {band} Curve"),
                SaturationCurveParam::of(d.curve),
            ),
        }
    }

    fn settings(&self) -> BandSettings {
        BandSettings {
            drive_db: in_range(&self.drive),
            mix_percent: in_range(&self.mix),
            curve: self.curve.value().curve(),
        }
    }
}

#[derive(Params)]
pub struct SaturationParams {
    #[id = "sat_on"]
    pub enabled: BoolParam,
    #[id = "sat_oversampling"]
    pub oversampling: EnumParam<OversamplingParam>,
    #[id = "sat_auto_gain"]
    pub auto_gain: BoolParam,
    #[id = "sat_bands"]
    pub bands: EnumParam<SaturationBandsParam>,
    #[id = "sat_split1"]
    pub split1: FloatParam,
    #[id = "sat_split2"]
    pub split2: FloatParam,
    #[id = "sat_split3"]
    pub split3: FloatParam,
    #[id = "sat_split4"]
    pub split4: FloatParam,
    #[nested(id_prefix = "sat_b1", group = "Band 1")]
    pub band1: SaturationBandParams,
    #[nested(id_prefix = "sat_b2", group = "Band 2")]
    pub band2: SaturationBandParams,
    #[nested(id_prefix = "sat_b3", group = "Band 3")]
    pub band3: SaturationBandParams,
    #[nested(id_prefix = "sat_b4", group = "Band 4")]
    pub band4: SaturationBandParams,
    #[nested(id_prefix = "sat_b5", group = "Band 5")]
    pub band5: SaturationBandParams,
}

impl Default for SaturationParams {
    fn default() -> Self {
        let d = SaturationSettings::default();
        let split = |i: usize| freq_param(&format!("Sat Split {}", i + 1), saturation::SPLIT_HZ[i]);
        Self {
            enabled: switch_param("Saturation On", d.enabled),
            oversampling: EnumParam::new(
                "Saturation Oversampling",
                OversamplingParam::of(d.oversampling),
            )
            .non_automatable(),
            auto_gain: switch_param("Saturation Auto Gain", d.auto_gain),
            bands: EnumParam::new("Saturation Bands", SaturationBandsParam::of(d.bands)),
            split1: split(0),
            split2: split(1),
            split3: split(2),
            split4: split(3),
            band1: SaturationBandParams::new(1),
            band2: SaturationBandParams::new(2),
            band3: SaturationBandParams::new(3),
            band4: SaturationBandParams::new(4),
            band5: SaturationBandParams::new(5),
        }
    }
}

impl SaturationParams {
    pub fn splits(&self) -> [&FloatParam; MAX_SPLITS] {
        [&self.split1, &self.split2, &self.split3, &self.split4]
    }

    pub fn bands(&self) -> [&SaturationBandParams; MAX_BANDS] {
        [
            &self.band1,
            &self.band2,
            &self.band3,
            &self.band4,
            &self.band5,
        ]
    }

    pub fn settings(&self) -> SaturationSettings {
        SaturationSettings {
            enabled: self.enabled.value(),
            oversampling: self.oversampling.value().factor(),
            auto_gain: self.auto_gain.value(),
            bands: self.bands.value().count(),
            splits_hz: self.splits().map(in_range),
            band: self.bands().map(SaturationBandParams::settings),
        }
    }
}

impl StageParamGroup for SaturationParams {
    fn read(&self, s: &mut ChainSettings) {
        s.saturation = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        let t = &s.saturation;
        w.switch(&self.enabled, t.enabled);
        w.choice(&self.oversampling, OversamplingParam::of(t.oversampling));
        w.switch(&self.auto_gain, t.auto_gain);
        w.choice(&self.bands, SaturationBandsParam::of(t.bands));
        for (p, &hz) in self.splits().into_iter().zip(&t.splits_hz) {
            w.float(p, hz);
        }
        for (p, b) in self.bands().into_iter().zip(&t.band) {
            w.float(&p.drive, b.drive_db);
            w.float(&p.mix, b.mix_percent);
            w.choice(&p.curve, SaturationCurveParam::of(b.curve));
        }
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
