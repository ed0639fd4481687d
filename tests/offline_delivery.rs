//! Issue 14, offline delivery: the Red Book CD target, input rates outside the chain's range,
//! the dynamics verdict and `--preserve-dynamics`, and mastering toward a reference
//! (`--target reference`, `--match-eq`). Loudness is checked by the independent `ebur128`
//! crate, true peak by the independent 16x reference meter, the written files by `hound`.

mod common;

use std::path::{Path, PathBuf};

use common::reference_true_peak::reference_true_peak_dbtp;
use common::signals::pink_noise;
use fairmaster::analysis::tonal::analyse_stereo;
use fairmaster::offline::audio_io::{write_wav_atomic, OutputFormat};
use fairmaster::offline::cli::{parse_args, run, Command};
use fairmaster::offline::report::RunReport;
use fairmaster::offline::Audio;
use fairmaster::reference::decode::{decode_reference, MAX_REFERENCE_BYTES};
use fairmaster::reference::track::ReferenceTrack;

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("offline-delivery", test)
}

fn job(args: &[&str]) -> RunReport {
    let mut list: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    list.push("--quiet".into());
    let Command::Render(options) = parse_args(&list).unwrap() else {
        panic!("not a render")
    };
    run(&options).unwrap()
}

fn write(path: &Path, audio: &Audio) {
    write_wav_atomic(path, audio, OutputFormat::Float32, true).unwrap();
}

/// Reads a WAV with `hound` (not the renderer's decoder): rate, bits and the samples as floats.
fn read_wav(path: &Path) -> (hound::WavSpec, Vec<Vec<f32>>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let channels = spec.channels as usize;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.unwrap() as f32 * scale)
                .collect()
        }
    };
    let planar = (0..channels)
        .map(|c| samples.iter().skip(c).step_by(channels).copied().collect())
        .collect();
    (spec, planar)
}

fn ebur128_integrated(channels: &[Vec<f32>], rate: u32) -> f64 {
    let planes: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    common::loudness::ebur128_integrated(&planes, rate)
}

fn true_peak(channels: &[Vec<f32>]) -> f32 {
    let planes: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    reference_true_peak_dbtp(&planes)
}

/// Orchestral-like dynamics: a pink-noise "orchestra" (two partly correlated channels) that
/// swells from pianissimo (-40 dBFS RMS) to fortissimo (-14 dBFS RMS) and back, with timpani
/// strokes (decaying 65 Hz bursts) every 2 s: a PLR around 18 dB, as a classical mix has.
fn orchestral_mix(rate: u32, seconds: f64) -> Audio {
    let n = (seconds * f64::from(rate)) as usize;
    let common = pink_noise(n, 11, -20.0);
    let a = pink_noise(n, 12, -20.0);
    let b = pink_noise(n, 13, -20.0);
    let fs = f64::from(rate);
    let envelope = |i: usize| {
        let t = i as f64 / fs / seconds; // 0..1
        let swell = (std::f64::consts::PI * t).sin().powi(2); // 0 -> 1 -> 0
        let db = -20.0 + 26.0 * swell - 6.0; // -26 .. 0 around the -20 dBFS noise
        10f64.powf(db / 20.0) as f32
    };
    let timpani = |i: usize| {
        let t = i as f64 / fs;
        let since = t % 2.0;
        (0.5 * (-since * 6.0).exp() * (std::f64::consts::TAU * 65.0 * since).sin()) as f32
    };
    let left = (0..n)
        .map(|i| envelope(i) * (0.8 * common[i] + 0.6 * a[i]) + timpani(i))
        .collect();
    let right = (0..n)
        .map(|i| envelope(i) * (0.8 * common[i] + 0.6 * b[i]) + timpani(i))
        .collect();
    Audio {
        sample_rate: rate,
        channels: vec![left, right],
    }
}

