#!/usr/bin/python3
"""Compare libstrata's Lloyd iterations with scikit-learn's KMeans(algorithm='lloyd').

Run with Debian's Python (the one with numpy, scikit-learn, h5py, threadpoolctl):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/compare_sklearn.py

(OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE would pin OpenBLAS, which scikit-learn uses,
to a narrower core type; the script re-executes itself without them unless
--keep-openblas-env is given.)

For each case n:d:k and thread count T:
  1. data: Gaussian blobs (numpy, fixed seed) written once to an HDF5 file in
     --data-dir: /X (float32, n x d) and /init_k<k> (float64, k x d: k rows of X
     chosen with a fixed seed). Both programs read exactly these values.
  2. scikit-learn: KMeans(n_clusters=k, init=C0, n_init=1, tol=0,
     algorithm='lloyd', max_iter=m) under threadpool_limits(T); seconds per
     iteration = (min over R repeats of t(m = 1 + I) - min of t(m = 1)) / I.
  3. libstrata: bench_lloyd --input FILE:/X --init FILE:/init_k<k> --threads T,
     timed the same way (see bench/bench_lloyd.c); its final model goes to a
     result file.
  4. checks: both ran 1 + I iterations; the inertia of both final models,
     recomputed here in float64, agree to --rtol (1e-4); label agreement.
Prints a table (markdown with --markdown) and appends JSON lines to --out.
"""
import os
import sys

_OB_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if "--keep-openblas-env" not in sys.argv and any(v in os.environ for v in _OB_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _OB_VARS}
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_BLOBS = 32
BLOB_SPREAD = 2.0

DEFAULT_CASES = ",".join(
    [f"1M:{d}:{k}" for d in (8, 16, 32) for k in (8, 64, 256)]
    + ["10M:8:8", "10M:16:64", "10M:32:64", "10M:32:256"]
)


def cpu_mark():
    """(busy jiffies, total jiffies, own CPU s, wall s) for others_pct()."""
    try:
        with open("/proc/stat") as f:
            v = [float(x) for x in f.readline().split()[1:9]]
    except OSError:
        v = [0.0] * 8
    t = os.times()
    return (sum(v) - v[3] - v[4], sum(v), t.user + t.system, time.perf_counter())


def others_pct(a, b):
    """CPU used by OTHER processes between two marks, % of the machine."""
    ncpu = os.cpu_count() or 1
    wall = b[3] - a[3]
    if b[1] <= a[1] or wall <= 0:
        return -1.0
    hz = (b[1] - a[1]) / (wall * ncpu)
    return max(0.0, 100.0 * ((b[0] - a[0]) / hz - (b[2] - a[2])) / (wall * ncpu))


def wait_idle(max_wait):
    """Wait up to max_wait s until others use < 10% of the machine; return that %."""
    t0, pct = time.perf_counter(), -1.0
    while True:
        a = cpu_mark()
        time.sleep(0.5)
        pct = others_pct(a, cpu_mark())
        if 0 <= pct < 10 or time.perf_counter() - t0 >= max_wait:
            return pct


def parse_count(s):
    s = s.strip()
    mult = {"K": 10**3, "M": 10**6, "G": 10**9}.get(s[-1:].upper(), 1)
    return int(float(s[:-1] if mult != 1 else s) * mult)


def parse_cases(spec):
    cases = []
    for tok in spec.split(","):
        parts = tok.split(":")
        if len(parts) != 3:
            raise SystemExit(f"bad case '{tok}': expected n:d:k, e.g. 1M:16:64")
        cases.append(tuple(parse_count(p) for p in parts))
    return cases


def data_file(data_dir, n, d, seed):
    return os.path.join(data_dir, f"blobs_n{n}_d{d}_seed{seed}.h5")


