"""The KMeans and MiniBatchKMeans estimators: scikit-learn's interface over a libstrata handle."""

import math
import numbers
import os
import sys
import threading
import warnings
from ctypes import c_double, c_int32

import numpy as np

from . import _ffi, _params
from ._arrays import _numeric, as_centroids, as_matrix, as_weights, check_weights, pointer
from ._base import ParamsMixin
from .frame import _key, _name, _strings, frame_of
from ._handle import KMeansHandle, sigint_deferred
from ._lib import lib
from .errors import ArgumentError, ClosedError, NotFittedError, StateError, convergence_warning

_INITS = {"k-means++": _ffi.INIT_KMEANSPP, "random": _ffi.INIT_RANDOM,
          "k-means||": _ffi.INIT_KMEANS_PARALLEL, "afk-mc2": _ffi.INIT_AFKMC2}
# scikit-learn's names keep working: "elkan" (its bounded exact algorithm)
# runs Hamerly's, "full" (its old name of Lloyd's) Lloyd's; all give the same
# clusters.
_ALGORITHMS = {"auto": _ffi.ALGO_AUTO, "lloyd": _ffi.ALGO_LLOYD, "hamerly": _ffi.ALGO_HAMERLY,
               "yinyang": _ffi.ALGO_YINYANG, "elkan": _ffi.ALGO_HAMERLY, "full": _ffi.ALGO_LLOYD}
# The algorithm a fit ran (RESULT_ALGORITHM), as algorithm_.
_ALGORITHM_NAMES = {_ffi.ALGO_LLOYD: "lloyd", _ffi.ALGO_HAMERLY: "hamerly",
                    _ffi.ALGO_YINYANG: "yinyang", _ffi.ALGO_MINIBATCH: "minibatch"}
_INT64_END = 2**63
_SEED_END = np.iinfo(np.int32).max  # seeds drawn from a RandomState, as scikit-learn
_HERE = os.path.dirname(__file__)
_CREATE_LOCK = threading.Lock()  # one handle per estimator, even if threads race to create it


def _stacklevel():
    """``stacklevel`` that makes a warning name the caller's first frame outside this package."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _HERE:
        frame, level = frame.f_back, level + 1
    return level


def _integer(name, value, low):
    """``value`` as a Python int in [low, 2**63), or ArgumentError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or \
            not low <= value < _INT64_END:
        raise ArgumentError(f"{name} must be an int >= {low}, got {value!r}", -102)
    return int(value)


def seed_of(state):
    """The library seed for a ``random_state``: None draws one from numpy's global
    RNG, a ``numpy.random.RandomState`` draws one from it, an int >= 0 is used."""
    if state is None:
        return int(np.random.randint(_SEED_END))
    if isinstance(state, np.random.RandomState):
        return int(state.randint(_SEED_END))
    if isinstance(state, numbers.Integral) and not isinstance(state, bool):
        return _integer("random_state", state, 0)
    raise ArgumentError("random_state must be None, an int >= 0 or a numpy.random.RandomState, "
                        f"got {state!r}", -102)
