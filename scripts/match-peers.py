#!/usr/bin/env python3
"""Tone match against a peer, on real recordings (issue 28).

For each (mix, reference) pair below, masters the mix toward the reference twice, with
Matchering 2 (`pip install matchering`) and with `fairmaster-render --target reference
--match-eq 100`, and measures how far each master's tone stays from the reference's with code
this project did not write: pyloudnorm (BS.1770-4) normalises every file to its own integrated
loudness, scipy's Welch estimate (16384 points, Hann, 50 %) gives the mid (L+R)/2 and side
(L-R)/2 spectra, summed into third-octave bands (nominal centres 40 Hz-12.5 kHz, edges at
centre * 2^(+-1/6)); the distance is the RMS over the bands of the level difference to the
reference, dB. Also reported: each master's integrated loudness minus the reference's (LU) and
its true peak (dBTP, 4x oversampled with scipy's polyphase resampler, BS.1770-4 Annex 2's
method), all by pyloudnorm/scipy.

The pairs were fixed before the match was tuned (2026-12-07), from Debian packages of real
music in four genres; every pair runs with the same settings. Usage:

    python3 -m venv /tmp/mvenv && /tmp/mvenv/bin/pip install matchering pyloudnorm scipy soundfile
    ./scripts/match-peers.sh            # downloads the packages, builds, runs this
    /tmp/mvenv/bin/python scripts/match-peers.py --music DIR --render target/release/fairmaster-render

DIR holds the packages unpacked (`dpkg-deb -x PKG.deb DIR`).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pyloudnorm
import scipy.signal
import soundfile

PUSHOVER = "usr/share/pushover/themes/{}.ogg"
MULDJORD = "usr/share/games/fretsonfire/data/songs/muldjord/{}/song.ogg"
WESNOTH = "usr/share/games/wesnoth/1.16/data/core/music/{}.ogg"
HYPERROGUE = "usr/share/hyperrogue/music/{}.ogg"

# (name, mix, reference): fixed before tuning. Packages: pushover-data (electronic game
# music), fretsonfire-songs-muldjord (metal), wesnoth-1.16-music (orchestral),
# hyperrogue-music (ambient/world).
PAIRS = [
    ("electronic->electronic", PUSHOVER.format("option"), PUSHOVER.format("electro")),
    ("electronic->metal", PUSHOVER.format("japanese"), MULDJORD.format("armygeddon")),
    ("metal->electronic", MULDJORD.format("internal_degeneration"), PUSHOVER.format("mechanic")),
    ("orchestral->orchestral", WESNOTH.format("elvish-theme"), WESNOTH.format("the_king_is_dead")),
    ("ambient->orchestral", HYPERROGUE.format("hr3-desert"), WESNOTH.format("knalgan_theme")),
    ("orchestral->metal", WESNOTH.format("battle"), MULDJORD.format("chaos_god")),
    ("world->electronic", HYPERROGUE.format("hr-savino-caribbean"), PUSHOVER.format("toxcity")),
]

THIRDS = [40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600,
          2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500]
RATE = 44100
SECONDS = 60  # the first minute of each file (after 10 s): both tools see the same audio


def load(path):
    data, rate = soundfile.read(path, dtype="float64", always_2d=True)
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    data = data[:, :2]
    if rate != RATE:
        g = np.gcd(rate, RATE)
        data = scipy.signal.resample_poly(data, RATE // g, rate // g, axis=0)
    return data


def excerpt(data):
    start = min(10 * RATE, max(0, len(data) - SECONDS * RATE))
    return data[start:start + SECONDS * RATE]


def bands_db(data):
    """Mid and side third-octave levels (dB) of `data` normalised to its own loudness."""
    meter = pyloudnorm.Meter(RATE)
    loudness = meter.integrated_loudness(data)
    data = data * 10 ** (-loudness / 20)
    out = {}
    for name, x in (("mid", 0.5 * (data[:, 0] + data[:, 1])),
                    ("side", 0.5 * (data[:, 0] - data[:, 1]))):
        f, p = scipy.signal.welch(x, RATE, window="hann", nperseg=16384)
        levels = []
        for c in THIRDS:
            sel = (f >= c * 2 ** (-1 / 6)) & (f < c * 2 ** (1 / 6))
            levels.append(10 * np.log10(max(p[sel].sum(), 1e-30)))
        out[name] = np.array(levels)
    return out, loudness


def true_peak_dbtp(data):
    up = scipy.signal.resample_poly(data, 4, 1, axis=0)
    return 20 * np.log10(max(np.abs(up).max(), 1e-12))


def distance(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--music", required=True)
    ap.add_argument("--render", required=True)
    ap.add_argument("--out", default=None, help="keep the files here")
    ap.add_argument("--json", default=None, help="write the figures here")
    ap.add_argument("--only", default=None, help="run the pairs whose name contains this")
    ap.add_argument("--extra", default="", help="more fairmaster-render options")
    args = ap.parse_args()
    import matchering

    work = args.out or tempfile.mkdtemp(prefix="match-peers-")
    os.makedirs(work, exist_ok=True)
    rows = []
    for k, (name, mix_rel, ref_rel) in enumerate(PAIRS):
        if args.only and args.only not in name:
            continue
        mix_path = os.path.join(work, f"{k}-mix.wav")
        ref_path = os.path.join(work, f"{k}-ref.wav")
        soundfile.write(mix_path, excerpt(load(os.path.join(args.music, mix_rel))), RATE,
                        subtype="FLOAT")
        soundfile.write(ref_path, excerpt(load(os.path.join(args.music, ref_rel))), RATE,
                        subtype="FLOAT")
        peer_path = os.path.join(work, f"{k}-matchering.wav")
        ours_path = os.path.join(work, f"{k}-fairmaster.wav")
        if not os.path.exists(peer_path):
            matchering.process(target=mix_path, reference=ref_path,
                               results=[matchering.pcm24(peer_path)])
        cmd = [args.render, mix_path, "-o", ours_path, "--reference", ref_path,
               "--target", "reference", "--match-eq", "100", "--bits", "24", "--force"]
        cmd += args.extra.split()
        # Exit status 3: a loudness target missed (the master is still written and measured).
        status = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
        if status not in (0, 3):
            raise SystemExit(f"fairmaster-render failed ({status}): {' '.join(cmd)}")
        ref, ref_lufs = bands_db(load(ref_path))
        row = {"pair": name}
        for label, path in (("mix", mix_path), ("matchering", peer_path),
                            ("fairmaster", ours_path)):
            data = load(path)
            b, lufs = bands_db(data)
            row[label] = {
                "mid_db": distance(b["mid"], ref["mid"]),
                "side_db": distance(b["side"], ref["side"]),
                "loudness_error_lu": lufs - ref_lufs,
                "true_peak_dbtp": true_peak_dbtp(data),
            }
        rows.append(row)
        print(f"{name:24s} mid: mix {row['mix']['mid_db']:5.2f}  matchering "
              f"{row['matchering']['mid_db']:5.2f}  fairmaster {row['fairmaster']['mid_db']:5.2f}"
              f" | side: mix {row['mix']['side_db']:5.2f}  matchering "
              f"{row['matchering']['side_db']:5.2f}  fairmaster {row['fairmaster']['side_db']:5.2f}"
              f" | LU err: matchering {row['matchering']['loudness_error_lu']:+.2f}  fairmaster "
              f"{row['fairmaster']['loudness_error_lu']:+.2f} | dBTP: matchering "
              f"{row['matchering']['true_peak_dbtp']:+.2f}  fairmaster "
              f"{row['fairmaster']['true_peak_dbtp']:+.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    worse = [r["pair"] for r in rows
             if r["fairmaster"]["mid_db"] > r["matchering"]["mid_db"]
             or r["fairmaster"]["side_db"] > r["matchering"]["side_db"]]
    print("pairs where Fairmaster is farther from the reference than Matchering:",
          ", ".join(worse) or "none")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
