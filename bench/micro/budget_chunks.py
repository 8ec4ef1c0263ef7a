#!/usr/bin/env python3
"""Peak memory of runs under a budget on inputs stored in long chunks, for
one `strata` program (docs/performance.md, "Session 22"):

- strata rfm --memory 30M on a log of 3,000,000 rows (20,000 customers)
  stored contiguous, in chunks of 65,536 rows, in one chunk a column, and in
  one gzip chunk a column;
- strata kmeans --memory 30M / 60M / 100M on 300,000 x 10 float64 in gzip
  chunks of 1,000 rows and of 150,000 rows (12 MB);
- strata kmeans --table --memory 60M on `strata gen customers --n 1M
  --layout columns --chunk-rows 100` (7 columns in 10,000 chunks each);
- (session 23) strata kmeans -k 8 --seed 1 --max-iter 2 on 320,000 x 10
  float64 (25.6 MB, normal) stored as one gzip chunk, as gzip+shuffle chunks
  of 80,000 rows, as gzip chunks of 160,000 x 5 and as plain (n, 1) chunks,
  at the least budget the program names and 4 MiB above (runs over
  --timeout seconds are cut and reported as such). --only layouts runs these
  alone;
- (session 23) the column layouts: strata kmeans -k 8 --seed 1 --max-iter 2
  --table /customers on 2,000,000 rows of 4 float64 features (and a
  customer_id key) as 1-D gzip columns in chunks of 500,000 rows, as a
  pandas table-format frame (complevel=5) in PyTables' longest chunks
  (expectedrows=1e10: 43,690 rows, 2 MB) and as the same frame repacked in
  chunks of 500,000 rows (24 MB; h5repack, gzip 5 + shuffle), at the least
  budget and 4 MiB above; strata rfm --memory at the least budget and 120M
  on 3,000,000 transactions as gzip+shuffle columns in chunks of 1,000,000
  rows and as an h5py compound table in gzip chunks of 500,000 rows. --only
  columns runs these alone.

    /usr/bin/python3 bench/micro/budget_chunks.py STRATA [--dir DIR]
        [--only layouts|columns] [--timeout S]

Prints one line a run: peak RSS (MB), seconds, exit status and the first
words of an error. The files are made once in DIR (default /tmp).
"""
import argparse
import os
import re
import subprocess
import time

import h5py
import numpy as np


def make(d, strata):
    log = {}
    rng = np.random.default_rng(6)
    n = 3_000_000
    cols = {"customer_id": rng.integers(0, 20_000, n), "day": rng.integers(0, 700, n),
            "amount": np.round(rng.gamma(2, 20, n), 2)}
    for name, kw in (("contiguous", {}), ("chunks_64k", dict(chunks=(65_536,))),
                     ("one_chunk", dict(chunks=(n,))),
                     ("one_gzip_chunk", dict(chunks=(n,), compression="gzip"))):
        path = os.path.join(d, f"budget_log_{name}.h5")
        if not os.path.exists(path):
            with h5py.File(path, "w") as f:
                for k, v in cols.items():
                    f.create_dataset(k, data=v, **kw)
        log[name] = path
    mat = os.path.join(d, "budget_matrix.h5")
    if not os.path.exists(mat):
        x = np.random.default_rng(1).normal(size=(300_000, 10))
        with h5py.File(mat, "w") as f:
            f.create_dataset("small_chunks", data=x, chunks=(1_000, 10), compression="gzip")
            f.create_dataset("big_chunks", data=x, chunks=(150_000, 10), compression="gzip")
    table = os.path.join(d, "budget_small_chunks.h5")
    if not os.path.exists(table):
        subprocess.run([strata, "gen", "customers", "-o", table, "--n", "1M", "--layout",
                        "columns", "--chunk-rows", "100", "--quiet"], check=True)
    return log, mat, table