/// A steady pop-like mix: pink noise (-20 dBFS RMS) with a kick every 0.5 s, stereo, the
/// whole programme scaled by `gain_db`.
fn steady_mix(rate: u32, seconds: f64, seed: u64, gain_db: f32) -> Audio {
    let n = (seconds * f64::from(rate)) as usize;
    let fs = f64::from(rate);
    let g = 10f32.powf(gain_db / 20.0);
    let mut channels = Vec::new();
    for c in 0..2 {
        let noise = pink_noise(n, seed + c, -20.0);
        channels.push(
            (0..n)
                .map(|i| {
                    let since = (i as f64 / fs) % 0.5;
                    let kick =
                        0.3 * (-since * 20.0).exp() * (std::f64::consts::TAU * 55.0 * since).sin();
                    g * (noise[i] + kick as f32)
                })
                .collect(),
        );
    }
    Audio {
        sample_rate: rate,
        channels,
    }
}

/// Tones at 100 Hz, 1 kHz and 5 kHz (-20 dBFS each) in both channels: no content above
/// 5 kHz, so its loudness is the same at any sample rate (pink noise at 384 kHz carries
/// ultrasonic energy that BS.1770's K-filter counts and a 192 kHz version cannot hold).
fn tones(rate: u32, seconds: f64) -> Audio {
    let n = (seconds * f64::from(rate)) as usize;
    let fs = f64::from(rate);
    let a = 10f64.powf(-20.0 / 20.0);
    let x: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            [100.0, 1_000.0, 5_000.0]
                .iter()
                .map(|f| a * (std::f64::consts::TAU * f * t).sin())
                .sum::<f64>() as f32
        })
        .collect();
    Audio {
        sample_rate: rate,
        channels: vec![x.clone(), x],
    }
}

/// RBJ cookbook high shelf (S = 1), applied in place: the reference's "other" tonal balance.
fn high_shelf(audio: &mut Audio, freq: f64, gain_db: f64) {
    let fs = f64::from(audio.sample_rate);
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = std::f64::consts::TAU * freq / fs;
    let (cos, sin) = (w0.cos(), w0.sin());
    let alpha = sin / 2.0 * 2f64.sqrt();
    let sa = 2.0 * a.sqrt() * alpha;
    let b0 = a * ((a + 1.0) + (a - 1.0) * cos + sa);
    let b1 = -2.0 * a * ((a - 1.0) + (a + 1.0) * cos);
    let b2 = a * ((a + 1.0) + (a - 1.0) * cos - sa);
    let a0 = (a + 1.0) - (a - 1.0) * cos + sa;
    let a1 = 2.0 * ((a - 1.0) - (a + 1.0) * cos);
    let a2 = (a + 1.0) - (a - 1.0) * cos - sa;
    for channel in &mut audio.channels {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0f64, 0.0, 0.0, 0.0);
        for s in channel.iter_mut() {
            let x = f64::from(*s);
            let y = (b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
            (x2, x1, y2, y1) = (x1, x, y1, y);
            *s = y as f32;
        }
    }
}

fn scale(audio: &mut Audio, gain_db: f32) {
    let g = 10f32.powf(gain_db / 20.0);
    for c in &mut audio.channels {
        c.iter_mut().for_each(|x| *x *= g);
    }
}

#[test]
fn cd_target_writes_a_red_book_master_from_a_48k_mix() {
    let dir = scratch_dir("cd");
    let mix = dir.join("orchestral-48k.wav");
    let input = orchestral_mix(48_000, 24.0);
    write(&mix, &input);
    let out = dir.join("cd.wav");
    let report = job(&[
        mix.to_str().unwrap(),
        "--target",
        "cd",
        "-o",
        out.to_str().unwrap(),
    ]);
    let file = &report.files[0];
    assert_eq!(file.sample_rate, 44_100);
    assert_eq!(file.resampled_from_hz, Some(48_000));
    assert_eq!(file.output_format, "16-bit");

    let (spec, samples) = read_wav(&out);
    assert_eq!(spec.sample_rate, 44_100, "a CD master is 44.1 kHz");
    assert_eq!(spec.bits_per_sample, 16, "a CD master is 16-bit");
    assert_eq!(spec.channels, 2);
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    // Same duration: round(frames * 44100 / 48000).
    let expected = (input.frames() as f64 * 44_100.0 / 48_000.0).round() as usize;
    assert_eq!(samples[0].len(), expected);

    let lufs = ebur128_integrated(&samples, 44_100);
    let tp = true_peak(&samples);
    eprintln!(
        "CD master: {lufs:.2} LUFS (ebur128), {tp:.2} dBTP (reference meter), PLR {:.1} -> {:.1} \
         dB, limiter active {:.0} %",
        file.before.plr_db,
        tp as f64 - lufs,
        100.0 * file.gain_reduction.limiter_active_fraction
    );
    assert!((lufs + 12.0).abs() <= 0.3, "{lufs} LUFS");
    // The ceiling holds at the delivery rate: the chain ran at 44.1 kHz, the dither is last
    // (its +-1 LSB at 16 bits is 0.0003 dB at the ceiling).
    assert!(tp <= -0.3 + 0.01, "{tp} dBTP");
    // The CD target is a loudness, not a licence to crush: this dynamic mix keeps its
    // character at -12 LUFS (the former -9 default held it in the limiter 99 % of the time).
    assert!(
        file.gain_reduction.limiter_active_fraction < 0.30,
        "{:?}",
        file.gain_reduction
    );
}

