"""strata.clv / strata.CLV (issue 16) against the numpy/scipy reference
(clv_reference.py, itself checked against the published values by
test_clv_reference.py).

The library's optimiser and scipy's stop at slightly different points of the
same flat optimum, so the fitted parameters are compared loosely (1e-4
relative, log-likelihoods 1e-6), and every per-customer value is compared
tightly (1e-6 relative) with the reference's formulas evaluated at the
LIBRARY's parameters: that checks the formulas, not the optimisers' stopping
rules.
"""

from pathlib import Path

import numpy as np
import pytest

import clv_reference as R

pd = pytest.importorskip("pandas")
h5py = pytest.importorskip("h5py")
strata = pytest.importorskip("strata")

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cdnow"
SUMMARY = DATA / "cdnow_customers_summary_with_transactions.csv"
SAMPLE = DATA / "CDNOW_sample.txt"
CAL, HOLD = R.CDNOW_CALIBRATION_END, R.CDNOW_HOLDOUT_END
COLS = dict(customer="/tx/customer_id", time="/tx/day", amount="/tx/amount")


def _need(path):
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data folder ../shared/data is not here)")


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    _need(SAMPLE)
    path = tmp_path_factory.mktemp("clv") / "cdnow.h5"
    ids, days, dollars = R.write_cdnow_h5(path, SAMPLE)
    return path, ids, days, dollars


@pytest.fixture(scope="module")
def cdnow_fit(cdnow):
    path = cdnow[0]
    return strata.clv(str(path), **COLS, calibration_end=CAL, holdout_end=HOLD)


def _bg(p):
    return (p["bgnbd_r"], p["bgnbd_alpha"], p["bgnbd_a"], p["bgnbd_b"])


def _gg(p):
    return (p["gg_p"], p["gg_q"], p["gg_gamma"])


def _close(got, want, rtol=1e-6, atol=1e-12):
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=rtol,
                               atol=atol)


def _check_scores(df, s, period="weeks", horizon=None, months=12, discount=0.01):
    """Every per-customer column of df against the reference at df's parameters."""
    p = df.attrs["params"]
    ref = R.score(s, period=period, horizon=horizon, months=months, discount_rate=discount,
                  bg=_bg(p), gg=_gg(p))
    for name in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        _close(df[name], ref[name], atol=1e-10)
    if "holdout_predicted" in ref:
        _close(df["holdout_predicted"], ref["holdout_predicted"], atol=1e-10)
    _close(p["bgnbd_loglik"], ref["bgnbd_loglik"], rtol=1e-10)
    _close(p["gg_loglik"], ref["gg_loglik"], rtol=1e-10)
    _close(p["freq_spend_corr"], ref["freq_spend_corr"], rtol=1e-10)
    return ref


# --- the published summary ---------------------------------------------------


def test_published_summary_gives_the_published_estimates():
    _need(SUMMARY)
    d = np.genfromtxt(SUMMARY, delimiter=",", names=True)
    model = strata.CLV().fit_summary(d["ID"].astype(np.int64), d["x"], d["t_x"], d["T"],
                                     d["zbar"])
    p = model.params_
    np.testing.assert_array_equal(np.round(_bg(p), 3), [0.243, 4.414, 0.793, 2.426])
    assert round(p["bgnbd_loglik"], 1) == -9582.4
    np.testing.assert_allclose(_gg(p), [6.25, 3.74, 15.44], atol=0.01)  # see test_clv_reference
    assert p["bgnbd_converged"] and p["customers"] == 2357 and p["repeat_customers"] == 946
    # the same optimum as scipy's
    bg, ll = R.bgnbd_fit(d["x"], d["t_x"], d["T"])
    _close(_bg(p), bg, rtol=1e-4)
    _close(p["bgnbd_loglik"], ll, rtol=1e-9)
    assert p["bgnbd_loglik"] >= ll - 1e-6
    df = model.summary_
    s = {k: d[k] for k in ("x", "t_x", "T", "zbar")}
    df.attrs["params"] = p
    _check_scores(df, s)
    assert model.tracking_ is None


# --- the CDNOW log -------------------------------------------------------------


