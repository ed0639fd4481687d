//! K-weighting filter of ITU-R BS.1770-4 (Annex 1), designed for any sample rate.
//!
//! BS.1770-4 publishes the two K-weighting stages only as 48 kHz biquad coefficients. To
//! measure at 44.1 to 192 kHz we re-derive them from their analog prototypes with the
//! bilinear transform, pre-warped at each stage's corner frequency (the derivation used by
//! libebur128; B. De Man, "Evaluation of implementations of the EBU R128 loudness
//! measurement", AES 145th Convention, 2018, compares implementations that do this). The
//! prototype parameters below reproduce the 48 kHz table to ~1e-8, which the tests check.
//!
//! Stage 1 ("pre-filter") is a second-order high shelf (+4 dB above ~1.7 kHz) modelling the
//! acoustic effect of the head. Stage 2 ("RLB", revised low-frequency B-curve) is a
//! second-order high-pass at ~38 Hz. Both run in f64 because the RLB poles sit very close to
//! z = 1 at high sample rates: [`KWeightingFilter`] per channel in transposed direct form II
//! (the reference), and [`StereoKWeighting`], the loudness meter's fast stereo path, in
//! direct form I with both channels in one 2-lane vector (see its docs).

use crate::dsp::util::flush_denormal;
#[cfg(target_arch = "x86_64")]
use crate::dsp::util::simd::{self, Level};

/// Pre-filter (high shelf) corner frequency in Hz, from the 48 kHz table of BS.1770-4.
pub const PRE_FILTER_FREQUENCY_HZ: f64 = 1681.974450955533;
/// Pre-filter high-frequency gain in dB.
pub const PRE_FILTER_GAIN_DB: f64 = 3.999843853973347;
/// Pre-filter quality factor.
pub const PRE_FILTER_Q: f64 = 0.7071752369554196;
/// Exponent that sets the shelf's mid-band numerator gain `Vb = Vh^exponent`; fitted so the
/// prototype reproduces the published 48 kHz coefficients.
const PRE_FILTER_BAND_GAIN_EXPONENT: f64 = 0.4996667741545416;
/// RLB high-pass corner frequency in Hz.
pub const RLB_FREQUENCY_HZ: f64 = 38.13547087602444;
/// RLB high-pass quality factor.
pub const RLB_Q: f64 = 0.5003270373238773;
/// Sample rate of the coefficient table printed in BS.1770-4.
const TABLE_SAMPLE_RATE_HZ: f64 = 48_000.0;
/// Sample rates outside this range are clamped (the shelf design needs fs well above 2*f0).
const MIN_SAMPLE_RATE_HZ: f64 = 8_000.0;
const MAX_SAMPLE_RATE_HZ: f64 = 768_000.0;

/// Normalised biquad coefficients (`a0 == 1`):
/// `H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BiquadCoefficients {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl BiquadCoefficients {
    /// BS.1770-4 stage 1 (high shelf) for `sample_rate` Hz: bilinear transform of
    /// `H(s) = (Vh s^2 + Vb s/Q + 1) / (s^2 + s/Q + 1)` with `s` normalised to the pre-warped
    /// corner `K = tan(pi f0 / fs)`.
    pub fn k_weighting_pre_filter(sample_rate: f64) -> Self {
        let fs = clamp_sample_rate(sample_rate);
        let k = (std::f64::consts::PI * PRE_FILTER_FREQUENCY_HZ / fs).tan();
        let high_gain = 10f64.powf(PRE_FILTER_GAIN_DB / 20.0);
        let band_gain = high_gain.powf(PRE_FILTER_BAND_GAIN_EXPONENT);
        let a0 = 1.0 + k / PRE_FILTER_Q + k * k;
        Self {
            b0: (high_gain + band_gain * k / PRE_FILTER_Q + k * k) / a0,
            b1: 2.0 * (k * k - high_gain) / a0,
            b2: (high_gain - band_gain * k / PRE_FILTER_Q + k * k) / a0,
            a1: 2.0 * (k * k - 1.0) / a0,
            a2: (1.0 - k / PRE_FILTER_Q + k * k) / a0,
        }
    }

    /// BS.1770-4 stage 2 (RLB high-pass) for `sample_rate` Hz.
    ///
    /// The standard's table uses the *unnormalised* numerator `b = (1, -2, 1)`, i.e. a
    /// high-pass with a pass-band gain of `a0(48 kHz) = 1 + K/Q + K^2 ≈ 1.004995`
    /// (+0.0433 dB), and the −0.691 dB offset of the loudness formula was calibrated with
    /// that gain included. Re-using `(1, -2, 1)` at other rates would make the pass-band gain
    /// rate dependent (+0.047 dB at 44.1 kHz, +0.011 dB at 192 kHz), so instead we design the
    /// unity-gain high-pass and apply the 48 kHz pass-band gain at every rate. At 48 kHz this
    /// is exactly the table (`b = 1, -2, 1`); at other rates readings stay rate independent.
    pub fn k_weighting_rlb_filter(sample_rate: f64) -> Self {
        let fs = clamp_sample_rate(sample_rate);
        let (a0, a1, a2) = rlb_denominator(fs);
        let (table_a0, _, _) = rlb_denominator(TABLE_SAMPLE_RATE_HZ);
        let numerator_gain = table_a0 / a0;
        Self {
            b0: numerator_gain,
            b1: -2.0 * numerator_gain,
            b2: numerator_gain,
            a1: a1 / a0,
            a2: a2 / a0,
        }
    }

    /// Complex response `H(e^{jw})` magnitude at `frequency_hz`, evaluated analytically.
    pub fn magnitude_at(&self, frequency_hz: f64, sample_rate: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * frequency_hz / sample_rate;
        let (c1, s1) = (w.cos(), -w.sin());
        let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
        let num_re = self.b0 + self.b1 * c1 + self.b2 * c2;
        let num_im = self.b1 * s1 + self.b2 * s2;
        let den_re = 1.0 + self.a1 * c1 + self.a2 * c2;
        let den_im = self.a1 * s1 + self.a2 * s2;
        ((num_re * num_re + num_im * num_im) / (den_re * den_re + den_im * den_im)).sqrt()
    }
}

