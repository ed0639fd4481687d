//! Auto-align: places a reference that is a bounce of the same mix (an earlier master, the
//! unmastered mix, a version from another studio) on the host timeline, to the sample.
//!
//! 1. **Capture** ([`AlignCapture`]): on request, the audio thread copies
//!    [`ALIGN_CAPTURE_SECONDS`] of the plugin's *input* (the mix as the host plays it, before
//!    the chain: the cleanest match for a bounce of the same mix) into a buffer, with the
//!    timeline position of its first frame. Only contiguous playback counts: a stop or a
//!    relocation restarts the capture. Wait-free: relaxed atomic stores into the buffer and
//!    a release store of the state when it is complete; the reader acquires it. The buffer
//!    (3 MB) is allocated by the first request, on the editor's thread: an insert on which
//!    Align is never used never has it.
//! 2. **Search** ([`find_lag`]): the cross-correlation of the captured mix against the
//!    reference around where it is heard now, within ±[`ALIGN_SEARCH_SECONDS`], through real
//!    FFTs (`realfft`), spectrally weighted (partial phase transform) so EQ and sustained tones
//!    do not blur the peak. The peak is refined by a parabola and rounded to a sample; the
//!    bins' phase coherence at the peak is the confidence.
//!    A peak below [`MIN_ALIGN_COHERENCE`] is refused: the reference is not this mix (or
//!    the section is silent), and an offset from noise would be worse than none.
//!
//! The result is the slot's `offset_seconds` (sync mode reads frame `t - latency + offset`
//! at timeline `t`): frame `p + offset` of the reference then carries what the mix has at `p`.

use std::sync::atomic::{AtomicI64, AtomicPtr, AtomicU32, AtomicU8, AtomicUsize, Ordering};

use realfft::RealFftPlanner;

use crate::reference::playback::Transport;
use crate::reference::track::ReferenceTrack;

/// Mix captured for one alignment: long enough for a sharp, reliable peak on music.
pub const ALIGN_CAPTURE_SECONDS: f64 = 4.0;
/// The reference is searched this far either side of where it is heard now.
pub const ALIGN_SEARCH_SECONDS: f64 = 2.0;
/// Below this phase coherence the match is refused (see `find_lag`). Measured: a copy 0.7-0.9
/// (the reference window holds more than the mix), a mix against its master through a whole
/// mastering chain 0.65, unrelated music 0.02.
pub const MIN_ALIGN_COHERENCE: f32 = 0.1;
/// Capture buffer: [`ALIGN_CAPTURE_SECONDS`] at the highest session rate supported (192 kHz).
pub const ALIGN_CAPTURE_CAPACITY: usize = 4 * 192_000;

/// Exponent of the partial phase transform in [`find_lag`] (0 = plain correlation, 1 = PHAT).
const PHAT_BETA: f64 = 0.8;

const IDLE: u8 = 0;
const ARMED: u8 = 1;
const CAPTURING: u8 = 2;
const DONE: u8 = 3;

/// Where a capture stands (for the editor's message).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CaptureState {
    Idle,
    /// Requested; waits for the transport to play.
    WaitingForPlayback,
    /// Filling: this fraction (0-1) is captured.
    Capturing(f32),
    /// Complete; [`AlignCapture::take`] collects it.
    Done,
}

/// The capture buffer: mono samples as `f32` bits.
type Samples = [AtomicU32; ALIGN_CAPTURE_CAPACITY];

/// The mix capture shared by the editor (requests, collects) and the audio thread (fills).
pub struct AlignCapture {
    /// The buffer, allocated by the first [`Self::request`] (editor thread) and published here
    /// once (release; null before): from `Box::into_raw`, never replaced, freed in `Drop`.
    /// The audio thread only loads it (acquire), so it never allocates nor frees.
    samples: AtomicPtr<Samples>,
    state: AtomicU8,
    /// Frames wanted by the current request, and frames written so far.
    wanted: AtomicUsize,
    filled: AtomicUsize,
    /// Timeline position (samples) of the first captured frame.
    start: AtomicI64,
}

