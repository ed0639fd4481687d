//! Issue 29, the vinyl job (`fairmaster-render vinyl`) through the command line: side files
//! whose songs start exactly where the cut sheet says (found by cross-correlation with the
//! input), 24-bit at the input's rate (read back with `hound`), loudness cross-checked with the
//! independent `ebur128` crate; given sides refused with their problem named; no overwrite
//! without `--force` and nothing written on failure; and each cut-sheet warning firing on a
//! case built for it and silent on a clean one.

mod common;

use std::path::{Path, PathBuf};

use common::loudness::ebur128_span;
use common::signals::pink_noise;
use fairmaster::offline::audio_io::{write_wav_atomic, OutputFormat};
use fairmaster::offline::cli::{parse, run_vinyl, Invocation};
use fairmaster::offline::vinyl::cut_sheet::CutSheet;
use fairmaster::offline::{Audio, OfflineError};

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("vinyl", test)
}

fn arg(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Runs `vinyl ARGS... --out-dir OUT --quiet`.
fn vinyl(args: &[&str], out: &Path) -> Result<CutSheet, OfflineError> {
    let mut list: Vec<String> = vec!["vinyl".into()];
    list.extend(args.iter().map(|s| s.to_string()));
    list.extend(["--out-dir".into(), arg(out), "--quiet".into()]);
    let Invocation::Job(options) = parse(&list).unwrap() else {
        panic!("not a job")
    };
    run_vinyl(&options)
}

fn write(dir: &Path, name: &str, audio: &Audio) -> String {
    let path = dir.join(name);
    write_wav_atomic(&path, audio, OutputFormat::Float32, false).unwrap();
    arg(&path)
}

fn stereo(rate: u32, left: Vec<f32>, right: Vec<f32>) -> Audio {
    Audio {
        sample_rate: rate,
        channels: vec![left, right],
    }
}

/// Pink noise, independent per channel, `frames` long, with a drum-like hit every 0.25 s
/// 20 dB over the noise: the peaks of a dynamic mix (PLR well over 12 dB).
fn noise_song(rate: u32, frames: usize, seed: u64, level_dbfs: f32) -> Audio {
    let hit_amplitude = 10f32.powf((level_dbfs + 20.0) / 20.0);
    let hit_every = rate as usize / 4;
    let channel = |seed: u64| {
        let mut x = pink_noise(frames, seed, level_dbfs);
        for (i, v) in x.iter_mut().enumerate() {
            let since = (i % hit_every) as f32 / rate as f32;
            *v += hit_amplitude
                * (-since * 60.0).exp()
                * (std::f32::consts::TAU * 80.0 * since).sin();
        }
        x
    };
    stereo(rate, channel(seed * 2), channel(seed * 2 + 1))
}

/// `count` songs of half a second (drum-like noise at -20 dBFS) written into `dir` as
/// `0.wav`, `1.wav`, ...: their paths.
fn half_second_songs(dir: &Path, count: u64) -> Vec<String> {
    (0..count)
        .map(|k| {
            write(
                dir,
                &format!("{k}.wav"),
                &noise_song(44_100, 22_050, k, -20.0),
            )
        })
        .collect()
}

fn tone(frames: usize, rate: u32, freq: f64, amplitude: f64) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            (amplitude * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as f32
        })
        .collect()
}

/// A dull song: 100 Hz and 1 kHz, nothing above 10 kHz.
fn dull_song(rate: u32, seconds: f64) -> Audio {
    let n = (seconds * f64::from(rate)) as usize;
    let low = tone(n, rate, 100.0, 0.25);
    let mid = tone(n, rate, 1000.0, 0.1);
    let mix: Vec<f32> = low.iter().zip(&mid).map(|(a, b)| a + b).collect();
    stereo(rate, mix.clone(), mix)
}

