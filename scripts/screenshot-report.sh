#!/usr/bin/env bash
# Renders a listening-pack report (report.html) to a PNG with headless Chromium, for the docs
# and for checking the layout by eye.
#
#   scripts/screenshot-report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# The report is self-contained, so no network is needed (and none is allowed: the page must
# render the same offline). Default window 1200x2400 CSS pixels.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
    exit 2
fi
report=$1
out=$2
size=${3:-1200x2400}
if [[ ! -f $report ]]; then
    echo "$0: $report: no such file" >&2
    exit 1
fi
browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
        browser=$candidate
        break
    fi
done
if [[ -z $browser ]]; then
    echo "$0: Chromium not found (Debian: apt-get install chromium); cannot render $report" >&2
    exit 1
fi

abs_report=$(realpath "$report")
abs_out=$(realpath -m "$out")
mkdir -p "$(dirname "$abs_out")"
# --no-sandbox: containers and CI run as root, where Chromium's sandbox refuses to start.
# A throwaway profile keeps the user's own browser profile out of it.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --window-size="${size/x/,}" \
    --screenshot="$abs_out" "file://$abs_report" >/dev/null 2>&1 || {
    echo "$0: $browser failed to render $report" >&2
    exit 1
}
if [[ ! -s $abs_out ]]; then
    echo "$0: $browser wrote no screenshot to $out" >&2
    exit 1
fi
echo "$out"
