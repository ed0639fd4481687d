//! A small in-process CLAP host for integration tests.
//!
//! It drives the plugin through `fairmaster::clap_entry`, the very entry point a DAW finds in the
//! `.clap` bundle, so the tests exercise nice-plug's CLAP wrapper (parameter events, buffer
//! management, state streams, latency and render extensions) and not just the DSP.
//!
//! Conventions of nice-plug's CLAP wrapper that this host relies on (see
//! `nice-plug-0.4.2/src/wrapper/clap/wrapper.rs`):
//! - CLAP parameter ids are `hash_param_id(string_id)` (`hash * 31 + byte`, top bit cleared).
//! - CLAP parameter *values* are nice-plug's normalised values in `0..=1` (times the step count
//!   for stepped integer/enum/bool parameters); `CLAP_EVENT_PARAM_VALUE`, `get_value`,
//!   `value_to_text` and `text_to_value` all use that scale. The host converts plain values (dB)
//!   through the plugin's own `text_to_value`, as a DAW does when the user types a value.
//! - `clap.state` streams hold a little-endian `u64` length followed by the JSON state.
//!
//! Everything runs on the thread that created the host, which nice-plug then treats as the main
//! thread (the host offers no `clap.thread-check`), except [`ClapTestHost::process_on_audio_thread`],
//! which runs `process` on a separate thread as a DAW does (the plugin's main-thread tasks then
//! wait for `on_main_thread`). Host callbacks are counted in atomics so the tests can assert on
//! them; `clap_host_latency::changed` calls are also recorded with whether they came from inside
//! `clap_plugin::activate`, the only place CLAP allows them (`ext/latency.h`).

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::entry::clap_plugin_entry;
use clap_sys::events::{
    clap_event_header, clap_event_param_gesture, clap_event_param_value, clap_event_transport,
    clap_input_events, clap_output_events, CLAP_CORE_EVENT_SPACE_ID,
    CLAP_EVENT_PARAM_GESTURE_BEGIN, CLAP_EVENT_PARAM_GESTURE_END, CLAP_EVENT_PARAM_VALUE,
    CLAP_EVENT_TRANSPORT, CLAP_TRANSPORT_HAS_SECONDS_TIMELINE, CLAP_TRANSPORT_IS_PLAYING,
};
use clap_sys::ext::audio_ports_config::{
    clap_audio_ports_config, clap_plugin_audio_ports_config, CLAP_EXT_AUDIO_PORTS_CONFIG,
};
use clap_sys::ext::gui::{
    clap_host_gui, clap_plugin_gui, clap_window, clap_window_handle, CLAP_EXT_GUI,
    CLAP_WINDOW_API_X11,
};
use clap_sys::ext::latency::{clap_host_latency, clap_plugin_latency, CLAP_EXT_LATENCY};
use clap_sys::ext::params::{
    clap_host_params, clap_param_clear_flags, clap_param_info, clap_param_rescan_flags,
    clap_plugin_params, CLAP_EXT_PARAMS,
};
use clap_sys::ext::render::{
    clap_plugin_render, CLAP_EXT_RENDER, CLAP_RENDER_OFFLINE, CLAP_RENDER_REALTIME,
};
use clap_sys::ext::state::{clap_host_state, clap_plugin_state, CLAP_EXT_STATE};
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use clap_sys::fixedpoint::CLAP_SECTIME_FACTOR;
use clap_sys::host::clap_host;
use clap_sys::id::clap_id;
use clap_sys::plugin::{clap_plugin, clap_plugin_descriptor};
use clap_sys::process::{clap_process, clap_process_status, CLAP_PROCESS_ERROR};
use clap_sys::stream::{clap_istream, clap_ostream};
use clap_sys::version::CLAP_VERSION;

/// The CLAP id of the plugin under test.
pub const PLUGIN_ID: &str = "io.github.fairmaster.mastering";

/// Parameter events the host records between two `take_param_events` calls.
pub const PARAM_EVENT_CAPACITY: usize = 4096;

/// Largest chunk the host's output stream accepts per `write` call (exercises partial writes).
const OSTREAM_CHUNK: usize = 61;
/// Largest chunk the host's input stream delivers per `read` call (exercises partial reads).
const ISTREAM_CHUNK: usize = 5;

/// The entry point of the plugin library, exactly as a DAW finds it in the bundle.
fn entry() -> &'static clap_plugin_entry {
    &fairmaster::clap_entry
}

/// `clap_plugin_entry::init`/`deinit` are paired per library, not per instance: count the users.
static ENTRY_USERS: Mutex<usize> = Mutex::new(0);

fn entry_acquire() {
    let mut users = ENTRY_USERS.lock().unwrap_or_else(|e| e.into_inner());
    if *users == 0 {
        let init = entry().init.expect("clap_entry.init is null");
        assert!(
            // SAFETY: `init` is the plugin's own `clap_entry.init`, called with a NUL-terminated
            // C-string literal that lives for the whole program. The `ENTRY_USERS` lock makes this
            // the first entry call and pairs it with exactly one `deinit`.
            unsafe { init(c"/tmp/fairmaster-test.clap".as_ptr()) },
            "clap_entry.init failed"
        );
    }
    *users += 1;
}

fn entry_release() {
    let mut users = ENTRY_USERS.lock().unwrap_or_else(|e| e.into_inner());
    *users -= 1;
    if *users == 0 {
        if let Some(deinit) = entry().deinit {
            // SAFETY: this was the last user, so every `ClapTestHost` has already destroyed its
            // plugin (it calls `entry_release` after `destroy`) and nothing uses the factory any
            // more, as CLAP requires before `deinit`; the lock pairs this with the `init` in
            // `entry_acquire`.
            unsafe { deinit() };
        }
    }
}

fn plugin_factory() -> &'static clap_plugin_factory {
    let get_factory = entry().get_factory.expect("clap_entry.get_factory is null");
    // SAFETY: `get_factory` is the plugin's `clap_entry.get_factory`, given a NUL-terminated
    // `&'static CStr` id; every caller ran `entry_acquire` first, so `init` has been called.
    let factory = unsafe { get_factory(CLAP_PLUGIN_FACTORY_ID.as_ptr()) };
    assert!(!factory.is_null(), "plugin has no clap.plugin-factory");
    // SAFETY: `factory` is non-null (asserted) and was returned for `CLAP_PLUGIN_FACTORY_ID`, so it
    // points to a `clap_plugin_factory`. CLAP only promises it valid until `deinit`, but
    // nice-plug's `get_factory` returns the address of a static, valid for the whole program.
    unsafe { &*(factory as *const clap_plugin_factory) }
}

/// nice-plug's parameter id hash (`nice-plug/src/wrapper/util.rs`).
pub fn clap_param_id(string_id: &str) -> clap_id {
    let mut hash: u32 = 0;
    for byte in string_id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(byte as u32);
    }
    hash & !(1 << 31)
}

/// Copies a C string the plugin handed out.
///
/// # Safety
///
/// `p` must be null or point to a NUL-terminated string that stays valid for the call.
unsafe fn c_str_to_string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: `p` is non-null here and, by this function's contract, a NUL-terminated string
        // valid for the call.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

