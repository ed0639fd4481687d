//! Red Book CD delivery: the disc metadata file, the disc layout on CD frames, the Red Book
//! limits, the CUE sheet and the single-WAV disc image.
//!
//! A Compact Disc Digital Audio master (IEC 60908, the "Red Book") is 44.1 kHz, 16-bit, two
//! channels. The disc is addressed in frames (sectors) of 1/75 s = 588 stereo samples, shown as
//! MM:SS:FF (minutes, seconds, frames 0-74): every track and index starts on a frame, and a
//! disc image written as one file must be a whole number of frames long, or the burner pads or
//! rejects it. The album image is therefore laid out here in frames ([`layout_disc`]):
//!
//! * Track 1 starts at 00:00:00 of the image. Its mandatory 2 s pregap is not in the image: the
//!   burner writes it in front of the program area (a CUE sheet's first `INDEX 01 00:00:00` is
//!   read by CDRWIN, cdrdao and ImgBurn as "after the standard 2 s pause").
//! * Every later track has a pregap of digital silence (`INDEX 00`, 2 s unless the metadata file
//!   says otherwise; 0 for gapless albums, which then have no `INDEX 00`) before its `INDEX 01`.
//! * Each track's audio is followed by digital silence up to the next whole frame, so the next
//!   pregap (or track) and the end of the image fall on frames; nothing is cut.
//!
//! The tracks are expected already quantised to 16 bits by the chain's dither (each track
//! dithered on its own), so the copy into the image is bit-exact and the padding and pregaps are
//! true digital zero, as a replication plant expects, not dither noise.
//!
//! The metadata file ([`read_metadata`]) is JSON:
//!
//! ```json
//! {
//!   "title": "Album title",
//!   "performer": "Album performer",
//!   "tracks": [
//!     { "title": "First song", "isrc": "GBAYE6700001" },
//!     { "title": "Second song", "performer": "Guest", "isrc": "GB-AYE-67-00002",
//!       "pregap_seconds": 0 }
//!   ]
//! }
//! ```
//!
//! `performer` of a track defaults to the album's; `pregap_seconds` defaults to 2 (tracks 2 and
//! later; track 1 takes none, see above) and is rounded to whole frames. Unknown fields are an
//! error, so a misspelt `"isrc"` is not silently dropped.
//!
//! Three optional fields serve a replication plant (the DDP image, `super::ddp`, and the CUE
//! sheet's `CATALOG` and `FLAGS` lines):
//!
//! * `"upc"` (or `"ean"`, the same field): the disc's catalogue number, a 12-digit UPC-A or a
//!   13-digit EAN-13 with a valid check digit ([`CatalogNumber`]); stored as 13 digits.
//! * `"copy_permitted"` (disc-wide, default `false`): the Q-channel's digital-copy-permitted
//!   flag on every track. A rights decision for the whole release, so one value for the disc;
//!   `false` is what a CUE sheet without `FLAGS DCP` (and so the disc image before) says.
//! * `"pre_emphasis"` (per track, default `false`): the 50/15 µs pre-emphasis flag, which makes
//!   the player apply de-emphasis. Fairmaster never applies pre-emphasis; set it only for a
//!   track whose audio already carries it (e.g. a transfer of an early-1980s master), else the
//!   player dulls the treble by up to 10 dB at 16 kHz. Per track, because it describes the audio.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::{Audio, OfflineError};

