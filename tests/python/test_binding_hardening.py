"""Misuse of the binding that used to crash, give wrong results or raise bare
Python errors: each case now raises a strata error naming the problem, or works."""

import copy
import gc
import pickle
import sys

import numpy as np
import pytest

import strata

pd = pytest.importorskip("pandas")


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(60, 4))


# -- KMeans centroids: pickling and assignment --------------------------------

@pytest.mark.parametrize("convert", [np.asfortranarray, lambda c: c.astype(np.float32)],
                         ids=["fortran", "float32"])
def test_unpickle_converts_centres(X, convert):
    """The centres go to strata_kmeans_set_model as C-order float64 whatever
    their layout (float32 used to be read as doubles past the buffer's end,
    Fortran order as transposed centroids)."""
    km = strata.KMeans(3, random_state=0).fit(X)
    ref, centres = km.predict(X), km.cluster_centers_
    state = km.__getstate__()
    state["cluster_centers_"] = convert(centres)
    copy_ = strata.KMeans.__new__(strata.KMeans)
    copy_.__setstate__(state)
    assert (copy_.predict(X) == ref).all()
    np.testing.assert_allclose(copy_.cluster_centers_, centres, rtol=1e-6)
    assert copy_.cluster_centers_.dtype == np.float64


@pytest.mark.parametrize("bad, match", [(np.zeros((3, 5)), "shape"), (np.zeros(4), "shape"),
                                        (np.full((3, 4), np.nan), "finite"),
                                        (np.array([["a"] * 4] * 3), "numbers")])
def test_unpickle_checks_centres(X, bad, match):
    state = strata.KMeans(3, random_state=0).fit(X).__getstate__()
    state["cluster_centers_"] = bad
    with pytest.raises(strata.ArgumentError, match=match):
        strata.KMeans.__new__(strata.KMeans).__setstate__(state)


def test_assigned_centres_are_the_model(X):
    """predict, transform, score and pickling all use cluster_centers_: an
    assignment replaces the model's centroids (as in scikit-learn)."""
    km = strata.KMeans(3, random_state=0).fit(X)
    before = km.predict(X)
    km.cluster_centers_ = km.cluster_centers_[[2, 0, 1]]  # relabel
    after = km.predict(X)
    assert (after == np.array([1, 2, 0])[before]).all()
    assert (pickle.loads(pickle.dumps(km)).predict(X) == after).all()
    assert (copy.deepcopy(km).predict(X) == after).all()
    with pytest.raises(ValueError, match="read-only"):  # an in-place edit could not reach it
        km.cluster_centers_[0, 0] = 1.0
    with pytest.raises(strata.StateError):  # no training rows any more
        km.write_h5("unused.h5")
    with pytest.raises(strata.ArgumentError, match=r"shape \(n_clusters, 4\)"):
        km.cluster_centers_ = np.zeros((3, 2))


def test_assigned_centres_are_copied(X):
    km = strata.KMeans(3, random_state=0).fit(X)
    mine = np.array(km.cluster_centers_)
    km.cluster_centers_ = mine
    mine[:] = 0  # the caller's array stays writable and is not the model
    assert mine.flags.writeable and not (km.cluster_centers_ == 0).all()


# -- row keys ---------------------------------------------------------------

def test_uint64_key_beyond_int64_is_refused(X):
    idx = pd.Index(np.array([2**64 - 1 - i for i in range(60)], np.uint64), name="customer_id")
    with pytest.raises(strata.ArgumentError, match="customer_id.*18446744073709551615.*int64"):
        strata.KMeans(2, random_state=0).fit(pd.DataFrame(X, columns=list("abcd"), index=idx))


def test_uint64_key_within_int64_is_exact(X, tmp_path):
    h5py = pytest.importorskip("h5py")
    ids = np.array([2**63 - 1 - i for i in range(60)], np.uint64)
    df = pd.DataFrame(X, columns=list("abcd"), index=pd.Index(ids, name="customer_id"))
    strata.KMeans(2, random_state=0).fit(df).write_h5(tmp_path / "k.h5")
    with h5py.File(tmp_path / "k.h5") as f:
        assert f["customer_id"][:].astype(np.uint64).tolist() == ids.tolist()


# -- feature names ----------------------------------------------------------

@pytest.fixture
def rfm_frame():
    rng = np.random.default_rng(1)
    return pd.DataFrame({"recency": rng.integers(1, 300, 200).astype(float),
                         "frequency": rng.integers(1, 20, 200).astype(float),
                         "monetary": rng.gamma(2, 50, 200)})


