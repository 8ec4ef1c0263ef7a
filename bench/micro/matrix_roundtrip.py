#!/usr/bin/env python3
"""A feature matrix written with strata_h5_write_matrix() and clustered
streamed from the file: seconds to write, the file's size, and seconds of
`strata kmeans FILE:/x --memory M` (5 iterations from k-means++), for one
build. What the chunk packer changes for floats (lib/io/h5_chunks.c: raw
chunks where gzip does not pay, read directly by the streamed passes).

    OMP_NUM_THREADS=2 /usr/bin/python3 bench/micro/matrix_roundtrip.py BUILD_ROOT OUT.h5 \
        [--n 20000000] [--d 8] [--memory 256M]

BUILD_ROOT: a source tree with its build in BUILD_ROOT/build. Rows: 8
Gaussian blobs in float32 (seed 1).
"""
import argparse
import ctypes
import os
import subprocess
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("root")
ap.add_argument("out")
ap.add_argument("--n", type=int, default=20_000_000)
ap.add_argument("--d", type=int, default=8)
ap.add_argument("--memory", default="256M")
a = ap.parse_args()

lib = ctypes.CDLL(os.path.join(a.root, "build", "libstrata.so"))
lib.strata_h5_write_matrix.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                                       ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                       ctypes.c_int]
rng = np.random.default_rng(1)
centres = rng.normal(scale=5.0, size=(8, a.d)).astype(np.float32)
x = centres[rng.integers(0, 8, a.n)] + rng.normal(size=(a.n, a.d)).astype(np.float32)
FLOAT32, FORCE = 1, 1
t0 = time.perf_counter()
rc = lib.strata_h5_write_matrix(a.out.encode(), b"/x", FLOAT32, x.ctypes.data, a.n, a.d, FORCE)
write_s = time.perf_counter() - t0
assert rc == 0, rc
del x
subprocess.run(["cat", a.out], stdout=subprocess.DEVNULL, check=True)  # page-cached, as written
t0 = time.perf_counter()
p = subprocess.run([os.path.join(a.root, "build", "tools", "strata"), "kmeans", f"{a.out}:/x",
                    "-k", "8", "--memory", a.memory, "--max-iter", "5", "--tol", "0", "--seed",
                    "1", "-o", a.out + ".km.h5", "--force", "--quiet"],
                   capture_output=True, text=True)
fit_s = time.perf_counter() - t0
assert p.returncode == 0, p.stderr
os.remove(a.out + ".km.h5")
print(f"write {write_s:.2f} s, file {os.path.getsize(a.out) / 1e6:.0f} MB, "
      f"streamed kmeans (k-means++ + 5 iterations) {fit_s:.2f} s")
