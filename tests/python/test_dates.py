"""Dates where the binding takes a day: strata.rfm / rfm_h5 / tiers
(reference_day, min_day, max_day), strata.clv / CLV and tiers
(calibration_end, holdout_end) take a datetime.date, numpy datetime64,
pandas Timestamp or "YYYY-MM-DD" as well as a day number (days since
1970-01-01), with the same results, bitwise, as the day number pandas gives
the date. strata.clv warns, as the strata program does, when the holdout ends
after the log's last day."""
import datetime
import warnings

import numpy as np
import pytest

import strata

pd = pytest.importorskip("pandas")
h5py = pytest.importorskip("h5py")

EPOCH = pd.Timestamp("1970-01-01")


def day(text):
    return int((pd.Timestamp(text) - EPOCH).days)


def forms(text):
    """The ways a user gives the date `text`."""
    ts = pd.Timestamp(text)
    return [text, datetime.date.fromisoformat(text), np.datetime64(text),
            np.datetime64(text + "T13:45:00", "s"), ts, ts + pd.Timedelta(hours=23),
            ts.to_pydatetime(), (ts + pd.Timedelta(hours=2)).tz_localize("Europe/Paris"),
            np.datetime64(text, "D").astype("datetime64[ns]")]


@pytest.fixture(scope="module")
def log():
    rng = np.random.default_rng(7)
    n = 3000
    days = rng.integers(day("1999-01-01"), day("2001-06-30") + 1, n)
    return pd.DataFrame({"c": rng.integers(0, 150, n), "day": days,
                         "amount": np.round(rng.gamma(2, 30, n), 2)})


def assert_same(a, b):
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        x, y = a[name].to_numpy(), b[name].to_numpy()
        if x.dtype.kind == "O":
            assert x.tolist() == y.tolist(), name
        else:
            assert x.tobytes() == y.tobytes(), name


def test_day_of_each_form_is_pandas_day():
    from strata.rfm import _as_day  # the one conversion of the day arguments
    for text in ("1970-01-01", "1969-12-31", "1900-02-28", "1900-03-01", "2000-02-29",
                 "2024-02-29", "1997-09-30", "0001-01-01", "9999-12-31"):
        want = int((datetime.date.fromisoformat(text) - datetime.date(1970, 1, 1)).days)
        if "1678" < text < "2262":  # pandas' Timestamp range
            assert want == day(text)
            values = forms(text)
        else:
            values = [text, datetime.date.fromisoformat(text), np.datetime64(text)]
        for value in values:
            assert _as_day("d", value) == want, (text, value)
    assert _as_day("d", 10134) == _as_day("d", np.int32(10134)) == 10134
    assert _as_day("d", None) is None


@pytest.mark.parametrize("bad", ["1997-02-30", "1997-9-3", "1997-09-30x", "0000-01-01",
                                 "10134", "1997-09", "", 3.5, True, np.datetime64("NaT"),
                                 pd.NaT, [10134]])
def test_bad_days_are_refused(log, bad):
    with pytest.raises(strata.ArgumentError, match="reference_day"):
        strata.rfm(log.c, log.day, log.amount, reference_day=bad)


def test_rfm_dates_as_day_numbers(log, tmp_path):
    ref, lo, hi = "2001-07-01", "1999-03-01", "2001-06-15"
    want = strata.rfm(log.c, log.day, log.amount, reference_day=day(ref), min_day=day(lo),
                      max_day=day(hi)).frame
    # recency to the date's day, as pandas counts it
    kept = log[(log.day >= day(lo)) & (log.day <= day(hi))]
    last = kept.groupby("c").day.max()
    np.testing.assert_array_equal(want.recency.loc[last.index],
                                  day(ref) - last.to_numpy())
    for r, a, b in zip(forms(ref), forms(lo), forms(hi)):
        got = strata.rfm(log.c, log.day, log.amount, reference_day=r, min_day=a, max_day=b)
        assert_same(got.frame.reset_index(), want.reset_index())
    path = tmp_path / "tx.h5"
    with h5py.File(path, "w") as f:
        f["c"], f["day"], f["amount"] = log.c.to_numpy(), log.day.to_numpy(), log.amount.to_numpy()
    got = strata.rfm_h5(path, "/c", "/day", "/amount", reference_day=ref, min_day=lo, max_day=hi)
    assert_same(got.frame.reset_index(), want.reset_index())
    assert got.report["reference_day"] == day(ref)


