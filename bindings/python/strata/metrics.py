"""Cluster-quality metrics with scikit-learn's signatures, and the k sweep.

``calinski_harabasz_score``, ``davies_bouldin_score`` and ``silhouette_score``
compute what scikit-learn's functions of the same names compute (unweighted;
labels of any type, as scikit-learn), in C, in O(n k d) except the Euclidean
silhouette (O(s^2 d) on s rows). ``silhouette_score(..., metric="sqeuclidean")``
is exact over all rows in O(n k d) from per-cluster sums. ``sweep`` fits
k-means for a range of k and rates every fit (docs/tiers.md, "Choosing k").
"""

import numbers
from ctypes import c_double, c_int32, c_int64

import numpy as np

from . import _ffi
from ._arrays import as_matrix, as_weights, pointer
from ._handle import _last_error
from ._lib import lib
from .errors import ArgumentError
from .kmeans import KMeans, _integer, seed_of

#: rows of the Euclidean silhouette ``sweep`` samples by default (O(s^2 d) per k)
SWEEP_SAMPLE_SIZE = 10000


def _labels(labels, n):
    """Labels of any kind as int32 codes 0..L-1, and k = max(L, 2) (the library
    then names a single cluster as the problem)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ArgumentError(f"labels must be 1-D with one value per row of X ({n}), got shape "
                            f"{labels.shape}")
    uniques, codes = np.unique(labels, return_inverse=True)
    return np.ascontiguousarray(codes, np.int32), max(len(uniques), 2)


def _threads(n_threads):
    return 0 if n_threads is None else _integer("n_threads", n_threads, 0)


def _metrics(X, labels, sample_size=0, seed=0, n_threads=None):
    """All five metrics of strata_cluster_metrics(), as a float64 array."""
    x, dtype, n, d, row_stride = as_matrix(X)
    codes, k = _labels(labels, n)
    out = np.empty(_ffi.METRIC_COUNT, np.float64)
    status = lib.strata_cluster_metrics(dtype, x.ctypes.data, n, d, row_stride,
                                        pointer(codes, c_int32), k, sample_size, seed,
                                        _threads(n_threads), pointer(out, c_double))
    if status != _ffi.OK:
        raise _last_error(status)
    return out


def calinski_harabasz_score(X, labels, *, n_threads=None):
    """Calinski-Harabasz index (between- over within-cluster dispersion, higher is
    better), as ``sklearn.metrics.calinski_harabasz_score``."""
    return float(_metrics(X, labels, n_threads=n_threads)[1])


def davies_bouldin_score(X, labels, *, n_threads=None):
    """Davies-Bouldin index (lower is better), as ``sklearn.metrics.davies_bouldin_score``
    (a pair of clusters with equal centroids counts 0, as there)."""
    return float(_metrics(X, labels, n_threads=n_threads)[2])


def silhouette_score(X, labels, *, metric="euclidean", sample_size=None, random_state=None,
                     n_threads=None):
    """Mean silhouette coefficient, as ``sklearn.metrics.silhouette_score``.

    Args:
        metric: "euclidean" (O(s^2 d) on the s rows used) or "sqeuclidean" (squared
            Euclidean distances: exact over every row in O(n k d); ``sample_size``
            and ``random_state`` are then not used).
        sample_size: None (every row) or the rows of a uniform sample without
            replacement on which the silhouette is taken (among those rows, as
            scikit-learn does); the rows come from ``random_state`` alone (the
            rows ``silhouette_sample_rows`` gives) but differ from scikit-learn's.
        random_state: None (a seed drawn from numpy's global RNG), an int >= 0 or a
            ``numpy.random.RandomState``.
        n_threads: None or 0 for the library default; the result does not depend on it.
    """
    if metric not in ("euclidean", "sqeuclidean"):
        raise ArgumentError(f"metric must be 'euclidean' or 'sqeuclidean', got {metric!r}", -102)
    if metric == "sqeuclidean":
        return float(_metrics(X, labels, n_threads=n_threads)[3])
    size = 0 if sample_size is None else _integer("sample_size", sample_size, 2)
    seed = seed_of(random_state) if size else 0
    return float(_metrics(X, labels, size, seed, n_threads)[4])


def silhouette_sample_rows(n, sample_size, random_state):
    """The rows (ascending int64) ``silhouette_score(..., sample_size, random_state)``
    uses for n rows, when ``random_state`` is an int (a seed)."""
    n = _integer("n", n, 1)
    size = _integer("sample_size", sample_size, 1)
    rows = np.empty(min(size, n), np.int64)
    status = lib.strata_silhouette_sample(n, rows.shape[0], _integer("random_state", random_state, 0),
                                          pointer(rows, c_int64))
    if status != _ffi.OK:
        raise _last_error(status)
    return rows


def _k_range(k):
    """(k_min, k_max) of a range of consecutive ks: a range with step 1, a
    (k_min, k_max) pair, or a list of consecutive ints."""
    if isinstance(k, range):
        ks = list(k)
        if k.step != 1 or not ks:
            raise ArgumentError(f"k must be a non-empty range of step 1, got {k!r}", -101)
        return ks[0], ks[-1]
    try:
        ks = [int(v) for v in k if isinstance(v, numbers.Integral) and not isinstance(v, bool)]
        given = len(list(k))
    except TypeError:
        raise ArgumentError(f"k must be a range of consecutive ints, got {k!r}", -101) from None
    if isinstance(k, tuple) and len(ks) == 2 == given and ks[0] <= ks[1]:
        return ks[0], ks[1]
    if not ks or len(ks) != given or ks != list(range(ks[0], ks[0] + len(ks))):
        raise ArgumentError(f"k must be consecutive ints (a range of step 1), got {k!r}", -101)
    return ks[0], ks[-1]


def sweep(X, k=range(2, 13), *, sample_size=SWEEP_SAMPLE_SIZE, sample_weight=None,
          **kmeans_params):
    """Fit k-means for every k and rate each fit (``strata_kmeans_sweep``).

    Args:
        X: the rows, as for ``KMeans.fit``.
        k: consecutive values of k: a range of step 1 (default 2..12), a
            (k_min, k_max) pair, or a list of consecutive ints; 2 <= k < rows.
        sample_size: rows of the Euclidean silhouette (None or 0: every row,
            O(n^2 d) per k), drawn once with the fits' seed, the same for every k.
        sample_weight: weights of the fits (the metrics are unweighted).
        **kmeans_params: parameters of :class:`strata.KMeans` (init, n_init,
            max_iter, tol, random_state, algorithm, n_threads, chain_length);
            ``init`` may not be an array and ``n_clusters`` is not taken.

    Returns:
        ``(table, suggested_k)``: a pandas DataFrame indexed by k (named "k")
        with the columns inertia (the fit's), calinski_harabasz, davies_bouldin,
        silhouette_sqeuclidean and silhouette, and the suggested k (the knee of
        inertia against k by Kneedle; with fewer than 3 k or no knee, the k of
        the highest silhouette_sqeuclidean). ``table.attrs`` holds
        "suggested_k" and "sample_size" (the rows the silhouette used) too.
    """
    import pandas as pd

    if "n_clusters" in kmeans_params:
        raise ArgumentError("sweep takes k, not n_clusters", -102)
    k_min, k_max = _k_range(k)
    size = 0 if sample_size is None else _integer("sample_size", sample_size, 0)
    x, dtype, n, d, row_stride = as_matrix(X)
    weights = as_weights(sample_weight, n)
    estimator = KMeans(n_clusters=max(k_min, 1), **kmeans_params)
    ints, doubles, centroids = estimator._settings()
    if centroids is not None:
        raise ArgumentError("sweep cannot start from given centroids (they fix one k): pass a "
                            "named init", -102)
    table = np.empty((max(k_max - k_min + 1, 0), _ffi.METRIC_COUNT), np.float64)
    suggested = c_int64()
    with estimator._handle().session() as handle:
        for key, value in ints.items():
            handle.call(lib.strata_kmeans_set_int, key, value)
        for key, value in doubles.items():
            handle.call(lib.strata_kmeans_set_double, key, value)
        handle.call(lib.strata_kmeans_sweep, dtype, x.ctypes.data, n, d, row_stride,
                    pointer(weights, c_double), k_min, k_max, size, pointer(table, c_double),
                    suggested)
    estimator.close()
    frame = pd.DataFrame(table, columns=_ffi.METRICS,
                         index=pd.RangeIndex(k_min, k_max + 1, name="k"))
    frame.attrs["suggested_k"] = int(suggested.value)
    frame.attrs["sample_size"] = n if size == 0 or size >= n else size
    return frame, int(suggested.value)
