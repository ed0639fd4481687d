//! DDP 2.0 (Disc Description Protocol, Doug Carson & Associates) image of a Red Book disc: what a
//! replication plant loads to cut the glass master, written into one folder:
//!
//! | file | what |
//! |---|---|
//! | `DDPID` | 128 bytes: DDP level `DDP 2.00`, the catalogue number (UPC/EAN), type `CD` |
//! | `DDPMS` | the map stream, one 128-byte packet per stream below (what, where, how long) |
//! | `IMAGE.DAT` | the main channel: the audio, 2352 bytes (588 stereo 16-bit samples) per sector |
//! | `PQDESCR` | the PQ description, 64-byte packets: lead-in, every track's index 00 and 01, lead-out; times, flags, ISRCs, catalogue number |
//! | `CDTEXT.BIN` | CD-Text as the lead-in's 18-byte packs with CRCs (only with a metadata file) |
//! | `PQLIST.TXT`, `PQLIST.HTML` | the PQ sheet for the plant's order form, readable |
//! | `checksum.md5` | MD5 of every other file, `md5sum -c` format, checked by the plant on receipt |
//!
//! The DDP specification is licensed by DCA and not public; the packet layouts here follow the
//! field widths read by the public ddpLib (suntriprecords/ddpLib, GPL-3.0, which our test reads
//! the image back with; its code is not used here), the DVD Forum's public Cutting Master
//! Format pages (dvdforum.org/DVD_Cutting_Master), whose DDVID/DDVMS packets share DDP's field
//! layout, and the CD-Text pack format of SCSI MMC-3 (annex J).
//!
//! Decisions:
//! * **IMAGE.DAT holds track 1's 2 s pregap** (150 sectors of digital silence first), and the
//!   DM map packet says so (`PRE2` = 150, data stream start sector 0). The image is then the
//!   disc's program area sector for sector: a byte offset / 2352 *is* the PQ time (A-time), which
//!   the plant's verification compares directly, and no mastering system has to insert a pause
//!   that the map might describe ambiguously (DDP has two pregap fields and a start-sector field
//!   that tools read differently). The cost, 353 kB of zeros, is nothing. The CUE sheet's image
//!   (`super::cd`) leaves that pause out because a burner writes it; every PQ time here is the
//!   CUE sheet's time + 00:02:00, so the layout is the same ([`pq_entries`]).
//! * **Byte order of IMAGE.DAT: little-endian**, left sample first, as in a WAV's data chunk:
//!   ddpLib's track dumper copies IMAGE.DAT's bytes unchanged under a RIFF/WAVE header, and
//!   images from the mastering tools it was written to extract play correctly that way.
//! * **Catalogue number** in DDPID, in the lead-in PQ packet and (with CD-Text) in the CD-Text's
//!   UPC/EAN pack: readers look in different places (ddpLib prefers CD-Text, then DDPID).
//! * **ISRCs** in each track's first PQ packet (where the PQ format defines them) and, with
//!   CD-Text, in its ISRC packs.
//! * **PQ flags** (`CONTROL` nibble of the Q channel, IEC 60908): 2 = digital copy permitted
//!   (disc-wide `copy_permitted`), 1 = pre-emphasis (per track); written as the hex digit before
//!   ADR 1 (`"01"`, `"21"`, `"11"`, `"31"`). Lead-in and lead-out carry the copy flag only.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use super::audio_io::to_int;
use super::cd::{
    CatalogNumber, CdMetadata, CdTime, DiscLayout, FIRST_PREGAP_CD_FRAMES, SAMPLES_PER_CD_FRAME,
};
use super::{Audio, OfflineError};

