//! The `analyze` job ([`run_analyze`]): the inputs measured as the mastering job takes them in
//! (decoded and resampled the same way, the same BS.1770 / EBU R128 analysis and the same
//! reference comparison), reported without rendering or writing anything.

use std::fmt::Write as _;

use serde::Serialize;

use super::master::{
    decode_inputs, load_references, loudness_target, measure_inputs, thread_pool, Measured,
};
use super::reference::rms_difference;
use super::*;
use crate::analysis::tonal::{analyse_stereo, THIRD_NOMINAL_HZ};
use crate::offline::album::{self, AlbumMode};
use crate::offline::analysis::Analysis;
use crate::offline::OfflineError;

/// What reaching `--target` would take, before any limiting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetGap {
    /// This song's loudness target (album balancing applied), LUFS.
    pub target_lufs: f64,
    pub ceiling_dbtp: f32,
    /// Gain to the target, dB (negative: turn down).
    pub gain_db: f64,
    /// Where the true peak would sit against the ceiling with that gain alone, dB: above 0
    /// the limiter (or the compressor) has to take that much off the peaks.
    pub peak_over_ceiling_db: f64,
}

/// The reference and how the mix compares with it (no master: nothing is rendered).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceComparison {
    pub name: String,
    /// Over the `--loop` region when one is given.
    pub integrated_lufs: f32,
    pub loudness_range_lu: f32,
    pub true_peak_dbtp: f32,
    pub plr_db: f32,
    /// Third-octave centres of the differences below.
    pub bands_hz: Vec<f64>,
    /// Mix minus reference per band, dB, both loudness normalised; `null` where a programme
    /// lacks the band.
    pub mix_minus_reference_db: Vec<Option<f64>>,
    /// RMS of those differences over 40 Hz - 12.5 kHz, dB.
    pub mix_rms_difference_db: f64,
}

/// One input measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputReport {
    pub name: String,
    /// The rate it is measured (and would be mastered) at.
    pub sample_rate: u32,
    pub channels: usize,
    pub duration_seconds: f64,
    /// The file's own rate when it was resampled.
    pub resampled_from_hz: Option<u32>,
    pub figures: Analysis,
    pub target: Option<TargetGap>,
    pub reference: Option<ReferenceComparison>,
}

/// The whole `analyze` run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyzeReport {
    pub files: Vec<InputReport>,
    /// With several inputs: the album's loudness spread (loudest - quietest), LU.
    pub album_spread_lu: Option<f64>,
    /// With several inputs and `--target`: how the songs' targets were set.
    pub album_mode: Option<AlbumMode>,
}

/// Measures the inputs (or the demo mix) and the reference; renders and writes nothing.
pub fn run_analyze(o: &Options) -> Result<AnalyzeReport, OfflineError> {
    // The settings only give the ceiling of a target without one.
    let settings = build_settings(o)?.chain_settings();
    let pool = thread_pool(o)?;
    let jobs = decode_inputs(o, &pool)?;
    let references = load_references(o, &jobs)?;
    let target = loudness_target(o, &settings, &references)?;
    let Measured {
        figures,
        input_lufs,
        track_targets,
    } = measure_inputs(o, &pool, &jobs, target);
    let album_mode = jobs.len() > 1;
    let reference_name = o
        .reference
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let files = jobs
        .iter()
        .zip(figures.iter().zip(&input_lufs))
        .enumerate()
        .map(|(k, (job, (figures, lufs)))| {
            let rate = job.input.sample_rate;
            let gap = target.zip(track_targets.as_ref()).map(|(t, targets)| {
                let gain_db = targets[k] - lufs;
                TargetGap {
                    target_lufs: targets[k],
                    ceiling_dbtp: t.ceiling_dbtp,
                    gain_db,
                    peak_over_ceiling_db: f64::from(figures.true_peak_dbtp) + gain_db
                        - f64::from(t.ceiling_dbtp),
                }
            });
            let reference = references
                .iter()
                .find(|(r, _)| *r == rate)
                .map(|(_, loaded)| {
                    let (l, r) = job.input.left_right();
                    let mix_delta = analyse_stereo(l, r, rate as f32).map_or_else(
                        || vec![None; THIRD_NOMINAL_HZ.len()],
                        |mix| mix.third_octave_delta_db(&loaded.tonal),
                    );
                    ReferenceComparison {
                        name: reference_name.clone(),
                        integrated_lufs: loaded.summary.integrated_lufs,
                        loudness_range_lu: loaded.summary.loudness_range_lu,
                        true_peak_dbtp: loaded.summary.true_peak_dbtp,
                        plr_db: loaded.summary.plr_db,
                        bands_hz: THIRD_NOMINAL_HZ.to_vec(),
                        mix_rms_difference_db: rms_difference(&THIRD_NOMINAL_HZ, &mix_delta),
                        mix_minus_reference_db: mix_delta,
                    }
                });
            InputReport {
                name: job.name.clone(),
                sample_rate: rate,
                channels: job.input.channels.len(),
                duration_seconds: job.input.duration_seconds(),
                resampled_from_hz: job.resampled_from_hz,
                figures: *figures,
                target: gap,
                reference,
            }
        })
        .collect();
    Ok(AnalyzeReport {
        files,
        album_spread_lu: album_mode.then(|| album::spread_lu(&input_lufs)),
        album_mode: (album_mode && target.is_some()).then_some(o.album_mode),
    })
}

