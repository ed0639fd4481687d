//! Every `fairmaster-render` command the README shows, fenced or inline, run as written (issue
//! 24): a changed flag or a broken example fails here, not in a new user's terminal.
//!
//! Each command runs in an empty folder holding the inputs it names, made here with the names
//! as written and in the named format (WAV by `hound`'s rules, AIFF by a plain writer, FLAC a
//! real file written by another program, a session state saved by the plugin through the CLAP
//! host). It must exit 0, every audio file it writes must decode with `hound` (an independent
//! reader) and hold sound, and a `--json` report must parse. An `analyze` command must print
//! its figures and write nothing; a `completions` command its script and nothing else.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::audio_files::aiff_bytes;
use common::signals::multitone_mix;

const README: &str = include_str!("../README.md");

/// The README's placeholders that are not file names, and what the test types for them.
/// (`NAME` of `--snapshot NAME`: a snapshot of the generated session.)
const PLACEHOLDERS: &[(&str, &str)] = &[("NAME", "Loud")];

/// Flags whose value is a file or folder the command writes.
const OUTPUT_FLAGS: &[&str] = &[
    "-o",
    "--output",
    "--out-dir",
    "--preview",
    "--pack",
    "--cd-image",
    "--ddp",
];

/// Whether `text` is a command line that runs the renderer (not a file name or a mention in
/// a layout listing).
fn is_invocation(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with("fairmaster-render ")
        || (text.starts_with("cargo run ") && text.contains("--bin fairmaster-render"))
}

/// The `fairmaster-render` invocations in the README: lines of fenced blocks and inline code
/// spans that start with the command.
fn readme_invocations() -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in README.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            if is_invocation(line) {
                // A trailing shell comment is not part of the command.
                let command = line.split(" #").next().unwrap_or(line);
                found.push(command.trim().to_string());
            }
            continue;
        }
        // Inline code spans: the text between pairs of backticks.
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && is_invocation(span) {
                found.push(span.trim().to_string());
            }
        }
    }
    found
}

/// The arguments after the program name: `cargo run ... --bin fairmaster-render -- ARGS` or
/// `fairmaster-render ARGS`.
fn arguments(invocation: &str) -> Vec<String> {
    let words = shell_words(invocation);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let start = if words.first() == Some(&"cargo") {
        words
            .iter()
            .position(|w| *w == "--")
            .expect("a cargo run line passes its arguments after --")
            + 1
    } else {
        words
            .iter()
            .position(|w| *w == "fairmaster-render")
            .expect("the program name")
            + 1
    };
    words[start..]
        .iter()
        .map(|w| {
            PLACEHOLDERS
                .iter()
                .find(|(p, _)| p == w)
                .map_or(w.to_string(), |(_, v)| v.to_string())
        })
        .collect()
}

/// Splits a command line into words as a POSIX shell does for the README's examples:
/// whitespace separates, single and double quotes group (`--sides "A:1-2 B:3-4"` is one
/// argument), without the quotes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

