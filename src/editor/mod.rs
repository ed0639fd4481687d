//! The plugin window (egui via nice-plug-egui): a mastering console.
//!
//! Layout: a top bar (presets, user save/load, window size, host bypass); on the right the A/B
//! block, the snapshot strip, the reference panel and the delivery target, scrolling, above
//! the loudness meters, pinned to the column's foot so they stay visible at every window size
//! (`side_column`); in the centre the spectrum analyzer with the EQ curve and band nodes,
//! and below it the chain in signal order (input → EQ → compressor → stereo → limiter →
//! output → dither).
//!
//! The editor only reads parameters and writes them through the host's gesture API (begin / set
//! / end on a [`ParamSetter`]), so automation and undo work in the DAW; it never touches DSP
//! state and shares no lock with `process()` (meters are atomics, the spectrum comes through a
//! wait-free ring). All drawing lives in [`EditorUi::ui`], which takes the host context as an
//! argument: the plugin passes nice-plug's [`GuiContext`], tests and benchmarks pass one built on
//! [`test_host::RecordingHost`], so the real UI is tested without a window or a DAW.
//!
//! Keyboard: `B` toggles A/B, `R` the reference, `1`–`8` recall a snapshot (when no text field
//! has focus).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::params::internals::ParamPtr;
use nice_plug::prelude::ResizeHint;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp,
    RepaintNotifier,
};

use crate::params::state::EditorSize;
use crate::params::FairmasterParams;
use crate::shared_state::{SharedState, SpectrumConsumer, TapSender};

pub mod ab_panel;
pub mod meters;
pub mod presets;
pub mod reference_panel;
pub mod snapshots_panel;
pub mod spectrum;
pub mod stage_strip;
pub mod test_host;
pub mod theme;
pub mod widgets;

use widgets::Ctl;

/// Accessible label of the factory preset menu.
pub const FACTORY_LABEL: &str = "Factory preset";

/// Width of the A/B + meters column.
const SIDE_WIDTH: f32 = 344.0;
/// The three preset window sizes of the size buttons (free resizing works too).
pub const SIZES: [(&str, EditorSize); 3] = [
    (
        "S",
        EditorSize {
            width: 1100,
            height: 700,
        },
    ),
    (
        "M",
        EditorSize {
            width: 1280,
            height: 800,
        },
    ),
    (
        "L",
        EditorSize {
            width: 1600,
            height: 1000,
        },
    ),
];

/// Builds the editor, opening at the size saved in the plugin state. nice-plug builds it with
/// the plugin, window or not: what only the open window needs (the spectrum rings and master
/// tap through `taps`, the analysers) is created when the window first opens.
pub fn create(
    params: Arc<FairmasterParams>,
    shared: Arc<SharedState>,
    taps: Option<TapSender>,
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
        FairmasterEditor::new(params, shared, taps),
    )
}

fn saved_size(params: &FairmasterParams) -> EditorSize {
    params.editor_size.get().clamped()
}

/// The whole editor UI, independent of the window: state that lives across frames.
pub struct EditorUi {
    params: Arc<FairmasterParams>,
    shared: Arc<SharedState>,
    analyzer: spectrum::Analyzer,
    eq_cache: spectrum::EqCurveCache,
    /// Text of the user preset field (a name in the preset folder or a path).
    preset_path: String,
    /// Last preset operation's message (error = true shows it in red).
    status: Option<(String, bool)>,
    user_presets: Vec<String>,
    user_presets_scanned: bool,
    /// Parameters that had a visible control in the last frame.
    visible: Vec<ParamPtr>,
    last_time: Option<f64>,
    /// A window size chosen with the size buttons, waiting to be applied.
    pending_size: Option<EditorSize>,
    /// Repaint every frame (meters and spectrum move). Tests switch it off so egui settles.
    continuous_repaint: bool,
    /// Height of the chain cards in the last frame.
    chain_height: f32,
    stage_strip: stage_strip::StageStrip,
    /// The reference block's typed paths and messages.
    reference: reference_panel::ReferencePanel,
    /// The snapshot strip's selection, typed name and note, and measurement hand-off.
    snapshots: snapshots_panel::SnapshotPanel,
}

