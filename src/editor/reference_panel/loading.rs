//! The slots and what goes into them: the slot buttons, files typed, browsed (the platform's
//! file dialog) or dropped on the editor, and what the loader says about the selected slot.

use std::sync::mpsc;

use egui::{CornerRadius, Stroke, Ui, WidgetInfo};

use super::super::theme;
use super::super::widgets::Ctl;
use super::{
    file_name, selected_slot, ReferencePanel, BROWSE_BUTTON_LABEL, LOAD_BUTTON_LABEL,
    PATH_FIELD_LABEL,
};
use crate::params::FairmasterParams;
use crate::reference::library::{SlotState, SlotStatus};
use crate::reference::playback::REFERENCE_SLOTS;
use crate::reference::state::SlotFile;

/// What the panel says when the dialog closes without a file. The dialog cannot tell a
/// cancel from a system without any dialog (on Linux: no XDG desktop portal and no zenity),
/// so the message covers both.
const NO_FILE_CHOSEN: &str =
    "No file chosen. If no dialog opened, type the path or drop the file on the editor";

/// The audio formats the loader reads (`reference::decode`), for the file dialog's filter.
const AUDIO_EXTENSIONS: [&str; 10] = [
    "wav", "wave", "aif", "aiff", "flac", "mp3", "ogg", "oga", "m4a", "mp4",
];

/// A file dialog that is open: the slot it loads into and the dialog's answer (a path, or
/// nothing when it was cancelled), from the thread that runs the dialog.
#[derive(Debug, Default)]
pub(super) struct BrowseJob {
    open: Option<(usize, mpsc::Receiver<Option<std::path::PathBuf>>)>,
}

impl BrowseJob {
    /// Opens the platform's file dialog for `slot`. On Linux (the XDG portal, or zenity when
    /// no portal runs) and Windows the dialog blocks the thread that runs it, so it runs on its
    /// own thread and the editor keeps drawing; macOS allows its panels only on the main thread,
    /// where it runs modal, as hosts expect of a plugin's file dialog.
    fn start(&mut self, slot: usize) -> Result<(), String> {
        let dialog = move || {
            rfd::FileDialog::new()
                .set_title(format!("Load reference {}", slot + 1))
                .add_filter("Audio", &AUDIO_EXTENSIONS)
                .add_filter("All files", &["*"])
                .pick_file()
        };
        let (sender, receiver) = mpsc::channel();
        if cfg!(target_os = "macos") {
            let _ = sender.send(dialog());
        } else {
            std::thread::Builder::new()
                .name("fairmaster-file-dialog".into())
                .spawn(move || {
                    let _ = sender.send(dialog());
                })
                .map_err(|e| format!("Could not open the file dialog: {e}"))?;
        }
        self.open = Some((slot, receiver));
        Ok(())
    }

    /// The dialog's answer once it is closed: `Some((slot, Some(path)))` for a chosen file.
    fn poll(&mut self) -> Option<(usize, Option<std::path::PathBuf>)> {
        let (slot, receiver) = self.open.as_ref()?;
        let answer = match receiver.try_recv() {
            Ok(path) => Some((*slot, path)),
            Err(mpsc::TryRecvError::Empty) => return None,
            // The dialog's thread ended without an answer (it panicked, or no dialog could be
            // shown): treated as cancelled.
            Err(mpsc::TryRecvError::Disconnected) => Some((*slot, None)),
        };
        self.open = None;
        answer
    }
}

/// Puts `path` into `slot` (typed, browsed or dropped): made absolute, so the session still
/// finds it when the host's working directory differs; the same path again reloads the file
/// (it may have changed on disk), a new one drops the previous file's cached analysis.
fn load_into_slot(
    slots: &crate::reference::state::ReferenceSlots,
    slot: usize,
    path: &str,
) -> String {
    let absolute = std::path::absolute(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_owned());
    let mut same = false;
    slots.update_file(slot, |f| {
        same = f.path.as_deref() == Some(absolute.as_str());
        f.path = Some(absolute.clone());
        if !same {
            f.content_hash = None;
            f.summary = None;
        }
    });
    if same {
        slots.request_reload();
    }
    absolute
}