/// Bytes of audio per CD sector: 588 stereo samples of 16 bits.
pub const BYTES_PER_SECTOR: usize = SAMPLES_PER_CD_FRAME * 4;
/// The DDPID and DDPMS packet length.
pub const MAP_PACKET_BYTES: usize = 128;
/// The PQ description packet length.
pub const PQ_PACKET_BYTES: usize = 64;
/// A CD-Text pack: 4 header bytes, 12 text bytes, 2 CRC bytes (MMC-3 annex J).
pub const CD_TEXT_PACK_BYTES: usize = 18;
/// The files' names inside the DDP folder (upper case 8.3, as DDP on tape required).
pub const DDPID_FILE: &str = "DDPID";
pub const DDPMS_FILE: &str = "DDPMS";
pub const IMAGE_FILE: &str = "IMAGE.DAT";
pub const PQ_FILE: &str = "PQDESCR";
pub const CD_TEXT_FILE: &str = "CDTEXT.BIN";
pub const PQ_SHEET_TEXT_FILE: &str = "PQLIST.TXT";
pub const PQ_SHEET_HTML_FILE: &str = "PQLIST.HTML";
pub const CHECKSUM_FILE: &str = "checksum.md5";

/// Q-channel CONTROL bit: the audio is pre-emphasised (IEC 60908).
pub const CONTROL_PRE_EMPHASIS: u8 = 0x1;
/// Q-channel CONTROL bit: digital copy permitted (IEC 60908).
pub const CONTROL_COPY_PERMITTED: u8 = 0x2;

/// Which part of the disc a PQ entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PqTrack {
    LeadIn,
    Track(usize),
    LeadOut,
}

/// One PQ description entry: where an index starts on the disc (absolute time from the start of
/// the program area, track 1's pregap included) and what the Q channel says there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PqEntry {
    pub track: PqTrack,
    pub index: u8,
    pub time: CdTime,
    /// The Q channel's CONTROL nibble ([`CONTROL_COPY_PERMITTED`], [`CONTROL_PRE_EMPHASIS`]).
    pub control: u8,
    pub isrc: Option<String>,
    pub catalog: Option<CatalogNumber>,
}

/// The PQ entries of the disc, in order: the lead-in (with the catalogue number), per track its
/// index 00 (track 1 always, at 00:00:00; later tracks when they have a pregap) and index 01
/// (with the ISRC on the track's first entry), and the lead-out (index 01, at the end of the
/// image). Times are the CUE sheet's + 00:02:00 (track 1's pregap is in IMAGE.DAT, module doc).
pub fn pq_entries(layout: &DiscLayout, metadata: &CdMetadata) -> Vec<PqEntry> {
    let shift = |t: CdTime| CdTime::from_cd_frames(t.cd_frames + FIRST_PREGAP_CD_FRAMES);
    let disc_control = if metadata.copy_permitted {
        CONTROL_COPY_PERMITTED
    } else {
        0
    };
    let mut entries = vec![PqEntry {
        track: PqTrack::LeadIn,
        index: 0,
        time: CdTime::from_cd_frames(0),
        control: disc_control,
        isrc: None,
        catalog: metadata.catalog.clone(),
    }];
    for (place, text) in layout.tracks.iter().zip(&metadata.tracks) {
        let control = disc_control
            | if text.pre_emphasis {
                CONTROL_PRE_EMPHASIS
            } else {
                0
            };
        let index_00 = match (place.number, place.index_00) {
            // Track 1's pregap starts the program area, whatever the image adds after it.
            (1, _) => Some(CdTime::from_cd_frames(0)),
            (_, start) => start.map(shift),
        };
        let isrc = text.isrc.as_ref().map(|i| i.as_str().to_string());
        if let Some(time) = index_00 {
            entries.push(PqEntry {
                track: PqTrack::Track(place.number),
                index: 0,
                time,
                control,
                isrc: isrc.clone(),
                catalog: None,
            });
        }
        entries.push(PqEntry {
            track: PqTrack::Track(place.number),
            index: 1,
            time: shift(place.index_01),
            control,
            // The ISRC goes on the track's first entry.
            isrc: if index_00.is_some() { None } else { isrc },
            catalog: None,
        });
    }
    entries.push(PqEntry {
        track: PqTrack::LeadOut,
        index: 1,
        time: shift(layout.image_length),
        control: disc_control,
        isrc: None,
        catalog: None,
    });
    entries
}

/// ASCII `text` left-aligned in `width` bytes, space-padded (DDP's text fields).
fn field(out: &mut Vec<u8>, text: &str, width: usize) {
    debug_assert!(
        text.is_ascii() && text.len() <= width,
        "{text:?} in {width}"
    );
    out.extend_from_slice(text.as_bytes());
    out.extend(std::iter::repeat_n(b' ', width - text.len()));
}

