//! Reference playback on the audio thread: which slot plays, where in it, and how jumps stay
//! click-free. Plain Rust, allocation-free; tracks arrive ready-made (see `library.rs`).
//!
//! * **Position.** In sync mode the reference follows the host transport: the frame heard at
//!   timeline position `t` is `t - chain latency + the slot's offset`, so switching between the
//!   master (delayed by the chain's latency, which the host compensates) and the reference lands
//!   on the same musical moment. Stopped transport = silence. In free mode the reference loops
//!   on its own clock.
//! * **Loop.** Positions outside the slot's loop `[start, end)` wrap into it.
//! * **Jumps** (loop wrap, host relocation, slot change, start/stop) are equal-power
//!   crossfades of [`JUMP_FADE_SECONDS`] from the old read position (continuing past the jump)
//!   to the new one: the buffer is random access, so both exist.

use std::sync::Arc;

use crate::dsp::util::db_to_gain;
use crate::reference::track::{ReferenceTrack, SafetyLoudness};

/// Half the 3 s short-term window: how far ahead of the read position the reference's
/// short-term window ends (see [`ReferencePlayer::loudness`]).
const SHORT_TERM_LEAD_SECONDS: f64 = 1.5;

/// Reference slots (Metric AB has 16, REFERENCE 2 has 12, LSP Referencer 4).
pub const REFERENCE_SLOTS: usize = 8;
/// Crossfade at a jump of the read position.
pub const JUMP_FADE_SECONDS: f32 = 0.010;

/// How the reference is brought to the master's loudness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    /// The reference's gated integrated loudness over its loop against the master's
    /// integrated loudness since the meter reset.
    #[default]
    Integrated,
    /// Both 3 s short-term loudnesses, slewed (follows the music section by section).
    ShortTerm,
    /// Each played at what the chosen platform's normalisation makes of it
    /// (`targets::PLATFORMS`), the master included.
    AsStreamed,
}

/// Per-slot controls (the editor's loop handles, trim and alignment), persisted in the state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotControls {
    /// Loop start in seconds of the track.
    pub loop_start_seconds: f64,
    /// Loop end in seconds; at or before the start = the end of the track.
    pub loop_end_seconds: f64,
    /// Extra gain after matching, dB.
    pub trim_db: f32,
    /// Where the reference starts relative to the host timeline, seconds (auto-align sets it).
    pub offset_seconds: f64,
}

impl Default for SlotControls {
    fn default() -> Self {
        Self {
            loop_start_seconds: 0.0,
            loop_end_seconds: 0.0,
            trim_db: 0.0,
            offset_seconds: 0.0,
        }
    }
}

/// Plain reference settings (host parameters and the persisted slot controls).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceSettings {
    /// Slot being compared, `0..REFERENCE_SLOTS`.
    pub slot: usize,
    pub sync_to_host: bool,
    pub match_mode: MatchMode,
    /// Index into `targets::PLATFORMS` for [`MatchMode::AsStreamed`].
    pub platform: usize,
    pub slots: [SlotControls; REFERENCE_SLOTS],
}

impl Default for ReferenceSettings {
    fn default() -> Self {
        Self {
            slot: 0,
            sync_to_host: true,
            match_mode: MatchMode::Integrated,
            platform: 0,
            slots: [SlotControls::default(); REFERENCE_SLOTS],
        }
    }
}

/// The host transport for one block (plain copy of what the framework reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transport {
    pub playing: bool,
    /// Timeline position of the block's first frame, in samples at the session rate.
    pub position_samples: Option<i64>,
}

