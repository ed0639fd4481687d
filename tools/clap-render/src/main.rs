//! clap-render: runs one CLAP plugin over a WAV file and times its `process()` calls alone, the
//! CLAP counterpart of `../shared/tools/lv2-render` (same block loop, same clock, same output
//! line), so `scripts/bench-peers.sh` compares Fairmaster's bundle with LV2 peers the same way.
//!
//!   clap-render BUNDLE.clap IN.wav OUT.wav [-b BLOCK] [-p PARAM=TEXT]... [--list]
//!
//! The bundle is opened with `dlopen`, as a DAW does, so the code measured is the code shipped.
//! The input is decoded into memory first; each block is copied into the plugin's buffers
//! outside the timed region, and only the `process()` call is timed (CLOCK_MONOTONIC through
//! `Instant`). `-p` sets a parameter before processing starts, by the plugin's parameter id
//! string (nice-plug: the CLAP id is its hash) or display name, the value given as text and
//! converted by the plugin's own `text_to_value` (what a DAW does when a user types a value);
//! the change is applied through `clap_plugin_params::flush`, before the first block.
//! `--list` prints the parameters and exits.
//!
//! Prints: `frames N  process S s  realtime Rx  T ns/frame`.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::Path;
use std::process::ExitCode;
use std::ptr;
use std::time::Instant;

use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::entry::clap_plugin_entry;
use clap_sys::events::{
    clap_event_header, clap_event_param_value, clap_input_events, clap_output_events,
    CLAP_CORE_EVENT_SPACE_ID, CLAP_EVENT_PARAM_VALUE,
};
use clap_sys::ext::params::{clap_param_info, clap_plugin_params, CLAP_EXT_PARAMS};
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use clap_sys::host::clap_host;
use clap_sys::id::clap_id;
use clap_sys::plugin::clap_plugin;
use clap_sys::process::{clap_process, CLAP_PROCESS_ERROR};
use clap_sys::version::CLAP_VERSION;

struct Options {
    bundle: String,
    input: String,
    output: String,
    block: usize,
    params: Vec<(String, String)>,
    list: bool,
}

fn usage() -> String {
    "usage: clap-render BUNDLE.clap IN.wav OUT.wav [-b BLOCK] [-p PARAM=TEXT]... [--list]".into()
}

fn parse_args() -> Result<Options, String> {
    let mut positional = Vec::new();
    let mut block = 512;
    let mut params = Vec::new();
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-b" => {
                let value = args.next().ok_or_else(usage)?;
                block = value
                    .parse()
                    .ok()
                    .filter(|&b: &usize| b >= 1)
                    .ok_or_else(|| format!("-b {value}: not a block size"))?;
            }
            "-p" => {
                let value = args.next().ok_or_else(usage)?;
                let (name, text) = value
                    .split_once('=')
                    .ok_or_else(|| format!("-p {value}: expected PARAM=TEXT"))?;
                params.push((name.to_string(), text.to_string()));
            }
            "--list" => list = true,
            _ => positional.push(arg),
        }
    }
    let need = if list { 1 } else { 3 };
    if positional.len() != need {
        return Err(usage());
    }
    let mut positional = positional.into_iter();
    Ok(Options {
        bundle: positional.next().unwrap_or_default(),
        input: positional.next().unwrap_or_default(),
        output: positional.next().unwrap_or_default(),
        block,
        params,
        list,
    })
}

fn main() -> ExitCode {
    match parse_args().and_then(|options| run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("clap-render: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Planar audio of a WAV file.
struct Audio {
    sample_rate: u32,
    channels: Vec<Vec<f32>>,
}

fn read_wav(path: &str) -> Result<Audio, String> {
    let mut reader = hound::WavReader::open(path).map_err(|e| format!("{path}: {e}"))?;
    let spec = reader.spec();
    let count = usize::from(spec.channels);
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{path}: {e}"))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{path}: {e}"))?
        }
    };
    let channels = (0..count)
        .map(|c| interleaved.iter().skip(c).step_by(count).copied().collect())
        .collect();
    Ok(Audio {
        sample_rate: spec.sample_rate,
        channels,
    })
}

