//! The clipper: drive into a curve at the ceiling, oversampled.
//!
//! Per channel: `y = ceiling · curve(x · drive / ceiling)`, the curve run at 1-16x the rate
//! (`filters::oversampler`). Drive and ceiling are linear gains on either side of the curve,
//! so they are smoothed at the base rate (10 ms one-poles, click-free automation) and only the
//! curve itself runs oversampled.
//!
//! **The ceiling** is the level the curve clips to at the oversampled rate. After decimation
//! the true peak can stand above it: the decimation filter removes the harmonics that made the
//! flat top flat, and what remains rings (Gibbs). That overshoot is the flaw open clippers
//! have (PeakEater's oversampled mode); it is measured per curve and factor in the tests and
//! tabled in the README, and the limiter after the clipper is what finally holds a ceiling.
//! At 1x the sample peaks never exceed the ceiling, but the true peak does, by more.
//!
//! Channels are clipped independently (a clipper is a waveform operation: a linked clipper
//! would be a limiter with zero attack).

use crate::dsp::filters::oversampler::{self, Oversampler};
use crate::dsp::shaping::curves::ClipCurve;
use crate::dsp::util::range::Range;
use crate::dsp::util::smoothing::OnePole;
use crate::dsp::util::{db_to_gain, gain_to_db, sanitize};

/// Drive into the clipper, dB.
pub const DRIVE_DB: Range = Range::new(0.0, 18.0, 0.0, "dB");
/// The clip level, dB (full scale = 0 dB).
pub const CEILING_DB: Range = Range::new(-12.0, 0.0, -1.0, "dB");
/// Default oversampling: at 8x every curve's aliasing of a 13 kHz sine driven 6 dB is below
/// -60 dB (measured, see tests).
pub const DEFAULT_OVERSAMPLING: usize = 8;
/// Time constant of the drive and ceiling smoothing.
const SMOOTHING_SECONDS: f32 = 0.010;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipperSettings {
    pub enabled: bool,
    pub drive_db: f32,
    pub ceiling_db: f32,
    pub curve: ClipCurve,
    /// 1, 2, 4, 8 or 16. Sets the latency (see [`Clipper::latency_for`]).
    pub oversampling: usize,
}

impl Default for ClipperSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            drive_db: DRIVE_DB.default,
            ceiling_db: CEILING_DB.default,
            curve: ClipCurve::default(),
            oversampling: DEFAULT_OVERSAMPLING,
        }
    }
}

/// A stereo clipper. `reset` allocates; `process` does not.
pub struct Clipper {
    sample_rate: f32,
    settings: ClipperSettings,
    channels: [Oversampler; 2],
    /// `drive / ceiling`, applied before the curve.
    pre_gain: OnePole,
    /// `ceiling`, applied after it.
    post_gain: OnePole,
    /// Deepest clip of the last `process` call, dB over the ceiling (0 when nothing reached
    /// it), read from the driven signal at the base rate.
    clip_depth_db: f32,
}

impl Clipper {
    pub fn new(sample_rate: f32) -> Self {
        let mut c = Self {
            sample_rate,
            settings: ClipperSettings::default(),
            channels: [Oversampler::new(sample_rate), Oversampler::new(sample_rate)],
            pre_gain: OnePole::new(1.0),
            post_gain: OnePole::new(1.0),
            clip_depth_db: 0.0,
        };
        c.reset(sample_rate);
        c
    }

    /// Latency of the clipper with `oversampling` at `sample_rate`.
    pub fn latency_for(oversampling: usize, sample_rate: f32) -> u32 {
        oversampler::latency_for(
            oversampling,
            crate::dsp::util::usable_sample_rate(sample_rate),
        )
    }

    pub fn latency_samples(&self) -> u32 {
        self.channels[0].latency_samples()
    }

    /// Prepares for `sample_rate` (allocates when it changed) and clears.
    pub fn reset(&mut self, sample_rate: f32) {
        self.sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        for ch in &mut self.channels {
            ch.reset(self.sample_rate);
        }
        self.pre_gain.set_time(SMOOTHING_SECONDS, self.sample_rate);
        self.post_gain.set_time(SMOOTHING_SECONDS, self.sample_rate);
        let s = self.settings;
        self.set(&s);
        self.pre_gain.snap();
        self.post_gain.snap();
        self.clear();
    }

    /// Takes new settings. A change of `oversampling` changes the latency and clears the
    /// filters: the chain applies it at the bottom of its structural fade.
    pub fn set(&mut self, settings: &ClipperSettings) {
        let drive_db = DRIVE_DB.sanitize(settings.drive_db);
        let ceiling_db = CEILING_DB.sanitize(settings.ceiling_db);
        self.settings = ClipperSettings {
            drive_db,
            ceiling_db,
            oversampling: oversampler::valid_factor(settings.oversampling),
            ..*settings
        };
        let ceiling = f64::from(db_to_gain(ceiling_db));
        self.pre_gain.target = f64::from(db_to_gain(drive_db)) / ceiling;
        self.post_gain.target = ceiling;
        for ch in &mut self.channels {
            ch.set_factor(self.settings.oversampling);
        }
    }

