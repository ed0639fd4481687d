//! Modulation-safe second-order sections for the minimum-phase EQ.
//!
//! Every EQ band is one (or, for 24 dB/oct cuts, two) state-variable filters in Andrew Simper's
//! "linear trapezoidal" (TPT) form (Simper, "Linear Trapezoidal Integrated SVF", Cytomic 2013;
//! Zavalishin, "The Art of VA Filter Design", ch. 4). The SVF is parameterised by the bilinear
//! frequency warp `g = tan(w/2)` and damping `k = 1/Q`, and any second-order response is a mix
//! `y = m0*x + m1*bp + m2*lp` of its input, band-pass and low-pass outputs. Unlike a direct-form
//! biquad, the TPT SVF is stable for every `g > 0, k > 0` and its states keep their meaning
//! while the coefficients move, so `g`, `k` and the mix may be interpolated sample by sample
//! during automation without the zipper noise or blow-ups of biquad coefficient swapping.
//!
//! Any *digital* biquad with stable poles can be realised exactly on this structure (see
//! [`SvfCoeffs::from_biquad`]), which lets the EQ design its sections with a matched
//! (non-bilinear) method and still run them on the modulation-safe SVF.

use crate::dsp::util::flush_denormal;

/// Coefficients of one SVF section: `g = tan(w_c/2)`, `k = 1/Q` of the poles, and the output
/// mix `y = m0*x + m1*v1 + m2*v2` (v1 = band-pass `s/(s²+ks+1)`, v2 = low-pass `1/(s²+ks+1)`
/// in the bilinear-warped normalised `s`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SvfCoeffs {
    pub g: f64,
    pub k: f64,
    pub mix: [f64; 3],
}

/// Mix that makes a section output its input exactly, whatever `g`, `k` and the state are.
pub const IDENTITY_MIX: [f64; 3] = [1.0, 0.0, 0.0];

/// Damping `k = 1/Q = √2` of a second-order Butterworth section (and of each half of a
/// Linkwitz–Riley 4th-order crossover).
pub const BUTTERWORTH_K: f64 = std::f64::consts::SQRT_2;

/// Output mix of the low-pass response `1/(s² + ks + 1)`.
pub const LOWPASS_MIX: [f64; 3] = [0.0, 0.0, 1.0];

/// Output mix of the high-pass response `s²/(s² + ks + 1)`: `hp = x − k·bp − lp`.
pub const fn highpass_mix(k: f64) -> [f64; 3] {
    [1.0, -k, -1.0]
}

/// Output mix of the band-pass with 0 dB peak `ks/(s² + ks + 1)` (RBJ "constant 0 dB peak").
pub const fn bandpass_mix(k: f64) -> [f64; 3] {
    [0.0, k, 0.0]
}

/// Output mix of the all-pass `(s² − ks + 1)/(s² + ks + 1)`: `ap = x − 2k·bp`.
pub const fn allpass_mix(k: f64) -> [f64; 3] {
    [1.0, -2.0 * k, 0.0]
}

/// `m0·x + m1·bp + m2·lp`: the output of a section with `mix` for input `x` and the band-pass
/// and low-pass outputs of its tick. Evaluated left to right, so the high-pass mix reproduces
/// `x − k·bp − lp` bit for bit.
#[inline(always)]
pub fn mix_output(mix: &[f64; 3], x: f64, band: f64, low: f64) -> f64 {
    mix[0] * x + mix[1] * band + mix[2] * low
}

impl SvfCoeffs {
    /// RBJ cookbook (bilinear) low-pass: `H(s) = 1/(s² + s/Q + 1)` prewarped to `cutoff_hz`.
    pub fn lowpass(cutoff_hz: f64, q: f64, sample_rate: f64) -> Self {
        Self::bilinear(cutoff_hz, q, sample_rate, |_| LOWPASS_MIX)
    }

    /// RBJ cookbook (bilinear) high-pass: `H(s) = s²/(s² + s/Q + 1)`; `hp = x - k*bp - lp`.
    pub fn highpass(cutoff_hz: f64, q: f64, sample_rate: f64) -> Self {
        Self::bilinear(cutoff_hz, q, sample_rate, highpass_mix)
    }

