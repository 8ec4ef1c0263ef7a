"""Cluster metrics and the k sweep (issue 11) against scikit-learn, brute force
and the strata program."""

import os
import subprocess

import numpy as np
import pytest

import strata
from conftest import make_blobs

sk = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")


def brute_silhouette(X, labels, squared):
    """O(n^2) silhouette straight from its definition (singletons count 0)."""
    X = np.asarray(X, np.float64)
    diff = X[:, None, :] - X[None, :, :]
    dist = (diff ** 2).sum(axis=2)
    if not squared:
        dist = np.sqrt(dist)
    values = []
    for i in range(len(X)):
        own = labels == labels[i]
        if own.sum() == 1:
            values.append(0.0)
            continue
        a = dist[i, own].sum() / (own.sum() - 1)
        b = min(dist[i, labels == c].mean() for c in np.unique(labels) if c != labels[i])
        values.append((b - a) / max(a, b) if max(a, b) > 0 else 0.0)
    return float(np.mean(values))


def brute_davies_bouldin(X, labels):
    """Davies-Bouldin from its definition, with direct differences (scikit-learn's
    distances, ||x||^2 - 2 x.c + ||c||^2, lose digits far from the origin)."""
    X = np.asarray(X, np.float64)
    names = np.unique(labels)
    cent = np.array([X[labels == c].mean(axis=0) for c in names])
    spread = np.array([np.linalg.norm(X[labels == c] - cent[i], axis=1).mean()
                       for i, c in enumerate(names)])
    gaps = np.linalg.norm(cent[:, None] - cent[None], axis=2)
    ratio = (spread[:, None] + spread[None]) / np.where(gaps == 0, np.inf, gaps)
    np.fill_diagonal(ratio, 0)
    return float(ratio.max(axis=1).mean())


def datasets():
    rng = np.random.default_rng(5)
    X, truth, _ = make_blobs(300, 3, 4)
    yield "blobs", X, truth
    yield "noise", rng.normal(size=(120, 5)), rng.integers(0, 6, 120)
    # singletons and an isolated far point
    Xs = rng.normal(size=(40, 2))
    ls = rng.integers(0, 3, 40)
    ls[[3, 17]] = [7, 8]
    yield "singletons", Xs, ls
    # duplicate rows, across and within clusters
    Xd = np.repeat(rng.normal(size=(15, 3)), 4, axis=0)
    yield "duplicates", Xd, rng.integers(0, 4, 60)
    # far from the origin: centring matters for the sums
    Xo = rng.normal(size=(200, 3)) + 1e6
    yield "offset", Xo, (Xo[:, 0] > 1e6).astype(int) + 2 * (Xo[:, 1] > 1e6)
    # labels that are strings
    yield "strings", X[:100], np.array(["hi", "mid", "low", "mid"] * 25)


