"""Cluster profiles, lifecycle stages, crosstabs and migrations (issue 11)
against numpy / pandas and hand-computed cases."""

import ctypes

import numpy as np
import pytest

import strata

pd = pytest.importorskip("pandas")

FEATURE_STATS = ["mean", "std", "min", "p10", "median", "p90", "max", "z"]


def feature_table(df, stat):
    """k+1 x d values of one statistic (rows: clusters then all)."""
    return df.xs(stat, axis=1, level="stat").to_numpy()


def reference_profile(X, labels, k):
    """The same statistics by pandas groupby and numpy (unweighted)."""
    frame = pd.DataFrame(X)
    groups = frame.groupby(labels)
    mean_all, sd_all = X.mean(axis=0), X.std(axis=0)
    out = {s: np.full((k + 1, X.shape[1]), np.nan) for s in FEATURE_STATS}
    count = np.zeros(k + 1)
    for c in range(k + 1):
        rows = X if c == k else X[labels == c]
        count[c] = rows.shape[0]
        if rows.shape[0] == 0:
            continue
        out["mean"][c] = groups.mean().loc[c] if c < k else mean_all
        out["std"][c] = groups.std(ddof=0).loc[c] if c < k else sd_all
        out["min"][c] = rows.min(axis=0)
        out["max"][c] = rows.max(axis=0)
        out["p10"][c] = np.percentile(rows, 10, axis=0)
        out["median"][c] = np.percentile(rows, 50, axis=0)
        out["p90"][c] = np.percentile(rows, 90, axis=0)
        out["z"][c] = np.where(sd_all > 0, (out["mean"][c] - mean_all) / np.where(sd_all > 0, sd_all, 1), 0)
    return count, out


def test_profile_against_numpy_and_pandas():
    rng = np.random.default_rng(1)
    n, d, k = 3000, 4, 6
    # heavy tails, a large offset, and an integer column full of ties
    X = np.column_stack([rng.lognormal(3, 1, n), rng.normal(1e7, 5, n),
                         rng.integers(0, 5, n).astype(float), rng.normal(size=n)])
    labels = rng.integers(0, k - 1, n).astype(np.int32)  # cluster k-1 stays empty
    df = strata.profile(X, labels, k=k)
    count, ref = reference_profile(X, labels, k)
    assert list(df.index) == list(range(k)) + [-1]
    np.testing.assert_array_equal(df[("size", "count")].to_numpy(), count)
    np.testing.assert_allclose(df[("size", "share")].to_numpy(), count / n, rtol=1e-15)
    for stat in ("min", "max", "p10", "median", "p90"):  # exact order statistics: same bits
        np.testing.assert_array_equal(feature_table(df, stat), ref[stat], err_msg=stat)
    for stat in ("mean", "std"):
        np.testing.assert_allclose(feature_table(df, stat), ref[stat], rtol=1e-9, err_msg=stat)
    # z divides a difference of means near 1e7 (each good to a few ulps, 1e-9) by sd 5
    np.testing.assert_allclose(feature_table(df, "z"), ref["z"], rtol=1e-12, atol=1e-8)
    # the empty cluster: count 0, NaN statistics
    assert df.loc[k - 1, ("size", "count")] == 0
    assert np.isnan(feature_table(df, "mean")[k - 1]).all()
    # the z of the all-rows row is 0, its share 1
    assert (feature_table(df, "z")[-1] == 0).all() and df.loc[-1, ("size", "share")] == 1


def test_profile_feature_names_from_dataframe_and_layout():
    X = pd.DataFrame({"recency": [1.0, 2, 30, 40], "spend": [10.0, 20, 1, 2]})
    df = strata.profile(X, [0, 0, 1, 1])
    assert list(df.columns.get_level_values("feature").unique()) == ["size", "recency", "spend"]
    assert df.loc[1, ("recency", "mean")] == 35.0
    assert df.loc[0, ("spend", "median")] == 15.0
    # z: cluster 0's recency mean 1.5 against the overall mean 18.25, sd of all rows
    sd = np.std([1.0, 2, 30, 40])
    assert df.loc[0, ("recency", "z")] == pytest.approx((1.5 - 18.25) / sd)


