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


@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang", "elkan", "full", "auto"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_algorithms_same_result_as_lloyd(algorithm, dtype):
    # scikit-learn's names and "hamerly": bitwise the same fit as "lloyd"
    # (the bounded algorithm only skips rows whose label cannot change), and
    # the same labels as scikit-learn's own elkan from a start inside the blobs.
    X, _, firsts = make_blobs(4000, 5, 6, dtype, seed=3)
    init = X[firsts].astype(np.float64) + 2.0
    ref = strata.KMeans(6, init=init, tol=0, algorithm="lloyd", n_threads=2).fit(X)
    ours = strata.KMeans(6, init=init, tol=0, algorithm=algorithm, n_threads=3).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
    assert ours.inertia_ == ref.inertia_ and ours.n_iter_ == ref.n_iter_
    sk = SkKMeans(6, init=init, n_init=1, algorithm="elkan", tol=0).fit(X)
    np.testing.assert_array_equal(ours.labels_, sk.labels_)


def test_clone_and_params():
    km = strata.KMeans(5, init="random", n_init=3, max_iter=50, tol=0.0, random_state=7,
                       algorithm="lloyd", n_threads=2)
    copy = clone(km)
    assert copy is not km and copy.get_params() == km.get_params()
    assert set(km.get_params()) == {"n_clusters", "init", "n_init", "max_iter", "tol",
                                    "random_state", "algorithm", "n_threads", "chain_length", "memory"}
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


# ---- scikit-learn's estimator checks ------------------------------------------------

from sklearn.utils.estimator_checks import (check_estimator,  # noqa: E402
                                            check_sample_weights_invariance,
                                            parametrize_with_checks)


_QUIET = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning",
                                    "ignore::sklearn.exceptions.SkipTestWarning")


@_QUIET
@parametrize_with_checks([strata.KMeans()])
def test_sklearn_estimator_check(estimator, check):
    """Every check of scikit-learn's suite, one test each (the clustering ones
    included: KMeans declares itself a clusterer)."""
    check(estimator)


@_QUIET
def test_check_estimator_passes_whole():
    assert strata.KMeans()._estimator_type == "clusterer"
    check_estimator(strata.KMeans())


def test_expected_failures_are_sklearns_own():
    ours = strata.KMeans()._more_tags()["_xfail_checks"]
    theirs = SkKMeans()._get_tags()["_xfail_checks"]
    assert set(ours) <= set(theirs)


@_QUIET
def test_unit_weights_are_no_weights():
    # the half of check_sample_weights_invariance that the expected failure
    # above hides: it must pass (zero weights differ only by row order)
    for init in ("k-means++", "random"):
        check_sample_weights_invariance("KMeans", strata.KMeans(init=init), kind="ones")


def test_zero_weights_are_removed_rows():
    # what kind="zeros" means, with an initialisation that does not depend on
    # the row order: the same model as without the zero-weight rows
    X, _, firsts = make_blobs(300, 3, 4, seed=5)
    rng = np.random.default_rng(0)
    extra = rng.normal(scale=50.0, size=(100, 3))
    both = np.vstack([X, extra])
    w = np.r_[np.ones(len(X)), np.zeros(len(extra))]
    order = rng.permutation(len(both))
    init = X[firsts] + 1.0
    ref = strata.KMeans(4, init=init, tol=0).fit(X)
    ours = strata.KMeans(4, init=init, tol=0).fit(both[order], sample_weight=w[order])
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.labels_)


def test_convergence_warning_is_sklearns():
    X = np.array([[0.0, 1.0]] * 4 + [[2.0, 2.0]])
    with pytest.warns(sklearn.exceptions.ConvergenceWarning, match="distinct clusters"):
        labels = strata.KMeans(3, random_state=0).fit_predict(X)
    with pytest.warns(sklearn.exceptions.ConvergenceWarning):
        ref = SkKMeans(3, n_init=1, random_state=0).fit(X)
    # both fit; the labels describe the same partition into two groups
    assert len(np.unique(labels)) == len(np.unique(ref.labels_)) == 2
    assert labels[0] == labels[3] != labels[4]


def test_afkmc2_inertia_against_sklearn():
    # mean converged inertia over 10 seeds within 3% of scikit-learn's
    # KMeans (greedy k-means++, n_init=1) on overlapping blobs
    from sklearn.datasets import make_blobs as sk_blobs
    X, _ = sk_blobs(6000, 3, centers=16, center_box=(-10, 10), random_state=29)
    ours = np.mean([strata.KMeans(24, init="afk-mc2", random_state=s).fit(X).inertia_
                    for s in range(10)])
    ref = np.mean([SkKMeans(24, n_init=1, random_state=s).fit(X).inertia_ for s in range(10)])
    assert ours <= 1.03 * ref, (ours, ref)
