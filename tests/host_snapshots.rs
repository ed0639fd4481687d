//! Snapshots through the CLAP wrapper (issue 15): persisted in the session (saved and
//! reloaded by a host, field for field), their matched gain reaching the audio thread of a
//! reopened session (and never an offline bounce), and `fairmaster-render --snapshot NAME`
//! rendering a snapshot of the saved state exactly as the state that was stored.

mod common;

use common::clap_host::ClapTestHost;
use common::snapshots::{session_with_snapshots, state_json, FS};
use fairmaster::offline::audio_io::{read_audio_file, write_wav_atomic, OutputFormat};
use fairmaster::offline::Audio;
use fairmaster::presets::param_set::ParamSet;
use fairmaster::snapshots::SavedSnapshots;

fn rms_db(x: &[f32]) -> f64 {
    let p = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64;
    10.0 * p.log10()
}

#[test]
fn snapshots_persist_and_the_reopened_session_plays_the_current_one_matched() {
    let (session, _) = session_with_snapshots();
    // A DAW reopening the session, saving it again: the snapshots come back field for field.
    let mut reopened = ClapTestHost::new_inactive(2);
    assert!(
        reopened.load_state(&session),
        "session with snapshots rejected"
    );
    reopened.activate(FS, 1, 512);
    let resaved = state_json(&reopened.save_state());
    let field = |json: &serde_json::Value| -> SavedSnapshots {
        serde_json::from_str(json["fields"]["snapshots"].as_str().unwrap()).unwrap()
    };
    assert_eq!(field(&resaved), field(&state_json(&session)));

    // Realtime: "Loud" is current, 3 dB over "Open": it plays 3 dB down with match on
    // (the default), as it is with match off.
    let tone: Vec<f32> = (0..FS as usize)
        .map(|i| 0.05 * (std::f64::consts::TAU * 440.0 * i as f64 / FS).sin() as f32)
        .collect();
    let play = |host: &mut ClapTestHost, events: &[(&str, f64)]| {
        let (mut l, mut r) = (tone.clone(), tone.clone());
        host.process_in_blocks(&mut l, Some(&mut r), 512, events);
        rms_db(&l[l.len() / 2..])
    };
    let matched = play(&mut reopened, &[]);
    let mut unmatched_host = ClapTestHost::new_inactive(2);
    assert!(unmatched_host.load_state(&session));
    unmatched_host.activate(FS, 1, 512);
    let unmatched = play(&mut unmatched_host, &[("snapshot_match", 0.0)]);
    assert!(
        (matched - unmatched + 3.0).abs() < 0.01,
        "matched {matched:.3} dB, unmatched {unmatched:.3} dB"
    );
    // An offline bounce is the master: no match gain.
    assert!(reopened.set_offline(true));
    let bounced = play(&mut reopened, &[]);
    assert!(
        (bounced - unmatched).abs() < 0.01,
        "bounced {bounced:.3} dB, the master {unmatched:.3} dB"
    );
}

#[test]
fn old_sessions_load_without_snapshots() {
    let set = ParamSet::from_state_bytes(include_bytes!("fixtures/state-v0.1.0.bin")).unwrap();
    let saved = set.params().snapshots.0.saved();
    assert!(saved.slots.iter().all(Option::is_none) && saved.current.is_none());
    assert_eq!(set.params().ab_settings().version_gain_db, 0.0);
}

#[test]
fn render_snapshot_by_name_is_the_stored_version() {
    let (session, open_state) = session_with_snapshots();
    let dir =
        std::env::temp_dir().join(format!("fairmaster-render-snapshot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("session.bin"), &session).unwrap();
    std::fs::write(dir.join("open.bin"), &open_state).unwrap();
    let mix = fairmaster::offline::demo::demo_mix();
    let n = 2 * mix.sample_rate as usize;
    let input = Audio {
        sample_rate: mix.sample_rate,
        channels: mix.channels.iter().map(|c| c[..n].to_vec()).collect(),
    };
    write_wav_atomic(&dir.join("mix.wav"), &input, OutputFormat::Float32, false).unwrap();
    let render = |args: &[&str], out: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_fairmaster-render"))
            .current_dir(&dir)
            .arg("mix.wav")
            .args(args)
            .args(["-o", out, "--bits", "32f", "--quiet"])
            .output()
            .expect("run fairmaster-render");
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (ok, err) = render(
        &["--state", "session.bin", "--snapshot", "open"],
        "snap.wav",
    );
    assert!(ok, "{err}");
    let (ok, err) = render(&["--state", "open.bin"], "open.wav");
    assert!(ok, "{err}");
    let (ok, err) = render(&["--state", "session.bin"], "current.wav");
    assert!(ok, "{err}");
    let read = |f: &str| read_audio_file(&dir.join(f)).unwrap().channels;
    assert_eq!(
        read("snap.wav"),
        read("open.wav"),
        "--snapshot open is the stored version"
    );
    assert_ne!(
        read("snap.wav"),
        read("current.wav"),
        "and not the current settings"
    );
    // By number too; an unknown name lists what the state holds; --snapshot needs --state.
    let (ok, err) = render(&["--state", "session.bin", "--snapshot", "1"], "one.wav");
    assert!(ok, "{err}");
    assert_eq!(read("one.wav"), read("open.wav"));
    let (ok, err) = render(&["--state", "session.bin", "--snapshot", "Quiet"], "x.wav");
    assert!(
        !ok && err.contains("no snapshot \"Quiet\"") && err.contains("1 \"Open\", 4 \"Loud\""),
        "{err}"
    );
    let (ok, err) = render(&["--snapshot", "Open"], "y.wav");
    assert!(!ok && err.contains("--state"), "{err}");
}
