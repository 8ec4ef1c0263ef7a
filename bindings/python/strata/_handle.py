"""Ownership of one ``strata_kmeans`` handle.

The C library forbids using one handle from two threads at once, and ctypes
releases the GIL during every call, so all use of a handle goes through
:meth:`KMeansHandle.session`, which holds a lock. A fit runs Python code in its
progress callback; that code must not use the same handle (it would re-enter
the library mid-fit), so doing so raises StateError instead of deadlocking.
"""

import contextlib
import ctypes
import signal
import threading
import weakref

from . import _ffi
from ._lib import lib
from .errors import ArgumentError, ClosedError, StateError, error_for


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


def _c_strings(args):
    """``args`` unchanged; ArgumentError (a ValueError) if a byte string (a path
    or dataset name) holds a NUL, which C would silently cut it at."""
    for arg in args:
        if isinstance(arg, bytes) and b"\0" in arg:
            raise ArgumentError(f"embedded null character in {arg!r}")
    return args


def _last_error(status):
    """Exception for a failed call without a handle (message in the thread's slot)."""
    return error_for(status, _text(lib.strata_last_error()) or _text(lib.strata_status_str(status)))


class _Interrupt:
    """Records Ctrl-C while a fit runs (see :func:`sigint_deferred`)."""

    requested = False

    def handler(self, _signum, _frame):
        self.requested = True


@contextlib.contextmanager
def sigint_deferred():
    """Turn Ctrl-C into a request to stop a fit, then into KeyboardInterrupt.

    Python runs signal handlers only while Python code runs: during a fit that
    is the progress callback, at the entry of the function, where an exception
    could not be caught and would leave the callback's result undefined. So,
    in the main thread and while SIGINT has Python's default handler, a
    handler that only records the signal is installed; the progress callback
    stops the fit when it sees the record, and KeyboardInterrupt is raised on
    leaving the block (after the model is read, if the fit had finished).
    Elsewhere nothing is changed.
    """
    interrupt = _Interrupt()
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        previous = signal.signal(signal.SIGINT, interrupt.handler)
        try:
            yield interrupt
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        yield interrupt
    if interrupt.requested:
        raise KeyboardInterrupt


class KMeansHandle:
    """A ``strata_kmeans`` handle, freed by :meth:`close` or garbage collection."""

    def __init__(self):
        ptr = _ffi.KMeansPtr()
        status = lib.strata_kmeans_create(ctypes.byref(ptr))
        if status != _ffi.OK:
            raise _last_error(status)
        self._ptr = ptr
        self._free = weakref.finalize(self, lib.strata_kmeans_free, ptr)
        self._lock = threading.Lock()
        self._owner = None

    @contextlib.contextmanager
    def session(self):
        """Hold the handle exclusively; every other method must run inside."""
        me = threading.get_ident()
        if self._owner == me:
            raise StateError("a KMeans cannot be used from inside its own progress callback")
        with self._lock:
            if not self._free.alive:
                raise ClosedError("this KMeans is closed (its library handle was freed)")
            self._owner = me
            try:
                yield self
            finally:
                self._owner = None

    def close(self):
        """Free the C handle (idempotent); waits for a call in another thread to end."""
        if self._owner == threading.get_ident():
            raise StateError("a KMeans cannot be closed from inside its own progress callback")
        with self._lock:
            self._free()

    def _error(self, status):
        """The exception for a non-OK status, with the failing call's message: the
        thread's strata_last_error(), which every failing call sets (const calls,
        e.g. predict and the getters, leave the handle's own message alone so
        that threads can share a fitted handle). Read before the next call."""
        message = _text(lib.strata_last_error())
        return error_for(status, message or _text(lib.strata_status_str(status)))

    def call(self, func, *args):
        """``func(handle, *args)``, raising on a non-OK status."""
        status = func(self._ptr, *_c_strings(args))
        if status != _ffi.OK:
            raise self._error(status)

    def result_int(self, key):
        value = ctypes.c_int64()
        self.call(lib.strata_kmeans_result_int, key, ctypes.byref(value))
        return value.value

    def result_double(self, key):
        value = ctypes.c_double()
        self.call(lib.strata_kmeans_result_double, key, ctypes.byref(value))
        return value.value

    def fit(self, func, *args, progress, interrupt):
        """Run a fit function with a progress callback installed.

        ``progress(run, iteration, inertia)`` (or None) is called after every
        Lloyd iteration; a truthy return stops the fit (Cancelled). An
        exception it raises stops the fit too and is re-raised once the library
        has returned. ``interrupt`` (from :func:`sigint_deferred`) stops the
        fit with KeyboardInterrupt.
        """
        _c_strings(args)
        caught = []

        def trampoline(_user, run, iteration, inertia):
            try:
                stop = progress is not None and bool(progress(run, iteration, inertia))
            except BaseException as exc:  # re-raised after the fit
                caught.append(exc)
                return 1
            return 1 if stop or interrupt.requested else 0

        callback = _ffi.PROGRESS_FN(trampoline)  # referenced until the fit returns
        self.call(lib.strata_kmeans_set_progress, callback, None)
        try:
            status = func(self._ptr, *args)
            error = None if status == _ffi.OK else self._error(status)
        finally:
            self.call(lib.strata_kmeans_set_progress, _ffi.PROGRESS_FN(), None)
        if caught:
            raise caught[0]
        if status == _ffi.E_CANCELLED and interrupt.requested:
            raise KeyboardInterrupt
        if error is not None:
            raise error
