//! Reading WAV/FLAC/AIFF and writing WAV.
//!
//! Decoding uses symphonia with only the RIFF (WAV/AIFF) and FLAC readers and the PCM codecs.
//! Every failure names the file and the reason: missing, unreadable, not a supported format,
//! truncated (fewer frames than the header promises), more than two channels, no audio, or a
//! sample rate outside the chain's 44.1-192 kHz.
//!
//! Writing uses hound and is atomic: samples go to a hidden temporary file in the output's
//! directory, which is renamed over the final name only when complete, so a failed render never
//! leaves a half-written file; an existing output is replaced only with `force`.

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{Audio, OfflineError, SUPPORTED_RATES_HZ};
use crate::dsp::dither::DitherMode;

/// Output sample format of a written WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// 16-bit integer PCM; the chain's dither runs in its 16-bit mode.
    Int16,
    /// 24-bit integer PCM; the chain's dither runs in its 24-bit mode.
    Int24,
    /// 32-bit IEEE float, undithered.
    Float32,
}

impl OutputFormat {
    /// `16`, `24`, `32f` (also `32`, `float`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "16" => Some(Self::Int16),
            "24" => Some(Self::Int24),
            "32f" | "32" | "float" | "f32" => Some(Self::Float32),
            _ => None,
        }
    }

    /// The chain's dither mode that produces exactly this word length.
    pub fn dither_mode(self) -> DitherMode {
        match self {
            Self::Int16 => DitherMode::Bits16,
            Self::Int24 => DitherMode::Bits24,
            Self::Float32 => DitherMode::Off,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Int16 => "16-bit",
            Self::Int24 => "24-bit",
            Self::Float32 => "32-bit float",
        }
    }
}

/// Decodes a whole WAV, FLAC or AIFF file into memory.
pub fn read_audio_file(path: &Path) -> Result<Audio, OfflineError> {
    let err = |reason: String| OfflineError::file(path, reason);
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => err("file not found".into()),
        _ => err(format!("cannot read: {e}")),
    })?;
    if metadata.is_dir() {
        return Err(err("is a directory, not an audio file".into()));
    }
    if metadata.len() == 0 {
        return Err(err("file is empty (0 bytes)".into()));
    }
    let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| {
            err(format!(
                "unsupported or unrecognised format (WAV, FLAC and AIFF are supported): {}",
                describe(&e)
            ))
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| err("contains no audio track".into()))?
        .clone();
    let params = &track.codec_params;
    let channel_count = params.channels.map_or(0, |c| c.count());
    if channel_count == 0 {
        return Err(err("channel count unknown or zero".into()));
    }
    if channel_count > 2 {
        return Err(err(format!(
            "has {channel_count} channels; only mono and stereo are supported"
        )));
    }
    let sample_rate = params
        .sample_rate
        .ok_or_else(|| err("sample rate unknown".into()))?;
    check_sample_rate(sample_rate).map_err(err)?;
    // symphonia 0.5 counts the SSND chunk's 8-byte offset/block-size header of an AIFF file as
    // audio (n_frames 2 too many for 16-bit stereo); the COMM chunk's frame count is exact.
    let expected_frames = match aiff_frame_count(path) {
        Some(frames) => Some(frames),
        None => params.n_frames,
    };
    if expected_frames == Some(0) {
        return Err(err("contains no audio (0 frames)".into()));
    }
    let mut decoder = symphonia::default::get_codecs()
        .make(params, &DecoderOptions::default())
        .map_err(|e| err(format!("unsupported codec: {}", describe(&e))))?;

    let capacity = expected_frames.unwrap_or(0).min(1 << 28) as usize;
    let mut channels: Vec<Vec<f32>> = (0..channel_count)
        .map(|_| Vec::with_capacity(capacity))
        .collect();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(e) => return Err(err(format!("read error: {}", describe(&e)))),
        };
        if packet.track_id() != track.id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(e) => return Err(err(format!("corrupt audio data: {}", describe(&e)))),
        };
        let frames = decoded.frames();
        if frames == 0 {
            continue;
        }
        if decoded.spec().channels.count() != channel_count {
            return Err(err("channel count changes inside the file".into()));
        }
        let buf = match &mut buffer {
            Some(b) if b.capacity() >= decoded.capacity() => b,
            _ => buffer.insert(SampleBuffer::new(
                decoded.capacity() as u64,
                *decoded.spec(),
            )),
        };
        buf.copy_planar_ref(decoded);
        let samples = buf.samples();
        for (c, channel) in channels.iter_mut().enumerate() {
            channel.extend_from_slice(&samples[c * frames..(c + 1) * frames]);
        }
    }
    if let Some(expected) = expected_frames {
        // Never read past the declared end (bytes of a following chunk are not audio).
        for channel in &mut channels {
            channel.truncate(expected as usize);
        }
    }
    let frames = channels[0].len() as u64;
    if frames == 0 {
        return Err(err("contains no audio (0 frames)".into()));
    }
    if let Some(expected) = expected_frames {
        if frames < expected {
            return Err(err(format!(
                "truncated: the header promises {expected} frames but the file holds {frames}"
            )));
        }
    }
    Ok(Audio {
        sample_rate,
        channels,
    })
}

