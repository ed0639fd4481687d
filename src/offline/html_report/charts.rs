//! The report's SVG charts, written by hand so the page loads nothing: a [`Chart`] has two
//! axes ([`Scale`], linear or logarithmic) with ticks and labels and a clipped plot area that
//! lines, bands, bars, spans and labels are drawn into in data coordinates; [`Chart::finish`]
//! returns the `<svg>` element. Tick helpers give round values ([`linear_ticks`]), times
//! ([`time_ticks`]) and the audio decades ([`frequency_ticks`]). Nothing here knows what is
//! plotted: the report (`super`) picks data, colours and captions.

use std::fmt::Write as _;

use super::text::{clock, escape, number};

/// Unique ids for the charts' clip paths within one page.
#[derive(Default)]
pub(super) struct ChartIds(usize);

impl ChartIds {
    pub(super) fn next(&mut self) -> String {
        self.0 += 1;
        format!("chart{}", self.0)
    }
}

#[derive(Clone, Copy)]
pub(super) struct Scale {
    min: f64,
    max: f64,
    log: bool,
}

impl Scale {
    pub(super) fn linear(min: f64, max: f64) -> Self {
        Self {
            min,
            max: if max > min { max } else { min + 1.0 },
            log: false,
        }
    }

    pub(super) fn log(min: f64, max: f64) -> Self {
        Self {
            min,
            max,
            log: true,
        }
    }

    /// 0..1 across the axis.
    fn unit(&self, v: f64) -> f64 {
        if self.log {
            (v.max(1e-12).ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        }
    }
}

/// A hand-written SVG chart: axes with ticks and labels, a clipped plot area, and lines,
/// bands, bars and spans drawn into it in data coordinates.
pub(super) struct Chart {
    id: String,
    x: Scale,
    y: Scale,
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    pub(super) x_ticks: Vec<(f64, String)>,
    pub(super) y_ticks: Vec<(f64, String)>,
    pub(super) x_label: String,
    pub(super) y_label: String,
    body: String,
}

impl Chart {
    pub(super) fn new(id: String, x: Scale, y: Scale, width: f64, height: f64) -> Self {
        Self {
            id,
            x,
            y,
            width,
            height,
            left: 62.0,
            right: 16.0,
            top: 14.0,
            bottom: 46.0,
            x_ticks: Vec::new(),
            y_ticks: Vec::new(),
            x_label: String::new(),
            y_label: String::new(),
            body: String::new(),
        }
    }

    fn px(&self, x: f64) -> f64 {
        self.left + self.x.unit(x) * (self.width - self.left - self.right)
    }

    fn py(&self, y: f64) -> f64 {
        // Values beyond the axis are pinned just outside the plot area (then clipped), so a
        // line leaving the range is drawn to the edge rather than distorted.
        let unit = self.y.unit(y).clamp(-0.02, 1.02);
        self.top + (1.0 - unit) * (self.height - self.top - self.bottom)
    }

    /// A polyline, broken wherever `y` is not finite.
    pub(super) fn line(&mut self, points: &[(f64, f64)], attributes: &str) {
        let mut run = String::new();
        let flush = |run: &mut String, body: &mut String| {
            if run.matches(' ').count() >= 1 {
                let _ = writeln!(
                    body,
                    "<polyline fill=\"none\" stroke-linejoin=\"round\" {attributes} points=\"{}\"/>",
                    run.trim_end()
                );
            }
            run.clear();
        };
        for &(x, y) in points {
            if y.is_finite() {
                let _ = write!(run, "{:.1},{:.1} ", self.px(x), self.py(y));
            } else {
                flush(&mut run, &mut self.body);
            }
        }
        flush(&mut run, &mut self.body);
    }

    /// A filled band between `low` and `high` at each `x` (`(x, low, high)`).
    pub(super) fn area(&mut self, band: &[(f64, f64, f64)], colour: &str, opacity: f64) {
        let finite: Vec<_> = band
            .iter()
            .filter(|(_, lo, hi)| lo.is_finite() && hi.is_finite())
            .collect();
        if finite.len() < 2 {
            return;
        }
        let mut points = String::new();
        for (x, _, hi) in &finite {
            let _ = write!(points, "{:.1},{:.1} ", self.px(*x), self.py(*hi));
        }
        for (x, lo, _) in finite.iter().rev() {
            let _ = write!(points, "{:.1},{:.1} ", self.px(*x), self.py(*lo));
        }
        let _ = writeln!(
            self.body,
            "<polygon fill=\"{colour}\" fill-opacity=\"{opacity}\" stroke=\"none\" points=\"{}\"/>",
            points.trim_end()
        );
    }

    pub(super) fn bar(&mut self, x0: f64, x1: f64, y0: f64, y1: f64, colour: &str) {
        let (a, b) = (self.px(x0), self.px(x1));
        let (c, d) = (self.py(y0), self.py(y1));
        let _ = writeln!(
            self.body,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" \
             fill-opacity=\"0.85\"/>",
            a.min(b),
            c.min(d),
            (b - a).abs().max(0.5),
            (d - c).abs().max(0.5)
        );
    }

