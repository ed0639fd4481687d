//! The independent reference true-peak meter (crate `true-peak-reference`, in
//! `tools/true-peak-reference/`): 16x Kaiser-windowed sinc with parabolic refinement, sharing no
//! code with the plugin's detectors.
pub use true_peak_reference::{reference_true_peak, reference_true_peak_dbtp};
