//! The plugin as a standalone application (nice-plug's standalone wrapper), for trying the
//! editor without a DAW. Built only with the `standalone` feature:
//!
//! ```sh
//! cargo run --features standalone --bin fairmaster-standalone -- --backend dummy
//! ```
//!
//! The dummy backend processes silence on a timer, so the window opens without any audio
//! device (also under a virtual X server: `xvfb-run`).

fn main() {
    nice_plug::prelude::nice_export_standalone::<fairmaster::Fairmaster>();
}