impl EditorUi {
    pub fn new(
        params: Arc<FairmasterParams>,
        shared: Arc<SharedState>,
        spectrum: Option<SpectrumConsumer>,
    ) -> Self {
        let mut ui = Self {
            params,
            shared,
            analyzer: spectrum::Analyzer::new(None),
            eq_cache: spectrum::EqCurveCache::default(),
            preset_path: String::new(),
            status: None,
            user_presets: Vec::new(),
            user_presets_scanned: false,
            visible: Vec::new(),
            last_time: None,
            pending_size: None,
            continuous_repaint: true,
            chain_height: 380.0,
            stage_strip: stage_strip::StageStrip::default(),
            reference: reference_panel::ReferencePanel::default(),
            snapshots: snapshots_panel::SnapshotPanel::default(),
        };
        if let Some(spectrum) = spectrum {
            ui.attach_spectrum(spectrum);
        }
        ui
    }

    /// Gives the editor the editor ends of the spectrum rings and the master tap.
    pub fn attach_spectrum(&mut self, mut spectrum: SpectrumConsumer) {
        self.reference.set_master_tap(spectrum.master.take());
        self.reference.set_eq_input_tap(spectrum.eq_input.take());
        self.analyzer.set_source(spectrum);
    }

    /// Whether each frame asks for the next one (on in the plugin; tests switch it off).
    pub fn set_continuous_repaint(&mut self, on: bool) {
        self.continuous_repaint = on;
    }

    /// The analyzer (tests feed it and read its display spectra).
    pub fn analyzer(&self) -> &spectrum::Analyzer {
        &self.analyzer
    }

    /// Parameters that had a visible control in the last frame.
    pub fn visible_params(&self) -> &[ParamPtr] {
        &self.visible
    }

    /// The last preset message and whether it is an error.
    pub fn status(&self) -> Option<(&str, bool)> {
        self.status.as_ref().map(|(s, e)| (s.as_str(), *e))
    }

    /// Sets the user preset field (as if typed).
    pub fn set_preset_path(&mut self, path: impl Into<String>) {
        self.preset_path = path.into();
    }

    /// The reference block's editor state (tests type paths through it).
    pub fn reference_panel_mut(&mut self) -> &mut reference_panel::ReferencePanel {
        &mut self.reference
    }

    /// A size chosen with the S/M/L buttons (consumed by the window).
    pub fn take_pending_size(&mut self) -> Option<EditorSize> {
        self.pending_size.take()
    }

    /// Draws one frame of the whole editor into `ui`; every edit goes to `gui`.
    pub fn ui(&mut self, ui: &mut egui::Ui, gui: &GuiContext) {
        let ctx = ui.ctx().clone();
        let theme_id = egui::Id::unique("fairmaster_theme_applied");
        if !ctx.data(|d| d.get_temp::<bool>(theme_id).unwrap_or(false)) {
            theme::apply(&ctx);
            ctx.data_mut(|d| d.insert_temp(theme_id, true));
        }
        let now = ui.input(|i| i.time);
        let dt = self
            .last_time
            .map_or(1.0 / 60.0, |t| (now - t).clamp(0.0, 0.5) as f32);
        self.last_time = Some(now);
        let sample_rate = self.shared.sample_rate.load(Ordering::Relaxed);
        self.analyzer.update(sample_rate, dt);
        crate::stages::multiband::panel::publish(
            &ctx,
            self.shared
                .multiband_gain_db
                .each_ref()
                .map(|g| g.load(Ordering::Relaxed)),
        );
        if !self.user_presets_scanned {
            self.user_presets = presets::list_user_presets();
            self.user_presets_scanned = true;
        }

        let setter = gui.param_setter();
        let ctl = Ctl::new(&setter);

        // A/B shortcut: the B key, unless the user is typing.
        if !ctx.text_edit_focused()
            && ui.input(|i| i.key_pressed(egui::Key::B) && !i.modifiers.any())
        {
            ctl.set(&self.params.ab_bypass, !self.params.ab_bypass.value());
        }
        if !ctx.text_edit_focused()
            && ui.input(|i| i.key_pressed(egui::Key::R) && !i.modifiers.any())
        {
            ctl.set(
                &self.params.listen_reference,
                !self.params.listen_reference.value(),
            );
        }

        egui::Panel::top("fm_top")
            .frame(
                egui::Frame::new()
                    .fill(theme::PANEL)
                    .inner_margin(egui::Margin::symmetric(10, 6)),
            )
            .show(ui, |ui| self.top_bar(ui, &ctl, gui));
        egui::Panel::right("fm_side")
            .resizable(false)
            .exact_size(SIDE_WIDTH)
            .frame(
                egui::Frame::new()
                    .fill(theme::BG)
                    .inner_margin(egui::Margin::same(8)),
            )
            .show(ui, |ui| self.side_column(ui, &ctl));
        egui::CentralPanel::default()
            .frame(
                egui::Frame::new()
                    .fill(theme::BG)
                    .inner_margin(egui::Margin::same(8)),
            )
            .show(ui, |ui| {
                egui::ScrollArea::both()
                    .id_salt("main_scroll")
                    .show(ui, |ui| self.main_area(ui, &ctl, sample_rate));
            });

        if std::mem::take(&mut self.snapshots.exported) {
            self.user_presets_scanned = false;
        }
        self.visible = ctl.into_seen();
        // Meters and spectrum move: repaint at the display rate while the window is open (the
        // window only calls `ui` while it is open, so a closed editor costs nothing).
        if self.continuous_repaint {
            ctx.request_repaint();
        }
    }

