//! Spectrum analyzer with the EQ curve and draggable band nodes.
//!
//! The audio thread only pushes mono-sum samples into two wait-free rings
//! ([`crate::shared_state::SpectrumProducer`]); the editor drains them once per frame and runs
//! the FFT here, on the GUI thread, at most once per frame and only while the window is open.
//! Display: log frequency 20 Hz–20 kHz, 1/6-octave bands (strongest bin of each band), +3 dB/octave tilt around 1 kHz
//! (music then reads roughly flat), fast rise and slow fall.
//!
//! Nodes: drag = frequency and gain (Shift = fine), scroll = Q, double-click = band on/off.
//! Every change goes through the host gestures.

use std::sync::Arc;

use egui::{
    epaint::Mesh, Align2, Color32, CornerRadius, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui,
    WidgetInfo,
};
use nice_plug::prelude::{BoolParam, FloatParam};
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::theme;
use super::widgets::Ctl;
use crate::dsp::filters::eq::{self, BandChannels, EqPath, EqSettings};
use crate::dsp::filters::match_curve::MatchCurve;
use crate::params::FairmasterParams;
use crate::shared_state::SpectrumConsumer;
use crate::stages::eq::EqModeParam;

/// FFT length (about 85 ms at 48 kHz).
pub const FFT_SIZE: usize = 4096;
/// Display points across 20 Hz–20 kHz.
pub const POINTS: usize = 240;
/// The display spans the EQ bands' frequency range.
pub const F_MIN: f32 = eq::FREQ_HZ.min;
pub const F_MAX: f32 = eq::FREQ_HZ.max;
/// Spectrum scale (dB, after tilt).
const SPEC_TOP_DB: f32 = 0.0;
const SPEC_BOTTOM_DB: f32 = -90.0;
/// EQ scale: the full gain range of the bands.
pub const EQ_RANGE_DB: f32 = eq::GAIN_DB.max;
/// Tilt of the display in dB per octave, around 1 kHz.
const TILT_DB_PER_OCT: f32 = 3.0;
/// Smoothing: half-width of the band each point covers, in octaves (1/6 octave in total).
const SMOOTH_HALF_OCT: f32 = 1.0 / 12.0;

/// Frequency of display point `k`.
pub fn point_freq(k: usize) -> f32 {
    F_MIN * (F_MAX / F_MIN).powf(k as f32 / (POINTS - 1) as f32)
}

/// Collects samples and turns them into smoothed display spectra.
pub struct Analyzer {
    consumer: Option<SpectrumConsumer>,
    /// The FFT and its buffers, built with the source ([`Self::set_source`]): an editor whose
    /// window never opened has neither.
    fft: Option<SpectrumFft>,
    /// For each display point: bin range, or fractional bin for interpolation.
    mapping: Vec<(usize, usize, f32)>,
    mapped_rate: f32,
    /// Smoothed display spectra in dB (input, output).
    pub display: [Vec<f32>; 2],
}

/// The analyzer's FFT state.
struct SpectrumFft {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    window_gain: f32,
    /// Circular histories of the last `FFT_SIZE` samples (input, output).
    history: [Vec<f32>; 2],
    write_pos: [usize; 2],
    fresh: [usize; 2],
    frame: Vec<f32>,
    bins: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

impl SpectrumFft {
    fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(FFT_SIZE);
        let window: Vec<f32> = (0..FFT_SIZE)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FFT_SIZE as f32).cos())
            .collect();
        let window_gain = window.iter().sum::<f32>();
        let bins = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            fft,
            window,
            window_gain,
            history: [vec![0.0; FFT_SIZE], vec![0.0; FFT_SIZE]],
            write_pos: [0; 2],
            fresh: [0; 2],
            frame: vec![0.0; FFT_SIZE],
            power: vec![0.0; FFT_SIZE / 2 + 1],
            bins,
            scratch,
        }
    }
}

impl Analyzer {
    pub fn new(consumer: Option<SpectrumConsumer>) -> Self {
        let mut analyzer = Self {
            consumer: None,
            fft: None,
            mapping: Vec::new(),
            mapped_rate: 0.0,
            display: [vec![SPEC_BOTTOM_DB; POINTS], vec![SPEC_BOTTOM_DB; POINTS]],
        };
        if let Some(consumer) = consumer {
            analyzer.set_source(consumer);
        }
        analyzer
    }