#[test]
fn inputs_outside_the_chain_rates_are_resampled_to_the_nearest_chain_rate() {
    let dir = scratch_dir("rates");
    for (rate, chain_rate) in [(22_050u32, 44_100u32), (384_000, 192_000)] {
        let mix = dir.join(format!("mix-{rate}.wav"));
        let input = tones(rate, 3.0);
        write(&mix, &input);
        let out = dir.join(format!("out-{rate}.wav"));
        let report = job(&[mix.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        let file = &report.files[0];
        assert_eq!(
            (file.sample_rate, file.resampled_from_hz),
            (chain_rate, Some(rate))
        );
        let (spec, samples) = read_wav(&out);
        assert_eq!(spec.sample_rate, chain_rate);
        let expected = (input.frames() as f64 * f64::from(chain_rate) / f64::from(rate)).round();
        assert_eq!(samples[0].len(), expected as usize);
        // The resampled programme keeps its loudness (the reference preset changes it by a
        // known amount, so compare the renderer's own before-figure with ebur128 on the input).
        let input_lufs = ebur128_integrated(&input.channels, rate);
        assert!(
            (f64::from(file.before.integrated_lufs) - input_lufs).abs() < 0.1,
            "{rate}: {} vs {input_lufs}",
            file.before.integrated_lufs
        );
    }
}

#[test]
fn a_loud_target_is_warned_and_preserve_dynamics_stops_at_the_plr_floor() {
    let dir = scratch_dir("dynamics");
    let mix = dir.join("orchestral.wav");
    write(&mix, &orchestral_mix(44_100, 24.0));

    // -9 LUFS on orchestral music: the report says what it costs.
    let loud = job(&[mix.to_str().unwrap(), "--target", "club", "--dry-run"]);
    let warnings = loud.files[0].warnings.join("\n");
    assert!(warnings.contains("PLR falls"), "{warnings}");
    assert!(warnings.contains("the limiter reduces"), "{warnings}");

    // With a PLR floor of 13 dB the search stops there and says how far it stayed.
    let out = dir.join("kept.wav");
    let kept = job(&[
        mix.to_str().unwrap(),
        "--target",
        "club",
        "--preserve-dynamics",
        "13",
        "--bits",
        "32f",
        "-o",
        out.to_str().unwrap(),
    ]);
    let file = &kept.files[0];
    let target = file.target.as_ref().unwrap();
    assert!(target.held_back_by.is_some(), "{target:?}");
    assert!(!target.met);
    assert!(
        file.warnings.iter().any(|w| w.contains("was not reached")),
        "{:?}",
        file.warnings
    );
    let (_, samples) = read_wav(&out);
    let plr = f64::from(true_peak(&samples)) - ebur128_integrated(&samples, 44_100);
    eprintln!(
        "held back at {:.2} LUFS ({:+.2} LU), PLR {plr:.2} dB by the independent meters, {} renders",
        target.achieved_lufs,
        target.error_lu,
        target.passes.len()
    );
    assert!(plr >= 13.0 - 0.15, "PLR {plr}");
    // It stops at the floor, not far below the target's reach: within 0.6 dB of the floor.
    assert!(
        plr <= 13.6,
        "PLR {plr}: the search gave away more loudness than the floor needs"
    );
    assert!(target.error_lu < -0.5);
    // The search aims below the floor by the PLR it lacks instead of bisecting blindly.
    assert!(target.passes.len() <= 4, "{} renders", target.passes.len());
}

#[test]
fn mastering_toward_a_reference_lands_within_0_3_lu_and_matches_its_balance() {
    let dir = scratch_dir("reference");
    let mix_path = dir.join("mix.wav");
    let mix = steady_mix(48_000, 20.0, 21, -6.0);
    write(&mix_path, &mix);
    // The reference: the same kind of programme, brighter (+4 dB above 3 kHz), louder, at
    // 44.1 kHz.
    let mut reference = steady_mix(44_100, 20.0, 77, 0.0);
    high_shelf(&mut reference, 3_000.0, 4.0);
    scale(&mut reference, -2.0);
    let reference_path = dir.join("reference.wav");
    write(&reference_path, &reference);
    let reference_lufs = ebur128_integrated(&reference.channels, 44_100);

    let out = dir.join("master.wav");
    let report = job(&[
        mix_path.to_str().unwrap(),
        "--reference",
        reference_path.to_str().unwrap(),
        "--target",
        "reference",
        "--match-eq",
        "100",
        "--bits",
        "32f",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, samples) = read_wav(&out);
    let lufs = ebur128_integrated(&samples, 48_000);
    let tp = true_peak(&samples);
    let file = &report.files[0];
    let r = file.reference.as_ref().unwrap();
    eprintln!(
        "reference {reference_lufs:.2} LUFS, master {lufs:.2} LUFS, {tp:.2} dBTP; tonal RMS \
         difference {:.2} -> {:.2} dB; match {:?}",
        r.mix_rms_difference_db, r.master_rms_difference_db, r.tonal_match
    );
    assert!(
        (lufs - reference_lufs).abs() <= 0.3,
        "{lufs} vs {reference_lufs}"
    );
    assert!(tp <= -1.0 + 0.01, "{tp} dBTP");
    // The balance moved toward the reference: the +4 dB of air is matched.
    assert!(r.mix_rms_difference_db > 1.5, "{r:?}");
    assert!(r.master_rms_difference_db < 0.6, "{r:?}");
    for (f, d) in r.bands_hz.iter().zip(&r.master_minus_reference_db) {
        if (40.0..=12_500.0).contains(f) {
            let d = d.unwrap();
            assert!(d.abs() < 2.0, "{f} Hz: master - reference {d:+.2} dB");
        }
    }
    // Dynamics are part of the verdict: the reference's figures are in the report.
    assert!(r.plr_db.is_finite() && r.loudness_range_lu.is_finite());
}

#[test]
fn a_reference_beyond_the_limiters_drive_is_reached_with_the_clipper_assisting() {
    // The mix sits 27 dB under the reference: the limiter's 24 dB of drive leaves it ~3 LU
    // short (as a dense, loud reference master leaves a limiter alone short). The renderer
    // tries again with the clipper on (+6 dB), which gets there.
    let dir = scratch_dir("clipper-assist");
    let mix_path = dir.join("mix.wav");
    write(&mix_path, &steady_mix(48_000, 8.0, 5, -27.0));
    let reference = steady_mix(48_000, 8.0, 6, 0.0);
    let reference_path = dir.join("loud.wav");
    write(&reference_path, &reference);
    let reference_lufs = ebur128_integrated(&reference.channels, 48_000);
    let out = dir.join("master.wav");
    let report = job(&[
        mix_path.to_str().unwrap(),
        "--reference",
        reference_path.to_str().unwrap(),
        "--target",
        "reference",
        "--preset",
        "neutral",
        "--bits",
        "32f",
        "-o",
        out.to_str().unwrap(),
    ]);
    let t = report.files[0].target.as_ref().unwrap();
    let (_, samples) = read_wav(&out);
    let lufs = ebur128_integrated(&samples, 48_000);
    let tp = true_peak(&samples);
    eprintln!(
        "reference {reference_lufs:.2} LUFS, master {lufs:.2} LUFS, {tp:.2} dBTP, {} renders, \
         assisted {}",
        t.passes.len(),
        t.clipper_assisted
    );
    assert!(t.clipper_assisted, "{t:?}");
    assert!(t.held_back_by.is_none() && t.met, "{t:?}");
    assert!(
        (lufs - reference_lufs).abs() <= 0.3,
        "{lufs} vs {reference_lufs}"
    );
    assert!(tp <= -1.0 + 0.01, "{tp} dBTP");
    // The limiter alone (its full drive) fell short by about the 3 dB it lacked.
    let first_search_best = t
        .passes
        .iter()
        .filter(|p| p.drive_db >= 24.0 - 1e-3)
        .map(|p| p.integrated_lufs)
        .fold(f64::MIN, f64::max);
    assert!(
        first_search_best < reference_lufs - 2.0,
        "the limiter alone reached {first_search_best} LUFS"
    );
}

/// Side-to-mid power ratio per third octave (63 Hz - 10 kHz), dB: Welch average of 8192-point
/// Hann frames (hop 4096) by `realfft`, independent of the plugin's analyser.
fn side_to_mid_db(channels: &[Vec<f32>], rate: u32) -> Vec<(f64, f64)> {
    use realfft::RealFftPlanner;
    const N: usize = 8192;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N);
    let window: Vec<f64> = (0..N)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N as f64).cos())
        .collect();
    let (l, r) = (&channels[0], &channels[1]);
    let mut power = [vec![0.0f64; N / 2 + 1], vec![0.0f64; N / 2 + 1]];
    let mut start = 0;
    while start + N <= l.len() {
        for (k, sign) in [1.0f64, -1.0].into_iter().enumerate() {
            let mut frame: Vec<f64> = (0..N)
                .map(|i| {
                    window[i] * 0.5 * (f64::from(l[start + i]) + sign * f64::from(r[start + i]))
                })
                .collect();
            let mut spectrum = fft.make_output_vec();
            fft.process(&mut frame, &mut spectrum).unwrap();
            for (p, c) in power[k].iter_mut().zip(&spectrum) {
                *p += c.norm_sqr();
            }
        }
        start += N / 2;
    }
    let bin_hz = f64::from(rate) / N as f64;
    (0..=22)
        .map(|b| 63.0 * 2f64.powf(b as f64 / 3.0))
        .map(|centre| {
            let (lo, hi) = (
                centre * 2f64.powf(-1.0 / 6.0),
                centre * 2f64.powf(1.0 / 6.0),
            );
            let band = |p: &[f64]| {
                p.iter()
                    .enumerate()
                    .filter(|(i, _)| (lo..hi).contains(&(*i as f64 * bin_hz)))
                    .map(|(_, v)| v)
                    .sum::<f64>()
            };
            (centre, 10.0 * (band(&power[1]) / band(&power[0])).log10())
        })
        .collect()
}