fn write_wav(path: &Path, rate: u32, seconds: f64, gain: f32) {
    let n = (seconds * f64::from(rate)) as usize;
    let (l, r) = multitone_mix(n, rate as f32);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (a, b) in l.iter().zip(&r) {
        for v in [a, b] {
            w.write_sample((v * gain * 8_388_607.0).round() as i32)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Makes the input a command names, in the format its name says.
fn make_input(dir: &Path, flag: Option<&str>, name: &str) {
    let path = dir.join(name);
    if path.exists() {
        return;
    }
    let extension = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match (flag, extension.as_deref()) {
        (Some("--state"), _) => {
            let (session, _) = common::snapshots::session_with_snapshots();
            std::fs::write(path, session).unwrap();
        }
        (Some("--preset"), _) if !is_factory_preset(name) => {
            let preset =
                r#"{"fairmaster_preset": 1, "base": "reference", "params": {"lim_drive": 3}}"#;
            std::fs::write(path, preset).unwrap();
        }
        (_, Some("wav")) => write_wav(&path, 44_100, 8.0, 0.5),
        (_, Some("aiff" | "aif")) => {
            // The album's rate (a gapless preview needs one).
            let (l, r) = multitone_mix(6 * 44_100, 44_100.0);
            let quieter: Vec<Vec<f32>> = [l, r]
                .into_iter()
                .map(|c| c.into_iter().map(|v| v * 0.3).collect())
                .collect();
            std::fs::write(path, aiff_bytes(&quieter, 44_100, 24, 0)).unwrap();
        }
        // FLAC: a real file written by another program (tests/fixtures/reference/README.md).
        (_, Some("flac")) => {
            std::fs::copy(
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/reference/tone.flac"
                ),
                path,
            )
            .unwrap();
        }
        _ => {}
    }
}

fn is_factory_preset(name: &str) -> bool {
    fairmaster::presets::factory_preset(name).is_some() || name == "plugin-default"
}

/// Every file under `dir`, relative paths.
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

/// Runs one README command in its own folder; returns what went wrong, if anything.
fn run_invocation(index: usize, invocation: &str) -> Result<(), String> {
    let dir = common::scratch_dir("readme-commands", &format!("{index}"));
    let mut args = arguments(invocation);
    // Inputs, named as written: a value after an input flag, or a positional file.
    let mut previous: Option<String> = None;
    for arg in &args {
        let flag = previous.as_deref();
        let is_output = flag.is_some_and(|f| OUTPUT_FLAGS.contains(&f));
        if !arg.starts_with('-') && !is_output && !arg.contains('*') {
            make_input(&dir, flag, arg);
        }
        previous = Some(arg.clone());
    }
    // A shell glob: the shell expands it to the matching files, here two songs.
    if args.iter().any(|a| a.contains('*')) {
        let mut expanded = Vec::new();
        for arg in &args {
            match arg.strip_prefix('*') {
                Some(extension) if !arg[1..].contains('*') => {
                    for (i, name) in ["song-one", "song-two"].iter().enumerate() {
                        let file = format!("{name}{extension}");
                        write_wav(&dir.join(&file), 44_100, 8.0, 0.3 + 0.3 * i as f32);
                        expanded.push(file);
                    }
                }
                _ => expanded.push(arg.clone()),
            }
        }
        args = expanded;
    }
    let before = files_under(&dir);
    let output = Command::new(env!("CARGO_BIN_EXE_fairmaster-render"))
        .current_dir(&dir)
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "exit status {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    if args.iter().any(|a| a == "--json") {
        serde_json::from_str::<serde_json::Value>(&stdout)
            .map_err(|e| format!("--json printed no JSON ({e}): {stdout}"))?;
    }
    if args.iter().any(|a| a == "--help") {
        if !stdout.contains("USAGE") && !stdout.contains("Usage") {
            return Err(format!("--help printed no usage: {stdout}"));
        }
        return Ok(());
    }
    let written: Vec<PathBuf> = files_under(&dir).difference(&before).cloned().collect();
    // `analyze` measures and reports: it must print a report and write nothing.
    if args.first().is_some_and(|a| a == "analyze") {
        if !written.is_empty() {
            return Err(format!("analyze wrote {written:?}"));
        }
        if !stdout.contains("Integrated loudness") && !stdout.contains("integrated_lufs") {
            return Err(format!("analyze printed no figures: {stdout}"));
        }
        return Ok(());
    }
    // `completions SHELL` prints a script for the shell and writes nothing.
    if args.first().is_some_and(|a| a == "completions") {
        if !written.is_empty() {
            return Err(format!("completions wrote {written:?}"));
        }
        if !stdout.contains("fairmaster-render") {
            return Err(format!("completions printed no script: {stdout}"));
        }
        return Ok(());
    }
    if written.is_empty() {
        return Err("wrote nothing".into());
    }
    for file in &written {
        let path = dir.join(file);
        let is_wav = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
        if !is_wav {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if size == 0 {
                return Err(format!("{} is empty", file.display()));
            }
            continue;
        }
        let mut reader = hound::WavReader::open(&path)
            .map_err(|e| format!("{} does not decode: {e}", file.display()))?;
        let spec = reader.spec();
        let peak = match spec.sample_format {
            hound::SampleFormat::Float => reader
                .samples::<f32>()
                .map(|s| s.map(f32::abs))
                .try_fold(0.0f32, |m, s| s.map(|s| m.max(s))),
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u32 << (spec.bits_per_sample - 1)) as f32;
                reader
                    .samples::<i32>()
                    .map(|s| s.map(|v| (v as f32 * scale).abs()))
                    .try_fold(0.0f32, |m, s| s.map(|s| m.max(s)))
            }
        }
        .map_err(|e| format!("{} does not decode: {e}", file.display()))?;
        if !(peak > 1e-3 && peak <= 1.0) {
            return Err(format!("{} holds no sound (peak {peak})", file.display()));
        }
    }
    Ok(())
}

#[test]
fn every_fairmaster_render_command_in_the_readme_runs_as_written() {
    let invocations = readme_invocations();
    // The README's examples: the six of the offline section, reference listening, snapshots,
    // user presets, mastering toward a reference. Fewer means the extraction broke.
    assert!(
        invocations.len() >= 9,
        "found only {} commands: {invocations:#?}",
        invocations.len()
    );
    let failures: Vec<String> = invocations
        .iter()
        .enumerate()
        .filter_map(|(i, inv)| {
            let result = run_invocation(i, inv);
            println!("{} {inv}", if result.is_ok() { "ok  " } else { "FAIL" });
            result.err().map(|e| format!("`{inv}`\n    {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "README commands that fail as written:\n{}",
        failures.join("\n")
    );
}

/// The extraction itself: fenced, inline, cargo-run prefix, placeholders.
#[test]
fn the_extraction_finds_fenced_and_inline_commands() {
    let invocations = readme_invocations();
    assert!(invocations
        .iter()
        .any(|i| i.starts_with("cargo run --release --bin fairmaster-render -- a.flac")));
    assert!(invocations
        .iter()
        .any(|i| i.starts_with("fairmaster-render mix.wav --reference ref.flac --listen")));
    assert_eq!(
        arguments("cargo run --release --bin fairmaster-render -- a.wav --target -12"),
        ["a.wav", "--target", "-12"]
    );
    assert_eq!(
        arguments("fairmaster-render mix.wav --state s.bin --snapshot NAME"),
        ["mix.wav", "--state", "s.bin", "--snapshot", "Loud"]
    );
}
