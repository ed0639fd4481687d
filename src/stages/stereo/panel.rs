//! The stereo stage's controls.

use egui::Ui;

use super::StereoParams;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 140.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, s: &StereoParams) {
    ui.vertical(|ui| {
        widgets::slider(ui, ctl, &s.width, Some("Width"), W);
        widgets::toggle(ui, ctl, &s.mono_bass_enabled, "Mono bass");
        widgets::slider(ui, ctl, &s.mono_bass, Some("Below"), W);
    });
}
