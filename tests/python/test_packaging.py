"""`pip install` of bindings/python works offline and the result imports."""

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

import strata
from conftest import SOURCE_PACKAGE


@pytest.mark.skipif(importlib.util.find_spec("pip") is None
                    or importlib.util.find_spec("setuptools") is None,
                    reason="pip or setuptools is not installed")
def test_pip_install_target(tmp_path):
    source = tmp_path / "src"  # a copy: pip builds in place
    shutil.copytree(SOURCE_PACKAGE, source, ignore=shutil.ignore_patterns("__pycache__", "build",
                                                                          "*.egg-info"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation",
                    "--no-deps", "--no-index", "--target", str(target), str(source)],
                   check=True, capture_output=True)
    library = strata.library_path
    env = dict(os.environ, PYTHONPATH=str(target),
               STRATA_LIBRARY=os.path.abspath(library) if os.path.exists(library) else library)
    code = "import strata; print(strata.__file__, strata.__version__, strata.library_version)"
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    assert out[0].startswith(str(target)) and out[1] == strata.__version__
