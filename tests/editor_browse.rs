//! The reference panel's "Browse…" button through the real file dialog crate (`rfd`) on Linux:
//! with no XDG desktop portal reachable (the session bus address points nowhere) rfd falls back
//! to zenity, and a stand-in `zenity` first on `PATH` answers as the user would, so the whole
//! path runs (dialog thread, answer polled by the editor, loader thread) without a desktop.
//! Then a cancelled dialog: nothing changes and the panel says so.
//!
//! Its own test binary with one test: it sets the process environment (PATH and the D-Bus
//! address), which must not race other tests.
#![cfg(target_os = "linux")]

mod editor_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use editor_support::{app, scroll_and_click, step_until, App};
use egui_kittest::kittest::Queryable;
use fairmaster::editor::reference_panel::BROWSE_BUTTON_LABEL;
use fairmaster::reference::library::{ReferenceLibrary, SlotState};

const FS: u32 = 48_000;

fn write_tone(path: &Path) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: FS,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..5 * FS as usize {
        let v =
            (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / f64::from(FS)).sin()) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

/// A `zenity` that records its arguments and prints `answer` (empty: the user cancelled,
/// exit status 1 as zenity's).
fn fake_zenity(bin: &Path, log: &Path, answer: Option<&Path>) {
    let script = match answer {
        Some(p) => format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\necho '{}'\n",
            log.display(),
            p.display()
        ),
        None => format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nexit 1\n",
            log.display()
        ),
    };
    let path = bin.join("zenity");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Session {
    app: App,
    _library: ReferenceLibrary,
}

#[test]
fn browse_loads_the_chosen_file_and_a_cancel_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("fairmaster-browse-{}", std::process::id()));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let file = dir.join("chosen.wav");
    write_tone(&file);
    let log = dir.join("zenity-args.txt");
    fake_zenity(&bin, &log, Some(&file));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // This binary runs this one test, and sets the environment before starting any thread.
    std::env::set_var("PATH", path);
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/fairmaster-bus",
    );

    let app = app(None);
    let (library, _handover) = ReferenceLibrary::spawn(
        app.params.references.0.clone(),
        app.shared.reference_status.clone(),
    );
    library.set_sample_rate(FS as f32);
    let mut h = egui_kittest::Harness::builder()
        .with_size(editor_support::SIZE)
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(600)
        .build_ui_state(
            |ui, s: &mut Session| s.app.ui.ui(ui, &s.app.gui),
            Session {
                app,
                _library: library,
            },
        );
    h.run();
    scroll_and_click(&mut h, BROWSE_BUTTON_LABEL);
    h.step();
    step_until(&mut h, |s| {
        matches!(
            s.app.shared.reference_status.slots()[0].state,
            SlotState::Ready
        )
    });
    let files = h.state().app.params.references.0.files();
    assert_eq!(files[0].path.as_deref(), Some(file.to_str().unwrap()));
    // The dialog was asked for a file with the loader's formats as its filter.
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(args.contains("--file-selection"), "{args}");
    assert!(
        args.lines()
            .any(|l| l.starts_with("Audio |") && l.contains("*.flac") && l.contains("*.m4a")),
        "{args}"
    );

    // Cancelled: the slot keeps its file, the panel says no file was chosen.
    fake_zenity(&bin, &log, None);
    scroll_and_click(&mut h, BROWSE_BUTTON_LABEL);
    h.step();
    let start = Instant::now();
    while h.query_by_label_contains("No file chosen").is_none() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    let files = h.state().app.params.references.0.files();
    assert_eq!(files[0].path.as_deref(), Some(file.to_str().unwrap()));
    assert!(matches!(
        h.state().app.shared.reference_status.slots()[0].state,
        SlotState::Ready
    ));
}
