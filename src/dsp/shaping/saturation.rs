//! Multiband saturation (an exciter): the programme split into 2-5 bands by an LR4 crossover
//! (`filters::crossover`), each band driven into its own curve (`curves::SaturationCurve`),
//! oversampled, mixed with its dry signal, and the bands summed again.
//!
//! **Why in bands.** A single saturator lets the loudest band (nearly always the bass) decide
//! how hard everything is driven, and its intermodulation smears the mids with sum and
//! difference tones of the bass. Split first, and the engineer can warm the lows with even
//! harmonics, leave the mids alone and add odd "air" to the top (the multiband exciter of
//! Zölzer (ed.), "DAFX", 2nd ed. 2011, §4.3.5, and of the mastering tools it describes).
//!
//! **Per band**, at `F` times the rate (`filters::oversampler`, one factor for the stage):
//! `wet = f(g·x)/g` with `g` the drive, so quiet signals keep their level (every curve has unity
//! slope at 0) and only the loud parts saturate; the drive glides per sample and is divided
//! out at the same sample, so automation never changes the level of what the curve leaves
//! linear. Then, at the base rate, `out = dry + m·HP(wet - dry)` with `dry` the band delayed by
//! the oversampler's latency and `m` the mix: the DC blocker (a 1st-order high-pass at
//! [`DC_BLOCK_HZ`]) acts on the *distortion* `wet - dry` only, which removes the DC of the
//! asymmetric Tube curve without touching the band's own low end (a blocker on the whole wet
//! signal would take 0.26 dB off 20 Hz and break the flat sum). With the curves linear (drive
//! 0 dB, quiet signal) every band is its dry signal delayed and the bands sum to the
//! crossover's all-pass: flat within ±0.01 dB (tested with the shapers engaged).
//!
//! **Latency** is the oversampler's (`Saturation::latency_for`), the same for every band, so
//! the bands stay time-aligned; a band whose mix is 0 skips its curve and oversampler but
//! keeps its delayed dry signal. The minimum-phase crossover adds none.
//!
//! **Automatic gain** (on by default): saturation compresses peaks and adds harmonics, both of
//! which change loudness, and louder sounds better to everyone; a fair comparison needs equal
//! loudness (Katz, "Mastering Audio", 3rd ed. 2015, ch. 5; the whole premise of this plugin's
//! A/B). The stage measures BS.1770 K-weighted short-term loudness before and after itself
//! and takes the difference back out (`meters::loudness_match`, the A/B's law: 3 s window, 1 s
//! follow, gated below -60 LUFS). That is slow on purpose: it compensates loudness, it must not
//! become a compressor that undoes the saturation's own dynamics within a phrase. The measured
//! result is in the integration test (`tests/saturation.rs`): integrated loudness with the
//! stage on, +6 dB of drive on every band, within 0.3 LU of the stage off, on real music.

use crate::dsp::filters::crossover::{self, Crossover};
use crate::dsp::filters::oversampler::{self, Oversampler};
use crate::dsp::meters::loudness_match::LoudnessMatch;
use crate::dsp::shaping::curves::SaturationCurve;
use crate::dsp::util::delay::StereoDelay;
use crate::dsp::util::range::Range;
use crate::dsp::util::resident::resident_vec;
use crate::dsp::util::smoothing::OnePole;
use crate::dsp::util::{db_to_gain, one_pole_coeff, sanitize};

/// Drive into each band's curve, dB.
pub const DRIVE_DB: Range = Range::new(0.0, 24.0, 0.0, "dB");
/// Each band's dry/wet mix, %.
pub const MIX_PERCENT: Range = Range::new(0.0, 100.0, 100.0, "%");
/// Split frequencies, lowest first (the first `bands - 1` are used). The defaults make the
/// 3-band default low / mid / high at 200 Hz and 3 kHz.
pub const SPLIT_HZ: [Range; MAX_SPLITS] = [
    Range::new(30.0, 16_000.0, 200.0, "Hz"),
    Range::new(30.0, 16_000.0, 3_000.0, "Hz"),
    Range::new(30.0, 16_000.0, 8_000.0, "Hz"),
    Range::new(30.0, 16_000.0, 12_000.0, "Hz"),
];
/// Fewest bands.
pub const MIN_BANDS: usize = 2;
/// Most bands.
pub const MAX_BANDS: usize = 5;
/// Most split frequencies.
pub const MAX_SPLITS: usize = MAX_BANDS - 1;
/// Bands by default: low, mid, high.
pub const DEFAULT_BANDS: usize = 3;
/// Default oversampling: at 4x the Tube and Tape curves' aliasing of 5-13 kHz sines driven
/// 6 dB at 44.1 kHz is below -60 dB (measured, see the tests).
pub const DEFAULT_OVERSAMPLING: usize = 4;
/// Cut-off of the DC blocker on each band's distortion.
pub const DC_BLOCK_HZ: f32 = 5.0;
/// Time constant of the drive and mix smoothing.
const SMOOTHING_SECONDS: f32 = 0.010;
/// Length of the crossfade when a band's curve changes.
const CURVE_FADE_SECONDS: f32 = 0.010;
/// Time constant with which the automatic gain is switched in and out.
const AUTO_GAIN_FADE_SECONDS: f32 = 0.050;
/// Frames per pass (the oversampler's block: its closure then runs once per pass).
const CHUNK: usize = oversampler::BLOCK;

