//! The limiter's characters (issue 27 item 3), measured from outside: THD+N of a 1 kHz tone and
//! SMPTE intermodulation (60 Hz + 7 kHz, 4:1), both with the input's peaks 6 dB over the
//! ceiling, and on real music at +9 dB drive into -1 dBTP the integrated loudness (by the
//! independent `ebur128` crate) and the output's true peak (by the independent reference meter,
//! `tools/true-peak-reference`). Asserts that every character holds the ceiling and that every
//! pair of characters differs clearly in at least one figure; prints the README's table rows:
//!
//! `FAIRMASTER_REAL_MUSIC=target/test-data cargo test --test limiter_characters -- --nocapture`

mod common;

use std::f64::consts::PI;

use common::loudness::ebur128_stereo;
use common::real_music;
use common::reference_true_peak::reference_true_peak_dbtp;
use fairmaster::dsp::dynamics::limiter::{Limiter, LimiterCharacter, LimiterSettings};

const TONE_RATE: f64 = 48_000.0;
/// Music runs at the recordings' own rate (no resampler in the measurement).
const MUSIC_RATE: u32 = 44_100;
const MUSIC_DRIVE_DB: f32 = 9.0;
const MUSIC_CEILING_DBTP: f32 = -1.0;
/// The limiter's promise (the torture tests' bound), by the reference meter here.
const CEILING_TOLERANCE_DB: f32 = 0.1;
/// What counts as a clear difference between two characters.
const LOUDNESS_MARGIN_LU: f64 = 0.3;
const DISTORTION_RATIO: f64 = 2.0;

fn limiter(character: LimiterCharacter, drive_db: f32, ceiling_db: f32, rate: f32) -> Limiter {
    let mut limiter = Limiter::new(rate);
    limiter.set(&LimiterSettings {
        drive_db,
        ceiling_db,
        character,
        ..LimiterSettings::default()
    });
    limiter.reset(rate);
    limiter
}

/// The stereo pair through `limiter` in 512-frame blocks, with the latency removed (the
/// input is followed by that many zeros so its end comes out too).
fn process(limiter: &mut Limiter, left: &[f32], right: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let latency = limiter.latency_samples() as usize;
    let pad = |x: &[f32]| -> Vec<f32> { x.iter().copied().chain(vec![0.0; latency]).collect() };
    let (mut l, mut r) = (pad(left), pad(right));
    for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        limiter.process(a, b);
    }
    (l.split_off(latency), r.split_off(latency))
}

fn tone(parts: &[(f64, f64)], len: usize) -> Vec<f32> {
    (0..len)
        .map(|n| {
            let t = n as f64 / TONE_RATE;
            parts
                .iter()
                .map(|&(freq, amp)| amp * (2.0 * PI * freq * t).sin())
                .sum::<f64>() as f32
        })
        .collect()
}

/// Amplitude of the component at `freq` over a window holding whole periods of it (a DFT bin
/// without leakage; every frequency here is a multiple of 20 Hz and the windows last
/// multiples of 50 ms).
fn amplitude(x: &[f32], freq: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in x.iter().enumerate() {
        let w = 2.0 * PI * freq * n as f64 / TONE_RATE;
        re += f64::from(v) * w.cos();
        im += f64::from(v) * w.sin();
    }
    2.0 * (re * re + im * im).sqrt() / x.len() as f64
}

