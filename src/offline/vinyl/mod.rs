//! The vinyl premaster (`fairmaster-render vinyl`, issue 29): an album in running order, split
//! into the sides of a record format, mastered for the lathe and written one 24-bit WAV per
//! side, with a cut sheet for the cutting engineer.
//!
//! * [`formats`]: the record formats and the level a side's length allows (a published
//!   cutting chart, cited there).
//! * [`sides`]: given sides checked, the automatic split, the songs' start frames.
//! * [`checks`]: what the cut sheet measures per song and the warnings' thresholds.
//! * [`cut_sheet`]: the cut sheet's data, its plain text and its HTML (the report's style).
//!
//! The job itself (decoding, rendering, writing) is `offline::cli::vinyl`.
//!
//! # Why these defaults
//! * **No brickwall loudness: a PLR floor of [`DEFAULT_PLR_FLOOR_DB`] dB.** Loudness on a record
//!   is set at the lathe (the cutting level, limited by the side's length, see [`formats`]), not
//!   by the premaster: a limiter squashing the mix buys no level on vinyl, only a denser groove
//!   and the distortion of a cutter driven by constant peaks. Each song is brought toward the
//!   album's loudness target ([`DEFAULT_TARGET_LUFS`], album-balanced as `master --album`: the
//!   loudest song at the target, the others keeping their differences) only as far as its
//!   peak-to-loudness ratio stays at or above the floor. 12 dB is EBU R 128 s1's and the
//!   streaming services' "dynamic master" region (a master at −14 LUFS with peaks at
//!   −2 dBTP), where the limiter only catches peaks. A song already below the floor before
//!   mastering (a mix limited by its mixer) gets a warning: it is louder than a cutting
//!   engineer would accept.
//! * **Ceiling −1 dBTP**: no intersample overs reach the cutter's converters; an explicit
//!   `--ceiling` wins.
//! * **No clipper**: clipped edges are exactly the steep high-frequency content a cutter
//!   head's acceleration limit trips on; the job switches the clipper off whatever the
//!   settings say, and the loudness search never calls it to assist.
//! * **A gap of [`DEFAULT_GAP_SECONDS`] s** between songs, in the side's file (the cutting
//!   engineer cuts the side in one pass; the lathe's automatic pitch control widens the
//!   silent groove into the visible band between songs). Give `--gap 0` for a continuous side.
//! * **24-bit WAV at the mix's rate** (no resampling to a lathe rate, no dither to 16 bits).
//!   Sides are always stereo: a lathe cuts two channels, a mono song goes on both.

pub mod checks;
pub mod cut_sheet;
pub mod formats;
pub mod sides;

use formats::RecordFormat;

/// The album's loudness target (LUFS) unless `--target` gives another: the loudest song there,
/// the others keeping their differences (album mode `relative`).
pub const DEFAULT_TARGET_LUFS: f64 = -14.0;
/// The premaster's PLR floor (dB) unless `--plr-floor` gives another (see the module docs).
pub const DEFAULT_PLR_FLOOR_DB: f32 = 12.0;
/// The limiter's ceiling (dBTP) unless `--ceiling` gives another.
pub const DEFAULT_CEILING_DBTP: f32 = -1.0;
/// Silence between songs in a side's file (s) unless `--gap` gives another.
pub const DEFAULT_GAP_SECONDS: f64 = 2.0;
/// The elliptical EQ's corner (Hz) unless `--mono-below` gives another: the side signal is
/// high-passed there, so the low end is mono below it (issue 29).
pub const DEFAULT_MONO_BELOW_HZ: f32 = 150.0;

/// The vinyl job's own options (the settings, `--out-dir`, `--force` and the rest are the
/// shared [`Options`](crate::offline::cli::Options)').
#[derive(Debug, Clone, PartialEq)]
pub struct VinylOptions {
    pub format: RecordFormat,
    /// `--sides` as given (checked against the album once its songs are known).
    pub sides: Option<String>,
    pub gap_seconds: f64,
    pub target_lufs: f64,
    pub plr_floor_db: f32,
    pub mono_below_hz: f32,
}

impl VinylOptions {
    pub fn new(format: RecordFormat) -> Self {
        Self {
            format,
            sides: None,
            gap_seconds: DEFAULT_GAP_SECONDS,
            target_lufs: DEFAULT_TARGET_LUFS,
            plr_floor_db: DEFAULT_PLR_FLOOR_DB,
            mono_below_hz: DEFAULT_MONO_BELOW_HZ,
        }
    }
}
