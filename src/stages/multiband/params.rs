//! The multiband dynamics' host parameters (`mb_*`, bands `mb_b1_*` ... `mb_b5_*`), ranges
//! from `dsp::dynamics::multiband`. Solo and compare (`mb_b*_solo`, `mb_b*_compare`) are
//! listening aids (`params::LISTENING_PARAM_IDS`): not stored in presets or snapshots.

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::dynamics::multiband::{
    self, BandSettings, Channels, Direction, MultibandSettings, MAX_BANDS, MAX_SPLITS,
};
use crate::params::text::{
    freq_param, gain_db_param, in_range, ms_param, parse_ratio, skewed_param, switch_param,
};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

/// How many bands (a choice: the crossover's sections in use change with it).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultibandBandsParam {
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

impl MultibandBandsParam {
    pub fn count(self) -> usize {
        self.to_index() + multiband::MIN_BANDS
    }

    pub fn of(count: usize) -> Self {
        Self::from_index(count.clamp(multiband::MIN_BANDS, MAX_BANDS) - multiband::MIN_BANDS)
    }
}

/// The crossover: minimum-phase LR4 (no latency) or linear-phase FIR splits (latency).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseParam {
    #[id = "minimum"]
    #[name = "Minimum phase"]
    Minimum,
    #[id = "linear"]
    #[name = "Linear phase"]
    Linear,
}

/// Downward (compress above the threshold) or upward (raise below it).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectionParam {
    #[id = "down"]
    #[name = "Down"]
    Down,
    #[id = "up"]
    #[name = "Up"]
    Up,
}

impl DirectionParam {
    pub fn direction(self) -> Direction {
        match self {
            DirectionParam::Down => Direction::Downward,
            DirectionParam::Up => Direction::Upward,
        }
    }

    pub fn of(d: Direction) -> Self {
        match d {
            Direction::Downward => DirectionParam::Down,
            Direction::Upward => DirectionParam::Up,
        }
    }
}

/// What a band detects and processes.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelsParam {
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "mid"]
    #[name = "Mid"]
    Mid,
    #[id = "side"]
    #[name = "Side"]
    Side,
}

impl ChannelsParam {
    pub fn channels(self) -> Channels {
        match self {
            ChannelsParam::Stereo => Channels::Stereo,
            ChannelsParam::Mid => Channels::Mid,
            ChannelsParam::Side => Channels::Side,
        }
    }

    pub fn of(c: Channels) -> Self {
        match c {
            Channels::Stereo => ChannelsParam::Stereo,
            Channels::Mid => ChannelsParam::Mid,
            Channels::Side => ChannelsParam::Side,
        }
    }
}

/// One band's controls.
#[derive(Params)]
pub struct MultibandBandParams {
    #[id = "threshold"]
    pub threshold: FloatParam,
    #[id = "ratio"]
    pub ratio: FloatParam,
    #[id = "knee"]
    pub knee: FloatParam,
    #[id = "attack"]
    pub attack: FloatParam,
    #[id = "release"]
    pub release: FloatParam,
    #[id = "auto_release"]
    pub auto_release: BoolParam,
    #[id = "range"]
    pub range: FloatParam,
    #[id = "makeup"]
    pub makeup: FloatParam,
    #[id = "mode"]
    pub mode: EnumParam<DirectionParam>,
    #[id = "channels"]
    pub channels: EnumParam<ChannelsParam>,
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[id = "solo"]
    pub solo: BoolParam,
    #[id = "compare"]
    pub compare: BoolParam,
}

impl MultibandBandParams {
    fn new(band: usize) -> Self {
        let d = BandSettings::default();
        let name = |what: &str| format!("MB Band {band} {what}");
        Self {
            threshold: gain_db_param(&name("Threshold"), multiband::THRESHOLD_DB),
            ratio: skewed_param(&name("Ratio"), multiband::RATIO, -1.5)
                .with_value_to_string(formatters::v2s_compression_ratio(2))
                .with_string_to_value(Arc::new(parse_ratio)),
            knee: gain_db_param(&name("Knee"), multiband::KNEE_DB),
            attack: ms_param(&name("Attack"), multiband::ATTACK_MS),
            release: ms_param(&name("Release"), multiband::RELEASE_MS),
            auto_release: switch_param(name("Auto Release"), d.auto_release),
            range: gain_db_param(&name("Range"), multiband::RANGE_DB),
            makeup: gain_db_param(&name("Makeup"), multiband::MAKEUP_DB),
            mode: EnumParam::new(name("Mode"), DirectionParam::of(d.direction)),
            channels: EnumParam::new(name("Channels"), ChannelsParam::of(d.channels)),
            bypass: switch_param(name("Bypass"), d.bypass),
            solo: switch_param(name("Solo"), false),
            compare: switch_param(name("Compare"), false),
        }
    }

