//! The reference block: listen to a reference (shortcut: the R key), pick one of the eight
//! slots, load a file into it (typed path, file dialog, or dropped on the editor), set its
//! loop on the waveform, its trim and whether it is a song of this record; the match mode; the
//! monitoring aids; and the album view (every song of the record beside the master).
//!
//! The editor only writes host parameters (with gestures) and the slots' persisted state
//! (`reference::state`); the loader thread does the loading and reports through
//! `SharedState::reference_status`.
//!
//! One file per job: `matching` (the R button, match mode, what is heard, the figures),
//! `loading` (slots, typed / browsed / dropped files), `alignment` (waveform, loop, trim,
//! offset, auto-align), `tonal` (the tonal balance) and `album` (the album view).

use std::sync::atomic::Ordering;

use egui::{Ui, WidgetInfo};

use super::widgets::{self, Ctl};
use crate::analysis::tonal::TonalBalance;
use crate::dsp::monitor::{Monitor, SOLO_BANDS};
use crate::params::FairmasterParams;
use crate::reference::library::SlotStatus;
use crate::reference::playback::REFERENCE_SLOTS;
use crate::reference::state::SlotFile;
use crate::reference::track::TrackSummary;
use crate::shared_state::{MasterTapConsumer, SharedState};

mod album;
mod alignment;
mod loading;
mod matching;
mod tonal;

pub use album::album_position_text;
pub use matching::{figures_line, fit_text, hearing_text};
pub use tonal::{TonalView, CLEAR_MATCH_LABEL, MATCH_BUTTON_LABEL};

/// Accessible label of the R button.
pub const REFERENCE_BUTTON_LABEL: &str = "Reference compare";
/// Accessible label of the path field.
pub const PATH_FIELD_LABEL: &str = "Reference file path";
/// Accessible label of the load button.
pub const LOAD_BUTTON_LABEL: &str = "Load reference";
/// Accessible label of the button that opens the platform's file dialog.
pub const BROWSE_BUTTON_LABEL: &str = "Browse for a reference";
/// Accessible label of the waveform (drag on it to set the loop).
pub const WAVEFORM_LABEL: &str = "Reference waveform";
/// Accessible label of the "song of this record" check box.
pub const SONG_LABEL: &str = "Song of this record";

/// Accessible label of the tonal balance plot (its value lists the third-octave Δ).
pub const TONAL_LABEL: &str = "Tonal balance";
/// Accessible label of the auto-align button.
pub const ALIGN_BUTTON_LABEL: &str = "Align reference";
/// Accessible label of the offset field.
pub const OFFSET_FIELD_LABEL: &str = "Reference offset";
/// Accessible label prefix of a song in the album view (followed by its slot number).
pub const ALBUM_SONG_LABEL: &str = "Album song";

/// Editor-side state of the panel (text being typed, the last message, the tonal analysis).
#[derive(Debug, Default)]
pub struct ReferencePanel {
    path_text: [String; REFERENCE_SLOTS],
    /// Loop drag on the waveform: where it started (seconds).
    drag_from: Option<f64>,
    message: Option<(String, bool)>,
    tonal: TonalView,
    align: alignment::AlignJob,
    browse: loading::BrowseJob,
}

impl ReferencePanel {
    /// Gives the panel the editor end of the master tap.
    pub fn set_master_tap(&mut self, tap: Option<MasterTapConsumer>) {
        self.tonal.tap = tap;
    }

    /// Gives the panel the editor end of the EQ input tap (the match EQ's "before").
    pub fn set_eq_input_tap(&mut self, tap: Option<MasterTapConsumer>) {
        self.tonal.eq_input_tap = tap;
    }

    /// The live master's tonal balance (tests read it).
    pub fn master_tonal_balance(&self) -> Option<&TonalBalance> {
        self.tonal.master_balance.as_ref()
    }

    /// Sets the path field of a slot (as if typed).
    pub fn set_path_text(&mut self, slot: usize, text: impl Into<String>) {
        if let Some(t) = self.path_text.get_mut(slot) {
            *t = text.into();
        }
    }
}

