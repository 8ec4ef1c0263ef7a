"""strata_out: one result file assembled from parts (C API), read back with h5py."""
import ctypes
import os
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_int32, c_int64, c_void_p

import h5py
import numpy as np
import pytest

from strata import _lib

C = ctypes.CDLL(_lib.path)
C.strata_out_open.argtypes = [POINTER(c_void_p), c_char_p, POINTER(c_char_p), c_int, c_int]
C.strata_out_last_error.restype = c_char_p
C.strata_out_last_error.argtypes = [c_void_p]
C.strata_last_error.restype = c_char_p
for name, ctype in (("int32", c_int32), ("int64", c_int64), ("double", c_double)):
    getattr(C, f"strata_out_column_{name}").argtypes = [c_void_p, c_char_p, POINTER(ctype), c_int64]
C.strata_out_matrix_double.argtypes = [c_void_p, c_char_p, POINTER(c_double), c_int64, c_int64]
C.strata_out_strings.argtypes = [c_void_p, c_char_p, c_char_p, POINTER(c_char_p), c_int64]
C.strata_out_attr_int.argtypes = [c_void_p, c_char_p, c_char_p, c_int64]
C.strata_out_attr_double.argtypes = [c_void_p, c_char_p, c_char_p, c_double]
C.strata_out_attr_string.argtypes = [c_void_p, c_char_p, c_char_p, c_char_p]
C.strata_out_rfm.argtypes = [c_void_p, c_void_p, c_char_p, c_char_p]
C.strata_out_commit.argtypes = [c_void_p]
C.strata_out_discard.argtypes = [c_void_p]

E_NULL, E_STATE, E_IO_WRITE, E_IO_EXISTS = -100, -400, -205, -206


def ptr(a, ctype):
    return a.ctypes.data_as(POINTER(ctype))


def open_out(path, inputs=(), flags=0):
    h = c_void_p()
    arr = (c_char_p * max(1, len(inputs)))(*[str(p).encode() for p in inputs])
    rc = C.strata_out_open(byref(h), str(path).encode(), arr if inputs else None, len(inputs), flags)
    return rc, h


def test_parts_round_trip(tmp_path):
    path = tmp_path / "out.h5"
    rc, h = open_out(path)
    assert rc == 0
    assert not path.exists()  # nothing appears before the commit
    i32 = np.array([3, -1, 7], np.int32)
    i64 = np.array([2**40, -5], np.int64)
    f64 = np.linspace(0, 1, 5000)
    big = np.arange(5000, dtype=np.int64) // 7
    m = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert C.strata_out_column_int32(h, b"/tier", ptr(i32, c_int32), 3) == 0
    assert C.strata_out_column_int64(h, b"/a/b/id", ptr(i64, c_int64), 2) == 0
    assert C.strata_out_column_double(h, b"/x", ptr(f64, c_double), len(f64)) == 0
    assert C.strata_out_column_int64(h, b"/big", ptr(big, c_int64), len(big)) == 0
    assert C.strata_out_column_double(h, b"/empty", None, 0) == 0
    assert C.strata_out_matrix_double(h, b"/model/centroids", ptr(m, c_double), 2, 3) == 0
    names = (c_char_p * 3)(b"high", "mid \u00e9".encode(), b"low")
    assert C.strata_out_strings(h, b"/tier", b"names", names, 3) == 0
    assert C.strata_out_strings(h, b"/model/tier_names", None, names, 3) == 0
    assert C.strata_out_attr_int(h, None, b"k", 3) == 0
    assert C.strata_out_attr_double(h, b"/model", b"inertia", 1.5) == 0
    assert C.strata_out_attr_string(h, b"/a/b/id", b"role", b"key") == 0
    assert C.strata_out_commit(h) == 0
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["/tier"][:], i32)
        assert [s.decode() if isinstance(s, bytes) else s for s in f["/tier"].attrs["names"]] == \
            ["high", "mid \u00e9", "low"]
        np.testing.assert_array_equal(f["/a/b/id"][:], i64)
        assert f["/a/b/id"].attrs["role"] == "key"
        np.testing.assert_array_equal(f["/x"][:], f64)
        assert f["/x"].compression == "gzip"  # every column: chunked, gzip where it pays
        np.testing.assert_array_equal(f["/big"][:], big)
        assert f["/big"].compression == "gzip"
        assert f["/empty"].shape == (0,)
        np.testing.assert_array_equal(f["/model/centroids"][:], m)
        assert [s.decode() for s in f["/model/tier_names"][:]] == ["high", "mid \u00e9", "low"]
        assert f.attrs["k"] == 3 and f["/model"].attrs["inertia"] == 1.5


