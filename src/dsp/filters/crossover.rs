//! A Linkwitz–Riley 4th-order (24 dB/oct) band-split crossover with 1 to 5 split frequencies,
//! built once for every stage that works in bands: the multiband saturation, the multiband
//! dynamics (2-5 bands) and the monitor's band solo (6 bands).
//!
//! **Why LR4.** An LR4 low-pass is a squared 2nd-order Butterworth, `1/(s²+√2s+1)²`, and its
//! high-pass twin `s⁴/(s²+√2s+1)²`; both are -6.02 dB at the split and fall at 24 dB/oct, and
//! their sum is `(1+s⁴)/(s²+√2s+1)² = (s²-√2s+1)/(s²+√2s+1)`, a 2nd-order all-pass: flat
//! magnitude, the two halves in phase at every frequency (Linkwitz, "Active Crossover Networks
//! for Noncoincident Drivers", JAES 24(1), 1976; Lipshitz & Vanderkooy, "In-phase crossover
//! network design", JAES 34(11), 1986). The bilinear transform is a substitution `s -> f(z)`,
//! so the identity holds exactly for the digital sections too, at every split frequency.
//!
//! **More than two bands** (a tree, D'Appolito, "Testing Loudspeakers", 1998; the same
//! topology as LSP's and Fabfilter's IIR crossovers): split 0 takes its low band off the
//! input, the rest continues through split 0's high-pass into split 1, and so on. Band `b`
//! then lacks the all-passes of the splits above it that the higher bands carry, so each band
//! below split `j` is also run through split `j`'s all-pass (`x - 2k·bp` of the same SVF
//! poles). Every band then shares the product of all the splits' all-passes, and the bands sum
//! to that all-pass chain: flat magnitude, phase of the chain (the tests check ±0.01 dB).
//!
//! **Moving splits.** Each section is Simper's TPT state-variable filter (`filters::svf`),
//! stable for any positive `g` and whose states keep their meaning when `g` changes, so the
//! split frequencies glide per sample (one-pole in log frequency, [`SPLIT_SMOOTHING_SECONDS`])
//! without the blow-ups of swapped biquad coefficients. Changing the *number* of bands is
//! structural: the newly used sections start from rest (the chain's structural fade hides it).
//!
//! The tree runs in f64 per sample (like the EQ and the monitor): at 30 Hz and 96 kHz the
//! poles sit within 2e-3 of z = 1, where f32 states would add audible noise.

use crate::dsp::filters::svf::{multipliers, prewarp, SvfState, BUTTERWORTH_K};
use crate::dsp::util::range::Range;
use crate::dsp::util::resident::resident_vec;
use crate::dsp::util::smoothing::OnePole;

/// Most bands a tree can make (the monitor's band solo uses all six; the saturation and the
/// multiband dynamics offer 2-5).
pub const MAX_BANDS: usize = 6;
/// Most split frequencies (one fewer than the bands).
pub const MAX_SPLITS: usize = MAX_BANDS - 1;
/// Time constant of the split-frequency glide (in log frequency).
pub const SPLIT_SMOOTHING_SECONDS: f32 = 0.020;
/// The range any split frequency is clamped to (the callers' own ranges are narrower).
pub const SPLIT_HZ: Range = Range::new(10.0, 20_000.0, 1_000.0, "Hz");

/// Simper's per-sample multipliers of the Butterworth section (`k = √2`) at `freq_hz`: one
/// split's coefficients for [`Lr4Tree::bands`].
pub fn split_coeffs(freq_hz: f64, sample_rate: f64) -> [f64; 3] {
    multipliers(prewarp(freq_hz, sample_rate), BUTTERWORTH_K)
}

/// The crossover tree of one channel: per split an LR4 low half and high half (two
/// Butterworth SVF sections each) and the all-pass compensations of the bands below it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lr4Tree {
    low: [[SvfState; 2]; MAX_SPLITS],
    high: [[SvfState; 2]; MAX_SPLITS],
    /// `compensation[b][j]`: band `b`'s copy of split `j`'s all-pass (`j > b`).
    compensation: [[SvfState; MAX_SPLITS]; MAX_SPLITS],
}

