//! How plain values become parameter values: the editor writes them as host gestures
//! (`editor/presets.rs`), the offline application and the tests straight into parameters they
//! own ([`DirectWriter`]). Every stage's mapping (`stages::StageParamGroup::write`) goes
//! through it, so a preset means the same in the editor and in `fairmaster-render --preset`.

use nice_plug::params::InternalParamMut;
use nice_plug::prelude::*;

/// Where plain values are written when chain settings become parameters: the editor writes
/// them as host gestures (`editor/presets.rs`), the offline renderer and the tests straight
/// into a [`FairmasterParams`] they own (`presets/param_set.rs`). One mapping serves both, so a
/// factory preset is the same in the editor and in `fairmaster-render --preset`.
pub trait ParamWriter {
    fn float(&mut self, param: &FloatParam, value: f32);
    fn switch(&mut self, param: &BoolParam, value: bool);
    fn choice<T: Enum + PartialEq + 'static>(&mut self, param: &EnumParam<T>, value: T);
}

/// Writes plain values straight into parameters this thread owns (no host, no gestures): the
/// offline renderer's parameter set and the tests. Not for parameters a plugin instance is
/// using (nice-plug's setters are its wrapper's business there).
pub struct DirectWriter;

impl ParamWriter for DirectWriter {
    fn float(&mut self, param: &FloatParam, value: f32) {
        // SAFETY: nice-plug marks the setter internal because a running plugin's parameters
        // belong to its wrapper; `DirectWriter` is only used on parameter sets its caller owns
        // and no host or audio thread sees (the value is an atomic store either way).
        unsafe {
            param._internal_set_plain_value(value);
        }
    }

    fn switch(&mut self, param: &BoolParam, value: bool) {
        // SAFETY: as in `float`.
        unsafe {
            param._internal_set_plain_value(value);
        }
    }

    fn choice<T: Enum + PartialEq + 'static>(&mut self, param: &EnumParam<T>, value: T) {
        // SAFETY: as in `float`.
        unsafe {
            param._internal_set_plain_value(value);
        }
    }
}