def test_tiermodel_takes_columns_by_name(rfm_frame):
    tm = strata.TierModel(tier_names="high,mid,low", n_clusters=4, random_state=0).fit(rfm_frame)
    other = rfm_frame[["monetary", "recency", "frequency"]]
    assert (tm.predict(other) == tm.predict(rfm_frame)).all()
    assert (tm.predict_labels(other) == tm.labels_).all()
    np.testing.assert_array_equal(tm.scale(other), tm.scale(rfm_frame))
    assert (tm.predict(rfm_frame.to_numpy()) == tm.tiers_).all()  # arrays: by position


@pytest.mark.parametrize("columns, match", [
    ({"recency": "foo"}, "missing \\['recency'\\]; unknown \\['foo'\\]"),
])
def test_tiermodel_refuses_other_names(rfm_frame, columns, match):
    tm = strata.TierModel(n_clusters=3, random_state=0).fit(rfm_frame)
    for call in (tm.predict, tm.predict_labels, tm.scale):
        with pytest.raises(strata.ArgumentError, match=match):
            call(rfm_frame.rename(columns=columns))
    with pytest.raises(strata.ArgumentError, match="unknown \\['extra'\\]"):
        tm.predict(rfm_frame.assign(extra=1.0))


def test_loaded_tiermodel_takes_columns_by_name(rfm_frame, tmp_path):
    tm = strata.TierModel(n_clusters=3, random_state=0).fit(rfm_frame)
    tm.save(tmp_path / "m.h5")
    loaded = strata.load_model(tmp_path / "m.h5")
    other = rfm_frame[["frequency", "monetary", "recency"]]
    assert (loaded.predict(other) == tm.tiers_).all()


def test_kmeans_score_checks_feature_names(X):
    df = pd.DataFrame(X, columns=list("abcd"))
    km = strata.KMeans(2, random_state=0).fit(df)
    with pytest.raises(strata.ArgumentError, match="feature names"):
        km.score(df[list("dcba")])
    assert km.score(df) == pytest.approx(-km.inertia_)


# -- DataFrame dtypes -------------------------------------------------------

def _frames(X):
    na = pd.DataFrame(X[:, :2], columns=["a", "b"]).astype("Float64")
    na.iloc[3, 0] = pd.NA
    return {"string": (pd.DataFrame({"a": X[:, 0], "s": ["x"] * 60}), strata.DTypeError, "'s'"),
            "datetime": (pd.DataFrame({"a": X[:, 0], "t": pd.date_range("2020", periods=60)}),
                         strata.DTypeError, "'t'.*datetime64"),
            "category": (pd.DataFrame({"a": X[:, 0], "c": pd.Categorical(["u", "v"] * 30)}),
                         strata.DTypeError, "'c'.*string"),
            "pd.NA": (na, strata.ArgumentError, "row 3")}


@pytest.mark.parametrize("case", ["string", "datetime", "category", "pd.NA"])
def test_frame_dtypes_raise_strata_errors(X, case):
    df, cls, match = _frames(X)[case]
    for fit in (strata.KMeans(2).fit, strata.TierModel(n_clusters=2).fit):
        with pytest.raises(cls, match=match):
            fit(df)
    tm = strata.TierModel(n_clusters=2, random_state=0).fit(X[:, :2])
    with pytest.raises(cls, match=match):
        tm.predict(df)


def test_frame_of_nullable_numbers_is_read(X):
    ref = strata.KMeans(2, random_state=0).fit(X[:, :2]).labels_
    df = pd.DataFrame(X[:, :2], columns=["a", "b"])
    for frame in (df.astype("Float64"), df.astype({"b": "category"}),
                  df.assign(b=df.b.astype(object))):
        assert (strata.KMeans(2, random_state=0).fit(frame).labels_ == ref).all()


# -- argument checks ----------------------------------------------------------

LOG = ([1, 2, 3, 1, 2], [1, 2, 3, 4, 5], [1., 2, 3, 4, 5])


@pytest.mark.parametrize("bounds", [(1, 2**32 + 3), (1.9, 2.9), "12", (1, 2, 3), (True, 2)])
def test_rfm_segment_bounds_are_checked(bounds):
    with pytest.raises(strata.ArgumentError, match="'r' range must be a \\(lo, hi\\) pair"):
        strata.rfm(*LOG, bins=2, segments=[("a", {"r": bounds}), ("b", {})])
    rules = strata.rfm(*LOG, bins=2, segments=[("a", {"r": (np.int64(1), 2)}), ("b", {})])
    assert rules.segment_rules[0][:2].tolist() == [1, 2]


