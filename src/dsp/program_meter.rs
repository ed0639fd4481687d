//! Programme meter: BS.1770-4 / EBU R128 loudness (momentary, short-term, integrated, LRA),
//! true-peak maximum (BS.1770-4 Annex 2, 4x oversampling) and sample peak of one stereo (or
//! mono) signal. Realtime-safe; readings are plain numbers copied to the GUI by the plugin.

use crate::dsp::loudness::LoudnessMeter;
use crate::dsp::oversampling::{StereoTruePeakDetector, TRUE_PEAK_TAPS};
use crate::dsp::util::sanitize;

/// Loudness and peak readings of one signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgramReadings {
    pub momentary_lufs: f32,
    pub short_term_lufs: f32,
    pub integrated_lufs: f32,
    pub loudness_range_lu: f32,
    /// Highest true peak since the last measurement reset, in dBTP.
    pub true_peak_max_dbtp: f32,
    /// Highest sample peak of the last processed block, in dBFS.
    pub sample_peak_dbfs: f32,
}

impl ProgramReadings {
    /// Peak-to-loudness ratio (true-peak max minus integrated loudness), EBU R128 s1.
    pub fn plr_db(&self) -> f32 {
        self.true_peak_max_dbtp - self.integrated_lufs
    }
}

/// One signal's meter.
pub struct ProgramMeter {
    loudness: LoudnessMeter,
    true_peak: StereoTruePeakDetector,
    /// Upper bound of |interpolated sub-sample| / max |input| over the filter's support:
    /// the largest per-phase sum of |coefficients|. Lets the meter skip the 4x interpolation
    /// exactly when a block cannot raise the maximum.
    overshoot_bound: f32,
    /// The last TRUE_PEAK_TAPS frames, to re-prime the detector after a skipped stretch.
    recent: [[f32; 2]; TRUE_PEAK_TAPS],
    recent_pos: usize,
    detector_primed: bool,
    true_peak_max: f32,
    sample_peak: f32,
    mono: bool,
}

impl Default for ProgramMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgramMeter {
    /// Allocates the loudness histograms (off the audio thread).
    pub fn new() -> Self {
        Self {
            loudness: LoudnessMeter::new(),
            true_peak: StereoTruePeakDetector::new(),
            overshoot_bound: measure_overshoot_bound(),
            recent: [[0.0; 2]; TRUE_PEAK_TAPS],
            recent_pos: 0,
            detector_primed: true,
            true_peak_max: 0.0,
            sample_peak: 0.0,
            mono: false,
        }
    }

    /// Prepares for `sample_rate` and clears everything. `mono` meters the left channel alone
    /// (BS.1770 mono), so a mono track processed as identical L/R does not read +3 dB.
    pub fn reset(&mut self, sample_rate: f32, mono: bool) {
        self.loudness.reset(sample_rate);
        self.mono = mono;
        self.reset_measurement();
    }

    /// The meter's reset button: integrated, LRA, maxima. Allocation-free.
    pub fn reset_measurement(&mut self) {
        self.loudness.reset_measurement();
        self.true_peak.reset();
        self.recent = [[0.0; 2]; TRUE_PEAK_TAPS];
        self.detector_primed = true;
        self.true_peak_max = 0.0;
    }

    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len().min(right.len());
        let (left, right) = (&left[..n], &right[..n]);
        let block_peak = left.iter().zip(right).fold(0.0f32, |m, (&l, &r)| {
            m.max(sanitize(l).abs()).max(sanitize(r).abs())
        });
        self.sample_peak = block_peak;
        let support_peak = self
            .recent
            .iter()
            .fold(block_peak, |m, f| m.max(f[0].abs()).max(f[1].abs()));
        if support_peak * self.overshoot_bound > self.true_peak_max {
            if !self.detector_primed {
                self.true_peak.reset();
                for k in 0..TRUE_PEAK_TAPS {
                    let f = self.recent[(self.recent_pos + k) % TRUE_PEAK_TAPS];
                    self.true_peak.process_frame(f[0], f[1]);
                }
            }
            let mut max = self.true_peak_max;
            for (&l, &r) in left.iter().zip(right) {
                max = max.max(self.true_peak.process_frame(l, r));
            }
            self.true_peak_max = max.max(block_peak);
            self.detector_primed = true;
        } else {
            self.detector_primed = false;
        }
        for (&l, &r) in left
            .iter()
            .zip(right)
            .skip(n.saturating_sub(TRUE_PEAK_TAPS))
        {
            self.recent[self.recent_pos] = [sanitize(l), sanitize(r)];
            self.recent_pos = (self.recent_pos + 1) % TRUE_PEAK_TAPS;
        }
        if self.mono {
            self.loudness.process(left, None);
        } else {
            self.loudness.process(left, Some(right));
        }
    }

    pub fn short_term_lufs(&self) -> f32 {
        self.loudness.short_term_lufs()
    }

    /// All readings. Integrated and LRA scan histograms: call a few times per second, not per
    /// sample (the plugin publishes at ~30 Hz).
    pub fn readings(&self) -> ProgramReadings {
        ProgramReadings {
            momentary_lufs: self.loudness.momentary_lufs(),
            short_term_lufs: self.loudness.short_term_lufs(),
            integrated_lufs: self.loudness.integrated_lufs(),
            loudness_range_lu: self.loudness.loudness_range_lu(),
            true_peak_max_dbtp: to_db(self.true_peak_max),
            sample_peak_dbfs: to_db(self.sample_peak),
        }
    }
}

