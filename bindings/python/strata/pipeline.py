"""The whole way from a transaction log to named tiers in one call:
``strata.tiers`` runs the steps of ``strata tiers`` (tools/tiers_run.c) and
returns a :class:`TiersResult`, whose ``save`` writes the file that command
writes (docs/tiers.md, "The whole way").

Example::

    res = strata.tiers(tx, customer="customer_id", time="day", amount="amount")
    res.customers            # features, cluster, tier, stage per customer
    res.tier_stage           # customers per tier and lifecycle stage
    res.model.predict(...)   # next month's customers into the same tiers
    res.save("tiers.h5")     # the layout of `strata tiers ... -o tiers.h5`
"""

import ctypes
import inspect
from ctypes import c_char_p, c_double, c_int32, c_int64

import numpy as np

from . import _ffi
from . import profile as _profile
from ._arrays import frame_column
from ._lib import lib
from .errors import ArgumentError, error_for
from .kmeans import _integer, seed_of
from .metrics import _k_range, sweep
from .rfm import RFMResult, _fit_log
from .tiers import TierModel

#: The features ``tiers`` can take from the RFM aggregates (``--features``), and clv
#: (the CLV step's customer lifetime value).
FEATURES = ("recency", "frequency", "monetary", "tenure", "clv")
#: The CLV step's columns, written under /clv by ``save`` (``strata tiers --clv``).
CLV_COLUMNS = ("x", "t_x", "T", "zbar", "p_alive", "expected_purchases", "expected_spend", "clv")
#: Default ``sample_size`` of the sweep's Euclidean silhouette (``--sample``).
SAMPLE_SIZE = 10000
#: The options of strata.rfm that ``tiers`` takes as **rfm_options.
_RFM_OPTIONS = [p for p in inspect.signature(_fit_log).parameters
                if p not in ("customer_id", "day", "amount", "n_threads")]


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


def _features(features):
    """--features: names from FEATURES, each once, at least one."""
    items = features.split(",") if isinstance(features, str) else list(features)
    names = []
    for f in items:
        if f not in FEATURES:
            raise ArgumentError(f"features: unknown feature {f!r} (recency, frequency, monetary, "
                                f"tenure or clv)", -102)
        if f in names:
            raise ArgumentError(f"features: {f!r} given twice", -102)
        names.append(f)
    if not names:
        raise ArgumentError("features is empty", -102)
    return names


def _k_bounds(k):
    """(k_min, k_max): one k (an int >= 1) or a range of consecutive ks >= 2."""
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
        k = _integer("k", k, 1)
        return k, k
    k_min, k_max = _k_range(k)
    if k_min < 2:
        raise ArgumentError(f"a range of k starts at 2 or more, got {k!r}", -102)
    return k_min, k_max


def _columns(customer_id, day, amount, customer, time):
    """The three columns of the log: given as arrays, or named in a DataFrame."""
    if hasattr(customer_id, "columns") and hasattr(customer_id, "__getitem__"):
        frame = customer_id
        if day is not None or (amount is not None and not isinstance(amount, str)):
            raise ArgumentError("with a DataFrame, name its columns with customer=, time= and "
                                "amount= (strings), not day= or arrays", -102)
        names = (customer or "customer_id", time or "day", amount or "amount")
        return [frame_column(frame, c) for c in names], "DataFrame{%s,%s,%s}" % names
    if customer is not None or time is not None or isinstance(amount, str):
        raise ArgumentError("customer=, time= and amount= name the columns of a DataFrame; "
                            "with arrays pass customer_id, day and amount", -102)
    if day is None or amount is None:
        raise ArgumentError("tiers needs customer_id, day and amount (or a DataFrame)", -102)
    return [customer_id, day, amount], "arrays"


class _Profiles:
    """Owns the profile handles a TiersResult writes on save."""

    def __init__(self):
        self.handles = []

    def add(self, handle):
        self.handles.append(handle)
        return handle

    def __del__(self):
        for h in getattr(self, "handles", ()):  # a half-built copy has none
            lib.strata_profile_free(h)
        self.handles = []

    def __reduce_ex__(self, protocol):
        raise TypeError("strata_profile handles cannot be pickled or copied")


