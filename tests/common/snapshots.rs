//! A session with snapshots, saved by the plugin through the in-process CLAP host (the
//! snapshot tests of `tests/host_snapshots.rs` and `tests/host_gui.rs`).

use super::clap_host::ClapTestHost;
use fairmaster::presets::param_set::{version_values, ParamSet};
use fairmaster::snapshots::{SavedSnapshots, Snapshot, SnapshotStats};

pub const FS: f64 = 48_000.0;

pub fn state_json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(&bytes[8..]).expect("state JSON")
}

pub fn with_header(json: &serde_json::Value) -> Vec<u8> {
    let body = serde_json::to_vec(json).unwrap();
    let mut bytes = (body.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&body);
    bytes
}

pub fn stats(gain_over_original_db: f32) -> SnapshotStats {
    SnapshotStats {
        integrated_lufs: -14.0,
        loudness_range_lu: 5.0,
        true_peak_dbtp: -1.0,
        plr_db: 13.0,
        gain_over_original_db,
        measured_seconds: 20.0,
    }
}

/// A session with two snapshots: "Open" (the first settings) and "Loud" (+3 dB drive, the
/// current settings and the current snapshot, 3 dB louder over the mix than "Open").
/// Returns (session state, the state as it was when "Open" was stored).
pub fn session_with_snapshots() -> (Vec<u8>, Vec<u8>) {
    let mut author = ClapTestHost::new(FS, 1, 512, 2);
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    author.process(
        &mut l,
        Some(&mut r),
        &[("comp_on", 1.0), ("comp_ratio", 2.0), ("lim_drive", 2.0)],
    );
    let open_state = author.save_state();
    author.process(&mut l, Some(&mut r), &[("lim_drive", 5.0)]);
    let loud_state = author.save_state();
    let values = |state: &[u8]| version_values(ParamSet::from_state_bytes(state).unwrap().params());
    let snapshot = |name: &str, state: &[u8], gain: f32| Snapshot {
        name: name.into(),
        note: format!("{name} version"),
        stored_unix_seconds: 1_796_313_600,
        params: values(state),
        stats: Some(stats(gain)),
    };
    let mut saved = SavedSnapshots {
        slots: vec![None; 8],
        current: Some(3),
        modified: false,
    };
    saved.slots[0] = Some(snapshot("Open", &open_state, 3.0));
    saved.slots[3] = Some(snapshot("Loud", &loud_state, 6.0));
    let mut json = state_json(&loud_state);
    json["fields"]["snapshots"] = serde_json::Value::String(serde_json::to_string(&saved).unwrap());
    (with_header(&json), open_state)
}
