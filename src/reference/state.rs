//! The reference slots as the session saves them: paths, loops, trims, offsets, the content
//! hash and the cached analysis of each file (so a moved file still shows what it measured).
//!
//! Three threads touch it: the audio thread reads the numeric controls (atomics, lock-free);
//! the editor and the loader thread read and write the file part (a `Mutex` they hold for a
//! copy, never the audio thread); a state restore writes both. nice-plug can apply a restore
//! at the end of `process()` (a preset loaded while the host plays): that path already parses
//! JSON and allocates, and here it may wait for an editor's brief copy; it is the framework's
//! restore path, not our audio processing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use atomic_float::{AtomicF32, AtomicF64};
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

use crate::reference::playback::{sanitized_trim, SlotControls, REFERENCE_SLOTS};
use crate::reference::track::TrackSummary;

/// One saved slot (the JSON of the `references` persisted field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedSlot {
    /// The file, as given (absolute when loaded from the editor).
    pub path: Option<String>,
    pub loop_start_seconds: f64,
    /// At or before the start = the end of the track.
    pub loop_end_seconds: f64,
    pub trim_db: f32,
    pub offset_seconds: f64,
    /// FNV-1a 64 of the file when it was loaded (tells a changed file from the same one).
    pub content_hash: Option<u64>,
    /// The analysis when it was loaded (shown when the file is missing).
    pub summary: Option<TrackSummary>,
    /// Marked as a song of this record (the album view).
    pub song_of_record: bool,
}

/// All slots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedReferences {
    pub slots: Vec<SavedSlot>,
}

/// The file part of a slot (editor and loader; not the audio thread).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotFile {
    pub path: Option<String>,
    pub content_hash: Option<u64>,
    pub summary: Option<TrackSummary>,
    pub song_of_record: bool,
}

#[derive(Debug, Default)]
struct SlotAtomics {
    loop_start_seconds: AtomicF64,
    loop_end_seconds: AtomicF64,
    trim_db: AtomicF32,
    offset_seconds: AtomicF64,
}

/// The live reference state shared by the audio thread, the editor and the loader.
#[derive(Debug, Default)]
pub struct ReferenceSlots {
    controls: [SlotAtomics; REFERENCE_SLOTS],
    files: Mutex<[SlotFile; REFERENCE_SLOTS]>,
    /// Bumped whenever a path changes (editor, restore): the loader re-syncs.
    generation: AtomicU64,
    /// Set by a restore: the editor drops what it cached about the slots.
    restored: AtomicBool,
    /// Bumped by every edit of a slot (controls or file): the editor marks the session dirty
    /// when its frame changed it (`editor::reference_panel::show`).
    edits: AtomicU64,
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() {
        x.max(0.0)
    } else {
        0.0
    }
}

impl ReferenceSlots {
    /// The numeric controls of every slot. Lock-free (audio thread).
    pub fn controls(&self) -> [SlotControls; REFERENCE_SLOTS] {
        std::array::from_fn(|i| {
            let c = &self.controls[i];
            SlotControls {
                loop_start_seconds: c.loop_start_seconds.load(Ordering::Relaxed),
                loop_end_seconds: c.loop_end_seconds.load(Ordering::Relaxed),
                trim_db: c.trim_db.load(Ordering::Relaxed),
                offset_seconds: c.offset_seconds.load(Ordering::Relaxed),
            }
        })
    }

    /// Sets one slot's controls (editor). Non-finite or negative times become 0, the trim is
    /// clamped to ±24 dB.
    pub fn set_controls(&self, slot: usize, controls: SlotControls) {
        let Some(c) = self.controls.get(slot) else {
            return;
        };
        self.edits.fetch_add(1, Ordering::Relaxed);
        c.loop_start_seconds.store(
            finite_or_zero(controls.loop_start_seconds),
            Ordering::Relaxed,
        );
        c.loop_end_seconds
            .store(finite_or_zero(controls.loop_end_seconds), Ordering::Relaxed);
        c.trim_db
            .store(sanitized_trim(controls.trim_db), Ordering::Relaxed);
        let offset = if controls.offset_seconds.is_finite() {
            controls.offset_seconds.clamp(-3600.0, 3600.0)
        } else {
            0.0
        };
        c.offset_seconds.store(offset, Ordering::Relaxed);
    }

    /// The file part of every slot (a copy).
    pub fn files(&self) -> [SlotFile; REFERENCE_SLOTS] {
        self.lock_files().clone()
    }

