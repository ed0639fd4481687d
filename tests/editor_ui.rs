//! The real editor UI driven as a person would: clicks, key presses, drags and typing through
//! egui_kittest (AccessKit tree + synthetic input). Each test checks the parameter value and
//! the host gestures (begin / set / end) the action produced.

mod editor_support;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use editor_support::{app, harness, press};
use egui::{Event, Key, Modifiers, Pos2};
use egui_kittest::kittest::Queryable;
use fairmaster::editor::ab_panel::AB_BUTTON_LABEL;
use fairmaster::editor::spectrum::{node_label, point_freq, Analyzer};
use fairmaster::editor::test_host::Gesture;
use fairmaster::shared_state::spectrum_rings;
use nice_plug::prelude::Params;

/// Asserts that `gestures` for `id` are exactly begin, at least one set, end (in this order).
fn assert_one_gesture(gestures: &[Gesture], id: &str) {
    let g: Vec<&Gesture> = gestures.iter().filter(|g| g.id() == id).collect();
    assert!(g.len() >= 3, "{id}: expected begin/set/end, got {g:?}");
    assert_eq!(g[0], &Gesture::Begin(id.to_owned()), "{id}: {g:?}");
    assert_eq!(g[g.len() - 1], &Gesture::End(id.to_owned()), "{id}: {g:?}");
    assert!(
        g[1..g.len() - 1]
            .iter()
            .all(|x| matches!(x, Gesture::Set(..))),
        "{id}: {g:?}"
    );
}

#[test]
fn ab_button_switches_to_the_original_through_a_host_gesture() {
    let app = app(None);
    app.shared.match_offset_db.store(4.3, Ordering::Relaxed);
    let mut h = harness(app);
    h.run();
    assert!(h.query_by_label("Hearing: A master").is_some());
    h.state().host.take_gestures();

    h.get_by_label(AB_BUTTON_LABEL).click();
    h.run();
    assert!(
        h.state().params.ab_bypass.value(),
        "A/B button did not switch to B"
    );
    let gestures = h.state().host.take_gestures();
    assert_one_gesture(&gestures, "ab_bypass");
    assert!(h.state().host.stray_sets.lock().unwrap().is_empty());
    // What is heard, in words, with the offset.
    assert!(
        h.query_by_label("Hearing: B original (matched +4.3 LU)")
            .is_some(),
        "hearing text missing"
    );
    // The button itself reads "B +4.3 LU".
    assert_eq!(
        h.get_by_label(AB_BUTTON_LABEL).value().as_deref(),
        Some("B +4.3 LU")
    );

    h.get_by_label(AB_BUTTON_LABEL).click();
    h.run();
    assert!(!h.state().params.ab_bypass.value());
    assert!(h.query_by_label("Hearing: A master").is_some());
}

#[test]
fn b_key_toggles_ab_but_not_while_typing() {
    let mut h = harness(app(None));
    h.run();
    h.state().host.take_gestures();
    h.key_press(Key::B);
    h.run();
    assert!(
        h.state().params.ab_bypass.value(),
        "B key did not switch to B"
    );
    assert_one_gesture(&h.state().host.take_gestures(), "ab_bypass");
    h.key_press(Key::B);
    h.run();
    assert!(
        !h.state().params.ab_bypass.value(),
        "B key did not switch back to A"
    );

    // Typing a "b" into the preset name field must not switch.
    // The first text field is the preset name (the reference panel's path field follows).
    h.query_all_by(|n| n.role() == egui::accesskit::Role::TextInput)
        .next()
        .expect("preset name field")
        .click();
    h.run();
    h.query_all_by(|n| n.role() == egui::accesskit::Role::TextInput)
        .next()
        .unwrap()
        .type_text("b");
    h.key_press(Key::B);
    h.run();
    assert!(
        !h.state().params.ab_bypass.value(),
        "B key switched while typing"
    );
}

#[test]
fn match_and_freeze_toggles_and_host_bypass_work() {
    let mut h = harness(app(None));
    h.run();
    assert!(h.state().params.match_level.value());
    h.get_by_label("Match Level").click();
    h.get_by_label("Freeze Match").click();
    h.get_by_label("Bypass").click();
    h.run();
    let p = &h.state().params;
    assert!(!p.match_level.value());
    assert!(p.match_freeze.value());
    assert!(p.bypass.value());
    let gestures = h.state().host.take_gestures();
    for id in ["match_level", "match_freeze", "bypass"] {
        assert_one_gesture(&gestures, id);
    }
    assert!(h
        .query_by_label("Hearing: host bypass (original, not matched)")
        .is_some());
}