/// What the level match needs to know about the reference being played.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceLoudness {
    /// Integrated loudness over the loop (LUFS).
    pub loop_integrated_lufs: f32,
    /// Short-term loudness of the 3 s centred on the current read position (LUFS).
    pub short_term_lufs: f32,
    /// Whole-track integrated loudness and true peak: what a streaming service measures.
    pub track_integrated_lufs: f32,
    pub track_true_peak_dbtp: f32,
    pub trim_db: f32,
    /// The loop's integrated and the current short-term loudness heard through the safety
    /// limiter at each point of its limiting curve (`track::SafetyCurve`; `None` for a
    /// silent track).
    pub loop_limited_lufs: Option<SafetyLoudness>,
    pub short_term_limited_lufs: Option<SafetyLoudness>,
}

/// A read position: slot and frame (may run past the loop end while a jump fades out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReadPosition {
    slot: usize,
    frame: i64,
}

/// The loop's integrated loudness, raw and through the safety limiter, and what it was
/// computed for: it changes only with the track, the loop or the limiting curve's arrival, and
/// computing it walks every 100 ms block of the loop seven times (a 5-minute loop: ~3000
/// blocks), far too much for every chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LoopLoudness {
    /// The track's address: which of the installed tracks (any install clears the cache, so
    /// a freed track's address reused by a new one never matches).
    track: usize,
    start: usize,
    end: usize,
    with_curve: bool,
    integrated_lufs: f32,
    limited_lufs: Option<SafetyLoudness>,
}

pub struct ReferencePlayer {
    /// The loop figures last computed by [`Self::loudness`].
    loop_loudness: Option<LoopLoudness>,
    tracks: [Option<Arc<ReferenceTrack>>; REFERENCE_SLOTS],
    settings: ReferenceSettings,
    transport: Transport,
    sample_rate: f32,
    /// Free-running clock (frames), advanced every block.
    free_clock: i64,
    /// Where the next frame reads if playback is continuous; `None` = silence.
    next: Option<ReadPosition>,
    /// The read position being faded out after a jump, and the fade's progress (0 → 1).
    fading_from: Option<ReadPosition>,
    fade_progress: f32,
    fade_step: f32,
}

impl Default for ReferencePlayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ReferencePlayer {
    pub fn new() -> Self {
        Self {
            tracks: Default::default(),
            settings: ReferenceSettings::default(),
            transport: Transport::default(),
            sample_rate: 48_000.0,
            free_clock: 0,
            next: None,
            fading_from: None,
            fade_progress: 1.0,
            fade_step: 1.0 / (JUMP_FADE_SECONDS * 48_000.0),
            loop_loudness: None,
        }
    }

    /// Prepares for a session rate (tracks must then be re-delivered at it: a track at another
    /// rate is never played).
    pub fn reset(&mut self, sample_rate: f32) {
        self.sample_rate = crate::dsp::util::usable_sample_rate(sample_rate);
        self.fade_step = 1.0 / (JUMP_FADE_SECONDS * self.sample_rate);
        self.free_clock = 0;
        self.next = None;
        self.fading_from = None;
        self.fade_progress = 1.0;
    }

    /// Puts a track in a slot (or empties it) and returns the one it replaces, which the caller
    /// must not drop on the audio thread (the library retires it). Allocation-free.
    pub fn install(
        &mut self,
        slot: usize,
        track: Option<Arc<ReferenceTrack>>,
    ) -> Option<Arc<ReferenceTrack>> {
        if slot >= REFERENCE_SLOTS {
            return track;
        }
        if self.next.is_some_and(|p| p.slot == slot) {
            self.next = None; // the new content fades in from silence
        }
        if self.fading_from.is_some_and(|p| p.slot == slot) {
            self.fading_from = None;
        }
        // A new track may sit where a freed one was: the cached loop figures are not its.
        self.loop_loudness = None;
        std::mem::replace(&mut self.tracks[slot], track)
    }

    pub fn set(&mut self, settings: &ReferenceSettings) {
        self.settings = *settings;
        self.settings.slot = settings.slot.min(REFERENCE_SLOTS - 1);
    }

    pub fn settings(&self) -> &ReferenceSettings {
        &self.settings
    }

    pub fn set_transport(&mut self, transport: Transport) {
        self.transport = transport;
    }

