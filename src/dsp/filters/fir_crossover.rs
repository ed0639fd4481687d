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
//! **Moving splits.** The kernels for new split frequencies are designed off the audio thread
//! by a [`DesignerThread`] (attached with [`FirCrossover::attach_designer`]; without one, as
//! offline, inline at the request) and handed over through wait-free rings; the retired set
//! goes back to that thread to be freed. At the next partition boundary the audio thread runs
//! both sets for one partition and crossfades every low-pass from the old to the new linearly
//! over it (256 samples at 44.1/48 kHz): all bands are differences of low-passes faded with
//! the same weight, so they still sum to the delayed input exactly while the split glides.

use crate::dsp::filters::fir_design::{design_linear_phase_fir, sample_rate_factor};
use crate::dsp::filters::partitioned_convolver::{PartitionedConvolver, PartitionedKernel};
use crate::dsp::util::delay::StereoDelay;
use crate::dsp::util::designer_thread::DesignerThread;
use crate::dsp::util::resident::resident_vec;
use rtrb::{Consumer, Producer, RingBuffer};

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

/// One set of split low-passes and the frequencies they were designed for.
pub struct CrossoverKernels {
    splits_hz: [f32; MAX_SPLITS],
    kernels: Vec<PartitionedKernel>,
}

impl CrossoverKernels {
    /// Designs the zero-phase LR4-magnitude low-passes (allocates, FFT work: not on the audio
    /// thread).
    fn design(
        splits_hz: &[f32; MAX_SPLITS],
        sample_rate: f32,
        block: usize,
        partitions: usize,
    ) -> Self {
        let fs = f64::from(sample_rate);
        let n = fir_len(sample_rate);
        Self {
            splits_hz: *splits_hz,
            kernels: splits_hz
                .iter()
                .map(|&fc| {
                    let fc = f64::from(fc.max(1.0));
                    let fir = design_linear_phase_fir(|f| 1.0 / (1.0 + (f / fc).powi(4)), fs, n);
                    PartitionedKernel::new(&fir, block, partitions)
                })
                .collect(),
        }
    }
}

/// The audio thread's ends of the designer's rings.
struct AudioSide {
    requests: Producer<[f32; MAX_SPLITS]>,
    incoming: Consumer<Box<CrossoverKernels>>,
    retire: Producer<Box<CrossoverKernels>>,
}