fn read_side(path: &Path) -> (hound::WavSpec, Audio) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples: Vec<i32> = reader.samples::<i32>().map(|s| s.unwrap()).collect();
    let scale = 1.0 / f64::from(1u32 << (spec.bits_per_sample - 1));
    let channels = (0..spec.channels as usize)
        .map(|c| {
            samples
                .iter()
                .skip(c)
                .step_by(spec.channels as usize)
                .map(|&s| (f64::from(s) * scale) as f32)
                .collect()
        })
        .collect();
    (
        spec,
        Audio {
            sample_rate: spec.sample_rate,
            channels,
        },
    )
}

/// Where `needle` (the input's first samples) sits best in `hay` between `from` and `to`:
/// the lag of the highest normalised cross-correlation.
fn best_lag(hay: &[f32], needle: &[f32], from: usize, to: usize) -> usize {
    let energy: f64 = needle.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    (from..=to)
        .max_by(|&a, &b| {
            let score = |lag: usize| {
                let window = &hay[lag..lag + needle.len()];
                let dot: f64 = window
                    .iter()
                    .zip(needle)
                    .map(|(&h, &n)| f64::from(h) * f64::from(n))
                    .sum();
                let e: f64 = window.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
                dot / (e * energy).sqrt().max(1e-30)
            };
            score(a).total_cmp(&score(b))
        })
        .unwrap()
}

fn warnings_matching(sheet: &CutSheet, needle: &str) -> Vec<String> {
    sheet
        .warnings()
        .into_iter()
        .filter(|w| w.contains(needle))
        .collect()
}

