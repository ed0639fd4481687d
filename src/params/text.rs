//! The parameters' shared constructors and text parsing: what a person types into a host's
//! value field ("-6 dB", "2k", "2:1", "on", "B") parses back to the value it shows; anything
//! else is rejected, so the host keeps the old value rather than a guess.

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::util::range::Range;

/// Text-to-value conversion closure, as nice-plug takes it.
pub(crate) type StringToValue = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// The parameter's value clamped into its declared range. The framework restores plain values
/// from a saved state without clamping, so a corrupt or hand-edited state could otherwise hand
/// the DSP +1e6 dB; non-finite values fall back to the default.
pub(crate) fn in_range(param: &FloatParam) -> f32 {
    let value = param.value();
    if !value.is_finite() {
        return param.default_plain_value();
    }
    // Only an out-of-range value is moved (to the nearer end): going through the normalised
    // position for every value would shift skewed ones by an f32 ulp (9000 Hz read back as
    // 8999.999), and settings -> parameters -> settings would not be the identity.
    let range = param.range();
    let position = range.normalize(value);
    if position <= 0.0 || position >= 1.0 {
        range.unnormalize(position.clamp(0.0, 1.0))
    } else {
        value
    }
}

pub(crate) fn gain_db_param(name: &str, range: Range) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Linear {
            min: range.min,
            max: range.max,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.01)
    .with_value_to_string(formatters::v2s_f32_rounded(2))
    .with_string_to_value(parse_number_with_unit(&[("dBTP", 1.0), ("dB", 1.0)]))
}

/// A parameter on a skewed range: `skew` < 0 gives the low end more of the control's travel
/// (frequencies, times, Q and ratios are perceived roughly logarithmically).
pub(crate) fn skewed_param(name: &str, range: Range, skew: f32) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Skewed {
            min: range.min,
            max: range.max,
            factor: FloatRange::skew_factor(skew),
        },
    )
}

/// A frequency parameter on a logarithmic-feeling (skewed) range, shown as Hz or kHz.
pub(crate) fn freq_param(name: &str, range: Range) -> FloatParam {
    skewed_param(name, range, -2.0)
        // The formatter appends "Hz"/"kHz" itself.
        .with_value_to_string(formatters::v2s_f32_hz_then_khz(1))
        .with_string_to_value(parse_number_with_unit(&[
            ("Hz", 1.0),
            ("kHz", 1000.0),
            ("k", 1000.0),
        ]))
}

pub(crate) fn q_param(name: &str, range: Range) -> FloatParam {
    skewed_param(name, range, -1.5)
        .with_value_to_string(formatters::v2s_f32_rounded(2))
        .with_string_to_value(parse_number_with_unit(&[]))
}

pub(crate) fn ms_param(name: &str, range: Range) -> FloatParam {
    skewed_param(name, range, -2.0)
        .with_unit(" ms")
        .with_value_to_string(formatters::v2s_f32_rounded(1))
        .with_string_to_value(parse_number_with_unit(&[("ms", 1.0), ("s", 1000.0)]))
}

pub(crate) fn percent_param(name: &str, range: Range) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Linear {
            min: range.min,
            max: range.max,
        },
    )
    .with_unit(" %")
    .with_value_to_string(formatters::v2s_f32_percentage(0))
    .with_string_to_value(parse_number_with_unit(&[("%", 0.01)]))
}

/// Parses what a person types into a host's value field: a number with an optional unit, "3",
/// "+3.5", "-6 dB", "-6dB", "2k", "2 kHz", "50 %". `units` lists the accepted units (matched
/// without regard to case, so "db" and "KHZ" work) with the factor from that unit to the
/// parameter's plain value (kHz -> Hz: 1000; % -> fraction: 0.01). A bare number is in the
/// first unit, the one the parameter displays ("50" on a percentage is 50 %). Anything else (an
/// unknown unit, text, NaN, infinity) is rejected, so the host keeps the old value rather than
/// a guess.
pub(crate) fn parse_number_with_unit(units: &'static [(&'static str, f32)]) -> StringToValue {
    Arc::new(move |text: &str| {
        let (number, unit) = split_number_and_unit(text)?;
        let factor = if unit.is_empty() {
            units.first().map_or(1.0, |&(_, factor)| factor)
        } else {
            units.iter().find(|(u, _)| u.eq_ignore_ascii_case(unit))?.1
        };
        Some(number * factor).filter(|v| v.is_finite())
    })
}

/// Splits " -6.5 dB " into (-6.5, "dB"). The number is the longest leading run of characters
/// that can appear in a decimal number; it must parse as a finite f32.
pub(crate) fn split_number_and_unit(text: &str) -> Option<(f32, &str)> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            let exponent = (c == 'e' || c == 'E')
                && t[..i].ends_with(|p: char| p.is_ascii_digit() || p == '.')
                && t[i + 1..].starts_with(|n: char| n.is_ascii_digit() || n == '-' || n == '+');
            !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-' || exponent)
        })
        .map_or(t.len(), |(i, _)| i);
    let number: f32 = t[..end].parse().ok()?;
    number.is_finite().then_some((number, t[end..].trim()))
}

/// A compression ratio as shown ("2.00:1") or typed ("2:1", "3.5", "4 : 1").
pub(crate) fn parse_ratio(text: &str) -> Option<f32> {
    let ratio = match text.split_once(':') {
        Some((num, den)) => {
            let (num, num_unit) = split_number_and_unit(num)?;
            let (den, den_unit) = split_number_and_unit(den)?;
            if !num_unit.is_empty() || !den_unit.is_empty() || den <= 0.0 {
                return None;
            }
            num / den
        }
        None => {
            let (value, unit) = split_number_and_unit(text)?;
            if !unit.is_empty() {
                return None;
            }
            value
        }
    };
    ratio.is_finite().then_some(ratio)
}

/// An on/off switch that parses back what it shows ("On"/"Off") and what people type for one.
pub(crate) fn switch_param(name: impl Into<String>, default: bool) -> BoolParam {
    BoolParam::new(name, default).with_string_to_value(Arc::new(parse_on_off))
}

/// "On"/"Off" in any case, and the usual synonyms (true/false, yes/no, 1/0). Anything else is
/// rejected: nice-plug's default would read any unknown text as "Off".
pub(crate) fn parse_on_off(text: &str) -> Option<bool> {
    const ON: &[&str] = &["on", "true", "yes", "1"];
    const OFF: &[&str] = &["off", "false", "no", "0"];
    let t = text.trim();
    if ON.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if OFF.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}

/// What the A/B switch shows: which signal is heard.
pub(crate) fn ab_text(listen_original: bool) -> &'static str {
    if listen_original {
        "B: original"
    } else {
        "A: master"
    }
}

/// The A/B switch's own texts ("A: master", "B: original") and their parts ("A", "b",
/// "original", "master"), in any case and spacing, plus on/off (on = the original is on).
pub(crate) fn parse_ab(text: &str) -> Option<bool> {
    parse_ab_words(text).or_else(|| parse_on_off(text))
}

/// The A/B words alone: the switch's texts and their parts, in any case and spacing; `true`
/// for the original. Also `fairmaster-render --listen`'s (`offline::listen::ListenMode`).
pub fn parse_ab_words(text: &str) -> Option<bool> {
    let key: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match key.as_str() {
        "b" | "original" | "boriginal" => Some(true),
        "a" | "master" | "amaster" => Some(false),
        _ => None,
    }
}
