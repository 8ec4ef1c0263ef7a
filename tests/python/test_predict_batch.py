"""predict: a row's label does not depend on the other rows of the call (issue 11).

Before the fix, predict centred the distances on the batch mean and chose
float32 or double per batch, so on exact distance ties a row alone could get
another label than in a batch (scikit-learn's digits, row 690)."""

import numpy as np
import pytest

import strata


def _batches(n, rng):
    """Random batches (sizes 1..n/3) of a random permutation of range(n)."""
    order = rng.permutation(n)
    out, i = [], 0
    while i < n:
        size = int(rng.integers(1, max(2, n // 3)))
        out.append(order[i:i + size])
        i += size
    return out


def _check_batch_independent(km, X, rng):
    whole = km.predict(X)
    alone = np.array([km.predict(X[i:i + 1])[0] for i in range(len(X))])
    np.testing.assert_array_equal(alone, whole)
    for _ in range(3):
        got = np.empty(len(X), np.int32)
        for b in _batches(len(X), rng):
            got[b] = km.predict(X[b])
        np.testing.assert_array_equal(got, whole)
    return whole


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_digits_rows_one_by_one(dtype):
    datasets = pytest.importorskip("sklearn.datasets")
    X = datasets.load_digits().data.astype(dtype)
    rng = np.random.default_rng(0)
    for k in (8, 10):
        km = strata.KMeans(n_clusters=k, random_state=0).fit(X)
        _check_batch_independent(km, X, rng)
        # row 690 of the issue, alone and in a batch far from it
        far = X[rng.choice(len(X), 50)] * 3
        assert km.predict(X[690:691])[0] == km.predict(np.vstack([far, X[690:691]]))[-1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_ties_any_batch(dtype):
    # centroids at 0 and 2 (feature 0) and 10: rows at 1 are exact ties of
    # centroids 0 and 1 and must go to the lower index whatever the batch
    # (its mean moves with the other rows: 1, or far away)
    C = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 5.0]])
    km = strata.KMeans(n_clusters=3, init=C, n_init=1, max_iter=1).fit(C)
    np.testing.assert_array_equal(km.cluster_centers_, C)
    ties = np.array([[1.0, 0.0], [1.0, 0.0]], dtype)
    others = np.array([[1e4, -3e3], [7.25, 1.5], [-123.5, 999.0]], dtype)
    assert list(km.predict(ties)) == [0, 0]
    assert list(km.predict(np.vstack([others, ties])))[-2:] == [0, 0]
    rng = np.random.default_rng(1)
    X = np.vstack([ties, others, rng.integers(-20, 20, (200, 2)).astype(dtype),
                   np.tile([[6.0, 2.5]], (5, 1)).astype(dtype)])  # 6, 2.5: tie of 1 and 2
    labels = _check_batch_independent(km, X, rng)
    assert (labels[-5:] == 1).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_data_any_batch(dtype):
    rng = np.random.default_rng(2)
    X = (rng.normal(size=(600, 5)) * [1, 10, 100, 1e3, 1e4] + 5e4).astype(dtype)
    km = strata.KMeans(n_clusters=7, random_state=3).fit(X)
    labels = _check_batch_independent(km, X, rng)
    # against the exact nearest centroid in long double where not a near-tie
    d2 = ((X.astype(np.longdouble)[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    s = np.sort(d2, axis=1)
    clear = (s[:, 1] - s[:, 0]) > 1e-6 * s[:, 1]
    np.testing.assert_array_equal(labels[clear], d2.argmin(1)[clear])


def test_float32_rows_beyond_float_range_alone_and_in_batch():
    # rows far beyond float32 squares are scored in double row by row
    C = np.array([[-2e19, 0.0], [2e19, 0.0]])
    km = strata.KMeans(n_clusters=2, init=C, n_init=1, max_iter=1).fit(C)
    X = np.array([[-4e18, 0.0], [6e18, 1.0], [1.0, 2.0], [-1.0, 0.0]], np.float32)
    rng = np.random.default_rng(4)
    labels = _check_batch_independent(km, X, rng)
    assert list(labels[:2]) == [0, 1]
