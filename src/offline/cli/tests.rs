//! The command line: values, the checks across options, the subcommands and their traps.

use std::path::PathBuf;

use super::*;
use crate::offline::album::AlbumMode;
use crate::offline::audio_io::OutputFormat;
use crate::offline::listen::ListenMode;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn parses_targets() {
    assert_eq!(
        TargetSpec::parse("spotify").unwrap(),
        TargetSpec::Preset {
            lufs: -14.0,
            ceiling_dbtp: -1.0
        }
    );
    assert_eq!(
        TargetSpec::parse("cd").unwrap(),
        TargetSpec::Cd {
            lufs: -12.0,
            ceiling_dbtp: -0.3
        }
    );
    assert_eq!(
        TargetSpec::parse("cd:-10").unwrap(),
        TargetSpec::Cd {
            lufs: -10.0,
            ceiling_dbtp: -0.3
        }
    );
    assert!(TargetSpec::parse("cd:loud").is_err());
    assert_eq!(
        TargetSpec::parse("club").unwrap(),
        TargetSpec::Preset {
            lufs: -9.0,
            ceiling_dbtp: -0.3
        }
    );
    assert_eq!(
        TargetSpec::parse("reference").unwrap(),
        TargetSpec::Reference
    );
    assert_eq!(TargetSpec::parse("-11.5").unwrap(), TargetSpec::Lufs(-11.5));
    assert_eq!(
        TargetSpec::parse("-10 LUFS").unwrap(),
        TargetSpec::Lufs(-10.0)
    );
    assert!(TargetSpec::parse("loud").is_err());
    assert!(TargetSpec::parse("5").is_err());
}

#[test]
fn parses_options() {
    let Command::Render(o) = parse_args(&args(&[
        "a.wav",
        "--target=-12",
        "--bits",
        "16",
        "--set",
        "eq_mode=linear_phase",
        "--album-mode",
        "same",
        "b.flac",
        "--force",
    ]))
    .unwrap() else {
        panic!("not a render")
    };
    assert_eq!(
        o.inputs,
        vec![PathBuf::from("a.wav"), PathBuf::from("b.flac")]
    );
    assert_eq!(o.target, Some(TargetSpec::Lufs(-12.0)));
    assert_eq!(o.format, OutputFormat::Int16);
    assert_eq!(o.sets, vec![("eq_mode".into(), "linear_phase".into())]);
    assert_eq!(o.album_mode, AlbumMode::Same);
    assert!(o.force);
    assert_eq!(parse_args(&args(&["-h"])).unwrap(), Command::Help);
    assert!(parse_args(&args(&["--bogus"])).is_err());
    assert!(parse_args(&args(&["--target"])).is_err());
    assert!(parse_args(&args(&["a.wav", "b.wav", "-o", "x.wav"])).is_err());
    assert!(parse_args(&args(&["--preset", "reference", "--state", "s.json"])).is_err());
    // A CD master is 16-bit; asking for 24 is refused, nothing given means 16.
    assert!(parse_args(&args(&["a.wav", "--target", "cd", "--bits", "24"])).is_err());
    let Command::Render(o) = parse_args(&args(&["a.wav", "--target", "cd"])).unwrap() else {
        panic!("not a render")
    };
    assert_eq!(o.format, OutputFormat::Int16);
    // Mastering toward a reference needs one; a reference needs a job.
    assert!(parse_args(&args(&["a.wav", "--target", "reference"])).is_err());
    assert!(parse_args(&args(&["a.wav", "--reference", "r.flac"])).is_err());
    let Command::Render(o) = parse_args(&args(&[
        "a.wav",
        "--reference",
        "r.flac",
        "--target",
        "reference",
        "--match-eq",
        "50%",
        "--match-smoothing",
        "1/6",
        "--preserve-dynamics",
        "10",
    ]))
    .unwrap() else {
        panic!("not a render")
    };
    assert_eq!(o.match_eq, Some(0.5));
    assert!((o.match_smoothing_octaves - 1.0 / 6.0).abs() < 1e-12);
    assert_eq!(o.dynamics_limits.min_plr_db, Some(10.0));
    // The width follows the tone's amount unless given; the bound defaults to 12 dB.
    let m = o.match_options().unwrap();
    assert_eq!((m.amount, m.width_amount, m.bound_db), (0.5, 0.5, 12.0));
    let Command::Render(o) = parse_args(&args(&[
        "a.wav",
        "--reference",
        "r.flac",
        "--match-width",
        "25",
        "--match-bound",
        "18dB",
    ]))
    .unwrap() else {
        panic!("not a render")
    };
    let m = o.match_options().unwrap();
    assert_eq!((m.amount, m.width_amount, m.bound_db), (0.0, 0.25, 18.0));
    for bad in [["--match-bound", "30"], ["--match-width", "-5"]] {
        let mut list = vec!["a.wav", "--reference", "r.flac"];
        list.extend(bad);
        assert!(parse_args(&args(&list)).is_err(), "{bad:?}");
    }
    let Command::Render(o) =
        parse_args(&args(&["a.wav", "--preserve-dynamics", "drive:6"])).unwrap()
    else {
        panic!("not a render")
    };
    assert_eq!(o.dynamics_limits.max_drive_db, Some(6.0));
    assert!(parse_args(&args(&["a.wav", "--preserve-dynamics", "1"])).is_err());
    assert!(parse_args(&args(&[
        "a.wav",
        "--match-eq",
        "150",
        "--reference",
        "r.wav"
    ]))
    .is_err());
}