/// THD+N in percent: everything but the fundamental relative to the fundamental. The
/// fundamental (and DC) is notched by a least-squares fit of `a sin + b cos + c` at `freq`;
/// the residual's RMS over the fitted fundamental's RMS. Over whole periods the three basis
/// functions are orthogonal, so the fit is the projection onto each.
fn thd_plus_n_percent(x: &[f32], freq: f64) -> f64 {
    let len = x.len() as f64;
    let (mut s, mut c, mut dc) = (0.0, 0.0, 0.0);
    for (n, &v) in x.iter().enumerate() {
        let w = 2.0 * PI * freq * n as f64 / TONE_RATE;
        s += f64::from(v) * w.sin();
        c += f64::from(v) * w.cos();
        dc += f64::from(v);
    }
    let (a, b, dc) = (2.0 * s / len, 2.0 * c / len, dc / len);
    let residual: f64 = x
        .iter()
        .enumerate()
        .map(|(n, &v)| {
            let w = 2.0 * PI * freq * n as f64 / TONE_RATE;
            let e = f64::from(v) - a * w.sin() - b * w.cos() - dc;
            e * e
        })
        .sum::<f64>()
        / len;
    let fundamental = (a * a + b * b) / 2.0;
    100.0 * (residual / fundamental).sqrt()
}

/// Sidebands of the 7 kHz carrier summed: 7 kHz +- k 60 Hz, k = 1..=SIDEBAND_ORDERS.
const SIDEBAND_ORDERS: usize = 5;

/// SMPTE RP120-style IMD in percent: the RMS sum of the 7 kHz carrier's sidebands at
/// 7000 +- k 60 Hz (k = 1..=5) over the carrier's amplitude.
fn smpte_imd_percent(x: &[f32]) -> f64 {
    let carrier = amplitude(x, 7000.0);
    let sidebands: f64 = (1..=SIDEBAND_ORDERS)
        .flat_map(|k| [7000.0 - 60.0 * k as f64, 7000.0 + 60.0 * k as f64])
        .map(|f| amplitude(x, f).powi(2))
        .sum();
    100.0 * sidebands.sqrt() / carrier
}

/// Input peaks 6 dB over the ceiling: -6 dBFS peaks, +6 dB drive, -6 dBTP ceiling (what
/// `limiter_tests.rs` calls 6 dB of gain reduction). One second to settle (the auto release's
/// sustain measure), then half a second measured.
fn steady_output(character: LimiterCharacter, parts: &[(f64, f64)]) -> Vec<f32> {
    let settle = TONE_RATE as usize;
    let window = TONE_RATE as usize / 2;
    let x = tone(parts, settle + window);
    let mut limiter = limiter(character, 6.0, -6.0, TONE_RATE as f32);
    let (out, _) = process(&mut limiter, &x, &x);
    out[settle..settle + window].to_vec()
}

struct Figures {
    thd_n_percent: f64,
    imd_percent: f64,
    /// Per song: (integrated loudness LUFS, reference true peak dBTP).
    music: Vec<(f64, f32)>,
}

const SONGS: [(&str, &str, f64); 2] = [
    // (package helper, song, excerpt start in s); 30 s of each.
    ("pushover", "mechanic", 30.0),
    ("muldjord", "armygeddon", 30.0),
];
const EXCERPT_SECONDS: f64 = 30.0;

fn song(which: &str, name: &str, start: f64) -> Option<(Vec<f32>, Vec<f32>)> {
    let path = match which {
        "pushover" => real_music::pushover(name),
        _ => real_music::muldjord(name),
    }?;
    Some(real_music::excerpt(
        &path,
        MUSIC_RATE,
        start,
        EXCERPT_SECONDS,
    ))
}

