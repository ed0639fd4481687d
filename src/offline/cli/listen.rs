//! The `--listen` job: what the plugin plays in a listening mode, rendered to a file.

use super::*;
use crate::offline::audio_io::{self, OutputFormat};
use crate::offline::listen::{render_listening, ListenReport};
use crate::offline::{Audio, OfflineError};
use crate::reference::align::{align_offset, AlignError, ALIGN_CAPTURE_SECONDS};
use crate::reference::track::ReferenceTrack;

/// The `--listen` job: decode the input (and the reference, at the input's rate), render what
/// the plugin plays in that mode, write it.
pub fn run_listen(o: &Options) -> Result<ListenReport, OfflineError> {
    let mode = o
        .listen
        .ok_or_else(|| OfflineError::new("no --listen mode given"))?;
    let params = build_settings(o)?;
    let path = o
        .inputs
        .first()
        .ok_or_else(|| OfflineError::new("--listen renders one input"))?;
    let read = audio_io::read_audio_file(path)?;
    // What the plugin plays runs at a chain rate: other rates are resampled as for mastering.
    let rate = audio_io::chain_rate_for(read.sample_rate);
    let input = audio_io::resample_audio(read, rate).map_err(|e| OfflineError::file(path, e))?;
    let format = if o.format_given {
        o.format
    } else {
        OutputFormat::Float32
    };
    // What the plugin plays includes its own dither settings; only an explicit --bits
    // changes them (to the word length written).
    let mut chain = params.chain_settings();
    if o.format_given {
        chain.dither.mode = format.dither_mode();
    }
    if let Some(shaping) = o.noise_shaping {
        chain.dither.noise_shaping = shaping;
    }
    let ab = params.ab_settings();
    let output = if o.dry_run {
        None
    } else {
        Some(o.output.clone().unwrap_or_else(|| {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "output".into());
            let name = format!("{stem}.heard-{}.wav", format!("{mode:?}").to_lowercase());
            match &o.out_dir {
                Some(dir) => dir.join(name),
                None => path.with_file_name(name),
            }
        }))
    };
    if let Some(out) = &output {
        crate::files::check_output_free(out, o.force)?;
        create_out_dir(o)?;
    }
    let track = match &o.reference {
        Some(reference) => {
            let decoded = crate::reference::decode::decode_reference(
                reference,
                input.sample_rate,
                crate::reference::decode::MAX_REFERENCE_BYTES,
            )
            .map_err(|e| OfflineError::file(&e.path, e.reason))?;
            Some(std::sync::Arc::new(
                crate::reference::track::ReferenceTrack::analyse(decoded, reference.clone()),
            ))
        }
        None => None,
    };
    let mut reference_settings = params.params().reference_settings();
    let slot = reference_settings.slot;
    if let Some((start, end)) = o.loop_seconds {
        reference_settings.slots[slot].loop_start_seconds = start;
        reference_settings.slots[slot].loop_end_seconds = end;
    }
    if let Some(trim) = o.reference_trim_db {
        reference_settings.slots[slot].trim_db = trim;
    }
    if let Some(offset) = o.reference_offset_seconds {
        reference_settings.slots[slot].offset_seconds = offset;
    }
    let mut align_coherence = None;
    if let (true, Some(t)) = (o.align, &track) {
        let (offset, coherence) =
            align_from_loudest_section(&input, t, reference_settings.slots[slot].offset_seconds)
                .map_err(|e| {
                    OfflineError::file(o.reference.as_deref().unwrap_or(path), e.to_string())
                })?;
        reference_settings.slots[slot].offset_seconds = offset;
        align_coherence = Some(coherence);
    }
    let loop_lufs = track.as_ref().map(|t| {
        let mut player = crate::reference::playback::ReferencePlayer::new();
        player.reset(t.sample_rate);
        player.set(&reference_settings);
        player.install(slot, Some(t.clone()));
        player
            .loudness(0, 0)
            .map_or(f32::NEG_INFINITY, |l| l.loop_integrated_lufs)
    });
    let has_reference = track.is_some();
    let heard = render_listening(&input, &chain, &ab, mode, track, &reference_settings);
    if let Some(out) = &output {
        audio_io::write_wav_atomic(out, &heard.audio, format, o.force)?;
    }
    let mut report = ListenReport::new(mode, output.map(|p| p.display().to_string()), &heard);
    report.reference_loop_lufs = loop_lufs;
    if has_reference {
        report.reference_offset_seconds = Some(reference_settings.slots[slot].offset_seconds);
        report.align_coherence = align_coherence;
    }
    Ok(report)
}

/// `--align`: the plugin's Align button offline (`reference::align::align_offset`). The
/// capture is the mix's loudest 4 s (by mean square, in 0.5 s steps), so an intro's silence or
/// count-in cannot make the match fail. Returns the offset in seconds and the coherence.
pub(super) fn align_from_loudest_section(
    input: &Audio,
    track: &ReferenceTrack,
    current_offset_seconds: f64,
) -> Result<(f64, f32), AlignError> {
    let fs = f64::from(input.sample_rate);
    let (left, right) = input.left_right();
    let mono: Vec<f32> = left.iter().zip(right).map(|(l, r)| 0.5 * (l + r)).collect();
    let len = ((ALIGN_CAPTURE_SECONDS * fs) as usize).min(mono.len());
    let step = ((0.5 * fs) as usize).max(1);
    let energy = |start: usize| -> f64 {
        mono[start..start + len]
            .iter()
            .map(|x| f64::from(*x) * f64::from(*x))
            .sum()
    };
    let start = (0..=mono.len() - len)
        .step_by(step)
        .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
        .unwrap_or(0);
    let current = (current_offset_seconds * fs).round() as i64;
    let (offset, coherence) =
        align_offset(track, start as i64, &mono[start..start + len], current)?;
    Ok((offset as f64 / fs, coherence))
}
