"""Parameter types, bounds and defaults read from the library's key catalogue
(``strata_key_*``, ``strata_param_*`` in include/strata.h), so that the binding
checks values against the bounds the C setters enforce instead of copies of
the header's prose."""

import ctypes
import functools
import math
import numbers
import re
import sys

from . import _ffi
from ._lib import lib
from .errors import ArgumentError

_INT64_MAX = 2**63 - 1


def _fail():
    raise ArgumentError((lib.strata_last_error() or b"").decode(), -102)


@functools.lru_cache(maxsize=None)
def int_bounds(key):
    """(lo, hi), the inclusive range the library accepts for integer parameter ``key``."""
    lo, hi = ctypes.c_int64(), ctypes.c_int64()
    if lib.strata_param_int_bounds(key, ctypes.byref(lo), ctypes.byref(hi)):
        _fail()
    return lo.value, hi.value


@functools.lru_cache(maxsize=None)
def double_bounds(key):
    """(lo, hi), the inclusive finite range of double parameter ``key``."""
    lo, hi = ctypes.c_double(), ctypes.c_double()
    if lib.strata_param_double_bounds(key, ctypes.byref(lo), ctypes.byref(hi)):
        _fail()
    return lo.value, hi.value


def default(key):
    """The value a new handle has for parameter ``key``."""
    if lib.strata_key_type(key) == _ffi.VALUE_DOUBLE:
        out = ctypes.c_double()
        status = lib.strata_param_default_double(key, ctypes.byref(out))
    else:
        out = ctypes.c_int64()
        status = lib.strata_param_default_int(key, ctypes.byref(out))
    if status:
        _fail()
    return out.value


def catalogue():
    """Every key the library knows: {name: {"key", "kind", "type", "handles"[, "bounds",
    "default"]}}, kind "param" or "result", type "int" or "double"."""
    out = {}
    for i in range(lib.strata_key_count()):
        key = lib.strata_key_at(i)
        kind = "param" if lib.strata_key_kind(key) == _ffi.KEY_PARAM else "result"
        vtype = "double" if lib.strata_key_type(key) == _ffi.VALUE_DOUBLE else "int"
        entry = {"key": key, "kind": kind, "type": vtype, "handles": lib.strata_key_handles(key)}
        if kind == "param":
            entry["bounds"] = double_bounds(key) if vtype == "double" else int_bounds(key)
            entry["default"] = default(key)
        out[lib.strata_key_name(key).decode()] = entry
    return out


def check_int(name, value, key):
    """``value`` as a Python int within the library's bounds for ``key``, or ArgumentError."""
    lo, hi = int_bounds(key)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or \
            not lo <= value <= hi:
        what = f"an int >= {lo}" if hi == _INT64_MAX else f"in [{lo}, {hi}] (an int)"
        if hi == _INT64_MAX and isinstance(value, numbers.Integral) and value > hi:
            what += " below 2**63"
        raise ArgumentError(f"{name} must be {what}, got {value!r}", -102)
    return int(value)


_SIZE = re.compile(r"[ \t]*([0-9]+)(?:\.([0-9]+))?(?:([KMGT])(?:I?B)?|B)?[ \t]*", re.IGNORECASE)
_SHIFT = {"K": 10, "M": 20, "G": 30, "T": 40}


def size_bytes(name, value, key):
    """A memory budget as bytes: None (0, no limit), an int >= 0, or text in
    the grammar of the `strata` program's --memory: digits ("1000000",
    "1000000B"), or a number with K, M, G or T, powers of 1024, optionally
    followed by B or iB ("1G", "1.5GiB", "512m"; rounded down to a byte),
    blanks around it ignored. A sign, an exponent, a fraction of a byte, a
    nonzero size below one byte or 2^63 bytes or more raise ArgumentError."""
    if value is None:
        return 0
    if not isinstance(value, str):
        return check_int(name, value, key)
    m = _SIZE.fullmatch(value)
    size = -1
    if m and (m.group(3) or not m.group(2)):  # a fraction needs a unit
        shift = _SHIFT[m.group(3).upper()] if m.group(3) else 0
        frac = (m.group(2) or "")[:6]  # six digits, as the program
        size = (int(m.group(1)) << shift) + \
            ((int(frac or "0") << shift) // 10 ** len(frac) if frac else 0)
        if size == 0 and any(c in "123456789" for c in m.group(1) + (m.group(2) or "")):
            size = -1  # a nonzero size below one byte
    if not 0 <= size <= _INT64_MAX:
        raise ArgumentError(f"{name} must be None, an int of bytes >= 0 or a size such as '1G', "
                            f"'1.5G', '512M' or '1000000' (K, M, G, T: powers of 1024), "
                            f"got {value!r}", -102)
    return size


def check_real(name, value, key):
    """``value`` as a finite float within the library's bounds for ``key``, or ArgumentError."""
    lo, hi = double_bounds(key)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not (math.isfinite(value) and lo <= value <= hi):
        what = f">= {lo:g}" if hi == sys.float_info.max else f"in [{lo:g}, {hi:g}]"
        raise ArgumentError(f"{name} must be a finite float {what}, got {value!r}", -102)
    return float(value)
