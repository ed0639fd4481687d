//! Colours, spacing and text styles: one calm dark theme used by every panel.

use egui::{Color32, CornerRadius, FontFamily, FontId, Margin, Stroke, TextStyle};

/// Window background.
pub const BG: Color32 = Color32::from_rgb(0x16, 0x18, 0x1c);
/// Module cards and panels.
pub const PANEL: Color32 = Color32::from_rgb(0x1f, 0x22, 0x28);
/// Slider tracks, meter backgrounds.
pub const TRACK: Color32 = Color32::from_rgb(0x2a, 0x2e, 0x36);
/// Analyzer background.
pub const PLOT_BG: Color32 = Color32::from_rgb(0x11, 0x13, 0x16);
/// Thin outlines.
pub const LINE: Color32 = Color32::from_rgb(0x38, 0x3d, 0x47);
/// Main text.
pub const TEXT: Color32 = Color32::from_rgb(0xdc, 0xe0, 0xe6);
/// Secondary text (labels, units, axes).
pub const TEXT_DIM: Color32 = Color32::from_rgb(0x8c, 0x93, 0x9e);
/// Accent of the processed master ("A") and of active controls.
pub const ACCENT: Color32 = Color32::from_rgb(0x4f, 0xb6, 0xa8);
/// Slider fill (a darker accent).
pub const FILL: Color32 = Color32::from_rgb(0x2f, 0x7a, 0x70);
/// The original ("B").
pub const ORIGINAL: Color32 = Color32::from_rgb(0xe0, 0xa2, 0x3c);
/// Input spectrum.
pub const SPECTRUM_IN: Color32 = Color32::from_rgb(0x6d, 0x7c, 0x93);
/// Output spectrum.
pub const SPECTRUM_OUT: Color32 = Color32::from_rgb(0x4f, 0xb6, 0xa8);
/// EQ curve.
pub const EQ_CURVE: Color32 = Color32::from_rgb(0xf0, 0xd4, 0x7a);
/// Gain reduction.
pub const GR: Color32 = Color32::from_rgb(0xd9, 0x73, 0x5b);
/// Warnings (over target, clipping).
pub const WARN: Color32 = Color32::from_rgb(0xe5, 0x5b, 0x4f);
/// Good (within target).
pub const OK: Color32 = Color32::from_rgb(0x78, 0xc0, 0x6e);

/// Height of one control row (slider, toggle, combo).
pub const ROW_HEIGHT: f32 = 20.0;
/// Gap between controls.
pub const GAP: f32 = 4.0;
pub const RADIUS: u8 = 3;

/// Applies the theme to a context (idempotent; called once per window opening).
pub fn apply(ctx: &egui::Context) {
    ctx.set_theme(egui::Theme::Dark);
    let mut style = (*ctx.global_style()).clone();
    style.text_styles = [
        (
            TextStyle::Heading,
            FontId::new(16.0, FontFamily::Proportional),
        ),
        (TextStyle::Body, FontId::new(13.0, FontFamily::Proportional)),
        (
            TextStyle::Button,
            FontId::new(13.0, FontFamily::Proportional),
        ),
        (
            TextStyle::Small,
            FontId::new(11.0, FontFamily::Proportional),
        ),
        (
            TextStyle::Monospace,
            FontId::new(12.5, FontFamily::Monospace),
        ),
    ]
    .into();
    style.spacing.item_spacing = egui::vec2(6.0, GAP);
    style.spacing.button_padding = egui::vec2(6.0, 2.0);
    style.spacing.interact_size.y = ROW_HEIGHT;
    style.spacing.window_margin = Margin::same(8);
    style.animation_time = 0.08;
    let v = &mut style.visuals;
    v.dark_mode = true;
    v.panel_fill = BG;
    v.window_fill = PANEL;
    v.extreme_bg_color = Color32::from_rgb(0x12, 0x14, 0x17);
    v.faint_bg_color = PANEL;
    v.override_text_color = Some(TEXT);
    v.selection.bg_fill = FILL;
    v.selection.stroke = Stroke::new(1.0, TEXT);
    v.widgets.noninteractive.bg_fill = PANEL;
    v.widgets.noninteractive.bg_stroke = Stroke::new(1.0, LINE);
    v.widgets.noninteractive.fg_stroke = Stroke::new(1.0, TEXT_DIM);
    v.widgets.inactive.bg_fill = TRACK;
    v.widgets.inactive.weak_bg_fill = TRACK;
    v.widgets.inactive.bg_stroke = Stroke::new(1.0, LINE);
    v.widgets.inactive.fg_stroke = Stroke::new(1.0, TEXT);
    v.widgets.hovered.bg_fill = Color32::from_rgb(0x33, 0x38, 0x42);
    v.widgets.hovered.weak_bg_fill = Color32::from_rgb(0x33, 0x38, 0x42);
    v.widgets.hovered.bg_stroke = Stroke::new(1.0, TEXT_DIM);
    v.widgets.active.bg_fill = Color32::from_rgb(0x3a, 0x40, 0x4b);
    v.widgets.active.weak_bg_fill = Color32::from_rgb(0x3a, 0x40, 0x4b);
    for w in [
        &mut v.widgets.noninteractive,
        &mut v.widgets.inactive,
        &mut v.widgets.hovered,
        &mut v.widgets.active,
        &mut v.widgets.open,
    ] {
        w.corner_radius = CornerRadius::same(RADIUS);
    }
    ctx.set_global_style(style);
}

/// A module card: panel fill, thin outline, rounded.
pub fn card() -> egui::Frame {
    egui::Frame::new()
        .fill(PANEL)
        .stroke(Stroke::new(1.0, LINE))
        .corner_radius(CornerRadius::same(4))
        .inner_margin(Margin::same(6))
}

/// Small dim caption text.
pub fn caption(text: impl Into<String>) -> egui::RichText {
    egui::RichText::new(text).size(11.0).color(TEXT_DIM)
}
