//! True-peak estimation by 4x polyphase interpolation, ITU-R BS.1770-4 Annex 2.
//!
//! Why: a sample-peak meter misses the peaks of the reconstructed (analogue / resampled)
//! waveform between samples; those inter-sample peaks are what clip DACs and lossy encoders.
//! BS.1770-4 Annex 2 estimates them by 4x oversampling with a 48-tap, 4-phase interpolating
//! FIR and taking the maximum absolute value of the oversampled signal. The coefficients
//! below are the ones printed in the Annex (reproduced exactly; they are dyadic fractions
//! of 2^-13, so they are exact in f32 as well).
//!
//! Timing: the 48-tap prototype is symmetric about tap 23.5 (upsampled rate), i.e. its group
//! delay is 5.875 input samples. The four sub-samples produced for input sample `n` therefore
//! lie at times `n - 5.875`, `n - 5.625`, `n - 5.375`, `n - 5.125`, i.e. strictly inside the
//! interval between input samples `n - 6` and `n - 5` (at 1/8, 3/8, 5/8, 7/8 of it).
//! The Annex's filter passes the original sample instants only approximately
//! (no phase sits exactly on a sample), which is within the Annex's accuracy.
//!
//! Used as the limiter's detector, by the loudness meters, and by tests as the measurement
//! of output true peak.

use crate::dsp::util::gain_to_db;

/// Number of input-rate taps per polyphase branch (48 taps / 4 phases).
pub const TRUE_PEAK_TAPS: usize = 12;

/// Oversampling factor of the BS.1770 true-peak estimate.
pub const TRUE_PEAK_PHASES: usize = 4;

/// Detector delay in input samples: the value returned by
/// [`TruePeakDetector::process_sample`] for input sample `n` describes the inter-sample
/// interval between input samples `n - TRUE_PEAK_DELAY` and `n - TRUE_PEAK_DELAY + 1`
/// (sub-samples at `n - 5.875 .. n - 5.125`). A peak at input sample `n` is therefore
/// fully seen after `n + TRUE_PEAK_DELAY`, and a stream must be followed by
/// `TRUE_PEAK_TAPS` zeros for its last inter-sample peaks to be measured.
pub const TRUE_PEAK_DELAY: usize = 6;

/// ITU-R BS.1770-4 Annex 2 interpolation FIR exactly as printed in the Annex (one row per
/// tap, one column per phase), stored tap-major: `[tap j][phase k]` is the coefficient
/// applied to input `x[n - j]` for sub-sample phase `k`.
const BS1770_ANNEX2_COEFFS: [[f64; TRUE_PEAK_PHASES]; TRUE_PEAK_TAPS] = [
    [
        0.0017089843750,
        -0.0291748046875,
        -0.0189208984375,
        -0.0083007812500,
    ],
    [
        0.0109863281250,
        0.0292968750000,
        0.0330810546875,
        0.0148925781250,
    ],
    [
        -0.0196533203125,
        -0.0517578125000,
        -0.0582275390625,
        -0.0266113281250,
    ],
    [
        0.0332031250000,
        0.0891113281250,
        0.1015625000000,
        0.0476074218750,
    ],
    [
        -0.0594482421875,
        -0.1665039062500,
        -0.2003173828125,
        -0.1022949218750,
    ],
    [
        0.1373291015625,
        0.4650878906250,
        0.7797851562500,
        0.9721679687500,
    ],
    [
        0.9721679687500,
        0.7797851562500,
        0.4650878906250,
        0.1373291015625,
    ],
    [
        -0.1022949218750,
        -0.2003173828125,
        -0.1665039062500,
        -0.0594482421875,
    ],
    [
        0.0476074218750,
        0.1015625000000,
        0.0891113281250,
        0.0332031250000,
    ],
    [
        -0.0266113281250,
        -0.0582275390625,
        -0.0517578125000,
        -0.0196533203125,
    ],
    [
        0.0148925781250,
        0.0330810546875,
        0.0292968750000,
        0.0109863281250,
    ],
    [
        -0.0083007812500,
        -0.0189208984375,
        -0.0291748046875,
        0.0017089843750,
    ],
];

/// The Annex values are multiples of 2^-13, so this conversion to f32 is exact.
/// Tap-major layout lets the inner loop be a 4-lane multiply-add per tap (SIMD-friendly).
const BS1770_COEFFS_BY_TAP: [[f32; TRUE_PEAK_PHASES]; TRUE_PEAK_TAPS] = {
    let mut table = [[0.0f32; TRUE_PEAK_PHASES]; TRUE_PEAK_TAPS];
    let mut j = 0;
    while j < TRUE_PEAK_TAPS {
        let mut k = 0;
        while k < TRUE_PEAK_PHASES {
            table[j][k] = BS1770_ANNEX2_COEFFS[j][k] as f32;
            k += 1;
        }
        j += 1;
    }
    table
};

/// One channel of BS.1770-4 true-peak detection (4x oversampling, 48-tap FIR).
///
/// State is a 12-sample shift register (newest first); shifting 11 floats is cheaper than
/// ring indexing here and keeps the inner loop free of index arithmetic.
#[derive(Clone, Debug, Default)]
pub struct TruePeakDetector {
    /// `history[j]` is `x[n - j]`.
    history: [f32; TRUE_PEAK_TAPS],
}

