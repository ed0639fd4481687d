//! Programme analysis shared by the plugin (a reference on the loader thread, the live master
//! on the editor thread) and the offline renderer: never on the audio thread.
//!
//! - [`tonal`]: the loudness-normalised long-term average spectrum, per-band width and punch.

pub mod tonal;
