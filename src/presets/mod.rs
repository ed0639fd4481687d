//! Presets: the factory presets (named chain settings used as honest starting points and as the
//! "realistic settings" of the benchmarks and tests, so all of them measure the same thing) and
//! the preset format ([`param_set`]: preset files, plugin states, parameter values by ID).
//!
//! Both the plugin and the offline application read them: the editor applies factory presets
//! through host gestures (`editor/presets.rs`) and stores snapshots in the preset format's
//! `params` form; `fairmaster-render` builds its settings from the same parameter set.

// Presets read best as "defaults, then these changes".
#![allow(clippy::field_reassign_with_default)]

pub mod param_set;

use crate::dsp::filters::eq::{BandChannels, BellBand, CutBand, CutSlope, EqSettings, ShelfBand};
use crate::params::TargetParam;
use crate::stages::ChainSettings;

/// A typical modern master: subsonic cut, a little low-mid clean-up and air, 2:1 glue at
/// -20 dBFS, slightly wider with mono bass, and the limiter driven by 4 dB. Every module works.
pub fn reference_master(linear_phase_eq: bool) -> ChainSettings {
    let defaults = EqSettings::default();
    let mut s = ChainSettings {
        input_gain_db: 3.0,
        eq_enabled: true,
        eq_linear_phase: linear_phase_eq,
        eq: EqSettings {
            low_cut: CutBand {
                enabled: true,
                freq_hz: 25.0,
                slope: CutSlope::Db24,
                channels: BandChannels::Stereo,
            },
            low_shelf: ShelfBand {
                enabled: true,
                freq_hz: 90.0,
                gain_db: 1.5,
                q: 0.7,
                channels: BandChannels::Mid,
            },
            high_shelf: ShelfBand {
                enabled: true,
                freq_hz: 9_000.0,
                gain_db: 2.0,
                q: 0.7,
                channels: BandChannels::Stereo,
            },
            bells: [
                BellBand {
                    enabled: true,
                    freq_hz: 300.0,
                    gain_db: -2.0,
                    q: 1.2,
                    channels: BandChannels::Stereo,
                },
                BellBand {
                    enabled: true,
                    freq_hz: 3_500.0,
                    gain_db: 1.0,
                    q: 0.8,
                    channels: BandChannels::Side,
                },
                defaults.bells[2],
                defaults.bells[3],
            ],
            ..defaults
        },
        stereo_enabled: true,
        ..ChainSettings::default()
    };
    s.compressor.enabled = true;
    s.compressor.threshold_db = -20.0;
    s.compressor.ratio = 2.0;
    s.compressor.makeup_db = 2.0;
    s.stereo.width = 1.2;
    s.stereo.mono_bass_enabled = true;
    s.limiter.drive_db = 4.0;
    s
}

// ---------------------------------------------------------------------------------------------
// Factory presets shown in the editor: honest starting points.

/// A factory preset: chain settings plus, optionally, the delivery target it aims at.
pub struct FactoryPreset {
    /// Short name for the command line (`fairmaster-render --preset streaming`).
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub target: Option<TargetParam>,
    pub settings: fn() -> ChainSettings,
}

fn neutral() -> ChainSettings {
    ChainSettings::default()
}

fn streaming() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.eq_enabled = true;
    s.eq.low_cut = CutBand {
        enabled: true,
        freq_hz: 25.0,
        slope: CutSlope::Db12,
        channels: BandChannels::Stereo,
    };
    s.compressor.enabled = true;
    s.compressor.threshold_db = -18.0;
    s.compressor.ratio = 2.0;
    s.compressor.knee_db = 6.0;
    s.compressor.attack_ms = 30.0;
    s.compressor.release_ms = 150.0;
    s.compressor.auto_release = true;
    s.compressor.makeup_db = 1.0;
    s.limiter.enabled = true;
    s.limiter.drive_db = 3.0;
    s.limiter.ceiling_db = -1.0;
    s
}

/// Dynamic EQ (issue 28): the streaming chain with a de-esser, bell 4 at 7 kHz (Q 3, 0 dB
/// static) cutting by up to 4 dB when the sibilance band passes -30 dBFS, fast attack (1 ms),
/// 60 ms release. Below the threshold the EQ is the streaming preset's.
fn deess() -> ChainSettings {
    let mut s = streaming();
    s.eq.bells[3] = BellBand {
        enabled: true,
        freq_hz: 7_000.0,
        gain_db: 0.0,
        q: 3.0,
        channels: BandChannels::Stereo,
    };
    let d = &mut s.eq.dynamic[4];
    d.enabled = true;
    d.threshold_db = -30.0;
    d.range_db = -4.0;
    d.ratio = 4.0;
    d.attack_ms = 1.0;
    d.release_ms = 60.0;
    s
}

