//! `report.html` of a listening pack ([`super::pack`]): one self-contained page, readable
//! anywhere without network access. No scripts, fonts, images or style sheets are loaded: the
//! style is inline and every chart is SVG written here (the drawing in `charts`, the number and
//! text formatting in `text`), so the file can be mailed, opened from a USB stick or archived
//! with the master.
//!
//! Per song: the loudness figures of original, master and reference (BS.1770-4 integrated
//! loudness, EBU Tech 3342 loudness range, true peak, PLR), the delivery target, the renderer's
//! dynamics warnings, loudness over time (EBU Tech 3341 momentary and short-term), tonal
//! balance (1/6-octave long-term spectrum relative to loudness, `analysis::tonal`) with the
//! per-third-octave differences, gain-reduction histograms of compressor and limiter, and what
//! each streaming service's loudness normalisation does to the master. An album report starts
//! with a table of every song and the album's loudness spread.

use std::fmt::Write as _;

use super::analysis::{analyse, Analysis, LoudnessCurve};
use super::pack_contents::{PackSong, SongPackSummary, Source, BLIND_FILE, BLIND_KEY_FILE};
use super::render::GR_BLOCK;
use super::Audio;
use crate::analysis::tonal::{analyse_stereo, third_centre_hz, TonalBalance};
use crate::dsp::meters::true_peak::{TRUE_PEAK_PHASES, TRUE_PEAK_TAPS};
use crate::targets::{UpGain, PLATFORMS};

mod charts;
mod text;

use charts::{frequency_ticks, linear_ticks, nice_ceiling, time_ticks, Chart, ChartIds, Scale};
// Public as `html_report::escape` before the text helpers got their module; kept there.
use text::clock;
pub use text::escape;
// Shared with the vinyl cut sheet.
pub(crate) use text::{number, signed};

/// One song's report input: the song, what the pack wrote for it and its loudness curves.
pub struct ReportSong<'a> {
    pub song: &'a PackSong<'a>,
    /// The song's folder relative to the report (`""` for a single-song pack).
    pub folder: String,
    pub summary: &'a SongPackSummary,
    pub original_curve: &'a LoudnessCurve,
    pub master_curve: &'a LoudnessCurve,
}

/// The reference track, decoded at the songs' rate.
pub struct ReportReference<'a> {
    pub name: &'a str,
    pub audio: &'a Audio,
    pub curve: &'a LoudnessCurve,
}

/// A loudness curve is drawn with at most this many points (the chart is ~1000 px wide, so
/// more cannot be seen; it also keeps an album report well under 2 MB).
const MAX_CURVE_POINTS: usize = 900;
/// Gain-reduction histogram bin width.
const HISTOGRAM_BIN_DB: f64 = 0.5;
/// Peak level that lossy encoding needs as headroom (EBU R 128 s1, AES TD1008).
const LOSSY_TRUE_PEAK_LIMIT_DBTP: f32 = -1.0;
/// A service playing a master this much below its reference level is worth a note.
const QUIETER_THAN_REFERENCE_LU: f32 = 0.5;

const COLOUR_ORIGINAL: &str = "#9fb3cc";
const COLOUR_MASTER: &str = "#ffb347";
const COLOUR_REFERENCE: &str = "#4fc3f7";
const COLOUR_COMPRESSOR: &str = "#b39dfa";
const COLOUR_LIMITER: &str = "#f47c7c";

/// The page style, shared with the vinyl cut sheet (`offline::vinyl::cut_sheet`).
/// Opens a self-contained page in the report's style: the head with [`STYLE`], `<main>` and the
/// title as its heading. The listening report and the vinyl cut sheet both start so.
pub(crate) fn document_start(html: &mut String, title: &str) {
    let title = escape(title);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    );
    let _ = writeln!(html, "<h1>{title}</h1>");
}

