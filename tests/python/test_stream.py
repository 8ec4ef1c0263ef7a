"""Streamed fit_h5 (issue 13): a memory budget the data exceed streams the
file in blocks, with the result of the in-memory fit, bitwise; sizes parse."""

import os
import re
import subprocess

import numpy as np
import pytest

import strata
from conftest import make_blobs, peak_of

h5py = pytest.importorskip("h5py", reason="h5py is not installed")


@pytest.mark.parametrize("dtype,chunks", [(np.float32, (1000, 6)), (np.float64, None)])
@pytest.mark.parametrize("init", ["k-means++", "random", "k-means||", "afk-mc2"])
def test_streamed_equals_in_memory(tmp_path, dtype, chunks, init):
    X, _, _ = make_blobs(600_000, 6, 5, seed=11)
    X = X.astype(dtype)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=chunks)
    ref = strata.KMeans(5, init=init, random_state=4, max_iter=20, n_threads=2).fit(X)
    # 36 MiB: below the data (14.4 or 28.8 MB) plus 24 MiB of fixed
    # allowance, above the streamed fit's labels, seeding state and blocks
    km = strata.KMeans(5, init=init, random_state=4, max_iter=20, n_threads=2, memory="36M")
    km.fit_h5(path, "/x")
    assert km.streamed_ and not ref.streamed_
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_ and km.n_iter_ == ref.n_iter_
    loaded = strata.KMeans(5, init=init, random_state=4, max_iter=20, memory=None).fit_h5(path, "/x")
    assert not loaded.streamed_
    np.testing.assert_array_equal(loaded.labels_, ref.labels_)


def test_streamed_gaps(tmp_path):
    """Where the budget holds one gap a row, a streamed fit asked for hamerly
    runs Hamerly with them (and says so), auto and lloyd run Lloyd: all three
    with the in-memory Lloyd's labels, centroids and inertia, bitwise,
    float32 and float64."""
    for dtype, n, memory in ((np.float64, 1_200_000, "80M"), (np.float32, 3_000_000, "90M")):
        X, _, _ = make_blobs(n, 6, 7, seed=21)
        X = X.astype(dtype)
        path = tmp_path / f"in_{np.dtype(dtype).name}.h5"
        with h5py.File(path, "w") as f:
            f.create_dataset("x", data=X, chunks=(4096, 6))
        ref = strata.KMeans(7, algorithm="lloyd", random_state=5, max_iter=30, n_threads=2).fit(X)
        for algo, ran in (("auto", "lloyd"), ("hamerly", "hamerly"), ("lloyd", "lloyd")):
            km = strata.KMeans(7, algorithm=algo, random_state=5, max_iter=30, n_threads=2,
                               memory=memory)
            km.fit_h5(path, "/x")
            assert km.streamed_ and km.algorithm_ == ran, (dtype, algo, km.algorithm_)
            np.testing.assert_array_equal(km.labels_, ref.labels_)
            np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
            assert km.inertia_ == ref.inertia_ and km.n_iter_ == ref.n_iter_


def test_streamed_hamerly_runs_lloyd(tmp_path):
    """An explicit hamerly on a fit that must stream, under a budget too
    small for its gaps (2 bytes a row besides 8 MiB blocks), runs Lloyd (the
    same bits as Lloyd in memory) and says so."""
    X, _, _ = make_blobs(600_000, 6, 5, seed=12)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=(4096, 6))
    ref = strata.KMeans(5, algorithm="lloyd", random_state=4, max_iter=20).fit(X)
    assert ref.algorithm_ == "lloyd"
    assert strata.KMeans(5, algorithm="hamerly", random_state=4, max_iter=20).fit(X).algorithm_ == "hamerly"
    km = strata.KMeans(5, algorithm="hamerly", random_state=4, max_iter=20, memory="40M")
    km.fit_h5(path, "/x")
    assert km.streamed_ and km.algorithm_ == "lloyd"
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_


