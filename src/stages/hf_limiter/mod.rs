//! The high-frequency limiter stage (`dsp::dynamics::hf_limiter`): bounds the RIAA
//! pre-emphasised level of the high band for a vinyl cut.
//!
//! Off, it is out of the path with no latency. On, it delays by its band-split FIR's centre
//! plus its 1 ms lookahead, so switching it is structural ([`Structure::hf_limiter_on`]),
//! applied at the bottom of the chain's fade like the clipper's oversampling.
//!
//! Default place: the last movable stage, just before the saturation, clipper and limiter,
//! so it sees the treble every earlier stage made.

pub mod panel;
mod params;

pub use params::HfLimiterParams;

use crate::dsp::dynamics::hf_limiter::{self, HfLimiter, HfLimiterSettings};
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct HfLimiterStage {
    limiter: HfLimiter,
    /// In the path (the structure in place, not the wanted settings).
    on: bool,
}

impl Default for HfLimiterStage {
    fn default() -> Self {
        Self {
            limiter: HfLimiter::new(48_000.0),
            on: false,
        }
    }
}

impl HfLimiterStage {
    /// The stage's latency with `structure` at `sample_rate` (0 while off).
    pub fn latency_for(structure: &Structure, sample_rate: f32) -> u32 {
        if structure.hf_limiter_on {
            hf_limiter::latency_for(sample_rate)
        } else {
            0
        }
    }

    /// Deepest high-band reduction of the last chunk, dB (0 while off).
    pub fn reduction_db(&self) -> f32 {
        if self.on {
            self.limiter.reduction_db()
        } else {
            0.0
        }
    }
}

impl StageProcessor for HfLimiterStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.set(s, structure);
        self.limiter.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, structure: &Structure) {
        self.on = structure.hf_limiter_on;
        self.limiter.set(&HfLimiterSettings {
            enabled: structure.hf_limiter_on,
            ..s.hf_limiter
        });
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        _dry_left: &mut [f32],
        _dry_right: &mut [f32],
    ) {
        if self.on {
            self.limiter.process(left, right);
        }
    }

    fn clear(&mut self) {
        self.limiter.clear();
    }

    fn is_active(&self) -> bool {
        self.on
    }

    fn latency_samples(&self) -> u32 {
        if self.on {
            self.limiter.latency_samples()
        } else {
            0
        }
    }
}