def _clv_step(columns, rfm, calibration_end, clv_period, clv_months, discount_rate, time_unit,
              threads):
    """``strata tiers --clv``'s CLV step: strata.CLV on the same log, the
    calibration ending on calibration_end or the reference day of the RFM
    result; its columns matched to the RFM customers (NaN where the CLV model
    has no row: a customer first seen after the calibration end). Returns
    (the fitted CLV, {column: n values}, customers without a CLV row)."""
    from .clv import CLV
    end = rfm.report["reference_day"] if calibration_end is None else calibration_end
    model = CLV(end, period=clv_period, clv_months=clv_months, discount_rate=discount_rate,
                time_unit=time_unit, n_threads=threads or 0)
    model.fit(*columns)
    ids = model.columns_["customer_id"]
    at = np.searchsorted(ids, rfm.customer_id)
    found = at < len(ids)
    found[found] = ids[at[found]] == rfm.customer_id[found]
    cols = {}
    for name in CLV_COLUMNS:
        out = np.full(len(rfm.customer_id), np.nan)
        out[found] = model.columns_[name][at[found]]
        cols[name] = out
    return model, cols, int((~found).sum())


def tiers(customer_id, day=None, amount=None, k=range(2, 11), *, tier_names=None,
          features=("recency", "frequency", "monetary"), transform="auto", random_state=0,
          n_init=3, max_iter=300, init="k-means++", sample_size=SAMPLE_SIZE, thresholds=None,
          n_threads=None, customer=None, time=None, source=None, clv=False, value="rfm",
          calibration_end=None, clv_period="weeks", clv_months=12, discount_rate=0.01,
          **rfm_options):
    """From a transaction log to named value tiers and lifecycle stages, in one
    call: the steps of ``strata tiers`` (docs/tiers.md, "The whole way").

    1. Clean and aggregate the log per customer (:func:`strata.rfm`).
    2. Take ``features`` from the aggregates, in original units.
    3. Fit the scaling (``transform``) and scale the rows.
    4. With a range of k: fit and rate every k on the scaled rows
       (:func:`strata.sweep`) and take the suggested k.
    5. Fit a :class:`TierModel` at that k: k-means on the scaled rows,
       clusters ranked by value into named tiers, best first.
    6. Lifecycle stage per customer (new, active, dormant, lost).
    7. Profiles per cluster and per tier, counts per tier and stage.

    Same arguments, same result as the command (tested): labels, tiers,
    stages, sweep and, through :meth:`TiersResult.save`, the datasets of its
    output file.

    Args:
        customer_id, day, amount: the log as three columns (the types
            :func:`strata.rfm` takes). Or a pandas DataFrame of transactions
            as the first argument, its columns named by ``customer=``
            (default "customer_id"), ``time=`` (default "day") and
            ``amount=`` (default "amount").
        k: one k (int), or consecutive ks to choose from (a range of step 1,
            a (k_min, k_max) pair or a list; k_min >= 2). Default 2..10.
            With T tier names a range starts at T (every tier needs a
            cluster). A range of one k fits that k without a sweep.
        tier_names: names of the tiers, best first (list, or "high,mid,low");
            at most k. Default "high,mid,low" (k >= 3), "high,low" (k = 2).
        features: names from recency, frequency, monetary, tenure and clv (a
            list or "recency,monetary").
        transform: "auto" (log1p where heavy-tailed, then z-scores), "zscore",
            "robust", "minmax", "none", "log1p+zscore", ...; or per feature
            as :class:`TierModel` takes it.
        random_state: the k-means seed (an int >= 0; None draws one, used for
            the sweep and the fit alike).
        n_init, max_iter, init: k-means runs per k, iterations per run, and
            the initialisation ("k-means++", "k-means||", "afk-mc2",
            "random", or a k x d array of starting centroids in the scaled
            space, which fixes k).
        sample_size: rows of the sweep's Euclidean silhouette (None or 0:
            every row).
        thresholds: lifecycle days (new_days, active_days, lost_days),
            default (30, 90, 365).
        n_threads: threads (default: all); the result does not depend on it.
        source: the provenance text saved with the model and in the file
            (default: a description of the call).
        clv: add the CLV step (``strata tiers --clv``; implied by the feature
            clv and by ``value="clv"``): :class:`strata.CLV` on the same log,
            its columns in ``customers`` and, by ``save``, under /clv. A
            customer without a CLV row (first seen after the calibration end)
            has NaN there and 0 as the clv feature.
        value: what ranks the clusters into tiers: "rfm" (default: the
            model's weights by feature name) or "clv" (the clusters' scaled
            CLV centroid; clv joins the features if missing).
        calibration_end: the CLV calibration end (a day or a date; default
            the reference day of the RFM result).
        clv_period, clv_months, discount_rate: of the CLV step ("weeks" or
            "days"; months of the CLV; its monthly discount rate).
        **rfm_options: options of :func:`strata.rfm` (bins, ties,
            reference_day, time_unit, negative, zero, duplicates, min_day,
            max_day, min_id, edges, segments, frequency, monetary).

    Returns a :class:`TiersResult`. Raises ArgumentError (DTypeError) for bad
    arguments or columns, with the library's message.
    """
    unknown = sorted(set(rfm_options) - set(_RFM_OPTIONS))
    if unknown:  # else Python names the private _fit_log
        raise ArgumentError(f"tiers() got an unexpected keyword argument {unknown[0]!r} (its "
                            f"strata.rfm options: {', '.join(_RFM_OPTIONS)})", -102)
    names = _features(features)
    if value not in ("rfm", "clv"):
        raise ArgumentError(f"value must be 'rfm' or 'clv', got {value!r}", -102)
    if value == "clv" and "clv" not in names:
        names.append("clv")
    want_clv = bool(clv) or "clv" in names
    k_min, k_max = _k_bounds(k)
    columns, what = _columns(customer_id, day, amount, customer, time)
    thr = None if thresholds is None else _profile._int_vector(thresholds, "thresholds",
                                                                np.int64, 3)
    is_array_init = not isinstance(init, str)
    if is_array_init and k_min != k_max:
        raise ArgumentError("init as an array of centroids fixes k: give one k", -102)
    seed = seed_of(random_state)
    threads = None if n_threads is None else _integer("n_threads", n_threads, 0)
    if source is None:
        source = f"strata.tiers({what})"
    handle = _fit_log(*columns, n_threads=threads, **rfm_options)
    rfm = RFMResult(handle)
    n = rfm.n_customers
    clv_model, clv_cols, clv_missing = None, None, 0
    if want_clv:
        clv_model, clv_cols, clv_missing = _clv_step(
            columns, rfm, calibration_end, clv_period, clv_months, discount_rate,
            rfm_options.get("time_unit", "days"), threads)
    if "clv" in names:
        # a customer the CLV model holds with no CLV (its fit failed: no
        # repeat buyers for Gamma-Gamma) would be clustered and ranked as 0
        held = ~np.isnan(clv_cols["x"])
        none = int(np.count_nonzero(held & np.isnan(clv_cols["clv"])))
        if none:
            raise ArgumentError(
                f"no CLV for {none} of the {int(held.sum())} customers the CLV model holds "
                f"(its spend model, Gamma-Gamma, needs repeat buyers: "
                f"{int(np.count_nonzero(clv_cols['x'][held] > 0))} in the calibration period): "
                f"clv can be neither a feature nor the tier value here; leave it out of "
                f"features and use value='rfm' (clv=True alone still gives the CLV columns)",
                -103)
    x = np.ascontiguousarray(np.column_stack(
        [np.nan_to_num(clv_cols["clv"], nan=0.0) if f == "clv" else getattr(rfm, f)
         for f in names]), np.float64)
    stage = np.empty(n, np.int32)
    handle.call(lib.strata_rfm_lifecycle,
                None if thr is None else thr.ctypes.data_as(ctypes.POINTER(c_int64)),
                stage.ctypes.data_as(ctypes.POINTER(c_int32)), n)

    kmeans = dict(random_state=seed, n_init=n_init, max_iter=max_iter, n_threads=threads)
    weights = [1.0 if f == "clv" else 0.0 for f in names] if value == "clv" else None
    model = TierModel(tier_names=tier_names, transform=transform, init=init,
                      value_weights=weights, **kmeans)
    text = model._tier_text(None)
    n_tiers = 0 if text is None else text.count(",") + 1
    if n_tiers > k_max:
        raise ArgumentError(f"tier_names names {n_tiers} tiers, more than the {k_max} clusters "
                            f"of k: each tier needs at least one cluster", -102)
    run = dict(k_min=k_min, k_max=k_max, seed=seed, n_init=n_init, max_iter=max_iter,
               sample=int(sample_size or 0),
               **dict(zip(("new_days", "active_days", "lost_days"),
                          (30, 90, 365) if thr is None else (int(v) for v in thr))),
               memory=0, features=",".join(names), transform=str(transform),
               init=init if isinstance(init, str) else "centroids", value=value)
    k_min = max(k_min, n_tiers)  # as strata tiers: a range starts at the tier count
    table, suggested = None, None
    if k_min != k_max:
        # the scaling does not depend on k: fit it once on a model of one
        # cluster (no tier-name limit), then rate every k on the scaled rows
        scaler = TierModel(transform=transform, n_clusters=1, random_state=seed,
                           n_threads=threads)
        scaled = scaler.fit(x).scale(x)
        size = 0 if not sample_size else min(_integer("sample_size", sample_size, 0), n)
        table, suggested = sweep(scaled, range(k_min, k_max + 1), sample_size=size, init=init,
                                 **kmeans)
        k_min = k_max = suggested
    model.kmeans_params["n_clusters"] = k_min
    m = model._configured(names, source)
    model._fit_model(m, x, names)
    model._m, model._frame = m, True
    model._read_back(n)
    if table is None:
        scaled = model.scale(x)
    k = model.n_clusters_
    t = len(model.tier_names_)
    labels, tier = model.labels_, model.tiers_
    owner = _Profiles()
    by_cluster = owner.add(_profile._compute(x, labels, k, None, names, threads)[0])
    by_tier = owner.add(_profile._compute(x, tier, t, None, names, threads)[0])
    return TiersResult(rfm=rfm, handle=handle, model=model, names=names, x=x, scaled=scaled,
                       stage=stage, sweep=table, suggested_k=suggested, profiles=owner,
                       by_cluster=by_cluster, by_tier=by_tier, source=source, run=run,
                       threads=threads,
                       clv=None if clv_model is None else
                       dict(model=clv_model, columns=clv_cols, missing=clv_missing, value=value,
                            clv_months=clv_months, discount_rate=discount_rate))


