//! What the cut sheet measures on each song of the premaster for the cutting engineer, and the
//! thresholds of its warnings. All measurements are of the premaster as written (after the
//! chain), off the audio path, on the whole song.
//!
//! * **Low-end phase.** Below about 300 Hz the groove's vertical (side) excursion is what lifts
//!   the stylus out of the groove; a lathe's cutter head and its limiters fail on out-of-phase
//!   bass. Measured: the stereo correlation `r = Σ L·R / √(Σ L² · Σ R²)` of both channels
//!   low-passed at [`LOW_END_HZ`] (4th-order Butterworth), over the whole song and over 1 s
//!   windows. Warned when the whole song's `r` is negative (the criterion), or when a
//!   window within [`ACTIVE_WINDOW_DB`] of the song's loudest low-band window falls below
//!   [`WORST_WINDOW_CORRELATION`] (a passage strongly out of phase is cut badly whatever the
//!   average). The elliptical EQ makes the premaster mono below its corner, so what this
//!   catches sits between that corner and 300 Hz.
//! * **High frequencies late in a side.** The groove passes the stylus ever slower toward the
//!   label (a 12″ LP's groove speed falls from about 20 to 8.5 inches per second, Aardvark
//!   Mastering's table), so the same treble needs ever sharper groove curvature: the inner
//!   groove loses about 3 dB at 15 kHz and distorts loud treble (tracing distortion).
//!   Measured: the song's level above [`HF_BAND_HZ`] (4th-order Butterworth high-pass, the
//!   mean square of both channels, dBFS). A song is *late* when its middle lies in the last
//!   third of its side's time ([`LATE_FRACTION`]: on a full side of constant groove pitch,
//!   the last third of the time is cut on the innermost, slowest grooves), and *bright* when
//!   that level is above [`HF_WARNING_DBFS`]: more top octave than pink noise (equal
//!   energy per octave, brighter than most music above 10 kHz) mastered to −14 LUFS, which
//!   measures −27.7 dBFS here (−29.7 at −16 LUFS in `tests/vinyl.rs`), with a 1.7 dB margin.
//!   Such a song is loud and bright, and the cutting engineer would rather have it early on
//!   a side (Enormous Door Mastering: "place quieter more dynamic songs as the last song on
//!   a side").
//! * **Sibilance.** What a cutter head must move is the RIAA pre-emphasised signal (+13.7 dB
//!   at 10 kHz against 1 kHz), so sibilants and cymbals break a cut long before they look
//!   loud. Measured with the high-frequency limiter's own detector
//!   ([`pre_emphasised_hf_peak_db`]: the band above its split, RIAA pre-emphasised, sample
//!   peak in dBFS) on the premaster (what the lathe gets), and, when the high-frequency
//!   limiter is in the chain, on the same render without it (what the limiter took). Warned
//!   when the limiter took more than [`SIBILANCE_WARNING_DB`] (a de-esser working that hard is
//!   audible: the mix's sibilance deserves a look) or when the premaster is still over the
//!   limit by more than [`SIBILANCE_TOLERANCE_DB`] (the lathe's own limiter would have to
//!   act).
//! * **Loudness.** Every song's PLR (true peak − integrated loudness) against the job's floor
//!   (see `super` for why a vinyl premaster keeps one).

pub use crate::dsp::dynamics::hf_limiter::pre_emphasised_hf_peak_db;
use crate::dsp::filters::eq_design::butterworth_q4;
use crate::dsp::filters::svf::{SvfCoeffs, SvfState};
use crate::offline::Audio;

/// The top of the low end whose phase is checked (Hz): the figure, and where the groove
/// excursion of bass is what limits a cut.
pub const LOW_END_HZ: f64 = 300.0;
/// The window of the per-passage correlation (s).
pub const CORRELATION_WINDOW_SECONDS: f64 = 1.0;
/// A window counts when its low-band energy is within this of the song's loudest window (dB).
pub const ACTIVE_WINDOW_DB: f64 = 20.0;
/// A counted window with a correlation below this is a passage strongly out of phase.
pub const WORST_WINDOW_CORRELATION: f64 = -0.5;
/// The band whose level tells a bright song (Hz).
pub const HF_BAND_HZ: f64 = 10_000.0;
/// A song whose level above [`HF_BAND_HZ`] is over this is bright (dBFS).
pub const HF_WARNING_DBFS: f64 = -26.0;
/// A song is late on a side when its middle lies past this share of the side's time.
pub const LATE_FRACTION: f64 = 2.0 / 3.0;
/// The high-frequency limiter taking more than this off the pre-emphasised treble's peaks is a
/// sibilant song (dB): where a de-esser starts to be heard.
pub const SIBILANCE_WARNING_DB: f32 = 3.0;
/// The premaster's pre-emphasised treble over the limit by more than this is uncontrolled (dB).
pub const SIBILANCE_TOLERANCE_DB: f32 = 0.5;
/// A low band quieter than this carries no phase to speak of (dBFS mean square).
const SILENT_LOW_BAND_DBFS: f64 = -70.0;

