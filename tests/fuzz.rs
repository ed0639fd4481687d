//! Seeded, bounded fuzzing of the plugin as a hostile host would drive it, through the CLAP
//! wrapper (`common/clap_host.rs`): random parameter events at random sample offsets (extreme,
//! out-of-range and non-finite values included), block sizes 1-8192 changing every call,
//! sample-rate changes 44.1-192 kHz with re-activation, resets, render-mode switches, state
//! blobs (random bytes, truncated, bit-flipped and semantically mangled real states) loaded
//! between runs, and hostile audio (NaN, +-Inf, 1e30, DC, full-scale squares, near-Nyquist
//! tones, +20 dB noise, subnormals).
//!
//! Asserted:
//! - no panic, and no allocation in `process()`: nice-plug's `assert_process_allocs` aborts the
//!   test binary on an allocation inside the wrapper's process call in debug builds, which is
//!   how `cargo test` builds this;
//! - every output sample is finite and not subnormal;
//! - a state the plugin saved loads back;
//! - the output's true peak, by the independent reference meter
//!   (`common/reference_true_peak.rs`), stays within the limiter ceiling + 0.05 dB wherever
//!   the plugin promises it (see [`Promise`] for the rule), for audio band-limited to the
//!   reference meter's accuracy range (0.47 fs; three in four promised runs, see
//!   [`BandLimit`]), and within + 0.5 dB for full-band audio (white noise, naive squares,
//!   steps to 1e30), where no finite reconstruction filter defines the true peak to better
//!   than that (see [`FULL_BAND_TOLERANCE_DB`]).
//!
//! All failures are collected and reported together at the end (with the seed and the run that
//! produced them), so one run gives the whole picture. Reproduce a run with
//! `FAIRMASTER_FUZZ_SEED=<seed> cargo test --test fuzz -- --nocapture`; lengthen with
//! `FAIRMASTER_FUZZ_RUNS=<n>` / `FAIRMASTER_FUZZ_SECONDS=<s>`. For a closer look:
//! `FAIRMASTER_FUZZ_VERBOSE=1` (every run and its true peak), `FAIRMASTER_FUZZ_TRACE="session 3
//! run 3 "` (every block of that run), `FAIRMASTER_FUZZ_DUMP=<dir>` (the output of each run over
//! its bound, as raw f32, and the plugin's state at its end, `.state`, for
//! `fairmaster-render --state`), `FAIRMASTER_FUZZ_DROP=<id,id>` (events on those parameters
//! drawn but not sent: which automation matters, with the random sequence unchanged).

mod common;

use std::time::{Duration, Instant};

use common::clap_host::{clap_param_id, BufferMode, ClapParamEvent, ClapTestHost};
use common::reference_true_peak::reference_true_peak_dbtp;
use fairmaster::params::FairmasterParams;
use nice_plug::prelude::Params;

/// Default seed; any u64 works.
const DEFAULT_SEED: u64 = 0xFA1E_3A57_E2F0_2211;
/// Runs (one parameter set-up, audio, and the silence after it) per test by default.
const DEFAULT_RUNS: usize = 120;
/// Wall-clock budget: no new run starts after it (the test must stay under 60 s on a 2-core
/// CI machine in the dev profile). The runs done so far are still checked.
const DEFAULT_SECONDS: u64 = 35;

/// How far over the ceiling a promised output may read on the reference meter, for audio
/// band-limited to 0.47 fs (the reference meter's accuracy range; see [`BandLimit`]).
const CEILING_TOLERANCE_DB: f32 = 0.05;
/// The same for full-band hostile audio (white noise, naive squares, steps, up to Nyquist).
/// There the true peak itself is ill-defined: on white noise, two long reconstruction filters
/// (128 and 512 Kaiser-sinc taps) disagree on single inter-sample peaks by up to 0.7 dB, and a
/// limiter that brings every peak to its threshold exposes the largest such disagreement.
/// This bound catches gross failures (an unlimited sample, a broken gain) on such audio.
const FULL_BAND_TOLERANCE_DB: f32 = 0.5;

/// After a change of a [`GUARDED`] parameter, an activation, reset, restart or state load, the
/// output is not held to the ceiling for this long: it covers the transitions that are allowed
/// to pass it (20 ms output-gain ramp, 20 ms equal-power A/B crossfade, 10 ms limiter on/off
/// crossfade, 2 x 10 ms latency-change fade; a lowered ceiling applies to peaks detected after
/// it, not to audio already inside the lookahead) with margin. The fuzz keeps the input silent
/// for longer than this after such a change, so the excluded output is silence anyway and the
/// measured stream starts and ends in silence as the reference meter assumes.
const SETTLE_SECONDS: f64 = 0.06;

/// Parameters whose change may legitimately take the output over the ceiling for a moment, or
/// change the latency (which makes the host restart the plugin, a cut in the output the
/// limiter never saw). Within a promised run they are set once, in silence, at its start.
const GUARDED: &[&str] = &[
    "lim_on",
    "bypass",
    "ab_bypass",
    "match_level",
    "dither_mode",
    "output_gain",
    "lim_ceiling",
    "eq_on",
    "eq_mode",
    "lim_lookahead",
    "clip_on",
    "clip_oversampling",
    // The vinyl HF limiter: on/off changes the latency.
    "hfl_on",
    "sat_on",
    "sat_oversampling",
    "mb_on",
    "mb_lookahead",
    "mb_phase",
    // A character switch fades the Punchy clip in or out over 10 ms.
    "lim_character",
    // Listening aids: the reference (its own safety limiter, not the master's ceiling), the
    // as-streamed match (plays the master at what a platform's normalisation makes of it: a
    // quiet master turned up to that platform's peak limit, e.g. -1 dBTP) and the monitoring
    // aids (side, band solo: LR4 filters after the limiter may overshoot it) are what the
    // engineer listens to, not the master the ceiling is promised for.
    "listen_reference",
    "reference_match",
    "monitor",
    "solo_band",
    // A stage compared at matched loudness (the limiter compared plays without its ceiling)
    // or its delta.
    "compare_stage",
    "compare_match",
    "delta_stage",
    // The multiband dynamics' band solos and compares (listening aids).
    "mb_b1_solo",
    "mb_b2_solo",
    "mb_b3_solo",
    "mb_b4_solo",
    "mb_b5_solo",
    "mb_b1_compare",
    "mb_b2_compare",
    "mb_b3_compare",
    "mb_b4_compare",
    "mb_b5_compare",
];

