"""`strata info` (issue 13): on files written by strata kmeans, rfm, tiers and
by h5py and pandas, the listed types, shapes, chunks and filters are those
h5py reports, and the suggested command is the right one and runs; a missing
or corrupt file is a clear error. Also: the outputs' provenance attributes.

The program is $STRATA_CLI (set by CTest); skipped without it."""
import json
import os
import shlex
import subprocess

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="h5py is not installed")
pd = pytest.importorskip("pandas", reason="pandas is not installed")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")


def run(*args, cwd=None):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def info(path):
    p = run("info", path, "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["file"] == str(path)
    return {o["path"]: o for o in doc["objects"]}


def h5py_type(ds):
    dt = ds.dtype
    order = " big-endian" if dt.byteorder == ">" and dt.itemsize > 1 else ""
    if dt.kind in "iu":
        return f"{'u' if dt.kind == 'u' else ''}int{dt.itemsize * 8}{order}"
    if dt.kind == "f":
        return f"float{dt.itemsize * 8}{order}"
    return None


def check_against_h5py(path, objects):
    """Every dataset's type, shape, chunks and gzip level as h5py sees them."""
    seen = []

    def visit(name, obj):
        o = objects["/" + name]
        if isinstance(obj, h5py.Dataset):
            assert o["kind"] == "dataset"
            assert o["shape"] == list(obj.shape)
            assert o["chunks"] == (list(obj.chunks) if obj.chunks else None)
            want = h5py_type(obj)
            if want:
                assert o["type"] == want, name
            if obj.compression == "gzip":
                assert f"gzip({obj.compression_opts})" in o["filters"]
            else:
                assert not any(f.startswith("gzip") for f in o["filters"])
            assert ("shuffle" in o["filters"]) == bool(obj.shuffle)
            # what the filters saved: HDF5's storage size against the values' bytes
            assert o["stored_bytes"] == obj.id.get_storage_size(), name
            assert o["value_bytes"] == (obj.size * obj.dtype.itemsize if obj.shape is not None
                                        else 0), name
        elif name.startswith("pandas/") and "pandas_type" in obj.attrs:
            # a pandas view of a per-row dataset: one line, its links not listed again
            assert o["kind"] == "other" and o["type"].startswith("pandas view of /"), o
            seen.append("/" + name)
            return
        else:
            assert o["kind"] == "group"
        assert set(o["attributes"]) == set(obj.attrs), name
        seen.append("/" + name)

    def walk(g):
        """By link name (visititems names an object once, by the first of
        its names: a pandas view's link to /labels may come first)."""
        for name in g:
            if not isinstance(g.get(name, getlink=True), h5py.HardLink):
                continue
            obj = g[name]
            path = f"{g.name.rstrip('/')}/{name}"[1:]
            visit(path, obj)
            if isinstance(obj, h5py.Group) and "pandas_type" not in obj.attrs:
                walk(obj)

    with h5py.File(path) as f:
        walk(f)
        assert set(objects) == {"/", *seen}
        assert set(objects["/"]["attributes"]) == set(f.attrs)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("info")
    rng = np.random.default_rng(9)
    n = 800
    with h5py.File(d / "h5py.h5", "w") as f:
        f.create_dataset("gz", data=rng.normal(size=(1000, 3)), chunks=(100, 3),
                         compression="gzip", compression_opts=6, shuffle=True)
        f["plain_f32"] = rng.normal(size=(50, 2)).astype(np.float32)
        f["ints"] = np.arange(10, dtype=np.uint16)
        rec = np.zeros(n, dtype=[("customer_id", "<i8"), ("day", "<i4"), ("amount", "<f8")])
        rec["customer_id"] = rng.integers(0, 60, n)
        rec["day"] = rng.integers(18000, 18300, n)
        rec["amount"] = np.round(rng.gamma(2, 30, n), 2) + 0.01
        f["log"] = rec
        feats = np.zeros(n, dtype=[("recency", "<f8"), ("spend", "<f8")])
        feats["recency"], feats["spend"] = rng.normal(size=n), rng.normal(size=n)
        f["feats"] = feats
        g = f.create_group("cols")
        g["x1"], g["x2"], g["customer_id"] = rng.normal(size=n), rng.normal(size=n), np.arange(n)
        f.attrs["note"] = "made by h5py"
        f.attrs["numbers"] = np.arange(20)
    tx = pd.DataFrame({"customer_id": rec["customer_id"], "date": rec["day"],
                       "value": rec["amount"]})
    tx.to_hdf(d / "pd_table.h5", key="tx", format="table")
    tx.to_hdf(d / "pd_fixed.h5", key="tx")
    with h5py.File(d / "tx.h5", "w") as f:
        f["c"], f["t"], f["a"] = rec["customer_id"], rec["day"], rec["amount"]
    return d


def command(o):
    """The suggested command line: it runs as printed (K and OUT.h5 filled in);
    notes on it are in "hint" (the JSON "command" once held them too, and
    did not run as printed)."""
    assert "  (" not in o["command"], o["command"]
    return shlex.split(o["command"])


def test_h5py_file(files, tmp_path):
    path = files / "h5py.h5"
    objs = info(path)
    check_against_h5py(path, objs)
    assert objs["/gz"]["filters"] == ["shuffle", "gzip(6)"]
    assert objs["/gz"]["chunks"] == [100, 3]
    with h5py.File(path) as f:  # the text says what gzip saved, for filtered data only
        pct = round(100 * f["gz"].id.get_storage_size() / f["gz"].nbytes)
    text = run("info", path).stdout
    assert f"chunks [100 x 3], shuffle,gzip(6), stored {pct}%\n" in text, text
    assert "plain_f32  float32 [" in text and "no compression\n" in text
    assert objs["/plain_f32"]["chunks"] is None and objs["/plain_f32"]["type"] == "float32"
    assert objs["/log"]["type"] == "compound{customer_id:int64,day:int32,amount:float64}"
    assert objs["/"]["attributes"]["note"] == "made by h5py"
    assert objs["/"]["attributes"]["numbers"].startswith("[0, 1, 2")
    # what reads what
    assert objs["/gz"]["use"] == "matrix" and objs["/ints"]["use"] == "none"
    assert objs["/log"]["use"] == "transactions"
    assert objs["/feats"]["use"] == "table" and objs["/feats"]["columns"] == ["recency", "spend"]
    assert objs["/cols"]["use"] == "table"
    assert (objs["/cols"]["columns"], objs["/cols"]["key"]) == (["x1", "x2"], "customer_id")
    # the suggested commands run as printed (K and OUT filled in)
    for p in ("/gz", "/feats", "/cols"):
        args = [a.replace("OUT.h5", str(tmp_path / "o.h5")) for a in command(objs[p])]
        args = ["3" if a == "K" else a for a in args]
        r = run(*args[1:], "--force")
        assert r.returncode == 0, (p, args, r.stderr)
    args = [a.replace("OUT.h5", str(tmp_path / "r.h5")) for a in command(objs["/log"])]
    r = run(*args[1:])
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "r.h5") as f, h5py.File(path) as g:
        assert list(f["customer_id"][()]) == sorted(set(g["log"]["customer_id"]))


