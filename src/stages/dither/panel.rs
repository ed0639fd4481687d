//! The dither's controls.

use egui::Ui;

use super::DitherParams;
use crate::editor::widgets::{self, Ctl};

pub fn show(ui: &mut Ui, ctl: &Ctl, d: &DitherParams) {
    ui.vertical(|ui| {
        widgets::choice(ui, ctl, &d.mode, 110.0);
        widgets::toggle(ui, ctl, &d.noise_shaping, "Noise shaping");
    });
}
