//! The command line: options, their values and the checks across them.

use std::path::PathBuf;

use crate::analysis::tonal_match::DEFAULT_SMOOTHING_OCTAVES;
use crate::offline::album::AlbumMode;
use crate::offline::audio_io::OutputFormat;
use crate::offline::listen::ListenMode;
use crate::offline::render::DynamicsLimits;
use crate::targets::{CD_DELIVERY, PRESET_TARGETS};

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
