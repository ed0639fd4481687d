//! The mastering job ([`run`]): decoding, loudness targets, album balancing, rendering,
//! writing, the dynamics verdict, the disc image and the listening pack.

use std::path::{Path, PathBuf};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::disc::{plan_disc, write_disc};
use super::reference::{load_reference, rms_difference, LoadedReference};
use super::*;
use crate::ab::AbSettings;
use crate::analysis::tonal::{analyse_stereo, THIRD_NOMINAL_HZ};
use crate::analysis::tonal_match::{refine, MatchDifference};
use crate::dsp::filters::eq::EqSettings;
use crate::offline::album::{self, AlbumSummary};
use crate::offline::analysis::analyse;
use crate::offline::analysis::{Analysis, GainReductionStats, LIMITING_THRESHOLD_DB};
use crate::offline::audio_io;
use crate::offline::demo::demo_mix;
use crate::offline::pack::{write_pack, PackOptions, PackSong};
use crate::offline::render::HeldBackBy;
use crate::offline::render::{self, DynamicsLimits, LoudnessTarget, Rendered, TargetedRender};
use crate::offline::report::{
    FileReport, ReferenceReport, RunReport, TargetReport, TonalMatchReport,
};
use crate::offline::{Audio, OfflineError};
use crate::stages::ChainSettings;
use crate::targets::CD_SAMPLE_RATE_HZ;
use rayon::prelude::*;

/// One song: a decoded input (at the rate it is mastered at), its name and where its master goes.
pub(super) struct Song {
    pub(super) name: String,
    pub(super) input: Audio,
    /// The file's own rate when `input` was resampled.
    pub(super) resampled_from_hz: Option<u32>,
    pub(super) output: Option<PathBuf>,
}

/// Limiter gain reduction above [`LIMITING_THRESHOLD_DB`] for more than this share of the file
/// means the limiter is shaping the whole song, not its peaks.
pub const LIMITING_WARNING_FRACTION: f32 = 0.30;
/// A PLR fall larger than this (dB) is a change of character, not a finish.
pub const PLR_FALL_WARNING_DB: f32 = 4.0;
/// The master's PLR may sit this far below the reference's before the report says so, dB.
pub const PLR_BELOW_REFERENCE_WARNING_DB: f32 = 1.0;

/// The dynamics verdict: what reaching the target cost, in words (issue 14: every target is a
/// ceiling and a loudness, never a licence to crush).
pub fn dynamics_warnings(
    before: &Analysis,
    after: &Analysis,
    gain_reduction: &GainReductionStats,
    reference_plr_db: Option<f32>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if gain_reduction.limiter_active_fraction > LIMITING_WARNING_FRACTION {
        warnings.push(format!(
            "the limiter reduces by more than {LIMITING_THRESHOLD_DB} dB for {:.0} % of the \
             time (more than {:.0} %): the target costs more than this record can take; try a \
             quieter target or --preserve-dynamics",
            100.0 * gain_reduction.limiter_active_fraction,
            100.0 * LIMITING_WARNING_FRACTION
        ));
    }
    let fall = before.plr_db - after.plr_db;
    if fall.is_finite() && fall > PLR_FALL_WARNING_DB {
        warnings.push(format!(
            "PLR falls from {:.1} to {:.1} dB ({fall:.1} dB, more than {PLR_FALL_WARNING_DB} dB): \
             the master keeps much less of the mix's dynamics",
            before.plr_db, after.plr_db
        ));
    }
    if let Some(reference) = reference_plr_db {
        let below = reference - after.plr_db;
        if below.is_finite() && below > PLR_BELOW_REFERENCE_WARNING_DB {
            warnings.push(format!(
                "the master's PLR ({:.1} dB) is {below:.1} dB below the reference's ({reference:.1} \
                 dB): it is more squashed than the record it is matched to",
                after.plr_db
            ));
        }
    }
    warnings
}

pub(super) fn default_output(o: &Options, input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let name = format!("{stem}.master.wav");
    match &o.out_dir {
        Some(dir) => dir.join(name),
        None => input.with_file_name(name),
    }
}

