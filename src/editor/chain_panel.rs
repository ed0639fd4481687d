//! The chain in signal order: input → EQ → compressor → stereo → limiter → output → dither.
//! Each module is a card with its on/off switch in the header and its controls in units.

use egui::{Align2, FontId, Ui};

use super::theme;
use super::widgets::{self, Ctl};
use crate::params::{BandParams, CutParams, FairmasterParams};

/// Width of one slider in a module card.
const W: f32 = 140.0;

/// Draws the chain in two rows (input, EQ, compressor / stereo, limiter, output, dither).
pub fn show(ui: &mut Ui, ctl: &Ctl, params: &FairmasterParams) {
    ui.horizontal_top(|ui| {
        input_card(ui, ctl, params);
        arrow(ui);
        eq_card(ui, ctl, params);
        arrow(ui);
        compressor_card(ui, ctl, params);
    });
    ui.add_space(2.0);
    ui.horizontal_top(|ui| {
        arrow(ui);
        stereo_card(ui, ctl, params);
        arrow(ui);
        limiter_card(ui, ctl, params);
        arrow(ui);
        output_card(ui, ctl, params);
        arrow(ui);
        dither_card(ui, ctl, params);
    });
}

fn arrow(ui: &mut Ui) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 24.0), egui::Sense::hover());
    ui.painter().text(
        rect.center(),
        Align2::CENTER_CENTER,
        "›",
        FontId::proportional(16.0),
        theme::TEXT_DIM,
    );
}

fn title(ui: &mut Ui, text: &str) {
    ui.label(
        egui::RichText::new(text)
            .size(12.0)
            .strong()
            .color(theme::TEXT_DIM),
    );
}

fn input_card(ui: &mut Ui, ctl: &Ctl, p: &FairmasterParams) {
    theme::card().show(ui, |ui| {
        ui.set_width(W);
        ui.vertical(|ui| {
            title(ui, "INPUT");
            widgets::slider(ui, ctl, &p.input_gain, Some("Gain"), W);
        });
    });
}

fn eq_card(ui: &mut Ui, ctl: &Ctl, p: &FairmasterParams) {
    let eq = &p.eq;
    theme::card().show(ui, |ui| {
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                widgets::toggle(ui, ctl, &eq.enabled, "EQ");
                widgets::choice(ui, ctl, &eq.mode, 110.0);
                ui.label(theme::caption("drag nodes in the spectrum"));
            });
            egui::Grid::new("eq_bands")
                .num_columns(5)
                .spacing([4.0, theme::GAP])
                .show(ui, |ui| {
                    for h in ["Band", "Frequency", "Gain / slope", "Q", "Channels"] {
                        ui.label(theme::caption(h));
                    }
                    ui.end_row();
                    cut_row(ui, ctl, &eq.low_cut, "Low cut");
                    band_row(ui, ctl, &eq.low_shelf, "Low shelf");
                    for (i, bell) in eq.bells().into_iter().enumerate() {
                        band_row(ui, ctl, bell, ["Bell 1", "Bell 2", "Bell 3", "Bell 4"][i]);
                    }
                    band_row(ui, ctl, &eq.high_shelf, "High shelf");
                    cut_row(ui, ctl, &eq.high_cut, "High cut");
                });
        });
    });
}

const BAND_NAME_W: f32 = 84.0;

fn band_toggle(ui: &mut Ui, ctl: &Ctl, param: &nice_plug::prelude::BoolParam, name: &str) {
    ui.allocate_ui(egui::vec2(BAND_NAME_W, theme::ROW_HEIGHT), |ui| {
        widgets::toggle(ui, ctl, param, name);
    });
}

fn cut_row(ui: &mut Ui, ctl: &Ctl, band: &CutParams, name: &str) {
    band_toggle(ui, ctl, &band.enabled, name);
    widgets::slider(ui, ctl, &band.freq, None, 84.0);
    widgets::choice(ui, ctl, &band.slope, 70.0);
    ui.label("");
    widgets::choice(ui, ctl, &band.channels, 62.0);
    ui.end_row();
}

fn band_row(ui: &mut Ui, ctl: &Ctl, band: &BandParams, name: &str) {
    band_toggle(ui, ctl, &band.enabled, name);
    widgets::slider(ui, ctl, &band.freq, None, 84.0);
    widgets::slider(ui, ctl, &band.gain, None, 84.0);
    widgets::slider(ui, ctl, &band.q, None, 52.0);
    widgets::choice(ui, ctl, &band.channels, 62.0);
    ui.end_row();
}

fn compressor_card(ui: &mut Ui, ctl: &Ctl, p: &FairmasterParams) {
    let c = &p.comp;
    theme::card().show(ui, |ui| {
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                widgets::toggle(ui, ctl, &c.enabled, "COMPRESSOR");
            });
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
        });
    });
}

fn stereo_card(ui: &mut Ui, ctl: &Ctl, p: &FairmasterParams) {
    let s = &p.stereo;
    theme::card().show(ui, |ui| {
        ui.set_width(W);
        ui.vertical(|ui| {
            widgets::toggle(ui, ctl, &s.enabled, "STEREO");
            widgets::slider(ui, ctl, &s.width, Some("Width"), W);
            widgets::toggle(ui, ctl, &s.mono_bass_enabled, "Mono bass");
            widgets::slider(ui, ctl, &s.mono_bass, Some("Below"), W);
        });
    });
}

fn limiter_card(ui: &mut Ui, ctl: &Ctl, p: &FairmasterParams) {
    let l = &p.limiter;
    theme::card().show(ui, |ui| {
        ui.vertical(|ui| {
            widgets::toggle(ui, ctl, &l.enabled, "LIMITER");
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
            widgets::toggle(ui, ctl, &l.auto_release, "Auto release");
        });
    });
}

fn output_card(ui: &mut Ui, ctl: &Ctl, p: &FairmasterParams) {
    theme::card().show(ui, |ui| {
        ui.set_width(W);
        ui.vertical(|ui| {
            title(ui, "OUTPUT");
            widgets::slider(ui, ctl, &p.output_gain, Some("Gain"), W);
        });
    });
}

fn dither_card(ui: &mut Ui, ctl: &Ctl, p: &FairmasterParams) {
    theme::card().show(ui, |ui| {
        ui.set_width(120.0);
        ui.vertical(|ui| {
            title(ui, "DITHER");
            widgets::choice(ui, ctl, &p.dither.mode, 110.0);
            widgets::toggle(ui, ctl, &p.dither.noise_shaping, "Noise shaping");
        });
    });
}
