//! Delivery targets and the streaming-normalisation preview.
//!
//! Streaming services play every track at their own reference loudness: a master louder than
//! the reference is turned down (its extra loudness is lost, its crushed dynamics are not), a
//! quieter one is turned up by some services only as far as its peaks allow. The preview shows
//! what each service would do to the current master, from its integrated loudness and true
//! peak. Figures are the services' published reference levels (as of 2026); the up-gain rule
//! (peak-limited to -1 dBTP) follows Spotify's and Apple Music's documented behaviour, the
//! others only turn down.

use crate::dsp::util::range::Range;

/// A loudness target with its true-peak ceiling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub name: &'static str,
    pub integrated_lufs: f32,
    pub ceiling_dbtp: f32,
}

/// The `target` parameter's presets, in the order of the parameter's choices.
/// Integrated loudness of the custom delivery target, LUFS.
pub const CUSTOM_TARGET_LUFS: Range = Range::new(-30.0, -5.0, -14.0, "LUFS");

pub const PRESET_TARGETS: [Target; 4] = [
    Target {
        name: "Spotify / YouTube",
        integrated_lufs: -14.0,
        ceiling_dbtp: -1.0,
    },
    Target {
        name: "Apple Music",
        integrated_lufs: -16.0,
        ceiling_dbtp: -1.0,
    },
    Target {
        name: "Loud master / club",
        integrated_lufs: -9.0,
        ceiling_dbtp: -0.3,
    },
    Target {
        name: "EBU R128 broadcast",
        integrated_lufs: -23.0,
        ceiling_dbtp: -1.0,
    },
];

/// The offline renderer's Red Book CD delivery (`fairmaster-render --target cd`): 44.1 kHz,
/// 16-bit, dithered, at this loudness and ceiling.
///
/// No standard sets a CD's loudness: the Red Book (IEC 60908) fixes the format, not the level,
/// and commercial CDs range from about -20 LUFS (classical) to -6 LUFS (the loudness war). The
/// default is -12 LUFS: 2 LU above the loudest streaming reference (-14), about where dynamic
/// pop and rock CDs sit, and with a -0.3 dBTP ceiling it leaves a peak-to-loudness ratio of
/// up to 11.7 dB, so the limiter shaves peaks instead of working all the time (the former
/// -9 LUFS default held orchestral music in the limiter 99 % of the time, PLR 15.2 -> 8.7 dB).
/// -0.3 dBTP: a CD is not re-encoded to a lossy format by the player, so the -1 dBTP margin
/// of streaming is not needed; 0.3 dB covers the inter-sample overs of consumer DACs'
/// reconstruction filters. Another loudness: `--target cd:-10`.
pub const CD_DELIVERY: Target = Target {
    name: "CD (Red Book)",
    integrated_lufs: -12.0,
    ceiling_dbtp: -0.3,
};

/// Red Book audio: 44.1 kHz, 16-bit linear PCM, stereo (IEC 60908).
pub const CD_SAMPLE_RATE_HZ: u32 = 44_100;

/// How a service treats tracks quieter than its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpGain {
    /// Never turns up.
    None,
    /// Turns up, but only until the true peak reaches -1 dBTP.
    PeakLimited,
}

/// A streaming service's normalisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Platform {
    pub name: &'static str,
    pub reference_lufs: f32,
    pub up_gain: UpGain,
}

pub const PLATFORMS: [Platform; 6] = [
    Platform {
        name: "Spotify",
        reference_lufs: -14.0,
        up_gain: UpGain::PeakLimited,
    },
    Platform {
        name: "YouTube",
        reference_lufs: -14.0,
        up_gain: UpGain::None,
    },
    Platform {
        name: "Apple Music",
        reference_lufs: -16.0,
        up_gain: UpGain::PeakLimited,
    },
    Platform {
        name: "Tidal",
        reference_lufs: -14.0,
        up_gain: UpGain::None,
    },
    Platform {
        name: "Amazon Music",
        reference_lufs: -14.0,
        up_gain: UpGain::None,
    },
    Platform {
        name: "Deezer",
        reference_lufs: -15.0,
        up_gain: UpGain::None,
    },
];

/// Peak ceiling up-gain may not cross.
const UP_GAIN_PEAK_LIMIT_DBTP: f32 = -1.0;

impl Platform {
    /// Gain in dB the service would apply to a master with this integrated loudness and
    /// true-peak maximum (negative = turned down). `None` when the loudness is unknown.
    pub fn normalisation_gain_db(&self, integrated_lufs: f32, true_peak_dbtp: f32) -> Option<f32> {
        if !integrated_lufs.is_finite() {
            return None;
        }
        let gain = self.reference_lufs - integrated_lufs;
        if gain <= 0.0 {
            return Some(gain);
        }
        Some(match self.up_gain {
            UpGain::None => 0.0,
            UpGain::PeakLimited => {
                let headroom = if true_peak_dbtp.is_finite() {
                    (UP_GAIN_PEAK_LIMIT_DBTP - true_peak_dbtp).max(0.0)
                } else {
                    gain
                };
                gain.min(headroom)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loud_master_is_turned_down_by_the_excess() {
        // A -8 LUFS master on a -14 LUFS service loses 6 dB.
        for p in PLATFORMS.iter().filter(|p| p.reference_lufs == -14.0) {
            assert_eq!(
                p.normalisation_gain_db(-8.0, -0.3),
                Some(-6.0),
                "{}",
                p.name
            );
        }
        let apple = PLATFORMS[2];
        assert_eq!(apple.normalisation_gain_db(-8.0, -0.3), Some(-8.0));
    }

    #[test]
    fn quiet_master_is_turned_up_only_within_peak_headroom() {
        let spotify = PLATFORMS[0];
        // -20 LUFS with peaks at -6 dBTP: 6 dB wanted, 5 dB of headroom to -1 dBTP.
        assert_eq!(spotify.normalisation_gain_db(-20.0, -6.0), Some(5.0));
        // Plenty of headroom: the full 6 dB.
        assert_eq!(spotify.normalisation_gain_db(-20.0, -12.0), Some(6.0));
        let youtube = PLATFORMS[1];
        assert_eq!(youtube.normalisation_gain_db(-20.0, -12.0), Some(0.0));
    }

    #[test]
    fn unknown_loudness_gives_no_figure() {
        assert_eq!(
            PLATFORMS[0].normalisation_gain_db(f32::NEG_INFINITY, -1.0),
            None
        );
    }
}
