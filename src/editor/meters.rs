//! Meters: input/output peak and true-peak maximum, momentary / short-term / integrated
//! loudness, LRA, PLR, gain reduction of compressor and limiter, stereo correlation, the
//! distance to the delivery target and what each streaming service would do to this master.

use std::sync::atomic::Ordering;

use egui::{Align2, Color32, CornerRadius, FontId, Rect, Sense, Stroke, Ui, WidgetInfo};

use super::theme;
use super::widgets::{self, Ctl};
use crate::dsp::meters::program_meter::ProgramReadings;
use crate::params::FairmasterParams;
use crate::shared_state::SharedState;
use crate::targets::PLATFORMS;

/// Label of the meter reset button.
pub const RESET_LABEL: &str = "Reset meters";
/// Accessible labels of the bars under the loudness table (their values are the readings).
pub const INPUT_BAR_LABEL: &str = "Input peak meter";
pub const OUTPUT_BAR_LABEL: &str = "Output peak meter";
pub const COMP_GR_BAR_LABEL: &str = "Compressor gain reduction meter";
pub const LIMIT_GR_BAR_LABEL: &str = "Limiter gain reduction meter";
pub const CORRELATION_BAR_LABEL: &str = "Correlation meter";
pub const BAR_LABELS: [&str; 5] = [
    INPUT_BAR_LABEL,
    OUTPUT_BAR_LABEL,
    COMP_GR_BAR_LABEL,
    LIMIT_GR_BAR_LABEL,
    CORRELATION_BAR_LABEL,
];

/// Height of a row of the meters (the theme's control rows are taller).
const METER_ROW_HEIGHT: f32 = 16.0;

/// One row of the loudness table: name, reading, unit.
type Row = (&'static str, fn(&ProgramReadings) -> f32, &'static str);

/// The loudness table's rows, in order.
const ROWS: [Row; 7] = [
    ("Peak", |r| r.sample_peak_dbfs, "dBFS"),
    ("True peak max", |r| r.true_peak_max_dbtp, "dBTP"),
    ("Momentary", |r| r.momentary_lufs, "LUFS"),
    ("Short-term", |r| r.short_term_lufs, "LUFS"),
    ("Integrated", |r| r.integrated_lufs, "LUFS"),
    ("LRA", |r| r.loudness_range_lu, "LU"),
    ("PLR", plr, "LU"),
];

/// The names of the loudness table's rows. Each row's accessible label reads as one line,
/// "Momentary input -17.8 output -13.6 LUFS" ([`row_line`]).
pub fn row_names() -> impl Iterator<Item = &'static str> {
    ROWS.iter().map(|(name, _, _)| *name)
}

/// One row of the loudness table as a line of text: "Momentary input -17.8 output -13.6 LUFS".
pub fn row_line(name: &str, input: f32, output: f32, unit: &str) -> String {
    format!(
        "{name} input {} output {} {unit}",
        db(input, 1),
        db(output, 1)
    )
}

/// Formats a level; silence (-inf) shows as "--".
pub fn db(value: f32, decimals: usize) -> String {
    if value.is_finite() && value > -200.0 {
        format!("{value:.decimals$}")
    } else {
        "--".to_owned()
    }
}

/// Peak-to-loudness ratio: true-peak maximum minus integrated loudness.
pub fn plr(r: &ProgramReadings) -> f32 {
    if r.true_peak_max_dbtp.is_finite() && r.integrated_lufs.is_finite() {
        r.true_peak_max_dbtp - r.integrated_lufs
    } else {
        f32::NAN
    }
}

