//! Whole-chain behaviour measured from outside: latency, null, block-size independence,
//! NaN recovery, true-peak ceiling of the default state, linear-phase EQ curve; and the
//! engine's output guarantees (no subnormal or non-finite sample, whatever comes in).

// Tests read best as "defaults, then the one change under test".
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::signals::white_noise;
use fairmaster::ab::AbSettings;
use fairmaster::chain::{Chain, MAX_CHUNK};
use fairmaster::dsp::filters::eq::EqPath;
use fairmaster::dsp::meters::true_peak::true_peak_dbtp;
use fairmaster::dsp::util::denormals::flush_to_zero_active;
use fairmaster::dsp::util::{db_to_gain, gain_to_db};
use fairmaster::engine::Engine;
use fairmaster::stages::{ChainSettings, StageId, StageOrder};

/// Settings with every module switched on but neutral: EQ flat, compressor ratio 1, width 100 %,
/// limiter on but not touching (signal far below the ceiling), dither off.
fn neutral_all_on(linear_phase: bool) -> ChainSettings {
    let mut s = ChainSettings::default();
    s.eq_enabled = true;
    s.eq_linear_phase = linear_phase;
    s.compressor.enabled = true;
    s.compressor.ratio = 1.0;
    s.stereo_enabled = true;
    s.stereo.width = 1.0;
    s.limiter.enabled = true;
    s
}

/// `base` with the saturation and the clipper on at the given oversampling factors (their
/// filters are the latency).
fn with_shapers(mut s: ChainSettings, saturation: usize, clipper: usize) -> ChainSettings {
    s.saturation.enabled = true;
    s.saturation.oversampling = saturation;
    s.clipper.enabled = true;
    s.clipper.oversampling = clipper;
    s
}

/// `base` with the clipper on at `factor`.
fn with_clipper(mut s: ChainSettings, factor: usize) -> ChainSettings {
    s.clipper.enabled = true;
    s.clipper.oversampling = factor;
    s
}

/// A realistic mastering setting with every module doing something.
fn busy_settings(linear_phase: bool) -> ChainSettings {
    fairmaster::presets::reference_master(linear_phase)
}

fn chain_at(fs: f32, settings: &ChainSettings) -> Chain {
    let mut c = Chain::new();
    c.set(settings);
    c.reset(fs);
    c
}

fn run(chain: &mut Chain, left: &mut [f32], right: &mut [f32], block: usize) {
    for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
        chain.process(l, r);
    }
}

fn impulse_delay(fs: f32, settings: &ChainSettings) -> (usize, u32) {
    let mut chain = chain_at(fs, settings);
    let latency = chain.latency_samples();
    let n = latency as usize + 4096;
    let mut l = vec![0.0f32; n];
    let mut r = vec![0.0f32; n];
    l[100] = 0.25;
    r[100] = 0.25;
    run(&mut chain, &mut l, &mut r, 333);
    let peak = l
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap()
        .0;
    (peak - 100, latency)
}

#[test]
fn reported_latency_equals_impulse_delay() {
    for fs in [44_100.0, 96_000.0] {
        for (name, settings) in [
            ("default", ChainSettings::default()),
            ("all on, minimum phase", busy_settings(false)),
            ("all on, linear phase", busy_settings(true)),
            ("neutral, linear phase", neutral_all_on(true)),
            (
                "saturation 4x, clipper 8x",
                with_shapers(neutral_all_on(false), 4, 8),
            ),
            (
                "saturation 16x, clipper 2x",
                with_shapers(neutral_all_on(false), 16, 2),
            ),
            (
                "saturation 1x, clipper 16x, linear phase",
                with_shapers(neutral_all_on(true), 1, 16),
            ),
            ("clipper 8x", with_clipper(neutral_all_on(false), 8)),
            ("clipper 2x", with_clipper(neutral_all_on(false), 2)),
        ] {
            let (delay, latency) = impulse_delay(fs, &settings);
            if settings.saturation.enabled {
                // The saturation's crossover sums to an all-pass (minimum phase: dispersion,
                // no pure delay, like the EQ's minimum-phase curves), which moves an impulse's
                // peak; the oversampling delay it reports is exact (`dsp::shaping::saturation`
                // tests it by the residual after the shift), and the figure a host reads must
                // still equal the chain's (below).
                assert!(delay >= latency as usize, "{name} at {fs} Hz: {delay}");
            } else {
                assert_eq!(delay, latency as usize, "{name} at {fs} Hz");
            }
            // What a host reads before activation (a reopened session): the same figure.
            assert_eq!(
                Chain::latency_for(&settings, fs),
                latency,
                "{name} at {fs} Hz: latency_for"
            );
        }
    }
}

