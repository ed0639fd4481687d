//! Waveshaping: memoryless curves ([`curves`]) and the processors that run them oversampled
//! ([`clipper`], and [`saturation`], the multiband saturation on the same oversampler).

pub mod clipper;
pub mod curves;
pub mod saturation;
