#!/usr/bin/env bash
# Installs the Debian packages swaprouter builds with, only those missing. Idempotent and quiet
# when everything is present. Runs apt-get as root, or through sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev libssl-dev rapidjson-dev libfmt-dev libyaml-cpp-dev
  libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libspdlog-dev
  python3
)
# Wanted but not required: without them the tests that use them report "skipped".
optional_packages=(
  chromium  # the status page test (tests/status_page) loads the page in headless Chromium
  # scripts/fuzz.sh (the fuzz smoke of scripts/test.sh): libFuzzer, and a clang whose C++23 covers
  # std::expected with libstdc++ 12 (Debian 12's default clang 14 does not)
  clang-19 libclang-rt-19-dev
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
optional_missing=()
for p in "${optional_packages[@]}"; do installed "$p" || optional_missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && [ ${#optional_missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "setup: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#optional_missing[@]} -gt 0 ]; then
  echo "setup: installing ${optional_missing[*]} (optional)" >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${optional_missing[@]}" \
    >/dev/null 2>&1 || echo "setup: ${optional_missing[*]} unavailable; the tests that need it skip" >&2
fi
