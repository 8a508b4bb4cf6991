#!/usr/bin/env bash
# Loads the status page in headless Chromium from a listener serving a canned status and checks
# what the page shows. Exits 77 (ctest SKIP_RETURN_CODE) when Chromium is not installed.
set -euo pipefail

server=$1
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed (scripts/setup.sh installs it)"
  exit 77
fi

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$server" 120 >"$work/port" &
pid=$!
for _ in $(seq 200); do
  [ -s "$work/port" ] && break
  sleep 0.1
done
port=$(head -n1 "$work/port")
[ -n "$port" ] || { echo "FAIL: the page server printed no port"; exit 1; }

mkdir "$work/profile"
timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --user-data-dir="$work/profile" --virtual-time-budget=5000 \
  --dump-dom "http://127.0.0.1:$port/" >"$work/dom.html" 2>"$work/chromium.log" || {
  echo "FAIL: chromium exited with $?"; tail -n 20 "$work/chromium.log"; exit 1; }

# Fixed strings, as the page renders them from the canned /status.
status=0
expect() {
  if ! grep -qF -- "$1" "$work/dom.html"; then
    echo "FAIL: the page does not show: $1"
    status=1
  fi
}
expect '<span id="mode">simulate</span>'
expect 'HALTED: unknown outcome burst'
expect '<td>onek</td><td>ok</td><td>closed</td><td>2026-01-02T03:04:04Z</td><td class="num">42.0</td><td class="num">250.0</td>'
expect '<td>&lt;b&gt;kiiex&lt;/b&gt;</td><td>down</td><td>open</td>'
expect '<td>leg-7731</td><td>int-42</td><td>onek</td><td>receive</td><td class="num">250.125</td><td>USDT</td><td>BTC</td><td>submitted</td>'
expect '<td>onek</td><td>USDT</td><td class="num">9750.875</td>'
expect '<span id="updated">2026-01-02T03:04:05Z</span>'
if grep -qF '<b>kiiex</b>' "$work/dom.html"; then
  echo "FAIL: markup from the status was rendered as HTML"
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "--- DOM ---"
  cat "$work/dom.html"
  exit 1
fi
echo "status page OK on port $port"
