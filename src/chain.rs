//! The mastering chain in signal order. Owns the DSP modules and calls them in turn on each
//! block: input gain -> (EQ -> compressor -> stereo -> limiter) -> output gain -> dither.
//! Plain Rust: no framework types, so tests, benches and the offline renderer drive it directly.

use crate::dsp::gain::Gain;

/// Plain settings for the whole chain, produced from the host parameters by `params.rs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainSettings {
    pub input_gain_db: f32,
    pub output_gain_db: f32,
}

impl Default for ChainSettings {
    fn default() -> Self {
        Self {
            input_gain_db: 0.0,
            output_gain_db: 0.0,
        }
    }
}

/// The chain. `reset` preallocates; `process` never allocates.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    input_gain: Gain,
    output_gain: Gain,
}

impl Chain {
    pub fn new() -> Self {
        Self::default()
    }

    /// Prepares every module for `sample_rate`. May allocate: call from `activate`, not from the
    /// audio thread.
    pub fn reset(&mut self, sample_rate: f32) {
        self.input_gain.reset(sample_rate);
        self.output_gain.reset(sample_rate);
    }

    /// Applies new settings. Allocation-free; changes are smoothed inside the modules.
    pub fn set(&mut self, settings: &ChainSettings) {
        self.input_gain.set_gain_db(settings.input_gain_db);
        self.output_gain.set_gain_db(settings.output_gain_db);
    }

    /// Latency of the whole chain in samples, exactly the delay of an impulse through `process`.
    pub fn latency_samples(&self) -> u32 {
        0
    }

    /// Processes one stereo block in place. Any length; mono callers pass the same data twice
    /// (see `lib.rs`).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        self.input_gain.process(left, right);
        self.output_gain.process(left, right);
    }
}
