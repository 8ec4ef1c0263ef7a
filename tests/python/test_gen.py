"""strata gen: every kind and layout read back by h5py (and pandas through
h5py), the same seed giving the same arrays whatever the block size, the
readers of strata kmeans / rfm taking the files, and bad arguments refused
with the CLI's exit codes and no file. Needs $STRATA_CLI (set by CTest)."""

import os
import shutil
import subprocess

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")

FEATURES = ["recency_days", "frequency", "monetary", "avg_basket", "tenure_days", "web_share",
            "discount_share"]


def gen(*args, check=True):
    r = subprocess.run([CLI, "gen", *map(str, args)], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def arrays(path):
    """Every dataset of the file as numpy arrays, by name."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def same_bytes(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        if a[k].dtype.kind == "O":  # variable-length strings: their values, not pointers
            assert a[k].tolist() == b[k].tolist(), k
        else:
            assert a[k].tobytes() == b[k].tobytes(), k


@pytest.mark.parametrize("layout", ["matrix", "columns", "compound"])
def test_customers_layouts(tmp_path, layout):
    p = tmp_path / "c.h5"
    r = gen("customers", "-o", p, "--n", 3001, "--layout", layout)
    assert "3001 rows" in r.stdout
    with h5py.File(p, "r") as f:
        tier = f["tier"][()]
        assert tier.dtype == np.int32 and tier.shape == (3001,)
        assert set(np.unique(tier)) <= set(range(5)) and len(np.unique(tier)) == 5
        assert [s.decode() if isinstance(s, bytes) else s for s in f["tier"].attrs["names"]] == \
            ["champions", "loyal", "new", "at-risk", "lost"]
        if layout == "matrix":
            x = f["features"][()]
            assert x.dtype == np.float32 and x.shape == (3001, 7)
            names = [s.decode() if isinstance(s, bytes) else s
                     for s in f["features"].attrs["feature_names"]]
            assert names == FEATURES
            ids = f["customer_id"][()]
        elif layout == "columns":
            g = f["customers"]
            assert sorted(g.keys()) == sorted(FEATURES + ["customer_id"])
            x = np.column_stack([g[c][()] for c in FEATURES])
            assert all(g[c].dtype == np.float32 for c in FEATURES)
            ids = g["customer_id"][()]
        else:
            t = f["customers"][()]
            assert t.dtype.names == tuple(["customer_id"] + FEATURES)
            x = np.column_stack([t[c] for c in FEATURES])
            ids = t["customer_id"]
    assert ids.dtype == np.int64 and np.array_equal(ids, np.arange(1, 3002))
    # the features as synth.c draws them: counts and days integral, shares in [0, 1],
    # monetary = frequency x basket, tenure >= recency, and = for one order (the
    # first is the last; it was drawn apart for ~30% of the customers)
    assert np.all(x[:, 1] >= 1) and np.all(x[:, :2] == np.floor(x[:, :2]))
    assert np.all((x[:, 5:] >= 0) & (x[:, 5:] <= 1))
    assert np.allclose(x[:, 2], x[:, 1] * x[:, 3], rtol=1e-5)
    assert np.all(x[:, 4] >= x[:, 0])
    one = x[:, 1] == 1
    assert one.sum() > 100 and np.array_equal(x[one, 4], x[one, 0])
    assert np.any(x[~one, 4] > x[~one, 0])


def test_customers_same_in_every_layout(tmp_path):
    gen("customers", "-o", tmp_path / "m.h5", "--n", 500)
    gen("customers", "-o", tmp_path / "t.h5", "--n", 500, "--layout", "compound")
    with h5py.File(tmp_path / "m.h5", "r") as m, h5py.File(tmp_path / "t.h5", "r") as t:
        rec = t["customers"][()]
        assert np.array_equal(m["features"][()], np.column_stack([rec[c] for c in FEATURES]))


@pytest.mark.parametrize("kind,extra", [
    ("customers", ["--n", 2500, "--layout", "columns"]),
    ("customers", ["--n", 2500, "--layout", "compound"]),
    ("customers", ["--n", 2500, "--layout", "pandas"]),
    ("customers", ["--n", 2500, "--layout", "pandas-table"]),
    ("transactions", ["--customers", 300, "--layout", "pandas"]),
    ("transactions", ["--customers", 300, "--n", 2500, "--layout", "pandas-table"]),
    ("blobs", ["--n", 2500, "--d", 3, "--k", 4]),
    ("blobs", ["--n", 2500, "--d", 5, "--kind", "customer", "--dtype", "float64"]),
    ("transactions", ["--customers", 300]),
    ("transactions", ["--customers", 300, "--n", 2500, "--layout", "compound"]),
])
def test_same_seed_same_bytes_whatever_the_block(tmp_path, kind, extra):
    gen(kind, "-o", tmp_path / "a.h5", *extra, "--seed", 7, "--block-rows", 1000)
    gen(kind, "-o", tmp_path / "b.h5", *extra, "--seed", 7, "--block-rows", 77)
    gen(kind, "-o", tmp_path / "c.h5", *extra, "--seed", 8)
    gen(kind, "-o", tmp_path / "d.h5", *extra, "--seed", 7, "--chunk-rows", 100)
    a, b, c, d = (arrays(tmp_path / n) for n in ("a.h5", "b.h5", "c.h5", "d.h5"))
    same_bytes(a, b)
    same_bytes(a, d)  # the chunking changes the layout, not the data
    assert any(a[k].tobytes() != c[k].tobytes() for k in a)
    chunks = []
    with h5py.File(tmp_path / "d.h5", "r") as f:
        f.visititems(lambda name, obj: chunks.append((name, obj.chunks))
                     if isinstance(obj, h5py.Dataset) and obj.shape and obj.shape[0] > 100
                     else None)
    assert chunks and all(c and c[0] == 100 for _, c in chunks), chunks


def test_blobs(tmp_path):
    p = tmp_path / "b.h5"
    gen("blobs", "-o", p, "--n", 4000, "--d", 3, "--k", 4, "--seed", 1)
    with h5py.File(p, "r") as f:
        x, g = f["x"][()], f["group"][()]
    assert x.dtype == np.float32 and x.shape == (4000, 3) and g.shape == (4000,)
    assert set(np.unique(g)) == {0, 1, 2, 3}
    # unit spread around each group's centre
    for j in range(4):
        assert np.allclose(x[g == j].std(axis=0), 1.0, atol=0.15)
    p = tmp_path / "c.h5"
    gen("blobs", "-o", p, "--n", 20000, "--d", 4, "--k", 3, "--kind", "customer",
        "--dtype", "float64")
    with h5py.File(p, "r") as f:
        x = f["x"][()]
    assert x.dtype == np.float64
    # standardised by the mixture's own moments: mean ~0, sd ~1; skewed right
    assert np.allclose(x.mean(axis=0), 0, atol=0.1) and np.allclose(x.std(axis=0), 1, atol=0.2)
    assert np.all(np.median(x, axis=0) < x.mean(axis=0))


def test_transactions(tmp_path):
    p = tmp_path / "t.h5"
    gen("transactions", "-o", p, "--customers", 400, "--n", 5000)
    with h5py.File(p, "r") as f:
        cid, day, amt = (f["tx/" + c][()] for c in ("customer_id", "day", "amount"))
        assert f.attrs["reference_day"] == 20000
    assert cid.dtype == np.int64 and day.dtype == np.int64 and amt.dtype == np.float64
    assert len(cid) == len(day) == len(amt) == 5000
    assert np.all(np.diff(cid) >= 0) and cid.min() >= 1 and cid.max() <= 400
    assert np.all(day <= 20000)
    assert np.isnan(amt).sum() < 100 and (amt < 0).sum() < 100
    p2 = tmp_path / "t2.h5"
    r = gen("transactions", "-o", p2, "--customers", 400, "--layout", "compound")
    with h5py.File(p2, "r") as f:
        t = f["tx"][()]
    assert t.dtype.names == ("customer_id", "day", "amount")
    assert f"{len(t)} rows" in r.stdout


def test_readers_take_the_files(tmp_path):
    t = tmp_path / "t.h5"
    gen("transactions", "-o", t, "--customers", 300, "--layout", "compound")
    r = subprocess.run([CLI, "rfm", t, "--table", "/tx", "--customer", "customer_id",
                        "--time", "day", "--amount", "amount", "-o", tmp_path / "r.h5"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "r.h5", "r") as f, h5py.File(t, "r") as g:
        ids = g["tx"]["customer_id"]
        assert np.array_equal(f["customer_id"][()], np.unique(ids))
    c = tmp_path / "c.h5"
    gen("customers", "-o", c, "--n", 2000, "--layout", "compound")
    r = subprocess.run([CLI, "kmeans", c, "--table", "/customers", "-k", "5",
                        "-o", tmp_path / "k.h5"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "k.h5", "r") as f:
        assert f["labels"].shape == (2000,) and f["centroids"].shape == (5, 7)
    b = tmp_path / "b.h5"
    gen("blobs", "-o", b, "--n", 3000, "--d", 2, "--k", 3)
    r = subprocess.run([CLI, "kmeans", f"{b}:/x", "-k", "3", "-o", tmp_path / "kb.h5"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([CLI, "sweep", f"{b}:/x", "-k", "2:4", "-o", tmp_path / "sw.h5"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "suggested k" in r.stdout, r.stderr
    t2 = tmp_path / "t2.h5"
    gen("transactions", "-o", t2, "--customers", 500)
    r = subprocess.run([CLI, "tiers", t2, "--customer", "/tx/customer_id", "--time", "/tx/day",
                        "--amount", "/tx/amount", "-k", "3", "-o", tmp_path / "ti.h5"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "ti.h5", "r") as f, h5py.File(t2, "r") as g:
        # every customer with a usable row (a lone NaN amount or return is dropped)
        ok = np.isfinite(g["tx/amount"][()]) & (g["tx/amount"][()] > 0)
        assert len(f["tier"]) == len(np.unique(g["tx/customer_id"][()][ok]))


def test_pandas_layout(tmp_path):
    """pandas.read_hdf reads the frame: index customer_id, the 7 float32
    columns, equal to the matrix layout's; strata kmeans --table too."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    p = tmp_path / "p.h5"
    gen("customers", "-o", p, "--n", 1500, "--layout", "pandas", "--block-rows", 333)
    gen("customers", "-o", tmp_path / "m.h5", "--n", 1500)
    df = pd.read_hdf(p, "customers")
    assert list(df.columns) == FEATURES and df.index.name == "customer_id"
    assert all(df[c].dtype == np.float32 for c in FEATURES)
    assert np.array_equal(df.index.values, np.arange(1, 1501))
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert np.array_equal(df.values, f["features"][()])
        assert np.array_equal(h5py.File(p, "r")["tier"][()], f["tier"][()])
    r = subprocess.run([CLI, "kmeans", p, "--table", "/customers", "-k", "5",
                        "-o", tmp_path / "k.h5"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "row key: customer_id" in r.stdout
    with h5py.File(tmp_path / "k.h5", "r") as f:
        assert np.array_equal(f["customer_id"][()], np.arange(1, 1501))


def read_hdf_strict(pd, path, key):
    """pd.read_hdf with every warning an error (PyTables warns about what it
    does not recognise)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return pd.read_hdf(path, key)


def test_pandas_table_layout(tmp_path):
    """--layout pandas-table: the frame of to_hdf(format="table",
    data_columns=True), read by pandas as the matrix layout's data and by
    strata kmeans --table with the same result as the compound table."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    p = tmp_path / "p.h5"
    gen("customers", "-o", p, "--n", 1500, "--layout", "pandas-table", "--block-rows", 333)
    gen("customers", "-o", tmp_path / "m.h5", "--n", 1500)
    gen("customers", "-o", tmp_path / "c.h5", "--n", 1500, "--layout", "compound")
    df = read_hdf_strict(pd, p, "customers")
    assert list(df.columns) == FEATURES and df.index.name == "customer_id"
    assert all(df[c].dtype == np.float32 for c in FEATURES)
    assert np.array_equal(df.index.values, np.arange(1, 1501))
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert np.array_equal(df.to_numpy(), f["features"][()])
    # pandas' own query on a data column works on it
    sub = pd.read_hdf(p, "customers", where="frequency > 10")
    assert len(sub) == int((df["frequency"] > 10).sum()) > 0
    # and pandas appends to it as to a table it wrote (it refused: the
    # attributes it compares came back as bytes, not str)
    shutil.copy(p, tmp_path / "copy.h5")
    more = df.iloc[:40].copy()
    more.index = more.index + 10**6
    with pd.HDFStore(tmp_path / "copy.h5", "a") as store:
        store.append("customers", more)
    both = read_hdf_strict(pd, tmp_path / "copy.h5", "customers")
    pd.testing.assert_frame_equal(both, pd.concat([df, more]))
    fits = {}
    for name in ("p", "c"):
        r = subprocess.run([CLI, "kmeans", tmp_path / f"{name}.h5", "--table", "/customers",
                            "-k", "5", "--seed", "3", "-o", tmp_path / f"k{name}.h5"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "row key: customer_id" in r.stdout
        fits[name] = arrays(tmp_path / f"k{name}.h5")
    for key in ("labels", "centroids", "customer_id"):
        assert fits["p"][key].tobytes() == fits["c"][key].tobytes(), key


@pytest.mark.parametrize("layout", ["pandas", "pandas-table"])
def test_pandas_transaction_logs(tmp_path, layout):
    """gen transactions --layout pandas / pandas-table: pandas reads the log
    (the columns layout's values, a row-number index), and strata rfm
    --table gives the columns layout's result, bit for bit."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    p, c = tmp_path / "p.h5", tmp_path / "c.h5"
    gen("transactions", "-o", p, "--customers", 700, "--layout", layout, "--block-rows", 500)
    gen("transactions", "-o", c, "--customers", 700)
    df = read_hdf_strict(pd, p, "tx")
    assert list(df.columns) == ["customer_id", "day", "amount"]
    if layout == "pandas-table":  # pandas appends to it, as to its own
        shutil.copy(p, tmp_path / "copy.h5")
        more = df.iloc[:25].copy()
        more.index = more.index + len(df)
        more.to_hdf(tmp_path / "copy.h5", key="tx", format="table", append=True)
        pd.testing.assert_frame_equal(read_hdf_strict(pd, tmp_path / "copy.h5", "tx"),
                                      pd.concat([df, more]))
    assert [str(t) for t in df.dtypes] == ["int64", "int64", "float64"]
    assert np.array_equal(df.index.values, np.arange(len(df)))
    with h5py.File(c, "r") as f:
        for col in df.columns:
            np.testing.assert_array_equal(df[col].to_numpy(), f["tx/" + col][()])
        assert h5py.File(p, "r").attrs["reference_day"] == 20000
    outs = {}
    for name, args in (("p", ["--table", "/tx", "--customer", "customer_id", "--time", "day",
                               "--amount", "amount"]),
                       ("c", ["--customer", "/tx/customer_id", "--time", "/tx/day",
                              "--amount", "/tx/amount"])):
        r = subprocess.run([CLI, "rfm", tmp_path / f"{name}.h5", *args, "--reference-day",
                            "20000", "-o", tmp_path / f"r{name}.h5"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs[name] = arrays(tmp_path / f"r{name}.h5")
    same_bytes(outs["p"], outs["c"])


def test_pandas_reads_the_compound_table(tmp_path):
    pd = pytest.importorskip("pandas")
    p = tmp_path / "c.h5"
    gen("customers", "-o", p, "--n", 100, "--layout", "compound")
    with h5py.File(p, "r") as f:
        df = pd.DataFrame(f["customers"][()])
    assert list(df.columns) == ["customer_id"] + FEATURES and len(df) == 100


@pytest.mark.parametrize("args,code,text", [
    (["customers", "--n", 0], 2, "--n must be"),
    (["customers", "--n", -3], 2, "--n must be"),
    (["customers", "--n", "2X"], 2, "--n must be"),
    (["customers", "--n", "1.5M"], 2, "--n must be"),
    (["customers", "--n", "10MM"], 2, "--n must be"),
    (["customers", "--n", "0K"], 2, "--n must be"),
    (["customers", "--n", "99999999999G"], 2, "--n must be"),
    (["transactions", "--customers", "M"], 2, "--customers must be"),
    (["customers", "--n", 10, "--layout", "wide"], 2, "--layout must be"),
    (["transactions", "--customers", 10, "--layout", "fixed"], 2, "--layout must be"),
    (["transactions", "--customers", 10, "--layout", "matrix"], 2, "--layout must be"),
    (["transactions", "--n", 10], 2, "--customers"),
    (["blobs", "--n", 10, "--dtype", "int8"], 2, "--dtype"),
    (["planets", "--n", 10], 2, "unknown data"),
    (["blobs", "--n", 10, "--k", 20], 2, "--k 20 groups need at least 20 rows"),
    (["blobs", "--n", 10, "--chunk-rows", 0], 2, "--chunk-rows must be"),
    (["blobs", "--n", 10, "--chunk-rows", 20000000], 2, "--chunk-rows must be"),
    # --dataset: a path of names, short enough, not one the file holds anyway
    (["blobs", "--n", 10, "--dataset", "."], 2, "must be a name"),
    (["blobs", "--n", 10, "--dataset", "a/./b"], 2, "must be a name"),
    (["blobs", "--n", 10, "--dataset", "a//b"], 2, "must be a name"),
    (["blobs", "--n", 10, "--dataset", "a/../b"], 2, "must be a name"),
    (["blobs", "--n", 10, "--dataset", "x" * 201], 2, "at most 200 characters"),
    (["blobs", "--n", 10, "--dataset", "group"], 2, "holds /group besides it"),
    (["customers", "--n", 10, "--dataset", "tier"], 2, "holds /tier besides it"),
    (["customers", "--n", 10, "--dataset", "tier/x", "--layout", "columns"], 2, "holds /tier"),
    (["customers", "--n", 10, "--dataset", "customer_id"], 2, "holds /customer_id"),
    (["customers", "--n", 10, "--dataset", "_i_table", "--layout", "pandas-table"], 2,
     "reserves names that begin with '_i_'"),
])
def test_bad_arguments(tmp_path, args, code, text):
    p = tmp_path / "o.h5"
    r = gen(*args, "-o", p, check=False)
    assert r.returncode == code and text in r.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("text,rows", [("3k", 3000), ("2K", 2000), ("1M", 1000000)])
def test_counts_take_suffixes(tmp_path, text, rows):
    p = tmp_path / "b.h5"
    r = gen("blobs", "-o", p, "--n", text, "--d", 1, "--dtype", "float32")
    assert f"{rows} rows" in r.stdout
    with h5py.File(p, "r") as f:
        assert f["x"].shape == (rows, 1)
    t = tmp_path / "t.h5"
    gen("transactions", "-o", t, "--customers", "1k", "--n", "5k")
    with h5py.File(t, "r") as f:
        ids = f["tx/customer_id"][()]
        assert ids.shape == (5000,) and len(np.unique(ids)) <= 1000


def test_existing_output_and_unwritable_folder(tmp_path):
    p = tmp_path / "o.h5"
    p.write_bytes(b"keep me")
    r = gen("customers", "-o", p, "--n", 10, check=False)
    assert r.returncode == 3 and "exists" in r.stderr and p.read_bytes() == b"keep me"
    gen("customers", "-o", p, "--n", 10, "--force")
    assert h5py.File(p, "r")["features"].shape == (10, 7)
    r = gen("customers", "-o", tmp_path / "no" / "o.h5", "--n", 10, check=False)
    assert r.returncode == 1 and "No such file or directory" in r.stderr
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        r = gen("customers", "-o", ro / "o.h5", "--n", 10, check=False)
        ro.chmod(0o700)
        assert r.returncode == 1 and "Permission denied" in r.stderr
        assert os.listdir(ro) == []
    assert sorted(os.listdir(tmp_path)) in (["o.h5"], ["o.h5", "ro"])


def test_file_size_limit_leaves_nothing(tmp_path):
    """ulimit -f below the file's size: a clear error, no file, no temporary."""
    p = tmp_path / "big.h5"
    r = subprocess.run(["bash", "-c", f"ulimit -f 2048; exec {CLI} gen blobs -o {p} "
                        "--n 1000000 --d 4"], capture_output=True, text=True)
    assert r.returncode == 1 and "file size limit" in r.stderr, r.stderr
    assert os.listdir(tmp_path) == []


def peak_rss_kb(args):
    """Peak resident memory (KiB) of one `strata gen` run, in this process's child."""
    env = dict(os.environ, STRATA_NO_SUPERVISOR="1")
    p = subprocess.Popen([CLI, "gen", *map(str, args)], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, p.stderr.read()
    return usage.ru_maxrss


def test_memory_bounded(tmp_path):
    """Ten times the rows (8 MB -> 80 MB of data) take about the same memory:
    one block and the chunk caches, never the file."""
    small = peak_rss_kb(["blobs", "-o", tmp_path / "s.h5", "--n", 100000, "--d", 8,
                         "--dtype", "float64"])
    big = peak_rss_kb(["blobs", "-o", tmp_path / "b.h5", "--n", 1000000, "--d", 8,
                       "--dtype", "float64"])
    assert os.path.getsize(tmp_path / "b.h5") > 64e6
    assert big < small + 16 * 1024, (small, big)


def test_sigterm_leaves_nothing(tmp_path):
    """SIGTERM while the file grows: the temporary is removed, no output."""
    import signal
    import time
    p = subprocess.Popen([CLI, "gen", "blobs", "-o", str(tmp_path / "big.h5"), "--n", "20000000",
                          "--d", "16"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(3000):  # until the temporary exists (not a timing assertion)
        if os.listdir(tmp_path) or p.poll() is not None:
            break
        time.sleep(0.01)
    assert p.poll() is None and os.listdir(tmp_path)[0].startswith("big.h5.tmp.")
    p.send_signal(signal.SIGTERM)
    assert p.wait() == -signal.SIGTERM
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args", [["customers", "--n", "9223372036854775807"],
                                  ["blobs", "--n", "1000G", "--d", "16"],
                                  ["transactions", "--customers", "1000G"]])
def test_more_than_the_disk_holds(tmp_path, args):
    """A file larger than the free space is refused before anything is
    written (it streamed until the disk was full: 35 GB once)."""
    out = tmp_path / "big.h5"
    p = gen(args[0], "-o", out, *args[1:], check=False)
    assert p.returncode == 1 and "free on the file system" in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []


def test_longest_dataset_name_is_written(tmp_path):
    """--dataset at its limit (200 characters) is written in every layout
    (255 passed the check and failed in the writer, exit 1)."""
    name = "n" * 200
    for layout in ("matrix", "columns", "compound", "pandas", "pandas-table"):
        gen("customers", "-o", tmp_path / f"{layout}.h5", "--n", 50, "--layout", layout,
            "--dataset", name)
    with h5py.File(tmp_path / "columns.h5", "r") as f:
        assert f[name]["monetary"].shape == (50,)


def test_pseudo_file_system(tmp_path):
    """/proc has no free blocks to count: the write says what is wrong, not
    that 0 GB are free."""
    r = gen("customers", "-o", "/proc/strata-test.h5", "--n", 10, check=False)
    assert r.returncode == 1 and "free on the file system" not in r.stderr, r.stderr
    assert "/proc/strata-test.h5" in r.stderr


def test_transactions_larger_than_the_disk(tmp_path):
    """The free-space check counts the orders a customer places (6 on average):
    a log of free/16 customers needs ~3x the free space (it started writing)."""
    import shutil as sh
    customers = sh.disk_usage(tmp_path).free // 16
    try:
        r = subprocess.run([CLI, "gen", "transactions", "-o", tmp_path / "t.h5",
                            "--customers", str(customers)], capture_output=True, text=True,
                           timeout=30)
    finally:
        leftover = os.listdir(tmp_path)
    assert r.returncode == 1 and "free on the file system" in r.stderr, r.stderr
    assert leftover == []


def test_quiet(tmp_path):
    p = gen("blobs", "-o", tmp_path / "q.h5", "--n", 100, "--d", 2, "--quiet")
    assert p.stdout == "" and p.stderr == ""
    assert (tmp_path / "q.h5").exists()
