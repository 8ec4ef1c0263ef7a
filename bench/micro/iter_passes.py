#!/usr/bin/env python3
"""Wall and CPU seconds of each iteration of one fit of FILE:/x (k = 16 from
its first 16 rows, tol 0, ITERS iterations, 2 threads, under the memory
budget MEMORY, so streamed when the file is larger), one progress mark at
the end of each iteration: the lists start at iteration 2. Prints one line:
ALGORITHM, wall, cpu (user + sys of the process), inertia, iterations.

    /usr/bin/python3 bench/micro/iter_passes.py FILE.h5 lloyd 7 1G
    STRATA_LIBRARY=/tmp/old/build/libstrata.so.0 /usr/bin/python3 ...   # another build

For a profile of the passes, run it under perf with 6 and with 2 iterations
and subtract per symbol (4 passes):

    STRATA_KERNEL=avx2 perf record -o /tmp/p6.data -F 2000 \
        /usr/bin/python3 bench/micro/iter_passes.py FILE.h5 lloyd 6 1G
    perf report -i /tmp/p6.data -n --no-children --sort sym   # and the same with 2

(docs/performance.md, "Zen 5: one read per iteration" and "Chunk reads and a
two-vector argmin".)
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import strata  # noqa: E402

path, algo, iters, mem = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with h5py.File(path, "r") as f:
    c0 = f["x"][:16].astype(np.float64)
marks = []


def mark(run, it, inertia):
    t = os.times()
    marks.append((time.perf_counter(), t.user + t.system))


km = strata.KMeans(16, init=c0, max_iter=iters, tol=0.0, n_threads=2, memory=mem, algorithm=algo)
km.fit_h5(path, "/x", progress=mark)
wall = [round(b[0] - a[0], 3) for a, b in zip(marks, marks[1:])]
cpu = [round(b[1] - a[1], 2) for a, b in zip(marks, marks[1:])]
print(algo, "wall", wall, "cpu", cpu, "inertia", km.inertia_, "iters", km.n_iter_)
