//! The loader thread and the lock-free hand-over of reference tracks to the audio thread.
//!
//! ```text
//! editor / state restore ──(paths in ReferenceSlots, generation++)──▶ loader thread
//! loader: decode + resample + analyse ──(rtrb ring: Delivery)──▶ audio thread (Engine::install)
//! audio thread ──(rtrb ring: replaced Arc<ReferenceTrack>)──▶ loader thread, which drops it
//! ```
//!
//! The audio thread never allocates or frees: it pops ready `Arc`s and pushes the ones they
//! replace back (it only pops a delivery when the retire ring has room, so nothing is ever
//! dropped there). The loader keeps its own `Arc` of every loaded track, for the memory cap
//! and to reload at a new session rate; the editor reads the slots' status and tracks through
//! [`LibraryStatus`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::reference::decode::{decode_reference, MAX_REFERENCE_BYTES};
use crate::reference::playback::REFERENCE_SLOTS;
use crate::reference::state::ReferenceSlots;
use crate::reference::track::ReferenceTrack;

/// How often the loader looks for work and retired tracks.
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// Ring capacities: a delivery per slot, with room; the retire ring is larger so a burst of
/// loads never blocks a hand-over.
const DELIVERY_CAPACITY: usize = 2 * REFERENCE_SLOTS;
const RETIRE_CAPACITY: usize = 4 * REFERENCE_SLOTS;

/// A track (or an emptied slot) for the audio thread.
pub struct Delivery {
    pub slot: usize,
    pub track: Option<Arc<ReferenceTrack>>,
}

/// What the editor shows for a slot.
#[derive(Debug, Clone, Default)]
pub enum SlotState {
    #[default]
    Empty,
    Loading,
    Ready,
    /// The reason, naming the file.
    Failed(String),
}

#[derive(Debug, Clone, Default)]
pub struct SlotStatus {
    pub state: SlotState,
    /// The loaded track (at the session rate), for the waveform and the figures.
    pub track: Option<Arc<ReferenceTrack>>,
    /// A note beside a successful load (e.g. the file changed since the session was saved).
    pub warning: Option<String>,
}

/// Slot status shared with the editor (a `Mutex` between the loader and the GUI only).
#[derive(Debug, Default)]
pub struct LibraryStatus {
    slots: Mutex<[SlotStatus; REFERENCE_SLOTS]>,
}

impl LibraryStatus {
    pub fn slots(&self) -> [SlotStatus; REFERENCE_SLOTS] {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, slot: usize, status: SlotStatus) {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())[slot] = status;
    }
}

/// The audio thread's end of the hand-over (owned by the plugin next to its `Engine`).
pub struct AudioHandover {
    incoming: rtrb::Consumer<Delivery>,
    retired: rtrb::Producer<Arc<ReferenceTrack>>,
}

impl AudioHandover {
    /// Installs every delivered track with `install` (the engine's `install_reference`: slot,
    /// track -> the track it replaces). Allocation- and lock-free; never drops a track. A
    /// closure rather than the engine, so the loader does not depend on the audio path that
    /// depends on its status.
    pub fn poll(
        &mut self,
        mut install: impl FnMut(usize, Option<Arc<ReferenceTrack>>) -> Option<Arc<ReferenceTrack>>,
    ) {
        while self.retired.slots() > 0 {
            let Ok(delivery) = self.incoming.pop() else {
                return;
            };
            if let Some(old) = install(delivery.slot, delivery.track) {
                // Room was checked above; `push` cannot fail here.
                let _ = self.retired.push(old);
            }
        }
    }
}

