#!/usr/bin/env python3
"""Out-of-core RFM (issue 13): `strata rfm --memory` on a log written in blocks.

    /usr/bin/python3 bench/rfm_outofcore.py [--n 50M] [--customers 1M]
        [--memory 2G] [--tmpdir DIR] [--file LOG.h5] [--keep] [--no-in-memory]
        [--strata build/tools/strata]

Writes an N-row log of --customers customers with `strata gen transactions
--layout columns` (/tx/customer_id, /tx/day int64, /tx/amount float64, with
returns, lost amounts and double-logged orders; chunked 1M rows), streamed
block by block, never holding the whole log (reused when --file exists with
the same N). Then runs, each under `/usr/bin/time -v`:

    strata rfm LOG.h5 --customer /tx/customer_id --time /tx/day \\
        --amount /tx/amount -o OUT.h5 --force --memory SIZE [--tmpdir DIR]

and, unless --no-in-memory, the same without --memory, and reports wall
seconds, CPU seconds (user + system) and peak resident memory (Maximum
resident set size) of each, the
CPU model (lscpu) and /proc/loadavg before each run, and whether the two
output files hold the same datasets (h5py, bitwise). One JSON line per run
on stdout, a summary on stderr. The file is removed unless --keep or --file.
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
CHUNK = 1 << 20


def count(text):
    text = text.strip()
    scale = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}.get(text[-1], 1)
    return int(float(text.rstrip("kKMG")) * scale)


def write_log(strata, path, n, customers, seed=0):
    """/tx/{customer_id,day,amount}: n rows by `strata gen` (streamed, any size)."""
    cmd = [strata, "gen", "transactions", "-o", str(path), "--customers", str(customers),
           "--n", str(n), "--layout", "columns", "--dataset", "tx", "--seed", str(seed),
           "--chunk-rows", str(CHUNK), "--force"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        return m.group(1).strip() if m else "unknown"
    except OSError:
        return "unknown"


def timed(cmd):
    load = open("/proc/loadavg").read().split()[:3]
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([0-9.]+)", r.stderr).group(1))
              for k in ("User", "System"))
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(rss / 1024, 1), "loadavg_before": " ".join(load)}


def same_outputs(a, b):
    import h5py
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names = []
        fa.visit(lambda x: names.append(x) if isinstance(fa[x], h5py.Dataset) else None)
        for name in names:
            x, y = fa[name][()], fb[name][()]
            if x.dtype.kind == "f":
                x, y = x.view(np.int64), y.view(np.int64)
            if not np.array_equal(x, y):
                return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", default="50M")
    ap.add_argument("--customers", default="1M")
    ap.add_argument("--memory", default="200M")
    ap.add_argument("--tmpdir")
    ap.add_argument("--file")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-in-memory", action="store_true")
    ap.add_argument("--strata", default=str(ROOT / "build" / "tools" / "strata"))
    a = ap.parse_args()
    n, customers = count(a.n), count(a.customers)
    work = Path(tempfile.mkdtemp(prefix="rfm_ooc_", dir=a.tmpdir))
    log = Path(a.file) if a.file else work / "log.h5"
    try:
        reuse = False
        if log.exists():
            import h5py
            with h5py.File(log, "r") as f:
                reuse = "tx/customer_id" in f and f["tx/customer_id"].shape == (n,)
        if not reuse:
            t0 = time.perf_counter()
            write_log(a.strata, log, n, customers)
            print(f"wrote {n} rows to {log} in {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr)
        base = [a.strata, "rfm", str(log), "--customer", "/tx/customer_id", "--time", "/tx/day",
                "--amount", "/tx/amount", "--force"]
        cpu = cpu_model()
        runs = []
        spill = base + ["-o", str(work / "ooc.h5"), "--memory", a.memory]
        if a.tmpdir:
            spill += ["--tmpdir", a.tmpdir]
        runs.append(("out_of_core", spill))
        if not a.no_in_memory:
            runs.append(("in_memory", base + ["-o", str(work / "mem.h5")]))
        results = {}
        for name, cmd in runs:
            res = timed(cmd)
            res.update(run=name, n=n, customers=customers, cpu=cpu,
                       memory=a.memory if name == "out_of_core" else None)
            results[name] = res
            print(json.dumps(res))
        if "in_memory" in results:
            ok = same_outputs(work / "ooc.h5", work / "mem.h5")
            print(f"outputs identical: {ok}", file=sys.stderr)
            if not ok:
                sys.exit(1)
        for name, res in results.items():
            print(f"{name:12s} {res['seconds']:8.1f} s  (CPU {res['cpu_seconds']:.1f} s)  "
              f"peak RSS {res['peak_rss_mb']:8.1f} MB"
                  f"  (load {res['loadavg_before']})", file=sys.stderr)
    finally:
        for p in work.glob("*"):
            if p != log or not a.keep:
                p.unlink()
        if not any(work.iterdir()):
            work.rmdir()


if __name__ == "__main__":
    main()