/// Red Book sampling rate (IEC 60908).
pub const CD_SAMPLE_RATE_HZ: u32 = 44_100;
/// Red Book word length: 16-bit two's complement PCM.
pub const CD_BITS_PER_SAMPLE: u16 = 16;
/// Red Book channels: stereo.
pub const CD_CHANNELS: u16 = 2;
/// Frames (sectors) per second on a CD: the subcode's FF field counts 0-74.
pub const CD_FRAMES_PER_SECOND: usize = 75;
/// Stereo samples in one CD frame: 44 100 / 75 (2352 bytes of 16-bit stereo audio).
pub const SAMPLES_PER_CD_FRAME: usize = 588;
/// The pause before a track when the metadata file gives none: 2 s, the Red Book's pause in
/// front of track 1 and the customary gap between tracks.
pub const DEFAULT_PREGAP_CD_FRAMES: usize = 2 * CD_FRAMES_PER_SECOND;
/// The first track's pregap, written by the burner in front of the image (IEC 60908 requires
/// 2 s of pause before track 1); counted in the disc's playing time.
pub const FIRST_PREGAP_CD_FRAMES: usize = 2 * CD_FRAMES_PER_SECOND;
/// Shortest track: 4 s (IEC 60908). Some summaries of the standard count the 2 s pause into
/// those 4 s; the stricter reading is used here: 4 s from `INDEX 01` on, pregap not counted,
/// so the disc passes a plant's check under either reading.
pub const MIN_TRACK_CD_FRAMES: usize = 4 * CD_FRAMES_PER_SECOND;
/// Most tracks on a disc: track numbers are two BCD digits, 01-99 (IEC 60908).
pub const MAX_TRACKS: usize = 99;
/// Longest program: 79.8 minutes = 79:48:00, pauses included. Source: the Red Book's basic
/// specifications as summarised in Wikipedia's "Compact Disc Digital Audio" article (maximum
/// playing time 79.8 minutes; the original 74 minutes was extended by the tolerances of
/// IEC 60908, 1.2 m/s scanning velocity and 1.5 µm track pitch). Longer discs exist but do not
/// play on every player, and plants refuse them as Red Book masters.
pub const MAX_PROGRAM_CD_FRAMES: usize = (79 * 60 + 48) * CD_FRAMES_PER_SECOND;
/// Longest CD-Text field (title, performer): 80 characters, the limit of the CDRWIN cue sheet
/// format (`TITLE`/`PERFORMER` "80 characters max"), which cdrdao and ImgBurn follow. Longer
/// text is cut or refused by burners.
pub const MAX_CD_TEXT_CHARS: usize = 80;
/// Longest pregap the metadata file may ask for: the whole disc (anything longer cannot pass
/// [`check_red_book`], and it bounds the memory of the image).
pub const MAX_PREGAP_SECONDS: f64 = (MAX_PROGRAM_CD_FRAMES / CD_FRAMES_PER_SECOND) as f64;

/// A position or duration on the disc, in CD frames; shown as MM:SS:FF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CdTime {
    pub cd_frames: usize,
}

impl CdTime {
    pub const fn from_cd_frames(cd_frames: usize) -> Self {
        Self { cd_frames }
    }

    pub const fn minutes(self) -> usize {
        self.cd_frames / (60 * CD_FRAMES_PER_SECOND)
    }

    /// Seconds within the minute (0-59).
    pub const fn seconds(self) -> usize {
        self.cd_frames / CD_FRAMES_PER_SECOND % 60
    }

    /// Frames within the second (0-74).
    pub const fn frames(self) -> usize {
        self.cd_frames % CD_FRAMES_PER_SECOND
    }

    /// The same position in stereo samples at 44.1 kHz.
    pub const fn samples(self) -> usize {
        self.cd_frames * SAMPLES_PER_CD_FRAME
    }

    pub fn as_seconds(self) -> f64 {
        self.cd_frames as f64 / CD_FRAMES_PER_SECOND as f64
    }
}

impl fmt::Display for CdTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02}",
            self.minutes(),
            self.seconds(),
            self.frames()
        )
    }
}

/// The PCM format a disc image is written in, checked against the Red Book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmFormat {
    pub sample_rate: u32,
    pub bits_per_sample: u16,
    pub channels: u16,
}

