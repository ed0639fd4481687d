//! Stereo delay line with two read taps, used to align the original (dry) signal with the
//! processed one: the chain's latency must be matched sample-exactly for the A/B comparison and
//! the host bypass to be time-aligned.

/// A power-of-two ring buffer per channel; writes one frame, reads at two delays.
#[derive(Debug, Clone)]
pub struct StereoDelay {
    left: Vec<f32>,
    right: Vec<f32>,
    mask: usize,
    write: usize,
}

impl StereoDelay {
    /// Preallocates for delays up to `max_delay` samples (off the audio thread).
    pub fn new(max_delay: usize) -> Self {
        let len = (max_delay + 1).next_power_of_two();
        Self {
            left: vec![0.0; len],
            right: vec![0.0; len],
            mask: len - 1,
            write: 0,
        }
    }

    /// Longest delay this line can give.
    pub fn max_delay(&self) -> usize {
        self.mask
    }

    /// Zeroes the content (allocation-free).
    pub fn clear(&mut self) {
        self.left.fill(0.0);
        self.right.fill(0.0);
    }

    /// Writes one frame and returns the frames delayed by `delay_a` and `delay_b` samples
    /// (each clamped to `max_delay`). A delay of 0 returns the frame just written.
    #[inline]
    pub fn push_and_read(
        &mut self,
        left: f32,
        right: f32,
        delay_a: usize,
        delay_b: usize,
    ) -> ((f32, f32), (f32, f32)) {
        self.left[self.write] = left;
        self.right[self.write] = right;
        let a = self.write.wrapping_sub(delay_a.min(self.mask)) & self.mask;
        let b = self.write.wrapping_sub(delay_b.min(self.mask)) & self.mask;
        self.write = (self.write + 1) & self.mask;
        ((self.left[a], self.right[a]), (self.left[b], self.right[b]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_delay_by_exactly_the_requested_samples() {
        let mut d = StereoDelay::new(100);
        let mut out_a = Vec::new();
        let mut out_b = Vec::new();
        for i in 0..300 {
            let x = if i == 10 { 1.0 } else { 0.0 };
            let (a, b) = d.push_and_read(x, -x, 37, 0);
            out_a.push(a);
            out_b.push(b);
        }
        assert_eq!(out_a.iter().position(|&(l, _)| l == 1.0), Some(47));
        assert_eq!(out_a.iter().position(|&(_, r)| r == -1.0), Some(47));
        assert_eq!(out_b.iter().position(|&(l, _)| l == 1.0), Some(10));
        assert!(d.max_delay() >= 100);
    }
}
