//! Which songs go on which side, and where each one starts.
//!
//! Sides are given (`--sides "A:1-4 B:5-8"`) or planned from the songs' lengths; either way the
//! album keeps its running order, every song is on exactly one side, and the sides are lettered
//! A, B, C, ... in playing order. A side's time is counted in samples: its songs and the gaps
//! between them (no gap before the first song or after the last: the lead-in and the run-out
//! are the lathe's).
//!
//! # The automatic split
//! The fewest whole discs first, then the sides balanced: the smallest even number of sides
//! (2, 4, ...) whose best split keeps every side within the format's maximum (the last row of
//! its chart, [`RecordFormat::maximum_minutes`]); an odd number only when no even one can
//! (fewer songs than sides needed); and, for that number, the split keeping the album's order
//! that makes the longest side shortest (the classic linear partition, solved exactly by
//! dynamic programming; of splits as good, the one with the earlier sides fuller). A side longer than the reference-level length is allowed: it is cut
//! quieter, and the cut sheet says by how much and warns. This is what a mastering engineer
//! does with a 44-minute album (two 22-minute sides at −1.5 dB, not a double LP); for more
//! sides at a higher level, give `--sides`.

use serde::Serialize;

use super::formats::RecordFormat;

/// The letters sides are named with, in playing order.
const SIDE_LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// One side: its letter and its songs (indices into the album's running order, 0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideAssignment {
    pub letter: char,
    pub songs: std::ops::Range<usize>,
}

/// The letter of side `index` (0 = A).
pub fn side_letter(index: usize) -> Option<char> {
    SIDE_LETTERS.chars().nth(index)
}

/// Parses and checks `--sides` for an album of `song_count` songs: whitespace-separated
/// `LETTER:FIRST-LAST` (or `LETTER:N` for one song), songs numbered from 1 in running order.
/// Every error names the side or song and what is wrong.
pub fn parse_sides(spec: &str, song_count: usize) -> Result<Vec<SideAssignment>, String> {
    let mut sides: Vec<SideAssignment> = Vec::new();
    let mut next_song = 0usize;
    for (index, token) in spec.split_whitespace().enumerate() {
        let (letter_text, range_text) = token.split_once(':').ok_or_else(|| {
            format!("--sides: '{token}' is not SIDE:SONGS (e.g. A:1-4, songs numbered from 1)")
        })?;
        let mut letters = letter_text.trim().chars();
        let letter = match (letters.next(), letters.next()) {
            (Some(c), None) => c.to_ascii_uppercase(),
            _ => {
                return Err(format!(
                    "--sides: '{token}': a side is one letter (A, B, C, ...), not '{letter_text}'"
                ))
            }
        };
        let expected = side_letter(index)
            .ok_or_else(|| format!("--sides: more than {} sides", SIDE_LETTERS.len()))?;
        if letter != expected {
            return Err(format!(
                "--sides: side {letter} where side {expected} was expected: sides are lettered \
                 A, B, C, ... in playing order"
            ));
        }
        let number = |text: &str| -> Result<usize, String> {
            let n: usize = text
                .trim()
                .parse()
                .map_err(|_| format!("--sides: side {letter}: '{text}' is not a song number"))?;
            if n == 0 || n > song_count {
                return Err(format!(
                    "--sides: side {letter}: song {n} does not exist (the album has {song_count} \
                     songs, numbered from 1)"
                ));
            }
            Ok(n - 1)
        };
        let (first, last) = match range_text.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(range_text)?;
                (n, n)
            }
        };
        if last < first {
            return Err(format!(
                "--sides: side {letter}: {}-{} runs backwards; songs keep the album's running order",
                first + 1,
                last + 1
            ));
        }
        if first < next_song {
            let owner = sides
                .iter()
                .find(|s| s.songs.contains(&first))
                .map_or('?', |s| s.letter);
            return Err(format!(
                "--sides: song {} is on side {owner} and again on side {letter}: every song goes \
                 on exactly one side, in running order",
                first + 1
            ));
        }
        if first > next_song {
            return Err(format!(
                "--sides: song {} is on no side (side {letter} starts at song {}): every song \
                 goes on exactly one side, in running order",
                next_song + 1,
                first + 1
            ));
        }
        sides.push(SideAssignment {
            letter,
            songs: first..last + 1,
        });
        next_song = last + 1;
    }
    if sides.is_empty() {
        return Err("--sides: no side given (e.g. --sides \"A:1-4 B:5-8\")".into());
    }
    if next_song < song_count {
        return Err(format!(
            "--sides: songs {}-{} are on no side: every song goes on exactly one side",
            next_song + 1,
            song_count
        ));
    }
    Ok(sides)
}

