//! Lookahead brickwall limiter with true-peak (inter-sample) detection.
//!
//! Topology (per stereo frame, everything per sample so block splitting never matters):
//!
//! 1. Drive: input times a smoothed drive gain (10 ms one-pole, click-free).
//! 2. Detection: each channel goes through the 8x windowed-sinc true-peak interpolator with
//!    parabolic refinement ([`stereo_true_peak_block`], see `meters/true_peak.rs` for why not the
//!    BS.1770-4 Annex 2 filter: it under-reads dense material by up to 0.27 dB); the peak `p`
//!    of a frame is the max over both channels of the refined interval peak, which includes
//!    the sample itself (stereo link: one gain for both channels, so the image never shifts).
//! 3. Requirement: `r = min(1, threshold / p)`, the gain that would put this peak exactly at
//!    the (margin-reduced) ceiling.
//! 4. Sliding minimum of `r` over `W + SUPPORT_HOLD_FRAMES` frames (`W` = lookahead in
//!    samples; the extra frames cover the interpolator's effective support, +-12 samples), done with a monotonic deque in a preallocated ring
//!    (amortised O(1)). The extra frames make the held gain cover the whole support of the
//!    interpolation filter: the output's inter-sample value between samples `s` and `s+1`
//!    depends (to 2 % of its centre tap) on output samples `s-11 ..= s+12`, and all of those receive a gain no larger
//!    than that interval's requirement. This is what turns "sample gain <= requirement" into
//!    a true-peak bound.
//! 5. Release: instant attack, exponential release in the linear gain domain (manual), or
//!    a two-stage program-dependent release (auto, see [`LimiterSettings::auto_release`]).
//!    The release can only raise the gain *towards* the held requirement, never above it.
//! 6. Smoothing: a moving average (box filter) of length `W`. A box average of a signal that
//!    is min-held for at least `W` samples reaches the minimum exactly when the peak arrives
//!    and never undershoots the requirement: the attack is a smooth ramp over the lookahead
//!    time with no overshoot (the classic "min-hold + moving average" lookahead limiter;
//!    e.g. the approach used by Signalsmith's and many commercial brickwall designs; see also
//!    Giannoulis, Massberg, Reiss 2012, "Digital Dynamic Range Compressor Design", for the
//!    attack/release smoothing terminology).
//! 7. The audio (undriven input and the drive gain) goes through a delay of
//!    `W + SUPPORT_DELAY_FRAMES` frames so the gain computed for a peak lines up with it (see
//!    [`Limiter::latency_samples`]).
//!
//! Characters ([`LimiterCharacter`]) change only the envelope's behaviour around this
//! topology, never the lookahead, the hold or the delay, so they change neither the latency
//! nor the true-peak argument above: *Transparent* is the topology as described; *Punchy*
//! puts a bounded, stereo-linked transient soft clipper in front of the detector (step 1.5:
//! driven samples that rise above both the threshold and the level of the last milliseconds
//! are shaved by at most [`PUNCHY_CLIP_MAX_DB`] before the limiter sees them); *Dense* runs
//! the release [`DENSE_RELEASE_SCALE`] times faster.
//!
//! Because the gain still varies within the interpolation filter's support during attack
//! and release ramps, the product `gain * signal` can overshoot the requirement by a tiny
//! amount; an internal safety margin of [`SAFETY_MARGIN_DB`] below the ceiling absorbs it
//! (measured in the tests: the worst overshoot on square waves, impulse trains, driven
//! noise, sweeps and Nyquist tones stays below the 0.1 dB guarantee).

use crate::dsp::meters::true_peak::{
    stereo_true_peak_block, TRUE_PEAK_DELAY, TRUE_PEAK_HISTORY, TRUE_PEAK_MAX_FILTER_GAIN,
};
use crate::dsp::util::range::Range;
use crate::dsp::util::smoothing::{approach, OnePole};
use crate::dsp::util::{
    abs_peak, db_to_gain, finite_max, finite_min, gain_to_db, one_pole_coeff, sanitize,
};

/// Frames per internal chunk. `process` runs each stage over a chunk in its own tight loop
/// (drive and delay-line writes, vectorised true-peak detection, requirement, then the
/// serial gain pipeline), which is what makes it fast; every stage is still per sample, so
/// the output does not depend on the chunking or on the caller's block size.
const CHUNK: usize = 64;
/// Detector input: the previous driven samples the interpolator needs, then the chunk.
const DETECTOR_HISTORY: usize = TRUE_PEAK_HISTORY + CHUNK;
/// A chunk whose largest driven magnitude (including the history samples) times this
/// is at most the threshold cannot produce a peak above it: the filter's worst-case gain
/// plus a margin far above the f32 rounding of 12-term sums.
const QUIET_CHUNK_FACTOR: f32 = TRUE_PEAK_MAX_FILTER_GAIN * 1.001;

/// Buffers are always sized for at least this rate, so any rate up to it needs no reallocation.
const MAX_PREALLOCATED_SAMPLE_RATE: f32 = 192_000.0;
/// The part of the interpolator's support the held gain must cover: the samples around an
/// interval whose coefficients matter (the Kaiser-windowed sinc's taps beyond +-12 samples
/// are below 2 % of the centre tap). Covering all 64 taps would lengthen every gain dip by
/// 40 frames and, under dense limiting, cost loudness for a sub-0.01 dB effect.
const EFFECTIVE_SUPPORT: usize = 24;
/// Extra hold frames so the held gain covers the effective support of an interval, which the
/// detector reports `TRUE_PEAK_DELAY` samples after its start (see the module docs, step 4).
const SUPPORT_HOLD_FRAMES: usize =
    EFFECTIVE_SUPPORT / 2 + SUPPORT_DELAY_FRAMES + 1 - TRUE_PEAK_DELAY;
