#!/bin/bash
# `swaprouter check` on a broken file: exit code 2 and every error as FILE:LINE:COLUMN: KEY: MESSAGE.
# Usage: check_cli_test.sh SWAPROUTER BROKEN_FILE
set -u
binary=$1
file=$2
output=$("$binary" check "$file" 2>&1)
code=$?
printf '%s\n' "$output"
if [[ $code -ne 2 ]]; then
  echo "expected exit code 2, got $code" >&2
  exit 1
fi
expected="$file:5:5: providers.onek.pol: unknown key
$file:8:13: engine.max_hops: expected an integer, got 'many'"
if [[ "$output" != "$expected" ]]; then
  printf 'expected:\n%s\n' "$expected" >&2
  exit 1
fi