impl std::fmt::Debug for AlignCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignCapture")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Default for AlignCapture {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for AlignCapture {
    fn drop(&mut self) {
        let samples = *self.samples.get_mut();
        if !samples.is_null() {
            // SAFETY: a non-null pointer here came from `Box::into_raw` in `allocate` and was
            // published once; `&mut self` means no other reference to the capture remains.
            drop(unsafe { Box::from_raw(samples) });
        }
    }
}

impl AlignCapture {
    /// An idle capture without its buffer (allocates nothing; see [`Self::request`]).
    pub fn new() -> Self {
        Self {
            samples: AtomicPtr::new(std::ptr::null_mut()),
            state: AtomicU8::new(IDLE),
            wanted: AtomicUsize::new(0),
            filled: AtomicUsize::new(0),
            start: AtomicI64::new(0),
        }
    }

    /// The buffer, once a request has allocated it.
    fn samples(&self) -> Option<&Samples> {
        let samples = self.samples.load(Ordering::Acquire);
        // SAFETY: non-null pointers stored in `self.samples` come from `Box::into_raw` in
        // `allocate`, are never replaced and are freed only by `Drop` (which needs `&mut
        // self`), so the buffer outlives this borrow of `self`.
        (!samples.is_null()).then(|| unsafe { &*samples })
    }

    /// Whether the buffer has been allocated (tests and the memory figures read it).
    pub fn is_allocated(&self) -> bool {
        self.samples().is_some()
    }

    /// Allocates and publishes the buffer if no request has yet (editor thread; 3 MB).
    fn allocate(&self) {
        if self.is_allocated() {
            return;
        }
        let samples: Box<[AtomicU32]> = (0..ALIGN_CAPTURE_CAPACITY)
            .map(|_| AtomicU32::new(0))
            .collect();
        // Resident before the audio thread's first store (`dsp::util::resident`): the zeros
        // above may be compiled into a zeroed allocation whose pages are not mapped yet.
        for sample in samples.iter().step_by(1024) {
            // SAFETY: `as_ptr` points to this sample, which no other thread can reach before
            // the buffer is published below; volatile keeps the write.
            unsafe { sample.as_ptr().write_volatile(0) };
        }
        let samples: Box<Samples> = samples
            .try_into()
            .unwrap_or_else(|_| unreachable!("collected exactly the capacity"));
        let raw = Box::into_raw(samples);
        if self
            .samples
            .compare_exchange(
                std::ptr::null_mut(),
                raw,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            // Another request published one first: ours was never shared.
            // SAFETY: `raw` came from `Box::into_raw` just above and was not published.
            drop(unsafe { Box::from_raw(raw) });
        }
    }

    /// Asks for [`ALIGN_CAPTURE_SECONDS`] of the mix at `sample_rate` from the next played
    /// block on (editor thread; the first request allocates the buffer). A capture under way
    /// restarts.
    pub fn request(&self, sample_rate: f32) {
        self.allocate();
        let frames = (ALIGN_CAPTURE_SECONDS * f64::from(sample_rate.max(1000.0))).round() as usize;
        self.wanted
            .store(frames.min(ALIGN_CAPTURE_CAPACITY), Ordering::Relaxed);
        self.state.store(ARMED, Ordering::Release);
    }

    /// Drops a request or a finished capture.
    pub fn cancel(&self) {
        self.state.store(IDLE, Ordering::Release);
    }

    pub fn state(&self) -> CaptureState {
        match self.state.load(Ordering::Acquire) {
            ARMED => CaptureState::WaitingForPlayback,
            CAPTURING => {
                let wanted = self.wanted.load(Ordering::Relaxed).max(1);
                CaptureState::Capturing(self.filled.load(Ordering::Relaxed) as f32 / wanted as f32)
            }
            DONE => CaptureState::Done,
            _ => CaptureState::Idle,
        }
    }

