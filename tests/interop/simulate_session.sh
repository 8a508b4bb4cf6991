# Sourced by the interop runners: one `swaprouter simulate` for the duration of a script.
#   simulate_start BINARY SCENARIO   starts it; the EXIT trap always kills it and removes $work
#   simulate_url PROVIDER            waits (30 s at most) for its `provider` line, prints the URL
#   simulate_ca                      prints the CA file it printed (empty with --plain)
#   simulate_finish RC               SIGTERM, requires a clean exit (0) within 10 s, exits with RC
#                                    (or 1 when the simulator misbehaved)

work=$(mktemp -d "${TMPDIR:-/tmp}/interop-XXXXXX")
pid=

simulate_cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap simulate_cleanup EXIT

simulate_start() {
  "$1" simulate --scenario "$2" >"$work/out" 2>"$work/err" &
  pid=$!
}

simulate_url() {
  local url=
  for _ in $(seq 1 300); do
    url=$(awk -v name="$1" '$1 == "provider" && $2 == name { print $3 }' "$work/out")
    [[ -n $url ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "swaprouter simulate exited before serving:" >&2
      cat "$work/out" "$work/err" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [[ -z $url ]]; then
    echo "swaprouter simulate printed no 'provider $1' line in 30 s:" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
  fi
  printf '%s\n' "$url"
}

simulate_ca() { awk '$1 == "ca" { print $2 }' "$work/out"; }

simulate_finish() {
  local rc=$1
  kill -TERM "$pid"
  local stopped=0
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
  local sim_rc=$?
  pid=
  if [[ $sim_rc != 0 ]]; then
    echo "swaprouter simulate exited $sim_rc after SIGTERM:" >&2
    cat "$work/err" >&2
    [[ $rc == 0 ]] && rc=1
  fi
  exit "$rc"
}
