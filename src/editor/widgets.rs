//! Parameter controls. Every edit goes through the host's gesture API (begin / set / end on the
//! [`ParamSetter`]), so the DAW records automation and undo.
//!
//! The slider: drag (horizontal or vertical) changes the value relative to where it was, Shift
//! drags finely, double-click or Ctrl/Cmd-click resets to the default, a single click opens a
//! text field for an exact value (Enter applies, Escape cancels), arrow keys step when focused.
//! Every control records the parameter it shows, so a test can prove no parameter is orphaned.

use std::cell::RefCell;

use egui::{
    text::{CCursor, CCursorRange},
    Align2, Color32, CornerRadius, FontId, Key, Rect, Response, Sense, Stroke, TextEdit, Ui,
    WidgetInfo,
};
use nice_plug::params::internals::ParamPtr;
use nice_plug::prelude::{BoolParam, Enum, EnumParam, FloatParam, Param, ParamSetter};

use super::theme;

/// Fine drag: normalised change per pixel with Shift held.
const FINE_PER_PIXEL: f32 = 0.0015;
/// A single click opens the text field only when no second click follows within this time
/// (a double click resets instead).
const CLICK_TO_EDIT_DELAY_S: f64 = 0.3;
/// Normalised step of the arrow keys (Shift: a tenth).
const KEY_STEP: f32 = 0.01;

/// What every control needs: the host's parameter setter and the per-frame record of which
/// parameters have a visible control.
pub struct Ctl<'a> {
    pub setter: &'a ParamSetter<'a>,
    seen: RefCell<Vec<ParamPtr>>,
}

impl<'a> Ctl<'a> {
    pub fn new(setter: &'a ParamSetter<'a>) -> Self {
        Self {
            setter,
            seen: RefCell::new(Vec::with_capacity(96)),
        }
    }

    /// Marks a parameter as shown this frame.
    pub fn saw<P: Param>(&self, param: &P) {
        self.seen.borrow_mut().push(param.as_ptr());
    }

    pub fn into_seen(self) -> Vec<ParamPtr> {
        self.seen.into_inner()
    }

    /// One complete gesture: begin, set, end.
    pub fn set<P: Param>(&self, param: &P, value: P::Plain) {
        self.setter.begin_set_parameter(param);
        self.setter.set_parameter(param, value);
        self.setter.end_set_parameter(param);
    }

    /// One complete gesture to a normalised value (snapped to the parameter's steps).
    pub fn set_normalized<P: Param>(&self, param: &P, normalized: f32) {
        self.set(param, param.preview_plain(normalized.clamp(0.0, 1.0)));
    }

    /// One complete gesture to a normalised value on a parameter known by pointer (a snapshot
    /// recall walks the parameter map). `ptr` must come from the `param_map()` of the
    /// parameters this editor edits.
    pub fn set_raw(&self, ptr: ParamPtr, normalized: f32) {
        // SAFETY: `ptr` comes from the `param_map()` of the editor's own parameters (the
        // caller's contract), which live as long as the plugin and so as long as this editor
        // frame; the host context checks the parameter exists, as for the typed setters.
        unsafe {
            self.setter.raw_context.raw_begin_set_parameter(ptr);
            self.setter
                .raw_context
                .raw_set_parameter_normalized(ptr, normalized);
            self.setter.raw_context.raw_end_set_parameter(ptr);
        }
    }

    /// Tells the host that persisted state no parameter shows changed (snapshots, reference
    /// slots), so the DAW offers to save the session: nice-plug's
    /// `GuiContextInner::mark_state_dirty` (CLAP `clap_host_state::mark_dirty`, VST3
    /// `IComponentHandler2::setDirty(true)`). Call it after the change, from the editor only.
    pub fn mark_state_dirty(&self) {
        self.setter.raw_context.mark_state_dirty();
    }

    /// Resets a parameter to its default in one gesture.
    pub fn reset<P: Param>(&self, param: &P) {
        self.set(param, param.default_plain_value());
    }
}

/// Temporary per-widget memory of a drag in progress.
#[derive(Clone, Copy, Default)]
struct DragState {
    /// Unsnapped normalised value, so small fine-drag steps accumulate.
    normalized: f32,
}

/// Pending single click (opens the text field unless a double click follows).
#[derive(Clone, Copy)]
struct PendingEdit(f64);

