//! Host parameters (stable IDs) and their mapping to the plain settings the DSP modules take.
//!
//! Parameter IDs are part of saved sessions and automation lanes: never rename one. The README's
//! parameter table lists them all.

use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ab::AbSettings;
use crate::chain::ChainSettings;
use crate::dsp::{compressor, dither, eq, limiter, stereo};
use crate::targets::{Target, PRESET_TARGETS};

/// Gain range of the input and output gain parameters, in dB.
pub const GAIN_RANGE_DB: (f32, f32) = (-24.0, 24.0);

/// Editor window size in logical pixels, persisted in the plugin state so a session reopens the
/// editor at the size the engineer left it (nice-plug-egui's own editor state is not
/// serialisable, so the plugin keeps its own copy).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EditorSize {
    pub width: u32,
    pub height: u32,
}

impl EditorSize {
    /// Everything visible at 100 % (fits a 1080p screen with room for the host's window frame).
    pub const DEFAULT: EditorSize = EditorSize {
        width: 1280,
        height: 800,
    };
    /// Below this the editor scrolls.
    pub const MIN: EditorSize = EditorSize {
        width: 800,
        height: 520,
    };
    pub const MAX: EditorSize = EditorSize {
        width: 3840,
        height: 2160,
    };

    /// Clamps a size read from a saved state into the supported range, so a corrupt or
    /// hand-edited state cannot open a zero-sized or enormous window.
    pub fn clamped(self) -> Self {
        Self {
            width: self.width.clamp(Self::MIN.width, Self::MAX.width),
            height: self.height.clamp(Self::MIN.height, Self::MAX.height),
        }
    }
}

impl Default for EditorSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[derive(Params)]
pub struct FairmasterParams {
    /// Gain before the chain, in dB. Drives the compressor and limiter.
    #[id = "input_gain"]
    pub input_gain: FloatParam,

    /// Gain after the limiter, in dB (before dither).
    #[id = "output_gain"]
    pub output_gain: FloatParam,

    /// A/B: off = hear the processed master (A), on = hear the original (B), level-matched.
    #[id = "ab_bypass"]
    pub ab_bypass: BoolParam,

    /// Play the original at the processed loudness while comparing.
    #[id = "match_level"]
    pub match_level: BoolParam,

    /// Keep the current match offset (it stops following the programme).
    #[id = "match_freeze"]
    pub match_freeze: BoolParam,

    /// The host's bypass switch: latency-compensated original, not level-matched.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// Delivery target shown by the meters.
    #[id = "target"]
    pub target: EnumParam<TargetParam>,

    /// Integrated loudness of the custom target.
    #[id = "target_lufs"]
    pub custom_target_lufs: FloatParam,

    #[nested(group = "EQ")]
    pub eq: EqParams,

    #[nested(group = "Compressor")]
    pub comp: CompressorParams,

    #[nested(group = "Stereo")]
    pub stereo: StereoParams,

    #[nested(group = "Limiter")]
    pub limiter: LimiterParams,

    #[nested(group = "Dither")]
    pub dither: DitherParams,

    /// Editor size; written by the GUI thread only, never touched by `process()`.
    #[persist = "editor_size"]
    pub editor_size: Arc<RwLock<EditorSize>>,
}

impl Default for FairmasterParams {
    fn default() -> Self {
        Self {
            input_gain: gain_db_param("Input Gain", 0.0, GAIN_RANGE_DB),
            output_gain: gain_db_param("Output Gain", 0.0, GAIN_RANGE_DB),
            ab_bypass: BoolParam::new("A/B Original", false).with_value_to_string(Arc::new(|b| {
                (if b { "B: original" } else { "A: master" }).into()
            })),
            match_level: BoolParam::new("Match Level", true),
            match_freeze: BoolParam::new("Freeze Match", false),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            target: EnumParam::new("Target", TargetParam::Streaming),
            custom_target_lufs: FloatParam::new(
                "Custom Target",
                -14.0,
                FloatRange::Linear {
                    min: -30.0,
                    max: -5.0,
                },
            )
            .with_unit(" LUFS")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1))
            .with_string_to_value(parse_number_with_unit(&["LUFS", "lufs"])),
            eq: EqParams::default(),
            comp: CompressorParams::default(),
            stereo: StereoParams::default(),
            limiter: LimiterParams::default(),
            dither: DitherParams::default(),
            editor_size: Arc::new(RwLock::new(EditorSize::default())),
        }
    }
}

