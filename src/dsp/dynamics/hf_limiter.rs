//! The high-frequency limiter of a vinyl premaster: it bounds the RIAA pre-emphasised level of
//! the high band, where sibilance and cymbals break a cut.
//!
//! **Why.** A lathe cuts with the RIAA recording curve ([`crate::dsp::filters::riaa`]): +13.7 dB
//! at 10 kHz against 1 kHz, +19.6 dB at 20 kHz. What the cutter head has to move (and what
//! heats its coils and what the playback stylus must track) is the *pre-emphasised* signal, so
//! a sibilant that reads −12 dBFS flat asks the head for more than a full-scale 1 kHz tone.
//! Cutting systems carry limiters for exactly this: Neumann's lathes (VMS 70/80 with the SAL 74
//! system) had high-frequency / acceleration limiters in the cutting chain, which act like a
//! broadband de-esser (Audio Masterclass, "Acceleration limiting — an essential part of the
//! vinyl experience?", 2003; the Crane Song Peacock manual on the RIAA boost and the lack of
//! high-frequency headroom it causes). Doing it in the premaster lets the mastering engineer
//! hear and choose the reduction instead of the lathe's limiter doing it blindly.
//!
//! **Topology** (per stereo frame, everything per sample):
//! 1. Band split, linear phase: `band = FIR_hp(x)`, a windowed-sinc (Blackman) high-pass at
//!    `split_hz` of `2·round(1.5 ms·fs)+1` taps (transition about 1.8 kHz wide, stop band below
//!    −74 dB: Oppenheim & Schafer, "Discrete-Time Signal Processing", 3rd ed., 7.5). Its
//!    complement is `x` delayed by the FIR's centre, so `out = x_delayed − (1 − g)·band`:
//!    with no reduction (`g = 1`) the output *is* the delayed input, bit for bit, and a gain
//!    `g` scales the band exactly, without the phase interplay an IIR split would add.
//! 2. Detector: the band through the RIAA pre-emphasis, the larger magnitude of the two
//!    channels (stereo-linked: one gain, the image never moves).
//! 3. Requirement `r = min(1, limit / detector)`; a sliding minimum over `W + 1` samples
//!    (`W` = [`LOOKAHEAD_SECONDS`]); release upwards by a one-pole (`release_ms`), never
//!    above the held requirement; a moving average over `W` samples. The gain applied to the
//!    band sample that is `W` samples old is then at most that sample's requirement (the
//!    "min-hold + moving average" argument of [`crate::dsp::dynamics::limiter`]), so the
//!    pre-emphasised band ends within the limit, with a smooth 1 ms attack.
//! 4. Latency: the FIR's centre plus `W`, reported by [`HfLimiter::latency_samples`] and the
//!    same whether the stage reduces or not (switched off, the delayed input passes).
//!
//! **The limit** is a sample peak of the pre-emphasised high band in dBFS, on the RIAA curve
//! normalised to 0 dB at 1 kHz. **Default 0 dB**, a decision: we found no published number
//! (cutting guides say only "de-ess, keep the top end in check"), so the default is the level
//! that keeps the pre-emphasised treble no hotter than a full-scale 1 kHz tone, the signal the
//! cutting level is set for. A 7 kHz sibilant is then limited above −10.8 dBFS, a 10 kHz one
//! above −13.7 dBFS. The cutting engineer's lathe and cutting level decide the real bound,
//! hence the range −24 to +6 dB.
//!
//! **Known limit: the transition band.** The output's band, measured with the same FIR, is
//! `HP(x) − HP((1 − g)·HP(x))`: where `|HP| = 0.5` (at the split) a gain `g` takes it only
//! to `0.25 + 0.25·g` of the input, so content near the split cannot be reduced as deeply as
//! the detector assumes. Measured on real music: +0.03 dB over the default 0 dB limit, 0.4 dB
//! over a −12 dB limit, 1.6 dB over −24 dB. A detector on `HP²` with a reduction band that
//! is its own square would close it; not done yet.
//!
//! **A moved split** redesigns the FIR at once (no allocation): while the band is being
//! reduced that is a small step in the output. It is a set-up control, not one to automate.

