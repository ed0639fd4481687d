//! The real editor in the in-process hosts, on a private Xvfb server, driven with X11 input
//! events as the engineer would:
//! - CLAP (issue 15): opened through `clap.gui` in an X11 window, a snapshot recalled with the
//!   key 1, and the host receives exactly one gesture (begin, value, end) per parameter the
//!   recall changes, through nice-plug's CLAP wrapper, with the parameter at the snapshot's
//!   value.
//! - Dirty state (issue 25): a click on *Store* saves a snapshot, a persisted field no
//!   parameter shows; the host learns the session changed (CLAP `clap_host_state::mark_dirty`,
//!   VST3 `IComponentHandler2::setDirty(true)`, through nice-plug's real wrappers) and sees no
//!   parameter change. Opening the editor and idling marks nothing.
//!
//! Its own test binary: it starts one Xvfb and sets `DISPLAY` for the process (baseview
//! connects to it); the tests take turns on it. Without Xvfb or Mesa's software OpenGL the
//! tests say so and pass; `scripts/test.sh` installs the Debian packages `xvfb` and
//! `libgl1-mesa-dri` when it can.
#![cfg(target_os = "linux")]

mod common;
mod editor_support;
#[path = "common/vst3_host.rs"]
mod vst3_host;

use std::collections::BTreeMap;
use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::clap_host::{clap_param_id, ClapTestHost, ParamEvent};
use common::snapshots::{session_with_snapshots, FS};
use common::xvfb::{create_host_window, missing_prerequisite, Ending, Xvfb};
use egui_kittest::kittest::Queryable;
use fairmaster::editor::snapshots_panel::STORE_BUTTON_LABEL;
use fairmaster::snapshots::SavedSnapshots;
use vst3_host::{Vst3TestHost, REALTIME};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ButtonPressEvent, ConnectionExt, EventMask, KeyPressEvent, MotionNotifyEvent,
    BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT, KEY_PRESS_EVENT, KEY_RELEASE_EVENT,
    MOTION_NOTIFY_EVENT,
};
use x11rb::rust_connection::RustConnection;

/// One test at a time on the shared X server.
static GUI: Mutex<()> = Mutex::new(());
/// The X server's display, started by the first test.
static DISPLAY: OnceLock<String> = OnceLock::new();

/// What a test gets: its turn on the X server, a connection and the DAW's window (1280x800,
/// mapped) the editor is embedded in. `None` (the test passes, saying why) without Xvfb.
struct Desktop {
    _turn: MutexGuard<'static, ()>,
    /// Never closed: the server (started with `-terminate`) lives until the process exits.
    conn: ManuallyDrop<RustConnection>,
    root: u32,
    parent: u32,
}

fn desktop() -> Option<Desktop> {
    if let Some(reason) = missing_prerequisite() {
        eprintln!("SKIPPED: {reason}");
        return None;
    }
    let turn = GUI.lock().unwrap_or_else(|e| e.into_inner());
    let display = DISPLAY.get_or_init(|| {
        // Started with `-terminate`: it exits with this test process and is never killed from
        // here (Xlib ends the process when its server goes away while a window is still
        // closing). Every test keeps its connection open until the process exits.
        let server = Xvfb::start(90..140, Ending::WithLastClient)
            .expect("Xvfb did not start on any display :90-:139");
        // Set once, under the lock, before any editor (or X client) of this binary exists.
        std::env::set_var("DISPLAY", &server.display);
        server.display.clone()
    });
    let (conn, screen_num) = x11rb::connect(Some(display)).expect("connect to Xvfb");
    let screen = &conn.setup().roots[screen_num];
    let root = screen.root;
    let parent = create_host_window(&conn, screen);
    Some(Desktop {
        _turn: turn,
        conn: ManuallyDrop::new(conn),
        root,
        parent,
    })
}

impl Desktop {
    /// Waits for the editor's window (baseview's child of the DAW's window), running
    /// `host_runs` meanwhile.
    fn editor_window(&self, mut host_runs: impl FnMut()) -> u32 {
        let start = Instant::now();
        loop {
            host_runs();
            let children = self
                .conn
                .query_tree(self.parent)
                .unwrap()
                .reply()
                .unwrap()
                .children;
            if let Some(&w) = children.first() {
                return w;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no editor window"
            );
        }
    }