def _feature_names(X):
    """A DataFrame's column names as scikit-learn's feature_names_in_ (all
    strings), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "to_numpy"):
        return None
    names = list(columns)
    if not names or not all(isinstance(c, str) for c in names):
        return None
    return np.asarray(names, dtype=object)


def _set_feature_names(estimator, names):
    if names is None:
        estimator.__dict__.pop("feature_names_in_", None)
    else:
        estimator.feature_names_in_ = names


def _check_feature_names(estimator, X):
    """A DataFrame given to a model fitted on named columns must have the same columns."""
    fitted = getattr(estimator, "feature_names_in_", None)
    names = _feature_names(X)
    if fitted is not None and names is not None and list(names) != list(fitted):
        raise ArgumentError(f"The feature names should match those that were passed during "
                            f"fit: fitted on {list(fitted)}, got {list(names)}")


class KMeans(ParamsMixin):
    """k-means clustering computed by libstrata, with scikit-learn's interface.

    Parameters (stored unmodified, validated by ``fit``):
        n_clusters: number of clusters k (>= 1, at most the number of rows).
        init: "k-means++" (greedy, as scikit-learn), "k-means||" (Bahmani et al.
            2012: a few passes whatever k, for large n and k), "afk-mc2" (Bachem et
            al. 2016: one pass, then Markov chains of ``chain_length`` draws
            approximating k-means++ sampling, for large n and moderate k), "random"
            (k distinct rows), or an array of shape (n_clusters, n_features) of
            starting centroids.
        n_init: runs from different initialisations, best inertia kept; default
            1 (scikit-learn's default differs). "auto" means 10 for "random"
            and 1 otherwise. With an array ``init`` only one run is made.
        max_iter: maximum Lloyd iterations per run.
        tol: stop when the total squared centroid shift is <= tol times the
            mean feature variance (scikit-learn's rule); 0 runs until no label
            changes.
        random_state: None (a seed drawn from numpy's global RNG at each fit),
            a non-negative int (the library's seed), or a
            ``numpy.random.RandomState`` (a seed drawn from it at each fit).
        algorithm: "auto", "lloyd", "hamerly" (Hamerly's bounds: the same
            result as "lloyd", bitwise, computing fewer distances) or
            "yinyang" (group bounds, Ding et al. 2015: the same result as
            "lloyd", bitwise; (2 + t) values a row, t <= 16 groups); "elkan"
            runs "hamerly" and "full" runs "lloyd", so scikit-learn's values
            work.
        n_threads: OpenMP threads for fit, predict and transform; None or 0
            uses the library default (OMP_NUM_THREADS). Results do not depend
            on it.
        chain_length: draws per Markov chain of ``init="afk-mc2"`` (>= 1,
            default 200, the paper's m); ignored by the other inits.
        memory: memory budget of :meth:`fit_h5` (and :meth:`fit_h5_columns`,
            :meth:`fit_h5_table`): None (no limit), bytes, or a
            string such as "1G" or "512M". A dataset that does not fit it with
            the fit's state is streamed from the file in blocks at every pass
            instead of loaded, with the same result bitwise (labels stay in
            memory, 4 bytes a row; k-means++ reads the file once per centre;
            every init; "hamerly" keeps one 2-byte gap a row where the budget
            holds it beside 8 MiB blocks, and runs as Lloyd otherwise;
            "yinyang" runs as Lloyd; the same result either way, and
            ``algorithm_`` says which ran; "minibatch" streams too,
            drawing the rows of many steps ahead and reading them in one sweep
            of the file, the larger the budget the fewer sweeps).
            ``streamed_`` tells which happened. ``fit`` ignores it.

    Attributes after ``fit``:
        cluster_centers_ (float64, k x d), labels_ (int32, n), inertia_
        (float), n_iter_ (int), converged_ (bool), n_features_in_ (int),
        streamed_ (bool), algorithm_ (str: the algorithm run, never "auto":
        "lloyd", "hamerly" or "yinyang"; a streamed fit: "lloyd", or
        "hamerly" when asked and its gaps fit the budget).

    The estimator owns a C handle, freed by :meth:`close`, at the end of a
    ``with`` block, or by garbage collection. Distances are computed in the
    precision of the data (float32 stays float32); sums, centroids and inertia
    in float64.
    """

    _estimator_type = "clusterer"  # scikit-learn's ClusterMixin marker
    _auto_n_init_random = 10  # n_init="auto" with init="random" (1 otherwise)
    _km = None  # the KMeansHandle, created on first use
    _closed = False
    _source = ""  # default `source` of write_h5: "file:dataset" after fit_h5

    def __init__(self, n_clusters=8, *, init="k-means++", n_init=1, max_iter=300, tol=1e-4,
                 random_state=None, algorithm="auto", n_threads=None, chain_length=200,
                 memory=None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.algorithm = algorithm
        self.n_threads = n_threads
        self.chain_length = chain_length
        self.memory = memory

    def _more_tags(self):
        """scikit-learn's estimator tags: the expected failure its own KMeans
        declares (zero weights are not the same as removing rows: the
        initialisation draws from the rows in order)."""
        return {"_xfail_checks": {"check_sample_weights_invariance":
                                  "zero sample_weight is not equivalent to removing samples"}}

    # -- parameters ---------------------------------------------------------

    def _threads(self):
        return 0 if self.n_threads is None else _params.check_int("n_threads", self.n_threads,
                                                                 _ffi.THREADS)

    def _seed(self):
        return seed_of(self.random_state)

    def _algorithm(self):
        if not isinstance(self.algorithm, str) or self.algorithm not in _ALGORITHMS:
            raise ArgumentError("algorithm must be 'auto', 'lloyd', 'hamerly', 'yinyang', 'elkan' or "
                                "'full', "
                                f"got {self.algorithm!r}", -102)
        return _ALGORITHMS[self.algorithm]

    def _settings(self):
        """Validate the parameters: (integer settings by key, double settings by key,
        initial centroids or None)."""
        k = _params.check_int("n_clusters", self.n_clusters, _ffi.KMEANS_K)
        tol = _params.check_real("tol", self.tol, _ffi.KMEANS_TOL)
        algorithm = self._algorithm()
        centroids = None
        if isinstance(self.init, str):
            if self.init not in _INITS:
                raise ArgumentError("init must be 'k-means++', 'k-means||', 'afk-mc2', 'random' or an "
                                    "array of centroids, "
                                    f"got {self.init!r}", -102)
        else:
            centroids = as_centroids(self.init, k)
        if isinstance(self.n_init, str) and self.n_init == "auto":
            n_init = self._auto_n_init_random if centroids is None and self.init == "random" else 1
        else:
            n_init = _params.check_int("n_init", self.n_init, _ffi.KMEANS_N_INIT)
            if centroids is not None and n_init != 1:
                warnings.warn(f"Explicit initial centers given: performing only one init "
                              f"instead of n_init={n_init}.", RuntimeWarning,
                              stacklevel=_stacklevel())
                n_init = 1
        ints = {_ffi.KMEANS_K: k, _ffi.KMEANS_MAX_ITER: _params.check_int("max_iter", self.max_iter,
                                                                _ffi.KMEANS_MAX_ITER),
                _ffi.KMEANS_N_INIT: n_init, _ffi.KMEANS_ALGORITHM: algorithm,
                _ffi.THREADS: self._threads(),
                _ffi.KMEANS_CHAIN_LENGTH: _params.check_int("chain_length", self.chain_length,
                                                         _ffi.KMEANS_CHAIN_LENGTH),
                _ffi.KMEANS_ALLOW_TOO_FEW: 1,  # fewer distinct points than k: fit and warn
                _ffi.KMEANS_MEMORY: _params.size_bytes("memory", getattr(self, "memory", None),
                                                       _ffi.KMEANS_MEMORY)}
        ints[_ffi.KMEANS_SEED] = self._seed()  # last: drawing a seed advances a RandomState
        if centroids is None:
            ints[_ffi.KMEANS_INIT] = _INITS[self.init]
        return ints, {_ffi.KMEANS_TOL: tol}, centroids

    # -- the handle ---------------------------------------------------------

    def _handle(self):
        if self._closed:
            raise ClosedError(f"this {type(self).__name__} is closed (its library handle was freed)")
        with _CREATE_LOCK:
            if self._km is None:
                self._km = KMeansHandle()
        return self._km

    def _fitted_handle(self):
        if not self._closed and not hasattr(self, "cluster_centers_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                                 "with appropriate arguments before using this estimator.")
        return self._handle()

    def close(self):
        """Free the library handle. Fitted attributes stay readable; methods
        that need the library then raise ClosedError (a ValueError)."""
        if self._km is not None:
            self._km.close()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_km", None)
        state.pop("_closed", None)
        return state

    def __setstate__(self, state):
        """Restore parameters and fitted arrays; the centroids go to a new handle
        (strata_kmeans_set_model), so predict and transform work at once."""
        state = dict(state)
        centers = state.pop("cluster_centers_", None)
        self.__dict__.update(state)
        if centers is not None:
            self.cluster_centers_ = centers  # checked and converted, as any assignment

    # -- the centroids ------------------------------------------------------

    @property
    def cluster_centers_(self):
        """The centroids (float64, k x d), read-only: they are the model's
        (predict, transform, score and pickling all use them). Assigning new
        centroids replaces the model's (strata_kmeans_set_model), as in
        scikit-learn, where predict reads this attribute; the model then
        holds no training rows, so write_h5 raises StateError until a fit."""
        try:
            return self.__dict__["cluster_centers_"]
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute "
                                 f"'cluster_centers_'") from None

    @cluster_centers_.setter
    def cluster_centers_(self, value):
        c = np.ascontiguousarray(_numeric(value, "cluster_centers_"), np.float64)
        d = getattr(self, "n_features_in_", None)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1 or (d is not None and c.shape[1] != d):
            want = f"(n_clusters, {d})" if d is not None else "(n_clusters, n_features)"
            raise ArgumentError(f"cluster_centers_ must be a 2-D array of shape {want}, got shape "
                                f"{c.shape}")
        if not np.isfinite(c).all():
            row, col = np.argwhere(~np.isfinite(c))[0]
            raise ArgumentError(f"cluster_centers_ holds {c[row, col]} at row {row}, column {col}; "
                                f"centroids must be finite", -103)
        c = c.copy()  # ours, to freeze: never the caller's array
        with self._handle().session() as handle:
            handle.call(lib.strata_kmeans_set_model, pointer(c, c_double), *c.shape)
        self._store_centers(c)
        self.n_features_in_ = c.shape[1]

    def _store_centers(self, centers):
        """Keep the model's centroids, read-only: an in-place edit would not reach
        the library's copy, so predict and a pickled copy would disagree."""
        centers.setflags(write=False)
        self.__dict__["cluster_centers_"] = centers

    # -- fitting ------------------------------------------------------------

    def _fit(self, func, *args, progress, source):
        """Configure the handle, run ``func(handle, *args)``, read the model back."""
        if progress is not None and not callable(progress):
            raise ArgumentError(f"progress must be callable or None, got {progress!r}", -102)
        ints, doubles, centroids = self._settings()
        with sigint_deferred() as interrupt, self._handle().session() as handle:
            for key, value in ints.items():
                handle.call(lib.strata_kmeans_set_int, key, value)
            for key, value in doubles.items():
                handle.call(lib.strata_kmeans_set_double, key, value)
            if centroids is not None:
                handle.call(lib.strata_kmeans_set_init_centroids, pointer(centroids, c_double),
                            *centroids.shape)
            handle.fit(func, *args, progress=progress, interrupt=interrupt)
            n, d, k = (handle.result_int(key) for key in (_ffi.KMEANS_RESULT_N, _ffi.KMEANS_RESULT_D, _ffi.KMEANS_RESULT_K))
            centers = np.empty((k, d), np.float64)
            labels = np.empty(n, np.int32)
            handle.call(lib.strata_kmeans_centroids, pointer(centers, c_double), k, d)
            handle.call(lib.strata_kmeans_labels, pointer(labels, c_int32), n)
            inertia = handle.result_double(_ffi.KMEANS_RESULT_INERTIA)
            n_iter = handle.result_int(_ffi.KMEANS_RESULT_N_ITER)
            converged = bool(handle.result_int(_ffi.KMEANS_RESULT_CONVERGED))
            self.streamed_ = bool(handle.result_int(_ffi.KMEANS_RESULT_STREAMED))
            self.algorithm_ = _ALGORITHM_NAMES[handle.result_int(_ffi.KMEANS_RESULT_ALGORITHM)]
            self._store_centers(centers)  # the handle has them already
            self.labels_, self.inertia_ = labels, inertia
            self.n_iter_, self.converged_, self.n_features_in_ = n_iter, converged, d
            self._source = source
        used = np.count_nonzero(np.bincount(labels, minlength=k))
        if used < k:  # scikit-learn's warning, in its words
            warnings.warn(f"Number of distinct clusters ({used}) found smaller than n_clusters "
                          f"({k}). Possibly due to duplicate points in X.", convergence_warning(),
                          stacklevel=_stacklevel())
        return self

    def _fit_matrix(self, matrix, sample_weight, progress):
        x, dtype, n, d, row_stride = matrix
        weights = as_weights(sample_weight, n)
        return self._fit(lib.strata_kmeans_fit, dtype, x.ctypes.data, n, d, row_stride,
                         pointer(weights, c_double), progress=progress, source="")

    def fit(self, X, y=None, sample_weight=None, *, progress=None):
        """Compute the clusters of X (n_samples x n_features).

        Args:
            X: array-like; float32/float64 numpy arrays with contiguous rows are
                read in place, anything else is converted once.
            y: ignored (scikit-learn convention).
            sample_weight: None, a scalar or n non-negative weights, not all zero.
            progress: optional ``callable(run, iteration, inertia)`` called after
                every Lloyd iteration; a truthy return stops the fit with
                :class:`strata.Cancelled`. An exception it raises stops the fit
                and is re-raised. Ctrl-C stops a fit at the end of the current
                iteration and raises KeyboardInterrupt. A stopped or failed fit
                keeps the previous model.

        Returns:
            self
        """
        names = _feature_names(X)
        frame = frame_of(X) if names is not None else None
        if frame is None:
            self._fit_matrix(as_matrix(X), sample_weight, progress)
        else:  # names (and an index named like a key) go with the model into write_h5
            try:
                weights = as_weights(sample_weight, len(X))
                self._fit(lib.strata_kmeans_fit_frame, frame.ptr, pointer(weights, c_double),
                          progress=progress, source="")
            finally:
                frame.close()
        _set_feature_names(self, names)
        return self

    def fit_h5(self, path, dataset, *, progress=None):
        """Fit to the 2-D dataset ``dataset`` of the HDF5 file ``path``, read by
        the library (float32 stays float32; other types become float64) without
        going through Python. ``progress`` as in :meth:`fit`. Returns self."""
        path, name = os.fsdecode(path), _name(dataset, "dataset")
        return self._fit(lib.strata_kmeans_fit_h5, os.fsencode(path), name, progress=progress,
                         source=f"{path}:{name.decode(errors='replace')}")

    def _fit_file_frame(self, func, path, *args, progress, source):
        """Fit from a frame layout of a file; the feature names the library
        recorded become ``feature_names_in_``."""
        self._fit(func, os.fsencode(path), *args, progress=progress, source=source)
        with self._handle().session() as handle:
            names = [lib.strata_kmeans_feature_name(handle._ptr, j).decode()
                     for j in range(self.n_features_in_)]
        _set_feature_names(self, np.asarray(names, dtype=object))
        return self

    def fit_h5_columns(self, path, columns, *, key=None, progress=None):
        """Fit to 1-D numeric datasets of equal length of the HDF5 file ``path``
        (``columns``: their paths), read as :func:`strata.read_frame` reads
        them (float64; names from the base names, ``key`` likewise), loaded
        when they fit ``memory``, else streamed from the file in blocks at
        every pass, with the same result bitwise (``streamed_`` tells which).
        :meth:`write_h5` then writes /feature_names and the key as after
        fitting a DataFrame. ``progress`` as in :meth:`fit`. Returns self."""
        path = os.fsdecode(os.fspath(path))
        cols, d = _strings(columns, "columns")
        return self._fit_file_frame(lib.strata_kmeans_fit_h5_columns, path, cols, d, _key(key),
                                    progress=progress,
                                    source=f"{path} --columns {','.join(columns)}")

    def fit_h5_table(self, path, table, features=None, *, key=None, progress=None):
        """Fit to the columns of the table ``table`` of the HDF5 file ``path``
        (a compound dataset, a pandas frame or a group of 1-D datasets, as
        :func:`strata.read_frame` reads it; ``features``: the columns, None
        for every numeric one but the key), under ``memory`` as
        :meth:`fit_h5_columns`. Returns self."""
        path = os.fsdecode(os.fspath(path))
        cols, d = _strings(features, "features") if features is not None else (None, 0)
        source = f"{path} --table {table}" + (f" --features {','.join(features)}"
                                              if features is not None else "")
        return self._fit_file_frame(lib.strata_kmeans_fit_h5_table, path, _name(table, "table"),
                                    cols, d, _key(key), progress=progress, source=source)

    def fit_predict(self, X, y=None, sample_weight=None, *, progress=None):
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight, progress=progress).labels_

    def fit_transform(self, X, y=None, sample_weight=None, *, progress=None):
        """Fit, then return the distances of X to the centroids (see :meth:`transform`)."""
        return self.fit(X, sample_weight=sample_weight, progress=progress)._distances(as_matrix(X))

    # -- using the model ----------------------------------------------------

    def _distances(self, matrix):
        x, dtype, n, d, row_stride = matrix
        handle = self._fitted_handle()
        out = np.empty((n, self.cluster_centers_.shape[0]), np.float64)
        with handle.session():
            handle.call(lib.strata_kmeans_set_int, _ffi.THREADS, self._threads())
            handle.call(lib.strata_kmeans_transform, dtype, x.ctypes.data, n, d, row_stride,
                        pointer(out, c_double))
        return out

    def predict(self, X):
        """Index (int32) of the nearest centroid of every row of X; ties go to the lowest index."""
        _check_feature_names(self, X)
        x, dtype, n, d, row_stride = as_matrix(X)
        labels = np.empty(n, np.int32)
        with self._fitted_handle().session() as handle:
            handle.call(lib.strata_kmeans_set_int, _ffi.THREADS, self._threads())
            handle.call(lib.strata_kmeans_predict, dtype, x.ctypes.data, n, d, row_stride,
                        pointer(labels, c_int32))
        return labels

    def transform(self, X):
        """Euclidean distances (float64, n x k) of every row of X to every centroid."""
        _check_feature_names(self, X)
        return self._distances(as_matrix(X))

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of X for the fitted centroids.
        ``sample_weight`` as in :meth:`fit` (finite, >= 0; all zeros give 0)."""
        _check_feature_names(self, X)
        matrix = as_matrix(X)
        weights = as_weights(sample_weight, matrix[2])
        if weights is not None:
            check_weights(weights)
        nearest = self._distances(matrix).min(axis=1) ** 2
        return -float(nearest.sum() if weights is None else nearest @ weights)

    def write_h5(self, path, source=None, force=False):
        """Write the fitted model to a new HDF5 file, with the layout of ``strata kmeans``:
        ``/labels`` (int32, n), ``/centroids`` (float64, k x d) and the root
        attributes k, inertia, n_iter, converged, seed, algorithm,
        strata_version and source.

        Args:
            path: the output file; written under a temporary name, then renamed.
            source: text of the ``source`` attribute; None gives "FILE:DATASET"
                after :meth:`fit_h5` and "" after :meth:`fit`.
            force: replace an existing file (else OutputExistsError, a FileExistsError).
                Only a regular file is replaced, and it keeps its permissions.

        Raises StateError if the library does not hold the training labels
        (the model was unpickled or copied rather than fitted), and FileError
        (code -205) if ``path`` is the file the model was fitted from
        (:meth:`fit_h5`), under any name, even with ``force=True``, or is not a
        regular file (a FIFO, a device, a directory, a symbolic link).
        """
        source = self._source if source is None else source
        if not isinstance(source, str):
            raise ArgumentError(f"source must be a str or None, got {source!r}", -102)
        with self._fitted_handle().session() as handle:
            if handle.result_int(_ffi.KMEANS_RESULT_N) == 0:
                raise StateError("this model was restored from its centroids (unpickled or "
                                 "copied), without its training labels: fit it to write it")
            handle.call(lib.strata_kmeans_write_h5, os.fsencode(path), source.encode(),
                        _ffi.WRITE_FORCE if force else 0)


class MiniBatchKMeans(KMeans):
    """Mini-batch k-means (Sculley 2010) computed by libstrata, with the
    parameters, defaults and rules of scikit-learn 1.2's ``MiniBatchKMeans``.

    An approximate answer, not Lloyd's (typically a slightly higher inertia),
    much faster on large data: each step labels ``batch_size`` random rows and
    moves each centre towards them, at a rate that falls with the weight the
    centre has seen. For a given ``random_state`` the result does not depend
    on ``n_threads``; it is not scikit-learn's result for the same seed (the
    random numbers differ), only as good on average.

    Parameters (stored unmodified, validated by ``fit``):
        n_clusters, init, random_state, n_threads: as :class:`KMeans`.
        max_iter: epochs: at most ``max_iter * n_samples // batch_size`` steps.
        batch_size: rows per step (>= 1; more than n_samples counts as n_samples).
        tol: stop when a step moves the centres by a total squared distance
            <= tol times the mean feature variance; 0 (the default) turns it off.
        max_no_improvement: stop after this many steps without a new minimum of
            the smoothed batch inertia; None turns it off. (0, which stops
            scikit-learn at its second step, is refused.)
        init_size: None only: the initialisations use 3 * batch_size random
            rows (3 * n_clusters if more; at most n_samples), as scikit-learn's
            default. Other values raise ArgumentError.
        n_init: initialisations, each on its own random subset; the one of
            lowest inertia on another subset is kept. "auto" is 3 for "random"
            and 1 otherwise.
        reassignment_ratio: centres whose weight count falls below this
            fraction of the largest move to random rows of the batch.
        memory: memory budget of :meth:`fit_h5`, as :class:`KMeans`: a
            dataset that does not fit it is streamed, the rows of a window of
            upcoming steps drawn ahead and read in one sweep of the file (the
            larger the budget, the larger the window and the fewer sweeps),
            with the same result bitwise. ``streamed_`` tells which happened.

    Attributes after ``fit``: as :class:`KMeans` (``labels_`` and ``inertia_``
    from one exact pass over all rows for the final centres), with
    ``n_steps_`` the steps run, ``n_iter_`` = ceil(n_steps_ * batch / n) the
    epochs, and ``converged_`` True when an early-stopping rule ended the fit.
    ``progress(run, step, batch_inertia)`` is called after every step.
    ``partial_fit`` is not provided.
    """

    _auto_n_init_random = 3

    def __init__(self, n_clusters=8, *, init="k-means++", max_iter=100, batch_size=1024, tol=0.0,
                 max_no_improvement=10, init_size=None, n_init=3, reassignment_ratio=0.01,
                 random_state=None, n_threads=None, chain_length=200, memory=None):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio
        self.random_state = random_state
        self.n_threads = n_threads
        self.chain_length = chain_length
        self.memory = memory

    def _algorithm(self):
        return _ffi.ALGO_MINIBATCH

    def _settings(self):
        ints, doubles, centroids = super()._settings()
        if self.init_size is not None:
            raise ArgumentError("init_size must be None (libstrata seeds on 3 * batch_size rows, "
                                f"scikit-learn's default), got {self.init_size!r}", -102)
        if self.max_no_improvement is None:
            no_improvement = 0  # the library's "off"
        else:
            no_improvement = _integer("max_no_improvement (None turns it off)",
                                      self.max_no_improvement, 1)
        ints[_ffi.KMEANS_BATCH_SIZE] = _params.check_int("batch_size", self.batch_size,
                                                         _ffi.KMEANS_BATCH_SIZE)
        ints[_ffi.KMEANS_MAX_NO_IMPROVEMENT] = no_improvement
        doubles[_ffi.KMEANS_REASSIGNMENT_RATIO] = _params.check_real(
            "reassignment_ratio", self.reassignment_ratio, _ffi.KMEANS_REASSIGNMENT_RATIO)
        return ints, doubles, centroids

    def _fit(self, func, *args, progress, source):
        super()._fit(func, *args, progress=progress, source=source)
        n = self.labels_.shape[0]
        self.n_steps_ = self.n_iter_  # the library counts steps
        self.n_iter_ = math.ceil(self.n_steps_ * min(int(self.batch_size), n) / n)
        return self
