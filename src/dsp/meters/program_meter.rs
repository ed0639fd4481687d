//! Programme meter: BS.1770-4 / EBU R128 loudness (momentary, short-term, integrated, LRA),
//! true-peak maximum (8x windowed-sinc interpolation with refinement, `true_peak.rs`) and sample peak of one stereo (or
//! mono) signal. Realtime-safe; readings are plain numbers copied to the GUI by the plugin.

use crate::dsp::meters::k_weighting::QuadKWeighting;
use crate::dsp::meters::loudness::LoudnessMeter;
use crate::dsp::meters::true_peak::{
    stereo_true_peak_max, TRUE_PEAK_HISTORY, TRUE_PEAK_MAX_FILTER_GAIN,
};
use crate::dsp::util::{abs_peak, finite_max, sanitize};

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

/// One signal's meter.
pub struct ProgramMeter {
    loudness: LoudnessMeter,
    peaks: PeakMeter,
    mono: bool,
}

/// Upper bound of |interpolated sub-sample| / max |input| over the filter's support: the
/// largest per-phase sum of |coefficients|, with a small margin for float rounding in the
/// detector's own sums. Lets the meter skip the interpolation exactly when a chunk cannot
/// raise the maximum.
const OVERSHOOT_BOUND: f32 = TRUE_PEAK_MAX_FILTER_GAIN * 1.0001;

/// True-peak maximum and block sample peak of one stereo signal.
struct PeakMeter {
    /// Sanitised input for [`stereo_true_peak_max`]: the last `TRUE_PEAK_HISTORY` frames
    /// (always kept, also across skipped chunks, so the detector never needs re-priming),
    /// followed by the current chunk.
    detector_left: [f32; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
    detector_right: [f32; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
    true_peak_max: f32,
    sample_peak: f32,
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
            peaks: PeakMeter::new(),
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
        self.peaks.reset();
    }

    /// The meter's reset button: integrated, LRA, maxima. Allocation-free.
    pub fn reset_measurement(&mut self) {
        self.loudness.reset_measurement();
        self.peaks.reset();
    }

    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len().min(right.len());
        let (left, right) = (&left[..n], &right[..n]);
        self.peaks.process(left, right);
        if self.mono {
            self.loudness.process(left, None);
        } else {
            self.loudness.process(left, Some(right));
        }
    }

    /// End of a file: lets the true-peak detector see silence after the last sample, so the
    /// inter-sample peaks of the final `TRUE_PEAK_DELAY` samples count (the detector reports
    /// each interval that many samples late). Loudness is untouched.
    pub fn finish_true_peak(&mut self) {
        let silence = [0.0f32; TRUE_PEAK_CHUNK];
        let sample_peak = self.peaks.sample_peak;
        self.peaks.process(&silence, &silence);
        self.peaks.sample_peak = sample_peak;
    }

    pub fn short_term_lufs(&self) -> f32 {
        self.loudness.short_term_lufs()
    }

    /// All readings. Integrated and LRA scan histograms: call a few times per second, not per
    /// sample (the plugin publishes at ~30 Hz).
    pub fn readings(&self) -> ProgramReadings {
        readings(&self.loudness, &self.peaks)
    }
}

fn readings(loudness: &LoudnessMeter, peaks: &PeakMeter) -> ProgramReadings {
    ProgramReadings {
        momentary_lufs: loudness.momentary_lufs(),
        short_term_lufs: loudness.short_term_lufs(),
        integrated_lufs: loudness.integrated_lufs(),
        loudness_range_lu: loudness.loudness_range_lu(),
        true_peak_max_dbtp: to_db(peaks.true_peak_max),
        sample_peak_dbfs: to_db(peaks.sample_peak),
    }
}

