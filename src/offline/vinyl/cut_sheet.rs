//! The cut sheet: what the cutting engineer needs beside the side files. Per side its file, its
//! time against the format's chart and the level that length allows; per song its start
//! (mm:ss.fff and the exact sample), length, integrated loudness (BS.1770-4), true peak, PLR,
//! low-end correlation, high-frequency level and what the high-frequency limiter took; and the
//! warnings, each naming its side and song. Written as `cut-sheet.txt` (plain text, for the
//! lathe room's printer) and `cut-sheet.html` (the listening report's style, self-contained).

use std::fmt::Write as _;

use serde::Serialize;

use super::formats::RecordFormat;
use crate::offline::html_report::{document_start, escape, number, signed};

/// The cut sheet's data (also its JSON, `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct CutSheet {
    pub format: RecordFormat,
    pub sample_rate: u32,
    pub bits: u32,
    pub gap_seconds: f64,
    /// Where the settings came from (preset, state, sets).
    pub settings: String,
    /// The premaster's processing, one line each (what the job did on top of the settings).
    pub processing: Vec<String>,
    pub sides: Vec<CutSheetSide>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CutSheetSide {
    pub letter: char,
    /// The side's file as written.
    pub file: String,
    pub frames: usize,
    pub minutes: f64,
    /// The level the side's length allows relative to the RIAA Standard Reference Level, dB.
    pub level_allowed_db: Option<f64>,
    pub minutes_over_reference: f64,
    pub songs: Vec<CutSheetSong>,
    /// The side's own warnings (its length); the songs' are with the songs.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CutSheetSong {
    /// Place in the album's running order, from 1.
    pub number: usize,
    pub name: String,
    /// First sample of the song in the side's file.
    pub start_frame: usize,
    pub frames: usize,
    pub integrated_lufs: f32,
    pub true_peak_dbtp: f32,
    pub plr_db: f32,
    /// Correlation below 300 Hz over the song (`None`: no low end).
    pub low_end_correlation: Option<f64>,
    /// Level above 10 kHz, dBFS.
    pub hf_level_dbfs: f64,
    /// The song's middle lies in the last third of the side.
    pub late_on_side: bool,
    /// RIAA pre-emphasised high-band peaks (the high-frequency limiter's detector).
    pub sibilance: super::checks::Sibilance,
    pub warnings: Vec<String>,
}

impl CutSheet {
    /// Every warning, side by side: each side's own, then its songs'.
    pub fn warnings(&self) -> Vec<String> {
        self.sides
            .iter()
            .flat_map(|s| {
                s.warnings
                    .iter()
                    .chain(s.songs.iter().flat_map(|song| &song.warnings))
                    .cloned()
            })
            .collect()
    }

    fn level_text(level: Option<f64>) -> String {
        level.map_or_else(
            || "past the chart".into(),
            |l| format!("{} dB re SRL", signed(l, 1)),
        )
    }