/// A side's length in frames: its songs and the gaps between them.
pub fn side_frames(lengths: &[usize], gap_frames: usize) -> usize {
    lengths.iter().sum::<usize>() + gap_frames * lengths.len().saturating_sub(1)
}

/// The split of `lengths` (frames, in running order) into `count` contiguous non-empty sides
/// whose longest side (songs and gaps) is shortest: the side boundaries, and that length.
fn balanced_split(lengths: &[usize], gap_frames: usize, count: usize) -> (Vec<usize>, usize) {
    let n = lengths.len();
    let span = |a: usize, b: usize| side_frames(&lengths[a..b], gap_frames);
    // best[k][i]: the shortest longest side putting songs 0..i on k sides; from[k][i]: where
    // its last side starts.
    let mut best = vec![vec![usize::MAX; n + 1]; count + 1];
    let mut from = vec![vec![0usize; n + 1]; count + 1];
    best[0][0] = 0;
    for k in 1..=count {
        for i in k..=n {
            for j in (k - 1)..i {
                if best[k - 1][j] == usize::MAX {
                    continue;
                }
                let cost = best[k - 1][j].max(span(j, i));
                // `<=`: of equally long longest sides, the later start wins, so the earlier
                // sides are the fuller ones.
                if cost <= best[k][i] {
                    best[k][i] = cost;
                    from[k][i] = j;
                }
            }
        }
    }
    let mut starts = vec![0usize; count];
    let mut end = n;
    for k in (1..=count).rev() {
        starts[k - 1] = from[k][end];
        end = from[k][end];
    }
    (starts, best[count][n])
}

/// Splits the album automatically (see the module docs). Errors when a song alone is longer
/// than the format's maximum.
pub fn auto_split(
    lengths: &[usize],
    gap_frames: usize,
    sample_rate: u32,
    format: &RecordFormat,
) -> Result<Vec<SideAssignment>, String> {
    let n = lengths.len();
    let maximum_frames =
        (format.maximum_minutes() * 60.0 * f64::from(sample_rate)).floor() as usize;
    if let Some((k, &len)) = lengths
        .iter()
        .enumerate()
        .find(|(_, &l)| l > maximum_frames)
    {
        return Err(format!(
            "song {} is {} long, longer than a whole side of {} can hold ({} min, the cutting \
             chart's longest side)",
            k + 1,
            minutes_text(len as f64 / f64::from(sample_rate) / 60.0),
            format.label,
            format.maximum_minutes()
        ));
    }
    let evens = (2..=n).step_by(2);
    let odds = (1..=n).step_by(2);
    let counts: Vec<usize> = if n == 1 {
        vec![1]
    } else {
        evens.chain(odds).collect()
    };
    let count = counts
        .iter()
        .copied()
        .find(|&count| balanced_split(lengths, gap_frames, count).1 <= maximum_frames)
        // One song per side always fits (checked above).
        .unwrap_or(n);
    let (starts, _) = balanced_split(lengths, gap_frames, count);
    Ok(starts
        .iter()
        .enumerate()
        .map(|(k, &start)| SideAssignment {
            letter: side_letter(k).unwrap_or('?'),
            songs: start..starts.get(k + 1).copied().unwrap_or(n),
        })
        .collect())
}

/// A song placed on a side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlacedSong {
    /// Index in the album's running order (0-based).
    pub index: usize,
    /// Where the song starts in the side's file, in frames from its first sample.
    pub start_frame: usize,
    pub frames: usize,
}