fn job(list: &[&str]) -> Options {
    match parse(&args(list)) {
        Ok(Invocation::Job(o)) => *o,
        other => panic!("{list:?}: not a job: {other:?}"),
    }
}

fn shown(list: &[&str]) -> String {
    match parse(&args(list)) {
        Ok(Invocation::Show(text)) => text,
        other => panic!("{list:?}: nothing shown: {other:?}"),
    }
}

#[test]
fn master_is_the_default_subcommand() {
    let plain = job(&["a.wav", "--target", "spotify", "--bits", "16", "-q"]);
    assert_eq!(plain.job(), Job::Master);
    assert_eq!(
        job(&["master", "a.wav", "--target", "spotify", "--bits", "16", "-q"]),
        plain
    );
    // No argument at all: the demo job.
    assert_eq!(job(&[]), Options::default());
    assert_eq!(job(&["master"]), Options::default());
    // Only the first argument names a subcommand; later ones are inputs.
    assert_eq!(
        job(&["a.wav", "listen", "analyze"]).inputs,
        [PathBuf::from("a.wav"), "listen".into(), "analyze".into()]
    );
    assert_eq!(job(&["--quiet", "pack"]).inputs, [PathBuf::from("pack")]);
}

#[test]
fn an_input_named_like_a_subcommand() {
    // The subcommand wins as first argument ...
    assert!(
        parse(&args(&["listen"])).is_err(),
        "listen needs MODE INPUT"
    );
    // ... so such a file goes after `master`, with a path, or after `--`.
    for list in [&["master", "listen"][..], &["--", "listen"]] {
        assert_eq!(job(list).inputs, [PathBuf::from("listen")], "{list:?}");
    }
    assert_eq!(job(&["./listen"]).inputs, [PathBuf::from("./listen")]);
    assert_eq!(
        job(&["master", "pack", "analyze"]).inputs,
        [PathBuf::from("pack"), "analyze".into()]
    );
}

