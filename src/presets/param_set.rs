//! Where the offline renderer's chain settings come from: a built-in preset, a preset file, a
//! plugin state saved by the DAW, and `--set ID=VALUE` flags.
//!
//! All of them are applied to a real [`FairmasterParams`] by *parameter ID* (the stable IDs of
//! saved sessions, listed in the README) and the chain settings are then read with
//! `FairmasterParams::chain_settings()`, the exact mapping the plugin uses in `process()`. So a
//! value means the same here as in the DAW (same ranges, same clamping of out-of-range values,
//! same enum IDs) and there is no second settings format to keep in sync.
//!
//! # Preset file format (JSON)
//!
//! ```json
//! {
//!   "fairmaster_preset": 1,
//!   "name": "Gentle glue",
//!   "base": "reference",
//!   "params": {
//!     "comp_on": true,
//!     "comp_threshold": -18.0,
//!     "comp_ratio": 1.5,
//!     "eq_mode": "linear_phase",
//!     "lim_drive": 3.0
//!   }
//! }
//! ```
//!
//! * `fairmaster_preset`: format version, must be 1.
//! * `name`: optional, shown in the report.
//! * `base`: optional built-in preset the file starts from: a factory preset of the editor
//!   (`"reference"`, `"streaming"`, ... see `presets::FACTORY`) or `"plugin-default"` (a fresh
//!   plugin insert: limiter only). Default `"plugin-default"`.
//! * `params`: parameter ID -> plain value: a number in the parameter's unit (dB, Hz, ms, ratio;
//!   percentages as fractions, 1.2 = 120 %), `true`/`false` for switches, the choice's ID string
//!   for choices (`"linear_phase"`, `"24"`, `"mid"`, ...). nice-plug's tagged form
//!   (`{"f32": 3.0}`, `{"bool": true}`, `{"string": "mid"}`) is accepted too, so the `params` of
//!   a saved plugin state can be pasted in. Unknown IDs and wrong value types are errors.
//!   `"stage_order": ["compressor", "eq", "stereo"]` sets the order of the movable stages (not
//!   a parameter; a stage left out keeps its default place after the named ones).
//!
//! # User presets saved by the editor
//!
//! The editor's "Save" writes the full plugin state as JSON (below, without the length
//! header). `--preset FILE` takes such a file as it is: a file without `"fairmaster_preset"`
//! but with nice-plug's `"params"` is loaded exactly as `--state` loads it.
//!
//! # Plugin state saved by the DAW
//!
//! nice-plug's state chunk: the JSON object `{"version": ..., "params": {...}, "fields": {...}}`,
//! either raw or with the 8-byte little-endian length header of the CLAP state stream. Loaded
//! like the plugin loads it (unknown IDs ignored, as nice-plug does).

use std::collections::BTreeMap;
use std::path::Path;

use nice_plug::params::InternalParamMut;
use nice_plug::plugin::{ParamValue, PluginState};
use nice_plug::prelude::{Param, ParamPtr, Params};
use serde_json::Value;

use crate::ab::AbSettings;
use crate::files::FileError;
use crate::params::writer::{DirectWriter, ParamWriter};
use crate::params::{FairmasterParams, LISTENING_PARAM_IDS};
use crate::presets::{factory_preset, FACTORY};
use crate::snapshots::Snapshot;
use crate::stages::ChainSettings;
use crate::stages::{movable_from_key, StageOrder};

/// The built-in preset that is not a factory preset: a fresh plugin insert (limiter only).
pub const PLUGIN_DEFAULT: &str = "plugin-default";

/// True if `name` is a built-in preset: [`PLUGIN_DEFAULT`] or a factory preset of the editor
/// (by id or display name, see [`crate::presets::factory_preset`]).
pub fn is_builtin_preset(name: &str) -> bool {
    name == PLUGIN_DEFAULT || factory_preset(name).is_some()
}

