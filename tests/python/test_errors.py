"""Every error path raises a strata.Error subclass of the right built-in type."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import strata
from strata.errors import error_for


@pytest.mark.parametrize("bad, match, type_error", [
    (np.ones((5, 2), complex), "Complex data not supported", False),
    (np.array([["a", "b"], ["c", "d"]]), "real numbers", True),
    ([[1.0, 2.0], [3.0]], "cannot be converted", False),
    ([[object(), 1.0]], "cannot be converted", True),
    (np.array([["1.5", "x"], ["2", "3"]], dtype=object), "could not convert string", True),
    (np.array([[{"a": 1}, 2.0]], dtype=object), "argument must be a string or a.* number", True),
    (np.ones(5), "2-D array.*Reshape your data", False),
    (np.ones((2, 2, 2)), "2-D array", False),
    (np.ones((0, 2)), r"^Found array with 0 sample\(s\) \(shape=\(0, 2\)\) while a minimum of 1 "
                      r"is required\.$", False),
    (np.ones((3, 0)), r"^Found array with 0 feature\(s\) \(shape=\(3, 0\)\) while a minimum of "
                      r"1 is required\.$", False),
])
def test_bad_data(bad, match, type_error):
    with pytest.raises(strata.ArgumentError, match=match) as info:
        strata.KMeans(2).fit(bad)
    assert isinstance(info.value, ValueError) and -200 < info.value.code <= -100
    assert isinstance(info.value, TypeError) == type_error
    assert isinstance(info.value, strata.DTypeError) == type_error


def test_object_arrays_of_numbers_are_numbers(blobs):
    as_objects = blobs.astype(object)
    as_objects[0, 0] = int(round(blobs[0, 0]))  # Python ints mixed with floats
    exact = blobs.copy()
    exact[0, 0] = as_objects[0, 0]
    ours = strata.KMeans(4, random_state=0).fit(as_objects)
    ref = strata.KMeans(4, random_state=0).fit(exact)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(ours.predict(as_objects), ref.labels_)


def test_sparse_input_is_refused(blobs):
    sparse = pytest.importorskip("scipy.sparse", reason="scipy is not installed")
    with pytest.raises(strata.ArgumentError, match="sparse input is not supported"):
        strata.KMeans(2).fit(sparse.csr_matrix(blobs))


def test_non_finite_names_the_row(blobs):
    X = blobs.copy()
    X[123, 1] = np.nan
    with pytest.raises(ValueError, match="row 123") as info:
        strata.KMeans(4).fit(X)
    assert info.value.code == -103
    km = strata.KMeans(4).fit(blobs)
    X[123, 1] = np.inf
    with pytest.raises(strata.ArgumentError, match="row 123"):
        km.predict(X)


def test_too_many_clusters():
    with pytest.raises(strata.ArgumentError, match="larger than the number of rows") as info:
        strata.KMeans(5).fit(np.arange(8.0).reshape(4, 2))
    assert info.value.code == -101



@pytest.mark.parametrize("init", ["k-means++", "random", "k-means||", "afk-mc2"])
def test_fewer_distinct_points_than_clusters_fit_and_warn(init):
    # as scikit-learn: a model with repeated centroids, and a ConvergenceWarning
    X = np.array([[1.0, 3.0], [2.0, 1.0], [1.0, 3.0], [2.0, 1.0], [1.0, 3.0], [5.0, 5.0]])
    with pytest.warns(strata.ConvergenceWarning,
                      match=r"Number of distinct clusters \(3\) found smaller than n_clusters "
                            r"\(5\)") as record:
        km = strata.KMeans(5, init=init, random_state=0).fit(X)
    assert record[0].filename == __file__  # the warning names the caller
    points = np.unique(X, axis=0)
    # every centroid is a data point, every point a centroid; rows take the
    # lowest-index centroid equal to them
    assert {tuple(c) for c in km.cluster_centers_} == {tuple(p) for p in points}
    first = {tuple(c): j for j, c in reversed(list(enumerate(km.cluster_centers_)))}
    np.testing.assert_array_equal(km.labels_, [first[tuple(x)] for x in X])
    assert km.inertia_ == 0.0 and len(np.unique(km.labels_)) == 3
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    # only rows of weight > 0 count: 2 distinct points left
    w = np.array([1.0, 0.0, 2.0, 0.0, 1.0, 0.0])
    with pytest.warns(strata.ConvergenceWarning, match=r"\(1\) found smaller than n_clusters \(2\)"):
        weighted = strata.KMeans(2, init=init, random_state=0).fit(X, sample_weight=w)
    np.testing.assert_array_equal(weighted.cluster_centers_, [[1.0, 3.0], [1.0, 3.0]])
    # k > n stays an error, as in scikit-learn
    with pytest.raises(strata.ArgumentError, match="larger than the number of rows"):
        strata.KMeans(7, init=init).fit(X)


def test_enough_distinct_points_do_not_warn(blobs, recwarn):
    strata.KMeans(4, random_state=0).fit(blobs)
    strata.KMeans(2, init="random", random_state=0).fit(np.array([[0.0], [0.0], [1.0]]))
    assert not [w for w in recwarn if issubclass(w.category, strata.ConvergenceWarning)]


@pytest.mark.parametrize("params, match", [
    ({"n_clusters": 0}, "n_clusters"),
    ({"n_clusters": 2.5}, "n_clusters"),
    ({"n_clusters": True}, "n_clusters"),
    ({"max_iter": 0}, "max_iter"),
    ({"n_init": 0}, "n_init"),
    ({"tol": -1.0}, "tol"),
    ({"tol": "small"}, "tol"),
    ({"random_state": -1}, "random_state"),
    ({"random_state": "seed"}, "random_state"),
    ({"algorithm": "Hamerly"}, "algorithm"),
    ({"algorithm": "fast"}, "algorithm"),
    ({"init": "kmeans"}, "init"),
    ({"init": np.ones((3, 2))}, "shape"),
    ({"init": np.ones((2, 5))}, "2 x 5"),
    ({"init": np.array([[0.0, np.nan], [1.0, 1.0]])}, "non-finite"),
    ({"n_threads": -1}, "n_threads"),
    ({"n_threads": 5000}, "threads"),
])
def test_bad_parameters(blobs, params, match):
    km = strata.KMeans(**{"n_clusters": 2, **params})  # stored as given, checked by fit
    with pytest.raises(strata.ArgumentError, match=match) as info:
        km.fit(blobs[:, :2])
    assert isinstance(info.value, ValueError)


def test_bad_sample_weight(blobs):
    for weights, match in ((-np.ones(600), "weight"), (np.zeros(600), "zero"),
                           (np.ones(5), "shape"), (np.ones((600, 1)), "shape")):
        with pytest.raises(strata.ArgumentError, match=match):
            strata.KMeans(2).fit(blobs, sample_weight=weights)


def test_not_fitted(blobs):
    km = strata.KMeans(2)
    for call in (lambda: km.predict(blobs), lambda: km.transform(blobs), lambda: km.score(blobs)):
        with pytest.raises(strata.NotFittedError) as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
        assert info.value.code == -400


def test_wrong_feature_count(blobs):
    km = strata.KMeans(2).fit(blobs)
    with pytest.raises(strata.ArgumentError, match="2 features.*3"):
        km.predict(blobs[:, :2])


def test_failed_fit_keeps_previous_model(blobs):
    km = strata.KMeans(4, random_state=0).fit(blobs)
    centers = km.cluster_centers_
    bad = blobs.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        km.fit(bad)
    assert km.cluster_centers_ is centers
    np.testing.assert_array_equal(km.predict(blobs), km.labels_)


@pytest.mark.parametrize("code, cls, builtin", [
    (-100, strata.ArgumentError, ValueError),
    (-106, strata.ArgumentError, ValueError),
    (-201, strata.FileError, OSError),
    (-206, strata.OutputExistsError, FileExistsError),
    (-300, strata.OutOfMemoryError, MemoryError),
    (-400, strata.NotFittedError, AttributeError),
    (-500, strata.Cancelled, strata.Error),
    (-900, strata.InternalError, RuntimeError),
    (-777, strata.Error, Exception),
])
def test_status_classes(code, cls, builtin):
    err = error_for(code, "the message")
    assert type(err) is cls and isinstance(err, builtin) and isinstance(err, strata.Error)
    assert err.code == code and err.message == "the message" and str(err) == "the message"


def _import_with(library):
    package_parent = str(Path(strata.__file__).resolve().parents[1])
    env = dict(os.environ, STRATA_LIBRARY=library, PYTHONPATH=package_parent)
    return subprocess.run([sys.executable, "-c", "import strata"], env=env, capture_output=True,
                          text=True)


def test_import_error_names_the_library():
    result = _import_with("/nonexistent/libstrata.so.0")
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "/nonexistent/libstrata.so.0" in result.stderr


def test_import_rejects_another_library():
    result = _import_with("libm.so.6")
    assert result.returncode != 0 and "not a compatible libstrata" in result.stderr
