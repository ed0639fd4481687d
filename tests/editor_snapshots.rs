//! The editor's snapshot strip driven by kittest (issue 15): store, recall by click and by the
//! keys 1–8 (one host gesture per changed parameter, through the editor's host stand-in),
//! match on/off, rename, note, delete, export as a preset that the renderer reads back, and
//! the figures measured while a snapshot is heard. With a GPU adapter it also renders the
//! strip for the README.

mod editor_support;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use editor_support::{app, harness, harness_builder, App};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use egui_kittest::SnapshotOptions;
use fairmaster::dsp::meters::program_meter::ProgramReadings;
use fairmaster::editor::snapshots_panel::{
    DELETE_BUTTON_LABEL, EXPORT_BUTTON_LABEL, NAME_FIELD_LABEL, NOTE_FIELD_LABEL,
    SNAPSHOT_BUTTON_LABEL, STORE_BUTTON_LABEL,
};
use fairmaster::editor::test_host::Gesture;
use fairmaster::presets::param_set::{version_values, ParamSet};
use nice_plug::prelude::Param;

/// The user preset folder is process-wide (`FAIRMASTER_PRESET_DIR`): the tests that depend on
/// it take this lock and point it at their own folder.
static PRESET_DIR: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn own_preset_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fairmaster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::env::set_var("FAIRMASTER_PRESET_DIR", &dir);
    dir
}

