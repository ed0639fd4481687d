//! The two ways a stage moves a value without a click, used by every stage of the chain.
//!
//! - [`OnePole`]: exponential glide, `y ← t + c·(y − t)` with `c = exp(−1/(τ·fs))` (the RC
//!   smoother of every analogue console; reaches 1 − 1/e of a step in τ). It *snaps* to the
//!   target once within [`SNAP_DISTANCE`], so a steady setting is exact (bit-identical
//!   pass-through, cheap "settled" checks) instead of creeping towards it forever. For
//!   parameters whose *rate of change* should feel natural: width, crossover frequency,
//!   side-chain cutoff, mix, makeup, drive. Always in f64: an f32 one-pole with a
//!   10 ms time constant stalls short of its target once the step falls below half an ulp.
//! - [`approach`]: linear ramp by a fixed step per sample, arriving exactly. For crossfades
//!   whose *duration* is the promise: bypass fades, the A/B switch, the mono-bass on/off fade,
//!   the chain's structural fade.
//! - [`Ramp`]: a linear ramp over a fixed number of samples whatever the distance, landing on
//!   the target on its last sample: the gain stage's dB ramp (every jump takes 20 ms).

use std::ops::{Add, Sub};

use crate::dsp::util::one_pole_coeff;

/// Distance at which a [`OnePole`] (in f64) snaps to its target. Far below anything audible
/// (−180 dB of full scale), far above the recursion's rounding.
pub const SNAP_DISTANCE: f64 = 1e-9;

/// One step of an f64 one-pole glide towards `target` with coefficient `coeff`, snapping
/// within [`SNAP_DISTANCE`].
#[inline]
pub fn one_pole_step(current: f64, target: f64, coeff: f64) -> f64 {
    let next = target + coeff * (current - target);
    if (next - target).abs() < SNAP_DISTANCE {
        target
    } else {
        next
    }
}

/// A value gliding towards its target by [`one_pole_step`], one step per sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OnePole {
    pub current: f64,
    pub target: f64,
    coeff: f64,
}

impl OnePole {
    /// Settled at `value`, with coefficient 0 (jumps) until [`OnePole::set_time`].
    pub fn new(value: f64) -> Self {
        Self {
            current: value,
            target: value,
            coeff: 0.0,
        }
    }

    /// Time constant `seconds` at `sample_rate` (0 or less: jump at once).
    pub fn set_time(&mut self, seconds: f32, sample_rate: f32) {
        self.coeff = one_pole_coeff(seconds, sample_rate) as f64;
    }

    /// Jumps to the target (after a reset there is no earlier audio to be continuous with).
    pub fn snap(&mut self) {
        self.current = self.target;
    }

    /// True once the glide has arrived (the value is exactly the target).
    #[inline]
    pub fn is_settled(&self) -> bool {
        self.current == self.target
    }

    /// Advances one sample and returns the new value; free when settled.
    #[inline]
    pub fn advance(&mut self) -> f64 {
        if self.current != self.target {
            self.current = one_pole_step(self.current, self.target, self.coeff);
        }
        self.current
    }
}

/// One step of a linear ramp: `value` moves by `step` towards `target` and stops exactly on
/// it (a NaN step or value lands on the target too).
#[inline]
pub fn approach<T>(value: T, target: T, step: T) -> T
where
    T: Copy + PartialOrd + Add<Output = T> + Sub<Output = T>,
{
    if value < target {
        let next = value + step;
        if next < target {
            next
        } else {
            target
        }
    } else {
        let next = value - step;
        if next > target {
            next
        } else {
            target
        }
    }
}

/// A linear ramp to a new target in exactly `len` samples (set by [`Ramp::set_len`]), so each
/// step is `(target − current) / len` and the last one lands on the target exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ramp {
    current: f32,
    target: f32,
    step: f32,
    remaining: u32,
    len: u32,
}

impl Ramp {
    /// Settled at `value`; ramps take `len` samples (at least 1).
    pub fn new(value: f32, len: u32) -> Self {
        Self {
            current: value,
            target: value,
            step: 0.0,
            remaining: 0,
            len: len.max(1),
        }
    }

    /// Ramp length for later targets, in samples (at least 1).
    pub fn set_len(&mut self, len: u32) {
        self.len = len.max(1);
    }

    /// Jumps to the target and ends any ramp in progress.
    pub fn snap(&mut self) {
        self.current = self.target;
        self.remaining = 0;
        self.step = 0.0;
    }

    /// Starts a ramp from the current value to `target`; the same target again is free.
    pub fn set_target(&mut self, target: f32) {
        if target == self.target {
            return;
        }
        self.target = target;
        self.remaining = self.len;
        self.step = (self.target - self.current) / self.len as f32;
    }

    pub fn current(&self) -> f32 {
        self.current
    }

    /// True while a ramp is in progress.
    #[inline]
    pub fn is_ramping(&self) -> bool {
        self.remaining > 0
    }

    /// Advances one sample (only while ramping) and returns the new value.
    #[inline]
    pub fn advance(&mut self) -> f32 {
        if self.remaining > 0 {
            self.remaining -= 1;
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.current + self.step
            };
        }
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pole_reaches_one_minus_one_over_e_in_tau_and_then_snaps_exactly() {
        let fs = 48_000.0;
        let mut glide = OnePole::new(0.0);
        glide.set_time(0.01, fs);
        glide.target = 1.0;
        let tau = (0.01 * fs) as usize;
        for _ in 0..tau {
            glide.advance();
        }
        let expected = 1.0 - (-1.0f64).exp();
        assert!(
            (glide.current - expected).abs() < 1e-4,
            "{} vs {expected}",
            glide.current
        );
        // ln(1e9) ≈ 20.7 time constants to get within 1e-9, then exact.
        let mut steps = tau;
        while !glide.is_settled() {
            glide.advance();
            steps += 1;
            assert!(steps < 25 * tau, "never settled");
        }
        assert!(
            steps > 20 * tau && steps < 22 * tau,
            "settled after {steps}"
        );
        assert_eq!(glide.current.to_bits(), 1.0f64.to_bits());
    }

    #[test]
    fn ramp_takes_its_length_whatever_the_distance_and_lands_exactly() {
        for (from, to) in [(0.0f32, 24.0f32), (-3.0, -2.9), (12.0, -48.0)] {
            let mut ramp = Ramp::new(from, 960);
            ramp.set_target(to);
            let mut steps = 0;
            while ramp.is_ramping() {
                let before = ramp.current();
                let now = ramp.advance();
                steps += 1;
                if ramp.is_ramping() {
                    let step = now - before;
                    assert!((step - (to - from) / 960.0).abs() <= 1e-4 * (to - from).abs());
                }
            }
            assert_eq!(steps, 960);
            assert_eq!(ramp.current(), to);
        }
    }

    #[test]
    fn approach_moves_by_the_step_and_lands_exactly() {
        let mut x = 0.0f32;
        let mut steps = 0;
        while x != 1.0 {
            x = approach(x, 1.0, 0.3);
            steps += 1;
        }
        assert_eq!(steps, 4); // 0.3, 0.6, 0.9, 1.0
        assert_eq!(approach(1.0f64, 0.0, 0.25), 0.75);
        assert_eq!(approach(0.1f64, 0.0, 0.25), 0.0);
        assert_eq!(approach(0.5f32, 0.5, 0.1), 0.5);
        assert_eq!(approach(0.5f32, 1.0, f32::NAN), 1.0);
    }
}
