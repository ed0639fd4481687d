//! A linear-phase band split for the multiband dynamics, on the EQ's FIR engine
//! (`fir_design` + `partitioned_convolver`).
//!
//! **Complementary by construction.** Each split `j` is a zero-phase low-pass `LP_j` with the
//! Linkwitz–Riley 4th-order magnitude `1/(1+(f/f_j)^4)` (the minimum-phase tree's, without its
//! phase), realised as a symmetric FIR delayed by `D = (N-1)/2`. The bands are
//! `band 1 = LP_1`, `band k = LP_k - LP_{k-1}`, `top band = x delayed by D - LP_last`, so they
//! sum to the input delayed by `D` exactly (up to float rounding), whatever the splits and
//! however short the FIRs: the FIR length only decides how closely each band's skirt follows
//! the LR4 magnitude (low splits are approximate: 4095 taps at 48 kHz are 85 ms).
//!
//! **Latency**: `D` plus one partition (the convolver works in blocks of `B`): fixed per
//! sample rate, reported by [`FirCrossover::latency_for`]; switching to or from it is
//! structural for the stage.
//!
//! **Moving splits.** The kernels are designed in [`FirCrossover::design`], which allocates
//! and runs where the stage is reset (activation, the offline renderer), for the split
//! frequencies then in place. On the audio thread the splits keep that design: moving a split
//! in linear-phase mode takes effect at the next reset (a host restart, or switching the mode);
//! the number of bands changes at once (every split is designed). An off-thread redesigner
//! like the EQ's is the missing piece.

use crate::dsp::filters::fir_design::{design_linear_phase_fir, sample_rate_factor};
use crate::dsp::filters::partitioned_convolver::{PartitionedConvolver, PartitionedKernel};
use crate::dsp::util::delay::StereoDelay;
use crate::dsp::util::resident::resident_vec;

/// Most split frequencies.
pub const MAX_SPLITS: usize = 4;
/// Most bands.
pub const MAX_BANDS: usize = MAX_SPLITS + 1;
/// FIR length at 44.1/48 kHz (scaled with the rate like the EQ's): 4095 taps.
const BASE_FIR_LEN: usize = 4095;
/// Partition (block) size of the convolver at 44.1/48 kHz.
const BASE_PARTITION: usize = 256;

fn fir_len(sample_rate: f32) -> usize {
    (BASE_FIR_LEN + 1) * sample_rate_factor(sample_rate) - 1
}

fn partition(sample_rate: f32) -> usize {
    BASE_PARTITION * sample_rate_factor(sample_rate)
}

/// The linear-phase split of a stereo signal into 2-5 bands.
pub struct FirCrossover {
    delay: usize,
    block: usize,
    splits: usize,
    kernels: Vec<PartitionedKernel>,
    designed_hz: [f32; MAX_SPLITS],
    sample_rate: f32,
    convolvers: [PartitionedConvolver; 2],
    /// The block being collected, per channel.
    input: [Vec<f32>; 2],
    pos: usize,
    /// The input delayed by `delay`, for the top band.
    dry: StereoDelay,
    /// The last block's results: `lows[j][channel]` (split `j`'s low-pass) and the delayed input.
    lows: Vec<[Vec<f32>; 2]>,
    delayed: [Vec<f32>; 2],
    /// Band outputs of the last `process`: `out[b][channel]`.
    out: Vec<[Vec<f32>; 2]>,
    len: usize,
}

impl FirCrossover {
    /// Latency at `sample_rate`: the FIR's delay plus one partition.
    pub fn latency_for(sample_rate: f32) -> u32 {
        ((fir_len(sample_rate) - 1) / 2 + partition(sample_rate)) as u32
    }

    /// A split for `sample_rate` and blocks of up to `max_block`, designed for `splits_hz`.
    /// Allocates.
    pub fn new(sample_rate: f32, max_block: usize, splits_hz: &[f32; MAX_SPLITS]) -> Self {
        let n = fir_len(sample_rate);
        let block = partition(sample_rate);
        let partitions = n.div_ceil(block);
        let delay = (n - 1) / 2;
        let mut c = Self {
            delay,
            block,
            splits: 1,
            kernels: Vec::new(),
            designed_hz: [0.0; MAX_SPLITS],
            sample_rate,
            convolvers: [
                PartitionedConvolver::new(block, partitions),
                PartitionedConvolver::new(block, partitions),
            ],
            input: [resident_vec(0.0, block), resident_vec(0.0, block)],
            pos: 0,
            dry: StereoDelay::new(delay + block),
            lows: (0..MAX_SPLITS)
                .map(|_| [resident_vec(0.0, block), resident_vec(0.0, block)])
                .collect(),
            delayed: [resident_vec(0.0, block), resident_vec(0.0, block)],
            out: (0..MAX_BANDS)
                .map(|_| [resident_vec(0.0, max_block), resident_vec(0.0, max_block)])
                .collect(),
            len: 0,
        };
        c.design(splits_hz);
        c
    }