    /// The transport at the next frame to be processed (advanced chunk by chunk).
    pub fn transport(&self) -> Transport {
        self.transport
    }

    pub fn track(&self, slot: usize) -> Option<&ReferenceTrack> {
        self.tracks.get(slot)?.as_deref()
    }

    /// The selected slot's track, if one is loaded at the session rate.
    pub fn current(&self) -> Option<&ReferenceTrack> {
        self.playable(self.settings.slot)
    }

    fn playable(&self, slot: usize) -> Option<&ReferenceTrack> {
        self.track(slot)
            .filter(|t| t.sample_rate == self.sample_rate && t.frames() > 0)
    }

    /// `[start, end)` of a slot's loop in frames, clamped to the track.
    pub fn loop_frames(&self, slot: usize) -> Option<(usize, usize)> {
        let track = self.playable(slot)?;
        let controls = &self.settings.slots[slot];
        let frames = track.frames();
        let fs = f64::from(track.sample_rate);
        let to_frames = |s: f64| {
            if s.is_finite() && s > 0.0 {
                ((s * fs).round() as usize).min(frames)
            } else {
                0
            }
        };
        let start = to_frames(controls.loop_start_seconds).min(frames - 1);
        let end = to_frames(controls.loop_end_seconds);
        let end = if end <= start { frames } else { end };
        Some((start, end))
    }

    /// Loudness figures of the selected reference at the current read position, or, while it
    /// is not played, where it would read (`latency` and `lead` as for [`Self::render`]).
    pub fn loudness(&mut self, latency: usize, lead: usize) -> Option<ReferenceLoudness> {
        let slot = self.settings.slot;
        let (start, end) = self.loop_frames(slot)?;
        let track = self.current()?;
        let key = (
            track as *const ReferenceTrack as usize,
            start,
            end,
            track.safety().is_some(),
        );
        let loop_loudness = match self.loop_loudness {
            Some(l) if (l.track, l.start, l.end, l.with_curve) == key => l,
            _ => LoopLoudness {
                track: key.0,
                start,
                end,
                with_curve: key.3,
                integrated_lufs: track.loudness.integrated_lufs(start, end),
                limited_lufs: track.safety().and_then(|c| c.integrated_lufs(start, end)),
            },
        };
        let position = self
            .next
            .or_else(|| self.position_at(0, latency, lead))
            .filter(|p| p.slot == slot)
            .map_or(start, |p| (p.frame.max(0) as usize).clamp(start, end));
        // The reference's short-term window is centred on what plays now (the file is known
        // ahead); the master's can only trail. With both trailing, the gain followed each
        // reference section 1.5 s late and a section change was heard too loud or too soft
        // until the window caught up: on real music up to 0.7 LU over a 20 s section (issue
        // 24), 0.1 LU centred.
        let centred = position + (SHORT_TERM_LEAD_SECONDS * f64::from(track.sample_rate)) as usize;
        let figures = ReferenceLoudness {
            loop_integrated_lufs: loop_loudness.integrated_lufs,
            short_term_lufs: track.loudness.short_term_lufs(centred.min(end), start),
            track_integrated_lufs: track.summary.integrated_lufs,
            track_true_peak_dbtp: track.summary.true_peak_dbtp,
            trim_db: sanitized_trim(self.settings.slots[slot].trim_db),
            loop_limited_lufs: loop_loudness.limited_lufs,
            short_term_limited_lufs: track
                .safety()
                .and_then(|c| c.short_term_lufs(centred.min(end), start)),
        };
        self.loop_loudness = Some(loop_loudness);
        Some(figures)
    }

