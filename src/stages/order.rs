//! The order of the movable stages: set by the engineer (dragged in the editor's stage strip),
//! saved with the session, presets and snapshots, never automated. Not a host parameter: a
//! permutation has no sensible automation lane, and hosts would show it as a number.

use std::sync::atomic::{AtomicU32, Ordering};

use nice_plug::params::persist::PersistentField;

use super::{Place, StageId};

/// How many stages are movable (the list's `Movable` entries).
pub const MOVABLE_COUNT: usize = count_movable();

const fn count_movable() -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < StageId::ALL.len() {
        if matches!(StageId::ALL[i].place(), Place::Movable) {
            count += 1;
        }
        i += 1;
    }
    count
}

/// The movable stages in the order the signal passes them. Always a permutation of all of
/// them: every way in (saved keys, packed bits, a move) repairs rather than fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageOrder([StageId; MOVABLE_COUNT]);

impl Default for StageOrder {
    /// The list's order (today's: EQ -> compressor -> stereo).
    fn default() -> Self {
        let mut order = [StageId::ALL[0]; MOVABLE_COUNT];
        for (slot, id) in order.iter_mut().zip(movable()) {
            *slot = id;
        }
        Self(order)
    }
}

/// The stages at `place`, in the list's order.
pub fn placed(place: Place) -> impl Iterator<Item = StageId> {
    StageId::ALL
        .iter()
        .copied()
        .filter(move |id| id.place() == place)
}

fn movable() -> impl Iterator<Item = StageId> {
    placed(Place::Movable)
}

/// The movable stage saved as `key` (any case, surrounding spaces ignored).
pub fn movable_from_key(key: &str) -> Option<StageId> {
    movable().find(|id| id.key().eq_ignore_ascii_case(key.trim()))
}

impl StageOrder {
    pub fn as_slice(&self) -> &[StageId] {
        &self.0
    }

    /// Every stage in the order the signal passes them: first, the movable ones in this
    /// order, last.
    pub fn signal_order(&self) -> impl Iterator<Item = StageId> + '_ {
        placed(Place::First)
            .chain(self.0.iter().copied())
            .chain(placed(Place::Last))
    }

    /// From saved keys: the known movable stages in the saved order, then any stage the saved
    /// order lacks (a state from before that stage existed) in its default place. Unknown keys
    /// (a newer build's stage), duplicates and fixed stages are skipped.
    pub fn from_keys<S: AsRef<str>>(keys: &[S]) -> Self {
        let named = keys.iter().filter_map(|key| movable_from_key(key.as_ref()));
        Self::from_ids(named.chain(movable()))
    }

    /// The first occurrence of each movable stage in `ids`, in that order (the rest of a full
    /// order is expected to follow, as in `from_keys`).
    fn from_ids(ids: impl Iterator<Item = StageId>) -> Self {
        let mut order = Self::default();
        let mut filled = 0;
        for id in ids {
            if filled == MOVABLE_COUNT {
                break;
            }
            if id.place() == Place::Movable && !order.0[..filled].contains(&id) {
                order.0[filled] = id;
                filled += 1;
            }
        }
        order
    }

    /// The saved form: the stages' keys in order.
    pub fn keys(&self) -> Vec<String> {
        self.0.iter().map(|id| id.key().to_owned()).collect()
    }

    /// `stage` moved to position `to` (clamped), the others keeping their relative order.
    pub fn moved(&self, stage: StageId, to: usize) -> Self {
        if stage.place() != Place::Movable {
            return *self;
        }
        let rest = self.0.iter().copied().filter(|&id| id != stage);
        let to = to.min(MOVABLE_COUNT - 1);
        let mut ids = [stage; MOVABLE_COUNT];
        for (i, id) in rest.enumerate() {
            ids[if i < to { i } else { i + 1 }] = id;
        }
        Self::from_ids(ids.into_iter().chain(movable()))
    }

    /// Four bits per stage (its index in the list), for a lock-free atomic.
    fn pack(&self) -> u32 {
        const { assert!(MOVABLE_COUNT <= 8 && StageId::ALL.len() <= 16) };
        self.0.iter().enumerate().fold(0, |bits, (i, id)| {
            let index = StageId::ALL.iter().position(|s| s == id).unwrap_or(0) as u32;
            bits | (index << (4 * i))
        })
    }

    fn unpack(bits: u32) -> Self {
        let ids = (0..MOVABLE_COUNT).filter_map(|i| {
            let index = ((bits >> (4 * i)) & 0xF) as usize;
            StageId::ALL.get(index).copied()
        });
        Self::from_ids(ids.chain(movable()))
    }
}

