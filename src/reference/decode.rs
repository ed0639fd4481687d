//! Decoding any reference file to stereo at the session rate, and the one symphonia decoder of
//! the code base.
//!
//! [`decode_planar`] is the decoding core shared with the offline renderer
//! ([`read_audio_file`](crate::offline::audio_io::read_audio_file)): it opens a file, probes its
//! container, checks the stream against the caller's rules (channel count, sample rate, memory)
//! *before* decoding, and decodes every packet into planar `f32` channels. Each caller adds only
//! its own rules; the error messages for what goes wrong with the file itself are the same for
//! both. [`decode_reference`] is the reference-track path: any format symphonia reads here (WAV,
//! AIFF, FLAC, MP3, Ogg Vorbis, AAC and ALAC in MP4/M4A), mono or stereo, 8-768 kHz, converted to
//! stereo and resampled to the session rate ([`resample_stereo`]) within a memory budget.
//!
//! Every failure is an error naming the file and the problem, never a panic and never a silently
//! short result: missing, unreadable, a directory, empty, not a recognised format, an unsupported
//! codec, truncated or corrupt (with the position in seconds where the audio breaks off), no
//! audio, too many channels, a sample rate of 0 or out of range, over the memory budget.
//! symphonia is pure Rust, but a malformed file may still trip an assertion inside it (e.g.
//! `TimeBase::new` with a 0 Hz rate): the obvious cases are checked before symphonia sees them,
//! and the whole decode runs inside `catch_unwind` so that anything left becomes an error too.
//!
//! Truncation is detected from the frame count the container announces: WAV/AIFF data sizes,
//! FLAC STREAMINFO, MP3 Xing/Info/VBRI headers, MP4 track durations, and for Ogg the
//! end-of-stream page (every complete Ogg stream ends with one; a cut file does not). A packet
//! that fails to decode and is the last one in the file is reported as the truncation it is; a
//! bad packet followed by more data is reported as corrupt data at its position. Known limit: an
//! MP3 without a Xing/Info/VBRI header (rare; ffmpeg and LAME always write one) has no reliable
//! length, so a cut at a frame boundary of such a file cannot be told from its real end.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rubato::audioadapter_buffers::direct::{SequentialSliceOfSlices, SequentialSliceOfVecs};
use rubato::{Fft, FixedSync, Resampler, WindowFunction};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{self as c, CodecParameters, CodecType, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Decoded audio can never exceed this in total across all reference slots (1 GiB).
pub const MAX_REFERENCE_BYTES: usize = 1 << 30;

/// Sample rates a reference may have (and the session may run at): below 8 kHz nothing is
/// music, above 768 kHz is not a rate any converter or DAW produces; a header outside this is
/// corrupt.
pub const REFERENCE_RATES_HZ: (u32, u32) = (8_000, 768_000);

const MIB: f64 = 1024.0 * 1024.0;

/// A reference file that could not be loaded: which file, and why (one sentence for the user).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub path: PathBuf,
    pub reason: String,
}

