//! The before/after report: a plain-text table per file (and for the album), or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::album::AlbumSummary;
use super::analysis::{Analysis, GainReductionStats, LIMITING_THRESHOLD_DB};
use super::render::{HeldBackBy, TargetPass};

/// The loudness-target part of a file's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetReport {
    pub target_lufs: f64,
    pub ceiling_dbtp: f32,
    /// Integrated loudness of the written file (the plugin's BS.1770-4 meter), LUFS.
    pub achieved_lufs: f64,
    pub error_lu: f64,
    pub met: bool,
    pub passes: Vec<TargetPass>,
    /// Set when `--preserve-dynamics` (or the drive range) kept the master short of the target.
    pub held_back_by: Option<HeldBackBy>,
    /// The limiter's drive range was not enough and the clipper was switched on to assist
    /// (soft, 8x, `render::CLIPPER_ASSIST_DRIVE_DB`, at the target's ceiling).
    pub clipper_assisted: bool,
}

/// The reference of `--target reference` / `--match-eq`, and how the master compares with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceReport {
    pub name: String,
    /// Its loudness and dynamics (the plugin's reference analysis, `ReferenceTrack`), over the
    /// `--loop` region when one is given.
    pub integrated_lufs: f32,
    pub loudness_range_lu: f32,
    pub true_peak_dbtp: f32,
    pub plr_db: f32,
    /// Third-octave centres (25 Hz - 16 kHz) of the differences below.
    pub bands_hz: Vec<f64>,
    /// Mix minus reference and master minus reference per band, dB, both loudness normalised
    /// (`analysis::tonal`); `null` where a programme lacks the band.
    pub mix_minus_reference_db: Vec<Option<f64>>,
    pub master_minus_reference_db: Vec<Option<f64>>,
    /// RMS of those differences over the bands 40 Hz - 12.5 kHz, dB.
    pub mix_rms_difference_db: f64,
    pub master_rms_difference_db: f64,
    pub tonal_match: Option<TonalMatchReport>,
}

/// The match EQ's curve applied by `--match-eq` / `--match-width`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TonalMatchReport {
    pub amount: f64,
    pub width_amount: f64,
    pub smoothing_octaves: f64,
    pub bound_db: f64,
    /// The curve's 1/6-octave points, Hz, and its gain there for the mid and the side, dB.
    pub points_hz: Vec<f64>,
    pub mid_db: Vec<f32>,
    pub side_db: Vec<f32>,
    /// The points whose correction the bound held back, Hz.
    pub bands_at_bound_hz: Vec<f64>,
}

impl TonalMatchReport {
    pub fn new(
        options: &crate::analysis::tonal_match::MatchOptions,
        shaped: &crate::analysis::tonal_match::ShapedMatch,
    ) -> Self {
        use crate::dsp::filters::match_curve::{match_point_hz, MATCH_POINTS};
        Self {
            amount: options.amount,
            width_amount: options.width_amount,
            smoothing_octaves: options.smoothing_octaves,
            bound_db: options.bound_db,
            points_hz: (0..MATCH_POINTS).map(match_point_hz).collect(),
            mid_db: shaped.curve.mid_db.to_vec(),
            side_db: shaped.curve.side_db.to_vec(),
            bands_at_bound_hz: shaped.bands_at_bound_hz(),
        }
    }

    /// The curve at the third-octave centres `hz`, dB: (mid, side).
    fn at(&self, hz: f64) -> (f64, f64) {
        use crate::dsp::filters::eq::EqPath;
        use crate::dsp::filters::match_curve::{MatchCurve, MATCH_POINTS};
        let mut curve = MatchCurve::FLAT;
        for i in 0..MATCH_POINTS.min(self.mid_db.len()).min(self.side_db.len()) {
            curve.mid_db[i] = self.mid_db[i];
            curve.side_db[i] = self.side_db[i];
        }
        (
            curve.magnitude_db(hz, EqPath::Mid),
            curve.magnitude_db(hz, EqPath::Side),
        )
    }
}