const _: () = assert!(MAX_BANDS <= crossover::MAX_BANDS);

/// One band's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandSettings {
    pub drive_db: f32,
    pub mix_percent: f32,
    pub curve: SaturationCurve,
}

impl Default for BandSettings {
    fn default() -> Self {
        Self {
            drive_db: DRIVE_DB.default,
            mix_percent: MIX_PERCENT.default,
            curve: SaturationCurve::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaturationSettings {
    /// Read by the stage around the DSP (the chain bypasses a disabled stage); `process`
    /// always processes.
    pub enabled: bool,
    /// 1, 2, 4, 8 or 16. Sets the latency (see [`Saturation::latency_for`]).
    pub oversampling: usize,
    /// Take the loudness the stage adds back out (slowly; see the module docs).
    pub auto_gain: bool,
    /// Number of bands, [`MIN_BANDS`]..=[`MAX_BANDS`].
    pub bands: usize,
    /// Split frequencies, Hz, ascending; the first `bands - 1` are used.
    pub splits_hz: [f32; MAX_SPLITS],
    /// Per band, lowest first; the first `bands` are used.
    pub band: [BandSettings; MAX_BANDS],
}

impl Default for SaturationSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            oversampling: DEFAULT_OVERSAMPLING,
            auto_gain: true,
            bands: DEFAULT_BANDS,
            splits_hz: SPLIT_HZ.map(|r| r.default),
            band: [BandSettings::default(); MAX_BANDS],
        }
    }
}

impl SaturationSettings {
    /// Every value in range (NaN and ±Inf to the default), the band count clamped, the splits
    /// non-decreasing, the factor one of the oversampler's.
    pub fn sanitized(&self) -> Self {
        let mut s = *self;
        s.oversampling = oversampler::valid_factor(s.oversampling);
        s.bands = s.bands.clamp(MIN_BANDS, MAX_BANDS);
        let mut previous = 0.0f32;
        for (f, range) in s.splits_hz.iter_mut().zip(&SPLIT_HZ) {
            *f = range.sanitize(*f).max(previous);
            previous = *f;
        }
        for b in &mut s.band {
            b.drive_db = DRIVE_DB.sanitize(b.drive_db);
            b.mix_percent = MIX_PERCENT.sanitize(b.mix_percent);
        }
        s
    }
}

/// A one-pole DC blocker `H(z) = (1+R)/2 · (1 - z⁻¹)/(1 - R z⁻¹)` (unity at Nyquist).
#[derive(Debug, Clone, Copy, Default)]
struct DcBlocker {
    x1: f64,
    y1: f64,
}

impl DcBlocker {
    #[inline(always)]
    fn tick(&mut self, x: f64, r: f64, scale: f64) -> f64 {
        let y = scale * (x - self.x1) + r * self.y1;
        self.x1 = x;
        self.y1 = y;
        y
    }

    fn guard(&mut self) {
        for s in [&mut self.x1, &mut self.y1] {
            if !s.is_finite() || s.abs() < 1e-30 {
                *s = 0.0;
            }
        }
    }
}

/// One band's processing state (both channels).
struct Band {
    oversamplers: [Oversampler; 2],
    dry_delay: StereoDelay,
    /// Linear drive gain.
    drive: OnePole,
    /// Mix, 0..1.
    mix: OnePole,
    dc: [DcBlocker; 2],
    curve: SaturationCurve,
    /// While a curve change fades: the old curve and the base-rate frames left.
    fading_from: SaturationCurve,
    fade_left: usize,
    /// The curve was skipped last pass (mix 0): its filters hold stale history.
    idle: bool,
}