    /// RBJ cookbook (bilinear) band-pass with 0 dB peak: `H(s) = (s/Q)/(s² + s/Q + 1)`.
    pub fn bandpass(center_hz: f64, q: f64, sample_rate: f64) -> Self {
        Self::bilinear(center_hz, q, sample_rate, bandpass_mix)
    }

    /// RBJ cookbook (bilinear) all-pass: `H(s) = (s² − s/Q + 1)/(s² + s/Q + 1)`.
    pub fn allpass(center_hz: f64, q: f64, sample_rate: f64) -> Self {
        Self::bilinear(center_hz, q, sample_rate, allpass_mix)
    }

    /// A prewarped analogue prototype with damping `1/q` and the output mix `mix(k)`.
    fn bilinear(freq_hz: f64, q: f64, sample_rate: f64, mix: impl Fn(f64) -> [f64; 3]) -> Self {
        let k = 1.0 / q;
        Self {
            g: prewarp(freq_hz, sample_rate),
            k,
            mix: mix(k),
        }
    }

    /// Simper's per-sample multipliers of these poles, for [`SvfState::tick`].
    #[inline]
    pub fn multipliers(&self) -> [f64; 3] {
        multipliers(self.g, self.k)
    }

    /// Realises the digital biquad `(b0 + b1 z⁻¹ + b2 z⁻²)/(1 + a1 z⁻¹ + a2 z⁻²)` exactly on the
    /// SVF. With `s = (1/g)(1-z⁻¹)/(1+z⁻¹)` the SVF denominator is `s² + k s + 1`, so
    /// `1+a1+a2 = 4g²/D`, `1-a1+a2 = 4/D`, `1-a2 = 2gk/D` with `D = 1+gk+g²`, giving
    /// `g = sqrt((1+a1+a2)/(1-a1+a2))` and `k = 2(1-a2)/(g(1-a1+a2))` (both > 0 for any stable
    /// pole pair). The numerator `m0 s² + (m0 k + m1) s + (m0 + m2)` is then matched at z = -1,
    /// z = 1 and on its odd part. Returns `None` if the poles are not strictly stable.
    pub fn from_biquad(b: [f64; 3], a1: f64, a2: f64) -> Option<Self> {
        let sum = 1.0 + a1 + a2;
        let alt = 1.0 - a1 + a2;
        if !(sum > 0.0 && alt > 0.0 && a2 < 1.0) {
            return None;
        }
        Some(Self::from_pole_sums(sum, alt, 1.0 - a2, |g, k| {
            let d = 1.0 + g * k + g * g;
            let nyquist_gain = (b[0] - b[1] + b[2]) * d * 0.25;
            let dc_gain = (b[0] + b[1] + b[2]) * d / (4.0 * g * g);
            let c1 = (b[0] - b[2]) * d / (2.0 * g);
            [nyquist_gain, c1 - nyquist_gain * k, dc_gain - nyquist_gain]
        }))
    }

    /// Builds `g, k` from `1+a1+a2`, `1-a1+a2` and `1-a2` of a stable digital pole pair (passed
    /// separately so callers can compute them without cancellation), then the mix from `numer`.
    pub fn from_pole_sums(
        one_plus_a1_a2: f64,
        one_minus_a1_plus_a2: f64,
        one_minus_a2: f64,
        numer: impl FnOnce(f64, f64) -> [f64; 3],
    ) -> Self {
        let g = (one_plus_a1_a2 / one_minus_a1_plus_a2).sqrt();
        let k = 2.0 * one_minus_a2 / (g * one_minus_a1_plus_a2);
        let mix = numer(g, k);
        Self { g, k, mix }
    }

