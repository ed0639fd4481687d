//! The plugin as a DAW sees it: every test drives `fairmaster::clap_entry` through the in-process
//! CLAP host in `common/clap_host.rs` (nice-plug's CLAP wrapper included) and asserts on measured
//! output, reported values and host callbacks.

mod common;

use common::clap_host::{
    plugin_descriptors, BufferMode, ClapParamEvent, ClapTestHost, HostCalls, PLUGIN_ID,
};
use common::signals::{expected_latency_48k, peak};

const IN: &str = "input_gain";
const OUT: &str = "output_gain";

/// Matches `dsp::util::gain::GAIN_RAMP_SECONDS`; restated so a silent change of the ramp fails here.
const RAMP_SECONDS: f64 = 0.020;

fn sine(fs: f64, freq: f64, peak_dbfs: f64, phase: f64, n: usize) -> Vec<f32> {
    common::signals::sine_f64(n, freq, fs, 10f64.powf(peak_dbfs / 20.0), phase)
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len() as f64).sqrt()
}

fn gain_db(out: &[f32], inp: &[f32]) -> f64 {
    20.0 * (rms(out) / rms(inp)).log10()
}

/// Gain in dB of `out` against `inp` delayed by `latency`, ignoring the first `skip` input
/// samples.
fn aligned_gain_db(out: &[f32], inp: &[f32], latency: usize, skip: usize) -> f64 {
    let n = inp.len().min(out.len());
    assert!(skip + latency < n, "signal too short for latency {latency}");
    gain_db(&out[skip + latency..n], &inp[skip..n - latency])
}

/// Runs 200 ms of a -20 dBFS 1 kHz sine (different phase per channel) through `host` with
/// `events` sent in the first block, and returns the gain of each channel in dB measured by RMS
/// after the first 50 ms (the 20 ms parameter ramp has settled by then), aligned by the reported
/// latency.
fn measured_gain_db(host: &mut ClapTestHost, events: &[(&str, f64)]) -> Vec<f64> {
    let fs = host.sample_rate();
    let lat = host.latency() as usize;
    let n = (0.2 * fs) as usize;
    let skip = (0.05 * fs) as usize;
    let block = 512.min(host.max_frames() as usize);
    let in_l = sine(fs, 1000.0, -20.0, 0.0, n);
    let in_r = sine(fs, 1000.0, -20.0, 1.0, n);
    let mut l = in_l.clone();
    let mut r = in_r.clone();
    if host.channels() == 2 {
        host.process_in_blocks(&mut l, Some(&mut r), block, events);
        vec![
            aligned_gain_db(&l, &in_l, lat, skip),
            aligned_gain_db(&r, &in_r, lat, skip),
        ]
    } else {
        host.process_in_blocks(&mut l, None, block, events);
        vec![aligned_gain_db(&l, &in_l, lat, skip)]
    }
}

fn assert_gain(measured: &[f64], expected_db: f64, what: &str) {
    for (ch, &g) in measured.iter().enumerate() {
        assert!(
            (g - expected_db).abs() <= 0.01,
            "{what}: channel {ch} measured {g:.5} dB, expected {expected_db} dB ± 0.01"
        );
    }
}

/// Processes `frames` of silence (lets ramps finish).
fn process_silence(host: &mut ClapTestHost, frames: usize) {
    let mut l = vec![0.0f32; frames];
    let mut r = vec![0.0f32; frames];
    let right = (host.channels() == 2).then_some(&mut r[..]);
    host.process_in_blocks(&mut l, right, 512.min(host.max_frames() as usize), &[]);
}

// ---------------------------------------------------------------------------------------------
// 1. Descriptor