LAYOUTS = {"one_gzip_chunk": dict(chunks=(320_000, 10), compression="gzip"),
           "gzip_80k_rows": dict(chunks=(80_000, 10), compression="gzip", shuffle=True),
           "gzip_160k_x_5": dict(chunks=(160_000, 5), compression="gzip"),
           "plain_columns": dict(chunks=(320_000, 1))}


def make_layouts(d):
    path = os.path.join(d, "budget_layouts.h5")
    if not os.path.exists(path):
        x = np.random.default_rng(1).normal(size=(320_000, 10))
        with h5py.File(path, "w") as f:
            for name, kw in LAYOUTS.items():
                f.create_dataset(name, data=x, **kw)
    return path


def layouts(o, out):
    path = make_layouts(o.dir)
    for name in LAYOUTS:
        args = [o.strata, "kmeans", f"{path}:/{name}", "-k", "8", "-o", out, "--force",
                "--quiet", "--seed", "1", "--max-iter", "2", "--memory"]
        p = subprocess.run(args + ["1M"], capture_output=True, text=True)
        least = int(re.search(r"it needs at least (\d+) bytes", p.stderr).group(1))
        for budget in (least, least + (4 << 20)):
            peak, secs, rc, err = run(args + [str(budget)], o.timeout)
            print(f"kmeans {name:15s} {budget / 2**20:6.1f}M peak {peak:6.1f} MB  {secs:6.2f} s  "
                  f"exit {rc}{' (timed out)' if rc == 124 else ''}  {err}", flush=True)


def make_columns(d):
    """The column layouts' files (h5repack must be on PATH for the repacked frame)."""
    import pandas as pd
    n, names = 2_000_000, ["recency", "frequency", "monetary", "tenure"]
    paths = {k: os.path.join(d, f"budget_cols_{k}.h5") for k in
             ("gzip_columns", "pandas_table", "pandas_table_500k", "log_columns", "log_compound")}
    X = np.random.default_rng(5).normal(size=(n, 4)) * [1, 10, 100, 3] + [0, 50, 500, 2]
    if not os.path.exists(paths["gzip_columns"]):
        with h5py.File(paths["gzip_columns"], "w") as f:
            for j, name in enumerate(names):
                f.create_dataset(f"customers/{name}", data=X[:, j], chunks=(500_000,),
                                 compression="gzip")
            f.create_dataset("customers/customer_id", data=np.arange(n), chunks=(500_000,),
                             compression="gzip")
    if not os.path.exists(paths["pandas_table"]):
        df = pd.DataFrame(X, columns=names)
        df.insert(0, "customer_id", np.arange(n, dtype=np.int64))
        with pd.HDFStore(paths["pandas_table"], "w", complevel=5, complib="zlib") as s:
            s.append("customers", df, expectedrows=10**10)
    if not os.path.exists(paths["pandas_table_500k"]):
        subprocess.run(["h5repack", "-l", "/customers/table:CHUNK=500000", "-f",
                        "/customers/table:SHUF", "-f", "/customers/table:GZIP=5",
                        paths["pandas_table"], paths["pandas_table_500k"]], check=True)
    if not os.path.exists(paths["log_columns"]):
        rng, m = np.random.default_rng(6), 3_000_000
        cols = {"customer_id": rng.integers(0, 20_000, m), "day": rng.integers(0, 700, m),
                "amount": np.round(rng.gamma(2, 20, m), 2)}
        with h5py.File(paths["log_columns"], "w") as f:
            for k, v in cols.items():
                f.create_dataset(k, data=v, chunks=(1_000_000,), compression="gzip",
                                 shuffle=True)
        rec = np.empty(m, dtype=[("customer_id", "<i8"), ("day", "<i8"), ("amount", "<f8")])
        for k, v in cols.items():
            rec[k] = v
        with h5py.File(paths["log_compound"], "w") as f:
            f.create_dataset("tx", data=rec, chunks=(500_000,), compression="gzip",
                             compression_opts=5, shuffle=True)
    return paths


