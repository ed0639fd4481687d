//! The offline renderer runs the plugin's own engine: a rendered file equals `Engine`'s output
//! sample for sample; loudness targets are hit (own meter cross-checked with the independent
//! `ebur128` crate); album mode keeps the requested loudness relationship.

mod common;

use std::path::PathBuf;

use fairmaster::ab::AbSettings;
use fairmaster::engine::Engine;
use fairmaster::offline::audio_io::{read_audio_file, write_wav_atomic, OutputFormat};
use fairmaster::offline::cli::{run, Options, TargetSpec};
use fairmaster::offline::demo::demo_mix;
use fairmaster::offline::render::integrated_lufs;
use fairmaster::offline::Audio;
use fairmaster::presets::param_set::{settings_approx_eq, ParamSet};
use fairmaster::presets::reference_master;
use fairmaster::stages::ChainSettings;

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("offline-render", test)
}

/// The first `seconds` of the demo mix, scaled by `gain_db`.
fn excerpt(seconds: f64, gain_db: f32) -> Audio {
    let mix = demo_mix();
    let n = (seconds * f64::from(mix.sample_rate)) as usize;
    let g = 10f32.powf(gain_db / 20.0);
    Audio {
        sample_rate: mix.sample_rate,
        channels: mix
            .channels
            .iter()
            .map(|c| c[..n].iter().map(|x| x * g).collect())
            .collect(),
    }
}

/// What the plugin's `process()` produces: the engine driven like `lib.rs` (offline mode),
/// in host-sized blocks, with the latency removed the way a DAW's delay compensation does.
fn engine_output(input: &Audio, settings: &ChainSettings, ab: &AbSettings, block: usize) -> Audio {
    let mut engine = Engine::new();
    engine.set(settings, ab);
    engine.reset(input.sample_rate as f32, true, input.is_mono());
    let latency = engine.latency_samples() as usize;
    let mut channels: Vec<Vec<f32>> = input
        .channels
        .iter()
        .map(|c| {
            let mut v = c.clone();
            v.resize(c.len() + latency, 0.0);
            v
        })
        .collect();
    let total = channels[0].len();
    let mut start = 0;
    while start < total {
        let end = (start + block).min(total);
        engine.set(settings, ab); // the plugin applies the parameters every block
        match channels.as_mut_slice() {
            [m] => engine.process_mono(&mut m[start..end]),
            [l, r] => engine.process_stereo(&mut l[start..end], &mut r[start..end]),
            _ => unreachable!(),
        }
        start = end;
    }
    for c in &mut channels {
        c.drain(..latency);
    }
    Audio {
        sample_rate: input.sample_rate,
        channels,
    }
}

