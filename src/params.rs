//! Host parameters (stable IDs) and their mapping to the plain settings the DSP modules take.
//!
//! Parameter IDs are part of saved sessions and automation lanes: never rename one. The README's
//! parameter table lists them all.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use nice_plug::params::persist::PersistentField;
use nice_plug::params::InternalParamMut;
use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ab::AbSettings;
use crate::chain::ChainSettings;
use crate::dsp::dynamics::{compressor, limiter};
use crate::dsp::filters::eq;
use crate::dsp::monitor::{Monitor, MonitorChannels, MonitorSettings, SOLO_BANDS};
use crate::dsp::util::gain;
use crate::dsp::util::range::Range;
use crate::dsp::{dither, stereo};
use crate::reference::playback::{MatchMode, ReferenceSettings, REFERENCE_SLOTS};
use crate::reference::state::PersistedReferences;
use crate::snapshots::PersistedSnapshots;
use crate::targets::{Target, CUSTOM_TARGET_LUFS, PRESET_TARGETS};

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

/// The persisted editor size, lock-free. nice-plug may restore a state on the audio thread (a
/// preset loaded from the editor while the host is processing: the wrapper applies it at the end
/// of `process()`), and that restore calls this field's `set`; two atomics cannot block there,
/// where an `RwLock` could. Width and height are stored separately; a reader racing a writer
/// can see a new width with an old height for one frame, which is harmless for a window size.
#[derive(Debug)]
pub struct PersistedEditorSize {
    width: AtomicU32,
    height: AtomicU32,
}

impl PersistedEditorSize {
    pub fn new(size: EditorSize) -> Self {
        Self {
            width: AtomicU32::new(size.width),
            height: AtomicU32::new(size.height),
        }
    }

    pub fn get(&self) -> EditorSize {
        EditorSize {
            width: self.width.load(Ordering::Relaxed),
            height: self.height.load(Ordering::Relaxed),
        }
    }

    pub fn set(&self, size: EditorSize) {
        self.width.store(size.width, Ordering::Relaxed);
        self.height.store(size.height, Ordering::Relaxed);
    }
}

impl Default for PersistedEditorSize {
    fn default() -> Self {
        Self::new(EditorSize::DEFAULT)
    }
}

