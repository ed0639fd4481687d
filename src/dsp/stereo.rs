//! Stereo width (mid/side) with phase-coherent mono-bass.
//!
//! Mono-bass is the "elliptical EQ" of vinyl cutting and club mastering: side content below a
//! crossover frequency is removed so low end is mono. The side signal is split with a 4th-order
//! Linkwitz–Riley crossover (two cascaded 2nd-order Butterworth sections, whose LP and HP sum
//! to a 2nd-order allpass); its low band is dropped and the mid signal passes through that same
//! allpass, so mid and remaining side stay phase-aligned (phase-coherent M/S recombination).
//! Filters are Zavalishin TPT state-variable filters ("The Art of VA Filter Design", ch. 4;
//! Simper SVF notes): the bilinear transform preserves the analog identity
//! LP₂² + HP₂² = AP₂ exactly, and the structure tolerates per-sample cutoff modulation.
//! Zero latency.

use crate::dsp::filters::svf::{multipliers, prewarp, SvfState, BUTTERWORTH_K};
use crate::dsp::util::range::Range;
use crate::dsp::util::sanitize;
use crate::dsp::util::smoothing::{approach, OnePole};

/// Time constant of the per-sample width and crossover-frequency smoothing.
const SMOOTHING_SECONDS: f32 = 0.01;
/// Duration of the linear mono-bass enable/disable crossfade.
const MONO_BASS_FADE_SECONDS: f32 = 0.02;

/// Stereo settings; clamped in [`Stereo::set`] (NaN → default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StereoSettings {
    /// Side gain, 0..2 (0–200 %, default 1). 0 = mono, 2 = side doubled.
    pub width: f32,
    /// Removes side content below `mono_bass_hz` (LR4, phase-coherent).
    pub mono_bass_enabled: bool,
    /// Mono-bass crossover frequency in Hz, 20..500 (default 120); LR4 bands cross at −6 dB.
    pub mono_bass_hz: f32,
}

/// Side gain as a fraction (shown as %): 0 = mono, 2 = side doubled.
pub const WIDTH: Range = Range::new(0.0, 2.0, 1.0, "%");
/// Mono-bass crossover frequency, Hz.
pub const MONO_BASS_HZ: Range = Range::new(20.0, 500.0, 120.0, "Hz");

impl Default for StereoSettings {
    fn default() -> Self {
        Self {
            width: WIDTH.default,
            mono_bass_enabled: false,
            mono_bass_hz: MONO_BASS_HZ.default,
        }
    }
}

impl StereoSettings {
    /// Returns a copy with every field in its range ([`Range::sanitize`]: clamped; NaN/Inf →
    /// default).
    pub fn sanitized(&self) -> Self {
        Self {
            width: WIDTH.sanitize(self.width),
            mono_bass_enabled: self.mono_bass_enabled,
            mono_bass_hz: MONO_BASS_HZ.sanitize(self.mono_bass_hz),
        }
    }
}

/// Prewarped SVF coefficient `g` of the crossover at `cutoff_hz`.
fn crossover_g(cutoff_hz: f32, sample_rate: f32) -> f64 {
    prewarp(cutoff_hz as f64, sample_rate as f64)
}

/// Width and mono-bass processor (zero latency).
///
/// Per sample: M = (L+R)/2, S = (L−R)/2; with mono-bass, M → AP₂(M) and S → HP₂(HP₂(S))
/// (the LR4 high band), crossfaded linearly over 20 ms on enable/disable; then S is scaled by
/// the width and L = M + S, R = M − S. Width and crossover frequency are smoothed per sample
/// (one-pole, 10 ms; the frequency on the prewarped coefficient). With width exactly 1 and
/// mono-bass fully off, samples pass through bit-exactly (NaN/Inf still become 0).
#[derive(Clone, Debug)]
pub struct Stereo {
    sample_rate: f32,
    settings: StereoSettings,
    /// Side gain and prewarped crossover coefficient, each gliding (one-pole, 10 ms).
    width: OnePole,
    g: OnePole,
    coeffs: [f64; 3],
    /// Mono-bass crossfade position 0..1 and its per-sample step.
    mono_bass_mix: f64,
    mono_bass_mix_target: f64,
    mono_bass_step: f64,
    mid_allpass: SvfState,
    side_highpass_1: SvfState,
    side_highpass_2: SvfState,
}