/// What the jobs share (read-only, so songs can be mastered in parallel).
pub(super) struct JobContext<'a> {
    o: &'a Options,
    settings: ChainSettings,
    ab: AbSettings,
    target: Option<LoudnessTarget>,
    /// Per job, its loudness target (album balancing applied).
    track_targets: Option<Vec<f64>>,
    references: Vec<(u32, LoadedReference)>,
    reference_name: String,
    settings_source: String,
    before: Vec<Analysis>,
}

impl JobContext<'_> {
    fn reference_at(&self, rate: u32) -> Option<&LoadedReference> {
        self.references
            .iter()
            .find(|(r, _)| *r == rate)
            .map(|(_, l)| l)
    }
}

/// One song mastered: its report, the master and the limiter's trace (for the pack).
pub(super) struct Mastered {
    report: FileReport,
    master: Audio,
    gain_reduction_trace: Vec<[f32; 2]>,
}

/// Masters job `k`: the tonal match when asked, the render (to its target), the write, the
/// measurements and the dynamics verdict.
pub(super) fn master_job(
    ctx: &JobContext,
    k: usize,
    job: &Song,
    bar: Option<ProgressBar>,
) -> Result<Mastered, OfflineError> {
    let o = ctx.o;
    let rate = job.input.sample_rate;
    let reference = ctx.reference_at(rate);
    // The tonal match (`--match-eq`, `--match-width`): the mix's balance against the
    // reference's, mid and side, as the match EQ's curve in the EQ's linear-phase FIR.
    let mix_tonal = reference.and_then(|_| {
        let (l, r) = job.input.left_right();
        analyse_stereo(l, r, rate as f32)
    });
    let settings = ctx.settings;
    let ab = ctx.ab;
    let mut job_settings = settings;
    let mut tonal_match = None;
    let match_options = o.match_options();
    let rest_of_eq = tone_removed(&settings.eq);
    if let (Some(options), Some(reference), Some(mix)) = (match_options, reference, &mix_tonal) {
        let shaped = MatchDifference::measure(mix, &reference.tonal).curve(&options);
        job_settings.eq = rest_of_eq;
        job_settings.eq_match = shaped.curve;
        job_settings.eq_enabled = true;
        job_settings.eq_linear_phase = true;
        if options.width_amount > 0.0 {
            // The width match owns the side level per band: the stereo stage's width and mono
            // bass would move it again on top.
            job_settings.stereo.width = 1.0;
            job_settings.stereo.mono_bass_enabled = false;
        }
        tonal_match = Some(TonalMatchReport::new(&options, &shaped));
    }
    let track_target = match (ctx.target, &ctx.track_targets) {
        (Some(t), Some(targets)) => Some(LoudnessTarget {
            integrated_lufs: targets[k],
            ..t
        }),
        _ => None,
    };
    let (mut rendered, mut used, mut target_report) = master_once(
        job,
        &job_settings,
        &ab,
        track_target,
        o.dynamics_limits,
        &bar,
    )?;
    // The match's second look (analysis::tonal_match step 4).
    if let (Some(options), Some(_), Some(mix)) = (match_options, reference, &mix_tonal) {
        let (l, r) = rendered.audio.left_right();
        if let Some(first) = analyse_stereo(l, r, rate as f32) {
            let response = rest_of_eq.response(f64::from(rate));
            let shaped = refine(&job_settings.eq_match, mix, &first, &response, &options);
            let mut second = job_settings;
            second.eq_match = shaped.curve;
            second.limiter.drive_db = used.limiter.drive_db;
            let (r2, u2, t2) =
                master_once(job, &second, &ab, track_target, o.dynamics_limits, &bar)?;
            rendered = r2;
            used = u2;
            target_report = match (target_report, t2) {
                (Some(mut a), Some(b)) => {
                    let mut passes = std::mem::take(&mut a.passes);
                    passes.extend(b.passes.iter().copied());
                    Some(TargetReport { passes, ..b })
                }
                (_, b) => b,
            };
            tonal_match = Some(TonalMatchReport::new(&options, &shaped));
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(path) = &job.output {
        audio_io::write_wav_atomic(path, &rendered.audio, o.format, o.force)?;
    }
    let after = analyse(&rendered.audio);
    let reference_report = match (reference, &mix_tonal) {
        (Some(reference), Some(mix)) => {
            let (l, r) = rendered.audio.left_right();
            let master = analyse_stereo(l, r, rate as f32);
            let none = vec![None; THIRD_NOMINAL_HZ.len()];
            let mix_delta = mix.third_octave_delta_db(&reference.tonal);
            let master_delta = master
                .as_ref()
                .map_or(none, |m| m.third_octave_delta_db(&reference.tonal));
            Some(ReferenceReport {
                name: ctx.reference_name.clone(),
                integrated_lufs: reference.summary.integrated_lufs,
                loudness_range_lu: reference.summary.loudness_range_lu,
                true_peak_dbtp: reference.summary.true_peak_dbtp,
                plr_db: reference.summary.plr_db,
                bands_hz: THIRD_NOMINAL_HZ.to_vec(),
                mix_rms_difference_db: rms_difference(&THIRD_NOMINAL_HZ, &mix_delta),
                master_rms_difference_db: rms_difference(&THIRD_NOMINAL_HZ, &master_delta),
                mix_minus_reference_db: mix_delta,
                master_minus_reference_db: master_delta,
                tonal_match,
            })
        }
        _ => None,
    };
    let mut warnings = dynamics_warnings(
        &ctx.before[k],
        &after,
        &rendered.gain_reduction,
        reference.map(|r| r.summary.plr_db),
    );
    if let Some(t) = target_report.as_ref().filter(|t| t.held_back_by.is_some()) {
        let why = match t.held_back_by {
            Some(HeldBackBy::DriveRange) if t.clipper_assisted => {
                "the limiter's whole drive range, with the clipper assisting, could not get it there"
            }
            Some(HeldBackBy::DriveRange) => "the limiter's whole drive range could not get it there",
            _ => "to keep its dynamics",
        };
        warnings.push(format!(
            "the target {:.1} LUFS was not reached: the master stays at {:.1} LUFS, {:.1} LU \
             short: {why}",
            t.target_lufs, t.achieved_lufs, -t.error_lu
        ));
        // A reference mastered over the ceiling: its loudness under the ceiling needs a
        // denser master than the reference itself is, which is the reason to say.
        if let Some(r) = reference {
            let over = r.summary.true_peak_dbtp - t.ceiling_dbtp;
            if over > 0.0 && t.error_lu < 0.0 {
                warnings.push(format!(
                    "the reference peaks at {:+.1} dBTP, {over:.1} dB over the {:.1} dBTP \
                     ceiling: its loudness under the ceiling needs a PLR of {:.1} dB, {over:.1} \
                     dB below its own {:.1} dB; the master stops at PLR {:.1} dB",
                    r.summary.true_peak_dbtp,
                    t.ceiling_dbtp,
                    r.summary.plr_db - over,
                    r.summary.plr_db,
                    after.plr_db
                ));
            }
        }
    }
    let report = FileReport {
        name: job.name.clone(),
        output: job.output.as_ref().map(|p| p.display().to_string()),
        sample_rate: rate,
        channels: job.input.channels.len(),
        duration_seconds: job.input.duration_seconds(),
        output_format: o.format.label().into(),
        settings: ctx.settings_source.clone(),
        latency_samples: rendered.latency_samples,
        limiter_drive_db: used.limiter.drive_db,
        output_gain_db: used.output_gain_db,
        before: ctx.before[k],
        after,
        gain_reduction: rendered.gain_reduction,
        target: target_report,
        resampled_from_hz: job.resampled_from_hz,
        reference: reference_report,
        warnings,
    };
    Ok(Mastered {
        report,
        gain_reduction_trace: rendered.gain_reduction_trace,
        master: rendered.audio,
    })
}

/// `eq` with its shelves and bells off (its cuts kept): the match replaces a preset's generic
/// tone, which would otherwise stay on top of it (the master would be the reference plus that
/// tone); the cuts stay and the match's second look works around them.
fn tone_removed(eq: &EqSettings) -> EqSettings {
    let mut eq = *eq;
    eq.low_shelf.enabled = false;
    eq.high_shelf.enabled = false;
    for bell in &mut eq.bells {
        bell.enabled = false;
    }
    eq
}

/// One mastering of a job: a render to the track's loudness target when there is one (the
/// measured search of `render::render_to_target`), else one plain render.
pub(super) fn master_once(
    job: &Song,
    settings: &ChainSettings,
    ab: &AbSettings,
    target: Option<LoudnessTarget>,
    limits: DynamicsLimits,
    bar: &Option<ProgressBar>,
) -> Result<(Rendered, ChainSettings, Option<TargetReport>), OfflineError> {
    let frames = job.input.frames() as u64;
    let Some(track_target) = target else {
        let rendered = render::render(&job.input, settings, ab, &mut |done| {
            if let Some(bar) = bar {
                bar.set_position(done as u64);
            }
        });
        return Ok((rendered, *settings, None));
    };
    let mut last_pass = usize::MAX;
    let TargetedRender {
        rendered,
        settings: used,
        integrated_lufs,
        error_lu,
        target_met,
        passes,
        held_back_by,
        clipper_assisted,
    } = render::render_to_target(
        &job.input,
        settings,
        ab,
        track_target,
        limits,
        &mut |pass, done| {
            if let Some(bar) = bar {
                if pass != last_pass {
                    last_pass = pass;
                    bar.set_message(format!("render {}", pass + 1));
                    bar.set_length(frames);
                }
                bar.set_position(done as u64);
            }
        },
    )
    .map_err(|e| OfflineError {
        path: Some(PathBuf::from(&job.name)),
        ..e
    })?;
    let report = TargetReport {
        target_lufs: track_target.integrated_lufs,
        ceiling_dbtp: track_target.ceiling_dbtp,
        achieved_lufs: integrated_lufs,
        error_lu,
        met: target_met,
        passes,
        held_back_by,
        clipper_assisted,
    };
    Ok((rendered, used, Some(report)))
}

/// Songs are decoded, measured and mastered in parallel across cores (`--jobs`, default all):
/// every step is per song and pure, so the results equal one song after another.
pub(super) fn thread_pool(o: &Options) -> Result<rayon::ThreadPool, OfflineError> {
    let threads = o
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, o.inputs.len().max(1));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| OfflineError::new(format!("cannot start {threads} render threads: {e}")))
}

