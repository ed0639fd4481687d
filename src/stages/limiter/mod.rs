//! The true-peak limiter stage (`dsp::dynamics::limiter`). Always in the signal path: off, it
//! still delays by its lookahead, so switching it never moves audio in time. The lookahead is
//! latency, so it follows the chain's structure ([`Structure::lookahead_ms`]), switched at the
//! bottom of the structural fade.

pub mod panel;
mod params;

pub use params::LimiterParams;

use crate::dsp::dynamics::limiter::{Limiter, LimiterSettings};
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct LimiterStage {
    settings: LimiterSettings,
    limiter: Limiter,
}

impl Default for LimiterStage {
    fn default() -> Self {
        Self {
            settings: LimiterSettings::default(),
            limiter: Limiter::new(48_000.0),
        }
    }
}

impl LimiterStage {
    /// The limiter's latency with `structure` at `sample_rate`.
    pub fn latency_for(structure: &Structure, sample_rate: f32) -> u32 {
        Limiter::latency_for(structure.lookahead_ms, sample_rate)
    }

    /// Gain reduction of the last chunk in dB (0 while off).
    pub fn gain_reduction_db(&self) -> f32 {
        if self.settings.enabled {
            self.limiter.gain_reduction_db()
        } else {
            0.0
        }
    }
}

impl StageProcessor for LimiterStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        // Settings first: the limiter sizes its delay for the lookahead in place at reset.
        self.set(s, structure);
        self.limiter.reset(sample_rate);
        self.limiter.set(&self.settings);
    }

    fn set(&mut self, s: &ChainSettings, structure: &Structure) {
        // Lookahead is structural: the limiter keeps the one in place until the fade switches.
        self.settings = LimiterSettings {
            lookahead_ms: structure.lookahead_ms,
            ..s.limiter
        };
        self.limiter.set(&self.settings);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32], _: &mut [f32], _: &mut [f32]) {
        self.limiter.process(left, right);
    }

    fn clear(&mut self) {
        self.limiter.clear();
    }

    fn is_active(&self) -> bool {
        self.settings.enabled
    }

    fn latency_samples(&self) -> u32 {
        self.limiter.latency_samples()
    }

    fn drive_gain(&self) -> f32 {
        crate::dsp::util::db_to_gain(self.settings.drive_db)
    }
}