    /// Gives the analyzer its rings (and builds its FFT).
    pub fn set_source(&mut self, consumer: SpectrumConsumer) {
        self.consumer = Some(consumer);
        if self.fft.is_none() {
            self.fft = Some(SpectrumFft::new());
        }
    }

    pub fn has_source(&self) -> bool {
        self.consumer.is_some()
    }

    /// Drains the rings and updates the display spectra. `dt`: seconds since the last call.
    pub fn update(&mut self, sample_rate: f32, dt: f32) {
        let sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        if self.mapped_rate != sample_rate {
            self.map_points(sample_rate);
        }
        let (Some(consumer), Some(st)) = (self.consumer.as_mut(), self.fft.as_mut()) else {
            return;
        };
        for (which, ring) in [&mut consumer.input, &mut consumer.output]
            .into_iter()
            .enumerate()
        {
            let available = ring.slots();
            if let Ok(chunk) = ring.read_chunk(available) {
                let (a, b) = chunk.as_slices();
                for &x in a.iter().chain(b) {
                    let pos = st.write_pos[which];
                    st.history[which][pos] = if x.is_finite() { x } else { 0.0 };
                    st.write_pos[which] = (pos + 1) % FFT_SIZE;
                }
                st.fresh[which] += available;
                chunk.commit_all();
            }
        }
        for which in 0..2 {
            if st.fresh[which] > 0 {
                st.fresh[which] = 0;
                st.analyse(which, dt, &self.mapping, &mut self.display[which]);
            } else {
                // No new audio (transport stopped): let the display fall.
                for v in &mut self.display[which] {
                    *v = (*v - 30.0 * dt).max(SPEC_BOTTOM_DB);
                }
            }
        }
    }

    fn map_points(&mut self, sample_rate: f32) {
        let bin_hz = sample_rate / FFT_SIZE as f32;
        let last = FFT_SIZE / 2;
        self.mapping = (0..POINTS)
            .map(|k| {
                let f = point_freq(k);
                let lo = (f * 2f32.powf(-SMOOTH_HALF_OCT) / bin_hz).floor() as usize;
                let hi = (f * 2f32.powf(SMOOTH_HALF_OCT) / bin_hz).ceil() as usize;
                (lo.min(last), hi.min(last), (f / bin_hz).min(last as f32))
            })
            .collect();
        self.mapped_rate = sample_rate;
    }
}

impl SpectrumFft {
    /// One FFT of the latest `FFT_SIZE` samples of `which` into its `display` spectrum.
    fn analyse(
        &mut self,
        which: usize,
        dt: f32,
        mapping: &[(usize, usize, f32)],
        display: &mut [f32],
    ) {
        let start = self.write_pos[which];
        let history = &self.history[which];
        for (i, out) in self.frame.iter_mut().enumerate() {
            *out = history[(start + i) % FFT_SIZE] * self.window[i];
        }
        if self
            .fft
            .process_with_scratch(&mut self.frame, &mut self.bins, &mut self.scratch)
            .is_err()
        {
            return;
        }
        let norm = 2.0 / self.window_gain;
        for (p, c) in self.power.iter_mut().zip(&self.bins) {
            *p = c.norm_sqr() * norm * norm;
        }
        let rise = 1.0 - (-dt / 0.02).exp();
        let fall = 1.0 - (-dt / 0.35).exp();
        for (k, &(lo, hi, fbin)) in mapping.iter().enumerate() {
            // Wide bands: the strongest bin (a tone keeps its level); narrow: interpolate.
            let power = if hi > lo + 1 {
                self.power[lo..hi].iter().fold(0.0f32, |a, &b| a.max(b))
            } else {
                let i = (fbin.floor() as usize).min(self.power.len() - 2);
                let t = fbin - i as f32;
                self.power[i] * (1.0 - t) + self.power[i + 1] * t
            };
            let tilt = TILT_DB_PER_OCT * (point_freq(k) / 1000.0).log2();
            let db = (10.0 * power.max(1e-20).log10() + tilt).max(SPEC_BOTTOM_DB);
            let v = &mut display[k];
            let a = if db > *v { rise } else { fall };
            *v += (db - *v) * a;
        }
    }
}

