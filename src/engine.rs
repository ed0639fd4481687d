//! The whole realtime engine as plain Rust: chain + level-matched A/B + correlation meter, with
//! the host-block splitting and mono handling. The plugin (`lib.rs`), the tests and the offline
//! renderer all run audio through this one type, so they share one code path.

use std::sync::Arc;

use crate::ab::{AbMonitor, AbSettings, AbStatus, ReferenceBlock};
use crate::chain::{Chain, ChainMeters, MAX_CHUNK};
use crate::dsp::meters::correlation::CorrelationMeter;
use crate::dsp::meters::program_meter::ProgramReadings;
use crate::dsp::monitor::{Monitor, MonitorSettings};
use crate::dsp::util::condition_input;
use crate::dsp::util::denormals::{flush_output, DenormalGuard};
use crate::dsp::util::gain::Gain;
use crate::dsp::util::resident::resident_vec;
use crate::reference::align::AlignCapture;
use crate::reference::playback::{
    ReferenceLoudness, ReferencePlayer, ReferenceSettings, Transport,
};
use crate::reference::track::ReferenceTrack;
use crate::shared_state::MasterTapProducer;
use crate::stages::audition::AuditionSettings;
use crate::stages::ChainSettings;

/// Frames of the reference the path's safety limiter is primed with when the reference
/// becomes audible (as B's prime, `ab::B_PRIME_SECONDS`), plus its lookahead.
const REFERENCE_PRIME_FRAMES: usize = 1024;

pub struct Engine {
    chain: Chain,
    ab: AbMonitor,
    ab_settings: AbSettings,
    correlation: CorrelationMeter,
    /// The input of the current chunk, kept for the A/B original path.
    original_left: Vec<f32>,
    original_right: Vec<f32>,
    /// Second channel for mono layouts: the chain always runs in stereo and a mono input is
    /// processed as identical left and right (so width/side processing is neutral on it).
    mono_scratch: Vec<f32>,
    /// Reference playback (tracks handed over by `reference::library`) and its block scratch.
    reference: ReferencePlayer,
    reference_left: Vec<f32>,
    reference_right: Vec<f32>,
    /// The snapshots' matched-compare gain on whatever is heard (`AbSettings::version_gain_db`),
    /// ramped so a recall is click-free.
    version_gain: Gain,
    /// Monitoring aids (mono/side/L/R, band solo) on whatever is heard, after matching.
    monitor: Monitor,
    monitor_settings: MonitorSettings,
    /// The master, pushed for the editor's live tonal analysis while `master_tap_on`.
    master_tap: Option<MasterTapProducer>,
    master_tap_on: bool,
    /// The mix capture for auto-align (`reference::align`), shared with the editor.
    align_capture: Option<Arc<AlignCapture>>,
    offline: bool,
    mono: bool,
    sample_rate: f32,
    /// Frames the meters' integrated figures cover (since the last measurement reset).
    measured_frames: u64,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// Allocates everything the audio thread uses, resident (`dsp::util::resident`). Off the
    /// audio thread.
    pub fn new() -> Self {
        Self {
            chain: Chain::new(),
            ab: AbMonitor::new(),
            ab_settings: AbSettings::default(),
            correlation: CorrelationMeter::new(48_000.0),
            original_left: resident_vec(0.0, MAX_CHUNK),
            original_right: resident_vec(0.0, MAX_CHUNK),
            mono_scratch: resident_vec(0.0, MAX_CHUNK),
            reference: ReferencePlayer::new(),
            reference_left: resident_vec(0.0, MAX_CHUNK.max(REFERENCE_PRIME_FRAMES)),
            reference_right: resident_vec(0.0, MAX_CHUNK.max(REFERENCE_PRIME_FRAMES)),
            version_gain: Gain::new(),
            monitor: Monitor::new(),
            monitor_settings: MonitorSettings::default(),
            master_tap: None,
            master_tap_on: false,
            align_capture: None,
            offline: false,
            mono: false,
            sample_rate: 48_000.0,
            measured_frames: 0,
        }
    }

    /// Prepares for `sample_rate` with the settings given last. `offline` = the host renders
    /// offline (A/B forced to A); `mono` = one channel in and out.
    pub fn reset(&mut self, sample_rate: f32, offline: bool, mono: bool) {
        self.chain.reset(sample_rate);
        self.chain.set_offline(offline);
        let latency = self.chain.latency_samples();
        let ceiling = self.chain.settings().limiter.ceiling_db;
        self.ab.set(&self.ab_settings, latency, ceiling);
        self.ab.reset(sample_rate, latency, offline, mono);
        self.correlation.reset(sample_rate);
        self.reference.reset(sample_rate);
        self.monitor.reset(sample_rate);
        self.offline = offline;
        self.mono = mono;
        // After `offline` is set: a reset into an offline render starts at 0 dB.
        self.version_gain.set_gain_db(self.version_gain_target());
        self.version_gain.reset(sample_rate);
        self.sample_rate = sample_rate;
        self.measured_frames = 0;
    }

