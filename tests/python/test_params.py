"""The binding takes parameter limits from the library's key catalogue
(strata_key_*, strata_param_*): its key constants name the keys the library
knows under those names, and its checks refuse exactly what the library's
setters refuse."""

import threading

import numpy as np
import pytest

import strata
from strata import _ffi, _params
from strata._lib import lib


def test_constants_are_the_library_keys():
    cat = _params.catalogue()
    assert len(cat) == lib.strata_key_count()
    for attr, value in vars(_ffi).items():
        if attr.startswith(("KMEANS_", "RFM_")) and isinstance(value, int) and \
                lib.strata_key_kind(value) and attr not in ("RFM_RULE_COLUMNS",):
            assert lib.strata_key_name(value).decode() == "STRATA_" + attr, attr
    for name, key in _ffi.RFM_RESULTS.items():
        assert cat[lib.strata_key_name(key).decode()]["kind"] == "result", name
    for name, entry in cat.items():
        assert (entry["kind"] == "result") == ("_RESULT_" in name)
        assert (entry["key"] >= 1000) == (entry["kind"] == "result")
    assert cat["STRATA_KMEANS_TOL"]["type"] == "double"
    assert cat["STRATA_RFM_BINS"]["bounds"] == (2, 100)
    assert cat["STRATA_KMEANS_K"]["default"] == 8
    assert _ffi.RFM_RULE_COLUMNS <= lib.strata_rfm_rule_columns()


@pytest.mark.parametrize("name, key", [("n_init", _ffi.KMEANS_N_INIT),
                                       ("max_iter", _ffi.KMEANS_MAX_ITER),
                                       ("chain_length", _ffi.KMEANS_CHAIN_LENGTH),
                                       ("n_threads", _ffi.THREADS)])
def test_estimator_limits_are_the_library_bounds(name, key):
    lo, hi = _params.int_bounds(key)
    X = np.arange(20.0).reshape(10, 2)
    for good in (lo, hi) if name != "max_iter" else (lo,):
        strata.KMeans(2, random_state=0, **{name: good})._settings()
    for bad in (lo - 1, hi + 1):
        with pytest.raises(strata.ArgumentError, match=rf"{name} must be in \[{lo}, {hi}\]"):
            strata.KMeans(2, random_state=0, **{name: bad}).fit(X)


def test_real_limits_from_the_library():
    lo, _ = _params.double_bounds(_ffi.KMEANS_TOL)
    assert lo == 0.0
    for bad in (-1e-300, float("nan"), float("inf")):
        with pytest.raises(strata.ArgumentError, match="tol must be a finite float >= 0"):
            strata.KMeans(2, tol=bad).fit(np.arange(20.0).reshape(10, 2))


def test_wrong_key_kind_is_named():
    with pytest.raises(strata.ArgumentError, match="STRATA_KMEANS_TOL is a double parameter"):
        _params.int_bounds(_ffi.KMEANS_TOL)
    with pytest.raises(strata.ArgumentError, match="is a result key"):
        _params.int_bounds(_ffi.KMEANS_RESULT_N)


def test_predict_from_many_threads():
    """One fitted KMeans predicting from 8 threads at once gives the
    single-thread labels (the library's predict writes nothing shared)."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 1.0, (300, 3)) for c in (0, 10, 20, 30)])
    km = strata.KMeans(4, random_state=0).fit(X)
    want = km.predict(X)
    got, errors = [None] * 8, []

    def run(t):
        try:
            for _ in range(5):
                got[t] = km.predict(X)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for labels in got:
        np.testing.assert_array_equal(labels, want)
