#!/usr/bin/env bash
# End-to-end tests of `strata rfm`: results against the pandas recipe, the
# three input layouts (1-D columns, an h5py compound table, a pandas
# to_hdf table), the cleaning counts in the output, overwrite protection,
# untouched inputs, nothing left behind after an error, and the message and
# exit code of every documented failure.
#
#   test_rfm_cli.sh STRATA_BINARY
#
# Needs a Python with numpy, h5py and pandas ($STRATA_TEST_PYTHON, default
# Debian's /usr/bin/python3); exits 77 (skipped) without one.
set -u

STRATA=${1:?usage: test_rfm_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/rfm_check.py"

if ! "$PY" -c 'import numpy, h5py, pandas' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy, h5py and pandas"
  exit 77
fi

T_NAME=strata-rfm-cli-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

"$PY" "$CHECK" fixtures "$T" || { echo "FAIL: cannot write fixtures"; exit 1; }
X=$T/tx.h5
x_sum=$(sum "$X")
COLS=(--customer /tx/customer_id --time /tx/day --amount /tx/amount)

# --- help ---
expect "--help" 0 "" "$STRATA" rfm --help
grep -q "usage: strata rfm" "$T/out" && grep -q -- "--ties" "$T/out" || bad "rfm --help: $(cat "$T/out")"
"$STRATA" --help | grep -q "rfm " && ok || bad "strata --help does not list rfm"

# --- results against pandas, both tie policies, three layouts ---
expect "rank q=5" 0 "" "$STRATA" rfm "$X" "${COLS[@]}" -o "$T/r5.h5"
check "rank q=5 result" "$PY" "$CHECK" check "$T/r5.h5" "$X" --bins 5 --ties rank
grep -q "Champions" "$T/out" && grep -q "exact duplicate" "$T/out" || bad "no segment table or cleaning line: $(cat "$T/out")"
expect "value q=4" 0 "" "$STRATA" rfm "$X" "${COLS[@]}" -o "$T/v4.h5" --bins 4 --ties value --threads 1
check "value q=4 result" "$PY" "$CHECK" check "$T/v4.h5" "$X" --bins 4 --ties value
expect "rank q=10" 0 "" "$STRATA" rfm "$X" "${COLS[@]}" -o "$T/r10.h5" --bins 10 --threads 2
check "rank q=10 result" "$PY" "$CHECK" check "$T/r10.h5" "$X" --bins 10 --ties rank
expect "h5py table" 0 "" "$STRATA" rfm "$X" --table /table --customer cust --time day --amount amt -o "$T/t.h5"
check "h5py table result" "$PY" "$CHECK" check "$T/t.h5" "$X" --table
if [ -f "$T/pandas.h5" ]; then
  expect "pandas table" 0 "" "$STRATA" rfm "$T/pandas.h5" --table /tx/table --customer customer_id --time day --amount amount -o "$T/p.h5"
  check "pandas table result" "$PY" "$CHECK" check "$T/p.h5" "$X"
  expect "pandas packed table, key" 0 "" "$STRATA" rfm "$T/pandas_blocks.h5" --table /tx --customer customer_id --time day --amount amount -o "$T/pb.h5"
  check "pandas packed table result" "$PY" "$CHECK" check "$T/pb.h5" "$X"
  expect "pandas packed, missing column" 1 "has no field 'nope'" "$STRATA" rfm "$T/pandas_blocks.h5" --table /tx --customer customer_id --time nope --amount amount -o "$T/pb_err.h5"
  [ ! -e "$T/pb_err.h5" ] && ok || bad "a failed run left $T/pb_err.h5"
  expect "pandas fixed frame" 0 "" "$STRATA" rfm "$T/pandas_fixed.h5" --table /tx --customer customer_id --time day --amount amount -o "$T/pf.h5"
  check "pandas fixed frame result" "$PY" "$CHECK" check "$T/pf.h5" "$X"
  expect "pandas fixed, missing column" 1 "has no column 'nope' (the amount column); its columns: customer_id, day, amount" "$STRATA" rfm "$T/pandas_fixed.h5" --table /tx --customer customer_id --time day --amount nope -o "$T/pf_err.h5"
  [ ! -e "$T/pf_err.h5" ] && ok || bad "a failed run left $T/pf_err.h5"
else
  echo "note: PyTables missing, pandas table layout not tested"
fi

# --- cleaning: counted, printed and stored ---
expect "dirty" 0 "" "$STRATA" rfm "$X" --customer /dirty/customer_id --time /dirty/day --amount /dirty/amount -o "$T/d.h5"
grep -q "2 missing/invalid customer id (dropped), 1 day out of range (dropped), 1 NaN/infinite amount (dropped)" "$T/out" &&
  grep -q "1 negative amount (dropped), 1 zero amount (kept)" "$T/out" || bad "dirty: counts not printed: $(cat "$T/out")"
for kv in bad_id=2 bad_time=1 bad_amount=1 negative=1 zero=1; do
  [ "$("$PY" "$CHECK" attr "$T/d.h5" "${kv%=*}")" = "${kv#*=}" ] && ok || bad "dirty: attribute ${kv%=*} is not ${kv#*=}"
done
expect "policies" 0 "" "$STRATA" rfm "$X" --customer /dirty/customer_id --time /dirty/day --amount /dirty/amount -o "$T/d2.h5" \
  --negative net --zero drop --duplicates drop --frequency days --monetary mean --max-day 20000 --reference-day 20001
[ "$("$PY" "$CHECK" attr "$T/d2.h5" negative_policy)" = net ] && [ "$("$PY" "$CHECK" attr "$T/d2.h5" reference_day)" = 20001 ] &&
  ok || bad "policies not stored"
expect "given edges" 0 "" "$STRATA" rfm "$X" "${COLS[@]}" -o "$T/e5.h5" --ties edges \
  --recency-edges 30,90,180,270 --frequency-edges 3,5,7,9 --monetary-edges 100,200,300,400
[ "$("$PY" "$CHECK" attr "$T/e5.h5" ties)" = edges ] && ok || bad "edges policy not stored"

# --- overwrite protection ---
out_sum=$(sum "$T/r5.h5")
expect "exists" 3 "already exists" "$STRATA" rfm "$X" "${COLS[@]}" -o "$T/r5.h5" --bins 3
[ "$(sum "$T/r5.h5")" = "$out_sum" ] && ok || bad "refused output was modified"
expect "--force" 0 "" "$STRATA" rfm "$X" "${COLS[@]}" -o "$T/r5.h5" --bins 3 --force
[ "$("$PY" "$CHECK" attr "$T/r5.h5" bins)" = 3 ] && ok || bad "--force did not replace the output"
expect "output is input" 2 "is the input file" "$STRATA" rfm "$X" "${COLS[@]}" -o "$X" --force

# --- runtime errors (exit 1): one clear line, no output file ---
E=$T/e.h5
expect "missing file" 1 "cannot open '$T/nope.h5'" "$STRATA" rfm "$T/nope.h5" "${COLS[@]}" -o "$E"
expect "not HDF5" 1 "is not an HDF5 file" "$STRATA" rfm "$T/text.h5" "${COLS[@]}" -o "$E"
expect "missing column" 1 "dataset '/tx/nope' not found in '$X'" "$STRATA" rfm "$X" --customer /tx/customer_id --time /tx/nope --amount /tx/amount -o "$E"
expect "group" 1 "is a group, not a dataset" "$STRATA" rfm "$X" --customer /bad/group --time /tx/day --amount /tx/amount -o "$E"
expect "lengths differ" 1 "columns of different lengths" "$STRATA" rfm "$X" --customer /tx/customer_id --time /bad/short_day --amount /tx/amount -o "$E"
expect "strings" 1 "holds string values" "$STRATA" rfm "$X" --customer /tx/customer_id --time /tx/day --amount /bad/strings -o "$E"
expect "2-D column" 1 "expected a 1-D column" "$STRATA" rfm "$X" --customer /tx/customer_id --time /tx/day --amount /bad/matrix -o "$E"
expect "empty log" 1 "the transaction log is empty" "$STRATA" rfm "$X" --customer /bad/empty_id --time /bad/empty_day --amount /bad/empty_amount -o "$E"
expect "nothing left" 1 "no purchase left after cleaning 20000 rows" "$STRATA" rfm "$X" --customer /tx/customer_id --time /tx/day --amount /bad/all_negative -o "$E"
expect "missing field" 1 "has no field 'nope'" "$STRATA" rfm "$X" --table /table --customer cust --time nope --amount amt -o "$E"
expect "table not compound" 1 "not records with fields" "$STRATA" rfm "$X" --table /tx/day --customer a --time b --amount c -o "$E"
expect "reference too early" 1 "is before the last purchase day" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --reference-day 19000
expect "missing folder" 1 "cannot write '$T/no/dir/e.h5'" "$STRATA" rfm "$X" "${COLS[@]}" -o "$T/no/dir/e.h5"
[ ! -e "$E" ] && ok || bad "a failed run left $E"

# --- amounts whose total overflows double: an error, no output (issue 12) ---
"$PY" -c 'import h5py, sys
with h5py.File(sys.argv[1], "w") as f:
    f["id"] = [2, 1, 3, 1]; f["day"] = [5, 1, 6, 2]; f["amount"] = [7.0, 1e308, 8.0, 1e308]' "$T/huge.h5"
expect "amounts overflow" 1 "the amounts of customer 1 sum beyond the double range" "$STRATA" rfm "$T/huge.h5" --customer /id --time /day --amount /amount -o "$T/huge_out.h5"
[ ! -e "$T/huge_out.h5" ] && ok || bad "an overflowing run left $T/huge_out.h5"

# --- usage errors (exit 2) ---
expect "bins 1" 2 "--bins must be an integer >= 2" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --bins 1
expect "bins 101" 2 "bins must be in [2, 100]" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --bins 101
expect "bad ties" 2 "--ties must be rank, value or edges, got 'dense'" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --ties dense
expect "bad negative" 2 "--negative must be drop or net" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --negative keep
expect "missing --amount" 2 "missing --amount" "$STRATA" rfm "$X" --customer /tx/customer_id --time /tx/day -o "$E"
expect "missing -o" 2 "missing -o" "$STRATA" rfm "$X" "${COLS[@]}"
expect "missing input" 2 "missing input" "$STRATA" rfm "${COLS[@]}" -o "$E"
expect "edges without cuts" 2 "--ties edges needs" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --ties edges
expect "cuts without edges" 2 "need --ties edges" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --recency-edges 1,2,3,4
expect "bad cuts" 2 "--monetary-edges must be numbers" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --ties edges \
  --recency-edges 1,2,3,4 --frequency-edges 1,2,3,4 --monetary-edges 1,x
expect "cuts not increasing" 2 "strictly increasing" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --ties edges \
  --recency-edges 1,2,3,4 --frequency-edges 1,2,3,4 --monetary-edges 4,3,2,1
expect "unknown option" 2 "unknown option '--bogus'" "$STRATA" rfm "$X" "${COLS[@]}" -o "$E" --bogus
[ ! -e "$E" ] && ok || bad "a refused run left $E"

# --- your own segment rules (--segments FILE) ---
printf '# value tiers; first match wins\nHigh value: m=4-5 f=3-5\nMid value : m=3-5\n\nTail: no fm: fm=1-2 r=1-5\nLow value:\n' >"$T/rules.txt"
expect "segments" 0 "" "$STRATA" rfm "$X" "${COLS[@]}" --segments "$T/rules.txt" -o "$T/s.h5"
check "segments result" "$PY" "$CHECK" rules "$T/s.h5"
grep -q "High value" "$T/out" && grep -q "Low value" "$T/out" || bad "segment table lacks the rules: $(cat "$T/out")"
expect "segments: missing file" 1 "cannot read --segments file '$T/none.txt'" "$STRATA" rfm "$X" "${COLS[@]}" --segments "$T/none.txt" -o "$E"
printf 'Top: q=1\n' >"$T/r1.txt"
expect "segments: bad key" 2 "r1.txt:1: bad range 'q=1'" "$STRATA" rfm "$X" "${COLS[@]}" --segments "$T/r1.txt" -o "$E"
printf 'A: m=1\nB: m=3-2\n' >"$T/r2.txt"
expect "segments: lo > hi" 2 "r2.txt:2: bad range 'm=3-2'" "$STRATA" rfm "$X" "${COLS[@]}" --segments "$T/r2.txt" -o "$E"
printf 'no colon\n' >"$T/r3.txt"
expect "segments: no name" 2 "r3.txt:1: expected 'NAME:" "$STRATA" rfm "$X" "${COLS[@]}" --segments "$T/r3.txt" -o "$E"
printf '# nothing\n\n' >"$T/r4.txt"
expect "segments: empty" 2 "holds no rules" "$STRATA" rfm "$X" "${COLS[@]}" --segments "$T/r4.txt" -o "$E"
printf 'A: m=1\nA: m=2\n' >"$T/r5.txt"
expect "segments: same name twice" 2 "--segments '$T/r5.txt'" "$STRATA" rfm "$X" "${COLS[@]}" --segments "$T/r5.txt" -o "$E"
[ ! -e "$E" ] && ok || bad "a refused --segments run left $E"

# --- demo: strata tiers on the synthetic customers' transactions ---
expect "demo" 0 "" "$STRATA" demo --n 20000 -o "$T/demo" --threads 2
grep -q "cleaning: " "$T/out" && grep -q "tiers:" "$T/out" || bad "demo printed no cleaning report or tiers: $(cat "$T/out")"

# --- inputs untouched, no temporary files left behind ---
[ "$(sum "$X")" = "$x_sum" ] && ok || bad "the input file changed"
leftovers=$(find "$T" -name '*.tmp.*')
[ -z "$leftovers" ] && ok || bad "temporary files left: $leftovers"

finish
