//! Bus "glue" compressor: feed-forward, stereo-linked, log-domain smooth branching detector.
//!
//! Topology follows Giannoulis, Massberg & Reiss, "Digital Dynamic Range Compressor Design —
//! A Tutorial and Analysis", JAES 60(6), 2012:
//! - level detection on the *instantaneous* side-chain level (no RMS), converted to dB,
//! - soft-knee gain computer (their eq. 4) producing a target gain reduction in dB,
//! - "smooth branching" peak detector (their eq. 17) applied in the log (gain) domain, so the
//!   attack/release time constants act directly on the gain-reduction curve in dB and a static
//!   level yields exactly the static curve in steady state.
//!
//! No lookahead: latency is zero samples.

use crate::dsp::filters::svf::{multipliers, prewarp, SvfState, BUTTERWORTH_K};
use crate::dsp::util::range::Range;
use crate::dsp::util::smoothing::OnePole;
use crate::dsp::util::{db_to_gain, one_pole_coeff, sanitize};

/// dB per octave of amplitude: 20·log10(2). Converts log2 levels to dB.
pub(crate) const DB_PER_LOG2: f32 = 6.020_6;
/// log2 per dB: 1 / DB_PER_LOG2.
pub(crate) const LOG2_PER_DB: f64 = 0.166_096_404_744_368_1;
/// Time constant for click-free makeup/mix/side-chain changes.
const PARAMETER_SMOOTHING_SECONDS: f32 = 0.02;
/// Auto-release: transients recover this many times faster than `release_ms`.
pub(crate) const AUTO_RELEASE_FAST_DIVISOR: f32 = 4.0;
/// Gain reduction (dB) below which the detector state is flushed to exactly zero.
const GAIN_REDUCTION_FLOOR_DB: f64 = 1e-9;
/// Internal processing chunk (stack scratch buffers; callers may pass any length).
const CHUNK: usize = 64;

/// User settings of the glue compressor. All values are clamped to their documented ranges in
/// [`Compressor::set`]; NaN falls back to the default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompressorSettings {
    /// Informative only: the chain skips the module when off.
    pub enabled: bool,
    /// Threshold in dBFS of the instantaneous side-chain peak level, −60..0 (default −18).
    pub threshold_db: f32,
    /// Ratio above the knee, 1..20 (default 2). Ratio 1 is bit-neutral.
    pub ratio: f32,
    /// Full knee width in dB centred on the threshold, 0..24 (default 6).
    pub knee_db: f32,
    /// Attack time constant in ms (gain reduction reaches 63.2 % of a step), 0.1..100 (default 10).
    pub attack_ms: f32,
    /// Release time constant in ms (gain reduction falls by 63.2 % of a step), 10..2000
    /// (default 200). With `auto_release` this is the release after sustained compression.
    pub release_ms: f32,
    /// Program-dependent dual-stage release (see [`Compressor`]).
    pub auto_release: bool,
    /// Enables the 12 dB/oct side-chain high-pass (default on).
    pub sidechain_hpf_enabled: bool,
    /// Side-chain high-pass cutoff in Hz, 20..500 (default 80).
    pub sidechain_hpf_hz: f32,
    /// Parallel compression: out = dry·(1−mix) + wet·mix, 0..1 (default 1).
    pub mix: f32,
    /// Makeup gain applied to the wet path in dB, 0..24 (default 0).
    pub makeup_db: f32,
}

/// Threshold, dBFS of the side-chain peak.
pub const THRESHOLD_DB: Range = Range::new(-60.0, 0.0, -18.0, "dB");
/// Ratio above the knee (1 = bit-neutral).
pub const RATIO: Range = Range::new(1.0, 20.0, 2.0, "");
/// Full knee width, dB.
pub const KNEE_DB: Range = Range::new(0.0, 24.0, 6.0, "dB");
/// Attack time constant, ms.
pub const ATTACK_MS: Range = Range::new(0.1, 100.0, 10.0, "ms");
/// Release time constant, ms.
pub const RELEASE_MS: Range = Range::new(10.0, 2000.0, 200.0, "ms");
/// Side-chain high-pass cutoff, Hz.
pub const SIDECHAIN_HPF_HZ: Range = Range::new(20.0, 500.0, 80.0, "Hz");
/// Parallel mix as a fraction (shown as %).
pub const MIX: Range = Range::new(0.0, 1.0, 1.0, "%");
/// Makeup gain on the wet path, dB.
pub const MAKEUP_DB: Range = Range::new(0.0, 24.0, 0.0, "dB");

impl Default for CompressorSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            threshold_db: THRESHOLD_DB.default,
            ratio: RATIO.default,
            knee_db: KNEE_DB.default,
            attack_ms: ATTACK_MS.default,
            release_ms: RELEASE_MS.default,
            auto_release: false,
            sidechain_hpf_enabled: true,
            sidechain_hpf_hz: SIDECHAIN_HPF_HZ.default,
            mix: MIX.default,
            makeup_db: MAKEUP_DB.default,
        }
    }
}

