//! Linear-phase EQ engine: the EQ's mid and side magnitude curves realised as symmetric FIRs
//! (see [`crate::dsp::filters::fir_design`]) and run by uniformly partitioned FFT convolution (see
//! [`crate::dsp::filters::partitioned_convolver`]).
//!
//! Threading model:
//! * Non-realtime side (editor/background thread): design the FIRs, build a
//!   [`LinearPhaseKernels`] (FFTs of all partitions) and hand it over with
//!   [`KernelSender::send`]. Retired kernels come back through a second queue and are dropped by
//!   [`KernelSender::collect_garbage`] (also called by `send`), so the audio thread never frees.
//! * Audio side: [`LinearPhaseEq::process`] polls the queue once per partition and, when a new
//!   kernel arrives, runs old and new kernels on the same input spectra for one crossfade period
//!   (a raised-cosine, equal-gain fade; both outputs have the same linear-phase delay, so they are
//!   coherent and equal-gain is the right law), then retires the old kernel.
//!
//! Latency is `partition_size + (fir_len - 1) / 2`, fixed per sample rate: kernels with another
//! length or partitioning are refused (retired unused), so the reported latency never changes
//! while running.

use rtrb::{Consumer, Producer, RingBuffer};

use crate::dsp::filters::eq::{EqPath, EqSettings};
use crate::dsp::filters::fir_design::{
    design_linear_phase_fir, linear_phase_fir_len, sample_rate_factor,
};
use crate::dsp::filters::match_curve::MatchCurve;
use crate::dsp::filters::partitioned_convolver::{PartitionedConvolver, PartitionedKernel};
use crate::dsp::util::resident::resident_vec;
use crate::dsp::util::{db_to_gain_f64, sanitize};

/// Partition size at 44.1/48 kHz (see [`linear_phase_partition_size`]).
const BASE_PARTITION_SIZE: usize = 1024;

/// Crossfade duration target when a new kernel arrives; rounded up to whole partitions.
const CROSSFADE_SECONDS: f32 = 0.02;

/// Kernels waiting to be picked up by the audio thread. The audio thread always jumps to the
/// newest queued kernel, so a small queue is enough.
const INCOMING_QUEUE_CAPACITY: usize = 4;

/// Retired kernels waiting to be dropped off the audio thread.
const RETIRED_QUEUE_CAPACITY: usize = 8;

/// Input samples are clamped to this magnitude (+180 dBFS) after NaN/Inf removal, so the f32
/// FFTs can never overflow to Inf.
const MAX_INPUT_MAGNITUDE: f32 = 1e9;

/// Partition (block) size B of the FFT convolution: 1024 at 44.1/48 kHz, scaled like the FIR
/// length so the partition count (cost per sample) and the latency in ms stay constant.
pub fn linear_phase_partition_size(sample_rate: f32) -> usize {
    BASE_PARTITION_SIZE * sample_rate_factor(sample_rate)
}

/// Latency in samples of [`LinearPhaseEq`] at `sample_rate`: partition buffering plus the FIR
/// delay (N - 1) / 2. 7167 samples at 44.1/48 kHz, 14335 at 88.2/96 kHz, 28671 at 176.4/192 kHz.
pub fn linear_phase_latency_samples(sample_rate: f32) -> u32 {
    (linear_phase_partition_size(sample_rate) + (linear_phase_fir_len(sample_rate) - 1) / 2) as u32
}

/// FFT'd partitions of the mid and side FIRs. Built off the audio thread.
#[derive(Clone, Debug)]
pub struct LinearPhaseKernels {
    fir_len: usize,
    mid: PartitionedKernel,
    side: PartitionedKernel,
}

