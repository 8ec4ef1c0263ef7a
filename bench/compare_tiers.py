#!/usr/bin/env python3
"""`strata tiers` and `strata sweep` against the pandas + scikit-learn way (issue 11).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/compare_tiers.py \
        [--n 50M] [--customers 10M] [--k 5] [--threads 2] \
        [--sweep-n 10M] [--sweep-d 8] [--sweep-k 2:12] [--skip tiers,sweep] [--cli build/tools/strata]

tiers: one transaction log (compare_pandas_rfm.py's generator: ids uniform over
--customers, days over two years, log-normal amounts) written to HDF5
(/tx/customer_id, /tx/day, /tx/amount). libstrata: `strata tiers` on it
(read + clean + aggregate + RFM scores + scaling + k-means with n_init 3 +
value tiers + lifecycle + profiles of clusters and tiers + writing every
intermediate), wall time of the process. pandas + scikit-learn: the same
steps of tests/python/tiers_reference.py (h5py read, groupby aggregation,
log1p/z-scores, KMeans(k, n_init=3), ranking, lifecycle, groupby profiles
with mean/std/min/p10/median/p90/max), timed step by step; nothing written.

sweep: customer-like n x d float32 data (compare_converged.py's generator),
k over --sweep-k. libstrata: `strata sweep IN.h5:/x -k A:B --n-init 1
--sample 10000` (every k fitted and rated: inertia, Calinski-Harabasz,
Davies-Bouldin, exact squared-Euclidean silhouette over all rows, Euclidean
silhouette on 10000 sampled rows). scikit-learn: for each k, KMeans(k,
n_init=1) + calinski_harabasz_score + davies_bouldin_score +
silhouette_score(sample_size=10000) (no exact silhouette: it is O(n^2)).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "python"))
from compare_converged import cpu_model, generate  # noqa: E402
from compare_pandas_rfm import count, make_log  # noqa: E402
import tiers_reference as ref  # noqa: E402


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def pandas_tiers(path, k, seed):
    from sklearn.cluster import KMeans
    steps = {}
    with h5py.File(path, "r") as f:
        (cid, day, amount), steps["read"] = timed(
            lambda: (f["/tx/customer_id"][:], f["/tx/day"][:], f["/tx/amount"][:]))
    (g, reference), steps["aggregate"] = timed(ref.aggregate, cid, day, amount)
    feats = g[["recency", "frequency", "monetary"]]
    (z, logs, _, _), steps["scale"] = timed(ref.scale_auto, feats)
    km, steps["kmeans"] = timed(lambda: KMeans(k, n_init=3, random_state=seed,
                                               algorithm="lloyd").fit(z))
    t0 = time.perf_counter()
    tier_of, _ = ref.tiers_of_clusters(km.cluster_centers_, ref.value_weights(feats.columns), 3)
    tiers = tier_of[km.labels_]
    stage = ref.lifecycle(g.first_day.to_numpy(), g.recency.to_numpy(), reference)
    steps["tiers+lifecycle"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for key in (km.labels_, tiers):
        grouped = feats.groupby(key)
        grouped.agg(["count", "mean", "std", "min", "median", "max"])
        grouped.quantile([0.1, 0.9])
    pd.crosstab(tiers, stage)
    steps["profiles"] = time.perf_counter() - t0
    steps["total"] = sum(steps.values())
    return steps


def sklearn_sweep(x, ks, seed):
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
    t_fit = t_metrics = 0.0
    for k in ks:
        km, t = timed(lambda: KMeans(k, n_init=1, random_state=seed, algorithm="lloyd").fit(x))
        t_fit += t
        t0 = time.perf_counter()
        calinski_harabasz_score(x, km.labels_)
        davies_bouldin_score(x, km.labels_)
        silhouette_score(x, km.labels_, sample_size=min(10000, len(x)), random_state=seed)
        t_metrics += time.perf_counter() - t0
    return {"fits": t_fit, "metrics": t_metrics, "total": t_fit + t_metrics}


def run_cli(args, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    p = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{p.stderr}")
    return wall, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", default="50M")
    ap.add_argument("--customers", default="10M")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sweep-n", default="10M")
    ap.add_argument("--sweep-d", type=int, default=8)
    ap.add_argument("--sweep-k", default="2:12")
    ap.add_argument("--skip", default="")
    ap.add_argument("--cli", default=str(ROOT / "build" / "tools" / "strata"))
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))
    out = {"cpu": cpu_model(), "threads": a.threads}
    with tempfile.TemporaryDirectory() as tmp:
        if "tiers" not in skip:
            n, customers = count(a.n), count(a.customers)
            log = make_log(n, customers)
            tx = Path(tmp) / "tx.h5"
            with h5py.File(tx, "w") as f:
                for name in ("customer_id", "day", "amount"):
                    f[f"/tx/{name}"] = log[name].to_numpy()
            del log
            wall, text = run_cli([a.cli, "tiers", str(tx), "--customer", "/tx/customer_id",
                                  "--time", "/tx/day", "--amount", "/tx/amount", "-k", str(a.k),
                                  "--seed", str(a.seed), "--threads", str(a.threads), "-o",
                                  str(Path(tmp) / "tiers.h5")], a.threads)
            steps = pandas_tiers(tx, a.k, a.seed)
            out["tiers"] = {"n": n, "customers": customers, "k": a.k, "strata_s": wall,
                            "pandas_sklearn_s": steps, "ratio": steps["total"] / wall}
            print(json.dumps(out["tiers"]), flush=True)
        if "sweep" not in skip:
            n = count(a.sweep_n)
            lo, hi = (int(v) for v in a.sweep_k.split(":"))
            x = generate("customers", n, a.sweep_d).astype(np.float32)
            path = Path(tmp) / "x.h5"
            with h5py.File(path, "w") as f:
                f["/x"] = x
            wall, _ = run_cli([a.cli, "sweep", f"{path}:/x", "-k", a.sweep_k, "--n-init", "1",
                               "--sample", "10000", "--seed", str(a.seed), "--threads",
                               str(a.threads)], a.threads)
            sk = sklearn_sweep(x, range(lo, hi + 1), a.seed)
            out["sweep"] = {"n": n, "d": a.sweep_d, "k": a.sweep_k, "strata_s": wall,
                            "sklearn_s": sk, "ratio": sk["total"] / wall}
            print(json.dumps(out["sweep"]), flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
