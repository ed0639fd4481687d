//! The reference block: listen to a reference (shortcut: the R key), pick one of the eight
//! slots, load a file into it (typed path, file dialog, or dropped on the editor), set its
//! loop on the waveform, its trim and whether it is a song of this record; the match mode; the
//! monitoring aids; and the album view (every song of the record beside the master).
//!
//! The editor only writes host parameters (with gestures) and the slots' persisted state
//! (`reference::state`); the loader thread does the loading and reports through
//! `SharedState::reference_status`.

use std::sync::atomic::Ordering;
use std::sync::mpsc;

use egui::{Align2, CornerRadius, FontId, Sense, Stroke, Ui, WidgetInfo};

use super::meters::db;
use super::theme;
use super::widgets::{self, Ctl};
use crate::analysis::tonal::{TonalAnalyser, TonalBalance, SIXTH_BANDS};
use crate::dsp::monitor::{Monitor, SOLO_BANDS};
use crate::params::{FairmasterParams, ReferenceMatchParam};
use crate::reference::align::{align_offset, AlignError, CaptureState};
use crate::reference::library::{SlotState, SlotStatus};
use crate::reference::playback::{SlotControls, REFERENCE_SLOTS};
use crate::reference::state::SlotFile;
use crate::reference::track::ReferenceTrack;
use crate::reference::track::{TrackSummary, MAX_SAFETY_LIMITING_DB};
use crate::shared_state::{MasterTapConsumer, SharedState};

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
    align: AlignJob,
    browse: BrowseJob,
}

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
struct BrowseJob {
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

/// An auto-align in progress (`reference::align`): the slot it is for, then the search
/// running on its own thread once the capture is complete.
#[derive(Debug, Default)]
struct AlignJob {
    slot: Option<usize>,
    search: Option<mpsc::Receiver<Result<(i64, f32), AlignError>>>,
}

impl AlignJob {
    fn start(&mut self, slot: usize, shared: &SharedState) {
        shared
            .align_capture
            .request(shared.sample_rate.load(Ordering::Relaxed));
        self.slot = Some(slot);
        self.search = None;
    }

    fn cancel(&mut self, shared: &SharedState) {
        shared.align_capture.cancel();
        self.slot = None;
        self.search = None;
    }

    /// Moves the job on (editor thread, once per frame): starts the search when the capture
    /// is complete, applies its result. Returns what the panel should say.
    fn poll(
        &mut self,
        shared: &SharedState,
        slots: &crate::reference::state::ReferenceSlots,
        statuses: &[SlotStatus; REFERENCE_SLOTS],
    ) -> Option<(String, bool)> {
        let slot = self.slot?;
        if let Some(search) = &self.search {
            return match search.try_recv() {
                Ok(result) => {
                    self.slot = None;
                    self.search = None;
                    Some(match result {
                        Ok((offset, coherence)) => {
                            let mut c = slots.controls()[slot];
                            let rate = statuses[slot]
                                .track
                                .as_ref()
                                .map_or(48_000.0, |t| f64::from(t.sample_rate));
                            c.offset_seconds = offset as f64 / rate;
                            slots.set_controls(slot, c);
                            (
                                format!(
                                    "Aligned: offset {:+.2} ms ({offset:+} samples), coherence {coherence:.2}",
                                    1000.0 * c.offset_seconds
                                ),
                                false,
                            )
                        }
                        Err(e) => (format!("Not aligned: {e}"), true),
                    })
                }
                Err(mpsc::TryRecvError::Empty) => Some(("Align: searching…".into(), false)),
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.slot = None;
                    self.search = None;
                    Some(("Not aligned: the search stopped".into(), true))
                }
            };
        }
        match shared.align_capture.state() {
            CaptureState::WaitingForPlayback => Some((
                "Align: play the session (sync on) over a section with music".into(),
                false,
            )),
            CaptureState::Capturing(done) => Some((
                format!("Align: listening to the mix… {:.0} %", 100.0 * done),
                false,
            )),
            CaptureState::Done => {
                let (start, mix) = shared.align_capture.take()?;
                let Some(track) = statuses[slot].track.clone() else {
                    self.slot = None;
                    return Some(("Not aligned: the slot has no track".into(), true));
                };
                let current = (slots.controls()[slot].offset_seconds * f64::from(track.sample_rate))
                    .round() as i64;
                let (sender, receiver) = mpsc::channel();
                // The search (two FFTs of about a million points) runs off the editor thread.
                let spawned = std::thread::Builder::new()
                    .name("fairmaster-align".into())
                    .spawn(move || {
                        let _ = sender.send(align_offset(&track, start, &mix, current));
                    });
                if spawned.is_err() {
                    self.slot = None;
                    return Some(("Not aligned: could not start the search".into(), true));
                }
                self.search = Some(receiver);
                Some(("Align: searching…".into(), false))
            }
            CaptureState::Idle => {
                self.slot = None;
                None
            }
        }
    }
}