impl Stereo {
    /// Creates the module with default (neutral) settings at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        let mut stereo = Self {
            sample_rate: 48_000.0,
            settings: StereoSettings::default(),
            width: OnePole::new(1.0),
            g: OnePole::new(0.0),
            coeffs: [1.0, 0.0, 0.0],
            mono_bass_mix: 0.0,
            mono_bass_mix_target: 0.0,
            mono_bass_step: 0.0,
            mid_allpass: SvfState::default(),
            side_highpass_1: SvfState::default(),
            side_highpass_2: SvfState::default(),
        };
        stereo.reset(sample_rate);
        stereo
    }

    /// Clears all state at the current sample rate (allocation-free; used when the chain fades
    /// the module back in after a bypass, so no stale tail leaks in).
    pub fn clear(&mut self) {
        self.reset(self.sample_rate);
    }

    /// Clears filter state and recomputes coefficients; smoothed values jump to their targets.
    pub fn reset(&mut self, sample_rate: f32) {
        self.sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        self.clear_filters();
        let settings = self.settings;
        self.set(&settings);
        self.width.snap();
        self.g.snap();
        self.coeffs = multipliers(self.g.current, BUTTERWORTH_K);
        self.mono_bass_mix = self.mono_bass_mix_target;
    }

    fn clear_filters(&mut self) {
        self.mid_allpass = SvfState::default();
        self.side_highpass_1 = SvfState::default();
        self.side_highpass_2 = SvfState::default();
    }

    /// Applies new settings (clamped). Real-time safe: no allocation.
    pub fn set(&mut self, settings: &StereoSettings) {
        let s = settings.sanitized();
        self.settings = s;
        let fs = self.sample_rate;
        self.width.set_time(SMOOTHING_SECONDS, fs);
        self.g.set_time(SMOOTHING_SECONDS, fs);
        self.mono_bass_step = 1.0 / (MONO_BASS_FADE_SECONDS as f64 * fs as f64);
        self.width.target = s.width as f64;
        self.g.target = crossover_g(s.mono_bass_hz, fs);
        self.mono_bass_mix_target = if s.mono_bass_enabled { 1.0 } else { 0.0 };
    }

    /// The settings currently in effect (after clamping).
    pub fn settings(&self) -> &StereoSettings {
        &self.settings
    }

    /// Processing latency in samples: always 0.
    pub const fn latency_samples(&self) -> u32 {
        0
    }

    /// Processes a stereo block in place (common length of both slices). Never panics.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let neutral_targets = self.width.target == 1.0 && self.mono_bass_mix_target == 0.0;
        if neutral_targets && self.width.current == 1.0 && self.mono_bass_mix == 0.0 {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                *l = sanitize(*l);
                *r = sanitize(*r);
            }
            return;
        }
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let in_left = sanitize(*l);
            let in_right = sanitize(*r);
            self.width.advance();
            if self.mono_bass_mix != self.mono_bass_mix_target {
                self.mono_bass_mix = approach(
                    self.mono_bass_mix,
                    self.mono_bass_mix_target,
                    self.mono_bass_step,
                );
                if self.mono_bass_mix == 0.0 {
                    // Fully off: the next enable starts from clean, deterministic state.
                    self.clear_filters();
                }
            }
            if self.width.current == 1.0 && self.mono_bass_mix == 0.0 {
                *l = in_left;
                *r = in_right;
                continue;
            }
            let mut mid = 0.5 * (in_left as f64 + in_right as f64);
            let mut side = 0.5 * (in_left as f64 - in_right as f64);
            if self.mono_bass_mix > 0.0 {
                if !self.g.is_settled() {
                    self.coeffs = multipliers(self.g.advance(), BUTTERWORTH_K);
                }
                let (a, fade) = (&self.coeffs, self.mono_bass_mix);
                let mid_allpassed = self.mid_allpass.allpass(mid, a, BUTTERWORTH_K);
                let side_high_1 = self.side_highpass_1.highpass(side, a, BUTTERWORTH_K);
                let side_high = self.side_highpass_2.highpass(side_high_1, a, BUTTERWORTH_K);
                mid += fade * (mid_allpassed - mid);
                side += fade * (side_high - side);
            } else if !self.g.is_settled() {
                // Mono-bass off: frequency changes apply immediately (nothing audible yet).
                self.g.snap();
                self.coeffs = multipliers(self.g.current, BUTTERWORTH_K);
            }
            side *= self.width.current;
            *l = (mid + side) as f32;
            *r = (mid - side) as f32;
        }
        self.mid_allpass.guard();
        self.side_highpass_1.guard();
        self.side_highpass_2.guard();
    }
}

