//! Acceptance tests of the level-matched A/B (issue: "Level-matched A/B bypass and loudness
//! metering"), measured through the same `Engine` the plugin runs.

#![allow(clippy::field_reassign_with_default)]

mod common;

use common::signals::{max_deviation_from_delayed, multitone_mix, pink_noise, sine};
use fairmaster::ab::{AbSettings, AB_FADE_SECONDS, MATCH_RANGE_DB};
use fairmaster::dsp::filters::eq::{BandChannels, BellBand, EqSettings, ShelfBand};
use fairmaster::dsp::meters::loudness::integrated_loudness;
use fairmaster::dsp::meters::true_peak::true_peak_dbtp;
use fairmaster::engine::Engine;
use fairmaster::stages::ChainSettings;

const FS: f32 = 48_000.0;

/// "+6 dB drive into the limiter plus a tonal EQ move".
fn loud_tonal_master() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.limiter.drive_db = 6.0;
    s.eq_enabled = true;
    let d = EqSettings::default();
    s.eq = EqSettings {
        high_shelf: ShelfBand {
            enabled: true,
            freq_hz: 8_000.0,
            gain_db: 3.0,
            q: 0.7,
            channels: BandChannels::Stereo,
        },
        bells: [
            BellBand {
                enabled: true,
                freq_hz: 300.0,
                gain_db: -2.5,
                q: 1.0,
                channels: BandChannels::Stereo,
            },
            d.bells[1],
            d.bells[2],
            d.bells[3],
        ],
        ..d
    };
    s
}

fn engine(chain: &ChainSettings, ab: &AbSettings) -> Engine {
    let mut e = Engine::new();
    e.set(chain, ab);
    e.reset(FS, false, false);
    e
}

fn run(e: &mut Engine, left: &mut [f32], right: &mut [f32], block: usize) {
    for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
        e.process_stereo(l, r);
    }
}

/// Integrated loudness by the independent `ebur128` crate.
fn ebur128_integrated(left: &[f32], right: &[f32]) -> f64 {
    common::loudness::ebur128_stereo(left, right, FS as u32)
}

/// Plays the same programme through an engine hearing A and one hearing B; returns the
/// integrated loudness (own meter, ebur128) of both over the last 10 s of 20 s.
fn a_and_b_loudness(left: &[f32], right: &[f32]) -> [(f64, f64); 2] {
    let chain = loud_tonal_master();
    let mut out = [(0.0, 0.0); 2];
    for (k, listen_original) in [false, true].into_iter().enumerate() {
        let ab = AbSettings {
            listen_original,
            ..AbSettings::default()
        };
        let mut e = engine(&chain, &ab);
        let (mut l, mut r) = (left.to_vec(), right.to_vec());
        run(&mut e, &mut l, &mut r, 512);
        let half = l.len() / 2;
        out[k] = (
            integrated_loudness(&l[half..], Some(&r[half..]), FS),
            ebur128_integrated(&l[half..], &r[half..]),
        );
    }
    out
}

fn assert_matched(name: &str, [(a_own, a_ref), (b_own, b_ref)]: [(f64, f64); 2]) {
    eprintln!("{name}: A {a_own:.2} LUFS (ebur128 {a_ref:.2}), B {b_own:.2} (ebur128 {b_ref:.2})");
    assert!(
        (a_own - a_ref).abs() < 0.1,
        "{name}: own meter vs ebur128 on A"
    );
    assert!(
        (b_own - b_ref).abs() < 0.1,
        "{name}: own meter vs ebur128 on B"
    );
    assert!(
        (a_own - b_own).abs() <= 0.3,
        "{name}: B is {:.2} LU from A",
        b_own - a_own
    );
}

#[test]
fn b_matches_a_within_0_3_lu_on_pink_noise() {
    let n = (20.0 * FS) as usize;
    let l = pink_noise(n, 1, -20.0);
    let r = pink_noise(n, 2, -20.0);
    assert_matched("pink noise", a_and_b_loudness(&l, &r));
}

#[test]
fn b_matches_a_within_0_3_lu_on_a_multitone_mix() {
    let (l, r) = multitone_mix((20.0 * FS) as usize, FS);
    assert_matched("multitone mix", a_and_b_loudness(&l, &r));
}

