"""Find, load and check libstrata.

Places tried, in order:

1. the file named by the ``STRATA_LIBRARY`` environment variable (if set, it is
   the only place tried: a wrong path is an error, not a fallback);
2. ``libstrata.so.0`` next to this package (a wheel or a copy that bundles it);
3. the CMake build tree of a source checkout, ``<repo>/build/libstrata.so.0``,
   when the package is run from ``<repo>/bindings/python``;
4. the system loader: ``libstrata.so.0`` (LD_LIBRARY_PATH, ldconfig cache),
   then whatever ``ctypes.util.find_library("strata")`` names.

A library is accepted when it loads, exports every function in
``_ffi.FUNCTIONS`` and reports the same major version as this binding and a
minor version at least as new (the C API is backward compatible within one
major version). Otherwise the next place is tried; if none fits, ImportError
lists every place and why it was rejected.
"""

import ctypes
import ctypes.util
import os
from pathlib import Path

from . import _ffi
from ._version import SONAME, __version__

_EXPECTED = tuple(int(part) for part in __version__.split(".")[:2])


def _candidates():
    """Yield the places to try, in order (see the module docstring)."""
    package_dir = Path(__file__).resolve().parent
    yield str(package_dir / SONAME)
    if package_dir.parent.name == "python" and package_dir.parents[1].name == "bindings":
        yield str(package_dir.parents[2] / "build" / SONAME)
    yield SONAME
    found = ctypes.util.find_library("strata")
    if found and found != SONAME:
        yield found


def _open(place):
    """Load and declare one library; return (cdll, None) or (None, reason)."""
    try:
        cdll = _ffi.declare(ctypes.CDLL(place))
    except OSError as exc:
        return None, str(exc)
    except AttributeError as exc:
        return None, f"not a compatible libstrata ({exc})"
    number = cdll.strata_version_number()
    found = (number // 10000, number // 100 % 100)
    if found[0] != _EXPECTED[0] or found[1] < _EXPECTED[1]:
        version = cdll.strata_version_string().decode()
        return None, (f"version {version}, but the binding {__version__} needs "
                      f"{_EXPECTED[0]}.{_EXPECTED[1]} or a later {_EXPECTED[0]}.x")
    return cdll, None


def load():
    """Return ``(declared ctypes library, the place it was loaded from)``, or raise ImportError."""
    explicit = os.environ.get("STRATA_LIBRARY")
    places = [explicit] if explicit else list(_candidates())
    rejected = []
    for place in places:
        cdll, reason = _open(place)
        if cdll is not None:
            return cdll, place
        rejected.append(f"  {place}: {reason}")
    where = "STRATA_LIBRARY" if explicit else "any of these places"
    raise ImportError(f"strata: cannot load libstrata from {where}:\n" + "\n".join(rejected) +
                      "\nBuild it (cmake --build build) or set STRATA_LIBRARY to the path of "
                      f"{SONAME}.")


lib, path = load()
