//! The listening pack (`offline::pack`, `offline::html_report`), measured from the files it
//! writes: excerpts loudness matched (checked with the independent `ebur128` crate) and cut at
//! the loudest passage, the blind file and its key, the self-contained report, and the
//! all-or-nothing folder handling.

mod common;

use std::path::{Path, PathBuf};

use common::signals::{multitone_mix, pink_noise};
use fairmaster::offline::analysis::analyse;
use fairmaster::offline::audio_io::read_audio_file;
use fairmaster::offline::pack::{write_pack, PackOptions, PackSong, PackSummary, Source};
use fairmaster::offline::render::GR_BLOCK;
use fairmaster::offline::Audio;

const FS: u32 = 44_100;

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("pack", test)
}

fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// A dynamic mix: the multitone mix plus pink noise, `quiet_db` below the chorus except in
/// the chorus `[loud_start, loud_end)` seconds, with 0.5 s ramps between the sections.
fn dynamic_mix(seconds: f64, loud: (f64, f64), quiet_db: f32, level_db: f32, seed: u64) -> Audio {
    let n = (seconds * f64::from(FS)) as usize;
    let (mut left, mut right) = multitone_mix(n, FS as f32);
    let noise_l = pink_noise(n, seed, -24.0);
    let noise_r = pink_noise(n, seed + 1, -24.0);
    let quiet = db_to_gain(-quiet_db.abs());
    for i in 0..n {
        let t = i as f64 / f64::from(FS);
        let into = ((t - loud.0) / 0.5)
            .clamp(0.0, 1.0)
            .min(((loud.1 - t) / 0.5).clamp(0.0, 1.0));
        let envelope = db_to_gain(level_db) * (quiet + (1.0 - quiet) * into as f32);
        left[i] = (left[i] + noise_l[i]) * envelope;
        right[i] = (right[i] + noise_r[i]) * envelope;
    }
    Audio {
        sample_rate: FS,
        channels: vec![left, right],
    }
}

/// A loud "master": `drive_db` into a tanh soft clipper. Returns the master and, per
/// `GR_BLOCK`, the clipper's largest gain reduction as the limiter lane of the trace.
fn loud_master(mix: &Audio, drive_db: f32) -> (Audio, Vec<[f32; 2]>) {
    let drive = db_to_gain(drive_db);
    let mut trace = Vec::new();
    let channels: Vec<Vec<f32>> = mix
        .channels
        .iter()
        .map(|c| c.iter().map(|&x| 0.97 * (drive * x).tanh()).collect())
        .collect();
    for block in 0..mix.frames().div_ceil(GR_BLOCK) {
        let span = block * GR_BLOCK..((block + 1) * GR_BLOCK).min(mix.frames());
        let reduction = span
            .map(|i| {
                let x = (drive * mix.channels[0][i]).abs().max(1e-9);
                20.0 * (x / (0.97 * x.tanh())).log10()
            })
            .fold(0.0f32, f32::max);
        trace.push([0.0, reduction]);
    }
    (
        Audio {
            sample_rate: mix.sample_rate,
            channels,
        },
        trace,
    )
}

use common::loudness::ebur128_audio as ebur128_integrated;

fn sample_peak_dbfs(audio: &Audio) -> f64 {
    let peak = audio
        .channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    20.0 * f64::from(peak).log10()
}

/// Normalised cross-correlation of two stereo spans (both channels together).
fn correlation(a: &Audio, b: &Audio, a_start: usize, b_start: usize, frames: usize) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for ch in 0..2 {
        let x = &a.channels[ch][a_start..a_start + frames];
        let y = &b.channels[ch][b_start..b_start + frames];
        for (&p, &q) in x.iter().zip(y) {
            ab += f64::from(p) * f64::from(q);
            aa += f64::from(p) * f64::from(p);
            bb += f64::from(q) * f64::from(q);
        }
    }
    ab / (aa * bb).sqrt()
}

/// The key's segments: `(number, start seconds, source label)`.
fn read_key(path: &Path) -> Vec<(usize, f64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("segment"))
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            assert_eq!(fields.len(), 3, "key line {l:?}");
            (
                fields[0].parse().unwrap(),
                fields[1].parse().unwrap(),
                fields[2].to_string(),
            )
        })
        .collect()
}

