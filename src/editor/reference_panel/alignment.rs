//! The selected slot on the host's timeline: the waveform with its loop (drag to set it), the
//! loop, trim and offset fields, and the auto-align, whose capture and search run off the
//! editor's frame.

use std::sync::atomic::Ordering;
use std::sync::mpsc;

use egui::{CornerRadius, Sense, Stroke, Ui, WidgetInfo};

use super::super::theme;
use super::super::widgets;
use super::{summary_of, ReferencePanel, ALIGN_BUTTON_LABEL, OFFSET_FIELD_LABEL, WAVEFORM_LABEL};
use crate::params::FairmasterParams;
use crate::reference::align::{align_offset, AlignError, CaptureState};
use crate::reference::library::SlotStatus;
use crate::reference::playback::{SlotControls, REFERENCE_SLOTS};
use crate::reference::state::SlotFile;
use crate::shared_state::SharedState;

/// An auto-align in progress (`reference::align`): the slot it is for, then the search
/// running on its own thread once the capture is complete.
#[derive(Debug, Default)]
pub(super) struct AlignJob {
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
    pub(super) fn poll(
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

/// The waveform with the loop, the loop and trim fields, the offset and the Align button.
pub(super) fn timeline(
    ui: &mut Ui,
    params: &FairmasterParams,
    shared: &SharedState,
    panel: &mut ReferencePanel,
    slot: usize,
    status: &SlotStatus,
    file: &SlotFile,
) {
    let slots = &params.references.0;
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
