//! The editor's reference panel driven by kittest (issue 13): load a file by typed path through
//! the real loader thread, switch to the reference (button and R key, as host gestures), set
//! the loop by dragging on the waveform, mark the song for the album view, and read the tonal
//! balance, whose Δ readouts must equal an offline analysis of the same audio. With a GPU
//! adapter (Mesa's lavapipe is enough) it also renders the panel for the README.

mod editor_support;

use std::path::PathBuf;

use editor_support::{app, harness_builder, scroll_and_click, step_until, App};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::SnapshotOptions;
use fairmaster::analysis::tonal::analyse_stereo;
use fairmaster::editor::meters::{self, BAR_LABELS, RESET_LABEL};
use fairmaster::editor::reference_panel::{
    ALBUM_SONG_LABEL, ALIGN_BUTTON_LABEL, CLEAR_MATCH_LABEL, LOAD_BUTTON_LABEL, MATCH_BUTTON_LABEL,
    PATH_FIELD_LABEL, REFERENCE_BUTTON_LABEL, SONG_LABEL, TONAL_LABEL, WAVEFORM_LABEL,
};
use fairmaster::params::state::EditorSize;
use fairmaster::reference::library::{ReferenceLibrary, SlotState};
use fairmaster::shared_state::{spectrum_rings, MasterTapProducer};

mod common;
use common::signals::{multitone_mix, pink_noise};

const FS: u32 = 48_000;

