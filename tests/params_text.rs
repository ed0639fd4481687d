//! Every parameter's value -> text -> value conversion, as a host runs it: through the CLAP
//! wrapper's `clap.params` `value_to_text` / `text_to_value` (which call nice-plug's
//! `normalized_value_to_string(.., true)` / `string_to_normalized_value` on the Float/Bool/Enum
//! params), on the CLAP value scale (normalised, times the step count for stepped parameters).
//!
//! The rule is clap-validator's `param-conversions` (free-audio/clap-validator,
//! `src/tests/plugin_instance/params.rs`): for a value v, text t = text(v) must parse, and
//! text(parse(t)) == t, parse(text(parse(t))) == parse(t). On top of that the parsed value must
//! be v itself for stepped parameters and within the display's rounding of v for continuous ones.

mod common;

use common::clap_host::{clap_param_id, ClapTestHost};
use fairmaster::params::FairmasterParams;
use nice_plug::prelude::{ParamPtr, Params};

/// CLAP `CLAP_PARAM_IS_STEPPED` (clap/ext/params.h).
const CLAP_PARAM_IS_STEPPED: u32 = 1 << 0;

/// Continuous parameters: points across the normalised range (both ends included), plus
/// points next to the ends and seeded pseudo-random ones.
const FLOAT_GRID: usize = 201;
const FLOAT_RANDOM: usize = 100;

struct Param {
    id: String,
    ptr: ParamPtr,
    stepped: bool,
    max_clap: f64,
}

fn params(host: &ClapTestHost, defaults: &FairmasterParams) -> Vec<Param> {
    let infos = host.param_infos();
    let map = defaults.param_map();
    assert_eq!(infos.len(), map.len(), "clap.params lists every parameter");
    map.into_iter()
        .map(|(id, ptr, _)| {
            let info = infos
                .iter()
                .find(|i| i.id == clap_param_id(&id))
                .unwrap_or_else(|| panic!("{id} missing from clap.params"));
            assert_eq!(info.min_value, 0.0, "{id}");
            Param {
                stepped: info.flags & CLAP_PARAM_IS_STEPPED != 0,
                max_clap: info.max_value,
                id,
                ptr,
            }
        })
        .collect()
}

impl Param {
    /// The plain value (dB, Hz, fraction, variant index, 0/1) of a value on the CLAP scale.
    fn plain(&self, clap: f64) -> f64 {
        // SAFETY: `self.ptr` comes from `param_map()` of the `defaults` that `params()` borrows;
        // each test keeps `defaults` alive while it uses the returned `Param`s.
        let steps = unsafe { self.ptr.step_count() }.unwrap_or(1) as f64;
        // SAFETY: as above: the parameter `self.ptr` points to is alive.
        unsafe { self.ptr.preview_plain((clap / steps) as f32) as f64 }
    }

    fn grid(&self) -> Vec<f64> {
        if self.stepped {
            assert_eq!(self.max_clap.fract(), 0.0, "{}: stepped max", self.id);
            return (0..=self.max_clap as u32).map(f64::from).collect();
        }
        assert_eq!(self.max_clap, 1.0, "{}: continuous range is 0..1", self.id);
        let mut grid: Vec<f64> = (0..FLOAT_GRID)
            .map(|i| i as f64 / (FLOAT_GRID - 1) as f64)
            .collect();
        grid.extend([1e-7, 1e-4, 0.5 - 1e-6, 0.5 + 1e-6, 1.0 - 1e-4, 1.0 - 1e-7]);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ clap_param_id(&self.id) as u64;
        grid.extend((0..FLOAT_RANDOM).map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        }));
        grid
    }
}

/// The display's resolution in plain units: one unit of the last digit shown, times the unit's
/// factor to plain (kHz shows thousands of Hz; % shows hundredths of the plain fraction).
fn display_resolution(text: &str) -> f64 {
    let t = text.trim();
    // "∞:1" (a dynamic EQ band's top ratio) names one value exactly: it must parse back to it.
    if t.starts_with('∞') {
        return 0.0;
    }
    let end = t
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .map_or(t.len(), |(i, _)| i);
    let number = &t[..end];
    assert!(
        number.parse::<f64>().is_ok(),
        "display text {text:?} does not start with a number"
    );
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let factor = if t.contains("kHz") {
        1000.0
    } else if t.ends_with('%') {
        0.01
    } else {
        1.0
    };
    10f64.powi(-decimals) * factor
}

