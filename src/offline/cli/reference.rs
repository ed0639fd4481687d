//! The reference of `--target reference` and `--match-eq`: loaded, analysed, compared.

use std::path::Path;

use super::*;
use crate::analysis::tonal::TonalBalance;
use crate::offline::analysis::analyse;
use crate::offline::{Audio, OfflineError};
use crate::reference::decode::{decode_reference, MAX_REFERENCE_BYTES};
use crate::reference::track::{ReferenceTrack, TrackSummary};

/// The reference of `--target reference` / `--match-eq`, analysed by the plugin's own
/// reference loader at one sample rate.
pub(super) struct LoadedReference {
    pub(super) track: ReferenceTrack,
    pub(super) tonal: TonalBalance,
    pub(super) summary: TrackSummary,
}

pub(super) fn load_reference(
    o: &Options,
    path: &Path,
    rate: u32,
) -> Result<LoadedReference, OfflineError> {
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
pub(super) const RMS_DIFFERENCE_HZ: (f64, f64) = (40.0, 12_500.0);

pub(super) fn rms_difference(bands_hz: &[f64], deltas: &[Option<f64>]) -> f64 {
    let (lo, hi) = RMS_DIFFERENCE_HZ;
    let values: Vec<f64> = bands_hz
        .iter()
        .zip(deltas)
        .filter(|(f, _)| (lo..=hi).contains(*f))
        .filter_map(|(_, d)| *d)
        .collect();
    (values.iter().map(|d| d * d).sum::<f64>() / values.len().max(1) as f64).sqrt()
}