impl CompressorSettings {
    /// Returns a copy with every field in its range ([`Range::sanitize`]: clamped; NaN/Inf →
    /// default).
    pub fn sanitized(&self) -> Self {
        Self {
            enabled: self.enabled,
            threshold_db: THRESHOLD_DB.sanitize(self.threshold_db),
            ratio: RATIO.sanitize(self.ratio),
            knee_db: KNEE_DB.sanitize(self.knee_db),
            attack_ms: ATTACK_MS.sanitize(self.attack_ms),
            release_ms: RELEASE_MS.sanitize(self.release_ms),
            auto_release: self.auto_release,
            sidechain_hpf_enabled: self.sidechain_hpf_enabled,
            sidechain_hpf_hz: SIDECHAIN_HPF_HZ.sanitize(self.sidechain_hpf_hz),
            mix: MIX.sanitize(self.mix),
            makeup_db: MAKEUP_DB.sanitize(self.makeup_db),
        }
    }
}

/// Gain reduction in dB (≥ 0) of the soft-knee static curve, written as "input minus output" of
/// Giannoulis et al. eq. 4. `slope` is 1 − 1/R, so R = 1 gives exactly 0 in every branch.
#[inline]
pub(crate) fn static_gain_reduction_db(
    level_db: f32,
    threshold_db: f32,
    knee_db: f32,
    slope: f32,
) -> f32 {
    let over = level_db - threshold_db;
    if 2.0 * over <= -knee_db {
        0.0
    } else if 2.0 * over >= knee_db {
        slope * over
    } else {
        let into_knee = over + 0.5 * knee_db;
        slope * into_knee * into_knee / (2.0 * knee_db)
    }
}

/// Branch-free form of [`static_gain_reduction_db`] for the audio loop (the instantaneous level
/// crosses the knee every waveform cycle, so branches would mispredict):
/// GR = slope·(t²/(2W) + max(over − W/2, 0)) with t = clamp(over + W/2, 0, W); for W = 0 the
/// caller passes `inv_two_knee = 0`. Identical to eq. 4 in all three regions.
#[inline]
fn static_gain_reduction_branchless_db(
    level_db: f32,
    threshold_db: f32,
    half_knee_db: f32,
    inv_two_knee: f32,
    slope: f32,
) -> f32 {
    let over = level_db - threshold_db;
    let into_knee = (over + half_knee_db).clamp(0.0, 2.0 * half_knee_db);
    slope * (into_knee * into_knee * inv_two_knee + (over - half_knee_db).max(0.0))
}

/// Static input→output curve in dB (Giannoulis et al. 2012, eq. 4):
/// below T−W/2: y = x; inside the knee: y = x + (1/R−1)(x−T+W/2)²/(2W); above T+W/2:
/// y = T + (x−T)/R. `input_db` is the side-chain level as defined by the detector (instantaneous
/// peak of max(|L|,|R|) in dBFS). Settings are clamped as in [`Compressor::set`].
pub fn static_curve_db(settings: &CompressorSettings, input_db: f32) -> f32 {
    let s = settings.sanitized();
    input_db - static_gain_reduction_db(input_db, s.threshold_db, s.knee_db, 1.0 - 1.0 / s.ratio)
}

/// log2 for positive normal f32, accurate to ~1e-7 (≈ 1e-6 dB): exponent extraction plus the
/// atanh series ln(m) = 2·atanh((m−1)/(m+1)) on m ∈ [√½, √2), where |t| ≤ 0.172 so four terms
/// leave a truncation error below 3e-8. Roughly 4× cheaper than `f32::log2`.
#[inline]
pub(crate) fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let above_sqrt2 = mantissa > std::f32::consts::SQRT_2;
    let mantissa = if above_sqrt2 {
        mantissa * 0.5
    } else {
        mantissa
    };
    exponent += above_sqrt2 as i32;
    let t = (mantissa - 1.0) / (mantissa + 1.0);
    let t2 = t * t;
    let ln_mantissa = t * (2.0 + t2 * (2.0 / 3.0 + t2 * (2.0 / 5.0 + t2 * (2.0 / 7.0))));
    exponent as f32 + ln_mantissa * std::f32::consts::LOG2_E
}

/// 2^y for y ≤ 0 (clamped at −120, i.e. −722 dB), relative error < 2e-7 (≈ 2e-6 dB): round y
/// to an integer exponent and evaluate e^(f·ln2) on f ∈ [−½, ½] with a degree-6 Taylor
/// polynomial (remainder < 1.2e-7). Branch-free so it vectorises.
#[inline]
pub(crate) fn fast_exp2_nonpositive(y: f32) -> f32 {
    // 1.5·2²³: adding and subtracting it rounds to the nearest integer without a branch or a
    // float→int conversion, and the integer sits in the low mantissa bits of the sum.
    const ROUNDING_MAGIC: f32 = 12_582_912.0;
    let y = y.max(-120.0);
    let shifted = y + ROUNDING_MAGIC;
    let integer = shifted.to_bits() as i32 - ROUNDING_MAGIC.to_bits() as i32;
    let f = (y - (shifted - ROUNDING_MAGIC)) * std::f32::consts::LN_2;
    let poly = 1.0
        + f * (1.0
            + f * (1.0 / 2.0
                + f * (1.0 / 6.0 + f * (1.0 / 24.0 + f * (1.0 / 120.0 + f * (1.0 / 720.0))))));
    poly * f32::from_bits(((integer + 127) as u32) << 23)
}

