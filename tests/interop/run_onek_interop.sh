#!/usr/bin/env bash
# Runs tests/interop/onek_interop.py against a fresh `swaprouter simulate`, which must then stop
# cleanly on SIGTERM (simulate_session.sh).
# Usage: run_onek_interop.sh SWAPROUTER_BINARY SOURCE_DIR
set -uo pipefail

bin=${1:?usage: run_onek_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
src=${2:?usage: run_onek_interop.sh SWAPROUTER_BINARY SOURCE_DIR}
source "$src/tests/interop/simulate_session.sh"

simulate_start "$bin" "$src/tests/interop/onek_scenario.yaml"
url=$(simulate_url onek) || exit 1
ca=$(simulate_ca)

/usr/bin/python3 "$src/tests/interop/onek_interop.py" --base-url "$url" ${ca:+--ca "$ca"} \
  --access-key interop-access-key --secret interop-secret-not-real
simulate_finish $?