    /// Monitoring aids. Never applied to an offline render or with the host bypass on: they
    /// are for listening, like the A/B.
    pub fn set_monitor(&mut self, settings: &MonitorSettings) {
        self.monitor_settings = *settings;
    }

    /// The matched-compare gain to apply now: none offline (a render is the master) or with
    /// the host bypass on (the unmatched original).
    fn version_gain_target(&self) -> f32 {
        if self.offline || self.ab_settings.host_bypass {
            0.0
        } else {
            self.ab_settings.version_gain_db
        }
    }

    fn apply_monitor_settings(&mut self) {
        let settings = if self.offline || self.ab_settings.host_bypass {
            MonitorSettings::default()
        } else {
            self.monitor_settings
        };
        self.monitor.set(&settings);
    }

    /// Reference slot selection, match mode, loops, trims and offsets.
    pub fn set_reference(&mut self, settings: &ReferenceSettings) {
        self.reference.set(settings);
    }

    /// The host transport of the coming block (reference sync mode).
    /// Gives the engine the audio-thread end of the master tap (`shared_state::master_tap`).
    pub fn set_master_tap(&mut self, tap: Option<MasterTapProducer>) {
        self.master_tap = tap;
    }

    /// Feeds the master tap (when set) from the next block on: on while the editor shows the
    /// tonal view, off otherwise so a closed editor costs nothing.
    pub fn set_master_tap_enabled(&mut self, on: bool) {
        self.master_tap_on = on;
        self.chain.set_eq_input_tap_enabled(on);
    }

    /// Gives the engine the auto-align capture: it copies the input there when requested.
    pub fn set_align_capture(&mut self, capture: Option<Arc<AlignCapture>>) {
        self.align_capture = capture;
    }

    pub fn set_transport(&mut self, transport: Transport) {
        self.reference.set_transport(transport);
    }

    /// Puts a loaded reference in a slot; returns the track it replaces, which must be retired
    /// off the audio thread (never dropped here). Allocation-free.
    pub fn install_reference(
        &mut self,
        slot: usize,
        track: Option<Arc<ReferenceTrack>>,
    ) -> Option<Arc<ReferenceTrack>> {
        self.reference.install(slot, track)
    }

    pub fn reference_player(&self) -> &ReferencePlayer {
        &self.reference
    }

    /// Applies new settings. Allocation-free (when a linear-phase designer is attached).
    pub fn set(&mut self, chain: &ChainSettings, ab: &AbSettings) {
        self.chain.set(chain);
        self.ab_settings = *ab;
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    pub fn chain_mut(&mut self) -> &mut Chain {
        &mut self.chain
    }

    /// The host's current render mode, per process call: `true` = offline (a bounce), which
    /// forces the A/B to A at once (render safety, see `ab/mod.rs`). Hosts switch it while active
    /// (CLAP's render extension, VST3's per-block `processMode`).
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
        self.ab.set_offline(offline);
        self.chain.set_offline(offline);
    }

    /// The stage auditioned (compare at matched loudness, or delta). Allocation-free.
    pub fn set_audition(&mut self, settings: &AuditionSettings) {
        self.chain.set_audition(settings);
    }

    /// Latency in samples (exactly the impulse delay of `process_*`).
    pub fn latency_samples(&self) -> u32 {
        self.chain.latency_samples()
    }

