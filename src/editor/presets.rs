//! Factory presets (honest starting points, applied through host gestures) and user presets
//! (the full plugin state as JSON, via the host context's get_state / set_state).

use std::path::{Path, PathBuf};

use nice_plug::context::gui::GuiContext;
use nice_plug::plugin::PluginState;
use nice_plug::prelude::{BoolParam, Enum, EnumParam, FloatParam, Param};

use super::widgets::Ctl;
use crate::params::writer::ParamWriter;
use crate::params::FairmasterParams;
use crate::stages::ChainSettings;

pub use crate::presets::{FactoryPreset, FACTORY};

/// Writes parameters as host gestures, one per parameter whose value changes (so applying a
/// preset does not flood the host's undo history with no-op edits).
struct GestureWriter<'a>(&'a Ctl<'a>);

impl ParamWriter for GestureWriter<'_> {
    fn float(&mut self, p: &FloatParam, v: f32) {
        if (p.unmodulated_plain_value() - v).abs() > 1e-6 {
            self.0.set(p, v);
        }
    }

    fn switch(&mut self, p: &BoolParam, v: bool) {
        if p.value() != v {
            self.0.set(p, v);
        }
    }

    fn choice<T: Enum + PartialEq + 'static>(&mut self, p: &EnumParam<T>, v: T) {
        if p.value() != v {
            self.0.set(p, v);
        }
    }
}

/// Sets every chain parameter to `s` ([`FairmasterParams::write_chain_settings`], the mapping
/// the offline renderer uses too) through host gestures. Monitoring parameters (A/B, match,
/// host bypass) are left alone.
pub fn apply_chain_settings(ctl: &Ctl, p: &FairmasterParams, s: &ChainSettings) {
    let order = p.stage_order.get();
    p.write_chain_settings(s, &mut GestureWriter(ctl));
    // The stage order is no parameter, so no gesture tells the host it changed.
    if p.stage_order.get() != order {
        ctl.mark_state_dirty();
    }
}

pub fn apply_factory(ctl: &Ctl, p: &FairmasterParams, preset: &FactoryPreset) {
    apply_chain_settings(ctl, p, &(preset.settings)());
    if let Some(t) = preset.target {
        GestureWriter(ctl).choice(&p.target, t);
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
    // The state's fields (stage order, references, snapshots) reach no host parameter.
    gui.mark_state_dirty();
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
