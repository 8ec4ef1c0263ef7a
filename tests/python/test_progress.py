"""Progress callback: reports, cancellation, exceptions, Ctrl-C."""

import _thread
import threading

import numpy as np
import pytest

import strata


@pytest.fixture
def hard():
    """Uniform data: many Lloyd iterations before no label changes."""
    return np.random.default_rng(0).uniform(size=(4000, 4))


def test_reports_every_iteration(hard):
    calls = []
    km = strata.KMeans(20, tol=0, random_state=0)
    km.fit(hard, progress=lambda run, it, inertia: calls.append((run, it, inertia)))
    assert [c[1] for c in calls] == list(range(1, km.n_iter_ + 1))
    assert all(c[0] == 0 for c in calls)
    inertias = [c[2] for c in calls]
    assert all(a >= b for a, b in zip(inertias, inertias[1:]))


def test_reports_every_run(hard):
    by_run = {}
    strata.KMeans(5, n_init=3, random_state=0).fit(
        hard, progress=lambda run, it, inertia: by_run.setdefault(run, []).append(it))
    assert sorted(by_run) == [0, 1, 2]
    assert all(its == list(range(1, len(its) + 1)) for its in by_run.values())


def test_truthy_return_cancels_and_keeps_previous_model(hard):
    km = strata.KMeans(20, random_state=0).fit(hard)
    centers, labels = km.cluster_centers_, km.labels_
    seen = []
    with pytest.raises(strata.Cancelled, match="iteration 3") as info:
        km.set_params(n_clusters=5).fit(hard, progress=lambda r, i, e: seen.append(i) or i >= 3)
    assert info.value.code == -500 and seen == [1, 2, 3]
    assert km.cluster_centers_ is centers and km.labels_ is labels
    np.testing.assert_array_equal(km.predict(hard), labels)  # the library kept it too
    km.fit(hard)  # and the handle is still usable
    assert km.cluster_centers_.shape == (5, 4)


def test_exception_in_callback_propagates(hard):
    class Boom(Exception):
        pass

    def progress(run, iteration, inertia):
        if iteration == 2:
            raise Boom("from the callback")

    km = strata.KMeans(20, tol=0, random_state=0)
    with pytest.raises(Boom, match="from the callback"):
        km.fit(hard, progress=progress)
    assert not hasattr(km, "labels_")


def test_callback_cannot_reuse_its_estimator(hard):
    km = strata.KMeans(3, random_state=0).fit(hard)
    with pytest.raises(strata.StateError, match="progress callback"):
        km.fit(hard, progress=lambda r, i, e: km.predict(hard))


def test_progress_must_be_callable(hard):
    with pytest.raises(strata.ArgumentError, match="callable"):
        strata.KMeans(3).fit(hard, progress=5)


@pytest.mark.usefixtures("default_sigint")
def test_ctrl_c_during_callback(hard):
    seen = []

    def progress(run, iteration, inertia):
        seen.append(iteration)
        if iteration == 3:
            _thread.interrupt_main()  # as if Ctrl-C were pressed now

    km = strata.KMeans(20, tol=0, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        km.fit(hard, progress=progress)
    assert seen == [1, 2, 3] and not hasattr(km, "labels_")


@pytest.mark.usefixtures("default_sigint")
def test_ctrl_c_without_callback():
    X = np.random.default_rng(1).uniform(size=(200_000, 16)).astype(np.float32)
    km = strata.KMeans(100, tol=0, max_iter=100_000, random_state=0)
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            km.fit(X)  # takes seconds; stopped at the end of an iteration
    finally:
        timer.cancel()
    assert not hasattr(km, "labels_")