/// The loudness meters: the table of readings, input and output level, gain reduction and
/// correlation. The editor pins them where they stay on screen at every window size.
pub fn show(ui: &mut Ui, params: &FairmasterParams, shared: &SharedState) {
    let input = shared.input.load();
    let output = shared.output.load();
    // Rows as tall as their text: the meters stay on screen, so they take little height.
    ui.spacing_mut().interact_size.y = METER_ROW_HEIGHT;

    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new("METERS")
                .size(12.0)
                .strong()
                .color(theme::TEXT_DIM),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button(RESET_LABEL)
                .on_hover_text("Restart integrated loudness, LRA and true-peak maxima")
                .clicked()
            {
                shared.request_meter_reset();
            }
        });
    });

    egui::Grid::new("loudness_table")
        .num_columns(4)
        .spacing([10.0, 2.0])
        .min_col_width(40.0)
        .show(ui, |ui| {
            ui.label(theme::caption(""));
            ui.label(theme::caption("Input"));
            ui.label(theme::caption("Output"));
            ui.label(theme::caption(""));
            ui.end_row();
            for (name, get, unit) in ROWS {
                let line = row_line(name, get(&input), get(&output), unit);
                ui.label(egui::RichText::new(name).color(theme::TEXT_DIM))
                    .widget_info(|| WidgetInfo::labeled(egui::Role::Label, true, line.clone()));
                for r in [&input, &output] {
                    let v = get(r);
                    let color = if unit == "dBTP"
                        && v.is_finite()
                        && v > params.delivery_target().ceiling_dbtp
                    {
                        theme::WARN
                    } else {
                        theme::TEXT
                    };
                    ui.label(egui::RichText::new(db(v, 1)).monospace().color(color));
                }
                ui.label(theme::caption(unit));
                ui.end_row();
            }
        });

    ui.add_space(4.0);
    level_bar(
        ui,
        ("In", INPUT_BAR_LABEL),
        input.sample_peak_dbfs,
        input.true_peak_max_dbtp,
    );
    level_bar(
        ui,
        ("Out", OUTPUT_BAR_LABEL),
        output.sample_peak_dbfs,
        output.true_peak_max_dbtp,
    );
    gr_bar(
        ui,
        ("Comp GR", COMP_GR_BAR_LABEL),
        shared.compressor_gr_db.load(Ordering::Relaxed),
    );
    gr_bar(
        ui,
        ("Limit GR", LIMIT_GR_BAR_LABEL),
        shared.limiter_gr_db.load(Ordering::Relaxed),
    );
    correlation_bar(ui, shared.correlation.load(Ordering::Relaxed));
}

/// The delivery target: its choice, the master's distance to it and what each streaming
/// service would do to this master.
pub fn show_delivery(ui: &mut Ui, ctl: &Ctl, params: &FairmasterParams, shared: &SharedState) {
    let output = shared.output.load();
    ui.label(
        egui::RichText::new("DELIVERY TARGET")
            .size(12.0)
            .strong()
            .color(theme::TEXT_DIM),
    );
    ui.horizontal(|ui| {
        widgets::choice(ui, ctl, &params.target, 138.0);
        widgets::slider(ui, ctl, &params.custom_target_lufs, Some("Custom"), 140.0);
    });
    let target = params.delivery_target();
    let integrated = output.integrated_lufs;
    if integrated.is_finite() {
        let distance = integrated - target.integrated_lufs;
        let (text, color) = if distance.abs() <= 1.0 {
            (format!("On target ({distance:+.1} LU)"), theme::OK)
        } else if distance > 0.0 {
            (
                format!(
                    "{distance:.1} LU louder than {:.1} LUFS",
                    target.integrated_lufs
                ),
                theme::WARN,
            )
        } else {
            (
                format!(
                    "{:.1} LU quieter than {:.1} LUFS",
                    -distance, target.integrated_lufs
                ),
                theme::ORIGINAL,
            )
        };
        ui.label(egui::RichText::new(text).color(color));
    } else {
        ui.label(theme::caption(format!(
            "Target {:.1} LUFS, {:.1} dBTP: play the programme to measure",
            target.integrated_lufs, target.ceiling_dbtp
        )));
    }
    let tp = output.true_peak_max_dbtp;
    if tp.is_finite() {
        let over = tp - target.ceiling_dbtp;
        let (text, color) = if over > 0.0 {
            (
                format!(
                    "True peak {tp:.1} dBTP: {over:.1} dB over the {:.1} dBTP ceiling",
                    target.ceiling_dbtp
                ),
                theme::WARN,
            )
        } else {
            (
                format!(
                    "True peak {tp:.1} dBTP: within {:.1} dBTP",
                    target.ceiling_dbtp
                ),
                theme::OK,
            )
        };
        ui.label(egui::RichText::new(text).size(12.0).color(color));
    }

    ui.add_space(4.0);
    ui.label(theme::caption(
        "Streaming normalisation preview (gain each service applies)",
    ));
    egui::Grid::new("platforms")
        .num_columns(4)
        .spacing([8.0, 1.0])
        .show(ui, |ui| {
            for pair in PLATFORMS.chunks(2) {
                for p in pair {
                    ui.label(egui::RichText::new(p.name).color(theme::TEXT_DIM));
                    let text = match p.normalisation_gain_db(integrated, tp) {
                        Some(g) => format!("{g:+.1} dB"),
                        None => "--".to_owned(),
                    };
                    ui.label(egui::RichText::new(text).monospace());
                }
                ui.end_row();
            }
        });
}