/// The inputs (or the demo mix), decoded and resampled to the rate they are mastered at (44.1
/// kHz for a CD master, else the nearest chain rate), each with where its master goes (none for
/// a dry run).
pub(super) fn decode_inputs(
    o: &Options,
    pool: &rayon::ThreadPool,
) -> Result<Vec<Song>, OfflineError> {
    let cd = matches!(o.target, Some(TargetSpec::Cd { .. }));
    let prepare = |name: String, read: Audio, output: PathBuf| -> Result<Song, OfflineError> {
        let rate = if cd {
            CD_SAMPLE_RATE_HZ
        } else {
            audio_io::chain_rate_for(read.sample_rate)
        };
        let from = read.sample_rate;
        let input = audio_io::resample_audio(read, rate)
            .map_err(|e| OfflineError::file(Path::new(&name), e))?;
        let resampled_from_hz = (from != rate).then_some(from);
        Ok(Song {
            name,
            input,
            resampled_from_hz,
            output: (!o.dry_run).then_some(output),
        })
    };
    if o.inputs.is_empty() {
        let output = o.output.clone().unwrap_or_else(|| {
            o.out_dir
                .clone()
                .unwrap_or_default()
                .join("fairmaster-demo.master.wav")
        });
        return Ok(vec![prepare(
            "built-in demo mix".into(),
            demo_mix(),
            output,
        )?]);
    }
    pool.install(|| {
        o.inputs
            .par_iter()
            .map(|path| {
                let input = audio_io::read_audio_file(path)?;
                let output = o.output.clone().unwrap_or_else(|| default_output(o, path));
                prepare(path.display().to_string(), input, output)
            })
            .collect()
    })
}