def test_compressed_chunks_streamed(tmp_path):
    """gzip chunks of 9001 rows (1.15 MB) straddled by blocks of 4096-row
    multiples: with a budget that holds a chunk kept decompressed (50M) and
    one that does not (36M: three chunks decompressing count), the in-memory
    result bitwise."""
    X, _, _ = make_blobs(400_000, 16, 6, seed=21)
    path = tmp_path / "gz.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=(9001, 16), compression="gzip",
                         compression_opts=1, shuffle=True)
    kw = dict(random_state=5, max_iter=3, tol=0.0, n_init=1)
    ref = strata.KMeans(6, **kw).fit_h5(path, "/x")
    for memory in ("50M", "36M"):
        got = strata.KMeans(6, memory=memory, **kw).fit_h5(path, "/x")
        assert got.streamed_ and not ref.streamed_
        assert np.array_equal(got.labels_, ref.labels_), memory
        assert np.array_equal(got.cluster_centers_, ref.cluster_centers_), memory
        assert got.inertia_ == ref.inertia_, memory


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI (the strata program) "
                    "is not set")
def test_long_compressed_chunks_within_the_budget(tmp_path):
    """Every read of a compressed chunk decompresses it whole, which the budget
    did not count: chunks of 12 MB took a --memory 30M fit to 46 MB, and
    loading such a file under 60M to 66 MB. Now every run stays under its
    budget or says it is too small, naming the chunks; the streamed result is
    the in-memory one."""
    X, _, _ = make_blobs(200_000, 10, 5, seed=3)
    path = tmp_path / "long.h5"
    with h5py.File(path, "w") as f:  # chunks of 8 MB (30M peaked at 35 MB, 40M at 41 MB)
        f.create_dataset("x", data=X, chunks=(100_000, 10), compression="gzip",
                         compression_opts=1)
    ref = strata.KMeans(5, random_state=1, max_iter=2, tol=0.0, n_init=1).fit(X)
    ran = set()
    for mb in (30, 40, 60, 70):
        out = tmp_path / f"o{mb}.h5"
        status, peak, err = peak_of(os.environ["STRATA_CLI"], "kmeans", f"{path}:/x", "-k", 5,
                                    "-o", out, "--seed", 1, "--max-iter", 2, "--tol", 0,
                                    "--n-init", 1, "--memory", f"{mb}M", "--quiet")
        if status:
            assert status == 1 and "compressed chunks" in err and "too small" in err, err
            continue
        assert peak <= mb << 20, (mb, peak >> 20)
        with h5py.File(out) as f:
            ran.add(int(f.attrs["streamed"]))
            np.testing.assert_array_equal(f["labels"][()], ref.labels_)
    assert ran == {0, 1}, ran  # streamed under some budgets, loaded under others


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI (the strata program) "
                    "is not set")
def test_chunk_inflating_short_is_reported_corrupt(tmp_path):
    """A gzip chunk whose deflate stream is valid but ends 8 bytes short of
    the chunk: the streamed reader saw it and passed the block to libhdf5,
    which read past its buffer (AddressSanitizer: heap-buffer-overflow in
    H5Dread) and gave garbage rows ("squared distances overflow double").
    Now the read fails naming the rows and the cause, and writes nothing."""
    import zlib
    X = np.random.default_rng(4).normal(size=(120_000, 8))
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("x", data=X, chunks=(30_000, 8), compression="gzip")  # 1.9 MB
        _, stored = ds.id.read_direct_chunk((30_000, 0))
        ds.id.write_direct_chunk((30_000, 0), zlib.compress(zlib.decompress(stored)[:-8]))
    out = tmp_path / "out.h5"
    p = subprocess.run([os.environ["STRATA_CLI"], "kmeans", f"{path}:/x", "-k", "3", "-o", out,
                        "--memory", "36M", "--quiet"], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    assert "corrupt data" in p.stderr and "deflate stream ends before the chunk" in p.stderr
    assert "in.h5" in p.stderr and not out.exists()


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI (the strata program) "
                    "is not set")
