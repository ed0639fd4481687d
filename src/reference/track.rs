//! A loaded reference track: its audio at the session rate and what the loader measured of it.
//!
//! Everything here is computed once, on the loader thread ([`ReferenceTrack::analyse`]); the
//! audio thread only reads it. The loudness the level match needs for *any* loop region is
//! answered from [`LoudnessBlocks`] (100 ms K-weighted energies), allocation-free, so moving a
//! loop never needs a new analysis pass.

use crate::analysis::tonal::{TonalAnalyser, TonalBalance};
use std::path::PathBuf;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::dsp::dynamics::limiter::{Limiter, LimiterSettings};
use crate::dsp::meters::k_weighting::StereoKWeighting;
use crate::dsp::meters::loudness_histogram::{lufs_to_mean_square, mean_square_to_lufs};
use crate::dsp::meters::program_meter::ProgramMeter;
use crate::dsp::util::{db_to_gain, sanitize};
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
        let frames = left.len().min(right.len());
        let mut builder = LoudnessBlocksBuilder::new(sample_rate, frames);
        builder.push(&left[..frames], &right[..frames]);
        builder.finish()
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

/// [`LoudnessBlocks`] measured from audio that arrives in pieces (a render streamed through
/// a limiter), with the same blocks as one call over the whole.
pub struct LoudnessBlocksBuilder {
    filter: StereoKWeighting,
    block_frames: usize,
    mean_square: Vec<f64>,
    pending: [Vec<f32>; 2],
}

impl LoudnessBlocksBuilder {
    /// `expected_frames` only sizes the block list.
    pub fn new(sample_rate: f32, expected_frames: usize) -> Self {
        let block_frames =
            ((f64::from(sample_rate) * LOUDNESS_BLOCK_SECONDS).round() as usize).max(1);
        Self {
            filter: StereoKWeighting::new(sample_rate),
            block_frames,
            mean_square: Vec::with_capacity(expected_frames / block_frames + 1),
            pending: [
                Vec::with_capacity(block_frames),
                Vec::with_capacity(block_frames),
            ],
        }
    }

    pub fn push(&mut self, left: &[f32], right: &[f32]) {
        for (&l, &r) in left.iter().zip(right) {
            self.pending[0].push(sanitize(l));
            self.pending[1].push(sanitize(r));
            if self.pending[0].len() == self.block_frames {
                let [el, er] = self
                    .filter
                    .process_energy(&self.pending[0], &self.pending[1]);
                self.mean_square.push((el + er) / self.block_frames as f64);
                self.filter.guard_state();
                self.pending[0].clear();
                self.pending[1].clear();
            }
        }
    }

    /// The blocks so far; a partial last block is left out (as BS.1770's gating does).
    pub fn finish(self) -> LoudnessBlocks {
        LoudnessBlocks {
            block_frames: self.block_frames,
            mean_square: self.mean_square,
        }
    }
}

/// How far above its peak headroom the reference may be raised into its safety limiter, dB:
/// the gain reduction the limiter then applies at the loudest peak. Up to here the level
/// match raises the reference (the engineer hears it limited no harder than a typical
/// master); a reference that would need more is not pushed through ever more limiting (that
/// makes a reference sound worse than it is): the master is turned down in monitoring
/// instead ([`fit_reference`]).
pub const MAX_SAFETY_LIMITING_DB: f32 = 8.0;

/// Gains above the track's peak headroom at which the limiting curve is measured, dB
/// (0 = the loudest true peak just reaches the ceiling: no limiting).
pub const SAFETY_CURVE_DB: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 6.0, MAX_SAFETY_LIMITING_DB];

/// The reference's loudness after the safety limiter, measured once on the loader thread for
/// each gain of [`SAFETY_CURVE_DB`] above its headroom: the track rendered through the very
/// limiter the listening path runs ([`LimiterSettings::safety`]), its output measured in the
/// same 100 ms blocks as the raw track. The level match reads the loudness it will *hear* for
/// any loop or short-term window from these, so the gain it applies never feeds back on the
/// limiter's own work (issue 24: the make-up gain measured from the limiter's live loss drove
/// the limiter harder, which added more gain: a real reference drifted 6.5 -> 8.9 dB and was
/// heard 1.1 LU louder than the master).
///
/// Rendered with a 0 dBTP ceiling at gain `-true_peak + u`: a peak limiter's work depends only
/// on level relative to its ceiling (its threshold and detector are relative, its timing
/// fixed), so at ceiling `c` and gain `c - true_peak + u` the heard loudness is these figures
/// plus `c`.
#[derive(Debug, Clone, Default)]
pub struct SafetyCurve {
    /// One per [`SAFETY_CURVE_DB`] point; empty for a silent track.
    limited: Vec<LoudnessBlocks>,
}

