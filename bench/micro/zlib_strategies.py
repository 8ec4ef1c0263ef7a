#!/usr/bin/env python3
"""Ratio and speed of zlib level 1 with the default strategy, Z_RLE and
Huffman only, on one 131,072-value chunk of customer-like columns shuffled
as HDF5's shuffle filter does and deflated one byte plane at a time (as
lib/io/h5_chunks.c does): why result files use Z_RLE.

    /usr/bin/python3 bench/micro/zlib_strategies.py
"""
import zlib, time, numpy as np
rng = np.random.default_rng(1)
n = 131072
cols = {
 "id": np.sort(rng.choice(10**9, 10_000_000, replace=False)).astype(np.int64)[:n],
 "recency": rng.integers(0, 700, n).astype(np.int64),
 "freq": rng.geometric(0.3, n).astype(np.int64),
 "seg": rng.integers(0, 11, 2*n).astype(np.int32),
 "money": np.round(rng.gamma(2, 40, n), 2),
 "noise": rng.normal(size=n),
 "labels": rng.integers(0, 5, 2*n).astype(np.int32),
}
for name, a in cols.items():
    raw = a.view(np.uint8).reshape(-1, a.itemsize).T.copy()
    res = []
    for sname, st in (("default", zlib.Z_DEFAULT_STRATEGY), ("rle", zlib.Z_RLE), ("huff", zlib.Z_HUFFMAN_ONLY)):
        t0 = time.perf_counter()
        for _ in range(5):
            c = zlib.compressobj(1, zlib.DEFLATED, 15, 8, st)
            out = b"".join(c.compress(raw[j].tobytes()) for j in range(a.itemsize)) + c.flush()
        dt = (time.perf_counter() - t0) / 5
        res.append(f"{sname} {len(out)/a.nbytes:.3f} {a.nbytes/dt/1e6:.0f}MB/s")
    print(name, " | ".join(res))