@pytest.mark.parametrize("layout", [
    dict(chunks=(240_000, 10), compression="gzip", shuffle=True),  # one chunk, 19.2 MB
    dict(chunks=(60_000, 10), compression="gzip", shuffle=True),   # four of 4.8 MB
    dict(chunks=(120_000, 5), compression="gzip"),                 # two along a row
    dict(chunks=(240_000, 1)),                                     # a column a chunk, plain
], ids=["one_gzip_chunk", "gzip_chunks", "gzip_chunks_across", "plain_columns"])
def test_chunk_layouts_at_the_least_budget(tmp_path, layout):
    """Chunks longer or wider than a block, streamed at the least budget the
    program names and a little above: the peak stays under the budget (a
    matrix in one 19.2 MB gzip chunk peaked above it: libhdf5 inflated the
    chunk once a block and the allocator kept its buffers) and the labels and
    centroids are the in-memory fit's, bitwise. (Their speed, a chunk
    inflated or read once a pass, is bench/micro/budget_chunks.py's.)"""
    X = np.random.default_rng(2).normal(size=(240_000, 10))  # compresses little
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, **layout)
    ref = strata.KMeans(5, random_state=1, max_iter=3, tol=0.0, n_init=1).fit(X)
    cli, out = os.environ["STRATA_CLI"], tmp_path / "out.h5"
    args = ("kmeans", f"{path}:/x", "-k", 5, "-o", out, "--force", "--seed", 1, "--max-iter", 3,
            "--tol", 0, "--n-init", 1, "--quiet", "--memory")
    status, _, err = peak_of(cli, *args, "1M")
    assert status == 1 and "too small" in err, err
    least = int(re.search(r"it needs at least (\d+) bytes", err).group(1))
    for budget in (least, least + (4 << 20)):
        status, peak, err = peak_of(cli, *args, budget)
        assert status == 0, err
        assert peak <= budget, (budget >> 20, peak >> 20)
        with h5py.File(out) as f:
            assert int(f.attrs["streamed"]) == 1
            np.testing.assert_array_equal(f["labels"][()], ref.labels_)
            np.testing.assert_array_equal(f["centroids"][()], ref.cluster_centers_)


def test_budget_too_small_and_bad_values(tmp_path):
    X, _, _ = make_blobs(5000, 3, 3, seed=1)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f["x"] = X
    with pytest.raises(strata.Error, match="too small.*at least"):
        strata.KMeans(3, memory="1K").fit_h5(path, "/x")
    for bad in (-1, "1X", "G", "-5M", 1.5):
        with pytest.raises(strata.ArgumentError):
            strata.KMeans(3, memory=bad).fit_h5(path, "/x")
    # fit() of in-memory data ignores the budget
    assert not strata.KMeans(3, memory=1).fit(X).streamed_


def test_dataset_names_as_str_or_bytes(tmp_path):
    """The HDF5 path of a dataset as str or bytes, anything else a clear
    ArgumentError (an int was an AttributeError, bytes too)."""
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.random.default_rng(2).normal(size=(60, 3))
    a = strata.KMeans(2, random_state=1).fit_h5(path, "/x")
    b = strata.KMeans(2, random_state=1).fit_h5(path, b"/x")
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
    with pytest.raises(strata.ArgumentError, match="dataset must be a str"):
        strata.KMeans(2).fit_h5(path, 5)
    with pytest.raises(strata.Error, match="too small for a fit of 60 x 3 rows.*set aside for "
                       "the program"):
        strata.KMeans(2, memory="5M").fit_h5(path, "/x")


# (text, bytes by hand; None: refused) - one grammar for the binding's
# memory= (KMeans, rfm_h5) and the program's --memory / STRATA_*_MEMORY
SIZES = [("0", 0), ("2048", 2048), ("2048B", 2048), ("1G", 1 << 30), ("512M", 512 << 20),
         ("100k", 100 << 10), ("1.5GiB", 3 << 29), ("1.5gb", 3 << 29), (" 1G", 1 << 30),
         ("1G ", 1 << 30), ("10T", 10 << 40), ("0.5K", 512), ("1.0001K", 1024),
         ("0.9", None), ("1.5", None), ("-1", None), ("-5M", None), ("abc", None),
         ("G", None), ("1X", None), ("1e9", None), ("0x10M", None), ("1 G", None),
         ("0.0000001G", None), ("9000000T", None), ("", None), ("1.5B", None)]


