//! Rendering a file through the plugin's [`Engine`], and the loudness-target search.
//!
//! # One render
//! `Engine::new()`, `set(settings)`, `reset(rate, offline = true, mono)` exactly as the plugin's
//! `activate` in a DAW's offline bounce, then the whole file through `process_stereo` /
//! `process_mono`. The chain delays by `latency_samples()`; the render drops that many output
//! samples at the start and feeds that many zeros at the end (the tail), so the output is
//! time-aligned with the input and has the same length.
//!
//! # Hitting a loudness target
//! The limiter's drive sets how loud the master is, but not linearly (more drive = more gain
//! reduction), so the target is found by measuring renders (analyse, render, measure, correct):
//!
//! 1. Render with the settings as given and measure the integrated loudness L of the *output*
//!    (BS.1770-4, the plugin's meter) - exactly the samples that will be written.
//! 2. The control is one number `u` in dB: for `u >= 0` the limiter drive is `u`; below 0 the
//!    drive is 0 and the output gain is lowered by `-u` (a target quieter than the undriven
//!    chain). L(u) is monotonic.
//! 3. Next `u`: first `u + (target - L)` (slope 1: exact while the limiter is idle), then the
//!    secant through the last two renders, kept inside the bracket of renders known to be too
//!    quiet / too loud (bisection when the secant leaves it).
//! 4. Stop when |target - L| <= [`TARGET_TOLERANCE_LU`] or after [`MAX_TARGET_PASSES`]; the
//!    render closest to the target is the one written. The acceptance window is +-0.5 LU.
//!
//! A target beyond 24 dB of drive (very quiet, very dynamic mix, or a reference mastered
//! louder than a limiter alone gets this mix) is tried once more with the **clipper assisting**
//! when the settings have it off (any `--preserve-dynamics` PLR floor still holds; a drive
//! limit stops the search before this): a soft clip at 8x
//! oversampling, [`CLIPPER_ASSIST_DRIVE_DB`] of drive, at the target's ceiling, in front of the
//! limiter (the `loud` preset's clipper). It takes the crests off before the limiter, so the
//! limiter does less pumping for the same loudness (the "loud without crushing" issue's
//! finding). The closer of the two renders is written and the report says the clipper was
//! switched on. Beyond that the result says the target was missed (`target_met = false`) and
//! the loudest possible master is kept.

use serde::Serialize;

// The whole-file loudness is a measurement, owned by `analysis` (which the report's figures
// come from too); re-exported here, where the loudness-target search made it known.
pub use super::analysis::integrated_lufs;
use super::analysis::{GainReductionAccumulator, GainReductionStats};
use super::{Audio, OfflineError};
use crate::ab::AbSettings;
use crate::dsp::meters::true_peak::true_peak_dbtp;
use crate::dsp::shaping::clipper::{ClipperSettings, CEILING_DB as CLIP_CEILING_DB};
use crate::dsp::shaping::curves::ClipCurve;
use crate::dsp::util::gain::GAIN_DB;
use crate::engine::Engine;
use crate::stages::ChainSettings;

/// The chain's gain-reduction meters are read after every block of this many frames (the
/// chain's internal chunk): the statistics' time resolution (11.6 ms at 44.1 kHz).
pub const GR_BLOCK: usize = crate::chain::MAX_CHUNK;

/// The search aims this close to the target (well inside the +-0.5 LU acceptance window).
pub const TARGET_TOLERANCE_LU: f64 = 0.05;
/// The acceptance window of a loudness target.
pub const TARGET_ACCEPTANCE_LU: f64 = 0.5;
/// Renders at most this many times per file when searching for a target.
pub const MAX_TARGET_PASSES: usize = 8;
/// The top of the limiter's drive range (its DSP module owns it; the `lim_drive` parameter
/// reads the same).
const MAX_DRIVE_DB: f64 = crate::dsp::dynamics::limiter::DRIVE_DB.max as f64;

/// One finished render.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub audio: Audio,
    pub gain_reduction: GainReductionStats,
    /// Per [`GR_BLOCK`] of the file: `[compressor, limiter]` gain reduction in dB (each the
    /// block's maximum), for the report's histograms and the dynamics verdict.
    pub gain_reduction_trace: Vec<[f32; 2]>,
    pub latency_samples: u32,
}

