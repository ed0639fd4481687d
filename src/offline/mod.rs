//! Offline mastering: the plugin's own [`Engine`](crate::engine::Engine) run over audio files
//! from the command line (`src/bin/fairmaster-render.rs`), with loudness targeting, before/after
//! reports and album balancing.
//!
//! Nothing here re-implements DSP: every sample goes through `Engine::process_*`, with settings
//! produced by the plugin's parameter mapping (`FairmasterParams::chain_settings`), so a file
//! rendered here is the file a DAW would bounce with the same plugin state (offline render mode).
//!
//! One file per job:
//! * [`audio_io`]: decode WAV/FLAC/AIFF (symphonia), write WAV atomically (hound).
//! * settings come from [`crate::presets::param_set`] (preset files, DAW plugin states, `--set`
//!   flags), which the editor shares.
//! * [`render`]: one latency-compensated render, and the loudness-target search.
//! * [`analysis`]: BS.1770 / EBU R128 measurements of a whole file, loudness curves,
//!   gain-reduction statistics.
//! * [`report`]: the before/after table and JSON.
//! * [`album`]: per-track targets of an album, loudness spread, gapless preview.
//! * [`demo`]: the built-in synthesised demo mix.
//! * [`pack`]: the listening pack (matched excerpts, blind file), [`pack_contents`] what it holds,
//!   [`html_report`] its `report.html`.
//! * [`listen`]: `--listen`: what the plugin plays with master, original or reference selected.
//! * [`vinyl`]: the vinyl premaster's sides, formats, checks and cut sheet (`vinyl` job).
//! * [`cli`]: command-line parsing and the whole job (`run`), used by the binary and the tests.

pub mod album;
pub mod analysis;
pub mod audio_io;
pub mod cd;
pub mod cli;
pub mod ddp;
pub mod demo;
pub mod html_report;
pub mod listen;
pub mod pack;
pub mod pack_contents;
pub mod render;
pub mod report;
pub mod vinyl;

/// An error of the offline application: the shared file error (a reason, and the file when
/// there is one). Never a panic: every bad input ends here and the binary prints it and exits
/// non-zero.
pub type OfflineError = crate::files::FileError;

/// Planar audio held in memory: one `Vec` per channel (1 or 2), all the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    pub fn is_mono(&self) -> bool {
        self.channels.len() == 1
    }

    pub fn duration_seconds(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate.max(1))
    }

    /// Left and right (a mono file gives its one channel twice).
    pub fn left_right(&self) -> (&[f32], &[f32]) {
        let left = &self.channels[0];
        let right = self.channels.get(1).unwrap_or(left);
        (left, right)
    }
}

/// Sample rates the chain is designed and tested for (see the DSP conventions).
pub const SUPPORTED_RATES_HZ: (u32, u32) = (44_100, 192_000);

/// Sample rates the renderer reads. Inputs outside [`SUPPORTED_RATES_HZ`] are resampled to a
/// chain rate before mastering ([`audio_io::chain_rate_for`]).
pub const READABLE_RATES_HZ: (u32, u32) = (22_050, 384_000);
