"""Customer lifetime value from a transaction log: ``strata.clv`` and
``strata.CLV``, computed by libstrata's ``strata_clv`` (BG/NBD for the
number of future purchases and P(alive), Gamma-Gamma for the spend per
purchase, CLV as lifetimes' ``customer_lifetime_value``).

Example::

    import strata
    df = strata.clv("tx.h5", customer="/tx/customer_id", time="/tx/day",
                    amount="/tx/amount", calibration_end="1997-09-30")
    df[["p_alive", "expected_purchases", "clv"]]      # one row per customer
    df.attrs["params"]["bgnbd_r"], df.attrs["tracking"]

See docs/clv.md of the libstrata sources for the models, the formulas and the
holdout check.
"""

import ctypes
import os
import warnings

import numpy as np

from . import _ffi, _params
from ._arrays import frame_column
from ._base import ParamsMixin
from ._handle import _c_strings
from ._lib import lib
from .errors import ArgumentError, NotFittedError, error_for
from .kmeans import _stacklevel
from .rfm import _as_amounts, _as_day as _day, _as_ids, _as_times, _choice, _day_text

_COLUMNS = ["first_day", "x", "t_x", "T", "zbar", "p_alive", "expected_purchases",
            "expected_spend", "clv", "holdout_actual", "holdout_predicted"]


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


def _ptr(array, ctype):
    return array.ctypes.data_as(ctypes.POINTER(ctype))


class _Handle:
    """A ``strata_clv`` handle (freed by close() or garbage collection)."""

    def __init__(self):
        self.ptr = _ffi.CLVPtr()
        status = lib.strata_clv_create(ctypes.byref(self.ptr))
        if status != _ffi.OK:
            raise error_for(status, _text(lib.strata_last_error()))

    def close(self):
        if self.ptr:
            lib.strata_clv_free(self.ptr)
            self.ptr = _ffi.CLVPtr()

    def __del__(self):
        if getattr(self, "ptr", None) is not None:  # a half-built copy has none
            self.close()

    def __reduce_ex__(self, protocol):
        # ctypes would refuse with a ValueError, after copy made a half-built object
        raise TypeError("a strata_clv handle cannot be pickled or copied")

    def call(self, func, *args):
        status = func(self.ptr, *_c_strings(args))
        if status != _ffi.OK:
            message = _text(lib.strata_last_error()) or _text(lib.strata_clv_last_error(self.ptr))
            raise error_for(status, message or _text(lib.strata_status_str(status)))

    def set_int(self, key, value):
        self.call(lib.strata_clv_set_int, key, int(value))

    def set_double(self, key, value):
        self.call(lib.strata_clv_set_double, key, float(value))

    def result(self, key):
        out = ctypes.c_double()
        self.call(lib.strata_clv_result_double, key, ctypes.byref(out))
        return out.value


