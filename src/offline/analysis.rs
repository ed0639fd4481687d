//! Whole-file measurements for the before/after report, with the plugin's own meters:
//! BS.1770-4 integrated loudness and EBU Tech 3342 loudness range (`ProgramMeter`), true peak
//! (8x windowed-sinc interpolation with refinement, `dsp/meters/true_peak.rs`), sample peak, and the peak-to-loudness ratio (EBU R128
//! s1: true peak minus integrated loudness). Plus loudness over time (EBU Tech 3341 curves, for
//! the pack's excerpt choice and its report) and gain-reduction statistics of a render.
//!
//! Measurements only: `render`, `pack` and the reports import from here, never the reverse (a
//! figure does not depend on how the audio was made), so the whole-file loudness the target
//! search aims at ([`integrated_lufs`]) lives here too.

use serde::Serialize;

use super::Audio;
use crate::dsp::meters::loudness::{integrated_loudness, LoudnessMeter};
use crate::dsp::meters::program_meter::ProgramMeter;
use crate::dsp::util::gain_to_db;

/// Loudness and peak figures of one signal. Non-finite values (silence) serialise as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Analysis {
    pub integrated_lufs: f32,
    pub loudness_range_lu: f32,
    pub true_peak_dbtp: f32,
    pub sample_peak_dbfs: f32,
    pub plr_db: f32,
}

/// Time step of the loudness curves (Tech 3341 asks meters to update at 10 Hz or faster).
pub const CURVE_STEP_SECONDS: f64 = 0.1;
/// EBU Tech 3341 short-term window.
pub const SHORT_TERM_SECONDS: f64 = 3.0;
/// EBU Tech 3341 momentary window.
pub const MOMENTARY_SECONDS: f64 = 0.4;

/// Meter block length: the meter is block-size independent; this only bounds call overhead.
const METER_BLOCK: usize = 4096;

/// Measures a whole file (mono files as BS.1770 mono: one channel, not +3 dB).
pub fn analyse(audio: &Audio) -> Analysis {
    let mut meter = ProgramMeter::new();
    meter.reset(audio.sample_rate as f32, audio.is_mono());
    let (left, right) = audio.left_right();
    let mut sample_peak = 0.0f32;
    for (l, r) in left.chunks(METER_BLOCK).zip(right.chunks(METER_BLOCK)) {
        meter.process(l, r);
    }
    meter.finish_true_peak();
    for channel in &audio.channels {
        sample_peak = channel
            .iter()
            .fold(sample_peak, |m, x| if x.abs() > m { x.abs() } else { m });
    }
    let readings = meter.readings();
    // Integrated loudness from a fresh `LoudnessMeter` over the whole file: the exact figure
    // the loudness-target search measures ([`integrated_lufs`]), so report and target
    // line agree to the last digit.
    let integrated = integrated_lufs(audio) as f32;
    Analysis {
        integrated_lufs: integrated,
        loudness_range_lu: readings.loudness_range_lu,
        true_peak_dbtp: readings.true_peak_max_dbtp,
        sample_peak_dbfs: gain_to_db(sample_peak),
        plr_db: readings.true_peak_max_dbtp - integrated,
    }
}

/// Integrated loudness of a whole file with the plugin's BS.1770-4 meter (mono as mono).
pub fn integrated_lufs(audio: &Audio) -> f64 {
    let (left, right) = audio.left_right();
    let right = (!audio.is_mono()).then_some(right);
    integrated_loudness(left, right, audio.sample_rate as f32)
}

/// Momentary and short-term loudness every [`CURVE_STEP_SECONDS`] (EBU Tech 3341 windows, the
/// plugin's BS.1770-4 meter). Entry `k` is the window ending at `(k + 1) * step_seconds`;
/// windows not yet complete (the first 0.4 s / 3 s) are `NaN`, silence is `-inf`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoudnessCurve {
    pub step_seconds: f64,
    pub momentary_lufs: Vec<f32>,
    pub short_term_lufs: Vec<f32>,
}

impl LoudnessCurve {
    /// Measures `audio` (mono as BS.1770 mono).
    pub fn measure(audio: &Audio) -> Self {
        let rate = f64::from(audio.sample_rate.max(1));
        // Whole 10 ms sub-blocks of the meter, so every reading is on its 100 Hz grid.
        let sub_block = ((rate * 0.01).round() as usize).max(1);
        let step = sub_block * (CURVE_STEP_SECONDS / 0.01).round() as usize;
        let step_seconds = step as f64 / rate;
        let mut meter = LoudnessMeter::new();
        meter.reset(audio.sample_rate as f32);
        let (left, right) = audio.left_right();
        let steps = audio.frames() / step;
        let momentary_complete = (MOMENTARY_SECONDS / step_seconds).round() as usize;
        let short_term_complete = (SHORT_TERM_SECONDS / step_seconds).round() as usize;
        let mut momentary_lufs = Vec::with_capacity(steps);
        let mut short_term_lufs = Vec::with_capacity(steps);
        for k in 0..steps {
            let span = k * step..(k + 1) * step;
            let right = (!audio.is_mono()).then(|| &right[span.clone()]);
            meter.process(&left[span], right);
            let done = k + 1;
            momentary_lufs.push(if done >= momentary_complete {
                meter.momentary_lufs()
            } else {
                f32::NAN
            });
            short_term_lufs.push(if done >= short_term_complete {
                meter.short_term_lufs()
            } else {
                f32::NAN
            });
        }
        Self {
            step_seconds,
            momentary_lufs,
            short_term_lufs,
        }
    }
}