def test_pandas_and_column_logs(files, tmp_path):
    for name, want in (("pd_table.h5", "--table /tx/table"), ("pd_fixed.h5", "--table /tx"),
                       ("tx.h5", "--customer /c --time /t --amount /a")):
        objs = info(files / name)
        logs = [o for o in objs.values() if o["use"] == "transactions"]
        assert len(logs) == 1, name
        assert want in logs[0]["command"]
        args = [a.replace("OUT.h5", str(tmp_path / f"{name}.out")) for a in command(logs[0])]
        r = run(*args[1:])
        assert r.returncode == 0, (name, r.stderr)
        with h5py.File(tmp_path / f"{name}.out") as f, h5py.File(files / "tx.h5") as g:
            assert list(f["customer_id"][()]) == sorted(set(g["c"][()]))
    # PyTables' index of the table is listed, but nothing suggests reading it
    objs = info(files / "pd_table.h5")
    assert all(o["use"] == "none" for p, o in objs.items() if "/_i_" in p)


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_pandas_logs_with_dates_and_indexes(tmp_path, fmt):
    """The usual pandas log: purchase times as datetime64, often the frame's
    index (customer or date). strata info offered kmeans on the amounts alone
    (dates are no features; the time column was never found), strata rfm
    could not read a customer id that is the index (it looked for a column),
    and a categorical customer id was offered to kmeans, which refuses it.
    Reference: pandas' own aggregation of the same log."""
    if fmt == "table":
        pytest.importorskip("tables")
    rng = np.random.default_rng(22)
    n = 600
    log = pd.DataFrame({"customer_id": rng.integers(1, 80, n),
                        "purchased": pd.Timestamp("2023-03-01") + pd.to_timedelta(
                            rng.integers(0, 400, n) * 86400 + rng.integers(0, 86400, n), unit="s"),
                        "amount": np.round(rng.gamma(2, 25, n), 2) + 0.01})
    day = (log.purchased - pd.Timestamp("1970-01-01")).dt.days
    g = log.assign(day=day).groupby("customer_id")
    ref = pd.DataFrame({"recency": day.max() + 1 - g.day.max(), "frequency": g.size(),
                        "monetary": g.amount.sum()})
    frames = {"plain": log, "by_customer": log.set_index("customer_id"),
              "by_date": log.set_index("purchased")}
    for name, frame in frames.items():
        path = tmp_path / f"{name}.h5"
        frame.to_hdf(path, key="orders", format=fmt)
        objs = info(path)
        logs = [o for o in objs.values() if o["use"] == "transactions"]
        assert len(logs) == 1, (name, objs)
        assert logs[0]["dates"] == ["purchased"]  # the one datetime64 column, whatever its name
        assert "--customer customer_id --time purchased --amount amount" in logs[0]["command"]
        for memory in ([], ["--memory", str(24 * 2**20 + 20_000), "--tmpdir", tmp_path]):
            out = tmp_path / f"{name}.out.h5"
            args = [str(out) if a == "OUT.h5" else a for a in command(logs[0])]
            r = run(*args[1:], "--force", "--quiet", *memory, cwd=tmp_path)
            assert r.returncode == 0, (name, memory, r.stderr)
            with h5py.File(out) as f:
                assert list(f["customer_id"][()]) == list(ref.index)
                for col in ref:
                    assert np.allclose(f[col][()], ref[col].to_numpy(), rtol=1e-12), (name, col)
    if fmt == "fixed":
        return  # pandas stores categories in tables only
    # a categorical customer id: its codes are no ids, and the readers refuse
    # them; no command is offered
    cat = tmp_path / "cat.h5"
    log.assign(customer_id=log.customer_id.astype("category")).to_hdf(cat, key="orders",
                                                                     format=fmt)
    assert all(o["command"] == "" for o in info(cat).values())