/// Cached EQ response for the current settings.
#[derive(Default)]
pub struct EqCurveCache {
    key: Option<(EqSettings, MatchCurve, bool, u32)>,
    mid: Vec<f32>,
    side: Option<Vec<f32>>,
    /// Dynamic EQ: the mid curve at the dynamic bands' current gains (movement rounded to
    /// 0.1 dB, so a slow release does not redesign every frame), and what it was drawn for.
    moved_key: Option<(EqSettings, u32)>,
    moved_mid: Vec<f32>,
}

impl EqCurveCache {
    /// The curve of `settings` and the match EQ's `matched` curve (flat when the match is
    /// not in use: it runs in the linear-phase FIR only).
    fn update(
        &mut self,
        settings: &EqSettings,
        matched: &MatchCurve,
        enabled: bool,
        sample_rate: f32,
    ) {
        let key = (*settings, *matched, enabled, sample_rate as u32);
        if self.key.as_ref() == Some(&key) {
            return;
        }
        // Design the sections once per settings change, then evaluate every point.
        let response = settings.response(sample_rate as f64);
        let curve = |path| -> Vec<f32> {
            (0..POINTS)
                .map(|k| {
                    let f = point_freq(k) as f64;
                    (response.magnitude_db(f, path) + matched.magnitude_db(f, path)) as f32
                })
                .collect()
        };
        self.mid = curve(EqPath::Mid);
        let uses_ms = {
            let ch = [
                (settings.low_cut.enabled, settings.low_cut.channels),
                (settings.high_cut.enabled, settings.high_cut.channels),
                (settings.low_shelf.enabled, settings.low_shelf.channels),
                (settings.high_shelf.enabled, settings.high_shelf.channels),
            ];
            ch.iter()
                .copied()
                .chain(settings.bells.iter().map(|b| (b.enabled, b.channels)))
                .any(|(on, c)| on && c != BandChannels::Stereo)
                || matched.mid_db != matched.side_db
        };
        self.side = uses_ms.then(|| curve(EqPath::Side));
        self.key = Some(key);
    }

    /// Dynamic EQ: the curve with every dynamic band at its current gain, or `None` while no
    /// band moves (by 0.05 dB or more).
    fn moved(
        &mut self,
        settings: &EqSettings,
        movement_db: &[f32; eq::NUM_DYNAMIC],
        sample_rate: f32,
    ) -> Option<&[f32]> {
        if movement_db.iter().all(|m| m.abs() < 0.05) {
            return None;
        }
        let rounded = movement_db.map(|m| (m * 10.0).round() / 10.0);
        let moved = settings.with_movement(&rounded);
        let key = (moved, sample_rate as u32);
        if self.moved_key != Some(key) {
            let response = moved.response(sample_rate as f64);
            self.moved_mid = (0..POINTS)
                .map(|k| response.magnitude_db(point_freq(k) as f64, EqPath::Mid) as f32)
                .collect();
            self.moved_key = Some(key);
        }
        Some(&self.moved_mid)
    }
}

/// Geometry of the plot.
#[derive(Clone, Copy)]
pub struct Plot {
    pub rect: Rect,
}

impl Plot {
    pub fn x(&self, freq: f32) -> f32 {
        let t = (freq.max(1.0) / F_MIN).ln() / (F_MAX / F_MIN).ln();
        self.rect.left() + t * self.rect.width()
    }
    pub fn freq(&self, x: f32) -> f32 {
        let t = (x - self.rect.left()) / self.rect.width();
        F_MIN * (F_MAX / F_MIN).powf(t)
    }
    pub fn y_eq(&self, db: f32) -> f32 {
        let t =
            (db.clamp(-EQ_RANGE_DB * 1.2, EQ_RANGE_DB * 1.2) + EQ_RANGE_DB) / (2.0 * EQ_RANGE_DB);
        self.rect.bottom() - t * self.rect.height()
    }
    pub fn y_spec(&self, db: f32) -> f32 {
        let t = (db - SPEC_BOTTOM_DB) / (SPEC_TOP_DB - SPEC_BOTTOM_DB);
        self.rect.bottom() - t.clamp(0.0, 1.0) * self.rect.height()
    }
}