/// A number right-aligned in `width` decimal digits, zero-padded.
fn number(out: &mut Vec<u8>, value: usize, width: usize) {
    let text = format!("{value:0width$}");
    debug_assert_eq!(text.len(), width, "{value} does not fit {width} digits");
    out.extend_from_slice(text.as_bytes());
}

/// `PQDESCR`: one 64-byte packet per entry. Fields (bytes): `VVVS` (4), track `00`-`99` or
/// `AA` for the lead-out (2), index (2), hours (2, reserved: `00`), minutes, seconds, frames
/// (2 each), control byte 1 (2: CONTROL nibble and ADR 1 as hex), control byte 2 (2,
/// reserved: spaces), ISRC (12), UPC/EAN (13), user text (19, spaces).
pub fn pq_description(entries: &[PqEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * PQ_PACKET_BYTES);
    for entry in entries {
        let start = out.len();
        field(&mut out, "VVVS", 4);
        match entry.track {
            PqTrack::LeadIn => field(&mut out, "00", 2),
            PqTrack::Track(n) => number(&mut out, n, 2),
            PqTrack::LeadOut => field(&mut out, "AA", 2),
        }
        number(&mut out, usize::from(entry.index), 2);
        number(&mut out, 0, 2);
        number(&mut out, entry.time.minutes(), 2);
        number(&mut out, entry.time.seconds(), 2);
        number(&mut out, entry.time.frames(), 2);
        field(&mut out, &format!("{:X}1", entry.control), 2);
        field(&mut out, "", 2);
        field(&mut out, entry.isrc.as_deref().unwrap_or(""), 12);
        field(
            &mut out,
            entry.catalog.as_ref().map_or("", |c| c.as_str()),
            13,
        );
        field(&mut out, "", 19);
        debug_assert_eq!(out.len() - start, PQ_PACKET_BYTES);
    }
    out
}

/// `DDPID`, 128 bytes: `DDP 2.00` (8), UPC/EAN (13), map stream start (8) and length (8)
/// (blank: the map is the file `DDPMS`), media number (1, blank), master ID (48, blank), book
/// (1, blank), type `CD` (2), sides `1` (1), side `0` (1), layers `1` (1), layer `0` (1), user
/// text length and text (2 + 33, blank).
pub fn ddp_id(catalog: Option<&CatalogNumber>) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAP_PACKET_BYTES);
    field(&mut out, "DDP 2.00", 8);
    field(&mut out, catalog.map_or("", |c| c.as_str()), 13);
    field(&mut out, "", 8 + 8 + 1 + 48 + 1);
    field(&mut out, "CD", 2);
    field(&mut out, "1010", 4);
    field(&mut out, "", 2 + 33);
    debug_assert_eq!(out.len(), MAP_PACKET_BYTES);
    out
}

/// What one DDPMS packet maps.
enum MapEntry<'a> {
    /// The main channel (`D0`): IMAGE.DAT, `sectors` long, the first 150 the track-1 pause.
    Audio { sectors: usize },
    /// A subcode stream (`S0`): its descriptor (`PQ DESCR`, `CDTEXT`), file and length in bytes.
    Subcode {
        descriptor: &'a str,
        file: &'a str,
        bytes: usize,
    },
}

