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