    /// A shaded vertical span over the whole plot height.
    pub(super) fn span(&mut self, x0: f64, x1: f64, colour: &str, opacity: f64) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" \
             fill-opacity=\"{opacity}\"/>",
            self.px(x0),
            self.top,
            (self.px(x1) - self.px(x0)).max(1.0),
            self.height - self.top - self.bottom
        );
    }

    pub(super) fn hline(&mut self, y: f64, attributes: &str) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" {attributes}/>",
            self.left,
            self.width - self.right,
            self.py(y),
            self.py(y)
        );
    }

    /// A small text label just inside the top of the plot at `x`.
    pub(super) fn label(&mut self, x: f64, y: f64, text: &str, colour: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{:.1}\" y=\"{:.1}\" style=\"fill:{colour}\">{}</text>",
            self.px(x) + 5.0,
            self.py(y) + 15.0,
            escape(text)
        );
    }

    pub(super) fn finish(&self, description: &str) -> String {
        let (w, h) = (self.width, self.height);
        let (plot_right, plot_bottom) = (w - self.right, h - self.bottom);
        let mut svg = format!(
            "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">\n<defs><clipPath id=\"{id}\"><rect x=\"{}\" \
             y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>\n\
             <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#14181d\" \
             stroke=\"#39424e\"/>\n",
            escape(description),
            self.left,
            self.top,
            plot_right - self.left,
            plot_bottom - self.top,
            self.left,
            self.top,
            plot_right - self.left,
            plot_bottom - self.top,
            id = self.id,
        );
        for (v, text) in &self.x_ticks {
            let x = self.px(*v);
            let _ = writeln!(
                svg,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{plot_bottom}\" stroke=\"#262d36\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                self.top,
                plot_bottom + 17.0,
                escape(text)
            );
        }
        for (v, text) in &self.y_ticks {
            let y = self.py(*v);
            let _ = writeln!(
                svg,
                "<line x1=\"{}\" x2=\"{plot_right}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#262d36\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                self.left,
                self.left - 7.0,
                y + 4.0,
                escape(text)
            );
        }
        let _ = writeln!(
            svg,
            "<g clip-path=\"url(#{})\">\n{}</g>",
            self.id, self.body
        );
        let _ = writeln!(
            svg,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n\
             <text class=\"axis\" transform=\"translate(15 {:.1}) rotate(-90)\" \
             text-anchor=\"middle\">{}</text>\n</svg>",
            (self.left + plot_right) / 2.0,
            h - 8.0,
            escape(&self.x_label),
            (self.top + plot_bottom) / 2.0,
            escape(&self.y_label)
        );
        svg
    }
}

/// A 1-2-5 step giving about `count` intervals over `range`.
fn nice_step(range: f64, count: usize) -> f64 {
    let raw = range / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// The smallest 1-2-5 value at or above `value`.
pub(super) fn nice_ceiling(value: f64) -> f64 {
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= value)
        .unwrap_or(10.0 * magnitude)
}

pub(super) fn linear_ticks(
    min: f64,
    max: f64,
    count: usize,
    decimals: usize,
) -> Vec<(f64, String)> {
    let step = nice_step(max - min, count);
    let first = (min / step).ceil() as i64;
    let last = (max / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|i| {
            let v = i as f64 * step;
            let decimals = if decimals > 0 && (v - v.round()).abs() < 1e-9 {
                0
            } else {
                decimals
            };
            (v, number(v, decimals))
        })
        .collect()
}

pub(super) fn time_ticks(duration: f64) -> Vec<(f64, String)> {
    let step = [5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0]
        .into_iter()
        .find(|s| duration / s <= 12.0)
        .unwrap_or(1200.0);
    (0..=(duration / step).floor() as usize)
        .map(|i| {
            let t = i as f64 * step;
            (t, clock(t))
        })
        .collect()
}

pub(super) fn frequency_ticks() -> Vec<(f64, String)> {
    [
        (20.0, "20"),
        (50.0, "50"),
        (100.0, "100"),
        (200.0, "200"),
        (500.0, "500"),
        (1000.0, "1k"),
        (2000.0, "2k"),
        (5000.0, "5k"),
        (10_000.0, "10k"),
        (20_000.0, "20k"),
    ]
    .into_iter()
    .map(|(f, t)| (f, t.to_string()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_inside_the_range() {
        let ticks = linear_ticks(-42.0, 6.0, 8, 0);
        assert_eq!(ticks.first().unwrap().0, -40.0);
        assert_eq!(ticks.last().unwrap().0, 0.0);
        assert!(time_ticks(200.0).iter().all(|(t, _)| t % 30.0 == 0.0));
    }
}
