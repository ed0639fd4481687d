//! Reference-track decoding (`src/reference/decode.rs`): every supported format decodes to the
//! known fixture signal at the right rate, length and level; the resampler is transparent and
//! time-aligned; every bad input gives a clear error naming the file, and nothing panics.
//!
//! Fixtures (`tests/fixtures/reference/`, made by ffmpeg, see the README there): 2 s of a stereo
//! mix, left 0.15 sin(2π·440 t) + 0.10 sin(2π·1000 t), right 0.10 sin(2π·440 t) +
//! 0.15 sin(2π·1000 t), 44.1 kHz, as FLAC, MP3, Ogg Vorbis, AAC in M4A, and Opus (which
//! symphonia cannot decode: the unsupported-codec case). WAV and AIFF are written at test time.

mod common;

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use common::audio_files::aiff_bytes;
use fairmaster::offline::audio_io::read_audio_file;
use fairmaster::reference::decode::{
    content_hash_of_file, decode_reference, resample_stereo, DecodedStereo, LoadError,
    MAX_REFERENCE_BYTES,
};

const FIXTURE_RATE: u32 = 44_100;
const FIXTURE_SECONDS: f64 = 2.0;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference")
        .join(name)
}

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("reference-decode", test)
}

/// The fixture signal: (left, right) at time `t`.
fn fixture_signal(t: f64) -> (f64, f64) {
    let a = (2.0 * PI * 440.0 * t).sin();
    let b = (2.0 * PI * 1000.0 * t).sin();
    (0.15 * a + 0.10 * b, 0.10 * a + 0.15 * b)
}