impl LinearPhaseKernels {
    /// Designs the mid and side FIRs of `eq`'s magnitude curves times the match EQ's `curve`
    /// for `sample_rate` (non-realtime; allocates): both in one FIR per path, so the match adds
    /// no second latency.
    pub fn for_eq(eq: &EqSettings, curve: &MatchCurve, sample_rate: f32) -> Self {
        // Design the sections once; the FIR design samples the curve at ~10^5 frequencies.
        let response = eq.response(sample_rate as f64);
        let db =
            |f: f64, path: EqPath| response.magnitude_db(f, path) + curve.magnitude_db(f, path);
        Self::design(
            |f| db_to_gain_f64(db(f, EqPath::Mid)),
            |f| db_to_gain_f64(db(f, EqPath::Side)),
            sample_rate,
        )
    }

    /// Prepares two FIRs for convolution with blocks of `partition_size`. The common length is
    /// the longer of the two, rounded up to odd; the shorter FIR is centred inside it (so both
    /// have the delay (len - 1) / 2 when they are symmetric and odd). Allocates.
    pub fn new(mid_fir: &[f32], side_fir: &[f32], partition_size: usize) -> Self {
        let fir_len = (mid_fir.len().max(side_fir.len()) | 1).max(1);
        let partition_size = partition_size.max(1);
        let num_partitions = fir_len.div_ceil(partition_size);
        let centred = |fir: &[f32]| {
            let mut padded = vec![0.0f32; fir_len];
            let offset = (fir_len - fir.len()) / 2;
            padded[offset..offset + fir.len()].copy_from_slice(fir);
            padded
        };
        Self {
            fir_len,
            mid: PartitionedKernel::new(&centred(mid_fir), partition_size, num_partitions),
            side: PartitionedKernel::new(&centred(side_fir), partition_size, num_partitions),
        }
    }

    /// Designs both FIRs from magnitude curves (linear gain at a frequency in Hz) with the default
    /// length and partition size for `sample_rate`, ready for a [`LinearPhaseEq`] reset at that
    /// rate. Allocates and takes a few ms; call off the audio thread.
    pub fn design(
        mid_magnitude: impl Fn(f64) -> f64,
        side_magnitude: impl Fn(f64) -> f64,
        sample_rate: f32,
    ) -> Self {
        let len = linear_phase_fir_len(sample_rate);
        let fs = sample_rate as f64;
        let mid = design_linear_phase_fir(mid_magnitude, fs, len);
        let side = design_linear_phase_fir(side_magnitude, fs, len);
        Self::new(&mid, &side, linear_phase_partition_size(sample_rate))
    }

    /// Pure delay of (fir_len - 1) / 2 on both channels (unity magnitude).
    pub fn identity(fir_len: usize, partition_size: usize) -> Self {
        let fir_len = (fir_len | 1).max(1);
        let mut fir = vec![0.0f32; fir_len];
        fir[(fir_len - 1) / 2] = 1.0;
        Self::new(&fir, &fir, partition_size)
    }

    /// Common FIR length N (odd).
    pub fn fir_len(&self) -> usize {
        self.fir_len
    }

    /// Partition size B the spectra were prepared for.
    pub fn partition_size(&self) -> usize {
        self.mid.partition_size()
    }
}

/// Non-realtime end of the kernel hand-over (see the module docs). Obtained from
/// [`LinearPhaseEq::kernel_channel`].
pub struct KernelSender {
    to_audio: Producer<Box<LinearPhaseKernels>>,
    retired: Consumer<Box<LinearPhaseKernels>>,
}

impl KernelSender {
    /// Queues `kernels` for the audio thread (which crossfades to the newest queued one at its
    /// next partition boundary). Drops retired kernels first. Returns the kernels back if the
    /// queue is full or the audio side is gone; keep the newest design and retry later.
    pub fn send(
        &mut self,
        kernels: Box<LinearPhaseKernels>,
    ) -> Result<(), Box<LinearPhaseKernels>> {
        self.collect_garbage();
        self.to_audio
            .push(kernels)
            .map_err(|rtrb::PushError::Full(kernels)| kernels)
    }

