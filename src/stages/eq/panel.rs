//! The EQ's controls: on, mode, and a row per band (the nodes are dragged in the spectrum).

use egui::Ui;

use super::{BandParams, CutParams, EqModeParam, EqParams};
use crate::editor::theme;
use crate::editor::widgets::{self, Ctl};

const BAND_NAME_W: f32 = 84.0;

pub fn show(ui: &mut Ui, ctl: &Ctl, eq: &EqParams) {
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            widgets::choice(ui, ctl, &eq.mode, 110.0)
                .on_hover_text("Drag the bands' nodes in the spectrum");
            match_controls(ui, ctl, eq);
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
        dynamic_grid(ui, ctl, eq);
    });
}

/// Dynamic EQ: what the editor says next to a dynamic band in linear-phase mode.
pub const LINEAR_PHASE_DYNAMIC_NOTE: &str =
    "dynamic bands need minimum phase: static in linear-phase mode";

const DYN_SLIDER_W: f32 = 66.0;

/// Dynamic EQ: a row per shelf and bell with its dynamic controls (see `dynamic_params.rs`).
fn dynamic_grid(ui: &mut Ui, ctl: &Ctl, eq: &EqParams) {
    let linear_phase = eq.mode.value() == EqModeParam::LinearPhase;
    ui.add_space(theme::GAP);
    egui::Grid::new("eq_dynamic")
        .num_columns(9)
        .spacing([4.0, theme::GAP])
        .show(ui, |ui| {
            for h in [
                "Dynamic",
                "Threshold",
                "Range",
                "Ratio",
                "Attack",
                "Release",
                "Detector",
                "",
                "",
            ] {
                ui.label(theme::caption(h));
            }
            ui.end_row();
            let names = [
                "Low shelf",
                "Bell 1",
                "Bell 2",
                "Bell 3",
                "Bell 4",
                "High shelf",
            ];
            for (band, name) in eq.dynamic_bands().into_iter().zip(names) {
                dynamic_row(ui, ctl, band, name, linear_phase);
            }
        });
}

fn dynamic_row(ui: &mut Ui, ctl: &Ctl, band: &BandParams, name: &str, linear_phase: bool) {
    let d = &band.dynamic;
    band_toggle(ui, ctl, &d.enabled, name);
    for p in [&d.threshold, &d.range, &d.ratio, &d.attack, &d.release] {
        widgets::slider(ui, ctl, p, None, DYN_SLIDER_W);
    }
    widgets::toggle(ui, ctl, &d.detector_follows, "band");
    widgets::slider(ui, ctl, &d.detector_freq, None, DYN_SLIDER_W + 10.0);
    if linear_phase && d.enabled.value() && band.enabled.value() {
        ui.label(theme::caption(LINEAR_PHASE_DYNAMIC_NOTE).color(theme::WARN));
    } else {
        ui.label("");
    }
    ui.end_row();
}

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

/// The match EQ's shaping: the curve itself comes from the reference panel's "Match EQ to
/// reference" and runs in linear-phase mode, folded into the EQ's own FIR.
fn match_controls(ui: &mut Ui, ctl: &Ctl, eq: &EqParams) {
    let m = &eq.matching;
    for (param, label, width) in [
        (&m.amount, "Match", 100.0),
        (&m.width, "Width", 96.0),
        (&m.smoothing, "Smooth", 118.0),
        (&m.bound, "Bound", 110.0),
    ] {
        widgets::slider(ui, ctl, param, Some(label), width).on_hover_text(
            "The match EQ (reference panel: Match EQ to reference): how much of the tone and \
             of the width per band it applies, its smoothing and its largest correction",
        );
    }
}
