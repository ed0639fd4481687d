//! Shared set-up of the editor tests: the real editor UI in an egui_kittest harness, with a
//! recording stand-in for the host behind it.
#![allow(dead_code)]

use std::sync::Arc;

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use fairmaster::editor::test_host::RecordingHost;
use fairmaster::editor::EditorUi;
use fairmaster::params::FairmasterParams;
use fairmaster::shared_state::{SharedState, SpectrumConsumer};
use nice_plug::context::gui::GuiContext;

/// Default editor size.
pub const SIZE: [f32; 2] = [1280.0, 800.0];

pub struct App {
    pub ui: EditorUi,
    pub gui: GuiContext,
    pub host: Arc<RecordingHost>,
    pub params: Arc<FairmasterParams>,
    pub shared: Arc<SharedState>,
}

pub fn app(spectrum: Option<SpectrumConsumer>) -> App {
    let params = Arc::new(FairmasterParams::default());
    let shared = Arc::new(SharedState::default());
    let host = RecordingHost::new(params.clone());
    let mut ui = EditorUi::new(params.clone(), shared.clone(), spectrum);
    ui.set_continuous_repaint(false);
    App {
        ui,
        gui: host.context(),
        host,
        params,
        shared,
    }
}

/// The editor at its default size, stepping at 60 frames per second.
pub fn harness(app: App) -> Harness<'static, App> {
    harness_builder().build_ui_state(|ui, app: &mut App| app.ui.ui(ui, &app.gui), app)
}

pub fn harness_builder() -> egui_kittest::HarnessBuilder<App> {
    Harness::builder()
        .with_size(SIZE)
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(600)
}

/// Steps the harness until `done` holds (a background thread, such as the reference loader,
/// is expected to get there), failing after 20 s.
pub fn step_until<S>(h: &mut Harness<'_, S>, done: impl Fn(&S) -> bool) {
    let start = std::time::Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "timed out"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    h.run();
}

/// Clicks the widget labelled `label` after scrolling it into view (the side column scrolls
/// above the pinned meters, so a control of the reference panel may be below its fold).
pub fn scroll_and_click<S>(h: &mut Harness<'_, S>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    h.run();
    h.get_by_label(label).click();
}

/// A primary-button press (or release) at `pos`: the half of a click or the ends of a drag.
pub fn press(pos: egui::Pos2, pressed: bool, modifiers: egui::Modifiers) -> egui::Event {
    egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers,
    }
}