/// A horizontal slider for a float parameter, `width` wide, with `label` drawn inside on the
/// left (or nothing) and the value with its unit on the right. The accessible label is always
/// the parameter's name.
pub fn slider(
    ui: &mut Ui,
    ctl: &Ctl,
    param: &FloatParam,
    label: Option<&str>,
    width: f32,
) -> Response {
    ctl.saw(param);
    let id = ui.scope_id().with(("param", param.name()));
    let edit_id = id.with("edit");
    let size = egui::vec2(width, theme::ROW_HEIGHT);

    // Text entry replaces the slider while it is open.
    if let Some(mut text) = ui.data(|d| d.get_temp::<String>(edit_id)) {
        let response = ui.add_sized(
            size,
            TextEdit::singleline(&mut text)
                .id(edit_id)
                .font(egui::TextStyle::Monospace)
                .align(egui::Align2::CENTER_CENTER),
        );
        let enter = ui.input(|i| i.key_pressed(Key::Enter));
        let escape = ui.input(|i| i.key_pressed(Key::Escape));
        if response.lost_focus() || escape || enter {
            if enter && !escape {
                if let Some(normalized) = param.string_to_normalized_value(&text) {
                    ctl.set_normalized(param, normalized);
                }
            }
            ui.data_mut(|d| d.remove::<String>(edit_id));
        } else {
            ui.data_mut(|d| d.insert_temp(edit_id, text));
        }
        return response;
    }

    let (rect, mut response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    let now = ui.input(|i| i.time);
    let modifiers = ui.input(|i| i.modifiers);

    // Drag: relative, fine with Shift.
    if response.drag_started() {
        ctl.setter.begin_set_parameter(param);
        ui.data_mut(|d| {
            d.insert_temp(
                id,
                DragState {
                    normalized: param.unmodulated_normalized_value(),
                },
            )
        });
    }
    if response.dragged() {
        let delta = response.drag_delta();
        let pixels = delta.x - delta.y;
        let per_pixel = if modifiers.shift {
            FINE_PER_PIXEL
        } else {
            1.0 / rect.width().max(1.0)
        };
        let mut state = ui.data(|d| d.get_temp::<DragState>(id)).unwrap_or_default();
        state.normalized = (state.normalized + pixels * per_pixel).clamp(0.0, 1.0);
        ui.data_mut(|d| d.insert_temp(id, state));
        let value = param.preview_plain(state.normalized);
        if value != param.modulated_plain_value() {
            ctl.setter.set_parameter(param, value);
            response.mark_changed();
        }
    }
    if response.drag_stopped() {
        ctl.setter.end_set_parameter(param);
        ui.data_mut(|d| d.remove::<DragState>(id));
    }

    // Clicks: reset on double or Ctrl/Cmd click, text entry on a lone single click.
    if response.double_clicked() {
        ui.data_mut(|d| d.remove::<PendingEdit>(id));
        ctl.reset(param);
        response.mark_changed();
    } else if response.clicked() {
        if modifiers.command {
            ctl.reset(param);
            response.mark_changed();
        } else {
            ui.data_mut(|d| d.insert_temp(id, PendingEdit(now)));
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(CLICK_TO_EDIT_DELAY_S));
        }
    }
    let pending = ui.data(|d| d.get_temp::<PendingEdit>(id));
    if let Some(PendingEdit(t)) = pending {
        if now - t >= CLICK_TO_EDIT_DELAY_S {
            ui.data_mut(|d| d.remove::<PendingEdit>(id));
            open_text_entry(ui, edit_id, value_text(param));
        } else {
            ui.ctx().request_repaint();
        }
    }

    // Keyboard, when focused (Tab): arrows step, Enter types, Delete resets.
    if response.has_focus() {
        let (up, down, enter, delete) = ui.input(|i| {
            (
                i.key_pressed(Key::ArrowUp) || i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::ArrowDown) || i.key_pressed(Key::ArrowLeft),
                i.key_pressed(Key::Enter),
                i.key_pressed(Key::Delete) || i.key_pressed(Key::Backspace),
            )
        });
        let step = if modifiers.shift {
            KEY_STEP * 0.1
        } else {
            KEY_STEP
        };
        let current = param.unmodulated_normalized_value();
        if up {
            ctl.set_normalized(param, current + step);
        } else if down {
            ctl.set_normalized(param, current - step);
        } else if delete {
            ctl.reset(param);
        } else if enter {
            open_text_entry(ui, edit_id, value_text(param));
        }
    }

    response.widget_info(|| {
        WidgetInfo::slider(true, param.unmodulated_plain_value() as f64, param.name())
    });
    if response.hovered() && !response.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
    }

    if ui.is_rect_visible(rect) {
        paint_slider(ui, &response, rect, param, label);
    }
    response.on_hover_text_at_pointer(format!(
        "{}: {}\nDrag to change, Shift = fine, double-click or Ctrl-click = default ({}), click to type",
        param.name(),
        value_text(param),
        param.normalized_value_to_string(param.default_normalized_value(), false)
    ))
}