/// Extra audio delay beyond the lookahead, aligning the gain with the effective support.
const SUPPORT_DELAY_FRAMES: usize = TRUE_PEAK_DELAY + EFFECTIVE_SUPPORT / 2 - 2;
/// Internal threshold sits this far below the ceiling to absorb inter-sample overshoot from
/// gain changes inside the interpolation support, the detector's residual under-read of
/// clipper products near Nyquist, and rounding. 0.03 dB held every synthetic signal of
/// `tests/true_peak.rs` within 0.05 dB of the ceiling by the reference meter, but real dense,
/// bright, already-clipped music driven +12 dB makes the limiter's own gain modulation fill
/// the band to Nyquist, where the 64-tap detector reads the output up to 0.09 dB low: a real
/// metal song (Muldjord, "Mutilated Mime") came out at -0.944 dBTP for a -1 dBTP ceiling
/// (issue 24). 0.1 dB holds it within 0.05 dB of the ceiling at a cost of 0.07 dB of
/// loudness, which no listener hears and every delivery spec prefers to an over.
pub const SAFETY_MARGIN_DB: f32 = 0.1;
const DRIVE_SMOOTHING_SECONDS: f32 = 0.010;
const BYPASS_CROSSFADE_SECONDS: f32 = 0.010;
/// Length of each half (out, in) of the fade used to change the lookahead cleanly.
const LOOKAHEAD_FADE_SECONDS: f32 = 0.002;
/// Auto release: time constant of the "sustain" measure, the recent fraction of time with
/// gain reduction active, which blends the release from fast to slow.
const AUTO_SUSTAIN_SECONDS: f32 = 0.2;
/// Auto release: transient release time constant = release_ms * this.
const AUTO_FAST_RELEASE_FACTOR: f32 = 0.25;
/// Auto release: sustained release time constant = release_ms * this.
const AUTO_SLOW_RELEASE_FACTOR: f32 = 3.0;
/// Gain below this counts as "gain reduction active" for the sustain measure (~0.01 dB).
const SUSTAIN_ACTIVE_GAIN: f32 = 0.999;
/// Punchy: the most the clipper takes off a driven sample, dB. Its curve rises from the knee
/// with slope 1 and approaches knee + this asymptotically, so a transient 6 dB over the knee
/// leaves the clipper 2.2 dB over it (the limiter takes the rest), one 12 dB over leaves it
/// 2.7 dB over. A few dB is what mastering engineers commonly clip into a limiter.
pub const PUNCHY_CLIP_MAX_DB: f32 = 3.0;
/// Punchy: attack time constant of the clipper's level follower. A sound that rises faster
/// than this (a drum hit: its first milliseconds) outruns the follower and is clipped; one
/// that stays (a tone, a held chord) is caught within a few of these and then only limited.
const PUNCHY_FOLLOWER_ATTACK_SECONDS: f32 = 0.002;
/// Punchy: release time constant of the follower: long against a bass period (a 60 Hz tone's
/// crests, 8.3 ms apart, find it 8 % lower, which the soft knee barely touches), short against
/// the gap between drum hits (it is back near the threshold 250 ms later, the next hit is
/// clipped again).
const PUNCHY_FOLLOWER_RELEASE_SECONDS: f32 = 0.1;
/// Dense: the release time constants (manual, and both auto stages) are the release setting
/// times this.
pub const DENSE_RELEASE_SCALE: f32 = 0.3;
/// A change of character fades the clipper in or out over this time (the release change needs
/// no fade: the envelope is continuous whatever its rate).
const CHARACTER_CROSSFADE_SECONDS: f32 = 0.010;

/// How the limiter reaches its (unchanged) true-peak ceiling. Not a structural setting: the
/// lookahead, the hold and the delay are the same for every character, so is the latency.
/// Switching is click-free (the clipper fades in or out over 10 ms; the release rate changes
/// under a continuous envelope).
///
/// The three sit at different points of the trade-off every peak limiter makes between
/// loudness, distortion and transient shape (Giannoulis, Massberg, Reiss 2012, "Digital
/// Dynamic Range Compressor Design: A Tutorial and Analysis", JAES 60(6): fast time constants
/// let the gain follow the waveform, which is distortion, slow ones duck the programme around
/// every peak, which costs loudness and flattens transients).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LimiterCharacter {
    /// The min-hold + moving-average lookahead limiter of the module docs: the gain ramps over
    /// the lookahead, holds, and releases (manual or program-dependent). Lowest distortion:
    /// a steady tone above the ceiling gets a constant gain (the hold spans its period), so
    /// it is turned down, not reshaped.
    #[default]
    Transparent,
    /// Clip the transients, limit the rest. A stereo-linked transient soft clipper on the
    /// driven signal, in front of the detector. Its knee `K` is the larger of the threshold
    /// and a level follower (the branching peak detector of Giannoulis, Massberg, Reiss 2012:
    /// 2 ms attack, 100 ms release) of the driven magnitude; above the knee the curve is
    /// `K + h x / (x + h)` of the excess `x`, `h = K (10^(3/20) - 1)`: slope 1 at the knee (no
    /// corner), never more than [`PUNCHY_CLIP_MAX_DB`] over it. What rises faster than the
    /// follower, the first milliseconds of a drum hit, is clipped (its broadband spectrum
    /// masks the clipper's harmonics, and a clip that short has no time to sound as
    /// distortion); what stays is caught by the follower within a few milliseconds and only
    /// limited, so a held tone over the ceiling is turned down cleanly as in Transparent
    /// (THD+N figure in the README). The limiter then needs up to 3 dB less gain reduction
    /// around each hit, so its lookahead ramp and release duck the hit's first milliseconds
    /// and everything under it that much less: the transient's onset comes through louder,
    /// and so does the master. A slower limiter attack cannot do this (the ramp is as long as
    /// the lookahead, which is latency), a clipper can: it needs no lookahead. The price is
    /// the clipper's distortion of the transients, and of bass whose crests outrun the
    /// follower's release (the IMD figure). The true-peak argument is unchanged: the detector
    /// sees the clipped signal, which is exactly what is delayed and scaled (the clip is one
    /// more factor of the per-sample drive gain stored beside the audio), so the ceiling holds
    /// for the clipper's own inter-sample peaks as well. Stereo-linked (one factor from the
    /// louder channel, like the limiter's gain): the image never shifts.
    Punchy,
    /// Loud and dense: release time constants [`DENSE_RELEASE_SCALE`] times the setting
    /// (manual, and both stages of the auto release). The gain recovers between peaks 3.3x
    /// sooner, so the average gain, and with it the loudness at a given drive, is higher;
    /// the price is that on low frequencies (periods longer than the hold) the gain follows
    /// the waveform more (intermodulation: a bass note modulates everything above it) and
    /// dense programme pumps more. Attack and hold are unchanged, so is the ceiling argument
    /// (the release can only raise the gain towards the held requirement).
    Dense,
}