/// Second-order Butterworth high-pass on the detector input only (12 dB/oct), implemented as a
/// Zavalishin TPT state-variable filter ("The Art of VA Filter Design", ch. 4; Simper SVF
/// notes): stable and well behaved under per-sample cutoff modulation, so cutoff changes are
/// smoothed on the prewarped coefficient `g` without clicks. Enable/disable crossfades between
/// the filtered and unfiltered detector signal; the filter keeps running so it is always warm.
#[derive(Clone, Copy, Debug)]
struct SidechainHighPass {
    g: OnePole,
    /// Simper coefficients a1 = 1/(1 + g(g + k)), a2 = g·a1, a3 = g·a2; recomputed only while
    /// `g` moves.
    a: [f64; 3],
    blend: OnePole,
    state_left: SvfState,
    state_right: SvfState,
}

impl SidechainHighPass {
    fn new() -> Self {
        Self {
            g: OnePole::new(0.0),
            a: [1.0, 0.0, 0.0],
            blend: OnePole::new(1.0),
            state_left: SvfState::default(),
            state_right: SvfState::default(),
        }
    }

    fn update_a1(&mut self) {
        self.a = multipliers(self.g.current, BUTTERWORTH_K);
    }

    /// Returns the detector signals (left, right) for one stereo sample.
    #[inline]
    fn process(&mut self, left: f32, right: f32) -> (f32, f32) {
        if !self.g.is_settled() {
            self.g.advance();
            self.update_a1();
        }
        let blend = self.blend.advance();
        if blend == 0.0 {
            // Fully bypassed: skip the filter (re-enabling fades in from clean state).
            return (left, right);
        }
        let a = self.a;
        let (x_left, x_right) = (left as f64, right as f64);
        let high_left = self.state_left.highpass(x_left, &a, BUTTERWORTH_K);
        let high_right = self.state_right.highpass(x_right, &a, BUTTERWORTH_K);
        (
            (x_left + blend * (high_left - x_left)) as f32,
            (x_right + blend * (high_right - x_right)) as f32,
        )
    }

    /// Flushes denormals and repairs non-finite state once per block; clears the state while
    /// the filter is fully bypassed so that re-enabling starts deterministically.
    fn guard_state(&mut self) {
        if self.blend.current == 0.0 {
            self.state_left = SvfState::default();
            self.state_right = SvfState::default();
        }
        self.state_left.guard();
        self.state_right.guard();
    }
}

/// Feed-forward stereo-linked glue compressor (zero latency).
///
/// Detector: both channels pass the optional side-chain high-pass; the level is the
/// instantaneous peak `max(|L|, |R|)` in dBFS, so one gain is applied to both channels (linked:
/// no image shift). A constant-magnitude signal (DC, a square/Nyquist tone) of peak P therefore
/// reads P dBFS and settles exactly on [`static_curve_db`]; on a sine the target ripples and the
/// branching detector settles slightly below the static gain reduction at the sine's peak.
///
/// Ballistics (Giannoulis et al. 2012 eq. 17, "smooth branching", in the dB domain):
/// `y = a·y + (1−a)·x` with `a = exp(−1/(τ·fs))`, attack coefficient while the target gain
/// reduction rises and release coefficient while it falls. τ is the time for the gain reduction
/// (in dB) to cover 1 − 1/e = 63.2 % of a step.
///
/// Auto release (dual-stage, after classic bus compressors): a *fast* branching detector
/// (attack `attack_ms`, release `release_ms / 4`) feeds a *slow* stage that charges towards the
/// fast stage's gain reduction with time constant `release_ms` and otherwise decays towards 0
/// with `release_ms`; the applied gain reduction is the larger of the two. A short
/// transient barely charges the slow stage, so it recovers 4× faster; compression sustained for
/// longer than ≈ `release_ms` charges the slow stage and recovers with `release_ms`.
///
/// Parameter changes are click-free: threshold/ratio/knee changes move the *target* gain
/// reduction, which the attack/release ballistics smooth; makeup, mix and the side-chain
/// filter (cutoff and enable) are smoothed per sample (20 ms).
#[derive(Clone, Debug)]
pub struct Compressor {
    sample_rate: f32,
    settings: CompressorSettings,
    threshold_db: f32,
    half_knee_db: f32,
    /// 1 / (2·knee), or 0 for a hard knee.
    inv_two_knee: f32,
    slope: f32,
    attack_coeff: f64,
    release_coeff: f64,
    fast_release_coeff: f64,
    slow_coeff: f64,
    /// Gain reduction state in dB (≥ 0) of the main (or fast) detector stage.
    gain_reduction_fast_db: f64,
    /// Gain reduction state in dB (≥ 0) of the slow auto-release stage.
    gain_reduction_slow_db: f64,
    sidechain: SidechainHighPass,
    mix: OnePole,
    makeup_gain: OnePole,
    meter_gain_reduction_db: f32,
}