#[test]
fn lookahead_changes_latency_exactly() {
    let mut s = ChainSettings::default();
    s.limiter.lookahead_ms = 5.0;
    let (delay, latency) = impulse_delay(48_000.0, &s);
    assert_eq!(delay, latency as usize);
    assert_eq!(Chain::latency_for(&s, 48_000.0), latency);
    assert_eq!(
        latency,
        240 + 42,
        "5 ms at 48 kHz plus the detector alignment (its 32-sample delay + 12 - 2)"
    );
}

#[test]
fn neutral_chain_nulls_against_delayed_input() {
    for linear_phase in [false, true] {
        let fs = 48_000.0;
        let settings = neutral_all_on(linear_phase);
        let mut chain = chain_at(fs, &settings);
        let latency = chain.latency_samples() as usize;
        let n = latency + 48_000;
        // -12 dBFS noise: far below the -1 dBTP ceiling, so the limiter does not touch it.
        let input_l: Vec<f32> = white_noise(n, 1, 1.0).iter().map(|x| x * 0.25).collect();
        let input_r: Vec<f32> = white_noise(n, 2, 1.0).iter().map(|x| x * 0.25).collect();
        let (mut l, mut r) = (input_l.clone(), input_r.clone());
        run(&mut chain, &mut l, &mut r, 512);
        let mut worst = 0.0f32;
        for i in latency..n {
            worst = worst
                .max((l[i] - input_l[i - latency]).abs())
                .max((r[i] - input_r[i - latency]).abs());
        }
        let worst_db = gain_to_db(worst);
        assert!(
            worst_db < -120.0,
            "linear_phase={linear_phase}: residual {worst_db:.1} dBFS"
        );
    }
}

#[test]
fn output_does_not_depend_on_block_size() {
    let fs = 44_100.0;
    let settings = busy_settings(false);
    let input = white_noise(30_000, 7, 1.0);
    let reference = {
        let mut c = chain_at(fs, &settings);
        let (mut l, mut r) = (input.clone(), white_noise(30_000, 8, 1.0));
        run(&mut c, &mut l, &mut r, MAX_CHUNK);
        (l, r)
    };
    for block in [1, 37, 480, 4096] {
        let mut c = chain_at(fs, &settings);
        let (mut l, mut r) = (input.clone(), white_noise(30_000, 8, 1.0));
        run(&mut c, &mut l, &mut r, block);
        let worst = l
            .iter()
            .zip(&reference.0)
            .chain(r.iter().zip(&reference.1))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-5,
            "block {block}: max difference {worst} vs 512-sample blocks"
        );
    }
}

#[test]
fn nan_burst_never_reaches_the_output_and_the_chain_recovers() {
    let fs = 48_000.0;
    for linear_phase in [false, true] {
        let settings = busy_settings(linear_phase);
        let mut chain = chain_at(fs, &settings);
        let latency = chain.latency_samples() as usize;
        let block = 512;
        let tone = |i: usize| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / fs).sin();
        let total = latency + 20 * block;
        let mut l: Vec<f32> = (0..total).map(tone).collect();
        let mut r = l.clone();
        // One block of NaN/Inf garbage.
        for i in 2 * block..3 * block {
            l[i] = if i % 2 == 0 { f32::NAN } else { f32::INFINITY };
            r[i] = f32::NEG_INFINITY;
        }
        run(&mut chain, &mut l, &mut r, block);
        assert!(
            l.iter().chain(&r).all(|x| x.is_finite()),
            "non-finite output (linear_phase={linear_phase})"
        );
        // After the burst has passed through the latency, the last blocks carry the tone again.
        let tail = &l[total - 4 * block..];
        let peak = tail.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(
            peak > 0.2,
            "no signal after recovery (peak {peak}, linear_phase={linear_phase})"
        );
    }
}

