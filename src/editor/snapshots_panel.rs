//! The snapshot strip: eight versions of the master (keys 1–8 recall them), stored, recalled
//! through host gestures (one per changed parameter), compared at matched loudness (the
//! `snapshot_match` switch, with the applied offset shown), renamed, annotated, deleted and
//! exported as a user preset. The logic lives in `crate::snapshots`; this panel draws it and
//! feeds it the meters.
//!
//! The snapshots are a persisted field, not parameters: every edit of them here (store,
//! rename, note, delete, a recall that changes the current snapshot) tells the host through
//! [`Ctl::mark_state_dirty`], so the DAW knows the session changed and offers to save it. The
//! figures a playing snapshot keeps refining (`observe`) do not: they follow the audio, not an
//! edit.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use egui::{Ui, WidgetInfo};
use nice_plug::prelude::Params;
use serde_json::Value;

use super::presets;
use super::theme;
use super::widgets::{self, Ctl};
use crate::params::FairmasterParams;
use crate::presets::param_set::{snapshot_as_preset, version_values, ParamSet, STAGE_ORDER_KEY};
use crate::shared_state::SharedState;
use crate::snapshots::{Snapshot, SnapshotStats, MIN_MEASURED_SECONDS, SNAPSHOT_SLOTS};

/// Accessible label prefix of a snapshot button (followed by its number).
pub const SNAPSHOT_BUTTON_LABEL: &str = "Snapshot";
/// Accessible label of the store button.
pub const STORE_BUTTON_LABEL: &str = "Store snapshot";
/// Accessible label of the name field.
pub const NAME_FIELD_LABEL: &str = "Snapshot name";
/// Accessible label of the note field.
pub const NOTE_FIELD_LABEL: &str = "Snapshot note";
/// Accessible label of the delete button.
pub const DELETE_BUTTON_LABEL: &str = "Delete snapshot";
/// Accessible label of the export button.
pub const EXPORT_BUTTON_LABEL: &str = "Export snapshot as preset";

/// How often the live parameters are compared with the current snapshot and its figures
/// updated (seconds): the figures move slowly, and this reads every parameter.
const OBSERVE_INTERVAL_SECONDS: f64 = 0.25;

/// Editor-side state of the strip.
#[derive(Debug, Default)]
pub struct SnapshotPanel {
    /// The slot the details and *Store* apply to.
    selected: Option<usize>,
    /// The name and note being typed, and the slot they belong to.
    name_text: String,
    note_text: String,
    text_slot: Option<usize>,
    message: Option<(String, bool)>,
    /// A measurement restart was asked for (store, recall) and the audio thread has not shown
    /// the new span yet: the figures on screen are still the previous version's.
    awaiting_reset: bool,
    last_observe: Option<f64>,
    /// The parameters as the last observation saw them, and whether they changed since the
    /// measurement span began: a span over several settings describes no single version, so a
    /// store does not take its figures.
    last_values: Option<BTreeMap<String, Value>>,
    last_seconds: f32,
    span_mixed: bool,
    /// A preset was exported: the top bar's preset list needs a rescan.
    pub exported: bool,
}

