//! The processing stages: one folder each, owning everything about that stage in one place:
//!
//! * its DSP wiring: a [`StageProcessor`] that takes its part of [`ChainSettings`] and runs the
//!   plain-Rust DSP of `dsp/` (ranges come from the DSP's constants);
//! * its host parameter group (a nested `#[derive(Params)]` struct; the IDs are part of saved
//!   sessions and never change) and the mapping both ways, parameters -> settings and settings
//!   -> parameters ([`StageParamGroup`]), which presets, snapshots, the offline renderer and
//!   the editor all go through;
//! * its editor panel (`panel::show`), which the editor's stage strip draws in chain order.
//!
//! [`stage_list!`] below is **the one list**: from it come [`StageId`], the chain's stage
//! processors ([`Stages`]), the parameter tree's stage groups ([`StageParams`], nested into
//! `FairmasterParams`) and the panel dispatch. The chain (`chain.rs`) runs them: the first
//! stage, then the movable ones in the engineer's [`StageOrder`], then the last ones (limiter
//! -> output gain -> dither, so the ceiling and the dither stay true).
//!
//! # Adding a stage
//! 1. A folder `stages/<name>/` with `mod.rs` (the processor and its settings), the parameter
//!    group (`params.rs`, or in `mod.rs` for a small stage) implementing [`StageParamGroup`],
//!    and `panel.rs` with `pub fn show(ui, ctl, params)`.
//! 2. One line in [`stage_list!`]'s invocation below (movable stages go between the first and
//!    the last; the default order is the list's order).
//! 3. Its settings field in [`ChainSettings`] (the plain settings the whole chain takes).
//! 4. Its README rows (parameter table, layout).
//!
//! The chain, the parameter tree, the presets, snapshots, the offline renderer and the editor
//! need no change: they go through [`Stages`], [`StageParams`] and [`StageOrder`].

use nice_plug::prelude::*;

use crate::dsp::dither::DitherSettings;
use crate::dsp::dynamics::compressor::CompressorSettings;
use crate::dsp::dynamics::hf_limiter::HfLimiterSettings;
use crate::dsp::dynamics::limiter::LimiterSettings;
use crate::dsp::dynamics::multiband::MultibandSettings;
use crate::dsp::filters::elliptical::EllipticalSettings;
use crate::dsp::filters::eq::EqSettings;
use crate::dsp::filters::match_curve::MatchCurve;
use crate::dsp::shaping::clipper::ClipperSettings;
use crate::dsp::shaping::saturation::SaturationSettings;
use crate::dsp::stereo::StereoSettings;
use crate::editor::widgets::Ctl;
use crate::params::writer::ParamWriter;

pub mod audition;
pub mod clipper;
pub mod compressor;
pub mod dither;
pub mod elliptical;
pub mod eq;
pub mod hf_limiter;
pub mod input_gain;
pub mod limiter;
pub mod multiband;
mod order;
pub mod output_gain;
pub mod saturation;
pub mod stereo;

pub use order::{movable_from_key, placed, PersistedStageOrder, StageOrder};

/// Plain settings for the whole chain, produced from the host parameters by
/// [`StageParams::read`] (each stage reads its own part).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainSettings {
    pub input_gain_db: f32,
    pub output_gain_db: f32,
    pub eq_enabled: bool,
    pub eq_linear_phase: bool,
    pub eq: EqSettings,
    /// The match EQ's applied curve (realised in the EQ's linear-phase FIR; flat = no match).
    pub eq_match: MatchCurve,
    pub compressor: CompressorSettings,
    pub stereo_enabled: bool,
    pub stereo: StereoSettings,
    pub multiband: MultibandSettings,
    /// The vinyl elliptical EQ (side high-pass); off by default.
    pub elliptical: EllipticalSettings,
    /// The vinyl high-frequency limiter; off by default.
    pub hf_limiter: HfLimiterSettings,
    pub saturation: SaturationSettings,
    pub clipper: ClipperSettings,
    pub limiter: LimiterSettings,
    pub dither: DitherSettings,
    /// The order of the movable stages (not a host parameter: a persisted field).
    pub order: StageOrder,
}

