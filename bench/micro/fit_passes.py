#!/usr/bin/env python3
"""A streamed fit of FILE:/x (k = 16 from its first 16 rows, tol 0, ITERS
iterations, --memory 1G, 2 threads), for profiling the passes: run it under
perf with 2 and with 6 iterations and subtract, per symbol, to get what 4
passes cost (docs/performance.md, "Chunk reads and a two-vector argmin"):

    STRATA_KERNEL=avx2 perf record -o /tmp/p6.data -F 2000 \\
        /usr/bin/python3 bench/micro/fit_passes.py FILE.h5 6
    perf report -i /tmp/p6.data -n --no-children --sort sym   # and the same with 2
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import strata  # noqa: E402

path, iters = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    c0 = f["x"][:16].astype(np.float64)
km = strata.KMeans(16, init=c0, max_iter=iters, tol=0.0, random_state=1, n_threads=2,
                   memory="1G")
km.fit_h5(path, "/x")
print(km.inertia_)
