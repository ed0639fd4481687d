//! Factory presets (honest starting points, applied through host gestures) and user presets
//! (the full plugin state as JSON, via the host context's get_state / set_state).

// Presets read best as "defaults, then these changes".
#![allow(clippy::field_reassign_with_default)]

use std::path::{Path, PathBuf};

use nice_plug::context::gui::GuiContext;
use nice_plug::plugin::PluginState;
use nice_plug::prelude::Param;

use super::widgets::Ctl;
use crate::chain::ChainSettings;
use crate::dsp::dither::DitherMode;
use crate::dsp::filters::eq::{BandChannels, BellBand, CutBand, CutSlope, ShelfBand};
use crate::params::{
    BandParams, ChannelsParam, CutParams, DitherModeParam, EqModeParam, FairmasterParams,
    SlopeParam,
};

pub use crate::presets::{FactoryPreset, FACTORY};

fn set_f(ctl: &Ctl, p: &nice_plug::prelude::FloatParam, v: f32) {
    if (p.unmodulated_plain_value() - v).abs() > 1e-6 {
        ctl.set(p, v);
    }
}

fn set_b(ctl: &Ctl, p: &nice_plug::prelude::BoolParam, v: bool) {
    if p.value() != v {
        ctl.set(p, v);
    }
}

fn set_e<T: nice_plug::prelude::Enum + PartialEq + 'static>(
    ctl: &Ctl,
    p: &nice_plug::prelude::EnumParam<T>,
    v: T,
) {
    if p.value() != v {
        ctl.set(p, v);
    }
}

fn channels(c: BandChannels) -> ChannelsParam {
    match c {
        BandChannels::Stereo => ChannelsParam::Stereo,
        BandChannels::Mid => ChannelsParam::Mid,
        BandChannels::Side => ChannelsParam::Side,
    }
}

fn cut(ctl: &Ctl, p: &CutParams, b: &CutBand) {
    set_b(ctl, &p.enabled, b.enabled);
    set_f(ctl, &p.freq, b.freq_hz);
    set_e(
        ctl,
        &p.slope,
        match b.slope {
            CutSlope::Db12 => SlopeParam::Db12,
            CutSlope::Db24 => SlopeParam::Db24,
        },
    );
    set_e(ctl, &p.channels, channels(b.channels));
}

fn band(ctl: &Ctl, p: &BandParams, enabled: bool, f: f32, g: f32, q: f32, c: BandChannels) {
    set_b(ctl, &p.enabled, enabled);
    set_f(ctl, &p.freq, f);
    set_f(ctl, &p.gain, g);
    set_f(ctl, &p.q, q);
    set_e(ctl, &p.channels, channels(c));
}

fn shelf(ctl: &Ctl, p: &BandParams, b: &ShelfBand) {
    band(ctl, p, b.enabled, b.freq_hz, b.gain_db, b.q, b.channels);
}

fn bell(ctl: &Ctl, p: &BandParams, b: &BellBand) {
    band(ctl, p, b.enabled, b.freq_hz, b.gain_db, b.q, b.channels);
}