#[test]
fn typed_value_sets_the_exact_value() {
    let mut h = harness(app(None));
    h.run();
    h.state().host.take_gestures();
    // A single click opens the text field (after the double-click time has passed).
    // The main column scrolls (the EQ's dynamic rows push the later stages down).
    h.get_by_label("Comp Threshold").scroll_to_me();
    h.run();
    h.get_by_label("Comp Threshold").click();
    h.run_steps(30);
    let field = h
        .query_by(|n| n.role() == egui::accesskit::Role::TextInput && n.is_focused())
        .expect("no focused text field after clicking the slider");
    field.type_text("-31.5 dB");
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().params.stages.comp.threshold.value(), -31.5);
    assert_one_gesture(&h.state().host.take_gestures(), "comp_threshold");

    // Frequencies accept kHz.
    h.get_by_label("Bell 3 Freq").click();
    h.run_steps(30);
    h.query_by(|n| n.role() == egui::accesskit::Role::TextInput && n.is_focused())
        .expect("no text field")
        .type_text("3.2 kHz");
    h.key_press(Key::Enter);
    h.run();
    let f = h.state().params.stages.eq.bell3.freq.value();
    assert!((f - 3200.0).abs() < 0.5, "typed 3.2 kHz, got {f}");

    // Escape cancels.
    // The main column scrolls (the EQ's dynamic rows push the later stages down).
    h.get_by_label("Comp Threshold").scroll_to_me();
    h.run();
    h.get_by_label("Comp Threshold").click();
    h.run_steps(30);
    h.query_by(|n| n.role() == egui::accesskit::Role::TextInput && n.is_focused())
        .expect("no text field")
        .type_text("-5");
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().params.stages.comp.threshold.value(), -31.5);
}

#[test]
fn double_click_and_ctrl_click_reset_to_default() {
    let mut h = harness(app(None));
    h.run();
    let rect = h.get_by_label("Input Gain").rect();
    // Drag it away from the default first (relative drag to the right raises it).
    let start = rect.center();
    h.event(Event::PointerMoved(start));
    h.event(press(start, true, Modifiers::NONE));
    for i in 1..=10 {
        h.event(Event::PointerMoved(start + egui::vec2(4.0 * i as f32, 0.0)));
    }
    h.event(press(start + egui::vec2(40.0, 0.0), false, Modifiers::NONE));
    h.run();
    let moved = h.state().params.stages.input_gain.gain.value();
    assert!(moved > 1.0, "drag right should raise the gain, got {moved}");
    assert_one_gesture(&h.state().host.take_gestures(), "input_gain");

    // Double click resets.
    for _ in 0..2 {
        h.event(press(start, true, Modifiers::NONE));
        h.event(press(start, false, Modifiers::NONE));
    }
    h.run();
    assert_eq!(h.state().params.stages.input_gain.gain.value(), 0.0);
    assert_one_gesture(&h.state().host.take_gestures(), "input_gain");

    // Ctrl-click resets too.
    // The main column scrolls (the EQ's dynamic rows push the later stages down).
    h.get_by_label("Comp Ratio").scroll_to_me();
    h.run();
    h.get_by_label("Comp Ratio").click();
    h.run_steps(30);
    h.query_by(|n| n.role() == egui::accesskit::Role::TextInput && n.is_focused())
        .expect("no text field")
        .type_text("4");
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().params.stages.comp.ratio.value(), 4.0);
    h.get_by_label("Comp Ratio")
        .click_modifiers(Modifiers::COMMAND);
    h.run();
    assert_eq!(h.state().params.stages.comp.ratio.value(), 2.0);
}

