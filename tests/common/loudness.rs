//! Loudness by the independent `ebur128` crate (not this project's meter): the cross-check
//! behind every loudness figure the tests assert.

use fairmaster::offline::Audio;

/// BS.1770-4 integrated loudness (LUFS) of planar channels at `rate`, by `ebur128`.
pub fn ebur128_integrated(channels: &[&[f32]], rate: u32) -> f64 {
    let mut meter = ebur128::EbuR128::new(channels.len() as u32, rate, ebur128::Mode::I).unwrap();
    meter.add_frames_planar_f32(channels).unwrap();
    meter.loudness_global().unwrap()
}

/// [`ebur128_integrated`] of a stereo pair.
pub fn ebur128_stereo(left: &[f32], right: &[f32], rate: u32) -> f64 {
    ebur128_integrated(&[left, right], rate)
}

/// [`ebur128_integrated`] of frames `[from, to)` of `audio`.
pub fn ebur128_span(audio: &Audio, from: usize, to: usize) -> f64 {
    let planes: Vec<&[f32]> = audio.channels.iter().map(|c| &c[from..to]).collect();
    ebur128_integrated(&planes, audio.sample_rate)
}

/// [`ebur128_integrated`] of all of `audio`.
pub fn ebur128_audio(audio: &Audio) -> f64 {
    ebur128_span(audio, 0, audio.frames())
}
