//! Audio files written the way other programs write them, for tests that read files.

/// IEEE 754 80-bit extended encoding of an integer sample rate (AIFF COMM chunk).
pub fn extended80(rate: u32) -> [u8; 10] {
    let mut out = [0u8; 10];
    if rate == 0 {
        return out;
    }
    let exponent = 16383 + 31 - rate.leading_zeros() as u16;
    let mantissa = u64::from(rate) << (rate.leading_zeros() + 32);
    out[..2].copy_from_slice(&exponent.to_be_bytes());
    out[2..].copy_from_slice(&mantissa.to_be_bytes());
    out
}

/// A minimal AIFF file (FORM/AIFF, COMM, SSND) with big-endian integer samples.
pub fn aiff_bytes(channels: &[Vec<f32>], rate: u32, bits: u16, truncate_data_by: usize) -> Vec<u8> {
    let frames = channels[0].len();
    let bytes_per_sample = usize::from(bits / 8);
    let mut samples = Vec::new();
    let scale = f64::from(1u32 << (bits - 1));
    for i in 0..frames {
        for c in channels {
            let v = (f64::from(c[i]) * scale).round() as i32;
            samples.extend_from_slice(&v.to_be_bytes()[4 - bytes_per_sample..]);
        }
    }
    samples.truncate(samples.len() - truncate_data_by);
    let mut comm = Vec::new();
    comm.extend_from_slice(&(channels.len() as u16).to_be_bytes());
    comm.extend_from_slice(&(frames as u32).to_be_bytes());
    comm.extend_from_slice(&bits.to_be_bytes());
    comm.extend_from_slice(&extended80(rate));
    let mut body = b"AIFF".to_vec();
    body.extend_from_slice(b"COMM");
    body.extend_from_slice(&(comm.len() as u32).to_be_bytes());
    body.extend_from_slice(&comm);
    body.extend_from_slice(b"SSND");
    body.extend_from_slice(&((samples.len() + 8) as u32).to_be_bytes());
    body.extend_from_slice(&[0u8; 8]);
    body.extend_from_slice(&samples);
    let mut file = b"FORM".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_be_bytes());
    file.extend_from_slice(&body);
    file
}
