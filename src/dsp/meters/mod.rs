//! Measurement: BS.1770-4 K-weighting and loudness (EBU R128 / Tech 3341, LRA per Tech 3342),
//! true peak, the programme meter that combines them, and the stereo correlation meter.

pub mod correlation;
pub mod k_weighting;
pub mod loudness;
pub mod loudness_histogram;
pub mod loudness_match;
pub mod program_meter;
pub mod true_peak;
