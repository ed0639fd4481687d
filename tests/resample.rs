//! Resampler quality for CD delivery (`resample_stereo` in `src/reference/decode.rs`): a master
//! made at 48, 88.2, 96 or 22.05 kHz is converted to 44.1 kHz for the Red Book image, and the
//! conversion must be inaudible: THD+N of a 1 kHz sine at -1 dBFS at or below -100 dB (measured
//! in the audio band, 20 Hz-20 kHz), and a passband flat within ±0.1 dB from 20 Hz to 20 kHz
//! (to 10 kHz when upsampling from 22.05 kHz, whose own Nyquist frequency is 11.025 kHz).
//!
//! Measurement: the output is analysed away from its edges (a sine switched on at full level
//! rings through the anti-aliasing filter, as it should); a sine and a cosine at the known
//! frequency are fitted by least squares, which gives the amplitude, the phase (so the time
//! alignment) and a residual that is everything the resampler added. The residual's energy in
//! 20 Hz-20 kHz is taken from its spectrum (Parseval) and related to the fitted fundamental's.

mod common;

use std::f64::consts::PI;

use fairmaster::reference::decode::resample_stereo;
use realfft::RealFftPlanner;

/// -1 dBFS, the level the brief asks for: close to full scale, where a resampler's overshoot
/// or arithmetic would first show.
const LEVEL_DBFS: f64 = -1.0;

/// Length of every test signal. 1 s gives 20 cycles at 20 Hz for the fit after the edges are cut.
const SIGNAL_SECONDS: f64 = 1.0;

/// Cut from each end of the output before analysis. The longest filter here (22.05 kHz in,
/// a block of 2048+ input frames) reaches ~0.1 s; 0.15 s leaves margin.
const EDGE_SECONDS: f64 = 0.15;

const AUDIO_BAND_HZ: (f64, f64) = (20.0, 20_000.0);

fn amplitude() -> f64 {
    10f64.powf(LEVEL_DBFS / 20.0)
}

fn sine(frequency: f64, amplitude: f64, rate: u32, frames: usize) -> Vec<f32> {
    common::signals::sine_f64(frames, frequency, f64::from(rate), amplitude, 0.0)
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// What one sine through the resampler came out as.
struct Measured {
    /// Output amplitude / input amplitude, in dB.
    gain_db: f64,
    /// Residual energy in 20 Hz-20 kHz relative to the fundamental's, in dB.
    thd_n_db: f64,
    /// Where the output sine is relative to the input one, in output samples (positive: late).
    delay_samples: f64,
}

/// Resamples a sine at `frequency` from `from` to `to` and measures the output. The fit uses
/// the absolute output sample index `n`, so `t = n / to` is the same time axis as the input's
/// `n / from`: a resampler that keeps time alignment gives the input's phase (0, a pure sine).
fn measure(frequency: f64, from: u32, to: u32) -> Measured {
    let frames = (SIGNAL_SECONDS * f64::from(from)) as usize;
    let input = sine(frequency, amplitude(), from, frames);
    let (left, right) = resample_stereo(&input, &input, from, to).unwrap();
    assert_eq!(
        left, right,
        "{from} -> {to}: identical channels must stay identical"
    );
    analyse(&left, to, frequency, amplitude())
}

/// Fits the sine at `frequency` in `output` (at `rate`, edges cut) and measures it against the
/// `expected_amplitude`.
fn analyse(output: &[f32], rate: u32, frequency: f64, expected_amplitude: f64) -> Measured {
    let left = output;
    let to = rate;
    let edge = (EDGE_SECONDS * f64::from(to)) as usize;
    let start = edge;
    let end = left.len() - edge;
    let omega = 2.0 * PI * frequency / f64::from(to);

    // Least squares for y = a sin(ωn) + b cos(ωn) over [start, end): the 2x2 normal equations.
    let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, &y) in left.iter().enumerate().take(end).skip(start) {
        let (s, c) = (omega * n as f64).sin_cos();
        let y = f64::from(y);
        ss += s * s;
        sc += s * c;
        cc += c * c;
        ys += y * s;
        yc += y * c;
    }
    let det = ss * cc - sc * sc;
    let a = (ys * cc - yc * sc) / det;
    let b = (yc * ss - ys * sc) / det;
    let fitted_amplitude = a.hypot(b);
    // a sin + b cos = A sin(ωn + φ), φ = atan2(b, a); a delay of d samples is φ = -ω d.
    let phase = b.atan2(a);
    let delay_samples = -phase / omega;

    let residual: Vec<f64> = (start..end)
        .map(|n| {
            let (s, c) = (omega * n as f64).sin_cos();
            f64::from(left[n]) - (a * s + b * c)
        })
        .collect();
    let residual_energy: f64 = residual.iter().map(|r| r * r).sum();
    let in_band_fraction = band_energy_fraction(&residual, to, AUDIO_BAND_HZ);
    let fundamental_energy = residual.len() as f64 * fitted_amplitude * fitted_amplitude / 2.0;
    Measured {
        gain_db: db(fitted_amplitude / expected_amplitude),
        thd_n_db: 10.0 * (residual_energy * in_band_fraction / fundamental_energy).log10(),
        delay_samples,
    }
}

