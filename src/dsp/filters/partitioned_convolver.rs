//! Uniformly partitioned overlap-save FFT convolution (UPOLS) for one channel.
//!
//! A long FIR of N taps is cut into P = ceil(N / B) partitions of B taps; each partition is
//! zero-padded to 2B and transformed once, off the audio thread ([`PartitionedKernel`]). On the
//! audio side every block of B new input samples is transformed once (2B-point real FFT of the
//! last 2B input samples) into a frequency-domain delay line (FDL) of the last P input spectra;
//! the output block is the inverse FFT of sum_p X[k - p] * H[p], of which the last B samples are
//! the valid (non-circular) part. References: Wefers, "Partitioned convolution algorithms for
//! real-time auralization" (2015), ch. 5 (UPOLS); Gardner, "Efficient convolution without
//! input-output delay", JAES 43(3), 1995.
//!
//! Cost per sample: one forward and one inverse real FFT of 2B per B samples plus P complex
//! multiply-accumulates. Spectra are stored split (real and imaginary arrays) so the
//! multiply-accumulate loop vectorises. The realfft inverse scale 1/(2B) is folded into the
//! kernel spectra. The convolver itself has no recursive state, so it cannot blow up: whatever
//! enters the FDL leaves it after P blocks.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::dsp::util::resident::resident_vec;

/// The FFT'd partitions of one FIR, ready for [`PartitionedConvolver::convolve`]. Built off the
/// audio thread (allocates and plans an FFT).
#[derive(Clone, Debug)]
pub struct PartitionedKernel {
    partition_size: usize,
    num_partitions: usize,
    /// Real parts, partition-major: partition p occupies `p * (B + 1)..(p + 1) * (B + 1)`.
    spectra_re: Vec<f32>,
    /// Imaginary parts, same layout.
    spectra_im: Vec<f32>,
}

impl PartitionedKernel {
    /// Partitions `fir` into `num_partitions` blocks of `partition_size` taps (taps beyond
    /// `num_partitions * partition_size` are ignored, missing taps are zero) and transforms them.
    /// Non-finite taps are replaced by 0. `partition_size` is raised to at least 1.
    pub fn new(fir: &[f32], partition_size: usize, num_partitions: usize) -> Self {
        let partition_size = partition_size.max(1);
        let bins = partition_size + 1;
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(2 * partition_size);
        let mut time = forward.make_input_vec();
        let mut spectrum = forward.make_output_vec();
        let mut spectra_re = vec![0.0f32; num_partitions * bins];
        let mut spectra_im = vec![0.0f32; num_partitions * bins];
        let inverse_fft_scale = 1.0 / (2 * partition_size) as f32;
        for partition in 0..num_partitions {
            time.iter_mut().for_each(|t| *t = 0.0);
            let start = (partition * partition_size).min(fir.len());
            let end = ((partition + 1) * partition_size).min(fir.len());
            for (slot, &tap) in time.iter_mut().zip(&fir[start..end]) {
                *slot = if tap.is_finite() { tap } else { 0.0 };
            }
            if forward.process(&mut time, &mut spectrum).is_err() {
                continue; // cannot happen with planner-made buffers; leaves a silent partition
            }
            let offset = partition * bins;
            for (bin, value) in spectrum.iter().enumerate() {
                spectra_re[offset + bin] = value.re * inverse_fft_scale;
                spectra_im[offset + bin] = value.im * inverse_fft_scale;
            }
        }
        Self {
            partition_size,
            num_partitions,
            spectra_re,
            spectra_im,
        }
    }

    /// Partition size B in samples.
    pub fn partition_size(&self) -> usize {
        self.partition_size
    }

    /// Number of partitions P.
    pub fn num_partitions(&self) -> usize {
        self.num_partitions
    }
}

/// Audio-side state of one channel: the input window and the frequency-domain delay line.
/// All buffers are allocated in [`PartitionedConvolver::new`], resident
/// (`util::resident`); `push_block` and `convolve` do not allocate.
pub struct PartitionedConvolver {
    partition_size: usize,
    num_partitions: usize,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// The last 2B input samples (previous block, then the newest block).
    input_window: Vec<f32>,
    /// Copy of `input_window` handed to the FFT (realfft uses its input as scratch).
    fft_time: Vec<f32>,
    fft_spectrum: Vec<Complex<f32>>,
    fft_scratch: Vec<Complex<f32>>,
    /// Frequency-domain delay line, P slots of B + 1 bins, split real/imaginary.
    delay_line_re: Vec<f32>,
    delay_line_im: Vec<f32>,
    /// Slot holding the newest input spectrum.
    newest_slot: usize,
    accumulator_re: Vec<f32>,
    accumulator_im: Vec<f32>,
}