/// A 12 s stereo reference written with hound (a pink-noise "record").
fn reference_file(name: &str) -> (PathBuf, Vec<f32>, Vec<f32>) {
    let dir = std::env::temp_dir().join(format!("fairmaster-editor-ref-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let n = 12 * FS as usize;
    let (l, r) = (pink_noise(n, 31, -18.0), pink_noise(n, 32, -18.0));
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: FS,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for (a, b) in l.iter().zip(&r) {
        w.write_sample(*a).unwrap();
        w.write_sample(*b).unwrap();
    }
    w.finalize().unwrap();
    (path, l, r)
}

struct Session {
    app: App,
    tap: MasterTapProducer,
    /// The EQ stage's input, as the chain pushes it while the editor is open.
    eq_tap: MasterTapProducer,
    _library: ReferenceLibrary,
}

fn session() -> Session {
    let (mut producer, consumer) = spectrum_rings(1 << 15);
    let tap = producer.take_master_tap().unwrap();
    let eq_tap = producer.take_eq_input_tap().unwrap();
    let app = app(Some(consumer));
    let (library, _handover) = ReferenceLibrary::spawn(
        app.params.references.0.clone(),
        app.shared.reference_status.clone(),
    );
    library.set_sample_rate(FS as f32);
    Session {
        app,
        tap,
        eq_tap,
        _library: library,
    }
}

fn load_reference(h: &mut egui_kittest::Harness<'_, Session>, path: &std::path::Path) {
    scroll_and_click(h, PATH_FIELD_LABEL);
    h.run();
    h.query_by(|n| n.role() == Role::TextInput && n.is_focused())
        .unwrap()
        .type_text(&path.display().to_string());
    h.run();
    scroll_and_click(h, LOAD_BUTTON_LABEL);
    h.run();
    step_until(h, |s| {
        matches!(
            s.app.shared.reference_status.slots()[0].state,
            SlotState::Ready
        )
    });
    // The loader completes the track it handed over with its limiting curve (issue 24), which
    // the level match reads once it is set.
    step_until(h, |s| {
        s.app.shared.reference_status.slots()[0]
            .track
            .as_ref()
            .is_some_and(|t| t.safety().is_some())
    });
}

fn harness(session: Session) -> egui_kittest::Harness<'static, Session> {
    egui_kittest::Harness::builder()
        .with_size(editor_support::SIZE)
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(600)
        .build_ui_state(|ui, s: &mut Session| s.app.ui.ui(ui, &s.app.gui), session)
}

#[test]
fn load_switch_loop_and_album_view() {
    let (path, _, _) = reference_file("record.wav");
    let mut h = harness(session());
    h.run();
    load_reference(&mut h, &path);
    let s = h.state();
    let files = s.app.params.references.0.files();
    assert_eq!(files[0].path.as_deref(), Some(path.to_str().unwrap()));
    let track = s.app.shared.reference_status.slots()[0]
        .track
        .clone()
        .unwrap();
    assert_eq!(track.frames(), 12 * FS as usize);
    // The loaded reference's figures are shown.
    let lufs = format!("{:.1}", track.summary.integrated_lufs);
    assert!(
        h.query_by_label_contains(&format!("Reference I {lufs} LUFS"))
            .is_some(),
        "no figures row with {lufs} LUFS"
    );

    // Switch to the reference: one gesture on listen_reference; the R key switches back.
    h.get_by_label(REFERENCE_BUTTON_LABEL).click();
    h.run();
    assert!(h.state().app.params.listen_reference.value());
    assert!(h
        .state()
        .app
        .host
        .gestures()
        .iter()
        .any(|g| g.id() == "listen_reference"));
    h.key_press(egui::Key::R);
    h.run();
    assert!(!h.state().app.params.listen_reference.value());

    // Drag over the middle half of the waveform: the loop is 3 s … 9 s (within a pixel).
    h.get_by_label(WAVEFORM_LABEL).scroll_to_me();
    h.run();
    let rect = h.get_by_label(WAVEFORM_LABEL).rect();
    let at = |t: f32| egui::pos2(rect.left() + t * rect.width(), rect.center().y);
    h.drag_at(at(0.25));
    h.run();
    h.hover_at(at(0.5));
    h.run();
    h.hover_at(at(0.75));
    h.run();
    h.drop_at(at(0.75));
    h.run();
    let c = h.state().app.params.references.0.controls()[0];
    let pixel = 12.0 / f64::from(rect.width());
    assert!(
        (c.loop_start_seconds - 3.0).abs() <= 2.0 * pixel
            && (c.loop_end_seconds - 9.0).abs() <= 2.0 * pixel,
        "loop {:.3} … {:.3}",
        c.loop_start_seconds,
        c.loop_end_seconds
    );

    // Album view: the song appears once marked.
    assert!(h.query_by_label_contains("Album (0 songs)").is_some());
    scroll_and_click(&mut h, SONG_LABEL);
    h.run();
    assert!(h.state().app.params.references.0.files()[0].song_of_record);
    assert!(h.query_by_label_contains("Album (1 songs)").is_some());

    // One click on the song in the album view: it becomes the reference and is heard.
    assert!(!h.state().app.params.listen_reference.value());
    // The album view is at the bottom of the side column: scroll it into view first.
    h.get_by_label(&format!("{ALBUM_SONG_LABEL} 1"))
        .scroll_to_me();
    h.run();
    h.get_by_label(&format!("{ALBUM_SONG_LABEL} 1")).click();
    h.run();
    assert!(h.state().app.params.listen_reference.value());
    assert_eq!(h.state().app.params.reference_slot.value(), 1);
}

#[test]
fn tonal_readouts_equal_an_offline_analysis_of_the_same_audio() {
    let (path, ref_l, ref_r) = reference_file("tonal.wav");
    let mut h = harness(session());
    h.run();
    load_reference(&mut h, &path);
    // The master: 20 s of a mix, pushed through the master tap in host-sized blocks, as the
    // engine does while the editor is open.
    let (ml, mr) = multitone_mix(20 * FS as usize, FS as f32);
    for (bl, br) in ml.chunks(48_000).zip(mr.chunks(48_000)) {
        for (l, r) in bl.chunks(512).zip(br.chunks(512)) {
            h.state_mut().tap.push(l, r);
        }
        h.step();
    }
    h.run();
    let offline_master = analyse_stereo(&ml, &mr, FS as f32).unwrap();
    let offline_reference = analyse_stereo(&ref_l, &ref_r, FS as f32).unwrap();
    let live = h
        .state_mut()
        .app
        .ui
        .reference_panel_mut()
        .master_tonal_balance()
        .cloned()
        .expect("no live master analysis");
    // The editor summarises at most every 3 frames: compare the frames it had.
    assert!(live.frames_used + 6 >= offline_master.frames_used);
    let deltas = offline_master.third_octave_delta_db(&offline_reference);
    let shown = h
        .get_by_label(&format!("{TONAL_LABEL} delta"))
        .value()
        .expect("Δ readouts");
    let readouts: Vec<f64> = shown
        .split(", ")
        .map(|item| item.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(readouts.len(), deltas.len());
    for (k, (shown, offline)) in readouts.iter().zip(&deltas).enumerate() {
        let offline = offline.unwrap();
        assert!(
            (shown - offline).abs() <= 0.3,
            "band {k}: editor shows {shown:+.1} dB, offline analysis {offline:+.2} dB"
        );
    }
}

#[test]
fn match_to_reference_stores_the_difference_to_the_eq_input_and_switches_to_linear_phase() {
    use fairmaster::analysis::tonal_match::MatchDifference;
    use fairmaster::dsp::filters::match_curve::MATCH_POINTS;
    use fairmaster::stages::eq::EqModeParam;
    let (path, ref_l, ref_r) = reference_file("match.wav");
    let mut h = harness(session());
    h.run();
    load_reference(&mut h, &path);
    // What enters the EQ: a multitone mix (its tone far from the pink reference's); the master
    // (the chain's output) is something else entirely, so a match taken from it would differ.
    let (il, ir) = multitone_mix(20 * FS as usize, FS as f32);
    let (ml, mr) = (
        pink_noise(20 * FS as usize, 5, -30.0),
        pink_noise(20 * FS as usize, 6, -30.0),
    );
    for k in 0..20 {
        let span = k * FS as usize..(k + 1) * FS as usize;
        for (a, b) in span
            .clone()
            .step_by(512)
            .map(|i| (i, (i + 512).min(span.end)))
        {
            h.state_mut().eq_tap.push(&il[a..b], &ir[a..b]);
            h.state_mut().tap.push(&ml[a..b], &mr[a..b]);
        }
        h.step();
    }
    h.run();
    assert!(h.state().app.params.eq_match.get().is_empty());
    scroll_and_click(&mut h, MATCH_BUTTON_LABEL);
    h.run();
    let params = &h.state().app.params;
    assert!(params.stages.eq.enabled.value());
    assert_eq!(params.stages.eq.mode.value(), EqModeParam::LinearPhase);
    let stored = params.eq_match.get();
    let expected = MatchDifference::measure(
        &analyse_stereo(&il, &ir, FS as f32).unwrap(),
        &analyse_stereo(&ref_l, &ref_r, FS as f32).unwrap(),
    );
    let mut compared = 0;
    for i in 0..MATCH_POINTS {
        let (s, e) = (stored.mid_db[i], expected.mid_db[i]);
        assert_eq!(s.is_finite(), e.is_finite(), "point {i}");
        if e.is_finite() {
            // The editor summarises at most every 3 frames: nearly the same frames.
            assert!(
                (s - e).abs() < 0.3,
                "point {i}: stored {s:+.2}, offline {e:+.2}"
            );
            compared += 1;
        }
    }
    assert!(compared > 40, "{compared} points");
    // The chain takes the shaped curve from the stored difference and the Match parameters.
    let curve = params.chain_settings().eq_match;
    assert_eq!(
        curve,
        stored.curve(&params.stages.eq.matching.options()).curve
    );
    assert!(!curve.is_flat());
    // Cleared, the curve is flat again.
    scroll_and_click(&mut h, CLEAR_MATCH_LABEL);
    h.run();
    assert!(h.state().app.params.chain_settings().eq_match.is_flat());
}

/// The editor with a reference loaded and the tonal view filled, rendered for the README
/// (`tests/snapshots/reference_panel.png`).
#[test]
fn reference_panel_snapshot() {
    let (generated, _, _) = reference_file("snapshot.wav");
    // A path without the process id, so the image is the same on every run.
    let dir = std::env::temp_dir().join("fairmaster-editor-snapshot");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snapshot.wav");
    std::fs::copy(&generated, &path).unwrap();
    let session = session();
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        harness_builder_for_session()
            .wgpu()
            .build_ui_state(|ui, s: &mut Session| s.app.ui.ui(ui, &s.app.gui), session)
    }));
    let Ok(mut h) = built else {
        eprintln!("SKIPPED reference_panel_snapshot: no wgpu adapter");
        return;
    };
    h.run();
    load_reference(&mut h, &path);
    scroll_and_click(&mut h, SONG_LABEL);
    h.run();
    // A master close to the reference but with more low end: pink noise plus its one-pole
    // low-passed self (below ~150 Hz), so the Δ bars show a bass lift.
    let n = 20 * FS as usize;
    let bass = |x: Vec<f32>| -> Vec<f32> {
        let mut lp = 0.0f32;
        let k = 1.0 - (-2.0 * std::f32::consts::PI * 150.0 / FS as f32).exp();
        x.iter()
            .map(|&v| {
                lp += k * (v - lp);
                v + 0.8 * lp
            })
            .collect()
    };
    let (ml, mr) = (
        bass(pink_noise(n, 41, -17.0)),
        bass(pink_noise(n, 42, -17.0)),
    );
    // The meters show this master as measured by an independent meter (the ebur128 crate).
    {
        use std::sync::atomic::Ordering::Relaxed;
        let mut meter = ebur128::EbuR128::new(
            2,
            FS,
            ebur128::Mode::I | ebur128::Mode::LRA | ebur128::Mode::TRUE_PEAK,
        )
        .unwrap();
        meter.add_frames_planar_f32(&[&ml, &mr]).unwrap();
        let tp = (0..2)
            .map(|c| meter.true_peak(c).unwrap())
            .fold(0.0f64, f64::max);
        let out = &h.state().app.shared.output;
        out.integrated_lufs
            .store(meter.loudness_global().unwrap() as f32, Relaxed);
        out.loudness_range_lu
            .store(meter.loudness_range().unwrap() as f32, Relaxed);
        out.true_peak_max_dbtp
            .store((20.0 * tp.log10()) as f32, Relaxed);
    }
    for (bl, br) in ml.chunks(48_000).zip(mr.chunks(48_000)) {
        h.state_mut().tap.push(bl, br);
        h.step();
    }
    h.run();
    if let Err(e) = h.render() {
        eprintln!("SKIPPED reference_panel_snapshot: rendering failed: {e}");
        return;
    }
    // The waveform and figures come from a generated file, identical on every run; the
    // threshold absorbs rasteriser differences between Mesa versions.
    let options = SnapshotOptions::new()
        .threshold(1.0)
        .max_failed_pixels(1500);
    h.snapshot_options("reference_panel", &options);
}