impl PcmFormat {
    /// 44.1 kHz, 16-bit, stereo.
    pub const RED_BOOK: Self = Self {
        sample_rate: CD_SAMPLE_RATE_HZ,
        bits_per_sample: CD_BITS_PER_SAMPLE,
        channels: CD_CHANNELS,
    };
}

/// Where one track lies in the disc image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackLayout {
    /// 1-based track number.
    pub number: usize,
    /// `INDEX 00`: start of the pregap's silence; `None` when the track has no pregap in the
    /// image (track 1, gapless tracks).
    pub index_00: Option<CdTime>,
    /// `INDEX 01`: where the track's audio starts.
    pub index_01: CdTime,
    /// The track's own samples (at 44.1 kHz, per channel).
    pub audio_samples: usize,
    /// The track on the disc from `INDEX 01`: its audio padded to a whole frame.
    pub length: CdTime,
}

impl TrackLayout {
    pub fn pregap(&self) -> CdTime {
        let start = self.index_00.unwrap_or(self.index_01);
        CdTime::from_cd_frames(self.index_01.cd_frames - start.cd_frames)
    }

    /// Digital silence after the audio, up to the frame boundary (0-587 samples).
    pub fn padding_samples(&self) -> usize {
        self.length.samples() - self.audio_samples
    }

    /// First frame after the track (where the next track's pregap or `INDEX 01` starts).
    pub fn end(&self) -> CdTime {
        CdTime::from_cd_frames(self.index_01.cd_frames + self.length.cd_frames)
    }
}

/// The whole disc image: every track's place, its total length and the format it is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscLayout {
    pub format: PcmFormat,
    pub tracks: Vec<TrackLayout>,
    /// Length of the image file (a whole number of frames).
    pub image_length: CdTime,
}

impl DiscLayout {
    /// The disc's playing time: the image plus the first pregap the burner writes in front.
    pub fn program_length(&self) -> CdTime {
        CdTime::from_cd_frames(FIRST_PREGAP_CD_FRAMES + self.image_length.cd_frames)
    }
}

/// Lays the tracks out on CD frames, in order.
///
/// `track_samples[i]`: length of track `i + 1` in samples at 44.1 kHz. `pregap_cd_frames[i]`:
/// the silence in the image before track `i + 1`, in frames (from
/// [`CdMetadata::pregap_cd_frames`]); where the slice is shorter than the track list, the
/// default applies: none before track 1 (its pregap is the burner's), 2 s before the others.
/// A track-1 pregap given here is put into the image like any other (`INDEX 00` at 00:00:00),
/// which the CUE format allows; the metadata file does not ask for one. `format` is what the
/// image will be written as, for [`check_red_book`].
pub fn layout_disc(
    track_samples: &[usize],
    pregap_cd_frames: &[usize],
    format: PcmFormat,
) -> DiscLayout {
    let mut position = 0usize;
    let mut tracks = Vec::with_capacity(track_samples.len());
    for (i, &audio_samples) in track_samples.iter().enumerate() {
        let default_pregap = if i == 0 { 0 } else { DEFAULT_PREGAP_CD_FRAMES };
        let pregap = pregap_cd_frames.get(i).copied().unwrap_or(default_pregap);
        let index_00 = (pregap > 0).then(|| CdTime::from_cd_frames(position));
        position += pregap;
        let length = CdTime::from_cd_frames(audio_samples.div_ceil(SAMPLES_PER_CD_FRAME));
        tracks.push(TrackLayout {
            number: i + 1,
            index_00,
            index_01: CdTime::from_cd_frames(position),
            audio_samples,
            length,
        });
        position += length.cd_frames;
    }
    DiscLayout {
        format,
        tracks,
        image_length: CdTime::from_cd_frames(position),
    }
}

/// One way a disc breaks the Red Book (IEC 60908), with the figures.
#[derive(Debug, Clone, PartialEq)]
pub enum RedBookViolation {
    NoTracks,
    TrackTooShort { track: usize, length: CdTime },
    TooManyTracks { tracks: usize },
    DiscTooLong { program: CdTime },
    SampleRate { sample_rate: u32 },
    BitsPerSample { bits_per_sample: u16 },
    Channels { channels: u16 },
}

