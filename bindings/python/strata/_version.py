"""Version of the Python binding (kept apart so that packaging can read it
without loading the C library).

Generated from the one source of the version, project(strata VERSION ...) in
CMakeLists.txt, through cmake/python_version.py.in; the test version.python
fails when this copy differs. After changing the version run
``cmake --build build --target strata_python_version``.
"""

__version__ = "0.1.0"
#: The C library this binding loads: libstrata.so.<major version>.
SONAME = "libstrata.so.0"
