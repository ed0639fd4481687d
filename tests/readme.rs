//! The README's parameter table is the user-facing contract: it must list every parameter ID
//! (IDs are part of saved sessions) with the range and default the plugin really has, and
//! those must be the ranges the DSP modules declare (`dsp::util::range::Range`, the one source
//! for `params.rs`, the sanitisers and the editor).

use fairmaster::dsp::dynamics::{compressor, hf_limiter, limiter, multiband};
use fairmaster::dsp::filters::{elliptical, eq};
use fairmaster::dsp::shaping::{clipper, saturation};
use fairmaster::dsp::stereo;
use fairmaster::dsp::util::gain;
use fairmaster::dsp::util::range::Range;
use fairmaster::params::FairmasterParams;
use fairmaster::stages::eq::matching;
use fairmaster::targets::CUSTOM_TARGET_LUFS;
use nice_plug::prelude::{ParamPtr, Params};

/// The table row for one parameter, as the plugin displays its range and default.
fn table_row(id: &str, ptr: ParamPtr, group: &str) -> String {
    // SAFETY: the pointer comes from a `FairmasterParams` that outlives every call (the
    // callers keep it alive for the loop); nothing else touches it.
    let (name, default, min, max) = unsafe {
        (
            ptr.name(),
            ptr.normalized_value_to_string(ptr.default_normalized_value(), true),
            ptr.normalized_value_to_string(0.0, true),
            ptr.normalized_value_to_string(1.0, true),
        )
    };
    format!("| `{id}` | {name} | {group} | {min} … {max} | {default} |")
}

#[test]
fn readme_table_lists_every_parameter_with_its_real_range_and_default() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let params = FairmasterParams::default();
    let wrong: Vec<String> = params
        .param_map()
        .into_iter()
        .map(|(id, ptr, group)| table_row(&id, ptr, &group))
        .filter(|row| !readme.lines().any(|line| line == row))
        .collect();
    assert!(
        wrong.is_empty(),
        "README parameter table lacks these rows, or shows another range or default (print the \
         table with `cargo test --test readme -- --ignored --nocapture`):\n{}",
        wrong.join("\n")
    );
}