impl PeakMeter {
    fn new() -> Self {
        Self {
            detector_left: [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
            detector_right: [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK],
            true_peak_max: 0.0,
            sample_peak: 0.0,
        }
    }

    fn reset(&mut self) {
        // Fresh detector state: the measurement starts as if preceded by silence.
        self.detector_left = [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK];
        self.detector_right = [0.0; TRUE_PEAK_HISTORY + TRUE_PEAK_CHUNK];
        self.true_peak_max = 0.0;
    }

    /// Equal lengths (the caller trims).
    fn process(&mut self, left: &[f32], right: &[f32]) {
        let mut block_peak = 0.0f32;
        for (l, r) in left
            .chunks(TRUE_PEAK_CHUNK)
            .zip(right.chunks(TRUE_PEAK_CHUNK))
        {
            block_peak = block_peak.max(self.true_peak_chunk(l, r));
        }
        self.sample_peak = block_peak;
    }

    /// True peak of one chunk (at most [`TRUE_PEAK_CHUNK`] frames) into `true_peak_max`;
    /// returns the chunk's sample peak.
    ///
    /// Why this is exact: every interpolated value is a 64-tap FIR of the input (and its
    /// refinement at most 9/8 of the largest of three), so it is at most
    /// [`OVERSHOOT_BOUND`] times the largest input magnitude in its support (the chunk and the
    /// history frames before it). When that bound cannot exceed the maximum so far, the chunk cannot
    /// raise it and the interpolation is skipped; otherwise the folded block kernel
    /// (`stereo_true_peak_max`) runs on the
    /// whole chunk.
    fn true_peak_chunk(&mut self, left: &[f32], right: &[f32]) -> f32 {
        let len = self.load_chunk(left, right);
        self.finish_chunk(len)
    }

    /// Sanitises a chunk (at most [`TRUE_PEAK_CHUNK`] frames) into the detector input after
    /// the history; returns its length. [`Self::chunk`] then shows the clean samples.
    fn load_chunk(&mut self, left: &[f32], right: &[f32]) -> usize {
        let len = left.len().min(right.len()).min(TRUE_PEAK_CHUNK);
        let chunk = TRUE_PEAK_HISTORY..TRUE_PEAK_HISTORY + len;
        for (d, &x) in self.detector_left[chunk.clone()].iter_mut().zip(left) {
            *d = sanitize(x);
        }
        for (d, &x) in self.detector_right[chunk].iter_mut().zip(right) {
            *d = sanitize(x);
        }
        len
    }

    /// The sanitised chunk loaded last (`len` frames).
    fn chunk(&self, len: usize) -> [&[f32]; 2] {
        let chunk = TRUE_PEAK_HISTORY..TRUE_PEAK_HISTORY + len;
        [
            &self.detector_left[chunk.clone()],
            &self.detector_right[chunk],
        ]
    }

    /// True peak of the loaded chunk into `true_peak_max`, shifts the history; returns the
    /// chunk's sample peak.
    fn finish_chunk(&mut self, len: usize) -> f32 {
        let (det_left, det_right) = (&self.detector_left, &self.detector_right);
        let chunk = TRUE_PEAK_HISTORY..TRUE_PEAK_HISTORY + len;
        let chunk_peak = abs_peak(&det_left[chunk.clone()]).max(abs_peak(&det_right[chunk]));
        let support_peak = abs_peak(&det_left[..TRUE_PEAK_HISTORY])
            .max(abs_peak(&det_right[..TRUE_PEAK_HISTORY]))
            .max(chunk_peak);
        if support_peak * OVERSHOOT_BOUND > self.true_peak_max {
            let max = stereo_true_peak_max(
                &det_left[..TRUE_PEAK_HISTORY + len],
                &det_right[..TRUE_PEAK_HISTORY + len],
            );
            self.true_peak_max = finite_max(finite_max(self.true_peak_max, max), chunk_peak);
        }
        self.detector_left
            .copy_within(len..len + TRUE_PEAK_HISTORY, 0);
        self.detector_right
            .copy_within(len..len + TRUE_PEAK_HISTORY, 0);
        chunk_peak
    }
}

/// The A/B monitor's two meters, original and processed, in one pass: one 4-lane
/// K-weighting ([`QuadKWeighting`]) feeds both loudness measurements, and one sanitising
/// pass serves the filters and the true-peak detectors. Readings equal two [`ProgramMeter`]s
/// fed the same audio to float rounding (tested), at well under their cost (see
/// `cargo bench --bench chain`).
pub struct ProgramMeterPair {
    filter: QuadKWeighting,
    /// Gating and statistics only: fed K-weighted energies by the shared filter.
    loudness: [LoudnessMeter; 2],
    peaks: [PeakMeter; 2],
    mono: bool,
}

impl Default for ProgramMeterPair {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgramMeterPair {
    /// Allocates the loudness histograms (off the audio thread).
    pub fn new() -> Self {
        Self {
            filter: QuadKWeighting::new(48_000.0),
            loudness: [LoudnessMeter::new(), LoudnessMeter::new()],
            peaks: [PeakMeter::new(), PeakMeter::new()],
            mono: false,
        }
    }

    /// As [`ProgramMeter::reset`], for both signals.
    pub fn reset(&mut self, sample_rate: f32, mono: bool) {
        self.filter.reset(sample_rate);
        for meter in &mut self.loudness {
            meter.reset(sample_rate);
        }
        for peaks in &mut self.peaks {
            peaks.reset();
        }
        self.mono = mono;
    }

    /// The meter reset button, for both signals.
    pub fn reset_measurement(&mut self) {
        for meter in &mut self.loudness {
            meter.reset_measurement();
        }
        for peaks in &mut self.peaks {
            peaks.reset();
        }
    }