class CLV(ParamsMixin):
    """BG/NBD + Gamma-Gamma customer lifetime value (libstrata's ``strata_clv``).

    Args:
        calibration_end: the last day of the calibration period (rows on days
            <= it are fitted; later ones are the holdout): a day number (days
            since 1970-01-01, as ``strata rfm`` takes times) or a date.
            Required by the fits from a log.
        period: "weeks" (default, as the papers: x, t_x, T and the rates in
            weeks = days / 7) or "days".
        holdout_end: the last day of the holdout (a day or a date); None: the
            last day of the log. One after the log's last day (``params_
            ["last_day"]``) warns (UserWarning), as ``strata clv`` does: the
            days between count as days without purchases; so does one not
            after calibration_end (no holdout period).
        horizon: periods ahead of ``expected_purchases``; None: 52 weeks
            (52, or 364 days).
        clv_months: CLV horizon in months (default 12).
        discount_rate: monthly discount rate of the CLV (default 0.01).
        time_unit: "days" (default) or "seconds" (Unix seconds in the log).
        starts: optimiser starting points (default 8).
        n_threads: threads (0: the library default); results do not depend on it.

    After a fit: ``params_`` (dict: the fitted parameters, log-likelihoods,
    the frequency/spend correlation, counts, the holdout totals),
    ``summary_`` (pandas DataFrame indexed by customer_id, the columns of
    :func:`clv`), ``tracking_`` (DataFrame per period: start_day, actual,
    expected, cumulative_actual, cumulative_expected; None after
    :meth:`fit_summary`). :meth:`save` writes the ``strata clv`` output file.
    """

    def __init__(self, calibration_end=None, *, period="weeks", holdout_end=None, horizon=None,
                 clv_months=12, discount_rate=0.01, time_unit="days", starts=8, n_threads=0):
        self.calibration_end = calibration_end
        self.period = period
        self.holdout_end = holdout_end
        self.horizon = horizon
        self.clv_months = clv_months
        self.discount_rate = discount_rate
        self.time_unit = time_unit
        self.starts = starts
        self.n_threads = n_threads

    def __getstate__(self):
        """Parameters only: a fitted CLV holds a library handle (for save),
        which cannot be copied."""
        if getattr(self, "_h", None) is not None:
            raise TypeError("a fitted strata.CLV cannot be pickled or copied (it holds a "
                            "library handle); save() it to HDF5, or keep params_, summary_ "
                            "and tracking_")
        return dict(self.__dict__)

    # --- configuration -------------------------------------------------

    def _handle(self, need_end=True):
        h = _Handle()
        try:
            end = _day("calibration_end", self.calibration_end)
            if end is None and need_end:
                raise ArgumentError("calibration_end is required (the last day of the "
                                    "calibration period)", -102)
            if end is not None:
                h.set_int(_ffi.CLV_CALIBRATION_END,
                          _params.check_int("calibration_end", end, _ffi.CLV_CALIBRATION_END))
            h.set_int(_ffi.CLV_PERIOD, _choice("period", self.period, _ffi.CLV_PERIODS))
            h.set_int(_ffi.CLV_TIME_UNIT, _choice("time_unit", self.time_unit,
                                                  _ffi.RFM_TIME_UNITS))
            hold = _day("holdout_end", self.holdout_end)
            if hold is not None:
                h.set_int(_ffi.CLV_HOLDOUT_END,
                          _params.check_int("holdout_end", hold, _ffi.CLV_HOLDOUT_END))
            if self.horizon is not None:
                h.set_double(_ffi.CLV_HORIZON,
                             _params.check_real("horizon", self.horizon, _ffi.CLV_HORIZON))
            h.set_int(_ffi.CLV_CLV_MONTHS,
                      _params.check_int("clv_months", self.clv_months, _ffi.CLV_CLV_MONTHS))
            h.set_double(_ffi.CLV_DISCOUNT_RATE,
                         _params.check_real("discount_rate", self.discount_rate,
                                            _ffi.CLV_DISCOUNT_RATE))
            h.set_int(_ffi.CLV_STARTS, _params.check_int("starts", self.starts, _ffi.CLV_STARTS))
            h.set_int(_ffi.CLV_THREADS,
                      _params.check_int("n_threads", self.n_threads, _ffi.CLV_THREADS))
        except BaseException:
            h.close()
            raise
        return h

    # --- fits ------------------------------------------------------------

    def fit(self, customer_id, time, amount):
        """Fit on a transaction log in memory: three columns (lists, numpy
        arrays, pandas Series) of customer ids, days (or Unix seconds with
        ``time_unit="seconds"``; datetimes are converted, as :func:`strata.rfm`
        does) and amounts. Rows are cleaned as strata.rfm's defaults do."""
        unit = _choice("time_unit", self.time_unit, _ffi.RFM_TIME_UNITS)
        ids = _as_ids(customer_id)
        times = _as_times(time, "seconds" if unit else "days", "time")
        amounts = _as_amounts(amount)
        if not len(ids) == len(times) == len(amounts):
            raise ArgumentError(f"customer_id, time and amount must have the same length, got "
                                f"{len(ids)}, {len(times)} and {len(amounts)}")
        h = self._handle()
        try:
            h.call(lib.strata_clv_fit, _ptr(ids, ctypes.c_int64), _ptr(times, ctypes.c_int64),
                   _ptr(amounts, ctypes.c_double), len(ids))
        except BaseException:
            h.close()
            raise
        self._take(h)
        self._warn_past_the_log()
        return self

    def fit_h5(self, path, customer="customer_id", time="day", amount="amount", table=None):
        """Fit on a transaction log in an HDF5 file (the layouts ``strata rfm``
        reads: 1-D datasets, or fields of the compound dataset ``table``)."""
        h = self._handle()
        try:
            h.call(lib.strata_clv_fit_h5, os.fsencode(path),
                   None if table is None else str(table).encode(), str(customer).encode(),
                   str(time).encode(), str(amount).encode())
        except BaseException:
            h.close()
            raise
        self._take(h)
        self._warn_past_the_log()
        return self

    def fit_summary(self, customer_id, x, t_x, T, zbar):
        """Fit on a ready calibration summary (e.g. the published CDNOW one):
        x, t_x, T in periods, zbar the mean spend per repeat purchase (0 for
        x = 0). No holdout and no tracking curve then."""
        ids = _as_ids(customer_id)
        cols = [np.ascontiguousarray(_as_amounts(v, name), np.float64)
                for v, name in ((x, "x"), (t_x, "t_x"), (T, "T"), (zbar, "zbar"))]
        if any(len(c) != len(ids) for c in cols):
            raise ArgumentError("customer_id, x, t_x, T and zbar must have the same length, got "
                                f"{[len(ids)] + [len(c) for c in cols]}")
        h = self._handle(need_end=False)
        try:
            h.call(lib.strata_clv_fit_summary, _ptr(ids, ctypes.c_int64),
                   *(_ptr(c, ctypes.c_double) for c in cols), len(ids))
        except BaseException:
            h.close()
            raise
        return self._take(h)

    def _take(self, h):
        """Read the fitted handle into the attributes (the handle is kept for save)."""
        old = getattr(self, "_h", None)
        if old is not None:
            old.close()
        self._h = h
        params = {name: h.result(key) for name, key in _ffi.CLV_RESULTS.items()}
        for name in _ffi.CLV_INT_RESULTS:
            if np.isfinite(params[name]):
                params[name] = int(params[name])
        params["bgnbd_converged"] = bool(params["bgnbd_converged"])
        params["gg_converged"] = bool(params["gg_converged"])
        params["period"] = self.period
        self.params_ = params
        n = params["customers"]
        data = {}
        for name, key in _ffi.CLV_COLUMNS.items():
            if name in ("customer_id", "first_day"):
                out = np.empty(n, np.int64)
                h.call(lib.strata_clv_column_int64, key, _ptr(out, ctypes.c_int64), n)
            else:
                out = np.empty(n, np.float64)
                h.call(lib.strata_clv_column_double, key, _ptr(out, ctypes.c_double), n)
            data[name] = out
        self.columns_ = data
        m = params.pop("tracking_periods")
        self.tracking_arrays_ = None
        if m > 0:
            actual, expected = np.empty(m), np.empty(m)
            h.call(lib.strata_clv_tracking, _ptr(actual, ctypes.c_double),
                   _ptr(expected, ctypes.c_double), m)
            self.tracking_arrays_ = (actual, expected)
        return self

    def _warn_past_the_log(self):
        """A holdout_end after the log's last day (params_["last_day"]): the
        days between count as days without purchases, biasing the holdout
        comparison; a UserWarning says so (strata clv's warning)."""
        hold, end = _day("holdout_end", self.holdout_end), _day("calibration_end",
                                                                 self.calibration_end)
        if hold is not None and end is not None and hold <= end:  # valid, likely a slip
            warnings.warn(f"holdout_end {_day_text(hold)} is not after calibration_end "
                          f"{_day_text(end)}: there is no holdout period (it is the days "
                          f"after the calibration end)", UserWarning, stacklevel=_stacklevel())
            return
        last = self.params_["last_day"]
        if hold is None or not isinstance(last, int) or last >= hold:
            return
        warnings.warn(f"holdout_end {_day_text(hold)} is after the log's last day "
                      f"{_day_text(last)}: the {hold - last} day(s) between count as days "
                      f"without purchases (predicted purchases cover them, actual ones "
                      f"cannot), which biases the holdout comparison; holdout_end={last} "
                      f"ends it with the log", UserWarning, stacklevel=_stacklevel())

    # --- results -----------------------------------------------------------

    def _check(self):
        if getattr(self, "_h", None) is None:
            raise NotFittedError("This CLV instance is not fitted yet. Call 'fit', 'fit_h5' or "
                                 "'fit_summary' first.", -400)

    @property
    def summary_(self):
        self._check()
        import pandas as pd
        c = self.columns_
        return pd.DataFrame({name: c[name] for name in _COLUMNS},
                            index=pd.Index(c["customer_id"], name="customer_id"))

    @property
    def tracking_(self):
        self._check()
        if self.tracking_arrays_ is None:
            return None
        import pandas as pd
        actual, expected = self.tracking_arrays_
        length = 7 if self.period == "weeks" else 1
        start = int(self.columns_["first_day"].min()) if len(self.columns_["first_day"]) else 0
        return pd.DataFrame({"start_day": start + length * np.arange(len(actual)),
                             "actual": actual, "expected": expected,
                             "cumulative_actual": np.cumsum(actual),
                             "cumulative_expected": np.cumsum(expected)},
                            index=pd.RangeIndex(len(actual), name="period"))

    def save(self, path, *, source=None, force=False):
        """Write the result as ``strata clv`` does (a new HDF5 file; an existing
        one is replaced only with force=True: strata.OutputExistsError otherwise)."""
        self._check()
        self._h.call(lib.strata_clv_write_h5, os.fsencode(path),
                     None if source is None else str(source).encode(),
                     _ffi.WRITE_FORCE if force else 0)

    def close(self):
        """Free the library handle (the read results stay; save() then fails)."""
        h = getattr(self, "_h", None)
        if h is not None:
            h.close()