def test_memory_strings():
    from strata import _ffi, _params
    for key in (_ffi.KMEANS_MEMORY, _ffi.RFM_MEMORY):
        assert _params.size_bytes("memory", None, key) == 0
        assert _params.size_bytes("memory", 12345, key) == 12345
        for text, want in SIZES:
            if want is None:
                with pytest.raises(strata.ArgumentError, match="memory must be"):
                    _params.size_bytes("memory", text, key)
            else:
                assert _params.size_bytes("memory", text, key) == want, text


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI (the strata program) "
                    "is not set")
def test_memory_strings_of_the_program(tmp_path):
    """The program takes and refuses the same sizes, as --memory and as
    STRATA_KMEANS_MEMORY (--memory 0.9 was taken as 0: no limit at all)."""
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(40.0).reshape(20, 2)
    cli = os.environ["STRATA_CLI"]
    for text, want in SIZES:
        for how in ("option", "env"):
            if how == "env" and text == "":
                continue  # an empty variable is an unset one
            env = dict(os.environ, STRATA_KMEANS_MEMORY=text if how == "env" else "")
            opt = ["--memory", text] if how == "option" else []
            p = subprocess.run([cli, "kmeans", f"{path}:/x", "-k", "2", "-o", tmp_path / "o.h5",
                                "--force", *opt], env=env, capture_output=True, text=True)
            if want is None:
                assert p.returncode == 2, (text, how, p.stderr)
                name = "--memory" if how == "option" else "STRATA_KMEANS_MEMORY"
                assert f"{name} must be a size" in p.stderr
            elif p.returncode:  # taken, and below what any fit needs
                assert p.returncode == 1 and f"budget of {want} bytes is too small" in \
                    p.stderr, (text, how, p.stderr)
            else:
                assert want == 0 or want >= 1 << 20, (text, how)


@pytest.mark.parametrize("dtype,chunks", [(np.float32, (1000, 6)), (np.float64, None)])
def test_streamed_minibatch_equals_in_memory(tmp_path, dtype, chunks):
    """MiniBatchKMeans streams too (each window of steps' rows read in one
    sweep): the in-memory result bitwise, labels the nearest centres."""
    X, _, _ = make_blobs(600_000, 6, 5, seed=13)
    X = X.astype(dtype)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=chunks)
    kw = dict(random_state=4, batch_size=512, n_init=2, max_no_improvement=None, max_iter=1)
    ref = strata.MiniBatchKMeans(5, n_threads=2, **kw).fit(X)
    km = strata.MiniBatchKMeans(5, n_threads=1, memory="36M", **kw).fit_h5(path, "/x")
    assert km.streamed_ and not ref.streamed_ and km.algorithm_ == "minibatch"
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_ and km.n_steps_ == ref.n_steps_ == 600_000 // 512
    for i in range(0, len(X), 100_000):
        d2 = ((X[i:i + 100_000, None, :].astype(np.float64) - km.cluster_centers_[None]) ** 2).sum(-1)
        np.testing.assert_array_equal(km.labels_[i:i + 100_000], d2.argmin(1))
    # batches larger than the budget's window: the minimum named
    with pytest.raises(strata.Error, match="too small.*mini-batch"):
        strata.MiniBatchKMeans(5, batch_size=400_000, memory="36M").fit_h5(path, "/x")


# -- tables and column datasets (fit_h5_columns, fit_h5_table) ---------------

pd = pytest.importorskip("pandas", reason="pandas is not installed")


