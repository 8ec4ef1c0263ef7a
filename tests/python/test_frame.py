"""Customer tables in (issue 11, "frames"): strata.read_frame through the C
readers against the numpy / pandas values that wrote each layout, names,
key detection (incl. the output of `strata rfm`), every bad-input case, and
KMeans on DataFrames.

pandas' to_hdf needs PyTables; its layouts are skipped without it. The rfm
case needs $STRATA_CLI (set by CTest)."""

import os
import subprocess

import numpy as np
import pytest

import strata
from strata.errors import ArgumentError, FileError

h5py = pytest.importorskip("h5py")
pd = pytest.importorskip("pandas")
try:
    import tables  # noqa: F401
    HAVE_TABLES = True
except ImportError:
    HAVE_TABLES = False
needs_tables = pytest.mark.skipif(not HAVE_TABLES, reason="PyTables missing: no pandas to_hdf")
CLI = os.environ.get("STRATA_CLI")

N = 40
NAMES = ["recency", "frequency", "monetary"]


@pytest.fixture
def data():
    """Mixed dtypes: float recency, int frequency, float monetary; shuffled ids."""
    rng = np.random.default_rng(3)
    ids = rng.permutation(np.arange(10_000, 10_000 + N)).astype(np.int64)
    rec = rng.uniform(1, 365, N)
    freq = rng.integers(1, 50, N).astype(np.int64)
    mon = np.round(rng.lognormal(4, 1, N), 2)
    df = pd.DataFrame({"customer_id": ids, "recency": rec, "frequency": freq, "monetary": mon})
    return df


def expect(got, df, key=True):
    want = df[NAMES].astype(np.float64)
    assert list(got.columns) == NAMES
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    if key:
        assert got.index.name == "customer_id"
        np.testing.assert_array_equal(got.index.to_numpy(), df["customer_id"].to_numpy())
    else:
        assert got.index.name is None
        np.testing.assert_array_equal(got.index.to_numpy(), np.arange(len(df)))


# -- layouts --------------------------------------------------------------

def test_columns_h5py(tmp_path, data):
    path = tmp_path / "c.h5"
    with h5py.File(path, "w") as f:
        for c in data.columns:
            f[f"/customers/{c}"] = data[c].to_numpy()
        f["/customers/label"] = np.zeros(N, np.int32)
    cols = [f"/customers/{c}" for c in NAMES]
    expect(strata.read_frame(path, columns=cols), data)              # customer_id beside them
    expect(strata.read_frame(path, columns=cols, key=False), data, key=False)
    with pytest.raises(ArgumentError, match="key 'label' repeats: 0 in rows 0 and 1"):
        strata.read_frame(path, columns=cols, key="label")  # a name beside the first column
    got = strata.read_frame(path, columns=cols[:2], key="/customers/customer_id")
    assert list(got.columns) == NAMES[:2] and got.index.name == "customer_id"


def test_customer_id_of_other_length_is_not_a_key(tmp_path, data):
    path = tmp_path / "c.h5"
    with h5py.File(path, "w") as f:
        for c in NAMES:
            f[c] = data[c].to_numpy()
        f["customer_id"] = np.arange(N + 1)
    expect(strata.read_frame(path, columns=NAMES), data, key=False)


def test_compound_h5py(tmp_path, data):
    path = tmp_path / "t.h5"
    rec = np.zeros(N, dtype=[("customer_id", "<i8"), ("recency", "<f8"), ("segment", "S8"),
                             ("frequency", "<i4"), ("monetary", "<f4")])
    for c in ["customer_id", "recency", "frequency"]:
        rec[c] = data[c]
    rec["monetary"] = data["monetary"].astype(np.float32)
    rec["segment"] = b"x"
    with h5py.File(path, "w") as f:
        f["/t"] = rec
    got = strata.read_frame(path, table="/t")  # every numeric field but the key, in order
    assert list(got.columns) == NAMES
    np.testing.assert_array_equal(got["monetary"], rec["monetary"].astype(np.float64))
    np.testing.assert_array_equal(got["recency"], data["recency"])
    np.testing.assert_array_equal(got.index, data["customer_id"])
    got = strata.read_frame(path, table="/t", columns=["frequency"], key=False)
    np.testing.assert_array_equal(got["frequency"], data["frequency"].astype(float))


