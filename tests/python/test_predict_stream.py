"""strata predict --memory: a matrix input larger than the budget is read in
row blocks, each assigned and appended to OUT.h5 through the streamed writer,
and the file holds the same datasets and attributes as the loaded run's."""

import json
import os
import subprocess

import numpy as np
import pytest

import strata
from conftest import make_blobs, peak_of

h5py = pytest.importorskip("h5py")
pytestmark = pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI not set")
CLI = os.environ.get("STRATA_CLI", "")
MiB = 1 << 20


def run(*args, env=None):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def objects(path):
    """{name: (dtype, value or None for groups, attributes)} of every object
    but the root's time stamp "created"."""
    out = {}
    with h5py.File(path, "r") as f:
        def attrs(o):
            return {k: (o.attrs.get_id(k).dtype.str if o.attrs.get_id(k).dtype.kind != "O"
                        else "O", np.asarray(v).tolist()) for k, v in o.attrs.items()}
        root = attrs(f)
        root.pop("created")
        out["/"] = (None, None, root)

        def visit(name, o):
            if isinstance(o, h5py.Dataset):
                v = o[()]
                out[name] = (o.dtype.str, v.tobytes() if v.dtype.kind != "O" else v.tolist(),
                             attrs(o))
            else:
                out[name] = (None, None, attrs(o))
        f.visititems(visit)
    return out


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A 5-cluster tier model of 4 features and 200,000 rows to assign
    (beyond what a 34 MiB budget loads: 84 bytes a row)."""
    d = tmp_path_factory.mktemp("predict_stream")
    X, _, _ = make_blobs(200_000, 4, 5, seed=3)
    X[:, 1] = np.abs(X[:, 1]) * 3  # a log1p feature too
    tm = strata.TierModel(n_clusters=5, random_state=0).fit(X[:3000])
    tm.save(d / "m.h5")
    with h5py.File(d / "in.h5", "w") as f:
        f.create_dataset("f32", data=X.astype(np.float32), chunks=(5000, 4))  # chunked float32
        f["f64"] = X  # contiguous float64
    return d, tm, X


def brute_force(tm, X):
    """Nearest scaled centroid of each row (numpy), its tier."""
    z = tm.scale(X)
    c = tm.centroids_
    labels = np.argmin(((z[:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)
    return labels, np.asarray(tm.cluster_tier_)[labels]


@pytest.mark.parametrize("dataset", ["f32", "f64"])
def test_streamed_file_equals_loaded(model, tmp_path, dataset):
    d, tm, X = model
    src = f"{d}/in.h5:/{dataset}"
    loaded = run("predict", d / "m.h5", src, "-o", tmp_path / "loaded.h5")
    assert loaded.returncode == 0, loaded.stderr
    streamed = run("predict", d / "m.h5", src, "-o", tmp_path / "streamed.h5", "--memory", "34M",
                   "--progress", "json")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == loaded.stdout.replace("loaded.h5", "streamed.h5")  # tier counts
    # several blocks were read (READ after each): it streamed
    reads = [json.loads(l) for l in streamed.stderr.splitlines()]
    reads = [l["done"] for l in reads if l["step"] == "read"]
    assert reads[0] == 0 and reads[-1] == len(X) and len(reads) > 3 and reads == sorted(reads)
    a, b = objects(tmp_path / "loaded.h5"), objects(tmp_path / "streamed.h5")
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], name
    # against numpy: nearest scaled centroid of each row (as float64 values)
    rows = X.astype(np.float32).astype(np.float64) if dataset == "f32" else X
    labels, tiers = brute_force(tm, rows)
    with h5py.File(tmp_path / "streamed.h5") as f:
        np.testing.assert_array_equal(f["labels"][()], labels)
        np.testing.assert_array_equal(f["tier"][()], tiers)
        assert f.attrs["source"] == src and f.attrs["model"] == f"{d}/m.h5:/model"
    counts = np.bincount(tiers, minlength=3)
    assert [int(l.split()[-1]) for l in streamed.stdout.splitlines()[1:]] == list(counts)


def test_peak_under_budget(tmp_path):
    """2M x 8 float32 (64 MB; 128 MB as doubles): the loaded run peaks far
    above 48 MiB, the streamed one under it."""
    gen = run("gen", "blobs", "-o", tmp_path / "b.h5", "--n", 2_000_000, "--d", 8, "--k", 5,
              "--seed", 1)
    assert gen.returncode == 0, gen.stderr
    with h5py.File(tmp_path / "b.h5") as f:
        X = f["x"][:3000].astype(np.float64)
    strata.TierModel(n_clusters=5, random_state=0).fit(X).save(tmp_path / "m.h5")
    args = ("predict", tmp_path / "m.h5", f"{tmp_path}/b.h5:/x", "--force")
    status, loaded, err = peak_of(CLI, *args, "-o", tmp_path / "loaded.h5")
    assert status == 0, err
    status, streamed, err = peak_of(CLI, *args, "-o", tmp_path / "streamed.h5", "--memory", "48M")
    assert status == 0, err
    assert loaded > 150 * MiB and streamed < 48 * MiB, (loaded, streamed)
    with h5py.File(tmp_path / "loaded.h5") as a, h5py.File(tmp_path / "streamed.h5") as b:
        for name in ("labels", "tier"):
            np.testing.assert_array_equal(a[name][()], b[name][()])


def test_budget_too_small_names_the_least(model, tmp_path):
    d, _, _ = model
    args = ("predict", d / "m.h5", f"{d}/in.h5:/f64", "-o", tmp_path / "o.h5")
    p = run(*args, "--memory", "30M")
    assert p.returncode == 1 and not (tmp_path / "o.h5").exists()
    assert "a memory budget of 31457280 bytes is too small to predict 200000 x 4 rows" in p.stderr
    least = int(p.stderr.split("needs at least ")[1].split()[0])
    assert 30 * MiB < least < 34 * MiB
    assert run(*args, "--memory", least - 1).returncode == 1
    p = run(*args, "--memory", least)  # the least budget named is enough
    assert p.returncode == 0, p.stderr


def test_long_compressed_column_chunks_within_the_least_budget(model, tmp_path):
    """gzip chunks of one whole column each: a streamed read keeps the row of
    chunks a block is in inflated (four here), not the three chunks libhdf5
    decompresses at a time; the least budget named must hold them."""
    d, _, X = model
    with h5py.File(tmp_path / "cols.h5", "w") as f:
        f.create_dataset("x", data=X, chunks=(len(X), 1), compression="gzip")
    args = ("predict", d / "m.h5", f"{tmp_path}/cols.h5:/x", "--force")
    p = run(*args, "-o", tmp_path / "o.h5", "--memory", "30M")
    assert p.returncode == 1 and "compressed chunks" in p.stderr, p.stderr
    least = int(p.stderr.split("needs at least ")[1].split()[0])
    # what the reads hold is counted: the row of four inflated chunks at least
    held = int(p.stderr.split(" bytes of the file's compressed chunks")[0].split()[-1])
    assert held >= X.size * 8, (held, p.stderr)
    status, peak, err = peak_of(CLI, *args, "-o", tmp_path / "streamed.h5", "--memory", least)
    assert status == 0, err
    assert peak < least, (peak, least)
    assert run(*args, "-o", tmp_path / "loaded.h5").returncode == 0
    with h5py.File(tmp_path / "loaded.h5") as a, h5py.File(tmp_path / "streamed.h5") as b:
        for name in ("labels", "tier"):
            np.testing.assert_array_equal(a[name][()], b[name][()])


@pytest.mark.parametrize("value", ["abc", "-1", "12Q", "1.5.5G", ""])
def test_bad_memory_values(model, tmp_path, value):
    d, _, _ = model
    p = run("predict", d / "m.h5", f"{d}/in.h5:/f64", "-o", tmp_path / "o.h5", "--memory", value)
    assert p.returncode == 2, p.stderr
    assert "--memory must be a size in bytes >= 0" in p.stderr and f"got '{value}'" in p.stderr
    assert not (tmp_path / "o.h5").exists()


def test_memory_from_the_environment(model, tmp_path):
    d, _, _ = model
    args = ("predict", d / "m.h5", f"{d}/in.h5:/f64", "-o", tmp_path / "o.h5")
    p = run(*args, env={"STRATA_KMEANS_MEMORY": "junk"})
    assert p.returncode == 2 and "STRATA_KMEANS_MEMORY" in p.stderr
    p = run(*args, env={"STRATA_KMEANS_MEMORY": "30M"})
    assert p.returncode == 1 and "too small" in p.stderr
    # --memory wins over the environment
    p = run(*args, "--memory", "0", env={"STRATA_KMEANS_MEMORY": "30M"})
    assert p.returncode == 0, p.stderr


def test_table_input_with_memory_is_refused(model, tmp_path):
    d, _, X = model
    with h5py.File(tmp_path / "t.h5", "w") as f:
        for j in range(4):
            f[f"t/x{j}"] = X[:100, j]
    p = run("predict", d / "m.h5", tmp_path / "t.h5", "--table", "/t", "-o", tmp_path / "o.h5",
            "--memory", "1G")
    assert p.returncode == 2 and "matrix input" in p.stderr and "--table" in p.stderr, p.stderr
    p = run("predict", d / "m.h5", tmp_path / "t.h5", "--table", "/t", "-o", tmp_path / "o.h5")
    assert p.returncode == 0, p.stderr
    # a budget in the environment (set for the fits) does not stop it: it ran before --memory
    p = run("predict", d / "m.h5", tmp_path / "t.h5", "--table", "/t", "-o", tmp_path / "o.h5",
            "--force", env={"STRATA_KMEANS_MEMORY": "30M"})
    assert p.returncode == 0, p.stderr
    with h5py.File(tmp_path / "o.h5") as f:
        assert f["labels"].shape == (100,)


def test_failure_midway_leaves_no_file(model, tmp_path):
    """A NaN in a late block fails the streamed run after blocks were
    appended: OUT.h5 stays as it was (absent, or the old file with --force)
    and no temporary is left."""
    d, _, X = model
    bad = X.copy()
    bad[150_000, 2] = np.nan
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["x"] = bad
    out = tmp_path / "out" / "o.h5"
    out.parent.mkdir()
    args = ("predict", d / "m.h5", f"{tmp_path}/bad.h5:/x", "-o", out, "--memory", "34M")
    p = run(*args, "--progress", "json")
    lines = [json.loads(l) for l in p.stderr.splitlines()]
    assert p.returncode == 1 and lines[-1]["step"] == "error", p.stderr
    # the file's row, as the loaded run names it
    assert "feature 'x2' has a non-finite value (nan) in row 150000" in lines[-1]["message"]
    assert max(l["done"] for l in lines if l["step"] == "read") >= 100_000  # blocks written
    assert list(out.parent.iterdir()) == []
    out.write_bytes(b"old")
    p = run(*args, "--force")
    assert p.returncode == 1
    assert out.read_bytes() == b"old" and list(out.parent.iterdir()) == [out]