struct Session {
    original: Audio,
    master: Audio,
    trace: Vec<[f32; 2]>,
    reference: Audio,
    warnings: Vec<String>,
}

/// A 50 s quiet dynamic mix (chorus 14-44 s, verses 15 dB down, around -30 LUFS), its loud
/// soft-clipped master, and a 60 s reference whose own loud passage is at 25-55 s.
fn session() -> Session {
    let original = dynamic_mix(50.0, (14.0, 44.0), 15.0, -12.0, 1);
    let (master, trace) = loud_master(&original, 24.0);
    let reference = dynamic_mix(60.0, (25.0, 55.0), 10.0, -3.0, 7);
    Session {
        original,
        master,
        trace,
        reference,
        warnings: vec!["the limiter <works> hard & long".to_string()],
    }
}

fn song<'a>(name: &'a str, s: &'a Session) -> PackSong<'a> {
    PackSong {
        name,
        original: &s.original,
        master: &s.master,
        gain_reduction_trace: &s.trace,
        warnings: &s.warnings,
        target: Some((-9.0, -1.0)),
    }
}

fn pack_with_reference(dir: &Path, s: &Session) -> PackSummary {
    write_pack(
        dir,
        &[song("Quiet <mix> & loud master", s)],
        Some(("reference track", &s.reference)),
        &PackOptions::default(),
    )
    .unwrap()
}

#[test]
fn excerpts_are_matched_by_an_independent_meter_and_cut_at_the_loudest_passage() {
    let s = session();
    let input_original = ebur128_integrated(&s.original);
    let input_master = ebur128_integrated(&s.master);
    // The test's premise: a quiet dynamic mix and a loud master, far apart.
    assert!(input_original < -24.0, "{input_original}");
    assert!(input_master - input_original > 15.0, "{input_master}");

    let dir = scratch_dir("match").join("pack");
    let summary = pack_with_reference(&dir, &s);
    let song = &summary.songs[0];
    assert_eq!(song.excerpts.len(), 3);
    let mut loudness = Vec::new();
    for excerpt in &song.excerpts {
        let audio = read_audio_file(&excerpt.path).unwrap();
        assert_eq!(audio.channels.len(), 2);
        assert!(
            (audio.duration_seconds() - 30.0).abs() < 0.01,
            "{excerpt:?}"
        );
        let lufs = ebur128_integrated(&audio);
        let peak = sample_peak_dbfs(&audio);
        println!(
            "{:?}: start {:.1} s, gain {:+.2} dB, ebur128 {lufs:.2} LUFS, own {:.2} LUFS, peak {peak:.2} dBFS",
            excerpt.source, excerpt.start_seconds, excerpt.gain_db, excerpt.integrated_lufs
        );
        assert!(
            peak <= -1.0 + 1e-3,
            "{:?} peaks at {peak} dBFS",
            excerpt.source
        );
        loudness.push(lufs);
    }
    let spread = loudness.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - loudness.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        spread <= 0.3,
        "excerpts differ by {spread} LU: {loudness:?}"
    );
    // Matched down: the most restrictive excerpt sits at -1 dBFS sample peak.
    let highest_peak = song
        .excerpts
        .iter()
        .map(|e| e.sample_peak_dbfs)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!((highest_peak + 1.0).abs() < 0.01, "{highest_peak}");

    // The master's chorus starts at 14 s (the 30 s chorus is the loudest 30 s); the reference's
    // own at 25 s.
    let start = |source: Source| {
        song.excerpts
            .iter()
            .find(|e| e.source == source)
            .unwrap()
            .start_seconds
    };
    assert!(
        (start(Source::Master) - 14.0).abs() <= 3.0,
        "{}",
        start(Source::Master)
    );
    assert_eq!(start(Source::Original), start(Source::Master));
    assert!(
        (start(Source::Reference) - 25.0).abs() <= 3.0,
        "{}",
        start(Source::Reference)
    );
    // The original excerpt is the original at that time span (away from the 5 ms fades).
    let original_excerpt = read_audio_file(&song.excerpts[0].path).unwrap();
    let at = (start(Source::Original) * f64::from(FS)).round() as usize;
    let c = correlation(
        &original_excerpt,
        &s.original,
        4410,
        at + 4410,
        20 * FS as usize,
    );
    assert!(c > 0.9999, "{c}");
}