    /// The right column. The loudness meters are pinned to its foot, outside the scroll area,
    /// so they stay on screen at every window size however tall the panels above grow; the
    /// A/B block, the snapshot strip, the reference panel and the delivery target scroll.
    fn side_column(&mut self, ui: &mut egui::Ui, ctl: &Ctl) {
        let (params, shared) = (&*self.params, &*self.shared);
        egui::Panel::bottom("fm_meters")
            .resizable(false)
            .show_separator_line(false)
            .frame(egui::Frame::new().inner_margin(egui::Margin {
                top: 6,
                ..egui::Margin::ZERO
            }))
            .show(ui, |ui| card(ui, |ui| meters::show(ui, params, shared)));
        let snapshots = &mut self.snapshots;
        let reference = &mut self.reference;
        egui::ScrollArea::vertical()
            .id_salt("side_scroll")
            .show(ui, |ui| {
                card(ui, |ui| ab_panel::show(ui, ctl, params, shared));
                ui.add_space(6.0);
                card(ui, |ui| {
                    snapshots_panel::show(ui, ctl, params, shared, snapshots)
                });
                ui.add_space(6.0);
                card(ui, |ui| {
                    reference_panel::show(ui, ctl, params, shared, reference)
                });
                ui.add_space(6.0);
                card(ui, |ui| meters::show_delivery(ui, ctl, params, shared));
            });
    }

    /// The centre: the spectrum with the EQ curve on top, the processing chain below it.
    fn main_area(&mut self, ui: &mut egui::Ui, ctl: &Ctl, sample_rate: f32) {
        // The chain takes what it needs (measured last frame), the spectrum the rest, at
        // least 200 px.
        let width = ui.available_width().max(600.0);
        let height = (ui.available_height() - self.chain_height - 8.0).max(200.0);
        spectrum::show(
            ui,
            ctl,
            &self.params,
            &self.analyzer,
            &mut self.eq_cache,
            spectrum::SpectrumFrame {
                size: egui::vec2(width, height),
                sample_rate,
                eq_movement_db: std::array::from_fn(|slot| {
                    self.shared.eq_dynamic_db[slot].load(std::sync::atomic::Ordering::Relaxed)
                }),
            },
        );
        ui.add_space(6.0);
        let top = ui.cursor().top();
        // The stages in signal order; a reorder is stored at once (no parameter, no gesture).
        if let Some(order) = self.stage_strip.show(
            ui,
            ctl,
            &self.params,
            width,
            self.shared
                .compare_offset_db
                .load(std::sync::atomic::Ordering::Relaxed),
        ) {
            self.params.stage_order.set(order);
            ctl.mark_state_dirty();
        }
        self.chain_height = ui.cursor().top() - top;
    }