impl SafetyCurve {
    pub fn measure(left: &[f32], right: &[f32], sample_rate: f32, true_peak_dbtp: f32) -> Self {
        if !true_peak_dbtp.is_finite() {
            return Self::default();
        }
        let frames = left.len().min(right.len());
        let limited = SAFETY_CURVE_DB
            .iter()
            .map(|&over| {
                let gain = db_to_gain(-true_peak_dbtp + over);
                let mut limiter = Limiter::new(sample_rate);
                limiter.set(&LimiterSettings::safety(0.0, true));
                limiter.clear();
                // The limiter delays by its latency; the blocks must line up with the raw
                // track's (the player reads ahead by it), so its first output frames are
                // dropped and the tail flushed with silence.
                let latency = limiter.latency_samples() as usize;
                let total = frames + latency;
                let mut blocks = LoudnessBlocksBuilder::new(sample_rate, frames);
                let mut scratch = [vec![0.0f32; CURVE_CHUNK], vec![0.0f32; CURVE_CHUNK]];
                for start in (0..total).step_by(CURVE_CHUNK) {
                    let n = CURVE_CHUNK.min(total - start);
                    let [l, r] = &mut scratch;
                    for i in 0..n {
                        let at = start + i;
                        (l[i], r[i]) = if at < frames {
                            (left[at] * gain, right[at] * gain)
                        } else {
                            (0.0, 0.0)
                        };
                    }
                    limiter.process(&mut l[..n], &mut r[..n]);
                    let dropped = latency.saturating_sub(start).min(n);
                    blocks.push(&l[dropped..n], &r[dropped..n]);
                }
                blocks.finish()
            })
            .collect();
        Self { limited }
    }

    pub fn is_empty(&self) -> bool {
        self.limited.is_empty()
    }

    /// Integrated loudness of `[start, end)` after the limiter at each curve point (ceiling
    /// 0 dBTP); `None` for a silent track.
    pub fn integrated_lufs(&self, start_frame: usize, end_frame: usize) -> Option<SafetyLoudness> {
        self.points(|b| b.integrated_lufs(start_frame, end_frame))
    }

    /// Short-term loudness after the limiter at each curve point (as
    /// [`LoudnessBlocks::short_term_lufs`]).
    pub fn short_term_lufs(&self, frame: usize, floor_frame: usize) -> Option<SafetyLoudness> {
        self.points(|b| b.short_term_lufs(frame, floor_frame))
    }

    fn points(&self, read: impl Fn(&LoudnessBlocks) -> f32) -> Option<SafetyLoudness> {
        if self.limited.len() != SAFETY_CURVE_DB.len() {
            return None;
        }
        let mut out = [f32::NEG_INFINITY; SAFETY_CURVE_DB.len()];
        for (o, b) in out.iter_mut().zip(&self.limited) {
            *o = read(b);
        }
        Some(out)
    }

    pub fn bytes(&self) -> usize {
        self.limited.iter().map(LoudnessBlocks::bytes).sum()
    }
}

/// Frames per limiter call when the curve is rendered.
const CURVE_CHUNK: usize = 4096;

/// Loudness after the safety limiter at each [`SAFETY_CURVE_DB`] point, ceiling 0 dBTP.
pub type SafetyLoudness = [f32; SAFETY_CURVE_DB.len()];

/// How the level match brings a reference to a wanted loudness.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceFit {
    /// Gain applied to the reference before its safety limiter, dB.
    pub gain_db: f32,
    /// How far that gain reaches above the reference's peak headroom (the safety limiter's
    /// largest gain reduction), dB; 0 when the limiter does not act.
    pub safety_limiting_db: f32,
    /// How much the master (and everything heard with it) is turned down in monitoring so the
    /// reference can meet it, dB (>= 0): the loudness the reference still lacks at
    /// [`MAX_SAFETY_LIMITING_DB`].
    pub master_down_db: f32,
}