    /// Processes a stereo block of any length in place. Runs with flush-to-zero and
    /// denormals-are-zero set, and never outputs a subnormal or non-finite sample (see
    /// `dsp::util::denormals`). Input is conditioned first (`util::condition_input`: non-finite to 0,
    /// magnitudes clamped to +60 dBFS), for both the master and the original (B).
    pub fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32]) {
        let _denormals = DenormalGuard::new();
        self.measured_frames += left.len().min(right.len()) as u64;
        for (l, r) in left.chunks_mut(MAX_CHUNK).zip(right.chunks_mut(MAX_CHUNK)) {
            self.process_chunk(l, r);
            self.correlation.process(l, r);
        }
    }

    /// Processes a mono block of any length in place (denormal handling as `process_stereo`):
    /// the stereo pipeline on the signal and a copy of it (a mono bus is a centred stereo
    /// image; the meters measure BS.1770 mono, see `reset`), the copy discarded.
    pub fn process_mono(&mut self, mono: &mut [f32]) {
        let _denormals = DenormalGuard::new();
        self.measured_frames += mono.len() as u64;
        // Taken out of `self` for the call (no allocation: an empty Vec takes its place).
        let mut scratch = std::mem::take(&mut self.mono_scratch);
        for m in mono.chunks_mut(MAX_CHUNK) {
            let copy = &mut scratch[..m.len()];
            copy.copy_from_slice(m);
            self.process_chunk(m, copy);
        }
        self.mono_scratch = scratch;
    }

    /// The one per-chunk pipeline (at most `MAX_CHUNK` frames): conditioning, the align
    /// capture, the chain, the master tap, A/B and reference listening, the snapshots' matched
    /// gain, the monitoring aids, and the output guard.
    fn process_chunk(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        let (l, r) = (&mut l[..n], &mut r[..n]);
        condition_input(l);
        condition_input(r);
        self.original_left[..n].copy_from_slice(l);
        self.original_right[..n].copy_from_slice(r);
        if let Some(capture) = &self.align_capture {
            capture.write(l, r, self.reference.transport());
        }
        self.chain.process(l, r);
        if let (Some(tap), true) = (&mut self.master_tap, self.master_tap_on) {
            tap.push(l, r);
        }
        self.ab.set(
            &self.ab_settings,
            self.chain.latency_samples(),
            self.chain.settings().limiter.ceiling_db,
        );
        let reference = self.render_reference(n).map(|loudness| ReferenceBlock {
            left: &mut self.reference_left[..n],
            right: &mut self.reference_right[..n],
            loudness,
        });
        self.ab.process_with_reference(
            &self.original_left[..n],
            &self.original_right[..n],
            l,
            r,
            reference,
        );
        let target = self.version_gain_target();
        apply_version_gain(&mut self.version_gain, target, self.offline, l, r);
        self.apply_monitor_settings();
        if !self.offline {
            // Offline: the render is the master from its first sample (no fade out).
            self.monitor.process(l, r);
        }
        flush_output(l);
        flush_output(r);
    }

    /// Renders the selected reference for the next `n` frames when it is audible (starting
    /// its path first when it just became so), else only advances playback.
    /// Returns its loudness figures; the block is in `reference_left/right[..n]`.
    fn render_reference(&mut self, n: usize) -> Option<ReferenceLoudness> {
        if !self.ab.reference_audible() {
            self.reference.skip(n);
            if self.ab.wants_reference_fit(n) {
                let latency = self.chain.latency_samples() as usize;
                let loudness = self.reference.loudness(latency, self.ab.reference_lead());
                self.ab.observe_reference(loudness.as_ref());
            }
            return None;
        }
        let latency = self.chain.latency_samples() as usize;
        let lead = self.ab.reference_lead();
        let loudness = self.reference.loudness(latency, lead)?;
        if self.ab.reference_needs_start() {
            let prime = REFERENCE_PRIME_FRAMES.min(self.reference_left.len());
            let (left, right) = (
                &mut self.reference_left[..prime],
                &mut self.reference_right[..prime],
            );
            self.reference.render_preceding(left, right, latency, lead);
            if self.mono {
                fold_to_mono(left, right);
            }
            self.ab.start_reference(ReferenceBlock {
                left,
                right,
                loudness,
            });
        }
        let (left, right) = (
            &mut self.reference_left[..n],
            &mut self.reference_right[..n],
        );
        self.reference.render(left, right, latency, lead);
        if self.mono {
            fold_to_mono(left, right);
        }
        Some(loudness)
    }

    /// The meter reset button: integrated loudness, LRA, true-peak maxima.
    pub fn reset_measurement(&mut self) {
        self.ab.reset_measurement();
        self.measured_frames = 0;
    }

    /// Seconds of audio the integrated figures cover (since the last measurement reset).
    pub fn measured_seconds(&self) -> f32 {
        (self.measured_frames as f64 / f64::from(self.sample_rate)) as f32
    }

    /// (original, processed) loudness and peak readings.
    pub fn readings(&self) -> (ProgramReadings, ProgramReadings) {
        self.ab.readings()
    }

    pub fn ab_status(&self) -> AbStatus {
        self.ab.status()
    }

    pub fn chain_meters(&self) -> ChainMeters {
        self.chain.meters()
    }

    pub fn correlation(&self) -> f32 {
        self.correlation.correlation()
    }
}

/// Applies the snapshots' matched-compare gain, ramped (free at 0 dB when no ramp runs).
/// Offline it jumps to its target (0 dB) at once: a render is the master from its first
/// sample, as the A/B's render safety does.
fn apply_version_gain(
    gain: &mut Gain,
    target_db: f32,
    offline: bool,
    left: &mut [f32],
    right: &mut [f32],
) {
    gain.set_gain_db(target_db);
    if offline {
        gain.snap();
    } else if gain.is_ramping() || gain.current_db() != 0.0 {
        gain.process(left, right);
    }
}

/// A stereo reference heard on a mono bus: (L + R) / 2 on both (a centred signal at unity).
fn fold_to_mono(left: &mut [f32], right: &mut [f32]) {
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        *l = 0.5 * (*l + *r);
        *r = *l;
    }
}
