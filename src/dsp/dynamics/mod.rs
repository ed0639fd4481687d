//! Gain-riding stages: the bus glue compressor and the lookahead true-peak limiter.

pub mod compressor;
pub mod limiter;
