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
import datetime
import decimal
import math
import numbers
import os
import re
import sys

import numpy as np

from . import _ffi, _params
from .frame import _name
from ._handle import _c_strings
from ._lib import lib
from .errors import ArgumentError, DTypeError, error_for

_INT64_MIN = -2**63
#: a rule range matching any score: 1 .. the most bins (the library's bound of STRATA_RFM_BINS)
_ANY = (1, _params.int_bounds(_ffi.RFM_BINS)[1])


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

    def __del__(self):  # a handle kept past one call (strata.tiers keeps it for save)
        if getattr(self, "ptr", None) is not None:  # a half-built copy has none
            self.close()

    def __reduce_ex__(self, protocol):
        # ctypes would refuse with a ValueError, after copy made a half-built object
        raise TypeError("a strata_rfm handle cannot be pickled or copied")

    def call(self, func, *args):
        status = func(self.ptr, *_c_strings(args))
        if status != _ffi.OK:
            # the thread's message: every failing call sets it (const calls only that)
            message = _text(lib.strata_last_error())
            raise error_for(status, message or _text(lib.strata_status_str(status)))

    def set(self, key, value):
        self.call(lib.strata_rfm_set_int, key, int(value))

    def result(self, key):
        value = ctypes.c_int64()
        self.call(lib.strata_rfm_result_int, key, ctypes.byref(value))
        return value.value


def _ptr(array, ctype):
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _is_missing(objects):
    """Mask of the missing values (None, NaN, pandas' NA and NaT) of an object array."""
    pd = sys.modules.get("pandas")  # pandas' missing marks exist only if it is imported
    if pd is not None:
        return np.asarray(pd.isna(objects), bool)
    return np.array([x is None or (isinstance(x, numbers.Real) and x != x) for x in objects], bool)


def _whole(x, floor):
    """A number as a Python int in int64's range, or None: non-integral
    values are floored (``floor``) or None; exact for ints, floats, Decimal
    and Fraction alike."""
    if not isinstance(x, numbers.Integral):
        if not math.isfinite(x):
            return None
        w = math.floor(x)
        if not floor and w != x:
            return None
        x = w
    x = int(x)
    return x if _INT64_MIN <= x < 2**63 else None


def _from_objects(a, name, floats, source):
    """An object column of numbers as (numpy array, missing mask).

    ``floats``: "float" (amounts: float64), "integral" (ids) or "floor"
    (times): exact int64 (Python ints above 2**53 keep every digit), with
    non-integral ids and values beyond int64 marked missing.
    """
    missing = _is_missing(a)
    present = np.flatnonzero(~missing)
    for x in a[present]:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, decimal.Decimal)):
            what = "booleans" if isinstance(x, (bool, np.bool_)) else f"{type(x).__name__} objects"
            hint = (f"; convert them with pandas.to_datetime({name}, utc=True)"
                    if isinstance(x, (datetime.date, np.datetime64)) and floats == "floor" else "")
            raise DTypeError(f"{name} must hold numbers, got {what} such as {x!r} (dtype {source})"
                             f"{hint}")
    if floats == "float":
        out = np.full(a.shape, np.nan)
        out[present] = [float(x) for x in a[present]]
        return out, missing
    out = np.zeros(a.shape, np.int64)
    for i in present:
        v = _whole(a[i], floats == "floor")
        if v is None:
            missing[i] = True
        else:
            out[i] = v
    return out, missing