impl fmt::Display for RedBookViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoTracks => write!(f, "the disc has no tracks"),
            Self::TrackTooShort { track, length } => write!(
                f,
                "track {track} is {:.2} s long ({length}); a CD track must be at least 4 s \
                 (IEC 60908; the pregap does not count)",
                length.as_seconds()
            ),
            Self::TooManyTracks { tracks } => write!(
                f,
                "the disc has {tracks} tracks; a CD holds at most {MAX_TRACKS} (IEC 60908)"
            ),
            Self::DiscTooLong { program } => write!(
                f,
                "the disc plays {program} ({:.2} min, the first 2 s pause included); a Red \
                 Book CD holds at most {} (79.8 min)",
                program.as_seconds() / 60.0,
                CdTime::from_cd_frames(MAX_PROGRAM_CD_FRAMES)
            ),
            Self::SampleRate { sample_rate } => write!(
                f,
                "the image is {sample_rate} Hz; a CD is {CD_SAMPLE_RATE_HZ} Hz (IEC 60908)"
            ),
            Self::BitsPerSample { bits_per_sample } => write!(
                f,
                "the image is {bits_per_sample}-bit; a CD is {CD_BITS_PER_SAMPLE}-bit (IEC 60908)"
            ),
            Self::Channels { channels } => write!(
                f,
                "the image has {channels} channel(s); a CD is stereo, {CD_CHANNELS} channels \
                 (IEC 60908)"
            ),
        }
    }
}

/// Every Red Book limit the disc breaks (empty: a valid CD-DA program).
pub fn check_red_book(layout: &DiscLayout) -> Vec<RedBookViolation> {
    let mut violations = Vec::new();
    let format = layout.format;
    if format.sample_rate != CD_SAMPLE_RATE_HZ {
        violations.push(RedBookViolation::SampleRate {
            sample_rate: format.sample_rate,
        });
    }
    if format.bits_per_sample != CD_BITS_PER_SAMPLE {
        violations.push(RedBookViolation::BitsPerSample {
            bits_per_sample: format.bits_per_sample,
        });
    }
    if format.channels != CD_CHANNELS {
        violations.push(RedBookViolation::Channels {
            channels: format.channels,
        });
    }
    if layout.tracks.is_empty() {
        violations.push(RedBookViolation::NoTracks);
    }
    if layout.tracks.len() > MAX_TRACKS {
        violations.push(RedBookViolation::TooManyTracks {
            tracks: layout.tracks.len(),
        });
    }
    for track in &layout.tracks {
        if track.length.cd_frames < MIN_TRACK_CD_FRAMES {
            violations.push(RedBookViolation::TrackTooShort {
                track: track.number,
                length: track.length,
            });
        }
    }
    if layout.program_length().cd_frames > MAX_PROGRAM_CD_FRAMES {
        violations.push(RedBookViolation::DiscTooLong {
            program: layout.program_length(),
        });
    }
    violations
}

/// An International Standard Recording Code, 12 characters `CCXXXYYNNNNN` (ISO 3901): country
/// code (2 letters), registrant (3 letters or digits), year of reference (2 digits),
/// designation (5 digits). Stored without hyphens, upper case, as it goes on the disc's
/// subcode and in the CUE sheet's `ISRC` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Isrc(String);

