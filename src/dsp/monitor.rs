//! Monitoring aids: hear the mix in mono, its side signal, one channel, or one frequency band.
//!
//! Applied to whatever is heard (master, original or reference) *after* level matching, so
//! every source is judged through the same aid. They never reach a render: the engine skips
//! them offline.
//!
//! - Channels: `Mono` is `(L+R)/2` on both sides (a centred, in-phase signal keeps its level),
//!   `Side` is `(L−R)/2`, `Left`/`Right` put one channel on both speakers.
//! - Band solo: a Linkwitz–Riley 4th-order crossover tree at the bands of LSP Referencer
//!   (60/250/500 Hz, 2/6 kHz). Each LR4 half is two Butterworth SVF sections (Linkwitz 1976;
//!   Simper's TPT SVF, see `filters::svf`); its low and high outputs sum to the 2nd-order
//!   all-pass with the same `k = √2` (since `1 + s⁴ = (s²+√2s+1)(s²−√2s+1)`), so every band
//!   below a split runs through that split's all-pass as well and the six bands sum to a chain
//!   of all-passes: flat magnitude. The tree is `filters::crossover::Lr4Tree`, shared with the
//!   multiband stages.
//! - A change of either aid crossfades over [`MONITOR_FADE_SECONDS`] (linear: the old and new
//!   outputs are the same programme, so equal-gain keeps the level), so switching never clicks.

use crate::dsp::filters::crossover::{split_coeffs, Lr4Tree, MAX_BANDS};

/// Crossover frequencies of the band solo (LSP Referencer's split points).
pub const SOLO_CROSSOVERS_HZ: [f64; 5] = [60.0, 250.0, 500.0, 2000.0, 6000.0];
/// Number of soloable bands (one more than the crossovers).
pub const SOLO_BANDS: usize = SOLO_CROSSOVERS_HZ.len() + 1;
/// Length of the crossfade when a monitoring aid changes.
pub const MONITOR_FADE_SECONDS: f64 = 0.020;

const SPLITS: usize = SOLO_CROSSOVERS_HZ.len();

/// Which channels reach the speakers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MonitorChannels {
    #[default]
    Stereo,
    Mono,
    Side,
    Left,
    Right,
}

impl MonitorChannels {
    /// Output matrix `[[l←l, l←r], [r←l, r←r]]`.
    fn matrix(self) -> [[f64; 2]; 2] {
        match self {
            Self::Stereo => [[1.0, 0.0], [0.0, 1.0]],
            Self::Mono => [[0.5, 0.5], [0.5, 0.5]],
            Self::Side => [[0.5, -0.5], [0.5, -0.5]],
            Self::Left => [[1.0, 0.0], [1.0, 0.0]],
            Self::Right => [[0.0, 1.0], [0.0, 1.0]],
        }
    }
}

/// What the monitor does: a channel view and optionally one soloed band (`0..SOLO_BANDS`,
/// lowest first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitorSettings {
    pub channels: MonitorChannels,
    pub solo_band: Option<usize>,
}

impl MonitorSettings {
    /// True when the monitor passes the signal through untouched.
    pub fn is_neutral(&self) -> bool {
        self.channels == MonitorChannels::Stereo && self.solo_band.is_none()
    }

    fn sanitized(mut self) -> Self {
        self.solo_band = self.solo_band.filter(|&b| b < SOLO_BANDS);
        self
    }
}

/// The crossover tree for one channel: `filters::crossover`'s LR4 tree, used with all five
/// splits.
type BandTree = Lr4Tree;

const _: () = assert!(SOLO_BANDS == MAX_BANDS, "the band solo uses the whole tree");

