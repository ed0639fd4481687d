//! A loaded reference track: its audio at the session rate and what the loader measured of it.
//!
//! Everything here is computed once, on the loader thread ([`ReferenceTrack::analyse`]); the
//! audio thread only reads it. The loudness the level match needs for *any* loop region is
//! answered from [`LoudnessBlocks`] (100 ms K-weighted energies), allocation-free, so moving a
//! loop never needs a new analysis pass.

use crate::analysis::tonal::{TonalAnalyser, TonalBalance};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::dsp::meters::k_weighting::StereoKWeighting;
use crate::dsp::meters::loudness_histogram::{lufs_to_mean_square, mean_square_to_lufs};
use crate::dsp::meters::program_meter::ProgramMeter;
use crate::dsp::util::sanitize;
use crate::reference::decode::DecodedStereo;

/// BS.1770-4 gating-block step (100 ms): the blocks the integrated loudness of a loop is
/// assembled from.
pub const LOUDNESS_BLOCK_SECONDS: f64 = 0.1;
/// 400 ms gating block = 4 steps (75 % overlap, BS.1770-4 §5.1).
const BLOCKS_PER_GATING_BLOCK: usize = 4;
/// 3 s short-term window (EBU Tech 3341) = 30 steps.
const BLOCKS_PER_SHORT_TERM: usize = 30;
/// BS.1770-4 absolute gate.
const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// BS.1770-4 relative gate.
const RELATIVE_GATE_LU: f64 = -10.0;
/// Columns of the waveform overview the editor draws.
pub const OVERVIEW_COLUMNS: usize = 1024;

/// K-weighted, channel-summed mean square of every 100 ms step of a track (BS.1770-4 with
/// channel weights 1: the meter's own filter, [`StereoKWeighting`]).
#[derive(Debug, Clone, Default)]
pub struct LoudnessBlocks {
    block_frames: usize,
    mean_square: Vec<f64>,
}

impl LoudnessBlocks {
    /// Memory the blocks hold (as allocated), for the loaded-track overhead benchmark.
    pub fn bytes(&self) -> usize {
        self.mean_square.capacity() * std::mem::size_of::<f64>()
    }

    pub fn measure(left: &[f32], right: &[f32], sample_rate: f32) -> Self {
        let block_frames =
            ((f64::from(sample_rate) * LOUDNESS_BLOCK_SECONDS).round() as usize).max(1);
        let mut filter = StereoKWeighting::new(sample_rate);
        let mut mean_square = Vec::with_capacity(left.len() / block_frames + 1);
        let mut clean_left = vec![0.0f32; block_frames];
        let mut clean_right = vec![0.0f32; block_frames];
        for (l, r) in left
            .chunks_exact(block_frames)
            .zip(right.chunks_exact(block_frames))
        {
            for (c, &x) in clean_left.iter_mut().zip(l) {
                *c = sanitize(x);
            }
            for (c, &x) in clean_right.iter_mut().zip(r) {
                *c = sanitize(x);
            }
            let [el, er] = filter.process_energy(&clean_left, &clean_right);
            mean_square.push((el + er) / block_frames as f64);
            filter.guard_state();
        }
        Self {
            block_frames,
            mean_square,
        }
    }

    pub fn block_frames(&self) -> usize {
        self.block_frames
    }

    /// Gated integrated loudness (BS.1770-4: 400 ms blocks, 75 % overlap, absolute gate
    /// −70 LUFS, relative gate −10 LU) of the gating blocks lying wholly inside
    /// `[start_frame, end_frame)` (block edges on the 100 ms grid: at most 100 ms of each end
    /// is left out). `-inf` for silence or a region shorter than 400 ms. Allocation-free:
    /// two passes over at most `duration / 100 ms` values (3000 for a 5-minute track).
    pub fn integrated_lufs(&self, start_frame: usize, end_frame: usize) -> f32 {
        let (first, last) = self.block_span(start_frame, end_frame);
        if last < first + BLOCKS_PER_GATING_BLOCK {
            return f32::NEG_INFINITY;
        }
        let gating_blocks = || {
            (first..=last - BLOCKS_PER_GATING_BLOCK).map(|j| {
                self.mean_square[j..j + BLOCKS_PER_GATING_BLOCK]
                    .iter()
                    .sum::<f64>()
                    / BLOCKS_PER_GATING_BLOCK as f64
            })
        };
        let gated_mean = |threshold: f64| {
            let (sum, count) = gating_blocks()
                .filter(|&z| z > threshold)
                .fold((0.0, 0usize), |(s, c), z| (s + z, c + 1));
            (count > 0).then(|| sum / count as f64)
        };
        let Some(absolute) = gated_mean(lufs_to_mean_square(ABSOLUTE_GATE_LUFS)) else {
            return f32::NEG_INFINITY;
        };
        let relative_gate = absolute * 10f64.powf(RELATIVE_GATE_LU / 10.0);
        match gated_mean(relative_gate.max(lufs_to_mean_square(ABSOLUTE_GATE_LUFS))) {
            Some(mean) => mean_square_to_lufs(mean) as f32,
            None => f32::NEG_INFINITY,
        }
    }

