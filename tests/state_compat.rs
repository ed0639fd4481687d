//! Sessions load forever: states saved by earlier releases, committed under `tests/fixtures/`
//! (see its README; never regenerate them), load into this build through the CLAP wrapper's
//! `clap.state` with every parameter and persisted field as it was saved.

mod common;

use common::clap_host::ClapTestHost;
use fairmaster::params::state::{STATE_VERSION, STATE_VERSION_FIELD};
use fairmaster::params::FairmasterParams;
use nice_plug::prelude::Params;

/// Saved by Fairmaster 0.1.0 (commit b818b08, before the state had a version field).
const STATE_V0_1_0: &[u8] = include_bytes!("fixtures/state-v0.1.0.bin");

/// What was set before `state-v0.1.0.bin` was saved: plain values as a host shows them (dB,
/// Hz, ms, fractions for percentages, 0/1 for switches, the variant index for choices). Every
/// parameter is away from its default except `lim_on` (all modules on; the limiter is on by
/// default).
const V0_1_0_VALUES: &[(&str, f64)] = &[
    ("input_gain", 3.37),
    ("output_gain", -2.71),
    ("ab_bypass", 1.0),
    ("match_level", 0.0),
    ("match_freeze", 1.0),
    ("bypass", 1.0),
    ("target", 4.0),
    ("target_lufs", -11.3),
    ("eq_on", 1.0),
    ("eq_mode", 1.0),
    ("eq_lc_on", 1.0),
    ("eq_lc_freq", 37.5),
    ("eq_lc_slope", 1.0),
    ("eq_lc_ch", 2.0),
    ("eq_hc_on", 1.0),
    ("eq_hc_freq", 16500.0),
    ("eq_hc_slope", 1.0),
    ("eq_hc_ch", 1.0),
    ("eq_ls_on", 1.0),
    ("eq_ls_freq", 85.0),
    ("eq_ls_gain", 1.85),
    ("eq_ls_q", 0.55),
    ("eq_ls_ch", 1.0),
    ("eq_hs_on", 1.0),
    ("eq_hs_freq", 9500.0),
    ("eq_hs_gain", -1.35),
    ("eq_hs_q", 0.9),
    ("eq_hs_ch", 2.0),
    ("eq_b1_on", 1.0),
    ("eq_b1_freq", 160.0),
    ("eq_b1_gain", -2.25),
    ("eq_b1_q", 1.4),
    ("eq_b1_ch", 1.0),
    ("eq_b2_on", 1.0),
    ("eq_b2_freq", 430.0),
    ("eq_b2_gain", 1.15),
    ("eq_b2_q", 0.65),
    ("eq_b2_ch", 2.0),
    ("eq_b3_on", 1.0),
    ("eq_b3_freq", 2700.0),
    ("eq_b3_gain", -0.85),
    ("eq_b3_q", 2.2),
    ("eq_b3_ch", 1.0),
    ("eq_b4_on", 1.0),
    ("eq_b4_freq", 7300.0),
    ("eq_b4_gain", 0.95),
    ("eq_b4_q", 3.3),
    ("eq_b4_ch", 2.0),
    ("comp_on", 1.0),
    ("comp_threshold", -23.45),
    ("comp_ratio", 3.7),
    ("comp_knee", 4.5),
    ("comp_attack", 2.3),
    ("comp_release", 345.0),
    ("comp_auto_release", 1.0),
    ("comp_sc_hpf_on", 0.0),
    ("comp_sc_hpf", 123.0),
    ("comp_mix", 0.73),
    ("comp_makeup", 1.75),
    ("st_on", 1.0),
    ("st_width", 1.37),
    ("st_mono_bass_on", 1.0),
    ("st_mono_bass", 143.0),
    ("lim_on", 1.0),
    ("lim_drive", 4.56),
    ("lim_ceiling", -0.3),
    ("lim_release", 67.0),
    ("lim_auto_release", 0.0),
    ("lim_lookahead", 2.3),
    ("dither_mode", 2.0),
    ("dither_shaping", 1.0),
];

/// The editor size persisted in `state-v0.1.0.bin`.
const V0_1_0_EDITOR_SIZE: (u64, u64) = (1517, 911);