#[test]
fn songs_start_in_the_side_files_exactly_where_the_cut_sheet_says() {
    let dir = scratch_dir("timing");
    let rate = 48_000;
    // Odd lengths, so no start falls on a round number by accident.
    let lengths = [57_601, 36_917, 52_803];
    let inputs: Vec<Audio> = lengths
        .iter()
        .enumerate()
        .map(|(k, &n)| noise_song(rate, n, k as u64 + 1, -20.0 - 2.0 * k as f32))
        .collect();
    let paths: Vec<String> = inputs
        .iter()
        .enumerate()
        .map(|(k, a)| write(&dir, &format!("{:02}.wav", k + 1), a))
        .collect();
    let out = dir.join("out");
    let mut args: Vec<&str> = paths.iter().map(String::as_str).collect();
    args.extend(["--format", "12-33", "--sides", "A:1-2 B:3", "--gap", "0.5"]);
    let sheet = vinyl(&args, &out).unwrap();

    let gap = 24_000;
    assert_eq!(sheet.sides.len(), 2);
    let side_a = &sheet.sides[0];
    assert_eq!(side_a.letter, 'A');
    assert_eq!(
        side_a
            .songs
            .iter()
            .map(|s| (s.number, s.start_frame, s.frames))
            .collect::<Vec<_>>(),
        vec![(1, 0, lengths[0]), (2, lengths[0] + gap, lengths[1])]
    );
    assert_eq!(side_a.frames, lengths[0] + gap + lengths[1]);
    assert_eq!(sheet.sides[1].frames, lengths[2]);

    let text = std::fs::read_to_string(out.join("cut-sheet.txt")).unwrap();
    let html = std::fs::read_to_string(out.join("cut-sheet.html")).unwrap();
    // 57 601 + 24 000 = 81 601 samples = 1.700021 s at 48 kHz.
    for needle in ["0:01.700", "81601", "12\u{2033} 33\u{2153} rpm"] {
        assert!(
            text.contains(needle),
            "{needle} missing from the text:\n{text}"
        );
        assert!(html.contains(needle), "{needle} missing from the HTML");
    }

    for (side, letter) in sheet.sides.iter().zip(['A', 'B']) {
        let (spec, audio) = read_side(&out.join(format!("side-{letter}.wav")));
        assert_eq!(
            (spec.bits_per_sample, spec.sample_rate, spec.channels),
            (24, rate, 2),
            "side {letter}"
        );
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        assert_eq!(audio.frames(), side.frames, "side {letter}");
        for song in &side.songs {
            let input = &inputs[song.number - 1];
            // 0.1 s of the song between two hits (where the noise, not the hits, decides),
            // found in the side by cross-correlation within 100 samples of where the cut sheet
            // puts it.
            let offset = 6000;
            let needle = &input.channels[0][offset..offset + 4800];
            let expected = song.start_frame + offset;
            assert_eq!(
                best_lag(&audio.channels[0], needle, expected - 100, expected + 100),
                expected,
                "side {letter}, song {}",
                song.number
            );
            // Loudness of the song's span in the file, by ebur128, against the cut sheet's.
            let independent =
                ebur128_span(&audio, song.start_frame, song.start_frame + song.frames);
            assert!(
                (independent - f64::from(song.integrated_lufs)).abs() < 0.1,
                "side {letter}, song {}: ebur128 {independent:.2} vs cut sheet {:.2}",
                song.number,
                song.integrated_lufs
            );
        }
        // The gap is silence.
        if side.songs.len() > 1 {
            let gap_span = side.songs[0].frames..side.songs[1].start_frame;
            assert!(audio
                .channels
                .iter()
                .all(|c| c[gap_span.clone()].iter().all(|&x| x == 0.0)));
        }
    }
    // The album is balanced toward -14 LUFS: the loudest song there (within the search's
    // acceptance), the others keeping the mix's differences (2 dB quieter each).
    let lufs: Vec<f32> = sheet
        .sides
        .iter()
        .flat_map(|s| s.songs.iter().map(|song| song.integrated_lufs))
        .collect();
    assert!((lufs[0] + 14.0).abs() < 0.5, "{lufs:?}");
    assert!((lufs[0] - lufs[1] - 2.0).abs() < 0.5, "{lufs:?}");
    // No clipper, the ceiling at -1 dBTP.
    for side in &sheet.sides {
        for song in &side.songs {
            assert!(song.true_peak_dbtp <= -0.9, "{}", song.true_peak_dbtp);
            // The high-frequency limiter's promise holds in the file the lathe gets, after the
            // loudness limiter's drive (the search lowers its limit by that drive): the RIAA
            // pre-emphasised treble within 0.5 dB of the limit (the stage's own tolerance on
            // dense noise, see its section).
            let s = song.sibilance;
            assert!(
                s.premaster_peak_db <= s.limit_db + 0.5,
                "pre-emphasised treble {:.2} dB over the {:.1} dB limit",
                s.premaster_peak_db - s.limit_db,
                s.limit_db
            );
        }
    }
    // Nothing to warn of but, perhaps, sibilance: pink noise at -14 LUFS has treble whose RIAA
    // pre-emphasised peaks reach the high-frequency limiter's 0 dBFS limit.
    let warnings: Vec<String> = sheet
        .warnings()
        .into_iter()
        .filter(|w| !w.contains(": sibilant:"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    // Nothing left behind but the outputs.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cut-sheet.html",
            "cut-sheet.txt",
            "side-A.wav",
            "side-B.wav"
        ]
    );
}

#[test]
fn given_sides_are_refused_with_their_problem_named_and_nothing_written() {
    let dir = scratch_dir("sides");
    let paths = half_second_songs(&dir, 3);
    let out = dir.join("out");
    for (sides, expected) in [
        ("A:1 C:2-3", "side C where side B was expected"),
        ("A:1-2 B:2-3", "song 2 is on side A and again on side B"),
        ("A:1 B:3", "song 2 is on no side"),
        ("A:1-4", "song 4 does not exist"),
    ] {
        let mut args: Vec<&str> = paths.iter().map(String::as_str).collect();
        args.extend(["--format", "7-45", "--sides", sides]);
        let e = vinyl(&args, &out).unwrap_err();
        assert!(e.to_string().contains(expected), "{sides}: {e}");
        assert!(!out.exists(), "{sides}: the output folder was created");
    }
}