impl Isrc {
    /// Reads the bare 12 characters or the display form `CC-XXX-YY-NNNNN`; letters in either
    /// case. The error says which part is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let hyphenated = text.len() == 15
            && text.char_indices().all(|(i, c)| {
                let hyphen_position = matches!(i, 2 | 6 | 9);
                (c == '-') == hyphen_position
            });
        let code: String = if hyphenated {
            text.chars().filter(|&c| c != '-').collect()
        } else {
            text.to_string()
        }
        .to_ascii_uppercase();
        let format = "an ISRC is 12 characters CCXXXYYNNNNN (country: 2 letters, registrant: 3 \
                      letters or digits, year: 2 digits, designation: 5 digits), optionally \
                      written CC-XXX-YY-NNNNN";
        let count = code.chars().count();
        if count != 12 {
            return Err(format!("\"{text}\" has {count} characters; {format}"));
        }
        if let Some(bad) = code.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(format!(
                "\"{text}\" contains {bad:?}; only letters A-Z and digits are allowed; {format}"
            ));
        }
        let bytes = code.as_bytes();
        let part = |range: std::ops::Range<usize>| &code[range];
        if !bytes[0..2].iter().all(u8::is_ascii_uppercase) {
            return Err(format!(
                "\"{text}\": the country code \"{}\" must be 2 letters; {format}",
                part(0..2)
            ));
        }
        if !bytes[2..5]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(format!(
                "\"{text}\": the registrant code \"{}\" must be 3 letters or digits; {format}",
                part(2..5)
            ));
        }
        if !bytes[5..7].iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "\"{text}\": the year \"{}\" must be 2 digits; {format}",
                part(5..7)
            ));
        }
        if !bytes[7..12].iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "\"{text}\": the designation code \"{}\" must be 5 digits; {format}",
                part(7..12)
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Isrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The disc's catalogue number, the Media Catalogue Number of IEC 60908's Q channel (mode 2):
/// 13 decimal digits, the release's EAN-13 (GS1 General Specifications, section 7.9). A
/// 12-digit UPC-A is the same number without the leading country-prefix zero (GS1: a UPC-A is
/// an EAN-13 starting with 0), so it is stored with a leading `0`. Both carry a check digit
/// (GS1 modulo 10: weights 3 and 1 from the right, excluding the check digit), which is
/// verified, so a mistyped digit is caught before the disc is pressed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CatalogNumber(String);

impl CatalogNumber {
    /// Reads a 12-digit UPC-A or a 13-digit EAN-13 (spaces and hyphens between the digits, as
    /// printed under a barcode, are allowed). The error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let format = "a catalogue number is a 12-digit UPC-A or a 13-digit EAN-13";
        if let Some(bad) = digits.chars().find(|c| !c.is_ascii_digit()) {
            return Err(format!(
                "\"{text}\" contains {bad:?}; only digits are allowed; {format}"
            ));
        }
        let code = match digits.len() {
            13 => digits,
            12 => format!("0{digits}"),
            n => return Err(format!("\"{text}\" has {n} digits; {format}")),
        };
        let values: Vec<u8> = code.bytes().map(|b| b - b'0').collect();
        let expected = gtin_check_digit(&values[..12]);
        if values[12] != expected {
            return Err(format!(
                "\"{text}\": the check digit is {} but the other digits give {expected} (GS1 \
                 modulo 10); a digit is mistyped",
                values[12]
            ));
        }
        Ok(Self(code))
    }

    /// The 13 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CatalogNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The GS1 modulo-10 check digit of `digits` (each 0-9, the code without its check digit):
/// from the right, weights 3, 1, 3, ...; the check digit brings the weighted sum to a multiple
/// of 10 (GS1 General Specifications, 7.9.1). The same for UPC-A, EAN-13 and EAN-8.
pub fn gtin_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The disc's CD-Text and subcode data, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CdMetadata {
    pub title: String,
    pub performer: String,
    pub tracks: Vec<CdTrackMetadata>,
    /// `"upc"`/`"ean"`: the disc's catalogue number, if the release has one.
    pub catalog: Option<CatalogNumber>,
    /// `"copy_permitted"`: the digital-copy-permitted flag of every track (module doc).
    pub copy_permitted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CdTrackMetadata {
    pub title: String,
    /// The track's own performer, or the album's when the file gives none.
    pub performer: String,
    pub isrc: Option<Isrc>,
    /// Silence in the image before the track (none for track 1, see the module doc).
    pub pregap: CdTime,
    /// `"pre_emphasis"`: the audio carries 50/15 µs pre-emphasis (module doc).
    pub pre_emphasis: bool,
}