/// A bar's caption and accessible label.
type BarName = (&'static str, &'static str);

/// Lays out a bar: its caption, then the track over the rest of the row, whose accessible
/// label and value say what the bar shows.
fn bar_rect(ui: &mut Ui, (caption, label): BarName, value: String) -> Rect {
    let mut rect = Rect::NOTHING;
    ui.horizontal(|ui| {
        ui.add_sized([56.0, 12.0], egui::Label::new(theme::caption(caption)));
        let width = ui.available_width().max(40.0);
        let (r, response) = ui.allocate_exact_size(egui::vec2(width, 10.0), Sense::hover());
        response.widget_info(|| {
            let mut info = WidgetInfo::labeled(egui::Role::Meter, true, label);
            info.current_text_value = Some(value.clone());
            info
        });
        rect = r;
    });
    ui.painter()
        .rect_filled(rect, CornerRadius::same(2), theme::TRACK);
    rect
}

/// Peak bar over -48..0 dBFS with a true-peak maximum tick.
fn level_bar(ui: &mut Ui, name: BarName, peak_db: f32, tp_max: f32) {
    let value = format!(
        "peak {} dBFS, true peak max {} dBTP",
        db(peak_db, 1),
        db(tp_max, 1)
    );
    let rect = bar_rect(ui, name, value);
    let x = |db: f32| rect.left() + ((db + 48.0) / 48.0).clamp(0.0, 1.0) * rect.width();
    if peak_db.is_finite() {
        let color = if peak_db > -1.0 {
            theme::WARN
        } else {
            theme::ACCENT
        };
        ui.painter().rect_filled(
            Rect::from_x_y_ranges(rect.left()..=x(peak_db), rect.y_range()),
            CornerRadius::same(2),
            color,
        );
    }
    if tp_max.is_finite() {
        let xt = x(tp_max);
        ui.painter().line_segment(
            [
                egui::pos2(xt, rect.top() - 1.0),
                egui::pos2(xt, rect.bottom() + 1.0),
            ],
            Stroke::new(2.0, theme::TEXT),
        );
    }
    for tick in [-36.0, -24.0, -12.0, -6.0, -1.0] {
        let xt = x(tick);
        ui.painter().line_segment(
            [
                egui::pos2(xt, rect.bottom() - 3.0),
                egui::pos2(xt, rect.bottom()),
            ],
            Stroke::new(1.0, theme::BG),
        );
    }
}

/// Gain reduction over 0..12 dB, growing from the right.
fn gr_bar(ui: &mut Ui, name: BarName, gr_db: f32) {
    let gr = if gr_db.is_finite() {
        // `+ 0.0` turns a -0.0 reading (-20 log10 of exactly 1) into 0.0 for display.
        gr_db.clamp(0.0, 12.0) + 0.0
    } else {
        0.0
    };
    let rect = bar_rect(ui, name, format!("{gr:.1} dB"));
    let x = rect.right() - gr / 12.0 * rect.width();
    ui.painter().rect_filled(
        Rect::from_x_y_ranges(x..=rect.right(), rect.y_range()),
        CornerRadius::same(2),
        theme::GR,
    );
    ui.painter().text(
        rect.left_center() + egui::vec2(3.0, 0.0),
        Align2::LEFT_CENTER,
        format!("{gr:.1} dB"),
        FontId::monospace(9.5),
        theme::TEXT,
    );
}

/// Correlation -1..+1 with a centre line.
fn correlation_bar(ui: &mut Ui, corr: f32) {
    let c = if corr.is_finite() {
        corr.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let rect = bar_rect(
        ui,
        ("Correlation", CORRELATION_BAR_LABEL),
        format!("{c:+.2}"),
    );
    let mid = rect.center().x;
    let x = mid + c * rect.width() / 2.0;
    let color: Color32 = if c < 0.0 { theme::WARN } else { theme::OK };
    ui.painter().rect_filled(
        Rect::from_x_y_ranges(mid.min(x)..=mid.max(x), rect.y_range()),
        CornerRadius::same(2),
        color,
    );
    ui.painter().line_segment(
        [
            egui::pos2(mid, rect.top() - 1.0),
            egui::pos2(mid, rect.bottom() + 1.0),
        ],
        Stroke::new(1.0, theme::TEXT_DIM),
    );
    ui.painter().text(
        rect.right_center() - egui::vec2(3.0, 0.0),
        Align2::RIGHT_CENTER,
        format!("{c:+.2}"),
        FontId::monospace(9.5),
        theme::TEXT,
    );
}