impl Lr4Tree {
    /// Splits `x` into `coeffs.len() + 1` bands (lowest first; the rest of the array is 0).
    /// `coeffs[j]` are split `j`'s multipliers ([`split_coeffs`]), ascending frequencies for
    /// bands in ascending order (the sum is flat whatever the order).
    #[inline]
    pub fn bands(&mut self, x: f64, coeffs: &[[f64; 3]]) -> [f64; MAX_BANDS] {
        let k = BUTTERWORTH_K;
        let splits = coeffs.len().min(MAX_SPLITS);
        let mut out = [0.0; MAX_BANDS];
        let mut rest = x;
        for j in 0..splits {
            let a = &coeffs[j];
            let low0 = self.low[j][0].tick(rest, a).1;
            out[j] = self.low[j][1].tick(low0, a).1;
            let high0 = self.high[j][0].highpass(rest, a, k);
            rest = self.high[j][1].highpass(high0, a, k);
        }
        out[splits] = rest;
        for (b, (value, states)) in out[..splits]
            .iter_mut()
            .zip(&mut self.compensation)
            .enumerate()
        {
            for (state, a) in states[b + 1..splits].iter_mut().zip(&coeffs[b + 1..]) {
                *value = state.allpass(*value, a, k);
            }
        }
        out
    }

    /// Zeroes the states of split `j` and of every compensation of it (before a split that
    /// was unused joins the tree again).
    pub fn clear_split(&mut self, j: usize) {
        if j < MAX_SPLITS {
            self.low[j] = Default::default();
            self.high[j] = Default::default();
            for band in &mut self.compensation {
                band[j] = SvfState::default();
            }
        }
    }

    /// Once per block: non-finite or denormal-range states become 0 (`SvfState::guard`).
    pub fn guard(&mut self) {
        for s in self
            .low
            .iter_mut()
            .chain(self.high.iter_mut())
            .flatten()
            .chain(self.compensation.iter_mut().flatten())
        {
            s.guard();
        }
    }
}

/// A stereo LR4 crossover into 2-6 bands, writing each band to a preallocated buffer.
/// `new`/`reset` allocate; `set_splits` and `process` do not.
#[derive(Clone, Debug)]
pub struct Crossover {
    sample_rate: f64,
    max_block: usize,
    splits: usize,
    /// Split frequencies as `ln(g)` (`g = tan(π f / fs)`), gliding per sample.
    log_g: [OnePole; MAX_SPLITS],
    coeffs: [[f64; 3]; MAX_SPLITS],
    trees: [Lr4Tree; 2],
    /// `buffers[b][channel]`, `max_block` samples each.
    buffers: Vec<[Vec<f32>; 2]>,
    /// Frames written by the last `process`.
    len: usize,
}

impl Crossover {
    /// A crossover for blocks of up to `max_block` frames, with one split at 1 kHz.
    pub fn new(sample_rate: f32, max_block: usize) -> Self {
        let max_block = max_block.max(1);
        let mut c = Self {
            sample_rate: 48_000.0,
            max_block,
            splits: 1,
            log_g: [OnePole::new(0.0); MAX_SPLITS],
            coeffs: [[0.0; 3]; MAX_SPLITS],
            trees: [Lr4Tree::default(); 2],
            buffers: (0..MAX_BANDS)
                .map(|_| [resident_vec(0.0, max_block), resident_vec(0.0, max_block)])
                .collect(),
            len: 0,
        };
        for (j, g) in c.log_g.iter_mut().enumerate() {
            // Spread the unused splits over the band so a later `set_splits` glides from a
            // sensible place; every split snaps on `reset` anyway.
            g.target = prewarp(f64::from(SPLIT_HZ.default) * 2f64.powi(j as i32), 48_000.0).ln();
        }
        c.reset(sample_rate);
        c
    }

    /// Largest block `process` takes.
    pub fn max_block(&self) -> usize {
        self.max_block
    }

    /// Prepares for `sample_rate`: the splits jump to their targets and the filters clear.
    pub fn reset(&mut self, sample_rate: f32) {
        let fs = f64::from(crate::dsp::util::usable_sample_rate(sample_rate));
        // Keep the frequencies (stored as ln g at the old rate) across a rate change.
        let freqs = self.split_frequencies_target();
        self.sample_rate = fs;
        for (j, g) in self.log_g.iter_mut().enumerate() {
            g.set_time(SPLIT_SMOOTHING_SECONDS, fs as f32);
            g.target = prewarp(freqs[j], fs).ln();
            g.snap();
        }
        self.update_coeffs();
        self.clear();
    }

    /// Zeroes the filters (allocation-free).
    pub fn clear(&mut self) {
        self.trees = [Lr4Tree::default(); 2];
    }