/// One 128-byte DDPMS packet. Fields (bytes): `VVVM` (4), data stream type (2), data stream
/// pointer (8), length (8: sectors for the main channel, bytes for subcode), start sector (8),
/// subcode descriptor (8), CD mode (2, `DA`), source storage mode (1), scrambled (1), pregap
/// part 1 and 2 and postgap in the stream (4 each), media number (1), track (2), index (2),
/// ISRC (12), name length (3, `017`), file name (17), new-orange flag (1), next pregap (4),
/// pause to add (8), starting file offset (9), reserved (15). Unused fields are blank.
fn map_packet(out: &mut Vec<u8>, entry: &MapEntry) {
    let start = out.len();
    field(out, "VVVM", 4);
    match *entry {
        MapEntry::Audio { sectors } => {
            field(out, "D0", 2);
            number(out, 0, 8);
            number(out, sectors, 8);
            // Start sector 0: the image begins with the track-1 pause (module doc).
            number(out, 0, 8);
            field(out, "", 8);
            field(out, "DA", 2);
            // User data only (the 2352 audio bytes of each sector), not scrambled.
            field(out, "0", 1);
            field(out, "0", 1);
            number(out, 0, 4);
            number(out, FIRST_PREGAP_CD_FRAMES, 4);
            number(out, 0, 4);
            field(out, "", 1);
            number(out, 1, 2);
            field(out, "", 2 + 12);
            field(out, "017", 3);
            field(out, IMAGE_FILE, 17);
        }
        MapEntry::Subcode {
            descriptor,
            file,
            bytes,
        } => {
            field(out, "S0", 2);
            field(out, "", 8);
            number(out, bytes, 8);
            field(out, "", 8);
            field(out, descriptor, 8);
            field(out, "", 2 + 1 + 1 + 4 + 4 + 4 + 1 + 2 + 2 + 12);
            field(out, "017", 3);
            field(out, file, 17);
        }
    }
    field(out, "", 1 + 4 + 8 + 9 + 15);
    debug_assert_eq!(out.len() - start, MAP_PACKET_BYTES);
}

/// `DDPMS`: the main channel, the PQ description and (when given) the CD-Text stream.
pub fn map_stream(image_sectors: usize, pq_bytes: usize, cd_text_bytes: Option<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 * MAP_PACKET_BYTES);
    map_packet(
        &mut out,
        &MapEntry::Audio {
            sectors: image_sectors,
        },
    );
    map_packet(
        &mut out,
        &MapEntry::Subcode {
            descriptor: "PQ DESCR",
            file: PQ_FILE,
            bytes: pq_bytes,
        },
    );
    if let Some(bytes) = cd_text_bytes {
        map_packet(
            &mut out,
            &MapEntry::Subcode {
                descriptor: "CDTEXT",
                file: CD_TEXT_FILE,
                bytes,
            },
        );
    }
    out
}

/// The CRC of a CD-Text pack over its first 16 bytes (MMC-3 annex J): CRC-16 with the CCITT
/// polynomial x^16 + x^12 + x^5 + 1 (0x1021), initial value 0, no reflection, every bit of the
/// result inverted; stored most significant byte first. (CRC-16/XMODEM, inverted.)
pub fn cd_text_crc(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    !crc
}

/// CD-Text pack types used here (MMC-3 annex J).
const PACK_TITLE: u8 = 0x80;
const PACK_PERFORMER: u8 = 0x81;
const PACK_UPC_ISRC: u8 = 0x8E;
const PACK_SIZE_INFO: u8 = 0x8F;
/// Character code ISO 8859-1 and language English (EBU Tech 3258 code 0x09) of the one block.
const CHARACTER_CODE_LATIN1: u8 = 0x00;
const LANGUAGE_ENGLISH: u8 = 0x09;

/// The packs' 16 bytes (CRC not yet appended) of one text type: the strings of the album
/// (track 0) and every track, each ended by a NUL, cut into 12-byte pieces; each pack names the
/// track whose text it starts in and how many of that text's characters came before (0-15,
/// 15 meaning 15 or more).
fn text_packs(pack_type: u8, strings: &[Vec<u8>]) -> Vec<[u8; 16]> {
    let mut bytes: Vec<(u8, usize, usize)> = Vec::new();
    for (track, text) in strings.iter().enumerate() {
        for (position, &b) in text.iter().enumerate() {
            bytes.push((b, track, position));
        }
        bytes.push((0, track, text.len()));
    }
    bytes
        .chunks(12)
        .map(|chunk| {
            let (_, track, position) = chunk[0];
            let mut pack = [0u8; 16];
            pack[0] = pack_type;
            pack[1] = track as u8;
            pack[3] = position.min(15) as u8;
            for (i, &(b, _, _)) in chunk.iter().enumerate() {
                pack[4 + i] = b;
            }
            pack
        })
        .collect()
}