/// The share of a signal's energy whose frequency lies in `band` (Hz), from its spectrum. No
/// window: the residual is broadband noise and distortion, with no strong tone to leak.
fn band_energy_fraction(signal: &[f64], rate: u32, band: (f64, f64)) -> f64 {
    let mut buffer = signal.to_vec();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(buffer.len());
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut buffer, &mut spectrum).unwrap();
    let bin_hz = f64::from(rate) / signal.len() as f64;
    // One-sided spectrum: every bin but DC and (for an even length) Nyquist stands for two.
    let last = spectrum.len() - 1;
    let weight = |k: usize| {
        if k == 0 || (k == last && signal.len().is_multiple_of(2)) {
            1.0
        } else {
            2.0
        }
    };
    let (mut total, mut in_band) = (0.0, 0.0);
    for (k, bin) in spectrum.iter().enumerate() {
        let energy = weight(k) * bin.norm_sqr();
        total += energy;
        let f = k as f64 * bin_hz;
        if f >= band.0 && f <= band.1 {
            in_band += energy;
        }
    }
    if total == 0.0 {
        0.0
    } else {
        in_band / total
    }
}

/// The passband frequencies checked for a rate pair: 20 Hz to 20 kHz, or to 10 kHz when the
/// source is 22.05 kHz (it holds nothing above 11.025 kHz).
fn passband_frequencies(from: u32) -> &'static [f64] {
    if from < 44_100 {
        &[20.0, 100.0, 1_000.0, 5_000.0, 8_000.0, 10_000.0]
    } else {
        &[
            20.0, 100.0, 1_000.0, 5_000.0, 10_000.0, 15_000.0, 18_000.0, 20_000.0,
        ]
    }
}

const RATE_PAIRS: [(u32, u32); 5] = [
    (48_000, 44_100),
    (96_000, 44_100),
    (88_200, 44_100),
    (22_050, 44_100),
    (384_000, 192_000),
];

/// 1 kHz at -1 dBFS keeps THD+N at or below -100 dB in 20 Hz-20 kHz, and stays in time (within
/// one output sample, the resampler's alignment contract), for every rate pair, above all
/// 48 -> 44.1 kHz.
#[test]
fn a_1khz_sine_at_minus_1_dbfs_keeps_thd_n_at_or_below_minus_100_db() {
    for (from, to) in RATE_PAIRS {
        let measured = measure(1_000.0, from, to);
        println!(
            "1 kHz {from} -> {to} Hz: THD+N {:.1} dB, gain {:+.5} dB, delay {:+.3} output samples",
            measured.thd_n_db, measured.gain_db, measured.delay_samples
        );
        assert!(
            measured.thd_n_db <= -100.0,
            "{from} -> {to} Hz: THD+N {:.1} dB is above -100 dB",
            measured.thd_n_db
        );
        assert!(
            measured.delay_samples.abs() <= 1.0,
            "{from} -> {to} Hz: the output is {:+.3} samples off in time",
            measured.delay_samples
        );
    }
}

