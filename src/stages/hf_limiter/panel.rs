//! The high-frequency limiter's controls.

use egui::Ui;

use super::HfLimiterParams;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 140.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, p: &HfLimiterParams) {
    ui.vertical(|ui| {
        widgets::slider(ui, ctl, &p.limit, Some("Limit"), W);
        widgets::slider(ui, ctl, &p.split, Some("Above"), W);
        widgets::slider(ui, ctl, &p.release, Some("Release"), W);
    });
}
