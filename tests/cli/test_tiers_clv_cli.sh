#!/usr/bin/env bash
# End-to-end tests of `strata tiers --clv` (issue 16): the CLV step on the
# CDNOW sample log against the numpy/scipy reference (tiers_clv_check.py),
# the calibration end (default: the run's reference day), clv as a feature
# and as the value that ranks the tiers, and the errors of the new options.
#
#   test_tiers_clv_cli.sh STRATA_BINARY
#
# Needs numpy, scipy and h5py ($STRATA_TEST_PYTHON, default /usr/bin/python3)
# and ../shared/data/cdnow; exits 77 (skipped) without them.
set -u

STRATA=${1:?usage: test_tiers_clv_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/tiers_clv_check.py"
SAMPLE="$HERE/../../../shared/data/cdnow/CDNOW_sample.txt"

if ! "$PY" -c 'import numpy, scipy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy, scipy and h5py"
  exit 77
fi
if [ ! -f "$SAMPLE" ]; then
  echo "skipped: $SAMPLE is absent (the shared data folder ../shared/data is not here)"
  exit 77
fi

T_NAME=strata-tiers-clv-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

"$PY" "$CHECK" fixtures "$T" || { echo "FAIL: cannot write fixtures"; exit 1; }
X=$T/cdnow.h5
x_sum=$(sum "$X")
COLS=(--customer /tx/customer_id --time /tx/day --amount /tx/amount)
CAL=10134 # 1997-09-30, the papers' calibration end

# --- help ---
expect "--help" 0 "" "$STRATA" tiers --help
grep -q -- "--clv " "$T/out" && grep -q -- "--value V" "$T/out" && grep -q -- "--calibration-end" "$T/out" \
  && ok || bad "tiers --help does not document the CLV options"

# --- the CLV step, calibration end = the reference day (the whole log) ---
expect "--clv" 0 "" "$STRATA" tiers "$X" "${COLS[@]}" -k 3 --clv -o "$T/a.h5"
grep -q "BG/NBD r = " "$T/out" && grep -q "corr(frequency, spend)" "$T/out" && ok \
  || bad "--clv printed no CLV summary: $(cat "$T/out")"
check "--clv result" "$PY" "$CHECK" check "$T/a.h5" "$X"

# --- the papers' calibration end; clv as the value (joins the features) ---
expect "--value clv" 0 "" "$STRATA" tiers "$X" "${COLS[@]}" -k 4 --value clv \
  --calibration-end $CAL -o "$T/b.h5"
check "--value clv result" "$PY" "$CHECK" check "$T/b.h5" "$X" --calibration-end $CAL --value clv
grep -q "r = 0.2426, alpha = 4.414, a = 0.7929, b = 2.426" "$T/out" && ok \
  || bad "--calibration-end $CAL does not print the published BG/NBD estimates: $(grep BG "$T/out")"

# --- clv as a feature, days, other horizon and discount ---
expect "--features clv" 0 "" "$STRATA" tiers "$X" "${COLS[@]}" -k 3 --features frequency,clv \
  --clv-period days --clv-months 6 --discount-rate 0.05 --calibration-end $CAL -o "$T/c.h5"
check "--features clv result" "$PY" "$CHECK" check "$T/c.h5" "$X" --calibration-end $CAL \
  --period days --months 6 --discount 0.05

# --- errors: usage (2), runtime (1); nothing written, input untouched ---
expect "--value foo" 2 "--value must be rfm or clv" "$STRATA" tiers "$X" "${COLS[@]}" -k 3 \
  --value foo -o "$T/e.h5"
expect "--clv-period" 2 "--clv-period must be weeks or days" "$STRATA" tiers "$X" "${COLS[@]}" \
  -k 3 --clv-period months -o "$T/e.h5"
expect "--features clv,clv" 2 "'clv' given twice" "$STRATA" tiers "$X" "${COLS[@]}" -k 3 \
  --features clv,clv -o "$T/e.h5"
expect "--discount-rate" 2 "--discount-rate" "$STRATA" tiers "$X" "${COLS[@]}" -k 3 \
  --discount-rate -1 -o "$T/e.h5"
expect "--clv-months" 2 "--clv-months" "$STRATA" tiers "$X" "${COLS[@]}" -k 3 --clv-months 0 \
  -o "$T/e.h5"
expect "early calibration end" 1 "calibration end" "$STRATA" tiers "$X" "${COLS[@]}" -k 3 \
  --calibration-end 100 -o "$T/e.h5"
[ ! -e "$T/e.h5" ] && ok || bad "an error left $T/e.h5"
[ "$(sum "$X")" = "$x_sum" ] && ok || bad "the input changed"

finish