impl LoadError {
    fn new(path: &Path, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for LoadError {}

/// A reference track in memory: stereo at the session rate.
#[derive(Debug, Clone)]
pub struct DecodedStereo {
    /// Left and right, equal length, at `sample_rate` (a mono file gives the same samples twice).
    pub left: Vec<f32>,
    pub right: Vec<f32>,
    /// The rate asked for (after resampling).
    pub sample_rate: u32,
    /// The file's own rate and channel count (1 or 2).
    pub source_rate: u32,
    pub source_channels: usize,
    /// Human name of the codec/container, e.g. "FLAC", "MP3", "Ogg Vorbis", "AAC (M4A)",
    /// "WAV PCM 24-bit".
    pub format: String,
    /// FNV-1a 64 over the file's bytes ([`content_hash_of_file`]): identifies the file's content
    /// across builds and machines, whatever its name.
    pub content_hash: u64,
}

impl DecodedStereo {
    /// Memory held by the samples: 8 bytes per frame (two `f32`).
    pub fn bytes(&self) -> usize {
        8 * self.frames()
    }

    pub fn frames(&self) -> usize {
        self.left.len()
    }
}

/// Decodes, converts to stereo (mono duplicated; more than 2 channels: a clear error) and
/// resamples to `target_rate` ([`resample_stereo`]).
///
/// `budget_bytes`: how much decoded audio may still be held (clamped to
/// [`MAX_REFERENCE_BYTES`]). The memory a file needs is the larger of its decoded samples at
/// the source rate (4 bytes per sample per channel) and the stereo result (8 bytes per frame at
/// `target_rate`). It is checked before decoding from the header's frame count when the
/// container has one, and after every packet in any case, so a file whose header lies about its
/// length cannot exceed the budget; the error says how much is needed and how much is free.
pub fn decode_reference(
    path: &Path,
    target_rate: u32,
    budget_bytes: usize,
) -> Result<DecodedStereo, LoadError> {
    let err = |reason: String| LoadError::new(path, reason);
    let (lo, hi) = REFERENCE_RATES_HZ;
    if !(lo..=hi).contains(&target_rate) {
        return Err(err(format!(
            "cannot resample to {target_rate} Hz (the session rate must be {lo}-{hi} Hz)"
        )));
    }
    let budget = budget_bytes.min(MAX_REFERENCE_BYTES) as u64;
    let check_stream = |info: &StreamInfo| -> Result<(), String> {
        if info.channels > 2 {
            return Err(format!(
                "has {} channels; a reference must be mono or stereo (downmix it first)",
                info.channels
            ));
        }
        if !(lo..=hi).contains(&info.sample_rate) {
            return Err(format!(
                "sample rate {} Hz is outside the supported {}-{} kHz (corrupt header?)",
                info.sample_rate,
                lo / 1000,
                hi / 1000
            ));
        }
        if let Some(frames) = info.expected_frames {
            let needed = reference_bytes(frames, info.channels, info.sample_rate, target_rate);
            if needed > budget {
                return Err(format!(
                    "needs {:.1} MiB of memory for {:.1} s of decoded audio, but only {:.1} MiB \
                     of the {} reference budget is free",
                    needed as f64 / MIB,
                    frames as f64 / f64::from(info.sample_rate),
                    budget as f64 / MIB,
                    cap_label()
                ));
            }
        }
        Ok(())
    };
    let frame_limit = |info: &StreamInfo| -> u64 {
        let by_source = budget / (4 * info.channels.max(1) as u64);
        let by_result = (u128::from(budget) * u128::from(info.sample_rate)
            / (8 * u128::from(target_rate))) as u64;
        by_source.min(by_result)
    };
    let over_limit = |info: &StreamInfo, frames: u64| -> String {
        format!(
            "needs more than {:.1} MiB of memory (decoding stopped at {:.1} s, the file holds \
             more audio than its header announces), but only {:.1} MiB of the {} reference \
             budget is free",
            reference_bytes(frames, info.channels, info.sample_rate, target_rate) as f64 / MIB,
            frames as f64 / f64::from(info.sample_rate),
            budget as f64 / MIB,
            cap_label()
        )
    };
    let rules = DecodeRules {
        unrecognised: "not a recognised audio format (WAV, AIFF, FLAC, MP3, Ogg Vorbis, and AAC \
                       or ALAC in MP4/M4A are supported)",
        check_stream: &check_stream,
        frame_limit: &frame_limit,
        over_limit: &over_limit,
    };
    let planar = decode_planar(path, &rules).map_err(err)?;
    let source_channels = planar.channels.len();
    let source_rate = planar.sample_rate;
    let mut channels = planar.channels.into_iter();
    let left = channels.next().unwrap_or_default();
    let right = channels.next().unwrap_or_else(|| left.clone());
    let (left, right) = if source_rate == target_rate {
        (left, right)
    } else {
        let result_bytes = 8 * resampled_len(left.len(), source_rate, target_rate) as u64;
        if result_bytes > budget {
            return Err(err(format!(
                "needs {:.1} MiB of memory at {target_rate} Hz, but only {:.1} MiB of the {} \
                 reference budget is free",
                result_bytes as f64 / MIB,
                budget as f64 / MIB,
                cap_label()
            )));
        }
        resample_stereo(&left, &right, source_rate, target_rate)
            .map_err(|e| err(format!("resampling failed: {e}")))?
    };
    let content_hash = content_hash_of_file(path)
        .map_err(|e| err(format!("cannot read the file again to identify it: {e}")))?;
    Ok(DecodedStereo {
        left,
        right,
        sample_rate: target_rate,
        source_rate,
        source_channels,
        format: planar.format,
        content_hash,
    })
}

fn cap_label() -> String {
    format!("{} GiB", MAX_REFERENCE_BYTES >> 30)
}

/// Bytes a reference of `frames` source frames needs at its peak: the larger of the decoded
/// source (4 bytes per sample) and the stereo result at `to` (8 bytes per frame).
fn reference_bytes(frames: u64, channels: usize, from: u32, to: u32) -> u64 {
    let source = frames.saturating_mul(4 * channels.max(1) as u64);
    let result = 8u64.saturating_mul(resampled_len_u64(frames, from, to));
    source.max(result)
}

/// `round(frames * to / from)`, the length of a resampled signal.
fn resampled_len(frames: usize, from: u32, to: u32) -> usize {
    resampled_len_u64(frames as u64, from, to) as usize
}

fn resampled_len_u64(frames: u64, from: u32, to: u32) -> u64 {
    let from = u128::from(from.max(1));
    let n = (u128::from(frames) * u128::from(to) + from / 2) / from;
    n.min(u128::from(u64::MAX)) as u64
}

/// Input block of the FFT resampler, in frames (rounded up to a multiple of the rate pair's
/// smallest block and made even, see [`resample_stereo`]).
const RESAMPLER_BLOCK_FRAMES: usize = 2048;

/// Resamples a stereo pair with rubato, time-aligned: the resampler's own delay is removed so
/// that a feature at t seconds in the input is at t seconds in the output (within 1 output
/// sample), and the output has `round(frames * to / from)` frames. `from == to` copies.
///
/// Why this resampler: the rate pair is fixed for a whole file, so rubato's synchronous
/// [`rubato::Fft`] fits (its README recommends it for offline file conversion, with quality equal
/// to its best asynchronous sinc mode and much faster). It multiplies each block's spectrum by a
/// windowed-sinc anti-aliasing filter and zero-pads or truncates the spectrum to the new rate
/// (overlap-add, 2x FFT). Parameters: `FixedSync::Both` (the whole clip is in memory, so neither
/// side needs a fixed chunk), a block of about [`RESAMPLER_BLOCK_FRAMES`] input frames (the
/// filter is as long as the block: ~2048 taps put the cutoff at ~0.993 of the lower Nyquist
/// frequency, ~21.9 kHz from 44.1 kHz), and the `BlackmanHarris2` window, rubato's default and
/// the one with the highest stop-band attenuation. Processing is in `f32`, whose rounding noise
/// (about -140 dB) is far below anything a reference comparison can hear.
///
/// Why the delay is trimmed: the sinc filter is centred in its block, so every output sample
/// comes `fft_size_out / 2` output frames late ([`Resampler::output_delay`]). A reference is
/// compared with the master at the same position in time (loop points, section markers, A/B at
/// the playhead), so [`Resampler::process_all_into_buffer`] drops those leading frames and
/// flushes the tail with silence. The block is kept an even number of input frames so the
/// filter's centre falls on an input sample and the delay is an exact integer number of output
/// frames (an odd block would leave a half-sample offset).
pub fn resample_stereo(
    left: &[f32],
    right: &[f32],
    from: u32,
    to: u32,
) -> Result<(Vec<f32>, Vec<f32>), String> {
    if left.len() != right.len() {
        return Err(format!(
            "left and right differ in length ({} and {} frames)",
            left.len(),
            right.len()
        ));
    }
    if from == 0 || to == 0 {
        return Err(format!("invalid sample rates {from} Hz -> {to} Hz"));
    }
    if from == to {
        return Ok((left.to_vec(), right.to_vec()));
    }
    let frames = left.len();
    let out_len = resampled_len(frames, from, to);
    if frames == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let (from, to) = (from as usize, to as usize);
    let min_block_in = from / gcd(from, to);
    let mut blocks = RESAMPLER_BLOCK_FRAMES.div_ceil(min_block_in).max(1);
    if (blocks * min_block_in) % 2 == 1 {
        blocks += 1;
    }
    let chunk = blocks * min_block_in;
    let mut resampler = Fft::<f32>::new_custom(
        from,
        to,
        chunk,
        1,
        2,
        WindowFunction::BlackmanHarris2,
        FixedSync::Both,
    )
    .map_err(|e| format!("cannot set up the {from} -> {to} Hz resampler: {e}"))?;
    let input: [&[f32]; 2] = [left, right];
    let input = SequentialSliceOfSlices::new(&input, 2, frames).map_err(|e| e.to_string())?;
    let capacity = resampler.process_all_needed_output_len(frames);
    let mut output = vec![vec![0.0f32; capacity]; 2];
    let produced = {
        let mut adapter =
            SequentialSliceOfVecs::new_mut(&mut output, 2, capacity).map_err(|e| e.to_string())?;
        resampler
            .process_all_into_buffer(&input, &mut adapter, frames, None)
            .map_err(|e| e.to_string())?
            .1
    };
    if produced < out_len {
        return Err(format!(
            "the resampler produced {produced} frames, {out_len} expected"
        ));
    }
    let mut output = output.into_iter();
    let mut out_left = output.next().unwrap_or_default();
    let mut out_right = output.next().unwrap_or_default();
    out_left.truncate(out_len);
    out_right.truncate(out_len);
    Ok((out_left, out_right))
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// FNV-1a 64 over the file's bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3):
/// fixed by its definition, so the same file gives the same value in every build and on every
/// machine (unlike `std`'s `DefaultHasher`). Read in 64 KiB blocks.
pub fn content_hash_of_file(path: &Path) -> std::io::Result<u64> {
    let mut file = File::open(path)?;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => return Ok(hash),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &byte in &buffer[..n] {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The shared decoding core.
// ------------------------------------------------------------------------------------------------

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

/// What a file holds, known from its headers before any audio is decoded.
#[derive(Debug, Clone)]
pub(crate) struct StreamInfo {
    pub container: Container,
    pub codec: CodecType,
    /// e.g. "FLAC", "WAV PCM 24-bit", "AAC (M4A)".
    pub format: String,
    pub channels: usize,
    pub sample_rate: u32,
    /// Frames the header announces (in sample frames at `sample_rate`), when it does.
    pub expected_frames: Option<u64>,
}

/// A caller's own rules for [`decode_planar`].
pub(crate) struct DecodeRules<'a> {
    /// Start of the message for a file no format reader recognises (it lists what the caller
    /// accepts); the reader's own reason follows after a colon.
    pub unrecognised: &'a str,
    /// Checked once the header is read, before anything is decoded or allocated.
    pub check_stream: &'a dyn Fn(&StreamInfo) -> Result<(), String>,
    /// Most frames (per channel) that may be decoded; `u64::MAX` for no limit.
    pub frame_limit: &'a dyn Fn(&StreamInfo) -> u64,
    /// The error when decoding reaches `frame_limit` (given the frames decoded by then).
    pub over_limit: &'a dyn Fn(&StreamInfo, u64) -> String,
}

/// Planar audio as decoded: 1 or more channels of equal length at `sample_rate`.
#[derive(Debug, Clone)]
pub(crate) struct PlanarAudio {
    pub channels: Vec<Vec<f32>>,
    pub sample_rate: u32,
    /// See [`StreamInfo::format`].
    pub format: String,
}

/// PCM codecs (WAV/AIFF sample formats) as symphonia numbers them.
pub(crate) fn is_pcm(codec: CodecType) -> bool {
    PCM_INTEGER.contains(&codec) || PCM_FLOAT.contains(&codec) || PCM_LOG.contains(&codec)
}

const PCM_INTEGER: [CodecType; 28] = [
    c::CODEC_TYPE_PCM_S32LE,
    c::CODEC_TYPE_PCM_S32LE_PLANAR,
    c::CODEC_TYPE_PCM_S32BE,
    c::CODEC_TYPE_PCM_S32BE_PLANAR,
    c::CODEC_TYPE_PCM_S24LE,
    c::CODEC_TYPE_PCM_S24LE_PLANAR,
    c::CODEC_TYPE_PCM_S24BE,
    c::CODEC_TYPE_PCM_S24BE_PLANAR,
    c::CODEC_TYPE_PCM_S16LE,
    c::CODEC_TYPE_PCM_S16LE_PLANAR,
    c::CODEC_TYPE_PCM_S16BE,
    c::CODEC_TYPE_PCM_S16BE_PLANAR,
    c::CODEC_TYPE_PCM_S8,
    c::CODEC_TYPE_PCM_S8_PLANAR,
    c::CODEC_TYPE_PCM_U32LE,
    c::CODEC_TYPE_PCM_U32LE_PLANAR,
    c::CODEC_TYPE_PCM_U32BE,
    c::CODEC_TYPE_PCM_U32BE_PLANAR,
    c::CODEC_TYPE_PCM_U24LE,
    c::CODEC_TYPE_PCM_U24LE_PLANAR,
    c::CODEC_TYPE_PCM_U24BE,
    c::CODEC_TYPE_PCM_U24BE_PLANAR,
    c::CODEC_TYPE_PCM_U16LE,
    c::CODEC_TYPE_PCM_U16LE_PLANAR,
    c::CODEC_TYPE_PCM_U16BE,
    c::CODEC_TYPE_PCM_U16BE_PLANAR,
    c::CODEC_TYPE_PCM_U8,
    c::CODEC_TYPE_PCM_U8_PLANAR,
];

const PCM_FLOAT: [CodecType; 8] = [
    c::CODEC_TYPE_PCM_F32LE,
    c::CODEC_TYPE_PCM_F32LE_PLANAR,
    c::CODEC_TYPE_PCM_F32BE,
    c::CODEC_TYPE_PCM_F32BE_PLANAR,
    c::CODEC_TYPE_PCM_F64LE,
    c::CODEC_TYPE_PCM_F64LE_PLANAR,
    c::CODEC_TYPE_PCM_F64BE,
    c::CODEC_TYPE_PCM_F64BE_PLANAR,
];

const PCM_LOG: [CodecType; 2] = [c::CODEC_TYPE_PCM_ALAW, c::CODEC_TYPE_PCM_MULAW];

/// Frames that may be reserved up front at most (2^28 per channel, 1 GiB of `f32`), whatever a
/// header claims.
const MAX_RESERVE_FRAMES: u64 = 1 << 28;

/// Decodes a whole file into planar `f32` channels: the shared core of the reference loader and
/// the offline renderer. Returns the reason of a failure (the caller adds the path).
pub(crate) fn decode_planar(path: &Path, rules: &DecodeRules<'_>) -> Result<PlanarAudio, String> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "file not found".to_string(),
        std::io::ErrorKind::PermissionDenied => format!("cannot read (permission denied): {e}"),
        _ => format!("cannot read: {e}"),
    })?;
    if metadata.is_dir() {
        return Err("is a directory, not an audio file".into());
    }
    if !metadata.is_file() {
        return Err("is not a regular file (a device, pipe or socket), not an audio file".into());
    }
    if metadata.len() == 0 {
        return Err("file is empty (0 bytes)".into());
    }
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!("cannot open (permission denied): {e}"),
        _ => format!("cannot open: {e}"),
    })?;
    let header = read_header(path);
    match catch_unwind(AssertUnwindSafe(|| decode_file(path, file, &header, rules))) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(format!(
                "corrupt file: the decoder failed on malformed data ({what})"
            ))
        }
    }
}