/// Parameters that change the latency. A latency change makes the host restart the plugin,
/// which at high rates with the linear-phase EQ costs a kernel design (about a second in the
/// dev profile), so the fuzz changes them at run starts and only rarely mid-run.
const LATENCY_CHANGERS: &[&str] = &[
    "eq_on",
    "eq_mode",
    "lim_lookahead",
    "clip_on",
    "clip_oversampling",
    // The vinyl HF limiter: on/off changes the latency.
    "hfl_on",
    "sat_on",
    "sat_oversampling",
    "mb_on",
    "mb_lookahead",
    "mb_phase",
];

const SAMPLE_RATES: &[f64] = &[44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];

/// SplitMix64 (Steele, Lea, Flood 2014): small, seedable, good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }
}

struct ParamDesc {
    id: String,
    /// Largest value on the CLAP scale (the step count for stepped parameters, else 1).
    max: f64,
    stepped: bool,
}

/// When the output is held to the ceiling, and to which bound (dBTP).
///
/// The plugin promises `true peak <= ceiling` for the processed master (A) with the limiter on
/// and the host bypass off; output gain and dither come after the limiter, so the promise is
/// `ceiling + output gain` with dither off (dither adds its noise on top). For the original (B)
/// with level matching on, the A/B's safety limiter holds it at the master's ceiling. Nothing
/// is promised with the host bypass on, with B unmatched (the original as it is), with the
/// limiter off, with dither on or during the transitions listed at [`SETTLE_SECONDS`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum Promise {
    None,
    /// The master (A): bound = ceiling + output gain (<= 0 dB).
    Master {
        ceiling_db: f64,
        output_db: f64,
    },
    /// The level-matched original (B) through its safety limiter: bound = ceiling.
    MatchedOriginal {
        ceiling_db: f64,
    },
}

impl Promise {
    fn bound_dbtp(self) -> Option<f64> {
        match self {
            Promise::None => None,
            Promise::Master {
                ceiling_db,
                output_db,
            } => Some(ceiling_db + output_db),
            Promise::MatchedOriginal { ceiling_db } => Some(ceiling_db),
        }
    }
}

#[derive(Default)]
struct Stats {
    sessions: usize,
    runs: usize,
    blocks: usize,
    frames: u64,
    events: usize,
    activations: usize,
    restarts: u32,
    resets: usize,
    render_switches: usize,
    state_loads: usize,
    states_accepted: usize,
    master_runs_checked: usize,
    /// Promised runs whose true peak could not be checked (non-finite output, or output not
    /// silent at the ends of the capture).
    unchecked_runs: usize,
    original_runs_checked: usize,
    /// Largest (reference true peak - bound) over checked band-limited runs, dB.
    worst_excess_db: f32,
    /// Promised full-band runs checked, and their largest excess (see FULL_BAND_TOLERANCE_DB).
    full_band_runs_checked: usize,
    worst_full_band_excess_db: f32,
    worst_excess_run: String,
    non_finite: u64,
    subnormal: u64,
    /// Blocks with non-finite or subnormal output, by the switches in effect.
    bad_by_path: std::collections::BTreeMap<String, usize>,
    failures: Vec<String>,
}

struct Fuzz {
    rng: Rng,
    seed: u64,
    params: Vec<ParamDesc>,
    /// States saved by the plugin during this test, raw material for the state fuzzing.
    saved_states: Vec<Vec<u8>>,
    stats: Stats,
    /// `FAIRMASTER_FUZZ_TRACE`: print every block of the runs whose name contains it.
    trace: Option<String>,
    /// `FAIRMASTER_FUZZ_DROP=<id,id,...>` (debugging aid): events on those parameters are drawn
    /// (the random sequence is unchanged) but not sent.
    dropped: Vec<String>,
}

/// One channel pair of hostile audio; `kind` picks the generator for a whole run.
struct Signal {
    kind: usize,
    amplitude: f64,
    freq: f64,
    phase: f64,
    noise: Rng,
    /// Probability per block of sprinkling special values, and of a whole block of one.
    sprinkle: f64,
    solid: f64,
    /// Band-limits the waveform (before the specials) to the band where true peak is defined
    /// well enough to hold a limiter to 0.05 dB; `None` leaves it full-band (see
    /// [`FULL_BAND_TOLERANCE_DB`]).
    band_limit: Option<[BandLimit; 2]>,
}

/// A linear-phase low-pass for the hostile audio: a Kaiser-windowed sinc (127 taps, beta 8,
/// cutoff 0.45 fs: flat to about 0.43 fs, below -75 dB from 0.47 fs), so a band-limited run
/// has no content above 0.47 fs, the upper end of the reference meter's accuracy claim.
struct BandLimit {
    taps: Vec<f64>,
    history: Vec<f64>,
    pos: usize,
}

impl BandLimit {
    const TAPS: usize = 127;

    fn new() -> Self {
        let beta = 8.0;
        let cutoff = 0.45;
        let half = (Self::TAPS / 2) as f64;
        let i0 = |x: f64| {
            // Power series of the modified Bessel function I0.
            let (mut sum, mut term, mut k) = (1.0f64, 1.0f64, 1.0f64);
            while term > 1e-12 * sum {
                term *= (x / (2.0 * k)).powi(2);
                sum += term;
                k += 1.0;
            }
            sum
        };
        let taps: Vec<f64> = (0..Self::TAPS)
            .map(|j| {
                let n = j as f64 - half;
                let sinc = if n == 0.0 {
                    2.0 * cutoff
                } else {
                    (std::f64::consts::TAU * cutoff * n).sin() / (std::f64::consts::PI * n)
                };
                sinc * i0(beta * (1.0 - (n / half).powi(2)).max(0.0).sqrt()) / i0(beta)
            })
            .collect();
        let dc: f64 = taps.iter().sum();
        Self {
            taps: taps.iter().map(|t| t / dc).collect(),
            history: vec![0.0; Self::TAPS],
            pos: 0,
        }
    }