/// Files dropped on the editor (`RawInput::dropped_files`, forwarded from baseview by the
/// patched egui-baseview) go into slots: the first into the slot whose button it was dropped
/// on, or the selected slot, the rest into the empty slots that follow it. Returns the slot
/// that received the first file, to select it, and what the panel should say.
fn load_dropped(
    panel: &mut ReferencePanel,
    slots: &crate::reference::state::ReferenceSlots,
    files: &[SlotFile; REFERENCE_SLOTS],
    first_slot: usize,
    dropped: &[std::path::PathBuf],
) -> (String, bool) {
    let mut targets = vec![first_slot];
    targets.extend(
        (first_slot + 1..REFERENCE_SLOTS)
            .filter(|&i| files[i].path.is_none())
            .take(dropped.len().saturating_sub(1)),
    );
    for (&slot, path) in targets.iter().zip(dropped) {
        panel.path_text[slot] = load_into_slot(slots, slot, &path.display().to_string());
    }
    let loaded = targets.len().min(dropped.len());
    let slot_list = targets
        .iter()
        .take(loaded)
        .map(|i| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if loaded < dropped.len() {
        (
            format!(
                "Loaded {loaded} of {} dropped files (slot {slot_list}): no empty slot after slot {} for the rest",
                dropped.len(),
                first_slot + 1
            ),
            true,
        )
    } else if loaded > 1 {
        (
            format!("Loading {loaded} dropped files into slots {slot_list}"),
            false,
        )
    } else {
        (
            format!("Loading the dropped file into slot {slot_list}"),
            false,
        )
    }
}

/// The slot buttons, coloured by state; a file dragged over the editor shows where it goes.
/// Files dropped on the editor and the file dialog's answer go into slots. Returns true when a
/// file has just gone into a slot: the rest of the panel waits for the next frame.
pub(super) fn slot_row(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    panel: &mut ReferencePanel,
    statuses: &[SlotStatus; REFERENCE_SLOTS],
    files: &[SlotFile; REFERENCE_SLOTS],
) -> bool {
    let slots = &params.references.0;
    let slot = selected_slot(params);
    let dragging = ui.ctx().input(|i| !i.raw.hovered_files.is_empty());
    let dropped: Vec<std::path::PathBuf> = ui.ctx().input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .collect()
    });
    let pointer = ui.ctx().input(|i| i.pointer.latest_pos());
    let mut slot_under_pointer = None;
    ui.horizontal(|ui| {
        ctl.saw(&params.reference_slot);
        for (i, status) in statuses.iter().enumerate() {
            let color = match status.state {
                SlotState::Ready => theme::ACCENT,
                SlotState::Failed(_) => theme::WARN,
                SlotState::Loading => theme::ORIGINAL,
                SlotState::Empty => theme::TEXT_DIM,
            };
            let label = egui::RichText::new(format!("{}", i + 1)).color(color);
            let response = ui.selectable_label(i == slot, label);
            response.widget_info(|| {
                WidgetInfo::selected(
                    egui::Role::Button,
                    true,
                    i == slot,
                    format!("Reference Slot {}", i + 1),
                )
            });
            if pointer.is_some_and(|p| response.rect.contains(p)) {
                slot_under_pointer = Some(i);
                if dragging {
                    ui.painter().rect_stroke(
                        response.rect.expand(2.0),
                        CornerRadius::same(3),
                        Stroke::new(2.0, theme::ACCENT),
                        egui::StrokeKind::Outside,
                    );
                }
            }
            let response =
                response.on_hover_text(files[i].path.clone().unwrap_or_else(|| "empty".into()));
            if response.clicked() && i != slot {
                ctl.set(&params.reference_slot, i as i32 + 1);
            }
        }
    });

    if dragging {
        let target = slot_under_pointer.unwrap_or(slot);
        ui.label(
            egui::RichText::new(format!(
                "Drop to load into slot {} (more files fill the empty slots after it)",
                target + 1
            ))
            .size(11.0)
            .color(theme::ACCENT),
        );
        ui.ctx().request_repaint();
    }
    if !dropped.is_empty() {
        let target = slot_under_pointer.unwrap_or(slot);
        panel.message = Some(load_dropped(panel, slots, files, target, &dropped));
        if target != slot {
            ctl.set(&params.reference_slot, target as i32 + 1);
        }
        ui.ctx().request_repaint();
        return true;
    }
    if let Some((browsed_slot, chosen)) = panel.browse.poll() {
        if let Some(path) = chosen {
            panel.path_text[browsed_slot] =
                load_into_slot(slots, browsed_slot, &path.display().to_string());
            panel.message = None;
            if browsed_slot != slot {
                ctl.set(&params.reference_slot, browsed_slot as i32 + 1);
            }
            ui.ctx().request_repaint();
            return true;
        }
        panel.message = Some((NO_FILE_CHOSEN.into(), false));
    } else if panel.browse.open.is_some() {
        // Poll the dialog's answer while it is open.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
    false
}

