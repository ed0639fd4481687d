//! Plain-Rust DSP modules. None of them knows about the plugin framework: each has
//! `reset(sample_rate)`, `set(settings)` (or a setter) and a `process` over sample slices, so it
//! is unit-tested and benchmarked without a host.

pub mod bypass;
pub mod compressor;
pub mod delay;
pub mod denormals;
pub mod dither;
pub mod eq;
pub mod eq_design;
pub mod fir_design;
pub mod gain;
pub mod k_weighting;
pub mod limiter;
pub mod linear_phase;
pub mod loudness;
pub mod loudness_histogram;
pub mod oversampling;
pub mod partitioned_convolver;
pub mod program_meter;
pub mod stereo;
pub mod svf;
pub mod util;
