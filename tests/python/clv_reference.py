"""An independent numpy/scipy reference for the CLV models of issue 16.

The formulas are those of the papers, as the ``lifetimes`` package implements
them (lifetimes cannot be installed here; this is our own code, written from
the papers and from reading lifetimes' formulas):

* BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way",
  Marketing Science 24(2); Hardie's note 004): log-likelihood (section 7 of the
  paper), P(alive) (note 021), the conditional expected number of purchases in
  the next t periods (equation 10, with the Gauss hypergeometric function) and
  the unconditional E[X(t)] (equation 9);
* Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Hardie's note 025):
  log-likelihood (equation 1a) and the conditional expected spend (equation 5);
* CLV as lifetimes' ``customer_lifetime_value``: months 1..M, each month's
  expected purchases (difference of the cumulative conditional expectation,
  a month being 4.345 weeks or 30 days) times the expected spend, discounted
  by (1 + d) ** month;
* the calibration summary of a transaction log with the rules of
  ../shared/data/README.md (cdnow section), the per-customer holdout counts,
  and the papers' weekly tracking curve (lifetimes'
  ``expected_cumulative_transactions``).

It is used by tests/python/test_clv.py (checked against the published CDNOW
estimates by tests/python/test_clv_reference.py) and by bench/clv.py.
Everything is vectorised over customers.
"""

import numpy as np
from scipy import optimize, special

#: weeks in a month and days in a month for the CLV steps (lifetimes' factors)
MONTH = {"weeks": 4.345, "days": 30.0}
#: days per period
PERIOD_DAYS = {"weeks": 7, "days": 1}

EPOCH = np.datetime64("1970-01-01", "D")


def day_number(text):
    """'1997-09-30' (or '19970930') as days since 1970-01-01 (the day numbers the library takes)."""
    text = str(text)
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return int((np.datetime64(text, "D") - EPOCH).astype(np.int64))


# ---------------------------------------------------------------------------
# data


def read_cdnow_sample(path):
    """CDNOW_sample.txt as (sample id, day number, dollars): numpy arrays, one per line."""
    raw = np.loadtxt(path, dtype=str)  # master id, sample id, YYYYMMDD, CDs, dollars
    ids = raw[:, 1].astype(np.int64)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    days = (dates - EPOCH).astype(np.int64)
    dollars = raw[:, 4].astype(np.float64)
    return ids, days, dollars


def summary(ids, days, amounts, calibration_end, period="weeks", holdout_end=None):
    """The calibration summary of a transaction log (README rules, not rounded).

    Returns a dict of arrays sorted by customer id over the customers whose
    first day is <= calibration_end: customer_id, first_day, x, t_x, T, zbar,
    holdout_actual (distinct purchase days in (calibration_end, holdout_end]);
    plus "excluded" (customers whose first day is later) and "holdout_days".
    Days are aggregated per (customer, day) first; x counts distinct days.
    """
    ids = np.asarray(ids, np.int64)
    days = np.asarray(days, np.int64)
    amounts = np.asarray(amounts, np.float64)
    if holdout_end is None:
        holdout_end = int(days.max())
    plen = PERIOD_DAYS[period]
    # (customer, day) aggregation
    order = np.lexsort((days, ids))
    ids, days, amounts = ids[order], days[order], amounts[order]
    new = np.ones(len(ids), bool)
    new[1:] = (ids[1:] != ids[:-1]) | (days[1:] != days[:-1])
    starts = np.flatnonzero(new)
    cd_id, cd_day = ids[starts], days[starts]
    cd_amount = np.add.reduceat(amounts, starts)
    # customers
    first = np.ones(len(cd_id), bool)
    first[1:] = cd_id[1:] != cd_id[:-1]
    cstart = np.flatnonzero(first)
    cust = cd_id[cstart]
    f = cd_day[cstart]
    owner = np.cumsum(first) - 1          # customer index of each (customer, day)
    fday = f[owner]
    repeat_cal = (~first) & (cd_day <= calibration_end)
    hold = (cd_day > calibration_end) & (cd_day <= holdout_end) & (fday <= calibration_end)
    n = len(cust)
    x = np.bincount(owner[repeat_cal], minlength=n).astype(np.float64)
    spend = np.bincount(owner[repeat_cal], weights=cd_amount[repeat_cal], minlength=n)
    last = f.copy()
    np.maximum.at(last, owner[repeat_cal], cd_day[repeat_cal])
    hold_n = np.bincount(owner[hold], minlength=n).astype(np.float64)
    keep = f <= calibration_end
    with np.errstate(invalid="ignore", divide="ignore"):
        zbar = np.where(x > 0, spend / np.maximum(x, 1), 0.0)
    out = {
        "customer_id": cust[keep],
        "first_day": f[keep],
        "x": x[keep],
        "t_x": ((last - f) / plen)[keep].astype(np.float64),
        "T": ((calibration_end - f) / plen)[keep].astype(np.float64),
        "zbar": zbar[keep],
        "holdout_actual": hold_n[keep],
        "excluded": int((~keep).sum()),
        "holdout_days": max(0, int(holdout_end) - int(calibration_end)),
    }
    # the repeat purchase days of the model's customers, for the tracking curve
    model_cust = keep[owner]
    out["repeat_days"] = cd_day[(~first) & model_cust & (cd_day <= holdout_end)]
    return out


