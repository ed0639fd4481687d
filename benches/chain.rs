//! Criterion benchmarks of the full chain and of each module at 48 kHz stereo in 512-frame
//! blocks, all modules on with the realistic `presets::reference_master` settings and the
//! limiter's 8x true-peak detection (64-tap windowed sinc, `dsp::meters::true_peak`). After the
//! runs, the realtime factor (audio seconds processed per CPU second) of every benchmark is
//! printed from criterion's estimates.
//!
//! The `*_denormal_input` benchmarks run the engine on subnormal noise (|x| < f32::MIN_POSITIVE,
//! what clap-validator's `process-audio-denormals` test feeds); the table ends with their cost
//! relative to the same engine on programme material (target: at most 1.2).
//!
//! Run: `cargo bench --bench chain`

use std::hint::black_box;

use criterion::{criterion_group, Criterion, Throughput};
use fairmaster::ab::{AbMonitor, AbSettings};
use fairmaster::chain::Chain;
use fairmaster::dsp::dither::{Dither, DitherMode, DitherSettings};
use fairmaster::dsp::dynamics::compressor::Compressor;
use fairmaster::dsp::dynamics::hf_limiter::{HfLimiter, HfLimiterSettings};
use fairmaster::dsp::dynamics::limiter::{Limiter, LimiterCharacter, LimiterSettings};
use fairmaster::dsp::dynamics::multiband::{Channels, Direction, Multiband, MultibandSettings};
use fairmaster::dsp::filters::elliptical::{EllipticalEq, EllipticalSettings};
use fairmaster::dsp::filters::eq::Eq;
use fairmaster::dsp::meters::correlation::CorrelationMeter;
use fairmaster::dsp::meters::loudness::LoudnessMeter;
use fairmaster::dsp::meters::program_meter::ProgramMeter;
use fairmaster::dsp::meters::true_peak::{stereo_true_peak_block_at, TRUE_PEAK_HISTORY};
use fairmaster::dsp::shaping::clipper::{Clipper, ClipperSettings};
use fairmaster::dsp::shaping::curves::{ClipCurve, SaturationCurve};
use fairmaster::dsp::shaping::saturation::{BandSettings, Saturation, SaturationSettings};
use fairmaster::dsp::stereo::Stereo;
use fairmaster::dsp::util::simd::{self, Level};
use fairmaster::engine::Engine;
use fairmaster::presets::reference_master;
use fairmaster::stages::ChainSettings;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 512;

/// Pink-ish programme material: sum of a few tones and noise at around -14 dBFS RMS.
fn programme(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let noise = ((x >> 40) as f32 / (1u64 << 23) as f32) - 1.0;
            let t = i as f32 / SAMPLE_RATE;
            let tones = 0.3 * (2.0 * std::f32::consts::PI * 55.0 * t).sin()
                + 0.15 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
                + 0.05 * (2.0 * std::f32::consts::PI * 3_520.0 * t).sin();
            tones + 0.1 * noise
        })
        .collect()
}

/// Subnormal noise: uniform in (-f32::MIN_POSITIVE, f32::MIN_POSITIVE).
fn subnormal_noise(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (((x >> 40) as f32 / (1u64 << 23) as f32) - 1.0) * f32::MIN_POSITIVE
        })
        .collect()
}

/// Benchmarks `process` on a stereo block that is refilled from fixed material each iteration
/// (the copy is part of the cost, as it would be for a host buffer).
fn bench_stereo(c: &mut Criterion, name: &str, process: impl FnMut(&mut [f32], &mut [f32])) {
    let src_l = programme(BLOCK * 64, 1);
    let src_r = programme(BLOCK * 64, 2);
    bench_stereo_on(c, name, &src_l, &src_r, process);
}