/// The names `--preset` accepts, for messages and `--help`.
pub fn builtin_preset_names() -> String {
    std::iter::once(PLUGIN_DEFAULT)
        .chain(FACTORY.iter().map(|p| p.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plugin parameter set being assembled from presets, states and flags.
pub struct ParamSet {
    params: FairmasterParams,
    /// Parameter ID -> pointer into `params` (valid as long as `params` lives, which is as long
    /// as `self`: the struct owns both and never moves `params` out).
    map: Vec<(String, ParamPtr)>,
    /// Where the settings came from, for the report.
    pub source: String,
}

impl ParamSet {
    /// A fresh plugin insert: every parameter at its default.
    pub fn plugin_default() -> Box<Self> {
        // Boxed so `params` has a stable address for the pointers in `map`.
        let mut set = Box::new(Self {
            params: FairmasterParams::default(),
            map: Vec::new(),
            source: "plugin-default".into(),
        });
        set.map = set
            .params
            .param_map()
            .into_iter()
            .map(|(id, ptr, _group)| (id, ptr))
            .collect();
        set
    }

    /// A built-in preset by name: [`PLUGIN_DEFAULT`] or one of the editor's factory presets,
    /// written into the parameters by the same mapping the editor uses
    /// ([`FairmasterParams::write_chain_settings`]), target included.
    pub fn builtin(name: &str) -> Result<Box<Self>, FileError> {
        let mut set = Self::plugin_default();
        if name == PLUGIN_DEFAULT {
            return Ok(set);
        }
        let preset = factory_preset(name).ok_or_else(|| {
            FileError::new(format!(
                "unknown built-in preset '{name}' (built-in: {})",
                builtin_preset_names()
            ))
        })?;
        set.params
            .write_chain_settings(&(preset.settings)(), &mut DirectWriter);
        if let Some(target) = preset.target {
            DirectWriter.choice(&set.params.target, target);
        }
        set.source = preset.id.into();
        Ok(set)
    }

    /// A preset file in the format documented at the top of this file.
    pub fn from_preset_file(path: &Path) -> Result<Box<Self>, FileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| FileError::file(path, format!("cannot read preset: {e}")))?;
        Self::from_preset_json(&text).map_err(|reason| FileError::file(path, reason))
    }

    /// Parses a preset (see the module docs); errors are plain reasons.
    pub fn from_preset_json(text: &str) -> Result<Box<Self>, String> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| format!("preset is not valid JSON: {e}"))?;
        let object = json
            .as_object()
            .ok_or("preset must be a JSON object with \"fairmaster_preset\" and \"params\"")?;
        if !object.contains_key("fairmaster_preset") && object.contains_key("params") {
            // A user preset saved by the editor: the plugin's own state format.
            let state: PluginState = serde_json::from_value(json)
                .map_err(|e| format!("not a Fairmaster user preset (nice-plug JSON): {e}"))?;
            let mut set = Self::from_state(state)?;
            set.source = "user preset".into();
            return Ok(set);
        }
        match object.get("fairmaster_preset").and_then(Value::as_u64) {
            Some(1) => {}
            Some(v) => {
                return Err(format!(
                    "unsupported preset format version {v} (expected 1)"
                ))
            }
            None => return Err("not a Fairmaster preset: missing \"fairmaster_preset\": 1".into()),
        }
        let base = match object.get("base") {
            None => "plugin-default",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err("\"base\" must be a string".into()),
        };
        let mut set = Self::builtin(base).map_err(|e| e.reason)?;
        let params = match object.get("params") {
            Some(Value::Object(p)) => p,
            Some(_) => return Err("\"params\" must be an object of parameter ID -> value".into()),
            None => return Err("missing \"params\"".into()),
        };
        for (id, value) in params {
            set.set_json(id, value)?;
        }
        set.source = match object.get("name").and_then(Value::as_str) {
            Some(name) => format!("preset '{name}'"),
            None => "preset file".into(),
        };
        Ok(set)
    }

    /// A plugin state chunk saved by the DAW (raw JSON or with the CLAP length header).
    pub fn from_state_file(path: &Path) -> Result<Box<Self>, FileError> {
        let bytes = std::fs::read(path)
            .map_err(|e| FileError::file(path, format!("cannot read plugin state: {e}")))?;
        let mut set =
            Self::from_state_bytes(&bytes).map_err(|reason| FileError::file(path, reason))?;
        set.source = format!("plugin state {}", path.display());
        Ok(set)
    }

    pub fn from_state_bytes(bytes: &[u8]) -> Result<Box<Self>, String> {
        let body = strip_clap_length_header(bytes);
        let state: PluginState = serde_json::from_slice(body)
            .map_err(|e| format!("not a Fairmaster plugin state (nice-plug JSON): {e}"))?;
        Self::from_state(state)
    }

    /// Applies a parsed plugin state the way the plugin loads it.
    fn from_state(mut state: PluginState) -> Result<Box<Self>, String> {
        // The same migration the plugin applies when a host loads the state.
        crate::params::state::migrate_state(&mut state);
        let mut set = Self::plugin_default();
        for (id, value) in &state.params {
            // As nice-plug's own loader: unknown IDs (a newer or older version) are skipped.
            let Some(ptr) = set.find(id) else { continue };
            apply_param_value(id, ptr, value)?;
        }
        set.params.deserialize_fields(&state.fields);
        set.source = "plugin state".into();
        Ok(set)
    }

    fn find(&self, id: &str) -> Option<ParamPtr> {
        self.map.iter().find(|(i, _)| i == id).map(|(_, p)| *p)
    }

    /// Sets one parameter from text (`--set ID=VALUE`): a number, `true`/`false`/`on`/`off`, or
    /// a choice ID.
    pub fn set_text(&mut self, id: &str, text: &str) -> Result<(), String> {
        if id == STAGE_ORDER_KEY {
            let keys: Vec<&str> = text.split(',').collect();
            return self.set_stage_order(&keys);
        }
        let ptr = self.find(id).ok_or_else(|| unknown_id(id))?;
        let value = match ptr {
            ParamPtr::FloatParam(_) | ParamPtr::IntParam(_) => {
                let v: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("parameter '{id}' needs a number, got '{text}'"))?;
                serde_json::json!(v)
            }
            ParamPtr::BoolParam(_) => match text.trim() {
                "true" | "on" | "1" => Value::Bool(true),
                "false" | "off" | "0" => Value::Bool(false),
                _ => return Err(format!("parameter '{id}' needs true/false, got '{text}'")),
            },
            ParamPtr::EnumParam(_) => Value::String(text.trim().to_string()),
        };
        self.set_json(id, &value)
    }

    /// Sets one parameter from a JSON value (plain or nice-plug tagged).
    pub fn set_json(&mut self, id: &str, value: &Value) -> Result<(), String> {
        if id == STAGE_ORDER_KEY {
            let keys = match value {
                Value::Array(keys) => keys.iter().map(Value::as_str).collect::<Option<Vec<_>>>(),
                _ => None,
            }
            .ok_or_else(|| format!("'{STAGE_ORDER_KEY}' needs a list of stage names"))?;
            return self.set_stage_order(&keys);
        }
        let ptr = self.find(id).ok_or_else(|| unknown_id(id))?;
        let value = untag(value);
        let param_value = match (ptr, value) {
            (ParamPtr::FloatParam(_), Value::Number(n)) => {
                ParamValue::F32(n.as_f64().unwrap_or(f64::NAN) as f32)
            }
            (ParamPtr::IntParam(_), Value::Number(n)) => ParamValue::I32(
                n.as_i64()
                    .and_then(|v| i32::try_from(v).ok())
                    .ok_or_else(|| format!("parameter '{id}' needs an integer"))?,
            ),
            (ParamPtr::BoolParam(_), Value::Bool(b)) => ParamValue::Bool(*b),
            (ParamPtr::EnumParam(_), Value::String(s)) => ParamValue::String(s.clone()),
            (ParamPtr::FloatParam(_) | ParamPtr::IntParam(_), other) => {
                return Err(format!("parameter '{id}' needs a number, got {other}"))
            }
            (ParamPtr::BoolParam(_), other) => {
                return Err(format!("parameter '{id}' needs true or false, got {other}"))
            }
            (ParamPtr::EnumParam(_), other) => {
                return Err(format!(
                    "parameter '{id}' needs a choice ID string, got {other}"
                ))
            }
        };
        apply_param_value(id, ptr, &param_value)
    }

    /// Applies a snapshot's or preset's parameter values (plain, the preset format's
    /// `params`). IDs this build does not know are skipped, as a state load skips them (a
    /// snapshot saved by a newer version still recalls what it can); a known ID with a value
    /// of the wrong kind is an error.
    pub fn apply_values(&mut self, values: &BTreeMap<String, Value>) -> Result<(), String> {
        for (id, value) in values {
            if self.find(id).is_some() || id == STAGE_ORDER_KEY {
                self.set_json(id, value)?;
            }
        }
        Ok(())
    }

    /// Sets the order of the movable stages from their keys (`"eq"`, `"compressor"`,
    /// `"stereo"`, ...). A stage left out keeps its default place after the named ones; a name
    /// that is no movable stage is an error (a typo should not pass silently).
    fn set_stage_order<S: AsRef<str>>(&mut self, keys: &[S]) -> Result<(), String> {
        if let Some(bad) = keys.iter().find(|k| movable_from_key(k.as_ref()).is_none()) {
            let movable: Vec<&str> = StageOrder::default()
                .as_slice()
                .iter()
                .map(|s| s.key())
                .collect();
            return Err(format!(
                "'{}' is not a movable stage (movable: {})",
                bad.as_ref(),
                movable.join(", ")
            ));
        }
        self.params.stage_order.set(StageOrder::from_keys(keys));
        Ok(())
    }

    /// The normalised value of every parameter in `ids` that exists, in the host's terms (what
    /// a recall sends the host for each parameter).
    pub fn normalized_values<'a>(
        &self,
        ids: impl Iterator<Item = &'a String>,
    ) -> Vec<(String, f32)> {
        ids.filter_map(|id| {
            let ptr = self.find(id)?;
            // SAFETY: `ptr` points into `self.params`, owned by this boxed set and alive for
            // the call; nothing writes to it concurrently (`&self`).
            Some((id.clone(), unsafe { ptr.unmodulated_normalized_value() }))
        })
        .collect()
    }

    /// A plain value (the preset format's) as nice-plug's tagged state value for parameter
    /// `id`, by the parameter's kind; `None` for an unknown ID or a value of the wrong kind.
    pub fn param_value_of(&self, id: &str, value: &Value) -> Option<ParamValue> {
        Some(match (self.find(id)?, untag(value)) {
            (ParamPtr::FloatParam(_), Value::Number(n)) => ParamValue::F32(n.as_f64()? as f32),
            (ParamPtr::IntParam(_), Value::Number(n)) => {
                ParamValue::I32(i32::try_from(n.as_i64()?).ok()?)
            }
            (ParamPtr::BoolParam(_), Value::Bool(b)) => ParamValue::Bool(*b),
            (ParamPtr::EnumParam(_), Value::String(s)) => ParamValue::String(s.clone()),
            _ => return None,
        })
    }

    /// Every parameter ID, for `--help` and error messages.
    pub fn ids(&self) -> Vec<&str> {
        self.map.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// The chain settings, through the plugin's own mapping.
    pub fn chain_settings(&self) -> ChainSettings {
        self.params.chain_settings()
    }

    /// A/B settings for the engine. Offline renders always output the master (A), and the
    /// host's bypass switch does not apply to a render.
    pub fn ab_settings(&self) -> AbSettings {
        AbSettings {
            listen_original: false,
            host_bypass: false,
            ..self.params.ab_settings()
        }
    }

    pub fn params(&self) -> &FairmasterParams {
        &self.params
    }
}