    pub fn settings(&self) -> &ClipperSettings {
        &self.settings
    }

    /// How deep the last call clipped, dB over the ceiling (0 = untouched).
    pub fn clip_depth_db(&self) -> f32 {
        self.clip_depth_db
    }

    pub fn clear(&mut self) {
        for ch in &mut self.channels {
            ch.clear();
        }
        self.clip_depth_db = 0.0;
    }

    /// Clips `left` and `right` in place (any length).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        let (left, right) = (&mut left[..n], &mut right[..n]);
        // Pre-gain at the base rate; the smoothing runs once for both channels.
        let mut deepest = 0.0f32;
        if self.pre_gain.is_settled() {
            let g = self.pre_gain.current as f32;
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                *l = sanitize(*l) * g;
                *r = sanitize(*r) * g;
                deepest = deepest.max(l.abs()).max(r.abs());
            }
        } else {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let g = self.pre_gain.advance() as f32;
                *l = sanitize(*l) * g;
                *r = sanitize(*r) * g;
                deepest = deepest.max(l.abs()).max(r.abs());
            }
        }
        self.clip_depth_db = gain_to_db(deepest).max(0.0);
        let curve = self.settings.curve;
        self.channels[0].process(left, |x| curve.apply(x));
        self.channels[1].process(right, |x| curve.apply(x));
        if self.post_gain.is_settled() {
            let g = self.post_gain.current as f32;
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                *l *= g;
                *r *= g;
            }
        } else {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let g = self.post_gain.advance() as f32;
                *l *= g;
                *r *= g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, fs: f64, amp: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / fs).sin()) as f32)
            .collect()
    }

    #[test]
    fn below_the_ceiling_the_hard_and_soft_curves_are_a_pure_delay() {
        for curve in [ClipCurve::Hard, ClipCurve::Soft] {
            for factor in [1, 8] {
                let mut c = Clipper::new(48_000.0);
                c.set(&ClipperSettings {
                    enabled: true,
                    curve,
                    oversampling: factor,
                    ceiling_db: 0.0,
                    ..ClipperSettings::default()
                });
                c.reset(48_000.0);
                // -6 dB: below the soft knee (-3.1 dB).
                let x = sine(997.0, 48_000.0, 0.5, 4800);
                let (mut l, mut r) = (x.clone(), x.clone());
                c.process(&mut l, &mut r);
                let lat = c.latency_samples() as usize;
                let err = (lat + 500..4800)
                    .map(|i| (l[i] - x[i - lat]).abs())
                    .fold(0.0f32, f32::max);
                assert!(err < 1e-4, "{curve:?} x{factor}: {err}");
                assert_eq!(c.clip_depth_db(), 0.0);
            }
        }
    }

    #[test]
    fn clipped_sample_peaks_stay_at_the_ceiling_without_oversampling() {
        let mut c = Clipper::new(44_100.0);
        c.set(&ClipperSettings {
            enabled: true,
            curve: ClipCurve::Hard,
            oversampling: 1,
            drive_db: 6.0,
            ceiling_db: -3.0,
        });
        c.reset(44_100.0);
        let x = sine(441.0, 44_100.0, 0.9, 4410);
        let (mut l, mut r) = (x.clone(), x);
        c.process(&mut l, &mut r);
        let peak = l.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            (gain_to_db(peak) + 3.0).abs() < 1e-3,
            "{}",
            gain_to_db(peak)
        );
        // 0.9 * 2 (6 dB) against 0.708: 8.1 dB deep.
        assert!(
            (c.clip_depth_db() - gain_to_db(0.9 * db_to_gain(6.0) / db_to_gain(-3.0))).abs() < 0.05
        );
    }

    #[test]
    fn non_finite_input_does_not_poison_the_filters() {
        let mut c = Clipper::new(48_000.0);
        c.set(&ClipperSettings {
            enabled: true,
            oversampling: 8,
            ..ClipperSettings::default()
        });
        let mut l = vec![f32::NAN, f32::INFINITY, 0.5, -1e30];
        let mut r = vec![0.1; 4];
        c.process(&mut l, &mut r);
        let (mut l2, mut r2) = (vec![0.1f32; 2000], vec![0.1f32; 2000]);
        c.process(&mut l2, &mut r2);
        assert!(l.iter().chain(&l2).chain(&r2).all(|x| x.is_finite()));
    }
}