pub(crate) const STYLE: &str = "
:root{color-scheme:dark}
*{box-sizing:border-box}
body{margin:0;background:#101317;color:#e4e8ee;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:26px;font-weight:650;margin:0 0 4px;letter-spacing:.2px}
h2{font-size:21px;font-weight:650;margin:40px 0 6px;padding-top:18px;border-top:1px solid #2a313b}
h3{font-size:15px;font-weight:600;margin:22px 0 8px;color:#c9d1dc;text-transform:uppercase;letter-spacing:.8px}
p{margin:6px 0}
.muted{color:#98a3b3}
.small{font-size:13px}
section.card{background:#171b21;border:1px solid #262d36;border-radius:10px;padding:16px 20px;margin:14px 0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid #262d36;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{color:#98a3b3;font-weight:600;font-size:13px}
td.text,th.text{text-align:left;white-space:normal}
.ok{color:#7ad39a}
.warn{color:#ffcc66}
.bad{color:#ff8a80}
ul.warnings{margin:6px 0;padding-left:20px;color:#ffcc66}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:2px 0 6px;font-size:13px;color:#c9d1dc}
.legend span{display:inline-flex;align-items:center;gap:7px}
.legend i{display:inline-block;width:22px;height:0;border-top:3px solid}
.legend i.thin{border-top-width:1px}
.legend i.dash{border-top-style:dashed}
.legend i.box{height:10px;border:0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:18px}
svg{display:block;width:100%;height:auto}
svg text{fill:#aab4c2;font:12px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}
svg text.axis{fill:#c9d1dc;font-size:12.5px}
a{color:#8cc8ff}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#c9d1dc}
";

/// The whole report page.
pub fn render_report(songs: &[ReportSong], reference: Option<&ReportReference>) -> String {
    let reference_figures = reference.map(|r| {
        let (left, right) = r.audio.left_right();
        (
            analyse(r.audio),
            analyse_stereo(left, right, r.audio.sample_rate as f32),
        )
    });
    let mut charts = ChartIds::default();
    let mut html = String::with_capacity(256 * 1024);
    let title = match songs {
        [one] => format!("Listening pack: {}", one.song.name),
        _ => format!("Listening pack: album of {} songs", songs.len()),
    };
    document_start(&mut html, &title);
    let _ = writeln!(
        html,
        "<p class=\"muted\">Fairmaster {} &middot; loudness per ITU-R BS.1770-4 and EBU R 128 \
         (Tech 3341 momentary/short-term, Tech 3342 loudness range); true peak by {}x \
         oversampling with a {}-tap Kaiser-windowed sinc per phase and parabolic refinement \
         (finer than the BS.1770-4 Annex 2 4x filter, which under-reads clipped material).</p>",
        env!("CARGO_PKG_VERSION"),
        TRUE_PEAK_PHASES,
        TRUE_PEAK_TAPS
    );
    html.push_str(&how_to_listen(songs, reference));

    let measured: Vec<SongFigures> = songs.iter().map(SongFigures::measure).collect();
    if songs.len() > 1 {
        html.push_str(&album_table(songs, &measured));
    }
    for (song, figures) in songs.iter().zip(&measured) {
        html.push_str(&song_section(
            song,
            figures,
            reference,
            reference_figures.as_ref(),
            &mut charts,
        ));
    }
    html.push_str(
        "<p class=\"muted small\" style=\"margin-top:36px\">This page is self-contained: no \
         network access, scripts or external files.</p>\n</main>\n</body>\n</html>\n",
    );
    html
}

/// Measurements of one song (original and master).
struct SongFigures {
    original: Analysis,
    master: Analysis,
    original_tonal: Option<TonalBalance>,
    master_tonal: Option<TonalBalance>,
}

impl SongFigures {
    fn measure(song: &ReportSong) -> Self {
        let tonal = |audio: &Audio| {
            let (left, right) = audio.left_right();
            analyse_stereo(left, right, audio.sample_rate as f32)
        };
        Self {
            original: analyse(song.song.original),
            master: analyse(song.song.master),
            original_tonal: tonal(song.song.original),
            master_tonal: tonal(song.song.master),
        }
    }
}

fn how_to_listen(songs: &[ReportSong], reference: Option<&ReportReference>) -> String {
    let excerpt = songs
        .first()
        .and_then(|s| s.summary.excerpts.first())
        .map_or(0.0, |e| e.duration_seconds);
    let segment = songs
        .first()
        .and_then(|s| s.summary.blind_order.first())
        .map_or(0.0, |b| b.duration_seconds);
    let versions = if reference.is_some() {
        "original, master and reference"
    } else {
        "original and master"
    };
    let reference_line = reference.map_or(String::new(), |r| {
        format!(" Reference: <b>{}</b>.", escape(r.name))
    });
    format!(
        "<section class=\"card\"><p><b>How to listen.</b> Each song has {versions} excerpts of \
         {excerpt:.0} s (the master's loudest passage by short-term loudness), all matched to \
         one integrated loudness with no peak above -1 dBFS: set the volume once and switch. \
         <code>blind.wav</code> alternates the versions every {segment:.0} s in a shuffled \
         order; write down what you hear, then read <code>blind-key.txt</code>.{reference_line}\
         </p></section>\n"
    )
}

fn album_table(songs: &[ReportSong], measured: &[SongFigures]) -> String {
    let mut rows = String::new();
    for (i, (song, f)) in songs.iter().zip(measured).enumerate() {
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td class=\"text\"><a href=\"#song-{}\">{}</a></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            i + 1,
            escape(song.song.name),
            number(f.master.integrated_lufs, 1),
            number(f.master.loudness_range_lu, 1),
            number(f.master.true_peak_dbtp, 1),
            number(f.master.plr_db, 1),
            number(f.original.integrated_lufs, 1),
        );
    }
    let loudness: Vec<f64> = measured
        .iter()
        .map(|f| f64::from(f.master.integrated_lufs))
        .filter(|v| v.is_finite())
        .collect();
    let spread = super::album::spread_lu(&loudness);
    format!(
        "<h2>Album</h2>\n<section class=\"card\"><table>\n<thead><tr><th>#</th>\
         <th class=\"text\">Song</th><th>Integrated (LUFS)</th><th>LRA (LU)</th>\
         <th>True peak (dBTP)</th><th>PLR (dB)</th><th>Mix (LUFS)</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n<p>Album loudness spread (loudest minus quietest \
         master): <b>{} LU</b></p></section>\n",
        number(spread, 1)
    )
}

fn song_section(
    song: &ReportSong,
    figures: &SongFigures,
    reference: Option<&ReportReference>,
    reference_figures: Option<&(Analysis, Option<TonalBalance>)>,
    charts: &mut ChartIds,
) -> String {
    let mut html = String::new();
    let _ = writeln!(
        html,
        "<h2 id=\"song-{}\">{}</h2>",
        song_number(song),
        escape(song.song.name)
    );
    html.push_str(&excerpt_line(song));
    html.push_str(&figures_table(
        song,
        figures,
        reference_figures.map(|r| &r.0),
    ));
    if !song.song.warnings.is_empty() {
        html.push_str("<ul class=\"warnings\">\n");
        for w in song.song.warnings {
            let _ = writeln!(html, "<li>{}</li>", escape(w));
        }
        html.push_str("</ul>\n");
    }
    html.push_str(&loudness_chart(song, reference, charts));
    html.push_str(&tonal_charts(
        figures,
        reference_figures.and_then(|r| r.1.as_ref()),
        charts,
    ));
    html.push_str(&gain_reduction_charts(song, charts));
    html.push_str(&platform_table(&figures.master));
    html
}

/// The song's position in an album (`NN-` of its folder), 1 for a single song.
fn song_number(song: &ReportSong) -> usize {
    song.folder
        .split('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

fn excerpt_line(song: &ReportSong) -> String {
    let summary = song.summary;
    let span = |source: Source| {
        summary
            .excerpts
            .iter()
            .find(|e| e.source == source)
            .map(|e| {
                format!(
                    "{}&ndash;{}",
                    clock(e.start_seconds),
                    clock(e.start_seconds + e.duration_seconds)
                )
            })
    };
    let prefix = if song.folder.is_empty() {
        String::new()
    } else {
        format!("{}/", song.folder)
    };
    let files: Vec<String> = summary
        .excerpts
        .iter()
        .map(|e| e.source.excerpt_file_name())
        .chain([BLIND_FILE.to_string(), BLIND_KEY_FILE.to_string()])
        .map(|f| {
            let path = format!("{prefix}{f}");
            format!("<a href=\"{}\">{}</a>", escape(&path), escape(&path))
        })
        .collect();
    let reference = span(Source::Reference).map_or(String::new(), |s| {
        format!("; reference {s} (its own loudest passage)")
    });
    format!(
        "<p>Excerpt {} of the mix and the master{reference}, matched to <b>{} LUFS</b>.</p>\n\
         <p class=\"muted small\">Files: {}</p>\n",
        span(Source::Master).unwrap_or_default(),
        number(summary.matched_lufs, 1),
        files.join(" &middot; ")
    )
}

fn figures_table(song: &ReportSong, f: &SongFigures, reference: Option<&Analysis>) -> String {
    let mut head = String::from(
        "<th class=\"text\"></th><th>Original</th><th>Master</th><th>Master &minus; original</th>",
    );
    if reference.is_some() {
        head.push_str("<th>Reference</th>");
    }
    type Figure = fn(&Analysis) -> f32;
    let rows: [(&str, Figure); 5] = [
        ("Integrated loudness (LUFS)", |a| a.integrated_lufs),
        ("Loudness range (LU)", |a| a.loudness_range_lu),
        ("True peak (dBTP)", |a| a.true_peak_dbtp),
        ("Sample peak (dBFS)", |a| a.sample_peak_dbfs),
        ("Peak-to-loudness ratio (dB)", |a| a.plr_db),
    ];
    let mut body = String::new();
    for (label, get) in rows {
        let _ = write!(
            body,
            "<tr><td>{label}</td><td>{}</td><td><b>{}</b></td><td>{}</td>",
            number(get(&f.original), 1),
            number(get(&f.master), 1),
            signed(get(&f.master) - get(&f.original), 1),
        );
        if let Some(r) = reference {
            let _ = write!(body, "<td>{}</td>", number(get(r), 1));
        }
        body.push_str("</tr>\n");
    }
    let target = song.song.target.map_or(String::new(), |(lufs, ceiling)| {
        let error = f64::from(f.master.integrated_lufs) - lufs;
        let loudness_met = error.abs() <= super::render::TARGET_ACCEPTANCE_LU;
        let peak_met = f.master.true_peak_dbtp <= ceiling;
        let verdict = if loudness_met && peak_met {
            "<span class=\"ok\">met</span>".to_string()
        } else {
            let mut misses = Vec::new();
            if !loudness_met {
                misses.push(format!("loudness off by {} LU", signed(error, 1)));
            }
            if !peak_met {
                misses.push(format!(
                    "true peak {} dB over the ceiling",
                    number(f.master.true_peak_dbtp - ceiling, 2)
                ));
            }
            format!("<span class=\"bad\">missed: {}</span>", misses.join(", "))
        };
        format!(
            "<p>Target: {} LUFS integrated, ceiling {} dBTP &mdash; {verdict} (master {} LUFS, \
             {} dBTP; acceptance &plusmn;{} LU).</p>\n",
            number(lufs, 1),
            number(ceiling, 1),
            number(f.master.integrated_lufs, 1),
            number(f.master.true_peak_dbtp, 1),
            super::render::TARGET_ACCEPTANCE_LU
        )
    });
    format!(
        "<section class=\"card\"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\
         </tbody>\n</table>\n{target}</section>\n"
    )
}

fn loudness_chart(
    song: &ReportSong,
    reference: Option<&ReportReference>,
    charts: &mut ChartIds,
) -> String {
    let curves: Vec<(&LoudnessCurve, &str, bool)> = [
        Some((song.original_curve, COLOUR_ORIGINAL, false)),
        Some((song.master_curve, COLOUR_MASTER, false)),
        reference.map(|r| (r.curve, COLOUR_REFERENCE, true)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let duration = curves
        .iter()
        .map(|(c, _, _)| c.step_seconds * c.short_term_lufs.len() as f64)
        .fold(1.0, f64::max);
    let finite = curves
        .iter()
        .flat_map(|(c, _, _)| c.short_term_lufs.iter().chain(&c.momentary_lufs))
        .copied()
        .filter(|v| v.is_finite())
        .map(f64::from);
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let top = if high.is_finite() {
        ((high + 1.0) / 3.0).ceil() * 3.0
    } else {
        0.0
    };
    let bottom = if low.is_finite() {
        (((low - 3.0) / 6.0).floor() * 6.0).max(top - 48.0)
    } else {
        top - 48.0
    };
    let mut chart = Chart::new(
        charts.next(),
        Scale::linear(0.0, duration),
        Scale::linear(bottom, top),
        1080.0,
        340.0,
    );
    chart.x_ticks = time_ticks(duration);
    chart.y_ticks = linear_ticks(bottom, top, 8, 0);
    chart.x_label = "Time (m:ss)".into();
    chart.y_label = "Loudness (LUFS)".into();
    if let Some(e) = song
        .summary
        .excerpts
        .iter()
        .find(|e| e.source == Source::Master)
    {
        chart.span(
            e.start_seconds,
            e.start_seconds + e.duration_seconds,
            COLOUR_MASTER,
            0.10,
        );
        chart.label(e.start_seconds, top, "excerpt", COLOUR_MASTER);
    }
    for (curve, colour, dashed) in &curves {
        let dash = if *dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        chart.line(
            &downsample(&curve.momentary_lufs, curve.step_seconds),
            &format!("stroke=\"{colour}\" stroke-width=\"1\" stroke-opacity=\"0.35\"{dash}"),
        );
    }
    for (curve, colour, dashed) in &curves {
        let dash = if *dashed {
            " stroke-dasharray=\"7 4\""
        } else {
            ""
        };
        chart.line(
            &downsample(&curve.short_term_lufs, curve.step_seconds),
            &format!("stroke=\"{colour}\" stroke-width=\"2\"{dash}"),
        );
    }
    let mut legend = vec![
        legend_line(COLOUR_ORIGINAL, "", "Original"),
        legend_line(COLOUR_MASTER, "", "Master"),
    ];
    if reference.is_some() {
        legend.push(legend_line(
            COLOUR_REFERENCE,
            "dash",
            "Reference (its own timeline)",
        ));
    }
    legend.push(legend_line("#c9d1dc", "", "short-term (3 s)"));
    legend.push(legend_line("#c9d1dc", "thin", "momentary (400 ms)"));
    legend.push(legend_box(COLOUR_MASTER, 0.25, "listening excerpt"));
    format!(
        "<h3>Loudness over time</h3>\n<div class=\"legend\">{}</div>\n{}\n",
        legend.join(""),
        chart.finish("Momentary and short-term loudness over time")
    )
}

fn tonal_charts(
    figures: &SongFigures,
    reference: Option<&TonalBalance>,
    charts: &mut ChartIds,
) -> String {
    let balances: Vec<(&TonalBalance, &str, bool, &str)> = [
        figures
            .original_tonal
            .as_ref()
            .map(|t| (t, COLOUR_ORIGINAL, false, "Original")),
        figures
            .master_tonal
            .as_ref()
            .map(|t| (t, COLOUR_MASTER, false, "Master")),
        reference.map(|t| (t, COLOUR_REFERENCE, true, "Reference")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if balances.is_empty() {
        return "<h3>Tonal balance</h3>\n<p class=\"muted\">Too short or too quiet for a tonal \
                balance.</p>\n"
            .into();
    }
    let levels = balances
        .iter()
        .flat_map(|(t, ..)| t.sixth.iter().flatten())
        .map(|b| b.level_db);
    let (low, high) = levels.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let top = ((high + 6.0) / 6.0).ceil() * 6.0;
    let bottom = (((low - 12.0) / 6.0).floor() * 6.0).max(top - 66.0);
    let mut chart = Chart::new(
        charts.next(),
        Scale::log(20.0, 20_000.0),
        Scale::linear(bottom, top),
        1080.0,
        340.0,
    );
    chart.x_ticks = frequency_ticks();
    chart.y_ticks = linear_ticks(bottom, top, 8, 0);
    chart.x_label = "Frequency (Hz), 1/6-octave bands".into();
    chart.y_label = "Level re loudness (dB)".into();
    // Only the master's 10-90 % range is shaded: three overlapping ranges hide the curves.
    for (t, colour, ..) in balances.iter().filter(|(_, c, ..)| *c == COLOUR_MASTER) {
        let band: Vec<(f64, f64, f64)> = t
            .sixth
            .iter()
            .flatten()
            .map(|b| (b.centre_hz, b.p10_db, b.p90_db))
            .collect();
        chart.area(&band, colour, 0.16);
    }
    for (t, colour, dashed, _) in &balances {
        let points: Vec<(f64, f64)> = t
            .sixth
            .iter()
            .flatten()
            .map(|b| (b.centre_hz, b.level_db))
            .collect();
        let dash = if *dashed {
            " stroke-dasharray=\"7 4\""
        } else {
            ""
        };
        chart.line(
            &points,
            &format!("stroke=\"{colour}\" stroke-width=\"2\"{dash}"),
        );
    }
    let mut legend: Vec<String> = balances
        .iter()
        .map(|(_, colour, dashed, name)| {
            legend_line(colour, if *dashed { "dash" } else { "" }, name)
        })
        .collect();
    legend.push(legend_box(
        COLOUR_MASTER,
        0.3,
        "Master: 10–90 % range of its frames",
    ));

    // Differences per third-octave band.
    let master = figures.master_tonal.as_ref();
    let versus_original = match (master, figures.original_tonal.as_ref()) {
        (Some(m), Some(o)) => m.third_octave_delta_db(o),
        _ => Vec::new(),
    };
    let versus_reference = match (master, reference) {
        (Some(m), Some(r)) => m.third_octave_delta_db(r),
        _ => Vec::new(),
    };
    let largest = versus_original
        .iter()
        .chain(&versus_reference)
        .flatten()
        .fold(0.0f64, |m, d| m.max(d.abs()));
    let limit = (largest + 0.5).ceil().clamp(3.0, 24.0);
    let mut delta = Chart::new(
        charts.next(),
        Scale::log(20.0, 20_000.0),
        Scale::linear(-limit, limit),
        1080.0,
        260.0,
    );
    delta.x_ticks = frequency_ticks();
    delta.y_ticks = linear_ticks(-limit, limit, 7, 0);
    delta.x_label = "Frequency (Hz), third-octave bands".into();
    delta.y_label = "Difference (dB)".into();
    delta.hline(0.0, "stroke=\"#6b7685\" stroke-width=\"1\"");
    let sixth_octave = 2f64.powf(1.0 / 6.0);
    let gap = 2f64.powf(1.0 / 48.0);
    let series = [
        (&versus_original, COLOUR_ORIGINAL, 0),
        (&versus_reference, COLOUR_REFERENCE, 1),
    ];
    let both = !versus_reference.is_empty();
    for (deltas, colour, slot) in series {
        for (k, d) in deltas.iter().enumerate() {
            let Some(d) = d else { continue };
            let centre = third_centre_hz(k);
            let (x0, x1) = match (both, slot) {
                (false, _) => (centre / sixth_octave * gap, centre * sixth_octave / gap),
                (true, 0) => (centre / sixth_octave * gap, centre),
                (true, _) => (centre, centre * sixth_octave / gap),
            };
            delta.bar(x0, x1, 0.0, *d, colour);
        }
    }
    let mut delta_legend = vec![legend_box(COLOUR_ORIGINAL, 1.0, "Master − original")];
    if both {
        delta_legend.push(legend_box(COLOUR_REFERENCE, 1.0, "Master − reference"));
    }
    format!(
        "<h3>Tonal balance</h3>\n<p class=\"muted small\">Long-term average spectrum, each \
         version relative to its own integrated loudness (so the shapes compare, not the \
         levels); quiet passages more than 20 LU below are left out.</p>\n\
         <div class=\"legend\">{}</div>\n{}\n<div class=\"legend\">{}</div>\n{}\n",
        legend.join(""),
        chart.finish("Tonal balance: 1/6-octave levels relative to loudness"),
        delta_legend.join(""),
        delta.finish("Tonal differences per third-octave band")
    )
}

fn gain_reduction_charts(song: &ReportSong, charts: &mut ChartIds) -> String {
    let trace = song.song.gain_reduction_trace;
    if trace.is_empty() {
        return String::new();
    }
    let block_ms = 1000.0 * GR_BLOCK as f64 / f64::from(song.song.master.sample_rate.max(1));
    let mut cells = Vec::new();
    for (lane, name, colour) in [
        (0usize, "Compressor", COLOUR_COMPRESSOR),
        (1, "Limiter", COLOUR_LIMITER),
    ] {
        let values: Vec<f64> = trace
            .iter()
            .map(|r| f64::from(r[lane]))
            .map(|v| if v.is_finite() { v.max(0.0) } else { 0.0 })
            .collect();
        let max = values.iter().copied().fold(0.0f64, f64::max);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let active =
            values.iter().filter(|&&v| v > HISTOGRAM_BIN_DB).count() as f64 / values.len() as f64;
        let range = (max / HISTOGRAM_BIN_DB).ceil().clamp(6.0, 60.0) * HISTOGRAM_BIN_DB;
        let bins = (range / HISTOGRAM_BIN_DB).round() as usize;
        let mut counts = vec![0usize; bins];
        for v in &values {
            let bin = ((v / HISTOGRAM_BIN_DB).floor() as usize).min(bins - 1);
            counts[bin] += 1;
        }
        let percent: Vec<f64> = counts
            .iter()
            .map(|&c| 100.0 * c as f64 / values.len() as f64)
            .collect();
        let top = nice_ceiling(percent.iter().copied().fold(1.0, f64::max));
        let mut chart = Chart::new(
            charts.next(),
            Scale::linear(0.0, range),
            Scale::linear(0.0, top),
            530.0,
            260.0,
        );
        chart.x_ticks = linear_ticks(0.0, range, 7, 1);
        chart.y_ticks = linear_ticks(0.0, top, 5, 0);
        chart.x_label = "Gain reduction (dB), 0.5 dB bins".into();
        chart.y_label = "Time (%)".into();
        for (i, p) in percent.iter().enumerate() {
            if *p > 0.0 {
                let x0 = i as f64 * HISTOGRAM_BIN_DB;
                chart.bar(x0 + 0.04, x0 + HISTOGRAM_BIN_DB - 0.04, 0.0, *p, colour);
            }
        }
        cells.push(format!(
            "<div><div class=\"legend\">{}<span class=\"muted\">max {} dB &middot; mean {} dB \
             &middot; above 0.5 dB {} % of the time</span></div>\n{}</div>",
            legend_box(colour, 1.0, name),
            number(max, 1),
            number(mean, 1),
            number(100.0 * active, 0),
            chart.finish(&format!("{name} gain-reduction histogram"))
        ));
    }
    format!(
        "<h3>Gain reduction</h3>\n<p class=\"muted small\">Share of the song spent at each \
         amount of gain reduction (each reading the maximum of a {block_ms:.1} ms block).</p>\n\
         <div class=\"pair\">{}</div>\n",
        cells.join("\n")
    )
}

fn platform_table(master: &Analysis) -> String {
    let mut rows = String::new();
    for platform in &PLATFORMS {
        let Some(gain) =
            platform.normalisation_gain_db(master.integrated_lufs, master.true_peak_dbtp)
        else {
            let _ = writeln!(
                rows,
                "<tr><td>{}</td><td>{}</td><td colspan=\"4\" class=\"text muted\">no \
                 measurable loudness</td></tr>",
                escape(platform.name),
                number(platform.reference_lufs, 0)
            );
            continue;
        };
        let plays_at = master.integrated_lufs + gain;
        let peak_after = master.true_peak_dbtp + gain;
        let mut notes = Vec::new();
        if peak_after > LOSSY_TRUE_PEAK_LIMIT_DBTP {
            notes.push(format!(
                "<span class=\"bad\">true peak above {} dBTP: may clip after lossy encoding</span>",
                number(LOSSY_TRUE_PEAK_LIMIT_DBTP, 0)
            ));
        }
        let short = platform.reference_lufs - plays_at;
        if short > QUIETER_THAN_REFERENCE_LU {
            let why = match platform.up_gain {
                UpGain::None => "never turns up",
                UpGain::PeakLimited => "up-gain stops at -1 dBTP",
            };
            notes.push(format!(
                "<span class=\"warn\">plays {} LU below its other tracks ({why})</span>",
                number(short, 1)
            ));
        }
        if notes.is_empty() {
            notes.push("<span class=\"ok\">OK</span>".into());
        }
        let action = if gain < -0.05 {
            format!("turned down {} dB", number(-gain, 1))
        } else if gain > 0.05 {
            format!("turned up {} dB", number(gain, 1))
        } else {
            "as is".into()
        };
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{action}</td><td>{}</td><td>{}</td>\
             <td class=\"text\">{}</td></tr>",
            escape(platform.name),
            number(platform.reference_lufs, 0),
            number(plays_at, 1),
            number(peak_after, 1),
            notes.join("; ")
        );
    }
    format!(
        "<h3>Streaming platforms</h3>\n<section class=\"card\"><table>\n<thead><tr>\
         <th>Service</th><th>Reference (LUFS)</th><th>Normalisation</th><th>Plays at (LUFS)</th>\
         <th>True peak after (dBTP)</th><th class=\"text\">Verdict</th></tr></thead>\n<tbody>\n\
         {rows}</tbody>\n</table>\n<p class=\"muted small\">Each service's default loudness \
         normalisation applied to the master. Every one of them streams a lossy codec (AAC, \
         Ogg Vorbis, Opus or MP3) to at least part of its listeners, and decoding can raise \
         peaks above the file's, hence the -1 dBTP limit (EBU R 128 s1, AES TD1008).</p>\
         </section>\n"
    )
}

fn legend_line(colour: &str, class: &str, label: &str) -> String {
    format!(
        "<span><i class=\"{class}\" style=\"border-top-color:{colour}\"></i>{}</span>",
        escape(label)
    )
}

fn legend_box(colour: &str, opacity: f64, label: &str) -> String {
    format!(
        "<span><i class=\"box\" style=\"background:{colour};opacity:{opacity}\"></i>{}</span>",
        escape(label)
    )
}

/// Power-mean downsampling of a loudness curve to at most [`MAX_CURVE_POINTS`] points
/// (loudness averages as energy, BS.1770). Incomplete windows (`NaN`) and silence give gaps.
fn downsample(values: &[f32], step_seconds: f64) -> Vec<(f64, f64)> {
    let per_point = values.len().div_ceil(MAX_CURVE_POINTS).max(1);
    values
        .chunks(per_point)
        .enumerate()
        .map(|(i, chunk)| {
            let end_seconds = ((i * per_point + chunk.len()) as f64) * step_seconds;
            if chunk.iter().any(|v| v.is_nan()) {
                return (end_seconds, f64::NAN);
            }
            let power = chunk
                .iter()
                .map(|&v| {
                    if v.is_finite() {
                        10f64.powf(f64::from(v) / 10.0)
                    } else {
                        0.0
                    }
                })
                .sum::<f64>()
                / chunk.len() as f64;
            let lufs = if power > 0.0 {
                10.0 * power.log10()
            } else {
                f64::NAN
            };
            (end_seconds, lufs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_mean_downsampling_keeps_a_steady_level_and_gaps() {
        let steady = vec![-14.0f32; 5000];
        let points = downsample(&steady, 0.1);
        assert!(points.len() <= MAX_CURVE_POINTS);
        assert!(points.iter().all(|(_, v)| (v + 14.0).abs() < 1e-9));
        let mut with_gap = vec![f32::NAN; 10];
        with_gap.extend([-20.0f32; 10]);
        let points = downsample(&with_gap, 0.1);
        assert!(points[0].1.is_nan() && (points[15].1 + 20.0).abs() < 1e-9);
    }
}