#[test]
fn shift_drag_is_fine() {
    let mut h = harness(app(None));
    h.run();
    // The main column scrolls (the EQ's dynamic rows push the later stages down).
    h.get_by_label("Output Gain").scroll_to_me();
    h.run();
    let start = h.get_by_label("Output Gain").rect().center();
    let drag = |h: &mut egui_kittest::Harness<'_, editor_support::App>, m: Modifiers| {
        h.event(Event::PointerMoved(start));
        h.event(press(start, true, m));
        for i in 1..=10 {
            h.event_modifiers(
                Event::PointerMoved(start + egui::vec2(3.0 * i as f32, 0.0)),
                m,
            );
        }
        h.event(press(start + egui::vec2(30.0, 0.0), false, m));
        h.run();
    };
    drag(&mut h, Modifiers::NONE);
    let coarse = h.state().params.stages.output_gain.gain.value();
    // Back to 0 with a double click, then the same drag with Shift.
    for _ in 0..2 {
        h.event(press(start, true, Modifiers::NONE));
        h.event(press(start, false, Modifiers::NONE));
    }
    h.run();
    assert_eq!(h.state().params.stages.output_gain.gain.value(), 0.0);
    drag(&mut h, Modifiers::SHIFT);
    let fine = h.state().params.stages.output_gain.gain.value();
    assert!(coarse > 0.5, "coarse drag moved {coarse}");
    assert!(
        fine > 0.0 && fine < coarse * 0.5,
        "fine {fine} vs coarse {coarse}"
    );
}

#[test]
fn dragging_an_eq_node_moves_frequency_and_gain_through_gestures() {
    let mut h = harness(app(None));
    h.run();
    h.state().host.take_gestures();
    let p = h.state().params.clone();
    assert_eq!(p.stages.eq.bell2.freq.value(), 500.0);
    assert_eq!(p.stages.eq.bell2.gain.value(), 0.0);
    let start = h.get_by_label(&node_label("Bell 2")).rect().center();
    h.event(Event::PointerMoved(start));
    h.event(press(start, true, Modifiers::NONE));
    for i in 1..=20 {
        h.event(Event::PointerMoved(
            start + egui::vec2(4.0 * i as f32, -3.0 * i as f32),
        ));
    }
    h.event(press(
        start + egui::vec2(80.0, -60.0),
        false,
        Modifiers::NONE,
    ));
    h.run();
    let f = p.stages.eq.bell2.freq.value();
    let g = p.stages.eq.bell2.gain.value();
    assert!(
        f > 700.0,
        "dragging right should raise the frequency, got {f} Hz"
    );
    assert!(g > 2.0, "dragging up should raise the gain, got {g} dB");
    assert!(
        p.stages.eq.bell2.enabled.value(),
        "a dragged band is switched on"
    );
    let gestures = h.state().host.take_gestures();
    assert_one_gesture(&gestures, "eq_b2_freq");
    assert_one_gesture(&gestures, "eq_b2_gain");
    assert_one_gesture(&gestures, "eq_b2_on");
    assert!(h.state().host.open_gestures().is_empty());

    // Drag down-left: frequency and gain fall.
    let start = h.get_by_label(&node_label("Bell 2")).rect().center();
    h.event(Event::PointerMoved(start));
    h.event(press(start, true, Modifiers::NONE));
    for i in 1..=10 {
        h.event(Event::PointerMoved(
            start + egui::vec2(-6.0 * i as f32, 6.0 * i as f32),
        ));
    }
    h.event(press(
        start + egui::vec2(-60.0, 60.0),
        false,
        Modifiers::NONE,
    ));
    h.run();
    assert!(p.stages.eq.bell2.freq.value() < f);
    assert!(p.stages.eq.bell2.gain.value() < g);

    // Scroll over the node changes Q.
    let q0 = p.stages.eq.bell2.q.value();
    let at = h.get_by_label(&node_label("Bell 2")).rect().center();
    h.event(Event::PointerMoved(at));
    h.event(Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 120.0),
        phase: egui::TouchPhase::Move,
        modifiers: Modifiers::NONE,
        source: egui::MouseWheelSource::Wheel,
    });
    h.run();
    assert!(p.stages.eq.bell2.q.value() > q0, "scroll up should raise Q");
}