/// The value with its unit once (some formatters already include the unit the parameter
/// declares, e.g. "1.2 kHz").
pub fn value_text<P: Param>(param: &P) -> String {
    let text = param.normalized_value_to_string(param.modulated_normalized_value(), false);
    let unit = param.unit();
    if unit.trim().is_empty() || text.ends_with(unit.trim()) || text.ends_with("kHz") {
        text
    } else {
        text + unit
    }
}

fn open_text_entry(ui: &Ui, edit_id: egui::Id, initial: String) {
    let len = initial.chars().count();
    ui.data_mut(|d| d.insert_temp(edit_id, initial));
    ui.memory_mut(|m| m.request_focus(edit_id));
    // Select the whole value so typing replaces it.
    let mut state = egui::text_edit::TextEditState::load(ui.ctx(), edit_id).unwrap_or_default();
    state
        .cursor
        .set_char_range(Some(CCursorRange::two(CCursor::new(0), CCursor::new(len))));
    state.store(ui.ctx(), edit_id);
    ui.ctx().request_repaint();
}

fn paint_slider(ui: &Ui, response: &Response, rect: Rect, param: &FloatParam, label: Option<&str>) {
    let painter = ui.painter();
    let radius = CornerRadius::same(theme::RADIUS);
    let hovered = response.hovered() || response.dragged() || response.has_focus();
    painter.rect_filled(rect, radius, theme::TRACK);

    // Fill from the zero point for bipolar ranges (gains), from the left otherwise.
    let value = param.modulated_normalized_value();
    let range = param.range();
    let zero = if range.unnormalize(0.0) < 0.0 && range.unnormalize(1.0) > 0.0 {
        range.normalize(0.0)
    } else {
        0.0
    };
    let (a, b) = if value >= zero {
        (zero, value)
    } else {
        (value, zero)
    };
    let fill = Rect::from_x_y_ranges(
        rect.left() + a * rect.width()..=rect.left() + b * rect.width(),
        rect.y_range(),
    );
    let fill_color = if hovered {
        theme::ACCENT.gamma_multiply(0.75)
    } else {
        theme::FILL
    };
    painter.rect_filled(fill, radius, fill_color);
    if zero > 0.0 {
        let x = rect.left() + zero * rect.width();
        painter.line_segment(
            [
                egui::pos2(x, rect.top() + 2.0),
                egui::pos2(x, rect.bottom() - 2.0),
            ],
            Stroke::new(1.0, theme::TEXT_DIM.gamma_multiply(0.5)),
        );
    }
    let outline = if response.has_focus() {
        theme::ACCENT
    } else if hovered {
        theme::TEXT_DIM
    } else {
        theme::LINE
    };
    painter.rect_stroke(
        rect,
        radius,
        Stroke::new(1.0, outline),
        egui::StrokeKind::Inside,
    );

    let font = FontId::proportional(12.0);
    if let Some(label) = label {
        painter.text(
            egui::pos2(rect.left() + 5.0, rect.center().y),
            Align2::LEFT_CENTER,
            label,
            font.clone(),
            theme::TEXT_DIM,
        );
        painter.text(
            egui::pos2(rect.right() - 5.0, rect.center().y),
            Align2::RIGHT_CENTER,
            value_text(param),
            FontId::monospace(12.0),
            theme::TEXT,
        );
    } else {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            value_text(param),
            FontId::monospace(12.0),
            theme::TEXT,
        );
    }
}