#[test]
fn blind_file_alternates_the_matched_excerpts_as_its_key_says() {
    let s = session();
    let dir = scratch_dir("blind").join("pack");
    let summary = pack_with_reference(&dir, &s);
    let song = &summary.songs[0];
    let blind = read_audio_file(&song.blind_path).unwrap();
    // 30 s excerpts: four 8 s segments, the last 6 s, gapless.
    assert_eq!(blind.frames(), 30 * FS as usize);
    let key = read_key(&song.blind_key_path);
    assert_eq!(key.len(), 4);
    let excerpts: Vec<(String, Audio)> = song
        .excerpts
        .iter()
        .map(|e| {
            (
                e.source.label().to_string(),
                read_audio_file(&e.path).unwrap(),
            )
        })
        .collect();
    let segment = 8 * FS as usize;
    let margin = FS as usize / 50; // 20 ms clear of the 10 ms crossfades
    for (k, (number, start_s, source)) in key.iter().enumerate() {
        assert_eq!(*number, k + 1);
        assert!((start_s - 8.0 * k as f64).abs() < 1e-6, "{start_s}");
        if k > 0 {
            assert_ne!(&key[k - 1].2, source, "two segments of one source in a row");
        }
        let from = k * segment + margin;
        let frames = segment.min(blind.frames() - k * segment) - 2 * margin;
        let correlations: Vec<(String, f64)> = excerpts
            .iter()
            .map(|(label, audio)| {
                (
                    label.clone(),
                    correlation(&blind, audio, from, from, frames),
                )
            })
            .collect();
        println!("segment {number} ({source}): {correlations:?}");
        for (label, c) in &correlations {
            if label == source {
                assert!(*c > 0.9999, "segment {number} vs its source {label}: {c}");
            } else {
                assert!(*c < 0.99, "segment {number} ({source}) vs {label}: {c}");
            }
        }
    }
    // Every source is heard; the summary's order is the key's.
    for label in ["original", "master", "reference"] {
        assert!(key.iter().any(|(_, _, s)| s == label), "{label} missing");
    }
    let order: Vec<&str> = song.blind_order.iter().map(|b| b.source.label()).collect();
    assert_eq!(
        order,
        key.iter().map(|(_, _, s)| s.as_str()).collect::<Vec<_>>()
    );

    // The same inputs give the same pack, byte for byte.
    let again = scratch_dir("blind-again").join("pack");
    let second = pack_with_reference(&again, &s);
    assert_eq!(second.songs[0].blind_order, song.blind_order);
    assert_eq!(
        std::fs::read(&second.songs[0].blind_path).unwrap(),
        std::fs::read(&song.blind_path).unwrap()
    );
}