/// A side laid out: its songs' start frames, its length and what the chart allows for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideLayout {
    pub letter: char,
    pub songs: Vec<PlacedSong>,
    pub frames: usize,
    pub minutes: f64,
    /// The level the side's length allows relative to the RIAA Standard Reference Level (dB);
    /// `None` past the format's maximum.
    pub level_allowed_db: Option<f64>,
    /// Minutes past the reference-level length (0 when within it).
    pub minutes_over_reference: f64,
}

/// Lays the sides out: each song's start frame (songs and `gap_frames` of silence between
/// them), each side's length and allowed level.
pub fn lay_out(
    sides: &[SideAssignment],
    lengths: &[usize],
    gap_frames: usize,
    sample_rate: u32,
    format: &RecordFormat,
) -> Vec<SideLayout> {
    sides
        .iter()
        .map(|side| {
            let mut start = 0usize;
            let mut songs = Vec::new();
            for index in side.songs.clone() {
                if !songs.is_empty() {
                    start += gap_frames;
                }
                songs.push(PlacedSong {
                    index,
                    start_frame: start,
                    frames: lengths[index],
                });
                start += lengths[index];
            }
            let minutes = start as f64 / f64::from(sample_rate) / 60.0;
            SideLayout {
                letter: side.letter,
                songs,
                frames: start,
                minutes,
                level_allowed_db: format.level_allowed_db(minutes),
                minutes_over_reference: (minutes - format.reference_minutes()).max(0.0),
            }
        })
        .collect()
}

/// Refuses sides past the format's maximum, naming each and the minutes over.
pub fn check_maximum(sides: &[SideLayout], format: &RecordFormat) -> Result<(), String> {
    let over: Vec<String> = sides
        .iter()
        .filter(|s| s.level_allowed_db.is_none())
        .map(|s| {
            format!(
                "side {} is {} long, {} over the {} min a side of {} can hold (the cutting \
                 chart's longest side)",
                s.letter,
                minutes_text(s.minutes),
                minutes_text(s.minutes - format.maximum_minutes()),
                format.maximum_minutes(),
                format.label
            )
        })
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}; split the album onto more sides (--sides) or choose a format that holds more",
            over.join("; ")
        ))
    }
}

