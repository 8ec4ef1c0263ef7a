#!/usr/bin/env python3
"""Streamed k-means passes by read path (issue 13): wall and CPU (user + sys
of the whole process) seconds per pass, alternating runs with
STRATA_STREAM_READ=pread (the default: direct reads), mmap (views of a
mapping) and hdf5 (through HDF5), plus the h5py block read of the same
(page-cached) file as the yardstick, wall and CPU.

    /usr/bin/python3 bench/mmap_pass.py FILE.h5 --k 16 --memory 1G --iters 4 \
        --threads 2 --rounds 3

MODES=cat,h5py,pread,mmap,hdf5,loaded picks the runs (cat: `cat FILE >
/dev/null`, another yardstick; loaded: no budget, the in-memory pass); the
modes 1 and 0 of before still mean mmap and hdf5. COLD=1 (root only) drops
the page cache before each yardstick read and before each pass (from the
progress callback; the drop is not timed): reads and passes from the disk.

Each run fits FILE:/x from given centroids (its first K rows), tol 0, ITERS
iterations, under the budget (streamed); a progress callback marks each
iteration (one streamed pass). Per run the minimum over iterations 2..ITERS
is kept; per mode the minimum over runs. One JSON line per run, then a
summary line. The load average is recorded before each run.
"""
import argparse
import json
import os
import subprocess
import sys
import time

TIMER = r"""
import json, os, sys, time
import numpy as np, h5py, strata
path, k, iters, memory, threads = sys.argv[1:6]
k, iters, threads = int(k), int(iters), int(threads)
with h5py.File(path, "r") as f:
    c0 = f["x"][:k].astype(np.float64)
marks = []  # (end of a pass, start of the next): apart by the cache drop
cold = os.environ.get("COLD") == "1"
def now():
    t = os.times()
    return time.perf_counter(), t.user + t.system
def mark(run, it, inertia):
    end = now()
    if cold:  # the next pass starts with nothing of the file in the page cache
        drop_caches()
    marks.append((end, now()))
def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1")
km = strata.KMeans(k, init=c0, max_iter=iters, tol=0.0, random_state=1, n_threads=threads,
                   memory=None if memory == "0" else memory)
km.fit_h5(path, "/x", progress=mark)
w = [b[0][0] - a[1][0] for a, b in zip(marks, marks[1:])]
c = [b[0][1] - a[1][1] for a, b in zip(marks, marks[1:])]
print(json.dumps({"streamed": km.streamed_, "inertia": km.inertia_,
                  "wall_s": w, "cpu_s": c}))
"""

H5READ = r"""
import os, sys, time
import numpy as np, h5py
path, block = sys.argv[1], int(sys.argv[2])
if os.environ.get("COLD") == "1":
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1")
t0 = time.perf_counter(); c0 = os.times()
with h5py.File(path, "r") as f:
    ds = f["x"]
    buf = np.empty((block, ds.shape[1]), ds.dtype)
    for r0 in range(0, ds.shape[0], block):
        m = min(block, ds.shape[0] - r0)
        ds.read_direct(buf, np.s_[r0:r0 + m], np.s_[0:m])
c1 = os.times()
print(time.perf_counter() - t0, (c1.user + c1.system) - (c0.user + c0.system))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--iters", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lib", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "build", "libstrata.so"))
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.path.join(here, "..", "bindings", "python"),
               STRATA_LIBRARY=args.lib)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    best = {}
    for rnd in range(args.rounds):
        for mode in os.environ.get("MODES", "h5py,pread,mmap,hdf5").split(","):
            mode = {"1": "mmap", "0": "hdf5"}.get(mode, mode)
            load = open("/proc/loadavg").read().split()[:3]
            if mode == "cat":  # the plainest sequential read of the file
                if os.environ.get("COLD") == "1":
                    os.sync()
                    with open("/proc/sys/vm/drop_caches", "w") as f:
                        f.write("1")
                t0, c0 = time.perf_counter(), os.times()
                subprocess.run(["cat", args.file], stdout=subprocess.DEVNULL, check=True)
                c1 = os.times()
                row = {"mode": "cat", "wall_s": time.perf_counter() - t0,
                       "cpu_s": (c1.children_user + c1.children_system)
                                - (c0.children_user + c0.children_system)}
            elif mode == "h5py":
                out = subprocess.run([sys.executable, "-c", H5READ, args.file, str(1 << 20)],
                                     capture_output=True, text=True, env=env, check=True)
                wall, cpu = map(float, out.stdout.split())
                row = {"mode": "h5py_read", "wall_s": wall, "cpu_s": cpu}
            else:
                e = dict(env, STRATA_STREAM_READ=mode)
                if mode in ("mmap", "hdf5"):  # the switch libraries before 9ef687c read
                    e["STRATA_STREAM_MMAP"] = "1" if mode == "mmap" else "0"
                budget = "0" if mode == "loaded" else args.memory
                out = subprocess.run([sys.executable, "-c", TIMER, args.file, str(args.k),
                                      str(args.iters), budget, str(args.threads)],
                                     capture_output=True, text=True, env=e)
                if out.returncode:
                    sys.exit(out.stderr)
                r = json.loads(out.stdout)
                w, c = r["wall_s"][1:] or r["wall_s"], r["cpu_s"][1:] or r["cpu_s"]
                row = {"mode": mode, "wall_s": min(w),
                       "cpu_s": min(c), "passes_wall_s": r["wall_s"], "passes_cpu_s": r["cpu_s"],
                       "streamed": r["streamed"], "inertia": r["inertia"]}
            row.update({"round": rnd, "loadavg": load})
            print(json.dumps(row), flush=True)
            b = best.setdefault(row["mode"], {"wall_s": 1e9, "cpu_s": 1e9})
            b["wall_s"] = min(b["wall_s"], row["wall_s"])
            b["cpu_s"] = min(b["cpu_s"], row["cpu_s"])
    print(json.dumps({"summary": best}))


if __name__ == "__main__":
    main()