def test_profile_constant_feature_has_zero_z():
    X = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    df = strata.profile(X, np.arange(10) % 2)
    assert (df.xs("z", axis=1, level="stat")["x0"] == 0).all()
    assert (df.xs("std", axis=1, level="stat")["x0"] == 0).all()


def weighted_quantile_reference(v, w, q):
    """Inverted CDF by a full sort: smallest value whose cumulative weight >= q W."""
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    return v[order][np.searchsorted(cum, q * cum[-1], side="left")]


def test_weighted_profile():
    rng = np.random.default_rng(2)
    n, d, k = 2000, 3, 4
    X = np.column_stack([rng.integers(0, 20, n).astype(float), rng.normal(size=n),
                         rng.lognormal(size=n)])
    labels = rng.integers(0, k, n).astype(np.int32)
    w = rng.integers(0, 4, n).astype(float)  # integer weights, zeros among them
    df = strata.profile(X, labels, k=k, weights=w)
    for c in range(k + 1):
        sel = np.ones(n, bool) if c == k else labels == c
        rows, ww = X[sel], w[sel]
        pos = ww > 0
        assert df[("size", "count")].iloc[c] == sel.sum()
        assert df[("size", "weight")].iloc[c] == ww.sum()
        np.testing.assert_allclose(df[("size", "share")].iloc[c], ww.sum() / w.sum())
        mean = np.average(rows, axis=0, weights=ww)
        np.testing.assert_allclose(feature_table(df, "mean")[c], mean, rtol=1e-12)
        np.testing.assert_allclose(feature_table(df, "std")[c],
                                   np.sqrt(np.average((rows - mean) ** 2, axis=0, weights=ww)),
                                   rtol=1e-10)
        np.testing.assert_array_equal(feature_table(df, "min")[c], rows[pos].min(axis=0))
        np.testing.assert_array_equal(feature_table(df, "max")[c], rows[pos].max(axis=0))
        # integer weights = repeated rows: numpy's inverted_cdf on the repeats
        rep = np.repeat(rows, ww.astype(int), axis=0)
        for stat, q in (("p10", 10), ("median", 50), ("p90", 90)):
            np.testing.assert_array_equal(feature_table(df, stat)[c],
                                          np.percentile(rep, q, axis=0, method="inverted_cdf"),
                                          err_msg=f"{stat} of cluster {c}")
    # non-integer weights against the sort-based definition
    w2 = rng.uniform(0, 2, n)
    df2 = strata.profile(X, labels, k=k, weights=w2)
    for c in range(k):
        sel = labels == c
        for j in range(d):
            for stat, q in (("p10", 0.1), ("median", 0.5), ("p90", 0.9)):
                assert df2.loc[c, (f"x{j}", stat)] == weighted_quantile_reference(
                    X[sel, j], w2[sel], q)


def test_weighted_zero_weight_cluster_is_empty():
    X = np.arange(8.0).reshape(4, 2)
    df = strata.profile(X, [0, 0, 1, 1], weights=[1, 1, 0, 0])
    assert df.loc[1, ("size", "count")] == 2 and df.loc[1, ("size", "weight")] == 0
    assert np.isnan(feature_table(df, "median")[1]).all()
    np.testing.assert_array_equal(feature_table(df, "max")[-1], [2.0, 3.0])


def test_profile_same_bits_for_any_thread_count():
    rng = np.random.default_rng(3)
    n = 70000  # several row chunks
    X = rng.normal(1000, 50, (n, 3))
    labels = rng.integers(0, 5, n).astype(np.int32)
    w = rng.uniform(0, 3, n)
    for weights in (None, w):
        a = strata.profile(X, labels, weights=weights, n_threads=1)
        b = strata.profile(X, labels, weights=weights, n_threads=4)
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@pytest.mark.parametrize("case, match", [
    ("nan", "row 3, feature 1"),
    ("label", "label 7 of row 2"),
    ("negative_weight", "weight -1 of row 0"),
    ("zero_weights", "all zero"),
])
def test_profile_bad_input(case, match):
    X = np.ones((5, 2))
    labels = np.zeros(5, np.int32)
    weights = None
    if case == "nan":
        X[3, 1] = np.nan
    elif case == "label":
        labels[2] = 7
    elif case == "negative_weight":
        weights = np.array([-1.0, 1, 1, 1, 1])
    else:
        weights = np.zeros(5)
    with pytest.raises(strata.ArgumentError, match=match):
        strata.profile(X, labels, k=2, weights=weights)


