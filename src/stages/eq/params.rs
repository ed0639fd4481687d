//! The EQ's host parameters: on, mode, and eight bands (two cuts, two shelves, four bells),
//! each a nested group with its own ID prefix (`eq_lc_freq`, `eq_b1_gain`, ...).

use nice_plug::prelude::*;

use crate::dsp::filters::eq;
use crate::dsp::util::range::Range;
use crate::params::text::{freq_param, gain_db_param, in_range, q_param, switch_param};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

use super::matching::MatchParams;
// Dynamic EQ: the dynamic parameters of each shelf and bell (see `dynamic_params.rs`).
use super::dynamic_params::DynamicParams;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EqModeParam {
    #[id = "minimum_phase"]
    #[name = "Minimum phase"]
    MinimumPhase,
    #[id = "linear_phase"]
    #[name = "Linear phase"]
    LinearPhase,
}

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
    fn to_dsp(self) -> eq::BandChannels {
        match self {
            ChannelsParam::Stereo => eq::BandChannels::Stereo,
            ChannelsParam::Mid => eq::BandChannels::Mid,
            ChannelsParam::Side => eq::BandChannels::Side,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlopeParam {
    #[id = "12"]
    #[name = "12 dB/oct"]
    Db12,
    #[id = "24"]
    #[name = "24 dB/oct"]
    Db24,
}

/// A low-cut or high-cut band.
#[derive(Params)]
pub struct CutParams {
    #[id = "on"]
    pub enabled: BoolParam,
    #[id = "freq"]
    pub freq: FloatParam,
    #[id = "slope"]
    pub slope: EnumParam<SlopeParam>,
    #[id = "ch"]
    pub channels: EnumParam<ChannelsParam>,
}

impl CutParams {
    fn new(label: &str, freq: Range) -> Self {
        Self {
            enabled: switch_param(format!("{label} On"), false),
            freq: freq_param(&format!("{label} Freq"), freq),
            slope: EnumParam::new(format!("{label} Slope"), SlopeParam::Db12),
            channels: EnumParam::new(format!("{label} Channels"), ChannelsParam::Stereo),
        }
    }

    fn settings(&self) -> eq::CutBand {
        eq::CutBand {
            enabled: self.enabled.value(),
            freq_hz: in_range(&self.freq),
            slope: match self.slope.value() {
                SlopeParam::Db12 => eq::CutSlope::Db12,
                SlopeParam::Db24 => eq::CutSlope::Db24,
            },
            channels: self.channels.value().to_dsp(),
        }
    }
}

/// A shelf or bell band: frequency, gain, Q and channels.
#[derive(Params)]
pub struct BandParams {
    #[id = "on"]
    pub enabled: BoolParam,
    #[id = "freq"]
    pub freq: FloatParam,
    #[id = "gain"]
    pub gain: FloatParam,
    #[id = "q"]
    pub q: FloatParam,
    #[id = "ch"]
    pub channels: EnumParam<ChannelsParam>,
    // Dynamic EQ (no prefix of its own: IDs `eq_b1_dyn`, `eq_b1_dyn_thresh`, ...).
    #[nested]
    pub dynamic: DynamicParams,
}

impl BandParams {
    fn new(label: &str, freq: Range, q: Range) -> Self {
        Self {
            enabled: switch_param(format!("{label} On"), false),
            freq: freq_param(&format!("{label} Freq"), freq),
            gain: gain_db_param(&format!("{label} Gain"), eq::GAIN_DB),
            q: q_param(&format!("{label} Q"), q),
            channels: EnumParam::new(format!("{label} Channels"), ChannelsParam::Stereo),
            // Dynamic EQ: the detector frequency's default is the band's.
            dynamic: DynamicParams::new(label, freq),
        }
    }

    fn shelf(&self) -> eq::ShelfBand {
        eq::ShelfBand {
            enabled: self.enabled.value(),
            freq_hz: in_range(&self.freq),
            gain_db: in_range(&self.gain),
            q: in_range(&self.q),
            channels: self.channels.value().to_dsp(),
        }
    }

    fn bell(&self) -> eq::BellBand {
        eq::BellBand {
            enabled: self.enabled.value(),
            freq_hz: in_range(&self.freq),
            gain_db: in_range(&self.gain),
            q: in_range(&self.q),
            channels: self.channels.value().to_dsp(),
        }
    }
}

#[derive(Params)]
pub struct EqParams {
    #[id = "eq_on"]
    pub enabled: BoolParam,
    #[id = "eq_mode"]
    pub mode: EnumParam<EqModeParam>,
    #[nested(id_prefix = "eq_lc", group = "Low Cut")]
    pub low_cut: CutParams,
    #[nested(id_prefix = "eq_hc", group = "High Cut")]
    pub high_cut: CutParams,
    #[nested(id_prefix = "eq_ls", group = "Low Shelf")]
    pub low_shelf: BandParams,
    #[nested(id_prefix = "eq_hs", group = "High Shelf")]
    pub high_shelf: BandParams,
    #[nested(id_prefix = "eq_b1", group = "Bell 1")]
    pub bell1: BandParams,
    #[nested(id_prefix = "eq_b2", group = "Bell 2")]
    pub bell2: BandParams,
    #[nested(id_prefix = "eq_b3", group = "Bell 3")]
    pub bell3: BandParams,
    #[nested(id_prefix = "eq_b4", group = "Bell 4")]
    pub bell4: BandParams,
    /// The match EQ's shaping (`matching`): its IDs are whole (`eq_match_*`).
    #[nested(group = "Match")]
    pub matching: MatchParams,
}

impl Default for EqParams {
    fn default() -> Self {
        let bell =
            |i: usize| BandParams::new(&format!("Bell {}", i + 1), eq::BELL_FREQ_HZ[i], eq::BELL_Q);
        Self {
            enabled: switch_param("EQ On", false),
            mode: EnumParam::new("EQ Mode", EqModeParam::MinimumPhase),
            low_cut: CutParams::new("Low Cut", eq::LOW_CUT_FREQ_HZ),
            high_cut: CutParams::new("High Cut", eq::HIGH_CUT_FREQ_HZ),
            low_shelf: BandParams::new("Low Shelf", eq::LOW_SHELF_FREQ_HZ, eq::SHELF_Q),
            high_shelf: BandParams::new("High Shelf", eq::HIGH_SHELF_FREQ_HZ, eq::SHELF_Q),
            bell1: bell(0),
            bell2: bell(1),
            bell3: bell(2),
            bell4: bell(3),
            matching: MatchParams::default(),
        }
    }
}

impl EqParams {
    pub fn bells(&self) -> [&BandParams; eq::NUM_BELLS] {
        [&self.bell1, &self.bell2, &self.bell3, &self.bell4]
    }

    /// Dynamic EQ: the bands that can be dynamic, in the DSP's slot order (low shelf, bells
    /// 1-4, high shelf; `eq::DYNAMIC_SLOT_NAMES`).
    pub fn dynamic_bands(&self) -> [&BandParams; eq::NUM_DYNAMIC] {
        [
            &self.low_shelf,
            &self.bell1,
            &self.bell2,
            &self.bell3,
            &self.bell4,
            &self.high_shelf,
        ]
    }

    pub fn settings(&self) -> eq::EqSettings {
        let b = self.bells();
        eq::EqSettings {
            low_cut: self.low_cut.settings(),
            high_cut: self.high_cut.settings(),
            low_shelf: self.low_shelf.shelf(),
            high_shelf: self.high_shelf.shelf(),
            bells: [b[0].bell(), b[1].bell(), b[2].bell(), b[3].bell()],
            // Dynamic EQ, in slot order.
            dynamic: self.dynamic_bands().map(|p| p.dynamic.settings()),
        }
    }
}

impl ChannelsParam {
    fn from_dsp(channels: eq::BandChannels) -> Self {
        match channels {
            eq::BandChannels::Stereo => ChannelsParam::Stereo,
            eq::BandChannels::Mid => ChannelsParam::Mid,
            eq::BandChannels::Side => ChannelsParam::Side,
        }
    }
}

impl CutParams {
    fn write(&self, b: &eq::CutBand, w: &mut impl ParamWriter) {
        w.switch(&self.enabled, b.enabled);
        w.float(&self.freq, b.freq_hz);
        let slope = match b.slope {
            eq::CutSlope::Db12 => SlopeParam::Db12,
            eq::CutSlope::Db24 => SlopeParam::Db24,
        };
        w.choice(&self.slope, slope);
        w.choice(&self.channels, ChannelsParam::from_dsp(b.channels));
    }
}

impl BandParams {
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        enabled: bool,
        freq_hz: f32,
        gain_db: f32,
        q: f32,
        channels: eq::BandChannels,
        w: &mut impl ParamWriter,
    ) {
        w.switch(&self.enabled, enabled);
        w.float(&self.freq, freq_hz);
        w.float(&self.gain, gain_db);
        w.float(&self.q, q);
        w.choice(&self.channels, ChannelsParam::from_dsp(channels));
    }
}

impl StageParamGroup for EqParams {
    fn read(&self, s: &mut ChainSettings) {
        s.eq_enabled = self.enabled.value();
        s.eq_linear_phase = self.mode.value() == EqModeParam::LinearPhase;
        s.eq = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        w.switch(&self.enabled, s.eq_enabled);
        let mode = if s.eq_linear_phase {
            EqModeParam::LinearPhase
        } else {
            EqModeParam::MinimumPhase
        };
        w.choice(&self.mode, mode);
        self.low_cut.write(&s.eq.low_cut, w);
        self.high_cut.write(&s.eq.high_cut, w);
        for (p, b) in [
            (&self.low_shelf, &s.eq.low_shelf),
            (&self.high_shelf, &s.eq.high_shelf),
        ] {
            p.write(b.enabled, b.freq_hz, b.gain_db, b.q, b.channels, w);
        }
        for (p, b) in self.bells().into_iter().zip(&s.eq.bells) {
            p.write(b.enabled, b.freq_hz, b.gain_db, b.q, b.channels, w);
        }
        // Dynamic EQ.
        for (p, d) in self.dynamic_bands().into_iter().zip(&s.eq.dynamic) {
            p.dynamic.write(d, w);
        }
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