fn write_wav(path: &str, audio: &Audio) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: audio.channels.len() as u16,
        sample_rate: audio.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(|e| format!("{path}: {e}"))?;
    let frames = audio.channels.first().map_or(0, Vec::len);
    for i in 0..frames {
        for channel in &audio.channels {
            writer
                .write_sample(channel[i])
                .map_err(|e| format!("{path}: {e}"))?;
        }
    }
    writer.finalize().map_err(|e| format!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------
// The host side: no extensions offered (a plugin must cope), callbacks ignored.

unsafe extern "C" fn host_get_extension(_: *const clap_host, _: *const c_char) -> *const c_void {
    ptr::null()
}
unsafe extern "C" fn host_request(_: *const clap_host) {}

static HOST_NAME: &CStr = c"clap-render";
static HOST_VENDOR: &CStr = c"Fairmaster";
static HOST_URL: &CStr = c"";
static HOST_VERSION: &CStr = c"0.1.0";

/// `Send`/`Sync` wrapper for the host struct's raw pointers (they point to statics).
struct Host(clap_host);
// SAFETY: the struct is immutable and its pointers point to `'static` C strings and functions.
unsafe impl Sync for Host {}

static HOST: Host = Host(clap_host {
    clap_version: CLAP_VERSION,
    host_data: ptr::null_mut(),
    name: HOST_NAME.as_ptr(),
    vendor: HOST_VENDOR.as_ptr(),
    url: HOST_URL.as_ptr(),
    version: HOST_VERSION.as_ptr(),
    get_extension: Some(host_get_extension),
    request_restart: Some(host_request),
    request_process: Some(host_request),
    request_callback: Some(host_request),
});

/// The parameter events of `flush`.
struct EventList(Vec<clap_event_param_value>);

unsafe extern "C" fn events_size(list: *const clap_input_events) -> u32 {
    // SAFETY: `ctx` is the `EventList` this host made the list from, alive for the call.
    unsafe { (*((*list).ctx as *const EventList)).0.len() as u32 }
}
unsafe extern "C" fn events_get(
    list: *const clap_input_events,
    index: u32,
) -> *const clap_event_header {
    // SAFETY: as in `events_size`.
    let events = unsafe { &(*((*list).ctx as *const EventList)).0 };
    events
        .get(index as usize)
        .map_or(ptr::null(), |e| &e.header as *const clap_event_header)
}
unsafe extern "C" fn events_try_push(
    _: *const clap_output_events,
    _: *const clap_event_header,
) -> bool {
    true
}

/// nice-plug's CLAP parameter id for a string id (`wrapper/util.rs::hash_param_id`).
fn hashed_param_id(string_id: &str) -> clap_id {
    let mut hash: u32 = 0;
    for byte in string_id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(u32::from(byte));
    }
    hash & !(1 << 31)
}

