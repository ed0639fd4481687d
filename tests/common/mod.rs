//! Shared helpers for the integration tests.
//!
//! Not every test binary uses every helper.
#![allow(dead_code, unused_imports)]

pub mod audio_files;
pub mod clap_host;
pub mod loudness;
pub mod real_music;
pub mod reference_true_peak;
pub mod signals;
pub mod snapshots;
pub mod xvfb;

/// A fresh, empty scratch directory for one test of one suite:
/// `<temp>/fairmaster-<suite>-<pid>-<test>`, emptied first (a previous run may have left it).
pub fn scratch_dir(suite: &str, test: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("fairmaster-{suite}-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
