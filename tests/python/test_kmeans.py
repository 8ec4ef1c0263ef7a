"""Behaviour of strata.KMeans: inputs, seeds, results, pickling, closing, threads."""

import copy
import pickle
import threading

import numpy as np
import pytest

import strata
from strata._arrays import as_matrix
from conftest import make_blobs


def test_fit_results(blobs):
    km = strata.KMeans(4, random_state=0)
    assert km.fit(blobs) is km
    assert km.cluster_centers_.shape == (4, 3) and km.cluster_centers_.dtype == np.float64
    assert km.labels_.shape == (600,) and km.labels_.dtype == np.int32
    assert km.n_features_in_ == 3 and km.n_iter_ >= 1 and km.converged_ is True
    dist = ((blobs - km.cluster_centers_[km.labels_]) ** 2).sum()
    assert km.inertia_ == pytest.approx(dist, rel=1e-10)
    np.testing.assert_array_equal(km.predict(blobs), km.labels_)
    np.testing.assert_array_equal(km.fit_predict(blobs), km.labels_)
    expected = np.linalg.norm(blobs[:, None] - km.cluster_centers_[None], axis=2)
    np.testing.assert_allclose(km.transform(blobs), expected, rtol=1e-10)
    np.testing.assert_allclose(km.fit_transform(blobs), expected, rtol=1e-10)
    assert km.score(blobs) == pytest.approx(-km.inertia_, rel=1e-10)


def test_recovers_blobs():
    X, truth, _ = make_blobs(3000, 5, 6)
    labels = strata.KMeans(6, n_init=3, random_state=1).fit_predict(X)
    pairs = set(zip(truth.tolist(), labels.tolist()))
    assert len(pairs) == 6  # one cluster per blob


def test_float32_and_float64_agree():
    X, _, firsts = make_blobs(2000, 4, 5)
    init = X[firsts]
    a = strata.KMeans(5, init=init).fit(X)
    b = strata.KMeans(5, init=init).fit(X.astype(np.float32))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-5, atol=1e-4)
    assert b.cluster_centers_.dtype == np.float64


def test_same_seed_same_result_different_seeds_differ():
    X = np.random.default_rng(3).uniform(size=(2000, 4))
    fits = [strata.KMeans(12, random_state=s).fit(X) for s in (5, 5, 6, 7)]
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)
    assert any(not np.array_equal(fits[0].cluster_centers_, f.cluster_centers_) for f in fits[2:])


def test_random_state_objects():
    X = np.random.default_rng(4).uniform(size=(500, 3))
    a = strata.KMeans(6, random_state=np.random.RandomState(9)).fit(X)
    b = strata.KMeans(6, random_state=np.random.RandomState(9)).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.random.seed(11)
    c = strata.KMeans(6).fit(X)
    np.random.seed(11)
    d = strata.KMeans(6).fit(X)
    np.testing.assert_array_equal(c.cluster_centers_, d.cluster_centers_)


def test_n_init_and_init_methods():
    X = np.random.default_rng(5).uniform(size=(1000, 2))
    one = strata.KMeans(8, n_init=1, random_state=2).fit(X)
    many = strata.KMeans(8, n_init=5, random_state=2).fit(X)
    assert many.inertia_ <= one.inertia_
    rand = strata.KMeans(8, init="random", n_init="auto", random_state=2).fit(X)
    assert rand.cluster_centers_.shape == (8, 2)
    with pytest.warns(RuntimeWarning, match="only one init"):
        strata.KMeans(2, init=X[:2], n_init=3).fit(X)


def test_thread_count_does_not_change_results():
    X, _, _ = make_blobs(20000, 6, 8)
    one = strata.KMeans(8, random_state=3, n_threads=1).fit(X)
    two = strata.KMeans(8, random_state=3, n_threads=2).fit(X)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    np.testing.assert_array_equal(one.cluster_centers_, two.cluster_centers_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_copy_inputs(dtype):
    big = np.arange(60, dtype=dtype).reshape(10, 6)
    for view, stride in ((big, 6), (big[::2], 12), (big[:, :4], 6), (big[2:5, 1:3], 6)):
        array, code, n, d, row_stride = as_matrix(view)
        assert array is view and (n, d) == view.shape and row_stride == stride


@pytest.mark.parametrize("make", [
    lambda a: np.asfortranarray(a),
    lambda a: a[:, ::2],
    lambda a: a[::-1],
    lambda a: a.astype(np.int64),
    lambda a: a.astype(np.float16),
    lambda a: a.tolist(),
])
def test_converted_inputs_give_the_same_result(blobs, make):
    X = np.round(np.hstack([blobs, blobs]), 2)
    source = make(X)
    expected = np.ascontiguousarray(np.asarray(source), dtype=np.float64)
    assert as_matrix(source)[0] is not source
    a = strata.KMeans(4, random_state=0).fit(source)
    b = strata.KMeans(4, random_state=0).fit(expected)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_strided_rows_match_a_copy(blobs):
    wide = np.hstack([blobs, np.ones((len(blobs), 2))])[::3, :3]
    a = strata.KMeans(4, random_state=0).fit(wide)
    b = strata.KMeans(4, random_state=0).fit(wide.copy())
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.predict(wide), b.predict(wide.copy()))
    np.testing.assert_array_equal(a.transform(wide), b.transform(wide.copy()))


