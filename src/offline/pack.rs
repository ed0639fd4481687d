//! The listening pack: a folder a mastering engineer takes away to hear the master with fresh
//! ears on other systems (car, earbuds, a friend's hi-fi), without a DAW.
//!
//! Per song:
//! * `excerpt-original.wav`, `excerpt-master.wav` and, with a reference, `excerpt-reference.wav`:
//!   the loudest [`PackOptions::excerpt_seconds`] of each, **loudness matched**. Louder reads
//!   as better (the reason the plugin's A/B is level matched), so comparing a master with its
//!   mix at their delivered levels says more about the level than the mastering.
//! * `blind.wav`: the matched excerpts alternating every [`PackOptions::segment_seconds`] in a
//!   shuffled order, gapless, so the versions can be judged without knowing which is playing;
//!   every segment is matched on its own (same integrated loudness), so no level step gives a
//!   source away; `blind-key.txt` says which segment was which (read it after listening).
//!
//! And for the whole pack, `report.html` ([`super::html_report`]): one self-contained page of
//! loudness curves, tonal balance, gain-reduction histograms and streaming-platform verdicts.
//! One song gives a pack with its files at the top; several songs (an album) give one folder
//! per song (`01-name/`, ...) and one report covering the album.
//!
//! Choices, and why:
//! * **Which excerpt.** The master's loudest window by EBU Tech 3341 short-term loudness (3 s
//!   windows, read every 100 ms with the plugin's BS.1770-4 meter): the chorus, where limiting
//!   and tonal decisions are heard most. The original is cut at the same time span (same music,
//!   so the comparison is of the processing only); the reference uses its own loudest window.
//!   Excerpts shorter than 3 s + one step are chosen by momentary (400 ms) loudness instead.
//! * **Matched level.** Every excerpt of a song is gained to one common BS.1770-4 integrated
//!   loudness: the highest level at which none of them peaks above -1 dBFS (sample peak), i.e.
//!   matched *down* to the excerpt that allows least. So no excerpt is clipped, none is limited
//!   again, and all keep their own peak-to-loudness ratio. Mono inputs are written as two equal
//!   channels (what a player does with a mono file) and measured that way, so "matched" is
//!   matched as heard.
//! * **Format.** 24-bit PCM WAV with the chain's TPDF dither (`dsp::dither`, 24-bit mode): it
//!   plays on every player, phone and car stereo, unlike 32-bit float WAV, and at -144 dBFS
//!   the dither is far below anything a listener or the loudness match could notice.
//! * **Fades.** 5 ms raised-cosine fades at every excerpt edge (no click where the music is
//!   cut). The blind file's joins are 10 ms crossfades centred on the segment boundary:
//!   equal-gain (raised cosine, gains sum to 1) between original and master, which are the
//!   same music time-aligned (correlated: equal-gain keeps the level constant), equal-power
//!   (sine/cosine) when the reference is involved (different music, uncorrelated).
//! * **Shuffle.** Rounds of random permutations of the sources, never the same source twice in
//!   a row, from a SplitMix64 generator seeded by a hash of the matched excerpts: the same
//!   inputs always give the same pack (reproducible, testable), different songs different
//!   orders.
//! * **No partial pack.** Everything is written into a sibling `DIR.partial-<pid>` folder that
//!   is renamed into place only when complete; an existing `DIR` is refused unless `force`, and
//!   with `force` removed only after the new pack is complete.

use std::path::{Path, PathBuf};

use super::analysis::{LoudnessCurve, MOMENTARY_SECONDS, SHORT_TERM_SECONDS};
use super::audio_io::{write_wav_atomic, OutputFormat};
// The pack's contents live in their own module so `html_report` can read them without
// importing this one (which calls it): imports go pack -> html_report -> pack_contents.
// Re-exported: they are this module's public API (`write_pack`'s arguments and summary).
pub use super::pack_contents::{
    BlindSegment, ExcerptSummary, PackSong, SongPackSummary, Source, BLIND_FILE, BLIND_KEY_FILE,
    REPORT_FILE,
};
use super::{Audio, OfflineError};
use crate::dsp::dither::{Dither, DitherMode, DitherSettings};
use crate::dsp::meters::loudness::integrated_loudness;

