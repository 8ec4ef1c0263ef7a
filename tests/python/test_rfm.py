"""strata.rfm against the pandas recipe (groupby + rank(method="first") + qcut),
on the real CDNOW transaction log (skipped where ../shared/data is absent) and
on generated logs, for both tie policies; plus the cleaning policies, the
published CDNOW RFM summary, argument checks and the DataFrame output."""

import math
from pathlib import Path

import numpy as np
import pytest

import strata

pd = pytest.importorskip("pandas")

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow"
MASTER = DATA / "CDNOW_master.txt"
SAMPLE = DATA / "CDNOW_sample.txt"
SUMMARY = DATA / "cdnow_customers_summary.csv"


def need(path):
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data folder ../shared/data is not here)")


def yyyymmdd_to_day(values):
    """Days since 1970-01-01 of YYYYMMDD strings."""
    return pd.to_datetime(pd.Series(values), format="%Y%m%d").values.astype(
        "datetime64[D]").astype(np.int64)


@pytest.fixture(scope="module")
def cdnow():
    need(MASTER)
    # fixed width: id [1,6), date [7,15), CDs [16,18), dollars [19,26) (data/README.md)
    raw = pd.read_fwf(MASTER, colspecs=[(1, 6), (7, 15), (16, 18), (19, 26)], header=None,
                      names=["cid", "date", "cds", "amount"], dtype={"date": str})
    return pd.DataFrame({"customer_id": raw.cid.astype(np.int64),
                         "day": yyyymmdd_to_day(raw.date),
                         "amount": raw.amount.astype(np.float64)})


def pandas_rfm(df, q, ties, frequency="rows", monetary="sum"):
    """The common pandas recipe; returns (aggregates, R, F, M) by ascending id."""
    ref = df.day.max() + 1
    agg = {"last": ("day", "max"), "frequency": ("day", "count" if frequency == "rows" else "nunique"),
           "monetary": ("amount", "sum" if monetary == "sum" else "mean")}
    g = df.groupby("customer_id").agg(**agg)
    if monetary == "mean" and frequency == "days":
        g["monetary"] = df.groupby("customer_id").amount.sum() / g.frequency
    g["recency"] = ref - g["last"]
    if ties == "rank":
        cut = [pd.qcut(g[c].rank(method="first"), q, labels=False)
               for c in ("recency", "frequency", "monetary")]
    else:
        cut = [pd.qcut(g[c], q, labels=False, duplicates="drop")
               for c in ("recency", "frequency", "monetary")]
    return g, q - cut[0].values, 1 + cut[1].values, 1 + cut[2].values