/// The plain value of every parameter but the listening controls
/// ([`crate::params::LISTENING_PARAM_IDS`]), in the preset format's `params` form: a number in
/// the parameter's unit, `true`/`false`, or a choice's ID. What a snapshot stores, and what
/// [`ParamSet::apply_values`] reads back.
pub fn version_values(params: &FairmasterParams) -> BTreeMap<String, Value> {
    let order = params.stage_order.get().keys();
    let order = (STAGE_ORDER_KEY.to_owned(), serde_json::json!(order));
    params
        .param_map()
        .into_iter()
        .filter(|(id, _, _)| !LISTENING_PARAM_IDS.contains(&id.as_str()))
        .map(|(id, ptr, _)| {
            // SAFETY: `ptr` comes from `params.param_map()` and `params` is borrowed for the
            // whole call; reading a value only loads the parameter's atomics.
            let value = unsafe {
                match ptr {
                    ParamPtr::FloatParam(p) => {
                        serde_json::json!(f64::from((*p).unmodulated_plain_value()))
                    }
                    ParamPtr::IntParam(p) => serde_json::json!((*p).unmodulated_plain_value()),
                    ParamPtr::BoolParam(p) => Value::Bool((*p).unmodulated_plain_value()),
                    ParamPtr::EnumParam(p) => match (*p).unmodulated_plain_id() {
                        Some(choice) => Value::String(choice.to_owned()),
                        None => serde_json::json!((*p).unmodulated_plain_value()),
                    },
                }
            };
            (id, value)
        })
        .chain(std::iter::once(order))
        .collect()
}

