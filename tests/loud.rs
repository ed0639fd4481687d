//! Loud without crushing (issue 27, item 1, "what it buys"): on real music, a clipper before
//! the limiter against the limiter alone at the same integrated loudness and ceiling, and the
//! loud case, a mix mastered to a loud reference's loudness at our ceiling with the "loud"
//! factory preset. Loudness by the `ebur128` crate, true peak by the independent reference
//! meter, the limiter's gain reduction as the chain reports it per 512-frame block.
//!
//! Print the README table with `cargo test --release --test loud -- --nocapture`.

#![allow(clippy::field_reassign_with_default)]

mod common;

use common::reference_true_peak::reference_true_peak_dbtp;
use fairmaster::ab::AbSettings;
use fairmaster::dsp::shaping::curves::ClipCurve;
use fairmaster::engine::Engine;
use fairmaster::stages::ChainSettings;

const FS: u32 = 44_100;
const BLOCK: usize = 512;

struct Master {
    integrated: f64,
    true_peak: f32,
    lra: f64,
    /// Fraction of blocks in which the limiter reduced by more than 0.5 dB.
    limiting_time: f64,
    max_gr_db: f32,
}

impl Master {
    fn plr(&self) -> f64 {
        f64::from(self.true_peak) - self.integrated
    }
}

fn master(chain: &ChainSettings, input: &(Vec<f32>, Vec<f32>)) -> Master {
    let mut e = Engine::new();
    e.set(chain, &AbSettings::default());
    e.reset(FS as f32, true, false);
    let (mut l, mut r) = input.clone();
    let (mut limiting, mut blocks, mut max_gr) = (0usize, 0usize, 0.0f32);
    for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        e.process_stereo(bl, br);
        let gr = e.chain_meters().limiter_gr_db;
        limiting += usize::from(gr > 0.5);
        blocks += 1;
        max_gr = max_gr.max(gr);
    }
    let latency = e.latency_samples() as usize;
    let (l, r) = (&l[latency..], &r[latency..]);
    let mut meter = ebur128::EbuR128::new(2, FS, ebur128::Mode::I | ebur128::Mode::LRA).unwrap();
    meter.add_frames_planar_f32(&[l, r]).unwrap();
    Master {
        integrated: meter.loudness_global().unwrap(),
        true_peak: reference_true_peak_dbtp(&[l, r]),
        lra: meter.loudness_range().unwrap(),
        limiting_time: limiting as f64 / blocks as f64,
        max_gr_db: max_gr,
    }
}

/// The gain (applied by `set_gain`) that makes the master reach `target` LUFS, by bisection.
fn reach(
    target: f64,
    input: &(Vec<f32>, Vec<f32>),
    set_gain: impl Fn(f32) -> ChainSettings,
) -> (f32, Master) {
    let (mut lo, mut hi) = (-12.0f32, 24.0f32);
    let mut best = (0.0, master(&set_gain(0.0), input));
    for _ in 0..14 {
        let mid = 0.5 * (lo + hi);
        let m = master(&set_gain(mid), input);
        if m.integrated < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if (m.integrated - target).abs() < (best.1.integrated - target).abs() {
            best = (mid, m);
        }
        if (best.1.integrated - target).abs() < 0.05 {
            break;
        }
    }
    best
}

fn row(name: &str, gain: f32, m: &Master) {
    eprintln!(
        "| {name} | {gain:.1} dB | {:.2} LUFS | {:+.2} dBTP | {:.1} % | {:.1} dB | {:.1} dB | {:.1} LU |",
        m.integrated,
        m.true_peak,
        100.0 * m.limiting_time,
        m.max_gr_db,
        m.plr(),
        m.lra
    );
}

