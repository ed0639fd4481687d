//! Acceptance tests of the reference tracks in the engine (issue 13): listen three ways, the
//! level match measured by the independent `ebur128` crate, host sync and latency
//! compensation, click-free switching, render safety.

mod common;

use std::sync::Arc;

use common::signals::{largest_step, multitone_mix, pink_noise};
use fairmaster::ab::AbSettings;
use fairmaster::engine::Engine;
use fairmaster::offline::listen::{render_listening, ListenMode};
use fairmaster::offline::Audio;
use fairmaster::reference::decode::DecodedStereo;
use fairmaster::reference::playback::{MatchMode, ReferenceSettings, Transport};
use fairmaster::reference::track::ReferenceTrack;
use fairmaster::stages::ChainSettings;
use fairmaster::targets::PLATFORMS;

const FS: u32 = 48_000;

fn track(left: Vec<f32>, right: Vec<f32>) -> Arc<ReferenceTrack> {
    Arc::new(ReferenceTrack::analyse(
        DecodedStereo {
            left,
            right,
            sample_rate: FS,
            source_rate: FS,
            source_channels: 2,
            format: "test".into(),
            content_hash: 1,
        },
        "generated.wav".into(),
    ))
}

/// A loud master: +6 dB into the limiter.
fn loud_master() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.limiter.drive_db = 6.0;
    s
}

fn mix(seconds: usize) -> Audio {
    let (l, r) = multitone_mix(seconds * FS as usize, FS as f32);
    Audio {
        sample_rate: FS,
        channels: vec![l, r],
    }
}

/// Integrated loudness by the `ebur128` crate (independent of our meter) of frames
/// `[from, to)`.
fn ebur128_lufs(audio: &Audio, from: usize, to: usize) -> f64 {
    common::loudness::ebur128_span(audio, from, to)
}

fn heard(
    input: &Audio,
    chain: &ChainSettings,
    ab: &AbSettings,
    mode: ListenMode,
    reference: &Arc<ReferenceTrack>,
    settings: &ReferenceSettings,
) -> Audio {
    render_listening(input, chain, ab, mode, Some(reference.clone()), settings).audio
}

/// A dynamic, quiet reference (-30 dBFS RMS pink noise with a -6 dBFS click every second:
/// raising it to a loud master pushes those peaks over the ceiling, so its safety limiter
/// acts) and a loud one.
fn references() -> Vec<(&'static str, Arc<ReferenceTrack>)> {
    let n = 30 * FS as usize;
    let mut quiet = pink_noise(n, 5, -30.0);
    for i in (0..n).step_by(FS as usize) {
        quiet[i] = 0.5;
    }
    let quiet_right: Vec<f32> = quiet.iter().rev().copied().collect();
    let loud = pink_noise(n, 6, -10.0);
    let loud_right = pink_noise(n, 7, -10.0);
    vec![
        ("quiet dynamic reference", track(quiet, quiet_right)),
        ("loud reference", track(loud, loud_right)),
    ]
}

#[test]
fn the_heard_reference_is_within_0_3_lu_of_the_heard_master_in_every_match_mode() {
    let input = mix(24);
    let chain = loud_master();
    let from = 8 * FS as usize; // the last 16 s: the engineer has been listening a while
    let to = input.frames();
    for (name, reference) in references() {
        for mode in [
            MatchMode::Integrated,
            MatchMode::ShortTerm,
            MatchMode::AsStreamed,
        ] {
            let ab = AbSettings {
                reference_match: mode,
                ..AbSettings::default()
            };
            let mut settings = ReferenceSettings {
                match_mode: mode,
                ..ReferenceSettings::default()
            };
            // A 12 s loop inside the track.
            settings.slots[0].loop_start_seconds = 4.0;
            settings.slots[0].loop_end_seconds = 16.0;
            let master = heard(
                &input,
                &chain,
                &ab,
                ListenMode::Master,
                &reference,
                &settings,
            );
            let refr = heard(
                &input,
                &chain,
                &ab,
                ListenMode::Reference,
                &reference,
                &settings,
            );
            let (m, r) = (
                ebur128_lufs(&master, from, to),
                ebur128_lufs(&refr, from, to),
            );
            if mode == MatchMode::AsStreamed {
                // Not matched to each other but each as Spotify plays it: a master louder
                // than -14 LUFS is turned down to -14, and so is the loud reference; the
                // quiet one is raised only as far as its true peak allows (to -1 dBTP).
                assert!((m + 14.0).abs() < 0.5, "{name}: streamed master at {m:.2}");
                let gain = PLATFORMS[0]
                    .normalisation_gain_db(
                        reference.summary.integrated_lufs,
                        reference.summary.true_peak_dbtp,
                    )
                    .unwrap();
                let (a, b) = (4 * FS as usize, 16 * FS as usize);
                let own = common::loudness::ebur128_stereo(
                    &reference.left[a..b],
                    &reference.right[a..b],
                    FS,
                );
                let want = own + f64::from(gain);
                assert!(
                    (r - want).abs() <= 0.3,
                    "{name}: streamed reference at {r:.2} LUFS, Spotify would play it at {want:.2}"
                );
            } else {
                assert!(
                    (m - r).abs() <= 0.3,
                    "{name}, {mode:?}: master {m:.2} LUFS, reference heard at {r:.2} LUFS"
                );
            }
        }
    }
}

