"""Overflow is an error or handled exactly, never a result (issue 12): RFM
amounts whose totals overflow double, k-means data whose squared distances
overflow float32 (computed in double) or double (an error). Expectations are
hand-computed or from the same values given as float64."""

import numpy as np
import pytest

import strata


def all_finite_rfm(res):
    """Every number of an RFMResult is finite, except the documented NaN:
    means and medians of empty segments, shares when the total revenue is 0."""
    for name in ("monetary", "revenue", "recency", "frequency", "r", "f", "m"):
        assert np.isfinite(getattr(res, name)).all(), name
    for metric, edges in res.edges.items():
        assert np.isfinite(edges).all(), metric
    count = res.profile["count"]
    for stat, values in res.profile.items():
        if stat == "segment":
            continue
        ok = np.isfinite(values)
        if stat.startswith(("mean_", "median_")):
            ok |= count == 0
        if stat == "revenue_share" and res.revenue.astype(np.longdouble).sum() == 0:
            ok |= np.isnan(values)
        assert ok.all(), (stat, values)


def test_rfm_amounts_overflow_is_an_error():
    ids = [2, 1, 3, 1]
    days = [5, 1, 6, 2]
    with pytest.raises(strata.ArgumentError, match=r"customer 1 .*beyond the double range") as e:
        strata.rfm(ids, days, [7.0, 1e308, 8.0, 1e308])
    assert isinstance(e.value, ValueError)
    assert e.value.code == -103
    # two customers near the range: each total is finite, their sum is not
    with pytest.raises(strata.ArgumentError, match="revenue"):
        strata.rfm([1, 2, 3], [1, 1, 2], [1e308, 0.9e308, 4.0])


def test_rfm_large_finite_amounts_are_exact():
    res = strata.rfm([2, 1, 3, 1], [5, 1, 6, 2], [7.0, 1e308, 8.0, 5.0])
    assert res.monetary.tolist() == [1e308, 7.0, 8.0]
    assert res.report["bad_amount"] == 0
    all_finite_rfm(res)
    # NET: +1e308 -1e308 +1e308 stays finite in the canonical (day) order
    res = strata.rfm([1, 1, 1, 2, 3], [1, 2, 3, 4, 5], [1e308, -1e308, 1e308, 5.0, 6.0],
                     negative="net")
    assert res.monetary.tolist() == [1e308, 5.0, 6.0]
    assert res.frequency.tolist() == [2, 1, 1]
    all_finite_rfm(res)


def test_rfm_score_edges_near_the_range():
    res = strata.rfm_score([1, 2], [1, 1], [1, 1], [-1e308, 1e308], bins=2, ties="value")
    # numpy.quantile gives NaN here; the weighted mean of the two is 0
    assert res.edges["monetary"].tolist() == [-1e308, 0.0, 1e308]
    assert res.m.tolist() == [1, 2]
    all_finite_rfm(res)


def blobs(n, d, k, scale):
    """Row i in blob i % k; centres 100 apart, rows within +-1 of them."""
    rng = np.random.default_rng(5)
    centres = 100.0 * ((np.arange(k)[:, None] * (np.arange(d)[None, :] + 3)) % 11)
    x = centres[np.arange(n) % k] + rng.uniform(-1, 1, (n, d))
    return x * scale


@pytest.mark.parametrize("scale", [1e19, 1e20])
@pytest.mark.parametrize("d,k", [(2, 4), (8, 8)])
def test_kmeans_float32_beyond_float_range(scale, d, k):
    n = 160
    x32 = blobs(n, d, k, scale).astype(np.float32)
    x64 = x32.astype(np.float64)
    km = strata.KMeans(k, init=x64[:k], n_init=1).fit(x32)
    assert km.labels_.tolist() == (np.arange(n) % k).tolist()
    assert np.isfinite(km.cluster_centers_).all() and np.isfinite(km.inertia_)
    ref = strata.KMeans(k, init=x64[:k], n_init=1).fit(x64)
    assert np.array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_
    # the unscaled data give the same labels
    small = strata.KMeans(k, init=(x64[:k] / scale).astype(np.float32), n_init=1)
    assert small.fit(blobs(n, d, k, 1.0).astype(np.float32)).labels_.tolist() == km.labels_.tolist()
    assert km.predict(x32).tolist() == km.labels_.tolist()
    assert np.isfinite(km.transform(x32)).all()
    # k-means++ too: the blobs, up to a renaming
    pp = strata.KMeans(k, random_state=3).fit(x32)
    pairs = set(zip(np.arange(n) % k, pp.labels_))
    assert len(pairs) == k and len({b for _, b in pairs}) == k


def test_kmeans_float64_beyond_double_range_is_an_error():
    x = blobs(64, 4, 4, 1e155)
    with pytest.raises(strata.ArgumentError, match="overflow double"):
        strata.KMeans(4, random_state=0).fit(x)
    km = strata.KMeans(4, random_state=0).fit(blobs(64, 4, 4, 1e149))
    assert np.isfinite(km.cluster_centers_).all() and np.isfinite(km.inertia_)
    with pytest.raises(strata.ArgumentError, match="overflow double"):
        km.predict(x)
