#!/usr/bin/python3
"""A fit on a shared machine (issue 10, "Under load"): the same small fit,
2 threads, with and without a busy-loop process, several times each.

    /usr/bin/python3 bench/under_load.py [--n 100000] [--d 6] [--k 8] [--fits 20]
        [--library build/libstrata.so] [--busy 1]

--busy B starts B processes that spin (one per core you want taken) for the
loaded half. Prints min / median / max seconds per fit, unloaded and loaded,
for 1 and 2 threads. Goal: a busy core costs at most the share of the machine
it takes (with 1 of 2 cores busy, a 2-thread fit at most about as slow as a
1-thread fit unloaded).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--d", type=int, default=6)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--fits", type=int, default=20)
    p.add_argument("--busy", type=int, default=1)
    p.add_argument("--library", default=os.path.join(ROOT, "build", "libstrata.so"))
    a = p.parse_args()
    os.environ["STRATA_LIBRARY"] = a.library
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import strata

    rng = np.random.default_rng(3)
    x = np.log1p(rng.lognormal(1.0, 0.8, (a.n, a.d)))
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    init = x[rng.choice(a.n, a.k, replace=False)].astype(np.float64)

    def fits(threads):
        out = []
        for _ in range(a.fits):
            t = time.perf_counter()
            km = strata.KMeans(a.k, init=init, n_threads=threads, tol=1e-4).fit(x)
            out.append(time.perf_counter() - t)
        return np.array(out), km.n_iter_

    print(f"# {a.n} x {a.d}, k = {a.k}, {a.fits} fits each; library {a.library}; "
          f"load before {open('/proc/loadavg').read().split()[0]}")
    for label, busy in (("unloaded", 0), (f"{a.busy} busy", a.busy)):
        procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            time.sleep(0.5 if busy else 0)
            for threads in (1, 2):
                s, it = fits(threads)
                print(f"{label:10s} threads {threads}: min {s.min():.3f} s  median {np.median(s):.3f} s  "
                      f"max {s.max():.3f} s  ({it} iterations)")
        finally:
            for q in procs:
                q.kill()


if __name__ == "__main__":
    main()
