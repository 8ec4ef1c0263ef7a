"""strata.rfm with every dtype a transaction column can have in numpy and pandas.

Each column (customer id, day, amount) is given in one dtype while the other
two stay plain numpy; the result must equal pandas' groupby aggregates of the
clean numpy columns without the rows whose value is missing in that dtype
(counted as bad_id, bad_time or bad_amount), or the call must raise
strata.DTypeError (a TypeError and an ArgumentError) naming the column.
"""

import datetime
import decimal
import fractions

import numpy as np
import pytest

import strata

pd = pytest.importorskip("pandas", reason="pandas is not installed")

N = 48
_rng = np.random.default_rng(9)
IDS = _rng.integers(1, 100, N)        # fits every integer width, exact in float16
DAYS = _rng.integers(0, 100, N)       # days since 1970-01-01, fit int8
AMOUNTS = _rng.integers(1, 120, N)    # whole amounts: exact in every dtype
NO_ROWS = np.zeros(N, bool)
MISSING = NO_ROWS.copy()
MISSING[[3, 11, 30]] = True
COUNT = {"customer_id": "bad_id", "day": "bad_time", "amount": "bad_amount"}


def expected(keep, days=DAYS):
    """customer_id, recency, frequency, monetary of the kept rows, by pandas."""
    df = pd.DataFrame({"customer_id": IDS[keep], "day": days[keep], "amount": AMOUNTS[keep]})
    g = df.groupby("customer_id").agg(last=("day", "max"), frequency=("day", "size"),
                                      monetary=("amount", "sum"))
    return g.index.values, df.day.max() + 1 - g["last"].values, g.frequency.values, \
        g.monetary.values.astype(float)


def check(res, missing, column, days=DAYS):
    cid, recency, frequency, monetary = expected(~missing, days)
    np.testing.assert_array_equal(res.customer_id, cid)
    np.testing.assert_array_equal(res.recency, recency)
    np.testing.assert_array_equal(res.frequency, frequency)
    np.testing.assert_array_equal(res.monetary, monetary)
    for name, key in COUNT.items():
        assert res.report[key] == (missing.sum() if name == column else 0), key
    assert res.report["rows_used"] == N - missing.sum()


def run(column, values, **kw):
    cols = {"customer_id": IDS, "day": DAYS, "amount": AMOUNTS.astype(float)}
    cols[column] = values
    return strata.rfm(cols["customer_id"], cols["day"], cols["amount"], **kw)


def with_na(values, dtype):
    s = pd.Series(values, dtype=dtype)
    s[MISSING] = pd.NA
    return s


def numeric_variants(base):
    """(label, column, missing rows) for every numeric dtype, from whole numbers."""
    out = [(t, base.astype(t), NO_ROWS) for t in
           ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64")]
    out += [(t + " with NA", with_na(base, t), MISSING) for t in
            ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
             "Float32", "Float64")]
    out += [
        ("Int64 without NA", pd.Series(base, dtype="Int64"), NO_ROWS),
        ("float64 with NaN", np.where(MISSING, np.nan, base), MISSING),
        ("Series int64", pd.Series(base), NO_ROWS),
        ("list", [int(v) for v in base], NO_ROWS),
        ("list with None", [None if m else int(v) for v, m in zip(base, MISSING)], MISSING),
        ("category of ints", pd.Series(base).astype("category"), NO_ROWS),
        ("category with NaN", pd.Series(np.where(MISSING, np.nan, base)).astype("category"),
         MISSING),
        ("object of ints and None",
         np.array([None if m else int(v) for v, m in zip(base, MISSING)], dtype=object), MISSING),
        ("object of floats, NaN and pd.NA",
         pd.Series([(pd.NA if i % 2 else np.nan) if m else float(v)
                    for i, (v, m) in enumerate(zip(base, MISSING))], dtype=object), MISSING),
        ("object of Decimal", np.array([decimal.Decimal(int(v)) for v in base], dtype=object),
         NO_ROWS),
        ("object of Fraction", np.array([fractions.Fraction(int(v)) for v in base], dtype=object),
         NO_ROWS),
        ("sparse", pd.Series(pd.arrays.SparseArray(base)), NO_ROWS),
    ]
    return out


