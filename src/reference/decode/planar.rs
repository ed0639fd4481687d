//! The shared decoding core ([`decode_planar`]): a whole file through symphonia into planar
//! `f32` channels, checked against the caller's rules before anything is decoded, with PCM
//! codecs recognised ([`is_pcm`]) and every failure a sentence. The reference loader
//! (`super::decode_reference`) and the offline renderer (`offline::audio_io`) both call it.

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{self as c, CodecParameters, CodecType, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::probe::{read_header, Container, Header};

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
}