#[test]
fn existing_outputs_are_refused_without_force_and_nothing_is_written() {
    let dir = scratch_dir("force");
    let paths = half_second_songs(&dir, 2);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let existing = out.join("cut-sheet.txt");
    std::fs::write(&existing, "an earlier cut sheet").unwrap();
    let mut args: Vec<&str> = paths.iter().map(String::as_str).collect();
    args.extend(["--format", "12-45"]);
    let e = vinyl(&args, &out).unwrap_err();
    assert_eq!(e.path.as_deref(), Some(existing.as_path()), "{e}");
    assert!(e.reason.contains("--force"), "{e}");
    let names: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(names.len(), 1, "something was written: {names:?}");
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "an earlier cut sheet"
    );
    // With --force the job replaces it; two songs make two sides of one disc.
    args.push("--force");
    let sheet = vinyl(&args, &out).unwrap();
    assert_eq!(sheet.sides.len(), 2);
    assert!(std::fs::read_to_string(&existing)
        .unwrap()
        .contains("VINYL CUT SHEET"));
}

#[test]
fn out_of_phase_bass_above_the_mono_corner_is_warned_and_in_phase_bass_is_not() {
    let dir = scratch_dir("phase");
    let rate = 44_100;
    let n = rate as usize * 2;
    // 200 Hz: above the elliptical EQ's 150 Hz corner, below the check's 300 Hz.
    let bass = tone(n, rate, 200.0, 0.3);
    let inverted: Vec<f32> = bass.iter().map(|x| -x).collect();
    let out_of_phase = write(&dir, "wide.wav", &stereo(rate, bass.clone(), inverted));
    let in_phase = write(&dir, "mono.wav", &stereo(rate, bass.clone(), bass));
    let sheet = vinyl(
        &[
            &in_phase,
            &out_of_phase,
            "--format",
            "12-33",
            "--sides",
            "A:1 B:2",
        ],
        &dir.join("out"),
    )
    .unwrap();
    let warned = warnings_matching(&sheet, "out of phase");
    assert_eq!(warned.len(), 1, "{:?}", sheet.warnings());
    assert!(
        warned[0].starts_with("side B, song 2 \"wide\""),
        "{warned:?}"
    );
    let r = sheet.sides[1].songs[0].low_end_correlation.unwrap();
    assert!(r < -0.9, "{r}");
    assert!(sheet.sides[0].songs[0].low_end_correlation.unwrap() > 0.9);
}

#[test]
fn a_side_past_its_reference_length_is_warned_and_past_the_chart_refused() {
    let dir = scratch_dir("length");
    let rate = 44_100;
    let a = write(&dir, "a.wav", &noise_song(rate, rate as usize, 1, -20.0));
    let b = write(&dir, "b.wav", &noise_song(rate, rate as usize, 2, -20.0));
    // 7-45: 5:00 at reference level, 6:00 at -3 dB, nothing longer. Two 1 s songs and a 318 s
    // gap: 5:20, 0:20 over, -1 dB (a third of the way from 5 to 6 min).
    let out = dir.join("long");
    let sheet = vinyl(
        &[
            &a, &b, "--format", "7-45", "--sides", "A:1-2", "--gap", "318",
        ],
        &out,
    )
    .unwrap();
    let side = &sheet.sides[0];
    assert_eq!(side.frames, rate as usize * 320);
    assert!((side.level_allowed_db.unwrap() + 1.0).abs() < 1e-9);
    let warned = warnings_matching(&sheet, "reference level");
    assert_eq!(warned.len(), 1, "{:?}", sheet.warnings());
    assert!(
        warned[0].starts_with("side A: 5:20 long, 0:20 over the 5 min"),
        "{warned:?}"
    );
    // A short side: no length warning.
    let sheet = vinyl(
        &[&a, &b, "--format", "7-45", "--sides", "A:1-2"],
        &dir.join("short"),
    )
    .unwrap();
    assert!(warnings_matching(&sheet, "reference level").is_empty());
    // 6:02: past the chart, refused before anything is rendered or written.
    let refused = dir.join("refused");
    let e = vinyl(
        &[
            &a, &b, "--format", "7-45", "--sides", "A:1-2", "--gap", "360",
        ],
        &refused,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("side A is 6:02 long, 0:02 over the 6 min"),
        "{e}"
    );
    assert!(!refused.exists());
}