/// What the first bytes of a file tell before symphonia reads it.
struct Header {
    container: Container,
    /// Sample rate in a WAV `fmt ` or AIFF `COMM` chunk.
    pcm_rate: Option<u32>,
    /// `numSampleFrames` of an AIFF `COMM` chunk.
    aiff_frames: Option<u64>,
    /// An MP3 whose first frame carries a Xing/Info/VBRI header, i.e. an exact frame count.
    mpeg_counted: bool,
}

fn read_header(path: &Path) -> Header {
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

fn decode_file(
    path: &Path,
    file: File,
    header: &Header,
    rules: &DecodeRules<'_>,
) -> Result<PlanarAudio, String> {
    // symphonia builds a `TimeBase` of 1 / rate from WAV and AIFF headers, which panics at 0.
    if header.pcm_rate == Some(0) {
        return Err("sample rate is 0 Hz (corrupt header)".into());
    }
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    // Gapless: MP3 (LAME tag) and Vorbis decoders trim the encoder delay and padding, so the
    // audio starts and ends where the original did. No effect on PCM and FLAC.
    let format_options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let probe = |stream: MediaSourceStream| {
        symphonia::default::get_probe().format(
            &hint,
            stream,
            &format_options,
            &MetadataOptions::default(),
        )
    };
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let probed = match probe(stream) {
        Ok(probed) => probed,
        // symphonia's Ogg reader seeks to the last page to learn the stream's length; in a
        // cut file that page is incomplete and the probe fails. Read it as a stream instead
        // (no seeking): the audio decodes up to the cut and the missing end-of-stream page
        // below reports where it breaks off.
        Err(SymphoniaError::IoError(e))
            if e.kind() == std::io::ErrorKind::UnexpectedEof
                && header.container == Container::Ogg =>
        {
            let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
            let stream = MediaSourceStream::new(
                Box::new(symphonia::core::io::ReadOnlySource::new(file)),
                Default::default(),
            );
            probe(stream).map_err(|e| match e {
                SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                    "truncated: the Ogg stream breaks off at 0.000 s, before its first \
                     complete audio page"
                        .to_string()
                }
                e => format!("{}: {}", rules.unrecognised, describe(&e)),
            })?
        }
        Err(e) => return Err(format!("{}: {}", rules.unrecognised, describe(&e))),
    };
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != c::CODEC_TYPE_NULL)
        .ok_or_else(|| "contains no audio track".to_string())?
        .clone();
    let params = &track.codec_params;
    let make_decoder = || {
        symphonia::default::get_codecs()
            .make(params, &DecoderOptions::default())
            .map_err(|e| {
                format!(
                    "unsupported codec {}: {}",
                    format_name(header.container, params),
                    describe(&e)
                )
            })
    };
    // MP4 does not always declare the channels of AAC in the track header (symphonia leaves
    // them unset); the decoder knows them from the AudioSpecificConfig and sizes its output
    // buffer by them. Otherwise the decoder is made after the caller's checks, so that a
    // caller's refusal (the renderer's formats) comes before "unsupported codec".
    let mut early_decoder = None;
    let channel_count = match params.channels {
        Some(channels) => channels.count(),
        None => {
            let decoder = make_decoder()?;
            let count = decoder.last_decoded().spec().channels.count();
            early_decoder = Some(decoder);
            count
        }
    };
    if channel_count == 0 {
        return Err("channel count unknown or zero".into());
    }
    let sample_rate = match params.sample_rate {
        None => return Err("sample rate unknown".into()),
        Some(0) => return Err("sample rate is 0 Hz (corrupt header)".into()),
        Some(rate) => rate,
    };
    // symphonia 0.5 counts the SSND chunk's 8-byte offset/block-size header of an AIFF file as
    // audio (n_frames 2 too many for 16-bit stereo); the COMM chunk's frame count is exact.
    let mut expected_frames = match header.aiff_frames {
        Some(frames) => Some(frames),
        None => params
            .n_frames
            .map(|n| frames_at_rate(n, params, sample_rate)),
    };
    if header.container == Container::Mpeg && !header.mpeg_counted {
        expected_frames = None;
    }
    let info = StreamInfo {
        container: header.container,
        codec: params.codec,
        format: format_name(header.container, params),
        channels: channel_count,
        sample_rate,
        expected_frames,
    };
    (rules.check_stream)(&info)?;
    if expected_frames == Some(0) {
        return Err("contains no audio (0 frames)".into());
    }
    let mut decoder = match early_decoder {
        Some(decoder) => decoder,
        None => make_decoder()?,
    };

    let limit = (rules.frame_limit)(&info);
    let capacity = expected_frames
        .unwrap_or(0)
        .min(limit)
        .min(MAX_RESERVE_FRAMES) as usize;
    let mut channels: Vec<Vec<f32>> = (0..channel_count)
        .map(|_| Vec::with_capacity(capacity))
        .collect();
    let seconds = |frames: usize| frames as f64 / f64::from(sample_rate);
    let mut buffer: Option<SampleBuffer<f32>> = None;
    // A packet that failed to decode: an error unless it was the file's last packet (then the
    // file is cut off inside it).
    let mut failed_packet: Option<(usize, String)> = None;
    let mut stopped_by_eof_in_packet = false;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => {
                return Err(format!(
                    "the stream changes its format at {:.3} s (a chained stream); only one \
                     stream per file is supported",
                    seconds(channels[0].len())
                ))
            }
            Err(e) => {
                return Err(format!(
                    "read error at {:.3} s: {}",
                    seconds(channels[0].len()),
                    describe(&e)
                ))
            }
        };
        if packet.track_id() != track.id {
            continue;
        }
        if let Some((at, reason)) = failed_packet.take() {
            return Err(format!(
                "corrupt audio data at {:.3} s: {reason}",
                seconds(at)
            ));
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                stopped_by_eof_in_packet = true;
                break;
            }
            Err(SymphoniaError::DecodeError(reason)) => {
                failed_packet = Some((channels[0].len(), reason.to_string()));
                continue;
            }
            Err(e) => {
                return Err(format!(
                    "decoder error at {:.3} s: {}",
                    seconds(channels[0].len()),
                    describe(&e)
                ))
            }
        };
        let frames = decoded.frames();
        if frames == 0 {
            continue;
        }
        if decoded.spec().channels.count() != channel_count {
            return Err(format!(
                "channel count changes inside the file (at {:.3} s)",
                seconds(channels[0].len())
            ));
        }
        let have = channels[0].len();
        if (have + frames) as u64 > limit {
            return Err((rules.over_limit)(&info, (have + frames) as u64));
        }
        let buf = match &mut buffer {
            Some(b) if b.capacity() >= decoded.capacity() * channel_count => b,
            _ => buffer.insert(SampleBuffer::new(
                decoded.capacity() as u64,
                *decoded.spec(),
            )),
        };
        buf.copy_planar_ref(decoded);
        let samples = buf.samples();
        for (c, channel) in channels.iter_mut().enumerate() {
            grow_for(channel, frames, limit);
            channel.extend_from_slice(&samples[c * frames..(c + 1) * frames]);
        }
    }
    let frames = channels[0].len();
    if let Some((at, reason)) = failed_packet {
        return Err(format!(
            "truncated: the audio breaks off at {:.3} s (its last packet is cut short: {reason})",
            seconds(at)
        ));
    }
    if stopped_by_eof_in_packet {
        return Err(format!(
            "truncated: the audio breaks off at {:.3} s (its last packet is cut short)",
            seconds(frames)
        ));
    }
    if is_pcm(info.codec) {
        if let Some(expected) = expected_frames {
            // Never read past the declared end (bytes of a following chunk are not audio).
            for channel in &mut channels {
                channel.truncate(expected.min(usize::MAX as u64) as usize);
            }
        }
    }
    let frames = frames.min(channels[0].len());
    if frames == 0 {
        return Err("contains no audio (0 frames)".into());
    }
    if let Some(expected) = expected_frames {
        if (frames as u64) < expected {
            return Err(format!(
                "truncated: the header promises {expected} frames ({:.3} s) but the audio breaks \
                 off after {frames}, at {:.3} s",
                expected as f64 / f64::from(sample_rate),
                seconds(frames)
            ));
        }
    } else if header.container == Container::Ogg {
        return Err(format!(
            "truncated: the Ogg stream has no end-of-stream page; the audio breaks off at {:.3} s",
            seconds(frames)
        ));
    }
    Ok(PlanarAudio {
        channels,
        sample_rate,
        format: info.format,
    })
}

