//! The stages as a strip in chain order: one chip per stage (its name, its bypass switch where
//! it has one, a click to fold its controls away), with the movable ones dragged to reorder
//! them (or moved with the chip's context menu). Below the strip, the controls of every
//! unfolded stage, in chain order. New stages appear here by themselves: the strip walks
//! `stages::StageId::ALL` and the order, and draws each stage's own panel.

use egui::{Align2, FontId, Sense, Stroke, Ui};
use nice_plug::prelude::Param;

use super::theme;
use super::widgets::{self, Ctl};
use crate::params::{CompareParam, DeltaParam, FairmasterParams};
use crate::stages::{self, Place, StageId, StageOrder};

/// What the strip remembers between frames (the editor's, not the session's).
#[derive(Debug, Default)]
pub struct StageStrip {
    folded: Vec<StageId>,
    /// Each card's width as drawn last frame, for the row breaks.
    widths: Vec<(StageId, f32)>,
    /// Each chip's width as drawn last frame, for the strip's row breaks.
    chip_widths: Vec<(StageId, f32)>,
}

impl StageStrip {
    fn card_width(&self, stage: StageId) -> f32 {
        self.widths
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(160.0, |&(_, w)| w)
    }

    fn chip_width(&self, stage: StageId) -> f32 {
        self.chip_widths
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(120.0, |&(_, w)| w)
    }

    fn remember_chip_width(&mut self, stage: StageId, width: f32) {
        match self.chip_widths.iter_mut().find(|(s, _)| *s == stage) {
            Some(entry) => entry.1 = width,
            None => self.chip_widths.push((stage, width)),
        }
    }

    fn remember_width(&mut self, stage: StageId, width: f32) {
        match self.widths.iter_mut().find(|(s, _)| *s == stage) {
            Some(entry) => entry.1 = width,
            None => self.widths.push((stage, width)),
        }
    }

    pub fn is_folded(&self, stage: StageId) -> bool {
        self.folded.contains(&stage)
    }

    pub fn toggle_fold(&mut self, stage: StageId) {
        if let Some(i) = self.folded.iter().position(|&s| s == stage) {
            self.folded.remove(i);
        } else {
            self.folded.push(stage);
        }
    }

    /// Draws the strip and the unfolded stages' controls. Returns the new order when the
    /// engineer moved a stage (the caller stores it and marks the session dirty).
    pub fn show(
        &mut self,
        ui: &mut Ui,
        ctl: &Ctl,
        params: &FairmasterParams,
        width: f32,
        compare_offset_db: f32,
    ) -> Option<StageOrder> {
        let order = params.stage_order.get();
        let mut moved = None;
        // Rows of chips, a new row where the next chip (its width measured last frame) would
        // not fit: egui's wrapping layout would squeeze or clip a chip at the edge instead.
        let spacing = ui.spacing().item_spacing.x;
        let mut chip_rows: Vec<Vec<StageId>> = vec![Vec::new()];
        let mut x = 0.0;
        for (i, stage) in order.signal_order().enumerate() {
            let arrow_width = if i > 0 { ARROW_WIDTH + spacing } else { 0.0 };
            let w = arrow_width + self.chip_width(stage);
            if x > 0.0 && x + w > width {
                chip_rows.push(Vec::new());
                x = 0.0;
            }
            if let Some(row) = chip_rows.last_mut() {
                row.push(stage);
            }
            x += w + spacing;
        }
        let mut first = true;
        for row in chip_rows.iter().filter(|row| !row.is_empty()) {
            ui.horizontal(|ui| {
                for &stage in row {
                    if !first {
                        arrow(ui);
                    }
                    first = false;
                    let start = ui.cursor().min.x;
                    if let Some(new) = self.chip(ui, ctl, params, &order, stage) {
                        moved = Some(new);
                    }
                    let drawn = ui.min_rect().max.x - start;
                    self.remember_chip_width(stage, drawn);
                }
            });
        }
        ui.add_space(4.0);
        // Rows of cards in chain order, a new row where the next card (its width measured
        // last frame) would not fit: egui's wrapping layout squeezes a frame instead.
        let spacing = ui.spacing().item_spacing.x;
        let mut rows: Vec<Vec<StageId>> = vec![Vec::new()];
        let mut x = 0.0;
        for stage in order.signal_order().filter(|s| !self.is_folded(*s)) {
            let w = self.card_width(stage);
            if x > 0.0 && x + w > width {
                rows.push(Vec::new());
                x = 0.0;
            }
            if let Some(row) = rows.last_mut() {
                row.push(stage);
            }
            x += w + spacing;
        }
        for row in rows.iter().filter(|row| !row.is_empty()) {
            ui.horizontal_top(|ui| {
                for &stage in row {
                    let card = theme::card().show(ui, |ui| {
                        ui.vertical(|ui| {
                            ui.horizontal(|ui| {
                                ui.label(
                                    egui::RichText::new(stage.name().to_uppercase())
                                        .size(12.0)
                                        .strong()
                                        .color(theme::TEXT_DIM),
                                );
                                audition_buttons(ui, ctl, params, stage, compare_offset_db);
                            });
                            stages::show_panel(stage, ui, ctl, &params.stages);
                        });
                    });
                    self.remember_width(stage, card.response.rect.width());
                }
            });
        }
        moved
    }

