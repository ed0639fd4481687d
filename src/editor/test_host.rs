//! A stand-in for the DAW behind the editor, for tests, benchmarks and headless screenshots:
//! it implements nice-plug's `GuiContextInner` (the trait a plugin wrapper implements for the
//! editor), records every begin / set / end gesture and writes values into the parameters the
//! way a wrapper does. `get_state` / `set_state` keep the plain parameter values.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::PluginApi;
use nice_plug::params::internals::ParamPtr;
use nice_plug::plugin::{ParamValue, PluginState};
use nice_plug::prelude::Params;

use crate::params::FairmasterParams;

/// One host gesture, by parameter ID.
#[derive(Debug, Clone, PartialEq)]
pub enum Gesture {
    Begin(String),
    /// Normalised value.
    Set(String, f32),
    End(String),
}

impl Gesture {
    pub fn id(&self) -> &str {
        match self {
            Gesture::Begin(id) | Gesture::Set(id, _) | Gesture::End(id) => id,
        }
    }
}

pub struct RecordingHost {
    /// Keeps the parameters alive as long as the pointers below are used.
    _params: Arc<FairmasterParams>,
    ids: Vec<(String, ParamPtr)>,
    gestures: Mutex<Vec<Gesture>>,
    /// Parameters inside a begin/end pair, to catch unbalanced gestures.
    open: Mutex<Vec<String>>,
    /// Set calls outside a gesture (a host would not record them for undo).
    pub stray_sets: Mutex<Vec<String>>,
    /// `mark_state_dirty` calls: persisted state that no parameter shows changed.
    dirty_marks: AtomicU32,
}

impl RecordingHost {
    pub fn new(params: Arc<FairmasterParams>) -> Arc<Self> {
        let ids = params
            .param_map()
            .into_iter()
            .map(|(id, ptr, _)| (id, ptr))
            .collect();
        Arc::new(Self {
            _params: params,
            ids,
            gestures: Mutex::new(Vec::new()),
            open: Mutex::new(Vec::new()),
            stray_sets: Mutex::new(Vec::new()),
            dirty_marks: AtomicU32::new(0),
        })
    }

    /// A `GuiContext` for `EditorUi::ui` backed by this host.
    pub fn context(self: &Arc<Self>) -> GuiContext {
        GuiContext::new(self.clone())
    }

    fn id_of(&self, ptr: ParamPtr) -> String {
        self.ids
            .iter()
            .find(|(_, p)| *p == ptr)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| "<unknown>".to_owned())
    }

    fn ptr_of(&self, id: &str) -> Option<ParamPtr> {
        self.ids.iter().find(|(i, _)| i == id).map(|(_, p)| *p)
    }

    /// All gestures so far (and clears the record).
    pub fn take_gestures(&self) -> Vec<Gesture> {
        std::mem::take(&mut *self.gestures.lock().unwrap())
    }

    pub fn gestures(&self) -> Vec<Gesture> {
        self.gestures.lock().unwrap().clone()
    }

    /// The `mark_state_dirty` calls so far (and clears the count).
    pub fn take_dirty_marks(&self) -> u32 {
        self.dirty_marks.swap(0, Ordering::SeqCst)
    }

    /// Parameters with a begin but no end yet.
    pub fn open_gestures(&self) -> Vec<String> {
        self.open.lock().unwrap().clone()
    }

    /// All parameter IDs with their pointers (the host's view of `param_map()`).
    pub fn ids(&self) -> &[(String, ParamPtr)] {
        &self.ids
    }
}

impl GuiContextInner for RecordingHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }

    unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
        let id = self.id_of(param);
        self.open.lock().unwrap().push(id.clone());
        self.gestures.lock().unwrap().push(Gesture::Begin(id));
    }

    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        let id = self.id_of(param);
        if !self.open.lock().unwrap().contains(&id) {
            self.stray_sets.lock().unwrap().push(id.clone());
        }
        // SAFETY: the pointer comes from `param_map()` of the parameters this host keeps alive.
        unsafe {
            param._internal_set_normalized_value(normalized);
        }
        self.gestures
            .lock()
            .unwrap()
            .push(Gesture::Set(id, normalized));
    }

    unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
        let id = self.id_of(param);
        let mut open = self.open.lock().unwrap();
        if let Some(i) = open.iter().position(|o| *o == id) {
            open.remove(i);
        }
        self.gestures.lock().unwrap().push(Gesture::End(id));
    }

    fn get_state(&self) -> PluginState {
        let params: BTreeMap<String, ParamValue> = self
            .ids
            .iter()
            .map(|(id, ptr)| {
                // SAFETY: the pointer comes from `param_map()` of the parameters this host
                // keeps alive.
                let normalized = unsafe { ptr.unmodulated_normalized_value() };
                (id.clone(), ParamValue::F32(normalized))
            })
            .collect();
        PluginState {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            params,
            fields: BTreeMap::new(),
        }
    }

    fn set_state(&self, state: PluginState) {
        for (id, value) in state.params {
            if let (Some(ptr), ParamValue::F32(normalized)) = (self.ptr_of(&id), value) {
                // SAFETY: see above.
                unsafe {
                    ptr._internal_set_normalized_value(normalized);
                }
            }
        }
    }

    fn request_restart(&self) {}

    fn mark_state_dirty(&self) {
        self.dirty_marks.fetch_add(1, Ordering::SeqCst);
    }
}
