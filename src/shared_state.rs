//! What the audio thread publishes for the editor, and the one request the editor sends back
//! (meter reset). Atomics only: the editor never blocks the audio thread and vice versa.

use std::sync::atomic::{AtomicBool, Ordering};

use atomic_float::AtomicF32;
use rtrb::{Consumer, Producer, RingBuffer};

use std::sync::Arc;

use crate::ab::AbStatus;
use crate::chain::ChainMeters;
use crate::dsp::meters::program_meter::ProgramReadings;
use crate::reference::align::AlignCapture;
use crate::reference::library::LibraryStatus;

/// One signal's loudness/peak readings as atomics.
#[derive(Debug)]
pub struct AtomicReadings {
    pub momentary_lufs: AtomicF32,
    pub short_term_lufs: AtomicF32,
    pub integrated_lufs: AtomicF32,
    pub loudness_range_lu: AtomicF32,
    pub true_peak_max_dbtp: AtomicF32,
    pub sample_peak_dbfs: AtomicF32,
}

impl Default for AtomicReadings {
    fn default() -> Self {
        let silent = || AtomicF32::new(f32::NEG_INFINITY);
        Self {
            momentary_lufs: silent(),
            short_term_lufs: silent(),
            integrated_lufs: silent(),
            loudness_range_lu: AtomicF32::new(0.0),
            true_peak_max_dbtp: silent(),
            sample_peak_dbfs: silent(),
        }
    }
}

impl AtomicReadings {
    pub fn store(&self, r: &ProgramReadings) {
        self.momentary_lufs
            .store(r.momentary_lufs, Ordering::Relaxed);
        self.short_term_lufs
            .store(r.short_term_lufs, Ordering::Relaxed);
        self.integrated_lufs
            .store(r.integrated_lufs, Ordering::Relaxed);
        self.loudness_range_lu
            .store(r.loudness_range_lu, Ordering::Relaxed);
        self.true_peak_max_dbtp
            .store(r.true_peak_max_dbtp, Ordering::Relaxed);
        self.sample_peak_dbfs
            .store(r.sample_peak_dbfs, Ordering::Relaxed);
    }

    pub fn load(&self) -> ProgramReadings {
        ProgramReadings {
            momentary_lufs: self.momentary_lufs.load(Ordering::Relaxed),
            short_term_lufs: self.short_term_lufs.load(Ordering::Relaxed),
            integrated_lufs: self.integrated_lufs.load(Ordering::Relaxed),
            loudness_range_lu: self.loudness_range_lu.load(Ordering::Relaxed),
            true_peak_max_dbtp: self.true_peak_max_dbtp.load(Ordering::Relaxed),
            sample_peak_dbfs: self.sample_peak_dbfs.load(Ordering::Relaxed),
        }
    }
}

/// Everything the editor shows that is not a parameter.
#[derive(Debug)]
pub struct SharedState {
    pub input: AtomicReadings,
    pub output: AtomicReadings,
    pub compressor_gr_db: AtomicF32,
    pub limiter_gr_db: AtomicF32,
    /// The multiband dynamics' gain change per band, dB (negative = reduction).
    pub multiband_gain_db: [AtomicF32; crate::dsp::dynamics::multiband::MAX_BANDS],
    /// Gain movement of the EQ's dynamic bands, dB (slot order: low shelf, bells 1-4, high
    /// shelf), for the EQ curve at the band's current gain.
    pub eq_dynamic_db: [AtomicF32; crate::dsp::filters::eq::NUM_DYNAMIC],
    /// The loudness offset of the stage being compared (`stages::audition`), dB.
    pub compare_offset_db: AtomicF32,
    pub correlation: AtomicF32,
    pub match_offset_db: AtomicF32,
    pub ab_position: AtomicF32,
    pub original_limited_db: AtomicF32,
    /// Set by the editor's meter reset button, cleared by the audio thread when done.
    pub reset_meters_requested: AtomicBool,
    /// Audio the integrated figures cover: seconds since the last measurement reset (the
    /// snapshots' "measured while heard", `snapshots::SnapshotStats`).
    pub measured_seconds: AtomicF32,
    /// Sample rate of the current activation (for the spectrum analyzer's frequency axis).
    pub sample_rate: AtomicF32,
    /// Set while the editor window is open: the audio thread feeds the spectrum rings only then.
    pub spectrum_wanted: AtomicBool,
    /// The reference path: gain applied (dB), crossfade position, safety-limiter reduction.
    pub reference_offset_db: AtomicF32,
    pub reference_position: AtomicF32,
    pub reference_limited_db: AtomicF32,
    /// The as-streamed gain on the master (dB; 0 outside that match mode).
    pub master_streamed_db: AtomicF32,
    /// How far the match raises the reference into its safety limiter, and how much the
    /// master is turned down in monitoring when the reference cannot meet it (dB;
    /// `ab::AbStatus`).
    pub reference_safety_limiting_db: AtomicF32,
    pub master_down_db: AtomicF32,
    /// What the reference loader thread reports per slot (loader and editor only; never the
    /// audio thread).
    pub reference_status: Arc<LibraryStatus>,
    /// The auto-align capture of the mix (`reference::align`): the editor requests and
    /// collects, the audio thread fills. Its buffer is allocated by the first request.
    pub align_capture: Arc<AlignCapture>,
}