/// The reference, decoded and analysed once per sample rate among the jobs.
pub(super) fn load_references(
    o: &Options,
    jobs: &[Song],
) -> Result<Vec<(u32, LoadedReference)>, OfflineError> {
    let mut references: Vec<(u32, LoadedReference)> = Vec::new();
    if let Some(path) = &o.reference {
        for job in jobs {
            let rate = job.input.sample_rate;
            if !references.iter().any(|(r, _)| *r == rate) {
                references.push((rate, load_reference(o, path, rate)?));
            }
        }
    }
    Ok(references)
}

/// The loudness and ceiling `--target` asks for, with the settings' ceiling where the target
/// names none (and an explicit `--ceiling` over a named target's).
/// The inputs as the mastering job takes them in: each one's figures and integrated loudness,
/// and with a target the loudness each song is mastered to (album balancing for several).
pub(super) struct Measured {
    pub figures: Vec<Analysis>,
    pub input_lufs: Vec<f64>,
    pub track_targets: Option<Vec<f64>>,
}

/// Measures the inputs in parallel and sets their targets (shared by `master` and `analyze`).
pub(super) fn measure_inputs(
    o: &Options,
    pool: &rayon::ThreadPool,
    jobs: &[Song],
    target: Option<LoudnessTarget>,
) -> Measured {
    let (figures, input_lufs): (Vec<Analysis>, Vec<f64>) = pool.install(|| {
        jobs.par_iter()
            .map(|j| (analyse(&j.input), render::integrated_lufs(&j.input)))
            .unzip()
    });
    let track_targets = target.map(|t| {
        if jobs.len() > 1 {
            album::track_targets(&input_lufs, t.integrated_lufs, o.album_mode)
        } else {
            vec![t.integrated_lufs]
        }
    });
    Measured {
        figures,
        input_lufs,
        track_targets,
    }
}

