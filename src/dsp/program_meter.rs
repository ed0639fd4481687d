//! Programme meter: BS.1770-4 / EBU R128 loudness (momentary, short-term, integrated, LRA),
//! true-peak maximum (BS.1770-4 Annex 2, 4x oversampling) and sample peak of one stereo (or
//! mono) signal. Realtime-safe; readings are plain numbers copied to the GUI by the plugin.

use crate::dsp::loudness::LoudnessMeter;
use crate::dsp::oversampling::{stereo_true_peak_block, StereoTruePeakDetector, TRUE_PEAK_TAPS};
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

/// Frames per true-peak chunk: the exact skip rule is decided per chunk (a finer grid skips
/// more often than per host block), and the block detector vectorises over a chunk.
const TRUE_PEAK_CHUNK: usize = 64;
/// Detector input: the `TRUE_PEAK_TAPS - 1` previous frames, then the chunk.
const TRUE_PEAK_HISTORY: usize = TRUE_PEAK_TAPS - 1;

/// One signal's meter.
pub struct ProgramMeter {
    loudness: LoudnessMeter,
    /// Upper bound of |interpolated sub-sample| / max |input| over the filter's support:
    /// the largest per-phase sum of |coefficients|. Lets the meter skip the 4x interpolation
    /// exactly when a chunk cannot raise the maximum.
    overshoot_bound: f32,
    /// Sanitised input for [`stereo_true_peak_block`]: the last `TRUE_PEAK_TAPS - 1` frames
    /// (always kept, also across skipped chunks, so the detector never needs re-priming),
    /// followed by the current chunk.
    detector_left: [f32; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
    detector_right: [f32; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
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
            overshoot_bound: measure_overshoot_bound(),
            detector_left: [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
            detector_right: [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
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
        // `LoudnessMeter::reset` already cleared the loudness measurement; calling its
        // `reset_measurement` again would move the gating-block grid to the next 10 ms boundary
        // and make this meter disagree with `integrated_loudness` on the same file.
        self.reset_true_peak();
    }

    /// The meter's reset button: integrated, LRA, maxima. Allocation-free.
    pub fn reset_measurement(&mut self) {
        self.loudness.reset_measurement();
        self.reset_true_peak();
    }

    fn reset_true_peak(&mut self) {
        // Fresh detector state: the measurement starts as if preceded by silence.
        self.detector_left = [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK];
        self.detector_right = [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK];
        self.true_peak_max = 0.0;
    }

    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len().min(right.len());
        let (left, right) = (&left[..n], &right[..n]);
        let mut block_peak = 0.0f32;
        for (l, r) in left
            .chunks(TRUE_PEAK_CHUNK)
            .zip(right.chunks(TRUE_PEAK_CHUNK))
        {
            block_peak = block_peak.max(self.true_peak_chunk(l, r));
        }
        self.sample_peak = block_peak;
        if self.mono {
            self.loudness.process(left, None);
        } else {
            self.loudness.process(left, Some(right));
        }
    }

    /// True peak of one chunk (at most [`TRUE_PEAK_CHUNK`] frames) into `true_peak_max`;
    /// returns the chunk's sample peak.
    ///
    /// Why this is exact: every 4x sub-sample is a 12-tap FIR of the input, so it is at most
    /// `overshoot_bound` times the largest input magnitude in its support (the chunk and the
    /// 11 frames before it). When that bound cannot exceed the maximum so far, the chunk cannot
    /// raise it and the interpolation is skipped; otherwise the vectorised block detector
    /// (bit-identical to the per-frame `StereoTruePeakDetector`) runs on the whole chunk.
    fn true_peak_chunk(&mut self, left: &[f32], right: &[f32]) -> f32 {
        let len = left.len().min(right.len()).min(TRUE_PEAK_CHUNK);
        let (det_left, det_right) = (&mut self.detector_left, &mut self.detector_right);
        let mut chunk_peak = 0.0f32;
        for (((dl, dr), &l), &r) in det_left[TRUE_PEAK_HISTORY..TRUE_PEAK_HISTORY + len]
            .iter_mut()
            .zip(det_right[TRUE_PEAK_HISTORY..TRUE_PEAK_HISTORY + len].iter_mut())
            .zip(left)
            .zip(right)
        {
            *dl = sanitize(l);
            *dr = sanitize(r);
            chunk_peak = finite_max(finite_max(chunk_peak, dl.abs()), dr.abs());
        }
        let support_peak = det_left[..TRUE_PEAK_HISTORY]
            .iter()
            .zip(det_right[..TRUE_PEAK_HISTORY].iter())
            .fold(chunk_peak, |m, (&l, &r)| {
                finite_max(finite_max(m, l.abs()), r.abs())
            });
        if support_peak * self.overshoot_bound > self.true_peak_max {
            let mut peaks = [0.0f32; TRUE_PEAK_CHUNK];
            stereo_true_peak_block(
                &det_left[..TRUE_PEAK_HISTORY + len],
                &det_right[..TRUE_PEAK_HISTORY + len],
                &mut peaks[..len],
            );
            let max = peaks[..len]
                .iter()
                .fold(self.true_peak_max, |m, &p| finite_max(m, p));
            self.true_peak_max = finite_max(max, chunk_peak);
        }
        det_left.copy_within(len..len + TRUE_PEAK_HISTORY, 0);
        det_right.copy_within(len..len + TRUE_PEAK_HISTORY, 0);
        chunk_peak
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

/// `max` for values known to be finite (everything here is sanitised): a plain compare and
/// select, which vectorises to one instruction, unlike `f32::max`'s NaN handling.
#[inline(always)]
fn finite_max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
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
    fn integrated_loudness_agrees_with_the_offline_function() {
        // Same gating-block grid after `reset`: the meter and `integrated_loudness` must read
        // the same file identically (they share the BS.1770 code).
        let fs = 44_100.0;
        let mut x = 0x1234_5678u32;
        let noise: Vec<f32> = (0..(8.3 * fs) as usize)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let env = if (i / 22_050) % 2 == 0 { 0.5 } else { 0.1 };
                env * ((x >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
            })
            .collect();
        let mut m = ProgramMeter::new();
        m.reset(fs, false);
        for c in noise.chunks(512) {
            m.process(c, c);
        }
        let offline = crate::dsp::loudness::integrated_loudness(&noise, Some(&noise), fs) as f32;
        let meter = m.readings().integrated_lufs;
        assert!(
            (meter - offline).abs() < 0.005,
            "meter {meter} vs offline {offline}"
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