/// RMS of each fixture channel: sqrt((0.15² + 0.10²) / 2).
fn fixture_rms() -> f64 {
    ((0.15f64.powi(2) + 0.10f64.powi(2)) / 2.0).sqrt()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// Amplitude of the `freq` component of `x` (least-squares projection on sin and cos; exact for
/// whole periods, and the tests use long windows of whole periods).
fn amplitude_at(x: &[f32], rate: u32, freq: f64) -> f64 {
    let fit = fit_sine(x, rate, freq);
    fit.amplitude
}

struct SineFit {
    amplitude: f64,
    /// RMS of what is left after removing the fitted sine and DC.
    residual_rms: f64,
}

/// Least-squares fit of `a sin + b cos + c` at `freq` (normal equations, solved exactly), and
/// the residual. THD+N = residual RMS / fitted sine RMS.
fn fit_sine(x: &[f32], rate: u32, freq: f64) -> SineFit {
    let w = 2.0 * PI * freq / f64::from(rate);
    let mut m = [[0.0f64; 3]; 3];
    let mut v = [0.0f64; 3];
    for (n, &s) in x.iter().enumerate() {
        let basis = [(w * n as f64).sin(), (w * n as f64).cos(), 1.0];
        for i in 0..3 {
            v[i] += basis[i] * f64::from(s);
            for j in 0..3 {
                m[i][j] += basis[i] * basis[j];
            }
        }
    }
    let coef = solve3(m, v);
    let mut residual = 0.0;
    for (n, &s) in x.iter().enumerate() {
        let model = coef[0] * (w * n as f64).sin() + coef[1] * (w * n as f64).cos() + coef[2];
        residual += (f64::from(s) - model).powi(2);
    }
    SineFit {
        amplitude: coef[0].hypot(coef[1]),
        residual_rms: (residual / x.len() as f64).sqrt(),
    }
}

fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> [f64; 3] {
    for col in 0..3 {
        let pivot = (col..3)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        v.swap(col, pivot);
        for row in 0..3 {
            if row != col {
                let f = m[row][col] / m[col][col];
                let pivot_row = m[col];
                for (x, p) in m[row].iter_mut().zip(pivot_row) {
                    *x -= f * p;
                }
                v[row] -= f * v[col];
            }
        }
    }
    [v[0] / m[0][0], v[1] / m[1][1], v[2] / m[2][2]]
}

fn sine(freq: f64, amplitude: f64, rate: u32, frames: usize) -> Vec<f32> {
    common::signals::sine_f64(frames, freq, f64::from(rate), amplitude, 0.0)
}

fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32, bits: u16, float: bool) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let frames = channels.first().map_or(0, Vec::len);
    let scale = f64::from(1u32 << (bits - 1));
    for i in 0..frames {
        for c in channels {
            if float {
                w.write_sample(c[i]).unwrap();
            } else {
                let v = (f64::from(c[i]) * scale).round().clamp(-scale, scale - 1.0) as i32;
                w.write_sample(v).unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

/// The fixture signal, `frames` long, quantised to `bits`.
fn fixture_channels(frames: usize, rate: u32, bits: u32) -> Vec<Vec<f32>> {
    let scale = f64::from(1u32 << (bits - 1));
    let q = |x: f64| ((x * scale).round() / scale) as f32;
    let (mut l, mut r) = (Vec::new(), Vec::new());
    for n in 0..frames {
        let (a, b) = fixture_signal(n as f64 / f64::from(rate));
        l.push(q(a));
        r.push(q(b));
    }
    vec![l, r]
}

fn expect_error(path: &Path, result: Result<DecodedStereo, LoadError>, says: &[&str]) -> String {
    let err = result.expect_err("bad input accepted");
    assert_eq!(err.path, path, "error must name the file: {err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: ", path.display())),
        "'{text}' should start with the path"
    );
    for s in says {
        assert!(text.contains(s), "'{text}' should say '{s}'");
    }
    text
}

fn load(path: &Path, rate: u32) -> Result<DecodedStereo, LoadError> {
    decode_reference(path, rate, MAX_REFERENCE_BYTES)
}

// ------------------------------------------------------------------------------------------------
// Formats
// ------------------------------------------------------------------------------------------------

/// Each ffmpeg fixture decodes to 2 s of the known signal. Durations: FLAC exactly; MP3 and Ogg
/// Vorbis are trimmed gaplessly by symphonia (LAME tag, Ogg granule positions), but AAC in MP4
/// keeps the encoder's priming (symphonia 0.5 ignores the MP4 edit list: ~1024 frames, 23 ms)
/// and every lossy codec may pad to its frame size, so lossy durations are tested within 50 ms.
/// Levels: the RMS of the middle 1.6 s within 0.5 dB of the source's, and left/right not mixed
/// up (left has more 440 Hz, right more 1 kHz).
#[test]
fn every_fixture_format_decodes_to_the_known_signal() {
    for (name, format, exact) in [
        ("tone.flac", "FLAC", true),
        ("tone.mp3", "MP3", false),
        ("tone.ogg", "Ogg Vorbis", false),
        ("tone.m4a", "AAC (M4A)", false),
    ] {
        for rate in [FIXTURE_RATE, 48_000] {
            let path = fixture(name);
            let decoded = load(&path, rate).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(decoded.format, format, "{name}");
            assert_eq!(decoded.sample_rate, rate, "{name}");
            assert_eq!(decoded.source_rate, FIXTURE_RATE, "{name}");
            assert_eq!(decoded.source_channels, 2, "{name}");
            assert_eq!(decoded.left.len(), decoded.right.len(), "{name}");
            assert_eq!(decoded.bytes(), 8 * decoded.frames());
            let seconds = decoded.frames() as f64 / f64::from(rate);
            let expected_frames = (FIXTURE_SECONDS * f64::from(rate)).round() as usize;
            if exact {
                assert_eq!(decoded.frames(), expected_frames, "{name} at {rate} Hz");
            } else {
                assert!(
                    (seconds - FIXTURE_SECONDS).abs() < 0.050,
                    "{name} at {rate} Hz: {seconds:.4} s, expected {FIXTURE_SECONDS} s ± 50 ms"
                );
            }
            let mid = (0.2 * f64::from(rate)) as usize..(1.8 * f64::from(rate)) as usize;
            for (side, channel) in [("left", &decoded.left), ("right", &decoded.right)] {
                let level = db(rms(&channel[mid.clone()]) / fixture_rms());
                println!("{name} at {rate} Hz, {side}: {seconds:.4} s, level error {level:+.3} dB");
                assert!(
                    level.abs() < 0.5,
                    "{name} {side}: level off by {level:.2} dB"
                );
            }
            let l440 = amplitude_at(&decoded.left[mid.clone()], rate, 440.0);
            let r440 = amplitude_at(&decoded.right[mid.clone()], rate, 440.0);
            let l1k = amplitude_at(&decoded.left[mid.clone()], rate, 1000.0);
            let r1k = amplitude_at(&decoded.right[mid.clone()], rate, 1000.0);
            assert!(
                (l440 - 0.15).abs() < 0.01
                    && (r440 - 0.10).abs() < 0.01
                    && (l1k - 0.10).abs() < 0.01
                    && (r1k - 0.15).abs() < 0.01,
                "{name}: channel content L {l440:.3}/{l1k:.3}, R {r440:.3}/{r1k:.3}"
            );
        }
    }
}

/// FLAC is lossless: the decoded samples are the 16-bit source (ffmpeg rounds to the nearest
/// step, so within one LSB of the computed signal). The content hash is FNV-1a 64 of the bytes,
/// pinned here so that it stays the same in every build (a regenerated fixture changes it: then
/// update the value together with the fixture's README).
#[test]
fn flac_is_lossless_and_the_content_hash_is_stable() {
    let path = fixture("tone.flac");
    let decoded = load(&path, FIXTURE_RATE).unwrap();
    let lsb = 1.0 / 32768.0;
    let mut worst = 0.0f64;
    for n in 0..decoded.frames() {
        let (l, r) = fixture_signal(n as f64 / f64::from(FIXTURE_RATE));
        worst = worst
            .max((f64::from(decoded.left[n]) - l).abs())
            .max((f64::from(decoded.right[n]) - r).abs());
        assert!(
            (f64::from(decoded.left[n]) * 32768.0).fract() == 0.0,
            "not on the 16-bit grid"
        );
    }
    assert!(worst <= lsb, "FLAC differs from the source by {worst}");
    assert_eq!(decoded.content_hash, content_hash_of_file(&path).unwrap());
    assert_eq!(decoded.content_hash, TONE_FLAC_FNV1A64);
    let mp3 = load(&fixture("tone.mp3"), FIXTURE_RATE).unwrap();
    assert_ne!(mp3.content_hash, decoded.content_hash);
}

/// FNV-1a 64 of `tests/fixtures/reference/tone.flac`.
const TONE_FLAC_FNV1A64: u64 = 13_816_374_313_597_037_403;

/// WAV (16, 24-bit integer, 32-bit float) and AIFF written here decode sample-exactly; a mono
/// file becomes two identical channels; at the file's own rate nothing is resampled (an exact
/// copy).
#[test]
fn wav_and_aiff_decode_exactly_and_mono_is_duplicated() {
    let dir = scratch_dir("pcm");
    let frames = 20_000;
    for (bits, float, format) in [
        (16u16, false, "WAV PCM 16-bit"),
        (24, false, "WAV PCM 24-bit"),
        (32, true, "WAV float 32-bit"),
    ] {
        let signal = fixture_channels(frames, 48_000, if float { 24 } else { u32::from(bits) });
        let path = dir.join(format!("tone{bits}.wav"));
        write_wav(&path, &signal, 48_000, bits, float);
        let decoded = load(&path, 48_000).unwrap();
        assert_eq!(decoded.format, format);
        assert_eq!(decoded.source_channels, 2);
        assert_eq!(decoded.left, signal[0], "{format}: left not exact");
        assert_eq!(decoded.right, signal[1], "{format}: right not exact");
    }

    let mono = fixture_channels(frames, 96_000, 24).swap_remove(0);
    let path = dir.join("mono.wav");
    write_wav(&path, std::slice::from_ref(&mono), 96_000, 24, false);
    let decoded = load(&path, 96_000).unwrap();
    assert_eq!(decoded.source_channels, 1);
    assert_eq!(decoded.left, mono);
    assert_eq!(decoded.right, mono);
    // Resampled, still two identical channels.
    let resampled = load(&path, 44_100).unwrap();
    assert_eq!(resampled.left, resampled.right);
    assert_eq!(resampled.frames(), 9188); // round(20000 * 44100 / 96000) = 9187.5 -> 9188

    let signal = fixture_channels(5000, 44_100, 16);
    let path = dir.join("tone.aiff");
    std::fs::write(&path, aiff_bytes(&signal, 44_100, 16, 0)).unwrap();
    let decoded = load(&path, 44_100).unwrap();
    assert_eq!(decoded.format, "AIFF PCM 16-bit");
    assert_eq!(
        (decoded.left, decoded.right),
        (signal[0].clone(), signal[1].clone())
    );
}

/// A 16-bit PCM WAV header + `frames` of silence, with any sample rate (hound refuses some).
fn wav_bytes_with_rate(rate: u32, channels: u16, frames: u32) -> Vec<u8> {
    let block = 2 * channels;
    let data_len = frames * u32::from(block);
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
    b.extend_from_slice(&block.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    b.resize(b.len() + data_len as usize, 0);
    b
}

/// The offline renderer shares the decoder but still reads only WAV, FLAC and AIFF: the FLAC
/// fixture loads there bit-identically to the reference path, the lossy ones are refused with
/// its usual message.
#[test]
fn the_offline_renderer_uses_the_same_decoder_and_keeps_its_formats() {
    let flac = read_audio_file(&fixture("tone.flac")).unwrap();
    let reference = load(&fixture("tone.flac"), FIXTURE_RATE).unwrap();
    assert_eq!(flac.sample_rate, FIXTURE_RATE);
    assert_eq!(flac.channels, vec![reference.left, reference.right]);
    for name in ["tone.mp3", "tone.ogg", "tone.m4a", "tone.opus"] {
        let path = fixture(name);
        let err = read_audio_file(&path).expect_err("lossy input accepted by the renderer");
        let text = err.to_string();
        assert!(
            text.contains("unsupported or unrecognised format")
                && text.contains("WAV, FLAC and AIFF"),
            "{text}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Resampling
// ------------------------------------------------------------------------------------------------

/// A 1 kHz sine at -6 dBFS, 44.1 kHz to 48 and 96 kHz: the fitted amplitude within 0.01 dB and
/// THD+N (everything but the fitted sine, relative to it) below -90 dB, measured over the middle
/// 2 s of 3 s (the edges of a sine switched on at full level ring, as they should).
#[test]
fn resampling_a_1khz_sine_keeps_its_amplitude_and_adds_nothing() {
    let from = 44_100;
    let input = sine(1000.0, 0.5, from, 3 * from as usize);
    for to in [48_000u32, 96_000] {
        let (left, right) = resample_stereo(&input, &input, from, to).unwrap();
        assert_eq!(left.len(), 3 * to as usize);
        assert_eq!(left, right);
        let mid = &left[(to / 2) as usize..(to / 2 * 5) as usize];
        let fit = fit_sine(mid, to, 1000.0);
        let amplitude_error = db(fit.amplitude / 0.5);
        let thd_n = db(fit.residual_rms / (fit.amplitude / 2f64.sqrt()));
        println!(
            "1 kHz 44.1 -> {} kHz: amplitude error {amplitude_error:+.5} dB, THD+N {thd_n:.1} dB",
            f64::from(to) / 1000.0
        );
        assert!(amplitude_error.abs() < 0.01, "{amplitude_error} dB");
        assert!(thd_n < -90.0, "THD+N {thd_n} dB");
    }
}

/// Passband flatness: a 10 kHz sine 44.1 -> 48 kHz keeps its level within 0.1 dB.
#[test]
fn resampling_is_flat_at_10khz() {
    let from = 44_100;
    let input = sine(10_000.0, 0.5, from, 2 * from as usize);
    let (left, _) = resample_stereo(&input, &input, from, 48_000).unwrap();
    let fit = fit_sine(&left[24_000..72_000], 48_000, 10_000.0);
    let error = db(fit.amplitude / 0.5);
    let thd_n = db(fit.residual_rms / (fit.amplitude / 2f64.sqrt()));
    println!("10 kHz 44.1 -> 48 kHz: amplitude error {error:+.5} dB, THD+N {thd_n:.1} dB");
    assert!(error.abs() < 0.1, "{error} dB");
}

/// A click at t stays at t: an impulse at input sample n lands at n·to/from in the output
/// (peak located to a fraction of a sample by a parabola through the three largest samples),
/// within 1 output sample, up and down in rate; the output length is round(frames·to/from).
#[test]
fn resampling_keeps_a_click_in_time_and_the_length_exact() {
    for (from, to) in [
        (44_100u32, 48_000u32),
        (44_100, 96_000),
        (48_000, 44_100),
        (96_000, 44_100),
        (44_100, 88_200),
    ] {
        let frames = from as usize + 12_345;
        for click in [0.25, 0.5123, 1.0] {
            let at = (click * f64::from(from)).round() as usize;
            let mut left = vec![0.0f32; frames];
            left[at] = 0.9;
            let right: Vec<f32> = left.iter().map(|x| -x).collect();
            let (out_l, out_r) = resample_stereo(&left, &right, from, to).unwrap();
            let expected_len =
                ((frames as u64 * u64::from(to) + u64::from(from) / 2) / u64::from(from)) as usize;
            assert_eq!(out_l.len(), expected_len, "{from} -> {to}");
            assert_eq!(out_r.len(), expected_len);
            let peak = (1..out_l.len() - 1)
                .max_by(|&a, &b| out_l[a].total_cmp(&out_l[b]))
                .unwrap();
            let (y0, y1, y2) = (
                f64::from(out_l[peak - 1]),
                f64::from(out_l[peak]),
                f64::from(out_l[peak + 1]),
            );
            let offset = 0.5 * (y0 - y2) / (y0 - 2.0 * y1 + y2);
            let found = peak as f64 + offset;
            let expected = at as f64 * f64::from(to) / f64::from(from);
            let error = found - expected;
            println!(
                "click {from} -> {to} at {:.4} s: error {error:+.4} output samples",
                at as f64 / f64::from(from)
            );
            assert!(error.abs() <= 1.0, "{from} -> {to}: off by {error} samples");
            assert!((out_r[peak] + out_l[peak]).abs() < 1e-6, "channels differ");
        }
    }
}

/// Same rate: the samples are copied, not filtered.
#[test]
fn equal_rates_are_an_exact_copy() {
    let left = sine(1234.5, 0.7, 48_000, 10_000);
    let right = sine(777.0, 0.3, 48_000, 10_000);
    let (l, r) = resample_stereo(&left, &right, 48_000, 48_000).unwrap();
    assert_eq!((l, r), (left.clone(), right.clone()));
    let dir = scratch_dir("copy");
    let path = dir.join("f.wav");
    write_wav(&path, &[left.clone(), right.clone()], 48_000, 32, true);
    let decoded = load(&path, 48_000).unwrap();
    assert_eq!((decoded.left, decoded.right), (left, right));
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

#[test]
fn missing_directory_empty_and_unreadable_files_are_named() {
    let dir = scratch_dir("files");
    let missing = dir.join("missing.flac");
    expect_error(&missing, load(&missing, 48_000), &["file not found"]);
    expect_error(&dir, load(&dir, 48_000), &["is a directory"]);
    let empty = dir.join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    expect_error(&empty, load(&empty, 48_000), &["empty (0 bytes)"]);

    let locked = dir.join("locked.flac");
    std::fs::copy(fixture("tone.flac"), &locked).unwrap();
    set_mode(&locked, 0o000);
    let result = load(&locked, 48_000);
    let readable_anyway = std::fs::File::open(&locked).is_ok();
    if readable_anyway {
        // Running as root (or with CAP_DAC_OVERRIDE): mode 000 does not stop reading, so the
        // file must load normally.
        let decoded = result.unwrap_or_else(|e| panic!("readable file refused: {e}"));
        assert_eq!(decoded.frames(), 96_000);
    } else {
        expect_error(&locked, result, &["permission denied"]);
    }
    set_mode(&locked, 0o644);
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(path: &Path, mode: u32) {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    permissions.set_readonly(mode & 0o200 == 0);
    std::fs::set_permissions(path, permissions).unwrap();
}

#[test]
fn unrecognised_unsupported_and_out_of_range_streams_are_refused() {
    let dir = scratch_dir("streams");
    let garbage = dir.join("garbage.flac");
    std::fs::write(
        &garbage,
        "not audio at all, only text pretending to be FLAC. ".repeat(40),
    )
    .unwrap();
    expect_error(
        &garbage,
        load(&garbage, 48_000),
        &["not a recognised audio format"],
    );

    let opus = fixture("tone.opus");
    expect_error(&opus, load(&opus, 48_000), &["unsupported codec", "Opus"]);

    let surround = dir.join("surround.wav");
    let six: Vec<Vec<f32>> = (0..6).map(|_| vec![0.1; 1000]).collect();
    write_wav(&surround, &six, 48_000, 16, false);
    expect_error(
        &surround,
        load(&surround, 48_000),
        &["6 channels", "mono or stereo"],
    );

    let zero = dir.join("zero-frames.wav");
    write_wav(&zero, &[vec![], vec![]], 48_000, 16, false);
    expect_error(&zero, load(&zero, 48_000), &["no audio"]);

    for (rate, says) in [
        (0u32, "0 Hz"),
        (4_000, "4000 Hz is outside"),
        (1_000_000, "1000000 Hz is outside"),
    ] {
        let path = dir.join(format!("rate{rate}.wav"));
        std::fs::write(&path, wav_bytes_with_rate(rate, 2, 100)).unwrap();
        expect_error(&path, load(&path, 48_000), &[says]);
        let aiff = dir.join(format!("rate{rate}.aiff"));
        std::fs::write(&aiff, aiff_bytes(&[vec![0.0; 100]], rate, 16, 0)).unwrap();
        expect_error(&aiff, load(&aiff, 48_000), &[says]);
    }
    // A session rate out of range is refused as well (before the file is read).
    let ok = fixture("tone.flac");
    expect_error(&ok, load(&ok, 1000), &["session rate"]);
}

/// Files cut short say so, and where the audio breaks off.
#[test]
fn truncated_files_say_where_they_break_off() {
    let dir = scratch_dir("truncated");
    let cut = |name: &str, keep: f64| -> PathBuf {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let path = dir.join(format!("cut-{name}"));
        std::fs::write(&path, &bytes[..(bytes.len() as f64 * keep) as usize]).unwrap();
        path
    };
    // Where 60 % of the bytes ends in the audio: FLAC and MP3 headers are small, so near
    // 1.2 s; the Ogg file spends 4.3 of its 12.2 kB on the Vorbis setup headers, so 60 % of
    // the bytes is 38 % of its audio pages, 0.76 s (less the page being cut).
    for (name, near) in [
        ("tone.flac", 0.9..1.4),
        ("tone.mp3", 0.9..1.4),
        ("tone.ogg", 0.5..0.9),
    ] {
        let path = cut(name, 0.6);
        let text = expect_error(&path, load(&path, 48_000), &["truncated", "breaks off"]);
        println!("{text}");
        let at = seconds_in(&text);
        assert!(
            near.contains(&at),
            "{name} cut at 60 %: should break off in {near:?} s, says {at} s"
        );
    }
    // The M4A's index is at its end (ffmpeg's default): cutting it leaves no readable index.
    let m4a = cut("tone.m4a", 0.6);
    expect_error(&m4a, load(&m4a, 48_000), &[]);

    let wav = dir.join("truncated.wav");
    write_wav(
        &wav,
        &fixture_channels(48_000, 48_000, 16),
        48_000,
        16,
        false,
    );
    let bytes = std::fs::read(&wav).unwrap();
    std::fs::write(&wav, &bytes[..bytes.len() / 2]).unwrap();
    let text = expect_error(&wav, load(&wav, 48_000), &["truncated", "48000 frames"]);
    let at = seconds_in(&text);
    assert!((0.45..0.55).contains(&at), "{text}");

    let aiff = dir.join("truncated.aiff");
    std::fs::write(
        &aiff,
        aiff_bytes(&fixture_channels(4000, 48_000, 16), 48_000, 16, 4000),
    )
    .unwrap();
    expect_error(&aiff, load(&aiff, 48_000), &["truncated"]);
}

/// The last "at N s" / "off after N, at N s" number of an error message.
fn seconds_in(text: &str) -> f64 {
    let at = text.rfind(" at ").expect("no position in the message");
    let tail = &text[at + 4..];
    let number: String = tail
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .parse()
        .unwrap_or_else(|_| panic!("no seconds in '{text}'"))
}

/// The budget is checked before decoding from the header's length, and during decoding for a
/// header that lies or says nothing.
#[test]
fn the_memory_budget_is_enforced_even_against_lying_headers() {
    let dir = scratch_dir("budget");
    let flac = fixture("tone.flac");
    // 2 s of stereo at 48 kHz is 750 KiB; 100 KiB is not enough.
    let text = expect_error(
        &flac,
        decode_reference(&flac, 48_000, 100 * 1024),
        &["MiB", "1 GiB", "0.1 MiB"],
    );
    assert!(
        text.contains("0.7 MiB"),
        "should say 0.7 MiB are needed: {text}"
    );
    assert!(decode_reference(&flac, 48_000, 800 * 1024).is_ok());
    // More than the cap is the cap.
    assert!(decode_reference(&flac, 48_000, usize::MAX).is_ok());

    let bytes = std::fs::read(&flac).unwrap();
    // STREAMINFO's 36-bit total-samples field (bytes 21-25 after the "fLaC" marker and block
    // header): 0 means "unknown", 1000 is a lie.
    let with_total = |total: u64| -> Vec<u8> {
        let mut b = bytes.clone();
        b[21] = (b[21] & 0xf0) | ((total >> 32) as u8 & 0x0f);
        b[22..26].copy_from_slice(&(total as u32).to_be_bytes());
        b
    };
    let unknown = dir.join("unknown-length.flac");
    std::fs::write(&unknown, with_total(0)).unwrap();
    let decoded = load(&unknown, FIXTURE_RATE).unwrap();
    assert_eq!(decoded.frames(), 88_200, "unknown length decodes in full");
    expect_error(
        &unknown,
        decode_reference(&unknown, FIXTURE_RATE, 200 * 1024),
        &["needs more than", "decoding stopped at", "1 GiB"],
    );

    let lying = dir.join("lying.flac");
    std::fs::write(&lying, with_total(1000)).unwrap();
    let text = expect_error(
        &lying,
        decode_reference(&lying, FIXTURE_RATE, 200 * 1024),
        &["more audio than its header announces", "0.2 MiB"],
    );
    let stopped = seconds_in(&text.replace("stopped at", "at"));
    assert!(stopped < 0.7, "decoding went on to {stopped} s: {text}");
}

/// No input makes the decoder panic: every fixture cut at many lengths, with bytes flipped,
/// and garbage under every extension either decodes or gives an error.
#[test]
fn no_input_panics() {
    let dir = scratch_dir("fuzz");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut cases = 0;
    let mut outcome = |path: &Path| {
        cases += 1;
        match load(path, 48_000) {
            Ok(d) => assert_eq!(d.left.len(), d.right.len()),
            Err(e) => {
                assert_eq!(e.path, path);
                assert!(!e.reason.is_empty());
            }
        }
    };
    for name in ["tone.flac", "tone.mp3", "tone.ogg", "tone.m4a", "tone.opus"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let path = dir.join(name);
        for keep in [1, 4, 11, 12, 40, 100, 300, 1000, 4096] {
            std::fs::write(&path, &bytes[..keep.min(bytes.len())]).unwrap();
            outcome(&path);
        }
        for _ in 0..6 {
            let keep = (random() as usize) % bytes.len();
            std::fs::write(&path, &bytes[..keep]).unwrap();
            outcome(&path);
        }
        for _ in 0..6 {
            let mut damaged = bytes.clone();
            for _ in 0..20 {
                let at = (random() as usize) % damaged.len();
                damaged[at] ^= 1 << (random() % 8);
            }
            std::fs::write(&path, &damaged).unwrap();
            outcome(&path);
        }
    }
    for ext in ["wav", "aiff", "flac", "mp3", "ogg", "m4a", "aac", "bin"] {
        for len in [1usize, 3, 64, 1000, 20_000] {
            let garbage: Vec<u8> = (0..len).map(|_| random() as u8).collect();
            let path = dir.join(format!("garbage-{len}.{ext}"));
            std::fs::write(&path, &garbage).unwrap();
            outcome(&path);
        }
    }
    // Headers that promise absurd sizes.
    let path = dir.join("huge.wav");
    let mut wav = wav_bytes_with_rate(48_000, 2, 100);
    wav[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &wav).unwrap();
    outcome(&path);
    println!("{cases} damaged inputs, no panic");
}