def test_failed_part_discards_everything(tmp_path):
    path = tmp_path / "out.h5"
    path.write_bytes(b"old content")
    rc, h = open_out(path, flags=1)
    assert rc == 0
    v = np.zeros(2, np.int32)
    assert C.strata_out_column_int32(h, b"/a", ptr(v, c_int32), 2) == 0
    # the same name twice fails inside HDF5 ...
    assert C.strata_out_column_int32(h, b"/a", ptr(v, c_int32), 2) == E_IO_WRITE
    assert b"/a" in C.strata_out_last_error(h)
    # ... and every later part is refused
    assert C.strata_out_column_int32(h, b"/b", ptr(v, c_int32), 2) == E_STATE
    assert C.strata_out_commit(h) == E_IO_WRITE
    assert b"/a" in C.strata_last_error()
    assert path.read_bytes() == b"old content"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.h5"]  # no temporary left


def test_refusals(tmp_path):
    path = tmp_path / "out.h5"
    path.write_bytes(b"x")
    assert open_out(path)[0] == E_IO_EXISTS  # no --force
    assert open_out(path, inputs=[path], flags=1)[0] == E_IO_WRITE  # an input
    h = c_void_p()
    assert C.strata_out_open(byref(h), None, None, 0, 0) == E_NULL
    rc, h = open_out(tmp_path / "new.h5")
    assert C.strata_out_column_int32(h, None, None, 0) == E_NULL
    assert C.strata_out_commit(h) == E_NULL  # a refused part counts as failed
    assert not (tmp_path / "new.h5").exists()
    rc, h = open_out(tmp_path / "new.h5")
    C.strata_out_discard(h)
    assert not (tmp_path / "new.h5").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def test_rfm_part_matches_rfm_file(tmp_path):
    """The RFM part under /rfm holds exactly what strata_rfm_write_h5() writes."""
    C.strata_rfm_create.argtypes = [POINTER(c_void_p)]
    C.strata_rfm_fit.argtypes = [c_void_p, POINTER(c_int64), POINTER(c_int64), POINTER(c_double),
                                 c_int64]
    C.strata_rfm_write_h5.argtypes = [c_void_p, c_char_p, c_char_p, c_int]
    C.strata_rfm_free.argtypes = [c_void_p]
    rng = np.random.default_rng(1)
    n = 500
    cust = rng.integers(1, 60, n).astype(np.int64)
    day = rng.integers(0, 400, n).astype(np.int64)
    amount = rng.gamma(2.0, 30.0, n)
    r = c_void_p()
    assert C.strata_rfm_create(byref(r)) == 0
    try:
        assert C.strata_rfm_fit(r, ptr(cust, c_int64), ptr(day, c_int64), ptr(amount, c_double), n) == 0
        alone = tmp_path / "rfm.h5"
        assert C.strata_rfm_write_h5(r, str(alone).encode(), b"src", 0) == 0
        rc, h = open_out(tmp_path / "all.h5")
        assert rc == 0
        assert C.strata_out_rfm(h, r, b"/rfm", b"src") == 0
        assert C.strata_out_commit(h) == 0
    finally:
        C.strata_rfm_free(r)

    def items(g, prefix=""):
        """By link name (visititems names an object once, by the first of
        its names: a pandas view's link to a column may come first)."""
        out = {}
        for name, obj in g.items():
            out[prefix + name] = (obj[()], dict(obj.attrs)) if isinstance(obj, h5py.Dataset) \
                else None
            if isinstance(obj, h5py.Group):
                out.update(items(obj, prefix + name + "/"))
        return out

    with h5py.File(alone, "r") as a, h5py.File(tmp_path / "all.h5", "r") as b:
        # the pandas views of the columns: /pandas/x alone, /pandas/rfm/x in the whole file
        da = {k: v for k, v in items(a).items() if not k.startswith("pandas")}
        db = items(b["/rfm"])
        assert da.keys() == db.keys() and len(da) > 15
        assert sorted(a["pandas"]) == sorted(b["pandas/rfm"]) and "monetary" in a["pandas"]
        for key, value in da.items():
            if value is not None:
                np.testing.assert_array_equal(value[0], db[key][0], err_msg=key)
                assert value[1].keys() == db[key][1].keys()
        # "created" (the time of the write) is the whole file's, on its root
        assert dict(a.attrs).keys() - {"created"} == dict(b["/rfm"].attrs).keys()
        assert "created" in a.attrs and "created" in b.attrs
        for key, value in a.attrs.items():
            if key != "created":
                assert np.all(b["/rfm"].attrs[key] == value), key


