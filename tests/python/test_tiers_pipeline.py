"""`strata tiers`: the whole way from a transaction log to named tiers, checked
against the same steps done with pandas + scikit-learn (tiers_reference.py),
on generated logs and on the real Online Retail log (skipped where
../shared/data is absent)."""

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

import tiers_reference as ref

pd = pytest.importorskip("pandas")
sklearn_cluster = pytest.importorskip("sklearn.cluster")

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("STRATA_CLI", ROOT / "build" / "tools" / "strata"))
CSV = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail_slim.csv.gz"
TX = ["--customer", "/tx/customer_id", "--time", "/tx/day", "--amount", "/tx/amount"]


def strata(*args, check=True):
    p = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS="2"))
    if check and p.returncode:
        raise AssertionError(f"strata {' '.join(map(str, args))} -> {p.returncode}\n{p.stderr}")
    return p


def write_log(path, customer_id, day, amount):
    with h5py.File(path, "w") as f:
        f["/tx/customer_id"] = customer_id
        f["/tx/day"] = day
        f["/tx/amount"] = amount


def synthetic_log(n_customers=3000, seed=0):
    """Customers of three kinds (frequent big spenders, occasional, lapsed)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, n_customers, p=[0.2, 0.5, 0.3])
    orders = np.where(kind == 0, rng.poisson(20, n_customers),
                      np.where(kind == 1, rng.poisson(4, n_customers), rng.poisson(2, n_customers))) + 1
    last = np.where(kind == 2, rng.integers(200, 700, n_customers), rng.integers(0, 60, n_customers))
    ids, days, amounts = [], [], []
    for c in range(n_customers):
        first = last[c] + rng.integers(0, 400)
        d = 1000 - rng.integers(last[c], first + 1, orders[c])
        d[0] = 1000 - last[c]
        ids.append(np.full(orders[c], c + 100))
        days.append(d)
        scale = 80.0 if kind[c] == 0 else 25.0
        amounts.append(np.round(rng.gamma(2.0, scale, orders[c]), 2))
    return np.concatenate(ids), np.concatenate(days), np.concatenate(amounts)


def reference_pipeline(customer_id, day, amount, init, names):
    g, reference = ref.aggregate(customer_id, day, amount)
    feats = g[["recency", "frequency", "monetary"]]
    z, logs, centres, scales = ref.scale_auto(feats)
    km = sklearn_cluster.KMeans(len(init), init=init, n_init=1, algorithm="lloyd").fit(z)
    tier_of, _ = ref.tiers_of_clusters(km.cluster_centers_, ref.value_weights(feats.columns),
                                       len(names))
    stage = ref.lifecycle(g.first_day.to_numpy(), g.recency.to_numpy(), reference)
    return g, z, km, tier_of, stage


def check_against_reference(out, g, z, km, tier_of, stage):
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["/customer_id"][:], g.index.to_numpy())
        np.testing.assert_array_equal(f["/rfm/recency"][:], g.recency.to_numpy())
        np.testing.assert_array_equal(f["/rfm/frequency"][:], g.frequency.to_numpy())
        np.testing.assert_allclose(f["/rfm/monetary"][:], g.monetary.to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(f["/scaled"][:], z, rtol=1e-9, atol=1e-12)
        labels = f["/labels"][:]
        np.testing.assert_array_equal(labels, km.labels_)
        np.testing.assert_array_equal(f["/tier"][:], tier_of[km.labels_])
        np.testing.assert_array_equal(f["/stage"][:], stage)
        np.testing.assert_allclose(f["/model/centroids"][:], km.cluster_centers_, rtol=1e-9,
                                   atol=1e-12)
        return labels


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiers")
    cid, day, amount = synthetic_log()
    tx = tmp / "tx.h5"
    write_log(tx, cid, day, amount)
    return tmp, tx, (cid, day, amount)


def test_same_tiers_as_pandas_sklearn_from_the_same_start(synthetic):
    tmp, tx, (cid, day, amount) = synthetic
    g, _ = ref.aggregate(cid, day, amount)
    z = ref.scale_auto(g[["recency", "frequency", "monetary"]])[0]
    init = z[[5, 500, 1500, 2500]]
    with h5py.File(tmp / "init.h5", "w") as f:
        f["/c"] = init
    out = tmp / "same.h5"
    strata("tiers", tx, *TX, "-k", 4, "--init", f"{tmp / 'init.h5'}:/c", "-o", out)
    check_against_reference(out, *reference_pipeline(cid, day, amount, init, ["high", "mid", "low"]))
    with h5py.File(out, "r") as f:
        names = [s.decode() if isinstance(s, bytes) else s for s in f["/tier"].attrs["names"]]
        assert names == ["high", "mid", "low"]


def test_profiles_and_counts_match_pandas(synthetic):
    tmp, tx, _ = synthetic
    out = tmp / "prof.h5"
    strata("tiers", tx, *TX, "-k", 5, "--tiers", "gold,silver,bronze", "-o", out)
    with h5py.File(out, "r") as f:
        frame = pd.DataFrame({"recency": f["/rfm/recency"][:], "frequency": f["/rfm/frequency"][:],
                              "monetary": f["/rfm/monetary"][:]})
        labels, tier, stage = f["/labels"][:], f["/tier"][:], f["/stage"][:]
        for group, key in (("/profile", labels), ("/tier_profile", tier)):
            by = frame.groupby(key)
            np.testing.assert_array_equal(f[f"{group}/count"][:], by.size().to_numpy())
            np.testing.assert_allclose(f[f"{group}/mean"][:], by.mean().to_numpy(), rtol=1e-10)
            np.testing.assert_allclose(f[f"{group}/median"][:], by.median().to_numpy(), rtol=1e-10)
            np.testing.assert_allclose(f[f"{group}/p90"][:], by.quantile(0.9).to_numpy(),
                                       rtol=1e-10)
        np.testing.assert_array_equal(f["/tier_stage"][:],
                                      pd.crosstab(tier, stage).reindex(columns=range(4),
                                                                       fill_value=0).to_numpy())
        assert f["/tier_stage"][:].sum() == len(labels)
        # value ranking: the best tier's customers are more recent and spend more
        assert frame.monetary[tier == 0].mean() > frame.monetary[tier == 2].mean()
        assert frame.recency[tier == 0].mean() < frame.recency[tier == 2].mean()


def test_sweep_chooses_k_and_the_model_predicts_its_own_customers(synthetic):
    tmp, tx, _ = synthetic
    out = tmp / "sweep.h5"
    p = strata("tiers", tx, *TX, "-k", "2:7", "-o", out)
    assert "knee" in p.stdout
    with h5py.File(out, "r") as f:
        assert list(f["/sweep/k"][:]) == list(range(2, 8))
        k = f["/sweep"].attrs["suggested_k"]
        assert f["/model/centroids"].shape[0] == k
        assert f["/labels"][:].max() == k - 1
        x = np.column_stack([f["/rfm/recency"][:], f["/rfm/frequency"][:],
                             f["/rfm/monetary"][:]]).astype(np.float64)
        labels, tier = f["/labels"][:], f["/tier"][:]
    with h5py.File(tmp / "feat.h5", "w") as f:
        f["/x"] = x
    strata("predict", out, f"{tmp / 'feat.h5'}:/x", "-o", tmp / "pred.h5")
    with h5py.File(tmp / "pred.h5", "r") as f:
        np.testing.assert_array_equal(f["/labels"][:], labels)
        np.testing.assert_array_equal(f["/tier"][:], tier)


def test_bad_input_writes_nothing(synthetic):
    tmp, tx, _ = synthetic
    out = tmp / "bad.h5"
    p = strata("tiers", tx, "--customer", "/tx/nope", "--time", "/tx/day", "--amount",
               "/tx/amount", "-k", 3, "-o", out, check=False)
    assert p.returncode == 1 and "/tx/nope" in p.stderr and not out.exists()
    p = strata("tiers", tx, *TX, "-k", 2, "--tiers", "a,b,c", "-o", out, check=False)
    assert p.returncode != 0 and "tier" in p.stderr and not out.exists()
    p = strata("tiers", tx, *TX, "-k", "5:3", "-o", out, check=False)
    assert p.returncode == 2 and not out.exists()
    p = strata("tiers", tx, *TX, "-k", 3, "--features", "recency,color", "-o", out, check=False)
    assert p.returncode == 2 and "color" in p.stderr and not out.exists()
    p = strata("tiers", tx, *TX, "-k", 3, "-o", tx, "--force", check=False)
    assert p.returncode == 2 and tx.stat().st_size > 0  # never the input
    # nor the --init centroids' file: refused before the run (it failed at the write)
    with h5py.File(tmp / "init.h5", "w") as f:
        f["c"] = np.array([[1.0, 1, 1], [-1, -1, -1], [0, 0, 0]])
    before = (tmp / "init.h5").read_bytes()
    p = strata("tiers", tx, *TX, "-k", 3, "--init", f"{tmp}/init.h5:/c", "-o", tmp / "init.h5",
               "--force", "--progress", "json", check=False)
    assert p.returncode == 2 and "--init file" in p.stderr, p.stderr
    assert '"step":"read"' not in p.stderr and (tmp / "init.h5").read_bytes() == before


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    if not CSV.exists():
        pytest.skip(f"{CSV} is absent (the shared data folder ../shared/data is not here)")
    raw = pd.read_csv(CSV, dtype={"InvoiceNo": str, "StockCode": str, "Country": str},
                      parse_dates=["InvoiceDate"])
    cid = raw.CustomerID.astype(np.float64).to_numpy()
    day = raw.InvoiceDate.values.astype("datetime64[D]").astype(np.int64)
    amount = (raw.Quantity.astype(np.float64) * raw.UnitPrice.astype(np.float64)).to_numpy()
    tmp = tmp_path_factory.mktemp("retail")
    write_log(tmp / "retail.h5", cid, day, amount)
    return tmp, (cid, day, amount)


def test_online_retail_same_tiers_as_pandas_sklearn(retail):
    tmp, (cid, day, amount) = retail
    g, _ = ref.aggregate(cid, day, amount)
    assert len(g) == 4339  # ../shared/data/README.md
    z = ref.scale_auto(g[["recency", "frequency", "monetary"]])[0]
    init, _ = sklearn_cluster.kmeans_plusplus(z, 4, random_state=0)
    with h5py.File(tmp / "init.h5", "w") as f:
        f["/c"] = init
    out = tmp / "tiers.h5"
    strata("tiers", tmp / "retail.h5", *TX, "-k", 4, "--init", f"{tmp / 'init.h5'}:/c", "-o", out)
    check_against_reference(out, *reference_pipeline(cid, day, amount, init,
                                                     ["high", "mid", "low"]))
