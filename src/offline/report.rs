//! The before/after report: a plain-text table per file (and for the album), or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::album::AlbumSummary;
use super::analysis::{Analysis, GainReductionStats, LIMITING_THRESHOLD_DB};
use super::render::TargetPass;

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
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub files: Vec<FileReport>,
    pub album: Option<AlbumSummary>,
    pub preview: Option<String>,
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
            "  Target {:.1} LUFS / {:.1} dBTP: {} ({:+.2} LU) after {} render{}",
            t.target_lufs,
            t.ceiling_dbtp,
            if t.met { "hit" } else { "MISSED" },
            t.error_lu,
            t.passes.len(),
            if t.passes.len() == 1 { "" } else { "s" }
        );
    }
}