    /// Where frame `i` of the current block (negative = before it) reads, without playback
    /// state: the transport/free clock mapped into the selected slot's loop. `lead` frames are
    /// added (the reference path's safety-limiter lookahead), `latency` subtracted in sync
    /// mode (the chain's delay).
    fn position_at(&self, i: i64, latency: usize, lead: usize) -> Option<ReadPosition> {
        let slot = self.settings.slot;
        let (start, end) = self.loop_frames(slot)?;
        let (start, end) = (start as i64, end as i64);
        if !self.settings.sync_to_host {
            // Free-running: the clock counts from the loop start.
            let t = self.free_clock + i + lead as i64;
            return Some(ReadPosition {
                slot,
                frame: start + t.rem_euclid(end - start),
            });
        }
        if !self.transport.playing {
            return None;
        }
        let offset = self.settings.slots[slot].offset_seconds;
        let offset = if offset.is_finite() {
            (offset * f64::from(self.sample_rate)).round() as i64
        } else {
            0
        };
        let t = self.transport.position_samples? - latency as i64 + offset + i + lead as i64;
        let frame = if (start..end).contains(&t) {
            t
        } else {
            start + (t - start).rem_euclid(end - start)
        };
        Some(ReadPosition { slot, frame })
    }

    fn sample(&self, p: ReadPosition) -> (f32, f32) {
        match self.track(p.slot) {
            Some(t) if p.frame >= 0 && (p.frame as usize) < t.frames() => {
                (t.left[p.frame as usize], t.right[p.frame as usize])
            }
            _ => (0.0, 0.0),
        }
    }

    /// Renders the raw reference (before matching) for the next `left.len()` frames and
    /// advances playback. Allocation-free.
    pub fn render(&mut self, left: &mut [f32], right: &mut [f32], latency: usize, lead: usize) {
        let n = left.len().min(right.len());
        let first = self.position_at(0, latency, lead);
        // Steady case: continuous with the last block, no fade, and the block stays inside
        // the loop: one copy.
        if self.fading_from.is_none() {
            if let (Some(p), Some(next)) = (first, self.next) {
                if p == next {
                    if let (Some(track), Some((_, end))) =
                        (self.playable(p.slot), self.loop_frames(p.slot))
                    {
                        let from = p.frame as usize;
                        let contiguous = self.position_at(n as i64 - 1, latency, lead)
                            == Some(ReadPosition {
                                slot: p.slot,
                                frame: p.frame + n as i64 - 1,
                            });
                        if from + n <= end && contiguous {
                            left[..n].copy_from_slice(&track.left[from..from + n]);
                            right[..n].copy_from_slice(&track.right[from..from + n]);
                            self.next = Some(ReadPosition {
                                slot: p.slot,
                                frame: p.frame + n as i64,
                            });
                            self.advance_clock(n);
                            return;
                        }
                    }
                }
            }
        }
        let half_pi = std::f32::consts::FRAC_PI_2;
        for i in 0..n {
            let target = self.position_at(i as i64, latency, lead);
            if target != self.next {
                // A jump: fade out from where playback would have continued (from silence
                // when nothing played: an out-of-range slot reads zeros).
                self.fading_from = Some(self.next.unwrap_or(ReadPosition {
                    slot: REFERENCE_SLOTS,
                    frame: 0,
                }));
                self.fade_progress = 0.0;
            }
            let (mut l, mut r) = target.map_or((0.0, 0.0), |p| self.sample(p));
            if let Some(from) = self.fading_from {
                self.fade_progress = (self.fade_progress + self.fade_step).min(1.0);
                let (gain_in, gain_out) = (self.fade_progress * half_pi).sin_cos();
                let (ol, or) = self.sample(from);
                l = l * gain_in + ol * gain_out;
                r = r * gain_in + or * gain_out;
                self.fading_from = (self.fade_progress < 1.0).then_some(ReadPosition {
                    slot: from.slot,
                    frame: from.frame + 1,
                });
            }
            left[i] = l;
            right[i] = r;
            self.next = target.map(|p| ReadPosition {
                slot: p.slot,
                frame: p.frame + 1,
            });
        }
        self.advance_clock(n);
    }

