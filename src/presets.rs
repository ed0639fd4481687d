//! Named chain settings used as honest starting points and as the "realistic settings" of the
//! benchmarks and tests (so all of them measure the same thing).

use crate::chain::ChainSettings;
use crate::dsp::eq::{BandChannels, BellBand, CutBand, CutSlope, EqSettings, ShelfBand};

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