#[test]
fn every_parameter_round_trips_value_text_value() {
    let host = ClapTestHost::new_inactive(2);
    let defaults = FairmasterParams::default();
    let params = params(&host, &defaults);
    let mut conversions = 0;
    for p in &params {
        for v in p.grid() {
            let text = host
                .param_value_to_text(&p.id, v)
                .unwrap_or_else(|| panic!("{}: value_to_text({v}) failed", p.id));
            let parsed = host.param_text_to_value(&p.id, &text).unwrap_or_else(|| {
                panic!(
                    "{}: the displayed text {text:?} (of {v}) does not parse",
                    p.id
                )
            });
            let text2 = host.param_value_to_text(&p.id, parsed).unwrap();
            assert_eq!(
                text2, text,
                "{}: {v} -> {text:?} -> {parsed} -> {text2:?}",
                p.id
            );
            let parsed2 = host.param_text_to_value(&p.id, &text2).unwrap();
            assert_eq!(parsed2, parsed, "{}: {text:?} parses differently", p.id);
            assert!(
                (0.0..=p.max_clap).contains(&parsed),
                "{}: {text:?} parses to {parsed}, outside 0..={}",
                p.id,
                p.max_clap
            );
            let (plain, plain_back) = (p.plain(v), p.plain(parsed));
            if p.stepped {
                assert_eq!(
                    parsed, v,
                    "{}: step {v} shows {text:?}, parses to {parsed}",
                    p.id
                );
            } else {
                // Within half a displayed digit (plus f32 rounding of the normalised value).
                let tolerance = 0.5 * display_resolution(&text) + 1e-5 * plain.abs().max(1.0);
                assert!(
                    (plain_back - plain).abs() <= tolerance,
                    "{}: {plain} shows {text:?}, parses back to {plain_back} (tolerance {tolerance})",
                    p.id
                );
            }
            conversions += 1;
        }
    }
    let continuous = params.iter().filter(|p| !p.stepped).count();
    println!(
        "params_text: {} parameters ({continuous} continuous), {conversions} round trips",
        params.len()
    );
    // Every continuous parameter ran the whole grid (the loop above has no early exit).
    assert!(continuous >= 30, "only {continuous} continuous parameters");
    assert!(conversions >= continuous * (FLOAT_GRID + FLOAT_RANDOM));
}

/// Text a person types into a host's value field.
#[test]
fn typed_text_parses() {
    let host = ClapTestHost::new_inactive(2);
    let defaults = FairmasterParams::default();
    let params = params(&host, &defaults);
    let find = |id: &str| {
        params
            .iter()
            .find(|p| p.id == id)
            .unwrap_or_else(|| panic!("no parameter {id}"))
    };
    let accepted: &[(&str, &str, f64)] = &[
        ("ab_bypass", "B", 1.0),
        ("ab_bypass", "b", 1.0),
        ("ab_bypass", "original", 1.0),
        ("ab_bypass", "b: original", 1.0),
        ("ab_bypass", "B: original", 1.0),
        ("ab_bypass", "on", 1.0),
        ("ab_bypass", "A", 0.0),
        ("ab_bypass", "master", 0.0),
        ("ab_bypass", "a: master", 0.0),
        ("ab_bypass", "A: master", 0.0),
        ("ab_bypass", "off", 0.0),
        ("match_level", "on", 1.0),
        ("match_level", "off", 0.0),
        ("match_level", "On", 1.0),
        ("match_level", "OFF", 0.0),
        ("bypass", "true", 1.0),
        ("eq_on", "1", 1.0),
        ("lim_on", "Off", 0.0),
        ("input_gain", "-6 dB", -6.0),
        ("input_gain", "-6", -6.0),
        ("input_gain", "+3.5", 3.5),
        ("input_gain", "-6dB", -6.0),
        ("input_gain", "+30 dB", 24.0), // clamped into range
        ("output_gain", "  2.25 dB ", 2.25),
        ("lim_ceiling", "-1 dBTP", -1.0),
        ("lim_ceiling", "-0.5 dB", -0.5),
        ("lim_ceiling", "-0.3", -0.3),
        ("eq_b3_freq", "2k", 2000.0),
        ("eq_b3_freq", "2 kHz", 2000.0),
        ("eq_b3_freq", "2000", 2000.0),
        ("eq_b3_freq", "2000 Hz", 2000.0),
        ("eq_lc_freq", "35 hz", 35.0),
        ("eq_hc_freq", "16.5k", 16500.0),
        ("comp_sc_hpf", "120 Hz", 120.0),
        ("target_lufs", "-14 LUFS", -14.0),
        ("target_lufs", "-11.3", -11.3),
        ("comp_mix", "50 %", 0.5),
        ("comp_mix", "50%", 0.5),
        ("comp_mix", "50", 0.5),
        ("st_width", "137 %", 1.37),
        ("comp_ratio", "2:1", 2.0),
        ("comp_ratio", "4", 4.0),
        ("comp_ratio", "3.5:1", 3.5),
        ("comp_attack", "2.3 ms", 2.3),
        ("comp_release", "0.5 s", 500.0),
        ("comp_knee", "6 dB", 6.0),
        ("eq_b1_q", "1.4", 1.4),
        ("eq_mode", "Linear phase", 1.0),
        ("eq_mode", "linear phase", 1.0),
        ("eq_b1_ch", "side", 2.0),
        ("eq_b1_ch", "Mid", 1.0),
        ("eq_lc_slope", "24 dB/oct", 1.0),
        ("dither_mode", "16-bit", 2.0),
        ("target", "custom", 4.0),
    ];
    for &(id, text, expected) in accepted {
        let p = find(id);
        let clap = host
            .param_text_to_value(id, text)
            .unwrap_or_else(|| panic!("{id}: {text:?} rejected"));
        let plain = p.plain(clap);
        assert!(
            (plain - expected).abs() <= 1e-4 * expected.abs().max(1.0),
            "{id}: {text:?} -> {plain}, expected {expected}"
        );
    }
    let rejected: &[(&str, &str)] = &[
        ("ab_bypass", "C"),
        ("match_level", "maybe"),
        ("input_gain", "loud"),
        ("input_gain", "NaN"),
        ("input_gain", "-6 Hz"),
        ("input_gain", ""),
        ("eq_b3_freq", "2 ms"),
        ("comp_ratio", "2:0"),
        ("eq_mode", "steep"),
        ("target_lufs", "inf"),
    ];
    for &(id, text) in rejected {
        assert_eq!(
            host.param_text_to_value(id, text),
            None,
            "{id}: {text:?} should be rejected"
        );
    }
}
