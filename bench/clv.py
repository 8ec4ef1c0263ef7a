#!/usr/bin/env python3
"""CLV (issue 16): `strata clv` against lifetimes' formulas in numpy/scipy.

    /usr/bin/python3 bench/clv.py [--customers 10M] [--source bgnbd|gen] [--seed S]
        [--file LOG.h5] [--keep] [--threads T] [--optimizer lbfgs|nelder-mead]
        [--strata build/tools/strata]

Writes a log of --customers customers (reused when --file exists):
--source bgnbd (default) draws it from the models with the CDNOW estimates
(BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 per week; Gamma-Gamma
p = 6.25, q = 3.74, gamma = 15.44; first purchases uniform over 12 weeks,
78 weeks observed, calibration the first 39, as the CDNOW cohort), with
numpy into /tx/customer_id, /tx/day, /tx/amount; --source gen takes
`strata gen transactions` (days up to 20000, returns and lost amounts; the
last 182 days are the holdout). That log has no dropout process: its BG/NBD
optimum lies at the parameter bounds (a, b -> infinity), a hard case for any
optimiser and not a model check. Then, each in a fresh process under
`/usr/bin/time -v`:

1. `strata clv LOG.h5 --customer /tx/customer_id --time /tx/day --amount
   /tx/amount --calibration-end E --holdout-end H -o OUT.h5 --force`:
   read, summarise, fit BG/NBD (8 starts) and
   Gamma-Gamma, score every customer (P(alive), expected purchases, spend,
   CLV, holdout), tracking curve, write;
2. the same work with tests/python/clv_reference.py (lifetimes' formulas,
   vectorised over customers with numpy/scipy): h5py read, the same cleaning
   (negative amounts and bad rows dropped), summary (np.lexsort + reduceat),
   BG/NBD fit by scipy.optimize.minimize from ONE start (lifetimes' start:
   every parameter 1, alpha scaled), L-BFGS-B with numerical gradients (or
   Nelder-Mead, what lifetimes itself uses, --optimizer nelder-mead), the
   Gamma-Gamma fit likewise, and the scores (scipy.special.hyp2f1), in a
   process whose environment has OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
   removed (house rule for timing numpy/scipy).

lifetimes itself (not installable here) summarises with pandas groupby
(summary_data_from_transaction_data) and fits with Nelder-Mead: slower than
the vectorised reference timed here. Reports wall, CPU (user + system) and
peak RSS of each run, the phases of the reference, the fitted parameters of
both, and the largest relative difference of the per-customer CLV; one JSON
line per run on stdout, a Markdown table on stderr; the CPU model (lscpu)
and /proc/loadavg before each run.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
GEN_END = 20000  # strata gen transactions ends its logs on this day
#: --source bgnbd: the CDNOW cohort's calendar (day numbers from DAY0)
DAY0, COHORT_DAYS, CAL_DAYS, OBS_DAYS = 10000, 84, 273, 546


def write_bgnbd_log(path, n, seed):
    """n customers drawn from BG/NBD + Gamma-Gamma with the CDNOW estimates
    (first purchase uniform over the first COHORT_DAYS days, observed until
    day OBS_DAYS - 1; rows: the first purchase, then every repeat purchase;
    times floored to days). Returns the row count."""
    import h5py
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    p_, q_, g_ = 6.25, 3.74, 15.44
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)       # purchases per week
    drop = rng.beta(a, b, n)
    nu = rng.gamma(q_, 1.0 / g_, n)
    first = rng.integers(0, COHORT_DAYS, n)
    horizon = (OBS_DAYS - first) / 7.0       # weeks observed after the first purchase
    ids, days = [np.arange(n)], [first]
    t = np.zeros(n)
    active = np.arange(n)
    while active.size:
        with np.errstate(divide="ignore"):
            t[active] += rng.exponential(1.0 / lam[active])
        active = active[t[active] < horizon[active]]
        ids.append(active)
        days.append(first[active] + np.floor(t[active] * 7).astype(np.int64))
        active = active[rng.random(active.size) >= drop[active]]
    ids, days = np.concatenate(ids), np.concatenate(days)
    amount = np.round(rng.gamma(p_, 1.0 / nu[ids]), 2)
    with h5py.File(path, "w") as f:
        f["tx/customer_id"] = ids + 1
        f["tx/day"] = days + DAY0
        f["tx/amount"] = amount
    return len(ids)


def count(text):
    text = text.strip()
    scale = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}.get(text[-1], 1)
    return int(float(text.rstrip("kKMG")) * scale)


def cpu_model():
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    get = lambda key: (re.search(rf"^{key}:\s*(.+)$", out, re.M) or [None, "?"])[1].strip()
    return f"{get('Model name')} (family {get('CPU family')}, model {get('Model')}), " \
           f"{os.cpu_count()} CPUs"


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


def timed(cmd, env=None):
    """Run cmd under /usr/bin/time -v: (stdout, wall s, cpu s, peak RSS MB)."""
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    num = lambda key: float(re.search(rf"{key}: ([0-9.]+)", r.stderr).group(1))
    cpu = num(r"User time \(seconds\)") + num(r"System time \(seconds\)")
    return r.stdout, wall, cpu, num(r"Maximum resident set size \(kbytes\)") / 1024


# --- the reference, run as `clv.py --reference LOG.h5 E OUT.npz` -----------------


def reference(path, cal_end, hold_end, out, optimizer):
    import h5py
    from scipy import optimize
    import clv_reference as R
    phases = {}
    t = time.perf_counter()
    with h5py.File(path, "r") as f:
        ids, days, amounts = (f["tx"][k][()] for k in ("customer_id", "day", "amount"))
    phases["read"] = time.perf_counter() - t
    t = time.perf_counter()
    ok = (ids >= 0) & np.isfinite(amounts) & (amounts >= 0)  # strata's default cleaning
    ids, days, amounts = ids[ok], days[ok], amounts[ok]
    s = R.summary(ids, days, amounts, cal_end, holdout_end=hold_end)
    del ids, days, amounts
    phases["summary"] = time.perf_counter() - t
    x, t_x, T, zbar = s["x"], s["t_x"], s["T"], s["zbar"]
    t = time.perf_counter()
    method = "L-BFGS-B" if optimizer == "lbfgs" else "Nelder-Mead"
    scale = 10.0 / T.max()  # lifetimes' _scale_time

    def bg_nll(theta):
        p = np.exp(theta)
        v = -np.sum(R.bgnbd_loglik((p[0], p[1] / scale, p[2], p[3]), x, t_x, T))
        return v if np.isfinite(v) else 1e300

    res = optimize.minimize(bg_nll, np.zeros(4), method=method)
    bg = np.exp(res.x)
    bg[1] /= scale
    phases["bgnbd_fit"] = time.perf_counter() - t
    phases["bgnbd_evaluations"] = int(res.nfev)
    t = time.perf_counter()
    pos = (x > 0) & (zbar > 0)
    xp, zp = x[pos], zbar[pos]

    def gg_nll(theta):
        v = -np.sum(R.gg_loglik(np.exp(theta), xp, zp))
        return v if np.isfinite(v) else 1e300

    res = optimize.minimize(gg_nll, np.zeros(3), method=method)
    gg = np.exp(res.x)
    phases["gg_fit"] = time.perf_counter() - t
    t = time.perf_counter()
    scores = R.score(s, bg=bg, gg=gg)
    phases["score"] = time.perf_counter() - t
    np.savez(out, customer_id=s["customer_id"], clv=scores["clv"], bg=bg, gg=gg,
             bg_ll=-bg_nll(np.log(np.r_[bg[0], bg[1] * scale, bg[2:]])))
    print(json.dumps(phases))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", default="10M")
    ap.add_argument("--source", choices=("bgnbd", "gen"), default="bgnbd")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--file")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--optimizer", choices=("lbfgs", "nelder-mead"), default="lbfgs")
    ap.add_argument("--strata", default=str(ROOT / "build" / "tools" / "strata"))
    ap.add_argument("--reference", nargs=4, metavar=("LOG", "END", "HOLD", "OUT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference:
        reference(args.reference[0], int(args.reference[1]), int(args.reference[2]),
                  args.reference[3], args.optimizer)
        return
    import h5py
    n = count(args.customers)
    work = Path(tempfile.mkdtemp(prefix="strata-clv-bench."))
    log = Path(args.file) if args.file else work / "tx.h5"
    if not log.exists():
        t0 = time.perf_counter()
        if args.source == "gen":
            subprocess.run([args.strata, "gen", "transactions", "-o", str(log), "--customers",
                            str(n), "--layout", "columns", "--dataset", "tx", "--seed",
                            str(args.seed), "--force"], check=True, capture_output=True)
        else:
            write_bgnbd_log(log, n, args.seed)
        print(f"generated {log} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    with h5py.File(log, "r") as f:
        rows = f["tx/day"].shape[0]
    if args.source == "gen":
        cal, hold = GEN_END - 182, GEN_END
    else:
        cal, hold = DAY0 + CAL_DAYS - 1, DAY0 + OBS_DAYS - 1
    cpu = cpu_model()
    runs = []
    out = work / "clv.h5"
    load = loadavg()
    cmd = [args.strata, "clv", str(log), "--customer", "/tx/customer_id", "--time", "/tx/day",
           "--amount", "/tx/amount", "--calibration-end", str(cal), "--holdout-end",
           str(hold), "--threads", str(args.threads), "-o", str(out), "--force"]
    stdout, wall, cputime, rss = timed(cmd)
    with h5py.File(out, "r") as f:
        lib = {k: float(f.attrs[k]) for k in ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b",
                                               "bgnbd_loglik", "gg_p", "gg_q", "gg_gamma")}
        lib_ids, lib_clv = f["customer_id"][()], f["clv"][()]
        customers = len(lib_ids)
    runs.append(dict(what="strata clv", rows=rows, customers=customers, wall_s=wall,
                     cpu_s=cputime, peak_rss_mb=rss, loadavg=load, params=lib,
                     command=" ".join(cmd), cpu=cpu))
    print(json.dumps(runs[-1]))
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    npz = work / "ref.npz"
    load = loadavg()
    rcmd = [sys.executable, str(Path(__file__).resolve()), "--optimizer", args.optimizer,
            "--reference", str(log), str(cal), str(hold), str(npz)]
    stdout, wall, cputime, rss = timed(rcmd, env=env)
    phases = json.loads(stdout.strip().splitlines()[-1])
    ref = np.load(npz)
    if not np.array_equal(ref["customer_id"], lib_ids):
        sys.exit("the reference and strata clv have different customers")
    rel = np.abs(ref["clv"] - lib_clv) / np.maximum(np.abs(lib_clv), 1e-9)
    refp = dict(zip(("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b"), map(float, ref["bg"])))
    refp.update(zip(("gg_p", "gg_q", "gg_gamma"), map(float, ref["gg"])))
    refp["bgnbd_loglik"] = float(ref["bg_ll"])
    runs.append(dict(what=f"numpy/scipy reference ({args.optimizer}, 1 start)", rows=rows,
                     customers=customers, wall_s=wall, cpu_s=cputime, peak_rss_mb=rss,
                     loadavg=load, phases=phases, params=refp, clv_max_rel_diff=float(rel.max()),
                     clv_median_rel_diff=float(np.median(rel)), command=" ".join(rcmd), cpu=cpu))
    print(json.dumps(runs[-1]))
    a, b = runs
    print(f"\n{rows} rows, {customers} customers; {cpu}\n", file=sys.stderr)
    print("| run | wall s | CPU s | peak RSS MB | BG/NBD r, alpha, a, b (LL) |", file=sys.stderr)
    print("|---|---:|---:|---:|---|", file=sys.stderr)
    for r in runs:
        p = r["params"]
        print(f"| {r['what']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | "
              f"{p['bgnbd_r']:.4f}, {p['bgnbd_alpha']:.4f}, {p['bgnbd_a']:.4f}, "
              f"{p['bgnbd_b']:.4f} ({p['bgnbd_loglik']:.1f}) |", file=sys.stderr)
    print(f"\nreference phases (s): {json.dumps(b['phases'])}; speed-up {b['wall_s'] / a['wall_s']:.1f}x;"
          f" CLV max relative difference {b['clv_max_rel_diff']:.2e} (median "
          f"{b['clv_median_rel_diff']:.2e})", file=sys.stderr)
    if not args.keep:
        for p in (out, npz) + (() if args.file else (log,)):
            p.unlink(missing_ok=True)
        try:
            work.rmdir()
        except OSError:
            pass


if __name__ == "__main__":
    main()
