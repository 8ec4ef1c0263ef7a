#!/usr/bin/env python3
"""Distributed RFM against one process, bitwise (docs/distributed.md).

For each log (CDNOW master, UCI Online Retail from ../shared/data when
present; synthetic logs with ties, exact duplicates, negative and zero
amounts, NaN ids, customers with one row, ids near 2^62) and each setting
(every ties mode, the cleaning and aggregation policies), runs the serial
`strata rfm` once and `mpirun -np N strata-mpi rfm` for each N, and compares
every dataset and attribute of the two output files bit for bit (h5py).
Bad input must fail on every rank with the serial message and leave no
output. Usage:
  rfm_mpi_check.py --serial PATH/strata --mpi PATH/strata-mpi \
                   --mpirun tests/mpi/mpirun.sh [--np 1,2,3] [--quick]
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
FAILS = []


def fail(what):
    FAILS.append(what)
    print("FAIL:", what, flush=True)


def write_log(path, cid, day, amount, float_ids=False):
    with h5py.File(path, "w") as f:
        f["customer_id"] = np.asarray(cid, np.float64 if float_ids else np.int64)
        f["day"] = np.asarray(day, np.int64)
        f["amount"] = np.asarray(amount, np.float64)


def as_table(src, dst):
    """The same log as one compound dataset /tx (what h5py writes for a
    structured array): read with --table."""
    with h5py.File(src, "r") as f:
        cid, day, amt = f["customer_id"][()], f["day"][()], f["amount"][()]
    rec = np.zeros(len(cid), dtype=[("customer_id", cid.dtype), ("day", np.int64),
                                    ("amount", np.float64)])
    rec["customer_id"], rec["day"], rec["amount"] = cid, day, amt
    with h5py.File(dst, "w") as f:
        f.create_dataset("tx", data=rec, chunks=(97,))
    return dst


def cdnow(tmp):
    src = DATA / "cdnow" / "CDNOW_master.txt"
    if not src.exists():
        print(f"SKIP cdnow: {src} is absent (the shared data folder is not here)")
        return None
    cid, day, amt = [], [], []
    for line in open(src):
        if not line.strip():
            continue
        cid.append(int(line[1:6]))
        d = line[7:15]
        day.append(np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:8]}", "D").astype(np.int64))
        amt.append(float(line[19:26]))
    p = tmp / "cdnow.h5"
    write_log(p, cid, day, amt)
    return p


def online_retail(tmp):
    src = DATA / "online_retail" / "online_retail_slim.csv.gz"
    if not src.exists():
        print(f"SKIP online retail: {src} is absent (the shared data folder is not here)")
        return None
    import pandas as pd
    raw = pd.read_csv(src, dtype={"InvoiceNo": str, "StockCode": str, "Country": str},
                      parse_dates=["InvoiceDate"])
    p = tmp / "retail.h5"
    write_log(p, raw.CustomerID.astype(np.float64),
              raw.InvoiceDate.values.astype("datetime64[D]").astype(np.int64),
              raw.Quantity.astype(np.float64) * raw.UnitPrice.astype(np.float64), True)
    return p


def synthetic(tmp, seed, n, customers, base=0, spread=1):
    """Ties (few days, few price levels), duplicates, negatives, zeros, NaN
    ids, invalid ids and days, customers with one row, ids from base."""
    r = np.random.default_rng(seed)
    cid = base + spread * r.integers(0, customers, n)
    day = 10000 + r.integers(0, 60, n)
    amt = r.integers(-3, 40, n) * 2.5
    dup = r.integers(0, n, n // 20)
    cid[dup[1:]] = cid[dup[:-1]]
    day[dup[1:]] = day[dup[:-1]]
    amt[dup[1:]] = amt[dup[:-1]]
    cid = cid.astype(np.float64) if base < 2**52 else cid
    if base < 2**52:
        cid[r.integers(0, n, n // 50)] = np.nan
        cid[r.integers(0, n, n // 100)] = -5
    day[r.integers(0, n, n // 100)] = 2**40  # outside the valid days
    amt[r.integers(0, n, n // 100)] = np.nan
    # customers with one row each, above every other id
    k = max(n // 50, 3)
    extra_id = base + spread * (customers + np.arange(k))
    cid = np.concatenate([cid, extra_id.astype(cid.dtype)])
    day = np.concatenate([day, 10000 + r.integers(0, 60, k)])
    amt = np.concatenate([amt, r.integers(1, 9, k) * 1.25])
    p = tmp / f"syn{seed}.h5"
    write_log(p, cid, day, amt, float_ids=cid.dtype == np.float64)
    return p


# Written at each run: the one attribute that may differ.
CLOCK_ATTRS = {"created"}


def same(x, y):
    """Bitwise for numbers (NaN included), by value for strings."""
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind in "OSUT" or y.dtype.kind in "OSUT":
        return x.dtype.kind == y.dtype.kind and x.shape == y.shape and x.tolist() == y.tolist()
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def attrs_equal(a, b, where):
    ka, kb = set(a.attrs.keys()) - CLOCK_ATTRS, set(b.attrs.keys()) - CLOCK_ATTRS
    if ka != kb:
        fail(f"{where}: attributes differ: {sorted(ka ^ kb)}")
        return
    for k in ka:
        x, y = a.attrs[k], b.attrs[k]
        if not same(x, y):
            fail(f"{where}@{k}: {x!r} != {y!r}")


def files_equal(pa, pb, what):
    bad0 = len(FAILS)
    with h5py.File(pa, "r") as a, h5py.File(pb, "r") as b:
        names_a, names_b = [], []
        a.visit(names_a.append)
        b.visit(names_b.append)
        if sorted(names_a) != sorted(names_b):
            fail(f"{what}: objects differ: {sorted(set(names_a) ^ set(names_b))}")
            return False
        attrs_equal(a, b, f"{what}:/")
        for name in names_a:
            oa, ob = a[name], b[name]
            attrs_equal(oa, ob, f"{what}:/{name}")
            if isinstance(oa, h5py.Dataset):
                if oa.dtype != ob.dtype or oa.shape != ob.shape:
                    fail(f"{what}:/{name}: {oa.dtype}{oa.shape} != {ob.dtype}{ob.shape}")
                elif not same(oa[()], ob[()]):
                    x, y = oa[()], ob[()]
                    diff = np.flatnonzero(np.asarray(x).ravel() != np.asarray(y).ravel())
                    fail(f"{what}:/{name}: {len(diff)} values differ, first at {diff[:5]}: "
                         f"{np.asarray(x).ravel()[diff[:3]]} vs {np.asarray(y).ravel()[diff[:3]]}")
    return len(FAILS) == bad0


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def errors(stderr):
    return [ln.split("error: ", 1)[-1] for ln in stderr.splitlines()
            if ln.startswith("strata") and "error: " in ln]


def same_failure(a, ref, base, nps, tmp, what):
    """The serial run `ref` failed: every rank of every distributed run must
    fail with its exit status and message, and write nothing."""
    want = errors(ref.stderr)
    if ref.returncode == 0 or not want:
        fail(f"{what}: the serial run did not fail ({ref.returncode}): {ref.stderr}")
        return
    for np_ in nps:
        out = tmp / f"failed-np{np_}.h5"
        r = run([a.mpirun, str(np_), a.mpi, "rfm"] + base + ["-o", str(out)])
        if r.returncode != ref.returncode:
            fail(f"{what} np={np_}: exit {r.returncode}, serial {ref.returncode}: "
                 f"{r.stderr[-1000:]}")
        # every rank prints one "strata: error: MESSAGE" line; mpirun may
        # interleave the ranks' writes (even within a line), so the prefixes and
        # the messages are counted in the text
        if r.stderr.count("error: ") != np_ or r.stderr.count(want[0]) != np_:
            fail(f"{what} np={np_}: not {np_} x {want[0]!r}: {r.stderr[-2000:]}")
        if out.exists():
            fail(f"{what} np={np_}: an output file was written")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serial", required=True)
    ap.add_argument("--mpi", required=True)
    ap.add_argument("--mpirun", required=True)
    ap.add_argument("--np", default="1,2,3")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    nps = [int(x) for x in a.np.split(",")]
    with tempfile.TemporaryDirectory(prefix="strata-rfm-mpi-") as d:
        tmp = Path(d)
        logs = {}
        for name, make in [("cdnow", cdnow), ("retail", online_retail)]:
            p = make(tmp)
            if p:
                logs[name] = p
        logs["syn-small"] = synthetic(tmp, 1, 400, 60)
        logs["syn-one"] = synthetic(tmp, 2, 5, 2)
        logs["syn-table"] = as_table(synthetic(tmp, 6, 5000, 700), tmp / "table.h5")
        logs["syn-big-ids"] = synthetic(tmp, 3, 3000, 500, base=2**62 - 10**6, spread=997)
        # > 2^16 customers: profile chunks cut between ranks, and at np 2
        # and 3 a rank with whole chunks between two cut ones
        logs["syn-many"] = synthetic(tmp, 4, 150000, 80000)
        logs["syn-chunks"] = synthetic(tmp, 5, 500000, 330000)
        big = {"retail", "syn-many", "syn-chunks"}
        settings = [
            ("rank5", []),
            ("value5", ["--ties", "value"]),
            ("rank10-net", ["--bins", "10", "--negative", "net"]),
            ("value4-drop", ["--bins", "4", "--ties", "value", "--zero", "drop",
                             "--duplicates", "drop"]),
            ("edges", ["--ties", "edges", "--recency-edges", "5,10,20,40",
                       "--frequency-edges", "1,2,3,5", "--monetary-edges", "10,50,100,500"]),
            ("days-mean", ["--frequency", "days", "--monetary", "mean", "--negative", "net"]),
            ("rank3-min-id", ["--bins", "3", "--min-id", "10"]),
        ]
        if a.quick:
            settings = settings[:2]
        ran = failed = 0
        for lname, log in logs.items():
            for sname, opts in settings[:3] if lname in big else settings:
                if lname == "syn-table":
                    base = [str(log), "--table", "/tx", "--customer", "customer_id",
                            "--time", "day", "--amount", "amount"] + opts
                else:
                    base = [str(log), "--customer", "/customer_id", "--time", "/day",
                            "--amount", "/amount"] + opts
                ref = tmp / f"{lname}-{sname}-serial.h5"
                r = run([a.serial, "rfm"] + base + ["-o", str(ref)])
                if r.returncode != 0:  # e.g. no id >= --min-id: the same failure
                    same_failure(a, r, base, nps, tmp, f"{lname} {sname} (fails)")
                    failed += 1
                    continue
                for np_ in nps:
                    out = tmp / f"{lname}-{sname}-np{np_}.h5"
                    r = run([a.mpirun, str(np_), a.mpi, "rfm"] + base + ["-o", str(out)])
                    if r.returncode != 0:
                        fail(f"{lname} {sname} np={np_}: exit {r.returncode}: {r.stderr[-2000:]}")
                        continue
                    if files_equal(ref, out, f"{lname} {sname} np={np_}"):
                        ran += 1
                    out.unlink()
        print(f"{ran} distributed outputs equal to the serial ones bitwise; {failed} settings "
              "failing in one process checked to fail the same way")
        # bad input: every rank fails with the serial message, no output
        bad = tmp / "bad.h5"
        with h5py.File(bad, "w") as f:
            f["customer_id"] = np.arange(10, dtype=np.int64)
            f["day"] = np.arange(9, dtype=np.int64)
            f["amount"] = np.ones(10)
        nothing = tmp / "nothing.h5"
        write_log(nothing, [-1, -2, -3], [1, 2, 3], [1.0, 2.0, 3.0])
        huge = tmp / "huge.h5"
        write_log(huge, [1, 1, 2, 7], [1, 2, 1, 1], [1.7e308, 1.7e308, 1.0, 2.0])
        segsum = tmp / "segsum.h5"  # customers finite, a segment's revenue not
        write_log(segsum, np.arange(1, 301), np.full(300, 5), np.full(300, 1e307))
        text = tmp / "text.h5"
        with h5py.File(text, "w") as f:
            f["customer_id"] = np.arange(10, dtype=np.int64)
            f["day"] = np.arange(10, dtype=np.int64)
            f["amount"] = np.array([b"1.5"] * 10)
        for what, log, extra in [("lengths differ", bad, []), ("nothing left", nothing, []),
                                 ("overflow", huge, []), ("segment sum overflow", segsum, []),
                                 ("text amounts", text, []),
                                 ("reference before last day", huge, ["--reference-day", "0"]),
                                 ("missing file", tmp / "absent.h5", [])]:
            base = [str(log), "--customer", "/customer_id", "--time", "/day", "--amount",
                    "/amount"] + extra
            ref = run([a.serial, "rfm"] + base + ["-o", str(tmp / "bad-serial.h5")])
            same_failure(a, ref, base, nps, tmp, f"bad input '{what}'")
    if FAILS:
        print(f"{len(FAILS)} failures")
        return 1
    print("all equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