#[test]
fn a_bright_song_late_on_a_side_is_warned_and_early_it_is_not() {
    let dir = scratch_dir("bright");
    let rate = 44_100;
    // Bright: the dull song with a 12 kHz tone at -20 dBFS, -23 dBFS above 10 kHz (two
    // channels' mean square), over the -26 dBFS threshold; its RIAA pre-emphasised peak
    // (+15.3 dB at 12 kHz) stays under the high-frequency limiter's 0 dBFS limit, so the
    // limiter leaves it bright.
    let mut bright_audio = dull_song(rate, 2.0);
    let air = tone(bright_audio.frames(), rate, 12_000.0, 0.1);
    for channel in &mut bright_audio.channels {
        channel.iter_mut().zip(&air).for_each(|(x, a)| *x += a);
    }
    let bright = write(&dir, "bright.wav", &bright_audio);
    let dull_1 = write(&dir, "dull1.wav", &dull_song(rate, 2.0));
    let dull_2 = write(&dir, "dull2.wav", &dull_song(rate, 2.0));
    let late = vinyl(
        &[
            &dull_1, &dull_2, &bright, "--format", "12-33", "--sides", "A:1-3",
        ],
        &dir.join("late"),
    )
    .unwrap();
    let warned = warnings_matching(&late, "late on the side");
    assert_eq!(warned.len(), 1, "{:?}", late.warnings());
    assert!(
        warned[0].starts_with("side A, song 3 \"bright\""),
        "{warned:?}"
    );
    let early = vinyl(
        &[
            &bright, &dull_1, &dull_2, "--format", "12-33", "--sides", "A:1-3",
        ],
        &dir.join("early"),
    )
    .unwrap();
    assert!(
        warnings_matching(&early, "late on the side").is_empty(),
        "{:?}",
        early.warnings()
    );
    // The measure itself: the bright song is over the threshold, the dull ones far under.
    let song = |sheet: &CutSheet, k: usize| sheet.sides[0].songs[k].hf_level_dbfs;
    assert!(
        song(&early, 0) > -26.0 && song(&early, 1) < -60.0,
        "{} {}",
        song(&early, 0),
        song(&early, 1)
    );
}

#[test]
fn a_mix_limited_below_the_plr_floor_is_warned_and_a_dynamic_one_is_not() {
    let dir = scratch_dir("plr");
    let rate = 44_100;
    let n = rate as usize * 2;
    // A clipped sine (nearly square): PLR about 3 dB, far under 12.
    let square: Vec<f32> = tone(n, rate, 220.0, 1.0)
        .iter()
        .map(|x| (x * 20.0).clamp(-0.5, 0.5))
        .collect();
    let limited = write(&dir, "limited.wav", &stereo(rate, square.clone(), square));
    let dynamic = write(&dir, "dynamic.wav", &noise_song(rate, n, 3, -30.0));
    let sheet = vinyl(
        &[
            &dynamic, &limited, "--format", "12-33", "--sides", "A:1 B:2",
        ],
        &dir.join("out"),
    )
    .unwrap();
    let warned = warnings_matching(&sheet, "PLR");
    assert_eq!(warned.len(), 1, "{:?}", sheet.warnings());
    assert!(
        warned[0].starts_with("side B, song 2 \"limited\""),
        "{warned:?}"
    );
    // The limited mix got no limiting and kept its level (only gain toward the target).
    let limited_song = &sheet.sides[1].songs[0];
    assert!(
        limited_song.integrated_lufs > -20.0,
        "{}",
        limited_song.integrated_lufs
    );
    assert!(
        sheet.sides[0].songs[0].plr_db >= 11.9,
        "{}",
        sheet.sides[0].songs[0].plr_db
    );
}