#[test]
fn the_width_match_brings_each_bands_side_to_mid_ratio_within_1_db() {
    // The reference is narrow in the lows (side -8 dB below ~500 Hz) and as wide as the mix in
    // the highs; the mix's side/mid ratio is about the same in every band.
    let dir = scratch_dir("width");
    let mix_path = dir.join("mix.wav");
    let mix = steady_mix(48_000, 12.0, 31, -6.0);
    write(&mix_path, &mix);
    let mut reference = steady_mix(48_000, 12.0, 32, -6.0);
    let (l, r) = (&reference.channels[0], &reference.channels[1]);
    let mid: Vec<f32> = l.iter().zip(r).map(|(a, b)| 0.5 * (a + b)).collect();
    let mut side = Audio {
        sample_rate: 48_000,
        channels: vec![l.iter().zip(r).map(|(a, b)| 0.5 * (a - b)).collect()],
    };
    high_shelf(&mut side, 500.0, 8.0);
    scale(&mut side, -8.0);
    reference.channels = vec![
        mid.iter()
            .zip(&side.channels[0])
            .map(|(m, s)| m + s)
            .collect(),
        mid.iter()
            .zip(&side.channels[0])
            .map(|(m, s)| m - s)
            .collect(),
    ];
    let reference_path = dir.join("narrow-lows.wav");
    write(&reference_path, &reference);
    let out = dir.join("master.wav");
    job(&[
        mix_path.to_str().unwrap(),
        "--reference",
        reference_path.to_str().unwrap(),
        "--match-eq",
        "100",
        "--preset",
        "neutral",
        "--bits",
        "32f",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, master) = read_wav(&out);
    let want = side_to_mid_db(&reference.channels, 48_000);
    let before = side_to_mid_db(&mix.channels, 48_000);
    let after = side_to_mid_db(&master, 48_000);
    let mut worst_before: f64 = 0.0;
    let mut worst_after: f64 = 0.0;
    for ((&(f, w), &(_, b)), &(_, a)) in want.iter().zip(&before).zip(&after) {
        eprintln!("{f:7.0} Hz side/mid: reference {w:+6.2}, mix {b:+6.2}, master {a:+6.2} dB");
        worst_before = worst_before.max((b - w).abs());
        worst_after = worst_after.max((a - w).abs());
    }
    eprintln!("worst side/mid error: mix {worst_before:.2} dB, master {worst_after:.2} dB");
    assert!(worst_before > 5.0, "{worst_before}");
    assert!(worst_after <= 1.0, "{worst_after}");
}

#[test]
fn a_reference_of_another_world_cannot_wreck_the_mix() {
    let dir = scratch_dir("bounded");
    let mix_path = dir.join("mix.wav");
    write(&mix_path, &steady_mix(48_000, 12.0, 3, -6.0));
    let mut reference = steady_mix(48_000, 12.0, 4, -6.0);
    high_shelf(&mut reference, 2_000.0, 15.0);
    let reference_path = dir.join("harsh.wav");
    write(&reference_path, &reference);
    let report = job(&[
        mix_path.to_str().unwrap(),
        "--reference",
        reference_path.to_str().unwrap(),
        "--match-eq",
        "100",
        "--match-bound",
        "6",
        // Neutral settings (limiter idle at this level): every change is the match EQ's.
        "--preset",
        "neutral",
        "--dry-run",
    ]);
    let r = report.files[0].reference.as_ref().unwrap();
    let m = r.tonal_match.as_ref().unwrap();
    // No band moved against another by more than twice the 6 dB bound (the curve is centred,
    // and the loudness normalisation shifts the whole spectrum; 1 dB for the analysis).
    let changes: Vec<f64> = r
        .bands_hz
        .iter()
        .zip(&r.mix_minus_reference_db)
        .zip(&r.master_minus_reference_db)
        .filter(|((f, _), _)| (40.0..=12_500.0).contains(*f))
        .map(|((_, before), after)| after.unwrap() - before.unwrap())
        .collect();
    let spread = changes.iter().cloned().fold(f64::MIN, f64::max)
        - changes.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread <= 2.0 * 6.0 + 1.0, "spread {spread:.2} dB ({m:?})");
    assert!(
        m.mid_db
            .iter()
            .chain(&m.side_db)
            .all(|g| g.abs() <= 6.0 + 1e-4),
        "{m:?}"
    );
    // The report names where the bound held the match back: above 2 kHz.
    assert!(!m.bands_at_bound_hz.is_empty(), "{m:?}");
    assert!(m.bands_at_bound_hz.iter().all(|&f| f > 1_500.0), "{m:?}");
    // Loudness-normalised, the harsh reference's low mids sit ~12 dB under the mix's: the
    // centred, bounded curve cannot take all of that, so the master stays off the reference
    // there (and the report said where).
    let band = |f: f64| r.bands_hz.iter().position(|b| *b == f).unwrap();
    let (before, after) = (
        r.mix_minus_reference_db[band(250.0)].unwrap(),
        r.master_minus_reference_db[band(250.0)].unwrap(),
    );
    eprintln!("250 Hz: mix - reference {before:+.2} dB, master - reference {after:+.2} dB");
    assert!(
        before > 8.0 && after < before && after > 2.0,
        "{before} {after}"
    );
}

