//! Real music no one here wrote, from two Debian packages that `scripts/test.sh` downloads and
//! unpacks into `target/test-data/` (issue 24: synthetic programme hid a 1 LU miss of the
//! reference match and a 0.1 dB overshoot of the ceiling that real recordings showed):
//!
//! * `pushover-data` (GPL-3+, music by Roberto Lorenz): Ogg Vorbis songs from -20 to -10 LUFS
//!   integrated (ffmpeg's ebur128: option -20.0, toxcity -19.4, japanese -17.1, mechanic
//!   -14.3, electro -9.9), true peaks -2.1 to +2.0 dBTP;
//! * `fretsonfire-songs-muldjord` (CC BY-SA 3.0, Muldjord): dense, bright, already clipped
//!   metal, -6.5 to -8.4 LUFS, true peaks up to +2.5 dBTP decoded to float, energy above
//!   16 kHz about 20 dB under the loudest third-octave band.
//!
//! `FAIRMASTER_REAL_MUSIC` may name a folder holding `<package>/usr/...` instead. A missing
//! recording skips the test on a developer's machine and fails it under `CI=true`.

use std::path::PathBuf;

pub const PUSHOVER: &str = "pushover-data";
pub const MULDJORD: &str = "fretsonfire-songs-muldjord";

/// A song of `pushover-data` by theme name (`option`, `toxcity`, `japanese`, `mechanic`,
/// `electro`).
pub fn pushover(theme: &str) -> Option<PathBuf> {
    require(PUSHOVER, &format!("usr/share/pushover/themes/{theme}.ogg"))
}

/// A song of `fretsonfire-songs-muldjord` by folder name (`internal_degeneration`,
/// `armygeddon`, `chaos_god`, `mutilated_mime`).
pub fn muldjord(song: &str) -> Option<PathBuf> {
    require(
        MULDJORD,
        &format!("usr/share/games/fretsonfire/data/songs/muldjord/{song}/song.ogg"),
    )
}

fn require(package: &str, relative: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var("FAIRMASTER_REAL_MUSIC")
            .ok()
            .map(|dir| PathBuf::from(dir).join(package).join(relative)),
        Some(PathBuf::from("/").join(relative)),
        Some(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/test-data")
                .join(package)
                .join(relative),
        ),
    ];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.is_file()) {
        return Some(found);
    }
    let message = format!(
        "real recording /{relative} (Debian package {package}) not found: run ./scripts/test.sh \
         (it downloads the package into target/test-data/), install the package, or set \
         FAIRMASTER_REAL_MUSIC"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}");
    }
    eprintln!("skipping: {message}");
    None
}

/// `seconds` of a recording from `start_seconds`, decoded by the plugin's loader (symphonia's
/// Vorbis decoder, float: a clipped master decodes above 0 dBFS) at `sample_rate`.
pub fn excerpt(
    path: &std::path::Path,
    sample_rate: u32,
    start_seconds: f64,
    seconds: f64,
) -> (Vec<f32>, Vec<f32>) {
    let decoded = fairmaster::reference::decode::decode_reference(
        path,
        sample_rate,
        fairmaster::reference::decode::MAX_REFERENCE_BYTES,
    )
    .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.reason));
    let from = ((start_seconds * f64::from(sample_rate)) as usize).min(decoded.left.len());
    let to = (from + (seconds * f64::from(sample_rate)) as usize).min(decoded.left.len());
    (
        decoded.left[from..to].to_vec(),
        decoded.right[from..to].to_vec(),
    )
}
