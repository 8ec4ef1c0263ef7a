"""Value tiers: scaling, k-means on the scaled features, clusters ranked by
value into named tiers; saved and loaded as HDF5 (``strata.load_model``).

Example::

    tm = strata.TierModel(n_tiers=3, n_clusters=5, random_state=0).fit(df)
    tm.tiers_, tm.centroids_original_, tm.predict(next_month)
"""

import ctypes
import numbers
import os
import tempfile
import threading
from ctypes import c_double, c_int32, c_int64

import numpy as np

from . import _ffi
from ._arrays import _numeric
from ._handle import _c_strings
from ._lib import lib
from .errors import ArgumentError, NotFittedError, error_for
from .kmeans import KMeans

#: transform names -> codes (include/strata.h, strata_transform)
TRANSFORMS = {"none": 0, "zscore": 1, "robust": 2, "minmax": 3, "auto": 4}
LOG1P = 16
_TIER_DEFAULTS = {1: "all", 2: "high,low", 3: "high,mid,low"}


def _transform_code(spec):
    if isinstance(spec, str):
        parts = spec.lower().split("+")
        log = "log1p" in parts
        rest = [p for p in parts if p != "log1p"] or ["none"]
        if len(rest) == 1 and rest[0] in TRANSFORMS and not (log and rest[0] == "auto"):
            return TRANSFORMS[rest[0]] | (LOG1P if log else 0)
    raise ArgumentError(f"transform must be 'auto', 'zscore', 'robust', 'minmax', 'none', "
                        f"optionally 'log1p+...', got {spec!r}", -102)


def _transform_name(code):
    base = {v: k for k, v in TRANSFORMS.items()}[code & ~LOG1P]
    return ("log1p+" if code & LOG1P else "") + base


class _Model:
    """Owns one ``strata_model`` pointer; calls are serialised by a lock."""

    def __init__(self, ptr=None):
        if ptr is None:
            ptr = _ffi.ModelPtr()
            status = lib.strata_model_create(ctypes.byref(ptr))
            if status:
                raise error_for(status, lib.strata_last_error().decode())
        self.ptr, self.lock = ptr, threading.Lock()

    def call(self, func, *args):
        with self.lock:
            status = func(self.ptr, *_c_strings(args))
            if status:
                # the thread's message: const calls (predict, getters) leave the model's alone
                raise error_for(status, (lib.strata_last_error() or b"").decode())

    def __del__(self):
        if getattr(self, "ptr", None):
            lib.strata_model_free(self.ptr)
            self.ptr = None


def _kmeans_call(kh, func, *args):
    """A call on a model's k-means handle; the failing call's message on failure."""
    status = func(kh, *args)
    if status:
        raise error_for(status, (lib.strata_last_error() or b"").decode())


