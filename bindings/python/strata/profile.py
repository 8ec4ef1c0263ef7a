"""Cluster profiles, lifecycle stages and tier migrations (docs/tiers.md).

``profile(X, labels)``: per cluster, size and per feature the (weighted)
mean, standard deviation, min, p10, median, p90, max and z, in a pandas
DataFrame. ``lifecycle(...)``: new / active / dormant / lost per customer.
``migrate(...)``: who moved between the tiers of two tierings.
"""

import ctypes

import numpy as np

from . import _ffi
from ._lib import lib
from .errors import ArgumentError, error_for

#: Stage names by code (strata_stage): 0 new, 1 active, 2 dormant, 3 lost.
STAGE_NAMES = _ffi.STAGE_NAMES
#: Move names by code (strata_move): 0 same, 1 up, 2 down, 3 new, 4 gone.
MOVE_NAMES = _ffi.MOVE_NAMES
#: Statistics of a profile, in the order of its columns for each feature.
FEATURE_STATS = ("mean", "std", "min", "p10", "median", "p90", "max", "z")


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


def _check(status):
    if status != _ffi.OK:
        raise error_for(status, _text(lib.strata_last_error()) or
                        _text(lib.strata_status_str(status)))


def _ptr(array, ctype):
    return None if array is None else array.ctypes.data_as(ctypes.POINTER(ctype))


def _int_vector(value, name, dtype, n=None):
    """A 1-D contiguous integer array; floats only when whole."""
    a = np.asarray(value)
    if a.ndim != 1:
        raise ArgumentError(f"{name} must be 1-D, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ArgumentError(f"{name} has {a.shape[0]} values, expected {n}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.floor(a)):
            raise ArgumentError(f"{name} must hold whole numbers")
    elif a.dtype.kind not in "iub":
        raise ArgumentError(f"{name} must hold integers, got dtype {a.dtype}")
    info = np.iinfo(dtype)
    if a.size and (a.min() < info.min or a.max() > info.max):
        raise ArgumentError(f"{name} holds values outside the {np.dtype(dtype).name} range")
    return np.ascontiguousarray(a, dtype)


def _names(values, n, what):
    names = [str(v) for v in values]
    if len(names) != n:
        raise ArgumentError(f"{len(names)} {what} names for {n} {what}s")
    return names


def profile(X, labels, k=None, weights=None, *, feature_names=None, n_threads=None, out=None,
            force=False):
    """Profile the clusters of labelled rows, in original units.

    Args:
        X: n x d numbers (a numpy array or a pandas DataFrame, whose column
            names become the feature names), all finite.
        labels: n cluster indices in ``0..k-1``.
        k: clusters (default ``labels.max() + 1``); clusters without rows
            get count 0 and NaN statistics.
        weights: None or n weights >= 0 (not all 0). Rows of weight 0 count
            in ``count`` only.
        feature_names: names of the d features (default: the DataFrame's
            columns, else ``x0, x1, ...``).
        n_threads: threads (default: all); the result does not depend on it.
        out: None, or a NEW HDF5 file to write the profile to as well (the
            layout of strata_profile_write_h5(): /profile/count, ..., /profile/z,
            /profile/feature_names, /profile/overall/<stat>; docs/tiers.md).
        force: replace an existing ``out`` (a regular file only).

    Returns:
        A DataFrame with one row per cluster (index ``cluster``: 0..k-1,
        then ``-1`` for all rows together) and two column levels
        (``feature``, ``stat``): ``("size", "count")`` rows, ``("size",
        "weight")`` sum of weights, ``("size", "share")`` weight share, then
        for each feature ``mean``, ``std`` (population, ddof 0), ``min``,
        ``p10``, ``median``, ``p90``, ``max`` and ``z`` (how many overall
        standard deviations the cluster mean lies from the overall mean).
        ``df["recency"]`` is one feature's table, ``df.xs("mean", axis=1,
        level="stat")`` the means of every feature. Quantiles without
        weights are ``numpy.percentile``'s default (linear); with weights
        the inverted-CDF rule (docs/tiers.md, "Profiles").
    """
    import pandas as pd

    if feature_names is None and isinstance(X, pd.DataFrame):
        feature_names = list(X.columns)
    handle, k, names = _compute(X, labels, k, weights, feature_names, n_threads)
    try:
        if out is not None:
            _check(lib.strata_profile_write_h5(handle, _path(out, "out"),
                                               _ffi.WRITE_FORCE if force else 0))
        return _frame(handle, k, names)
    finally:
        lib.strata_profile_free(handle)