def test_tiermodel_transform_is_checked(X):
    df = pd.DataFrame(X[:, :3], columns=list("abc"))
    for transform, match in ((["zscore"], "one transform per feature \\(3"),
                             ({"nope": "zscore"}, "unknown feature 'nope'"),
                             ({5: "zscore"}, "index in \\[0, 3\\)"),
                             ({-1: "zscore"}, "index in \\[0, 3\\)")):
        with pytest.raises(strata.ArgumentError, match=match):
            strata.TierModel(n_clusters=2, transform=transform).fit(df)
    tm = strata.TierModel(n_clusters=2, transform=["zscore", "none", "minmax"], random_state=0)
    assert tm.fit(df).transforms_ == ["zscore", "none", "minmax"]


@pytest.mark.parametrize("n_tiers", ["x", 0, -1, 1.5, True])
def test_tiermodel_n_tiers_is_checked(X, n_tiers):
    with pytest.raises(strata.ArgumentError, match="n_tiers must be an int >= 1"):
        strata.TierModel(n_clusters=2, n_tiers=n_tiers).fit(X)


@pytest.mark.parametrize("weights, match", [
    (-np.ones(60), "row 0 is -1"), (np.r_[np.ones(5), np.nan, np.ones(54)], "row 5 is nan"),
    (np.r_[np.inf, np.ones(59)], "row 0 is inf")])
def test_score_weights_are_checked_as_fit(X, weights, match):
    km = strata.KMeans(2, random_state=0).fit(X)
    with pytest.raises(strata.ArgumentError, match=match) as info:
        km.score(X, sample_weight=weights)
    assert info.value.code == -104
    assert km.score(X, sample_weight=np.zeros(60)) == 0


def test_nul_in_names_is_refused(X, tmp_path):
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.KMeans(2).fit(pd.DataFrame(X[:, :3], columns=["a", "b\0junk", "c"]))
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.KMeans(2).fit(pd.DataFrame(X[:, :1], columns=["a"],
                                          index=pd.Index(range(60), name="id\0x")))
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.rfm(*LOG, bins=2, segments=[("vip\0x", {})])
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.TierModel(n_clusters=2, tier_names=["a\0z", "b"]).fit(X)
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.TierModel(n_clusters=2).fit(pd.DataFrame(X[:, :2], columns=["a", "b\0c"]))
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.read_frame(tmp_path / "none.h5", columns=["/v\0junk"])
    with pytest.raises(strata.ArgumentError, match="NUL"):
        strata.read_frame(tmp_path / "none.h5", columns=["/v"], key="id\0x")
    # the file readers of RFM, CLV and saved models: the path, a dataset
    # name or the spill folder was cut at the NUL (log.h5 read for
    # "log.h5\0other", "/customer_id" for "/customer_id\0bogus")
    h5py = pytest.importorskip("h5py")
    log = tmp_path / "log.h5"
    with h5py.File(log, "w") as f:
        f["customer_id"], f["day"], f["amount"] = [1, 2, 1], [10, 11, 12], [1.0, 2.0, 3.0]
    strata.rfm_h5(log, bins=2)  # the file reads
    for kwargs in (dict(path=f"{log}\0other"), dict(path=log, customer_id="customer_id\0x"),
                   dict(path=log, memory=25 << 20, tmpdir=f"{tmp_path}\0/no/such")):
        with pytest.raises(strata.ArgumentError, match="null character"):
            strata.rfm_h5(bins=2, **kwargs)
    with pytest.raises(strata.ArgumentError, match="null character"):
        strata.CLV(11).fit_h5(f"{log}\0other", "customer_id", "day", "amount")
    with pytest.raises(strata.ArgumentError, match="null character"):
        strata.load_model(f"{log}\0other")


def test_bad_arguments_name_themselves(X, tmp_path):
    with pytest.raises(strata.ArgumentError, match="bins must be an int"):
        strata.rfm(*LOG, bins=None)
    with pytest.raises(strata.ArgumentError, match="source must be a str"):
        strata.KMeans(2, random_state=0).fit(X).write_h5(tmp_path / "k.h5", source=5)
    with pytest.raises(strata.ArgumentError, match="unexpected keyword argument 'foo'"):
        strata.tiers(*LOG, k=2, foo=1)


# -- objects holding library handles ----------------------------------------------

def test_handle_holders_refuse_copies(monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    model = strata.CLV(4).fit([1, 2, 1, 3, 2, 1], [1, 2, 3, 4, 5, 6], [1., 2, 3, 4, 5, 6])
    result = strata.tiers(LOG[0] * 3, LOG[1] * 3, LOG[2] * 3, k=2)
    for obj in (model, result):
        for how in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError, match="cannot be pickled or copied"):
                how(obj)
    gc.collect()
    assert unraisable == []  # no "Exception ignored in __del__" of a half-built copy
    unfitted = copy.deepcopy(strata.CLV(4, period="days"))  # parameters alone copy
    assert unfitted.get_params()["period"] == "days"
