//! The plugin as a VST3 host sees it: every test loads the library's own `GetPluginFactory`
//! through the in-process host in `common/vst3_host.rs` (nice-plug's VST3 wrapper included) and
//! asserts on measured output and on what the edit controller reports.
//!
//! Two host behaviours that the SDK validator and real DAWs rely on:
//! * the process mode is per call (`ProcessData::processMode`, VST3 SDK
//!   `ivstaudioprocessor.h`): a DAW may set up processing in realtime and then render blocks
//!   flagged `kOffline`; a render must always be the master (A), whatever the A/B switch says;
//! * a value the host sets on the edit controller while the plugin processes reads back at
//!   once (`IEditController::setParamNormalized` / `getParamNormalized`,
//!   `ivsteditcontroller.h`), while the processor keeps following the host's parameter changes.

mod common;
#[path = "common/vst3_host.rs"]
mod vst3_host;

use common::signals::{max_deviation_from_delayed, multitone_mix};
use vst3::Steinberg::kResultOk;
use vst3::Steinberg::Vst::{ParamID, ParamValue};
use vst3_host::{param_id, Mode, Vst3TestHost, OFFLINE, PREFETCH, REALTIME};

const FS: f64 = 48_000.0;
const BLOCK: usize = 512;

fn id(name: &str) -> ParamID {
    param_id(name)
}

/// A stereo render: (left, right).
type Stereo = (Vec<f32>, Vec<f32>);

/// The first sample where two stereo renders differ, with both values, or `None`.
fn first_difference(a: &Stereo, b: &Stereo, from: usize) -> Option<(usize, f32, f32)> {
    assert_eq!(a.0.len(), b.0.len());
    (from..a.0.len()).find_map(|i| {
        if a.0[i].to_bits() != b.0[i].to_bits() {
            Some((i, a.0[i], b.0[i]))
        } else if a.1[i].to_bits() != b.1[i].to_bits() {
            Some((i, a.1[i], b.1[i]))
        } else {
            None
        }
    })
}

/// Runs `seconds` of the multitone mix through `host` in 512-frame calls, the call starting at
/// sample `s` flagged `mode(s)`, with `changes` in the first call.
fn render(
    host: &mut Vst3TestHost,
    seconds: f64,
    mode: impl Fn(usize) -> Mode,
    changes: &[(ParamID, ParamValue)],
) -> Stereo {
    let (mut l, mut r) = multitone_mix((seconds * FS) as usize, FS as f32);
    for (k, (bl, br)) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)).enumerate() {
        host.process(mode(k * BLOCK), bl, br, if k == 0 { changes } else { &[] });
    }
    (l, r)
}

/// The limiter driven 6 dB, so the master is clearly not the original.
fn drive(host: &Vst3TestHost) -> (ParamID, ParamValue) {
    (
        id("lim_drive"),
        host.plain_to_normalized(id("lim_drive"), 6.0),
    )
}

/// A/B Original on B, sent as a host parameter change (a VST3 switch is 0 or 1).
fn b_selected() -> (ParamID, ParamValue) {
    (id("ab_bypass"), 1.0)
}

/// Master and B-selected renders of the same input from fresh instances set up in
/// `setup_mode`, every call flagged as `mode(start sample)`.
#[allow(clippy::type_complexity)] // a mode per call index, two stereo results
fn master_and_b(
    setup_mode: Mode,
    seconds: f64,
    mode: impl Fn(usize) -> Mode + Copy,
) -> (Stereo, Stereo) {
    let mut master = Vst3TestHost::new(FS, BLOCK, setup_mode);
    let changes = [drive(&master)];
    let a = render(&mut master, seconds, mode, &changes);
    let mut forgotten = Vst3TestHost::new(FS, BLOCK, setup_mode);
    let changes = [drive(&forgotten), b_selected()];
    let b = render(&mut forgotten, seconds, mode, &changes);
    // The switch reached the plugin: the controller reports B.
    assert_eq!(forgotten.param_normalized(id("ab_bypass")), 1.0);
    (a, b)
}

#[test]
fn offline_blocks_after_a_realtime_setup_render_the_master_with_b_selected() {
    // What a DAW does when it renders: processing was set up (and the plugin activated) in
    // realtime; the render's calls are flagged kOffline.
    let (a, b) = master_and_b(REALTIME, 2.0, |_| OFFLINE);
    assert_eq!(
        first_difference(&a, &b, 0),
        None,
        "offline calls with B selected must output the master sample for sample \
         (index, master, output)"
    );
}

