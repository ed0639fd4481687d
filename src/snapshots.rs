//! Snapshots: up to [`SNAPSHOT_SLOTS`] stored versions of the master, compared at matched
//! loudness.
//!
//! A snapshot holds every parameter except the listening controls
//! ([`crate::params::LISTENING_PARAM_IDS`]: A/B, reference, monitoring, snapshot match), as
//! plain values in the preset format's `params` form (`presets::param_set::version_values`), with
//! a name, a note, the time it was stored and the loudness measured while it was heard
//! ([`SnapshotStats`]).
//!
//! **Matched compare.** Louder sounds better to everyone, so versions are compared at one
//! loudness. What the A/B matcher measures for a version is how much louder than the original
//! the chain makes it: the master's integrated loudness minus the original's, both measured
//! over the same span by the A/B's meter pair ([`SnapshotStats::gain_over_original_db`]). That
//! figure belongs to the settings, not to the passage played, so it is kept per snapshot and
//! applies the moment a snapshot is recalled, before any new measurement exists. With match on,
//! the recalled snapshot plays at `anchor - gain_over_original`, the anchor being the quietest
//! stored version's figure: louder versions are turned *down* to the quietest, none is pushed
//! up into its own limiter's ceiling. The gain reaches the audio thread through one atomic
//! ([`SnapshotBank::match_gain_db`]); the engine ramps it (`AbSettings::version_gain_db`).
//!
//! **Measured while heard.** While the recalled (or just stored) snapshot is what the
//! parameters hold, the editor hands its meters' readings to [`SnapshotBank::observe`]; once
//! they cover [`MIN_MEASURED_SECONDS`] they replace the snapshot's figures. Any edit marks the
//! snapshot modified: from then on nothing is measured for it and the match gain stays where it
//! was (no jump mid-edit), until the next store or recall.
//!
//! Everything here runs on the editor thread (and the state restore); the audio thread only
//! reads the atomic gain.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use atomic_float::AtomicF32;
use nice_plug::params::persist::PersistentField;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dsp::meters::program_meter::ProgramReadings;

/// Snapshots per session (keys 1–8 in the editor).
pub const SNAPSHOT_SLOTS: usize = 8;
/// Audio a measurement must cover before it replaces a snapshot's figures: one short-term
/// window (EBU Tech 3341), so the integrated figures are past their first gating blocks.
pub const MIN_MEASURED_SECONDS: f32 = 3.0;
/// Longest snapshot name (it is shown on a button and typed after `--snapshot`).
pub const NAME_MAX_CHARS: usize = 40;
/// Longest note.
pub const NOTE_MAX_CHARS: usize = 2000;
/// The match gain never exceeds this either way (the A/B matcher's range).
const MATCH_RANGE_DB: f32 = crate::ab::MATCH_RANGE_DB;

/// Loudness of a version, measured while it was heard (BS.1770-4 / EBU R128).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SnapshotStats {
    pub integrated_lufs: f32,
    pub loudness_range_lu: f32,
    pub true_peak_dbtp: f32,
    /// Peak-to-loudness ratio, true peak minus integrated (EBU R128 s1).
    pub plr_db: f32,
    /// The master's integrated loudness minus the original's over the same span: the A/B
    /// matcher's measure of how much louder this version is than the mix.
    pub gain_over_original_db: f32,
    /// Audio the figures cover.
    pub measured_seconds: f32,
}

impl SnapshotStats {
    /// Figures from the A/B meter pair's readings over `seconds` of audio (both meters measure
    /// the same span: they are reset together). `None` until the span reaches
    /// [`MIN_MEASURED_SECONDS`] or while any figure is not finite (silence gates everything
    /// out).
    pub fn from_readings(
        original: &ProgramReadings,
        master: &ProgramReadings,
        seconds: f32,
    ) -> Option<Self> {
        let stats = Self {
            integrated_lufs: master.integrated_lufs,
            loudness_range_lu: master.loudness_range_lu,
            true_peak_dbtp: master.true_peak_max_dbtp,
            plr_db: master.plr_db(),
            gain_over_original_db: master.integrated_lufs - original.integrated_lufs,
            measured_seconds: seconds,
        };
        (seconds >= MIN_MEASURED_SECONDS && stats.is_finite()).then_some(stats)
    }

    fn is_finite(&self) -> bool {
        [
            self.integrated_lufs,
            self.loudness_range_lu,
            self.true_peak_dbtp,
            self.plr_db,
            self.gain_over_original_db,
            self.measured_seconds,
        ]
        .iter()
        .all(|v| v.is_finite())
    }
}