impl CdMetadata {
    /// Every track's pregap in frames, in order, for [`layout_disc`].
    pub fn pregap_cd_frames(&self) -> Vec<usize> {
        self.tracks.iter().map(|t| t.pregap.cd_frames).collect()
    }

    /// The metadata of a disc mastered without a metadata file: no CD-Text, ISRCs or
    /// catalogue number, the default pregaps, no flags.
    pub fn without_text(track_count: usize) -> Self {
        Self {
            title: String::new(),
            performer: String::new(),
            tracks: (0..track_count)
                .map(|i| CdTrackMetadata {
                    title: String::new(),
                    performer: String::new(),
                    isrc: None,
                    pregap: CdTime::from_cd_frames(if i == 0 {
                        0
                    } else {
                        DEFAULT_PREGAP_CD_FRAMES
                    }),
                    pre_emphasis: false,
                })
                .collect(),
            catalog: None,
            copy_permitted: false,
        }
    }

    /// Whether the disc has CD-Text (a metadata file was given: its titles are mandatory).
    pub fn has_cd_text(&self) -> bool {
        !self.title.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataFile {
    title: String,
    performer: String,
    tracks: Vec<TrackEntry>,
    #[serde(alias = "ean")]
    upc: Option<String>,
    copy_permitted: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackEntry {
    title: String,
    performer: Option<String>,
    isrc: Option<String>,
    pregap_seconds: Option<f64>,
    pre_emphasis: Option<bool>,
}

/// Reads and validates the metadata file of a disc whose tracks are `track_inputs` files.
/// Every error names the file and the field (`tracks[1].isrc`, with the track number):
/// not JSON, an unknown or missing field, a track count other than the inputs', an invalid
/// ISRC, CD-Text that is empty, longer than [`MAX_CD_TEXT_CHARS`], or has a character outside
/// printable Latin-1 or a `"` (the CUE format cannot quote it), a pregap that is negative, not
/// a number, longer than [`MAX_PREGAP_SECONDS`], or given for track 1.
pub fn read_metadata(path: &Path, track_inputs: usize) -> Result<CdMetadata, OfflineError> {
    let error = |reason: String| OfflineError::file(path, reason);
    let text = std::fs::read_to_string(path)
        .map_err(|e| error(format!("cannot read the CD metadata file: {e}")))?;
    let file: MetadataFile = serde_json::from_str(&text)
        .map_err(|e| error(format!("not a valid CD metadata file: {e}")))?;
    if file.tracks.len() != track_inputs {
        return Err(error(format!(
            "lists {} track(s), but {track_inputs} input file(s) were given; the metadata file \
             needs one entry in \"tracks\" per input, in order",
            file.tracks.len()
        )));
    }
    check_cd_text("title", &file.title).map_err(error)?;
    check_cd_text("performer", &file.performer).map_err(error)?;
    let catalog = file
        .upc
        .as_deref()
        .map(CatalogNumber::parse)
        .transpose()
        .map_err(|e| error(format!("upc: {e}")))?;
    let mut tracks = Vec::with_capacity(file.tracks.len());
    for (i, entry) in file.tracks.into_iter().enumerate() {
        let number = i + 1;
        let field = |name: &str| format!("tracks[{i}].{name} (track {number})");
        check_cd_text(&field("title"), &entry.title).map_err(error)?;
        let performer = match entry.performer {
            Some(performer) => {
                check_cd_text(&field("performer"), &performer).map_err(error)?;
                performer
            }
            None => file.performer.clone(),
        };
        let isrc = entry
            .isrc
            .as_deref()
            .map(Isrc::parse)
            .transpose()
            .map_err(|e| error(format!("{}: {e}", field("isrc"))))?;
        let pregap = pregap_of(number, entry.pregap_seconds)
            .map_err(|e| error(format!("{}: {e}", field("pregap_seconds"))))?;
        tracks.push(CdTrackMetadata {
            title: entry.title,
            performer,
            isrc,
            pregap,
            pre_emphasis: entry.pre_emphasis.unwrap_or(false),
        });
    }
    Ok(CdMetadata {
        title: file.title,
        performer: file.performer,
        tracks,
        catalog,
        copy_permitted: file.copy_permitted.unwrap_or(false),
    })
}

fn pregap_of(track_number: usize, seconds: Option<f64>) -> Result<CdTime, String> {
    let Some(seconds) = seconds else {
        let default = if track_number == 1 {
            0
        } else {
            DEFAULT_PREGAP_CD_FRAMES
        };
        return Ok(CdTime::from_cd_frames(default));
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!(
            "{seconds} is not a pregap; give the seconds of silence before the track, 0 or more"
        ));
    }
    if seconds > MAX_PREGAP_SECONDS {
        return Err(format!(
            "{seconds} s is longer than a whole CD ({MAX_PREGAP_SECONDS} s)"
        ));
    }
    let cd_frames = (seconds * CD_FRAMES_PER_SECOND as f64).round() as usize;
    if track_number == 1 && cd_frames > 0 {
        return Err(format!(
            "{seconds} s given for track 1, whose 2 s pregap the burner writes in front of the \
             disc image (Red Book lead-in pause); remove it, or set it to 0"
        ));
    }
    Ok(CdTime::from_cd_frames(cd_frames))
}

/// CD-Text (character code ISO 8859-1 in the CD-Text packs) written into a CUE sheet as a
/// quoted string: printable Latin-1 only (U+0020-U+007E, U+00A0-U+00FF), no `"` (the CUE
/// format has no escape for it), 1 to [`MAX_CD_TEXT_CHARS`] characters.
fn check_cd_text(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} is empty; CD-Text needs a text here"));
    }
    let count = value.chars().count();
    if count > MAX_CD_TEXT_CHARS {
        return Err(format!(
            "{field} \"{value}\" has {count} characters; CD-Text allows at most \
             {MAX_CD_TEXT_CHARS} (the CDRWIN cue sheet limit)"
        ));
    }
    if let Some(bad) = value.chars().find(|&c| c == '"' || !is_printable_latin1(c)) {
        let why = if bad == '"' {
            "a double quote, which a CUE sheet cannot quote (use ' instead)".to_string()
        } else {
            format!(
                "the character {bad:?} (U+{:04X}), which is not printable Latin-1 (ISO 8859-1, \
                 the CD-Text character set)",
                u32::from(bad)
            )
        };
        return Err(format!("{field} \"{value}\" contains {why}"));
    }
    Ok(())
}