impl<'a> PersistentField<'a, EditorSize> for PersistedEditorSize {
    fn set(&self, new_value: EditorSize) {
        PersistedEditorSize::set(self, new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&EditorSize) -> R,
    {
        f(&self.get())
    }
}

// ---------------------------------------------------------------------------------------------
// State format version

/// The listening controls: how the master is heard (A/B, reference, monitoring aids,
/// snapshot matching), not what it is. A snapshot stores every other parameter, and storing or
/// recalling one leaves these alone.
pub const LISTENING_PARAM_IDS: [&str; 12] = [
    "ab_bypass",
    "match_level",
    "match_freeze",
    "bypass",
    "listen_reference",
    "reference_slot",
    "reference_match",
    "reference_platform",
    "reference_sync",
    "monitor",
    "solo_band",
    "snapshot_match",
];

/// Version of the persisted state format this build writes, in the `state_version` field.
///
/// - **0** (legacy): states saved before the field existed (Fairmaster 0.1.0 up to and including
///   the commit that added `tests/fixtures/state-v0.1.0.bin`). They load as version 0.
/// - **1**: the same parameters and fields as 0, plus `state_version`.
///
/// Bump it when a change needs a migration (a parameter renamed, remapped or given a new
/// meaning) and add the step to [`migrate_state`]; adding a parameter does not need one (a state
/// without it leaves the parameter at its default). Old states must keep loading:
/// `tests/state_compat.rs` loads the committed fixtures.
pub const STATE_VERSION: u32 = 1;

/// Key of the version in the state's persisted fields.
pub const STATE_VERSION_FIELD: &str = "state_version";

/// The `state_version` persisted field. It always *saves* [`STATE_VERSION`] (a state written by
/// this build is in this build's format) and remembers the version of the last state *loaded*
/// (after [`migrate_state`] has marked legacy states as 0). Lock-free, like
/// [`PersistedEditorSize`].
#[derive(Debug)]
pub struct StateVersion {
    loaded: AtomicU32,
}

impl Default for StateVersion {
    fn default() -> Self {
        Self {
            loaded: AtomicU32::new(STATE_VERSION),
        }
    }
}

impl StateVersion {
    /// Format version of the last state loaded into these parameters ([`STATE_VERSION`] if none
    /// was loaded).
    pub fn loaded(&self) -> u32 {
        self.loaded.load(Ordering::Relaxed)
    }
}

impl<'a> PersistentField<'a, u32> for StateVersion {
    fn set(&self, new_value: u32) {
        self.loaded.store(new_value, Ordering::Relaxed);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&u32) -> R,
    {
        f(&STATE_VERSION)
    }
}

/// The format version a state was saved in: its `state_version` field, or 0 (legacy) without
/// one. A field that is not a number (a corrupt state) also reads as 0, the oldest format, so
/// every migration step runs over it (each tolerates values it does not need to change).
pub fn state_version_of(state: &PluginState) -> u32 {
    state
        .fields
        .get(STATE_VERSION_FIELD)
        .and_then(|v| serde_json::from_str::<u32>(v).ok())
        .unwrap_or(0)
}

/// Brings a loaded state to the current format before nice-plug applies it (called from
/// `Plugin::filter_state` and by the offline renderer's state loader).
///
/// Records the version the state was saved in as its `state_version` field, so a legacy state
/// (no field) is marked 0. A state from a *newer* build loads as far as it can: parameters this
/// build does not know are skipped by nice-plug, the ones it knows keep their values (losing a
/// whole session over one new parameter would be worse).
///
/// Migration steps go here, oldest first, each `if version < N { ... }`. Today there are none:
/// version 1 only added the version field.
pub fn migrate_state(state: &mut PluginState) {
    let version = state_version_of(state);
    state
        .fields
        .insert(STATE_VERSION_FIELD.to_string(), version.to_string());
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

    /// Hear the selected reference track, level-matched to the master (overrides the A/B).
    #[id = "listen_reference"]
    pub listen_reference: BoolParam,

    /// The reference slot compared (1-8).
    #[id = "reference_slot"]
    pub reference_slot: IntParam,

    /// How the reference is level-matched to the master.
    #[id = "reference_match"]
    pub reference_match: EnumParam<ReferenceMatchParam>,

    /// The streaming service of the as-streamed match.
    #[id = "reference_platform"]
    pub reference_platform: EnumParam<PlatformParam>,

    /// Reference playback follows the host transport (off: loops on its own).
    #[id = "reference_sync"]
    pub reference_sync: BoolParam,

    /// Monitoring aid for every source: stereo, mono, side, left, right.
    #[id = "monitor"]
    pub monitor: EnumParam<MonitorParam>,

    /// Band solo of the monitoring aids (0 = full band).
    #[id = "solo_band"]
    pub solo_band: IntParam,

    /// Snapshots heard at matched loudness: the recalled snapshot plays at the loudness of the
    /// quietest stored one (`snapshots::SnapshotBank::match_gain_db`).
    #[id = "snapshot_match"]
    pub snapshot_match: BoolParam,

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

    /// Editor size; written by the GUI thread (and by a state restore).
    #[persist = "editor_size"]
    pub editor_size: PersistedEditorSize,

    /// Reference slots: paths, loops, trims, offsets, content hashes and cached analysis.
    #[persist = "references"]
    pub references: PersistedReferences,

    /// Snapshots: stored versions of the master with their notes and measured loudness.
    #[persist = "snapshots"]
    pub snapshots: PersistedSnapshots,

    /// Format version of the saved state; see [`STATE_VERSION`].
    #[persist = "state_version"]
    pub state_version: StateVersion,
}

impl Default for FairmasterParams {
    fn default() -> Self {
        Self {
            input_gain: gain_db_param("Input Gain", gain::GAIN_DB),
            output_gain: gain_db_param("Output Gain", gain::GAIN_DB),
            ab_bypass: BoolParam::new("A/B Original", false)
                .with_value_to_string(Arc::new(|b| ab_text(b).into()))
                .with_string_to_value(Arc::new(parse_ab)),
            match_level: switch_param("Match Level", true),
            match_freeze: switch_param("Freeze Match", false),
            bypass: switch_param("Bypass", false).make_bypass(),
            target: EnumParam::new("Target", TargetParam::Streaming),
            custom_target_lufs: FloatParam::new(
                "Custom Target",
                CUSTOM_TARGET_LUFS.default,
                FloatRange::Linear {
                    min: CUSTOM_TARGET_LUFS.min,
                    max: CUSTOM_TARGET_LUFS.max,
                },
            )
            .with_unit(" LUFS")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1))
            .with_string_to_value(parse_number_with_unit(&[("LUFS", 1.0)])),
            listen_reference: BoolParam::new("Reference", false)
                .with_value_to_string(Arc::new(|b| if b { "Reference" } else { "Off" }.into()))
                .with_string_to_value(Arc::new(|text| {
                    let t = text.trim();
                    if t.eq_ignore_ascii_case("reference") || t.eq_ignore_ascii_case("r") {
                        Some(true)
                    } else {
                        parse_on_off(t)
                    }
                })),
            reference_slot: IntParam::new(
                "Reference Slot",
                1,
                IntRange::Linear {
                    min: 1,
                    max: REFERENCE_SLOTS as i32,
                },
            ),
            reference_match: EnumParam::new("Reference Match", ReferenceMatchParam::Integrated),
            reference_platform: EnumParam::new("Streamed As", PlatformParam::Spotify),
            reference_sync: switch_param("Reference Sync", true),
            monitor: EnumParam::new("Monitor", MonitorParam::Stereo),
            solo_band: IntParam::new(
                "Solo Band",
                0,
                IntRange::Linear {
                    min: 0,
                    max: SOLO_BANDS as i32,
                },
            )
            .with_value_to_string(Arc::new(|band| {
                if band <= 0 {
                    "Off".into()
                } else {
                    Monitor::band_label(band as usize - 1).into()
                }
            }))
            // The shown texts parse back (a host passes typed text), and so does a number.
            .with_string_to_value(Arc::new(|text| {
                let text = text.trim();
                if text.eq_ignore_ascii_case("off") {
                    return Some(0);
                }
                (0..SOLO_BANDS)
                    .find(|&b| Monitor::band_label(b).eq_ignore_ascii_case(text))
                    .map(|b| b as i32 + 1)
                    .or_else(|| text.parse::<i32>().ok())
                    .filter(|b| (0..=SOLO_BANDS as i32).contains(b))
            })),
            snapshot_match: switch_param("Snapshot Match", true),
            eq: EqParams::default(),
            comp: CompressorParams::default(),
            stereo: StereoParams::default(),
            limiter: LimiterParams::default(),
            dither: DitherParams::default(),
            editor_size: PersistedEditorSize::default(),
            references: PersistedReferences::default(),
            snapshots: PersistedSnapshots::default(),
            state_version: StateVersion::default(),
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
    /// A/B settings for `ab/`. Allocation-free.
    pub fn ab_settings(&self) -> AbSettings {
        AbSettings {
            listen_original: self.ab_bypass.value(),
            match_level: self.match_level.value(),
            freeze: self.match_freeze.value(),
            host_bypass: self.bypass.value(),
            listen_reference: self.listen_reference.value(),
            reference_match: match self.reference_match.value() {
                ReferenceMatchParam::Integrated => MatchMode::Integrated,
                ReferenceMatchParam::ShortTerm => MatchMode::ShortTerm,
                ReferenceMatchParam::AsStreamed => MatchMode::AsStreamed,
            },
            platform: self.reference_platform.value() as usize,
            version_gain_db: if self.snapshot_match.value() {
                self.snapshots.0.match_gain_db()
            } else {
                0.0
            },
        }
    }