impl Compressor {
    /// Creates a compressor with default settings at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        let mut compressor = Self {
            sample_rate: 48_000.0,
            settings: CompressorSettings::default(),
            threshold_db: 0.0,
            half_knee_db: 0.0,
            inv_two_knee: 0.0,
            slope: 0.0,
            attack_coeff: 0.0,
            release_coeff: 0.0,
            fast_release_coeff: 0.0,
            slow_coeff: 0.0,
            gain_reduction_fast_db: 0.0,
            gain_reduction_slow_db: 0.0,
            sidechain: SidechainHighPass::new(),
            mix: OnePole::new(1.0),
            makeup_gain: OnePole::new(1.0),
            meter_gain_reduction_db: 0.0,
        };
        compressor.reset(sample_rate);
        compressor
    }

    /// Clears all state at the current sample rate (allocation-free; used when the chain fades
    /// the module back in after a bypass, so no stale tail leaks in).
    pub fn clear(&mut self) {
        self.reset(self.sample_rate);
    }

    /// Clears all state and recomputes coefficients for `sample_rate` (no allocation needed).
    /// Smoothed parameters jump to their targets.
    pub fn reset(&mut self, sample_rate: f32) {
        self.sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        self.gain_reduction_fast_db = 0.0;
        self.gain_reduction_slow_db = 0.0;
        self.sidechain.state_left = SvfState::default();
        self.sidechain.state_right = SvfState::default();
        self.meter_gain_reduction_db = 0.0;
        let settings = self.settings;
        self.set(&settings);
        for p in [
            &mut self.mix,
            &mut self.makeup_gain,
            &mut self.sidechain.g,
            &mut self.sidechain.blend,
        ] {
            p.snap();
        }
        self.sidechain.update_a1();
    }

    /// Applies new settings (clamped). Real-time safe: no allocation.
    pub fn set(&mut self, settings: &CompressorSettings) {
        let s = settings.sanitized();
        self.settings = s;
        let fs = self.sample_rate;
        self.threshold_db = s.threshold_db;
        self.half_knee_db = 0.5 * s.knee_db;
        self.inv_two_knee = if s.knee_db > 0.0 {
            0.5 / s.knee_db
        } else {
            0.0
        };
        self.slope = 1.0 - 1.0 / s.ratio;
        let coeff = |ms: f32| one_pole_coeff(ms * 1e-3, fs) as f64;
        self.attack_coeff = coeff(s.attack_ms);
        self.release_coeff = coeff(s.release_ms);
        self.fast_release_coeff = coeff(s.release_ms / AUTO_RELEASE_FAST_DIVISOR);
        self.slow_coeff = coeff(s.release_ms);

        for p in [
            &mut self.mix,
            &mut self.makeup_gain,
            &mut self.sidechain.g,
            &mut self.sidechain.blend,
        ] {
            p.set_time(PARAMETER_SMOOTHING_SECONDS, fs);
        }
        self.mix.target = s.mix as f64;
        self.makeup_gain.target = db_to_gain(s.makeup_db) as f64;
        self.sidechain.g.target = prewarp(s.sidechain_hpf_hz as f64, fs as f64);
        self.sidechain.blend.target = if s.sidechain_hpf_enabled { 1.0 } else { 0.0 };
    }

    /// The settings currently in effect (after clamping).
    pub fn settings(&self) -> &CompressorSettings {
        &self.settings
    }

    /// Processing latency in samples: always 0 (no lookahead).
    pub const fn latency_samples(&self) -> u32 {
        0
    }

    /// Largest gain reduction applied during the last processed block, in dB as a positive
    /// number (0 = no reduction). Updated once per `process` call, for the GUI meter.
    pub fn gain_reduction_db(&self) -> f32 {
        self.meter_gain_reduction_db
    }

    /// Target gain reduction in dB for one detector sample.
    /// Smooth branching detector step (Giannoulis et al. eq. 17).
    #[inline]
    pub(crate) fn branching_step(state: f64, target: f64, attack: f64, release: f64) -> f64 {
        let coeff = if target > state { attack } else { release };
        let next = target + coeff * (state - target);
        if next < GAIN_REDUCTION_FLOOR_DB {
            0.0
        } else {
            next
        }
    }

    /// Compresses a stereo block in place. `left` and `right` should have equal lengths; only
    /// the common length is processed. Never panics; NaN/Inf input is treated as silence.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut block_max_gr = 0.0f64;
        let mut start = 0;
        while start < len {
            let end = (start + CHUNK).min(len);
            let chunk_max = self.process_chunk(&mut left[start..end], &mut right[start..end]);
            block_max_gr = block_max_gr.max(chunk_max);
            start = end;
        }
        self.sidechain.guard_state();
        if !self.gain_reduction_fast_db.is_finite() || !self.gain_reduction_slow_db.is_finite() {
            self.gain_reduction_fast_db = 0.0;
            self.gain_reduction_slow_db = 0.0;
        }
        self.meter_gain_reduction_db = block_max_gr as f32;
    }

    /// Processes at most [`CHUNK`] samples in four passes so that the log/exp conversions run
    /// in branch-free loops the compiler vectorises; only the side-chain filter and the
    /// ballistics are inherently serial. Every step is still per sample, so the output does
    /// not depend on how the host splits the stream. Returns the largest gain reduction (dB).
    fn process_chunk(&mut self, left: &mut [f32], right: &mut [f32]) -> f64 {
        let n = left.len().min(right.len()).min(CHUNK);
        let (left, right) = (&mut left[..n], &mut right[..n]);
        let mut work = [0.0f32; CHUNK];
        let mut dry_gain = [0.0f32; CHUNK];
        let mut wet_gain = [0.0f32; CHUNK];
        let work = &mut work[..n];

        // Pass 1 (serial): sanitise input, side-chain filter, linked peak level.
        for ((l, r), level) in left.iter_mut().zip(right.iter_mut()).zip(work.iter_mut()) {
            *l = sanitize(*l);
            *r = sanitize(*r);
            let (detect_left, detect_right) = self.sidechain.process(*l, *r);
            *level = detect_left.abs().max(detect_right.abs());
        }

        // Pass 2 (vectorisable): level → target gain reduction in dB.
        let (threshold, half_knee, inv_two_knee, slope) = (
            self.threshold_db,
            self.half_knee_db,
            self.inv_two_knee,
            self.slope,
        );
        for value in work.iter_mut() {
            let level_db = fast_log2(value.clamp(1e-30, f32::MAX)) * DB_PER_LOG2;
            *value = static_gain_reduction_branchless_db(
                level_db,
                threshold,
                half_knee,
                inv_two_knee,
                slope,
            );
        }

        // Pass 3 (serial): ballistics and parameter smoothing; `work` becomes the log2 gain.
        let mut chunk_max = 0.0f64;
        let auto_release = self.settings.auto_release;
        for ((value, dry), wet) in work
            .iter_mut()
            .zip(dry_gain.iter_mut())
            .zip(wet_gain.iter_mut())
        {
            let target = *value as f64;
            let gain_reduction = if auto_release {
                self.gain_reduction_fast_db = Self::branching_step(
                    self.gain_reduction_fast_db,
                    target,
                    self.attack_coeff,
                    self.fast_release_coeff,
                );
                // Slow stage charges towards the fast stage and otherwise decays freely
                // towards 0, so after sustained compression the release is exactly τ_release.
                let fast = self.gain_reduction_fast_db;
                let slow = self.gain_reduction_slow_db;
                let slow_target = if fast > slow { fast } else { 0.0 };
                self.gain_reduction_slow_db =
                    Self::branching_step(slow, slow_target, self.slow_coeff, self.slow_coeff);
                fast.max(self.gain_reduction_slow_db)
            } else {
                self.gain_reduction_fast_db = Self::branching_step(
                    self.gain_reduction_fast_db,
                    target,
                    self.attack_coeff,
                    self.release_coeff,
                );
                self.gain_reduction_fast_db
            };
            chunk_max = chunk_max.max(gain_reduction);
            *value = (-gain_reduction * LOG2_PER_DB) as f32;
            let mix = self.mix.advance();
            *dry = (1.0 - mix) as f32;
            *wet = (mix * self.makeup_gain.advance()) as f32;
        }

        // Pass 4 (vectorisable): out = x·((1 − mix) + mix·makeup·gain). Zero gain reduction
        // gives a gain of exactly 1.0, so ratio 1 with mix 1 and 0 dB makeup is bit-neutral.
        for ((((l, r), log2_gain), dry), wet) in left
            .iter_mut()
            .zip(right.iter_mut())
            .zip(work.iter())
            .zip(dry_gain.iter())
            .zip(wet_gain.iter())
        {
            let total_gain = dry + wet * fast_exp2_nonpositive(*log2_gain);
            *l *= total_gain;
            *r *= total_gain;
        }
        chunk_max
    }
}