#[test]
fn plugin_and_renderer_read_the_same_reference_within_0_05_db() {
    let dir = scratch_dir("same-analysis");
    let mix_path = dir.join("mix.wav");
    let mix = steady_mix(48_000, 10.0, 8, -6.0);
    write(&mix_path, &mix);
    let mut reference = steady_mix(44_100, 10.0, 9, -4.0);
    high_shelf(&mut reference, 5_000.0, 3.0);
    let reference_path = dir.join("reference.wav");
    write(&reference_path, &reference);
    let report = job(&[
        mix_path.to_str().unwrap(),
        "--reference",
        reference_path.to_str().unwrap(),
        "--target",
        "reference",
        "--dry-run",
    ]);
    let r = report.files[0].reference.as_ref().unwrap();
    // The plugin's loader: decode at the session rate, analyse as a reference slot does.
    let decoded = decode_reference(&reference_path, 48_000, MAX_REFERENCE_BYTES).unwrap();
    let track = ReferenceTrack::analyse(decoded, reference_path.clone());
    let plugin = track.tonal.balance().unwrap();
    let (l, rr) = mix.left_right();
    let mix_balance = analyse_stereo(l, rr, 48_000.0).unwrap();
    let plugin_delta = mix_balance.third_octave_delta_db(&plugin);
    for (k, (cli, plugin)) in r
        .mix_minus_reference_db
        .iter()
        .zip(&plugin_delta)
        .enumerate()
    {
        let (cli, plugin) = (cli.unwrap(), plugin.unwrap());
        assert!((cli - plugin).abs() <= 0.05, "band {k}: {cli} vs {plugin}");
    }
    assert!((r.integrated_lufs - track.summary.integrated_lufs).abs() <= 0.05);
    assert!((r.plr_db - track.summary.plr_db).abs() <= 0.05);
    // And the target search used the plugin's reference loudness.
    let target = report.files[0].target.as_ref().unwrap();
    assert!((target.target_lufs - f64::from(track.summary.integrated_lufs)).abs() < 1e-6);
}

