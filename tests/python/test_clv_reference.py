"""The numpy/scipy CLV reference (clv_reference.py) against published values,
before it is used to check the library (test_clv.py).

Published: BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
(Fader, Hardie & Lee 2005, on the CDNOW sample's 39-week calibration summary);
Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44 (Hardie's note 025); Hardie's
spreadsheet values for E[X(t)], the conditional expectation of customer 1 and
the conditional expected spend of the first ten customers (as lifetimes'
tests quote them). The summary rules of ../shared/data/README.md reproduce the
published summary from the raw log.
"""

from pathlib import Path

import numpy as np
import pytest

import clv_reference as R

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cdnow"
SUMMARY = DATA / "cdnow_customers_summary_with_transactions.csv"
SAMPLE = DATA / "CDNOW_sample.txt"
PUBLISHED_BG = (0.243, 4.414, 0.793, 2.426)
PUBLISHED_GG = (6.25, 3.74, 15.44)


def _need(path):
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data folder ../shared/data is not here)")


@pytest.fixture(scope="module")
def published():
    _need(SUMMARY)
    return np.genfromtxt(SUMMARY, delimiter=",", names=True)


def test_bgnbd_fit_reproduces_the_paper(published):
    d = published
    params, ll = R.bgnbd_fit(d["x"], d["t_x"], d["T"])
    np.testing.assert_allclose(np.round(params, 3), PUBLISHED_BG, atol=0)
    assert round(ll, 1) == -9582.4
    # and the optimum is one: the published (rounded) values are not better
    assert ll >= np.sum(R.bgnbd_loglik(PUBLISHED_BG, d["x"], d["t_x"], d["T"]))


def test_gamma_gamma_fit_reproduces_hardie(published):
    d = published
    params, _ = R.gg_fit(d["x"], d["zbar"])
    # 6.2488, 3.7446, 15.4477: the note's Excel Solver stopped within one unit of the
    # last published digit of gamma (lifetimes' own test allows 0.015)
    np.testing.assert_allclose(params, PUBLISHED_GG, rtol=0, atol=0.01)


def test_bgnbd_expectations_match_hardies_sheet(published):
    d = published
    fitted, _ = R.bgnbd_fit(d["x"], d["t_x"], d["T"])  # the sheet's unrounded estimates
    t = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    np.testing.assert_allclose(R.bgnbd_expected(fitted, t),
                               [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576], atol=6e-4)
    # customer 1 (x = 2, t_x = 30.43, T = 38.86), next 39 weeks: 1.226
    assert abs(R.bgnbd_conditional_expected(fitted, 39, 2, 30.43, 38.86) - 1.226) < 1e-3
    # x = 0: P(alive) is 1; otherwise in (0, 1)
    assert R.bgnbd_p_alive(PUBLISHED_BG, 0, 0, 38.86) == 1.0
    assert 0 < R.bgnbd_p_alive(PUBLISHED_BG, 2, 30.43, 38.86)[()] < 1


def test_conditional_expectation_of_x0_customers_by_integration():
    # x = 0 over (0, T]: the customer is alive at T (dropout follows repeat purchases
    # only), lambda's posterior is Gamma(r, alpha + T), p keeps Beta(a, b); given both,
    # E[X(T, T + t)] = (1 - exp(-lambda p t)) / p, whose lambda-mean is
    # (1 - ((alpha + T) / (alpha + T + p t))^r) / p: one integral over p.
    from scipy import integrate, stats
    r, alpha, a, b = PUBLISHED_BG
    for T, t in ((10.0, 20.0), (38.86, 52.0), (1.0, 500.0)):
        want = integrate.quad(lambda p: stats.beta.pdf(p, a, b) / p
                              * -np.expm1(r * np.log((alpha + T) / (alpha + T + p * t))),
                              0, 1, epsabs=1e-12, limit=200)[0]
        assert abs(R.bgnbd_conditional_expected(PUBLISHED_BG, t, 0, 0, T) - want) < 1e-7 * want


def test_expected_spend_matches_hardies_sheet(published):
    d = published[:10]
    np.testing.assert_allclose(R.gg_expected_spend(PUBLISHED_GG, d["x"], d["zbar"]),
                               [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28,
                                35.17], atol=0.1)