    fn process(&mut self, samples: &mut [f32]) {
        for x in samples.iter_mut() {
            self.history[self.pos] = f64::from(*x);
            self.pos = (self.pos + 1) % Self::TAPS;
            // history[pos] is now the oldest sample.
            let mut y = 0.0;
            for (j, t) in self.taps.iter().enumerate() {
                y += t * self.history[(self.pos + j) % Self::TAPS];
            }
            *x = y as f32;
        }
    }
}

const SPECIALS: &[f32] = &[
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    1e30,
    -1e30,
    f32::MAX,
    1e-40,
    -1e-40,
    f32::MIN_POSITIVE / 3.0,
    1e-45,
    1.0,
    -1.0,
];

/// The specials of band-limited runs: within +40 dBFS, so neither the filter's ringing nor the
/// engine's +60 dBFS input clamp can turn them into full-band steps.
const BAND_LIMITED_SPECIALS: &[f32] = &[
    100.0,
    -100.0,
    1e-40,
    -1e-40,
    f32::MIN_POSITIVE / 3.0,
    1e-45,
    1.0,
    -1.0,
];

impl Signal {
    fn new(rng: &mut Rng, fs: f64, band_limited: bool) -> Self {
        Self {
            band_limit: band_limited.then(|| [BandLimit::new(), BandLimit::new()]),
            kind: rng.range(0, 7),
            amplitude: 10f64.powf(*rng.pick(&[-60.0, -20.0, -6.0, 0.0, 6.0, 12.0, 20.0]) / 20.0),
            freq: match rng.range(0, 2) {
                0 => rng.uniform(20.0, 200.0),
                1 => rng.uniform(200.0, 10_000.0),
                // Near Nyquist, up to the reference meter's accuracy limit (0.47 fs).
                _ => fs * rng.uniform(0.45, 0.47),
            },
            phase: 0.0,
            noise: Rng(rng.next_u64()),
            sprinkle: *rng.pick(&[0.0, 0.0, 0.1, 0.5]),
            solid: *rng.pick(&[0.0, 0.0, 0.02, 0.1]),
        }
    }

    /// Runs the band-limiting filter (band-limited runs only) over a generated block.
    fn band_limit(&mut self, left: &mut [f32], right: Option<&mut [f32]>) {
        if let Some([filter_left, filter_right]) = self.band_limit.as_mut() {
            filter_left.process(left);
            if let Some(r) = right {
                filter_right.process(r);
            }
        }
    }

    /// Silence after the run. Through the band-limiting filter, so a band-limited run also
    /// ends band-limited (its filter rings out instead of being cut).
    fn silence(&mut self, left: &mut [f32], right: Option<&mut [f32]>) {
        left.fill(0.0);
        let mut right = right;
        if let Some(r) = right.as_deref_mut() {
            r.fill(0.0);
        }
        self.band_limit(left, right);
    }

    fn fill(&mut self, fs: f64, left: &mut [f32], right: Option<&mut [f32]>) {
        let n = left.len();
        let step = self.freq / fs;
        for (i, x) in left.iter_mut().enumerate() {
            let p = (self.phase + step * i as f64).fract();
            let a = self.amplitude;
            *x = match self.kind {
                0 => 0.0,
                1 => (a * (self.noise.unit() * 2.0 - 1.0)) as f32,
                2 => (a * (std::f64::consts::TAU * p).sin()) as f32,
                // Full-scale square and saw (the classic inter-sample-peak tests).
                3 => {
                    if p < 0.5 {
                        1.0
                    } else {
                        -1.0
                    }
                }
                4 => (a * (2.0 * p - 1.0)) as f32,
                // DC.
                5 => a.min(10.0) as f32,
                // Impulses.
                6 => {
                    if self.noise.chance(0.002) {
                        a as f32
                    } else {
                        0.0
                    }
                }
                // Dense clipped noise (a loud modern mix).
                _ => (a * (self.noise.unit() * 2.0 - 1.0) * 3.0).clamp(-a, a) as f32,
            };
        }
        self.phase = (self.phase + step * n as f64).fract();
        let mut right = right;
        if let Some(r) = right.as_deref_mut() {
            for (r, l) in r.iter_mut().zip(left.iter()) {
                // Correlated but not identical, so the side signal is not zero.
                *r = if self.kind == 1 || self.kind == 7 {
                    (self.amplitude * (self.noise.unit() * 2.0 - 1.0)) as f32
                } else {
                    -*l
                };
            }
        }
        // Band-limited runs get only specials the filter can carry and the engine's input
        // clamp (+60 dBFS) leaves untouched, inserted before the filter so they are
        // band-limited too; the others (NaN, Inf, 1e30, f32::MAX) go into full-band runs.
        let specials = if self.band_limit.is_some() {
            BAND_LIMITED_SPECIALS
        } else {
            SPECIALS
        };
        if self.noise.chance(self.solid) {
            let v = *self.noise.pick(specials);
            left.fill(v);
            if let Some(r) = right.as_deref_mut() {
                r.fill(v);
            }
        } else if self.noise.chance(self.sprinkle) {
            for _ in 0..self.noise.range(1, 8) {
                let i = self.noise.range(0, n - 1);
                let v = *self.noise.pick(specials);
                if self.noise.chance(0.5) {
                    left[i] = v;
                } else if let Some(r) = right.as_deref_mut() {
                    r[i] = v;
                }
            }
        }
        self.band_limit(left, right);
    }
}

/// The output of one run, as far as it is held to a bound.
struct Capture {
    left: Vec<f32>,
    right: Vec<f32>,
    /// Frames into the run before which output is not captured (start of the run + settle).
    capture_from: u64,
    /// Frames processed in this run so far.
    position: u64,
    /// A restart inside the captured part invalidates the capture (see [`GUARDED`]).
    cut: bool,
}