/// Sets a parameter as a user would elsewhere in the editor (one gesture).
fn edit<P: Param>(app: &App, param: &P, value: P::Plain) {
    let setter = app.gui.param_setter();
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

/// What the audio thread does when the editor restarts the measurement: take the request and
/// publish a new, empty span with these figures ([`publish`] then gives its length).
fn audio_thread_measures(app: &App, original_lufs: f32, master_lufs: f32) {
    let take = app.shared.take_meter_reset_request();
    assert!(take, "the store/recall asked for a fresh measurement");
    app.shared.measured_seconds.store(0.0, Ordering::Relaxed);
    let readings = |lufs: f32| ProgramReadings {
        momentary_lufs: lufs,
        short_term_lufs: lufs,
        integrated_lufs: lufs,
        loudness_range_lu: 4.5,
        true_peak_max_dbtp: -1.0,
        sample_peak_dbfs: -1.2,
    };
    app.shared.input.store(&readings(original_lufs));
    app.shared.output.store(&readings(master_lufs));
}

/// Replaces the selected snapshot's name in the name field, as typed (select all, type, Enter).
fn type_name(h: &mut egui_kittest::Harness<'_, App>, name: &str) {
    h.get_by_label(NAME_FIELD_LABEL).click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label(NAME_FIELD_LABEL).type_text(name);
    h.key_press(Key::Enter);
    h.run();
}

fn publish(app: &App, seconds: f32) {
    app.shared
        .measured_seconds
        .store(seconds, Ordering::Relaxed);
}

fn snapshot_button(n: usize) -> String {
    format!("{SNAPSHOT_BUTTON_LABEL} {n}")
}

/// Each ID with exactly one begin, one set and one end, in that order, and nothing else.
fn one_gesture_each(gestures: &[Gesture]) -> BTreeSet<String> {
    let ids: BTreeSet<String> = gestures.iter().map(|g| g.id().to_owned()).collect();
    for id in &ids {
        let mine: Vec<&Gesture> = gestures.iter().filter(|g| g.id() == id).collect();
        assert!(
            matches!(
                mine.as_slice(),
                [Gesture::Begin(_), Gesture::Set(_, _), Gesture::End(_)]
            ),
            "{id}: {mine:?}"
        );
    }
    ids
}

#[test]
fn store_recall_match_rename_note_delete_and_keys() {
    let mut h = harness(app(None));
    h.run();
    assert!(h
        .query_by_label_contains("Store the current settings to start")
        .is_some());

    // Store version 1 (first empty slot), measured: the audio thread publishes 5 s.
    h.get_by_label(STORE_BUTTON_LABEL).click();
    h.run();
    audio_thread_measures(h.state(), -20.0, -16.0);
    h.run_steps(20);
    publish(h.state(), 5.0);
    h.run_steps(20);
    let bank = h.state().params.snapshots.0.clone();
    let one = bank.find("1").unwrap();
    assert_eq!(one.params, version_values(&h.state().params));
    let stats = one.stats.expect("measured while heard");
    assert_eq!(
        (stats.integrated_lufs, stats.gain_over_original_db),
        (-16.0, 4.0)
    );
    assert!(h
        .query_by_label_contains("I -16.0 LUFS · LRA 4.5 LU · TP -1.0 dBTP · PLR 15.0 dB")
        .is_some());

    // Version 2: +3 dB drive and a bell, stored in slot 2 (selected with the key 2).
    let drive = h.state().params.stages.limiter.drive.value();
    edit(
        h.state(),
        &h.state().params.stages.limiter.drive,
        drive + 3.0,
    );
    edit(h.state(), &h.state().params.stages.eq.bell1.gain, 2.5);
    h.key_press(Key::Num2);
    h.run();
    h.get_by_label(STORE_BUTTON_LABEL).click();
    h.run();
    // The meters' span so far covers version 1 and the edits: not this version's figures.
    assert_eq!(bank.find("2").unwrap().stats, None);
    audio_thread_measures(h.state(), -20.0, -13.0);
    h.run_steps(20);
    publish(h.state(), 6.0);
    h.run_steps(20);
    assert_eq!(bank.saved().current, Some(1));
    // Matched: version 2 (7 dB over the mix) plays at version 1's level (4 dB over).
    assert!((bank.match_gain_db() + 3.0).abs() < 1e-4);
    assert!(h.query_by_label_contains("matched -3.0 dB").is_some());

    // Recall version 1 with the key 1: one gesture per changed parameter, nothing else.
    h.state().host.take_gestures();
    h.key_press(Key::Num1);
    h.run();
    let changed = one_gesture_each(&h.state().host.take_gestures());
    assert_eq!(
        changed,
        BTreeSet::from(["eq_b1_gain".to_owned(), "lim_drive".to_owned()])
    );
    assert_eq!(h.state().params.stages.limiter.drive.value(), drive);
    assert_eq!(h.state().params.stages.eq.bell1.gain.value(), 0.0);
    assert_eq!(bank.saved().current, Some(0));
    assert_eq!(bank.match_gain_db(), 0.0);
    assert!(h
        .query_by_label_contains("Recalled snapshot 1: 2 parameters")
        .is_some());
    // Recalling what is already there changes nothing and sends nothing.
    h.state().host.take_gestures();
    h.get_by_label(&snapshot_button(1)).click();
    h.run();
    assert!(h.state().host.take_gestures().is_empty());
    // A click on snapshot 2 recalls it.
    h.get_by_label(&snapshot_button(2)).click();
    h.run();
    assert_eq!(h.state().params.stages.limiter.drive.value(), drive + 3.0);
    assert_eq!(
        one_gesture_each(&h.state().host.take_gestures()).len(),
        2,
        "two parameters back"
    );

    // Match off: one gesture on snapshot_match, the engine's gain is 0.
    h.get_by_label("Snapshot Match").click();
    h.run();
    assert!(!h.state().params.snapshot_match.value());
    assert_eq!(h.state().params.ab_settings().version_gain_db, 0.0);
    assert_eq!(
        one_gesture_each(&h.state().host.take_gestures()),
        BTreeSet::from(["snapshot_match".to_owned()])
    );
    assert!(h.query_by_label_contains("heard as stored").is_some());
    h.get_by_label("Snapshot Match").click();
    h.run();
    assert!((h.state().params.ab_settings().version_gain_db + 3.0).abs() < 1e-4);

    // An edit marks the current snapshot modified; its figures stop following the meters.
    edit(h.state(), &h.state().params.stages.output_gain.gain, -1.0);
    publish(h.state(), 9.0);
    h.run_steps(20);
    assert!(bank.saved().modified);
    assert!(h.query_by_label_contains("modified since").is_some());

    // Rename and note.
    type_name(&mut h, "Louder");
    assert_eq!(bank.find("2").unwrap().name, "Louder");
    h.get_by_label(NOTE_FIELD_LABEL).click();
    h.run();
    h.get_by_label(NOTE_FIELD_LABEL).type_text("+3 dB drive");
    h.run();
    assert_eq!(bank.find("louder").unwrap().note, "+3 dB drive");
    // A name another snapshot has is refused, the old name stays.
    type_name(&mut h, "snapshot 1");
    assert_eq!(bank.find("2").unwrap().name, "Louder");
    assert!(h.query_by_label_contains("Another snapshot").is_some());

    // Delete.
    h.get_by_label(DELETE_BUTTON_LABEL).click();
    h.run();
    assert!(bank.saved().slots[1].is_none());
    assert_eq!(bank.saved().current, None);
    assert_eq!(bank.match_gain_db(), 0.0);
    // Key 2 on the empty slot selects it, recalls nothing.
    h.state().host.take_gestures();
    h.key_press(Key::Num2);
    h.run();
    assert!(h.state().host.take_gestures().is_empty());
    assert!(h.query_by_label_contains("Snapshot 2 is empty").is_some());
}

/// The snapshots are a persisted field the host cannot see: each edit of them (store, rename,
/// note, delete, a recall that changes the current snapshot) tells the host the state changed
/// (`mark_state_dirty`, which nice-plug's wrappers turn into CLAP `mark_dirty` and VST3
/// `setDirty`), and nothing else does: opening and idling, the figures a playing snapshot
/// refines, a recall of what is already current, a parameter edit (the host sees that itself),
/// selecting an empty slot.
#[test]
fn each_snapshot_edit_marks_the_state_dirty_and_nothing_else_does() {
    let mut h = harness(app(None));
    h.run();
    h.run_steps(30);
    let host = h.state().host.clone();
    let bank = h.state().params.snapshots.0.clone();
    assert_eq!(host.take_dirty_marks(), 0, "opening and idling");

    h.get_by_label(STORE_BUTTON_LABEL).click();
    h.run();
    assert!(bank.saved().slots[0].is_some());
    assert!(host.take_dirty_marks() >= 1, "store");
    assert!(
        host.take_gestures().is_empty(),
        "a store changes no parameter"
    );

    // The stored snapshot is heard and measured: its figures follow, the session is not edited.
    audio_thread_measures(h.state(), -20.0, -16.0);
    h.run_steps(20);
    publish(h.state(), 5.0);
    h.run_steps(20);
    assert!(bank.saved().slots[0].as_ref().unwrap().stats.is_some());
    assert_eq!(host.take_dirty_marks(), 0, "figures measured while playing");

    h.get_by_label(&snapshot_button(1)).click();
    h.run();
    assert_eq!(host.take_dirty_marks(), 0, "recall of the current snapshot");

    type_name(&mut h, "Open");
    assert_eq!(bank.find("1").unwrap().name, "Open");
    assert!(host.take_dirty_marks() >= 1, "rename");

    h.get_by_label(NOTE_FIELD_LABEL).click();
    h.run();
    assert_eq!(host.take_dirty_marks(), 0, "focusing the note");
    h.get_by_label(NOTE_FIELD_LABEL).type_text("wide");
    h.run();
    assert_eq!(bank.find("1").unwrap().note, "wide");
    assert!(host.take_dirty_marks() >= 1, "note");

    // A parameter edit is the host's own business (and marks the snapshot modified)...
    let drive = h.state().params.stages.limiter.drive.value();
    edit(
        h.state(),
        &h.state().params.stages.limiter.drive,
        drive + 2.0,
    );
    h.run_steps(20);
    assert!(bank.saved().modified);
    assert_eq!(host.take_dirty_marks(), 0, "parameter edit");
    // ...recalling the snapshot makes it current and unmodified again.
    h.get_by_label(&snapshot_button(1)).click();
    h.run();
    assert!(!bank.saved().modified);
    assert!(
        host.take_dirty_marks() >= 1,
        "recall of a modified snapshot"
    );

    h.get_by_label(DELETE_BUTTON_LABEL).click();
    h.run();
    assert!(bank.saved().slots[0].is_none());
    assert!(host.take_dirty_marks() >= 1, "delete");

    h.key_press(Key::Num2);
    h.run();
    h.run_steps(20);
    assert_eq!(
        host.take_dirty_marks(),
        0,
        "selecting an empty slot, idling"
    );
}

/// Export: the snapshot becomes a user preset file, in the editor's preset format; the
/// renderer's `--preset FILE` reads it back as exactly the snapshot's settings.
#[test]
fn export_writes_a_preset_the_renderer_reads_as_the_snapshot() {
    let _lock = PRESET_DIR.lock().unwrap_or_else(|e| e.into_inner());
    let dir = own_preset_dir("snapshot-export");
    let mut h = harness(app(None));
    h.run();
    edit(h.state(), &h.state().params.stages.comp.ratio, 3.0);
    edit(h.state(), &h.state().params.stages.comp.enabled, true);
    h.get_by_label(STORE_BUTTON_LABEL).click();
    h.run();
    type_name(&mut h, "Glue: 3/1");
    h.get_by_label(EXPORT_BUTTON_LABEL).click();
    h.run();
    let path = dir.join("Glue_ 3_1.json");
    assert!(
        h.query_by_label_contains("Exported to").is_some(),
        "no export message"
    );
    let from_file = ParamSet::from_preset_file(&path).unwrap();
    assert_eq!(
        from_file.chain_settings(),
        h.state().params.chain_settings()
    );
    assert!(from_file.chain_settings().compressor.enabled);
    // The listening controls are not part of it (loading it leaves them alone).
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("ab_bypass") && !text.contains("snapshot_match"));
    assert!(text.contains("\"comp_ratio\""));
}