# ---------------------------------------------------------------------------
# BG/NBD


def bgnbd_loglik(params, x, t_x, T):
    """Per-customer BG/NBD log-likelihood (paper, section 7)."""
    r, alpha, a, b = params
    x = np.asarray(x, np.float64)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
          - special.gammaln(a + b + x))
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(b + np.maximum(x, 1) - 1)
                  - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def _polish(nll, best):
    """The best start's optimum refined by Nelder-Mead to tight tolerances:
    (parameters, maximum log-likelihood)."""
    res = optimize.minimize(nll, best.x, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000,
                                     "maxfev": 40000})
    if res.fun > best.fun:
        res = best
    return np.exp(res.x), -res.fun


#: starting points of the fits (log r, log alpha, log a, log b); alpha is scaled to the data
_BG_STARTS = [(1.0, 1.0, 1.0, 1.0), (0.25, 4.0, 0.8, 2.5), (0.5, 1.0, 0.5, 5.0),
              (2.0, 10.0, 1.5, 1.5), (0.1, 0.5, 0.2, 0.5), (1.0, 20.0, 3.0, 10.0)]


def bgnbd_fit(x, t_x, T, starts=_BG_STARTS):
    """Maximum likelihood (r, alpha, a, b) and the total log-likelihood.

    scipy.optimize.minimize (L-BFGS-B then Nelder-Mead polish) on the log
    parameters from several starts; alpha's starts scale with mean T / 10.
    """
    x, t_x, T = (np.asarray(v, np.float64) for v in (x, t_x, T))
    scale = max(np.mean(T), 1e-12) / 10.0

    def nll(theta):
        p = np.exp(np.clip(theta, -30, 30))
        v = -np.sum(bgnbd_loglik(p, x, t_x, T))
        return v if np.isfinite(v) else 1e300

    best = None
    for s in starts:
        theta0 = np.log([s[0], s[1] * scale, s[2], s[3]])
        res = optimize.minimize(nll, theta0, method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    return _polish(nll, best)


def bgnbd_std_errors(params, x, t_x, T, h=1e-4):
    """Standard errors of (r, alpha, a, b) from the observed information
    (finite-difference Hessian of the log-likelihood in the log parameters,
    delta method back to the parameters)."""
    theta = np.log(np.asarray(params, np.float64))

    def ll(th):
        return np.sum(bgnbd_loglik(np.exp(th), x, t_x, T))

    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            e_i = np.eye(k)[i] * h
            e_j = np.eye(k)[j] * h
            H[i, j] = (ll(theta + e_i + e_j) - ll(theta + e_i - e_j) - ll(theta - e_i + e_j)
                       + ll(theta - e_i - e_j)) / (4 * h * h)
    cov = np.linalg.inv(-H)
    return np.sqrt(np.diag(cov)) * np.exp(theta)


def bgnbd_p_alive(params, x, t_x, T):
    """P(alive | x, t_x, T) (Hardie's note 021); 1 for x = 0."""
    r, alpha, a, b = params
    x = np.asarray(x, np.float64)
    log_div = ((r + x) * np.log((alpha + T) / (alpha + t_x))
               + np.log(a / (b + np.maximum(x, 1) - 1)))
    return np.where(x == 0, 1.0, special.expit(-log_div))


def _one_minus_hyp2f1(a, b, c, z, log_scale):
    """1 - 2F1(a, b; c; z) exp(log_scale) for 0 <= z < 1: 2F1 by Euler's
    transformation where the direct series overflows (as lifetimes does), in
    logs (expm1) where it is positive; it is negative for some c < 0 (BG/NBD's
    a + b + x - 1 at x = 0 where a + b < 1)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        h = special.hyp2f1(a, b, c, z)
        direct = np.isfinite(h)
        lh = np.where(direct, np.log(np.abs(h)),
                      np.log(special.hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z))
        sign = np.where(direct, np.sign(h), 1.0)
        return np.where(sign > 0, -np.expm1(lh + log_scale), 1 - sign * np.exp(lh + log_scale))


def bgnbd_conditional_expected(params, t, x, t_x, T):
    """E[X(T, T + t) | x, t_x, T]: expected repeat purchases in the next t periods (eq. 10)."""
    r, alpha, a, b = params
    x = np.asarray(x, np.float64)
    t = np.asarray(t, np.float64)
    z = t / (alpha + T + t)
    first = (a + b + x - 1) / (a - 1)
    second = _one_minus_hyp2f1(r + x, b + x, a + b + x - 1, z,
                               (r + x) * np.log((alpha + T) / (alpha + t + T)))
    denom = 1 + (x > 0) * (a / (b + np.maximum(x, 1) - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return first * second / denom


def bgnbd_expected(params, t):
    """Unconditional E[X(t)] of a customer aged t (eq. 9); 0 for t <= 0."""
    r, alpha, a, b = params
    t = np.maximum(np.asarray(t, np.float64), 0.0)
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)


def bgnbd_simulate(n, params, T, rng):
    """Draw n customers from the BG/NBD generative process: lambda ~ Gamma(r,
    rate alpha), p ~ Beta(a, b); exponential inter-purchase times; after each
    repeat purchase the customer drops out with probability p. ``T`` (scalar
    or n ages, in periods) is the observation length after the first purchase
    at time 0. Returns a list of arrays of repeat purchase times (continuous)."""
    r, alpha, a, b = params
    T = np.broadcast_to(np.asarray(T, np.float64), (n,))
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    out = []
    for i in range(n):
        times = []
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam[i]) if lam[i] > 0 else np.inf
            if t >= T[i]:
                break
            times.append(t)
            if rng.random() < p[i]:
                break
        out.append(np.array(times))
    return out


# ---------------------------------------------------------------------------
# Gamma-Gamma


def gg_loglik(params, x, zbar):
    """Per-customer Gamma-Gamma log-likelihood of the mean spend zbar of x > 0 purchases (1a)."""
    p, q, v = params
    x = np.asarray(x, np.float64)
    m = np.asarray(zbar, np.float64)
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
            + q * np.log(v) + (p * x - 1) * np.log(m) + p * x * np.log(x)
            - (p * x + q) * np.log(x * m + v))


def gg_fit(x, zbar, starts=((1.0, 1.0, 1.0), (6.0, 4.0, 15.0), (2.0, 3.0, 50.0),
                             (10.0, 2.0, 5.0))):
    """Maximum likelihood (p, q, gamma) on the customers with x > 0 and zbar > 0, and the
    total log-likelihood."""
    x = np.asarray(x, np.float64)
    zbar = np.asarray(zbar, np.float64)
    keep = (x > 0) & (zbar > 0)  # a repeat customer whose repeat days spent 0 has no log-spend
    x, zbar = x[keep], zbar[keep]

    def nll(theta):
        v = -np.sum(gg_loglik(np.exp(np.clip(theta, -30, 30)), x, zbar))
        return v if np.isfinite(v) else 1e300

    best = None
    for s in starts:
        res = optimize.minimize(nll, np.log(s), method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    return _polish(nll, best)


def gg_expected_spend(params, x, zbar):
    """E[Z | x, zbar] (eq. 5): weighted mean of zbar and the population mean p*gamma/(q-1);
    the population mean for x = 0."""
    p, q, v = params
    x = np.asarray(x, np.float64)
    w = p * x / (p * x + q - 1)
    return (1 - w) * (v * p / (q - 1)) + w * np.asarray(zbar, np.float64)


def clv(bg_params, gg_params, x, t_x, T, zbar, months=12, discount_rate=0.01, period="weeks"):
    """lifetimes' customer_lifetime_value: sum over months m = 1..M of
    E[spend] * (E[X(m * f)] - E[X((m - 1) * f)] | x, t_x, T) / (1 + d) ** m,
    f = 4.345 weeks or 30 days per month."""
    factor = MONTH[period]
    spend = gg_expected_spend(gg_params, x, zbar)
    total = np.zeros(np.shape(x))
    prev = np.zeros(np.shape(x))
    for m in range(1, months + 1):
        cum = bgnbd_conditional_expected(bg_params, m * factor, x, t_x, T)
        total += spend * (cum - prev) / (1 + discount_rate) ** m
        prev = cum
    return total


# ---------------------------------------------------------------------------
# the tracking curve


def tracking(bg_params, first_day, repeat_days, start_day, end_day, period="weeks"):
    """Per period i (days [start_day + i*len, start_day + (i+1)*len)), the
    actual repeat purchase days of the model's customers and their expected
    number: sum over customers of E[X(u_i - f)] - E[X(u_{i-1} - f)] with u_i
    the last day of period i and times in periods (E[X(t)] = 0 for t <= 0),
    as lifetimes' expected_cumulative_transactions. Periods run until the one
    holding end_day. Returns (actual, expected), incremental."""
    plen = PERIOD_DAYS[period]
    n = (int(end_day) - int(start_day)) // plen + 1
    last = start_day + (np.arange(n) + 1) * plen - 1
    fdays, counts = np.unique(np.asarray(first_day, np.int64), return_counts=True)
    cum = np.array([np.sum(counts * bgnbd_expected(bg_params, (u - fdays) / plen)) for u in last])
    expected = np.diff(np.concatenate([[0.0], cum]))
    idx = (np.asarray(repeat_days, np.int64) - start_day) // plen
    actual = np.bincount(idx[(idx >= 0) & (idx < n)], minlength=n).astype(np.float64)
    return actual, expected


def score(s, period="weeks", horizon=None, months=12, discount_rate=0.01, bg=None, gg=None):
    """Fit both models on a summary (from :func:`summary`) and score every
    customer as the library does. Returns a dict of the fitted values and the
    per-customer columns."""
    if horizon is None:
        horizon = 52.0 if period == "weeks" else 364.0
    x, t_x, T, zbar = s["x"], s["t_x"], s["T"], s["zbar"]
    bg_ll = None
    if bg is None:
        bg, bg_ll = bgnbd_fit(x, t_x, T)
    if bg_ll is None:
        bg_ll = float(np.sum(bgnbd_loglik(bg, x, t_x, T)))
    gg_ll = None
    if gg is None:
        gg, gg_ll = gg_fit(x, zbar)
    rep = x > 0
    if gg_ll is None:
        pos = rep & (zbar > 0)
        gg_ll = float(np.sum(gg_loglik(gg, x[pos], zbar[pos])))
    out = {"bgnbd": bg, "bgnbd_loglik": bg_ll, "gg": gg, "gg_loglik": gg_ll,
           "freq_spend_corr": float(np.corrcoef(x[rep], zbar[rep])[0, 1]),
           "p_alive": bgnbd_p_alive(bg, x, t_x, T),
           "expected_purchases": bgnbd_conditional_expected(bg, horizon, x, t_x, T),
           "expected_spend": gg_expected_spend(gg, x, zbar),
           "clv": clv(bg, gg, x, t_x, T, zbar, months, discount_rate, period)}
    if "holdout_days" in s:
        hl = s["holdout_days"] / PERIOD_DAYS[period]
        out["holdout_predicted"] = bgnbd_conditional_expected(bg, hl, x, t_x, T)
    return out


# ---------------------------------------------------------------------------
# fixtures

#: the papers' split of the CDNOW log: 39 weeks of calibration, holdout to the end of June 1998
CDNOW_CALIBRATION_END = day_number("1997-09-30")
CDNOW_HOLDOUT_END = day_number("1998-06-30")


def write_log_h5(path, ids, days, amounts, group="/tx"):
    """A transaction log as three 1-D datasets GROUP/customer_id (int64),
    GROUP/day (int64, days since 1970-01-01) and GROUP/amount (float64)."""
    import h5py
    with h5py.File(path, "w") as f:
        g = f.require_group(group)
        g["customer_id"] = np.asarray(ids, np.int64)
        g["day"] = np.asarray(days, np.int64)
        g["amount"] = np.asarray(amounts, np.float64)


def write_cdnow_h5(path, sample_txt):
    """CDNOW_sample.txt as an HDF5 log: /tx/customer_id = the sample id (1..2357),
    /tx/day, /tx/amount (dollars), in the file's order; root attributes
    calibration_end and holdout_end (the papers' split)."""
    import h5py
    ids, days, dollars = read_cdnow_sample(sample_txt)
    write_log_h5(path, ids, days, dollars)
    with h5py.File(path, "a") as f:
        f.attrs["calibration_end"] = CDNOW_CALIBRATION_END
        f.attrs["holdout_end"] = CDNOW_HOLDOUT_END
    return ids, days, dollars


if __name__ == "__main__":  # python3 clv_reference.py cdnow-h5 OUT.h5 [CDNOW_sample.txt]
    import sys
    from pathlib import Path
    if len(sys.argv) < 3 or sys.argv[1] != "cdnow-h5":
        sys.exit("usage: clv_reference.py cdnow-h5 OUT.h5 [CDNOW_sample.txt]")
    default = Path(__file__).resolve().parents[3] / "shared/data/cdnow/CDNOW_sample.txt"
    write_cdnow_h5(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else default)