impl FairmasterParams {
    /// Reads the current host parameter values into the plain settings of the chain.
    /// Allocation-free: called at the start of every `process()` block.
    pub fn chain_settings(&self) -> ChainSettings {
        ChainSettings {
            input_gain_db: in_range(&self.input_gain),
            output_gain_db: in_range(&self.output_gain),
            eq_enabled: self.eq.enabled.value(),
            eq_linear_phase: self.eq.mode.value() == EqModeParam::LinearPhase,
            eq: self.eq.settings(),
            compressor: self.comp.settings(),
            stereo_enabled: self.stereo.enabled.value(),
            stereo: self.stereo.settings(),
            limiter: self.limiter.settings(),
            dither: self.dither.settings(),
        }
    }
}

impl FairmasterParams {
    /// A/B settings for `ab.rs`. Allocation-free.
    pub fn ab_settings(&self) -> AbSettings {
        AbSettings {
            listen_original: self.ab_bypass.value(),
            match_level: self.match_level.value(),
            freeze: self.match_freeze.value(),
            host_bypass: self.bypass.value(),
            ceiling_db: in_range(&self.limiter.ceiling),
        }
    }

    /// The chosen delivery target (custom: the custom loudness with the limiter's ceiling).
    pub fn delivery_target(&self) -> Target {
        match self.target.value() {
            TargetParam::Streaming => PRESET_TARGETS[0],
            TargetParam::AppleMusic => PRESET_TARGETS[1],
            TargetParam::CdClub => PRESET_TARGETS[2],
            TargetParam::Broadcast => PRESET_TARGETS[3],
            TargetParam::Custom => Target {
                name: "Custom",
                integrated_lufs: in_range(&self.custom_target_lufs),
                ceiling_dbtp: in_range(&self.limiter.ceiling),
            },
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetParam {
    #[id = "streaming"]
    #[name = "Spotify/YouTube -14"]
    Streaming,
    #[id = "apple"]
    #[name = "Apple Music -16"]
    AppleMusic,
    #[id = "cd_club"]
    #[name = "CD/club -9"]
    CdClub,
    #[id = "r128"]
    #[name = "EBU R128 -23"]
    Broadcast,
    #[id = "custom"]
    #[name = "Custom"]
    Custom,
}

// ---------------------------------------------------------------------------------------------
// Shared parameter constructors

/// Text-to-value conversion closure, as nice-plug takes it.
type StringToValue = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// The parameter's value clamped into its declared range. The framework restores plain values
/// from a saved state without clamping, so a corrupt or hand-edited state could otherwise hand
/// the DSP +1e6 dB; non-finite values fall back to the default.
fn in_range(param: &FloatParam) -> f32 {
    let value = param.value();
    if !value.is_finite() {
        return param.default_plain_value();
    }
    let range = param.range();
    range.unnormalize(range.normalize(value))
}

fn gain_db_param(name: &str, default: f32, range: (f32, f32)) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Linear {
            min: range.0,
            max: range.1,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.01)
    .with_value_to_string(formatters::v2s_f32_rounded(2))
    .with_string_to_value(parse_number_with_unit(&["dBTP", "dB", "db"]))
}

/// A parameter on a skewed range: `skew` < 0 gives the low end more of the control's travel
/// (frequencies, times, Q and ratios are perceived roughly logarithmically).
fn skewed_param(name: &str, default: f32, min: f32, max: f32, skew: f32) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(skew),
        },
    )
}

/// A frequency parameter on a logarithmic-feeling (skewed) range, shown as Hz or kHz.
fn freq_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    skewed_param(name, default, min, max, -2.0)
        // The formatter appends "Hz"/"kHz" itself.
        .with_value_to_string(formatters::v2s_f32_hz_then_khz(1))
        .with_string_to_value(formatters::s2v_f32_hz_then_khz())
}

fn q_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    skewed_param(name, default, min, max, -1.5)
        .with_value_to_string(formatters::v2s_f32_rounded(2))
        .with_string_to_value(parse_number_with_unit(&[]))
}

