//! What the reference is matched to and how: the R button (shortcut: the R key), the match
//! mode, sync and platform, what is heard in words, what the fit had to do, and the loudness
//! figures of the master beside the selected reference.

use std::sync::atomic::Ordering;

use egui::{Ui, WidgetInfo};

use super::super::meters::db;
use super::super::theme;
use super::super::widgets::{self, BigToggle, Ctl};
use super::{selected_slot, REFERENCE_BUTTON_LABEL};
use crate::params::{FairmasterParams, ReferenceMatchParam};
use crate::reference::library::SlotState;
use crate::reference::track::{TrackSummary, MAX_SAFETY_LIMITING_DB};
use crate::shared_state::SharedState;

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

/// The R button beside the match controls, then what is heard and what the fit did.
pub(super) fn header(ui: &mut Ui, ctl: &Ctl, params: &FairmasterParams, shared: &SharedState) {
    let listening = params.listen_reference.value();
    ui.horizontal(|ui| {
        let look = BigToggle {
            label: REFERENCE_BUTTON_LABEL,
            size: egui::vec2(96.0, 40.0),
            font_size: 18.0,
            text_lift: 0.0,
        };
        let (response, _) = widgets::big_toggle(ui, ctl, &params.listen_reference, &look, |on| {
            if on {
                let offset = shared.reference_offset_db.load(Ordering::Relaxed);
                (format!("R {offset:+.1}"), theme::EQ_CURVE)
            } else {
                ("R".to_owned(), theme::TEXT_DIM)
            }
        });
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
}

/// The loudness figures of the master and the selected reference, one row each, in columns
/// narrow enough for the side column. Each row's accessible label reads as one line
/// ("Reference I -15.3 LUFS LRA 4.1 LU TP -1.0 dBTP PLR 14.3 dB") for screen readers and tests.
pub(super) fn figures_grid(ui: &mut Ui, master: &TrackSummary, reference: Option<&TrackSummary>) {
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
pub(super) fn master_summary(shared: &SharedState) -> TrackSummary {
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
pub(super) fn figure_cells(ui: &mut Ui, s: &TrackSummary, color: Option<egui::Color32>) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