def test_group_of_datasets(tmp_path, data):
    path = tmp_path / "g.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("c")
        for c in data.columns:
            g[c] = data[c].to_numpy()
        g["name"] = np.array([b"a"] * N)  # not numeric: skipped
        g.create_group("sub")
    got = strata.read_frame(path, table="/c")
    assert sorted(got.columns) == sorted(NAMES)  # by name: frequency, monetary, recency
    expect(got[NAMES], data)
    expect(strata.read_frame(path, table="/c", columns=NAMES), data)


def test_matrix_names(tmp_path, data):
    path = tmp_path / "m.h5"
    X = data[NAMES].to_numpy(np.float64)
    with h5py.File(path, "w") as f:
        f["plain"] = X
        f["named"] = X
        f["named"].attrs["feature_names"] = NAMES
        f["cols"] = X.astype(np.float32)
        f["cols"].attrs["columns"] = np.array([n.encode() for n in NAMES])
        f["wrong"] = X
        f["wrong"].attrs["feature_names"] = ["a", "b"]
    got = strata.read_frame(path, dataset="/plain")
    assert list(got.columns) == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(got.to_numpy(), X)
    expect(strata.read_frame(path, dataset="/named"), data, key=False)
    got = strata.read_frame(path, dataset="/cols")
    assert list(got.columns) == NAMES
    np.testing.assert_array_equal(got.to_numpy(), X.astype(np.float32).astype(np.float64))
    with pytest.raises(FileError, match="must hold 3 strings"):
        strata.read_frame(path, dataset="/wrong")


@needs_tables
@pytest.mark.parametrize("fmt", ["fixed", "table", "table_dc"])
@pytest.mark.parametrize("indexed", [False, True])
def test_pandas(tmp_path, data, fmt, indexed):
    path = tmp_path / "p.h5"
    df = data.set_index("customer_id") if indexed else data
    df = df.assign(segment="s")  # a string column is no feature
    kwargs = {"format": "table", "data_columns": True} if fmt == "table_dc" else {"format": fmt}
    df.to_hdf(path, key="customers", **kwargs)
    got = strata.read_frame(path, table="/customers")
    expect(got, data)  # the column or the index named customer_id is the key
    got = strata.read_frame(path, table="customers", columns=["monetary", "recency"], key=False)
    assert list(got.columns) == ["monetary", "recency"]
    np.testing.assert_array_equal(got.to_numpy(), data[["monetary", "recency"]].to_numpy())
    with pytest.raises(FileError, match="segment.*string"):
        strata.read_frame(path, table="/customers", columns=["segment"])
    with pytest.raises(FileError, match="nope"):
        strata.read_frame(path, table="/customers", columns=["nope"])


@needs_tables
def test_pandas_unnamed_index_is_no_key(tmp_path, data):
    path = tmp_path / "p.h5"
    data[NAMES].to_hdf(path, key="c", format="table")
    expect(strata.read_frame(path, table="/c"), data, key=False)


