//! Multiband dynamics: 2-5 bands split by the minimum-phase Linkwitz–Riley tree of
//! `filters::crossover` (all-pass compensated, so the bands sum flat when no band acts), each
//! band with its own downward or upward compressor, then summed.
//!
//! Anchors: FabFilter Pro-MB, iZotope Ozone Dynamics, LSP's multiband compressor. Decisions
//! (what an engineer who owns Pro-MB expects):
//!
//! * **Gain computer** per band: the glue compressor's soft knee (Giannoulis, Massberg & Reiss
//!   2012, eq. 4; `compressor::static_gain_reduction_db`, shared). **Downward** mode reduces
//!   above the threshold by `1 - 1/ratio` dB per dB; **upward** mode raises the band below the
//!   threshold by `1 - 1/ratio` dB per dB (the mirror curve: a quiet band is brought up towards
//!   the threshold). **Range** caps the gain change either way (upward compression of silence
//!   or a noise floor stops there); **makeup** (±) comes after. [`static_gain_db`] is the
//!   design curve the tests measure against.
//! * **Detector**: the band's RMS, referred to a sine's peak (a sine of peak -10 dBFS reads
//!   -10 dB, like the glue compressor's peak reading of a steady sine), from the mean square
//!   through two cascaded one-poles of `τ/2` each. `τ` follows the band: two periods of its
//!   lower edge (the split below it; 40 Hz for band 1), within 1-25 ms, so the low band does
//!   not ride its own waveform (second-order smoothing: the ripple of a sine at its lower
//!   edge is under ±0.1 dB) and the high bands still catch transients.
//! * **Ballistics**: the glue compressor's smooth branching detector in dB
//!   (`Compressor::branching_step`), on the *signed* gain: the attack acts while the gain
//!   falls (the level rises: more reduction downward, less boost upward), the release while it
//!   rises. Auto release is the compressor's dual stage mirrored to the signed gain.
//! * **Stereo / Mid / Side** per band: stereo detects the louder channel and applies one gain
//!   to both (no image shift); mid or side detects and changes only `(L±R)/2` of that band,
//!   leaving the other untouched.
//! * **Lookahead**: one for the whole stage (0-20 ms, as Pro-MB): every band is delayed by it
//!   and the detectors see the undelayed band. It changes the stage's latency, so it is not
//!   automatable and switching it is structural (`stages::Structure`).
//! * **Solo** plays the soloed bands at their true level (the tree's outputs, processed), so
//!   soloing every band is the whole, sample for sample. **Compare** plays the compared bands
//!   with their dynamics bypassed (at unity, still delayed), level-matched to the processed
//!   stage by the audition's law (`meters::loudness_match`): the engineer hears what the
//!   band's processing does, not that it is louder. **Bypass** takes a band's dynamics out (a
//!   20 ms fade), and is saved; solo and compare are listening aids, not saved.
//! * **Crossover**: minimum-phase LR4 by default (latency 0); **linear phase** as an option
//!   (`filters::fir_crossover`: complementary FIR splits summing to a pure delay, a fixed
//!   latency reported with the lookahead; switching is structural). A split moved in linear
//!   phase is redesigned off the audio thread and crossfaded in over one partition (see that
//!   module).
//!
//! Real-time: `new`/`reset` allocate (band buffers, the lookahead delays for the rate);
//! `set` and `process` do not. Input is sanitised; detector states are flushed to zero below
//! the denormal range once per block.

use crate::dsp::dynamics::compressor::{
    fast_exp2_nonpositive, fast_log2, static_gain_reduction_db, Compressor,
    AUTO_RELEASE_FAST_DIVISOR, DB_PER_LOG2, LOG2_PER_DB,
};
use crate::dsp::filters::crossover::{self, Crossover};
use crate::dsp::filters::fir_crossover::FirCrossover;
use crate::dsp::meters::loudness_match::LoudnessMatch;
use crate::dsp::util::delay::StereoDelay;
use crate::dsp::util::designer_thread::DesignerThread;
use crate::dsp::util::range::Range;
use crate::dsp::util::resident::resident_vec;
use crate::dsp::util::smoothing::OnePole;
use crate::dsp::util::{flush_denormal, one_pole_coeff, sanitize};