impl TruePeakDetector {
    pub fn new() -> Self {
        Self {
            history: [0.0; TRUE_PEAK_TAPS],
        }
    }

    /// Clears the filter history (silence before the next sample).
    pub fn reset(&mut self) {
        self.history = [0.0; TRUE_PEAK_TAPS];
    }

    /// Pushes one input sample and returns the four interpolated sub-samples of the interval
    /// between input samples `n - 6` and `n - 5` (see [`TRUE_PEAK_DELAY`]), earliest first.
    /// Non-finite input is treated as 0 so one bad sample cannot poison 12 outputs with NaN.
    #[inline]
    pub fn process_sample_phases(&mut self, x: f32) -> [f32; TRUE_PEAK_PHASES] {
        let x = if x.is_finite() { x } else { 0.0 };
        self.history.copy_within(0..TRUE_PEAK_TAPS - 1, 1);
        self.history[0] = x;
        let mut acc = [0.0f32; TRUE_PEAK_PHASES];
        for (coeffs, &sample) in BS1770_COEFFS_BY_TAP.iter().zip(self.history.iter()) {
            for (a, &c) in acc.iter_mut().zip(coeffs.iter()) {
                *a += c * sample;
            }
        }
        acc
    }

    /// Pushes one input sample and returns the largest absolute value of the four
    /// interpolated sub-samples it completes (delayed by [`TRUE_PEAK_DELAY`]).
    #[inline]
    pub fn process_sample(&mut self, x: f32) -> f32 {
        let acc = self.process_sample_phases(x);
        acc[0]
            .abs()
            .max(acc[1].abs())
            .max(acc[2].abs().max(acc[3].abs()))
    }

    /// Processes a block and returns its maximum true-peak value (linear). Inter-sample
    /// peaks of the block's last `TRUE_PEAK_DELAY` samples are reported by the next call.
    pub fn max_true_peak(&mut self, input: &[f32]) -> f32 {
        input
            .iter()
            .fold(0.0f32, |peak, &x| peak.max(self.process_sample(x)))
    }
}

/// Two channels of [`TruePeakDetector`] computed together: both channels' 4 phases form
/// one 8-lane multiply-add per tap, which maps onto SIMD registers (about twice as fast as
/// two mono detectors). Same filter, same delay ([`TRUE_PEAK_DELAY`]).
#[derive(Clone, Debug, Default)]
pub struct StereoTruePeakDetector {
    /// `history[j]` is `[left[n - j], right[n - j]]`.
    history: [[f32; 2]; TRUE_PEAK_TAPS],
}

impl StereoTruePeakDetector {
    pub fn new() -> Self {
        Self {
            history: [[0.0; 2]; TRUE_PEAK_TAPS],
        }
    }

    /// Clears the filter history.
    pub fn reset(&mut self) {
        self.history = [[0.0; 2]; TRUE_PEAK_TAPS];
    }

    /// Pushes one stereo frame and returns the largest absolute interpolated sub-sample of
    /// either channel for the interval `n - 6 .. n - 5` (stereo-linked true peak).
    #[inline]
    pub fn process_frame(&mut self, left: f32, right: f32) -> f32 {
        let left = if left.is_finite() { left } else { 0.0 };
        let right = if right.is_finite() { right } else { 0.0 };
        self.history.copy_within(0..TRUE_PEAK_TAPS - 1, 1);
        self.history[0] = [left, right];
        let mut acc = [0.0f32; 2 * TRUE_PEAK_PHASES];
        for (coeffs, &[l, r]) in BS1770_COEFFS_BY_TAP.iter().zip(self.history.iter()) {
            for k in 0..TRUE_PEAK_PHASES {
                acc[k] += coeffs[k] * l;
                acc[k + TRUE_PEAK_PHASES] += coeffs[k] * r;
            }
        }
        acc.iter().fold(0.0f32, |peak, v| peak.max(v.abs()))
    }
}

/// Upper bound of the interpolator's gain: the largest sum of |coefficients| over the four
/// phases (about 2.02, reached by phases 1 and 2). No sub-sample can exceed the largest input
/// magnitude in its 12-sample window times this, for any signal; it lets a caller prove
/// that a quiet block cannot reach a threshold without running the filter.
pub const TRUE_PEAK_MAX_FILTER_GAIN: f32 = {
    let mut worst = 0.0f64;
    let mut k = 0;
    while k < TRUE_PEAK_PHASES {
        let mut sum = 0.0f64;
        let mut j = 0;
        while j < TRUE_PEAK_TAPS {
            let c = BS1770_ANNEX2_COEFFS[j][k];
            sum += if c < 0.0 { -c } else { c };
            j += 1;
        }
        if sum > worst {
            worst = sum;
        }
        k += 1;
    }
    worst as f32
};

/// Frames per group in [`stereo_true_peak_block`]: two SSE vectors (or one AVX vector) of
/// frames, times 4 phases, keeps 8 accumulators in registers per channel.
const BLOCK_LANES: usize = 8;