/// `CDTEXT.BIN`: one block (ISO 8859-1, English) of album and track titles (0x80),
/// performers (0x81), the UPC/EAN and ISRCs (0x8E, when the disc has any), and the three
/// size-information packs (0x8F) that count them; sequence numbers run over the block, every
/// pack carries its CRC ([`cd_text_crc`]). The metadata is validated Latin-1 (`super::cd`).
pub fn cd_text(metadata: &CdMetadata) -> Vec<u8> {
    let latin1 = |s: &str| -> Vec<u8> { s.chars().map(|c| c as u32 as u8).collect() };
    let titles: Vec<Vec<u8>> = std::iter::once(latin1(&metadata.title))
        .chain(metadata.tracks.iter().map(|t| latin1(&t.title)))
        .collect();
    let performers: Vec<Vec<u8>> = std::iter::once(latin1(&metadata.performer))
        .chain(metadata.tracks.iter().map(|t| latin1(&t.performer)))
        .collect();
    let mut packs = text_packs(PACK_TITLE, &titles);
    packs.extend(text_packs(PACK_PERFORMER, &performers));
    let has_codes = metadata.catalog.is_some() || metadata.tracks.iter().any(|t| t.isrc.is_some());
    if has_codes {
        let codes: Vec<Vec<u8>> =
            std::iter::once(metadata.catalog.as_ref().map_or("", |c| c.as_str()))
                .chain(
                    metadata
                        .tracks
                        .iter()
                        .map(|t| t.isrc.as_ref().map_or("", |i| i.as_str())),
                )
                .map(|s| s.as_bytes().to_vec())
                .collect();
        packs.extend(text_packs(PACK_UPC_ISRC, &codes));
    }
    // Size information: 36 bytes over three packs.
    let total = packs.len() + 3;
    let mut info = [0u8; 36];
    info[0] = CHARACTER_CODE_LATIN1;
    info[1] = 1;
    info[2] = metadata.tracks.len() as u8;
    info[3] = 0; // no copyright protection of the text
    for pack in &packs {
        // Saturating: a block of more than 255 packs is refused by check_ddp, which calls this.
        let count = &mut info[4 + usize::from(pack[0] - 0x80)];
        *count = count.saturating_add(1);
    }
    info[4 + 15] = 3;
    info[20] = (total - 1) as u8; // last sequence number of block 0
    info[28] = LANGUAGE_ENGLISH;
    for (i, piece) in info.chunks(12).enumerate() {
        let mut pack = [0u8; 16];
        pack[0] = PACK_SIZE_INFO;
        pack[1] = i as u8;
        pack[4..16].copy_from_slice(piece);
        packs.push(pack);
    }
    let mut out = Vec::with_capacity(total * CD_TEXT_PACK_BYTES);
    for (sequence, pack) in packs.iter_mut().enumerate() {
        pack[2] = sequence as u8;
        out.extend_from_slice(pack);
        out.extend_from_slice(&cd_text_crc(pack).to_be_bytes());
    }
    out
}

/// The most packs one CD-Text block may hold: sequence numbers are one byte (MMC-3).
pub const MAX_CD_TEXT_PACKS: usize = 256;

/// The PQ sheet as text: the disc, then one line per PQ entry with its absolute time, the
/// track's length from index 01, pregap, flags, ISRC and CD-Text.
pub fn pq_sheet_text(layout: &DiscLayout, metadata: &CdMetadata, entries: &[PqEntry]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "PQ sheet (DDP 2.0 image, Red Book CD-DA)");
    if metadata.has_cd_text() {
        let _ = writeln!(s, "Title:      {}", metadata.title);
        let _ = writeln!(s, "Performer:  {}", metadata.performer);
    }
    let _ = writeln!(
        s,
        "UPC/EAN:    {}",
        metadata.catalog.as_ref().map_or("none", |c| c.as_str())
    );
    let _ = writeln!(s, "Tracks:     {}", layout.tracks.len());
    let _ = writeln!(
        s,
        "Total time: {} (lead-out; track 1's 2 s pregap included)",
        lead_out(entries)
    );
    let _ = writeln!(
        s,
        "Copy:       {}",
        if metadata.copy_permitted {
            "digital copy permitted"
        } else {
            "digital copy not permitted"
        }
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<8} {:<5} {:<8} {:<8} {:<8} {:<9} {:<12} Title / Performer",
        "Track", "Index", "Start", "Length", "Pregap", "Flags", "ISRC"
    );
    for row in sheet_rows(layout, metadata, entries) {
        let _ = writeln!(
            s,
            "{:<8} {:<5} {:<8} {:<8} {:<8} {:<9} {:<12} {}",
            row.track, row.index, row.start, row.length, row.pregap, row.flags, row.isrc, row.text
        );
        s.truncate(s.trim_end().len());
        s.push('\n');
    }
    s
}

