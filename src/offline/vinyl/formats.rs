//! Record formats and the level a side's length allows.
//!
//! A lathe trades level for time: a louder cut swings the groove wider, so fewer grooves fit
//! between the lead-in and the run-out. Published cutting charts give, per format, the side
//! length at which a cut can still reach a level relative to the RIAA Standard Reference Level
//! (SRL). [`RECORD_FORMATS`] is the chart reproduced by Los Enderos Studio ("Recording time on
//! vinyl records", <https://lossenderosstudio.com/chart.php?chart=24>, based on the RIAA SRL at
//! standard groove widths and depths), which is the chart the project's issue 29 quotes
//! (12″/33⅓: 20 min at 0 dB, 24 at −3, 28 at −6; "about 1 dB per extra minute"). Pressing
//! plants' own guides agree within a minute or two at reference level: Qrates (12″/33⅓ 19:30,
//! 12″/45 14:30, 10″/33⅓ 13:30, 10″/45 10:00, 7″/45 5:00), Enormous Door Mastering (maximum
//! 25, 15, 14, 10 and 5 min).
//!
//! Between the chart's rows the allowed level is interpolated linearly; a side shorter than
//! the first row may be cut at that row's level (no chart gives more), and a side longer than
//! the last row is past the format's maximum: the chart gives no level for it, and the job
//! refuses it (see `super::sides`).

use serde::Serialize;

/// One row of a cutting chart: up to `minutes` per side, the cut can reach `level_db` relative
/// to the RIAA Standard Reference Level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelRow {
    pub minutes: f64,
    pub level_db: f64,
}

/// A record format: its diameter and speed and the chart of side length against level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecordFormat {
    /// The command line's name, e.g. `12-33`.
    pub name: &'static str,
    /// How a cutting engineer writes it, e.g. `12″ 33⅓ rpm`.
    pub label: &'static str,
    pub diameter_inches: u32,
    pub rpm: f64,
    /// Ascending in minutes, descending in level; the row at 0 dB is the reference length.
    pub chart: &'static [LevelRow],
}

const fn row(minutes: f64, level_db: f64) -> LevelRow {
    LevelRow { minutes, level_db }
}

/// The formats the `vinyl` job cuts for (7″ at 33⅓ is left out: the chart marks it "not
/// recommended due to potential distortion", as does every plant's guide we read).
pub const RECORD_FORMATS: [RecordFormat; 5] = [
    RecordFormat {
        name: "12-33",
        label: "12\u{2033} 33\u{2153} rpm",
        diameter_inches: 12,
        rpm: 100.0 / 3.0,
        chart: &[row(20.0, 0.0), row(24.0, -3.0), row(28.0, -6.0)],
    },
    RecordFormat {
        name: "12-45",
        label: "12\u{2033} 45 rpm",
        diameter_inches: 12,
        rpm: 45.0,
        chart: &[row(10.5, 3.0), row(13.5, 0.0), row(16.0, -3.0)],
    },
    RecordFormat {
        name: "10-33",
        label: "10\u{2033} 33\u{2153} rpm",
        diameter_inches: 10,
        rpm: 100.0 / 3.0,
        chart: &[row(13.0, 0.0), row(17.0, -3.0), row(19.0, -6.0)],
    },
    RecordFormat {
        name: "10-45",
        label: "10\u{2033} 45 rpm",
        diameter_inches: 10,
        rpm: 45.0,
        chart: &[row(8.0, 3.0), row(10.0, 0.0), row(12.0, -3.0)],
    },
    RecordFormat {
        name: "7-45",
        label: "7\u{2033} 45 rpm",
        diameter_inches: 7,
        rpm: 45.0,
        chart: &[row(4.0, 3.0), row(5.0, 0.0), row(6.0, -3.0)],
    },
];

impl RecordFormat {
    /// The format named `name` (`12-33`, `12-45`, `10-33`, `10-45`, `7-45`; `33` may be
    /// written `33.3` or `331/3`).
    pub fn parse(name: &str) -> Result<Self, String> {
        let normalised = name
            .trim()
            .replace(['"', '\u{2033}'], "")
            .replace("33.3", "33")
            .replace("331/3", "33")
            .replace(['/', ' ', '@'], "-");
        RECORD_FORMATS
            .iter()
            .find(|f| f.name == normalised)
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = RECORD_FORMATS.iter().map(|f| f.name).collect();
                format!(
                    "unknown record format '{name}': one of {} (diameter in inches - rpm)",
                    names.join(", ")
                )
            })
    }

    /// The longest side cut at the RIAA Standard Reference Level (the chart's 0 dB row).
    pub fn reference_minutes(&self) -> f64 {
        self.chart
            .iter()
            .find(|r| r.level_db == 0.0)
            .map_or(self.chart[0].minutes, |r| r.minutes)
    }

    /// The longest side the chart gives a level for: past it the job refuses the side.
    pub fn maximum_minutes(&self) -> f64 {
        self.chart[self.chart.len() - 1].minutes
    }

    /// The level (dB relative to the RIAA Standard Reference Level) a side of `minutes` can be
    /// cut at: the chart interpolated linearly, its first row's level for shorter sides, `None`
    /// past the last row.
    pub fn level_allowed_db(&self, minutes: f64) -> Option<f64> {
        let first = self.chart[0];
        if minutes <= first.minutes {
            return Some(first.level_db);
        }
        self.chart.windows(2).find_map(|pair| {
            let (a, b) = (pair[0], pair[1]);
            (minutes <= b.minutes).then(|| {
                let t = (minutes - a.minutes) / (b.minutes - a.minutes);
                a.level_db + t * (b.level_db - a.level_db)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name_and_common_spellings() {
        assert_eq!(RecordFormat::parse("12-33").unwrap().rpm, 100.0 / 3.0);
        assert_eq!(RecordFormat::parse("12\"/33.3").unwrap().name, "12-33");
        assert_eq!(RecordFormat::parse("7-45").unwrap().diameter_inches, 7);
        let e = RecordFormat::parse("7-33").unwrap_err();
        assert!(e.contains("7-33") && e.contains("12-45"), "{e}");
    }

    #[test]
    fn the_chart_gives_the_issue_figures_and_interpolates_between_rows() {
        let lp = RecordFormat::parse("12-33").unwrap();
        assert_eq!(lp.reference_minutes(), 20.0);
        assert_eq!(lp.level_allowed_db(18.0), Some(0.0));
        assert_eq!(lp.level_allowed_db(24.0), Some(-3.0));
        assert_eq!(lp.level_allowed_db(28.0), Some(-6.0));
        // Half way between 20 min (0 dB) and 24 min (-3 dB).
        assert!((lp.level_allowed_db(22.0).unwrap() + 1.5).abs() < 1e-12);
        assert_eq!(lp.level_allowed_db(28.01), None);
        assert_eq!(lp.maximum_minutes(), 28.0);
        for (name, reference) in [
            ("12-45", 13.5),
            ("10-33", 13.0),
            ("10-45", 10.0),
            ("7-45", 5.0),
        ] {
            let f = RecordFormat::parse(name).unwrap();
            assert_eq!(f.reference_minutes(), reference, "{name}");
            assert_eq!(f.level_allowed_db(reference), Some(0.0), "{name}");
        }
        // A short 45: the chart's +3 dB row; 12-45 at 12 min: half way from +3 to 0.
        let maxi = RecordFormat::parse("12-45").unwrap();
        assert_eq!(maxi.level_allowed_db(5.0), Some(3.0));
        assert!((maxi.level_allowed_db(12.0).unwrap() - 1.5).abs() < 1e-12);
    }
}