/// Block version of [`StereoTruePeakDetector::process_frame`] over contiguous histories,
/// bit-identical to it: `left` and `right` hold `TRUE_PEAK_TAPS - 1` samples of history
/// followed by the block (so `left.len() == peaks.len() + TRUE_PEAK_TAPS - 1`), and
/// `peaks[n]` receives what `process_frame(left[n + 11], right[n + 11])` would return.
/// Inputs must be finite (the caller sanitises).
///
/// Why: vectorising over consecutive frames (each SIMD lane one frame, the same tap order
/// per lane as the per-frame filter) turns the 96 multiply-adds per stereo frame into
/// straight vector code with no shuffles or state shifting.
///
/// On x86-64 CPUs with AVX (detected at run time, cached by std) the same code is compiled
/// for 8-lane vectors: one `BLOCK_LANES` group per register instead of two. Only plain
/// multiplies and adds are used (no FMA contraction), in the same order, so the results are
/// bit-identical on every path.
pub fn stereo_true_peak_block(left: &[f32], right: &[f32], peaks: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX (checked just above).
        unsafe { stereo_true_peak_block_avx(left, right, peaks) };
        return;
    }
    stereo_true_peak_block_portable(left, right, peaks);
}

/// [`stereo_true_peak_block`] compiled with AVX enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn stereo_true_peak_block_avx(left: &[f32], right: &[f32], peaks: &mut [f32]) {
    stereo_true_peak_block_portable(left, right, peaks);
}

/// The body of [`stereo_true_peak_block`], inlined into each instruction-set variant.
#[inline(always)]
fn stereo_true_peak_block_portable(left: &[f32], right: &[f32], peaks: &mut [f32]) {
    let frames = peaks
        .len()
        .min(left.len().saturating_sub(TRUE_PEAK_TAPS - 1))
        .min(right.len().saturating_sub(TRUE_PEAK_TAPS - 1));
    let groups = frames / BLOCK_LANES;
    for group in 0..groups {
        let start = group * BLOCK_LANES;
        let peak_left =
            phase_peaks_of_group(&left[start..start + BLOCK_LANES + TRUE_PEAK_TAPS - 1]);
        let peak_right =
            phase_peaks_of_group(&right[start..start + BLOCK_LANES + TRUE_PEAK_TAPS - 1]);
        for ((out, l), r) in peaks[start..start + BLOCK_LANES]
            .iter_mut()
            .zip(peak_left)
            .zip(peak_right)
        {
            *out = l.max(r);
        }
    }
    for n in groups * BLOCK_LANES..frames {
        let l = phase_peak_of_frame(&left[n..n + TRUE_PEAK_TAPS]);
        let r = phase_peak_of_frame(&right[n..n + TRUE_PEAK_TAPS]);
        peaks[n] = l.max(r);
    }
}

/// Largest |sub-sample| for each of `BLOCK_LANES` consecutive frames; `window` holds
/// `BLOCK_LANES + 11` samples, oldest first. Lane `i`'s filter input `x[n - j]` is
/// `window[i + 11 - j]`.
#[inline(always)]
fn phase_peaks_of_group(window: &[f32]) -> [f32; BLOCK_LANES] {
    let mut acc = [[0.0f32; BLOCK_LANES]; TRUE_PEAK_PHASES];
    for (j, coeffs) in BS1770_COEFFS_BY_TAP.iter().enumerate() {
        let offset = TRUE_PEAK_TAPS - 1 - j;
        let x: &[f32; BLOCK_LANES] = window[offset..offset + BLOCK_LANES]
            .try_into()
            .expect("window holds BLOCK_LANES + 11 samples");
        for (phase_acc, &c) in acc.iter_mut().zip(coeffs.iter()) {
            for (a, &v) in phase_acc.iter_mut().zip(x.iter()) {
                *a += c * v;
            }
        }
    }
    let mut peak = [0.0f32; BLOCK_LANES];
    for phase_acc in &acc {
        for (p, a) in peak.iter_mut().zip(phase_acc.iter()) {
            *p = p.max(a.abs());
        }
    }
    peak
}

/// Largest |sub-sample| of one frame; `window` holds 12 samples, oldest first.
#[inline(always)]
fn phase_peak_of_frame(window: &[f32]) -> f32 {
    let mut acc = [0.0f32; TRUE_PEAK_PHASES];
    for (coeffs, &x) in BS1770_COEFFS_BY_TAP.iter().zip(window.iter().rev()) {
        for (a, &c) in acc.iter_mut().zip(coeffs.iter()) {
            *a += c * x;
        }
    }
    acc.iter().fold(0.0f32, |peak, v| peak.max(v.abs()))
}

/// Number of folded coefficient pairs: the 12 taps of a phase pair fold into 6 sums and
/// 6 differences.
const FOLDED_TAPS: usize = TRUE_PEAK_TAPS / 2;

