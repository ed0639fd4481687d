//! Offline renderer file I/O: round trips through the WAV writer and the decoders (WAV, AIFF),
//! and every bad-input path gives a clear error naming the file and the reason.

mod common;

use std::path::{Path, PathBuf};

use common::audio_files::aiff_bytes;
use fairmaster::files::temp_path_for;
use fairmaster::offline::audio_io::{read_audio_file, write_wav_atomic, OutputFormat};
use fairmaster::offline::Audio;

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("offline-io", test)
}

/// A stereo test signal with distinct channels on the 24-bit grid (exact in every format but
/// 16-bit, which the tests quantise separately).
fn test_signal(frames: usize, sample_rate: u32) -> Audio {
    let grid = |x: f64| ((x * 8_388_608.0).round() / 8_388_608.0) as f32;
    Audio {
        sample_rate,
        channels: vec![
            (0..frames)
                .map(|i| grid(0.7 * (i as f64 * 0.031).sin()))
                .collect(),
            (0..frames)
                .map(|i| grid(-0.4 * (i as f64 * 0.0173).cos()))
                .collect(),
        ],
    }
}

fn quantise(audio: &Audio, bits: u32) -> Audio {
    let scale = f64::from(1u32 << (bits - 1));
    Audio {
        sample_rate: audio.sample_rate,
        channels: audio
            .channels
            .iter()
            .map(|c| {
                c.iter()
                    .map(|&x| ((f64::from(x) * scale).round() / scale) as f32)
                    .collect()
            })
            .collect(),
    }
}

#[test]
fn wav_round_trips_exactly_in_every_output_format() {
    let dir = scratch_dir("wav-round-trip");
    let signal = test_signal(10_000, 48_000);
    for (format, bits) in [
        (OutputFormat::Float32, None),
        (OutputFormat::Int24, Some(24)),
        (OutputFormat::Int16, Some(16)),
    ] {
        let expected = match bits {
            Some(b) => quantise(&signal, b),
            None => signal.clone(),
        };
        let path = dir.join(format!("{}.wav", format.label()));
        write_wav_atomic(&path, &expected, format, false).unwrap();
        let decoded = read_audio_file(&path).unwrap();
        assert_eq!(decoded.sample_rate, 48_000);
        assert_eq!(decoded.channels.len(), 2);
        assert_eq!(decoded.frames(), 10_000, "{format:?}");
        assert_eq!(
            decoded, expected,
            "{format:?}: samples changed in the round trip"
        );
        // hound reads back what symphonia read: the file is a standard WAV.
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.spec().bits_per_sample, bits.map_or(32, |b| b as u16));
    }
    // A mono file stays mono.
    let mono = Audio {
        sample_rate: 44_100,
        channels: vec![signal.channels[0].clone()],
    };
    let path = dir.join("mono.wav");
    write_wav_atomic(&path, &mono, OutputFormat::Float32, false).unwrap();
    assert_eq!(read_audio_file(&path).unwrap(), mono);
}

#[test]
fn aiff_decodes_to_the_written_samples() {
    let dir = scratch_dir("aiff");
    let signal = test_signal(5_000, 44_100);
    for bits in [16u16, 24] {
        let expected = quantise(&signal, u32::from(bits));
        let path = dir.join(format!("test{bits}.aiff"));
        std::fs::write(
            &path,
            aiff_bytes(&expected.channels, expected.sample_rate, bits, 0),
        )
        .unwrap();
        let decoded = read_audio_file(&path).unwrap();
        assert_eq!(decoded.sample_rate, 44_100, "{bits}-bit");
        assert_eq!(decoded, expected, "{bits}-bit AIFF samples");
    }
}

fn expect_error(path: &Path, reason_contains: &str) {
    let err = read_audio_file(path).expect_err("bad input accepted");
    assert_eq!(
        err.path.as_deref(),
        Some(path),
        "error must name the file: {err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains(reason_contains),
        "'{text}' should name the file and say '{reason_contains}'"
    );
}

fn write_hound(path: &Path, channels: u16, rate: u32, frames: usize) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames * usize::from(channels) {
        w.write_sample((i % 1000) as i16).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = scratch_dir("bad-inputs");

    expect_error(&dir.join("missing.wav"), "file not found");

    let empty = dir.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    expect_error(&empty, "empty");

    let text = dir.join("notes.wav");
    std::fs::write(&text, b"this is not audio at all, just some text in a file").unwrap();
    expect_error(&text, "unsupported or unrecognised format");

    let surround = dir.join("surround.wav");
    write_hound(&surround, 6, 48_000, 100);
    expect_error(&surround, "6 channels");

    let zero = dir.join("zero-frames.wav");
    write_hound(&zero, 2, 48_000, 0);
    expect_error(&zero, "no audio");

    let low_rate = dir.join("low-rate.wav");
    write_hound(&low_rate, 2, 16_000, 1000);
    expect_error(&low_rate, "16000 Hz is not supported");

    // A WAV cut short: the header promises 4000 frames, the file holds ~3000.
    let truncated = dir.join("truncated.wav");
    write_hound(&truncated, 2, 48_000, 4000);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 4000]).unwrap();
    expect_error(&truncated, "truncated");

    // The same for AIFF.
    let aiff = dir.join("truncated.aiff");
    std::fs::write(
        &aiff,
        aiff_bytes(&test_signal(4000, 48_000).channels, 48_000, 16, 4000),
    )
    .unwrap();
    expect_error(&aiff, "truncated");

    expect_error(&dir, "directory");
}

#[test]
fn existing_output_is_kept_without_force_and_failures_leave_nothing() {
    let dir = scratch_dir("overwrite");
    let signal = test_signal(1000, 48_000);
    let path = dir.join("out.wav");
    std::fs::write(&path, b"precious").unwrap();
    let err = write_wav_atomic(&path, &signal, OutputFormat::Int24, false).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");

    write_wav_atomic(&path, &signal, OutputFormat::Float32, true).unwrap();
    assert_eq!(read_audio_file(&path).unwrap(), signal);

    // A render that cannot be moved in place (the output name is a directory) fails, leaves
    // the directory alone and removes its temporary file.
    let blocked = dir.join("blocked.wav");
    std::fs::create_dir(&blocked).unwrap();
    assert!(write_wav_atomic(&blocked, &signal, OutputFormat::Int16, true).is_err());
    assert!(blocked.is_dir());
    assert!(!temp_path_for(&blocked).exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("fairmaster-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // A missing output directory: error naming the path, nothing created.
    let nowhere = dir.join("no-such-dir").join("out.wav");
    let err = write_wav_atomic(&nowhere, &signal, OutputFormat::Int24, false).unwrap_err();
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}