/// Both channels through a 4th-order Butterworth low- or high-pass.
fn filtered(audio: &Audio, cutoff_hz: f64, high: bool) -> [Vec<f64>; 2] {
    let rate = f64::from(audio.sample_rate);
    let (left, right) = audio.left_right();
    let run = |x: &[f32]| -> Vec<f64> {
        let mut out: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        for q in butterworth_q4() {
            let coeffs = if high {
                SvfCoeffs::highpass(cutoff_hz, q, rate)
            } else {
                SvfCoeffs::lowpass(cutoff_hz, q, rate)
            };
            let a = coeffs.multipliers();
            let mut state = SvfState::default();
            for v in &mut out {
                *v = if high {
                    state.highpass(*v, &a, coeffs.k)
                } else {
                    state.tick(*v, &a).1
                };
            }
        }
        out
    };
    [run(left), run(right)]
}

/// The low end's phase in one song.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LowEndPhase {
    /// Correlation below [`LOW_END_HZ`] over the whole song (`None` when the band is silent).
    pub correlation: Option<f64>,
    /// The lowest correlation of a counted 1 s window, and where it starts (s).
    pub worst_window: Option<(f64, f64)>,
}

impl LowEndPhase {
    pub fn measure(audio: &Audio) -> Self {
        let [l, r] = filtered(audio, LOW_END_HZ, false);
        let sums = |a: &[f64], b: &[f64]| {
            let (mut lr, mut ll, mut rr) = (0.0, 0.0, 0.0);
            for (x, y) in a.iter().zip(b) {
                lr += x * y;
                ll += x * x;
                rr += y * y;
            }
            (lr, ll, rr)
        };
        let correlation_of =
            |(lr, ll, rr): (f64, f64, f64)| (ll > 0.0 && rr > 0.0).then(|| lr / (ll * rr).sqrt());
        let n = l.len().max(1) as f64;
        let whole = sums(&l, &r);
        let mean_square = (whole.1 + whole.2) / (2.0 * n);
        // (Written so a NaN level counts as silent too.)
        if (10.0 * mean_square.log10()).partial_cmp(&SILENT_LOW_BAND_DBFS)
            != Some(std::cmp::Ordering::Greater)
        {
            return Self {
                correlation: None,
                worst_window: None,
            };
        }
        let window = ((CORRELATION_WINDOW_SECONDS * f64::from(audio.sample_rate)) as usize).max(1);
        let windows: Vec<(f64, (f64, f64, f64))> = l
            .chunks(window)
            .zip(r.chunks(window))
            .enumerate()
            .map(|(k, (a, b))| (k as f64 * CORRELATION_WINDOW_SECONDS, sums(a, b)))
            .collect();
        let loudest = windows.iter().map(|(_, s)| s.1 + s.2).fold(0.0, f64::max);
        let floor = loudest * 10f64.powf(-ACTIVE_WINDOW_DB / 10.0);
        let worst_window = windows
            .iter()
            .filter(|(_, s)| s.1 + s.2 >= floor && s.1 + s.2 > 0.0)
            .filter_map(|(t, s)| correlation_of(*s).map(|c| (c, *t)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        Self {
            correlation: correlation_of(whole),
            worst_window,
        }
    }

    /// The warning's reason, if the low end is out of phase (see the module docs).
    pub fn problem(&self) -> Option<String> {
        match (self.correlation, self.worst_window) {
            (Some(r), _) if r < 0.0 => Some(format!(
                "the low end (below {LOW_END_HZ:.0} Hz) is out of phase: correlation {r:+.2} over \
                 the song, above the elliptical EQ's corner: fix the mix's phase or raise \
                 --mono-below"
            )),
            (_, Some((w, t))) if w < WORST_WINDOW_CORRELATION => Some(format!(
                "the low end (below {LOW_END_HZ:.0} Hz) is strongly out of phase at {}: \
                 correlation {w:+.2} over 1 s",
                super::sides::minutes_text(t / 60.0)
            )),
            _ => None,
        }
    }
}

/// The song's level above [`HF_BAND_HZ`]: mean square of both channels, dBFS (a full-scale
/// sine reads −3 dBFS).
pub fn high_frequency_level_dbfs(audio: &Audio) -> f64 {
    let [l, r] = filtered(audio, HF_BAND_HZ, true);
    let n = (l.len() + r.len()).max(1) as f64;
    let energy: f64 = l.iter().chain(&r).map(|v| v * v).sum();
    10.0 * (energy / n).max(1e-30).log10()
}

/// The sibilance of one song (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Sibilance {
    /// The high-frequency limiter's split and limit (its settings in the chain): the band
    /// and the bound of the measure.
    pub split_hz: f32,
    pub limit_db: f32,
    /// The premaster's pre-emphasised high-band peak, dBFS.
    pub premaster_peak_db: f32,
    /// How much the high-frequency limiter took off that peak (dB): the same render without
    /// the stage against the premaster. `None` when the stage is not in the chain.
    pub hf_limiter_reduction_db: Option<f32>,
}

/// The pre-emphasised peak of `audio`'s band above `split_hz` (see
/// [`pre_emphasised_hf_peak_db`]), dBFS.
pub fn pre_emphasised_peak_db(audio: &Audio, split_hz: f32) -> f32 {
    let (l, r) = audio.left_right();
    pre_emphasised_hf_peak_db(l, r, audio.sample_rate as f32, split_hz)
}

impl Sibilance {
    /// The warning's reason, if the song is sibilant (see the module docs).
    pub fn problem(&self) -> Option<String> {
        let over = self.premaster_peak_db - self.limit_db;
        let band = self.split_hz / 1000.0;
        let limit = self.limit_db;
        match self.hf_limiter_reduction_db {
            None if over > SIBILANCE_TOLERANCE_DB => Some(format!(
                "sibilant: the premaster's RIAA pre-emphasised treble (above {band:.0} kHz) \
                 peaks {over:.1} dB over the {limit:.1} dBFS limit; the lathe's \
                 limiter would have to take it: de-ess the mix or switch the high-frequency \
                 limiter on"
            )),
            Some(_) if over > SIBILANCE_TOLERANCE_DB => Some(format!(
                "sibilant: the premaster's RIAA pre-emphasised treble (above {band:.0} kHz) \
                 peaks {over:.1} dB over the {limit:.1} dBFS limit although the \
                 high-frequency limiter is on (the stages after it, the loudness limiter's \
                 drive, lift it back); the lathe's limiter would have to take it: lower \
                 hfl_limit (--set) or the target"
            )),
            Some(reduction) if reduction > SIBILANCE_WARNING_DB => Some(format!(
                "sibilant: the high-frequency limiter took {reduction:.1} dB off the RIAA \
                 pre-emphasised treble (above {band:.0} kHz) to keep it at the \
                 {limit:.1} dBFS limit: listen for dulled sibilants and cymbals"
            )),
            _ => None,
        }
    }
}

/// Whether a song from `start_frame` for `frames` lies late on a side of `side_frames`.
pub fn is_late_on_side(start_frame: usize, frames: usize, side_frames: usize) -> bool {
    let middle = start_frame as f64 + 0.5 * frames as f64;
    side_frames > 0 && middle >= LATE_FRACTION * side_frames as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, seconds: f64, amplitude: f64, sign_right: f64) -> Audio {
        let n = (seconds * f64::from(rate)) as usize;
        let left: Vec<f32> = (0..n)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect();
        let right = left.iter().map(|v| v * sign_right as f32).collect();
        Audio {
            sample_rate: rate,
            channels: vec![left, right],
        }
    }