def test_pandas_logs_indexed_by_other_names_and_kinds(tmp_path):
    """Logs as pandas stores them that were misread (outside testing): a time
    index with a time zone or a frequency (its name is pickled after them:
    not found), a non-ASCII index name (pickled as Latin-1 bytes or \\u
    escapes), a MultiIndex (customer_id, date) whose dates went unlisted, an
    index named CustomerID (not recognised as the customer), a column name
    holding a comma (split in two by info). Each: info offers strata rfm, and
    that command, run as printed, gives pandas' aggregates."""
    pytest.importorskip("tables")
    rng = np.random.default_rng(8)
    n = 500
    log = pd.DataFrame({"customer_id": rng.integers(100, 160, n),
                        "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(
                            rng.integers(0, 300 * 86400, n), unit="s"),
                        "amount": np.round(rng.gamma(2, 30, n), 2) + 0.01})
    hourly = log.drop(columns="date").set_index(
        pd.date_range("2023-01-01", periods=n, freq="h", name="date"))
    cases = {  # name: (frame, format, customer, time, amount)
        "tz": (log.assign(date=log.date.dt.tz_localize("UTC")).set_index("date"), "table",
               "customer_id", "date", "amount"),
        "freq": (hourly, "table", "customer_id", "date", "amount"),
        "umlaut": (log.rename(columns={"customer_id": "Kundennr_\u00fc"})
                   .set_index("Kundennr_\u00fc"), "table", None, "date", "amount"),
        "multi": (log.set_index(["customer_id", "date"]), "table", "customer_id", "date",
                  "amount"),
        "CustomerID": (log.rename(columns={"customer_id": "CustomerID"}).set_index("CustomerID"),
                       "fixed", "CustomerID", "date", "amount"),
    }
    for name, (frame, fmt, customer, time, amount) in cases.items():
        path = tmp_path / f"{name}.h5"
        frame.to_hdf(path, key="tx", format=fmt)
        flat = frame.reset_index()
        cid = flat[customer or "Kundennr_\u00fc"]
        day = (flat[time].dt.tz_localize(None) if flat[time].dt.tz else flat[time]) \
            .values.astype("datetime64[D]").astype(np.int64)
        g = pd.DataFrame({"c": cid, "day": day, "a": flat[amount]}).groupby("c")
        ref = pd.DataFrame({"recency": day.max() + 1 - g.day.max(), "frequency": g.size(),
                            "monetary": g.a.sum()})
        if customer:  # info names the log (the umlaut's name is no customer word)
            logs = [o for o in info(path).values() if o["use"] == "transactions"]
            assert len(logs) == 1, (name, info(path))
            args = [str(tmp_path / "o.h5") if a == "OUT.h5" else a for a in command(logs[0])]
        else:
            args = ["strata", "rfm", str(path), "--table", "/tx", "--customer",
                    "Kundennr_\u00fc", "--time", "date", "--amount", "amount", "-o",
                    str(tmp_path / "o.h5")]
        r = run(*args[1:], "--force", "--quiet")
        assert r.returncode == 0, (name, r.stderr)
        with h5py.File(tmp_path / "o.h5") as f:
            assert list(f["customer_id"][()]) == list(ref.index), name
            for col in ref:
                assert np.allclose(f[col][()], ref[col].to_numpy(), rtol=1e-12), (name, col)
    # a comma in a name: one column in the JSON, no command naming half of it
    log.rename(columns={"amount": "amount, EUR"}).to_hdf(tmp_path / "comma.h5", key="tx")
    o = info(tmp_path / "comma.h5")["/tx"]
    assert o["columns"] == ["amount, EUR"] and "--amount amount " not in o["command"]
    # a string customer_id index: no kmeans suggestion that fails, and the
    # reader's refusal says how to go without a key
    feats = pd.DataFrame({"spend": np.arange(20.0), "orders": np.arange(20) % 7},
                         index=pd.Index([f"C{i}" for i in range(20)], name="customer_id"))
    feats.to_hdf(tmp_path / "strkey.h5", key="customers")
    assert all(o["command"] == "" for o in info(tmp_path / "strkey.h5").values())
    r = run("kmeans", tmp_path / "strkey.h5", "--table", "/customers", "-k", 2, "-o",
            tmp_path / "k.h5")
    assert r.returncode == 1 and "--key none" in r.stderr, r.stderr
    assert run("kmeans", tmp_path / "strkey.h5", "--table", "/customers", "-k", 2, "--key",
               "none", "-o", tmp_path / "k.h5").returncode == 0


def test_deep_groups_say_they_are_cut(tmp_path):
    """Below 16 levels the listing stops; the last group listed says so (it
    showed as an empty group)."""
    path = tmp_path / "deep.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("/".join(f"g{i}" for i in range(40)) + "/deep", data=[1, 2, 3])
    objs = info(path)
    cut = [p for p, o in objs.items() if "not listed" in o["type"]]
    assert len(cut) == 1 and objs[cut[0]]["kind"] == "group"
    assert "not listed: deeper than 16 levels" in run("info", path).stdout


def test_fixed_frame_blocks_are_no_inputs(tmp_path):
    """A pandas fixed frame is one table; its blocks (the columns of one dtype:
    ids and days in one, amounts with NaN in another) were each offered as a
    k-means matrix, and the amounts' command failed as printed."""
    path = tmp_path / "tx.h5"
    p = run("gen", "transactions", "-o", path, "--customers", 100, "--layout", "pandas")
    assert p.returncode == 0, p.stderr
    objs = info(path)
    assert {o["use"] for p, o in objs.items() if p.startswith("/tx/")} == {"none"}
    assert objs["/tx"]["use"] == "transactions"


@pytest.mark.parametrize("data_columns", [False, True])
def test_pandas_categories_are_no_table(tmp_path, data_columns):
    """A categorical column of a table-format frame keeps its categories in a
    table of its own (P/meta/X/meta/table); numbers there were offered as a
    k-means input (`--table /df/meta/values_block_1/meta/table`)."""
    pytest.importorskip("tables")
    df = pd.DataFrame({"a": np.arange(10.0), "grade": pd.Categorical([1, 2] * 5),
                       "c": np.arange(10)})
    df.to_hdf(tmp_path / "cat.h5", key="df", format="table", data_columns=data_columns or None)
    objs = info(tmp_path / "cat.h5")
    meta = [p for p in objs if p.endswith("/meta/table")]
    assert meta and all(objs[p]["use"] == "none" for p in meta)
    tables = [p for p, o in objs.items() if o["use"] == "table"]
    assert tables == ["/df/table"] and objs["/df/table"]["columns"] == ["a", "c"]


def test_strata_outputs(files, tmp_path):
    tx = ["--customer", "/c", "--time", "/t", "--amount", "/a"]
    assert run("kmeans", f"{files}/h5py.h5:/gz", "-k", 3, "-o", tmp_path / "km.h5").returncode == 0
    assert run("rfm", files / "tx.h5", *tx, "-o", tmp_path / "rfm.h5").returncode == 0
    assert run("tiers", files / "tx.h5", *tx, "-k", 3, "-o", tmp_path / "tiers.h5").returncode == 0
    km = info(tmp_path / "km.h5")
    check_against_h5py(tmp_path / "km.h5", km)
    assert km["/labels"]["type"] == "int32" and km["/labels"]["shape"] == [1000]
    assert km["/centroids"]["shape"] == [3, 3] and km["/"]["use"] == "none"
    rfm = info(tmp_path / "rfm.h5")
    check_against_h5py(tmp_path / "rfm.h5", rfm)
    assert rfm["/"]["use"] == "table"  # the documented predict / kmeans input --table /
    assert "recency" in rfm["/"]["columns"] and rfm["/"]["key"] == "customer_id"
    tiers = info(tmp_path / "tiers.h5")
    check_against_h5py(tmp_path / "tiers.h5", tiers)
    assert tiers["/"]["use"] == "tiering" and "strata migrate" in tiers["/"]["command"]
    assert tiers["/model"]["use"] == "model" and "strata predict" in tiers["/model"]["command"]
    # migrate and predict run as suggested
    r = run("migrate", tmp_path / "tiers.h5", tmp_path / "tiers.h5")
    assert r.returncode == 0, r.stderr
    text = run("info", tmp_path / "tiers.h5")
    assert text.returncode == 0 and "-> model: strata predict" in text.stdout
    assert "-> tiering: strata migrate" in text.stdout