impl Default for SharedState {
    fn default() -> Self {
        Self {
            input: AtomicReadings::default(),
            output: AtomicReadings::default(),
            compressor_gr_db: AtomicF32::new(0.0),
            limiter_gr_db: AtomicF32::new(0.0),
            multiband_gain_db: Default::default(),
            eq_dynamic_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            compare_offset_db: AtomicF32::new(0.0),
            correlation: AtomicF32::new(0.0),
            match_offset_db: AtomicF32::new(0.0),
            ab_position: AtomicF32::new(0.0),
            original_limited_db: AtomicF32::new(0.0),
            reset_meters_requested: AtomicBool::new(false),
            measured_seconds: AtomicF32::new(0.0),
            sample_rate: AtomicF32::new(48_000.0),
            spectrum_wanted: AtomicBool::new(false),
            reference_offset_db: AtomicF32::new(0.0),
            reference_position: AtomicF32::new(0.0),
            reference_limited_db: AtomicF32::new(0.0),
            master_streamed_db: AtomicF32::new(0.0),
            reference_safety_limiting_db: AtomicF32::new(0.0),
            master_down_db: AtomicF32::new(0.0),
            reference_status: Arc::new(LibraryStatus::default()),
            align_capture: Arc::new(AlignCapture::new()),
        }
    }
}

impl SharedState {
    /// Called by the audio thread a few times per second (allocation-free).
    pub fn publish(
        &self,
        input: &ProgramReadings,
        output: &ProgramReadings,
        chain: &ChainMeters,
        ab: &AbStatus,
        correlation: f32,
    ) {
        self.input.store(input);
        self.output.store(output);
        self.compressor_gr_db
            .store(chain.compressor_gr_db, Ordering::Relaxed);
        self.limiter_gr_db
            .store(chain.limiter_gr_db, Ordering::Relaxed);
        for (a, &g) in self.multiband_gain_db.iter().zip(&chain.multiband_gain_db) {
            a.store(g, Ordering::Relaxed);
        }
        for (shared, db) in self.eq_dynamic_db.iter().zip(chain.eq_dynamic_db) {
            shared.store(db, Ordering::Relaxed);
        }
        self.compare_offset_db
            .store(chain.compare_offset_db, Ordering::Relaxed);
        self.correlation.store(correlation, Ordering::Relaxed);
        self.reference_offset_db
            .store(ab.reference_offset_db, Ordering::Relaxed);
        self.reference_position
            .store(ab.reference_position, Ordering::Relaxed);
        self.reference_limited_db
            .store(ab.reference_limited_db, Ordering::Relaxed);
        self.master_streamed_db
            .store(ab.master_streamed_db, Ordering::Relaxed);
        self.reference_safety_limiting_db
            .store(ab.reference_safety_limiting_db, Ordering::Relaxed);
        self.master_down_db
            .store(ab.master_down_db, Ordering::Relaxed);
        self.match_offset_db
            .store(ab.match_offset_db, Ordering::Relaxed);
        self.ab_position.store(ab.position, Ordering::Relaxed);
        self.original_limited_db
            .store(ab.original_limited_db, Ordering::Relaxed);
    }

    /// Asks the audio thread to reset integrated loudness, LRA and true-peak maxima.
    pub fn request_meter_reset(&self) {
        self.reset_meters_requested.store(true, Ordering::Release);
    }

    /// Audio thread: takes a pending reset request.
    pub fn take_meter_reset_request(&self) -> bool {
        self.reset_meters_requested.swap(false, Ordering::AcqRel)
    }
}

/// Samples per spectrum ring (each of input and output): about 0.7 s at 48 kHz, so the editor
/// can miss a few frames without losing data.
pub const SPECTRUM_RING_CAPACITY: usize = 1 << 15;

/// Audio-thread end of the spectrum analyzer's sample rings: the mono sum of the input (before
/// the chain) and of the output (what is heard). Wait-free and allocation-free; samples that do
/// not fit are dropped (the analyzer only needs the most recent ones).
pub struct SpectrumProducer {
    input: Producer<f32>,
    output: Producer<f32>,
    /// The master tap, until the plugin hands it to the engine.
    master: Option<MasterTapProducer>,
    /// The EQ stage's input, until the plugin hands it to the chain (the match EQ's "before").
    eq_input: Option<MasterTapProducer>,
}

