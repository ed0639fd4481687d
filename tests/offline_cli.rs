//! The `fairmaster-render` binary end to end: the demo job, reports, settings sources, exit
//! codes and error messages, and the no-overwrite / no-partial-output rules.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fairmaster::offline::audio_io::{read_audio_file, write_wav_atomic, OutputFormat};
use fairmaster::offline::demo::demo_mix;
use fairmaster::offline::Audio;

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("offline-cli", test)
}

fn render(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fairmaster-render"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run fairmaster-render")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn short_mix(dir: &Path, name: &str, seconds: f64) -> PathBuf {
    let mix = demo_mix();
    let n = (seconds * f64::from(mix.sample_rate)) as usize;
    let audio = Audio {
        sample_rate: mix.sample_rate,
        channels: mix.channels.iter().map(|c| c[..n].to_vec()).collect(),
    };
    let path = dir.join(name);
    write_wav_atomic(&path, &audio, OutputFormat::Float32, false).unwrap();
    path
}

#[test]
fn demo_job_writes_a_master_and_reports_it() {
    let dir = scratch_dir("demo");
    let out = render(&dir, &["--target", "spotify", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["name"], "built-in demo mix");
    let achieved = file["target"]["achieved_lufs"].as_f64().unwrap();
    assert!((achieved + 14.0).abs() <= 0.5, "{achieved}");
    assert!(file["target"]["met"].as_bool().unwrap());
    for key in [
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "plr_db",
    ] {
        assert!(file["before"][key].is_number(), "before.{key}: {report}");
        assert!(file["after"][key].is_number(), "after.{key}: {report}");
    }
    assert!(file["gain_reduction"]["limiter_max_db"].is_number());
    let written = dir.join("fairmaster-demo.master.wav");
    let master = read_audio_file(&written).unwrap();
    assert_eq!(master.frames(), demo_mix().frames());
    let spec = hound::WavReader::open(&written).unwrap().spec();
    assert_eq!(spec.bits_per_sample, 24);

    // Again without --force: refused, the master is untouched.
    let before = std::fs::read(&written).unwrap();
    let again = render(&dir, &["--target", "spotify"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("fairmaster-demo.master.wav"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&written).unwrap(), before);

    // The table report names every measurement.
    let table = render(&dir, &["--target", "apple", "--force", "--bits", "16"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = String::from_utf8_lossy(&table.stdout);
    for label in [
        "Integrated loudness",
        "Loudness range",
        "True peak",
        "PLR",
        "Limiter GR",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    assert!(
        text.contains("Target -16.0 LUFS / -1.0 dBTP: hit"),
        "{text}"
    );
    let spec = hound::WavReader::open(&written).unwrap().spec();
    assert_eq!(spec.bits_per_sample, 16);
}

#[test]
fn daw_state_and_flags_give_identical_renders() {
    let dir = scratch_dir("state");
    let input = short_mix(&dir, "mix.wav", 1.5);
    // A plugin state as nice-plug's CLAP wrapper saves it (length header + JSON).
    let json = br#"{"version":"0.1.0","params":{"input_gain":{"f32":-2.5},"comp_on":{"bool":true},"comp_ratio":{"f32":3.0},"eq_on":{"bool":true},"eq_mode":{"string":"linear_phase"},"eq_b1_on":{"bool":true},"eq_b1_gain":{"f32":4.0}},"fields":{}}"#;
    let mut state = (json.len() as u64).to_le_bytes().to_vec();
    state.extend_from_slice(json);
    let state_path = dir.join("session.fmstate");
    std::fs::write(&state_path, state).unwrap();

    let from_state = render(
        &dir,
        &[
            "mix.wav",
            "--state",
            "session.fmstate",
            "-o",
            "a.wav",
            "--bits",
            "32f",
        ],
    );
    assert!(from_state.status.success(), "{}", stderr(&from_state));
    let from_flags = render(
        &dir,
        &[
            "mix.wav",
            "--preset",
            "plugin-default",
            "--set",
            "comp_on=true",
            "--set",
            "comp_ratio=3",
            "--set",
            "eq_on=on",
            "--set",
            "eq_mode=linear_phase",
            "--set",
            "eq_b1_on=true",
            "--set",
            "eq_b1_gain=4",
            "--input-gain=-2.5",
            "-o",
            "b.wav",
            "--bits",
            "32f",
        ],
    );
    assert!(from_flags.status.success(), "{}", stderr(&from_flags));
    let a = read_audio_file(&dir.join("a.wav")).unwrap();
    let b = read_audio_file(&dir.join("b.wav")).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.frames(), read_audio_file(&input).unwrap().frames());

    // A preset file in the documented format.
    let preset = dir.join("preset.json");
    std::fs::write(
        &preset,
        r#"{"fairmaster_preset": 1, "name": "test", "base": "plugin-default",
            "params": {"input_gain": -2.5, "comp_on": true, "comp_ratio": 3.0, "eq_on": true,
                       "eq_mode": "linear_phase", "eq_b1_on": true, "eq_b1_gain": 4.0}}"#,
    )
    .unwrap();
    let from_preset = render(
        &dir,
        &[
            "mix.wav",
            "--preset",
            "preset.json",
            "-o",
            "c.wav",
            "--bits",
            "32f",
        ],
    );
    assert!(from_preset.status.success(), "{}", stderr(&from_preset));
    assert_eq!(read_audio_file(&dir.join("c.wav")).unwrap(), a);
}

#[test]
fn bad_inputs_and_usage_errors_exit_non_zero_with_the_reason() {
    let dir = scratch_dir("errors");
    let good = short_mix(&dir, "good.wav", 1.0);
    std::fs::write(dir.join("text.wav"), b"not audio, just text").unwrap();
    std::fs::write(dir.join("empty.flac"), b"").unwrap();

    for (args, code, needles) in [
        (
            vec!["missing.wav"],
            1,
            vec!["missing.wav", "file not found"],
        ),
        (vec!["text.wav"], 1, vec!["text.wav", "unsupported"]),
        (vec!["empty.flac"], 1, vec!["empty.flac", "empty"]),
        (vec!["good.wav", "--set", "no_such=1"], 1, vec!["no_such"]),
        (
            vec!["good.wav", "--preset", "nope.json"],
            1,
            vec!["nope.json"],
        ),
        (vec!["good.wav", "--target", "loud"], 2, vec!["loud"]),
        (vec!["--frobnicate"], 2, vec!["--frobnicate"]),
    ] {
        let out = render(&dir, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{args:?}: '{needle}' not in '{err}'");
        }
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }

    // An album with one bad track writes nothing at all.
    let out = render(&dir, &["good.wav", "text.wav", "--target", "-14"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.join("good.master.wav").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("master") || n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(good.exists());

    let help = render(&dir, &["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--target"));
}

#[test]
fn listen_says_when_the_master_is_turned_down_to_meet_a_reference() {
    // A reference 30 dB under the master with one loud click: matching it would need about
    // 25 dB of safety limiting. It is raised 8 dB into its limiter and no further; the master
    // is turned down in monitoring by the rest, and the report says so (issue 24).
    let dir = scratch_dir("listen-turn-down");
    let mix = short_mix(&dir, "mix.wav", 6.0);
    let n = 6 * 48_000;
    let mut quiet = common::signals::pink_noise(n, 3, -40.0);
    quiet[24_000] = 0.5;
    let reference = Audio {
        sample_rate: 48_000,
        channels: vec![quiet.clone(), quiet],
    };
    write_wav_atomic(
        &dir.join("quiet.wav"),
        &reference,
        OutputFormat::Float32,
        false,
    )
    .unwrap();
    let mix = mix.to_str().unwrap();
    let args = [
        mix,
        "--reference",
        "quiet.wav",
        "--listen",
        "reference",
        "--dry-run",
    ];
    let json = render(&dir, &[&args[..], &["--json"]].concat());
    assert!(json.status.success(), "{}", stderr(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let down = report["master_down_db"].as_f64().unwrap();
    let limiting = report["reference_safety_limiting_db"].as_f64().unwrap();
    assert!(down > 5.0, "master turned down {down} dB: {report}");
    assert!((limiting - 8.0).abs() < 1e-3, "{limiting} dB of limiting");
    let table = render(&dir, &args);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("master turned down") && text.contains("within 8 dB of safety limiting"),
        "{text}"
    );
}

/// Issue 25: the subcommands through the binary. `analyze` measures and writes nothing,
/// `listen MODE INPUT` is `INPUT --listen MODE`, `master` takes an input named like a
/// subcommand, negative values parse, and clap's usage errors exit 2.
#[test]
fn subcommands_through_the_binary() {
    let dir = scratch_dir("subcommands");
    short_mix(&dir, "mix.wav", 1.5);
    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // analyze: the figures and the gain to the target, nothing written.
    let before = listing(&dir);
    let out = render(&dir, &["analyze", "mix.wav", "--target", "-14", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["name"], "mix.wav");
    let lufs = file["figures"]["integrated_lufs"].as_f64().unwrap();
    let gain = file["target"]["gain_db"].as_f64().unwrap();
    assert!((lufs + gain + 14.0).abs() < 0.05, "{lufs} + {gain}");
    assert!(file["figures"]["plr_db"].is_number());
    let table = render(&dir, &["analyze", "mix.wav", "--target", "spotify"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Integrated loudness") && text.contains("Target -14.0 LUFS"),
        "{text}"
    );
    assert_eq!(listing(&dir), before, "analyze wrote a file");

    // `listen MODE INPUT` renders what `--listen MODE` renders.
    let sub = render(
        &dir,
        &["listen", "original", "mix.wav", "-o", "sub.wav", "-q"],
    );
    assert!(sub.status.success(), "{}", stderr(&sub));
    let flag = render(&dir, &["mix.wav", "--listen", "b", "-o", "flag.wav", "-q"]);
    assert!(flag.status.success(), "{}", stderr(&flag));
    assert_eq!(
        read_audio_file(&dir.join("sub.wav")).unwrap(),
        read_audio_file(&dir.join("flag.wav")).unwrap()
    );

    // An input named like a subcommand, after `master`; a negative target as a value.
    std::fs::copy(dir.join("mix.wav"), dir.join("listen")).unwrap();
    let out = render(
        &dir,
        &["master", "listen", "--target", "-12", "--dry-run", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files"][0]["name"], "listen");
    let achieved = report["files"][0]["target"]["achieved_lufs"]
        .as_f64()
        .unwrap();
    assert!((achieved + 12.0).abs() <= 0.5, "{achieved}");

    // Usage errors from clap: exit 2 with the reason; help lists the subcommands.
    let out = render(&dir, &["listen", "mix.wav"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("mix.wav"), "{}", stderr(&out));
    let help = render(&dir, &["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["master", "listen", "analyze", "pack", "--target"] {
        assert!(text.contains(word), "{word} not in {text}");
    }
}
