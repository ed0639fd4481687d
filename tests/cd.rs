//! Red Book CD delivery (`src/offline/cd.rs`): the disc layout on 588-sample CD frames, the
//! disc image, the Red Book limits, the metadata file and the CUE sheet, which is read back
//! by an independent parser (the `cuna` crate) and must say exactly what was laid out.

mod common;

use std::path::{Path, PathBuf};

use fairmaster::offline::cd::{
    check_red_book, cue_sheet, disc_image, latin1_bytes, layout_disc, read_metadata, CdMetadata,
    CdTime, CdTrackMetadata, DiscLayout, Isrc, PcmFormat, RedBookViolation, MAX_PROGRAM_CD_FRAMES,
    SAMPLES_PER_CD_FRAME,
};
use fairmaster::offline::Audio;

const RATE: usize = 44_100;

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("cd", test)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The 3-track disc of the layout tests:
/// * track 1: 10 s + 100 samples = 441 100 samples = 750 frames + 100 samples -> 751 frames
///   (488 samples of padding); no pregap in the image; INDEX 01 00:00:00.
/// * track 2: default 2 s pregap (150 frames) at frame 751 = 00:10:01, INDEX 01 at frame 901 =
///   00:12:01; exactly 5 s = 220 500 samples = 375 frames, no padding; ends at frame 1276.
/// * track 3: gapless (pregap 0, no INDEX 00), INDEX 01 at frame 1276 = 00:17:01;
///   300 frames + 1 sample = 176 401 samples -> 301 frames (587 samples of padding).
/// * image: 1276 + 301 = 1577 frames = 00:21:02.
const TRACK_SAMPLES: [usize; 3] = [441_100, 220_500, 300 * SAMPLES_PER_CD_FRAME + 1];
const PREGAPS: [usize; 3] = [0, 150, 0];

fn three_track_layout() -> DiscLayout {
    layout_disc(&TRACK_SAMPLES, &PREGAPS, PcmFormat::RED_BOOK)
}

#[test]
fn a_three_track_layout_has_the_hand_computed_index_positions() {
    let layout = three_track_layout();
    let shown: Vec<(Option<String>, String, usize)> = layout
        .tracks
        .iter()
        .map(|t| {
            (
                t.index_00.map(|i| i.to_string()),
                t.index_01.to_string(),
                t.length.cd_frames,
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (None, "00:00:00".to_string(), 751),
            (Some("00:10:01".to_string()), "00:12:01".to_string(), 375),
            (None, "00:17:01".to_string(), 301),
        ]
    );
    assert_eq!(layout.image_length, CdTime::from_cd_frames(1577));
    assert_eq!(layout.image_length.to_string(), "00:21:02");
    assert_eq!(
        layout
            .tracks
            .iter()
            .map(|t| t.padding_samples())
            .collect::<Vec<_>>(),
        vec![488, 0, 587]
    );
    assert_eq!(layout.tracks[1].pregap(), CdTime::from_cd_frames(150));
    assert_eq!(layout.tracks[2].pregap(), CdTime::from_cd_frames(0));
    // The first 2 s pause is the burner's: the program is the image plus 150 frames.
    assert_eq!(layout.program_length().to_string(), "00:23:02");
    // Every track starts where the previous one (with its pregap) ends.
    for pair in layout.tracks.windows(2) {
        let next_start = pair[1].index_00.unwrap_or(pair[1].index_01);
        assert_eq!(pair[0].end(), next_start);
    }
    assert_eq!(layout.tracks[2].end(), layout.image_length);
}

#[test]
fn missing_pregaps_take_the_defaults_and_long_times_show_minutes() {
    // No pregap list: none before track 1, 2 s before the others.
    let layout = layout_disc(&[60 * RATE, 61 * RATE + 1], &[], PcmFormat::RED_BOOK);
    assert_eq!(layout.tracks[0].index_00, None);
    assert_eq!(layout.tracks[1].index_00.unwrap().to_string(), "01:00:00");
    assert_eq!(layout.tracks[1].index_01.to_string(), "01:02:00");
    assert_eq!(layout.image_length.to_string(), "02:03:01");
    let time = CdTime::from_cd_frames(79 * 60 * 75 + 59 * 75 + 74);
    assert_eq!(
        (time.minutes(), time.seconds(), time.frames()),
        (79, 59, 74)
    );
    assert_eq!(time.to_string(), "79:59:74");
    assert_eq!(time.samples(), time.cd_frames * 588);
}

/// Distinct, non-zero 16-bit sample values (a full-period LCG), so a misplaced or dropped
/// sample cannot go unnoticed.
fn track_signal(seed: u32, frames: usize) -> Vec<f32> {
    let mut state = seed;
    (0..frames)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let value = ((state >> 16) as i16).max(1) as f32;
            value / 32_768.0
        })
        .collect()
}

