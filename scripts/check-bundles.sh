#!/usr/bin/env bash
# Checks that the release bundles exist with the right layout and export the plugin entry points.
set -euo pipefail
cd "$(dirname "$0")/.."
clap=target/bundled/Fairmaster.clap
vst3_dir=target/bundled/Fairmaster.vst3
vst3_bin="$vst3_dir/Contents/x86_64-linux/Fairmaster.so"
fail() { echo "check-bundles: $*" >&2; exit 1; }
[ -f "$clap" ] || fail "missing $clap"
[ -d "$vst3_dir" ] || fail "missing VST3 bundle directory $vst3_dir"
[ -f "$vst3_bin" ] || fail "missing VST3 binary $vst3_bin"
command -v nm >/dev/null || fail "nm not found (Debian package binutils)"
nm -D --defined-only "$clap" | grep -qw clap_entry || fail "$clap does not export clap_entry"
for sym in GetPluginFactory ModuleEntry ModuleExit; do
  nm -D --defined-only "$vst3_bin" | grep -qw "$sym" || fail "$vst3_bin does not export $sym"
done
echo "check-bundles: $clap exports clap_entry; $vst3_bin exports GetPluginFactory, ModuleEntry, ModuleExit"