    #[test]
    fn out_of_phase_bass_reads_minus_one_and_mono_bass_plus_one() {
        let out = LowEndPhase::measure(&sine(200.0, 48_000, 3.0, 0.5, -1.0));
        assert!((out.correlation.unwrap() + 1.0).abs() < 1e-9);
        assert!(out.problem().is_some());
        let mono = LowEndPhase::measure(&sine(200.0, 48_000, 3.0, 0.5, 1.0));
        assert!((mono.correlation.unwrap() - 1.0).abs() < 1e-9);
        assert!(mono.problem().is_none());
        // Out-of-phase treble over in-phase bass is not the low end's business: the 4th-order
        // low-pass takes 5 kHz ~100 dB down, leaving the bass's +1.
        let bass = sine(100.0, 48_000, 3.0, 0.1, 1.0);
        let treble = sine(5000.0, 48_000, 3.0, 0.5, -1.0);
        let mix = Audio {
            sample_rate: 48_000,
            channels: (0..2)
                .map(|c| {
                    bass.channels[c]
                        .iter()
                        .zip(&treble.channels[c])
                        .map(|(a, b)| a + b)
                        .collect()
                })
                .collect(),
        };
        let low = LowEndPhase::measure(&mix);
        assert!(low.correlation.unwrap() > 0.99, "{low:?}");
        assert!(low.problem().is_none());
    }

    #[test]
    fn high_frequency_level_of_a_sine_is_its_mean_square() {
        // A sine of amplitude 0.5 at 14 kHz (well inside the band): 0.5²/2 = -9.03 dBFS.
        let level = high_frequency_level_dbfs(&sine(14_000.0, 48_000, 1.0, 0.5, 1.0));
        assert!((level - 10.0 * 0.125f64.log10()).abs() < 0.1, "{level}");
        // At 1 kHz the 4th-order high-pass at 10 kHz is 80 dB down.
        let low = high_frequency_level_dbfs(&sine(1000.0, 48_000, 1.0, 0.5, 1.0));
        assert!(low < -80.0, "{low}");
    }

    #[test]
    fn lateness_is_the_middle_in_the_last_third() {
        assert!(!is_late_on_side(0, 100, 300));
        assert!(is_late_on_side(200, 100, 300));
        assert!(!is_late_on_side(100, 100, 300));
        assert!(!is_late_on_side(0, 300, 300));
    }
}