#[test]
fn processing_really_is_louder_so_the_match_is_not_trivial() {
    // Guard: the processed master must be clearly louder than the original here, or the test
    // above would pass without any matching at all.
    let n = (20.0 * FS) as usize;
    let l = pink_noise(n, 1, -20.0);
    let r = pink_noise(n, 2, -20.0);
    let [(a, _), _] = a_and_b_loudness(&l, &r);
    let original = integrated_loudness(&l[n / 2..], Some(&r[n / 2..]), FS);
    assert!(
        a - original > 3.0,
        "master {a:.2} vs original {original:.2}"
    );
}

#[test]
fn unmatched_b_is_the_delayed_input() {
    let chain = loud_tonal_master();
    let ab = AbSettings {
        listen_original: true,
        match_level: false,
        ..AbSettings::default()
    };
    let mut e = engine(&chain, &ab);
    let latency = e.latency_samples() as usize;
    let n = 3 * 48_000;
    let in_l = pink_noise(n, 3, -10.0);
    let in_r = pink_noise(n, 4, -10.0);
    let (mut l, mut r) = (in_l.clone(), in_r.clone());
    run(&mut e, &mut l, &mut r, 300);
    let worst = max_deviation_from_delayed((&l, &r), (&in_l, &in_r), latency, latency);
    let worst_db = 20.0 * worst.max(1e-12).log10();
    assert!(
        worst_db < -120.0,
        "B differs from delayed input: {worst_db:.1} dBFS"
    );
}

#[test]
fn neutral_chain_a_and_b_null() {
    // Neutral chain: A is the delayed input; matched B must be sample-aligned with it.
    let mut chain = ChainSettings::default();
    chain.limiter.enabled = false;
    let n = 4 * 48_000;
    let in_l = pink_noise(n, 5, -18.0);
    let in_r = pink_noise(n, 6, -18.0);
    let mut outs = Vec::new();
    for listen_original in [false, true] {
        let ab = AbSettings {
            listen_original,
            ..AbSettings::default()
        };
        let mut e = engine(&chain, &ab);
        let (mut l, mut r) = (in_l.clone(), in_r.clone());
        run(&mut e, &mut l, &mut r, 512);
        outs.push((l, r));
    }
    let worst = outs[0]
        .0
        .iter()
        .zip(&outs[1].0)
        .chain(outs[0].1.iter().zip(&outs[1].1))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let worst_db = 20.0 * worst.max(1e-12).log10();
    assert!(worst_db < -120.0, "A and B do not null: {worst_db:.1} dBFS");
}

/// Magnitude spectrum (Hann window) of `x`, by direct DFT at the given bins.
fn hann_spectrum_db(x: &[f32], fs: f32, freqs: impl Iterator<Item = f32>) -> Vec<(f32, f32)> {
    let n = x.len();
    let w: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect();
    freqs
        .map(|f| {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (i, (&s, &wi)) in x.iter().zip(&w).enumerate() {
                let ph = 2.0 * std::f64::consts::PI * f as f64 * i as f64 / fs as f64;
                re += s as f64 * wi * ph.cos();
                im -= s as f64 * wi * ph.sin();
            }
            (f, 10.0 * ((re * re + im * im).max(1e-30)).log10() as f32)
        })
        .collect()
}

/// Energy far from the tone (>= 4 kHz) relative to the tone, around a switch at `at`.
fn switch_splatter_db(out: &[f32], at: usize) -> f32 {
    let win = &out[at - 2048..at + 2048];
    let tone = hann_spectrum_db(win, FS, std::iter::once(1_000.0))[0].1;
    let worst = hann_spectrum_db(win, FS, (0..80).map(|k| 4_000.0 + k as f32 * 250.0))
        .into_iter()
        .map(|(_, db)| db)
        .fold(f32::NEG_INFINITY, f32::max);
    worst - tone
}