    fn settings(&self) -> BandSettings {
        BandSettings {
            threshold_db: in_range(&self.threshold),
            ratio: in_range(&self.ratio),
            knee_db: in_range(&self.knee),
            attack_ms: in_range(&self.attack),
            release_ms: in_range(&self.release),
            auto_release: self.auto_release.value(),
            range_db: in_range(&self.range),
            makeup_db: in_range(&self.makeup),
            direction: self.mode.value().direction(),
            channels: self.channels.value().channels(),
            bypass: self.bypass.value(),
            solo: self.solo.value(),
            compare: self.compare.value(),
        }
    }

    fn write(&self, b: &BandSettings, w: &mut impl ParamWriter) {
        w.float(&self.threshold, b.threshold_db);
        w.float(&self.ratio, b.ratio);
        w.float(&self.knee, b.knee_db);
        w.float(&self.attack, b.attack_ms);
        w.float(&self.release, b.release_ms);
        w.switch(&self.auto_release, b.auto_release);
        w.float(&self.range, b.range_db);
        w.float(&self.makeup, b.makeup_db);
        w.choice(&self.mode, DirectionParam::of(b.direction));
        w.choice(&self.channels, ChannelsParam::of(b.channels));
        w.switch(&self.bypass, b.bypass);
        w.switch(&self.solo, b.solo);
        w.switch(&self.compare, b.compare);
    }
}

#[derive(Params)]
pub struct MultibandParams {
    #[id = "mb_on"]
    pub enabled: BoolParam,
    #[id = "mb_bands"]
    pub bands: EnumParam<MultibandBandsParam>,
    #[id = "mb_split1"]
    pub split1: FloatParam,
    #[id = "mb_split2"]
    pub split2: FloatParam,
    #[id = "mb_split3"]
    pub split3: FloatParam,
    #[id = "mb_split4"]
    pub split4: FloatParam,
    /// Changes the latency: not automatable, switched structurally.
    #[id = "mb_phase"]
    pub phase: EnumParam<PhaseParam>,
    /// Changes the latency: not automatable, switched structurally.
    #[id = "mb_lookahead"]
    pub lookahead: FloatParam,
    #[nested(id_prefix = "mb_b1", group = "Band 1")]
    pub band1: MultibandBandParams,
    #[nested(id_prefix = "mb_b2", group = "Band 2")]
    pub band2: MultibandBandParams,
    #[nested(id_prefix = "mb_b3", group = "Band 3")]
    pub band3: MultibandBandParams,
    #[nested(id_prefix = "mb_b4", group = "Band 4")]
    pub band4: MultibandBandParams,
    #[nested(id_prefix = "mb_b5", group = "Band 5")]
    pub band5: MultibandBandParams,
}

impl Default for MultibandParams {
    fn default() -> Self {
        let d = MultibandSettings::default();
        let split = |i: usize| freq_param(&format!("MB Split {}", i + 1), multiband::SPLIT_HZ[i]);
        Self {
            enabled: switch_param("Multiband On", d.enabled),
            bands: EnumParam::new("Multiband Bands", MultibandBandsParam::of(d.bands)),
            split1: split(0),
            split2: split(1),
            split3: split(2),
            split4: split(3),
            phase: EnumParam::new(
                "Multiband Crossover",
                if d.linear_phase {
                    PhaseParam::Linear
                } else {
                    PhaseParam::Minimum
                },
            )
            .non_automatable(),
            lookahead: ms_param("Multiband Lookahead", multiband::LOOKAHEAD_MS).non_automatable(),
            band1: MultibandBandParams::new(1),
            band2: MultibandBandParams::new(2),
            band3: MultibandBandParams::new(3),
            band4: MultibandBandParams::new(4),
            band5: MultibandBandParams::new(5),
        }
    }
}

impl MultibandParams {
    pub fn splits(&self) -> [&FloatParam; MAX_SPLITS] {
        [&self.split1, &self.split2, &self.split3, &self.split4]
    }

    pub fn bands(&self) -> [&MultibandBandParams; MAX_BANDS] {
        [
            &self.band1,
            &self.band2,
            &self.band3,
            &self.band4,
            &self.band5,
        ]
    }

    pub fn settings(&self) -> MultibandSettings {
        MultibandSettings {
            enabled: self.enabled.value(),
            bands: self.bands.value().count(),
            splits_hz: self.splits().map(in_range),
            linear_phase: self.phase.value() == PhaseParam::Linear,
            lookahead_ms: in_range(&self.lookahead),
            band: self.bands().map(MultibandBandParams::settings),
        }
    }
}

impl StageParamGroup for MultibandParams {
    fn read(&self, s: &mut ChainSettings) {
        s.multiband = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        let t = &s.multiband;
        w.switch(&self.enabled, t.enabled);
        w.choice(&self.bands, MultibandBandsParam::of(t.bands));
        for (p, &hz) in self.splits().into_iter().zip(&t.splits_hz) {
            w.float(p, hz);
        }
        w.choice(
            &self.phase,
            if t.linear_phase {
                PhaseParam::Linear
            } else {
                PhaseParam::Minimum
            },
        );
        w.float(&self.lookahead, t.lookahead_ms);
        for (p, b) in self.bands().into_iter().zip(&t.band) {
            p.write(b, w);
        }
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