/// The live master's tonal analysis (fed from the master tap on this, the editor thread) and
/// the selected reference's balance over its loop, cached.
pub struct TonalView {
    tap: Option<MasterTapConsumer>,
    master: TonalAnalyser,
    master_balance: Option<TonalBalance>,
    frames_at_balance: usize,
    /// (track identity, loop) the cached reference balance belongs to.
    reference_key: Option<(usize, u64, u64)>,
    reference_balance: Option<TonalBalance>,
}

impl Default for TonalView {
    fn default() -> Self {
        Self {
            tap: None,
            master: TonalAnalyser::live(48_000.0),
            master_balance: None,
            frames_at_balance: 0,
            reference_key: None,
            reference_balance: None,
        }
    }
}

impl std::fmt::Debug for TonalView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TonalView")
            .field("tap", &self.tap.is_some())
            .field("master", &self.master)
            .finish_non_exhaustive()
    }
}

/// The master balance is re-summarised after this many new frames (about 0.5 s of audio).
const TONAL_REFRESH_FRAMES: usize = 3;

impl TonalView {
    /// Drains the master tap into the analyser (re-planned when the session rate changed)
    /// and refreshes the master balance now and then.
    fn update(&mut self, sample_rate: f32) {
        if sample_rate.is_finite()
            && sample_rate >= 8000.0
            && sample_rate != self.master.sample_rate()
        {
            self.master.reset(sample_rate);
            self.master_balance = None;
            self.frames_at_balance = 0;
        }
        if let Some(tap) = &mut self.tap {
            let analyser = &mut self.master;
            let mut gaps = 0;
            tap.drain(|l, r| analyser.push(l, r), || gaps += 1);
            if gaps > 0 {
                // Audio was dropped while the editor stalled: no frame may straddle it. (The
                // drain has already pushed what came before the gap.)
                analyser.restart_frame();
            }
        }
        let frames = self.master.frames().len();
        if frames < self.frames_at_balance
            || frames >= self.frames_at_balance + TONAL_REFRESH_FRAMES
        {
            self.master_balance = self.master.balance();
            self.frames_at_balance = frames;
        }
    }

    fn reference(
        &mut self,
        slot: usize,
        track: &ReferenceTrack,
        controls: &SlotControls,
    ) -> Option<&TonalBalance> {
        let key = (
            slot ^ (std::ptr::from_ref(track) as usize),
            controls.loop_start_seconds.to_bits(),
            controls.loop_end_seconds.to_bits(),
        );
        if self.reference_key != Some(key) {
            self.reference_balance =
                track.tonal_balance(controls.loop_start_seconds, controls.loop_end_seconds);
            self.reference_key = Some(key);
        }
        self.reference_balance.as_ref()
    }

    /// Forgets the master's analysis (a new song, a new section).
    fn restart(&mut self) {
        self.master.clear();
        self.master_balance = None;
        self.frames_at_balance = 0;
    }
}

