//! Fairmaster: a realtime mastering chain with a level-matched A/B bypass, as a CLAP and VST3
//! plugin. This file is only the host-facing shell: it maps host parameters to plain settings
//! (`params.rs`), runs the chain (`chain.rs`) and the A/B monitor (`ab/`), publishes meters
//! (`shared_state.rs`) and exports the plugin. All DSP lives in `dsp/`.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditor;

pub mod ab;
pub mod analysis;
pub mod chain;
pub mod dsp;
pub mod editor;
pub mod engine;
pub mod files;
pub mod offline;
pub mod params;
pub mod presets;
pub mod reference;
pub mod shared_state;
pub mod snapshots;
pub mod stages;
pub mod targets;

/// The integration tests' signal helpers, shared with the unit tests (one set of test
/// signals and measurements for both).
#[cfg(test)]
#[allow(dead_code)]
#[path = "../tests/common/signals.rs"]
pub(crate) mod test_signals;

use chain::ChainDesigners;
use engine::Engine;
use params::FairmasterParams;
use reference::library::{AudioHandover, ReferenceLibrary};
use reference::playback::Transport;
use shared_state::{SharedState, SpectrumProducer, TapReceiver, TapSender};

/// How often meters are published to the editor.
const PUBLISH_INTERVAL_SECONDS: f32 = 1.0 / 30.0;

/// The plugin instance.
pub struct Fairmaster {
    params: Arc<FairmasterParams>,
    shared: Arc<SharedState>,
    engine: Engine,
    /// Redesigns linear-phase EQ kernels off the audio thread; replaced on every activation
    /// (its kernels are sized for the sample rate).
    designers: Option<ChainDesigners>,
    /// The latency last reported to the host, so a change is reported exactly once.
    reported_latency: u32,
    samples_until_publish: usize,
    publish_interval: usize,
    /// Audio-thread end of the spectrum analyzer's sample rings, once the editor's window has
    /// opened and sent them (`shared_state::tap_handover`: an insert whose editor never opens
    /// does without them).
    spectrum: Option<SpectrumProducer>,
    taps: TapReceiver,
    /// The editor's end of that hand-over, given to the editor when it is created.
    tap_sender: Option<TapSender>,
    /// Loads reference tracks on its own thread (`reference::library`).
    references: ReferenceLibrary,
    /// The audio thread's end of the reference hand-over.
    reference_handover: AudioHandover,
}