    /// The exact reciprocal response `1/H(z)`: the numerator `m0 s² + c1 s + c2` becomes the
    /// new denominator, re-normalised to `s'² + k' s' + 1` with `g' = g sqrt(c2/m0)`. Needs a
    /// strictly minimum-phase section (`m0, c1, c2 > 0`); returns `None` otherwise.
    pub fn reciprocal(&self) -> Option<Self> {
        let [m0, m1, m2] = self.mix;
        let c1 = m0 * self.k + m1;
        let c2 = m0 + m2;
        if !(m0 > 0.0 && c1 > 0.0 && c2 > 0.0) {
            return None;
        }
        let rho = (c2 / m0).sqrt();
        let g = self.g * rho;
        let k = c1 / (c2 * m0).sqrt();
        let new_m0 = 1.0 / m0;
        let new_c1 = self.k * rho / c2;
        let new_c2 = 1.0 / c2;
        Some(Self {
            g,
            k,
            mix: [new_m0, new_c1 - new_m0 * k, new_c2 - new_m0],
        })
    }

    /// Squared magnitude of the section's exact digital response at `w` rad/sample.
    /// Uses `tan(w/2)` multiplied through by `cos²(w/2)` so it stays finite up to Nyquist.
    pub fn magnitude_sq(&self, w: f64) -> f64 {
        let (sn, cs) = (0.5 * w).sin_cos();
        let [m0, m1, m2] = self.mix;
        let (g, k) = (self.g, self.k);
        let c1 = m0 * k + m1;
        let c2 = m0 + m2;
        // s = j*tan(w/2)/g; multiply numerator and denominator by g²cos²(w/2).
        let num_re = c2 * g * g * cs * cs - m0 * sn * sn;
        let num_im = c1 * g * sn * cs;
        let den_re = g * g * cs * cs - sn * sn;
        let den_im = k * g * sn * cs;
        let den = den_re * den_re + den_im * den_im;
        if den > 0.0 {
            (num_re * num_re + num_im * num_im) / den
        } else {
            // Only reachable at the exact pole frequency of an undamped filter (k = 0),
            // which the designs never produce.
            f64::MAX
        }
    }
}

/// Bilinear prewarp `tan(pi f / fs)`, with the frequency kept just below Nyquist so `g` stays
/// finite whatever the caller asks for.
pub fn prewarp(freq_hz: f64, sample_rate: f64) -> f64 {
    let ratio = (freq_hz / sample_rate).clamp(1e-7, 0.497);
    (std::f64::consts::PI * ratio).tan()
}

/// `1/(1 + g(g+k))`, `g*that`, `g²*that`: Simper's per-sample multipliers. Public for the
/// single-channel users that glide `g` themselves ([`SvfState`]).
#[inline]
pub fn multipliers(g: f64, k: f64) -> [f64; 3] {
    let a1 = 1.0 / (1.0 + g * (g + k));
    let a2 = g * a1;
    [a1, a2, g * a2]
}

/// One SVF tick (Simper 2013) on one lane: returns `(v1, v2)` = (band-pass, low-pass) and
/// updates the trapezoidal integrator states `ic1eq`, `ic2eq`. Used while coefficients glide.
#[inline(always)]
fn tick(ic1: &mut f64, ic2: &mut f64, a: &[f64; 3], v0: f64) -> (f64, f64) {
    let v3 = v0 - *ic2;
    let v1 = a[0] * *ic1 + a[1] * v3;
    let v2 = *ic2 + a[1] * *ic1 + a[2] * v3;
    *ic1 = 2.0 * v1 - *ic1;
    *ic2 = 2.0 * v2 - *ic2;
    (v1, v2)
}

/// The two integrator states of one single-channel SVF (Simper's `ic1eq`, `ic2eq`), for the
/// stages that run a fixed response on one signal with a gliding cutoff (the stereo module's
/// crossover, the compressor's side-chain high-pass). The EQ's two-lane [`SvfSection`] runs
/// the same [`tick`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SvfState {
    ic1: f64,
    ic2: f64,
}

impl SvfState {
    /// One sample with multipliers `a` (from [`multipliers`]); returns `(band, low)`, to be
    /// combined by [`mix_output`].
    #[inline(always)]
    pub fn tick(&mut self, x: f64, a: &[f64; 3]) -> (f64, f64) {
        tick(&mut self.ic1, &mut self.ic2, a, x)
    }

    /// One high-pass sample `x − k·bp − lp` (the response of [`highpass_mix`], written out so
    /// no multiply by a constant 1 is spent in the per-sample loops that run it).
    #[inline(always)]
    pub fn highpass(&mut self, x: f64, a: &[f64; 3], k: f64) -> f64 {
        let (band, low) = self.tick(x, a);
        x - k * band - low
    }