/// The PQ sheet as a standalone HTML page (the same rows as [`pq_sheet_text`]).
pub fn pq_sheet_html(layout: &DiscLayout, metadata: &CdMetadata, entries: &[PqEntry]) -> String {
    let e = crate::offline::html_report::escape;
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>PQ sheet</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em}\
         table{border-collapse:collapse}td,th{border:1px solid #999;padding:.25em .6em;\
         text-align:left}td.t{font-family:monospace}</style></head><body>\n",
    );
    let _ = writeln!(
        s,
        "<h1>PQ sheet</h1>\n<p>DDP 2.0 image, Red Book CD-DA</p><table>"
    );
    let mut fact = |name: &str, value: &str| {
        let _ = writeln!(s, "<tr><th>{}</th><td>{}</td></tr>", e(name), e(value));
    };
    if metadata.has_cd_text() {
        fact("Title", &metadata.title);
        fact("Performer", &metadata.performer);
    }
    fact(
        "UPC/EAN",
        metadata.catalog.as_ref().map_or("none", |c| c.as_str()),
    );
    fact("Tracks", &layout.tracks.len().to_string());
    fact(
        "Total time",
        &format!("{} (track 1's 2 s pregap included)", lead_out(entries)),
    );
    fact(
        "Copy",
        if metadata.copy_permitted {
            "digital copy permitted"
        } else {
            "digital copy not permitted"
        },
    );
    s.push_str(
        "</table>\n<h2>PQ entries</h2>\n<table><tr><th>Track</th><th>Index</th>\
                <th>Start</th><th>Length</th><th>Pregap</th><th>Flags</th><th>ISRC</th>\
                <th>Title / Performer</th></tr>\n",
    );
    for row in sheet_rows(layout, metadata, entries) {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td>\
             <td class=\"t\">{}</td><td>{}</td><td class=\"t\">{}</td><td>{}</td></tr>",
            e(&row.track),
            e(&row.index),
            e(&row.start),
            e(&row.length),
            e(&row.pregap),
            e(&row.flags),
            e(&row.isrc),
            e(&row.text)
        );
    }
    s.push_str(
        "</table>\n<p>Times are MM:SS:FF (75 frames per second) from the start of the \
                program area.</p>\n</body></html>\n",
    );
    s
}

fn lead_out(entries: &[PqEntry]) -> CdTime {
    entries
        .iter()
        .find(|e| e.track == PqTrack::LeadOut)
        .map_or(CdTime::default(), |e| e.time)
}

struct SheetRow {
    track: String,
    index: String,
    start: String,
    length: String,
    pregap: String,
    flags: String,
    isrc: String,
    text: String,
}

fn sheet_rows(layout: &DiscLayout, metadata: &CdMetadata, entries: &[PqEntry]) -> Vec<SheetRow> {
    entries
        .iter()
        .map(|entry| {
            let mut row = SheetRow {
                track: String::new(),
                index: format!("{:02}", entry.index),
                start: entry.time.to_string(),
                length: String::new(),
                pregap: String::new(),
                flags: flags_text(entry.control),
                isrc: String::new(),
                text: String::new(),
            };
            match entry.track {
                PqTrack::LeadIn => row.track = "lead-in".into(),
                PqTrack::LeadOut => row.track = "lead-out".into(),
                PqTrack::Track(n) => {
                    row.track = format!("{n:02}");
                    let place = &layout.tracks[n - 1];
                    let text = &metadata.tracks[n - 1];
                    row.isrc = text.isrc.as_ref().map_or(String::new(), |i| i.to_string());
                    if entry.index == 1 {
                        row.length = place.length.to_string();
                        let pregap = if n == 1 {
                            CdTime::from_cd_frames(
                                FIRST_PREGAP_CD_FRAMES + place.pregap().cd_frames,
                            )
                        } else {
                            place.pregap()
                        };
                        row.pregap = pregap.to_string();
                        if metadata.has_cd_text() {
                            row.text = format!("{} / {}", text.title, text.performer);
                        }
                    }
                }
            }
            row
        })
        .collect()
}