def test_cdnow_log_summary_is_the_reference_summary(cdnow, cdnow_fit):
    _, ids, days, dollars = cdnow
    s = R.summary(ids, days, dollars, CAL, holdout_end=HOLD)
    df = cdnow_fit
    np.testing.assert_array_equal(df.index.to_numpy(), s["customer_id"])
    np.testing.assert_array_equal(df["first_day"], s["first_day"])
    for name in ("x", "t_x", "T", "holdout_actual"):
        np.testing.assert_array_equal(df[name], s[name])
    _close(df["zbar"], s["zbar"], rtol=1e-13)
    p = df.attrs["params"]
    assert (p["customers"], p["repeat_customers"], p["excluded"]) == (2357, 946, 0)
    assert p["calibration_end"] == CAL and p["holdout_days"] == HOLD - CAL == 273
    assert p["holdout_actual"] == s["holdout_actual"].sum() == 1882


def test_cdnow_log_fit_and_scores(cdnow, cdnow_fit):
    _, ids, days, dollars = cdnow
    s = R.summary(ids, days, dollars, CAL, holdout_end=HOLD)
    df = cdnow_fit
    p = df.attrs["params"]
    # the raw log's (unrounded) summary still gives the published digits
    np.testing.assert_array_equal(np.round(_bg(p), 3), [0.243, 4.414, 0.793, 2.426])
    np.testing.assert_allclose(_gg(p), [6.25, 3.74, 15.44], atol=0.01)
    bg, ll = R.bgnbd_fit(s["x"], s["t_x"], s["T"])
    _close(_bg(p), bg, rtol=1e-4)
    _close(p["bgnbd_loglik"], ll, rtol=1e-9)
    gg, gll = R.gg_fit(s["x"], s["zbar"])
    _close(_gg(p), gg, rtol=1e-4)
    _close(p["gg_loglik"], gll, rtol=1e-9)
    ref = _check_scores(df, s)
    _close(p["holdout_predicted"], ref["holdout_predicted"].sum())
    # Gamma-Gamma's assumption holds on CDNOW: spend per purchase barely depends on x
    assert abs(p["freq_spend_corr"]) < 0.2
    # P(alive) is 1 exactly for x = 0 and below 1 otherwise
    assert (df.loc[df.x == 0, "p_alive"] == 1).all() and (df.loc[df.x > 0, "p_alive"] < 1).all()


def test_cdnow_tracking_curve(cdnow, cdnow_fit):
    _, ids, days, dollars = cdnow
    s = R.summary(ids, days, dollars, CAL, holdout_end=HOLD)
    tr = cdnow_fit.attrs["tracking"]
    p = cdnow_fit.attrs["params"]
    actual, expected = R.tracking(_bg(p), s["first_day"], s["repeat_days"],
                                  int(s["first_day"].min()), HOLD)
    assert len(tr) == 78
    np.testing.assert_array_equal(tr["actual"], actual)
    _close(tr["expected"], expected, atol=1e-9)
    _close(tr["cumulative_expected"], np.cumsum(expected), atol=1e-8)
    np.testing.assert_array_equal(tr["cumulative_actual"], np.cumsum(actual))
    assert tr["start_day"].iloc[0] == R.day_number("1997-01-01")
    assert tr["cumulative_actual"].iloc[38] == 2457  # week 39 ends on the calibration end


def test_fit_with_a_plus_b_below_one(cdnow):
    """Calibrated to 1997-02-15, the CDNOW sample fits a + b < 1, which makes
    BG/NBD's 2F1(.; a + b + x - 1; .) take a negative c for every x = 0
    customer: their expected purchases, CLV, holdout prediction and the
    whole tracking curve came out NaN, with exit status 0. Reference: the
    scipy formulas (clv_reference) at the library's parameters."""
    path, ids, days, dollars = cdnow
    cal = R.day_number("1997-02-15")
    df = strata.clv(str(path), **COLS, calibration_end=cal, holdout_end=HOLD)
    p = df.attrs["params"]
    assert p["bgnbd_a"] + p["bgnbd_b"] < 1  # the case of the defect
    s = R.summary(ids, days, dollars, cal, holdout_end=HOLD)
    for name in ("expected_purchases", "clv", "holdout_predicted"):
        assert np.isfinite(df[name]).all(), name
    ref = _check_scores(df, s)
    _close(p["holdout_predicted"], ref["holdout_predicted"].sum())
    tr = df.attrs["tracking"]
    _, expected = R.tracking(_bg(p), s["first_day"], s["repeat_days"],
                             int(s["first_day"].min()), HOLD)
    assert np.isfinite(tr["expected"]).all()
    _close(tr["expected"], expected, atol=1e-9)


