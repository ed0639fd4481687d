//! Command-line options of `fairmaster-render` and its jobs: settings, decoding, loudness
//! targets, album balancing, rendering, writing, reporting. The binary is a thin wrapper, so
//! tests drive exactly this code.
//!
//! One job per file:
//! * `args`: the command line on `clap` (subcommands `master`, the default, `listen`,
//!   `analyze`, `pack`, `vinyl`; see [`parse`] for the default subcommand's rules), parsed into
//!   [`Options`], the plain job description the jobs below take.
//! * `master`: the mastering job ([`run`]), which also writes the listening pack (`pack`,
//!   `--pack`).
//! * `listen`: the listening job ([`run_listen`]; `listen`, `--listen`).
//! * `analyze`: measure and report without rendering ([`run_analyze`]).
//! * `vinyl`: the vinyl premaster: sides, side files and the cut sheet ([`run_vinyl`]).
//! * `disc`: the disc of a CD album (the `disc` job, or `--target cd` with several inputs): the
//!   WAV + CUE image and, with `--ddp DIR`, the DDP 2.0 image.
//! * `reference`: the reference track of a mastering or analysis job.
//! * `values`: the options' values (`--target` and the rest).

mod analyze;
mod args;
mod disc;
mod listen;
mod master;
mod reference;
#[cfg(test)]
mod tests;
mod values;
mod vinyl;

pub use analyze::*;
pub use args::*;
pub use listen::run_listen;
pub use master::*;
pub use values::TargetSpec;
pub use vinyl::{run_vinyl, side_file_name, vinyl_out_dir, CUT_SHEET_HTML, CUT_SHEET_TEXT};

use std::path::Path;

use crate::offline::OfflineError;
use crate::presets::param_set::{is_builtin_preset, ParamSet};

/// Builds the parameter set from `--preset`/`--state`, `--set` and the shortcut flags.
pub fn build_settings(o: &Options) -> Result<Box<ParamSet>, OfflineError> {
    let mut set = match (&o.state, &o.preset) {
        (Some(state), _) => ParamSet::from_state_file(state)?,
        (None, Some(preset)) if is_builtin_preset(preset) => ParamSet::builtin(preset)?,
        (None, Some(file)) => ParamSet::from_preset_file(Path::new(file))?,
        (None, None) => ParamSet::builtin("reference")?,
    };
    if let (Some(name), Some(state)) = (&o.snapshot, &o.state) {
        // The state load restored its snapshots into the set's parameters; the snapshot's
        // values replace the current ones (the listening controls stay the state's).
        let snapshot = set
            .params()
            .snapshots
            .0
            .find(name)
            .map_err(|e| OfflineError::file(state, e))?;
        set.apply_values(&snapshot.params).map_err(|e| {
            OfflineError::file(state, format!("snapshot \"{}\": {e}", snapshot.name))
        })?;
        set.source = format!("snapshot \"{}\" of {}", snapshot.name, set.source);
    }
    for (id, value) in &o.sets {
        set.set_text(id, value)
            .map_err(|e| OfflineError::new(format!("--set {id}={value}: {e}")))?;
    }
    for (flag, id, value) in [
        ("--input-gain", "input_gain", &o.input_gain_db),
        ("--output-gain", "output_gain", &o.output_gain_db),
        ("--drive", "lim_drive", &o.drive_db),
        ("--ceiling", "lim_ceiling", &o.ceiling_dbtp),
    ] {
        if let Some(v) = value {
            set.set_text(id, v)
                .map_err(|e| OfflineError::new(format!("{flag} {v}: {e}")))?;
        }
    }
    Ok(set)
}

/// Creates `--out-dir` (and its parents) when missing, as `mkdir -p` would.
pub(super) fn create_out_dir(o: &Options) -> Result<(), OfflineError> {
    match &o.out_dir {
        Some(dir) if !dir.is_dir() => std::fs::create_dir_all(dir)
            .map_err(|e| OfflineError::file(dir, format!("cannot create output folder: {e}"))),
        _ => Ok(()),
    }
}
