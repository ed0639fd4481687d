//! Issue 14, album and pack jobs through the renderer's command line: the Red Book disc image
//! and CUE sheet of `--target cd` with several inputs (read back by `hound` and by the
//! independent `cuna` CUE parser), Red Book violations refused before any render, songs
//! mastered in parallel bit-identical to one after another, and `--pack` from the CLI.

mod common;

use std::path::{Path, PathBuf};

use common::signals::pink_noise;
use fairmaster::offline::audio_io::{write_wav_atomic, OutputFormat};
use fairmaster::offline::cli::{parse_args, run, Command};
use fairmaster::offline::report::RunReport;
use fairmaster::offline::{Audio, OfflineError};

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("offline-album", test)
}

fn job(args: &[String]) -> Result<RunReport, OfflineError> {
    let mut list = args.to_vec();
    list.push("--quiet".into());
    let Command::Render(options) = parse_args(&list).unwrap() else {
        panic!("not a render")
    };
    run(&options)
}

fn arg(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// A song: pink noise with a kick on every beat, `seconds` long, its own seed and level.
fn song(rate: u32, seconds: f64, seed: u64, level_dbfs: f32) -> Audio {
    let n = (seconds * f64::from(rate)) as usize;
    let fs = f64::from(rate);
    let channels = (0..2)
        .map(|c| {
            let noise = pink_noise(n, seed * 2 + c, level_dbfs);
            (0..n)
                .map(|i| {
                    let since = (i as f64 / fs) % 0.5;
                    let kick =
                        0.2 * (-since * 20.0).exp() * (std::f64::consts::TAU * 55.0 * since).sin();
                    noise[i] + kick as f32
                })
                .collect()
        })
        .collect();
    Audio {
        sample_rate: rate,
        channels,
    }
}

fn write_songs(dir: &Path, lengths: &[f64]) -> Vec<PathBuf> {
    lengths
        .iter()
        .enumerate()
        .map(|(k, &seconds)| {
            let path = dir.join(format!("{:02}-song.wav", k + 1));
            let audio = song(48_000, seconds, k as u64 + 1, -22.0 + k as f32);
            write_wav_atomic(&path, &audio, OutputFormat::Float32, false).unwrap();
            path
        })
        .collect()
}

fn read_i16(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec, samples)
}

#[test]
fn a_cd_album_is_one_disc_image_with_a_cue_sheet_an_independent_parser_reads() {
    let dir = scratch_dir("disc");
    let inputs = write_songs(&dir, &[5.3, 6.1, 4.7]);
    let metadata = dir.join("disc.json");
    std::fs::write(
        &metadata,
        r#"{"title": "Fresh Ears", "performer": "The Testers", "tracks": [
            {"title": "Opening", "isrc": "GBAYE2600001"},
            {"title": "Second Song", "pregap_seconds": 1.5},
            {"title": "Coda", "performer": "Guest", "pregap_seconds": 0}
        ]}"#,
    )
    .unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut args: Vec<String> = inputs.iter().map(|p| arg(p)).collect();
    args.extend(
        [
            "--target",
            "cd",
            "--cd-metadata",
            &arg(&metadata),
            "--out-dir",
            &arg(&out),
        ]
        .map(String::from),
    );
    let report = job(&args).unwrap();
    let disc = report.disc.as_ref().expect("a disc report");
    assert_eq!(disc.tracks.len(), 3);

    let (spec, image) = read_i16(&out.join("album.cd.wav"));
    assert_eq!(
        (spec.sample_rate, spec.bits_per_sample, spec.channels),
        (44_100, 16, 2)
    );
    let frames = image.len() / 2;
    assert_eq!(frames % 588, 0, "the image is whole CD frames");

    // The CUE sheet, read by `cuna` (a parser this project did not write).
    let sheet = std::fs::read(out.join("album.cd.cue")).unwrap();
    let sheet: String = sheet.iter().map(|&b| char::from(b)).collect(); // Latin-1
    let cue = cuna::Cuna::new(&sheet).unwrap();
    assert_eq!(cue.title(), &vec!["Fresh Ears".to_string()]);
    let file = &cue.files()[0];
    assert_eq!(file.name, "album.cd.wav");
    let starts: Vec<(Option<usize>, usize)> = file
        .tracks
        .iter()
        .map(|t| {
            let at = |id: u8| {
                t.index()
                    .iter()
                    .find(|i| i.id() == id)
                    .map(|i| i.begin_time().total_frames() as usize)
            };
            (at(0), at(1).unwrap())
        })
        .collect();
    assert_eq!(file.tracks[0].isrc(), Some("GBAYE2600001"));
    assert_eq!(file.tracks[2].performer(), &vec!["Guest".to_string()]);
    // Track 1 at 0 with no pregap in the image; track 2 after its 1.5 s of silence; track 3
    // gapless (pregap 0: no INDEX 00).
    assert_eq!(starts[0], (None, 0));
    assert!(starts[1].0.is_some() && starts[2].0.is_none(), "{starts:?}");

    // Every track's master is in the image bit for bit at its INDEX 01, silence between.
    let mut covered = vec![false; frames];
    for (k, input) in inputs.iter().enumerate() {
        let name = input.file_stem().unwrap().to_string_lossy().to_string();
        let (track_spec, track) = read_i16(&out.join(format!("{name}.master.wav")));
        assert_eq!(
            (track_spec.sample_rate, track_spec.bits_per_sample),
            (44_100, 16)
        );
        let start = starts[k].1 * 588;
        let n = track.len() / 2;
        assert_eq!(
            &image[2 * start..2 * (start + n)],
            &track[..],
            "track {}",
            k + 1
        );
        covered[start..start + n].iter_mut().for_each(|c| *c = true);
    }
    let stray = (0..frames)
        .filter(|&i| !covered[i] && (image[2 * i] != 0 || image[2 * i + 1] != 0))
        .count();
    assert_eq!(stray, 0, "pregaps and padding are digital silence");
    let pregap_frames = starts[1].1 - starts[1].0.unwrap();
    assert!(
        (112..=113).contains(&pregap_frames),
        "1.5 s = 112.5 frames: {pregap_frames}"
    );
}

