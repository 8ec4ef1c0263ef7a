"""Shared fixtures of the Python binding's tests.

Run from CMake (`ctest -L python`), which sets STRATA_LIBRARY and PYTHONPATH,
or by hand after building: `/usr/bin/python3 -m pytest -q tests/python`
(the package is then taken from bindings/python and the library from build/).
"""

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SOURCE_PACKAGE = Path(__file__).resolve().parents[2] / "bindings" / "python"
if importlib.util.find_spec("strata") is None:
    sys.path.insert(0, str(SOURCE_PACKAGE))


def make_blobs(n, d, k, dtype=np.float64, seed=0):
    """n rows around k centres at least 20 apart (unit spread): labels can't
    flip on rounding. Returns (X, true labels, one row index per blob)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-100, 100, size=(k, d))
    while True:
        gaps = np.linalg.norm(centres[:, None] - centres[None], axis=2) + np.eye(k) * 1e9
        if gaps.min() >= 20:
            break
        centres = rng.uniform(-100, 100, size=(k, d))
    truth = np.arange(n) % k
    rng.shuffle(truth)
    X = (centres[truth] + rng.normal(size=(n, d))).astype(dtype)
    firsts = np.array([np.flatnonzero(truth == j)[0] for j in range(k)])
    return X, truth, firsts


@pytest.fixture
def blobs():
    X, _, _ = make_blobs(600, 3, 4)
    return X


@pytest.fixture
def default_sigint():
    """Python's default SIGINT handler, whatever the test runner set."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def peak_of(cli, *args):
    """(exit status, peak RSS bytes, stderr) of one run of the program `cli`,
    in a fresh process whose RUSAGE_CHILDREN holds that run only."""
    p = subprocess.run(
        ["/usr/bin/python3", "-c", "import resource, subprocess, sys; "
         "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
         "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
         str(cli), *map(str, args)], capture_output=True, text=True)
    status, kib = map(int, p.stdout.split())
    return status, kib * 1024, p.stderr