#[test]
fn switching_a_and_b_is_click_free_on_a_sine() {
    // A and B differ in level and phase here (a high shelf below the tone shifts its phase,
    // the limiter is driven), so a hard switch clicks; the equal-power crossfade must keep the
    // transient 60 dB under the tone, with matching on and off.
    let mut chain = loud_tonal_master();
    chain.eq.high_shelf.freq_hz = 1_500.0;
    chain.eq.high_shelf.gain_db = 6.0;
    let n = 8 * 48_000;
    let tone = sine(n, 1_000.0, FS, 0.25);
    let switch_at = 6 * 48_000;
    let block = 256;
    for match_level in [true, false] {
        let mut ab = AbSettings {
            match_level,
            ..AbSettings::default()
        };
        let mut e = engine(&chain, &ab);
        let (mut l, mut r) = (tone.clone(), tone.clone());
        for (k, (lc, rc)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
            if k * block == switch_at {
                ab.listen_original = true;
                e.set(&chain, &ab);
            }
            e.process_stereo(lc, rc);
        }
        let smooth = switch_splatter_db(&l, switch_at + (AB_FADE_SECONDS * FS) as usize / 2);
        assert!(
            smooth < -60.0,
            "match_level={match_level}: crossfade transient {smooth:.1} dB re tone"
        );

        // The measurement catches clicks: splice A and B hard at the same point.
        let run_one = |listen_original: bool| {
            let ab = AbSettings {
                listen_original,
                match_level,
                ..AbSettings::default()
            };
            let mut e = engine(&chain, &ab);
            let (mut l, mut r) = (tone.clone(), tone.clone());
            run(&mut e, &mut l, &mut r, block);
            l
        };
        let (a, b) = (run_one(false), run_one(true));
        let hard: Vec<f32> = a[..switch_at]
            .iter()
            .chain(&b[switch_at..])
            .copied()
            .collect();
        let hard_db = switch_splatter_db(&hard, switch_at);
        eprintln!(
            "match_level={match_level}: switch transient {smooth:.1} dB with the crossfade, \
             {hard_db:.1} dB for a hard splice (re tone)"
        );
        if !match_level {
            // Unmatched, A and B differ by several dB: a hard splice must register as a click,
            // or the measurement would not be able to fail.
            assert!(hard_db > -60.0, "hard splice should click: {hard_db:.1} dB");
        }
    }
}

#[test]
fn offline_render_always_outputs_the_master() {
    let chain = loud_tonal_master();
    let (l0, r0) = multitone_mix(2 * 48_000, FS);
    let mut outs = Vec::new();
    for listen_original in [false, true] {
        let ab = AbSettings {
            listen_original,
            ..AbSettings::default()
        };
        let mut e = Engine::new();
        e.set(&chain, &ab);
        e.reset(FS, true, false);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        run(&mut e, &mut l, &mut r, 1000);
        outs.push((l, r));
    }
    assert_eq!(
        outs[0], outs[1],
        "offline output must ignore the A/B switch"
    );
}

#[test]
fn match_offset_holds_during_silence_and_when_frozen() {
    let chain = loud_tonal_master();
    let mut ab = AbSettings::default();
    let mut e = engine(&chain, &ab);
    let n = 12 * 48_000;
    let (mut l, mut r) = (pink_noise(n, 7, -20.0), pink_noise(n, 8, -20.0));
    run(&mut e, &mut l, &mut r, 512);
    let settled = e.ab_status().match_offset_db;
    assert!(settled > 3.0, "expected a positive offset, got {settled}");
    // Ten seconds of silence: the offset must not move.
    let (mut l, mut r) = (vec![0.0; 10 * 48_000], vec![0.0; 10 * 48_000]);
    run(&mut e, &mut l, &mut r, 512);
    let after_silence = e.ab_status().match_offset_db;
    assert!(
        (after_silence - settled).abs() < 0.05,
        "{settled} -> {after_silence}"
    );
    // Frozen: a much louder programme (heavy limiting, smaller offset) must not move it.
    ab.freeze = true;
    e.set(&chain, &ab);
    let (mut l, mut r) = (pink_noise(n, 9, -8.0), pink_noise(n, 10, -8.0));
    run(&mut e, &mut l, &mut r, 512);
    let frozen = e.ab_status().match_offset_db;
    assert_eq!(frozen, after_silence);
    // Unfrozen: it follows the new material (a different limiting depth on both paths).
    ab.freeze = false;
    e.set(&chain, &ab);
    let (mut l, mut r) = (pink_noise(n, 11, -8.0), pink_noise(n, 12, -8.0));
    run(&mut e, &mut l, &mut r, 512);
    let followed = e.ab_status().match_offset_db;
    assert!(
        (followed - frozen).abs() > 1.0,
        "frozen {frozen} -> unfrozen {followed}"
    );
}