use crate::dsp::filters::riaa::RiaaPreEmphasis;
use crate::dsp::util::range::Range;
use crate::dsp::util::{db_to_gain_f64, gain_to_db_f64, one_pole_coeff, sanitize};

/// Pre-emphasised high-band peak limit, dBFS (RIAA normalised at 1 kHz). See the module doc.
pub const LIMIT_DB: Range = Range::new(-24.0, 6.0, 0.0, "dB");
/// The band split, Hz: sibilance and cymbals live above ~5 kHz.
pub const SPLIT_HZ: Range = Range::new(2000.0, 12_000.0, 5000.0, "Hz");
/// Release time constant, ms (a de-esser's usual tens of milliseconds).
pub const RELEASE_MS: Range = Range::new(5.0, 500.0, 40.0, "ms");
/// Lookahead (and attack ramp) time.
pub const LOOKAHEAD_SECONDS: f64 = 0.001;
/// Half length of the band-split FIR, seconds.
pub const FIR_HALF_SECONDS: f64 = 0.0015;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HfLimiterSettings {
    pub enabled: bool,
    /// Pre-emphasised high-band peak limit, dBFS.
    pub limit_db: f32,
    /// Where the high band starts, Hz.
    pub split_hz: f32,
    pub release_ms: f32,
}

impl Default for HfLimiterSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            limit_db: LIMIT_DB.default,
            split_hz: SPLIT_HZ.default,
            release_ms: RELEASE_MS.default,
        }
    }
}

/// Taps of the band-split FIR at `sample_rate` (odd).
pub fn fir_len(sample_rate: f32) -> usize {
    2 * (FIR_HALF_SECONDS * f64::from(sample_rate)).round() as usize + 1
}

/// Lookahead in samples at `sample_rate`.
pub fn lookahead_len(sample_rate: f32) -> usize {
    ((LOOKAHEAD_SECONDS * f64::from(sample_rate)).round() as usize).max(1)
}

/// Latency of the limiter at `sample_rate`: the FIR's centre plus the lookahead.
pub fn latency_for(sample_rate: f32) -> u32 {
    let fs = crate::dsp::util::usable_sample_rate(sample_rate);
    ((fir_len(fs) - 1) / 2 + lookahead_len(fs)) as u32
}

/// Writes a linear-phase Blackman-windowed-sinc high-pass at `split_hz` into `taps`
/// (odd length): the delta at the centre minus the unity-DC low-pass.
pub fn design_highpass(taps: &mut [f64], split_hz: f64, sample_rate: f64) {
    let n = taps.len();
    let centre = (n - 1) / 2;
    let cutoff = (split_hz / sample_rate).clamp(1e-4, 0.49);
    let mut sum = 0.0;
    for (i, t) in taps.iter_mut().enumerate() {
        let m = i as f64 - centre as f64;
        let sinc = if m == 0.0 {
            2.0 * cutoff
        } else {
            (2.0 * std::f64::consts::PI * cutoff * m).sin() / (std::f64::consts::PI * m)
        };
        let phase = 2.0 * std::f64::consts::PI * i as f64 / (n - 1) as f64;
        let blackman = 0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos();
        *t = sinc * blackman;
        sum += *t;
    }
    for t in taps.iter_mut() {
        *t = -*t / sum;
    }
    taps[centre] += 1.0;
}

/// A history of the last `len` inputs stored twice, so the last `len` samples are always one
/// contiguous slice (the FIR's dot product vectorises).
#[derive(Clone, Debug, Default)]
struct History {
    buf: Vec<f64>,
    len: usize,
    pos: usize,
}

impl History {
    fn new(len: usize) -> Self {
        Self {
            buf: vec![0.0; 2 * len],
            len,
            pos: 0,
        }
    }

    #[inline]
    fn push(&mut self, x: f64) {
        self.buf[self.pos] = x;
        self.buf[self.pos + self.len] = x;
        self.pos += 1;
        if self.pos == self.len {
            self.pos = 0;
        }
    }

    /// The last `len` samples, oldest first.
    #[inline]
    fn window(&self) -> &[f64] {
        &self.buf[self.pos..self.pos + self.len]
    }

    fn clear(&mut self) {
        self.buf.iter_mut().for_each(|v| *v = 0.0);
        self.pos = 0;
    }
}

