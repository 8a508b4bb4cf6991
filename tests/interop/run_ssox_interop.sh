#!/usr/bin/env bash
# Runs tests/interop/stablestack_interop.py and oxapay_interop.py against a fresh
# `swaprouter simulate` (tests/interop/ssox_scenario.yaml).
# Usage: run_ssox_interop.sh SWAPROUTER_BINARY SOURCE_DIR
# Starts the simulator on ephemeral ports, waits for its `provider oxapay` line, runs both scripts
# with /usr/bin/python3, then stops the simulator with SIGTERM and requires a clean exit (0).
# The exit status is 0 when both scripts pass (1 otherwise, or when the simulator fails); the
# simulator is always killed and the temporary directory removed.
set -uo pipefail

bin=${1:?usage: run_ssox_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
src=${2:?usage: run_ssox_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/ssox-interop-XXXXXX")
pid=

cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" simulate --scenario "$src/tests/interop/ssox_scenario.yaml" >"$work/out" 2>"$work/err" &
pid=$!

url=
for _ in $(seq 1 300); do
  url=$(awk '$1 == "provider" && $2 == "oxapay" { print $3 }' "$work/out")
  [[ -n $url ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "swaprouter simulate exited before serving:" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "swaprouter simulate printed no 'provider oxapay' line in 30 s:" >&2
  cat "$work/out" "$work/err" >&2
  exit 1
fi
ca=$(awk '$1 == "ca" { print $2 }' "$work/out")

ss_url=$(awk '$1 == "provider" && $2 == "stablestack" { print $3 }' "$work/out")
/usr/bin/python3 "$src/tests/interop/stablestack_interop.py" --base-url "$ss_url" --ca "$ca" \
  --api-key stablestack-interop-key
rc=$?
/usr/bin/python3 "$src/tests/interop/oxapay_interop.py" --base-url "$url" --ca "$ca" \
  --api-key oxapay-interop-key || rc=1

kill -TERM "$pid"
stopped=0
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    stopped=1
    break
  fi
  sleep 0.1
done
if [[ $stopped == 0 ]]; then
  echo "swaprouter simulate did not stop within 10 s of SIGTERM" >&2
  exit 1
fi
wait "$pid"
sim_rc=$?
pid=
if [[ $sim_rc != 0 ]]; then
  echo "swaprouter simulate exited $sim_rc after SIGTERM:" >&2
  cat "$work/err" >&2
  [[ $rc == 0 ]] && rc=1
fi
exit "$rc"
