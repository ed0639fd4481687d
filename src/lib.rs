//! Fairmaster: a realtime mastering chain with a level-matched A/B bypass, as a CLAP and VST3
//! plugin. This file is only the host-facing shell: it maps host parameters to chain settings
//! (`params.rs`), runs the chain (`chain.rs`) and exports the plugin. All DSP lives in `dsp/`.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditor;

pub mod chain;
pub mod dsp;
pub mod editor;
pub mod linear_phase_designer;
pub mod params;
pub mod presets;

use chain::Chain;
use linear_phase_designer::LinearPhaseDesigner;
use params::FairmasterParams;

/// The plugin instance.
pub struct Fairmaster {
    params: Arc<FairmasterParams>,
    chain: Chain,
    /// Redesigns linear-phase EQ kernels off the audio thread; replaced on every activation
    /// (its kernels are sized for the sample rate).
    designer: Option<LinearPhaseDesigner>,
    /// The latency last reported to the host, so a change is reported exactly once.
    reported_latency: u32,
    /// Second channel for mono layouts: the chain always runs in stereo and a mono input is
    /// processed as identical left and right (so width/side processing is neutral on it).
    mono_scratch: Vec<f32>,
}

impl Default for Fairmaster {
    fn default() -> Self {
        Self {
            params: Arc::new(FairmasterParams::default()),
            chain: Chain::new(),
            designer: None,
            reported_latency: 0,
            mono_scratch: Vec::new(),
        }
    }
}

impl Fairmaster {
    /// Scratch length used before the host tells us its maximum block size.
    const FALLBACK_MAX_BLOCK: usize = 8192;
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
        editor::create(self.params.clone())
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let max_block = (buffer_config.max_buffer_size as usize).max(1);
        self.mono_scratch = vec![0.0; max_block.max(Self::FALLBACK_MAX_BLOCK)];
        // Stop the old designer before the chain's kernel channel is replaced.
        self.designer = None;
        self.chain.set(&self.params.chain_settings());
        self.chain.reset(buffer_config.sample_rate);
        self.designer = Some(LinearPhaseDesigner::attach(&mut self.chain));
        self.reported_latency = self.chain.latency_samples();
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
        match buffer.as_slice() {
            [left, right, ..] => self.chain.process(left, right),
            [mono] => {
                // Mono: run the stereo chain on (x, x) in chunks of the preallocated scratch.
                let chunk = self.mono_scratch.len().max(1);
                for block in mono.chunks_mut(chunk) {
                    let scratch = &mut self.mono_scratch[..block.len()];
                    scratch.copy_from_slice(block);
                    self.chain.process(block, scratch);
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
