//! The whole realtime engine as plain Rust: chain + level-matched A/B + correlation meter, with
//! the host-block splitting and mono handling. The plugin (`lib.rs`), the tests and the offline
//! renderer all run audio through this one type, so they share one code path.

use crate::ab::{AbMonitor, AbSettings, AbStatus};
use crate::chain::{Chain, ChainMeters, ChainSettings, MAX_CHUNK};
use crate::dsp::meters::correlation::CorrelationMeter;
use crate::dsp::meters::program_meter::ProgramReadings;
use crate::dsp::util::condition_input;
use crate::dsp::util::denormals::{flush_output, DenormalGuard};

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
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// Allocates everything. Off the audio thread.
    pub fn new() -> Self {
        Self {
            chain: Chain::new(),
            ab: AbMonitor::new(),
            ab_settings: AbSettings::default(),
            correlation: CorrelationMeter::new(48_000.0),
            original_left: vec![0.0; MAX_CHUNK],
            original_right: vec![0.0; MAX_CHUNK],
            mono_scratch: vec![0.0; MAX_CHUNK],
        }
    }

    /// Prepares for `sample_rate` with the settings given last. `offline` = the host renders
    /// offline (A/B forced to A); `mono` = one channel in and out.
    pub fn reset(&mut self, sample_rate: f32, offline: bool, mono: bool) {
        self.chain.reset(sample_rate);
        let latency = self.chain.latency_samples();
        self.ab.set(&self.ab_settings, latency);
        self.ab.reset(sample_rate, latency, offline, mono);
        self.correlation.reset(sample_rate);
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
    /// forces the A/B to A at once (render safety, see `ab.rs`). Hosts switch it while active
    /// (CLAP's render extension, VST3's per-block `processMode`).
    pub fn set_offline(&mut self, offline: bool) {
        self.ab.set_offline(offline);
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
        for (l, r) in left.chunks_mut(MAX_CHUNK).zip(right.chunks_mut(MAX_CHUNK)) {
            let n = l.len();
            condition_input(l);
            condition_input(r);
            self.original_left[..n].copy_from_slice(l);
            self.original_right[..n].copy_from_slice(r);
            self.chain.process(l, r);
            self.ab.set(&self.ab_settings, self.chain.latency_samples());
            self.ab
                .process(&self.original_left[..n], &self.original_right[..n], l, r);
            flush_output(l);
            flush_output(r);
            self.correlation.process(l, r);
        }
    }

    /// Processes a mono block of any length in place (denormal handling as `process_stereo`).
    pub fn process_mono(&mut self, mono: &mut [f32]) {
        let _denormals = DenormalGuard::new();
        for m in mono.chunks_mut(MAX_CHUNK) {
            let n = m.len();
            condition_input(m);
            self.original_left[..n].copy_from_slice(m);
            let scratch = &mut self.mono_scratch[..n];
            scratch.copy_from_slice(m);
            self.chain.process(m, scratch);
            self.ab.set(&self.ab_settings, self.chain.latency_samples());
            self.ab.process(
                &self.original_left[..n],
                &self.original_left[..n],
                m,
                scratch,
            );
            flush_output(m);
        }
    }

    /// The meter reset button: integrated loudness, LRA, true-peak maxima.
    pub fn reset_measurement(&mut self) {
        self.ab.reset_measurement();
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