#[test]
fn the_disc_image_has_each_track_bit_exact_at_its_index_01_and_silence_elsewhere() {
    let layout = three_track_layout();
    let track_1 = Audio {
        sample_rate: 44_100,
        channels: vec![
            track_signal(1, TRACK_SAMPLES[0]),
            track_signal(2, TRACK_SAMPLES[0]),
        ],
    };
    // A mono track: both channels of the image carry it.
    let track_2 = Audio {
        sample_rate: 44_100,
        channels: vec![track_signal(3, TRACK_SAMPLES[1])],
    };
    let track_3 = Audio {
        sample_rate: 44_100,
        channels: vec![
            track_signal(4, TRACK_SAMPLES[2]),
            track_signal(5, TRACK_SAMPLES[2]),
        ],
    };
    let tracks = [&track_1, &track_2, &track_3];
    let image = disc_image(&tracks, &layout);
    assert_eq!(image.sample_rate, 44_100);
    assert_eq!(image.channels.len(), 2);
    assert_eq!(image.frames(), 1577 * 588);
    assert_eq!(image.frames() % SAMPLES_PER_CD_FRAME, 0);

    let mut owned = vec![false; image.frames()];
    for (track, place) in tracks.iter().zip(&layout.tracks) {
        let start = place.index_01.cd_frames * SAMPLES_PER_CD_FRAME;
        assert_eq!(start % SAMPLES_PER_CD_FRAME, 0);
        let (left, right) = track.left_right();
        let end = start + left.len();
        assert_eq!(
            &image.channels[0][start..end],
            left,
            "track {} left",
            place.number
        );
        assert_eq!(
            &image.channels[1][start..end],
            right,
            "track {} right",
            place.number
        );
        owned[start..end].fill(true);
    }
    for channel in &image.channels {
        let stray = channel
            .iter()
            .zip(&owned)
            .position(|(&sample, &is_track)| !is_track && sample.to_bits() != 0);
        assert_eq!(
            stray, None,
            "pregaps and padding must be digital silence (+0.0)"
        );
    }
}

#[test]
fn a_valid_disc_has_no_red_book_violation() {
    assert_eq!(check_red_book(&three_track_layout()), vec![]);
    // Exactly 79:48 of program (image 79:46:00 + the 2 s first pause) is allowed.
    let longest = (MAX_PROGRAM_CD_FRAMES - 150) * SAMPLES_PER_CD_FRAME;
    let layout = layout_disc(&[longest], &[], PcmFormat::RED_BOOK);
    assert_eq!(layout.program_length().to_string(), "79:48:00");
    assert_eq!(check_red_book(&layout), vec![]);
}

#[test]
fn the_red_book_check_names_a_3_s_track() {
    let layout = layout_disc(&[10 * RATE, 3 * RATE, 10 * RATE], &[], PcmFormat::RED_BOOK);
    let violations = check_red_book(&layout);
    assert_eq!(
        violations,
        vec![RedBookViolation::TrackTooShort {
            track: 2,
            length: CdTime::from_cd_frames(225),
        }]
    );
    let text = violations[0].to_string();
    assert!(
        text.contains("track 2") && text.contains("3.00 s") && text.contains("at least 4 s"),
        "{text}"
    );
    // One frame short of 4 s is too short; 4 s exactly is not (the 2 s pregap never counts).
    let layout = layout_disc(&[300 * 588 - 588, 300 * 588], &[], PcmFormat::RED_BOOK);
    assert_eq!(
        check_red_book(&layout),
        vec![RedBookViolation::TrackTooShort {
            track: 1,
            length: CdTime::from_cd_frames(299),
        }]
    );
}