impl Fuzz {
    fn new(seed: u64) -> Self {
        let host = ClapTestHost::new_inactive(2);
        let infos = host.param_infos();
        let params = FairmasterParams::default()
            .param_map()
            .into_iter()
            .map(|(id, _, _)| {
                let info = infos
                    .iter()
                    .find(|i| i.id == clap_param_id(&id))
                    .expect("parameter listed by clap.params");
                ParamDesc {
                    stepped: info.flags & 1 != 0, // CLAP_PARAM_IS_STEPPED
                    max: info.max_value,
                    id,
                }
            })
            .collect();
        let mut saved_states = vec![include_bytes!("fixtures/state-v0.1.0.bin").to_vec()];
        saved_states.push(host.save_state());
        Self {
            rng: Rng(seed),
            seed,
            trace: std::env::var("FAIRMASTER_FUZZ_TRACE").ok(),
            dropped: std::env::var("FAIRMASTER_FUZZ_DROP")
                .unwrap_or_default()
                .split(',')
                .filter(|id| !id.is_empty())
                .map(String::from)
                .collect(),
            params,
            saved_states,
            stats: Stats {
                worst_excess_db: f32::NEG_INFINITY,
                worst_full_band_excess_db: f32::NEG_INFINITY,
                ..Stats::default()
            },
        }
    }