pub(super) fn loudness_target(
    o: &Options,
    settings: &ChainSettings,
    references: &[(u32, LoadedReference)],
) -> Result<Option<LoudnessTarget>, OfflineError> {
    Ok(match o.target {
        None => None,
        Some(TargetSpec::Preset { lufs, ceiling_dbtp })
        | Some(TargetSpec::Cd { lufs, ceiling_dbtp }) => {
            Some(LoudnessTarget {
                integrated_lufs: f64::from(lufs),
                // An explicit --ceiling wins over the named target's.
                ceiling_dbtp: if o.ceiling_dbtp.is_some() {
                    settings.limiter.ceiling_db
                } else {
                    ceiling_dbtp
                },
            })
        }
        Some(TargetSpec::Lufs(lufs)) => Some(LoudnessTarget {
            integrated_lufs: f64::from(lufs),
            ceiling_dbtp: settings.limiter.ceiling_db,
        }),
        Some(TargetSpec::Reference) => {
            let loaded = references
                .first()
                .map(|(_, l)| l)
                .ok_or_else(|| OfflineError::new("--target reference needs --reference FILE"))?;
            Some(LoudnessTarget {
                integrated_lufs: f64::from(loaded.summary.integrated_lufs),
                ceiling_dbtp: settings.limiter.ceiling_db,
            })
        }
    })
}

