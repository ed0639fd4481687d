//! Command-line options of `fairmaster-render` and the whole job ([`run`]): settings, decoding,
//! loudness targets, album balancing, rendering, writing, reporting. The binary is a thin
//! wrapper, so tests drive exactly this code.

use std::path::{Path, PathBuf};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::album::{self, AlbumMode, AlbumSummary};
use super::analysis::analyse;
use super::analysis::{Analysis, GainReductionStats, LIMITING_THRESHOLD_DB};
use super::audio_io::{self, OutputFormat};
use super::cd::{self, CdMetadata, CdTime, CdTrackMetadata, DiscLayout, PcmFormat};
use super::demo::demo_mix;
use super::listen::{render_listening, ListenMode, ListenReport};
use super::pack::{write_pack, PackOptions, PackSong};
use super::render::{self, DynamicsLimits, LoudnessTarget, Rendered, TargetedRender};
use super::report::{
    DiscReport, DiscTrack, FileReport, ReferenceReport, RunReport, TargetReport, TonalMatchReport,
};
use super::{Audio, OfflineError};
use crate::ab::AbSettings;
use crate::analysis::tonal::{analyse_stereo, TonalBalance, THIRD_NOMINAL_HZ};
use crate::analysis::tonal_match::DEFAULT_SMOOTHING_OCTAVES;
use crate::analysis::tonal_match::{
    correction_curve, fit_eq, refine_curve, CorrectionCurve, MatchOptions, MATCH_BANDS,
};
use crate::presets::param_set::{is_builtin_preset, ParamSet};
use crate::reference::align::{align_offset, AlignError, ALIGN_CAPTURE_SECONDS};
use crate::reference::decode::{decode_reference, MAX_REFERENCE_BYTES};
use crate::reference::track::{ReferenceTrack, TrackSummary};
use crate::stages::ChainSettings;
use crate::targets::{CD_DELIVERY, CD_SAMPLE_RATE_HZ, PRESET_TARGETS};
use rayon::prelude::*;

pub const USAGE: &str = "\
fairmaster-render: master audio files offline with the Fairmaster plugin's own engine.

USAGE:
    fairmaster-render [OPTIONS] [INPUT...]

With no INPUT, masters a built-in synthesised demo mix (8 s of drums, bass and chords) to
./fairmaster-demo.master.wav. Inputs: WAV, FLAC or AIFF, mono or stereo, 22.05-384 kHz (rates
outside the chain's 44.1-192 kHz are resampled to the nearest chain rate of their family:
22.05 -> 44.1, 32 -> 48, 352.8 -> 176.4, 384 -> 192 kHz). Several inputs are mastered as an
album (see --album-mode).

SETTINGS (applied in this order):
    --preset NAME|FILE     a factory preset of the editor: neutral, streaming, glue, club,
                           broadcast, reference (the default: the reference master); or
                           'plugin-default' (a fresh insert: limiter only); or a preset file:
                           a user preset saved by the editor, or the JSON format of the docs
    --state FILE           the plugin state saved by the DAW (nice-plug JSON chunk) instead
    --snapshot NAME        with --state: the settings of that state's snapshot NAME (its name
                           in the editor, any case, or its number 1-8) instead of the current ones
    --set ID=VALUE         set any plugin parameter by its ID (repeatable), e.g.
                           --set eq_mode=linear_phase --set comp_ratio=1.5
    --input-gain DB, --output-gain DB, --drive DB, --ceiling DBTP
                           shortcuts for input_gain, output_gain, lim_drive, lim_ceiling

LOUDNESS:
    --target T             spotify | youtube (-14 LUFS, -1 dBTP), apple (-16, -1), club (-9, -0.3),
                           r128 (-23, -1), or a number in LUFS (ceiling from the settings);
                           cd: a Red Book CD master (resampled to 44.1 kHz before the chain,
                           16-bit with the chain's dither last) at -12 LUFS / -0.3 dBTP (no
                           standard sets a CD loudness; see the README), cd:LUFS for another;
                           reference: the --reference track's integrated loudness.
                           The limiter drive is searched so the master hits T within 0.5 LU.
    --preserve-dynamics PLR|drive:DB
                           stop the search at a PLR floor (dB, true peak - integrated) or a
                           limiter drive limit; the report says how far from T it stayed
    --match-eq AMOUNT      with --reference: move the mix's tonal balance toward the
                           reference's by AMOUNT % (0-100) through the linear-phase EQ,
                           bounded to +-6 dB (shelves and bells replaced, cuts kept)
    --match-smoothing OCT  smoothing of the tonal difference, octaves (default 1/3)
    --album-mode MODE      with several inputs: 'relative' (default; keeps the mix's loudness
                           differences, the loudest track hits T) or 'same' (all tracks at T)
    --preview FILE         also write the masters concatenated gaplessly (album preview)

LISTENING (what the plugin plays; one input):
    --listen MODE          master | original | reference: render what the plugin plays with
                           that source selected (realtime semantics, level-matched, the host
                           transport playing from the start), e.g. to check the match with
                           another meter. Written as 32-bit float unless --bits is given.
    --reference FILE       the reference track (WAV, AIFF, FLAC, MP3, Ogg Vorbis, AAC/M4A;
                           resampled to the input's rate); also for --target reference and
                           --match-eq (its --loop region, when given). Listening match mode
                           and platform as plugin parameters:
                           --set reference_match=integrated|short_term|as_streamed,
                           --set reference_platform=spotify|youtube|apple_music|...
    --loop START:END       the reference's loop in seconds (default: the whole track)
    --reference-trim DB    extra reference gain after matching
    --reference-offset S   where the reference sits on the timeline: its frame t + S plays at
                           the mix's t (seconds, as the plugin's Offset field)
    --align                find that offset as the plugin's Align button does: the loudest 4 s
                           of the mix against the reference (+-2 s around --reference-offset,
                           generalised cross-correlation); refused when nothing matches