impl ReferencePanel {
    /// Gives the panel the editor end of the master tap.
    pub fn set_master_tap(&mut self, tap: Option<MasterTapConsumer>) {
        self.tonal.tap = tap;
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

/// What is being heard, in words (the reference part; the A/B block says the rest).
pub fn hearing_text(params: &FairmasterParams, shared: &SharedState) -> String {
    let slot = selected_slot(params);
    let status = &shared.reference_status.slots()[slot];
    let offset = shared.reference_offset_db.load(Ordering::Relaxed);
    let mode = match params.reference_match.value() {
        ReferenceMatchParam::Integrated => "integrated",
        ReferenceMatchParam::ShortTerm => "short-term",
        ReferenceMatchParam::AsStreamed => "as streamed",
    };
    match (&status.state, status.track.is_some()) {
        (_, true) => format!("Reference {}: matched {offset:+.1} dB ({mode})", slot + 1),
        (SlotState::Loading, _) => format!("Reference {}: loading…", slot + 1),
        _ => format!("Reference {}: empty slot (silence)", slot + 1),
    }
}

/// What the match had to do to bring the reference to the master, when it is more than a
/// plain gain: raise it into its safety limiter, or turn the master down because the
/// reference cannot be raised far enough within `MAX_SAFETY_LIMITING_DB` (`ab/reference_path.rs`).
pub fn fit_text(shared: &SharedState) -> Option<String> {
    let down = shared.master_down_db.load(Ordering::Relaxed);
    let limiting = shared.reference_safety_limiting_db.load(Ordering::Relaxed);
    if down > 0.05 {
        Some(format!(
            "Master turned down {down:.1} dB to meet the reference (raising it more would \
             limit it by over {MAX_SAFETY_LIMITING_DB:.0} dB)"
        ))
    } else if limiting > 0.05 {
        Some(format!(
            "Reference raised {limiting:.1} dB into its safety limiter"
        ))
    } else {
        None
    }
}

pub fn show(
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
    let listening = params.listen_reference.value();
    if let Some(message) = panel.align.poll(shared, slots, &statuses) {
        panel.message = Some(message);
        ui.ctx().request_repaint();
    }

    ui.horizontal(|ui| {
        ctl.saw(&params.listen_reference);
        let (rect, mut response) = ui.allocate_exact_size(egui::vec2(96.0, 40.0), Sense::click());
        if response.clicked() {
            ctl.set(&params.listen_reference, !listening);
            response.mark_changed();
        }
        let on = params.listen_reference.value();
        let text = if on {
            format!(
                "R {:+.1}",
                shared.reference_offset_db.load(Ordering::Relaxed)
            )
        } else {
            "R".to_owned()
        };
        response.widget_info(|| {
            let mut info =
                WidgetInfo::selected(egui::Role::Button, true, on, REFERENCE_BUTTON_LABEL);
            info.current_text_value = Some(text.clone());
            info
        });
        if ui.is_rect_visible(rect) {
            let painter = ui.painter();
            let color = if on { theme::EQ_CURVE } else { theme::TEXT_DIM };
            let radius = CornerRadius::same(6);
            painter.rect_filled(rect, radius, color.gamma_multiply(0.18));
            painter.rect_stroke(
                rect,
                radius,
                Stroke::new(1.5, color),
                egui::StrokeKind::Inside,
            );
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                text,
                FontId::proportional(18.0),
                color,
            );
        }
        response.on_hover_text(
            "Hear the selected reference, level-matched to the master (shortcut: R key)",
        );
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                widgets::caption(ui, "Match");
                widgets::choice(ui, ctl, &params.reference_match, 96.0);
                widgets::toggle(ui, ctl, &params.reference_sync, "Sync");
            });
            let as_streamed = params.reference_match.value() == ReferenceMatchParam::AsStreamed;
            // Always shown (a host-automatable parameter keeps a control), active when the
            // match mode uses it.
            ui.add_enabled_ui(as_streamed, |ui| {
                ui.horizontal(|ui| {
                    widgets::caption(ui, "Platform");
                    widgets::choice(ui, ctl, &params.reference_platform, 110.0);
                });
            });
            if as_streamed {
                let master = shared.master_streamed_db.load(Ordering::Relaxed);
                ui.label(theme::caption(format!("master streamed {master:+.1} dB")));
            }
        });
    });
    ui.label(
        egui::RichText::new(hearing_text(params, shared))
            .size(12.0)
            .color(if listening {
                theme::EQ_CURVE
            } else {
                theme::TEXT_DIM
            }),
    );
    if let Some(fit) = fit_text(shared) {
        ui.label(egui::RichText::new(fit).size(11.0).color(theme::WARN));
    }

    // Slot buttons, coloured by state; a file dragged over the editor shows where it goes.
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
        panel.message = Some(load_dropped(panel, slots, &files, target, &dropped));
        if target != slot {
            ctl.set(&params.reference_slot, target as i32 + 1);
        }
        ui.ctx().request_repaint();
        return;
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
            return;
        }
        panel.message = Some((NO_FILE_CHOSEN.into(), false));
    } else if panel.browse.open.is_some() {
        // Poll the dialog's answer while it is open.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }

    // The selected slot's file.
    let file = &files[slot];
    let status = &statuses[slot];
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
    let master_summary = master_summary(shared);
    figures_grid(ui, &master_summary, summary_of(status, file).as_ref());

    // Waveform with the loop; drag to set it.
    let controls = slots.controls()[slot];
    if let Some(track) = &status.track {
        waveform(ui, slots, slot, &controls, track, panel);
    }
    ui.horizontal(|ui| {
        let mut c = controls;
        let duration = summary_of(status, file).map_or(3600.0, |s| s.duration_seconds);
        let mut changed = false;
        widgets::caption(ui, "Loop");
        changed |= ui
            .add(
                egui::DragValue::new(&mut c.loop_start_seconds)
                    .range(0.0..=duration)
                    .speed(0.1)
                    .suffix(" s"),
            )
            .changed();
        let mut end = if c.loop_end_seconds > c.loop_start_seconds {
            c.loop_end_seconds
        } else {
            duration
        };
        if ui
            .add(
                egui::DragValue::new(&mut end)
                    .range(0.0..=duration)
                    .speed(0.1)
                    .suffix(" s"),
            )
            .changed()
        {
            c.loop_end_seconds = end;
            changed = true;
        }
        if ui
            .small_button("All")
            .on_hover_text("Loop the whole track")
            .clicked()
        {
            c.loop_start_seconds = 0.0;
            c.loop_end_seconds = 0.0;
            changed = true;
        }
        widgets::caption(ui, "Trim");
        changed |= ui
            .add(
                egui::DragValue::new(&mut c.trim_db)
                    .range(-24.0..=24.0)
                    .speed(0.05)
                    .fixed_decimals(1)
                    .suffix(" dB"),
            )
            .changed();
        if changed {
            slots.set_controls(slot, c);
        }
    });
    ui.horizontal(|ui| {
        let mut c = controls;
        widgets::caption(ui, "Offset");
        let mut ms = c.offset_seconds * 1000.0;
        let field = ui
            .add(
                egui::DragValue::new(&mut ms)
                    .range(-600_000.0..=600_000.0)
                    .speed(0.5)
                    .fixed_decimals(2)
                    .suffix(" ms"),
            )
            .on_hover_text(
                "Where the reference sits on the host timeline (sync mode): its frame t + offset \
                 plays at timeline t",
            );
        field.widget_info(|| WidgetInfo::labeled(egui::Role::SpinButton, true, OFFSET_FIELD_LABEL));
        if field.changed() {
            c.offset_seconds = ms / 1000.0;
            slots.set_controls(slot, c);
        }
        let busy = panel.align.slot.is_some();
        let can = status.track.is_some() && params.reference_sync.value();
        let align = ui
            .add_enabled(
                can || busy,
                egui::Button::new(if busy { "Cancel" } else { "Align" }).small(),
            )
            .on_hover_text(
                "For a bounce of this mix: listens to 4 s of the mix as the host plays it and \
                 places the reference on the timeline to the sample (±2 s around now)",
            );
        align.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, ALIGN_BUTTON_LABEL));
        if align.clicked() {
            if busy {
                panel.align.cancel(shared);
                panel.message = None;
            } else {
                panel.align.start(slot, shared);
                panel.message = Some((
                    "Align: play the session (sync on) over a section with music".into(),
                    false,
                ));
            }
        }
    });
    let mut song = file.song_of_record;
    let check = ui.checkbox(&mut song, SONG_LABEL);
    if check.changed() {
        slots.update_file(slot, |f| f.song_of_record = song);
    }

    ui.separator();
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

    panel
        .tonal
        .update(shared.sample_rate.load(Ordering::Relaxed));
    let reference_track = statuses[slot].track.clone();
    let controls = slots.controls()[slot];
    tonal_view(
        ui,
        &mut panel.tonal,
        slot,
        reference_track.as_deref(),
        &controls,
    );

    album_view(ui, ctl, params, shared, &statuses, &files);
}