# A library object of our own: declaring functions here leaves the binding's alone.
_own = ctypes.CDLL(strata.library_path)


def _declare(name, restype, argtypes):
    f = getattr(_own, name)
    f.restype, f.argtypes = restype, argtypes
    return f


def test_profile_format_and_write_h5(tmp_path):
    h5py = pytest.importorskip("h5py")
    P = ctypes.c_void_p
    compute = _declare("strata_profile_compute", ctypes.c_int,
                       [ctypes.POINTER(P), ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                        ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                        ctypes.c_void_p, ctypes.c_int])
    fmt = _declare("strata_profile_format", ctypes.c_int64,
                   [P, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t])
    write = _declare("strata_profile_write_h5", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_int])
    free = _declare("strata_profile_free", None, [P])
    X = np.array([[1.0, 10], [2, 20], [3, 30], [10, 5]])
    labels = np.array([0, 0, 0, 1], np.int32)
    names = (ctypes.c_char_p * 2)(b"recency", b"spend")
    h = P()
    assert compute(ctypes.byref(h), X.ctypes.data, 4, 2, 0, names, labels.ctypes.data, 2,
                   None, 1) == 0
    try:
        size = fmt(h, None, None, 0)
        assert size > 0
        buf = ctypes.create_string_buffer(size + 1)
        assert fmt(h, None, buf, size + 1) == size
        text = buf.value.decode()
        assert len(text) == size
        lines = text.splitlines()
        assert lines[0].split() == ["0", "1", "all"]
        assert lines[1].split() == ["count", "3", "1", "4"]
        i = lines.index("recency")
        assert lines[i + 1].split() == ["mean", "2", "10", "4"]
        assert lines[i + 5].split() == ["median", "2", "10", "2.5"]
        small = ctypes.create_string_buffer(10)  # cut, but NUL-terminated, same length
        assert fmt(h, None, small, 10) == size and len(small.value) == 9
        out = tmp_path / "p.h5"
        assert write(h, str(out).encode(), 0) == 0
        assert write(h, str(out).encode(), 0) == -206  # exists
    finally:
        free(h)
    ref = strata.profile(X, labels, feature_names=["recency", "spend"])
    with h5py.File(out) as f:
        assert [s.decode() for s in f["profile/feature_names"][()]] == ["recency", "spend"]
        np.testing.assert_array_equal(f["profile/count"][()], [3, 1])
        np.testing.assert_array_equal(f["profile/mean"][()], feature_table(ref, "mean")[:2])
        np.testing.assert_array_equal(f["profile/p90"][()], feature_table(ref, "p90")[:2])
        np.testing.assert_array_equal(f["profile/overall/median"][()], [2.5, 15])
        assert f["profile"].attrs["weighted"] == 0


# ---- lifecycle --------------------------------------------------------------

def test_lifecycle_hand_table():
    ref = 1000
    # (first, last, expected) with the defaults new < 30, active <= 90, dormant <= 365
    table = [
        (971, 990, "new"),      # tenure 29
        (970, 990, "active"),   # tenure 30: not new; recency 10
        (500, 910, "active"),   # recency 90
        (500, 909, "dormant"),  # recency 91
        (100, 635, "dormant"),  # recency 365
        (100, 634, "lost"),     # recency 366
        (1000, 1000, "new"),    # first purchase on the reference day
        (980, 980, "new"),      # new wins over recency
        (0, 1000, "active"),    # recency 0
    ]
    first = [t[0] for t in table]
    last = [t[1] for t in table]
    codes = strata.lifecycle(first, last, np.ones(len(table)), ref)
    assert [strata.STAGE_NAMES[c] for c in codes] == [t[2] for t in table]
    cat = strata.lifecycle(first, last, None, ref, names=True)
    assert list(cat) == [t[2] for t in table]
    # other thresholds: new < 10, active <= 20, lost > 100
    codes = strata.lifecycle([995, 900, 900, 800, 800], [999, 980, 979, 900, 899], None, 1000,
                             thresholds=[10, 20, 100])
    assert [strata.STAGE_NAMES[c] for c in codes] == ["new", "active", "dormant", "dormant",
                                                     "lost"]
    # new_days 0: nobody new; active == lost: nobody dormant
    codes = strata.lifecycle([1000, 0], [1000, 500], None, 1000, thresholds=[0, 90, 90])
    assert [strata.STAGE_NAMES[c] for c in codes] == ["active", "lost"]