impl Default for Fairmaster {
    fn default() -> Self {
        let (tap_sender, taps) = shared_state::tap_handover();
        let mut engine = Engine::new();
        let params = Arc::new(FairmasterParams::default());
        let shared = Arc::new(SharedState::default());
        engine.set_align_capture(Some(shared.align_capture.clone()));
        let (references, reference_handover) =
            ReferenceLibrary::spawn(params.references.0.clone(), shared.reference_status.clone());
        Self {
            params,
            shared,
            engine,
            designers: None,
            reported_latency: 0,
            samples_until_publish: 0,
            publish_interval: 1600,
            spectrum: None,
            taps,
            tap_sender: Some(tap_sender),
            references,
            reference_handover,
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

    fn filter_state(state: &mut PluginState) {
        // Old sessions load forever: bring the state to the current format (params.rs).
        params::state::migrate_state(state);
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.shared.clone(),
            self.tap_sender.take(),
        )
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let fs = buffer_config.sample_rate;
        let mono = audio_io_layout.main_input_channels.map(|c| c.get()) == Some(1);
        // Offline renders always output the processed master (render safety, see ab/mod.rs). This is
        // the mode at activation; `process` follows the host's mode per call.
        let offline = buffer_config.process_mode == ProcessMode::Offline;
        // Stop the old designers before the chain's kernel channels are replaced.
        self.designers = None;
        self.engine
            .set(&self.params.chain_settings(), &self.params.ab_settings());
        self.engine.reset(fs, offline, mono);
        self.designers = Some(self.engine.chain_mut().attach_designers());
        self.reported_latency = self.engine.latency_samples();
        self.publish_interval = ((PUBLISH_INTERVAL_SECONDS * fs) as usize).max(1);
        self.samples_until_publish = 0;
        self.shared
            .sample_rate
            .store(fs, std::sync::atomic::Ordering::Relaxed);
        self.references.set_sample_rate(fs);
        context.set_latency_samples(self.reported_latency);
        true
    }

    fn latency_function(&self) -> Option<Arc<dyn Fn(&BufferConfig) -> u32 + Send + Sync>> {
        // The restored settings' latency before activation (VST3 `getLatencySamples` after
        // `setupProcessing`), and the cue for a restart when a state loads while active: the
        // same figure `activate` reports, from the parameters alone.
        let params = self.params.clone();
        Some(Arc::new(move |buffer_config: &BufferConfig| {
            chain::Chain::latency_for(&params.chain_settings(), buffer_config.sample_rate)
        }))
    }

    fn reset(&mut self) {
        // May be called from the audio thread: only settings are applied here (allocation-free);
        // state is cleared by `activate`.
        self.engine
            .set(&self.params.chain_settings(), &self.params.ab_settings());
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        self.engine
            .set(&self.params.chain_settings(), &self.params.ab_settings());
        if self.shared.take_meter_reset_request() {
            self.engine.reset_measurement();
            // Publish the fresh measurement at the end of this call, so the editor never reads
            // the old figures beside the new span (`snapshots`: measured while heard).
            self.samples_until_publish = 0;
        }
        // Hosts switch render modes while active (CLAP render.set, VST3 processMode per block);
        // a bounce must be the master from its first sample on.
        self.engine
            .set_offline(context.process_mode() == ProcessMode::Offline);
        self.engine.set_reference(&self.params.reference_settings());
        self.engine.set_monitor(&self.params.monitor_settings());
        self.engine.set_audition(&self.params.audition_settings());
        let engine = &mut self.engine;
        self.reference_handover
            .poll(|slot, track| engine.install_reference(slot, track));
        let transport = context.transport();
        self.engine.set_transport(Transport {
            playing: transport.playing,
            position_samples: transport.pos_samples(),
        });
        let frames = buffer.samples();
        if self.spectrum.is_none() {
            // The editor sends its rings once (`TapSender::open`): nothing is replaced (or
            // dropped) here.
            if let Some(mut rings) = self.taps.poll() {
                self.engine.set_master_tap(rings.take_master_tap());
                self.engine
                    .chain_mut()
                    .set_eq_input_tap(rings.take_eq_input_tap());
                self.spectrum = Some(rings);
            }
        }
        let wanted = self
            .shared
            .spectrum_wanted
            .load(std::sync::atomic::Ordering::Relaxed);
        self.engine.set_master_tap_enabled(wanted);
        // The editor is open: watch every stage's loudness, so a compare starts matched.
        self.engine.chain_mut().set_audition_armed(wanted);
        let mut spectrum = self.spectrum.as_mut().filter(|_| wanted);
        match buffer.as_slice() {
            [left, right, ..] => {
                if let Some(s) = spectrum.as_mut() {
                    s.push_input(left, right);
                }
                self.engine.process_stereo(left, right);
                if let Some(s) = spectrum.as_mut() {
                    s.push_output(left, right);
                }
            }
            [mono] => {
                if let Some(s) = spectrum.as_mut() {
                    s.push_input(mono, mono);
                }
                self.engine.process_mono(mono);
                if let Some(s) = spectrum.as_mut() {
                    s.push_output(mono, mono);
                }
            }
            [] => {}
        }
        self.count_and_publish(frames);
        // A structural change (EQ mode, lookahead) switches latency at the bottom of a fade;
        // tell the host once, when it happens.
        let latency = self.engine.latency_samples();
        if latency != self.reported_latency {
            self.reported_latency = latency;
            context.set_latency_samples(latency);
        }
        ProcessStatus::Normal
    }
}

impl Fairmaster {
    fn count_and_publish(&mut self, n: usize) {
        if self.samples_until_publish > n {
            self.samples_until_publish -= n;
            return;
        }
        self.samples_until_publish = self.publish_interval;
        let (input, output) = self.engine.readings();
        self.shared.publish(
            &input,
            &output,
            &self.engine.chain_meters(),
            &self.engine.ab_status(),
            self.engine.correlation(),
        );
        self.shared.measured_seconds.store(
            self.engine.measured_seconds(),
            std::sync::atomic::Ordering::Relaxed,
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