#[test]
fn the_red_book_check_names_a_100_track_disc() {
    let layout = layout_disc(&[5 * RATE; 100], &[], PcmFormat::RED_BOOK);
    let violations = check_red_book(&layout);
    assert_eq!(
        violations,
        vec![RedBookViolation::TooManyTracks { tracks: 100 }]
    );
    let text = violations[0].to_string();
    assert!(
        text.contains("100 tracks") && text.contains("at most 99"),
        "{text}"
    );
    assert_eq!(
        check_red_book(&layout_disc(&[5 * RATE; 99], &[], PcmFormat::RED_BOOK)),
        vec![]
    );
}

#[test]
fn the_red_book_check_names_an_80_minute_disc() {
    // Two 40-minute tracks and the 2 s gap: image 80:02:00, program 80:04:00.
    let layout = layout_disc(&[40 * 60 * RATE; 2], &[], PcmFormat::RED_BOOK);
    let violations = check_red_book(&layout);
    assert_eq!(
        violations,
        vec![RedBookViolation::DiscTooLong {
            program: CdTime::from_cd_frames((80 * 60 + 4) * 75),
        }]
    );
    let text = violations[0].to_string();
    assert!(
        text.contains("80:04:00") && text.contains("79:48:00"),
        "{text}"
    );
    // One frame over 79:48 fails.
    let longest = (MAX_PROGRAM_CD_FRAMES - 150) * SAMPLES_PER_CD_FRAME;
    let layout = layout_disc(&[longest + 1], &[], PcmFormat::RED_BOOK);
    assert_eq!(
        check_red_book(&layout),
        vec![RedBookViolation::DiscTooLong {
            program: CdTime::from_cd_frames(MAX_PROGRAM_CD_FRAMES + 1),
        }]
    );
}

#[test]
fn the_red_book_check_names_the_wrong_format() {
    let format = PcmFormat {
        sample_rate: 48_000,
        bits_per_sample: 24,
        channels: 1,
    };
    let violations = check_red_book(&layout_disc(&[10 * RATE], &[], format));
    assert_eq!(
        violations,
        vec![
            RedBookViolation::SampleRate {
                sample_rate: 48_000
            },
            RedBookViolation::BitsPerSample {
                bits_per_sample: 24
            },
            RedBookViolation::Channels { channels: 1 },
        ]
    );
    let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(text[0].contains("48000 Hz") && text[0].contains("44100 Hz"));
    assert!(text[1].contains("24-bit") && text[1].contains("16-bit"));
    assert!(text[2].contains("1 channel"));
    assert_eq!(
        check_red_book(&layout_disc(&[], &[], PcmFormat::RED_BOOK)),
        vec![RedBookViolation::NoTracks]
    );
}

const METADATA: &str = r#"{
  "title": "Première Album",
  "performer": "The Band",
  "tracks": [
    { "title": "Opening", "isrc": "GBAYE6700001" },
    { "title": "Second Song", "performer": "Guest & The Band", "isrc": "gb-aye-67-00002" },
    { "title": "Gapless Coda", "pregap_seconds": 0 }
  ]
}"#;

