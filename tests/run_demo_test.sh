#!/usr/bin/env bash
# `swaprouter run config/demo.yaml --duration 20s`: exits 0 in simulate mode, its summary shows at
# least one fill for every strategy kind of the file, and the journal lists the legs the summary
# counts as filled, every intent done, and the run reports its journal and the emulators' ledgers agree.
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/journal.db

set +e
"$bin" run "$src/config/demo.yaml" --duration 20s --drain 20s --db "$db" \
  >"$work/out" 2>"$work/log"
code=$?
set -e
cat "$work/out"
fail() {
  echo "FAIL: $*"
  echo "--- log (last 40 lines)"
  tail -n 40 "$work/log"
  exit 1
}
[ "$code" -eq 0 ] || fail "exit code $code"
grep -q "mode simulate" "$work/out" || fail "mode not printed"
grep -q "^summary (simulate mode" "$work/out" || fail "no summary"

# Every kind named in the demo file has a strategy row with fills >= 1.
for kind in $(sed -n 's/^ *kind: *\([a-z]*\).*/\1/p' "$src/config/demo.yaml" | sort -u); do
  awk -v k="$kind" '$2 == k && $4 >= 1 { found = 1 } END { exit !found }' "$work/out" ||
    fail "no fill for kind $kind"
done

# The journal agrees with the summary: as many filled legs as the providers' rows count.
summary_filled=$(awk '/^  provider /{p=1; next} p && NF >= 3 { s += $3 } END { print s + 0 }' \
  "$work/out")
"$bin" journal --db "$db" --limit 1000 >"$work/journal"
journal_filled=$(grep -c '^  leg .*  filled  ' "$work/journal" || true)
echo "filled legs: summary $summary_filled, journal $journal_filled"
[ "$summary_filled" -ge 4 ] || fail "too few filled legs ($summary_filled)"
[ "$summary_filled" -eq "$journal_filled" ] || fail "journal and summary disagree"
if grep '^intent ' "$work/journal" | grep -v '  done  ' >/dev/null; then
  grep '^intent ' "$work/journal" | grep -v '  done  '
  fail "an intent did not end done"
fi
grep -q 'leg=I' "$work/log" || fail "no log line with a leg id"
# The run itself compares this run's journal with the emulators' ledgers (I1, I2).
grep -q '^ledgers: [0-9]* swaps at the emulators, [0-9]* journaled legs .*: journal and emulators agree$' \
  "$work/out" || fail "journal and emulator ledgers do not agree"
echo "ok"