/// Linear-phase folding of the Annex 2 filter for [`stereo_true_peak_max`].
///
/// The 48-tap prototype is symmetric (h[m] = h[47 - m], BS.1770-4 Annex 2), so phase 3 is
/// phase 0 reversed and phase 2 is phase 1 reversed. For a phase pair (a, b) with
/// `h_b[j] = h_a[11 - j]` and `s_j = x[n-j] + x[n-11+j]`, `d_j = x[n-j] - x[n-11+j]`:
/// `y_a + y_b = sum_j (h_a[j] + h_a[11-j]) s_j` and `y_a - y_b = sum_j (h_a[j] - h_a[11-j]) d_j`
/// over j = 0..5, and `max(|y_a|, |y_b|) = (|y_a + y_b| + |y_a - y_b|) / 2`.
/// Row `j` holds `[sum_03, diff_03, sum_12, diff_12]`, already halved so the final `/ 2`
/// disappears. The Annex values are multiples of 2^-13 of magnitude below 1, so their
/// half-sums and half-differences are multiples of 2^-14 below 1: exact in f32 (at most 14
/// significant bits).
const FOLDED_COEFFS: [[f32; 4]; FOLDED_TAPS] = {
    let mut table = [[0.0f32; 4]; FOLDED_TAPS];
    let mut j = 0;
    while j < FOLDED_TAPS {
        let mirror = TRUE_PEAK_TAPS - 1 - j;
        let h0 = BS1770_ANNEX2_COEFFS[j][0];
        let h0_mirror = BS1770_ANNEX2_COEFFS[mirror][0];
        let h1 = BS1770_ANNEX2_COEFFS[j][1];
        let h1_mirror = BS1770_ANNEX2_COEFFS[mirror][1];
        table[j] = [
            (0.5 * (h0 + h0_mirror)) as f32,
            (0.5 * (h0 - h0_mirror)) as f32,
            (0.5 * (h1 + h1_mirror)) as f32,
            (0.5 * (h1 - h1_mirror)) as f32,
        ];
        j += 1;
    }
    table
};

/// Frames per vector group in [`stereo_true_peak_max`]: one AVX register of f32 (two SSE
/// registers on the portable path); 4 accumulators per channel stay in registers.
const MAX_LANES: usize = 8;
/// Frames per vector group on CPUs with AVX-512: one 512-bit register of f32.
#[cfg(target_arch = "x86_64")]
const MAX_LANES_AVX512: usize = 16;

/// The multiply-add used by the shared body of [`stereo_true_peak_max`], chosen per
/// instruction-set variant so one source serves both.
trait MulAdd {
    /// `a * b + c`.
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

/// Fused multiply-add (one rounding). Only used where FMA is enabled, where it compiles to
/// `vfmadd`; without FMA hardware `f32::mul_add` would be a slow libm call.
#[cfg(target_arch = "x86_64")]
struct Fused;

#[cfg(target_arch = "x86_64")]
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// Separate multiply and add (Rust never contracts these), fast on every target.
struct Unfused;

impl MulAdd for Unfused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// `max` for finite inputs as a plain compare-select: maps onto a single `maxps`, whereas
/// `f32::max`'s NaN handling adds a compare and a blend per vector.
#[inline(always)]
fn max_finite(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// Largest |sub-sample| of a stereo chunk, BS.1770-4 Annex 2 4x interpolation: the maximum
/// of what [`stereo_true_peak_block`] writes into its `peaks`, without the per-frame output.
///
/// Same input convention: `left` and `right` hold `TRUE_PEAK_TAPS - 1` samples of history
/// followed by the chunk (`left.len() == frames + TRUE_PEAK_TAPS - 1`; the common usable
/// length of both slices is processed) and must be finite (the caller sanitises). Returns 0
/// when there are no frames.
///
/// Why: a meter that only needs the chunk maximum can exploit the filter's linear phase
/// (see `FOLDED_COEFFS`): per channel and frame, 12 adds/subtracts and 24 multiply-adds
/// replace the 48 multiply-adds of the direct form: about half the arithmetic of
/// [`stereo_true_peak_block`]. It is equal to that maximum up to f32 rounding (the sums are
/// formed in a different order, and fused on FMA hardware), not bit-identical.
///
/// On x86-64 CPUs with AVX2 and FMA (detected at run time, cached by std) the same code is
/// compiled for 8-lane vectors with fused multiply-adds, and with AVX-512 for 16 lanes (half
/// the instructions per frame; measured 0.2 ns per stereo frame less per meter).
pub fn stereo_true_peak_max(left: &[f32], right: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked just above).
        return unsafe { stereo_true_peak_max_avx512(left, right) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        return unsafe { stereo_true_peak_max_avx2_fma(left, right) };
    }
    stereo_true_peak_max_portable(left, right)
}

/// [`stereo_true_peak_max`] compiled with AVX2 and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn stereo_true_peak_max_avx2_fma(left: &[f32], right: &[f32]) -> f32 {
    stereo_true_peak_max_body::<Fused, MAX_LANES>(left, right)
}

/// [`stereo_true_peak_max`] compiled with AVX-512F (and AVX2, FMA) enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn stereo_true_peak_max_avx512(left: &[f32], right: &[f32]) -> f32 {
    stereo_true_peak_max_body::<Fused, MAX_LANES_AVX512>(left, right)
}

/// [`stereo_true_peak_max`] for the baseline instruction set (no FMA).
fn stereo_true_peak_max_portable(left: &[f32], right: &[f32]) -> f32 {
    stereo_true_peak_max_body::<Unfused, MAX_LANES>(left, right)
}