def refused(base):
    """Columns that are not numbers: (label, column)."""
    return [
        ("bool", base % 2 == 0),
        ("boolean", pd.Series(base % 2 == 0, dtype="boolean")),
        ("str", base.astype(str)),
        ("string", pd.Series(base.astype(str), dtype="string")),
        ("object of str", pd.Series(base.astype(str), dtype=object)),
        ("category of str", pd.Series(base.astype(str)).astype("category")),
        ("timedelta", pd.to_timedelta(pd.Series(base), unit="D")),
        ("complex", base.astype(complex)),
        ("period", pd.Series(pd.period_range("2024-01-01", periods=N, freq="D"))),
        ("interval", pd.Series(pd.interval_range(0, N))),
    ]


# ---- customer id -------------------------------------------------------------------

@pytest.mark.parametrize("label, column, missing", numeric_variants(IDS),
                         ids=[v[0] for v in numeric_variants(IDS)])
def test_customer_id_dtypes(label, column, missing):
    check(run("customer_id", column), missing, "customer_id")


def test_customer_id_non_integral_and_out_of_range_are_bad_ids():
    ids = IDS.astype(float)
    ids[3] = 2.5                          # not an id
    ids[11] = 2.0**63                     # beyond int64: bad, not clipped
    ids[30] = np.inf
    check(run("customer_id", ids), MISSING, "customer_id")
    objects = IDS.astype(object)
    objects[3], objects[11], objects[30] = 2.5, 2**63, decimal.Decimal("7.5")
    check(run("customer_id", objects), MISSING, "customer_id")


def test_big_ids_are_exact_or_bad_never_clipped():
    top = 2**63 - 1
    ids = np.array([5, 2**63, 2**64 - 1, top, 2**53 + 1, 5], dtype=np.uint64)
    days, amounts = np.arange(6), np.ones(6)
    expect_ids = [5, 2**53 + 1, top]
    for column in (ids, pd.Series(ids, dtype="UInt64"), ids.astype(object), list(map(int, ids))):
        res = strata.rfm(column, days, amounts)
        assert res.report["bad_id"] == 2
        np.testing.assert_array_equal(res.customer_id, expect_ids)
    res = strata.rfm(pd.Series([2**62 + 1, None, 2**62 + 1], dtype="Int64"), [1, 2, 3], [1.0] * 3)
    assert res.customer_id.tolist() == [2**62 + 1] and res.report["bad_id"] == 1
    assert res.frequency.tolist() == [2]


@pytest.mark.parametrize("label, column", refused(IDS) + [
    ("datetime64", pd.to_datetime(pd.Series(DAYS), unit="D")),
    ("datetime64 UTC", pd.to_datetime(pd.Series(DAYS), unit="D").dt.tz_localize("UTC")),
], ids=lambda v: v if isinstance(v, str) else "")
def test_customer_id_refused(label, column):
    with pytest.raises(strata.DTypeError, match="customer_id must hold numbers") as info:
        run("customer_id", column)
    assert isinstance(info.value, TypeError) and isinstance(info.value, strata.ArgumentError)


# ---- day ---------------------------------------------------------------------------

@pytest.mark.parametrize("label, column, missing", numeric_variants(DAYS),
                         ids=[v[0] for v in numeric_variants(DAYS)])
def test_day_numeric_dtypes(label, column, missing):
    check(run("day", column), missing, "day")


def test_day_floats_are_floored():
    check(run("day", DAYS + np.where(np.arange(N) % 2, 0.25, 0.999)), NO_ROWS, "day")
    check(run("day", np.where(MISSING, 2.0**64, DAYS)), MISSING, "day")  # beyond int64: bad
    huge = DAYS.astype(np.uint64)
    huge[MISSING] = 2**64 - 1
    check(run("day", huge), MISSING, "day")


# midday of each day, as datetimes of each numpy unit
_MIDDAY = (DAYS * 86400 + 43200).astype("datetime64[s]")


@pytest.mark.parametrize("unit", ["D", "s", "ms", "us", "ns"])
def test_day_numpy_datetimes(unit):
    column = _MIDDAY.astype(f"datetime64[{unit}]")
    check(run("day", column), NO_ROWS, "day")
    with_nat = column.copy()
    with_nat[MISSING] = np.datetime64("NaT")
    check(run("day", with_nat), MISSING, "day")