    /// Drops kernels the audio thread has retired and returns how many. Call periodically
    /// (e.g. from the editor timer) so the audio thread always has room to retire kernels.
    pub fn collect_garbage(&mut self) -> usize {
        let mut dropped = 0;
        while let Ok(kernels) = self.retired.pop() {
            drop(kernels);
            dropped += 1;
        }
        dropped
    }

    /// True once the audio side has dropped its end (a new channel was made or the EQ dropped).
    pub fn is_disconnected(&self) -> bool {
        self.to_audio.is_abandoned()
    }
}

/// Audio-side linear-phase EQ for a mid/side pair. See the module docs.
pub struct LinearPhaseEq {
    partition_size: usize,
    fir_len: usize,
    mid_convolver: PartitionedConvolver,
    side_convolver: PartitionedConvolver,
    /// Kernel currently playing (always present after `new`/`reset`).
    current: Option<Box<LinearPhaseKernels>>,
    /// Kernel being faded in, if a crossfade is running.
    incoming: Option<Box<LinearPhaseKernels>>,
    /// Raised-cosine weights of the incoming kernel, one per sample of the crossfade.
    crossfade_curve: Vec<f32>,
    crossfade_position: usize,
    input_mid: Vec<f32>,
    input_side: Vec<f32>,
    output_mid: Vec<f32>,
    output_side: Vec<f32>,
    incoming_mid: Vec<f32>,
    incoming_side: Vec<f32>,
    /// Position inside the current partition (0..B).
    position: usize,
    from_sender: Option<Consumer<Box<LinearPhaseKernels>>>,
    to_garbage: Option<Producer<Box<LinearPhaseKernels>>>,
}

impl Default for LinearPhaseEq {
    fn default() -> Self {
        Self::new()
    }
}

impl LinearPhaseEq {
    /// Creates the engine prepared for 48 kHz with a unity (pure delay) kernel. Allocates.
    pub fn new() -> Self {
        let mut eq = Self {
            partition_size: 0,
            fir_len: 0,
            mid_convolver: PartitionedConvolver::new(1, 1),
            side_convolver: PartitionedConvolver::new(1, 1),
            current: None,
            incoming: None,
            crossfade_curve: Vec::new(),
            crossfade_position: 0,
            input_mid: Vec::new(),
            input_side: Vec::new(),
            output_mid: Vec::new(),
            output_side: Vec::new(),
            incoming_mid: Vec::new(),
            incoming_side: Vec::new(),
            position: 0,
            from_sender: None,
            to_garbage: None,
        };
        eq.reset(48_000.0);
        eq
    }

    /// Prepares for `sample_rate` (allocates; call off the audio thread) and clears the audio
    /// history. The current kernel is kept if it fits the new rate's FIR length and partition
    /// size, otherwise it is replaced by a unity kernel (the sender must then send a new design
    /// made for this rate). A crossfade in progress is completed instantly.
    pub fn reset(&mut self, sample_rate: f32) {
        let partition_size = linear_phase_partition_size(sample_rate);
        let fir_len = linear_phase_fir_len(sample_rate);
        let num_partitions = fir_len.div_ceil(partition_size);
        if partition_size != self.partition_size || fir_len != self.fir_len {
            self.partition_size = partition_size;
            self.fir_len = fir_len;
            self.mid_convolver = PartitionedConvolver::new(partition_size, num_partitions);
            self.side_convolver = PartitionedConvolver::new(partition_size, num_partitions);
            for buffer in [
                &mut self.input_mid,
                &mut self.input_side,
                &mut self.output_mid,
                &mut self.output_side,
                &mut self.incoming_mid,
                &mut self.incoming_side,
            ] {
                *buffer = resident_vec(0.0, partition_size);
            }
        }
        let fade_partitions = ((CROSSFADE_SECONDS * sample_rate.max(1.0)) / partition_size as f32)
            .ceil()
            .max(1.0) as usize;
        let fade_len = fade_partitions * partition_size;
        self.crossfade_curve = (0..fade_len)
            .map(|n| {
                let phase = (n as f64 + 0.5) / fade_len as f64;
                (0.5 - 0.5 * (std::f64::consts::PI * phase).cos()) as f32
            })
            .collect();

        if let Some(incoming) = self.incoming.take() {
            self.current = Some(incoming);
        }
        let current_fits = self.current.as_deref().is_some_and(|k| self.fits(k));
        if !current_fits {
            self.current = Some(Box::new(LinearPhaseKernels::identity(
                fir_len,
                partition_size,
            )));
        }
        self.crossfade_position = 0;
        self.clear();
    }

