//! The A/B block: one large button (shortcut: the B key), the match offset, match on/off and
//! freeze, and what is being heard, in colour and in words.

use std::sync::atomic::Ordering;

use egui::{Align2, CornerRadius, FontId, Sense, Stroke, Ui, WidgetInfo};

use super::theme;
use super::widgets::{self, Ctl};
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
    let b = params.ab_bypass.value();
    let offset = shared.match_offset_db.load(Ordering::Relaxed);
    let position = shared.ab_position.load(Ordering::Relaxed).clamp(0.0, 1.0);

    ui.horizontal(|ui| {
        ctl.saw(&params.ab_bypass);
        let size = egui::vec2(150.0, 54.0);
        let (rect, mut response) = ui.allocate_exact_size(size, Sense::click());
        if response.clicked() {
            ctl.set(&params.ab_bypass, !b);
            response.mark_changed();
        }
        let b_now = params.ab_bypass.value();
        let text = button_text(params, shared);
        response.widget_info(|| {
            let mut info = WidgetInfo::selected(egui::Role::Button, true, b_now, AB_BUTTON_LABEL);
            info.current_text_value = Some(text.clone());
            info
        });
        if ui.is_rect_visible(rect) {
            let painter = ui.painter();
            let color = if b_now { theme::ORIGINAL } else { theme::ACCENT };
            let radius = CornerRadius::same(6);
            painter.rect_filled(rect, radius, color.gamma_multiply(0.22));
            let stroke = if response.hovered() { 2.0 } else { 1.5 };
            painter.rect_stroke(rect, radius, Stroke::new(stroke, color), egui::StrokeKind::Inside);
            // The fade position: a thin bar along the bottom (A left, B right).
            let y = rect.bottom() - 5.0;
            let x0 = rect.left() + 10.0;
            let x1 = rect.right() - 10.0;
            painter.line_segment([egui::pos2(x0, y), egui::pos2(x1, y)], Stroke::new(2.0, theme::LINE));
            let x = x0 + (x1 - x0) * position;
            painter.circle_filled(egui::pos2(x, y), 3.0, color);
            painter.text(
                rect.center() - egui::vec2(0.0, 4.0),
                Align2::CENTER_CENTER,
                text,
                FontId::proportional(24.0),
                color,
            );
        }
        response.on_hover_text(
            "A = your master, B = the original mix (level-matched when Match is on).\nShortcut: B key",
        );

        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                widgets::toggle(ui, ctl, &params.match_level, "Match level");
                widgets::toggle(ui, ctl, &params.match_freeze, "Freeze");
            });
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