impl LimiterCharacter {
    /// Every character, in the order the parameter lists them.
    pub const ALL: [Self; 3] = [Self::Transparent, Self::Punchy, Self::Dense];

    /// Factor on the release time constants.
    fn release_scale(self) -> f32 {
        match self {
            Self::Transparent | Self::Punchy => 1.0,
            Self::Dense => DENSE_RELEASE_SCALE,
        }
    }

    /// Whether the character clips in front of the detector.
    fn clips(self) -> bool {
        self == Self::Punchy
    }
}

/// Limiter parameters. `Default` is the typical mastering setting (ceiling -1 dBTP, no drive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimiterSettings {
    /// When false the module outputs the input delayed by `latency_samples()` (10 ms
    /// crossfade on toggling; latency is unchanged so the host's compensation stays valid).
    pub enabled: bool,
    /// Input gain into the limiter, dB, 0..24.
    pub drive_db: f32,
    /// Output true-peak ceiling, dBTP, -12..0.
    pub ceiling_db: f32,
    /// Release time constant, ms, 1..1000 (time to recover 1 - 1/e of the gain in manual
    /// mode; in auto mode it scales both release stages).
    pub release_ms: f32,
    /// Program-dependent release: the release rate is blended between a fast stage
    /// (time constant `release_ms / 4`) and a slow stage (`3 * release_ms`) by the fraction
    /// of the last ~200 ms (one-pole) during which gain reduction was active. Isolated
    /// transients recover fast; sustained limiting (dense program, bass tones) releases
    /// slowly, so the gain does not follow the waveform (less modulation distortion).
    pub auto_release: bool,
    /// Lookahead, ms, 0.5..5. Changing it changes `latency_samples()`; the change is applied
    /// with a 2 ms fade-out / 2 ms fade-in so the delay jump is inaudible.
    pub lookahead_ms: f32,
    /// How the ceiling is reached ([`LimiterCharacter`]); never changes the latency.
    pub character: LimiterCharacter,
}

/// Input gain into the limiter, dB.
pub const DRIVE_DB: Range = Range::new(0.0, 24.0, 0.0, "dB");
/// Output true-peak ceiling, dBTP.
pub const CEILING_DB: Range = Range::new(-12.0, 0.0, -1.0, "dBTP");
/// Release time constant, ms.
pub const RELEASE_MS: Range = Range::new(1.0, 1000.0, 100.0, "ms");
/// Lookahead, ms: its maximum sizes the delay lines (allocated in `reset`).
pub const LOOKAHEAD_MS: Range = Range::new(0.5, 5.0, 1.5, "ms");

impl Default for LimiterSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            drive_db: DRIVE_DB.default,
            ceiling_db: CEILING_DB.default,
            release_ms: RELEASE_MS.default,
            auto_release: true,
            lookahead_ms: LOOKAHEAD_MS.default,
            character: LimiterCharacter::Transparent,
        }
    }
}

/// Lookahead of the listening paths' safety limiters (the original raised to the master's
/// loudness, the reference raised to it): the shortest the range allows, so their latency
/// never exceeds the chain's and they can always be aligned.
pub const SAFETY_LOOKAHEAD_MS: f32 = 0.5;

impl LimiterSettings {
    /// The listening paths' safety limiter at `ceiling_db` (the master's ceiling): no drive,
    /// 100 ms auto release, [`SAFETY_LOOKAHEAD_MS`], transparent. One definition for the realtime paths
    /// (`ab/`) and the reference's precomputed limiting curve (`reference/track.rs`), which
    /// must behave exactly alike.
    pub fn safety(ceiling_db: f32, enabled: bool) -> Self {
        Self {
            enabled,
            drive_db: 0.0,
            ceiling_db,
            release_ms: 100.0,
            auto_release: true,
            lookahead_ms: SAFETY_LOOKAHEAD_MS,
            character: LimiterCharacter::Transparent,
        }
    }

    /// Every field in its range ([`Range::sanitize`]: clamped; NaN/Inf → default).
    fn sanitized(&self) -> Self {
        Self {
            enabled: self.enabled,
            drive_db: DRIVE_DB.sanitize(self.drive_db),
            ceiling_db: CEILING_DB.sanitize(self.ceiling_db),
            release_ms: RELEASE_MS.sanitize(self.release_ms),
            auto_release: self.auto_release,
            lookahead_ms: LOOKAHEAD_MS.sanitize(self.lookahead_ms),
            character: self.character,
        }
    }
}

/// Sliding-window minimum over the last `window` values, by van Herk's and Gil & Werman's
/// block method (van Herk 1992, "A fast algorithm for local minimum and maximum filters on
/// rectangular and octagonal kernels"; Gil & Werman 1993): the stream is cut into blocks of
/// `window` values; a window ending at position `p` of the current block is the suffix of the
/// previous block after `p` plus the current block's prefix up to `p`, so its minimum is
/// `min(suffix_min[p + 1], prefix_min)`. Per value: two compare-selects and one load, and once
/// per block a backward pass for the suffix minima. Exactly the minimum (no arithmetic), like
/// the monotonic deque it replaced (issue 26), but without that deque's data-dependent loop,
/// whose branch mispredictions on dense programme cost more than the rest of the gain
/// pipeline. Storage is preallocated; nothing allocates after `with_capacity`.
struct SlidingMinimum {
    /// The current block's values.
    block: Vec<f32>,
    /// `suffix[i]` = minimum of the previous block's values `i..window`; `suffix[window]` is
    /// +inf (a window ending at a block's last position lies inside that block).
    suffix: Vec<f32>,
    prefix: f32,
    position: usize,
    window: usize,
}