    /// Clears the audio history (input window, FDL, partially filled blocks) without touching
    /// the kernels. Does not allocate.
    pub fn clear(&mut self) {
        self.mid_convolver.clear();
        self.side_convolver.clear();
        for buffer in [
            &mut self.input_mid,
            &mut self.input_side,
            &mut self.output_mid,
            &mut self.output_side,
        ] {
            buffer.iter_mut().for_each(|x| *x = 0.0);
        }
        self.position = 0;
    }

    /// Creates the lock-free hand-over channel (allocates; non-RT). Calling it again replaces
    /// the channel: the previous sender becomes disconnected (its `send` fails) but can still
    /// collect the garbage already queued to it.
    pub fn kernel_channel(&mut self) -> KernelSender {
        let (to_audio, from_sender) = RingBuffer::new(INCOMING_QUEUE_CAPACITY);
        let (to_garbage, retired) = RingBuffer::new(RETIRED_QUEUE_CAPACITY);
        self.from_sender = Some(from_sender);
        self.to_garbage = Some(to_garbage);
        KernelSender { to_audio, retired }
    }

    /// Installs kernels immediately, without crossfade (offline rendering, or before playback).
    /// Non-RT: drops the previous kernels here. Returns the kernels back if their FIR length or
    /// partition size does not match this sample rate.
    pub fn set_kernels_now(
        &mut self,
        kernels: Box<LinearPhaseKernels>,
    ) -> Result<(), Box<LinearPhaseKernels>> {
        if !self.fits(&kernels) {
            return Err(kernels);
        }
        self.incoming = None;
        self.crossfade_position = 0;
        self.current = Some(kernels);
        Ok(())
    }

    /// Impulse delay through `process` in samples: partition size + (N - 1) / 2. Constant for a
    /// given sample rate.
    pub fn latency_samples(&self) -> u32 {
        (self.partition_size + (self.fir_len - 1) / 2) as u32
    }

    /// FIR length N that kernels must have at the current sample rate.
    pub fn fir_len(&self) -> usize {
        self.fir_len
    }

    /// Partition size B that kernels must be prepared with at the current sample rate.
    pub fn partition_size(&self) -> usize {
        self.partition_size
    }

    /// True while a crossfade to a new kernel is running.
    pub fn is_crossfading(&self) -> bool {
        self.incoming.is_some()
    }

    fn fits(&self, kernels: &LinearPhaseKernels) -> bool {
        kernels.fir_len == self.fir_len
            && self.mid_convolver.accepts(&kernels.mid)
            && self.side_convolver.accepts(&kernels.side)
    }

    /// Filters `mid` and `side` in place (equal lengths; if they differ only the common prefix
    /// is processed). Any length. Realtime-safe: no allocation, no locks, never frees memory.
    pub fn process(&mut self, mid: &mut [f32], side: &mut [f32]) {
        let len = mid.len().min(side.len());
        let block = self.partition_size;
        let mut done = 0;
        while done < len {
            let run = (block - self.position).min(len - done);
            let range = self.position..self.position + run;
            store_and_emit(
                &mut self.input_mid[range.clone()],
                &self.output_mid[range.clone()],
                &mut mid[done..done + run],
            );
            store_and_emit(
                &mut self.input_side[range.clone()],
                &self.output_side[range],
                &mut side[done..done + run],
            );
            self.position += run;
            done += run;
            if self.position == block {
                self.position = 0;
                self.process_partition();
            }
        }
    }

