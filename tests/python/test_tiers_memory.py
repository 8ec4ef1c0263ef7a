"""`strata tiers --memory`: under a budget the output file is written onto
the disk part by part (strata_out_open's STRATA_WRITE_ON_DISK) instead of
being built in memory. The file holds what the in-memory write gives
(read back with h5py), a file size limit fails the run cleanly, and the
run's peak stays within the bound its --memory help states (the in-memory
image ran over it). Needs $STRATA_CLI (set by CTest)."""

import os
import resource
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import peak_of

h5py = pytest.importorskip("h5py")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")

TX = ["--customer", "/tx/customer_id", "--time", "/tx/day", "--amount", "/tx/amount"]
FIXED = 24 << 20  # the RFM step's least budget: 24 MiB + 128 bytes a customer


def run_cli(*args, **kw):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiers_memory") / "tx.h5"
    r = run_cli("gen", "transactions", "-o", path, "--customers", 20_000, "--seed", 3,
                "--quiet")
    assert r.returncode == 0, r.stderr
    return path


def content(path):
    """Every dataset and every attribute (of the root, groups and datasets)
    by path, as h5py reads them."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
            for k, v in obj.attrs.items():
                out[f"{name}@{k}"] = v
        f.visititems(visit)
        for k, v in f.attrs.items():
            out[f"@{k}"] = v
    return out


def same_value(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind == "O" or y.dtype.kind == "O":  # variable-length strings
        return x.shape == y.shape and x.tolist() == y.tolist()
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.mark.parametrize("extra", [["-k", "4"], ["-k", "2:4", "--clv"]])
def test_on_disk_output_is_the_in_memory_one(log, tmp_path, extra):
    args = ["tiers", log, *TX, "--seed", "1", "--quiet", *extra]
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    r = run_cli(*args, "-o", a)
    assert r.returncode == 0, r.stderr
    r = run_cli(*args, "-o", b, "--memory", FIXED + 200 * 20_000)
    assert r.returncode == 0, r.stderr
    ca, cb = content(a), content(b)
    assert ca.keys() == cb.keys()
    assert "clv/clv" in ca if "--clv" in extra else "labels" in ca
    budget = {"@memory", "rfm@memory"}  # the budget, recorded where it applied
    assert ca["@memory"] == 0 and cb["@memory"] == FIXED + 200 * 20_000
    for k in ca.keys() - budget:
        if not k.endswith("@created"):
            assert same_value(ca[k], cb[k]), k
    assert sorted(os.listdir(tmp_path)) == ["a.h5", "b.h5"]  # no temporary left


@pytest.mark.parametrize("limit", [64 << 10, 1_500_000, 8 << 20])
def test_file_size_limit_fails_cleanly(log, tmp_path, limit):
    """The output (1.8 MB) beyond ulimit -f (at the first part, or after
    some parts were written): the reservation ahead of each part fails,
    named, before HDF5 writes (a failed write inside HDF5 leaves its file
    unclosable): exit 1, no temporary, the existing output kept as it was.
    Under a limit it fits in, the run goes through."""
    def fsize():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    out = tmp_path / "out.h5"
    out.write_bytes(b"old")
    r = run_cli("tiers", log, *TX, "-k", "4", "--clv", "--seed", "1", "--quiet", "-o", out,
                "--force", "--memory", "64M", preexec_fn=fsize)  # the log's rows fit: no spill
    assert os.listdir(tmp_path) == ["out.h5"]
    if limit > 2 << 20:
        assert r.returncode == 0, r.stderr
        assert 1 << 20 < out.stat().st_size < 2 << 20 and len(content(out)["clv/clv"]) > 0
        return
    assert r.returncode == 1, r.stderr
    # the room reserved, not the file, is what passes the limit: said so
    assert f"cannot write '{out}': with the room it reserves as it is written (" in r.stderr \
        and "it would exceed the file size limit of this process (" in r.stderr, r.stderr
    assert out.read_bytes() == b"old"


@pytest.mark.parametrize("first", [1, 6])
def test_disk_full_fails_cleanly(log, tmp_path, first):
    """A disk with no room for the reservation (the fallocate of the output
    folder failing with ENOSPC from its first call, or from its sixth, after
    some parts were written, through tests/faults' LD_PRELOAD shim): exit 1,
    the system's reason, the old output kept, no temporary."""
    shim = Path(CLI).resolve().parents[1] / "tests" / "faults" / "libfaultfs.so"
    if not shim.exists():
        pytest.skip(f"no {shim}")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "out.h5"
    out.write_bytes(b"old")
    env = dict(os.environ, LD_PRELOAD=str(shim), FAULTFS_DIR=str(out_dir),
               FAULTFS_FAIL=f"truncate:{first}+:ENOSPC", FAULTFS_COUNT=str(tmp_path / "count"))
    r = run_cli("tiers", log, *TX, "-k", "4", "--clv", "--seed", "1", "--quiet", "-o", out,
                "--force", "--memory", "64M", env=env)
    assert r.returncode == 1, r.stderr
    assert f"cannot write '{out}': No space left on device" in r.stderr, r.stderr
    assert out.read_bytes() == b"old" and os.listdir(out_dir) == ["out.h5"]
    counts = dict(line.split() for line in (tmp_path / "count").read_text().splitlines())
    assert int(counts["truncate"]) >= first  # the reservations were made, and failed


def test_peak_within_the_stated_bound(tmp_path):
    """At the RFM step's least budget, the whole run's peak stays within
    20 MB + 180 bytes a customer (the bound tiers --memory's help states):
    these 242,117 customers (least budget 56156800) peaked at 53.0 MB; with
    the output built in memory (its image and chunk packing buffers) at
    75.8 MB, over the bound's 63.6 MB."""
    log = tmp_path / "tx.h5"
    r = run_cli("gen", "transactions", "-o", log, "--customers", 300_000, "--n", 1_000_000,
                "--seed", 4, "--quiet")
    assert r.returncode == 0, r.stderr
    args = ["tiers", log, *TX, "-k", "4", "--seed", "1", "--quiet", "-o", tmp_path / "o.h5"]
    status, _, err = peak_of(CLI, *args, "--memory", 40 << 20)
    assert status == 1 and "raise the budget to at least" in err, err
    least = int(err.split("raise the budget to at least ")[1].split()[0].rstrip(",."))
    status, peak, err = peak_of(CLI, *args, "--memory", least)
    assert status == 0, err
    with h5py.File(tmp_path / "o.h5", "r") as f:
        customers = len(f["customer_id"])
    assert peak <= 20_000_000 + 180 * customers, (peak, customers)
