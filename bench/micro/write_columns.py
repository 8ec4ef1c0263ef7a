#!/usr/bin/env python3
"""Seconds to write per-row columns of 10M customers through strata_out (the
writer of `strata tiers`), column by column, plus the commit (image copied,
written, synced), and the file's size: what the chunk packer
(lib/io/h5_chunks.c) changes.

    OMP_NUM_THREADS=2 /usr/bin/python3 bench/micro/write_columns.py BUILD_ROOT OUT.h5

BUILD_ROOT: a source tree with its build in BUILD_ROOT/build (so that two
builds can be compared). Columns: four int64 (sorted ids, days, counts), two
int32 (scores, segments), money with cents (float64) and normal noise
(float64, what gzip cannot shrink).
"""
import ctypes
import os
import sys
import time

root, out = sys.argv[1], sys.argv[2]
os.environ["STRATA_LIBRARY"] = os.path.join(root, "build", "libstrata.so")
import numpy as np  # noqa: E402

C = ctypes.CDLL(os.environ["STRATA_LIBRARY"])
P = ctypes.POINTER
C.strata_out_open.argtypes = [P(ctypes.c_void_p), ctypes.c_char_p, P(ctypes.c_char_p),
                              ctypes.c_int, ctypes.c_int]
for name, ctype in (("int32", ctypes.c_int32), ("int64", ctypes.c_int64),
                    ("double", ctypes.c_double)):
    getattr(C, f"strata_out_column_{name}").argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                       P(ctype), ctypes.c_int64]
C.strata_out_commit.argtypes = [ctypes.c_void_p]

rng = np.random.default_rng(1)
n = 10_000_000
cols = {
    "/customer_id": np.sort(rng.choice(10**9, n, replace=False)).astype(np.int64),
    "/recency": rng.integers(0, 700, n).astype(np.int64),
    "/frequency": rng.geometric(0.3, n).astype(np.int64),
    "/first_day": rng.integers(19000, 20000, n).astype(np.int64),
    "/r": rng.integers(1, 6, n).astype(np.int32),
    "/segment": rng.integers(0, 11, n).astype(np.int32),
    "/monetary": np.round(rng.gamma(2, 40, n), 2),
    "/scaled": rng.normal(size=n),
}
h = ctypes.c_void_p()
assert C.strata_out_open(ctypes.byref(h), out.encode(), None, 0, 1) == 0
times = {}
for name, a in cols.items():
    kind = {np.dtype(np.int64): ("int64", ctypes.c_int64), np.dtype(np.int32):
            ("int32", ctypes.c_int32), np.dtype(np.float64): ("double", ctypes.c_double)}
    fn, ctype = kind[a.dtype]
    t0 = time.perf_counter()
    assert getattr(C, f"strata_out_column_{fn}")(h, name.encode(),
                                                 a.ctypes.data_as(P(ctype)), n) == 0
    times[name] = time.perf_counter() - t0
t0 = time.perf_counter()
assert C.strata_out_commit(h) == 0
times["commit"] = time.perf_counter() - t0
print(" ".join(f"{k}:{v:.2f}" for k, v in times.items()),
      f"total {sum(times.values()):.2f} s, file {os.path.getsize(out) / 1e6:.0f} MB")