class TiersResult:
    """What :func:`strata.tiers` found.

    Attributes:
        customers: DataFrame indexed by ``customer_id`` (ascending): the
            features in original units, ``cluster`` (int32), ``tier``
            (Categorical of the tier names, ordered best first: the
            categories are ``model.tier_names_``, so ``.cat.codes`` is the
            tier index, 0 = most valuable) and ``stage`` (Categorical of
            new, active, dormant, lost).
        profile, tier_profile: :func:`strata.profile` DataFrames per cluster
            and per tier (index 0..k-1 / 0..T-1, then -1 for all rows;
            tier t is ``model.tier_names_[t]``).
        tier_stage: DataFrame of customer counts, tiers (index, best first)
            x stages (columns).
        sweep, suggested_k: the :func:`strata.sweep` table and its suggested
            k with a range of k, else None.
        model: the fitted :class:`TierModel` (``predict``, ``save``,
            ``labels_``, ``tiers_``, centroids, scaling).
        rfm: the :class:`RFMResult` of the log.
        scaled: n x d float64, the rows k-means ran on.
        stage: int32 stage codes; ``source``: the provenance text.
        clv: the fitted :class:`strata.CLV` of the CLV step, or None; its
            columns (CLV_COLUMNS) are also in ``customers``, prefixed
            ``clv_`` where a feature has the same name (``clv``).
    """

    def __init__(self, *, rfm, handle, model, names, x, scaled, stage, sweep, suggested_k,
                 profiles, by_cluster, by_tier, source, run=None, clv=None, threads=None):
        import pandas as pd

        self._threads = threads or 0  # that compress the chunks of save()
        self._clv = clv
        self.clv = None if clv is None else clv["model"]
        self.rfm, self._rfm_handle, self.model = rfm, handle, model
        self.feature_names, self.scaled, self.stage = list(names), scaled, stage
        self.sweep, self.suggested_k, self.source = sweep, suggested_k, source
        self._run = run or {}  # the call's parameters, as strata tiers' root attributes
        self._profiles, self._by_cluster, self._by_tier = profiles, by_cluster, by_tier
        k, t = model.n_clusters_, len(model.tier_names_)
        self.profile = _profile._frame(by_cluster, k, self.feature_names)
        self.tier_profile = _profile._frame(by_tier, t, self.feature_names)
        self.tier_profile.index.name = "tier"
        index = pd.Index(rfm.customer_id, name="customer_id")
        data = {name: x[:, j] for j, name in enumerate(self.feature_names)}
        data["cluster"] = model.labels_
        data["tier"] = pd.Categorical.from_codes(model.tiers_, categories=model.tier_names_,
                                                 ordered=True)
        data["stage"] = pd.Categorical.from_codes(stage, categories=list(_ffi.STAGE_NAMES),
                                                  ordered=True)
        if clv is not None:
            for name in CLV_COLUMNS:
                data[name if name not in data else f"clv_{name}"] = clv["columns"][name]
        self.customers = pd.DataFrame(data, index=index)
        counts = _profile.crosstab(model.tiers_, t, stage, len(_ffi.STAGE_NAMES))
        self.tier_stage = pd.DataFrame(counts, index=pd.Index(model.tier_names_, name="tier"),
                                       columns=pd.Index(list(_ffi.STAGE_NAMES), name="stage"))

    def __getstate__(self):
        raise TypeError("a strata.TiersResult cannot be pickled or copied (it holds library "
                        "handles for save); save() it to HDF5 (strata.load_model reads its "
                        "model), or pickle its parts: customers, model, profile, ...")

    def __repr__(self):
        return (f"<TiersResult: {len(self.customers)} customers, k = {self.model.n_clusters_}, "
                f"tiers {', '.join(self.model.tier_names_)}>")

    def save(self, path, force=False):
        """Write everything to a NEW HDF5 file in the layout of ``strata tiers``
        (docs/tiers.md, "The whole way"): /customer_id, /labels, /tier,
        /stage, /scaled, /tier_stage, /rfm/..., /model/..., /profile/...,
        /tier_profile/..., /sweep/... (with a range of k) and the root
        attributes source and strata_version. Written atomically: on any
        error nothing is left at path. ``force`` replaces an existing
        regular file. ``strata.load_model(path)`` reads the model back.
        Per-customer datasets are chunked with shuffle + gzip, compressed
        on the ``n_threads`` of the :func:`strata.tiers` call (the bytes do
        not depend on it)."""
        out = ctypes.c_void_p()
        status = lib.strata_out_open(ctypes.byref(out), _profile._path(path, "path"), None, 0,
                                     _ffi.WRITE_FORCE if force else 0)
        if status:
            raise error_for(status, _text(lib.strata_last_error()))
        try:
            status = lib.strata_out_set_int(out, _ffi.THREADS, self._threads)
            if status:
                raise error_for(status, _text(lib.strata_out_last_error(out)))
            self._write_parts(out)
        except BaseException:
            lib.strata_out_discard(out)
            raise
        status = lib.strata_out_commit(out)  # frees the handle, also on failure
        if status:
            raise error_for(status, _text(lib.strata_last_error()))

    def _write_parts(self, out):
        def part(func, *args):
            status = func(out, *args)
            if status:
                raise error_for(status, _text(lib.strata_out_last_error(out)))

        def strings(values):
            return (c_char_p * len(values))(*[str(v).encode() for v in values])

        def ptr(a, ctype):
            return a.ctypes.data_as(ctypes.POINTER(ctype))

        model, n = self.model, len(self.customers)
        tier_names, stage_names = model.tier_names_, list(_ffi.STAGE_NAMES)
        t, d = len(tier_names), len(self.feature_names)
        ids = np.ascontiguousarray(self.rfm.customer_id, np.int64)
        labels = np.ascontiguousarray(model.labels_, np.int32)
        tier = np.ascontiguousarray(model.tiers_, np.int32)
        tier_stage = np.ascontiguousarray(self.tier_stage.to_numpy(), np.int64)
        part(lib.strata_out_column_int64, b"/customer_id", ptr(ids, c_int64), n)
        part(lib.strata_out_column_int32, b"/labels", ptr(labels, c_int32), n)
        part(lib.strata_out_column_int32, b"/tier", ptr(tier, c_int32), n)
        part(lib.strata_out_strings, b"/tier", b"names", strings(tier_names), t)
        part(lib.strata_out_column_int32, b"/stage", ptr(self.stage, c_int32), n)
        part(lib.strata_out_strings, b"/stage", b"names", strings(stage_names), 4)
        scaled = np.ascontiguousarray(self.scaled, np.float64)
        part(lib.strata_out_matrix_double, b"/scaled", ptr(scaled, c_double), n, d)
        part(lib.strata_out_strings, b"/scaled", b"feature_names", strings(self.feature_names), d)
        part(lib.strata_out_matrix_int64, b"/tier_stage", ptr(tier_stage, c_int64), t, 4)
        part(lib.strata_out_strings, b"/tier_stage", b"tier_names", strings(tier_names), t)
        part(lib.strata_out_strings, b"/tier_stage", b"stage_names", strings(stage_names), 4)
        part(lib.strata_out_rfm, self._rfm_handle.ptr, b"/rfm", self.source.encode())
        m = model._fitted()
        with m.lock:
            part(lib.strata_out_model, m.ptr, b"/model")
        part(lib.strata_out_profile, self._by_cluster, b"/profile")
        part(lib.strata_out_profile, self._by_tier, b"/tier_profile")
        if self.sweep is not None:
            ks = self.sweep.index.to_numpy()
            table = np.ascontiguousarray(self.sweep[list(_ffi.METRICS)].to_numpy(), np.float64)
            part(lib.strata_out_sweep, int(ks[0]), int(ks[-1]), ptr(table, c_double),
                 int(self.suggested_k), int(self.sweep.attrs["sample_size"]))
        if self._clv is not None:
            self._write_clv(part, n, ids)
        # the run's parameters (provenance), as strata tiers writes them
        run = dict(self._run, k=model.n_clusters_, tiers=",".join(tier_names))
        for name, v in run.items():
            if isinstance(v, str):
                part(lib.strata_out_attr_string, None, name.encode(), v.encode())
            else:
                part(lib.strata_out_attr_int, None, name.encode(), int(v))
        part(lib.strata_out_attr_string, None, b"source", self.source.encode())
        part(lib.strata_out_attr_string, None, b"strata_version", lib.strata_version_string())

    def _write_clv(self, part, n, ids):
        """/clv/... as strata tiers --clv writes it: customer_id (the rows are
        /customer_id's), then the columns."""
        c = self._clv
        part(lib.strata_out_column_int64, b"/clv/customer_id",
             ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), n)
        for name in CLV_COLUMNS:
            col = np.ascontiguousarray(c["columns"][name], np.float64)
            part(lib.strata_out_column_double, f"/clv/{name}".encode(),
                 col.ctypes.data_as(ctypes.POINTER(c_double)), n)
        p = c["model"].params_
        for name in ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "bgnbd_loglik", "gg_p",
                     "gg_q", "gg_gamma", "gg_loglik", "freq_spend_corr"):
            part(lib.strata_out_attr_double, b"/clv", name.encode(), float(p[name]))
        for name, v in (("calibration_end", p["calibration_end"]), ("customers", p["customers"]),
                        ("excluded", p["excluded"]), ("missing", c["missing"]),
                        ("clv_months", c["clv_months"])):
            part(lib.strata_out_attr_int, b"/clv", name.encode(), int(v))
        part(lib.strata_out_attr_double, b"/clv", b"discount_rate", float(c["discount_rate"]))
        part(lib.strata_out_attr_string, b"/clv", b"period", str(p["period"]).encode())
        part(lib.strata_out_attr_string, b"/clv", b"value", c["value"].encode())


__all__ = ["tiers", "TiersResult", "FEATURES"]