/// One stored version of the master.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub name: String,
    #[serde(default)]
    pub note: String,
    /// When it was stored (seconds since 1970, UTC).
    #[serde(default)]
    pub stored_unix_seconds: u64,
    /// Parameter ID -> plain value (the preset format's `params`).
    pub params: BTreeMap<String, Value>,
    #[serde(default)]
    pub stats: Option<SnapshotStats>,
}

/// The snapshots as saved in the session (the `snapshots` persisted field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedSnapshots {
    /// [`SNAPSHOT_SLOTS`] entries, `None` for an empty slot.
    #[serde(default)]
    pub slots: Vec<Option<Snapshot>>,
    /// The snapshot last stored or recalled.
    #[serde(default)]
    pub current: Option<usize>,
    /// The parameters were edited since: the current snapshot is no longer what is heard.
    #[serde(default)]
    pub modified: bool,
}

impl SavedSnapshots {
    fn empty() -> Self {
        Self {
            slots: vec![None; SNAPSHOT_SLOTS],
            current: None,
            modified: false,
        }
    }

    /// A loaded state made safe: exactly [`SNAPSHOT_SLOTS`] slots, a current slot that holds a
    /// snapshot, names and notes within bounds (a blank name gets its slot's), figures that are
    /// not finite dropped.
    fn sanitized(mut self) -> Self {
        self.slots.resize(SNAPSHOT_SLOTS, None);
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if let Some(s) = slot {
                s.name = clean_name(&s.name).unwrap_or_else(|_| default_name(i));
                s.note = s.note.chars().take(NOTE_MAX_CHARS).collect();
                if !s.stats.is_some_and(|st| st.is_finite()) {
                    s.stats = None;
                }
            }
        }
        if self
            .current
            .is_none_or(|c| c >= SNAPSHOT_SLOTS || self.slots[c].is_none())
        {
            self.current = None;
            self.modified = false;
        }
        self
    }

    /// The gain that plays the current snapshot at the quietest stored version's loudness;
    /// `None` when the current snapshot has no figures yet.
    fn match_gain_db(&self) -> Option<f32> {
        let current = self.slots.get(self.current?)?.as_ref()?.stats?;
        let anchor = self
            .slots
            .iter()
            .flatten()
            .filter_map(|s| s.stats)
            .map(|s| s.gain_over_original_db)
            .fold(f32::INFINITY, f32::min);
        Some((anchor - current.gain_over_original_db).clamp(-MATCH_RANGE_DB, MATCH_RANGE_DB))
    }
}

fn default_name(slot: usize) -> String {
    format!("Snapshot {}", slot + 1)
}

/// A name trimmed and checked: not empty, at most [`NAME_MAX_CHARS`], no control characters.
fn clean_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("A snapshot needs a name".into());
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(format!(
            "A snapshot name has at most {NAME_MAX_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("A snapshot name cannot hold control characters".into());
    }
    Ok(name.to_owned())
}

/// Whether the live parameter values are the snapshot's: every value the snapshot holds that
/// the live set has too is equal, numbers up to the float rounding of a recall (the host sends
/// normalised values; a skewed range maps 9000 Hz back as 8999.999).
pub fn values_match(live: &BTreeMap<String, Value>, stored: &BTreeMap<String, Value>) -> bool {
    stored.iter().all(|(id, want)| match (live.get(id), want) {
        (None, _) => true,
        (Some(Value::Number(a)), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1.0)
        }
        (Some(have), want) => have == want,
    })
}

/// The snapshot bank of one plugin instance: the saved snapshots behind a mutex (editor thread
/// and state restore only) and the match gain as an atomic (read by the audio thread).
#[derive(Debug)]
pub struct SnapshotBank {
    saved: Mutex<SavedSnapshots>,
    match_gain_db: AtomicF32,
    /// Set by a restore: the editor drops what it cached (typed names and notes).
    restored: AtomicBool,
}

impl Default for SnapshotBank {
    fn default() -> Self {
        Self {
            saved: Mutex::new(SavedSnapshots::empty()),
            match_gain_db: AtomicF32::new(0.0),
            restored: AtomicBool::new(false),
        }
    }
}

impl SnapshotBank {
    fn lock(&self) -> MutexGuard<'_, SavedSnapshots> {
        // A panic elsewhere while holding the lock must not take the snapshots with it.
        self.saved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the snapshots (for the editor and the state save).
    pub fn saved(&self) -> SavedSnapshots {
        self.lock().clone()
    }

    /// The gain with which the current snapshot plays matched (dB, 0 before any figures).
    /// Lock-free: the audio thread reads it every block.
    pub fn match_gain_db(&self) -> f32 {
        self.match_gain_db.load(Ordering::Relaxed)
    }

