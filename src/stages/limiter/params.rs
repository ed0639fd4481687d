//! The limiter's host parameters (`lim_*`), ranges from `dsp::dynamics::limiter`.

use nice_plug::prelude::*;

use crate::dsp::dynamics::limiter;
use crate::params::text::{gain_db_param, in_range, ms_param, switch_param};
use crate::params::writer::ParamWriter;
use crate::stages::{ChainSettings, StageParamGroup};

/// The limiter's character (`dsp::dynamics::limiter::LimiterCharacter`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimiterCharacterParam {
    #[id = "transparent"]
    #[name = "Transparent"]
    Transparent,
    #[id = "punchy"]
    #[name = "Punchy"]
    Punchy,
    #[id = "dense"]
    #[name = "Dense"]
    Dense,
}

impl LimiterCharacterParam {
    fn to_dsp(self) -> limiter::LimiterCharacter {
        match self {
            Self::Transparent => limiter::LimiterCharacter::Transparent,
            Self::Punchy => limiter::LimiterCharacter::Punchy,
            Self::Dense => limiter::LimiterCharacter::Dense,
        }
    }

    fn from_dsp(character: limiter::LimiterCharacter) -> Self {
        match character {
            limiter::LimiterCharacter::Transparent => Self::Transparent,
            limiter::LimiterCharacter::Punchy => Self::Punchy,
            limiter::LimiterCharacter::Dense => Self::Dense,
        }
    }
}

#[derive(Params)]
pub struct LimiterParams {
    #[id = "lim_on"]
    pub enabled: BoolParam,
    #[id = "lim_drive"]
    pub drive: FloatParam,
    #[id = "lim_ceiling"]
    pub ceiling: FloatParam,
    #[id = "lim_release"]
    pub release: FloatParam,
    #[id = "lim_auto_release"]
    pub auto_release: BoolParam,
    #[id = "lim_lookahead"]
    pub lookahead: FloatParam,
    #[id = "lim_character"]
    pub character: EnumParam<LimiterCharacterParam>,
}

impl Default for LimiterParams {
    fn default() -> Self {
        let d = limiter::LimiterSettings::default();
        Self {
            // The one module on by default: a safe -1 dBTP ceiling on any master.
            enabled: switch_param("Limiter On", true),
            drive: gain_db_param("Limiter Drive", limiter::DRIVE_DB),
            ceiling: gain_db_param("Limiter Ceiling", limiter::CEILING_DB).with_unit(" dBTP"),
            release: ms_param("Limiter Release", limiter::RELEASE_MS),
            auto_release: switch_param("Limiter Auto Release", d.auto_release),
            lookahead: ms_param("Limiter Lookahead", limiter::LOOKAHEAD_MS),
            // A way of working chosen for the master, not a gesture: not automatable (issue 27).
            character: EnumParam::new(
                "Limiter Character",
                LimiterCharacterParam::from_dsp(d.character),
            )
            .non_automatable(),
        }
    }
}

impl LimiterParams {
    pub fn settings(&self) -> limiter::LimiterSettings {
        limiter::LimiterSettings {
            enabled: self.enabled.value(),
            drive_db: in_range(&self.drive),
            ceiling_db: in_range(&self.ceiling),
            release_ms: in_range(&self.release),
            auto_release: self.auto_release.value(),
            lookahead_ms: in_range(&self.lookahead),
            character: self.character.value().to_dsp(),
        }
    }
}

impl StageParamGroup for LimiterParams {
    fn read(&self, s: &mut ChainSettings) {
        s.limiter = self.settings();
    }

    fn write(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        let l = &s.limiter;
        w.switch(&self.enabled, l.enabled);
        w.float(&self.drive, l.drive_db);
        w.float(&self.ceiling, l.ceiling_db);
        w.float(&self.release, l.release_ms);
        w.switch(&self.auto_release, l.auto_release);
        w.float(&self.lookahead, l.lookahead_ms);
        w.choice(
            &self.character,
            LimiterCharacterParam::from_dsp(l.character),
        );
    }

    fn enabled(&self) -> Option<&BoolParam> {
        Some(&self.enabled)
    }
}