/// The body of [`stereo_true_peak_max`], inlined into each instruction-set variant.
#[inline(always)]
fn stereo_true_peak_max_body<M: MulAdd, const LANES: usize>(left: &[f32], right: &[f32]) -> f32 {
    let frames = left
        .len()
        .min(right.len())
        .saturating_sub(TRUE_PEAK_TAPS - 1);
    let groups = frames / LANES;
    let mut peak = [0.0f32; LANES];
    for group in 0..groups {
        let start = group * LANES;
        for channel in [left, right] {
            let window = &channel[start..start + LANES + TRUE_PEAK_TAPS - 1];
            let group_peak = folded_peaks_of_group::<M, LANES>(window);
            for (p, g) in peak.iter_mut().zip(group_peak) {
                *p = max_finite(*p, g);
            }
        }
    }
    let mut result = peak.into_iter().fold(0.0f32, max_finite);
    for n in groups * LANES..frames {
        for channel in [left, right] {
            result = max_finite(
                result,
                folded_peak_of_frame::<M>(&channel[n..n + TRUE_PEAK_TAPS]),
            );
        }
    }
    result
}

/// Largest |sub-sample| for each of `LANES` consecutive frames of one channel; `window`
/// holds `LANES + 11` samples, oldest first. Lane `i`'s `x[n - j]` is
/// `window[i + 11 - j]`, so its mirror tap `x[n - 11 + j]` is `window[i + j]`.
#[inline(always)]
fn folded_peaks_of_group<M: MulAdd, const LANES: usize>(window: &[f32]) -> [f32; LANES] {
    // [sum_03, diff_03, sum_12, diff_12] per lane, as in FOLDED_COEFFS.
    let mut acc = [[0.0f32; LANES]; 4];
    for (j, coeffs) in FOLDED_COEFFS.iter().enumerate() {
        let newer_offset = TRUE_PEAK_TAPS - 1 - j;
        let newer: &[f32; LANES] = window[newer_offset..newer_offset + LANES]
            .try_into()
            .expect("window holds LANES + 11 samples");
        let older: &[f32; LANES] = window[j..j + LANES]
            .try_into()
            .expect("window holds LANES + 11 samples");
        for i in 0..LANES {
            let sum = newer[i] + older[i];
            let diff = newer[i] - older[i];
            acc[0][i] = M::mul_add(coeffs[0], sum, acc[0][i]);
            acc[1][i] = M::mul_add(coeffs[1], diff, acc[1][i]);
            acc[2][i] = M::mul_add(coeffs[2], sum, acc[2][i]);
            acc[3][i] = M::mul_add(coeffs[3], diff, acc[3][i]);
        }
    }
    let mut peak = [0.0f32; LANES];
    for (i, p) in peak.iter_mut().enumerate() {
        *p = max_finite(
            acc[0][i].abs() + acc[1][i].abs(),
            acc[2][i].abs() + acc[3][i].abs(),
        );
    }
    peak
}

/// Largest |sub-sample| of one frame by the folded filter; `window` holds 12 samples, oldest
/// first.
#[inline(always)]
fn folded_peak_of_frame<M: MulAdd>(window: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    for (j, coeffs) in FOLDED_COEFFS.iter().enumerate() {
        let newer = window[TRUE_PEAK_TAPS - 1 - j];
        let older = window[j];
        let (sum, diff) = (newer + older, newer - older);
        acc[0] = M::mul_add(coeffs[0], sum, acc[0]);
        acc[1] = M::mul_add(coeffs[1], diff, acc[1]);
        acc[2] = M::mul_add(coeffs[2], sum, acc[2]);
        acc[3] = M::mul_add(coeffs[3], diff, acc[3]);
    }
    max_finite(acc[0].abs() + acc[1].abs(), acc[2].abs() + acc[3].abs())
}

