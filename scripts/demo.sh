#!/usr/bin/env bash
# Builds the `release` preset and runs the main job: the provider emulators in simulate mode.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target swaprouter
exec build/release/swaprouter simulate "$@"
