//! Stereo delay line with two read taps, used to align the original (dry) signal with the
//! processed one: the chain's latency must be matched sample-exactly for the A/B comparison and
//! the host bypass to be time-aligned.

use crate::dsp::util::resident::resident_vec;

/// A power-of-two ring buffer per channel; writes one frame, reads at two delays.
#[derive(Debug, Clone)]
pub struct StereoDelay {
    left: Vec<f32>,
    right: Vec<f32>,
    mask: usize,
    write: usize,
}

impl StereoDelay {
    /// Preallocates for delays up to `max_delay` samples, resident (`util::resident`: the
    /// ring is written all round, page by page). Off the audio thread.
    pub fn new(max_delay: usize) -> Self {
        let len = (max_delay + 1).next_power_of_two();
        Self {
            left: resident_vec(0.0, len),
            right: resident_vec(0.0, len),
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

impl StereoDelay {
    /// Block form of [`Self::push_and_read`] with the same results: writes `left`/`right` and
    /// fills `out_a` with the input delayed by `delay_a` and `out_b` by `delay_b` (pairs of
    /// `[left, right]` slices, at least as long as the input). With the ring long enough
    /// (`delay + len <= ring length`) it is a few slice copies instead of per-frame index
    /// arithmetic; otherwise it falls back to `push_and_read` per frame.
    pub fn push_block_and_read(
        &mut self,
        left: &[f32],
        right: &[f32],
        delay_a: usize,
        out_a: [&mut [f32]; 2],
        delay_b: usize,
        out_b: [&mut [f32]; 2],
    ) {
        self.push_block_and_read_taps(left, right, [(delay_a, out_a), (delay_b, out_b)]);
    }

    /// [`Self::push_block_and_read`] with one tap: the same samples that call gives on
    /// `out_a`, without the second tap's copy.
    pub fn push_block_and_read_one(
        &mut self,
        left: &[f32],
        right: &[f32],
        delay: usize,
        out: [&mut [f32]; 2],
    ) {
        self.push_block_and_read_taps(left, right, [(delay, out)]);
    }

    /// The block push behind both public forms, for `K` taps `(delay, [left, right])`.
    fn push_block_and_read_taps<const K: usize>(
        &mut self,
        left: &[f32],
        right: &[f32],
        taps: [(usize, [&mut [f32]; 2]); K],
    ) {
        let mut taps = taps.map(|(delay, out)| (delay.min(self.mask), out));
        let n = taps
            .iter()
            .fold(left.len().min(right.len()), |n, (_, [l, r])| {
                n.min(l.len()).min(r.len())
            });
        let ring = self.mask + 1;
        if taps.iter().any(|(delay, _)| delay + n > ring) {
            // A tap would read frames this block overwrites: frame by frame, in
            // `push_and_read`'s order (write, then read).
            for i in 0..n {
                self.left[self.write] = left[i];
                self.right[self.write] = right[i];
                for (delay, [out_left, out_right]) in taps.iter_mut() {
                    let at = self.write.wrapping_sub(*delay) & self.mask;
                    (out_left[i], out_right[i]) = (self.left[at], self.right[at]);
                }
                self.write = (self.write + 1) & self.mask;
            }
            return;
        }
        // Every frame a tap reads was written before it (this block or earlier) and is not
        // overwritten by this block's later frames (delay + n <= ring), so writing the whole
        // block first gives the same reads as the per-frame order.
        let start = self.write;
        ring_write(&mut self.left, start, &left[..n]);
        ring_write(&mut self.right, start, &right[..n]);
        self.write = (start + n) & self.mask;
        for (delay, [out_left, out_right]) in taps {
            let read = start.wrapping_sub(delay) & self.mask;
            ring_read(&self.left, read, &mut out_left[..n]);
            ring_read(&self.right, read, &mut out_right[..n]);
        }
    }
}

impl StereoDelay {
    /// The frames a tap at `delay` returned for the `out` length of pushes before now, oldest
    /// first: after these, a push read at `delay` continues seamlessly. Lets a stage that
    /// starts late (the A/B monitor's B path) catch up on the tap's recent history.
    /// `delay + out.len()` is clamped to the ring (older frames are gone).
    pub fn read_preceding(&self, delay: usize, out: [&mut [f32]; 2]) {
        let [out_left, out_right] = out;
        let n = out_left.len().min(out_right.len());
        let oldest = (delay + n).min(self.mask);
        let n = oldest.saturating_sub(delay.min(self.mask)).min(n);
        let start = self.write.wrapping_sub(oldest) & self.mask;
        let skip = out_left.len().min(out_right.len()) - n;
        out_left[..skip].fill(0.0);
        out_right[..skip].fill(0.0);
        ring_read(&self.left, start, &mut out_left[skip..skip + n]);
        ring_read(&self.right, start, &mut out_right[skip..skip + n]);
    }
}

/// Copies `input` into the ring `buffer` starting at `start`, wrapping at the end.
fn ring_write(buffer: &mut [f32], start: usize, input: &[f32]) {
    let first = input.len().min(buffer.len() - start);
    buffer[start..start + first].copy_from_slice(&input[..first]);
    buffer[..input.len() - first].copy_from_slice(&input[first..]);
}

/// Copies `output.len()` frames from the ring `buffer` starting at `start`, wrapping.
fn ring_read(buffer: &[f32], start: usize, output: &mut [f32]) {
    let first = output.len().min(buffer.len() - start);
    output[..first].copy_from_slice(&buffer[start..start + first]);
    let rest = output.len() - first;
    output[first..].copy_from_slice(&buffer[..rest]);
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

    #[test]
    fn block_push_matches_per_frame_push_including_wrap_and_short_rings() {
        // Random block lengths across the ring's wrap, with delays that take the fast path
        // and ones that force the per-frame fallback: outputs must be identical.
        for (max_delay, delays) in [(100, (37, 0)), (100, (127, 5)), (16, (15, 3))] {
            let mut per_frame = StereoDelay::new(max_delay);
            let mut block = StereoDelay::new(max_delay);
            let mut n = 0u32;
            for len in [1usize, 7, 60, 3, 90, 200, 5, 64, 33] {
                let left: Vec<f32> = (0..len).map(|i| (n + i as u32) as f32).collect();
                let right: Vec<f32> = left.iter().map(|x| -x).collect();
                n += len as u32;
                let mut expected = vec![[0.0f32; 4]; len];
                for i in 0..len {
                    let ((al, ar), (bl, br)) =
                        per_frame.push_and_read(left[i], right[i], delays.0, delays.1);
                    expected[i] = [al, ar, bl, br];
                }
                let (mut al, mut ar, mut bl, mut br) = (
                    vec![0.0; len],
                    vec![0.0; len],
                    vec![0.0; len],
                    vec![0.0; len],
                );
                block.push_block_and_read(
                    &left,
                    &right,
                    delays.0,
                    [&mut al, &mut ar],
                    delays.1,
                    [&mut bl, &mut br],
                );
                for i in 0..len {
                    assert_eq!([al[i], ar[i], bl[i], br[i]], expected[i], "frame {i}");
                }
            }
        }
    }

    #[test]
    fn read_preceding_returns_the_taps_past_output() {
        // Push 300 frames one by one recording what a tap at 37 reads; then read_preceding
        // must return exactly the last 100 of those reads, and the next push continues them.
        let mut d = StereoDelay::new(200);
        let mut tap_reads = Vec::new();
        for i in 0..300 {
            let ((l, r), _) = d.push_and_read(i as f32, -(i as f32), 37, 0);
            tap_reads.push((l, r));
        }
        let (mut l, mut r) = (vec![9.0; 100], vec![9.0; 100]);
        d.read_preceding(36, [&mut l, &mut r]);
        // A read at delay 36 on the next push returns frame 300 - 36 = 264; the 100 reads
        // before it returned frames 164..=263.
        for (k, (&lv, &rv)) in l.iter().zip(&r).enumerate() {
            let frame = 164 + k;
            assert_eq!((lv, rv), (frame as f32, -(frame as f32)), "k = {k}");
        }
        let ((next, _), _) = d.push_and_read(300.0, -300.0, 36, 0);
        assert_eq!(next, 264.0);
        assert_eq!(tap_reads[299].0, 262.0);
        // Longer than the ring holds: the missing oldest frames read as silence.
        let (mut l, mut r) = (vec![9.0; 300], vec![9.0; 300]);
        d.read_preceding(36, [&mut l, &mut r]);
        let ring = d.max_delay();
        let missing = 300 + 36 - ring;
        assert!(l[..missing].iter().all(|&v| v == 0.0));
        assert_eq!(l[299], 264.0);
    }

    #[test]
    fn one_tap_block_push_matches_the_per_frame_push() {
        for (max_delay, delay, block) in [(100, 37, 64), (100, 0, 128), (64, 60, 40)] {
            let mut block_line = StereoDelay::new(max_delay);
            let mut frame_line = StereoDelay::new(max_delay);
            for round in 0..20 {
                let left: Vec<f32> = (0..block).map(|i| (round * block + i) as f32).collect();
                let right: Vec<f32> = left.iter().map(|x| -x).collect();
                let (mut out_l, mut out_r) = (vec![0.0; block], vec![0.0; block]);
                block_line.push_block_and_read_one(&left, &right, delay, [&mut out_l, &mut out_r]);
                for i in 0..block {
                    let (want, _) = frame_line.push_and_read(left[i], right[i], delay, 0);
                    assert_eq!((out_l[i], out_r[i]), want, "delay {delay}, block {block}");
                }
            }
        }
    }
}