impl Band {
    fn new(sample_rate: f32) -> Self {
        Self {
            oversamplers: [Oversampler::new(sample_rate), Oversampler::new(sample_rate)],
            dry_delay: StereoDelay::new(max_latency(sample_rate) + CHUNK),
            drive: OnePole::new(1.0),
            mix: OnePole::new(1.0),
            dc: [DcBlocker::default(); 2],
            curve: SaturationCurve::default(),
            fading_from: SaturationCurve::default(),
            fade_left: 0,
            idle: false,
        }
    }

    fn clear(&mut self) {
        for o in &mut self.oversamplers {
            o.clear();
        }
        self.dry_delay.clear();
        self.dc = [DcBlocker::default(); 2];
        self.fade_left = 0;
        self.idle = false;
    }
}

/// The longest latency any factor has at `sample_rate` (sizes the dry delays).
fn max_latency(sample_rate: f32) -> usize {
    oversampler::FACTORS
        .iter()
        .map(|&f| oversampler::latency_for(f, sample_rate) as usize)
        .max()
        .unwrap_or(0)
}

/// The stereo multiband saturation. `new`/`reset` allocate; `set` and `process` do not.
pub struct Saturation {
    sample_rate: f32,
    settings: SaturationSettings,
    crossover: Crossover,
    bands: Vec<Band>,
    /// The sanitised input of the current pass (the loudness match's "before").
    input: [Vec<f32>; 2],
    /// Scratch: one band's oversampled signal, then its dry signal.
    wet: [Vec<f32>; 2],
    dry: [Vec<f32>; 2],
    /// The bands' sum (the loudness match's "after").
    output: [Vec<f32>; 2],
    loudness: LoudnessMatch,
    /// 0..1: how much of the measured loudness offset is taken out.
    auto_amount: OnePole,
    dc_r: f64,
    dc_scale: f64,
    curve_fade_len: usize,
}

impl Saturation {
    pub fn new(sample_rate: f32) -> Self {
        let fs = crate::dsp::util::usable_sample_rate(sample_rate);
        let mut s = Self {
            sample_rate: fs,
            settings: SaturationSettings::default(),
            crossover: Crossover::new(fs, CHUNK),
            bands: (0..MAX_BANDS).map(|_| Band::new(fs)).collect(),
            input: [resident_vec(0.0, CHUNK), resident_vec(0.0, CHUNK)],
            wet: [resident_vec(0.0, CHUNK), resident_vec(0.0, CHUNK)],
            dry: [resident_vec(0.0, CHUNK), resident_vec(0.0, CHUNK)],
            output: [resident_vec(0.0, CHUNK), resident_vec(0.0, CHUNK)],
            loudness: LoudnessMatch::new(),
            auto_amount: OnePole::new(1.0),
            dc_r: 0.0,
            dc_scale: 1.0,
            curve_fade_len: 1,
        };
        s.reset(fs);
        s
    }

    /// Latency of the stage with `oversampling` at `sample_rate` (the oversampler's; the
    /// crossover is minimum phase).
    pub fn latency_for(oversampling: usize, sample_rate: f32) -> u32 {
        oversampler::latency_for(
            oversampling,
            crate::dsp::util::usable_sample_rate(sample_rate),
        )
    }

    pub fn latency_samples(&self) -> u32 {
        Self::latency_for(self.settings.oversampling, self.sample_rate)
    }

    /// Prepares for `sample_rate` (allocates when it changed), settles every glide and clears.
    pub fn reset(&mut self, sample_rate: f32) {
        let fs = crate::dsp::util::usable_sample_rate(sample_rate);
        if fs != self.sample_rate {
            self.bands = (0..MAX_BANDS).map(|_| Band::new(fs)).collect();
        }
        self.sample_rate = fs;
        for band in &mut self.bands {
            for o in &mut band.oversamplers {
                o.reset(fs);
            }
            band.drive.set_time(SMOOTHING_SECONDS, fs);
            band.mix.set_time(SMOOTHING_SECONDS, fs);
        }
        self.crossover.reset(fs);
        self.loudness.reset(fs);
        self.auto_amount.set_time(AUTO_GAIN_FADE_SECONDS, fs);
        self.dc_r = f64::from(one_pole_coeff(
            1.0 / (2.0 * std::f32::consts::PI * DC_BLOCK_HZ),
            fs,
        ));
        self.dc_scale = 0.5 * (1.0 + self.dc_r);
        self.curve_fade_len = ((CURVE_FADE_SECONDS * fs) as usize).max(1);
        let s = self.settings;
        self.set(&s);
        for band in &mut self.bands {
            band.drive.snap();
            band.mix.snap();
        }
        self.auto_amount.snap();
        self.crossover.reset(fs);
        self.clear();
    }

