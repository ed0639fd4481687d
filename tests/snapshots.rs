//! Snapshots compared at matched loudness (issue 15), through the `Engine` the plugin runs and
//! the `SnapshotBank` the editor drives, measured by an independent meter (the `ebur128`
//! crate): two versions a +3 dB limiter drive apart, switched back and forth on programme
//! material, play within 0.3 LU of each other with match on, and differ by their real amount
//! with it off. The switch itself is click-free.

mod common;

use std::collections::BTreeMap;

use common::signals::{largest_step, multitone_mix};
use fairmaster::engine::Engine;
use fairmaster::presets::param_set::{version_values, ParamSet};
use fairmaster::snapshots::{SnapshotBank, SnapshotStats};
use serde_json::Value;

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;
/// How often the editor hands the meters to the bank (its `OBSERVE_INTERVAL_SECONDS`).
const OBSERVE_EVERY: usize = (0.25 * FS as f64) as usize;

fn integrated(left: &[f32], right: &[f32]) -> f64 {
    common::loudness::ebur128_stereo(left, right, FS as u32)
}

/// The plugin and its editor, reduced to what a snapshot compare touches: the parameters
/// (a `ParamSet`, the plugin's own parameter struct), the engine, the bank, and the
/// programme looping through.
struct Session {
    set: Box<ParamSet>,
    engine: Engine,
    bank: SnapshotBank,
    mix: (Vec<f32>, Vec<f32>),
    position: usize,
    match_on: bool,
}

impl Session {
    fn new() -> Self {
        Self::with(
            ParamSet::builtin("reference").unwrap(),
            multitone_mix(8 * FS as usize, FS),
        )
    }

    fn with(set: Box<ParamSet>, mix: (Vec<f32>, Vec<f32>)) -> Self {
        let mut engine = Engine::new();
        engine.set(&set.chain_settings(), &set.ab_settings());
        engine.reset(FS, false, false);
        Self {
            set,
            engine,
            bank: SnapshotBank::default(),
            mix,
            position: 0,
            match_on: true,
        }
    }

    /// Plays `seconds` of the looping programme, as the host would, with the editor's
    /// measurement hand-off every quarter second; returns what was heard.
    fn play(&mut self, seconds: f32) -> (Vec<f32>, Vec<f32>) {
        let frames = (seconds * FS) as usize;
        let (mut out_l, mut out_r) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
        let mut since_observe = 0;
        while out_l.len() < frames {
            let n = BLOCK.min(frames - out_l.len());
            let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
            for i in 0..n {
                let k = (self.position + i) % self.mix.0.len();
                l[i] = self.mix.0[k];
                r[i] = self.mix.1[k];
            }
            self.position += n;
            let mut ab = self.set.ab_settings();
            ab.version_gain_db = if self.match_on {
                self.bank.match_gain_db()
            } else {
                0.0
            };
            self.engine.set(&self.set.chain_settings(), &ab);
            self.engine.process_stereo(&mut l, &mut r);
            out_l.extend_from_slice(&l);
            out_r.extend_from_slice(&r);
            since_observe += n;
            if since_observe >= OBSERVE_EVERY {
                since_observe = 0;
                let (original, master) = self.engine.readings();
                let measured = SnapshotStats::from_readings(
                    &original,
                    &master,
                    self.engine.measured_seconds(),
                );
                self.bank
                    .observe(&version_values(self.set.params()), measured);
            }
        }
        (out_l, out_r)
    }

    fn store(&mut self, slot: usize) {
        let (original, master) = self.engine.readings();
        let stats =
            SnapshotStats::from_readings(&original, &master, self.engine.measured_seconds());
        self.bank
            .store(slot, version_values(self.set.params()), 0, stats);
        self.engine.reset_measurement();
    }

    fn recall(&mut self, slot: usize) {
        let values: BTreeMap<String, Value> = self.bank.recall(slot).unwrap();
        self.set.apply_values(&values).unwrap();
        self.engine.reset_measurement();
    }
}

