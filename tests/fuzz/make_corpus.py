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


def customers(n=30, seed=5):
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(100, 100 + 3 * n))[:n].astype(np.int64)
    recency = rng.integers(0, 400, n).astype(np.int32)
    frequency = rng.integers(1, 30, n).astype(np.int64)
    monetary = np.round(rng.gamma(2.0, 50.0, n), 2)
    return ids, recency, frequency, monetary


def frame_files(out):
    ids, rec, freq, mon = customers()
    cols = {"customer_id": ids, "recency": rec, "frequency": freq, "monetary": mon}
    table = np.zeros(len(ids), dtype=[("customer_id", "<i8"), ("recency", "<i4"),
                                      ("frequency", "<u2"), ("monetary", "<f4")])
    for c in table.dtype.names:
        table[c] = cols[c]
    x = np.stack([rec, freq, mon], axis=1).astype(np.float64)
    for name, libver, vlen in (("all_vlen", "earliest", True), ("all_fixed", "latest", False)):
        with h5py.File(os.path.join(out, name + ".h5"), "w", libver=libver,
                       track_order=not vlen) as f:
            g = f.create_group("cust")
            for c, v in cols.items():
                g.create_dataset(c, data=v, chunks=(8,) if vlen else None)
            f["tx"] = table
            d = f.create_dataset("x", data=x)
            names = ["recency", "frequency", "monetary"]
            d.attrs["feature_names"] = (np.array(names, dtype=h5py.string_dtype()) if vlen
                                        else np.array(names, dtype="S9"))
    # float key column and a key-less group
    with h5py.File(os.path.join(out, "float_key.h5"), "w", libver="earliest") as f:
        f["cust/customer_id"] = ids.astype(np.float64)
        f["cust/recency"] = rec.astype(np.float32)
        f["cust/frequency"] = freq.astype(np.uint8)
        f["cust/monetary"] = mon
        f.create_dataset("x", data=x[:, :2].astype(np.int16), chunks=(10, 2), compression="gzip")
        f["x"].attrs["columns"] = np.array(["r", "f"], dtype=h5py.string_dtype())
    try:
        import pandas as pd
        import tables  # noqa: F401
    except ImportError:
        print("pandas/PyTables absent: no pandas frame seeds", file=sys.stderr)
        return
    df = pd.DataFrame({"customer_id": ids, "recency": rec, "frequency": freq, "monetary": mon})
    path = os.path.join(out, "pandas.h5")
    df.to_hdf(path, key="pdt", format="table", data_columns=True)
    df.set_index("customer_id").to_hdf(path, key="pdf", mode="a")
    df.set_index("customer_id").to_hdf(os.path.join(out, "pandas_blocks.h5"), key="pdt",
                                       format="table")


def model_group(g, k=3, d=3, vlen=True, log1p=True):
    """A tier model laid out as strata_model_write_h5 writes it (docs/tiers.md)."""
    rng = np.random.default_rng(k * 10 + d)
    strs = (lambda v: np.array(v, dtype=h5py.string_dtype())) if vlen else \
        (lambda v: np.array(v, dtype="S16"))
    c = rng.normal(size=(k, d))
    g["centroids"] = c
    g["centroids_original"] = np.expm1(c) if log1p else c * 2 + 1
    g["feature_names"] = strs(["recency", "frequency", "monetary", "tenure"][:d])
    g["transform"] = np.array([17 if log1p else 1] + [1, 2, 3][:d - 1], dtype=np.int32)
    g["center"] = rng.normal(size=d)
    g["scale"] = rng.uniform(0.5, 2.0, d)
    g["value_weights"] = np.array([-1.0, 1.0, 1.0, 0.5][:d])
    g["value_score"] = c @ g["value_weights"][()]
    tiers = min(k, 3)
    order = np.argsort(-g["value_score"][()], kind="stable")
    ct = np.zeros(k, dtype=np.int32)
    for rank, j in enumerate(order):
        ct[j] = min(rank, tiers - 1)
    g["cluster_tier"] = ct
    g["tier_names"] = strs(["high", "mid", "low"][:tiers])
    for a, v in (("k", k), ("d", d), ("seed", 3), ("n_iter", 7), ("n_train", 40)):
        g.attrs[a] = np.int64(v)
    g.attrs["inertia"] = 12.5
    for a, v in (("format", "strata tier model 1"), ("algorithm", "lloyd"),
                 ("strata_version", "0.0.0"), ("created", "2024-01-01T00:00:00Z"),
                 ("source", "make_corpus.py")):
        g.attrs[a] = v if vlen else np.bytes_(v)
    return ct, [b"high", b"mid", b"low"][:tiers]


def model_files(out):
    for name, kw, libver in (("k3_d3_vlen", dict(k=3, d=3), "earliest"),
                             ("k4_d2_fixed", dict(k=4, d=2, vlen=False, log1p=False), "latest"),
                             ("k1_d1", dict(k=1, d=1), "earliest")):
        with h5py.File(os.path.join(out, name + ".h5"), "w", libver=libver) as f:
            model_group(f.create_group("model"), **kw)


def tiering_file(path, ids, tier, names, with_model, fixed=False):
    with h5py.File(path, "w", libver="latest" if fixed else "earliest") as f:
        f["customer_id"] = ids
        f["tier"] = tier
        if names is not None:
            f["tier"].attrs["names"] = (np.array(names, dtype="S8") if fixed else
                                        np.array([n.decode() for n in names],
                                                 dtype=h5py.string_dtype()))
        f["labels"] = tier
        if with_model:
            model_group(f.create_group("model"))


def tiering_seeds(out):
    # fuzz_h5_tiering's input: u32 LE length of the old file, old file, new file
    import tempfile
    rng = np.random.default_rng(11)
    ids = np.arange(1, 25, dtype=np.int64)
    old_t = rng.integers(0, 3, ids.size).astype(np.int32)
    new_ids = np.concatenate([ids[4:], [100, 101]])
    new_t = rng.integers(0, 3, new_ids.size).astype(np.int32)
    with tempfile.TemporaryDirectory() as tmp:
        def blob(*args, **kw):
            p = os.path.join(tmp, "f.h5")
            tiering_file(p, *args, **kw)
            with open(p, "rb") as fh:
                return fh.read()
        names = [b"high", b"mid", b"low"]
        pairs = {
            "named_with_model": (blob(ids, old_t, names, True),
                                 blob(new_ids, new_t, names, True)),
            "unnamed_fixed": (blob(ids.astype(np.int32), old_t.astype(np.int64), None, False),
                              blob(new_ids, new_t.astype(np.uint8), None, False, fixed=True)),
            "one_named": (blob(ids.astype(np.float64), old_t, names, False, fixed=True),
                          blob(new_ids, new_t, None, False)),
        }
        for name, (a, b) in pairs.items():
            with open(os.path.join(out, name), "wb") as fh:
                fh.write(len(a).to_bytes(4, "little") + a + b)
        with open(os.path.join(out, "single_file"), "wb") as fh:
            fh.write(blob(ids, old_t, names, False))


def catalog_files(out):
    """strata info reads any file: the frame and model seeds."""
    frame_files(out)
    model_files(out)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for target, make in (("fuzz_h5_matrix", matrix_files), ("fuzz_h5_rfm", rfm_files),
                         ("fuzz_params", params_seeds), ("fuzz_segments", segments_seeds),
                         ("fuzz_h5_frame", frame_files), ("fuzz_h5_model", model_files),
                         ("fuzz_h5_tiering", tiering_seeds), ("fuzz_h5_catalog", catalog_files)):
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        make(d)


if __name__ == "__main__":
    main()