    /// One all-pass sample `x − 2k·bp` (the response of [`allpass_mix`], written out: the mix
    /// form would add `0·lp`, which the compiler must keep for NaN/Inf semantics).
    #[inline(always)]
    pub fn allpass(&mut self, x: f64, a: &[f64; 3], k: f64) -> f64 {
        let (band, _) = self.tick(x, a);
        x - 2.0 * k * band
    }

    /// Once per block: non-finite state (a bad sample got in) or a decayed, denormal-range
    /// state (below 1e-30) becomes 0, so the filter neither stays poisoned nor slows down.
    pub fn guard(&mut self) {
        for s in [&mut self.ic1, &mut self.ic2] {
            if !s.is_finite() || s.abs() < 1e-30 {
                *s = 0.0;
            }
        }
    }
}

/// Per-lane constants of the settled (constant-coefficient) SVF recurrence. Simper's tick with
/// `t = x - ic2eq` substituted and the output mix folded in (`x = t + ic2eq`):
///
/// ```text
/// ic1eq' = (2 a1 - 1) ic1eq + 2 a2 t
/// ic2eq' = ic2eq + 2 a2 ic1eq + 2 a3 t
/// y      = (m0 + m1 a2 + m2 a3) t + (m1 a1 + m2 a2) ic1eq + (m0 + m2) ic2eq
/// ```
///
/// 13 operations per lane instead of 17, with the same state variables (so the glide, which
/// runs the textbook form, hands over exactly). Writing the output in `t` also removes the
/// `x - lp` cancellation of high-pass sections at low frequencies: there `m0 + m2 = 0` exactly.
/// A lane with the identity mix gets zero state gains (its state stays zero) and `y = t = x`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(align(16))]
struct SettledCoeffs {
    ic1_decay: [f64; 2],
    twice_a2: [f64; 2],
    twice_a3: [f64; 2],
    out_t: [f64; 2],
    out_ic1: [f64; 2],
    out_ic2: [f64; 2],
}

impl SettledCoeffs {
    fn new(a: [f64; 3], mix: [[f64; 3]; 2], lane_active: [bool; 2]) -> Self {
        let mut c = Self::default();
        for lane in 0..2 {
            if !lane_active[lane] {
                c.out_t[lane] = 1.0;
                continue;
            }
            let [m0, m1, m2] = mix[lane];
            c.ic1_decay[lane] = 2.0 * a[0] - 1.0;
            c.twice_a2[lane] = 2.0 * a[1];
            c.twice_a3[lane] = 2.0 * a[2];
            c.out_t[lane] = m0 + m1 * a[1] + m2 * a[2];
            c.out_ic1[lane] = m1 * a[0] + m2 * a[1];
            c.out_ic2[lane] = m0 + m2;
        }
        c
    }
}

/// A settled section detached from its [`SvfSection`] (constants and both lanes' state), so a
/// cascade of them can run sample by sample in one loop (see [`run_settled_cascade`]).
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(16))]
pub struct SettledStage {
    coeffs: SettledCoeffs,
    ic1: [f64; 2],
    ic2: [f64; 2],
}

/// Runs `stages` in series on both lanes, in place. Sample-major: the state recursions of the
/// different stages are independent, so the CPU overlaps them instead of waiting on one
/// section's loop-carried latency per sample; the two lanes are computed as 2-wide vectors.
/// Per stage and lane the arithmetic is identical whatever the number of stages, so running
/// the stages one by one gives bit-identical output.
pub fn run_settled_cascade(stages: &mut [SettledStage], x0: &mut [f64], x1: &mut [f64]) {
    for (y0, y1) in x0.iter_mut().zip(x1.iter_mut()) {
        let mut x = [*y0, *y1];
        for stage in stages.iter_mut() {
            let c = &stage.coeffs;
            let (s1, s2) = (stage.ic1, stage.ic2);
            let mut y = [0.0; 2];
            for lane in 0..2 {
                let t = x[lane] - s2[lane];
                stage.ic1[lane] = c.ic1_decay[lane] * s1[lane] + c.twice_a2[lane] * t;
                stage.ic2[lane] = s2[lane] + c.twice_a2[lane] * s1[lane] + c.twice_a3[lane] * t;
                // State part grouped first: the input-to-output path is only sub, mul, add,
                // which keeps the per-sample chain through the cascade short.
                y[lane] =
                    c.out_t[lane] * t + (c.out_ic1[lane] * s1[lane] + c.out_ic2[lane] * s2[lane]);
            }
            x = y;
        }
        *y0 = x[0];
        *y1 = x[1];
    }
}