@pytest.mark.parametrize("content, message", [
    (None, "No such file or directory"),
    (b"not an hdf5 file at all", "is not an HDF5 file"),
    ("truncated", "truncated file"),
])
def test_bad_files(files, tmp_path, content, message):
    path = tmp_path / "bad.h5"
    if content == "truncated":
        path.write_bytes((files / "tx.h5").read_bytes()[:3000])
    elif content is not None:
        path.write_bytes(content)
    for extra in ([], ["--json"]):
        p = run("info", path, *extra)
        assert p.returncode == 1 and p.stdout == ""
        assert p.stderr.startswith("strata: error:") and message in p.stderr
        assert p.stderr.count("\n") == 1


def test_file_libhdf5_loops_on_is_stopped(tmp_path):
    """A global heap whose size field overstates it (one byte changed) makes
    libhdf5 loop for ever reading the root's string attribute (it parses the
    zeros after the heap as free space of size 0). info, which only reads
    metadata, is stopped once it has computed for the limit without reading
    (20 s; 2 here) with an error: it ran until killed. A file that only
    waits for its disk is not stopped (no CPU used)."""
    good, bad = tmp_path / "g.h5", tmp_path / "b.h5"
    with h5py.File(good, "w") as f:
        f.attrs["root"] = "r"
        f["z"] = np.zeros(1000)
    raw = bytearray(good.read_bytes())
    at = raw.find(b"GCOL")
    assert at > 0 and raw[at + 8:at + 10] == b"\x00\x10"  # a 4096-byte collection
    raw[at + 8] = 0xF8  # 4344 bytes: past its free space, into the zeros of /z
    bad.write_bytes(bytes(raw))
    env = dict(os.environ, STRATA_SPIN_LIMIT_S="2")
    for extra in ([], ["--json"]):
        p = subprocess.run([CLI, "info", str(bad), *extra], capture_output=True, text=True,
                           timeout=120, env=env)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert "without reading its input" in p.stderr and "damaged file" in p.stderr
    p = subprocess.run([CLI, "info", str(good)], capture_output=True, text=True, timeout=120,
                       env=env)
    assert p.returncode == 0 and "@root = r" in p.stdout


def test_usage(files):
    assert run("info").returncode == 2
    assert run("info", files / "tx.h5", "--bogus").returncode == 2
    assert run("info", files / "tx.h5", files / "tx.h5").returncode == 2
    h = run("info", "--help")
    assert h.returncode == 0 and "strata info FILE.h5" in h.stdout
    # FILE:/dataset, as the other commands take it: said what to type
    p = run("info", f"{files}/tx.h5:/c")
    assert p.returncode == 1 and f"lists a whole file: strata info {files}/tx.h5" in p.stderr


def test_provenance_on_every_output(files, tmp_path):
    """Every output names the library version and the time of the write
    (ISO-8601 UTC), its input, and the parameters of the run."""
    import datetime
    tx = ["--customer", "/c", "--time", "/t", "--amount", "/a"]
    with h5py.File(files / "named.h5", "w") as f:  # a matrix with its column names
        f["x"] = np.random.default_rng(3).normal(size=(300, 2))
        f["x"].attrs["feature_names"] = ["recency", "spend"]
    gen = ["gen", "blobs", "-o", tmp_path / "gen 1.h5", "--n", 500, "--d", 3, "--k", 2,
           "--seed", 11]
    assert run(*gen).returncode == 0
    t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    runs = {
        "km": ["kmeans", f"{files}/h5py.h5:/gz", "-k", 3, "--seed", 7, "--n-init", 2,
               "--max-iter", 50, "--tol", "1e-3", "--init", "random"],
        "kmt": ["kmeans", files / "h5py.h5", "--table", "/feats", "-k", 2],
        "kmb": ["kmeans", f"{files}/named.h5:/x", "-k", 2, "--algorithm", "minibatch",
                "--batch-size", 100, "--memory", "64M"],
        "kma": ["kmeans", f"{files}/named.h5:/x", "-k", 2, "--init", "afk-mc2",
                "--chain-length", 30],
        "rfm": ["rfm", files / "tx.h5", *tx, "--bins", 4],
        "rfmr": ["rfm", files / "tx.h5", *tx, "--min-day", 18010, "--max-day", 18390,
                 "--min-id", 3, "--memory", "40M"],
        "kmi": ["kmeans", f"{files}/h5py.h5:/gz", "-k", 3, "--init",
                f"{tmp_path}/km.h5:/centroids"],  # km's, written before
        "sweep": ["sweep", f"{files}/h5py.h5:/gz", "-k", "2:3", "--seed", 5],
        "tiers": ["tiers", files / "tx.h5", *tx, "-k", 3],
    }
    for name, args in runs.items():
        p = run(*args, "-o", tmp_path / f"{name}.h5")
        assert p.returncode == 0, (name, p.stderr)
    p = run("predict", tmp_path / "tiers.h5", tmp_path / "tiers.h5", "--table", "/rfm", "-o",
            tmp_path / "predict.h5")
    assert p.returncode == 0, p.stderr
    assert run("migrate", tmp_path / "tiers.h5", tmp_path / "predict.h5", "-o",
               tmp_path / "migrate.h5").returncode == 0
    t1 = datetime.datetime.now(datetime.timezone.utc)
    for name in [*runs, "predict", "migrate"]:
        with h5py.File(tmp_path / f"{name}.h5") as f:
            a = f.attrs
            assert a["strata_version"] == run("--version").stdout.split()[1], name
            created = a["created"]
            created = created.decode() if isinstance(created, bytes) else created
            when = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc)
            assert t0 - datetime.timedelta(seconds=1) <= when <= t1, (name, created)
            assert "source" in a and a["source"], name
            # per-row outputs are chunked and gzip-compressed, small ones too
            # (16 KiB and less stayed contiguous), doubles too (they were not)
            for key in ("labels", "tier", "segment", "customer_id", "stage", "move",
                        "old_tier"):
                if key in f and len(f[key]):
                    assert f[key].chunks and f[key].compression == "gzip", (name, key)
            rows = next((len(f[k]) for k in ("customer_id", "labels") if k in f), -1)
            per_row = []
            f.visititems(lambda k, o: per_row.append(k) if isinstance(o, h5py.Dataset) and
                         o.shape and o.shape[0] == rows and o.dtype.kind == "f" else None)
            for key in per_row:
                assert f[key].chunks and f[key].compression == "gzip", (name, key)
            if name in ("rfm", "tiers"):
                assert per_row, name
    with h5py.File(tmp_path / "km.h5") as f:
        a = f.attrs
        assert (a["k"], a["seed"], a["n_init"], a["max_iter"]) == (3, 7, 2, 50)
        assert a["tol"] == 1e-3 and a["init"] == "random" and a["algorithm"] == "lloyd"
        assert a["source"] == f"{files}/h5py.h5:/gz"
    with h5py.File(tmp_path / "kmt.h5") as f:
        assert [s.decode() for s in f["feature_names"][()]] == ["recency", "spend"]
        assert f.attrs["init"] == "k-means++" and f.attrs["n_init"] == 1
    with h5py.File(tmp_path / "rfm.h5") as f:
        assert f.attrs["bins"] == 4 and f.attrs["source"].startswith(str(files / "tx.h5"))
        assert (f.attrs["min_id"], f.attrs["memory"]) == (0, 0)
    with h5py.File(tmp_path / "rfmr.h5") as f:  # the valid ranges and budget given
        a = f.attrs
        assert (a["min_day"], a["max_day"], a["min_id"], a["memory"]) == (18010, 18390, 3,
                                                                          40 << 20)
    with h5py.File(tmp_path / "kmi.h5") as f:  # which file the given centroids came from
        assert f.attrs["init"] == "centroids"
        assert f.attrs["init_centroids"] == f"{tmp_path}/km.h5:/centroids"
    with h5py.File(tmp_path / "km.h5") as f:
        assert "init_centroids" not in f.attrs
    with h5py.File(tmp_path / "migrate.h5") as f:  # both tierings compared
        a = f.attrs
        assert (a["old_tiering"], a["new_tiering"]) == (str(tmp_path / "tiers.h5"),
                                                        str(tmp_path / "predict.h5"))
        assert a["source"] == f"{tmp_path / 'tiers.h5'} -> {tmp_path / 'predict.h5'}"
    with h5py.File(tmp_path / "sweep.h5") as f:
        assert (f.attrs["seed"], f.attrs["n_init"]) == (5, 1)
        assert (f.attrs["k_min"], f.attrs["k_max"], f.attrs["sample"]) == (2, 3, 10000)
    for name in ("kmb", "kma"):  # a matrix's feature_names go with the model
        with h5py.File(tmp_path / f"{name}.h5") as f:
            assert [s.decode() for s in f["feature_names"][()]] == ["recency", "spend"]
    with h5py.File(tmp_path / "kmb.h5") as f:  # parameters only where the fit used them
        assert (f.attrs["batch_size"], f.attrs["memory"]) == (100, 64 << 20)
        assert "chain_length" not in f.attrs
    with h5py.File(tmp_path / "kma.h5") as f:
        assert f.attrs["chain_length"] == 30 and "batch_size" not in f.attrs
        assert "memory" not in f.attrs
    with h5py.File(tmp_path / "tiers.h5") as f:
        a = f.attrs
        assert (a["k"], a["k_min"], a["k_max"], a["seed"], a["n_init"]) == (3, 3, 3, 0, 3)
        assert (a["new_days"], a["active_days"], a["lost_days"]) == (30, 90, 365)
        assert (a["features"], a["tiers"]) == ("recency,frequency,monetary", "high,mid,low")
        assert (a["transform"], a["init"], a["value"], a["memory"]) == ("auto", "k-means++",
                                                                        "rfm", 0)
    with h5py.File(tmp_path / "predict.h5") as f:  # the model applied, and the rows
        assert f.attrs["model"] == f"{tmp_path / 'tiers.h5'}:/model"
    with h5py.File(tmp_path / "gen 1.h5") as f:  # the command, quoted: it makes the file again
        command = f.attrs["command"]
        x = f["x"][()]
    assert command == "strata gen blobs -o " + shlex.quote(str(tmp_path / "gen 1.h5")) + \
        " --n 500 --d 3 --k 2 --seed 11"
    args = shlex.split(command)[1:]
    assert run(*args[:3], tmp_path / "again.h5", *args[4:]).returncode == 0
    with h5py.File(tmp_path / "again.h5") as f:
        assert np.array_equal(f["x"][()], x)