/// Renders `input` through a fresh engine with `settings`. `progress(frames)` is called with
/// the number of input frames done so far.
pub fn render(
    input: &Audio,
    settings: &ChainSettings,
    ab: &AbSettings,
    progress: &mut dyn FnMut(usize),
) -> Rendered {
    let mut engine = Engine::new();
    let mono = input.is_mono();
    engine.set(settings, ab);
    engine.reset(input.sample_rate as f32, true, mono);
    let latency = engine.latency_samples() as usize;
    let frames = input.frames();
    let mut gr = GainReductionAccumulator::default();
    let mut gr_trace = Vec::with_capacity((frames + latency).div_ceil(GR_BLOCK));
    let mut next_report = 0;
    let audio = run_aligned(
        &mut engine,
        input,
        GR_BLOCK,
        |_, _| {},
        |engine, end| {
            // Only blocks carrying the file's samples (not the pre-roll) count.
            if end > latency {
                let meters = engine.chain_meters();
                gr.add(meters.compressor_gr_db, meters.limiter_gr_db);
                gr_trace.push([meters.compressor_gr_db, meters.limiter_gr_db]);
            }
            if end >= next_report {
                progress(end.min(frames));
                next_report = end + (1 << 16);
            }
        },
    );
    progress(frames);
    Rendered {
        audio,
        gain_reduction: gr.stats(),
        gain_reduction_trace: gr_trace,
        latency_samples: latency as u32,
    }
}

/// Runs `engine` (already set and reset by the caller) over `input` in blocks of `block`
/// frames with the chain's latency compensated as a DAW does: `latency_samples()` zeros are
/// fed after the file (the tail) and as many output samples dropped at the start, so the
/// result is time-aligned with the input and has its length. The one loop behind both the
/// render and the listening render (`listen.rs`), which differ only in what they do around
/// each block: `before(engine, start)` runs before the block starting at frame `start` and
/// `after(engine, end)` after the block ending at frame `end`, both counted from the first
/// input frame (the timeline position; the tail runs past `input.frames()`).
pub(crate) fn run_aligned(
    engine: &mut Engine,
    input: &Audio,
    block: usize,
    mut before: impl FnMut(&mut Engine, usize),
    mut after: impl FnMut(&Engine, usize),
) -> Audio {
    let latency = engine.latency_samples() as usize;
    let total = input.frames() + latency;
    // Input followed by `latency` zeros, processed in place; the output is `[latency..]`.
    let mut channels: Vec<Vec<f32>> = input
        .channels
        .iter()
        .map(|c| {
            let mut v = Vec::with_capacity(total);
            v.extend_from_slice(c);
            v.resize(total, 0.0);
            v
        })
        .collect();
    let mut start = 0;
    while start < total {
        let end = (start + block).min(total);
        before(engine, start);
        match channels.as_mut_slice() {
            [mono_channel] => engine.process_mono(&mut mono_channel[start..end]),
            [left, right] => engine.process_stereo(&mut left[start..end], &mut right[start..end]),
            _ => unreachable!("decoder guarantees 1 or 2 channels"),
        }
        after(engine, end);
        start = end;
    }
    for channel in &mut channels {
        channel.drain(..latency);
    }
    Audio {
        sample_rate: input.sample_rate,
        channels,
    }
}

/// A loudness target for one file: integrated loudness and the limiter ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoudnessTarget {
    pub integrated_lufs: f64,
    pub ceiling_dbtp: f32,
}

/// One render of the search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetPass {
    pub drive_db: f32,
    pub output_gain_db: f32,
    pub integrated_lufs: f64,
}

/// Limits the target search must respect (`--preserve-dynamics`): every target is a ceiling
/// and a loudness, never a licence to crush. The search stops at whichever binds first and the
/// report says how far from the target it stayed.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct DynamicsLimits {
    /// Lowest peak-to-loudness ratio (EBU R128 s1: true peak minus integrated loudness) the
    /// master may have, dB.
    pub min_plr_db: Option<f32>,
    /// Highest limiter drive the search may use, dB.
    pub max_drive_db: Option<f32>,
}

