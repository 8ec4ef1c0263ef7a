"""Result files pandas reads (issue 13: per-row outputs "readable by h5py and
pandas"). pd.read_hdf reads only what PyTables' pandas layouts describe, so
every per-row dataset beside a customer_id gets a view /pandas/<its path>:
a fixed-format Series whose values and index are hard links to the dataset
and to the customer_id beside it (no data copied). Checked against the
datasets as h5py reads them, for the in-memory writer (kmeans, rfm, tiers)
and the streamed one (strata_writer: `strata gen`), and in `strata info`.

The program is $STRATA_CLI (set by CTest); skipped without it or PyTables."""
import os
import subprocess
import warnings

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")
pd = pytest.importorskip("pandas")
pytest.importorskip("tables", reason="PyTables missing: pandas cannot read HDF5")
CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")


def run(*args):
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p


def per_row(path):
    """{path: (values, customer ids)} of every 1-D numeric dataset beside a
    customer_id of its length, as h5py reads them."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if name.startswith("pandas") or not isinstance(obj, h5py.Group):
                return
            if "customer_id" not in obj:
                return
            ids = obj["customer_id"][()]
            for key, d in obj.items():
                if key != "customer_id" and isinstance(d, h5py.Dataset) and d.ndim == 1 \
                        and d.dtype.kind in "iuf" and len(d) == len(ids):
                    out[f"{obj.name.rstrip('/')}/{key}"] = (d[()], ids)
        visit("", f["/"])
        f.visititems(visit)
    return out


def check_views(path):
    """Every per-row dataset read by pandas equals h5py's; nothing else is a key."""
    want = per_row(path)
    assert want, "no per-row dataset beside a customer_id"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTables warns on what it does not understand
        with pd.HDFStore(path, "r") as store:
            assert sorted(store.keys()) == sorted("/pandas" + p for p in want)
            for p, (values, ids) in want.items():
                s = store["/pandas" + p]
                assert s.name == p.rsplit("/", 1)[1] and s.index.name == "customer_id"
                np.testing.assert_array_equal(s.to_numpy(), values)
                assert s.dtype == values.dtype
                np.testing.assert_array_equal(s.index.to_numpy(), ids)
    return want


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("views")
    rng = np.random.default_rng(8)
    n = 3000
    ids = rng.permutation(np.arange(10**6, 10**6 + n))
    pd.DataFrame({"customer_id": ids, "spend": rng.gamma(2, 40, n),
                  "visits": rng.poisson(5, n).astype(np.float64)}).to_hdf(
        d / "customers.h5", key="customers", format="table")
    m = 20000
    with h5py.File(d / "tx.h5", "w") as f:
        f["customer_id"] = rng.integers(1, 2000, m)
        f["day"] = rng.integers(18000, 18400, m)
        f["amount"] = np.round(rng.gamma(2.0, 30.0, m), 2) + 0.01
    return d


def test_kmeans_labels_by_customer(files, tmp_path):
    out = tmp_path / "km.h5"
    run("kmeans", files / "customers.h5", "--table", "customers", "-k", 3, "--seed", 1, "-o", out)
    check_views(out)
    s = pd.read_hdf(out)  # the one pandas object: no key needed
    with h5py.File(out) as f:
        np.testing.assert_array_equal(s.to_numpy(), f["labels"][()])
        np.testing.assert_array_equal(s.index.to_numpy(), f["customer_id"][()])


def test_out_of_core_fit(files, tmp_path):
    """A fit streamed under a memory budget writes the same views."""
    out = tmp_path / "km.h5"
    run("kmeans", files / "customers.h5", "--table", "customers", "-k", 3, "--seed", 1,
        "--memory", "25M", "-o", out)
    check_views(out)


def test_rfm_and_tiers(files, tmp_path):
    """rfm's writer and tiers' (strata_out): rfm/ has a customer_id of its
    own, so its columns are indexed by that one."""
    cols = ["--customer", "/customer_id", "--time", "/day", "--amount", "/amount"]
    run("rfm", files / "tx.h5", *cols, "-o", tmp_path / "rfm.h5")
    got = check_views(tmp_path / "rfm.h5")
    assert {"/recency", "/frequency", "/monetary", "/segment"} <= set(got)
    run("tiers", files / "tx.h5", *cols, "-k", 3, "--seed", 1, "-o", tmp_path / "t.h5")
    got = check_views(tmp_path / "t.h5")
    assert {"/labels", "/tier", "/rfm/monetary"} <= set(got)
    # with the CLV step: /clv has the customers of /customer_id, and its views
    run("tiers", files / "tx.h5", *cols, "-k", 3, "--seed", 1, "--clv", "--calibration-end",
        18300, "-o", tmp_path / "tc.h5")
    got = check_views(tmp_path / "tc.h5")
    assert {"/clv/clv", "/clv/p_alive", "/tier"} <= set(got)
    with h5py.File(tmp_path / "tc.h5") as f:
        np.testing.assert_array_equal(f["clv/customer_id"][()], f["customer_id"][()])
    # a view is an input too: one feature, keyed by its index
    p = run("kmeans", tmp_path / "rfm.h5", "--table", "/pandas/monetary", "-k", 2, "-o",
            tmp_path / "m.h5")
    assert "features: monetary; row key: customer_id" in p.stdout
    check_views(tmp_path / "m.h5")


def test_streamed_writer(tmp_path):
    """strata_writer writes as a stream (strata gen's customers): the same views."""
    out = tmp_path / "c.h5"
    run("gen", "customers", "-o", out, "--n", 5000, "--seed", 2)
    got = check_views(out)
    assert "/tier" in got


def test_no_customer_id_no_views(files, tmp_path):
    """A matrix has no row key: /labels stays the only per-row dataset."""
    x = tmp_path / "x.h5"
    with h5py.File(x, "w") as f:
        f["x"] = np.random.default_rng(1).normal(size=(500, 2))
    out = tmp_path / "km.h5"
    run("kmeans", f"{x}:/x", "-k", 2, "-o", out)
    with h5py.File(out) as f:
        assert "pandas" not in f


def test_info_lists_a_view_as_one_line(files, tmp_path):
    out = tmp_path / "km.h5"
    run("kmeans", files / "customers.h5", "--table", "customers", "-k", 3, "-o", out)
    text = run("info", out).stdout
    assert 'labels  (pandas view of /labels: pd.read_hdf(FILE, "/pandas/labels"))' in text
    assert "--table /pandas" not in text  # never offered as an input
