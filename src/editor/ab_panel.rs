//! The A/B block: one large button (shortcut: the B key), the match offset, match on/off and
//! freeze, and what is being heard, in colour and in words.

use std::sync::atomic::Ordering;

use egui::{Stroke, Ui};

use super::theme;
use super::widgets::{self, BigToggle, Ctl};
use crate::ab::Heard;
use crate::params::FairmasterParams;
use crate::shared_state::SharedState;

/// Label of the A/B button in the accessibility tree (its visible text changes with the state).
pub const AB_BUTTON_LABEL: &str = "A/B compare";

/// What the monitor is playing, for the words under the button.
pub fn hearing_text(params: &FairmasterParams, shared: &SharedState) -> String {
    let offset = shared.match_offset_db.load(Ordering::Relaxed);
    match params.ab_settings().heard(false) {
        Heard::HostBypass => "Hearing: host bypass (original, not matched)".to_owned(),
        Heard::Master => "Hearing: A master".to_owned(),
        Heard::Reference => "Hearing: R reference (see the reference panel)".to_owned(),
        Heard::Original if params.match_level.value() => {
            let frozen = if params.match_freeze.value() {
                ", frozen"
            } else {
                ""
            };
            format!("Hearing: B original (matched {}{frozen})", lu(offset))
        }
        Heard::Original => "Hearing: B original (not level-matched)".to_owned(),
    }
}

/// "+4.3 LU" with an explicit sign.
pub fn lu(db: f32) -> String {
    if db.is_finite() {
        format!("{db:+.1} LU")
    } else {
        "-- LU".to_owned()
    }
}

/// The big button's text: "A", "B +4.3 LU" (matched) or "B".
pub fn button_text(params: &FairmasterParams, shared: &SharedState) -> String {
    if !params.ab_bypass.value() {
        "A".to_owned()
    } else if params.match_level.value() {
        format!("B {}", lu(shared.match_offset_db.load(Ordering::Relaxed)))
    } else {
        "B".to_owned()
    }
}

pub fn show(ui: &mut Ui, ctl: &Ctl, params: &FairmasterParams, shared: &SharedState) {
    let offset = shared.match_offset_db.load(Ordering::Relaxed);
    let position = shared.ab_position.load(Ordering::Relaxed).clamp(0.0, 1.0);

    ui.horizontal(|ui| {
        let look = BigToggle {
            label: AB_BUTTON_LABEL,
            size: egui::vec2(150.0, 54.0),
            font_size: 24.0,
            text_lift: 4.0,
        };
        let (response, color) = widgets::big_toggle(ui, ctl, &params.ab_bypass, &look, |b| {
            let color = if b { theme::ORIGINAL } else { theme::ACCENT };
            (button_text(params, shared), color)
        });
        let rect = response.rect;
        if ui.is_rect_visible(rect) {
            // The fade position: a thin bar along the bottom (A left, B right).
            let painter = ui.painter();
            let y = rect.bottom() - 5.0;
            let x0 = rect.left() + 10.0;
            let x1 = rect.right() - 10.0;
            painter.line_segment(
                [egui::pos2(x0, y), egui::pos2(x1, y)],
                Stroke::new(2.0, theme::LINE),
            );
            let x = x0 + (x1 - x0) * position;
            painter.circle_filled(egui::pos2(x, y), 3.0, color);
        }
        response.on_hover_text(
            "A = your master, B = the original mix (level-matched when Match is on).\nShortcut: B key",
        );

        let b_now = params.ab_bypass.value();
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                widgets::toggle(ui, ctl, &params.match_level, "Match level");
                widgets::toggle(ui, ctl, &params.match_freeze, "Freeze");
            });
            // The stages' Compare buttons play at matched loudness too, unless this is off.
            widgets::toggle(ui, ctl, &params.compare_match, "Match stage compare").on_hover_text(
                "A stage's Compare plays the chain without it at the loudness it produces; \
                 off, it is a plain bypass of that stage",
            );
            ui.label(
                egui::RichText::new(format!("Match offset {}", lu(offset)))
                    .monospace()
                    .color(theme::TEXT_DIM),
            );
            let limited = shared.original_limited_db.load(Ordering::Relaxed);
            if b_now && limited > 0.1 {
                ui.label(
                    egui::RichText::new(format!("B safety limiter: {limited:.1} dB"))
                        .size(11.0)
                        .color(theme::WARN),
                );
            } else {
                ui.label(theme::caption("Press B to switch"));
            }
        });
    });
    let hearing = hearing_text(params, shared);
    let color = match params.ab_settings().heard(false) {
        Heard::HostBypass => theme::TEXT_DIM,
        Heard::Original => theme::ORIGINAL,
        Heard::Reference => theme::EQ_CURVE,
        Heard::Master => theme::ACCENT,
    };
    ui.label(
        egui::RichText::new(hearing)
            .size(14.0)
            .strong()
            .color(color),
    );
}