/// One channel's filters and delays.
#[derive(Clone, Debug)]
struct Channel {
    input: History,
    riaa: RiaaPreEmphasis,
    /// The delayed input (FIR centre) and the band, each delayed by the lookahead.
    dry_delay: History,
    band_delay: History,
}

/// The stereo high-frequency limiter. `reset` allocates; `process` does not.
pub struct HfLimiter {
    sample_rate: f32,
    settings: HfLimiterSettings,
    limit: f64,
    release_coeff: f64,
    /// Reversed taps (oldest input first), matching [`History::window`].
    taps: Vec<f64>,
    channels: [Channel; 2],
    lookahead: usize,
    /// Requirements of the last `lookahead + 1` frames (sliding minimum).
    requirements: History,
    envelope: f64,
    /// Envelopes of the last `lookahead` frames and their running sum (moving average).
    envelopes: History,
    envelope_sum: f64,
    /// Deepest reduction of the last `process` call, dB (≤ 0).
    reduction_db: f32,
}

impl HfLimiter {
    pub fn new(sample_rate: f32) -> Self {
        let fs = crate::dsp::util::usable_sample_rate(sample_rate);
        let channel = Channel {
            input: History::new(1),
            riaa: RiaaPreEmphasis::new(fs),
            dry_delay: History::new(1),
            band_delay: History::new(1),
        };
        let mut limiter = Self {
            sample_rate: 0.0,
            settings: HfLimiterSettings::default(),
            limit: 1.0,
            release_coeff: 0.0,
            taps: Vec::new(),
            channels: [channel.clone(), channel],
            lookahead: 1,
            requirements: History::new(1),
            envelope: 1.0,
            envelopes: History::new(1),
            envelope_sum: 0.0,
            reduction_db: 0.0,
        };
        limiter.reset(fs);
        limiter
    }

    /// Prepares for `sample_rate` (allocates the delays) and clears.
    pub fn reset(&mut self, sample_rate: f32) {
        let fs = crate::dsp::util::usable_sample_rate(sample_rate);
        self.sample_rate = fs;
        let taps = fir_len(fs);
        self.lookahead = lookahead_len(fs);
        self.taps = vec![0.0; taps];
        for ch in &mut self.channels {
            ch.input = History::new(taps);
            ch.riaa.reset(fs);
            ch.dry_delay = History::new(self.lookahead);
            ch.band_delay = History::new(self.lookahead);
        }
        self.requirements = History::new(self.lookahead + 1);
        self.envelopes = History::new(self.lookahead);
        let settings = self.settings;
        self.settings.split_hz = f32::NAN; // force the FIR design
        self.set(&settings);
        self.clear();
    }

    /// Forgets the signal (no allocation).
    pub fn clear(&mut self) {
        for ch in &mut self.channels {
            ch.input.clear();
            ch.riaa.clear();
            ch.dry_delay.clear();
            ch.band_delay.clear();
        }
        self.requirements.clear();
        self.requirements.buf.iter_mut().for_each(|v| *v = 1.0);
        self.envelopes.clear();
        self.envelopes.buf.iter_mut().for_each(|v| *v = 1.0);
        self.envelope = 1.0;
        self.envelope_sum = self.lookahead as f64;
        self.reduction_db = 0.0;
    }

    /// Takes new settings (clamped; NaN → default). No allocation.
    pub fn set(&mut self, settings: &HfLimiterSettings) {
        let new = HfLimiterSettings {
            enabled: settings.enabled,
            limit_db: LIMIT_DB.sanitize(settings.limit_db),
            split_hz: SPLIT_HZ.sanitize(settings.split_hz),
            release_ms: RELEASE_MS.sanitize(settings.release_ms),
        };
        if new.split_hz != self.settings.split_hz {
            design_highpass(
                &mut self.taps,
                f64::from(new.split_hz),
                f64::from(self.sample_rate),
            );
            self.taps.reverse();
        }
        self.settings = new;
        self.limit = db_to_gain_f64(f64::from(new.limit_db));
        self.release_coeff = f64::from(one_pole_coeff(new.release_ms / 1000.0, self.sample_rate));
    }

    pub fn settings(&self) -> &HfLimiterSettings {
        &self.settings
    }

