"""The strata program at the limits of the process and the file system: the
file size limit (ulimit -f), a standard output that cannot be written, and
output names as long as a file name may be.

Past the file size limit a write raises SIGXFSZ, which ended the run as a
"crash on a corrupt input" with its temporary left; sweep and info printed
into /dev/full and ended with status 0; a 250-byte output name failed, for
its temporary's name was longer than NAME_MAX.

The program is $STRATA_CLI (set by CTest); skipped without it."""
import os
import resource
import subprocess

import pytest

h5py = pytest.importorskip("h5py", reason="h5py is not installed")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")


def run(*args, cwd, fsize=None, stdout=subprocess.PIPE):
    def limit():
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))

    return subprocess.run([CLI, *map(str, args)], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, cwd=cwd, preexec_fn=limit)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("limits")
    p = run("gen", "blobs", "-o", "x.h5", "--n", 200_000, "--d", 8, "--k", 4, "--seed", 2,
            cwd=d)
    assert p.returncode == 0, p.stderr
    p = run("gen", "transactions", "-o", "tx.h5", "--customers", 20_000, "--seed", 3, cwd=d)
    assert p.returncode == 0, p.stderr
    return d


TX = ["--customer", "/tx/customer_id", "--time", "/tx/day", "--amount", "/tx/amount"]


def test_file_size_limit_is_an_error(data, tmp_path):
    # the result (~65 KB: 200,000 gzipped labels) beyond a 4 KB limit
    p = run("kmeans", data / "x.h5:/x", "-k", 4, "-o", "o.h5", "--quiet", cwd=tmp_path,
            fsize=4096)
    assert p.returncode == 1, p.stderr
    assert "File too large: beyond the file size limit of this process (ulimit -f)" in p.stderr
    assert "crash" not in p.stderr
    assert os.listdir(tmp_path) == []  # no temporary left

    # an old file stays as it was
    p = run("kmeans", data / "x.h5:/x", "-k", 4, "-o", "o.h5", "--quiet", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    before = (tmp_path / "o.h5").read_bytes()
    p = run("kmeans", data / "x.h5:/x", "-k", 5, "-o", "o.h5", "--quiet", "--force",
            cwd=tmp_path, fsize=4096)
    assert p.returncode == 1 and "ulimit -f" in p.stderr
    assert (tmp_path / "o.h5").read_bytes() == before
    assert os.listdir(tmp_path) == ["o.h5"]


def test_file_size_limit_in_out_of_core_spills(data, tmp_path):
    # the spilled parts of an out-of-core RFM fit (MBs) beyond a 256 KB limit
    spill = tmp_path / "spill"
    spill.mkdir()
    p = run("rfm", data / "tx.h5", *TX, "-o", "r.h5", "--memory", "26M", "--tmpdir", spill,
            "--quiet", cwd=tmp_path, fsize=256 * 1024)
    assert p.returncode == 1, p.stderr
    assert "cannot write temporary files" in p.stderr and "ulimit -f" in p.stderr
    assert os.listdir(spill) == [] and not (tmp_path / "r.h5").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("cmd", ["info", "sweep"])
def test_a_full_standard_output_fails_the_run(data, tmp_path, cmd):
    args = (["info", data / "x.h5", "--json"] if cmd == "info"
            else ["sweep", data / "x.h5:/x", "-k", "2:3", "--progress", "none"])
    with open("/dev/full", "w") as full:
        p = run(*args, cwd=tmp_path, stdout=full)
    assert p.returncode == 1
    assert "cannot write the standard output: No space left on device" in p.stderr


def test_output_names_as_long_as_a_file_name(data, tmp_path):
    name = "f" * 252 + ".h5"  # NAME_MAX (255) bytes
    p = run("kmeans", data / "x.h5:/x", "-k", 3, "-o", name, "--quiet", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    with h5py.File(tmp_path / name) as f:
        assert f["labels"].shape == (200_000,)
    p = run("kmeans", data / "x.h5:/x", "-k", 2, "-o", name, "--quiet", "--force",
            cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert os.listdir(tmp_path) == [name]
    with h5py.File(tmp_path / name) as f:
        assert f["centroids"].shape == (2, 8)