fn is_printable_latin1(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{A0}'..='\u{FF}')
}

/// The CUE sheet of the disc image (CDRWIN format, as read by cdrdao, ImgBurn and others):
/// album `PERFORMER` and `TITLE`, the disc's `CATALOG` number, one `FILE "name" WAVE`, and per
/// track `TRACK nn AUDIO`, its CD-Text `TITLE` and `PERFORMER`, `FLAGS` (`DCP` digital copy
/// permitted, `PRE` pre-emphasis; only when one is set), `ISRC`, `INDEX 00` (when it has a pregap in the image) and
/// `INDEX 01`, times relative to the start of the file. CD-Text is quoted; the validated
/// metadata holds no `"`. Lines end in LF.
///
/// Every character is Latin-1 (the metadata is validated so, and so is the file name here):
/// write the sheet with [`latin1_bytes`] for burners that read CD-Text as ISO 8859-1 (CDRWIN,
/// cdrdao); for pure ASCII the bytes are the same as UTF-8. Errors: a file name that is empty,
/// holds a `"`, a control character or a character outside Latin-1, or a metadata file with a
/// different number of tracks than the layout.
pub fn cue_sheet(
    layout: &DiscLayout,
    metadata: &CdMetadata,
    wav_file_name: &str,
) -> Result<String, OfflineError> {
    if wav_file_name.is_empty()
        || wav_file_name
            .chars()
            .any(|c| c == '"' || !is_printable_latin1(c))
    {
        return Err(OfflineError::new(format!(
            "cannot name \"{wav_file_name}\" in a CUE sheet: the file name must be printable \
             Latin-1 without a double quote"
        )));
    }
    if layout.tracks.len() != metadata.tracks.len() {
        return Err(OfflineError::new(format!(
            "the disc has {} track(s) but the metadata describes {}",
            layout.tracks.len(),
            metadata.tracks.len()
        )));
    }
    let mut sheet = String::new();
    let mut line = |text: String| {
        sheet.push_str(&text);
        sheet.push('\n');
    };
    // Empty CD-Text (a disc mastered without a metadata file) is left out, not written as "".
    if !metadata.performer.is_empty() {
        line(format!("PERFORMER \"{}\"", metadata.performer));
    }
    if !metadata.title.is_empty() {
        line(format!("TITLE \"{}\"", metadata.title));
    }
    if let Some(catalog) = &metadata.catalog {
        line(format!("CATALOG {catalog}"));
    }
    line(format!("FILE \"{wav_file_name}\" WAVE"));
    for (track, text) in layout.tracks.iter().zip(&metadata.tracks) {
        line(format!("  TRACK {:02} AUDIO", track.number));
        if !text.title.is_empty() {
            line(format!("    TITLE \"{}\"", text.title));
        }
        if !text.performer.is_empty() {
            line(format!("    PERFORMER \"{}\"", text.performer));
        }
        // CDRWIN: FLAGS and ISRC after TRACK and before the first INDEX.
        let flags: Vec<&str> = [(metadata.copy_permitted, "DCP"), (text.pre_emphasis, "PRE")]
            .iter()
            .filter_map(|&(set, flag)| set.then_some(flag))
            .collect();
        if !flags.is_empty() {
            line(format!("    FLAGS {}", flags.join(" ")));
        }
        if let Some(isrc) = &text.isrc {
            line(format!("    ISRC {isrc}"));
        }
        if let Some(index_00) = track.index_00 {
            line(format!("    INDEX 00 {index_00}"));
        }
        line(format!("    INDEX 01 {}", track.index_01));
    }
    Ok(sheet)
}