fn glue() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.compressor.enabled = true;
    s.compressor.threshold_db = -22.0;
    s.compressor.ratio = 1.5;
    s.compressor.knee_db = 8.0;
    s.compressor.attack_ms = 30.0;
    s.compressor.release_ms = 200.0;
    s.compressor.auto_release = true;
    s.compressor.makeup_db = 1.0;
    s
}

fn club() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.eq_enabled = true;
    s.eq.low_cut = CutBand {
        enabled: true,
        freq_hz: 30.0,
        slope: CutSlope::Db24,
        channels: BandChannels::Stereo,
    };
    s.eq.low_shelf = ShelfBand {
        enabled: true,
        freq_hz: 80.0,
        gain_db: 1.0,
        q: 0.7,
        channels: BandChannels::Mid,
    };
    s.compressor.enabled = true;
    s.compressor.threshold_db = -16.0;
    s.compressor.ratio = 3.0;
    s.compressor.attack_ms = 10.0;
    s.compressor.release_ms = 100.0;
    s.compressor.auto_release = true;
    s.compressor.makeup_db = 2.0;
    s.stereo_enabled = true;
    s.stereo.mono_bass_enabled = true;
    s.stereo.mono_bass_hz = 120.0;
    s.limiter.enabled = true;
    s.limiter.drive_db = 8.0;
    s.limiter.ceiling_db = -0.3;
    s
}

fn broadcast() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.compressor.enabled = true;
    s.compressor.threshold_db = -26.0;
    s.compressor.ratio = 2.0;
    s.compressor.attack_ms = 20.0;
    s.compressor.auto_release = true;
    s.limiter.enabled = true;
    s.limiter.drive_db = 0.0;
    s.limiter.ceiling_db = -1.0;
    s
}

fn reference() -> ChainSettings {
    reference_master(false)
}

/// The factory preset called `name`: its [`FactoryPreset::id`] or its display name, in any
/// case.
/// Loud without crushing: the peaks go to a soft clipper (8x oversampled) before the limiter,
/// so the limiter only catches what the clip leaves (the inter-sample overshoot) instead of
/// pulling the whole mix down on every drum hit; a touch of even-harmonic saturation in the
/// lows and odd in the highs adds density the loudness meter does not charge for (its
/// automatic gain keeps the stage loudness-neutral).
fn loud() -> ChainSettings {
    use crate::dsp::shaping::curves::{ClipCurve, SaturationCurve};
    let mut s = ChainSettings::default();
    s.eq_enabled = true;
    s.eq.low_cut = CutBand {
        enabled: true,
        freq_hz: 25.0,
        slope: CutSlope::Db24,
        channels: BandChannels::Stereo,
    };
    s.compressor.enabled = true;
    s.compressor.threshold_db = -18.0;
    s.compressor.ratio = 1.5;
    s.compressor.knee_db = 12.0;
    s.compressor.attack_ms = 30.0;
    s.compressor.release_ms = 200.0;
    s.compressor.auto_release = true;
    s.compressor.makeup_db = 1.0;
    s.saturation.enabled = true;
    s.saturation.band[0].curve = SaturationCurve::Tube;
    s.saturation.band[0].drive_db = 4.0;
    s.saturation.band[0].mix_percent = 50.0;
    s.saturation.band[1].drive_db = 0.0;
    s.saturation.band[2].curve = SaturationCurve::Tape;
    s.saturation.band[2].drive_db = 3.0;
    s.saturation.band[2].mix_percent = 50.0;
    s.clipper.enabled = true;
    s.clipper.curve = ClipCurve::Soft;
    s.clipper.oversampling = 8;
    s.clipper.drive_db = 4.0;
    s.clipper.ceiling_db = -1.0;
    // No drive into the limiter: the clip already meets its ceiling, so it only catches the
    // inter-sample overshoot the clip leaves. The input gain sets the loudness.
    s.limiter.enabled = true;
    s.limiter.drive_db = 0.0;
    s.limiter.ceiling_db = -1.0;
    s
}