/// Fewest bands.
pub const MIN_BANDS: usize = 2;
/// Most bands.
pub const MAX_BANDS: usize = 5;
/// Most split frequencies.
pub const MAX_SPLITS: usize = MAX_BANDS - 1;
/// Bands by default: the classic four (lows, low mids, high mids, highs).
pub const DEFAULT_BANDS: usize = 4;
const _: () = assert!(MAX_BANDS <= crossover::MAX_BANDS);

/// Split frequencies, lowest first (the first `bands - 1` are used).
pub const SPLIT_HZ: [Range; MAX_SPLITS] = [
    Range::new(20.0, 16_000.0, 120.0, "Hz"),
    Range::new(20.0, 16_000.0, 1_000.0, "Hz"),
    Range::new(20.0, 16_000.0, 5_000.0, "Hz"),
    Range::new(20.0, 16_000.0, 10_000.0, "Hz"),
];
/// Threshold, dB of the band's level (RMS referred to a sine's peak).
pub const THRESHOLD_DB: Range = Range::new(-60.0, 0.0, -20.0, "dB");
/// Ratio (downward above the threshold, upward below it; 1 = neutral).
pub const RATIO: Range = Range::new(1.0, 20.0, 2.0, "");
/// Full knee width centred on the threshold, dB.
pub const KNEE_DB: Range = Range::new(0.0, 24.0, 6.0, "dB");
/// Attack time constant, ms.
pub const ATTACK_MS: Range = Range::new(0.1, 200.0, 10.0, "ms");
/// Release time constant, ms.
pub const RELEASE_MS: Range = Range::new(10.0, 2000.0, 150.0, "ms");
/// The largest gain change the dynamics may make either way, dB.
pub const RANGE_DB: Range = Range::new(0.0, 24.0, 12.0, "dB");
/// Makeup (or trim) gain after the dynamics, dB.
pub const MAKEUP_DB: Range = Range::new(-12.0, 12.0, 0.0, "dB");
/// The stage's lookahead, ms (latency).
pub const LOOKAHEAD_MS: Range = Range::new(0.0, 20.0, 0.0, "ms");

/// Lower edge assumed for band 1 (what its detector's averaging is made for).
const LOWEST_EDGE_HZ: f32 = 40.0;
/// The detector's averaging `τ` is this many periods of the band's lower edge ...
const DETECTOR_PERIODS: f32 = 2.0;
/// ... within these bounds, seconds.
const DETECTOR_TAU_MIN: f32 = 0.001;
const DETECTOR_TAU_MAX: f32 = 0.025;
/// Makeup, bypass, solo and compare fades.
const FADE_SECONDS: f32 = 0.020;
/// `fast_exp2_nonpositive` takes `y <= 0`: gains up to `2^EXP2_HEADROOM` are computed as
/// `2^(y - EXP2_HEADROOM) * 2^EXP2_HEADROOM` (exact power-of-two scaling).
const EXP2_HEADROOM: f32 = 8.0;
/// Largest block `process` handles at once (longer blocks are cut into these).
pub const BLOCK: usize = 512;

/// Which way a band's dynamics work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Compress above the threshold.
    #[default]
    Downward,
    /// Raise below the threshold.
    Upward,
}

/// Which part of a band's stereo signal is detected and processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Channels {
    /// Both channels, linked (one gain from the louder).
    #[default]
    Stereo,
    /// `(L+R)/2` only.
    Mid,
    /// `(L-R)/2` only.
    Side,
}

