//! The input gain's one control.

use egui::Ui;

use super::InputGainParams;
use crate::editor::widgets::{self, Ctl};

pub fn show(ui: &mut Ui, ctl: &Ctl, p: &InputGainParams) {
    widgets::slider(ui, ctl, &p.gain, Some("Gain"), 140.0);
}
