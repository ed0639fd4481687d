//! The vinyl job (`fairmaster-render vinyl`): plan the sides, check every output, master the
//! songs for the lathe, measure them, then write the side files and the cut sheet (all to
//! temporary names first, renamed into place only when everything is written). See
//! [`crate::offline::vinyl`] for the defaults and why.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::master::{decode_inputs, thread_pool, Song};
use super::*;
use crate::dsp::filters::elliptical::EllipticalSettings;
use crate::offline::album::{self, AlbumMode};
use crate::offline::analysis::analyse;
use crate::offline::audio_io::{self, OutputFormat};
use crate::offline::render::{self, DynamicsLimits, LoudnessTarget};
use crate::offline::vinyl::checks::{self, LowEndPhase, Sibilance};
use crate::offline::vinyl::cut_sheet::{CutSheet, CutSheetSide, CutSheetSong};
use crate::offline::vinyl::sides::{self, minutes_text, SideLayout};
use crate::offline::vinyl::{VinylOptions, DEFAULT_CEILING_DBTP};
use crate::offline::{Audio, OfflineError};
use crate::stages::ChainSettings;

/// A song's PLR this far under the floor is under it (the meters' resolution).
const PLR_FLOOR_TOLERANCE_DB: f32 = 0.1;

/// The file names in the output folder.
pub const CUT_SHEET_HTML: &str = "cut-sheet.html";
pub const CUT_SHEET_TEXT: &str = "cut-sheet.txt";

/// `side-A.wav`, ...
pub fn side_file_name(letter: char) -> String {
    format!("side-{letter}.wav")
}

/// The folder the job writes into: `--out-dir`, else `vinyl/` beside the first input.
pub fn vinyl_out_dir(o: &Options) -> PathBuf {
    o.out_dir.clone().unwrap_or_else(|| {
        o.inputs
            .first()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_default()
            .join("vinyl")
    })
}

/// The chain the premaster runs: the settings with the clipper off, the elliptical EQ on at
/// `--mono-below` (default 150 Hz; it replaces the settings' `ell_freq`), the high-frequency
/// limiter on (its limit, split and release as the settings have them: default 0 dBFS
/// pre-emphasised above 5 kHz), the limiter on at the job's ceiling (−1 dBTP unless
/// `--ceiling`), dither to 24 bits.
fn premaster_settings(o: &Options, v: &VinylOptions, mut settings: ChainSettings) -> ChainSettings {
    settings.clipper.enabled = false;
    settings.elliptical = EllipticalSettings {
        enabled: true,
        crossover_hz: v.mono_below_hz,
    };
    settings.hf_limiter.enabled = true;
    settings.limiter.enabled = true;
    if o.ceiling_dbtp.is_none() {
        settings.limiter.ceiling_db = DEFAULT_CEILING_DBTP;
    }
    settings.dither.mode = OutputFormat::Int24.dither_mode();
    settings
}

/// One song of the premaster and what the cut sheet says of it.
struct Premastered {
    audio: Audio,
    /// The mix's own PLR, dB.
    input_plr_db: f32,
    figures: crate::offline::analysis::Analysis,
    low_end: LowEndPhase,
    hf_level_dbfs: f64,
    sibilance: Sibilance,
}

