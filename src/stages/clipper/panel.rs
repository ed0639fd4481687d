//! The clipper's controls.

use egui::Ui;

use super::ClipperParams;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 140.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, c: &ClipperParams) {
    ui.vertical(|ui| {
        widgets::slider(ui, ctl, &c.drive, Some("Drive"), W);
        widgets::slider(ui, ctl, &c.ceiling, Some("Ceiling"), W);
        ui.horizontal(|ui| {
            widgets::choice(ui, ctl, &c.curve, 60.0);
            widgets::choice(ui, ctl, &c.oversampling, 50.0);
        });
    });
}
