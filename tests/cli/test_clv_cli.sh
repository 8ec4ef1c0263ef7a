#!/usr/bin/env bash
# End-to-end tests of `strata clv` (issue 16): the CDNOW sample log in HDF5
# (../shared/data/cdnow, converted here with numpy/h5py) gives the published
# BG/NBD and Gamma-Gamma estimates in the output's root attributes and on
# stdout; the output's layout; --period days; a compound --table; untouched
# input, overwrite protection, and the messages and exit codes of bad input.
#
#   test_clv_cli.sh STRATA_BINARY [SHARED_DATA]
#
# Needs numpy and h5py ($STRATA_TEST_PYTHON, default /usr/bin/python3) and
# the CDNOW data; exits 77 (skipped) without them.
set -u

STRATA=${1:?usage: test_clv_cli.sh STRATA_BINARY [SHARED_DATA]}
DATA=${2:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/data}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi
if [ ! -f "$DATA/cdnow/CDNOW_sample.txt" ]; then
  echo "skipped: $DATA/cdnow/CDNOW_sample.txt is absent"
  exit 77
fi

T_NAME=strata-clv-cli-test
# shellcheck source=harness.sh
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/harness.sh"

"$PY" - "$DATA/cdnow/CDNOW_sample.txt" "$T/cdnow.h5" <<'PYEOF' || { echo "FAIL: fixtures"; exit 1; }
import sys, datetime, numpy as np, h5py
rows = [l.split() for l in open(sys.argv[1])]
epoch = datetime.date(1970, 1, 1)
cid = np.array([int(r[1]) for r in rows], dtype=np.int64)
day = np.array([(datetime.date(int(r[2][:4]), int(r[2][4:6]), int(r[2][6:])) - epoch).days
                for r in rows], dtype=np.int64)
amt = np.array([float(r[4]) for r in rows])
with h5py.File(sys.argv[2], "w") as f:
    f["customer"] = cid; f["day"] = day; f["amount"] = amt
    t = np.zeros(len(cid), dtype=[("cust", "<i8"), ("d", "<i8"), ("usd", "<f8")])
    t["cust"] = cid; t["d"] = day; t["usd"] = amt
    f["log"] = t
PYEOF
X=$T/cdnow.h5
x_sum=$(sum "$X")
CAL=10134 # 1997-09-30
COLS=(--customer customer --time day --amount amount)

expect "--help" 0 "" "$STRATA" clv --help
grep -q "usage: strata clv" "$T/out" && ok || bad "clv --help: $(cat "$T/out")"
"$STRATA" --help | grep -q "clv " && ok || bad "strata --help does not list clv"

expect "cdnow" 0 "" "$STRATA" clv "$X" "${COLS[@]}" --calibration-end $CAL -o "$T/o.h5" --progress none
grep -q "r = 0.2426  alpha = 4.4136  a = 0.7929  b = 2.4259  log-likelihood -9582.4" "$T/out" && ok ||
  bad "stdout lacks the BG/NBD estimates: $(cat "$T/out")"
grep -q "p = 6.2496  q = 3.7442  gamma = 15.4435" "$T/out" && ok || bad "stdout lacks Gamma-Gamma: $(cat "$T/out")"
grep -q "correlation of frequency and spend per purchase (repeat customers) 0.1139" "$T/out" && ok ||
  bad "stdout lacks the correlation check: $(cat "$T/out")"
check "cdnow output" "$PY" - "$T/o.h5" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a = f.attrs
pub = dict(bgnbd_r=(0.243, 3), bgnbd_alpha=(4.414, 3), bgnbd_a=(0.793, 3), bgnbd_b=(2.426, 3),
           bgnbd_loglik=(-9582.4, 1), gg_p=(6.25, 2), gg_q=(3.74, 2), gg_gamma=(15.44, 2))
for k, (v, d) in pub.items():
    assert "%.*f" % (d, a[k]) == "%.*f" % (d, v), (k, a[k], v)
assert a["period"] == "weeks" and a["customers"] == 2357 and a["calibration_end"] == 10134
n = 2357
for k in ["x", "t_x", "T", "zbar", "p_alive", "expected_purchases", "expected_spend", "clv",
          "holdout_actual", "holdout_predicted"]:
    assert f[k].shape == (n,) and f[k].dtype == np.float64, k
assert f["customer_id"].dtype == np.int64 and (np.diff(f["customer_id"][:]) > 0).all()
assert f["x"][:].sum() == 2457 and (f["x"][:] == 0).sum() == 1411
ca, ce = f["tracking/cumulative_actual"][:], f["tracking/cumulative_expected"][:]
assert len(ca) == 78 and np.allclose(np.cumsum(f["tracking/actual"][:]), ca)
assert ca[-1] == 2457 + f["holdout_actual"][:].sum() == 2457 + a["holdout_actual"]
assert abs(ce[-1] - ca[-1]) < 0.1 * ca[-1]
# the Gamma-Gamma check, by numpy
r = f["x"][:] > 0
assert abs(np.corrcoef(f["x"][:][r], f["zbar"][:][r])[0, 1] - a["freq_spend_corr"]) < 1e-9
PYEOF
[ "$(sum "$X")" = "$x_sum" ] && ok || bad "the input changed"

# days, and the compound table: the same summary in days
expect "days table" 0 "" "$STRATA" clv "$X" --table log --customer cust --time d --amount usd \
  --calibration-end $CAL --period days -o "$T/d.h5" --quiet
check "days output" "$PY" - "$T/o.h5" "$T/d.h5" <<'PYEOF'
import sys, h5py, numpy as np
w, d = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert d.attrs["period"] == "days"
assert np.array_equal(w["x"][:], d["x"][:]) and np.allclose(w["T"][:] * 7, d["T"][:])
assert np.allclose(w["t_x"][:] * 7, d["t_x"][:]) and np.array_equal(w["zbar"][:], d["zbar"][:])
# alpha is a rate scale: in days about 7 times the weeks' value
assert abs(d.attrs["bgnbd_alpha"] / w.attrs["bgnbd_alpha"] - 7) < 0.05
assert abs(d.attrs["bgnbd_r"] - w.attrs["bgnbd_r"]) < 1e-3
PYEOF

# errors: exit codes and one-line messages; nothing left at the output
expect "exists" 3 "exists" "$STRATA" clv "$X" "${COLS[@]}" --calibration-end $CAL -o "$T/o.h5"
expect "no calibration end" 2 "missing --calibration-end" "$STRATA" clv "$X" "${COLS[@]}" -o "$T/e.h5"
expect "bad period" 2 "--period must be weeks or days" "$STRATA" clv "$X" "${COLS[@]}" --calibration-end $CAL --period months -o "$T/e.h5"
expect "early end" 1 "no purchase on or before the calibration end" "$STRATA" clv "$X" "${COLS[@]}" --calibration-end 9000 -o "$T/e.h5"
expect "missing dataset" 1 "nope" "$STRATA" clv "$X" --customer nope --time day --amount amount --calibration-end $CAL -o "$T/e.h5"
expect "missing file" 1 "" "$STRATA" clv "$T/none.h5" "${COLS[@]}" --calibration-end $CAL -o "$T/e.h5"
[ ! -e "$T/e.h5" ] && ok || bad "an output was left after errors"
expect "output is input" 2 "" "$STRATA" clv "$X" "${COLS[@]}" --calibration-end $CAL -o "$X" --force
[ "$(sum "$X")" = "$x_sum" ] && ok || bad "the input changed"
finish