/// The passband is flat within ±0.1 dB at every checked frequency of every rate pair.
#[test]
fn the_passband_is_flat_within_a_tenth_of_a_db() {
    let mut failures = Vec::new();
    for (from, to) in RATE_PAIRS {
        for &frequency in passband_frequencies(from) {
            let measured = measure(frequency, from, to);
            println!(
                "{frequency:>6} Hz {from} -> {to} Hz: gain {:+.5} dB, THD+N {:.1} dB",
                measured.gain_db, measured.thd_n_db
            );
            if measured.gain_db.abs() > 0.1 {
                failures.push(format!(
                    "{frequency} Hz {from} -> {to} Hz: {:+.4} dB",
                    measured.gain_db
                ));
            }
        }
    }
    assert!(failures.is_empty(), "outside ±0.1 dB: {failures:?}");
}

/// The meter itself: a sine with a known 3rd harmonic at -90 dB and a tone at 21 kHz (outside
/// the audio band) measures -90 dB THD+N, within 0.1 dB; a pure f32 sine measures far below
/// -100 dB, so the figures above are the resampler's and not the meter's floor.
#[test]
fn the_thd_n_meter_reads_a_known_harmonic_and_ignores_out_of_band_energy() {
    let rate = 44_100;
    let frames = rate as usize;
    let harmonic = amplitude() * 10f64.powf(-90.0 / 20.0);
    let signal: Vec<f32> = (0..frames)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            (amplitude() * (2.0 * PI * 1_000.0 * t).sin()
                + harmonic * (2.0 * PI * 3_000.0 * t).sin()
                + 0.01 * (2.0 * PI * 21_000.0 * t).sin()) as f32
        })
        .collect();
    let measured = analyse(&signal, rate, 1_000.0, amplitude());
    println!(
        "meter: known -90 dB harmonic reads {:.2} dB",
        measured.thd_n_db
    );
    assert!(
        (measured.thd_n_db + 90.0).abs() < 0.1,
        "{}",
        measured.thd_n_db
    );
    assert!(measured.gain_db.abs() < 1e-4 && measured.delay_samples.abs() < 1e-3);
    let pure = sine(1_000.0, amplitude(), rate, frames);
    let floor = analyse(&pure, rate, 1_000.0, amplitude()).thd_n_db;
    println!("meter: a pure f32 sine reads {floor:.1} dB");
    assert!(floor < -120.0, "{floor}");
}

/// Anti-aliasing: a tone above 24.1 kHz in a 96 or 88.2 kHz master would fold back to below
/// 20 kHz at 44.1 kHz (44.1 kHz - f). The resampler must remove it: what lands in the audio
/// band is at least 100 dB below the tone.
#[test]
fn tones_that_would_alias_into_the_audio_band_are_removed() {
    for from in [96_000u32, 88_200] {
        for frequency in [24_100.0, 26_000.0, 30_000.0, 40_000.0] {
            let frames = (SIGNAL_SECONDS * f64::from(from)) as usize;
            let input = sine(frequency, amplitude(), from, frames);
            let (left, _) = resample_stereo(&input, &input, from, 44_100).unwrap();
            let edge = (EDGE_SECONDS * 44_100.0) as usize;
            let middle: Vec<f64> = left[edge..left.len() - edge]
                .iter()
                .map(|&x| f64::from(x))
                .collect();
            let energy: f64 = middle.iter().map(|x| x * x).sum();
            let in_band = energy * band_energy_fraction(&middle, 44_100, AUDIO_BAND_HZ);
            let tone_energy = middle.len() as f64 * amplitude() * amplitude() / 2.0;
            let alias_db = 10.0 * (in_band / tone_energy).log10();
            println!("{frequency} Hz at {from} Hz -> 44100 Hz: in-band alias {alias_db:.1} dB");
            assert!(
                alias_db <= -100.0,
                "{frequency} Hz {from} -> 44100 Hz: alias at {alias_db:.1} dB"
            );
        }
    }
}