OUTPUT:
    -o, --output FILE      output file (one input only); default INPUT_DIR/NAME.master.wav
    --out-dir DIR          write NAME.master.wav files into DIR (created when missing)
    --bits 16|24|32f       WAV word length (default 24); 16/24 use the chain's dither
    --noise-shaping, --no-noise-shaping
                           dither noise shaping (default: as in the settings)
    --force                overwrite existing outputs
    --dry-run              render and report, write nothing
    --json                 print the report as JSON on stdout instead of the table
    --quiet                no progress bar
    -h, --help             this text
";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetSpec {
    /// A named delivery target: loudness and ceiling.
    Preset { lufs: f32, ceiling_dbtp: f32 },
    /// A loudness in LUFS; the ceiling comes from the settings.
    Lufs(f32),
    /// A Red Book CD master: 44.1 kHz, 16-bit, dithered, at this loudness and ceiling
    /// ([`CD_DELIVERY`]).
    Cd { lufs: f32, ceiling_dbtp: f32 },
    /// The reference track's integrated loudness (`--reference`); the ceiling from the settings.
    Reference,
}

impl TargetSpec {
    pub fn parse(text: &str) -> Result<Self, String> {
        let preset = |i: usize| Self::Preset {
            lufs: PRESET_TARGETS[i].integrated_lufs,
            ceiling_dbtp: PRESET_TARGETS[i].ceiling_dbtp,
        };
        let loudness = |text: &str| -> Option<f32> {
            let number = text.trim().trim_end_matches("lufs").trim();
            number
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && (-40.0..=0.0).contains(v))
        };
        let t = text.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "spotify" | "youtube" | "streaming" => preset(0),
            "apple" | "apple-music" => preset(1),
            "club" => preset(2),
            "r128" | "ebu" | "broadcast" => preset(3),
            "cd" => Self::Cd {
                lufs: CD_DELIVERY.integrated_lufs,
                ceiling_dbtp: CD_DELIVERY.ceiling_dbtp,
            },
            "reference" | "ref" => Self::Reference,
            _ => {
                if let Some(level) = t.strip_prefix("cd:") {
                    let lufs = loudness(level).ok_or_else(|| {
                        format!(
                            "--target cd:LUFS needs a loudness from -40 to 0 LUFS, got '{text}'"
                        )
                    })?;
                    return Ok(Self::Cd {
                        lufs,
                        ceiling_dbtp: CD_DELIVERY.ceiling_dbtp,
                    });
                }
                match loudness(&t) {
                    Some(v) => Self::Lufs(v),
                    None => {
                        return Err(format!(
                            "unknown target '{text}' (spotify, youtube, apple, club, r128, cd, \
                             cd:LUFS, reference, or a loudness from -40 to 0 LUFS)"
                        ))
                    }
                }
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub out_dir: Option<PathBuf>,
    pub preset: Option<String>,
    pub state: Option<PathBuf>,
    /// `--snapshot NAME`: one of the state's snapshots.
    pub snapshot: Option<String>,
    pub sets: Vec<(String, String)>,
    pub input_gain_db: Option<String>,
    pub output_gain_db: Option<String>,
    pub drive_db: Option<String>,
    pub ceiling_dbtp: Option<String>,
    pub target: Option<TargetSpec>,
    pub format: OutputFormat,
    pub noise_shaping: Option<bool>,
    pub album_mode: AlbumMode,
    pub preview: Option<PathBuf>,
    pub json: bool,
    pub force: bool,
    pub dry_run: bool,
    pub quiet: bool,
    pub listen: Option<ListenMode>,
    pub reference: Option<PathBuf>,
    pub loop_seconds: Option<(f64, f64)>,
    pub reference_trim_db: Option<f32>,
    /// `--bits` was given (a listening render defaults to 32-bit float otherwise).
    pub format_given: bool,
    /// `--match-eq`: how much of the tonal difference to the reference to correct, 0..1.
    pub match_eq: Option<f64>,
    /// `--match-smoothing`: octaves.
    pub match_smoothing_octaves: f64,
    /// `--preserve-dynamics`.
    pub dynamics_limits: DynamicsLimits,
    /// `--reference-offset` (seconds) and `--align` for `--listen`.
    pub reference_offset_seconds: Option<f64>,
    pub align: bool,
    /// `--jobs`: songs mastered at once (default: every core).
    pub jobs: Option<usize>,
    /// `--pack DIR`: the listening pack.
    pub pack: Option<PathBuf>,
    /// `--cd-metadata FILE` and `--cd-image FILE` for an album with `--target cd`.
    pub cd_metadata: Option<PathBuf>,
    pub cd_image: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            output: None,
            out_dir: None,
            preset: None,
            state: None,
            snapshot: None,
            sets: Vec::new(),
            input_gain_db: None,
            output_gain_db: None,
            drive_db: None,
            ceiling_dbtp: None,
            target: None,
            format: OutputFormat::Int24,
            noise_shaping: None,
            album_mode: AlbumMode::Relative,
            preview: None,
            json: false,
            force: false,
            dry_run: false,
            quiet: false,
            listen: None,
            reference: None,
            loop_seconds: None,
            reference_trim_db: None,
            format_given: false,
            match_eq: None,
            match_smoothing_octaves: DEFAULT_SMOOTHING_OCTAVES,
            dynamics_limits: DynamicsLimits::default(),
            reference_offset_seconds: None,
            align: false,
            jobs: None,
            pack: None,
            cd_metadata: None,
            cd_image: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help,
    Render(Box<Options>),
}

/// Parses the arguments after the program name. Errors are usage messages.
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        // `--name=value` or `--name value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "-h" | "--help" => return Ok(Command::Help),
            "-o" | "--output" => o.output = Some(value()?.into()),
            "--out-dir" => o.out_dir = Some(value()?.into()),
            "--preset" => o.preset = Some(value()?),
            "--state" => o.state = Some(value()?.into()),
            "--snapshot" => o.snapshot = Some(value()?),
            "--set" => {
                let v = value()?;
                let (id, val) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--set needs ID=VALUE, got '{v}'"))?;
                o.sets.push((id.trim().to_string(), val.trim().to_string()));
            }
            "--input-gain" => o.input_gain_db = Some(value()?),
            "--output-gain" => o.output_gain_db = Some(value()?),
            "--drive" => o.drive_db = Some(value()?),
            "--ceiling" => o.ceiling_dbtp = Some(value()?),
            "--target" => o.target = Some(TargetSpec::parse(&value()?)?),
            "--bits" => {
                let v = value()?;
                o.format = OutputFormat::parse(&v)
                    .ok_or_else(|| format!("--bits must be 16, 24 or 32f, got '{v}'"))?;
                o.format_given = true;
            }
            "--noise-shaping" => o.noise_shaping = Some(true),
            "--no-noise-shaping" => o.noise_shaping = Some(false),
            "--album-mode" => {
                let v = value()?;
                o.album_mode = AlbumMode::parse(&v)
                    .ok_or_else(|| format!("--album-mode must be relative or same, got '{v}'"))?;
            }
            "--preview" => o.preview = Some(value()?.into()),
            "--listen" => {
                let v = value()?;
                o.listen = Some(ListenMode::parse(&v).ok_or_else(|| {
                    format!("--listen must be master, original or reference, got '{v}'")
                })?);
            }
            "--reference" => o.reference = Some(value()?.into()),
            "--loop" => {
                let v = value()?;
                let parsed = v.split_once(':').and_then(|(a, b)| {
                    let (a, b) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
                    (a.is_finite() && b.is_finite() && a >= 0.0 && b > a).then_some((a, b))
                });
                o.loop_seconds = Some(parsed.ok_or_else(|| {
                    format!("--loop needs START:END in seconds with END > START >= 0, got '{v}'")
                })?);
            }
            "--reference-trim" => {
                let v = value()?;
                let trim = v
                    .trim()
                    .trim_end_matches("dB")
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|t| t.is_finite() && t.abs() <= 24.0);
                o.reference_trim_db = Some(trim.ok_or_else(|| {
                    format!("--reference-trim needs a gain from -24 to 24 dB, got '{v}'")
                })?);
            }
            "--match-eq" => {
                let v = value()?;
                let amount = v
                    .trim()
                    .trim_end_matches('%')
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|a| (0.0..=100.0).contains(a));
                o.match_eq = Some(
                    amount.ok_or_else(|| {
                        format!("--match-eq needs an amount from 0 to 100 %, got '{v}'")
                    })? / 100.0,
                );
            }
            "--match-smoothing" => {
                let v = value()?;
                let octaves = match v.trim().split_once('/') {
                    Some((a, b)) => a
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .zip(b.trim().parse::<f64>().ok())
                        .map(|(a, b)| a / b),
                    None => v.trim().parse::<f64>().ok(),
                }
                .filter(|x| x.is_finite() && (0.0..=2.0).contains(x));
                o.match_smoothing_octaves = octaves.ok_or_else(|| {
                    format!("--match-smoothing needs 0 to 2 octaves (e.g. 1/3 or 0.5), got '{v}'")
                })?;
            }
            "--preserve-dynamics" => {
                let v = value()?;
                let t = v.trim().to_ascii_lowercase();
                let number = |x: &str| x.trim().trim_end_matches("db").trim().parse::<f32>().ok();
                if let Some(drive) = t.strip_prefix("drive:") {
                    o.dynamics_limits.max_drive_db = Some(
                        number(drive)
                            .filter(|d| (0.0..=24.0).contains(d))
                            .ok_or_else(|| {
                                format!("--preserve-dynamics drive:DB needs 0 to 24 dB, got '{v}'")
                            })?,
                    );
                } else {
                    let plr = t.strip_prefix("plr:").unwrap_or(&t);
                    o.dynamics_limits.min_plr_db = Some(
                        number(plr)
                            .filter(|p| (3.0..=30.0).contains(p))
                            .ok_or_else(|| {
                                format!(
                                    "--preserve-dynamics needs a PLR floor from 3 to 30 dB \
                                     (e.g. 10) or drive:DB, got '{v}'"
                                )
                            })?,
                    );
                }
            }
            "--reference-offset" => {
                let v = value()?;
                o.reference_offset_seconds = Some(
                    v.trim()
                        .trim_end_matches('s')
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && x.abs() <= 3600.0)
                        .ok_or_else(|| {
                            format!("--reference-offset needs seconds within +-3600, got '{v}'")
                        })?,
                );
            }
            "--align" => o.align = true,
            "--jobs" | "-j" => {
                let v = value()?;
                o.jobs = Some(
                    v.trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=256).contains(n))
                        .ok_or_else(|| format!("--jobs needs a count from 1 to 256, got '{v}'"))?,
                );
            }
            "--pack" => o.pack = Some(value()?.into()),
            "--cd-metadata" => o.cd_metadata = Some(value()?.into()),
            "--cd-image" => o.cd_image = Some(value()?.into()),
            "--json" => o.json = true,
            "--force" => o.force = true,
            "--dry-run" => o.dry_run = true,
            "--quiet" | "-q" => o.quiet = true,
            _ if arg.starts_with('-') && arg.len() > 1 => {
                return Err(format!("unknown option '{arg}' (see --help)"))
            }
            _ => o.inputs.push(arg.into()),
        }
        i += 1;
    }
    if o.preset.is_some() && o.state.is_some() {
        return Err("--preset and --state are alternatives; give one".into());
    }
    if o.snapshot.is_some() && o.state.is_none() {
        return Err("--snapshot picks a snapshot of a plugin state: give --state FILE".into());
    }
    if o.output.is_some() && o.inputs.len() > 1 {
        return Err("--output takes one input; use --out-dir for several".into());
    }
    if o.output.is_some() && o.out_dir.is_some() {
        return Err("--output and --out-dir are alternatives; give one".into());
    }
    if (o.align || o.reference_offset_seconds.is_some())
        && !(o.listen.is_some() && o.reference.is_some())
    {
        return Err(
            "--align and --reference-offset place the reference for --listen: give \
                    --listen MODE and --reference FILE"
                .into(),
        );
    }
    match o.listen {
        Some(mode) => {
            if o.inputs.len() != 1 {
                return Err("--listen renders one input".into());
            }
            if mode == ListenMode::Reference && o.reference.is_none() {
                return Err("--listen reference needs --reference FILE".into());
            }
            if o.target.is_some() || o.preview.is_some() {
                return Err(
                    "--listen renders what the plugin plays with the settings as \
                            given; --target and --preview do not apply"
                        .into(),
                );
            }
        }
        None => {
            let needs_reference = o.target == Some(TargetSpec::Reference) || o.match_eq.is_some();
            if needs_reference && o.reference.is_none() {
                return Err("--target reference and --match-eq need --reference FILE".into());
            }
            if o.reference.is_some() && !needs_reference && o.pack.is_none() {
                return Err(
                    "--reference without --listen is for mastering toward it or listening \
                     against it: give --target reference, --match-eq AMOUNT or --pack DIR"
                        .into(),
                );
            }
        }
    }
    let cd_album = matches!(o.target, Some(TargetSpec::Cd { .. })) && o.inputs.len() > 1;
    if (o.cd_metadata.is_some() || o.cd_image.is_some()) && !cd_album {
        return Err(
            "--cd-metadata and --cd-image describe the disc image of an album: give several \
             inputs and --target cd"
                .into(),
        );
    }
    if o.pack.is_some() && o.listen.is_some() {
        return Err("--pack goes with a mastering job, not with --listen".into());
    }
    if let Some(TargetSpec::Cd { .. }) = o.target {
        if o.format_given && o.format != OutputFormat::Int16 {
            return Err(format!(
                "--target cd writes a Red Book master, which is 16-bit ({} asked): drop --bits \
                 or give --bits 16",
                o.format.label()
            ));
        }
        o.format = OutputFormat::Int16;
    }
    Ok(Command::Render(Box::new(o)))
}