    /// The plain-text cut sheet.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "VINYL CUT SHEET - Fairmaster {}",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            t,
            "Format: {} (reference-level side {} min, longest {} min)",
            self.format.label,
            self.format.reference_minutes(),
            self.format.maximum_minutes()
        );
        let _ = writeln!(
            t,
            "Files: {}-bit WAV, {} Hz, stereo; {} s of silence between songs",
            self.bits, self.sample_rate, self.gap_seconds
        );
        let _ = writeln!(t, "Settings: {}", self.settings);
        for line in &self.processing {
            let _ = writeln!(t, "  - {line}");
        }
        for side in &self.sides {
            let _ = writeln!(
                t,
                "\nSIDE {}  {}  length {} ({} samples)  level allowed {}",
                side.letter,
                side.file,
                timestamp(side.frames, self.sample_rate),
                side.frames,
                Self::level_text(side.level_allowed_db)
            );
            let _ = writeln!(
                t,
                "  {:>3}  {:<28} {:>10} {:>11} {:>10} {:>7} {:>7} {:>5} {:>6} {:>6} {:>5}",
                "#",
                "Song",
                "Start",
                "(samples)",
                "Length",
                "LUFS",
                "dBTP",
                "PLR",
                "r<300",
                "HF dB",
                "RIAA"
            );
            for song in &side.songs {
                let name: String = song.name.chars().take(28).collect();
                let _ = writeln!(
                    t,
                    "  {:>3}  {:<28} {:>10} {:>11} {:>10} {:>7} {:>7} {:>5} {:>6} {:>6} {:>5}",
                    song.number,
                    name,
                    timestamp(song.start_frame, self.sample_rate),
                    song.start_frame,
                    timestamp(song.frames, self.sample_rate),
                    number(song.integrated_lufs, 1),
                    number(song.true_peak_dbtp, 1),
                    number(song.plr_db, 1),
                    song.low_end_correlation
                        .map_or_else(|| "-".into(), |r| signed(r, 2)),
                    number(song.hf_level_dbfs, 1),
                    number(song.sibilance.premaster_peak_db, 1),
                );
            }
        }
        let warnings = self.warnings();
        let _ = writeln!(t, "\nWARNINGS ({})", warnings.len());
        if warnings.is_empty() {
            let _ = writeln!(t, "  none");
        }
        for w in &warnings {
            let _ = writeln!(t, "  ! {w}");
        }
        let _ = writeln!(
            t,
            "\nStart: m:ss.fff from the side file's first sample (exact sample in brackets). \
             r<300: stereo correlation below 300 Hz. HF dB: level above 10 kHz (dBFS). RIAA: \
             peak of the RIAA pre-emphasised treble above 5 kHz (dBFS; the high-frequency \
             limiter's detector). Level allowed: the side's length on \
             the cutting chart (RIAA Standard Reference Level); set at the lathe, the files are \
             not turned down."
        );
        t
    }

    /// The HTML cut sheet (self-contained, the listening report's style).
    pub fn to_html(&self) -> String {
        let mut h = String::with_capacity(32 * 1024);
        let title = format!("Vinyl cut sheet: {}", self.format.label);
        document_start(&mut h, &title);
        let _ = writeln!(
            h,
            "<p class=\"muted\">Fairmaster {} &middot; {}-bit WAV, {} Hz, stereo, one file per \
             side, {} s of silence between songs &middot; reference-level side {} min, longest \
             {} min (cutting chart at the RIAA Standard Reference Level)</p>",
            env!("CARGO_PKG_VERSION"),
            self.bits,
            self.sample_rate,
            self.gap_seconds,
            self.format.reference_minutes(),
            self.format.maximum_minutes()
        );
        let mut processing = String::new();
        for line in &self.processing {
            let _ = write!(processing, "<li>{}</li>", escape(line));
        }
        let _ = writeln!(
            h,
            "<section class=\"card\"><p>Settings: <b>{}</b></p><ul class=\"small\">{processing}\
             </ul></section>",
            escape(&self.settings)
        );
        let warnings = self.warnings();
        let _ = writeln!(h, "<h2>Warnings</h2><section class=\"card\">");
        if warnings.is_empty() {
            let _ = writeln!(h, "<p class=\"ok\">None.</p>");
        } else {
            let _ = write!(h, "<ul class=\"warnings\">");
            for w in &warnings {
                let _ = write!(h, "<li>{}</li>", escape(w));
            }
            let _ = writeln!(h, "</ul>");
        }
        let _ = writeln!(h, "</section>");
        for side in &self.sides {
            let class = match side.level_allowed_db {
                None => "bad",
                Some(_) if side.minutes_over_reference > 0.0 => "warn",
                Some(_) => "ok",
            };
            let _ = writeln!(
                h,
                "<h2 id=\"side-{l}\">Side {l}</h2>\n<section class=\"card\"><p><code>{}</code> \
                 &middot; length <b>{}</b> ({} samples) &middot; level allowed <b class=\"{class}\">\
                 {}</b></p>",
                escape(&side.file),
                timestamp(side.frames, self.sample_rate),
                side.frames,
                escape(&Self::level_text(side.level_allowed_db)),
                l = side.letter,
            );
            let mut rows = String::new();
            for song in &side.songs {
                let late = if song.late_on_side { " (late)" } else { "" };
                let _ = writeln!(
                    rows,
                    "<tr><td>{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
                     <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{late}</td><td>{}</td></tr>",
                    song.number,
                    escape(&song.name),
                    timestamp(song.start_frame, self.sample_rate),
                    song.start_frame,
                    timestamp(song.frames, self.sample_rate),
                    number(song.integrated_lufs, 1),
                    number(song.true_peak_dbtp, 1),
                    number(song.plr_db, 1),
                    song.low_end_correlation
                        .map_or_else(|| "&ndash;".into(), |r| signed(r, 2)),
                    number(song.hf_level_dbfs, 1),
                    number(song.sibilance.premaster_peak_db, 1),
                );
            }
            let _ = writeln!(
                h,
                "<table>\n<thead><tr><th>#</th><th class=\"text\">Song</th><th>Start</th>\
                 <th>Sample</th><th>Length</th><th>LUFS</th><th>dBTP</th><th>PLR</th>\
                 <th>r &lt;300 Hz</th><th>&gt;10 kHz</th><th>RIAA peak</th></tr></thead>\n<tbody>\n\
                 {rows}</tbody>\n</table>"
            );
            let side_warnings: Vec<&String> = side
                .warnings
                .iter()
                .chain(side.songs.iter().flat_map(|s| &s.warnings))
                .collect();
            if !side_warnings.is_empty() {
                let _ = write!(h, "<ul class=\"warnings\">");
                for w in side_warnings {
                    let _ = write!(h, "<li>{}</li>", escape(w));
                }
                let _ = writeln!(h, "</ul>");
            }
            let _ = writeln!(h, "</section>");
        }
        let _ = writeln!(
            h,
            "<p class=\"muted small\" style=\"margin-top:28px\">Start: from the side file's \
             first sample (Sample: its index). LUFS: integrated loudness; dBTP: true peak; r \
             &lt;300 Hz: stereo correlation below 300 Hz; &gt;10 kHz: level above 10 kHz (dBFS, \
             \"late\": the song's middle in the side's last third); RIAA peak: the RIAA \
             pre-emphasised treble's peak above the high-frequency limiter's split (dBFS). The level allowed is the side's length read on the cutting \
             chart; it is set at the lathe: the files are not turned down. Loudness per ITU-R \
             BS.1770-4; PLR = true peak &minus; integrated loudness. This page is \
             self-contained.</p>\n</main>\n</body>\n</html>"
        );
        h
    }
}

/// `m:ss.fff` of `frames` at `sample_rate`, rounded to the millisecond (minutes run past 59).
pub fn timestamp(frames: usize, sample_rate: u32) -> String {
    let ms = (frames as u128 * 1000 + u128::from(sample_rate) / 2) / u128::from(sample_rate.max(1));
    format!("{}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_exact_to_the_millisecond() {
        assert_eq!(timestamp(0, 44_100), "0:00.000");
        assert_eq!(timestamp(44_100 * 61 + 441, 44_100), "1:01.010");
        // 59.9996 s rounds up to the next minute, never "0:60.000".
        assert_eq!(timestamp(2_879_980, 48_000), "1:00.000");
        assert_eq!(timestamp(48_000 * 60 * 25, 48_000), "25:00.000");
    }
}