#[test]
fn a_metadata_file_reads_with_its_defaults() {
    let dir = scratch_dir("metadata");
    let path = write(&dir, "disc.json", METADATA);
    let metadata = read_metadata(&path, 3).unwrap();
    assert_eq!(
        metadata,
        CdMetadata {
            title: "Première Album".into(),
            performer: "The Band".into(),
            tracks: vec![
                CdTrackMetadata {
                    title: "Opening".into(),
                    performer: "The Band".into(),
                    isrc: Some(Isrc::parse("GBAYE6700001").unwrap()),
                    pregap: CdTime::from_cd_frames(0),
                    pre_emphasis: false,
                },
                CdTrackMetadata {
                    title: "Second Song".into(),
                    performer: "Guest & The Band".into(),
                    isrc: Some(Isrc::parse("GBAYE6700002").unwrap()),
                    pregap: CdTime::from_cd_frames(150),
                    pre_emphasis: false,
                },
                CdTrackMetadata {
                    title: "Gapless Coda".into(),
                    performer: "The Band".into(),
                    isrc: None,
                    pregap: CdTime::from_cd_frames(0),
                    pre_emphasis: false,
                },
            ],
            catalog: None,
            copy_permitted: false,
        }
    );
    assert_eq!(
        metadata.tracks[1].isrc.as_ref().unwrap().as_str(),
        "GBAYE6700002"
    );
    assert_eq!(metadata.pregap_cd_frames(), PREGAPS.to_vec());
    // A pregap in seconds is rounded to the nearest frame: 1.5 s = 112.5 -> 113 frames.
    let path = write(
        &dir,
        "gap.json",
        r#"{"title": "A", "performer": "B", "tracks": [{"title": "1"},
            {"title": "2", "pregap_seconds": 1.5}, {"title": "3", "pregap_seconds": 0.1}]}"#,
    );
    let metadata = read_metadata(&path, 3).unwrap();
    assert_eq!(metadata.pregap_cd_frames(), vec![0, 113, 8]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn isrcs_are_checked_part_by_part() {
    for good in [
        "USRC17607839",
        "usrc17607839",
        "US-RC1-76-07839",
        "QZ0AB2100001",
    ] {
        assert!(Isrc::parse(good).is_ok(), "{good}");
    }
    for (bad, says) in [
        ("USRC1760783", "has 11 characters"),
        ("USRC176078391", "has 13 characters"),
        ("1SRC17607839", "country code \"1S\""),
        ("USR_17607839", "contains '_'"),
        ("USRC1A607839", "year \"A6\""),
        ("USRC1760783X", "designation code \"0783X\""),
        ("US-RC17-6-07839", "has 15 characters"),
        ("ÜSRC17607839", "contains 'Ü'"),
    ] {
        let error = Isrc::parse(bad).unwrap_err();
        assert!(error.contains(says), "{bad}: {error}");
        assert!(error.contains("CCXXXYYNNNNN"), "{bad}: {error}");
    }
}

/// Every bad metadata file is an error naming the file and the field, with the figures.
#[test]
fn bad_metadata_files_name_the_file_and_the_field() {
    let dir = scratch_dir("bad-metadata");
    let long_title = "x".repeat(81);
    let cases: Vec<(String, usize, Vec<&str>)> = vec![
        (
            r#"{"title": "A", "performer": "B", "tracks": [{"title": "1"},
                {"title": "2", "isrc": "USRC1760783"}]}"#
                .into(),
            2,
            vec!["tracks[1].isrc (track 2)", "has 11 characters"],
        ),
        (
            METADATA.into(),
            2,
            vec!["lists 3 track(s)", "2 input file(s)"],
        ),
        (
            r#"{"title": "A \"B\"", "performer": "B", "tracks": [{"title": "1"}]}"#.into(),
            1,
            vec!["title", "double quote"],
        ),
        (
            format!(
                r#"{{"title": "A", "performer": "B", "tracks": [{{"title": "{long_title}"}}]}}"#
            ),
            1,
            vec!["tracks[0].title (track 1)", "81 characters", "at most 80"],
        ),
        (
            r#"{"title": "A", "performer": "B", "tracks": [{"title": "1", "performer": "5 €"}]}"#
                .into(),
            1,
            vec!["tracks[0].performer (track 1)", "U+20AC", "Latin-1"],
        ),
        (
            r#"{"title": "A", "performer": "B", "tracks": [{"title": "1\tTab"}]}"#.into(),
            1,
            vec!["tracks[0].title", "U+0009"],
        ),
        (
            r#"{"title": "", "performer": "B", "tracks": [{"title": "1"}]}"#.into(),
            1,
            vec!["title is empty"],
        ),
        (
            r#"{"title": "A", "performer": "B", "tracks": [{"title": "1", "pregap_seconds": 2}]}"#
                .into(),
            1,
            vec!["tracks[0].pregap_seconds (track 1)", "burner"],
        ),
        (
            r#"{"title": "A", "performer": "B", "tracks": [{"title": "1"},
                {"title": "2", "pregap_seconds": -1}]}"#
                .into(),
            2,
            vec!["tracks[1].pregap_seconds (track 2)", "0 or more"],
        ),
        (
            r#"{"title": "A", "performer": "B", "tracks": [{"title": "1"},
                {"title": "2", "pregap_seconds": 5000}]}"#
                .into(),
            2,
            vec![
                "tracks[1].pregap_seconds (track 2)",
                "longer than a whole CD",
            ],
        ),
        (
            r#"{"title": "A", "performer": "B", "tracks": [{"title": "1", "isrc_code": "x"}]}"#
                .into(),
            1,
            vec!["unknown field `isrc_code`"],
        ),
        (
            r#"{"title": "A", "tracks": [{"title": "1"}]}"#.into(),
            1,
            vec!["missing field `performer`"],
        ),
        ("not json".into(), 1, vec!["not a valid CD metadata file"]),
    ];
    for (i, (text, inputs, says)) in cases.iter().enumerate() {
        let path = write(&dir, &format!("case{i}.json"), text);
        let error = read_metadata(&path, *inputs).unwrap_err();
        assert_eq!(error.path.as_deref(), Some(path.as_path()), "case {i}");
        let shown = error.to_string();
        assert!(shown.starts_with(&path.display().to_string()), "{shown}");
        for part in says {
            assert!(shown.contains(part), "case {i}: {part:?} not in {shown}");
        }
    }
    let missing = dir.join("missing.json");
    let error = read_metadata(&missing, 1).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot read the CD metadata file"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The metadata of [`METADATA`], read through a scratch directory of the calling test's own