/// The `--listen` job: decode the input (and the reference, at the input's rate), render what
/// the plugin plays in that mode, write it.
pub fn run_listen(o: &Options) -> Result<ListenReport, OfflineError> {
    let mode = o
        .listen
        .ok_or_else(|| OfflineError::new("no --listen mode given"))?;
    let params = build_settings(o)?;
    let path = o
        .inputs
        .first()
        .ok_or_else(|| OfflineError::new("--listen renders one input"))?;
    let read = audio_io::read_audio_file(path)?;
    // What the plugin plays runs at a chain rate: other rates are resampled as for mastering.
    let rate = audio_io::chain_rate_for(read.sample_rate);
    let input = audio_io::resample_audio(read, rate).map_err(|e| OfflineError::file(path, e))?;
    let format = if o.format_given {
        o.format
    } else {
        OutputFormat::Float32
    };
    // What the plugin plays includes its own dither settings; only an explicit --bits
    // changes them (to the word length written).
    let mut chain = params.chain_settings();
    if o.format_given {
        chain.dither.mode = format.dither_mode();
    }
    if let Some(shaping) = o.noise_shaping {
        chain.dither.noise_shaping = shaping;
    }
    let ab = params.ab_settings();
    let output = if o.dry_run {
        None
    } else {
        Some(o.output.clone().unwrap_or_else(|| {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "output".into());
            let name = format!("{stem}.heard-{}.wav", format!("{mode:?}").to_lowercase());
            match &o.out_dir {
                Some(dir) => dir.join(name),
                None => path.with_file_name(name),
            }
        }))
    };
    if let Some(out) = &output {
        crate::files::check_output_free(out, o.force)?;
        create_out_dir(o)?;
    }
    let track = match &o.reference {
        Some(reference) => {
            let decoded = crate::reference::decode::decode_reference(
                reference,
                input.sample_rate,
                crate::reference::decode::MAX_REFERENCE_BYTES,
            )
            .map_err(|e| OfflineError::file(&e.path, e.reason))?;
            Some(std::sync::Arc::new(
                crate::reference::track::ReferenceTrack::analyse(decoded, reference.clone()),
            ))
        }
        None => None,
    };
    let mut reference_settings = params.params().reference_settings();
    let slot = reference_settings.slot;
    if let Some((start, end)) = o.loop_seconds {
        reference_settings.slots[slot].loop_start_seconds = start;
        reference_settings.slots[slot].loop_end_seconds = end;
    }
    if let Some(trim) = o.reference_trim_db {
        reference_settings.slots[slot].trim_db = trim;
    }
    if let Some(offset) = o.reference_offset_seconds {
        reference_settings.slots[slot].offset_seconds = offset;
    }
    let mut align_coherence = None;
    if let (true, Some(t)) = (o.align, &track) {
        let (offset, coherence) =
            align_from_loudest_section(&input, t, reference_settings.slots[slot].offset_seconds)
                .map_err(|e| {
                    OfflineError::file(o.reference.as_deref().unwrap_or(path), e.to_string())
                })?;
        reference_settings.slots[slot].offset_seconds = offset;
        align_coherence = Some(coherence);
    }
    let loop_lufs = track.as_ref().map(|t| {
        let mut player = crate::reference::playback::ReferencePlayer::new();
        player.reset(t.sample_rate);
        player.set(&reference_settings);
        player.install(slot, Some(t.clone()));
        player
            .loudness(0, 0)
            .map_or(f32::NEG_INFINITY, |l| l.loop_integrated_lufs)
    });
    let has_reference = track.is_some();
    let heard = render_listening(&input, &chain, &ab, mode, track, &reference_settings);
    if let Some(out) = &output {
        audio_io::write_wav_atomic(out, &heard.audio, format, o.force)?;
    }
    let mut report = ListenReport::new(mode, output.map(|p| p.display().to_string()), &heard);
    report.reference_loop_lufs = loop_lufs;
    if has_reference {
        report.reference_offset_seconds = Some(reference_settings.slots[slot].offset_seconds);
        report.align_coherence = align_coherence;
    }
    Ok(report)
}