fn flags_text(control: u8) -> String {
    let mut flags = Vec::new();
    if control & CONTROL_COPY_PERMITTED != 0 {
        flags.push("COPY");
    }
    if control & CONTROL_PRE_EMPHASIS != 0 {
        flags.push("PRE");
    }
    if flags.is_empty() {
        "-".into()
    } else {
        flags.join(" ")
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct DdpSummary {
    pub dir: PathBuf,
    /// The files in the folder, in the order of `checksum.md5` (the checksum file last).
    pub files: Vec<String>,
    pub image_sectors: usize,
    pub lead_out: CdTime,
}

/// Checks that the disc can be described in DDP and CD-Text: a layout and metadata of the same
/// track count and CD-Text that fits one block. Called before any render.
pub fn check_ddp(layout: &DiscLayout, metadata: &CdMetadata) -> Result<(), OfflineError> {
    if layout.tracks.len() != metadata.tracks.len() {
        return Err(OfflineError::new(format!(
            "the disc has {} track(s) but the metadata describes {}",
            layout.tracks.len(),
            metadata.tracks.len()
        )));
    }
    if metadata.has_cd_text() {
        let packs = cd_text(metadata).len() / CD_TEXT_PACK_BYTES;
        if packs > MAX_CD_TEXT_PACKS {
            return Err(OfflineError::new(format!(
                "the CD-Text needs {packs} packs; one block holds at most {MAX_CD_TEXT_PACKS} \
                 (MMC-3): shorten the titles"
            )));
        }
    }
    Ok(())
}

/// Writes the DDP image of the disc `image` (the CUE sheet's disc image: 44.1 kHz stereo, every
/// sample on the 16-bit grid, laid out by `layout`) into the folder `dir`. Everything goes into
/// a hidden sibling folder first, which is renamed to `dir` only when complete; an existing
/// `dir` is refused unless `force`, and with `force` replaced only once the new image is in
/// place. Nothing is left behind on failure.
pub fn write_ddp(
    dir: &Path,
    layout: &DiscLayout,
    metadata: &CdMetadata,
    image: &Audio,
    force: bool,
) -> Result<DdpSummary, OfflineError> {
    check_ddp(layout, metadata)?;
    if image.channels.len() != 2 || image.frames() != layout.image_length.samples() {
        return Err(OfflineError::file(
            dir,
            format!(
                "the disc image is {} channel(s) of {} samples; the layout needs 2 of {}",
                image.channels.len(),
                image.frames(),
                layout.image_length.samples()
            ),
        ));
    }
    if dir.exists() && !force {
        return Err(OfflineError::file(
            dir,
            "DDP folder exists; pass --force to replace it",
        ));
    }
    let (Some(name), parent) = (dir.file_name(), dir.parent()) else {
        return Err(OfflineError::file(
            dir,
            "not a usable folder name for a DDP image",
        ));
    };
    let parent = match parent {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(OfflineError::file(
            &parent,
            "folder does not exist; create it first (the DDP folder is made inside it)",
        ));
    }
    let partial = parent.join(format!(
        ".{}.fairmaster-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    crate::files::remove_path(&partial).map_err(|e| {
        OfflineError::file(
            &partial,
            format!("cannot remove a stale partial image: {e}"),
        )
    })?;
    let result = std::fs::create_dir(&partial)
        .map_err(|e| OfflineError::file(&partial, format!("cannot create folder: {e}")))
        .and_then(|()| write_contents(&partial, layout, metadata, image))
        .and_then(|summary| {
            crate::files::replace_dir(&partial, dir, force, "DDP folder")?;
            Ok(DdpSummary {
                dir: dir.to_path_buf(),
                ..summary
            })
        });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

fn write_contents(
    dir: &Path,
    layout: &DiscLayout,
    metadata: &CdMetadata,
    image: &Audio,
) -> Result<DdpSummary, OfflineError> {
    let entries = pq_entries(layout, metadata);
    let pq = pq_description(&entries);
    let cd_text = metadata.has_cd_text().then(|| cd_text(metadata));
    let image_sectors = FIRST_PREGAP_CD_FRAMES + layout.image_length.cd_frames;
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        (DDPID_FILE, ddp_id(metadata.catalog.as_ref())),
        (
            DDPMS_FILE,
            map_stream(image_sectors, pq.len(), cd_text.as_ref().map(Vec::len)),
        ),
        (PQ_FILE, pq),
    ];
    if let Some(bytes) = cd_text {
        files.push((CD_TEXT_FILE, bytes));
    }
    files.push((
        PQ_SHEET_TEXT_FILE,
        pq_sheet_text(layout, metadata, &entries).into_bytes(),
    ));
    files.push((
        PQ_SHEET_HTML_FILE,
        pq_sheet_html(layout, metadata, &entries).into_bytes(),
    ));
    let mut checksums = String::new();
    let mut names = Vec::new();
    let image_md5 = write_image(&dir.join(IMAGE_FILE), image)?;
    let _ = writeln!(checksums, "{image_md5} *{IMAGE_FILE}");
    names.push(IMAGE_FILE.to_string());
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| OfflineError::file(&path, format!("cannot write: {e}")))?;
        let _ = writeln!(checksums, "{} *{name}", hex(&Md5::digest(bytes)));
        names.push(name.to_string());
    }
    let path = dir.join(CHECKSUM_FILE);
    std::fs::write(&path, checksums)
        .map_err(|e| OfflineError::file(&path, format!("cannot write: {e}")))?;
    names.push(CHECKSUM_FILE.to_string());
    Ok(DdpSummary {
        dir: dir.to_path_buf(),
        files: names,
        image_sectors,
        lead_out: lead_out(&entries),
    })
}