/// (tests run in parallel).
fn three_track_metadata(test: &str) -> CdMetadata {
    let dir = scratch_dir(test);
    let metadata = read_metadata(&write(&dir, "disc.json", METADATA), 3).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    metadata
}

#[test]
fn the_cue_sheet_is_exactly_the_cdrwin_format() {
    let sheet = cue_sheet(
        &three_track_layout(),
        &three_track_metadata("cue-exact"),
        "Album.wav",
    )
    .unwrap();
    assert_eq!(
        sheet,
        "PERFORMER \"The Band\"\n\
         TITLE \"Première Album\"\n\
         FILE \"Album.wav\" WAVE\n\
         \x20 TRACK 01 AUDIO\n\
         \x20   TITLE \"Opening\"\n\
         \x20   PERFORMER \"The Band\"\n\
         \x20   ISRC GBAYE6700001\n\
         \x20   INDEX 01 00:00:00\n\
         \x20 TRACK 02 AUDIO\n\
         \x20   TITLE \"Second Song\"\n\
         \x20   PERFORMER \"Guest & The Band\"\n\
         \x20   ISRC GBAYE6700002\n\
         \x20   INDEX 00 00:10:01\n\
         \x20   INDEX 01 00:12:01\n\
         \x20 TRACK 03 AUDIO\n\
         \x20   TITLE \"Gapless Coda\"\n\
         \x20   PERFORMER \"The Band\"\n\
         \x20   INDEX 01 00:17:01\n"
    );
    // Latin-1 on disk: one byte per character, "è" as the byte 0xE8.
    let bytes = latin1_bytes(&sheet).unwrap();
    assert_eq!(bytes.len(), sheet.chars().count());
    assert!(bytes.windows(3).any(|w| w == b"i\xE8r"));
    assert_eq!(latin1_bytes("5 €"), None);
}