def _values(value, name, floats, source=None):
    """A column as (1-D numpy array of kind b, i, u, f, M, m, ..., missing mask).

    Lists, numpy arrays and pandas Series, Index and arrays are accepted.
    pandas' extension dtypes become numpy ones: nullable integers and floats
    (missing values masked), timezone-aware datetimes (UTC), categoricals
    (the values of their categories); object columns of numbers become
    numbers (see _from_objects). The caller checks the kind.
    """
    dtype = getattr(value, "dtype", None)
    source = source or dtype
    if dtype is not None and not isinstance(dtype, np.dtype):  # a pandas extension dtype
        import pandas as pd
        if isinstance(dtype, pd.CategoricalDtype):
            cat = pd.Categorical(value)
            codes = np.asarray(cat.codes)
            values, missing = _values(cat.categories, name, floats, source)
            if not len(values):  # every value missing
                return np.zeros(codes.shape, np.int64), np.ones(codes.shape, bool)
            taken = (codes < 0) if missing is None else (codes < 0) | missing[codes]
            return values[codes], taken
        if isinstance(dtype, pd.DatetimeTZDtype):
            return value.to_numpy(dtype="datetime64[ns]"), None  # UTC instants; NaT stays NaT
        numpy_dtype = getattr(dtype, "numpy_dtype", None)  # Int64, UInt64, Float64, boolean
        if numpy_dtype is not None and dtype.kind in "biuf":
            missing = np.asarray(pd.isna(value), bool)
            return value.to_numpy(dtype=numpy_dtype, na_value=0), missing
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{name} cannot be converted to an array: {exc}") from None
    if array.ndim != 1:
        raise ArgumentError(f"{name} must be 1-D, got shape {array.shape}")
    if dtype is None and array.dtype.kind == "f" and floats != "float":
        array = np.asarray(value, dtype=object)  # a list: numpy rounds big ints to floats
    if array.dtype.kind == "O":
        return _from_objects(array, name, floats, source or array.dtype)
    return array, None


def _refuse(a, name, wanted, source):
    """DTypeError unless the numpy kind of ``a`` is one of ``wanted``."""
    kind = a.dtype.kind
    if kind in wanted:
        return
    what = {"b": "booleans", "M": "datetimes", "m": "timedeltas (durations)", "U": "strings",
            "S": "bytes", "c": "complex numbers"}.get(kind, "values that are not numbers")
    hint = ("; pass datetimes, or whole days (e.g. td.dt.days)"
            if kind == "m" and "M" in wanted else "")
    kinds = "integers, floats or datetimes" if "M" in wanted else "integers or floats"
    raise DTypeError(f"{name} must hold numbers ({kinds}), got {what} (dtype {source}){hint}")


def _as_int64(value, name, floats, wanted):
    """int64 column: ``floats`` "integral" (ids) or "floor" (times); missing
    values, floats that are no int64 and integers beyond int64 all become
    the missing mark INT64_MIN (a bad id or time, dropped and counted).
    datetime64 (if ``wanted`` has "M") is returned as is."""
    a, missing = _values(value, name, floats)
    _refuse(a, name, wanted, getattr(value, "dtype", a.dtype))
    if a.dtype.kind == "M":
        return a, missing
    if a.dtype.kind == "f":
        f = np.floor(a) if floats == "floor" else a
        out = np.full(a.shape, _INT64_MIN, np.int64)
        ok = np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < 2.0**63)
        out[ok] = f[ok].astype(np.int64)
    elif a.dtype.kind == "u":
        out = a.astype(np.int64)
        out[a > np.iinfo(np.int64).max] = _INT64_MIN  # never clipped
    else:
        out = np.ascontiguousarray(a, np.int64)
    if missing is not None:
        out[missing] = _INT64_MIN
    return out, None


def _as_ids(value, name="customer_id"):
    """int64 ids; missing, non-integral and out-of-range ids become the missing mark."""
    return _as_int64(value, name, "integral", "iuf")[0]


def _as_times(value, unit, name="day"):
    """int64 days or seconds; datetimes converted (UTC), floats floored;
    NaN, NaT and values beyond int64 marked bad."""
    a, missing = _as_int64(value, name, "floor", "iufM")
    if a.dtype.kind != "M":
        return a
    out = a.astype("datetime64[s]" if unit == "seconds" else "datetime64[D]").astype(np.int64)
    out[np.isnat(a) if missing is None else np.isnat(a) | missing] = _INT64_MIN
    return out


def _as_amounts(value, name="amount"):
    """float64 amounts; missing values become NaN (a bad amount)."""
    a, missing = _values(value, name, "float")
    _refuse(a, name, "iuf", getattr(value, "dtype", a.dtype))
    out = np.array(a, np.float64)
    if missing is not None:
        out[missing] = np.nan
    return out


def _as_whole(value, name):
    """Whole numbers, none missing (rfm_score's columns) as int64, or ArgumentError."""
    a = _as_int64(value, name, "integral", "iuf")[0]
    bad = np.flatnonzero(a == _INT64_MIN)
    if bad.size:
        raise ArgumentError(f"{name} must hold whole numbers; row {bad[0]} does not "
                            f"(missing, fractional or beyond int64)")
    return a