/// One band's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandSettings {
    pub threshold_db: f32,
    pub ratio: f32,
    pub knee_db: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    pub auto_release: bool,
    pub range_db: f32,
    pub makeup_db: f32,
    pub direction: Direction,
    pub channels: Channels,
    /// The band's dynamics out (the band passes at unity; saved).
    pub bypass: bool,
    /// Listening aid: hear only the soloed bands.
    pub solo: bool,
    /// Listening aid: the band's dynamics bypassed, the stage level-matched.
    pub compare: bool,
}

impl Default for BandSettings {
    fn default() -> Self {
        Self {
            threshold_db: THRESHOLD_DB.default,
            ratio: RATIO.default,
            knee_db: KNEE_DB.default,
            attack_ms: ATTACK_MS.default,
            release_ms: RELEASE_MS.default,
            auto_release: false,
            range_db: RANGE_DB.default,
            makeup_db: MAKEUP_DB.default,
            direction: Direction::Downward,
            channels: Channels::Stereo,
            bypass: false,
            solo: false,
            compare: false,
        }
    }
}

impl BandSettings {
    /// Every number in its range (NaN -> default).
    pub fn sanitized(&self) -> Self {
        Self {
            threshold_db: THRESHOLD_DB.sanitize(self.threshold_db),
            ratio: RATIO.sanitize(self.ratio),
            knee_db: KNEE_DB.sanitize(self.knee_db),
            attack_ms: ATTACK_MS.sanitize(self.attack_ms),
            release_ms: RELEASE_MS.sanitize(self.release_ms),
            range_db: RANGE_DB.sanitize(self.range_db),
            makeup_db: MAKEUP_DB.sanitize(self.makeup_db),
            ..*self
        }
    }
}

/// The stage's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultibandSettings {
    pub enabled: bool,
    /// Number of bands, [`MIN_BANDS`]..=[`MAX_BANDS`].
    pub bands: usize,
    pub splits_hz: [f32; MAX_SPLITS],
    /// Linear-phase crossover (latency) instead of the minimum-phase LR4 tree.
    pub linear_phase: bool,
    pub lookahead_ms: f32,
    pub band: [BandSettings; MAX_BANDS],
}

impl Default for MultibandSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            bands: DEFAULT_BANDS,
            splits_hz: SPLIT_HZ.map(|r| r.default),
            linear_phase: false,
            lookahead_ms: LOOKAHEAD_MS.default,
            band: [BandSettings::default(); MAX_BANDS],
        }
    }
}

/// The static gain change of a band's dynamics at a steady detector level `level_db`, dB
/// (negative = reduction, positive = upward gain), makeup included: the design the tests
/// measure against.
pub fn static_gain_db(band: &BandSettings, level_db: f32) -> f32 {
    let b = band.sanitized();
    let slope = 1.0 - 1.0 / b.ratio;
    let change = match b.direction {
        Direction::Downward => {
            -static_gain_reduction_db(level_db, b.threshold_db, b.knee_db, slope).min(b.range_db)
        }
        Direction::Upward => {
            static_gain_reduction_db(-level_db, -b.threshold_db, b.knee_db, slope).min(b.range_db)
        }
    };
    change + b.makeup_db
}

/// The split frequencies made ascending (each at least the one below), as the crossovers
/// need them.
fn ascending(splits_hz: &[f32; MAX_SPLITS]) -> [f32; MAX_SPLITS] {
    let mut s = *splits_hz;
    for j in 1..MAX_SPLITS {
        s[j] = s[j].max(s[j - 1]);
    }
    s
}

/// The stage's latency at `sample_rate` while on: the lookahead, plus the linear-phase
/// crossover's.
pub fn latency_for(lookahead_ms: f32, linear_phase: bool, sample_rate: f32) -> u32 {
    let fs = crate::dsp::util::usable_sample_rate(sample_rate);
    lookahead_samples(lookahead_ms, fs)
        + if linear_phase {
            FirCrossover::latency_for(fs)
        } else {
            0
        }
}