#[test]
fn every_blind_segment_is_loudness_matched_on_its_own() {
    // Issue 24: the segments were cut from excerpts matched over 30 s, so a segment from a
    // quieter stretch of its excerpt played 1-2 LU (here more) below its neighbours: a level
    // cue that gives the source away. A reference whose loudest 30 s hold a 10 s chorus
    // between quiet verses makes the cue large. Measured with the independent `ebur128`
    // crate, each 8 s segment (clear of the 10 ms joins) on its own.
    let mut s = session();
    s.reference = dynamic_mix(60.0, (25.0, 35.0), 12.0, -3.0, 7);
    let dir = scratch_dir("blind-segments").join("pack");
    let summary = pack_with_reference(&dir, &s);
    let song = &summary.songs[0];
    let blind = read_audio_file(&song.blind_path).unwrap();
    let key = read_key(&song.blind_key_path);
    let segment = 8 * FS as usize;
    let margin = FS as usize / 50;
    let cut = |audio: &Audio, k: usize| -> Audio {
        let from = k * segment + margin;
        let to = ((k + 1) * segment).min(audio.frames()) - margin;
        Audio {
            sample_rate: FS,
            channels: audio
                .channels
                .iter()
                .map(|c| c[from..to].to_vec())
                .collect(),
        }
    };
    let heard: Vec<f64> = (0..key.len())
        .map(|k| ebur128_integrated(&cut(&blind, k)))
        .collect();
    // What the segments were before: cut from the excerpts matched over their whole length.
    let unmatched: Vec<f64> = key
        .iter()
        .enumerate()
        .map(|(k, (_, _, source))| {
            let e = song
                .excerpts
                .iter()
                .find(|e| e.source.label() == source)
                .unwrap();
            ebur128_integrated(&cut(&read_audio_file(&e.path).unwrap(), k))
        })
        .collect();
    let spread = |v: &[f64]| {
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
    };
    println!(
        "segments {:?}: {heard:.2?} LUFS (spread {:.2} LU); cut from the excerpts {unmatched:.2?} \
         (spread {:.2} LU)",
        key.iter().map(|k| k.2.as_str()).collect::<Vec<_>>(),
        spread(&heard),
        spread(&unmatched)
    );
    assert!(
        spread(&unmatched) > 1.0,
        "the test reference must vary inside its excerpt"
    );
    assert!(
        spread(&heard) <= 0.3,
        "blind segments differ by {:.2} LU: {heard:.2?}",
        spread(&heard)
    );
    // The key states the level the segments were matched to.
    let key_text = std::fs::read_to_string(&song.blind_key_path).unwrap();
    let level = heard.iter().sum::<f64>() / heard.len() as f64;
    assert!(
        key_text.contains(&format!("{level:.1} LUFS"))
            || key_text.contains(&format!("{:.1} LUFS", level + 0.05))
            || key_text.contains(&format!("{:.1} LUFS", level - 0.05)),
        "key does not state the segments' level {level:.2}: {key_text}"
    );
    // No segment peaks above the excerpts' -1 dBFS ceiling.
    assert!(
        sample_peak_dbfs(&blind) <= -0.99,
        "{}",
        sample_peak_dbfs(&blind)
    );
}

#[test]
fn report_is_self_contained_small_and_shows_the_figures() {
    let s = session();
    let dir = scratch_dir("report").join("pack");
    let summary = pack_with_reference(&dir, &s);
    let html = std::fs::read_to_string(&summary.report_path).unwrap();
    assert_eq!(html.len() as u64, summary.report_bytes);
    assert!(summary.report_bytes < 2_000_000, "{}", summary.report_bytes);
    let lower = html.to_ascii_lowercase();
    for external in [
        "http://", "https://", "<script", "<link", "<img", "@import", "url(http",
    ] {
        assert!(!lower.contains(external), "report contains {external}");
    }
    // Figures: the master's, the original's and the reference's integrated loudness.
    for audio in [&s.master, &s.original, &s.reference] {
        let figure = format!("{:.1}", analyse(audio).integrated_lufs);
        assert!(html.contains(&figure), "{figure} missing");
    }
    // Charts (loudness, tonal balance, differences, two histograms), platforms, escaping.
    assert!(html.matches("<svg").count() >= 5);
    for platform in fairmaster::targets::PLATFORMS {
        assert!(html.contains(platform.name), "{}", platform.name);
    }
    assert!(html.contains("the limiter &lt;works&gt; hard &amp; long"));
    assert!(html.contains("Quiet &lt;mix&gt; &amp; loud master"));
    assert!(!html.contains("<works>") && !html.contains("<mix>"));
    // The key is in the pack, not in the report (it would spoil the blind test).
    assert!(!html.contains("segment\tstart_s"));
    // The report names the true-peak meter it uses (it is no longer BS.1770-4 Annex 2's).
    assert!(
        html.contains("true peak by 8x oversampling with a 64-tap Kaiser-windowed sinc"),
        "the report does not name its true-peak meter"
    );
    for file in &summary.files {
        assert!(
            file.starts_with(&dir) && file.is_file(),
            "{}",
            file.display()
        );
    }
}

