//! Loudness matching across a processor: the law the A/B uses to play the original at the
//! master's loudness, as one building block for everything that matches loudness while
//! playing (the A/B and the reference in `ab/`, a stage compared at matched loudness, the
//! saturation's automatic gain).
//!
//! Both sides are measured with BS.1770 K-weighted short-term loudness (3 s, EBU Tech 3341);
//! the offset `L_after - L_before` is followed with a one-pole of [`MATCH_SMOOTHING_SECONDS`]
//! (on top of the 3 s window: slow enough not to pump with the music, fast enough to follow a
//! new section), held while either side is below [`MATCH_GATE_LUFS`] (silence and fades do not
//! swing it) and clamped to ±[`MATCH_RANGE_DB`].

use crate::dsp::meters::loudness::LoudnessMeter;
use crate::dsp::util::db_to_gain;

/// Time constant of the match-gain smoothing.
pub const MATCH_SMOOTHING_SECONDS: f32 = 1.0;
/// Below this short-term loudness (either side) the match gain is held.
pub const MATCH_GATE_LUFS: f32 = -60.0;
/// The match gain never exceeds this many dB either way.
pub const MATCH_RANGE_DB: f32 = 24.0;

/// One step of the match law: `current_db` follows `target_db` over `frames` samples with the
/// exact one-pole response of [`MATCH_SMOOTHING_SECONDS`], so the result does not depend on
/// how the frames were split into blocks.
pub fn follow_offset(current_db: f32, target_db: f32, frames: usize, sample_rate: f32) -> f32 {
    let target = target_db.clamp(-MATCH_RANGE_DB, MATCH_RANGE_DB);
    let k = 1.0 - (-(frames as f32) / (MATCH_SMOOTHING_SECONDS * sample_rate)).exp();
    current_db + (target - current_db) * k
}

/// True when both short-term readings are above the gate (the offset may follow them).
pub fn both_audible(before_lufs: f32, after_lufs: f32) -> bool {
    before_lufs > MATCH_GATE_LUFS && after_lufs > MATCH_GATE_LUFS
}

/// Multiplies a stereo block by a gain ramping linearly from `start` (the gain the previous
/// block ended on) to `target` at its last frame: a matched gain that moves between blocks
/// without zipper steps.
pub fn ramp_gain(left: &mut [f32], right: &mut [f32], start: f32, target: f32) {
    let n = left.len().min(right.len());
    if n == 0 {
        return;
    }
    if start == target {
        left[..n].iter_mut().for_each(|x| *x *= target);
        right[..n].iter_mut().for_each(|x| *x *= target);
    } else {
        let step = (target - start) / n as f32;
        for (i, (l, r)) in left[..n].iter_mut().zip(&mut right[..n]).enumerate() {
            let g = start + step * (i + 1) as f32;
            *l *= g;
            *r *= g;
        }
    }
}

/// Measures the loudness before and after a processor and follows the offset between them.
/// `reset` sizes nothing: allocation-free after `new` (the meters keep no histograms).
#[derive(Clone, Debug)]
pub struct LoudnessMatch {
    sample_rate: f32,
    before: LoudnessMeter,
    after: LoudnessMeter,
    /// `L_after - L_before`, smoothed, dB.
    offset_db: f32,
    /// The linear gain [`Self::apply`] reached at the end of its last block (ramps start here).
    applied_gain: f32,
}

impl Default for LoudnessMatch {
    fn default() -> Self {
        Self::new()
    }
}

impl LoudnessMatch {
    pub fn new() -> Self {
        Self {
            sample_rate: 48_000.0,
            before: LoudnessMeter::short_term_only(),
            after: LoudnessMeter::short_term_only(),
            offset_db: 0.0,
            applied_gain: 1.0,
        }
    }

    pub fn reset(&mut self, sample_rate: f32) {
        self.sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        self.before.reset(self.sample_rate);
        self.after.reset(self.sample_rate);
        self.offset_db = 0.0;
        self.applied_gain = 1.0;
    }

    /// Forgets the measurement and the offset (0 dB).
    pub fn clear(&mut self) {
        let fs = self.sample_rate;
        self.reset(fs);
    }

    /// Measures one block on both sides (equal lengths) and follows the offset.
    pub fn measure(&mut self, before: (&[f32], &[f32]), after: (&[f32], &[f32])) {
        let n = before.0.len();
        self.before.process_stereo(before.0, before.1);
        self.after.process_stereo(after.0, after.1);
        let (b, a) = (self.before.short_term_lufs(), self.after.short_term_lufs());
        if both_audible(b, a) {
            self.offset_db = follow_offset(self.offset_db, a - b, n, self.sample_rate);
        }
    }

    /// Short-term loudness after the processor, LUFS (-inf for silence).
    pub fn after_lufs(&self) -> f32 {
        self.after.short_term_lufs()
    }

    /// `L_after - L_before`, smoothed, dB: how much louder the processor makes the programme.
    pub fn offset_db(&self) -> f32 {
        self.offset_db
    }

    /// Multiplies the block by `db_to_gain(sign * offset)`, ramping linearly from the gain the
    /// last call ended on (no zipper steps between blocks). `sign` +1 brings the "before"
    /// signal to the "after" loudness; -1 the "after" signal back to the "before" loudness.
    pub fn apply(&mut self, left: &mut [f32], right: &mut [f32], sign: f32) {
        let target = db_to_gain(sign * self.offset_db);
        ramp_gain(left, right, self.applied_gain, target);
        self.applied_gain = target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_gain_difference_and_holds_in_silence() {
        let fs = 48_000.0;
        let mut m = LoudnessMatch::new();
        m.reset(fs);
        let n = 480;
        let mut phase = 0.0f32;
        for _ in 0..(10.0 * fs) as usize / n {
            let x: Vec<f32> = (0..n)
                .map(|_| {
                    phase += 2.0 * std::f32::consts::PI * 997.0 / fs;
                    0.1 * phase.sin()
                })
                .collect();
            let y: Vec<f32> = x.iter().map(|v| v * db_to_gain(4.0)).collect();
            m.measure((&x, &x), (&y, &y));
        }
        assert!((m.offset_db() - 4.0).abs() < 0.05, "{}", m.offset_db());
        let silence = vec![0.0f32; n];
        for _ in 0..(5.0 * fs) as usize / n {
            m.measure((&silence, &silence), (&silence, &silence));
        }
        assert!(
            (m.offset_db() - 4.0).abs() < 0.05,
            "held: {}",
            m.offset_db()
        );
    }

    #[test]
    fn apply_ramps_without_steps() {
        let mut m = LoudnessMatch::new();
        m.offset_db = 6.0;
        let (mut l, mut r) = (vec![1.0f32; 100], vec![1.0f32; 100]);
        m.apply(&mut l, &mut r, 1.0);
        assert!((l[99] - db_to_gain(6.0)).abs() < 1e-6);
        let step = l.windows(2).map(|w| w[1] - w[0]).fold(0.0f32, f32::max);
        assert!(step < 0.011, "{step}");
    }
}