    /// Audio thread, once per chunk, before the chain: the chunk's input and the transport at
    /// its first frame. One atomic load when no capture is requested; allocation-free.
    pub fn write(&self, left: &[f32], right: &[f32], transport: Transport) {
        let state = self.state.load(Ordering::Acquire);
        if state != ARMED && state != CAPTURING {
            return;
        }
        // Published before the request armed the capture (`request`), so present here.
        let Some(samples) = self.samples() else {
            return;
        };
        let position = match (transport.playing, transport.position_samples) {
            (true, Some(p)) => p,
            _ => {
                // Stopped: a capture under way must start again from continuous playback.
                if state == CAPTURING {
                    self.state.store(ARMED, Ordering::Release);
                }
                return;
            }
        };
        let mut filled = self.filled.load(Ordering::Relaxed);
        if state == ARMED
            || position
                != self
                    .start
                    .load(Ordering::Relaxed)
                    .wrapping_add(filled as i64)
        {
            // First played block, or a relocation: start here.
            self.start.store(position, Ordering::Relaxed);
            filled = 0;
            self.state.store(CAPTURING, Ordering::Relaxed);
        }
        let wanted = self.wanted.load(Ordering::Relaxed);
        let n = left.len().min(right.len()).min(wanted - filled);
        for (i, (l, r)) in left[..n].iter().zip(&right[..n]).enumerate() {
            samples[filled + i].store((0.5 * (l + r)).to_bits(), Ordering::Relaxed);
        }
        filled += n;
        self.filled.store(filled, Ordering::Relaxed);
        if filled == wanted {
            self.state.store(DONE, Ordering::Release);
        }
    }

    /// A finished capture: (timeline position of its first frame, the mix as mono), and the
    /// capture returns to idle. Editor thread (allocates).
    pub fn take(&self) -> Option<(i64, Vec<f32>)> {
        if self.state.load(Ordering::Acquire) != DONE {
            return None;
        }
        let samples = self.samples()?;
        let n = self.filled.load(Ordering::Relaxed);
        let mix = samples[..n]
            .iter()
            .map(|s| f32::from_bits(s.load(Ordering::Relaxed)))
            .collect();
        let start = self.start.load(Ordering::Relaxed);
        self.state.store(IDLE, Ordering::Release);
        Some((start, mix))
    }
}

/// Where the reference matches the mix best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lag {
    /// `reference[search + lag + n]` carries `mix[n]` (rounded to a sample).
    pub samples: i64,
    /// The parabola-refined peak, in samples (before rounding).
    pub refined: f64,
    /// Phase coherence of the bins at the peak, 0-1 (1 = identical up to gain).
    pub coherence: f32,
}