#[test]
fn existing_folder_is_refused_without_force_and_replaced_with_force() {
    let s = session();
    let root = scratch_dir("force");
    let dir = root.join("pack");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let songs = [song("song", &s)];
    let error = write_pack(&dir, &songs, None, &PackOptions::default()).unwrap_err();
    assert_eq!(error.path.as_deref(), Some(dir.as_path()));
    assert!(error.reason.contains("exists"), "{error}");
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    let options = PackOptions {
        force: true,
        ..PackOptions::default()
    };
    let summary = write_pack(&dir, &songs, None, &options).unwrap();
    assert!(!dir.join("keep.txt").exists());
    assert!(summary.report_path.is_file());
    // Without a reference: two excerpts, alternating.
    assert_eq!(summary.songs[0].excerpts.len(), 2);
    // Nothing but the pack is left in its parent (no partial or old folders).
    let names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["pack"]);
}

#[test]
fn a_failed_pack_leaves_nothing_behind() {
    let s = session();
    let root = scratch_dir("failure");
    // Unwritable location: the pack's parent is a regular file.
    std::fs::write(root.join("not-a-folder"), "x").unwrap();
    let dir = root.join("not-a-folder").join("pack");
    let error = write_pack(&dir, &[song("song", &s)], None, &PackOptions::default()).unwrap_err();
    assert!(error.path.is_some(), "{error}");
    println!("{error}");
    // Bad input found before anything is written, in a parent that does not exist yet.
    let short = Audio {
        sample_rate: FS,
        channels: vec![s.master.channels[0][..FS as usize].to_vec(); 2],
    };
    let bad = PackSong {
        master: &short,
        ..song("mismatched", &s)
    };
    let nested = root.join("new").join("pack");
    let error = write_pack(&nested, &[bad], None, &PackOptions::default()).unwrap_err();
    assert!(error.reason.contains("differ"), "{error}");
    // A reference at another rate is refused too.
    let other_rate = Audio {
        sample_rate: 48_000,
        ..s.reference.clone()
    };
    let error = write_pack(
        &nested,
        &[song("song", &s)],
        Some(("ref", &other_rate)),
        &PackOptions::default(),
    )
    .unwrap_err();
    assert!(error.reason.contains("rate"), "{error}");
    let names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["not-a-folder"]);
}

#[test]
fn album_pack_lists_every_song_and_the_loudness_spread() {
    // Three 12 s songs at different levels (the excerpt is then the whole song).
    let mixes: Vec<Audio> = [(-14.0, 3), (-20.0, 5), (-9.0, 9)]
        .iter()
        .map(|&(level, seed)| dynamic_mix(12.0, (2.0, 10.0), 6.0, level, seed))
        .collect();
    let masters: Vec<(Audio, Vec<[f32; 2]>)> = mixes.iter().map(|m| loud_master(m, 6.0)).collect();
    let names = ["Opener", "Ballad", "Single"];
    let songs: Vec<PackSong> = mixes
        .iter()
        .zip(&masters)
        .zip(names)
        .map(|((mix, (master, trace)), name)| PackSong {
            name,
            original: mix,
            master,
            gain_reduction_trace: trace,
            warnings: &[],
            target: None,
        })
        .collect();
    let dir = scratch_dir("album").join("album");
    let summary = write_pack(&dir, &songs, None, &PackOptions::default()).unwrap();
    assert_eq!(summary.songs.len(), 3);
    let html = std::fs::read_to_string(&summary.report_path).unwrap();
    for (i, song) in summary.songs.iter().enumerate() {
        assert_eq!(song.folder, dir.join(format!("{:02}-{}", i + 1, names[i])));
        assert!(html.contains(names[i]), "{} missing", names[i]);
        assert!(song.blind_path.is_file() && song.blind_key_path.is_file());
        // Whole 12 s song: two segments, 8 s and 4 s.
        let blind = read_audio_file(&song.blind_path).unwrap();
        assert_eq!(blind.frames(), 12 * FS as usize);
        assert_eq!(song.blind_order.len(), 2);
        assert_eq!(song.excerpts[0].start_seconds, 0.0);
    }
    let loudness: Vec<f32> = masters
        .iter()
        .map(|(m, _)| analyse(m).integrated_lufs)
        .collect();
    let spread = loudness.iter().copied().fold(f32::NEG_INFINITY, f32::max)
        - loudness.iter().copied().fold(f32::INFINITY, f32::min);
    assert!(spread > 3.0, "{loudness:?}");
    let line = format!("<b>{spread:.1} LU</b>");
    assert!(html.contains(&line), "spread {line} missing");
    for lufs in loudness {
        assert!(html.contains(&format!("{lufs:.1}")));
    }
    assert!(summary.report_bytes < 2_000_000);
}