/// One draggable band.
struct Node<'a> {
    name: &'static str,
    short: &'static str,
    enabled: &'a BoolParam,
    freq: &'a FloatParam,
    gain: Option<&'a FloatParam>,
    q: Option<&'a FloatParam>,
}

fn nodes(p: &FairmasterParams) -> [Node<'_>; 8] {
    let eq = &p.stages.eq;
    fn band<'b>(
        name: &'static str,
        short: &'static str,
        b: &'b crate::stages::eq::BandParams,
    ) -> Node<'b> {
        Node {
            name,
            short,
            enabled: &b.enabled,
            freq: &b.freq,
            gain: Some(&b.gain),
            q: Some(&b.q),
        }
    }
    [
        Node {
            name: "Low cut",
            short: "LC",
            enabled: &eq.low_cut.enabled,
            freq: &eq.low_cut.freq,
            gain: None,
            q: None,
        },
        band("Low shelf", "LS", &eq.low_shelf),
        band("Bell 1", "1", &eq.bell1),
        band("Bell 2", "2", &eq.bell2),
        band("Bell 3", "3", &eq.bell3),
        band("Bell 4", "4", &eq.bell4),
        band("High shelf", "HS", &eq.high_shelf),
        Node {
            name: "High cut",
            short: "HC",
            enabled: &eq.high_cut.enabled,
            freq: &eq.high_cut.freq,
            gain: None,
            q: None,
        },
    ]
}

/// Accessible label of a band node ("EQ node Bell 2").
pub fn node_label(name: &str) -> String {
    format!("EQ node {name}")
}

#[derive(Clone, Copy)]
struct NodeDrag {
    log_freq: f32,
    gain: f32,
}

/// What the spectrum view is drawn for this frame: its size, the session's rate and the
/// dynamic EQ bands' current movement (the curve is drawn at the bands' current gains).
pub struct SpectrumFrame {
    pub size: egui::Vec2,
    pub sample_rate: f32,
    pub eq_movement_db: [f32; eq::NUM_DYNAMIC],
}