/// The tonal balance: master (live) and reference (its loop) curves at 1/6 octave with the
/// reference's 10–90 % range, then the third-octave Δ as bars; hover a bar for the band's
/// width and punch.
fn tonal_view(
    ui: &mut Ui,
    tonal: &mut TonalView,
    slot: usize,
    track: Option<&ReferenceTrack>,
    controls: &SlotControls,
) {
    let reference = track
        .and_then(|t| tonal.reference(slot, t, controls))
        .cloned();
    let master = tonal.master_balance.clone();
    let mut restart = false;
    egui::CollapsingHeader::new("Tonal balance")
        .id_salt("tonal_balance")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let legend = |text: &str, color| egui::RichText::new(text).size(11.0).color(color);
                ui.label(legend("master", theme::ACCENT));
                ui.label(legend("reference, 10–90 % shaded", theme::EQ_CURVE));
                let seconds = master.as_ref().map_or(0.0, |m| m.seconds_analysed);
                ui.label(theme::caption(format!("{seconds:.0} s heard")));
                if ui
                    .small_button("Restart")
                    .on_hover_text("Forget the master's analysis (a new song or section)")
                    .clicked()
                {
                    restart = true;
                }
            });
            if master.is_none() && reference.is_none() {
                ui.label(theme::caption(
                    "Play the session with the editor open: the master's long-term spectrum \
                     builds up here beside the reference's",
                ));
                return;
            }
            tonal_plot(ui, master.as_ref(), reference.as_ref());
            if let (Some(m), Some(r)) = (&master, &reference) {
                delta_bars(ui, m, r);
            }
        });
    if restart {
        tonal.restart();
    }
}