    /// Reference playback settings: the parameters plus the persisted slot controls.
    /// Allocation- and lock-free.
    pub fn reference_settings(&self) -> ReferenceSettings {
        ReferenceSettings {
            slot: (self.reference_slot.value().clamp(1, REFERENCE_SLOTS as i32) - 1) as usize,
            sync_to_host: self.reference_sync.value(),
            match_mode: self.ab_settings().reference_match,
            platform: self.reference_platform.value() as usize,
            slots: self.references.0.controls(),
        }
    }

    /// Monitoring aids for `dsp::monitor`.
    pub fn monitor_settings(&self) -> MonitorSettings {
        let band = self.solo_band.value();
        MonitorSettings {
            channels: match self.monitor.value() {
                MonitorParam::Stereo => MonitorChannels::Stereo,
                MonitorParam::Mono => MonitorChannels::Mono,
                MonitorParam::Side => MonitorChannels::Side,
                MonitorParam::Left => MonitorChannels::Left,
                MonitorParam::Right => MonitorChannels::Right,
            },
            solo_band: (1..=SOLO_BANDS as i32)
                .contains(&band)
                .then(|| band as usize - 1),
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

/// The reference match modes (`reference::playback::MatchMode`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceMatchParam {
    #[id = "integrated"]
    #[name = "Integrated"]
    Integrated,
    #[id = "short_term"]
    #[name = "Short-term"]
    ShortTerm,
    #[id = "as_streamed"]
    #[name = "As streamed"]
    AsStreamed,
}

/// The streaming services of `targets::PLATFORMS`, in its order (the index is the
/// discriminant; `tests` check the names agree).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformParam {
    #[id = "spotify"]
    #[name = "Spotify"]
    Spotify,
    #[id = "youtube"]
    #[name = "YouTube"]
    YouTube,
    #[id = "apple_music"]
    #[name = "Apple Music"]
    AppleMusic,
    #[id = "tidal"]
    #[name = "Tidal"]
    Tidal,
    #[id = "amazon_music"]
    #[name = "Amazon Music"]
    AmazonMusic,
    #[id = "deezer"]
    #[name = "Deezer"]
    Deezer,
}

/// Monitoring aids (`dsp::monitor::MonitorChannels`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorParam {
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "mono"]
    #[name = "Mono"]
    Mono,
    #[id = "side"]
    #[name = "Side"]
    Side,
    #[id = "left"]
    #[name = "Left"]
    Left,
    #[id = "right"]
    #[name = "Right"]
    Right,
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
    #[name = "Loud/club -9"]
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
    // Only an out-of-range value is moved (to the nearer end): going through the normalised
    // position for every value would shift skewed ones by an f32 ulp (9000 Hz read back as
    // 8999.999), and settings -> parameters -> settings would not be the identity.
    let range = param.range();
    let position = range.normalize(value);
    if position <= 0.0 || position >= 1.0 {
        range.unnormalize(position.clamp(0.0, 1.0))
    } else {
        value
    }
}

