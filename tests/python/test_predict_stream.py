"""strata predict --memory: an input larger than the budget (a matrix, or a
table's columns) is read in row blocks, each assigned and appended to OUT.h5
through the streamed writer, and the file holds the same datasets and
attributes as the loaded run's."""

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


def same_files_streamed(streamed, tmp_path, n):
    """The streamed run read several blocks (READ after each, up to n) and
    wrote tmp_path/streamed.h5 equal to tmp_path/loaded.h5 (every object,
    value and attribute but the time stamp)."""
    reads = [json.loads(l) for l in streamed.stderr.splitlines()]
    reads = [l["done"] for l in reads if l["step"] == "read"]
    assert reads[0] == 0 and reads[-1] == n and len(reads) > 3 and reads == sorted(reads)
    a, b = objects(tmp_path / "loaded.h5"), objects(tmp_path / "streamed.h5")
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], name


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
    same_files_streamed(streamed, tmp_path, len(X))
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


def write_table(path, X, layout, key=None, extra=None):
    """X's columns x0..x{d-1} (the model's feature names), in reverse order,
    an unused column 'extra' and the row key customer_id, as a group of 1-D
    datasets (/t) or a compound dataset (/c)."""
    cols = {f"x{j}": X[:, j] for j in reversed(range(X.shape[1]))}
    if extra is not None:
        cols["extra"] = extra
    if key is not None:
        cols["customer_id"] = key
    with h5py.File(path, "w") as f:
        if layout == "group":
            for name, v in cols.items():
                f.create_dataset(f"t/{name}", data=v, chunks=(min(7000, len(v)),))
        else:
            rec = np.empty(len(X), dtype=[(n, v.dtype) for n, v in cols.items()])
            for name, v in cols.items():
                rec[name] = v
            f.create_dataset("c", data=rec, chunks=(min(6000, len(rec)),), compression="gzip")


@pytest.fixture(scope="module")
def table(model):
    """The model's rows as tables: keyed (shuffled distinct ids) group and
    compound layouts, an unused float32 column; 200,000 rows (136 bytes a
    row loaded: beyond what 48 MiB loads)."""
    d, _, X = model
    rng = np.random.default_rng(5)
    key = rng.permutation(10 * len(X))[:len(X)].astype(np.int64) - 7
    extra = rng.normal(size=len(X)).astype(np.float32)
    for layout in ("group", "compound"):
        write_table(d / f"{layout}.h5", X, layout, key, extra)
    return d, key


TABLE_INPUTS = {
    "group": ("group.h5", "--table", "/t"),
    "compound": ("compound.h5", "--table", "/c"),
    "features": ("group.h5", "--table", "/t", "--features", "x3,extra,x0,x1,x2"),
    "columns": ("group.h5", "--columns", "/t/x0,/t/x1,/t/x2,/t/x3", "--key", "/t/customer_id"),
    "no key": ("group.h5", "--table", "/t", "--key", "none"),
}


@pytest.mark.parametrize("form", list(TABLE_INPUTS))
def test_table_streamed_file_equals_loaded(model, table, tmp_path, form):
    """A --table / --columns input under a budget it does not fit streams in
    row blocks: the file is the loaded run's (datasets, attributes), the key
    written as /customer_id, the tiers numpy's nearest centroid."""
    d, tm, X = model
    _, key = table
    file, *opts = TABLE_INPUTS[form]
    args = ("predict", d / "m.h5", d / file, *opts)
    loaded = run(*args, "-o", tmp_path / "loaded.h5")
    assert loaded.returncode == 0, loaded.stderr
    streamed = run(*args, "-o", tmp_path / "streamed.h5", "--memory", "48M", "--progress", "json")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == loaded.stdout.replace("loaded.h5", "streamed.h5")
    assert streamed.stdout.startswith(f"{len(X)} rows -> ")
    same_files_streamed(streamed, tmp_path, len(X))
    labels, tiers = brute_force(tm, X)
    with h5py.File(tmp_path / "streamed.h5") as f:
        np.testing.assert_array_equal(f["labels"][()], labels)
        np.testing.assert_array_equal(f["tier"][()], tiers)
        if form == "no key":
            assert "customer_id" not in f
        else:
            np.testing.assert_array_equal(f["customer_id"][()], key)
        assert f.attrs["model"] == f"{d}/m.h5:/model"


