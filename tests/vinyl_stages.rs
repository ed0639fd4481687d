//! The vinyl stages (issue 29) in the plugin's chain, measured from outside: out-of-phase bass
//! made mono below the elliptical EQ's corner through the whole chain with the mid untouched,
//! a sibilant's RIAA pre-emphasised high band held at the HF limiter's limit, the chain's
//! reported latency equal to the measured delay with the HF limiter on, and no allocation in
//! the plugin's process while both stages are switched and moved.

mod common;

use common::clap_host::{ClapParamEvent, ClapTestHost};
use common::signals::{sine, white_noise};
use fairmaster::chain::Chain;
use fairmaster::dsp::dynamics::hf_limiter::{self, pre_emphasised_hf_peak_db};
use fairmaster::dsp::filters::riaa::riaa_recording_gain_db;
use fairmaster::stages::ChainSettings;

fn chain_at(fs: f32, settings: &ChainSettings) -> Chain {
    let mut c = Chain::new();
    c.set(settings);
    c.reset(fs);
    c
}

fn run(chain: &mut Chain, left: &mut [f32], right: &mut [f32]) {
    for (l, r) in left.chunks_mut(512).zip(right.chunks_mut(512)) {
        chain.process(l, r);
    }
}

/// Amplitude of the `freq` component of `x` (correlation with a sine and a cosine).
fn amplitude(x: &[f64], freq: f64, fs: f64) -> f64 {
    let (mut c, mut s) = (0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let w = 2.0 * std::f64::consts::PI * freq * i as f64 / fs;
        c += v * w.cos();
        s += v * w.sin();
    }
    2.0 * c.hypot(s) / x.len() as f64
}

fn mid_side(l: &[f32], r: &[f32]) -> (Vec<f64>, Vec<f64>) {
    l.iter()
        .zip(r)
        .map(|(&a, &b)| {
            let (a, b) = (f64::from(a), f64::from(b));
            (0.5 * (a + b), 0.5 * (a - b))
        })
        .unzip()
}

#[test]
fn out_of_phase_bass_goes_mono_below_the_corner_through_the_whole_chain() {
    for fs in [44_100.0f32, 96_000.0] {
        let mut settings = ChainSettings::default();
        settings.elliptical.enabled = true;
        let n = fs as usize * 2;
        // Side: 60 Hz (below half the 150 Hz corner) and 1 kHz; mid: 60 Hz and 1 kHz. All at
        // -18 dBFS, far below the default limiter's ceiling.
        let a = 0.125;
        let side_low = sine(n, 60.0, fs, a);
        let side_high = sine(n, 1000.0, fs, a);
        let mid_low = sine(n, 60.0, fs, a);
        let mid_high = sine(n, 1000.0, fs, a);
        let mid: Vec<f32> = mid_low.iter().zip(&mid_high).map(|(x, y)| x + y).collect();
        let side: Vec<f32> = side_low
            .iter()
            .zip(&side_high)
            .map(|(x, y)| x + y)
            .collect();
        let mut l: Vec<f32> = mid.iter().zip(&side).map(|(m, s)| m + s).collect();
        let mut r: Vec<f32> = mid.iter().zip(&side).map(|(m, s)| m - s).collect();
        let mut chain = chain_at(fs, &settings);
        run(&mut chain, &mut l, &mut r);
        let (mid_out, side_out) = mid_side(&l[n / 2..], &r[n / 2..]);
        let fs = f64::from(fs);
        let a = f64::from(a);
        let db = |x: f64| 20.0 * (x / a).log10();
        let side_60 = db(amplitude(&side_out, 60.0, fs));
        let side_1k = db(amplitude(&side_out, 1000.0, fs));
        let mid_60 = db(amplitude(&mid_out, 60.0, fs));
        let mid_1k = db(amplitude(&mid_out, 1000.0, fs));
        assert!(side_60 < -30.0, "{fs} Hz: side at 60 Hz {side_60:.1} dB");
        for (what, value) in [
            ("side 1 kHz", side_1k),
            ("mid 60 Hz", mid_60),
            ("mid 1 kHz", mid_1k),
        ] {
            assert!(value.abs() < 0.1, "{fs} Hz: {what} moved {value:.3} dB");
        }
    }
}

