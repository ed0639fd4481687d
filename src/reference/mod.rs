//! Reference tracks: other records, or other songs of the same record, loaded beside the
//! master and played level-matched (the second founding rule: compare against good reference
//! material; and balance the songs of a record).
//!
//! - [`decode`]: any supported file to stereo at the session rate (symphonia + rubato).
//! - [`track`]: a loaded track and its analysis (loudness blocks for any loop, summary).
//! - [`playback`]: the audio thread's player: slots, loop, host sync, click-free jumps.
//! - [`library`]: the loader thread, the lock-free hand-over to the audio thread, retiring.
//! - [`align`]: auto-align of a bounce of the same mix to the host timeline (cross-correlation).
//! - [`state`]: the slots as the session saves them (paths, loops, trims, cached analysis).

pub mod align;
pub mod decode;
pub mod library;
pub mod playback;
pub mod state;
pub mod track;
