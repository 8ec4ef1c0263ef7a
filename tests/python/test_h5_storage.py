"""Datasets stored elsewhere than in the file named: behind an external link,
in external raw files (h5py's external=), or virtual (a map of others).

An external link's offsets belong to its target file: a streamed read must
not take them in the file named on the command line (it once did, reading
that file's bytes as rows). External raw files are read, and a short or
missing one is an error (libhdf5 would read zeros). Virtual datasets are
refused with a message saying why, and `strata info` says how each is
stored and offers no command for a virtual one.

The program is $STRATA_CLI (set by CTest); skipped without it."""
import json
import os
import subprocess

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="h5py is not installed")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")


def run(*args, cwd):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def fit(cwd, src, out, *extra):
    p = run("kmeans", src, "-k", 3, "-o", out, "--seed", 1, "--max-iter", 4, "--quiet",
            "--threads", 2, *extra, cwd=cwd)
    assert p.returncode == 0, p.stderr
    with h5py.File(cwd / out) as f:
        return f["centroids"][()], f["labels"][()], int(f.attrs["streamed"])


# 600,000 x 4 float32 (9.6 MB): streamed under --memory 30M (24 MiB of it
# go to the program), loaded without a budget.
N, D = 600_000, 4


@pytest.fixture(scope="module")
def rows():
    return np.random.default_rng(5).normal(size=(N, D)).astype(np.float32)


def test_external_link_is_read_from_its_target(tmp_path, rows):
    with h5py.File(tmp_path / "target.h5", "w") as f:
        f["X"] = rows
    with h5py.File(tmp_path / "linker.h5", "w") as f:
        # the linking file is larger than the target, so the target's
        # offsets fall inside it: reading them there gives other bytes
        f["pad"] = np.random.default_rng(6).normal(size=3 * N)
        f["X"] = h5py.ExternalLink("target.h5", "/X")
    want = fit(tmp_path, "target.h5:/X", "a.h5")
    assert want[2] == 0
    for out, extra in (("b.h5", ()), ("c.h5", ("--memory", "30M"))):
        got = fit(tmp_path, "linker.h5:/X", out, *extra)
        assert got[2] == (out == "c.h5")
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_external_raw_files_are_read_and_checked(tmp_path, rows):
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["X"] = rows
    half = N // 2 * D * 4
    rows.tofile(tmp_path / "raw.bin")
    with open(tmp_path / "raw.bin", "rb") as f:
        data = f.read()
    (tmp_path / "one.bin").write_bytes(b"\0" * 100 + data[:half])  # at offset 100
    (tmp_path / "two.bin").write_bytes(data[half:])
    with h5py.File(tmp_path / "ext.h5", "w") as f:
        f.create_dataset("X", shape=rows.shape, dtype="f4",
                         external=[("one.bin", 100, half), ("two.bin", 0, h5py.h5f.UNLIMITED)])
    want = fit(tmp_path, "plain.h5:/X", "a.h5")
    for out, extra in (("b.h5", ()), ("c.h5", ("--memory", "30M"))):
        got = fit(tmp_path, "ext.h5:/X", out, *extra)
        assert got[2] == (out == "c.h5")
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])

    # a short external file: libhdf5 would read its missing bytes as zeros
    (tmp_path / "two.bin").write_bytes(data[half:-40])
    p = run("kmeans", "ext.h5:/X", "-k", 3, "-o", "d.h5", cwd=tmp_path)
    assert p.returncode == 1
    assert "external file 'two.bin', which has" in p.stderr and "truncated" in p.stderr
    assert not (tmp_path / "d.h5").exists()
    # a missing one; a relative name is looked up from the working directory
    (tmp_path / "two.bin").unlink()
    p = run("kmeans", "ext.h5:/X", "-k", 3, "-o", "d.h5", cwd=tmp_path)
    assert p.returncode == 1 and "'two.bin', which cannot be opened" in p.stderr
    assert "working directory" in p.stderr


def test_virtual_dataset_is_refused_and_listed_as_such(tmp_path, rows):
    small = rows[:1000]
    with h5py.File(tmp_path / "vds.h5", "w") as f:
        f["a"] = small[:500]
        f["b"] = small[500:]
        layout = h5py.VirtualLayout(shape=small.shape, dtype="f4")
        layout[:500] = h5py.VirtualSource(f["a"])
        layout[500:] = h5py.VirtualSource(f["b"])
        f.create_virtual_dataset("X", layout)
    p = run("kmeans", "vds.h5:/X", "-k", 3, "-o", "o.h5", cwd=tmp_path)
    assert p.returncode == 1
    assert "'/X' in 'vds.h5' is a virtual dataset" in p.stderr
    assert not (tmp_path / "o.h5").exists()

    p = run("info", "vds.h5", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    objs = {o["path"]: o for o in json.loads(p.stdout)["objects"]}
    assert objs["/X"]["layout"] == "virtual" and objs["/X"]["command"] == ""
    assert objs["/a"]["layout"] == "contiguous" and "kmeans" in objs["/a"]["command"]
    assert objs["/"]["layout"] is None
    text = run("info", "vds.h5", cwd=tmp_path).stdout
    assert "virtual (a map of other datasets" in text


def test_info_names_every_layout(tmp_path):
    x = np.arange(40.0).reshape(20, 2)
    with h5py.File(tmp_path / "l.h5", "w") as f:
        f.create_dataset("contiguous", data=x)
        f.create_dataset("chunked", data=x, chunks=(5, 2))
        sid = h5py.h5s.create_simple(x.shape)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F64LE, sid, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, x)
        f.create_dataset("external", shape=x.shape, dtype="f8",
                         external=[("x.bin", 0, h5py.h5f.UNLIMITED)])
    x.tofile(tmp_path / "x.bin")
    p = run("info", "l.h5", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    objs = {o["path"]: o for o in json.loads(p.stdout)["objects"]}
    for name in ("contiguous", "chunked", "compact", "external"):
        assert objs["/" + name]["layout"] == name
    text = run("info", "l.h5", cwd=tmp_path).stdout
    assert "[20 x 2], compact," in text and "contiguous in external files" in text
    # each is read as h5py reads it: the same fit as of the values in memory
    # (the Python binding, the same seed)
    import strata
    want = strata.KMeans(n_clusters=3, random_state=4).fit(x).cluster_centers_
    for name in ("contiguous", "chunked", "compact", "external"):
        p = run("kmeans", f"l.h5:/{name}", "-k", 3, "--seed", 4, "-o", f"{name}.out.h5",
                "--quiet", cwd=tmp_path)
        assert p.returncode == 0, (name, p.stderr)
        with h5py.File(tmp_path / f"{name}.out.h5") as f:
            np.testing.assert_array_equal(f["centroids"][()], want, err_msg=name)