/// Draws the analyzer, the EQ curve and the nodes into `frame.size`.
pub fn show(
    ui: &mut Ui,
    ctl: &Ctl,
    params: &FairmasterParams,
    analyzer: &Analyzer,
    cache: &mut EqCurveCache,
    frame: SpectrumFrame,
) {
    let SpectrumFrame {
        size,
        sample_rate,
        eq_movement_db,
    } = frame;
    let (outer, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(outer);
    painter.rect_filled(outer, CornerRadius::same(4), theme::PLOT_BG);
    let plot = Plot {
        rect: outer
            .shrink2(egui::vec2(30.0, 14.0))
            .translate(egui::vec2(-4.0, 0.0)),
    };

    // Grid.
    let grid = Stroke::new(1.0, Color32::from_rgb(0x26, 0x2a, 0x31));
    for (f, label) in [
        (50.0, "50"),
        (100.0, "100"),
        (200.0, "200"),
        (500.0, "500"),
        (1000.0, "1k"),
        (2000.0, "2k"),
        (5000.0, "5k"),
        (10000.0, "10k"),
    ] {
        let x = plot.x(f);
        painter.line_segment(
            [
                Pos2::new(x, plot.rect.top()),
                Pos2::new(x, plot.rect.bottom()),
            ],
            grid,
        );
        painter.text(
            Pos2::new(x, plot.rect.bottom() + 2.0),
            Align2::CENTER_TOP,
            label,
            FontId::proportional(10.0),
            theme::TEXT_DIM,
        );
    }
    for db in [-12.0, -6.0, 0.0, 6.0, 12.0] {
        let y = plot.y_eq(db);
        let stroke = if db == 0.0 {
            Stroke::new(1.0, theme::LINE)
        } else {
            grid
        };
        painter.line_segment(
            [
                Pos2::new(plot.rect.left(), y),
                Pos2::new(plot.rect.right(), y),
            ],
            stroke,
        );
        painter.text(
            Pos2::new(plot.rect.right() + 4.0, y),
            Align2::LEFT_CENTER,
            format!("{db:+.0}"),
            FontId::proportional(10.0),
            theme::EQ_CURVE.gamma_multiply(0.7),
        );
    }
    for db in [-80.0, -60.0, -40.0, -20.0] {
        painter.text(
            Pos2::new(outer.left() + 3.0, plot.y_spec(db)),
            Align2::LEFT_CENTER,
            format!("{db:.0}"),
            FontId::proportional(9.5),
            theme::TEXT_DIM.gamma_multiply(0.7),
        );
    }

    // Spectra: output filled, input as a line.
    let pts = |which: usize| -> Vec<Pos2> {
        analyzer.display[which]
            .iter()
            .enumerate()
            .map(|(k, &db)| Pos2::new(plot.x(point_freq(k)), plot.y_spec(db)))
            .collect()
    };
    let out = pts(1);
    let mut mesh = Mesh::default();
    let fill = theme::SPECTRUM_OUT.gamma_multiply(0.22);
    for (i, p) in out.iter().enumerate() {
        mesh.colored_vertex(*p, fill);
        mesh.colored_vertex(Pos2::new(p.x, plot.rect.bottom()), fill);
        if i > 0 {
            let b = (i as u32) * 2;
            mesh.add_triangle(b - 2, b - 1, b);
            mesh.add_triangle(b - 1, b, b + 1);
        }
    }
    painter.add(Shape::mesh(mesh));
    painter.add(Shape::line(pts(0), Stroke::new(1.0, theme::SPECTRUM_IN)));
    painter.add(Shape::line(out, Stroke::new(1.2, theme::SPECTRUM_OUT)));

    // The multiband dynamics' gain change per band.
    crate::stages::multiband::panel::over_spectrum(
        &painter,
        &plot,
        ui.ctx(),
        &params.stages.multiband,
    );

    // EQ curve.
    let enabled = params.stages.eq.enabled.value();
    let eq = &params.stages.eq;
    let matched = if eq.mode.value() == EqModeParam::LinearPhase {
        params.eq_match.curve(&eq.matching.options())
    } else {
        MatchCurve::FLAT
    };
    cache.update(&eq.settings(), &matched, enabled, sample_rate);
    let curve_color = if enabled {
        theme::EQ_CURVE
    } else {
        theme::EQ_CURVE.gamma_multiply(0.35)
    };
    let curve = |db: &[f32]| -> Vec<Pos2> {
        db.iter()
            .enumerate()
            .map(|(k, &v)| Pos2::new(plot.x(point_freq(k)), plot.y_eq(v)))
            .collect()
    };
    if let Some(side) = &cache.side {
        painter.add(Shape::dashed_line(
            &curve(side),
            Stroke::new(1.5, curve_color.gamma_multiply(0.7)),
            6.0,
            4.0,
        ));
    }
    painter.add(Shape::line(
        curve(&cache.mid),
        Stroke::new(2.0, curve_color),
    ));
    // Dynamic EQ: the curve at the dynamic bands' current gains, over the static one.
    let settings = params.stages.eq.settings();
    let dynamic_moving = enabled
        && match cache.moved(&settings, &eq_movement_db, sample_rate) {
            Some(moved) => {
                painter.add(Shape::line(curve(moved), Stroke::new(1.5, theme::GR)));
                true
            }
            None => false,
        };

    // Legend.
    let mut lx = plot.rect.left() + 6.0;
    for (text, color) in [
        ("Input", theme::SPECTRUM_IN),
        ("Output", theme::SPECTRUM_OUT),
        (
            if cache.side.is_some() {
                "EQ mid / side (dashed)"
            } else {
                "EQ"
            },
            curve_color,
        ),
    ]
    .into_iter()
    .chain(dynamic_moving.then_some(("dynamic", theme::GR)))
    {
        let r = painter.text(
            Pos2::new(lx, plot.rect.top() + 2.0),
            Align2::LEFT_TOP,
            text,
            FontId::proportional(11.0),
            color,
        );
        lx = r.right() + 12.0;
    }
    if !enabled {
        painter.text(
            Pos2::new(plot.rect.right() - 6.0, plot.rect.top() + 2.0),
            Align2::RIGHT_TOP,
            "EQ is off",
            FontId::proportional(11.0),
            theme::TEXT_DIM,
        );
    }
    if !analyzer.has_source() {
        painter.text(
            plot.rect.center(),
            Align2::CENTER_CENTER,
            "no analyzer input",
            FontId::proportional(12.0),
            theme::TEXT_DIM,
        );
    }

    // Nodes.
    for (i, node) in nodes(params).iter().enumerate() {
        node_ui(ui, ctl, &plot, node, i);
    }
}

fn node_ui(ui: &mut Ui, ctl: &Ctl, plot: &Plot, node: &Node, index: usize) {
    let id = ui.scope_id().with(("eq_node", index));
    let gain_db = node.gain.map_or(0.0, |g| g.value());
    let center = Pos2::new(plot.x(node.freq.value()), plot.y_eq(gain_db));
    let rect = Rect::from_center_size(center, egui::vec2(18.0, 18.0));
    let mut response = ui.interact(rect, id, Sense::click_and_drag());
    let label = node_label(node.name);
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Slider, true, &label));

    let shift = ui.input(|i| i.modifiers.shift);
    if response.drag_started() {
        if !node.enabled.value() {
            ctl.set(node.enabled, true);
        }
        ctl.setter.begin_set_parameter(node.freq);
        if let Some(g) = node.gain {
            ctl.setter.begin_set_parameter(g);
        }
        ui.data_mut(|d| {
            d.insert_temp(
                id,
                NodeDrag {
                    log_freq: node.freq.value().ln(),
                    gain: gain_db,
                },
            )
        });
    }
    if response.dragged() {
        let scale = if shift { 0.2 } else { 1.0 };
        let delta = response.drag_delta() * scale;
        if let Some(mut state) = ui.data(|d| d.get_temp::<NodeDrag>(id)) {
            state.log_freq += delta.x / plot.rect.width() * (F_MAX / F_MIN).ln();
            state.gain -= delta.y / plot.rect.height() * 2.0 * EQ_RANGE_DB;
            let range = node.freq.range();
            let f = range.unnormalize(range.normalize(state.log_freq.exp()));
            state.log_freq = f.ln();
            ctl.setter.set_parameter(node.freq, f);
            if let Some(g) = node.gain {
                let r = g.range();
                state.gain = r.unnormalize(r.normalize(state.gain));
                ctl.setter.set_parameter(g, state.gain);
            }
            ui.data_mut(|d| d.insert_temp(id, state));
            response.mark_changed();
        }
    }
    if response.drag_stopped() {
        ctl.setter.end_set_parameter(node.freq);
        if let Some(g) = node.gain {
            ctl.setter.end_set_parameter(g);
        }
        ui.data_mut(|d| d.remove::<NodeDrag>(id));
    }
    if response.double_clicked() {
        ctl.set(node.enabled, !node.enabled.value());
    }
    if let Some(q) = node.q {
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y + i.smooth_scroll_delta.x);
            if scroll != 0.0 {
                let value = q.value() * 2f32.powf(scroll / 240.0);
                ctl.set(q, value);
            }
        }
    }

    let on = node.enabled.value();
    let painter = ui.painter();
    let color = if on { theme::EQ_CURVE } else { theme::TEXT_DIM };
    let radius = if response.hovered() || response.dragged() {
        9.0
    } else {
        8.0
    };
    if on {
        painter.circle_filled(center, radius, color.gamma_multiply(0.85));
    } else {
        painter.circle_filled(center, radius, theme::BG.gamma_multiply(0.8));
    }
    painter.circle_stroke(center, radius, Stroke::new(1.5, color));
    painter.text(
        center,
        Align2::CENTER_CENTER,
        node.short,
        FontId::proportional(9.5),
        if on { theme::BG } else { theme::TEXT_DIM },
    );
    let mut tip = format!("{}: {}", node.name, super::widgets::value_text(node.freq));
    if let Some(g) = node.gain {
        tip += &format!(", {}", super::widgets::value_text(g));
    }
    if let Some(q) = node.q {
        tip += &format!(", Q {}", super::widgets::value_text(q));
    }
    tip += if on { "" } else { " (off)" };
    response.on_hover_text(format!(
        "{tip}\nDrag: frequency/gain (Shift = fine) · scroll: Q · double-click: on/off"
    ));
}