    fn top_bar(&mut self, ui: &mut egui::Ui, ctl: &Ctl, gui: &GuiContext) {
        ui.horizontal(|ui| {
            ui.label(
                egui::RichText::new("FAIRMASTER")
                    .size(15.0)
                    .strong()
                    .color(theme::ACCENT),
            );
            ui.label(theme::caption("mastering chain"));
            ui.separator();

            ui.label(theme::caption("Preset"));
            let mut chosen = None;
            egui::ComboBox::from_id_salt("factory_presets")
                .selected_text("Factory…")
                .width(150.0)
                .show_ui(ui, |ui| {
                    for (i, p) in presets::FACTORY.iter().enumerate() {
                        if ui
                            .selectable_label(false, p.name)
                            .on_hover_text(p.description)
                            .clicked()
                        {
                            chosen = Some(i);
                        }
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, FACTORY_LABEL)
                });
            if let Some(i) = chosen {
                let preset = &presets::FACTORY[i];
                presets::apply_factory(ctl, &self.params, preset);
                self.status = Some((format!("{}: {}", preset.name, preset.description), false));
            }

            ui.separator();
            ui.label(theme::caption("User"));
            ui.add(
                egui::TextEdit::singleline(&mut self.preset_path)
                    .hint_text("name or path")
                    .desired_width(130.0),
            )
            .on_hover_text(format!(
                "A name saves to / loads from {}; a path (with / or .json) is used as is",
                presets::user_preset_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "(no home directory)".to_owned())
            ));
            if ui.button("Save").clicked() {
                self.status = Some(
                    match presets::resolve_path(&self.preset_path)
                        .and_then(|p| presets::save(gui, &p).map(|_| p))
                    {
                        Ok(p) => {
                            self.user_presets = presets::list_user_presets();
                            (format!("Saved {}", p.display()), false)
                        }
                        Err(e) => (e, true),
                    },
                );
            }
            if ui.button("Load").clicked() {
                self.status = Some(
                    match presets::resolve_path(&self.preset_path)
                        .and_then(|p| presets::load(gui, &p).map(|_| p))
                    {
                        Ok(p) => (format!("Loaded {}", p.display()), false),
                        Err(e) => (e, true),
                    },
                );
            }
            if !self.user_presets.is_empty() {
                let mut picked = None;
                egui::ComboBox::from_id_salt("user_presets")
                    .selected_text("Saved…")
                    .width(90.0)
                    .show_ui(ui, |ui| {
                        for name in &self.user_presets {
                            if ui.selectable_label(false, name).clicked() {
                                picked = Some(name.clone());
                            }
                        }
                    })
                    .response
                    .widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Saved presets")
                    });
                if let Some(name) = picked {
                    self.preset_path = name;
                }
            }

            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                widgets::toggle(ui, ctl, &self.params.bypass, "Host bypass");
                ui.separator();
                for (name, size) in SIZES.iter().rev() {
                    if ui
                        .small_button(*name)
                        .on_hover_text(format!("Window {} × {}", size.width, size.height))
                        .clicked()
                    {
                        self.pending_size = Some(*size);
                        ui.send_viewport_cmd(egui::ViewportCommand::InnerSize(egui::vec2(
                            size.width as f32,
                            size.height as f32,
                        )));
                    }
                }
                ui.label(theme::caption("Size"));
            });
        });
        if let Some((text, error)) = &self.status {
            let color = if *error { theme::WARN } else { theme::TEXT_DIM };
            ui.label(egui::RichText::new(text).size(11.0).color(color));
        }
    }
}

/// A module card over the full width of the column.
fn card<R>(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    theme::card()
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            add(ui)
        })
        .inner
}

/// The egui application behind the plugin window.
pub struct FairmasterEditor {
    ui: EditorUi,
    /// Sends the audio thread the spectrum rings and master tap when the window first opens.
    taps: Option<TapSender>,
    gui_context: Option<GuiContext>,
    /// Set when the window opens: the first frame checks the window against the saved size
    /// (a state loaded after the editor object was created must still win).
    restore_saved_size: bool,
}

impl FairmasterEditor {
    pub fn new(
        params: Arc<FairmasterParams>,
        shared: Arc<SharedState>,
        taps: Option<TapSender>,
    ) -> Self {
        Self {
            ui: EditorUi::new(params, shared, None),
            taps,
            gui_context: None,
            restore_saved_size: false,
        }
    }
}

impl NiceEguiApp for FairmasterEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        theme::apply(&egui_ctx);
        if let Some(spectrum) = self.taps.as_mut().and_then(TapSender::open) {
            self.ui.attach_spectrum(spectrum);
        }
        self.gui_context = Some(nice_gui_ctx);
        self.restore_saved_size = true;
        self.ui
            .shared
            .spectrum_wanted
            .store(true, Ordering::Relaxed);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        if std::mem::take(&mut self.restore_saved_size) {
            let saved = saved_size(&self.ui.params);
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
        self.ui.ui(ui, &gui_context);
        if let Some(size) = self.ui.take_pending_size() {
            self.ui.params.editor_size.set(size.clamped());
        }
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        let size = EditorSize {
            width: new_size.logical.width.round() as u32,
            height: new_size.logical.height.round() as u32,
        }
        .clamped();
        self.ui.params.editor_size.set(size);
    }

    fn editor_closed(&mut self) {
        self.ui
            .shared
            .spectrum_wanted
            .store(false, Ordering::Relaxed);
        self.gui_context = None;
    }
}