@pytest.mark.parametrize("first, last, purchases, thresholds, match", [
    ([5], [4], None, None, "first purchase day 5 is after the last purchase day 4"),
    ([5], [11], None, None, "last purchase day 11 is after the reference day 10"),
    ([1], [2], [0], None, "row 0: 0 purchases"),
    ([1], [2], None, [30, 20, 365], "0 <= new <= active <= lost"),
    ([1], [2], None, [-1, 20, 365], "0 <= new <= active <= lost"),
])
def test_lifecycle_bad_input(first, last, purchases, thresholds, match):
    with pytest.raises(strata.ArgumentError, match=match):
        strata.lifecycle(first, last, purchases, 10, thresholds=thresholds)


def test_rfm_lifecycle_matches_columns():
    rng = np.random.default_rng(4)
    n = 500
    cid = rng.integers(0, 60, n)
    day = rng.integers(0, 800, n)
    amount = rng.uniform(1, 50, n)
    P = ctypes.c_void_p
    create = _declare("strata_rfm_create", ctypes.c_int, [ctypes.POINTER(P)])
    fit = _declare("strata_rfm_fit", ctypes.c_int, [P, ctypes.c_void_p, ctypes.c_void_p,
                                                    ctypes.c_void_p, ctypes.c_int64])
    life = _declare("strata_rfm_lifecycle", ctypes.c_int, [P, ctypes.c_void_p, ctypes.c_void_p,
                                                           ctypes.c_int64])
    free = _declare("strata_rfm_free", None, [P])
    h = P()
    assert create(ctypes.byref(h)) == 0
    try:
        cid64, day64 = cid.astype(np.int64), day.astype(np.int64)
        assert fit(h, cid64.ctypes.data, day64.ctypes.data, amount.ctypes.data, n) == 0
        res = strata.rfm(cid, day, amount)
        m = res.n_customers
        stage = np.empty(m, np.int32)
        assert life(h, None, stage.ctypes.data, m) == 0
        assert life(h, None, stage.ctypes.data, m + 1) == -101
    finally:
        free(h)
    # the same from the columns: last purchase = reference - recency
    t = pd.DataFrame({"c": cid, "d": day}).groupby("c")["d"].agg(["min", "max", "size"])
    expect = strata.lifecycle(t["min"], t["max"], t["size"], day.max() + 1)
    np.testing.assert_array_equal(stage, expect)


# ---- crosstab ---------------------------------------------------------------

def test_crosstab_against_pandas():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 3, 400)
    b = rng.integers(0, 4, 400)
    got = strata.crosstab(a, 3, b, 4)
    ref = pd.crosstab(a, b).reindex(index=range(3), columns=range(4), fill_value=0)
    np.testing.assert_array_equal(got, ref.to_numpy())
    with pytest.raises(strata.ArgumentError, match=r"row 1 has codes \(0, 4\)"):
        strata.crosstab([0, 0], 3, [1, 4], 4)


# ---- migration --------------------------------------------------------------