impl Default for ChainSettings {
    /// The safe insert state: every module neutral or off except the limiter, which is on at a
    /// -1 dBTP ceiling with 0 dB drive; the stages in the default order.
    fn default() -> Self {
        Self {
            input_gain_db: 0.0,
            output_gain_db: 0.0,
            eq_enabled: false,
            eq_linear_phase: false,
            eq: EqSettings::default(),
            eq_match: MatchCurve::FLAT,
            compressor: CompressorSettings {
                enabled: false,
                ..CompressorSettings::default()
            },
            stereo_enabled: false,
            stereo: StereoSettings::default(),
            multiband: MultibandSettings::default(),
            elliptical: EllipticalSettings::default(),
            hf_limiter: HfLimiterSettings::default(),
            saturation: SaturationSettings::default(),
            clipper: ClipperSettings::default(),
            limiter: LimiterSettings::default(),
            dither: DitherSettings::default(),
            order: StageOrder::default(),
        }
    }
}

/// The parts of the settings that change the chain's latency or its signal path: switched
/// only at the bottom of the chain's structural fade, never mid-signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Structure {
    pub linear_phase_eq: bool,
    /// The saturation's oversampling factor while it is on (its filters' latency), 1 while
    /// off.
    pub saturation_oversampling: usize,
    /// The clipper's oversampling factor while it is on (its filters' latency), 1 while off.
    pub clipper_oversampling: usize,
    /// The multiband dynamics' lookahead while it is on (its latency), 0 while off.
    pub multiband_lookahead_ms: f32,
    /// The multiband dynamics' linear-phase crossover while it is on (its latency).
    pub multiband_linear_phase: bool,
    /// The high-frequency limiter is in the path (its band split and lookahead: latency).
    pub hf_limiter_on: bool,
    pub lookahead_ms: f32,
    pub order: StageOrder,
}

impl Structure {
    pub fn of(s: &ChainSettings) -> Self {
        Self {
            linear_phase_eq: s.eq_enabled && s.eq_linear_phase,
            saturation_oversampling: if s.saturation.enabled {
                crate::dsp::filters::oversampler::valid_factor(s.saturation.oversampling)
            } else {
                1
            },
            clipper_oversampling: if s.clipper.enabled {
                crate::dsp::filters::oversampler::valid_factor(s.clipper.oversampling)
            } else {
                1
            },
            multiband_lookahead_ms: multiband::MultibandStage::structural_lookahead_ms(
                &s.multiband,
            ),
            multiband_linear_phase: s.multiband.enabled && s.multiband.linear_phase,
            hf_limiter_on: s.hf_limiter.enabled,
            lookahead_ms: s.limiter.lookahead_ms,
            order: s.order,
        }
    }
}

/// Where a stage sits: first (input gain), movable (the engineer's order), or last
/// (saturation -> clipper -> limiter -> output gain -> dither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    First,
    Movable,
    Last,
}

/// What the chain asks of every stage's DSP wiring. Allocation-free except `reset`.
pub trait StageProcessor: Send {
    /// Prepares for `sample_rate` with `settings` in place (no smoothing or fade toward them:
    /// there is no audio yet to be continuous with) and clears all state. May allocate
    /// (activation, offline).
    fn reset(&mut self, sample_rate: f32, settings: &ChainSettings, structure: &Structure);
    /// Takes this stage's part of `settings`. `structure` is what the chain has in place:
    /// latency-changing settings follow it, not `settings` (see [`Structure`]).
    fn set(&mut self, settings: &ChainSettings, structure: &Structure);
    /// Processes one chunk (at most `chain::MAX_CHUNK` frames) in place. `dry_left` and
    /// `dry_right` are scratch of at least the chunk's length, for bypass crossfades.
    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    );
    /// Forgets the signal (filter states, envelopes, delay lines): the chain's structural
    /// switch, where the whole chain restarts from silence.
    fn clear(&mut self);
    /// Whether the stage is in the signal path now (on, or fading): what a compare needs.
    fn is_active(&self) -> bool {
        true
    }
    /// The stage's delay in samples now (what a compared signal is delayed by).
    fn latency_samples(&self) -> u32 {
        0
    }
    /// The gain the stage applies before its nonlinearity (the clipper's and the limiter's
    /// drive): what a delta listens against.
    fn drive_gain(&self) -> f32 {
        1.0
    }
}

/// What every stage's host parameter group provides: its part of the mapping both ways.
pub trait StageParamGroup {
    /// Reads the parameters into this stage's part of `settings`. Allocation-free (called at
    /// the start of every `process()` block).
    fn read(&self, settings: &mut ChainSettings);
    /// Writes this stage's part of `settings` into the parameters, so that `read` gives it
    /// back (the round trip is tested for every factory preset and random settings).
    fn write(&self, settings: &ChainSettings, w: &mut impl ParamWriter);
    /// The stage's on switch (the stage strip's bypass), if it has one.
    fn enabled(&self) -> Option<&BoolParam>;
}