/// Every excerpt's sample peak stays at or below this after the loudness match.
pub const MATCH_PEAK_CEILING_DBFS: f64 = -1.0;
/// Fade at each excerpt edge and at the blind file's start and end.
pub const EDGE_FADE_SECONDS: f64 = 0.005;
/// Crossfade length at each join of the blind file (centred on the boundary).
pub const JOIN_CROSSFADE_SECONDS: f64 = 0.010;
/// How a pack is cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PackOptions {
    /// Length of each excerpt, seconds (default 30).
    pub excerpt_seconds: f64,
    /// Length of each segment of the blind file, seconds (default 8).
    pub segment_seconds: f64,
    /// Replace an existing pack folder.
    pub force: bool,
}

impl Default for PackOptions {
    fn default() -> Self {
        Self {
            excerpt_seconds: 30.0,
            segment_seconds: 8.0,
            force: false,
        }
    }
}

/// What [`write_pack`] wrote (paths are final, inside the pack folder).
#[derive(Debug, Clone, PartialEq)]
pub struct PackSummary {
    pub dir: PathBuf,
    pub report_path: PathBuf,
    pub report_bytes: u64,
    /// Every file written, report included.
    pub files: Vec<PathBuf>,
    pub songs: Vec<SongPackSummary>,
}

/// BS.1770 loudness to mean square (power), 0 for silence or incomplete windows.
fn lufs_to_power(lufs: f32) -> f64 {
    if lufs.is_finite() {
        10f64.powf((f64::from(lufs) + 0.691) / 10.0)
    } else {
        0.0
    }
}

/// Start frame of the loudest `excerpt_frames` window: the window whose fully contained
/// short-term (or, for short excerpts, momentary) readings have the highest mean power. Ties
/// (and silence) go to the earliest window. Candidates are on the curve's 100 ms grid.
pub fn loudest_window_start(
    curve: &LoudnessCurve,
    sample_rate: u32,
    excerpt_frames: usize,
) -> usize {
    let step_frames = (curve.step_seconds * f64::from(sample_rate)).round() as usize;
    if step_frames == 0 {
        return 0;
    }
    let window_steps = excerpt_frames / step_frames;
    let short_term_steps = (SHORT_TERM_SECONDS / curve.step_seconds).round() as usize;
    let momentary_steps = (MOMENTARY_SECONDS / curve.step_seconds).round() as usize;
    let (readings, reading_steps) = if window_steps > short_term_steps {
        (&curve.short_term_lufs, short_term_steps)
    } else {
        (&curve.momentary_lufs, momentary_steps)
    };
    if window_steps < reading_steps || readings.len() < window_steps {
        return 0;
    }
    // prefix[k] = sum of the powers of readings[..k].
    let mut prefix = Vec::with_capacity(readings.len() + 1);
    prefix.push(0.0f64);
    for &r in readings {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + lufs_to_power(r));
    }
    // A window starting at step j contains the readings k (window ending at k + 1 steps) with
    // k + 1 - reading_steps >= j and k + 1 <= j + window_steps.
    let count = (window_steps - reading_steps + 1) as f64;
    let mut best = (0usize, f64::NEG_INFINITY);
    for j in 0..=(readings.len() - window_steps) {
        let first = j + reading_steps - 1;
        let last = j + window_steps - 1;
        let mean = (prefix[last + 1] - prefix[first]) / count;
        if mean > best.1 {
            best = (j, mean);
        }
    }
    best.0 * step_frames
}

/// A cut excerpt before matching: stereo, faded at the edges.
struct Excerpt {
    source: Source,
    start_frame: usize,
    channels: [Vec<f32>; 2],
}

impl Excerpt {
    fn cut(source: Source, audio: &Audio, start_frame: usize, frames: usize) -> Self {
        let (left, right) = audio.left_right();
        let end = (start_frame + frames).min(audio.frames());
        let mut channels = [
            left[start_frame..end].to_vec(),
            right[start_frame..end].to_vec(),
        ];
        let fade = fade_frames(audio.sample_rate, EDGE_FADE_SECONDS, end - start_frame);
        for channel in &mut channels {
            apply_edge_fades(channel, fade);
        }
        Self {
            source,
            start_frame,
            channels,
        }
    }

