//! What a listening pack is made of: the songs that go in ([`PackSong`]) and what was written
//! for each (excerpts, blind file and key, under the file names here). [`super::pack`] cuts
//! and writes them, then has [`super::html_report`] show them; both read these types from
//! here, so imports go one way (pack -> html_report -> pack_contents) instead of the two
//! modules importing each other.

use std::path::PathBuf;

use super::Audio;

/// One song of a pack. The original and the master have the same rate and length (the
/// renderer's output is latency compensated).
#[derive(Debug, Clone, Copy)]
pub struct PackSong<'a> {
    /// Song name (the input's file stem): titles the report and names the album folders.
    pub name: &'a str,
    /// The mix as it went into the chain.
    pub original: &'a Audio,
    /// The rendered master.
    pub master: &'a Audio,
    /// Per `render::GR_BLOCK` frames: `[compressor dB, limiter dB]` gain reduction.
    pub gain_reduction_trace: &'a [[f32; 2]],
    /// The renderer's dynamics warnings, shown in the report.
    pub warnings: &'a [String],
    /// `(target LUFS, ceiling dBTP)` when a loudness target was asked.
    pub target: Option<(f64, f32)>,
}

/// Which version an excerpt or a blind segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Original,
    Master,
    Reference,
}

impl Source {
    /// The name used in file names, the blind key and the report.
    pub fn label(self) -> &'static str {
        match self {
            Source::Original => "original",
            Source::Master => "master",
            Source::Reference => "reference",
        }
    }

    /// `excerpt-<label>.wav`.
    pub fn excerpt_file_name(self) -> String {
        format!("excerpt-{}.wav", self.label())
    }
}

/// One written excerpt.
#[derive(Debug, Clone, PartialEq)]
pub struct ExcerptSummary {
    pub source: Source,
    pub path: PathBuf,
    /// Where the excerpt starts in its source, seconds.
    pub start_seconds: f64,
    pub duration_seconds: f64,
    /// Gain applied by the loudness match, dB.
    pub gain_db: f64,
    /// BS.1770-4 integrated loudness of the written excerpt (plugin meter), LUFS.
    pub integrated_lufs: f64,
    /// Sample peak of the written excerpt, dBFS.
    pub sample_peak_dbfs: f64,
}

/// One segment of a blind file, as listed in its key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlindSegment {
    /// 1-based.
    pub number: usize,
    pub start_seconds: f64,
    pub duration_seconds: f64,
    pub source: Source,
}

/// What was written for one song.
#[derive(Debug, Clone, PartialEq)]
pub struct SongPackSummary {
    pub name: String,
    /// The song's folder: the pack itself for a single song, `NN-name/` in an album.
    pub folder: PathBuf,
    pub excerpts: Vec<ExcerptSummary>,
    /// The common integrated loudness the excerpts were matched to, LUFS.
    pub matched_lufs: f64,
    pub blind_path: PathBuf,
    pub blind_key_path: PathBuf,
    pub blind_order: Vec<BlindSegment>,
}

/// The blind file's name in a song folder.
pub const BLIND_FILE: &str = "blind.wav";
/// The blind key's name in a song folder.
pub const BLIND_KEY_FILE: &str = "blind-key.txt";
/// The report's name at the top of the pack.
pub const REPORT_FILE: &str = "report.html";
