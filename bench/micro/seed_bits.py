#!/usr/bin/env python3
"""A fingerprint of seedings: the starts (centroids and inertia after one
iteration) of many fits, hashed. Run it against two builds: the same hash
means the same seeding bits (docs/performance.md, "Session 15").

    STRATA_KERNEL=avx2 STRATA_LIBRARY=/tmp/old/build/libstrata.so.0 \\
        /usr/bin/python3 bench/micro/seed_bits.py k-means++
    STRATA_KERNEL=avx2 /usr/bin/python3 bench/micro/seed_bits.py k-means++

Shapes: float32 and float64, d = 1, 3, 7, 16 (k-means++) or 1, 3, 5, 16, 17
(k-means||), k = 1 .. 150, unweighted, every third weight 0, random
weights, 1 and 2 threads; then 300000 x 16 float32 from HDF5 in memory and
streamed under a budget. Prints the number of starts and the hash.
"""
import hashlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import strata  # noqa: E402

init = sys.argv[1] if len(sys.argv) > 1 else "k-means++"
pp = init == "k-means++"
ds = (1, 3, 7, 16) if pp else (1, 3, 5, 16, 17)
ks = (1, 2, 3, 5, 8, 16, 21, 60, 150) if pp else (1, 2, 3, 8, 16, 60)
rng = np.random.default_rng(7)
starts = []


def start(km):
    starts.append(km.cluster_centers_.tobytes() + np.float64(km.inertia_).tobytes())


for dt in (np.float32, np.float64):
    for d in ds:
        for k in ks:
            for weights in ("none", "zeros", "random"):
                n = 4001 + 37 * k
                X = (rng.standard_normal((n, d)) * 3 + rng.integers(0, 9, (n, 1))).astype(dt)
                w = None
                if weights == "zeros":
                    w = np.ones(n)
                    w[::3] = 0
                elif weights == "random":
                    w = rng.random(n) * 4
                for threads in (1, 2):
                    km = strata.KMeans(k, init=init, max_iter=1, tol=0.0, n_threads=threads,
                                       random_state=k + d)
                    start(km.fit(X, sample_weight=w))
X = (rng.standard_normal((300000, 16)) + rng.integers(0, 8, (300000, 1))).astype(np.float32)
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "x.h5")
    with h5py.File(path, "w") as h:
        h.create_dataset("x", data=X, chunks=(4096, 16))
    for k in (5, 16, 40):
        for memory in (None, "31M"):  # 31M: streamed (the data and state need more)
            km = strata.KMeans(k, init=init, max_iter=1, tol=0.0, n_threads=2, random_state=3,
                               memory=memory)
            km.fit_h5(path, "/x")
            if memory:
                assert km.streamed_, "the budget did not stream the fit"
            start(km)
print(init, len(starts), "starts", hashlib.sha256(b"".join(starts)).hexdigest())