    /// The split frequencies the glide is heading for, Hz (all [`MAX_SPLITS`]).
    fn split_frequencies_target(&self) -> [f64; MAX_SPLITS] {
        let mut f = [0.0; MAX_SPLITS];
        for (out, g) in f.iter_mut().zip(&self.log_g) {
            *out = g.target.exp().atan() * self.sample_rate / std::f64::consts::PI;
        }
        f
    }

    /// Number of bands (split frequencies + 1).
    pub fn bands(&self) -> usize {
        self.splits + 1
    }

    /// Sets the split frequencies (1 to [`MAX_SPLITS`] of them, Hz, clamped to [`SPLIT_HZ`]
    /// and made non-decreasing). A change of frequency glides; a change of their number is
    /// structural: splits that join start from rest. Allocation-free.
    pub fn set_splits(&mut self, splits_hz: &[f32]) {
        let count = splits_hz.len().clamp(1, MAX_SPLITS);
        let mut previous = f64::from(SPLIT_HZ.min);
        for j in 0..count {
            let f = f64::from(SPLIT_HZ.sanitize(splits_hz.get(j).copied().unwrap_or(f32::NAN)))
                .max(previous);
            previous = f;
            self.log_g[j].target = prewarp(f, self.sample_rate).ln();
        }
        if count > self.splits {
            for j in self.splits..count {
                self.log_g[j].snap();
                for tree in &mut self.trees {
                    tree.clear_split(j);
                }
            }
        }
        self.splits = count;
        self.update_coeffs();
    }

    fn update_coeffs(&mut self) {
        for j in 0..MAX_SPLITS {
            self.coeffs[j] = multipliers(self.log_g[j].current.exp(), BUTTERWORTH_K);
        }
    }

    /// True while a split frequency is still gliding.
    fn gliding(&self) -> bool {
        self.log_g[..self.splits].iter().any(|g| !g.is_settled())
    }

