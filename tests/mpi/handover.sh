#!/usr/bin/env bash
# `mpirun -np 2 strata kmeans ...` with the serial program: strata-mpi beside
# it takes over (tools/strata.c), so the run is one distributed fit (its
# output says mpi_ranks = 2) with the same labels and centroids as the serial
# program's run without mpirun. Usage: handover.sh STRATA MPIRUN WORKDIR
set -euo pipefail
strata=$1 mpirun=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
"$strata" gen blobs -o "$dir/x.h5" --n 20000 --d 5 --k 4 --seed 3 >/dev/null
"$strata" kmeans "$dir/x.h5:/x" -k 4 --seed 1 -o "$dir/serial.h5" >/dev/null
"$mpirun" 2 "$strata" kmeans "$dir/x.h5:/x" -k 4 --seed 1 -o "$dir/mpi.h5" >/dev/null
/usr/bin/python3 - "$dir" <<'PY'
import sys, h5py, numpy as np
d = sys.argv[1]
with h5py.File(f"{d}/serial.h5", "r") as s, h5py.File(f"{d}/mpi.h5", "r") as m:
    assert int(m.attrs["mpi_ranks"]) == 2, dict(m.attrs)
    assert "mpi_ranks" not in s.attrs
    for name in ("labels", "centroids"):
        a, b = s[name][()], m[name][()]
        assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8)), name
print("handover: strata under mpirun -np 2 ran strata-mpi, bitwise the serial fit")
PY