    /// Meters the original and the processed signal (the common length of all four slices).
    pub fn process(&mut self, original: [&[f32]; 2], processed: [&[f32]; 2]) {
        let n = original
            .iter()
            .chain(&processed)
            .map(|c| c.len())
            .min()
            .unwrap_or(0);
        let [original_left, original_right] = original.map(|c| &c[..n]);
        let [processed_left, processed_right] = processed.map(|c| &c[..n]);
        let mut block_peaks = [0.0f32; 2];
        for chunk_start in (0..n).step_by(TRUE_PEAK_CHUNK) {
            let chunk_end = (chunk_start + TRUE_PEAK_CHUNK).min(n);
            let len = chunk_end - chunk_start;
            // One sanitising pass serves both the true-peak detectors and the K-weighting.
            self.peaks[0].load_chunk(
                &original_left[chunk_start..chunk_end],
                &original_right[chunk_start..chunk_end],
            );
            self.peaks[1].load_chunk(
                &processed_left[chunk_start..chunk_end],
                &processed_right[chunk_start..chunk_end],
            );
            self.measure_loudness(len);
            for (peaks, block_peak) in self.peaks.iter_mut().zip(&mut block_peaks) {
                *block_peak = block_peak.max(peaks.finish_chunk(len));
            }
        }
        for (peaks, block_peak) in self.peaks.iter_mut().zip(block_peaks) {
            peaks.sample_peak = block_peak;
        }
    }

    /// K-weights the chunks loaded into the peak meters (`len` frames) and adds their
    /// energies to the loudness meters, split at the 10 ms sub-block boundaries.
    fn measure_loudness(&mut self, len: usize) {
        let [original_left, original_right] = self.peaks[0].chunk(len);
        let [processed_left, processed_right] = self.peaks[1].chunk(len);
        let mut start = 0;
        while start < len {
            // Both meters were reset together and see the same frames, so their 10 ms grids
            // coincide; the min only guards that invariant.
            let room = self.loudness[0]
                .frames_to_sub_block_end()
                .min(self.loudness[1].frames_to_sub_block_end());
            let end = (start + room).min(len);
            let mut energy = self.filter.process_energy([
                &original_left[start..end],
                &original_right[start..end],
                &processed_left[start..end],
                &processed_right[start..end],
            ]);
            if energy.iter().any(|e| !e.is_finite()) {
                // Only reachable if the filter state itself went bad; restart it cleanly.
                self.filter.clear_state();
                energy = [0.0; 4];
            }
            // BS.1770 mono: the left channel alone (a mono track runs as identical L/R).
            let (original_energy, processed_energy) = if self.mono {
                (energy[0], energy[2])
            } else {
                (energy[0] + energy[1], energy[2] + energy[3])
            };
            let frames = end - start;
            let finished_original = self.loudness[0].add_filtered_energy(original_energy, frames);
            let finished_processed = self.loudness[1].add_filtered_energy(processed_energy, frames);
            if finished_original || finished_processed {
                self.filter.guard_state();
            }
            start = end;
        }
    }

    pub fn original_short_term_lufs(&self) -> f32 {
        self.loudness[0].short_term_lufs()
    }

    pub fn processed_short_term_lufs(&self) -> f32 {
        self.loudness[1].short_term_lufs()
    }

