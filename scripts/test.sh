#!/usr/bin/env bash
# Builds the `dev` preset (Debug, ASan+UBSan) and runs the whole test suite, then the fuzz smoke
# (scripts/fuzz.sh: every fuzz target for FUZZ_SECONDS, default 10; 0 skips it) when clang can
# build it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev "$@"
if [ "${FUZZ_SECONDS:-10}" = 0 ]; then
  echo "fuzz smoke skipped: FUZZ_SECONDS=0"
elif scripts/fuzz.sh --available; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
else
  echo "fuzz smoke skipped: no suitable clang (scripts/setup.sh installs clang-19)"
fi
