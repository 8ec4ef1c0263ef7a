"""RFM scores from a transaction log: ``strata.rfm`` (and ``strata.rfm_score``
for customers aggregated elsewhere), computed by libstrata's ``strata_rfm``.

Example::

    import strata
    res = strata.rfm(df.customer_id, df.day, df.amount, bins=5)
    res.r, res.f, res.m, res.segment_names      # numpy arrays, one row per customer
    res.frame                                   # a pandas DataFrame (if pandas is installed)
    res.report                                  # the cleaning counts

See docs/rfm.md of the libstrata sources for the rules (cleaning, ties,
segments) and the pandas recipe the scores agree with.
"""

import ctypes
import numbers

import numpy as np

from . import _ffi
from ._lib import lib
from .errors import ArgumentError, error_for

_INT64_MIN = -2**63
_ANY = (1, 100)


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


class _Handle:
    """A ``strata_rfm`` handle for the length of one call."""

    def __init__(self):
        self.ptr = _ffi.RFMPtr()
        status = lib.strata_rfm_create(ctypes.byref(self.ptr))
        if status != _ffi.OK:
            raise error_for(status, _text(lib.strata_last_error()))

    def close(self):
        if self.ptr:
            lib.strata_rfm_free(self.ptr)
            self.ptr = _ffi.RFMPtr()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, func, *args):
        status = func(self.ptr, *args)
        if status != _ffi.OK:
            message = _text(lib.strata_rfm_last_error(self.ptr))
            raise error_for(status, message or _text(lib.strata_status_str(status)))

    def set(self, key, value):
        self.call(lib.strata_rfm_set_int, key, int(value))

    def result(self, key):
        value = ctypes.c_int64()
        self.call(lib.strata_rfm_result_int, key, ctypes.byref(value))
        return value.value


def _ptr(array, ctype):
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _column(value, name):
    """A 1-D numpy array (pandas Series and lists accepted)."""
    if hasattr(value, "to_numpy") and hasattr(value, "dtype") and \
            getattr(value.dtype, "kind", "O") not in "biufM":
        # pandas nullable dtypes (Int64, Float64): missing values become NaN
        try:
            value = value.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            value = value.to_numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{name} cannot be converted to an array: {exc}") from None
    if array.ndim != 1:
        raise ArgumentError(f"{name} must be 1-D, got shape {array.shape}")
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise ArgumentError(f"{name} must hold numbers, got objects such as "
                                f"{array[:1].tolist()!r}") from None
    return array


def _as_ids(value, name="customer_id"):
    """int64 ids; NaN and non-integral floats become the missing-id mark."""
    a = _column(value, name)
    if a.dtype.kind in "iub":
        if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
            raise ArgumentError(f"{name} has values above 2**63 - 1")
        return np.ascontiguousarray(a, np.int64)
    if a.dtype.kind == "f":
        out = np.full(a.shape, _INT64_MIN, np.int64)
        ok = np.isfinite(a) & (np.floor(a) == a) & (np.abs(a) < 2.0**63)
        out[ok] = a[ok].astype(np.int64)
        return out
    raise ArgumentError(f"{name} must hold integers (or floats with NaN for missing ids), "
                        f"got dtype {a.dtype}")


def _as_times(value, unit, name="day"):
    """int64 days or seconds; datetime64 converted, NaN/NaT marked bad."""
    a = _column(value, name)
    if a.dtype.kind == "M":
        out = a.astype("datetime64[s]" if unit == "seconds" else "datetime64[D]").astype(np.int64)
        out[np.isnat(a)] = _INT64_MIN
        return out
    if a.dtype.kind in "iub":
        if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
            raise ArgumentError(f"{name} has values above 2**63 - 1")
        return np.ascontiguousarray(a, np.int64)
    if a.dtype.kind == "f":
        f = np.floor(a)
        out = np.full(a.shape, _INT64_MIN, np.int64)
        ok = np.isfinite(f) & (np.abs(f) < 2.0**63)
        out[ok] = f[ok].astype(np.int64)
        return out
    raise ArgumentError(f"{name} must hold integer days or seconds, floats or datetime64, "
                        f"got dtype {a.dtype}")