#[test]
fn the_listen_flag_is_the_listen_job() {
    let flag = job(&[
        "mix.wav",
        "--listen",
        "reference",
        "--reference",
        "r.flac",
        "--reference-offset",
        "-0.25",
        "--align",
    ]);
    assert_eq!(flag.job(), Job::Listen);
    assert_eq!(flag.listen, Some(ListenMode::Reference));
    let subcommand = job(&[
        "listen",
        "reference",
        "mix.wav",
        "--reference",
        "r.flac",
        "--reference-offset",
        "-0.25",
        "--align",
    ]);
    assert_eq!(subcommand, flag);
    // The A/B words of the plugin's switch (params::parse_ab_words), any case.
    for (word, mode) in [
        ("A", ListenMode::Master),
        ("master", ListenMode::Master),
        ("B: original", ListenMode::Original),
        ("b", ListenMode::Original),
        ("R", ListenMode::Reference),
    ] {
        assert_eq!(
            job(&["listen", word, "mix.wav", "--reference", "r.wav"]).listen,
            Some(mode),
            "{word}"
        );
        assert_eq!(
            job(&["mix.wav", "--listen", word, "--reference", "r.wav"]).listen,
            Some(mode),
            "{word}"
        );
    }
    assert!(parse(&args(&["mix.wav", "--listen", "on"])).is_err());
    // The listening job takes one input and no mastering options.
    assert!(parse(&args(&["listen", "master", "a.wav", "b.wav"])).is_err());
    assert!(parse(&args(&["listen", "master", "a.wav", "--target", "-14"])).is_err());
    assert!(parse(&args(&["a.wav", "--listen", "master", "--target", "-14"])).is_err());
}

#[test]
fn negative_numbers_are_values() {
    let o = job(&[
        "a.wav",
        "--target",
        "-12",
        "--input-gain",
        "-3",
        "--output-gain",
        "-0.5",
        "--ceiling",
        "-1.5",
        "--set",
        "comp_threshold=-20",
    ]);
    assert_eq!(o.target, Some(TargetSpec::Lufs(-12.0)));
    assert_eq!(o.input_gain_db.as_deref(), Some("-3"));
    assert_eq!(o.output_gain_db.as_deref(), Some("-0.5"));
    assert_eq!(o.ceiling_dbtp.as_deref(), Some("-1.5"));
    assert_eq!(o.sets, [("comp_threshold".into(), "-20".into())]);
    assert_eq!(
        job(&["a.wav", "--target", "-10 LUFS"]).target,
        Some(TargetSpec::Lufs(-10.0))
    );
    assert_eq!(
        job(&["a.wav", "--target=cd:-10"]).target,
        job(&["a.wav", "--target", "cd:-10"]).target
    );
    let o = job(&[
        "listen",
        "reference",
        "a.wav",
        "--reference",
        "r.wav",
        "--reference-trim",
        "-6",
        "--reference-offset",
        "-1.5",
    ]);
    assert_eq!(o.reference_trim_db, Some(-6.0));
    assert_eq!(o.reference_offset_seconds, Some(-1.5));
    assert_eq!(
        job(&["analyze", "a.wav", "--target", "-16"]).target,
        Some(TargetSpec::Lufs(-16.0))
    );
    // A value out of range is still refused, naming it.
    let error = parse(&args(&["a.wav", "--target", "-50"])).unwrap_err();
    assert!(error.contains("-50"), "{error}");
}

#[test]
fn repeated_options_the_last_counts_and_lists_add_up() {
    let o = job(&[
        "a.wav",
        "--target",
        "-14",
        "--target",
        "-12",
        "-q",
        "--quiet",
        "--set",
        "a=1",
        "--set",
        "b=2",
        "--noise-shaping",
        "--no-noise-shaping",
    ]);
    assert_eq!(o.target, Some(TargetSpec::Lufs(-12.0)));
    assert!(o.quiet);
    assert_eq!(o.sets.len(), 2);
    assert_eq!(o.noise_shaping, Some(false));
    let o = job(&[
        "a.wav",
        "--preserve-dynamics",
        "10",
        "--preserve-dynamics",
        "drive:6",
    ]);
    assert_eq!(o.dynamics_limits.min_plr_db, Some(10.0));
    assert_eq!(o.dynamics_limits.max_drive_db, Some(6.0));
}

