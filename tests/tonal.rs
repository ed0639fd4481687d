//! Accuracy of the tonal balance analysis (issue 13, Must show 5), against analytic values:
//! pink noise reads flat, an RBJ high shelf (written here, from the Audio EQ Cookbook, not the
//! plugin's EQ) reads its own analytic response, quiet frames are gated, width and correlation
//! have their textbook values, streaming equals one-shot analysis, and the frame loudness
//! agrees with the independent `ebur128` crate.

mod common;

use common::signals::pink_noise;
use fairmaster::analysis::tonal::{
    analyse_stereo, third_centre_hz, TonalAnalyser, TonalBalance, THIRD_BANDS,
};

fn pink_pair(seconds: usize, fs: u32) -> (Vec<f32>, Vec<f32>) {
    let n = seconds * fs as usize;
    (pink_noise(n, 21, -20.0), pink_noise(n, 22, -20.0))
}

fn levels(b: &TonalBalance) -> Vec<f64> {
    b.third.iter().map(|t| t.unwrap().level_db).collect()
}

#[test]
fn pink_noise_reads_flat_within_half_a_db_in_every_third_octave_band() {
    for fs in [44_100u32, 48_000] {
        let (l, r) = pink_pair(60, fs);
        let balance = analyse_stereo(&l, &r, fs as f32).unwrap();
        let levels = levels(&balance);
        assert_eq!(levels.len(), THIRD_BANDS);
        let mean = levels.iter().sum::<f64>() / levels.len() as f64;
        for (k, level) in levels.iter().enumerate() {
            assert!(
                (level - mean).abs() <= 0.5,
                "{fs} Hz: band {} Hz reads {:+.2} dB off flat",
                balance.third[k].unwrap().nominal_hz,
                level - mean
            );
        }
    }
}

/// RBJ Audio EQ Cookbook high shelf (shelf slope S = 1), as biquad `(b, a)` normalised.
fn rbj_high_shelf(f0: f64, gain_db: f64, fs: f64) -> ([f64; 3], [f64; 2]) {
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = 2.0 * std::f64::consts::PI * f0 / fs;
    let (sin, cos) = w0.sin_cos();
    // RBJ: alpha = sin/2 · √((A + 1/A)(1/S − 1) + 2); with S = 1 the first term vanishes.
    let slope: f64 = 1.0;
    let alpha = sin / 2.0 * ((a + 1.0 / a) * (1.0 / slope - 1.0) + 2.0).sqrt();
    let sq = 2.0 * a.sqrt() * alpha;
    let b0 = a * ((a + 1.0) + (a - 1.0) * cos + sq);
    let b1 = -2.0 * a * ((a - 1.0) + (a + 1.0) * cos);
    let b2 = a * ((a + 1.0) + (a - 1.0) * cos - sq);
    let a0 = (a + 1.0) - (a - 1.0) * cos + sq;
    let a1 = 2.0 * ((a - 1.0) - (a + 1.0) * cos);
    let a2 = (a + 1.0) - (a - 1.0) * cos - sq;
    ([b0 / a0, b1 / a0, b2 / a0], [a1 / a0, a2 / a0])
}

fn biquad(x: &[f32], b: [f64; 3], a: [f64; 2]) -> Vec<f32> {
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    x.iter()
        .map(|&v| {
            let v = f64::from(v);
            let y = b[0] * v + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
            (x2, x1, y2, y1) = (x1, v, y1, y);
            y as f32
        })
        .collect()
}

/// Power gain of the biquad at `f`.
fn power_gain(b: [f64; 3], a: [f64; 2], f: f64, fs: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * f / fs;
    let z = |c: [f64; 3]| {
        let re = c[0] + c[1] * w.cos() + c[2] * (2.0 * w).cos();
        let im = -c[1] * w.sin() - c[2] * (2.0 * w).sin();
        re * re + im * im
    };
    z(b) / z([1.0, a[0], a[1]])
}

