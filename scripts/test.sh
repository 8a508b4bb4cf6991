#!/usr/bin/env bash
# Builds the `dev` preset (Debug, ASan+UBSan) and runs the whole test suite, then the fuzz smoke
# (scripts/fuzz.sh: every fuzz target for FUZZ_SECONDS, default 10; 0 skips it) when clang can
# build it, then ThreadSanitizer over the tests where a second thread shares state (TSAN=0 skips).
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

# Only the emulator server's own thread (SimServer.*) and the listener's raw-socket client thread
# (Listener.*) share state across threads; everything else runs on one io_context. Building just
# those two test programs keeps the TSan stage to a few minutes.
if [ "${TSAN:-1}" = 0 ]; then
  echo "tsan skipped: TSAN=0"
else
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan --target transport_tests observability_tests
  ctest --test-dir build/tsan -R '^(SimServer|Listener)\.' --output-on-failure
fi
