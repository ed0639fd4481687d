#!/usr/bin/env bash
# Conformance gates on the release bundles (run after `cargo xtask bundle fairmaster --release`):
#   1. clap-validator validate: 0 failed and 0 warnings;
#   2. clap-validator fuzz for $FUZZ_SECONDS (default 60) seconds: 0 errors;
#   3. vst3-validator -e (extensive): 0 failed and no line containing "ERROR:".
# A validator's warning or ERROR: line is a defect too: a host that trusts it sees the same
# behaviour (../shared/tools/README.md). The tools come prebuilt from ../shared/tools (relative
# to the repository root); CI always has them, so a missing tool is an error, never a skip.
# Bundles are read from ${CARGO_TARGET_DIR:-target}/bundled, where the xtask puts them.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=../shared/tools
bundled="${CARGO_TARGET_DIR:-target}/bundled"
clap="$bundled/Fairmaster.clap"
vst3="$bundled/Fairmaster.vst3"
fuzz_seconds="${FUZZ_SECONDS:-60}"

fail() { echo "validate: FAILED: $*" >&2; exit 1; }
for tool in clap-validator vst3-validator; do
  [ -x "$tools/$tool" ] || fail "$tools/$tool not found (expected next to the repository, at $(cd .. && pwd)/shared/tools); these gates never skip"
done
[ -f "$clap" ] || fail "missing $clap (build the bundles first)"
[ -d "$vst3" ] || fail "missing $vst3 (build the bundles first)"

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
echo "clap-validator fuzz: exit status $status ($(elapsed "$t"))"
if grep -qE 'FAILED|CRASHED' <<<"$out"; then fail "clap-validator fuzz found errors (see above)"; fi
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
[ "$errors" -eq 0 ] || fail "vst3-validator: $errors line(s) with ERROR:: $(grep 'ERROR:' <<<"$out" | head -n 5)"
[ "$status" -eq 0 ] || fail "vst3-validator exited with status $status"

echo "validate: all gates passed ($(elapsed "$t0"))"