/// `numSampleFrames` of the COMM chunk when `path` is an AIFF/AIFC file (AIFF 1.3 spec: FORM
/// container of big-endian, even-padded chunks); `None` for anything else.
fn aiff_frame_count(path: &Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::io::BufReader::new(File::open(path).ok()?);
    let mut header = [0u8; 12];
    file.read_exact(&mut header).ok()?;
    if &header[..4] != b"FORM" || !(&header[8..] == b"AIFF" || &header[8..] == b"AIFC") {
        return None;
    }
    loop {
        let mut chunk = [0u8; 8];
        file.read_exact(&mut chunk).ok()?;
        let size = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        if &chunk[..4] == b"COMM" {
            let mut comm = [0u8; 6];
            file.read_exact(&mut comm).ok()?;
            return Some(u64::from(u32::from_be_bytes([
                comm[2], comm[3], comm[4], comm[5],
            ])));
        }
        let padded = i64::from(size) + i64::from(size % 2);
        file.seek(SeekFrom::Current(padded)).ok()?;
    }
}

fn describe(e: &SymphoniaError) -> String {
    match e {
        SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "unexpected end of file (truncated?)".into()
        }
        other => other.to_string(),
    }
}

/// The chain is designed for 44.1-192 kHz; other rates are rejected rather than resampled.
pub fn check_sample_rate(sample_rate: u32) -> Result<(), String> {
    let (lo, hi) = SUPPORTED_RATES_HZ;
    if (lo..=hi).contains(&sample_rate) {
        Ok(())
    } else {
        Err(format!(
            "sample rate {sample_rate} Hz is not supported (the chain runs at {lo}-{hi} Hz; \
             resample the file first)"
        ))
    }
}

/// Fails when `path` exists and `force` is off (checked before rendering, so no time is wasted,
/// and again just before the rename).
pub fn check_output_free(path: &Path, force: bool) -> Result<(), OfflineError> {
    if !force && path.exists() {
        return Err(OfflineError::file(
            path,
            "output exists; pass --force to overwrite it",
        ));
    }
    Ok(())
}

/// Writes `audio` as WAV to `path` via a temporary file in the same directory and a rename.
/// Integer formats expect samples already quantised by the chain's dither (exact multiples of
/// one LSB); they are converted exactly (rounded and clamped for safety).
pub fn write_wav_atomic(
    path: &Path,
    audio: &Audio,
    format: OutputFormat,
    force: bool,
) -> Result<(), OfflineError> {
    check_output_free(path, force)?;
    let temp = temp_path_for(path);
    let result = write_wav_to(&temp, audio, format).and_then(|()| {
        check_output_free(path, force)?;
        std::fs::rename(&temp, path)
            .map_err(|e| OfflineError::file(path, format!("cannot move the render in place: {e}")))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// `dir/.name.fairmaster-tmp-<pid>`: hidden, same directory (so the rename is atomic), unique
/// per process.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.fairmaster-tmp-{}", std::process::id()))
}

fn write_wav_to(temp: &Path, audio: &Audio, format: OutputFormat) -> Result<(), OfflineError> {
    let err = |e: String| OfflineError::file(temp, e);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(|e| err(format!("cannot create output: {e}")))?;
    let (bits, sample_format) = match format {
        OutputFormat::Int16 => (16, hound::SampleFormat::Int),
        OutputFormat::Int24 => (24, hound::SampleFormat::Int),
        OutputFormat::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: audio.channels.len() as u16,
        sample_rate: audio.sample_rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut writer = hound::WavWriter::new(BufWriter::with_capacity(1 << 16, file), spec)
        .map_err(|e| err(format!("cannot write WAV header: {e}")))?;
    let write_err = |e: hound::Error| err(format!("write failed: {e}"));
    let frames = audio.frames();
    match format {
        OutputFormat::Float32 => {
            for i in 0..frames {
                for channel in &audio.channels {
                    writer.write_sample(channel[i]).map_err(write_err)?;
                }
            }
        }
        OutputFormat::Int16 => {
            let mut samples = writer.get_i16_writer((frames * audio.channels.len()) as u32);
            for i in 0..frames {
                for channel in &audio.channels {
                    samples.write_sample(to_int(channel[i], 16) as i16);
                }
            }
            samples.flush().map_err(write_err)?;
        }
        OutputFormat::Int24 => {
            for i in 0..frames {
                for channel in &audio.channels {
                    writer
                        .write_sample(to_int(channel[i], 24))
                        .map_err(write_err)?;
                }
            }
        }
    }
    writer.finalize().map_err(write_err)
}

/// `x` in [-1, 1) full scale to a `bits`-bit integer: exact for dithered (LSB-aligned) input.
pub fn to_int(x: f32, bits: u32) -> i32 {
    let scale = (1u32 << (bits - 1)) as f64;
    let v = if x.is_finite() { f64::from(x) } else { 0.0 };
    (v * scale).round().clamp(-scale, scale - 1.0) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_conversion_is_exact_on_lsb_grid_and_clamps() {
        let lsb16 = 1.0 / 32768.0;
        assert_eq!(to_int(1234.0 * lsb16, 16), 1234);
        assert_eq!(to_int(-32768.0 * lsb16, 16), -32768);
        assert_eq!(to_int(1.5, 16), 32767);
        assert_eq!(to_int(f32::NAN, 24), 0);
        let lsb24 = 1.0 / 8_388_608.0;
        assert_eq!(to_int(-777_777.0 * lsb24, 24), -777_777);
    }

    #[test]
    fn sample_rates_outside_the_chain_range_are_rejected() {
        assert!(check_sample_rate(44_100).is_ok());
        assert!(check_sample_rate(192_000).is_ok());
        let e = check_sample_rate(22_050).unwrap_err();
        assert!(e.contains("22050"), "{e}");
        assert!(check_sample_rate(384_000).is_err());
    }
}
