//! The command line, on `clap`: the subcommands (`master`, the default, `listen`, `analyze`,
//! `pack`, `vinyl`), their options and values, parsed into [`Options`], the plain job description the
//! jobs run, and the checks across options.
//!
//! The default subcommand: when the first argument names no subcommand (nor `-h`, `--help`,
//! `-V`, `--version`), the whole command line is a `master` job, so every invocation written
//! before the subcommands existed still works. Only the *first* argument can name a
//! subcommand: `fairmaster-render mix.wav listen` masters two files, `mix.wav` and `listen`. An
//! input file named like a subcommand goes after an explicit `master`
//! (`fairmaster-render master listen`), with a path (`./listen`) or after `--`
//! (`fairmaster-render -- listen`). `--listen MODE` stays the listening job beside the `listen`
//! subcommand. Values may start with `-` (`--target -12`, `--input-gain -3`).

use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};

use super::values::*;
use crate::analysis::tonal_match::{MatchOptions, DEFAULT_BOUND_DB, DEFAULT_SMOOTHING_OCTAVES};
use crate::offline::album::AlbumMode;
use crate::offline::audio_io::OutputFormat;
use crate::offline::listen::ListenMode;
use crate::offline::render::DynamicsLimits;

/// The subcommands' names: a first argument equal to one of them is that job, any other is an
/// input (or option) of the default `master` job. (`help` is clap's: `help listen`.)
pub const SUBCOMMANDS: &[&str] = &[
    "master",
    "listen",
    "analyze",
    "pack",
    "disc",
    "vinyl",
    "completions",
    "help",
];

const ABOUT: &str = "Master audio files offline with the Fairmaster plugin's own engine";

const LONG_ABOUT: &str = "\
Master audio files offline with the Fairmaster plugin's own engine.

With no INPUT, masters a built-in synthesised demo mix (8 s of drums, bass and chords) to
./fairmaster-demo.master.wav. Inputs: WAV, FLAC or AIFF, mono or stereo, 22.05-384 kHz (rates
outside the chain's 44.1-192 kHz are resampled to the nearest chain rate of their family:
22.05 -> 44.1, 32 -> 48, 352.8 -> 176.4, 384 -> 192 kHz). Several inputs are mastered as an
album (see --album-mode).";

