#!/usr/bin/env bash
# Builds the `release` preset and runs the main job: the bot on the demo strategy for 60 s in
# simulate mode (the built-in emulators), then its summary. Extra arguments go to `swaprouter run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target swaprouter
exec build/release/cli/swaprouter run config/demo.yaml --duration 60s "$@"