    /// Takes new settings (sanitised). Drive, mix and splits glide; a curve change crossfades;
    /// a change of `oversampling` or of the band count is structural (the oversampling factor
    /// changes the latency and clears the oversamplers: the chain applies it at the bottom of
    /// its structural fade).
    pub fn set(&mut self, settings: &SaturationSettings) {
        let s = settings.sanitized();
        let bands = s.bands;
        self.crossover.set_splits(&s.splits_hz[..bands - 1]);
        for (band, b) in self.bands.iter_mut().zip(&s.band) {
            for o in &mut band.oversamplers {
                o.set_factor(s.oversampling);
            }
            band.drive.target = f64::from(db_to_gain(b.drive_db));
            band.mix.target = f64::from(b.mix_percent) * 0.01;
            if b.curve != band.curve {
                band.fading_from = band.curve;
                band.curve = b.curve;
                band.fade_left = self.curve_fade_len;
            }
        }
        self.auto_amount.target = if s.auto_gain { 1.0 } else { 0.0 };
        self.settings = s;
    }

    pub fn settings(&self) -> &SaturationSettings {
        &self.settings
    }

    /// The loudness the stage adds (before its automatic gain takes it out), dB.
    pub fn loudness_offset_db(&self) -> f32 {
        self.loudness.offset_db()
    }

    pub fn clear(&mut self) {
        self.crossover.clear();
        for band in &mut self.bands {
            band.clear();
            band.fade_left = 0;
        }
        self.loudness.clear();
    }

    /// Saturates `left` and `right` in place (any length).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        let mut start = 0;
        while start < n {
            let len = (n - start).min(CHUNK);
            self.process_chunk(
                &mut left[start..start + len],
                &mut right[start..start + len],
            );
            start += len;
        }
    }

    fn process_chunk(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len();
        for (input, source) in self.input.iter_mut().zip([&*left, &*right]) {
            for (i, &x) in input.iter_mut().zip(source) {
                *i = sanitize(x);
            }
        }
        self.crossover
            .process(&self.input[0][..n], &self.input[1][..n]);
        self.output[0][..n].fill(0.0);
        self.output[1][..n].fill(0.0);
        let latency = self.latency_samples() as usize;
        let (dc_r, dc_scale) = (self.dc_r, self.dc_scale);
        let fade_len = self.curve_fade_len;
        for (b, band) in self.bands[..self.settings.bands].iter_mut().enumerate() {
            let (band_l, band_r) = self.crossover.band(b);
            let [dry_l, dry_r] = &mut self.dry;
            band.dry_delay.push_block_and_read_one(
                band_l,
                band_r,
                latency,
                [&mut dry_l[..n], &mut dry_r[..n]],
            );
            let m0 = band.mix.current;
            for _ in 0..n {
                band.mix.advance();
            }
            let m1 = band.mix.current;
            if m0 == 0.0 && m1 == 0.0 {
                // Nothing of the curve is heard: the delayed dry band only.
                for ch in 0..2 {
                    for (o, d) in self.output[ch][..n].iter_mut().zip(&self.dry[ch][..n]) {
                        *o += *d;
                    }
                }
                band.idle = true;
                continue;
            }
            if band.idle {
                // Stale history from before the band went idle: start from rest (the mix
                // rises from 0 over the next milliseconds, hiding the onset).
                for o in &mut band.oversamplers {
                    o.clear();
                }
                band.dc = [DcBlocker::default(); 2];
                band.idle = false;
            }
            let g0 = band.drive.current as f32;
            for _ in 0..n {
                band.drive.advance();
            }
            let g1 = band.drive.current as f32;
            // Curve crossfade over this pass: weight of the old curve from w0 to w1.
            let (old, w0, w1) = if band.fade_left > 0 {
                let w0 = band.fade_left as f32 / fade_len as f32;
                band.fade_left = band.fade_left.saturating_sub(n);
                (
                    band.fading_from,
                    w0,
                    band.fade_left as f32 / fade_len as f32,
                )
            } else {
                (band.curve, 0.0, 0.0)
            };
            let curve = band.curve;
            for (ch, source) in [band_l, band_r].into_iter().enumerate() {
                let wet = &mut self.wet[ch][..n];
                wet.copy_from_slice(source);
                band.oversamplers[ch].process(wet, |top| {
                    drive_curve(top, curve, old, g0, g1, w0, w1);
                });
                let dc = &mut band.dc[ch];
                let step = (m1 - m0) / n as f64;
                for (i, ((o, &w), &d)) in self.output[ch][..n]
                    .iter_mut()
                    .zip(wet.iter())
                    .zip(&self.dry[ch][..n])
                    .enumerate()
                {
                    let m = m0 + step * (i + 1) as f64;
                    let distortion = dc.tick(f64::from(w) - f64::from(d), dc_r, dc_scale);
                    *o += (f64::from(d) + m * distortion) as f32;
                }
                dc.guard();
            }
        }
        // The automatic gain: measure before/after always (so switching it on is at once
        // right), take the offset out by the fading amount.
        self.loudness.measure(
            (&self.input[0][..n], &self.input[1][..n]),
            (&self.output[0][..n], &self.output[1][..n]),
        );
        for _ in 0..n {
            self.auto_amount.advance();
        }
        let amount = self.auto_amount.current as f32;
        let [out_l, out_r] = &mut self.output;
        self.loudness
            .apply(&mut out_l[..n], &mut out_r[..n], -amount);
        left.copy_from_slice(&self.output[0][..n]);
        right.copy_from_slice(&self.output[1][..n]);
    }
}

