"""The bad-input catalogue of issue 12: every reported way to lose data, crash,
hang or answer wrong in silence, run through the `strata` program and through
the Python binding. Each case checks the exit status or exception, a one-line
message naming the problem, the inputs byte-for-byte unchanged, and no
output (or the old output untouched) after a failure.

The program is $STRATA_CLI (set by CTest); without it the CLI half of each
case is skipped. Detailed tests of each area live beside this one
(test_files.py, test_overflow.py, tests/cli/test_corrupt_cli.sh, ...): this
file is the one place that lists them all against both front ends."""
import hashlib
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import strata

h5py = pytest.importorskip("h5py", reason="h5py is not installed")

CLI = os.environ.get("STRATA_CLI")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import mutants  # noqa: E402  (tests/cli/mutants.py: the hand-made corrupted files)

needs_cli = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cli(*args, timeout=60):
    run = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return run.returncode, run.stderr.strip()


def refused(code, err, status, text):
    assert code == status, (code, err)
    assert len(err.splitlines()) == 1 and text in err, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("catalogue")
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(loc, 0.3, size=(200, 3)) for loc in (0, 5, 10)])
    with h5py.File(d / "in.h5", "w") as f:
        f["x"] = x
        f["x32big"] = (x * 1e20).astype(np.float32)
        f["x32"] = x.astype(np.float32)
        f["x64huge"] = x * 1e155
    with h5py.File(d / "init.h5", "w") as f:
        f["c"] = x[[0, 200, 400]]
    n = 600
    with h5py.File(d / "tx.h5", "w") as f:
        f["cust"] = np.arange(n) % 50
        f["day"] = 18000 + np.arange(n) % 300
        f["amt"] = np.round(rng.gamma(2, 20, n), 2)
        f["amt_huge"] = np.where(np.arange(n) % 50 == 7, 1e308, 1.0)
    (d / "rules.txt").write_text("Best: r=4-5 f=4-5 m=4-5\nRest: r=1-5\n")
    mutants.targeted(str(d / "t"))
    return d


RFM_COLS = ["--customer", "/cust", "--time", "/day", "--amount", "/amt"]


# ---- 1. data loss with --force -----------------------------------------------

@needs_cli
def test_init_file_as_output(files, tmp_path):
    before = sha(files / "init.h5")
    refused(*cli("kmeans", f"{files}/in.h5:/x", "-k", 3, "--init", f"{files}/init.h5:/c",
                 "-o", files / "init.h5", "--force"), 2, "init.h5")
    assert sha(files / "init.h5") == before


@needs_cli
def test_segments_file_as_output(files):
    before = sha(files / "rules.txt")
    refused(*cli("rfm", files / "tx.h5", *RFM_COLS, "--segments", files / "rules.txt",
                 "-o", files / "rules.txt", "--force"), 2, "rules.txt")
    assert sha(files / "rules.txt") == before


@needs_cli
@pytest.mark.parametrize("target", ["/dev/null", "fifo"])
def test_device_or_fifo_output(files, tmp_path, target):
    if target == "fifo":
        target = tmp_path / "fifo"
        os.mkfifo(target)
    kind = os.stat(target).st_mode
    code, err = cli("kmeans", f"{files}/in.h5:/x", "-k", 3, "-o", target, "--force")
    refused(code, err, 2, str(target))
    assert os.stat(target).st_mode == kind  # still the device or FIFO


def test_python_write_onto_fit_source(files, tmp_path):
    src = tmp_path / "src.h5"
    src.write_bytes((files / "in.h5").read_bytes())
    before = sha(src)
    km = strata.KMeans(3, random_state=0).fit_h5(str(src), "/x")
    with pytest.raises(strata.FileError, match="src.h5"):
        km.write_h5(str(src), force=True)
    assert sha(src) == before


@needs_cli
def test_input_as_output(files):
    before = sha(files / "in.h5")
    refused(*cli("kmeans", f"{files}/in.h5:/x", "-k", 3, "-o", files / "in.h5", "--force"), 2,
            "in.h5")
    assert sha(files / "in.h5") == before


@needs_cli
def test_force_keeps_mode(files, tmp_path):
    out = tmp_path / "out.h5"
    out.write_bytes(b"old")
    os.chmod(out, 0o600)
    assert cli("kmeans", f"{files}/in.h5:/x", "-k", 3, "-o", out, "--force")[0] == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


# ---- 2. silent wrong answers ---------------------------------------------------

@needs_cli
def test_uint64_ids_cli(files, tmp_path):
    out = tmp_path / "u.h5"
    code, err = cli("rfm", f"{files}/t/u64_ids.h5", "--customer", "/cust", "--time", "/day",
                    "--amount", "/amt", "-o", out)
    assert code == 0, err
    with h5py.File(out) as f:
        assert f.attrs["bad_id"] == 500