    /// A random value on the CLAP scale: in range, at the ends, just outside, or non-finite
    /// (which the wrapper must reject).
    fn random_value(&mut self, p_index: usize) -> f64 {
        let (max, stepped) = (self.params[p_index].max, self.params[p_index].stepped);
        match self.rng.range(0, 19) {
            0..=2 => 0.0,
            3..=5 => max,
            6 => -0.5 * max,
            7 => 1.5 * max + 1.0,
            8 => *self
                .rng
                .pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300]),
            _ if stepped => self.rng.range(0, max as usize) as f64,
            _ => self.rng.uniform(0.0, max),
        }
    }

    /// Random events for one block of `frames`, on any parameter (`guarded_too`) or only on
    /// the ones a promised run may change.
    fn random_events(&mut self, frames: usize, guarded_too: bool) -> Vec<(usize, f64, u32)> {
        // About one block in two carries events, fewer for tiny blocks (a host with 1-frame
        // buffers does not send 1000s of changes per second; it would only slow the fuzz).
        let p_events = 0.5 * (frames as f64 / 64.0).min(1.0) + 0.01;
        let count = if !self.rng.chance(p_events) {
            0
        } else if self.rng.chance(0.7) {
            self.rng.range(1, 3)
        } else {
            self.rng.range(4, 24)
        };
        let mut events = Vec::with_capacity(count);
        for _ in 0..count {
            let index = self.rng.range(0, self.params.len() - 1);
            let id = self.params[index].id.as_str();
            if !guarded_too && GUARDED.contains(&id) {
                continue;
            }
            if LATENCY_CHANGERS.contains(&id) && !self.rng.chance(0.05) {
                continue;
            }
            let value = self.random_value(index);
            let time = self.rng.range(0, frames - 1) as u32;
            events.push((index, value, time));
        }
        events
    }

    /// A state blob: the plugin's own states, cut, bit-flipped, semantically mangled, or noise.
    fn random_state(&mut self) -> Vec<u8> {
        let base = self.rng.pick(&self.saved_states).clone();
        match self.rng.range(0, 9) {
            0 => base,
            1 => {
                let cut = self.rng.range(0, base.len());
                base[..cut].to_vec()
            }
            2 | 3 => {
                let mut s = base;
                for _ in 0..self.rng.range(1, 16) {
                    let i = self.rng.range(0, s.len() - 1);
                    s[i] ^= 1 << self.rng.range(0, 7);
                }
                s
            }
            4 => {
                let len = self.rng.range(0, 3000);
                (0..len).map(|_| self.rng.next_u64() as u8).collect()
            }
            5 => {
                // Noise behind a consistent length header.
                let len = self.rng.range(0, 3000);
                let mut s = (len as u64).to_le_bytes().to_vec();
                s.extend((0..len).map(|_| self.rng.next_u64() as u8));
                s
            }
            _ => self.mangled_state(&base),
        }
    }

    /// A well-formed state JSON with hostile values: parameters set to huge, negative, wrongly
    /// typed or unknown values, unknown IDs, and broken persisted fields.
    fn mangled_state(&mut self, base: &[u8]) -> Vec<u8> {
        let Some(mut json) = base
            .get(8..)
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        else {
            return base.to_vec();
        };
        let wild = |rng: &mut Rng| -> serde_json::Value {
            match rng.range(0, 9) {
                0 => serde_json::json!({"f32": 1e30}),
                1 => serde_json::json!({"f32": -1e30}),
                2 => serde_json::json!({"f32": rng.uniform(-1e4, 1e4)}),
                3 => serde_json::json!({"i32": i32::MIN}),
                4 => serde_json::json!({"i32": rng.range(0, 100) as i32}),
                5 => serde_json::json!({"bool": rng.chance(0.5)}),
                6 => serde_json::json!({"string": "no_such_variant"}),
                7 => serde_json::json!("not tagged"),
                8 => serde_json::Value::Null,
                _ => serde_json::json!({"f32": [1, 2, 3]}),
            }
        };
        for _ in 0..self.rng.range(1, 20) {
            let p = self.rng.range(0, self.params.len() - 1);
            let id = self.params[p].id.clone();
            json["params"][id] = wild(&mut self.rng);
        }
        if self.rng.chance(0.3) {
            json["params"]["no_such_parameter"] = serde_json::json!({"f32": 1.0});
        }
        let field = *self.rng.pick(&[
            r#"{"width": 0, "height": 4294967295}"#,
            r#"{"width": -5}"#,
            r#"[]"#,
            r#""banana""#,
            r#"99999999999"#,
            r#"7"#,
            "not json",
        ]);
        let key = *self
            .rng
            .pick(&["editor_size", "state_version", "unknown_field"]);
        json["fields"][key] = serde_json::Value::String(field.to_string());
        if self.rng.chance(0.2) {
            json["version"] = serde_json::json!("99.0.0");
        }
        let body = serde_json::to_vec(&json).unwrap();
        let mut s = (body.len() as u64).to_le_bytes().to_vec();
        s.extend_from_slice(&body);
        s
    }

    /// [`Self::block`] with parameter events drawn for it (any parameter when nothing is
    /// promised, else only the ones that keep the promise).
    fn block_with_random_events(
        &mut self,
        host: &mut ClapTestHost,
        left: &mut [f32],
        right: Option<&mut [f32]>,
        promise: Promise,
        capture: &mut Capture,
        run: &str,
    ) {
        let events = self.random_events(left.len(), promise == Promise::None);
        self.block(host, left, right, &events, capture, run);
    }

    /// Processes one block: checks every output sample, captures it if it is held to a bound,
    /// and honours restart requests as a DAW does.
    #[allow(clippy::too_many_arguments)]
    fn block(
        &mut self,
        host: &mut ClapTestHost,
        left: &mut [f32],
        right: Option<&mut [f32]>,
        events: &[(usize, f64, u32)],
        capture: &mut Capture,
        run: &str,
    ) {
        let clap_events: Vec<ClapParamEvent> = events
            .iter()
            .filter(|&&(index, _, _)| {
                !self
                    .dropped
                    .iter()
                    .any(|id| id == "*" || *id == self.params[index].id)
            })
            .map(|&(index, clap_value, time)| ClapParamEvent {
                id: &self.params[index].id,
                clap_value,
                time,
            })
            .collect();
        let mut right = right;
        // FAIRMASTER_FUZZ_TRACE=<text in the run name, e.g. "session 3 run 3 ">: every block of
        // the matching runs, for a closer look at a failure.
        let trace = self.trace.as_deref().filter(|t| run.contains(t));
        let input_summary = trace.as_ref().map(|_| {
            let worst = left
                .iter()
                .chain(right.as_deref().unwrap_or(&[]))
                .fold(0.0f32, |m, x| {
                    if x.is_finite() {
                        m.max(x.abs())
                    } else {
                        f32::INFINITY
                    }
                });
            format!("in max {worst:e}")
        });
        host.process_clap(left, right.as_deref_mut(), &clap_events);
        if let Some(input) = input_summary {
            let out = left.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let names: Vec<String> = clap_events
                .iter()
                .map(|e| format!("{}={:.4}@{}", e.id, e.clap_value, e.time))
                .collect();
            println!(
                "trace: at {} +{} frames, {input}, out max {out:e}, events [{}]",
                capture.position,
                left.len(),
                names.join(", ")
            );
        }
        self.stats.blocks += 1;
        self.stats.frames += left.len() as u64;
        self.stats.events += events.len();

        let mut bad_finite = 0u64;
        let mut bad_subnormal = 0u64;
        let mut first_non_finite = None;
        let mut first_subnormal = None;
        for (i, &x) in left
            .iter()
            .chain(right.as_deref().unwrap_or(&[]))
            .enumerate()
        {
            if !x.is_finite() {
                bad_finite += 1;
                first_non_finite.get_or_insert((i, x));
            } else if x != 0.0 && x.abs() < f32::MIN_POSITIVE {
                bad_subnormal += 1;
                first_subnormal.get_or_insert((i, x));
            }
        }
        if bad_finite + bad_subnormal > 0 {
            // Which switches were on, to tell the paths apart (bypass and unmatched B pass the
            // original through; the rest is processed).
            let on = |id: &str| host.param_clap_value(id) > 0.5;
            let paths = format!(
                "bypass {}, A/B {}, match {}, limiter {}",
                on("bypass"),
                if on("ab_bypass") { "B" } else { "A" },
                on("match_level"),
                on("lim_on")
            );
            for (kind, first, seen) in [
                ("non-finite", first_non_finite, self.stats.non_finite),
                ("subnormal", first_subnormal, self.stats.subnormal),
            ] {
                if let Some((i, x)) = first {
                    *self
                        .stats
                        .bad_by_path
                        .entry(format!("{kind}: {paths}"))
                        .or_default() += 1;
                    if seen == 0 {
                        self.stats.failures.push(format!(
                            "{run}: output sample {i} of a {}-frame block is {x:e} (first \
                             {kind} sample; {paths})",
                            left.len()
                        ));
                    }
                }
            }
            self.stats.non_finite += bad_finite;
            self.stats.subnormal += bad_subnormal;
        }

        let n = left.len() as u64;
        let start = capture.capture_from.saturating_sub(capture.position).min(n) as usize;
        capture.left.extend_from_slice(&left[start..]);
        match right.as_deref() {
            Some(r) => capture.right.extend_from_slice(&r[start..]),
            None => capture.right.extend_from_slice(&left[start..]),
        }
        capture.position += n;

        let restarts = host.handle_restart_requests();
        if restarts > 0 {
            self.stats.restarts += restarts;
            if capture.position > capture.capture_from {
                capture.cut = true;
            }
        }
    }

    fn random_block_len(&mut self, max: usize) -> usize {
        match self.rng.range(0, 9) {
            0 => 1,
            1 => self.rng.range(1, 16.min(max)),
            2 => max,
            3 => self.rng.range(1, max),
            _ => self.rng.range(1, 1024.min(max)),
        }
    }

    /// One run: set up (in silence), hostile audio, silence; then check the captured output.
    fn run(&mut self, host: &mut ClapTestHost, offline: bool, run_name: &str) {
        let fs = host.sample_rate();
        let max = host.max_frames() as usize;
        let stereo = host.channels() == 2;

        // The set-up: which promise this run holds, and the guarded parameters that give it.
        let ceiling_db = match self.rng.range(0, 4) {
            0 => 0.0,
            1 => -12.0,
            _ => (self.rng.uniform(-12.0, 0.0) * 100.0).round() / 100.0,
        };
        let output_db = if self.rng.chance(0.5) {
            0.0
        } else {
            (self.rng.uniform(-24.0, 0.0) * 100.0).round() / 100.0
        };
        let choice = self.rng.range(0, 19);
        let promise = match choice {
            0..=8 => Promise::Master {
                ceiling_db,
                output_db,
            },
            9..=11 if !offline => Promise::MatchedOriginal { ceiling_db },
            _ => Promise::None,
        };
        // Three in four promised runs are band-limited (held to CEILING_TOLERANCE_DB); the
        // rest, and every unpromised run, stay full-band.
        let band_limited = promise != Promise::None && self.rng.chance(0.75);
        let mut setup: Vec<(&str, f64)> = Vec::new();
        if band_limited {
            // The clipper and the saturation make harmonics up to Nyquist (and aliases, at low oversampling) out
            // of band-limited audio: the limiter then holds full-band audio, which the
            // full-band runs check with their tolerance.
            setup.push(("clip_on", 0.0));
            setup.push(("sat_on", 0.0));
            // So does the Punchy limiter's clip of the first milliseconds: band-limited runs
            // hold Transparent or Dense to the tight tolerance, full-band runs all three.
            setup.push((
                "lim_character",
                if self.rng.chance(0.5) { 0.0 } else { 1.0 },
            ));
        }
        // Normalised value of a linear dB parameter (the wrapper's CLAP scale for floats).
        fn plain_db(id: &'static str, db: f64, lo: f64, hi: f64) -> (&'static str, f64) {
            (id, (db - lo) / (hi - lo))
        }
        if promise != Promise::None {
            setup.push(("listen_reference", 0.0));
            setup.push(("reference_match", 0.0));
            setup.push(("monitor", 0.0));
            setup.push(("solo_band", 0.0));
            setup.push(("compare_stage", 0.0));
            setup.push(("delta_stage", 0.0));
            setup.push(("bypass", 0.0));
            setup.push(("dither_mode", 0.0));
            setup.push(plain_db("lim_ceiling", ceiling_db, -12.0, 0.0));
            setup.push(plain_db("output_gain", output_db, -24.0, 24.0));
        }
        match promise {
            Promise::Master { .. } => {
                setup.push(("lim_on", 1.0));
                setup.push(("ab_bypass", 0.0));
            }
            Promise::MatchedOriginal { .. } => {
                setup.push(("ab_bypass", 1.0));
                setup.push(("match_level", 1.0));
            }
            Promise::None => {}
        }
        // Latency-changing parameters are chosen here too (any run).
        let mut setup_events: Vec<(usize, f64, u32)> = Vec::new();
        for id in GUARDED {
            let index = self.params.iter().position(|p| p.id == *id).unwrap();
            let value = match setup.iter().find(|(i, _)| i == id) {
                Some(&(_, v)) => v * self.params[index].max,
                // Linear phase in one run in five (see LATENCY_CHANGERS).
                None if *id == "eq_mode" => f64::from(self.rng.chance(0.2)),
                None if self.rng.chance(0.5) => self.random_value(index),
                None => continue,
            };
            setup_events.push((index, value, 0));
        }

        let mut capture = Capture {
            left: Vec::new(),
            right: Vec::new(),
            capture_from: (SETTLE_SECONDS * fs) as u64,
            position: 0,
            cut: false,
        };
        let mut l = vec![0.0f32; max];
        let mut r = vec![0.0f32; max];

        // Silence while the set-up settles: longer than SETTLE_SECONDS plus the latency, so the
        // captured stream starts in (processed) silence.
        let mut first = true;
        let mut silent_frames = 0usize;
        let mut settle_restarts = 0;
        loop {
            let settle = ((0.15 * fs) as usize + host.latency() as usize).max(1);
            if silent_frames >= settle {
                break;
            }
            let n = self
                .random_block_len(max)
                .min(settle - silent_frames)
                .max(1);
            l[..n].fill(0.0);
            r[..n].fill(0.0);
            // Nothing guarded changes while settling (a latency change would restart it).
            let mut events = if first {
                std::mem::take(&mut setup_events)
            } else {
                self.random_events(n, false)
            };
            events.retain(|e| (e.2 as usize) < n);
            first = false;
            let restarts_before = self.stats.restarts;
            self.block(
                host,
                &mut l[..n],
                stereo.then_some(&mut r[..n]),
                &events,
                &mut capture,
                run_name,
            );
            if self.stats.restarts != restarts_before {
                settle_restarts += 1;
                assert!(
                    settle_restarts < 4,
                    "{run_name}: the plugin keeps asking for restarts in silence"
                );
                // The plugin was restarted (latency change): settle again from here.
                capture.cut = false;
                capture.left.clear();
                capture.right.clear();
                capture.capture_from = capture.position + (SETTLE_SECONDS * fs) as u64;
                silent_frames = 0;
                continue;
            }
            silent_frames += n;
        }

        // Hostile audio with random events on what the promise allows to change.
        let mut signal = Signal::new(&mut self.rng, fs, band_limited);
        let seconds = if max < 64 {
            self.rng.uniform(0.02, 0.1)
        } else {
            self.rng.uniform(0.05, 0.6)
        };
        let total = (seconds * fs) as usize;
        let main_start = capture.left.len();
        let mut done = 0;
        while done < total {
            let n = self.random_block_len(max).min(total - done);
            signal.fill(fs, &mut l[..n], stereo.then_some(&mut r[..n]));
            let (left, right) = (&mut l[..n], stereo.then_some(&mut r[..n]));
            self.block_with_random_events(host, left, right, promise, &mut capture, run_name);
            done += n;
        }

        let main_end = capture.left.len();
        // Silence until the output has died away (latency, limiter release and EQ ringing).
        // A promised run goes on until its output is quiet (at most 2 s more), so the captured
        // stream really ends in silence, as the reference meter assumes past its end: a stream
        // cut while still loud would read an overshoot that the real output never has.
        let tail = (0.25 * fs) as usize + host.latency() as usize;
        let quiet_window = (0.01 * fs) as usize;
        let quiet_level = promise
            .bound_dbtp()
            .map(|b| 1e-3 * 10f64.powf(b / 20.0) as f32);
        let quiet = |c: &Capture, from_end: bool| -> bool {
            let Some(level) = quiet_level else {
                return true;
            };
            let len = c.left.len();
            let span = if from_end {
                len.saturating_sub(quiet_window)..len
            } else {
                0..quiet_window.min(len)
            };
            c.left[span.clone()]
                .iter()
                .chain(&c.right[span])
                .all(|x| x.abs() <= level)
        };
        let mut done = 0;
        while done < tail || (!quiet(&capture, true) && done < tail + 2 * fs as usize) {
            let n = self.random_block_len(max).min(quiet_window.max(1));
            let n = if done < tail { n.min(tail - done) } else { n };
            signal.silence(&mut l[..n], stereo.then_some(&mut r[..n]));
            let (left, right) = (&mut l[..n], stereo.then_some(&mut r[..n]));
            self.block_with_random_events(host, left, right, promise, &mut capture, run_name);
            done += n;
        }

        if let Some(bound) = promise.bound_dbtp() {
            if capture.cut {
                // A restart inside the captured part (should not happen: latency changers are
                // guarded). Counted as a failure: the promise could not be checked.
                self.stats.failures.push(format!(
                    "{run_name}: unexpected restart during a promised run"
                ));
                self.stats.runs += 1;
                return;
            }
            if !quiet(&capture, false) || !quiet(&capture, true) {
                // Cannot happen by construction (silence before and after); counted, not
                // hidden: the summary prints how many runs could not be checked.
                self.stats.unchecked_runs += 1;
                println!("{run_name}: captured output does not start and end in silence");
                self.stats.runs += 1;
                return;
            }
            if capture
                .left
                .iter()
                .chain(&capture.right)
                .any(|x| !x.is_finite())
            {
                // Already counted as non-finite output; a true peak of it means nothing.
                self.stats.unchecked_runs += 1;
                self.stats.runs += 1;
                return;
            }
            let tp = reference_true_peak_dbtp(&[&capture.left, &capture.right]);
            let excess = tp - bound as f32;
            match promise {
                Promise::Master { .. } => self.stats.master_runs_checked += 1,
                _ => self.stats.original_runs_checked += 1,
            }
            if std::env::var_os("FAIRMASTER_FUZZ_VERBOSE").is_some() {
                println!(
                    "{run_name}: {promise:?}: true peak {tp:.3} dBTP, {excess:+.3} dB against \
                     the bound; signal kind {} at {:.1} dBFS, {:.0} Hz, specials {}/{}",
                    signal.kind,
                    20.0 * signal.amplitude.log10(),
                    signal.freq,
                    signal.sprinkle,
                    signal.solid
                );
            }
            let band_limited = signal.band_limit.is_some();
            let tolerance = if band_limited {
                CEILING_TOLERANCE_DB
            } else {
                self.stats.full_band_runs_checked += 1;
                self.stats.worst_full_band_excess_db =
                    self.stats.worst_full_band_excess_db.max(excess);
                FULL_BAND_TOLERANCE_DB
            };
            if band_limited && excess > self.stats.worst_excess_db {
                self.stats.worst_excess_db = excess;
                self.stats.worst_excess_run = format!(
                    "{run_name} ({promise:?}, signal kind {}, {:.1} dBFS, {:.0} Hz)",
                    signal.kind,
                    20.0 * signal.amplitude.log10(),
                    signal.freq
                );
            }
            if excess > tolerance {
                // Where the loudest sample is, relative to the hostile audio's span in the
                // capture (output lags the input by the latency).
                let peak_at = capture
                    .left
                    .iter()
                    .chain(&capture.right)
                    .enumerate()
                    .filter(|(_, x)| x.is_finite())
                    .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                    .map_or(0, |(i, _)| i % capture.left.len());
                self.stats.failures.push(format!(
                    "{run_name}: true peak {tp:.3} dBTP over the bound {bound:.2} dBTP by \
                     {excess:.3} dB ({promise:?}, {}, signal kind {}, {:.1} dBFS, {:.0} Hz; \
                     loudest sample at {peak_at} of {} captured, audio in at {main_start}..\
                     {main_end}, latency {})",
                    if band_limited {
                        "band-limited"
                    } else {
                        "full-band"
                    },
                    signal.kind,
                    20.0 * signal.amplitude.log10(),
                    signal.freq,
                    capture.left.len(),
                    host.latency()
                ));
                if let Some(dir) = std::env::var_os("FAIRMASTER_FUZZ_DUMP") {
                    // Raw little-endian f32, left then right, for a closer look.
                    let path = std::path::Path::new(&dir)
                        .join(format!("fuzz-{}.f32", self.stats.failures.len()));
                    let bytes: Vec<u8> = capture
                        .left
                        .iter()
                        .chain(&capture.right)
                        .flat_map(|x| x.to_le_bytes())
                        .collect();
                    std::fs::write(&path, bytes).expect("dump");
                    // The plugin's state at the end of the run, to replay the set-up offline
                    // (`fairmaster-render --state`).
                    let state_path = path.with_extension("state");
                    std::fs::write(&state_path, host.save_state()).expect("dump state");
                    println!(
                        "fuzz: wrote {} and {}",
                        path.display(),
                        state_path.display()
                    );
                }
            }
        }
        self.stats.runs += 1;
    }

    /// Between runs: what a host may do to an active plugin.
    fn between_runs(&mut self, host: &mut ClapTestHost, offline: &mut bool, session: usize) {
        match self.rng.range(0, 11) {
            0..=2 => {
                let state = self.random_state();
                self.stats.state_loads += 1;
                if host.load_state(&state) {
                    self.stats.states_accepted += 1;
                }
                self.stats.restarts += host.handle_restart_requests();
            }
            3 | 4 => {
                host.deactivate();
                let fs = self.random_rate();
                let max = self.random_max_frames();
                host.activate(fs, 1, max);
                self.stats.activations += 1;
            }
            5 => {
                host.reset();
                self.stats.resets += 1;
            }
            6 => {
                *offline = !*offline;
                assert!(host.set_offline(*offline), "clap.render refused a mode");
                self.stats.render_switches += 1;
            }
            7 => {
                let saved = host.save_state();
                assert!(
                    host.load_state(&saved),
                    "session {session}: the plugin rejects a state it saved"
                );
                self.stats.restarts += host.handle_restart_requests();
                if self.saved_states.len() < 32 {
                    self.saved_states.push(saved);
                }
            }
            8 => host.set_buffer_mode(if host.buffer_mode() == BufferMode::InPlace {
                BufferMode::Separate
            } else {
                BufferMode::InPlace
            }),
            _ => {}
        }
    }

    fn random_rate(&mut self) -> f64 {
        if self.rng.chance(0.2) {
            self.rng.range(44_100, 192_000) as f64
        } else {
            *self.rng.pick(SAMPLE_RATES)
        }
    }

    fn random_max_frames(&mut self) -> u32 {
        match self.rng.range(0, 9) {
            0 | 1 => 8192,
            // Tiny host buffers: many calls, so shorter runs (see `run`).
            2 => self.rng.range(1, 64) as u32,
            _ => self.rng.range(64, 8192) as u32,
        }
    }

    fn session(&mut self, index: usize, runs_left: &mut usize, deadline: Instant) {
        let channels = if self.rng.chance(0.25) { 1 } else { 2 };
        let mut host = ClapTestHost::new_inactive(channels);
        if self.rng.chance(0.3) {
            // A DAW reopening a session loads the state before activating.
            let state = self.random_state();
            self.stats.state_loads += 1;
            if host.load_state(&state) {
                self.stats.states_accepted += 1;
            }
        }
        let fs = self.random_rate();
        let max = self.random_max_frames();
        let t = Instant::now();
        host.activate(fs, 1, max);
        if std::env::var_os("FAIRMASTER_FUZZ_VERBOSE").is_some() {
            println!(
                "session {index}: activate {fs} Hz: {:.2} s",
                t.elapsed().as_secs_f64()
            );
        }
        self.stats.activations += 1;
        if self.rng.chance(0.3) {
            host.set_buffer_mode(BufferMode::Separate);
        }
        let mut offline = false;
        for run in 0..self.rng.range(1, 5) {
            if *runs_left == 0 || Instant::now() >= deadline {
                break;
            }
            if run > 0 {
                self.between_runs(&mut host, &mut offline, index);
            }
            let name = format!(
                "seed {:#x} session {index} run {run} ({} ch, {} Hz, max {} frames{})",
                self.seed,
                channels,
                host.sample_rate(),
                host.max_frames(),
                if offline { ", offline" } else { "" }
            );
            let t = Instant::now();
            let blocks = self.stats.blocks;
            let frames = self.stats.frames;
            self.run(&mut host, offline, &name);
            if std::env::var_os("FAIRMASTER_FUZZ_VERBOSE").is_some() {
                println!(
                    "{name}: {} blocks, {} frames, latency {}, {:.2} s",
                    self.stats.blocks - blocks,
                    self.stats.frames - frames,
                    host.latency(),
                    t.elapsed().as_secs_f64()
                );
            }
            *runs_left -= 1;
        }
        self.stats.sessions += 1;
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let v = v.trim();
            match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok()?.to_string().parse().ok(),
                None => v.parse().ok(),
            }
        })
        .unwrap_or(default)
}