def test_table_peak_under_budget(tmp_path):
    """1.5M customers of 4 features and a key as strata rfm writes them (1-D
    datasets at the root, --table /): the loaded run peaks far above 64 MiB,
    the streamed one under it, the same file."""
    X, _, _ = make_blobs(1_500_000, 4, 5, seed=2)
    key = np.arange(len(X), dtype=np.int64) * 3 + 11
    with h5py.File(tmp_path / "c.h5", "w") as f:
        for j in range(4):
            f.create_dataset(f"x{j}", data=X[:, j], chunks=(65536,))
        f.create_dataset("customer_id", data=key, chunks=(65536,))
    strata.TierModel(n_clusters=5, random_state=0).fit(X[:3000]).save(tmp_path / "m.h5")
    args = ("predict", tmp_path / "m.h5", tmp_path / "c.h5", "--table", "/", "--force")
    status, loaded, err = peak_of(CLI, *args, "-o", tmp_path / "loaded.h5")
    assert status == 0, err
    status, streamed, err = peak_of(CLI, *args, "-o", tmp_path / "streamed.h5", "--memory", "64M")
    assert status == 0, err
    assert loaded > 130 * MiB and streamed < 64 * MiB, (loaded, streamed)
    with h5py.File(tmp_path / "loaded.h5") as a, h5py.File(tmp_path / "streamed.h5") as b:
        for name in ("customer_id", "labels", "tier"):
            np.testing.assert_array_equal(a[name][()], b[name][()])
        np.testing.assert_array_equal(b["customer_id"][()], key)


@pytest.mark.parametrize("layout", ["group", "compound"])
def test_table_budget_too_small_names_the_least(model, table, tmp_path, layout):
    d, _ = table
    file, *opts = TABLE_INPUTS[layout]
    args = ("predict", d / "m.h5", d / file, *opts, "-o", tmp_path / "o.h5", "--force")
    p = run(*args, "--memory", "30M")
    assert p.returncode == 1 and not (tmp_path / "o.h5").exists()
    assert "a memory budget of 31457280 bytes is too small to predict 200000 rows of 5 " \
           "columns" in p.stderr, p.stderr
    assert "3200000 bytes for the row keys" in p.stderr, p.stderr  # 16 a row
    least = int(p.stderr.split("needs at least ")[1].split()[0])
    assert 36 * MiB < least < 48 * MiB, least
    assert "too small" in run(*args, "--memory", least - 1).stderr
    status, peak, err = peak_of(CLI, *args, "--memory", least)  # the least named is enough
    assert status == 0, err
    assert peak < least, (peak, least)


def test_table_nan_in_a_late_block_names_the_row(model, tmp_path):
    """A NaN in a late block fails the streamed run as the loaded one fails
    (column and file row named; an unused column is checked too), and leaves
    no file."""
    d, _, X = model
    extra = np.zeros(len(X))
    extra[170_001] = np.nan
    write_table(tmp_path / "bad.h5", X, "group", extra=extra)
    args = ("predict", d / "m.h5", tmp_path / "bad.h5", "--table", "/t")
    loaded = run(*args, "-o", tmp_path / "loaded.h5")
    streamed = run(*args, "-o", tmp_path / "streamed.h5", "--memory", "40M", "--progress", "json")
    assert loaded.returncode == streamed.returncode == 1, (loaded.stderr, streamed.stderr)
    assert "feature 'extra' is NaN in row 170001" in loaded.stderr, loaded.stderr
    lines = [json.loads(l) for l in streamed.stderr.splitlines()]
    assert lines[-1]["step"] == "error" and "feature 'extra' is NaN in row 170001" in \
        lines[-1]["message"], streamed.stderr
    assert max(l["done"] for l in lines if l["step"] == "read") >= 100_000  # blocks written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5"]


def test_table_missing_feature_and_duplicate_key(model, tmp_path):
    """Loaded and streamed (blocks forced), the same messages."""
    d, _, X = model
    write_table(tmp_path / "t.h5", X[:1000, :3], "group", key=np.arange(1000))
    streamed = {"STRATA_KMEANS_BLOCK_ROWS": "512"}
    for memory, env in (("0", {}), ("40M", streamed)):
        p = run("predict", d / "m.h5", tmp_path / "t.h5", "--table", "/t", "-o",
                tmp_path / "o.h5", "--memory", memory, env=env)
        assert p.returncode == 1 and "has no column 'x3' (the model's feature 4 of 4)" in \
            p.stderr, p.stderr
    key = np.arange(1000)
    key[900] = key[3]
    write_table(tmp_path / "t.h5", X[:1000], "group", key=key)
    for memory, env in (("0", {}), ("40M", streamed)):
        p = run("predict", d / "m.h5", tmp_path / "t.h5", "--table", "/t", "-o",
                tmp_path / "o.h5", "--memory", memory, env=env)
        assert p.returncode == 1 and "key 'customer_id' repeats: 3 in rows 3 and 900" in \
            p.stderr, p.stderr
    assert not (tmp_path / "o.h5").exists()


def test_table_input_with_memory(model, tmp_path):
    """--memory (or $STRATA_KMEANS_MEMORY) with a --table input: no longer
    refused; a small table loads under it."""
    d, _, X = model
    with h5py.File(tmp_path / "t.h5", "w") as f:
        for j in range(4):
            f[f"t/x{j}"] = X[:100, j]
    p = run("predict", d / "m.h5", tmp_path / "t.h5", "--table", "/t", "-o", tmp_path / "o.h5",
            "--memory", "1G")
    assert p.returncode == 0, p.stderr
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