def _compute(X, labels, k, weights, feature_names, n_threads):
    """strata_profile_compute() on checked arguments: (handle, k, names); the
    caller frees the handle (strata_profile_free)."""
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ArgumentError(f"X must be a 2-D array with at least one row and column, got "
                            f"shape {x.shape}")
    x = np.ascontiguousarray(x)
    n, d = x.shape
    lab = _int_vector(labels, "labels", np.int32, n)
    if k is None:
        k = int(lab.max()) + 1 if lab.size else 1
    k = int(k)
    w = None
    if weights is not None:
        w = np.ascontiguousarray(np.asarray(weights, dtype=np.float64))
        if w.shape != (n,):
            raise ArgumentError(f"weights must have shape ({n},), got {w.shape}")
    names = _names(feature_names, d, "feature") if feature_names is not None else \
        [f"x{j}" for j in range(d)]
    if "size" in names:
        raise ArgumentError("a feature named 'size' would clash with the size columns")
    c_names = (ctypes.c_char_p * d)(*[s.encode() for s in names])
    handle = ctypes.c_void_p()
    _check(lib.strata_profile_compute(ctypes.byref(handle), _ptr(x, ctypes.c_double), n, d, 0,
                                      c_names, _ptr(lab, ctypes.c_int32), k,
                                      _ptr(w, ctypes.c_double), int(n_threads or 0)))
    return handle, k, names


def _frame(handle, k, names):
    """The DataFrame of :func:`profile` from a computed profile handle."""
    import pandas as pd

    d = len(names)
    values = {}
    for code, stat in enumerate(_ffi.PROFILE_STATS):
        per = 1 if code < 3 else d
        out = np.empty((k + 1) * per, np.float64)
        _check(lib.strata_profile_get(handle, code, _ptr(out, ctypes.c_double), out.size))
        values[stat] = out.reshape(k + 1, per)
    columns, data = [], []
    for stat in ("count", "weight", "share"):
        columns.append(("size", stat))
        data.append(values[stat][:, 0])
    for j, name in enumerate(names):
        for stat in FEATURE_STATS:
            columns.append((name, stat))
            data.append(values[stat][:, j])
    index = pd.Index(list(range(k)) + [-1], name="cluster")
    frame = pd.DataFrame(np.column_stack(data), index=index,
                         columns=pd.MultiIndex.from_tuples(columns, names=["feature", "stat"]))
    frame[("size", "count")] = frame[("size", "count")].astype(np.int64)
    return frame


def lifecycle(first_day, last_day, purchases, reference_day, thresholds=None, *, names=False):
    """Lifecycle stage of each customer (docs/tiers.md, "Lifecycle stages").

    With tenure = reference_day - first_day and recency = reference_day -
    last_day, and thresholds (new_days, active_days, lost_days) = (30, 90,
    365) by default: "new" when tenure < new_days, else "active" when
    recency <= active_days, "dormant" when recency <= lost_days, else "lost".

    Args:
        first_day, last_day: integer days (any numbering), first <= last <=
            reference_day.
        purchases: purchases per customer (>= 1; only checked), or None.
        reference_day: the day the stages are seen from.
        thresholds: None or three days, 0 <= new <= active <= lost.
        names: return a pandas Categorical of the names (ordered as
            ``STAGE_NAMES``) instead of the int32 codes.
    """
    first = _int_vector(first_day, "first_day", np.int64)
    n = first.shape[0]
    last = _int_vector(last_day, "last_day", np.int64, n)
    count = None if purchases is None else _int_vector(purchases, "purchases", np.int64, n)
    thr = None
    if thresholds is not None:
        thr = _int_vector(thresholds, "thresholds", np.int64, 3)
    stage = np.empty(n, np.int32)
    _check(lib.strata_lifecycle(_ptr(first, ctypes.c_int64), _ptr(last, ctypes.c_int64),
                                _ptr(count, ctypes.c_int64), n, int(reference_day),
                                _ptr(thr, ctypes.c_int64), _ptr(stage, ctypes.c_int32)))
    if names:
        import pandas as pd
        return pd.Categorical.from_codes(stage, categories=list(STAGE_NAMES), ordered=True)
    return stage


def crosstab(a, na, b, nb):
    """Counts per combination of two code arrays (e.g. tier x stage): an na x nb int64 array."""
    x = _int_vector(a, "a", np.int32)
    y = _int_vector(b, "b", np.int32, x.shape[0])
    out = np.empty((int(na), int(nb)), np.int64)
    _check(lib.strata_crosstab(_ptr(x, ctypes.c_int32), int(na), _ptr(y, ctypes.c_int32),
                               int(nb), x.shape[0], _ptr(out, ctypes.c_int64)))
    return out