/// The selected slot, 0-based.
fn selected_slot(params: &FairmasterParams) -> usize {
    (params
        .reference_slot
        .value()
        .clamp(1, REFERENCE_SLOTS as i32)
        - 1) as usize
}

/// The file name of a path, for lists.
fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_owned())
}

/// The slot's figures: from the loaded track, else the analysis cached in the session.
fn summary_of(status: &SlotStatus, file: &SlotFile) -> Option<TrackSummary> {
    status.track.as_ref().map(|t| t.summary).or(file.summary)
}

pub fn show(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    shared: &SharedState,
    panel: &mut ReferencePanel,
) {
    // The slots are saved with the session but are no parameters: an edit in this frame
    // (a file loaded, dropped or cleared, loop, trim, offset, alignment, song of the record)
    // marks the session dirty so the DAW offers to save it.
    let edits = params.references.0.edits();
    show_slots(ui, ctl, params, shared, panel);
    if params.references.0.edits() != edits {
        ctl.mark_state_dirty();
    }
}

fn show_slots(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    shared: &SharedState,
    panel: &mut ReferencePanel,
) {
    let slots = &params.references.0;
    let statuses = shared.reference_status.slots();
    let files = slots.files();
    let slot = selected_slot(params);
    if let Some(message) = panel.align.poll(shared, slots, &statuses) {
        panel.message = Some(message);
        ui.ctx().request_repaint();
    }
    matching::header(ui, ctl, params, shared);
    if loading::slot_row(ui, ctl, params, panel, &statuses, &files) {
        return;
    }
    // The selected slot's file.
    let file = &files[slot];
    let status = &statuses[slot];
    loading::file_row(ui, params, panel, slot, status, file);
    matching::figures_grid(
        ui,
        &matching::master_summary(shared),
        summary_of(status, file).as_ref(),
    );
    alignment::timeline(ui, params, shared, panel, slot, status, file);
    let mut song = file.song_of_record;
    let check = ui.checkbox(&mut song, SONG_LABEL);
    if check.changed() {
        slots.update_file(slot, |f| f.song_of_record = song);
    }

    ui.separator();
    monitor_row(ui, ctl, params);

    panel
        .tonal
        .update(shared.sample_rate.load(Ordering::Relaxed));
    let reference_track = statuses[slot].track.clone();
    let controls = slots.controls()[slot];
    tonal::tonal_view(
        ui,
        ctl,
        params,
        &mut panel.tonal,
        slot,
        reference_track.as_deref(),
        &controls,
    );

    album::album_view(ui, ctl, params, shared, &statuses, &files);
}

/// The monitoring aids: mono, side, L or R, and one band soloed.
fn monitor_row(ui: &mut Ui, ctl: &Ctl, params: &FairmasterParams) {
    ui.horizontal(|ui| {
        widgets::caption(ui, "Monitor");
        widgets::choice(ui, ctl, &params.monitor, 70.0);
        widgets::caption(ui, "Solo");
        ctl.saw(&params.solo_band);
        let band = params.solo_band.value();
        let text = if band <= 0 {
            "Full band".to_owned()
        } else {
            Monitor::band_label(band as usize - 1).to_owned()
        };
        let mut chosen = None;
        egui::ComboBox::from_id_salt("solo_band")
            .width(90.0)
            .selected_text(text.clone())
            .show_ui(ui, |ui| {
                if ui.selectable_label(band == 0, "Full band").clicked() {
                    chosen = Some(0);
                }
                for b in 0..SOLO_BANDS {
                    if ui
                        .selectable_label(band == b as i32 + 1, Monitor::band_label(b))
                        .clicked()
                    {
                        chosen = Some(b as i32 + 1);
                    }
                }
            })
            .response
            .widget_info(|| {
                let mut info = WidgetInfo::labeled(egui::Role::ComboBox, true, "Solo Band");
                info.current_text_value = Some(text.clone());
                info
            });
        if let Some(b) = chosen {
            ctl.set(&params.solo_band, b);
        }
    });
}