#[test]
fn switching_to_offline_mid_stream_renders_the_master_from_that_call_on() {
    // One second of realtime playback on B, then the host flags its calls offline (a render
    // started without re-activating the plugin). From the first offline call on, the output is
    // the master's, sample for sample.
    let switch = 94 * BLOCK; // ~1 s, on a call boundary
    let mode = move |start: usize| if start < switch { REALTIME } else { OFFLINE };
    let (a, b) = master_and_b(REALTIME, 3.0, mode);
    // Before the switch B really played (it is not the master), so the equality after it is
    // the mode's doing.
    assert!(
        first_difference(&a, &b, BLOCK).is_some_and(|(i, _, _)| i < switch),
        "B selected in realtime should differ from the master before the switch"
    );
    assert_eq!(
        first_difference(&a, &b, switch),
        None,
        "after the switch to offline the output must be the master (index, master, output)"
    );
}

#[test]
fn offline_setup_activates_offline_and_renders_the_master_with_b_selected() {
    // A host that sets up processing for the render (setupProcessing(kOffline), then
    // setActive): the mode is the one of this setup, not the previous one.
    let (a, b) = master_and_b(OFFLINE, 1.0, |_| OFFLINE);
    assert_eq!(
        first_difference(&a, &b, 0),
        None,
        "an offline render with B selected must be the master (index, master, output)"
    );
}