/// `--align`: the plugin's Align button offline (`reference::align::align_offset`). The
/// capture is the mix's loudest 4 s (by mean square, in 0.5 s steps), so an intro's silence or
/// count-in cannot make the match fail. Returns the offset in seconds and the coherence.
fn align_from_loudest_section(
    input: &Audio,
    track: &ReferenceTrack,
    current_offset_seconds: f64,
) -> Result<(f64, f32), AlignError> {
    let fs = f64::from(input.sample_rate);
    let (left, right) = input.left_right();
    let mono: Vec<f32> = left.iter().zip(right).map(|(l, r)| 0.5 * (l + r)).collect();
    let len = ((ALIGN_CAPTURE_SECONDS * fs) as usize).min(mono.len());
    let step = ((0.5 * fs) as usize).max(1);
    let energy = |start: usize| -> f64 {
        mono[start..start + len]
            .iter()
            .map(|x| f64::from(*x) * f64::from(*x))
            .sum()
    };
    let start = (0..=mono.len() - len)
        .step_by(step)
        .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
        .unwrap_or(0);
    let current = (current_offset_seconds * fs).round() as i64;
    let (offset, coherence) =
        align_offset(track, start as i64, &mono[start..start + len], current)?;
    Ok((offset as f64 / fs, coherence))
}