/// The gain that makes a reference whose raw loudness (over the same span) is `raw_lufs` be
/// *heard* at `wanted_lufs` through its safety limiter at `ceiling_db`, from its limiting
/// curve (`limited`, [`SafetyCurve`]; `None`: no curve, the raw difference). Beyond
/// [`MAX_SAFETY_LIMITING_DB`] the reference is not pushed further: the rest is the master's
/// turn-down. `None` when either loudness is not finite (silence: hold).
pub fn fit_reference(
    wanted_lufs: f32,
    raw_lufs: f32,
    limited: Option<&SafetyLoudness>,
    true_peak_dbtp: f32,
    ceiling_db: f32,
) -> Option<ReferenceFit> {
    if !(wanted_lufs.is_finite() && raw_lufs.is_finite()) {
        return None;
    }
    let plain = wanted_lufs - raw_lufs;
    let headroom = ceiling_db - true_peak_dbtp;
    let unlimited = ReferenceFit {
        gain_db: plain,
        safety_limiting_db: 0.0,
        master_down_db: 0.0,
    };
    let Some(limited) = limited.filter(|_| headroom.is_finite()) else {
        return Some(unlimited);
    };
    if plain <= headroom {
        return Some(unlimited);
    }
    // Heard loudness against the gain above headroom: (0, raw + headroom) and the curve's
    // points (u, limited + ceiling), made non-decreasing (a louder input is never heard
    // quieter; guards a curve point read over too short a span).
    let mut previous_u = 0.0f32;
    let mut previous_heard = raw_lufs + headroom;
    for (&u, &point) in SAFETY_CURVE_DB.iter().zip(limited) {
        let heard = if point.is_finite() {
            (point + ceiling_db).max(previous_heard)
        } else {
            previous_heard
        };
        if heard >= wanted_lufs && heard > previous_heard {
            let t = (wanted_lufs - previous_heard) / (heard - previous_heard);
            let over = previous_u + t * (u - previous_u);
            return Some(ReferenceFit {
                gain_db: headroom + over,
                safety_limiting_db: over,
                master_down_db: 0.0,
            });
        }
        previous_u = u;
        previous_heard = heard;
    }
    Some(ReferenceFit {
        gain_db: headroom + MAX_SAFETY_LIMITING_DB,
        safety_limiting_db: MAX_SAFETY_LIMITING_DB,
        master_down_db: (wanted_lufs - previous_heard).max(0.0),
    })
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
    /// Its loudness through the safety limiter, for the level match ([`SafetyCurve`]): set once
    /// it is measured. The loader hands a track over first and measures this after (six
    /// limiter passes over the track take longer than the rest of the analysis), so a
    /// reference plays at once; until the curve is there the match is the plain loudness
    /// difference. `OnceLock::get` is one atomic load: wait-free on the audio thread.
    safety: OnceLock<SafetyCurve>,
    pub summary: TrackSummary,
    /// Peak magnitude (max of |L|, |R|) per column, [`OVERVIEW_COLUMNS`] columns.
    pub overview: Vec<f32>,
    /// Tonal analysis frames of the whole track (`analysis::tonal`); the editor summarises
    /// them over the loop region.
    pub tonal: TonalAnalyser,
    pub source: SourceInfo,
}

impl ReferenceTrack {
    /// Measures a decoded file completely, its limiting curve included (off the audio thread:
    /// allocates).
    pub fn analyse(decoded: DecodedStereo, path: PathBuf) -> Self {
        let track = Self::analyse_for_playback(decoded, path);
        track.measure_safety_curve();
        track
    }

