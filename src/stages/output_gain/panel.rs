//! The output gain's one control.

use egui::Ui;

use super::OutputGainParams;
use crate::editor::widgets::{self, Ctl};

pub fn show(ui: &mut Ui, ctl: &Ctl, p: &OutputGainParams) {
    widgets::slider(ui, ctl, &p.gain, Some("Gain"), 140.0);
}
