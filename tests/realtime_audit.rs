//! The audio thread never blocks: no lock, blocking channel, sleep, I/O or logging in any of
//! our source files that `process()` can reach (`lib.rs` -> `engine.rs` -> `chain.rs`/`ab/`
//! -> `dsp/`, the parameter read-out in `params.rs`, the meter publishing in
//! `shared_state.rs`, reference playback and the auto-align capture in `reference/`). Allocation is caught separately at run time (nice-plug's
//! `assert_process_allocs`, e.g. `tests/fuzz.rs`); this test is the static half: a blocking
//! primitive cannot be added to one of these files without failing here.
//!
//! Whole files are scanned (constructors and `reset` included, which are not on the audio
//! thread), minus comments and `#[cfg(test)]` items: stricter than the call graph, and simple.
//! Not scanned, because `process()` cannot reach them: `editor/`, `offline/`, `bin/`,
//! `presets.rs`, `dsp/filters/linear_phase_designer.rs` and `dsp/util/designer_thread.rs` (their own thread; the audio side of
//! the kernel hand-over is the wait-free `rtrb` rings in `dsp/filters/linear_phase.rs`, which
//! are scanned).

use std::path::{Path, PathBuf};

/// Blocking primitives and calls that may block, sleep, do I/O or log.
const FORBIDDEN: &[&str] = &[
    "Mutex",
    "RwLock",
    "Condvar",
    "Barrier",
    "parking_lot",
    "mpsc",
    "crossbeam",
    "sync_channel",
    "OnceLock",
    "LazyLock",
    "lazy_static",
    "thread::sleep",
    "thread::spawn",
    "park(",
    ".lock()",
    ".join()",
    "std::fs",
    "std::io",
    "std::net",
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "dbg!",
    "nice_log!",
    "nice_warn!",
    "nice_error!",
    "nice_trace!",
    "nice_dbg!",
    "tracing::",
    "log::",
];

/// Source files (relative to `src/`) reachable from `Plugin::process`, or whole directories.
const AUDIO_PATH: &[&str] = &[
    "lib.rs",
    "engine.rs",
    "chain.rs",
    "ab",
    "stages",
    "params",
    "shared_state.rs",
    "targets.rs",
    "dsp",
    // The engine's reference playback and the align capture it fills (its buffer is published
    // once by the editor through an atomic pointer, no lock). Not `reference/track.rs`: its
    // lazily computed loudness curve is a `OnceLock`, read on the audio thread with `get`
    // only (one atomic load), which this scan cannot tell from `get_or_init`.
    "reference/playback.rs",
    "reference/align.rs",
];

/// Files inside [`AUDIO_PATH`] that run on their own thread, never on the audio thread.
const OFF_AUDIO_THREAD: &[&str] = &[
    "dsp/filters/linear_phase_designer.rs",
    "dsp/util/designer_thread.rs",
];

/// Removes `//` comments (doc comments included) and `/* */` blocks, and blanks string
/// literals, so prose and messages cannot trigger or hide a match.
fn strip_comments_and_strings(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' && !(i > 0 && b[i - 1] == b'\'') {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Removes every item marked `#[cfg(test)]` (a `mod x;` line or a braced item).
fn strip_test_items(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let semicolon = after.find(';').unwrap_or(after.len());
        let brace = after.find('{').unwrap_or(after.len());
        if semicolon < brace {
            rest = &after[(semicolon + 1).min(after.len())..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after[brace..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = brace + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for e in entries {
            rust_files(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs")
        // Unit-test files included with `#[cfg(test)] #[path = ...] mod ...;`.
        && !path.to_string_lossy().ends_with("_tests.rs")
        && !OFF_AUDIO_THREAD
            .iter()
            .any(|off| path.ends_with(off))
    {
        out.push(path.to_path_buf());
    }
}

#[test]
fn audio_path_sources_take_no_lock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for entry in AUDIO_PATH {
        let path = src.join(entry);
        assert!(
            path.exists(),
            "{} does not exist: update AUDIO_PATH",
            path.display()
        );
        rust_files(&path, &mut files);
    }
    let mut findings = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let code = strip_test_items(&strip_comments_and_strings(&text));
        for line in code.lines() {
            for token in FORBIDDEN {
                if line.contains(token) {
                    findings.push(format!(
                        "{}: `{token}` in: {}",
                        file.strip_prefix(&src).unwrap().display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    println!("realtime audit: {} files scanned", files.len());
    assert!(files.len() >= 20, "too few files scanned: {}", files.len());
    assert!(
        findings.is_empty(),
        "blocking or I/O primitives on the audio path:\n{}",
        findings.join("\n")
    );
}

#[test]
fn the_scanner_sees_what_it_must() {
    // The scanner itself: code is seen, comments, strings and test items are not.
    let src = "use std::sync::Mutex; // RwLock in a comment\nlet s = \"Condvar\";\n\
               #[cfg(test)]\nmod tests { fn f() { let m = Barrier::new(); { } } }\n\
               fn after() { x.lock(); }\n#[cfg(test)]\nmod more;\nfn last() {}";
    let code = strip_test_items(&strip_comments_and_strings(src));
    assert!(code.contains("Mutex"));
    assert!(!code.contains("RwLock"));
    assert!(!code.contains("Condvar"));
    assert!(!code.contains("Barrier"));
    assert!(code.contains(".lock()"));
    assert!(!code.contains("mod more"));
    assert!(code.contains("fn last"));
}