/// The one list of stages. Per stage: its `nested` attribute in the parameter tree (the group
/// shown by hosts; an `id_prefix` only where the IDs were made that way), its identifier, its
/// stable key (saved stage orders), its display name, its place, its field, and its folder's
/// processor and parameter group types. Order = default signal order.
macro_rules! stage_list {
    ($(
        #[$($nested:tt)*]
        $id:ident $key:literal $name:literal $place:ident
            => $field:ident: $module:ident::{$Stage:ident, $Params:ident};
    )*) => {
        /// Every stage, in the default signal order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum StageId {
            $($id,)*
        }

        impl StageId {
            pub const ALL: &'static [StageId] = &[$(StageId::$id,)*];

            /// The stable key of the stage in saved orders (sessions, presets, snapshots).
            pub const fn key(self) -> &'static str {
                match self {
                    $(StageId::$id => $key,)*
                }
            }

            /// The stage's name in the editor.
            pub const fn name(self) -> &'static str {
                match self {
                    $(StageId::$id => $name,)*
                }
            }

            pub const fn place(self) -> Place {
                match self {
                    $(StageId::$id => Place::$place,)*
                }
            }
        }

        /// Every stage's DSP wiring, owned by the chain.
        pub struct Stages {
            $(pub $field: $module::$Stage,)*
        }

        impl Default for Stages {
            fn default() -> Self {
                Self {
                    $($field: $module::$Stage::default(),)*
                }
            }
        }

        impl Stages {
            pub fn get_mut(&mut self, id: StageId) -> &mut dyn StageProcessor {
                match id {
                    $(StageId::$id => &mut self.$field,)*
                }
            }
        }

        /// Every stage's host parameter group, nested into `FairmasterParams`.
        #[derive(Params, Default)]
        pub struct StageParams {
            $(
                #[$($nested)*]
                pub $field: $module::$Params,
            )*
        }

        impl StageParams {
            /// The plain settings of the whole chain (without the order, a persisted field).
            pub fn read(&self, settings: &mut ChainSettings) {
                $(self.$field.read(settings);)*
            }

            pub fn write(&self, settings: &ChainSettings, w: &mut impl ParamWriter) {
                $(self.$field.write(settings, w);)*
            }

            pub fn enabled(&self, id: StageId) -> Option<&BoolParam> {
                match id {
                    $(StageId::$id => self.$field.enabled(),)*
                }
            }
        }

        /// Draws one stage's controls (the editor's stage strip calls it in chain order).
        pub fn show_panel(id: StageId, ui: &mut egui::Ui, ctl: &Ctl, params: &StageParams) {
            match id {
                $(StageId::$id => $module::panel::show(ui, ctl, &params.$field),)*
            }
        }
    };
}

stage_list! {
    #[nested]
    InputGain "input_gain" "Input" First => input_gain: input_gain::{InputGainStage, InputGainParams};
    #[nested(group = "EQ")]
    Eq "eq" "EQ" Movable => eq: eq::{EqStage, EqParams};
    #[nested(group = "Compressor")]
    Compressor "compressor" "Compressor" Movable => comp: compressor::{CompressorStage, CompressorParams};
    #[nested(group = "Stereo")]
    Stereo "stereo" "Stereo" Movable => stereo: stereo::{StereoStage, StereoParams};
    #[nested(group = "Multiband")]
    Multiband "multiband" "Multiband" Movable => multiband: multiband::{MultibandStage, MultibandParams};
    #[nested(group = "Elliptical EQ")]
    Elliptical "elliptical" "Elliptical" Movable => elliptical: elliptical::{EllipticalStage, EllipticalParams};
    #[nested(group = "HF Limiter")]
    HfLimiter "hf_limiter" "HF Limiter" Movable => hf_limiter: hf_limiter::{HfLimiterStage, HfLimiterParams};
    #[nested(group = "Saturation")]
    Saturation "saturation" "Saturation" Last => saturation: saturation::{SaturationStage, SaturationParams};
    #[nested(group = "Clipper")]
    Clipper "clipper" "Clipper" Last => clipper: clipper::{ClipperStage, ClipperParams};
    #[nested(group = "Limiter")]
    Limiter "limiter" "Limiter" Last => limiter: limiter::{LimiterStage, LimiterParams};
    #[nested]
    OutputGain "output_gain" "Output" Last => output_gain: output_gain::{OutputGainStage, OutputGainParams};
    #[nested(group = "Dither")]
    Dither "dither" "Dither" Last => dither: dither::{DitherStage, DitherParams};
}