    /// Recomputes the match gain after a change; an edited (modified) snapshot keeps the gain
    /// it had.
    fn update_gain(&self, saved: &SavedSnapshots) {
        if saved.modified {
            return;
        }
        let gain = if saved.current.is_some() {
            saved.match_gain_db().unwrap_or(self.match_gain_db())
        } else {
            0.0
        };
        self.match_gain_db.store(gain, Ordering::Relaxed);
    }

    /// Stores the live parameter values in `slot` and makes it current. Storing over a
    /// snapshot keeps its name and note (a new take of the same version); an empty slot gets
    /// "Snapshot N". `stats`: the figures measured so far, when there are any.
    pub fn store(
        &self,
        slot: usize,
        params: BTreeMap<String, Value>,
        stored_unix_seconds: u64,
        stats: Option<SnapshotStats>,
    ) {
        if slot >= SNAPSHOT_SLOTS {
            return;
        }
        let mut saved = self.lock();
        let (name, note) = match &saved.slots[slot] {
            Some(old) => (old.name.clone(), old.note.clone()),
            None => (default_name(slot), String::new()),
        };
        let name = if saved.slots.iter().enumerate().any(|(i, s)| {
            i != slot
                && s.as_ref()
                    .is_some_and(|s| s.name.eq_ignore_ascii_case(&name))
        }) {
            format!("{name} ({})", slot + 1)
        } else {
            name
        };
        saved.slots[slot] = Some(Snapshot {
            name,
            note,
            stored_unix_seconds,
            params,
            stats: stats.filter(SnapshotStats::is_finite),
        });
        saved.current = Some(slot);
        saved.modified = false;
        self.update_gain(&saved);
    }

    /// Makes `slot` current and returns the values to write into the parameters (the caller
    /// sends them to the host, one gesture per changed parameter). `None` for an empty slot.
    pub fn recall(&self, slot: usize) -> Option<BTreeMap<String, Value>> {
        let mut saved = self.lock();
        let params = saved.slots.get(slot)?.as_ref()?.params.clone();
        saved.current = Some(slot);
        saved.modified = false;
        self.update_gain(&saved);
        Some(params)
    }

    /// Renames a snapshot. Names are unique (the renderer picks a snapshot by name).
    pub fn rename(&self, slot: usize, name: &str) -> Result<(), String> {
        let name = clean_name(name)?;
        let mut saved = self.lock();
        let taken = saved.slots.iter().enumerate().any(|(i, s)| {
            i != slot
                && s.as_ref()
                    .is_some_and(|s| s.name.eq_ignore_ascii_case(&name))
        });
        if taken {
            return Err(format!("Another snapshot is called \"{name}\""));
        }
        let snapshot = saved
            .slots
            .get_mut(slot)
            .and_then(Option::as_mut)
            .ok_or("That snapshot slot is empty")?;
        snapshot.name = name;
        Ok(())
    }

    /// Replaces a snapshot's note (cut to [`NOTE_MAX_CHARS`]).
    pub fn set_note(&self, slot: usize, note: &str) {
        if let Some(s) = self.lock().slots.get_mut(slot).and_then(Option::as_mut) {
            s.note = note.chars().take(NOTE_MAX_CHARS).collect();
        }
    }

    /// Empties a slot. Deleting the current snapshot leaves the parameters as they are, with
    /// no snapshot current (match gain 0).
    pub fn delete(&self, slot: usize) {
        let mut saved = self.lock();
        if slot >= SNAPSHOT_SLOTS {
            return;
        }
        saved.slots[slot] = None;
        if saved.current == Some(slot) {
            saved.current = None;
            saved.modified = false;
        }
        self.update_gain(&saved);
    }

    /// Called while the session plays (editor thread, a few times per second) with the live
    /// parameter values and the meters' figures since the last store or recall. While the
    /// current snapshot is what the parameters hold, its figures follow the measurement; the
    /// first edit marks it modified.
    pub fn observe(&self, live: &BTreeMap<String, Value>, measured: Option<SnapshotStats>) {
        let mut saved = self.lock();
        let Some(current) = saved.current else { return };
        if saved.modified {
            return;
        }
        let Some(snapshot) = saved.slots[current].as_mut() else {
            return;
        };
        if !values_match(live, &snapshot.params) {
            saved.modified = true;
            return;
        }
        if let Some(stats) = measured.filter(SnapshotStats::is_finite) {
            snapshot.stats = Some(stats);
            self.update_gain(&saved);
        }
    }