class TierModel:
    """Scale, cluster and rank customers into named value tiers (tier 0 is the best).

    Parameters: ``n_tiers`` or ``tier_names`` (list or "high,mid,low"; default
    from k), ``transform`` ("auto" or a name per feature: a str for all, a list,
    or a dict {feature name or index: name}), ``value_weights`` (d floats, or a
    dict {feature: weight}; default -1 for recency-like names, +1 otherwise),
    every other keyword goes to :class:`strata.KMeans` (n_clusters,
    random_state, n_init, init, max_iter, tol, n_threads, algorithm).
    """

    def __init__(self, n_tiers=None, tier_names=None, transform="auto", value_weights=None,
                 **kmeans_params):
        self.n_tiers, self.tier_names, self.transform = n_tiers, tier_names, transform
        self.value_weights, self.kmeans_params = value_weights, kmeans_params
        self._m = None

    # -- pickling ----------------------------------------------------------
    def __getstate__(self):
        """Parameters and fitted arrays, and the fitted model as the bytes of
        its HDF5 file (strata_model_write_h5), so the copy predicts bitwise
        as the original and can be saved again."""
        state = dict(self.__dict__)
        m = state.pop("_m", None)
        if m is not None:
            with tempfile.TemporaryDirectory(prefix="strata-model-") as tmp:
                path = os.path.join(tmp, "model.h5")
                m.call(lib.strata_model_write_h5, os.fsencode(path), 0)
                with open(path, "rb") as f:
                    state["_model_h5"] = f.read()
        return state

    def __setstate__(self, state):
        state = dict(state)
        image = state.pop("_model_h5", None)
        self.__dict__.update(state)
        self._m = None
        if image is not None:
            with tempfile.TemporaryDirectory(prefix="strata-model-") as tmp:
                path = os.path.join(tmp, "model.h5")
                with open(path, "wb") as f:
                    f.write(image)
                self._m = _Model(_read_model(path, None))
            self._read_back(0)  # labels_ and tiers_ (training rows) come from the state

    # -- input -------------------------------------------------------------
    @staticmethod
    def _matrix(X):
        columns = None
        if hasattr(X, "columns") and hasattr(X, "to_numpy"):
            columns = [str(c) for c in X.columns]
        x = np.ascontiguousarray(_numeric(X, "X"), np.float64)  # DTypeError naming a bad column
        if x.ndim != 2:
            raise ArgumentError(f"X must be 2-D (rows x features), got shape {x.shape}", -101)
        return x, columns

    def _rows(self, X):
        """X for predict and scale: a DataFrame's columns taken by name, in the
        model's order, when the model knows its feature names (fitted on a
        DataFrame, or loaded with real names); by position otherwise."""
        x, columns = self._matrix(X)
        names = list(self.feature_names_in_)
        known = getattr(self, "_frame", False) or names != [f"x{j}" for j in range(len(names))]
        if columns is None or not known or columns == names:
            return x
        missing = [nm for nm in names if nm not in columns]
        unknown = [c for c in columns if c not in names]
        if missing or unknown or len(columns) != len(names):
            raise ArgumentError(f"The feature names should match those that were passed during "
                                f"fit: fitted on {names}, got {columns}"
                                + (f"; missing {missing}" if missing else "")
                                + (f"; unknown {unknown}" if unknown else ""), -101)
        return np.ascontiguousarray(x[:, [columns.index(nm) for nm in names]])

    def _tier_text(self, k):
        names = self.tier_names
        if names is None and self.n_tiers is not None:
            t = self.n_tiers
            if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
                raise ArgumentError(f"n_tiers must be an int >= 1 (or None), got {t!r}", -102)
            t = int(t)
            names = _TIER_DEFAULTS.get(t) or ",".join(f"tier{i + 1}" for i in range(t))
        if names is None:
            return None
        if not isinstance(names, str):
            names = [str(nm) for nm in names]
            if any("," in nm for nm in names):  # the library takes them as comma-separated text
                raise ArgumentError(f"a tier name may not hold a comma, got {names!r}", -102)
            names = ",".join(names)
        if "\0" in names:  # C would cut the name there
            raise ArgumentError(f"tier_names holds a NUL character: {names!r}", -102)
        return names

    def fit(self, X, y=None, sample_weight=None):
        """Fit the scaling, k-means and the tiers on X (n x d, original units).

        ``sample_weight``: None or n weights >= 0 (not all 0) for k-means
        (the scaling and the tier ranking are unweighted); the clusters are
        those of weighted k-means on the scaled rows.
        """
        x, columns = self._matrix(X)
        n, d = x.shape
        names = columns or [f"x{j}" for j in range(d)]
        for nm in names:
            if "\0" in nm:  # C would cut the name there
                raise ArgumentError(f"a feature (column) name holds a NUL character: {nm!r}", -102)
        sw = None
        if sample_weight is not None:
            sw = np.ascontiguousarray(sample_weight, dtype=np.float64)
            if sw.shape != (n,):
                raise ArgumentError(f"sample_weight must have shape ({n},), got {sw.shape}", -101)
        m = self._configured(names)
        self._fit_model(m, x, names, sw)
        self._m, self._frame = m, columns is not None
        self._read_back(n)
        return self

    def _configured(self, names, source=None):
        """A new model with this estimator's parameters, ready to fit."""
        km = KMeans(**self.kmeans_params)
        ints, doubles, centroids = km._settings()
        # fewer distinct rows than k: an error, as strata tiers says (KMeans
        # warns as scikit-learn does); a tier of no customer is no tier
        ints[_ffi.KMEANS_ALLOW_TOO_FEW] = 0
        m = _Model()
        kh = lib.strata_model_kmeans(m.ptr)
        for key, value in ints.items():
            _kmeans_call(kh, lib.strata_kmeans_set_int, key, value)
        for key, value in doubles.items():
            _kmeans_call(kh, lib.strata_kmeans_set_double, key, value)
        if centroids is not None:
            _kmeans_call(kh, lib.strata_kmeans_set_init_centroids,
                         centroids.ctypes.data_as(ctypes.POINTER(c_double)), *centroids.shape)
        self._apply_transform(m, names)
        if self.value_weights is not None:
            w = self.value_weights
            if isinstance(w, dict):
                w = [float(w.get(nm, w.get(j, 0.0))) for j, nm in enumerate(names)]
            w = np.ascontiguousarray(w, dtype=np.float64)
            m.call(lib.strata_model_set_value_weights, w.ctypes.data_as(ctypes.POINTER(c_double)),
                   len(w))
        text = self._tier_text(ints[_ffi.KMEANS_K])
        if text is not None:
            m.call(lib.strata_model_set_tier_names, text.encode())
        if source is not None:
            if "\0" in str(source):
                raise ArgumentError(f"source holds a NUL character: {source!r}", -102)
            m.call(lib.strata_model_set_source, str(source).encode())
        return m

    @staticmethod
    def _fit_model(m, x, names, sw=None):
        n, d = x.shape
        cnames = (ctypes.c_char_p * d)(*[s.encode() for s in names])
        m.call(lib.strata_model_fit, x.ctypes.data, n, d, 0, ctypes.cast(cnames, ctypes.c_void_p),
               None if sw is None else sw.ctypes.data_as(ctypes.POINTER(c_double)))

    def _apply_transform(self, m, names):
        spec = self.transform
        if isinstance(spec, str):
            m.call(lib.strata_model_set_transform, -1, _transform_code(spec))
            return
        if isinstance(spec, dict):
            items = spec.items()
        else:
            try:
                items = list(enumerate(spec))
            except TypeError:
                raise ArgumentError(f"transform must be a str, a list (one per feature) or a "
                                    f"dict, got {spec!r}", -102) from None
            if len(items) != len(names):  # a short list would leave features unscaled
                raise ArgumentError(f"transform: a list needs one transform per feature "
                                    f"({len(names)}: {names}), got {len(items)}", -102)
        for key, value in items:
            if isinstance(key, str):
                if key not in names:
                    raise ArgumentError(f"transform: unknown feature {key!r} (features: "
                                        f"{names})", -102)
                j = names.index(key)
            elif isinstance(key, numbers.Integral) and not isinstance(key, bool) \
                    and 0 <= key < len(names):
                j = int(key)
            else:
                raise ArgumentError(f"transform: a key must be a feature name or an index in "
                                    f"[0, {len(names)}), got {key!r}", -102)
            m.call(lib.strata_model_set_transform, j, _transform_code(value))

    def _read_back(self, n):
        m = self._m
        k, d = c_int64(), c_int64()
        m.call(lib.strata_model_shape, ctypes.byref(k), ctypes.byref(d))
        k, d = k.value, d.value
        dp = lambda a: a.ctypes.data_as(ctypes.POINTER(c_double))  # noqa: E731
        ip = lambda a: a.ctypes.data_as(ctypes.POINTER(c_int32))  # noqa: E731
        cs, co = np.empty((k, d)), np.empty((k, d))
        m.call(lib.strata_model_centroids, 0, dp(cs), k, d)
        m.call(lib.strata_model_centroids, 1, dp(co), k, d)
        ct, score, w = np.empty(k, np.int32), np.empty(k), np.empty(d)
        m.call(lib.strata_model_cluster_tier, ip(ct), k)
        m.call(lib.strata_model_value_score, dp(score), k)
        m.call(lib.strata_model_value_weights, dp(w), d)
        tf, center, scale = np.empty(d, np.intc), np.empty(d), np.empty(d)
        m.call(lib.strata_model_transform_params, tf.ctypes.data, dp(center), dp(scale))
        self.feature_names_in_ = [lib.strata_model_feature_name(m.ptr, j).decode()
                                  for j in range(d)]
        self.tier_names_ = [lib.strata_model_tier_name(m.ptr, t).decode()
                            for t in range(lib.strata_model_tier_count(m.ptr))]
        self.n_features_in_, self.n_clusters_ = d, k
        self.cluster_tier_, self.value_score_, self.value_weights_ = ct, score, w
        self.transforms_ = [_transform_name(int(c)) for c in tf]
        self.center_, self.scale_ = center, scale
        self.centroids_, self.centroids_original_ = self._frame_of(cs), self._frame_of(co)
        if n:
            self.labels_, self.tiers_ = np.empty(n, np.int32), np.empty(n, np.int32)
            m.call(lib.strata_model_labels, ip(self.labels_), n)
            m.call(lib.strata_model_tiers, ip(self.tiers_), n)

    def _frame_of(self, a):
        if getattr(self, "_frame", False):
            import pandas as pd
            return pd.DataFrame(a, columns=self.feature_names_in_)
        return a

    # -- use ---------------------------------------------------------------
    def _fitted(self):
        if self._m is None:
            raise NotFittedError("This TierModel instance is not fitted yet. Call 'fit' first.")
        return self._m

    def predict_labels(self, X):
        return self._predict(X)[0]

    def predict(self, X):
        """Tier of each row (0 = best); see :meth:`predict_labels` for clusters."""
        return self._predict(X)[1]

    def _predict(self, X):
        m = self._fitted()
        x = self._rows(X)
        n, d = x.shape
        labels, tiers = np.empty(n, np.int32), np.empty(n, np.int32)
        if n:
            m.call(lib.strata_model_predict, x.ctypes.data, n, d, 0,
                   labels.ctypes.data_as(ctypes.POINTER(c_int32)),
                   tiers.ctypes.data_as(ctypes.POINTER(c_int32)))
        return labels, tiers

    def scale(self, X):
        """The rows in the scaled space k-means works in."""
        m = self._fitted()
        x = self._rows(X)
        out = np.empty(x.shape)
        m.call(lib.strata_model_scale, x.ctypes.data, x.shape[0], x.shape[1], 0, out.ctypes.data)
        return out

    def save(self, path, force=False):
        self._fitted().call(lib.strata_model_write_h5, os.fsencode(path), 1 if force else 0)


def load_model(path, group=None):
    """A :class:`TierModel` read from an HDF5 file (group ``/model`` by default)."""
    tm = TierModel()
    tm._m, tm._frame = _Model(_read_model(path, group)), False
    tm._read_back(0)
    return tm


def _read_model(path, group):
    ptr = _ffi.ModelPtr()
    status = lib.strata_model_read_h5(ctypes.byref(ptr), *_c_strings(
        (os.fsencode(path), None if group is None else str(group).encode())))
    if status:
        raise error_for(status, lib.strata_last_error().decode())
    return ptr