fn ms_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    skewed_param(name, default, min, max, -2.0)
        .with_unit(" ms")
        .with_value_to_string(formatters::v2s_f32_rounded(1))
        .with_string_to_value(parse_number_with_unit(&["ms"]))
}

fn percent_param(name: &str, default: f32, max: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max })
        .with_unit(" %")
        .with_value_to_string(formatters::v2s_f32_percentage(0))
        .with_string_to_value(formatters::s2v_f32_percentage())
}

/// Parses "3", "+3.5", "-6 dB", "-6dB" (with any of `units` as an optional suffix). Anything
/// else is rejected (the host keeps the old value) rather than guessed.
fn parse_number_with_unit(units: &'static [&'static str]) -> StringToValue {
    Arc::new(move |text: &str| {
        let mut t = text.trim();
        for unit in units {
            if let Some(stripped) = t.strip_suffix(unit) {
                t = stripped.trim_end();
                break;
            }
        }
        t.parse::<f32>().ok().filter(|v| v.is_finite())
    })
}

// ---------------------------------------------------------------------------------------------
// EQ

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
    fn new(label: &str, default_freq: f32) -> Self {
        Self {
            enabled: BoolParam::new(format!("{label} On"), false),
            freq: freq_param(&format!("{label} Freq"), default_freq, 20.0, 20_000.0),
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
}

impl BandParams {
    fn new(label: &str, default_freq: f32, default_q: f32, q_range: (f32, f32)) -> Self {
        Self {
            enabled: BoolParam::new(format!("{label} On"), false),
            freq: freq_param(&format!("{label} Freq"), default_freq, 20.0, 20_000.0),
            gain: gain_db_param(&format!("{label} Gain"), 0.0, EQ_GAIN_RANGE_DB),
            q: q_param(&format!("{label} Q"), default_q, q_range.0, q_range.1),
            channels: EnumParam::new(format!("{label} Channels"), ChannelsParam::Stereo),
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

/// EQ gain range for shelves and bells, in dB.
pub const EQ_GAIN_RANGE_DB: (f32, f32) = (-18.0, 18.0);
/// Default bell frequencies (low, low-mid, high-mid, presence).
pub const BELL_DEFAULT_FREQS: [f32; eq::NUM_BELLS] = [100.0, 500.0, 2_000.0, 6_000.0];

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
}

impl Default for EqParams {
    fn default() -> Self {
        let bell = |i: usize| {
            BandParams::new(
                &format!("Bell {}", i + 1),
                BELL_DEFAULT_FREQS[i],
                1.0,
                (0.1, 10.0),
            )
        };
        Self {
            enabled: BoolParam::new("EQ On", false),
            mode: EnumParam::new("EQ Mode", EqModeParam::MinimumPhase),
            low_cut: CutParams::new("Low Cut", 30.0),
            high_cut: CutParams::new("High Cut", 18_000.0),
            low_shelf: BandParams::new(
                "Low Shelf",
                100.0,
                std::f32::consts::FRAC_1_SQRT_2,
                (0.3, 2.0),
            ),
            high_shelf: BandParams::new(
                "High Shelf",
                8_000.0,
                std::f32::consts::FRAC_1_SQRT_2,
                (0.3, 2.0),
            ),
            bell1: bell(0),
            bell2: bell(1),
            bell3: bell(2),
            bell4: bell(3),
        }
    }
}

impl EqParams {
    pub fn bells(&self) -> [&BandParams; eq::NUM_BELLS] {
        [&self.bell1, &self.bell2, &self.bell3, &self.bell4]
    }

    pub fn settings(&self) -> eq::EqSettings {
        let b = self.bells();
        eq::EqSettings {
            low_cut: self.low_cut.settings(),
            high_cut: self.high_cut.settings(),
            low_shelf: self.low_shelf.shelf(),
            high_shelf: self.high_shelf.shelf(),
            bells: [b[0].bell(), b[1].bell(), b[2].bell(), b[3].bell()],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compressor

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
            enabled: BoolParam::new("Comp On", false),
            threshold: gain_db_param("Comp Threshold", d.threshold_db, (-60.0, 0.0)),
            ratio: skewed_param("Comp Ratio", d.ratio, 1.0, 20.0, -1.5)
                .with_value_to_string(formatters::v2s_compression_ratio(2))
                .with_string_to_value(formatters::s2v_compression_ratio()),
            knee: gain_db_param("Comp Knee", d.knee_db, (0.0, 24.0)),
            attack: ms_param("Comp Attack", d.attack_ms, 0.1, 100.0),
            release: ms_param("Comp Release", d.release_ms, 10.0, 2000.0),
            auto_release: BoolParam::new("Comp Auto Release", d.auto_release),
            sidechain_hpf_enabled: BoolParam::new("Comp SC HPF On", d.sidechain_hpf_enabled),
            sidechain_hpf: freq_param("Comp SC HPF", d.sidechain_hpf_hz, 20.0, 500.0),
            mix: percent_param("Comp Mix", d.mix, 1.0),
            makeup: gain_db_param("Comp Makeup", d.makeup_db, (0.0, 24.0)),
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

// ---------------------------------------------------------------------------------------------
// Stereo

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
            enabled: BoolParam::new("Stereo On", false),
            width: percent_param("Width", d.width, 2.0),
            mono_bass_enabled: BoolParam::new("Mono Bass On", d.mono_bass_enabled),
            mono_bass: freq_param("Mono Bass Freq", d.mono_bass_hz, 20.0, 500.0),
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

// ---------------------------------------------------------------------------------------------
// Limiter

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
}

impl Default for LimiterParams {
    fn default() -> Self {
        let d = limiter::LimiterSettings::default();
        Self {
            // The one module on by default: a safe -1 dBTP ceiling on any master.
            enabled: BoolParam::new("Limiter On", true),
            drive: gain_db_param("Limiter Drive", d.drive_db, (0.0, 24.0)),
            ceiling: gain_db_param("Limiter Ceiling", d.ceiling_db, (-12.0, 0.0))
                .with_unit(" dBTP"),
            release: ms_param("Limiter Release", d.release_ms, 1.0, 1000.0),
            auto_release: BoolParam::new("Limiter Auto Release", d.auto_release),
            lookahead: ms_param("Limiter Lookahead", d.lookahead_ms, 0.5, 5.0),
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
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dither

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DitherModeParam {
    #[id = "off"]
    #[name = "Off"]
    Off,
    #[id = "24"]
    #[name = "24-bit"]
    Bits24,
    #[id = "16"]
    #[name = "16-bit"]
    Bits16,
}

#[derive(Params)]
pub struct DitherParams {
    #[id = "dither_mode"]
    pub mode: EnumParam<DitherModeParam>,
    #[id = "dither_shaping"]
    pub noise_shaping: BoolParam,
}

impl Default for DitherParams {
    fn default() -> Self {
        Self {
            mode: EnumParam::new("Dither", DitherModeParam::Off),
            noise_shaping: BoolParam::new("Noise Shaping", false),
        }
    }
}

impl DitherParams {
    pub fn settings(&self) -> dither::DitherSettings {
        dither::DitherSettings {
            mode: match self.mode.value() {
                DitherModeParam::Off => dither::DitherMode::Off,
                DitherModeParam::Bits24 => dither::DitherMode::Bits24,
                DitherModeParam::Bits16 => dither::DitherMode::Bits16,
            },
            noise_shaping: self.noise_shaping.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_text_parses_with_and_without_unit() {
        let p = parse_number_with_unit(&["dBTP", "dB", "db"]);
        assert_eq!(p("3"), Some(3.0));
        assert_eq!(p("+3.5"), Some(3.5));
        assert_eq!(p("-6 dB"), Some(-6.0));
        assert_eq!(p(" -6dB "), Some(-6.0));
        assert_eq!(p("loud"), None);
        assert_eq!(p("NaN"), None);
        assert_eq!(p("inf"), None);
    }

    #[test]
    fn editor_size_is_clamped() {
        let s = EditorSize {
            width: 0,
            height: 100_000,
        }
        .clamped();
        assert_eq!(s.width, EditorSize::MIN.width);
        assert_eq!(s.height, EditorSize::MAX.height);
    }
}