    /// Measures what playback and the editor need at once (loader thread: allocates, takes
    /// ~1 % of the decode time); [`Self::measure_safety_curve`] completes it.
    pub fn analyse_for_playback(decoded: DecodedStereo, path: PathBuf) -> Self {
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
            safety: OnceLock::new(),
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

    /// Renders the limiting curve ([`SafetyCurve::measure`]) unless it is there already
    /// (loader thread; a track shared with the audio thread may be completed this way).
    pub fn measure_safety_curve(&self) {
        self.safety.get_or_init(|| {
            SafetyCurve::measure(
                &self.left,
                &self.right,
                self.sample_rate,
                self.summary.true_peak_dbtp,
            )
        });
    }

    /// The limiting curve, once measured.
    pub fn safety(&self) -> Option<&SafetyCurve> {
        self.safety.get()
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

    /// The reference path's gain and safety limiter, at `ceiling_db`, as the audio thread
    /// runs them (its output aligned by the limiter's latency).
    fn through_safety_limiter(
        left: &[f32],
        right: &[f32],
        gain_db: f32,
        ceiling_db: f32,
        fs: f32,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut limiter = Limiter::new(fs);
        limiter.set(&LimiterSettings::safety(ceiling_db, true));
        limiter.clear();
        let latency = limiter.latency_samples() as usize;
        let g = db_to_gain(gain_db);
        let mut l: Vec<f32> = left
            .iter()
            .map(|x| x * g)
            .chain(std::iter::repeat_n(0.0, latency))
            .collect();
        let mut r: Vec<f32> = right
            .iter()
            .map(|x| x * g)
            .chain(std::iter::repeat_n(0.0, latency))
            .collect();
        for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
            limiter.process(a, b);
        }
        (l[latency..].to_vec(), r[latency..].to_vec())
    }

    /// Pink noise with a peak every 0.25 s, so raising it above its headroom makes the limiter
    /// work a little or a lot.
    fn peaky_programme(fs: u32, seconds: usize) -> (Vec<f32>, Vec<f32>) {
        let n = fs as usize * seconds;
        let mut left = pink_noise(n, 11, -24.0);
        let mut right = pink_noise(n, 12, -24.0);
        for i in (0..n).step_by(fs as usize / 4) {
            left[i] = 0.5;
            right[i + 7] = -0.45;
        }
        (left, right)
    }

    #[test]
    fn the_safety_curve_is_the_loudness_the_realtime_limiter_gives_at_any_ceiling() {
        // The curve is rendered at 0 dBTP; the audio thread's limiter runs at the master's
        // ceiling with gain `ceiling - true peak + u`. Scale invariance makes the two equal:
        // measured here with ebur128 on the real limiter at -1 and -6 dBTP, at curve points
        // and between them (interpolated through fit_reference).
        let fs = 48_000;
        let (left, right) = peaky_programme(fs, 12);
        let track = ReferenceTrack::analyse(
            DecodedStereo {
                left: left.clone(),
                right: right.clone(),
                sample_rate: fs,
                source_rate: fs,
                source_channels: 2,
                format: "test".into(),
                content_hash: 0,
            },
            "peaky.wav".into(),
        );
        let tp = track.summary.true_peak_dbtp;
        let raw = track.loudness.integrated_lufs(0, left.len());
        let limited = track
            .safety()
            .and_then(|c| c.integrated_lufs(0, left.len()))
            .expect("a curve");
        for ceiling in [-1.0f32, -6.0] {
            for over in [2.0f32, 5.0, 8.0] {
                let gain = ceiling - tp + over;
                let (l, r) = through_safety_limiter(&left, &right, gain, ceiling, fs as f32);
                let heard = ebur128_integrated(&l, &r, fs);
                // What the match predicts it will hear at this gain: fit the heard loudness
                // back and compare the gain.
                let fit = fit_reference(heard as f32, raw, Some(&limited), tp, ceiling).unwrap();
                assert!(
                    (fit.gain_db - gain).abs() < 0.15 && fit.master_down_db < 0.01,
                    "ceiling {ceiling}, {over} dB over: heard {heard:.2} LUFS, fitted gain {:.2} \
                     for {gain:.2}",
                    fit.gain_db
                );
            }
        }
    }

    #[test]
    fn fit_raises_plainly_within_headroom_and_turns_the_master_down_beyond_the_cap() {
        let limited: SafetyLoudness = [-10.2, -9.5, -8.9, -8.4, -7.7, -7.3];
        // Raw -20 LUFS, true peak -9 dBTP, ceiling -1: 8 dB of headroom.
        let plain = fit_reference(-14.0, -20.0, Some(&limited), -9.0, -1.0).unwrap();
        assert_eq!(plain.gain_db, 6.0);
        assert_eq!(plain.safety_limiting_db, 0.0);
        // Heard at a curve point: -9.5 + ceiling = -10.5 LUFS is 2 dB over the headroom.
        let at_point = fit_reference(-10.5, -20.0, Some(&limited), -9.0, -1.0).unwrap();
        assert!(
            (at_point.safety_limiting_db - 2.0).abs() < 1e-5,
            "{at_point:?}"
        );
        assert!((at_point.gain_db - 10.0).abs() < 1e-5);
        // Halfway between the 4 and 6 dB points.
        let between = fit_reference(-9.05, -20.0, Some(&limited), -9.0, -1.0).unwrap();
        assert!(
            (between.safety_limiting_db - 5.0).abs() < 1e-4,
            "{between:?}"
        );
        // Beyond the cap: 8 dB of limiting, the rest is the master's turn-down.
        let capped = fit_reference(-6.0, -20.0, Some(&limited), -9.0, -1.0).unwrap();
        assert_eq!(capped.safety_limiting_db, MAX_SAFETY_LIMITING_DB);
        assert!((capped.master_down_db - (-6.0 - (-7.3 - 1.0))).abs() < 1e-5);
        // No curve (silence measured): the plain difference; silence: hold.
        assert_eq!(
            fit_reference(-6.0, -20.0, None, -9.0, -1.0)
                .unwrap()
                .gain_db,
            14.0
        );
        assert!(fit_reference(f32::NEG_INFINITY, -20.0, None, -9.0, -1.0).is_none());
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