    /// Short-term loudness (3 s window) ending at `frame`, the window not reaching before
    /// `floor_frame` (a loop's start): shorter near the floor, `-inf` for silence.
    pub fn short_term_lufs(&self, frame: usize, floor_frame: usize) -> f32 {
        let end = (frame / self.block_frames).min(self.mean_square.len());
        let floor = floor_frame.div_ceil(self.block_frames).min(end);
        let start = end.saturating_sub(BLOCKS_PER_SHORT_TERM).max(floor);
        if end <= start {
            return f32::NEG_INFINITY;
        }
        let mean = self.mean_square[start..end].iter().sum::<f64>() / (end - start) as f64;
        mean_square_to_lufs(mean) as f32
    }

    /// Indices `[first, last)` of the steps wholly inside the frame range.
    fn block_span(&self, start_frame: usize, end_frame: usize) -> (usize, usize) {
        let first = start_frame.div_ceil(self.block_frames);
        let last = (end_frame / self.block_frames).min(self.mean_square.len());
        (first, last.max(first))
    }
}

/// Whole-track figures for the album view and the slot list (EBU R128 / Tech 3342), kept in
/// the session so a missing file still shows what it measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackSummary {
    pub duration_seconds: f64,
    pub integrated_lufs: f32,
    pub loudness_range_lu: f32,
    pub true_peak_dbtp: f32,
    /// Peak-to-loudness ratio (true peak − integrated), EBU R128 s1.
    pub plr_db: f32,
}

/// Where a track came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub path: PathBuf,
    pub format: String,
    pub source_rate: u32,
    pub source_channels: usize,
    pub content_hash: u64,
}

/// A reference ready for playback: stereo audio at the session rate plus its analysis.
#[derive(Debug)]
pub struct ReferenceTrack {
    pub left: Vec<f32>,
    pub right: Vec<f32>,
    pub sample_rate: f32,
    pub loudness: LoudnessBlocks,
    pub summary: TrackSummary,
    /// Peak magnitude (max of |L|, |R|) per column, [`OVERVIEW_COLUMNS`] columns.
    pub overview: Vec<f32>,
    /// Tonal analysis frames of the whole track (`analysis::tonal`); the editor summarises
    /// them over the loop region.
    pub tonal: TonalAnalyser,
    pub source: SourceInfo,
}

impl ReferenceTrack {
    /// Measures a decoded file (loader thread: allocates, takes ~1 % of the decode time).
    pub fn analyse(decoded: DecodedStereo, path: PathBuf) -> Self {
        let sample_rate = decoded.sample_rate as f32;
        let DecodedStereo {
            left,
            right,
            source_rate,
            source_channels,
            format,
            content_hash,
            ..
        } = decoded;
        let loudness = LoudnessBlocks::measure(&left, &right, sample_rate);
        let summary = summarise(&left, &right, sample_rate, &loudness);
        let overview = overview(&left, &right);
        let mut tonal = TonalAnalyser::new(sample_rate);
        tonal.push(&left, &right);
        Self {
            left,
            right,
            sample_rate,
            loudness,
            summary,
            overview,
            tonal,
            source: SourceInfo {
                path,
                format,
                source_rate,
                source_channels,
                content_hash,
            },
        }
    }

    pub fn frames(&self) -> usize {
        self.left.len().min(self.right.len())
    }

    /// The tonal balance over the loop `[start, end)` seconds (the whole track when the loop
    /// is empty or too short for an analysis frame).
    pub fn tonal_balance(&self, start_seconds: f64, end_seconds: f64) -> Option<TonalBalance> {
        let duration = self.frames() as f64 / f64::from(self.sample_rate);
        let end = if end_seconds > start_seconds {
            end_seconds.min(duration)
        } else {
            duration
        };
        self.tonal
            .balance_between(start_seconds.max(0.0), end)
            .or_else(|| self.tonal.balance())
    }

    /// Bytes of decoded audio held (what the memory cap counts).
    pub fn bytes(&self) -> usize {
        (self.left.len() + self.right.len()) * std::mem::size_of::<f32>()
    }
}

fn summarise(
    left: &[f32],
    right: &[f32],
    sample_rate: f32,
    loudness: &LoudnessBlocks,
) -> TrackSummary {
    // LRA and true peak with the plugin's own programme meter; the integrated loudness from
    // the same 100 ms blocks the loop match uses, so the album view and the match agree.
    let mut meter = ProgramMeter::new();
    meter.reset(sample_rate, false);
    for (l, r) in left.chunks(4096).zip(right.chunks(4096)) {
        meter.process(l, r);
    }
    meter.finish_true_peak();
    let readings = meter.readings();
    let integrated = loudness.integrated_lufs(0, left.len());
    TrackSummary {
        duration_seconds: left.len() as f64 / f64::from(sample_rate),
        integrated_lufs: integrated,
        loudness_range_lu: readings.loudness_range_lu,
        true_peak_dbtp: readings.true_peak_max_dbtp,
        plr_db: readings.true_peak_max_dbtp - integrated,
    }
}

