//! Issue 29, the DDP 2.0 image (`src/offline/ddp.rs`, `fairmaster-render disc --ddp DIR`): the
//! catalogue number's check digit against GS1's published examples, the CD-Text CRC against the
//! CRC catalogue's check value, the PQ entries against the hand-computed layout, the metadata
//! file's new fields and their errors, and an album rendered end to end whose DDP image is read
//! back by an independent reader: the public Java library ddpLib (`../shared/tools/ddp-check.jar`
//! and `tests/ddp/DdpPq.java`, which calls its API), whose track count, indices, ISRCs, flags and
//! catalogue number must be ours, and whose dumped tracks must equal the CUE sheet's disc image
//! bit for bit.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use common::signals::pink_noise;
use fairmaster::offline::audio_io::{write_wav_atomic, OutputFormat};
use fairmaster::offline::cd::{
    cue_sheet, gtin_check_digit, layout_disc, read_metadata, CatalogNumber, CdTime, PcmFormat,
    SAMPLES_PER_CD_FRAME,
};
use fairmaster::offline::cli::{parse_args, run, Command};
use fairmaster::offline::ddp::{
    cd_text, cd_text_crc, check_ddp, ddp_id, pq_description, pq_entries, PqTrack,
    CD_TEXT_PACK_BYTES, CONTROL_COPY_PERMITTED, CONTROL_PRE_EMPHASIS,
};
use fairmaster::offline::report::RunReport;
use fairmaster::offline::{Audio, OfflineError};

fn scratch_dir(test: &str) -> PathBuf {
    common::scratch_dir("ddp", test)
}

fn write_text(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// Catalogue number (UPC-A / EAN-13) and ISRC.

#[test]
fn catalogue_numbers_check_their_gs1_check_digit() {
    // GS1's and the barcode articles' published examples: EAN-13 4006381333931 (check digit 1),
    // UPC-A 036000291452 (check digit 2), EAN-13 9780306406157 (ISBN-13 example, check 7).
    assert_eq!(gtin_check_digit(&[4, 0, 0, 6, 3, 8, 1, 3, 3, 3, 9, 3]), 1);
    assert_eq!(gtin_check_digit(&[0, 3, 6, 0, 0, 0, 2, 9, 1, 4, 5]), 2);
    assert_eq!(gtin_check_digit(&[9, 7, 8, 0, 3, 0, 6, 4, 0, 6, 1, 5]), 7);
    assert_eq!(
        CatalogNumber::parse("4006381333931").unwrap().as_str(),
        "4006381333931"
    );
    // A UPC-A is stored as 13 digits with a leading zero.
    assert_eq!(
        CatalogNumber::parse("036000291452").unwrap().as_str(),
        "0036000291452"
    );
    // As printed under a barcode.
    assert_eq!(
        CatalogNumber::parse("0 36000 29145 2").unwrap().as_str(),
        "0036000291452"
    );
    let wrong = CatalogNumber::parse("4006381333932").unwrap_err();
    assert!(
        wrong.contains("check digit is 2") && wrong.contains("give 1"),
        "{wrong}"
    );
    let short = CatalogNumber::parse("40063813339").unwrap_err();
    assert!(short.contains("11 digits"), "{short}");
    let letter = CatalogNumber::parse("40063813339X1").unwrap_err();
    assert!(letter.contains("'X'"), "{letter}");
}

const ALBUM_METADATA: &str = r#"{
  "title": "Deux Saisons",
  "performer": "The Examples",
  "upc": "036000291452",
  "copy_permitted": true,
  "tracks": [
    { "title": "Opening", "isrc": "GB-AYE-67-00001" },
    { "title": "Middle", "performer": "Guest", "pre_emphasis": true },
    { "title": "Closing", "isrc": "GBAYE6700003", "pregap_seconds": 0 }
  ]
}"#;