#[test]
fn the_reference_is_never_processed_by_the_chain() {
    // An extreme chain (+12 dB shelf, heavy limiting) must not colour the reference: the
    // heard reference is the track times one gain.
    let mut chain = loud_master();
    chain.limiter.drive_db = 18.0;
    chain.eq_enabled = true;
    chain.eq.high_shelf.enabled = true;
    chain.eq.high_shelf.gain_db = 12.0;
    let input = mix(12);
    let n = 12 * FS as usize;
    // Low-crest tones (a sine's crest is 3 dB), so raising them to the loud master keeps
    // their peaks below the ceiling and the safety limiter (which does act on the reference,
    // by design) stays idle: what is left is the match gain alone.
    let left = common::signals::sine(n, 997.0, FS as f32, 0.1);
    let right = common::signals::sine(n, 1499.0, FS as f32, 0.1);
    let reference = track(left.clone(), right.clone());
    let ab = AbSettings {
        reference_match: MatchMode::Integrated,
        ..AbSettings::default()
    };
    let settings = ReferenceSettings::default();
    let out = heard(
        &input,
        &chain,
        &ab,
        ListenMode::Reference,
        &reference,
        &settings,
    );
    // After the match has settled (the master's integrated loudness moves little after 6 s),
    // the ratio heard / track is one number (its slow glide aside) and the reference is
    // sample-aligned with the timeline (sync mode, latency compensated).
    let (a, b) = (8 * FS as usize, 8 * FS as usize + 4800);
    let ratios: Vec<f64> = (a..b)
        .filter(|&i| left[i].abs() > 0.05)
        .map(|i| f64::from(out.channels[0][i]) / f64::from(left[i]))
        .collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let spread = ratios
        .iter()
        .map(|r| (r / mean).log10().abs() * 20.0)
        .fold(0.0, f64::max);
    assert!(
        mean > 1.0,
        "the quiet reference is raised to the loud master: {mean}"
    );
    assert!(
        spread < 0.01,
        "the reference was altered: {spread} dB spread of heard/track"
    );
    let right_ratio = f64::from(out.channels[1][a + 100]) / f64::from(right[a + 100]);
    assert!((right_ratio / mean - 1.0).abs() < 1e-3);
}

#[test]
fn sync_mode_lands_on_the_same_musical_moment_whatever_the_chain_latency() {
    // The reference is a bounce of the mix itself: master and reference must line up to the
    // sample, with the limiter's lookahead and with the linear-phase EQ's long latency.
    let input = mix(6);
    let reference = track(input.channels[0].clone(), input.channels[1].clone());
    for linear_phase in [false, true] {
        let chain = ChainSettings {
            eq_enabled: linear_phase,
            eq_linear_phase: linear_phase,
            ..Default::default()
        };
        let ab = AbSettings::default();
        let settings = ReferenceSettings::default();
        let master = render_listening(
            &input,
            &chain,
            &ab,
            ListenMode::Master,
            Some(reference.clone()),
            &settings,
        );
        let refr = heard(
            &input,
            &chain,
            &ab,
            ListenMode::Reference,
            &reference,
            &settings,
        );
        // Cross-correlation peak between the heard master and the heard reference.
        let (a, len) = (2 * FS as usize, FS as usize);
        let best = (-50i64..=50)
            .max_by(|&x, &y| {
                let c = |lag: i64| -> f64 {
                    (a..a + len)
                        .map(|i| {
                            f64::from(master.audio.channels[0][i])
                                * f64::from(refr.channels[0][(i as i64 + lag) as usize])
                        })
                        .sum()
                };
                c(x).total_cmp(&c(y))
            })
            .unwrap();
        assert_eq!(
            best, 0,
            "linear phase {linear_phase}: latency {} samples, reference off by {best}",
            master.latency_samples
        );
    }
}