def test_handles_open_at_once_are_independent(tmp_path):
    """Several result files may be under construction at once (each holds its
    own temporary file), with other writes between their calls."""
    v = np.arange(10, dtype=np.int32)
    handles = []
    for i in range(3):
        rc, h = open_out(tmp_path / f"o{i}.h5")
        assert rc == 0
        assert C.strata_out_column_int32(h, b"/v", ptr(v + i, c_int32), 10) == 0
        handles.append(h)
    C.strata_h5_write_matrix.argtypes = [c_char_p, c_char_p, c_int, c_void_p, c_int64, c_int64,
                                         c_int]
    m = np.ones((2, 2))
    assert C.strata_h5_write_matrix(str(tmp_path / "m.h5").encode(), b"/m", 2,  # float64
                                    m.ctypes.data, 2, 2, 0) == 0
    assert C.strata_out_commit(handles[1]) == 0
    assert C.strata_out_commit(handles[0]) == 0
    C.strata_out_discard(handles[2])
    for i in (0, 1):
        with h5py.File(tmp_path / f"o{i}.h5", "r") as f:
            np.testing.assert_array_equal(f["/v"][:], v + i)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5", "o0.h5", "o1.h5"]


def test_null_attribute_value_is_refused(tmp_path):
    rc, h = open_out(tmp_path / "n.h5")
    assert C.strata_out_attr_string(h, None, b"source", None) == E_NULL
    assert C.strata_out_commit(h) == E_NULL
    assert not (tmp_path / "n.h5").exists()


def chunk_table(d):
    """(filter_mask, stored bytes) of every chunk of dataset d, in file order."""
    out = []
    for i in range(d.id.get_num_chunks()):
        info = d.id.get_chunk_info(i)
        mask, data = d.id.read_direct_chunk(info.chunk_offset)
        assert mask == info.filter_mask and len(data) == info.size
        out.append((info.chunk_offset, mask, bytes(data)))
    return out


def unpack(data, mask, elem, dtype):
    """A stored chunk decoded by hand (zlib, then HDF5's byte shuffle undone): an
    independent reading of what HDF5's filters decode."""
    import zlib
    if mask == 3:
        return np.frombuffer(data, dtype)
    assert mask == 0
    raw = np.frombuffer(zlib.decompress(data), np.uint8)
    return raw.reshape(elem, -1).T.copy().view(dtype).ravel()


