#!/usr/bin/env bash
# `strata kmeans --memory` (issue 13): a budget below the dataset streams the
# file, writing the same /labels, /centroids and inertia as the loaded fit;
# sizes with K/M/G suffixes parse, bad ones are usage errors (exit 2), and a
# budget below the streamed fit's minimum is a runtime error naming it.
# Mini-batch streams with the loaded fit's result too.
#
#   test_memory_cli.sh STRATA_BINARY
set -u

STRATA=${1:?usage: test_memory_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi

T_NAME=strata-memory-cli-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

# 400,000 x 8 float32 (12.8 MB) in chunks of 1000 rows
"$PY" - "$T" <<'PYEOF' || { echo "FAIL: cannot write fixtures"; exit 1; }
import sys, numpy as np, h5py
rng = np.random.default_rng(5)
c = rng.uniform(-20, 20, (6, 8))
X = (c[rng.integers(0, 6, 400_000)] + rng.normal(size=(400_000, 8))).astype(np.float32)
with h5py.File(f"{sys.argv[1]}/in.h5", "w") as f:
    f.create_dataset("x", data=X, chunks=(1000, 8))
PYEOF

expect loaded 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --threads 2 -o "$T/a.h5"
expect streamed 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --threads 1 --memory 32M -o "$T/b.h5"
if grep -q "streamed from the file" "$T/out"; then ok; else bad "streamed: no 'streamed' line: $(cat "$T/out")"; fi
expect big-budget 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --memory 1G -o "$T/c.h5"
if grep -q "streamed" "$T/out"; then bad "a 1G budget should load the file"; else ok; fi
check same-result "$PY" - "$T" <<'PYEOF'
import sys, h5py, numpy as np
t = sys.argv[1]
with h5py.File(f"{t}/a.h5") as a, h5py.File(f"{t}/b.h5") as b, h5py.File(f"{t}/c.h5") as c:
    for o in (b, c):
        assert np.array_equal(a["labels"][:], o["labels"][:])
        assert np.array_equal(a["centroids"][:], o["centroids"][:])
        assert a.attrs["inertia"] == o.attrs["inertia"], (a.attrs["inertia"], o.attrs["inertia"])
    # provenance: whether the rows were streamed
    assert (a.attrs["streamed"], b.attrs["streamed"], c.attrs["streamed"]) == (0, 1, 0)
PYEOF
expect too-small 1 "at least" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --memory 100K -o "$T/d.h5"
[ -e "$T/d.h5" ] && bad "too-small wrote an output" || ok
expect bad-suffix 2 "--memory must be a size" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --memory 1X -o "$T/d.h5"
expect negative 2 "--memory must be a size" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --memory -1G -o "$T/d.h5"
# hamerly on a fit that streams under a budget too small for its gaps (2
# bytes a row besides 8 MiB blocks) runs lloyd (the same bits) and records
# it; k-means|| streams too
expect hamerly 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --memory 32M --algorithm hamerly -o "$T/h.h5"
if grep -q "streamed from the file" "$T/out"; then ok; else bad "hamerly: no 'streamed' line: $(cat "$T/out")"; fi
expect kpar-loaded 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --init "k-means||" -o "$T/p1.h5"
expect kpar-streamed 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --init "k-means||" --memory 32M -o "$T/p2.h5"
if grep -q "streamed from the file" "$T/out"; then ok; else bad "kpar-streamed: no 'streamed' line: $(cat "$T/out")"; fi
check hamerly-is-lloyd "$PY" - "$T" <<'PYEOF'
import sys, h5py, numpy as np
t = sys.argv[1]
with h5py.File(f"{t}/a.h5") as a, h5py.File(f"{t}/h.h5") as h:
    assert h.attrs["algorithm"] in ("lloyd", b"lloyd"), h.attrs["algorithm"]
    assert np.array_equal(a["labels"][:], h["labels"][:])
    assert np.array_equal(a["centroids"][:], h["centroids"][:])
with h5py.File(f"{t}/p1.h5") as a, h5py.File(f"{t}/p2.h5") as b:
    assert np.array_equal(a["labels"][:], b["labels"][:])
    assert np.array_equal(a["centroids"][:], b["centroids"][:])
    assert a.attrs["inertia"] == b.attrs["inertia"]
PYEOF
# minibatch streams too: the rows of a window of steps (14 batches of 2048
# under 32M) read in one sweep each, the loaded fit's result bitwise;
# batches larger than the budget's window are a runtime error naming the minimum
expect mb-loaded 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --threads 2 --algorithm minibatch --n-init 2 --batch-size 2048 --tol 0 -o "$T/m1.h5"
expect mb-streamed 0 "" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --seed 3 --threads 1 --memory 32M --algorithm minibatch --n-init 2 --batch-size 2048 --tol 0 -o "$T/m2.h5"
if grep -q "streamed from the file" "$T/out"; then ok; else bad "mb-streamed: no 'streamed' line: $(cat "$T/out")"; fi
check minibatch-same-result "$PY" - "$T" <<'PYEOF'
import sys, h5py, numpy as np
t = sys.argv[1]
with h5py.File(f"{t}/m1.h5") as a, h5py.File(f"{t}/m2.h5") as b:
    for o in (a, b):
        assert o.attrs["algorithm"] in ("minibatch", b"minibatch"), o.attrs["algorithm"]
    assert (a.attrs["streamed"], b.attrs["streamed"]) == (0, 1)
    assert np.array_equal(a["labels"][:], b["labels"][:])
    assert np.array_equal(a["centroids"][:], b["centroids"][:])
    assert a.attrs["inertia"] == b.attrs["inertia"], (a.attrs["inertia"], b.attrs["inertia"])
    # more steps than one window holds (stopped by max_no_improvement)
    assert a.attrs["n_iter"] == b.attrs["n_iter"] > 14, (a.attrs["n_iter"], b.attrs["n_iter"])
    # the labels are the nearest centroids of the file's rows
    X = h5py.File(f"{t}/in.h5")["x"][:].astype(np.float64)
    d2 = ((X[:, None, :] - b["centroids"][:][None, :, :]) ** 2).sum(-1)
    assert np.array_equal(d2.argmin(1), b["labels"][:])
PYEOF
expect mb-batch-too-big 1 "mini-batch" "$STRATA" kmeans "$T/in.h5:/x" -k 6 --memory 32M --algorithm minibatch --batch-size 200000 -o "$T/d.h5"
[ -e "$T/d.h5" ] && bad "mb-batch-too-big wrote an output" || ok
# --columns and --table (every layout of `strata gen customers`) stream under
# --memory too: the file of the loaded fit, bitwise, but for the streamed
# and created attributes; the summary names the features and the key
for L in columns compound pandas; do
  "$STRATA" gen customers -o "$T/cust-$L.h5" --n 300000 --layout "$L" >/dev/null ||
    bad "gen customers --layout $L"
  expect "table-$L-loaded" 0 "" "$STRATA" kmeans "$T/cust-$L.h5" --table /customers -k 5 --seed 2 -o "$T/tl-$L.h5"
  if grep -q "streamed" "$T/out"; then bad "table-$L: streamed without --memory"; else ok; fi
  expect "table-$L-streamed" 0 "" "$STRATA" kmeans "$T/cust-$L.h5" --table /customers -k 5 --seed 2 --threads 1 --memory 40M -o "$T/ts-$L.h5"
  if grep -q "streamed from the file" "$T/out" && grep -q "row key: customer_id" "$T/out"; then ok; else bad "table-$L: $(cat "$T/out")"; fi
done
expect columns-streamed 0 "" "$STRATA" kmeans "$T/cust-columns.h5" --columns /customers/recency_days,/customers/monetary,/customers/web_share -k 4 --memory 34M -o "$T/cs.h5"
if grep -q "streamed from the file" "$T/out"; then ok; else bad "columns-streamed: $(cat "$T/out")"; fi
expect columns-loaded 0 "" "$STRATA" kmeans "$T/cust-columns.h5" --columns /customers/recency_days,/customers/monetary,/customers/web_share -k 4 -o "$T/cl.h5"
check tables-same-files "$PY" - "$T" <<'PYEOF'
import sys, h5py, numpy as np
t = sys.argv[1]
pairs = [(f"{t}/tl-{l}.h5", f"{t}/ts-{l}.h5") for l in ("columns", "compound", "pandas")]
pairs.append((f"{t}/cl.h5", f"{t}/cs.h5"))
for pa, pb in pairs:
    with h5py.File(pa) as a, h5py.File(pb) as b:
        names = []
        a.visit(names.append)
        other = []
        b.visit(other.append)
        assert names == other, (pa, names, other)
        assert "customer_id" in names and "feature_names" in names, names
        for k in names:
            if isinstance(a[k], h5py.Dataset):  # groups: the pandas views' (their attributes below)
                assert np.array_equal(a[k][()], b[k][()]), (pa, k)
            assert dict(a[k].attrs) == dict(b[k].attrs), (pa, k)
        diff = {k for k in set(a.attrs) | set(b.attrs)
                if not np.array_equal(a.attrs.get(k), b.attrs.get(k))}
        # the budget is recorded where one was given (memory)
        assert "streamed" in diff and diff <= {"streamed", "created", "memory"}, (pa, diff)
        assert (a.attrs["streamed"], b.attrs["streamed"]) == (0, 1)
# the three layouts hold the same customers: the same model
with h5py.File(f"{t}/ts-columns.h5") as a, h5py.File(f"{t}/ts-pandas.h5") as b:
    assert np.array_equal(a["centroids"][()], b["centroids"][()])
PYEOF
# bad inputs under --memory: the frame reader's messages, no output
expect table-missing-feature 1 "has no column 'nope'" "$STRATA" kmeans "$T/cust-pandas.h5" --table /customers --features recency_days,nope -k 3 --memory 40M -o "$T/d.h5"
expect columns-missing 1 "/customers/nope" "$STRATA" kmeans "$T/cust-columns.h5" --columns /customers/recency_days,/customers/nope -k 3 --memory 40M -o "$T/d.h5"
"$PY" - "$T" <<'PYEOF' || bad "cannot write the NaN fixture"
import sys, h5py, numpy as np
with h5py.File(f"{sys.argv[1]}/cust-columns.h5", "a") as f:
    v = f["customers/monetary"][()]
    v[250_001] = np.nan
    f["customers/monetary"][...] = v
PYEOF
expect table-nan-streamed 1 "feature 'monetary' is NaN in row 250001" "$STRATA" kmeans "$T/cust-columns.h5" --table /customers -k 5 --memory 40M -o "$T/d.h5"
expect table-nan-loaded 1 "feature 'monetary' is NaN in row 250001" "$STRATA" kmeans "$T/cust-columns.h5" --table /customers -k 5 -o "$T/d.h5"
[ -e "$T/d.h5" ] && bad "a failed table fit wrote an output" || ok
finish