    /// Splits a stereo block (at most [`Self::max_block`] frames; longer input is cut there)
    /// into the band buffers, read by [`Self::band`]. Input should be finite (the stages
    /// sanitise it); a non-finite state is cleared at the end of the block.
    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len().min(right.len()).min(self.max_block);
        debug_assert!(left.len() <= self.max_block, "block longer than max_block");
        let splits = self.splits;
        let bands = splits + 1;
        for i in 0..n {
            if self.gliding() {
                for j in 0..splits {
                    self.log_g[j].advance();
                }
                self.update_coeffs();
            }
            let coeffs = &self.coeffs[..splits];
            let l = self.trees[0].bands(f64::from(left[i]), coeffs);
            let r = self.trees[1].bands(f64::from(right[i]), coeffs);
            for b in 0..bands {
                self.buffers[b][0][i] = l[b] as f32;
                self.buffers[b][1][i] = r[b] as f32;
            }
        }
        for tree in &mut self.trees {
            tree.guard();
        }
        self.len = n;
    }

    /// Band `b` (lowest first) of the last [`Self::process`]: `(left, right)`.
    pub fn band(&self, b: usize) -> (&[f32], &[f32]) {
        let b = b.min(MAX_BANDS - 1);
        (
            &self.buffers[b][0][..self.len],
            &self.buffers[b][1][..self.len],
        )
    }

    /// Latency of the crossover: 0 (minimum phase).
    pub fn latency_samples(&self) -> u32 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Magnitude (dB) of `h` at `freq` by a direct DFT.
    fn magnitude_db(h: &[f64], freq: f64, fs: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / fs;
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &v) in h.iter().enumerate() {
            let (s, c) = (w * i as f64).sin_cos();
            re += v * c;
            im -= v * s;
        }
        10.0 * (re * re + im * im).log10()
    }

    /// Impulse responses of each band (left channel) and of their sum.
    fn responses(fs: f32, splits: &[f32], len: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut c = Crossover::new(fs, 256);
        c.set_splits(splits);
        c.reset(fs);
        let bands = c.bands();
        let mut per_band = vec![Vec::with_capacity(len); bands];
        let mut sum = Vec::with_capacity(len);
        let mut x = vec![0.0f32; len];
        x[0] = 1.0;
        for chunk in x.chunks(251) {
            c.process(chunk, chunk);
            for i in 0..chunk.len() {
                let mut s = 0.0;
                for (b, out) in per_band.iter_mut().enumerate() {
                    let v = f64::from(c.band(b).0[i]);
                    out.push(v);
                    s += v;
                }
                sum.push(s);
            }
        }
        (per_band, sum)
    }

    fn log_frequencies() -> impl Iterator<Item = f64> {
        (0..=60).map(|i| 20.0 * 1000f64.powf(i as f64 / 60.0))
    }

    #[test]
    fn bands_sum_flat_within_a_hundredth_of_a_db_for_every_band_count() {
        for fs in [44_100.0f32, 48_000.0, 96_000.0] {
            for splits in [
                &[1000.0][..],
                &[200.0, 3000.0],
                &[120.0, 1000.0, 5000.0],
                &[40.0, 300.0, 2500.0, 12_000.0],
                &[60.0, 250.0, 500.0, 2000.0, 6000.0],
            ] {
                let (_, sum) = responses(fs, splits, fs as usize);
                let worst = log_frequencies()
                    .map(|f| magnitude_db(&sum, f, f64::from(fs)))
                    .fold(0.0f64, |m, db| m.max(db.abs()));
                assert!(worst < 0.01, "{fs} Hz, splits {splits:?}: {worst:.4} dB");
            }
        }
    }

    /// Analytic LR4 magnitude of band `band` (see `monitor.rs`): in the warped frequency
    /// `Ω = tan(πf/fs)/tan(πfc/fs)` a low half is `1/(1+Ω⁴)`, a high half `Ω⁴/(1+Ω⁴)`.
    fn analytic_db(splits: &[f32], band: usize, freq: f64, fs: f64) -> f64 {
        let warp = |f: f64| (std::f64::consts::PI * f / fs).tan();
        let mut gain = 1.0;
        for (j, &fc) in splits.iter().enumerate() {
            let w4 = (warp(freq) / warp(f64::from(fc))).powi(4);
            if j < band {
                gain *= w4 / (1.0 + w4);
            } else if j == band {
                gain *= 1.0 / (1.0 + w4);
            }
        }
        20.0 * gain.log10()
    }

    #[test]
    fn each_band_has_lr4_slopes_and_minus_six_db_at_its_splits() {
        let fs = 48_000.0;
        let splits = [200.0, 3000.0];
        let (bands, _) = responses(fs, &splits, 48_000);
        for (b, h) in bands.iter().enumerate() {
            for f in log_frequencies() {
                let want = analytic_db(&splits, b, f, f64::from(fs));
                if want < -80.0 {
                    continue;
                }
                let got = magnitude_db(h, f, f64::from(fs));
                assert!(
                    (got - want).abs() < 0.02,
                    "band {b} at {f:.0} Hz: {got:.3} vs {want:.3}"
                );
            }
        }
        // The numbers the doc promises: -6 dB at the split, 24 dB per octave beyond it.
        let low = &bands[0];
        assert!((magnitude_db(low, 200.0, 48e3) + 6.02).abs() < 0.05);
        let slope = magnitude_db(low, 1600.0, 48e3) - magnitude_db(low, 3200.0, 48e3);
        assert!((slope - 24.0).abs() < 1.0, "slope {slope:.2} dB/oct");
        let high = &bands[2];
        let slope = magnitude_db(high, 750.0, 48e3) - magnitude_db(high, 375.0, 48e3);
        assert!((slope - 24.0).abs() < 1.0, "slope {slope:.2} dB/oct");
    }

    #[test]
    fn gliding_splits_stay_bounded_and_keep_summing_to_the_input_level() {
        let fs = 48_000.0;
        let mut c = Crossover::new(fs, 128);
        c.set_splits(&[200.0, 3000.0, 8000.0]);
        c.reset(fs);
        let mut phase = 0.0f64;
        let mut peak = 0.0f32;
        for block in 0..2000 {
            // Splits jump around every 40 ms, and the band count changes now and then.
            if block % 15 == 0 {
                let t = block as f32 / 15.0;
                let a = 40.0 * 2f32.powf(t % 7.0);
                let splits = [a, a * 4.0, a * 16.0, a * 30.0];
                let count = 1 + (block / 15) % 4;
                c.set_splits(&splits[..count]);
            }
            let x: Vec<f32> = (0..128)
                .map(|_| {
                    phase += 2.0 * std::f64::consts::PI * 437.0 / 48_000.0;
                    (0.5 * phase.sin()) as f32
                })
                .collect();
            c.process(&x, &x);
            for i in 0..128 {
                let s: f32 = (0..c.bands()).map(|b| c.band(b).0[i]).sum();
                assert!(s.is_finite());
                peak = peak.max(s.abs());
            }
        }
        // The sum is an all-pass of a 0.5 sine; moving poles add a little, never a blow-up.
        assert!(peak < 1.0, "peak {peak}");
    }
}
