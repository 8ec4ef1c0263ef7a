#!/usr/bin/env bash
# End-to-end tests of the shared feature input (issue 11, "frames") through
# `strata kmeans`: --columns, --table [--features] and --key give the labels
# of the matrix form of the same data, OUT.h5 carries /feature_names and
# /customer_id, the `strata rfm` output is an input, and every usage or input
# error has its exit code and one-line message.
#
#   test_frames_cli.sh STRATA_BINARY
#
# Needs a Python with numpy and h5py ($STRATA_TEST_PYTHON, default Debian's
# /usr/bin/python3); exits 77 (skipped) without one.
set -u

STRATA=${1:?usage: test_frames_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi

T_NAME=strata-frames-cli-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

# 150 customers in 3 blobs: the same values as a matrix, as columns (shuffled
# ids beside them), as a compound table and as a group.
"$PY" - "$T" <<'PYEOF' || { echo "FAIL: cannot write fixtures"; exit 1; }
import sys, numpy as np, h5py
t = sys.argv[1]
rng = np.random.default_rng(0)
X = np.vstack([rng.normal(c, 1, (50, 3)) for c in (0, 6, 12)])
ids = rng.permutation(np.arange(1000, 1150))
rec = np.zeros(150, dtype=[("customer_id", "<i8"), ("recency", "<f8"), ("frequency", "<f8"),
                           ("monetary", "<f8"), ("note", "S4")])
with h5py.File(f"{t}/in.h5", "w") as f:
    f["/m"] = X
    for j, name in enumerate(["recency", "frequency", "monetary"]):
        f[f"/customers/{name}"] = X[:, j]
        rec[name] = X[:, j]
    f["/customers/customer_id"] = ids
    f["/customers/short"] = np.arange(3.0)
    f["/customers/text"] = np.array([b"x"] * 150)
    f["/customers/nan"] = np.where(np.arange(150) == 7, np.nan, 1.0)
    rec["customer_id"] = ids
    f["/table"] = rec
PYEOF
IN=$T/in.h5
in_sum=$(sum "$IN")
COLS=/customers/recency,/customers/frequency,/customers/monetary

# --- help ---
expect "--help" 0 "" "$STRATA" kmeans --help
grep -q -- "--columns" "$T/out" && grep -q -- "--table" "$T/out" && grep -q -- "--key" "$T/out" \
  && grep -q "usage: strata kmeans IN.h5:/path/to/dataset" "$T/out" || bad "kmeans --help: $(cat "$T/out")"

# --- the same labels from every form ---
expect "matrix" 0 "" "$STRATA" kmeans "$IN:/m" -k 3 --seed 4 -o "$T/m.h5"
expect "columns" 0 "" "$STRATA" kmeans "$IN" --columns "$COLS" -k 3 --seed 4 -o "$T/c.h5"
grep -q "features: recency, frequency, monetary; row key: customer_id" "$T/out" || bad "columns summary: $(cat "$T/out")"
expect "table" 0 "" "$STRATA" kmeans "$IN" --table /table -k 3 --seed 4 -o "$T/t.h5"
expect "group + features" 0 "" "$STRATA" kmeans "$IN" --table /customers --features recency,frequency,monetary -k 3 --seed 4 -o "$T/g.h5"
expect "columns, no key" 0 "" "$STRATA" kmeans "$IN" --columns "$COLS" --key none -k 3 --seed 4 -o "$T/n.h5"
check "same labels and centroids" "$PY" - "$T" <<'PYEOF'
import sys, numpy as np, h5py
t = sys.argv[1]
with h5py.File(f"{t}/in.h5") as f:
    ids = f["/customers/customer_id"][:]
m = h5py.File(f"{t}/m.h5")
assert "feature_names" not in m and "customer_id" not in m, list(m)
for name in "ctgn":
    o = h5py.File(f"{t}/{name}.h5")
    np.testing.assert_array_equal(o["labels"][:], m["labels"][:])
    np.testing.assert_array_equal(o["centroids"][:], m["centroids"][:])
    assert [s.decode() for s in o["feature_names"][:]] == ["recency", "frequency", "monetary"]
    for a in m.attrs:
        if a not in ("source", "created"):  # created: the time of the write
            assert o.attrs[a] == m.attrs[a], a
    if name == "n":
        assert "customer_id" not in o
    else:
        np.testing.assert_array_equal(o["customer_id"][:], ids)
assert m.attrs["source"] == f"{t}/in.h5:/m"
PYEOF

# --- errors: usage (2) and input (1), one line each, no output left ---
E=$T/err.h5
expect "columns and table" 2 "give --columns or --table, not both" "$STRATA" kmeans "$IN" --columns /m --table /t -k 2 -o "$E"
expect "features without table" 2 "--features picks columns of a --table" "$STRATA" kmeans "$IN" --columns "$COLS" --features a -k 2 -o "$E"
expect "key with matrix" 2 "--key needs --columns or --table" "$STRATA" kmeans "$IN:/m" --key x -k 2 -o "$E"
expect "no dataset" 2 "input must look like IN.h5:/path/to/dataset, or IN.h5 with --columns or --table" "$STRATA" kmeans "$IN" -k 2 -o "$E"
expect "empty column name" 2 "--columns: empty name" "$STRATA" kmeans "$IN" --columns /a,,/b -k 2 -o "$E"
expect "missing column" 1 "dataset '/customers/nope' not found" "$STRATA" kmeans "$IN" --columns /customers/recency,/customers/nope -k 2 -o "$E"
expect "lengths" 1 "columns of different lengths" "$STRATA" kmeans "$IN" --columns /customers/recency,/customers/short -k 2 -o "$E"
expect "text column" 1 "string values" "$STRATA" kmeans "$IN" --columns /customers/recency,/customers/text -k 2 -o "$E"
expect "nan" 1 "feature 'nan' is NaN in row 7" "$STRATA" kmeans "$IN" --columns /customers/recency,/customers/nan -k 2 -o "$E"
expect "missing field" 1 "has no field 'nope' (the feature column); its fields: customer_id, recency, frequency, monetary, note" "$STRATA" kmeans "$IN" --table /table --features recency,nope -k 2 -o "$E"
expect "missing key" 1 "not found" "$STRATA" kmeans "$IN" --columns "$COLS" --key /nope -k 2 -o "$E"
expect "duplicate names" 1 "feature name 'recency' appears twice" "$STRATA" kmeans "$IN" --columns /customers/recency,/customers/recency -k 2 -o "$E"
[ ! -e "$E" ] && ok || bad "a failed run left $E"
[ "$(sum "$IN")" = "$in_sum" ] && ok || bad "the input changed"

# --- the output of strata rfm is an input (its customer_id is the key) ---
"$PY" - "$T" <<'PYEOF' || bad "cannot write the transaction log"
import sys, numpy as np, h5py
rng = np.random.default_rng(1)
with h5py.File(f"{sys.argv[1]}/tx.h5", "w") as f:
    f["cust"] = rng.integers(1, 80, 3000)
    f["day"] = rng.integers(0, 500, 3000)
    f["amount"] = np.round(rng.uniform(1, 300, 3000), 2)
PYEOF
expect "rfm" 0 "" "$STRATA" rfm "$T/tx.h5" --customer /cust --time /day --amount /amount -o "$T/rfm.h5"
expect "kmeans on rfm columns" 0 "" "$STRATA" kmeans "$T/rfm.h5" --columns /recency,/frequency,/monetary -k 4 -o "$T/k1.h5"
expect "kmeans on rfm root" 0 "" "$STRATA" kmeans "$T/rfm.h5" --table / --features recency,frequency,monetary -k 4 -o "$T/k2.h5"
check "rfm ids carried" "$PY" - "$T" <<'PYEOF'
import sys, numpy as np, h5py
t = sys.argv[1]
r, a, b = (h5py.File(f"{t}/{x}.h5") for x in ("rfm", "k1", "k2"))
np.testing.assert_array_equal(a["customer_id"][:], r["customer_id"][:])
np.testing.assert_array_equal(a["labels"][:], b["labels"][:])
assert a.attrs["source"] == f"{t}/rfm.h5 --columns /recency,/frequency,/monetary"
PYEOF

finish
