//! The tonal balance: the live master's long-term spectrum (fed from the master tap on the
//! editor thread) beside the selected reference's over its loop, and their third-octave Δ.

use egui::{Align2, CornerRadius, FontId, Sense, Stroke, Ui, WidgetInfo};

use super::super::theme;
use super::TONAL_LABEL;
use crate::analysis::tonal::{TonalAnalyser, TonalBalance, SIXTH_BANDS};
use crate::analysis::tonal_match::MatchDifference;
use crate::editor::widgets::Ctl;
use crate::params::FairmasterParams;
use crate::reference::playback::SlotControls;
use crate::reference::track::ReferenceTrack;
use crate::shared_state::MasterTapConsumer;
use crate::stages::eq::EqModeParam;

/// The live master's tonal analysis (fed from the master tap on this, the editor thread) and
/// the selected reference's balance over its loop, cached.
#[derive(Default)]
pub struct TonalView {
    pub(super) tap: Option<MasterTapConsumer>,
    /// Built by the first frame (about 0.7 MB at 48 kHz): an editor whose window never opens
    /// does without it.
    master: Option<TonalAnalyser>,
    pub(super) master_balance: Option<TonalBalance>,
    frames_at_balance: usize,
    /// The EQ stage's input (the match EQ's "before"), analysed like the master.
    pub(super) eq_input_tap: Option<MasterTapConsumer>,
    eq_input: Option<TonalAnalyser>,
    pub(super) eq_input_balance: Option<TonalBalance>,
    eq_input_frames_at_balance: usize,
    /// (track identity, loop) the cached reference balance belongs to.
    reference_key: Option<(usize, u64, u64)>,
    reference_balance: Option<TonalBalance>,
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
    pub(super) fn update(&mut self, sample_rate: f32) {
        let usable = sample_rate.is_finite() && sample_rate >= 8000.0;
        let rate = if usable { sample_rate } else { 48_000.0 };
        update_live(
            &mut self.master,
            &mut self.tap,
            &mut self.master_balance,
            &mut self.frames_at_balance,
            rate,
        );
        if self.eq_input_tap.is_some() {
            update_live(
                &mut self.eq_input,
                &mut self.eq_input_tap,
                &mut self.eq_input_balance,
                &mut self.eq_input_frames_at_balance,
                rate,
            );
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

    /// Forgets the master's and the EQ input's analyses (a new song, a new section).
    fn restart(&mut self) {
        for analyser in [&mut self.master, &mut self.eq_input].into_iter().flatten() {
            analyser.clear();
        }
        self.master_balance = None;
        self.frames_at_balance = 0;
        self.eq_input_balance = None;
        self.eq_input_frames_at_balance = 0;
    }
}

/// Drains a tap into its analyser (built on first use, about 0.7 MB at 48 kHz, and re-planned
/// when the session rate changed) and refreshes its balance now and then.
fn update_live(
    analyser: &mut Option<TonalAnalyser>,
    tap: &mut Option<MasterTapConsumer>,
    balance: &mut Option<TonalBalance>,
    frames_at_balance: &mut usize,
    sample_rate: f32,
) {
    let analyser = analyser.get_or_insert_with(|| TonalAnalyser::live(sample_rate));
    if sample_rate != analyser.sample_rate() {
        analyser.reset(sample_rate);
        *balance = None;
        *frames_at_balance = 0;
    }
    if let Some(tap) = tap {
        let mut gaps = 0;
        tap.drain(|l, r| analyser.push(l, r), || gaps += 1);
        if gaps > 0 {
            // Audio was dropped while the editor stalled: no frame may straddle it. (The
            // drain has already pushed what came before the gap.)
            analyser.restart_frame();
        }
    }
    let frames = analyser.frames().len();
    if frames < *frames_at_balance || frames >= *frames_at_balance + TONAL_REFRESH_FRAMES {
        *balance = analyser.balance();
        *frames_at_balance = frames;
    }
}

/// The tonal balance: master (live) and reference (its loop) curves at 1/6 octave with the
/// reference's 10–90 % range, then the third-octave Δ as bars; hover a bar for the band's
/// width and punch.
pub(super) fn tonal_view(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
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
            match_row(
                ui,
                ctl,
                params,
                tonal.eq_input_balance.as_ref(),
                reference.as_ref(),
            );
        });
    if restart {
        tonal.restart();
    }
}

/// The match EQ's action: the reference's tone against what enters the EQ, as the EQ's match
/// curve (`analysis::tonal_match`; shaped by the EQ panel's Match controls, run in the
/// linear-phase FIR).
fn match_row(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    eq_input: Option<&TonalBalance>,
    reference: Option<&TonalBalance>,
) {
    let stored = params.eq_match.get();
    ui.horizontal_wrapped(|ui| {
        let ready = eq_input.is_some() && reference.is_some();
        let button = ui
            .add_enabled(ready, egui::Button::new(MATCH_BUTTON_LABEL))
            .on_hover_text(
                "Measure the reference's long-term tone, mid and side, against what enters \
                 the EQ, and make it the EQ's match curve (linear phase; amount, width, \
                 smoothing and bound in the EQ panel)",
            )
            .on_disabled_hover_text(
                "Needs a loaded reference and a few seconds of the session played with the \
                 editor open",
            );
        if button.clicked() {
            if let (Some(input), Some(reference)) = (eq_input, reference) {
                match_to_reference(ctl, params, input, reference);
            }
        }
        if !stored.is_empty() {
            if ui
                .small_button(CLEAR_MATCH_LABEL)
                .on_hover_text("Remove the EQ's match curve")
                .clicked()
            {
                params.eq_match.set(&MatchDifference::NONE);
                ctl.mark_state_dirty();
            }
            let text = if params.stages.eq.mode.value() == EqModeParam::LinearPhase {
                "EQ matched to a reference"
            } else {
                "the EQ's match curve waits for linear-phase mode"
            };
            ui.label(theme::caption(text));
        }
    });
}

/// "Match EQ to reference": stores the difference and puts the EQ on, in linear phase (where
/// the match runs), each in one gesture.
pub(super) fn match_to_reference(
    ctl: &Ctl,
    params: &FairmasterParams,
    eq_input: &TonalBalance,
    reference: &TonalBalance,
) {
    params
        .eq_match
        .set(&MatchDifference::measure(eq_input, reference));
    ctl.mark_state_dirty();
    let eq = &params.stages.eq;
    if !eq.enabled.value() {
        ctl.set(&eq.enabled, true);
    }
    if eq.mode.value() != EqModeParam::LinearPhase {
        ctl.set(&eq.mode, EqModeParam::LinearPhase);
    }
}

pub const MATCH_BUTTON_LABEL: &str = "Match EQ to reference";
pub const CLEAR_MATCH_LABEL: &str = "Clear match";

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
