#!/usr/bin/env bash
# The whole test suite: unit tests, conformance tests, host-style tests and benchmark smoke runs.
# Installs nothing the build needs; the editor tests use a software GPU and Xvfb if present.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages some tests need, installed when missing and possible (root or passwordless
# sudo); otherwise those tests print why they skip:
# - the editor snapshot tests render offscreen through wgpu: Mesa's software Vulkan driver
#   (lavapipe, mesa-vulkan-drivers);
# - tests/host_gui.rs opens the real editor through CLAP on a private Xvfb server, drawing with
#   Mesa's software OpenGL (xvfb, libgl1-mesa-dri, libglx-mesa0);
# - tests/ddp.rs reads the DDP image back with the public Java library ddpLib
#   (../shared/tools/ddp-check.jar): a Java runtime and SLF4J, whose jars it finds in
#   /usr/share/java (default-jre-headless, libslf4j-java). Under CI=true that test fails
#   without them.
missing=()
ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1 || missing+=(libgl1-mesa-dri libglx-mesa0)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
[ -f /usr/share/java/slf4j-api.jar ] || missing+=(libslf4j-java)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get install -y -q "${missing[@]}" >/dev/null ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null; } ||
            echo "note: could not install ${missing[*]}; the tests that need them will skip"
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n apt-get install -y -q "${missing[@]}" >/dev/null ||
            echo "note: could not install ${missing[*]}; the tests that need them will skip"
    else
        echo "note: missing ${missing[*]} (needs root and apt-get); the tests that need them will skip"
    fi
fi
# tests/true_peak.rs measures the limiter on a real recording: the ALSA speaker-test voice
# samples of Debian's alsa-utils (/usr/share/sounds/alsa). When the package is not installed,
# download it (no root needed) and unpack it into target/test-data/ without installing.
if [ ! -d /usr/share/sounds/alsa ] && [ ! -d target/test-data/alsa-utils/usr/share/sounds/alsa ]; then
    if command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
        mkdir -p target/test-data
        (
            cd target/test-data
            apt-get download alsa-utils >/dev/null 2>&1 ||
                { [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 && apt-get download alsa-utils >/dev/null 2>&1; } ||
                echo "note: could not download alsa-utils; tests/true_peak.rs will say what it needs"
            for deb in alsa-utils_*.deb; do [ -f "$deb" ] && dpkg-deb -x "$deb" alsa-utils; done
            rm -f alsa-utils_*.deb
        )
    else
        echo "note: no apt-get here; install alsa-utils or set FAIRMASTER_REAL_RECORDINGS (tests/true_peak.rs)"
    fi
fi
# Real music for the reference-match and ceiling tests (tests/common/real_music.rs): Ogg
# Vorbis recordings from two Debian packages, downloaded (no root needed) and unpacked into
# target/test-data/ without installing:
# - pushover-data (GPL-3+, music by Roberto Lorenz): five songs from -20 to -10 LUFS;
# - fretsonfire-songs-muldjord (CC BY-SA 3.0, Muldjord): dense, bright, clipped metal
#   (-6.5 to -8.4 LUFS, true peaks up to +2.5 dBTP, energy above 16 kHz ~20 dB under the
#   loudest third-octave band).
for pkg in pushover-data fretsonfire-songs-muldjord; do
    [ -d "target/test-data/$pkg/usr" ] && continue
    if command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
        mkdir -p target/test-data
        (
            cd target/test-data
            apt-get download "$pkg" >/dev/null 2>&1 ||
                { [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 && apt-get download "$pkg" >/dev/null 2>&1; } ||
                echo "note: could not download $pkg; the real-music tests will say what they need"
            for deb in "${pkg}"_*.deb; do [ -f "$deb" ] && dpkg-deb -x "$deb" "$pkg"; done
            rm -f "${pkg}"_*.deb
        )
    else
        echo "note: no apt-get here; set FAIRMASTER_REAL_MUSIC to a folder of music (tests/common/real_music.rs)"
    fi
done
# Mesa's Vulkan WSI complains when this is unset (harmless, but noisy).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

cargo test --workspace