/// Un-normalised RLB denominator `(a0, a1, a2)` for the pre-warped bilinear transform of
/// `s^2 / (s^2 + s/Q + 1)`.
fn rlb_denominator(fs: f64) -> (f64, f64, f64) {
    let k = (std::f64::consts::PI * RLB_FREQUENCY_HZ / fs).tan();
    (
        1.0 + k / RLB_Q + k * k,
        2.0 * (k * k - 1.0),
        1.0 - k / RLB_Q + k * k,
    )
}

fn clamp_sample_rate(sample_rate: f64) -> f64 {
    if sample_rate.is_finite() {
        sample_rate.clamp(MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ)
    } else {
        TABLE_SAMPLE_RATE_HZ
    }
}

/// Transposed direct form II biquad in f64 (the test-only reference [`KWeightingFilter`]).
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
struct Biquad {
    coefficients: BiquadCoefficients,
    state1: f64,
    state2: f64,
}

#[cfg(test)]
impl Biquad {
    fn new(coefficients: BiquadCoefficients) -> Self {
        Self {
            coefficients,
            state1: 0.0,
            state2: 0.0,
        }
    }

    #[inline(always)]
    fn process(&mut self, x: f64) -> f64 {
        let c = &self.coefficients;
        let y = c.b0 * x + self.state1;
        self.state1 = c.b1 * x - c.a1 * y + self.state2;
        self.state2 = c.b2 * x - c.a2 * y;
        y
    }

    /// Zeroes non-finite state and flushes subnormal-range state so a decaying tail cannot
    /// cause denormal slowdowns.
    fn guard_state(&mut self) {
        if !(self.state1.is_finite() && self.state2.is_finite()) {
            self.state1 = 0.0;
            self.state2 = 0.0;
        }
        self.state1 = flush_denormal(self.state1);
        self.state2 = flush_denormal(self.state2);
    }
}

/// One channel of K-weighting (pre-filter followed by RLB high-pass): the textbook form, kept
/// as the tests' reference for the stereo and quad filters the meters run (test-only).
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub struct KWeightingFilter {
    pre_filter: Biquad,
    rlb_filter: Biquad,
    sample_rate: f64,
}

#[cfg(test)]
impl KWeightingFilter {
    pub fn new(sample_rate: f32) -> Self {
        let fs = f64::from(sample_rate);
        Self {
            pre_filter: Biquad::new(BiquadCoefficients::k_weighting_pre_filter(fs)),
            rlb_filter: Biquad::new(BiquadCoefficients::k_weighting_rlb_filter(fs)),
            sample_rate: clamp_sample_rate(fs),
        }
    }

    /// Redesigns for `sample_rate` and clears the state.
    pub fn reset(&mut self, sample_rate: f32) {
        *self = Self::new(sample_rate);
    }

    /// Clears the filter state, keeping the coefficients.
    pub fn clear_state(&mut self) {
        for stage in [&mut self.pre_filter, &mut self.rlb_filter] {
            stage.state1 = 0.0;
            stage.state2 = 0.0;
        }
    }

    /// Filters one sample. The input must be finite (callers sanitise).
    #[inline(always)]
    pub fn process_sample(&mut self, x: f64) -> f64 {
        self.rlb_filter.process(self.pre_filter.process(x))
    }