    fn frames(&self) -> usize {
        self.channels[0].len()
    }

    fn integrated_lufs(&self, sample_rate: u32) -> f64 {
        integrated_loudness(
            &self.channels[0],
            Some(&self.channels[1]),
            sample_rate as f32,
        )
    }

    fn sample_peak_dbfs(&self) -> f64 {
        sample_peak_dbfs(&self.channels)
    }
}

fn sample_peak_dbfs(channels: &[Vec<f32>]) -> f64 {
    let peak = channels
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |m, x| m.max(x.abs()));
    20.0 * f64::from(peak).log10()
}

/// `seconds` in frames, at most a quarter of `available` (very short excerpts keep most of
/// their signal unfaded).
fn fade_frames(sample_rate: u32, seconds: f64, available: usize) -> usize {
    ((seconds * f64::from(sample_rate)).round() as usize).min(available / 4)
}

/// Raised-cosine fade-in over the first `fade` frames and fade-out over the last `fade`.
fn apply_edge_fades(channel: &mut [f32], fade: usize) {
    let n = channel.len();
    for i in 0..fade.min(n) {
        let gain = raised_cosine((i as f64 + 0.5) / fade as f64) as f32;
        channel[i] *= gain;
        channel[n - 1 - i] *= gain;
    }
}

/// 0 -> 1 as `p` goes 0 -> 1 along half a cosine period.
fn raised_cosine(p: f64) -> f64 {
    0.5 - 0.5 * (std::f64::consts::PI * p.clamp(0.0, 1.0)).cos()
}

/// The common level of a song's excerpts: the highest integrated loudness at which none of
/// them peaks above [`MATCH_PEAK_CEILING_DBFS`]. Silent excerpts (no loudness) do not count;
/// `None` if all are silent.
fn common_matched_lufs(measured: &[(f64, f64)]) -> Option<f64> {
    measured
        .iter()
        .filter(|(lufs, peak)| lufs.is_finite() && peak.is_finite())
        .map(|(lufs, peak)| lufs + (MATCH_PEAK_CEILING_DBFS - peak))
        .reduce(f64::min)
}

/// SplitMix64 ([`crate::dsp::util::splitmix64`]): enough for a shuffle.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        crate::dsp::util::splitmix64(&mut self.0)
    }

    /// Uniform in `0..n` (n small: the modulo bias is below 2^-60).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// FNV-1a over the samples' bit patterns (one 32-bit word per step): the shuffle's seed.
fn audio_hash(excerpts: &[[Vec<f32>; 2]]) -> u64 {
    const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;
    let mut hash = FNV_OFFSET;
    for channel in excerpts.iter().flatten() {
        for x in channel {
            hash = (hash ^ u64::from(x.to_bits())).wrapping_mul(FNV_PRIME);
        }
    }
    hash
}

/// `segments` sources: rounds of shuffled permutations (Fisher-Yates), never the same source
/// twice in a row, so every join is a switch and every source is heard once per round.
fn blind_order(sources: &[Source], segments: usize, seed: u64) -> Vec<Source> {
    let mut rng = SplitMix64(seed);
    let mut order: Vec<Source> = Vec::with_capacity(segments + sources.len());
    while order.len() < segments {
        let mut round = sources.to_vec();
        for i in (1..round.len()).rev() {
            round.swap(i, rng.below(i + 1));
        }
        if round.len() > 1 && order.last() == round.first() {
            let other = 1 + rng.below(round.len() - 1);
            round.swap(0, other);
        }
        order.extend(round);
    }
    order.truncate(segments);
    order
}

/// Crossfade gains `(out, in)` at position `p` (0..1) through a join.
fn join_gains(from: Source, to: Source, p: f64) -> (f64, f64) {
    let time_aligned = from != Source::Reference && to != Source::Reference;
    if time_aligned {
        let fade_in = raised_cosine(p);
        (1.0 - fade_in, fade_in)
    } else {
        let angle = std::f64::consts::FRAC_PI_2 * p.clamp(0.0, 1.0);
        (angle.cos(), angle.sin())
    }
}