/// Lookahead in samples at `sample_rate`.
pub fn lookahead_samples(lookahead_ms: f32, sample_rate: f32) -> u32 {
    let fs = crate::dsp::util::usable_sample_rate(sample_rate);
    (LOOKAHEAD_MS.sanitize(lookahead_ms) * 1e-3 * fs).round() as u32
}

/// A band's coefficients, from its settings.
#[derive(Debug, Clone, Copy, Default)]
struct Coeffs {
    threshold_db: f32,
    knee_db: f32,
    slope: f32,
    range_db: f32,
    upward: bool,
    channels: Channels,
    auto_release: bool,
    attack: f64,
    release: f64,
    fast_release: f64,
    slow: f64,
    /// The detector's one-pole coefficient (each of the two).
    detector: f64,
}

/// One band's state.
#[derive(Debug, Clone)]
struct Band {
    c: Coeffs,
    /// Mean square through two one-poles: `[channel][pole]` (channel 1 unused for mid/side).
    mean_square: [[f64; 2]; 2],
    /// Signed gain change, dB: the (fast) branching stage and the auto-release slow stage.
    fast_db: f64,
    slow_db: f64,
    makeup_db: OnePole,
    /// 1 = the dynamics act, 0 = bypassed or compared (faded).
    wet: OnePole,
    /// 1 = heard (soloed, or no band soloed), 0 = muted by another band's solo.
    heard: OnePole,
    compare: bool,
    delay: StereoDelay,
    /// The gain change of the largest magnitude in the last block, dB (for the meter).
    meter_db: f32,
}

impl Band {
    fn new(max_delay: usize) -> Self {
        Self {
            c: Coeffs::default(),
            mean_square: [[0.0; 2]; 2],
            fast_db: 0.0,
            slow_db: 0.0,
            makeup_db: OnePole::new(0.0),
            wet: OnePole::new(1.0),
            heard: OnePole::new(1.0),
            compare: false,
            delay: StereoDelay::new(max_delay),
            meter_db: 0.0,
        }
    }

    fn clear(&mut self) {
        self.mean_square = [[0.0; 2]; 2];
        self.fast_db = 0.0;
        self.slow_db = 0.0;
        self.makeup_db.snap();
        self.wet.snap();
        self.heard.snap();
        self.delay.clear();
        self.meter_db = 0.0;
    }

    /// The target gain change (signed dB) for a detector level in dB.
    #[inline]
    fn target_db(&self, level_db: f32) -> f64 {
        let c = &self.c;
        if c.upward {
            static_gain_reduction_db(-level_db, -c.threshold_db, c.knee_db, c.slope).min(c.range_db)
                as f64
        } else {
            -(static_gain_reduction_db(level_db, c.threshold_db, c.knee_db, c.slope).min(c.range_db)
                as f64)
        }
    }

    /// Ballistics on the signed gain: attack while it falls, release while it rises.
    #[inline]
    fn follow(&mut self, target: f64) -> f64 {
        let c = self.c;
        // `branching_step` attacks while its (non-negative) state rises: run it on the
        // distance below the resting gain (0 downward, +range upward), where "rising" is the
        // gain falling.
        let rest = if c.upward { f64::from(c.range_db) } else { 0.0 };
        let depth = |g: f64| rest - g;
        if c.auto_release {
            let fast = Compressor::branching_step(
                depth(self.fast_db),
                depth(target),
                c.attack,
                c.fast_release,
            );
            let slow = depth(self.slow_db);
            let slow_target = if fast > slow { fast } else { 0.0 };
            let slow = Compressor::branching_step(slow, slow_target, c.slow, c.slow);
            self.fast_db = rest - fast;
            self.slow_db = rest - slow;
            rest - fast.max(slow)
        } else {
            let fast =
                Compressor::branching_step(depth(self.fast_db), depth(target), c.attack, c.release);
            self.fast_db = rest - fast;
            self.fast_db
        }
    }
}