/// The loader thread and its controls (owned by the plugin; the thread stops when dropped).
pub struct ReferenceLibrary {
    status: Arc<LibraryStatus>,
    sample_rate: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ReferenceLibrary {
    /// Starts the loader for `slots`, reporting into `status`, and returns it with the audio
    /// thread's end.
    pub fn spawn(slots: Arc<ReferenceSlots>, status: Arc<LibraryStatus>) -> (Self, AudioHandover) {
        let (delivery_tx, delivery_rx) = rtrb::RingBuffer::new(DELIVERY_CAPACITY);
        let (retire_tx, retire_rx) = rtrb::RingBuffer::new(RETIRE_CAPACITY);
        let sample_rate = Arc::new(AtomicU32::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut loader = Loader {
            slots,
            status: status.clone(),
            sample_rate: sample_rate.clone(),
            deliveries: delivery_tx,
            retired: retire_rx,
            loaded: Default::default(),
            seen_generation: u64::MAX,
            seen_rate: 0,
            pending: Vec::new(),
        };
        let stop_flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fairmaster-reference-loader".into())
            .spawn(move || {
                while !stop_flag.load(Ordering::Acquire) {
                    loader.step();
                    std::thread::sleep(POLL_INTERVAL);
                }
            })
            .ok();
        let library = Self {
            status,
            sample_rate,
            stop,
            thread,
        };
        let handover = AudioHandover {
            incoming: delivery_rx,
            retired: retire_tx,
        };
        (library, handover)
    }

    /// The session rate tracks are prepared for (from `activate`); a change reloads them.
    pub fn set_sample_rate(&self, sample_rate: f32) {
        let rate = crate::dsp::util::usable_sample_rate(sample_rate).round() as u32;
        self.sample_rate.store(rate, Ordering::Release);
    }

    pub fn status(&self) -> Arc<LibraryStatus> {
        self.status.clone()
    }
}

impl Drop for ReferenceLibrary {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the loader has put in a slot: the file and rate it was made from.
struct Loaded {
    path: String,
    rate: u32,
    /// `None` = the load failed (kept so it is not retried until the path or rate changes).
    track: Option<Arc<ReferenceTrack>>,
}

struct Loader {
    slots: Arc<ReferenceSlots>,
    status: Arc<LibraryStatus>,
    sample_rate: Arc<AtomicU32>,
    deliveries: rtrb::Producer<Delivery>,
    retired: rtrb::Consumer<Arc<ReferenceTrack>>,
    loaded: [Option<Loaded>; REFERENCE_SLOTS],
    seen_generation: u64,
    seen_rate: u32,
    /// Deliveries the ring had no room for yet.
    pending: Vec<Delivery>,
}

impl Loader {
    fn step(&mut self) {
        // Retired tracks are freed here, off the audio thread.
        while self.retired.pop().is_ok() {}
        self.flush_pending();
        let rate = self.sample_rate.load(Ordering::Acquire);
        let generation = self.slots.generation();
        if rate == 0 || (generation == self.seen_generation && rate == self.seen_rate) {
            return;
        }
        let forced = generation != self.seen_generation;
        self.seen_generation = generation;
        self.seen_rate = rate;
        let files = self.slots.files();
        for (slot, file) in files.iter().enumerate() {
            let wanted = file.path.clone();
            let current = self.loaded[slot]
                .as_ref()
                .map(|l| (l.path.clone(), l.rate, l.track.is_some()));
            match (wanted, current) {
                (None, None) => {}
                (None, Some(_)) => {
                    self.loaded[slot] = None;
                    self.status.set(slot, SlotStatus::default());
                    self.deliver(Delivery { slot, track: None });
                }
                (Some(path), current) => {
                    let same = current
                        .as_ref()
                        .is_some_and(|(p, r, ok)| *p == path && *r == rate && (*ok || !forced));
                    if !same {
                        self.load(slot, &path, rate, file.content_hash);
                    }
                }
            }
        }
    }

    fn load(&mut self, slot: usize, path: &str, rate: u32, saved_hash: Option<u64>) {
        let previous = self.status.slots()[slot].clone();
        self.status.set(
            slot,
            SlotStatus {
                state: SlotState::Loading,
                ..previous
            },
        );
        // The cap counts every other slot's audio (this slot's old track is replaced).
        let held: usize = self
            .loaded
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != slot)
            .filter_map(|(_, l)| l.as_ref()?.track.as_ref().map(|t| t.bytes()))
            .sum();
        let budget = MAX_REFERENCE_BYTES.saturating_sub(held);
        let result = decode_reference(Path::new(path), rate, budget);
        match result {
            Ok(decoded) => {
                let track = Arc::new(ReferenceTrack::analyse_for_playback(
                    decoded,
                    PathBuf::from(path),
                ));
                let warning = saved_hash
                    .filter(|&h| h != track.source.content_hash)
                    .map(|_| {
                        "the file has changed since the session was saved (different content)"
                            .to_string()
                    });
                self.status.set(
                    slot,
                    SlotStatus {
                        state: SlotState::Ready,
                        track: Some(track.clone()),
                        warning,
                    },
                );
                self.loaded[slot] = Some(Loaded {
                    path: path.to_string(),
                    rate,
                    track: Some(track.clone()),
                });
                let (hash, summary) = (track.source.content_hash, track.summary);
                self.deliver(Delivery {
                    slot,
                    track: Some(track.clone()),
                });
                // It plays already; the limiting curve completes the level match (the audio
                // thread reads it through a `OnceLock` once it is set). The session records the
                // file after that, so a saved analysis means a complete one.
                track.measure_safety_curve();
                // Recorded in the session after the hand-over was queued: the saved hash and
                // analysis describe what plays.
                self.slots.update_file(slot, |f| {
                    if f.path.as_deref() == Some(path) {
                        f.content_hash = Some(hash);
                        f.summary = Some(summary);
                    }
                });
            }
            Err(error) => {
                // The slot keeps its cached analysis (the persisted summary); what played
                // before stops, so the reference heard is never a stale file.
                self.status.set(
                    slot,
                    SlotStatus {
                        state: SlotState::Failed(error.to_string()),
                        track: None,
                        warning: None,
                    },
                );
                self.loaded[slot] = Some(Loaded {
                    path: path.to_string(),
                    rate,
                    track: None,
                });
                self.deliver(Delivery { slot, track: None });
            }
        }
    }

    fn deliver(&mut self, delivery: Delivery) {
        self.pending.push(delivery);
        self.flush_pending();
    }

    fn flush_pending(&mut self) {
        while !self.pending.is_empty() && self.deliveries.slots() > 0 {
            let delivery = self.pending.remove(0);
            let _ = self.deliveries.push(delivery);
        }
    }
}
