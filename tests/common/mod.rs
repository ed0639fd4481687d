//! Shared helpers for the integration tests.
//!
//! Not every test binary uses every helper.
#![allow(dead_code, unused_imports)]

pub mod clap_host;
pub mod reference_true_peak;
pub mod signals;
pub mod snapshots;
