//! The compressor's controls: the envelope on the left, level and sidechain on the right.

use egui::Ui;

use super::CompressorParams;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 140.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, c: &CompressorParams) {
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            widgets::slider(ui, ctl, &c.threshold, Some("Threshold"), W);
            widgets::slider(ui, ctl, &c.ratio, Some("Ratio"), W);
            widgets::slider(ui, ctl, &c.knee, Some("Knee"), W);
            widgets::slider(ui, ctl, &c.attack, Some("Attack"), W);
            widgets::slider(ui, ctl, &c.release, Some("Release"), W);
            widgets::toggle(ui, ctl, &c.auto_release, "Auto release");
        });
        ui.vertical(|ui| {
            widgets::slider(ui, ctl, &c.makeup, Some("Makeup"), W);
            widgets::slider(ui, ctl, &c.mix, Some("Mix"), W);
            widgets::toggle(ui, ctl, &c.sidechain_hpf_enabled, "Sidechain HPF");
            widgets::slider(ui, ctl, &c.sidechain_hpf, Some("SC HPF"), W);
        });
    });
}