    /// Designs the kernels for `splits_hz` (allocates: not on the audio thread) and clears.
    pub fn design(&mut self, splits_hz: &[f32; MAX_SPLITS]) {
        let fs = f64::from(self.sample_rate);
        let n = fir_len(self.sample_rate);
        let partitions = n.div_ceil(self.block);
        self.kernels = splits_hz
            .iter()
            .map(|&fc| {
                let fc = f64::from(fc.max(1.0));
                let fir = design_linear_phase_fir(|f| 1.0 / (1.0 + (f / fc).powi(4)), fs, n);
                PartitionedKernel::new(&fir, self.block, partitions)
            })
            .collect();
        self.designed_hz = *splits_hz;
        self.clear();
    }

    /// The split frequencies the kernels were designed for.
    pub fn designed_hz(&self) -> &[f32; MAX_SPLITS] {
        &self.designed_hz
    }

    /// Uses the first `count` splits (1..=4): `count + 1` bands. Allocation-free.
    pub fn set_split_count(&mut self, count: usize) {
        self.splits = count.clamp(1, MAX_SPLITS);
    }

    /// Forgets the signal (allocation-free).
    pub fn clear(&mut self) {
        for c in &mut self.convolvers {
            c.clear();
        }
        for v in self
            .input
            .iter_mut()
            .chain(self.delayed.iter_mut())
            .chain(self.lows.iter_mut().flatten())
        {
            v.fill(0.0);
        }
        self.dry.clear();
        self.pos = 0;
    }

    /// Latency in samples.
    pub fn latency_samples(&self) -> u32 {
        (self.delay + self.block) as u32
    }

    /// Splits a stereo block (at most the `max_block` given to `new`) into the band buffers.
    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len().min(right.len()).min(self.out[0][0].len());
        let splits = self.splits;
        for i in 0..n {
            let p = self.pos;
            self.input[0][p] = left[i];
            self.input[1][p] = right[i];
            for ch in 0..2 {
                let mut below = 0.0f32;
                for j in 0..splits {
                    let low = self.lows[j][ch][p];
                    self.out[j][ch][i] = low - below;
                    below = low;
                }
                self.out[splits][ch][i] = self.delayed[ch][p] - below;
            }
            self.pos += 1;
            if self.pos == self.block {
                self.pos = 0;
                self.run_block();
            }
        }
        self.len = n;
    }

    fn run_block(&mut self) {
        for ch in 0..2 {
            self.convolvers[ch].push_block(&self.input[ch]);
            for j in 0..self.splits {
                self.convolvers[ch].convolve(&self.kernels[j], &mut self.lows[j][ch]);
            }
        }
        let [dl, dr] = &mut self.delayed;
        self.dry
            .push_block_and_read_one(&self.input[0], &self.input[1], self.delay, [dl, dr]);
    }

    /// Band `b` of the last [`Self::process`]: `(left, right)`.
    pub fn band(&self, b: usize) -> (&[f32], &[f32]) {
        let b = b.min(MAX_BANDS - 1);
        (&self.out[b][0][..self.len], &self.out[b][1][..self.len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_sum_to_the_input_delayed_by_the_latency() {
        for fs in [44_100.0f32, 96_000.0] {
            let splits = [120.0, 1000.0, 5000.0, 10_000.0];
            for count in 1..=4 {
                let mut c = FirCrossover::new(fs, 512, &splits);
                c.set_split_count(count);
                let latency = c.latency_samples() as usize;
                let n = latency + 3000;
                let x: Vec<f32> = (0..n)
                    .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.5)
                    .collect();
                let mut sum = Vec::with_capacity(n);
                for chunk in x.chunks(300) {
                    c.process(chunk, chunk);
                    for i in 0..chunk.len() {
                        sum.push((0..=count).map(|b| c.band(b).0[i]).sum::<f32>());
                    }
                }
                let err = (latency..n)
                    .map(|i| (sum[i] - x[i - latency]).abs())
                    .fold(0.0f32, f32::max);
                assert!(err < 1e-5, "{fs} Hz, {count} splits: {err}");
            }
        }
    }
}