    /// (original, processed) readings; as [`ProgramMeter::readings`].
    pub fn readings(&self) -> (ProgramReadings, ProgramReadings) {
        (
            readings(&self.loudness[0], &self.peaks[0]),
            readings(&self.loudness[1], &self.peaks[1]),
        )
    }
}

fn to_db(x: f32) -> f32 {
    if x > 0.0 {
        20.0 * x.log10()
    } else {
        f32::NEG_INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::meters::true_peak::true_peak_dbtp;

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
        let offline =
            crate::dsp::meters::loudness::integrated_loudness(&noise, Some(&noise), fs) as f32;
        let meter = m.readings().integrated_lufs;
        assert!(
            (meter - offline).abs() < 0.005,
            "meter {meter} vs offline {offline}"
        );
    }

    #[test]
    fn pair_reads_exactly_what_two_meters_read() {
        // Stereo and mono, odd block sizes across the 10 ms grid, a measurement reset and a
        // NaN burst: the shared-filter pair must give the same readings.
        let fs = 44_100.0;
        let n = 6 * 44_100;
        let mut channels: Vec<Vec<f32>> = (0..4)
            .map(|c| {
                let scale = 0.2 + 0.2 * c as f32;
                let noise = crate::test_signals::white_noise(n, 10 + c, 1.0);
                noise.into_iter().map(|x| scale * x).collect()
            })
            .collect();
        channels[2][70_000] = f32::NAN;
        channels[3][70_001] = f32::INFINITY;
        for mono in [false, true] {
            let mut pair = ProgramMeterPair::new();
            let (mut original, mut processed) = (ProgramMeter::new(), ProgramMeter::new());
            pair.reset(fs, mono);
            original.reset(fs, mono);
            processed.reset(fs, mono);
            let mut start = 0;
            for (k, len) in [1usize, 441, 512, 37, 4096, 1000]
                .iter()
                .cycle()
                .enumerate()
            {
                if start >= n {
                    break;
                }
                let end = (start + len).min(n);
                let c = |i: usize| &channels[i][start..end];
                pair.process([c(0), c(1)], [c(2), c(3)]);
                original.process(c(0), c(1));
                processed.process(c(2), c(3));
                if k == 40 {
                    pair.reset_measurement();
                    original.reset_measurement();
                    processed.reset_measurement();
                }
                // The energies are summed in different groups (64-frame chunks here), so
                // equal up to float rounding; one 0.01 LU histogram bin for the gated values.
                let (pair_original, pair_processed) = pair.readings();
                for (got, want) in [
                    (pair_original, original.readings()),
                    (pair_processed, processed.readings()),
                ] {
                    let close =
                        |a: f32, b: f32, tolerance: f32| a == b || (a - b).abs() <= tolerance;
                    assert!(
                        close(got.momentary_lufs, want.momentary_lufs, 1e-4)
                            && close(got.short_term_lufs, want.short_term_lufs, 1e-4)
                            && close(got.integrated_lufs, want.integrated_lufs, 0.011)
                            && close(got.loudness_range_lu, want.loudness_range_lu, 0.011)
                            && got.true_peak_max_dbtp == want.true_peak_max_dbtp
                            && got.sample_peak_dbfs == want.sample_peak_dbfs,
                        "mono {mono}, frames {start}..{end}: {got:?} vs {want:?}"
                    );
                }
                start = end;
            }
            assert!(pair.readings().1.integrated_lufs.is_finite());
        }
    }

    #[test]
    fn finish_true_peak_counts_the_last_samples() {
        // Inter-sample peaks are reported TRUE_PEAK_DELAY (32) samples late (sample peaks count
        // at once): the peak between two equal samples 20 samples before the end is seen only
        // after the end-of-file flush, which must read what appending silence would.
        let mut x = vec![0.1f32; 1000];
        x[979] = 0.9;
        x[980] = 0.9;
        let mut meter = ProgramMeter::new();
        meter.reset(48_000.0, false);
        meter.process(&x, &x);
        let before = meter.readings().true_peak_max_dbtp;
        meter.finish_true_peak();
        let after = meter.readings().true_peak_max_dbtp;

        let mut padded = x.clone();
        padded.extend(std::iter::repeat_n(0.0, 200));
        let mut whole = ProgramMeter::new();
        whole.reset(48_000.0, false);
        whole.process(&padded, &padded);
        let want = whole.readings().true_peak_max_dbtp;

        assert!(
            (before - to_db(0.9)).abs() < 1e-5,
            "only the sample peak before the flush: {before}"
        );
        assert!(
            want > to_db(0.9) + 1.0,
            "the pair's inter-sample peak: {want}"
        );
        assert_eq!(after, want);
        let sample_peak = meter.readings().sample_peak_dbfs;
        assert!((sample_peak - to_db(0.9)).abs() < 1e-5, "{sample_peak}");
    }

    #[test]
    fn overshoot_bound_covers_the_detectors_worst_case() {
        // The skip rule relies on: no frame's peak exceeds the largest input magnitude in its
        // window times OVERSHOOT_BOUND. Drive each phase with the sign pattern of its own
        // impulse response (read from the detector), which reaches its L1 norm.
        let mut worst = 0.0f32;
        for k in 1..crate::dsp::meters::true_peak::TRUE_PEAK_PHASES {
            let mut detector = crate::dsp::meters::true_peak::TruePeakDetector::new();
            let mut response = Vec::new();
            for i in 0..TRUE_PEAK_HISTORY {
                response.push(detector.process_sample_phases(if i == 0 { 1.0 } else { 0.0 })[k]);
            }
            let pattern: Vec<f32> = response.iter().rev().map(|c| c.signum()).collect();
            let mut detector = crate::dsp::meters::true_peak::TruePeakDetector::new();
            for &x in pattern
                .iter()
                .chain(std::iter::repeat_n(&0.0, TRUE_PEAK_HISTORY))
            {
                worst = worst.max(detector.process_sample(x));
            }
        }
        assert!(worst > 1.2 && worst < 3.0, "{worst}");
        assert!(
            OVERSHOOT_BOUND >= worst,
            "bound {OVERSHOOT_BOUND} vs reached {worst}"
        );
        assert!(
            OVERSHOOT_BOUND <= worst * 1.13,
            "bound {OVERSHOOT_BOUND} vs reached {worst}"
        );
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