@pytest.mark.parametrize("name,X,labels", list(datasets()), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_sklearn(name, X, labels, dtype):
    X = np.asarray(X, dtype)
    X64 = X.astype(np.float64)  # the library computes in double from the float32 values
    # scikit-learn's distances (||x||^2 - 2 x.y + ||y||^2) lose digits far from the
    # origin: there the references are the direct computations
    rtol = 1e-6 if name == "offset" else 1e-9
    assert strata.calinski_harabasz_score(X, labels) == pytest.approx(
        sk.calinski_harabasz_score(X64, labels), rel=rtol)
    labels = np.asarray(labels)
    assert strata.davies_bouldin_score(X, labels) == pytest.approx(
        brute_davies_bouldin(X64, labels), rel=1e-9)
    if name != "offset":
        assert strata.davies_bouldin_score(X, labels) == pytest.approx(
            sk.davies_bouldin_score(X64, labels), rel=1e-9)
    sil = strata.silhouette_score(X, labels)
    assert sil == pytest.approx(brute_silhouette(X64, labels, False), rel=1e-9, abs=1e-12)
    if name != "offset":
        assert sil == pytest.approx(sk.silhouette_score(X64, labels), rel=1e-9, abs=1e-12)
    sq = strata.silhouette_score(X, labels, metric="sqeuclidean")
    assert sq == pytest.approx(brute_silhouette(X64, np.asarray(labels), True), rel=1e-9, abs=1e-12)
    if name != "offset":
        assert sq == pytest.approx(sk.silhouette_score(X64, labels, metric="sqeuclidean"),
                                   rel=1e-7, abs=1e-9)


def test_euclidean_against_brute_force():
    X, labels = next(iter(datasets()))[1:]
    assert strata.silhouette_score(X, labels) == pytest.approx(
        brute_silhouette(X, labels, False), rel=1e-12)


def test_sample_is_sklearn_on_the_sampled_rows():
    X, truth, _ = make_blobs(2000, 4, 5)
    labels = np.arange(2000) % 3  # a poor labelling: a silhouette far from 1
    rows = strata.silhouette_sample_rows(2000, 300, 11)
    assert len(np.unique(rows)) == 300 and np.all(np.diff(rows) > 0)
    value = strata.silhouette_score(X, labels, sample_size=300, random_state=11)
    assert value == pytest.approx(sk.silhouette_score(X[rows], labels[rows]), rel=1e-12)
    for threads in (1, 2, 3):
        assert strata.silhouette_score(X, labels, sample_size=300, random_state=11,
                                       n_threads=threads) == value
    assert strata.silhouette_score(X, labels, sample_size=300, random_state=12) != value
    # a sample as large as the data is every row
    assert strata.silhouette_score(X[:500], labels[:500], sample_size=900, random_state=3) == \
        strata.silhouette_score(X[:500], labels[:500])


def test_thread_counts_bitwise():
    X, truth, _ = make_blobs(9000, 3, 6)
    for f in (strata.calinski_harabasz_score, strata.davies_bouldin_score,
              lambda X, l, n_threads: strata.silhouette_score(X, l, metric="sqeuclidean",
                                                              n_threads=n_threads)):
        values = {f(X, truth, n_threads=t) for t in (1, 2, 4)}
        assert len(values) == 1


def test_bad_inputs():
    X = np.arange(20.0).reshape(10, 2)
    labels = np.arange(10) % 2
    with pytest.raises(strata.ArgumentError, match="non-empty clusters"):
        strata.silhouette_score(X, np.zeros(10))
    with pytest.raises(strata.ArgumentError, match="non-empty clusters"):
        strata.calinski_harabasz_score(X, np.arange(10))
    with pytest.raises(strata.ArgumentError, match="labels must be"):
        strata.davies_bouldin_score(X, labels[:5])
    with pytest.raises(strata.ArgumentError, match="metric"):
        strata.silhouette_score(X, labels, metric="cosine")
    with pytest.raises(strata.ArgumentError, match="sample_size"):
        strata.silhouette_score(X, labels, sample_size=1, random_state=0)
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(strata.ArgumentError, match="row 7"):
        strata.calinski_harabasz_score(bad, labels)
    with pytest.raises(strata.ArgumentError, match="n >= 2"):
        strata.davies_bouldin_score(X[:1], labels[:1])


def test_sweep_finds_the_blobs():
    X, truth, _ = make_blobs(3000, 4, 6, seed=2)
    table, k = strata.sweep(X, k=range(2, 13), random_state=0, n_init=3)
    assert k == 6 and table.attrs["suggested_k"] == 6
    assert list(table.index) == list(range(2, 13)) and table.index.name == "k"
    assert list(table.columns) == ["inertia", "calinski_harabasz", "davies_bouldin",
                                   "silhouette_sqeuclidean", "silhouette"]
    assert table.attrs["sample_size"] == 3000
    assert table["silhouette"].idxmax() == 6
    assert table["calinski_harabasz"].idxmax() == 6
    # each row is what KMeans and the metric functions give for that k
    for kk in (3, 6, 9):
        km = strata.KMeans(kk, random_state=0, n_init=3).fit(X)
        row = table.loc[kk]
        assert row["inertia"] == km.inertia_
        assert row["calinski_harabasz"] == strata.calinski_harabasz_score(X, km.labels_)
        assert row["davies_bouldin"] == strata.davies_bouldin_score(X, km.labels_)
        assert row["silhouette"] == strata.silhouette_score(X, km.labels_)
        assert row["silhouette_sqeuclidean"] == pytest.approx(
            sk.silhouette_score(X, km.labels_, metric="sqeuclidean"), rel=1e-7)


def test_sweep_arguments():
    X, truth, _ = make_blobs(200, 2, 3)
    table, k = strata.sweep(X, k=(2, 3), random_state=1, sample_size=50)
    assert list(table.index) == [2, 3] and table.attrs["sample_size"] == 50
    assert k == table["silhouette_sqeuclidean"].idxmax()  # two k: no knee
    assert strata.sweep(X, k=[4, 5, 6], random_state=1)[0].index.tolist() == [4, 5, 6]
    for bad in (range(2, 10, 2), [2, 4], range(5, 5), "2:4"):
        with pytest.raises(strata.ArgumentError):
            strata.sweep(X, k=bad)
    with pytest.raises(strata.ArgumentError, match="n - 1"):
        strata.sweep(X, k=range(2, 201))
    with pytest.raises(strata.ArgumentError, match="centroids"):
        strata.sweep(X, k=range(2, 4), init=X[:2])
    with pytest.raises(strata.ArgumentError, match="n_clusters"):
        strata.sweep(X, n_clusters=3)


CLI = os.environ.get("STRATA_CLI")


@pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")
def test_cli_sweep(tmp_path):
    h5py = pytest.importorskip("h5py")
    X, truth, _ = make_blobs(1500, 3, 5, seed=4)
    src = tmp_path / "in.h5"
    with h5py.File(src, "w") as f:
        f["/customers/x"] = X
    out = tmp_path / "sweep.h5"
    args = [CLI, "sweep", f"{src}:/customers/x", "-k", "2:9", "-o", str(out), "--sample", "400",
            "--seed", "3", "--threads", "2", "--n-init", "2"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "suggested k = 5" in run.stdout
    table, k = strata.sweep(X, k=range(2, 10), random_state=3, n_init=2, sample_size=400)
    with h5py.File(out, "r") as f:
        g = f["/sweep"]
        assert g.attrs["suggested_k"] == k == 5
        assert g.attrs["sample_size"] == 400
        assert list(g["k"][:]) == list(range(2, 10))
        for name in table.columns:
            np.testing.assert_array_equal(g[name][:], table[name].to_numpy())
        assert f.attrs["source"] == f"{src}:/customers/x"
    # an existing output is kept without --force; bad ranges are usage errors
    before = out.read_bytes()
    assert subprocess.run(args, capture_output=True, timeout=120).returncode == 3
    assert out.read_bytes() == before
    assert subprocess.run(args + ["--force"], capture_output=True, timeout=120).returncode == 0
    for k_arg in ("1:4", "5:3", "4", "2:1500", "a:b"):
        bad = subprocess.run([CLI, "sweep", f"{src}:/customers/x", "-k", k_arg],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2, (k_arg, bad.stderr)
        assert "-k" in bad.stderr
    same = subprocess.run([CLI, "sweep", f"{src}:/customers/x", "-k", "2:3", "-o", str(src),
                           "--force"], capture_output=True, text=True, timeout=60)
    assert same.returncode == 2 and h5py.is_hdf5(src)
