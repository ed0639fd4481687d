//! The built-in demo mix: eight seconds of drums, bass and chords synthesised in code, so
//! `fairmaster-render` with no input file shows the whole job (analysis, mastering to a
//! target, report, file) without any audio shipped in the repository.
//!
//! Deliberately an unmastered-sounding mix: about -20 LUFS with -6 dBFS peaks, dynamic drums,
//! a bass with real low end (so mono-bass, compressor and limiter all have work to do).
//! Deterministic: the same samples on every run and machine (own PRNG, f64 synthesis).

use std::f64::consts::TAU;

use super::Audio;

pub const DEMO_SAMPLE_RATE: u32 = 44_100;
pub const DEMO_SECONDS: f64 = 8.0;
const BPM: f64 = 120.0;
/// Mix bus gain applied after summing the instruments.
const MIX_GAIN: f64 = 0.45;

/// xorshift64* (Vigna 2016): deterministic noise for the snare and hi-hats.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

fn midi_hz(note: f64) -> f64 {
    440.0 * 2f64.powf((note - 69.0) / 12.0)
}

/// The demo mix, stereo at 44.1 kHz.
pub fn demo_mix() -> Audio {
    let fs = f64::from(DEMO_SAMPLE_RATE);
    let n = (DEMO_SECONDS * fs) as usize;
    let beat = 60.0 / BPM;
    let mut left = vec![0.0f64; n];
    let mut right = vec![0.0f64; n];
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);

    // Chord roots per bar (A minor, F, C, G) as MIDI notes; triads above.
    let bars: [(f64, [f64; 3]); 4] = [
        (45.0, [57.0, 60.0, 64.0]),
        (41.0, [57.0, 60.0, 65.0]),
        (48.0, [55.0, 60.0, 64.0]),
        (43.0, [55.0, 59.0, 62.0]),
    ];

    // One-pole low-pass states for the pads and the bass, high-pass state for the hats.
    let (mut pad_lp_l, mut pad_lp_r, mut bass_lp, mut hat_hp_x, mut hat_hp_y) =
        (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let pad_a = 1.0 - (-TAU * 1_800.0 / fs).exp();
    let bass_a = 1.0 - (-TAU * 400.0 / fs).exp();
    let hat_r = (-TAU * 6_000.0 / fs).exp();

    for i in 0..n {
        let t = i as f64 / fs;
        let beat_pos = t / beat;
        let bar = ((beat_pos / 4.0) as usize) % bars.len();
        let (root, triad) = bars[bar];
        let in_beat = (beat_pos.fract()) * beat; // seconds since the last beat
        let in_eighth = ((beat_pos * 2.0).fract()) * beat * 0.5;
        let beat_index = beat_pos as usize;

        // Kick on every beat: pitch-swept sine, 55 Hz body.
        let kick_env = (-in_beat / 0.18).exp();
        let kick_phase = TAU * (55.0 * in_beat + 90.0 * 0.03 * (1.0 - (-in_beat / 0.03).exp()));
        let kick = 0.55 * kick_env * kick_phase.sin();

        // Snare on beats 2 and 4: noise burst plus a 190 Hz tone.
        let snare = if beat_index % 2 == 1 {
            let env = (-in_beat / 0.09).exp();
            0.22 * env * noise.next() + 0.12 * (-in_beat / 0.05).exp() * (TAU * 190.0 * t).sin()
        } else {
            noise.next(); // keep the noise sequence independent of the pattern
            0.0
        };

        // Closed hi-hat on eighths: high-passed noise, short decay.
        let hat_in = noise.next();
        hat_hp_y = hat_r * (hat_hp_y + hat_in - hat_hp_x);
        hat_hp_x = hat_in;
        let hat = 0.07 * (-in_eighth / 0.03).exp() * hat_hp_y;

        // Bass: saw on the root (A2 = 110 Hz ...), low-passed, eighth-note envelope.
        let bass_hz = midi_hz(root);
        let saw = 2.0 * (bass_hz * t).fract() - 1.0;
        bass_lp += bass_a * (saw - bass_lp);
        let bass = 0.28 * (0.4 + 0.6 * (-in_eighth / 0.12).exp()) * bass_lp;

        // Pads: detuned saw triad, slightly different per side, low-passed, gentle swell.
        let mut pad_l = 0.0;
        let mut pad_r = 0.0;
        for (k, &note) in triad.iter().enumerate() {
            let f = midi_hz(note);
            let detune = 1.0 + 0.003 * (k as f64 + 1.0);
            pad_l += 2.0 * (f * t).fract() - 1.0;
            pad_r += 2.0 * (f * detune * t + 0.25).fract() - 1.0;
        }
        pad_lp_l += pad_a * (pad_l - pad_lp_l);
        pad_lp_r += pad_a * (pad_r - pad_lp_r);
        let bar_pos = (beat_pos / 4.0).fract();
        let swell = 0.6 + 0.4 * (std::f64::consts::PI * bar_pos).sin();
        let pad_gain = 0.035 * swell;

        // Pan: kick, snare, bass centre; hats right of centre; pads wide.
        let centre = kick + snare + bass;
        left[i] = centre + 0.6 * hat + pad_gain * pad_lp_l;
        right[i] = centre + 1.0 * hat + pad_gain * pad_lp_r;
    }

    // Mix bus level: about -20 LUFS, peaks near -6 dBTP (an unmastered mix with headroom).
    for x in left.iter_mut().chain(right.iter_mut()) {
        *x *= MIX_GAIN;
    }

    // 10 ms fades so the file starts and ends cleanly.
    let fade = (0.010 * fs) as usize;
    for k in 0..fade {
        let g = k as f64 / fade as f64;
        left[k] *= g;
        right[k] *= g;
        left[n - 1 - k] *= g;
        right[n - 1 - k] *= g;
    }
    Audio {
        sample_rate: DEMO_SAMPLE_RATE,
        channels: vec![
            left.iter().map(|&x| x as f32).collect(),
            right.iter().map(|&x| x as f32).collect(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::analysis::analyse;

    #[test]
    fn demo_mix_is_an_unmastered_stereo_mix() {
        let mix = demo_mix();
        assert_eq!(mix.channels.len(), 2);
        assert_eq!(mix.frames(), (DEMO_SECONDS * 44_100.0) as usize);
        let a = analyse(&mix);
        // Quiet and dynamic enough that a streaming target needs real limiting, never clipping.
        assert!(
            (-26.0..=-16.0).contains(&a.integrated_lufs),
            "integrated {a:?}"
        );
        assert!(a.true_peak_dbtp < -1.0 && a.true_peak_dbtp > -12.0, "{a:?}");
        assert!(a.plr_db > 10.0, "{a:?}");
        // Not mono: the sides differ.
        let (l, r) = mix.left_right();
        let diff: f64 = l.iter().zip(r).map(|(a, b)| f64::from((a - b).abs())).sum();
        assert!(diff > 1.0);
        // Deterministic.
        assert_eq!(demo_mix(), mix);
    }
}