/// Frequency axis of the tonal plots: log 20 Hz–20 kHz.
fn freq_x(rect: egui::Rect, hz: f64) -> f32 {
    let t = ((hz / 20.0).ln() / (1000.0f64).ln()).clamp(0.0, 1.0) as f32;
    rect.left() + t * rect.width()
}

fn tonal_plot(ui: &mut Ui, master: Option<&TonalBalance>, reference: Option<&TonalBalance>) {
    let width = ui.available_width().max(120.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, 90.0), Sense::hover());
    // Both curves are relative to their own loudness; centre the scale on the mid bands.
    let mid = |b: &TonalBalance| {
        let v: Vec<f64> = b.sixth[20..45]
            .iter()
            .flatten()
            .map(|s| s.level_db)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let centre = master.or(reference).map_or(-20.0, mid);
    let span = 18.0;
    let y = |db: f64| {
        let t = ((db - (centre - span)) / (2.0 * span)).clamp(0.0, 1.0) as f32;
        rect.bottom() - t * rect.height()
    };
    response.widget_info(|| {
        WidgetInfo::labeled(egui::Role::Image, true, format!("{TONAL_LABEL} curves"))
    });
    if !ui.is_rect_visible(rect) {
        return;
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(theme::RADIUS), theme::PLOT_BG);
    for hz in [100.0, 1000.0, 10_000.0] {
        let x = freq_x(rect, hz);
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            Stroke::new(1.0, theme::LINE),
        );
        painter.text(
            egui::pos2(x + 2.0, rect.bottom() - 2.0),
            Align2::LEFT_BOTTOM,
            if hz >= 1000.0 {
                format!("{}k", hz / 1000.0)
            } else {
                format!("{hz}")
            },
            FontId::proportional(9.0),
            theme::TEXT_DIM,
        );
    }
    if let Some(r) = reference {
        let mut mesh = egui::epaint::Mesh::default();
        let fill = theme::EQ_CURVE.gamma_multiply(0.18);
        let mut last: Option<(egui::Pos2, egui::Pos2)> = None;
        for band in r.sixth.iter().take(SIXTH_BANDS).flatten() {
            let x = freq_x(rect, band.centre_hz);
            let (top, bottom) = (egui::pos2(x, y(band.p90_db)), egui::pos2(x, y(band.p10_db)));
            if let Some((pt, pb)) = last {
                let i = mesh.vertices.len() as u32;
                for p in [pt, pb, top, bottom] {
                    mesh.colored_vertex(p, fill);
                }
                mesh.add_triangle(i, i + 1, i + 2);
                mesh.add_triangle(i + 1, i + 3, i + 2);
            }
            last = Some((top, bottom));
        }
        painter.add(egui::Shape::mesh(mesh));
        let line: Vec<egui::Pos2> = r
            .sixth
            .iter()
            .flatten()
            .map(|b| egui::pos2(freq_x(rect, b.centre_hz), y(b.level_db)))
            .collect();
        painter.add(egui::Shape::line(line, Stroke::new(1.5, theme::EQ_CURVE)));
    }
    if let Some(m) = master {
        let line: Vec<egui::Pos2> = m
            .sixth
            .iter()
            .flatten()
            .map(|b| egui::pos2(freq_x(rect, b.centre_hz), y(b.level_db)))
            .collect();
        painter.add(egui::Shape::line(line, Stroke::new(1.5, theme::ACCENT)));
    }
}