/// The blind file's segments: `order[k]` plays over frames `[k * segment, (k + 1) * segment)`
/// of the common excerpt timeline.
struct BlindLayout<'a> {
    matched: &'a [(Source, &'a [Vec<f32>; 2])],
    order: &'a [Source],
    frames: usize,
    segment_frames: usize,
}

impl BlindLayout<'_> {
    fn source(&self, s: Source) -> &[Vec<f32>; 2] {
        self.matched
            .iter()
            .find(|(m, _)| *m == s)
            .map(|(_, c)| *c)
            .expect("the order only names matched sources")
    }

    fn span(&self, k: usize) -> std::ops::Range<usize> {
        k * self.segment_frames..((k + 1) * self.segment_frames).min(self.frames)
    }

    /// Gains (dB) that bring every segment to one BS.1770-4 integrated loudness, each segment
    /// measured on its own, and that level: the excerpts' rule applied per segment (the
    /// highest level at which none peaks above [`MATCH_PEAK_CEILING_DBFS`]). Excerpts matched
    /// over 30 s still rise and fall inside them: cut into 8 s segments, a reference segment
    /// read 1-2 LU above its neighbours, a level cue that gives the source away (issue 24).
    fn segment_match(&self, sample_rate: u32) -> (f64, Vec<f64>) {
        let measured: Vec<(f64, f64)> = (0..self.order.len())
            .map(|k| {
                let c = self.source(self.order[k]);
                let span = self.span(k);
                let part = [c[0][span.clone()].to_vec(), c[1][span].to_vec()];
                (
                    integrated_loudness(&part[0], Some(&part[1]), sample_rate as f32),
                    sample_peak_dbfs(&part),
                )
            })
            .collect();
        let level = common_matched_lufs(&measured).unwrap_or(f64::NEG_INFINITY);
        let gains = measured
            .iter()
            .map(|(lufs, _)| {
                if lufs.is_finite() && level.is_finite() {
                    level - lufs
                } else {
                    0.0
                }
            })
            .collect();
        (level, gains)
    }
}

/// The blind file: each segment at its match gain (`gains_db`, [`BlindLayout::segment_match`]),
/// with crossfades at the joins and fades at both ends.
fn build_blind(layout: &BlindLayout<'_>, gains_db: &[f64], sample_rate: u32) -> [Vec<f32>; 2] {
    let gains: Vec<f64> = gains_db
        .iter()
        .map(|&g| crate::dsp::util::db_to_gain_f64(g))
        .collect();
    let (order, frames) = (layout.order, layout.frames);
    let mut out = [vec![0.0f32; frames], vec![0.0f32; frames]];
    for (k, &s) in order.iter().enumerate() {
        let span = layout.span(k);
        for (o, c) in out.iter_mut().zip(layout.source(s)) {
            for (y, &x) in o[span.clone()].iter_mut().zip(&c[span.clone()]) {
                *y = (f64::from(x) * gains[k]) as f32;
            }
        }
    }
    let half = fade_frames(
        sample_rate,
        JOIN_CROSSFADE_SECONDS / 2.0,
        layout.segment_frames,
    );
    if half > 0 {
        for k in 1..order.len() {
            let boundary = k * layout.segment_frames;
            let (from, to) = (layout.source(order[k - 1]), layout.source(order[k]));
            let start = boundary - half;
            let end = (boundary + half).min(frames);
            for i in start..end {
                let p = (i - start) as f64 / (2 * half) as f64;
                let (g_out, g_in) = join_gains(order[k - 1], order[k], p);
                let (g_out, g_in) = (g_out * gains[k - 1], g_in * gains[k]);
                for ch in 0..2 {
                    out[ch][i] =
                        (g_out * f64::from(from[ch][i]) + g_in * f64::from(to[ch][i])) as f32;
                }
            }
        }
    }
    let fade = fade_frames(sample_rate, EDGE_FADE_SECONDS, frames);
    for channel in &mut out {
        apply_edge_fades(channel, fade);
    }
    out
}

/// `channels` times `gain_db`.
fn scaled(channels: &[Vec<f32>; 2], gain_db: f64) -> [Vec<f32>; 2] {
    let gain = crate::dsp::util::db_to_gain_f64(gain_db);
    let scale =
        |c: &Vec<f32>| -> Vec<f32> { c.iter().map(|&x| (f64::from(x) * gain) as f32).collect() };
    [scale(&channels[0]), scale(&channels[1])]
}