/// The monitoring stage: a channel matrix, then an optional band solo, with crossfades.
#[derive(Clone, Debug)]
pub struct Monitor {
    coeffs: [[f64; 3]; SPLITS],
    trees: [BandTree; 2],
    /// What is heard once any fade has finished.
    current: MonitorSettings,
    /// What was heard before the last change, while the fade runs.
    previous: MonitorSettings,
    fade_len: u32,
    /// Samples left in the fade (0: none running).
    fade_left: u32,
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Monitor {
    pub fn new() -> Self {
        let mut monitor = Self {
            coeffs: [[0.0; 3]; SPLITS],
            trees: [BandTree::default(); 2],
            current: MonitorSettings::default(),
            previous: MonitorSettings::default(),
            fade_len: 1,
            fade_left: 0,
        };
        monitor.reset(48_000.0);
        monitor
    }

    /// Designs the crossovers for `sample_rate`, clears the filters and ends any fade.
    pub fn reset(&mut self, sample_rate: f32) {
        let sample_rate = f64::from(sample_rate);
        for (c, &f) in self.coeffs.iter_mut().zip(&SOLO_CROSSOVERS_HZ) {
            *c = split_coeffs(f, sample_rate);
        }
        self.trees = [BandTree::default(); 2];
        self.fade_len = ((MONITOR_FADE_SECONDS * sample_rate).round() as u32).max(1);
        self.fade_left = 0;
        self.previous = self.current;
    }

    /// Label of solo band `band` (for the parameter text and the editor).
    pub fn band_label(band: usize) -> &'static str {
        match band {
            0 => "Sub < 60 Hz",
            1 => "Low 60–250 Hz",
            2 => "Low-mid 250–500 Hz",
            3 => "Mid 500 Hz–2 kHz",
            4 => "High-mid 2–6 kHz",
            _ => "Air > 6 kHz",
        }
    }

    /// The settings heard once the current fade (if any) ends.
    pub fn settings(&self) -> MonitorSettings {
        self.current
    }

    /// Changes the aid; a change starts a crossfade from what is heard now. A change during a
    /// fade restarts it from the newer of the two (the older one is already mostly gone).
    pub fn set(&mut self, settings: &MonitorSettings) {
        let settings = settings.sanitized();
        if settings == self.current {
            return;
        }
        if self.fade_left * 2 > self.fade_len {
            // Less than half way: what is mostly heard is still `previous`; keep fading from it.
        } else {
            self.previous = self.current;
        }
        self.current = settings;
        self.fade_left = self.fade_len;
        if self.previous.solo_band.is_none() && self.current.solo_band.is_some() {
            // The tree was idle: start it from rest, its onset hidden by the fade.
            self.trees = [BandTree::default(); 2];
        }
    }

    /// True when `process` leaves the audio untouched (neutral and no fade running).
    pub fn is_transparent(&self) -> bool {
        self.fade_left == 0 && self.current.is_neutral()
    }

    /// Applies the aid in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.is_transparent() {
            return;
        }
        let tree_needed = self.current.solo_band.is_some()
            || (self.fade_left > 0 && self.previous.solo_band.is_some());
        let (current, previous) = (self.current, self.previous);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let x = [f64::from(*l), f64::from(*r)];
            // The tree runs on the input channels: matrix and band filter are both linear and
            // time-invariant, so `band(M·x) = M·band(x)` and one set of filter states serves
            // the old and the new setting during a fade.
            let bands = if tree_needed {
                [
                    self.trees[0].bands(x[0], &self.coeffs),
                    self.trees[1].bands(x[1], &self.coeffs),
                ]
            } else {
                [[0.0; SOLO_BANDS]; 2]
            };
            let heard = |settings: MonitorSettings| {
                let source = settings.solo_band.map_or(x, |b| [bands[0][b], bands[1][b]]);
                apply_matrix(&settings.channels.matrix(), source)
            };
            let mut out = heard(current);
            if self.fade_left > 0 {
                let old = heard(previous);
                let t = f64::from(self.fade_left) / f64::from(self.fade_len);
                for ch in 0..2 {
                    out[ch] = out[ch] * (1.0 - t) + old[ch] * t;
                }
                self.fade_left -= 1;
            }
            *l = out[0] as f32;
            *r = out[1] as f32;
        }
        for tree in &mut self.trees {
            tree.guard();
        }
        if self.fade_left == 0 {
            self.previous = self.current;
        }
    }
}