fn c_array_to_string(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A plugin descriptor copied out of the factory.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptor {
    pub id: String,
    pub name: String,
    pub vendor: Option<String>,
    pub url: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub features: Vec<String>,
}

impl Descriptor {
    /// Copies a descriptor the plugin handed out.
    ///
    /// # Safety
    ///
    /// `d` must be a descriptor the plugin returned (`get_plugin_descriptor` or
    /// `clap_plugin.desc`), with the entry still initialised: CLAP then guarantees its string
    /// fields are NUL-terminated (or null where optional) and `features` is null or a
    /// null-terminated array of such strings.
    unsafe fn from_raw(d: &clap_plugin_descriptor) -> Self {
        let mut features = Vec::new();
        if !d.features.is_null() {
            let mut i = 0;
            loop {
                // SAFETY: `features` is non-null and, by this function's contract, a
                // null-terminated array; the loop stops at the null entry, so index `i` is inside
                // the array.
                let f = unsafe { *d.features.add(i) };
                if f.is_null() {
                    break;
                }
                // SAFETY: `f` is a non-null entry of the feature list, a NUL-terminated string
                // valid for the call by this function's contract.
                features.push(unsafe { c_str_to_string(f) }.unwrap());
                i += 1;
            }
        }
        // SAFETY: by this function's contract `id` and `name` (mandatory) and `vendor`, `url`,
        // `version`, `description` (optional) are null or NUL-terminated strings valid for the
        // call; `c_str_to_string` handles the null ones.
        unsafe {
            Self {
                id: c_str_to_string(d.id).expect("descriptor id is null"),
                name: c_str_to_string(d.name).expect("descriptor name is null"),
                vendor: c_str_to_string(d.vendor),
                url: c_str_to_string(d.url),
                version: c_str_to_string(d.version),
                description: c_str_to_string(d.description),
                features,
            }
        }
    }
}

/// All plugin descriptors the factory lists.
pub fn plugin_descriptors() -> Vec<Descriptor> {
    entry_acquire();
    let factory = plugin_factory();
    // SAFETY: `factory` is the plugin factory, valid while the entry is initialised (between
    // `entry_acquire` above and `entry_release` below), and is passed as its own `self` argument.
    let count = unsafe { factory.get_plugin_count.unwrap()(factory) };
    let descriptors = (0..count)
        .map(|i| {
            // SAFETY: as for `get_plugin_count`: the factory is valid and initialised, and `i` is
            // below `count`, the index range CLAP allows.
            let d = unsafe { factory.get_plugin_descriptor.unwrap()(factory, i) };
            assert!(!d.is_null(), "descriptor {i} is null");
            // SAFETY: `d` is non-null (asserted) and came from `get_plugin_descriptor` while the
            // entry is initialised, as `from_raw` requires; it copies everything out before
            // `entry_release`.
            unsafe { Descriptor::from_raw(&*d) }
        })
        .collect();
    entry_release();
    descriptors
}

/// A parameter as `clap.params` describes it. Values are on the CLAP scale (see module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    pub id: clap_id,
    pub name: String,
    pub module: String,
    pub flags: u32,
    pub min_value: f64,
    pub max_value: f64,
    pub default_value: f64,
}

/// Counts of the host callbacks the plugin made.
#[derive(Debug, Default)]
pub struct HostCounters {
    pub restart_requests: AtomicU32,
    pub process_requests: AtomicU32,
    pub callback_requests: AtomicU32,
    pub latency_changed: AtomicU32,
    pub params_rescans: AtomicU32,
    pub params_clears: AtomicU32,
    pub params_flush_requests: AtomicU32,
    pub state_dirty: AtomicU32,
    pub output_events: AtomicU32,
    /// `clap_host_latency::changed` calls made while the host was not inside
    /// `clap_plugin::activate` (a spec violation).
    pub latency_changed_outside_activate: AtomicU32,
    /// Set by `request_callback`, cleared when the host calls `on_main_thread`.
    callback_pending: AtomicBool,
    /// True while the host is inside `clap_plugin::activate`.
    activating: AtomicBool,
    /// The parameter events the plugin sent (gestures and values), in order.
    param_events: Mutex<Vec<ParamEvent>>,
}

/// A parameter event the plugin sent the host (`out_events`): what a DAW records for undo and
/// automation.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamEvent {
    GestureBegin(clap_id),
    /// The value in CLAP's scale (see the module docs).
    Value(clap_id, f64),
    GestureEnd(clap_id),
}

impl ParamEvent {
    pub fn param_id(&self) -> clap_id {
        match self {
            ParamEvent::GestureBegin(id)
            | ParamEvent::Value(id, _)
            | ParamEvent::GestureEnd(id) => *id,
        }
    }
}

/// A snapshot of [`HostCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCalls {
    pub restart_requests: u32,
    pub process_requests: u32,
    pub callback_requests: u32,
    pub latency_changed: u32,
    pub params_rescans: u32,
    pub params_clears: u32,
    pub params_flush_requests: u32,
    pub state_dirty: u32,
    pub output_events: u32,
    pub latency_changed_outside_activate: u32,
}

/// The `clap_host` handed to the plugin plus the counters its callbacks update. Boxed so the
/// addresses the plugin keeps stay valid until the plugin is destroyed.
struct HostInner {
    clap_host: clap_host,
    counters: HostCounters,
}

/// The [`HostCounters`] of the host that `host` belongs to.
///
/// # Safety
///
/// `host` must be the `clap_host` a [`ClapTestHost`] gave the plugin (`HostInner::clap_host`),
/// which is what the plugin passes back to every host callback; the boxed `HostInner` outlives the
/// plugin instance, so it is alive during any callback.
unsafe fn counters<'a>(host: *const clap_host) -> &'a HostCounters {
    assert!(!host.is_null(), "plugin passed a null clap_host");
    // SAFETY: `host` is non-null (asserted) and, by this function's contract, points to the live
    // `HostInner::clap_host`.
    let data = unsafe { (*host).host_data };
    assert!(!data.is_null(), "clap_host.host_data is null");
    // SAFETY: `host_data` was set in `new_inactive` to the `HostCounters` in the same boxed
    // `HostInner`, alive for as long as the `clap_host` is. The counters are only used through
    // shared references (atomics), so sharing them, also across threads, is sound.
    unsafe { &*(data as *const HostCounters) }
}

unsafe extern "C" fn host_get_extension(
    host: *const clap_host,
    extension_id: *const c_char,
) -> *const c_void {
    // SAFETY: the plugin calls host callbacks with the `clap_host` it was created with, which is
    // `HostInner::clap_host`, alive until after the plugin is destroyed; that is what `counters`
    // requires (it is called here only for its null checks).
    let _ = unsafe { counters(host) };
    if extension_id.is_null() {
        return ptr::null();
    }
    // SAFETY: `extension_id` is non-null (checked above); CLAP passes extension ids as
    // NUL-terminated strings valid for the call.
    let id = unsafe { CStr::from_ptr(extension_id) };
    if id == CLAP_EXT_LATENCY {
        &HOST_LATENCY as *const clap_host_latency as *const c_void
    } else if id == CLAP_EXT_PARAMS {
        &HOST_PARAMS as *const clap_host_params as *const c_void
    } else if id == CLAP_EXT_STATE {
        &HOST_STATE as *const clap_host_state as *const c_void
    } else if id == CLAP_EXT_GUI {
        &HOST_GUI as *const clap_host_gui as *const c_void
    } else {
        ptr::null()
    }
}