/// The whole job. Every input is decoded and every output path checked before anything is
/// rendered or written, so a bad input or an existing output fails fast and writes nothing.
pub fn run(o: &Options) -> Result<RunReport, OfflineError> {
    let params = build_settings(o)?;
    let mut settings = params.chain_settings();
    settings.dither.mode = o.format.dither_mode();
    if let Some(shaping) = o.noise_shaping {
        settings.dither.noise_shaping = shaping;
    }
    let ab = params.ab_settings();
    let cd = matches!(o.target, Some(TargetSpec::Cd { .. }));

    let pool = thread_pool(o)?;
    let jobs = decode_inputs(o, &pool)?;
    // The disc's metadata and layout are checked before check_outputs creates --out-dir, so a
    // bad metadata file leaves nothing behind.
    let disc_plan = if cd && (jobs.len() > 1 || o.disc) {
        Some(plan_disc(o, &jobs)?)
    } else {
        None
    };
    check_outputs(o, &jobs)?;
    if let Some(plan) = &disc_plan {
        if let (Some(dir), false) = (&plan.ddp, o.dry_run) {
            if dir.exists() && !o.force {
                return Err(OfflineError::file(
                    dir,
                    "DDP folder exists; pass --force to replace it",
                ));
            }
            // Its parent must exist (or be --out-dir, created above): a typo must not cost
            // the render.
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
            if parent.is_some_and(|p| !p.is_dir()) {
                return Err(OfflineError::file(
                    dir,
                    "the folder it would be made in does not exist",
                ));
            }
        }
        if !o.dry_run {
            for path in [&plan.image, &plan.cue] {
                crate::files::check_output_free(path, o.force)?;
                if jobs
                    .iter()
                    .any(|j| j.output.as_deref() == Some(path.as_path()))
                {
                    return Err(OfflineError::file(
                        path,
                        "a track's master would share this path",
                    ));
                }
            }
        }
    }
    if let (Some(dir), false) = (&o.pack, o.dry_run || o.force) {
        if dir.exists() {
            return Err(OfflineError::file(
                dir,
                "pack folder exists; pass --force to replace it",
            ));
        }
    }

    let references = load_references(o, &jobs)?;
    let reference_name = o
        .reference
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let target = loudness_target(o, &settings, &references)?;

    let Measured {
        figures: before,
        input_lufs,
        track_targets,
    } = measure_inputs(o, &pool, &jobs, target);
    let album_mode = jobs.len() > 1;

    let ctx = JobContext {
        o,
        settings,
        ab,
        target,
        track_targets,
        references,
        reference_name,
        settings_source: params.source.clone(),
        before,
    };
    // One progress bar per song under one MultiProgress; results come back in album order.
    let multi = MultiProgress::new();
    let bars: Vec<Option<ProgressBar>> = jobs
        .iter()
        .map(|j| progress_bar(o, &j.input, &j.name).map(|b| multi.add(b)))
        .collect();
    let results: Vec<Result<Mastered, OfflineError>> = pool.install(|| {
        // One song per work item: songs differ in how many renders their search takes, so
        // idle threads take the next song rather than wait for a pre-split half.
        jobs.par_iter()
            .zip(bars)
            .enumerate()
            .with_max_len(1)
            .map(|(k, (job, bar))| master_job(&ctx, k, job, bar))
            .collect()
    });
    let mastered = results.into_iter().collect::<Result<Vec<Mastered>, _>>()?;
    let masters: Vec<&Audio> = mastered.iter().map(|m| &m.master).collect();
    let JobContext {
        target, references, ..
    } = ctx;

    let album = album_mode.then(|| {
        let files = mastered.iter().map(|m| &m.report);
        let output_lufs: Vec<f64> = files
            .clone()
            .map(|f| {
                f.target
                    .as_ref()
                    .map_or(f64::from(f.after.integrated_lufs), |t| t.achieved_lufs)
            })
            .collect();
        let max_track_error_lu = files
            .filter_map(|f| f.target.as_ref().map(|t| t.error_lu.abs()))
            .fold(0.0, f64::max);
        AlbumSummary {
            mode: o.album_mode,
            target_lufs: target.map_or(f64::NAN, |t| t.integrated_lufs),
            input_spread_lu: album::spread_lu(&input_lufs),
            output_spread_lu: album::spread_lu(&output_lufs),
            max_track_error_lu,
        }
    });

    let mut preview = None;
    if let Some(path) = &o.preview {
        let joined = album::concatenate(&masters).map_err(|e| OfflineError {
            path: Some(path.clone()),
            ..e
        })?;
        if !o.dry_run {
            audio_io::write_wav_atomic(path, &joined, o.format, o.force)?;
            preview = Some(path.display().to_string());
        }
    }
    let disc = match &disc_plan {
        Some(plan) if !o.dry_run => Some(write_disc(o, plan, &masters)?),
        _ => None,
    };
    let mut pack = None;
    if let (Some(dir), false) = (&o.pack, o.dry_run) {
        let names: Vec<String> = jobs.iter().map(|j| song_name(&j.name)).collect();
        let songs: Vec<PackSong> = jobs
            .iter()
            .zip(&mastered)
            .zip(&names)
            .map(|((job, m), name)| PackSong {
                name,
                original: &job.input,
                master: &m.master,
                gain_reduction_trace: &m.gain_reduction_trace,
                warnings: &m.report.warnings,
                target: m
                    .report
                    .target
                    .as_ref()
                    .map(|t| (t.target_lufs, t.ceiling_dbtp)),
            })
            .collect();
        // The reference at the songs' rate, its samples moved out of the analysed track
        // (the jobs are done with it).
        let rate = jobs.first().map(|j| j.input.sample_rate);
        let reference_audio =
            references
                .into_iter()
                .find(|(r, _)| Some(*r) == rate)
                .map(|(sample_rate, loaded)| Audio {
                    sample_rate,
                    channels: vec![loaded.track.left, loaded.track.right],
                });
        let reference_label = o
            .reference
            .as_ref()
            .map(|p| song_name(&p.display().to_string()));
        let reference = reference_audio
            .as_ref()
            .zip(reference_label.as_deref())
            .map(|(audio, name)| (name, audio));
        let options = PackOptions {
            force: o.force,
            ..PackOptions::default()
        };
        write_pack(dir, &songs, reference, &options)?;
        pack = Some(dir.display().to_string());
    }
    Ok(RunReport {
        files: mastered.into_iter().map(|m| m.report).collect(),
        album,
        preview,
        pack,
        disc,
    })
}