def test_links_back_to_a_group_are_not_followed(tmp_path):
    path = tmp_path / "cycle.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("a")
        g["x"] = np.arange(3)
        g["self"] = g        # a hard link to itself
        f["again"] = g       # a second name for the same group
        f["root"] = f["/"]   # the root under itself
        f["soft"] = h5py.SoftLink("/a/x")
    objs = info(path)
    assert objs["/a/self"]["kind"] == "other" and "enclosing group" in objs["/a/self"]["type"]
    assert objs["/root"]["kind"] == "other"
    assert objs["/again/x"]["shape"] == [3]  # another name of a group is listed under it too
    assert objs["/soft"]["kind"] == "other" and objs["/soft"]["type"] == "soft link to /a/x"
    assert len(objs) == 9


def test_link_targets_and_null_dataspaces(tmp_path):
    """Links say where they point, dangling or not, without being followed;
    a dataset with a null dataspace says it holds no values."""
    path = tmp_path / "links.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.zeros((5, 2))
        f["dangling"] = h5py.SoftLink("/nope")
        f["ext"] = h5py.ExternalLink("other file.h5", "/y")
        f.create_dataset("null", data=h5py.Empty("f8"))
        deep = "/" + "/".join(["level%02d" % i for i in range(300)])  # 2,400 bytes
        f["long"] = h5py.SoftLink(deep)
        f["long_ext"] = h5py.ExternalLink("far.h5", deep)
    objs = info(path)
    # targets of any length (those over ~1 KB showed none)
    assert objs["/long"]["type"] == "soft link to " + deep
    assert objs["/long_ext"]["type"] == "external link to far.h5:" + deep
    assert objs["/dangling"]["type"] == "soft link to /nope"
    assert objs["/ext"]["type"] == "external link to other file.h5:/y"
    assert objs["/null"]["type"] == "float64 (null dataspace: no values)"
    assert objs["/null"]["shape"] is None
    text = run("info", path).stdout
    assert "dangling  (soft link to /nope)" in text and "null dataspace" in text