#[test]
fn a_three_db_high_shelf_reads_its_analytic_response() {
    let fs = 48_000.0;
    let (l, r) = pink_pair(60, fs as u32);
    let (b, a) = rbj_high_shelf(2000.0, 3.0, fs);
    let (sl, sr) = (biquad(&l, b, a), biquad(&r, b, a));
    let plain = analyse_stereo(&l, &r, fs as f32).unwrap();
    let shelved = analyse_stereo(&sl, &sr, fs as f32).unwrap();
    let mut above_4k = Vec::new();
    let mut below_1k = Vec::new();
    for k in 0..THIRD_BANDS {
        let (p, s) = (plain.third[k].unwrap(), shelved.third[k].unwrap());
        let measured = s.absolute_db - p.absolute_db;
        // The shelf's power gain averaged over the band as pink noise weights it (equal
        // power per log-frequency), by numerical integration across the band.
        let centre = third_centre_hz(k);
        let (lo, hi) = (
            centre * 2f64.powf(-1.0 / 6.0),
            centre * 2f64.powf(1.0 / 6.0),
        );
        let steps = 200;
        let analytic = 10.0
            * ((0..steps)
                .map(|i| {
                    let f = lo * (hi / lo).powf((i as f64 + 0.5) / steps as f64);
                    power_gain(b, a, f, fs)
                })
                .sum::<f64>()
                / steps as f64)
                .log10();
        assert!(
            (measured - analytic).abs() <= 0.3,
            "{} Hz: reads {measured:+.2} dB, the shelf gives {analytic:+.2} dB",
            p.nominal_hz
        );
        if p.nominal_hz > 4000.0 {
            assert!(
                (measured - 3.0).abs() <= 0.3,
                "{} Hz: reads {measured:+.2} dB, not +3 ± 0.3",
                p.nominal_hz
            );
            above_4k.push(s.level_db - p.level_db);
        }
        if p.nominal_hz <= 1000.0 {
            below_1k.push(s.level_db - p.level_db);
        }
    }
    // Loudness-normalised (what the Δ readout shows), the shelf is +3 dB of tilt: the bands
    // above 4 kHz sit 3 ± 0.3 dB above those below 1 kHz.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let tilt = mean(&above_4k) - mean(&below_1k);
    assert!((tilt - 3.0).abs() <= 0.3, "normalised tilt {tilt:+.2} dB");
    let delta = shelved.third_octave_delta_db(&plain);
    assert!((delta[26].unwrap() - above_4k[3]).abs() < 1e-9);
}

#[test]
fn quiet_passages_are_gated_out() {
    // 20 s of loud pink noise, then 20 s of a quiet 100 Hz tone 40 dB down: the tone's frames
    // sit below integrated − 20 LU and must not colour the balance.
    let fs = 48_000u32;
    let (l, r) = pink_pair(20, fs);
    let loud = analyse_stereo(&l, &r, fs as f32).unwrap();
    let tone = common::signals::sine(20 * fs as usize, 100.0, fs as f32, 0.003);
    let with_quiet: (Vec<f32>, Vec<f32>) = (
        l.iter().chain(&tone).copied().collect(),
        r.iter().chain(&tone).copied().collect(),
    );
    let both = analyse_stereo(&with_quiet.0, &with_quiet.1, fs as f32).unwrap();
    assert!(both.frames_used < both.seconds_analysed as usize * 4);
    for (a, b) in levels(&loud).iter().zip(levels(&both)) {
        assert!((a - b).abs() < 0.1, "{a:.2} vs {b:.2}");
    }
}

#[test]
fn width_and_correlation_have_their_textbook_values() {
    let fs = 48_000u32;
    let (l, r) = pink_pair(20, fs);
    let inverted: Vec<f32> = l.iter().map(|x| -x).collect();
    let mono = analyse_stereo(&l, &l, fs as f32).unwrap();
    let anti = analyse_stereo(&l, &inverted, fs as f32).unwrap();
    let wide = analyse_stereo(&l, &r, fs as f32).unwrap();
    for k in 2..THIRD_BANDS {
        let (m, a, w) = (
            mono.third[k].unwrap(),
            anti.third[k].unwrap(),
            wide.third[k].unwrap(),
        );
        assert!(m.correlation > 0.999 && m.side_to_mid_db <= -9.9, "{m:?}");
        assert!(a.correlation < -0.999 && a.side_to_mid_db >= 9.9, "{a:?}");
        // Independent channels: correlation near 0, side as strong as mid.
        assert!(w.correlation.abs() < 0.15, "{w:?}");
        assert!(w.side_to_mid_db.abs() < 1.0, "{w:?}");
    }
}

#[test]
fn streaming_in_any_block_size_equals_one_analysis() {
    // The plugin feeds the live master in host-sized blocks; the loader and the renderer
    // analyse whole files: the same readouts.
    let fs = 44_100u32;
    let (l, r) = pink_pair(10, fs);
    let whole = analyse_stereo(&l, &r, fs as f32).unwrap();
    let mut analyser = TonalAnalyser::new(fs as f32);
    let mut at = 0;
    let mut size = 1;
    while at < l.len() {
        let end = (at + size).min(l.len());
        analyser.push(&l[at..end], &r[at..end]);
        at = end;
        size = (size * 7 + 3) % 4093 + 1;
    }
    assert_eq!(analyser.balance().unwrap(), whole);
    // A region (a loop) is the analysis of that region.
    let region = analyser.balance_between(2.0, 8.0).unwrap();
    let (a, b) = (2 * fs as usize, 8 * fs as usize);
    let cut = analyse_stereo(&l[a..b], &r[a..b], fs as f32).unwrap();
    for (x, y) in levels(&region).iter().zip(levels(&cut)) {
        assert!((x - y).abs() < 0.3, "{x:.2} vs {y:.2}");
    }
}

#[test]
fn the_frame_loudness_agrees_with_ebur128() {
    let fs = 48_000u32;
    let (l, r) = pink_pair(30, fs);
    let ours = analyse_stereo(&l, &r, fs as f32).unwrap().integrated_lufs;
    let theirs = common::loudness::ebur128_stereo(&l, &r, fs);
    assert!(
        (ours - theirs).abs() < 0.2,
        "frames {ours:.2} LUFS, ebur128 {theirs:.2}"
    );
}
