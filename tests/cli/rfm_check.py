"""Fixtures and checks for test_rfm_cli.sh (numpy, h5py and pandas; PyTables
for the pandas-written table, skipped without it).

    rfm_check.py fixtures DIR        write the input files into DIR
    rfm_check.py check OUT.h5 IN.h5 --bins Q --ties rank|value [--table]
                                     compare OUT.h5 with the pandas recipe
    rfm_check.py attr FILE NAME      print a root attribute
"""

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd


def make_log(n=20000, customers=3000, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"customer_id": rng.integers(0, customers, n) * 7 + 100,
                         "day": 19000 + rng.integers(0, 365, n),
                         "amount": rng.integers(1, 400, n) * 0.25})


def fixtures(folder):
    d = Path(folder)
    df = make_log()
    with h5py.File(d / "tx.h5", "w") as f:
        f["/tx/customer_id"] = df.customer_id.values.astype(np.int32)
        f["/tx/day"] = df.day.values.astype(np.int64)
        f["/tx/amount"] = df.amount.values
        # dirty copies: float ids with NaN, a NaN amount, a negative, a zero, a bad day
        ids = df.customer_id.values.astype(np.float64)
        ids[[3, 8]] = np.nan
        amount = df.amount.values.copy()
        amount[[5]] = np.nan
        amount[[6, 7]] = [-2.0, 0.0]
        day = df.day.values.astype(np.float64)
        day[9] = 1e12
        f["/dirty/customer_id"] = ids
        f["/dirty/day"] = day
        f["/dirty/amount"] = amount
        # compound table (h5py)
        rec = np.zeros(len(df), dtype=[("cust", "<i8"), ("day", "<i4"), ("amt", "<f8")])
        rec["cust"], rec["day"], rec["amt"] = df.customer_id, df.day, df.amount
        f["/table"] = rec
        # bad inputs
        f["/bad/short_day"] = df.day.values[:-1]
        f["/bad/strings"] = np.array([b"x"] * len(df))
        f["/bad/matrix"] = np.zeros((len(df), 2))
        f["/bad/empty_id"] = np.zeros(0, np.int64)
        f["/bad/empty_day"] = np.zeros(0, np.int64)
        f["/bad/empty_amount"] = np.zeros(0)
        f["/bad/all_negative"] = -np.ones(len(df))
        f.create_group("/bad/group")
    try:
        import tables  # noqa: F401  (pandas needs PyTables for to_hdf)
        df.to_hdf(d / "pandas.h5", key="tx", format="table", data_columns=True)
        # pandas' default table layout: columns packed per dtype in values_block_<i>
        df.to_hdf(d / "pandas_blocks.h5", key="tx", format="table")
        # pandas' default format="fixed": 2-D blocks per dtype, names in block<i>_items
        df.to_hdf(d / "pandas_fixed.h5", key="tx")
    except ImportError:
        pass
    (d / "text.h5").write_text("not HDF5\n")


def read_input(path, table):
    with h5py.File(path, "r") as f:
        if table:
            rec = f["/table"][...]
            return pd.DataFrame({"customer_id": rec["cust"], "day": rec["day"],
                                 "amount": rec["amt"]})
        return pd.DataFrame({"customer_id": f["/tx/customer_id"][...].astype(np.int64),
                             "day": f["/tx/day"][...], "amount": f["/tx/amount"][...]})