def _choice(name, value, table):
    if value not in table:
        raise ArgumentError(f"{name} must be one of {sorted(table)}, got {value!r}", -102)
    return table[value]


def _as_day(name, value):
    """A day number (days since 1970-01-01) from an int, or a date given as a
    ``datetime.date``/``datetime`` (an aware one taken in UTC), numpy
    ``datetime64``, pandas ``Timestamp`` or ISO text ("1997-09-30", as the
    strata program takes it); a time of day is dropped (the day it falls on).
    The day arguments of strata.rfm, rfm_h5, tiers and clv; None stays None."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be a day number or a date, got {value!r}", -102)
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d\d-\d\d([T ].*)?", value.strip()):
        # numpy reads "10300" as the year 10300 and "1997-09" as a month
        raise ArgumentError(f"{name} as text must be an ISO date (\"1997-09-30\"), got "
                            f"{value!r}", -102)
    if isinstance(value, str) and value.strip().startswith("0000"):
        # numpy takes a year 0; ISO 8601's YYYY and datetime start at 0001
        raise ArgumentError(f"{name}: the year of {value!r} is out of range (0001..9999)", -102)
    try:
        day = np.datetime64(value, "D") if not isinstance(value, np.datetime64) \
            else value.astype("datetime64[D]")
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a day number or a date, got {value!r}",
                            -102) from None
    if np.isnat(day):
        raise ArgumentError(f"{name} must be a day number or a date, got {value!r}", -102)
    return int(day.astype(np.int64))


def _day_text(day):
    """A day number with its date, as the strata program prints it:
    "10288 (1998-03-03)"; the number alone outside the years 0001..9999."""
    if not -719162 <= day <= 2932896:
        return str(day)
    return f"{day} ({datetime.date(1970, 1, 1) + datetime.timedelta(days=day)})"


def _int_or_none(name, value):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ArgumentError(f"{name} must be an int or None, got {value!r}", -102)
    return int(value)


def _score_range(name, key, bounds):
    """[lo, hi] of a segment rule: two ints in int32's range (the library's
    type), never truncated or wrapped."""
    if isinstance(bounds, (tuple, list)) and len(bounds) == 2 and all(
            isinstance(b, (numbers.Integral, np.integer)) and not isinstance(b, (bool, np.bool_))
            and -2**31 <= b < 2**31 for b in bounds):
        return [int(b) for b in bounds]
    raise ArgumentError(f"segment {name!r}: the {key!r} range must be a (lo, hi) pair of "
                        f"int scores, got {bounds!r}")


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
            row += _score_range(name, key, ranges.get(key, _ANY))
        name = str(name)
        if "\0" in name:  # C would cut the name there
            raise ArgumentError(f"segment name {name!r} holds a NUL character")
        names.append(name.encode("utf-8"))
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
        handle.call(lib.strata_rfm_segment_rules, _ptr(self.segment_rules, ctypes.c_int32), nseg,
                    _ffi.RFM_RULE_COLUMNS)
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
    if bins is None:  # _int_or_none lets None through, for the optional options
        raise ArgumentError("bins must be an int (the number of score bins), got None", -102)
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
    if isinstance(segments, str):  # the text format of `strata rfm --segments FILE`
        if "\0" in segments:
            raise ArgumentError("segments text holds a NUL character")
        h.call(lib.strata_rfm_set_segments_text, segments.encode("utf-8"))
    elif segments is not None:
        names, bounds = _segment_table(segments)
        if not names:
            raise ArgumentError("segments is empty; pass None for the default map")
        c_names = (ctypes.c_char_p * len(names))(*names)
        h.call(lib.strata_rfm_set_segments, len(names), c_names, _ptr(bounds, ctypes.c_int32),
               _ffi.RFM_RULE_COLUMNS)


def rfm(customer_id, day, amount, bins=5, ties="rank", *, reference_day=None, time_unit="days",
        frequency="rows", monetary="sum", negative="drop", zero="keep", duplicates="keep",
        min_day=None, max_day=None, min_id=0, edges=None, segments=None, n_threads=None):
    """RFM scores and segments of the customers of a transaction log.

    Columns: lists, numpy arrays or pandas Series/Index/arrays of numbers:
    numpy integers and floats, pandas nullable ``Int*``/``UInt*``/``Float*``,
    ``category`` of numbers, ``object`` of numbers. Missing values (NaN,
    None, ``pd.NA``, NaT) make their row a bad id, time or amount (dropped and
    counted). Booleans, strings, timedeltas and other non-numbers raise
    :class:`strata.DTypeError` (a TypeError). docs/python.md has the table.

    Args:
        customer_id: integer ids; floats are ids when whole (NaN, fractional
            values and values beyond int64, e.g. uint64 >= 2**63, are missing
            ids, dropped and counted, never clipped).
        day: integer days (any epoch), or Unix seconds with
            ``time_unit="seconds"``; floats are floored (NaN: a bad time);
            numpy/pandas datetimes of any unit are converted to UTC days (or
            seconds): naive ones are taken as UTC, timezone-aware ones are
            converted to UTC.
        amount: purchase amounts.
        bins: q, the number of score bins (2..100).
        ties: "rank" (equal-count bins, ties broken by ascending customer id:
            pandas' ``qcut(s.rank(method="first"), q)``), "value" (equal
            values share a bin: ``qcut(s, q, duplicates="drop")``, maybe fewer
            bins) or "edges" (the cut points given in ``edges``).
        reference_day: the day recency is measured to; default the day after
            the last kept purchase. A day number (days since 1970-01-01) or a
            date: ``datetime.date``, numpy ``datetime64``, pandas
            ``Timestamp`` or "YYYY-MM-DD" (with ``time_unit="seconds"`` still
            a day: floor(t / 86400)).
        time_unit: "days" or "seconds".
        frequency: "rows" (purchases) or "days" (distinct purchase days).
        monetary: "sum" (total spend) or "mean" (per purchase, or per day).
        negative: "drop" (default) or "net" (subtract returns from the spend).
        zero: "keep" (default: zero amounts are purchases) or "drop".
        duplicates: "keep" (default) or "drop" exact duplicate rows.
        min_day, max_day: the valid day range (day numbers or dates, as
            reference_day); rows outside are dropped.
        min_id: smallest valid customer id (default 0: negative ids dropped).
        edges: {"recency": [...], "frequency": [...], "monetary": [...]},
            q - 1 increasing cut points each, for ``ties="edges"``.
        segments: None (the default 11-segment map) or rules in order, first
            match wins: ``[(name, {"r": (lo, hi), "f": ..., "m": ..., "fm":
            ...}), ...]`` or a dict; inclusive score ranges, a missing one
            matches anything; fm is (f + m + 1) // 2. Or the text of a
            ``strata rfm --segments`` file: one ``NAME: r=4-5 f=3-5 m=4``
            per line (docs/rfm.md).
        n_threads: OpenMP threads (None: the library default). The result
            does not depend on it.

    Returns an :class:`RFMResult`. Raises ArgumentError for bad arguments,
    columns of different lengths, an empty log, a log with no purchase
    left after cleaning, or amounts whose totals overflow double (a
    customer's spend or a segment's revenue beyond about 1.8e308: the
    message names the customer or segment; docs/rfm.md); DTypeError (an
    ArgumentError and a TypeError) for a column that does not hold numbers
    (or datetimes, for ``day``).
    """
    with _fit_log(customer_id, day, amount, bins, ties, reference_day=reference_day,
                  time_unit=time_unit, frequency=frequency, monetary=monetary,
                  negative=negative, zero=zero, duplicates=duplicates, min_day=min_day,
                  max_day=max_day, min_id=min_id, edges=edges, segments=segments,
                  n_threads=n_threads) as h:
        return RFMResult(h)


def _fit_log(customer_id, day, amount, bins=5, ties="rank", *, reference_day=None,
             time_unit="days", frequency="rows", monetary="sum", negative="drop", zero="keep",
             duplicates="keep", min_day=None, max_day=None, min_id=0, edges=None, segments=None,
             n_threads=None):
    """The open, fitted handle of :func:`rfm` (the caller closes it)."""
    _choice("time_unit", time_unit, _ffi.RFM_TIME_UNITS)
    ids = _as_ids(customer_id)
    times = _as_times(day, time_unit)
    amounts = _as_amounts(amount)
    if not len(ids) == len(times) == len(amounts):
        raise ArgumentError(f"customer_id, day and amount must have the same length, got "
                            f"{len(ids)}, {len(times)} and {len(amounts)}")
    h = _Handle()
    try:
        _configure_log(h, bins, ties, reference_day=reference_day, time_unit=time_unit,
                       frequency=frequency, monetary=monetary, negative=negative, zero=zero,
                       duplicates=duplicates, min_day=min_day, max_day=max_day, min_id=min_id,
                       edges=edges, segments=segments, n_threads=n_threads)
        h.call(lib.strata_rfm_fit, _ptr(ids, ctypes.c_int64), _ptr(times, ctypes.c_int64),
               _ptr(amounts, ctypes.c_double), len(ids))
    except BaseException:
        h.close()
        raise
    return h


def _configure_log(h, bins, ties, *, reference_day, time_unit, frequency, monetary, negative,
               zero, duplicates, min_day, max_day, min_id, edges, segments, n_threads):
    """The scoring, aggregation and cleaning parameters of :func:`rfm` on h."""
    unit = _choice("time_unit", time_unit, _ffi.RFM_TIME_UNITS)
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
    ref = _as_day("reference_day", reference_day)
    h.set(_ffi.RFM_REFERENCE_DAY, _ffi.RFM_REFERENCE_AUTO if ref is None else ref)
    for key, name, value in ((_ffi.RFM_MIN_DAY, "min_day", _as_day("min_day", min_day)),
                             (_ffi.RFM_MAX_DAY, "max_day", _as_day("max_day", max_day)),
                             (_ffi.RFM_MIN_ID, "min_id", min_id)):
        value = _int_or_none(name, value)
        if value is not None:
            h.set(key, value)


def rfm_h5(path, customer_id="customer_id", day="day", amount="amount", bins=5, ties="rank", *,
           table=None, memory=None, tmpdir=None, reference_day=None, time_unit="days",
           frequency="rows", monetary="sum", negative="drop", zero="keep", duplicates="keep",
           min_day=None, max_day=None, min_id=0, edges=None, segments=None, n_threads=None):
    """:func:`rfm` on the columns of an HDF5 file, read by libstrata
    (``strata_rfm_fit_h5``, the reader of ``strata rfm``).

    ``customer_id``, ``day`` and ``amount`` name 1-D datasets of equal
    length, or, with ``table``, fields of that compound dataset (or columns
    of the pandas frame stored under that key).

    ``memory``: a memory budget in bytes (int, or text such as "2G", "512M",
    "100K"; None or 0: no limit). A log of more than memory / 100 rows is
    aggregated out of core: read in blocks and spilled by customer id into
    temporary files under ``tmpdir`` (default: $TMPDIR, else /tmp), which are
    removed before the call returns. The result is bitwise the same as
    without a budget. About 128 bytes per customer must fit in the budget:
    :class:`strata.OutOfMemoryError` (a MemoryError) naming the minimum
    otherwise; a tmpdir that cannot be written or a full disk raise
    :class:`strata.FileError` (an OSError). Other arguments and the result as
    :func:`rfm`; file errors as ``strata rfm``.
    """
    h = _Handle()
    try:
        _configure_log(h, bins, ties, reference_day=reference_day, time_unit=time_unit,
                       frequency=frequency, monetary=monetary, negative=negative, zero=zero,
                       duplicates=duplicates, min_day=min_day, max_day=max_day, min_id=min_id,
                       edges=edges, segments=segments, n_threads=n_threads)
        budget = _params.size_bytes("memory", memory, _ffi.RFM_MEMORY)
        if budget:
            h.set(_ffi.RFM_MEMORY, budget)
        if tmpdir is not None:
            h.call(lib.strata_rfm_set_tmpdir, os.fsencode(tmpdir))
        h.call(lib.strata_rfm_fit_h5, os.fsencode(path),
               None if table is None else _name(table, "table"), _name(customer_id, "customer_id"),
               _name(day, "day"), _name(amount, "amount"))
        return RFMResult(h)
    finally:
        h.close()


def rfm_score(customer_id, recency, frequency, monetary, bins=5, ties="rank", *, edges=None,
              segments=None, n_threads=None):
    """Scores and segments of customers aggregated elsewhere (distinct ids,
    recency >= 0 days, frequency >= 1, finite monetary; ids, recency and
    frequency whole numbers, none missing: ArgumentError otherwise). Same scoring
    arguments and result as :func:`rfm`; first_day and tenure are -1.
    Profile sums that overflow double raise ArgumentError."""
    ids = _as_whole(customer_id, "customer_id")
    columns = [_as_whole(recency, "recency"), _as_whole(frequency, "frequency"),
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