/// Editor end of the spectrum rings (single owner: the editor app).
pub struct SpectrumConsumer {
    pub input: Consumer<f32>,
    pub output: Consumer<f32>,
    /// The master tap, until the editor hands it to the tonal view.
    pub master: Option<MasterTapConsumer>,
    /// The EQ input tap, likewise.
    pub eq_input: Option<MasterTapConsumer>,
}

/// Creates the rings (spectrum input and output, and the master tap), resident (see
/// [`resident_ring`]). Allocates: call off the audio thread (the editor, when its window
/// first opens: [`TapSender::open`]).
pub fn spectrum_rings(capacity: usize) -> (SpectrumProducer, SpectrumConsumer) {
    let (pi, ci) = resident_ring(capacity);
    let (po, co) = resident_ring(capacity);
    let (pm, cm) = master_tap(MASTER_TAP_CAPACITY);
    let (pe, ce) = master_tap(EQ_INPUT_TAP_CAPACITY);
    (
        SpectrumProducer {
            input: pi,
            output: po,
            master: Some(pm),
            eq_input: Some(pe),
        },
        SpectrumConsumer {
            input: ci,
            output: co,
            master: Some(cm),
            eq_input: Some(ce),
        },
    )
}

/// Samples (interleaved stereo) in the master tap: 1.4 s at 192 kHz, 5.5 s at 48 kHz, so an
/// editor frame that stalls does not cost the long-term analysis any audio.
pub const MASTER_TAP_CAPACITY: usize = 1 << 19;

/// Samples (interleaved stereo) in the EQ input tap: 1.4 s at 48 kHz. The match EQ's "before"
/// only needs a long-term spectrum: a stalled editor frame that loses a block costs nothing.
pub const EQ_INPUT_TAP_CAPACITY: usize = 1 << 17;

/// Audio-thread end of the master tap: the master (the chain's output, before the A/B, so what
/// is analysed is the master whatever is heard) as interleaved stereo, for the live tonal
/// analysis (`analysis::tonal`) on the editor thread. Wait-free and allocation-free. A block
/// that does not fit is dropped whole and the next block that fits is preceded by a gap marker
/// (a NaN pair), so the analyser never builds a frame across missing audio.
pub struct MasterTapProducer {
    ring: Producer<f32>,
    gap: bool,
}

/// Editor end of the master tap.
pub struct MasterTapConsumer {
    ring: Consumer<f32>,
    left: Vec<f32>,
    right: Vec<f32>,
}

/// Creates the master tap, resident (see [`resident_ring`]). Allocates: call off the audio
/// thread. The editor's drain buffers grow as it needs them, on its own thread.
pub fn master_tap(capacity: usize) -> (MasterTapProducer, MasterTapConsumer) {
    let (p, c) = resident_ring(capacity);
    (
        MasterTapProducer {
            ring: p,
            gap: false,
        },
        MasterTapConsumer {
            ring: c,
            left: Vec::new(),
            right: Vec::new(),
        },
    )
}

/// A sample ring whose memory is mapped before the audio thread writes it: `rtrb` allocates
/// its buffer without writing it (and rings of 128 KiB and more come straight from the
/// kernel, unmapped), so the audio thread's first pass round the ring would page-fault on
/// every page. Filling it once and emptying it again here writes every page
/// (`dsp::util::resident`). Off the audio thread.
fn resident_ring(capacity: usize) -> (Producer<f32>, Consumer<f32>) {
    let (mut producer, mut consumer) = RingBuffer::new(capacity);
    if let Ok(chunk) = producer.write_chunk_uninit(capacity) {
        chunk.fill_from_iter(std::iter::repeat(0.0));
    }
    if let Ok(chunk) = consumer.read_chunk(capacity) {
        chunk.commit_all();
    }
    (producer, consumer)
}

/// The hand-over of the spectrum rings and the master tap, which only an open editor reads:
/// they are created when the editor's window first opens ([`TapSender::open`], on its thread)
/// and their audio-thread ends handed to the audio thread ([`TapReceiver::poll`]) once, so an
/// insert whose editor is never opened never allocates them (2.25 MiB). Small: one slot.
pub fn tap_handover() -> (TapSender, TapReceiver) {
    let (producer, consumer) = RingBuffer::new(1);
    (TapSender(Some(producer)), TapReceiver(consumer))
}

/// Editor end of [`tap_handover`].
pub struct TapSender(Option<Producer<SpectrumProducer>>);