fn gain_db_param(name: &str, range: Range) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Linear {
            min: range.min,
            max: range.max,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.01)
    .with_value_to_string(formatters::v2s_f32_rounded(2))
    .with_string_to_value(parse_number_with_unit(&[("dBTP", 1.0), ("dB", 1.0)]))
}

/// A parameter on a skewed range: `skew` < 0 gives the low end more of the control's travel
/// (frequencies, times, Q and ratios are perceived roughly logarithmically).
fn skewed_param(name: &str, range: Range, skew: f32) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Skewed {
            min: range.min,
            max: range.max,
            factor: FloatRange::skew_factor(skew),
        },
    )
}

/// A frequency parameter on a logarithmic-feeling (skewed) range, shown as Hz or kHz.
fn freq_param(name: &str, range: Range) -> FloatParam {
    skewed_param(name, range, -2.0)
        // The formatter appends "Hz"/"kHz" itself.
        .with_value_to_string(formatters::v2s_f32_hz_then_khz(1))
        .with_string_to_value(parse_number_with_unit(&[
            ("Hz", 1.0),
            ("kHz", 1000.0),
            ("k", 1000.0),
        ]))
}

fn q_param(name: &str, range: Range) -> FloatParam {
    skewed_param(name, range, -1.5)
        .with_value_to_string(formatters::v2s_f32_rounded(2))
        .with_string_to_value(parse_number_with_unit(&[]))
}

fn ms_param(name: &str, range: Range) -> FloatParam {
    skewed_param(name, range, -2.0)
        .with_unit(" ms")
        .with_value_to_string(formatters::v2s_f32_rounded(1))
        .with_string_to_value(parse_number_with_unit(&[("ms", 1.0), ("s", 1000.0)]))
}

fn percent_param(name: &str, range: Range) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Linear {
            min: range.min,
            max: range.max,
        },
    )
    .with_unit(" %")
    .with_value_to_string(formatters::v2s_f32_percentage(0))
    .with_string_to_value(parse_number_with_unit(&[("%", 0.01)]))
}

/// Parses what a person types into a host's value field: a number with an optional unit, "3",
/// "+3.5", "-6 dB", "-6dB", "2k", "2 kHz", "50 %". `units` lists the accepted units (matched
/// without regard to case, so "db" and "KHZ" work) with the factor from that unit to the
/// parameter's plain value (kHz -> Hz: 1000; % -> fraction: 0.01). A bare number is in the
/// first unit, the one the parameter displays ("50" on a percentage is 50 %). Anything else (an
/// unknown unit, text, NaN, infinity) is rejected, so the host keeps the old value rather than
/// a guess.
fn parse_number_with_unit(units: &'static [(&'static str, f32)]) -> StringToValue {
    Arc::new(move |text: &str| {
        let (number, unit) = split_number_and_unit(text)?;
        let factor = if unit.is_empty() {
            units.first().map_or(1.0, |&(_, factor)| factor)
        } else {
            units.iter().find(|(u, _)| u.eq_ignore_ascii_case(unit))?.1
        };
        Some(number * factor).filter(|v| v.is_finite())
    })
}

/// Splits " -6.5 dB " into (-6.5, "dB"). The number is the longest leading run of characters
/// that can appear in a decimal number; it must parse as a finite f32.
fn split_number_and_unit(text: &str) -> Option<(f32, &str)> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            let exponent = (c == 'e' || c == 'E')
                && t[..i].ends_with(|p: char| p.is_ascii_digit() || p == '.')
                && t[i + 1..].starts_with(|n: char| n.is_ascii_digit() || n == '-' || n == '+');
            !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-' || exponent)
        })
        .map_or(t.len(), |(i, _)| i);
    let number: f32 = t[..end].parse().ok()?;
    number.is_finite().then_some((number, t[end..].trim()))
}

/// A compression ratio as shown ("2.00:1") or typed ("2:1", "3.5", "4 : 1").
fn parse_ratio(text: &str) -> Option<f32> {
    let ratio = match text.split_once(':') {
        Some((num, den)) => {
            let (num, num_unit) = split_number_and_unit(num)?;
            let (den, den_unit) = split_number_and_unit(den)?;
            if !num_unit.is_empty() || !den_unit.is_empty() || den <= 0.0 {
                return None;
            }
            num / den
        }
        None => {
            let (value, unit) = split_number_and_unit(text)?;
            if !unit.is_empty() {
                return None;
            }
            value
        }
    };
    ratio.is_finite().then_some(ratio)
}