fn c_text(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

struct ParamInfo {
    id: clap_id,
    name: String,
    module: String,
}

fn run(options: &Options) -> Result<(), String> {
    let bundle = Path::new(&options.bundle);
    let bundle = bundle
        .canonicalize()
        .map_err(|e| format!("{}: {e}", bundle.display()))?;
    // SAFETY: loading a CLAP bundle runs its initialisers; a CLAP plugin library is made to be
    // loaded this way by hosts.
    let library = unsafe { libloading::Library::new(&bundle) }
        .map_err(|e| format!("{}: {e}", bundle.display()))?;
    // SAFETY: `clap_entry` is the symbol every CLAP library exports, of this type.
    let entry: libloading::Symbol<*const clap_plugin_entry> =
        unsafe { library.get(b"clap_entry\0") }.map_err(|e| format!("clap_entry: {e}"))?;
    // SAFETY: the symbol points to the library's entry struct, alive while `library` is.
    let entry: &clap_plugin_entry = unsafe { &**entry };
    let path = CString::new(bundle.to_string_lossy().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: the entry's functions are called in the order CLAP prescribes (init first).
    unsafe {
        if !entry.init.ok_or("no init")?(path.as_ptr()) {
            return Err("clap_entry.init failed".into());
        }
    }
    // SAFETY: after init; the factory id is a valid C string.
    let factory =
        unsafe { entry.get_factory.ok_or("no get_factory")?(CLAP_PLUGIN_FACTORY_ID.as_ptr()) }
            as *const clap_plugin_factory;
    if factory.is_null() {
        return Err("no plugin factory".into());
    }
    // SAFETY: the factory is valid while the library is initialised.
    let factory = unsafe { &*factory };
    // SAFETY: as above; index 0 exists when the count is at least 1.
    let descriptor = unsafe {
        if factory.get_plugin_count.ok_or("no get_plugin_count")?(factory) < 1 {
            return Err("the bundle holds no plugin".into());
        }
        &*factory
            .get_plugin_descriptor
            .ok_or("no get_plugin_descriptor")?(factory, 0)
    };
    // SAFETY: the descriptor's id is a C string; the host struct lives for the whole run.
    let plugin = unsafe {
        factory.create_plugin.ok_or("no create_plugin")?(factory, &HOST.0, descriptor.id)
    };
    if plugin.is_null() {
        return Err("create_plugin failed".into());
    }
    // SAFETY: `plugin` is a live plugin instance until `destroy` below.
    let p: &clap_plugin = unsafe { &*plugin };
    // SAFETY: CLAP: init once, right after creation, on the main thread (this one).
    if !unsafe { p.init.ok_or("no init")?(plugin) } {
        return Err("plugin init failed".into());
    }
    // SAFETY: the extension id is a C string; the returned struct lives as long as the plugin.
    let params =
        unsafe { p.get_extension.ok_or("no get_extension")?(plugin, CLAP_EXT_PARAMS.as_ptr()) }
            as *const clap_plugin_params;
    let params: Option<&clap_plugin_params> = unsafe { params.as_ref() };
    let infos: Vec<ParamInfo> = match params {
        None => Vec::new(),
        Some(params) => {
            // SAFETY: the params extension's functions on the main thread, indices in range.
            let count = unsafe { params.count.ok_or("no count")?(plugin) };
            (0..count)
                .filter_map(|i| {
                    // SAFETY: as above; `info` is written by the plugin.
                    let mut info: clap_param_info = unsafe { std::mem::zeroed() };
                    unsafe { params.get_info?(plugin, i, &mut info) }.then(|| ParamInfo {
                        id: info.id,
                        name: c_text(&info.name),
                        module: c_text(&info.module),
                    })
                })
                .collect()
        }
    };
    if options.list {
        for info in &infos {
            println!("{:>10}  {}/{}", info.id, info.module, info.name);
        }
        return Ok(());
    }

    let mut audio = read_wav(&options.input)?;
    let channels = audio.channels.len();
    if channels == 0 || channels > 2 {
        return Err(format!(
            "{}: {channels} channels (1 or 2 supported)",
            options.input
        ));
    }
    let frames = audio.channels[0].len();
    let block = options.block;

    let mut events = EventList(Vec::new());
    for (name, text) in &options.params {
        let params = params.ok_or("the plugin has no parameters")?;
        let hashed = hashed_param_id(name);
        let info = infos
            .iter()
            .find(|i| i.id == hashed)
            .or_else(|| {
                infos.iter().find(|i| {
                    i.name.eq_ignore_ascii_case(name)
                        || format!("{}/{}", i.module, i.name).eq_ignore_ascii_case(name)
                })
            })
            .ok_or_else(|| format!("-p {name}: no such parameter (see --list)"))?;
        let text_c = CString::new(text.as_bytes()).map_err(|e| e.to_string())?;
        let mut value = 0.0f64;
        // SAFETY: main thread, a valid id and C string, `value` written by the plugin.
        if !unsafe {
            params.text_to_value.ok_or("no text_to_value")?(
                plugin,
                info.id,
                text_c.as_ptr(),
                &mut value,
            )
        } {
            return Err(format!("-p {name}={text}: the plugin rejected the value"));
        }
        events.0.push(clap_event_param_value {
            header: clap_event_header {
                size: std::mem::size_of::<clap_event_param_value>() as u32,
                time: 0,
                space_id: CLAP_CORE_EVENT_SPACE_ID,
                type_: CLAP_EVENT_PARAM_VALUE,
                flags: 0,
            },
            param_id: info.id,
            cookie: ptr::null_mut(),
            note_id: -1,
            port_index: -1,
            channel: -1,
            key: -1,
            value,
        });
    }
    let in_events = clap_input_events {
        ctx: &events as *const EventList as *mut c_void,
        size: Some(events_size),
        get: Some(events_get),
    };
    let empty = EventList(Vec::new());
    let no_events = clap_input_events {
        ctx: &empty as *const EventList as *mut c_void,
        size: Some(events_size),
        get: Some(events_get),
    };
    let out_events = clap_output_events {
        ctx: ptr::null_mut(),
        try_push: Some(events_try_push),
    };

    // SAFETY: activate on the main thread with the file's rate and the block size as bounds.
    if !unsafe {
        p.activate.ok_or("no activate")?(plugin, f64::from(audio.sample_rate), 1, block as u32)
    } {
        return Err("activate failed".into());
    }
    if let Some(params) = params {
        // SAFETY: CLAP allows `flush` while active and not processing; the lists outlive it.
        unsafe { params.flush.ok_or("no flush")?(plugin, &in_events, &out_events) };
    }
    // SAFETY: after activate, on the (same) thread that will call process.
    if !unsafe { p.start_processing.ok_or("no start_processing")?(plugin) } {
        return Err("start_processing failed".into());
    }

    let mut in_bufs = vec![vec![0.0f32; block]; channels];
    let mut out_bufs = vec![vec![0.0f32; block]; channels];
    let process = p.process.ok_or("no process")?;
    let mut spent = 0.0f64;
    let mut position = 0;
    while position < frames {
        let n = (frames - position).min(block);
        for (buf, channel) in in_bufs.iter_mut().zip(&audio.channels) {
            buf[..n].copy_from_slice(&channel[position..position + n]);
        }
        let mut in_ptrs: Vec<*mut f32> = in_bufs.iter_mut().map(|b| b.as_mut_ptr()).collect();
        let mut out_ptrs: Vec<*mut f32> = out_bufs.iter_mut().map(|b| b.as_mut_ptr()).collect();
        let audio_in = clap_audio_buffer {
            data32: in_ptrs.as_mut_ptr(),
            data64: ptr::null_mut(),
            channel_count: channels as u32,
            latency: 0,
            constant_mask: 0,
        };
        let mut audio_out = clap_audio_buffer {
            data32: out_ptrs.as_mut_ptr(),
            data64: ptr::null_mut(),
            channel_count: channels as u32,
            latency: 0,
            constant_mask: 0,
        };
        let call = clap_process {
            steady_time: position as i64,
            frames_count: n as u32,
            transport: ptr::null(),
            audio_inputs: &audio_in,
            audio_outputs: &mut audio_out,
            audio_inputs_count: 1,
            audio_outputs_count: 1,
            in_events: &no_events,
            out_events: &out_events,
        };
        let start = Instant::now();
        // SAFETY: the plugin is processing; every pointer in `call` outlives the call and the
        // buffers hold `n <= block` frames per channel.
        let status = unsafe { process(plugin, &call) };
        spent += start.elapsed().as_secs_f64();
        if status == CLAP_PROCESS_ERROR {
            return Err(format!("process returned an error at frame {position}"));
        }
        for (buf, channel) in out_bufs.iter().zip(&mut audio.channels) {
            channel[position..position + n].copy_from_slice(&buf[..n]);
        }
        position += n;
    }
    // SAFETY: the teardown sequence CLAP prescribes, on the main thread.
    unsafe {
        p.stop_processing.ok_or("no stop_processing")?(plugin);
        p.deactivate.ok_or("no deactivate")?(plugin);
        p.destroy.ok_or("no destroy")?(plugin);
        entry.deinit.ok_or("no deinit")?();
    }
    write_wav(&options.output, &audio)?;
    let seconds = frames as f64 / f64::from(audio.sample_rate);
    println!(
        "frames {frames}  process {spent:.4} s  realtime {:.0}x  {:.1} ns/frame",
        seconds / spent,
        spent * 1e9 / frames as f64
    );
    Ok(())
}
