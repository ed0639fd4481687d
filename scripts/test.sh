#!/usr/bin/env bash
# The whole test suite: unit tests, conformance tests, host-style tests and benchmark smoke runs.
# Installs nothing the build needs; the editor snapshot tests use a software GPU if present.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
