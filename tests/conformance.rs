//! EBU Tech 3341 (v3) true-peak cases measured through the plugin's programme meter (the
//! meter the editor shows), tolerance +0.2 / -0.4 dB. The loudness cases (1-5, 9) and the
//! Tech 3342 LRA cases are unit tests in `src/dsp/loudness.rs`.

use fairmaster::dsp::program_meter::ProgramMeter;

const FS: f32 = 48_000.0;

/// Stereo sine at `freq` with `peak_dbfs` sample-domain amplitude and starting phase, 5 s,
/// with 5 ms raised-cosine fades (an abrupt start rings through the interpolator and is
/// rightly read as overshoot).
fn tone(freq: f32, peak_dbfs: f32, phase_deg: f32) -> Vec<f32> {
    let n = (5.0 * FS) as usize;
    let fade = (0.005 * FS) as usize;
    let amp = 10f32.powf(peak_dbfs / 20.0);
    (0..n)
        .map(|i| {
            let env = if i < fade {
                0.5 - 0.5 * (std::f32::consts::PI * i as f32 / fade as f32).cos()
            } else if i >= n - fade {
                0.5 - 0.5 * (std::f32::consts::PI * (n - 1 - i) as f32 / fade as f32).cos()
            } else {
                1.0
            };
            // f64 phase: in f32 the argument loses the exact sample positions after a few
            // seconds, and these cases depend on them.
            let ph = (phase_deg as f64).to_radians();
            let arg = 2.0 * std::f64::consts::PI * freq as f64 * i as f64 / FS as f64 + ph;
            env * amp * arg.sin() as f32
        })
        .collect()
}

fn meter_true_peak(x: &[f32]) -> f32 {
    let mut m = ProgramMeter::new();
    m.reset(FS, false);
    for c in x.chunks(480) {
        m.process(c, c);
    }
    m.readings().true_peak_max_dbtp
}

fn assert_true_peak(case: u32, x: &[f32], expected: f32) {
    let tp = meter_true_peak(x);
    assert!(
        tp <= expected + 0.2 && tp >= expected - 0.4,
        "Tech 3341 case {case}: {tp:.3} dBTP, expected {expected} +0.2/-0.4"
    );
}

#[test]
fn tech3341_case15_quarter_fs_phase_0() {
    // Samples hit the crest: true peak = sample peak = -6 dBFS.
    assert_true_peak(15, &tone(FS / 4.0, -6.0, 0.0), -6.0);
}

#[test]
fn tech3341_case16_quarter_fs_phase_45() {
    // Samples at +-0.707 of the crest (sample peak -9 dBFS); true peak still -6 dBTP.
    let x = tone(FS / 4.0, -6.0, 45.0);
    let sample_peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((20.0 * sample_peak.log10() + 9.01).abs() < 0.05);
    assert_true_peak(16, &x, -6.0);
}

#[test]
fn tech3341_case17_sixth_fs_phase_60() {
    assert_true_peak(17, &tone(FS / 6.0, -6.0, 60.0), -6.0);
}

#[test]
fn tech3341_case18_eighth_fs_phase_67_5() {
    assert_true_peak(18, &tone(FS / 8.0, -6.0, 67.5), -6.0);
}
