//! Plain-Rust DSP modules. None of them knows about the plugin framework: each has
//! `reset(sample_rate)`, `set(settings)` (or a setter) and a `process` over sample slices, so it
//! is unit-tested and benchmarked without a host.

pub mod gain;
pub mod util;