#[test]
fn the_hf_limiter_holds_a_sibilant_in_the_chain_and_its_latency_is_the_measured_delay() {
    for fs in [44_100.0f32, 48_000.0, 96_000.0] {
        let mut settings = ChainSettings::default();
        settings.hf_limiter.enabled = true;
        // Latency: reported (chain, and before activation) = impulse delay = the default
        // limiter's lookahead plus the HF limiter's FIR centre and lookahead.
        let off = chain_at(fs, &ChainSettings::default()).latency_samples();
        let mut chain = chain_at(fs, &settings);
        let latency = chain.latency_samples();
        assert_eq!(latency, Chain::latency_for(&settings, fs));
        assert_eq!(latency, off + hf_limiter::latency_for(fs));
        let n = latency as usize + 4096;
        let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
        l[100] = 0.01;
        r[100] = 0.01;
        run(&mut chain, &mut l, &mut r);
        let peak = l
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
            .0;
        assert_eq!(peak - 100, latency as usize, "{fs} Hz");

        // A sibilant: 200 Hz at -6 dBFS, 7 kHz bursts at -12 dBFS, pre-emphasised -1.2 dB:
        // 1.8 dB over a -3 dB limit.
        settings.hf_limiter.limit_db = -3.0;
        let mut chain = chain_at(fs, &settings);
        let len = fs as usize;
        let base = sine(len, 200.0, fs, 0.5);
        let hiss = sine(len, 7000.0, fs, 0.25);
        let burst = (0.1 * f64::from(fs)) as usize;
        let x: Vec<f32> = (0..len)
            .map(|i| base[i] + if (i / burst) % 2 == 1 { hiss[i] } else { 0.0 })
            .collect();
        let (mut l, mut r) = (x.clone(), x.clone());
        run(&mut chain, &mut l, &mut r);
        let before = pre_emphasised_hf_peak_db(&x, &x, fs, 5000.0);
        let after = pre_emphasised_hf_peak_db(&l, &r, fs, 5000.0);
        let analytic_before = 20.0 * 0.25f64.log10() + riaa_recording_gain_db(7000.0);
        assert!(
            (f64::from(before) - analytic_before).abs() < 1.0,
            "{before} vs {analytic_before}"
        );
        assert!(
            before > -2.0,
            "{fs} Hz: the bursts are over the limit: {before:.2}"
        );
        assert!(
            after < -2.9,
            "{fs} Hz: pre-emphasised peak {after:.2} dB (limit -3)"
        );
        // The 200 Hz tone passes within 0.1 dB (compared after the latency).
        let lat = latency as usize;
        let out: Vec<f64> = l[lat..].iter().map(|&v| f64::from(v)).collect();
        let input: Vec<f64> = x[..len - lat].iter().map(|&v| f64::from(v)).collect();
        let change = 20.0
            * (amplitude(&out, 200.0, f64::from(fs)) / amplitude(&input, 200.0, f64::from(fs)))
                .log10();
        assert!(change.abs() < 0.1, "{fs} Hz: 200 Hz moved {change:.3} dB");
    }
}

#[test]
fn plugin_process_does_not_allocate_with_the_vinyl_stages_on_and_moving() {
    // nice-plug's `assert_process_allocs` aborts the test binary on an allocation in process.
    let mut host = ClapTestHost::new(48_000.0, 1, 1024, 2);
    let noise = white_noise(1024, 29, 0.3);
    let f = |host: &ClapTestHost, id: &'static str, plain: f64| (id, host.plain_to_clap(id, plain));
    let rounds: Vec<Vec<(&str, f64)>> = vec![
        vec![("ell_on", 1.0), ("hfl_on", 1.0)],
        vec![f(&host, "ell_freq", 250.0), f(&host, "hfl_limit", -18.0)],
        vec![f(&host, "hfl_split", 8000.0), f(&host, "hfl_release", 5.0)],
        vec![("ell_on", 0.0)],
        vec![("hfl_on", 0.0), ("ell_on", 1.0)],
        vec![],
    ];
    for round in &rounds {
        let events: Vec<ClapParamEvent> = round
            .iter()
            .map(|&(id, clap_value)| ClapParamEvent {
                id,
                clap_value,
                time: 0,
            })
            .collect();
        for n in [1, 64, 512, 1024] {
            let (mut l, mut r) = (noise[..n].to_vec(), noise[..n].to_vec());
            host.process_clap(&mut l, Some(&mut r), &events);
            assert!(l.iter().chain(&r).all(|v| v.is_finite()));
        }
    }
}