#[test]
fn pack_is_the_mastering_job_with_a_pack() {
    let o = job(&["pack", "car", "a.wav", "b.wav", "--target", "-14"]);
    assert_eq!(o.job(), Job::Master);
    assert_eq!(
        o,
        job(&["a.wav", "b.wav", "--target", "-14", "--pack", "car"])
    );
    assert_eq!(o.pack, Some(PathBuf::from("car")));
    // The folder comes first: an audio file there is refused, and so is a second folder.
    let error = parse(&args(&["pack", "a.wav", "b.wav"])).unwrap_err();
    assert!(error.contains("a.wav"), "{error}");
    assert!(parse(&args(&["pack", "car", "a.wav", "--pack", "boat"])).is_err());
    assert!(parse(&args(&["pack"])).is_err());
}

#[test]
fn analyze_measures_and_writes_nothing() {
    let o = job(&["analyze", "a.wav", "b.flac", "--target", "apple", "--json"]);
    assert_eq!(o.job(), Job::Analyze);
    assert!(o.dry_run && o.json);
    assert_eq!(o.inputs, [PathBuf::from("a.wav"), "b.flac".into()]);
    // It writes nothing, so it takes no output options, and it renders nothing.
    for extra in [
        &["-o", "x.wav"][..],
        &["--bits", "16"],
        &["--pack", "p"],
        &["--match-eq", "50"],
    ] {
        let list = [&["analyze", "a.wav"][..], extra].concat();
        assert!(parse(&args(&list)).is_err(), "{list:?}");
    }
    assert!(parse(&args(&["analyze", "a.wav", "--target", "reference"])).is_err());
}

#[test]
fn help_version_and_errors_come_from_clap() {
    let help = shown(&["--help"]);
    for word in [
        "Usage", "--target", "--listen", "master", "listen", "analyze", "pack",
    ] {
        assert!(help.contains(word), "{word} not in\n{help}");
    }
    assert_eq!(help, usage());
    assert_eq!(parse_args(&args(&["-h"])).unwrap(), Command::Help);
    assert!(shown(&["listen", "--help"]).contains("MODE"));
    assert!(shown(&["help", "analyze"]).contains("without rendering"));
    assert!(shown(&["-V"]).contains(env!("CARGO_PKG_VERSION")));
    let error = parse(&args(&["--frobnicate"])).unwrap_err();
    assert!(error.contains("--frobnicate"), "{error}");
    let error = parse(&args(&["a.wav", "--target", "loud"])).unwrap_err();
    assert!(
        error.contains("loud") && error.contains("--target"),
        "{error}"
    );
    let error = parse(&args(&["a.wav", "--target"])).unwrap_err();
    assert!(error.contains("--target"), "{error}");
}

#[test]
fn completions_come_from_the_same_definition() {
    // Bash's script lists the subcommands and the options of the default job, from the one
    // clap definition; an unknown shell is a usage error naming the choices.
    let bash = shown(&["completions", "bash"]);
    for word in [
        "fairmaster-render",
        "analyze",
        "listen",
        "pack",
        "--target",
        "--reference",
    ] {
        assert!(bash.contains(word), "{word} not in the bash script");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            shown(&["completions", shell]).contains("fairmaster-render"),
            "{shell}"
        );
    }
    let error = parse(&args(&["completions", "tcsh"])).unwrap_err();
    assert!(error.contains("tcsh") && error.contains("bash"), "{error}");
    // A file called `completions` is still an input after `master`.
    let Invocation::Job(o) = parse(&args(&["master", "completions"])).unwrap() else {
        panic!("master completions is a mastering job");
    };
    assert_eq!(o.inputs, [PathBuf::from("completions")]);
}