/// Band-wise control (issue 28): the lows held steady (slow 2:1), the low mids left alone, the
/// harsh upper mids caught fast (3:1 from 2.5 kHz), and the air brought up a little when it is
/// quiet (upward 1.5:1, at most 3 dB), into the limiter at -1 dBTP.
fn multiband() -> ChainSettings {
    use crate::dsp::dynamics::multiband::{BandSettings, Direction};
    let mut s = ChainSettings::default();
    s.multiband.enabled = true;
    s.multiband.bands = 4;
    s.multiband.splits_hz = [120.0, 2_500.0, 8_000.0, 12_000.0];
    let band = |threshold_db, ratio, attack_ms, release_ms| BandSettings {
        threshold_db,
        ratio,
        knee_db: 6.0,
        attack_ms,
        release_ms,
        range_db: 6.0,
        ..BandSettings::default()
    };
    s.multiband.band[0] = BandSettings {
        auto_release: true,
        ..band(-24.0, 2.0, 30.0, 250.0)
    };
    s.multiband.band[1] = band(-20.0, 1.0, 20.0, 150.0);
    s.multiband.band[2] = band(-30.0, 3.0, 3.0, 80.0);
    s.multiband.band[3] = BandSettings {
        direction: Direction::Upward,
        range_db: 3.0,
        ..band(-40.0, 1.5, 10.0, 200.0)
    };
    s.limiter.enabled = true;
    s.limiter.drive_db = 2.0;
    s.limiter.ceiling_db = -1.0;
    s
}

pub fn factory_preset(name: &str) -> Option<&'static FactoryPreset> {
    let name = name.trim();
    FACTORY
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(name) || p.name.eq_ignore_ascii_case(name))
}

pub const FACTORY: [FactoryPreset; 9] = [
    FactoryPreset {
        id: "neutral",
        name: "Neutral / reset",
        description: "Every module off except the safety limiter at -1 dBTP.",
        target: None,
        settings: neutral,
    },
    FactoryPreset {
        id: "streaming",
        name: "Streaming -14 LUFS",
        description:
            "Subsonic cut, 2:1 glue, limiter at -1 dBTP with 3 dB drive. Set the input or \
                      drive until the output integrated loudness reads about -14 LUFS.",
        target: Some(TargetParam::Streaming),
        settings: streaming,
    },
    FactoryPreset {
        id: "deess",
        name: "Streaming + de-esser",
        description: "The streaming chain with a dynamic 7 kHz bell (Q 3) that cuts up to 4 dB \
                      of sibilance above -30 dBFS in its band; below that the EQ is static. \
                      Lower the Bell 4 Dyn Threshold until only the esses move it.",
        target: Some(TargetParam::Streaming),
        settings: deess,
    },
    FactoryPreset {
        id: "glue",
        name: "Gentle glue",
        description: "1.5:1 slow-attack compression with a wide knee; nothing else.",
        target: None,
        settings: glue,
    },
    FactoryPreset {
        id: "club",
        name: "Loud club",
        description: "24 dB/oct low cut, 3:1, mono bass below 120 Hz, limiter driven 8 dB into \
                      -0.3 dBTP. Loud by design: check PLR and the normalisation preview.",
        target: Some(TargetParam::CdClub),
        settings: club,
    },
    FactoryPreset {
        id: "loud",
        name: "Loud without crushing",
        description: "Soft clipper (8x) 4 dB into -1 dB before the limiter at -1 dBTP (no \
                      drive: it only catches what the clip leaves), light Tube/Tape \
                      saturation, 1.5:1 glue. Set the loudness with the input gain; compare \
                      each stage at matched loudness.",
        target: Some(TargetParam::Streaming),
        settings: loud,
    },
    FactoryPreset {
        id: "multiband",
        name: "Multiband control",
        description: "4-band dynamics: slow 2:1 on the lows, fast 3:1 on harsh upper mids \
                      (2.5-8 kHz), quiet air lifted up to 3 dB (upward 1.5:1), limiter at \
                      -1 dBTP. Solo and compare each band to hear what it does.",
        target: Some(TargetParam::Streaming),
        settings: multiband,
    },
    FactoryPreset {
        id: "broadcast",
        name: "Broadcast R128",
        description: "Light 2:1 control and a -1 dBTP ceiling. Aim the input gain at -23 LUFS \
                      integrated (see the target distance).",
        target: Some(TargetParam::Broadcast),
        settings: broadcast,
    },
    FactoryPreset {
        id: "reference",
        name: "Reference master",
        description: "The project's reference settings: every module working moderately.",
        target: None,
        settings: reference,
    },
];