fn num(v: f32, unit: &str) -> String {
    if v.is_finite() {
        format!("{v:>8.1} {unit}")
    } else {
        format!("{:>8} {unit}", "-inf")
    }
}

impl AnalyzeReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Human-readable tables.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            let _ = writeln!(
                out,
                "{}  ({} Hz{}, {}, {:.2} s)",
                f.name,
                f.sample_rate,
                f.resampled_from_hz
                    .map_or(String::new(), |from| format!(" from {from} Hz")),
                if f.channels == 1 { "mono" } else { "stereo" },
                f.duration_seconds
            );
            let a = &f.figures;
            for (label, value, unit) in [
                ("Integrated loudness", a.integrated_lufs, "LUFS"),
                ("Loudness range", a.loudness_range_lu, "LU"),
                ("True peak", a.true_peak_dbtp, "dBTP"),
                ("Sample peak", a.sample_peak_dbfs, "dBFS"),
                ("PLR", a.plr_db, "dB"),
            ] {
                let _ = writeln!(out, "  {label:<28}{}", num(value, unit));
            }
            if let Some(t) = &f.target {
                let peaks = if t.peak_over_ceiling_db > 0.0 {
                    format!(
                        "the true peak would sit {:.1} dB over the ceiling: limiting needed",
                        t.peak_over_ceiling_db
                    )
                } else {
                    format!(
                        "the true peak would stay {:.1} dB under the ceiling",
                        -t.peak_over_ceiling_db
                    )
                };
                let _ = writeln!(
                    out,
                    "  Target {:.1} LUFS / {:.1} dBTP: {:+.1} dB of gain; {peaks}",
                    t.target_lufs, t.ceiling_dbtp, t.gain_db
                );
            }
            if let Some(r) = &f.reference {
                let _ = writeln!(
                    out,
                    "  Reference {}: {:.1} LUFS, LRA {:.1} LU, {:.1} dBTP, PLR {:.1} dB",
                    r.name, r.integrated_lufs, r.loudness_range_lu, r.true_peak_dbtp, r.plr_db
                );
                let _ = writeln!(
                    out,
                    "  Tonal difference mix - reference (dB, third octaves): RMS {:.2} dB over \
                     40 Hz-12.5 kHz",
                    r.mix_rms_difference_db
                );
                let bands: Vec<String> = r
                    .bands_hz
                    .iter()
                    .zip(&r.mix_minus_reference_db)
                    .filter_map(|(hz, d)| d.map(|d| format!("{hz:.0} Hz {d:+.1}")))
                    .collect();
                let _ = writeln!(out, "    {}", bands.join(", "));
            }
            out.push('\n');
        }
        if let Some(spread) = self.album_spread_lu {
            let _ = writeln!(out, "Album: loudness spread {spread:.2} LU");
        }
        out
    }
}