#[test]
fn every_parameter_has_a_visible_control() {
    let mut h = harness(app(None));
    h.run();
    let visible: BTreeSet<String> = {
        let app = h.state();
        app.ui
            .visible_params()
            .iter()
            .filter_map(|ptr| {
                app.host
                    .ids()
                    .iter()
                    .find(|(_, p)| p == ptr)
                    .map(|(id, _)| id.clone())
            })
            .collect()
    };
    let all: BTreeSet<String> = h
        .state()
        .params
        .param_map()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let orphans: Vec<&String> = all.difference(&visible).collect();
    assert!(
        orphans.is_empty(),
        "parameters without a control: {orphans:?}"
    );
    // And every one of them is in the accessibility tree under its name, inside the window.
    let window = egui::Rect::from_min_size(Pos2::ZERO, egui::Vec2::from(editor_support::SIZE));
    for (id, ptr, _) in h.state().params.param_map() {
        let name = if id == "ab_bypass" {
            AB_BUTTON_LABEL.to_owned()
        } else if id == "reference_slot" {
            "Reference Slot 1".to_owned()
        } else if id == "listen_reference" {
            fairmaster::editor::reference_panel::REFERENCE_BUTTON_LABEL.to_owned()
        } else {
            // SAFETY: `ptr` comes from `param_map()` of `h.state().params`, an `Arc` that `h` keeps
            // alive for the whole loop, so the parameter it points to is alive.
            unsafe { ptr.name() }.to_owned()
        };
        // The side column scrolls: a control below its fold must come into view when asked
        // (as a screen reader or keyboard focus would ask).
        // (The last node of that name: a caption of the same text may precede the control.)
        h.query_all_by_label(&name)
            .last()
            .unwrap_or_else(|| panic!("{id}: no control labelled {name:?}"))
            .scroll_to_me();
        h.run();
        let node = h
            .query_all_by_label(&name)
            .last()
            .unwrap_or_else(|| panic!("{id}: no control labelled {name:?}"));
        assert!(
            window.contains_rect(node.rect()),
            "{id} is outside the window"
        );
    }
}

#[test]
fn factory_preset_is_applied_through_balanced_gestures() {
    let mut h = harness(app(None));
    h.run();
    h.state().host.take_gestures();
    h.get_by_label(fairmaster::editor::FACTORY_LABEL).click();
    h.run();
    h.get_by_label("Loud club").click();
    h.run();
    let p = h.state().params.clone();
    assert!(p.stages.comp.enabled.value());
    assert!((p.stages.comp.ratio.value() - 3.0).abs() < 1e-4);
    assert!((p.stages.limiter.ceiling.value() + 0.3).abs() < 1e-4);
    assert!(p.stages.stereo.mono_bass_enabled.value());
    assert_eq!(p.target.value(), fairmaster::params::TargetParam::CdClub);
    let gestures = h.state().host.take_gestures();
    assert!(gestures.len() > 10);
    assert!(h.state().host.open_gestures().is_empty());
    assert!(h.state().host.stray_sets.lock().unwrap().is_empty());

    // Neutral brings everything back to the defaults (monitoring untouched).
    h.get_by_label(fairmaster::editor::FACTORY_LABEL).click();
    h.run();
    h.get_by_label("Neutral / reset").click();
    h.run();
    for (id, ptr, _) in p.param_map() {
        if id == "target" {
            continue;
        }
        // SAFETY: `ptr` comes from `param_map()` of `p`, a clone of the editor's
        // `Arc<FairmasterParams>` held until the end of the test, so the parameter is alive.
        let (v, d) = unsafe {
            (
                ptr.unmodulated_normalized_value(),
                ptr.default_normalized_value(),
            )
        };
        assert!((v - d).abs() < 1e-4, "{id} not reset: {v} vs {d}");
    }
}

