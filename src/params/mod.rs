//! Host parameters: the parameter tree (the stages' groups from `stages/`, nested, plus the
//! listening controls here), the mapping to the plain settings the engine takes, and the state's
//! own fields (`state.rs`) and text parsing (`text.rs`).
//!
//! Parameter IDs are part of saved sessions and automation lanes: never rename one. The README's
//! parameter table lists them all.

pub mod state;
pub mod text;
pub mod writer;

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::ab::AbSettings;
use crate::dsp::monitor::{Monitor, MonitorChannels, MonitorSettings, SOLO_BANDS};
use crate::reference::playback::{MatchMode, ReferenceSettings, REFERENCE_SLOTS};
use crate::reference::state::PersistedReferences;
use crate::snapshots::PersistedSnapshots;
use crate::stages::audition::AuditionSettings;
use crate::stages::eq::matching::PersistedMatchDifference;
use crate::stages::{ChainSettings, PersistedStageOrder, StageId, StageParams};
use crate::targets::{Target, CUSTOM_TARGET_LUFS, PRESET_TARGETS};
use state::{PersistedEditorSize, StateVersion};
use text::{ab_text, in_range, parse_ab, parse_number_with_unit, parse_on_off, switch_param};
use writer::ParamWriter;

/// The listening controls: how the master is heard (A/B, reference, monitoring aids,
/// snapshot matching), not what it is. A snapshot stores every other parameter, and storing or
/// recalling one leaves these alone.
pub const LISTENING_PARAM_IDS: [&str; 25] = [
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
    "compare_stage",
    "compare_match",
    "delta_stage",
    "mb_b1_solo",
    "mb_b2_solo",
    "mb_b3_solo",
    "mb_b4_solo",
    "mb_b5_solo",
    "mb_b1_compare",
    "mb_b2_compare",
    "mb_b3_compare",
    "mb_b4_compare",
    "mb_b5_compare",
];

#[derive(Params)]
pub struct FairmasterParams {
    /// Every processing stage's parameter group (`stages/`), with the IDs and groups they
    /// always had.
    #[nested]
    pub stages: StageParams,

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

    /// A stage heard without it, at the loudness it produces (`stages::audition`).
    #[id = "compare_stage"]
    pub compare_stage: EnumParam<CompareParam>,

    /// The compared stage plays at matched loudness (off: a plain bypass of that stage).
    #[id = "compare_match"]
    pub compare_match: BoolParam,

    /// Hear only what the clipper or the limiter takes away.
    #[id = "delta_stage"]
    pub delta_stage: EnumParam<DeltaParam>,

    /// The order of the movable stages: not a parameter (no automation lane), saved with the
    /// session.
    #[persist = "stage_order"]
    pub stage_order: PersistedStageOrder,

    /// The match EQ's measured difference to a reference (`stages::eq::matching`): not a
    /// parameter, saved with the session.
    #[persist = "eq_match"]
    pub eq_match: PersistedMatchDifference,

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
            stages: StageParams::default(),
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
            compare_stage: EnumParam::new("Compare Stage", CompareParam::Off),
            compare_match: switch_param("Compare Matched", true),
            delta_stage: EnumParam::new("Delta", DeltaParam::Off),
            stage_order: PersistedStageOrder::default(),
            eq_match: PersistedMatchDifference::default(),
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
        let mut settings = ChainSettings {
            order: self.stage_order.get(),
            ..ChainSettings::default()
        };
        self.stages.read(&mut settings);
        settings.eq_match = self.eq_match.curve(&self.stages.eq.matching.options());
        settings
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

    /// The stage auditioned (compare or delta) for `stages::audition`.
    pub fn audition_settings(&self) -> AuditionSettings {
        AuditionSettings {
            compare: self.compare_stage.value().stage(),
            match_level: self.compare_match.value(),
            delta: match self.delta_stage.value() {
                DeltaParam::Off => None,
                DeltaParam::Clipper => Some(StageId::Clipper),
                DeltaParam::Limiter => Some(StageId::Limiter),
            },
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
                ceiling_dbtp: in_range(&self.stages.limiter.ceiling),
            },
        }
    }
}

/// The stages a compare can take out (`stages::audition`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareParam {
    #[id = "off"]
    #[name = "Off"]
    Off,
    #[id = "eq"]
    #[name = "EQ"]
    Eq,
    #[id = "compressor"]
    #[name = "Compressor"]
    Compressor,
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "clipper"]
    #[name = "Clipper"]
    Clipper,
    #[id = "limiter"]
    #[name = "Limiter"]
    Limiter,
    #[id = "saturation"]
    #[name = "Saturation"]
    Saturation,
    #[id = "multiband"]
    #[name = "Multiband"]
    Multiband,
    // Appended (issue 29): the earlier entries keep their indices in saved sessions.
    #[id = "elliptical"]
    #[name = "Elliptical"]
    Elliptical,
    #[id = "hf_limiter"]
    #[name = "HF Limiter"]
    HfLimiter,
}

