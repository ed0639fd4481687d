//! Host parameters (stable IDs) and their mapping to the plain settings the DSP modules take.
//!
//! Parameter IDs are part of saved sessions and automation lanes: never rename one. The README's
//! parameter table lists them all.

use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chain::ChainSettings;

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
    pub const DEFAULT: EditorSize = EditorSize {
        width: 640,
        height: 360,
    };
    pub const MIN: EditorSize = EditorSize {
        width: 480,
        height: 280,
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

    /// Editor size; written by the GUI thread only, never touched by `process()`.
    #[persist = "editor_size"]
    pub editor_size: Arc<RwLock<EditorSize>>,
}

fn gain_db_param(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: GAIN_RANGE_DB.0,
            max: GAIN_RANGE_DB.1,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.01)
    .with_value_to_string(formatters::v2s_f32_rounded(2))
    .with_string_to_value(parse_db())
}

/// Parses "3", "+3.5", "-6 dB", "-6dB" into dB. Anything else is rejected (the host keeps the
/// old value) rather than guessed.
fn parse_db() -> Arc<dyn Fn(&str) -> Option<f32> + Send + Sync> {
    Arc::new(|text: &str| {
        let t = text.trim();
        let t = t
            .strip_suffix("dB")
            .or_else(|| t.strip_suffix("db"))
            .unwrap_or(t)
            .trim();
        t.parse::<f32>().ok().filter(|v| v.is_finite())
    })
}

impl Default for FairmasterParams {
    fn default() -> Self {
        Self {
            input_gain: gain_db_param("Input Gain"),
            output_gain: gain_db_param("Output Gain"),
            editor_size: Arc::new(RwLock::new(EditorSize::default())),
        }
    }
}

impl FairmasterParams {
    /// Reads the current host parameter values into the plain settings of the chain.
    /// Allocation-free: called at the start of every `process()` block.
    pub fn chain_settings(&self) -> ChainSettings {
        ChainSettings {
            input_gain_db: self.input_gain.value(),
            output_gain_db: self.output_gain.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_text_parses_with_and_without_unit() {
        let p = parse_db();
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