#[test]
fn switching_between_master_original_and_reference_is_click_free() {
    let input = mix(8);
    // A smooth reference (a 220 Hz tone): a hard switch to or from it would step by up to the
    // master's full amplitude, far beyond either programme's own largest step.
    let n = 30 * FS as usize;
    let tone = common::signals::sine(n, 220.0, FS as f32, 0.3);
    let reference = track(tone.clone(), tone);
    let mut engine = Engine::new();
    let chain = loud_master();
    let mut ab = AbSettings::default();
    engine.set(&chain, &ab);
    engine.set_reference(&ReferenceSettings::default());
    engine.reset(FS as f32, false, false);
    engine.install_reference(0, Some(reference));
    let (mut l, mut r) = (input.channels[0].clone(), input.channels[1].clone());
    let block = 256;
    let mut position = 0;
    let mut switches = Vec::new();
    for (k, (bl, br)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
        // Every 0.5 s: master -> reference -> original -> reference -> master ...
        if k > 0 && k % 94 == 0 {
            let step = (k / 94) % 4;
            ab.listen_reference = step % 2 == 1;
            ab.listen_original = step == 2;
            engine.set(&chain, &ab);
            switches.push(position);
        }
        engine.set_transport(Transport {
            playing: true,
            position_samples: Some(position as i64),
        });
        engine.process_stereo(bl, br);
        position += bl.len();
    }
    // The largest sample step around each switch is within an equal-power fade's √2 of the
    // largest step the sources make on their own between switches (a hard switch between
    // unrelated signals jumps by up to their sum).
    let steady = switches
        .windows(2)
        .map(|w| largest_step(&l[w[0] + 2000..w[1]]))
        .fold(0.0f32, f32::max);
    for &s in &switches[1..] {
        let around = largest_step(&l[s - 100..s + 2000]);
        assert!(
            around <= steady * 1.5,
            "switch at {s}: step {around} vs the sources' own {steady}"
        );
    }
}

#[test]
fn an_offline_render_is_the_master_even_with_the_reference_selected() {
    let input = mix(3);
    let reference = references().remove(0).1;
    let chain = loud_master();
    let ab = AbSettings {
        listen_reference: true,
        ..AbSettings::default()
    };
    let run = |offline: bool| {
        let mut engine = Engine::new();
        engine.set(&chain, &if offline { ab } else { AbSettings::default() });
        engine.set_reference(&ReferenceSettings::default());
        engine.reset(FS as f32, offline, false);
        // The realtime baseline is the plain master: with this quiet reference loaded, the
        // monitoring would turn the master down to meet it (never in a bounce).
        if offline {
            engine.install_reference(0, Some(reference.clone()));
        }
        let (mut l, mut r) = (input.channels[0].clone(), input.channels[1].clone());
        for (bl, br) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
            engine.set_transport(Transport {
                playing: true,
                position_samples: Some(0),
            });
            engine.process_stereo(bl, br);
        }
        l
    };
    assert_eq!(
        run(true),
        run(false),
        "offline render with R selected != the master"
    );
}

#[test]
fn an_empty_slot_or_a_stopped_transport_is_silence_not_the_master() {
    let input = mix(2);
    let chain = ChainSettings::default();
    let ab = AbSettings {
        listen_reference: true,
        ..AbSettings::default()
    };
    let mut engine = Engine::new();
    engine.set(&chain, &ab);
    engine.set_reference(&ReferenceSettings::default());
    engine.reset(FS as f32, false, false);
    let (mut l, mut r) = (input.channels[0].clone(), input.channels[1].clone());
    engine.process_stereo(&mut l, &mut r);
    assert!(l[FS as usize / 10..].iter().all(|&x| x == 0.0));
    // With a track but the transport stopped (sync mode): silence after the fade.
    engine.install_reference(0, Some(references().remove(1).1));
    let (mut l, mut r) = (input.channels[0].clone(), input.channels[1].clone());
    engine.set_transport(Transport {
        playing: false,
        position_samples: Some(0),
    });
    engine.process_stereo(&mut l, &mut r);
    assert!(l[FS as usize / 10..].iter().all(|&x| x == 0.0));
}