#[test]
fn match_offset_is_clamped() {
    let mut chain = ChainSettings::default();
    chain.limiter.enabled = false;
    chain.input_gain_db = 24.0;
    chain.output_gain_db = 24.0;
    let mut e = engine(&chain, &AbSettings::default());
    let n = 15 * 48_000;
    // A -50 dBFS original played 48 dB louder: the offset wants +48 dB and stops at the clamp.
    let (mut l, mut r) = (pink_noise(n, 13, -50.0), pink_noise(n, 14, -50.0));
    run(&mut e, &mut l, &mut r, 512);
    let offset = e.ab_status().match_offset_db;
    assert!(offset <= MATCH_RANGE_DB + 1e-3, "{offset}");
    assert!(offset > MATCH_RANGE_DB - 1.0, "{offset}");
}

#[test]
fn raised_original_never_exceeds_the_ceiling() {
    // The original peaks near full scale; the master is much louder, so matching raises the
    // original by several dB. The B safety limiter must hold it at the master's ceiling.
    let chain = loud_tonal_master();
    let ab = AbSettings {
        listen_original: true,
        ..AbSettings::default()
    };
    let mut e = engine(&chain, &ab);
    let (mut l, mut r) = multitone_mix(12 * 48_000, FS);
    run(&mut e, &mut l, &mut r, 512);
    let offset = e.ab_status().match_offset_db;
    assert!(offset > 2.0, "original should be raised, offset {offset}");
    let tail = 6 * 48_000;
    let tp = true_peak_dbtp(&l[tail..], &r[tail..]);
    assert!(
        tp <= chain.limiter.ceiling_db + 0.1,
        "B true peak {tp:.2} dBTP"
    );
}

/// A run that hears A until `switch_at`, then B; returns the output.
fn switched_run(
    chain: &ChainSettings,
    left: &[f32],
    right: &[f32],
    switches: &[(usize, bool)],
) -> (Vec<f32>, Vec<f32>) {
    let mut ab = AbSettings::default();
    let mut e = engine(chain, &ab);
    let (mut l, mut r) = (left.to_vec(), right.to_vec());
    let block = 480;
    for (k, (lc, rc)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
        for &(at, listen_original) in switches {
            if k * block == at {
                ab.listen_original = listen_original;
                e.set(chain, &ab);
            }
        }
        e.process_stereo(lc, rc);
    }
    (l, r)
}

#[test]
fn b_switched_in_mid_programme_is_matched_and_peak_safe_at_once() {
    // The B path (safety limiter, loss meters) only runs while B is audible. Switched in after
    // 8 s of A, B must be peak-safe from its first sample and matched over the next 10 s;
    // switched in a second time it must be matched from the first seconds, using the
    // limiter loss kept from the first time.
    let chain = loud_tonal_master();
    let (l0, r0) = multitone_mix(40 * 48_000, FS);
    let s = |seconds: usize| seconds * 48_000;
    let (a_l, a_r) = switched_run(&chain, &l0, &r0, &[]);
    let (b_l, b_r) = switched_run(
        &chain,
        &l0,
        &r0,
        &[(s(8), true), (s(18), false), (s(26), true)],
    );
    let fade = (AB_FADE_SECONDS * FS) as usize;
    // Peak safety right after each switch's fade. (During the 20 ms equal-power fade itself,
    // A and B are correlated and can sum up to 3 dB over either; see the README.)
    for start in [s(8) + fade, s(26) + fade] {
        let tp = true_peak_dbtp(&b_l[start..start + s(1)], &b_r[start..start + s(1)]);
        assert!(
            tp <= chain.limiter.ceiling_db + 0.1,
            "B true peak {tp:.2} dBTP right after the switch at {start}"
        );
    }
    let loudness = |l: &[f32], r: &[f32], from: usize, to: usize| {
        integrated_loudness(&l[from..to], Some(&r[from..to]), FS)
    };
    let first = loudness(&b_l, &b_r, s(8) + fade, s(18)) - loudness(&a_l, &a_r, s(8) + fade, s(18));
    let again =
        loudness(&b_l, &b_r, s(26) + fade, s(29)) - loudness(&a_l, &a_r, s(26) + fade, s(29));
    eprintln!("B - A: {first:+.3} LU over 10 s after the first switch, {again:+.3} LU over the first 3 s after the second");
    assert!(
        first.abs() <= 0.3,
        "first switch: B is {first:+.2} LU from A"
    );
    assert!(
        again.abs() <= 0.3,
        "second switch: B is {again:+.2} LU from A"
    );
}