def test_suggestions_run_as_printed(tmp_path):
    """Every suggested command runs when pasted into a shell, names with
    spaces and quotes included; no command for what no reader takes (no
    rows, an lzf filter this HDF5 cannot decode, an empty pandas frame), a k
    range the rows allow, and pandas' index never offered as an RFM column."""
    d = tmp_path / "a dir"
    d.mkdir()
    path = d / "it's (1).h5"
    rng = np.random.default_rng(4)
    with h5py.File(path, "w") as f:
        f["small"] = rng.normal(size=(5, 2))
        f["two rows"] = rng.normal(size=(2, 2))
        f["we'ird"] = rng.normal(size=(30, 2))
        f.create_dataset("empty", shape=(0, 4))
        f.create_dataset("lzf", data=rng.normal(size=(100, 3)), compression="lzf")
        g = f.create_group("my tx")
        g["customer_id"], g["day"] = rng.integers(0, 5, 40), rng.integers(0, 30, 40)
        g["amount"] = rng.gamma(2, 3, 40) + 0.01
        f["be"] = rng.normal(size=(20, 2)).astype(">f8")
        f["x"] = rng.normal(size=(3, 2))
        f["x"].attrs["big"] = np.uint64(2**64 - 1)
        f["x"].attrs["third"] = 1 / 3
    tx = pd.DataFrame({"customer_id": np.arange(30), "day": np.arange(30) * 7 % 30,
                       "amount": np.arange(30.0)})
    tx.set_index("customer_id").to_hdf(d / "indexed.h5", key="tx")
    tx.iloc[:0].to_hdf(d / "empty.h5", key="e", format="fixed")
    objs = info(path)
    assert objs["/x"]["attributes"]["big"] == "18446744073709551615"  # not clipped to int64
    assert float(objs["/x"]["attributes"]["third"]) == 1 / 3  # every digit that counts
    for p in ("/empty", "/lzf"):
        assert (objs[p]["use"], objs[p]["command"]) == ("none", ""), p
    # why no command: the filter cannot be applied here; and the byte order
    assert objs["/lzf"]["filters"] == ["filter32000(lzf) (not available to this HDF5 library)"]
    assert objs["/be"]["type"] == "float64 big-endian" and objs["/be"]["use"] == "matrix"
    assert objs["/my tx"]["use"] == "transactions"
    assert "-k 2:4" in objs["/small"]["hint"]
    assert "sweep" not in objs["/two rows"]["hint"] + objs["/two rows"]["command"]
    assert "sweep" in objs["/we'ird"]["hint"] and "-k 2:10" in objs["/we'ird"]["hint"]
    assert objs["/my tx"]["hint"] == "or strata tiers with the same columns"
    empty = info(d / "empty.h5")
    assert all(o["command"] == "" for o in empty.values())
    indexed = info(d / "indexed.h5")
    # a log whose customer id is the frame's index: strata rfm reads it by that name
    assert indexed["/tx"]["use"] == "transactions"
    commands = [o for o in [*objs.values(), *indexed.values()] if o["command"]]
    assert len(commands) >= 6
    for o in commands:
        lines = [o["command"]]  # the command, and the sweep it suggests
        if o["hint"].startswith("choose K: "):
            lines.append(o["hint"][len("choose K: "):])
        for line in lines:
            args = ["2" if a == "K" else str(tmp_path / "o.h5") if a == "OUT.h5" else a
                    for a in shlex.split(line)]
            assert args[0] == "strata", line
            r = run(*args[1:], *(["--force"] if "-o" in args else []), cwd=d)
            assert r.returncode == 0, (line, r.stderr)
    text = run("info", path)  # names print as shell words: no raw control characters
    assert text.returncode == 0 and "'/my tx/customer_id'" in text.stdout