/// One job: a decoded input (at the rate it is mastered at), its name and where its master goes.
struct Job {
    name: String,
    input: Audio,
    /// The file's own rate when `input` was resampled.
    resampled_from_hz: Option<u32>,
    output: Option<PathBuf>,
}

/// The reference of `--target reference` / `--match-eq`, analysed by the plugin's own
/// reference loader at one sample rate.
struct LoadedReference {
    track: ReferenceTrack,
    tonal: TonalBalance,
    summary: TrackSummary,
}

fn load_reference(o: &Options, path: &Path, rate: u32) -> Result<LoadedReference, OfflineError> {
    let decoded = decode_reference(path, rate, MAX_REFERENCE_BYTES)
        .map_err(|e| OfflineError::file(&e.path, e.reason))?;
    let track = ReferenceTrack::analyse(decoded, path.to_path_buf());
    let (tonal, summary) = match o.loop_seconds {
        Some((start, end)) => {
            let fs = f64::from(rate);
            let frames = track.left.len();
            let (a, b) = (
                ((start * fs) as usize).min(frames),
                ((end * fs) as usize).min(frames),
            );
            let region = Audio {
                sample_rate: rate,
                channels: vec![track.left[a..b].to_vec(), track.right[a..b].to_vec()],
            };
            let measured = analyse(&region);
            (
                track.tonal.balance_between(start, end),
                TrackSummary {
                    duration_seconds: region.duration_seconds(),
                    integrated_lufs: measured.integrated_lufs,
                    loudness_range_lu: measured.loudness_range_lu,
                    true_peak_dbtp: measured.true_peak_dbtp,
                    plr_db: measured.plr_db,
                },
            )
        }
        None => (track.tonal.balance(), track.summary),
    };
    let tonal = tonal.ok_or_else(|| {
        OfflineError::file(
            path,
            "the reference (or its --loop region) has no audio above the loudness gate",
        )
    })?;
    if !summary.integrated_lufs.is_finite() {
        return Err(OfflineError::file(
            path,
            "the reference has no audio above the BS.1770 gate (-70 LUFS)",
        ));
    }
    Ok(LoadedReference {
        track,
        tonal,
        summary,
    })
}

/// The band range the report's RMS tonal difference covers: where the tonal view is reliable
/// for any programme (see `analysis::tonal`).
const RMS_DIFFERENCE_HZ: (f64, f64) = (40.0, 12_500.0);