#[test]
fn a_sibilant_song_is_warned_and_a_clean_one_is_not() {
    let dir = scratch_dir("sibilance");
    let rate = 44_100;
    let seconds = 2.0;
    let clean = dull_song(rate, seconds);
    // The same with a 7 kHz "ess" of 50 ms every 0.5 s at -6 dBFS: RIAA pre-emphasis lifts 7 kHz
    // by 10.8 dB over 1 kHz, so it peaks near +5 dBFS pre-emphasised, over the 0 dBFS limit.
    let ess = tone(clean.frames(), rate, 7000.0, 0.5);
    let burst = |i: usize| (i % (rate as usize / 2)) < rate as usize / 20;
    let sibilant_channel: Vec<f32> = clean.channels[0]
        .iter()
        .zip(&ess)
        .enumerate()
        .map(|(i, (x, e))| x + if burst(i) { *e } else { 0.0 })
        .collect();
    let clean_path = write(&dir, "clean.wav", &clean);
    let sibilant_path = write(
        &dir,
        "sibilant.wav",
        &stereo(rate, sibilant_channel.clone(), sibilant_channel),
    );
    let sheet = vinyl(
        &[
            &clean_path,
            &sibilant_path,
            "--format",
            "12-45",
            "--sides",
            "A:1 B:2",
        ],
        &dir.join("out"),
    )
    .unwrap();
    let warned = warnings_matching(&sheet, ": sibilant:");
    assert_eq!(warned.len(), 1, "{:?}", sheet.warnings());
    assert!(
        warned[0].starts_with("side B, song 2 \"sibilant\""),
        "{warned:?}"
    );
    // Over the limit in the premaster, or taken down by the high-frequency limiter.
    let s = sheet.sides[1].songs[0].sibilance;
    assert!(
        s.premaster_peak_db + s.hf_limiter_reduction_db.unwrap_or(0.0) > 3.0,
        "{s:?}"
    );
    // The clean song has no treble to speak of.
    let clean_peak = sheet.sides[0].songs[0].sibilance.premaster_peak_db;
    assert!(clean_peak < -20.0, "{clean_peak}");
}

#[test]
fn the_high_frequency_limit_holds_in_the_premaster_after_the_limiters_drive() {
    // Kick drums under loud, bright cymbals (first-difference white noise, decaying over a
    // quarter second), quieter than the -14 LUFS target: the loudness limiter's drive comes
    // after the high-frequency limiter in the chain and lifts the treble it held. The target
    // search lowers the HF limiter's limit by that drive, so the file the lathe gets keeps the
    // limit (the RIAA pre-emphasised treble within the stage's 0.5 dB on noise); without it
    // these cymbals ended 6.4 dB over (+0.2 dB with it).
    let dir = scratch_dir("hf-after-drive");
    let rate = 44_100;
    let n = 4 * rate as usize;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut white = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    };
    let mut previous = 0.0f32;
    let channel: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let beat = t % 0.5;
            let kick = 0.3 * (-beat * 18.0).exp() * (std::f32::consts::TAU * 55.0 * beat).sin();
            let w = white();
            let bright = 0.5 * (w - previous);
            previous = w;
            kick + 0.12 * bright * (-(t % 0.25) * 6.0).exp()
        })
        .collect();
    let path = write(&dir, "cymbals.wav", &stereo(rate, channel.clone(), channel));
    let sheet = vinyl(&[&path, "--format", "7-45"], &dir.join("out")).unwrap();
    let song = &sheet.sides[0].songs[0];
    let s = song.sibilance;
    println!(
        "cymbals: {:.2} LUFS, pre-emphasised treble {:+.2} dB against the {:.1} dB limit, HF \
         limiter reduction {:?} dB",
        song.integrated_lufs,
        s.premaster_peak_db - s.limit_db,
        s.limit_db,
        s.hf_limiter_reduction_db
    );
    assert!(
        s.premaster_peak_db <= s.limit_db + 0.5,
        "the pre-emphasised treble ends {:.2} dB over the {:.1} dB limit",
        s.premaster_peak_db - s.limit_db,
        s.limit_db
    );
}