/// Parameters added after 0.1.0: a 0.1.0 session leaves them at their defaults. A new
/// parameter must be listed here (this test fails otherwise), which is the moment to decide
/// whether its default keeps old sessions sounding the same.
const ADDED_AFTER_V0_1_0: &[&str] = &[
    // Reference tracks (issue 13): they load at their defaults, so the master is heard
    // (listen_reference off) and ab_bypass keeps its meaning.
    "listen_reference",
    "reference_slot",
    "reference_match",
    "reference_platform",
    "reference_sync",
    "monitor",
    "solo_band",
    // Snapshots (issue 15): match on, with no snapshot current it changes nothing.
    "snapshot_match",
    // Limiter characters (issue 27): Transparent is the limiter 0.1.0 had, bit for bit.
    "lim_character",
    // The vinyl stages (issue 29): off by default, the elliptical EQ passes bit-exact and the
    // HF limiter is out of the path.
    "ell_on",
    "ell_freq",
    "hfl_on",
    "hfl_limit",
    "hfl_split",
    "hfl_release",
    // The clipper and the saturation (issue 27): off by default, out of the path.
    "clip_on",
    "clip_drive",
    "clip_ceiling",
    "clip_curve",
    "clip_oversampling",
    "sat_on",
    "sat_oversampling",
    "sat_auto_gain",
    "sat_bands",
    "sat_split1",
    "sat_split2",
    "sat_split3",
    "sat_split4",
    "sat_b1_drive",
    "sat_b1_mix",
    "sat_b1_curve",
    "sat_b2_drive",
    "sat_b2_mix",
    "sat_b2_curve",
    "sat_b3_drive",
    "sat_b3_mix",
    "sat_b3_curve",
    "sat_b4_drive",
    "sat_b4_mix",
    "sat_b4_curve",
    "sat_b5_drive",
    "sat_b5_mix",
    "sat_b5_curve",
    // A stage compared or its delta (issue 27): off by default, the master is heard.
    "compare_stage",
    "compare_match",
    "delta_stage",
    // The multiband dynamics (issue 28): off by default, out of the path.
    "mb_on",
    "mb_bands",
    "mb_split1",
    "mb_split2",
    "mb_split3",
    "mb_split4",
    "mb_lookahead",
    "mb_phase",
    "mb_b1_threshold",
    "mb_b1_ratio",
    "mb_b1_knee",
    "mb_b1_attack",
    "mb_b1_release",
    "mb_b1_auto_release",
    "mb_b1_range",
    "mb_b1_makeup",
    "mb_b1_mode",
    "mb_b1_channels",
    "mb_b1_bypass",
    "mb_b1_solo",
    "mb_b1_compare",
    "mb_b2_threshold",
    "mb_b2_ratio",
    "mb_b2_knee",
    "mb_b2_attack",
    "mb_b2_release",
    "mb_b2_auto_release",
    "mb_b2_range",
    "mb_b2_makeup",
    "mb_b2_mode",
    "mb_b2_channels",
    "mb_b2_bypass",
    "mb_b2_solo",
    "mb_b2_compare",
    "mb_b3_threshold",
    "mb_b3_ratio",
    "mb_b3_knee",
    "mb_b3_attack",
    "mb_b3_release",
    "mb_b3_auto_release",
    "mb_b3_range",
    "mb_b3_makeup",
    "mb_b3_mode",
    "mb_b3_channels",
    "mb_b3_bypass",
    "mb_b3_solo",
    "mb_b3_compare",
    "mb_b4_threshold",
    "mb_b4_ratio",
    "mb_b4_knee",
    "mb_b4_attack",
    "mb_b4_release",
    "mb_b4_auto_release",
    "mb_b4_range",
    "mb_b4_makeup",
    "mb_b4_mode",
    "mb_b4_channels",
    "mb_b4_bypass",
    "mb_b4_solo",
    "mb_b4_compare",
    "mb_b5_threshold",
    "mb_b5_ratio",
    "mb_b5_knee",
    "mb_b5_attack",
    "mb_b5_release",
    "mb_b5_auto_release",
    "mb_b5_range",
    "mb_b5_makeup",
    "mb_b5_mode",
    "mb_b5_channels",
    "mb_b5_bypass",
    "mb_b5_solo",
    "mb_b5_compare",
    // Match EQ (issue 28, part 3): the curve is flat until a match is made.
    "eq_match_amount",
    "eq_match_width",
    "eq_match_smoothing",
    "eq_match_bound",
    // Dynamic EQ (issue 28, part 2): dynamic off by default, so every band is the static
    // band 0.1.0 had, bit for bit.
    "eq_ls_dyn",
    "eq_ls_dyn_thresh",
    "eq_ls_dyn_range",
    "eq_ls_dyn_ratio",
    "eq_ls_dyn_attack",
    "eq_ls_dyn_release",
    "eq_ls_dyn_det_follow",
    "eq_ls_dyn_det_freq",
    "eq_b1_dyn",
    "eq_b1_dyn_thresh",
    "eq_b1_dyn_range",
    "eq_b1_dyn_ratio",
    "eq_b1_dyn_attack",
    "eq_b1_dyn_release",
    "eq_b1_dyn_det_follow",
    "eq_b1_dyn_det_freq",
    "eq_b2_dyn",
    "eq_b2_dyn_thresh",
    "eq_b2_dyn_range",
    "eq_b2_dyn_ratio",
    "eq_b2_dyn_attack",
    "eq_b2_dyn_release",
    "eq_b2_dyn_det_follow",
    "eq_b2_dyn_det_freq",
    "eq_b3_dyn",
    "eq_b3_dyn_thresh",
    "eq_b3_dyn_range",
    "eq_b3_dyn_ratio",
    "eq_b3_dyn_attack",
    "eq_b3_dyn_release",
    "eq_b3_dyn_det_follow",
    "eq_b3_dyn_det_freq",
    "eq_b4_dyn",
    "eq_b4_dyn_thresh",
    "eq_b4_dyn_range",
    "eq_b4_dyn_ratio",
    "eq_b4_dyn_attack",
    "eq_b4_dyn_release",
    "eq_b4_dyn_det_follow",
    "eq_b4_dyn_det_freq",
    "eq_hs_dyn",
    "eq_hs_dyn_thresh",
    "eq_hs_dyn_range",
    "eq_hs_dyn_ratio",
    "eq_hs_dyn_attack",
    "eq_hs_dyn_release",
    "eq_hs_dyn_det_follow",
    "eq_hs_dyn_det_freq",
];