/// The oversampled part of one band: `y = f(g·x)/g`, `g` ramping linearly from `g0` to `g1`
/// over the block; while a curve change fades, `(1-w)·f_new + w·f_old` with `w` from `w0` to
/// `w1`. Monomorphised per curve so the steady case is a tight loop.
#[inline]
fn drive_curve(
    top: &mut [f32],
    curve: SaturationCurve,
    old: SaturationCurve,
    g0: f32,
    g1: f32,
    w0: f32,
    w1: f32,
) {
    if w0 > 0.0 || w1 > 0.0 {
        let len = top.len() as f32;
        for (i, x) in top.iter_mut().enumerate() {
            let t = (i + 1) as f32 / len;
            let g = g0 + (g1 - g0) * t;
            let w = w0 + (w1 - w0) * t;
            let u = *x * g;
            *x = ((1.0 - w) * curve.shape(u) + w * old.shape(u)) / g;
        }
        return;
    }
    match curve {
        SaturationCurve::Tube => drive_with(top, g0, g1, crate::dsp::shaping::curves::tube),
        SaturationCurve::Tape => drive_with(top, g0, g1, crate::dsp::shaping::curves::tanh),
        SaturationCurve::Hard => drive_with(top, g0, g1, crate::dsp::shaping::curves::hard),
    }
}