impl CompareParam {
    pub fn stage(self) -> Option<StageId> {
        match self {
            CompareParam::Off => None,
            CompareParam::Eq => Some(StageId::Eq),
            CompareParam::Compressor => Some(StageId::Compressor),
            CompareParam::Stereo => Some(StageId::Stereo),
            CompareParam::Clipper => Some(StageId::Clipper),
            CompareParam::Limiter => Some(StageId::Limiter),
            CompareParam::Saturation => Some(StageId::Saturation),
            CompareParam::Multiband => Some(StageId::Multiband),
            CompareParam::Elliptical => Some(StageId::Elliptical),
            CompareParam::HfLimiter => Some(StageId::HfLimiter),
        }
    }

    pub fn of(stage: StageId) -> Option<Self> {
        [
            CompareParam::Eq,
            CompareParam::Compressor,
            CompareParam::Stereo,
            CompareParam::Clipper,
            CompareParam::Limiter,
            CompareParam::Saturation,
            CompareParam::Multiband,
            CompareParam::Elliptical,
            CompareParam::HfLimiter,
        ]
        .into_iter()
        .find(|c| c.stage() == Some(stage))
    }
}

/// The stages whose delta can be heard.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaParam {
    #[id = "off"]
    #[name = "Off"]
    Off,
    #[id = "clipper"]
    #[name = "Clipper"]
    Clipper,
    #[id = "limiter"]
    #[name = "Limiter"]
    Limiter,
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

impl FairmasterParams {
    /// Writes every chain parameter (and the stage order) so that
    /// [`FairmasterParams::chain_settings`] reads `s` back (the round trip is tested for every
    /// factory preset and random settings). Each stage writes its own group
    /// ([`StageParams::write`]). Monitoring parameters (A/B, match, host bypass, target) are
    /// left alone.
    pub fn write_chain_settings(&self, s: &ChainSettings, w: &mut impl ParamWriter) {
        self.stages.write(s, w);
        // The order is no parameter: stored at once, without a gesture.
        self.stage_order.set(s.order);
    }
}

#[cfg(test)]
mod tests {
    use super::state::*;
    use super::text::*;
    use super::writer::DirectWriter;
    use super::*;
    use crate::dsp::dynamics::{compressor, limiter};
    use crate::dsp::filters::eq;
    use crate::dsp::util::range::Range;
    use crate::dsp::{dither, stereo};
    use crate::stages::StageOrder;

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
            s.clipper.drive_db = pick(crate::dsp::shaping::clipper::DRIVE_DB);
            s.clipper.ceiling_db = pick(crate::dsp::shaping::clipper::CEILING_DB);
            for (i, hz) in s.saturation.splits_hz.iter_mut().enumerate() {
                *hz = pick(crate::dsp::shaping::saturation::SPLIT_HZ[i]);
            }
            s.saturation.splits_hz.sort_by(f32::total_cmp);
            for b in s.saturation.band.iter_mut() {
                b.drive_db = pick(crate::dsp::shaping::saturation::DRIVE_DB);
                b.mix_percent = pick(crate::dsp::shaping::saturation::MIX_PERCENT).round();
            }
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
            s.limiter.character = limiter::LimiterCharacter::ALL[(bits >> 38) as usize % 3];
            s.dither.mode = match (bits >> 35) % 3 {
                0 => dither::DitherMode::Off,
                1 => dither::DitherMode::Bits24,
                _ => dither::DitherMode::Bits16,
            };
            s.dither.noise_shaping = bit(37);
            s.clipper.enabled = bit(39);
            s.clipper.curve = crate::dsp::shaping::curves::ClipCurve::ALL[case % 3];
            s.clipper.oversampling = 1 << (case % 5);
            let t = &mut s.saturation;
            t.enabled = bit(38);
            t.auto_gain = bit(36);
            t.oversampling = 1 << ((case + 2) % 5);
            t.bands = 2 + case % 4;
            for (i, b) in t.band.iter_mut().enumerate() {
                b.curve = crate::dsp::shaping::curves::SaturationCurve::ALL[(case + i) % 3];
            }
            // Every order of the movable stages, by turns.
            let order = StageOrder::default();
            let first = order.as_slice()[case % order.as_slice().len()];
            s.order = order.moved(first, (case / 3) % order.as_slice().len());
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