#[test]
fn characters_hold_the_ceiling_and_differ_measurably() {
    let songs: Vec<_> = SONGS
        .iter()
        .filter_map(|&(which, name, start)| song(which, name, start).map(|s| (name, s)))
        .collect();
    let mut table = Vec::new();
    for character in LimiterCharacter::ALL {
        let thd_n_percent = thd_plus_n_percent(&steady_output(character, &[(1000.0, 0.5)]), 1000.0);
        let imd_percent =
            smpte_imd_percent(&steady_output(character, &[(60.0, 0.4), (7000.0, 0.1)]));
        let mut music = Vec::new();
        for (name, (left, right)) in &songs {
            let mut limiter = limiter(
                character,
                MUSIC_DRIVE_DB,
                MUSIC_CEILING_DBTP,
                MUSIC_RATE as f32,
            );
            let (l, r) = process(&mut limiter, left, right);
            let lufs = ebur128_stereo(&l, &r, MUSIC_RATE);
            let peak = reference_true_peak_dbtp(&[&l, &r]);
            assert!(
                peak <= MUSIC_CEILING_DBTP + CEILING_TOLERANCE_DB,
                "{character:?} on {name}: {peak} dBTP (reference meter) over the ceiling"
            );
            music.push((lufs, peak));
        }
        table.push((
            character,
            Figures {
                thd_n_percent,
                imd_percent,
                music,
            },
        ));
    }

    eprintln!(
        "THD+N 1 kHz and SMPTE IMD (60 Hz + 7 kHz 4:1, sidebands +-60..300 Hz) at 48 kHz, input \
         peaks 6 dB over a -6 dBTP ceiling; music: {EXCERPT_SECONDS} s excerpts at {MUSIC_RATE} Hz, \
         +{MUSIC_DRIVE_DB} dB drive, {MUSIC_CEILING_DBTP} dBTP ceiling, 100 ms auto release, 1.5 ms \
         lookahead"
    );
    for (name, (left, right)) in &songs {
        eprintln!(
            "  {name} as decoded: {:.2} LUFS, {:.2} dBTP",
            ebur128_stereo(left, right, MUSIC_RATE),
            reference_true_peak_dbtp(&[left, right])
        );
    }
    let header: String = songs
        .iter()
        .map(|(name, _)| format!(" {name} loudness | {name} true peak |"))
        .collect();
    eprintln!("| Character | THD+N 1 kHz | SMPTE IMD |{header}");
    for (character, f) in &table {
        let music: String = f
            .music
            .iter()
            .map(|(lufs, peak)| format!(" {lufs:.2} LUFS | {peak:.2} dBTP |"))
            .collect();
        eprintln!(
            "| {character:?} | {:.4} % | {:.4} % |{music}",
            f.thd_n_percent, f.imd_percent
        );
    }

    // What each character is for: Punchy and Dense are louder than Transparent on every
    // song; Transparent distorts least.
    let figures = |c: LimiterCharacter| &table.iter().find(|(t, _)| *t == c).unwrap().1;
    let transparent = figures(LimiterCharacter::Transparent);
    for character in [LimiterCharacter::Punchy, LimiterCharacter::Dense] {
        let f = figures(character);
        for ((name, _), ((lufs, _), (reference, _))) in
            songs.iter().zip(f.music.iter().zip(&transparent.music))
        {
            assert!(
                lufs - reference > LOUDNESS_MARGIN_LU,
                "{character:?} on {name}: {lufs} LUFS, Transparent {reference} LUFS"
            );
        }
        assert!(
            f.thd_n_percent >= transparent.thd_n_percent && f.imd_percent > transparent.imd_percent,
            "{character:?} distorts less than Transparent"
        );
    }

    // Every pair differs clearly in at least one figure.
    for (i, (a, fa)) in table.iter().enumerate() {
        for (b, fb) in &table[i + 1..] {
            let ratio = |x: f64, y: f64| x.max(y) / x.min(y).max(1e-9);
            let loudness = fa
                .music
                .iter()
                .zip(&fb.music)
                .map(|((x, _), (y, _))| (x - y).abs())
                .fold(0.0, f64::max);
            let thd = ratio(fa.thd_n_percent, fb.thd_n_percent);
            let imd = ratio(fa.imd_percent, fb.imd_percent);
            eprintln!("{a:?} vs {b:?}: loudness {loudness:.2} LU, THD+N x{thd:.1}, IMD x{imd:.1}");
            assert!(
                loudness > LOUDNESS_MARGIN_LU || thd > DISTORTION_RATIO || imd > DISTORTION_RATIO,
                "{a:?} and {b:?} measure alike: loudness {loudness} LU apart, THD+N x{thd}, IMD x{imd}"
            );
        }
    }
}
