#!/usr/bin/env python3
"""Seconds from the start of a k-means++ fit (k = 16, 2 threads, one
iteration) to its first progress mark: validation, seeding and the first
pass. With FILE.h5, its /x streamed under a 1G budget (one run); without,
4M x 16 float32 blobs in memory (seed 3), best of 3. Prints the seconds and
the inertia (the same seeding gives the same inertia to the last digit).

    /usr/bin/python3 bench/micro/seed_time.py                       # in memory
    STRATA_KERNEL=avx2 /usr/bin/python3 bench/micro/seed_time.py FILE.h5
    STRATA_LIBRARY=/tmp/old/build/libstrata.so.0 /usr/bin/python3 ...   # another build

(docs/performance.md, "Zen 5, session 11".)
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import numpy as np  # noqa: E402
import strata  # noqa: E402


def first_mark(fit):
    marks = []
    t0 = time.perf_counter()
    km = fit(lambda run, it, inertia: marks.append(time.perf_counter()))
    return marks[0] - t0, km.inertia_


def model(memory=None):
    return strata.KMeans(16, init="k-means++", max_iter=1, tol=0.0, n_threads=2, random_state=1,
                         memory=memory)


if len(sys.argv) > 1:
    s, inertia = first_mark(lambda p: model("1G").fit_h5(sys.argv[1], "/x", progress=p))
else:
    rng = np.random.default_rng(3)
    n = 4_000_000
    X = (rng.standard_normal((n, 16)) + rng.integers(0, 8, (n, 1))).astype(np.float32)
    s, inertia = min(first_mark(lambda p: model().fit(X, progress=p)) for _ in range(3))
print(f"first iteration at {s:.3f} s; inertia {inertia!r}")