fn state_json(bytes: &[u8]) -> serde_json::Value {
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(len, bytes.len() - 8, "clap.state length header");
    serde_json::from_slice(&bytes[8..]).expect("state JSON")
}

fn field(json: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    json["fields"][key]
        .as_str()
        .map(|s| serde_json::from_str(s).expect("persisted field JSON"))
}

/// Asserts every parameter of `host` holds the 0.1.0 session's value (or, if added later, its
/// default), read through `clap.params` `get_value` as a host reads it.
fn assert_v0_1_0_values(host: &ClapTestHost, what: &str) {
    let defaults = FairmasterParams::default();
    let mut checked = 0;
    for (id, ptr, _) in defaults.param_map() {
        // SAFETY: `ptr` comes from `param_map()` of `defaults`, a local that outlives this loop, so
        // the parameter it points to is alive.
        let steps = unsafe { ptr.step_count() }.unwrap_or(1) as f64;
        let normalized = host.param_clap_value(&id) / steps;
        // SAFETY: as above: `ptr` points into `defaults`, still alive.
        let plain = unsafe { ptr.preview_plain(normalized as f32) } as f64;
        let expected = match V0_1_0_VALUES.iter().find(|(i, _)| *i == id) {
            Some(&(_, v)) => v,
            None => {
                assert!(
                    ADDED_AFTER_V0_1_0.contains(&id.as_str()),
                    "{id} is not in the 0.1.0 session: list it in ADDED_AFTER_V0_1_0"
                );
                // SAFETY: as above: `ptr` points into `defaults`, still alive.
                unsafe { ptr.default_plain_value() as f64 }
            }
        };
        assert!(
            (plain - expected).abs() <= 1e-4 * expected.abs().max(1.0),
            "{what}: {id} = {plain}, the 0.1.0 session has {expected}"
        );
        checked += 1;
    }
    assert_eq!(checked, V0_1_0_VALUES.len() + ADDED_AFTER_V0_1_0.len());
}

