//! The dynamic part of a shelf's or bell's host parameters (issue 28, part 2), kept apart from
//! the static band parameters in `params.rs`. Nested without a prefix of its own, so the IDs
//! continue the band's: `eq_b1_dyn`, `eq_b1_dyn_thresh`, `eq_b1_dyn_range`, `eq_b1_dyn_ratio`,
//! `eq_b1_dyn_attack`, `eq_b1_dyn_release`, `eq_b1_dyn_det_follow`, `eq_b1_dyn_det_freq`
//! (and `eq_ls_...`, `eq_hs_...` for the shelves).

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::filters::eq;
use crate::dsp::util::range::Range;
use crate::params::text::{
    freq_param, gain_db_param, in_range, ms_param, parse_ratio, skewed_param, switch_param,
};
use crate::params::writer::ParamWriter;

#[derive(Params)]
pub struct DynamicParams {
    #[id = "dyn"]
    pub enabled: BoolParam,
    #[id = "dyn_thresh"]
    pub threshold: FloatParam,
    #[id = "dyn_range"]
    pub range: FloatParam,
    #[id = "dyn_ratio"]
    pub ratio: FloatParam,
    #[id = "dyn_attack"]
    pub attack: FloatParam,
    #[id = "dyn_release"]
    pub release: FloatParam,
    #[id = "dyn_det_follow"]
    pub detector_follows: BoolParam,
    #[id = "dyn_det_freq"]
    pub detector_freq: FloatParam,
}

/// "4.0:1", and "∞:1" at the top of the range (which the DSP treats as ∞). Just under the top
/// more decimals are shown, as many as it takes not to read as the top's number (which would
/// parse back as ∞).
fn ratio_text(value: f32) -> String {
    if value >= eq::DYN_RATIO.max {
        return "∞:1".to_string();
    }
    let max = f64::from(eq::DYN_RATIO.max);
    let decimals = (1..=6)
        .find(|&d| {
            let scale = 10f64.powi(d);
            (f64::from(value) * scale).round() / scale < max
        })
        .unwrap_or(6) as usize;
    format!("{value:.decimals$}:1")
}

/// Parses "4", "4:1", "inf", "∞", "∞:1".
fn parse_dynamic_ratio(text: &str) -> Option<f32> {
    let t = text.trim();
    let head = t.split(':').next().unwrap_or("").trim();
    if head == "∞" || head.eq_ignore_ascii_case("inf") {
        return Some(eq::DYN_RATIO.max);
    }
    parse_ratio(t)
}

impl DynamicParams {
    pub fn new(label: &str, detector_freq: Range) -> Self {
        Self {
            enabled: switch_param(format!("{label} Dynamic"), false),
            threshold: gain_db_param(&format!("{label} Dyn Threshold"), eq::DYN_THRESHOLD_DB),
            range: gain_db_param(&format!("{label} Dyn Range"), eq::DYN_RANGE_DB),
            ratio: skewed_param(&format!("{label} Dyn Ratio"), eq::DYN_RATIO, -2.0)
                .with_value_to_string(Arc::new(ratio_text))
                .with_string_to_value(Arc::new(parse_dynamic_ratio)),
            attack: ms_param(&format!("{label} Dyn Attack"), eq::DYN_ATTACK_MS),
            release: ms_param(&format!("{label} Dyn Release"), eq::DYN_RELEASE_MS),
            detector_follows: switch_param(format!("{label} Dyn Detector Follows"), true),
            detector_freq: freq_param(&format!("{label} Dyn Detector Freq"), detector_freq),
        }
    }

    pub fn settings(&self) -> eq::DynamicBand {
        eq::DynamicBand {
            enabled: self.enabled.value(),
            threshold_db: in_range(&self.threshold),
            range_db: in_range(&self.range),
            ratio: in_range(&self.ratio),
            attack_ms: in_range(&self.attack),
            release_ms: in_range(&self.release),
            detector_follows: self.detector_follows.value(),
            detector_freq_hz: in_range(&self.detector_freq),
        }
    }

    pub fn write(&self, d: &eq::DynamicBand, w: &mut impl ParamWriter) {
        w.switch(&self.enabled, d.enabled);
        w.float(&self.threshold, d.threshold_db);
        w.float(&self.range, d.range_db);
        w.float(&self.ratio, d.ratio);
        w.float(&self.attack, d.attack_ms);
        w.float(&self.release, d.release_ms);
        w.switch(&self.detector_follows, d.detector_follows);
        w.float(&self.detector_freq, d.detector_freq_hz);
    }
}