/// Third-octave Δ (master − reference) as bars, ±6 dB full scale; hover for width and punch.
fn delta_bars(ui: &mut Ui, master: &TonalBalance, reference: &TonalBalance) {
    let deltas = master.third_octave_delta_db(reference);
    let width = ui.available_width().max(120.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, 44.0), Sense::hover());
    let summary: Vec<String> = deltas
        .iter()
        .zip(&master.third)
        .filter_map(|(d, m)| Some(format!("{} {:+.1}", hz_text(m.as_ref()?.nominal_hz), (*d)?)))
        .collect();
    let hovered_band = response.hover_pos().map(|p| {
        (((p.x - rect.left()) / rect.width()) * deltas.len() as f32)
            .clamp(0.0, deltas.len() as f32 - 1.0) as usize
    });
    let response = response.on_hover_ui(|ui| {
        let Some(k) = hovered_band else { return };
        let (Some(m), Some(r), Some(d)) = (master.third[k], reference.third[k], deltas[k]) else {
            ui.label("No reading in this band");
            return;
        };
        ui.label(format!(
            "{} Hz: master {:+.1} dB against the reference\n\
             width  S/M {:+.1} dB (ref {:+.1}), correlation {:.2} (ref {:.2})\n\
             punch  crest {:.1} dB (ref {:.1})",
            hz_text(m.nominal_hz),
            d,
            m.side_to_mid_db,
            r.side_to_mid_db,
            m.correlation,
            r.correlation,
            m.crest_db,
            r.crest_db
        ));
    });
    response.widget_info(|| {
        let mut info = WidgetInfo::labeled(egui::Role::Image, true, format!("{TONAL_LABEL} delta"));
        info.current_text_value = Some(summary.join(", "));
        info
    });
    if !ui.is_rect_visible(rect) {
        return;
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(theme::RADIUS), theme::PLOT_BG);
    let zero = rect.center().y;
    painter.line_segment(
        [
            egui::pos2(rect.left(), zero),
            egui::pos2(rect.right(), zero),
        ],
        Stroke::new(1.0, theme::LINE),
    );
    let w = rect.width() / deltas.len() as f32;
    for (k, d) in deltas.iter().enumerate() {
        let Some(d) = d else { continue };
        let h = (*d as f32 / 6.0).clamp(-1.0, 1.0) * (rect.height() / 2.0 - 2.0);
        let x = rect.left() + k as f32 * w;
        let bar = egui::Rect::from_min_max(
            egui::pos2(x + 1.0, zero.min(zero - h)),
            egui::pos2(x + w - 1.0, zero.max(zero - h)),
        );
        let color = if d.abs() >= 3.0 {
            theme::WARN
        } else {
            theme::ACCENT
        };
        painter.rect_filled(bar, CornerRadius::ZERO, color);
    }
    painter.text(
        rect.left_top() + egui::vec2(2.0, 1.0),
        Align2::LEFT_TOP,
        "Δ master − reference (±6 dB), 25 Hz–16 kHz",
        FontId::proportional(9.0),
        theme::TEXT_DIM,
    );
}

fn hz_text(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{}k", hz / 1000.0)
    } else {
        format!("{hz}")
    }
}

/// The loudness figures of the master and the selected reference, one row each, in columns
/// narrow enough for the side column. Each row's accessible label reads as one line
/// ("Reference I -15.3 LUFS LRA 4.1 LU TP -1.0 dBTP PLR 14.3 dB") for screen readers and tests.
fn figures_grid(ui: &mut Ui, master: &TrackSummary, reference: Option<&TrackSummary>) {
    egui::Grid::new("reference_figures")
        .num_columns(5)
        .spacing(egui::vec2(10.0, 2.0))
        .show(ui, |ui| {
            for h in ["", "I LUFS", "LRA LU", "TP dBTP", "PLR dB"] {
                ui.label(theme::caption(h));
            }
            ui.end_row();
            let rows =
                std::iter::once(("Master", master)).chain(reference.map(|r| ("Reference", r)));
            for (who, s) in rows {
                let line = figures_line(who, s);
                ui.label(egui::RichText::new(who).size(11.0).color(theme::TEXT))
                    .widget_info(|| WidgetInfo::labeled(egui::Role::Label, true, line.clone()));
                figure_cells(ui, s, Some(theme::TEXT));
                ui.end_row();
            }
        });
}

/// The master's figures as a summary: the output meter since its last reset.
fn master_summary(shared: &SharedState) -> TrackSummary {
    let master = shared.output.load();
    TrackSummary {
        duration_seconds: 0.0,
        integrated_lufs: master.integrated_lufs,
        loudness_range_lu: master.loudness_range_lu,
        true_peak_dbtp: master.true_peak_max_dbtp,
        plr_db: master.true_peak_max_dbtp - master.integrated_lufs,
    }
}

