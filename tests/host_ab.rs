//! A/B, host bypass, render safety and the realtime rules, driven through the real CLAP
//! wrapper by the in-process test host.

mod common;

use common::clap_host::{clap_param_id, ClapParamEvent, ClapTestHost};
use common::signals::{max_deviation_from_delayed, multitone_mix, pink_noise};
use fairmaster::params::FairmasterParams;
use nice_plug::prelude::Params;

const FS: f64 = 48_000.0;

/// All parameter string IDs, from the plugin's own parameter map.
fn param_ids() -> Vec<String> {
    FairmasterParams::default()
        .param_map()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect()
}

/// Converts (id, plain value) pairs to CLAP events: floats through the plugin's own
/// text-to-value, switches directly (a CLAP bool is 0 or 1).
fn events<'a>(host: &ClapTestHost, plain: &[(&'a str, f64)]) -> Vec<ClapParamEvent<'a>> {
    plain
        .iter()
        .map(|&(id, v)| ClapParamEvent {
            id,
            clap_value: if BOOL_IDS.contains(&id) {
                v
            } else {
                host.plain_to_clap(id, v)
            },
            time: 0,
        })
        .collect()
}

const BOOL_IDS: [&str; 3] = ["ab_bypass", "match_level", "bypass"];

/// Processes `left`/`right` in 512-frame blocks with `plain` parameter changes at the start.
fn process_with(
    host: &mut ClapTestHost,
    left: &mut [f32],
    right: &mut [f32],
    plain: &[(&str, f64)],
) {
    let ev = events(host, plain);
    for (k, (l, r)) in left.chunks_mut(512).zip(right.chunks_mut(512)).enumerate() {
        host.process_clap(l, Some(r), if k == 0 { &ev } else { &[] });
    }
}

/// Runs `seconds` of the multitone mix through `host` with `plain` parameter changes at the
/// start; returns the output.
fn render(host: &mut ClapTestHost, seconds: f32, plain: &[(&str, f64)]) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = multitone_mix((seconds * FS as f32) as usize, FS as f32);
    process_with(host, &mut l, &mut r, plain);
    (l, r)
}

#[test]
fn every_parameter_at_both_extremes_processes_finite_audio_without_allocating() {
    // nice-plug's assert_process_allocs aborts the test binary on any allocation inside
    // process() in debug builds, so reaching the end proves the realtime rule for every
    // parameter extreme, alone and all together.
    let ids = param_ids();
    let mut host = ClapTestHost::new(FS, 1, 1024, 2);
    let infos = host.param_infos();
    let range = |id: &str| {
        let clap_id = clap_param_id(id);
        let info = infos.iter().find(|i| i.id == clap_id).expect("param info");
        (info.min_value, info.max_value)
    };
    let noise_l = pink_noise(1024, 1, -6.0);
    let noise_r = pink_noise(1024, 2, -6.0);
    let check = |host: &mut ClapTestHost, events: &[ClapParamEvent]| {
        for n in [1usize, 64, 1024] {
            let (mut l, mut r) = (noise_l[..n].to_vec(), noise_r[..n].to_vec());
            host.process_clap(&mut l, Some(&mut r), events);
            assert!(l.iter().chain(&r).all(|x| x.is_finite()), "{events:?}");
        }
    };
    for id in &ids {
        let (min, max) = range(id);
        for value in [min, max] {
            let ev = [ClapParamEvent {
                id,
                clap_value: value,
                time: 0,
            }];
            check(&mut host, &ev);
        }
    }
    for pick_max in [false, true] {
        let events: Vec<ClapParamEvent> = ids
            .iter()
            .map(|id| {
                let (min, max) = range(id);
                ClapParamEvent {
                    id,
                    clap_value: if pick_max { max } else { min },
                    time: 0,
                }
            })
            .collect();
        check(&mut host, &events);
        // Keep running after the structural changes settle (latency switch, EQ designer).
        for _ in 0..20 {
            check(&mut host, &[]);
            host.handle_restart_requests();
        }
    }
}

#[test]
fn offline_render_ignores_the_ab_switch() {
    let drive = [("lim_drive", 6.0)];
    let mut master = ClapTestHost::new(FS, 1, 512, 2);
    assert!(master.set_offline(true));
    let a = render(&mut master, 3.0, &drive);

    let mut forgotten = ClapTestHost::new(FS, 1, 512, 2);
    assert!(forgotten.set_offline(true));
    let b = render(&mut forgotten, 3.0, &[drive[0], ("ab_bypass", 1.0)]);
    assert_eq!(forgotten.param_clap_value("ab_bypass"), 1.0);
    assert_eq!(
        a, b,
        "an offline render must be the master even with A/B on B"
    );
}