def _customers(n, seed):
    """n customers of five groups: float32, int and float64 columns, a key."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 5, n)
    return pd.DataFrame({
        "recency": (g * 40 + rng.exponential(5, n)).astype(np.float32),
        "frequency": (g * 3 + rng.integers(0, 3, n)).astype(np.int32),
        "monetary": g * 100.0 + rng.normal(0, 10, n),
        "visits": (g * 7 + rng.integers(0, 5, n)).astype(np.int64),
    }, index=pd.Index(np.arange(n, dtype=np.int64) * 7 + 11, name="customer_id"))


def _reference(df, **kw):
    """The frame path: the DataFrame's float64 values fitted in memory."""
    return strata.KMeans(5, random_state=2, max_iter=15, tol=0, **kw).fit(df.astype(np.float64))


def _same(a, b):
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_ and a.n_iter_ == b.n_iter_


N_TAB = 400_000  # 12.8 MB of float64 features: streams under 34M, loads under 1G


def _write_layouts(tmp_path, df):
    """The same frame as column datasets of different chunkings (gzip on
    some), an h5py compound table, and pandas' fixed and table formats."""
    path = tmp_path / "t.h5"
    with h5py.File(path, "w") as f:
        chunks = {"recency": 1000, "frequency": 3333, "monetary": None, "visits": 65536}
        for c, ch in chunks.items():
            f.create_dataset(f"cols/{c}", data=df[c].to_numpy(), chunks=(ch,) if ch else None,
                             compression="gzip" if ch else None)
        f["cols/customer_id"] = df.index.to_numpy()
        rec = np.empty(len(df), [("customer_id", "<i8")] + [(c, df[c].dtype) for c in df])
        rec["customer_id"] = df.index.to_numpy()
        for c in df:
            rec[c] = df[c].to_numpy()
        f.create_dataset("compound", data=rec, chunks=(5000,), compression="gzip")
    df.to_hdf(path, key="fixed", format="fixed")
    df.to_hdf(path, key="ptable", format="table", complevel=1)
    return path


@pytest.mark.parametrize("threads", [1, 2])
def test_tables_streamed_equal_frame_path(tmp_path, threads):
    df = _customers(N_TAB, 3)
    path = _write_layouts(tmp_path, df)
    ref = _reference(df, n_threads=threads)
    cols = [f"/cols/{c}" for c in df]
    fits = {
        "columns": lambda km: km.fit_h5_columns(path, cols),
        "compound": lambda km: km.fit_h5_table(path, "/compound"),
        "fixed": lambda km: km.fit_h5_table(path, "/fixed"),
        "ptable": lambda km: km.fit_h5_table(path, "/ptable", list(df.columns)),
    }
    for name, fit in fits.items():
        for memory in ("34M", "1G"):
            km = strata.KMeans(5, random_state=2, max_iter=15, tol=0, n_threads=threads,
                               memory=memory)
            fit(km)
            assert km.streamed_ == (memory == "34M"), name
            _same(ref, km)
            assert list(km.feature_names_in_) == list(df.columns), name


def test_tables_streamed_written_as_frame_path(tmp_path):
    """write_h5 after a streamed table fit: the datasets and attributes of
    the frame path's file (/feature_names, /customer_id with its name)."""
    df = _customers(N_TAB, 4)
    path = _write_layouts(tmp_path, df)
    a = strata.KMeans(5, random_state=2, max_iter=15, tol=0).fit_h5_table(path, "/compound")
    b = strata.KMeans(5, random_state=2, max_iter=15, tol=0, memory="34M").fit_h5_table(
        path, "/compound")
    assert b.streamed_ and not a.streamed_
    a.write_h5(tmp_path / "a.h5", source="s")
    b.write_h5(tmp_path / "b.h5", source="s")
    with h5py.File(tmp_path / "a.h5") as fa, h5py.File(tmp_path / "b.h5") as fb:
        assert sorted(fa) == sorted(fb) == ["centroids", "customer_id", "feature_names", "labels",
                                            "pandas"]
        for k in ["centroids", "customer_id", "feature_names", "labels"]:
            np.testing.assert_array_equal(fa[k][()], fb[k][()])
            assert dict(fa[k].attrs) == dict(fb[k].attrs)
        assert dict(fa["pandas/labels"].attrs) == dict(fb["pandas/labels"].attrs)
        np.testing.assert_array_equal(fb["customer_id"][()], df.index.to_numpy())
        assert fb["customer_id"].attrs["name"] == "customer_id"
        diff = {k for k in set(fa.attrs) | set(fb.attrs)
                if not np.array_equal(fa.attrs.get(k), fb.attrs.get(k))}
        # created: a clock second; memory: the budget, recorded where given
        assert "streamed" in diff and diff <= {"streamed", "created", "memory"}