/// One grid row's figure cells: I, LRA, TP, PLR (`None` = the theme's label colour).
fn figure_cells(ui: &mut Ui, s: &TrackSummary, color: Option<egui::Color32>) {
    for v in [
        s.integrated_lufs,
        s.loudness_range_lu,
        s.true_peak_dbtp,
        s.plr_db,
    ] {
        let mut text = egui::RichText::new(db(v, 1)).monospace().size(11.0);
        if let Some(color) = color {
            text = text.color(color);
        }
        ui.label(text);
    }
}

/// One summary as a line of text: "Reference I -15.3 LUFS LRA 4.1 LU TP -1.0 dBTP PLR 14.3 dB".
pub fn figures_line(who: &str, s: &TrackSummary) -> String {
    format!(
        "{who} I {} LUFS LRA {} LU TP {} dBTP PLR {} dB",
        db(s.integrated_lufs, 1),
        db(s.loudness_range_lu, 1),
        db(s.true_peak_dbtp, 1),
        db(s.plr_db, 1)
    )
}

fn waveform(
    ui: &mut Ui,
    slots: &crate::reference::state::ReferenceSlots,
    slot: usize,
    controls: &SlotControls,
    track: &crate::reference::track::ReferenceTrack,
    panel: &mut ReferencePanel,
) {
    let width = ui.available_width().max(100.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, 44.0), Sense::click_and_drag());
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Image, true, WAVEFORM_LABEL));
    let duration = track.summary.duration_seconds.max(1e-3);
    let to_seconds =
        |x: f32| (f64::from((x - rect.left()) / rect.width())).clamp(0.0, 1.0) * duration;
    if response.drag_started() {
        // From where the button went down, not where the drag was recognised (a few
        // pixels later).
        let origin = ui.input(|i| i.pointer.press_origin());
        panel.drag_from = origin
            .or(response.interact_pointer_pos())
            .map(|p| to_seconds(p.x));
    }
    if response.dragged() {
        if let (Some(from), Some(p)) = (panel.drag_from, response.interact_pointer_pos()) {
            let to = to_seconds(p.x);
            let (a, b) = if to < from { (to, from) } else { (from, to) };
            if b - a > 0.1 {
                slots.set_controls(
                    slot,
                    SlotControls {
                        loop_start_seconds: a,
                        loop_end_seconds: b,
                        ..*controls
                    },
                );
            }
        }
    }
    if response.drag_stopped() {
        panel.drag_from = None;
    }
    if !ui.is_rect_visible(rect) {
        return;
    }
    let painter = ui.painter();
    painter.rect_filled(rect, CornerRadius::same(3), theme::PLOT_BG);
    let (start, end) = (
        controls.loop_start_seconds,
        if controls.loop_end_seconds > controls.loop_start_seconds {
            controls.loop_end_seconds
        } else {
            duration
        },
    );
    let x = |s: f64| rect.left() + rect.width() * (s / duration).clamp(0.0, 1.0) as f32;
    painter.rect_filled(
        egui::Rect::from_x_y_ranges(x(start)..=x(end), rect.y_range()),
        CornerRadius::ZERO,
        theme::FILL.gamma_multiply(0.35),
    );
    let columns = track.overview.len().max(1);
    let mid = rect.center().y;
    for (i, &peak) in track.overview.iter().enumerate() {
        let px = rect.left() + rect.width() * (i as f32 + 0.5) / columns as f32;
        let h = peak.clamp(0.0, 1.0) * rect.height() * 0.48;
        painter.line_segment(
            [egui::pos2(px, mid - h), egui::pos2(px, mid + h)],
            Stroke::new(1.0, theme::SPECTRUM_IN),
        );
    }
    response.on_hover_text("Drag to set the loop");
}