/// An on/off switch that parses back what it shows ("On"/"Off") and what people type for one.
fn switch_param(name: impl Into<String>, default: bool) -> BoolParam {
    BoolParam::new(name, default).with_string_to_value(Arc::new(parse_on_off))
}

/// "On"/"Off" in any case, and the usual synonyms (true/false, yes/no, 1/0). Anything else is
/// rejected: nice-plug's default would read any unknown text as "Off".
fn parse_on_off(text: &str) -> Option<bool> {
    const ON: &[&str] = &["on", "true", "yes", "1"];
    const OFF: &[&str] = &["off", "false", "no", "0"];
    let t = text.trim();
    if ON.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if OFF.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}

/// What the A/B switch shows: which signal is heard.
fn ab_text(listen_original: bool) -> &'static str {
    if listen_original {
        "B: original"
    } else {
        "A: master"
    }
}

/// The A/B switch's own texts ("A: master", "B: original") and their parts ("A", "b",
/// "original", "master"), in any case and spacing, plus on/off (on = the original is on).
fn parse_ab(text: &str) -> Option<bool> {
    parse_ab_words(text).or_else(|| parse_on_off(text))
}

/// The A/B words alone: the switch's texts and their parts, in any case and spacing; `true`
/// for the original. Also `fairmaster-render --listen`'s (`offline::listen::ListenMode`).
pub fn parse_ab_words(text: &str) -> Option<bool> {
    let key: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match key.as_str() {
        "b" | "original" | "boriginal" => Some(true),
        "a" | "master" | "amaster" => Some(false),
        _ => None,
    }
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
}