def clv(path_or_frame=None, *, customer="customer_id", time="day", amount="amount",
        calibration_end, table=None, period="weeks", holdout_end=None, horizon=None,
        clv_months=12, discount_rate=0.01, time_unit="days", threads=0):
    """CLV of every customer of a transaction log, as a pandas DataFrame.

    ``path_or_frame``: an HDF5 file (``customer``, ``time`` and ``amount``
    name its datasets, or fields of ``table``), a pandas DataFrame
    (``customer``, ``time``, ``amount`` name its columns), or None with the
    three columns themselves passed as ``customer``, ``time``, ``amount``
    (arrays, Series, lists). The other arguments are those of :class:`CLV`
    (``threads`` its ``n_threads``).

    Returns a DataFrame indexed by customer_id (ascending) with columns
    first_day, x, t_x, T, zbar, p_alive, expected_purchases, expected_spend,
    clv, holdout_actual, holdout_predicted; ``df.attrs["params"]`` holds the
    fitted parameters and checks (``CLV.params_``), ``df.attrs["tracking"]``
    the tracking curve (``CLV.tracking_``).
    """
    model = CLV(calibration_end, period=period, holdout_end=holdout_end, horizon=horizon,
                clv_months=clv_months, discount_rate=discount_rate, time_unit=time_unit,
                n_threads=threads)
    try:
        if isinstance(path_or_frame, (str, bytes, os.PathLike)):
            model.fit_h5(path_or_frame, customer, time, amount, table=table)
        elif path_or_frame is None:
            model.fit(customer, time, amount)
        elif hasattr(path_or_frame, "columns"):
            if table is not None:
                raise ArgumentError("table names a compound dataset of an HDF5 file; it does "
                                    "not apply to a DataFrame")
            model.fit(*(frame_column(path_or_frame, c) for c in (customer, time, amount)))
        else:
            raise ArgumentError("path_or_frame must be an HDF5 path, a pandas DataFrame or "
                                f"None, got {type(path_or_frame).__name__}")
        df = model.summary_
        df.attrs["params"] = dict(model.params_)
        df.attrs["tracking"] = model.tracking_
        return df
    finally:
        model.close()