#[test]
fn default_state_holds_the_minus_one_dbtp_ceiling_on_hot_material() {
    let fs = 44_100.0;
    let mut settings = ChainSettings::default();
    settings.input_gain_db = 12.0;
    let mut chain = chain_at(fs, &settings);
    let n = 44_100;
    let mut l: Vec<f32> = white_noise(n, 3, 1.0);
    let mut r: Vec<f32> = white_noise(n, 4, 1.0);
    run(&mut chain, &mut l, &mut r, 256);
    let tp = true_peak_dbtp(&l, &r);
    assert!(
        tp <= -1.0 + 0.1,
        "true peak {tp:.3} dBTP above -1 dBTP + 0.1"
    );
    assert!(tp > -3.0, "limiter over-reduces: {tp:.3} dBTP");
}

#[test]
fn linear_phase_eq_matches_the_minimum_phase_magnitude() {
    // Measure both modes' responses to a sine and compare; the linear-phase curve must match
    // the minimum-phase one within 0.2 dB above 40 Hz at the default FIR length.
    let fs = 48_000.0;
    let settings = busy_settings(false);
    let eq = settings.eq;
    let mut only_eq = ChainSettings::default();
    only_eq.limiter.enabled = false;
    only_eq.eq_enabled = true;
    only_eq.eq = eq;
    for freq in [50.0f32, 90.0, 300.0, 1_000.0, 3_500.0, 9_000.0, 15_000.0] {
        let mut gains = [0.0f32; 2];
        for (k, linear_phase) in [false, true].into_iter().enumerate() {
            let mut s = only_eq;
            s.eq_linear_phase = linear_phase;
            let mut chain = chain_at(fs, &s);
            let latency = chain.latency_samples() as usize;
            let n = latency + 24_000;
            let amp = db_to_gain(-20.0);
            // Mono (L = R) input: the mid path.
            let mut l: Vec<f32> = (0..n)
                .map(|i| amp * (i as f32 * 2.0 * std::f32::consts::PI * freq / fs).sin())
                .collect();
            let mut r = l.clone();
            run(&mut chain, &mut l, &mut r, 512);
            let tail = &l[n - 12_000..];
            let rms = (tail.iter().map(|x| x * x).sum::<f32>() / tail.len() as f32).sqrt();
            gains[k] = gain_to_db(rms * std::f32::consts::SQRT_2 / amp);
        }
        let expected = eq.magnitude_db(freq as f64, fs as f64, EqPath::Mid) as f32;
        assert!(
            (gains[0] - expected).abs() < 0.05,
            "minimum phase at {freq} Hz: {} dB vs curve {expected}",
            gains[0]
        );
        assert!(
            (gains[1] - gains[0]).abs() < 0.2,
            "linear phase at {freq} Hz: {} dB vs minimum phase {} dB",
            gains[1],
            gains[0]
        );
    }
}

/// A sine of `amp` at `freq`, `n` samples at `fs`.
fn tone(fs: f32, freq: f32, amp: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (i as f32 * 2.0 * std::f32::consts::PI * freq / fs).sin())
        .collect()
}

/// Asserts no sample step exceeds what a tone of `amp` at `freq` (after at most +6 dB of EQ)
/// can take: a click would.
fn assert_no_click(out: &[f32], fs: f32, freq: f32, amp: f32) {
    let slope_bound = 2.0 * amp * 2.0 * std::f32::consts::PI * freq / fs;
    let worst_step = out
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(
        worst_step <= slope_bound,
        "step {worst_step} exceeds the tone's slope bound {slope_bound}"
    );
}