#[test]
fn a_clipper_before_the_limiter_takes_the_peaks_the_limiter_would_pump_for() {
    let Some(path) = common::real_music::pushover("mechanic") else {
        return;
    };
    let input = common::real_music::excerpt(&path, FS, 20.0, 20.0);
    // Both to -9 LUFS at -1 dBTP: 5 LU over the mix.
    let target = -9.0;
    // The input gain brings the level; the clipper (3 dB of drive into the limiter's ceiling)
    // takes the top of the peaks, the limiter the rest.
    let limiter_alone = |gain: f32| {
        let mut s = ChainSettings::default();
        s.input_gain_db = gain;
        s
    };
    let with_clipper = |gain: f32| {
        let mut s = limiter_alone(gain);
        s.clipper.enabled = true;
        s.clipper.curve = ClipCurve::Soft;
        s.clipper.oversampling = 8;
        s.clipper.drive_db = 3.0;
        s.clipper.ceiling_db = -1.0;
        s
    };
    let (ga, a) = reach(target, &input, limiter_alone);
    let (gb, b) = reach(target, &input, with_clipper);
    eprintln!(
        "| chain | input gain | integrated | true peak | limiter > 0.5 dB | max GR | PLR | LRA |"
    );
    eprintln!("|---|---|---|---|---|---|---|---|");
    row("limiter alone", ga, &a);
    row("clipper 3 dB (soft, 8x) + limiter", gb, &b);
    for (name, m) in [("limiter alone", &a), ("clipper + limiter", &b)] {
        assert!(
            (m.integrated - target).abs() < 0.1,
            "{name}: {:.2} LUFS",
            m.integrated
        );
        assert!(
            m.true_peak <= -1.0 + 0.1,
            "{name}: {:+.2} dBTP",
            m.true_peak
        );
    }
    assert!(
        b.limiting_time < a.limiting_time,
        "the clipper should leave the limiter less to do: {:.1} % against {:.1} %",
        100.0 * b.limiting_time,
        100.0 * a.limiting_time
    );
    assert!(
        b.max_gr_db < a.max_gr_db,
        "max GR {} against {}",
        b.max_gr_db,
        a.max_gr_db
    );
    assert!(
        b.lra >= a.lra - 0.3,
        "LRA {:.1} against {:.1}",
        b.lra,
        a.lra
    );
}

/// The loud case: a mix mastered to the loudness a loud, clipped reference would have
/// at our ceiling, with the "loud" preset and the input gain alone.
#[test]
fn the_loud_preset_reaches_a_loud_reference_without_limiting_all_the_time() {
    let (Some(mix), Some(reference)) = (
        common::real_music::pushover("mechanic"),
        common::real_music::muldjord("armygeddon"),
    ) else {
        return;
    };
    let input = common::real_music::excerpt(&mix, FS, 20.0, 20.0);
    let (rl, rr) = common::real_music::excerpt(&reference, FS, 20.0, 20.0);
    let ref_integrated = common::loudness::ebur128_stereo(&rl, &rr, FS);
    let ref_peak = f64::from(reference_true_peak_dbtp(&[&rl, &rr]));
    let ceiling = -1.0;
    // What the reference would read at our ceiling.
    let target = ref_integrated - (ref_peak - ceiling).max(0.0);
    let preset = fairmaster::presets::factory_preset("loud").unwrap();
    let loud = |gain: f32| {
        let mut s = (preset.settings)();
        s.input_gain_db = gain;
        s
    };
    let (gain, m) = reach(target, &input, loud);
    eprintln!(
        "reference: {ref_integrated:.2} LUFS, {ref_peak:+.2} dBTP, PLR {:.1} dB -> {target:.2} \
         LUFS at {ceiling} dBTP",
        ref_peak - ref_integrated
    );
    eprintln!(
        "| chain | input gain | integrated | true peak | limiter > 0.5 dB | max GR | PLR | LRA |"
    );
    eprintln!("|---|---|---|---|---|---|---|---|");
    row("\"loud\" preset", gain, &m);
    let limiter_alone = |gain: f32| {
        let mut s = ChainSettings::default();
        s.input_gain_db = gain;
        s
    };
    let (ga, a) = reach(target, &input, limiter_alone);
    row("limiter alone", ga, &a);
    assert!(
        (m.integrated - target).abs() <= 0.5,
        "{:.2} LUFS against {target:.2}",
        m.integrated
    );
    assert!(
        m.true_peak <= (ceiling + 0.1) as f32,
        "{:+.2} dBTP",
        m.true_peak
    );
    assert!(
        m.limiting_time < 0.5,
        "limiting {:.1} % of the time",
        100.0 * m.limiting_time
    );
    assert!(
        m.plr() >= ref_peak - ref_integrated - 0.5,
        "PLR {:.1} dB against the reference's {:.1}",
        m.plr(),
        ref_peak - ref_integrated
    );
}