/// Searches `reference` (which starts `search` frames before where `mix` is expected and is
/// `mix.len() + 2 * search` long) for `mix`: the lag in `-search..=search` where the
/// weighted cross-correlation of `mix[n]` and `ref[search + lag + n]` peaks.
/// `None` when either is silent or too short.
pub fn find_lag(mix: &[f32], reference: &[f32], search: usize) -> Option<Lag> {
    let n = mix.len();
    if n == 0 || reference.len() < n + 2 * search {
        return None;
    }
    let lags = 2 * search + 1;
    let size = (reference.len() + n).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let spectrum_of = |x: &[f32]| {
        let mut buf = forward.make_input_vec();
        for (b, &v) in buf.iter_mut().zip(x) {
            *b = f64::from(v);
        }
        let mut out = forward.make_output_vec();
        forward.process(&mut buf, &mut out).ok()?;
        Some(out)
    };
    let m = spectrum_of(mix)?;
    let mut r = spectrum_of(reference)?;
    // c[k] = Σ_n mix[n] ref[n + k]  ⇔  C = conj(M) · R (no wrap: size ≥ len(ref) + len(mix)),
    // weighted by |C|^-β (generalised cross-correlation with a partial phase transform, Knapp
    // & Carter 1976; β = 0.8 after Donohue et al. 2007): the mastering chain's EQ and the
    // music's sustained tones no longer shape the peak, which becomes a sharp pulse at the
    // delay. Plain correlation finds a periodic mix's neighbouring period just as good.
    let mut largest = 0.0f64;
    for (rv, mv) in r.iter_mut().zip(&m) {
        *rv *= mv.conj();
        largest = largest.max(rv.norm());
    }
    if largest <= 0.0 {
        return None;
    }
    // The peak the weighted correlation would reach if every bin's phase agreed: the real
    // inverse FFT counts the bins between DC and Nyquist twice.
    let mut all_in_phase = 0.0;
    let last = r.len() - 1;
    for (i, rv) in r.iter_mut().enumerate() {
        *rv /= (rv.norm() + 1e-9 * largest).powf(PHAT_BETA);
        all_in_phase += if i == 0 || i == last { 1.0 } else { 2.0 } * rv.norm();
    }
    let mut g = inverse.make_output_vec();
    inverse.process(&mut r, &mut g).ok()?;
    let best = (0..lags).fold(0, |a, k| if g[k] > g[a] { k } else { a });
    // Parabola through the weighted correlation around the peak (sub-sample position).
    let refine = if best > 0 && best + 1 < lags {
        let (a, b, d) = (g[best - 1], g[best], g[best + 1]);
        let denominator = a - 2.0 * b + d;
        if denominator < 0.0 {
            (0.5 * (a - d) / denominator).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    // The confidence: how far the bins agree on this delay (1 = every bin in phase, as for a
    // copy up to gain; unrelated signals ~ 1/√bins). Plain correlation would not do: a chain's
    // low cut and shelves rotate the phase of the bass, which carries most of the energy, so
    // the plain correlation of a mix with its own master can be 0.05 at the true delay.
    if all_in_phase.is_nan() || all_in_phase <= 0.0 {
        return None;
    }
    let coherence = g[best] / all_in_phase;
    let refined = best as f64 + refine - search as f64;
    Some(Lag {
        samples: refined.round() as i64,
        refined,
        coherence: coherence as f32,
    })
}

/// The reference as mono over `[start, start + len)`, zeros outside the track.
pub fn reference_window(track: &ReferenceTrack, start: i64, len: usize) -> Vec<f32> {
    (0..len as i64)
        .map(|i| {
            let f = start + i;
            if f >= 0 && (f as usize) < track.frames() {
                0.5 * (track.left[f as usize] + track.right[f as usize])
            } else {
                0.0
            }
        })
        .collect()
}

/// Why an alignment was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum AlignError {
    /// The captured mix is silent.
    SilentMix,
    /// No convincing match within the search range.
    NoMatch { coherence: f32 },
}

impl std::fmt::Display for AlignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SilentMix => write!(f, "the captured mix is silent: play a section with music"),
            Self::NoMatch { coherence } => write!(
                f,
                "no match within ±{ALIGN_SEARCH_SECONDS:.0} s (coherence {coherence:.2}): \
                 is the reference a bounce of this mix?"
            ),
        }
    }
}