/// Plays a 200 Hz tone of 0.25 through a chain at 48 kHz in 256-frame blocks and applies
/// `after` from block 40 on; `each_block` sees the chain after every block. Returns the left
/// output.
fn switch_during_tone(
    before: &ChainSettings,
    after: &ChainSettings,
    mut each_block: impl FnMut(usize, &Chain),
) -> Vec<f32> {
    let mut chain = chain_at(TONE_FS, before);
    let mut l = tone(TONE_FS, TONE_HZ, TONE_AMP, 48_000);
    let mut r = l.clone();
    for (k, (lc, rc)) in l.chunks_mut(256).zip(r.chunks_mut(256)).enumerate() {
        if k == 40 {
            chain.set(after);
        }
        chain.process(lc, rc);
        each_block(k, &chain);
    }
    l
}

const TONE_FS: f32 = 48_000.0;
const TONE_HZ: f32 = 200.0;
const TONE_AMP: f32 = 0.25;

#[test]
fn structural_change_fades_and_reports_new_latency() {
    // Switch the EQ to linear phase while a tone plays: no step larger than the tone's own
    // slope, and the latency changes at the bottom of the fade.
    let mut s = busy_settings(false);
    s.limiter.enabled = false;
    s.compressor.enabled = false;
    let before = chain_at(TONE_FS, &s).latency_samples();
    let mut linear = s;
    linear.eq_linear_phase = true;
    let mut latency_after_switch = before;
    let l = switch_during_tone(&s, &linear, |_, chain| {
        latency_after_switch = chain.latency_samples();
    });
    assert_ne!(latency_after_switch, before);
    assert_no_click(&l, TONE_FS, TONE_HZ, TONE_AMP);
}

/// Orders of the movable stages: every choice of the first three (the rest follow in their
/// default order): 6·5·4 = 120 of the 720 for six stages.
fn every_stage_order() -> Vec<StageOrder> {
    let default = StageOrder::default();
    let ids = default.as_slice();
    let mut orders = Vec::new();
    for a in ids {
        for b in ids.iter().filter(|b| *b != a) {
            for c in ids.iter().filter(|c| *c != a && *c != b) {
                orders.push(StageOrder::from_keys(&[a.key(), b.key(), c.key()]));
            }
        }
    }
    orders
}

#[test]
fn reported_latency_equals_impulse_delay_for_every_stage_order() {
    let orders = every_stage_order();
    assert_eq!(
        orders.len(),
        120,
        "6 movable stages, the first three chosen: 120 orders"
    );
    for fs in [44_100.0, 96_000.0] {
        for linear_phase in [false, true] {
            for order in &orders {
                let mut settings = neutral_all_on(linear_phase);
                settings.order = *order;
                // The vinyl stages on too: the HF limiter's latency wherever it stands.
                settings.elliptical.enabled = true;
                settings.hf_limiter.enabled = true;
                let (delay, latency) = impulse_delay(fs, &settings);
                let name = format!("{order:?}, linear phase {linear_phase}, {fs} Hz");
                assert_eq!(delay, latency as usize, "{name}");
                assert_eq!(Chain::latency_for(&settings, fs), latency, "{name}");
            }
        }
    }
}

#[test]
fn stage_order_changes_the_sound_and_the_default_is_todays() {
    // EQ before or after the compressor: a compressor driven by a +6 dB low shelf reduces
    // more than one that sees the unboosted mix, so the outputs differ; the default order
    // (EQ -> compressor -> stereo) is the one every other test measured.
    let fs = 48_000.0;
    let mut s = busy_settings(false);
    s.eq.low_shelf.enabled = true;
    s.eq.low_shelf.gain_db = 6.0;
    assert_eq!(s.order, StageOrder::default());
    let render = |settings: &ChainSettings| {
        let mut chain = chain_at(fs, settings);
        let mut l = white_noise(48_000, 7, 0.3);
        let mut r = white_noise(48_000, 8, 0.3);
        run(&mut chain, &mut l, &mut r, 512);
        l
    };
    let eq_first = render(&s);
    s.order = StageOrder::default().moved(StageId::Compressor, 0);
    let compressor_first = render(&s);
    let difference = eq_first
        .iter()
        .zip(&compressor_first)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        difference > 1e-3,
        "moving the compressor before the EQ changed nothing ({difference})"
    );
}