#[test]
fn fuzz_the_plugin_through_the_clap_host() {
    let seed = env_or("FAIRMASTER_FUZZ_SEED", DEFAULT_SEED);
    let mut runs_left = env_or("FAIRMASTER_FUZZ_RUNS", DEFAULT_RUNS);
    let seconds = env_or("FAIRMASTER_FUZZ_SECONDS", DEFAULT_SECONDS);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut fuzz = Fuzz::new(seed);
    let mut session = 0;
    while runs_left > 0 && Instant::now() < deadline {
        fuzz.session(session, &mut runs_left, deadline);
        session += 1;
    }
    let s = &fuzz.stats;
    println!(
        "fuzz: {} cases ({} sessions), {} blocks, {} frames, {} parameter events, {} state \
         loads ({} accepted), {} activations, {} restarts, {} resets, {} render switches in \
         {:.1} s (seed {seed:#x})",
        s.runs,
        s.sessions,
        s.blocks,
        s.frames,
        s.events,
        s.state_loads,
        s.states_accepted,
        s.activations,
        s.restarts,
        s.resets,
        s.render_switches,
        started.elapsed().as_secs_f64()
    );
    println!(
        "fuzz: true peak checked on {} master and {} matched-original runs ({} promised runs \
         not checkable); band-limited worst: {:+.3} dB against the bound (tolerance \
         {CEILING_TOLERANCE_DB} dB) in {}; full-band ({} runs) worst: {:+.3} dB (tolerance \
         {FULL_BAND_TOLERANCE_DB} dB)",
        s.master_runs_checked,
        s.original_runs_checked,
        s.unchecked_runs,
        s.worst_excess_db,
        s.worst_excess_run,
        s.full_band_runs_checked,
        s.worst_full_band_excess_db
    );
    println!(
        "fuzz: {} non-finite and {} subnormal output samples",
        s.non_finite, s.subnormal
    );
    for (paths, blocks) in &s.bad_by_path {
        println!("fuzz: {blocks} blocks with {paths}");
    }
    assert!(s.runs >= 10, "only {} runs in the time budget", s.runs);
    assert!(
        s.master_runs_checked >= 3 && s.original_runs_checked >= 1,
        "too few promised runs to check the ceiling"
    );
    if !s.failures.is_empty() {
        panic!(
            "fuzz found {} problem(s) ({} non-finite, {} subnormal samples):\n{}",
            s.failures.len(),
            s.non_finite,
            s.subnormal,
            s.failures.join("\n")
        );
    }
}