/// The linear-phase split of a stereo signal into 2-5 bands.
pub struct FirCrossover {
    delay: usize,
    block: usize,
    splits: usize,
    kernels: Box<CrossoverKernels>,
    /// The newest split frequencies asked for (designed or on their way).
    requested_hz: [f32; MAX_SPLITS],
    /// A designed set waiting for the next partition boundary.
    pending: Option<Box<CrossoverKernels>>,
    /// Audio end of the designer's rings, once one is attached.
    designer: Option<AudioSide>,
    /// The low-passes of the outgoing set during a crossfade.
    fading: Vec<[Vec<f32>; 2]>,
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
        Self {
            delay,
            block,
            splits: 1,
            kernels: Box::new(CrossoverKernels::design(
                splits_hz,
                sample_rate,
                block,
                partitions,
            )),
            requested_hz: *splits_hz,
            pending: None,
            designer: None,
            fading: (0..MAX_SPLITS)
                .map(|_| [resident_vec(0.0, block), resident_vec(0.0, block)])
                .collect(),
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
        }
    }

    /// The split frequencies of the kernels in use.
    pub fn designed_hz(&self) -> &[f32; MAX_SPLITS] {
        &self.kernels.splits_hz
    }

    /// True when this split already is what `new(sample_rate, _, splits_hz)` would build: the
    /// same rate, its kernels designed for `splits_hz` with nothing asked for or pending, and
    /// no designer attached (a reset replaces the designer's channel).
    pub fn is_built_for(&self, sample_rate: f32, splits_hz: &[f32; MAX_SPLITS]) -> bool {
        self.sample_rate == sample_rate
            && self.designer.is_none()
            && self.pending.is_none()
            && self.requested_hz == *splits_hz
            && self.kernels.splits_hz == *splits_hz
    }

    /// Asks for kernels at `splits_hz` (ascending). Allocation-free with a designer attached
    /// (a full request ring is retried at the next call); without one (offline) it designs
    /// here. The new set is crossfaded in at the next partition boundary.
    pub fn request(&mut self, splits_hz: &[f32; MAX_SPLITS]) {
        if *splits_hz == self.requested_hz {
            return;
        }
        match &mut self.designer {
            Some(side) => {
                if side.requests.push(*splits_hz).is_ok() {
                    self.requested_hz = *splits_hz;
                }
            }
            None => {
                let partitions = fir_len(self.sample_rate).div_ceil(self.block);
                self.pending = Some(Box::new(CrossoverKernels::design(
                    splits_hz,
                    self.sample_rate,
                    self.block,
                    partitions,
                )));
                self.requested_hz = *splits_hz;
            }
        }
    }

    /// Spawns the thread that designs requested kernels off the audio thread and connects
    /// it (allocates; call off the audio thread, after construction). A request already made
    /// and not yet designed is designed by the new thread.
    pub fn attach_designer(&mut self) -> DesignerThread {
        let (requests, mut incoming_requests) = RingBuffer::<[f32; MAX_SPLITS]>::new(16);
        let (mut to_audio, incoming) = RingBuffer::<Box<CrossoverKernels>>::new(2);
        let (retire, mut retired) = RingBuffer::<Box<CrossoverKernels>>::new(8);
        let (sample_rate, block) = (self.sample_rate, self.block);
        let partitions = fir_len(sample_rate).div_ceil(block);
        let mut unsent: Option<Box<CrossoverKernels>> = None;
        let thread = DesignerThread::spawn("fairmaster-crossover", move || {
            while let Ok(old) = retired.pop() {
                drop(old);
            }
            let mut latest = None;
            while let Ok(splits) = incoming_requests.pop() {
                latest = Some(splits);
            }
            if let Some(splits) = latest {
                unsent = Some(Box::new(CrossoverKernels::design(
                    &splits,
                    sample_rate,
                    block,
                    partitions,
                )));
            }
            // A full ring: the audio thread has not taken the last set yet; retry next poll.
            if let Some(kernels) = unsent.take() {
                if let Err(rtrb::PushError::Full(kernels)) = to_audio.push(kernels) {
                    unsent = Some(kernels);
                }
            }
            !incoming_requests.is_abandoned()
        });
        self.designer = Some(AudioSide {
            requests,
            incoming,
            retire,
        });
        // Whatever was asked for before is designed by the thread.
        if self.requested_hz != self.kernels.splits_hz {
            let wanted = self.requested_hz;
            self.requested_hz = self.kernels.splits_hz;
            self.request(&wanted);
        }
        thread
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
        if let Some(side) = &mut self.designer {
            // Take a new set only with room to retire two (a pending one it replaces and the
            // set in use), so the audio thread never has to free one itself.
            if side.retire.slots() >= 2 {
                if let Ok(kernels) = side.incoming.pop() {
                    if let Some(old) = self.pending.replace(kernels) {
                        let _ = side.retire.push(old);
                    }
                }
            }
        }
        let incoming = self.pending.take();
        for ch in 0..2 {
            self.convolvers[ch].push_block(&self.input[ch]);
            for j in 0..self.splits {
                self.convolvers[ch].convolve(&self.kernels.kernels[j], &mut self.lows[j][ch]);
            }
        }
        if let Some(new) = incoming {
            // One partition with both sets: the low-passes fade from the old to the new.
            let old = std::mem::replace(&mut self.kernels, new);
            let block = self.block as f32;
            for ch in 0..2 {
                for j in 0..self.splits {
                    let target = &mut self.fading[j][ch];
                    self.convolvers[ch].convolve(&self.kernels.kernels[j], target);
                    for (p, (low, new)) in
                        self.lows[j][ch].iter_mut().zip(target.iter()).enumerate()
                    {
                        let t = (p + 1) as f32 / block;
                        *low += t * (*new - *low);
                    }
                }
            }
            match &mut self.designer {
                // Room was checked when the set was taken.
                Some(side) => {
                    let _ = side.retire.push(old);
                }
                // Offline (designed inline): freed here.
                None => drop(old),
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

    /// Runs `x` through `c` in chunks, returning the sum of the bands and band 0 (left).
    fn run(
        c: &mut FirCrossover,
        x: &[f32],
        bands: usize,
        mut between: impl FnMut(&mut FirCrossover, usize),
    ) -> (Vec<f32>, Vec<f32>) {
        let (mut sum, mut low) = (Vec::new(), Vec::new());
        for (k, chunk) in x.chunks(300).enumerate() {
            between(c, k);
            c.process(chunk, chunk);
            for i in 0..chunk.len() {
                sum.push((0..bands).map(|b| c.band(b).0[i]).sum::<f32>());
                low.push(c.band(0).0[i]);
            }
        }
        (sum, low)
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn a_moved_split_is_redesigned_and_crossfaded_with_the_sum_exact() {
        // A 500 Hz tone with the first split at 200 Hz sits in band 2; moved to 2 kHz, in band
        // 1. Offline (designed inline) and through the designer thread; the bands sum to the
        // delayed input throughout, the crossfade included.
        let fs = 48_000.0;
        let before = [200.0, 5_000.0, 10_000.0, 15_000.0];
        let after = [2_000.0, 5_000.0, 10_000.0, 15_000.0];
        for threaded in [false, true] {
            let mut c = FirCrossover::new(fs, 512, &before);
            c.set_split_count(2);
            let _designer = threaded.then(|| c.attach_designer());
            let latency = c.latency_samples() as usize;
            let n = latency + 48_000;
            let x: Vec<f32> = (0..n)
                .map(|i| 0.5 * (std::f32::consts::TAU * 500.0 * i as f32 / fs).sin())
                .collect();
            let (sum, low) = run(&mut c, &x, 3, |c, k| {
                if k == 40 {
                    c.request(&after);
                }
                if threaded && k > 40 && c.designed_hz() != &after {
                    // Give the designer thread its poll interval (the test, not the audio
                    // thread, waits).
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            });
            let err = (latency..n)
                .map(|i| (sum[i] - x[i - latency]).abs())
                .fold(0.0f32, f32::max);
            assert!(err < 1e-5, "threaded {threaded}: sum error {err}");
            assert_eq!(c.designed_hz(), &after, "threaded {threaded}");
            // Band 0 held almost nothing of the tone before, all of it at the end.
            let early = rms(&low[latency..latency + 4_000]);
            let late = rms(&low[n - 4_000..]);
            assert!(early < 0.5 * 0.707 * 0.1, "threaded {threaded}: {early}");
            assert!(
                (late / (0.5 * 0.707) - 1.0).abs() < 0.05,
                "threaded {threaded}: {late}"
            );
        }
    }
}