def ensure_data(path, n, d, ks, seed):
    """Create /X once; add /init_k<k> datasets that are missing."""
    if not os.path.exists(path):
        tmp = path + ".tmp"
        rng = np.random.default_rng(seed)
        centres = rng.normal(0.0, BLOB_SPREAD, size=(N_BLOBS, d))
        t0 = time.perf_counter()
        with h5py.File(tmp, "w") as f:
            ds = f.create_dataset("X", shape=(n, d), dtype=np.float32)
            block = 1 << 20
            for lo in range(0, n, block):
                m = min(block, n - lo)
                lab = rng.integers(0, N_BLOBS, size=m)
                xb = centres[lab] + rng.standard_normal((m, d))
                ds[lo:lo + m] = xb.astype(np.float32)
            f.attrs["seed"] = seed
            f.attrs["generator"] = (f"numpy default_rng({seed}): {N_BLOBS} blob centres "
                                    f"~ N(0, {BLOB_SPREAD}^2), unit Gaussian noise")
        os.replace(tmp, path)
        print(f"# generated {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    with h5py.File(path, "a") as f:
        for k in ks:
            name = f"init_k{k}"
            if name not in f:
                rng = np.random.default_rng([seed, k])
                idx = np.sort(rng.choice(n, size=k, replace=False))
                f.create_dataset(name, data=f["X"][idx, :].astype(np.float64))


def inertia64(X, labels, centres, block=1 << 20):
    """sum ||x_i - c_label(i)||^2 accumulated in float64."""
    c = np.asarray(centres, dtype=np.float64)
    tot = 0.0
    for lo in range(0, X.shape[0], block):
        xb = X[lo:lo + block].astype(np.float64)
        diff = xb - c[labels[lo:lo + block]]
        tot += float(np.einsum("ij,ij->", diff, diff))
    return tot


def time_sklearn(X, init, iters, repeats, threads, min_time, max_repeats, busy_retry):
    k = init.shape[0]

    def fit(max_iter):
        km = KMeans(n_clusters=k, init=init, n_init=1, max_iter=max_iter, tol=0.0,
                    algorithm="lloyd", copy_x=True, random_state=0)
        t0 = time.perf_counter()
        km.fit(X)
        return time.perf_counter() - t0, km

    # Same protocol as bench_lloyd: mins over repeat pairs; a pair is clean when
    # other processes used < 10% of the CPUs meanwhile; with busy_retry > 0,
    # pairs go on for up to busy_retry more seconds until `repeats` are clean.
    with threadpool_limits(limits=threads):
        fit(1)  # warm-up
        m0 = cpu_mark()
        best1 = bestn = float("inf")
        start = time.perf_counter()
        reps = clean = 0
        extra_start = None
        while True:
            pa = cpu_mark()
            t1, km1 = fit(1)
            tn, kmn = fit(1 + iters)
            if 0 <= others_pct(pa, cpu_mark()) < 10:
                clean += 1
            best1, bestn = min(best1, t1), min(bestn, tn)
            reps += 1
            if not (reps >= max_repeats or (reps >= repeats and time.perf_counter() - start >= min_time)):
                continue
            if clean >= repeats or busy_retry <= 0:
                break
            extra_start = extra_start or time.perf_counter()
            if time.perf_counter() - extra_start >= busy_retry:
                break
            wait_idle(5.0)
    others = others_pct(m0, cpu_mark())
    n_iter = int(kmn.n_iter_)
    used = iters if n_iter == 1 + iters else n_iter - int(km1.n_iter_)
    spi = (bestn - best1) / used if used > 0 else float("nan")
    return {"sec_per_iter": spi, "t_fit_1": best1, "t_fit_n": bestn, "n_iter": n_iter,
            "repeats": reps, "clean_repeats": clean, "labels": kmn.labels_.astype(np.int32),
            "centres": kmn.cluster_centers_, "inertia_reported": float(kmn.inertia_),
            "others_cpu_pct": others}


def find_bench(explicit):
    if explicit:
        return explicit
    for b in ("build-bench", "build", "build-release"):
        p = os.path.join(ROOT, b, "bench", "bench_lloyd")
        if os.access(p, os.X_OK):
            return p
    raise SystemExit("bench_lloyd not found: build it (see bench/README.md) or pass --bench-lloyd")


def run_strata(bench, path, k, threads, iters, repeats, min_time, max_repeats, busy_retry, bounds,
               result, extra):
    cmd = [bench, "--input", f"{path}:/X", "--init", f"{path}:/init_k{k}", "--threads",
           str(threads), "--iters", str(iters), "--repeats", str(repeats), "--min-time",
           str(min_time), "--max-repeats", str(max_repeats), "--busy-retry", str(busy_retry),
           "--result", result]
    if bounds:
        cmd += ["--bounds", bounds]
    cmd += extra
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(p.stderr)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"bench_lloyd failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}")
    rec = json.loads(lines[-1])
    if "error" in rec:
        raise RuntimeError(f"bench_lloyd: {rec['error']}")
    with h5py.File(result, "r") as f:
        rec["labels"] = f["labels"][:].astype(np.int32)
        rec["centres"] = f["centroids"][:]
    return rec, " ".join(cmd)


