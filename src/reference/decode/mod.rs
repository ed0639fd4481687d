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
//!
//! Files by job: this one the reference path (budget, stereo, [`resample_stereo`], content
//! hash); `probe.rs` what a file's first bytes say (container, PCM rate, frame counts);
//! `planar.rs` the symphonia decode itself ([`decode_planar`], PCM codecs, format names).

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rubato::audioadapter_buffers::direct::{SequentialSliceOfSlices, SequentialSliceOfVecs};
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

mod planar;
mod probe;

// The decoding core and the container probe are their own files; the offline renderer and
// the tests reach them at the paths they had when this was one file.
pub(crate) use planar::{decode_planar, is_pcm, DecodeRules, StreamInfo};
pub(crate) use probe::Container;

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