/// One second-order section with two lanes (left/right, or mid/side) that share the pole
/// coefficients `g, k` but have their own output mix, so a band can act on mid only, side only
/// or both. Coefficients glide towards their targets with a per-sample one-pole; after
/// `settle_len` samples (20 time constants, residual < 2e-9 of the step) they snap to the
/// target exactly, and a lane whose mix has reached the identity stops costing anything.
#[derive(Clone, Debug)]
pub struct SvfSection {
    target: SvfCoeffs,
    target_mix: [[f64; 3]; 2],
    g: f64,
    k: f64,
    mix: [[f64; 3]; 2],
    settled: SettledCoeffs,
    /// Integrator states per lane: `ic1eq` (band-pass) and `ic2eq` (low-pass).
    ic1: [f64; 2],
    ic2: [f64; 2],
    lane_active: [bool; 2],
    smoothing_left: u32,
}

impl Default for SvfSection {
    fn default() -> Self {
        Self::new()
    }
}

impl SvfSection {
    /// A bypassed section (identity mix on both lanes, nothing to compute).
    pub fn new() -> Self {
        let target = SvfCoeffs {
            g: 0.1,
            k: 1.0,
            mix: IDENTITY_MIX,
        };
        let mut section = Self {
            target,
            target_mix: [IDENTITY_MIX; 2],
            g: target.g,
            k: target.k,
            mix: [IDENTITY_MIX; 2],
            settled: SettledCoeffs::default(),
            ic1: [0.0; 2],
            ic2: [0.0; 2],
            lane_active: [false; 2],
            smoothing_left: 0,
        };
        section.snap();
        section
    }

    /// True if the section has to run on lane `lane` (it is active or still gliding).
    #[inline]
    pub fn lane_active(&self, lane: usize) -> bool {
        self.lane_active[lane]
    }

