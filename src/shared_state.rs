//! What the audio thread publishes for the editor, and the one request the editor sends back
//! (meter reset). Atomics only: the editor never blocks the audio thread and vice versa.

use std::sync::atomic::{AtomicBool, Ordering};

use atomic_float::AtomicF32;

use crate::ab::AbStatus;
use crate::chain::ChainMeters;
use crate::dsp::program_meter::ProgramReadings;

/// One signal's loudness/peak readings as atomics.
#[derive(Debug)]
pub struct AtomicReadings {
    pub momentary_lufs: AtomicF32,
    pub short_term_lufs: AtomicF32,
    pub integrated_lufs: AtomicF32,
    pub loudness_range_lu: AtomicF32,
    pub true_peak_max_dbtp: AtomicF32,
    pub sample_peak_dbfs: AtomicF32,
}

impl Default for AtomicReadings {
    fn default() -> Self {
        let silent = || AtomicF32::new(f32::NEG_INFINITY);
        Self {
            momentary_lufs: silent(),
            short_term_lufs: silent(),
            integrated_lufs: silent(),
            loudness_range_lu: AtomicF32::new(0.0),
            true_peak_max_dbtp: silent(),
            sample_peak_dbfs: silent(),
        }
    }
}

impl AtomicReadings {
    pub fn store(&self, r: &ProgramReadings) {
        self.momentary_lufs
            .store(r.momentary_lufs, Ordering::Relaxed);
        self.short_term_lufs
            .store(r.short_term_lufs, Ordering::Relaxed);
        self.integrated_lufs
            .store(r.integrated_lufs, Ordering::Relaxed);
        self.loudness_range_lu
            .store(r.loudness_range_lu, Ordering::Relaxed);
        self.true_peak_max_dbtp
            .store(r.true_peak_max_dbtp, Ordering::Relaxed);
        self.sample_peak_dbfs
            .store(r.sample_peak_dbfs, Ordering::Relaxed);
    }

    pub fn load(&self) -> ProgramReadings {
        ProgramReadings {
            momentary_lufs: self.momentary_lufs.load(Ordering::Relaxed),
            short_term_lufs: self.short_term_lufs.load(Ordering::Relaxed),
            integrated_lufs: self.integrated_lufs.load(Ordering::Relaxed),
            loudness_range_lu: self.loudness_range_lu.load(Ordering::Relaxed),
            true_peak_max_dbtp: self.true_peak_max_dbtp.load(Ordering::Relaxed),
            sample_peak_dbfs: self.sample_peak_dbfs.load(Ordering::Relaxed),
        }
    }
}

/// Everything the editor shows that is not a parameter.
#[derive(Debug)]
pub struct SharedState {
    pub input: AtomicReadings,
    pub output: AtomicReadings,
    pub compressor_gr_db: AtomicF32,
    pub limiter_gr_db: AtomicF32,
    pub correlation: AtomicF32,
    pub match_offset_db: AtomicF32,
    pub ab_position: AtomicF32,
    pub original_limited_db: AtomicF32,
    /// Set by the editor's meter reset button, cleared by the audio thread when done.
    pub reset_meters_requested: AtomicBool,
}

impl Default for SharedState {
    fn default() -> Self {
        Self {
            input: AtomicReadings::default(),
            output: AtomicReadings::default(),
            compressor_gr_db: AtomicF32::new(0.0),
            limiter_gr_db: AtomicF32::new(0.0),
            correlation: AtomicF32::new(0.0),
            match_offset_db: AtomicF32::new(0.0),
            ab_position: AtomicF32::new(0.0),
            original_limited_db: AtomicF32::new(0.0),
            reset_meters_requested: AtomicBool::new(false),
        }
    }
}

impl SharedState {
    /// Called by the audio thread a few times per second (allocation-free).
    pub fn publish(
        &self,
        input: &ProgramReadings,
        output: &ProgramReadings,
        chain: &ChainMeters,
        ab: &AbStatus,
        correlation: f32,
    ) {
        self.input.store(input);
        self.output.store(output);
        self.compressor_gr_db
            .store(chain.compressor_gr_db, Ordering::Relaxed);
        self.limiter_gr_db
            .store(chain.limiter_gr_db, Ordering::Relaxed);
        self.correlation.store(correlation, Ordering::Relaxed);
        self.match_offset_db
            .store(ab.match_offset_db, Ordering::Relaxed);
        self.ab_position.store(ab.position, Ordering::Relaxed);
        self.original_limited_db
            .store(ab.original_limited_db, Ordering::Relaxed);
    }

    /// Asks the audio thread to reset integrated loudness, LRA and true-peak maxima.
    pub fn request_meter_reset(&self) {
        self.reset_meters_requested.store(true, Ordering::Release);
    }

    /// Audio thread: takes a pending reset request.
    pub fn take_meter_reset_request(&self) -> bool {
        self.reset_meters_requested.swap(false, Ordering::AcqRel)
    }
}