#[test]
fn realtime_and_prefetch_calls_play_the_original_with_b_selected() {
    // Live playback honours the switch: with B selected and level matching off, the output is
    // the delayed input exactly. kPrefetch (ASIO-Guard: computed ahead, played live) is live
    // playback too, not a render. This also shows that the master differs from the input, so
    // the offline equalities above are not B = A by accident.
    for mode in [REALTIME, PREFETCH] {
        let mut host = Vst3TestHost::new(FS, BLOCK, REALTIME);
        let latency = host.latency();
        let (in_l, in_r) = multitone_mix(2 * FS as usize, FS as f32);
        let (mut l, mut r) = (in_l.clone(), in_r.clone());
        let changes = [drive(&host), b_selected(), (id("match_level"), 0.0)];
        for (k, (bl, br)) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)).enumerate() {
            host.process(mode, bl, br, if k == 0 { &changes } else { &[] });
        }
        let start = latency + 4_800; // after the 20 ms A->B crossfade
        let worst = max_deviation_from_delayed((&l, &r), (&in_l, &in_r), latency, start);
        assert!(
            worst < 1e-6,
            "mode {mode}: B differs from the delayed input by {worst}"
        );

        let mut master = Vst3TestHost::new(FS, BLOCK, REALTIME);
        let (mut ml, mut mr) = (in_l.clone(), in_r.clone());
        let drive = [drive(&master)];
        master.process_in_blocks(mode, &mut ml, &mut mr, BLOCK, &drive);
        let master_dev = max_deviation_from_delayed((&ml, &mr), (&in_l, &in_r), latency, start);
        assert!(
            master_dev > 0.1,
            "mode {mode}: the driven master should differ from the input, got {master_dev}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The edit controller while processing

fn sine(n: usize, freq: f64, peak_dbfs: f64) -> Vec<f32> {
    common::signals::sine_f64(n, freq, FS, 10f64.powf(peak_dbfs / 20.0), 0.0)
}

/// Gain of the plugin in dB on 200 ms of a -20 dBFS 1 kHz sine, with `changes` in the first
/// call, measured by RMS after 50 ms (the 20 ms gain ramp has settled) and aligned by latency.
fn measured_gain_db(host: &mut Vst3TestHost, changes: &[(ParamID, ParamValue)]) -> f64 {
    let n = (0.2 * FS) as usize;
    let skip = (0.05 * FS) as usize;
    let latency = host.latency();
    let input = sine(n, 1000.0, -20.0);
    let (mut l, mut r) = (input.clone(), input.clone());
    host.process_in_blocks(REALTIME, &mut l, &mut r, BLOCK, changes);
    let rms =
        |x: &[f32]| (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len() as f64).sqrt();
    20.0 * (rms(&l[skip + latency..]) / rms(&input[skip..n - latency])).log10()
}

fn assert_gain(measured: f64, expected_db: f64, what: &str) {
    assert!(
        (measured - expected_db).abs() <= 0.01,
        "{what}: measured {measured:.5} dB, expected {expected_db} dB ± 0.01"
    );
}

/// One call of silence, so the plugin has processed since `setProcessing(true)`.
fn process_silence(host: &mut Vst3TestHost) {
    let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    host.process(REALTIME, &mut l, &mut r, &[]);
}

#[test]
fn a_parameter_set_on_the_controller_while_processing_reads_back_at_once() {
    // The SDK validator's bypass persistence test, and any host that sets a value on the
    // controller during playback and reads it back: the new value, at once, not the one the
    // processor last had.
    let mut host = Vst3TestHost::new(FS, BLOCK, REALTIME);
    process_silence(&mut host);
    let out = id("output_gain");
    let plus_3 = host.plain_to_normalized(out, 3.0);
    for (param, value) in [
        (id("bypass"), 1.0),
        (id("bypass"), 0.0),
        (id("ab_bypass"), 1.0),
        (out, plus_3),
    ] {
        assert_eq!(host.set_param_normalized(param, value), kResultOk);
        let read_back = host.param_normalized(param);
        assert!(
            (read_back - value).abs() < 1e-6,
            "param {param}: set {value} on the controller while processing, read back {read_back}"
        );
        process_silence(&mut host);
        assert!((host.param_normalized(param) - value).abs() < 1e-6);
    }

    // An off-grid value reads back as the parameter will hold it (output gain has 0.01 dB
    // steps): exactly what the controller reports once the processor applied the same value.
    let off_grid = host.plain_to_normalized(out, 1.234_567);
    assert_eq!(host.set_param_normalized(out, off_grid), kResultOk);
    let at_once = host.param_normalized(out);
    let mut reference = Vst3TestHost::new(FS, BLOCK, REALTIME);
    let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    reference.process(REALTIME, &mut l, &mut r, &[(out, off_grid)]);
    assert_eq!(at_once, reference.param_normalized(out));
    assert!((at_once - host.plain_to_normalized(out, 1.23)).abs() < 1e-6);
}

#[test]
fn the_processor_follows_the_host_changes_and_the_controller_follows_the_processor() {
    let mut host = Vst3TestHost::new(FS, BLOCK, REALTIME);
    let out = id("output_gain");
    let plus_3 = host.plain_to_normalized(out, 3.0);
    let minus_6 = host.plain_to_normalized(out, -6.0);
    process_silence(&mut host);

    // A value set on the controller only changes the controller (VST3: the host sends it to
    // the processor as a parameter change; nothing changes on the audio thread behind the
    // processor's back).
    assert_eq!(host.set_param_normalized(out, plus_3), kResultOk);
    assert_gain(measured_gain_db(&mut host, &[]), 0.0, "controller only");
    assert_eq!(host.param_normalized(out), plus_3);

    // The host's parameter change moves the processor.
    assert_gain(
        measured_gain_db(&mut host, &[(out, plus_3)]),
        3.0,
        "host change",
    );
    assert!((host.param_normalized(out) - plus_3).abs() < 1e-6);

    // Automation played to the processor alone: the controller follows the processor, it does
    // not hold on to the value it was given before.
    assert_gain(
        measured_gain_db(&mut host, &[(out, minus_6)]),
        -6.0,
        "automation",
    );
    assert!(
        (host.param_normalized(out) - minus_6).abs() < 1e-6,
        "the controller reads {} after automation to {minus_6}",
        host.param_normalized(out)
    );
}

#[test]
fn a_controller_value_the_processor_never_got_takes_effect_when_processing_stops() {
    // The host set a value on the controller while processing and stopped before sending it to
    // the processor: once stopped, controller and processor agree on the controller's value
    // (as setParamNormalized does while the plugin is not processing).
    let mut host = Vst3TestHost::new(FS, BLOCK, REALTIME);
    let out = id("output_gain");
    let plus_3 = host.plain_to_normalized(out, 3.0);
    process_silence(&mut host);
    assert_eq!(host.set_param_normalized(out, plus_3), kResultOk);
    host.set_processing(false);
    assert_eq!(host.param_normalized(out), plus_3);
    host.set_processing(true);
    assert_gain(measured_gain_db(&mut host, &[]), 3.0, "after restart");
}

// ---------------------------------------------------------------------------------------------
// Latency after a state load (issue 24): a DAW that reopens a session restores the state, then
// sets up processing and asks for the latency before the first `process` call.

/// The expected latency in samples (`common::signals::expected_latency_48k`).
fn expected_latency_48k(lookahead_ms: f64, linear_phase_eq: bool) -> usize {
    common::signals::expected_latency_48k(lookahead_ms, linear_phase_eq) as usize
}

/// Sessions saved through VST3 `getState`: the EQ in linear phase with a 5 ms lookahead, and
/// the defaults (minimum phase, 1.5 ms).
fn linear_phase_and_minimum_phase_states() -> (Vec<u8>, Vec<u8>) {
    let mut author = Vst3TestHost::new(FS, BLOCK, REALTIME);
    let minimum_phase = author.save_state();
    let lookahead = author.plain_to_normalized(id("lim_lookahead"), 5.0);
    let mut l = vec![0.0f32; BLOCK];
    let mut r = vec![0.0f32; BLOCK];
    author.process(
        REALTIME,
        &mut l,
        &mut r,
        &[
            (id("eq_on"), 1.0),
            (id("eq_mode"), 1.0),
            (id("lim_lookahead"), lookahead),
        ],
    );
    (author.save_state(), minimum_phase)
}

/// An impulse at sample 100 of the next call; the index of the output peak after it.
fn impulse_delay(host: &mut Vst3TestHost) -> usize {
    let n = 100 + 7_449 + 4_096;
    let mut l = vec![0.0f32; n];
    let mut r = vec![0.0f32; n];
    l[100] = 0.5;
    r[100] = 0.5;
    for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        host.process(REALTIME, bl, br, &[]);
    }
    let (peak, value) = common::signals::peak(&l);
    assert!(value > 0.05, "impulse vanished (peak {value})");
    peak - 100
}