def test_sample_weight(blobs):
    plain = strata.KMeans(4, random_state=0).fit(blobs)
    ones = strata.KMeans(4, random_state=0).fit(blobs, sample_weight=np.ones(len(blobs)))
    scalar = strata.KMeans(4, random_state=0).fit(blobs, sample_weight=2)
    np.testing.assert_array_equal(plain.cluster_centers_, ones.cluster_centers_)
    assert scalar.inertia_ == pytest.approx(2 * plain.inertia_)
    w = np.random.default_rng(0).uniform(0, 2, len(blobs))
    km = strata.KMeans(4, random_state=0).fit(blobs, sample_weight=w.tolist())
    assert km.score(blobs, sample_weight=w) == pytest.approx(-km.inertia_, rel=1e-10)


def test_pickle_round_trip(blobs):
    km = strata.KMeans(4, random_state=0, n_threads=1).fit(blobs)
    back = pickle.loads(pickle.dumps(km))
    assert back.get_params() == km.get_params()
    for name in ("cluster_centers_", "labels_", "inertia_", "n_iter_", "converged_",
                 "n_features_in_"):
        np.testing.assert_array_equal(getattr(back, name), getattr(km, name))
    np.testing.assert_array_equal(back.predict(blobs), km.predict(blobs))
    np.testing.assert_array_equal(back.transform(blobs), km.transform(blobs))
    for clone in (copy.copy(km), copy.deepcopy(km)):
        np.testing.assert_array_equal(clone.predict(blobs), km.labels_)
    unfitted = pickle.loads(pickle.dumps(strata.KMeans(3)))
    assert unfitted.n_clusters == 3 and not hasattr(unfitted, "labels_")


def test_close_and_context_manager(blobs):
    with strata.KMeans(4, random_state=0) as km:
        km.fit(blobs)
    assert km.labels_.shape == (600,)  # fitted attributes outlive the handle
    for call in (lambda: km.predict(blobs), lambda: km.transform(blobs),
                 lambda: km.score(blobs), lambda: km.fit(blobs)):
        with pytest.raises(strata.ClosedError, match="closed") as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, strata.Error)
    km.close()  # closing twice is fine
    again = pickle.loads(pickle.dumps(km))  # a copy gets its own handle
    np.testing.assert_array_equal(again.predict(blobs), km.labels_)
    strata.KMeans().close()  # never used


def test_one_estimator_from_several_threads(blobs):
    km = strata.KMeans(4, random_state=0).fit(blobs)
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(km.predict(blobs))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 80
    assert all(np.array_equal(r, km.labels_) for r in results)


def test_versions():
    # One source, project(VERSION) in CMakeLists.txt: the binding's generated
    # _version.py and the library built from the same tree agree
    # (tests/install checks the header, SONAME, strata.pc and CMake package).
    assert strata.__version__ == strata.library_version


def test_kmeans_parallel_init():
    # k-means||: accepted by name, the same model for any thread count, one
    # centroid per well-separated blob; a wrong name lists the valid ones
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0], [50.0, 50.0]])
    X = centres[np.arange(4000) % 4] + rng.standard_normal((4000, 2))
    fits = [strata.KMeans(4, init="k-means||", random_state=3, n_threads=t).fit(X) for t in (1, 2, 3)]
    for f in fits[1:]:
        np.testing.assert_array_equal(f.cluster_centers_, fits[0].cluster_centers_)
        np.testing.assert_array_equal(f.labels_, fits[0].labels_)
    got = fits[0].cluster_centers_[np.argsort(fits[0].cluster_centers_ @ [1.0, 100.0])]
    np.testing.assert_allclose(got, centres, atol=0.2)
    with pytest.raises(strata.ArgumentError, match=r"'k-means\|\|'"):
        strata.KMeans(4, init="kmeans||").fit(X)


def test_afkmc2_init():
    # AFK-MC^2: accepted by name, the same model for any thread count, one
    # centroid per well-separated blob, rows of weight 0 (far away) never a
    # centroid, chain_length stored as given and checked at fit
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0], [50.0, 50.0]])
    X = centres[np.arange(4000) % 4] + rng.standard_normal((4000, 2))
    fits = [strata.KMeans(4, init="afk-mc2", random_state=3, n_threads=t).fit(X) for t in (1, 2, 3)]
    for f in fits[1:]:
        np.testing.assert_array_equal(f.cluster_centers_, fits[0].cluster_centers_)
        np.testing.assert_array_equal(f.labels_, fits[0].labels_)
    for seed in range(4):
        km = strata.KMeans(4, init="afk-mc2", random_state=seed, chain_length=50, max_iter=1).fit(X)
        got = km.cluster_centers_[np.argsort(km.cluster_centers_ @ [1.0, 100.0])]
        np.testing.assert_allclose(got, centres, atol=0.2)
    Xw = np.vstack([X, 1e4 + rng.standard_normal((400, 2))])
    w = np.r_[np.ones(len(X)), np.zeros(400)]
    for seed in range(4):
        km = strata.KMeans(4, init="afk-mc2", random_state=seed, max_iter=1).fit(Xw, sample_weight=w)
        assert np.abs(km.cluster_centers_).max() < 100
    km = strata.KMeans(4, init="afk-mc2", chain_length=7)
    assert km.get_params()["chain_length"] == 7 and strata.KMeans().chain_length == 200
    for bad in (0, -1, 1.5, "200", True):
        with pytest.raises(strata.ArgumentError, match="chain_length"):
            strata.KMeans(4, init="afk-mc2", chain_length=bad).fit(X)
    with pytest.raises(strata.ArgumentError, match=r"chain_length must be in \[1, 100000\]"):
        strata.KMeans(4, init="afk-mc2", chain_length=100001).fit(X)
    with pytest.raises(strata.ArgumentError, match="'afk-mc2'"):
        strata.KMeans(4, init="afkmc2").fit(X)