#[test]
fn reorder_is_click_free_and_keeps_the_latency() {
    // Move the stereo stage first while a tone plays: the structural fade takes the switch,
    // so no step exceeds the tone's own slope, and the latency is unchanged.
    let mut s = busy_settings(true);
    s.limiter.enabled = false;
    s.compressor.enabled = false;
    let before = chain_at(TONE_FS, &s).latency_samples();
    let mut stereo_first = s;
    stereo_first.order = StageOrder::default().moved(StageId::Stereo, 0);
    let l = switch_during_tone(&s, &stereo_first, |k, chain| {
        assert_eq!(chain.latency_samples(), before, "block {k}");
    });
    assert_no_click(&l, TONE_FS, TONE_HZ, TONE_AMP);
    // The fade happened: the output dipped to silence around the switch.
    let quietest = l[40 * 256..50 * 256]
        .iter()
        .map(|x| x.abs())
        .fold(f32::MAX, f32::min);
    assert!(
        quietest < 1e-3,
        "no structural fade at the reorder ({quietest})"
    );
}

/// Input that provokes subnormals everywhere: a tone, a block of NaN/±Inf, subnormal noise
/// (|x| < f32::MIN_POSITIVE, what clap-validator's denormal test feeds), a tone decaying through
/// the subnormal range to 0, and digital silence.
fn denormal_torture(fs: f32, seed: u64) -> Vec<f32> {
    let second = fs as usize;
    let mut x: Vec<f32> = (0..second / 5)
        .map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / fs).sin())
        .collect();
    x.extend((0..512).map(|i| match i % 3 {
        0 => f32::NAN,
        1 => f32::INFINITY,
        _ => f32::NEG_INFINITY,
    }));
    x.extend(
        white_noise(second / 2, seed, 1.0)
            .iter()
            .map(|v| v * f32::MIN_POSITIVE),
    );
    // A 1 kHz tone whose exponential envelope falls from 0.5 to 1e-46 over the segment: it
    // passes the end of the normal range (1.2e-38) and the smallest subnormal (1.4e-45) in its
    // last sixth.
    let decay_len = second / 2;
    let rate = (1e-46f32 / 0.5).ln() / decay_len as f32;
    x.extend((0..decay_len).map(|i| {
        0.5 * (rate * i as f32).exp() * (i as f32 * 2.0 * std::f32::consts::PI * 1000.0 / fs).sin()
    }));
    x.extend(std::iter::repeat_n(0.0, second / 2));
    x
}