    /// True if any lane has to be processed.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.lane_active[0] || self.lane_active[1]
    }

    /// True when the current coefficients equal the target (no glide in progress).
    #[inline]
    pub fn is_settled(&self) -> bool {
        self.smoothing_left == 0
    }

    /// True if both lanes currently do exactly the same thing, so the section commutes with the
    /// mid/side transform and its lanes may be re-mapped between L/R and M/S.
    pub fn lanes_identical(&self) -> bool {
        self.lane_active[0] == self.lane_active[1]
            && self.mix[0] == self.mix[1]
            && self.target_mix[0] == self.target_mix[1]
    }

    /// Sets the target: shared poles from `coeffs`, per-lane mixes `lane_mix`. A lane that is
    /// idle starts from the identity mix with cleared state, so switching a band in is a glide
    /// of its mix from "dry" to the design (no state from long ago leaks out). With no lane
    /// running, `g, k` jump straight to the target: the output does not depend on them then.
    pub fn set_target(&mut self, coeffs: SvfCoeffs, lane_mix: [[f64; 3]; 2], settle_len: u32) {
        if coeffs.g == self.target.g && coeffs.k == self.target.k && lane_mix == self.target_mix {
            return;
        }
        if !self.is_active() {
            self.g = coeffs.g;
            self.k = coeffs.k;
        }
        for (lane, mix) in lane_mix.iter().enumerate() {
            if !self.lane_active[lane] && *mix != IDENTITY_MIX {
                self.lane_active[lane] = true;
                self.ic1[lane] = 0.0;
                self.ic2[lane] = 0.0;
                self.mix[lane] = IDENTITY_MIX;
            }
        }
        self.target = coeffs;
        self.target_mix = lane_mix;
        self.smoothing_left = if self.is_active() { settle_len } else { 0 };
        if self.smoothing_left == 0 {
            self.snap();
        }
    }

    /// Jumps to the target (used by `reset` and at the end of a glide).
    pub fn snap(&mut self) {
        self.g = self.target.g;
        self.k = self.target.k;
        self.mix = self.target_mix;
        self.smoothing_left = 0;
        for lane in 0..2 {
            if self.mix[lane] == IDENTITY_MIX {
                self.lane_active[lane] = false;
                self.ic1[lane] = 0.0;
                self.ic2[lane] = 0.0;
            }
        }
        self.settled = SettledCoeffs::new(multipliers(self.g, self.k), self.mix, self.lane_active);
    }

    /// Clears the filter memory.
    pub fn clear_state(&mut self) {
        self.ic1 = [0.0; 2];
        self.ic2 = [0.0; 2];
    }

    /// Re-expresses the lane states after the caller switched the lanes between L/R and M/S.
    /// Exact because the section is linear and both lanes run the same coefficients
    /// (`lanes_identical`). `to_mid_side`: M = (L+R)/2, S = (L-R)/2; else L = M+S, R = M-S.
    pub fn remap_lanes(&mut self, to_mid_side: bool) {
        let scale = if to_mid_side { 0.5 } else { 1.0 };
        for state in [&mut self.ic1, &mut self.ic2] {
            let [a, b] = *state;
            *state = [(a + b) * scale, (a - b) * scale];
        }
    }

    /// Flushes denormal state and clears it if it ever became non-finite (it cannot from
    /// finite input, but a corrupted state must never stick). Called every few hundred samples.
    pub fn guard_state(&mut self) {
        for lane in 0..2 {
            if !(self.ic1[lane].is_finite() && self.ic2[lane].is_finite()) {
                self.ic1[lane] = 0.0;
                self.ic2[lane] = 0.0;
            }
            self.ic1[lane] = flush_denormal(self.ic1[lane]);
            self.ic2[lane] = flush_denormal(self.ic2[lane]);
        }
    }

    /// The settled section's constants and state, for [`run_settled_cascade`]. Only valid
    /// while `is_settled()`; hand the stage back with [`Self::store_stage`].
    #[inline]
    pub fn settled_stage(&self) -> SettledStage {
        SettledStage {
            coeffs: self.settled,
            ic1: self.ic1,
            ic2: self.ic2,
        }
    }

    /// Takes back the state of a stage obtained from [`Self::settled_stage`].
    #[inline]
    pub fn store_stage(&mut self, stage: &SettledStage) {
        self.ic1 = stage.ic1;
        self.ic2 = stage.ic2;
    }

    /// Processes both lanes in place (`x0.len() == x1.len()`), gliding the coefficients while a
    /// glide is in progress. `glide` is the one-pole coefficient `1 - exp(-1/(tau fs))`.
    pub fn process(&mut self, x0: &mut [f64], x1: &mut [f64], glide: f64) {
        let n = x0.len().min(x1.len());
        let mut start = 0;
        if self.smoothing_left > 0 {
            let steps = n.min(self.smoothing_left as usize);
            self.process_gliding(&mut x0[..steps], &mut x1[..steps], glide);
            self.smoothing_left -= steps as u32;
            if self.smoothing_left == 0 {
                self.snap();
            }
            start = steps;
        }
        if start < n && self.is_active() {
            let mut stage = self.settled_stage();
            run_settled_cascade(
                std::slice::from_mut(&mut stage),
                &mut x0[start..n],
                &mut x1[start..n],
            );
            self.store_stage(&stage);
        }
    }

    /// Per-sample glide of `g`, `k` and both mixes, then one tick per lane. Both lanes run even
    /// if one is idle: an idle lane has the identity mix, so it passes its input unchanged.
    fn process_gliding(&mut self, x0: &mut [f64], x1: &mut [f64], glide: f64) {
        let (tg, tk, tm) = (self.target.g, self.target.k, self.target_mix);
        let (mut g, mut k, mut m) = (self.g, self.k, self.mix);
        let (ic1, ic2) = (&mut self.ic1, &mut self.ic2);
        for (y0, y1) in x0.iter_mut().zip(x1.iter_mut()) {
            g += (tg - g) * glide;
            k += (tk - k) * glide;
            for lane in 0..2 {
                for i in 0..3 {
                    m[lane][i] += (tm[lane][i] - m[lane][i]) * glide;
                }
            }
            let a = multipliers(g, k);
            let (b0, l0) = tick(&mut ic1[0], &mut ic2[0], &a, *y0);
            let (b1, l1) = tick(&mut ic1[1], &mut ic2[1], &a, *y1);
            *y0 = m[0][0] * *y0 + m[0][1] * b0 + m[0][2] * l0;
            *y1 = m[1][0] * *y1 + m[1][1] * b1 + m[1][2] * l1;
        }
        self.g = g;
        self.k = k;
        self.mix = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The single-channel block every gliding user runs ([`SvfState`] + [`mix_output`], as in
    /// the stereo crossover and the compressor's side-chain): its impulse response, measured
    /// by DFT, must be the designed response ([`SvfCoeffs::magnitude_sq`], evaluated in closed
    /// form, not by running the filter) to within 1e-6 dB for every response type.
    #[test]
    fn single_channel_state_realises_every_response_to_within_a_micro_db() {
        for fs in [44_100.0, 96_000.0] {
            let designs = [
                ("low-pass", SvfCoeffs::lowpass(1_000.0, 0.707, fs)),
                (
                    "high-pass",
                    SvfCoeffs::highpass(120.0, 1.0 / BUTTERWORTH_K, fs),
                ),
                ("band-pass", SvfCoeffs::bandpass(2_000.0, 2.0, fs)),
                (
                    "all-pass",
                    SvfCoeffs::allpass(120.0, 1.0 / BUTTERWORTH_K, fs),
                ),
            ];
            for (name, coeffs) in designs {
                let a = coeffs.multipliers();
                let mut state = SvfState::default();
                let response: Vec<f64> = (0..(fs as usize))
                    .map(|n| {
                        let x = if n == 0 { 1.0 } else { 0.0 };
                        let (band, low) = state.tick(x, &a);
                        mix_output(&coeffs.mix, x, band, low)
                    })
                    .collect();
                // The written-out forms the per-sample loops run are the mix forms exactly.
                let written_out = |state: &mut SvfState, x: f64| match name {
                    "high-pass" => Some(state.highpass(x, &a, coeffs.k)),
                    "all-pass" => Some(state.allpass(x, &a, coeffs.k)),
                    _ => None,
                };
                let mut state = SvfState::default();
                for (n, &want) in response.iter().enumerate() {
                    let x = if n == 0 { 1.0 } else { 0.0 };
                    if let Some(got) = written_out(&mut state, x) {
                        assert_eq!(got, want, "{name}, sample {n}");
                    }
                }
                for f in [50.0, 120.0, 700.0, 2_000.0, 9_000.0] {
                    let measured_db = crate::test_signals::dft_magnitude_db(&response, f, fs);
                    let designed_db = 10.0 * coeffs.magnitude_sq(2.0 * PI * f / fs).log10();
                    assert!(
                        (measured_db - designed_db).abs() < 1e-6,
                        "{name} at {f} Hz, {fs} Hz: {measured_db} vs {designed_db} dB"
                    );
                }
            }
        }
    }

    /// Magnitude of a direct-form biquad at `w`, for comparisons.
    fn biquad_mag(b: [f64; 3], a1: f64, a2: f64, w: f64) -> f64 {
        let (c1, s1) = (w.cos(), -w.sin());
        let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
        let nr = b[0] + b[1] * c1 + b[2] * c2;
        let ni = b[1] * s1 + b[2] * s2;
        let dr = 1.0 + a1 * c1 + a2 * c2;
        let di = a1 * s1 + a2 * s2;
        ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
    }

    /// Runs a section on an impulse and returns the single-bin DFT magnitude at `w`.
    fn measured_mag(coeffs: SvfCoeffs, w: f64, len: usize) -> f64 {
        let mut section = SvfSection::new();
        section.set_target(coeffs, [coeffs.mix; 2], 0);
        let mut x0 = vec![0.0; len];
        x0[0] = 1.0;
        let mut x1 = x0.clone();
        section.process(&mut x0, &mut x1, 0.0);
        let (mut re, mut im) = (0.0, 0.0);
        for (n, v) in x0.iter().enumerate() {
            re += v * (w * n as f64).cos();
            im -= v * (w * n as f64).sin();
        }
        (re * re + im * im).sqrt()
    }

    /// The SVF realisation of an arbitrary stable biquad (RBJ peaking EQ, 3 kHz, Q 2, +9 dB at
    /// 48 kHz) reproduces the biquad's impulse response spectrum to < 1e-9 dB.
    #[test]
    fn realises_arbitrary_biquad_exactly() {
        let fs = 48000.0;
        let w0 = 2.0 * PI * 3000.0 / fs;
        let amp = 10f64.powf(9.0 / 40.0);
        let alpha = w0.sin() / (2.0 * 2.0);
        let a0 = 1.0 + alpha / amp;
        let b = [
            (1.0 + alpha * amp) / a0,
            -2.0 * w0.cos() / a0,
            (1.0 - alpha * amp) / a0,
        ];
        let (a1, a2) = (-2.0 * w0.cos() / a0, (1.0 - alpha / amp) / a0);
        let coeffs = SvfCoeffs::from_biquad(b, a1, a2).unwrap();
        let mut worst: f64 = 0.0;
        for f in [50.0, 500.0, 2000.0, 3000.0, 5000.0, 12000.0, 23000.0] {
            let w = 2.0 * PI * f / fs;
            let want = biquad_mag(b, a1, a2, w);
            let got = measured_mag(coeffs, w, 4096);
            let eval = coeffs.magnitude_sq(w).sqrt();
            worst = worst.max((20.0 * (got / want).log10()).abs());
            worst = worst.max((20.0 * (eval / want).log10()).abs());
        }
        assert!(worst < 1e-9, "worst {worst} dB");
    }

    /// RBJ Butterworth low/high-pass on the SVF: -3.01 dB at the cutoff, and the analytic
    /// bilinear response |H| = 1/sqrt(1 + (t/tc)^4) (t = tan(w/2)) at other points.
    #[test]
    fn butterworth_cuts_match_bilinear_analytic() {
        let fs = 44100.0;
        let fc = 1000.0;
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let lp = SvfCoeffs::lowpass(fc, q, fs);
        let hp = SvfCoeffs::highpass(fc, q, fs);
        let tc = (PI * fc / fs).tan();
        for f in [100.0, 500.0, 1000.0, 2000.0, 8000.0] {
            let w = 2.0 * PI * f / fs;
            let ratio = (0.5 * w).tan() / tc;
            let want_lp = 1.0 / (1.0 + ratio.powi(4)).sqrt();
            let want_hp = ratio * ratio * want_lp;
            let got_lp = measured_mag(lp, w, 8192);
            let got_hp = measured_mag(hp, w, 8192);
            assert!(
                (20.0 * (got_lp / want_lp).log10()).abs() < 1e-6,
                "lp at {f}"
            );
            assert!(
                (20.0 * (got_hp / want_hp).log10()).abs() < 1e-6,
                "hp at {f}"
            );
        }
        let w = 2.0 * PI * fc / fs;
        let at_fc = 20.0 * measured_mag(lp, w, 8192).log10();
        assert!((at_fc + 3.0103).abs() < 1e-3, "{at_fc}");
    }

    /// Identity mix passes the signal bit-exactly while the state runs.
    #[test]
    fn identity_mix_is_exact() {
        let mut section = SvfSection::new();
        let c = SvfCoeffs::lowpass(300.0, 0.7, 48000.0);
        section.set_target(c, [c.mix, c.mix], 10);
        section.set_target(c, [IDENTITY_MIX, c.mix], 10);
        let mut x0: Vec<f64> = (0..64)
            .map(|i| ((i * 7919) % 97) as f64 / 97.0 - 0.5)
            .collect();
        let mut x1 = x0.clone();
        let reference = x0.clone();
        section.process(&mut x0, &mut x1, 0.5);
        // Lane 0 glided from identity towards identity: unchanged.
        assert_eq!(x0, reference);
        assert!(section.is_settled());
        assert!(!section.lane_active(0) && section.lane_active(1));
    }
}