impl PartitionedConvolver {
    /// Allocates a convolver for kernels with `num_partitions` partitions of `partition_size`.
    pub fn new(partition_size: usize, num_partitions: usize) -> Self {
        let partition_size = partition_size.max(1);
        let num_partitions = num_partitions.max(1);
        let bins = partition_size + 1;
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(2 * partition_size);
        let inverse = planner.plan_fft_inverse(2 * partition_size);
        let scratch_len = forward.get_scratch_len().max(inverse.get_scratch_len());
        Self {
            partition_size,
            num_partitions,
            input_window: resident_vec(0.0, 2 * partition_size),
            fft_time: resident_vec(0.0, 2 * partition_size),
            fft_spectrum: resident_vec(Complex::new(0.0, 0.0), bins),
            fft_scratch: resident_vec(Complex::new(0.0, 0.0), scratch_len),
            delay_line_re: resident_vec(0.0, num_partitions * bins),
            delay_line_im: resident_vec(0.0, num_partitions * bins),
            newest_slot: 0,
            accumulator_re: resident_vec(0.0, bins),
            accumulator_im: resident_vec(0.0, bins),
            forward,
            inverse,
        }
    }

    /// Partition size B in samples.
    pub fn partition_size(&self) -> usize {
        self.partition_size
    }

    /// Number of partitions P (the longest kernel this convolver can run is P * B taps).
    pub fn num_partitions(&self) -> usize {
        self.num_partitions
    }

    /// True if `kernel` has the same partitioning as this convolver.
    pub fn accepts(&self, kernel: &PartitionedKernel) -> bool {
        kernel.partition_size == self.partition_size && kernel.num_partitions == self.num_partitions
    }

    /// Clears the input history (silence).
    pub fn clear(&mut self) {
        self.input_window.iter_mut().for_each(|x| *x = 0.0);
        self.delay_line_re.iter_mut().for_each(|x| *x = 0.0);
        self.delay_line_im.iter_mut().for_each(|x| *x = 0.0);
        self.newest_slot = 0;
    }

