//! The plugin state's own fields and its format version: the editor size, the state version and
//! the migration of states saved by older builds (`Plugin::filter_state` and the preset loader
//! call [`migrate_state`] before nice-plug applies a state).

use std::sync::atomic::{AtomicU32, Ordering};

use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};

/// Editor window size in logical pixels, persisted in the plugin state so a session reopens the
/// editor at the size the engineer left it (nice-plug-egui's own editor state is not
/// serialisable, so the plugin keeps its own copy).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EditorSize {
    pub width: u32,
    pub height: u32,
}

impl EditorSize {
    /// Everything visible at 100 % (fits a 1080p screen with room for the host's window frame).
    pub const DEFAULT: EditorSize = EditorSize {
        width: 1280,
        height: 800,
    };
    /// Below this the editor scrolls.
    pub const MIN: EditorSize = EditorSize {
        width: 800,
        height: 520,
    };
    pub const MAX: EditorSize = EditorSize {
        width: 3840,
        height: 2160,
    };

    /// Clamps a size read from a saved state into the supported range, so a corrupt or
    /// hand-edited state cannot open a zero-sized or enormous window.
    pub fn clamped(self) -> Self {
        Self {
            width: self.width.clamp(Self::MIN.width, Self::MAX.width),
            height: self.height.clamp(Self::MIN.height, Self::MAX.height),
        }
    }
}

impl Default for EditorSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The persisted editor size, lock-free. nice-plug may restore a state on the audio thread (a
/// preset loaded from the editor while the host is processing: the wrapper applies it at the end
/// of `process()`), and that restore calls this field's `set`; two atomics cannot block there,
/// where an `RwLock` could. Width and height are stored separately; a reader racing a writer
/// can see a new width with an old height for one frame, which is harmless for a window size.
#[derive(Debug)]
pub struct PersistedEditorSize {
    width: AtomicU32,
    height: AtomicU32,
}

impl PersistedEditorSize {
    pub fn new(size: EditorSize) -> Self {
        Self {
            width: AtomicU32::new(size.width),
            height: AtomicU32::new(size.height),
        }
    }

    pub fn get(&self) -> EditorSize {
        EditorSize {
            width: self.width.load(Ordering::Relaxed),
            height: self.height.load(Ordering::Relaxed),
        }
    }

    pub fn set(&self, size: EditorSize) {
        self.width.store(size.width, Ordering::Relaxed);
        self.height.store(size.height, Ordering::Relaxed);
    }
}

impl Default for PersistedEditorSize {
    fn default() -> Self {
        Self::new(EditorSize::DEFAULT)
    }
}

impl<'a> PersistentField<'a, EditorSize> for PersistedEditorSize {
    fn set(&self, new_value: EditorSize) {
        PersistedEditorSize::set(self, new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&EditorSize) -> R,
    {
        f(&self.get())
    }
}

/// Version of the persisted state format this build writes, in the `state_version` field.
///
/// - **0** (legacy): states saved before the field existed (Fairmaster 0.1.0 up to and including
///   the commit that added `tests/fixtures/state-v0.1.0.bin`). They load as version 0.
/// - **1**: the same parameters and fields as 0, plus `state_version`.
///
/// Bump it when a change needs a migration (a parameter renamed, remapped or given a new
/// meaning) and add the step to [`migrate_state`]; adding a parameter does not need one (a state
/// without it leaves the parameter at its default). Old states must keep loading:
/// `tests/state_compat.rs` loads the committed fixtures.
pub const STATE_VERSION: u32 = 1;

/// Key of the version in the state's persisted fields.
pub const STATE_VERSION_FIELD: &str = "state_version";

/// The `state_version` persisted field. It always *saves* [`STATE_VERSION`] (a state written by
/// this build is in this build's format) and remembers the version of the last state *loaded*
/// (after [`migrate_state`] has marked legacy states as 0). Lock-free, like
/// [`PersistedEditorSize`].
#[derive(Debug)]
pub struct StateVersion {
    loaded: AtomicU32,
}

impl Default for StateVersion {
    fn default() -> Self {
        Self {
            loaded: AtomicU32::new(STATE_VERSION),
        }
    }
}

impl StateVersion {
    /// Format version of the last state loaded into these parameters ([`STATE_VERSION`] if none
    /// was loaded).
    pub fn loaded(&self) -> u32 {
        self.loaded.load(Ordering::Relaxed)
    }
}

impl<'a> PersistentField<'a, u32> for StateVersion {
    fn set(&self, new_value: u32) {
        self.loaded.store(new_value, Ordering::Relaxed);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&u32) -> R,
    {
        f(&STATE_VERSION)
    }
}

/// The format version a state was saved in: its `state_version` field, or 0 (legacy) without
/// one. A field that is not a number (a corrupt state) also reads as 0, the oldest format, so
/// every migration step runs over it (each tolerates values it does not need to change).
pub fn state_version_of(state: &PluginState) -> u32 {
    state
        .fields
        .get(STATE_VERSION_FIELD)
        .and_then(|v| serde_json::from_str::<u32>(v).ok())
        .unwrap_or(0)
}

/// Brings a loaded state to the current format before nice-plug applies it (called from
/// `Plugin::filter_state` and by the offline renderer's state loader).
///
/// Records the version the state was saved in as its `state_version` field, so a legacy state
/// (no field) is marked 0. A state from a *newer* build loads as far as it can: parameters this
/// build does not know are skipped by nice-plug, the ones it knows keep their values (losing a
/// whole session over one new parameter would be worse).
///
/// Migration steps go here, oldest first, each `if version < N { ... }`. Today there are none:
/// version 1 only added the version field.
pub fn migrate_state(state: &mut PluginState) {
    let version = state_version_of(state);
    state
        .fields
        .insert(STATE_VERSION_FIELD.to_string(), version.to_string());
}