/// The stage order's key among a version's values and in the plugin state's fields (the same
/// name as the persisted field): `["eq", "compressor", "stereo"]`, a list of stage keys.
pub const STAGE_ORDER_KEY: &str = "stage_order";

fn unknown_id(id: &str) -> String {
    format!("unknown parameter ID '{id}' (the README lists the parameter IDs)")
}

/// `{"f32": 3.0}` -> `3.0` etc. (nice-plug's externally tagged `ParamValue`).
fn untag(value: &Value) -> &Value {
    if let Value::Object(map) = value {
        if map.len() == 1 {
            for key in ["f32", "i32", "bool", "string"] {
                if let Some(inner) = map.get(key) {
                    return inner;
                }
            }
        }
    }
    value
}

/// Applies a plain value the way nice-plug's state loader does (`wrapper/state.rs`).
fn apply_param_value(id: &str, ptr: ParamPtr, value: &ParamValue) -> Result<(), String> {
    // SAFETY: `ptr` comes from `param_map()` of the `FairmasterParams` owned by the same boxed
    // `ParamSet`, which outlives this call; nothing else accesses the parameters concurrently.
    unsafe {
        match (ptr, value) {
            (ParamPtr::FloatParam(p), ParamValue::F32(v)) => {
                if !v.is_finite() {
                    return Err(format!("parameter '{id}' value is not a finite number"));
                }
                (*p)._internal_set_plain_value(*v);
            }
            (ParamPtr::IntParam(p), ParamValue::I32(v)) => {
                (*p)._internal_set_plain_value(*v);
            }
            (ParamPtr::BoolParam(p), ParamValue::Bool(v)) => {
                (*p)._internal_set_plain_value(*v);
            }
            (ParamPtr::EnumParam(p), ParamValue::I32(index)) => {
                (*p)._internal_set_plain_value(*index);
            }
            (ParamPtr::EnumParam(p), ParamValue::String(choice)) => {
                if !(*p).set_from_id(choice) {
                    return Err(format!("parameter '{id}' has no choice '{choice}'"));
                }
            }
            (_, other) => return Err(format!("parameter '{id}' cannot take {other:?}")),
        }
    }
    Ok(())
}