/// The strip with two measured snapshots, rendered for the README
/// (`tests/snapshots/snapshot_strip.png`).
#[test]
fn snapshot_strip_snapshot() {
    // No user presets: the top bar looks the same on every machine.
    let _lock = PRESET_DIR.lock().unwrap_or_else(|e| e.into_inner());
    own_preset_dir("snapshot-image");
    let built = std::panic::catch_unwind(|| {
        harness_builder()
            .wgpu()
            .build_ui_state(|ui, app: &mut App| app.ui.ui(ui, &app.gui), app(None))
    });
    let Ok(mut h) = built else {
        eprintln!("SKIPPED snapshot_strip_snapshot: no wgpu adapter");
        return;
    };
    h.run();
    h.get_by_label(STORE_BUTTON_LABEL).click();
    h.run();
    audio_thread_measures(h.state(), -21.0, -15.2);
    h.run_steps(20);
    publish(h.state(), 30.0);
    h.run_steps(20);
    let drive = h.state().params.stages.limiter.drive.value();
    edit(
        h.state(),
        &h.state().params.stages.limiter.drive,
        drive + 3.0,
    );
    h.key_press(Key::Num2);
    h.run();
    h.get_by_label(STORE_BUTTON_LABEL).click();
    h.run();
    audio_thread_measures(h.state(), -21.0, -13.1);
    h.run_steps(20);
    publish(h.state(), 24.0);
    h.run_steps(20);
    h.get_by_label(NOTE_FIELD_LABEL).click();
    h.run();
    h.get_by_label(NOTE_FIELD_LABEL)
        .type_text("+3 dB drive: louder, flatter chorus");
    h.key_press(Key::Escape);
    h.run();
    let bank = h.state().params.snapshots.0.clone();
    bank.rename(0, "Open").unwrap();
    bank.rename(1, "Loud").unwrap();
    // A fixed time, so the image is the same on every run.
    let saved = bank.saved();
    let mut fixed = saved.clone();
    for s in fixed.slots.iter_mut().flatten() {
        s.stored_unix_seconds = 1_796_313_600;
    }
    bank.restore(fixed);
    h.run_steps(5);
    if let Err(e) = h.render() {
        eprintln!("SKIPPED snapshot_strip_snapshot: rendering failed: {e}");
        return;
    }
    let options = SnapshotOptions::new()
        .threshold(1.0)
        .max_failed_pixels(1500);
    h.snapshot_options("snapshot_strip", &options);
}
