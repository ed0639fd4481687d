//! The multiband dynamics' controls: the stage's options and a strip of each band's gain
//! change on a frequency axis, then one column per band (its split, the dynamics, its
//! channels and the listening aids). The same gain changes are drawn over the spectrum
//! ([`over_spectrum`]): each band's span, from 0 dB down (reduction) or up (upward gain).
//!
//! The readings come from the audio thread through `SharedState::multiband_gain_db`; the
//! editor hands them to the panels once per frame in egui's frame data ([`publish`]), since a
//! stage panel sees only its parameters.

use egui::{Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Sense, Stroke, Ui};

use super::MultibandParams;
use crate::dsp::dynamics::multiband::MAX_BANDS;
use crate::editor::spectrum::{Plot, F_MAX, F_MIN};
use crate::editor::theme;
use crate::editor::widgets::{self, Ctl};

/// Width of one slider.
const W: f32 = 136.0;
/// The gain strip's dB span (each way from 0).
const STRIP_DB: f32 = 12.0;

fn gains_id() -> egui::Id {
    egui::Id::unique("multiband_gain_change_db")
}

/// Hands this frame's per-band gain changes (dB) to the panel and the spectrum overlay.
pub fn publish(ctx: &egui::Context, gains: [f32; MAX_BANDS]) {
    ctx.data_mut(|d| d.insert_temp(gains_id(), gains));
}

fn gains(ctx: &egui::Context) -> [f32; MAX_BANDS] {
    ctx.data(|d| d.get_temp(gains_id()))
        .unwrap_or([0.0; MAX_BANDS])
}

/// The bands' frequency spans `(low, high)`, Hz, for the bands in use.
fn spans(p: &MultibandParams) -> ([(f32, f32); MAX_BANDS], usize) {
    let used = p.bands.value().count();
    let splits = p.splits().map(|s| s.value());
    let mut out = [(F_MIN, F_MAX); MAX_BANDS];
    for (b, span) in out.iter_mut().enumerate().take(used) {
        let low = if b == 0 { F_MIN } else { splits[b - 1] };
        let high = if b + 1 == used { F_MAX } else { splits[b] };
        *span = (low, high.max(low));
    }
    (out, used)
}

fn gain_color(db: f32) -> Color32 {
    if db > 0.0 {
        theme::OK
    } else {
        theme::GR
    }
}

/// Draws each band's gain change over the spectrum plot (while the stage is on).
pub fn over_spectrum(painter: &Painter, plot: &Plot, ctx: &egui::Context, p: &MultibandParams) {
    if !p.enabled.value() {
        return;
    }
    let g = gains(ctx);
    let (spans, used) = spans(p);
    let zero = plot.y_eq(0.0);
    for (&(low, high), &db) in spans.iter().zip(&g).take(used) {
        if db.abs() < 0.05 {
            continue;
        }
        let (x0, x1) = (plot.x(low), plot.x(high));
        let y = plot.y_eq(db);
        let rect = Rect::from_two_pos(Pos2::new(x0 + 1.0, zero), Pos2::new(x1 - 1.0, y));
        let color = gain_color(db);
        painter.rect_filled(rect, CornerRadius::ZERO, color.gamma_multiply(0.25));
        painter.line_segment(
            [Pos2::new(x0 + 1.0, y), Pos2::new(x1 - 1.0, y)],
            Stroke::new(1.5, color),
        );
    }
}

/// The strip's accessible text: each band's gain change.
pub fn strip_text(gains: &[f32]) -> String {
    gains
        .iter()
        .enumerate()
        .map(|(b, g)| format!("band {} {g:+.1} dB", b + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The strip: the bands on a log frequency axis, each with its gain change as a bar.
fn gain_strip(ui: &mut Ui, p: &MultibandParams, width: f32) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, 46.0), Sense::hover());
    let g = gains(ui.ctx());
    let (spans, used) = spans(p);
    let x = |f: f32| {
        let t = (f.clamp(F_MIN, F_MAX) / F_MIN).ln() / (F_MAX / F_MIN).ln();
        rect.left() + t * rect.width()
    };
    let y =
        |db: f32| rect.center().y - db.clamp(-STRIP_DB, STRIP_DB) / STRIP_DB * 0.5 * rect.height();
    if ui.is_rect_visible(rect) {
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, CornerRadius::same(theme::RADIUS), theme::PLOT_BG);
        painter.line_segment(
            [
                Pos2::new(rect.left(), y(0.0)),
                Pos2::new(rect.right(), y(0.0)),
            ],
            Stroke::new(1.0, theme::LINE),
        );
        for (b, (&(low, high), &db)) in spans.iter().zip(&g).enumerate().take(used) {
            let (x0, x1) = (x(low), x(high));
            if b > 0 {
                painter.line_segment(
                    [Pos2::new(x0, rect.top()), Pos2::new(x0, rect.bottom())],
                    Stroke::new(1.0, theme::LINE),
                );
            }
            let bar = Rect::from_two_pos(Pos2::new(x0 + 2.0, y(0.0)), Pos2::new(x1 - 2.0, y(db)));
            painter.rect_filled(bar, CornerRadius::ZERO, gain_color(db).gamma_multiply(0.8));
            painter.text(
                Pos2::new(0.5 * (x0 + x1), rect.top() + 2.0),
                Align2::CENTER_TOP,
                format!("{db:+.1}"),
                FontId::proportional(10.0),
                theme::TEXT_DIM,
            );
        }
    }
    let text = format!("Multiband gain change: {}", strip_text(&g[..used]));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, text.clone()));
    response.on_hover_text(text);
}

pub fn show(ui: &mut Ui, ctl: &Ctl, s: &MultibandParams) {
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            widgets::choice(ui, ctl, &s.bands, 70.0);
            widgets::choice(ui, ctl, &s.phase, 110.0);
            widgets::slider(ui, ctl, &s.lookahead, Some("Lookahead"), 150.0);
        });
        gain_strip(ui, s, 5.0 * (W + 8.0));
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
                        widgets::slider(ui, ctl, &band.threshold, Some("Thr"), W);
                        widgets::slider(ui, ctl, &band.ratio, Some("Ratio"), W);
                        widgets::slider(ui, ctl, &band.knee, Some("Knee"), W);
                        widgets::slider(ui, ctl, &band.attack, Some("Attack"), W);
                        widgets::slider(ui, ctl, &band.release, Some("Release"), W);
                        widgets::slider(ui, ctl, &band.range, Some("Range"), W);
                        widgets::slider(ui, ctl, &band.makeup, Some("Makeup"), W);
                        ui.horizontal(|ui| {
                            widgets::choice(ui, ctl, &band.mode, 40.0);
                            widgets::choice(ui, ctl, &band.channels, 44.0);
                        });
                        ui.horizontal(|ui| {
                            widgets::toggle(ui, ctl, &band.auto_release, "Auto");
                            widgets::toggle(ui, ctl, &band.bypass, "Byp");
                        });
                        ui.horizontal(|ui| {
                            widgets::toggle(ui, ctl, &band.solo, "S");
                            widgets::toggle(ui, ctl, &band.compare, "Cmp");
                        });
                    });
                });
            }
        });
    });
}