def write_columns(path, cols):
    rc, h = open_out(path)
    assert rc == 0
    for name, a in cols.items():
        if a.ndim == 2:
            assert C.strata_out_matrix_double(h, name.encode(), ptr(a, c_double), *a.shape) == 0
        elif a.dtype == np.int64:
            assert C.strata_out_column_int64(h, name.encode(), ptr(a, c_int64), len(a)) == 0
        elif a.dtype == np.int32:
            assert C.strata_out_column_int32(h, name.encode(), ptr(a, c_int32), len(a)) == 0
        else:
            assert C.strata_out_column_double(h, name.encode(), ptr(a, c_double), len(a)) == 0
    assert C.strata_out_commit(h) == 0


def packed_columns():
    rng = np.random.default_rng(5)
    n = 300_001  # 1 MiB chunks: 131072 int64/doubles, so 3 chunks, the last partial
    return {
        "/id": np.arange(n, dtype=np.int64) * 3 + 1_000_000,
        "/tier": rng.integers(0, 5, n).astype(np.int32),
        "/noise": rng.normal(size=n),  # doubles that gzip cannot shrink
        "/cents": np.round(rng.gamma(2.0, 30.0, n), 2).clip(0, 200),  # nor these, much
        "/steps": np.repeat(np.arange(n // 1000 + 1, dtype=np.float64), 1000)[:n] / 4,
        "/wide": rng.normal(size=(3, 200_000)),  # rows longer than a chunk: split across
    }


def test_every_per_row_output_is_chunked_and_gzipped(tmp_path):
    """Every column, doubles too, is chunked with shuffle + gzip in its pipeline;
    a chunk is stored packed only where that pays (the first chunk decides), else
    raw with the filter mask saying so, as HDF5 itself stores a chunk its
    optional deflate cannot shrink; h5py reads both."""
    cols = packed_columns()
    path = tmp_path / "p.h5"
    write_columns(path, cols)
    with h5py.File(path, "r") as f:
        for name, a in cols.items():
            d = f[name]
            np.testing.assert_array_equal(d[...], a)
            assert d.compression == "gzip" and d.shuffle and d.chunks, name
            elem = a.dtype.itemsize
            chunk_elems = int(np.prod(d.chunks))
            assert chunk_elems * elem <= 1 << 20
            table = chunk_table(d)
            n_expected = int(np.prod([-(-s // c) for s, c in zip(a.shape, d.chunks)]))
            assert len(table) == n_expected, name
            for off, mask, data in table:
                block = unpack(data, mask, elem, a.dtype)
                assert block.size == chunk_elems
                sl = tuple(slice(o, min(o + c, s)) for o, c, s in zip(off, d.chunks, a.shape))
                want = np.zeros(d.chunks, a.dtype)
                want[tuple(slice(0, s.stop - s.start) for s in sl)] = a[sl]
                np.testing.assert_array_equal(block.reshape(d.chunks), want, err_msg=name)
            masks = {m for _, m, _ in table}
            if name in ("/id", "/tier", "/steps", "/cents"):
                assert masks == {0}, name  # packed: a fraction of the bytes
                limit = 0.75 if name == "/cents" else 0.3
                assert sum(len(x) for _, _, x in table) < limit * a.nbytes, name
            if name in ("/noise", "/wide"):
                # stored raw, the edge chunks too: gzip would keep ~90% of them
                assert masks == {3}, name
                assert all(len(x) == chunk_elems * elem for _, _, x in table), name


def test_packed_chunks_do_not_depend_on_threads(tmp_path):
    """The stored chunks are the same bytes for 1 and 3 writing threads."""
    import subprocess
    import sys
    script = (
        "import sys, numpy as np; sys.path[:0] = " + repr(sys.path) + "\n"
        "import test_out as t\n"
        "t.write_columns(sys.argv[1], t.packed_columns())\n")
    tables = []
    for threads in (1, 3):
        path = tmp_path / f"t{threads}.h5"
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        p = subprocess.run([sys.executable, "-c", script, str(path)], env=env,
                           cwd=os.path.dirname(__file__), capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        with h5py.File(path, "r") as f:
            tables.append({name: chunk_table(f[name]) for name in packed_columns()})
    assert tables[0] == tables[1]


C.strata_out_set_int.argtypes = [c_void_p, c_int, c_int64]
THREADS, E_PARAM, E_ARG = 400, -102, -101


def test_set_threads(tmp_path):
    """strata_out_set_int(STRATA_THREADS): the chunks' bytes are the same for any
    count; bad keys and values are refused without failing the file."""
    assert C.strata_out_set_int(None, THREADS, 1) == E_NULL
    tables = []
    for threads in (1, 2, 5):
        path = tmp_path / f"s{threads}.h5"
        rc, h = open_out(path)
        assert rc == 0
        assert C.strata_out_set_int(h, THREADS + 1, 1) == E_PARAM
        assert b"unknown output parameter" in C.strata_out_last_error(h)
        assert C.strata_out_set_int(h, THREADS, -1) == E_ARG
        assert C.strata_out_set_int(h, THREADS, 1025) == E_ARG
        assert C.strata_out_set_int(h, THREADS, threads) == 0
        a = np.arange(400_000, dtype=np.int64) // 3
        assert C.strata_out_column_int64(h, b"/a", ptr(a, c_int64), len(a)) == 0
        assert C.strata_out_commit(h) == 0
        with h5py.File(path, "r") as f:
            np.testing.assert_array_equal(f["/a"][:], a)
            tables.append(chunk_table(f["/a"]))
    assert tables[0] == tables[1] == tables[2] and len(tables[0]) == 4


def test_pandas_reads_packed_and_raw_chunks(tmp_path):
    """pandas (PyTables) reads the per-row views of both kinds of chunk: raw
    ones (filter mask 3) and packed ones."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    n = 300_001
    cols = {"/customer_id": np.arange(n, dtype=np.int64) * 7, "/noise": rng.normal(size=n),
            "/tier": rng.integers(0, 5, n).astype(np.int32)}
    path = tmp_path / "pv.h5"
    write_columns(path, cols)
    with h5py.File(path, "r") as f:
        assert [m for _, m, _ in chunk_table(f["/noise"])] == [3, 3, 3]
        assert {m for _, m, _ in chunk_table(f["/tier"])} == {0}
    for name in ("noise", "tier"):
        s = pd.read_hdf(path, f"/pandas/{name}")
        np.testing.assert_array_equal(s.to_numpy(), cols[f"/{name}"])
        np.testing.assert_array_equal(s.index.to_numpy(), cols["/customer_id"])


def test_ids_keep_the_hashed_matches(tmp_path):
    """Ids that step by small amounts repeat whole byte sequences: the first
    chunk's trial keeps deflate's hashed matches for them (7% of the bytes;
    run-length matches only, the choice for the other columns, keep 13%),
    and the writer's threads switch strategy between datasets (ids, codes,
    ids again: the same bytes both times)."""
    rng = np.random.default_rng(3)
    n = 1_000_000
    ids = np.cumsum(rng.integers(1, 4, n)).astype(np.int64)
    path = tmp_path / "ids.h5"
    write_columns(path, {"/ids": ids, "/tier": rng.integers(0, 5, n).astype(np.int32),
                         "/ids2": ids.copy()})
    with h5py.File(path, "r") as f:
        for name in ("/ids", "/ids2"):
            np.testing.assert_array_equal(f[name][:], ids)
            assert f[name].id.get_storage_size() < 0.09 * ids.nbytes, name
        assert chunk_table(f["/ids"]) == chunk_table(f["/ids2"])
        assert f["/tier"].id.get_storage_size() < 0.12 * f["/tier"].nbytes