/// Every continuous parameter against the DSP range it must come from.
#[test]
fn every_float_parameter_has_the_range_and_default_its_dsp_module_declares() {
    let mut expected: Vec<(String, Range)> = vec![
        ("input_gain".into(), gain::GAIN_DB),
        ("output_gain".into(), gain::GAIN_DB),
        ("target_lufs".into(), CUSTOM_TARGET_LUFS),
        ("eq_lc_freq".into(), eq::LOW_CUT_FREQ_HZ),
        ("eq_hc_freq".into(), eq::HIGH_CUT_FREQ_HZ),
        ("eq_ls_freq".into(), eq::LOW_SHELF_FREQ_HZ),
        ("eq_ls_gain".into(), eq::GAIN_DB),
        ("eq_ls_q".into(), eq::SHELF_Q),
        ("eq_hs_freq".into(), eq::HIGH_SHELF_FREQ_HZ),
        ("eq_hs_gain".into(), eq::GAIN_DB),
        ("eq_hs_q".into(), eq::SHELF_Q),
        ("eq_match_amount".into(), matching::MATCH_AMOUNT),
        ("eq_match_width".into(), matching::MATCH_WIDTH),
        ("eq_match_smoothing".into(), matching::MATCH_SMOOTHING_OCT),
        ("eq_match_bound".into(), matching::MATCH_BOUND_DB),
        ("comp_threshold".into(), compressor::THRESHOLD_DB),
        ("comp_ratio".into(), compressor::RATIO),
        ("comp_knee".into(), compressor::KNEE_DB),
        ("comp_attack".into(), compressor::ATTACK_MS),
        ("comp_release".into(), compressor::RELEASE_MS),
        ("comp_sc_hpf".into(), compressor::SIDECHAIN_HPF_HZ),
        ("comp_mix".into(), compressor::MIX),
        ("comp_makeup".into(), compressor::MAKEUP_DB),
        ("st_width".into(), stereo::WIDTH),
        ("st_mono_bass".into(), stereo::MONO_BASS_HZ),
        ("sat_split1".into(), saturation::SPLIT_HZ[0]),
        ("sat_split2".into(), saturation::SPLIT_HZ[1]),
        ("sat_split3".into(), saturation::SPLIT_HZ[2]),
        ("sat_split4".into(), saturation::SPLIT_HZ[3]),
        ("ell_freq".into(), elliptical::CROSSOVER_HZ),
        ("hfl_limit".into(), hf_limiter::LIMIT_DB),
        ("hfl_split".into(), hf_limiter::SPLIT_HZ),
        ("hfl_release".into(), hf_limiter::RELEASE_MS),
        ("clip_drive".into(), clipper::DRIVE_DB),
        ("clip_ceiling".into(), clipper::CEILING_DB),
        ("lim_drive".into(), limiter::DRIVE_DB),
        ("lim_ceiling".into(), limiter::CEILING_DB),
        ("lim_release".into(), limiter::RELEASE_MS),
        ("lim_lookahead".into(), limiter::LOOKAHEAD_MS),
        ("mb_lookahead".into(), multiband::LOOKAHEAD_MS),
    ];
    for (i, range) in multiband::SPLIT_HZ.iter().enumerate() {
        expected.push((format!("mb_split{}", i + 1), *range));
    }
    for b in 1..=multiband::MAX_BANDS {
        for (what, range) in [
            ("threshold", multiband::THRESHOLD_DB),
            ("ratio", multiband::RATIO),
            ("knee", multiband::KNEE_DB),
            ("attack", multiband::ATTACK_MS),
            ("release", multiband::RELEASE_MS),
            ("range", multiband::RANGE_DB),
            ("makeup", multiband::MAKEUP_DB),
        ] {
            expected.push((format!("mb_b{b}_{what}"), range));
        }
    }
    for b in 1..=saturation::MAX_BANDS {
        expected.push((format!("sat_b{b}_drive"), saturation::DRIVE_DB));
        expected.push((format!("sat_b{b}_mix"), saturation::MIX_PERCENT));
    }
    for (i, freq) in eq::BELL_FREQ_HZ.iter().enumerate() {
        let b = i + 1;
        expected.push((format!("eq_b{b}_freq"), *freq));
        expected.push((format!("eq_b{b}_gain"), eq::GAIN_DB));
        expected.push((format!("eq_b{b}_q"), eq::BELL_Q));
    }
    // Dynamic EQ (issue 28): the shelves' and bells' dynamic parameters.
    for (slot, band) in ["ls", "b1", "b2", "b3", "b4", "hs"].iter().enumerate() {
        expected.push((format!("eq_{band}_dyn_thresh"), eq::DYN_THRESHOLD_DB));
        expected.push((format!("eq_{band}_dyn_range"), eq::DYN_RANGE_DB));
        expected.push((format!("eq_{band}_dyn_ratio"), eq::DYN_RATIO));
        expected.push((format!("eq_{band}_dyn_attack"), eq::DYN_ATTACK_MS));
        expected.push((format!("eq_{band}_dyn_release"), eq::DYN_RELEASE_MS));
        expected.push((
            format!("eq_{band}_dyn_det_freq"),
            eq::DYN_DETECTOR_FREQ_HZ[slot],
        ));
    }
    let params = FairmasterParams::default();
    let floats: Vec<(String, ParamPtr)> = params
        .param_map()
        .into_iter()
        .filter(|(_, ptr, _)| matches!(ptr, ParamPtr::FloatParam(_)))
        .map(|(id, ptr, _)| (id, ptr))
        .collect();
    assert_eq!(
        floats.len(),
        expected.len(),
        "a float parameter without a declared range (or a stale list here): {:?}",
        floats.iter().map(|(id, _)| id).collect::<Vec<_>>()
    );
    for (id, ptr) in &floats {
        let range = expected
            .iter()
            .find(|(e, _)| e == id)
            .unwrap_or_else(|| panic!("{id}: no DSP range listed"))
            .1;
        // SAFETY: as in `table_row`; `params` outlives the loop.
        let (min, max, default) = unsafe {
            (
                ptr.preview_plain(0.0),
                ptr.preview_plain(1.0),
                ptr.preview_plain(ptr.default_normalized_value()),
            )
        };
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * b.abs().max(1.0);
        assert!(
            close(min, range.min) && close(max, range.max) && close(default, range.default),
            "{id}: parameter {min} … {max} (default {default}), DSP {range:?}"
        );
    }
}

/// `cargo test --test readme -- --ignored --nocapture` prints the table rows.
#[test]
#[ignore]
fn print_parameter_table() {
    let params = FairmasterParams::default();
    for (id, ptr, group) in params.param_map() {
        println!("{}", table_row(&id, ptr, &group));
    }
}
