//! The disc of a CD album (the `disc` job, or `master --target cd` with several inputs): the
//! layout planned before any render, the WAV + CUE disc image and, with `--ddp DIR`, the DDP 2.0
//! image written after. Both images come from the one layout and the one disc image in memory,
//! so the DDP's PQ entries and the CUE sheet's indices cannot disagree.

use std::path::{Path, PathBuf};

use super::*;
use crate::offline::audio_io::{self, OutputFormat};
use crate::offline::cd::{self, CdMetadata, DiscLayout, PcmFormat};
use crate::offline::ddp;
use crate::offline::report::{DiscReport, DiscTrack};
use crate::offline::{Audio, OfflineError};

/// The disc image of an album with `--target cd`, laid out and checked before any render.
pub(super) struct DiscPlan {
    pub(super) layout: DiscLayout,
    pub(super) metadata: CdMetadata,
    pub(super) image: PathBuf,
    pub(super) cue: PathBuf,
    /// `--ddp DIR`.
    pub(super) ddp: Option<PathBuf>,
}

/// Lays the album out on CD frames from the inputs' lengths (a render keeps its input's
/// length), reads the metadata and refuses a disc that breaks the Red Book, naming each
/// violation, before any render.
pub(super) fn plan_disc(o: &Options, jobs: &[Song]) -> Result<DiscPlan, OfflineError> {
    let lengths: Vec<usize> = jobs.iter().map(|j| j.input.frames()).collect();
    let metadata = match &o.cd_metadata {
        Some(path) => cd::read_metadata(path, jobs.len())?,
        // No metadata file: no CD-Text and no ISRCs, the default pregaps.
        None => CdMetadata::without_text(jobs.len()),
    };
    let layout = cd::layout_disc(&lengths, &metadata.pregap_cd_frames(), PcmFormat::RED_BOOK);
    let violations = cd::check_red_book(&layout);
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
        return Err(OfflineError::new(format!(
            "this album cannot be a Red Book CD: {}",
            list.join("; ")
        )));
    }
    let image = o.cd_image.clone().unwrap_or_else(|| {
        let dir = o.out_dir.clone().unwrap_or_else(|| {
            o.inputs
                .first()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_default()
        });
        dir.join("album.cd.wav")
    });
    let cue = image.with_extension("cue");
    if o.ddp.is_some() {
        ddp::check_ddp(&layout, &metadata)?;
    }
    Ok(DiscPlan {
        layout,
        metadata,
        image,
        cue,
        ddp: o.ddp.clone(),
    })
}

/// Writes the disc image (16-bit, the tracks bit for bit), its CUE sheet (Latin-1) and, with
/// `--ddp`, the DDP image of the same samples and layout. With `--ddp` the WAV + CUE image is
/// written too: it is the reference disc the client burns and approves, and the plant's glass
/// master is made from the DDP of the same audio.
pub(super) fn write_disc(
    o: &Options,
    plan: &DiscPlan,
    masters: &[&Audio],
) -> Result<DiscReport, OfflineError> {
    let image = cd::disc_image(masters, &plan.layout);
    let file_name = plan
        .image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sheet = cd::cue_sheet(&plan.layout, &plan.metadata, &file_name)?;
    let bytes = cd::latin1_bytes(&sheet)
        .ok_or_else(|| OfflineError::file(&plan.cue, "the CUE sheet is not Latin-1"))?;
    audio_io::write_wav_atomic(&plan.image, &image, OutputFormat::Int16, o.force)?;
    crate::files::write_bytes_atomic(&plan.cue, &bytes, o.force)?;
    let ddp = match &plan.ddp {
        Some(dir) => {
            ddp::write_ddp(dir, &plan.layout, &plan.metadata, &image, o.force)?;
            Some(dir.display().to_string())
        }
        None => None,
    };
    Ok(DiscReport {
        image: plan.image.display().to_string(),
        cue: plan.cue.display().to_string(),
        tracks: plan
            .layout
            .tracks
            .iter()
            .map(|t| DiscTrack {
                number: t.number,
                index_01: t.index_01.to_string(),
                length: t.length.to_string(),
            })
            .collect(),
        playing_time: plan.layout.program_length().to_string(),
        ddp,
    })
}