#[test]
fn engine_never_outputs_subnormal_or_non_finite_samples() {
    let fs = 48_000.0;
    let ab_cases = [
        ("A", AbSettings::default()),
        (
            "B matched",
            AbSettings {
                listen_original: true,
                ..AbSettings::default()
            },
        ),
        // B unmatched and the host bypass are plain copies of the delayed input: no arithmetic
        // touches them, so only the engine's output pass keeps subnormals out.
        (
            "B unmatched",
            AbSettings {
                listen_original: true,
                match_level: false,
                ..AbSettings::default()
            },
        ),
        (
            "host bypass",
            AbSettings {
                host_bypass: true,
                ..AbSettings::default()
            },
        ),
    ];
    let input_l = denormal_torture(fs, 1);
    let input_r = denormal_torture(fs, 2);
    assert!(input_l.iter().filter(|x| x.is_subnormal()).count() > 10_000);
    for linear_phase in [false, true] {
        for (what, ab) in ab_cases {
            for mono in [false, true] {
                if mono && linear_phase {
                    continue; // the mono path differs only in the channel handling
                }
                let mut engine = Engine::new();
                engine.set(&busy_settings(linear_phase), &ab);
                engine.reset(fs, false, mono);
                let mut l = input_l.clone();
                let mut r = input_r.clone();
                for (bl, br) in l.chunks_mut(480).zip(r.chunks_mut(480)) {
                    if mono {
                        engine.process_mono(bl);
                    } else {
                        engine.process_stereo(bl, br);
                    }
                    assert!(
                        !flush_to_zero_active(),
                        "the engine left flush-to-zero set on return"
                    );
                }
                let outputs = if mono { vec![&l] } else { vec![&l, &r] };
                for out in outputs {
                    let bad = out.iter().position(|x| !(x.is_normal() || *x == 0.0));
                    assert_eq!(
                        bad,
                        None,
                        "{what}, linear_phase={linear_phase}, mono={mono}: sample {:?}",
                        bad.map(|i| out[i])
                    );
                }
                // Not a silent engine: the tone at the start comes through.
                let peak = l[..fs as usize / 5]
                    .iter()
                    .fold(0.0f32, |m, x| m.max(x.abs()));
                assert!(peak > 0.1, "{what}: no signal (peak {peak})");
            }
        }
    }
}

/// Huge finite host values (1e30, `f32::MAX`) are clamped at the engine's input to +60 dBFS
/// (`util::condition_input`); the limiter then brings them to its ceiling like any other peak,
/// in the master and in the matched original. Without the clamp, the fuzz (`tests/fuzz.rs`,
/// default seed, in a session with the linear-phase EQ at 109 kHz) drove an `f32::MAX` input
/// out at +128.9 dBTP; this test pins the clamp's contract on simpler set-ups.
#[test]
fn huge_finite_input_is_limited_to_the_ceiling() {
    let fs = 48_000.0;
    for (what, ab) in [
        ("A", AbSettings::default()),
        (
            "B matched",
            AbSettings {
                listen_original: true,
                ..AbSettings::default()
            },
        ),
    ] {
        for (huge, drive_db, input_gain_db) in [
            (1e30f32, 0.0, 0.0),
            (-1e30, 12.0, -24.0),
            (f32::MAX, 0.0, 0.0),
            (f32::MAX, 12.0, -24.0),
            (f32::MIN, 24.0, 0.0),
            (1e4, 6.0, 0.0),
        ] {
            for linear_phase in [false, true] {
                let mut settings = if linear_phase {
                    busy_settings(true)
                } else {
                    ChainSettings::default()
                };
                settings.limiter.drive_db = drive_db;
                settings.input_gain_db = input_gain_db;
                let mut engine = Engine::new();
                engine.set(&settings, &ab);
                engine.reset(fs, false, false);
                let n = 24_000;
                let mut l = vec![0.0f32; n];
                let mut r = vec![0.0f32; n];
                // Loud noise first (the limiter's gain moves every sample, so its running gain
                // average carries rounding), then the huge values in silence and in the noise.
                let hot = white_noise(n, 7, 1.0);
                for (i, (a, b)) in l.iter_mut().zip(r.iter_mut()).enumerate() {
                    *a = if i < 12_000 { 4.0 * hot[i] } else { 0.0 };
                    *b = -*a;
                }
                l[6000] = huge;
                r[9000..9100].fill(huge);
                l[15_000] = huge;
                r[18_000] = huge;
                for (bl, br) in l.chunks_mut(256).zip(r.chunks_mut(256)) {
                    engine.process_stereo(bl, br);
                }
                let peak = l.iter().chain(&r).fold(0.0f32, |m, x| m.max(x.abs()));
                let ceiling = 10f32.powf(settings.limiter.ceiling_db / 20.0)
                    * 10f32.powf(settings.output_gain_db.max(0.0) / 20.0);
                assert!(
                peak <= ceiling * 1.001,
                "{what}, linear phase {linear_phase}, input {huge:e}, drive {drive_db} dB, input gain {input_gain_db} dB: output sample peak {peak} over the ceiling {ceiling}"
            );
            }
        }
    }
}