/// What stopped the search short of the target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldBackBy {
    /// The PLR floor of [`DynamicsLimits`].
    PlrFloor,
    /// The drive limit of [`DynamicsLimits`].
    MaxDrive,
    /// The limiter's whole drive range (24 dB) was not enough.
    DriveRange,
}

/// The written render and how it was found.
#[derive(Debug, Clone)]
pub struct TargetedRender {
    pub rendered: Rendered,
    /// The settings of the written render (drive/output gain as found).
    pub settings: ChainSettings,
    pub integrated_lufs: f64,
    /// `integrated - target`, LU.
    pub error_lu: f64,
    pub target_met: bool,
    pub passes: Vec<TargetPass>,
    /// Set when a limit (or the drive range) kept the master quieter than the target.
    pub held_back_by: Option<HeldBackBy>,
    /// The limiter alone could not reach the target and the written render has the clipper
    /// switched on ([`ClipperSettings`] in `settings`).
    pub clipper_assisted: bool,
}

/// The clipper's drive when it assists a limiter that ran out of drive (the `loud` preset's
/// 4 dB plus 2: the references this is for are mastered with heavy clipping).
pub const CLIPPER_ASSIST_DRIVE_DB: f32 = 6.0;

/// Maps the search's control `u` (dB) to drive and output gain (see the module docs).
fn apply_control(base: &ChainSettings, u: f64) -> ChainSettings {
    let mut s = *base;
    if u >= 0.0 {
        s.limiter.drive_db = u.min(MAX_DRIVE_DB) as f32;
    } else {
        s.limiter.drive_db = 0.0;
        s.output_gain_db = (f64::from(base.output_gain_db) + u).max(f64::from(GAIN_DB.min)) as f32;
    }
    // The high-frequency limiter's limit is a promise about the file the lathe receives, but
    // the limiter's drive and a positive output gain come after it in the chain and would
    // lift the treble it held by as much: its limit comes down by that gain (the limiter's
    // gain reduction only lowers the treble further). Without this the vinyl premaster's
    // cymbals ended 1.8 dB over the limit at 1.8 dB of drive.
    let gain_after_db = s.limiter.drive_db + s.output_gain_db.max(0.0);
    s.hf_limiter.limit_db = base.hf_limiter.limit_db - gain_after_db;
    s
}

/// The search stops narrowing a bracket this small (control dB): the renders on either side
/// differ by less than the loudness tolerance.
const BRACKET_RESOLUTION_DB: f64 = 0.02;

