"""strata.tiers(): the whole way in Python, checked against the CLI's `strata tiers` on the
same log (labels, tiers, stages, sweep, and every dataset of the saved file) and against
pandas; strata.migrate_h5 against strata.migrate, pandas and `strata migrate`."""

import numpy as np
import pytest

import strata
import tiers_reference as ref
from test_tiers_pipeline import CSV, TX, strata as run_cli, synthetic_log, write_log

h5py = pytest.importorskip("h5py")
pd = pytest.importorskip("pandas")


def _objects(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def _attrs(obj):
    """Attributes but the provenance: source text and the model's creation time."""
    return {k: np.asarray(v) for k, v in obj.attrs.items() if k not in ("source", "created")}


def assert_same_file(cli_path, py_path):
    """Same objects, dtypes, shapes, values (bitwise) and attributes; only the
    provenance differs: "source" (a file name vs. Python arrays) and the model's
    "created" time (present in both)."""
    with h5py.File(cli_path, "r") as a, h5py.File(py_path, "r") as b:
        oa, ob = _objects(a), _objects(b)
        assert sorted(oa) == sorted(ob)
        for name, x in oa.items():
            y = ob[name]
            assert type(x) is type(y), name
            if isinstance(x, h5py.Dataset):
                assert (x.dtype, x.shape) == (y.dtype, y.shape), name
                if x.dtype.kind in "fiu":
                    np.testing.assert_array_equal(x[()], y[()], err_msg=name)
                else:
                    assert x[()].tolist() == y[()].tolist(), name
            ax, ay = _attrs(x), _attrs(y)
            assert ax.keys() == ay.keys(), name
            for k in ax:
                assert ax[k].tolist() == ay[k].tolist(), (name, k)
        assert a.attrs["strata_version"] == b.attrs["strata_version"]
        assert set(a["model"].attrs) == set(b["model"].attrs) and "created" in b["model"].attrs
        run = {"k", "k_min", "k_max", "seed", "n_init", "max_iter", "sample", "new_days",
               "active_days", "lost_days", "memory", "features", "tiers", "transform", "init",
               "value"}  # the run's parameters: the same call, the same values
        assert set(a.attrs) == set(b.attrs) == {"source", "strata_version", "created", *run}
        for name in run:
            assert a.attrs[name] == b.attrs[name], name


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    cid, day, amount = synthetic_log(n_customers=500, seed=3)
    write_log(tmp / "tx.h5", cid, day, amount)
    return tmp, cid, day, amount


def test_range_of_k_same_as_cli(log):
    tmp, cid, day, amount = log
    run_cli("tiers", tmp / "tx.h5", *TX, "-k", "2:6", "-o", tmp / "cli.h5")
    res = strata.tiers(cid, day, amount, k=range(2, 7))
    res.save(tmp / "py.h5")
    with h5py.File(tmp / "cli.h5", "r") as f:
        np.testing.assert_array_equal(res.customers.index, f["/customer_id"][:])
        np.testing.assert_array_equal(res.customers.cluster, f["/labels"][:])
        np.testing.assert_array_equal(res.customers.tier.cat.codes, f["/tier"][:])
        np.testing.assert_array_equal(res.customers.stage.cat.codes, f["/stage"][:])
        assert res.suggested_k == f["/sweep"].attrs["suggested_k"]
        np.testing.assert_array_equal(res.sweep.index, f["/sweep/k"][:])
        for name in res.sweep.columns:
            np.testing.assert_array_equal(res.sweep[name], f[f"/sweep/{name}"][:])
        np.testing.assert_array_equal(res.tier_stage.to_numpy(), f["/tier_stage"][:])
    assert_same_file(tmp / "cli.h5", tmp / "py.h5")
    assert res.model.n_clusters_ == res.suggested_k


def test_one_k_with_options_from_a_dataframe_same_as_cli(log):
    tmp, cid, day, amount = log
    run_cli("tiers", tmp / "tx.h5", *TX, "-k", 4, "--tiers", "gold,silver,bronze",
            "--features", "recency,monetary,tenure", "--transform", "log1p+robust",
            "--new-days", 10, "--active-days", 50, "--lost-days", 300, "--reference-day", 1005,
            "--seed", 7, "--n-init", 2, "--bins", 4, "-o", tmp / "cli4.h5")
    tx = pd.DataFrame({"cust": cid, "when": day, "spend": amount})
    res = strata.tiers(tx, k=4, customer="cust", time="when", amount="spend",
                       tier_names=["gold", "silver", "bronze"],
                       features=("recency", "monetary", "tenure"), transform="log1p+robust",
                       thresholds=(10, 50, 300), reference_day=1005, random_state=7, n_init=2,
                       bins=4)
    assert res.sweep is None and res.suggested_k is None
    res.save(tmp / "py4.h5")
    assert_same_file(tmp / "cli4.h5", tmp / "py4.h5")
    with h5py.File(tmp / "py4.h5", "r") as f:
        assert f.attrs["source"] == "strata.tiers(DataFrame{cust,when,spend})"


def test_results_against_pandas(log):
    tmp, cid, day, amount = log
    res = strata.tiers(cid, day, amount, k=5, tier_names="a,b,c", random_state=1)
    g, reference = ref.aggregate(cid, day, amount)
    c = res.customers
    np.testing.assert_array_equal(c.index, g.index)
    np.testing.assert_array_equal(c.recency, g.recency)
    np.testing.assert_array_equal(c.frequency, g.frequency)
    np.testing.assert_allclose(c.monetary, g.monetary, rtol=1e-12)
    assert list(c.columns) == ["recency", "frequency", "monetary", "cluster", "tier", "stage"]
    assert c.tier.cat.ordered and list(c.tier.cat.categories) == ["a", "b", "c"]
    assert list(c.stage.cat.categories) == ["new", "active", "dormant", "lost"]
    np.testing.assert_array_equal(c.stage.cat.codes,
                                  ref.lifecycle(g.first_day, g.recency, reference))
    # the tiers: the model's cluster -> tier map, ranked as the reference ranks them
    tm = res.model
    tier_of, _ = ref.tiers_of_clusters(tm.centroids_.to_numpy(), ref.value_weights(
        ["recency", "frequency", "monetary"]), 3)
    np.testing.assert_array_equal(c.tier.cat.codes, tier_of[c.cluster])
    # the scaled rows are the auto transform of the features
    np.testing.assert_allclose(res.scaled, ref.scale_auto(g[["recency", "frequency",
                                                             "monetary"]])[0],
                               rtol=1e-9, atol=1e-12)
    want = pd.crosstab(c.tier, c.stage, dropna=False).reindex(
        index=["a", "b", "c"], columns=["new", "active", "dormant", "lost"], fill_value=0)
    np.testing.assert_array_equal(res.tier_stage.to_numpy(), want.to_numpy())
    assert list(res.tier_stage.index) == ["a", "b", "c"]
    feats = c[["recency", "frequency", "monetary"]]
    for frame, key, n in ((res.profile, c.cluster, 5), (res.tier_profile, c.tier.cat.codes, 3)):
        by = feats.groupby(key.to_numpy())
        np.testing.assert_array_equal(frame[("size", "count")].iloc[:n], by.size())
        np.testing.assert_allclose(frame.xs("mean", axis=1, level="stat").iloc[:n][
            ["recency", "frequency", "monetary"]], by.mean(), rtol=1e-10)
        np.testing.assert_allclose(frame.xs("median", axis=1, level="stat").iloc[:n][
            ["recency", "frequency", "monetary"]], by.median(), rtol=1e-10)
    assert res.tier_profile.index.name == "tier"
    # the model puts the same customers into the same clusters and tiers
    np.testing.assert_array_equal(tm.predict_labels(feats), c.cluster)
    np.testing.assert_array_equal(tm.predict(feats), c.tier.cat.codes)
    # the best tier is recent and spends more
    assert feats.monetary[c.tier == "a"].mean() > feats.monetary[c.tier == "c"].mean()


def test_range_starts_at_the_number_of_tier_names(log):
    """Every tier needs a cluster: with three names the range 2..6 is swept from 3 (as
    `strata tiers` does), and the result is the CLI's at the chosen k."""
    tmp, cid, day, amount = log
    res = strata.tiers(cid, day, amount, k=(2, 6), tier_names="a, b ,c")
    assert list(res.sweep.index) == [3, 4, 5, 6]
    plain = strata.tiers(cid, day, amount, k=range(3, 7))  # default names, no start shift
    pd.testing.assert_frame_equal(res.sweep, plain.sweep)
    k = res.suggested_k
    run_cli("tiers", tmp / "tx.h5", *TX, "-k", k, "--tiers", "a,b,c", "-o", tmp / "k.h5")
    with h5py.File(tmp / "k.h5", "r") as f:
        np.testing.assert_array_equal(res.customers.cluster, f["/labels"][:])
        np.testing.assert_array_equal(res.customers.tier.cat.codes, f["/tier"][:])
        np.testing.assert_array_equal(res.scaled, f["/scaled"][:])
    assert res.model.tier_names_ == ["a", "b", "c"]
    # a range that ends at the tier count is that k, without a sweep
    one = strata.tiers(cid, day, amount, k=range(2, 4), tier_names="a,b,c")
    assert one.sweep is None and one.model.n_clusters_ == 3
    with pytest.raises(strata.ArgumentError, match="3 tiers, more than the 2 clusters"):
        strata.tiers(cid, day, amount, k=2, tier_names=["a", "b", "c"])


def test_save_is_atomic_and_loads_back(log, tmp_path):
    _, cid, day, amount = log
    res = strata.tiers(cid, day, amount, k=3)
    out = tmp_path / "t.h5"
    out.write_bytes(b"keep me")
    with pytest.raises(strata.OutputExistsError):
        res.save(out)
    assert out.read_bytes() == b"keep me"
    res.save(out, force=True)
    loaded = strata.load_model(out)
    feats = res.customers[["recency", "frequency", "monetary"]].to_numpy()
    np.testing.assert_array_equal(loaded.predict(feats), res.customers.tier.cat.codes)
    with pytest.raises(strata.FileError):
        res.save(tmp_path / "no" / "such" / "dir.h5")
    assert not (tmp_path / "no").exists()


def test_save_compresses_on_the_fits_threads(log, tmp_path):
    """save() compresses the chunks on n_threads; the stored chunks are the
    same bytes for any count, every per-row dataset chunked and gzipped."""
    _, cid, day, amount = log
    stored = []
    for threads in (1, 3):
        out = tmp_path / f"t{threads}.h5"
        strata.tiers(cid, day, amount, k=3, n_threads=threads).save(out)
        with h5py.File(out, "r") as f:
            n = len(f["customer_id"])
            rows = {}
            f.visititems(lambda name, o: rows.update({name: o}) if isinstance(o, h5py.Dataset)
                         and o.shape and o.shape[0] == n else None)
            # (visititems names each object once: a pandas view's link may come first)
            assert {"customer_id", "labels", "scaled"} <= set(rows)
            assert sum(d.dtype.kind == "f" for d in rows.values()) >= 3
            chunks = {}
            for name, d in sorted(rows.items()):
                assert d.chunks and d.compression == "gzip" and d.shuffle, name
                info = [d.id.get_chunk_info(i) for i in range(d.id.get_num_chunks())]
                chunks[name] = [d.id.read_direct_chunk(c.chunk_offset) for c in info]
            stored.append(chunks)
    assert stored[0] == stored[1]


@pytest.mark.parametrize("kwargs, words", [
    (dict(features=("recency", "colour")), "colour"),
    (dict(features=("recency", "recency")), "twice"),
    (dict(k=range(1, 4)), "2 or more"),
    (dict(k=0), "k must be"),
    (dict(k=range(2, 5), init=np.zeros((3, 3))), "fixes k"),
    (dict(k=(2, 3), tier_names="a,b,c,d"), "4 tiers"),
    (dict(k=3, tier_names=["a,b", "c"]), "comma"),
    (dict(k=3, transform="cube"), "transform"),
    (dict(k=3, thresholds=(90, 30, 365)), "threshold"),
    (dict(k=3, bins=1), "bins"),
])
def test_bad_arguments(log, kwargs, words):
    _, cid, day, amount = log
    with pytest.raises(strata.ArgumentError, match=words):
        strata.tiers(cid, day, amount, **kwargs)


def test_dataframe_columns_may_be_its_index(log):
    """pd.read_hdf gives a log back as written, often indexed by customer_id:
    strata.tiers and strata.clv refused a customer id (or time) that is the
    frame's index, which the file readers take by name."""
    pd = pytest.importorskip("pandas")
    _, ids, days, amount = log
    flat = pd.DataFrame({"customer_id": ids, "day": days, "amount": amount})
    want = strata.tiers(flat, k=3)
    for frame in (flat.set_index("customer_id"), flat.set_index(["customer_id", "day"])):
        got = strata.tiers(frame, k=3)
        np.testing.assert_array_equal(got.customers["tier"], want.customers["tier"])
        np.testing.assert_array_equal(got.customers.index, want.customers.index)
    a = strata.clv(flat, customer="customer_id", time="day", amount="amount",
                   calibration_end=int(days.max()))
    b = strata.clv(flat.set_index("day"), customer="customer_id", time="day", amount="amount",
                   calibration_end=int(days.max()))
    np.testing.assert_array_equal(a["clv"], b["clv"])
    with pytest.raises(strata.ArgumentError, match="no column 'when'.*its index: customer_id"):
        strata.tiers(flat.set_index("customer_id"), k=3, time="when")


def test_fewer_distinct_customers_than_k_is_an_error_as_in_the_cli(tmp_path):
    """20 identical customers and k = 3: strata tiers refuses ("only 1
    distinct rows"), but strata.tiers and TierModel returned a tiering with
    two empty tiers (TierModel inherited KMeans' scikit-learn behaviour, fit
    and warn, without the warning)."""
    ids, days, amount = np.arange(20), np.full(20, 18000), np.full(20, 10.0)
    write_log(tmp_path / "same.h5", ids, days, amount)
    p = run_cli("tiers", tmp_path / "same.h5", *TX, "-k", 3, "-o", tmp_path / "t.h5",
                check=False)
    assert p.returncode == 1 and "only 1 distinct rows for k = 3" in p.stderr, p.stderr
    with pytest.raises(strata.ArgumentError, match="only 1 distinct rows for k = 3"):
        strata.tiers(ids, days, amount, k=3)
    with pytest.raises(strata.ArgumentError, match="only 1 distinct rows for k = 3"):
        strata.TierModel(n_clusters=3).fit(np.ones((20, 3)))
    with pytest.warns(strata.ConvergenceWarning):  # KMeans keeps scikit-learn's way
        strata.KMeans(3, n_init=1).fit(np.ones((20, 3)))
    # three customers and the default range 2..10: the message says what n is
    write_log(tmp_path / "three.h5", [1, 2, 3], [18000, 18001, 18002], [5.0, 7.0, 9.0])
    p = run_cli("tiers", tmp_path / "three.h5", *TX, "-o", tmp_path / "t.h5", check=False)
    assert p.returncode == 1 and "2..n - 1 = 2 (n = 3 rows: customers" in p.stderr, p.stderr


def test_bad_dataframe_columns(log):
    _, cid, day, amount = log
    tx = pd.DataFrame({"customer_id": cid, "day": day, "amount": amount})
    assert strata.tiers(tx, k=3).customers.shape[0] == len(np.unique(cid))
    with pytest.raises(strata.ArgumentError, match="no column 'when'"):
        strata.tiers(tx, k=3, time="when")
    with pytest.raises(strata.ArgumentError, match="DataFrame"):
        strata.tiers(tx, day, k=3)
    with pytest.raises(strata.ArgumentError, match="DataFrame"):
        strata.tiers(cid, day, amount, k=3, customer="customer_id")
    with pytest.raises(strata.ArgumentError, match="needs"):
        strata.tiers(cid, day, k=3)


def test_online_retail_same_as_cli(tmp_path):
    if not CSV.exists():
        pytest.skip(f"{CSV} is absent (the shared data folder ../shared/data is not here)")
    raw = pd.read_csv(CSV, usecols=["CustomerID", "InvoiceDate", "Quantity", "UnitPrice"],
                      parse_dates=["InvoiceDate"])
    cid = raw.CustomerID.astype(np.float64).to_numpy()
    day = raw.InvoiceDate.values.astype("datetime64[D]").astype(np.int64)
    amount = (raw.Quantity.astype(np.float64) * raw.UnitPrice.astype(np.float64)).to_numpy()
    write_log(tmp_path / "retail.h5", cid, day, amount)
    run_cli("tiers", tmp_path / "retail.h5", *TX, "-k", "2:5", "-o", tmp_path / "cli.h5")
    res = strata.tiers(raw.CustomerID, raw.InvoiceDate, amount, k=range(2, 6))
    assert len(res.customers) == 4339
    res.save(tmp_path / "py.h5")
    assert_same_file(tmp_path / "cli.h5", tmp_path / "py.h5")


# -- migrate_h5 ---------------------------------------------------------------

@pytest.fixture(scope="module")
def two_tierings(log):
    tmp, cid, day, amount = log
    old = strata.tiers(cid, day, amount, k=4, random_state=0)
    old.save(tmp / "old.h5")
    # next period: a third of the customers gone, new ones, everyone a bit later
    keep = cid % 3 != 0
    cid2 = np.concatenate([cid[keep], cid[keep][:200] + 10000])
    day2 = np.concatenate([day[keep], day[keep][:200]]) + 90
    amount2 = np.concatenate([amount[keep], amount[keep][:200]])
    new = strata.tiers(cid2, day2, amount2, k=4, random_state=0)
    new.save(tmp / "new.h5")
    return tmp, old, new


def test_migrate_h5_against_pandas_and_migrate(two_tierings):
    tmp, old, new = two_tierings
    matrix, customers = strata.migrate_h5(tmp / "old.h5", tmp / "new.h5")
    names = ["high", "mid", "low"]
    assert list(matrix.index) == names and list(matrix.columns) == names
    a = old.customers.tier.cat.codes.rename("old")
    b = new.customers.tier.cat.codes.rename("new")
    both = pd.concat([a, b], axis=1, join="inner")
    want = pd.crosstab(both.old, both.new).reindex(index=range(3), columns=range(3),
                                                   fill_value=0)
    np.testing.assert_array_equal(matrix.to_numpy(), want.to_numpy())
    union = pd.concat([a, b], axis=1, join="outer").sort_index()
    np.testing.assert_array_equal(customers.customer_id, union.index)
    np.testing.assert_array_equal(customers.old_tier, union.old.fillna(-1).astype(int))
    np.testing.assert_array_equal(customers.new_tier, union.new.fillna(-1).astype(int))
    o, n = union.old.to_numpy(), union.new.to_numpy()
    move = np.select([np.isnan(o), np.isnan(n), n < o, n > o], ["new", "gone", "up", "down"],
                     "same")
    np.testing.assert_array_equal(customers.move.astype(str), move)
    m2, c2 = strata.migrate(a.index, a, b.index, b, tier_names=names)
    pd.testing.assert_frame_equal(matrix, m2)
    pd.testing.assert_frame_equal(customers, c2)


def test_migrate_h5_writes_what_the_cli_writes(two_tierings, tmp_path):
    tmp, _, _ = two_tierings
    strata.migrate_h5(tmp / "old.h5", tmp / "new.h5", out=tmp_path / "py.h5")
    run_cli("migrate", tmp / "old.h5", tmp / "new.h5", "-o", tmp_path / "cli.h5")
    with h5py.File(tmp_path / "cli.h5", "r") as a, h5py.File(tmp_path / "py.h5", "r") as b:
        oa, ob = _objects(a), _objects(b)
        assert sorted(oa) == sorted(ob)
        for name, x in oa.items():
            if isinstance(x, h5py.Dataset):
                assert x[()].tolist() == ob[name][()].tolist(), name
    with pytest.raises(strata.OutputExistsError):
        strata.migrate_h5(tmp / "old.h5", tmp / "new.h5", out=tmp_path / "py.h5")
    strata.migrate_h5(tmp / "old.h5", tmp / "new.h5", out=tmp_path / "py.h5", force=True)
    before = (tmp / "old.h5").read_bytes()
    with pytest.raises(strata.Error):
        strata.migrate_h5(tmp / "old.h5", tmp / "new.h5", out=tmp / "old.h5", force=True)
    assert (tmp / "old.h5").read_bytes() == before


def test_migrate_h5_bad_files(two_tierings, tmp_path):
    tmp, _, _ = two_tierings
    with pytest.raises(strata.FileError, match="missing.h5"):
        strata.migrate_h5(tmp_path / "missing.h5", tmp / "new.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["/customer_id"] = np.arange(5, dtype=np.int64)
        f["/tier"] = np.zeros(5, np.int32)
        f["/tier"].attrs["names"] = ["gold", "silver", "bronze"]
    with pytest.raises(strata.ArgumentError, match="names"):
        strata.migrate_h5(tmp / "old.h5", tmp_path / "other.h5")
    with h5py.File(tmp_path / "short.h5", "w") as f:
        f["/customer_id"] = np.arange(5, dtype=np.int64)
        f["/tier"] = np.zeros(4, np.int32)
    with pytest.raises(strata.FileError):
        strata.migrate_h5(tmp / "old.h5", tmp_path / "short.h5")
    with h5py.File(tmp_path / "half.h5", "w") as f:  # was "has tier -9223372036854775808"
        f["/customer_id"] = np.arange(5, dtype=np.int64)
        f["/tier"] = np.array([0, 2.5, 1, 0, 1])
    with pytest.raises(strata.FileError, match=r"customer 1 \(row 1\) has a tier that is not a "
                                                r"whole number"):
        strata.migrate_h5(tmp / "old.h5", tmp_path / "half.h5")
    with pytest.raises(strata.ArgumentError, match="path"):
        strata.migrate_h5(None, tmp / "new.h5")