fn harness_builder_for_session() -> egui_kittest::HarnessBuilder<Session> {
    let _ = harness_builder; // the editor-only builder, for App states
    egui_kittest::Harness::builder()
        .with_size(editor_support::SIZE)
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(600)
}

/// Every widget of the loudness meters lies inside the window at the smallest, default and
/// largest editor sizes, with the reference panel empty and with it open at its tallest (a
/// reference loaded: waveform, tonal plots, a song in the album view).
#[test]
fn loudness_meters_stay_on_screen_at_every_size() {
    let (path, _, _) = reference_file("meters.wav");
    let mut h = harness(session());
    h.run();
    assert_meters_on_screen(&mut h, "empty reference panel");

    load_reference(&mut h, &path);
    scroll_and_click(&mut h, SONG_LABEL);
    h.run();
    let n = 6 * FS as usize;
    let (ml, mr) = (pink_noise(n, 51, -17.0), pink_noise(n, 52, -17.0));
    for (bl, br) in ml.chunks(48_000).zip(mr.chunks(48_000)) {
        h.state_mut().tap.push(bl, br);
        h.step();
    }
    h.run();
    assert!(h.query_by_label(&format!("{TONAL_LABEL} delta")).is_some());
    assert!(h.query_by_label(&format!("{ALBUM_SONG_LABEL} 1")).is_some());
    assert_meters_on_screen(&mut h, "reference panel open");
}