/// `m:ss` for a length in minutes (seconds rounded).
pub fn minutes_text(minutes: f64) -> String {
    let seconds = (minutes * 60.0).round().max(0.0) as u64;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 1000;

    fn minutes(m: &[f64]) -> Vec<usize> {
        m.iter()
            .map(|m| (m * 60.0 * f64::from(RATE)) as usize)
            .collect()
    }

    fn ranges(sides: &[SideAssignment]) -> Vec<(char, usize, usize)> {
        sides
            .iter()
            .map(|s| (s.letter, s.songs.start + 1, s.songs.end))
            .collect()
    }

    #[test]
    fn given_sides_parse_in_running_order() {
        let sides = parse_sides("A:1-4 b:5-7  C:8", 8).unwrap();
        assert_eq!(ranges(&sides), vec![('A', 1, 4), ('B', 5, 7), ('C', 8, 8)]);
    }

    #[test]
    fn given_sides_errors_name_the_problem() {
        let cases = [
            ("A:1-4 B:6-8", "song 5 is on no side"),
            ("A:1-4 B:4-8", "song 4 is on side A and again on side B"),
            ("A:1-4 C:5-8", "side C where side B was expected"),
            ("A:1-4 B:5-9", "song 9 does not exist"),
            ("A:1-4 B:5-6", "songs 7-8 are on no side"),
            ("A:4-1 B:5-8", "runs backwards"),
            ("A1-4", "is not SIDE:SONGS"),
            ("A:1-x", "'x' is not a song number"),
            ("AB:1-8", "a side is one letter"),
            ("", "no side given"),
        ];
        for (spec, expected) in cases {
            let e = parse_sides(spec, 8).unwrap_err();
            assert!(e.contains(expected), "{spec}: {e}");
        }
    }

    #[test]
    fn auto_split_balances_two_sides_in_running_order() {
        let lp = RecordFormat::parse("12-33").unwrap();
        // Prefix sums 10, 16, 20, 28, 30: the split after song 2 (16 / 14) has the shortest
        // longest side; after song 3 gives 20 / 10.
        let sides = auto_split(&minutes(&[10.0, 6.0, 4.0, 8.0, 2.0]), 0, RATE, &lp).unwrap();
        assert_eq!(ranges(&sides), vec![('A', 1, 2), ('B', 3, 5)]);
        // Gaps count: 3 songs of 9 min and a 1 min gap: A holds two (19 min), B one.
        let sides = auto_split(&minutes(&[9.0, 9.0, 9.0]), 60 * RATE as usize, RATE, &lp).unwrap();
        assert_eq!(ranges(&sides), vec![('A', 1, 2), ('B', 3, 3)]);
    }

    #[test]
    fn auto_split_takes_the_fewest_whole_discs_that_fit() {
        let lp = RecordFormat::parse("12-33").unwrap();
        // 8 songs of 7 min = 56 min: two sides of 28 min fit the maximum exactly.
        let sides = auto_split(&minutes(&[7.0; 8]), 0, RATE, &lp).unwrap();
        assert_eq!(ranges(&sides), vec![('A', 1, 4), ('B', 5, 8)]);
        // 9 songs of 7 min = 63 min: two sides cannot (35 min), four can; the longest of
        // four sides holds at least three songs (21 min).
        let sides = auto_split(&minutes(&[7.0; 9]), 0, RATE, &lp).unwrap();
        assert_eq!(sides.len(), 4);
        let layout = lay_out(&sides, &minutes(&[7.0; 9]), 0, RATE, &lp);
        let longest = layout.iter().map(|s| s.minutes).fold(0.0, f64::max);
        assert!((longest - 21.0).abs() < 1e-9, "{longest}");
        // Three songs of 25 min: no even number of sides fits, so three sides.
        let sides = auto_split(&minutes(&[25.0; 3]), 0, RATE, &lp).unwrap();
        assert_eq!(ranges(&sides), vec![('A', 1, 1), ('B', 2, 2), ('C', 3, 3)]);
        // One song of 30 min: refused, naming the song.
        let e = auto_split(&minutes(&[5.0, 30.0]), 0, RATE, &lp).unwrap_err();
        assert!(e.contains("song 2") && e.contains("30:00"), "{e}");
    }

    #[test]
    fn layout_places_songs_after_gaps_exactly() {
        let lp = RecordFormat::parse("12-33").unwrap();
        let lengths = vec![1234, 5678, 91];
        let sides = parse_sides("A:1-2 B:3", 3).unwrap();
        let layout = lay_out(&sides, &lengths, 100, RATE, &lp);
        let starts: Vec<usize> = layout[0].songs.iter().map(|s| s.start_frame).collect();
        assert_eq!(starts, vec![0, 1334]);
        assert_eq!(layout[0].frames, 1234 + 100 + 5678);
        assert_eq!(layout[1].frames, 91);
    }

    #[test]
    fn side_level_follows_the_chart_and_the_maximum_is_refused() {
        let lp = RecordFormat::parse("12-33").unwrap();
        let lengths = minutes(&[11.0, 11.0, 14.0, 16.0]);
        let sides = parse_sides("A:1-2 B:3-4", 4).unwrap();
        let layout = lay_out(&sides, &lengths, 0, RATE, &lp);
        // 22 min: half way from 20 (0 dB) to 24 (-3 dB); 30 min: past the chart.
        assert!((layout[0].level_allowed_db.unwrap() + 1.5).abs() < 1e-9);
        assert!((layout[0].minutes_over_reference - 2.0).abs() < 1e-9);
        assert_eq!(layout[1].level_allowed_db, None);
        let e = check_maximum(&layout, &lp).unwrap_err();
        assert!(
            e.contains("side B is 30:00 long, 2:00 over the 28 min"),
            "{e}"
        );
        assert!(!e.contains("side A"), "{e}");
    }
}