def test_summary_from_the_log_is_the_published_summary(published):
    _need(SAMPLE)
    ids, days, dollars = R.read_cdnow_sample(SAMPLE)
    assert len(ids) == 6919 and round(dollars.sum(), 2) == 244091.94
    s = R.summary(ids, days, dollars, R.day_number("1997-09-30"))
    d = published
    np.testing.assert_array_equal(s["customer_id"], d["ID"].astype(np.int64))
    np.testing.assert_array_equal(s["x"], d["x"])
    np.testing.assert_array_equal(np.round(s["t_x"], 2), d["t_x"])
    np.testing.assert_array_equal(np.round(s["T"], 2), d["T"])
    # zbar: exact in cents, rounded half-up (README); float means round within half a cent
    assert np.max(np.abs(s["zbar"] - d["zbar"])) <= 0.005 + 1e-9
    assert s["x"].sum() == 2457 and (s["x"] == 0).sum() == 1411 and s["excluded"] == 0


def test_clv_is_lifetimes_sum_of_discounted_monthly_purchases():
    x, t_x, T, zbar = np.array([2.0, 0.0]), np.array([30.43, 0.0]), np.array([38.86, 38.86]), \
        np.array([22.35, 0.0])
    got = R.clv(PUBLISHED_BG, PUBLISHED_GG, x, t_x, T, zbar, months=3, discount_rate=0.1)
    spend = R.gg_expected_spend(PUBLISHED_GG, x, zbar)
    e = [R.bgnbd_conditional_expected(PUBLISHED_BG, m * 4.345, x, t_x, T) for m in (1, 2, 3)]
    want = spend * (e[0] / 1.1 + (e[1] - e[0]) / 1.1**2 + (e[2] - e[1]) / 1.1**3)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    # no discount, M months: spend x expected purchases in M * 4.345 weeks
    np.testing.assert_allclose(R.clv(PUBLISHED_BG, PUBLISHED_GG, x, t_x, T, zbar, 12, 0.0),
                               spend * R.bgnbd_conditional_expected(PUBLISHED_BG, 12 * 4.345, x,
                                                                    t_x, T), rtol=1e-12)


def test_tracking_on_cdnow():
    _need(SAMPLE)
    ids, days, dollars = R.read_cdnow_sample(SAMPLE)
    s = R.summary(ids, days, dollars, R.day_number("1997-09-30"),
                  holdout_end=R.day_number("1998-06-30"))
    actual, expected = R.tracking(PUBLISHED_BG, s["first_day"], s["repeat_days"],
                                  R.day_number("1997-01-01"), R.day_number("1998-06-30"))
    assert len(actual) == 78  # 1997-01-01 .. 1998-06-30 is 78 weeks
    # week 39 ends on the calibration end: the actual repeat days so far are sum x
    assert np.cumsum(actual)[38] == 2457
    assert np.cumsum(actual)[-1] == 2457 + s["holdout_actual"].sum()
    # the expected cumulative curve at the end is the sum of E[X(end - f)]
    end = R.day_number("1998-06-30")
    np.testing.assert_allclose(np.sum(expected),
                               np.sum(R.bgnbd_expected(PUBLISHED_BG, (end - s["first_day"]) / 7)),
                               rtol=1e-12)
    # the model tracks the data within a few percent over both periods (the paper's figure)
    assert abs(np.sum(expected[:39]) / 2457 - 1) < 0.03
    assert abs(np.sum(expected) / np.sum(actual) - 1) < 0.06


def test_simulated_customers_recover_their_parameters():
    rng = np.random.default_rng(7)
    truth = (0.5, 5.0, 0.8, 3.0)
    n = 4000
    T = rng.uniform(20, 52, n)
    times = R.bgnbd_simulate(n, truth, T, rng)
    x = np.array([len(t) for t in times], float)
    t_x = np.array([t[-1] if len(t) else 0.0 for t in times])
    params, _ = R.bgnbd_fit(x, t_x, T)
    se = R.bgnbd_std_errors(params, x, t_x, T)
    assert np.all(np.abs(params - truth) < 4 * se), (params, se)