#[test]
fn a_reopened_session_reports_its_latency_from_setup_processing_on() {
    // The order a DAW reopening a session uses: setState on a fresh component, then
    // setupProcessing, getLatencySamples (before setActive: 108 samples was read here, the
    // defaults', and a real DAW exported the master 7167 samples late), setActive, process.
    let (linear, minimum) = linear_phase_and_minimum_phase_states();
    for (what, state, expected) in [
        (
            "linear phase, 5 ms",
            &linear,
            expected_latency_48k(5.0, true),
        ),
        ("minimum phase", &minimum, expected_latency_48k(1.5, false)),
    ] {
        let mut host = Vst3TestHost::new_unprepared(BLOCK);
        assert_eq!(host.load_state(state), kResultOk, "{what}: state refused");
        host.setup_processing(FS, REALTIME);
        assert_eq!(host.latency(), expected, "{what}: after setupProcessing");
        host.activate();
        assert_eq!(host.latency(), expected, "{what}: after setActive");
        assert_eq!(impulse_delay(&mut host), expected, "{what}: first blocks");
        assert_eq!(host.latency(), expected, "{what}: after processing");
    }
}

#[test]
fn a_state_loaded_while_active_asks_for_a_restart_with_its_latency() {
    // Active, the plugin must not change its latency under the host: the load itself sends
    // restartComponent(kLatencyChanged); the host reactivates and the audio has the new
    // latency from the first block. Both directions.
    let (linear, minimum) = linear_phase_and_minimum_phase_states();
    for (what, start, load, expected) in [
        (
            "minimum -> linear phase",
            &minimum,
            &linear,
            expected_latency_48k(5.0, true),
        ),
        (
            "linear -> minimum phase",
            &linear,
            &minimum,
            expected_latency_48k(1.5, false),
        ),
    ] {
        let mut host = Vst3TestHost::new_unprepared(BLOCK);
        assert_eq!(host.load_state(start), kResultOk);
        host.setup_processing(FS, REALTIME);
        host.activate();
        process_silence(&mut host);
        host.take_restart_requests();
        assert_eq!(host.load_state(load), kResultOk, "{what}: state refused");
        assert!(
            host.handle_latency_restart(),
            "{what}: no restartComponent(kLatencyChanged) for the loaded state"
        );
        assert_eq!(host.latency(), expected, "{what}: after the restart");
        assert_eq!(impulse_delay(&mut host), expected, "{what}: impulse");
        assert!(
            !host.handle_latency_restart(),
            "{what}: a further latency restart after processing"
        );
    }
}
