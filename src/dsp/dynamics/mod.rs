//! Gain-riding stages: the bus glue compressor, the multiband dynamics and the lookahead
//! true-peak limiter.

pub mod compressor;
pub mod hf_limiter;
pub mod limiter;
pub mod multiband;