def test_tables_streamed_errors(tmp_path):
    """Bad inputs: the frame reader's messages, streamed or not."""
    df = _customers(N_TAB, 5)
    df.loc[df.index[300_123], "monetary"] = np.nan
    path = tmp_path / "bad.h5"
    df.to_hdf(path, key="fixed", format="fixed")
    with h5py.File(path, "a") as f:
        f["cols/a"] = np.ones(10)
        f["cols/b"] = np.ones(11)
        f["cols/s"] = np.array([b"x"] * 10)
    for memory in ("34M", None):
        km = strata.KMeans(5, memory=memory)
        with pytest.raises(strata.Error, match="feature 'monetary' is NaN in row 300123"):
            km.fit_h5_table(path, "/fixed")
        with pytest.raises(strata.Error, match="has no column 'nope'"):
            km.fit_h5_table(path, "/fixed", ["recency", "nope"])
        with pytest.raises(strata.Error, match="different lengths"):
            km.fit_h5_columns(path, ["/cols/a", "/cols/b"])
        with pytest.raises(strata.Error, match="string"):
            km.fit_h5_columns(path, ["/cols/a", "/cols/s"])
        with pytest.raises(strata.Error):
            km.fit_h5_columns(path, ["/cols/missing"])
        assert not hasattr(km, "cluster_centers_")


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI (the strata program) "
                    "is not set")
def test_budget_recorded_whichever_way_the_input_is_read(tmp_path):
    """The output's "memory" attribute: a matrix fitted under --memory 1G
    (loaded) recorded it, a --table or --columns fit loaded under the same
    budget did not (only a streamed one did)."""
    X, _, _ = make_blobs(3000, 3, 3, seed=4)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f["x"] = X
        rec = np.zeros(3000, dtype=[("a", "<f8"), ("b", "<f8"), ("c", "<f8")])
        rec["a"], rec["b"], rec["c"] = X.T
        f["rec"] = rec
        for j, name in enumerate("abc"):
            f[f"cols/{name}"] = X[:, j]
    runs = {"matrix": [f"{path}:/x"], "table": [path, "--table", "/rec"],
            "columns": [path, "--columns", "/cols/a,/cols/b,/cols/c"]}
    for name, args in runs.items():
        for budget, want in (("1G", 1 << 30), (None, None)):
            out = tmp_path / f"{name}.h5"
            p = subprocess.run([os.environ["STRATA_CLI"], "kmeans", *map(str, args), "-k", "3",
                                "-o", out, "--force", "--quiet",
                                *(["--memory", budget] if budget else [])],
                               capture_output=True, text=True)
            assert p.returncode == 0, (name, p.stderr)
            with h5py.File(out) as f:
                assert f.attrs.get("memory") == want and f.attrs["streamed"] == 0, name


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI (the strata program) "
                    "is not set")