#[test]
fn descriptor_has_expected_metadata() {
    let descriptors = plugin_descriptors();
    assert_eq!(
        descriptors.len(),
        1,
        "factory should list exactly one plugin"
    );
    let d = &descriptors[0];
    assert_eq!(d.id, PLUGIN_ID);
    assert_eq!(d.name, "Fairmaster");
    assert_eq!(d.vendor.as_deref(), Some("Fairmaster"));
    assert_eq!(d.version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    for feature in ["audio-effect", "mastering", "stereo"] {
        assert!(
            d.features.iter().any(|f| f == feature),
            "feature {feature:?} missing from {:?}",
            d.features
        );
    }

    // The instance reports the same descriptor as the factory.
    let host = ClapTestHost::new(48_000.0, 1, 512, 2);
    assert_eq!(&host.descriptor(), d);
}

// ---------------------------------------------------------------------------------------------
// Parameters as a host sees them

#[test]
fn gain_params_use_normalised_clap_scale_and_text_round_trips() {
    let host = ClapTestHost::new(48_000.0, 1, 512, 2);
    let infos = host.param_infos();
    for id in [IN, OUT] {
        let info = infos
            .iter()
            .find(|p| p.id == common::clap_host::clap_param_id(id))
            .unwrap_or_else(|| panic!("parameter {id} not listed"));
        assert_eq!((info.min_value, info.max_value), (0.0, 1.0), "{id}");
        // Default 0 dB is the middle of -24..+24 dB.
        assert!((info.default_value - 0.5).abs() < 1e-9, "{id}: {info:?}");
        assert!((host.param_value(id) - 0.0).abs() < 1e-9);

        // Typed text -> value -> text, as a DAW's value entry box does it.
        for (typed, shown) in [
            ("-6 dB", "-6.00 dB"),
            ("+3.25", "3.25 dB"),
            ("24", "24.00 dB"),
        ] {
            let v = host
                .param_text_to_value(id, typed)
                .unwrap_or_else(|| panic!("{id}: {typed:?} rejected"));
            assert_eq!(host.param_value_to_text(id, v).as_deref(), Some(shown));
        }
        assert_eq!(host.param_text_to_value(id, "loud"), None);
        // Plain -> CLAP conversion is the linear map of the -24..+24 dB range.
        assert!((host.plain_to_clap(id, -24.0) - 0.0).abs() < 1e-7);
        assert!((host.plain_to_clap(id, 12.0) - 0.75).abs() < 1e-7);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. State

/// nice-plug's CLAP state stream: little-endian u64 length, then JSON (uncompressed: the `zstd`
/// feature is off).
fn state_json(bytes: &[u8]) -> serde_json::Value {
    assert!(bytes.len() > 8, "state too short: {} bytes", bytes.len());
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(len, bytes.len() - 8, "state length header");
    serde_json::from_slice(&bytes[8..]).unwrap_or_else(|e| {
        panic!(
            "state is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes[8..])
        )
    })
}

/// A parameter's plain value in the state JSON (nice-plug writes `{"f32": value}`).
fn state_param(json: &serde_json::Value, id: &str) -> f64 {
    let v = &json["params"][id];
    v["f32"]
        .as_f64()
        .or_else(|| v.as_f64())
        .unwrap_or_else(|| panic!("{id} not in state: {json}"))
}

fn set_state_param(json: &mut serde_json::Value, id: &str, value: f64) {
    json["params"][id] = serde_json::json!({ "f32": value });
}

fn state_bytes(json: &serde_json::Value) -> Vec<u8> {
    let body = serde_json::to_vec(json).unwrap();
    let mut out = (body.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// The persisted editor size. nice-plug stores each `#[persist]` field as a JSON string inside
/// `fields`; accept an inline object too.
fn editor_size(json: &serde_json::Value) -> (u64, u64) {
    let field = &json["fields"]["editor_size"];
    let parsed: serde_json::Value = match field {
        serde_json::Value::String(s) => serde_json::from_str(s).expect("editor_size field"),
        serde_json::Value::Null => panic!("no editor_size in state: {json}"),
        other => other.clone(),
    };
    (
        parsed["width"].as_u64().expect("width"),
        parsed["height"].as_u64().expect("height"),
    )
}

fn set_editor_size(json: &mut serde_json::Value, width: u64, height: u64) {
    let size = serde_json::json!({ "width": width, "height": height });
    json["fields"]["editor_size"] = match &json["fields"]["editor_size"] {
        serde_json::Value::String(_) => serde_json::Value::String(size.to_string()),
        _ => size,
    };
}

fn process_sine(host: &mut ClapTestHost, n: usize) -> (Vec<f32>, Vec<f32>) {
    let fs = host.sample_rate();
    let mut l = sine(fs, 1000.0, -12.0, 0.0, n);
    let mut r = sine(fs, 1000.0, -12.0, 0.5, n);
    host.process_in_blocks(&mut l, Some(&mut r), 512, &[]);
    (l, r)
}

#[test]
fn state_round_trips_through_clap_state() {
    let fs = 48_000.0;
    let mut a = ClapTestHost::new(fs, 1, 512, 2);
    let mut l = vec![0.0f32; 512];
    let mut r = vec![0.0f32; 512];
    a.process(&mut l, Some(&mut r), &[(IN, 3.25), (OUT, -7.5)]);
    process_silence(&mut a, 4800);
    assert!((a.param_value(IN) - 3.25).abs() <= 1e-4);
    assert!((a.param_value(OUT) + 7.5).abs() <= 1e-4);

    let saved = a.save_state();
    let json = state_json(&saved);
    assert!((state_param(&json, IN) - 3.25).abs() <= 1e-4, "{json}");
    assert!((state_param(&json, OUT) + 7.5).abs() <= 1e-4, "{json}");
    let default = fairmaster::params::state::EditorSize::DEFAULT;
    assert_eq!(
        editor_size(&json),
        (default.width as u64, default.height as u64),
        "default editor size"
    );
    // Saving twice gives the same bytes.
    assert_eq!(a.save_state(), saved);

    // B: a second, running instance loads the state (a DAW recalling a preset).
    let mut b = ClapTestHost::new(fs, 1, 512, 2);
    let rescans = b.host_calls().params_rescans;
    assert!(b.load_state(&saved), "load_state failed");
    assert!(
        b.host_calls().params_rescans > rescans,
        "plugin did not ask the host to rescan parameter values after a state load"
    );
    for id in [IN, OUT] {
        assert!(
            (b.param_value(id) - a.param_value(id)).abs() <= 1e-4,
            "{id}"
        );
        assert!((b.param_clap_value(id) - a.param_clap_value(id)).abs() <= 1e-9);
    }
    // B ramps from its defaults to the loaded values (20 ms); afterwards it sounds the same.
    let n = (0.2 * fs) as usize;
    let skip = (0.05 * fs) as usize;
    let (al, ar) = process_sine(&mut a, n);
    let (bl, br) = process_sine(&mut b, n);
    assert!((gain_db(&bl[skip..], &al[skip..])).abs() < 1e-3);
    assert!((gain_db(&br[skip..], &ar[skip..])).abs() < 1e-3);
    let src = sine(fs, 1000.0, -12.0, 0.0, n);
    let lat = b.latency() as usize;
    assert!(
        (aligned_gain_db(&bl, &src, lat, skip) - (3.25 - 7.5)).abs() < 0.01,
        "loaded state does not reach the DSP"
    );

    // C: a fresh instance loads the state before activation (a DAW reopening a session). After a
    // restart of A (fresh DSP state on both sides) the outputs are bit-identical.
    let mut c = ClapTestHost::new_inactive(2);
    assert!(c.load_state(&saved));
    c.activate(fs, 1, 512);
    a.restart();
    let (al, ar) = process_sine(&mut a, n);
    let (cl, cr) = process_sine(&mut c, n);
    assert!(al == cl && ar == cr, "restored instance sounds different");
    assert!((aligned_gain_db(&cl, &src, lat, 0) - (3.25 - 7.5)).abs() < 0.01);

    // The persisted editor size survives a hand-edited state.
    let mut edited = json.clone();
    set_editor_size(&mut edited, 1234, 777);
    let mut d = ClapTestHost::new(fs, 1, 512, 2);
    assert!(d.load_state(&state_bytes(&edited)));
    let resaved = state_json(&d.save_state());
    assert_eq!(editor_size(&resaved), (1234, 777));
    assert!((state_param(&resaved, IN) - 3.25).abs() <= 1e-4);
    assert!((d.param_value(OUT) + 7.5).abs() <= 1e-4);
}

#[test]
fn garbage_state_is_rejected_and_keeps_previous_values() {
    let fs = 48_000.0;
    let mut host = ClapTestHost::new(fs, 1, 512, 2);
    let mut l = vec![0.0f32; 64];
    let mut r = vec![0.0f32; 64];
    host.process(&mut l, Some(&mut r), &[(IN, 3.25), (OUT, -7.5)]);
    let good = host.save_state();

    let wrong_shape = state_bytes(&serde_json::json!({"params": {"input_gain": "loud"}}));
    let huge_len = {
        let mut v = u64::MAX.to_le_bytes().to_vec();
        v.extend_from_slice(b"{}");
        v
    };
    let short_len = {
        let mut v = good.clone();
        v[..8].copy_from_slice(&1000u64.to_le_bytes());
        v
    };
    let garbage: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("3 bytes", vec![1, 2, 3]),
        ("text", b"definitely not a plugin state".to_vec()),
        ("huge length", huge_len),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("length too short", short_len),
        ("not json", state_bytes_raw(b"\x00\xff\xfe not json")),
        ("wrong shape", wrong_shape),
        (
            "binary noise",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
                .collect(),
        ),
    ];
    for (what, bytes) in &garbage {
        assert!(!host.load_state(bytes), "{what}: garbage state accepted");
        assert!((host.param_value(IN) - 3.25).abs() <= 1e-4, "{what}");
        assert!((host.param_value(OUT) + 7.5).abs() <= 1e-4, "{what}");
        let mut l = vec![0.25f32; 256];
        let mut r = vec![-0.25f32; 256];
        host.process(&mut l, Some(&mut r), &[]);
        assert!(l.iter().chain(&r).all(|x| x.is_finite()), "{what}");
    }
    // Still usable.
    assert!(host.load_state(&good));
}

fn state_bytes_raw(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

#[test]
fn out_of_range_values_in_state_are_contained() {
    // A hand-edited or corrupt session may hold plain values outside a parameter's range
    // (nice-plug stores and restores them unclamped). Whatever the plugin makes of them, its
    // output must stay finite and bounded: at most +24 dBFS (the -1 dBTP limiter plus the
    // +24 dB output gain range, with margin).
    let fs = 48_000.0;
    let template = ClapTestHost::new(fs, 1, 512, 2);
    let mut json = state_json(&template.save_state());
    // Every switch on (EQ, bands, compressor, stereo...), so every value reaches live DSP.
    for (_, v) in json["params"]
        .as_object_mut()
        .expect("params object")
        .iter_mut()
    {
        if v.get("bool").is_some() {
            *v = serde_json::json!({ "bool": true });
        }
    }
    let float_params: Vec<String> = json["params"]
        .as_object()
        .expect("params object")
        .iter()
        .filter(|(_, v)| v.get("f32").is_some())
        .map(|(k, _)| k.clone())
        .collect();
    assert!(float_params.iter().any(|p| p == IN));
    let mut failures = Vec::new();
    for id in &float_params {
        for value in [1.0e6, -1.0e6] {
            let mut edited = json.clone();
            set_state_param(&mut edited, id, value);
            let mut host = ClapTestHost::new(fs, 1, 512, 2);
            // Accepting (and containing) or rejecting the state are both fine.
            let _ = host.load_state(&state_bytes(&edited));
            let (l, r) = process_sine(&mut host, 4800);
            let peak = l.iter().chain(&r).fold(0.0f32, |m, x| m.max(x.abs()));
            if !peak.is_finite() || peak > 16.0 {
                failures.push(format!("{id} = {value}: peak {peak}"));
            }
        }
    }
    assert!(failures.is_empty(), "unbounded output: {failures:#?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Gain accuracy

#[test]
fn gain_is_accurate_stereo_and_mono_in_place_and_separate() {
    for channels in [2, 1] {
        for mode in [BufferMode::InPlace, BufferMode::Separate] {
            let what = format!("{channels} ch, {mode:?}");
            let mut host = ClapTestHost::new(48_000.0, 1, 1024, channels);
            host.set_buffer_mode(mode);
            assert_gain(&measured_gain_db(&mut host, &[]), 0.0, &what);
            assert_gain(&measured_gain_db(&mut host, &[(IN, 6.0)]), 6.0, &what);
            assert_gain(
                &measured_gain_db(&mut host, &[(IN, 0.0), (OUT, -6.0)]),
                -6.0,
                &what,
            );
            assert_gain(
                &measured_gain_db(&mut host, &[(IN, 6.0), (OUT, -6.0)]),
                0.0,
                &what,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Smoothing

/// Processes `l`/`r` in blocks of `block`, sending each scheduled event list at its sample
/// position (which must fall on a block boundary).
fn process_scheduled(
    host: &mut ClapTestHost,
    l: &mut [f32],
    mut r: Option<&mut [f32]>,
    block: usize,
    schedule: &[(usize, &[(&str, f64)])],
) {
    for &(at, _) in schedule {
        assert!(
            at % block == 0,
            "event at {at} not on a block boundary of {block}"
        );
    }
    let n = l.len();
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        let events = schedule
            .iter()
            .find(|(at, _)| *at == start)
            .map(|(_, e)| *e)
            .unwrap_or(&[]);
        let right = r.as_deref_mut().map(|r| &mut r[start..end]);
        host.process(&mut l[start..end], right, events);
        start = end;
    }
}

/// Feeds DC at -40 dBFS, sends `events` at sample `at`, and returns the per-sample gain in dB
/// of the input samples from `at - 1` (the last one before the event) on, aligned by the
/// reported latency.
fn dc_gain_after_event(
    host: &mut ClapTestHost,
    at: usize,
    frames: usize,
    block: usize,
    events: &[(&str, f64)],
) -> Vec<f64> {
    const DC: f32 = 0.01;
    let lat = host.latency() as usize;
    let n = at + frames + lat;
    let mut l = vec![DC; n];
    let mut r = vec![DC; n];
    process_scheduled(host, &mut l, Some(&mut r), block, &[(at, events)]);
    assert_eq!(l, r);
    l[at + lat - 1..]
        .iter()
        .map(|&x| 20.0 * (x as f64 / DC as f64).log10())
        .collect()
}

#[test]
fn gain_changes_ramp_linearly_in_db_over_20_ms() {
    for fs in [44_100.0, 96_000.0] {
        let block = 64;
        let mut host = ClapTestHost::new(fs, 1, 512, 2);
        let ramp = (RAMP_SECONDS * fs).round() as usize;
        // Epsilon: the ramp accumulates its dB steps in f32, so the final sample (which snaps to
        // the target) may step by ~1e-4 dB more than the ideal step.
        let max_step = 24.0 / (RAMP_SECONDS * fs) + 1e-3;
        let frames = ramp + 8 * block;

        // Pre-roll of 16 blocks (fills the lookahead), then the jump and back.
        for (k, (from, to)) in [(0.0, 24.0), (24.0, 0.0)].into_iter().enumerate() {
            let g = dc_gain_after_event(&mut host, 16 * block, frames, block, &[(IN, to)]);
            if k == 0 {
                assert!(
                    g[0].abs() < 1e-4,
                    "fs {fs}: not at unity before the jump: {}",
                    g[0]
                );
            }
            let mut prev = from;
            let mut largest = 0.0f64;
            for (i, &x) in g.iter().enumerate() {
                let step = (x - prev) * (to - from).signum();
                assert!(
                    step >= -1e-4,
                    "fs {fs}, {from}->{to}: sample {i} moves backwards"
                );
                assert!(
                    step <= max_step,
                    "fs {fs}, {from}->{to}: sample {i} steps {step} dB > {max_step} dB"
                );
                largest = largest.max(step);
                prev = x;
            }
            // It does ramp (not, say, crawl with a one-pole) ...
            assert!(
                largest > 0.9 * 24.0 / (RAMP_SECONDS * fs),
                "largest step only {largest} dB"
            );
            // ... linearly in dB ...
            let mid = g[ramp / 2];
            assert!(
                (mid - (from + to) / 2.0).abs() < 0.1,
                "mid-ramp gain {mid} dB"
            );
            // ... and arrives within 20 ms + one block of the event (g[0] is before it), then
            // stays.
            let arrived = g
                .iter()
                .position(|x| (x - to).abs() < 1e-3)
                .unwrap_or_else(|| panic!("fs {fs}: never reached {to} dB"));
            assert!(
                arrived <= ramp + block,
                "fs {fs}: reached {to} dB after {arrived} samples"
            );
            assert!(g[arrived..].iter().all(|x| (x - to).abs() < 1e-3));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. No allocation in process (nice-plug's `assert_process_allocs` aborts the test binary)

#[test]
fn process_does_not_allocate_with_any_block_size_or_event() {
    let max = 1024usize;
    for channels in [2, 1] {
        for mode in [BufferMode::InPlace, BufferMode::Separate] {
            let mut host = ClapTestHost::new(48_000.0, 1, max as u32, channels);
            host.set_buffer_mode(mode);
            let noise: Vec<f32> = (0..max as u32)
                .map(|i| ((i.wrapping_mul(2654435761) >> 8) as f32 / (1u32 << 24) as f32) - 0.5)
                .collect();
            for round in 0..4 {
                if round == 2 {
                    // Restart path: start_processing runs Plugin::reset in the no-alloc zone;
                    // then the offline render mode, which process reads every call.
                    host.restart();
                    assert!(host.set_offline(true));
                }
                for (k, &n) in [1, 7, 64, 512, max].iter().enumerate() {
                    let v = if (round + k) % 2 == 0 { -24.0 } else { 24.0 };
                    let events: &[(&str, f64)] = match k % 3 {
                        0 => &[(IN, v), (OUT, -v)],
                        1 => &[(IN, -v)],
                        _ => &[],
                    };
                    let mut l = noise[..n].to_vec();
                    let mut r = noise[..n].iter().map(|x| -x).collect::<Vec<_>>();
                    let right = (channels == 2).then_some(&mut r[..]);
                    host.process(&mut l, right, events);
                    assert!(l.iter().all(|x| x.is_finite()));
                }
            }
            host.reset();
            let mut l = noise.clone();
            let mut r = noise.clone();
            let right = (channels == 2).then_some(&mut r[..]);
            host.process(&mut l, right, &[(IN, 0.0), (OUT, 0.0)]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Latency

/// Sends an impulse at sample 100 through `host` (after `pre` samples of silence) and returns
/// the index of the output peak relative to the impulse, per channel.
fn impulse_delay(host: &mut ClapTestHost, pre: usize) -> Vec<usize> {
    let latency = host.latency() as usize;
    let channels = host.channels() as usize;
    let n = pre + 100 + latency + 4096;
    let mut l = vec![0.0f32; n];
    let mut r = vec![0.0f32; n];
    l[pre + 100] = 0.5;
    r[pre + 100] = 0.5;
    let right = (channels == 2).then_some(&mut r[..]);
    host.process_in_blocks(&mut l, right, 512, &[]);
    let outs = if channels == 2 { vec![l, r] } else { vec![l] };
    outs.iter()
        .map(|out| {
            let (peak, value) = peak(&out[pre..]);
            assert!(value > 0.05, "impulse vanished (peak {value})");
            peak - 100
        })
        .collect()
}

#[test]
fn reported_latency_equals_measured_impulse_delay() {
    for (fs, channels) in [(48_000.0, 2), (44_100.0, 1), (96_000.0, 2)] {
        let mut host = ClapTestHost::new(fs, 1, 512, channels);
        let latency = host.latency() as usize;
        let calls = host.host_calls();
        for (ch, delay) in impulse_delay(&mut host, 0).into_iter().enumerate() {
            assert_eq!(
                delay, latency,
                "fs {fs} ch {ch}: impulse delayed by {delay}, reported latency {latency}"
            );
        }
        if latency == 0 {
            assert_eq!(
                calls.latency_changed, 0,
                "spurious latency-changed notification"
            );
        } else {
            assert_eq!(
                calls.latency_changed, 1,
                "a non-zero latency is announced once, through clap.latency changed()"
            );
        }
        assert_latency_changed_only_in_activate(&calls);
        // The first activation reports its latency inside `activate`; asking for a restart on
        // top (what upstream nice-plug did) would be a needless second activation.
        assert_eq!(calls.restart_requests, 0, "restart requested on insertion");
        assert_eq!(
            host.host_calls().restart_requests,
            calls.restart_requests,
            "steady processing requested a restart"
        );
    }
}

fn assert_latency_changed_only_in_activate(calls: &HostCalls) {
    assert_eq!(
        calls.latency_changed_outside_activate, 0,
        "clap_host_latency::changed called outside clap_plugin::activate ({calls:?}); CLAP \
         ext/latency.h: [main-thread & being-activated]"
    );
}

#[test]
fn latency_changes_while_active_are_reported_only_inside_the_next_activate() {
    // CLAP ext/latency.h: "The latency is only allowed to change during plugin->activate. If
    // the plugin is activated, call host->request_restart()". A lookahead change and a switch
    // of the EQ to linear phase while processing: the plugin asks for a restart, the host's
    // view of the latency stays what the activation reported until then, and the reactivation
    // reports the new latency, which is exactly the delay of an impulse.
    let cases: [(&str, Vec<ClapParamEvent>, u32); 2] = [
        (
            "lookahead 5 ms",
            Vec::new(), // built below: it needs the host's text-to-value
            expected_latency_48k(5.0, false),
        ),
        (
            "EQ on, linear phase",
            vec![
                ClapParamEvent {
                    id: "eq_on",
                    clap_value: 1.0,
                    time: 0,
                },
                ClapParamEvent {
                    id: "eq_mode",
                    clap_value: 1.0, // enum index 1 = linear phase
                    time: 7,
                },
            ],
            expected_latency_48k(1.5, true),
        ),
    ];
    for (what, events, expected) in cases {
        let mut host = ClapTestHost::new(48_000.0, 1, 512, 2);
        let initial = host.host_calls();
        assert_eq!(host.latency(), expected_latency_48k(1.5, false), "{what}");
        assert_eq!(
            initial.latency_changed, 1,
            "{what}: insertion reports latency once"
        );
        let events = if events.is_empty() {
            vec![ClapParamEvent {
                id: "lim_lookahead",
                clap_value: host.plain_to_clap("lim_lookahead", 5.0),
                time: 100,
            }]
        } else {
            events
        };
        let mut l = vec![0.0f32; 512];
        let mut r = vec![0.0f32; 512];
        host.process_clap(&mut l, Some(&mut r), &events);
        // The structural fade (10 ms out) switches the chain; then the plugin has asked.
        process_silence(&mut host, 4800);
        let asked = host.host_calls();
        assert_latency_changed_only_in_activate(&asked);
        assert!(
            asked.restart_requests > initial.restart_requests,
            "{what}: no restart requested for a latency change while active"
        );
        assert_eq!(
            asked.latency_changed, initial.latency_changed,
            "{what}: latency changed() called while active"
        );
        assert_eq!(
            host.latency(),
            expected_latency_48k(1.5, false),
            "{what}: the reported latency may only change in activate"
        );

        assert!(host.handle_restart_requests() >= 1);
        let restarted = host.host_calls();
        assert_latency_changed_only_in_activate(&restarted);
        assert_eq!(
            restarted.latency_changed,
            initial.latency_changed + 1,
            "{what}: the reactivation must report the change once"
        );
        assert_eq!(host.latency(), expected, "{what}");
        assert_eq!(
            impulse_delay(&mut host, 0),
            vec![expected as usize; 2],
            "{what}: impulse delay after the restart"
        );
        // Steady again: no further restart requests (no activate/restart loop).
        assert_eq!(
            host.host_calls().restart_requests,
            restarted.restart_requests
        );
        assert_latency_changed_only_in_activate(&host.host_calls());
    }
}

#[test]
fn latency_change_pending_at_deactivation_is_reported_in_the_next_activate() {
    // The latency changes on the audio thread; the plugin's main-thread task runs only after
    // the host has deactivated it (what clap-validator's parameter tests do). The change must
    // neither be announced then (outside activate) nor lost: the next activation reports it.
    let mut host = ClapTestHost::new(48_000.0, 1, 512, 2);
    let initial = host.host_calls();
    let mut l = vec![0.0f32; 512];
    let mut r = vec![0.0f32; 512];
    host.process_on_audio_thread(&mut l, Some(&mut r), &[("lim_lookahead", 5.0)]);
    for _ in 0..10 {
        l.fill(0.0);
        r.fill(0.0);
        host.process_on_audio_thread(&mut l, Some(&mut r), &[]);
    }
    // deactivate() runs the pending on_main_thread after clap_plugin::deactivate.
    host.deactivate();
    let after_deactivate = host.host_calls();
    assert!(
        after_deactivate.callback_requests > initial.callback_requests,
        "the latency change did not go through a main-thread task"
    );
    assert_latency_changed_only_in_activate(&after_deactivate);
    assert_eq!(after_deactivate.latency_changed, initial.latency_changed);

    host.activate(48_000.0, 1, 512);
    let reactivated = host.host_calls();
    assert_latency_changed_only_in_activate(&reactivated);
    assert_eq!(reactivated.latency_changed, initial.latency_changed + 1);
    let expected = expected_latency_48k(5.0, false);
    assert_eq!(host.latency(), expected);
    assert_eq!(impulse_delay(&mut host, 0), vec![expected as usize; 2]);
}

/// A session saved with the EQ on in linear phase and a 5 ms lookahead (latency 7167 + 282
/// at 48 kHz), and one saved with the minimum-phase EQ and the default lookahead.
fn linear_phase_and_minimum_phase_states() -> (Vec<u8>, Vec<u8>) {
    let mut author = ClapTestHost::new(48_000.0, 1, 512, 2);
    let minimum_phase = author.save_state();
    let lookahead = author.plain_to_clap("lim_lookahead", 5.0);
    let mut l = vec![0.0f32; 512];
    let mut r = vec![0.0f32; 512];
    author.process_clap(
        &mut l,
        Some(&mut r),
        &[
            ClapParamEvent {
                id: "eq_on",
                clap_value: 1.0,
                time: 0,
            },
            ClapParamEvent {
                id: "eq_mode",
                clap_value: 1.0, // linear phase
                time: 0,
            },
            ClapParamEvent {
                id: "lim_lookahead",
                clap_value: lookahead,
                time: 0,
            },
        ],
    );
    (author.save_state(), minimum_phase)
}

#[test]
fn a_session_reopened_reports_the_restored_latency_at_activation_and_from_the_first_block() {
    // Issue 24: a DAW reopening a session loads the state into a fresh instance, then
    // activates it. `activate` (and `latency.get` from then on) must give the restored
    // settings' latency, and an impulse in the very first block must come out exactly there.
    let (linear, minimum) = linear_phase_and_minimum_phase_states();
    for (what, state, expected) in [
        (
            "linear phase, 5 ms",
            &linear,
            expected_latency_48k(5.0, true),
        ),
        ("minimum phase", &minimum, expected_latency_48k(1.5, false)),
    ] {
        let mut host = ClapTestHost::new_inactive(2);
        assert!(host.load_state(state), "{what}: state refused");
        host.activate(48_000.0, 1, 512);
        assert_eq!(host.latency(), expected, "{what}: latency at activation");
        assert_eq!(
            host.restarts_done(),
            0,
            "{what}: a restart after activation"
        );
        assert_eq!(
            impulse_delay(&mut host, 0),
            vec![expected as usize; 2],
            "{what}: impulse in the first block"
        );
        assert_latency_changed_only_in_activate(&host.host_calls());
    }
}

#[test]
fn a_state_loaded_while_active_asks_for_a_restart_that_reports_its_latency() {
    // CLAP ext/latency.h: latency changes only in `activate`; active, the plugin asks for a
    // restart. Both directions: a minimum-phase instance loading the linear-phase session, and
    // a linear-phase instance loading the minimum-phase one. The request comes with the load,
    // before any audio is processed.
    let (linear, minimum) = linear_phase_and_minimum_phase_states();
    for (what, start, load, before, after) in [
        (
            "minimum -> linear phase",
            &minimum,
            &linear,
            expected_latency_48k(1.5, false),
            expected_latency_48k(5.0, true),
        ),
        (
            "linear -> minimum phase",
            &linear,
            &minimum,
            expected_latency_48k(5.0, true),
            expected_latency_48k(1.5, false),
        ),
    ] {
        let mut host = ClapTestHost::new_inactive(2);
        assert!(host.load_state(start));
        host.activate(48_000.0, 1, 512);
        process_silence(&mut host, 2048);
        assert_eq!(host.latency(), before, "{what}");
        let loaded = host.host_calls();
        assert!(host.load_state(load), "{what}: state refused");
        let asked = host.host_calls();
        assert!(
            asked.restart_requests > loaded.restart_requests,
            "{what}: no request_restart for the loaded state's latency"
        );
        assert_eq!(
            host.latency(),
            before,
            "{what}: latency.get may change only in activate"
        );
        assert!(host.handle_restart_requests() >= 1);
        assert_eq!(host.latency(), after, "{what}: after the restart");
        let restarted = host.host_calls();
        assert_eq!(
            restarted.latency_changed,
            asked.latency_changed + 1,
            "{what}: the restart reports the change once"
        );
        assert_latency_changed_only_in_activate(&restarted);
        assert_eq!(
            impulse_delay(&mut host, 0),
            vec![after as usize; 2],
            "{what}: impulse after the restart"
        );
        assert_eq!(
            host.host_calls().restart_requests,
            restarted.restart_requests,
            "{what}: a further restart request"
        );
    }
}

#[test]
fn latency_stays_correct_when_the_chain_structure_changes() {
    // Limiter lookahead changes the chain's latency while running (after a structural fade).
    // The host must learn the new latency (restart request / latency changed), and the value it
    // reads must match the measured delay again.
    let fs = 48_000.0;
    let mut host = ClapTestHost::new(fs, 1, 512, 2);
    let before = host.latency();
    assert_eq!(impulse_delay(&mut host, 0), vec![before as usize; 2]);
    let mut l = vec![0.0f32; 512];
    let mut r = vec![0.0f32; 512];
    host.process(&mut l, Some(&mut r), &[("lim_lookahead", 5.0)]);
    // Let the structural fade (10 ms out, 10 ms in) complete, then act on any restart request.
    process_silence(&mut host, 4800);
    host.handle_restart_requests();
    let after = host.latency();
    let measured = impulse_delay(&mut host, 0);
    assert_eq!(
        measured,
        vec![after as usize; 2],
        "host reads latency {after} (was {before}) but audio is delayed by {measured:?}"
    );
    assert_ne!(after, before, "5 ms lookahead should change the latency");
}

// ---------------------------------------------------------------------------------------------
// 7. Block-size independence

#[test]
fn output_does_not_depend_on_host_block_size() {
    let fs = 48_000.0;
    // 7680 is a multiple of every block size below, so the second automation point lands on the
    // same sample in every run.
    let change_at = 7680;
    let n = change_at + 4800;
    // Loud enough with +12 dB input gain to drive the (default-on) limiter, then quiet.
    let in_l: Vec<f32> = sine(fs, 1000.0, -8.0, 0.0, n)
        .iter()
        .zip(sine(fs, 5500.0, -16.0, 0.3, n))
        .map(|(a, b)| a + b)
        .collect();
    let in_r = sine(fs, 300.0, -9.0, 1.0, n);
    let loud: &[(&str, f64)] = &[(IN, 12.0), (OUT, -3.0)];
    let quiet: &[(&str, f64)] = &[(IN, -10.0), (OUT, 2.0)];

    let run = |block: usize, mode: BufferMode| {
        let mut host = ClapTestHost::new(fs, 1, 512, 2);
        host.set_buffer_mode(mode);
        let mut l = in_l.clone();
        let mut r = in_r.clone();
        process_scheduled(
            &mut host,
            &mut l,
            Some(&mut r),
            block,
            &[(0, loud), (change_at, quiet)],
        );
        (l, r)
    };

    let reference = run(512, BufferMode::InPlace);
    let level = |x: &[f32]| 20.0 * rms(x).log10();
    assert!(
        level(&reference.0[change_at - 2400..change_at]) > level(&reference.0[n - 2400..]) + 10.0,
        "second automation point did not take effect"
    );
    for (block, mode) in [
        (1, BufferMode::InPlace),
        (64, BufferMode::Separate),
        (480, BufferMode::InPlace),
        (480, BufferMode::Separate),
    ] {
        let out = run(block, mode);
        let first_diff = out
            .0
            .iter()
            .zip(&reference.0)
            .chain(out.1.iter().zip(&reference.1))
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(
            first_diff, None,
            "block {block} {mode:?} differs from block 512"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Sample rates

#[test]
fn common_sample_rates_activate_and_are_accurate() {
    for fs in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        let mut host = ClapTestHost::new(fs, 1, 1024, 2);
        assert_gain(
            &measured_gain_db(&mut host, &[(IN, 6.0)]),
            6.0,
            &format!("{fs} Hz in"),
        );
        assert_gain(
            &measured_gain_db(&mut host, &[(IN, 0.0), (OUT, -6.0)]),
            -6.0,
            &format!("{fs} Hz out"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Offline rendering

#[test]
fn render_mode_switches_while_active_need_no_restart_and_keep_settings() {
    // The mode reaches the plugin with every process call, so the vendored nice-plug no longer
    // asks for a restart (which would clear meters and the A/B match) when it changes.
    let mut host = ClapTestHost::new(48_000.0, 1, 512, 2);
    assert_gain(&measured_gain_db(&mut host, &[(IN, 6.0)]), 6.0, "realtime");
    let calls = host.host_calls();

    assert!(host.set_offline(true), "clap.render refused offline mode");
    assert!((host.param_value(IN) - 6.0).abs() < 1e-4);
    assert_gain(&measured_gain_db(&mut host, &[]), 6.0, "offline");
    assert!(host.set_offline(false));
    assert_gain(&measured_gain_db(&mut host, &[]), 6.0, "realtime again");
    assert_eq!(
        host.host_calls().restart_requests,
        calls.restart_requests,
        "a render mode switch requested a restart"
    );
}

/// A user preset saved from the plugin (its state JSON, what the editor's Save writes) renders
/// offline with `fairmaster-render --preset FILE` to exactly what the plugin plays with that
/// preset loaded: the same audio, bit for bit, after the host's delay compensation.
#[test]
fn user_preset_renders_offline_bit_identical_to_the_plugin() {
    use fairmaster::offline::audio_io::{read_audio_file, write_wav_atomic, OutputFormat};
    use fairmaster::offline::demo::demo_mix;
    use fairmaster::offline::Audio;

    let mix = demo_mix();
    let fs = f64::from(mix.sample_rate);
    let n = (2.0 * fs) as usize;
    let input = Audio {
        sample_rate: mix.sample_rate,
        channels: mix.channels.iter().map(|c| c[..n].to_vec()).collect(),
    };

    // The engineer dials a master in the plugin and saves it as a user preset.
    let mut author = ClapTestHost::new(fs, 1, 512, 2);
    let edits = [
        ("input_gain", 1.5),
        ("eq_on", 1.0),
        ("eq_lc_on", 1.0),
        ("eq_b2_on", 1.0),
        ("eq_b2_gain", -2.5),
        ("comp_on", 1.0),
        ("comp_ratio", 3.0),
        ("comp_attack", 20.0),
        ("st_on", 1.0),
        ("st_width", 1.3),
        ("st_mono_bass_on", 1.0),
        ("lim_drive", 5.0),
        ("lim_ceiling", -0.5),
    ];
    let mut l = vec![0.0f32; 512];
    let mut r = l.clone();
    author.process(&mut l, Some(&mut r), &edits);
    let state = author.save_state();
    // CLAP streams carry an 8-byte length before nice-plug's JSON; the editor's file is the JSON.
    let json = &state[8..];
    let dir = std::env::temp_dir().join(format!("fairmaster-user-preset-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("my master.json"), json).unwrap();
    write_wav_atomic(&dir.join("mix.wav"), &input, OutputFormat::Float32, false).unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fairmaster-render"))
        .current_dir(&dir)
        .args(["mix.wav", "--preset", "my master.json", "-o", "offline.wav"])
        .args(["--bits", "32f", "--quiet"])
        .output()
        .expect("run fairmaster-render");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offline = read_audio_file(&dir.join("offline.wav")).unwrap();

    // The plugin with the preset loaded (as a DAW reopening the session), bouncing offline.
    let mut player = ClapTestHost::new_inactive(2);
    assert!(player.load_state(&state));
    player.activate(fs, 1, 512);
    assert!(player.set_offline(true));
    let latency = player.latency() as usize;
    let mut left = input.channels[0].clone();
    let mut right = input.channels[1].clone();
    left.resize(n + latency, 0.0);
    right.resize(n + latency, 0.0);
    player.process_in_blocks(&mut left, Some(&mut right), 512, &[]);
    let played = [&left[latency..], &right[latency..]];

    assert_eq!(offline.frames(), n);
    let mut mismatches = 0;
    let mut first = None;
    for (ch, (a, b)) in offline.channels.iter().zip(played).enumerate() {
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            if x.to_bits() != y.to_bits() {
                mismatches += 1;
                first.get_or_insert((ch, i, *x, *y));
            }
        }
    }
    assert_eq!(
        mismatches, 0,
        "offline render differs from the plugin (first: {first:?}, latency {latency})"
    );
    // Not a pass-through: the preset did change the mix.
    assert_ne!(offline.channels[0], input.channels[0]);
    let _ = std::fs::remove_dir_all(&dir);
}
