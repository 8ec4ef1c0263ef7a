#!/usr/bin/env bash
# End-to-end tests of the `strata` program: results against a brute-force
# Lloyd in numpy, overwrite protection, untouched inputs, and the message and
# exit code of every documented failure.
#
#   test_cli.sh STRATA_BINARY
#
# Needs a Python with numpy and h5py ($STRATA_TEST_PYTHON, default Debian's
# /usr/bin/python3); exits 77 (skipped) without one.
set -u

STRATA=${1:?usage: test_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/cli_check.py"

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi

T_NAME=strata-cli-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

"$PY" "$CHECK" fixtures "$T" || { echo "FAIL: cannot write fixtures"; exit 1; }
B=$T/blobs.h5 I=$T/init.h5 X=$T/bad.h5
blobs_sum=$(sum "$B")
init_sum=$(sum "$I")
version=$("$STRATA" --version | awk '{print $2}')

# --- help and version ---
expect "--version" 0 "" "$STRATA" --version
grep -qE '^strata [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || bad "--version output: $(cat "$T/out")"
for args in "--help" "kmeans --help" "demo --help"; do
  expect "$args" 0 "" "$STRATA" $args
  grep -q "usage: strata" "$T/out" || bad "$args: no usage line"
done
grep -q "exit status" <("$STRATA" --help) && ok || bad "--help does not document exit codes"
expect "no command" 2 "" "$STRATA"
expect "unknown command" 2 "unknown command 'frobnicate'" "$STRATA" frobnicate

# --- round trip against a brute-force Lloyd from the same starting centroids ---
expect "fit float64" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/out.h5" --init "$I:/c" --tol 0 --threads 2
grep -q "converged" "$T/out" && grep -qE "^ +4 +[0-9]+ +[0-9.]+%" "$T/out" ||
  bad "summary lacks convergence or per-cluster lines: $(cat "$T/out")"
check "float64 result" "$PY" "$CHECK" lloyd "$T/out.h5" "$B" /data/x "$I" /c \
  --source "$B:/data/x" --version "$version" --seed 0

expect "fit float64 hamerly" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/outh.h5" --init "$I:/c" --tol 0 --threads 3 --algorithm hamerly
check "float64 hamerly result" "$PY" "$CHECK" lloyd "$T/outh.h5" "$B" /data/x "$I" /c --algorithm hamerly
check "hamerly = lloyd, bitwise" "$PY" -c "import h5py, numpy as np, sys
a, b = h5py.File('$T/out.h5', 'r'), h5py.File('$T/outh.h5', 'r')
same = all(np.array_equal(a[n][...], b[n][...]) for n in ('labels', 'centroids'))
sys.exit(0 if same and a.attrs['inertia'] == b.attrs['inertia'] and a.attrs['n_iter'] == b.attrs['n_iter'] else 1)"
expect "fit float64 yinyang" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/outy.h5" --init "$I:/c" --tol 0 --threads 2 --algorithm yinyang
check "float64 yinyang result" "$PY" "$CHECK" lloyd "$T/outy.h5" "$B" /data/x "$I" /c --algorithm yinyang
check "yinyang = lloyd, bitwise" "$PY" -c "import h5py, numpy as np, sys
a, b = h5py.File('$T/out.h5', 'r'), h5py.File('$T/outy.h5', 'r')
same = all(np.array_equal(a[n][...], b[n][...]) for n in ('labels', 'centroids'))
sys.exit(0 if same and a.attrs['inertia'] == b.attrs['inertia'] and a.attrs['n_iter'] == b.attrs['n_iter'] else 1)"
expect "explicit lloyd" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/outl.h5" --init "$I:/c" --tol 0 --algorithm lloyd
check "explicit lloyd result" "$PY" "$CHECK" lloyd "$T/outl.h5" "$B" /data/x "$I" /c --algorithm lloyd

# mini-batch: approximate; its own labels and inertia are exact for its centroids,
# the inertia is near Lloyd's, and --threads does not change the result
expect "fit minibatch" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/outm.h5" --init "$I:/c" --algorithm minibatch --batch-size 64 --max-iter 100 --tol 0 --threads 1
grep -q "mini-batch steps" "$T/out" && ok || bad "minibatch summary: $(cat "$T/out")"
expect "fit minibatch 3 threads" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/outm3.h5" --init "$I:/c" --algorithm minibatch --batch-size 64 --max-iter 100 --tol 0 --threads 3
check "minibatch result" "$PY" -c "import h5py, numpy as np, sys
m, m3, l = (h5py.File(p, 'r') for p in ('$T/outm.h5', '$T/outm3.h5', '$T/out.h5'))
x = h5py.File('$B', 'r')['data/x'][...].astype(np.float64)
c, lab = m['centroids'][...], m['labels'][...]
d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
inertia = d2.min(1).sum()
ok = (m.attrs['algorithm'] == 'minibatch' and np.array_equal(lab, d2.argmin(1))
      and np.isclose(m.attrs['inertia'], inertia, rtol=1e-9)
      and m.attrs['inertia'] <= 1.02 * l.attrs['inertia'] and m.attrs['n_iter'] >= 2
      and np.array_equal(lab, m3['labels'][...]) and np.array_equal(c, m3['centroids'][...]))
sys.exit(0 if ok else 1)"

expect "fit float32 gzip chunked" 0 "" "$STRATA" kmeans "$B:/data/x32gz" -k 5 -o "$T/out32.h5" --init "$I:/c32" --tol 0
check "float32 gzip result" "$PY" "$CHECK" lloyd "$T/out32.h5" "$B" /data/x32gz "$I" /c32 --rtol 1e-5
expect "fit int16" 0 "" "$STRATA" kmeans "$B:/data/xint" -k 5 -o "$T/outint.h5" --init "$I:/cint" --tol 0 --threads 1
check "int16 result" "$PY" "$CHECK" lloyd "$T/outint.h5" "$B" /data/xint "$I" /cint

# --- overwrite protection ---
out_sum=$(sum "$T/out.h5")
expect "exists" 3 "already exists" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/out.h5"
[ "$(sum "$T/out.h5")" = "$out_sum" ] && ok || bad "refused output was modified"
expect "--force" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/out.h5" --seed 9 --n-init 2 --force
[ "$(sum "$T/out.h5")" != "$out_sum" ] && ok || bad "--force did not replace the output"
[ "$("$PY" "$CHECK" attr "$T/out.h5" seed)" = 9 ] && ok || bad "--force output has the wrong seed"
expect "output is input" 2 "is the input file" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$B" --force

# --- runtime errors (exit 1), one clear line each ---
expect "missing file" 1 "cannot open '$T/nope.h5': No such file or directory" \
  "$STRATA" kmeans "$T/nope.h5:/x" -k 2 -o "$T/e.h5"
expect "not HDF5" 1 "'$T/text.h5' is not an HDF5 file" "$STRATA" kmeans "$T/text.h5:/x" -k 2 -o "$T/e.h5"
expect "missing dataset" 1 "dataset '/nope' not found in '$X'" "$STRATA" kmeans "$X:/nope" -k 2 -o "$T/e.h5"
expect "missing group" 1 "(no '/nogroup')" "$STRATA" kmeans "$X:/nogroup/x" -k 2 -o "$T/e.h5"
expect "group not dataset" 1 "is a group, not a dataset" "$STRATA" kmeans "$X:/group" -k 2 -o "$T/e.h5"
expect "1-D dataset" 1 "has rank 1, shape (10)" "$STRATA" kmeans "$X:/one_d" -k 2 -o "$T/e.h5"
expect "null dataspace" 1 "has no values (a null dataspace)" "$STRATA" kmeans "$X:/null" -k 2 -o "$T/e.h5"
expect "scalar dataset" 1 "has one value (a scalar)" "$STRATA" kmeans "$X:/scalar" -k 2 -o "$T/e.h5"
expect "string dataset" 1 "holds string values" "$STRATA" kmeans "$X:/strings" -k 2 -o "$T/e.h5"
expect "zero rows" 1 "has 0 rows" "$STRATA" kmeans "$X:/empty" -k 2 -o "$T/e.h5"
expect "k > n" 1 "k = 5 is larger than the number of rows n = 3" "$STRATA" kmeans "$X:/small" -k 5 -o "$T/e.h5"
expect "NaN" 1 "NaN at row 17" "$STRATA" kmeans "$X:/nan" -k 2 -o "$T/e.h5"
expect "bad init file" 1 "dataset '/nope' not found in '$I'" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/e.h5" --init "$I:/nope"
expect "missing output folder" 1 "cannot write '$T/no/such/dir/e.h5'" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/no/such/dir/e.h5"
[ ! -e "$T/e.h5" ] && ok || bad "a failed run left $T/e.h5"

# --- usage errors (exit 2) ---
expect "k = 0" 2 "-k must be an integer >= 1, got '0'" "$STRATA" kmeans "$B:/data/x" -k 0 -o "$T/e.h5"
expect "k not a number" 2 "-k must be an integer >= 1, got 'abc'" "$STRATA" kmeans "$B:/data/x" -k abc -o "$T/e.h5"
expect "k with junk" 2 "got '3x'" "$STRATA" kmeans "$B:/data/x" -k 3x -o "$T/e.h5"
expect "missing -k" 2 "missing -k" "$STRATA" kmeans "$B:/data/x" -o "$T/e.h5"
expect "-k without value" 2 "option '-k' needs a value" "$STRATA" kmeans "$B:/data/x" -o "$T/e.h5" -k
expect "missing -o" 2 "missing -o" "$STRATA" kmeans "$B:/data/x" -k 2
expect "missing input" 2 "missing input" "$STRATA" kmeans -k 2 -o "$T/e.h5"
expect "two inputs" 2 "unexpected argument" "$STRATA" kmeans "$B:/data/x" "$B:/data/x" -k 2 -o "$T/e.h5"
expect "input without dataset" 2 "IN.h5:/path/to/dataset" "$STRATA" kmeans "$B" -k 2 -o "$T/e.h5"
expect "unknown option" 2 "unknown option '--bogus'" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --bogus
expect "bad algorithm" 2 "--algorithm must be auto, lloyd, hamerly, yinyang or minibatch" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --algorithm elkan
expect "bad batch size" 2 "--batch-size" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --algorithm minibatch --batch-size 0
expect "negative tol" 2 "--tol must be a number >= 0" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --tol -1
expect "NaN tol" 2 "--tol must be a number" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --tol nan
expect "negative seed" 2 "--seed must be an integer >= 0" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --seed -3
expect "huge seed" 2 "--seed is too large" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --seed 99999999999999999999
expect "too many threads" 2 "threads must be in" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --threads 100000
expect "bad --init" 2 "--init must be k-means++, k-means||, afk-mc2, random or FILE.h5:/dataset" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --init foo
expect "--chain-length 0" 2 "--chain-length must be an integer >= 1" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --init afk-mc2 --chain-length 0
expect "--chain-length too long" 2 "chain_length must be in [1, 100000]" "$STRATA" kmeans "$B:/data/x" -k 2 -o "$T/e.h5" --init afk-mc2 --chain-length 100001
expect "init k mismatch" 2 "holds 3 centroids but -k is 5" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/e.h5" --init "$I:/c3"
expect "demo bad --n" 2 "--n must be an integer >= 1" "$STRATA" demo --n 0 -o "$T/demo"
expect "demo k > n" 2 "more than --n" "$STRATA" demo --n 3 --k 5 -o "$T/demo"

# --- the other options run ---
expect "random init" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/rand.h5" --init random --seed 3 --max-iter 50 --tol 1e-6
expect "k-means++ init" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/pp.h5" --init k-means++ --n-init 3
expect "k-means|| init" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/par.h5" --init 'k-means||' --seed 4 --threads 1
expect "k-means|| init, 2 threads" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/par2.h5" --init 'k-means||' --seed 4 --threads 2
check "k-means||: the same model for 1 and 2 threads" "$PY" -c "import h5py, numpy as np, sys
a, b = h5py.File('$T/par.h5', 'r'), h5py.File('$T/par2.h5', 'r')
sys.exit(0 if all(np.array_equal(a[n][...], b[n][...]) for n in ('labels', 'centroids')) else 1)"
expect "afk-mc2 init" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/afk.h5" --init afk-mc2 --chain-length 50 --seed 4 --threads 1
expect "afk-mc2 init, 2 threads" 0 "" "$STRATA" kmeans "$B:/data/x" -k 5 -o "$T/afk2.h5" --init afk-mc2 --chain-length 50 --seed 4 --threads 2
check "afk-mc2: the same model for 1 and 2 threads" "$PY" -c "import h5py, numpy as np, sys
a, b = h5py.File('$T/afk.h5', 'r'), h5py.File('$T/afk2.h5', 'r')
sys.exit(0 if all(np.array_equal(a[n][...], b[n][...]) for n in ('labels', 'centroids')) else 1)"

# --- overflow (issue 12): float32 x 1e20 fitted in double, float64 x 1e155 refused ---
"$PY" -c 'import h5py, numpy as np, sys
x = (np.arange(200) % 4)[:, None] * 100.0 + np.random.default_rng(0).uniform(-1, 1, (200, 3))
with h5py.File(sys.argv[1], "w") as f:
    f["f32"] = (x * 1e20).astype(np.float32)
    f["f64"] = x * 1e155' "$T/huge.h5"
expect "float32 x 1e20" 0 "" "$STRATA" kmeans "$T/huge.h5:/f32" -k 4 -o "$T/huge32.h5" --init random --seed 1
"$PY" -c 'import h5py, numpy as np, sys
f = h5py.File(sys.argv[1], "r"); lab = f["labels"][:]
assert len(set(zip(np.arange(200) % 4, lab))) == 4 == len(set(lab)), "blobs split or merged"
assert np.isfinite(f["centroids"][:]).all() and np.isfinite(f.attrs["inertia"])' "$T/huge32.h5" &&
  ok || bad "float32 x 1e20: wrong clusters"
expect "float64 x 1e155" 1 "squared distances of the data overflow double" "$STRATA" kmeans "$T/huge.h5:/f64" -k 4 -o "$T/huge64.h5"
[ ! -e "$T/huge64.h5" ] && ok || bad "a failed run left $T/huge64.h5"

# --- inputs untouched, no temporary files left behind ---
[ "$(sum "$B")" = "$blobs_sum" ] && [ "$(sum "$I")" = "$init_sum" ] && ok || bad "an input file changed"
leftovers=$(find "$T" -name '*.tmp.*')
[ -z "$leftovers" ] && ok || bad "temporary files left: $leftovers"

# --- a tight address-space limit: OpenBLAS is loaded only for the GEMM path
# (its start-up spun for ever under ulimit -v before main() ran) ---
# (not under a sanitizer: its shadow memory needs terabytes of address space)
if [ -n "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ] || ldd "$STRATA" 2>/dev/null | grep -q 'lib[at]san'; then
  echo "skipped under a sanitizer: the ulimit -v checks"
else
  expect "version under ulimit -v" 0 "" bash -c "ulimit -v 180000; exec timeout 20 '$STRATA' --version"
  expect "fit under ulimit -v" 0 "" bash -c "ulimit -v 180000; exec timeout 60 '$STRATA' kmeans '$B:/data/x' -k 5 -o '$T/ulimit.h5' --init '$I:/c' --tol 0"
  check "fit under ulimit -v: same model" "$PY" "$CHECK" lloyd "$T/ulimit.h5" "$B" /data/x "$I" /c
fi

# --- demo ---
expect "demo" 0 "" "$STRATA" demo --n 20000 -o "$T/demo" --threads 2
grep -q "customers per tier and lifecycle stage" "$T/out" || bad "demo printed no tiers: $(cat "$T/out")"
check "demo files" "$PY" "$CHECK" demo "$T/demo" 20000
expect "demo again" 3 "already holds" "$STRATA" demo --n 20000 -o "$T/demo"

finish