    /// Constant at a rate: the same whether the stage is on or off.
    pub fn latency_samples(&self) -> u32 {
        latency_for(self.sample_rate)
    }

    /// Deepest high-band reduction of the last `process` call, dB (0 = none).
    pub fn reduction_db(&self) -> f32 {
        self.reduction_db
    }

    /// Processes a stereo block in place (common length). Never panics.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let centre = (self.taps.len() - 1) / 2;
        let mut lowest_gain = 1.0f64;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let mut bands = [0.0; 2];
            let mut detector = 0.0f64;
            for (ch, (x, band)) in self
                .channels
                .iter_mut()
                .zip([*l, *r].into_iter().zip(bands.iter_mut()))
            {
                ch.input.push(f64::from(sanitize(x)));
                let window = ch.input.window();
                *band = window.iter().zip(&self.taps).map(|(a, b)| a * b).sum();
                let emphasised = ch.riaa.process_sample(*band);
                detector = detector.max(emphasised.abs());
            }
            let requirement = if self.settings.enabled && detector > self.limit {
                self.limit / detector
            } else {
                1.0
            };
            self.requirements.push(requirement);
            let held = self
                .requirements
                .window()
                .iter()
                .copied()
                .fold(1.0, f64::min);
            self.envelope = if held < self.envelope {
                held
            } else {
                held + self.release_coeff * (self.envelope - held)
            };
            // Moving average of the last `lookahead` envelopes: the running sum, recomputed
            // exactly once per lap so rounding cannot drift (and 1.0 stays exactly 1.0).
            let oldest = self.envelopes.window()[0];
            self.envelopes.push(self.envelope);
            if self.envelopes.pos == 0 {
                self.envelope_sum = self.envelopes.window().iter().sum();
            } else {
                self.envelope_sum += self.envelope - oldest;
            }
            let gain = (self.envelope_sum / self.lookahead as f64).min(1.0);
            lowest_gain = lowest_gain.min(gain);
            for (ch, (out, band)) in self
                .channels
                .iter_mut()
                .zip([&mut *l, &mut *r].into_iter().zip(bands))
            {
                let dry = ch.input.window()[centre];
                let delayed_dry = ch.dry_delay.window()[0];
                let delayed_band = ch.band_delay.window()[0];
                ch.dry_delay.push(dry);
                ch.band_delay.push(band);
                *out = if gain >= 1.0 {
                    delayed_dry as f32
                } else {
                    (delayed_dry - (1.0 - gain) * delayed_band) as f32
                };
            }
        }
        self.reduction_db = gain_to_db_f64(lowest_gain) as f32;
    }
}