#[test]
fn a_disc_that_breaks_the_red_book_is_refused_before_any_render() {
    let dir = scratch_dir("red-book");
    let inputs = write_songs(&dir, &[5.0, 3.0]);
    let mut args: Vec<String> = inputs.iter().map(|p| arg(p)).collect();
    args.extend(["--target", "cd"].map(String::from));
    let error = job(&args).unwrap_err().to_string();
    assert!(
        error.contains("track 2") && error.contains("at least 4 s"),
        "{error}"
    );
    // Nothing was written: no master, no image.
    let written: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("master") || n.contains("album"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn songs_mastered_in_parallel_equal_songs_mastered_one_after_another() {
    let dir = scratch_dir("parallel");
    let inputs = write_songs(&dir, &[4.0, 5.0, 4.5]);
    let mut outputs = Vec::new();
    for jobs in ["1", "2"] {
        let out = dir.join(format!("jobs-{jobs}"));
        std::fs::create_dir_all(&out).unwrap();
        let mut args: Vec<String> = inputs.iter().map(|p| arg(p)).collect();
        args.extend(
            [
                "--target",
                "spotify",
                "--jobs",
                jobs,
                "--out-dir",
                &arg(&out),
            ]
            .map(String::from),
        );
        let report = job(&args).unwrap();
        assert_eq!(report.files.len(), 3);
        // Results come back in album order.
        for (file, input) in report.files.iter().zip(&inputs) {
            assert_eq!(file.name, input.display().to_string());
        }
        outputs.push(out);
    }
    for input in &inputs {
        let name = format!(
            "{}.master.wav",
            input.file_stem().unwrap().to_string_lossy()
        );
        let a = std::fs::read(outputs[0].join(&name)).unwrap();
        let b = std::fs::read(outputs[1].join(&name)).unwrap();
        assert!(a == b, "{name}: --jobs 1 and --jobs 2 differ");
    }
}

#[test]
fn the_pack_is_written_from_the_command_line_and_never_over_an_existing_folder() {
    let dir = scratch_dir("pack");
    let inputs = write_songs(&dir, &[12.0, 10.0]);
    let reference = dir.join("reference.wav");
    write_wav_atomic(
        &reference,
        &song(44_100, 15.0, 40, -14.0),
        OutputFormat::Float32,
        false,
    )
    .unwrap();
    let pack = dir.join("pack");
    let mut args: Vec<String> = inputs.iter().map(|p| arg(p)).collect();
    args.extend(
        [
            "--target",
            "spotify",
            "--reference",
            &arg(&reference),
            "--pack",
            &arg(&pack),
        ]
        .map(String::from),
    );
    let report = job(&args).unwrap();
    assert_eq!(report.pack.as_deref(), Some(pack.to_str().unwrap()));
    let html = std::fs::read_to_string(pack.join("report.html")).unwrap();
    for input in &inputs {
        let stem = input.file_stem().unwrap().to_string_lossy().to_string();
        assert!(html.contains(&stem), "{stem} missing from the album report");
    }
    let folders: Vec<_> = std::fs::read_dir(&pack)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(folders.len(), 2, "one folder per song: {folders:?}");
    for folder in &folders {
        for file in ["blind.wav", "blind-key.txt", "excerpt-reference.wav"] {
            assert!(
                folder.join(file).is_file(),
                "{}",
                folder.join(file).display()
            );
        }
    }

    // Again without --force: refused before rendering; the pack and the masters are untouched.
    let before = std::fs::read(pack.join("report.html")).unwrap();
    std::fs::remove_file(dir.join("01-song.master.wav")).unwrap();
    std::fs::remove_file(dir.join("02-song.master.wav")).unwrap();
    let error = job(&args).unwrap_err().to_string();
    assert!(error.contains("pack folder exists"), "{error}");
    assert_eq!(std::fs::read(pack.join("report.html")).unwrap(), before);
    assert!(
        !dir.join("01-song.master.wav").exists(),
        "rendered before refusing"
    );
}