impl SlidingMinimum {
    fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        Self {
            block: vec![1.0; capacity],
            suffix: vec![f32::INFINITY; capacity + 1],
            prefix: f32::INFINITY,
            position: 0,
            window: 1,
        }
    }

    /// Forgets every value: the next minimum covers only what is pushed from now on.
    fn clear(&mut self) {
        self.suffix.fill(f32::INFINITY);
        self.prefix = f32::INFINITY;
        self.position = 0;
    }

    /// Pushes `value` and returns the minimum of the last `window` values pushed since the
    /// last `clear` (fewer at the start). `window` (1..=capacity) must stay the same between
    /// clears; a different one restarts the filter.
    #[inline]
    fn push(&mut self, value: f32, window: usize) -> f32 {
        let mut minimum = [0.0f32];
        self.push_block(&[value], &mut minimum, window);
        minimum[0]
    }

    /// [`Self::push`] for each of `values`, the minima into `minima` (the common length), with
    /// the filter's state in registers for the whole block.
    #[inline]
    fn push_block(&mut self, values: &[f32], minima: &mut [f32], window: usize) {
        if window != self.window {
            self.window = window.clamp(1, self.block.len());
            self.clear();
        }
        let window = self.window;
        let (mut position, mut prefix) = (self.position, self.prefix);
        let (block, suffix) = (&mut self.block[..window], &mut self.suffix[..=window]);
        for (&value, minimum) in values.iter().zip(minima.iter_mut()) {
            block[position] = value;
            // `prefix` restarts at +inf with each block (set below), so no branch here.
            prefix = finite_min(prefix, value);
            *minimum = finite_min(suffix[position + 1], prefix);
            position += 1;
            if position == window {
                let mut running = f32::INFINITY;
                for (suffix, &v) in suffix[..window].iter_mut().zip(block.iter()).rev() {
                    running = finite_min(running, v);
                    *suffix = running;
                }
                position = 0;
                prefix = f32::INFINITY;
            }
        }
        self.position = position;
        self.prefix = prefix;
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum LookaheadFade {
    Idle,
    FadingOut,
    FadingIn,
}

/// Stereo-linked true-peak lookahead limiter. See the module docs for the topology.
pub struct Limiter {
    sample_rate: f32,
    settings: LimiterSettings,

    /// Driven samples for the block true-peak detector: history frames, then the chunk.
    detector_left: [f32; DETECTOR_HISTORY],
    detector_right: [f32; DETECTOR_HISTORY],

    // Audio delay (undriven input and the drive gain applied to it), power-of-two ring.
    delay_left: Vec<f32>,
    delay_right: Vec<f32>,
    delay_drive: Vec<f32>,
    delay_mask: usize,
    delay_write: usize,

    // Gain requirement history, kept so a lookahead change can rebuild the gain pipeline.
    requirement_history: Vec<f32>,
    history_mask: usize,

    hold: SlidingMinimum,
    box_ring: Vec<f32>,
    box_pos: usize,
    box_sum: f64,
    /// `1 / lookahead_samples`, for the box average.
    inverse_window: f64,

    envelope: f32,
    /// Recent fraction of time with gain reduction active (0..1), for auto release.
    sustain: f32,

    /// Active lookahead `W` in samples, and the one requested by the settings.
    lookahead_samples: usize,
    target_lookahead_samples: usize,
    max_lookahead_samples: usize,
    fade_state: LookaheadFade,
    fade: f32,
    fade_step: f32,

    /// Drive gain, gliding in f64: an f32 one-pole of 10 ms stalls about 0.1 % short of its
    /// target (the per-sample step falls below half an ulp) and never reaches the exact,
    /// cheap steady path.
    drive: OnePole,
    mix: f32,
    mix_step: f32,
    threshold: f32,
    /// Release rates are `1 - one_pole_coeff`, so blending rates blends 1/time constants.
    manual_release_rate: f32,
    fast_release_rate: f32,
    slow_release_rate: f32,
    sustain_coeff: f32,

    /// Punchy's clipper: how much of it is in (0..1; 1 while Punchy, 0 otherwise, gliding
    /// linearly over [`CHARACTER_CROSSFADE_SECONDS`] on a change), the per-sample glide step,
    /// the lowest knee (the threshold), the headroom above the knee relative to it (the
    /// asymptote over the knee, minus 1), and the level follower with its attack and release
    /// rates (`1 - one_pole_coeff`).
    clip_amount: f32,
    clip_step: f32,
    clip_knee: f32,
    clip_headroom: f32,
    clip_follower: f32,
    clip_attack_rate: f32,
    clip_release_rate: f32,

    sample_index: u64,
    block_min_gain: f32,
}

impl Limiter {
    /// Allocates all buffers (for lookahead up to 5 ms at up to 192 kHz) and resets.
    pub fn new(sample_rate: f32) -> Self {
        let mut limiter = Self {
            sample_rate: 48_000.0,
            settings: LimiterSettings::default(),
            detector_left: [0.0; DETECTOR_HISTORY],
            detector_right: [0.0; DETECTOR_HISTORY],
            delay_left: Vec::new(),
            delay_right: Vec::new(),
            delay_drive: Vec::new(),
            delay_mask: 0,
            delay_write: 0,
            requirement_history: Vec::new(),
            history_mask: 0,
            hold: SlidingMinimum::with_capacity(2),
            box_ring: Vec::new(),
            box_pos: 0,
            box_sum: 0.0,
            inverse_window: 1.0,
            envelope: 1.0,
            sustain: 0.0,
            lookahead_samples: 1,
            target_lookahead_samples: 1,
            max_lookahead_samples: 1,
            fade_state: LookaheadFade::Idle,
            fade: 1.0,
            fade_step: 0.0,
            drive: OnePole::new(1.0),
            mix: 1.0,
            mix_step: 0.0,
            threshold: 1.0,
            manual_release_rate: 1.0,
            fast_release_rate: 1.0,
            slow_release_rate: 1.0,
            sustain_coeff: 0.0,
            clip_amount: 0.0,
            clip_step: 0.0,
            clip_knee: 1.0,
            clip_headroom: 0.0,
            clip_follower: 0.0,
            clip_attack_rate: 1.0,
            clip_release_rate: 1.0,
            sample_index: 0,
            block_min_gain: 1.0,
        };
        limiter.reset(sample_rate);
        limiter
    }

    fn lookahead_to_samples(lookahead_ms: f32, sample_rate: f32) -> usize {
        ((lookahead_ms * 0.001 * sample_rate).round() as usize).max(1)
    }

    /// Clears all state at the current sample rate. Allocation-free: the buffers already have
    /// the size `reset` gives them for this rate.
    pub fn clear(&mut self) {
        self.reset(self.sample_rate);
    }

    /// Sets the sample rate, (re)allocates if the rate exceeds the preallocated maximum,
    /// clears all state. Not realtime-safe; call off the audio thread.
    pub fn reset(&mut self, sample_rate: f32) {
        let sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        self.sample_rate = sample_rate;
        let capacity_rate = sample_rate.max(MAX_PREALLOCATED_SAMPLE_RATE);
        let max_w = Self::lookahead_to_samples(LOOKAHEAD_MS.max, capacity_rate) + 1;
        self.max_lookahead_samples = max_w;
        let max_hold = max_w + SUPPORT_HOLD_FRAMES;

        // A whole chunk is written before its reads, so the ring also spans a chunk.
        let delay_len = (max_w + SUPPORT_DELAY_FRAMES + 2 + CHUNK).next_power_of_two();
        let history_len = (max_w + max_hold + 2).next_power_of_two();
        if self.delay_left.len() < delay_len {
            self.delay_left = vec![0.0; delay_len];
            self.delay_right = vec![0.0; delay_len];
            self.delay_drive = vec![0.0; delay_len];
        }
        if self.requirement_history.len() < history_len {
            self.requirement_history = vec![1.0; history_len];
        }
        if self.box_ring.len() < max_w {
            self.box_ring = vec![1.0; max_w];
        }
        if self.hold.block.len() < max_hold + 2 {
            self.hold = SlidingMinimum::with_capacity(max_hold + 2);
        }
        self.delay_mask = self.delay_left.len() - 1;
        self.history_mask = self.requirement_history.len() - 1;
        self.delay_left.fill(0.0);
        self.delay_right.fill(0.0);
        self.delay_drive.fill(0.0);
        self.delay_write = 0;
        self.requirement_history.fill(1.0);
        self.hold.clear();
        self.box_ring.fill(1.0);
        self.detector_left = [0.0; DETECTOR_HISTORY];
        self.detector_right = [0.0; DETECTOR_HISTORY];
        self.envelope = 1.0;
        self.sustain = 0.0;
        // Start the index past the history length so replay indices never underflow.
        self.sample_index = self.requirement_history.len() as u64;
        self.block_min_gain = 1.0;

        let settings = self.settings;
        self.apply_settings(&settings);
        self.lookahead_samples = self.target_lookahead_samples;
        self.box_pos = 0;
        self.box_sum = self.lookahead_samples as f64;
        self.inverse_window = 1.0 / self.lookahead_samples as f64;
        self.fade_state = LookaheadFade::Idle;
        self.fade = 1.0;
        self.drive.snap();
        self.mix = if settings.enabled { 1.0 } else { 0.0 };
        self.clip_amount = self.clip_target();
        self.clip_follower = 0.0;
    }

    /// What [`Self::clip_amount`] glides to for the current character.
    fn clip_target(&self) -> f32 {
        if self.settings.character.clips() {
            1.0
        } else {
            0.0
        }
    }

    /// Updates parameters. Realtime-safe: no allocation; drive, bypass and lookahead changes
    /// are smoothed/faded per sample inside `process`.
    pub fn set(&mut self, settings: &LimiterSettings) {
        let settings = settings.sanitized();
        self.apply_settings(&settings);
    }

    fn apply_settings(&mut self, settings: &LimiterSettings) {
        let fs = self.sample_rate;
        self.settings = *settings;
        self.drive.target = db_to_gain(settings.drive_db) as f64;
        self.drive.set_time(DRIVE_SMOOTHING_SECONDS, fs);
        self.mix_step = 1.0 / (BYPASS_CROSSFADE_SECONDS * fs).max(1.0);
        self.fade_step = 1.0 / (LOOKAHEAD_FADE_SECONDS * fs).max(1.0);
        self.threshold = db_to_gain(settings.ceiling_db - SAFETY_MARGIN_DB);
        // Transparent's scale is 1.0: the product is the release exactly as before.
        let release_s = settings.release_ms * 0.001 * settings.character.release_scale();
        self.manual_release_rate = 1.0 - one_pole_coeff(release_s, fs);
        self.fast_release_rate = 1.0 - one_pole_coeff(release_s * AUTO_FAST_RELEASE_FACTOR, fs);
        self.slow_release_rate = 1.0 - one_pole_coeff(release_s * AUTO_SLOW_RELEASE_FACTOR, fs);
        self.sustain_coeff = one_pole_coeff(AUTO_SUSTAIN_SECONDS, fs);
        self.clip_step = 1.0 / (CHARACTER_CROSSFADE_SECONDS * fs).max(1.0);
        self.clip_knee = self.threshold;
        self.clip_headroom = db_to_gain(PUNCHY_CLIP_MAX_DB) - 1.0;
        self.clip_attack_rate = 1.0 - one_pole_coeff(PUNCHY_FOLLOWER_ATTACK_SECONDS, fs);
        self.clip_release_rate = 1.0 - one_pole_coeff(PUNCHY_FOLLOWER_RELEASE_SECONDS, fs);
        self.target_lookahead_samples =
            Self::lookahead_to_samples(settings.lookahead_ms, fs).min(self.max_lookahead_samples);
    }

    /// Exact delay, in samples, of an impulse through `process` once the current settings
    /// are in effect: lookahead `W = round(lookahead_ms * fs / 1000)` plus `SUPPORT_DELAY_FRAMES` (42) samples that
    /// align the gain with the interpolation filter's support. Depends only on sample rate
    /// and lookahead (a lookahead change takes effect within 2 ms, via a 4 ms fade).
    pub fn latency_samples(&self) -> u32 {
        (self.target_lookahead_samples + SUPPORT_DELAY_FRAMES) as u32
    }

    /// The latency a limiter set to `lookahead_ms` has at `sample_rate`, without one: what
    /// [`Self::latency_samples`] reports once the lookahead is in place (hosts ask for the
    /// latency before the plugin is activated).
    pub fn latency_for(lookahead_ms: f32, sample_rate: f32) -> u32 {
        let lookahead = LOOKAHEAD_MS.sanitize(lookahead_ms);
        (Self::lookahead_to_samples(lookahead, sample_rate) + SUPPORT_DELAY_FRAMES) as u32
    }

    /// Largest gain reduction applied during the last `process` call, in dB (>= 0).
    pub fn gain_reduction_db(&self) -> f32 {
        -gain_to_db(self.block_min_gain).min(0.0)
    }

    /// Limits a stereo block in place. Slices should have equal length; if not, only the
    /// common length is processed.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let frames = left.len().min(right.len());
        let mut min_gain = 1.0f32;
        for (l, r) in left[..frames]
            .chunks_mut(CHUNK)
            .zip(right[..frames].chunks_mut(CHUNK))
        {
            min_gain = min_gain.min(self.process_chunk(l, r));
        }
        self.block_min_gain = min_gain;
    }

    /// One chunk (at most [`CHUNK`] frames); returns its smallest gain.
    fn process_chunk(&mut self, left: &mut [f32], right: &mut [f32]) -> f32 {
        let len = left.len().min(right.len()).min(CHUNK);
        let history = TRUE_PEAK_HISTORY;

        // Stage 1: sanitise, drive (smoothed per sample; snaps to the target so a steady
        // setting is exact), detector input, and the audio delay line (undriven input and
        // the drive applied to it).
        let mut write = self.delay_write;
        let clip_target = self.clip_target();
        if self.clip_amount == 0.0 && clip_target == 0.0 {
            for i in 0..len {
                let in_left = sanitize(left[i]);
                let in_right = sanitize(right[i]);
                // One compare per sample once settled (the usual case: the value is then exact).
                let drive = self.drive.advance() as f32;
                self.detector_left[history + i] = in_left * drive;
                self.detector_right[history + i] = in_right * drive;
                self.delay_left[write] = in_left;
                self.delay_right[write] = in_right;
                self.delay_drive[write] = drive;
                write = (write + 1) & self.delay_mask;
            }
        } else {
            write = self.drive_and_clip(left, right, len, write, clip_target);
        }

        // Stage 2: stereo-linked true peak (8x interpolation with refinement, samples included)
        // and the gain each frame requires. A chunk too quiet to reach the threshold even
        // with the filter's worst-case gain needs no filtering: its requirement is exactly 1.
        let threshold = self.threshold;
        let mut requirements = [1.0f32; CHUNK];
        let loudest = finite_max(
            abs_peak(&self.detector_left[..history + len]),
            abs_peak(&self.detector_right[..history + len]),
        );
        if loudest * QUIET_CHUNK_FACTOR > threshold {
            let mut peaks = [0.0f32; CHUNK];
            stereo_true_peak_block(
                &self.detector_left[..history + len],
                &self.detector_right[..history + len],
                &mut peaks[..len],
            );
            for (requirement, &peak) in requirements[..len].iter_mut().zip(peaks.iter()) {
                *requirement = if peak > threshold {
                    threshold / peak
                } else {
                    1.0
                };
            }
        }
        self.detector_left.copy_within(len..len + history, 0);
        self.detector_right.copy_within(len..len + history, 0);

        // Stage 3 (serial): hold, release, box average, delayed output.
        let mix_target = if self.settings.enabled { 1.0 } else { 0.0 };
        let steady = self.fade_state == LookaheadFade::Idle
            && self.target_lookahead_samples == self.lookahead_samples
            && self.mix == mix_target
            && self.mix == 1.0;
        let min_gain = if steady {
            self.gain_pipeline_steady(&requirements[..len], left, right)
        } else {
            self.gain_pipeline_general(&requirements[..len], left, right, mix_target)
        };
        self.delay_write = write;
        min_gain
    }

    /// Stage 1 with Punchy's clipper in (or fading in or out): the clip becomes one more
    /// factor of the per-sample drive gain, applied to the detector input and stored beside
    /// the audio, so the detector sees exactly what will be delayed and scaled (step 1.5 of
    /// the module docs). A sample at or below the knee keeps the drive gain bit for bit.
    /// Returns the next delay write position.
    fn drive_and_clip(
        &mut self,
        left: &[f32],
        right: &[f32],
        len: usize,
        mut write: usize,
        clip_target: f32,
    ) -> usize {
        let history = TRUE_PEAK_HISTORY;
        let (threshold, headroom) = (self.clip_knee, self.clip_headroom);
        let (attack, release) = (self.clip_attack_rate, self.clip_release_rate);
        let mut amount = self.clip_amount;
        if amount == 0.0 {
            // Fading in from Transparent or Dense: the follower starts at the level of the
            // last driven samples (the detector's history), not at whatever it held when
            // Punchy was last on, nor at silence (which would clip what is playing as if it
            // were a new transient).
            self.clip_follower = finite_max(
                abs_peak(&self.detector_left[..history]),
                abs_peak(&self.detector_right[..history]),
            );
        }
        let mut follower = self.clip_follower;
        for i in 0..len {
            let in_left = sanitize(left[i]);
            let in_right = sanitize(right[i]);
            let drive = self.drive.advance() as f32;
            // Stereo-linked: the louder channel's driven magnitude sets the factor.
            let magnitude = (in_left * drive).abs().max((in_right * drive).abs());
            // The knee is the level of the samples before this one (or the threshold).
            let knee = finite_max(threshold, follower);
            let gain = if magnitude > knee {
                let excess = magnitude - knee;
                let room = knee * headroom;
                let clipped = knee + room * excess / (excess + room);
                drive * (1.0 + amount * (clipped / magnitude - 1.0))
            } else {
                drive
            };
            // Branching peak detector (Giannoulis, Massberg, Reiss 2012, section on level detection).
            let rate = if magnitude > follower {
                attack
            } else {
                release
            };
            follower += (magnitude - follower) * rate;
            if amount != clip_target {
                amount = approach(amount, clip_target, self.clip_step);
            }
            self.detector_left[history + i] = in_left * gain;
            self.detector_right[history + i] = in_right * gain;
            self.delay_left[write] = in_left;
            self.delay_right[write] = in_right;
            self.delay_drive[write] = gain;
            write = (write + 1) & self.delay_mask;
        }
        self.clip_amount = amount;
        self.clip_follower = follower;
        write
    }

    /// Records the requirement, returns the held (sliding-minimum) requirement.
    #[inline(always)]
    fn hold_requirement(&mut self, requirement: f32) -> f32 {
        self.requirement_history[self.sample_index as usize & self.history_mask] = requirement;
        self.sample_index += 1;
        self.hold
            .push(requirement, self.lookahead_samples + SUPPORT_HOLD_FRAMES)
    }

    /// Stage 3 when no lookahead fade or bypass crossfade is running and the limiter is
    /// enabled (the state cannot change within a chunk then, because only `set` starts
    /// those): the same per-sample arithmetic as [`Self::gain_pipeline_general`] with
    /// `fade = mix = 1` (where it is exactly `delayed * drive * gain`), kept in locals.
    fn gain_pipeline_steady(
        &mut self,
        requirements: &[f32],
        left: &mut [f32],
        right: &mut [f32],
    ) -> f32 {
        let window = self.lookahead_samples;
        let delay = window + SUPPORT_DELAY_FRAMES;
        let mask = self.delay_mask;
        let mut write = self.delay_write;
        let mut envelope = self.envelope;
        let mut sustain = self.sustain;
        let release = self.release_parameters();
        let mut box_sum = self.box_sum;
        let mut box_pos = self.box_pos;
        let inverse_window = self.inverse_window;
        let mut min_gain = 1.0f32;
        let history_mask = self.history_mask;
        let mut sample_index = self.sample_index;
        // Disjoint borrows, so the buffers' pointers stay in registers across the loop.
        let Self {
            hold,
            requirement_history,
            box_ring,
            delay_left,
            delay_right,
            delay_drive,
            ..
        } = self;
        let box_ring = &mut box_ring[..window];
        let (delay_left, delay_right, delay_drive) =
            (&delay_left[..], &delay_right[..], &delay_drive[..]);
        // The held requirements of the whole chunk first: the sliding minimum does not depend
        // on the envelope, so it stays out of the serial loop below.
        for &requirement in requirements {
            requirement_history[sample_index as usize & history_mask] = requirement;
            sample_index += 1;
        }
        let mut held_chunk = [1.0f32; CHUNK];
        let held_chunk = &mut held_chunk[..requirements.len().min(CHUNK)];
        hold.push_block(requirements, held_chunk, window + SUPPORT_HOLD_FRAMES);
        // Serial part: the envelope and its moving average, one gain per frame. The delayed
        // audio is read and scaled in a second loop, so the recursions carry no memory traffic
        // beyond the box ring (same arithmetic, same order as one fused loop).
        let mut gains = [1.0f32; CHUNK];
        let gains = &mut gains[..held_chunk.len()];
        for (&held, gain) in held_chunk.iter().zip(gains.iter_mut()) {
            let envelope_now = release_step(&mut envelope, &mut sustain, held, &release);

            // Moving average over W samples; exact re-sum once per period removes drift.
            let old = box_ring[box_pos];
            box_ring[box_pos] = envelope_now;
            box_sum += f64::from(envelope_now) - f64::from(old);
            box_pos += 1;
            if box_pos >= window {
                box_pos = 0;
                box_sum = box_ring.iter().map(|&g| f64::from(g)).sum();
            }
            *gain = ((box_sum * inverse_window) as f32).clamp(0.0, 1.0);
        }
        for ((&gain, l), r) in gains.iter().zip(left.iter_mut()).zip(right.iter_mut()) {
            let read = (write + mask + 1 - delay) & mask;
            write = (write + 1) & mask;
            let total_gain = delay_drive[read] * gain;
            *l = delay_left[read] * total_gain;
            *r = delay_right[read] * total_gain;
            min_gain = min_gain.min(gain);
        }
        self.sample_index = sample_index;
        self.envelope = envelope;
        self.sustain = sustain;
        self.box_sum = box_sum;
        self.box_pos = box_pos;
        min_gain
    }

    /// Stage 3 in full generality: bypass crossfade and lookahead fade/switch per sample.
    fn gain_pipeline_general(
        &mut self,
        requirements: &[f32],
        left: &mut [f32],
        right: &mut [f32],
        mix_target: f32,
    ) -> f32 {
        let mut min_gain = 1.0f32;
        let mut write = self.delay_write;
        for ((&requirement, l), r) in requirements
            .iter()
            .zip(left.iter_mut())
            .zip(right.iter_mut())
        {
            let window = self.lookahead_samples;
            let held = self.hold_requirement(requirement);
            let release = self.release_parameters();
            let envelope = release_step(&mut self.envelope, &mut self.sustain, held, &release);

            // Moving average over W samples; exact re-sum once per period removes drift.
            let old = self.box_ring[self.box_pos];
            self.box_ring[self.box_pos] = envelope;
            self.box_sum += f64::from(envelope) - f64::from(old);
            self.box_pos += 1;
            if self.box_pos >= window {
                self.box_pos = 0;
                self.box_sum = self.box_ring[..window].iter().map(|&g| f64::from(g)).sum();
            }
            let gain = ((self.box_sum * self.inverse_window) as f32).clamp(0.0, 1.0);

            let read =
                (write + self.delay_mask + 1 - (window + SUPPORT_DELAY_FRAMES)) & self.delay_mask;
            write = (write + 1) & self.delay_mask;

            // Bypass crossfade.
            if self.mix != mix_target {
                self.mix = approach(self.mix, mix_target, self.mix_step);
            }
            let total_gain =
                self.fade * (self.mix * (self.delay_drive[read] * gain) + (1.0 - self.mix));
            *l = self.delay_left[read] * total_gain;
            *r = self.delay_right[read] * total_gain;
            min_gain = min_gain.min(gain);

            self.advance_lookahead_fade();
        }
        min_gain
    }

    fn release_parameters(&self) -> ReleaseParameters {
        ReleaseParameters {
            auto: self.settings.auto_release,
            manual_rate: self.manual_release_rate,
            fast_rate: self.fast_release_rate,
            slow_rate: self.slow_release_rate,
            sustain_coeff: self.sustain_coeff,
        }
    }

    /// Lookahead changes: fade out (2 ms), switch the delay and rebuild the gain pipeline
    /// from the requirement history for the new window, fade back in (2 ms).
    #[inline]
    fn advance_lookahead_fade(&mut self) {
        match self.fade_state {
            LookaheadFade::Idle => {
                if self.target_lookahead_samples != self.lookahead_samples {
                    self.fade_state = LookaheadFade::FadingOut;
                }
            }
            LookaheadFade::FadingOut => {
                self.fade = approach(self.fade, 0.0, self.fade_step);
                if self.fade == 0.0 {
                    self.switch_lookahead();
                    self.fade_state = LookaheadFade::FadingIn;
                }
            }
            LookaheadFade::FadingIn => {
                if self.target_lookahead_samples != self.lookahead_samples {
                    self.fade_state = LookaheadFade::FadingOut;
                } else {
                    self.fade = approach(self.fade, 1.0, self.fade_step);
                    if self.fade == 1.0 {
                        self.fade_state = LookaheadFade::Idle;
                    }
                }
            }
        }
    }

    /// Rebuilds hold deque and box ring for the new lookahead by replaying the last
    /// `W + H - 1` requirements (bounded work, no allocation). The box ring is filled with
    /// the held requirements themselves, which satisfies "gain <= requirement" immediately.
    fn switch_lookahead(&mut self) {
        let window = self.target_lookahead_samples;
        let hold_window = window + SUPPORT_HOLD_FRAMES;
        let last = self.sample_index - 1;
        let first = last + 1 - (window + hold_window - 1) as u64;
        let box_start = last + 1 - window as u64;
        self.hold.clear();
        let mut held = 1.0;
        for index in first..=last {
            let requirement = self.requirement_history[index as usize & self.history_mask];
            held = self.hold.push(requirement, hold_window);
            if index >= box_start {
                self.box_ring[(index - box_start) as usize] = held;
            }
        }
        self.box_pos = 0;
        self.box_sum = self.box_ring[..window].iter().map(|&g| f64::from(g)).sum();
        self.envelope = self.envelope.min(held);
        self.lookahead_samples = window;
        self.inverse_window = 1.0 / window as f64;
    }
}

