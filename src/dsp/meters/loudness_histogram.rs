//! Fixed-size histogram of block loudness for gated integrated loudness (ITU-R BS.1770-4,
//! section 2.8 of Annex 1) and Loudness Range (EBU Tech 3342), over unbounded durations
//! without allocating on the audio thread.
//!
//! Each bin is 0.01 LU wide, covering −70 to +30 LUFS (10 000 bins). A bin stores the number
//! of blocks that fell into it *and the exact sum of their mean-square energies*, so:
//! - the absolute gate (−70 LUFS) is applied exactly on each block before it is stored;
//! - the energy mean over any set of whole bins is exact (no bin-centre quantisation);
//! - the only approximation is in the relative gate and in percentiles: a bin is kept or
//!   dropped as a whole (decided by the mean energy of its blocks), and a percentile is
//!   reported as the mean loudness of the bin that holds it. Both errors are bounded by the
//!   0.01 LU bin width (the unit tests measure < 0.01 LU against exact sorting).
//!
//! Blocks louder than +30 LUFS (only possible with samples far above full scale) share the
//! top bin; their energy is still summed exactly.

use std::cell::Cell;

use crate::dsp::util::resident::resident_vec;

/// Lower edge of the histogram, equal to the BS.1770-4 absolute gate.
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Upper edge of the regular bins.
const HISTOGRAM_TOP_LUFS: f64 = 30.0;
/// Bin width in LU.
pub const BIN_WIDTH_LU: f64 = 0.01;
const BIN_COUNT: usize = ((HISTOGRAM_TOP_LUFS - ABSOLUTE_GATE_LUFS) / BIN_WIDTH_LU) as usize;
/// BS.1770-4 loudness offset: `L = -0.691 + 10 log10(sum_i G_i z_i)`.
pub const LOUDNESS_OFFSET_DB: f64 = -0.691;