/// Sets the window to each of the editor's smallest, default and largest sizes and asserts
/// that the meter reset button, every row of the loudness table and every meter bar lie
/// inside it.
fn assert_meters_on_screen(h: &mut egui_kittest::Harness<'_, Session>, what: &str) {
    let mut labels = vec![RESET_LABEL.to_owned()];
    labels.extend(meters::row_names().map(|name| format!("{name} input ")));
    labels.extend(BAR_LABELS.map(str::to_owned));
    for size in [EditorSize::MIN, EditorSize::DEFAULT, EditorSize::MAX] {
        let window = egui::vec2(size.width as f32, size.height as f32);
        h.set_size(window);
        h.run();
        let window = egui::Rect::from_min_size(egui::Pos2::ZERO, window);
        for label in &labels {
            let rect = h.get_by_label_contains(label).rect();
            assert!(
                window.contains_rect(rect),
                "{what}, {} × {}: {label:?} at {rect:?} is outside the window",
                size.width,
                size.height
            );
        }
    }
}

/// The Align button: the capture fills from the "audio thread" (here the test, writing what
/// the host plays), the search runs on its own thread, and the slot's offset lands on the
/// sample; the panel says so.
#[test]
fn align_button_places_the_reference_on_the_timeline() {
    use fairmaster::reference::playback::Transport;
    let (path, ref_l, ref_r) = reference_file("align.wav");
    let mut h = harness(session());
    h.run();
    load_reference(&mut h, &path);
    scroll_and_click(&mut h, ALIGN_BUTTON_LABEL);
    // While it waits the panel keeps repainting (it shows progress): step, do not settle.
    h.run_steps(3);
    assert!(h
        .query_by_label_contains("Align: play the session")
        .is_some());
    // The host plays a mix whose timeline position p carries the reference's frame p + 7000.
    let truth = 7000usize;
    let capture = h.state().app.shared.align_capture.clone();
    for k in 0..450 {
        let p = 48_000 + 480 * k;
        let (l, r) = (
            &ref_l[p + truth..p + truth + 480],
            &ref_r[p + truth..p + truth + 480],
        );
        capture.write(
            l,
            r,
            Transport {
                playing: true,
                position_samples: Some(p as i64),
            },
        );
    }
    step_until(&mut h, |s| {
        s.app.params.references.0.controls()[0].offset_seconds != 0.0
    });
    let offset = h.state().app.params.references.0.controls()[0].offset_seconds * f64::from(FS);
    assert!(
        (offset - truth as f64).abs() <= 1.0,
        "offset {offset} samples"
    );
    assert!(h
        .query_by_label_contains("Aligned: offset +145.83 ms (+7000 samples)")
        .is_some());
}