def check(out, inp, q, ties, table):
    df = read_input(inp, table)
    g = df.groupby("customer_id").agg(last=("day", "max"), frequency=("day", "count"),
                                      monetary=("amount", "sum"), first=("day", "min"))
    ref = df.day.max() + 1
    g["recency"] = ref - g["last"]
    cols = ("recency", "frequency", "monetary")
    if ties == "rank":
        bins = [pd.qcut(g[c].rank(method="first"), q, labels=False).values for c in cols]
    else:
        bins = [pd.qcut(g[c], q, labels=False, duplicates="drop").values for c in cols]
    want = {"customer_id": g.index.values, "recency": g.recency.values,
            "frequency": g.frequency.values, "first_day": g["first"].values,
            "tenure": ref - g["first"].values, "r": q - bins[0], "f": 1 + bins[1],
            "m": 1 + bins[2]}
    with h5py.File(out, "r") as f:
        for name, values in want.items():
            got = f[name][...]
            assert np.array_equal(got, values), f"/{name} differs from pandas"
        assert np.array_equal(f["monetary"][...], g.monetary.values), "/monetary differs"
        r, fr, m = f["r"][...], f["f"][...], f["m"][...]
        assert np.array_equal(f["code"][...], r * 100 + fr * 10 + m) or q > 9
        assert np.array_equal(f["score"][...], r + fr + m)
        names = [n.decode() if isinstance(n, bytes) else n for n in f["segment"].attrs["names"]]
        assert names[0] == "Champions" and len(names) == 11, names
        seg = f["segment"][...]
        counts = f["profile/count"][...]
        assert np.array_equal(counts, np.bincount(seg, minlength=11)), "profile counts"
        assert abs(f["profile/revenue_share"][...].sum() - 1) < 1e-12
        assert f["profile/rules"].shape == (11, 8)
        for metric in cols:
            assert f[f"edges/{metric}"].shape == (q + 1,)
        a = f.attrs
        assert a["rows"] == len(df) and a["customers"] == len(g) and a["reference_day"] == ref
        assert a["ties"] == ties and a["bins"] == q
        assert a["duplicates"] == df.duplicated().sum()
        for key in ("bad_id", "bad_time", "bad_amount", "negative", "zero", "return_only"):
            assert a[key] == 0, key


# The rules of tests/cli/test_rfm_cli.sh's --segments file, as (name, ranges).
RULES = [("High value", {"m": (4, 5), "f": (3, 5)}),
         ("Mid value", {"m": (3, 5)}),
         ("Tail: no fm", {"fm": (1, 2), "r": (1, 5)}),
         ("Low value", {})]


def rules(out):
    """/segment of OUT.h5 is the first rule of RULES each customer's scores
    match (fm = (f + m + 1) // 2), and the rules and names are stored."""
    with h5py.File(out, "r") as f:
        r, fr, m, seg = (f[k][...] for k in ("r", "f", "m", "segment"))
        names = [n.decode() if isinstance(n, bytes) else n for n in f["segment"].attrs["names"]]
        stored = f["profile/rules"][...]
        counts = f["profile/count"][...]
    assert names == [n for n, _ in RULES], names
    score = {"r": r, "f": fr, "m": m, "fm": (fr + m + 1) // 2}
    want = np.full(len(r), -1)
    for i, (_, ranges) in reversed(list(enumerate(RULES))):
        ok = np.ones(len(r), bool)
        for key, (lo, hi) in ranges.items():
            ok &= (score[key] >= lo) & (score[key] <= hi)
        want[ok] = i
    assert np.array_equal(seg, want), "segments differ from the rules"
    assert (want >= 0).all()  # the last rule matches everyone
    for i, (_, ranges) in enumerate(RULES):
        row = [v for key in ("r", "f", "m", "fm") for v in ranges.get(key, (1, 100))]
        assert list(stored[i]) == row, (i, list(stored[i]), row)
    assert np.array_equal(counts, np.bincount(seg, minlength=len(RULES)))


def main(argv):
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("fixtures")
    s.add_argument("folder")
    s = sub.add_parser("check")
    s.add_argument("out")
    s.add_argument("inp")
    s.add_argument("--bins", type=int, default=5)
    s.add_argument("--ties", default="rank")
    s.add_argument("--table", action="store_true")
    s = sub.add_parser("rules")
    s.add_argument("out")
    s = sub.add_parser("attr")
    s.add_argument("file")
    s.add_argument("name")
    a = p.parse_args(argv)
    if a.cmd == "fixtures":
        fixtures(a.folder)
    elif a.cmd == "check":
        check(a.out, a.inp, a.bins, a.ties, a.table)
    elif a.cmd == "rules":
        rules(a.out)
    else:
        with h5py.File(a.file, "r") as f:
            v = f.attrs[a.name]
            print(v.decode() if isinstance(v, bytes) else v)


if __name__ == "__main__":
    main(sys.argv[1:])