def assert_same_as_pandas(res, df, q, ties, **kw):
    g, R, F, M = pandas_rfm(df, q, ties, **kw)
    np.testing.assert_array_equal(res.customer_id, g.index.values)
    np.testing.assert_array_equal(res.recency, g.recency.values)
    np.testing.assert_array_equal(res.frequency, g.frequency.values)
    np.testing.assert_allclose(res.monetary, g.monetary.values, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(res.r, R)
    np.testing.assert_array_equal(res.f, F)
    np.testing.assert_array_equal(res.m, M)
    return g


# ---- CDNOW ---------------------------------------------------------------

@pytest.mark.parametrize("ties", ["rank", "value"])
@pytest.mark.parametrize("q", [2, 3, 4, 5, 7, 10])
def test_cdnow_matches_pandas(cdnow, q, ties):
    res = strata.rfm(cdnow.customer_id, cdnow.day, cdnow.amount, bins=q, ties=ties)
    assert_same_as_pandas(res, cdnow, q, ties)
    if ties == "value":  # the number of distinct bins is reported
        for key, col in (("bins_r", res.r), ("bins_f", res.f), ("bins_m", res.m)):
            assert res.report[key] == len(np.unique(col))


def test_cdnow_report_and_exact_totals(cdnow):
    res = strata.rfm(cdnow.customer_id, cdnow.day, cdnow.amount)
    r = res.report
    # data/README.md: 69,659 rows, 23,570 customers, 80 zero-value rows
    assert (r["rows"], r["customers"], r["zero"]) == (69659, 23570, 80)
    assert r["duplicates"] == cdnow.duplicated().sum()  # same (customer, day, amount)
    assert r["rows_used"] == 69659 and r["bad_id"] == r["bad_amount"] == r["negative"] == 0
    assert res.report["reference_day"] == cdnow.day.max() + 1
    # totals are correctly rounded sums, whatever the row order
    exact = cdnow.groupby("customer_id").amount.agg(lambda a: math.fsum(a.values))
    np.testing.assert_array_equal(res.monetary, exact.values)
    assert math.isclose(res.monetary.sum(), 2500315.63, rel_tol=1e-12)


def test_cdnow_frequency_days(cdnow):
    for q, ties in ((5, "rank"), (4, "value")):
        res = strata.rfm(cdnow.customer_id, cdnow.day, cdnow.amount, bins=q, ties=ties,
                         frequency="days")
        g = assert_same_as_pandas(res, cdnow, q, ties, frequency="days")
        assert (g.frequency.values == 1).sum() == 12054  # data/README.md: one-day customers


def test_cdnow_row_order(cdnow):
    shuffled = cdnow.sample(frac=1.0, random_state=7)
    a = strata.rfm(cdnow.customer_id, cdnow.day, cdnow.amount)
    b = strata.rfm(shuffled.customer_id, shuffled.day, shuffled.amount)
    for name in strata.RFMResult.COLUMNS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_cdnow_sample_published_summary():
    """The published calibration summary of the CDNOW sample (Hardie's note,
    shipped by lifetimes): x = repeat purchase days, t_x and T in weeks."""
    need(SAMPLE)
    need(SUMMARY)
    rows = [line.split() for line in SAMPLE.read_text().splitlines() if line.strip()]
    sid = np.array([int(r[1]) for r in rows])
    day = yyyymmdd_to_day([r[2] for r in rows])
    amount = np.array([float(r[4]) for r in rows])
    cutoff = int(yyyymmdd_to_day(["19970930"])[0])
    res = strata.rfm(sid, day, amount, frequency="days", max_day=cutoff, reference_day=cutoff)
    want = pd.read_csv(SUMMARY).set_index("ID").loc[res.customer_id]
    assert len(res) == 2357 and res.report["bad_time"] == (day > cutoff).sum()
    np.testing.assert_array_equal(res.frequency - 1, want.frequency.values)
    np.testing.assert_allclose(res.tenure / 7, want["T"].values, atol=0.005 + 1e-9)
    np.testing.assert_allclose((res.tenure - res.recency) / 7, want.recency.values,
                               atol=0.005 + 1e-9)
    assert (res.frequency - 1).sum() == 2457


# ---- generated logs ------------------------------------------------------------

def make_log(n, customers, seed, days=400, price_levels=40):
    """Amounts are multiples of 0.25: every summation order gives the same total,
    so pandas' sums equal ours bit for bit and ties are real ties."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": rng.integers(0, customers, n) * 3 + 11,
        "day": 10000 + rng.integers(0, days, n),
        "amount": rng.integers(1, price_levels, n) * 0.25,
    })


@pytest.mark.parametrize("ties", ["rank", "value"])
@pytest.mark.parametrize("n,customers,q", [(50, 20, 5), (2000, 300, 5), (30000, 4000, 10),
                                           (400000, 150000, 5), (5000, 50, 100), (7, 3, 6)])
def test_generated_matches_pandas(n, customers, q, ties):
    df = make_log(n, customers, seed=n + q)
    res = strata.rfm(df.customer_id, df.day, df.amount, bins=q, ties=ties)
    assert_same_as_pandas(res, df, q, ties)


@pytest.mark.parametrize("frequency,monetary", [("days", "sum"), ("rows", "mean"),
                                                ("days", "mean")])
def test_generated_modes(frequency, monetary):
    df = make_log(20000, 3000, seed=5, days=60)
    res = strata.rfm(df.customer_id, df.day, df.amount, frequency=frequency, monetary=monetary)
    g, R, F, M = pandas_rfm(df, 5, "rank", frequency=frequency, monetary=monetary)
    np.testing.assert_array_equal(res.frequency, g.frequency.values)
    np.testing.assert_allclose(res.monetary, g.monetary.values, rtol=1e-12)
    np.testing.assert_array_equal(res.r, R)
    np.testing.assert_array_equal(res.f, F)
    np.testing.assert_allclose(res.revenue, df.groupby("customer_id").amount.sum().values)


def test_threads_and_row_order():
    df = make_log(300000, 200000, seed=9)
    df["amount"] *= 1.1  # inexact amounts: the canonical summation order matters
    base = strata.rfm(df.customer_id, df.day, df.amount, n_threads=1)
    shuffled = df.sample(frac=1.0, random_state=3)
    for threads, d in ((2, df), (3, shuffled), (1, shuffled)):
        other = strata.rfm(d.customer_id, d.day, d.amount, n_threads=threads)
        for name in strata.RFMResult.COLUMNS:
            np.testing.assert_array_equal(getattr(base, name), getattr(other, name))
        for stat, values in base.profile.items():
            np.testing.assert_array_equal(values, other.profile[stat])


# ---- cleaning policies against pandas ---------------------------------------------

def dirty_log(seed=1):
    df = make_log(5000, 400, seed)
    rng = np.random.default_rng(seed)
    df["customer_id"] = df.customer_id.astype(np.float64)
    pick = lambda k: rng.choice(len(df), k, replace=False)
    df.loc[pick(30), "customer_id"] = np.nan
    df.loc[pick(20), "amount"] = np.nan
    df.loc[pick(40), "amount"] *= -1
    df.loc[pick(25), "amount"] = 0.0
    df.loc[pick(10), "day"] = 99999
    return pd.concat([df, df.iloc[:50]], ignore_index=True)  # 50 exact duplicates


def test_cleaning_counts_and_defaults():
    df = dirty_log()
    res = strata.rfm(df.customer_id, df.day, df.amount, max_day=20000)
    bad_id = df.customer_id.isna()
    bad_day = ~bad_id & (df.day > 20000)
    bad_amount = ~bad_id & ~bad_day & df.amount.isna()
    rest = ~bad_id & ~bad_day & ~bad_amount
    r = res.report
    assert r["bad_id"] == bad_id.sum() and r["bad_time"] == bad_day.sum()
    assert r["bad_amount"] == bad_amount.sum()
    assert r["negative"] == (rest & (df.amount < 0)).sum()
    assert r["zero"] == (rest & (df.amount == 0)).sum()
    kept = df[rest & (df.amount >= 0)]
    assert r["duplicates"] == kept.duplicated().sum()
    assert r["rows_used"] == len(kept)
    g, R, F, M = pandas_rfm(kept.astype({"customer_id": np.int64}), 5, "rank")
    np.testing.assert_array_equal(res.customer_id, g.index.values)
    np.testing.assert_array_equal(res.f, F)
    np.testing.assert_array_equal(res.m, M)


def test_cleaning_alternatives():
    df = dirty_log(2)
    valid = df[df.customer_id.notna() & df.amount.notna()].astype({"customer_id": np.int64})
    res = strata.rfm(df.customer_id, df.day, df.amount, negative="net", zero="drop",
                     duplicates="drop")
    kept = valid[valid.amount != 0].drop_duplicates()
    net = kept.groupby("customer_id").amount.sum()
    buyers = kept[kept.amount > 0].groupby("customer_id").agg(
        last=("day", "max"), frequency=("day", "count"))
    np.testing.assert_array_equal(res.customer_id, buyers.index.values)
    np.testing.assert_array_equal(res.frequency, buyers.frequency.values)
    np.testing.assert_allclose(res.monetary, net.loc[buyers.index].values)
    assert res.report["duplicates"] == valid[valid.amount != 0].duplicated().sum()
    only_returns = set(net.index) - set(buyers.index)
    assert res.report["return_only"] == kept.customer_id.isin(only_returns).sum()


# ---- hand-checked cases, inputs, outputs ----------------------------------------

def test_tiny_by_hand():
    res = strata.rfm([7, 3, 7, 5, 3, 3, 5], [10, 12, 20, 15, 18, 18, 11],
                     [5.0, 1.5, 2.5, 100.0, 3.0, 4.0, 50.0], bins=3)
    np.testing.assert_array_equal(res.customer_id, [3, 5, 7])
    np.testing.assert_array_equal(res.recency, [3, 6, 1])  # reference day 21
    np.testing.assert_array_equal(res.frequency, [3, 2, 2])
    np.testing.assert_array_equal(res.monetary, [8.5, 150.0, 7.5])
    np.testing.assert_array_equal(res.code, [232, 113, 321])
    np.testing.assert_array_equal(res.score, [7, 5, 6])
    assert list(res.segment_name) == ["Champions", "At Risk", "Potential Loyalist"]
    frame = res.frame
    assert list(frame.index) == [3, 5, 7] and frame.loc[5, "segment_name"] == "At Risk"
    prof = res.profile_frame
    assert prof.loc["Champions", "count"] == 1
    assert math.isclose(prof.loc["At Risk", "revenue_share"], 150 / 166)


def test_single_customer_and_all_equal():
    res = strata.rfm([1, 1], [5, 6], [2.0, 3.0])
    assert (res.r[0], res.f[0], res.m[0]) == (5, 1, 1)
    assert list(res.segment_name) == ["New Customers"]
    same = strata.rfm_score(np.arange(10), np.full(10, 4), np.full(10, 2), np.full(10, 9.5),
                            ties="value")
    assert set(same.r) == {5} and set(same.f) == {1} and same.report["bins_m"] == 1


def test_datetimes_and_seconds():
    when = pd.to_datetime(["2024-01-01 10:00", "2024-01-03 23:59", "2024-01-02", None])
    res = strata.rfm([1, 1, 2, 2], when, [1.0, 2.0, 3.0, 4.0])
    assert res.report["bad_time"] == 1 and list(res.recency) == [1, 2]
    seconds = when[:3].values.astype("datetime64[s]").astype(np.int64)
    sec = strata.rfm([1, 1, 2], seconds, [1.0, 2.0, 3.0], time_unit="seconds")
    np.testing.assert_array_equal(sec.recency, res.recency)


def test_custom_segments_and_edges():
    df = make_log(3000, 500, seed=4)
    tiers = [("high value", {"m": (4, 5)}), ("mid value", {"m": (2, 3)}), ("low value", {})]
    res = strata.rfm(df.customer_id, df.day, df.amount, segments=tiers)
    assert res.segment_names == ["high value", "mid value", "low value"]
    np.testing.assert_array_equal(res.segment, np.select([res.m >= 4, res.m >= 2], [0, 1], 2))
    assert res.profile["count"].sum() == len(res)
    edges = {"recency": [30, 90, 180, 365], "frequency": [1, 2, 4, 8],
             "monetary": [10, 20, 40, 80]}
    fixed = strata.rfm(df.customer_id, df.day, df.amount, ties="edges", edges=edges)
    np.testing.assert_array_equal(fixed.f, 1 + np.searchsorted(edges["frequency"], fixed.frequency))
    np.testing.assert_array_equal(fixed.r, 5 - np.searchsorted(edges["recency"], fixed.recency))


def test_segments_as_text():
    df = make_log(3000, 500, seed=4)
    text = "# value tiers\nhigh value: m=4-5\nmid value: m=2-3\r\nlow value:\n"
    res = strata.rfm(df.customer_id, df.day, df.amount, segments=text)
    assert res.segment_names == ["high value", "mid value", "low value"]
    np.testing.assert_array_equal(res.segment, np.select([res.m >= 4, res.m >= 2], [0, 1], 2))
    with pytest.raises(strata.ArgumentError, match="line 2: bad range 'q=1'"):
        strata.rfm(df.customer_id, df.day, df.amount, segments="a: r=1\nb: q=1")
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.rfm(df.customer_id, df.day, df.amount, segments="a: r=1\0b: r=2")


def test_rfm_score_matches_rfm():
    df = make_log(10000, 2000, seed=6)
    a = strata.rfm(df.customer_id, df.day, df.amount)
    order = np.random.default_rng(0).permutation(len(a))
    b = strata.rfm_score(a.customer_id[order], a.recency[order], a.frequency[order],
                         a.monetary[order])
    for name in ("customer_id", "r", "f", "m", "segment"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_bad_input():
    with pytest.raises(strata.ArgumentError, match="same length"):
        strata.rfm([1, 2], [1, 2, 3], [1.0, 2.0])
    with pytest.raises(strata.ArgumentError, match="empty"):
        strata.rfm([], [], [])
    with pytest.raises(strata.ArgumentError, match="ties"):
        strata.rfm([1], [1], [1.0], ties="dense")
    with pytest.raises(strata.ArgumentError, match="bins"):
        strata.rfm([1], [1], [1.0], bins=1)
    with pytest.raises(strata.ArgumentError, match="amount must hold numbers"):
        strata.rfm([1], [1], ["a lot"])
    with pytest.raises(strata.ArgumentError, match="no purchase left"):
        strata.rfm([1, 2], [1, 2], [-1.0, np.nan])
    with pytest.raises(strata.ArgumentError, match="cut points"):
        strata.rfm([1], [1], [1.0], ties="edges")
    with pytest.raises(strata.ArgumentError, match="appears twice"):
        strata.rfm_score([1, 1], [1, 2], [1, 1], [1.0, 2.0])
    with pytest.raises(strata.ArgumentError, match="same name"):
        strata.rfm([1], [1], [1.0], segments=[("a", {}), ("a", {})])