    /// The snapshot called `name` (any case), or numbered `name` (1–8).
    pub fn find(&self, name: &str) -> Result<Snapshot, String> {
        find_in(&self.lock(), name)
    }

    /// Restores saved snapshots (a state load), made safe.
    pub fn restore(&self, saved: SavedSnapshots) {
        let saved = saved.sanitized();
        let mut guard = self.lock();
        *guard = saved;
        // A restored session plays its current snapshot at the gain its figures give.
        let gain = guard.current.and(guard.match_gain_db()).unwrap_or(0.0);
        self.match_gain_db.store(gain, Ordering::Relaxed);
        self.restored.store(true, Ordering::Release);
    }

    /// True once after a restore.
    pub fn take_restored(&self) -> bool {
        self.restored.swap(false, Ordering::AcqRel)
    }
}

/// [`SnapshotBank::find`] over saved snapshots (the renderer reads them from a state file).
pub fn find_in(saved: &SavedSnapshots, name: &str) -> Result<Snapshot, String> {
    let name = name.trim();
    let by_number = name
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=SNAPSHOT_SLOTS).contains(n))
        .and_then(|n| saved.slots.get(n - 1).cloned().flatten());
    by_number
        .or_else(|| {
            saved
                .slots
                .iter()
                .flatten()
                .find(|s| s.name.eq_ignore_ascii_case(name))
                .cloned()
        })
        .ok_or_else(|| {
            let names: Vec<String> = saved
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.as_ref().map(|s| format!("{} \"{}\"", i + 1, s.name)))
                .collect();
            if names.is_empty() {
                format!("no snapshot \"{name}\": the state holds no snapshots")
            } else {
                format!(
                    "no snapshot \"{name}\" (the state holds: {})",
                    names.join(", ")
                )
            }
        })
}

/// The `snapshots` persisted field.
#[derive(Debug, Default)]
pub struct PersistedSnapshots(pub Arc<SnapshotBank>);

