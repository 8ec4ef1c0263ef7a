"""strata.tiers(..., clv=True / value="clv" / features with "clv") (issue 16): the same
steps, results and saved file as `strata tiers --clv`, and the CLV columns those of
strata.clv on the same log with the same calibration end."""

from pathlib import Path

import numpy as np
import pytest

import clv_reference as R
import strata
from test_pipeline import assert_same_file
from test_tiers_pipeline import TX, strata as run_cli

h5py = pytest.importorskip("h5py")
pd = pytest.importorskip("pandas")

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
CAL = R.CDNOW_CALIBRATION_END


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    if not SAMPLE.exists():
        pytest.skip(f"{SAMPLE} is absent (the shared data folder ../shared/data is not here)")
    tmp = tmp_path_factory.mktemp("tiers_clv")
    ids, days, dollars = R.write_cdnow_h5(tmp / "tx.h5", SAMPLE)
    return tmp, ids, days, dollars


def test_value_clv_same_as_cli(cdnow):
    tmp, ids, days, dollars = cdnow
    run_cli("tiers", tmp / "tx.h5", *TX, "-k", 4, "--value", "clv", "--calibration-end", CAL,
            "-o", tmp / "cli.h5")
    res = strata.tiers(ids, days, dollars, k=4, value="clv", calibration_end=CAL)
    res.save(tmp / "py.h5")
    assert_same_file(tmp / "cli.h5", tmp / "py.h5")
    assert res.feature_names == ["recency", "frequency", "monetary", "clv"]
    # the CLV columns are strata.clv's on the same log and calibration end
    want = strata.clv(customer=ids, time=days, amount=dollars, calibration_end=CAL)
    got = res.customers
    for name in ("x", "t_x", "T", "zbar", "p_alive", "expected_purchases", "expected_spend"):
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    np.testing.assert_array_equal(got["clv_clv"], want["clv"])
    np.testing.assert_array_equal(got["clv"], want["clv"])  # the feature (nobody is missing)
    # tiers ranked by the clusters' CLV: the value weights pick the clv feature alone
    np.testing.assert_array_equal(res.model.value_weights_, [0, 0, 0, 1])
    mean_clv = got.groupby("tier", observed=True)["clv"].median()
    assert mean_clv.is_monotonic_decreasing, mean_clv


def test_clv_step_with_defaults_and_a_range_of_k_same_as_cli(cdnow):
    tmp, ids, days, dollars = cdnow
    run_cli("tiers", tmp / "tx.h5", *TX, "-k", "2:5", "--features", "frequency,clv",
            "--clv-period", "days", "--clv-months", 6, "--discount-rate", 0.02,
            "-o", tmp / "cli2.h5")
    tx = pd.DataFrame({"customer_id": ids, "day": days, "amount": dollars})
    res = strata.tiers(tx, k=range(2, 6), features="frequency,clv", clv_period="days",
                       clv_months=6, discount_rate=0.02)
    res.save(tmp / "py2.h5")
    assert_same_file(tmp / "cli2.h5", tmp / "py2.h5")
    # the calibration end is the reference day of the run (the day after the last purchase)
    assert res.clv.params_["calibration_end"] == res.rfm.report["reference_day"] == days.max() + 1
    with h5py.File(tmp / "py2.h5", "r") as f:
        assert f["clv"].attrs["value"] == "rfm" and f["clv"].attrs["period"] == "days"


def test_clv_flag_adds_the_columns_only(cdnow):
    tmp, ids, days, dollars = cdnow
    plain = strata.tiers(ids, days, dollars, k=3)
    with_clv = strata.tiers(ids, days, dollars, k=3, clv=True)
    np.testing.assert_array_equal(plain.model.labels_, with_clv.model.labels_)
    assert "p_alive" in with_clv.customers and "p_alive" not in plain.customers
    assert plain.clv is None and with_clv.clv is not None


@pytest.mark.parametrize("kwargs, words", [
    (dict(value="money"), "value must be"),
    (dict(features=("recency", "clv", "clv")), "given twice"),
    (dict(clv=True, clv_period="months"), "period"),
    (dict(clv=True, discount_rate=-1.0), "discount_rate"),
    (dict(clv=True, calibration_end=100), "calibration end"),
])
def test_bad_clv_arguments(cdnow, kwargs, words):
    _, ids, days, dollars = cdnow
    with pytest.raises(strata.ArgumentError, match=words):
        strata.tiers(ids, days, dollars, k=3, **kwargs)


def test_clv_feature_refused_where_the_model_gives_no_clv(tmp_path):
    """Nobody buys twice: Gamma-Gamma has nothing to fit and every CLV is NaN.
    As a feature and as the tier value they became 0 for every customer the
    model holds, and the tiers were ranked by cluster number, with exit 0
    (0 stands only for customers the model does not hold, counted in
    `missing`). --clv alone still writes the columns, NaN as strata clv."""
    rng = np.random.default_rng(5)
    n = 300
    ids, days = np.arange(n), rng.integers(18000, 18300, n)
    amount = np.round(rng.lognormal(3, 1, n), 2)
    with h5py.File(tmp_path / "once.h5", "w") as f:
        f["/tx/customer_id"], f["/tx/day"], f["/tx/amount"] = ids, days, amount
    for extra in (["--value", "clv"], ["--features", "recency,clv"]):
        p = run_cli("tiers", tmp_path / "once.h5", *TX, "-k", 3, *extra, "-o",
                    tmp_path / "t.h5", check=False)
        assert p.returncode == 1 and "no CLV for 300 of the 300 customers" in p.stderr, p.stderr
        assert "0 in the calibration period" in p.stderr and not (tmp_path / "t.h5").exists()
    for kwargs in (dict(value="clv"), dict(features="recency,clv")):
        with pytest.raises(strata.ArgumentError, match="no CLV for 300 of the 300 customers"):
            strata.tiers(ids, days, amount, k=3, **kwargs)
    run_cli("tiers", tmp_path / "once.h5", *TX, "-k", 3, "--clv", "-o", tmp_path / "t.h5")
    with h5py.File(tmp_path / "t.h5") as f:
        assert np.isnan(f["/clv/clv"][()]).all() and f["/clv"].attrs["missing"] == 0
