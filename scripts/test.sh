#!/usr/bin/env bash
# Builds the `dev` preset (Debug, ASan+UBSan) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev "$@"