    /// Renders the `out.len()` frames that precede the next block's first frame, without
    /// changing playback state (primes the reference path's safety limiter).
    pub fn render_preceding(
        &self,
        left: &mut [f32],
        right: &mut [f32],
        latency: usize,
        lead: usize,
    ) {
        let n = left.len().min(right.len()) as i64;
        for (k, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
            let p = self.position_at(k as i64 - n, latency, lead);
            (*l, *r) = p.map_or((0.0, 0.0), |p| self.sample(p));
        }
    }

    /// Playback has no audible reference to offer: nothing loaded in the slot, or (sync mode)
    /// the transport stopped.
    pub fn is_silent(&self) -> bool {
        self.position_at(0, 0, 0).is_none() && self.fading_from.is_none()
    }

    /// Advances the clocks of a block in which the reference was not rendered (not heard).
    pub fn skip(&mut self, n: usize) {
        self.next = None;
        self.fading_from = None;
        self.advance_clock(n);
    }

    fn advance_clock(&mut self, n: usize) {
        self.free_clock = self.free_clock.wrapping_add(n as i64);
        if let Some(position) = self.transport.position_samples.as_mut() {
            if self.transport.playing {
                *position += n as i64;
            }
        }
    }
}

/// Trim from a state or parameter: finite and within ±24 dB, else 0.
pub fn sanitized_trim(trim_db: f32) -> f32 {
    if trim_db.is_finite() {
        trim_db.clamp(-24.0, 24.0)
    } else {
        0.0
    }
}

