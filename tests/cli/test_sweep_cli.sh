#!/usr/bin/env bash
# End-to-end tests of `strata sweep` on customer tables (issue 11, "Choosing
# k"): --columns and --table give the table of the matrix form of the same
# data; --transform auto gives the table of a sweep of the matrix scaled
# beforehand with numpy (log1p where the skewness rule says, then z-scores);
# OUT.h5 records the transform and the feature names; bad --transform values
# are usage errors, and no output is written (or replaced) on any error.
#
#   test_sweep_cli.sh STRATA_BINARY
#
# Needs a Python with numpy and h5py ($STRATA_TEST_PYTHON, default Debian's
# /usr/bin/python3); exits 77 (skipped) without one.
set -u

STRATA=${1:?usage: test_sweep_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi

T_NAME=strata-sweep-cli-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

# 240 customers, RFM-like: recency (days, not skewed), frequency (counts,
# skewed), monetary (spend, lognormal), in three groups. The same values as
# a matrix, as columns, as a compound table and as a group; /scaled is the
# matrix scaled by numpy with the documented AUTO rule (an independent
# reference: log1p where every value >= 0 and skewness m3 / m2^1.5 > 1, then
# z-scores with the population standard deviation).
"$PY" - "$T" <<'PYEOF' || { echo "FAIL: cannot write fixtures"; exit 1; }
import sys, numpy as np, h5py
t = sys.argv[1]
rng = np.random.default_rng(3)
parts = []
for rec, lam, mu in ((20, 8, 6.0), (150, 3, 4.5), (330, 1, 3.0)):
    parts.append(np.column_stack([rng.uniform(rec - 20, rec + 20, 80),
                                  1 + rng.poisson(lam, 80) + (rng.random(80) < 0.1) * 30,
                                  rng.lognormal(mu, 0.6, 80)]))
X = np.vstack(parts)
def skew(v):
    c = v - v.mean()
    return (c**3).mean() / (c**2).mean() ** 1.5
logged = [bool((X[:, j] >= 0).all() and skew(X[:, j]) > 1) for j in range(3)]
assert logged == [False, True, True], logged   # the fixture exercises both branches
L = np.where(logged, np.log1p(X), X)
center, scale = L.mean(axis=0), L.std(axis=0)
ids = np.arange(5000, 5240)
rec = np.zeros(240, dtype=[("customer_id", "<i8"), ("recency", "<f8"), ("frequency", "<f8"),
                           ("monetary", "<f8")])
with h5py.File(f"{t}/in.h5", "w") as f:
    f["/m"] = X
    f["/scaled"] = (L - center) / scale
    f["/ref/center"], f["/ref/scale"], f["/ref/log1p"] = center, scale, np.array(logged, int)
    f["/neg"] = X - 1000.0
    for j, name in enumerate(["recency", "frequency", "monetary"]):
        f[f"/customers/{name}"] = X[:, j]
        rec[name] = X[:, j]
    f["/customers/customer_id"] = ids
    rec["customer_id"] = ids
    f["/table"] = rec
PYEOF
IN=$T/in.h5
in_sum=$(sum "$IN")
COLS=/customers/recency,/customers/frequency,/customers/monetary
K="-k 2:6 --seed 5 --sample 0"

# --- help ---
expect "--help" 0 "" "$STRATA" sweep --help
for w in -- "--columns" "--table" "--transform T" "log1p+zscore" "auto for --columns and --table" \
    "/transform/center" "/feature_names"; do
  grep -qF -- "$w" "$T/out" || bad "sweep --help lacks '$w'"
done

# --- the same table from every form (raw values) ---
expect "matrix" 0 "" "$STRATA" sweep "$IN:/m" $K -o "$T/m.h5"
grep -q "transform" "$T/out" && bad "matrix form prints a transform line: $(cat "$T/out")"
expect "columns none" 0 "" "$STRATA" sweep "$IN" --columns "$COLS" --transform none $K -o "$T/c.h5"
expect "table none" 0 "" "$STRATA" sweep "$IN" --table /table --transform none $K -o "$T/t.h5"
expect "group none" 0 "" "$STRATA" sweep "$IN" --table /customers --features recency,frequency,monetary --transform none $K -o "$T/g.h5"
# --- auto: explicit on the matrix, the default of named inputs ---
expect "scaled matrix" 0 "" "$STRATA" sweep "$IN:/scaled" $K -o "$T/s.h5"
expect "matrix auto" 0 "" "$STRATA" sweep "$IN:/m" --transform auto $K -o "$T/ma.h5"
expect "columns default" 0 "" "$STRATA" sweep "$IN" --columns "$COLS" $K -o "$T/ca.h5"
grep -qF "transform auto: recency zscore, frequency log1p+zscore, monetary log1p+zscore" "$T/out" \
  || bad "columns summary: $(cat "$T/out")"
expect "table auto" 0 "" "$STRATA" sweep "$IN" --table /table --transform auto $K -o "$T/ta.h5"
expect "log1p+zscore" 0 "" "$STRATA" sweep "$IN" --columns /customers/frequency,/customers/monetary --transform log1p+zscore $K -o "$T/lz.h5"
check "tables and recorded transforms" "$PY" - "$T" <<'PYEOF'
import sys, numpy as np, h5py
t = sys.argv[1]
COLS = ["k", "inertia", "calinski_harabasz", "davies_bouldin", "silhouette_sqeuclidean",
        "silhouette"]
def table(name):
    with h5py.File(f"{t}/{name}.h5") as f:
        return ({c: f["sweep"][c][:] for c in COLS},
                {a: f["sweep"].attrs[a] for a in f["sweep"].attrs}, f.attrs["transform"],
                [s.decode() for s in f["feature_names"][:]] if "feature_names" in f else None,
                {k: f["transform"][k][:] for k in f["transform"]} if "transform" in f else None,
                dict(f["transform"].attrs) if "transform" in f else None,
                sorted(f["sweep"]), sorted(f.attrs))
def same(a, b, rtol):
    for c in COLS:
        np.testing.assert_allclose(a[0][c], b[0][c], rtol=rtol, atol=1e-12, err_msg=c)
    assert a[1] == b[1], (a[1], b[1])
m = table("m")
assert m[2] == "none" and m[3] is None and m[4] is None, m[2:5]
assert m[6] == sorted(COLS) and m[7] == ["created", "k_max", "k_min", "n_init", "sample", "seed",
                                         "source", "strata_version", "transform"], (m[6], m[7])
assert list(m[0]["k"]) == [2, 3, 4, 5, 6] and m[1]["sample_size"] == 240
names = ["recency", "frequency", "monetary"]
for name in "ctg":          # raw values: the matrix's table
    o = table(name)
    same(o, m, 1e-12)
    assert o[2] == "none" and o[3] == names and o[4] is None, o[2:5]
s = table("s")              # the numpy-scaled matrix
with h5py.File(f"{t}/in.h5") as f:
    ref = {k: f["ref"][k][:] for k in f["ref"]}
for name in ("ma", "ca", "ta"):
    o = table(name)
    same(o, s, 1e-9)
    assert o[2] == "auto" and o[5]["transform"] == "auto", o[2]
    assert o[3] == (None if name == "ma" else names), o[3]
    tr = o[4]
    np.testing.assert_allclose(tr["center"], ref["center"], rtol=1e-12)
    np.testing.assert_allclose(tr["scale"], ref["scale"], rtol=1e-12)
    np.testing.assert_array_equal(tr["log1p"], ref["log1p"])
    assert [x.decode() for x in tr["method"]] == ["zscore", "log1p+zscore", "log1p+zscore"]
# the scaled space is not the raw one: the test can tell them apart
assert not np.allclose(s[0]["inertia"], m[0]["inertia"], rtol=1e-3)
lz = table("lz")
assert [x.decode() for x in lz[4]["method"]] == ["log1p+zscore"] * 2 and lz[2] == "log1p+zscore"
PYEOF

# --- errors: usage (2) and runtime (1), one line each, no output left ---
E=$T/err.h5
for v in bogus log1p+auto log1p+ "" ZSCORE zscore+log1p "log1p+log1p" "auto "; do
  expect "--transform '$v'" 2 "--transform must be auto, zscore, robust, minmax, none, log1p or log1p+zscore" \
    "$STRATA" sweep "$IN:/m" -k 2:3 --transform "$v" -o "$E"
done
expect "missing value" 2 "" "$STRATA" sweep "$IN:/m" -k 2:3 -o "$E" --transform
expect "key with matrix" 2 "--key needs --columns or --table" "$STRATA" sweep "$IN:/m" --key x -k 2:3 -o "$E"
expect "no dataset" 2 "input must look like IN.h5:/path/to/dataset, or IN.h5 with --columns or --table" "$STRATA" sweep "$IN" -k 2:3 -o "$E"
expect "columns and table" 2 "give --columns or --table, not both" "$STRATA" sweep "$IN" --columns /m --table /t -k 2:3 -o "$E"
expect "missing column" 1 "dataset '/customers/nope' not found" "$STRATA" sweep "$IN" --columns /customers/recency,/customers/nope -k 2:3 -o "$E"
expect "log1p of negatives" 1 "" "$STRATA" sweep "$IN:/neg" -k 2:3 --transform log1p -o "$E"
grep -qi "log1p" "$T/err" || bad "log1p error does not name the transform: $(cat "$T/err")"
expect "k above rows" 2 "KMAX must be below the 240 rows" "$STRATA" sweep "$IN" --columns "$COLS" -k 2:240 -o "$E"
[ ! -e "$E" ] && ok || bad "a failed run left $E"
# an existing output is kept as it was by a failed run, even with --force
cp "$T/m.h5" "$E"; e_sum=$(sum "$E")
expect "failed run with --force" 1 "" "$STRATA" sweep "$IN:/neg" -k 2:3 --transform log1p+robust -o "$E" --force
expect "exists" 3 "" "$STRATA" sweep "$IN" --columns "$COLS" -k 2:3 -o "$E"
[ "$(sum "$E")" = "$e_sum" ] && ok || bad "a failed run changed $E"
[ "$(sum "$IN")" = "$in_sum" ] && ok || bad "the input changed"
expect "output is the input" 2 "" "$STRATA" sweep "$IN" --columns "$COLS" -k 2:3 -o "$IN" --force
[ "$(sum "$IN")" = "$in_sum" ] && ok || bad "the input changed"

finish