impl crate::dsp::util::bypass::Switchable for Compressor {
    fn clear(&mut self) {
        Compressor::clear(self);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        Compressor::process(self, left, right);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::util::gain_to_db;

    const FS: f32 = 48_000.0;

    /// Compressor as the host sets it up: settings applied, then reset (smoothers settled).
    fn make(settings: &CompressorSettings, fs: f32) -> Compressor {
        let mut c = Compressor::new(fs);
        c.set(settings);
        c.reset(fs);
        c
    }

    fn hard_settings() -> CompressorSettings {
        CompressorSettings {
            threshold_db: -30.0,
            ratio: 4.0,
            knee_db: 0.0,
            sidechain_hpf_enabled: false,
            ..CompressorSettings::default()
        }
    }

    /// Runs a constant (DC) level through the compressor and returns the per-sample gain
    /// reduction in dB measured from output/input.
    fn measured_gr_db(compressor: &mut Compressor, levels: &[f32]) -> Vec<f32> {
        let mut left = levels.to_vec();
        let mut right = levels.to_vec();
        for (l, r) in left.chunks_mut(512).zip(right.chunks_mut(512)) {
            compressor.process(l, r);
        }
        levels
            .iter()
            .zip(left.iter())
            .map(|(&x, &y)| gain_to_db(x) - gain_to_db(y))
            .collect()
    }

    /// Time (s) at which `series` first reaches `start + 0.632·(end − start)`, linearly
    /// interpolated between samples.
    fn time_to_63_percent(series: &[f32], start: f32, end: f32, fs: f32) -> f32 {
        let goal = start + (1.0 - (-1.0f32).exp()) * (end - start);
        let rising = end > start;
        for i in 1..series.len() {
            let reached = if rising {
                series[i] >= goal
            } else {
                series[i] <= goal
            };
            if reached {
                let frac = (goal - series[i - 1]) / (series[i] - series[i - 1]);
                return (i as f32 - 1.0 + frac) / fs;
            }
        }
        f32::INFINITY
    }

    #[test]
    fn fast_math_matches_std_within_a_micro_db() {
        let mut worst_log = 0.0f32;
        let mut x = 1e-6f32;
        while x < 1e6 {
            worst_log = worst_log.max((fast_log2(x) - x.log2()).abs() * DB_PER_LOG2);
            x *= 1.0137;
        }
        let mut worst_exp = 0.0f32;
        let mut y = -100.0f32;
        while y <= 0.0 {
            let relative = (fast_exp2_nonpositive(y) / y.exp2()).ln().abs();
            worst_exp = worst_exp.max(relative * 8.685_89);
            y += 0.0137;
        }
        eprintln!("fast_log2 worst {worst_log} dB, fast_exp2 worst {worst_exp} dB");
        assert!(worst_log < 1e-4, "log2 error {worst_log} dB");
        assert!(worst_exp < 1e-4, "exp2 error {worst_exp} dB");
        assert_eq!(fast_exp2_nonpositive(0.0), 1.0);
    }

    #[test]
    fn static_curve_matches_textbook_formula() {
        let s = CompressorSettings {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 10.0,
            ..CompressorSettings::default()
        };
        assert_eq!(static_curve_db(&s, -40.0), -40.0);
        assert_eq!(static_curve_db(&s, -25.0), -25.0);
        assert!((static_curve_db(&s, 0.0) - (-15.0)).abs() < 1e-5);
        // Knee centre: x + (1/R − 1)(W/2)²/(2W) = −20 − 0.75·25/20.
        assert!((static_curve_db(&s, -20.0) - (-20.0 - 0.9375)).abs() < 1e-5);
        // Continuity at the knee edges.
        assert!((static_curve_db(&s, -15.0) - (-20.0 + 5.0 / 4.0)).abs() < 1e-5);
    }

    #[test]
    fn settled_gain_reduction_follows_static_curve() {
        // Constant-magnitude levels (DC) read their peak in dBFS; after settling the realised
        // output level must equal the static curve.
        let settings = CompressorSettings {
            threshold_db: -24.0,
            ratio: 3.0,
            knee_db: 12.0,
            attack_ms: 1.0,
            release_ms: 20.0,
            sidechain_hpf_enabled: false,
            ..CompressorSettings::default()
        };
        let mut worst = 0.0f32;
        for step in 0..=30 {
            let input_db = -48.0 + 1.6 * step as f32;
            let mut c = make(&settings, FS);
            let gr = measured_gr_db(&mut c, &vec![db_to_gain(input_db); 4800]);
            let realised = input_db - gr[gr.len() - 1];
            worst = worst.max((realised - static_curve_db(&settings, input_db)).abs());
        }
        eprintln!("static curve worst error {worst} dB");
        assert!(worst < 0.01, "worst static-curve error {worst} dB");
    }

    #[test]
    fn nyquist_tone_through_sidechain_hpf_also_follows_static_curve() {
        // A ±P tone at fs/2 has constant |x| = P and passes the bilinear high-pass at unity gain.
        let settings = CompressorSettings {
            attack_ms: 1.0,
            release_ms: 20.0,
            ..CompressorSettings::default()
        };
        for input_db in [-30.0f32, -20.0, -18.0, -10.0, 0.0] {
            let mut c = make(&settings, FS);
            let p = db_to_gain(input_db);
            let tone: Vec<f32> = (0..9600).map(|n| if n % 2 == 0 { p } else { -p }).collect();
            let gr = measured_gr_db(&mut c, &tone);
            let realised = input_db - gr[gr.len() - 1];
            let error = (realised - static_curve_db(&settings, input_db)).abs();
            eprintln!("nyquist {input_db} dB: error {error} dB");
            assert!(error < 0.05, "{input_db} dB: error {error} dB");
        }
    }

    fn step_times(fs: f32, attack_ms: f32, release_ms: f32) -> (f32, f32) {
        let mut c = make(
            &CompressorSettings {
                attack_ms,
                release_ms,
                ..hard_settings()
            },
            fs,
        );
        // −40 dBFS (below threshold) → −10 dBFS (+20 dB over) → back to −40 dBFS.
        let n = (fs * 1.5) as usize;
        let mut levels = vec![db_to_gain(-40.0); n / 10];
        levels.extend(vec![db_to_gain(-10.0); n / 2]);
        let release_start = levels.len();
        levels.extend(vec![db_to_gain(-40.0); n]);
        let gr = measured_gr_db(&mut c, &levels);
        let final_gr = 15.0; // 20 dB over × (1 − 1/4)
        let attack = time_to_63_percent(&gr[n / 10 - 1..release_start], 0.0, final_gr, fs);
        let held = gr[release_start - 1];
        assert!((held - final_gr).abs() < 0.01, "held {held}");
        let release = time_to_63_percent(&gr[release_start - 1..], held, 0.0, fs);
        (attack * 1e3, release * 1e3)
    }

    #[test]
    fn attack_and_release_time_constants_at_44k1_and_192k() {
        for fs in [44_100.0, 192_000.0] {
            let (attack, release) = step_times(fs, 10.0, 200.0);
            eprintln!("{fs}: attack {attack} ms, release {release} ms");
            assert!(
                (attack / 10.0 - 1.0).abs() < 0.05,
                "{fs}: attack {attack} ms"
            );
            assert!(
                (release / 200.0 - 1.0).abs() < 0.05,
                "{fs}: release {release} ms"
            );
        }
        let (attack, release) = step_times(48_000.0, 1.0, 50.0);
        eprintln!("48k: attack {attack} ms (1), release {release} ms (50)");
        assert!((attack / 1.0 - 1.0).abs() < 0.05, "attack {attack} ms");
        assert!((release / 50.0 - 1.0).abs() < 0.05, "release {release} ms");
    }

    /// Time for the gain reduction to fall to 36.8 % of its value at the end of a burst.
    fn recovery_ms(auto_release: bool, burst_ms: f32) -> f32 {
        let mut c = make(
            &CompressorSettings {
                attack_ms: 5.0,
                release_ms: 400.0,
                auto_release,
                ..hard_settings()
            },
            FS,
        );
        let burst = (burst_ms * 1e-3 * FS) as usize;
        let mut levels = vec![db_to_gain(-10.0); burst];
        levels.extend(vec![db_to_gain(-40.0); (FS * 1.5) as usize]);
        let gr = measured_gr_db(&mut c, &levels);
        let held = gr[burst - 1];
        time_to_63_percent(&gr[burst - 1..], held, 0.0, FS) * 1e3
    }

    #[test]
    fn auto_release_recovers_faster_after_transients_than_after_sustained_overload() {
        let transient = recovery_ms(true, 20.0);
        let sustained = recovery_ms(true, 3000.0);
        let fixed_transient = recovery_ms(false, 20.0);
        // Sustained: the slow stage (release_ms) dominates.
        eprintln!(
            "auto: transient {transient} ms, sustained {sustained} ms, fixed {fixed_transient} ms"
        );
        assert!(
            (sustained / 400.0 - 1.0).abs() < 0.05,
            "sustained {sustained} ms"
        );
        // Transient: fast stage (release_ms / 4 = 100 ms) dominates.
        assert!(transient < 0.35 * sustained, "transient {transient} ms");
        assert!(
            (fixed_transient / 400.0 - 1.0).abs() < 0.05,
            "{fixed_transient} ms"
        );
    }

    fn mean_gr_for_sine(settings: &CompressorSettings, freq: f32, peak_db: f32) -> f32 {
        let mut c = make(settings, FS);
        let p = db_to_gain(peak_db);
        let n = FS as usize;
        let sine: Vec<f32> = (0..n)
            .map(|i| p * (std::f32::consts::TAU * freq * i as f32 / FS).sin())
            .collect();
        let mut left = sine.clone();
        let mut right = sine.clone();
        let mut meter_sum = 0.0;
        let mut blocks = 0;
        for (i, (l, r)) in left.chunks_mut(480).zip(right.chunks_mut(480)).enumerate() {
            c.process(l, r);
            if i >= 50 {
                meter_sum += c.gain_reduction_db();
                blocks += 1;
            }
        }
        meter_sum / blocks as f32
    }

    #[test]
    fn sidechain_hpf_reduces_bass_pumping() {
        let base = CompressorSettings {
            threshold_db: -30.0,
            ratio: 4.0,
            knee_db: 0.0,
            ..CompressorSettings::default()
        };
        let without = mean_gr_for_sine(
            &CompressorSettings {
                sidechain_hpf_enabled: false,
                ..base
            },
            40.0,
            -6.0,
        );
        let with = mean_gr_for_sine(
            &CompressorSettings {
                sidechain_hpf_enabled: true,
                sidechain_hpf_hz: 100.0,
                ..base
            },
            40.0,
            -6.0,
        );
        // Without HPF the 40 Hz peak (−6 dBFS) is 24 dB over: ≈ 18 dB GR. The 12 dB/oct HPF at
        // 100 Hz attenuates 40 Hz by 16 dB, leaving ≈ 6 dB GR.
        eprintln!("40 Hz GR: without HPF {without} dB, with {with} dB");
        assert!(without > 17.0, "without HPF {without} dB");
        assert!(
            without - with > 10.0,
            "with HPF {with} dB, without {without} dB"
        );
    }

    #[test]
    fn ratio_one_is_bit_neutral() {
        let mut c = make(
            &CompressorSettings {
                ratio: 1.0,
                threshold_db: -60.0,
                ..CompressorSettings::default()
            },
            FS,
        );
        let input = noise(20_000, 1.0, 7);
        let mut left = input.clone();
        let mut right: Vec<f32> = input.iter().map(|x| -0.5 * x).collect();
        c.process(&mut left, &mut right);
        assert_eq!(left, input);
        assert_eq!(c.gain_reduction_db(), 0.0);
    }

    #[test]
    fn parallel_mix_and_makeup_follow_formula() {
        let settings = CompressorSettings {
            mix: 0.5,
            makeup_db: 6.0,
            attack_ms: 1.0,
            release_ms: 20.0,
            ..hard_settings()
        };
        let mut c = make(&settings, FS);
        // −10 dBFS DC: wet gain = −15 dB GR + 6 dB makeup.
        let x = db_to_gain(-10.0);
        let gr = measured_gr_db(&mut c, &vec![x; 9600]);
        let expected = 0.5 + 0.5 * db_to_gain(6.0 - 15.0);
        let measured = db_to_gain(-gr[gr.len() - 1]);
        eprintln!("mix: measured {measured} expected {expected}");
        assert!(
            (measured / expected - 1.0).abs() < 1e-4,
            "{measured} vs {expected}"
        );
    }

    /// White noise with a slow level modulation, so the detector attacks and releases.
    fn noise(n: usize, amplitude: f32, seed: u64) -> Vec<f32> {
        let mut white = crate::test_signals::Noise::new(seed);
        (0..n)
            .map(|i| {
                let envelope = if (i / 3000) % 2 == 0 { 1.0 } else { 0.05 };
                amplitude * envelope * white.next()
            })
            .collect()
    }

    fn run_in_blocks(settings: &CompressorSettings, block: usize) -> (Vec<f32>, Vec<f32>) {
        let mut c = make(settings, FS);
        let mut left = noise(24_000, 0.8, 1);
        let mut right = noise(24_000, 0.8, 2);
        for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
            c.process(l, r);
        }
        (left, right)
    }

