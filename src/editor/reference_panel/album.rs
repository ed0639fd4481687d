//! The album view: every slot marked as a song of this record, with the master beside them,
//! and where the master sits among them.

use egui::{Ui, WidgetInfo};

use super::super::theme;
use super::super::widgets::Ctl;
use super::matching::{figure_cells, master_summary};
use super::{file_name, selected_slot, summary_of, ALBUM_SONG_LABEL};
use crate::params::FairmasterParams;
use crate::reference::library::SlotStatus;
use crate::reference::playback::REFERENCE_SLOTS;
use crate::reference::state::SlotFile;
use crate::reference::track::TrackSummary;
use crate::shared_state::SharedState;

/// The album view: every slot marked as a song of this record, with the master beside them.
pub(super) fn album_view(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    shared: &SharedState,
    statuses: &[SlotStatus; REFERENCE_SLOTS],
    files: &[SlotFile; REFERENCE_SLOTS],
) {
    let songs: Vec<(usize, TrackSummary, String)> = (0..REFERENCE_SLOTS)
        .filter(|&i| files[i].song_of_record)
        .filter_map(|i| {
            let name = files[i].path.as_deref().map(file_name)?;
            Some((i, summary_of(&statuses[i], &files[i])?, name))
        })
        .collect();
    egui::CollapsingHeader::new(format!("Album ({} songs)", songs.len()))
        .id_salt("album_view")
        .default_open(true)
        .show(ui, |ui| {
            if songs.is_empty() {
                ui.label(theme::caption(
                    "Mark slots as \"Song of this record\" to balance the record's songs",
                ));
                return;
            }
            let master = master_summary(shared);
            ui.label(theme::caption("Click a song to compare the master with it, level-matched"));
            egui::Grid::new("album_grid")
                .striped(true)
                .num_columns(5)
                .spacing(egui::vec2(10.0, 2.0))
                .show(ui, |ui| {
                    for h in ["song", "I LUFS", "LRA", "TP", "PLR"] {
                        ui.label(theme::caption(h));
                    }
                    ui.end_row();
                    let hearing = params.listen_reference.value();
                    for (i, s, name) in &songs {
                        let current = hearing && selected_slot(params) == *i;
                        let song = ui
                            .selectable_label(
                                current,
                                egui::RichText::new(format!("{} {}", i + 1, truncate(name, 14)))
                                    .size(11.0),
                            )
                            .on_hover_text(format!(
                                "{name}: load this song as the reference and listen to it, level-matched"
                            ));
                        song.widget_info(|| {
                            WidgetInfo::labeled(
                                egui::Role::Button,
                                true,
                                format!("{ALBUM_SONG_LABEL} {}", i + 1),
                            )
                        });
                        if song.clicked() {
                            ctl.set(&params.reference_slot, *i as i32 + 1);
                            ctl.set(&params.listen_reference, true);
                        }
                        figure_cells(ui, s, None);
                        ui.end_row();
                    }
                    ui.label(
                        egui::RichText::new("this master")
                            .size(11.0)
                            .color(theme::ACCENT),
                    );
                    figure_cells(ui, &master, Some(theme::ACCENT));
                    ui.end_row();
                });
            let loudness: Vec<f32> = songs
                .iter()
                .map(|(_, s, _)| s.integrated_lufs)
                .filter(|l| l.is_finite())
                .collect();
            if let Some(text) = album_position_text(&loudness, master.integrated_lufs) {
                ui.label(theme::caption(text));
            }
        });
}

/// "Album spread 3.2 LU (-11.0 … -7.8 LUFS); this master -9.1 LUFS: 0.4 LU below the
/// median" — where the master sits among the songs of the record.
pub fn album_position_text(song_lufs: &[f32], master_lufs: f32) -> Option<String> {
    if song_lufs.is_empty() {
        return None;
    }
    let mut sorted = song_lufs.to_vec();
    sorted.sort_by(f32::total_cmp);
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
    };
    let mut text = format!(
        "Album spread {:.1} LU ({low:.1} … {high:.1} LUFS)",
        high - low
    );
    if master_lufs.is_finite() {
        let d = master_lufs - median;
        let side = if d >= 0.0 { "above" } else { "below" };
        text.push_str(&format!(
            "; this master {master_lufs:.1} LUFS: {:.1} LU {side} the median",
            d.abs()
        ));
    }
    Some(text)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn album_position_names_the_spread_and_the_master_against_the_median() {
        let t = album_position_text(&[-11.0, -7.8, -9.0], -9.4).unwrap();
        assert_eq!(
            t,
            "Album spread 3.2 LU (-11.0 … -7.8 LUFS); this master -9.4 LUFS: 0.4 LU below the median"
        );
        assert!(album_position_text(&[], -9.0).is_none());
        let t = album_position_text(&[-10.0, -8.0], f32::NEG_INFINITY).unwrap();
        assert_eq!(t, "Album spread 2.0 LU (-10.0 … -8.0 LUFS)");
    }
}
