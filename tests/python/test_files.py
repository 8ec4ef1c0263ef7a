"""The library's file rules seen from Python (issue 12): write_h5 never
replaces the file the model was fitted from, even with force=True and under
another name; only a regular file is replaced and it keeps its mode; a FIFO
is refused as input at once; temporaries of dead writers are swept."""

import faulthandler
import os
import stat
import subprocess

import numpy as np
import pytest

import strata
from conftest import make_blobs

h5py = pytest.importorskip("h5py", reason="h5py is not installed")


@pytest.fixture
def source(tmp_path):
    X, _, _ = make_blobs(500, 3, 4, seed=5)
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as f:
        f["x"] = X
    return path, X


def test_write_h5_refuses_the_fit_h5_source(tmp_path, source):
    src, X = source
    os.link(src, tmp_path / "hard.h5")
    os.symlink("in.h5", tmp_path / "soft.h5")
    before = src.read_bytes()
    km = strata.KMeans(4, random_state=0).fit_h5(src, "/x")
    for target in (src, tmp_path / "hard.h5", tmp_path / "soft.h5"):
        with pytest.raises(strata.FileError, match="fitted from") as info:
            km.write_h5(target, force=True)
        assert isinstance(info.value, OSError) and info.value.code == -205
        assert str(target) in info.value.message
    assert src.read_bytes() == before
    assert (tmp_path / "soft.h5").is_symlink()
    assert not [p for p in tmp_path.iterdir() if ".tmp." in p.name]
    # fitted again in memory, the model no longer comes from the file
    km.fit(X[:100])
    km.write_h5(tmp_path / "hard.h5", force=True)
    assert src.read_bytes() == before  # the link was replaced, not the file behind it
    with h5py.File(tmp_path / "hard.h5", "r") as f:
        assert f["labels"].shape == (100,)


def test_write_h5_replaces_only_regular_files_and_keeps_the_mode(tmp_path, source):
    km = strata.KMeans(4, random_state=0).fit(source[1])
    fifo = tmp_path / "fifo.h5"
    os.mkfifo(fifo)
    with pytest.raises(strata.FileError, match="FIFO"):
        km.write_h5(fifo, force=True)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    out = tmp_path / "out.h5"
    km.write_h5(out)
    out.chmod(0o600)
    km.write_h5(out, force=True)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_fifo_input_is_refused_at_once(tmp_path):
    fifo = tmp_path / "in.h5"
    os.mkfifo(fifo)
    faulthandler.dump_traceback_later(60, exit=True)  # a blocked open fails the run, not hangs it
    try:
        with pytest.raises(strata.FileError, match="FIFO") as info:
            strata.KMeans(2).fit_h5(fifo, "/x")
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert info.value.code == -201


def test_write_h5_sweeps_temporaries_of_dead_writers(tmp_path, source):
    child = subprocess.Popen(["true"])
    child.wait()  # its pid is now free
    stale = tmp_path / f"out.h5.tmp.{child.pid}.1"
    other = tmp_path / f"out.h5.tmp.{os.getppid()}.1"  # a live process's
    stale.write_bytes(b"partial")
    other.write_bytes(b"partial")
    strata.KMeans(4, random_state=0).fit(source[1]).write_h5(tmp_path / "out.h5")
    assert not stale.exists() and other.exists()
    with h5py.File(tmp_path / "out.h5", "r") as f:
        np.testing.assert_array_equal(f["labels"].shape, (500,))
