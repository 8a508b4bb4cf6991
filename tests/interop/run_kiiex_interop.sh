#!/usr/bin/env bash
# Runs tests/interop/kiiex_interop.py against a fresh `swaprouter simulate`.
# Usage: run_kiiex_interop.sh SWAPROUTER_BINARY SOURCE_DIR
# Starts the simulator on an ephemeral port, waits for its `provider kiiex` line, runs the script
# with /usr/bin/python3, then stops the simulator with SIGTERM and requires a clean exit (0).
# The exit status is the script's (or 1 when the simulator fails); the simulator is always killed
# and the temporary directory removed.
set -uo pipefail

bin=${1:?usage: run_kiiex_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
src=${2:?usage: run_kiiex_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiiex-interop-XXXXXX")
pid=

cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" simulate --scenario "$src/tests/interop/kiiex_scenario.yaml" >"$work/out" 2>"$work/err" &
pid=$!

url=
for _ in $(seq 1 300); do
  url=$(awk '$1 == "provider" && $2 == "kiiex" { print $3 }' "$work/out")
  [[ -n $url ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "swaprouter simulate exited before serving:" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "swaprouter simulate printed no 'provider kiiex' line in 30 s:" >&2
  cat "$work/out" "$work/err" >&2
  exit 1
fi
ca=$(awk '$1 == "ca" { print $2 }' "$work/out")

# The values of tests/interop/kiiex_scenario.yaml (its kiiex block: user 11, account 13, the order
# status wrapped in an array).
/usr/bin/python3 "$src/tests/interop/kiiex_interop.py" --base-url "$url" ${ca:+--ca "$ca"} \
  --api-key interop-kiiex-key --secret interop-kiiex-secret-not-real --user-id 11 \
  --account-id 13 --order-status-array
rc=$?

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