/// A toggle button for a boolean parameter; lit when on.
pub fn toggle(ui: &mut Ui, ctl: &Ctl, param: &BoolParam, text: &str) -> Response {
    ctl.saw(param);
    let on = param.value();
    let galley_width = ui
        .painter()
        .layout_no_wrap(text.to_owned(), FontId::proportional(12.0), Color32::WHITE)
        .size()
        .x;
    let size = egui::vec2(galley_width + 22.0, theme::ROW_HEIGHT);
    let (rect, mut response) = ui.allocate_exact_size(size, Sense::click());
    if response.clicked() {
        ctl.set(param, !on);
        response.mark_changed();
    }
    let on = param.value();
    response.widget_info(|| WidgetInfo::selected(egui::Role::CheckBox, true, on, param.name()));
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        let radius = CornerRadius::same(theme::RADIUS);
        let (fill, fg) = if on {
            (theme::FILL, theme::TEXT)
        } else {
            (theme::TRACK, theme::TEXT_DIM)
        };
        painter.rect_filled(rect, radius, fill);
        let stroke = if response.hovered() {
            theme::TEXT_DIM
        } else {
            theme::LINE
        };
        painter.rect_stroke(
            rect,
            radius,
            Stroke::new(1.0, stroke),
            egui::StrokeKind::Inside,
        );
        let led = egui::pos2(rect.left() + 8.0, rect.center().y);
        painter.circle_filled(led, 3.0, if on { theme::ACCENT } else { theme::LINE });
        painter.text(
            egui::pos2(rect.left() + 15.0, rect.center().y),
            Align2::LEFT_CENTER,
            text,
            FontId::proportional(12.0),
            fg,
        );
    }
    response.on_hover_text(format!(
        "{}: {}",
        param.name(),
        if on { "on" } else { "off" }
    ))
}

/// How a [`big_toggle`] looks.
pub struct BigToggle<'a> {
    /// Accessible label (the visible text changes with the state).
    pub label: &'a str,
    pub size: egui::Vec2,
    pub font_size: f32,
    /// How far the text sits above the centre, leaving room for a decoration below it.
    pub text_lift: f32,
}

/// A large toggle for a boolean parameter, the A/B and R buttons: a click flips the parameter
/// through a host gesture; `face` gives the text and colour of the state after the click.
/// Returns the response (for hover text) and the colour (for decorations painted over it).
pub fn big_toggle(
    ui: &mut Ui,
    ctl: &Ctl,
    param: &BoolParam,
    look: &BigToggle,
    face: impl FnOnce(bool) -> (String, Color32),
) -> (Response, Color32) {
    ctl.saw(param);
    let (rect, mut response) = ui.allocate_exact_size(look.size, Sense::click());
    if response.clicked() {
        ctl.set(param, !param.value());
        response.mark_changed();
    }
    let on = param.value();
    let (text, color) = face(on);
    response.widget_info(|| {
        let mut info = WidgetInfo::selected(egui::Role::Button, true, on, look.label);
        info.current_text_value = Some(text.clone());
        info
    });
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        let radius = CornerRadius::same(6);
        painter.rect_filled(rect, radius, color.gamma_multiply(0.2));
        let stroke = if response.hovered() { 2.0 } else { 1.5 };
        painter.rect_stroke(
            rect,
            radius,
            Stroke::new(stroke, color),
            egui::StrokeKind::Inside,
        );
        painter.text(
            rect.center() - egui::vec2(0.0, look.text_lift),
            Align2::CENTER_CENTER,
            text,
            FontId::proportional(look.font_size),
            color,
        );
    }
    (response, color)
}

/// A drop-down for an enum parameter.
pub fn choice<T: Enum + PartialEq + 'static>(
    ui: &mut Ui,
    ctl: &Ctl,
    param: &EnumParam<T>,
    width: f32,
) -> Response {
    ctl.saw(param);
    let current = param.value();
    let current_index = current.to_index();
    let names = T::variants();
    let mut chosen = None;
    let response = egui::ComboBox::from_id_salt(("choice", param.name()))
        .width(width)
        .selected_text(names[current_index])
        .show_ui(ui, |ui| {
            for (i, name) in names.iter().enumerate() {
                if ui.selectable_label(i == current_index, *name).clicked() {
                    chosen = Some(i);
                }
            }
        })
        .response;
    if let Some(i) = chosen {
        if i != current_index {
            ctl.set(param, T::from_index(i));
        }
    }
    response.widget_info(|| {
        let mut info = WidgetInfo::labeled(egui::Role::ComboBox, true, param.name());
        info.current_text_value = Some(names[current_index].to_owned());
        info
    });
    response.on_hover_text(param.name())
}

/// A small caption above a group of controls.
pub fn caption(ui: &mut Ui, text: &str) {
    ui.label(theme::caption(text));
}