def fmt_n(n):
    return f"{n // 10**6}M" if n % 10**6 == 0 else str(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=DEFAULT_CASES,
                    help="comma-separated n:d:k (default: the nine 1M cases + 10M:8:8, 10M:16:64, "
                    "10M:32:64, 10M:32:256)")
    ap.add_argument("--threads", default="2", help="comma-separated thread counts (default 2)")
    ap.add_argument("--iters", type=int, default=5, help="I: timed iterations (default 5)")
    ap.add_argument("--repeats", type=int, default=3, help="minimum repeats (default 3)")
    ap.add_argument("--max-repeats", type=int, default=10)
    ap.add_argument("--min-time", type=float, default=1.0,
                    help="repeat until a case took this long (s), up to --max-repeats")
    ap.add_argument("--wait-idle", type=float, default=30.0,
                    help="before each case wait up to this long (s) until other processes use "
                    "< 10%% of the CPUs (default 30; 0: don't)")
    ap.add_argument("--busy-retry", type=float, default=60.0,
                    help="add repeat pairs for up to this long (s) until --repeats of them ran "
                    "while other processes used < 10%% of the CPUs (default 60; 0: don't)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "strata-bench-data"))
    ap.add_argument("--bench-lloyd", default=None, help="path of bench_lloyd (default: build*/bench/)")
    ap.add_argument("--bounds", default=None, help="bounds.json (default: bench_lloyd's default)")
    ap.add_argument("--strata-args", default="", help="extra bench_lloyd arguments, e.g. '--assign gemm'")
    ap.add_argument("--rtol", type=float, default=1e-4, help="inertia agreement (default 1e-4)")
    ap.add_argument("--out", default=None, help="append one JSON line per case to this file")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="do not drop OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
    a = ap.parse_args()

    cases = parse_cases(a.cases)
    threads = [int(t) for t in a.threads.split(",")]
    bench = find_bench(a.bench_lloyd)
    os.makedirs(a.data_dir, exist_ok=True)
    extra = a.strata_args.split()

    blas = [f"{i.get('internal_api')}:{i.get('architecture') or i.get('version')}:"
            f"{os.path.basename(i.get('filepath', ''))}" for i in threadpool_info()]
    print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}; thread pools: "
          f"{', '.join(blas)}", file=sys.stderr)
    print(f"# OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}; load "
          f"{os.getloadavg()[0]:.2f}; bench_lloyd: {bench}", file=sys.stderr)

    # group by (n, d) so that each data file is loaded once
    groups = {}
    for n, d, k in cases:
        groups.setdefault((n, d), []).append(k)
    rows, failures = [], 0
    out = open(a.out, "a") if a.out else None
    result = os.path.join(a.data_dir, f"strata_result_{os.getpid()}.h5")
    for (n, d), ks in groups.items():
        path = data_file(a.data_dir, n, d, a.seed)
        ensure_data(path, n, d, ks, a.seed)
        with h5py.File(path, "r") as f:
            X = f["X"][:]
            inits = {k: f[f"init_k{k}"][:] for k in ks}
        for k in ks:
            for T in threads:
                before = wait_idle(a.wait_idle) if a.wait_idle > 0 else -1.0
                load = os.getloadavg()[0]
                sk = time_sklearn(X, inits[k], a.iters, a.repeats, T, a.min_time, a.max_repeats,
                                  a.busy_retry)
                if a.wait_idle > 0:
                    wait_idle(a.wait_idle)
                st, cmd = run_strata(bench, path, k, T, a.iters, a.repeats, a.min_time,
                                     a.max_repeats, a.busy_retry, a.bounds, result, extra)
                in_sk = inertia64(X, sk["labels"], sk["centres"])
                in_st = inertia64(X, st["labels"], st["centres"])
                rel = abs(in_st - in_sk) / max(abs(in_sk), 1e-300)
                agree = float(np.mean(sk["labels"] == st["labels"]))
                speedup = sk["sec_per_iter"] / st["sec_per_iter"]
                full = sk["n_iter"] == 1 + a.iters and st["n_iter"] == 1 + a.iters
                ok_inertia = rel <= a.rtol
                if not ok_inertia or not full:
                    failures += 1
                row = {"n": n, "d": d, "k": k, "threads": T, "iters": a.iters,
                       "sklearn_sec_per_iter": sk["sec_per_iter"],
                       "strata_sec_per_iter": st["sec_per_iter"], "speedup": speedup,
                       "strata_ratio_to_bound": st.get("ratio_to_bound"),
                       "strata_bound_sec": st.get("bound_sec"),
                       "strata_assign": st.get("assign"), "strata_kernel": st.get("kernel"),
                       "sklearn_n_iter": sk["n_iter"], "strata_n_iter": st["n_iter"],
                       "inertia_sklearn": in_sk, "inertia_strata": in_st,
                       "inertia_sklearn_reported": sk["inertia_reported"],
                       "inertia_strata_reported": st.get("inertia"),
                       "inertia_rel_diff": rel, "inertia_ok": ok_inertia,
                       "label_agreement": agree, "sklearn_repeats": sk["repeats"], "sklearn_clean_repeats": sk["clean_repeats"],
                       "strata_clean_repeats": st.get("clean_repeats"),
                       "strata_repeats": st.get("repeats"), "load1": load,
                       "others_cpu_pct_before": before,
                       "others_cpu_pct_sklearn": sk["others_cpu_pct"],
                       "others_cpu_pct_strata": st.get("others_cpu_pct"),
                       "sklearn_version": sklearn.__version__, "strata_cmd": cmd}
                rows.append(row)
                if out:
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                print(f"# {fmt_n(n)} x {d} k={k} T={T}: sklearn {sk['sec_per_iter']:.4f} s/iter, "
                      f"strata {st['sec_per_iter']:.4f} s/iter, x{speedup:.2f}; inertia rel diff "
                      f"{rel:.1e}; labels agree {agree:.6f}; others' CPU {sk['others_cpu_pct']:.0f}%/"
                      f"{st.get('others_cpu_pct', -1):.0f}%", file=sys.stderr)
        del X
    if os.path.exists(result):
        os.remove(result)

    head = ["n", "d", "k", "T", "sklearn s/iter", "strata s/iter", "speedup", "strata/bound",
            "assign/kernel", "inertia rel diff", "labels agree", "clean reps sk/st", "goals"]
    table = []
    for r in rows:
        goals = []
        if r["threads"] == 2 and r["speedup"] < 3:
            goals.append("<3x sklearn")
        rb = r["strata_ratio_to_bound"]
        if r["k"] <= 64 and rb is not None and rb > 3:
            goals.append(">3x bound")
        if not r["inertia_ok"]:
            goals.append("INERTIA")
        if r["sklearn_n_iter"] != 1 + r["iters"] or r["strata_n_iter"] != 1 + r["iters"]:
            goals.append(f"early stop ({r['sklearn_n_iter']}/{r['strata_n_iter']})")
        table.append([fmt_n(r["n"]), str(r["d"]), str(r["k"]), str(r["threads"]),
                      f"{r['sklearn_sec_per_iter']:.4f}", f"{r['strata_sec_per_iter']:.4f}",
                      f"{r['speedup']:.2f}", "-" if rb is None else f"{rb:.2f}",
                      f"{r['strata_assign']}/{r['strata_kernel']}", f"{r['inertia_rel_diff']:.1e}",
                      f"{r['label_agreement']:.6f}",
                      f"{r['sklearn_clean_repeats']}/{r['sklearn_repeats']}, "
                      f"{r['strata_clean_repeats']}/{r['strata_repeats']}",
                      ", ".join(goals) if goals else "ok"])
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for t in table:
            print("| " + " | ".join(t) + " |")
    else:
        w = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(head)]
        print("  ".join(h.rjust(w[i]) for i, h in enumerate(head)))
        for t in table:
            print("  ".join(c.rjust(w[i]) for i, c in enumerate(t)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