def test_migrate_hand_case():
    # tiers: 0 high, 1 mid, 2 low
    old_ids = [30, 10, 20, 40, 50, 70]
    old_tiers = [2, 0, 1, 1, 0, 2]
    new_ids = [20, 10, 30, 40, 60, 70]
    new_tiers = [0, 0, 1, 2, 1, 2]
    matrix, customers = strata.migrate(old_ids, old_tiers, new_ids, new_tiers,
                                       tier_names=["high", "mid", "low"])
    # 10 high->high same, 20 mid->high up, 30 low->mid up, 40 mid->low down,
    # 50 high gone, 60 new mid, 70 low->low same
    assert list(customers["customer_id"]) == [10, 20, 30, 40, 50, 60, 70]
    assert list(customers["old_tier"]) == [0, 1, 2, 1, 0, -1, 2]
    assert list(customers["new_tier"]) == [0, 0, 1, 2, -1, 1, 2]
    assert list(customers["move"]) == ["same", "up", "up", "down", "gone", "new", "same"]
    expect = np.array([[1, 0, 0],   # high -> high
                       [1, 0, 1],   # mid -> high, mid -> low
                       [0, 1, 1]])  # low -> mid, low -> low
    np.testing.assert_array_equal(matrix.to_numpy(), expect)
    assert list(matrix.index) == ["high", "mid", "low"] and matrix.index.name == "old"
    counts = customers["move"].value_counts()
    assert (counts["same"], counts["up"], counts["down"], counts["new"], counts["gone"]) == \
        (2, 2, 1, 1, 1)


def test_migrate_against_pandas_merge():
    rng = np.random.default_rng(6)
    old_ids = rng.permutation(3000)[:2000]
    new_ids = rng.permutation(3000)[:2200]
    old_t = rng.integers(0, 4, 2000)
    new_t = rng.integers(0, 4, 2200)
    matrix, customers = strata.migrate(old_ids, old_t, new_ids, new_t, 4)
    m = pd.merge(pd.DataFrame({"id": old_ids, "o": old_t}), pd.DataFrame({"id": new_ids, "n": new_t}),
                 on="id", how="outer").sort_values("id")
    np.testing.assert_array_equal(customers["customer_id"], m["id"])
    np.testing.assert_array_equal(customers["old_tier"], m["o"].fillna(-1))
    np.testing.assert_array_equal(customers["new_tier"], m["n"].fillna(-1))
    both = m.dropna()
    ref = pd.crosstab(both["o"], both["n"]).to_numpy()
    np.testing.assert_array_equal(matrix.to_numpy(), ref)


@pytest.mark.parametrize("old_ids, old_tiers, match", [
    ([1, 2, 1], [0, 0, 1], "customer id 1 appears twice in the old tiering"),
    ([1, 2], [0, 3], "customer 2 .* has tier 3, outside 0..2"),
])
def test_migrate_bad_input(old_ids, old_tiers, match):
    with pytest.raises(strata.ArgumentError, match=match):
        strata.migrate(old_ids, old_tiers, [1], [0], 3)


def test_profile_to_hdf5_against_numpy(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(4)
    n, k = 400, 3
    X = np.column_stack([rng.lognormal(2, 1, n), rng.integers(1, 9, n).astype(float)])
    labels = rng.integers(0, k, n)
    out = tmp_path / "p.h5"
    df = strata.profile(X, labels, k=k, feature_names=["spend", "orders"], out=out)
    count, ref = reference_profile(X, labels, k)
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["/profile/count"][:], count[:k])
        assert [s.decode() if isinstance(s, bytes) else s
                for s in f["/profile/feature_names"][:]] == ["spend", "orders"]
        for stat in ("min", "median", "p90", "max"):
            np.testing.assert_array_equal(f[f"/profile/{stat}"][:], ref[stat][:k], err_msg=stat)
            np.testing.assert_array_equal(f[f"/profile/overall/{stat}"][:], ref[stat][k])
        np.testing.assert_allclose(f["/profile/mean"][:], ref["mean"][:k], rtol=1e-12)
        np.testing.assert_array_equal(f["/profile/mean"][:], feature_table(df, "mean")[:k])
        assert f["/profile"].attrs["weighted"] == 0
    with pytest.raises(strata.OutputExistsError):
        strata.profile(X, labels, out=out)
    strata.profile(X, labels, weights=np.ones(n), out=out, force=True)
    with h5py.File(out, "r") as f:
        assert f["/profile"].attrs["weighted"] == 1
