//! Album balancing: the loudness relationship between the songs of a record is a mastering
//! decision, not an accident of each song hitting the same number.
//!
//! * [`AlbumMode::Relative`] (default): the mix's relative loudness differences are kept. The
//!   loudest track (by input integrated loudness) is mastered to the target and every other
//!   track to `target - (loudest input - its input)`, so a ballad mixed 4 LU below the single
//!   comes out 4 LU below it.
//! * [`AlbumMode::Same`]: every track to the target (playlist/streaming delivery).
//!
//! Each track's own target is then hit by the same measured search as a single file
//! (`render::render_to_target`), so the relationship holds on the *output* within the
//! search tolerance.

use serde::Serialize;

use super::{Audio, OfflineError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlbumMode {
    Relative,
    Same,
}

impl AlbumMode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "relative" | "keep" => Some(Self::Relative),
            "same" => Some(Self::Same),
            _ => None,
        }
    }
}

/// Per-track integrated loudness targets from the tracks' input loudness.
/// Tracks without measurable loudness (silence, `-inf`) get the album target.
pub fn track_targets(input_lufs: &[f64], target_lufs: f64, mode: AlbumMode) -> Vec<f64> {
    match mode {
        AlbumMode::Same => vec![target_lufs; input_lufs.len()],
        AlbumMode::Relative => {
            let loudest = input_lufs
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            input_lufs
                .iter()
                .map(|&l| {
                    if l.is_finite() && loudest.is_finite() {
                        target_lufs - (loudest - l)
                    } else {
                        target_lufs
                    }
                })
                .collect()
        }
    }
}

/// Loudness spread of a set of tracks: loudest minus quietest integrated loudness, LU.
pub fn spread_lu(lufs: &[f64]) -> f64 {
    let finite: Vec<f64> = lufs.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return 0.0;
    }
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    max - min
}

/// Album summary for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlbumSummary {
    pub mode: AlbumMode,
    pub target_lufs: f64,
    pub input_spread_lu: f64,
    pub output_spread_lu: f64,
    /// Largest deviation of any track's output loudness from its own planned target, LU.
    pub max_track_error_lu: f64,
}

/// Gapless concatenation of the masters in order (the album preview). All tracks must share a
/// sample rate; a mono track is written to both channels when any track is stereo.
pub fn concatenate(tracks: &[&Audio]) -> Result<Audio, OfflineError> {
    let first = tracks
        .first()
        .ok_or_else(|| OfflineError::new("no tracks to concatenate"))?;
    let rate = first.sample_rate;
    if let Some(other) = tracks.iter().find(|t| t.sample_rate != rate) {
        return Err(OfflineError::new(format!(
            "gapless preview needs one sample rate; tracks are at {rate} Hz and {} Hz",
            other.sample_rate
        )));
    }
    let channels = tracks.iter().map(|t| t.channels.len()).max().unwrap_or(1);
    let total: usize = tracks.iter().map(|t| t.frames()).sum();
    let mut out: Vec<Vec<f32>> = (0..channels).map(|_| Vec::with_capacity(total)).collect();
    for track in tracks {
        for (c, channel) in out.iter_mut().enumerate() {
            let source = track.channels.get(c).unwrap_or(&track.channels[0]);
            channel.extend_from_slice(source);
        }
    }
    Ok(Audio {
        sample_rate: rate,
        channels: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_mode_keeps_differences_and_puts_the_loudest_on_target() {
        let t = track_targets(&[-18.0, -22.5, -16.0], -14.0, AlbumMode::Relative);
        assert_eq!(t, vec![-16.0, -20.5, -14.0]);
        assert_eq!(spread_lu(&t), spread_lu(&[-18.0, -22.5, -16.0]));
        let same = track_targets(&[-18.0, -22.5], -9.0, AlbumMode::Same);
        assert_eq!(same, vec![-9.0, -9.0]);
        let silent = track_targets(&[f64::NEG_INFINITY, -20.0], -14.0, AlbumMode::Relative);
        assert_eq!(silent, vec![-14.0, -14.0]);
    }

    #[test]
    fn concatenation_is_gapless_and_upmixes_mono() {
        let a = Audio {
            sample_rate: 48_000,
            channels: vec![vec![1.0, 2.0], vec![3.0, 4.0]],
        };
        let b = Audio {
            sample_rate: 48_000,
            channels: vec![vec![5.0]],
        };
        let c = concatenate(&[&a, &b]).unwrap();
        assert_eq!(c.channels, vec![vec![1.0, 2.0, 5.0], vec![3.0, 4.0, 5.0]]);
        let d = Audio {
            sample_rate: 44_100,
            channels: vec![vec![0.0]],
        };
        assert!(concatenate(&[&a, &d]).is_err());
    }
}