fn overview(left: &[f32], right: &[f32]) -> Vec<f32> {
    let frames = left.len().min(right.len());
    let per_column = frames.div_ceil(OVERVIEW_COLUMNS).max(1);
    left[..frames]
        .chunks(per_column)
        .zip(right[..frames].chunks(per_column))
        .map(|(l, r)| {
            l.iter()
                .chain(r)
                .fold(0.0f32, |m, &x| if x.abs() > m { x.abs() } else { m })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signals::{pink_noise, sine};

    /// The independent `ebur128` crate's integrated loudness of a stereo signal.
    fn ebur128_integrated(left: &[f32], right: &[f32], fs: u32) -> f64 {
        let mut meter = ebur128::EbuR128::new(2, fs, ebur128::Mode::I).unwrap();
        meter.add_frames_planar_f32(&[left, right]).unwrap();
        meter.loudness_global().unwrap()
    }

    #[test]
    fn integrated_loudness_of_a_region_matches_ebur128() {
        let fs = 48_000;
        // 20 s: 10 s of pink noise at -20 dBFS RMS, then 10 s 6 dB louder.
        let mut left = pink_noise(10 * fs as usize, 3, -20.0);
        left.extend(pink_noise(10 * fs as usize, 4, -14.0));
        let right: Vec<f32> = left.iter().rev().copied().collect();
        let blocks = LoudnessBlocks::measure(&left, &right, fs as f32);
        let whole = blocks.integrated_lufs(0, left.len());
        let reference = ebur128_integrated(&left, &right, fs);
        assert!(
            (f64::from(whole) - reference).abs() < 0.05,
            "{whole} vs {reference}"
        );
        // A loop over the second half only (on the 100 ms grid).
        let (a, b) = (10 * fs as usize, 20 * fs as usize);
        let region = blocks.integrated_lufs(a, b);
        let reference = ebur128_integrated(&left[a..b], &right[a..b], fs);
        // The blocks carry the filter state over the region's start, ebur128 starts cold:
        // the difference is the filters' settling (a few ms of 10 s).
        assert!(
            (f64::from(region) - reference).abs() < 0.05,
            "{region} vs {reference}"
        );
    }

    #[test]
    fn silence_and_short_regions_read_minus_infinity() {
        let fs = 44_100.0;
        let silence = vec![0.0; 44_100 * 2];
        let blocks = LoudnessBlocks::measure(&silence, &silence, fs);
        assert_eq!(blocks.integrated_lufs(0, silence.len()), f32::NEG_INFINITY);
        let tone = sine(44_100 * 2, 1000.0, fs, 0.5);
        let blocks = LoudnessBlocks::measure(&tone, &tone, fs);
        assert_eq!(blocks.integrated_lufs(0, 10_000), f32::NEG_INFINITY);
        assert!(blocks.integrated_lufs(0, tone.len()).is_finite());
    }

    #[test]
    fn short_term_of_a_steady_tone_is_its_loudness() {
        // A 997 Hz sine at -20 dBFS peak on both channels: BS.1770 reads -20 + 3.01 - 0.691
        // + K-weighting gain at 1 kHz (+0.69 dB) ≈ -17.0 LUFS (EBU Tech 3341 case 1 logic).
        let fs = 48_000.0;
        let tone = sine(48_000 * 5, 997.0, fs, 0.1);
        let blocks = LoudnessBlocks::measure(&tone, &tone, fs);
        let st = blocks.short_term_lufs(48_000 * 5, 0);
        let reference = ebur128_integrated(&tone, &tone, 48_000);
        assert!(
            (f64::from(st) - reference).abs() < 0.05,
            "{st} vs {reference}"
        );
        // Near a loop start the window is shortened, not filled with silence.
        let near_start = blocks.short_term_lufs(48_000 * 3, 48_000 * 2);
        assert!((near_start - st).abs() < 0.05, "{near_start} vs {st}");
    }

    #[test]
    fn overview_has_the_track_peaks() {
        let mut left = vec![0.0f32; 100_000];
        left[50_000] = -0.8;
        let right = vec![0.1f32; 100_000];
        let o = overview(&left, &right);
        assert!(o.len() <= OVERVIEW_COLUMNS && o.len() > OVERVIEW_COLUMNS - 10);
        assert_eq!(o.iter().cloned().fold(0.0, f32::max), 0.8);
        assert!(o.iter().all(|&x| x >= 0.1));
    }
}