#[test]
fn snapshots_a_drive_apart_play_matched_and_differ_by_the_real_amount_unmatched() {
    let mut s = Session::new();
    // Version 1: the reference master. Version 2: the same with +3 dB limiter drive.
    s.play(10.0);
    s.store(0);
    let drive = s.set.chain_settings().limiter.drive_db;
    s.set
        .set_text("lim_drive", &(drive + 3.0).to_string())
        .unwrap();
    s.play(10.0);
    s.store(1);
    let saved = s.bank.saved();
    let (one, two) = (
        saved.slots[0].as_ref().unwrap().stats.unwrap(),
        saved.slots[1].as_ref().unwrap().stats.unwrap(),
    );
    let real = two.gain_over_original_db - one.gain_over_original_db;
    assert!(
        real > 1.0,
        "+3 dB drive made the master {real:.2} dB louder"
    );

    // Back and forth, match on: every hearing within 0.3 LU of the others. The first second
    // after each switch (the chain settling, the gain's ramp) is measured too.
    let mut heard = Vec::new();
    for slot in [0, 1, 0, 1] {
        s.recall(slot);
        let (l, r) = s.play(8.0);
        heard.push(integrated(&l, &r));
    }
    let spread = heard.iter().cloned().fold(f64::MIN, f64::max)
        - heard.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread < 0.3,
        "matched: {heard:.2?} LUFS, spread {spread:.2} LU (match gain {:.2} dB)",
        s.bank.match_gain_db()
    );
    // The louder version was turned down, the quieter one plays as it is.
    s.recall(1);
    assert!((s.bank.match_gain_db() + real).abs() < 0.3);

    // The figures kept per snapshot have followed the hearings (measured while heard).
    let saved = s.bank.saved();
    let kept: Vec<f32> = [0, 1]
        .iter()
        .map(|&i| {
            saved.slots[i]
                .as_ref()
                .unwrap()
                .stats
                .unwrap()
                .gain_over_original_db
        })
        .collect();
    let real = kept[1] - kept[0];

    // Match off: they differ by the real amount.
    s.match_on = false;
    let mut unmatched = Vec::new();
    for slot in [0, 1] {
        s.recall(slot);
        let (l, r) = s.play(8.0);
        unmatched.push(integrated(&l, &r));
    }
    let difference = unmatched[1] - unmatched[0];
    eprintln!(
        "gain over the mix at store: {:.2} and {:.2} dB, kept after the hearings: {kept:.2?}; \
         matched {heard:.2?} LUFS (spread {spread:.2} LU); unmatched {unmatched:.2?} LUFS \
         ({difference:.2} LU apart)",
        one.gain_over_original_db, two.gain_over_original_db
    );
    assert!(
        (difference - f64::from(real)).abs() < 0.3 && difference > 1.0,
        "unmatched: {unmatched:.2?} LUFS, {difference:.2} LU apart, measured {real:.2}"
    );
}

/// A recall that changes the level several ways at once: the limiter drive (+6 dB), an EQ
/// bell on the tone (+3 dB), and the match gain taking both back off (-9 dB). On a 1 kHz sine
/// every gain change ramps (the chain's own smoothing and the match gain's 20 ms ramp), so the
/// largest sample-to-sample step stays the sine's own; a gain that jumped would add a step of
/// 0.1 x (1 - 10^(-9/20)) = 0.065, five times the sine's 0.013.
#[test]
fn a_matched_recall_is_click_free() {
    let tone = common::signals::sine(8 * FS as usize, 1000.0, FS, 0.1);
    let mut s = Session::with(
        ParamSet::builtin("plugin-default").unwrap(),
        (tone.clone(), tone),
    );
    s.play(4.0);
    s.store(0);
    for (id, value) in [
        ("lim_drive", "6"),
        ("eq_on", "true"),
        ("eq_b1_on", "true"),
        ("eq_b1_freq", "1000"),
        ("eq_b1_gain", "3"),
    ] {
        s.set.set_text(id, value).unwrap();
    }
    s.play(4.0);
    s.store(1);
    assert!(
        (s.bank.match_gain_db() + 9.0).abs() < 0.2,
        "version 2 plays {:.2} dB matched",
        s.bank.match_gain_db()
    );
    s.play(1.0);
    let (steady, _) = s.play(1.0);
    let sine_step = largest_step(&steady);
    for slot in [0, 1, 0] {
        s.recall(slot);
        let (l, r) = s.play(0.3);
        let worst = largest_step(&l).max(largest_step(&r));
        eprintln!("recall {slot}: largest step {worst:.4}, the sine's {sine_step:.4}");
        assert!(
            worst < 1.5 * sine_step,
            "recall of snapshot {slot}: largest step {worst:.4}, the sine's own {sine_step:.4}"
        );
        // Matched: the level after the recall is the level before it.
        let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
        let (after, _) = s.play(0.5);
        assert!(
            (20.0 * (rms(&after) / rms(&steady)).log10()).abs() < 0.2,
            "recall {slot} moved the matched level"
        );
    }
}