def test_uint64_ids_python(files):
    with h5py.File(files / "t" / "u64_ids.h5") as f:
        ids, day, amt = f["cust"][:], f["day"][:], f["amt"][:]
    r = strata.rfm(ids, day, amt)
    assert r.report["bad_id"] == 500
    assert np.array_equal(r.customer_id, np.unique(ids[ids < 2**63]).astype(np.int64))


@needs_cli
def test_overflowing_amounts_cli(files, tmp_path):
    out = tmp_path / "o.h5"
    refused(*cli("rfm", files / "tx.h5", "--customer", "/cust", "--time", "/day", "--amount",
                 "/amt_huge", "-o", out), 1, "sum beyond the double range")
    assert not out.exists()


def test_overflowing_amounts_python(files):
    with h5py.File(files / "tx.h5") as f:
        c, t, a = f["cust"][:], f["day"][:], f["amt_huge"][:]
    with pytest.raises(strata.ArgumentError, match="sum beyond the double range"):
        strata.rfm(c, t, a)


def test_float32_huge_scale_python(files):
    with h5py.File(files / "in.h5") as f:
        big, small = f["x32big"][:], f["x32"][:]
    init = small[[0, 200, 400]].astype(np.float64)
    a = strata.KMeans(3, init=init).fit(small)
    b = strata.KMeans(3, init=init * 1e20).fit(big)
    assert np.array_equal(a.labels_, b.labels_)
    assert len(np.unique(b.labels_)) == 3


@needs_cli
def test_float64_squares_overflow_cli(files, tmp_path):
    out = tmp_path / "o.h5"
    refused(*cli("kmeans", f"{files}/in.h5:/x64huge", "-k", 3, "-o", out), 1, "overflow")
    assert not out.exists()


# ---- 3./4. corrupted files, hangs ----------------------------------------------

CORRUPT = [("big_integer.h5", "15728640 bytes"), ("huge_extent.h5", "21600000000 bytes"),
           ("big_record.h5", "15728640 bytes")]


@needs_cli
@pytest.mark.parametrize("name,text", CORRUPT)
def test_corrupt_transactions_cli(files, tmp_path, name, text):
    path = files / "t" / name
    before = sha(path)
    args = (["--table", "/tx", "--customer", "cust", "--time", "day", "--amount", "amt"]
            if name == "big_record.h5" else
            ["--customer", "/cust", "--time", "/day", "--amount", "/amt"])
    out = tmp_path / "o.h5"
    refused(*cli("rfm", path, *args, "-o", out, timeout=30), 1, text)
    assert sha(path) == before and not out.exists()


@needs_cli
def test_truncated_matrix_cli(files, tmp_path):
    cut = tmp_path / "cut.h5"
    cut.write_bytes((files / "in.h5").read_bytes()[:1500])
    refused(*cli("kmeans", f"{cut}:/x", "-k", 2, "-o", tmp_path / "o.h5"), 1, "truncated file")


def test_truncated_matrix_python(files, tmp_path):
    cut = tmp_path / "cut.h5"
    cut.write_bytes((files / "in.h5").read_bytes()[:1500])
    with pytest.raises(strata.FileError, match="truncated file"):
        strata.KMeans(2).fit_h5(str(cut), "/x")


@needs_cli
def test_fifo_input_cli(tmp_path):
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    refused(*cli("kmeans", f"{fifo}:/x", "-k", 2, "-o", tmp_path / "o.h5", timeout=20), 1,
            "in.fifo")


def test_fifo_input_python(tmp_path):
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    with pytest.raises(strata.FileError, match="in.fifo"):
        strata.KMeans(2).fit_h5(str(fifo), "/x")


@needs_cli
def test_n_init_bound_cli(files, tmp_path):
    refused(*cli("kmeans", f"{files}/in.h5:/x", "-k", 2, "-o", tmp_path / "o.h5", "--n-init",
                 2147483648), 2, "n_init")


def test_n_init_bound_python(files):
    with pytest.raises(strata.ArgumentError, match="n_init"):
        strata.KMeans(2, n_init=2**31).fit(np.zeros((10, 2)) + np.arange(10)[:, None])


# ---- 6. messages -------------------------------------------------------------

def test_nul_in_path_python(files):
    with pytest.raises(ValueError):
        strata.KMeans(2).fit_h5(str(files / "in.h5") + "\0.evil", "/x")
    with pytest.raises(ValueError):
        strata.KMeans(2).fit_h5(str(files / "in.h5"), "/x\0y")