#[test]
fn fixture_is_the_unversioned_0_1_0_state() {
    // Guards the fixture itself: it must stay what 0.1.0 wrote (no version field, its version
    // string, every parameter of the table). If this fails, the file was regenerated: restore
    // it from git history.
    let json = state_json(STATE_V0_1_0);
    assert_eq!(json["version"], "0.1.0");
    assert!(
        json["fields"].get(STATE_VERSION_FIELD).is_none(),
        "fixture has a state_version"
    );
    let params = json["params"].as_object().expect("params");
    assert_eq!(params.len(), V0_1_0_VALUES.len());
    for (id, _) in V0_1_0_VALUES {
        assert!(params.contains_key(*id), "{id} missing from the fixture");
    }
}

#[test]
fn state_saved_by_0_1_0_loads_with_every_value() {
    let fs = 48_000.0;

    // A DAW reopening a session: load before activation.
    let mut reopened = ClapTestHost::new_inactive(2);
    assert!(reopened.load_state(STATE_V0_1_0), "0.1.0 state rejected");
    reopened.activate(fs, 1, 512);
    assert_v0_1_0_values(&reopened, "reopened session");

    // A DAW recalling it into a running instance.
    let mut running = ClapTestHost::new(fs, 1, 512, 2);
    let mut l = vec![0.1f32; 512];
    let mut r = vec![-0.1f32; 512];
    running.process(&mut l, Some(&mut r), &[]);
    assert!(running.load_state(STATE_V0_1_0), "0.1.0 state rejected");
    running.handle_restart_requests();
    assert_v0_1_0_values(&running, "recalled into a running instance");
    for _ in 0..8 {
        running.process(&mut l, Some(&mut r), &[]);
        assert!(l.iter().chain(&r).all(|x| x.is_finite()));
    }

    // Saved again, the session keeps every value bit for bit and the editor size, and now
    // carries this build's format version.
    let old = state_json(STATE_V0_1_0);
    let resaved = state_json(&reopened.save_state());
    // Parameters added since carry their defaults (checked above); the rest is unchanged.
    let mut resaved_params = resaved["params"].as_object().unwrap().clone();
    for id in ADDED_AFTER_V0_1_0 {
        assert!(
            resaved_params.remove(*id).is_some(),
            "{id} missing from the re-saved session"
        );
    }
    assert_eq!(
        serde_json::Value::Object(resaved_params),
        old["params"],
        "re-saved parameters differ"
    );
    let size = field(&resaved, "editor_size").expect("editor_size");
    assert_eq!(
        (
            size["width"].as_u64().unwrap(),
            size["height"].as_u64().unwrap()
        ),
        V0_1_0_EDITOR_SIZE
    );
    assert_eq!(
        field(&resaved, STATE_VERSION_FIELD),
        Some(serde_json::json!(STATE_VERSION))
    );
}

#[test]
fn offline_renderer_reads_the_0_1_0_state() {
    // The renderer's `--state` loader is a separate path (no CLAP wrapper): same values.
    let set = fairmaster::presets::param_set::ParamSet::from_state_bytes(STATE_V0_1_0)
        .expect("renderer rejects the 0.1.0 state");
    let ab = set.params().ab_settings();
    assert!(ab.listen_original && !ab.match_level && ab.freeze && ab.host_bypass);
    let c = set.chain_settings();
    assert!((c.input_gain_db - 3.37).abs() < 1e-4);
    assert!(c.eq_enabled && c.eq_linear_phase && c.compressor.auto_release);
    assert!((c.stereo.width - 1.37).abs() < 1e-5);
    assert!((c.limiter.lookahead_ms - 2.3).abs() < 1e-4);
    // Saved before stages could move: today's order, EQ -> compressor -> stereo.
    assert_eq!(c.order, fairmaster::stages::StageOrder::default());
    assert_eq!(
        set.params().state_version.loaded(),
        0,
        "legacy state loads as version 0"
    );
    assert_eq!(
        set.params().editor_size.get(),
        fairmaster::params::state::EditorSize {
            width: V0_1_0_EDITOR_SIZE.0 as u32,
            height: V0_1_0_EDITOR_SIZE.1 as u32
        }
    );
}