/// `channels` with `gain_db` applied, dithered to 24 bits (see the module doc).
fn to_24_bit(channels: &[Vec<f32>; 2], gain_db: f64, sample_rate: u32) -> Audio {
    let [mut left, mut right] = scaled(channels, gain_db);
    let mut dither = Dither::new(sample_rate as f32);
    dither.set(&DitherSettings {
        mode: DitherMode::Bits24,
        noise_shaping: false,
    });
    dither.process(&mut left, &mut right);
    Audio {
        sample_rate,
        channels: vec![left, right],
    }
}

fn seconds(frames: usize, sample_rate: u32) -> f64 {
    frames as f64 / f64::from(sample_rate)
}

/// A song's pack contents, measured and matched, before anything is written.
pub(crate) struct PreparedSong {
    pub(crate) summary: SongPackSummary,
    pub(crate) original_curve: LoudnessCurve,
    pub(crate) master_curve: LoudnessCurve,
    excerpts: Vec<(Source, Audio)>,
    blind: Audio,
    blind_key: String,
}

/// The reference's own loudest excerpt (cut once, matched per song).
struct ReferenceExcerpt {
    excerpt: Excerpt,
    curve: LoudnessCurve,
}

fn prepare_song(
    song: &PackSong,
    folder: &Path,
    reference: Option<&ReferenceExcerpt>,
    options: &PackOptions,
) -> PreparedSong {
    let rate = song.master.sample_rate;
    let master_curve = LoudnessCurve::measure(song.master);
    let original_curve = LoudnessCurve::measure(song.original);
    let excerpt_frames = ((options.excerpt_seconds * f64::from(rate)).round() as usize)
        .clamp(1, song.master.frames().max(1));
    let start = loudest_window_start(&master_curve, rate, excerpt_frames);
    let mut cut = vec![
        Excerpt::cut(Source::Original, song.original, start, excerpt_frames),
        Excerpt::cut(Source::Master, song.master, start, excerpt_frames),
    ];
    if let Some(r) = reference {
        cut.push(Excerpt {
            source: Source::Reference,
            start_frame: r.excerpt.start_frame,
            channels: r.excerpt.channels.clone(),
        });
    }
    let measured: Vec<(f64, f64)> = cut
        .iter()
        .map(|e| (e.integrated_lufs(rate), e.sample_peak_dbfs()))
        .collect();
    let matched_lufs = common_matched_lufs(&measured).unwrap_or(f64::NEG_INFINITY);
    let gains: Vec<f64> = measured
        .iter()
        .map(|(lufs, _)| {
            if lufs.is_finite() && matched_lufs.is_finite() {
                matched_lufs - lufs
            } else {
                0.0
            }
        })
        .collect();
    // The matched float excerpts (the blind file is cut from these, then dithered once).
    let matched: Vec<(Source, [Vec<f32>; 2])> = cut
        .iter()
        .zip(&gains)
        .map(|(e, &g)| (e.source, scaled(&e.channels, g)))
        .collect();

    let mut excerpts = Vec::with_capacity(cut.len());
    let mut excerpt_summaries = Vec::with_capacity(cut.len());
    for (e, &gain_db) in cut.iter().zip(&gains) {
        let written = to_24_bit(&e.channels, gain_db, rate);
        let (left, right) = written.left_right();
        excerpt_summaries.push(ExcerptSummary {
            source: e.source,
            path: folder.join(e.source.excerpt_file_name()),
            start_seconds: seconds(e.start_frame, rate),
            duration_seconds: seconds(e.frames(), rate),
            gain_db,
            integrated_lufs: integrated_loudness(left, Some(right), rate as f32),
            sample_peak_dbfs: sample_peak_dbfs(&written.channels),
        });
        excerpts.push((e.source, written));
    }

    let blind_frames = cut.iter().map(Excerpt::frames).min().unwrap_or(0);
    let segment_frames = ((options.segment_seconds * f64::from(rate)).round() as usize)
        .clamp(1, blind_frames.max(1));
    let segments = blind_frames.div_ceil(segment_frames).max(1);
    let sources: Vec<Source> = matched.iter().map(|(s, _)| *s).collect();
    let seed = audio_hash(&matched.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>());
    let order = blind_order(&sources, segments, seed);
    let matched_refs: Vec<(Source, &[Vec<f32>; 2])> =
        matched.iter().map(|(s, c)| (*s, c)).collect();
    let layout = BlindLayout {
        matched: &matched_refs,
        order: &order,
        frames: blind_frames,
        segment_frames,
    };
    let (blind_lufs, segment_gains) = layout.segment_match(rate);
    let blind_channels = build_blind(&layout, &segment_gains, rate);
    let blind = to_24_bit(&blind_channels, 0.0, rate);
    let blind_order: Vec<BlindSegment> = order
        .iter()
        .enumerate()
        .map(|(k, &source)| {
            let start = k * segment_frames;
            let end = ((k + 1) * segment_frames).min(blind_frames);
            BlindSegment {
                number: k + 1,
                start_seconds: seconds(start, rate),
                duration_seconds: seconds(end - start, rate),
                source,
            }
        })
        .collect();
    let blind_key = blind_key_text(song.name, &blind_order, blind_lufs);
    PreparedSong {
        summary: SongPackSummary {
            name: song.name.to_string(),
            folder: folder.to_path_buf(),
            excerpts: excerpt_summaries,
            matched_lufs,
            blind_path: folder.join(BLIND_FILE),
            blind_key_path: folder.join(BLIND_KEY_FILE),
            blind_order,
        },
        original_curve,
        master_curve,
        excerpts,
        blind,
        blind_key,
    }
}

