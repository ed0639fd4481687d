//! The elliptical EQ's controls.

use egui::Ui;

use super::EllipticalParams;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 140.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, p: &EllipticalParams) {
    ui.vertical(|ui| {
        widgets::slider(ui, ctl, &p.crossover, Some("Mono below"), W);
    });
}