/// The whole vinyl job; returns the cut sheet it wrote.
pub fn run_vinyl(o: &Options) -> Result<CutSheet, OfflineError> {
    let v: &VinylOptions = o
        .vinyl
        .as_ref()
        .ok_or_else(|| OfflineError::new("the vinyl job needs --format"))?;
    let format = v.format;
    if o.inputs.is_empty() {
        return Err(OfflineError::new(
            "the vinyl job needs the album's songs in running order: vinyl --format F INPUT...",
        ));
    }
    let params = build_settings(o)?;
    let settings = premaster_settings(o, v, params.chain_settings());
    let ab = params.ab_settings();

    // 1. Decode, one rate for the whole record.
    let pool = thread_pool(o)?;
    let songs = decode_inputs(o, &pool)?;
    let rate = songs[0].input.sample_rate;
    if let Some(other) = songs.iter().find(|s| s.input.sample_rate != rate) {
        return Err(OfflineError::file(
            Path::new(&other.name),
            format!(
                "{} Hz, but {} is {rate} Hz: the songs of a record are mastered at one rate \
                 (each side is one file); convert them to one rate first",
                other.input.sample_rate, songs[0].name
            ),
        ));
    }

    // 2. Plan the sides (before any render: a bad plan costs nothing).
    let lengths: Vec<usize> = songs.iter().map(|s| s.input.frames()).collect();
    let gap_frames = (v.gap_seconds * f64::from(rate)).round() as usize;
    let assignments = match &v.sides {
        Some(spec) => sides::parse_sides(spec, songs.len()).map_err(OfflineError::new)?,
        None => {
            sides::auto_split(&lengths, gap_frames, rate, &format).map_err(OfflineError::new)?
        }
    };
    let layout = sides::lay_out(&assignments, &lengths, gap_frames, rate, &format);
    sides::check_maximum(&layout, &format).map_err(OfflineError::new)?;

    // 3. Every output checked before the work.
    let out_dir = vinyl_out_dir(o);
    let side_paths: Vec<PathBuf> = layout
        .iter()
        .map(|s| out_dir.join(side_file_name(s.letter)))
        .collect();
    let html_path = out_dir.join(CUT_SHEET_HTML);
    let text_path = out_dir.join(CUT_SHEET_TEXT);
    let outputs: Vec<&PathBuf> = side_paths.iter().chain([&html_path, &text_path]).collect();
    for path in &outputs {
        crate::files::check_output_free(path, o.force)?;
        if o.inputs.iter().any(|i| i == *path) {
            return Err(OfflineError::file(
                path,
                "output would overwrite an input; choose another --out-dir",
            ));
        }
    }
    if !out_dir.as_os_str().is_empty() && !out_dir.is_dir() {
        std::fs::create_dir_all(&out_dir).map_err(|e| {
            OfflineError::file(&out_dir, format!("cannot create output folder: {e}"))
        })?;
    }

    // 4. Master the songs: the album balanced toward the target, the PLR floor kept.
    let input_lufs: Vec<f64> = pool.install(|| {
        songs
            .par_iter()
            .map(|s| render::integrated_lufs(&s.input))
            .collect()
    });
    let targets = album::track_targets(&input_lufs, v.target_lufs, AlbumMode::Relative);
    let premastered: Vec<Premastered> = pool.install(|| {
        songs
            .par_iter()
            .zip(&targets)
            .with_max_len(1)
            .map(|(song, &target)| premaster_song(song, &settings, &ab, target, v.plr_floor_db))
            .collect::<Result<Vec<_>, _>>()
    })?;

    // 5. The sides' audio and the cut sheet.
    let side_audio: Vec<Audio> = layout
        .iter()
        .map(|side| assemble_side(side, &premastered, gap_frames, rate))
        .collect();
    let sheet = CutSheet {
        format,
        sample_rate: rate,
        bits: 24,
        gap_seconds: gap_frames as f64 / f64::from(rate),
        settings: params.source.clone(),
        processing: processing_lines(o, v, &settings),
        sides: layout
            .iter()
            .zip(&side_paths)
            .map(|(side, path)| cut_sheet_side(side, path, &songs, &premastered, v, &format))
            .collect(),
    };

    // 6. Write everything to temporary names, then move it all into place.
    let mut temps: Vec<(PathBuf, &Path)> = Vec::new();
    let result = (|| {
        for (audio, path) in side_audio.iter().zip(&side_paths) {
            let temp = crate::files::temp_path_for(path);
            temps.push((temp.clone(), path));
            audio_io::write_wav_atomic(&temp, audio, OutputFormat::Int24, true)
                .map_err(|e| OfflineError::file(path, e.reason))?;
        }
        for (path, bytes) in [
            (&html_path, sheet.to_html().into_bytes()),
            (&text_path, sheet.to_text().into_bytes()),
        ] {
            let temp = crate::files::temp_path_for(path);
            temps.push((temp.clone(), path));
            std::fs::write(&temp, bytes)
                .map_err(|e| OfflineError::file(path, format!("cannot write: {e}")))?;
        }
        for (_, path) in &temps {
            crate::files::check_output_free(path, o.force)?;
        }
        for (temp, path) in &temps {
            std::fs::rename(temp, path).map_err(|e| {
                OfflineError::file(path, format!("cannot move the file in place: {e}"))
            })?;
        }
        Ok(())
    })();
    if result.is_err() {
        for (temp, _) in &temps {
            let _ = std::fs::remove_file(temp);
        }
    }
    result?;
    Ok(sheet)
}