/// Whether two chain settings are equal up to the float rounding of parameter values (the
/// plugin maps values through their normalised range, which moves a skewed frequency by an
/// f32 ulp: 9000 Hz may come back as 8999.999): every number agrees to 6 significant digits,
/// every switch and choice exactly.
pub fn settings_approx_eq(a: &ChainSettings, b: &ChainSettings) -> bool {
    fn canonical(s: &ChainSettings) -> String {
        let text = format!("{s:?}");
        let mut out = String::new();
        let mut number = String::new();
        let flush = |number: &mut String, out: &mut String| {
            if !number.is_empty() {
                match number.parse::<f64>() {
                    Ok(v) => out.push_str(&format!("{v:.5e}")),
                    Err(_) => out.push_str(number),
                }
                number.clear();
            }
        };
        for ch in text.chars() {
            let continues_number = ch.is_ascii_digit()
                || ch == '.'
                || (ch == '-' && number.is_empty())
                || ((ch == 'e' || ch == 'E') && !number.is_empty());
            if continues_number {
                number.push(ch);
            } else {
                flush(&mut number, &mut out);
                out.push(ch);
            }
        }
        flush(&mut number, &mut out);
        out
    }
    canonical(a) == canonical(b)
}

/// The CLAP state stream starts with the JSON length as a little-endian u64; VST3 chunks and
/// hand-saved files are raw JSON.
fn strip_clap_length_header(bytes: &[u8]) -> &[u8] {
    if bytes.len() > 8 {
        let len = u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
        if len == (bytes.len() - 8) as u64 {
            return &bytes[8..];
        }
    }
    bytes
}

