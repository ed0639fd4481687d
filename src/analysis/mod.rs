//! Programme analysis shared by the plugin (a reference on the loader thread, the live master
//! on the editor thread) and the offline renderer: never on the audio thread.
//!
//! - [`tonal`]: the loudness-normalised long-term average spectrum, per-band width and punch.
//! - [`tonal_match`]: the EQ that moves a mix's tonal balance toward a reference's (offline).

pub mod tonal;
pub mod tonal_match;
