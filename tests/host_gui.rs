//! The real editor in the in-process CLAP host (issue 15): opened through `clap.gui` in an X11
//! window on a private Xvfb server, a snapshot recalled with the key 1 as the engineer would,
//! and the host receives exactly one gesture (begin, value, end) per parameter the recall
//! changes, through nice-plug's CLAP wrapper, with the parameter at the snapshot's value.
//!
//! Its own test binary: it starts Xvfb and sets `DISPLAY` for the process (baseview connects to
//! it). Without Xvfb or Mesa's software OpenGL the test says so and passes; `scripts/test.sh`
//! installs the Debian packages `xvfb` and `libgl1-mesa-dri` when it can.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::clap_host::{clap_param_id, ClapTestHost, ParamEvent};
use common::snapshots::{session_with_snapshots, FS};
use common::xvfb::{create_host_window, missing_prerequisite, Ending, Xvfb};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConnectionExt, EventMask, KeyPressEvent, KEY_PRESS_EVENT, KEY_RELEASE_EVENT,
};

/// Runs the host for `seconds` of wall time: audio blocks (which carry the plugin's queued
/// parameter events out), main-thread callbacks and parameter flushes, as a DAW does.
fn run_host(
    host: &mut ClapTestHost,
    seconds: f64,
    until: impl Fn(&[ParamEvent]) -> bool,
) -> Vec<ParamEvent> {
    let mut events = Vec::new();
    let start = Instant::now();
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    while start.elapsed().as_secs_f64() < seconds {
        host.pump_main_thread();
        host.process(&mut l, Some(&mut r), &[]);
        host.flush_params();
        events.extend(host.take_param_events());
        if until(&events) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    events
}

#[test]
fn key_1_in_the_real_editor_recalls_a_snapshot_with_one_gesture_per_changed_parameter() {
    if let Some(reason) = missing_prerequisite() {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    // Started with `-terminate`: it exits with this test process and is never killed from
    // here (Xlib ends the process when its server goes away while a window is still closing).
    let server = Xvfb::start(90..140, Ending::WithLastClient)
        .expect("Xvfb did not start on any display :90-:139");
    // Only this test runs in this binary, and it sets DISPLAY before any thread reads it.
    std::env::set_var("DISPLAY", &server.display);

    // The DAW's window the editor is embedded in.
    let (conn, screen_num) = x11rb::connect(Some(&server.display)).expect("connect to Xvfb");
    let screen = &conn.setup().roots[screen_num];
    let parent = create_host_window(&conn, screen);

    // A session with "Open" (drive 2 dB) in snapshot 1 and "Loud" (drive 5 dB) current.
    let (session, _) = session_with_snapshots();
    let mut host = ClapTestHost::new_inactive(2);
    assert!(host.load_state(&session));
    host.activate(FS, 1, 512);
    assert!((host.param_value("lim_drive") - 5.0).abs() < 1e-3);
    host.open_gui_x11(u64::from(parent))
        .expect("open the editor");

    // Wait for the editor's window (baseview's child of ours) and a few frames.
    let start = Instant::now();
    let editor = loop {
        run_host(&mut host, 0.05, |_| false);
        let children = conn.query_tree(parent).unwrap().reply().unwrap().children;
        if let Some(&w) = children.first() {
            break w;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no editor window"
        );
    };
    let opened = run_host(&mut host, 1.0, |_| false);
    assert!(opened.is_empty(), "opening the editor sent {opened:?}");

    // The engineer presses 1 (X keycode 10) in the editor.
    for (kind, mask) in [
        (KEY_PRESS_EVENT, EventMask::KEY_PRESS),
        (KEY_RELEASE_EVENT, EventMask::KEY_RELEASE),
    ] {
        let event = KeyPressEvent {
            response_type: kind,
            detail: 10,
            sequence: 0,
            time: x11rb::CURRENT_TIME,
            root: screen.root,
            event: editor,
            child: x11rb::NONE,
            root_x: 100,
            root_y: 100,
            event_x: 100,
            event_y: 100,
            state: 0u16.into(),
            same_screen: true,
        };
        conn.send_event(false, editor, mask, event).unwrap();
        conn.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    let drive = clap_param_id("lim_drive");
    let events = run_host(&mut host, 10.0, |e| {
        e.contains(&ParamEvent::GestureEnd(drive))
    });
    // A little longer: anything else the recall sends arrives too.
    let mut events = events;
    events.extend(run_host(&mut host, 0.5, |_| false));

    let mut by_param: BTreeMap<u32, Vec<&ParamEvent>> = BTreeMap::new();
    for e in &events {
        by_param.entry(e.param_id()).or_default().push(e);
    }
    assert_eq!(
        by_param.keys().copied().collect::<Vec<_>>(),
        vec![drive],
        "the recall changes the drive only: {events:?}"
    );
    assert!(
        matches!(
            by_param[&drive].as_slice(),
            [
                ParamEvent::GestureBegin(_),
                ParamEvent::Value(_, _),
                ParamEvent::GestureEnd(_)
            ]
        ),
        "one gesture: {events:?}"
    );
    assert!(
        (host.param_value("lim_drive") - 2.0).abs() < 1e-3,
        "drive {} after the recall",
        host.param_value("lim_drive")
    );
    host.close_gui();
    // Let baseview's window thread finish closing before the plugin goes.
    run_host(&mut host, 0.3, |_| false);
    drop(host);
    // The connection and the server live until the process exits (see `Xvfb`).
    std::mem::forget(conn);
    let _ = server.display;
}
