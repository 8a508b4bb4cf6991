#!/usr/bin/env bash
# Runs tests/interop/stablestack_interop.py and oxapay_interop.py against a fresh
# `swaprouter simulate` (tests/interop/ssox_scenario.yaml), which must then stop cleanly on
# SIGTERM (simulate_session.sh). Exit 0 only when both scripts pass.
# Usage: run_ssox_interop.sh SWAPROUTER_BINARY SOURCE_DIR
set -uo pipefail

bin=${1:?usage: run_ssox_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
src=${2:?usage: run_ssox_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
source "$src/tests/interop/simulate_session.sh"

simulate_start "$bin" "$src/tests/interop/ssox_scenario.yaml"
ox_url=$(simulate_url oxapay) || exit 1
ss_url=$(simulate_url stablestack) || exit 1
ca=$(simulate_ca)

/usr/bin/python3 "$src/tests/interop/stablestack_interop.py" --base-url "$ss_url" --ca "$ca" \
  --api-key stablestack-interop-key
rc=$?
/usr/bin/python3 "$src/tests/interop/oxapay_interop.py" --base-url "$ox_url" --ca "$ca" \
  --api-key oxapay-interop-key || rc=1
simulate_finish "$rc"