/// [`bench_stereo`] on given material.
fn bench_stereo_on(
    c: &mut Criterion,
    name: &str,
    src_l: &[f32],
    src_r: &[f32],
    mut process: impl FnMut(&mut [f32], &mut [f32]),
) {
    let mut l = vec![0.0f32; BLOCK];
    let mut r = vec![0.0f32; BLOCK];
    let mut group = c.benchmark_group("chain");
    group.throughput(Throughput::Elements(BLOCK as u64));
    let mut pos = 0;
    group.bench_function(name, |b| {
        b.iter(|| {
            l.copy_from_slice(&src_l[pos..pos + BLOCK]);
            r.copy_from_slice(&src_r[pos..pos + BLOCK]);
            pos = (pos + BLOCK) % (src_l.len() - BLOCK);
            process(black_box(&mut l), black_box(&mut r));
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let settings = reference_master(false);

    let mut chain = Chain::new();
    chain.set(&settings);
    chain.reset(SAMPLE_RATE);
    bench_stereo(c, "full_chain_minimum_phase", |l, r| chain.process(l, r));

    // The chain plus the meters and the level matching (two programme meters with true peak,
    // the B path's delay, gain and safety limiter): what the plugin runs. Hearing A.
    let mut engine = Engine::new();
    engine.set(&settings, &AbSettings::default());
    engine.reset(SAMPLE_RATE, false, false);
    bench_stereo(c, "engine_chain_meters_matching", |l, r| {
        engine.process_stereo(l, r)
    });

    // The same engine with a reference loaded in a synced slot, while hearing the master (the
    // reference costs nothing but its clock) and while hearing the reference (playback, match
    // gain, safety limiter and its loss meters): issue 13's budget is < 5 % over hearing A.
    let reference_track = {
        let n = SAMPLE_RATE as usize * 20;
        let decoded = fairmaster::reference::decode::DecodedStereo {
            left: programme(n, 7),
            right: programme(n, 8),
            sample_rate: SAMPLE_RATE as u32,
            source_rate: SAMPLE_RATE as u32,
            source_channels: 2,
            format: "bench".into(),
            content_hash: 0,
        };
        std::sync::Arc::new(fairmaster::reference::track::ReferenceTrack::analyse(
            decoded,
            "bench.wav".into(),
        ))
    };
    for (name, listen_reference) in [
        ("engine_reference_loaded_hearing_master", false),
        ("engine_hearing_reference", true),
    ] {
        let mut engine = Engine::new();
        let ab = AbSettings {
            listen_reference,
            ..AbSettings::default()
        };
        engine.set(&settings, &ab);
        engine.set_reference(&fairmaster::reference::playback::ReferenceSettings::default());
        engine.reset(SAMPLE_RATE, false, false);
        drop(engine.install_reference(0, Some(reference_track.clone())));
        let mut position = 0i64;
        bench_stereo(c, name, |l, r| {
            engine.set_transport(fairmaster::reference::playback::Transport {
                playing: true,
                position_samples: Some(position),
            });
            position = (position + BLOCK as i64) % (SAMPLE_RATE as i64 * 15);
            engine.process_stereo(l, r)
        });
    }

    // The same engine, and the plugin's default state (limiter only, what clap-validator
    // runs), on subnormal input. Each on a fresh engine, so no state carries over.
    let (sub_l, sub_r) = (
        subnormal_noise(BLOCK * 64, 3),
        subnormal_noise(BLOCK * 64, 4),
    );
    let mut engine = Engine::new();
    engine.set(&settings, &AbSettings::default());
    engine.reset(SAMPLE_RATE, false, false);
    bench_stereo_on(
        c,
        "engine_chain_meters_matching_denormal_input",
        &sub_l,
        &sub_r,
        |l, r| engine.process_stereo(l, r),
    );
    for (name, src_l, src_r) in [
        (
            "engine_default_state",
            &programme(BLOCK * 64, 1),
            &programme(BLOCK * 64, 2),
        ),
        ("engine_default_state_denormal_input", &sub_l, &sub_r),
    ] {
        let mut engine = Engine::new();
        engine.set(&ChainSettings::default(), &AbSettings::default());
        engine.reset(SAMPLE_RATE, false, false);
        bench_stereo_on(c, name, src_l, src_r, |l, r| engine.process_stereo(l, r));
    }

    let mut chain_lp = Chain::new();
    chain_lp.set(&reference_master(true));
    chain_lp.reset(SAMPLE_RATE);
    bench_stereo(c, "full_chain_linear_phase", |l, r| chain_lp.process(l, r));

    let mut eq = Eq::new();
    eq.reset(SAMPLE_RATE);
    eq.set(&settings.eq);
    bench_stereo(c, "eq", |l, r| eq.process(l, r));

    // Dynamic EQ (issue 28): the reference master's EQ with its four bells dynamic (1, 3.5, 6
    // and 10 kHz; thresholds where the programme's noise keeps them moving, so they glide all
    // the time: the worst case), against the same EQ static, at 44.1 and 96 kHz.
    for (rate, suffix) in [(44_100.0f32, "44k1"), (96_000.0, "96k")] {
        let mut dynamic = settings.eq;
        for (i, (freq, threshold)) in [
            (1_000.0, -36.0),
            (3_500.0, -36.0),
            (6_000.0, -38.0),
            (10_000.0, -40.0),
        ]
        .into_iter()
        .enumerate()
        {
            dynamic.bells[i].enabled = true;
            dynamic.bells[i].freq_hz = freq;
            let d = &mut dynamic.dynamic[i + 1];
            d.enabled = true;
            d.threshold_db = threshold;
            d.range_db = -6.0;
            d.ratio = 2.0;
            d.attack_ms = 2.0;
            d.release_ms = 60.0;
        }
        let mut static_eq = dynamic;
        for d in static_eq.dynamic.iter_mut() {
            d.enabled = false;
        }
        for (name, eq_settings) in [("eq_static", static_eq), ("eq_dynamic4", dynamic)] {
            let mut eq = Eq::new();
            eq.reset(rate);
            eq.set(&eq_settings);
            bench_stereo(c, &format!("{name}_{suffix}"), |l, r| eq.process(l, r));
        }
    }

    let mut comp = Compressor::new(SAMPLE_RATE);
    comp.set(&settings.compressor);
    bench_stereo(c, "compressor", |l, r| comp.process(l, r));

    let mut stereo = Stereo::new(SAMPLE_RATE);
    stereo.set(&settings.stereo);
    bench_stereo(c, "stereo", |l, r| stereo.process(l, r));

    let mut limiter = Limiter::new(SAMPLE_RATE);
    limiter.set(&settings.limiter);
    bench_stereo(c, "limiter", |l, r| limiter.process(l, r));

    // The same settings in the other characters (issue 27): Punchy's transient clipper runs in
    // the drive loop, Dense only changes the release rates.
    for (name, character) in [
        ("limiter_punchy", LimiterCharacter::Punchy),
        ("limiter_dense", LimiterCharacter::Dense),
    ] {
        let mut limiter = Limiter::new(SAMPLE_RATE);
        limiter.set(&LimiterSettings {
            character,
            ..settings.limiter
        });
        bench_stereo(c, name, |l, r| limiter.process(l, r));
    }

    let mut dither = Dither::new(SAMPLE_RATE);
    dither.set(&DitherSettings {
        mode: DitherMode::Bits16,
        noise_shaping: true,
    });
    bench_stereo(c, "dither_16bit_shaped", |l, r| dither.process(l, r));

    let mut meter = LoudnessMeter::new();
    meter.reset(SAMPLE_RATE);
    bench_stereo(c, "loudness_meter", |l, r| meter.process(l, Some(r)));

    // The overhead's parts, on the chain's real output (pre-rendered, so the A/B monitor sees
    // the same original/processed pair as inside the engine).
    let mut render = Chain::new();
    render.set(&settings);
    render.reset(SAMPLE_RATE);
    let mut processed_l = programme(BLOCK * 64, 1);
    let mut processed_r = programme(BLOCK * 64, 2);
    for (l, r) in processed_l
        .chunks_mut(BLOCK)
        .zip(processed_r.chunks_mut(BLOCK))
    {
        render.process(l, r);
    }
    let mut program_meter = ProgramMeter::new();
    program_meter.reset(SAMPLE_RATE, false);
    let mut pos = 0;
    bench_stereo(c, "program_meter_on_master", |_, _| {
        // Meters the processed master (what the output meter sees), not the block handed in.
        program_meter.process(
            &processed_l[pos..pos + BLOCK],
            &processed_r[pos..pos + BLOCK],
        );
        pos = (pos + BLOCK) % (processed_l.len() - BLOCK);
    });
    let mut program_meter_in = ProgramMeter::new();
    program_meter_in.reset(SAMPLE_RATE, false);
    bench_stereo(c, "program_meter_on_mix", |l, r| {
        program_meter_in.process(l, r)
    });
    let mut correlation = CorrelationMeter::new(SAMPLE_RATE);
    bench_stereo(c, "correlation_meter", |l, r| correlation.process(l, r));

    // The multiband saturation (issue 27): the default (3 bands, 4x, automatic gain) and the
    // most expensive setting (5 bands, 16x), each at 44.1 and 96 kHz, every band driven 6 dB.
    for (name, bands, factor, fs) in [
        ("saturation_default_44k", 3, 4, 44_100.0),
        ("saturation_default_96k", 3, 4, 96_000.0),
        ("saturation_5_bands_16x_44k", 5, 16, 44_100.0),
        ("saturation_5_bands_16x_96k", 5, 16, 96_000.0),
    ] {
        let mut saturation = Saturation::new(fs);
        saturation.set(&SaturationSettings {
            enabled: true,
            bands,
            oversampling: factor,
            band: [BandSettings {
                drive_db: 6.0,
                mix_percent: 100.0,
                curve: SaturationCurve::Tube,
            }; 5],
            ..SaturationSettings::default()
        });
        saturation.reset(fs);
        bench_stereo(c, name, |l, r| saturation.process(l, r));
    }

    // The clipper (issue 27): the default (soft, 8x) and the most expensive setting (tanh,
    // 16x), 6 dB of drive, at 44.1 and 96 kHz.
    for (name, curve, factor, fs) in [
        ("clipper_default_44k", ClipCurve::Soft, 8, 44_100.0),
        ("clipper_default_96k", ClipCurve::Soft, 8, 96_000.0),
        ("clipper_tanh_16x_44k", ClipCurve::Tanh, 16, 44_100.0),
        ("clipper_tanh_16x_96k", ClipCurve::Tanh, 16, 96_000.0),
    ] {
        let mut clipper = Clipper::new(fs);
        clipper.set(&ClipperSettings {
            enabled: true,
            drive_db: 6.0,
            curve,
            oversampling: factor,
            ..ClipperSettings::default()
        });
        clipper.reset(fs);
        bench_stereo(c, name, |l, r| clipper.process(l, r));
    }
    // The multiband dynamics (issue 28): 4 bands, all compressing, stereo / mid / side and
    // an upward band, 5 ms lookahead.
    // Also with the linear-phase crossover (three 4095-tap FIR splits at 44.1 kHz, 8191 at 96).
    for (name, fs, linear_phase) in [
        ("multiband_4_bands_44k", 44_100.0, false),
        ("multiband_4_bands_96k", 96_000.0, false),
        ("multiband_4_bands_linear_phase_44k", 44_100.0, true),
        ("multiband_4_bands_linear_phase_96k", 96_000.0, true),
    ] {
        let mut multiband = Multiband::new(fs);
        let mut settings = MultibandSettings {
            enabled: true,
            bands: 4,
            linear_phase,
            lookahead_ms: 5.0,
            ..MultibandSettings::default()
        };
        for (i, band) in settings.band.iter_mut().enumerate() {
            band.threshold_db = -30.0;
            band.ratio = 3.0;
            band.auto_release = i % 2 == 1;
            band.channels = [
                Channels::Stereo,
                Channels::Mid,
                Channels::Side,
                Channels::Stereo,
            ][i.min(3)];
            if i == 3 {
                band.direction = Direction::Upward;
            }
        }
        multiband.set(&settings);
        multiband.reset(fs);
        bench_stereo(c, name, |l, r| multiband.process(l, r));
    }

    // The vinyl stages (issue 29): the elliptical EQ (6th-order side high-pass) at its 150 Hz
    // default, and the HF limiter (linear-phase band split, RIAA detector) at a -6 dB limit on
    // the programme, so it reduces, at 44.1 and 96 kHz.
    for (name, fs) in [("elliptical_44k", 44_100.0), ("elliptical_96k", 96_000.0)] {
        let mut elliptical = EllipticalEq::new(fs);
        elliptical.set(&EllipticalSettings {
            enabled: true,
            ..EllipticalSettings::default()
        });
        elliptical.reset(fs);
        bench_stereo(c, name, |l, r| elliptical.process(l, r));
    }
    for (name, fs) in [("hf_limiter_44k", 44_100.0), ("hf_limiter_96k", 96_000.0)] {
        let mut hf_limiter = HfLimiter::new(fs);
        hf_limiter.set(&HfLimiterSettings {
            enabled: true,
            limit_db: -6.0,
            ..HfLimiterSettings::default()
        });
        hf_limiter.reset(fs);
        bench_stereo(c, name, |l, r| hf_limiter.process(l, r));
    }

    // Stages that are off cost the chain nothing but a check: the default engine with the
    // saturation and the clipper present but off is `engine_default_state`; this is the chain
    // alone in its default state.
    let mut default_chain = Chain::new();
    default_chain.set(&ChainSettings::default());
    default_chain.reset(SAMPLE_RATE);
    bench_stereo(c, "chain_default_state", |l, r| default_chain.process(l, r));

    // The true-peak detector alone (one stereo signal: what the limiter and each programme
    // meter run), per instruction-set variant this CPU has (issue 26).
    let mut history_l = vec![0.0f32; TRUE_PEAK_HISTORY + BLOCK];
    let mut history_r = vec![0.0f32; TRUE_PEAK_HISTORY + BLOCK];
    let mut peaks = vec![0.0f32; BLOCK];
    for (name, level) in [
        ("true_peak_detector_portable", Level::Portable),
        ("true_peak_detector_avx2", Level::Avx2Fma),
        ("true_peak_detector_avx512", Level::Avx512),
    ] {
        if !simd::supports(level) {
            continue;
        }
        bench_stereo(c, name, |l, r| {
            history_l[TRUE_PEAK_HISTORY..].copy_from_slice(l);
            history_r[TRUE_PEAK_HISTORY..].copy_from_slice(r);
            stereo_true_peak_block_at(level, &history_l, &history_r, &mut peaks);
            history_l.copy_within(BLOCK.., 0);
            history_r.copy_within(BLOCK.., 0);
        });
    }
    for (name, listen_original) in [
        ("ab_monitor_hearing_a", false),
        ("ab_monitor_hearing_b", true),
    ] {
        let mut ab = AbMonitor::new();
        let ab_settings = AbSettings {
            listen_original,
            ..AbSettings::default()
        };
        ab.set(&ab_settings, 0, ChainSettings::default().limiter.ceiling_db);
        ab.reset(SAMPLE_RATE, 0, false, false);
        let mut pos = 0;
        let (mut out_l, mut out_r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
        bench_stereo(c, name, |l, r| {
            out_l.copy_from_slice(&processed_l[pos..pos + BLOCK]);
            out_r.copy_from_slice(&processed_r[pos..pos + BLOCK]);
            pos = (pos + BLOCK) % (processed_l.len() - BLOCK);
            ab.process(l, r, &mut out_l, &mut out_r);
        });
    }
}

criterion_group!(chain_benches, benches);

fn main() {
    chain_benches();
    Criterion::default().configure_from_args().final_summary();
    print_realtime_factors();
}

/// Reads criterion's mean estimate per benchmark and prints audio-seconds per CPU-second.
fn print_realtime_factors() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("criterion").join("chain"))
        .unwrap_or_default();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut rows = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join("new").join("estimates.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(ns) = json["mean"]["point_estimate"].as_f64() else {
            continue;
        };
        // Benchmarks named for their rate (`..._44k1`, `..._96k`) run at it; the rest at 48 kHz.
        let name = entry.file_name().to_string_lossy().into_owned();
        let rate = if name.ends_with("_44k1") {
            44_100.0
        } else if name.ends_with("_96k") {
            96_000.0
        } else {
            SAMPLE_RATE as f64
        };
        let audio_seconds = BLOCK as f64 / rate;
        let factor = audio_seconds / (ns * 1e-9);
        let ns_per_frame = ns / BLOCK as f64;
        rows.push((
            entry.file_name().to_string_lossy().into_owned(),
            factor,
            ns_per_frame,
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    println!(
        "\nRealtime factor (48 kHz unless named _44k1/_96k) stereo, 512-frame blocks \
         (audio s per CPU s):"
    );
    for (name, factor, ns) in &rows {
        println!("  {name:<28} {factor:>9.0}x   ({ns:.1} ns per stereo frame)");
    }
    println!("\nCost on subnormal input relative to programme material (target <= 1.2):");
    for (name, _, denormal_ns) in &rows {
        let Some(base) = name.strip_suffix("_denormal_input") else {
            continue;
        };
        if let Some((_, _, normal_ns)) = rows.iter().find(|r| r.0 == base) {
            println!("  {base:<28} {:>6.2}x", denormal_ns / normal_ns);
        }
    }
}
