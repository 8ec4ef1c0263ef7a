#!/usr/bin/env bash
# RFM over MPI, end to end: `strata rfm` against `strata-mpi rfm` under
# mpirun -np 1, 2, 3 on one generated log (docs/distributed.md, "RFM over
# MPI"). Run from the repository root after `cmake --preset mpi &&
# cmake --build --preset mpi`; prints one line per run (best of 3 wall
# times) and checks that the outputs are the same bits (h5py).
# Usage: bench/results/2026-12-04-mpi-rfm/run.sh [CUSTOMERS]
set -euo pipefail
B=build-mpi/tools
C=${1:-1000000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
lscpu | grep -E "Model name|CPU family|^Model:|^CPU\(s\)"
"$B/strata" gen transactions -o "$T/tx.h5" --customers "$C" --seed 1 --force
ARGS=(--customer /tx/customer_id --time /tx/day --amount /tx/amount --force)
best() { # best wall time of 3 runs of "$@"
  local b=""
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    b=$(echo "$s $e $b" | awk '{t = $2 - $1; if ($3 == "" || t < $3) print t; else print $3}')
  done
  echo "$b"
}
echo "serial strata rfm: $(best "$B/strata" rfm "$T/tx.h5" "${ARGS[@]}" -o "$T/s.h5") s"
for np in 1 2 3; do
  echo "strata-mpi rfm -np $np: $(best tests/mpi/mpirun.sh "$np" "$B/strata-mpi" rfm "$T/tx.h5" \
    "${ARGS[@]}" -o "$T/m$np.h5") s"
done
/usr/bin/python3 - "$T" <<'PY'
import sys, h5py, numpy as np
t = sys.argv[1]
a = h5py.File(f"{t}/s.h5", "r")
print("rows", a.attrs["rows"], "customers", a.attrs["customers"])
for np_ in (1, 2, 3):
    b = h5py.File(f"{t}/m{np_}.h5", "r")
    same = all(np.asarray(a[k][()]).tobytes() == np.asarray(b[k][()]).tobytes()
               for k in ["customer_id", "recency", "frequency", "monetary", "r", "f", "m",
                         "segment", "profile/revenue", "profile/median_monetary"])
    print(f"np {np_}: same bits as serial: {same}")
PY