/// The peak of the RIAA pre-emphasised high band of a stereo signal, dBFS (RIAA normalised at
/// 1 kHz; the band is this module's FIR high-pass at `split_hz`): what [`HfLimiter`] bounds,
/// for the cut sheet's sibilance warning. Allocates; not for the audio thread.
pub fn pre_emphasised_hf_peak_db(
    left: &[f32],
    right: &[f32],
    sample_rate: f32,
    split_hz: f32,
) -> f32 {
    let fs = crate::dsp::util::usable_sample_rate(sample_rate);
    let mut taps = vec![0.0; fir_len(fs)];
    design_highpass(&mut taps, f64::from(split_hz), f64::from(fs));
    let mut peak = 0.0f64;
    for channel in [left, right] {
        let mut riaa = RiaaPreEmphasis::new(fs);
        let emphasised: Vec<f64> = channel
            .iter()
            .map(|&x| riaa.process_sample(f64::from(sanitize(x))))
            .collect();
        for i in 0..emphasised.len() {
            let start = i.saturating_sub(taps.len() - 1);
            let value: f64 = emphasised[start..=i]
                .iter()
                .rev()
                .zip(&taps)
                .map(|(x, t)| x * t)
                .sum();
            peak = peak.max(value.abs());
        }
    }
    gain_to_db_f64(peak) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::filters::riaa::riaa_recording_gain_db;
    use crate::test_signals::sine_f64;

    /// Amplitude of the `freq` component of `x[range]` (least-squares fit of a sine and a
    /// cosine, exact for a whole number of periods and accurate to 1e-3 otherwise).
    fn amplitude(x: &[f32], freq: f64, fs: f64) -> f64 {
        let (mut c, mut s) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * freq * i as f64 / fs;
            c += f64::from(v) * w.cos();
            s += f64::from(v) * w.sin();
        }
        2.0 * c.hypot(s) / x.len() as f64
    }

    #[test]
    fn any_rate_and_hostile_audio_give_finite_output_with_the_vinyl_stages() {
        // A hostile host's rates (the engine's 1 kHz minimum to 768 kHz, the split above
        // Nyquist at the lowest) and audio (+40 dBFS, NaN, infinities): the HF limiter and the
        // elliptical EQ design, run and stay finite.
        use crate::dsp::filters::elliptical::{EllipticalEq, EllipticalSettings};
        for fs in [
            1000.0, 8000.0, 11_025.0, 22_050.0, 44_100.0, 384_000.0, 768_000.0,
        ] {
            for split_hz in [SPLIT_HZ.min, SPLIT_HZ.max] {
                let mut limiter = HfLimiter::new(fs);
                limiter.set(&HfLimiterSettings {
                    enabled: true,
                    split_hz,
                    limit_db: LIMIT_DB.min,
                    ..HfLimiterSettings::default()
                });
                limiter.reset(fs);
                let mut ell = EllipticalEq::new(fs);
                ell.set(&EllipticalSettings {
                    enabled: true,
                    crossover_hz: 300.0,
                });
                ell.reset(fs);
                let n = 4096;
                let mut l: Vec<f32> = (0..n)
                    .map(|i| 100.0 * ((i * 7919) % 13) as f32 / 13.0 - 50.0)
                    .collect();
                let mut r = l.clone();
                l[100] = f32::NAN;
                r[200] = f32::INFINITY;
                l[300] = f32::NEG_INFINITY;
                ell.process(&mut l, &mut r);
                limiter.process(&mut l, &mut r);
                assert!(
                    l.iter().chain(&r).all(|x| x.is_finite()),
                    "{fs} Hz, split {split_hz} Hz"
                );
            }
        }
    }

    fn on(fs: f32) -> HfLimiter {
        let mut limiter = HfLimiter::new(fs);
        limiter.set(&HfLimiterSettings {
            enabled: true,
            ..HfLimiterSettings::default()
        });
        limiter.reset(fs);
        limiter
    }

    #[test]
    fn the_fir_split_has_its_documented_response() {
        let fs = 48_000.0;
        let mut taps = vec![0.0; fir_len(fs as f32)];
        design_highpass(&mut taps, 5000.0, fs);
        let response_db = |f: f64| {
            let (c, s) = taps.iter().enumerate().fold((0.0, 0.0), |(c, s), (i, t)| {
                let w = 2.0 * std::f64::consts::PI * f * i as f64 / fs;
                (c + t * w.cos(), s + t * w.sin())
            });
            20.0 * c.hypot(s).log10()
        };
        assert!(response_db(200.0) < -74.0, "{}", response_db(200.0));
        assert!(response_db(2000.0) < -60.0, "{}", response_db(2000.0));
        assert!(
            (response_db(5000.0) + 6.02).abs() < 0.1,
            "{}",
            response_db(5000.0)
        );
        for f in [7000.0, 10_000.0, 16_000.0] {
            assert!(response_db(f).abs() < 0.01, "{f}: {}", response_db(f));
        }
    }

    /// A sibilant "track": a 200 Hz tone at −6 dBFS with 7 kHz bursts at −6 dBFS (80 ms on,
    /// 120 ms off). The 7 kHz bursts pre-emphasised are −6 + 10.8 = +4.8 dB, over the 0 dB limit.
    fn sibilant(fs: f32, seconds: f64) -> (Vec<f32>, Vec<(usize, usize)>) {
        let n = (seconds * f64::from(fs)) as usize;
        let base = sine_f64(n, 200.0, f64::from(fs), 0.5, 0.0);
        let hiss = sine_f64(n, 7000.0, f64::from(fs), 0.5, 0.4);
        let period = (0.2 * f64::from(fs)) as usize;
        let on_len = (0.08 * f64::from(fs)) as usize;
        let mut bursts = Vec::new();
        let x = (0..n)
            .map(|i| {
                let phase = i % period;
                if phase == 0 && i + on_len <= n {
                    bursts.push((i, i + on_len));
                }
                base[i] + if phase < on_len { hiss[i] } else { 0.0 }
            })
            .collect();
        (x, bursts)
    }

    #[test]
    fn a_sibilant_tracks_pre_emphasised_peak_ends_within_the_limit() {
        for fs in [44_100.0f32, 48_000.0, 96_000.0] {
            let (x, bursts) = sibilant(fs, 1.0);
            let (mut l, mut r) = (x.clone(), x.clone());
            let mut limiter = on(fs);
            limiter.process(&mut l, &mut r);
            let latency = limiter.latency_samples() as usize;
            let out: Vec<f32> = l[latency..].to_vec();
            // Independent check: the 7 kHz amplitude inside each burst (its middle half), times
            // the analytic RIAA gain at 7 kHz, is at the limit (0 dB) within 0.3 dB.
            let riaa_7k = riaa_recording_gain_db(7000.0);
            let input_level = 20.0
                * amplitude(&x[bursts[0].0..bursts[0].1], 7000.0, f64::from(fs)).log10()
                + riaa_7k;
            assert!(
                input_level > 4.0,
                "the test signal is over the limit: {input_level}"
            );
            for &(start, end) in &bursts {
                let quarter = (end - start) / 4;
                let level = 20.0
                    * amplitude(&out[start + quarter..end - quarter], 7000.0, f64::from(fs))
                        .log10()
                    + riaa_7k;
                assert!(
                    level < 0.3 && level > -1.0,
                    "{fs} Hz, burst at {start}: {level:.2} dB"
                );
            }
            // The module's own measurement on the whole output (with its lead-in, where the
            // linear-phase band's pre-ringing of the first burst lies): within 0.1 dB of the
            // limit, 5 dB below the input's.
            let peak_out = pre_emphasised_hf_peak_db(&l, &r, fs, 5000.0);
            let peak_in = pre_emphasised_hf_peak_db(&x, &x, fs, 5000.0);
            assert!(
                peak_out < 0.1,
                "{fs} Hz: output {peak_out:.2} dB (input {peak_in:.2})"
            );
            assert!(peak_in > 4.0, "{peak_in}");
            // The 200 Hz tone is untouched: its amplitude over the whole output within 0.1 dB
            // (and in fact within 0.001 dB).
            let n = out.len();
            let period = f64::from(fs) / 200.0;
            let whole = ((n as f64 / period).floor() * period) as usize;
            let a_in = amplitude(&x[..whole], 200.0, f64::from(fs));
            let a_out = amplitude(&out[..whole], 200.0, f64::from(fs));
            let low_change = 20.0 * (a_out / a_in).log10();
            assert!(
                low_change.abs() < 0.01,
                "{fs} Hz: 200 Hz moved {low_change:.4} dB"
            );
        }
    }

    #[test]
    fn a_quiet_signal_passes_bit_identical_after_the_latency() {
        for fs in [44_100.0f32, 96_000.0] {
            // The same sibilant at −20 dB: its bursts pre-emphasised are −9.2 dB, under 0 dB.
            let (x, _) = sibilant(fs, 0.5);
            let x: Vec<f32> = x.iter().map(|v| v * 0.1).collect();
            let (mut l, mut r) = (x.clone(), x.clone());
            let mut limiter = on(fs);
            limiter.process(&mut l, &mut r);
            let latency = limiter.latency_samples() as usize;
            assert_eq!(l[latency..], x[..x.len() - latency]);
            assert_eq!(limiter.reduction_db(), 0.0);
        }
    }

    #[test]
    fn switched_off_it_is_a_pure_delay_of_the_reported_latency() {
        let fs = 48_000.0;
        let (x, _) = sibilant(fs, 0.5);
        let (mut l, mut r) = (x.clone(), x.clone());
        let mut limiter = HfLimiter::new(fs);
        limiter.process(&mut l, &mut r);
        let latency = limiter.latency_samples() as usize;
        assert_eq!(latency, 72 + 48);
        assert_eq!(l[latency..], x[..x.len() - latency]);
    }
}
