//! The plugin window (egui via nice-plug-egui). It only reads parameters and writes them through
//! the host's gesture API (`ParamSetter`: begin/set/end), so automation and undo work in the DAW;
//! it never touches DSP state.

use std::sync::Arc;

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::{ParamSetter, ResizeHint};
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp,
    RepaintNotifier,
};

use crate::params::{EditorSize, FairmasterParams};
use crate::shared_state::SharedState;

/// Builds the editor, opening at the size saved in the plugin state.
pub fn create(
    params: Arc<FairmasterParams>,
    shared: Arc<SharedState>,
) -> Option<EguiEditor<FairmasterEditor>> {
    let size = saved_size(&params);
    let state =
        EguiEditorState::from_size(LogicalSize::new(size.width as f32, size.height as f32), 1.0);
    let resize = ResizeHint::RESIZABLE.with_min_max_logical_size(
        Some(LogicalSize::new(
            EditorSize::MIN.width as f32,
            EditorSize::MIN.height as f32,
        )),
        Some(LogicalSize::new(
            EditorSize::MAX.width as f32,
            EditorSize::MAX.height as f32,
        )),
    );
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        EguiNiceSettings::new()
            .with_tile("Fairmaster")
            .with_resize_hint(resize),
        FairmasterEditor::new(params, shared),
    )
}

fn saved_size(params: &FairmasterParams) -> EditorSize {
    params
        .editor_size
        .read()
        .map(|s| s.clamped())
        .unwrap_or_default()
}

/// The egui application behind the plugin window.
pub struct FairmasterEditor {
    params: Arc<FairmasterParams>,
    shared: Arc<SharedState>,
    gui_context: Option<GuiContext>,
    /// Set when the window opens: the first frame checks the window against the saved size
    /// (a state loaded after the editor object was created must still win).
    restore_saved_size: bool,
}

impl FairmasterEditor {
    pub fn new(params: Arc<FairmasterParams>, shared: Arc<SharedState>) -> Self {
        Self {
            params,
            shared,
            gui_context: None,
            restore_saved_size: false,
        }
    }

    fn draw(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        ui.heading("Fairmaster");
        ui.label("Mastering chain with level-matched A/B");
        ui.separator();
        egui::Grid::new("gains")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                ui.label("Input gain");
                ui.add(ParamSlider::for_param(&self.params.input_gain, setter).with_width(240.0));
                ui.end_row();
                ui.label("Output gain");
                ui.add(ParamSlider::for_param(&self.params.output_gain, setter).with_width(240.0));
                ui.end_row();
            });
    }
}

impl NiceEguiApp for FairmasterEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui_context = Some(nice_gui_ctx);
        self.restore_saved_size = true;
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        if std::mem::take(&mut self.restore_saved_size) {
            let saved = saved_size(&self.params);
            let now = ui.ctx().content_rect().size();
            if (now.x - saved.width as f32).abs() > 1.0 || (now.y - saved.height as f32).abs() > 1.0
            {
                ui.send_viewport_cmd(egui::ViewportCommand::InnerSize(egui::vec2(
                    saved.width as f32,
                    saved.height as f32,
                )));
            }
        }
        let Some(gui_context) = self.gui_context.clone() else {
            return;
        };
        let setter = gui_context.param_setter();
        egui::CentralPanel::default().show(ui, |ui| self.draw(ui, &setter));
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        let size = EditorSize {
            width: new_size.logical.width.round() as u32,
            height: new_size.logical.height.round() as u32,
        }
        .clamped();
        if let Ok(mut saved) = self.params.editor_size.write() {
            *saved = size;
        }
    }

    fn editor_closed(&mut self) {
        self.gui_context = None;
    }
}