@needs_tables
@pytest.mark.parametrize("fmt", ["fixed", "table", "table_dc"])
def test_pandas_dates_durations_categories_are_no_features(tmp_path, data, fmt):
    """pandas stores datetime64 and timedelta64 as int64 nanoseconds and a
    categorical as its codes: read as numbers they would swamp every other
    feature (a date weighs ~1.6e18). They are left out of the default
    features and refused by name, naming the column and what it holds."""
    path = tmp_path / "p.h5"
    df = data.assign(joined=pd.date_range("2020-01-01", periods=N, freq="D"),
                     tenure=pd.to_timedelta(np.arange(N), unit="D"))
    if fmt != "fixed":  # pandas cannot store a categorical in the fixed format
        df = df.assign(channel=pd.Categorical(np.where(np.arange(N) % 3, "web", "shop")))
    kwargs = {"format": "table", "data_columns": True} if fmt == "table_dc" else {"format": fmt}
    df.to_hdf(path, key="customers", **kwargs)
    expect(strata.read_frame(path, table="/customers"), data)
    kinds = [("joined", "datetime64", "days since a date"), ("tenure", "timedelta64", "days")]
    if fmt != "fixed":
        kinds.append(("channel", "categorical", "0/1 column"))
    for column, kind, hint in kinds:
        with pytest.raises(FileError, match=f"'{column}'.*pandas {kind} values.*{hint}"):
            strata.read_frame(path, table="/customers", columns=["recency", column])
    if CLI:  # the program takes the same features
        out = tmp_path / "o.h5"
        p = subprocess.run([CLI, "kmeans", str(path), "--table", "customers", "-k", "2", "-o",
                            str(out)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert "features: recency, frequency, monetary" in p.stdout
        p = subprocess.run([CLI, "kmeans", str(path), "--table", "customers", "--features",
                            "monetary,joined", "-k", "2", "-o", str(out), "--force"],
                           capture_output=True, text=True)
        assert p.returncode == 1 and "'joined'" in p.stderr and "datetime64" in p.stderr


@needs_tables
@pytest.mark.parametrize("fmt", ["fixed", "table", "table_dc"])
def test_pandas_keys_and_log_columns_must_be_plain(tmp_path, data, fmt):
    """A key (or an RFM customer, time or amount column) pandas stored as
    category codes or int64 nanoseconds is refused, naming the column and
    what it holds: read as numbers, the ids were the codes 0, 1, ... and
    the amounts summed codes. A date as the time says how to convert it."""
    kwargs = {"format": "table", "data_columns": True} if fmt == "table_dc" else {"format": fmt}
    cases = [("customer_id", pd.Categorical(data["customer_id"] * 10), "categorical"),
             ("customer_id", pd.to_datetime(data["customer_id"], unit="D"), "datetime64")]
    for column, values, kind in cases:
        if kind == "categorical" and fmt == "fixed":
            continue  # pandas cannot store a categorical in the fixed format
        path = tmp_path / f"{kind}.h5"
        data.assign(**{column: values}).to_hdf(path, key="c", **kwargs)
        with pytest.raises(FileError, match=f"'customer_id' \\(the key\\).*pandas {kind}"):
            strata.read_frame(path, table="/c")
    if not CLI:
        return
    rng = np.random.default_rng(2)
    m = 300
    log = pd.DataFrame({"customer_id": rng.integers(1, 40, m),
                        "day": rng.integers(18000, 18400, m),
                        "amount": np.round(rng.gamma(2, 30, m), 2)})
    bad = [("day", pd.to_timedelta(log["day"], unit="D"), "timedelta64", "plain numbers")]
    if fmt != "fixed":
        bad += [("amount", pd.Categorical(log["amount"]), "categorical", "plain numbers"),
                ("customer_id", pd.Categorical(log["customer_id"] + 100), "categorical",
                 "plain numbers")]
    for column, values, kind, hint in bad:
        path = tmp_path / f"log_{column}.h5"
        log.assign(**{column: values}).to_hdf(path, key="tx", **kwargs)
        p = subprocess.run([CLI, "rfm", str(path), "--table", "/tx", "--customer", "customer_id",
                            "--time", "day", "--amount", "amount", "-o", str(tmp_path / "r.h5")],
                           capture_output=True, text=True)
        assert p.returncode == 1 and f"'{column}'" in p.stderr and kind in p.stderr, p.stderr
        assert hint in p.stderr and not (tmp_path / "r.h5").exists()


@needs_tables
@pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")
@pytest.mark.parametrize("fmt", ["fixed", "table", "table_dc"])
def test_rfm_reads_pandas_datetimes(tmp_path, fmt):
    """A log pandas wrote with datetime64 times (int64 nanoseconds) gives
    the result of the same log in whole days (or Unix seconds) since
    1970-01-01, floored as Python's strata.rfm converts: times of day,
    dates before 1970 and NaT (a bad time) included, in memory and out of
    core."""
    kwargs = {"format": "table", "data_columns": True} if fmt == "table_dc" else {"format": fmt}
    rng = np.random.default_rng(4)
    m = 2000
    seconds = rng.integers(-400 * 86400, 800 * 86400, m)  # some before 1970
    log = pd.DataFrame({"customer_id": rng.integers(1, 150, m),
                        "day": pd.to_datetime(seconds, unit="s"),
                        "amount": np.round(rng.gamma(2, 30, m), 2)})
    log.loc[5, "day"] = pd.NaT
    log.to_hdf(tmp_path / "dt.h5", key="tx", **kwargs)
    days = np.where(log["day"].isna(), np.nan, seconds // 86400)
    for unit, values in (("days", days), ("seconds", np.where(log["day"].isna(), np.nan,
                                                             seconds))):
        with h5py.File(tmp_path / f"int_{unit}.h5", "w") as f:
            f["customer_id"] = log["customer_id"].to_numpy()
            f["day"] = values  # float: NaN is a bad time, as NaT is
            f["amount"] = log["amount"].to_numpy()
        outs = []
        for name, args in (("dt", [str(tmp_path / "dt.h5"), "--table", "/tx"]),
                           ("int", [str(tmp_path / f"int_{unit}.h5")]),
                           ("dt_ooc", [str(tmp_path / "dt.h5"), "--table", "/tx", "--memory",
                                       str((24 << 20) + 150_000)])):  # spills: 2000 x 100 B
            out = tmp_path / f"out_{name}_{unit}.h5"
            p = subprocess.run([CLI, "rfm", *args, "--customer", "customer_id", "--time", "day",
                                "--amount", "amount", "--time-unit", unit, "-o", str(out)],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            outs.append(out)
        with h5py.File(outs[0]) as a, h5py.File(outs[1]) as b, h5py.File(outs[2]) as c:
            for k in ("customer_id", "recency", "frequency", "monetary", "first_day", "segment"):
                np.testing.assert_array_equal(a[k][()], b[k][()], err_msg=k)
                np.testing.assert_array_equal(a[k][()], c[k][()], err_msg=k)
            assert a.attrs["bad_time"] == b.attrs["bad_time"] == c.attrs["bad_time"] == 1


@needs_tables
@pytest.mark.parametrize("fmt", ["table", "fixed"])
def test_pandas_multiindex_levels_are_no_features(tmp_path, data, fmt):
    """A MultiIndex's levels are stored beside the columns in a table: never
    features (a month level was one)."""
    path = tmp_path / "m.h5"
    df = data.assign(month=np.arange(N) % 12).set_index(["customer_id", "month"])
    df.to_hdf(path, key="c", format=fmt)
    got = strata.read_frame(path, table="/c", key=False)
    assert list(got.columns) == NAMES
    np.testing.assert_array_equal(got.to_numpy(), data[NAMES].to_numpy(np.float64))


@needs_tables
@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_pandas_frame_with_number_labels(tmp_path, data, fmt):
    """Column labels pandas stored as numbers cannot name features: said so
    (fixed said "out of memory listing the columns", table "no numeric
    column"). Strings that look like numbers are names."""
    path = tmp_path / "n.h5"
    data[NAMES].set_axis([0, 1, 2], axis=1).to_hdf(path, key="c", format=fmt)
    with pytest.raises(FileError, match="names are not strings"):
        strata.read_frame(path, table="/c")
    # a column named as it would be with string labels: the table's reply
    # (no field '0') says why too (it listed only the fields)
    with pytest.raises(FileError, match="names are not strings"):
        strata.read_frame(path, table="/c", columns=["0", "1"])
    if CLI:
        p = subprocess.run([CLI, "kmeans", str(path), "--table", "c", "--features", "0,1", "-k",
                            "2", "-o", str(tmp_path / "o.h5")], capture_output=True, text=True)
        assert p.returncode == 1 and "names are not strings" in p.stderr, p.stderr
    data[NAMES].set_axis(["0", "1", "2"], axis=1).to_hdf(path, key="s", format=fmt)
    got = strata.read_frame(path, table="/s")
    assert list(got.columns) == ["0", "1", "2"]
    np.testing.assert_array_equal(got.to_numpy(), data[NAMES].to_numpy(np.float64))


@needs_tables
def test_pandas_empty_fixed_frame(tmp_path):
    """pandas stores an empty block as a 1 x 1 placeholder with a "shape"
    attribute: a frame of 0 rows (it was "not 2-D", or a column past the
    placeholder's one)."""
    import pandas as pd
    path = tmp_path / "e.h5"
    pd.DataFrame({"c": np.zeros(0, np.int64), "t": np.zeros(0, np.int64),
                  "a": np.zeros(0)}).to_hdf(path, key="log", format="fixed")
    with pytest.raises(FileError, match="0 rows"):
        strata.read_frame(path, table="/log", columns=["t", "a"])
    if CLI:
        p = subprocess.run([CLI, "rfm", str(path), "--table", "log", "--customer", "c", "--time",
                            "t", "--amount", "a", "-o", str(tmp_path / "r.h5")],
                           capture_output=True, text=True)
        assert p.returncode == 1 and "0 rows" in p.stderr, p.stderr
        assert not (tmp_path / "r.h5").exists()


@needs_tables
@pytest.mark.parametrize("fmt", ["fixed", "table", "table_dc"])
def test_pandas_names_beyond_ascii(tmp_path, data, fmt):
    """Column names with non-ASCII letters, backslashes and newlines: a table
    frame keeps them in pickles (raw-unicode-escape), which were read
    undecoded ("\\u6570\\u636e", a lone Latin-1 byte for "é")."""
    names = ["数据", "é", "a\\b"]
    frame = data[NAMES].set_axis(names, axis=1)
    path = tmp_path / "u.h5"
    kw = {"format": "fixed"} if fmt == "fixed" else {"format": "table"}
    if fmt == "table_dc":
        kw["data_columns"] = True
    frame.to_hdf(path, key="c", **kw)
    got = strata.read_frame(path, table="/c")
    assert list(got.columns) == names
    np.testing.assert_array_equal(got.to_numpy(), frame.to_numpy(np.float64))
    one = strata.read_frame(path, table="/c", columns=["é"])
    np.testing.assert_array_equal(one.to_numpy()[:, 0], frame["é"].to_numpy(np.float64))


@needs_tables
def test_pandas_fixed_series(tmp_path, data):
    """A Series written with format="fixed" is a group of "index" and
    "values": the values are the feature, named as the Series; the index is
    no feature (it was taken as one)."""
    path = tmp_path / "s.h5"
    s = data.set_index("customer_id")["monetary"]
    s.to_hdf(path, key="m", format="fixed")
    got = strata.read_frame(path, table="/m", key=False)
    assert list(got.columns) == ["monetary"]
    np.testing.assert_array_equal(got["monetary"].to_numpy(), data["monetary"].to_numpy())
    s.rename(None).to_hdf(path, key="u", format="fixed")
    assert list(strata.read_frame(path, table="/u", key=False).columns) == ["values"]
    # an index named customer_id is the key, as a frame's is
    got = strata.read_frame(path, table="/m")
    assert got.index.name == "customer_id"
    np.testing.assert_array_equal(got.index.to_numpy(), data["customer_id"].to_numpy())
    np.testing.assert_array_equal(got["monetary"].to_numpy(), data["monetary"].to_numpy())


@pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")
def test_rfm_output_is_an_input(tmp_path):
    rng = np.random.default_rng(5)
    tx = tmp_path / "tx.h5"
    with h5py.File(tx, "w") as f:
        f["cust"] = rng.integers(1, 60, 2000)
        f["day"] = rng.integers(0, 400, 2000)
        f["amount"] = np.round(rng.uniform(1, 200, 2000), 2)
    out = tmp_path / "rfm.h5"
    subprocess.run([CLI, "rfm", str(tx), "--customer", "/cust", "--time", "/day", "--amount",
                    "/amount", "-o", str(out)], check=True, capture_output=True)
    with h5py.File(out) as f:
        ids = f["customer_id"][:]
        want = np.column_stack([f[c][:] for c in NAMES]).astype(np.float64)
    got = strata.read_frame(out, columns=["/recency", "/frequency", "/monetary"])
    assert got.index.name == "customer_id"
    np.testing.assert_array_equal(got.index, ids)
    np.testing.assert_array_equal(got.to_numpy(), want)
    whole = strata.read_frame(out, table="/")  # every numeric root column but the key
    assert "customer_id" not in whole.columns and set(NAMES) <= set(whole.columns)
    np.testing.assert_array_equal(whole.index, ids)
    # the CLI on the same file: --columns gives the labels of the matrix form
    m = tmp_path / "m.h5"
    with h5py.File(m, "w") as f:
        f["x"] = want
    for args, name in (([f"{m}:/x"], "a"),
                       ([str(out), "--columns", "/recency,/frequency,/monetary"], "b"),
                       ([str(out), "--table", "/", "--features", "recency,frequency,monetary"],
                        "c")):
        subprocess.run([CLI, "kmeans", *args, "-k", "4", "--seed", "1", "-o",
                        str(tmp_path / f"{name}.h5")], check=True, capture_output=True)
    with h5py.File(tmp_path / "a.h5") as a, h5py.File(tmp_path / "b.h5") as b, \
            h5py.File(tmp_path / "c.h5") as c:
        np.testing.assert_array_equal(a["labels"][:], b["labels"][:])
        np.testing.assert_array_equal(a["labels"][:], c["labels"][:])
        np.testing.assert_array_equal(a["centroids"][:], b["centroids"][:])
        assert "feature_names" not in a and "customer_id" not in a
        assert [s.decode() for s in b["feature_names"][:]] == NAMES
        np.testing.assert_array_equal(b["customer_id"][:], ids)
        assert b["customer_id"].attrs["name"] == "customer_id"
        assert b.attrs["source"].startswith(f"{out} --columns")


# -- bad input --------------------------------------------------------------

@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["a"] = np.arange(5.0)
        f["b"] = np.arange(5.0) * 2
        f["short"] = np.arange(4.0)
        f["text"] = np.array([b"x"] * 5)
        f["empty"] = np.zeros(0)
        f["empty2"] = np.zeros(0)
        f["nan"] = np.array([1.0, 2, np.nan, 4, 5])
        f["inf"] = np.array([1.0, 2, 3, -np.inf, 5])
        f["g1/a"] = np.arange(5.0)
        f["dupkey"] = np.array([7, 8, 9, 8, 1])
        f["nankey"] = np.array([7.0, 8, np.nan, 3, 1])
        f["fracKey"] = np.array([7.0, 8, 2.5, 3, 1])
        f["m2"] = np.zeros((5, 2))
        f["t"] = np.zeros(5, dtype=[("a", "<f8"), ("b", "<f8")])
    return path


@pytest.mark.parametrize("kwargs, cls, match", [
    ({"columns": ["/a"], "path": "missing.h5"}, FileError, "cannot open"),
    ({"columns": ["/a", "/nope"]}, FileError, "dataset '/nope' not found"),
    ({"columns": ["/a", "/short"]}, FileError, "different lengths.*'/a'.*5 rows.*'/short'.*4"),
    ({"columns": ["/a", "/text"]}, FileError, "/text.*string values"),
    ({"columns": ["/empty", "/empty2"]}, FileError, "0 rows"),
    ({"columns": ["/a", "/g1/a"]}, ArgumentError, "feature name 'a' appears twice"),
    ({"columns": ["/a", "/nan"]}, ArgumentError, "feature 'nan' is NaN in row 2"),
    ({"columns": ["/inf", "/a"]}, ArgumentError, "feature 'inf' is -Inf in row 3"),
    ({"columns": ["/m2"]}, FileError, "rank 2"),
    ({"columns": ["/a"], "key": "/nope"}, FileError, "'/nope' not found"),
    ({"columns": ["/a"], "key": "short"}, FileError, "different lengths"),
    ({"columns": ["/a"], "key": "text"}, FileError, "string values"),
    ({"columns": ["/a"], "key": "dupkey"}, ArgumentError, "key 'dupkey' repeats: 8 in rows 1 and 3"),
    ({"columns": ["/a"], "key": "nankey"}, ArgumentError, "key 'nankey' is missing in row 2"),
    ({"columns": ["/a"], "key": "fracKey"}, ArgumentError, "missing in row 2"),
    ({"table": "/t", "columns": ["c"]}, FileError, "has no field 'c'.*its fields: a, b"),
    ({"table": "/nope"}, FileError, "'/nope' not found"),
    ({"table": "/a"}, FileError, "plain numeric"),
    ({"table": "/t", "key": "zz"}, FileError, "no field 'zz' \\(the key column\\)"),
    ({"dataset": "/a"}, FileError, "rank 1"),
    ({"dataset": "/nope"}, FileError, "not found"),
])
def test_bad_input(bad_file, kwargs, cls, match):
    kwargs = dict(kwargs)
    path = kwargs.pop("path", bad_file)
    with pytest.raises(cls, match=match):
        strata.read_frame(path, **kwargs)


def test_nan_and_dup_status_codes(bad_file):
    with pytest.raises(ArgumentError) as e:
        strata.read_frame(bad_file, columns=["/nan"])
    assert e.value.code == -103  # STRATA_E_NONFINITE
    with pytest.raises(ArgumentError) as e:
        strata.read_frame(bad_file, columns=["/a"], key="dupkey")
    assert e.value.code == -101  # STRATA_E_ARG


def test_int64_beyond_2_53_rounds(tmp_path):
    path = tmp_path / "i.h5"
    big = np.array([2**53 + 1, 2**62 + 12345, -3], np.int64)
    with h5py.File(path, "w") as f:
        f["x"] = big
    got = strata.read_frame(path, columns=["/x"])
    np.testing.assert_array_equal(got["x"].to_numpy(), big.astype(np.float64))


# -- KMeans on DataFrames -----------------------------------------------------

def test_kmeans_dataframe_names(tmp_path, data):
    df = data.set_index("customer_id")[NAMES].astype(np.float64)
    km = strata.KMeans(n_clusters=3, random_state=0).fit(df)
    assert list(km.feature_names_in_) == NAMES
    ref = strata.KMeans(n_clusters=3, random_state=0).fit(df.to_numpy())
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert not hasattr(ref, "feature_names_in_")
    out = tmp_path / "km.h5"
    km.write_h5(out)
    with h5py.File(out) as f:
        assert [s.decode() for s in f["feature_names"][:]] == NAMES
        np.testing.assert_array_equal(f["customer_id"][:], df.index.to_numpy())
    with pytest.raises(ArgumentError, match="feature names should match"):
        km.predict(df[["monetary", "recency", "frequency"]])
    np.testing.assert_array_equal(km.predict(df), km.labels_)
    # a refit on a plain array drops the names
    km.fit(df.to_numpy())
    assert not hasattr(km, "feature_names_in_")
    with pytest.raises(ArgumentError, match="feature 'recency' is NaN in row 1"):
        strata.KMeans(n_clusters=2).fit(df.assign(recency=[1.0, np.nan] + [1.0] * (N - 2)))


# -- bool columns: 0/1 features, as the binding takes a DataFrame's ------------

def _bool_frame(n, seed):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    return pd.DataFrame({"spend": g * 50.0 + rng.normal(0, 5, n),
                         "is_member": (g == 2) | (rng.random(n) < 0.1),
                         "visits": (g * 4 + rng.integers(0, 3, n)).astype(np.int64),
                         "churned": rng.random(n) < 0.5},
                        index=pd.Index(np.arange(n, dtype=np.int64) * 3 + 5, name="customer_id"))


def _write_bool_layouts(path, df):
    """The frame with its bools as each writer stores them: pandas (PyTables'
    8-bit bitfield; fixed, table, table with data columns) and h5py (an enum
    FALSE/TRUE of int8; a compound table, a group of datasets)."""
    tables = {}
    if HAVE_TABLES:
        df.to_hdf(path, key="fixed", format="fixed")
        df.to_hdf(path, key="ptable", format="table")
        df.to_hdf(path, key="pdc", format="table", data_columns=True)
        tables.update(fixed="/fixed", ptable="/ptable", pdc="/pdc")
    with h5py.File(path, "a") as f:
        rec = np.empty(len(df), [("customer_id", "<i8")] + [(c, df[c].dtype) for c in df])
        rec["customer_id"] = df.index.to_numpy()
        for c in df:
            rec[c] = df[c].to_numpy()
        f.create_dataset("compound", data=rec, chunks=(min(len(df), 5000),))
        f["cols/customer_id"] = df.index.to_numpy()
        for c in df:
            f[f"cols/{c}"] = df[c].to_numpy()
        assert f["compound"].dtype["is_member"] == np.bool_  # h5py's enum, read back as bool
    tables.update(compound="/compound", group="/cols")
    return tables


def test_bool_columns_are_0_1_features(tmp_path):
    """A bool column (is_member) of a file is a feature of 0 and 1, as
    KMeans().fit(df) takes it (and scikit-learn): the file readers dropped
    it (PyTables' bitfield, h5py's enum), so a table fit had other features
    than the DataFrame fit. Reference: pandas' df.astype(float)."""
    df = _bool_frame(60, 1)
    path = tmp_path / "b.h5"
    tables = _write_bool_layouts(path, df)
    want = df.astype(np.float64)
    ref = strata.KMeans(3, random_state=0).fit(df)
    for name, table in tables.items():
        got = strata.read_frame(path, table=table)
        assert sorted(got.columns) == sorted(df.columns), name  # a group: by name
        np.testing.assert_array_equal(got[list(df.columns)].to_numpy(), want.to_numpy())
        np.testing.assert_array_equal(got.index.to_numpy(), df.index.to_numpy())
        got = strata.read_frame(path, table=table, columns=["is_member", "spend"])
        np.testing.assert_array_equal(got.to_numpy(), want[["is_member", "spend"]].to_numpy())
        km = strata.KMeans(3, random_state=0).fit_h5_table(path, table, list(df.columns))
        np.testing.assert_array_equal(km.labels_, ref.labels_)
        np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    # a bool is no row key, nor a log's column
    with pytest.raises(FileError, match="is_member.*enum \\(h5py's bool\\)"):
        strata.read_frame(path, table="/compound", key="is_member")
    # an enum that is no bool is not called one
    colors = h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 2}, basetype="i1")
    with h5py.File(path, "a") as f:
        f.create_dataset("colors/color", data=np.arange(N) % 3, dtype=colors)
        f["colors/spend"] = np.arange(N, dtype=float)
    with pytest.raises(FileError, match="color.*holds enum values") as e:
        strata.read_frame(path, table="/colors", columns=["color", "spend"])
    assert "h5py's bool" not in str(e.value)


def test_bool_columns_streamed(tmp_path):
    """Streamed under a budget, a bool field is read alone (the reads that
    take several fields of a record at once convert to doubles, which
    libhdf5 does not from bools): the result of the DataFrame fit, bitwise."""
    df = _bool_frame(200_000, 2)
    path = tmp_path / "b.h5"
    tables = _write_bool_layouts(path, df)
    ref = strata.KMeans(3, random_state=1, max_iter=10, tol=0).fit(df)
    for name, table in tables.items():
        km = strata.KMeans(3, random_state=1, max_iter=10, tol=0, memory="31M")
        km.fit_h5_table(path, table, list(df.columns))
        assert km.streamed_, name
        np.testing.assert_array_equal(km.labels_, ref.labels_)
        np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)


# -- pandas fixed format: a MultiIndex's levels are columns, as in table format --

@needs_tables
def test_pandas_fixed_multiindex_levels_are_columns(tmp_path, data):
    """pandas' fixed format stores a MultiIndex as axis1_level<i> (each
    level's values) and axis1_label<i> (each row's code): its levels were
    not read (table format stores them as columns). A level is the key
    (customer_id) or a column asked for by name, never a default feature;
    a missing value (code -1) is NaN. Reference: the frame's own values."""
    df = data.assign(cohort=(np.arange(N) % 4 + 2019).astype(np.int64))
    df.loc[3, "cohort"] = -1
    mi = df.set_index(["customer_id", "cohort"])
    path = tmp_path / "mi.h5"
    mi.to_hdf(path, key="fixed", format="fixed")
    mi.to_hdf(path, key="table", format="table")
    with h5py.File(path) as f:  # the layout read: levels and codes
        assert f["fixed"].attrs["axis1_variety"] == b"multi"
        assert f["fixed/axis1_label0"].shape == (N,)
    for table in ("/fixed", "/table"):
        got = strata.read_frame(path, table=table)
        expect(got, data)  # the customer_id level is the key; levels are no features
        got = strata.read_frame(path, table=table, columns=["cohort", "monetary"], key=False)
        np.testing.assert_array_equal(got.to_numpy(),
                                      df[["cohort", "monetary"]].to_numpy(np.float64))
        km = strata.KMeans(3, random_state=0).fit_h5_table(path, table, ["cohort", "recency"])
        ref = strata.KMeans(3, random_state=0).fit(df.set_index("customer_id")[["cohort",
                                                                                 "recency"]])
        np.testing.assert_array_equal(km.labels_, ref.labels_)
        np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    # a float level with a missing value: pandas' code -1, NaN to the reader
    flt = data.assign(score=np.where(np.arange(N) == 5, np.nan, np.arange(N) * 0.5))
    flt.set_index(["customer_id", "score"]).to_hdf(path, key="nan", format="fixed")
    with h5py.File(path) as f:
        assert f["nan/axis1_label1"][5] == -1
    with pytest.raises(ArgumentError, match="feature 'score' is NaN in row 5"):
        strata.read_frame(path, table="/nan", columns=["score"])
    # a bool level: a 0/1 feature in both formats, as a bool column is
    # (fixed format refused it: "holds bitfield (pandas' bool)")
    flag = data.assign(member=np.arange(N) % 3 == 0)
    flag.set_index(["customer_id", "member"]).to_hdf(path, key="bfix", format="fixed")
    flag.set_index(["customer_id", "member"]).to_hdf(path, key="btab", format="table")
    ref = strata.KMeans(3, random_state=0).fit(
        flag.set_index("customer_id")[["member", "recency"]].astype(np.float64))
    for table in ("/bfix", "/btab"):
        got = strata.read_frame(path, table=table, columns=["member"])
        np.testing.assert_array_equal(got["member"].to_numpy(), flag["member"].to_numpy(float))
        km = strata.KMeans(3, random_state=0).fit_h5_table(path, table, ["member", "recency"])
        np.testing.assert_array_equal(km.labels_, ref.labels_)
        np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    # a level of strings: refused by name, as a string column is
    data.assign(region="north").set_index(["customer_id", "region"]).to_hdf(
        path, key="str", format="fixed")
    with pytest.raises(FileError, match="level 'region'.*strings"):
        strata.read_frame(path, table="/str", columns=["region"])
    with pytest.raises(FileError, match="no column 'nope'.*customer_id \\(level\\)"):
        strata.read_frame(path, table="/str", columns=["nope"])
