#!/usr/bin/python3
"""Seeding: libstrata's initialisations (greedy k-means++, k-means||, AFK-MC^2)
against sklearn.cluster.kmeans_plusplus.

Run with Debian's Python (numpy, scikit-learn 1.2, threadpoolctl) and the
library built (STRATA_LIBRARY, or build/ of this checkout):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/compare_seeding.py \
        --n 1M --k 8,64,256 --threads 1,2 --data customers,blobs [--inertia] \
        [--inits sklearn,k-means++,k-means||,afk-mc2] [--chain-length 200]

Data (float32, numpy, fixed seed), as bench_converged.c builds it:
  customers  a latent tier (shares 50/30/15/5%) sets the log-mean of d
             log-normal features, log1p-transformed and standardised;
  blobs      32 Gaussian blobs, centres ~ N(0, 2^2) per feature, unit noise.

Seeding time (minimum over --repeats; wall and process CPU seconds):
  scikit-learn  kmeans_plusplus(X, k, random_state=s) under threadpool_limits(T);
  libstrata     t(fit, init=METHOD, max_iter=1) - t(fit from k given rows,
                max_iter=1): the fit's validation and one iteration cancel out.
                afk-mc2 runs with --chain-length draws per chain (recorded).
With --inertia, for seeds 0..--seeds-1: final inertia after Lloyd to
convergence (tol=1e-4, max_iter=300) from each start; every start, scikit-
learn's included, is run to convergence by libstrata's Lloyd (the same
algorithm as scikit-learn's, and much faster), so the comparison is of the
seeding alone. One JSON line per measurement on stdout (and --out).
"""
import os
import sys

_OB_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if "--keep-openblas-env" not in sys.argv and any(v in os.environ for v in _OB_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _OB_VARS}
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.cluster import kmeans_plusplus  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if "STRATA_LIBRARY" not in os.environ:
    os.environ["STRATA_LIBRARY"] = os.path.join(ROOT, "build", "libstrata.so")
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import strata  # noqa: E402


def gen(kind, n, d, seed=42):
    rng = np.random.default_rng(seed)
    if kind == "blobs":
        cen = 2.0 * rng.standard_normal((32, d))
        return (cen[rng.integers(0, 32, n)] + rng.standard_normal((n, d))).astype(np.float32)
    lm = 1.0 + 0.8 * np.arange(4)[:, None] * (0.5 + rng.random((4, d))) + 0.3 * rng.standard_normal((4, d))
    tier = np.searchsorted(np.cumsum([0.5, 0.3, 0.15, 0.05]), rng.random(n), side="right").clip(0, 3)
    sig = 0.6 + 0.1 * (np.arange(d) % 3)
    v = np.log1p(np.exp(lm[tier] + sig * rng.standard_normal((n, d))))
    return ((v - v.mean(0)) / v.std(0)).astype(np.float32)


def parse_list(s, conv=int):
    return [conv(float(x[:-1]) * 1e6) if x.endswith("M") else conv(x) for x in s.split(",")]


def best_time(fn, repeats):
    """(min wall s, min process CPU s) over repeats: on a shared machine the
    CPU time of a 1-thread run is the steadier figure."""
    best, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu


def strata_fit(X, k, init, seed, threads, max_iter, tol=1e-4, chain_length=200):
    km = strata.KMeans(k, init=init, n_init=1, max_iter=max_iter, tol=tol, random_state=seed,
                       algorithm="lloyd", n_threads=threads, chain_length=chain_length)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km.fit(X)
    return km


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="customers,blobs")
    ap.add_argument("--n", default="1M")
    ap.add_argument("--d", type=int, default=6)
    ap.add_argument("--k", default="8,64,256")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--inits", default="sklearn,k-means++,k-means||,afk-mc2")
    ap.add_argument("--chain-length", type=int, default=200, help="AFK-MC^2's m")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--inertia", action="store_true")
    ap.add_argument("--no-time", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out")
    ap.add_argument("--keep-openblas-env", action="store_true")
    a = ap.parse_args()
    out = open(a.out, "a") if a.out else None

    def emit(rec):
        line = json.dumps(rec)
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()

    inits = a.inits.split(",")
    for kind in a.data.split(","):
        for n in parse_list(a.n):
            X = gen(kind, n, a.d)
            for k in parse_list(a.k):
                rows = X[np.random.default_rng(k).choice(n, k, replace=False)].astype(np.float64)
                for T in ([] if a.no_time else parse_list(a.threads)):
                    base = None
                    for init in inits:
                        rec = {"data": kind, "n": n, "d": a.d, "k": k, "threads": T, "init": init,
                               "load": os.getloadavg()[0]}
                        if init == "afk-mc2":
                            rec["chain_length"] = a.chain_length
                        if init == "sklearn":
                            with threadpool_limits(T):
                                rec["seed_s"], rec["seed_cpu_s"] = best_time(
                                    lambda: kmeans_plusplus(X, k, random_state=0), a.repeats)
                        else:
                            if base is None:
                                base = best_time(lambda: strata_fit(X, k, rows, 0, T, 1), a.repeats)
                            tot = best_time(lambda: strata_fit(X, k, init, 0, T, 1,
                                                               chain_length=a.chain_length), a.repeats)
                            rec["fit1_s"], rec["seed_s"] = tot[0], max(tot[0] - base[0], 0.0)
                            rec["seed_cpu_s"] = max(tot[1] - base[1], 0.0)
                        emit(rec)
                if a.inertia:
                    T = parse_list(a.threads)[-1]
                    for init in inits:
                        vals, iters = [], []
                        for s in range(a.seeds):
                            if init == "sklearn":
                                with threadpool_limits(T):
                                    c0, _ = kmeans_plusplus(X, k, random_state=s)
                                km = strata_fit(X, k, c0.astype(np.float64), s, T, 300)
                            else:
                                km = strata_fit(X, k, init, s, T, 300, chain_length=a.chain_length)
                            vals.append(float(km.inertia_))
                            iters.append(int(km.n_iter_))
                        rec = {"data": kind, "n": n, "d": a.d, "k": k, "init": init, "seeds": a.seeds,
                               "inertia_mean": float(np.mean(vals)), "inertia": vals, "n_iter": iters}
                        if init == "afk-mc2":
                            rec["chain_length"] = a.chain_length
                        emit(rec)
    if out:
        out.close()


if __name__ == "__main__":
    main()
