//! `--listen`: renders what the plugin *plays* in a listening mode — the master, the matched
//! original (A/B) or the matched reference — so the level match can be checked with any meter.
//!
//! Same `Engine` path as the plugin with realtime semantics: `reset(rate, offline = false)`
//! (an offline render always outputs the master), host blocks of [`LISTEN_BLOCK`] frames, the
//! transport playing from timeline position 0 and advancing with every block, the reference
//! installed in slot 1 exactly as the loader hands it to the audio thread. As in a DAW with
//! delay compensation, the first `latency` output samples are dropped, so the output is
//! aligned with the input (and the reference, which sync mode places at `position - latency`,
//! is aligned with both).

use std::sync::Arc;

use serde::Serialize;

use super::render::{integrated_lufs, run_aligned};
use super::Audio;
use crate::ab::{AbSettings, AbStatus};
use crate::engine::Engine;
use crate::reference::playback::{ReferenceSettings, Transport};
use crate::reference::track::ReferenceTrack;
use crate::stages::ChainSettings;

/// Host block size of a listening render (a common DAW buffer).
pub const LISTEN_BLOCK: usize = 512;

/// What is heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenMode {
    Master,
    Original,
    Reference,
}

impl ListenMode {
    /// `reference` (or `r`), or the A/B switch's words (`crate::params::text::parse_ab_words`:
    /// `master`, `a`, `original`, `b`, "A: master", ...), in any case.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("reference") || t.eq_ignore_ascii_case("r") {
            return Some(Self::Reference);
        }
        crate::params::text::parse_ab_words(t).map(|original| {
            if original {
                Self::Original
            } else {
                Self::Master
            }
        })
    }

    /// The A/B settings that select this source.
    pub fn apply(self, ab: &AbSettings) -> AbSettings {
        AbSettings {
            listen_original: self == Self::Original,
            listen_reference: self == Self::Reference,
            host_bypass: false,
            ..*ab
        }
    }
}

/// The heard signal and the monitor's state at its end.
pub struct Heard {
    pub audio: Audio,
    pub status: AbStatus,
    pub latency_samples: u32,
}

/// Renders `input` as heard in `mode` (see the module docs). `reference` goes into the slot
/// `reference_settings.slot` selects.
pub fn render_listening(
    input: &Audio,
    chain: &ChainSettings,
    ab: &AbSettings,
    mode: ListenMode,
    reference: Option<Arc<ReferenceTrack>>,
    reference_settings: &ReferenceSettings,
) -> Heard {
    let mut engine = Engine::new();
    let mono = input.is_mono();
    engine.set(chain, &mode.apply(ab));
    engine.set_reference(reference_settings);
    engine.reset(input.sample_rate as f32, false, mono);
    // The replaced track is `None` (a fresh engine); dropping it here is off any audio thread.
    drop(engine.install_reference(reference_settings.slot, reference));
    let latency = engine.latency_samples();
    let audio = run_aligned(
        &mut engine,
        input,
        LISTEN_BLOCK,
        |engine, start| {
            engine.set_transport(Transport {
                playing: true,
                position_samples: Some(start as i64),
            })
        },
        |_, _| {},
    );
    Heard {
        audio,
        status: engine.ab_status(),
        latency_samples: latency,
    }
}

/// The `--listen` report.
#[derive(Debug, Clone, Serialize)]
pub struct ListenReport {
    pub mode: ListenMode,
    pub output: Option<String>,
    /// Integrated loudness of what was written (the plugin's BS.1770-4 meter).
    pub heard_lufs: f64,
    /// Gain the monitor applied to the original (B) or the reference at the end, dB.
    pub match_offset_db: f32,
    /// How far that gain raised the reference above its peak headroom, into its safety
    /// limiter, dB (reference mode; 0 = no limiting).
    pub reference_safety_limiting_db: f32,
    /// How much the master (and the matched original) was turned down in monitoring because
    /// the reference could not be raised to it, dB (0 = not).
    pub master_down_db: f32,
    /// Reference loop integrated loudness and whole-track figures, when one was given.
    pub reference_loop_lufs: Option<f32>,
    pub latency_samples: u32,
    /// The reference's timeline offset used (`--reference-offset`, or found by `--align`), s.
    pub reference_offset_seconds: Option<f64>,
    /// Phase coherence of the `--align` match, 0-1.
    pub align_coherence: Option<f32>,
}

impl ListenReport {
    pub fn new(mode: ListenMode, output: Option<String>, heard: &Heard) -> Self {
        Self {
            mode,
            output,
            heard_lufs: integrated_lufs(&heard.audio),
            match_offset_db: match mode {
                ListenMode::Master => 0.0,
                ListenMode::Original => heard.status.match_offset_db,
                ListenMode::Reference => heard.status.reference_offset_db,
            },
            reference_safety_limiting_db: match mode {
                ListenMode::Reference => heard.status.reference_safety_limiting_db,
                _ => 0.0,
            },
            master_down_db: heard.status.master_down_db,
            reference_loop_lufs: None,
            latency_samples: heard.latency_samples,
            reference_offset_seconds: None,
            align_coherence: None,
        }
    }

    pub fn to_table(&self) -> String {
        let mut s = format!(
            "heard: {:?}, integrated {:.2} LUFS (plugin meter), match offset {:+.2} dB, \
             latency {} samples\n",
            self.mode, self.heard_lufs, self.match_offset_db, self.latency_samples
        );
        if let Some(l) = self.reference_loop_lufs {
            s.push_str(&format!("reference loop: {l:.2} LUFS integrated\n"));
        }
        if self.master_down_db > 0.05 {
            s.push_str(&format!(
                "master turned down {:.2} dB in monitoring: the reference cannot be raised to \
                 it within {:.0} dB of safety limiting\n",
                self.master_down_db,
                crate::reference::track::MAX_SAFETY_LIMITING_DB
            ));
        }
        if self.reference_safety_limiting_db > 0.05 {
            s.push_str(&format!(
                "reference raised {:.2} dB above its peak headroom into its safety limiter\n",
                self.reference_safety_limiting_db
            ));
        }
        match (self.reference_offset_seconds, self.align_coherence) {
            (Some(offset), Some(c)) => s.push_str(&format!(
                "reference offset: {:+.2} ms (auto-aligned, coherence {c:.2})\n",
                1000.0 * offset
            )),
            (Some(offset), None) => {
                s.push_str(&format!("reference offset: {:+.2} ms\n", 1000.0 * offset))
            }
            _ => {}
        }
        if let Some(o) = &self.output {
            s.push_str(&format!("written: {o}\n"));
        }
        s
    }
}