/// IMAGE.DAT: 150 sectors of digital silence (track 1's pregap), then the disc image as 16-bit
/// little-endian interleaved stereo, left first (module doc), streamed; returns its MD5.
fn write_image(path: &Path, image: &Audio) -> Result<String, OfflineError> {
    let error = |e: std::io::Error| OfflineError::file(path, format!("cannot write: {e}"));
    let file = std::fs::File::create(path).map_err(error)?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut md5 = Md5::new();
    let silence = vec![0u8; FIRST_PREGAP_CD_FRAMES * BYTES_PER_SECTOR];
    writer.write_all(&silence).map_err(error)?;
    md5.update(&silence);
    let (left, right) = (&image.channels[0], &image.channels[1]);
    let mut chunk = Vec::with_capacity(BYTES_PER_SECTOR * 75);
    for (l, r) in left
        .chunks(SAMPLES_PER_CD_FRAME * 75)
        .zip(right.chunks(SAMPLES_PER_CD_FRAME * 75))
    {
        chunk.clear();
        for (&a, &b) in l.iter().zip(r) {
            chunk.extend_from_slice(&(to_int(a, 16) as i16).to_le_bytes());
            chunk.extend_from_slice(&(to_int(b, 16) as i16).to_le_bytes());
        }
        writer.write_all(&chunk).map_err(error)?;
        md5.update(&chunk);
    }
    writer.flush().map_err(error)?;
    writer.get_ref().sync_all().map_err(error)?;
    Ok(hex(&md5.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_spans_packs_with_its_character_position_capped_at_15() {
        // Album "A" (2 bytes with its NUL), track 1 a 40-character title: packs start at bytes
        // 0, 12, 24, 36 = album position 0, track 1 positions 10, 22 (capped to 15), 34
        // (capped), and the last pack holds track 1's end and its NUL.
        let strings = vec![b"A".to_vec(), vec![b'x'; 40]];
        let packs = text_packs(PACK_TITLE, &strings);
        let headers: Vec<(u8, u8, u8)> = packs.iter().map(|p| (p[0], p[1], p[3])).collect();
        assert_eq!(
            headers,
            vec![(0x80, 0, 0), (0x80, 1, 10), (0x80, 1, 15), (0x80, 1, 15)]
        );
        // 2 + 41 = 43 bytes: the last pack holds 7 and is padded with zeros.
        assert_eq!(&packs[3][4..16], b"xxxxxx\0\0\0\0\0\0");
    }
}