/// Where `track` must start for its frame `p + offset` to carry what the mix has at timeline
/// `p`, searched around `current_offset` (frames) for a mix captured from timeline `start`.
/// Returns the new offset in frames and the coherence.
pub fn align_offset(
    track: &ReferenceTrack,
    start: i64,
    mix: &[f32],
    current_offset: i64,
) -> Result<(i64, f32), AlignError> {
    let search = (ALIGN_SEARCH_SECONDS * f64::from(track.sample_rate)).round() as usize;
    let window = reference_window(
        track,
        start + current_offset - search as i64,
        mix.len() + 2 * search,
    );
    let lag = find_lag(mix, &window, search).ok_or(AlignError::SilentMix)?;
    if lag.coherence.is_nan() || lag.coherence < MIN_ALIGN_COHERENCE {
        return Err(AlignError::NoMatch {
            coherence: lag.coherence,
        });
    }
    Ok((current_offset + lag.samples, lag.coherence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signals::Noise;

    fn music_like(n: usize, seed: u64) -> Vec<f32> {
        // Noise through a one-pole low-pass plus a tone that depends on the seed: broadband,
        // like a mix.
        let mut noise = Noise::new(seed);
        let mut lp = 0.0f32;
        let tone = 110.0 * (1.0 + seed as f32 / 7.0);
        (0..n)
            .map(|i| {
                lp += 0.2 * (noise.next() - lp);
                let t = i as f32 / 48_000.0;
                0.3 * lp + 0.1 * (2.0 * std::f32::consts::PI * tone * t).sin()
            })
            .collect()
    }

    #[test]
    fn finds_an_integer_lag_exactly_and_a_half_sample_to_within_a_tenth() {
        let search = 2000;
        let reference = music_like(40_000, 3);
        for lag in [-1777i64, -1, 0, 1, 937, 2000] {
            let start = (search as i64 + 5000 + lag) as usize;
            let mix: Vec<f32> = reference[start..start + 20_000]
                .iter()
                .map(|v| 0.5 * v)
                .collect();
            let window = &reference[5000..5000 + 20_000 + 2 * search];
            let found = find_lag(&mix, window, search).unwrap();
            assert_eq!(found.samples, lag, "{found:?}");
            assert!(found.coherence > 0.5, "{found:?}");
        }
        // Half a sample: the mix is the average of two neighbours.
        let mix: Vec<f32> = (0..20_000)
            .map(|n| 0.5 * (reference[7000 + 300 + n] + reference[7000 + 301 + n]))
            .collect();
        let found = find_lag(&mix, &reference[7000..7000 + 20_000 + 2 * search], search).unwrap();
        assert!(
            (found.refined - (300.5 - search as f64)).abs() < 0.1,
            "refined {:.3}",
            found.refined
        );
    }

    #[test]
    fn unrelated_music_and_silence_are_refused() {
        let mix = music_like(20_000, 5);
        let other = music_like(24_000, 6);
        let found = find_lag(&mix, &other, 2000).unwrap();
        assert!(found.coherence < 0.05, "{found:?}");
        assert!(find_lag(&vec![0.0; 20_000], &other, 2000).is_none());
    }

    #[test]
    fn capture_restarts_on_a_relocation_and_finishes_contiguous() {
        let capture = AlignCapture::new();
        let block = vec![0.25f32; 1000];
        let playing = |p| Transport {
            playing: true,
            position_samples: Some(p),
        };
        capture.write(&block, &block, playing(0));
        assert_eq!(capture.state(), CaptureState::Idle, "nothing requested");
        assert!(
            !capture.is_allocated(),
            "no buffer before the first request"
        );
        capture.request(1000.0); // 4 s at 1 kHz = 4000 frames
        assert!(capture.is_allocated());
        capture.write(&block, &block, Transport::default());
        assert_eq!(capture.state(), CaptureState::WaitingForPlayback);
        capture.write(&block, &block, playing(10_000));
        assert_eq!(capture.state(), CaptureState::Capturing(0.25));
        capture.write(&block, &block, playing(50_000)); // relocation: starts again
        for k in 1..4 {
            capture.write(&block, &block, playing(50_000 + 1000 * k));
        }
        assert_eq!(capture.state(), CaptureState::Done);
        let (start, mix) = capture.take().unwrap();
        assert_eq!((start, mix.len()), (50_000, 4000));
        assert!(mix.iter().all(|&v| v == 0.25));
        assert_eq!(capture.state(), CaptureState::Idle);
    }
}
