#!/usr/bin/env bash
# The tone match against Matchering 2 on real recordings (issue 28): see scripts/match-peers.py
# for the pairs and the measure (pyloudnorm + scipy, code this project did not write).
#
#   scripts/match-peers.sh              all pairs; exit 1 if Fairmaster is farther from the
#                                       reference than Matchering on any pair (mid or side)
#   scripts/match-peers.sh --only metal the pairs whose name contains "metal"
#
# Needs python3-venv and the network to PyPI and Debian (the packages of real music are
# downloaded into target/test-data/ like scripts/test.sh does; Matchering, pyloudnorm, scipy
# and soundfile into target/match-venv). Not part of CI: it downloads 220 MB of music and takes
# a few minutes per pair on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CARGO_TARGET_DIR:-target}/test-data"
venv="${CARGO_TARGET_DIR:-target}/match-venv"
mkdir -p "$data"
for pkg in pushover-data fretsonfire-songs-muldjord wesnoth-1.16-music hyperrogue-music; do
    if [ ! -d "$data/$pkg/usr" ]; then
        (cd "$data" && apt-get download "$pkg" >/dev/null && for deb in "${pkg}"_*.deb; do
            dpkg-deb -x "$deb" "$pkg" && rm -f "$deb"; done)
    fi
done
# One folder holding every package's usr/ tree, as match-peers.py expects.
music="$data/match-peers"
mkdir -p "$music"
for pkg in pushover-data fretsonfire-songs-muldjord wesnoth-1.16-music hyperrogue-music; do
    cp -rs "$(realpath "$data/$pkg")/usr" "$music/" 2>/dev/null || true
done
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q matchering pyloudnorm scipy soundfile
cargo build --release --bin fairmaster-render
exec "$venv/bin/python" scripts/match-peers.py --music "$music" \
    --render "${CARGO_TARGET_DIR:-target}/release/fairmaster-render" "$@"
