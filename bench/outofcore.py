#!/usr/bin/env python3
"""Out-of-core k-means (issue 13): seconds per streamed pass against a plain
sequential read of the same file, and the peak RSS under a memory budget.

Writes an N x D float32 dataset in blocks (h5py, chunked, never the whole
matrix in memory), times reading it sequentially (`cat FILE >/dev/null` and
an h5py loop over blocks of rows), then runs

    /usr/bin/time -v strata kmeans FILE:/x -k K --memory BUDGET --tol 0 --max-iter I ...

three ways (and, with --compare-loaded, the first two without a budget,
the file then loaded): k-means++ with 1 and with 1 + ITERS iterations (per pass =
their difference / ITERS; validation, seeding and the final labelling
cancel), and random init with 1 iteration (k-means++ seeding = the 1-iteration
k-means++ run minus this one). Peak RSS is `Maximum resident set size`.

    /usr/bin/python3 bench/outofcore.py --n 10M --d 16 --k 16 --memory 100M
    /usr/bin/python3 bench/outofcore.py --n 100M --d 16 --k 16 --memory 1G --dir /big/disk

The page cache is not dropped (that needs root): when the file fits in RAM the
reads, ours and the reference ones alike, come from the cache; on a machine
with less RAM than the file they come from the disk. Each timed command runs
--repeats times, the minimum kept; the load average is recorded.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np


def count(text):
    """10M -> 10_000_000 (K, M, G: powers of 1000)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)", text.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"not a count: {text!r}")
    return int(float(m.group(1)) * {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}[m.group(2)])


def write_file(path, n, d, chunk_rows, seed):
    import h5py
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, (16, d)).astype(np.float32)
    block = 1 << 20
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("x", (n, d), np.float32, chunks=(min(chunk_rows, n), d))
        for r0 in range(0, n, block):
            m = min(block, n - r0)
            lab = rng.integers(0, len(centres), m)
            ds[r0:r0 + m] = centres[lab] + rng.standard_normal((m, d), np.float32)


def timed(cmd, repeats):
    """Minimum wall seconds over repeats; the last run's stderr too."""
    best, err = float("inf"), ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
        best, err = min(best, t), p.stderr
    return best, err


def h5py_read(path, block_rows):
    import h5py
    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        ds = f["x"]
        buf = np.empty((block_rows, ds.shape[1]), ds.dtype)
        for r0 in range(0, ds.shape[0], block_rows):
            m = min(block_rows, ds.shape[0] - r0)
            ds.read_direct(buf, np.s_[r0:r0 + m], np.s_[0:m])
    return time.perf_counter() - t0


def strata_run(args, path, init, iters, out, memory=None):
    cmd = ["/usr/bin/time", "-v", args.strata, "kmeans", f"{path}:/x", "-k", str(args.k),
           "--init", init, "--seed", "1", "--tol", "0", "--max-iter", str(iters),
           "--threads", str(args.threads), "--memory", memory or args.memory, "-o", out,
           "--force"]
    best = float("inf")
    rss = 0
    for _ in range(args.repeats):
        t, err = timed(cmd, 1)
        if t < best:
            best = t
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
            rss = int(m.group(1)) * 1024 if m else -1
    return best, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=count, default=10**7)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--memory", default="100M", help="strata kmeans --memory (default 100M)")
    ap.add_argument("--iters", type=int, default=4, help="timed iterations (default 4)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--chunk-rows", type=int, default=65536, help="dataset chunk rows")
    ap.add_argument("--dir", default=os.environ.get("TMPDIR", "/tmp"))
    ap.add_argument("--strata", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                     "tools", "strata"))
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    ap.add_argument("--out", help="append the JSON line to this file")
    ap.add_argument("--compare-loaded", action="store_true",
                    help="also time the fit with the file loaded (no budget): needs the "
                         "file's size in RAM")
    args = ap.parse_args()

    path = os.path.join(args.dir, f"outofcore_{args.n}x{args.d}.h5")
    out = os.path.join(args.dir, f"outofcore_{args.n}x{args.d}_model.h5")
    if not os.path.exists(path):
        t0 = time.perf_counter()
        write_file(path, args.n, args.d, args.chunk_rows, 1)
        print(f"wrote {path} ({os.path.getsize(path) / 1e9:.2f} GB) in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    size = os.path.getsize(path)
    cat, _ = timed(["sh", "-c", f"cat '{path}' >/dev/null"], args.repeats)
    h5 = min(h5py_read(path, 1 << 20) for _ in range(args.repeats))
    t1, rss1 = strata_run(args, path, "k-means++", 1, out)
    tn, rssn = strata_run(args, path, "k-means++", 1 + args.iters, out)
    tr, rssr = strata_run(args, path, "random", 1, out)
    per_pass = (tn - t1) / args.iters
    seeding = t1 - tr
    row = {"n": args.n, "d": args.d, "k": args.k, "memory": args.memory, "threads": args.threads,
           "file_bytes": size, "cat_s": cat, "h5py_read_s": h5, "fit_1_iter_s": t1,
           f"fit_{1 + args.iters}_iter_s": tn, "random_1_iter_s": tr,
           "sec_per_pass": per_pass, "pass_over_cat": per_pass / cat,
           "pass_over_h5py": per_pass / h5, "kmeanspp_seeding_s": seeding,
           "seeding_passes": args.k, "peak_rss_bytes": max(rss1, rssn, rssr),
           "loadavg": open("/proc/loadavg").read().split()[:3]}
    print(json.dumps(row))
    if args.compare_loaded:
        l1, lrss = strata_run(args, path, "k-means++", 1, out, memory="0")
        ln, _ = strata_run(args, path, "k-means++", 1 + args.iters, out, memory="0")
        row.update({"loaded_sec_per_pass": (ln - l1) / args.iters, "loaded_fit_1_iter_s": l1,
                    "loaded_peak_rss_bytes": lrss,
                    "pass_over_loaded": per_pass / ((ln - l1) / args.iters)})
        print(json.dumps(row))
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
    print(f"| {args.n} x {args.d} f32 ({size / 1e9:.2f} GB) | k {args.k} | --memory "
          f"{args.memory} | cat {cat:.2f} s | h5py {h5:.2f} s | pass {per_pass:.2f} s "
          f"({per_pass / cat:.2f}x cat, {per_pass / h5:.2f}x h5py) | k-means++ {seeding:.1f} s "
          f"| peak RSS {row['peak_rss_bytes'] / 2**20:.0f} MiB |", file=sys.stderr)
    if not args.keep:
        os.unlink(path)
    if os.path.exists(out):
        os.unlink(out)


if __name__ == "__main__":
    main()