/// The selected slot's file: the path field, Load, Browse…, Clear, then what the loader and
/// the panel have to say, and the loaded track's format.
pub(super) fn file_row(
    ui: &mut Ui,
    params: &FairmasterParams,
    panel: &mut ReferencePanel,
    slot: usize,
    status: &SlotStatus,
    file: &SlotFile,
) {
    let slots = &params.references.0;
    if panel.path_text[slot].is_empty() {
        if let Some(p) = &file.path {
            panel.path_text[slot] = p.clone();
        }
    }
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut panel.path_text[slot])
                .hint_text("path to a WAV/FLAC/AIFF/MP3/OGG/M4A file")
                .desired_width(118.0),
        );
        field.widget_info(|| WidgetInfo::labeled(egui::Role::TextInput, true, PATH_FIELD_LABEL));
        let load = ui.button("Load");
        load.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, LOAD_BUTTON_LABEL));
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if load.clicked() || enter {
            let text = panel.path_text[slot].trim().to_owned();
            if text.is_empty() {
                panel.message = Some((
                    "Type a file path first, browse, or drop a file on the editor".into(),
                    true,
                ));
            } else {
                panel.path_text[slot] = load_into_slot(slots, slot, &text);
                panel.message = None;
            }
        }
        let browsing = panel.browse.open.is_some();
        let browse = ui
            .add_enabled(!browsing, egui::Button::new("Browse…"))
            .on_hover_text("Choose a file (or drop files on the editor)");
        browse.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, BROWSE_BUTTON_LABEL));
        if browse.clicked() {
            if let Err(e) = panel.browse.start(slot) {
                panel.message = Some((e, true));
            }
        }
        if file.path.is_some()
            && ui
                .small_button("Clear")
                .on_hover_text("Empty this slot")
                .clicked()
        {
            slots.update_file(slot, |f| *f = SlotFile::default());
            panel.path_text[slot].clear();
        }
    });
    match &status.state {
        SlotState::Failed(reason) => {
            ui.label(egui::RichText::new(reason).size(11.0).color(theme::WARN));
            if file.summary.is_some() {
                ui.label(theme::caption(
                    "showing the analysis saved with the session",
                ));
            }
        }
        SlotState::Loading => {
            ui.label(theme::caption("loading…"));
        }
        _ => {}
    }
    if let Some(w) = &status.warning {
        ui.label(egui::RichText::new(w).size(11.0).color(theme::ORIGINAL));
    }
    if let Some((text, error)) = &panel.message {
        let color = if *error { theme::WARN } else { theme::TEXT_DIM };
        ui.label(egui::RichText::new(text).size(11.0).color(color));
    }
    if let Some(track) = &status.track {
        ui.label(theme::caption(format!(
            "{} · {} · {} Hz, {} ch",
            file_name(&track.source.path.display().to_string()),
            track.source.format,
            track.source.source_rate,
            track.source.source_channels
        )));
    }
}