impl BandParams {
    fn new(label: &str, freq: Range, q: Range) -> Self {
        Self {
            enabled: switch_param(format!("{label} On"), false),
            freq: freq_param(&format!("{label} Freq"), freq),
            gain: gain_db_param(&format!("{label} Gain"), eq::GAIN_DB),
            q: q_param(&format!("{label} Q"), q),
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
            enabled: switch_param("Limiter On", true),
            drive: gain_db_param("Limiter Drive", limiter::DRIVE_DB),
            ceiling: gain_db_param("Limiter Ceiling", limiter::CEILING_DB).with_unit(" dBTP"),
            release: ms_param("Limiter Release", limiter::RELEASE_MS),
            auto_release: switch_param("Limiter Auto Release", d.auto_release),
            lookahead: ms_param("Limiter Lookahead", limiter::LOOKAHEAD_MS),
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
            noise_shaping: switch_param("Noise Shaping", false),
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

// ---------------------------------------------------------------------------------------------
// Settings -> parameters (the inverse of `chain_settings`)

/// Where plain values are written when chain settings become parameters: the editor writes
/// them as host gestures (`editor/presets.rs`), the offline renderer and the tests straight
/// into a [`FairmasterParams`] they own (`offline/settings.rs`). One mapping serves both, so a
/// factory preset is the same in the editor and in `fairmaster-render --preset`.
pub trait ParamWriter {
    fn float(&mut self, param: &FloatParam, value: f32);
    fn switch(&mut self, param: &BoolParam, value: bool);
    fn choice<T: Enum + PartialEq + 'static>(&mut self, param: &EnumParam<T>, value: T);
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

impl FairmasterParams {
    /// Writes every chain parameter so that [`FairmasterParams::chain_settings`] reads `s`
    /// back (the round trip is tested for every factory preset and random settings).
    /// Monitoring parameters (A/B, match, host bypass, target) are left alone.
    pub fn write_chain_settings(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        w.float(&self.input_gain, s.input_gain_db);
        w.float(&self.output_gain, s.output_gain_db);
        w.switch(&self.eq.enabled, s.eq_enabled);
        let mode = if s.eq_linear_phase {
            EqModeParam::LinearPhase
        } else {
            EqModeParam::MinimumPhase
        };
        w.choice(&self.eq.mode, mode);
        self.eq.low_cut.write(&s.eq.low_cut, w);
        self.eq.high_cut.write(&s.eq.high_cut, w);
        for (p, b) in [
            (&self.eq.low_shelf, &s.eq.low_shelf),
            (&self.eq.high_shelf, &s.eq.high_shelf),
        ] {
            p.write(b.enabled, b.freq_hz, b.gain_db, b.q, b.channels, w);
        }
        for (p, b) in self.eq.bells().into_iter().zip(&s.eq.bells) {
            p.write(b.enabled, b.freq_hz, b.gain_db, b.q, b.channels, w);
        }
        let (c, p) = (&s.compressor, &self.comp);
        w.switch(&p.enabled, c.enabled);
        w.float(&p.threshold, c.threshold_db);
        w.float(&p.ratio, c.ratio);
        w.float(&p.knee, c.knee_db);
        w.float(&p.attack, c.attack_ms);
        w.float(&p.release, c.release_ms);
        w.switch(&p.auto_release, c.auto_release);
        w.switch(&p.sidechain_hpf_enabled, c.sidechain_hpf_enabled);
        w.float(&p.sidechain_hpf, c.sidechain_hpf_hz);
        w.float(&p.mix, c.mix);
        w.float(&p.makeup, c.makeup_db);
        w.switch(&self.stereo.enabled, s.stereo_enabled);
        w.float(&self.stereo.width, s.stereo.width);
        w.switch(&self.stereo.mono_bass_enabled, s.stereo.mono_bass_enabled);
        w.float(&self.stereo.mono_bass, s.stereo.mono_bass_hz);
        let (l, p) = (&s.limiter, &self.limiter);
        w.switch(&p.enabled, l.enabled);
        w.float(&p.drive, l.drive_db);
        w.float(&p.ceiling, l.ceiling_db);
        w.float(&p.release, l.release_ms);
        w.switch(&p.auto_release, l.auto_release);
        w.float(&p.lookahead, l.lookahead_ms);
        let mode = match s.dither.mode {
            dither::DitherMode::Off => DitherModeParam::Off,
            dither::DitherMode::Bits24 => DitherModeParam::Bits24,
            dither::DitherMode::Bits16 => DitherModeParam::Bits16,
        };
        w.choice(&self.dither.mode, mode);
        w.switch(&self.dither.noise_shaping, s.dither.noise_shaping);
    }
}

/// Writes plain values straight into parameters this thread owns (no host, no gestures): the
/// offline renderer's parameter set and the tests. Not for parameters a plugin instance is
/// using (nice-plug's setters are its wrapper's business there).
pub struct DirectWriter;

impl ParamWriter for DirectWriter {
    fn float(&mut self, param: &FloatParam, value: f32) {
        // SAFETY: nice-plug marks the setter internal because a running plugin's parameters
        // belong to its wrapper; `DirectWriter` is only used on parameter sets its caller owns
        // and no host or audio thread sees (the value is an atomic store either way).
        unsafe {
            param._internal_set_plain_value(value);
        }
    }

    fn switch(&mut self, param: &BoolParam, value: bool) {
        // SAFETY: as in `float`.
        unsafe {
            param._internal_set_plain_value(value);
        }
    }

    fn choice<T: Enum + PartialEq + 'static>(&mut self, param: &EnumParam<T>, value: T) {
        // SAFETY: as in `float`.
        unsafe {
            param._internal_set_plain_value(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// settings -> parameters -> settings through the one mapping both ways.
    fn round_trip(s: &ChainSettings) -> ChainSettings {
        let params = FairmasterParams::default();
        params.write_chain_settings(s, &mut DirectWriter);
        params.chain_settings()
    }

    /// Every float of two settings, in declaration order (read off their `Debug` text, which
    /// lists every field), and the non-numeric rest of the text.
    fn numbers_and_shape(s: &ChainSettings) -> (Vec<f64>, String) {
        let text = format!("{s:?}");
        let mut numbers = Vec::new();
        let mut shape = String::new();
        let mut current = String::new();
        for ch in text.chars().chain(std::iter::once(' ')) {
            let number_char = ch.is_ascii_digit()
                || ch == '.'
                || (ch == '-' && current.is_empty())
                || (ch == 'e' && !current.is_empty());
            if number_char && !(current.is_empty() && ch == 'e') {
                current.push(ch);
                continue;
            }
            if !current.is_empty() {
                match current.parse::<f64>() {
                    Ok(v) => {
                        numbers.push(v);
                        shape.push('#');
                    }
                    Err(_) => shape.push_str(&current),
                }
                current.clear();
            }
            shape.push(ch);
        }
        (numbers, shape)
    }

    /// Identity: switches, choices and every number bit for bit (checked field by field for a
    /// readable message, then as a whole).
    fn assert_round_trip(name: &str, s: &ChainSettings) {
        let once = round_trip(s);
        let (want, want_shape) = numbers_and_shape(s);
        let (got, got_shape) = numbers_and_shape(&once);
        assert_eq!(got_shape, want_shape, "{name}: switches or choices changed");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "{name}: {w} came back as {g}\n{s:?}\n{once:?}");
        }
        assert_eq!(&once, s, "{name}");
    }

    #[test]
    #[allow(clippy::field_reassign_with_default)] // "defaults, then these draws" reads best
    fn settings_to_parameters_to_settings_is_the_identity() {
        for preset in crate::presets::FACTORY.iter() {
            assert_round_trip(preset.name, &(preset.settings)());
        }
        assert_round_trip(
            "reference, linear phase",
            &crate::presets::reference_master(true),
        );
        // Random settings over every range and choice.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        use crate::dsp::util::gain::GAIN_DB;
        for case in 0..200 {
            let mut pick = |r: Range| (r.min as f64 + uniform() * (r.max - r.min) as f64) as f32;
            let mut s = ChainSettings::default();
            s.input_gain_db = pick(GAIN_DB);
            s.output_gain_db = pick(GAIN_DB);
            s.eq.low_cut.freq_hz = pick(eq::LOW_CUT_FREQ_HZ);
            s.eq.high_cut.freq_hz = pick(eq::HIGH_CUT_FREQ_HZ);
            s.eq.low_shelf.freq_hz = pick(eq::LOW_SHELF_FREQ_HZ);
            s.eq.low_shelf.gain_db = pick(eq::GAIN_DB);
            s.eq.low_shelf.q = pick(eq::SHELF_Q);
            s.eq.high_shelf.freq_hz = pick(eq::HIGH_SHELF_FREQ_HZ);
            s.eq.high_shelf.gain_db = pick(eq::GAIN_DB);
            s.eq.high_shelf.q = pick(eq::SHELF_Q);
            for (b, range) in s.eq.bells.iter_mut().zip(eq::BELL_FREQ_HZ) {
                b.freq_hz = pick(range);
                b.gain_db = pick(eq::GAIN_DB);
                b.q = pick(eq::BELL_Q);
            }
            let c = &mut s.compressor;
            c.threshold_db = pick(compressor::THRESHOLD_DB);
            c.ratio = pick(compressor::RATIO);
            c.knee_db = pick(compressor::KNEE_DB);
            c.attack_ms = pick(compressor::ATTACK_MS);
            c.release_ms = pick(compressor::RELEASE_MS);
            c.sidechain_hpf_hz = pick(compressor::SIDECHAIN_HPF_HZ);
            c.mix = pick(compressor::MIX);
            c.makeup_db = pick(compressor::MAKEUP_DB);
            s.stereo.width = pick(stereo::WIDTH);
            s.stereo.mono_bass_hz = pick(stereo::MONO_BASS_HZ);
            let l = &mut s.limiter;
            l.drive_db = pick(limiter::DRIVE_DB);
            l.ceiling_db = pick(limiter::CEILING_DB);
            l.release_ms = pick(limiter::RELEASE_MS);
            l.lookahead_ms = pick(limiter::LOOKAHEAD_MS);
            // Switches and choices from the bits of one draw.
            let bits = (uniform() * (1u64 << 40) as f64) as u64;
            let bit = |n: u32| bits >> n & 1 == 1;
            let channels = |n: u32| match (bits >> n) % 3 {
                0 => eq::BandChannels::Stereo,
                1 => eq::BandChannels::Mid,
                _ => eq::BandChannels::Side,
            };
            s.eq_enabled = bit(0);
            s.eq_linear_phase = bit(1);
            s.eq.low_cut.enabled = bit(2);
            s.eq.low_cut.slope = if bit(3) {
                eq::CutSlope::Db24
            } else {
                eq::CutSlope::Db12
            };
            s.eq.low_cut.channels = channels(4);
            s.eq.high_cut.enabled = bit(6);
            s.eq.high_cut.slope = if bit(7) {
                eq::CutSlope::Db24
            } else {
                eq::CutSlope::Db12
            };
            s.eq.high_cut.channels = channels(8);
            s.eq.low_shelf.enabled = bit(10);
            s.eq.low_shelf.channels = channels(11);
            s.eq.high_shelf.enabled = bit(13);
            s.eq.high_shelf.channels = channels(14);
            for (i, b) in s.eq.bells.iter_mut().enumerate() {
                b.enabled = bit(16 + 3 * i as u32);
                b.channels = channels(17 + 3 * i as u32);
            }
            s.compressor.enabled = bit(28);
            s.compressor.auto_release = bit(29);
            s.compressor.sidechain_hpf_enabled = bit(30);
            s.stereo_enabled = bit(31);
            s.stereo.mono_bass_enabled = bit(32);
            s.limiter.enabled = bit(33);
            s.limiter.auto_release = bit(34);
            s.dither.mode = match (bits >> 35) % 3 {
                0 => dither::DitherMode::Off,
                1 => dither::DitherMode::Bits24,
                _ => dither::DitherMode::Bits16,
            };
            s.dither.noise_shaping = bit(37);
            assert_round_trip(&format!("random case {case}"), &s);
        }
    }

    #[test]
    fn db_text_parses_with_and_without_unit() {
        let p = parse_number_with_unit(&[("dBTP", 1.0), ("dB", 1.0)]);
        assert_eq!(p("3"), Some(3.0));
        assert_eq!(p("+3.5"), Some(3.5));
        assert_eq!(p("-6 dB"), Some(-6.0));
        assert_eq!(p(" -6dB "), Some(-6.0));
        assert_eq!(p("-6 DB"), Some(-6.0));
        assert_eq!(p("-1.00 dBTP"), Some(-1.0));
        assert_eq!(p("1.5e1 dB"), Some(15.0));
        assert_eq!(p("-6 dBFS"), None);
        assert_eq!(p("3e"), None);
        assert_eq!(p("loud"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("NaN"), None);
        assert_eq!(p("inf"), None);
        assert_eq!(p("-inf dB"), None);
        assert_eq!(p("1e39"), None);
    }

    #[test]
    fn units_scale_the_number() {
        let hz = parse_number_with_unit(&[("Hz", 1.0), ("kHz", 1000.0), ("k", 1000.0)]);
        assert_eq!(hz("2k"), Some(2000.0));
        assert_eq!(hz("2 kHz"), Some(2000.0));
        assert_eq!(hz("2.5KHZ"), Some(2500.0));
        assert_eq!(hz("150 hz"), Some(150.0));
        assert_eq!(hz("150"), Some(150.0));
        assert_eq!(hz("A4"), None);
        assert_eq!(hz("2 ms"), None);
        let percent = parse_number_with_unit(&[("%", 0.01)]);
        assert_eq!(percent("50 %"), Some(0.5));
        assert_eq!(percent("137%"), Some(1.37));
        assert_eq!(percent("50"), Some(0.5));
        let ms = parse_number_with_unit(&[("ms", 1.0), ("s", 1000.0)]);
        assert_eq!(ms("0.25 s"), Some(250.0));
        assert_eq!(ms("12 ms"), Some(12.0));
    }

    #[test]
    fn ratio_and_switch_texts() {
        assert_eq!(parse_ratio("2:1"), Some(2.0));
        assert_eq!(parse_ratio("2.00:1"), Some(2.0));
        assert_eq!(parse_ratio(" 8 : 2 "), Some(4.0));
        assert_eq!(parse_ratio("3.5"), Some(3.5));
        assert_eq!(parse_ratio("2:0"), None);
        assert_eq!(parse_ratio("0:0"), None);
        assert_eq!(parse_ratio("2 dB"), None);
        assert_eq!(parse_ratio("hard"), None);
        for (text, v) in [("On", true), ("off", false), ("TRUE", true), ("0", false)] {
            assert_eq!(parse_on_off(text), Some(v), "{text}");
        }
        assert_eq!(parse_on_off("maybe"), None);
        for text in [
            "B",
            "b",
            "original",
            "B: original",
            "b: original",
            "B:Original",
            "on",
        ] {
            assert_eq!(parse_ab(text), Some(true), "{text}");
        }
        for text in ["A", "a", "master", "A: master", "a:master", "off"] {
            assert_eq!(parse_ab(text), Some(false), "{text}");
        }
        assert_eq!(parse_ab("C"), None);
        assert_eq!(parse_ab(ab_text(true)), Some(true));
        assert_eq!(parse_ab(ab_text(false)), Some(false));
    }

    fn state_with_fields(fields: &[(&str, &str)]) -> PluginState {
        PluginState {
            version: "0.1.0".into(),
            params: Default::default(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn legacy_state_migrates_as_version_0() {
        let mut legacy = state_with_fields(&[("editor_size", r#"{"width":900,"height":600}"#)]);
        assert_eq!(state_version_of(&legacy), 0);
        migrate_state(&mut legacy);
        assert_eq!(legacy.fields[STATE_VERSION_FIELD], "0");
        assert_eq!(
            legacy.fields["editor_size"], r#"{"width":900,"height":600}"#,
            "migration must not touch other fields"
        );
        let params = FairmasterParams::default();
        assert_eq!(params.state_version.loaded(), STATE_VERSION);
        params.deserialize_fields(&legacy.fields);
        assert_eq!(params.state_version.loaded(), 0);
        assert_eq!(
            params.editor_size.get(),
            EditorSize {
                width: 900,
                height: 600
            }
        );
        // Whatever was loaded, a save writes this build's version.
        let saved = params.serialize_fields();
        assert_eq!(saved[STATE_VERSION_FIELD], STATE_VERSION.to_string());

        let mut current = state_with_fields(&[(STATE_VERSION_FIELD, "1")]);
        migrate_state(&mut current);
        assert_eq!(state_version_of(&current), 1);
        let mut corrupt = state_with_fields(&[(STATE_VERSION_FIELD, "\"banana\"")]);
        migrate_state(&mut corrupt);
        assert_eq!(state_version_of(&corrupt), 0);
        let mut future = state_with_fields(&[(STATE_VERSION_FIELD, "99")]);
        migrate_state(&mut future);
        assert_eq!(state_version_of(&future), 99);
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