def columns(o, out):
    paths = make_columns(o.dir)
    for name in ("gzip_columns", "pandas_table", "pandas_table_500k"):
        args = [o.strata, "kmeans", paths[name], "--table", "/customers", "-k", "8", "-o", out,
                "--force", "--quiet", "--seed", "1", "--max-iter", "2", "--memory"]
        p = subprocess.run(args + ["1M"], capture_output=True, text=True)
        least = int(re.search(r"it needs at least (\d+) bytes", p.stderr).group(1))
        for budget in (least, least + (4 << 20)):
            peak, secs, rc, err = run(args + [str(budget)], o.timeout)
            print(f"kmeans {name:17s} {budget / 2**20:6.1f}M peak {peak:6.1f} MB  {secs:6.2f} s"
                  f"  exit {rc}{' (timed out)' if rc == 124 else ''}  {err}", flush=True)
    for name, where in (("log_columns", ["--customer", "/customer_id", "--time", "/day",
                                         "--amount", "/amount"]),
                        ("log_compound", ["--table", "/tx", "--customer", "customer_id",
                                          "--time", "day", "--amount", "amount"])):
        args = [o.strata, "rfm", paths[name], *where, "-o", out, "--force", "--quiet",
                "--tmpdir", o.dir, "--memory"]
        p = subprocess.run(args + ["30M"], capture_output=True, text=True)
        m = re.search(r"at least (\d+)", p.stderr)
        budgets = ([int(m.group(1))] if m else []) + [120 << 20]
        for budget in budgets:
            peak, secs, rc, err = run(args + [str(budget)], o.timeout)
            print(f"rfm    {name:17s} {budget / 2**20:6.1f}M peak {peak:6.1f} MB  {secs:6.2f} s"
                  f"  exit {rc}{' (timed out)' if rc == 124 else ''}  {err}", flush=True)


def run(args, timeout=None):
    t = time.time()
    if timeout:
        args = ["timeout", str(timeout), *args]
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *args], capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    err = next((x for x in lines if x.startswith("strata: error")), "")
    return peak, time.time() - t, p.returncode, err[15:75]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("strata")
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--only", choices=["layouts", "columns"])
    ap.add_argument("--timeout", type=int, default=60)
    o = ap.parse_args()
    if o.only == "layouts":
        layouts(o, os.path.join(o.dir, "budget_out.h5"))
        return
    if o.only == "columns":
        columns(o, os.path.join(o.dir, "budget_out.h5"))
        return
    log, mat, table = make(o.dir, o.strata)
    out = os.path.join(o.dir, "budget_out.h5")
    for name, path in log.items():
        peak, secs, rc, err = run([o.strata, "rfm", path, "--customer", "/customer_id", "--time",
                                   "/day", "--amount", "/amount", "-o", out, "--force",
                                   "--quiet", "--memory", "30M", "--tmpdir", o.dir])
        print(f"rfm    {name:15s} 30M   peak {peak:6.1f} MB  {secs:6.2f} s  exit {rc}  {err}")
    for ds in ("small_chunks", "big_chunks"):
        for budget in ("30M", "60M", "100M"):
            peak, secs, rc, err = run([o.strata, "kmeans", f"{mat}:/{ds}", "-k", "8", "-o", out,
                                       "--force", "--quiet", "--memory", budget, "--max-iter",
                                       "1", "--init", "random", "--seed", "1"])
            print(f"kmeans {ds:15s} {budget:5s} peak {peak:6.1f} MB  {secs:6.2f} s  exit {rc}  "
                  f"{err}")
    peak, secs, rc, err = run([o.strata, "kmeans", table, "--table", "/customers", "-k", "6",
                               "-o", out, "--force", "--quiet", "--memory", "60M", "--max-iter",
                               "6", "--seed", "1"])
    print(f"kmeans {'table_chunks_100':15s} 60M   peak {peak:6.1f} MB  {secs:6.2f} s  exit {rc}  "
          f"{err}")
    layouts(o, out)
    columns(o, out)


if __name__ == "__main__":
    main()
