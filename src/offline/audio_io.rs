//! Reading WAV/FLAC/AIFF and writing WAV.
//!
//! Decoding is the one symphonia decoder of the code base, shared with the reference tracks
//! ([`crate::reference::decode`]); the renderer accepts WAV (PCM), AIFF and FLAC from it. Every
//! failure names the file and the reason: missing, unreadable, a directory, empty, not a
//! supported format, truncated (fewer frames than the header promises, with where the audio
//! breaks off) or corrupt, more than two channels, no audio, or a sample rate outside the
//! chain's 44.1-192 kHz.
//!
//! Writing uses hound and is atomic: samples go to a hidden temporary file in the output's
//! directory, which is renamed over the final name only when complete, so a failed render never
//! leaves a half-written file; an existing output is replaced only with `force`.

use std::fs::OpenOptions;
use std::io::BufWriter;
use std::path::Path;

use symphonia::core::codecs::CODEC_TYPE_FLAC;

use super::{Audio, OfflineError, READABLE_RATES_HZ, SUPPORTED_RATES_HZ};
use crate::dsp::dither::DitherMode;
use crate::files::write_atomic;
use crate::reference::decode::{decode_planar, is_pcm, Container, DecodeRules, StreamInfo};

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

/// What the renderer reads, named in its "unsupported or unrecognised format" errors.
const RENDERER_FORMATS: &str = "WAV, FLAC and AIFF are supported";

/// Decodes a whole WAV, FLAC or AIFF file into memory.
///
/// The decoding itself is the reference loader's ([`decode_planar`]), with its messages for
/// missing, unreadable, empty, truncated or corrupt files; this adds the renderer's own rules.
/// The renderer still accepts only WAV, FLAC and AIFF (PCM or FLAC audio), although the decoder
/// also reads MP3, Ogg Vorbis and AAC/ALAC for reference tracks: a master is made from a
/// lossless mix, and a lossy input would be a mistake worth stopping for. Mono or stereo only,
/// at 22.05-384 kHz ([`check_sample_rate`]); rates outside the chain's 44.1-192 kHz are
/// resampled by the caller ([`chain_rate_for`], [`resample_audio`]).
pub fn read_audio_file(path: &Path) -> Result<Audio, OfflineError> {
    let check_stream = |info: &StreamInfo| -> Result<(), String> {
        let lossless = is_pcm(info.codec) || info.codec == CODEC_TYPE_FLAC;
        let container = matches!(
            info.container,
            Container::Wav | Container::Aiff | Container::Flac
        );
        if !(lossless && container) {
            return Err(format!(
                "unsupported or unrecognised format ({RENDERER_FORMATS}): this file is {}",
                info.format
            ));
        }
        if info.channels > 2 {
            return Err(format!(
                "has {} channels; only mono and stereo are supported",
                info.channels
            ));
        }
        check_sample_rate(info.sample_rate)
    };
    let rules = DecodeRules {
        unrecognised: &format!("unsupported or unrecognised format ({RENDERER_FORMATS})"),
        check_stream: &check_stream,
        frame_limit: &|_| u64::MAX,
        over_limit: &|_, _| String::new(),
    };
    let planar = decode_planar(path, &rules).map_err(|reason| OfflineError::file(path, reason))?;
    Ok(Audio {
        sample_rate: planar.sample_rate,
        channels: planar.channels,
    })
}

/// The renderer reads 22.05-384 kHz ([`READABLE_RATES_HZ`]): every rate a mix is delivered at
/// in practice, from 22.05 kHz archive transfers to 384 kHz DXD. Anything else is refused.
pub fn check_sample_rate(sample_rate: u32) -> Result<(), String> {
    let (lo, hi) = READABLE_RATES_HZ;
    if (lo..=hi).contains(&sample_rate) {
        Ok(())
    } else {
        Err(format!(
            "sample rate {sample_rate} Hz is not supported (the renderer reads {lo}-{hi} Hz)"
        ))
    }
}

/// The rate a file is mastered at: its own when the chain runs there (44.1-192 kHz), else the
/// nearest chain rate of the same family (multiples of 44.1 kHz stay in the 44.1 kHz family,
/// everything else goes to the 48 kHz family), so 22.05 kHz becomes 44.1 kHz, 32 kHz 48 kHz,
/// 352.8 kHz 176.4 kHz and 384 kHz 192 kHz. Staying in the family keeps the ratio simple
/// (2:1) and the later CD or video delivery rate one conversion away.
pub fn chain_rate_for(sample_rate: u32) -> u32 {
    let (lo, hi) = SUPPORTED_RATES_HZ;
    if (lo..=hi).contains(&sample_rate) {
        return sample_rate;
    }
    let family: [u32; 3] = if sample_rate.is_multiple_of(11_025) {
        [44_100, 88_200, 176_400]
    } else {
        [48_000, 96_000, 192_000]
    };
    if sample_rate < lo {
        family[0]
    } else {
        family[2]
    }
}

/// `audio` at `to` Hz: itself when it is already there, else resampled with the reference
/// loader's rubato resampler ([`resample_stereo`](crate::reference::decode::resample_stereo):
/// time-aligned, length `round(frames * to / from)`). Mono stays mono.
pub fn resample_audio(audio: Audio, to: u32) -> Result<Audio, String> {
    if audio.sample_rate == to {
        return Ok(audio);
    }
    let (left, right) = audio.left_right();
    let (l, r) = crate::reference::decode::resample_stereo(left, right, audio.sample_rate, to)?;
    let channels = if audio.is_mono() { vec![l] } else { vec![l, r] };
    Ok(Audio {
        sample_rate: to,
        channels,
    })
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
    write_atomic(path, force, |temp| write_wav_to(temp, audio, format))
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
    fn sample_rates_outside_the_readable_range_are_rejected() {
        assert!(check_sample_rate(22_050).is_ok());
        assert!(check_sample_rate(384_000).is_ok());
        let e = check_sample_rate(16_000).unwrap_err();
        assert!(e.contains("16000"), "{e}");
        assert!(check_sample_rate(768_000).is_err());
    }

    #[test]
    fn rates_outside_the_chain_go_to_the_nearest_chain_rate_of_their_family() {
        for (from, to) in [
            (22_050, 44_100),
            (32_000, 48_000),
            (24_000, 48_000),
            (44_100, 44_100),
            (96_000, 96_000),
            (192_000, 192_000),
            (352_800, 176_400),
            (384_000, 192_000),
        ] {
            assert_eq!(chain_rate_for(from), to, "{from}");
        }
    }
}
