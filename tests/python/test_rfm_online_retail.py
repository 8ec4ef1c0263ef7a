"""strata.rfm on the real UCI "Online Retail" log (541,909 invoice lines):
the cleaning counts against the figures verified in ../shared/data/README.md
(missing customer ids, cancellations, zero prices), and R/F/M against the
pandas recipe on the rows that cleaning keeps. Skipped where ../shared/data
is absent."""

import math
from pathlib import Path

import numpy as np
import pytest

import strata

pd = pytest.importorskip("pandas")

CSV = (Path(__file__).resolve().parents[2].parent / "shared" / "data" / "online_retail"
       / "online_retail_slim.csv.gz")


@pytest.fixture(scope="module")
def retail():
    if not CSV.exists():
        pytest.skip(f"{CSV} is absent (the shared data folder ../shared/data is not here)")
    raw = pd.read_csv(CSV, dtype={"InvoiceNo": str, "StockCode": str, "Country": str},
                      parse_dates=["InvoiceDate"])
    return pd.DataFrame({
        "customer_id": raw.CustomerID.astype(np.float64),  # NaN: no customer id
        "day": raw.InvoiceDate.values.astype("datetime64[D]").astype(np.int64),
        "amount": raw.Quantity.astype(np.float64) * raw.UnitPrice.astype(np.float64),
        "cancelled": raw.InvoiceNo.str.startswith("C"),
    })


@pytest.fixture(scope="module")
def fitted(retail):
    return strata.rfm(retail.customer_id.values, retail.day.values, retail.amount.values)


def test_cleaning_counts_match_published_figures(retail, fitted):
    r = fitted.report
    # ../shared/data/README.md, "Verified here": 541,909 rows, 135,080 without
    # CustomerID; with CustomerID 406,829 rows, of which 397,924 not cancelled
    # (4,339 customers); 40 of those have UnitPrice 0 (397,924 - 397,884).
    assert r["rows"] == 541909
    assert r["bad_id"] == 135080
    assert r["negative"] == 406829 - 397924  # the cancellations with an id
    assert r["zero"] == 40                    # kept as purchases (the default)
    assert r["rows_used"] == 397924
    assert r["customers"] == 4339
    assert r["bad_amount"] == 0 and r["bad_time"] == 0
    # every dropped negative row is a cancellation, and vice versa
    with_id = retail[retail.customer_id.notna()]
    assert ((with_id.amount < 0) == with_id.cancelled).all()


@pytest.mark.parametrize("q", [4, 5])
def test_scores_match_pandas_on_kept_rows(retail, q):
    kept = retail[retail.customer_id.notna() & (retail.amount >= 0)].copy()
    kept["customer_id"] = kept.customer_id.astype(np.int64)
    res = strata.rfm(retail.customer_id.values, retail.day.values, retail.amount.values, bins=q)
    ref = kept.day.max() + 1
    g = kept.groupby("customer_id").agg(last=("day", "max"), frequency=("day", "count"))
    g["recency"] = ref - g["last"]
    # correctly rounded totals: pandas' own sums depend on its addition order,
    # and customers whose totals tie exactly would be ranked by that rounding
    g["monetary"] = kept.groupby("customer_id").amount.agg(lambda a: math.fsum(a.values))
    np.testing.assert_array_equal(res.customer_id, g.index.values)
    np.testing.assert_array_equal(res.recency, g.recency.values)
    np.testing.assert_array_equal(res.frequency, g.frequency.values)
    np.testing.assert_array_equal(res.monetary, g.monetary.values)
    cut = {c: pd.qcut(g[c].rank(method="first"), q, labels=False).values
           for c in ("recency", "frequency", "monetary")}
    np.testing.assert_array_equal(res.r, q - cut["recency"])
    np.testing.assert_array_equal(res.f, 1 + cut["frequency"])
    np.testing.assert_array_equal(res.m, 1 + cut["monetary"])
    # revenue of the kept rows, as the data README gives it with zero prices
    # dropped too (zero rows add nothing): 8,911,407.90
    assert math.isclose(res.monetary.sum(), 8911407.90, rel_tol=1e-9)


def test_net_returns(retail):
    """negative="net": cancellations reduce the spend instead of being dropped."""
    res = strata.rfm(retail.customer_id.values, retail.day.values, retail.amount.values,
                     negative="net")
    with_id = retail[retail.customer_id.notna()]
    # still counted, now as returns; customers with nothing but returns are
    # dropped with their rows and counted apart
    assert res.report["negative"] == 406829 - 397924
    only_returns = with_id.groupby("customer_id").amount.max() < 0
    assert res.report["return_only"] == with_id.customer_id.isin(
        only_returns[only_returns].index).sum()
    net = with_id.groupby(with_id.customer_id.astype(np.int64)).amount.agg(
        lambda a: math.fsum(a.values))
    bought = with_id[with_id.amount >= 0].customer_id.astype(np.int64).unique()
    net = net[net.index.isin(bought)]  # customers with only returns are dropped
    np.testing.assert_array_equal(res.customer_id, net.index.values)
    np.testing.assert_allclose(res.monetary, net.values, rtol=0, atol=1e-6)