fn now_unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// "2026-12-03 14:50 UTC" (the civil-from-days algorithm of H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms", for the proleptic Gregorian calendar).
pub fn utc_text(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let secs = unix_seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// A snapshot's figures in one line.
pub fn figures_text(stats: &SnapshotStats) -> String {
    format!(
        "I {:.1} LUFS · LRA {:.1} LU · TP {:.1} dBTP · PLR {:.1} dB",
        stats.integrated_lufs, stats.loudness_range_lu, stats.true_peak_dbtp, stats.plr_db
    )
}

/// Writes a snapshot's values into the parameters through the host: one gesture (begin, set,
/// end) per parameter whose value changes, none for the others, so the host's undo history
/// and automation get exactly the recall. The values are mapped to the host's normalised
/// values by a scratch parameter set (the same mapping a state load uses); values this build
/// does not know, or of the wrong kind, are skipped. Returns the number of gestures.
pub fn write_through_host(
    ctl: &Ctl,
    params: &FairmasterParams,
    values: &BTreeMap<String, Value>,
) -> usize {
    let mut scratch = ParamSet::plugin_default();
    for (id, value) in values {
        let _ = scratch.set_json(id, value);
    }
    let targets: HashMap<String, f32> = scratch
        .normalized_values(values.keys())
        .into_iter()
        .collect();
    let mut gestures = 0;
    for (id, ptr, _) in params.param_map() {
        let Some(&target) = targets.get(&id) else {
            continue;
        };
        // SAFETY: `ptr` comes from `params.param_map()`; the parameters outlive this frame.
        let current = unsafe { ptr.unmodulated_normalized_value() };
        if (current - target).abs() > 1e-6 {
            ctl.set_raw(ptr, target);
            gestures += 1;
        }
    }
    // The stage order is no parameter: it is stored at once (no gesture), counted as a change.
    let order = scratch.params().stage_order.get();
    if values.contains_key(STAGE_ORDER_KEY) && params.stage_order.get() != order {
        params.stage_order.set(order);
        gestures += 1;
    }
    gestures
}

impl SnapshotPanel {
    /// Stores the live settings in `slot` with the figures measured so far, and restarts the
    /// measurement so the next figures are this version's alone.
    fn store(&mut self, slot: usize, params: &FairmasterParams, shared: &SharedState) {
        let stats = SnapshotStats::from_readings(
            &shared.input.load(),
            &shared.output.load(),
            shared.measured_seconds.load(Ordering::Relaxed),
        )
        .filter(|_| !self.awaiting_reset && !self.span_mixed && self.span_is(params));
        let bank = &params.snapshots.0;
        bank.store(slot, version_values(params), now_unix_seconds(), stats);
        self.selected = Some(slot);
        self.text_slot = None;
        self.restart_measurement(shared);
        let name = bank.saved().slots[slot]
            .as_ref()
            .map_or(String::new(), |s| s.name.clone());
        self.message = Some((format!("Stored \"{name}\" in snapshot {}", slot + 1), false));
    }

    /// Recalls `slot` through the host and restarts the measurement. Making another snapshot
    /// current (or the current one unmodified) changes the saved snapshots, so the host is told
    /// even when no parameter changes.
    fn recall(&mut self, slot: usize, ctl: &Ctl, params: &FairmasterParams, shared: &SharedState) {
        self.selected = Some(slot);
        let bank = &params.snapshots.0;
        let before = bank.saved();
        let Some(values) = bank.recall(slot) else {
            return;
        };
        if before.current != Some(slot) || before.modified {
            ctl.mark_state_dirty();
        }
        let changed = write_through_host(ctl, params, &values);
        self.restart_measurement(shared);
        self.message = Some((
            format!(
                "Recalled snapshot {}: {changed} parameters changed",
                slot + 1
            ),
            false,
        ));
    }

    fn restart_measurement(&mut self, shared: &SharedState) {
        shared.request_meter_reset();
        self.awaiting_reset = true;
        self.span_mixed = false;
        self.last_values = None;
    }

    /// Whether the parameters are still those the last observation saw (an edit made since
    /// then would make the span mixed).
    fn span_is(&self, params: &FairmasterParams) -> bool {
        self.last_values
            .as_ref()
            .is_none_or(|v| crate::snapshots::values_match(&version_values(params), v))
    }

    /// Compares the live parameters with the current snapshot and hands it the figures
    /// measured since its store or recall (a few times per second).
    fn observe(&mut self, now: f64, params: &FairmasterParams, shared: &SharedState) {
        if self
            .last_observe
            .is_some_and(|t| now - t < OBSERVE_INTERVAL_SECONDS)
        {
            return;
        }
        self.last_observe = Some(now);
        let seconds = shared.measured_seconds.load(Ordering::Relaxed);
        if self.awaiting_reset
            && !shared.reset_meters_requested.load(Ordering::Acquire)
            && seconds < MIN_MEASURED_SECONDS
        {
            // The audio thread has restarted the measurement and published the new span.
            self.awaiting_reset = false;
        }
        if seconds < self.last_seconds {
            // A new span (a store, a recall or the meters' reset button).
            self.span_mixed = false;
        }
        self.last_seconds = seconds;
        let live = version_values(params);
        if self
            .last_values
            .as_ref()
            .is_some_and(|v| !crate::snapshots::values_match(&live, v))
        {
            self.span_mixed = true;
        }
        let measured = if self.awaiting_reset {
            None
        } else {
            SnapshotStats::from_readings(&shared.input.load(), &shared.output.load(), seconds)
        };
        params.snapshots.0.observe(&live, measured);
        self.last_values = Some(live);
    }
}

/// The slot *Store* writes to: the selected one, else the current snapshot's, else the first
/// empty one, else the first.
fn store_target(
    selected: Option<usize>,
    current: Option<usize>,
    slots: &[Option<Snapshot>],
) -> usize {
    selected
        .or(current)
        .or_else(|| slots.iter().position(Option::is_none))
        .unwrap_or(0)
}

pub fn show(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    shared: &SharedState,
    panel: &mut SnapshotPanel,
) {
    let bank = &params.snapshots.0;
    if bank.take_restored() {
        *panel = SnapshotPanel::default();
    }
    let now = ui.input(|i| i.time);
    panel.observe(now, params, shared);
    // Read once per frame; read again only after this frame changed the bank.
    let mut saved = bank.saved();
    let mut changed = false;
    if panel.selected.is_none() {
        panel.selected = saved.current;
    }

    // Keys 1–8 (unless typing): recall that snapshot, or select an empty slot for Store.
    if !ui.ctx().text_edit_focused() {
        const KEYS: [egui::Key; SNAPSHOT_SLOTS] = [
            egui::Key::Num1,
            egui::Key::Num2,
            egui::Key::Num3,
            egui::Key::Num4,
            egui::Key::Num5,
            egui::Key::Num6,
            egui::Key::Num7,
            egui::Key::Num8,
        ];
        let pressed = ui.input(|i| {
            KEYS.iter()
                .position(|&k| i.key_pressed(k) && !i.modifiers.any())
        });
        if let Some(slot) = pressed {
            if saved.slots[slot].is_some() {
                panel.recall(slot, ctl, params, shared);
                changed = true;
            } else {
                panel.selected = Some(slot);
            }
        }
    }
    if std::mem::take(&mut changed) {
        saved = bank.saved();
    }

    ui.horizontal(|ui| {
        ui.label(egui::RichText::new("Snapshots").size(13.0).strong());
        ctl.saw(&params.snapshot_match);
        widgets::toggle(ui, ctl, &params.snapshot_match, "Match");
        let matched = params.snapshot_match.value() && saved.current.is_some();
        let gain = bank.match_gain_db();
        let text = if !params.snapshot_match.value() {
            "heard as stored".to_owned()
        } else if !matched {
            "no snapshot current".to_owned()
        } else {
            format!("matched {gain:+.1} dB")
        };
        ui.label(egui::RichText::new(text).size(11.0).color(if matched {
            theme::ACCENT
        } else {
            theme::TEXT_DIM
        }))
        .on_hover_text(
            "Match: every snapshot plays at the loudness of the quietest one, measured while \
             each was heard, so louder is never mistaken for better",
        );
    });

    ui.horizontal(|ui| {
        for (i, slot) in saved.slots.iter().enumerate() {
            let current = saved.current == Some(i);
            let modified = current && saved.modified;
            let color = match slot {
                None => theme::TEXT_DIM,
                Some(_) if modified => theme::ORIGINAL,
                Some(_) => theme::ACCENT,
            };
            let mut text = format!("{}", i + 1);
            if modified {
                text.push('*');
            }
            let selected = panel.selected == Some(i);
            let mut label = egui::RichText::new(text).color(color);
            if current {
                label = label.strong();
            }
            let response = ui.selectable_label(selected, label);
            let name = slot.as_ref().map(|s| s.name.clone());
            response.widget_info(|| {
                let mut info = WidgetInfo::selected(
                    egui::Role::Button,
                    true,
                    selected,
                    format!("{SNAPSHOT_BUTTON_LABEL} {}", i + 1),
                );
                info.current_text_value = Some(name.clone().unwrap_or_else(|| "empty".into()));
                info
            });
            let hover = match &name {
                Some(n) if current => {
                    format!("{n} (current{})", if modified { ", modified" } else { "" })
                }
                Some(n) => format!("{n}: click or press {} to recall", i + 1),
                None => "empty: select, then Store".to_owned(),
            };
            if response.on_hover_text(hover).clicked() {
                if slot.is_some() {
                    panel.recall(i, ctl, params, shared);
                    changed = true;
                } else {
                    panel.selected = Some(i);
                }
            }
        }
        let target = store_target(panel.selected, saved.current, &saved.slots);
        let store = ui.button("Store").on_hover_text(format!(
            "Store the current settings in snapshot {}",
            target + 1
        ));
        store.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, STORE_BUTTON_LABEL));
        if store.clicked() {
            panel.store(target, params, shared);
            ctl.mark_state_dirty();
            changed = true;
        }
    });
    if changed {
        saved = bank.saved();
    }
    let Some(slot) = panel.selected else {
        ui.label(theme::caption(
            "Store the current settings to start comparing versions",
        ));
        show_message(ui, panel);
        return;
    };
    let Some(snapshot) = saved.slots[slot].clone() else {
        ui.label(theme::caption(format!(
            "Snapshot {} is empty: Store saves the current settings here",
            slot + 1
        )));
        show_message(ui, panel);
        return;
    };
    if panel.text_slot != Some(slot) {
        panel.name_text = snapshot.name.clone();
        panel.note_text = snapshot.note.clone();
        panel.text_slot = Some(slot);
    }
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut panel.name_text)
                .char_limit(crate::snapshots::NAME_MAX_CHARS)
                .desired_width(150.0),
        );
        field.widget_info(|| WidgetInfo::labeled(egui::Role::TextInput, true, NAME_FIELD_LABEL));
        if field.lost_focus() && panel.name_text.trim() != snapshot.name {
            match bank.rename(slot, &panel.name_text) {
                Ok(()) => {
                    panel.message = None;
                    ctl.mark_state_dirty();
                }
                Err(e) => {
                    panel.message = Some((e, true));
                    panel.name_text = snapshot.name.clone();
                }
            }
        }
        let delete = ui.small_button("Delete");
        delete.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, DELETE_BUTTON_LABEL));
        if delete.clicked() {
            bank.delete(slot);
            ctl.mark_state_dirty();
            panel.text_slot = None;
            panel.message = Some((format!("Deleted \"{}\"", snapshot.name), false));
        }
        let export = ui.small_button("Export").on_hover_text(
            "Save as a user preset (the preset menu's Load, fairmaster-render --preset)",
        );
        export.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, EXPORT_BUTTON_LABEL));
        if export.clicked() {
            panel.message = Some(export_preset(&snapshot));
            panel.exported = true;
        }
    });
    let note = ui.add(
        egui::TextEdit::multiline(&mut panel.note_text)
            .hint_text("note: what changed, what to listen for")
            .char_limit(crate::snapshots::NOTE_MAX_CHARS)
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    );
    note.widget_info(|| WidgetInfo::labeled(egui::Role::TextInput, true, NOTE_FIELD_LABEL));
    if note.changed() {
        bank.set_note(slot, &panel.note_text);
        ctl.mark_state_dirty();
    }
    match &snapshot.stats {
        Some(stats) => {
            ui.label(theme::caption(figures_text(stats)));
            ui.label(theme::caption(format!(
                "{:+.1} dB over the mix · measured over {:.0} s",
                stats.gain_over_original_db, stats.measured_seconds
            )));
        }
        None => {
            ui.label(theme::caption(format!(
                "not measured yet: play it for {MIN_MEASURED_SECONDS:.0} s"
            )));
        }
    }
    let modified = saved.current == Some(slot) && saved.modified;
    ui.label(theme::caption(format!(
        "stored {}{}",
        utc_text(snapshot.stored_unix_seconds),
        if modified {
            " · modified since (Store to update)"
        } else {
            ""
        }
    )));
    show_message(ui, panel);
}

fn show_message(ui: &mut Ui, panel: &SnapshotPanel) {
    if let Some((text, error)) = &panel.message {
        let color = if *error { theme::WARN } else { theme::TEXT_DIM };
        ui.label(egui::RichText::new(text).size(11.0).color(color));
    }
}

/// Writes the snapshot into the user preset folder as `<name>.json` (characters a file name
/// cannot hold become `_`), atomically.
fn export_preset(snapshot: &Snapshot) -> (String, bool) {
    let file_name: String = snapshot
        .name
        .chars()
        .map(|c| if "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect();
    let path = match presets::resolve_path(&file_name) {
        Ok(p) => p,
        Err(e) => return (e, true),
    };
    let json = match serde_json::to_string_pretty(&snapshot_as_preset(snapshot)) {
        Ok(j) => j,
        Err(e) => return (format!("Could not encode the preset: {e}"), true),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return (format!("Could not create {}: {e}", dir.display()), true);
        }
    }
    // Overwrites a preset of the same name, as the top bar's Save does.
    match crate::files::write_bytes_atomic(&path, json.as_bytes(), true) {
        Ok(()) => (format!("Exported to {}", path.display()), false),
        Err(e) => (format!("Could not export: {e}"), true),
    }
}