/// Makes room for `more` frames without ever reserving past `limit` frames (a `Vec` doubling
/// its capacity could otherwise hold twice the budget).
fn grow_for(channel: &mut Vec<f32>, more: usize, limit: u64) {
    let needed = channel.len() + more;
    if needed <= channel.capacity() {
        return;
    }
    let doubled = (channel.capacity() * 2).max(1 << 16) as u64;
    let target = doubled.min(limit).max(needed as u64) as usize;
    channel.reserve_exact(target - channel.len());
}

/// `n` in the track's time base converted to frames at `sample_rate` (MP4 tracks count in their
/// media time scale, which need not be the sample rate).
fn frames_at_rate(n: u64, params: &CodecParameters, sample_rate: u32) -> u64 {
    match params.time_base {
        Some(tb) if tb.denom != 0 && !(tb.numer == 1 && tb.denom == sample_rate) => {
            let frames = u128::from(n) * u128::from(tb.numer) * u128::from(sample_rate)
                / u128::from(tb.denom);
            frames.min(u128::from(u64::MAX)) as u64
        }
        _ => n,
    }
}

/// A human name for the codec in its container.
fn format_name(container: Container, params: &CodecParameters) -> String {
    let codec = params.codec;
    if is_pcm(codec) {
        let outer = if container == Container::Aiff {
            "AIFF"
        } else {
            "WAV"
        };
        if codec == c::CODEC_TYPE_PCM_ALAW {
            return format!("{outer} A-law");
        }
        if codec == c::CODEC_TYPE_PCM_MULAW {
            return format!("{outer} µ-law");
        }
        let kind = if PCM_FLOAT.contains(&codec) {
            "float"
        } else {
            "PCM"
        };
        return match params.bits_per_sample {
            Some(bits) => format!("{outer} {kind} {bits}-bit"),
            None => format!("{outer} {kind}"),
        };
    }
    let name = match codec {
        c::CODEC_TYPE_FLAC if container == Container::Ogg => "Ogg FLAC",
        c::CODEC_TYPE_FLAC => "FLAC",
        c::CODEC_TYPE_MP3 => "MP3",
        c::CODEC_TYPE_MP2 => "MP2",
        c::CODEC_TYPE_MP1 => "MP1",
        c::CODEC_TYPE_VORBIS => "Ogg Vorbis",
        c::CODEC_TYPE_OPUS => "Opus",
        c::CODEC_TYPE_SPEEX => "Speex",
        c::CODEC_TYPE_AAC if container == Container::Mp4 => "AAC (M4A)",
        c::CODEC_TYPE_AAC => "AAC (ADTS)",
        c::CODEC_TYPE_ALAC => "ALAC (M4A)",
        _ => {
            return match symphonia::default::get_codecs().get_codec(codec) {
                Some(descriptor) => descriptor.long_name.to_string(),
                None => format!("codec {codec}"),
            }
        }
    };
    name.to_string()
}

