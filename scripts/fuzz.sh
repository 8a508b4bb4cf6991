#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (build/fuzz, -DSWAPROUTER_FUZZ=ON) and runs each
# for SECONDS (default 10: the smoke `scripts/test.sh` runs; give 600 or more for a real search),
# starting from its seeds in fuzz/corpus/<target>/. Fails on any crash, sanitizer report, leak or
# input slower than 10 s. New coverage goes to build/fuzz/corpus/<target>/; a finding is written
# to build/fuzz/findings/<target>/ (fix the code, then copy it into fuzz/corpus/<target>/ as a
# regression input: the dev build replays every file there as a ctest).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   targets: onek onek_callback kiiex stablestack oxapay
#                                           config decimal json_read (default: all)
#   scripts/fuzz.sh --available             exit 0 when a suitable clang is installed
#
# FUZZ_JOBS (default: the number of cores) targets run at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

# A clang whose C++23 library support covers std::expected with libstdc++ 12 (clang 14, Debian 12's
# default, lacks it) and that has the libFuzzer runtime.
find_clang() {
  local probe
  probe=$(mktemp -d)
  printf '#include <expected>\n#include <cstdint>\n#include <cstddef>\n%s\n' \
    'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return std::expected<int, int>(0).value(); }' \
    >"$probe/probe.cpp"
  for cxx in clang++-19 clang++-18 clang++-17 clang++; do
    command -v "$cxx" >/dev/null || continue
    if "$cxx" -std=c++2b -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" \
      2>/dev/null; then
      rm -rf "$probe"
      echo "$cxx"
      return 0
    fi
  done
  rm -rf "$probe"
  return 1
}

if [ "${1:-}" = "--available" ]; then
  find_clang >/dev/null
  exit
fi

seconds=${1:-10}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] &&
  targets=(onek onek_callback kiiex stablestack oxapay config decimal json_read)

if ! cxx=$(find_clang); then
  echo "fuzz: no clang with std::expected and libFuzzer; scripts/setup.sh installs clang-19" >&2
  exit 1
fi
cc=${cxx/clang++/clang}
build=build/fuzz
CC=$cc CXX=$cxx cmake -S . -B "$build" -G Ninja -DSWAPROUTER_FUZZ=ON >/dev/null
cmake --build "$build" --target "${targets[@]/#/fuzz_}"

run_one() {
  local target=$1
  mkdir -p "$build/corpus/$target" "$build/findings/$target"
  "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$target/" "$build/corpus/$target" "fuzz/corpus/$target" \
    >"$build/logs/$target.log" 2>&1
}

mkdir -p "$build/logs"
# Symbolized reports: the symbolizer of the clang in use, else any.
for symbolizer in "/usr/lib/llvm-${cxx##*-}/bin/llvm-symbolizer" "$(command -v llvm-symbolizer)"; do
  if [ -x "$symbolizer" ]; then
    export ASAN_SYMBOLIZER_PATH=$symbolizer UBSAN_SYMBOLIZER_PATH=$symbolizer
    break
  fi
done
jobs_max=${FUZZ_JOBS:-$(nproc)}
declare -A pids=()
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_one "$target" &
  pids[$target]=$!
done
passed=0
failed=0
for target in "${targets[@]}"; do
  if wait "${pids[$target]}"; then
    passed=$((passed + 1))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$target.log")
    echo "fuzz $target: ok, ${runs:-?} inputs in ${seconds} s"
  else
    failed=$((failed + 1))
    echo "fuzz $target: FAILED (log $build/logs/$target.log, input in $build/findings/$target/)"
    tail -n 40 "$build/logs/$target.log"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