/// Everything measured about one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    pub name: String,
    /// Where the master was written; `None` for a dry run.
    pub output: Option<String>,
    pub sample_rate: u32,
    pub channels: usize,
    pub duration_seconds: f64,
    pub output_format: String,
    pub settings: String,
    pub latency_samples: u32,
    pub limiter_drive_db: f32,
    pub output_gain_db: f32,
    pub before: Analysis,
    pub after: Analysis,
    pub gain_reduction: GainReductionStats,
    pub target: Option<TargetReport>,
    /// The file's own rate when it was resampled before mastering (a CD master, or a rate
    /// outside the chain's 44.1-192 kHz); `sample_rate` is then the rate mastered at.
    pub resampled_from_hz: Option<u32>,
    pub reference: Option<ReferenceReport>,
    /// Where reaching the target costs more than the record can take, in words.
    pub warnings: Vec<String>,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub files: Vec<FileReport>,
    pub album: Option<AlbumSummary>,
    pub preview: Option<String>,
    /// The listening pack's folder (`--pack`).
    pub pack: Option<String>,
    /// The CD image of an album mastered with `--target cd`.
    pub disc: Option<DiscReport>,
}

/// The disc image and CUE sheet of a CD album.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscReport {
    pub image: String,
    pub cue: String,
    pub tracks: Vec<DiscTrack>,
    /// With the burner's 2 s first pregap, MM:SS:FF.
    pub playing_time: String,
    /// The DDP 2.0 image's folder (`disc --ddp DIR`).
    pub ddp: Option<String>,
}

/// A track's place on the disc, MM:SS:FF (75 frames per second).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscTrack {
    pub number: usize,
    pub index_01: String,
    pub length: String,
}

impl RunReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Human-readable tables.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            file_table(&mut out, file);
            out.push('\n');
        }
        if let Some(album) = &self.album {
            let _ = writeln!(
                out,
                "Album ({} mode, target {:.1} LUFS): loudness spread {:.2} LU before, {:.2} LU \
                 after; largest track deviation from its planned loudness {:.2} LU",
                match album.mode {
                    super::album::AlbumMode::Relative => "relative",
                    super::album::AlbumMode::Same => "same",
                },
                album.target_lufs,
                album.input_spread_lu,
                album.output_spread_lu,
                album.max_track_error_lu
            );
        }
        if let Some(disc) = &self.disc {
            let _ = writeln!(
                out,
                "CD image: {} with {} ({} tracks, playing time {})",
                disc.image,
                disc.cue,
                disc.tracks.len(),
                disc.playing_time
            );
            for t in &disc.tracks {
                let _ = writeln!(
                    out,
                    "  track {:02} at {}, {} long",
                    t.number, t.index_01, t.length
                );
            }
            if let Some(ddp) = &disc.ddp {
                let _ = writeln!(
                    out,
                    "DDP 2.0 image: {ddp} (PQ sheet in PQLIST.TXT and PQLIST.HTML)"
                );
            }
        }
        if let Some(pack) = &self.pack {
            let _ = writeln!(out, "Listening pack: {pack}");
        }
        if let Some(preview) = &self.preview {
            let _ = writeln!(out, "Gapless preview: {preview}");
        }
        out
    }
}

fn num(v: f64, unit: &str) -> String {
    if v.is_finite() {
        format!("{v:>8.1} {unit}")
    } else {
        format!("{:>8} {unit}", "-inf")
    }
}