def test_small_chunks_within_the_budget(tmp_path):
    """A table of columns stored in chunks of 100 rows: libhdf5 held a few KB
    for every chunk a read touched (a whole column at once) and its metadata
    cache grew to 32 MiB with the chunk index, so 1M rows under --memory 64M
    peaked at 137 MB. Reads now ask for at most 256 chunks, the metadata
    cache of strata's files is kept to 4 MiB."""
    cli = os.environ["STRATA_CLI"]
    path = tmp_path / "c.h5"
    r = subprocess.run([cli, "gen", "customers", "-o", path, "--n", "1M", "--layout", "columns",
                        "--chunk-rows", "100", "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    status, peak, err = peak_of(cli, "kmeans", path, "--table", "/customers", "-k", 6, "-o",
                                tmp_path / "o.h5", "--max-iter", 4, "--seed", 1, "--memory",
                                "64M", "--quiet")
    assert status == 0 and peak <= 64 << 20, (status, peak >> 20, err)
    with h5py.File(tmp_path / "o.h5") as f:
        assert f.attrs["streamed"] == 1


@pytest.mark.skipif(not os.environ.get("STRATA_CLI"), reason="STRATA_CLI (the strata program) "
                    "is not set")
@pytest.mark.parametrize("layout", ["columns", "compound", "pandas_table"])
def test_column_layouts_in_long_gzip_chunks(tmp_path, layout):
    """Feature columns (1-D datasets, a compound table, a pandas table-format
    frame written with complevel=5) in deflated chunks beyond libhdf5's 1 MiB
    cache, streamed at the least budget the program names and a little
    above: the reads keep the chunk a block is in inflated (the plan counts
    that row of chunks, as for a matrix; libhdf5 inflated a chunk whole for
    every block of 4096 rows it touched: 1M-row chunks took minutes), the
    peak stays under the budget, and labels and centroids are the in-memory
    fit's, bitwise. (The speed is bench/micro/budget_chunks.py's.)"""
    n = 600_000  # 14.4 MB: more than the chunks kept, so the least budget streams
    X = np.random.default_rng(4).normal(size=(n, 3)) * [1.0, 10.0, 100.0]
    path = tmp_path / "in.h5"
    names = ["recency", "frequency", "monetary"]
    if layout == "pandas_table":
        pd = pytest.importorskip("pandas")
        df = pd.DataFrame(X, columns=names)
        df.insert(0, "customer_id", np.arange(n, dtype=np.int64))
        with pd.HDFStore(path, "w", complevel=5, complib="zlib") as s:
            s.append("customers", df, expectedrows=10**10)  # PyTables' longest chunks
        where = ["--table", "/customers"]
        with h5py.File(path) as f:
            t = f["customers/table"]
            assert t.compression == "gzip" and t.chunks[0] * t.dtype.itemsize > 1 << 20
    else:
        with h5py.File(path, "w") as f:
            if layout == "columns":
                for j, name in enumerate(names):
                    f.create_dataset(name, data=X[:, j], chunks=(150_000,), compression="gzip")
                where = ["--columns", ",".join("/" + x for x in names)]
            else:
                rec = np.zeros(n, dtype=[("customer_id", "<i8")] + [(x, "<f8") for x in names])
                rec["customer_id"] = np.arange(n)
                for j, name in enumerate(names):
                    rec[name] = X[:, j]
                f.create_dataset("customers", data=rec, chunks=(60_000,), compression="gzip",
                                 shuffle=True)
                where = ["--table", "/customers"]
    cli, ref, out = os.environ["STRATA_CLI"], tmp_path / "ref.h5", tmp_path / "out.h5"
    args = ("kmeans", path, *where, "-k", 5, "--force", "--seed", 1, "--max-iter", 3,
            "--tol", 0, "--n-init", 1, "--quiet")
    status, _, err = peak_of(cli, *args, "-o", ref)
    assert status == 0, err
    status, _, err = peak_of(cli, *args, "-o", out, "--memory", "1M")
    assert status == 1 and "the row of chunks a block is in" in err, err
    least = int(re.search(r"it needs at least (\d+) bytes", err).group(1))
    with h5py.File(ref) as f:
        labels, centroids = f["labels"][()], f["centroids"][()]
        assert int(f.attrs["streamed"]) == 0
    for budget in (least, least + (4 << 20)):
        status, peak, err = peak_of(cli, *args, "-o", out, "--memory", budget)
        assert status == 0, err
        assert peak <= budget, (budget >> 20, peak >> 20)
        with h5py.File(out) as f:
            assert int(f.attrs["streamed"]) == 1
            np.testing.assert_array_equal(f["labels"][()], labels)
            np.testing.assert_array_equal(f["centroids"][()], centroids)