/// The album view: every slot marked as a song of this record, with the master beside them.
fn album_view(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    shared: &SharedState,
    statuses: &[SlotStatus; REFERENCE_SLOTS],
    files: &[SlotFile; REFERENCE_SLOTS],
) {
    let songs: Vec<(usize, TrackSummary, String)> = (0..REFERENCE_SLOTS)
        .filter(|&i| files[i].song_of_record)
        .filter_map(|i| {
            let name = files[i].path.as_deref().map(file_name)?;
            Some((i, summary_of(&statuses[i], &files[i])?, name))
        })
        .collect();
    egui::CollapsingHeader::new(format!("Album ({} songs)", songs.len()))
        .id_salt("album_view")
        .default_open(true)
        .show(ui, |ui| {
            if songs.is_empty() {
                ui.label(theme::caption(
                    "Mark slots as \"Song of this record\" to balance the record's songs",
                ));
                return;
            }
            let master = master_summary(shared);
            ui.label(theme::caption("Click a song to compare the master with it, level-matched"));
            egui::Grid::new("album_grid")
                .striped(true)
                .num_columns(5)
                .spacing(egui::vec2(10.0, 2.0))
                .show(ui, |ui| {
                    for h in ["song", "I LUFS", "LRA", "TP", "PLR"] {
                        ui.label(theme::caption(h));
                    }
                    ui.end_row();
                    let hearing = params.listen_reference.value();
                    for (i, s, name) in &songs {
                        let current = hearing && selected_slot(params) == *i;
                        let song = ui
                            .selectable_label(
                                current,
                                egui::RichText::new(format!("{} {}", i + 1, truncate(name, 14)))
                                    .size(11.0),
                            )
                            .on_hover_text(format!(
                                "{name}: load this song as the reference and listen to it, level-matched"
                            ));
                        song.widget_info(|| {
                            WidgetInfo::labeled(
                                egui::Role::Button,
                                true,
                                format!("{ALBUM_SONG_LABEL} {}", i + 1),
                            )
                        });
                        if song.clicked() {
                            ctl.set(&params.reference_slot, *i as i32 + 1);
                            ctl.set(&params.listen_reference, true);
                        }
                        figure_cells(ui, s, None);
                        ui.end_row();
                    }
                    ui.label(
                        egui::RichText::new("this master")
                            .size(11.0)
                            .color(theme::ACCENT),
                    );
                    figure_cells(ui, &master, Some(theme::ACCENT));
                    ui.end_row();
                });
            let loudness: Vec<f32> = songs
                .iter()
                .map(|(_, s, _)| s.integrated_lufs)
                .filter(|l| l.is_finite())
                .collect();
            if let Some(text) = album_position_text(&loudness, master.integrated_lufs) {
                ui.label(theme::caption(text));
            }
        });
}

/// "Album spread 3.2 LU (-11.0 … -7.8 LUFS); this master -9.1 LUFS: 0.4 LU below the
/// median" — where the master sits among the songs of the record.
pub fn album_position_text(song_lufs: &[f32], master_lufs: f32) -> Option<String> {
    if song_lufs.is_empty() {
        return None;
    }
    let mut sorted = song_lufs.to_vec();
    sorted.sort_by(f32::total_cmp);
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
    };
    let mut text = format!(
        "Album spread {:.1} LU ({low:.1} … {high:.1} LUFS)",
        high - low
    );
    if master_lufs.is_finite() {
        let d = master_lufs - median;
        let side = if d >= 0.0 { "above" } else { "below" };
        text.push_str(&format!(
            "; this master {master_lufs:.1} LUFS: {:.1} LU {side} the median",
            d.abs()
        ));
    }
    Some(text)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn album_position_names_the_spread_and_the_master_against_the_median() {
        let t = album_position_text(&[-11.0, -7.8, -9.0], -9.4).unwrap();
        assert_eq!(
            t,
            "Album spread 3.2 LU (-11.0 … -7.8 LUFS); this master -9.4 LUFS: 0.4 LU below the median"
        );
        assert!(album_position_text(&[], -9.0).is_none());
        let t = album_position_text(&[-10.0, -8.0], f32::NEG_INFINITY).unwrap();
        assert_eq!(t, "Album spread 2.0 LU (-10.0 … -8.0 LUFS)");
    }

    #[test]
    fn the_panel_says_which_fit_the_match_made_and_by_how_much() {
        let shared = SharedState::default();
        assert_eq!(fit_text(&shared), None);
        shared
            .reference_safety_limiting_db
            .store(4.26, Ordering::Relaxed);
        assert_eq!(
            fit_text(&shared).as_deref(),
            Some("Reference raised 4.3 dB into its safety limiter")
        );
        // The turn-down wins: it is what the engineer hears on the master.
        shared.master_down_db.store(1.6, Ordering::Relaxed);
        assert_eq!(
            fit_text(&shared).as_deref(),
            Some(
                "Master turned down 1.6 dB to meet the reference (raising it more would limit \
                 it by over 8 dB)"
            )
        );
    }
}
