#!/usr/bin/env bash
# Fairmaster against the open true-peak limiters, timed the same way (issue 26).
#
#   scripts/bench-peers.sh            best of 3 runs of each case
#   RUNS=5 scripts/bench-peers.sh     best of 5
#
# What is timed: the plugin's process()/run() calls alone, on audio decoded into memory
# beforehand, in 512-frame blocks: Fairmaster's release bundle (built by the README's bundle
# command, no target-cpu flags: its SIMD is picked at run time) through tools/clap-render, a
# minimal CLAP host that opens the bundle with dlopen like a DAW; the LV2 peers through
# ../shared/tools/lv2-render. Both hosts copy each block into the plugin's buffers outside the
# timed region and read the same monotonic clock.
#
# The programme is a real recording no one here wrote (pushover-data, "mechanic", 220 s,
# -14.3 LUFS; scripts/test.sh downloads it into target/test-data/), converted by sox to 32-bit
# float WAV: the whole song at its own 44.1 kHz, and its first 60 s resampled to 96 kHz.
# Every case drives the limiter +12 dB into a -1 dBTP ceiling with true-peak detection on:
#   - Fairmaster, default state: input gain +12 dB, everything else as a fresh insert (the
#     true-peak limiter, both programme meters and the level-matched A/B ready, hearing A);
#   - Fairmaster, full chain: the same plus the linear-phase EQ (low cut, shelf, bells), the
#     compressor, the stereo stage and 16-bit noise-shaped dither;
#   - x42-dpl (Debian x42-plugins): gain 12, threshold -1, truepeak on;
#   - LSP Limiter Stereo (Debian lsp-plugins-lv2), when installed: "Full x4(3L)" oversampling
#     (ovs 16: 4x, 3-lobe Lanczos, on the sidechain and the audio), input gain +12 dB
#     (g_in 3.981, linear), threshold -1 dB (th 0.891, linear).
# Prints each realtime factor (best of RUNS) and Fairmaster's ratio to x42-dpl, against the
# issue's targets (default state >= 3x at 44.1 and 96 kHz; full chain >= 1.5x at 96 kHz).
# A ratio below target is reported, not an error: speed is measured here, not tested (CI
# machines are shared and noisy). Exit status is non-zero only when something could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
tools=../shared/tools
block=512
work="${CARGO_TARGET_DIR:-target}/bench-peers"
clap_bundle="${CARGO_TARGET_DIR:-target}/bundled/Fairmaster.clap"
clap_render="${CARGO_TARGET_DIR:-target}/release/clap-render"
x42_uri='http://gareus.org/oss/lv2/dpl#stereo'
lsp_uri='http://lsp-plug.in/plugins/lv2/limiter_stereo'

fail() { echo "bench-peers: $*" >&2; exit 1; }