    /// Call periodically (e.g. every few ms): zeroes non-finite state, flushes denormals.
    pub fn guard_state(&mut self) {
        self.pre_filter.guard_state();
        self.rlb_filter.guard_state();
    }

    /// Analytic magnitude of the designed cascade at `frequency_hz`, in dB.
    pub fn magnitude_db(&self, frequency_hz: f64) -> f64 {
        let fs = self.sample_rate;
        let magnitude = self.pre_filter.coefficients.magnitude_at(frequency_hz, fs)
            * self.rlb_filter.coefficients.magnitude_at(frequency_hz, fs);
        20.0 * magnitude.max(1e-300).log10()
    }

    pub fn pre_filter_coefficients(&self) -> BiquadCoefficients {
        self.pre_filter.coefficients
    }

    pub fn rlb_filter_coefficients(&self) -> BiquadCoefficients {
        self.rlb_filter.coefficients
    }
}

/// Two f64 values processed in lock step (left and right channel), one 2-lane vector per
/// operation: SSE2 on x86-64 (always present there), plain arrays elsewhere (which the
/// optimiser may vectorise itself). Both give IEEE-identical results per lane.
#[cfg(target_arch = "x86_64")]
mod lanes {
    use std::arch::x86_64::{
        __m128d, _mm_add_pd, _mm_mul_pd, _mm_set_pd, _mm_storeu_pd, _mm_sub_pd,
    };

    #[derive(Clone, Copy)]
    pub(super) struct Lanes(__m128d);