/// Linear gain of a trim.
pub fn trim_gain(trim_db: f32) -> f32 {
    db_to_gain(sanitized_trim(trim_db))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::decode::DecodedStereo;
    use crate::test_signals::largest_step;

    pub(crate) fn track_from(left: Vec<f32>, right: Vec<f32>, fs: u32) -> Arc<ReferenceTrack> {
        let decoded = DecodedStereo {
            left,
            right,
            sample_rate: fs,
            source_rate: fs,
            source_channels: 2,
            format: "test".into(),
            content_hash: 0,
        };
        Arc::new(ReferenceTrack::analyse(decoded, "test.wav".into()))
    }

    fn ramp_track(frames: usize, fs: u32) -> Arc<ReferenceTrack> {
        let left: Vec<f32> = (0..frames).map(|i| i as f32).collect();
        let right: Vec<f32> = (0..frames).map(|i| -(i as f32)).collect();
        track_from(left, right, fs)
    }

    fn render(player: &mut ReferencePlayer, n: usize, latency: usize) -> (Vec<f32>, Vec<f32>) {
        let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
        player.render(&mut l, &mut r, latency, 0);
        (l, r)
    }

    #[test]
    fn sync_mode_reads_the_timeline_minus_the_chain_latency() {
        let mut player = ReferencePlayer::new();
        player.reset(48_000.0);
        player.install(0, Some(ramp_track(48_000, 48_000)));
        player.set_transport(Transport {
            playing: true,
            position_samples: Some(10_000),
        });
        // First block after start: a fade-in from silence; afterwards exact samples.
        let _ = render(&mut player, 1000, 300);
        let (l, r) = render(&mut player, 256, 300);
        // Second block starts at timeline 11 000, heard frame 11 000 - 300.
        assert_eq!(l[0], 10_700.0);
        assert_eq!(l[255], 10_955.0);
        assert_eq!(r[10], -10_710.0);
    }

    #[test]
    fn stopped_transport_is_silence_and_a_slot_without_track_too() {
        let mut player = ReferencePlayer::new();
        player.reset(48_000.0);
        player.install(1, Some(ramp_track(48_000, 48_000)));
        player.set_transport(Transport {
            playing: false,
            position_samples: Some(1000),
        });
        let (l, _) = render(&mut player, 512, 0);
        assert!(l.iter().all(|&x| x == 0.0));
        player.set_transport(Transport {
            playing: true,
            position_samples: Some(1000),
        });
        // Slot 0 is empty.
        let (l, _) = render(&mut player, 512, 0);
        assert!(l.iter().all(|&x| x == 0.0));
        assert!(player.is_silent());
    }

    #[test]
    fn free_mode_loops_over_the_region_with_a_crossfade_at_the_wrap() {
        let fs = 48_000;
        let mut player = ReferencePlayer::new();
        player.reset(fs as f32);
        // A 1 kHz sine: a wrap at an arbitrary phase would click without the fade.
        let tone = crate::test_signals::sine(fs as usize * 2, 1000.0, fs as f32, 0.5);
        player.install(0, Some(track_from(tone.clone(), tone.clone(), fs)));
        let mut settings = ReferenceSettings {
            sync_to_host: false,
            ..Default::default()
        };
        settings.slots[0].loop_start_seconds = 0.25;
        settings.slots[0].loop_end_seconds = 0.500_123;
        player.set(&settings);
        assert_eq!(player.loop_frames(0), Some((12_000, 24_006)));
        let mut out = Vec::new();
        for _ in 0..100 {
            let (l, _) = render(&mut player, 480, 0);
            out.extend(l);
        }
        // Plays from the loop start (after the 10 ms fade-in), wraps every 12 006 frames.
        assert!((out[2000] - tone[12_000 + 2000]).abs() < 1e-6);
        assert!((out[12_006 + 3000] - tone[12_000 + 3000]).abs() < 1e-6);
        // An equal-power fade between two phases of one sine may swell to √2 of its amplitude
        // mid-fade, so its slope may too; a hard wrap would step by up to the full 1.0.
        let step = largest_step(&out[1000..]);
        let sine_step = largest_step(&tone);
        assert!(step <= sine_step * 1.5, "{step} vs {sine_step}");
    }

    #[test]
    fn a_host_relocation_crossfades_instead_of_clicking() {
        let fs = 48_000;
        let tone = crate::test_signals::sine(fs as usize * 4, 440.0, fs as f32, 0.5);
        let mut player = ReferencePlayer::new();
        player.reset(fs as f32);
        player.install(0, Some(track_from(tone.clone(), tone, fs)));
        player.set_transport(Transport {
            playing: true,
            position_samples: Some(0),
        });
        let mut out = Vec::new();
        for block in 0..40 {
            if block == 20 {
                player.set_transport(Transport {
                    playing: true,
                    position_samples: Some(77_777),
                });
            }
            let (l, _) = render(&mut player, 512, 0);
            out.extend(l);
        }
        let sine_step = 0.5 * (2.0 * std::f32::consts::PI * 440.0 / 48_000.0);
        // Equal-power fade: at most √2 of the sine's slope (see the loop test); a cut, 15×.
        let step = largest_step(&out[600..]);
        assert!(step < sine_step * 1.5, "{step} vs {sine_step}");
        // After the fade the new position plays exactly.
        let probe = 30 * 512;
        let expected = 77_777 + (probe - 20 * 512);
        let reference = crate::test_signals::sine(fs as usize * 4, 440.0, fs as f32, 0.5);
        assert!((out[probe] - reference[expected]).abs() < 1e-6);
    }

    #[test]
    fn a_track_at_another_rate_is_never_played() {
        let mut player = ReferencePlayer::new();
        player.reset(96_000.0);
        player.install(0, Some(ramp_track(48_000, 48_000)));
        assert!(player.current().is_none());
        assert!(player.loudness(0, 0).is_none());
    }

    #[test]
    fn install_returns_the_replaced_track_for_retiring() {
        let mut player = ReferencePlayer::new();
        let first = ramp_track(1000, 48_000);
        assert!(player.install(3, Some(first.clone())).is_none());
        let old = player.install(3, Some(ramp_track(2000, 48_000))).unwrap();
        assert!(Arc::ptr_eq(&old, &first));
        // An out-of-range slot hands the track straight back.
        assert!(player.install(REFERENCE_SLOTS, Some(first)).is_some());
    }
}