/// Renders `input` so its integrated loudness hits `target` (see the module docs) without
/// crossing `limits`. The limiter is switched on and its ceiling set to the target's; when
/// its drive range is not enough, the clipper assists (see the module docs).
pub fn render_to_target(
    input: &Audio,
    settings: &ChainSettings,
    ab: &AbSettings,
    target: LoudnessTarget,
    limits: DynamicsLimits,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<TargetedRender, OfflineError> {
    let first = search_target(input, settings, ab, target, limits, progress)?;
    if first.held_back_by != Some(HeldBackBy::DriveRange) || settings.clipper.enabled {
        return Ok(first);
    }
    let mut assisted = *settings;
    assisted.clipper = ClipperSettings {
        enabled: true,
        drive_db: CLIPPER_ASSIST_DRIVE_DB,
        ceiling_db: target
            .ceiling_dbtp
            .clamp(CLIP_CEILING_DB.min, CLIP_CEILING_DB.max),
        curve: ClipCurve::Soft,
        oversampling: 8,
    };
    // Start where the limiter alone ended, less the clipper's drive.
    assisted.limiter.drive_db =
        (first.settings.limiter.drive_db - CLIPPER_ASSIST_DRIVE_DB).max(0.0);
    let offset = first.passes.len();
    let mut second = search_target(input, &assisted, ab, target, limits, &mut |pass, done| {
        progress(offset + pass, done)
    })?;
    let mut passes = first.passes.clone();
    passes.append(&mut second.passes);
    let mut chosen = if second.error_lu.abs() < first.error_lu.abs() {
        second.clipper_assisted = true;
        second
    } else {
        first
    };
    chosen.passes = passes;
    Ok(chosen)
}

/// One target search with `settings` (see the module docs), without the clipper's assist: for
/// jobs whose master must not be clipped (the vinyl premaster), which call it directly.
pub fn search_target(
    input: &Audio,
    settings: &ChainSettings,
    ab: &AbSettings,
    target: LoudnessTarget,
    limits: DynamicsLimits,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<TargetedRender, OfflineError> {
    let mut base = *settings;
    base.limiter.enabled = true;
    base.limiter.ceiling_db = target.ceiling_dbtp;
    let t = target.integrated_lufs;
    let u_min = f64::from(GAIN_DB.min - base.output_gain_db);
    let u_max = limits
        .max_drive_db
        .map_or(MAX_DRIVE_DB, |d| f64::from(d).clamp(0.0, MAX_DRIVE_DB));

    let mut passes: Vec<TargetPass> = Vec::new();
    // The render closest to the target among those within the limits; failing that, the one
    // that crossed them least (the quietest).
    let mut best: Option<(f64, TargetedRender)> = None;
    let mut best_outside: Option<(f64, TargetedRender)> = None;
    // Bracket: largest u known too quiet, smallest u known too loud (or past the PLR floor).
    let mut too_quiet: Option<(f64, f64)> = None;
    let mut too_loud: Option<(f64, f64)> = None;
    let mut history: Vec<(f64, f64)> = Vec::new();
    let mut held_back_by = None;
    let mut u = f64::from(base.limiter.drive_db).min(u_max);
    // What the search aims at: the target, lowered when a render crosses the PLR floor.
    let mut aim = t;
    for pass in 0..MAX_TARGET_PASSES {
        let s = apply_control(&base, u);
        let rendered = render(input, &s, ab, &mut |done| progress(pass, done));
        let lufs = integrated_lufs(&rendered.audio);
        if !lufs.is_finite() {
            return Err(OfflineError::new(
                "no audio above the BS.1770 gate (-70 LUFS): silence cannot be brought to a \
                 loudness target",
            ));
        }
        passes.push(TargetPass {
            drive_db: s.limiter.drive_db,
            output_gain_db: s.output_gain_db,
            integrated_lufs: lufs,
        });
        // PLR is measured only when a floor is set (the true-peak meter costs a pass's time).
        let plr_shortfall = limits.min_plr_db.map_or(0.0, |floor| {
            // PLR = true peak - the integrated loudness just measured (the full `analyse`
            // would measure the loudness again and the LRA, which the search does not need).
            let (left, right) = rendered.audio.left_right();
            let plr = f64::from(true_peak_dbtp(left, right)) - lufs;
            f64::from(floor) - plr
        });
        let below_plr_floor = plr_shortfall > f64::from(PLR_FLOOR_TOLERANCE_DB);
        if below_plr_floor {
            // Under limiting the true peak sits at the ceiling, so the PLR rises about 1 dB
            // for each LU taken off: aim that much quieter and let the loudness secant find it
            // (a bisection on PLR alone spends the whole pass budget).
            aim = aim.min(lufs - plr_shortfall - PLR_AIM_MARGIN_LU);
        }
        let error = lufs - t;
        let candidate = TargetedRender {
            rendered,
            settings: s,
            integrated_lufs: lufs,
            error_lu: error,
            target_met: error.abs() <= TARGET_ACCEPTANCE_LU,
            passes: Vec::new(),
            held_back_by: None,
            clipper_assisted: false,
        };
        if below_plr_floor {
            if best_outside.as_ref().is_none_or(|(l, _)| lufs < *l) {
                best_outside = Some((lufs, candidate));
            }
            held_back_by = Some(HeldBackBy::PlrFloor);
            too_loud = Some(too_loud.map_or((u, lufs), |q| if u < q.0 { (u, lufs) } else { q }));
        } else {
            if best.as_ref().is_none_or(|(e, _)| error.abs() < *e) {
                best = Some((error.abs(), candidate));
            }
            let aim_error = lufs - aim;
            if aim_error.abs() <= TARGET_TOLERANCE_LU {
                break;
            }
            if aim_error < 0.0 {
                too_quiet =
                    Some(too_quiet.map_or((u, lufs), |q| if u > q.0 { (u, lufs) } else { q }));
                if u >= u_max {
                    // The loudest master allowed is rendered and still too quiet.
                    held_back_by = Some(if u_max < MAX_DRIVE_DB {
                        HeldBackBy::MaxDrive
                    } else {
                        HeldBackBy::DriveRange
                    });
                    break;
                }
            } else {
                too_loud =
                    Some(too_loud.map_or((u, lufs), |q| if u < q.0 { (u, lufs) } else { q }));
                if u <= u_min {
                    break;
                }
            }
        }
        if let (Some((uq, _)), Some((ul, _))) = (too_quiet, too_loud) {
            if ul - uq < BRACKET_RESOLUTION_DB {
                break;
            }
        }
        history.push((u, lufs));
        u = next_control(&history, aim, too_quiet, too_loud).clamp(u_min, u_max);
    }
    let (mut result, outside) = match (best, best_outside) {
        (Some((_, r)), _) => (r, false),
        (None, Some((_, r))) => (r, true),
        (None, None) => unreachable!("at least one pass"),
    };
    result.passes = passes;
    // A limit held the master back only if the written render is short of the target.
    result.held_back_by = if outside || result.error_lu < -TARGET_TOLERANCE_LU {
        held_back_by
    } else {
        None
    };
    if result.held_back_by.is_some() {
        result.target_met = false;
    }
    Ok(result)
}

/// A render whose PLR is this close under the floor counts as on it (the meters' resolution).
const PLR_FLOOR_TOLERANCE_DB: f32 = 0.05;
/// The search aims this much quieter than the PLR floor strictly needs, so its tolerance
/// window lands on the right side of the floor.
const PLR_AIM_MARGIN_LU: f64 = 0.05;

/// The next control value: slope-1 step, then secant, kept inside the bracket.
fn next_control(
    history: &[(f64, f64)],
    target: f64,
    too_quiet: Option<(f64, f64)>,
    too_loud: Option<(f64, f64)>,
) -> f64 {
    let &(u, l) = history.last().expect("history");
    let mut next = match history.len() {
        1 => u + (target - l),
        n => {
            let (u0, l0) = history[n - 2];
            let slope = if (u - u0).abs() > 1e-9 {
                (l - l0) / (u - u0)
            } else {
                1.0
            };
            // Loudness rises with u at between ~0 (hard limiting) and 1 dB/dB (idle limiter).
            u + (target - l) / slope.clamp(0.02, 1.0)
        }
    };
    if let (Some((uq, _)), Some((ul, _))) = (too_quiet, too_loud) {
        if !(next > uq && next < ul) {
            next = 0.5 * (uq + ul);
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_maps_to_drive_then_output_gain() {
        let base = ChainSettings {
            output_gain_db: -1.0,
            ..ChainSettings::default()
        };
        let s = apply_control(&base, 5.5);
        assert_eq!((s.limiter.drive_db, s.output_gain_db), (5.5, -1.0));
        let s = apply_control(&base, -3.0);
        assert_eq!((s.limiter.drive_db, s.output_gain_db), (0.0, -4.0));
        let s = apply_control(&base, 40.0);
        assert_eq!(s.limiter.drive_db, 24.0);
        let s = apply_control(&base, -60.0);
        assert_eq!(s.output_gain_db, -24.0);
    }

    #[test]
    fn secant_step_stays_inside_the_bracket() {
        // Linear loudness curve L = u - 20 with target -14: the secant lands on u = 6 exactly.
        let h = [(0.0, -20.0), (3.0, -17.0)];
        assert!((next_control(&h, -14.0, Some((3.0, -17.0)), None) - 6.0).abs() < 1e-12);
        // A secant pointing outside a known bracket falls back to bisection.
        let h = [(0.0, -20.0), (10.0, -19.9)];
        let next = next_control(&h, -14.0, Some((10.0, -19.9)), Some((12.0, -13.0)));
        assert_eq!(next, 11.0);
    }
}