    // Every block below: SSE2 is part of the x86-64 baseline, so these instructions exist on
    // every CPU this code can run on; no memory is accessed except `out`, a local array of
    // exactly two f64.
    impl Lanes {
        #[inline(always)]
        pub(super) fn pair(left: f64, right: f64) -> Self {
            // SAFETY: SSE2 is baseline on x86-64 (see above); registers only.
            Self(unsafe { _mm_set_pd(right, left) })
        }
        #[inline(always)]
        pub(super) fn mul(self, other: Self) -> Self {
            // SAFETY: SSE2 is baseline on x86-64 (see above); registers only.
            Self(unsafe { _mm_mul_pd(self.0, other.0) })
        }
        #[inline(always)]
        pub(super) fn add(self, other: Self) -> Self {
            // SAFETY: SSE2 is baseline on x86-64 (see above); registers only.
            Self(unsafe { _mm_add_pd(self.0, other.0) })
        }
        #[inline(always)]
        pub(super) fn sub(self, other: Self) -> Self {
            // SAFETY: SSE2 is baseline on x86-64 (see above); registers only.
            Self(unsafe { _mm_sub_pd(self.0, other.0) })
        }
        #[inline(always)]
        pub(super) fn to_array(self) -> [f64; 2] {
            let mut out = [0.0f64; 2];
            // SAFETY: SSE2 is baseline; `out` is a writable local of exactly two f64.
            unsafe { _mm_storeu_pd(out.as_mut_ptr(), self.0) };
            out
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod lanes {
    #[derive(Clone, Copy)]
    pub(super) struct Lanes([f64; 2]);

    impl Lanes {
        #[inline(always)]
        pub(super) fn pair(left: f64, right: f64) -> Self {
            Self([left, right])
        }
        #[inline(always)]
        pub(super) fn mul(self, other: Self) -> Self {
            Self([self.0[0] * other.0[0], self.0[1] * other.0[1]])
        }
        #[inline(always)]
        pub(super) fn add(self, other: Self) -> Self {
            Self([self.0[0] + other.0[0], self.0[1] + other.0[1]])
        }
        #[inline(always)]
        pub(super) fn sub(self, other: Self) -> Self {
            Self([self.0[0] - other.0[0], self.0[1] - other.0[1]])
        }
        #[inline(always)]
        pub(super) fn to_array(self) -> [f64; 2] {
            self.0
        }
    }
}

use lanes::Lanes;

/// K-weighting of `N` channels in lock step, both stages in one loop, Direct Form I: the
/// loudness meters' fast path. [`StereoKWeighting`] (2 lanes) serves one meter,
/// [`QuadKWeighting`] (4 lanes) the A/B monitor's two meters at once. Coefficients, state
/// and its guarding are shared; each width has its own vectorised `process_energy`.
///
/// Why this form: the meter's cost is the serial recursion. In Direct Form I the only
/// loop-carried path of a stage is `y[n-1] -> a1 * y[n-1] -> subtract` (one multiply and
/// one subtract), versus a multiply and three adds through the transposed form's state; the
/// feed-forward part and the `a2` term are computed off that path. Double precision keeps
/// the DF-I round-off negligible even with the RLB poles right next to z = 1 at 192 kHz
/// (the measured difference to [`KWeightingFilter`] is checked in the tests). Two more
/// savings, both exact in real arithmetic: the RLB stage's numerator gain is folded into the
/// pre-filter's numerator (the stages are linear and commute with a constant gain), so the
/// RLB numerator is `(x - x1) - (x1 - x2)` with no multiplies; and the pre-filter's output
/// history doubles as the RLB stage's input history.
#[derive(Clone, Copy, Debug)]
pub struct KWeightingLanes<const N: usize> {
    /// Pre-filter numerator (times the RLB numerator gain) and denominator.
    pre_b: [f64; 3],
    pre_a: [f64; 2],
    rlb_a: [f64; 2],
    /// Per-channel histories: input `x[n-1], x[n-2]`, pre-filter output `p[n-1], p[n-2]`,
    /// K-weighted output `y[n-1], y[n-2]`.
    x1: [f64; N],
    x2: [f64; N],
    p1: [f64; N],
    p2: [f64; N],
    y1: [f64; N],
    y2: [f64; N],
}

/// Stereo K-weighting: both channels in one 2-lane f64 vector (SSE2 on x86-64).
pub type StereoKWeighting = KWeightingLanes<2>;

/// Four channels in one pass: the A/B monitor's original (left, right) and processed (left,
/// right) signals, so both programme meters share one filter.
///
/// Why: the K-weighting cost is the serial recursion (latency-bound), not arithmetic. Four
/// independent channels in one 4-lane f64 vector cost about what two cost in the 2-lane
/// form, so metering both signals costs about half of two stereo meters. On CPUs with AVX and
/// FMA (detected at run time) each feedback step is one fused multiply-add, which shortens
/// the loop-carried path further (4 instead of 6-7 cycles per frame on current x86 cores).
/// The fused path rounds once per multiply-add instead of twice, so it agrees with the stereo
/// filter to ~1e-15 relative (tested); the portable path *is* two stereo filters.
/// Lane order: original left, original right, processed left, processed right.
pub type QuadKWeighting = KWeightingLanes<4>;

impl<const N: usize> KWeightingLanes<N> {
    pub fn new(sample_rate: f32) -> Self {
        let fs = f64::from(sample_rate);
        let pre = BiquadCoefficients::k_weighting_pre_filter(fs);
        let rlb = BiquadCoefficients::k_weighting_rlb_filter(fs);
        // The RLB numerator is rlb.b0 * (1, -2, 1).
        let gain = rlb.b0;
        Self {
            pre_b: [pre.b0 * gain, pre.b1 * gain, pre.b2 * gain],
            pre_a: [pre.a1, pre.a2],
            rlb_a: [rlb.a1, rlb.a2],
            x1: [0.0; N],
            x2: [0.0; N],
            p1: [0.0; N],
            p2: [0.0; N],
            y1: [0.0; N],
            y2: [0.0; N],
        }
    }

    /// Redesigns for `sample_rate` and clears the state.
    pub fn reset(&mut self, sample_rate: f32) {
        *self = Self::new(sample_rate);
    }

    /// Every state register of the two biquads.
    fn states_mut(&mut self) -> [&mut [f64; N]; 6] {
        [
            &mut self.x1,
            &mut self.x2,
            &mut self.p1,
            &mut self.p2,
            &mut self.y1,
            &mut self.y2,
        ]
    }

    /// Clears the filter state, keeping the coefficients.
    pub fn clear_state(&mut self) {
        for state in self.states_mut() {
            *state = [0.0; N];
        }
    }

    /// Call periodically (e.g. every few ms): zeroes non-finite state, flushes denormals.
    pub fn guard_state(&mut self) {
        let states = [self.x1, self.x2, self.p1, self.p2, self.y1, self.y2];
        if states.iter().flatten().any(|v| !v.is_finite()) {
            self.clear_state();
        }
        for state in self.states_mut() {
            *state = state.map(flush_denormal);
        }
    }
}

impl StereoKWeighting {
    /// K-weights `left` and `right` (equal lengths; only the common length is used; inputs
    /// must be finite, callers sanitise) and returns the per-channel energies
    /// `[sum yl^2, sum yr^2]`. For a mono signal pass the same slice twice, or zeros, and use
    /// the left energy.
    pub fn process_energy(&mut self, left: &[f32], right: &[f32]) -> [f64; 2] {
        let lane = |v: [f64; 2]| Lanes::pair(v[0], v[1]);
        let splat = |v: f64| Lanes::pair(v, v);
        let (b0, b1, b2) = (
            splat(self.pre_b[0]),
            splat(self.pre_b[1]),
            splat(self.pre_b[2]),
        );
        let (pre_a1, pre_a2) = (splat(self.pre_a[0]), splat(self.pre_a[1]));
        let (rlb_a1, rlb_a2) = (splat(self.rlb_a[0]), splat(self.rlb_a[1]));
        let (mut x1, mut x2) = (lane(self.x1), lane(self.x2));
        let (mut p1, mut p2) = (lane(self.p1), lane(self.p2));
        let (mut y1, mut y2) = (lane(self.y1), lane(self.y2));
        let mut energy = splat(0.0);
        for (&l, &r) in left.iter().zip(right) {
            let x = Lanes::pair(f64::from(l), f64::from(r));
            let feed_forward = b0.mul(x).add(b1.mul(x1)).add(b2.mul(x2));
            let p = feed_forward.sub(pre_a2.mul(p2)).sub(pre_a1.mul(p1));
            let difference = p.sub(p1).sub(p1.sub(p2));
            let y = difference.sub(rlb_a2.mul(y2)).sub(rlb_a1.mul(y1));
            energy = energy.add(y.mul(y));
            (x2, x1) = (x1, x);
            (p2, p1) = (p1, p);
            (y2, y1) = (y1, y);
        }
        (self.x1, self.x2) = (x1.to_array(), x2.to_array());
        (self.p1, self.p2) = (p1.to_array(), p2.to_array());
        (self.y1, self.y2) = (y1.to_array(), y2.to_array());
        energy.to_array()
    }
}

/// The four input channels of [`QuadKWeighting::process_energy`], equal lengths.
pub type QuadInput<'a> = [&'a [f32]; 4];

impl QuadKWeighting {
    /// K-weights the four channels (only their common length is used; inputs must be
    /// finite, callers sanitise) and returns the per-channel energies `sum y^2`.
    pub fn process_energy(&mut self, input: QuadInput) -> [f64; 4] {
        let frames = input.iter().map(|c| c.len()).min().unwrap_or(0);
        let input = input.map(|c| &c[..frames]);
        #[cfg(target_arch = "x86_64")]
        if simd::supports(Level::AvxFma) {
            // SAFETY: the CPU supports AVX and FMA (checked just above), the features
            // `process_energy_avx_fma` is compiled for.
            return unsafe { self.process_energy_avx_fma(input) };
        }
        self.process_energy_portable(input)
    }

