//! The options' values: each parser's message says what the option takes (clap names the
//! option and the value given).

use crate::offline::album::AlbumMode;
use crate::offline::audio_io::OutputFormat;
use crate::offline::listen::ListenMode;
use crate::offline::render::DynamicsLimits;
use crate::targets::{CD_DELIVERY, PRESET_TARGETS};

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

pub(super) fn parse_listen_mode(text: &str) -> Result<ListenMode, String> {
    ListenMode::parse(text).ok_or_else(|| "must be master, original or reference".into())
}

pub(super) fn parse_set(text: &str) -> Result<(String, String), String> {
    let (id, value) = text
        .split_once('=')
        .ok_or_else(|| format!("--set needs ID=VALUE, got '{text}'"))?;
    Ok((id.trim().to_string(), value.trim().to_string()))
}

pub(super) fn parse_bits(text: &str) -> Result<OutputFormat, String> {
    OutputFormat::parse(text).ok_or_else(|| "--bits must be 16, 24 or 32f".into())
}

pub(super) fn parse_album_mode(text: &str) -> Result<AlbumMode, String> {
    AlbumMode::parse(text).ok_or_else(|| "--album-mode must be relative or same".into())
}

pub(super) fn parse_loop(text: &str) -> Result<(f64, f64), String> {
    text.split_once(':')
        .and_then(|(a, b)| {
            let (a, b) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
            (a.is_finite() && b.is_finite() && a >= 0.0 && b > a).then_some((a, b))
        })
        .ok_or_else(|| "--loop needs START:END in seconds with END > START >= 0".into())
}

pub(super) fn parse_reference_trim(text: &str) -> Result<f32, String> {
    text.trim()
        .trim_end_matches("dB")
        .trim()
        .parse::<f32>()
        .ok()
        .filter(|t| t.is_finite() && t.abs() <= 24.0)
        .ok_or_else(|| "--reference-trim needs a gain from -24 to 24 dB".into())
}

pub(super) fn parse_match_eq(text: &str) -> Result<f64, String> {
    text.trim()
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|a| (0.0..=100.0).contains(a))
        .map(|a| a / 100.0)
        .ok_or_else(|| "--match-eq needs an amount from 0 to 100 %".into())
}

pub(super) fn parse_match_width(text: &str) -> Result<f64, String> {
    parse_match_eq(text).map_err(|_| "--match-width needs an amount from 0 to 100 %".into())
}

pub(super) fn parse_match_bound(text: &str) -> Result<f64, String> {
    text.trim()
        .trim_end_matches("dB")
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|b| (1.0..=crate::analysis::tonal_match::MAX_BOUND_DB).contains(b))
        .ok_or_else(|| "--match-bound needs 1 to 24 dB".into())
}

pub(super) fn parse_match_smoothing(text: &str) -> Result<f64, String> {
    match text.trim().split_once('/') {
        Some((a, b)) => a
            .trim()
            .parse::<f64>()
            .ok()
            .zip(b.trim().parse::<f64>().ok())
            .map(|(a, b)| a / b),
        None => text.trim().parse::<f64>().ok(),
    }
    .filter(|x| x.is_finite() && (0.0..=2.0).contains(x))
    .ok_or_else(|| "--match-smoothing needs 0 to 2 octaves (e.g. 1/3 or 0.5)".into())
}

pub(super) fn parse_dynamics_limits(text: &str) -> Result<DynamicsLimits, String> {
    let t = text.trim().to_ascii_lowercase();
    let number = |x: &str| x.trim().trim_end_matches("db").trim().parse::<f32>().ok();
    let mut limits = DynamicsLimits::default();
    if let Some(drive) = t.strip_prefix("drive:") {
        limits.max_drive_db = Some(
            number(drive)
                .filter(|d| (0.0..=24.0).contains(d))
                .ok_or("--preserve-dynamics drive:DB needs 0 to 24 dB")?,
        );
    } else {
        let plr = t.strip_prefix("plr:").unwrap_or(&t);
        limits.min_plr_db = Some(number(plr).filter(|p| (3.0..=30.0).contains(p)).ok_or(
            "--preserve-dynamics needs a PLR floor from 3 to 30 dB (e.g. 10) or drive:DB",
        )?);
    }
    Ok(limits)
}

pub(super) fn parse_reference_offset(text: &str) -> Result<f64, String> {
    text.trim()
        .trim_end_matches('s')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && x.abs() <= 3600.0)
        .ok_or_else(|| "--reference-offset needs seconds within +-3600".into())
}

pub(super) fn parse_jobs(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=256).contains(n))
        .ok_or_else(|| "--jobs needs a count from 1 to 256".into())
}