    /// Appends the next B input samples (`block.len()` must be B; otherwise the missing part is
    /// treated as silence) and stores their spectrum as the newest FDL entry. The caller is
    /// responsible for finite input.
    pub fn push_block(&mut self, block: &[f32]) {
        let b = self.partition_size;
        let bins = b + 1;
        self.input_window.copy_within(b.., 0);
        let newest = &mut self.input_window[b..];
        newest.iter_mut().for_each(|x| *x = 0.0);
        let n = block.len().min(b);
        newest[..n].copy_from_slice(&block[..n]);

        self.fft_time.copy_from_slice(&self.input_window);
        self.newest_slot = (self.newest_slot + 1) % self.num_partitions;
        let offset = self.newest_slot * bins;
        let slot_re = &mut self.delay_line_re[offset..offset + bins];
        let slot_im = &mut self.delay_line_im[offset..offset + bins];
        let transformed = self
            .forward
            .process_with_scratch(
                &mut self.fft_time,
                &mut self.fft_spectrum,
                &mut self.fft_scratch,
            )
            .is_ok();
        if transformed {
            for ((re, im), value) in slot_re
                .iter_mut()
                .zip(slot_im.iter_mut())
                .zip(&self.fft_spectrum)
            {
                *re = value.re;
                *im = value.im;
            }
        } else {
            // Unreachable with our own buffer sizes; keep the state clean rather than panic.
            slot_re.iter_mut().for_each(|x| *x = 0.0);
            slot_im.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    /// Computes the B output samples for the most recently pushed block with `kernel`, writing
    /// them to `output` (up to `output.len().min(B)` samples). Can be called several times per
    /// block with different kernels (crossfades share the input transform). A kernel with a
    /// different partitioning produces silence.
    pub fn convolve(&mut self, kernel: &PartitionedKernel, output: &mut [f32]) {
        let b = self.partition_size;
        let bins = b + 1;
        if !self.accepts(kernel) {
            output.iter_mut().for_each(|y| *y = 0.0);
            return;
        }
        self.accumulator_re.iter_mut().for_each(|x| *x = 0.0);
        self.accumulator_im.iter_mut().for_each(|x| *x = 0.0);
        for partition in 0..self.num_partitions {
            // Partition p multiplies the input spectrum from p blocks ago.
            let slot = (self.newest_slot + self.num_partitions - partition) % self.num_partitions;
            let x_re = &self.delay_line_re[slot * bins..(slot + 1) * bins];
            let x_im = &self.delay_line_im[slot * bins..(slot + 1) * bins];
            let h_re = &kernel.spectra_re[partition * bins..(partition + 1) * bins];
            let h_im = &kernel.spectra_im[partition * bins..(partition + 1) * bins];
            complex_multiply_accumulate(
                &mut self.accumulator_re,
                &mut self.accumulator_im,
                x_re,
                x_im,
                h_re,
                h_im,
            );
        }
        for ((value, &re), &im) in self
            .fft_spectrum
            .iter_mut()
            .zip(&self.accumulator_re)
            .zip(&self.accumulator_im)
        {
            *value = Complex::new(re, im);
        }
        // A real signal's DC and Nyquist bins are real; make that exact for the inverse FFT.
        self.fft_spectrum[0].im = 0.0;
        self.fft_spectrum[b].im = 0.0;
        let transformed = self
            .inverse
            .process_with_scratch(
                &mut self.fft_spectrum,
                &mut self.fft_time,
                &mut self.fft_scratch,
            )
            .is_ok();
        let n = output.len().min(b);
        if transformed {
            // Overlap-save: the first B samples are circularly aliased, the last B are valid.
            output[..n].copy_from_slice(&self.fft_time[b..b + n]);
        } else {
            output[..n].iter_mut().for_each(|y| *y = 0.0);
        }
    }
}

/// acc += x * h over split-complex arrays (equal lengths), written so it auto-vectorises.
#[inline]
fn complex_multiply_accumulate(
    acc_re: &mut [f32],
    acc_im: &mut [f32],
    x_re: &[f32],
    x_im: &[f32],
    h_re: &[f32],
    h_im: &[f32],
) {
    let n = acc_re
        .len()
        .min(acc_im.len())
        .min(x_re.len())
        .min(x_im.len())
        .min(h_re.len())
        .min(h_im.len());
    let (acc_re, acc_im) = (&mut acc_re[..n], &mut acc_im[..n]);
    let (x_re, x_im, h_re, h_im) = (&x_re[..n], &x_im[..n], &h_re[..n], &h_im[..n]);
    for i in 0..n {
        acc_re[i] += x_re[i] * h_re[i] - x_im[i] * h_im[i];
        acc_im[i] += x_re[i] * h_im[i] + x_im[i] * h_re[i];
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_signals::white_noise;

    /// Streams `input` through the convolver block by block (the output of block k is the
    /// convolution result for input block k, i.e. no extra delay at this level).
    fn run(fir: &[f32], b: usize, input: &[f32]) -> Vec<f32> {
        let p = fir.len().div_ceil(b);
        let kernel = PartitionedKernel::new(fir, b, p);
        let mut conv = PartitionedConvolver::new(b, p);
        let mut out = vec![0.0; input.len()];
        for (inp, outp) in input.chunks(b).zip(out.chunks_mut(b)) {
            conv.push_block(inp);
            conv.convolve(&kernel, outp);
        }
        out
    }

    /// Overlap-save result equals direct (f64) time-domain convolution; reports the error in dB
    /// relative to the output RMS.
    #[test]
    fn matches_direct_convolution() {
        let b = 64;
        let fir = white_noise(1000, 1, 1.0);
        let input = white_noise(4096, 2, 1.0);
        let out = run(&fir, b, &input);
        let mut err2 = 0.0f64;
        let mut ref2 = 0.0f64;
        for n in 0..input.len() {
            let direct: f64 = (0..fir.len().min(n + 1))
                .map(|k| fir[k] as f64 * input[n - k] as f64)
                .sum();
            err2 += (out[n] as f64 - direct).powi(2);
            ref2 += direct * direct;
        }
        let err_db = 10.0 * (err2 / ref2).log10();
        println!("partitioned vs direct convolution: {err_db:.1} dB");
        assert!(err_db < -120.0, "{err_db} dB");
    }

    #[test]
    fn mismatched_kernel_gives_silence_not_panic() {
        let kernel = PartitionedKernel::new(&[1.0, f32::NAN, 0.5], 8, 1);
        let mut conv = PartitionedConvolver::new(16, 1);
        let mut out = [1.0f32; 16];
        conv.push_block(&[1.0; 3]);
        conv.convolve(&kernel, &mut out);
        assert!(out.iter().all(|&y| y == 0.0));
        // The right partitioning works and NaN taps became zero: impulse -> [1, 0, 0.5].
        let mut conv = PartitionedConvolver::new(8, 1);
        let mut out = [0.0f32; 8];
        conv.push_block(&[1.0]);
        conv.convolve(&kernel, &mut out);
        assert!((out[0] - 1.0).abs() < 1e-6 && out[1].abs() < 1e-6 && (out[2] - 0.5).abs() < 1e-6);
    }
}