    /// The reference path: the two halves run as two [`StereoKWeighting`]s.
    fn process_energy_portable(&mut self, input: QuadInput) -> [f64; 4] {
        let mut energy = [0.0f64; 4];
        for first in [0, 2] {
            let pick = |state: &[f64; 4]| [state[first], state[first + 1]];
            let mut half = StereoKWeighting {
                pre_b: self.pre_b,
                pre_a: self.pre_a,
                rlb_a: self.rlb_a,
                x1: pick(&self.x1),
                x2: pick(&self.x2),
                p1: pick(&self.p1),
                p2: pick(&self.p2),
                y1: pick(&self.y1),
                y2: pick(&self.y2),
            };
            let [left, right] = half.process_energy(input[first], input[first + 1]);
            (energy[first], energy[first + 1]) = (left, right);
            for (state, half_state) in self.states_mut().into_iter().zip(half.states_mut()) {
                state[first..first + 2].copy_from_slice(half_state);
            }
        }
        energy
    }

    /// [`Self::process_energy_portable`] with the four lanes in one AVX register and the
    /// feedback terms as fused multiply-adds.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx,fma")]
    fn process_energy_avx_fma(&mut self, input: QuadInput) -> [f64; 4] {
        use std::arch::x86_64::{
            _mm256_cvtps_pd, _mm256_fmadd_pd, _mm256_fnmadd_pd, _mm256_loadu_pd, _mm256_mul_pd,
            _mm256_set1_pd, _mm256_set_pd, _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
            _mm_loadu_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
        };
        let frames = input.iter().map(|c| c.len()).min().unwrap_or(0);
        // SAFETY: AVX/FMA are enabled for this function (the caller checked the CPU); the
        // loads and stores touch only the `[f64; 4]` state arrays and `[f32; 4]` input slices
        // checked by `try_into`.
        unsafe {
            let splat = |v: f64| _mm256_set1_pd(v);
            let (b0, b1, b2) = (
                splat(self.pre_b[0]),
                splat(self.pre_b[1]),
                splat(self.pre_b[2]),
            );
            let (pre_a1, pre_a2) = (splat(self.pre_a[0]), splat(self.pre_a[1]));
            let (rlb_a1, rlb_a2) = (splat(self.rlb_a[0]), splat(self.rlb_a[1]));
            let load = |v: &[f64; 4]| _mm256_loadu_pd(v.as_ptr());
            let (mut x1, mut x2) = (load(&self.x1), load(&self.x2));
            let (mut p1, mut p2) = (load(&self.p1), load(&self.p2));
            let (mut y1, mut y2) = (load(&self.y1), load(&self.y2));
            let mut energy = _mm256_setzero_pd();
            // One frame (the four channels in `$x`) through both stages.
            macro_rules! step {
                ($x:expr) => {{
                    let x = $x;
                    // Off the loop-carried path, so fused here only to save instructions.
                    let feed_forward =
                        _mm256_fmadd_pd(b2, x2, _mm256_fmadd_pd(b1, x1, _mm256_mul_pd(b0, x)));
                    // fnmadd(a, b, c) = c - a * b. The newest state (p1, y1) enters last, so
                    // only one fused operation per stage is on the loop-carried path.
                    let p =
                        _mm256_fnmadd_pd(pre_a1, p1, _mm256_fnmadd_pd(pre_a2, p2, feed_forward));
                    let difference = _mm256_sub_pd(_mm256_sub_pd(p, p1), _mm256_sub_pd(p1, p2));
                    let y = _mm256_fnmadd_pd(rlb_a1, y1, _mm256_fnmadd_pd(rlb_a2, y2, difference));
                    energy = _mm256_fmadd_pd(y, y, energy);
                    (x2, x1) = (x1, x);
                    (p2, p1) = (p1, p);
                    (y2, y1) = (y1, y);
                }};
            }
            // Four frames at a time: four 4-sample loads and a 4x4 transpose give one vector
            // of the four channels per frame, in about half the instructions of gathering
            // each frame's samples one by one (the filter is throughput-bound here).
            let quads = frames / 4;
            for q in 0..quads {
                let at = 4 * q;
                let [c0, c1, c2, c3] = [0, 1, 2, 3].map(|c| {
                    let channel: &[f32; 4] = input[c][at..at + 4]
                        .try_into()
                        .expect("4 samples per channel");
                    _mm_loadu_ps(channel.as_ptr())
                });
                // Transpose: rows = channels -> rows = frames.
                let t0 = _mm_unpacklo_ps(c0, c1);
                let t1 = _mm_unpackhi_ps(c0, c1);
                let t2 = _mm_unpacklo_ps(c2, c3);
                let t3 = _mm_unpackhi_ps(c2, c3);
                step!(_mm256_cvtps_pd(_mm_movelh_ps(t0, t2)));
                step!(_mm256_cvtps_pd(_mm_movehl_ps(t2, t0)));
                step!(_mm256_cvtps_pd(_mm_movelh_ps(t1, t3)));
                step!(_mm256_cvtps_pd(_mm_movehl_ps(t3, t1)));
            }
            let tail = 4 * quads..frames;
            let tail_frames = input[0][tail.clone()]
                .iter()
                .zip(&input[1][tail.clone()])
                .zip(&input[2][tail.clone()])
                .zip(&input[3][tail]);
            for (((&a, &b), &c), &d) in tail_frames {
                step!(_mm256_set_pd(
                    f64::from(d),
                    f64::from(c),
                    f64::from(b),
                    f64::from(a)
                ));
            }
            let store = |v, out: &mut [f64; 4]| _mm256_storeu_pd(out.as_mut_ptr(), v);
            store(x1, &mut self.x1);
            store(x2, &mut self.x2);
            store(p1, &mut self.p1);
            store(p2, &mut self.p2);
            store(y1, &mut self.y1);
            store(y2, &mut self.y2);
            let mut out = [0.0f64; 4];
            store(energy, &mut out);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATES: [f32; 4] = [44_100.0, 48_000.0, 96_000.0, 192_000.0];

    /// Analog prototype magnitude (what the bilinear designs approximate), in dB, including
    /// the table's +0.0433 dB RLB pass-band gain.
    fn analog_k_weighting_db(frequency_hz: f64) -> f64 {
        let magnitude = |num: [f64; 3], den: [f64; 3], x: f64| {
            // (n2 (jx)^2 + n1 jx + n0) / (d2 (jx)^2 + d1 jx + d0)
            let (nr, ni) = (num[0] - num[2] * x * x, num[1] * x);
            let (dr, di) = (den[0] - den[2] * x * x, den[1] * x);
            ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
        };
        let high_gain = 10f64.powf(PRE_FILTER_GAIN_DB / 20.0);
        let band_gain = high_gain.powf(PRE_FILTER_BAND_GAIN_EXPONENT);
        let shelf = magnitude(
            [1.0, band_gain / PRE_FILTER_Q, high_gain],
            [1.0, 1.0 / PRE_FILTER_Q, 1.0],
            frequency_hz / PRE_FILTER_FREQUENCY_HZ,
        );
        let high_pass = magnitude(
            [0.0, 0.0, 1.0],
            [1.0, 1.0 / RLB_Q, 1.0],
            frequency_hz / RLB_FREQUENCY_HZ,
        );
        let (table_a0, _, _) = rlb_denominator(TABLE_SAMPLE_RATE_HZ);
        20.0 * (shelf * high_pass * table_a0).log10()
    }

    /// Runs a unit sine through the filter, skips the transient, and returns the gain in dB
    /// measured by a single-bin DFT over exactly `frequency_hz` whole cycles (1 s window).
    fn measured_gain_db(sample_rate: f32, frequency_hz: f64) -> f64 {
        let mut filter = KWeightingFilter::new(sample_rate);
        let fs = f64::from(sample_rate);
        let w = 2.0 * std::f64::consts::PI * frequency_hz / fs;
        let settle = (0.5 * fs) as usize;
        let window = fs as usize;
        let (mut re, mut im) = (0.0, 0.0);
        for n in 0..settle + window {
            let phase = w * n as f64;
            let y = filter.process_sample(phase.sin());
            if n >= settle {
                re += y * phase.cos();
                im += y * phase.sin();
            }
        }
        20.0 * (2.0 * (re * re + im * im).sqrt() / window as f64).log10()
    }

    #[test]
    fn design_reproduces_bs1770_48k_table() {
        let filter = KWeightingFilter::new(48_000.0);
        let pre = filter.pre_filter_coefficients();
        let rlb = filter.rlb_filter_coefficients();
        let pairs = [
            (pre.b0, 1.53512485958697),
            (pre.b1, -2.69169618940638),
            (pre.b2, 1.19839281085285),
            (pre.a1, -1.69065929318241),
            (pre.a2, 0.73248077421585),
            (rlb.b0, 1.0),
            (rlb.b1, -2.0),
            (rlb.b2, 1.0),
            (rlb.a1, -1.99004745483398),
            (rlb.a2, 0.99007225036621),
        ];
        let max_error = pairs
            .iter()
            .map(|(got, table)| (got - table).abs())
            .fold(0.0, f64::max);
        assert!(max_error < 1e-8, "max coefficient error {max_error:e}");
    }

    #[test]
    fn measured_response_matches_analytic_digital_response() {
        for rate in RATES {
            let filter = KWeightingFilter::new(rate);
            for frequency in [10.0, 40.0, 100.0, 1000.0, 10_000.0] {
                let measured = measured_gain_db(rate, frequency);
                let analytic = filter.magnitude_db(frequency);
                assert!(
                    (measured - analytic).abs() < 0.01,
                    "{rate} Hz, {frequency} Hz: measured {measured} analytic {analytic}"
                );
            }
        }
    }

    #[test]
    fn response_follows_k_weighting_curve_at_all_rates() {
        for rate in RATES {
            let filter = KWeightingFilter::new(rate);
            // Pass band / shelf region: close to the analog prototype at every rate.
            for frequency in [100.0, 500.0, 1000.0, 2000.0, 5000.0] {
                let error = filter.magnitude_db(frequency) - analog_k_weighting_db(frequency);
                assert!(
                    error.abs() < 0.02,
                    "{rate} Hz at {frequency} Hz: {error} dB"
                );
            }
            // +4 dB shelf region at 10 kHz (bilinear warping moves it slightly at 44.1 kHz).
            let at_10k = filter.magnitude_db(10_000.0);
            assert!((at_10k - 4.0).abs() < 0.1, "{rate} Hz: 10 kHz {at_10k} dB");
            // ~+0.691 dB at 997 Hz is what the -0.691 dB offset of BS.1770 cancels; bilinear
            // warping of the shelf moves it by -0.001..+0.005 dB between 44.1 and 192 kHz.
            let at_997 = filter.magnitude_db(997.0);
            assert!(
                (at_997 - 0.691).abs() < 0.01,
                "{rate} Hz: 997 Hz {at_997} dB"
            );
            // Second-order high-pass: about -12 dB/octave well below 38 Hz.
            let at_10 = filter.magnitude_db(10.0);
            let at_5 = filter.magnitude_db(5.0);
            assert!(at_10 < -20.0, "{rate} Hz: 10 Hz {at_10} dB");
            assert!((at_10 - at_5 - 12.0).abs() < 1.0, "slope {}", at_10 - at_5);
            let error_10 = at_10 - analog_k_weighting_db(10.0);
            assert!(error_10.abs() < 0.02, "{rate} Hz at 10 Hz: {error_10} dB");
        }
    }

    #[test]
    fn guard_state_recovers_from_non_finite_state() {
        let mut filter = KWeightingFilter::new(48_000.0);
        filter.pre_filter.state1 = f64::NAN;
        filter.guard_state();
        let y = filter.process_sample(1.0);
        assert!(y.is_finite());
    }

    #[test]
    fn stereo_direct_form_one_matches_the_reference_cascade() {
        // The meter's stereo DF-I path against the per-channel transposed-DF-II reference on
        // noise plus a 20 Hz tone, at the extreme rates (the RLB poles are closest to z = 1
        // at 192 kHz). Sample by sample, and the block energies over 0.5 s.
        for rate in [44_100.0f32, 192_000.0] {
            let mut reference = [KWeightingFilter::new(rate), KWeightingFilter::new(rate)];
            let mut stereo = StereoKWeighting::new(rate);
            let mut block = StereoKWeighting::new(rate);
            let n = rate as usize / 2;
            let mut seed = 0x1234_5678u32;
            let mut noise = || {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as f32 / u32::MAX as f32 - 0.5
            };
            let left: Vec<f32> = (0..n)
                .map(|i| {
                    let t = i as f32 / rate;
                    0.5 * (2.0 * std::f32::consts::PI * 20.0 * t).sin() + 0.3 * noise()
                })
                .collect();
            let right: Vec<f32> = (0..n).map(|_| 0.5 * noise()).collect();
            let mut reference_energy = [0.0f64; 2];
            let mut worst = 0.0f64;
            for (&l, &r) in left.iter().zip(&right) {
                stereo.process_energy(&[l], &[r]);
                for (ch, x) in [l, r].into_iter().enumerate() {
                    let y = reference[ch].process_sample(f64::from(x));
                    reference_energy[ch] += y * y;
                    worst = worst.max((stereo.y1[ch] - y).abs());
                }
            }
            let mut energy = [0.0f64; 2];
            for (l, r) in left.chunks(333).zip(right.chunks(333)) {
                let e = block.process_energy(l, r);
                energy[0] += e[0];
                energy[1] += e[1];
            }
            let rms = (reference_energy[0] / n as f64).sqrt();
            assert!(
                worst / rms < 1e-9,
                "{rate} Hz: max sample error / RMS {:e}",
                worst / rms
            );
            for ch in 0..2 {
                let db = 10.0 * (energy[ch] / reference_energy[ch]).log10();
                assert!(db.abs() < 1e-9, "{rate} Hz channel {ch}: {db:e} dB");
            }
        }
    }

    #[test]
    fn quad_filter_matches_two_stereo_filters() {
        // The A/B monitor's shared filter must give the programme meters what two stereo
        // meters would: exactly on the portable path, to rounding on the fused one.
        for &fs in &RATES {
            let channels: Vec<Vec<f32>> = (0..4)
                .map(|c| {
                    let scale = 0.25 * (c + 1) as f32;
                    let noise = crate::test_signals::white_noise(3_000, c, 1.0);
                    noise.into_iter().map(|x| scale * x).collect()
                })
                .collect();
            let mut quad = QuadKWeighting::new(fs);
            let mut original = StereoKWeighting::new(fs);
            let mut processed = StereoKWeighting::new(fs);
            for block in [0..1, 1..480, 480..1_017, 1_017..3_000] {
                let part = |c: usize| &channels[c][block.clone()];
                let got = quad.process_energy([part(0), part(1), part(2), part(3)]);
                let a = original.process_energy(part(0), part(1));
                let b = processed.process_energy(part(2), part(3));
                for (g, want) in got.iter().zip([a[0], a[1], b[0], b[1]]) {
                    assert!(
                        (g - want).abs() <= 1e-12 * want.abs(),
                        "{fs} Hz, block {block:?}: {g} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn quad_filter_portable_path_is_exactly_the_stereo_filter() {
        let fs = 44_100.0;
        let x: Vec<f32> = (0..2_000)
            .map(|i| (i as f32 * 0.37).sin() * 0.5 + (i as f32 * 0.011).cos() * 0.3)
            .collect();
        let mut portable = QuadKWeighting::new(fs);
        let mut stereo = StereoKWeighting::new(fs);
        let input = [&x[..1_990], &x[5..1_995], &x[..1_990], &x[10..2_000]];
        let got = portable.process_energy_portable(input);
        let a = stereo.process_energy(input[0], input[1]);
        assert_eq!(got[..2], a[..]);
        let mut dispatched = QuadKWeighting::new(fs);
        let fused = dispatched.process_energy(input);
        for (f, p) in fused.iter().zip(got) {
            assert!((f - p).abs() <= 1e-12 * p.abs(), "{f} vs {p}");
        }
    }
}