#[test]
fn user_preset_saves_and_loads_the_full_state() {
    let dir = std::env::temp_dir().join(format!("fairmaster_editor_test_{}", std::process::id()));
    let path = dir.join("mine.json");
    let mut h = harness(app(None));
    h.run();
    let p = h.state().params.clone();
    let ctx = h.state().gui.clone();
    ctx.param_setter()
        .set_parameter(&p.stages.comp.threshold, -33.0);
    h.state_mut().ui.set_preset_path(path.to_string_lossy());
    h.run();
    h.get_by_label("Save").click();
    h.run();
    assert!(path.exists(), "nothing saved: {:?}", h.state().ui.status());
    assert_eq!(h.state().ui.status().map(|s| s.1), Some(false));

    ctx.param_setter()
        .set_parameter(&p.stages.comp.threshold, -10.0);
    h.get_by_label("Load").click();
    h.run();
    assert_eq!(
        p.stages.comp.threshold.value(),
        -33.0,
        "{:?}",
        h.state().ui.status()
    );

    // A broken file gives a message, not a crash, and changes nothing.
    std::fs::write(&path, "{ not json").unwrap();
    ctx.param_setter()
        .set_parameter(&p.stages.comp.threshold, -12.0);
    h.get_by_label("Load").click();
    h.run();
    let (msg, error) = h.state().ui.status().expect("no message");
    assert!(error, "error not flagged: {msg}");
    assert!(msg.contains("not a Fairmaster preset"), "{msg}");
    assert!(h
        .query_by_label_contains("not a Fairmaster preset")
        .is_some());
    assert_eq!(p.stages.comp.threshold.value(), -12.0);

    // A missing file too.
    h.state_mut()
        .ui
        .set_preset_path(dir.join("nope.json").to_string_lossy());
    h.get_by_label("Load").click();
    h.run();
    assert!(h.state().ui.status().unwrap().1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn meters_show_readings_and_platform_preview() {
    let app = app(None);
    let out = &app.shared.output;
    out.integrated_lufs.store(-9.0, Ordering::Relaxed);
    out.true_peak_max_dbtp.store(-0.5, Ordering::Relaxed);
    out.loudness_range_lu.store(5.2, Ordering::Relaxed);
    app.shared.limiter_gr_db.store(3.0, Ordering::Relaxed);
    let mut h = harness(app);
    h.run();
    // -9 LUFS on a -14 target: 5 LU too loud; PLR 8.5; Spotify turns it down 5 dB.
    assert!(h.query_by_label("5.0 LU louder than -14.0 LUFS").is_some());
    assert!(h.query_all_by_label("8.5").next().is_some(), "PLR missing");
    assert!(h.query_all_by_label("5.2").next().is_some(), "LRA missing");
    assert!(
        h.query_all_by_label("-5.0 dB").count() >= 3,
        "platform preview missing"
    );
    h.get_by_label(fairmaster::editor::meters::RESET_LABEL)
        .click();
    h.run();
    assert!(h.state().shared.take_meter_reset_request());
}

#[test]
fn analyzer_shows_a_sine_at_its_frequency() {
    let (mut producer, consumer) = spectrum_rings(1 << 15);
    let mut analyzer = Analyzer::new(Some(consumer));
    let fs = 48_000.0;
    let sine: Vec<f32> = (0..8192)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / fs).sin())
        .collect();
    let silence = vec![0.0; 8192];
    for _ in 0..20 {
        producer.push_input(&silence, &silence);
        producer.push_output(&sine, &sine);
        analyzer.update(fs, 1.0 / 30.0);
    }
    let out = &analyzer.display[1];
    let (k, &peak) = out
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    let f = point_freq(k);
    assert!((900.0..1100.0).contains(&f), "peak at {f} Hz");
    // Amplitude 0.5 = -6 dBFS (no tilt at 1 kHz; Hann scalloping costs at most 1.4 dB).
    assert!((-7.6..=-5.5).contains(&peak), "peak level {peak} dB");
    assert!(
        analyzer.display[0].iter().all(|&v| v <= -85.0),
        "input should be silent"
    );
}

/// Dynamic EQ: a dynamic band in linear-phase mode acts at its static gain (the kernels are
/// static), and the editor says so next to the band; in minimum-phase mode, or with the band
/// static, the note is not shown.
#[test]
fn dynamic_band_in_linear_phase_mode_says_why_not() {
    use fairmaster::stages::eq::panel::LINEAR_PHASE_DYNAMIC_NOTE;
    use fairmaster::stages::eq::EqModeParam;
    let mut h = harness(app(None));
    h.run();
    let p = h.state().params.clone();
    let ctx = h.state().gui.clone();
    let setter = ctx.param_setter();
    setter.set_parameter(&p.stages.eq.mode, EqModeParam::LinearPhase);
    setter.set_parameter(&p.stages.eq.bell4.enabled, true);
    h.run();
    assert!(h.query_by_label(LINEAR_PHASE_DYNAMIC_NOTE).is_none());
    setter.set_parameter(&p.stages.eq.bell4.dynamic.enabled, true);
    h.run();
    assert_eq!(h.query_all_by_label(LINEAR_PHASE_DYNAMIC_NOTE).count(), 1);
    h.get_by_label(LINEAR_PHASE_DYNAMIC_NOTE).scroll_to_me();
    h.run();
    let window = egui::Rect::from_min_size(Pos2::ZERO, egui::Vec2::from(editor_support::SIZE));
    assert!(window.contains_rect(h.get_by_label(LINEAR_PHASE_DYNAMIC_NOTE).rect()));
    setter.set_parameter(&p.stages.eq.mode, EqModeParam::MinimumPhase);
    h.run();
    assert!(h.query_by_label(LINEAR_PHASE_DYNAMIC_NOTE).is_none());
}