/// The `stage_order` persisted field: an atomic, because the audio thread reads it every
/// block (`FairmasterParams::chain_settings`) and nice-plug may restore a state on the audio
/// thread. Saved as the stages' keys, e.g. `["eq","compressor","stereo"]`.
#[derive(Debug)]
pub struct PersistedStageOrder(AtomicU32);

impl Default for PersistedStageOrder {
    fn default() -> Self {
        Self(AtomicU32::new(StageOrder::default().pack()))
    }
}

impl PersistedStageOrder {
    pub fn get(&self) -> StageOrder {
        StageOrder::unpack(self.0.load(Ordering::Relaxed))
    }

    pub fn set(&self, order: StageOrder) {
        self.0.store(order.pack(), Ordering::Relaxed);
    }
}

impl<'a> PersistentField<'a, Vec<String>> for PersistedStageOrder {
    fn set(&self, keys: Vec<String>) {
        PersistedStageOrder::set(self, StageOrder::from_keys(&keys));
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Vec<String>) -> R,
    {
        f(&self.get().keys())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(ids: &[StageId]) -> StageOrder {
        StageOrder::from_ids(ids.iter().copied())
    }

    #[test]
    fn default_order_is_todays() {
        assert_eq!(
            StageOrder::default().as_slice(),
            [
                StageId::Eq,
                StageId::Compressor,
                StageId::Stereo,
                StageId::Multiband,
                StageId::Elliptical,
                StageId::HfLimiter
            ]
        );
    }

    #[test]
    fn saved_keys_round_trip_and_bad_ones_are_repaired() {
        let custom = order(&[StageId::Stereo, StageId::Eq, StageId::Compressor]);
        assert_eq!(StageOrder::from_keys(&custom.keys()), custom);
        // Unknown, duplicate, fixed and missing stages: the known ones keep their order, the
        // missing one follows in its default place.
        let repaired = StageOrder::from_keys(&["clipper", "stereo", "limiter", "stereo", "eq"]);
        assert_eq!(
            repaired.as_slice(),
            [
                StageId::Stereo,
                StageId::Eq,
                StageId::Compressor,
                StageId::Multiband,
                StageId::Elliptical,
                StageId::HfLimiter
            ]
        );
        assert_eq!(StageOrder::from_keys::<&str>(&[]), StageOrder::default());
    }

    #[test]
    fn every_order_survives_the_atomic() {
        let field = PersistedStageOrder::default();
        assert_eq!(field.get(), StageOrder::default());
        let all = [StageId::Eq, StageId::Compressor, StageId::Stereo];
        for a in all {
            for b in all {
                for c in all {
                    if a != b && b != c && a != c {
                        let o = order(&[a, b, c]);
                        field.set(o);
                        assert_eq!(field.get(), o);
                    }
                }
            }
        }
    }

    #[test]
    fn a_move_keeps_the_others_in_order() {
        let o = StageOrder::default();
        assert_eq!(
            o.moved(StageId::Stereo, 0).as_slice(),
            [
                StageId::Stereo,
                StageId::Eq,
                StageId::Compressor,
                StageId::Multiband,
                StageId::Elliptical,
                StageId::HfLimiter
            ]
        );
        assert_eq!(
            o.moved(StageId::Eq, 2).as_slice(),
            [
                StageId::Compressor,
                StageId::Stereo,
                StageId::Eq,
                StageId::Multiband,
                StageId::Elliptical,
                StageId::HfLimiter
            ]
        );
        assert_eq!(o.moved(StageId::Eq, 99), o.moved(StageId::Eq, 5));
        // A saved order from before the vinyl stages (issue 29) gets them in their default
        // place: after the four it names, elliptical EQ then HF limiter.
        let old = StageOrder::from_keys(&["stereo", "eq", "compressor", "multiband"]);
        assert_eq!(
            &old.as_slice()[4..],
            [StageId::Elliptical, StageId::HfLimiter]
        );
        // A fixed stage cannot be moved in.
        assert_eq!(o.moved(StageId::Limiter, 0), o);
    }
}