/// Not a check: writes a realistic pack (the demo mix arranged into a 60 s song, mastered by
/// the real chain to -14 LUFS, with a loud reference) for the screenshot in `docs/report.png`:
/// `cargo test --test pack -- --ignored example_pack` then `scripts/screenshot-report.sh`.
/// The folder is `$FAIRMASTER_PACK_EXAMPLE` or `<tmp>/fairmaster-pack-example`.
#[test]
#[ignore = "writes an example pack for the docs"]
fn example_pack() {
    use fairmaster::ab::AbSettings;
    use fairmaster::offline::cli::dynamics_warnings;
    use fairmaster::offline::demo::demo_mix;
    use fairmaster::offline::render::{integrated_lufs, render, Rendered};
    use fairmaster::presets::reference_master;
    use fairmaster::stages::ChainSettings;

    // Intro, verse, chorus, verse, chorus, outro: 8 s demo loops at different levels.
    let loop_mix = demo_mix();
    let sections_db = [-14.0f32, -8.0, 0.0, -8.0, 0.0, 0.0, -12.0];
    let arrange = |mix: &Audio| Audio {
        sample_rate: mix.sample_rate,
        channels: mix
            .channels
            .iter()
            .map(|c| {
                sections_db
                    .iter()
                    .flat_map(|&db| c.iter().map(move |x| x * db_to_gain(db - 6.0)))
                    .collect()
            })
            .collect(),
    };
    let original = arrange(&loop_mix);
    let ab = AbSettings::default();
    // The reference-master preset into the limiter (ceiling -1 dBTP), its drive corrected by
    // the measured miss until within 0.1 LU (a few passes; not the renderer's full search).
    let master_to = |input: &Audio, lufs: f64| -> Rendered {
        let mut settings: ChainSettings = reference_master(false);
        settings.limiter.enabled = true;
        settings.limiter.ceiling_db = -1.0;
        let mut rendered = render(input, &settings, &ab, &mut |_| {});
        for _ in 0..4 {
            let miss = lufs - integrated_lufs(&rendered.audio);
            if miss.abs() < 0.1 {
                break;
            }
            settings.limiter.drive_db = (settings.limiter.drive_db + miss as f32).clamp(0.0, 24.0);
            rendered = render(input, &settings, &ab, &mut |_| {});
        }
        rendered
    };
    let target = (-14.0, -1.0f32);
    let mastered = master_to(&original, target.0);

    // The reference: another "record", mastered loud (-9 LUFS).
    let n = 60 * loop_mix.sample_rate as usize;
    let (l, r) = multitone_mix(n, loop_mix.sample_rate as f32);
    let noise = pink_noise(n, 11, -30.0);
    let reference_mix = Audio {
        sample_rate: loop_mix.sample_rate,
        channels: vec![
            l.iter().zip(&noise).map(|(a, b)| 0.5 * a + b).collect(),
            r.iter().zip(&noise).map(|(a, b)| 0.5 * a + b).collect(),
        ],
    };
    let reference = master_to(&reference_mix, -9.0).audio;

    let before = analyse(&original);
    let after = analyse(&mastered.audio);
    let warnings = dynamics_warnings(
        &before,
        &after,
        &mastered.gain_reduction,
        Some(analyse(&reference).plr_db),
    );
    let dir = std::env::var_os("FAIRMASTER_PACK_EXAMPLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("fairmaster-pack-example"));
    let summary = write_pack(
        &dir,
        &[PackSong {
            name: "Demo song",
            original: &original,
            master: &mastered.audio,
            gain_reduction_trace: &mastered.gain_reduction_trace,
            warnings: &warnings,
            target: Some(target),
        }],
        Some(("Loud reference", &reference)),
        &PackOptions {
            force: true,
            ..PackOptions::default()
        },
    )
    .unwrap();
    println!(
        "{} ({} bytes)",
        summary.report_path.display(),
        summary.report_bytes
    );
}