/// Masters one song toward `target_lufs` with the limiter alone (the search never calls the
/// clipper), keeping the PLR floor, and measures it for the cut sheet. A mix that arrives
/// under the floor cannot be brought over it by gain (turning down lowers its peaks and its
/// loudness alike), so it gets no limiter drive at all: only gain down toward the target, and
/// a warning on the cut sheet.
fn premaster_song(
    song: &Song,
    settings: &ChainSettings,
    ab: &crate::ab::AbSettings,
    target_lufs: f64,
    plr_floor_db: f32,
) -> Result<Premastered, OfflineError> {
    let mix_figures = analyse(&song.input);
    let input_plr_db = mix_figures.plr_db;
    let limits = if input_plr_db >= plr_floor_db {
        DynamicsLimits {
            min_plr_db: Some(plr_floor_db),
            max_drive_db: None,
        }
    } else {
        DynamicsLimits {
            min_plr_db: None,
            max_drive_db: Some(0.0),
        }
    };
    let target = LoudnessTarget {
        integrated_lufs: target_lufs,
        ceiling_dbtp: settings.limiter.ceiling_db,
    };
    let found = render::search_target(&song.input, settings, ab, target, limits, &mut |_, _| {})
        .map_err(|e| OfflineError {
            path: Some(PathBuf::from(&song.name)),
            ..e
        })?;
    let found_settings = found.settings;
    let mut audio = found.rendered.audio;
    if audio.channels.len() == 1 {
        let mono = audio.channels[0].clone();
        audio.channels.push(mono);
    }
    let figures = analyse(&audio);
    // What the high-frequency limiter took: the found render again without it.
    let split_hz = settings.hf_limiter.split_hz;
    let premaster_peak_db = checks::pre_emphasised_peak_db(&audio, split_hz);
    let hf_limiter_reduction_db = settings.hf_limiter.enabled.then(|| {
        let mut without = found_settings;
        without.hf_limiter.enabled = false;
        let open = render::render(&song.input, &without, ab, &mut |_| {}).audio;
        (checks::pre_emphasised_peak_db(&open, split_hz) - premaster_peak_db).max(0.0)
    });
    let sibilance = Sibilance {
        split_hz,
        limit_db: settings.hf_limiter.limit_db,
        premaster_peak_db,
        hf_limiter_reduction_db,
    };
    Ok(Premastered {
        input_plr_db,
        sibilance,
        figures,
        low_end: LowEndPhase::measure(&audio),
        hf_level_dbfs: checks::high_frequency_level_dbfs(&audio),
        audio,
    })
}

/// A side's file: its songs at their start frames, silence between.
fn assemble_side(side: &SideLayout, songs: &[Premastered], gap_frames: usize, rate: u32) -> Audio {
    let mut channels: Vec<Vec<f32>> = (0..2).map(|_| Vec::with_capacity(side.frames)).collect();
    for (k, placed) in side.songs.iter().enumerate() {
        for (c, channel) in channels.iter_mut().enumerate() {
            if k > 0 {
                channel.resize(channel.len() + gap_frames, 0.0);
            }
            debug_assert_eq!(channel.len(), placed.start_frame);
            channel.extend_from_slice(&songs[placed.index].audio.channels[c]);
        }
    }
    Audio {
        sample_rate: rate,
        channels,
    }
}