fn rms_difference(bands_hz: &[f64], deltas: &[Option<f64>]) -> f64 {
    let (lo, hi) = RMS_DIFFERENCE_HZ;
    let values: Vec<f64> = bands_hz
        .iter()
        .zip(deltas)
        .filter(|(f, _)| (lo..=hi).contains(*f))
        .filter_map(|(_, d)| *d)
        .collect();
    (values.iter().map(|d| d * d).sum::<f64>() / values.len().max(1) as f64).sqrt()
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

/// Builds the parameter set from `--preset`/`--state`, `--set` and the shortcut flags.
pub fn build_settings(o: &Options) -> Result<Box<ParamSet>, OfflineError> {
    let mut set = match (&o.state, &o.preset) {
        (Some(state), _) => ParamSet::from_state_file(state)?,
        (None, Some(preset)) if is_builtin_preset(preset) => ParamSet::builtin(preset)?,
        (None, Some(file)) => ParamSet::from_preset_file(Path::new(file))?,
        (None, None) => ParamSet::builtin("reference")?,
    };
    if let (Some(name), Some(state)) = (&o.snapshot, &o.state) {
        // The state load restored its snapshots into the set's parameters; the snapshot's
        // values replace the current ones (the listening controls stay the state's).
        let snapshot = set
            .params()
            .snapshots
            .0
            .find(name)
            .map_err(|e| OfflineError::file(state, e))?;
        set.apply_values(&snapshot.params).map_err(|e| {
            OfflineError::file(state, format!("snapshot \"{}\": {e}", snapshot.name))
        })?;
        set.source = format!("snapshot \"{}\" of {}", snapshot.name, set.source);
    }
    for (id, value) in &o.sets {
        set.set_text(id, value)
            .map_err(|e| OfflineError::new(format!("--set {id}={value}: {e}")))?;
    }
    for (flag, id, value) in [
        ("--input-gain", "input_gain", &o.input_gain_db),
        ("--output-gain", "output_gain", &o.output_gain_db),
        ("--drive", "lim_drive", &o.drive_db),
        ("--ceiling", "lim_ceiling", &o.ceiling_dbtp),
    ] {
        if let Some(v) = value {
            set.set_text(id, v)
                .map_err(|e| OfflineError::new(format!("{flag} {v}: {e}")))?;
        }
    }
    Ok(set)
}

fn default_output(o: &Options, input: &Path) -> PathBuf {
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
struct JobContext<'a> {
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
struct Mastered {
    report: FileReport,
    master: Audio,
    gain_reduction_trace: Vec<[f32; 2]>,
}

/// Masters job `k`: the tonal match when asked, the render (to its target), the write, the
/// measurements and the dynamics verdict.
fn master_job(
    ctx: &JobContext,
    k: usize,
    job: &Job,
    bar: Option<ProgressBar>,
) -> Result<Mastered, OfflineError> {
    let o = ctx.o;
    let rate = job.input.sample_rate;
    let reference = ctx.reference_at(rate);
    // The tonal match (`--match-eq`): the mix's balance against the reference's, fitted
    // into the chain's EQ, run linear phase (the match must not smear phase).
    let mix_tonal = reference.and_then(|_| {
        let (l, r) = job.input.left_right();
        analyse_stereo(l, r, rate as f32)
    });
    let settings = ctx.settings;
    let ab = ctx.ab;
    let mut job_settings = settings;
    let mut tonal_match = None;
    let mut match_plan = None;
    if let (Some(amount), Some(reference), Some(mix)) = (o.match_eq, reference, &mix_tonal) {
        let options = MatchOptions {
            amount,
            smoothing_octaves: o.match_smoothing_octaves,
        };
        let curve = correction_curve(mix, &reference.tonal, options);
        let fitted = fit_eq(&settings.eq, &curve, f64::from(rate));
        job_settings.eq = fitted.eq;
        job_settings.eq_enabled = true;
        job_settings.eq_linear_phase = true;
        let report = TonalMatchReport {
            amount,
            smoothing_octaves: o.match_smoothing_octaves,
            bands_hz: MATCH_BANDS.iter().map(|b| b.freq_hz).collect(),
            gains_db: fitted.gains_db.to_vec(),
            fit_rms_error_db: fitted.rms_error_db,
            fit_max_error_db: fitted.max_error_db,
        };
        tonal_match = Some(report.clone());
        match_plan = Some(MatchPlan { curve, report });
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
    if let (Some(plan), Some(_), Some(mix)) = (&match_plan, reference, &mix_tonal) {
        let (l, r) = rendered.audio.left_right();
        if let Some(first) = analyse_stereo(l, r, rate as f32) {
            let curve = refine_curve(
                &plan.curve,
                mix,
                &first,
                &settings.eq,
                f64::from(rate),
                o.match_smoothing_octaves,
            );
            let fitted = fit_eq(&settings.eq, &curve, f64::from(rate));
            let mut second = job_settings;
            second.eq = fitted.eq;
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
            tonal_match = Some(TonalMatchReport {
                gains_db: fitted.gains_db.to_vec(),
                fit_rms_error_db: fitted.rms_error_db,
                fit_max_error_db: fitted.max_error_db,
                ..plan.report.clone()
            });
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
        warnings.push(format!(
            "the target {:.1} LUFS was not reached: the master stays at {:.1} LUFS, {:.1} LU \
             short, to keep its dynamics",
            t.target_lufs, t.achieved_lufs, -t.error_lu
        ));
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

/// The first fit of `--match-eq`, kept for the second look.
struct MatchPlan {
    curve: CorrectionCurve,
    report: TonalMatchReport,
}

/// One mastering of a job: a render to the track's loudness target when there is one (the
/// measured search of `render::render_to_target`), else one plain render.
fn master_once(
    job: &Job,
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
    };
    Ok((rendered, used, Some(report)))
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

    // Songs are decoded, measured and mastered in parallel across cores (`--jobs`, default
    // all): every step is per song and pure, so the results equal one song after another.
    let threads = o
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, o.inputs.len().max(1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| OfflineError::new(format!("cannot start {threads} render threads: {e}")))?;
    let prepare = |name: String, read: Audio, output: PathBuf| -> Result<Job, OfflineError> {
        let rate = if cd {
            CD_SAMPLE_RATE_HZ
        } else {
            audio_io::chain_rate_for(read.sample_rate)
        };
        let from = read.sample_rate;
        let input = audio_io::resample_audio(read, rate)
            .map_err(|e| OfflineError::file(Path::new(&name), e))?;
        let resampled_from_hz = (from != rate).then_some(from);
        Ok(Job {
            name,
            input,
            resampled_from_hz,
            output: (!o.dry_run).then_some(output),
        })
    };
    let jobs: Vec<Job> = if o.inputs.is_empty() {
        let output = o.output.clone().unwrap_or_else(|| {
            o.out_dir
                .clone()
                .unwrap_or_default()
                .join("fairmaster-demo.master.wav")
        });
        vec![prepare("built-in demo mix".into(), demo_mix(), output)?]
    } else {
        pool.install(|| {
            o.inputs
                .par_iter()
                .map(|path| {
                    let input = audio_io::read_audio_file(path)?;
                    let output = o.output.clone().unwrap_or_else(|| default_output(o, path));
                    prepare(path.display().to_string(), input, output)
                })
                .collect::<Result<Vec<Job>, OfflineError>>()
        })?
    };
    check_outputs(o, &jobs)?;
    let disc_plan = if cd && jobs.len() > 1 {
        let plan = plan_disc(o, &jobs)?;
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
        Some(plan)
    } else {
        None
    };
    if let (Some(dir), false) = (&o.pack, o.dry_run || o.force) {
        if dir.exists() {
            return Err(OfflineError::file(
                dir,
                "pack folder exists; pass --force to replace it",
            ));
        }
    }

    // The reference, decoded and analysed once per sample rate among the jobs.
    let mut references: Vec<(u32, LoadedReference)> = Vec::new();
    if let Some(path) = &o.reference {
        for job in &jobs {
            let rate = job.input.sample_rate;
            if !references.iter().any(|(r, _)| *r == rate) {
                references.push((rate, load_reference(o, path, rate)?));
            }
        }
    }
    let reference_name = o
        .reference
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();

    let target = match o.target {
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
    };

    let (before, input_lufs): (Vec<Analysis>, Vec<f64>) = pool.install(|| {
        jobs.par_iter()
            .map(|j| (analyse(&j.input), render::integrated_lufs(&j.input)))
            .unzip()
    });
    let album_mode = jobs.len() > 1;
    let track_targets: Option<Vec<f64>> = target.map(|t| {
        if album_mode {
            album::track_targets(&input_lufs, t.integrated_lufs, o.album_mode)
        } else {
            vec![t.integrated_lufs]
        }
    });

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
fn song_name(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
}

/// The disc image of an album with `--target cd`, laid out and checked before any render.
struct DiscPlan {
    layout: DiscLayout,
    metadata: CdMetadata,
    image: PathBuf,
    cue: PathBuf,
}

/// Lays the album out on CD frames from the inputs' lengths (a render keeps its input's
/// length), reads the metadata and refuses a disc that breaks the Red Book, naming each
/// violation, before any render.
fn plan_disc(o: &Options, jobs: &[Job]) -> Result<DiscPlan, OfflineError> {
    let lengths: Vec<usize> = jobs.iter().map(|j| j.input.frames()).collect();
    let metadata = match &o.cd_metadata {
        Some(path) => cd::read_metadata(path, jobs.len())?,
        // No metadata file: no CD-Text and no ISRCs, the default pregaps.
        None => CdMetadata {
            title: String::new(),
            performer: String::new(),
            tracks: (0..jobs.len())
                .map(|i| CdTrackMetadata {
                    title: String::new(),
                    performer: String::new(),
                    isrc: None,
                    pregap: CdTime::from_cd_frames(if i == 0 {
                        0
                    } else {
                        cd::DEFAULT_PREGAP_CD_FRAMES
                    }),
                })
                .collect(),
        },
    };
    let layout = cd::layout_disc(&lengths, &metadata.pregap_cd_frames(), PcmFormat::RED_BOOK);
    let violations = cd::check_red_book(&layout);
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
        return Err(OfflineError::new(format!(
            "this album cannot be a Red Book CD: {}",
            list.join("; ")
        )));
    }
    let image = o.cd_image.clone().unwrap_or_else(|| {
        let dir = o.out_dir.clone().unwrap_or_else(|| {
            o.inputs
                .first()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_default()
        });
        dir.join("album.cd.wav")
    });
    let cue = image.with_extension("cue");
    Ok(DiscPlan {
        layout,
        metadata,
        image,
        cue,
    })
}

/// Writes the disc image (16-bit, the tracks bit for bit) and its CUE sheet (Latin-1).
fn write_disc(
    o: &Options,
    plan: &DiscPlan,
    masters: &[&Audio],
) -> Result<DiscReport, OfflineError> {
    let image = cd::disc_image(masters, &plan.layout);
    let file_name = plan
        .image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sheet = cd::cue_sheet(&plan.layout, &plan.metadata, &file_name)?;
    let bytes = cd::latin1_bytes(&sheet)
        .ok_or_else(|| OfflineError::file(&plan.cue, "the CUE sheet is not Latin-1"))?;
    audio_io::write_wav_atomic(&plan.image, &image, OutputFormat::Int16, o.force)?;
    crate::files::write_bytes_atomic(&plan.cue, &bytes, o.force)?;
    Ok(DiscReport {
        image: plan.image.display().to_string(),
        cue: plan.cue.display().to_string(),
        tracks: plan
            .layout
            .tracks
            .iter()
            .map(|t| DiscTrack {
                number: t.number,
                index_01: t.index_01.to_string(),
                length: t.length.to_string(),
            })
            .collect(),
        playing_time: plan.layout.program_length().to_string(),
    })
}

/// Existing outputs (without --force), duplicate outputs and an output equal to an input are
/// refused before any work.
fn check_outputs(o: &Options, jobs: &[Job]) -> Result<(), OfflineError> {
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

/// Creates `--out-dir` (and its parents) when missing, as `mkdir -p` would.
fn create_out_dir(o: &Options) -> Result<(), OfflineError> {
    match &o.out_dir {
        Some(dir) if !dir.is_dir() => std::fs::create_dir_all(dir)
            .map_err(|e| OfflineError::file(dir, format!("cannot create output folder: {e}"))),
        _ => Ok(()),
    }
}

/// Files shorter than this render in well under a second: no bar.
const PROGRESS_MIN_SECONDS: f64 = 20.0;

fn progress_bar(o: &Options, input: &Audio, name: &str) -> Option<ProgressBar> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_targets() {
        assert_eq!(
            TargetSpec::parse("spotify").unwrap(),
            TargetSpec::Preset {
                lufs: -14.0,
                ceiling_dbtp: -1.0
            }
        );
        assert_eq!(
            TargetSpec::parse("cd").unwrap(),
            TargetSpec::Cd {
                lufs: -12.0,
                ceiling_dbtp: -0.3
            }
        );
        assert_eq!(
            TargetSpec::parse("cd:-10").unwrap(),
            TargetSpec::Cd {
                lufs: -10.0,
                ceiling_dbtp: -0.3
            }
        );
        assert!(TargetSpec::parse("cd:loud").is_err());
        assert_eq!(
            TargetSpec::parse("club").unwrap(),
            TargetSpec::Preset {
                lufs: -9.0,
                ceiling_dbtp: -0.3
            }
        );
        assert_eq!(
            TargetSpec::parse("reference").unwrap(),
            TargetSpec::Reference
        );
        assert_eq!(TargetSpec::parse("-11.5").unwrap(), TargetSpec::Lufs(-11.5));
        assert_eq!(
            TargetSpec::parse("-10 LUFS").unwrap(),
            TargetSpec::Lufs(-10.0)
        );
        assert!(TargetSpec::parse("loud").is_err());
        assert!(TargetSpec::parse("5").is_err());
    }

    #[test]
    fn parses_options() {
        let Command::Render(o) = parse_args(&args(&[
            "a.wav",
            "--target=-12",
            "--bits",
            "16",
            "--set",
            "eq_mode=linear_phase",
            "--album-mode",
            "same",
            "b.flac",
            "--force",
        ]))
        .unwrap() else {
            panic!("not a render")
        };
        assert_eq!(
            o.inputs,
            vec![PathBuf::from("a.wav"), PathBuf::from("b.flac")]
        );
        assert_eq!(o.target, Some(TargetSpec::Lufs(-12.0)));
        assert_eq!(o.format, OutputFormat::Int16);
        assert_eq!(o.sets, vec![("eq_mode".into(), "linear_phase".into())]);
        assert_eq!(o.album_mode, AlbumMode::Same);
        assert!(o.force);
        assert_eq!(parse_args(&args(&["-h"])).unwrap(), Command::Help);
        assert!(parse_args(&args(&["--bogus"])).is_err());
        assert!(parse_args(&args(&["--target"])).is_err());
        assert!(parse_args(&args(&["a.wav", "b.wav", "-o", "x.wav"])).is_err());
        assert!(parse_args(&args(&["--preset", "reference", "--state", "s.json"])).is_err());
        // A CD master is 16-bit; asking for 24 is refused, nothing given means 16.
        assert!(parse_args(&args(&["a.wav", "--target", "cd", "--bits", "24"])).is_err());
        let Command::Render(o) = parse_args(&args(&["a.wav", "--target", "cd"])).unwrap() else {
            panic!("not a render")
        };
        assert_eq!(o.format, OutputFormat::Int16);
        // Mastering toward a reference needs one; a reference needs a job.
        assert!(parse_args(&args(&["a.wav", "--target", "reference"])).is_err());
        assert!(parse_args(&args(&["a.wav", "--reference", "r.flac"])).is_err());
        let Command::Render(o) = parse_args(&args(&[
            "a.wav",
            "--reference",
            "r.flac",
            "--target",
            "reference",
            "--match-eq",
            "50%",
            "--match-smoothing",
            "1/6",
            "--preserve-dynamics",
            "10",
        ]))
        .unwrap() else {
            panic!("not a render")
        };
        assert_eq!(o.match_eq, Some(0.5));
        assert!((o.match_smoothing_octaves - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(o.dynamics_limits.min_plr_db, Some(10.0));
        let Command::Render(o) =
            parse_args(&args(&["a.wav", "--preserve-dynamics", "drive:6"])).unwrap()
        else {
            panic!("not a render")
        };
        assert_eq!(o.dynamics_limits.max_drive_db, Some(6.0));
        assert!(parse_args(&args(&["a.wav", "--preserve-dynamics", "1"])).is_err());
        assert!(parse_args(&args(&[
            "a.wav",
            "--match-eq",
            "150",
            "--reference",
            "r.wav"
        ]))
        .is_err());
    }
}
