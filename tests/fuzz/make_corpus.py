"""Writes the seed corpus of the libFuzzer targets (tests/fuzz/corpus/<target>/):
small valid files of every layout the readers accept, so the fuzzer starts
from files that reach deep into the readers and mutates from there.
Run with Debian's /usr/bin/python3 (numpy, h5py, pandas, PyTables):
    /usr/bin/python3 tests/fuzz/make_corpus.py tests/fuzz/corpus"""
import os
import sys

import h5py
import numpy as np


def matrix_files(out):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 3))
    c = x[:3].copy()
    layouts = {
        "f64_contiguous": dict(data=x),
        "f32_chunked_gzip": dict(data=x.astype(np.float32), chunks=(8, 3), compression="gzip"),
        "i16_chunked": dict(data=(x * 100).astype(np.int16), chunks=(16, 3)),
        "u64_contiguous": dict(data=np.abs(x * 1000).astype(np.uint64)),
        "f64_shuffle": dict(data=x, chunks=(10, 3), shuffle=True, compression="gzip"),
    }
    for name, kw in layouts.items():
        with h5py.File(os.path.join(out, name + ".h5"), "w", libver="earliest") as f:
            f.create_dataset("x", **kw)
            f.create_dataset("c", data=c)


def log(n=60, seed=3):
    rng = np.random.default_rng(seed)
    cust = rng.integers(1, 12, n).astype(np.int64)
    day = rng.integers(18000, 18400, n).astype(np.int64)
    amount = np.round(rng.gamma(2.0, 20.0, n), 2)
    amount[::9] *= -1
    return cust, day, amount


def rfm_files(out):
    cust, day, amount = log()
    with h5py.File(os.path.join(out, "columns.h5"), "w", libver="earliest") as f:
        f["customer"] = cust
        f["day"] = day.astype(np.int32)
        f["amount"] = amount
    with h5py.File(os.path.join(out, "columns_float_ids_chunked.h5"), "w", libver="earliest") as f:
        f.create_dataset("customer", data=cust.astype(np.float64), chunks=(16,), compression="gzip")
        f.create_dataset("day", data=(day * 86400).astype(np.uint32), chunks=(16,))
        f.create_dataset("amount", data=amount.astype(np.float32), chunks=(16,))
    rec = np.zeros(len(cust), dtype=[("customer", "<u8"), ("day", "<i4"), ("amount", "<f8")])
    rec["customer"], rec["day"], rec["amount"] = cust, day, amount
    with h5py.File(os.path.join(out, "compound.h5"), "w", libver="earliest") as f:
        f["tx"] = rec
    try:
        import pandas as pd
        import tables  # noqa: F401  (pandas' to_hdf needs PyTables)
    except ImportError:
        print("pandas/PyTables absent: no pandas seeds", file=sys.stderr)
        return
    df = pd.DataFrame({"customer": cust, "day": day, "amount": amount})
    df.to_hdf(os.path.join(out, "pandas_table.h5"), key="pdt", format="table", data_columns=True)
    df.to_hdf(os.path.join(out, "pandas_blocks.h5"), key="pdt", format="table")
    df.to_hdf(os.path.join(out, "pandas_fixed.h5"), key="pdf")


def params_seeds(out):
    # Bytes as fuzz_params reads them: handle choice, then (param, kind, value) steps.
    seeds = {
        "kmeans_k4": bytes([0, 0, 0, 0, 4, 0]),
        "kmeans_tol": bytes([0, 2, 1]) + np.float64(1e-3).tobytes(),
        "rfm_bins3": bytes([1, 0, 0, 0, 3]),
        "rfm_rules": bytes([1, 7, 2, 3]) + b"abc" + bytes(8 * 2) + bytes([2]) + b"de" + bytes(16),
        "rfm_edges": bytes([1, 6, 2]) + np.array([1.0, 5.0]).tobytes() + bytes([0]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def segments_seeds(out):
    seeds = {
        "default_like": "Champions: r=5 fm=5\nLoyal: r=3-5 fm=3-5\nAt Risk: r=1-2 fm=2-5\n"
                        "Lost: r=1 fm=1\n",
        "comments_crlf": "# tiers\r\n\r\n  high value : m=4-5 \r\nrest:\r\n",
        "colons": "a:b: r=1-2 f=3\nc: fm=1-100\n",
    }
    for name, text in seeds.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for target, make in (("fuzz_h5_matrix", matrix_files), ("fuzz_h5_rfm", rfm_files),
                         ("fuzz_params", params_seeds), ("fuzz_segments", segments_seeds)):
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        make(d)


if __name__ == "__main__":
    main()
