#!/usr/bin/env bash
# Runs tests/interop/kiiex_interop.py against a fresh `swaprouter simulate`, which must then stop
# cleanly on SIGTERM (simulate_session.sh).
# Usage: run_kiiex_interop.sh SWAPROUTER_BINARY SOURCE_DIR
set -uo pipefail

bin=${1:?usage: run_kiiex_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
src=${2:?usage: run_kiiex_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
source "$src/tests/interop/simulate_session.sh"

simulate_start "$bin" "$src/tests/interop/kiiex_scenario.yaml"
url=$(simulate_url kiiex) || exit 1
ca=$(simulate_ca)

# The values of tests/interop/kiiex_scenario.yaml (its kiiex block: user 11, account 13, the order
# status wrapped in an array).
/usr/bin/python3 "$src/tests/interop/kiiex_interop.py" --base-url "$url" ${ca:+--ca "$ca"} \
  --api-key interop-kiiex-key --secret interop-kiiex-secret-not-real --user-id 11 \
  --account-id 13 --order-status-array
simulate_finish $?