/// The multiband dynamics processor (stereo).
pub struct Multiband {
    sample_rate: f32,
    settings: MultibandSettings,
    crossover: Crossover,
    /// The linear-phase split (designed at reset for the splits then in place).
    fir: FirCrossover,
    bands: Vec<Band>,
    lookahead: usize,
    /// `processed[b][channel]` and `dry[b][channel]` (the band delayed, unprocessed).
    processed: Vec<[Vec<f32>; 2]>,
    dry: Vec<[Vec<f32>; 2]>,
    /// The compare path: its sum and the loudness match of it to the processed sum.
    compare_sum: [Vec<f32>; 2],
    matcher: LoudnessMatch,
    /// 1 while a band is compared (the matched compare path is heard), faded.
    comparing: OnePole,
}

impl Multiband {
    /// A processor at `sample_rate` with default settings. Allocates.
    pub fn new(sample_rate: f32) -> Self {
        let mut m = Self {
            sample_rate: 48_000.0,
            settings: MultibandSettings::default(),
            crossover: Crossover::new(sample_rate, BLOCK),
            fir: FirCrossover::new(48_000.0, BLOCK, &SPLIT_HZ.map(|r| r.default)),
            bands: Vec::new(),
            lookahead: 0,
            processed: (0..MAX_BANDS)
                .map(|_| [resident_vec(0.0, BLOCK), resident_vec(0.0, BLOCK)])
                .collect(),
            dry: (0..MAX_BANDS)
                .map(|_| [resident_vec(0.0, BLOCK), resident_vec(0.0, BLOCK)])
                .collect(),
            compare_sum: [resident_vec(0.0, BLOCK), resident_vec(0.0, BLOCK)],
            matcher: LoudnessMatch::new(),
            comparing: OnePole::new(0.0),
        };
        m.reset(sample_rate);
        m
    }

    /// Prepares for `sample_rate`: sizes the lookahead delays for it (allocates), settings in
    /// place, state cleared.
    pub fn reset(&mut self, sample_rate: f32) {
        let fs = crate::dsp::util::usable_sample_rate(sample_rate);
        self.sample_rate = fs;
        let max_delay = lookahead_samples(LOOKAHEAD_MS.max, fs) as usize;
        self.bands = (0..MAX_BANDS).map(|_| Band::new(max_delay)).collect();
        self.crossover.reset(fs);
        self.matcher.reset(fs);
        // The linear-phase split designs its kernels (FFT work): rebuilt only when the rate or
        // the splits differ from what it holds (`new` and the first reset at its rate share one).
        let splits = ascending(&self.settings.splits_hz);
        if !self.fir.is_built_for(fs, &splits) {
            self.fir = FirCrossover::new(fs, BLOCK, &splits);
        }
        let s = self.settings;
        self.set(&s);
        self.clear();
    }

    /// Forgets the signal (allocation-free); smoothed values jump to their targets.
    pub fn clear(&mut self) {
        let s = self.settings;
        self.crossover.set_splits(&s.splits_hz[..s.bands - 1]);
        self.crossover.reset(self.sample_rate);
        self.fir.clear();
        for band in &mut self.bands {
            band.clear();
        }
        self.matcher.clear();
        self.comparing.snap();
    }

    pub fn settings(&self) -> &MultibandSettings {
        &self.settings
    }