impl crate::dsp::util::bypass::Switchable for Stereo {
    fn clear(&mut self) {
        Stereo::clear(self);
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        Stereo::process(self, left, right);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signals::{dft_magnitude_db, largest_step, white_noise};

    const FS: f32 = 48_000.0;

    fn make(settings: &StereoSettings, fs: f32) -> Stereo {
        let mut s = Stereo::new(fs);
        s.set(settings);
        s.reset(fs);
        s
    }

    fn log_spaced_frequencies(count: usize) -> Vec<f64> {
        (0..count)
            .map(|i| 20.0 * 1000f64.powf(i as f64 / (count - 1) as f64))
            .collect()
    }

    /// Impulse response of the module for L = a·δ, R = b·δ; returns (left, right).
    fn impulse_response(
        settings: &StereoSettings,
        a: f32,
        b: f32,
        len: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut stereo = make(settings, FS);
        let mut left = vec![0.0f32; len];
        let mut right = vec![0.0f32; len];
        left[0] = a;
        right[0] = b;
        stereo.process(&mut left, &mut right);
        (
            left.iter().map(|&x| x as f64).collect(),
            right.iter().map(|&x| x as f64).collect(),
        )
    }

    fn mono_bass(hz: f32) -> StereoSettings {
        StereoSettings {
            width: 1.0,
            mono_bass_enabled: true,
            mono_bass_hz: hz,
        }
    }

    #[test]
    fn lr4_bands_sum_to_flat_magnitude_and_cross_at_minus_6_db() {
        for fs in [44_100.0f32, 192_000.0] {
            let a = multipliers(crossover_g(120.0, fs), BUTTERWORTH_K);
            let (mut lp1, mut lp2, mut hp1, mut hp2): (SvfState, SvfState, SvfState, SvfState) =
                Default::default();
            let lowpass = |state: &mut SvfState, x: f64| state.tick(x, &a).1;
            let highpass = |state: &mut SvfState, x: f64| state.highpass(x, &a, BUTTERWORTH_K);
            let len = (fs * 0.2) as usize;
            let mut sum = Vec::with_capacity(len);
            let mut high = Vec::with_capacity(len);
            for n in 0..len {
                let x = if n == 0 { 1.0 } else { 0.0 };
                let low_band = lowpass(&mut lp2, lowpass(&mut lp1, x));
                let high_band = highpass(&mut hp2, highpass(&mut hp1, x));
                sum.push(low_band + high_band);
                high.push(high_band);
            }
            let worst = log_spaced_frequencies(60)
                .iter()
                .map(|&f| dft_magnitude_db(&sum, f, fs as f64).abs())
                .fold(0.0, f64::max);
            eprintln!("{fs}: LR4 sum worst {worst} dB");
            assert!(worst < 0.1, "{fs}: LR4 sum deviates {worst} dB");
            let at_crossover = dft_magnitude_db(&high, 120.0, fs as f64);
            eprintln!("{fs}: HP4 at fc {at_crossover} dB");
            assert!(
                (at_crossover + 6.0206).abs() < 0.05,
                "{fs}: {at_crossover} dB at fc"
            );
        }
    }

    #[test]
    fn mono_bass_removes_low_side_and_keeps_high_side() {
        // Pure side impulse: L = δ, R = −δ → S = δ; output side = (L − R)/2.
        let (l, r) = impulse_response(&mono_bass(120.0), 1.0, -1.0, 9600);
        let side: Vec<f64> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a - b)).collect();
        let low = dft_magnitude_db(&side, 30.0, FS as f64);
        let high = dft_magnitude_db(&side, 2000.0, FS as f64);
        eprintln!("side 30 Hz {low} dB, 2 kHz {high} dB");
        assert!(low < -30.0, "side at 30 Hz: {low} dB");
        assert!(high.abs() < 0.1, "side at 2 kHz: {high} dB");
    }

    #[test]
    fn mono_material_passes_flat_and_stays_mono() {
        let (l, r) = impulse_response(&mono_bass(120.0), 1.0, 1.0, 9600);
        assert_eq!(l, r);
        let worst = log_spaced_frequencies(60)
            .iter()
            .map(|&f| dft_magnitude_db(&l, f, FS as f64).abs())
            .fold(0.0, f64::max);
        eprintln!("mono worst {worst} dB");
        assert!(worst < 0.1, "mono deviates {worst} dB");
    }

    #[test]
    fn width_zero_one_two() {
        let left_in = white_noise(4800, 1, 1.0);
        let right_in = white_noise(4800, 2, 1.0);
        let run = |width: f32| {
            let mut s = make(
                &StereoSettings {
                    width,
                    ..StereoSettings::default()
                },
                FS,
            );
            let (mut l, mut r) = (left_in.clone(), right_in.clone());
            s.process(&mut l, &mut r);
            (l, r)
        };
        let (l0, r0) = run(0.0);
        assert_eq!(l0, r0);
        let (l1, r1) = run(1.0);
        assert_eq!((&l1, &r1), (&left_in, &right_in));
        let (l2, r2) = run(2.0);
        let mut worst_side_ratio_error = 0.0f32;
        let mut worst_mid_error = 0.0f32;
        for i in 0..l2.len() {
            let side_in = 0.5 * (left_in[i] - right_in[i]);
            let side_out = 0.5 * (l2[i] - r2[i]);
            if side_in.abs() > 1e-3 {
                worst_side_ratio_error =
                    worst_side_ratio_error.max((side_out / side_in - 2.0).abs());
            }
            let mid_in = 0.5 * (left_in[i] + right_in[i]);
            worst_mid_error = worst_mid_error.max((0.5 * (l2[i] + r2[i]) - mid_in).abs());
        }
        eprintln!("width2 side ratio err {worst_side_ratio_error}, mid err {worst_mid_error}");
        assert!(
            worst_side_ratio_error < 1e-3,
            "side ratio error {worst_side_ratio_error}"
        );
        assert!(worst_mid_error < 1e-6, "mid error {worst_mid_error}");
    }

    fn test_signal(n: usize) -> (Vec<f32>, Vec<f32>) {
        // 50 Hz side bass + 1 kHz mid, typical wide-bass material.
        (0..n)
            .map(|i| {
                let t = i as f32 / FS;
                let bass = 0.4 * (std::f32::consts::TAU * 50.0 * t).sin();
                let mid = 0.3 * (std::f32::consts::TAU * 1000.0 * t).sin();
                (mid + bass, mid - bass)
            })
            .unzip()
    }

    #[test]
    fn mono_bass_toggle_and_frequency_changes_are_click_free() {
        let (left_in, right_in) = test_signal(48_000);
        let mut stereo = make(&StereoSettings::default(), FS);
        let (mut l, mut r) = (left_in.clone(), right_in.clone());
        let steady = largest_step(&l[..4800]).max(largest_step(&r[..4800]));
        let schedule = [
            (4800, mono_bass(120.0)),
            (14_400, mono_bass(300.0)),
            (24_000, mono_bass(40.0)),
            (33_600, StereoSettings::default()),
        ];
        let mut start = 0;
        for (end, settings) in schedule {
            stereo.process(&mut l[start..end], &mut r[start..end]);
            stereo.set(&settings);
            start = end;
        }
        stereo.process(&mut l[start..], &mut r[start..]);
        let worst = largest_step(&l).max(largest_step(&r));
        // The 1 kHz component alone gives steps of ≈ 0.3·2π·1000/48000 ≈ 0.04; a hard switch of
        // the 0.4-amplitude bass side would add up to 0.4.
        eprintln!("toggle largest step {worst} steady {steady}");
        assert!(
            worst < 1.1 * steady,
            "largest step {worst} vs steady {steady}"
        );
        // After switching off and fading out, the output is bit-exact again.
        assert_eq!(&l[40_000..], &left_in[40_000..]);
    }

    fn run_blocks(block: usize) -> (Vec<f32>, Vec<f32>) {
        let (mut l, mut r) = test_signal(12_000);
        let mut stereo = make(&StereoSettings::default(), FS);
        stereo.set(&StereoSettings {
            width: 1.6,
            mono_bass_enabled: true,
            mono_bass_hz: 150.0,
        });
        for (lb, rb) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
            stereo.process(lb, rb);
        }
        (l, r)
    }

    #[test]
    fn output_is_independent_of_block_size() {
        let reference = run_blocks(512);
        for block in [1, 37] {
            assert_eq!(run_blocks(block), reference, "block {block}");
        }
    }

    #[test]
    fn nan_burst_behaves_like_silence() {
        let settings = StereoSettings {
            width: 1.4,
            mono_bass_enabled: true,
            mono_bass_hz: 120.0,
        };
        let mut poisoned = make(&settings, FS);
        let mut clean = make(&settings, FS);
        let (left, right) = test_signal(1024);
        for block in 0..3 {
            let (mut l, mut r) = (left.clone(), right.clone());
            let (mut cl, mut cr) = (left.clone(), right.clone());
            if block == 1 {
                for i in 10..200 {
                    l[i] = f32::NAN;
                    r[i] = f32::INFINITY;
                    cl[i] = 0.0;
                    cr[i] = 0.0;
                }
            }
            poisoned.process(&mut l, &mut r);
            clean.process(&mut cl, &mut cr);
            assert!(l.iter().chain(&r).all(|x| x.is_finite()));
            assert_eq!((l, r), (cl, cr));
        }
        let mut neutral = make(&StereoSettings::default(), FS);
        let mut l = [f32::NAN, 0.5];
        let mut r = [f32::NEG_INFINITY, -0.5];
        neutral.process(&mut l, &mut r);
        assert_eq!((l, r), ([0.0, 0.5], [0.0, -0.5]));
    }
}