def _as_amounts(value, name="amount"):
    a = _column(value, name)
    if a.dtype.kind not in "biuf":
        raise ArgumentError(f"{name} must hold numbers, got dtype {a.dtype}")
    return np.ascontiguousarray(a, np.float64)


def _choice(name, value, table):
    if value not in table:
        raise ArgumentError(f"{name} must be one of {sorted(table)}, got {value!r}", -102)
    return table[value]


def _int_or_none(name, value):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ArgumentError(f"{name} must be an int or None, got {value!r}", -102)
    return int(value)


def _segment_table(segments):
    """(names, bounds) from [(name, {"r": (lo, hi), "f": ..., "m": ..., "fm": ...}), ...]
    or {name: {...}}; a missing range matches any score."""
    items = list(segments.items()) if isinstance(segments, dict) else list(segments)
    names, bounds = [], []
    for item in items:
        try:
            name, ranges = item
        except (TypeError, ValueError):
            raise ArgumentError("segments must be (name, ranges) pairs or a {name: ranges} "
                                f"dict, got {item!r}") from None
        if not isinstance(ranges, dict) or set(ranges) - {"r", "f", "m", "fm"}:
            raise ArgumentError(f"segment {name!r}: ranges must be a dict with keys among "
                                f"'r', 'f', 'm', 'fm', got {ranges!r}")
        row = []
        for key in ("r", "f", "m", "fm"):
            lo, hi = ranges.get(key, _ANY)
            row += [int(lo), int(hi)]
        names.append(str(name).encode("utf-8"))
        bounds.append(row)
    return names, np.ascontiguousarray(np.array(bounds, dtype=np.int32).reshape(-1, 8))


class RFMResult:
    """One row per customer, sorted by customer id, plus what describes the run.

    Arrays (numpy, length ``n_customers``): customer_id, recency, frequency,
    monetary, revenue, first_day, tenure, r, f, m, code, score, segment
    (index into ``segment_names``, -1 if no rule matched).

    Also: ``segment_names`` (list), ``segment_rules`` (int32, n_segments x 8:
    r_lo, r_hi, f_lo, f_hi, m_lo, m_hi, fm_lo, fm_hi), ``report`` (dict: the
    cleaning counts and run figures, see docs/rfm.md), ``edges`` (dict
    metric -> q + 1 bin edges), ``profile`` (dict statistic -> one value per
    segment), ``frame`` and ``profile_frame`` (pandas DataFrames, or None
    without pandas).
    """

    COLUMNS = ("customer_id", "recency", "frequency", "monetary", "revenue", "first_day",
               "tenure", "r", "f", "m", "code", "score", "segment")

    def __init__(self, handle):
        self.report = {name: handle.result(key) for name, key in _ffi.RFM_RESULTS.items()}
        n = self.n_customers = self.report["customers"]
        for name, key in _ffi.RFM_INT_COLUMNS.items():
            out = np.empty(n, np.int64)
            handle.call(lib.strata_rfm_column_int64, key, _ptr(out, ctypes.c_int64), n)
            setattr(self, name, out)
        for name, key in _ffi.RFM_DOUBLE_COLUMNS.items():
            out = np.empty(n, np.float64)
            handle.call(lib.strata_rfm_column_double, key, _ptr(out, ctypes.c_double), n)
            setattr(self, name, out)
        q = self.bins = self.report["bins"]
        self.edges = {}
        for name, key in _ffi.RFM_METRICS.items():
            out = np.empty(q + 1, np.float64)
            handle.call(lib.strata_rfm_edges, key, _ptr(out, ctypes.c_double), q + 1)
            self.edges[name] = out
        nseg = self.report["segments"]
        self.segment_names = [_text(lib.strata_rfm_segment_name(handle.ptr, i))
                              for i in range(nseg)]
        self.segment_rules = np.empty((nseg, _ffi.RFM_RULE_COLUMNS), np.int32)
        handle.call(lib.strata_rfm_segment_rules, _ptr(self.segment_rules, ctypes.c_int32), nseg)
        self.profile = {"segment": list(self.segment_names)}
        for key, name in enumerate(_ffi.RFM_STATS):
            out = np.empty(nseg, np.float64)
            handle.call(lib.strata_rfm_profile, key, _ptr(out, ctypes.c_double), nseg)
            self.profile[name] = out
        self.profile["count"] = self.profile["count"].astype(np.int64)

    @property
    def segment_name(self):
        """The segment name of every customer (None where no rule matched)."""
        names = np.array(self.segment_names + [None], dtype=object)
        return names[self.segment]  # -1 picks the trailing None

    @property
    def frame(self):
        """The customers as a pandas DataFrame indexed by customer_id (None without pandas)."""
        try:
            import pandas as pd
        except ImportError:
            return None
        data = {name: getattr(self, name) for name in self.COLUMNS if name != "customer_id"}
        data["segment_name"] = pd.Categorical.from_codes(self.segment, self.segment_names)
        return pd.DataFrame(data, index=pd.Index(self.customer_id, name="customer_id"))

    @property
    def profile_frame(self):
        """The segment profiles as a pandas DataFrame indexed by segment (None without pandas)."""
        try:
            import pandas as pd
        except ImportError:
            return None
        data = {k: v for k, v in self.profile.items() if k != "segment"}
        return pd.DataFrame(data, index=pd.Index(self.segment_names, name="segment"))

    def __len__(self):
        return self.n_customers

    def __repr__(self):
        r = self.report
        return (f"<RFMResult: {self.n_customers} customers from {r['rows_used']} of {r['rows']} "
                f"rows, q = {self.bins}, {len(self.segment_names)} segments>")