def test_day_pandas_datetimes():
    series = pd.Series(_MIDDAY.astype("datetime64[ns]"))
    check(run("day", series), NO_ROWS, "day")
    check(run("day", series.where(~MISSING)), MISSING, "day")   # NaT
    check(run("day", pd.DatetimeIndex(series)), NO_ROWS, "day")
    check(run("day", series.astype("category")), NO_ROWS, "day")
    check(run("day", series.where(~MISSING).astype("category")), MISSING, "day")
    # before 1970: floored, not truncated towards 0
    before = pd.Series(pd.to_datetime(["1969-12-31 23:00", "1970-01-01 01:00"]))
    res = strata.rfm([1, 2], before, [1.0, 1.0])
    assert res.recency.tolist() == [2, 1]  # days -1 and 0; reference day 1


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York"])
def test_day_timezone_aware_datetimes_are_utc_days(tz):
    # instants at 23:30 UTC: the local date is the next day east of UTC,
    # but the day counted is the UTC day
    late = pd.Series(pd.to_datetime(DAYS * 86400 + 84600, unit="s")).dt.tz_localize("UTC")
    check(run("day", late.dt.tz_convert(tz)), NO_ROWS, "day")
    check(run("day", late.dt.tz_convert(tz).where(~MISSING)), MISSING, "day")
    check(run("day", late.dt.tz_convert(tz).astype("category")), NO_ROWS, "day")
    # local wall-clock times at 00:30 on each day: UTC day by the zone's offset
    local = pd.Series(pd.to_datetime(DAYS * 86400 + 1800, unit="s")).dt.tz_localize(tz)
    utc_days = (local.dt.tz_convert("UTC").dt.tz_localize(None).values
                .astype("datetime64[D]").astype(np.int64))
    offsets = {"UTC": 0, "Europe/Berlin": -1, "America/New_York": 0}
    np.testing.assert_array_equal(utc_days, DAYS + offsets[tz])  # the zone as expected
    check(run("day", local), NO_ROWS, "day", days=utc_days)
    seconds = run("day", local, time_unit="seconds")
    expect_s = (local.dt.tz_convert("UTC").dt.tz_localize(None).values
                .astype("datetime64[s]").astype(np.int64))
    check(seconds, NO_ROWS, "day", days=expect_s // 86400)
    np.testing.assert_array_equal(
        seconds.recency, run("day", expect_s, time_unit="seconds").recency)


@pytest.mark.parametrize("label, column", refused(DAYS) + [
    ("object of Timestamps", pd.Series(list(pd.to_datetime(DAYS, unit="D")), dtype=object)),
    ("object of dates", np.array([datetime.date(1970, 1, 1)] * N, dtype=object)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_day_refused(label, column):
    with pytest.raises(strata.DTypeError, match="day must hold numbers") as info:
        run("day", column)
    assert isinstance(info.value, TypeError)
    if label in ("object of Timestamps", "object of dates"):
        assert "to_datetime" in str(info.value)
    if label == "timedelta":
        assert "td.dt.days" in str(info.value)


# ---- amount ------------------------------------------------------------------------

@pytest.mark.parametrize("label, column, missing", numeric_variants(AMOUNTS),
                         ids=[v[0] for v in numeric_variants(AMOUNTS)])
def test_amount_dtypes(label, column, missing):
    check(run("amount", column), missing, "amount")


@pytest.mark.parametrize("label, column", refused(AMOUNTS) + [
    ("datetime64", pd.to_datetime(pd.Series(DAYS), unit="D")),
], ids=lambda v: v if isinstance(v, str) else "")
def test_amount_refused(label, column):
    with pytest.raises(strata.DTypeError, match="amount must hold numbers") as info:
        run("amount", column)
    assert isinstance(info.value, TypeError)


# ---- rfm_score ---------------------------------------------------------------------

def test_rfm_score_needs_whole_numbers():
    good = strata.rfm_score(pd.Series([3, 1, 2], dtype="Int64"), np.array([1.0, 2.0, 3.0]),
                            pd.Series([1, 2, 3], dtype="UInt8"), pd.Series([1.5, 2.5, 3.5],
                                                                             dtype="Float64"))
    assert good.customer_id.tolist() == [1, 2, 3] and good.recency.tolist() == [2, 3, 1]
    for column, values in (("customer_id", [1, None, 3]), ("recency", [1, 2.5, 3]),
                           ("frequency", pd.Series([1, None, 3], dtype="Int64"))):
        args = {"customer_id": [1, 2, 3], "recency": [1, 2, 3], "frequency": [1, 2, 3]}
        args[column] = values
        with pytest.raises(strata.ArgumentError, match=f"{column} must hold whole numbers; row 1"):
            strata.rfm_score(args["customer_id"], args["recency"], args["frequency"],
                             [1.0, 2.0, 3.0])
    with pytest.raises(strata.DTypeError, match="frequency must hold numbers"):
        strata.rfm_score([1, 2], [1, 2], [True, False], [1.0, 2.0])