impl TapSender {
    /// Creates the rings, sends their audio-thread ends and returns the editor's ends: the
    /// first time only (`None` after), so the audio thread receives one set and never has an
    /// old one to drop. Editor thread; allocates.
    pub fn open(&mut self) -> Option<SpectrumConsumer> {
        let mut sender = self.0.take()?;
        let (producer, consumer) = spectrum_rings(SPECTRUM_RING_CAPACITY);
        sender.push(producer).ok()?;
        Some(consumer)
    }
}

/// Audio-thread end of [`tap_handover`].
pub struct TapReceiver(Consumer<SpectrumProducer>);

impl TapReceiver {
    /// The rings, once the editor has sent them (wait-free, allocation-free: the value moves
    /// out of the preallocated slot).
    pub fn poll(&mut self) -> Option<SpectrumProducer> {
        self.0.pop().ok()
    }
}

impl MasterTapProducer {
    /// Pushes one block of the master (audio thread).
    pub fn push(&mut self, left: &[f32], right: &[f32]) {
        let n = left.len().min(right.len());
        let marker = if self.gap { 2 } else { 0 };
        if self.ring.slots() < 2 * n + marker {
            self.gap = true;
            return;
        }
        if let Ok(chunk) = self.ring.write_chunk_uninit(2 * n + marker) {
            let markers = std::iter::repeat_n(f32::NAN, marker);
            let interleaved = left[..n]
                .iter()
                .zip(&right[..n])
                .flat_map(|(&l, &r)| [l, r]);
            chunk.fill_from_iter(markers.chain(interleaved));
            self.gap = false;
        }
    }
}

impl MasterTapConsumer {
    /// Moves everything waiting into `sink` as (left, right) runs of contiguous audio; `gap`
    /// is called where audio was dropped. Editor thread.
    pub fn drain(&mut self, mut sink: impl FnMut(&[f32], &[f32]), mut gap: impl FnMut()) {
        let available = self.ring.slots() & !1;
        if available == 0 {
            return;
        }
        let Ok(chunk) = self.ring.read_chunk(available) else {
            return;
        };
        let (a, b) = chunk.as_slices();
        self.left.clear();
        self.right.clear();
        let mut pending: Option<f32> = None;
        for &x in a.iter().chain(b) {
            match pending.take() {
                None => pending = Some(x),
                Some(l) => {
                    if l.is_nan() && x.is_nan() {
                        if !self.left.is_empty() {
                            sink(&self.left, &self.right);
                            self.left.clear();
                            self.right.clear();
                        }
                        gap();
                    } else {
                        self.left.push(l);
                        self.right.push(x);
                    }
                }
            }
        }
        chunk.commit_all();
        if !self.left.is_empty() {
            sink(&self.left, &self.right);
        }
    }
}

fn push_mono_sum(producer: &mut Producer<f32>, left: &[f32], right: &[f32]) {
    let n = left.len().min(right.len()).min(producer.slots());
    if n == 0 {
        return;
    }
    if let Ok(chunk) = producer.write_chunk_uninit(n) {
        chunk.fill_from_iter(left.iter().zip(right).map(|(l, r)| 0.5 * (l + r)));
    }
}

impl SpectrumProducer {
    /// Hands the master tap to the engine (once).
    pub fn take_master_tap(&mut self) -> Option<MasterTapProducer> {
        self.master.take()
    }

    /// Hands the EQ input tap to the chain (once).
    pub fn take_eq_input_tap(&mut self) -> Option<MasterTapProducer> {
        self.eq_input.take()
    }

    /// Pushes the mono sum of a block of the input signal.
    pub fn push_input(&mut self, left: &[f32], right: &[f32]) {
        push_mono_sum(&mut self.input, left, right);
    }

    /// Pushes the mono sum of a block of the output signal.
    pub fn push_output(&mut self, left: &[f32], right: &[f32]) {
        push_mono_sum(&mut self.output, left, right);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The editor sends its rings once; the audio thread receives them once, and what it
    /// pushes reaches the editor's ends.
    #[test]
    fn the_taps_are_handed_over_once() {
        let (mut sender, mut receiver) = tap_handover();
        assert!(receiver.poll().is_none(), "nothing before the editor opens");
        let mut editor = sender.open().expect("the first open creates the rings");
        assert!(sender.open().is_none(), "only once");
        let mut audio = receiver.poll().expect("the audio thread receives them");
        assert!(receiver.poll().is_none());
        let mut tap = audio.take_master_tap().expect("with the master tap");
        let block = [0.5f32; 64];
        audio.push_input(&block, &block);
        tap.push(&block, &block);
        assert_eq!(editor.input.slots(), 64, "a resident ring starts empty");
        let mut drained = 0;
        let mut master = editor.master.take().expect("the master tap's editor end");
        master.drain(|l, r| drained += l.len().min(r.len()), || {});
        assert_eq!(drained, 64);
    }
}
