//! Click-free on/off switching for a zero-latency module.
//!
//! Switching a module in or out of the signal path mid-programme is a step in the waveform
//! unless the two signals are crossfaded. The module's output and the dry input are coherent
//! (same timing, similar content), so an equal-gain linear crossfade is the right law: it keeps
//! the level constant where the module is near-neutral, where an equal-power fade would bump by
//! up to +3 dB.

use crate::dsp::util::smoothing::approach;

/// Crossfade length for module on/off.
pub const BYPASS_FADE_SECONDS: f32 = 0.010;

/// Mix state of one module: 0 = bypassed (module not run at all), 1 = fully in.
#[derive(Debug, Clone)]
pub struct BypassFade {
    mix: f32,
    target: f32,
    step: f32,
}

impl Default for BypassFade {
    fn default() -> Self {
        Self::new(false)
    }
}

impl BypassFade {
    pub fn new(enabled: bool) -> Self {
        let m = if enabled { 1.0 } else { 0.0 };
        Self {
            mix: m,
            target: m,
            step: 1.0 / (BYPASS_FADE_SECONDS * 48_000.0),
        }
    }

    /// Sets the fade speed for `sample_rate` and jumps to the target (no audio to be continuous
    /// with after a reset).
    pub fn reset(&mut self, sample_rate: f32) {
        self.step = 1.0 / (BYPASS_FADE_SECONDS * sample_rate).max(1.0);
        self.mix = self.target;
    }

    pub fn set_enabled(&mut self, enabled: bool) {
        self.target = if enabled { 1.0 } else { 0.0 };
    }

    /// True when the module is fully out and does not need to run.
    pub fn is_bypassed(&self) -> bool {
        self.mix == 0.0 && self.target == 0.0
    }

    /// True when the module just starts fading in from fully bypassed: the caller clears the
    /// module's stale state first so no old tail leaks in.
    pub fn is_starting(&self) -> bool {
        self.mix == 0.0 && self.target == 1.0
    }

    /// Runs `module` on the block in place, crossfading with the dry signal while a fade is in
    /// progress. `dry_left`/`dry_right` are scratch buffers at least as long as the block.
    pub fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
        module: impl FnOnce(&mut [f32], &mut [f32]),
    ) {
        if self.is_bypassed() {
            return;
        }
        if self.mix == 1.0 && self.target == 1.0 {
            module(left, right);
            return;
        }
        let n = left.len();
        dry_left[..n].copy_from_slice(left);
        dry_right[..n].copy_from_slice(right);
        module(left, right);
        for i in 0..n {
            self.mix = approach(self.mix, self.target, self.step);
            left[i] = dry_left[i] + (left[i] - dry_left[i]) * self.mix;
            right[i] = dry_right[i] + (right[i] - dry_right[i]) * self.mix;
        }
    }
}

/// A module a [`BypassFade`] switches in and out (the EQ, the compressor, the stereo stage).
pub trait Switchable {
    /// Forgets the signal: called as the module starts fading in, so no stale tail leaks in.
    fn clear(&mut self);
    fn process(&mut self, left: &mut [f32], right: &mut [f32]);
}

impl BypassFade {
    /// [`Self::process`] for a [`Switchable`] module, cleared first when it starts fading in.
    pub fn run(
        &mut self,
        module: &mut impl Switchable,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    ) {
        if self.is_starting() {
            module.clear();
        }
        self.process(left, right, dry_left, dry_right, |l, r| {
            module.process(l, r)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fade_is_linear_over_the_fade_time_and_ends_exactly() {
        let fs = 48_000.0;
        let mut f = BypassFade::new(false);
        f.reset(fs);
        f.set_enabled(true);
        let n = (BYPASS_FADE_SECONDS * fs) as usize;
        let mut l = vec![1.0f32; n + 100];
        let mut r = l.clone();
        let (mut dl, mut dr) = (vec![0.0; n + 100], vec![0.0; n + 100]);
        // Module: multiply by 0 (full mute), so the output is exactly (1 - mix).
        f.process(&mut l, &mut r, &mut dl, &mut dr, |a, b| {
            a.iter_mut().for_each(|x| *x = 0.0);
            b.iter_mut().for_each(|x| *x = 0.0);
        });
        let max_step = l
            .windows(2)
            .map(|w| (w[0] - w[1]).abs())
            .fold(0.0, f32::max);
        assert!(max_step <= 1.0 / n as f32 + 1e-6, "step {max_step}");
        assert_eq!(l[n + 50], 0.0);
        assert!(!f.is_bypassed());
    }

    #[test]
    fn bypassed_module_is_not_run_and_passes_input_untouched() {
        let mut f = BypassFade::new(false);
        f.reset(44_100.0);
        let mut l = vec![0.3f32; 16];
        let mut r = vec![-0.3f32; 16];
        let (mut dl, mut dr) = (vec![0.0; 16], vec![0.0; 16]);
        let mut ran = false;
        f.process(&mut l, &mut r, &mut dl, &mut dr, |_, _| ran = true);
        assert!(!ran);
        assert!(l.iter().all(|&x| x == 0.3));
    }
}