impl<'a> PersistentField<'a, SavedSnapshots> for PersistedSnapshots {
    fn set(&self, new_value: SavedSnapshots) {
        self.0.restore(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&SavedSnapshots) -> R,
    {
        f(&self.0.saved())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(integrated: f32, gain_over_original: f32) -> SnapshotStats {
        SnapshotStats {
            integrated_lufs: integrated,
            loudness_range_lu: 5.0,
            true_peak_dbtp: -1.0,
            plr_db: -1.0 - integrated,
            gain_over_original_db: gain_over_original,
            measured_seconds: 10.0,
        }
    }

    fn values(drive: f64) -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("lim_drive".to_owned(), serde_json::json!(drive)),
            ("eq_mode".to_owned(), Value::String("minimum_phase".into())),
            ("lim_on".to_owned(), Value::Bool(true)),
        ])
    }

    #[test]
    fn match_gain_turns_each_version_down_to_the_quietest() {
        let bank = SnapshotBank::default();
        bank.store(0, values(0.0), 1, Some(stats(-16.0, 2.0)));
        assert_eq!(bank.match_gain_db(), 0.0, "the only version is the anchor");
        bank.store(3, values(3.0), 2, Some(stats(-13.2, 4.8)));
        // Current: the louder one, 2.8 dB over the anchor.
        assert!((bank.match_gain_db() + 2.8).abs() < 1e-6);
        bank.recall(0).unwrap();
        assert_eq!(bank.match_gain_db(), 0.0);
        bank.recall(3).unwrap();
        assert!((bank.match_gain_db() + 2.8).abs() < 1e-6);
        // Deleting the anchor: the remaining version is its own anchor.
        bank.delete(0);
        assert_eq!(bank.match_gain_db(), 0.0);
        bank.delete(3);
        assert_eq!(bank.saved().current, None);
        assert!(bank.recall(3).is_none());
    }

    #[test]
    fn observe_measures_the_current_version_until_it_is_edited() {
        let bank = SnapshotBank::default();
        bank.store(0, values(0.0), 1, Some(stats(-16.0, 2.0)));
        bank.store(1, values(3.0), 2, None);
        assert_eq!(bank.match_gain_db(), 0.0, "no figures yet: no gain");
        // The recall's float rounding (9000 Hz -> 8999.999) is not an edit.
        let mut live = values(3.0);
        live.insert("lim_drive".into(), serde_json::json!(3.000_001));
        bank.observe(&live, Some(stats(-13.0, 5.0)));
        assert!(!bank.saved().modified);
        assert_eq!(
            bank.saved().slots[1].as_ref().unwrap().stats,
            Some(stats(-13.0, 5.0))
        );
        assert!((bank.match_gain_db() + 3.0).abs() < 1e-6);
        // An edit: modified, figures frozen, gain held (no jump mid-edit).
        bank.observe(&values(4.0), Some(stats(-12.0, 6.0)));
        assert!(bank.saved().modified);
        bank.observe(&values(3.0), Some(stats(-11.0, 7.0)));
        assert_eq!(
            bank.saved().slots[1].as_ref().unwrap().stats,
            Some(stats(-13.0, 5.0))
        );
        assert!((bank.match_gain_db() + 3.0).abs() < 1e-6);
        // Figures that are not finite are never taken.
        bank.recall(1).unwrap();
        bank.observe(&values(3.0), Some(stats(f32::NEG_INFINITY, 5.0)));
        assert_eq!(
            bank.saved().slots[1].as_ref().unwrap().stats,
            Some(stats(-13.0, 5.0))
        );
    }

    #[test]
    fn from_readings_needs_a_finite_measurement_of_three_seconds() {
        let r = |i: f32| ProgramReadings {
            momentary_lufs: i,
            short_term_lufs: i,
            integrated_lufs: i,
            loudness_range_lu: 4.0,
            true_peak_max_dbtp: -1.0,
            sample_peak_dbfs: -1.5,
        };
        let s = SnapshotStats::from_readings(&r(-20.0), &r(-14.0), 3.0).unwrap();
        assert_eq!(s.gain_over_original_db, 6.0);
        assert_eq!(s.plr_db, 13.0);
        assert!(SnapshotStats::from_readings(&r(-20.0), &r(-14.0), 2.9).is_none());
        assert!(SnapshotStats::from_readings(&r(f32::NEG_INFINITY), &r(-14.0), 9.0).is_none());
    }

    #[test]
    fn names_are_unique_bounded_and_found_by_name_or_number() {
        let bank = SnapshotBank::default();
        bank.store(0, values(0.0), 1, None);
        bank.store(1, values(1.0), 1, None);
        assert_eq!(bank.saved().slots[1].as_ref().unwrap().name, "Snapshot 2");
        bank.rename(0, "  Warm  ").unwrap();
        assert_eq!(bank.find("warm").unwrap().name, "Warm");
        assert_eq!(bank.find("2").unwrap().name, "Snapshot 2");
        assert!(bank
            .rename(1, "WARM")
            .unwrap_err()
            .contains("Another snapshot"));
        assert!(bank.rename(1, "   ").is_err());
        assert!(bank.rename(1, &"x".repeat(NAME_MAX_CHARS + 1)).is_err());
        assert!(bank.rename(5, "Empty").is_err());
        let err = bank.find("loud").unwrap_err();
        assert!(
            err.contains("1 \"Warm\"") && err.contains("2 \"Snapshot 2\""),
            "{err}"
        );
        // Storing over a snapshot keeps its name and note.
        bank.set_note(0, "less 200 Hz");
        bank.store(0, values(2.0), 5, None);
        let s = bank.find("1").unwrap();
        assert_eq!((s.name.as_str(), s.note.as_str()), ("Warm", "less 200 Hz"));
        assert_eq!(s.params, values(2.0));
    }

    #[test]
    fn saved_snapshots_round_trip_and_bad_state_is_made_safe() {
        let bank = SnapshotBank::default();
        bank.store(2, values(3.0), 1_764_770_000, Some(stats(-14.0, 3.0)));
        bank.set_note(2, "louder");
        let json = serde_json::to_string(&bank.saved()).unwrap();
        let restored = SnapshotBank::default();
        restored.restore(serde_json::from_str(&json).unwrap());
        assert_eq!(restored.saved(), bank.saved());
        assert!(restored.take_restored() && !restored.take_restored());

        // Too many slots, a current slot that is empty, a blank name, figures that are not finite.
        let mut bad = bank.saved();
        bad.slots.resize(12, None);
        bad.slots[2].as_mut().unwrap().name = " ".into();
        bad.slots[2].as_mut().unwrap().stats = Some(stats(f32::NAN, 0.0));
        bad.current = Some(5);
        restored.restore(bad);
        let s = restored.saved();
        assert_eq!(s.slots.len(), SNAPSHOT_SLOTS);
        assert_eq!(s.current, None);
        assert_eq!(s.slots[2].as_ref().unwrap().name, "Snapshot 3");
        assert_eq!(s.slots[2].as_ref().unwrap().stats, None);
        // An old state has no field at all: serde's defaults.
        let empty: SavedSnapshots = serde_json::from_str("{}").unwrap();
        restored.restore(empty);
        assert_eq!(restored.saved().slots.len(), SNAPSHOT_SLOTS);
    }
}