# Debian packages: the peers, lv2-render's runtime, sox for decoding and resampling.
need=()
[ -d /usr/lib/lv2/x42-dpl.lv2 ] || need+=(x42-plugins)
command -v sox >/dev/null 2>&1 || need+=(sox libsox-fmt-base)
dpkg-query -W -f='${Status}' liblilv-0-0 2>/dev/null | grep -q 'install ok installed' || need+=(liblilv-0-0)
dpkg-query -W -f='${Status}' libsndfile1 2>/dev/null | grep -q 'install ok installed' || need+=(libsndfile1)
if [ ${#need[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get install -y -q "${need[@]}" >/dev/null ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -q "${need[@]}" >/dev/null; } ||
            fail "could not install ${need[*]}"
    else
        fail "missing Debian packages: ${need[*]} (install them as root)"
    fi
fi
[ -x "$tools/lv2-render" ] || fail "$tools/lv2-render not found (../shared/tools beside the repository)"

# The recording (scripts/test.sh fetches it; so does this, the same way).
song=target/test-data/pushover-data/usr/share/pushover/themes/mechanic.ogg
[ -f /usr/share/pushover/themes/mechanic.ogg ] && song=/usr/share/pushover/themes/mechanic.ogg
if [ ! -f "$song" ]; then
    mkdir -p target/test-data
    (
        cd target/test-data
        apt-get download pushover-data >/dev/null 2>&1 ||
            { [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 && apt-get download pushover-data >/dev/null 2>&1; } ||
            fail "could not download pushover-data"
        for deb in pushover-data_*.deb; do dpkg-deb -x "$deb" pushover-data; done
        rm -f pushover-data_*.deb
    )
fi

# Fairmaster's bundle exactly as the README builds it, and the CLAP timing host.
cargo xtask bundle fairmaster --release >/dev/null
cargo build --release -q -p clap-render
[ -f "$clap_bundle" ] || fail "missing $clap_bundle"

mkdir -p "$work"
in44="$work/mechanic-44k.wav"
in96="$work/mechanic-96k-60s.wav"
[ -f "$in44" ] || sox -q "$song" -e floating-point -b 32 "$in44"
# -v: sox's best resampler; gain -1 dB keeps the resampled overshoots inside float WAV's
# +-1 range, which sox would otherwise clip.
[ -f "$in96" ] || sox -q "$song" -e floating-point -b 32 "$in96" gain -1 rate -v 96000 trim 0 60

full_chain=(
    -p eq_on=On -p "eq_mode=Linear phase"
    -p eq_lc_on=On -p eq_lc_freq=25
    -p eq_ls_on=On -p eq_ls_gain=1.5
    -p eq_hs_on=On -p eq_hs_gain=2
    -p eq_b1_on=On -p eq_b1_gain=-2 -p eq_b2_on=On -p eq_b2_gain=1
    -p comp_on=On -p st_on=On -p st_width=110 -p st_mono_bass_on=On
    -p "dither_mode=16-bit"
)

# best_of NAME COMMAND...: runs the command $runs times, prints and returns the best factor.
best_of() {
    local name="$1" best=0 line factor
    shift
    for _ in $(seq "$runs"); do
        line=$("$@" 2>&1 | grep -E '^frames ') || fail "$name failed: $("$@" 2>&1 | tail -3)"
        factor=$(sed -E 's/.*realtime ([0-9.]+)x.*/\1/' <<<"$line")
        best=$(awk -v a="$best" -v b="$factor" 'BEGIN { print (b > a) ? b : a }')
    done
    printf '  %-58s %6.0fx realtime\n' "$name" "$best" >&2
    echo "$best"
}

fairmaster() { "$clap_render" "$clap_bundle" "$1" "$work/out-fairmaster.wav" -b "$block" -p input_gain=12 "${@:2}"; }
x42() { "$tools/lv2-render" "$x42_uri" "$1" "$work/out-x42.wav" -b "$block" -c gain 12 -c threshold -1 -c truepeak 1; }
lsp() { "$tools/lv2-render" "$lsp_uri" "$1" "$work/out-lsp.wav" -b "$block" -c g_in 3.981 -c th 0.891 -c ovs 16; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "meets" : "BELOW" }'; }

echo "best of $runs, $block-frame blocks, process()/run() alone; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >&2
echo "44.1 kHz, $(soxi -D "$in44" | cut -d. -f1) s:" >&2
fm44=$(best_of "Fairmaster, default state" fairmaster "$in44")
x44=$(best_of "x42-dpl, true peak" x42 "$in44")
lsp44=""
if [ -d /usr/lib/lv2/lsp-plugins.lv2 ] || lv2info "$lsp_uri" >/dev/null 2>&1; then
    lsp44=$(best_of "LSP Limiter Stereo, Full x4" lsp "$in44")
fi
echo "96 kHz, first 60 s:" >&2
fm96=$(best_of "Fairmaster, default state" fairmaster "$in96")
full96=$(best_of "Fairmaster, full chain (linear-phase EQ, comp, stereo, dither)" fairmaster "$in96" "${full_chain[@]}")
x96=$(best_of "x42-dpl, true peak" x42 "$in96")

r44=$(ratio "$fm44" "$x44")
r96=$(ratio "$fm96" "$x96")
rfull=$(ratio "$full96" "$x96")
echo
echo "Fairmaster / x42-dpl:"
echo "  default state, 44.1 kHz: ${r44}x  (target >= 3: $(verdict "$r44" 3))"
echo "  default state, 96 kHz:   ${r96}x  (target >= 3: $(verdict "$r96" 3))"
echo "  full chain,    96 kHz:   ${rfull}x  (target >= 1.5: $(verdict "$rfull" 1.5))"
[ -n "$lsp44" ] && echo "  (LSP Limiter Stereo, 44.1 kHz: Fairmaster default state $(ratio "$fm44" "$lsp44")x)"
exit 0