def test_in_memory_log_and_frame_give_the_file_result(cdnow, cdnow_fit):
    _, ids, days, dollars = cdnow
    mem = strata.clv(customer=ids, time=days, amount=dollars, calibration_end=CAL,
                     holdout_end=HOLD)
    pd.testing.assert_frame_equal(mem, cdnow_fit, check_exact=True)
    frame = pd.DataFrame({"cust": ids, "when": days.astype("datetime64[D]"), "usd": dollars})
    by_frame = strata.clv(frame, customer="cust", time="when", amount="usd",
                          calibration_end="1997-09-30", holdout_end=np.datetime64("1998-06-30"))
    pd.testing.assert_frame_equal(by_frame, cdnow_fit, check_exact=True)
    assert by_frame.attrs["params"] == cdnow_fit.attrs["params"]


def test_threads_and_row_order_do_not_change_the_result(cdnow, cdnow_fit):
    _, ids, days, dollars = cdnow
    order = np.random.default_rng(3).permutation(len(ids))
    for threads in (1, 2):
        df = strata.clv(customer=ids[order], time=days[order], amount=dollars[order],
                        calibration_end=CAL, holdout_end=HOLD, threads=threads)
        pd.testing.assert_frame_equal(df, cdnow_fit, check_exact=True)


def test_days_period_and_other_options(cdnow):
    path, ids, days, dollars = cdnow
    df = strata.clv(str(path), **COLS, calibration_end=CAL, holdout_end=HOLD, period="days",
                    horizon=100, clv_months=6, discount_rate=0.05)
    s = R.summary(ids, days, dollars, CAL, period="days", holdout_end=HOLD)
    np.testing.assert_array_equal(df["T"], s["T"])
    _check_scores(df, s, period="days", horizon=100, months=6, discount=0.05)
    p = df.attrs["params"]
    # the model is invariant to the time unit: alpha scales by 7, the rest stays
    bg, _ = R.bgnbd_fit(s["x"], s["t_x"], s["T"])
    _close(_bg(p), bg, rtol=1e-4)
    assert abs(p["bgnbd_alpha"] / 7 - 4.414) < 2e-3 and abs(p["bgnbd_r"] - 0.243) < 1e-3
    assert len(df.attrs["tracking"]) == HOLD - R.day_number("1997-01-01") + 1


def test_no_holdout_when_the_log_ends_at_the_calibration_end(cdnow):
    _, ids, days, dollars = cdnow
    keep = days <= CAL
    df = strata.clv(customer=ids[keep], time=days[keep], amount=dollars[keep],
                    calibration_end=CAL)
    assert (df["holdout_actual"] == 0).all() and (df["holdout_predicted"] == 0).all()
    assert df.attrs["params"]["holdout_days"] == 0