fn describe(e: &SymphoniaError) -> String {
    match e {
        SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "unexpected end of file (truncated?)".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        let dir = std::env::temp_dir().join(format!("fairmaster-fnv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (text, expected) in [
            ("", 0xcbf2_9ce4_8422_2325u64),
            ("a", 0xaf63_dc4c_8601_ec8c),
            ("foobar", 0x8594_4171_f739_67e8),
        ] {
            let path = dir.join("v.bin");
            std::fs::write(&path, text).unwrap();
            assert_eq!(content_hash_of_file(&path).unwrap(), expected, "{text:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn resampled_length_rounds_and_budget_counts_the_larger_side() {
        assert_eq!(resampled_len(44_100, 44_100, 48_000), 48_000);
        assert_eq!(resampled_len(1, 44_100, 48_000), 1);
        assert_eq!(resampled_len(3, 48_000, 44_100), 3); // 2.756 -> 3
        assert_eq!(resampled_len(0, 44_100, 96_000), 0);
        // Mono 96 kHz to 48 kHz: 4 bytes per source frame beats 8 bytes per half as many.
        assert_eq!(reference_bytes(1000, 1, 96_000, 48_000), 4000);
        // Stereo 44.1 -> 96 kHz: the result is larger.
        assert_eq!(reference_bytes(441, 2, 44_100, 96_000), 8 * 960);
    }

    #[test]
    fn pcm_codecs_and_format_names() {
        assert!(is_pcm(c::CODEC_TYPE_PCM_S16LE));
        assert!(is_pcm(c::CODEC_TYPE_PCM_MULAW));
        assert!(!is_pcm(c::CODEC_TYPE_FLAC));
        let mut params = CodecParameters::new();
        params
            .for_codec(c::CODEC_TYPE_PCM_S24LE)
            .with_bits_per_sample(24);
        assert_eq!(format_name(Container::Wav, &params), "WAV PCM 24-bit");
        params
            .for_codec(c::CODEC_TYPE_PCM_F32LE)
            .with_bits_per_sample(32);
        assert_eq!(format_name(Container::Wav, &params), "WAV float 32-bit");
        params.for_codec(c::CODEC_TYPE_AAC);
        assert_eq!(format_name(Container::Mp4, &params), "AAC (M4A)");
        params.for_codec(c::CODEC_TYPE_VORBIS);
        assert_eq!(format_name(Container::Ogg, &params), "Ogg Vorbis");
    }

    #[test]
    fn equal_rates_copy_exactly_and_mismatched_lengths_are_refused() {
        let left: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
        let right: Vec<f32> = left.iter().map(|x| -x).collect();
        let (l, r) = resample_stereo(&left, &right, 48_000, 48_000).unwrap();
        assert_eq!((l, r), (left.clone(), right));
        assert!(resample_stereo(&left, &left[..10], 44_100, 48_000).is_err());
        assert!(resample_stereo(&left, &left, 0, 48_000).is_err());
        let (l, r) = resample_stereo(&[], &[], 44_100, 48_000).unwrap();
        assert!(l.is_empty() && r.is_empty());
    }
}