    /// Applies settings (clamped). Allocation-free. The lookahead is taken as given: the
    /// stage passes the one in place (it is structural).
    pub fn set(&mut self, settings: &MultibandSettings) {
        let mut s = *settings;
        s.bands = s.bands.clamp(MIN_BANDS, MAX_BANDS);
        s.lookahead_ms = LOOKAHEAD_MS.sanitize(s.lookahead_ms);
        for (b, r) in s.splits_hz.iter_mut().zip(&SPLIT_HZ) {
            *b = r.sanitize(*b);
        }
        for b in &mut s.band {
            *b = b.sanitized();
        }
        let fs = self.sample_rate;
        self.settings = s;
        self.lookahead = lookahead_samples(s.lookahead_ms, fs) as usize;
        self.crossover.set_splits(&s.splits_hz[..s.bands - 1]);
        self.fir.set_split_count(s.bands - 1);
        if s.linear_phase {
            self.fir.request(&ascending(&s.splits_hz));
        }
        let any_solo = s.band[..s.bands].iter().any(|b| b.solo);
        let any_compare = s.band[..s.bands].iter().any(|b| b.compare);
        let coeff = |ms: f32| f64::from(one_pole_coeff(ms * 1e-3, fs));
        for (i, (band, b)) in self.bands.iter_mut().zip(&s.band).enumerate() {
            let lower_edge = if i == 0 {
                LOWEST_EDGE_HZ
            } else {
                s.splits_hz[i - 1]
            };
            let tau = (DETECTOR_PERIODS / lower_edge).clamp(DETECTOR_TAU_MIN, DETECTOR_TAU_MAX);
            band.c = Coeffs {
                threshold_db: b.threshold_db,
                knee_db: b.knee_db,
                slope: 1.0 - 1.0 / b.ratio,
                range_db: b.range_db,
                upward: b.direction == Direction::Upward,
                channels: b.channels,
                auto_release: b.auto_release,
                attack: coeff(b.attack_ms),
                release: coeff(b.release_ms),
                fast_release: coeff(b.release_ms / AUTO_RELEASE_FAST_DIVISOR),
                slow: coeff(b.release_ms),
                detector: f64::from(one_pole_coeff(0.5 * tau, fs)),
            };
            for p in [&mut band.makeup_db, &mut band.wet, &mut band.heard] {
                p.set_time(FADE_SECONDS, fs);
            }
            band.makeup_db.target = f64::from(b.makeup_db);
            band.wet.target = if b.bypass { 0.0 } else { 1.0 };
            band.heard.target = if !any_solo || b.solo { 1.0 } else { 0.0 };
            band.compare = b.compare;
        }
        self.comparing.set_time(FADE_SECONDS, fs);
        self.comparing.target = if any_compare { 1.0 } else { 0.0 };
    }

    /// Spawns the thread that redesigns the linear-phase crossover when a split moves (see
    /// `filters::fir_crossover`). Allocates: call after [`Self::reset`], off the audio thread;
    /// without it (offline) a moved split is designed inline.
    pub fn attach_crossover_designer(&mut self) -> DesignerThread {
        self.fir.attach_designer()
    }

    /// Latency in samples: the lookahead, plus the linear-phase crossover's in that mode.
    pub fn latency_samples(&self) -> u32 {
        self.lookahead as u32
            + if self.settings.linear_phase {
                self.fir.latency_samples()
            } else {
                0
            }
    }

    /// Bands in use.
    pub fn band_count(&self) -> usize {
        self.settings.bands
    }

    /// Each band's gain change of the largest magnitude in the last block, dB (negative =
    /// reduction, positive = upward gain; makeup not included); 0 for bands not in use.
    pub fn gain_change_db(&self) -> [f32; MAX_BANDS] {
        let mut out = [0.0; MAX_BANDS];
        for (o, b) in out.iter_mut().zip(&self.bands).take(self.settings.bands) {
            *o = b.meter_db;
        }
        out
    }

    /// The compare path's loudness offset (processed minus compared), dB.
    pub fn compare_offset_db(&self) -> f32 {
        self.matcher.offset_db()
    }