/// Auto-align (`reference::align`): the engine captures the mix as the host plays it, the
/// search finds where a bounce of the same mix starts, and with that offset the heard reference
/// lines up with the heard master to the sample.
#[test]
fn auto_align_places_a_bounce_of_the_same_mix_within_one_sample() {
    use fairmaster::reference::align::{align_offset, AlignCapture};
    let input = mix(12);
    let chain = fairmaster::presets::reference_master(false);
    let ab = AbSettings::default();
    // Two bounces: the unmastered mix, and the master through a whole mastering chain (EQ,
    // compressor, stereo, limiter). Each starts 12 345 frames late (a bounce from an earlier
    // point of the timeline) and is cut short at the end.
    let lead = 12_345usize;
    let master = render_listening(
        &input,
        &chain,
        &ab,
        ListenMode::Master,
        None,
        &ReferenceSettings::default(),
    )
    .audio;
    for (name, source) in [("mix", &input), ("master", &master)] {
        let bounce = |c: &[f32]| {
            let mut v = vec![0.0f32; lead];
            v.extend_from_slice(&c[..c.len() - FS as usize]);
            v
        };
        let reference = track(bounce(&source.channels[0]), bounce(&source.channels[1]));

        // The plugin's path: sync mode, transport playing from 0, capture requested at 1 s.
        let capture = Arc::new(AlignCapture::new());
        let mut engine = Engine::new();
        engine.set(&chain, &ab);
        engine.set_reference(&ReferenceSettings::default());
        engine.reset(FS as f32, false, false);
        drop(engine.install_reference(0, Some(reference.clone())));
        engine.set_align_capture(Some(capture.clone()));
        let (mut l, mut r) = (input.channels[0].clone(), input.channels[1].clone());
        let mut taken = None;
        for (k, (bl, br)) in l.chunks_mut(480).zip(r.chunks_mut(480)).enumerate() {
            if k == 100 {
                capture.request(FS as f32);
            }
            engine.set_transport(Transport {
                playing: true,
                position_samples: Some(480 * k as i64),
            });
            engine.process_stereo(bl, br);
            if let Some(t) = capture.take() {
                taken = Some(t);
            }
        }
        let (start, captured) = taken.expect("capture finished");
        assert_eq!(start, 48_000);
        let (offset, coherence) = align_offset(&reference, start, &captured, 0).unwrap();
        eprintln!("{name}: offset {offset} frames (true {lead}), coherence {coherence:.3}");
        assert!(
            (offset - lead as i64).abs() <= 1,
            "{name}: offset {offset}, true {lead}"
        );

        // With the offset, the reference heard at each moment carries what its source (the
        // mix, or the master) has at that moment: switching lands on the same musical moment.
        let mut settings = ReferenceSettings::default();
        settings.slots[0].offset_seconds = offset as f64 / f64::from(FS);
        let heard_reference = heard(
            &input,
            &chain,
            &ab,
            ListenMode::Reference,
            &reference,
            &settings,
        );
        let mono = |a: &Audio| -> Vec<f32> {
            a.channels[0]
                .iter()
                .zip(&a.channels[1])
                .map(|(l, r)| 0.5 * (l + r))
                .collect()
        };
        let (m, h) = (mono(source), mono(&heard_reference));
        let section = 4 * FS as usize..8 * FS as usize;
        let lag = fairmaster::reference::align::find_lag(
            &m[section.clone()],
            &h[section.start - 100..section.end + 100],
            100,
        )
        .unwrap();
        assert!(lag.samples.abs() <= 1, "{name}: heard lag {lag:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Real recordings (issue 24): the match held on synthetic programme and missed by 1.1 LU on a
// real one, because the make-up for the safety limiter's loss fed back on the limiter.

const REAL_FS: u32 = 44_100;
/// The section compared: a chorus-length excerpt of each song.
const SECTION_S: f64 = 20.0;

fn real_track(name: &str, (left, right): (Vec<f32>, Vec<f32>)) -> Arc<ReferenceTrack> {
    Arc::new(ReferenceTrack::analyse(
        DecodedStereo {
            left,
            right,
            sample_rate: REAL_FS,
            source_rate: REAL_FS,
            source_channels: 2,
            format: "Ogg Vorbis".into(),
            content_hash: 1,
        },
        name.into(),
    ))
}

/// What one match case measured (by the `ebur128` crate over the measured span).
struct RealCase {
    what: String,
    master_lufs: f64,
    reference_lufs: f64,
    safety_limiting_db: f32,
    master_down_db: f32,
}

/// Master and reference heard with `mode` as an engineer compares them: the section (`mix`)
/// looped twice and the second pass measured, so the master's integrated loudness the match
/// follows ("since the meter reset") is the section's, and the reference's loop is its own
/// excerpt of the same length, played in sync.
fn real_case(
    what: &str,
    mix: &Audio,
    chain: &ChainSettings,
    reference: &Arc<ReferenceTrack>,
    mode: MatchMode,
) -> RealCase {
    let ab = AbSettings {
        reference_match: mode,
        ..AbSettings::default()
    };
    let settings = ReferenceSettings {
        match_mode: mode,
        ..ReferenceSettings::default()
    };
    let n = mix.frames();
    let twice = Audio {
        sample_rate: mix.sample_rate,
        channels: mix
            .channels
            .iter()
            .map(|c| [&c[..], &c[..]].concat())
            .collect(),
    };
    let run = |listen| {
        render_listening(
            &twice,
            chain,
            &ab,
            listen,
            Some(reference.clone()),
            &settings,
        )
    };
    let master = run(ListenMode::Master);
    let heard = run(ListenMode::Reference);
    RealCase {
        what: format!("{what}, {mode:?}"),
        master_lufs: ebur128_lufs(&master.audio, n, 2 * n),
        reference_lufs: ebur128_lufs(&heard.audio, n, 2 * n),
        safety_limiting_db: heard.status.reference_safety_limiting_db,
        master_down_db: heard.status.master_down_db,
    }
}

#[test]
fn real_references_are_heard_at_the_masters_loudness_through_their_safety_limiter() {
    use common::real_music::{excerpt, muldjord, pushover};
    let Some(mix_path) = pushover("mechanic") else {
        return;
    };
    let mut references = Vec::new();
    for (name, start) in [
        ("option", 10.0),
        ("toxcity", 60.0),
        ("japanese", 60.0),
        ("electro", 30.0),
    ] {
        let Some(path) = pushover(name) else { return };
        references.push((
            name,
            real_track(name, excerpt(&path, REAL_FS, start, SECTION_S)),
        ));
    }
    let Some(loud) = muldjord("mutilated_mime") else {
        return;
    };
    references.push((
        "mutilated_mime",
        real_track("mutilated_mime", excerpt(&loud, REAL_FS, 60.0, SECTION_S)),
    ));
    let (l, r) = excerpt(&mix_path, REAL_FS, 66.0, SECTION_S);
    let input = Audio {
        sample_rate: REAL_FS,
        channels: vec![l, r],
    };
    let mut cases = Vec::new();
    // The master as mixed (-14 LUFS), raised 3 dB, and raised 6 dB into the limiter (as the
    // issue's -12 LUFS master): the quiet references need from 0 to beyond 8 dB of limiting.
    for input_gain in [0.0, 3.0, 6.0] {
        let chain = ChainSettings {
            input_gain_db: input_gain,
            ..ChainSettings::default()
        };
        for (name, reference) in &references {
            for mode in [MatchMode::Integrated, MatchMode::ShortTerm] {
                let what = format!("{name} vs the mix +{input_gain} dB");
                let case = real_case(&what, &input, &chain, reference, mode);
                println!(
                    "{:<44} master {:7.2}  reference {:7.2} LUFS ({:+.2} LU)  limiting {:4.1} dB  \
                     master down {:4.1} dB",
                    case.what,
                    case.master_lufs,
                    case.reference_lufs,
                    case.reference_lufs - case.master_lufs,
                    case.safety_limiting_db,
                    case.master_down_db
                );
                cases.push(case);
            }
        }
    }
    let failures: Vec<String> = cases
        .iter()
        .filter(|c| (c.reference_lufs - c.master_lufs).abs() > 0.3)
        .map(|c| {
            format!(
                "{}: master {:.2}, reference heard at {:.2} LUFS",
                c.what, c.master_lufs, c.reference_lufs
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The set spans what the issue asks for: references louder than the master, references
    // raised from a little to 8 dB into their safety limiter, and references that cannot be
    // met within 8 dB, for which the master was turned down instead.
    assert!(cases
        .iter()
        .any(|c| c.safety_limiting_db == 0.0 && c.master_down_db == 0.0));
    assert!(cases
        .iter()
        .any(|c| c.safety_limiting_db > 0.0 && c.safety_limiting_db < 2.0));
    assert!(cases
        .iter()
        .any(|c| c.safety_limiting_db > 6.0 && c.master_down_db == 0.0));
    assert!(cases.iter().any(|c| c.master_down_db > 1.0));
}

#[test]
fn as_streamed_plays_each_file_as_every_platform_would_over_the_second_half_of_a_song() {
    // A song played once from the start: over its second half, the heard master and the heard
    // reference are each where the platform puts the whole file (its integrated loudness and
    // true peak: ebur128 and the independent 16x meter, on the bounce and on the reference
    // file), and so is their difference. The master is loud (turned down everywhere); the
    // reference is quiet with 2 dB of peak headroom (raised by Spotify and Apple Music only
    // as far as -1 dBTP allows, left alone by the others).
    use common::real_music::{excerpt, pushover};
    use common::reference_true_peak::reference_true_peak_dbtp;
    let (Some(mix_path), Some(reference_path)) = (pushover("mechanic"), pushover("option")) else {
        return;
    };
    let song_s = 44.0;
    let (l, r) = excerpt(&mix_path, REAL_FS, 60.0, song_s);
    let input = Audio {
        sample_rate: REAL_FS,
        channels: vec![l, r],
    };
    let reference = real_track("option", excerpt(&reference_path, REAL_FS, 0.0, song_s));
    let chain = ChainSettings {
        input_gain_db: 6.0,
        ..ChainSettings::default()
    };
    let n = input.frames();
    let (half, end) = (n / 2, n);
    let whole = |audio: &Audio| {
        (
            ebur128_lufs(audio, 0, audio.frames()),
            f64::from(reference_true_peak_dbtp(&[
                &audio.channels[0],
                &audio.channels[1],
            ])),
        )
    };
    // The files the platforms receive: the bounce of the master, and the reference file.
    let bounce = render_listening(
        &input,
        &chain,
        &AbSettings::default(),
        ListenMode::Master,
        None,
        &ReferenceSettings::default(),
    )
    .audio;
    let reference_file = Audio {
        sample_rate: REAL_FS,
        channels: vec![reference.left.clone(), reference.right.clone()],
    };
    let (master_lufs, master_tp) = whole(&bounce);
    let (reference_lufs, reference_tp) = whole(&reference_file);
    for (index, platform) in PLATFORMS.iter().enumerate() {
        let ab = AbSettings {
            reference_match: MatchMode::AsStreamed,
            platform: index,
            ..AbSettings::default()
        };
        let settings = ReferenceSettings {
            match_mode: MatchMode::AsStreamed,
            platform: index,
            ..ReferenceSettings::default()
        };
        let heard = |listen| {
            render_listening(
                &input,
                &chain,
                &ab,
                listen,
                Some(reference.clone()),
                &settings,
            )
            .audio
        };
        let (master, refr) = (heard(ListenMode::Master), heard(ListenMode::Reference));
        let gain = |lufs: f64, tp: f64| {
            f64::from(
                platform
                    .normalisation_gain_db(lufs as f32, tp as f32)
                    .unwrap(),
            )
        };
        let want_master = ebur128_lufs(&bounce, half, end) + gain(master_lufs, master_tp);
        let want_reference =
            ebur128_lufs(&reference_file, half, end) + gain(reference_lufs, reference_tp);
        let (m, r) = (
            ebur128_lufs(&master, half, end),
            ebur128_lufs(&refr, half, end),
        );
        println!(
            "{:<13} master {m:7.2} (platform {want_master:7.2})  reference {r:7.2} (platform \
             {want_reference:7.2})  difference {:+.2} (platform {:+.2})",
            platform.name,
            m - r,
            want_master - want_reference
        );
        let name = platform.name;
        assert!(
            (m - want_master).abs() <= 0.3,
            "{name}: master {m:.2}, platform {want_master:.2}"
        );
        assert!(
            (r - want_reference).abs() <= 0.3,
            "{name}: reference {r:.2}, platform {want_reference:.2}"
        );
        assert!(
            ((m - r) - (want_master - want_reference)).abs() <= 0.3,
            "{name}: difference {:.2}, platform {:.2}",
            m - r,
            want_master - want_reference
        );
    }
}