/// The match EQ's curve runs inside the EQ's linear-phase FIR: its mid and side gains are what
/// the curve says (sines through the whole chain, measured by their RMS), and the chain's
/// latency is the linear-phase EQ's alone (no second filter stacked on it).
#[test]
fn the_match_curve_is_folded_into_the_linear_phase_fir() {
    use fairmaster::dsp::filters::match_curve::{MatchCurve, MATCH_POINTS};
    let fs = 48_000.0;
    let plain = neutral_all_on(true);
    let mut matched = plain;
    matched.limiter.enabled = false;
    let mut curve = MatchCurve::FLAT;
    for i in 0..MATCH_POINTS {
        // +6 dB for the mid around 1 kHz (points 28..=38: 530 Hz to 1.9 kHz), -3 dB side.
        curve.mid_db[i] = if (28..=38).contains(&i) { 6.0 } else { 0.0 };
        curve.side_db[i] = -3.0;
    }
    matched.eq_match = curve;
    assert_eq!(impulse_delay(fs, &plain).1, impulse_delay(fs, &matched).1);
    let n = 48_000;
    let sine = |f: f32| -> Vec<f32> {
        (0..n)
            .map(|i| 0.1 * (2.0 * std::f32::consts::PI * f * i as f32 / fs).sin())
            .collect()
    };
    let rms_db = |x: &[f32]| {
        let tail = &x[n / 2..];
        10.0 * (tail.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / tail.len() as f64).log10()
    };
    // Mid: the same sine in both channels; side: opposite.
    for (side, want) in [(false, 6.0), (true, -3.0)] {
        let x = sine(1_000.0);
        let (mut l, mut r) = (
            x.clone(),
            x.iter()
                .map(|v| if side { -v } else { *v })
                .collect::<Vec<f32>>(),
        );
        let mut chain = chain_at(fs, &matched);
        run(&mut chain, &mut l, &mut r, 512);
        let gain = rms_db(&l) - rms_db(&x);
        assert!(
            (gain - want).abs() < 0.1,
            "side {side}: {gain:+.3} dB, want {want:+.1}"
        );
    }
}

/// The editor's match compares the reference with what enters the EQ: the chain pushes the
/// EQ stage's input (after the input gain, before the EQ's own change) into its tap.
#[test]
fn the_eq_input_tap_carries_what_enters_the_eq() {
    let fs = 48_000.0;
    let mut s = neutral_all_on(false);
    s.input_gain_db = 6.0;
    s.eq.bells[0].enabled = true;
    s.eq.bells[0].gain_db = 9.0;
    let mut chain = chain_at(fs, &s);
    let (producer, mut consumer) = fairmaster::shared_state::master_tap(1 << 16);
    chain.set_eq_input_tap(Some(producer));
    chain.set_eq_input_tap_enabled(true);
    let x = white_noise(8_000, 3, -20.0);
    let (mut l, mut r) = (x.clone(), x.clone());
    run(&mut chain, &mut l, &mut r, 333);
    let mut tapped = Vec::new();
    consumer.drain(
        |a, _| tapped.extend_from_slice(a),
        || panic!("no gap expected"),
    );
    assert_eq!(tapped.len(), x.len());
    let g = db_to_gain(6.0);
    for (t, v) in tapped.iter().zip(&x) {
        assert!(
            (t - g * v).abs() <= 1e-6 * (1.0 + v.abs()),
            "{t} vs {}",
            g * v
        );
    }
    // Off (a closed editor), nothing is pushed.
    chain.set_eq_input_tap_enabled(false);
    run(&mut chain, &mut l, &mut r, 333);
    let mut more = 0;
    consumer.drain(|a, _| more += a.len(), || {});
    assert_eq!(more, 0);
}