def test_no_commands_for_summaries_and_safe_file_names(files, tmp_path):
    """strata's own summary tables (profiles, edges, sweep, transform, the
    model's centroids: another length than the customers) were offered to
    kmeans, which failed on their NaN means; a file named -x.h5 was offered
    as '-x.h5', which kmeans took for options; a table's sweep rated k on
    scaled columns (its default for tables) while kmeans clusters raw ones."""
    tx = ["--customer", "/c", "--time", "/t", "--amount", "/a"]
    out = tmp_path / "tiers.h5"
    p = run("tiers", files / "tx.h5", *tx, "-k", 3, "-o", out)
    assert p.returncode == 0, p.stderr
    objs = info(out)
    with h5py.File(out) as f:
        customers = len(f["customer_id"])
    offered = {path for path, o in objs.items() if o["command"].startswith("strata kmeans")}
    assert "/rfm" in offered  # per-customer: a kmeans input
    for path in offered:
        with h5py.File(out) as f:
            obj = f[path]
            rows = obj.shape[0] if isinstance(obj, h5py.Dataset) else len(next(iter(obj.values())))
        assert rows == customers, path
    assert not any(objs[p]["command"] for p in objs if p.startswith(("/profile", "/tier_profile",
                                                                      "/model/")))
    # nor a strata output's root: a migration's codes (it was offered to kmeans)
    mig = tmp_path / "mig.h5"
    assert run("migrate", out, out, "-o", mig).returncode == 0
    assert info(mig)["/"]["command"] == ""
    assert info(out)["/"]["command"].startswith("strata migrate")
    # but an RFM output's root is offered with its three values as the
    # features, as strata kmeans --help shows (it got no command)
    rfm = tmp_path / "rfm.h5"
    assert run("rfm", files / "tx.h5", *tx, "-o", rfm).returncode == 0
    root = info(rfm)["/"]
    assert root["command"] == (f"strata kmeans {shlex.quote(str(rfm))} --table / --features "
                               "recency,frequency,monetary -k K -o OUT.h5")
    words = ["3" if a == "K" else str(tmp_path / "or.h5") if a == "OUT.h5" else a
             for a in command(root)]
    r = subprocess.run([CLI, *words[1:]], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "or.h5") as f:
        assert [n.decode() for n in f["feature_names"][()]] == ["recency", "frequency",
                                                                "monetary"]
    # nor a CLV table holding customers the model does not (NaN rows, which
    # kmeans refuses); a CLV table without them is offered
    rng = np.random.default_rng(1)
    log = tmp_path / "late.h5"
    with h5py.File(log, "w") as f:
        f["c"] = rng.integers(0, 3000, 20000)
        f["t"] = rng.integers(18000, 18400, 20000)
        f["a"] = np.round(rng.gamma(2.0, 20.0, 20000), 2)
    for end, clv_offered in ((18300, False), (None, True)):
        clv = tmp_path / f"clv{end}.h5"
        args = ["--calibration-end", end] if end else []
        p = run("tiers", log, *tx, "-k", 3, "--clv", *args, "-o", clv)
        assert p.returncode == 0, p.stderr
        with h5py.File(clv) as f:
            assert (f["clv"].attrs["missing"] > 0) == (not clv_offered)
        cmd = info(clv)["/clv"]["command"]
        assert cmd.startswith("strata kmeans") == clv_offered, cmd
        if clv_offered:
            words = shlex.split(cmd.split("  (")[0].replace("-k K", "-k 2").replace(
                "OUT.h5", str(tmp_path / "oc.h5")))
            r = subprocess.run([CLI, *words[1:]], capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
    for path in offered:  # each runs as printed
        words = shlex.split(objs[path]["command"].split("  (")[0].replace("-k K", "-k 2").replace(
            "OUT.h5", str(tmp_path / "o.h5")))
        r = subprocess.run([CLI, *words[1:], "--force"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, (path, r.stderr)
        sweep = objs[path]["hint"].split("choose K: ")[1]
        if "--table" in sweep:
            assert "--transform none" in sweep
    lead = tmp_path / "-lead.h5"
    with h5py.File(lead, "w") as f:
        f["m"] = np.random.default_rng(2).normal(size=(40, 3))
    p = subprocess.run([CLI, "info", "--", "-lead.h5"], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert p.returncode == 0 and "strata kmeans ./-lead.h5:/m -k K" in p.stdout, p.stdout
    cmd = p.stdout.split("-> matrix: ")[1].split("  (")[0].replace("-k K", "-k 2")
    r = subprocess.run([CLI, *shlex.split(cmd)[1:]], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    h = run("sweep", "--help").stdout
    assert "kmeans the same --transform" not in h and "--transform none" in h
    # a pandas frame of one column is a table too (it got no command)
    one = tmp_path / "one.h5"
    pd.DataFrame({"spend": np.arange(20.0)}).to_hdf(one, key="one", format="fixed")
    cmd = info(one)["/one"]["command"]
    assert cmd.startswith("strata kmeans"), cmd
    words = shlex.split(cmd.split("  (")[0].replace("-k K", "-k 2").replace(
        "OUT.h5", str(tmp_path / "o1.h5")))
    r = subprocess.run([CLI, *words[1:]], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "d = 1 features" in r.stdout, r.stderr


def test_empty_output_name(files, tmp_path):
    """-o '' is a usage error before any work (it ran the whole job, then
    failed to rename its temporary to '')."""
    tx = ["--customer", "/c", "--time", "/t", "--amount", "/a"]
    for args in (["kmeans", f"{files}/h5py.h5:/gz", "-k", 2], ["rfm", files / "tx.h5", *tx],
                 ["tiers", files / "tx.h5", *tx, "-k", 2], ["gen", "blobs", "--n", 10]):
        p = run(*args, "-o", "", cwd=tmp_path)
        assert p.returncode == 2 and "output file name is empty" in p.stderr, (args, p.stderr)
    assert os.listdir(tmp_path) == []


def _run_as_printed(line, out, k="2"):
    """A suggested command line run as printed (K and OUT.h5 filled in)."""
    args = [k if a == "K" else str(out) if a == "OUT.h5" else a for a in shlex.split(line)]
    assert args[0] == "strata", line
    return run(*args[1:], *(["--force"] if "-o" in args else []))


def test_bool_columns_are_features(tmp_path):
    """A DataFrame's bool column (is_member) is a 0/1 feature to
    strata.KMeans().fit(df); strata info listed none of them (pandas'
    bitfield, h5py's enum), strata kmeans --table dropped them and refused
    them by name, and a model fitted on them could not predict a file.
    Reference: pandas' df.astype(float), the binding's fit and predict."""
    pytest.importorskip("tables")
    strata = pytest.importorskip("strata")
    rng = np.random.default_rng(5)
    n = 300
    g = rng.integers(0, 3, n)
    df = pd.DataFrame({"spend": g * 40.0 + rng.normal(0, 4, n), "is_member": g == 2,
                       "newsletter": rng.random(n) < 0.4},
                      index=pd.Index(np.arange(n, dtype=np.int64) + 100, name="customer_id"))
    path = tmp_path / "b.h5"
    df.to_hdf(path, key="fixed", format="fixed")
    df.to_hdf(path, key="ptable", format="table")
    with h5py.File(path, "a") as f:
        f["cols/customer_id"] = df.index.to_numpy()
        for c in df:
            f[f"cols/{c}"] = df[c].to_numpy()
    objs = info(path)
    ref = strata.KMeans(3, random_state=0).fit(df)
    for table in ("/fixed", "/ptable/table", "/cols"):
        o = objs[table]
        assert o["use"] == "table", table
        assert sorted(o["columns"]) == sorted(df.columns) and o["key"] == "customer_id", table
        r = _run_as_printed(o["command"], tmp_path / "o.h5", k="3")
        assert r.returncode == 0, (table, r.stderr)
        with h5py.File(tmp_path / "o.h5") as f:
            names = [s.decode() for s in f["feature_names"][()]]
            np.testing.assert_array_equal(f["customer_id"][()], df.index.to_numpy())
            ref = strata.KMeans(3, random_state=0).fit(df[names])
            np.testing.assert_array_equal(f["labels"][()], ref.labels_)
            np.testing.assert_array_equal(f["centroids"][()], ref.cluster_centers_)
    # a model fitted on the bools predicts a file's rows read by name
    tm = strata.TierModel(n_clusters=3, random_state=0, transform="none").fit(df)
    tm.save(tmp_path / "m.h5")
    for table in ("/fixed", "/ptable", "/cols"):
        p = run("predict", tmp_path / "m.h5", path, "--table", table, "-o", tmp_path / "p.h5",
                "--force")
        assert p.returncode == 0, (table, p.stderr)
        with h5py.File(tmp_path / "p.h5") as f:
            np.testing.assert_array_equal(f["labels"][()], tm.predict_labels(df))
            np.testing.assert_array_equal(f["tier"][()], tm.predict(df))


def test_feature_lists_escape_commas_as_info_lists_them(tmp_path):
    """A column named "spend, total" could not be given to --features (the
    list was cut at every comma): a ',' or '\\' within a name is written
    '\\,' or '\\\\', as strata info's lists write it, for --features and
    --columns alike. Reference: the binding's fit on the same columns."""
    pytest.importorskip("tables")
    strata = pytest.importorskip("strata")
    rng = np.random.default_rng(8)
    n = 120
    df = pd.DataFrame({"spend, total": rng.normal(size=n), "a\\b": rng.normal(size=n) * 3,
                       "visits": rng.integers(0, 9, n).astype(np.float64)},
                      index=pd.Index(np.arange(n, dtype=np.int64), name="customer_id"))
    path = tmp_path / "c.h5"
    df.to_hdf(path, key="t", format="table")
    with h5py.File(path, "a") as f:
        for c in df:
            f[f"cols/{c}"] = df[c].to_numpy()
    text = run("info", path).stdout
    listed = [ln.split("columns: ")[1].split(";")[0] for ln in text.splitlines()
              if "columns: " in ln and "customer_id" in ln]
    assert listed == [r"spend\, total,a\\b,visits"], text
    out = tmp_path / "o.h5"
    for args in (["--table", "t", "--features", listed[0]],
                 ["--columns", r"/cols/spend\, total,/cols/a\\b,/cols/visits"]):
        r = run("kmeans", path, *args, "-k", 3, "-o", out, "--force")
        assert r.returncode == 0, (args, r.stderr)
        ref = strata.KMeans(3, random_state=0).fit(df)
        with h5py.File(out) as f:
            assert [s.decode() for s in f["feature_names"][()]] == list(df.columns)
            np.testing.assert_array_equal(f["labels"][()], ref.labels_)
            np.testing.assert_array_equal(f["centroids"][()], ref.cluster_centers_)
    # a backslash before any other character is text: "a\\b" typed raw names
    # the column as it did before the escapes existed (it was read as "ab")
    r = run("kmeans", path, "--table", "t", "--features", "a\\b,visits", "-k", 3, "-o", out,
            "--force")
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        assert [s.decode() for s in f["feature_names"][()]] == ["a\\b", "visits"]
    for bad in ("spend\\, total,", "visits,,a\\\\b", ",visits"):
        r = run("kmeans", path, "--table", "t", "--features", bad, "-k", 2, "-o", out, "--force")
        assert r.returncode == 2 and "empty name" in r.stderr, (bad, r.stderr)
    help_text = run("kmeans", "--help").stdout
    assert "'\\,'" in help_text and "'\\\\'" in help_text


@pytest.mark.parametrize("layout", ["table", "fixed", "group"])
def test_log_with_an_amount_named_otherwise(tmp_path, layout):
    """A log whose amount column has a name strata does not know ("paid")
    was offered to strata kmeans --table, which fails on its repeating
    customer key: its one other column is offered as strata rfm's
    --amount, and the command runs as printed (reference: pandas' groupby);
    with several other columns no command is offered, the hint names them.
    A customer table (a CLV table's T) keeps its kmeans command."""
    if layout != "group":
        pytest.importorskip("tables")
    rng = np.random.default_rng(12)
    n = 400
    log = pd.DataFrame({"customer_id": rng.integers(1, 50, n),
                        "day": rng.integers(18000, 18300, n),
                        "paid": np.round(rng.gamma(2, 20, n), 2) + 0.01})
    two = log.assign(qty=rng.integers(1, 5, n))
    for name, frame in (("one", log), ("two", two)):
        path = tmp_path / f"{name}.h5"
        if layout == "group":
            with h5py.File(path, "w") as f:
                for c in frame:
                    f[f"tx/{c}"] = frame[c].to_numpy()
        else:
            frame.to_hdf(path, key="tx", format=layout)
    objs = info(tmp_path / "one.h5")
    (o,) = [o for o in objs.values() if o["use"] != "none"]
    assert o["use"] == "transactions" and "--amount" in o["command"], o
    assert "kmeans" not in o["command"] and "paid read as the amounts" in o["hint"]
    r = _run_as_printed(o["command"], tmp_path / "r.h5")
    assert r.returncode == 0, r.stderr
    want = log.groupby("customer_id").paid.sum()
    with h5py.File(tmp_path / "r.h5") as f:
        np.testing.assert_array_equal(f["customer_id"][()], want.index.to_numpy())
        np.testing.assert_allclose(f["monetary"][()], want.to_numpy(), rtol=1e-12)
    objs = info(tmp_path / "two.h5")
    (o,) = [o for o in objs.values() if o["use"] != "none"]
    assert o["use"] == "transactions" and o["command"] == "", o
    assert o["hint"].endswith("--amount one of its other columns: paid, qty"), o
    text = run("info", tmp_path / "two.h5").stdout
    assert "-> transactions: a transaction log (customer customer_id, time day)" in text, text
    cust = tmp_path / "cust.h5"  # per customer: T is no purchase time
    with h5py.File(cust, "w") as f:
        f["c/customer_id"], f["c/T"] = np.arange(50), rng.uniform(1, 50, 50)
        f["c/x"], f["c/zbar"] = rng.integers(0, 9, 50), rng.uniform(5, 50, 50)
    assert info(cust)["/c"]["command"].startswith("strata kmeans")


def test_pandas_fixed_multiindex_log(tmp_path):
    """A transaction log indexed by (customer_id, date) and written in
    pandas' fixed format was not read at all (table format was): strata info
    now lists it as table format's (amount a column, customer_id the key,
    date a date), and the strata rfm it prints reads the levels as
    --customer and --time: pandas' per-customer aggregates."""
    pytest.importorskip("tables")
    rng = np.random.default_rng(31)
    n = 500
    log = pd.DataFrame({"customer_id": rng.integers(1, 60, n),
                        "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(
                            rng.integers(0, 300 * 86400, n), unit="s"),
                        "amount": np.round(rng.gamma(2, 25, n), 2) + 0.01})
    path = tmp_path / "mi.h5"
    log.set_index(["customer_id", "date"]).to_hdf(path, key="fixed", format="fixed")
    log.set_index(["customer_id", "date"]).to_hdf(path, key="tx", format="table")
    objs = info(path)
    fixed, table = objs["/fixed"], objs["/tx/table"]
    for o in (fixed, table):
        assert o["use"] == "transactions", o
        assert (o["columns"], o["key"], o["dates"]) == (["amount"], "customer_id", ["date"]), o
    assert fixed["command"] == (f"strata rfm {shlex.quote(str(path))} --table /fixed --customer "
                                "customer_id --time date --amount amount -o OUT.h5")
    outs = []
    for o in (fixed, table):
        outs.append(tmp_path / f"r{len(outs)}.h5")
        r = _run_as_printed(o["command"], outs[-1])
        assert r.returncode == 0, r.stderr
    days = log.date.values.astype("datetime64[D]").astype(np.int64)
    want = log.assign(day=days).groupby("customer_id").agg(
        last=("day", "max"), rows=("day", "size"), spend=("amount", "sum"))
    with h5py.File(outs[0]) as f, h5py.File(outs[1]) as g:
        np.testing.assert_array_equal(f["customer_id"][()], want.index.to_numpy())
        np.testing.assert_array_equal(f["frequency"][()], want.rows.to_numpy())
        np.testing.assert_array_equal(f["recency"][()], days.max() + 1 - want["last"].to_numpy())
        np.testing.assert_allclose(f["monetary"][()], want.spend.to_numpy(), rtol=1e-12)
        for k in ("customer_id", "recency", "frequency", "monetary", "segment"):
            np.testing.assert_array_equal(f[k][()], g[k][()])