unsafe extern "C" fn host_request_restart(host: *const clap_host) {
    // SAFETY: as in `host_get_extension`: `host` is the `clap_host` the plugin was created with, as
    // `counters` requires.
    unsafe { counters(host) }
        .restart_requests
        .fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_request_process(host: *const clap_host) {
    // SAFETY: as in `host_get_extension`: `host` is the `clap_host` the plugin was created with, as
    // `counters` requires.
    unsafe { counters(host) }
        .process_requests
        .fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_request_callback(host: *const clap_host) {
    // SAFETY: as in `host_get_extension`: `host` is the `clap_host` the plugin was created with, as
    // `counters` requires.
    let c = unsafe { counters(host) };
    c.callback_requests.fetch_add(1, Ordering::SeqCst);
    c.callback_pending.store(true, Ordering::SeqCst);
}

unsafe extern "C" fn host_latency_changed(host: *const clap_host) {
    // SAFETY: `clap_host_latency::changed` is only reachable through the `HOST_LATENCY` we return
    // from `host_get_extension`, and the plugin calls it with its own `clap_host`, as `counters`
    // requires.
    let c = unsafe { counters(host) };
    c.latency_changed.fetch_add(1, Ordering::SeqCst);
    if !c.activating.load(Ordering::SeqCst) {
        c.latency_changed_outside_activate
            .fetch_add(1, Ordering::SeqCst);
    }
}

unsafe extern "C" fn host_params_rescan(host: *const clap_host, _flags: clap_param_rescan_flags) {
    // SAFETY: as for `host_latency_changed`: reached through `HOST_PARAMS`, called with the
    // plugin's own `clap_host`.
    unsafe { counters(host) }
        .params_rescans
        .fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_params_clear(
    host: *const clap_host,
    _param_id: clap_id,
    _flags: clap_param_clear_flags,
) {
    // SAFETY: as for `host_latency_changed`: reached through `HOST_PARAMS`, called with the
    // plugin's own `clap_host`.
    unsafe { counters(host) }
        .params_clears
        .fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_params_request_flush(host: *const clap_host) {
    // SAFETY: as for `host_latency_changed`: reached through `HOST_PARAMS`, called with the
    // plugin's own `clap_host`.
    unsafe { counters(host) }
        .params_flush_requests
        .fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_state_mark_dirty(host: *const clap_host) {
    // SAFETY: as for `host_latency_changed`: reached through `HOST_STATE`, called with the plugin's
    // own `clap_host`.
    unsafe { counters(host) }
        .state_dirty
        .fetch_add(1, Ordering::SeqCst);
}

// The editor's host side (`ext/gui.h`): a fixed-size embedding window that refuses resizes
// and show/hide requests (the test opens and closes the editor itself).
unsafe extern "C" fn host_gui_resize_hints_changed(_host: *const clap_host) {}
unsafe extern "C" fn host_gui_request_resize(_host: *const clap_host, _w: u32, _h: u32) -> bool {
    false
}
unsafe extern "C" fn host_gui_request_show_hide(_host: *const clap_host) -> bool {
    false
}
unsafe extern "C" fn host_gui_closed(_host: *const clap_host, _was_destroyed: bool) {}

static HOST_GUI: clap_host_gui = clap_host_gui {
    resize_hints_changed: Some(host_gui_resize_hints_changed),
    request_resize: Some(host_gui_request_resize),
    request_show: Some(host_gui_request_show_hide),
    request_hide: Some(host_gui_request_show_hide),
    closed: Some(host_gui_closed),
};

static HOST_LATENCY: clap_host_latency = clap_host_latency {
    changed: Some(host_latency_changed),
};

static HOST_PARAMS: clap_host_params = clap_host_params {
    rescan: Some(host_params_rescan),
    clear: Some(host_params_clear),
    request_flush: Some(host_params_request_flush),
};

static HOST_STATE: clap_host_state = clap_host_state {
    mark_dirty: Some(host_state_mark_dirty),
};

// Event lists. These run inside the plugin's `process` (where nice-plug forbids allocation), so
// they must not allocate: they only index a preallocated Vec.

unsafe extern "C" fn in_events_size(list: *const clap_input_events) -> u32 {
    // SAFETY: the plugin calls this only with the `clap_input_events` that `process_clap_no_pump`
    // passes to `process`, during that call; `list` points to it and its `ctx` to `self.events`,
    // which is not mutated until `process` returns.
    let events = unsafe { &*((*list).ctx as *const Vec<clap_event_param_value>) };
    events.len() as u32
}

unsafe extern "C" fn in_events_get(
    list: *const clap_input_events,
    index: u32,
) -> *const clap_event_header {
    // SAFETY: as in `in_events_size`: `list` is the host's input event list and `ctx` points to
    // `self.events`, unchanged during the `process` call.
    let events = unsafe { &*((*list).ctx as *const Vec<clap_event_param_value>) };
    match events.get(index as usize) {
        Some(e) => &e.header,
        None => ptr::null(),
    }
}

unsafe extern "C" fn out_events_try_push(
    list: *const clap_output_events,
    event: *const clap_event_header,
) -> bool {
    // SAFETY: the plugin calls this only with the `clap_output_events` that `process_clap_no_pump`
    // (or `flush_params`) passes it, during that call; its `ctx` points to the boxed
    // `HostCounters`, only used through atomics and its mutex.
    let c = unsafe { &*((*list).ctx as *const HostCounters) };
    c.output_events.fetch_add(1, Ordering::SeqCst);
    if event.is_null() {
        return false;
    }
    // SAFETY: `event` is non-null and points to an event whose header's `type_` names its
    // struct (CLAP `events.h`); each struct starts with the header, so the casts below read
    // the event the plugin built, alive for this call.
    let recorded = unsafe {
        let header = &*event;
        if header.space_id != CLAP_CORE_EVENT_SPACE_ID {
            None
        } else {
            match header.type_ {
                CLAP_EVENT_PARAM_GESTURE_BEGIN => Some(ParamEvent::GestureBegin(
                    (*(event as *const clap_event_param_gesture)).param_id,
                )),
                CLAP_EVENT_PARAM_GESTURE_END => Some(ParamEvent::GestureEnd(
                    (*(event as *const clap_event_param_gesture)).param_id,
                )),
                CLAP_EVENT_PARAM_VALUE => {
                    let e = &*(event as *const clap_event_param_value);
                    Some(ParamEvent::Value(e.param_id, e.value))
                }
                _ => None,
            }
        }
    };
    if let Some(e) = recorded {
        let mut events = c.param_events.lock().unwrap_or_else(|e| e.into_inner());
        // Preallocated (`PARAM_EVENT_CAPACITY`): `process` must not allocate. A plugin
        // flooding the host beyond it fails the push, as a full host queue would.
        if events.len() == events.capacity() {
            return false;
        }
        events.push(e);
    }
    true
}

/// The input event list over `events` (read by `in_events_size`/`in_events_get`); valid while
/// `events` is borrowed and not mutated.
fn input_events(events: &Vec<clap_event_param_value>) -> clap_input_events {
    clap_input_events {
        ctx: events as *const Vec<clap_event_param_value> as *mut c_void,
        size: Some(in_events_size),
        get: Some(in_events_get),
    }
}

/// The output event list that counts and records into `counters` (`out_events_try_push`).
fn output_events(counters: &HostCounters) -> clap_output_events {
    clap_output_events {
        ctx: counters as *const HostCounters as *mut c_void,
        try_push: Some(out_events_try_push),
    }
}

// State streams.

unsafe extern "C" fn ostream_write(
    stream: *const clap_ostream,
    buffer: *const c_void,
    size: u64,
) -> i64 {
    // SAFETY: the plugin calls this only with the `clap_ostream` from `try_save_state`, during its
    // `save` call; `ctx` points to that function's `out`, which nothing else touches until `save`
    // returns, so this exclusive borrow is unique.
    let out = unsafe { &mut *((*stream).ctx as *mut Vec<u8>) };
    let n = (size as usize).min(OSTREAM_CHUNK);
    if n == 0 {
        return 0;
    }
    if buffer.is_null() {
        return -1;
    }
    // SAFETY: `buffer` is non-null (checked above) and CLAP's `write` contract makes it `size`
    // readable bytes; `n <= size`.
    out.extend_from_slice(unsafe { std::slice::from_raw_parts(buffer as *const u8, n) });
    n as i64
}

struct SliceReader<'a> {
    data: &'a [u8],
    pos: usize,
}

unsafe extern "C" fn istream_read(
    stream: *const clap_istream,
    buffer: *mut c_void,
    size: u64,
) -> i64 {
    // SAFETY: the plugin calls this only with the `clap_istream` from `load_state`, during its
    // `load` call; `ctx` points to that function's `reader`, which nothing else touches until
    // `load` returns, so this exclusive borrow is unique.
    let reader = unsafe { &mut *((*stream).ctx as *mut SliceReader) };
    let n = (size as usize)
        .min(ISTREAM_CHUNK)
        .min(reader.data.len() - reader.pos);
    if n == 0 {
        return 0;
    }
    if buffer.is_null() {
        return -1;
    }
    // SAFETY: the source is `n <= data.len() - pos` bytes of `reader.data`; `buffer` is non-null
    // (checked above) with room for `size >= n` bytes by CLAP's `read` contract; the plugin's
    // buffer and the host's state slice are distinct memory, so they do not overlap.
    unsafe {
        ptr::copy_nonoverlapping(reader.data[reader.pos..].as_ptr(), buffer as *mut u8, n);
    }
    reader.pos += n;
    n as i64
}

/// How the host lays out audio buffers for `process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferMode {
    /// Input and output channel pointers are the same buffers (what most DAWs do for effects).
    InPlace,
    /// Separate input and output buffers; the output buffers start filled with NaN so a plugin
    /// that does not write its output is caught, and the input buffers are checked to be left
    /// untouched.
    Separate,
}

/// A parameter change sent in a `process` call, on the CLAP scale, at a sample offset.
#[derive(Debug, Clone, Copy)]
pub struct ClapParamEvent<'a> {
    pub id: &'a str,
    pub clap_value: f64,
    pub time: u32,
}

/// An empty event list with room for `capacity` events, its memory written once: the host's
/// first event then costs no page fault inside a `process` call (`tests/memory.rs` counts the
/// plugin's).
fn written_event_buffer(capacity: usize) -> Vec<clap_event_param_value> {
    // SAFETY: `clap_event_param_value` is plain C data (integers, a float and a nullable
    // pointer), for which all-zero bytes are a valid value.
    let empty: clap_event_param_value = unsafe { std::mem::zeroed() };
    let mut events = vec![empty; capacity];
    events.clear();
    events
}

/// An instance of the plugin inside the test host.
pub struct ClapTestHost {
    /// Destroyed in `Drop::drop`, which runs before `inner` (the host it points to) is freed.
    plugin: *const clap_plugin,
    inner: Box<HostInner>,
    channels: u32,
    sample_rate: f64,
    min_frames: u32,
    max_frames: u32,
    active: bool,
    processing: bool,
    /// `restart_requests` count already acted on by [`Self::handle_restart_requests`].
    restarts_seen: u32,
    restarts_done: u32,
    mode: BufferMode,
    steady_time: i64,
    events: Vec<clap_event_param_value>,
    in_bufs: Vec<Vec<f32>>,
    out_bufs: Vec<Vec<f32>>,
    /// The transport sent with every block: playing from `transport_start` samples, advancing
    /// with the blocks (`None` = no transport, as today's default).
    transport: Option<(bool, i64)>,
}

impl ClapTestHost {
    /// Creates, initialises, activates and starts the plugin, like a DAW inserting it on a track.
    pub fn new(sample_rate: f64, min_frames: u32, max_frames: u32, channels: u32) -> Self {
        let mut host = Self::new_inactive(channels);
        host.activate(sample_rate, min_frames, max_frames);
        host
    }

    /// Creates and initialises the plugin and selects the audio port configuration for
    /// `channels`, without activating it (so state can be loaded first, as when a DAW reopens a
    /// session). Call [`Self::activate`] next.
    pub fn new_inactive(channels: u32) -> Self {
        assert!(channels == 1 || channels == 2, "channels must be 1 or 2");
        entry_acquire();

        let mut inner = Box::new(HostInner {
            clap_host: clap_host {
                clap_version: CLAP_VERSION,
                host_data: ptr::null_mut(),
                name: c"Fairmaster test host".as_ptr(),
                vendor: c"Fairmaster".as_ptr(),
                url: c"https://example.invalid".as_ptr(),
                version: c"0.1".as_ptr(),
                get_extension: Some(host_get_extension),
                request_restart: Some(host_request_restart),
                request_process: Some(host_request_process),
                request_callback: Some(host_request_callback),
            },
            counters: HostCounters {
                param_events: Mutex::new(Vec::with_capacity(PARAM_EVENT_CAPACITY)),
                ..HostCounters::default()
            },
        });
        inner.clap_host.host_data = &inner.counters as *const HostCounters as *mut c_void;

        let factory = plugin_factory();
        let id = CString::new(PLUGIN_ID).unwrap();
        // SAFETY: `factory` is valid (the entry was initialised by `entry_acquire` above);
        // `&inner.clap_host` is a fully initialised `clap_host` in a `Box` that `ClapTestHost`
        // keeps until after `destroy`, as CLAP requires; `id` is a NUL-terminated `CString` alive
        // for the call.
        let plugin =
            unsafe { factory.create_plugin.unwrap()(factory, &inner.clap_host, id.as_ptr()) };
        assert!(!plugin.is_null(), "factory could not create {PLUGIN_ID}");

        let mut host = Self {
            plugin,
            inner,
            channels,
            sample_rate: 0.0,
            min_frames: 0,
            max_frames: 0,
            active: false,
            processing: false,
            restarts_seen: 0,
            restarts_done: 0,
            mode: BufferMode::InPlace,
            steady_time: 0,
            events: written_event_buffer(64),
            in_bufs: Vec::new(),
            out_bufs: Vec::new(),
            transport: None,
        };
        assert!(
            // SAFETY: `plugin` was just created by the factory (non-null, asserted) and not yet
            // initialised; CLAP requires `init` once, on the main thread (this one), before any
            // other plugin call.
            unsafe { host.p().init.unwrap()(plugin) },
            "clap_plugin.init failed"
        );
        host.select_ports_config(channels);
        host
    }

    fn p(&self) -> &clap_plugin {
        // SAFETY: `self.plugin` is the non-null instance created in `new_inactive`; it is destroyed
        // only in `Drop` (and nulled there, never read again), so it is valid for the borrow of
        // `self`.
        unsafe { &*self.plugin }
    }

    fn ext<T>(&self, id: &CStr) -> Option<&T> {
        // SAFETY: `self.plugin` is alive (see `p`) and initialised (`new_inactive` calls `init`
        // before any `ext` call); `id` is a NUL-terminated `&CStr`; CLAP marks `get_extension`
        // thread-safe.
        let e = unsafe { self.p().get_extension.unwrap()(self.plugin, id.as_ptr()) };
        if e.is_null() {
            None
        } else {
            // SAFETY: `e` is non-null and is the plugin's extension struct for `id`; every caller
            // names the struct type that belongs to `id` as `T` (e.g. `CLAP_EXT_LATENCY` ->
            // `clap_plugin_latency`). CLAP keeps extension pointers valid for the plugin's
            // lifetime, which outlives the borrow of `self`.
            Some(unsafe { &*(e as *const T) })
        }
    }

    fn select_ports_config(&mut self, channels: u32) {
        let ext: &clap_plugin_audio_ports_config = self
            .ext(CLAP_EXT_AUDIO_PORTS_CONFIG)
            .expect("plugin has no clap.audio-ports-config");
        // SAFETY: `ext` is this plugin's `clap.audio-ports-config` (from `ext`), called with the
        // plugin it belongs to, on the main thread as CLAP requires.
        let count = unsafe { ext.count.unwrap()(self.plugin) };
        for i in 0..count {
            // SAFETY: `clap_audio_ports_config` is plain C data (integers, bools, a char array and
            // nullable `*const c_char`s), for which all-zero bytes are a valid value.
            let mut cfg: clap_audio_ports_config = unsafe { std::mem::zeroed() };
            // SAFETY: as for `count`; `i < count` and `cfg` is a writable `clap_audio_ports_config`
            // that outlives the call.
            assert!(unsafe { ext.get.unwrap()(self.plugin, i, &mut cfg) });
            if cfg.has_main_input
                && cfg.has_main_output
                && cfg.main_input_channel_count == channels
                && cfg.main_output_channel_count == channels
            {
                assert!(
                    // SAFETY: as for `count`; the plugin is not activated yet (this runs from
                    // `new_inactive`), as CLAP requires for `select`, and `cfg.id` is one of its
                    // own config ids.
                    unsafe { ext.select.unwrap()(self.plugin, cfg.id) },
                    "select({}) failed",
                    cfg.id
                );
                return;
            }
        }
        panic!("plugin offers no {channels}-in/{channels}-out audio port configuration");
    }

    /// Activates the plugin and starts processing, then honours any restart the plugin requests
    /// meanwhile, as a DAW does. Panics if already active.
    pub fn activate(&mut self, sample_rate: f64, min_frames: u32, max_frames: u32) {
        self.activate_once(sample_rate, min_frames, max_frames);
        self.handle_restart_requests();
    }

    fn activate_once(&mut self, sample_rate: f64, min_frames: u32, max_frames: u32) {
        assert!(!self.active, "already active");
        assert!(min_frames >= 1 && min_frames <= max_frames);
        self.inner.counters.activating.store(true, Ordering::SeqCst);
        // SAFETY: `self.plugin` is alive (see `p`), initialised and inactive (asserted above), and
        // this is the main thread, as CLAP requires for `activate`.
        let ok =
            unsafe { self.p().activate.unwrap()(self.plugin, sample_rate, min_frames, max_frames) };
        self.inner
            .counters
            .activating
            .store(false, Ordering::SeqCst);
        assert!(
            ok,
            "activate({sample_rate}, {min_frames}, {max_frames}) failed"
        );
        self.active = true;
        self.sample_rate = sample_rate;
        self.min_frames = min_frames;
        self.max_frames = max_frames;
        self.in_bufs = vec![vec![0.0; max_frames as usize]; self.channels as usize];
        self.out_bufs = vec![vec![0.0; max_frames as usize]; self.channels as usize];
        assert!(
            // SAFETY: `self.plugin` is alive, just activated and not processing, as CLAP requires
            // for `start_processing`; no other plugin call runs concurrently (`&mut self`).
            unsafe { self.p().start_processing.unwrap()(self.plugin) },
            "start_processing failed"
        );
        self.processing = true;
        self.pump_main_thread();
    }

    /// Stops processing and deactivates the plugin.
    pub fn deactivate(&mut self) {
        if self.processing {
            // SAFETY: `self.plugin` is alive, and `self.processing` means it is active and
            // processing, as CLAP requires for `stop_processing`; no concurrent call (`&mut self`).
            unsafe { self.p().stop_processing.unwrap()(self.plugin) };
            self.processing = false;
        }
        if self.active {
            // SAFETY: `self.plugin` is alive, and `self.active` means it is active, with processing
            // stopped just above, as CLAP requires for `deactivate`; this is the main thread.
            unsafe { self.p().deactivate.unwrap()(self.plugin) };
            self.active = false;
        }
        self.pump_main_thread();
    }

    /// Deactivates and reactivates with the same configuration, as a DAW does on
    /// `request_restart`.
    pub fn restart(&mut self) {
        let (sr, min, max) = (self.sample_rate, self.min_frames, self.max_frames);
        self.deactivate();
        self.activate_once(sr, min, max);
        self.restarts_done += 1;
    }

    /// Restarts the plugin if it requested a restart since the last call (a DAW does this at
    /// the next opportunity). Returns the number of restarts performed; panics if the plugin
    /// keeps requesting restarts (a restart loop).
    pub fn handle_restart_requests(&mut self) -> u32 {
        let mut restarts = 0;
        loop {
            let requested = self.inner.counters.restart_requests.load(Ordering::SeqCst);
            if requested == self.restarts_seen {
                return restarts;
            }
            self.restarts_seen = requested;
            if self.active {
                assert!(restarts < 4, "plugin keeps requesting restarts");
                self.restart();
                restarts += 1;
            }
        }
    }

    /// Restarts the host performed on the plugin's request or through [`Self::restart`].
    pub fn restarts_done(&self) -> u32 {
        self.restarts_done
    }

    /// Sends a transport with the following blocks: `playing`, at timeline position
    /// `position_samples` for the next block, advancing by each block's length while playing.
    pub fn set_transport(&mut self, playing: bool, position_samples: i64) {
        self.transport = Some((playing, position_samples));
    }

    /// Calls `clap_plugin.reset` (what a DAW does on transport jumps).
    pub fn reset(&mut self) {
        // SAFETY: `self.plugin` is alive (see `p`) and no other plugin call runs concurrently
        // (`&mut self`). CLAP expects `reset` on an active plugin; this helper leaves that to its
        // callers.
        unsafe { self.p().reset.unwrap()(self.plugin) };
    }

    /// Runs `on_main_thread` if the plugin asked for it with `request_callback`.
    pub fn pump_main_thread(&mut self) {
        if self
            .inner
            .counters
            .callback_pending
            .swap(false, Ordering::SeqCst)
        {
            // SAFETY: `self.plugin` is alive, it asked for this call with `request_callback`, and
            // this is the main thread, as CLAP requires for `on_main_thread`.
            unsafe { self.p().on_main_thread.unwrap()(self.plugin) };
        }
    }

    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    pub fn max_frames(&self) -> u32 {
        self.max_frames
    }

    pub fn channels(&self) -> u32 {
        self.channels
    }

    pub fn set_buffer_mode(&mut self, mode: BufferMode) {
        self.mode = mode;
    }

    pub fn buffer_mode(&self) -> BufferMode {
        self.mode
    }

    /// Snapshot of the host callbacks made so far.
    pub fn host_calls(&self) -> HostCalls {
        let c = &self.inner.counters;
        HostCalls {
            restart_requests: c.restart_requests.load(Ordering::SeqCst),
            process_requests: c.process_requests.load(Ordering::SeqCst),
            callback_requests: c.callback_requests.load(Ordering::SeqCst),
            latency_changed: c.latency_changed.load(Ordering::SeqCst),
            params_rescans: c.params_rescans.load(Ordering::SeqCst),
            params_clears: c.params_clears.load(Ordering::SeqCst),
            params_flush_requests: c.params_flush_requests.load(Ordering::SeqCst),
            state_dirty: c.state_dirty.load(Ordering::SeqCst),
            output_events: c.output_events.load(Ordering::SeqCst),
            latency_changed_outside_activate: c
                .latency_changed_outside_activate
                .load(Ordering::SeqCst),
        }
    }

    /// The descriptor of this instance (`clap_plugin.desc`).
    pub fn descriptor(&self) -> Descriptor {
        let d = self.p().desc;
        assert!(!d.is_null(), "clap_plugin.desc is null");
        // SAFETY: `d` is `clap_plugin.desc` of a live instance (non-null, asserted), so the entry
        // is initialised, as `from_raw` requires.
        unsafe { Descriptor::from_raw(&*d) }
    }

    /// Processes one block of `left.len()` frames (at most `max_frames`). `param_events` are
    /// plain values (e.g. dB) sent as `CLAP_EVENT_PARAM_VALUE` at time 0, converted to the CLAP
    /// scale with [`Self::plain_to_clap`]. `right` must be given for a stereo host and omitted
    /// for a mono one.
    pub fn process(
        &mut self,
        left: &mut [f32],
        right: Option<&mut [f32]>,
        param_events: &[(&str, f64)],
    ) -> clap_process_status {
        let events: Vec<ClapParamEvent> = param_events
            .iter()
            .map(|&(id, plain)| ClapParamEvent {
                id,
                clap_value: self.plain_to_clap(id, plain),
                time: 0,
            })
            .collect();
        self.process_clap(left, right, &events)
    }

    /// Processes `left`/`right` (any length) in blocks of `block` frames; `param_events` go with
    /// the first block.
    pub fn process_in_blocks(
        &mut self,
        left: &mut [f32],
        mut right: Option<&mut [f32]>,
        block: usize,
        param_events: &[(&str, f64)],
    ) {
        assert!(block >= 1 && block <= self.max_frames as usize);
        let mut start = 0;
        while start < left.len() {
            let end = (start + block).min(left.len());
            let events = if start == 0 { param_events } else { &[] };
            let r = right.as_deref_mut().map(|r| &mut r[start..end]);
            self.process(&mut left[start..end], r, events);
            start = end;
        }
    }

    /// Processes one block with events already on the CLAP scale (sample offsets allowed).
    pub fn process_clap(
        &mut self,
        left: &mut [f32],
        right: Option<&mut [f32]>,
        events: &[ClapParamEvent],
    ) -> clap_process_status {
        let status = self.process_clap_no_pump(left, right, events);
        self.pump_main_thread();
        status
    }

    /// [`Self::process`] on a separate (audio) thread, as a DAW calls it. Main-thread work the
    /// plugin schedules from `process` then waits for [`Self::pump_main_thread`] (which this does
    /// not call), so a test can decide what happens first.
    pub fn process_on_audio_thread(
        &mut self,
        left: &mut [f32],
        right: Option<&mut [f32]>,
        param_events: &[(&str, f64)],
    ) -> clap_process_status {
        let events: Vec<ClapParamEvent> = param_events
            .iter()
            .map(|&(id, plain)| ClapParamEvent {
                id,
                clap_value: self.plain_to_clap(id, plain),
                time: 0,
            })
            .collect();
        /// The host and its buffers, moved to the audio thread for one call and back.
        struct OnAudioThread<'a, 'b, 'c>(
            &'a mut ClapTestHost,
            &'b mut [f32],
            Option<&'b mut [f32]>,
            &'c [ClapParamEvent<'c>],
        );
        // SAFETY: the scoped thread below is joined before this function returns, and the
        // calling thread does nothing with the host meanwhile: the plugin is used by one
        // thread at a time, as CLAP's audio-thread rules expect.
        unsafe impl Send for OnAudioThread<'_, '_, '_> {}
        let job = OnAudioThread(self, left, right, &events);
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let job = job;
                    job.0.process_clap_no_pump(job.1, job.2, job.3)
                })
                .join()
                .expect("process panicked on the audio thread")
        })
    }

    fn process_clap_no_pump(
        &mut self,
        left: &mut [f32],
        mut right: Option<&mut [f32]>,
        events: &[ClapParamEvent],
    ) -> clap_process_status {
        assert!(
            self.active && self.processing,
            "process on an inactive plugin"
        );
        let n = left.len();
        assert!(n >= 1, "empty block");
        assert!(
            n <= self.max_frames as usize,
            "block of {n} frames exceeds max_frames {}",
            self.max_frames
        );
        match (self.channels, right.as_deref()) {
            (2, Some(r)) => assert_eq!(r.len(), n, "left and right lengths differ"),
            (2, None) => panic!("stereo host needs a right channel"),
            (1, None) => {}
            (1, Some(_)) => panic!("mono host takes no right channel"),
            _ => unreachable!(),
        }

        self.events.clear();
        for e in events {
            assert!((e.time as usize) < n, "event time beyond the block");
            self.events.push(clap_event_param_value {
                header: clap_event_header {
                    size: std::mem::size_of::<clap_event_param_value>() as u32,
                    time: e.time,
                    space_id: CLAP_CORE_EVENT_SPACE_ID,
                    type_: CLAP_EVENT_PARAM_VALUE,
                    flags: 0,
                },
                param_id: clap_param_id(e.id),
                cookie: ptr::null_mut(),
                note_id: -1,
                port_index: -1,
                channel: -1,
                key: -1,
                value: e.clap_value,
            });
        }
        // CLAP requires events sorted by time.
        self.events.sort_by_key(|e| e.header.time);

        let nch = self.channels as usize;
        let mut in_ptrs: [*mut f32; 2] = [ptr::null_mut(); 2];
        let mut out_ptrs: [*mut f32; 2] = [ptr::null_mut(); 2];
        match self.mode {
            BufferMode::InPlace => {
                in_ptrs[0] = left.as_mut_ptr();
                if let Some(r) = right.as_deref_mut() {
                    in_ptrs[1] = r.as_mut_ptr();
                }
                out_ptrs = in_ptrs;
            }
            BufferMode::Separate => {
                self.in_bufs[0][..n].copy_from_slice(left);
                if let Some(r) = right.as_deref() {
                    self.in_bufs[1][..n].copy_from_slice(r);
                }
                for c in 0..nch {
                    self.out_bufs[c][..n].fill(f32::NAN);
                    in_ptrs[c] = self.in_bufs[c].as_mut_ptr();
                    out_ptrs[c] = self.out_bufs[c].as_mut_ptr();
                }
            }
        }

        let audio_in = clap_audio_buffer {
            data32: in_ptrs.as_mut_ptr(),
            data64: ptr::null_mut(),
            channel_count: self.channels,
            latency: 0,
            constant_mask: 0,
        };
        let mut audio_out = clap_audio_buffer {
            data32: out_ptrs.as_mut_ptr(),
            data64: ptr::null_mut(),
            channel_count: self.channels,
            latency: 0,
            constant_mask: 0,
        };
        let in_events = input_events(&self.events);
        let out_events = output_events(&self.inner.counters);
        let transport = self.transport.map(|(playing, position)| {
            let seconds = position as f64 / self.sample_rate;
            clap_event_transport {
                header: clap_event_header {
                    size: std::mem::size_of::<clap_event_transport>() as u32,
                    time: 0,
                    space_id: CLAP_CORE_EVENT_SPACE_ID,
                    type_: CLAP_EVENT_TRANSPORT,
                    flags: 0,
                },
                flags: CLAP_TRANSPORT_HAS_SECONDS_TIMELINE
                    | if playing {
                        CLAP_TRANSPORT_IS_PLAYING
                    } else {
                        0
                    },
                song_pos_beats: 0,
                song_pos_seconds: (seconds * CLAP_SECTIME_FACTOR as f64).round() as i64,
                tempo: 120.0,
                tempo_inc: 0.0,
                loop_start_beats: 0,
                loop_end_beats: 0,
                loop_start_seconds: 0,
                loop_end_seconds: 0,
                bar_start: 0,
                bar_number: 0,
                tsig_num: 4,
                tsig_denom: 4,
            }
        });
        if let Some((playing, position)) = self.transport.as_mut() {
            if *playing {
                *position += n as i64;
            }
        }
        let process = clap_process {
            steady_time: self.steady_time,
            frames_count: n as u32,
            transport: transport
                .as_ref()
                .map_or(ptr::null(), |t| t as *const clap_event_transport),
            audio_inputs: &audio_in,
            audio_outputs: &mut audio_out,
            audio_inputs_count: 1,
            audio_outputs_count: 1,
            in_events: &in_events,
            out_events: &out_events,
        };

        // SAFETY: `self.plugin` is alive, active and processing (asserted above) and no other
        // plugin call runs concurrently (`&mut self`). Everything `process` points to outlives the
        // call: `audio_in`/`audio_out` hold `channels` channel pointers, each to at least `n`
        // frames (`left`/`right`, whose lengths were checked, or `in_bufs`/`out_bufs` of
        // `max_frames >= n`), and the event lists' `ctx` point to `self.events` and
        // `self.inner.counters`.
        let status = unsafe { self.p().process.unwrap()(self.plugin, &process) };
        assert_ne!(
            status, CLAP_PROCESS_ERROR,
            "plugin returned CLAP_PROCESS_ERROR"
        );
        self.steady_time += n as i64;

        if self.mode == BufferMode::Separate {
            // The plugin must not write to its input buffers.
            let same =
                |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(
                same(&self.in_bufs[0][..n], left),
                "plugin modified its input"
            );
            left.copy_from_slice(&self.out_bufs[0][..n]);
            if let Some(r) = right {
                assert!(same(&self.in_bufs[1][..n], r), "plugin modified its input");
                r.copy_from_slice(&self.out_bufs[1][..n]);
            }
        }
        status
    }

    /// Latency reported through `clap.latency`.
    pub fn latency(&self) -> u32 {
        let ext: &clap_plugin_latency = self
            .ext(CLAP_EXT_LATENCY)
            .expect("plugin has no clap.latency");
        // SAFETY: `ext` is this plugin's `clap.latency` (from `ext`), called with the plugin it
        // belongs to, on the main thread.
        unsafe { ext.get.unwrap()(self.plugin) }
    }

    /// Saves the state through `clap.state` (the output stream takes small chunks).
    pub fn try_save_state(&self) -> Option<Vec<u8>> {
        let ext: &clap_plugin_state = self.ext(CLAP_EXT_STATE).expect("plugin has no clap.state");
        let mut out: Vec<u8> = Vec::new();
        let stream = clap_ostream {
            ctx: &mut out as *mut Vec<u8> as *mut c_void,
            write: Some(ostream_write),
        };
        // SAFETY: `ext` is this plugin's `clap.state`, called with its plugin on the main thread;
        // `stream` is a valid `clap_ostream` whose `write` is `ostream_write` and whose `ctx`
        // points to `out`; both outlive the call.
        let ok = unsafe { ext.save.unwrap()(self.plugin, &stream) };
        ok.then_some(out)
    }

    /// Saves the state; panics if the plugin reports failure.
    pub fn save_state(&self) -> Vec<u8> {
        self.try_save_state().expect("clap.state save failed")
    }

    /// Loads a state through `clap.state`, delivering it in chunks of a few bytes. Returns the
    /// plugin's verdict.
    pub fn load_state(&mut self, data: &[u8]) -> bool {
        let ext: &clap_plugin_state = self.ext(CLAP_EXT_STATE).expect("plugin has no clap.state");
        let mut reader = SliceReader { data, pos: 0 };
        let stream = clap_istream {
            ctx: &mut reader as *mut SliceReader as *mut c_void,
            read: Some(istream_read),
        };
        // SAFETY: `ext` is this plugin's `clap.state`, called with its plugin on the main thread;
        // `stream` is a valid `clap_istream` whose `read` is `istream_read` and whose `ctx` points
        // to `reader`; both outlive the call.
        let ok = unsafe { ext.load.unwrap()(self.plugin, &stream) };
        self.pump_main_thread();
        ok
    }

    fn params_ext(&self) -> &clap_plugin_params {
        self.ext(CLAP_EXT_PARAMS)
            .expect("plugin has no clap.params")
    }

    /// All parameters as `clap.params` lists them.
    pub fn param_infos(&self) -> Vec<ParamInfo> {
        let ext = self.params_ext();
        // SAFETY: `ext` is this plugin's `clap.params` (from `params_ext`), called with the plugin
        // it belongs to, on the main thread.
        let count = unsafe { ext.count.unwrap()(self.plugin) };
        (0..count)
            .map(|i| {
                // SAFETY: `clap_param_info` is plain C data (integers, floats, char arrays and a
                // nullable cookie pointer), for which all-zero bytes are a valid value.
                let mut info: clap_param_info = unsafe { std::mem::zeroed() };
                // SAFETY: as for `count`; `i < count` and `info` is a writable `clap_param_info`
                // that outlives the call.
                assert!(unsafe { ext.get_info.unwrap()(self.plugin, i, &mut info) });
                ParamInfo {
                    id: info.id,
                    name: c_array_to_string(&info.name),
                    module: c_array_to_string(&info.module),
                    flags: info.flags,
                    min_value: info.min_value,
                    max_value: info.max_value,
                    default_value: info.default_value,
                }
            })
            .collect()
    }

    /// The parameter's current value on the CLAP scale (`clap.params` `get_value`).
    pub fn param_clap_value(&self, id: &str) -> f64 {
        let ext = self.params_ext();
        let mut v = f64::NAN;
        // SAFETY: `ext` is this plugin's `clap.params`, called with its plugin on the main thread;
        // `v` is a writable `f64` that outlives the call (an unknown id makes it return false).
        let ok = unsafe { ext.get_value.unwrap()(self.plugin, clap_param_id(id), &mut v) };
        assert!(ok, "get_value({id}) failed: unknown parameter?");
        v
    }

    /// The parameter's current plain value (e.g. dB): `get_value`, rendered with the plugin's
    /// `value_to_text` and parsed back. Exact for parameters whose display shows every digit of
    /// their step size (Fairmaster's gains: step 0.01 dB, shown with 2 decimals).
    pub fn param_value(&self, id: &str) -> f64 {
        let clap = self.param_clap_value(id);
        let text = self
            .param_value_to_text(id, clap)
            .unwrap_or_else(|| panic!("value_to_text({id}) failed"));
        parse_leading_number(&text)
            .unwrap_or_else(|| panic!("value_to_text({id}) gave {text:?}, not a number"))
    }

    /// `clap.params` `value_to_text` for a value on the CLAP scale.
    pub fn param_value_to_text(&self, id: &str, clap_value: f64) -> Option<String> {
        let ext = self.params_ext();
        let mut buf = [0 as c_char; 256];
        // SAFETY: `ext` is this plugin's `clap.params`, called with its plugin on the main thread;
        // `buf` is writable for the `buf.len()` chars passed as its capacity.
        let ok = unsafe {
            ext.value_to_text.unwrap()(
                self.plugin,
                clap_param_id(id),
                clap_value,
                buf.as_mut_ptr(),
                buf.len() as u32,
            )
        };
        ok.then(|| c_array_to_string(&buf))
    }

    /// `clap.params` `text_to_value`: the value on the CLAP scale for a display text.
    pub fn param_text_to_value(&self, id: &str, text: &str) -> Option<f64> {
        let ext = self.params_ext();
        let text = CString::new(text).ok()?;
        let mut v = f64::NAN;
        // SAFETY: `ext` is this plugin's `clap.params`, called with its plugin on the main thread;
        // `text` is a NUL-terminated `CString` and `v` a writable `f64`, both outliving the call.
        let ok = unsafe {
            ext.text_to_value.unwrap()(self.plugin, clap_param_id(id), text.as_ptr(), &mut v)
        };
        ok.then_some(v)
    }

    /// Converts a plain value (e.g. dB) to the CLAP scale through the plugin's `text_to_value`.
    pub fn plain_to_clap(&self, id: &str, plain: f64) -> f64 {
        self.param_text_to_value(id, &format!("{plain}"))
            .unwrap_or_else(|| panic!("text_to_value({id}, {plain}) rejected"))
    }

    /// Switches `clap.render` between realtime and offline (allowed at any time, also while
    /// active). If the plugin asks for a restart in response, the host restarts it. Returns false
    /// if the plugin lacks `clap.render` or refuses the mode.
    pub fn set_offline(&mut self, offline: bool) -> bool {
        let Some(ext) = self.ext::<clap_plugin_render>(CLAP_EXT_RENDER) else {
            return false;
        };
        let mode = if offline {
            CLAP_RENDER_OFFLINE
        } else {
            CLAP_RENDER_REALTIME
        };
        // SAFETY: `ext` is this plugin's `clap.render` (from `ext`), called with the plugin it
        // belongs to, on the main thread.
        let ok = unsafe { ext.set.unwrap()(self.plugin, mode) };
        self.pump_main_thread();
        self.handle_restart_requests();
        ok
    }
}