/// Gain-reduction statistics of one render, from the chain's meters read every
/// `GR_BLOCK` samples of the render (each reading is that block's maximum).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GainReductionStats {
    pub compressor_max_db: f32,
    pub compressor_mean_db: f32,
    pub limiter_max_db: f32,
    pub limiter_mean_db: f32,
    /// Share of the file (0..1) during which the limiter reduced by more than
    /// [`LIMITING_THRESHOLD_DB`].
    pub limiter_active_fraction: f32,
}

/// Gain reduction counted as "limiting" in [`GainReductionStats::limiter_active_fraction`].
pub const LIMITING_THRESHOLD_DB: f32 = 0.5;

/// Accumulates per-block readings.
#[derive(Debug, Clone, Default)]
pub struct GainReductionAccumulator {
    blocks: u64,
    compressor_sum: f64,
    limiter_sum: f64,
    limiting_blocks: u64,
    compressor_max: f32,
    limiter_max: f32,
}

impl GainReductionAccumulator {
    pub fn add(&mut self, compressor_db: f32, limiter_db: f32) {
        let c = if compressor_db.is_finite() {
            compressor_db.max(0.0)
        } else {
            0.0
        };
        let l = if limiter_db.is_finite() {
            limiter_db.max(0.0)
        } else {
            0.0
        };
        self.blocks += 1;
        self.compressor_sum += f64::from(c);
        self.limiter_sum += f64::from(l);
        self.compressor_max = self.compressor_max.max(c);
        self.limiter_max = self.limiter_max.max(l);
        if l > LIMITING_THRESHOLD_DB {
            self.limiting_blocks += 1;
        }
    }

    pub fn stats(&self) -> GainReductionStats {
        let n = self.blocks.max(1) as f64;
        GainReductionStats {
            compressor_max_db: self.compressor_max,
            compressor_mean_db: (self.compressor_sum / n) as f32,
            limiter_max_db: self.limiter_max,
            limiter_mean_db: (self.limiter_sum / n) as f32,
            limiter_active_fraction: (self.limiting_blocks as f64 / n) as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(amplitude: f32, freq: f32, fs: u32, seconds: f32) -> Vec<f32> {
        (0..(seconds * fs as f32) as usize)
            .map(|i| amplitude * (std::f32::consts::TAU * freq * i as f32 / fs as f32).sin())
            .collect()
    }

    #[test]
    fn full_scale_997_hz_sine_reads_like_bs1770() {
        // BS.1770-4: a 0 dBFS 997 Hz sine in one channel of a stereo pair reads -3.01 LUFS;
        // in both channels 0.0 LUFS; peaks 0 dB, LRA 0 for a steady tone.
        let fs = 48_000;
        let s = sine(1.0, 997.0, fs, 5.0);
        let stereo = Audio {
            sample_rate: fs,
            channels: vec![s.clone(), s.clone()],
        };
        let a = analyse(&stereo);
        assert!((a.integrated_lufs - 0.0).abs() < 0.05, "{a:?}");
        assert!(a.loudness_range_lu.abs() < 0.1, "{a:?}");
        assert!(a.sample_peak_dbfs.abs() < 0.01, "{a:?}");
        assert!(a.true_peak_dbtp.abs() < 0.05, "{a:?}");
        assert!((a.plr_db - (a.true_peak_dbtp - a.integrated_lufs)).abs() < 1e-6);
        // Mono metered as mono: the single channel, -3.01 LUFS.
        let mono = Audio {
            sample_rate: fs,
            channels: vec![s],
        };
        let m = analyse(&mono);
        assert!((m.integrated_lufs + 3.01).abs() < 0.05, "{m:?}");
    }

    #[test]
    fn gain_reduction_statistics() {
        let mut acc = GainReductionAccumulator::default();
        for (c, l) in [(1.0, 0.0), (3.0, 2.0), (2.0, 1.0), (0.0, 0.0)] {
            acc.add(c, l);
        }
        let s = acc.stats();
        assert_eq!(s.compressor_max_db, 3.0);
        assert_eq!(s.compressor_mean_db, 1.5);
        assert_eq!(s.limiter_max_db, 2.0);
        assert_eq!(s.limiter_mean_db, 0.75);
        assert_eq!(s.limiter_active_fraction, 0.5);
    }
}