def migrate(old_ids, old_tiers, new_ids, new_tiers, n_tiers=None, *, tier_names=None):
    """Who moved between two tierings of customers, matched by id.

    Tier 0 is the most valuable; "up" is a move to a lower tier index.

    Args:
        old_ids, old_tiers: the old tiering (ids need not be sorted; an id
            twice is an error).
        new_ids, new_tiers: the new one.
        n_tiers: tiers (default: the largest tier + 1, or len(tier_names)).
        tier_names: names of the tiers, best first (default "0", "1", ...).

    Returns:
        ``(matrix, customers)``: ``matrix`` a DataFrame of customer counts
        (index ``old`` tier, columns ``new`` tier) over the customers in
        both; ``customers`` one row per customer of the union, ids
        ascending: ``customer_id``, ``old_tier`` (-1 if new), ``new_tier``
        (-1 if gone) and ``move`` (a Categorical of ``MOVE_NAMES``).
        ``customers["move"].value_counts()`` counts the moves.
    """
    import pandas as pd

    oid = _int_vector(old_ids, "old_ids", np.int64)
    otier = _int_vector(old_tiers, "old_tiers", np.int32, oid.shape[0])
    nid = _int_vector(new_ids, "new_ids", np.int64)
    ntier = _int_vector(new_tiers, "new_tiers", np.int32, nid.shape[0])
    if n_tiers is None:
        if tier_names is not None:
            n_tiers = len(tier_names)
        else:
            n_tiers = 1 + max([int(t.max()) for t in (otier, ntier) if t.size] or [0])
    n_tiers = int(n_tiers)
    names = _names(tier_names, n_tiers, "tier") if tier_names is not None else \
        [str(i) for i in range(n_tiers)]
    handle = ctypes.c_void_p()
    _check(lib.strata_migrate(ctypes.byref(handle), _ptr(oid, ctypes.c_int64),
                              _ptr(otier, ctypes.c_int32), oid.shape[0],
                              _ptr(nid, ctypes.c_int64), _ptr(ntier, ctypes.c_int32),
                              nid.shape[0], n_tiers))
    try:
        return _migration_frames(handle, names)
    finally:
        lib.strata_migration_free(handle)


def _migration_frames(handle, names=None):
    """(matrix, customers) of :func:`migrate` from a migration handle; names
    None: the migration's own tier names, else "0", "1", ..."""
    import pandas as pd

    nt, nc = ctypes.c_int64(), ctypes.c_int64()
    _check(lib.strata_migration_shape(handle, ctypes.byref(nt), ctypes.byref(nc)))
    n_tiers, n = nt.value, nc.value
    if names is None:
        names = [_text(lib.strata_migration_tier_name(handle, t)) or str(t)
                 for t in range(n_tiers)]
    matrix = np.empty((n_tiers, n_tiers), np.int64)
    _check(lib.strata_migration_matrix(handle, _ptr(matrix, ctypes.c_int64), matrix.size))
    ids = np.empty(n, np.int64)
    old, new, move = (np.empty(n, np.int32) for _ in range(3))
    _check(lib.strata_migration_customers(handle, _ptr(ids, ctypes.c_int64),
                                          _ptr(old, ctypes.c_int32), _ptr(new, ctypes.c_int32),
                                          _ptr(move, ctypes.c_int32), n))
    frame = pd.DataFrame(matrix, index=pd.Index(names, name="old"),
                         columns=pd.Index(names, name="new"))
    customers = pd.DataFrame({
        "customer_id": ids, "old_tier": old, "new_tier": new,
        "move": pd.Categorical.from_codes(move, categories=list(MOVE_NAMES))})
    return frame, customers


def migrate_h5(old_path, new_path, out=None, *, force=False):
    """:func:`migrate` on two tiered-customer files (``strata migrate OLD.h5 NEW.h5``).

    Each file holds the 1-D datasets ``/customer_id`` and ``/tier`` of equal
    length, as ``strata tiers`` and :meth:`TiersResult.save` write them; the
    tier names come from the ``names`` attribute of ``/tier`` (files that both
    name their tiers must name them alike; without names: "0", "1", ...).

    Args:
        old_path, new_path: the two files (only read).
        out: None, or a NEW HDF5 file to write the migration to (the layout of
            ``strata migrate -o``: /migration/matrix, /migration/tier_names,
            /migration/counts, /customer_id, /old_tier, /new_tier, /move);
            it may not be either input.
        force: replace an existing ``out`` (a regular file only).

    Returns:
        ``(matrix, customers)`` as :func:`migrate`, with the files' tier names.
        Raises FileError (missing file or dataset, wrong type, lengths
        differ), OutputExistsError, ArgumentError (tier names differ, a tier
        out of range, an id twice).
    """
    handle = ctypes.c_void_p()
    _check(lib.strata_migrate_h5(ctypes.byref(handle), _path(old_path, "old_path"),
                                 _path(new_path, "new_path")))
    try:
        result = _migration_frames(handle)
        if out is not None:
            _check(lib.strata_migration_write_h5(handle, _path(out, "out"),
                                                 _ffi.WRITE_FORCE if force else 0))
        return result
    finally:
        lib.strata_migration_free(handle)


def _path(value, name):
    """A file path (str or os.PathLike) as bytes for the library."""
    import os

    try:
        path = os.fsencode(value)
    except TypeError:
        raise ArgumentError(f"{name} must be a path (str or os.PathLike), got {value!r}") \
            from None
    if b"\0" in path:
        raise ArgumentError(f"{name} holds a NUL character")
    return path
