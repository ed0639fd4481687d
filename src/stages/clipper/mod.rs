//! The clipper stage (`dsp::shaping::clipper`), before the limiter: it shaves the fastest
//! peaks (a few dB of the kick's and snare's first milliseconds) so the limiter after it has
//! less to do and stops pumping the whole mix down for them.
//!
//! Off, it is out of the path with no latency. On, it delays by its oversampling filters'
//! latency, so switching it on or off, or changing the factor, is structural
//! ([`Structure::clipper_oversampling`]), applied at the bottom of the chain's fade like the
//! linear-phase EQ's. At 1x it has no latency and switches with a crossfade.

pub mod panel;
mod params;

pub use params::{ClipCurveParam, ClipperParams, OversamplingParam};

use crate::dsp::shaping::clipper::{Clipper, ClipperSettings};
use crate::dsp::util::bypass::{BypassFade, Switchable};
use crate::stages::{ChainSettings, StageProcessor, Structure};

pub struct ClipperStage {
    clipper: Clipper,
    fade: BypassFade,
}

impl Default for ClipperStage {
    fn default() -> Self {
        Self {
            clipper: Clipper::new(48_000.0),
            fade: BypassFade::new(false),
        }
    }
}

impl Switchable for Clipper {
    fn clear(&mut self) {
        Clipper::clear(self);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        Clipper::process(self, left, right);
    }
}

impl ClipperStage {
    /// The clipper's latency with `structure` at `sample_rate` (0 while off).
    pub fn latency_for(structure: &Structure, sample_rate: f32) -> u32 {
        Clipper::latency_for(structure.clipper_oversampling, sample_rate)
    }

    /// How deep the last chunk clipped, dB over the ceiling (0 while off).
    pub fn clip_depth_db(&self) -> f32 {
        if self.fade.is_bypassed() {
            0.0
        } else {
            self.clipper.clip_depth_db()
        }
    }
}

impl StageProcessor for ClipperStage {
    fn reset(&mut self, sample_rate: f32, s: &ChainSettings, structure: &Structure) {
        self.set(s, structure);
        self.clipper.reset(sample_rate);
        self.fade.reset(sample_rate);
    }

    fn set(&mut self, s: &ChainSettings, structure: &Structure) {
        // The factor is structural: the one in place until the chain's fade switches it (1 = off
        // or no oversampling; the filters then cost nothing).
        self.clipper.set(&ClipperSettings {
            oversampling: structure.clipper_oversampling,
            ..s.clipper
        });
        self.fade.set_enabled(s.clipper.enabled);
    }

    fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        dry_left: &mut [f32],
        dry_right: &mut [f32],
    ) {
        self.fade
            .run(&mut self.clipper, left, right, dry_left, dry_right);
    }

    fn clear(&mut self) {
        self.clipper.clear();
    }

    fn is_active(&self) -> bool {
        !self.fade.is_bypassed()
    }

    fn latency_samples(&self) -> u32 {
        self.clipper.latency_samples()
    }

    fn drive_gain(&self) -> f32 {
        crate::dsp::util::db_to_gain(self.clipper.settings().drive_db)
    }
}