    /// One stage's chip: drag handle (movable stages), bypass switch or name, fold button.
    fn chip(
        &mut self,
        ui: &mut Ui,
        ctl: &Ctl,
        params: &FairmasterParams,
        order: &StageOrder,
        stage: StageId,
    ) -> Option<StageOrder> {
        let movable = stage.place() == Place::Movable;
        let frame = egui::Frame::new()
            .fill(theme::PANEL)
            .stroke(Stroke::new(1.0, theme::LINE))
            .corner_radius(theme::RADIUS)
            .inner_margin(egui::Margin::symmetric(4, 2));
        let mut moved = None;
        let mut name_response = None;
        let mut body = |ui: &mut Ui| {
            ui.horizontal(|ui| {
                if movable {
                    let id = ui.scope_id().with(("stage_drag", stage.key()));
                    ui.dnd_drag_source(id, stage, |ui| {
                        grip(ui, stage)
                            .on_hover_text(format!("Drag to move {} in the chain", stage.name()))
                    });
                }
                name_response = Some(match params.stages.enabled(stage) {
                    Some(enabled) => widgets::toggle(ui, ctl, enabled, stage.name()),
                    None => ui.label(
                        egui::RichText::new(stage.name())
                            .size(12.0)
                            .color(theme::TEXT),
                    ),
                });
                let folded = self.is_folded(stage);
                let fold = fold_button(ui, folded, stage).on_hover_text(if folded {
                    format!("Show the {} controls", stage.name())
                } else {
                    format!("Fold the {} controls away", stage.name())
                });
                if fold.clicked() {
                    self.toggle_fold(stage);
                }
            });
        };
        if movable {
            let (_, dropped) = ui.dnd_drop_zone::<StageId, _>(frame, |ui| body(ui));
            if let Some(dragged) = dropped {
                let to = order.as_slice().iter().position(|&s| s == stage);
                if let Some(to) = to.filter(|_| *dragged != stage) {
                    moved = Some(order.moved(*dragged, to));
                }
            }
        } else {
            frame.show(ui, |ui| body(ui));
        }
        // The name's menu moves a movable stage by one place (no drag needed).
        if let Some(name) = name_response.filter(|_| movable) {
            let position = order.as_slice().iter().position(|&s| s == stage);
            name.context_menu(|ui| {
                let last = order.as_slice().len() - 1;
                if let Some(i) = position {
                    if ui
                        .add_enabled(i > 0, egui::Button::new("Move earlier"))
                        .clicked()
                    {
                        moved = Some(order.moved(stage, i - 1));
                        ui.close();
                    }
                    if ui
                        .add_enabled(i < last, egui::Button::new("Move later"))
                        .clicked()
                    {
                        moved = Some(order.moved(stage, i + 1));
                        ui.close();
                    }
                }
            });
        }
        moved
    }
}

/// A stage's "Compare" (hear the chain without it, at the loudness it produces; the offset is
/// shown while it plays) and, for the clipper and the limiter, "Delta" (only what it takes
/// away). Each click is one host gesture; clicking again goes back to the master.
fn audition_buttons(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    stage: StageId,
    compare_offset_db: f32,
) {
    let Some(compare) = CompareParam::of(stage) else {
        return;
    };
    ctl.saw(&params.compare_stage);
    let comparing = params.compare_stage.value() == compare;
    let text = if comparing && params.compare_match.value() {
        format!("Compare {compare_offset_db:+.1} dB")
    } else {
        "Compare".to_owned()
    };
    let response = ui
        .selectable_label(comparing, egui::RichText::new(text).size(11.0))
        .on_hover_text(format!(
            "Hear the chain without the {} at the loudness it produces (the offset it adds is \
             shown); click again for the master",
            stage.name()
        ));
    // Named after the parameter it sets (screen readers, the editor tests).
    response.widget_info(|| {
        egui::WidgetInfo::selected(
            egui::Role::CheckBox,
            true,
            comparing,
            params.compare_stage.name(),
        )
    });
    if response.clicked() {
        ctl.set(
            &params.compare_stage,
            if comparing {
                CompareParam::Off
            } else {
                compare
            },
        );
    }
    let delta = match stage {
        StageId::Clipper => DeltaParam::Clipper,
        StageId::Limiter => DeltaParam::Limiter,
        _ => return,
    };
    ctl.saw(&params.delta_stage);
    let on = params.delta_stage.value() == delta;
    let response = ui
        .selectable_label(on, egui::RichText::new("Delta").size(11.0))
        .on_hover_text(format!("Hear only what the {} takes away", stage.name()));
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::CheckBox, true, on, params.delta_stage.name())
    });
    if response.clicked() {
        ctl.set(
            &params.delta_stage,
            if on { DeltaParam::Off } else { delta },
        );
    }
}

/// Width of the arrow between two chips.
const ARROW_WIDTH: f32 = 10.0;

fn arrow(ui: &mut Ui) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(ARROW_WIDTH, 24.0), Sense::hover());
    ui.painter().text(
        rect.center(),
        Align2::CENTER_CENTER,
        "›",
        FontId::proportional(16.0),
        theme::TEXT_DIM,
    );
}

/// Three short lines: the handle a movable stage is dragged by.
fn grip(ui: &mut Ui, stage: StageId) -> egui::Response {
    // Hover only: the drag source around it takes the drag.
    let (rect, response) = ui.allocate_exact_size(egui::vec2(8.0, 14.0), Sense::hover());
    let label = format!("Move {}", stage.name());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
    let stroke = Stroke::new(1.5, theme::TEXT_DIM);
    for dy in [-4.0, 0.0, 4.0] {
        let y = rect.center().y + dy;
        ui.painter().line_segment(
            [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
            stroke,
        );
    }
    response
}

/// The fold triangle (egui's own collapsing icon), named for screen readers and tests.
fn fold_button(ui: &mut Ui, folded: bool, stage: StageId) -> egui::Response {
    let (_, response) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), Sense::click());
    let label = format!("Fold {}", stage.name());
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::CheckBox, true, folded, &label));
    egui::collapsing_header::paint_default_icon(ui, if folded { 0.0 } else { 1.0 }, &response);
    response
}
