"""Agreement with scikit-learn and use inside its tools."""

import numpy as np
import pytest

import strata
from conftest import make_blobs

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is not installed")
from sklearn.base import clone  # noqa: E402
from sklearn.cluster import KMeans as SkKMeans  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n, d, k", [(2000, 2, 3), (5000, 8, 6), (3000, 20, 10)])
def test_same_result_as_sklearn_lloyd(n, d, k, dtype, weighted):
    X, _, firsts = make_blobs(n, d, k, dtype, seed=n + d)
    # Start every centroid in its own blob, a little off-centre, so that Lloyd
    # has work to do but no row lies near a boundary.
    init = X[firsts].astype(np.float64) + 2.0
    weights = np.random.default_rng(1).uniform(0.2, 3.0, n) if weighted else None
    ours = strata.KMeans(k, init=init, tol=0, random_state=0).fit(X, sample_weight=weights)
    ref = SkKMeans(k, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    scale = np.abs(X).max()
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5,
                               atol=1e-5 * scale)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-5)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.transform(X[:50]), ref.transform(X[:50]), rtol=1e-5,
                               atol=1e-5 * scale)
    assert ours.score(X, sample_weight=weights) == pytest.approx(
        ref.score(X, sample_weight=weights), rel=1e-5)


def test_clone_and_params():
    km = strata.KMeans(5, init="random", n_init=3, max_iter=50, tol=0.0, random_state=7,
                       algorithm="lloyd", n_threads=2)
    copy = clone(km)
    assert copy is not km and copy.get_params() == km.get_params()
    assert set(km.get_params()) == {"n_clusters", "init", "n_init", "max_iter", "tol",
                                    "random_state", "algorithm", "n_threads"}
    assert km.set_params(n_clusters=3) is km and km.n_clusters == 3
    with pytest.raises(ValueError, match="Invalid parameter"):
        km.set_params(n_jobs=2)
    assert repr(strata.KMeans(3, random_state=0)) == "KMeans(n_clusters=3, random_state=0)"


def test_clone_keeps_array_init(blobs):
    init = blobs[:4].copy()
    fitted = strata.KMeans(4, init=init).fit(blobs)
    copy = clone(fitted)
    assert not hasattr(copy, "labels_")
    np.testing.assert_array_equal(copy.init, init)
    np.testing.assert_array_equal(copy.fit(blobs).labels_, fitted.labels_)


def test_pipeline(blobs):
    pipe = make_pipeline(StandardScaler(), strata.KMeans(4, random_state=0))
    labels = pipe.fit_predict(blobs)
    scaled = StandardScaler().fit_transform(blobs)
    direct = strata.KMeans(4, random_state=0).fit(scaled)
    np.testing.assert_array_equal(labels, direct.labels_)
    np.testing.assert_array_equal(pipe.predict(blobs), direct.predict(scaled))
    assert pipe.score(blobs) == pytest.approx(direct.score(scaled))
    assert pipe.transform(blobs).shape == (len(blobs), 4)


def test_pipeline_passes_fit_params(blobs):
    seen = []
    pipe = make_pipeline(StandardScaler(), strata.KMeans(4, random_state=0))
    pipe.fit(blobs, kmeans__progress=lambda run, it, inertia: seen.append(it))
    assert seen and seen[-1] == pipe[-1].n_iter_


def test_sklearn_sees_fitted_state(blobs):
    from sklearn.utils.validation import check_is_fitted
    km = strata.KMeans(4)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(km)
    check_is_fitted(km.fit(blobs))