/// Release settings as used per sample by [`release_step`].
struct ReleaseParameters {
    auto: bool,
    manual_rate: f32,
    fast_rate: f32,
    slow_rate: f32,
    sustain_coeff: f32,
}

/// Instant attack, exponential release (linear gain domain) towards the held requirement.
/// The result is never above `held`, which keeps the box-averaged gain at or below the
/// requirement. Updates `envelope` and the auto-release `sustain` measure; returns the
/// new envelope.
#[inline(always)]
fn release_step(envelope: &mut f32, sustain: &mut f32, held: f32, p: &ReleaseParameters) -> f32 {
    // The sustain measure (updated in both modes so switching to auto is seamless) moves
    // towards 1 while gain reduction is active and towards 0 otherwise. Both outcomes, and the
    // release rate each gives, depend only on the previous sustain, so they are computed before
    // the previous envelope is known: what waits for it is one compare and two selects, not
    // the whole update (the envelope is a per-sample recursion, so its dependency chain sets
    // the limiter's speed; issue 26). The arithmetic per outcome is unchanged.
    let settle = |target: f32| {
        let next = target + (*sustain - target) * p.sustain_coeff;
        if next < 1e-6 {
            0.0
        } else {
            next
        }
    };
    let keep = |sustain: f32| {
        let rate = if p.auto {
            p.fast_rate + (p.slow_rate - p.fast_rate) * sustain
        } else {
            p.manual_rate
        };
        1.0 - rate
    };
    let (sustain_active, sustain_idle) = (settle(1.0), settle(0.0));
    let (keep_active, keep_idle) = (keep(sustain_active), keep(sustain_idle));
    let active = *envelope < SUSTAIN_ACTIVE_GAIN;
    *sustain = if active { sustain_active } else { sustain_idle };
    let keep = if active { keep_active } else { keep_idle };
    let distance = *envelope - held;
    *envelope = if distance > -1e-9 {
        // Attack (or converged): follow the held requirement instantly.
        held
    } else {
        held + distance * keep
    };
    *envelope
}

#[cfg(test)]
#[path = "limiter_tests.rs"]
mod tests;