/// A snapshot as a user preset: the editor's own preset format (nice-plug's state JSON, which
/// the editor's *Load* and `fairmaster-render --preset FILE` read), holding the snapshot's
/// parameters only, so loading it leaves the listening controls, references and snapshots of
/// the session alone. Parameters this build does not know are left out.
pub fn snapshot_as_preset(snapshot: &Snapshot) -> PluginState {
    let kinds = ParamSet::plugin_default();
    let params = snapshot
        .params
        .iter()
        .filter_map(|(id, value)| Some((id.clone(), kinds.param_value_of(id, value)?)))
        .collect::<BTreeMap<String, ParamValue>>();
    // The stage order travels as the persisted field it is in a state.
    let fields = snapshot
        .params
        .get(STAGE_ORDER_KEY)
        .map(|order| (STAGE_ORDER_KEY.to_owned(), order.to_string()))
        .into_iter()
        .collect();
    PluginState {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        params,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::reference_master;

    #[test]
    fn the_stage_order_travels_in_presets_flags_snapshots_and_states() {
        use crate::stages::StageId;
        let compressor_first = [
            StageId::Compressor,
            StageId::Eq,
            StageId::Stereo,
            StageId::Multiband,
            StageId::Elliptical,
            StageId::HfLimiter,
        ];
        // The preset format: "stage_order" among the params; a stage left out keeps its place.
        let set = ParamSet::from_preset_json(
            r#"{"fairmaster_preset": 1, "params": {"stage_order": ["compressor"]}}"#,
        )
        .unwrap();
        assert_eq!(set.chain_settings().order.as_slice(), compressor_first);
        // A typo is an error, not a silent default order.
        let error = ParamSet::from_preset_json(
            r#"{"fairmaster_preset": 1, "params": {"stage_order": ["compresor"]}}"#,
        )
        .err()
        .unwrap();
        assert!(
            error.contains("compresor") && error.contains("movable"),
            "{error}"
        );
        // `--set stage_order=...`.
        let mut flagged = ParamSet::plugin_default();
        flagged
            .set_text(STAGE_ORDER_KEY, "compressor,eq,stereo")
            .unwrap();
        assert_eq!(flagged.chain_settings().order.as_slice(), compressor_first);
        // A snapshot's values hold the order and give it back.
        let values = version_values(set.params());
        assert_eq!(
            values[STAGE_ORDER_KEY],
            serde_json::json!([
                "compressor",
                "eq",
                "stereo",
                "multiband",
                "elliptical",
                "hf_limiter"
            ])
        );
        let mut recalled = ParamSet::plugin_default();
        recalled.apply_values(&values).unwrap();
        assert_eq!(recalled.chain_settings().order.as_slice(), compressor_first);
        // Exported as a user preset, it is the state's field, which a state load restores.
        let snapshot = Snapshot {
            name: "glue first".into(),
            note: String::new(),
            stored_unix_seconds: 0,
            params: values,
            stats: None,
        };
        let state = serde_json::to_vec(&snapshot_as_preset(&snapshot)).unwrap();
        let loaded = ParamSet::from_state_bytes(&state).unwrap();
        assert_eq!(loaded.chain_settings().order.as_slice(), compressor_first);
    }

    #[test]
    fn plugin_default_equals_fresh_plugin() {
        let set = ParamSet::plugin_default();
        assert_eq!(
            set.chain_settings(),
            FairmasterParams::default().chain_settings()
        );
    }

    #[test]
    fn every_factory_preset_is_a_builtin_with_exactly_its_settings_and_target() {
        for preset in FACTORY.iter() {
            for name in [preset.id, preset.name, &preset.name.to_uppercase()] {
                assert!(is_builtin_preset(name), "{name}");
                let set = ParamSet::builtin(name).unwrap();
                assert_eq!(set.chain_settings(), (preset.settings)(), "{name}");
                if let Some(target) = preset.target {
                    assert!(set.params().target.value() == target, "{name}: target");
                }
            }
        }
        assert!(builtin_preset_names().contains("streaming"));
        let err = ParamSet::builtin("deafening").err().unwrap().reason;
        assert!(err.contains("plugin-default, neutral, streaming"), "{err}");
    }

    #[test]
    fn reference_preset_maps_to_reference_master() {
        let got = ParamSet::builtin("reference").unwrap().chain_settings();
        let want = reference_master(false);
        assert!(settings_approx_eq(&got, &want), "{got:?}\n!=\n{want:?}");
        // The comparison does see a real difference.
        let mut other = want;
        other.eq.bells[0].freq_hz = 301.0;
        assert!(!settings_approx_eq(&got, &other));
        other = want;
        other.stereo.mono_bass_enabled = false;
        assert!(!settings_approx_eq(&got, &other));
    }

    #[test]
    fn preset_json_overrides_base_and_rejects_unknown_ids() {
        let set = ParamSet::from_preset_json(
            r#"{"fairmaster_preset": 1, "base": "reference",
                "params": {"lim_drive": 7.5, "eq_mode": {"string": "linear_phase"},
                           "comp_on": {"bool": false}}}"#,
        )
        .unwrap();
        let s = set.chain_settings();
        assert_eq!(s.limiter.drive_db, 7.5);
        assert!(s.eq_linear_phase);
        assert!(!s.compressor.enabled);
        assert_eq!(s.input_gain_db, 3.0, "base preset kept");

        let err =
            ParamSet::from_preset_json(r#"{"fairmaster_preset": 1, "params": {"lim_driv": 7.5}}"#)
                .err()
                .unwrap();
        assert!(err.contains("lim_driv"), "{err}");
        let err =
            ParamSet::from_preset_json(r#"{"fairmaster_preset": 1, "params": {"eq_mode": "x"}}"#)
                .err()
                .unwrap();
        assert!(err.contains("eq_mode") && err.contains("'x'"), "{err}");
        assert!(ParamSet::from_preset_json("{}").is_err());
    }

    #[test]
    fn out_of_range_values_are_clamped_like_the_plugin() {
        let mut set = ParamSet::plugin_default();
        set.set_text("lim_drive", "100").unwrap();
        set.set_text("lim_ceiling", "-40").unwrap();
        let s = set.chain_settings();
        assert_eq!(s.limiter.drive_db, 24.0);
        assert_eq!(s.limiter.ceiling_db, -12.0);
        assert!(set.set_text("lim_on", "maybe").is_err());
        assert!(set.set_text("lim_drive", "loud").is_err());
    }

    #[test]
    fn state_with_and_without_clap_header_loads() {
        let json = br#"{"version":"0.1.0","params":{"input_gain":{"f32":-4.5},"eq_mode":{"string":"linear_phase"},"eq_on":{"bool":true},"unknown_future":{"f32":1.0}},"fields":{}}"#;
        for bytes in [json.to_vec(), {
            let mut b = (json.len() as u64).to_le_bytes().to_vec();
            b.extend_from_slice(json);
            b
        }] {
            let s = ParamSet::from_state_bytes(&bytes).unwrap().chain_settings();
            assert_eq!(s.input_gain_db, -4.5);
            assert!(s.eq_enabled && s.eq_linear_phase);
        }
        assert!(ParamSet::from_state_bytes(b"not a state").is_err());
    }
}