#[inline(always)]
fn apply_matrix(m: &[[f64; 2]; 2], x: [f64; 2]) -> [f64; 2] {
    [
        m[0][0] * x[0] + m[0][1] * x[1],
        m[1][0] * x[0] + m[1][1] * x[1],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f64 = 48_000.0;
    const FS32: f32 = 48_000.0;

    /// Magnitude (dB) of the sum of all six bands at `freq`, from a steady sine through the
    /// tree (one channel), measured after the transient by correlation with sin/cos.
    fn tree_gain_db(freq: f64, bands: impl Fn(&[f64; SOLO_BANDS]) -> f64) -> f64 {
        let mut monitor = Monitor::new();
        monitor.reset(FS32);
        let mut tree = BandTree::default();
        let n = (FS * 2.0) as usize;
        let settle = n / 2;
        let (mut s, mut c) = (0.0, 0.0);
        for i in 0..n {
            let phase = 2.0 * std::f64::consts::PI * freq * i as f64 / FS;
            let y = bands(&tree.bands(phase.sin(), &monitor.coeffs));
            if i >= settle {
                s += y * phase.sin();
                c += y * phase.cos();
            }
        }
        let m = (n - settle) as f64;
        let amplitude = 2.0 * (s * s + c * c).sqrt() / m;
        20.0 * amplitude.log10()
    }

    #[test]
    fn the_six_bands_sum_flat_within_a_tenth_of_a_db() {
        // Issue 13: "band solo (LR4 crossovers that sum flat within ±0.1 dB)". Whole-cycle
        // frequencies keep the correlation estimate exact.
        for freq in [
            20.0, 40.0, 60.0, 100.0, 250.0, 400.0, 500.0, 1000.0, 2000.0, 4000.0,
        ] {
            let db = tree_gain_db(freq, |b| b.iter().sum());
            assert!(db.abs() < 0.1, "{freq} Hz: bands sum to {db:+.3} dB");
        }
        for freq in [6000.0, 10_000.0, 16_000.0] {
            let db = tree_gain_db(freq, |b| b.iter().sum());
            assert!(db.abs() < 0.1, "{freq} Hz: bands sum to {db:+.3} dB");
        }
    }

    /// Analytic magnitude (dB) of band `band`: the product of its LR4 high-pass halves
    /// below and its low-pass half above. An LR4 half is a squared Butterworth, so in the
    /// bilinear-warped frequency `Ω = tan(πf/fs)/tan(πfc/fs)` its magnitude is `1/(1+Ω⁴)`
    /// (low) or `Ω⁴/(1+Ω⁴)` (high); the all-pass compensations add none.
    fn analytic_band_db(band: usize, freq: f64) -> f64 {
        let warp = |f: f64| (std::f64::consts::PI * f / FS).tan();
        let mut gain = 1.0;
        for (split, &fc) in SOLO_CROSSOVERS_HZ.iter().enumerate() {
            let w4 = (warp(freq) / warp(fc)).powi(4);
            if split < band {
                gain *= w4 / (1.0 + w4);
            } else if split == band {
                gain *= 1.0 / (1.0 + w4);
            }
        }
        20.0 * gain.log10()
    }

    #[test]
    fn each_band_has_the_analytic_lr4_response() {
        // −6.02 dB at its own crossovers (less the neighbouring splits' share), flat inside,
        // 24 dB/oct outside.
        for band in 0..SOLO_BANDS {
            for freq in [
                30.0, 60.0, 120.0, 250.0, 350.0, 500.0, 1000.0, 2000.0, 3500.0, 6000.0, 12_000.0,
            ] {
                let want = analytic_band_db(band, freq);
                if want < -60.0 {
                    continue; // below the estimator's resolution after 1 s
                }
                let got = tree_gain_db(freq, |b| b[band]);
                assert!(
                    (got - want).abs() < 0.05,
                    "band {band} at {freq} Hz: {got:.3} dB, analytic {want:.3}"
                );
            }
        }
        assert!((analytic_band_db(0, 60.0) + 6.02).abs() < 0.01);
        assert!(analytic_band_db(3, 125.0) < -40.0);
    }

    fn stereo(n: usize) -> (Vec<f32>, Vec<f32>) {
        let l = (0..n).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
        let r = (0..n).map(|i| (i as f32 * 0.013).cos() * 0.25).collect();
        (l, r)
    }

    #[test]
    fn neutral_is_bit_identical_and_channel_views_have_their_analytic_values() {
        let (l0, r0) = stereo(4096);
        let mut monitor = Monitor::new();
        let (mut l, mut r) = (l0.clone(), r0.clone());
        monitor.process(&mut l, &mut r);
        assert_eq!((l.as_slice(), r.as_slice()), (l0.as_slice(), r0.as_slice()));

        for (channels, expect) in [
            (MonitorChannels::Mono, [0.5, 0.5]),
            (MonitorChannels::Side, [0.5, -0.5]),
            (MonitorChannels::Left, [1.0, 0.0]),
            (MonitorChannels::Right, [0.0, 1.0]),
        ] {
            let mut monitor = Monitor::new();
            monitor.reset(FS32);
            monitor.set(&MonitorSettings {
                channels,
                solo_band: None,
            });
            let (mut l, mut r) = (l0.clone(), r0.clone());
            monitor.process(&mut l, &mut r);
            // After the 20 ms (960-sample) fade: exactly the matrix.
            for i in 1000..4096 {
                let want = expect[0] * f64::from(l0[i]) + expect[1] * f64::from(r0[i]);
                assert!(
                    (f64::from(l[i]) - want).abs() < 1e-6,
                    "{channels:?} left at {i}"
                );
                assert!(
                    (f64::from(r[i]) - want).abs() < 1e-6,
                    "{channels:?} right at {i}"
                );
            }
        }
    }

    #[test]
    fn switching_fades_without_a_step() {
        // A DC-free sine, switched Stereo → Side → solo band → neutral: no sample-to-sample
        // jump larger than the sine's own slope allows (a hard switch of L to (L−R)/2 would
        // jump by up to 0.4).
        let n = 48_000;
        let (mut l, mut r) = stereo(n);
        let (l0, r0) = (l.clone(), r.clone());
        let mut monitor = Monitor::new();
        monitor.reset(FS32);
        let steps = [
            MonitorSettings {
                channels: MonitorChannels::Side,
                solo_band: None,
            },
            MonitorSettings {
                channels: MonitorChannels::Side,
                solo_band: Some(1),
            },
            MonitorSettings::default(),
        ];
        for (block, (lb, rb)) in l.chunks_mut(512).zip(r.chunks_mut(512)).enumerate() {
            if block % 20 == 5 {
                monitor.set(&steps[(block / 20) % steps.len()]);
            }
            monitor.process(lb, rb);
        }
        let max_input_step = l0
            .windows(2)
            .chain(r0.windows(2))
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        let max_output_step = l
            .windows(2)
            .chain(r.windows(2))
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(
            max_output_step < 2.0 * max_input_step,
            "largest step {max_output_step} vs input's {max_input_step}"
        );
        // Back to neutral and settled: bit-identical again.
        monitor.set(&MonitorSettings::default());
        let (mut lb, mut rb) = stereo(2048);
        monitor.process(&mut lb, &mut rb);
        assert!(monitor.is_transparent());
        let (l1, r1) = stereo(512);
        let (mut lb, mut rb) = (l1.clone(), r1.clone());
        monitor.process(&mut lb, &mut rb);
        assert_eq!((lb, rb), (l1, r1));
    }

    #[test]
    fn bad_samples_do_not_poison_the_tree() {
        let mut monitor = Monitor::new();
        monitor.reset(FS32);
        monitor.set(&MonitorSettings {
            channels: MonitorChannels::Stereo,
            solo_band: Some(2),
        });
        let mut l = vec![0.1f32; 512];
        let mut r = vec![0.1f32; 512];
        l[10] = f32::NAN;
        r[20] = f32::INFINITY;
        monitor.process(&mut l, &mut r);
        let (mut l, mut r) = stereo(4096);
        monitor.process(&mut l, &mut r);
        assert!(l.iter().chain(&r).all(|x| x.is_finite()));
        let out_of_range = MonitorSettings {
            channels: MonitorChannels::Stereo,
            solo_band: Some(99),
        };
        monitor.set(&out_of_range);
        assert_eq!(monitor.settings().solo_band, None);
    }
}
