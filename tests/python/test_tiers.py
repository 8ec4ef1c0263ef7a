"""Tier models (issue 11): scaling against numpy, tiers, save/load, CLI predict."""

import os
import subprocess

import numpy as np
import pytest

import strata


def _data(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.exponential(40, n), rng.poisson(4, n) + 1.0,
                            rng.lognormal(5, 1, n), rng.normal(0, 3, n)])


def _skew(v):
    e = v - v.mean()
    return (e ** 3).mean() / (e ** 2).mean() ** 1.5


@pytest.mark.parametrize("transform", ["zscore", "robust", "minmax", "log1p+zscore",
                                       "log1p+robust", "log1p+minmax", "none", "auto"])
def test_scaling_against_numpy(transform):
    X = _data()
    if "log1p" in transform:
        X[:, 3] = np.abs(X[:, 3])
    tm = strata.TierModel(transform=transform, n_clusters=4, random_state=1).fit(X)
    for j in range(X.shape[1]):
        name = tm.transforms_[j]
        if transform == "auto":
            want = "log1p+zscore" if X[:, j].min() >= 0 and _skew(X[:, j]) > 1 else "zscore"
            assert name == want
        v = np.log1p(X[:, j]) if name.startswith("log1p") else X[:, j]
        base = name.split("+")[-1]
        if base == "zscore":
            c, s = v.mean(), v.std()
        elif base == "robust":
            p25, c, p75 = np.percentile(v, [25, 50, 75])
            s = p75 - p25
        elif base == "minmax":
            c, s = v.min(), v.max() - v.min()
        else:
            c, s = 0.0, 1.0
        np.testing.assert_allclose(tm.center_[j], c, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(tm.scale_[j], s, rtol=1e-13)
        # the scaled rows are (t(x) - center) / scale with the model's parameters:
        # bitwise, but numpy's log1p may differ from the C library's in the last bit
        want = (v - tm.center_[j]) / tm.scale_[j]
        if name.startswith("log1p"):
            np.testing.assert_allclose(tm.scale(X)[:, j], want, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(tm.scale(X)[:, j], want)
    # original-unit centroids: the inverse transform of the scaled ones
    for j, name in enumerate(tm.transforms_):
        z = tm.centroids_[:, j] * tm.scale_[j] + tm.center_[j]
        if name.startswith("log1p"):  # numpy's expm1: the last bit may differ
            np.testing.assert_allclose(tm.centroids_original_[:, j], np.expm1(z), rtol=1e-14)
        else:
            np.testing.assert_array_equal(tm.centroids_original_[:, j], z)


def test_kmeans_runs_on_the_scaled_rows():
    X = _data()
    tm = strata.TierModel(n_clusters=4, random_state=5).fit(X)
    km = strata.KMeans(n_clusters=4, random_state=5).fit(tm.scale(X))
    np.testing.assert_array_equal(tm.labels_, km.labels_)
    np.testing.assert_array_equal(tm.centroids_, km.cluster_centers_)


def test_tiers_and_dataframe():
    pd = pytest.importorskip("pandas")
    X = _data()
    df = pd.DataFrame(X, columns=["recency", "frequency", "monetary", "other"])
    tm = strata.TierModel(tier_names=["gold", "silver"], n_clusters=5, random_state=0).fit(df)
    assert tm.tier_names_ == ["gold", "silver"]
    assert list(tm.centroids_original_.columns) == list(df.columns)
    np.testing.assert_array_equal(tm.value_weights_, [-1, 1, 1, 1])
    score = tm.centroids_.to_numpy() @ tm.value_weights_
    np.testing.assert_allclose(tm.value_score_, score, rtol=1e-14)
    order = sorted(range(5), key=lambda j: (-tm.value_score_[j], j))
    assert [tm.cluster_tier_[j] for j in order] == [0, 0, 1, 1, 1]  # 2 + 3: extra goes low
    np.testing.assert_array_equal(tm.tiers_, tm.cluster_tier_[tm.labels_])


def test_save_load_bitwise(tmp_path):
    X = _data()
    tm = strata.TierModel(n_clusters=6, random_state=2).fit(X)
    tm.save(tmp_path / "m.h5")
    loaded = strata.load_model(tmp_path / "m.h5")
    new = _data(300, seed=9)
    np.testing.assert_array_equal(loaded.predict(new), tm.predict(new))
    np.testing.assert_array_equal(loaded.predict_labels(new), tm.predict_labels(new))
    np.testing.assert_array_equal(loaded.centroids_original_, tm.centroids_original_)
    alone = [loaded.predict_labels(new[i:i + 1])[0] for i in range(len(new))]
    np.testing.assert_array_equal(alone, tm.predict_labels(new))
    with pytest.raises(strata.OutputExistsError):
        tm.save(tmp_path / "m.h5")


def test_loaded_model_never_replaces_its_file(tmp_path):
    """A model read from a file (say a strata tiers output holding the
    customers' labels, RFM table and profiles too) saved with force=True to
    that same path replaced the whole file by the model alone: the C API's
    strata_model_write_h5 / _write_tiers_h5 / _predict_h5 did so silently.
    A handle never replaces a file it read; any other path is written."""
    X = _data()
    path = tmp_path / "tiers.h5"
    strata.TierModel(n_clusters=4, random_state=2).fit(X).save(path)
    import h5py
    with h5py.File(path, "a") as f:
        f["customer_id"] = np.arange(10)  # what else the file holds
    before = path.read_bytes()
    loaded = strata.load_model(path)
    link = tmp_path / "link.h5"
    os.link(path, link)
    for target in (path, link):
        with pytest.raises(strata.FileError, match="the file the model was read from"):
            loaded.save(target, force=True)
    assert path.read_bytes() == before
    loaded.save(tmp_path / "copy.h5")
    np.testing.assert_array_equal(strata.load_model(tmp_path / "copy.h5").predict(X),
                                  loaded.predict(X))


def test_load_damaged(tmp_path):
    h5py = pytest.importorskip("h5py")
    X = _data()
    strata.TierModel(n_clusters=3, random_state=0).fit(X).save(tmp_path / "m.h5")
    cases = {"scale": lambda g: g["scale"].__setitem__(0, 0.0),
             "centroids": lambda g: g["centroids"].__setitem__((0, 0), np.nan),
             "transform": lambda g: g["transform"].__setitem__(1, 99),
             "cluster_tier": lambda g: g["cluster_tier"].__setitem__(0, 7),
             "feature_names": lambda g: g.__delitem__("feature_names")}

    def tier_names(names):
        def damage(g):
            del g["tier_names"]
            g["tier_names"] = np.array(names, dtype=h5py.string_dtype())
        return damage
    # the tier names, read once, checked for their count and each name
    cases.update({"tier_names holds 4 names, expected 1 to min": tier_names(list("abcd")),
                  "tier_names repeats the name 'a'": tier_names(["a", "b", "a"]),
                  "tier_names name 1 is empty": tier_names(["a", "", "c"])})
    for what, damage in cases.items():
        path = tmp_path / f"bad_{sorted(cases).index(what)}.h5"
        with open(tmp_path / "m.h5", "rb") as src, open(path, "wb") as dst:
            dst.write(src.read())
        with h5py.File(path, "r+") as f:
            damage(f["model"])
        with pytest.raises(strata.Error, match=what):
            strata.load_model(path)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_group("model")
    with pytest.raises(strata.Error, match="not a strata model"):
        strata.load_model(tmp_path / "other.h5")


def test_bad_transform_domain():
    X = _data()
    X[3, 3] = -2.0
    with pytest.raises(strata.ArgumentError, match="'x3'"):
        strata.TierModel(transform="log1p+zscore", n_clusters=2).fit(X)


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI not set")
def test_cli_predict(tmp_path):
    h5py = pytest.importorskip("h5py")
    X = _data()
    tm = strata.TierModel(n_clusters=4, random_state=0).fit(X)
    tm.save(tmp_path / "m.h5")
    new = _data(200, seed=3)
    with h5py.File(tmp_path / "in.h5", "w") as f:
        f["rows"] = new
    cli = os.environ["STRATA_CLI"]
    run = subprocess.run([cli, "predict", str(tmp_path / "m.h5"), f"{tmp_path}/in.h5:/rows",
                          "-o", str(tmp_path / "out.h5")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    with h5py.File(tmp_path / "out.h5", "r") as f:
        np.testing.assert_array_equal(f["tier"][:], tm.predict(new))
        np.testing.assert_array_equal(f["labels"][:], tm.predict_labels(new))
        assert [s.decode() if isinstance(s, bytes) else s for s in f["tier"].attrs["names"]] == \
            ["high", "mid", "low"]
    # the output holds a /model group: it is itself a model file
    again = strata.load_model(tmp_path / "out.h5")
    np.testing.assert_array_equal(again.predict(new), tm.predict(new))
    run = subprocess.run([cli, "predict", str(tmp_path / "m.h5"), f"{tmp_path}/in.h5:/rows",
                          "-o", str(tmp_path / "out.h5")], capture_output=True, text=True)
    assert run.returncode == 3


def test_pickle_predicts_bitwise_and_saves(tmp_path):
    import copy
    import pickle
    pd = pytest.importorskip("pandas")
    X = _data()
    df = pd.DataFrame(X, columns=["recency", "frequency", "monetary", "other"])
    tm = strata.TierModel(tier_names="gold,silver,bronze", n_clusters=6, random_state=4).fit(df)
    new = pd.DataFrame(_data(300, seed=8), columns=df.columns)
    for clone in (pickle.loads(pickle.dumps(tm)), copy.deepcopy(tm)):
        assert clone._m is not tm._m
        np.testing.assert_array_equal(clone.predict(new), tm.predict(new))
        np.testing.assert_array_equal(clone.predict_labels(new), tm.predict_labels(new))
        np.testing.assert_array_equal(clone.labels_, tm.labels_)  # the training rows' too
        np.testing.assert_array_equal(clone.tiers_, tm.tiers_)
        pd.testing.assert_frame_equal(clone.centroids_original_, tm.centroids_original_)
        assert clone.tier_names_ == ["gold", "silver", "bronze"]
        assert clone.transforms_ == tm.transforms_ and clone.feature_names_in_ == list(df.columns)
        assert clone.kmeans_params == tm.kmeans_params
    clone.save(tmp_path / "c.h5")
    np.testing.assert_array_equal(strata.load_model(tmp_path / "c.h5").predict(new),
                                  tm.predict(new))
    # unfitted: parameters only; loaded models pickle too
    fresh = pickle.loads(pickle.dumps(strata.TierModel(n_tiers=2, n_clusters=3)))
    with pytest.raises(strata.NotFittedError):
        fresh.predict(X)
    np.testing.assert_array_equal(fresh.fit(X).tiers_.max(), 1)
    loaded = pickle.loads(pickle.dumps(strata.load_model(tmp_path / "c.h5")))
    np.testing.assert_array_equal(loaded.predict(new), tm.predict(new))
    assert not hasattr(loaded, "labels_")


def test_sample_weight_is_weighted_kmeans_from_the_same_start():
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    X = _data(400, seed=3)
    w = np.random.default_rng(1).integers(0, 4, len(X)).astype(np.float64)
    z = (X - X.mean(axis=0)) / X.std(axis=0)  # zscore is fitted without the weights
    init = z[[3, 50, 120, 300]]
    tm = strata.TierModel(transform="zscore", n_clusters=4, init=init, n_init=1,
                          algorithm="lloyd", tol=0.0).fit(X, sample_weight=w)
    np.testing.assert_allclose(tm.scale(X), z, rtol=1e-12, atol=1e-12)
    ref = sklearn_cluster.KMeans(4, init=init, n_init=1, algorithm="lloyd", tol=0.0,
                                 max_iter=300).fit(z, sample_weight=w)
    np.testing.assert_array_equal(tm.labels_, ref.labels_)
    np.testing.assert_allclose(tm.centroids_, ref.cluster_centers_, rtol=1e-10, atol=1e-12)
    # integer weights: the same centroids as the rows repeated w times, unweighted
    rep = sklearn_cluster.KMeans(4, init=init, n_init=1, algorithm="lloyd", tol=0.0).fit(
        np.repeat(z, w.astype(int), axis=0))
    np.testing.assert_allclose(tm.centroids_, rep.cluster_centers_, rtol=1e-10, atol=1e-12)
    # and they differ from the unweighted fit
    plain = strata.TierModel(transform="zscore", n_clusters=4, init=init, n_init=1,
                             algorithm="lloyd", tol=0.0).fit(X)
    assert not np.allclose(plain.centroids_, tm.centroids_)


@pytest.mark.parametrize("weights, words", [
    (np.ones(10), "shape"), (-np.ones(500), "weight"), (np.zeros(500), "weight"),
    (np.full(500, np.nan), "weight")])
def test_bad_sample_weight(weights, words):
    with pytest.raises(strata.ArgumentError, match=words):
        strata.TierModel(n_clusters=3, random_state=0).fit(_data(), sample_weight=weights)