#[inline(always)]
fn drive_with(top: &mut [f32], g0: f32, g1: f32, f: impl Fn(f32) -> f32) {
    if g0 == g1 {
        let inv = 1.0 / g0;
        for x in top.iter_mut() {
            *x = f(*x * g0) * inv;
        }
    } else {
        let step = (g1 - g0) / top.len() as f32;
        for (i, x) in top.iter_mut().enumerate() {
            let g = g0 + step * (i + 1) as f32;
            *x = f(*x * g) / g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Settings with every band on `curve` at `drive_db`, mix 100 %, automatic gain off.
    fn all_bands(curve: SaturationCurve, drive_db: f32, factor: usize) -> SaturationSettings {
        SaturationSettings {
            enabled: true,
            oversampling: factor,
            auto_gain: false,
            band: [BandSettings {
                drive_db,
                mix_percent: 100.0,
                curve,
            }; MAX_BANDS],
            ..SaturationSettings::default()
        }
    }

    fn processor(settings: &SaturationSettings, fs: f32) -> Saturation {
        let mut s = Saturation::new(fs);
        s.set(settings);
        s.reset(fs);
        s
    }

    /// Runs a mono signal through both channels in odd-sized blocks; returns the left output.
    fn run(s: &mut Saturation, x: &[f32]) -> Vec<f32> {
        let (mut l, mut r) = (x.to_vec(), x.to_vec());
        for (cl, cr) in l.chunks_mut(317).zip(r.chunks_mut(317)) {
            s.process(cl, cr);
        }
        l
    }

    fn sine(freq: f64, fs: f64, amp: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / fs).sin()) as f32)
            .collect()
    }

    /// Magnitude (dB) of `h` at `freq` by a direct DFT.
    fn magnitude_db(h: &[f32], freq: f64, fs: f64) -> f64 {
        let w = 2.0 * PI * freq / fs;
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &v) in h.iter().enumerate() {
            let (s, c) = (w * i as f64).sin_cos();
            re += f64::from(v) * c;
            im -= f64::from(v) * s;
        }
        10.0 * (re * re + im * im).log10()
    }

    #[test]
    fn sums_flat_at_zero_drive_with_the_curves_engaged() {
        // The whole processor (crossover, oversampled curves at 0 dB drive, dry/wet, DC
        // blockers) on a small impulse: the curves are linear there, so the response is the
        // crossover's all-pass, delayed.
        let amp = 1e-3f32;
        for fs in [44_100.0f32, 48_000.0, 96_000.0] {
            for (bands, factor) in [(3, DEFAULT_OVERSAMPLING), (5, 16), (2, 1)] {
                for curve in SaturationCurve::ALL {
                    let mut settings = all_bands(curve, 0.0, factor);
                    settings.bands = bands;
                    settings.splits_hz = [80.0, 700.0, 3000.0, 9000.0];
                    if bands == 3 {
                        settings.splits_hz = SPLIT_HZ.map(|r| r.default);
                    }
                    let mut s = processor(&settings, fs);
                    let mut x = vec![0.0f32; fs as usize];
                    x[0] = amp;
                    let y: Vec<f32> = run(&mut s, &x).iter().map(|v| v / amp).collect();
                    let (worst, at) = (0..=60)
                        .map(|i| 20.0 * 1000f64.powf(f64::from(i) / 60.0))
                        .map(|f| (magnitude_db(&y, f, f64::from(fs)), f))
                        .fold(
                            (0.0f64, 0.0),
                            |m, v| if v.0.abs() > m.0.abs() { v } else { m },
                        );
                    eprintln!(
                        "flatness {fs} Hz, {bands} bands, {factor}x, {}: worst {worst:+.4} dB \
                         at {at:.0} Hz (20 Hz - 20 kHz)",
                        curve.name()
                    );
                    assert!(
                        worst.abs() < 0.01,
                        "{fs} {bands} {factor}x {curve:?}: {worst}"
                    );
                }
            }
        }
    }

    /// Amplitudes of harmonics 1..=7 of `f0` in `y` (a whole number of periods), by
    /// correlation with sine and cosine (a DFT at exactly those bins).
    fn harmonics(y: &[f32], f0: f64, fs: f64) -> [f64; 7] {
        let mut out = [0.0; 7];
        for (h, out) in out.iter_mut().enumerate() {
            let w = 2.0 * PI * f0 * (h + 1) as f64 / fs;
            let (mut s, mut c) = (0.0, 0.0);
            for (i, &v) in y.iter().enumerate() {
                let (sn, cs) = (w * i as f64).sin_cos();
                s += f64::from(v) * sn;
                c += f64::from(v) * cs;
            }
            *out = 2.0 * (s * s + c * c).sqrt() / y.len() as f64;
        }
        out
    }

    #[test]
    fn the_curves_have_distinct_measured_harmonic_signatures() {
        // A 1 kHz sine at -6 dBFS, every band driven 12 dB into the same curve (3 bands,
        // 200 Hz / 3 kHz: the tone sits in the mid band), 4x: H2..H7 relative to H1.
        let fs = 48_000.0;
        let mut table = Vec::new();
        eprintln!("curve | H2 | H3 | H4 | H5 | H6 | H7 (dB re H1; 1 kHz, -6 dBFS, drive 12 dB)");
        for curve in SaturationCurve::ALL {
            let mut s = processor(&all_bands(curve, 12.0, DEFAULT_OVERSAMPLING), fs);
            let y = run(&mut s, &sine(1000.0, 48_000.0, 0.5, 72_000));
            let h = harmonics(&y[24_000..], 1000.0, 48_000.0);
            let rel: Vec<f64> = h.iter().map(|v| 20.0 * (v / h[0]).log10()).collect();
            eprintln!(
                "{} | {}",
                curve.name(),
                rel[1..]
                    .iter()
                    .map(|v| format!("{v:.1}"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            table.push(rel);
        }
        let (tube, tape, hard) = (&table[0], &table[1], &table[2]);
        // Indices: rel[k] is H(k+1).
        assert!(
            tube[1] > tube[2] + 2.0,
            "Tube: H2 {} over H3 {}",
            tube[1],
            tube[2]
        );
        assert!(
            tube[1] > -25.0 && tube[3] > -40.0,
            "Tube: a real even series"
        );
        assert!(tape[2] > tape[1] + 20.0, "Tape: H3 over H2 by 20 dB");
        assert!(tape[3] < tape[2] - 6.0, "Tape: H5 under H3");
        assert!(
            tape[1].max(tape[3]).max(tape[5]) < -60.0,
            "Tape: no even harmonics"
        );
        assert!(
            hard[1].max(hard[3]).max(hard[5]) < -60.0,
            "Hard: no even harmonics"
        );
        // The hard clip: the strongest odd series, falling slowest towards H7.
        assert!(hard[2] > tape[2] + 1.0, "Hard: H3 above Tape's");
        assert!(hard[2] - hard[4] < 15.0, "Hard: H5 within 15 dB of H3");
        assert!(
            hard[6] - hard[2] > tape[6] - tape[2] + 2.0,
            "Hard: H7 falls slower than Tape's"
        );
    }

    /// Strongest spectral component of `y` that is neither a harmonic of `f0` (folded ones
    /// included if they land on a harmonic... they do not at these frequencies) nor DC,
    /// relative to the fundamental, dB. Blackman-Harris window (sidelobes -92 dB).
    fn worst_non_harmonic_db(y: &[f32], f0: f64, fs: f64) -> f64 {
        use realfft::RealFftPlanner;
        let n = y.len();
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(n);
        let mut input: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let t = 2.0 * PI * i as f64 / n as f64;
                let w = 0.35875 - 0.48829 * t.cos() + 0.14128 * (2.0 * t).cos()
                    - 0.01168 * (3.0 * t).cos();
                f64::from(v) * w
            })
            .collect();
        let mut spectrum = fft.make_output_vec();
        fft.process(&mut input, &mut spectrum).unwrap();
        let bin_hz = fs / n as f64;
        let power: Vec<f64> = spectrum.iter().map(|c| c.norm_sqr()).collect();
        let near = |bin: usize, f: f64| (bin as f64 * bin_hz - f).abs() < 8.0 * bin_hz;
        let fundamental = (0..power.len())
            .filter(|&b| near(b, f0))
            .map(|b| power[b])
            .fold(0.0, f64::max);
        let mut worst = 0.0f64;
        for (b, &p) in power.iter().enumerate() {
            let f = b as f64 * bin_hz;
            let harmonic = (1..=(fs / 2.0 / f0) as usize).any(|h| near(b, h as f64 * f0));
            if harmonic || f < 30.0 {
                continue;
            }
            worst = worst.max(p);
        }
        10.0 * (worst / fundamental).max(1e-20).log10()
    }

    #[test]
    fn oversampling_removes_the_aliases() {
        // 44.1 kHz, sines at -1 dBFS driven 6 dB into every curve: the strongest inharmonic
        // component relative to the fundamental, per curve and factor; then the worst over a
        // stepped sweep 1-15 kHz (2 kHz steps).
        let fs = 44_100.0f32;
        let n = 16_384;
        let settle = 4_096;
        let tones = [5_000.0, 9_000.0, 13_000.0];
        let sweep: Vec<f64> = (0..8).map(|i| 1_000.0 + 2_000.0 * f64::from(i)).collect();
        eprintln!("aliasing (dB re fundamental): curve factor | 5 kHz | 9 kHz | 13 kHz | sweep");
        for curve in SaturationCurve::ALL {
            let mut rows = Vec::new();
            for factor in [1, DEFAULT_OVERSAMPLING, 8] {
                let measure = |f0: f64| {
                    let mut s = processor(&all_bands(curve, 6.0, factor), fs);
                    let y = run(&mut s, &sine(f0, f64::from(fs), 0.89, n + settle));
                    worst_non_harmonic_db(&y[settle..], f0, f64::from(fs))
                };
                let at: Vec<f64> = tones.iter().map(|&f| measure(f)).collect();
                let swept = sweep.iter().map(|&f| measure(f)).fold(-200.0, f64::max);
                eprintln!(
                    "{} {factor}x | {:.1} | {:.1} | {:.1} | {swept:.1}",
                    curve.name(),
                    at[0],
                    at[1],
                    at[2]
                );
                rows.push((factor, at, swept));
            }
            let worst = |row: &(usize, Vec<f64>, f64)| row.1.iter().fold(row.2, |m, &v| m.max(v));
            let (one, default, eight) = (worst(&rows[0]), worst(&rows[1]), worst(&rows[2]));
            // "Where measurable": 1x must stand 30 dB above the floor the 8x result shows.
            assert!(
                one - eight >= 30.0,
                "{curve:?}: 8x only {:.1} dB cleaner than 1x",
                one - eight
            );
            if curve != SaturationCurve::Hard {
                assert!(default <= -60.0, "{curve:?} at 4x: {default:.1} dB");
            }
        }
    }

    /// A band-limited test signal: a few tones below 12 kHz with unrelated phases.
    fn multisine(fs: f64, n: usize, amp: f64) -> Vec<f32> {
        let tones = [
            (97.0, 0.3),
            (433.0, 1.1),
            (1_234.0, 2.0),
            (3_456.0, 0.7),
            (7_890.0, 2.9),
            (11_000.0, 1.7),
        ];
        (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                let v: f64 = tones
                    .iter()
                    .map(|&(f, p)| (2.0 * PI * f * t + p).sin())
                    .sum();
                (amp * v / tones.len() as f64) as f32
            })
            .collect()
    }

    #[test]
    fn latency_is_exact_for_every_factor() {
        // At 0 dB drive and a quiet signal the curves are linear: the output at factor F is
        // the 1x output (no delay) delayed by exactly latency_for(F): that shift matches within
        // -70 dB, one sample either way does not.
        for fs in [44_100.0f32, 48_000.0, 96_000.0] {
            let n = 8192;
            let x = multisine(f64::from(fs), n, 0.01);
            let reference = run(
                &mut processor(&all_bands(SaturationCurve::Tape, 0.0, 1), fs),
                &x,
            );
            for factor in oversampler::FACTORS {
                let latency = Saturation::latency_for(factor, fs) as usize;
                let mut s = processor(&all_bands(SaturationCurve::Tape, 0.0, factor), fs);
                assert_eq!(s.latency_samples() as usize, latency);
                let y = run(&mut s, &x);
                let error_db = |shift: usize| {
                    let (mut e, mut p) = (0.0f64, 0.0f64);
                    for i in 2000..n - latency - 2 {
                        let r = f64::from(reference[i]);
                        let v = f64::from(y[i + shift]);
                        e += (v - r) * (v - r);
                        p += r * r;
                    }
                    10.0 * (e / p).log10()
                };
                let exact = error_db(latency);
                eprintln!("latency {fs} Hz {factor}x: {latency} samples, residual {exact:.1} dB");
                assert!(
                    exact < -70.0,
                    "{fs} Hz {factor}x: {exact:.1} dB at {latency}"
                );
                if factor > 1 {
                    assert!(error_db(latency + 1) > -30.0 && error_db(latency - 1) > -30.0);
                }
            }
        }
    }

    #[test]
    fn process_does_not_allocate_and_survives_non_finite_input() {
        let fs = 48_000.0;
        let mut s = processor(&SaturationSettings::default(), fs);
        let mut settings = all_bands(SaturationCurve::Tube, 9.0, 16);
        settings.bands = 5;
        settings.auto_gain = true;
        let (mut l, mut r) = (
            sine(440.0, 48_000.0, 0.7, 4096),
            sine(660.0, 48_000.0, 0.7, 4096),
        );
        l[100] = f32::NAN;
        r[200] = f32::INFINITY;
        l[300] = -1e30;
        nice_assert_no_alloc::assert_no_alloc(|| {
            s.process(&mut l, &mut r);
            // Settings that glide, crossfade, change the band count and the factor.
            s.set(&settings);
            s.process(&mut l[..1000], &mut r[..1000]);
            settings.band[1].curve = SaturationCurve::Hard;
            settings.band[2].mix_percent = 0.0;
            settings.splits_hz[0] = 90.0;
            settings.bands = 2;
            s.set(&settings);
            s.process(&mut l, &mut r);
        });
        assert!(l.iter().chain(&r).all(|v| v.is_finite()));
    }

    #[test]
    fn a_band_at_zero_mix_is_its_delayed_dry_signal() {
        let fs = 48_000.0;
        let mut settings = all_bands(SaturationCurve::Hard, 24.0, 4);
        for b in &mut settings.band {
            b.mix_percent = 0.0;
        }
        let mut dry = processor(&all_bands(SaturationCurve::Tape, 0.0, 4), fs);
        let mut s = processor(&settings, fs);
        let x = multisine(48_000.0, 4096, 0.05);
        let (a, b) = (run(&mut s, &x), run(&mut dry, &x));
        // The 0 dB Tape version is the same dry signal plus tanh's x³/3 at -26 dBFS (peaks),
        // once the oversampler's filters have filled (the abrupt start rings).
        let err = a[1000..]
            .iter()
            .zip(&b[1000..])
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-4, "{err}");
    }
}