def test_rfm_seconds_date_is_that_day(log):
    secs = log.day.to_numpy() * 86400 + 3600 * 7
    want = strata.rfm(log.c, log.day, log.amount, reference_day=day("2001-07-01")).frame
    got = strata.rfm(log.c, secs, log.amount, time_unit="seconds",
                     reference_day=pd.Timestamp("2001-07-01")).frame
    assert_same(got, want)


def test_tiers_dates_as_day_numbers(log):
    kw = dict(k=3, random_state=1, clv=True, n_init=1)
    want = strata.tiers(log.c, log.day, log.amount, reference_day=day("2001-07-01"),
                        calibration_end=day("2000-12-31"), **kw)
    got = strata.tiers(log.c, log.day, log.amount, reference_day=datetime.date(2001, 7, 1),
                       calibration_end="2000-12-31", **kw)
    assert got.clv.params_["calibration_end"] == want.clv.params_["calibration_end"] == 11322
    assert got.rfm.report["reference_day"] == want.rfm.report["reference_day"] == 11504
    assert_same(got.customers.reset_index(), want.customers.reset_index())


def test_clv_dates_as_day_numbers(log):
    want = strata.clv(log, customer="c", time="day", calibration_end=day("2000-06-30"),
                      holdout_end=day("2001-06-30"))
    for cal, hold in zip(forms("2000-06-30"), forms("2001-06-30")):
        got = strata.clv(log, customer="c", time="day", calibration_end=cal, holdout_end=hold)
        assert_same(got.reset_index(), want.reset_index())


def test_clv_warns_when_the_holdout_ends_after_the_log(log):
    last = int(log.day.max())
    assert last == day("2001-06-30")
    with pytest.warns(UserWarning) as caught:
        df = strata.clv(log, customer="c", time="day", calibration_end="2000-06-30",
                        holdout_end="2001-09-30")
    (w,) = caught
    assert w.filename == __file__  # the caller's line
    text = str(w.message)
    assert f"holdout_end {day('2001-09-30')} (2001-09-30) is after the log's last day " \
           f"{last} (2001-06-30): the {day('2001-09-30') - last} day(s) between count as " \
           f"days without purchases" in text, text
    assert f"holdout_end={last} ends it with the log" in text
    assert df.attrs["params"]["last_day"] == last
    assert df.attrs["params"]["holdout_days"] == day("2001-09-30") - day("2000-06-30")
    # the results are those of that holdout (the warning changes nothing)
    model = strata.CLV("2000-06-30", holdout_end=day("2001-09-30"))
    with pytest.warns(UserWarning, match="after the log's last day"):
        model.fit(log.c, log.day, log.amount)
    assert_same(model.summary_.reset_index(), df.reset_index())
    # a holdout end not after the calibration end: no holdout period, likely a
    # slip (strata clv warns so; the binding did not)
    for hold in ("2000-01-01", "2000-06-30"):
        with pytest.warns(UserWarning, match="is not after calibration_end .*no holdout period"):
            strata.clv(log, customer="c", time="day", calibration_end="2000-06-30",
                       holdout_end=hold)
    # no warning: ending with the log, before it, the default, a summary fit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for hold in (last, last - 30, None):
            strata.clv(log, customer="c", time="day", calibration_end="2000-06-30",
                       holdout_end=hold)
        m = strata.CLV(holdout_end=last + 100).fit_summary([1, 2, 3], [2, 0, 5],
                                                           [10.0, 0, 20], [30.0, 30, 30],
                                                           [5.0, 0, 7])
        assert np.isnan(m.params_["last_day"])