/// The key: `#` comment lines, then a tab-separated header and one line per segment
/// (`number`, start in seconds, source), easy to read and to parse.
fn blind_key_text(name: &str, order: &[BlindSegment], matched_lufs: f64) -> String {
    let mut text = format!(
        "# Fairmaster blind listening key for \"{name}\" ({BLIND_FILE}).\n\
         # Read it after listening. Every segment is loudness matched on its own to \
         {matched_lufs:.1} LUFS (BS.1770-4 integrated loudness of the segment).\n\
         segment\tstart_s\tsource\n"
    );
    for segment in order {
        text.push_str(&format!(
            "{}\t{:.3}\t{}\n",
            segment.number,
            segment.start_seconds,
            segment.source.label()
        ));
    }
    text
}

/// An album song's folder name: `NN-name` with characters that are not safe in file names on
/// every system replaced by `_`.
fn song_folder_name(index: usize, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let safe = safe.trim().trim_matches('.');
    let safe = if safe.is_empty() { "song" } else { safe };
    format!("{:02}-{safe}", index + 1)
}

fn check_inputs(
    songs: &[PackSong],
    reference: Option<(&str, &Audio)>,
    options: &PackOptions,
    dir: &Path,
) -> Result<(), OfflineError> {
    let bad = |reason: String| Err(OfflineError::file(dir, reason));
    if songs.is_empty() {
        return bad("a listening pack needs at least one song".into());
    }
    if !(options.excerpt_seconds.is_finite() && options.excerpt_seconds > 0.0) {
        return bad(format!(
            "excerpt length must be positive seconds, not {}",
            options.excerpt_seconds
        ));
    }
    if !(options.segment_seconds.is_finite() && options.segment_seconds > 0.0) {
        return bad(format!(
            "blind segment length must be positive seconds, not {}",
            options.segment_seconds
        ));
    }
    for song in songs {
        let (o, m) = (song.original, song.master);
        if m.frames() == 0 || m.channels.is_empty() {
            return bad(format!("song \"{}\": the master has no audio", song.name));
        }
        if o.sample_rate != m.sample_rate || o.frames() != m.frames() {
            return bad(format!(
                "song \"{}\": original ({} frames at {} Hz) and master ({} frames at {} Hz) \
                 differ in rate or length",
                song.name,
                o.frames(),
                o.sample_rate,
                m.frames(),
                m.sample_rate
            ));
        }
        if let Some((name, r)) = reference {
            if r.sample_rate != m.sample_rate || r.frames() == 0 {
                return bad(format!(
                    "reference \"{name}\" ({} frames at {} Hz) must be non-empty and at the \
                     songs' rate ({} Hz)",
                    r.frames(),
                    r.sample_rate,
                    m.sample_rate
                ));
            }
        }
    }
    Ok(())
}