#[test]
fn rendered_file_equals_the_plugin_engine_output_sample_for_sample() {
    let dir = scratch_dir("equality");
    type Case = (&'static str, bool, Vec<(String, String)>);
    let cases: [Case; 3] = [
        ("stereo-reference", false, vec![]),
        (
            "stereo-linear-phase",
            false,
            vec![("eq_mode".into(), "linear_phase".into())],
        ),
        ("mono-reference", true, vec![]),
    ];
    for (name, mono, sets) in cases {
        let mut input = excerpt(2.0, 0.0);
        if mono {
            input.channels.truncate(1);
        }
        let in_path = dir.join(format!("{name}.wav"));
        let out_path = dir.join(format!("{name}.master.wav"));
        write_wav_atomic(&in_path, &input, OutputFormat::Float32, false).unwrap();
        let options = Options {
            inputs: vec![in_path.clone()],
            output: Some(out_path.clone()),
            format: OutputFormat::Float32,
            sets: sets.clone(),
            quiet: true,
            ..Options::default()
        };
        let report = run(&options).unwrap();
        let rendered = read_audio_file(&out_path).unwrap();
        assert_eq!(rendered.frames(), input.frames(), "{name}: same length");

        // The same settings, through the same mapping the plugin uses.
        let mut params = ParamSet::builtin("reference").unwrap();
        for (id, value) in &sets {
            params.set_text(id, value).unwrap();
        }
        let settings = params.chain_settings();
        if sets.is_empty() {
            assert!(settings_approx_eq(&settings, &reference_master(false)));
        }
        let expected = engine_output(&input, &settings, &params.ab_settings(), 441);
        let mismatches = rendered
            .channels
            .iter()
            .zip(&expected.channels)
            .flat_map(|(a, b)| a.iter().zip(b))
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        assert_eq!(mismatches, 0, "{name}: render differs from Engine output");
        assert!(report.files[0].latency_samples > 0, "{name}");
        // Not a trivial pass-through: the chain changed the signal.
        assert_ne!(rendered.channels[0], input.channels[0], "{name}");
    }
}

/// Integrated loudness by the independent `ebur128` crate.
use common::loudness::ebur128_audio as ebur128_lufs;

#[test]
fn render_hits_loudness_targets_cross_checked_with_ebur128() {
    let dir = scratch_dir("targets");
    let input = excerpt(6.0, 0.0);
    let in_path = dir.join("mix.wav");
    write_wav_atomic(&in_path, &input, OutputFormat::Float32, false).unwrap();
    for (target, name, format) in [
        ("spotify", "spotify", OutputFormat::Int24),
        ("club", "club", OutputFormat::Int16),
        ("r128", "r128", OutputFormat::Float32),
    ] {
        let out = dir.join(format!("{name}.wav"));
        let spec = TargetSpec::parse(target).unwrap();
        let TargetSpec::Preset { lufs, ceiling_dbtp } = spec else {
            unreachable!()
        };
        let options = Options {
            inputs: vec![in_path.clone()],
            output: Some(out.clone()),
            target: Some(spec),
            format,
            quiet: true,
            ..Options::default()
        };
        let report = run(&options).unwrap();
        let file = read_audio_file(&out).unwrap();
        let own = integrated_lufs(&file);
        let independent = ebur128_lufs(&file);
        let t = f64::from(lufs);
        println!(
            "{name}: target {t} LUFS, own meter {own:.3}, ebur128 {independent:.3}, \
             renders {}",
            report.files[0].target.as_ref().unwrap().passes.len()
        );
        assert!((own - t).abs() <= 0.5, "{name}: {own} LUFS vs target {t}");
        assert!(
            (independent - t).abs() <= 0.5,
            "{name}: ebur128 {independent} vs {t}"
        );
        assert!(
            (own - independent).abs() <= 0.1,
            "{name}: meters disagree: own {own}, ebur128 {independent}"
        );
        // The report's figure is the written file's loudness, and the ceiling holds.
        let after = report.files[0].after;
        assert!(
            (f64::from(after.integrated_lufs) - own).abs() < 0.01,
            "report {} vs file {own}",
            after.integrated_lufs
        );
        assert!(
            after.true_peak_dbtp <= ceiling_dbtp + 0.1,
            "{name}: true peak {} over ceiling {ceiling_dbtp}",
            after.true_peak_dbtp
        );
    }
}

#[test]
fn album_modes_keep_the_requested_loudness_relationship() {
    let dir = scratch_dir("album");
    // Three "songs" mixed 0, -3 and -7 dB apart.
    let gains = [0.0f32, -3.0, -7.0];
    let inputs: Vec<PathBuf> = gains
        .iter()
        .enumerate()
        .map(|(k, &g)| {
            let path = dir.join(format!("song{k}.wav"));
            write_wav_atomic(&path, &excerpt(4.0, g), OutputFormat::Float32, false).unwrap();
            path
        })
        .collect();
    let input_lufs: Vec<f64> = inputs
        .iter()
        .map(|p| integrated_lufs(&read_audio_file(p).unwrap()))
        .collect();

    for mode in ["relative", "same"] {
        let out_dir = dir.join(mode);
        std::fs::create_dir_all(&out_dir).unwrap();
        let preview = out_dir.join("preview.wav");
        let options = Options {
            inputs: inputs.clone(),
            out_dir: Some(out_dir.clone()),
            target: Some(TargetSpec::Lufs(-12.0)),
            album_mode: fairmaster::offline::album::AlbumMode::parse(mode).unwrap(),
            format: OutputFormat::Float32,
            preview: Some(preview.clone()),
            quiet: true,
            ..Options::default()
        };
        let report = run(&options).unwrap();
        let outputs: Vec<Audio> = (0..3)
            .map(|k| read_audio_file(&out_dir.join(format!("song{k}.master.wav"))).unwrap())
            .collect();
        let output_lufs: Vec<f64> = outputs.iter().map(integrated_lufs).collect();
        println!("{mode}: input {input_lufs:.2?} -> output {output_lufs:.2?}");
        for k in 0..3 {
            let want = match mode {
                // The loudest song on target, the others as far below it as in the mix.
                "relative" => -12.0 - (input_lufs[0] - input_lufs[k]),
                _ => -12.0,
            };
            assert!(
                (output_lufs[k] - want).abs() <= 0.1,
                "{mode}: song {k} at {} LUFS, wanted {want}",
                output_lufs[k]
            );
        }
        let album = report.album.unwrap();
        let input_spread = input_lufs[0] - input_lufs[2];
        match mode {
            "relative" => assert!((album.output_spread_lu - input_spread).abs() <= 0.2),
            _ => assert!(album.output_spread_lu <= 0.2, "{album:?}"),
        }
        assert!((album.input_spread_lu - input_spread).abs() < 1e-9);
        // The preview is the three masters back to back, without gaps.
        let joined = read_audio_file(&preview).unwrap();
        let concatenated: Vec<f32> = outputs
            .iter()
            .flat_map(|o| o.channels[0].iter().copied())
            .collect();
        assert_eq!(joined.channels[0], concatenated);
    }
}