    /// One full input partition is buffered: transform it, convolve, crossfade if needed.
    fn process_partition(&mut self) {
        self.mid_convolver.push_block(&self.input_mid);
        self.side_convolver.push_block(&self.input_side);
        if self.incoming.is_none() {
            self.receive_kernels();
        }
        let Some(current) = self.current.as_deref() else {
            // Unreachable (reset always installs a kernel); pass silence rather than panic.
            self.output_mid.iter_mut().for_each(|y| *y = 0.0);
            self.output_side.iter_mut().for_each(|y| *y = 0.0);
            return;
        };
        self.mid_convolver
            .convolve(&current.mid, &mut self.output_mid);
        self.side_convolver
            .convolve(&current.side, &mut self.output_side);

        if let Some(incoming) = self.incoming.as_deref() {
            self.mid_convolver
                .convolve(&incoming.mid, &mut self.incoming_mid);
            self.side_convolver
                .convolve(&incoming.side, &mut self.incoming_side);
            let fade_len = self.crossfade_curve.len();
            let start = self.crossfade_position.min(fade_len);
            let weights = &self.crossfade_curve[start..(start + self.partition_size).min(fade_len)];
            crossfade_into(&mut self.output_mid, &self.incoming_mid, weights);
            crossfade_into(&mut self.output_side, &self.incoming_side, weights);
            self.crossfade_position += self.partition_size;
            if self.crossfade_position >= fade_len {
                self.crossfade_position = 0;
                let finished = self.current.take();
                self.current = self.incoming.take();
                if let (Some(old), Some(garbage)) = (finished, self.to_garbage.as_mut()) {
                    // A slot was reserved when the fade started; if the queue was replaced in
                    // between, the push can fail and the kernel is freed here (rare, benign).
                    let _ = garbage.push(old);
                }
            }
        }
        for y in self
            .output_mid
            .iter_mut()
            .chain(self.output_side.iter_mut())
        {
            *y = sanitize(*y);
        }
    }

    /// Starts a crossfade to the newest queued kernel, if any. Only takes kernels when the
    /// retired queue has room for everything it will hand back, so nothing is freed here.
    fn receive_kernels(&mut self) {
        let (Some(from_sender), Some(to_garbage)) =
            (self.from_sender.as_mut(), self.to_garbage.as_mut())
        else {
            return;
        };
        // Each accepted kernel retires one (the current one at the end of its fade); each
        // skipped or refused kernel retires itself: keep one slot in reserve for the fade.
        while to_garbage.slots() >= 2 {
            let Ok(kernels) = from_sender.pop() else {
                break;
            };
            let fits = kernels.fir_len == self.fir_len
                && self.mid_convolver.accepts(&kernels.mid)
                && self.side_convolver.accepts(&kernels.side);
            let newer_waiting = from_sender.slots() > 0;
            if !fits || newer_waiting {
                let _ = to_garbage.push(kernels);
                continue;
            }
            self.incoming = Some(kernels);
            self.crossfade_position = 0;
            break;
        }
    }
}

/// Writes sanitised input into the partition buffer and emits the delayed output in its place.
#[inline]
fn store_and_emit(input_buffer: &mut [f32], output_buffer: &[f32], audio: &mut [f32]) {
    for ((stored, &delayed), sample) in input_buffer.iter_mut().zip(output_buffer).zip(audio) {
        let x = sanitize(*sample).clamp(-MAX_INPUT_MAGNITUDE, MAX_INPUT_MAGNITUDE);
        // Subnormal inputs would only slow the FFTs down; they are far below audibility.
        *stored = if x.abs() < 1e-30 { 0.0 } else { x };
        *sample = delayed;
    }
}

/// output = output * (1 - w) + incoming * w, per sample.
#[inline]
fn crossfade_into(output: &mut [f32], incoming: &[f32], weights: &[f32]) {
    for ((old, &new), &w) in output.iter_mut().zip(incoming).zip(weights) {
        *old += (new - *old) * w;
    }
}

#[cfg(test)]
#[path = "linear_phase_tests.rs"]
mod tests;