/// The sheet read by `cuna`, a CUE parser not written here: the album and track CD-Text, the
/// ISRCs, the file and every INDEX position equal the layout and the metadata.
#[test]
fn an_independent_parser_reads_back_what_the_cue_sheet_says() {
    let layout = three_track_layout();
    let metadata = three_track_metadata("cue-parsed");
    let sheet = cue_sheet(&layout, &metadata, "Album.wav").unwrap();
    let parsed = cuna::Cuna::new(&sheet).unwrap();
    assert_eq!(parsed.title(), &vec![metadata.title.clone()]);
    assert_eq!(parsed.performer(), &vec![metadata.performer.clone()]);
    assert_eq!(parsed.files().len(), 1);
    let file = &parsed.files()[0];
    assert_eq!(
        (file.name.as_str(), file.format.as_str()),
        ("Album.wav", "WAVE")
    );
    assert_eq!(file.tracks.len(), 3);
    for ((track, place), text) in file.tracks.iter().zip(&layout.tracks).zip(&metadata.tracks) {
        assert_eq!(usize::from(track.id()), place.number);
        assert_eq!(track.format(), "AUDIO");
        assert_eq!(track.title(), &vec![text.title.clone()]);
        assert_eq!(track.performer(), &vec![text.performer.clone()]);
        assert_eq!(track.isrc(), text.isrc.as_ref().map(Isrc::as_str));
        let indices: Vec<(u8, usize)> = track
            .index()
            .iter()
            .map(|i| (i.id(), i.begin_time().total_frames() as usize))
            .collect();
        let mut expected = Vec::new();
        if let Some(index_00) = place.index_00 {
            expected.push((0, index_00.cd_frames));
        }
        expected.push((1, place.index_01.cd_frames));
        assert_eq!(indices, expected, "track {}", place.number);
        // Every INDEX 01 is a frame boundary of the image.
        let start_sample = indices.last().unwrap().1 * SAMPLES_PER_CD_FRAME;
        assert_eq!(start_sample, place.index_01.samples());
    }
    // 99 tracks with default gaps read back with the right numbers and starts.
    let layout = layout_disc(&[5 * RATE + 7; 99], &[], PcmFormat::RED_BOOK);
    let metadata = CdMetadata {
        title: "Many".into(),
        performer: "P".into(),
        tracks: (1..=99)
            .map(|n| CdTrackMetadata {
                title: format!("Track {n}"),
                performer: "P".into(),
                isrc: Some(Isrc::parse(&format!("USRC1760{n:04}")).unwrap()),
                pregap: CdTime::from_cd_frames(if n == 1 { 0 } else { 150 }),
                pre_emphasis: false,
            })
            .collect(),
        catalog: None,
        copy_permitted: false,
    };
    let parsed = cuna::Cuna::new(&cue_sheet(&layout, &metadata, "many.wav").unwrap()).unwrap();
    let starts: Vec<(u8, u32)> = parsed
        .tracks()
        .map(|t| (t.id(), t.get_index(1).unwrap().begin_time().total_frames()))
        .collect();
    let expected: Vec<(u8, u32)> = layout
        .tracks
        .iter()
        .map(|t| (t.number as u8, t.index_01.cd_frames as u32))
        .collect();
    assert_eq!(starts, expected);
    assert_eq!(parsed.tracks().last().unwrap().isrc(), Some("USRC17600099"));
}

#[test]
fn the_cue_sheet_refuses_a_file_name_it_cannot_quote_and_a_track_count_mismatch() {
    let layout = three_track_layout();
    let metadata = three_track_metadata("cue-refused");
    for name in ["", "a\"b.wav", "line\nbreak.wav", "日本.wav"] {
        let error = cue_sheet(&layout, &metadata, name).unwrap_err();
        assert!(error.reason.contains("file name"), "{name:?}: {error}");
    }
    let two = layout_disc(&TRACK_SAMPLES[..2], &PREGAPS[..2], PcmFormat::RED_BOOK);
    let error = cue_sheet(&two, &metadata, "x.wav").unwrap_err();
    assert!(error.reason.contains("2 track(s)"), "{error}");
}
