"""Streamed fit_h5 (issue 13): a memory budget the data exceed streams the
file in blocks, with the result of the in-memory fit, bitwise; sizes parse."""

import numpy as np
import pytest

import strata
from conftest import make_blobs

h5py = pytest.importorskip("h5py", reason="h5py is not installed")


@pytest.mark.parametrize("dtype,chunks", [(np.float32, (1000, 6)), (np.float64, None)])
@pytest.mark.parametrize("init", ["k-means++", "random", "k-means||", "afk-mc2"])
def test_streamed_equals_in_memory(tmp_path, dtype, chunks, init):
    X, _, _ = make_blobs(600_000, 6, 5, seed=11)
    X = X.astype(dtype)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=chunks)
    ref = strata.KMeans(5, init=init, random_state=4, max_iter=20, n_threads=2).fit(X)
    # 36 MiB: below the data (14.4 or 28.8 MB) plus 24 MiB of fixed
    # allowance, above the streamed fit's labels, seeding state and blocks
    km = strata.KMeans(5, init=init, random_state=4, max_iter=20, n_threads=2, memory="36M")
    km.fit_h5(path, "/x")
    assert km.streamed_ and not ref.streamed_
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_ and km.n_iter_ == ref.n_iter_
    loaded = strata.KMeans(5, init=init, random_state=4, max_iter=20, memory=None).fit_h5(path, "/x")
    assert not loaded.streamed_
    np.testing.assert_array_equal(loaded.labels_, ref.labels_)


def test_streamed_hamerly_runs_lloyd(tmp_path):
    """An explicit hamerly on a fit that must stream runs Lloyd (the same
    bits as Lloyd in memory) and says so."""
    X, _, _ = make_blobs(600_000, 6, 5, seed=12)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=(4096, 6))
    ref = strata.KMeans(5, algorithm="lloyd", random_state=4, max_iter=20).fit(X)
    assert ref.algorithm_ == "lloyd"
    assert strata.KMeans(5, algorithm="hamerly", random_state=4, max_iter=20).fit(X).algorithm_ == "hamerly"
    km = strata.KMeans(5, algorithm="hamerly", random_state=4, max_iter=20, memory="40M")
    km.fit_h5(path, "/x")
    assert km.streamed_ and km.algorithm_ == "lloyd"
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_


def test_budget_too_small_and_bad_values(tmp_path):
    X, _, _ = make_blobs(5000, 3, 3, seed=1)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f["x"] = X
    with pytest.raises(strata.Error, match="too small.*at least"):
        strata.KMeans(3, memory="1K").fit_h5(path, "/x")
    for bad in (-1, "1X", "G", "-5M", 1.5):
        with pytest.raises(strata.ArgumentError):
            strata.KMeans(3, memory=bad).fit_h5(path, "/x")
    # fit() of in-memory data ignores the budget
    assert not strata.KMeans(3, memory=1).fit(X).streamed_


def test_memory_strings():
    from strata.kmeans import _memory_bytes
    assert _memory_bytes(None) == 0
    assert _memory_bytes("1G") == 1 << 30
    assert _memory_bytes("512M") == 512 << 20
    assert _memory_bytes("100K") == 100 << 10
    assert _memory_bytes("1.5GiB") == 3 << 29
    assert _memory_bytes("2048") == 2048
    assert _memory_bytes(12345) == 12345


@pytest.mark.parametrize("dtype,chunks", [(np.float32, (1000, 6)), (np.float64, None)])
def test_streamed_minibatch_equals_in_memory(tmp_path, dtype, chunks):
    """MiniBatchKMeans streams too (each window of steps' rows read in one
    sweep): the in-memory result bitwise, labels the nearest centres."""
    X, _, _ = make_blobs(600_000, 6, 5, seed=13)
    X = X.astype(dtype)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=chunks)
    kw = dict(random_state=4, batch_size=512, n_init=2, max_no_improvement=None, max_iter=1)
    ref = strata.MiniBatchKMeans(5, n_threads=2, **kw).fit(X)
    km = strata.MiniBatchKMeans(5, n_threads=1, memory="36M", **kw).fit_h5(path, "/x")
    assert km.streamed_ and not ref.streamed_ and km.algorithm_ == "minibatch"
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_ and km.n_steps_ == ref.n_steps_ == 600_000 // 512
    for i in range(0, len(X), 100_000):
        d2 = ((X[i:i + 100_000, None, :].astype(np.float64) - km.cluster_centers_[None]) ** 2).sum(-1)
        np.testing.assert_array_equal(km.labels_[i:i + 100_000], d2.argmin(1))
    # batches larger than the budget's window: the minimum named
    with pytest.raises(strata.Error, match="too small.*mini-batch"):
        strata.MiniBatchKMeans(5, batch_size=400_000, memory="36M").fit_h5(path, "/x")