#[test]
fn switching_to_offline_while_b_plays_outputs_the_master_at_once() {
    // A host may switch to an offline render at any time through clap.render while the plugin
    // is active (Fairmaster reads the mode every process call). With B selected, every sample
    // rendered offline must be the master: the same plugin, same input, with B off.
    let settings = [("lim_drive", 6.0)];
    let mut on_b = ClapTestHost::new(FS, 1, 512, 2);
    let mut master = ClapTestHost::new(FS, 1, 512, 2);
    let block = 512;
    // Frames per phase (realtime on B, offline, realtime again): about 1 s, whole blocks.
    let phase = 94 * block;
    let (in_l, in_r) = multitone_mix(3 * phase, FS as f32);
    let (mut b_l, mut b_r) = (in_l.clone(), in_r.clone());
    let (mut m_l, mut m_r) = (in_l.clone(), in_r.clone());
    let ev_b = events(&on_b, &[settings[0], ("ab_bypass", 1.0)]);
    let ev_m = events(&master, &settings);
    let restarts = (
        on_b.host_calls().restart_requests,
        master.host_calls().restart_requests,
    );
    let mut start = 0;
    let mut switches = 0;
    while start < in_l.len() {
        if start == phase || start == 2 * phase {
            let offline = start == phase;
            assert!(on_b.set_offline(offline) && master.set_offline(offline));
            switches += 1;
        }
        let end = (start + block).min(in_l.len());
        let first = start == 0;
        on_b.process_clap(
            &mut b_l[start..end],
            Some(&mut b_r[start..end]),
            if first { &ev_b } else { &[] },
        );
        master.process_clap(
            &mut m_l[start..end],
            Some(&mut m_r[start..end]),
            if first { &ev_m } else { &[] },
        );
        start = end;
    }
    assert_eq!(switches, 2);
    assert_eq!(
        (
            on_b.host_calls().restart_requests,
            master.host_calls().restart_requests
        ),
        restarts,
        "a render mode switch requested a restart"
    );
    let differs = |from: usize, to: usize| {
        b_l[from..to]
            .iter()
            .zip(&m_l[from..to])
            .chain(b_r[from..to].iter().zip(&m_r[from..to]))
            .map(|(b, m)| (b - m).abs())
            .fold(0.0f32, f32::max)
    };
    // Realtime, B selected: the output is not the master (sanity check of the comparison).
    assert!(
        differs(phase / 2, phase) > 0.05,
        "B never played in realtime"
    );
    // Offline: the master, bit for bit, from the first offline sample on.
    let first_diff = (phase..2 * phase)
        .find(|&i| b_l[i].to_bits() != m_l[i].to_bits() || b_r[i].to_bits() != m_r[i].to_bits());
    assert_eq!(
        first_diff, None,
        "offline output differs from the master (frame {first_diff:?})"
    );
    // Realtime again: back to B through the equal-power crossfade from A (no jump at the
    // switch: after one sample B has a weight of sin(pi/2 / 960) = 0.0016), B after it.
    assert!(
        differs(2 * phase, 2 * phase + 1) < 0.005,
        "jump when returning to B: {}",
        differs(2 * phase, 2 * phase + 1)
    );
    assert!(
        differs(2 * phase + 4_800, 3 * phase) > 0.05,
        "B did not return"
    );
}

#[test]
fn realtime_ab_switch_plays_the_original() {
    // Realtime: with B selected and matching off, the output is the delayed input exactly.
    let mut host = ClapTestHost::new(FS, 1, 512, 2);
    let latency = host.latency() as usize;
    let (in_l, in_r) = multitone_mix(2 * 48_000, FS as f32);
    let (mut l, mut r) = (in_l.clone(), in_r.clone());
    process_with(
        &mut host,
        &mut l,
        &mut r,
        &[("lim_drive", 6.0), ("ab_bypass", 1.0), ("match_level", 0.0)],
    );
    let start = latency + 4_800; // after the A->B crossfade
    let worst = max_deviation_from_delayed((&l, &r), (&in_l, &in_r), latency, start);
    assert!(worst < 1e-6, "B differs from the delayed input by {worst}");
}

#[test]
fn host_bypass_is_latency_compensated_and_not_level_matched() {
    let mut host = ClapTestHost::new(FS, 1, 512, 2);
    let latency = host.latency() as usize;
    let (in_l, in_r) = multitone_mix(6 * 48_000, FS as f32);
    let (mut l, mut r) = (in_l.clone(), in_r.clone());
    // Matching is on (default) and the master is much louder: the host bypass still plays
    // the original at its own level.
    process_with(
        &mut host,
        &mut l,
        &mut r,
        &[("lim_drive", 8.0), ("bypass", 1.0)],
    );
    let start = latency + 4_800;
    let worst = max_deviation_from_delayed((&l, &r), (&in_l, &in_r), latency, start);
    assert!(
        worst < 1e-6,
        "bypass differs from the delayed input by {worst}"
    );
}
