#!/usr/bin/python3
"""Time to a converged k-means model: libstrata against scikit-learn (lloyd and
elkan) and faiss, on the same data, measured to convergence (issue 10).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/compare_converged.py \\
        [--cases customers:1M:6:8,...] [--threads 2] [--seeds 5] [--markdown] [--out FILE]

(The script re-executes itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE,
which would slow numpy and scikit-learn down; faiss: `apt-get install
python3-faiss`, skipped where absent.)

A case is DATA:N:D:K with DATA `customers` (a latent tier sets the log-mean of
D skewed features, log1p-transformed and standardised, as RFM features are
prepared; bench/bench_converged.c's generator, written again in numpy) or
`blobs` (32 Gaussian blobs). Each fit runs in a fresh process that loads the
float32 data from an HDF5 file, so its peak memory (ru_maxrss) above the
loaded data is its own. ru_maxrss is only an upper bound of a fit's memory
(h5py's read, numpy and the OpenMP runtime peak in the same process, often
higher than the fit), so for libstrata the worker also installs a tracking
allocator (strata_set_allocator through ctypes, as bench_converged.c does in
C): *_peak_extra_bytes / *_peak_over_data are then exact, the most libstrata
held at once during the fit (labels kept, seeding and bounds included) over
the data's bytes; --no-track-memory leaves the C library's allocator alone.
Three measurements per case:

  same start   k rows drawn with a fixed seed as initial centroids for every
               library, tol = 1e-4, n_init = 1: libstrata (AUTO), scikit-learn
               lloyd and elkan; faiss.Kmeans from the same centroids for
               libstrata's iteration count (faiss has no tolerance), every
               point used (max_points_per_centroid large). Time, iterations,
               final inertia (recomputed here in float64), labels equal to
               scikit-learn lloyd's (or how many differ: float32 sums in
               another order can end a few rows on the other side of a tie);
  end to end   each library's own default seeding (k-means++, n_init = 1),
               --seeds seeds: mean time and mean final inertia, libstrata's
               relative to scikit-learn's;
  seeding      sklearn.cluster.kmeans_plusplus against libstrata's seeding
               (a fit with max_iter = 1 minus the time of one Lloyd iteration).
  mini-batch   strata.MiniBatchKMeans against sklearn MiniBatchKMeans, both
               with scikit-learn 1.2's defaults (batch_size --batch-size, default
               1024; n_init 3, max_iter 100, tol 0, max_no_improvement 10),
               --seeds seeds: mean time and steps, and mean final inertia
               (recomputed here) relative to exact k-means (libstrata's end-to-end
               fit of the same seeds, run here if --skip e2e).

Goals (issue 10, 2 threads): same start >= 10x the faster of lloyd/elkan with
the same labels; end to end >= 20x scikit-learn with mean inertia within 0.5%;
seeding >= 10x; peak memory <= data + 25%.
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
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = "customers:1M:6:8,customers:1M:6:64,customers:1M:8:16,blobs:1M:16:16"


def size(text):
    return int(float(text[:-1]) * 1e6) if text.endswith("M") else int(text)


def generate(kind, n, d, seed=42):
    rng = np.random.default_rng(seed)
    if kind == "blobs":
        cen = 2.0 * rng.standard_normal((32, d))
        return (cen[rng.integers(0, 32, n)] + rng.standard_normal((n, d))).astype(np.float32)
    lm = 1.0 + 0.8 * np.arange(4)[:, None] * (0.5 + rng.random((4, d))) + 0.3 * rng.standard_normal((4, d))
    tier = np.searchsorted([0.5, 0.8, 0.95], rng.random(n), side="right")
    spread = 0.6 + 0.1 * (np.arange(d) % 3)
    x = np.log1p(np.exp(lm[tier] + spread * rng.standard_normal((n, d))))
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype(np.float32)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
            else:
                name = platform.processor()
        flags = open("/proc/cpuinfo").read()
        isa = "avx512f" if " avx512f" in flags else "avx2" if " avx2" in flags else "sse"
        fam = [l.split(":")[1].strip() for l in open("/proc/cpuinfo") if l.startswith(("cpu family", "model\t"))]
        return f"{name} (family {fam[0]} model {fam[1]}, {isa})" if len(fam) >= 2 else f"{name} ({isa})"
    except OSError:
        return platform.processor()


# ---- exact memory of libstrata's allocations ---------------------------------

class MemTrack:
    """libstrata's allocations routed through Python callbacks that count live and
    peak bytes (strata_set_allocator; only the binding's own ctypes library).
    A few callbacks per iteration, each a few microseconds: negligible beside a fit."""

    def __init__(self, cdll):
        import ctypes
        from ctypes import c_int, c_size_t, c_void_p
        libc = ctypes.CDLL(None)
        self._aligned_alloc = libc.aligned_alloc
        self._aligned_alloc.restype, self._aligned_alloc.argtypes = c_void_p, [c_size_t, c_size_t]
        self._free = libc.free
        self._free.restype, self._free.argtypes = None, [c_void_p]
        self.sizes, self.current, self.peak = {}, 0, 0
        alloc_fn = ctypes.CFUNCTYPE(c_void_p, c_size_t, c_size_t, c_void_p)
        free_fn = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
        self._cbs = (alloc_fn(self._alloc), free_fn(self._release))  # kept alive with self
        cdll.strata_set_allocator.restype = c_int
        cdll.strata_set_allocator.argtypes = [alloc_fn, free_fn, c_void_p]
        if cdll.strata_set_allocator(self._cbs[0], self._cbs[1], None) != 0:
            raise RuntimeError("strata_set_allocator failed")

    def _alloc(self, size, alignment, user):
        p = self._aligned_alloc(alignment, size)
        if p:
            self.sizes[p] = size
            self.current += size
            self.peak = max(self.peak, self.current)
        return p

    def _release(self, p, user):
        # blocks from before the tracker (C library's aligned_alloc too) count 0
        self.current -= self.sizes.pop(p, 0)
        self._free(p)

    def start(self):
        """Begin a fit: return the bytes live now; the peak restarts from them."""
        self.peak = self.current
        return self.current


def strata_import(a):
    """Import the binding; install the tracker (before any handle) unless --no-track-memory."""
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import strata
    track = None if a.no_track_memory else MemTrack(strata._lib.lib)
    return strata, track


# ---- the worker: one fit in a fresh process --------------------------------

def worker(a):
    import h5py
    with h5py.File(a.data, "r") as f:
        x = f["x"][:]
        init = f[f"init_k{a.k}"][:] if a.same_start else None
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"lib": a.lib}
    track, before = None, 0  # libstrata's tracker (strata and strata_mb)
    if a.lib.startswith("sklearn-"):
        from sklearn.cluster import KMeans, kmeans_plusplus
        from threadpoolctl import threadpool_limits
        with threadpool_limits(a.threads):
            if a.lib == "sklearn-seeding":
                t = time.perf_counter()
                kmeans_plusplus(x, a.k, random_state=a.seed)
                out["seconds"] = time.perf_counter() - t
            else:
                algo = a.lib.split("-", 1)[1]
                km = KMeans(a.k, init=init if init is not None else "k-means++", n_init=1,
                            tol=1e-4, max_iter=a.max_iter, algorithm=algo, random_state=a.seed)
                t = time.perf_counter()
                km.fit(x)
                out.update(seconds=time.perf_counter() - t, n_iter=int(km.n_iter_),
                           centroids=km.cluster_centers_.tolist())
    elif a.lib == "sklearn_mb":
        from sklearn.cluster import MiniBatchKMeans
        from threadpoolctl import threadpool_limits
        with threadpool_limits(a.threads):
            km = MiniBatchKMeans(a.k, batch_size=a.batch_size, n_init=3, random_state=a.seed)
            t = time.perf_counter()
            km.fit(x)
            out.update(seconds=time.perf_counter() - t, n_iter=int(km.n_steps_),
                       centroids=km.cluster_centers_.tolist())
    elif a.lib == "strata_mb":
        strata, track = strata_import(a)
        km = strata.MiniBatchKMeans(a.k, batch_size=a.batch_size, n_threads=a.threads,
                                    random_state=a.seed)
        before = track.start() if track else 0
        t = time.perf_counter()
        km.fit(x)
        out.update(seconds=time.perf_counter() - t, n_iter=int(km.n_steps_),
                   centroids=km.cluster_centers_.tolist())
    elif a.lib.startswith("strata"):
        strata, track = strata_import(a)
        kw = dict(n_init=1, tol=1e-4, max_iter=a.max_iter, n_threads=a.threads, random_state=a.seed)
        if a.lib == "strata-seeding":  # one iteration, minus one iteration from the same start
            t = time.perf_counter()
            strata.KMeans(a.k, max_iter=1, **{k: v for k, v in kw.items() if k != "max_iter"}).fit(x)
            t1 = time.perf_counter() - t
            km = strata.KMeans(a.k, max_iter=1, init=x[: a.k].astype(np.float64),
                               **{k: v for k, v in kw.items() if k != "max_iter"})
            t = time.perf_counter()
            km.fit(x)
            out["seconds"] = max(t1 - (time.perf_counter() - t), 0.0)
        else:
            km = strata.KMeans(a.k, init=init if init is not None else "k-means++", **kw)
            before = track.start() if track else 0
            t = time.perf_counter()
            km.fit(x)
            out.update(seconds=time.perf_counter() - t, n_iter=int(km.n_iter_),
                       centroids=km.cluster_centers_.tolist())
    elif a.lib == "faiss":
        import faiss
        faiss.omp_set_num_threads(a.threads)
        km = faiss.Kmeans(x.shape[1], a.k, niter=a.max_iter, seed=a.seed,
                          max_points_per_centroid=x.shape[0], min_points_per_centroid=1)
        t = time.perf_counter()
        km.train(x, init_centroids=init.astype(np.float32) if init is not None else None)
        out.update(seconds=time.perf_counter() - t, n_iter=a.max_iter, centroids=km.centroids.tolist())
    if track and a.lib in ("strata", "strata_mb"):
        out["peak_extra_bytes"] = track.peak - before
        out["peak_over_data"] = (track.peak - before) / x.nbytes
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["over_data_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024
    print(json.dumps(out))


def run(lib, data, k, threads, seed, max_iter, same_start, batch_size=1024, track=True):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib, "--data", data, "--k", str(k),
           "--threads", str(threads), "--seed", str(seed), "--max-iter", str(max_iter),
           "--batch-size", str(batch_size), "--keep-openblas-env"] + (["--same-start"] if same_start else []) + \
        ([] if track else ["--no-track-memory"])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if lib.startswith("strata"):
        env.setdefault("STRATA_LIBRARY", os.path.join(ROOT, "build", "libstrata.so"))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{lib} failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def assign(x, c):
    """Labels and inertia in float64, in row blocks."""
    c = np.asarray(c, np.float64)
    labels = np.empty(len(x), np.int64)
    inertia = 0.0
    cn = (c * c).sum(axis=1)
    for i in range(0, len(x), 1 << 16):
        b = x[i:i + (1 << 16)].astype(np.float64)
        dist = (b * b).sum(axis=1)[:, None] - 2 * b @ c.T + cn[None, :]
        labels[i:i + len(b)] = dist.argmin(axis=1)
        inertia += np.maximum(dist.min(axis=1), 0).sum()
    return labels, inertia


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=DEFAULT_CASES)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--max-iter", type=int, default=300)
    p.add_argument("--skip", default="", help="comma list among same,e2e,seeding,faiss,elkan,mb")
    p.add_argument("--batch-size", type=int, default=1024, help="mini-batch rows (scikit-learn's default)")
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--out", default=None, help="append JSON lines here")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--keep-openblas-env", action="store_true")
    p.add_argument("--no-track-memory", action="store_true",
                   help="no tracking allocator in libstrata's workers (ru_maxrss only)")
    p.add_argument("--worker", default=None)
    p.add_argument("--data"), p.add_argument("--k", type=int), p.add_argument("--seed", type=int, default=0)
    # (--batch-size above also reaches the worker)
    p.add_argument("--same-start", action="store_true")
    a = p.parse_args()
    if a.worker:
        a.lib = a.worker
        return worker(a)
    import h5py

    def fit(*args, **kw):  # one worker run, with the tracker unless --no-track-memory
        return run(*args, track=not a.no_track_memory, **kw)

    skip = set(filter(None, a.skip.split(",")))
    try:
        import faiss  # noqa: F401
    except ImportError:
        skip.add("faiss")
    tmp = a.data_dir or tempfile.mkdtemp(prefix="strata-converged-")
    cpu = cpu_model()
    print(f"# CPU: {cpu}; threads {a.threads}; load {open('/proc/loadavg').read().split()[:3]}")
    rows = []
    for case in a.cases.split(","):
        kind, n, d, k = case.split(":")
        n, d, k = size(n), int(d), int(k)
        path = os.path.join(tmp, f"{kind}_{n}_{d}.h5")
        if not os.path.exists(path):
            x = generate(kind, n, d)
            with h5py.File(path, "w") as f:
                f["x"] = x
        with h5py.File(path, "a") as f:
            x = f["x"][:]
            if f"init_k{k}" not in f:
                f[f"init_k{k}"] = x[np.random.default_rng(7).choice(n, k, replace=False)].astype(np.float64)
        data_mb = x.nbytes / 2**20
        row = {"case": case, "cpu": cpu, "threads": a.threads, "data_mb": round(data_mb, 1)}
        if "same" not in skip:
            res = {lib: fit(lib, path, k, a.threads, 0, a.max_iter, True)
                   for lib in ["strata", "sklearn-lloyd"] + ([] if "elkan" in skip else ["sklearn-elkan"])}
            if "faiss" not in skip:
                res["faiss"] = fit("faiss", path, k, a.threads, 0, res["strata"]["n_iter"], True)
            ref_labels, _ = assign(x, res["sklearn-lloyd"]["centroids"])
            for lib, r in res.items():
                labels, inertia = assign(x, r["centroids"])
                row[f"same_{lib}_s"] = round(r["seconds"], 3)
                row[f"same_{lib}_iter"] = r["n_iter"]
                row[f"same_{lib}_inertia"] = inertia
                row[f"same_{lib}_labels_equal"] = bool(np.array_equal(labels, ref_labels))
                row[f"same_{lib}_labels_differ"] = int((labels != ref_labels).sum())
                row[f"same_{lib}_over_data_mb"] = round(r["over_data_mb"], 1)
            if "peak_extra_bytes" in res["strata"]:
                row["same_strata_peak_extra_bytes"] = res["strata"]["peak_extra_bytes"]
                row["same_strata_peak_over_data"] = round(res["strata"]["peak_over_data"], 4)
            fastest = min(res["sklearn-lloyd"]["seconds"], res.get("sklearn-elkan", res["sklearn-lloyd"])["seconds"])
            row["same_speedup"] = round(fastest / res["strata"]["seconds"], 2)
        if "e2e" not in skip:
            t_s, t_k, i_s, i_k, m_s = [], [], [], [], []
            for seed in range(a.seeds):
                rs = fit("strata", path, k, a.threads, seed, a.max_iter, False)
                if "peak_over_data" in rs:
                    m_s.append(rs["peak_over_data"])
                rk = fit("sklearn-lloyd", path, k, a.threads, seed, a.max_iter, False)
                t_s.append(rs["seconds"]), t_k.append(rk["seconds"])
                i_s.append(assign(x, rs["centroids"])[1]), i_k.append(assign(x, rk["centroids"])[1])
            row.update(e2e_strata_s=round(float(np.mean(t_s)), 3), e2e_sklearn_s=round(float(np.mean(t_k)), 3),
                       e2e_speedup=round(float(np.mean(t_k) / np.mean(t_s)), 2),
                       e2e_inertia_ratio=float(np.mean(i_s) / np.mean(i_k)))
            if m_s:  # k-means++ seeding included
                row["e2e_strata_peak_over_data"] = round(max(m_s), 4)
            exact_inertia = float(np.mean(i_s))
        if "mb" not in skip:
            if "e2e" in skip:  # the exact k-means of the same seeds
                exact_inertia = float(np.mean([assign(x, fit("strata", path, k, a.threads, s, a.max_iter,
                                                             False)["centroids"])[1]
                                               for s in range(a.seeds)]))
            for lib in ("strata_mb", "sklearn_mb"):
                rs = [fit(lib, path, k, a.threads, s, a.max_iter, False, a.batch_size) for s in range(a.seeds)]
                row[f"mb_{lib}_s"] = round(float(np.mean([r["seconds"] for r in rs])), 3)
                row[f"mb_{lib}_steps"] = float(np.mean([r["n_iter"] for r in rs]))
                row[f"mb_{lib}_inertia_vs_exact"] = float(
                    np.mean([assign(x, r["centroids"])[1] for r in rs]) / exact_inertia)
                if any("peak_over_data" in r for r in rs):
                    row[f"mb_{lib}_peak_over_data"] = round(max(r["peak_over_data"] for r in rs), 4)
            row["mb_speedup"] = round(row["mb_sklearn_mb_s"] / row["mb_strata_mb_s"], 2)
            row["mb_vs_exact_speedup"] = (round(row["e2e_strata_s"] / row["mb_strata_mb_s"], 2)
                                          if "e2e_strata_s" in row else None)
        if "seeding" not in skip:
            ss = min(fit("strata-seeding", path, k, a.threads, s, a.max_iter, False)["seconds"] for s in range(2))
            sk = min(fit("sklearn-seeding", path, k, a.threads, s, a.max_iter, False)["seconds"] for s in range(2))
            row.update(seed_strata_s=round(ss, 4), seed_sklearn_s=round(sk, 4),
                       seed_speedup=round(sk / max(ss, 1e-9), 1))
        rows.append(row)
        print(json.dumps(row), flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(json.dumps(row) + "\n")
    if a.markdown:
        print("\n| case | same start: strata s (iter) | sklearn lloyd s (iter) | elkan s | faiss s "
              "| speedup | labels differing | e2e speedup | inertia ratio | seeding speedup | strata MB over data / data MB "
              "| strata peak / data: same start, e2e |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            g = r.get
            print(f"| {r['case']} | {g('same_strata_s')} ({g('same_strata_iter')}) | "
                  f"{g('same_sklearn-lloyd_s')} ({g('same_sklearn-lloyd_iter')}) | {g('same_sklearn-elkan_s')} | "
                  f"{g('same_faiss_s')} | {g('same_speedup')}x | {g('same_strata_labels_differ')} | "
                  f"{g('e2e_speedup')}x | {g('e2e_inertia_ratio', float('nan')):.4f} | {g('seed_speedup')}x | "
                  f"{g('same_strata_over_data_mb')} / {r['data_mb']} | "
                  f"{g('same_strata_peak_over_data', '-')}, {g('e2e_strata_peak_over_data', '-')} |")
        print("\n(strata MB over data: ru_maxrss of the worker above the loaded data, an upper bound; "
              "strata peak / data: libstrata's own allocations, exact, from the tracking allocator)")
        if any("mb_speedup" in r for r in rows):
            print("\n| case | mini-batch: strata s (steps) | sklearn s (steps) | speedup | strata inertia / exact "
                  "| sklearn inertia / exact | strata exact s / mini-batch s | strata peak / data |")
            print("|---|---|---|---|---|---|---|---|")
            for r in rows:
                g = r.get
                if "mb_speedup" in r:
                    print(f"| {r['case']} | {g('mb_strata_mb_s')} ({g('mb_strata_mb_steps'):.0f}) | "
                          f"{g('mb_sklearn_mb_s')} ({g('mb_sklearn_mb_steps'):.0f}) | {g('mb_speedup')}x | "
                          f"{g('mb_strata_mb_inertia_vs_exact'):.4f} | {g('mb_sklearn_mb_inertia_vs_exact'):.4f} | "
                          f"{g('mb_vs_exact_speedup')}x | {g('mb_strata_mb_peak_over_data', '-')} |")


if __name__ == "__main__":
    main()
