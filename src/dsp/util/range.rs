//! The range, default and unit of every continuous setting, declared once beside the DSP that
//! depends on it. The module's `sanitized()`, the host parameter (`params.rs`), the editor's
//! controls (which draw the host parameters) and the README's parameter table all read the same
//! [`Range`]; `tests/readme.rs` checks the table against these constants.

/// Range, default and display unit of one continuous setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f32,
    pub max: f32,
    pub default: f32,
    /// Unit as shown after the value ("dB", "Hz", "ms", "%"; empty for ratios and Q).
    pub unit: &'static str,
}

impl Range {
    pub const fn new(min: f32, max: f32, default: f32, unit: &'static str) -> Self {
        Self {
            min,
            max,
            default,
            unit,
        }
    }

    /// The same range with another default (bands that share limits but not a home position).
    pub const fn with_default(self, default: f32) -> Self {
        Self { default, ..self }
    }

    /// The one rule for a setting that arrives out of range, everywhere in the chain: a finite
    /// value is clamped into `[min, max]`; NaN and ±Inf become the default. A non-finite value
    /// is a broken host, a corrupt state or a bug upstream, not a request for an extreme (an
    /// infinite ratio or a +24 dB drive would be the loudest possible guess).
    #[inline]
    pub fn sanitize(&self, value: f32) -> f32 {
        if value.is_finite() {
            value.clamp(self.min, self.max)
        } else {
            self.default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_values_clamp_and_non_finite_ones_fall_back_to_the_default() {
        let r = Range::new(-12.0, 0.0, -1.0, "dB");
        assert_eq!(r.sanitize(-3.5), -3.5);
        assert_eq!(r.sanitize(5.0), 0.0);
        assert_eq!(r.sanitize(-1e30), -12.0);
        assert_eq!(r.sanitize(f32::NAN), -1.0);
        assert_eq!(r.sanitize(f32::INFINITY), -1.0);
        assert_eq!(r.sanitize(f32::NEG_INFINITY), -1.0);
        assert_eq!(r.with_default(-6.0).sanitize(f32::NAN), -6.0);
    }
}