impl ClapTestHost {
    /// The parameter events the plugin sent since the last call (gestures and values).
    pub fn take_param_events(&self) -> Vec<ParamEvent> {
        // Drained, not taken: the list keeps its preallocated capacity.
        self.inner
            .counters
            .param_events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect()
    }

    /// Asks the plugin for its queued parameter events outside `process` (`clap.params`
    /// `flush`, what a host does after `request_flush` while not processing).
    pub fn flush_params(&mut self) {
        let events: Vec<clap_event_param_value> = Vec::new();
        let in_events = input_events(&events);
        let out_events = output_events(&self.inner.counters);
        let params = self.params_ext();
        // SAFETY: `params` is this plugin's `clap.params`, called with its own plugin on the
        // main thread; both event lists point to live data for the call.
        unsafe { params.flush.unwrap()(self.plugin, &in_events, &out_events) };
    }

    /// Opens the plugin's editor embedded in the X11 window `parent` (`clap.gui`: create,
    /// set_parent, show). Returns why not, if the plugin refuses a step.
    pub fn open_gui_x11(&mut self, parent: u64) -> Result<(), String> {
        let gui = self
            .ext::<clap_plugin_gui>(CLAP_EXT_GUI)
            .ok_or("no clap.gui")? as *const clap_plugin_gui;
        // SAFETY: `gui` is this plugin's `clap.gui` (alive with the plugin); every call passes
        // the plugin it belongs to, on the main thread, in the order `ext/gui.h` prescribes;
        // the window struct lives for the `set_parent` call.
        unsafe {
            let gui = &*gui;
            if !gui.is_api_supported.unwrap()(self.plugin, CLAP_WINDOW_API_X11.as_ptr(), false) {
                return Err("X11 not supported".into());
            }
            if !gui.create.unwrap()(self.plugin, CLAP_WINDOW_API_X11.as_ptr(), false) {
                return Err("gui.create failed".into());
            }
            let window = clap_window {
                api: CLAP_WINDOW_API_X11.as_ptr(),
                specific: clap_window_handle { x11: parent as _ },
            };
            if !gui.set_parent.unwrap()(self.plugin, &window) {
                gui.destroy.unwrap()(self.plugin);
                return Err("gui.set_parent failed".into());
            }
            if !gui.show.unwrap()(self.plugin) {
                gui.destroy.unwrap()(self.plugin);
                return Err("gui.show failed".into());
            }
        }
        Ok(())
    }

    /// Closes the editor opened by [`Self::open_gui_x11`].
    pub fn close_gui(&mut self) {
        if let Some(gui) = self.ext::<clap_plugin_gui>(CLAP_EXT_GUI) {
            let gui = gui as *const clap_plugin_gui;
            // SAFETY: as in `open_gui_x11`; `destroy` after a successful `create`.
            unsafe {
                (*gui).hide.unwrap()(self.plugin);
                (*gui).destroy.unwrap()(self.plugin);
            }
        }
    }
}

impl Drop for ClapTestHost {
    fn drop(&mut self) {
        self.deactivate();
        // SAFETY: `self.plugin` is alive and `deactivate` above left it inactive, as CLAP requires
        // for `destroy`; it is destroyed once (nulled right after), and the host it points to
        // (`self.inner`) is freed only after this `drop` returns.
        unsafe { self.p().destroy.unwrap()(self.plugin) };
        self.plugin = ptr::null();
        entry_release();
    }
}

/// Parses the number at the start of a display text such as "-7.50 dB".
fn parse_leading_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0) || c == 'e')
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    t[..end].parse().ok()
}
