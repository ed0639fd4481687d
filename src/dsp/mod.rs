//! Plain-Rust DSP modules, grouped by job. None of them knows about the plugin framework: each
//! has `reset(sample_rate)`, `set(settings)` (or a setter) and a `process` over sample slices,
//! so it is unit-tested and benchmarked without a host.
//!
//! - [`filters`]: the EQ and the filters it is built from (SVF, design, linear phase).
//! - [`dynamics`]: the glue compressor and the true-peak limiter.
//! - [`stereo`]: width and mono-bass.
//! - [`dither`]: TPDF dither and noise shaping.
//! - [`meters`]: loudness (BS.1770-4 / EBU R128), true peak, correlation.
//! - [`monitor`]: monitoring aids (mono, side, one channel, LR4 band solo).
//! - [`shaping`]: waveshaping curves and the oversampled clipper.
//! - [`util`]: small shared blocks: gain, delay, bypass fades, denormal protection.

pub mod dither;
pub mod dynamics;
pub mod filters;
pub mod meters;
pub mod monitor;
pub mod shaping;
pub mod stereo;
pub mod util;