def _configure(h, bins, ties, edges, segments, n_threads):
    h.set(_ffi.RFM_BINS, _int_or_none("bins", bins))
    h.set(_ffi.RFM_TIES, _choice("ties", ties, _ffi.RFM_TIES_VALUES))
    if n_threads is not None:
        h.set(_ffi.THREADS, _int_or_none("n_threads", n_threads))
    if edges is not None:
        if not isinstance(edges, dict) or set(edges) - set(_ffi.RFM_METRICS):
            raise ArgumentError("edges must be a dict with keys 'recency', 'frequency', "
                                f"'monetary', got {edges!r}")
        for name, cuts in edges.items():
            cuts = np.ascontiguousarray(cuts, np.float64).ravel()
            h.call(lib.strata_rfm_set_edges, _ffi.RFM_METRICS[name], _ptr(cuts, ctypes.c_double),
                   cuts.size)
    if segments is not None:
        names, bounds = _segment_table(segments)
        if not names:
            raise ArgumentError("segments is empty; pass None for the default map")
        c_names = (ctypes.c_char_p * len(names))(*names)
        h.call(lib.strata_rfm_set_segments, len(names), c_names, _ptr(bounds, ctypes.c_int32))


def rfm(customer_id, day, amount, bins=5, ties="rank", *, reference_day=None, time_unit="days",
        frequency="rows", monetary="sum", negative="drop", zero="keep", duplicates="keep",
        min_day=None, max_day=None, min_id=0, edges=None, segments=None, n_threads=None):
    """RFM scores and segments of the customers of a transaction log.

    Args:
        customer_id: integer ids (floats allowed: NaN or non-integral values
            are missing ids, dropped and counted).
        day: integer days (any epoch), or Unix seconds with
            ``time_unit="seconds"``; floats are floored (NaN: a bad time);
            numpy/pandas datetimes are converted to UTC days (or seconds).
        amount: purchase amounts.
        bins: q, the number of score bins (2..100).
        ties: "rank" (equal-count bins, ties broken by ascending customer id:
            pandas' ``qcut(s.rank(method="first"), q)``), "value" (equal
            values share a bin: ``qcut(s, q, duplicates="drop")``, maybe fewer
            bins) or "edges" (the cut points given in ``edges``).
        reference_day: the day recency is measured to; default the day after
            the last kept purchase.
        time_unit: "days" or "seconds".
        frequency: "rows" (purchases) or "days" (distinct purchase days).
        monetary: "sum" (total spend) or "mean" (per purchase, or per day).
        negative: "drop" (default) or "net" (subtract returns from the spend).
        zero: "keep" (default: zero amounts are purchases) or "drop".
        duplicates: "keep" (default) or "drop" exact duplicate rows.
        min_day, max_day: the valid day range; rows outside are dropped.
        min_id: smallest valid customer id (default 0: negative ids dropped).
        edges: {"recency": [...], "frequency": [...], "monetary": [...]},
            q - 1 increasing cut points each, for ``ties="edges"``.
        segments: None (the default 11-segment map) or rules in order, first
            match wins: ``[(name, {"r": (lo, hi), "f": ..., "m": ..., "fm":
            ...}), ...]`` or a dict; inclusive score ranges, a missing one
            matches anything; fm is (f + m + 1) // 2.
        n_threads: OpenMP threads (None: the library default). The result
            does not depend on it.

    Returns an :class:`RFMResult`. Raises ArgumentError for bad arguments,
    columns of different lengths, an empty log, a log with no purchase
    left after cleaning, or amounts whose totals overflow double (a
    customer's spend or a segment's revenue beyond about 1.8e308: the
    message names the customer or segment; docs/rfm.md).
    """
    unit = _choice("time_unit", time_unit, _ffi.RFM_TIME_UNITS)
    ids = _as_ids(customer_id)
    times = _as_times(day, time_unit)
    amounts = _as_amounts(amount)
    if not len(ids) == len(times) == len(amounts):
        raise ArgumentError(f"customer_id, day and amount must have the same length, got "
                            f"{len(ids)}, {len(times)} and {len(amounts)}")
    with _Handle() as h:
        _configure(h, bins, ties, edges, segments, n_threads)
        h.set(_ffi.RFM_TIME_UNIT, unit)
        h.set(_ffi.RFM_FREQUENCY_MODE, _choice("frequency", frequency, _ffi.RFM_FREQUENCY_VALUES))
        h.set(_ffi.RFM_MONETARY_MODE, _choice("monetary", monetary, _ffi.RFM_MONETARY_VALUES))
        h.set(_ffi.RFM_NEGATIVE, _choice("negative", negative,
                                         {"drop": _ffi.RFM_POLICY["drop"],
                                          "net": _ffi.RFM_POLICY["net"]}))
        h.set(_ffi.RFM_ZERO, _choice("zero", zero, {k: _ffi.RFM_POLICY[k] for k in ("keep", "drop")}))
        h.set(_ffi.RFM_DUPLICATES, _choice("duplicates", duplicates,
                                           {k: _ffi.RFM_POLICY[k] for k in ("keep", "drop")}))
        ref = _int_or_none("reference_day", reference_day)
        h.set(_ffi.RFM_REFERENCE_DAY, _ffi.RFM_REFERENCE_AUTO if ref is None else ref)
        for key, name, value in ((_ffi.RFM_MIN_DAY, "min_day", min_day),
                                 (_ffi.RFM_MAX_DAY, "max_day", max_day),
                                 (_ffi.RFM_MIN_ID, "min_id", min_id)):
            value = _int_or_none(name, value)
            if value is not None:
                h.set(key, value)
        h.call(lib.strata_rfm_fit, _ptr(ids, ctypes.c_int64), _ptr(times, ctypes.c_int64),
               _ptr(amounts, ctypes.c_double), len(ids))
        return RFMResult(h)


def rfm_score(customer_id, recency, frequency, monetary, bins=5, ties="rank", *, edges=None,
              segments=None, n_threads=None):
    """Scores and segments of customers aggregated elsewhere (distinct ids,
    recency >= 0 days, frequency >= 1, finite monetary). Same scoring
    arguments and result as :func:`rfm`; first_day and tenure are -1.
    Profile sums that overflow double raise ArgumentError."""
    ids = _as_ids(customer_id)
    columns = [np.ascontiguousarray(_column(recency, "recency"), np.int64),
               np.ascontiguousarray(_column(frequency, "frequency"), np.int64),
               _as_amounts(monetary, "monetary")]
    if any(len(c) != len(ids) for c in columns):
        raise ArgumentError("customer_id, recency, frequency and monetary must have the same "
                            f"length, got {[len(ids)] + [len(c) for c in columns]}")
    with _Handle() as h:
        _configure(h, bins, ties, edges, segments, n_threads)
        h.call(lib.strata_rfm_fit_aggregates, _ptr(ids, ctypes.c_int64),
               _ptr(columns[0], ctypes.c_int64), _ptr(columns[1], ctypes.c_int64),
               _ptr(columns[2], ctypes.c_double), len(ids))
        return RFMResult(h)