def test_calibration_end_past_the_log(cdnow):
    """Days after the last purchase are observed days without purchases: the
    tracking curve runs to the calibration end and matches the reference
    (its cost grew with the square of the days: 400,000 took 11 s); a
    century past the log is refused (a date typed as 19970930)."""
    _, ids, days, dollars = cdnow
    keep = days <= CAL
    ids, days, dollars = ids[keep], days[keep], dollars[keep]
    start = int(days.min())
    end = start + ((CAL + 3000 - start) // 7 + 1) * 7 - 1  # a whole last week, as the reference
    model = strata.CLV(calibration_end=end).fit(ids, days, dollars)
    s = R.summary(ids, days, dollars, end)
    tr = model.tracking_
    actual, expected = R.tracking(_bg(model.params_), s["first_day"], s["repeat_days"],
                                  int(s["first_day"].min()), end)
    np.testing.assert_array_equal(tr["actual"], actual)
    _close(tr["expected"], expected, atol=1e-9)
    assert model.params_["holdout_days"] == 0

    last = int(days.max())
    strata.CLV(calibration_end=last + 36525).fit(ids, days, dollars)
    with pytest.raises(strata.ArgumentError, match="36526 days after the log's last kept"):
        strata.CLV(calibration_end=last + 36526).fit(ids, days, dollars)
    with pytest.raises(strata.ArgumentError, match="holdout end"):
        strata.CLV(calibration_end=CAL, holdout_end=19970930).fit(ids, days, dollars)
    for text in ("19970930", "10300", "1997-09"):  # numpy reads the years 19970930 and 10300
        with pytest.raises(strata.ArgumentError, match="ISO date"):
            strata.CLV(calibration_end=text).fit(ids, days, dollars)


def test_customers_first_seen_after_the_calibration_end_are_excluded():
    ids = np.array([1, 1, 2, 2, 3, 3, 4])
    days = np.array([0, 10, 0, 3, 50, 60, 70])
    amounts = np.array([5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    model = strata.CLV(calibration_end=20, period="days").fit(ids, days, amounts)
    assert model.params_["excluded"] == 2 and model.params_["customers"] == 2
    np.testing.assert_array_equal(model.summary_.index, [1, 2])


# --- a log drawn from the model ------------------------------------------------


def test_synthetic_log_recovers_the_generating_parameters(tmp_path):
    rng = np.random.default_rng(16)
    truth, spend = (0.6, 4.0, 0.7, 2.5), (6.0, 4.0, 15.0)
    n, cal, hold = 3000, 26 * 7, 52 * 7
    first = rng.integers(0, 12 * 7, n)           # first purchases over 12 weeks
    times = R.bgnbd_simulate(n, truth, (hold - first) / 7.0, rng)
    nu = rng.gamma(spend[1], 1 / spend[2], n)     # Gamma-Gamma: per-customer scale
    ids, days, amounts = [], [], []
    for i in range(n):
        d = np.concatenate([[first[i]], first[i] + np.floor(times[i] * 7).astype(np.int64)])
        ids.append(np.full(len(d), i + 1))
        days.append(d)
        amounts.append(rng.gamma(spend[0], 1 / nu[i], len(d)))
    ids, days, amounts = (np.concatenate(v) for v in (ids, days, amounts))
    R.write_log_h5(tmp_path / "syn.h5", ids, days, amounts)
    df = strata.clv(str(tmp_path / "syn.h5"), **COLS, calibration_end=cal)
    p = df.attrs["params"]
    assert p["holdout_days"] == days.max() - cal  # default holdout end: the log's last day
    s = R.summary(ids, days, amounts, cal, holdout_end=days.max())
    se = R.bgnbd_std_errors(_bg(p), s["x"], s["t_x"], s["T"])
    assert np.all(np.abs(np.array(_bg(p)) - truth) < 4 * se), (_bg(p), se)
    bg, ll = R.bgnbd_fit(s["x"], s["t_x"], s["T"])
    _close(_bg(p), bg, rtol=1e-4)
    _check_scores(df, s)
    # the holdout totals agree within the sampling error of the fitted parameters (here
    # 4588 predicted, 4132 actual; 4386 with the true parameters against 4233 purchases
    # in continuous time, of which 101 share a day with another and count once)
    assert abs(p["holdout_predicted"] / p["holdout_actual"] - 1) < 0.15


# --- output file ---------------------------------------------------------------


def test_save_writes_the_strata_clv_layout(cdnow, tmp_path):
    path = cdnow[0]
    model = strata.CLV(CAL, holdout_end=HOLD).fit_h5(str(path), **COLS)
    out = tmp_path / "clv.h5"
    model.save(out, source="cdnow")
    with h5py.File(out, "r") as f:
        for name in ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "bgnbd_loglik", "gg_p",
                     "gg_q", "gg_gamma"):
            assert f.attrs[name] == model.params_[name]
        df = model.summary_
        np.testing.assert_array_equal(f["customer_id"][()], df.index)
        for name in df.columns:
            np.testing.assert_array_equal(f[name][()], df[name])
        tr = model.tracking_
        for name in ("actual", "expected", "cumulative_actual", "cumulative_expected"):
            np.testing.assert_allclose(f["tracking"][name][()], tr[name], rtol=1e-14)
    with pytest.raises(strata.OutputExistsError):
        model.save(out)
    model.save(out, force=True)


# --- bad input -------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors(cdnow):
    path = str(cdnow[0])
    with pytest.raises(TypeError):
        strata.clv(path, **COLS)  # calibration_end is required
    with pytest.raises(strata.ArgumentError, match="calibration_end"):
        strata.CLV().fit([1, 1], [0, 5], [1.0, 2.0])
    with pytest.raises(strata.ArgumentError, match="period"):
        strata.clv(path, **COLS, calibration_end=CAL, period="months")
    with pytest.raises(strata.ArgumentError, match="discount_rate"):
        strata.clv(path, **COLS, calibration_end=CAL, discount_rate=-0.5)
    with pytest.raises(strata.ArgumentError, match="clv_months"):
        strata.clv(path, **COLS, calibration_end=CAL, clv_months=0)
    with pytest.raises(strata.ArgumentError, match="calibration_end"):
        strata.clv(path, **COLS, calibration_end="not a date")
    with pytest.raises(strata.ArgumentError, match="same length"):
        strata.clv(customer=[1, 2], time=[0], amount=[1.0, 2.0], calibration_end=0)
    with pytest.raises(strata.DTypeError):
        strata.clv(customer=["a", "b"], time=[0, 1], amount=[1.0, 2.0], calibration_end=0)
    with pytest.raises(strata.ArgumentError):  # nobody bought on or before the end
        strata.clv(customer=[1, 2], time=[10, 11], amount=[1.0, 2.0], calibration_end=5)
    with pytest.raises(strata.ArgumentError):  # empty log
        strata.clv(customer=[], time=[], amount=[], calibration_end=5)
    with pytest.raises(strata.FileError):
        strata.clv("/nonexistent/tx.h5", **COLS, calibration_end=CAL)
    with pytest.raises(strata.FileError, match="nope"):
        strata.clv(path, customer="/tx/customer_id", time="/tx/nope", amount="/tx/amount",
                   calibration_end=CAL)
    with pytest.raises(strata.ArgumentError, match="no column"):
        strata.clv(pd.DataFrame({"a": [1]}), customer="a", time="t", amount="m",
                   calibration_end=0)
    with pytest.raises(strata.NotFittedError):
        strata.CLV(CAL).summary_
    with pytest.raises(strata.ArgumentError):  # a summary with t_x > T
        strata.CLV().fit_summary([1, 2], [1, 0], [5.0, 0], [4.0, 3.0], [10.0, 0])
    with pytest.raises(strata.ArgumentError):  # repeated id
        strata.CLV().fit_summary([1, 1], [1, 0], [2.0, 0], [4.0, 3.0], [10.0, 0])


def test_limits_come_from_the_library_catalogue():
    cat = strata._params.catalogue()
    names = {v["key"]: k for k, v in cat.items()}
    for key in range(300, 309):
        assert key in names, f"CLV parameter {key} is not in the key catalogue"
    lo, hi = strata._params.int_bounds(305)
    with pytest.raises(strata.ArgumentError, match=f"clv_months must be in \\[{lo}, {hi}\\]"):
        strata.CLV(0, clv_months=hi + 1)._handle()


def test_plot_script_draws_the_tracking_figure_and_table(cdnow, tmp_path):
    pytest.importorskip("matplotlib")
    import subprocess
    import sys
    path = cdnow[0]
    model = strata.CLV(CAL, holdout_end=HOLD).fit_h5(str(path), **COLS)
    model.save(tmp_path / "clv.h5")
    script = Path(__file__).resolve().parents[2] / "tools" / "clv_plot.py"
    p = subprocess.run([sys.executable, str(script), str(tmp_path / "clv.h5"), "-o",
                        str(tmp_path / "t.png"), "--table"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    df = model.summary_
    rows = {line.split("|")[1].strip(): line for line in p.stdout.splitlines()
            if line.startswith("| ")}
    zero = df[df.x == 0]
    assert rows["0"].split("|")[2].strip() == str(len(zero))
    assert float(rows["0"].split("|")[3]) == round(zero.holdout_actual.mean(), 3)
    assert float(rows["7+"].split("|")[4]) == round(df[df.x >= 7].holdout_predicted.mean(), 3)