/// `text` in ISO 8859-1, one byte per character; `None` if a character is outside Latin-1.
pub fn latin1_bytes(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// The disc image: every track's samples copied bit for bit to its `INDEX 01`, digital silence
/// in the pregaps and the padding, stereo (a mono track is put on both channels), at
/// `layout.format.sample_rate`. `tracks` are the tracks the layout was made from, in order, at
/// 44.1 kHz; should one hold more samples than its layout says, only those the layout has room
/// for are copied (the image never overlaps the next track).
pub fn disc_image(tracks: &[&Audio], layout: &DiscLayout) -> Audio {
    debug_assert_eq!(
        tracks.len(),
        layout.tracks.len(),
        "tracks and layout differ"
    );
    let length = layout.image_length.samples();
    let mut left = vec![0.0f32; length];
    let mut right = vec![0.0f32; length];
    for (audio, place) in tracks.iter().zip(&layout.tracks) {
        let (source_left, source_right) = audio.left_right();
        let count = place.audio_samples.min(source_left.len());
        let start = place.index_01.samples();
        left[start..start + count].copy_from_slice(&source_left[..count]);
        right[start..start + count].copy_from_slice(&source_right[..count]);
    }
    Audio {
        sample_rate: layout.format.sample_rate,
        channels: vec![left, right],
    }
}