/// Sets every chain parameter to `s`, one host gesture per parameter that changes. Monitoring
/// parameters (A/B, match, host bypass) are left alone.
pub fn apply_chain_settings(ctl: &Ctl, p: &FairmasterParams, s: &ChainSettings) {
    set_f(ctl, &p.input_gain, s.input_gain_db);
    set_f(ctl, &p.output_gain, s.output_gain_db);
    set_b(ctl, &p.eq.enabled, s.eq_enabled);
    set_e(
        ctl,
        &p.eq.mode,
        if s.eq_linear_phase {
            EqModeParam::LinearPhase
        } else {
            EqModeParam::MinimumPhase
        },
    );
    cut(ctl, &p.eq.low_cut, &s.eq.low_cut);
    cut(ctl, &p.eq.high_cut, &s.eq.high_cut);
    shelf(ctl, &p.eq.low_shelf, &s.eq.low_shelf);
    shelf(ctl, &p.eq.high_shelf, &s.eq.high_shelf);
    for (bp, b) in p.eq.bells().into_iter().zip(&s.eq.bells) {
        bell(ctl, bp, b);
    }
    let c = &s.compressor;
    set_b(ctl, &p.comp.enabled, c.enabled);
    set_f(ctl, &p.comp.threshold, c.threshold_db);
    set_f(ctl, &p.comp.ratio, c.ratio);
    set_f(ctl, &p.comp.knee, c.knee_db);
    set_f(ctl, &p.comp.attack, c.attack_ms);
    set_f(ctl, &p.comp.release, c.release_ms);
    set_b(ctl, &p.comp.auto_release, c.auto_release);
    set_b(ctl, &p.comp.sidechain_hpf_enabled, c.sidechain_hpf_enabled);
    set_f(ctl, &p.comp.sidechain_hpf, c.sidechain_hpf_hz);
    set_f(ctl, &p.comp.mix, c.mix);
    set_f(ctl, &p.comp.makeup, c.makeup_db);
    set_b(ctl, &p.stereo.enabled, s.stereo_enabled);
    set_f(ctl, &p.stereo.width, s.stereo.width);
    set_b(ctl, &p.stereo.mono_bass_enabled, s.stereo.mono_bass_enabled);
    set_f(ctl, &p.stereo.mono_bass, s.stereo.mono_bass_hz);
    let l = &s.limiter;
    set_b(ctl, &p.limiter.enabled, l.enabled);
    set_f(ctl, &p.limiter.drive, l.drive_db);
    set_f(ctl, &p.limiter.ceiling, l.ceiling_db);
    set_f(ctl, &p.limiter.release, l.release_ms);
    set_b(ctl, &p.limiter.auto_release, l.auto_release);
    set_f(ctl, &p.limiter.lookahead, l.lookahead_ms);
    set_e(
        ctl,
        &p.dither.mode,
        match s.dither.mode {
            DitherMode::Off => DitherModeParam::Off,
            DitherMode::Bits24 => DitherModeParam::Bits24,
            DitherMode::Bits16 => DitherModeParam::Bits16,
        },
    );
    set_b(ctl, &p.dither.noise_shaping, s.dither.noise_shaping);
}

pub fn apply_factory(ctl: &Ctl, p: &FairmasterParams, preset: &FactoryPreset) {
    apply_chain_settings(ctl, p, &(preset.settings)());
    if let Some(t) = preset.target {
        set_e(ctl, &p.target, t);
    }
}

/// The user preset folder: `$XDG_CONFIG_HOME/fairmaster/presets` or `~/.config/...` on Linux,
/// `~/Library/Application Support/Fairmaster/Presets` on macOS, `%APPDATA%\Fairmaster\Presets`
/// on Windows. `None` when no home directory is known.
pub fn user_preset_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FAIRMASTER_PRESET_DIR") {
        return Some(PathBuf::from(dir));
    }
    if cfg!(target_os = "windows") {
        return std::env::var_os("APPDATA")
            .map(|d| PathBuf::from(d).join("Fairmaster").join("Presets"));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if cfg!(target_os = "macos") {
        return home.map(|h| h.join("Library/Application Support/Fairmaster/Presets"));
    }
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".config")))
        .map(|c| c.join("fairmaster").join("presets"))
}

/// A typed name ("My master") becomes `<dir>/My master.json`; anything with a path separator
/// or a `.json` ending is used as a path.
pub fn resolve_path(input: &str) -> Result<PathBuf, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("Type a preset name or a file path first.".to_owned());
    }
    if input.contains('/') || input.contains('\\') || input.ends_with(".json") {
        return Ok(PathBuf::from(input));
    }
    let dir = user_preset_dir().ok_or("No home directory: type a full file path instead.")?;
    Ok(dir.join(format!("{input}.json")))
}

/// Saves the full plugin state (all parameters and persisted fields) as JSON.
pub fn save(gui: &GuiContext, path: &Path) -> Result<(), String> {
    let state = gui.get_state();
    let json =
        serde_json::to_string_pretty(&state).map_err(|e| format!("Could not encode: {e}"))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("Could not create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, json).map_err(|e| format!("Could not write {}: {e}", path.display()))
}

/// Loads a state saved by [`save`] and hands it to the host context.
pub fn load(gui: &GuiContext, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("Could not read {}: {e}", path.display()))?;
    let state: PluginState = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a Fairmaster preset: {e}", path.display()))?;
    if state.params.is_empty() {
        return Err(format!("{} holds no parameters", path.display()));
    }
    gui.set_state(state);
    Ok(())
}

/// Preset names (file stems) in the user folder, sorted.
pub fn list_user_presets() -> Vec<String> {
    let Some(dir) = user_preset_dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}