/// True peak of a stereo signal in dBTP, BS.1770-4 Annex 2 style: fresh detector state
/// (silence before the signal) and a zero-padded tail so the inter-sample peaks of the last
/// samples are included. The sample peaks are included as well (max with |x|), so the result
/// is never below the sample peak. Slices may differ in length. Returns -240 dB for silence.
pub fn true_peak_dbtp(left: &[f32], right: &[f32]) -> f32 {
    let mut peak = 0.0f32;
    for channel in [left, right] {
        let mut detector = TruePeakDetector::new();
        for &x in channel {
            let x = if x.is_finite() { x } else { 0.0 };
            peak = peak.max(detector.process_sample(x)).max(x.abs());
        }
        for _ in 0..TRUE_PEAK_TAPS {
            peak = peak.max(detector.process_sample(0.0));
        }
    }
    gain_to_db(peak)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Sine with 5 ms raised-cosine fades at both ends: an abrupt start or end is a step whose
    /// Gibbs ringing would be (correctly) measured as inter-sample overshoot.
    fn sine(freq: f64, sample_rate: f64, amplitude: f64, phase: f64, len: usize) -> Vec<f32> {
        let fade = (0.005 * sample_rate) as usize;
        (0..len)
            .map(|i| {
                let edge = i.min(len - 1 - i);
                let envelope = if edge < fade {
                    0.5 - 0.5 * (PI * edge as f64 / fade as f64).cos()
                } else {
                    1.0
                };
                let w = 2.0 * PI * freq * i as f64 / sample_rate + phase;
                (amplitude * envelope * w.sin()) as f32
            })
            .collect()
    }

    #[test]
    fn coefficients_are_symmetric_and_dc_gain_is_unity() {
        // The Annex prototype is linear phase: phase 3 is phase 0 reversed, phase 2 is
        // phase 1 reversed. Each phase has DC gain close to 1 (interpolator).
        for (row, mirror) in BS1770_COEFFS_BY_TAP
            .iter()
            .zip(BS1770_COEFFS_BY_TAP.iter().rev())
        {
            assert_eq!(row[0], mirror[3]);
            assert_eq!(row[1], mirror[2]);
        }
        // Exact f32 conversion (the Annex values are multiples of 2^-13).
        for (row32, row64) in BS1770_COEFFS_BY_TAP.iter().zip(BS1770_ANNEX2_COEFFS.iter()) {
            for (&c32, &c64) in row32.iter().zip(row64.iter()) {
                assert_eq!(f64::from(c32), c64);
                assert_eq!((c64 * 8192.0).fract(), 0.0);
            }
        }
        // The Annex filter is not an exact interpolator: measured DC gains are 1.0016
        // (phases 0, 3) and 0.9730 (phases 1, 2), i.e. within +0.015 / -0.24 dB.
        for k in 0..TRUE_PEAK_PHASES {
            let dc: f32 = BS1770_COEFFS_BY_TAP.iter().map(|c| c[k]).sum();
            assert!((dc - 1.0).abs() < 0.03, "phase {k} dc gain {dc}");
        }
    }

    #[test]
    fn impulse_response_reproduces_the_annex_prototype() {
        // Feeding a unit impulse must output the 48 taps in order h[4j + k].
        let mut detector = TruePeakDetector::new();
        let mut prototype = Vec::new();
        for n in 0..TRUE_PEAK_TAPS {
            let phases = detector.process_sample_phases(if n == 0 { 1.0 } else { 0.0 });
            prototype.extend_from_slice(&phases);
        }
        assert_eq!(prototype.len(), 48);
        assert_eq!(prototype[0], 14.0 / 8192.0);
        assert_eq!(prototype[23], 7964.0 / 8192.0);
        assert_eq!(prototype[24], 7964.0 / 8192.0);
        for m in 0..48 {
            assert_eq!(prototype[m], prototype[47 - m], "tap {m}");
        }
    }

    #[test]
    fn fs_over_4_sine_at_45_degrees_reads_0_dbtp() {
        // Samples at +-0.7071 (sample peak -3.01 dBFS), true peak 1.0.
        let x = sine(12_000.0, 48_000.0, 1.0, PI / 4.0, 4800);
        let sample_peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((sample_peak - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-4);
        let tp = true_peak_dbtp(&x, &x);
        assert!(tp.abs() < 0.2, "true peak {tp} dBTP");
    }

    #[test]
    fn full_scale_997_hz_sine_reads_0_dbtp() {
        let x = sine(997.0, 48_000.0, 1.0, 0.3, 48_000);
        let tp = true_peak_dbtp(&x, &[]);
        assert!(tp.abs() < 0.1, "true peak {tp} dBTP");
        let x44 = sine(997.0, 44_100.0, 1.0, 0.3, 44_100);
        let tp44 = true_peak_dbtp(&x44, &[]);
        assert!(tp44.abs() < 0.1, "true peak {tp44} dBTP at 44.1 kHz");
    }

    #[test]
    fn ebu_tech_3341_style_true_peak_cases() {
        // EBU Tech 3341 (V3) cases 15-18, 48 kHz: -6 dBFS sines at fs/4, fs/6, fs/8 with
        // phases chosen so no sample hits the crest; the meter must read -6.0 dBTP
        // (+0.2 / -0.4 dB tolerance).
        let cases = [
            (12_000.0, 0.0),
            (12_000.0, PI / 4.0),
            (8_000.0, PI / 3.0),
            (6_000.0, 3.0 * PI / 8.0),
        ];
        for (freq, phase) in cases {
            let x = sine(freq, 48_000.0, 0.5, phase, 4800);
            let tp = true_peak_dbtp(&x, &x);
            let expected = -6.0206;
            eprintln!("{freq} Hz, phase {phase:.4}: {tp:.3} dBTP");
            assert!(
                tp - expected <= 0.2 && expected - tp <= 0.4,
                "{freq} Hz phase {phase}: {tp} dBTP"
            );
        }
    }

    #[test]
    fn detector_delay_matches_documented_interval() {
        // An impulse at n = 0 produces its largest sub-samples (the 0.972 taps) at outputs
        // n = 5 (last phase) and n = 6 (first phase): the interval between samples n-6 and n-5
        // touches the impulse for exactly those two outputs.
        let mut detector = TruePeakDetector::new();
        let outs: Vec<[f32; 4]> = (0..TRUE_PEAK_TAPS)
            .map(|n| detector.process_sample_phases(if n == 0 { 1.0 } else { 0.0 }))
            .collect();
        assert_eq!(outs[TRUE_PEAK_DELAY - 1][3], 7964.0 / 8192.0);
        assert_eq!(outs[TRUE_PEAK_DELAY][0], 7964.0 / 8192.0);
    }

    #[test]
    fn stereo_detector_equals_two_mono_detectors() {
        let left = sine(15_000.0, 44_100.0, 0.8, 0.4, 500);
        let right = sine(3_000.0, 44_100.0, 0.9, 1.1, 500);
        let (mut mono_l, mut mono_r) = (TruePeakDetector::new(), TruePeakDetector::new());
        let mut stereo = StereoTruePeakDetector::new();
        for (&l, &r) in left.iter().zip(right.iter()) {
            let expected = mono_l.process_sample(l).max(mono_r.process_sample(r));
            assert_eq!(stereo.process_frame(l, r), expected);
        }
    }

    #[test]
    fn block_detector_is_bit_identical_to_per_frame_detector() {
        let left = sine(15_000.0, 44_100.0, 0.8, 0.4, 300);
        let right = sine(3_000.0, 44_100.0, 0.9, 1.1, 300);
        // 300 frames = 37 groups of 8 plus a 4-frame remainder.
        let mut stereo = StereoTruePeakDetector::new();
        let expected: Vec<f32> = left
            .iter()
            .zip(right.iter())
            .map(|(&l, &r)| stereo.process_frame(l, r))
            .collect();
        let pad = |x: &[f32]| -> Vec<f32> {
            let mut v = vec![0.0f32; TRUE_PEAK_TAPS - 1];
            v.extend_from_slice(x);
            v
        };
        let mut peaks = vec![0.0f32; left.len()];
        stereo_true_peak_block(&pad(&left), &pad(&right), &mut peaks);
        assert_eq!(peaks, expected);
    }

    #[test]
    fn max_filter_gain_bounds_every_sub_sample() {
        // Worst case for phase 1: input signs matching the coefficient signs.
        assert!((TRUE_PEAK_MAX_FILTER_GAIN - 2.0229).abs() < 1e-3);
        let mut detector = TruePeakDetector::new();
        let mut worst = 0.0f32;
        for j in (0..TRUE_PEAK_TAPS).rev() {
            let x = BS1770_COEFFS_BY_TAP[j][1].signum();
            worst = worst.max(detector.process_sample(x));
        }
        assert!(worst <= TRUE_PEAK_MAX_FILTER_GAIN * (1.0 + 1e-6));
        assert!(worst >= TRUE_PEAK_MAX_FILTER_GAIN * (1.0 - 1e-6));
    }

    /// Xorshift32 noise in -amplitude..amplitude (deterministic, no dependencies).
    fn xorshift_noise(len: usize, seed: u32, amplitude: f32) -> Vec<f32> {
        let mut state = seed.max(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                amplitude * ((state >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
            })
            .collect()
    }

    /// Maximum of [`stereo_true_peak_block`]'s per-frame peaks: the reference for
    /// [`stereo_true_peak_max`].
    fn block_max(left: &[f32], right: &[f32]) -> f32 {
        let frames = left
            .len()
            .min(right.len())
            .saturating_sub(TRUE_PEAK_TAPS - 1);
        let mut peaks = vec![0.0f32; frames];
        stereo_true_peak_block(left, right, &mut peaks);
        peaks.into_iter().fold(0.0f32, f32::max)
    }

    /// Asserts `stereo_true_peak_max` and its portable variant against the block maximum
    /// (1e-6 relative + 1e-9 absolute: the folded sums round differently).
    fn assert_max_matches_block(left: &[f32], right: &[f32], what: &str) -> f32 {
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-9;
        let expected = block_max(left, right);
        let dispatched = stereo_true_peak_max(left, right);
        let portable = stereo_true_peak_max_portable(left, right);
        assert!(
            close(dispatched, expected),
            "{what}: dispatched {dispatched} vs block {expected}"
        );
        assert!(
            close(portable, expected),
            "{what}: portable {portable} vs block {expected}"
        );
        assert!(
            close(dispatched, portable),
            "{what}: dispatched {dispatched} vs portable {portable}"
        );
        // Every vector variant this CPU can run, not only the one dispatch picks.
        #[cfg(target_arch = "x86_64")]
        {
            let has = |f: &str| match f {
                "avx2" => std::arch::is_x86_feature_detected!("avx2"),
                "fma" => std::arch::is_x86_feature_detected!("fma"),
                _ => std::arch::is_x86_feature_detected!("avx512f"),
            };
            if has("avx2") && has("fma") {
                // SAFETY: AVX2 and FMA are present (checked just above).
                let avx2 = unsafe { stereo_true_peak_max_avx2_fma(left, right) };
                assert!(
                    close(avx2, expected),
                    "{what}: avx2 {avx2} vs block {expected}"
                );
                if has("avx512f") {
                    // SAFETY: AVX-512F is present as well.
                    let avx512 = unsafe { stereo_true_peak_max_avx512(left, right) };
                    assert!(
                        close(avx512, expected),
                        "{what}: avx512 {avx512} vs block {expected}"
                    );
                }
            }
        }
        dispatched
    }

    #[test]
    fn folded_coefficients_add_back_to_the_annex_taps() {
        // The folding relies on the table's mirror symmetry (asserted exactly in
        // `coefficients_are_symmetric_and_dc_gain_is_unity`). The halved sums/differences are
        // exact: they add back to the original taps and their mirrors.
        for (j, folded) in FOLDED_COEFFS.iter().enumerate() {
            let mirror = TRUE_PEAK_TAPS - 1 - j;
            for (pair, phase) in [(0, 0), (2, 1)] {
                let (sum, diff) = (f64::from(folded[pair]), f64::from(folded[pair + 1]));
                assert_eq!(sum + diff, BS1770_ANNEX2_COEFFS[j][phase]);
                assert_eq!(sum - diff, BS1770_ANNEX2_COEFFS[mirror][phase]);
            }
        }
    }

    #[test]
    fn true_peak_max_matches_block_on_noise_of_every_length() {
        // 8-frame groups: lengths around multiples of 8 exercise groups, tail and both.
        for (seed, frames) in [0usize, 1, 7, 8, 9, 63, 64, 65, 512]
            .into_iter()
            .enumerate()
        {
            let len = frames + TRUE_PEAK_TAPS - 1;
            let left = xorshift_noise(len, 2 * seed as u32 + 1, 1.0);
            let right = xorshift_noise(len, 2 * seed as u32 + 2, 0.7);
            let max = assert_max_matches_block(&left, &right, &format!("{frames} frames"));
            if frames == 0 {
                assert_eq!(max, 0.0);
            } else {
                assert!(max > 0.0);
            }
        }
        // Fewer samples than the history, and mismatched lengths (common length is used).
        assert_eq!(stereo_true_peak_max(&[], &[]), 0.0);
        assert_eq!(stereo_true_peak_max(&[0.5; 5], &[0.5; 5]), 0.0);
        let long = xorshift_noise(100, 99, 1.0);
        assert_max_matches_block(&long, &long[..50], "mismatched lengths");
    }

    #[test]
    fn true_peak_max_finds_the_inter_sample_over_of_a_quarter_rate_sine() {
        // fs/4 at 45 degrees: every sample is +-0.7071, the waveform's crest lies exactly
        // between samples, so the true peak is about +3 dB over the sample peak (ideal
        // 3.01 dB; the Annex filter measures 3.055 dB).
        let x = sine(11_025.0, 44_100.0, 1.0, PI / 4.0, 4410);
        let sample_peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let max = assert_max_matches_block(&x, &x, "fs/4 sine");
        let over_db = gain_to_db(max) - gain_to_db(sample_peak);
        eprintln!("fs/4 sine: true peak {max}, {over_db:.3} dB over sample peak");
        assert!((over_db - 3.01).abs() < 0.1, "over {over_db} dB");
    }

    #[test]
    fn true_peak_max_sees_an_impulse_anywhere_in_the_block() {
        // Every input position (history included) of a 40-frame block (5 full groups) and a
        // 45-frame block (5 groups + 5-frame scalar tail), in either channel.
        for frames in [40, 45] {
            let len = frames + TRUE_PEAK_TAPS - 1;
            for position in 0..len {
                for amplitude in [1.0f32, -0.5] {
                    let mut impulse = vec![0.0f32; len];
                    impulse[position] = amplitude;
                    let silence = vec![0.0f32; len];
                    let what = format!("{frames} frames, impulse {amplitude} at {position}");
                    let max = assert_max_matches_block(&impulse, &silence, &what);
                    assert_max_matches_block(&silence, &impulse, &what);
                    // Fully seen (12 frames after it) the peak is the largest Annex tap,
                    // 7964/8192; earlier and later positions see only part of the response.
                    if position >= TRUE_PEAK_TAPS - 1 && position < frames {
                        assert_eq!(max, amplitude.abs() * 7964.0 / 8192.0, "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn true_peak_max_takes_the_louder_channel() {
        // Quiet noise left, a fs/4 inter-sample over in the right only.
        let frames = 512;
        let len = frames + TRUE_PEAK_TAPS - 1;
        let left = xorshift_noise(len, 7, 0.1);
        let right = sine(11_025.0, 44_100.0, 1.0, PI / 4.0, len);
        let both = assert_max_matches_block(&left, &right, "peak in right");
        let left_only = assert_max_matches_block(&left, &vec![0.0; len], "left only");
        let right_only = assert_max_matches_block(&vec![0.0; len], &right, "right only");
        assert!(left_only < 0.25, "left only {left_only}");
        assert_eq!(both, right_only);
        // Swapped channels give the same result.
        assert_eq!(stereo_true_peak_max(&right, &left), both);
    }

    #[test]
    fn non_finite_input_does_not_poison() {
        let mut detector = TruePeakDetector::new();
        detector.process_sample(f32::NAN);
        detector.process_sample(f32::INFINITY);
        for _ in 0..TRUE_PEAK_TAPS {
            let v = detector.process_sample(0.25);
            assert!(v.is_finite());
        }
        let v = detector.max_true_peak(&[0.25; 16]);
        assert!((v - 0.25).abs() < 0.01);
    }
}