/// What the premaster did on top of the settings, for the cut sheet.
fn processing_lines(o: &Options, v: &VinylOptions, settings: &ChainSettings) -> Vec<String> {
    vec![
        format!(
            "album balanced toward {:.1} LUFS (the loudest song there, the others keeping their \
             differences), each song held back to keep its PLR at or above {:.1} dB",
            v.target_lufs, v.plr_floor_db
        ),
        format!(
            "limiter ceiling {:.1} dBTP{}; clipper off",
            settings.limiter.ceiling_db,
            if o.ceiling_dbtp.is_some() {
                " (--ceiling)"
            } else {
                ""
            }
        ),
        format!(
            "elliptical EQ: the side high-passed at {:.0} Hz (the low end mono below it)",
            settings.elliptical.crossover_hz
        ),
        format!(
            "high-frequency limiter: the RIAA pre-emphasised band above {:.1} kHz held at {:.1} \
             dBFS (release {:.0} ms)",
            settings.hf_limiter.split_hz / 1000.0,
            settings.hf_limiter.limit_db,
            settings.hf_limiter.release_ms
        ),
        "24-bit with the chain's dither; the mix's sample rate, no resampling".into(),
    ]
}

fn cut_sheet_side(
    side: &SideLayout,
    path: &Path,
    songs: &[Song],
    premastered: &[Premastered],
    v: &VinylOptions,
    format: &crate::offline::vinyl::formats::RecordFormat,
) -> CutSheetSide {
    let letter = side.letter;
    let mut warnings = Vec::new();
    if side.minutes_over_reference > 0.0 {
        warnings.push(format!(
            "side {letter}: {} long, {} over the {} min a side of {} holds at reference level: \
             cut at {} dB",
            minutes_text(side.minutes),
            minutes_text(side.minutes_over_reference),
            format.reference_minutes(),
            format.label,
            side.level_allowed_db
                .map_or_else(|| "?".into(), |l| format!("{l:.1}"))
        ));
    }
    let songs = side
        .songs
        .iter()
        .map(|placed| {
            let p = &premastered[placed.index];
            let name = super::master::song_name(&songs[placed.index].name);
            let who = format!("side {letter}, song {} \"{name}\"", placed.index + 1);
            let late = checks::is_late_on_side(placed.start_frame, placed.frames, side.frames);
            let mut song_warnings = Vec::new();
            if let Some(problem) = p.low_end.problem() {
                song_warnings.push(format!("{who}: {problem}"));
            }
            if let Some(problem) = p.sibilance.problem() {
                song_warnings.push(format!("{who}: {problem}"));
            }
            if late && p.hf_level_dbfs > checks::HF_WARNING_DBFS {
                song_warnings.push(format!(
                    "{who}: bright and late on the side (level above {:.0} kHz {:.1} dBFS, over \
                     {:.0}; its middle lies in the side's last third): the inner groove loses \
                     about 3 dB at 15 kHz and distorts loud treble; move it earlier on the side",
                    checks::HF_BAND_HZ / 1000.0,
                    p.hf_level_dbfs,
                    checks::HF_WARNING_DBFS
                ));
            }
            if p.figures.plr_db < v.plr_floor_db - PLR_FLOOR_TOLERANCE_DB {
                song_warnings.push(format!(
                    "{who}: PLR {:.1} dB, under the {:.1} dB floor: the mix arrives at PLR \
                     {:.1} dB, denser than a cutting engineer would accept (the job adds no \
                     limiter drive to it); ask for a mix without its bus limiter",
                    p.figures.plr_db, v.plr_floor_db, p.input_plr_db
                ));
            }
            CutSheetSong {
                number: placed.index + 1,
                name,
                start_frame: placed.start_frame,
                frames: placed.frames,
                integrated_lufs: p.figures.integrated_lufs,
                true_peak_dbtp: p.figures.true_peak_dbtp,
                plr_db: p.figures.plr_db,
                low_end_correlation: p.low_end.correlation,
                hf_level_dbfs: p.hf_level_dbfs,
                late_on_side: late,
                sibilance: p.sibilance,
                warnings: song_warnings,
            }
        })
        .collect();
    CutSheetSide {
        letter,
        file: path.display().to_string(),
        frames: side.frames,
        minutes: side.minutes,
        level_allowed_db: side.level_allowed_db,
        minutes_over_reference: side.minutes_over_reference,
        songs,
        warnings,
    }
}