#[test]
fn align_places_a_late_bounce_of_the_mix_on_the_timeline_offline() {
    let dir = scratch_dir("align");
    let rate = 48_000;
    // The mix, with a quiet intro (the capture must skip it), and a bounce that starts
    // 12 345 frames late: the offset the plugin's Align button would find.
    let mut mix = steady_mix(rate, 12.0, 31, -6.0);
    for c in &mut mix.channels {
        c[..rate as usize * 2].iter_mut().for_each(|x| *x *= 0.001);
    }
    let late = 12_345usize;
    let bounce = Audio {
        sample_rate: rate,
        channels: mix
            .channels
            .iter()
            .map(|c| {
                std::iter::repeat_n(0.0, late)
                    .chain(c.iter().copied())
                    .collect()
            })
            .collect(),
    };
    let (mix_path, bounce_path) = (dir.join("mix.wav"), dir.join("bounce.wav"));
    write(&mix_path, &mix);
    write(&bounce_path, &bounce);
    let listen = |reference: &Path, extra: &[&str]| {
        let mut args: Vec<String> = [
            mix_path.to_str().unwrap(),
            "--listen",
            "reference",
            "--reference",
            reference.to_str().unwrap(),
            "--dry-run",
            "--quiet",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
        args.push("--align".into());
        let Command::Render(options) = parse_args(&args).unwrap() else {
            panic!("not a render")
        };
        fairmaster::offline::cli::run_listen(&options)
    };
    let report = listen(&bounce_path, &[]).unwrap();
    let offset = report.reference_offset_seconds.unwrap() * f64::from(rate);
    let coherence = report.align_coherence.unwrap();
    eprintln!("aligned at {offset:.2} frames, coherence {coherence:.2}");
    assert!((offset - late as f64).abs() <= 1.0, "{offset}");
    assert!(coherence > 0.5, "{coherence}");
    // Searched around a given offset: a rough guess 0.5 s off still lands on the sample.
    let report = listen(&bounce_path, &["--reference-offset", "0.75"]).unwrap();
    let offset = report.reference_offset_seconds.unwrap() * f64::from(rate);
    assert!((offset - late as f64).abs() <= 1.0, "{offset}");
    // Unrelated music is refused with the reason, naming the reference.
    let other = dir.join("other.wav");
    write(&other, &orchestral_mix(rate, 12.0));
    let error = listen(&other, &[]).unwrap_err().to_string();
    assert!(
        error.contains("no match") && error.contains("other.wav"),
        "{error}"
    );
}