/// Writes a listening pack into `dir` (see the module doc): one song, or an album. The
/// reference, if any, is already decoded at the songs' sample rate. Nothing is left behind on
/// failure; an existing `dir` is replaced only with `options.force`.
pub fn write_pack(
    dir: &Path,
    songs: &[PackSong],
    reference: Option<(&str, &Audio)>,
    options: &PackOptions,
) -> Result<PackSummary, OfflineError> {
    check_inputs(songs, reference, options, dir)?;
    if dir.exists() && !options.force {
        return Err(OfflineError::file(
            dir,
            "pack folder exists; pass --force to replace it",
        ));
    }
    let Some(dir_name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(OfflineError::file(
            dir,
            "not a usable folder name for a pack",
        ));
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Missing parent folders are created, and removed again if the pack fails.
    let first_created = first_missing_ancestor(&parent);
    std::fs::create_dir_all(&parent).map_err(|e| folder_error(&parent, &e))?;
    let partial = parent.join(format!("{dir_name}.partial-{}", std::process::id()));
    crate::files::remove_path(&partial).map_err(|e| {
        OfflineError::file(&partial, format!("cannot remove a stale partial pack: {e}"))
    })?;

    let result = std::fs::create_dir(&partial)
        .map_err(|e| OfflineError::file(&partial, format!("cannot create folder: {e}")))
        .and_then(|()| write_contents(&partial, dir, songs, reference, options))
        .and_then(|summary| {
            crate::files::replace_dir(&partial, dir, options.force, "pack folder").map(|()| summary)
        });
    if result.is_err() {
        let _ = crate::files::remove_path(&partial);
        if let Some(created) = first_created {
            let _ = std::fs::remove_dir_all(created);
        }
    }
    result
}

/// "cannot create folder", naming the file in the way when a parent is not a folder (the
/// operating system's "File exists" / "Not a directory" would not say which).
fn folder_error(path: &Path, error: &std::io::Error) -> OfflineError {
    let in_the_way = path
        .ancestors()
        .find(|a| a.exists())
        .filter(|a| !a.is_dir());
    match in_the_way {
        Some(file) => OfflineError::file(
            file,
            "is a file, not a folder: cannot create the pack in it",
        ),
        None => OfflineError::file(path, format!("cannot create folder: {error}")),
    }
}

/// The outermost ancestor of `path` that does not exist yet (what `create_dir_all` creates).
fn first_missing_ancestor(path: &Path) -> Option<PathBuf> {
    let mut missing = None;
    for ancestor in path.ancestors() {
        if ancestor.as_os_str().is_empty() || ancestor.exists() {
            break;
        }
        missing = Some(ancestor.to_path_buf());
    }
    missing
}

/// Measures, cuts and writes everything into `partial`; the summary names the final paths
/// under `dir`.
fn write_contents(
    partial: &Path,
    dir: &Path,
    songs: &[PackSong],
    reference: Option<(&str, &Audio)>,
    options: &PackOptions,
) -> Result<PackSummary, OfflineError> {
    let reference_excerpt = reference.map(|(_, audio)| {
        let curve = LoudnessCurve::measure(audio);
        let frames = ((options.excerpt_seconds * f64::from(audio.sample_rate)).round() as usize)
            .clamp(1, audio.frames());
        let start = loudest_window_start(&curve, audio.sample_rate, frames);
        ReferenceExcerpt {
            excerpt: Excerpt::cut(Source::Reference, audio, start, frames),
            curve,
        }
    });
    let album = songs.len() > 1;
    let mut files = Vec::new();
    let mut prepared = Vec::with_capacity(songs.len());
    for (index, song) in songs.iter().enumerate() {
        let relative = if album {
            PathBuf::from(song_folder_name(index, song.name))
        } else {
            PathBuf::new()
        };
        let work_folder = partial.join(&relative);
        if album {
            std::fs::create_dir(&work_folder).map_err(|e| {
                OfflineError::file(&work_folder, format!("cannot create folder: {e}"))
            })?;
        }
        let song_pack = prepare_song(
            song,
            &dir.join(&relative),
            reference_excerpt.as_ref(),
            options,
        );
        for (source, audio) in &song_pack.excerpts {
            let path = work_folder.join(source.excerpt_file_name());
            write_wav_atomic(&path, audio, OutputFormat::Int24, false)?;
            files.push(dir.join(&relative).join(source.excerpt_file_name()));
        }
        write_wav_atomic(
            &work_folder.join(BLIND_FILE),
            &song_pack.blind,
            OutputFormat::Int24,
            false,
        )?;
        files.push(song_pack.summary.blind_path.clone());
        let key_path = work_folder.join(BLIND_KEY_FILE);
        std::fs::write(&key_path, &song_pack.blind_key)
            .map_err(|e| OfflineError::file(&key_path, format!("cannot write: {e}")))?;
        files.push(song_pack.summary.blind_key_path.clone());
        prepared.push((relative, song_pack));
    }

    let report_songs: Vec<super::html_report::ReportSong> = prepared
        .iter()
        .zip(songs)
        .map(|((relative, p), song)| super::html_report::ReportSong {
            song,
            folder: relative.to_string_lossy().into_owned(),
            summary: &p.summary,
            original_curve: &p.original_curve,
            master_curve: &p.master_curve,
        })
        .collect();
    let report_reference = match (reference, &reference_excerpt) {
        (Some((name, audio)), Some(r)) => Some(super::html_report::ReportReference {
            name,
            audio,
            curve: &r.curve,
        }),
        _ => None,
    };
    let html = super::html_report::render_report(&report_songs, report_reference.as_ref());
    let report_work = partial.join(REPORT_FILE);
    std::fs::write(&report_work, &html)
        .map_err(|e| OfflineError::file(&report_work, format!("cannot write: {e}")))?;
    let report_path = dir.join(REPORT_FILE);
    files.push(report_path.clone());
    Ok(PackSummary {
        dir: dir.to_path_buf(),
        report_path,
        report_bytes: html.len() as u64,
        files,
        songs: prepared.into_iter().map(|(_, p)| p.summary).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_order_never_repeats_a_source_and_is_deterministic() {
        let sources = [Source::Original, Source::Master, Source::Reference];
        for seed in 0..200u64 {
            let order = blind_order(&sources, 10, seed);
            assert_eq!(order.len(), 10);
            assert!(order.windows(2).all(|w| w[0] != w[1]), "{order:?}");
            // Every round of three holds each source once.
            for round in order.chunks_exact(3) {
                for s in sources {
                    assert_eq!(round.iter().filter(|&&r| r == s).count(), 1);
                }
            }
            assert_eq!(order, blind_order(&sources, 10, seed));
        }
        let two = blind_order(&sources[..2], 5, 7);
        assert!(two.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn join_gains_keep_level_for_their_kind_of_signal() {
        for i in 0..=10 {
            let p = f64::from(i) / 10.0;
            let (a, b) = join_gains(Source::Original, Source::Master, p);
            assert!((a + b - 1.0).abs() < 1e-12, "equal gain at {p}");
            let (a, b) = join_gains(Source::Master, Source::Reference, p);
            assert!((a * a + b * b - 1.0).abs() < 1e-12, "equal power at {p}");
        }
    }

    #[test]
    fn common_level_is_the_most_restrictive_excerpts() {
        // (-20 LUFS, -10 dBFS) allows -11 LUFS; (-8 LUFS, -0.1 dBFS) allows -8.9 LUFS.
        let level =
            common_matched_lufs(&[(-20.0, -10.0), (-8.0, -0.1), (f64::NEG_INFINITY, -200.0)]);
        assert!((level.unwrap() + 11.0).abs() < 1e-12);
        assert_eq!(
            common_matched_lufs(&[(f64::NEG_INFINITY, f64::NEG_INFINITY)]),
            None
        );
    }

    #[test]
    fn folder_names_are_numbered_and_safe() {
        assert_eq!(song_folder_name(0, "Intro"), "01-Intro");
        assert_eq!(song_folder_name(11, "a/b:c?"), "12-a_b_c_");
        assert_eq!(song_folder_name(2, " .. "), "03-song");
    }
}
