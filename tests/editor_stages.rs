//! The stage strip in the real editor (egui_kittest): stages in chain order, a stage dragged to
//! another place or moved with its menu reorders the chain (stored in the session, the session
//! marked dirty, no parameter gesture), folding hides a stage's controls, the chip's switch is
//! the stage's own parameter.

mod editor_support;

use editor_support::{app, harness, press};
use egui::{Event, Modifiers};
use egui_kittest::kittest::Queryable;
use fairmaster::stages::{StageId, StageOrder};

#[test]
fn dragging_a_stage_onto_another_reorders_the_chain_and_marks_the_session_dirty() {
    let mut h = harness(app(None));
    h.run();
    let host = h.state().host.clone();
    let params = h.state().params.clone();
    host.take_gestures();
    assert_eq!(host.take_dirty_marks(), 0, "opening the editor");
    assert_eq!(params.stage_order.get(), StageOrder::default());

    // Stereo's grip dragged onto the EQ chip: stereo goes first.
    let from = h.get_by_label("Move Stereo").rect().center();
    let to = h.get_by_label("Move EQ").rect().center();
    h.event(Event::PointerMoved(from));
    h.event(press(from, true, Modifiers::NONE));
    h.run();
    for i in 1..=20 {
        let t = i as f32 / 20.0;
        h.event(Event::PointerMoved(from + (to - from) * t));
        h.run();
    }
    h.event(press(to, false, Modifiers::NONE));
    h.run();
    h.run();
    assert_eq!(
        params.stage_order.get().as_slice(),
        [
            StageId::Stereo,
            StageId::Eq,
            StageId::Compressor,
            StageId::Multiband,
            StageId::Elliptical,
            StageId::HfLimiter
        ]
    );
    assert!(host.take_dirty_marks() >= 1, "a reorder marks the session");
    assert!(
        host.take_gestures().is_empty(),
        "a reorder is no parameter change"
    );
    // Saved with the session: the persisted field serialises the new order.
    let fields = nice_plug::prelude::Params::serialize_fields(params.as_ref());
    assert_eq!(
        fields["stage_order"],
        r#"["stereo","eq","compressor","multiband","elliptical","hf_limiter"]"#
    );
}

#[test]
fn a_stage_moves_with_its_menu_folds_and_switches_through_its_parameter() {
    let mut h = harness(app(None));
    h.run();
    let host = h.state().host.clone();
    let params = h.state().params.clone();
    host.take_gestures();

    // Right-click the EQ chip's name, "Move later": EQ after the compressor.
    h.get_by_label("EQ On").click_secondary();
    h.run();
    h.get_by_label("Move later").click();
    h.run();
    assert_eq!(
        params.stage_order.get().as_slice(),
        [
            StageId::Compressor,
            StageId::Eq,
            StageId::Stereo,
            StageId::Multiband,
            StageId::Elliptical,
            StageId::HfLimiter
        ]
    );
    assert!(host.take_dirty_marks() >= 1);

    // Folding hides the compressor's controls; unfolding brings them back.
    assert!(h.query_by_label("Comp Threshold").is_some());
    h.get_by_label("Fold Compressor").click();
    h.run();
    assert!(h.query_by_label("Comp Threshold").is_none());
    h.get_by_label("Fold Compressor").click();
    h.run();
    assert!(h.query_by_label("Comp Threshold").is_some());
    assert_eq!(
        host.take_dirty_marks(),
        0,
        "folding is the editor's, not the session's"
    );

    // The chip's switch is the stage's on parameter, set through one host gesture.
    assert!(!params.stages.comp.enabled.value());
    h.get_by_label("Comp On").click();
    h.run();
    assert!(params.stages.comp.enabled.value());
    let gestures = host.take_gestures();
    assert!(gestures.iter().any(|g| g.id() == "comp_on"), "{gestures:?}");
}

#[test]
fn multiband_panel_shows_each_bands_gain_change_and_switches_a_solo_through_a_gesture() {
    let mut h = harness(app(None));
    h.run();
    let host = h.state().host.clone();
    let params = h.state().params.clone();
    host.take_gestures();

    // What the audio thread publishes is drawn per band (4 bands by default).
    for (b, g) in [-4.5f32, 0.0, -1.25, 2.0, 0.0].into_iter().enumerate() {
        h.state().shared.multiband_gain_db[b].store(g, std::sync::atomic::Ordering::Relaxed);
    }
    h.run();
    h.run();
    let label =
        "Multiband gain change: band 1 -4.5 dB, band 2 +0.0 dB, band 3 -1.2 dB, band 4 +2.0 dB";
    assert!(
        h.query_by_label(label).is_some(),
        "no strip labelled {label:?}"
    );

    // A band's solo is its parameter, through one host gesture.
    assert!(!params.stages.multiband.band2.solo.value());
    h.get_by_label("MB Band 2 Solo").scroll_to_me();
    h.run();
    h.get_by_label("MB Band 2 Solo").click();
    h.run();
    assert!(params.stages.multiband.band2.solo.value());
    let gestures = host.take_gestures();
    assert!(
        gestures.iter().any(|g| g.id() == "mb_b2_solo"),
        "{gestures:?}"
    );
}
