"""strata.MiniBatchKMeans against scikit-learn's MiniBatchKMeans.

The two draw different random numbers, so their fits differ seed by seed:
what is compared is the final inertia averaged over seeds (within 2%), the
parameters and their defaults, and the attributes' definitions."""

import math
import warnings

import numpy as np
import pytest

import strata
from conftest import make_blobs

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is not installed")
from sklearn.base import clone  # noqa: E402
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans  # noqa: E402

SEEDS = range(6)


def customers(n, d, seed=42):
    """Customer-like features (bench/compare_converged.py's generator): a latent
    tier sets the log-mean of skewed features, log1p-transformed and standardised."""
    rng = np.random.default_rng(seed)
    lm = 1.0 + 0.8 * np.arange(4)[:, None] * (0.5 + rng.random((4, d))) + \
        0.3 * rng.standard_normal((4, d))
    tier = np.searchsorted([0.5, 0.8, 0.95], rng.random(n), side="right")
    spread = 0.6 + 0.1 * (np.arange(d) % 3)
    x = np.log1p(np.exp(lm[tier] + spread * rng.standard_normal((n, d))))
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)


def sklearn_fit(X, k, seed, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_init and memory-leak notices
        return SkMiniBatchKMeans(k, random_state=seed, n_init=3, **kw).fit(X)


def test_parameters_are_sklearns():
    ours = strata.MiniBatchKMeans().get_params()
    theirs = SkMiniBatchKMeans().get_params()
    shared = {"n_clusters", "init", "max_iter", "batch_size", "tol", "max_no_improvement",
              "init_size", "reassignment_ratio", "random_state"}
    assert {name: ours[name] for name in shared} == {name: theirs[name] for name in shared}
    assert ours["n_init"] == 3  # scikit-learn 1.2's "warn" means 3
    assert set(ours) - shared == {"n_init", "n_threads", "chain_length", "memory"}
    km = clone(strata.MiniBatchKMeans(4, batch_size=100, random_state=1))
    assert km.batch_size == 100 and km.n_clusters == 4
    assert repr(km) == "MiniBatchKMeans(batch_size=100, n_clusters=4, random_state=1)"


@pytest.mark.parametrize("data", ["blobs", "customers"])
def test_inertia_as_sklearn_on_average(data):
    if data == "blobs":
        X, _, _ = make_blobs(20000, 4, 8, np.float32, seed=5)
        X = X + np.random.default_rng(0).normal(scale=4.0, size=X.shape).astype(np.float32)
        k = 8
    else:
        X, k = customers(20000, 6), 8
    ours = [strata.MiniBatchKMeans(k, random_state=s, n_threads=2).fit(X).inertia_ for s in SEEDS]
    theirs = [sklearn_fit(X, k, s).inertia_ for s in SEEDS]
    assert np.mean(ours) == pytest.approx(np.mean(theirs), rel=0.02)


def test_separated_blobs_recovered():
    X, truth, _ = make_blobs(10000, 3, 5, np.float64, seed=2)
    for seed in range(3):
        labels = strata.MiniBatchKMeans(5, random_state=seed, batch_size=256).fit_predict(X)
        pairs = set(zip(truth.tolist(), labels.tolist()))
        assert len(pairs) == 5 and len({t for t, _ in pairs}) == 5 and len({lab for _, lab in pairs}) == 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_attributes(dtype, weighted):
    X = customers(3000, 5).astype(dtype)
    w = np.random.default_rng(3).uniform(0.0, 2.0, len(X)) if weighted else None
    km = strata.MiniBatchKMeans(6, batch_size=200, random_state=4).fit(X, sample_weight=w)
    assert km.cluster_centers_.shape == (6, 5) and km.labels_.shape == (3000,)
    assert 1 <= km.n_steps_ <= 100 * 3000 // 200
    assert km.n_iter_ == math.ceil(km.n_steps_ * 200 / 3000)
    assert km.converged_  # max_no_improvement stops it long before 100 epochs
    # labels and inertia are the exact ones of the final centres
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    assert km.inertia_ == pytest.approx(-km.score(X, sample_weight=w), rel=1e-5)
    d2 = ((X.astype(np.float64)[:, None] - km.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_allclose(km.transform(X) ** 2, d2, rtol=1e-6, atol=1e-9)


def test_threads_do_not_change_the_result():
    X = customers(20000, 6)
    a = strata.MiniBatchKMeans(8, random_state=9, batch_size=5000, n_threads=1).fit(X)
    b = strata.MiniBatchKMeans(8, random_state=9, batch_size=5000, n_threads=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_ and a.n_steps_ == b.n_steps_


def test_steps_without_early_stopping():
    X = customers(2000, 3)
    km = strata.MiniBatchKMeans(4, max_iter=3, batch_size=64, max_no_improvement=None,
                                random_state=0).fit(X)
    sk = sklearn_fit(X, 4, 0, max_iter=3, batch_size=64, max_no_improvement=None)
    assert km.n_steps_ == sk.n_steps_ == 3 * 2000 // 64
    assert km.n_iter_ == sk.n_iter_ and not km.converged_
    calls = []
    strata.MiniBatchKMeans(4, max_iter=2, batch_size=500, max_no_improvement=None,
                           random_state=0).fit(X, progress=lambda *a: calls.append(a))
    assert [c[1] for c in calls] == list(range(1, 9)) and all(c[0] == 0 for c in calls)


@pytest.mark.parametrize("param, value", [("batch_size", 0), ("batch_size", 1.5),
                                          ("reassignment_ratio", -0.1),
                                          ("reassignment_ratio", float("nan")),
                                          ("max_no_improvement", 0), ("max_no_improvement", -1),
                                          ("init_size", 300), ("tol", -1.0), ("max_iter", 0)])
def test_bad_parameters(param, value):
    X = customers(500, 3)
    with pytest.raises(strata.ArgumentError, match=param):
        strata.MiniBatchKMeans(3, **{param: value}).fit(X)
    assert isinstance(strata.ArgumentError("x", -102), ValueError)


def test_given_centroids_and_pickle():
    import pickle
    X, _, firsts = make_blobs(4000, 2, 3, seed=8)
    init = X[firsts] + 1.0
    with pytest.warns(RuntimeWarning, match="only one init"):
        km = strata.MiniBatchKMeans(3, init=init, n_init=3, random_state=0).fit(X)
    means = np.array([X[km.labels_ == j].mean(0) for j in range(3)])
    np.testing.assert_allclose(km.cluster_centers_, means, atol=0.1)  # each centre in its blob
    again = pickle.loads(pickle.dumps(km))
    np.testing.assert_array_equal(again.predict(X), km.labels_)
    assert again.n_steps_ == km.n_steps_