/// A song's name for the pack: its file stem.
pub(super) fn song_name(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Existing outputs (without --force), duplicate outputs and an output equal to an input are
/// refused before any work.
pub(super) fn check_outputs(o: &Options, jobs: &[Song]) -> Result<(), OfflineError> {
    let mut seen: Vec<&Path> = Vec::new();
    let preview = if o.dry_run {
        None
    } else {
        o.preview.as_deref()
    };
    for path in jobs
        .iter()
        .filter_map(|j| j.output.as_deref())
        .chain(preview)
    {
        crate::files::check_output_free(path, o.force)?;
        if seen.contains(&path) {
            return Err(OfflineError::file(
                path,
                "two outputs would share this path",
            ));
        }
        if o.inputs.iter().any(|i| i == path) {
            return Err(OfflineError::file(
                path,
                "output would overwrite its own input; choose another output path",
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // --out-dir is created below; any other folder must exist (a typo in -o must not
            // scatter new folders).
            let created = o.out_dir.as_deref().is_some_and(|out| dir.starts_with(out));
            if !dir.is_dir() && !created {
                return Err(OfflineError::file(path, "output directory does not exist"));
            }
        }
        seen.push(path);
    }
    if !o.dry_run {
        create_out_dir(o)?;
    }
    Ok(())
}

/// Files shorter than this render in well under a second: no bar.
pub(super) const PROGRESS_MIN_SECONDS: f64 = 20.0;

pub(super) fn progress_bar(o: &Options, input: &Audio, name: &str) -> Option<ProgressBar> {
    if o.quiet || input.duration_seconds() < PROGRESS_MIN_SECONDS {
        return None;
    }
    // Drawn on stderr, hidden automatically when stderr is not a terminal.
    let bar = ProgressBar::new(input.frames() as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} {msg} [{bar:40}] {percent:>3}% ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(name.to_string());
    bar.set_message("render");
    Some(bar)
}