    /// A left click at (x, y) in the editor window: the pointer moves there, the button goes
    /// down and up.
    fn click(&self, editor: u32, (x, y): (i16, i16)) {
        let motion = MotionNotifyEvent {
            response_type: MOTION_NOTIFY_EVENT,
            detail: x11rb::protocol::xproto::Motion::NORMAL,
            sequence: 0,
            time: x11rb::CURRENT_TIME,
            root: self.root,
            event: editor,
            child: x11rb::NONE,
            root_x: x,
            root_y: y,
            event_x: x,
            event_y: y,
            state: 0u16.into(),
            same_screen: true,
        };
        self.conn
            .send_event(false, editor, EventMask::POINTER_MOTION, motion)
            .unwrap();
        self.conn.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        for (kind, mask, state) in [
            (BUTTON_PRESS_EVENT, EventMask::BUTTON_PRESS, 0u16),
            // The release reports the button as held until then (Button1Mask).
            (BUTTON_RELEASE_EVENT, EventMask::BUTTON_RELEASE, 1 << 8),
        ] {
            let event = ButtonPressEvent {
                response_type: kind,
                detail: 1,
                sequence: 0,
                time: x11rb::CURRENT_TIME,
                root: self.root,
                event: editor,
                child: x11rb::NONE,
                root_x: x,
                root_y: y,
                event_x: x,
                event_y: y,
                state: state.into(),
                same_screen: true,
            };
            self.conn.send_event(false, editor, mask, event).unwrap();
            self.conn.flush().unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // The DAW's window goes; the connection stays open (`ManuallyDrop`, see `desktop`),
        // so the server outlives every test.
        let _ = self.conn.destroy_window(self.parent);
        let _ = self.conn.flush();
    }
}

/// Where *Store* is in the editor at its default size (1280x800, as both hosts open it): the
/// button's centre as the editor lays it out (the same UI in egui_kittest, found by its
/// accessible label), in window pixels (scale 1 on Xvfb).
fn store_button_centre() -> (i16, i16) {
    let mut h = editor_support::harness(editor_support::app(None));
    h.run();
    let centre = h.get_by_label(STORE_BUTTON_LABEL).rect().center();
    (centre.x.round() as i16, centre.y.round() as i16)
}

/// The snapshots in a saved plugin state (CLAP's stream carries a length first, VST3's not:
/// the JSON starts at the first `{`).
fn saved_snapshots(state: &[u8]) -> SavedSnapshots {
    let start = state.iter().position(|&b| b == b'{').expect("state JSON");
    let json: serde_json::Value = serde_json::from_slice(&state[start..]).expect("state JSON");
    match &json["fields"]["snapshots"] {
        serde_json::Value::String(text) => serde_json::from_str(text).expect("snapshots JSON"),
        serde_json::Value::Null => SavedSnapshots::default(),
        other => panic!("snapshots field {other}"),
    }
}

/// Runs the host for `seconds` of wall time: audio blocks (which carry the plugin's queued
/// parameter events out), main-thread callbacks and parameter flushes, as a DAW does; stops
/// early once `until` holds.
fn run_host(
    host: &mut ClapTestHost,
    seconds: f64,
    until: impl Fn(&ClapTestHost, &[ParamEvent]) -> bool,
) -> Vec<ParamEvent> {
    let mut events = Vec::new();
    let start = Instant::now();
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    while start.elapsed().as_secs_f64() < seconds {
        host.pump_main_thread();
        host.process(&mut l, Some(&mut r), &[]);
        host.flush_params();
        events.extend(host.take_param_events());
        if until(host, &events) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    events
}

/// Opens the real editor in the CLAP host and waits until it has drawn for a second; returns
/// its window and what the host received meanwhile (parameter events).
fn open_clap_editor(desktop: &Desktop, host: &mut ClapTestHost) -> (u32, Vec<ParamEvent>) {
    host.open_gui_x11(u64::from(desktop.parent))
        .expect("open the editor");
    let editor = desktop.editor_window(|| {
        run_host(host, 0.05, |_, _| false);
    });
    (editor, run_host(host, 1.0, |_, _| false))
}

fn close_clap_editor(host: &mut ClapTestHost) {
    host.close_gui();
    // Let baseview's window thread finish closing before the plugin goes.
    run_host(host, 0.3, |_, _| false);
}

#[test]
fn store_clicked_in_the_real_editor_marks_the_clap_session_dirty_with_no_parameter_change() {
    let Some(desktop) = desktop() else { return };
    let store = store_button_centre();
    let mut host = ClapTestHost::new_inactive(2);
    host.activate(FS, 1, 512);
    let (editor, opened) = open_clap_editor(&desktop, &mut host);
    assert!(opened.is_empty(), "opening the editor sent {opened:?}");
    assert_eq!(host.host_calls().state_dirty, 0, "opening the editor");
    assert!(saved_snapshots(&host.save_state())
        .slots
        .iter()
        .all(Option::is_none));

    desktop.click(editor, store);
    let mut events = run_host(&mut host, 10.0, |h, _| h.host_calls().state_dirty >= 1);
    // A little longer: anything else the store sends arrives too.
    events.extend(run_host(&mut host, 0.5, |_, _| false));
    let saved = saved_snapshots(&host.save_state());
    assert!(
        saved.slots[0].is_some(),
        "the click stored no snapshot: {saved:?}"
    );
    assert!(
        host.host_calls().state_dirty >= 1,
        "clap_host_state::mark_dirty not called: {:?}",
        host.host_calls()
    );
    assert!(
        events.is_empty(),
        "a store changes no parameter: {events:?}"
    );
    close_clap_editor(&mut host);
}

#[test]
fn opening_the_real_editor_and_idling_leaves_the_clap_session_clean() {
    let Some(desktop) = desktop() else { return };
    // A session with snapshots, one of them current (the strip follows it while it plays).
    let (session, _) = session_with_snapshots();
    let mut host = ClapTestHost::new_inactive(2);
    assert!(host.load_state(&session));
    host.activate(FS, 1, 512);
    let (_editor, mut events) = open_clap_editor(&desktop, &mut host);
    events.extend(run_host(&mut host, 3.0, |_, _| false));
    assert_eq!(host.host_calls().state_dirty, 0, "{:?}", host.host_calls());
    assert!(events.is_empty(), "idling sent {events:?}");
    close_clap_editor(&mut host);
}

/// Runs a VST3 host's audio for `seconds` (the editor runs on its own threads; nice-plug's
/// main-thread tasks on its event loop thread, as this host has no `IRunLoop`), stopping early
/// once `until` holds.
fn run_vst3(host: &mut Vst3TestHost, seconds: f64, until: impl Fn(&Vst3TestHost) -> bool) {
    let start = Instant::now();
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    while start.elapsed().as_secs_f64() < seconds && !until(host) {
        host.process(REALTIME, &mut l, &mut r, &[]);
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn store_clicked_in_the_real_editor_sets_the_vst3_controller_dirty_with_no_edit() {
    let Some(desktop) = desktop() else { return };
    let store = store_button_centre();
    let mut host = Vst3TestHost::new(FS, 512, REALTIME);
    host.open_editor_x11(u64::from(desktop.parent))
        .expect("open the editor");
    let editor = desktop.editor_window(|| std::thread::sleep(Duration::from_millis(50)));
    run_vst3(&mut host, 1.0, |_| false);
    let counts = host.handler_counts();
    assert_eq!(counts.dirty.load(Ordering::SeqCst), 0, "opening the editor");
    assert_eq!(counts.edits.load(Ordering::SeqCst), 0, "opening the editor");

    desktop.click(editor, store);
    run_vst3(&mut host, 10.0, |h| {
        h.handler_counts().dirty.load(Ordering::SeqCst) >= 1
    });
    run_vst3(&mut host, 0.5, |_| false);
    let saved = saved_snapshots(&host.save_state());
    assert!(
        saved.slots[0].is_some(),
        "the click stored no snapshot: {saved:?}"
    );
    let counts = host.handler_counts();
    assert!(
        counts.dirty.load(Ordering::SeqCst) >= 1,
        "IComponentHandler2::setDirty(true) not called"
    );
    assert_eq!(
        counts.edits.load(Ordering::SeqCst),
        0,
        "a store changes no parameter"
    );
    host.close_editor();
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn opening_the_real_editor_and_idling_leaves_the_vst3_controller_clean() {
    let Some(desktop) = desktop() else { return };
    let mut host = Vst3TestHost::new(FS, 512, REALTIME);
    host.open_editor_x11(u64::from(desktop.parent))
        .expect("open the editor");
    desktop.editor_window(|| std::thread::sleep(Duration::from_millis(50)));
    run_vst3(&mut host, 3.0, |_| false);
    let counts = host.handler_counts();
    assert_eq!(counts.dirty.load(Ordering::SeqCst), 0);
    assert_eq!(counts.edits.load(Ordering::SeqCst), 0);
    host.close_editor();
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn key_1_in_the_real_editor_recalls_a_snapshot_with_one_gesture_per_changed_parameter() {
    let Some(desktop) = desktop() else { return };
    let conn = &*desktop.conn;

    // A session with "Open" (drive 2 dB) in snapshot 1 and "Loud" (drive 5 dB) current.
    let (session, _) = session_with_snapshots();
    let mut host = ClapTestHost::new_inactive(2);
    assert!(host.load_state(&session));
    host.activate(FS, 1, 512);
    assert!((host.param_value("lim_drive") - 5.0).abs() < 1e-3);
    let (editor, opened) = open_clap_editor(&desktop, &mut host);
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
            root: desktop.root,
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
    let events = run_host(&mut host, 10.0, |_, e| {
        e.contains(&ParamEvent::GestureEnd(drive))
    });
    // A little longer: anything else the recall sends arrives too.
    let mut events = events;
    events.extend(run_host(&mut host, 0.5, |_, _| false));

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
    close_clap_editor(&mut host);
}