    /// Processes a stereo block in place (any length; equal lengths expected).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        let mut start = 0;
        for band in &mut self.bands {
            band.meter_db = 0.0;
        }
        while start < n {
            let end = (start + BLOCK).min(n);
            self.process_block(&mut left[start..end], &mut right[start..end]);
            start = end;
        }
        for band in &mut self.bands {
            for s in band.mean_square.iter_mut().flatten() {
                *s = if s.is_finite() {
                    flush_denormal(*s)
                } else {
                    0.0
                };
            }
            if !band.fast_db.is_finite() || !band.slow_db.is_finite() {
                band.fast_db = 0.0;
                band.slow_db = 0.0;
            }
        }
    }

    fn process_block(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len();
        for x in left.iter_mut().chain(right.iter_mut()) {
            *x = sanitize(*x);
        }
        let linear = self.settings.linear_phase;
        if linear {
            self.fir.process(left, right);
        } else {
            self.crossover.process(left, right);
        }
        let count = self.settings.bands;
        let delay = self.lookahead;
        for (b, band) in self.bands.iter_mut().enumerate().take(count) {
            let (xl, xr) = if linear {
                self.fir.band(b)
            } else {
                self.crossover.band(b)
            };
            let [pl, pr] = &mut self.processed[b];
            let [dl, dr] = &mut self.dry[b];
            let c = band.c;
            let a = c.detector;
            let mut meter = 0.0f64;
            for i in 0..n {
                let (l, r) = (xl[i], xr[i]);
                // Detector input: the channels (stereo) or mid or side.
                let (u, v) = match c.channels {
                    Channels::Stereo => (f64::from(l), f64::from(r)),
                    Channels::Mid => (0.5 * (f64::from(l) + f64::from(r)), 0.0),
                    Channels::Side => (0.5 * (f64::from(l) - f64::from(r)), 0.0),
                };
                let ms = &mut band.mean_square;
                ms[0][0] = u * u + a * (ms[0][0] - u * u);
                ms[0][1] = ms[0][0] + a * (ms[0][1] - ms[0][0]);
                ms[1][0] = v * v + a * (ms[1][0] - v * v);
                ms[1][1] = ms[1][0] + a * (ms[1][1] - ms[1][0]);
                // RMS referred to a sine's peak: 2·mean square.
                let power = (2.0 * ms[0][1].max(ms[1][1])) as f32;
                let level_db = 0.5 * fast_log2(power.clamp(1e-30, f32::MAX)) * DB_PER_LOG2;
                let target = band.target_db(level_db);
                let change = band.follow(target);
                if change.abs() > meter.abs() {
                    meter = change;
                }
                let wet = band.wet.advance();
                let gain_db = wet * change + band.makeup_db.advance();
                let y = (gain_db * LOG2_PER_DB) as f32 - EXP2_HEADROOM;
                let gain = fast_exp2_nonpositive(y.min(0.0)) * EXP2_HEADROOM.exp2();
                let ((yl, yr), _) = band.delay.push_and_read(l, r, delay, delay);
                dl[i] = yl;
                dr[i] = yr;
                let g1 = gain - 1.0;
                let (ol, or) = match c.channels {
                    Channels::Stereo => (yl * gain, yr * gain),
                    Channels::Mid => {
                        let m = 0.5 * (yl + yr) * g1;
                        (yl + m, yr + m)
                    }
                    Channels::Side => {
                        let s = 0.5 * (yl - yr) * g1;
                        (yl + s, yr - s)
                    }
                };
                pl[i] = ol;
                pr[i] = or;
            }
            if meter.abs() > f64::from(band.meter_db.abs()) {
                band.meter_db = meter as f32;
            }
        }
        // The processed sum (solo weights), and the compare path if a band is compared.
        let comparing = !(self.comparing.is_settled() && self.comparing.current == 0.0);
        let [cl, cr] = &mut self.compare_sum;
        left.fill(0.0);
        right.fill(0.0);
        if comparing {
            cl[..n].fill(0.0);
            cr[..n].fill(0.0);
        }
        for (b, band) in self.bands.iter_mut().enumerate().take(count) {
            let [pl, pr] = &self.processed[b];
            let [dl, dr] = &self.dry[b];
            let compared = band.compare;
            for i in 0..n {
                let h = band.heard.advance() as f32;
                left[i] += h * pl[i];
                right[i] += h * pr[i];
                if comparing {
                    let (sl, sr) = if compared {
                        (dl[i], dr[i])
                    } else {
                        (pl[i], pr[i])
                    };
                    cl[i] += h * sl;
                    cr[i] += h * sr;
                }
            }
        }
        if comparing {
            let (cl, cr) = (&mut cl[..n], &mut cr[..n]);
            self.matcher.measure((cl, cr), (left, right));
            self.matcher.apply(cl, cr, 1.0);
            for i in 0..n {
                let w = self.comparing.advance() as f32;
                left[i] += w * (cl[i] - left[i]);
                right[i] += w * (cr[i] - right[i]);
            }
            if self.comparing.is_settled() && self.comparing.current == 0.0 {
                self.matcher.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::util::db_to_gain;

    fn sine(freq: f32, amp: f32, fs: f32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / fs).sin())
            .collect()
    }

    #[test]
    fn static_curve_has_the_knee_of_the_glue_compressor_and_its_mirror_upward() {
        let b = BandSettings {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 6.0,
            range_db: 24.0,
            ..BandSettings::default()
        };
        assert_eq!(static_gain_db(&b, -30.0), 0.0);
        assert!((static_gain_db(&b, 0.0) + 15.0).abs() < 1e-5);
        // In the knee: (1/R - 1)(x - T + W/2)^2 / (2W) at x = T.
        assert!((static_gain_db(&b, -20.0) + 0.75 * 9.0 / 12.0).abs() < 1e-5);
        let up = BandSettings {
            direction: Direction::Upward,
            ..b
        };
        assert_eq!(static_gain_db(&up, -10.0), 0.0);
        assert!((static_gain_db(&up, -40.0) - 15.0).abs() < 1e-5);
        // The range caps it.
        assert!(
            (static_gain_db(
                &BandSettings {
                    range_db: 6.0,
                    ..up
                },
                -60.0
            ) - 6.0)
                .abs()
                < 1e-5
        );
    }

    #[test]
    fn neutral_bands_are_exactly_the_crossover_sum() {
        let fs = 48_000.0;
        let mut m = Multiband::new(fs);
        let mut s = MultibandSettings {
            enabled: true,
            ..Default::default()
        };
        for b in &mut s.band {
            b.ratio = 1.0;
        }
        m.set(&s);
        m.reset(fs);
        let x = sine(440.0, 0.5, fs, 4800);
        let (mut l, mut r) = (x.clone(), x.clone());
        m.process(&mut l, &mut r);
        let mut c = Crossover::new(fs, BLOCK);
        c.set_splits(&s.splits_hz[..3]);
        c.reset(fs);
        for (k, chunk) in x.chunks(BLOCK).enumerate() {
            c.process(chunk, chunk);
            for i in 0..chunk.len() {
                let sum: f32 = (0..4).map(|b| c.band(b).0[i]).sum();
                assert_eq!(sum, l[k * BLOCK + i]);
            }
        }
    }

    #[test]
    fn upward_raises_a_quiet_sine_towards_the_threshold() {
        let fs = 48_000.0;
        let mut m = Multiband::new(fs);
        let mut s = MultibandSettings {
            enabled: true,
            bands: 2,
            ..Default::default()
        };
        for b in &mut s.band {
            b.ratio = 1.0;
        }
        s.band[1] = BandSettings {
            direction: Direction::Upward,
            threshold_db: -20.0,
            ratio: 2.0,
            knee_db: 0.0,
            range_db: 24.0,
            solo: true,
            ..BandSettings::default()
        };
        m.set(&s);
        m.reset(fs);
        let x = sine(5000.0, db_to_gain(-40.0), fs, 48_000);
        let (mut l, mut r) = (x.clone(), x.clone());
        m.process(&mut l, &mut r);
        let rms = |v: &[f32]| (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt();
        let gain = 20.0 * (rms(&l[40_000..]) / rms(&x[40_000..])).log10();
        // 20 dB under the threshold at 2:1: raised by 10 dB.
        assert!((gain - 10.0).abs() < 0.1, "{gain}");
    }
}
