#!/usr/bin/env bash
# End-to-end tests of `strata migrate`: the hand-computed migration of two
# small tiered-customer files written by h5py, printed and written, with and
# without tier names; overwrite protection; every documented failure.
#
#   test_migrate_cli.sh STRATA_BINARY
#
# Needs a Python with numpy and h5py ($STRATA_TEST_PYTHON, default Debian's
# /usr/bin/python3); exits 77 (skipped) without one.
set -u

STRATA=${1:?usage: test_migrate_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/migrate_check.py"

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi

T_NAME=strata-migrate-cli-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

"$PY" "$CHECK" fixtures "$T" || { echo "FAIL: cannot write fixtures"; exit 1; }
old_sum=$(sum "$T/old.h5")

# --- help ---
expect "--help" 0 "" "$STRATA" migrate --help
grep -q "usage: strata migrate" "$T/out" || bad "migrate --help: $(cat "$T/out")"
"$STRATA" --help | grep -q "migrate " && ok || bad "strata --help does not list migrate"

# --- the hand-computed case, printed and written ---
expect "named tiers" 0 "" "$STRATA" migrate "$T/old.h5" "$T/new.h5" -o "$T/m.h5"
check "named tiers: OUT.h5" "$PY" "$CHECK" check "$T/m.h5" high,mid,low
grep -Eq '^mid +1 +0 +1 +2$' "$T/out" && ok || bad "matrix row 'mid' not printed: $(cat "$T/out")"
grep -Eq '^total +2 +1 +2 +5$' "$T/out" && ok || bad "matrix totals not printed: $(cat "$T/out")"
grep -q 'moves: same 2, up 2, down 1, new 1, gone 1' "$T/out" && ok || bad "move counts: $(cat "$T/out")"

# without -o: printed only
expect "no -o" 0 "" "$STRATA" migrate "$T/old.h5" "$T/new.h5"
grep -q 'moves: same 2' "$T/out" && ok || bad "no -o: $(cat "$T/out")"

# numbered tiers (no names attribute), float ids and int8 tiers
expect "numbered tiers" 0 "" "$STRATA" migrate "$T/old_plain.h5" "$T/new_plain.h5" -o "$T/p.h5"
check "numbered tiers: OUT.h5" "$PY" "$CHECK" check "$T/p.h5" 0,1,2
# names in one file only: used
expect "names in one file" 0 "" "$STRATA" migrate "$T/old_plain.h5" "$T/new.h5" -o "$T/q.h5"
check "names in one file: OUT.h5" "$PY" "$CHECK" check "$T/q.h5" high,mid,low

# --- outputs ---
expect "exists" 3 "already exists" "$STRATA" migrate "$T/old.h5" "$T/new.h5" -o "$T/m.h5"
expect "--force" 0 "" "$STRATA" migrate "$T/old.h5" "$T/new.h5" -o "$T/m.h5" --force
expect "output is an input" 2 "is the old tiering" "$STRATA" migrate "$T/old.h5" "$T/new.h5" -o "$T/old.h5" --force

# --- bad inputs: a clear message, no output ---
E=$T/never.h5
expect "one file" 2 "needs two files" "$STRATA" migrate "$T/old.h5"
expect "three files" 2 "needs two files" "$STRATA" migrate "$T/old.h5" "$T/new.h5" "$T/new.h5"
expect "bad option" 2 "" "$STRATA" migrate --bogus "$T/old.h5" "$T/new.h5"
expect "missing file" 1 "missing.h5" "$STRATA" migrate "$T/old.h5" "$T/missing.h5" -o "$E"
expect "duplicate id" 1 "customer id 1 appears twice in the old tiering" "$STRATA" migrate "$T/dup.h5" "$T/new.h5" -o "$E"
expect "tier beyond names" 1 "has tier 3, outside 0..2" "$STRATA" migrate "$T/old.h5" "$T/out_of_range.h5" -o "$E"
expect "other tier names" 1 "different names" "$STRATA" migrate "$T/old.h5" "$T/other_names.h5" -o "$E"
expect "fractional id" 1 "not an integer id" "$STRATA" migrate "$T/fraction.h5" "$T/new.h5" -o "$E"
expect "no /tier" 1 "/tier" "$STRATA" migrate "$T/no_tier.h5" "$T/new.h5" -o "$E"
expect "lengths differ" 1 "different lengths" "$STRATA" migrate "$T/lengths.h5" "$T/new.h5" -o "$E"
expect "not HDF5" 1 "" "$STRATA" migrate "$CHECK" "$T/new.h5" -o "$E"
[ ! -e "$E" ] && ok || bad "a refused run left $E"

# --- inputs untouched, no temporary files left behind ---
[ "$(sum "$T/old.h5")" = "$old_sum" ] && ok || bad "the input file changed"
leftovers=$(find "$T" -name '*.tmp.*')
[ -z "$leftovers" ] && ok || bad "temporary files left: $leftovers"

finish
