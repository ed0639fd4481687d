//! The limiter's controls.

use egui::Ui;

use super::LimiterParams;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 140.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, l: &LimiterParams) {
    ui.vertical(|ui| {
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                widgets::slider(ui, ctl, &l.drive, Some("Drive"), W);
                widgets::slider(ui, ctl, &l.ceiling, Some("Ceiling"), W);
            });
            ui.vertical(|ui| {
                widgets::slider(ui, ctl, &l.release, Some("Release"), W);
                widgets::slider(ui, ctl, &l.lookahead, Some("Lookahead"), W);
            });
        });
        ui.horizontal(|ui| {
            widgets::toggle(ui, ctl, &l.auto_release, "Auto release");
            widgets::choice(ui, ctl, &l.character, 110.0);
        });
    });
}
