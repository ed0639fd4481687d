#!/usr/bin/env bash
# Conformance gates on the release bundles (run after `cargo xtask bundle fairmaster --release`):
#   1. clap-validator validate: 0 failed and 0 warnings;
#   2. clap-validator fuzz for $FUZZ_SECONDS (default 60) seconds: 0 errors;
#   3. vst3-validator -e (extensive): 0 failed and no line containing "ERROR:";
#   4. pluginval --strictness-level 10 on the VST3 bundle with its GUI tests (the editor opened
#      and closed, also while processing), under xvfb-run: exit status 0 and no line containing
#      "WARN" or "ERROR" (the plugin's own log, which pluginval passes on: X11 errors, a window
#      that fails to close). Its runtime packages (Debian: libasound2 libfontconfig1
#      libfreetype6 xvfb xauth libx11-6 libxext6 libxcursor1 libxinerama1 libxrandr2) are
#      installed when missing if this runs as root with apt-get; otherwise the script fails.
# A validator's warning or ERROR: line is a defect too: a host that trusts it sees the same
# behaviour (../shared/tools/README.md). The tools come prebuilt from ../shared/tools (relative
# to the repository root); CI always has them, so a missing tool or package is an error, never
# a skip.
# Bundles are read from ${CARGO_TARGET_DIR:-target}/bundled, where the xtask puts them.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=../shared/tools
bundled="${CARGO_TARGET_DIR:-target}/bundled"
clap="$bundled/Fairmaster.clap"
vst3="$bundled/Fairmaster.vst3"
fuzz_seconds="${FUZZ_SECONDS:-60}"

fail() { echo "validate: FAILED: $*" >&2; exit 1; }
for tool in clap-validator vst3-validator pluginval; do
  [ -x "$tools/$tool" ] || fail "$tools/$tool not found (expected next to the repository, at $(cd .. && pwd)/shared/tools); these gates never skip"
done
[ -f "$clap" ] || fail "missing $clap (build the bundles first)"
[ -d "$vst3" ] || fail "missing $vst3 (build the bundles first)"

# pluginval's runtime packages (gate 4), checked before the first gate so a missing one fails
# early; installed when missing if we can (root and apt-get), as scripts/test.sh does for its.
pluginval_packages=(libasound2 libfontconfig1 libfreetype6 xvfb xauth libx11-6 libxext6 libxcursor1 libxinerama1 libxrandr2)
missing=()
for package in "${pluginval_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] ||
    fail "pluginval needs the packages ${missing[*]}: install them, or run this script as root on a system with apt-get to have it install them (this gate never skips)"
  echo "validate: installing ${missing[*]} for pluginval"
  apt-get install -y -q "${missing[@]}" >/dev/null ||
    { apt-get update -qq >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } ||
    fail "could not install ${missing[*]} for pluginval"
fi
command -v xvfb-run >/dev/null 2>&1 || fail "xvfb-run not found (Debian package xvfb)"

# Runs a command with colours stripped from its combined output (printed and kept in $out);
# its exit status ends up in $status.
run() {
  local log
  log=$(mktemp)
  set +e
  "$@" 2>&1 | sed -u -e 's/\x1b\[[0-9;]*[A-Za-z]//g' | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  out=$(cat "$log")
  rm -f "$log"
}
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }
t0=$(date +%s)

echo "--- clap-validator validate $clap"
t=$(date +%s)
run "$tools/clap-validator" validate "$clap"
# e.g. "44 tests run, 28 passed, 5 failed, 1 warnings, 10 skipped"
summary=$(grep -E '^[0-9]+ tests? run, [0-9]+ passed, [0-9]+ failed, [0-9]+ warnings?, [0-9]+ skipped' <<<"$out" | tail -n 1 || true)
[ -n "$summary" ] || fail "clap-validator validate printed no summary line (exit status $status)"
failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$summary")
warnings=$(sed -E 's/.* ([0-9]+) warnings?.*/\1/' <<<"$summary")
echo "clap-validator validate: $summary ($(elapsed "$t"))"
[ "$failed" -eq 0 ] || fail "clap-validator validate: $failed failed"
[ "$warnings" -eq 0 ] || fail "clap-validator validate: $warnings warnings"
[ "$status" -eq 0 ] || fail "clap-validator validate exited with status $status"

echo "--- clap-validator fuzz $clap (${fuzz_seconds}s)"
t=$(date +%s)
run "$tools/clap-validator" fuzz --duration "${fuzz_seconds}s" "$clap"
fuzz_warnings=$(grep -cE '^ *[0-9]+ms +WARN ' <<<"$out" || true)
echo "clap-validator fuzz: exit status $status, $fuzz_warnings WARN line(s) ($(elapsed "$t"))"
# The gate is 0 errors; WARN lines (e.g. a parameter text round-trip) are listed, not fatal:
# clap-validator validate above already fails on the same defects.
if grep -qE '^└── (FAILED|CRASHED)|^ *[0-9]+ms +ERROR ' <<<"$out"; then
  fail "clap-validator fuzz found errors (see above)"
fi
[ "$status" -eq 0 ] || fail "clap-validator fuzz exited with status $status"
grep -q 'fuzzing finished successfully' <<<"$out" || fail "clap-validator fuzz did not report success"

echo "--- vst3-validator -e $vst3"
t=$(date +%s)
run "$tools/vst3-validator" -e "$vst3"
# e.g. "Result: 87 tests passed, 0 tests failed"
summary=$(grep -E '[0-9]+ tests? passed, [0-9]+ tests? failed' <<<"$out" | tail -n 1 || true)
[ -n "$summary" ] || fail "vst3-validator printed no summary line (exit status $status)"
failed=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$summary")
errors=$(grep -c 'ERROR:' <<<"$out" || true)
echo "vst3-validator: $summary; $errors line(s) with ERROR: ($(elapsed "$t"))"
[ "$failed" -eq 0 ] || fail "vst3-validator: $failed failed"
[ "$errors" -eq 0 ] || fail "vst3-validator: $errors line(s) with ERROR: (first: $(grep -m 1 "ERROR:" <<<"$out"))"
[ "$status" -eq 0 ] || fail "vst3-validator exited with status $status"

echo "--- pluginval --strictness-level 10 $vst3 (GUI tests, under xvfb-run)"
t=$(date +%s)
# NICE_LOG=stderr: the plugin's log (nice-log) goes where pluginval passes it on, whatever the
# caller's environment says; its filters are the plugin's own.
run env NICE_LOG=stderr xvfb-run -a -s "-screen 0 1280x1024x24" \
  "$tools/pluginval" --strictness-level 10 --validate "$vst3"
problems=$(grep -cE 'WARN|ERROR' <<<"$out" || true)
echo "pluginval: exit status $status, $problems line(s) with WARN or ERROR ($(elapsed "$t"))"
[ "$problems" -eq 0 ] || fail "pluginval: $problems line(s) with WARN or ERROR (first: $(grep -m 1 -E 'WARN|ERROR' <<<"$out"))"
[ "$status" -eq 0 ] || fail "pluginval exited with status $status"
grep -q 'Starting tests in: pluginval / Editor\.\.\.' <<<"$out" || fail "pluginval did not run its editor test"
grep -q '^SUCCESS' <<<"$out" || fail "pluginval did not report SUCCESS"

echo "validate: all gates passed ($(elapsed "$t0"))"
