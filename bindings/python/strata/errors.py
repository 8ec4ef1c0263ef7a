"""Exceptions raised by the binding.

Every failing libstrata call raises a subclass of :class:`Error` that carries
the library's status code (``.code``) and message (``.message``). The
subclasses also derive from the matching built-in exception, so code written
for scikit-learn or plain Python catches them as usual:

==============================  =====================  ==========================
status codes                    class                  also a
==============================  =====================  ==========================
-1xx arguments and data         ArgumentError          ValueError
(data of a non-numeric type)    DTypeError             ValueError, TypeError
-2xx I/O (HDF5 files)           FileError              OSError
-206 output file exists         OutputExistsError      FileExistsError
-3xx resources                  OutOfMemoryError       MemoryError
-400 state (not fitted)         NotFittedError         ValueError, AttributeError
-500 progress callback stopped  Cancelled
-9xx internal                   InternalError          RuntimeError
==============================  =====================  ==========================

Checks made in Python before calling the library raise the same classes.
:class:`ClosedError` (a ValueError) reports use of a closed estimator.
"""

import sys


class Error(Exception):
    """Base class of every libstrata error.

    Attributes:
        code: the libstrata status code (a negative ``STRATA_E_*`` value).
        message: the library's message naming the problem.
    """

    code = -900

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self):
        return self.message


class ArgumentError(Error, ValueError):
    """Bad argument or data (-1xx): dtype, shape, NaN/Inf, weights, k > n, ..."""

    code = -101


class DTypeError(ArgumentError, TypeError):
    """Data of a type that is not read as numbers (strings, booleans,
    timedeltas, objects that are not numbers, ...): raised by the binding
    before calling the library. A TypeError, as scikit-learn and numpy raise
    for such data, and an ArgumentError for code that catches those."""


class FileError(Error, OSError):
    """An HDF5 file could not be opened, read or written (-2xx)."""

    code = -200


class OutputExistsError(FileError, FileExistsError):
    """The output file exists and overwriting was not asked for (-206)."""

    code = -206


class OutOfMemoryError(Error, MemoryError):
    """Out of memory, or a size overflow (-3xx)."""

    code = -300


class StateError(Error, ValueError):
    """The call is not valid in the object's current state (-4xx)."""

    code = -400


class NotFittedError(StateError, AttributeError):
    """The model is not fitted yet (-400); like sklearn.exceptions.NotFittedError."""


class ClosedError(StateError):
    """The estimator was closed: its library handle is freed."""


class Cancelled(Error):
    """The progress callback asked the fit to stop (-500); the previous model is kept."""

    code = -500


class ConvergenceWarning(UserWarning):
    """A fit found fewer distinct clusters than asked for (fewer distinct
    points than n_clusters). When scikit-learn is installed the warning
    issued is also a ``sklearn.exceptions.ConvergenceWarning``."""


class InternalError(Error, RuntimeError):
    """A bug in libstrata (-9xx): please report it."""

    code = -900


_CONVERGENCE_WARNINGS = {}


def convergence_warning():
    """The class to warn with: :class:`ConvergenceWarning`, or a subclass that
    is also scikit-learn's ConvergenceWarning when ``sklearn.exceptions`` is
    imported (code filtering on scikit-learn's class has imported it; never
    importing scikit-learn here keeps ``import strata`` light)."""
    sk = getattr(sys.modules.get("sklearn.exceptions"), "ConvergenceWarning", None)
    if sk is None:
        return ConvergenceWarning
    if sk not in _CONVERGENCE_WARNINGS:
        _CONVERGENCE_WARNINGS[sk] = type("ConvergenceWarning", (ConvergenceWarning, sk),
                                         {"__module__": __name__,
                                          "__doc__": ConvergenceWarning.__doc__})
    return _CONVERGENCE_WARNINGS[sk]


_BY_CODE = {-206: OutputExistsError, -400: NotFittedError, -500: Cancelled}
_BY_CATEGORY = {1: ArgumentError, 2: FileError, 3: OutOfMemoryError, 4: StateError,
                5: Cancelled, 9: InternalError}


def error_for(code, message):
    """The exception instance for a non-OK libstrata status and its message."""
    cls = _BY_CODE.get(code) or _BY_CATEGORY.get(-code // 100, Error)
    return cls(message, code)