    fn lock_files(&self) -> MutexGuard<'_, [SlotFile; REFERENCE_SLOTS]> {
        // A panic elsewhere while holding the lock must not take the references with it.
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Edits one slot's file part (editor, loader). A changed path bumps the generation.
    pub fn update_file(&self, slot: usize, edit: impl FnOnce(&mut SlotFile)) {
        if slot >= REFERENCE_SLOTS {
            return;
        }
        self.edits.fetch_add(1, Ordering::Relaxed);
        let mut files = self.lock_files();
        let before = files[slot].path.clone();
        edit(&mut files[slot]);
        if files[slot].path != before {
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// How many edits the slots have had (a counter to compare, not a meaning of its own).
    pub fn edits(&self) -> u64 {
        self.edits.load(Ordering::Relaxed)
    }

    /// Asks the loader to load a slot's file again (same path).
    pub fn request_reload(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// True once after a state restore.
    pub fn take_restored(&self) -> bool {
        self.restored.swap(false, Ordering::AcqRel)
    }

    pub fn saved(&self) -> SavedReferences {
        let files = self.files();
        let controls = self.controls();
        SavedReferences {
            slots: files
                .into_iter()
                .zip(controls)
                .map(|(f, c)| SavedSlot {
                    path: f.path,
                    loop_start_seconds: c.loop_start_seconds,
                    loop_end_seconds: c.loop_end_seconds,
                    trim_db: c.trim_db,
                    offset_seconds: c.offset_seconds,
                    content_hash: f.content_hash,
                    summary: f.summary,
                    song_of_record: f.song_of_record,
                })
                .collect(),
        }
    }

    /// Applies a saved state: slots beyond [`REFERENCE_SLOTS`] are ignored, missing ones are
    /// emptied, bad numbers fall back (see [`Self::set_controls`]).
    pub fn restore(&self, saved: &SavedReferences) {
        for slot in 0..REFERENCE_SLOTS {
            let s = saved.slots.get(slot).cloned().unwrap_or_default();
            self.set_controls(
                slot,
                SlotControls {
                    loop_start_seconds: s.loop_start_seconds,
                    loop_end_seconds: s.loop_end_seconds,
                    trim_db: s.trim_db,
                    offset_seconds: s.offset_seconds,
                },
            );
            let summary = s.summary.filter(|m| m.duration_seconds.is_finite());
            self.update_file(slot, |f| {
                *f = SlotFile {
                    path: s.path.filter(|p| !p.trim().is_empty()),
                    content_hash: s.content_hash,
                    summary,
                    song_of_record: s.song_of_record,
                }
            });
        }
        self.generation.fetch_add(1, Ordering::Release);
        self.restored.store(true, Ordering::Release);
    }
}

/// The `references` persisted field of the plugin parameters.
#[derive(Debug, Default, Clone)]
pub struct PersistedReferences(pub Arc<ReferenceSlots>);

impl<'a> PersistentField<'a, SavedReferences> for PersistedReferences {
    fn set(&self, new_value: SavedReferences) {
        self.0.restore(&new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&SavedReferences) -> R,
    {
        f(&self.0.saved())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_state_round_trips_and_bad_values_fall_back() {
        let slots = ReferenceSlots::default();
        slots.set_controls(
            2,
            SlotControls {
                loop_start_seconds: 12.5,
                loop_end_seconds: 30.0,
                trim_db: -1.5,
                offset_seconds: -0.25,
            },
        );
        slots.update_file(2, |f| {
            f.path = Some("/music/ref.flac".into());
            f.content_hash = Some(0xDEAD_BEEF_0123_4567);
            f.song_of_record = true;
        });
        let saved = slots.saved();
        let json = serde_json::to_string(&saved).unwrap();
        let back: SavedReferences = serde_json::from_str(&json).unwrap();
        let restored = ReferenceSlots::default();
        restored.restore(&back);
        assert_eq!(restored.saved(), saved);
        assert!(restored.take_restored());

        // Hostile values: NaN/huge trims, negative times, unknown fields, too many slots.
        let hostile = r#"{"slots":[{"trim_db":1e30,"loop_start_seconds":-5,"offset_seconds":1e300,
            "path":"   ","extra":1}, {}, {}, {}, {}, {}, {}, {}, {"path":"/ninth.wav"}]}"#;
        let parsed: SavedReferences = serde_json::from_str(hostile).unwrap();
        restored.restore(&parsed);
        let c = restored.controls()[0];
        assert_eq!(c.trim_db, 24.0);
        assert_eq!(c.loop_start_seconds, 0.0);
        assert_eq!(c.offset_seconds, 3600.0);
        assert_eq!(restored.files()[0].path, None);
        assert!(restored.files().iter().all(|f| f.path.is_none()));
    }

    #[test]
    fn a_path_change_bumps_the_generation_and_other_edits_do_not() {
        let slots = ReferenceSlots::default();
        let g0 = slots.generation();
        slots.update_file(0, |f| f.song_of_record = true);
        assert_eq!(slots.generation(), g0);
        slots.update_file(0, |f| f.path = Some("a.wav".into()));
        assert_eq!(slots.generation(), g0 + 1);
    }
}