/// A file dropped on the editor, as the patched egui-baseview hands baseview's drops to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Drag and drop: files dragged over slot 3's button show where they go; dropped, the first
/// loads into slot 3 (which becomes the selected slot, one host gesture), the second into the
/// next empty slot (4), skipping none that are taken; both load through the real loader
/// thread. Nine files into the last slot load one and say why the rest did not.
#[test]
fn files_dropped_on_a_slot_load_into_it_and_the_empty_slots_after_it() {
    let (first, _, _) = reference_file("drop-a.wav");
    let (second, _, _) = reference_file("drop-b.wav");
    let mut h = harness(session());
    h.run();
    let target = h.get_by_label("Reference Slot 3").rect().center();
    h.hover_at(target);
    h.input_mut().hovered_files = vec![egui::HoveredFile {
        path: Some(first.clone()),
        mime: String::new(),
    }];
    h.run_steps(2);
    assert!(h
        .query_by_label_contains("Drop to load into slot 3")
        .is_some());
    h.input_mut().hovered_files.clear();
    h.input_mut().dropped_files = vec![
        std::sync::Arc::new(Dropped(first.clone())),
        std::sync::Arc::new(Dropped(second.clone())),
    ];
    h.step();
    h.run();
    assert!(h.query_by_label_contains("Drop to load").is_none());
    assert!(h
        .query_by_label_contains("Loading 2 dropped files into slots 3, 4")
        .is_some());
    let s = h.state();
    assert_eq!(s.app.params.reference_slot.value(), 3);
    assert!(s
        .app
        .host
        .gestures()
        .iter()
        .any(|g| g.id() == "reference_slot"));
    let files = s.app.params.references.0.files();
    assert_eq!(files[2].path.as_deref(), Some(first.to_str().unwrap()));
    assert_eq!(files[3].path.as_deref(), Some(second.to_str().unwrap()));
    assert!(files[0].path.is_none() && files[1].path.is_none() && files[4].path.is_none());
    step_until(&mut h, |s| {
        let slots = s.app.shared.reference_status.slots();
        matches!(slots[2].state, SlotState::Ready) && matches!(slots[3].state, SlotState::Ready)
    });

    // Nine files on slot 8: one slot is left, the message says the rest were not loaded.
    let last = h.get_by_label("Reference Slot 8").rect().center();
    h.hover_at(last);
    h.run();
    h.input_mut().dropped_files = (0..9)
        .map(|_| std::sync::Arc::new(Dropped(first.clone())) as egui::DroppedFileHandle)
        .collect();
    h.step();
    h.run();
    assert!(h
        .query_by_label_contains("Loaded 1 of 9 dropped files (slot 8): no empty slot after slot 8")
        .is_some());
    let files = h.state().app.params.references.0.files();
    assert_eq!(files[7].path.as_deref(), Some(first.to_str().unwrap()));
    assert_eq!(h.state().app.params.reference_slot.value(), 8);
}