#[test]
fn the_metadata_file_reads_the_catalogue_number_and_the_flags() {
    let dir = scratch_dir("metadata");
    let metadata = read_metadata(&write_text(&dir, "album.json", ALBUM_METADATA), 3).unwrap();
    assert_eq!(metadata.catalog.unwrap().as_str(), "0036000291452");
    assert!(metadata.copy_permitted);
    let pre: Vec<bool> = metadata.tracks.iter().map(|t| t.pre_emphasis).collect();
    assert_eq!(pre, vec![false, true, false]);
    // "ean" is the same field.
    let ean = ALBUM_METADATA.replace("\"upc\": \"036000291452\"", "\"ean\": \"4006381333931\"");
    let metadata = read_metadata(&write_text(&dir, "ean.json", &ean), 3).unwrap();
    assert_eq!(metadata.catalog.unwrap().as_str(), "4006381333931");
    // Without them: no catalogue number, no flags.
    let plain = r#"{"title": "A", "performer": "B", "tracks": [{"title": "C"}]}"#;
    let metadata = read_metadata(&write_text(&dir, "plain.json", plain), 1).unwrap();
    assert_eq!(metadata.catalog, None);
    assert!(!metadata.copy_permitted && !metadata.tracks[0].pre_emphasis);
}

#[test]
fn each_metadata_error_names_the_file_and_the_field() {
    let dir = scratch_dir("metadata-errors");
    let cases: [(&str, String, &[&str]); 6] = [
        (
            "bad-upc",
            ALBUM_METADATA.replace("036000291452", "036000291453"),
            &["upc:", "check digit is 3", "give 2"],
        ),
        (
            "short-ean",
            ALBUM_METADATA.replace("\"upc\": \"036000291452\"", "\"ean\": \"40063813\""),
            &["upc:", "8 digits", "12-digit UPC-A or a 13-digit EAN-13"],
        ),
        (
            "both",
            ALBUM_METADATA.replace("\"upc\"", "\"ean\": \"4006381333931\", \"upc\""),
            &["duplicate field"],
        ),
        (
            "short-isrc",
            ALBUM_METADATA.replace("GBAYE6700003", "GBAYE67000"),
            &["tracks[2].isrc (track 3)", "10 characters"],
        ),
        (
            "flag-not-bool",
            ALBUM_METADATA.replace("\"pre_emphasis\": true", "\"pre_emphasis\": \"yes\""),
            &["not a valid CD metadata file", "expected a boolean"],
        ),
        (
            "misspelt-flag",
            ALBUM_METADATA.replace("copy_permitted", "copy_allowed"),
            &["unknown field `copy_allowed`"],
        ),
    ];
    for (name, text, expected) in cases {
        let path = write_text(&dir, &format!("{name}.json"), &text);
        let error: OfflineError = read_metadata(&path, 3).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains(&format!("{name}.json")), "{name}: {shown}");
        for part in expected {
            assert!(shown.contains(part), "{name}: {shown:?} lacks {part:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PQ entries, packets, CD-Text.

/// The 3-track disc of tests/cd.rs: track 1 751 frames (INDEX 01 00:00:00 in the CUE sheet),
/// track 2 with a 2 s pregap from frame 751 (00:10:01) and INDEX 01 at 901 (00:12:01), 375
/// frames; track 3 gapless at 1276 (00:17:01), 301 frames; the image 1577 frames. In the DDP
/// every time is 150 frames (2 s, track 1's pregap in IMAGE.DAT) later.
const TRACK_SAMPLES: [usize; 3] = [441_100, 220_500, 300 * SAMPLES_PER_CD_FRAME + 1];
const PREGAPS: [usize; 3] = [0, 150, 0];

#[test]
fn pq_entries_sit_at_the_cue_sheets_times_plus_the_first_pregap() {
    let dir = scratch_dir("pq-entries");
    let metadata = read_metadata(&write_text(&dir, "album.json", ALBUM_METADATA), 3).unwrap();
    let layout = layout_disc(&TRACK_SAMPLES, &PREGAPS, PcmFormat::RED_BOOK);
    let entries = pq_entries(&layout, &metadata);
    let shown: Vec<(PqTrack, u8, String, u8, Option<String>)> = entries
        .iter()
        .map(|e| {
            (
                e.track,
                e.index,
                e.time.to_string(),
                e.control,
                e.isrc.clone(),
            )
        })
        .collect();
    let copy = CONTROL_COPY_PERMITTED;
    let isrc = |s: &str| Some(s.to_string());
    assert_eq!(
        shown,
        vec![
            (PqTrack::LeadIn, 0, "00:00:00".into(), copy, None),
            (
                PqTrack::Track(1),
                0,
                "00:00:00".into(),
                copy,
                isrc("GBAYE6700001")
            ),
            (PqTrack::Track(1), 1, "00:02:00".into(), copy, None),
            (
                PqTrack::Track(2),
                0,
                "00:12:01".into(),
                copy | CONTROL_PRE_EMPHASIS,
                None
            ),
            (
                PqTrack::Track(2),
                1,
                "00:14:01".into(),
                copy | CONTROL_PRE_EMPHASIS,
                None
            ),
            (
                PqTrack::Track(3),
                1,
                "00:19:01".into(),
                copy,
                isrc("GBAYE6700003")
            ),
            (PqTrack::LeadOut, 1, "00:23:02".into(), copy, None),
        ]
    );
    assert_eq!(
        entries[0].catalog.as_ref().map(|c| c.as_str()),
        Some("0036000291452")
    );
    // Every DDP time is the CUE sheet's + 150 frames (the same layout).
    let cue = cue_sheet(&layout, &metadata, "album.cd.wav").unwrap();
    for (entry, line) in entries
        .iter()
        .filter(|e| matches!(e.track, PqTrack::Track(n) if n > 1 || e.index == 1))
        .zip(cue.lines().filter(|l| l.trim_start().starts_with("INDEX")))
    {
        let cue_time = line.split_whitespace().nth(2).unwrap();
        let cue_frames = {
            let parts: Vec<usize> = cue_time.split(':').map(|p| p.parse().unwrap()).collect();
            (parts[0] * 60 + parts[1]) * 75 + parts[2]
        };
        assert_eq!(
            entry.time,
            CdTime::from_cd_frames(cue_frames + 150),
            "{line}"
        );
    }
    // The CUE sheet carries the same catalogue number and flags.
    assert!(cue.contains("CATALOG 0036000291452\n"), "{cue}");
    assert_eq!(cue.matches("FLAGS DCP PRE\n").count(), 1, "{cue}");
    assert_eq!(cue.matches("FLAGS DCP\n").count(), 2, "{cue}");
}

#[test]
fn pq_packets_and_the_ddp_id_have_the_field_widths_ddplib_reads() {
    let dir = scratch_dir("pq-packets");
    let metadata = read_metadata(&write_text(&dir, "album.json", ALBUM_METADATA), 3).unwrap();
    let layout = layout_disc(&TRACK_SAMPLES, &PREGAPS, PcmFormat::RED_BOOK);
    let bytes = pq_description(&pq_entries(&layout, &metadata));
    assert_eq!(bytes.len(), 7 * 64);
    let packet = |i: usize| String::from_utf8(bytes[i * 64..(i + 1) * 64].to_vec()).unwrap();
    // VVVS, track, index, hours, minutes, seconds, frames, control+ADR, reserved, ISRC, UPC, text.
    assert_eq!(
        packet(0),
        format!("VVVS00000000000021  {:12}0036000291452{:19}", "", "")
    );
    assert_eq!(
        packet(1),
        format!("VVVS01000000000021  GBAYE6700001{:13}{:19}", "", "")
    );
    assert_eq!(&packet(4)[..20], "VVVS02010000140131  ");
    assert_eq!(&packet(6)[..20], "VVVSAA010000230221  ");
    let id = ddp_id(metadata.catalog.as_ref());
    assert_eq!(id.len(), 128);
    assert_eq!(&id[..21], b"DDP 2.000036000291452");
    assert_eq!(&id[87..93], b"CD1010");
}

#[test]
fn the_cd_text_crc_matches_the_crc_catalogues_check_value() {
    // CRC-16/XMODEM (poly 0x1021, init 0, no reflection) has the catalogue check value 0x31C3
    // over "123456789" (Greg Cook, "Catalogue of parametrised CRC algorithms"); CD-Text stores
    // its bits inverted (MMC-3 annex J).
    assert_eq!(cd_text_crc(b"123456789"), 0xCE3C);
}

#[test]
fn cd_text_packs_carry_the_titles_in_12_byte_pieces_with_their_crcs() {
    let dir = scratch_dir("cd-text");
    let text = ALBUM_METADATA.replace("Deux Saisons", "Été");
    let metadata = read_metadata(&write_text(&dir, "album.json", &text), 3).unwrap();
    let bytes = cd_text(&metadata);
    assert_eq!(bytes.len() % CD_TEXT_PACK_BYTES, 0);
    let packs: Vec<&[u8]> = bytes.chunks(CD_TEXT_PACK_BYTES).collect();
    for (sequence, pack) in packs.iter().enumerate() {
        assert_eq!(usize::from(pack[2]), sequence, "sequence numbers run on");
        let crc = u16::from_be_bytes([pack[16], pack[17]]);
        assert_eq!(crc, cd_text_crc(&pack[..16]), "pack {sequence}");
    }
    // Titles: "Été\0Opening\0Middle\0Closing\0" in Latin-1 = 4 + 8 + 7 + 8 = 27 bytes: 3 packs.
    let titles: Vec<u8> = packs
        .iter()
        .filter(|p| p[0] == 0x80)
        .flat_map(|p| p[4..16].to_vec())
        .collect();
    assert_eq!(&titles[..27], b"\xC9t\xE9\0Opening\0Middle\0Closing\0");
    let title_packs: Vec<(u8, u8)> = packs
        .iter()
        .filter(|p| p[0] == 0x80)
        .map(|p| (p[1], p[3]))
        .collect();
    // "Été\0Opening\0" fills pack 1 exactly: pack 2 starts with track 2's title (character
    // position 0), pack 3 at byte 24, track 3's 6th character (position 5: "Closi" before).
    assert_eq!(title_packs, vec![(0, 0), (2, 0), (3, 5)]);
    // The size information: ISO 8859-1, tracks 1-3, 3 title packs, 3 performer packs, the
    // UPC/ISRC packs, 3 size packs, the last sequence number, English.
    let info: Vec<u8> = packs
        .iter()
        .filter(|p| p[0] == 0x8F)
        .flat_map(|p| p[4..16].to_vec())
        .collect();
    assert_eq!(&info[..4], &[0, 1, 3, 0]);
    assert_eq!(info[4], 3);
    assert_eq!(info[4 + 15], 3);
    assert_eq!(usize::from(info[20]), packs.len() - 1);
    assert_eq!(info[28], 0x09);
}

#[test]
fn cd_text_beyond_one_blocks_256_packs_is_refused_with_the_count() {
    let dir = scratch_dir("cd-text-too-long");
    // 30 tracks with 80-character titles: 30 * 81 + 2 bytes ("A\0" the album) = 203 title
    // packs, the performers ("B\0" 31 times) 6, the size information 3: 212 fit; 40 tracks need
    // 271 title packs alone and do not.
    for (tracks, fits) in [(30, true), (40, false)] {
        let entries: Vec<String> = (0..tracks)
            .map(|i| format!(r#"{{"title": "{i:02}{}"}}"#, "x".repeat(78)))
            .collect();
        let text = format!(
            r#"{{"title": "A", "performer": "B", "tracks": [{}]}}"#,
            entries.join(",")
        );
        let metadata = read_metadata(&write_text(&dir, "long.json", &text), tracks).unwrap();
        let samples = vec![5 * 44_100; tracks];
        let layout = layout_disc(&samples, &metadata.pregap_cd_frames(), PcmFormat::RED_BOOK);
        let result = check_ddp(&layout, &metadata);
        if fits {
            result.unwrap();
            assert!(cd_text(&metadata).len() / CD_TEXT_PACK_BYTES <= 256);
        } else {
            let error = result.unwrap_err().to_string();
            assert!(
                error.contains("CD-Text needs") && error.contains("at most 256"),
                "{error}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// End to end: `disc --ddp`, read back by ddpLib.

/// The independent reader: java and ddp-check.jar beside the project (`../shared/tools`).
/// Missing: a failure under CI=true, a skip with the reason otherwise.
fn ddp_reader() -> Option<PathBuf> {
    let jar = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/ddp-check.jar");
    let java = Process::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = match (java, jar.is_file()) {
        (true, true) => return Some(jar),
        (false, _) => {
            "java (Debian: default-jre-headless libslf4j-java; scripts/test.sh installs them)"
                .to_string()
        }
        (true, false) => format!("{} (see ../shared/tools/README.md)", jar.display()),
    };
    let message = format!("the independent DDP reader needs {missing}");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}");
    }
    eprintln!("skipping: {message}");
    None
}

fn java(args: &[&str]) -> String {
    let output = Process::new("java")
        .args(["-Dfile.encoding=UTF-8", "-Dsun.stdout.encoding=UTF-8"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "java {args:?} failed:\n{stdout}\n{stderr}"
    );
    // The library's warnings are defects too (tools README).
    assert!(
        !stderr.contains("WARN") && !stderr.contains("ERROR"),
        "java {args:?} warned:\n{stderr}"
    );
    stdout
}

fn disc_job(args: &[String]) -> Result<RunReport, OfflineError> {
    let mut list = args.to_vec();
    list.push("--quiet".into());
    let Command::Render(options) = parse_args(&list).map_err(OfflineError::new)? else {
        panic!("not a render")
    };
    run(&options)
}

/// 16-bit samples of a WAV, interleaved, read with `hound`.
fn wav_samples(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec, samples)
}

/// A short song: stereo pink noise with a decaying 80 Hz beat, `seconds` long at 44.1 kHz.
fn song(seconds: f64, seed: u64) -> Audio {
    let n = (seconds * 44_100.0) as usize;
    let channels = (0..2)
        .map(|c| {
            let noise = pink_noise(n, seed * 2 + c, -20.0);
            (0..n)
                .map(|i| {
                    let t = (i as f64 / 44_100.0) % 0.5;
                    let beat = 0.25 * (-t * 12.0).exp() * (std::f64::consts::TAU * 80.0 * t).sin();
                    noise[i] + beat as f32
                })
                .collect()
        })
        .collect();
    Audio {
        sample_rate: 44_100,
        channels,
    }
}

#[test]
fn a_disc_job_writes_a_ddp_image_that_ddplib_reads_back_bit_for_bit() {
    let Some(jar) = ddp_reader() else { return };
    let jar = jar.display().to_string();
    let dir = scratch_dir("end-to-end");
    // Lengths off the frame grid, so padding shows; 4.1 s > the 4 s minimum.
    let seconds = [4.1, 4.6, 4.3];
    let mut args = vec!["disc".to_string()];
    for (i, s) in seconds.iter().enumerate() {
        let path = dir.join(format!("song{}.wav", i + 1));
        write_wav_atomic(&path, &song(*s, i as u64 + 1), OutputFormat::Float32, true).unwrap();
        args.push(path.display().to_string());
    }
    let metadata = write_text(&dir, "album.json", ALBUM_METADATA);
    let ddp = dir.join("ddp");
    let out = dir.join("out");
    args.extend(
        [
            "--cd-metadata",
            &metadata.display().to_string(),
            "--out-dir",
            &out.display().to_string(),
            "--ddp",
            &ddp.display().to_string(),
            "--jobs",
            "1",
        ]
        .map(String::from),
    );
    let report = disc_job(&args).unwrap();
    let disc = report.disc.expect("a disc report");
    assert_eq!(
        disc.ddp.as_deref(),
        Some(ddp.display().to_string().as_str())
    );
    let mut names: Vec<String> = std::fs::read_dir(&ddp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "CDTEXT.BIN",
            "DDPID",
            "DDPMS",
            "IMAGE.DAT",
            "PQDESCR",
            "PQLIST.HTML",
            "PQLIST.TXT",
            "checksum.md5"
        ]
    );

    // The checksum file, checked by coreutils' md5sum (an independent MD5).
    let md5 = Process::new("md5sum")
        .arg("-c")
        .arg("checksum.md5")
        .current_dir(&ddp)
        .output();
    if let Ok(md5) = md5 {
        let shown = String::from_utf8_lossy(&md5.stdout);
        assert!(md5.status.success(), "{shown}");
        assert_eq!(shown.matches(": OK").count(), 7, "{shown}");
    }

    // ddp-check: level, track count, CD-Text, UPC/EAN; every track dumped as a WAV.
    let dumps = dir.join("dumps");
    let info = java(&[
        "-jar",
        &jar,
        &format!("{}/", ddp.display()),
        &dumps.display().to_string(),
    ]);
    for line in [
        "DDP Level: DDP 2.00",
        "Tracks count: 3",
        "Album: The Examples - Deux Saisons",
        "Track 1: The Examples - Opening",
        "Track 2: Guest - Middle",
        "Track 3: The Examples - Closing",
        "UPC/EAN: 0036000291452",
    ] {
        assert!(info.lines().any(|l| l == line), "{line:?} not in\n{info}");
    }

    // DdpPq: the PQ entries as ddpLib parses them.
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ddp/DdpPq.java");
    let pq = java(&[
        "-cp",
        &jar,
        &source.display().to_string(),
        &format!("{}/", ddp.display()),
    ]);
    let lines: Vec<&str> = pq.lines().collect();
    assert_eq!(lines[0], "DDPID_UPC 0036000291452", "{pq}");
    let entries: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| l.starts_with("PQ "))
        .map(|l| l.split(' ').skip(1).collect())
        .collect();
    // The layout, from the inputs' lengths: frames = ceil(samples / 588).
    let frames: Vec<usize> = seconds
        .iter()
        .map(|s| ((s * 44_100.0) as usize).div_ceil(SAMPLES_PER_CD_FRAME))
        .collect();
    let t = |f: usize| CdTime::from_cd_frames(f).to_string();
    let track2_index0 = 150 + frames[0];
    let track2_index1 = track2_index0 + 150;
    let track3_index1 = track2_index1 + frames[1];
    let lead_out = track3_index1 + frames[2];
    let expected: Vec<Vec<String>> = [
        ["00", "0", "0", "00:00:00", "21", "null", "0036000291452"],
        ["01", "1", "0", "00:00:00", "21", "GBAYE6700001", "null"],
        ["01", "1", "1", &t(150), "21", "null", "null"],
        ["02", "2", "0", &t(track2_index0), "31", "null", "null"],
        ["02", "2", "1", &t(track2_index1), "31", "null", "null"],
        [
            "03",
            "3",
            "1",
            &t(track3_index1),
            "21",
            "GBAYE6700003",
            "null",
        ],
        ["AA", "4", "1", &t(lead_out), "21", "null", "null"],
    ]
    .iter()
    .map(|row| row.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(entries, expected, "{pq}");

    // The dumped tracks equal the CUE sheet's disc image bit for bit: ddpLib dumps each track
    // from its INDEX 01 to the next track's first index (its INDEX 00, or INDEX 01 when
    // gapless) or the lead-out, i.e. the track's audio, its padding to the frame, and nothing
    // of the next pregap.
    let (spec, image) = wav_samples(Path::new(&disc.image));
    assert_eq!(
        (spec.sample_rate, spec.bits_per_sample, spec.channels),
        (44_100, 16, 2)
    );
    // CUE-image times = DDP times - 150 frames; in interleaved 16-bit samples.
    let span = |from: usize, to: usize| {
        &image[(from - 150) * SAMPLES_PER_CD_FRAME * 2..(to - 150) * SAMPLES_PER_CD_FRAME * 2]
    };
    let bounds = [
        (150, track2_index0),
        (track2_index1, track3_index1),
        (track3_index1, lead_out),
    ];
    for (k, (from, to)) in bounds.iter().enumerate() {
        let (dump_spec, dumped) = wav_samples(&dumps.join(format!("{:02}.wav", k + 1)));
        assert_eq!(
            (
                dump_spec.sample_rate,
                dump_spec.bits_per_sample,
                dump_spec.channels
            ),
            (44_100, 16, 2)
        );
        let expected = span(*from, *to);
        assert_eq!(dumped.len(), expected.len(), "track {} length", k + 1);
        assert!(
            dumped == expected,
            "track {} differs from the disc image",
            k + 1
        );
        // And it is the track's own master, bit for bit, then digital silence.
        let master = out.join(format!("song{}.master.wav", k + 1));
        let (_, master) = wav_samples(&master);
        assert_eq!(&dumped[..master.len()], &master[..], "track {}", k + 1);
        assert!(dumped[master.len()..].iter().all(|&s| s == 0));
        assert!(
            master.iter().any(|&s| s != 0),
            "track {} is not silence",
            k + 1
        );
    }
    // IMAGE.DAT: the 2 s pregap, then the CUE image's samples, little-endian.
    let image_dat = std::fs::read(ddp.join("IMAGE.DAT")).unwrap();
    assert_eq!(image_dat.len(), lead_out * 2352);
    assert!(image_dat[..150 * 2352].iter().all(|&b| b == 0));
    let from_dat: Vec<i16> = image_dat[150 * 2352..]
        .chunks(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(from_dat == image);

    // The PQ sheet lists every entry.
    let sheet = std::fs::read_to_string(ddp.join("PQLIST.TXT")).unwrap();
    assert!(sheet.contains("UPC/EAN:    0036000291452"), "{sheet}");
    assert!(
        sheet.contains(&format!("lead-out 01    {}", t(lead_out))),
        "{sheet}"
    );
    assert!(sheet.contains("GBAYE6700003"), "{sheet}");

    // Again without --force: refused before any render, the image untouched.
    let before = std::fs::metadata(ddp.join("IMAGE.DAT"))
        .unwrap()
        .modified()
        .unwrap();
    let mut again = args.clone();
    again.retain(|a| a != "--out-dir" && *a != out.display().to_string());
    let error = disc_job(&again).unwrap_err().to_string();
    assert!(error.contains("DDP folder exists; pass --force"), "{error}");
    let after = std::fs::metadata(ddp.join("IMAGE.DAT"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
    // With --force the image is replaced, and nothing else is left beside it (no hidden
    // partial folder, no old folder moved aside).
    again.push("--force".into());
    disc_job(&again).unwrap();
    let image_again = std::fs::read(ddp.join("IMAGE.DAT")).unwrap();
    assert!(
        image_again == image_dat,
        "the same album gives the same image"
    );
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("ddp"))
        .collect();
    left.sort();
    assert_eq!(left, ["ddp"]);
}

#[test]
fn a_bad_catalogue_number_stops_the_disc_job_before_anything_is_written() {
    let dir = scratch_dir("bad-upc");
    let mut args = vec!["disc".to_string()];
    for i in 0..3 {
        let path = dir.join(format!("song{}.wav", i + 1));
        write_wav_atomic(&path, &song(4.1, i + 10), OutputFormat::Float32, true).unwrap();
        args.push(path.display().to_string());
    }
    let metadata = write_text(
        &dir,
        "album.json",
        &ALBUM_METADATA.replace("036000291452", "036000291450"),
    );
    let out = dir.join("out");
    let ddp = dir.join("ddp");
    args.extend(
        [
            "--cd-metadata",
            &metadata.display().to_string(),
            "--out-dir",
            &out.display().to_string(),
            "--ddp",
            &ddp.display().to_string(),
        ]
        .map(String::from),
    );
    let error = disc_job(&args).unwrap_err().to_string();
    assert!(
        error.contains("album.json") && error.contains("upc:") && error.contains("check digit"),
        "{error}"
    );
    assert!(!ddp.exists() && !out.exists(), "nothing may be written");
}

#[test]
fn the_disc_job_takes_only_a_cd_target_and_needs_inputs() {
    let parse = |args: &[&str]| {
        let list: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(&list)
    };
    let error = parse(&["disc", "a.wav", "--target", "spotify"]).unwrap_err();
    assert!(error.contains("the disc job masters for CD"), "{error}");
    let error = parse(&["disc", "--ddp", "out"]).unwrap_err();
    assert!(error.contains("needs the album's INPUT files"), "{error}");
    let Command::Render(options) = parse(&["disc", "a.wav", "b.wav", "--ddp", "d"]).unwrap() else {
        panic!("not a job")
    };
    assert!(options.disc);
    assert_eq!(options.ddp.as_deref(), Some(Path::new("d")));
    assert_eq!(options.format, OutputFormat::Int16);
    assert!(matches!(
        options.target,
        Some(fairmaster::offline::cli::TargetSpec::Cd { .. })
    ));
    // --ddp belongs to the disc job.
    assert!(parse(&["master", "a.wav", "b.wav", "--target", "cd", "--ddp", "d"]).is_err());
}