fn to_db(x: f32) -> f32 {
    if x > 0.0 {
        20.0 * x.log10()
    } else {
        f32::NEG_INFINITY
    }
}

/// Largest per-phase sum of |h| of the true-peak interpolator, read from its impulse response.
fn measure_overshoot_bound() -> f32 {
    let mut d = StereoTruePeakDetector::new();
    let mut detector = crate::dsp::oversampling::TruePeakDetector::new();
    d.reset();
    let mut sums = [0.0f32; crate::dsp::oversampling::TRUE_PEAK_PHASES];
    for i in 0..2 * TRUE_PEAK_TAPS {
        let phases = detector.process_sample_phases(if i == 0 { 1.0 } else { 0.0 });
        for (s, p) in sums.iter_mut().zip(phases) {
            *s += p.abs();
        }
    }
    // Small margin for float rounding in the detector's own sums.
    sums.iter().fold(1.0f32, |m, &s| m.max(s)) * 1.0001
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::oversampling::true_peak_dbtp;

    fn sine(n: usize, freq: f32, fs: f32, amp: f32, phase: f32) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / fs + phase).sin())
            .collect()
    }

    #[test]
    fn true_peak_max_matches_reference_even_with_skipping() {
        // Loud first, then quieter material with an inter-sample over later: the skipping
        // must not miss the later, higher inter-sample peak.
        let fs = 48_000.0;
        let mut l = sine(48_000, 1_000.0, fs, 0.5, 0.0);
        let tail = sine(48_000, 12_000.0, fs, 0.9, std::f32::consts::FRAC_PI_4);
        l.extend_from_slice(&tail);
        let r = l.clone();
        let mut m = ProgramMeter::new();
        m.reset(fs, false);
        for (a, b) in l.chunks(512).zip(r.chunks(512)) {
            m.process(a, b);
        }
        let reference = true_peak_dbtp(&l, &r);
        let got = m.readings().true_peak_max_dbtp;
        assert!(
            (got - reference).abs() < 0.01,
            "meter {got} dBTP vs reference {reference} dBTP"
        );
    }

    #[test]
    fn overshoot_bound_is_above_one() {
        let b = measure_overshoot_bound();
        // The BS.1770 Annex 2 interpolator: per-phase sum of |h| is about 2.02.
        assert!(b > 1.0 && b < 3.0, "{b}");
    }

    #[test]
    fn stereo_sine_reads_its_level_and_plr() {
        // EBU Tech 3341 case 1: -23 dBFS 1 kHz stereo sine reads -23 LUFS; its true peak is
        // -23 dBTP, so PLR = 0 LU.
        let fs = 48_000.0;
        let amp = 10f32.powf(-23.0 / 20.0);
        let l = sine(48_000 * 5, 1_000.0, fs, amp, 0.0);
        let mut m = ProgramMeter::new();
        m.reset(fs, false);
        for c in l.chunks(1024) {
            m.process(c, c);
        }
        let r = m.readings();
        assert!((r.integrated_lufs + 23.0).abs() < 0.1, "{r:?}");
        assert!((r.true_peak_max_dbtp + 23.0).abs() < 0.2, "{r:?}");
        assert!(r.plr_db().abs() < 0.3, "{r:?}");
    }

    #[test]
    fn mono_meters_one_channel() {
        let fs = 48_000.0;
        let amp = 10f32.powf(-20.0 / 20.0);
        let x = sine(48_000 * 4, 1_000.0, fs, amp, 0.0);
        let mut m = ProgramMeter::new();
        m.reset(fs, true);
        for c in x.chunks(1024) {
            m.process(c, c);
        }
        // BS.1770: a single channel 0 dBFS 1 kHz sine reads -3.01 LUFS.
        let i = m.readings().integrated_lufs;
        assert!((i - (-23.01)).abs() < 0.1, "{i}");
    }
}
