//! Fairmaster: a realtime mastering chain with a level-matched A/B bypass, as a CLAP and VST3
//! plugin. This file is only the host-facing shell: it maps host parameters to plain settings
//! (`params.rs`), runs the chain (`chain.rs`) and the A/B monitor (`ab.rs`), publishes meters
//! (`shared_state.rs`) and exports the plugin. All DSP lives in `dsp/`.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditor;

pub mod ab;
pub mod chain;
pub mod dsp;
pub mod editor;
pub mod linear_phase_designer;
pub mod params;
pub mod presets;
pub mod shared_state;
pub mod targets;

use ab::AbMonitor;
use chain::{Chain, MAX_CHUNK};
use dsp::stereo::CorrelationMeter;
use linear_phase_designer::LinearPhaseDesigner;
use params::FairmasterParams;
use shared_state::SharedState;

/// How often meters are published to the editor.
const PUBLISH_INTERVAL_SECONDS: f32 = 1.0 / 30.0;

/// The plugin instance.
pub struct Fairmaster {
    params: Arc<FairmasterParams>,
    shared: Arc<SharedState>,
    chain: Chain,
    ab: AbMonitor,
    correlation: CorrelationMeter,
    /// Redesigns linear-phase EQ kernels off the audio thread; replaced on every activation
    /// (its kernels are sized for the sample rate).
    designer: Option<LinearPhaseDesigner>,
    /// The latency last reported to the host, so a change is reported exactly once.
    reported_latency: u32,
    /// The host input of the current chunk, kept for the A/B original path.
    original_left: Vec<f32>,
    original_right: Vec<f32>,
    /// Second channel for mono layouts: the chain always runs in stereo and a mono input is
    /// processed as identical left and right (so width/side processing is neutral on it).
    mono_scratch: Vec<f32>,
    samples_until_publish: usize,
    publish_interval: usize,
}

impl Default for Fairmaster {
    fn default() -> Self {
        Self {
            params: Arc::new(FairmasterParams::default()),
            shared: Arc::new(SharedState::default()),
            chain: Chain::new(),
            ab: AbMonitor::new(),
            correlation: CorrelationMeter::new(48_000.0),
            designer: None,
            reported_latency: 0,
            original_left: vec![0.0; MAX_CHUNK],
            original_right: vec![0.0; MAX_CHUNK],
            mono_scratch: vec![0.0; MAX_CHUNK],
            samples_until_publish: 0,
            publish_interval: 1600,
        }
    }
}

impl Plugin for Fairmaster {
    const NAME: &'static str = "Fairmaster";
    const VENDOR: &'static str = "Fairmaster";
    const URL: &'static str = "https://example.invalid/fairmaster";
    const EMAIL: &'static str = "fairmaster@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type Editor = EguiEditor<editor::FairmasterEditor>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.shared.clone())
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let fs = buffer_config.sample_rate;
        let mono = audio_io_layout.main_input_channels.map(|c| c.get()) == Some(1);
        // Offline renders always output the processed master (render safety, see ab.rs).
        let offline = buffer_config.process_mode == ProcessMode::Offline;
        // Stop the old designer before the chain's kernel channel is replaced.
        self.designer = None;
        self.chain.set(&self.params.chain_settings());
        self.chain.reset(fs);
        self.designer = Some(LinearPhaseDesigner::attach(&mut self.chain));
        self.reported_latency = self.chain.latency_samples();
        self.ab
            .set(&self.params.ab_settings(), self.reported_latency);
        self.ab.reset(fs, self.reported_latency, offline, mono);
        self.correlation.reset(fs);
        self.publish_interval = ((PUBLISH_INTERVAL_SECONDS * fs) as usize).max(1);
        self.samples_until_publish = 0;
        context.set_latency_samples(self.reported_latency);
        true
    }

    fn reset(&mut self) {
        // May be called from the audio thread: only settings are applied here (allocation-free);
        // state is cleared by `activate`.
        self.chain.set(&self.params.chain_settings());
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        self.chain.set(&self.params.chain_settings());
        let ab_settings = self.params.ab_settings();
        if self.shared.take_meter_reset_request() {
            self.ab.reset_measurement();
        }
        match buffer.as_slice() {
            [left, right, ..] => {
                for (l, r) in left.chunks_mut(MAX_CHUNK).zip(right.chunks_mut(MAX_CHUNK)) {
                    self.process_stereo_chunk(l, r, &ab_settings);
                }
            }
            [mono] => {
                for m in mono.chunks_mut(MAX_CHUNK) {
                    self.process_mono_chunk(m, &ab_settings);
                }
            }
            [] => {}
        }
        // A structural change (EQ mode, lookahead) switches latency at the bottom of a fade;
        // tell the host once, when it happens.
        let latency = self.chain.latency_samples();
        if latency != self.reported_latency {
            self.reported_latency = latency;
            context.set_latency_samples(latency);
        }
        ProcessStatus::Normal
    }
}

impl Fairmaster {
    fn process_stereo_chunk(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        ab_settings: &ab::AbSettings,
    ) {
        let n = left.len();
        self.original_left[..n].copy_from_slice(left);
        self.original_right[..n].copy_from_slice(right);
        self.chain.process(left, right);
        self.ab.set(ab_settings, self.chain.latency_samples());
        self.ab.process(
            &self.original_left[..n],
            &self.original_right[..n],
            left,
            right,
        );
        self.correlation.process(left, right);
        self.count_and_publish(n);
    }

    fn process_mono_chunk(&mut self, mono: &mut [f32], ab_settings: &ab::AbSettings) {
        let n = mono.len();
        self.original_left[..n].copy_from_slice(mono);
        let scratch = &mut self.mono_scratch[..n];
        scratch.copy_from_slice(mono);
        self.chain.process(mono, scratch);
        self.ab.set(ab_settings, self.chain.latency_samples());
        self.ab.process(
            &self.original_left[..n],
            &self.original_left[..n],
            mono,
            scratch,
        );
        self.count_and_publish(n);
    }

    fn count_and_publish(&mut self, n: usize) {
        if self.samples_until_publish > n {
            self.samples_until_publish -= n;
            return;
        }
        self.samples_until_publish = self.publish_interval;
        let (input, output) = self.ab.readings();
        self.shared.publish(
            &input,
            &output,
            &self.chain.meters(),
            &self.ab.status(),
            self.correlation.correlation(),
        );
    }
}

impl ClapPlugin for Fairmaster {
    const CLAP_ID: &'static str = "io.github.fairmaster.mastering";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Mastering chain with level-matched A/B bypass");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
        ClapFeature::Mono,
        ClapFeature::Equalizer,
        ClapFeature::Compressor,
        ClapFeature::Limiter,
    ];
}

impl Vst3Plugin for Fairmaster {
    /// Exactly 16 bytes; never change it (hosts identify saved sessions by it).
    const VST3_CLASS_ID: [u8; 16] = *b"FairmasterMstr01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Mastering,
        Vst3SubCategory::Eq,
        Vst3SubCategory::Dynamics,
        Vst3SubCategory::Stereo,
    ];
}

nice_export_clap!(Fairmaster);
nice_export_vst3!(Fairmaster);