fn file_table(out: &mut String, f: &FileReport) {
    let _ = writeln!(
        out,
        "{}  ({} Hz, {}, {:.2} s) -> {}",
        f.name,
        f.sample_rate,
        if f.channels == 1 { "mono" } else { "stereo" },
        f.duration_seconds,
        f.output.as_deref().unwrap_or("(dry run, not written)")
    );
    let _ = writeln!(
        out,
        "  settings: {}, {} output, limiter drive {:.2} dB, output gain {:.2} dB, latency {} \
         samples (compensated)",
        f.settings, f.output_format, f.limiter_drive_db, f.output_gain_db, f.latency_samples
    );
    let _ = writeln!(out, "  {:<28}{:>13}{:>13}", "", "before", "after");
    let rows: [(&str, f32, f32, &str); 5] = [
        (
            "Integrated loudness",
            f.before.integrated_lufs,
            f.after.integrated_lufs,
            "LUFS",
        ),
        (
            "Loudness range",
            f.before.loudness_range_lu,
            f.after.loudness_range_lu,
            "LU  ",
        ),
        (
            "True peak",
            f.before.true_peak_dbtp,
            f.after.true_peak_dbtp,
            "dBTP",
        ),
        (
            "Sample peak",
            f.before.sample_peak_dbfs,
            f.after.sample_peak_dbfs,
            "dBFS",
        ),
        ("PLR", f.before.plr_db, f.after.plr_db, "dB  "),
    ];
    for (label, before, after, unit) in rows {
        let _ = writeln!(
            out,
            "  {:<28}{}{}",
            label,
            num(f64::from(before), unit),
            num(f64::from(after), unit)
        );
    }
    let gr = &f.gain_reduction;
    let _ = writeln!(
        out,
        "  Compressor GR               max {:.1} dB, mean {:.1} dB",
        gr.compressor_max_db, gr.compressor_mean_db
    );
    let _ = writeln!(
        out,
        "  Limiter GR                  max {:.1} dB, mean {:.1} dB, > {LIMITING_THRESHOLD_DB} dB \
         for {:.0} % of the time",
        gr.limiter_max_db,
        gr.limiter_mean_db,
        100.0 * gr.limiter_active_fraction
    );
    if let Some(t) = &f.target {
        let _ = writeln!(
            out,
            "  Target {:.1} LUFS / {:.1} dBTP: {} ({:+.2} LU) after {} render{}{}",
            t.target_lufs,
            t.ceiling_dbtp,
            if t.held_back_by.is_some() {
                "held back"
            } else if t.met {
                "hit"
            } else {
                "MISSED"
            },
            t.error_lu,
            t.passes.len(),
            if t.passes.len() == 1 { "" } else { "s" },
            match t.held_back_by {
                Some(HeldBackBy::PlrFloor) => " (stopped at the --preserve-dynamics PLR floor)",
                Some(HeldBackBy::MaxDrive) => " (stopped at the --preserve-dynamics drive limit)",
                Some(HeldBackBy::DriveRange) => " (the limiter's 24 dB drive was not enough)",
                None => "",
            }
        );
        if t.clipper_assisted {
            let _ = writeln!(
                out,
                "  The limiter's 24 dB drive was not enough: the clipper assisted (soft, 8x, \
                 +{:.0} dB, at the ceiling)",
                super::render::CLIPPER_ASSIST_DRIVE_DB
            );
        }
    }
    if let Some(r) = &f.reference {
        reference_table(out, r, f);
    }
    for warning in &f.warnings {
        let _ = writeln!(out, "  WARNING: {warning}");
    }
}

fn reference_table(out: &mut String, r: &ReferenceReport, f: &FileReport) {
    let _ = writeln!(
        out,
        "  Reference {}: {:.1} LUFS, LRA {:.1} LU, {:.1} dBTP, PLR {:.1} dB (mix PLR {:.1}, \
         master {:.1})",
        r.name,
        r.integrated_lufs,
        r.loudness_range_lu,
        r.true_peak_dbtp,
        r.plr_db,
        f.before.plr_db,
        f.after.plr_db
    );
    if let Some(m) = &r.tonal_match {
        let octaves: Vec<String> = [63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0]
            .iter()
            .map(|&f| {
                let (mid, side) = m.at(f);
                format!("{f:.0} Hz {mid:+.1}/{side:+.1}")
            })
            .collect();
        let _ = writeln!(
            out,
            "  Tonal match {:.0} %, width {:.0} % ({:.2} oct smoothing, bound {:.0} dB), \
             mid/side dB: {}",
            100.0 * m.amount,
            100.0 * m.width_amount,
            m.smoothing_octaves,
            m.bound_db,
            octaves.join(", ")
        );
        if !m.bands_at_bound_hz.is_empty() {
            let at: Vec<String> = m
                .bands_at_bound_hz
                .iter()
                .map(|f| format!("{f:.0} Hz"))
                .collect();
            let _ = writeln!(
                out,
                "  The bound of {:.0} dB held back the match at {}",
                m.bound_db,
                at.join(", ")
            );
        }
    }
    let _ = writeln!(
        out,
        "  Tonal difference to the reference (dB, third octaves, RMS 40 Hz-12.5 kHz): mix {:.2}, \
         master {:.2}",
        r.mix_rms_difference_db, r.master_rms_difference_db
    );
    let cells = |values: &[Option<f64>]| -> String {
        values
            .iter()
            .map(|v| v.map_or("    -".to_string(), |d| format!("{d:>+5.1}")))
            .collect::<Vec<_>>()
            .join("")
    };
    let names: String = r
        .bands_hz
        .iter()
        .map(|f| {
            if *f >= 1000.0 {
                format!("{:>4}k", format!("{}", (f / 100.0).round() / 10.0))
            } else {
                format!("{:>5}", format!("{f:.0}"))
            }
        })
        .collect();
    let _ = writeln!(out, "    {:<8}{names}", "Hz");
    let _ = writeln!(out, "    {:<8}{}", "mix", cells(&r.mix_minus_reference_db));
    let _ = writeln!(
        out,
        "    {:<8}{}",
        "master",
        cells(&r.master_minus_reference_db)
    );
}
