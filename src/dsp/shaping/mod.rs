//! Waveshaping: memoryless curves ([`curves`]) and the processors that run them oversampled
//! ([`clipper`]; the multiband saturation builds on the same curves and oversampler).

pub mod clipper;
pub mod curves;