const DEFAULT_SUBCOMMAND_HELP: &str = "\
With no subcommand, the command line is a `master` job: `fairmaster-render mix.wav --target
spotify` is `fairmaster-render master mix.wav --target spotify`. Only the first argument can
name a subcommand; an input file named like one goes after `master` (`fairmaster-render master
listen`), with a path (`./listen`) or after `--`. `--listen MODE` is the `listen` job.
Values may start with '-': `--target -12`, `--input-gain -3`.";

#[derive(Parser, Debug)]
#[command(
    name = "fairmaster-render",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = DEFAULT_SUBCOMMAND_HELP,
    // The default subcommand: options and inputs without a subcommand are `master`'s, and
    // once one is given no subcommand name is recognised.
    args_conflicts_with_subcommands = true,
    // A repeated option: the last one counts (as before clap).
    args_override_self = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    job: Option<JobCommand>,
    #[command(flatten)]
    master: MasterArgs,
}

#[derive(Subcommand, Debug)]
enum JobCommand {
    /// Master INPUTs (the default: the subcommand a command line without one runs).
    #[command(
        long_about = LONG_ABOUT,
        max_term_width = 100
    )]
    Master(MasterArgs),
    /// Render what the plugin plays with MODE selected (as --listen MODE).
    #[command(
        long_about = "Render what the plugin plays with MODE selected: the master, the \
                      level-matched original, or the level-matched reference (realtime \
                      semantics, the host transport playing from the start), e.g. to check the \
                      match with another meter. Written as 32-bit float unless --bits is \
                      given; by default to INPUT_DIR/NAME.heard-MODE.wav. The same job as \
                      `fairmaster-render INPUT --listen MODE`.",
        max_term_width = 100
    )]
    Listen(ListenArgs),
    /// Measure INPUTs and report, without rendering or writing anything.
    #[command(
        long_about = "Measure INPUTs and report, without rendering or writing anything: \
                      integrated loudness, loudness range, true and sample peak and PLR of each \
                      input as the mastering job would take it in (decoded and resampled the \
                      same way); with --target the gain each song needs to reach it and where \
                      its peaks would then sit against the ceiling; with --reference the \
                      reference's figures and the third-octave tonal difference mix - \
                      reference; with several inputs the album's loudness spread. With no \
                      INPUT, the built-in demo mix.",
        max_term_width = 100
    )]
    Analyze(AnalyzeArgs),
    /// Master INPUTs and write the listening pack into DIR (as --pack DIR).
    #[command(
        long_about = "Master INPUTs (as `master`, with all its options) and write the \
                      listening pack into DIR: per song the loudest 30 s of original, master \
                      and reference matched in loudness, a blind test and report.html. The \
                      same job as `fairmaster-render INPUT... --pack DIR`.",
        max_term_width = 100
    )]
    Pack(PackArgs),
    /// Master a CD album (INPUTs in running order) into a Red Book disc image; --ddp DIR for a
    /// DDP 2.0 image for replication.
    #[command(
        long_about = "Master INPUTs, in running order, as a Red Book CD album (`master --target \
                      cd` with all its options; --target cd:LUFS for another loudness) and \
                      write the disc: the WAV disc image with its CUE sheet (--cd-image, default \
                      album.cd.wav) and, with --ddp DIR, a DDP 2.0 image for the replication \
                      plant (DDPID, DDPMS, PQDESCR, IMAGE.DAT, CD-Text, checksum.md5 and a PQ \
                      sheet). --cd-metadata FILE gives CD-Text, ISRCs, the UPC/EAN, pregaps and \
                      the copy and pre-emphasis flags. One input makes a one-track disc.",
        max_term_width = 100
    )]
    Disc(DiscArgs),
    /// Master an album for vinyl: one 24-bit WAV per side and a cut sheet.
    #[command(
        long_about = "Master INPUTs (the album in running order) as a vinyl premaster for \
                      FORMAT: split into sides as --sides gives or automatically by length, the \
                      chain without its clipper, the limiter at -1 dBTP under a PLR floor, one \
                      24-bit WAV per side at the mix's rate with --gap seconds of silence \
                      between songs, and cut-sheet.html / cut-sheet.txt: per side the songs, \
                      start times, levels and the level the side's length allows on the \
                      cutting chart, with warnings (low-end phase, side length, bright songs \
                      late on a side, loudness). Written into --out-dir (default vinyl/ beside \
                      the first input).",
        max_term_width = 100
    )]
    Vinyl(VinylArgs),
    /// Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell).
    #[command(
        long_about = "Print the shell completion script for SHELL on stdout, e.g. \
                      `fairmaster-render completions bash > \
                      ~/.local/share/bash-completion/completions/fairmaster-render`; for zsh \
                      into a folder on $fpath as `_fairmaster-render`, for fish into \
                      ~/.config/fish/completions/fairmaster-render.fish.",
        max_term_width = 100
    )]
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// The mastering job's command line (`master`, the default).
#[derive(Args, Debug)]
struct MasterArgs {
    /// Audio files to master (WAV, FLAC, AIFF); none: the built-in demo mix.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(flatten)]
    loudness: LoudnessArgs,
    /// Render what the plugin plays with this source selected instead of mastering (the
    /// `listen` job): master | original | reference (also a, b, r).
    #[arg(
        long,
        value_name = "MODE",
        value_parser = parse_listen_mode,
        help_heading = "Listening (what the plugin plays; one input)"
    )]
    listen: Option<ListenMode>,
    #[command(flatten)]
    reference: ReferenceArgs,
    #[command(flatten)]
    album: AlbumArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// `listen MODE INPUT`.
#[derive(Args, Debug)]
struct ListenArgs {
    /// What is heard: master | original | reference (also a, b, r).
    #[arg(value_name = "MODE", value_parser = parse_listen_mode)]
    mode: ListenMode,
    /// The mix (WAV, FLAC, AIFF).
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(flatten)]
    reference: ReferenceArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// `analyze [INPUT]...`.
#[derive(Args, Debug)]
struct AnalyzeArgs {
    /// Audio files to measure (WAV, FLAC, AIFF); none: the built-in demo mix.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// A loudness target to measure against (as master's --target): the report gives the
    /// gain each song needs and where its peaks would sit against the ceiling.
    #[arg(long, value_name = "T", allow_hyphen_values = true, value_parser = TargetSpec::parse)]
    target: Option<TargetSpec>,
    /// With several inputs and --target: relative (default) or same, as master's.
    #[arg(long, value_name = "MODE", value_parser = parse_album_mode)]
    album_mode: Option<AlbumMode>,
    /// The settings whose limiter ceiling a loudness target in LUFS keeps (as master's).
    #[arg(long, value_name = "NAME|FILE")]
    preset: Option<String>,
    /// A reference track to compare with: its figures and the tonal difference.
    #[arg(long, value_name = "FILE")]
    reference: Option<PathBuf>,
    /// The reference's region in seconds (default: the whole track).
    #[arg(long = "loop", value_name = "START:END", value_parser = parse_loop)]
    loop_seconds: Option<(f64, f64)>,
    /// Songs measured at once (default: every core).
    #[arg(short, long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// Print the report as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Accepted for symmetry with the other jobs (analyze draws no progress bar).
    #[arg(short, long)]
    quiet: bool,
}

/// `disc INPUT... [--ddp DIR]`.
#[derive(Args, Debug)]
struct DiscArgs {
    #[command(flatten)]
    master: MasterArgs,
    /// Also write a DDP 2.0 image for replication into DIR (refused when it exists, unless
    /// --force).
    #[arg(long, value_name = "DIR", help_heading = "Album")]
    ddp: Option<PathBuf>,
}

/// `pack DIR [INPUT]...`.
#[derive(Args, Debug)]
struct PackArgs {
    /// The listening pack's folder (refused when it exists, unless --force).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    #[command(flatten)]
    master: MasterArgs,
}

/// `vinyl --format F INPUT...`.
#[derive(Args, Debug)]
struct VinylArgs {
    /// The album's songs in running order (WAV, FLAC, AIFF), all at one sample rate.
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
    /// The record: 12-33, 12-45, 10-33, 10-45 or 7-45 (diameter in inches - rpm).
    #[arg(long, value_name = "FORMAT", value_parser = crate::offline::vinyl::formats::RecordFormat::parse)]
    format: crate::offline::vinyl::formats::RecordFormat,
    /// The sides, e.g. "A:1-4 B:5-8" (songs numbered from 1, every song once, in running
    /// order); default: split by length (the fewest whole discs, then balanced sides).
    #[arg(long, value_name = "SPEC")]
    sides: Option<String>,
    /// Silence between songs in a side's file, seconds (default 2).
    #[arg(long, value_name = "SECONDS", value_parser = parse_vinyl_gap)]
    gap: Option<f64>,
    /// The album's loudness target in LUFS, the loudest song there (default -14), as far as
    /// the PLR floor allows.
    #[arg(long, value_name = "LUFS", allow_hyphen_values = true, value_parser = parse_vinyl_target)]
    target: Option<f64>,
    /// The lowest PLR (true peak - integrated loudness, dB) a song may have (default 12).
    #[arg(long, value_name = "DB", value_parser = parse_vinyl_plr_floor)]
    plr_floor: Option<f32>,
    /// The elliptical EQ's corner: the low end is mono below it, Hz (default 150).
    #[arg(long, value_name = "HZ", value_parser = parse_vinyl_mono_below)]
    mono_below: Option<f32>,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Songs mastered at once (default: every core).
    #[arg(short, long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// The folder of the side files and cut sheets (created when missing; default vinyl/
    /// beside the first input).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Overwrite existing side files and cut sheets.
    #[arg(long)]
    force: bool,
    /// Print the cut sheet as JSON on stdout instead of its text.
    #[arg(long)]
    json: bool,
    /// Accepted for symmetry with the other jobs (no progress bar is drawn).
    #[arg(short, long)]
    quiet: bool,
}

fn parse_number_in(text: &str, what: &str, min: f64, max: f64) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number ({what})"))?;
    if !(min..=max).contains(&value) {
        return Err(format!("{what} must be within {min} to {max}, not {text}"));
    }
    Ok(value)
}

fn parse_vinyl_gap(text: &str) -> Result<f64, String> {
    parse_number_in(text, "seconds of silence between songs", 0.0, 600.0)
}

fn parse_vinyl_target(text: &str) -> Result<f64, String> {
    parse_number_in(text, "a loudness target in LUFS", -40.0, -6.0)
}

fn parse_vinyl_plr_floor(text: &str) -> Result<f32, String> {
    parse_number_in(text, "a PLR floor in dB", 3.0, 30.0).map(|v| v as f32)
}

fn parse_vinyl_mono_below(text: &str) -> Result<f32, String> {
    parse_number_in(text, "the mono corner in Hz", 20.0, 300.0).map(|v| v as f32)
}

impl VinylArgs {
    fn options(self) -> Result<Options, String> {
        let mut vinyl = crate::offline::vinyl::VinylOptions::new(self.format);
        vinyl.sides = self.sides;
        vinyl.gap_seconds = self.gap.unwrap_or(vinyl.gap_seconds);
        vinyl.target_lufs = self.target.unwrap_or(vinyl.target_lufs);
        vinyl.plr_floor_db = self.plr_floor.unwrap_or(vinyl.plr_floor_db);
        vinyl.mono_below_hz = self.mono_below.unwrap_or(vinyl.mono_below_hz);
        let mut o = Options {
            inputs: self.inputs,
            jobs: self.jobs,
            out_dir: self.out_dir,
            force: self.force,
            json: self.json,
            quiet: self.quiet,
            vinyl: Some(vinyl),
            ..Options::default()
        };
        self.settings.apply(&mut o);
        if o.preset.is_some() && o.state.is_some() {
            return Err("--preset and --state are alternatives; give one".into());
        }
        if o.snapshot.is_some() && o.state.is_none() {
            return Err("--snapshot picks a snapshot of a plugin state: give --state FILE".into());
        }
        Ok(o)
    }
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Settings (applied in this order)")]
struct SettingsArgs {
    /// A factory preset of the editor: neutral, streaming, glue, club, broadcast, reference
    /// (the default: the reference master); or 'plugin-default' (a fresh insert: limiter
    /// only); or a preset file: a user preset saved by the editor, or the JSON format of the
    /// docs.
    #[arg(long, value_name = "NAME|FILE")]
    preset: Option<String>,
    /// The plugin state saved by the DAW (nice-plug JSON chunk) instead.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// With --state: the settings of that state's snapshot NAME (its name in the editor, any
    /// case, or its number 1-8) instead of the current ones.
    #[arg(long, value_name = "NAME")]
    snapshot: Option<String>,
    /// Set any plugin parameter by its ID (repeatable), e.g. --set eq_mode=linear_phase
    /// --set comp_ratio=1.5.
    #[arg(long = "set", value_name = "ID=VALUE", value_parser = parse_set, allow_hyphen_values = true)]
    sets: Vec<(String, String)>,
    /// Shortcut for --set input_gain=DB.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    input_gain: Option<String>,
    /// Shortcut for --set output_gain=DB.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    output_gain: Option<String>,
    /// Shortcut for --set lim_drive=DB.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    drive: Option<String>,
    /// Shortcut for --set lim_ceiling=DBTP.
    #[arg(long, value_name = "DBTP", allow_hyphen_values = true)]
    ceiling: Option<String>,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Loudness")]
struct LoudnessArgs {
    /// spotify | youtube (-14 LUFS, -1 dBTP), apple (-16, -1), club (-9, -0.3), r128 (-23,
    /// -1), or a number in LUFS (ceiling from the settings); cd: a Red Book CD master
    /// (resampled to 44.1 kHz before the chain, 16-bit with the chain's dither last) at -12
    /// LUFS / -0.3 dBTP (no standard sets a CD loudness; see the README), cd:LUFS for another;
    /// reference: the --reference track's integrated loudness. The limiter drive is searched
    /// so the master hits T within 0.5 LU.
    #[arg(long, value_name = "T", allow_hyphen_values = true, value_parser = TargetSpec::parse)]
    target: Option<TargetSpec>,
    /// Stop the search at a PLR floor (dB, true peak - integrated) or a limiter drive limit;
    /// the report says how far from T it stayed.
    #[arg(long, value_name = "PLR|drive:DB", value_parser = parse_dynamics_limits)]
    preserve_dynamics: Vec<DynamicsLimits>,
    /// With --reference: move the mix's tonal balance (mid and side, 1/6-octave curve) toward
    /// the reference's by AMOUNT % (0-100) through the EQ's linear-phase FIR, bounded by
    /// --match-bound (shelves and bells replaced, cuts kept).
    #[arg(long, value_name = "AMOUNT", value_parser = parse_match_eq)]
    match_eq: Option<f64>,
    /// With --reference: move the side/mid energy ratio per band toward the reference's by
    /// AMOUNT % (default: the --match-eq amount; 0 keeps the mix's width). Replaces the
    /// stereo stage's width and mono bass.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_match_width)]
    match_width: Option<f64>,
    /// The largest correction of the match at any frequency, dB (default 12, at most 18).
    #[arg(long, value_name = "DB", value_parser = parse_match_bound)]
    match_bound: Option<f64>,
    /// Smoothing of the tonal difference, octaves (default 1/3).
    #[arg(long, value_name = "OCT", value_parser = parse_match_smoothing)]
    match_smoothing: Option<f64>,
    /// With several inputs: 'relative' (default; keeps the mix's loudness differences, the
    /// loudest track hits T) or 'same' (all tracks at T).
    #[arg(long, value_name = "MODE", value_parser = parse_album_mode)]
    album_mode: Option<AlbumMode>,
    /// Also write the masters concatenated gaplessly (album preview).
    #[arg(long, value_name = "FILE")]
    preview: Option<PathBuf>,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Reference")]
struct ReferenceArgs {
    /// The reference track (WAV, AIFF, FLAC, MP3, Ogg Vorbis, AAC/M4A; resampled to the
    /// input's rate); for listening, for --target reference and --match-eq (its --loop region,
    /// when given), and for the pack. Listening match mode and platform as plugin parameters:
    /// --set reference_match=integrated|short_term|as_streamed, --set
    /// reference_platform=spotify|youtube|apple_music|...
    #[arg(long, value_name = "FILE")]
    reference: Option<PathBuf>,
    /// The reference's loop in seconds (default: the whole track).
    #[arg(long = "loop", value_name = "START:END", value_parser = parse_loop)]
    loop_seconds: Option<(f64, f64)>,
    /// Extra reference gain after matching (listening).
    #[arg(long, value_name = "DB", allow_hyphen_values = true, value_parser = parse_reference_trim)]
    reference_trim: Option<f32>,
    /// Where the reference sits on the timeline (listening): its frame t + S plays at the
    /// mix's t (seconds, as the plugin's Offset field).
    #[arg(long, value_name = "S", allow_hyphen_values = true, value_parser = parse_reference_offset)]
    reference_offset: Option<f64>,
    /// Find that offset as the plugin's Align button does (listening): the loudest 4 s of the
    /// mix against the reference (+-2 s around --reference-offset, generalised
    /// cross-correlation); refused when nothing matches.
    #[arg(long)]
    align: bool,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Album and pack")]
struct AlbumArgs {
    /// Songs mastered at once (default: every core).
    #[arg(short, long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// Also write the listening pack into DIR (the `pack` job).
    #[arg(long, value_name = "DIR")]
    pack: Option<PathBuf>,
    /// With several inputs and --target cd: CD-Text and ISRCs of the disc image (JSON).
    #[arg(long, value_name = "FILE")]
    cd_metadata: Option<PathBuf>,
    /// With several inputs and --target cd: the disc image (default album.cd.wav).
    #[arg(long, value_name = "FILE")]
    cd_image: Option<PathBuf>,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Output")]
struct OutputArgs {
    /// Output file (one input only); default INPUT_DIR/NAME.master.wav.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write NAME.master.wav files into DIR (created when missing).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// WAV word length (default 24); 16/24 use the chain's dither.
    #[arg(long, value_name = "16|24|32f", value_parser = parse_bits)]
    bits: Option<OutputFormat>,
    /// Dither noise shaping on (default: as in the settings).
    #[arg(long, overrides_with = "no_noise_shaping")]
    noise_shaping: bool,
    /// Dither noise shaping off.
    #[arg(long, overrides_with = "noise_shaping")]
    no_noise_shaping: bool,
    /// Overwrite existing outputs.
    #[arg(long)]
    force: bool,
    /// Render and report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
}

// ---------------------------------------------------------------------------------------------
// The command line -> the job description.

impl SettingsArgs {
    fn apply(self, o: &mut Options) {
        o.preset = self.preset;
        o.state = self.state;
        o.snapshot = self.snapshot;
        o.sets = self.sets;
        o.input_gain_db = self.input_gain;
        o.output_gain_db = self.output_gain;
        o.drive_db = self.drive;
        o.ceiling_dbtp = self.ceiling;
    }
}

impl ReferenceArgs {
    fn apply(self, o: &mut Options) {
        o.reference = self.reference;
        o.loop_seconds = self.loop_seconds;
        o.reference_trim_db = self.reference_trim;
        o.reference_offset_seconds = self.reference_offset;
        o.align = self.align;
    }
}

impl OutputArgs {
    fn apply(self, o: &mut Options) {
        o.output = self.output;
        o.out_dir = self.out_dir;
        if let Some(format) = self.bits {
            o.format = format;
            o.format_given = true;
        }
        o.noise_shaping = match (self.noise_shaping, self.no_noise_shaping) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        o.force = self.force;
        o.dry_run = self.dry_run;
        o.json = self.json;
        o.quiet = self.quiet;
    }
}

impl MasterArgs {
    fn options(self) -> Options {
        let mut o = Options {
            inputs: self.inputs,
            listen: self.listen,
            ..Options::default()
        };
        self.settings.apply(&mut o);
        let l = self.loudness;
        o.target = l.target;
        // Both limits may be given (--preserve-dynamics 10 --preserve-dynamics drive:6).
        for limits in l.preserve_dynamics {
            o.dynamics_limits.min_plr_db = limits.min_plr_db.or(o.dynamics_limits.min_plr_db);
            o.dynamics_limits.max_drive_db = limits.max_drive_db.or(o.dynamics_limits.max_drive_db);
        }
        o.match_eq = l.match_eq;
        o.match_width = l.match_width;
        if let Some(bound) = l.match_bound {
            o.match_bound_db = bound;
        }
        if let Some(octaves) = l.match_smoothing {
            o.match_smoothing_octaves = octaves;
        }
        if let Some(mode) = l.album_mode {
            o.album_mode = mode;
        }
        o.preview = l.preview;
        self.reference.apply(&mut o);
        o.jobs = self.album.jobs;
        o.pack = self.album.pack;
        o.cd_metadata = self.album.cd_metadata;
        o.cd_image = self.album.cd_image;
        self.output.apply(&mut o);
        o
    }
}

impl ListenArgs {
    fn options(self) -> Options {
        let mut o = Options {
            inputs: vec![self.input],
            listen: Some(self.mode),
            ..Options::default()
        };
        self.settings.apply(&mut o);
        self.reference.apply(&mut o);
        self.output.apply(&mut o);
        o
    }
}

impl AnalyzeArgs {
    fn options(self) -> Options {
        Options {
            inputs: self.inputs,
            analyze: true,
            target: self.target,
            album_mode: self.album_mode.unwrap_or(AlbumMode::Relative),
            preset: self.preset,
            reference: self.reference,
            loop_seconds: self.loop_seconds,
            jobs: self.jobs,
            json: self.json,
            quiet: self.quiet,
            // Nothing is written.
            dry_run: true,
            ..Options::default()
        }
    }
}

impl PackArgs {
    fn options(self) -> Result<Options, String> {
        if self.master.album.pack.is_some() {
            return Err(
                "the pack job takes its folder once: `pack DIR INPUT...`, without --pack".into(),
            );
        }
        if is_audio_file_name(&self.dir) {
            return Err(format!(
                "`pack DIR INPUT...` takes the pack's folder first; '{}' looks like an input",
                self.dir.display()
            ));
        }
        let mut o = self.master.options();
        o.pack = Some(self.dir);
        Ok(o)
    }
}

impl DiscArgs {
    fn options(self) -> Result<Options, String> {
        let mut o = self.master.options();
        match o.target {
            None => o.target = Some(TargetSpec::parse("cd")?),
            Some(TargetSpec::Cd { .. }) => {}
            Some(_) => {
                return Err(
                    "the disc job masters for CD: drop --target, or give --target cd or \
                     cd:LUFS"
                        .into(),
                )
            }
        }
        if o.inputs.is_empty() {
            return Err("the disc job needs the album's INPUT files, in running order".into());
        }
        if o.listen.is_some() {
            return Err("--listen is its own job, not part of the disc job".into());
        }
        o.disc = true;
        o.ddp = self.ddp;
        Ok(o)
    }
}

/// A name the renderer would read as audio (so `pack a.wav b.wav` is not taken as the folder
/// `a.wav`).
fn is_audio_file_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| {
        ["wav", "wave", "flac", "aif", "aiff", "mp3", "ogg", "m4a"]
            .iter()
            .any(|a| e.eq_ignore_ascii_case(a))
    })
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
    /// `--match-width`: how much of the side/mid difference per band to correct, 0..1.
    pub match_width: Option<f64>,
    /// `--match-bound`, dB.
    pub match_bound_db: f64,
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
    /// The `disc` job: a disc image even of one input.
    pub disc: bool,
    /// `disc --ddp DIR`: the DDP 2.0 image.
    pub ddp: Option<PathBuf>,
    /// The `analyze` job: measure and report, render and write nothing.
    pub analyze: bool,
    /// The `vinyl` job: its format, sides and premaster options.
    pub vinyl: Option<crate::offline::vinyl::VinylOptions>,
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
            match_width: None,
            match_bound_db: DEFAULT_BOUND_DB,
            match_smoothing_octaves: DEFAULT_SMOOTHING_OCTAVES,
            dynamics_limits: DynamicsLimits::default(),
            reference_offset_seconds: None,
            align: false,
            jobs: None,
            pack: None,
            cd_metadata: None,
            cd_image: None,
            disc: false,
            ddp: None,
            analyze: false,
            vinyl: None,
        }
    }
}

/// Which job an [`Options`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Master the inputs ([`run`](super::run)); with [`Options::pack`] also the pack.
    Master,
    /// What the plugin plays ([`run_listen`](super::run_listen)): `listen` or `--listen`.
    Listen,
    /// Measure and report ([`run_analyze`](super::run_analyze)).
    Analyze,
    /// A vinyl premaster and its cut sheet ([`run_vinyl`](super::run_vinyl)).
    Vinyl,
}

impl Options {
    /// The tonal match asked for (`--match-eq`, `--match-width`), if any: the width follows
    /// the tone's amount unless given, a width-only match leaves the tone alone.
    pub fn match_options(&self) -> Option<MatchOptions> {
        if self.match_eq.is_none() && self.match_width.is_none() {
            return None;
        }
        let amount = self.match_eq.unwrap_or(0.0);
        Some(MatchOptions {
            amount,
            width_amount: self.match_width.unwrap_or(amount),
            smoothing_octaves: self.match_smoothing_octaves,
            bound_db: self.match_bound_db,
        })
    }

    pub fn job(&self) -> Job {
        if self.vinyl.is_some() {
            Job::Vinyl
        } else if self.analyze {
            Job::Analyze
        } else if self.listen.is_some() {
            Job::Listen
        } else {
            Job::Master
        }
    }
}

/// A parsed command line, as the library's callers before the subcommands knew it.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Help (or the version) was asked for.
    Help,
    /// A job: [`Options::job`] says which.
    Render(Box<Options>),
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// Text to print on stdout, exit 0: the help of the program or a subcommand, the version.
    Show(String),
    /// A job: [`Options::job`] says which.
    Job(Box<Options>),
}

/// Parses the arguments after the program name. Errors are usage messages.
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    Ok(match parse(args)? {
        Invocation::Show(_) => Command::Help,
        Invocation::Job(options) => Command::Render(options),
    })
}

/// Parses the arguments after the program name (see the module docs for the default
/// subcommand). Errors are usage messages: clap's for the command line's shape and values, the
/// checks across options for the rest.
pub fn parse(args: &[String]) -> Result<Invocation, String> {
    let argv = std::iter::once("fairmaster-render").chain(args.iter().map(String::as_str));
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Ok(Invocation::Show(text)),
                _ => Err(text.trim_end().trim_start_matches("error: ").to_string()),
            };
        }
    };
    let mut o = match cli.job {
        None => cli.master.options(),
        Some(JobCommand::Master(master)) => master.options(),
        Some(JobCommand::Listen(listen)) => listen.options(),
        Some(JobCommand::Pack(pack)) => pack.options()?,
        Some(JobCommand::Disc(disc)) => disc.options()?,
        Some(JobCommand::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "fairmaster-render", &mut script);
            return Ok(Invocation::Show(
                String::from_utf8_lossy(&script).into_owned(),
            ));
        }
        Some(JobCommand::Vinyl(vinyl)) => return Ok(Invocation::Job(Box::new(vinyl.options()?))),
        Some(JobCommand::Analyze(analyze)) => {
            let o = analyze.options();
            check_analyze(&o)?;
            return Ok(Invocation::Job(Box::new(o)));
        }
    };
    check(&mut o)?;
    Ok(Invocation::Job(Box::new(o)))
}

/// The program's whole help (what `--help` prints).
pub fn usage() -> String {
    Cli::command().render_long_help().to_string()
}

/// The checks across options of the mastering and listening jobs; a CD master is 16-bit.
fn check(o: &mut Options) -> Result<(), String> {
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
            let needs_reference = o.target == Some(TargetSpec::Reference)
                || o.match_eq.is_some()
                || o.match_width.is_some();
            if needs_reference && o.reference.is_none() {
                return Err(
                    "--target reference, --match-eq and --match-width need --reference FILE".into(),
                );
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
    let cd_album =
        matches!(o.target, Some(TargetSpec::Cd { .. })) && (o.inputs.len() > 1 || o.disc);
    if (o.cd_metadata.is_some() || o.cd_image.is_some()) && !cd_album {
        return Err(
            "--cd-metadata and --cd-image describe the disc image of an album: use the disc \
             job, or give several inputs and --target cd"
                .into(),
        );
    }
    if o.ddp.is_some()
        && o.cd_image
            .as_deref()
            .is_some_and(|image| Some(image) == o.ddp.as_deref())
    {
        return Err("--ddp is a folder of its own; it cannot be the --cd-image file".into());
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
    Ok(())
}

/// The checks across the `analyze` job's options.
fn check_analyze(o: &Options) -> Result<(), String> {
    if o.target == Some(TargetSpec::Reference) && o.reference.is_none() {
        return Err("--target reference needs --reference FILE".into());
    }
    if o.loop_seconds.is_some() && o.reference.is_none() {
        return Err("--loop is the reference's region: give --reference FILE".into());
    }
    Ok(())
}
