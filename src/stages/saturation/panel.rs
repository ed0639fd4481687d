//! The saturation's controls: the stage's options, then one column per band in use (drive,
//! mix, curve) with the split above it.

use egui::Ui;

use super::SaturationParams;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 112.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, s: &SaturationParams) {
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            widgets::choice(ui, ctl, &s.bands, 70.0);
            widgets::choice(ui, ctl, &s.oversampling, 50.0);
            widgets::toggle(ui, ctl, &s.auto_gain, "Auto gain");
        });
        let used = s.bands.value().count();
        ui.horizontal_top(|ui| {
            for (i, band) in s.bands().into_iter().enumerate() {
                // Bands beyond the count are still drawn (every parameter has a control), dimmed.
                ui.add_enabled_ui(i < used, |ui| {
                    ui.vertical(|ui| {
                        if i > 0 {
                            widgets::slider(ui, ctl, s.splits()[i - 1], Some("From"), W);
                        } else {
                            widgets::caption(ui, "Band 1");
                        }
                        widgets::slider(ui, ctl, &band.drive, Some("Drive"), W);
                        widgets::slider(ui, ctl, &band.mix, Some("Mix"), W);
                        widgets::choice(ui, ctl, &band.curve, 60.0);
                    });
                });
            }
        });
    });
}