    #[test]
    fn output_is_independent_of_block_size() {
        let settings = CompressorSettings {
            auto_release: true,
            mix: 0.7,
            makeup_db: 3.0,
            ..CompressorSettings::default()
        };
        let reference = run_in_blocks(&settings, 512);
        for block in [1, 37] {
            assert_eq!(run_in_blocks(&settings, block), reference, "block {block}");
        }
    }

    #[test]
    fn nan_burst_behaves_like_silence_and_output_stays_finite() {
        let settings = CompressorSettings::default();
        let mut poisoned = Compressor::new(FS);
        let mut clean = Compressor::new(FS);
        poisoned.set(&settings);
        clean.set(&settings);
        let signal = noise(2048, 0.9, 3);
        for block in 0..4 {
            let mut l = signal.clone();
            let mut r = signal.clone();
            let mut cl = signal.clone();
            let mut cr = signal.clone();
            if block == 1 {
                for i in 100..300 {
                    l[i] = f32::NAN;
                    r[i] = if i % 2 == 0 {
                        f32::INFINITY
                    } else {
                        f32::NEG_INFINITY
                    };
                    cl[i] = 0.0;
                    cr[i] = 0.0;
                }
            }
            poisoned.process(&mut l, &mut r);
            clean.process(&mut cl, &mut cr);
            assert!(l.iter().chain(r.iter()).all(|x| x.is_finite()));
            assert_eq!(l, cl);
        }
        // Extreme finite input must not produce NaN/Inf either.
        let mut l = vec![f32::MAX, -f32::MAX, 1e30, 0.0];
        let mut r = vec![-f32::MAX, f32::MAX, -1e30, 0.0];
        poisoned.process(&mut l, &mut r);
        assert!(l.iter().chain(r.iter()).all(|x| x.is_finite()));
    }

    #[test]
    fn makeup_change_is_smoothed() {
        let mut c = Compressor::new(FS);
        let mut settings = CompressorSettings {
            ratio: 1.0,
            ..CompressorSettings::default()
        };
        c.set(&settings);
        let mut l = vec![0.1f32; 480];
        let mut r = l.clone();
        c.process(&mut l, &mut r);
        settings.makeup_db = 12.0;
        c.set(&settings);
        let mut l = vec![0.1f32; 9600];
        let mut r = l.clone();
        c.process(&mut l, &mut r);
        let largest_step = l
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        // Full jump is 0.1·(3.98 − 1) ≈ 0.3; a 20 ms one-pole spreads it: first step ≈ 0.3/960.
        eprintln!("makeup largest step {largest_step}");
        assert!(
            largest_step < 0.001,
            "largest per-sample step {largest_step}"
        );
        assert!((l[9599] / 0.1 - db_to_gain(12.0)).abs() < 1e-3);
    }
}
