#!/usr/bin/env bash
# FAULTS.md 23 at length: runs the restart storm (Faults.S23_restart_storm) for seeds 1..N
# (default 50), SWAPS swaps each (default 100), against the dev build (ASan+UBSan). A failing
# seed is printed with the command that replays it; the exit status is 1 if any seed failed.
#   scripts/restart-storm.sh [N] [SWAPS]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-50}"
swaps="${2:-100}"
build="${BUILD_DIR:-build/dev}"
cmake --preset dev -B "$build" >/dev/null
cmake --build "$build" --target faults_tests
failed=()
for seed in $(seq 1 "$seeds"); do
  if SWAPROUTER_STORM_SEED="$seed" SWAPROUTER_STORM_SWAPS="$swaps" \
      "$build/tests/faults_tests" --gtest_filter=Faults.S23_restart_storm >"$build/storm-$seed.log" 2>&1; then
    echo "seed $seed: ok"
  else
    echo "seed $seed: FAILED (log $build/storm-$seed.log); replay:"
    echo "  SWAPROUTER_STORM_SEED=$seed SWAPROUTER_STORM_SWAPS=$swaps $build/tests/faults_tests --gtest_filter=Faults.S23_restart_storm"
    failed+=("$seed")
  fi
done
echo "${#failed[@]} failed, $((seeds - ${#failed[@]})) passed"
[ "${#failed[@]}" -eq 0 ]