/// Loudness in LUFS of a channel-weighted mean square `sum_i G_i z_i`; −inf for zero.
#[inline]
pub fn mean_square_to_lufs(mean_square: f64) -> f64 {
    if mean_square > 0.0 {
        LOUDNESS_OFFSET_DB + 10.0 * mean_square.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// Inverse of [`mean_square_to_lufs`].
#[inline]
pub fn lufs_to_mean_square(lufs: f64) -> f64 {
    10f64.powf((lufs - LOUDNESS_OFFSET_DB) / 10.0)
}

/// Histogram of gated block loudness values. All storage is allocated in `new`, resident
/// (`util::resident`: blocks land on any bin, so the audio thread writes every page sooner or
/// later).
#[derive(Clone, Debug)]
pub struct LoudnessHistogram {
    counts: Vec<u64>,
    energy_sums: Vec<f64>,
    total_count: u64,
    total_energy: f64,
    /// Populated bin range, so scans skip empty regions (`lowest > highest` when empty).
    lowest_used_bin: usize,
    highest_used_bin: usize,
    /// The last results of the two scans: the plugin asks for its readings ~30 times a
    /// second, blocks arrive 10 times a second (issue 26: the scans were 2 % of the plugin's
    /// time), and the content only changes with the block count (`clear` empties the cache).
    gated_cache: Cell<Option<CachedScan>>,
    range_cache: Cell<Option<CachedScan>>,
}

/// One scan's result, for the content of `blocks` blocks and the scan's arguments.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CachedScan {
    blocks: u64,
    arguments: [f64; 3],
    value: f64,
}

impl LoudnessHistogram {
    /// `scan()`, or its cached result for the same content and arguments.
    fn cached(
        &self,
        cache: &Cell<Option<CachedScan>>,
        arguments: [f64; 3],
        scan: impl FnOnce() -> f64,
    ) -> f64 {
        if let Some(hit) = cache.get() {
            if hit.blocks == self.total_count && hit.arguments == arguments {
                return hit.value;
            }
        }
        let value = scan();
        cache.set(Some(CachedScan {
            blocks: self.total_count,
            arguments,
            value,
        }));
        value
    }
}

impl Default for LoudnessHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LoudnessHistogram {
    /// Allocates the bins (160 KB, off the audio thread).
    pub fn new() -> Self {
        Self::with_bins(resident_vec(0, BIN_COUNT), resident_vec(0.0, BIN_COUNT))
    }

    /// A histogram with no bins, for a meter whose integrated loudness and LRA nobody reads
    /// (`LoudnessMeter::short_term_only`): it stores nothing and reads as empty.
    pub fn disabled() -> Self {
        Self::with_bins(Vec::new(), Vec::new())
    }

    /// An empty histogram over the given bins (all zero; none for [`Self::disabled`]).
    fn with_bins(counts: Vec<u64>, energy_sums: Vec<f64>) -> Self {
        Self {
            counts,
            energy_sums,
            total_count: 0,
            total_energy: 0.0,
            lowest_used_bin: BIN_COUNT,
            highest_used_bin: 0,
            gated_cache: Cell::new(None),
            range_cache: Cell::new(None),
        }
    }

    /// Empties the histogram without allocating.
    pub fn clear(&mut self) {
        if self.lowest_used_bin <= self.highest_used_bin {
            let used = self.lowest_used_bin..=self.highest_used_bin;
            self.counts[used.clone()].fill(0);
            self.energy_sums[used].fill(0.0);
        }
        self.total_count = 0;
        self.total_energy = 0.0;
        self.lowest_used_bin = BIN_COUNT;
        self.highest_used_bin = 0;
        self.gated_cache.set(None);
        self.range_cache.set(None);
    }

    /// Number of blocks stored (blocks above the absolute gate).
    pub fn len(&self) -> u64 {
        self.total_count
    }

    pub fn is_empty(&self) -> bool {
        self.total_count == 0
    }

    /// Adds one block given its channel-weighted mean square. Blocks at or below the
    /// absolute gate (BS.1770-4: kept only if `l > -70 LUFS`) and non-finite values are
    /// ignored. O(1), no allocation.
    pub fn add_block(&mut self, mean_square: f64) {
        if !mean_square.is_finite() || self.counts.is_empty() {
            return;
        }
        let lufs = mean_square_to_lufs(mean_square);
        if lufs <= ABSOLUTE_GATE_LUFS {
            return;
        }
        let bin = (((lufs - ABSOLUTE_GATE_LUFS) / BIN_WIDTH_LU) as usize).min(BIN_COUNT - 1);
        self.counts[bin] += 1;
        self.energy_sums[bin] += mean_square;
        self.total_count += 1;
        self.total_energy += mean_square;
        self.lowest_used_bin = self.lowest_used_bin.min(bin);
        self.highest_used_bin = self.highest_used_bin.max(bin);
    }

    /// Bins whose blocks' mean energy lies above `threshold_mean_square` (compared in the
    /// energy domain to avoid a logarithm per bin), as `(count, energy sum)` in ascending
    /// loudness order.
    fn bins_above(&self, threshold_mean_square: f64) -> impl Iterator<Item = (u64, f64)> + '_ {
        let range = if self.lowest_used_bin <= self.highest_used_bin {
            self.lowest_used_bin..self.highest_used_bin + 1
        } else {
            0..0
        };
        self.counts[range.clone()]
            .iter()
            .zip(&self.energy_sums[range])
            .filter(move |(&count, &energy)| {
                count > 0 && energy > threshold_mean_square * count as f64
            })
            .map(|(&count, &energy)| (count, energy))
    }

    /// Relative-gate threshold as a mean square: `gate_lu` below the mean of all stored
    /// (absolute-gated) blocks. `None` when empty.
    fn relative_threshold(&self, gate_lu: f64) -> Option<f64> {
        if self.total_count == 0 {
            return None;
        }
        let mean = self.total_energy / self.total_count as f64;
        Some(mean * 10f64.powf(gate_lu / 10.0))
    }

    /// BS.1770-4 gated loudness: mean energy of the blocks above the absolute gate and above
    /// the relative gate `relative_gate_lu` (−10 for integrated loudness) below the
    /// absolute-gated mean. Returns LUFS, or −inf when no block passes. O(used bins).
    pub fn gated_loudness(&self, relative_gate_lu: f64) -> f64 {
        self.cached(&self.gated_cache, [relative_gate_lu, 0.0, 0.0], || {
            self.scan_gated_loudness(relative_gate_lu)
        })
    }

    fn scan_gated_loudness(&self, relative_gate_lu: f64) -> f64 {
        let Some(threshold) = self.relative_threshold(relative_gate_lu) else {
            return f64::NEG_INFINITY;
        };
        let (count, energy) = self
            .bins_above(threshold)
            .fold((0u64, 0.0), |(n, e), (count, energy)| {
                (n + count, e + energy)
            });
        if count == 0 {
            f64::NEG_INFINITY
        } else {
            mean_square_to_lufs(energy / count as f64)
        }
    }

    /// EBU Tech 3342 Loudness Range: after the relative gate `relative_gate_lu` (−20), the
    /// difference between the `high_percentile` and `low_percentile` (0..1, e.g. 0.95 and
    /// 0.10) of the block loudness distribution. Percentiles use the nearest-rank index
    /// `round((n - 1) p)` of the Tech 3342 reference code. Returns LU; 0 when empty.
    pub fn loudness_range(
        &self,
        relative_gate_lu: f64,
        low_percentile: f64,
        high_percentile: f64,
    ) -> f64 {
        self.cached(
            &self.range_cache,
            [relative_gate_lu, low_percentile, high_percentile],
            || self.scan_loudness_range(relative_gate_lu, low_percentile, high_percentile),
        )
    }

    fn scan_loudness_range(
        &self,
        relative_gate_lu: f64,
        low_percentile: f64,
        high_percentile: f64,
    ) -> f64 {
        let Some(threshold) = self.relative_threshold(relative_gate_lu) else {
            return 0.0;
        };
        let kept: u64 = self.bins_above(threshold).map(|(count, _)| count).sum();
        if kept == 0 {
            return 0.0;
        }
        let rank = |p: f64| ((kept - 1) as f64 * p.clamp(0.0, 1.0)).round() as u64;
        let (low_rank, high_rank) = (rank(low_percentile), rank(high_percentile));
        let (mut low, mut high) = (f64::NAN, f64::NAN);
        let mut seen = 0u64;
        for (count, energy) in self.bins_above(threshold) {
            if low.is_nan() && low_rank < seen + count {
                low = mean_square_to_lufs(energy / count as f64);
            }
            if high_rank < seen + count {
                high = mean_square_to_lufs(energy / count as f64);
                break;
            }
            seen += count;
        }
        if low.is_finite() && high.is_finite() {
            (high - low).max(0.0)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic xorshift generator so tests need no extra crates.
    struct XorShift(u64);
    impl XorShift {
        fn next_unit(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The cached scans answer exactly what a fresh scan does: after more blocks, for other
    /// arguments, and after `clear` refills the histogram with the same number of different
    /// blocks (a cache keyed on the count alone would return the old figures there).
    #[test]
    fn cached_readings_follow_the_content() {
        let fresh = |h: &LoudnessHistogram| {
            (
                h.scan_gated_loudness(-10.0),
                h.scan_loudness_range(-20.0, 0.1, 0.95),
                h.scan_loudness_range(-10.0, 0.2, 0.8),
            )
        };
        let cached = |h: &LoudnessHistogram| {
            (
                h.gated_loudness(-10.0),
                h.loudness_range(-20.0, 0.1, 0.95),
                h.loudness_range(-10.0, 0.2, 0.8),
            )
        };
        let mut rng = XorShift(0x5eed);
        let mut h = LoudnessHistogram::new();
        for round in 0..3 {
            for _ in 0..50 {
                h.add_block(lufs_to_mean_square(
                    -40.0 + 30.0 * rng.next_unit() + round as f64,
                ));
                assert_eq!(cached(&h), fresh(&h));
                assert_eq!(cached(&h), fresh(&h), "second read, from the cache");
            }
            h.clear();
            assert_eq!(cached(&h), fresh(&h), "cleared");
        }
    }

    /// The blocks above the absolute gate and the relative gate `relative_lu` below their mean
    /// loudness (BS.1770-4 gating, by sorting-free filtering: the reference).
    fn relatively_gated(blocks: &[f64], relative_lu: f64) -> Vec<f64> {
        let absolute: Vec<f64> = blocks
            .iter()
            .copied()
            .filter(|&z| mean_square_to_lufs(z) > ABSOLUTE_GATE_LUFS)
            .collect();
        let mean = absolute.iter().sum::<f64>() / absolute.len() as f64;
        let gate = mean_square_to_lufs(mean) + relative_lu;
        absolute
            .into_iter()
            .filter(|&z| mean_square_to_lufs(z) > gate)
            .collect()
    }

    /// Exact BS.1770-4 gated loudness over a list of block mean squares (sorting reference).
    fn exact_gated_loudness(blocks: &[f64], relative_gate_lu: f64) -> f64 {
        let kept = relatively_gated(blocks, relative_gate_lu);
        mean_square_to_lufs(kept.iter().sum::<f64>() / kept.len() as f64)
    }

    /// Exact EBU Tech 3342 loudness range (10th to 95th percentile above the -20 LU gate).
    fn exact_loudness_range(blocks: &[f64]) -> f64 {
        let mut kept: Vec<f64> = relatively_gated(blocks, -20.0)
            .into_iter()
            .map(mean_square_to_lufs)
            .collect();
        kept.sort_by(f64::total_cmp);
        let n = kept.len();
        let at = |p: f64| kept[((n - 1) as f64 * p).round() as usize];
        at(0.95) - at(0.10)
    }

    fn random_blocks(seed: u64, count: usize, low_lufs: f64, high_lufs: f64) -> Vec<f64> {
        let mut rng = XorShift(seed);
        (0..count)
            .map(|_| lufs_to_mean_square(low_lufs + (high_lufs - low_lufs) * rng.next_unit()))
            .collect()
    }

    #[test]
    fn gated_loudness_matches_exact_sorting_within_bin_width() {
        let mut worst: f64 = 0.0;
        for seed in 1..=20u64 {
            let blocks = random_blocks(seed * 7919, 3000, -80.0, 0.0);
            let mut histogram = LoudnessHistogram::new();
            blocks.iter().for_each(|&z| histogram.add_block(z));
            let error = histogram.gated_loudness(-10.0) - exact_gated_loudness(&blocks, -10.0);
            worst = worst.max(error.abs());
        }
        assert!(worst < 0.01, "worst integrated error {worst} LU");
    }

    #[test]
    fn loudness_range_matches_exact_percentiles_within_bin_width() {
        let mut worst: f64 = 0.0;
        for seed in 1..=20u64 {
            let blocks = random_blocks(seed * 104_729, 2000, -50.0, -10.0);
            let mut histogram = LoudnessHistogram::new();
            blocks.iter().for_each(|&z| histogram.add_block(z));
            let error = histogram.loudness_range(-20.0, 0.10, 0.95) - exact_loudness_range(&blocks);
            worst = worst.max(error.abs());
        }
        // Each percentile is off by at most one bin width.
        assert!(worst < 2.0 * BIN_WIDTH_LU, "worst LRA error {worst} LU");
    }

    #[test]
    fn absolute_gate_is_exact_and_empty_reports_neg_infinity() {
        let mut histogram = LoudnessHistogram::new();
        assert_eq!(histogram.gated_loudness(-10.0), f64::NEG_INFINITY);
        assert_eq!(histogram.loudness_range(-20.0, 0.1, 0.95), 0.0);
        histogram.add_block(lufs_to_mean_square(-70.0)); // at the gate: excluded (l > -70)
        histogram.add_block(lufs_to_mean_square(-90.0));
        histogram.add_block(0.0);
        histogram.add_block(f64::NAN);
        histogram.add_block(f64::INFINITY);
        assert!(histogram.is_empty());
        histogram.add_block(lufs_to_mean_square(-69.99));
        assert_eq!(histogram.len(), 1);
        assert!((histogram.gated_loudness(-10.0) + 69.99).abs() < 1e-9);
    }

    #[test]
    fn very_loud_blocks_keep_exact_energy_in_top_bin() {
        let mut histogram = LoudnessHistogram::new();
        histogram.add_block(lufs_to_mean_square(45.0));
        histogram.add_block(lufs_to_mean_square(50.0));
        let expected =
            mean_square_to_lufs((lufs_to_mean_square(45.0) + lufs_to_mean_square(50.0)) / 2.0);
        assert!((histogram.gated_loudness(-10.0) - expected).abs() < 1e-9);
    }

    #[test]
    fn clear_empties_without_changing_capacity() {
        let mut histogram = LoudnessHistogram::new();
        histogram.add_block(lufs_to_mean_square(-23.0));
        let capacity = histogram.counts.capacity();
        histogram.clear();
        assert!(histogram.is_empty());
        assert_eq!(histogram.gated_loudness(-10.0), f64::NEG_INFINITY);
        assert_eq!(histogram.counts.capacity(), capacity);
        assert!(histogram.counts.iter().all(|&c| c == 0));
    }
}
