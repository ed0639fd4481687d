//! Container probing: what a file's first bytes say before symphonia reads it (which
//! container, the PCM sample rate of a WAV/AIFF header, an AIFF's frame count, whether an MP3
//! counts its frames), so that [`super::planar`] can refuse what would trip symphonia and knows
//! how long the audio should be.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The container a file is in, from its first bytes (symphonia 0.5 does not name the format
/// reader it picked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    Wav,
    Aiff,
    Flac,
    Ogg,
    Mp4,
    /// MPEG audio (MP3) or ADTS (raw AAC) frames, maybe after an ID3v2 tag.
    Mpeg,
    Other,
}

/// What the first bytes of a file tell before symphonia reads it.
pub(super) struct Header {
    pub(super) container: Container,
    /// Sample rate in a WAV `fmt ` or AIFF `COMM` chunk.
    pub(super) pcm_rate: Option<u32>,
    /// `numSampleFrames` of an AIFF `COMM` chunk.
    pub(super) aiff_frames: Option<u64>,
    /// An MP3 whose first frame carries a Xing/Info/VBRI header, i.e. an exact frame count.
    pub(super) mpeg_counted: bool,
}

pub(super) fn read_header(path: &Path) -> Header {
    let mut header = Header {
        container: Container::Other,
        pcm_rate: None,
        aiff_frames: None,
        mpeg_counted: false,
    };
    let Ok(file) = File::open(path) else {
        return header;
    };
    let mut file = std::io::BufReader::new(file);
    let mut start = [0u8; 12];
    if file.read_exact(&mut start).is_err() {
        return header;
    }
    let riff = &start[..4] == b"RIFF" || &start[..4] == b"RIFX" || &start[..4] == b"RF64";
    header.container = if riff && &start[8..] == b"WAVE" {
        Container::Wav
    } else if &start[..4] == b"FORM" && (&start[8..] == b"AIFF" || &start[8..] == b"AIFC") {
        Container::Aiff
    } else if &start[..4] == b"fLaC" {
        Container::Flac
    } else if &start[..4] == b"OggS" {
        Container::Ogg
    } else if &start[4..8] == b"ftyp" {
        Container::Mp4
    } else if &start[..3] == b"ID3" || (start[0] == 0xff && start[1] & 0xe0 == 0xe0) {
        Container::Mpeg
    } else {
        Container::Other
    };
    match header.container {
        Container::Wav => header.pcm_rate = wav_rate(&mut file, &start),
        Container::Aiff => {
            if let Some((frames, rate)) = aiff_comm(&mut file) {
                header.aiff_frames = Some(frames);
                header.pcm_rate = Some(rate);
            }
        }
        Container::Mpeg => header.mpeg_counted = mpeg_has_info_tag(&mut file, &start),
        _ => {}
    }
    header
}

/// The sample rate in the `fmt ` chunk of a RIFF/WAVE file (little-endian; RIFX is
/// big-endian).
fn wav_rate(file: &mut (impl Read + Seek), start: &[u8; 12]) -> Option<u32> {
    let big_endian = &start[..4] == b"RIFX";
    let u32_of = |b: [u8; 4]| {
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    for _ in 0..64 {
        let mut chunk = [0u8; 8];
        file.read_exact(&mut chunk).ok()?;
        let size = u32_of([chunk[4], chunk[5], chunk[6], chunk[7]]);
        if &chunk[..4] == b"fmt " {
            let mut fmt = [0u8; 8];
            file.read_exact(&mut fmt).ok()?;
            return Some(u32_of([fmt[4], fmt[5], fmt[6], fmt[7]]));
        }
        let padded = i64::from(size) + i64::from(size % 2);
        file.seek(SeekFrom::Current(padded)).ok()?;
    }
    None
}

/// `numSampleFrames` and the sample rate of the COMM chunk of an AIFF/AIFC file (AIFF 1.3 spec:
/// FORM container of big-endian, even-padded chunks; the rate is an 80-bit IEEE 754 extended
/// float, read the way symphonia reads it: converted to `f64`, then to `u32`).
fn aiff_comm(file: &mut (impl Read + Seek)) -> Option<(u64, u32)> {
    for _ in 0..64 {
        let mut chunk = [0u8; 8];
        file.read_exact(&mut chunk).ok()?;
        let size = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        if &chunk[..4] == b"COMM" {
            let mut comm = [0u8; 18];
            file.read_exact(&mut comm).ok()?;
            let frames = u64::from(u32::from_be_bytes([comm[2], comm[3], comm[4], comm[5]]));
            let exponent = i32::from(u16::from_be_bytes([comm[8], comm[9]]) & 0x7fff);
            let negative = comm[8] & 0x80 != 0;
            let mut mantissa = [0u8; 8];
            mantissa.copy_from_slice(&comm[10..18]);
            let mantissa = u64::from_be_bytes(mantissa) as f64;
            let value = mantissa * 2f64.powi((exponent - 16383 - 63).clamp(-2000, 2000));
            // `as` saturates: NaN and negative -> 0, huge -> u32::MAX.
            let rate = if negative { 0 } else { value as u32 };
            return Some((frames, rate));
        }
        let padded = i64::from(size) + i64::from(size % 2);
        file.seek(SeekFrom::Current(padded)).ok()?;
    }
    None
}

/// Whether the first MPEG frame (after an ID3v2 tag, if any) carries a Xing, Info or VBRI
/// header: then symphonia's frame count is exact; otherwise it only estimates it from the
/// bitrate, which cannot tell a truncated file.
fn mpeg_has_info_tag(file: &mut (impl Read + Seek), start: &[u8; 12]) -> bool {
    let mut offset = 0u64;
    if &start[..3] == b"ID3" {
        // ID3v2: 10-byte header, size as 4 syncsafe bytes (7 bits each), optional footer.
        let size = start[6..10]
            .iter()
            .fold(0u64, |acc, &b| (acc << 7) | u64::from(b & 0x7f));
        let footer = if start[5] & 0x10 != 0 { 10 } else { 0 };
        offset = 10 + size + footer;
    }
    if file.seek(SeekFrom::Start(offset)).is_err() {
        return false;
    }
    let mut frame = vec![0u8; 256];
    let mut filled = 0;
    while filled < frame.len() {
        match file.read(&mut frame[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    // The Xing/Info tag sits after the side information (at most 36 bytes in), VBRI at 36.
    frame[..filled]
        .windows(4)
        .take(64)
        .any(|w| w == b"Xing" || w == b"Info" || w == b"VBRI")
}
