"""Customer tables in: :func:`read_frame` reads named feature columns of an
HDF5 file through the library's readers (strata_frame_*), and
:func:`frame_of` turns a pandas DataFrame into a library frame for fitting."""

import os
from ctypes import POINTER, byref, c_char_p, c_double, c_int64

import numpy as np

from ._ffi import FrameStruct
from ._handle import _c_strings, _last_error
from ._lib import lib
from .errors import ArgumentError


class Frame:
    """Owns one ``strata_frame *`` (freed on close or garbage collection)."""

    def __init__(self, ptr):
        self.ptr = ptr

    def close(self):
        if self.ptr:
            lib.strata_frame_free(self.ptr)
            self.ptr = None

    def __del__(self):
        if getattr(self, "ptr", None):  # a half-built Frame has no ptr
            self.close()

    def to_pandas(self):
        """The frame as a DataFrame (copied): columns = feature names, index = the key."""
        import pandas as pd
        n, d = c_int64(), c_int64()
        lib.strata_frame_shape(self.ptr, byref(n), byref(d))
        n, d = n.value, d.value
        data = np.ctypeslib.as_array(lib.strata_frame_data(self.ptr), shape=(n, d)).copy()
        names = [lib.strata_frame_name(self.ptr, j).decode() for j in range(d)]
        key = lib.strata_frame_key(self.ptr)
        index = None
        if key:
            index = pd.Index(np.ctypeslib.as_array(key, shape=(n,)).copy(),
                             name=lib.strata_frame_key_name(self.ptr).decode())
        return pd.DataFrame(data, columns=names, index=index)


def _call(func, *args):
    ptr = POINTER(FrameStruct)()
    status = func(byref(ptr), *_c_strings(args))
    if status != 0:
        raise _last_error(status)
    return Frame(ptr)


def _encode(text, what):
    """``text`` (a str) as bytes for the library; ArgumentError for a NUL
    character, where C would silently cut the name short."""
    if "\0" in text:
        raise ArgumentError(f"{what} holds a NUL character: {text!r}")
    return text.encode()


def _strings(values, what):
    if isinstance(values, (str, bytes)):
        values = [values]
    values = list(values)
    if not values:
        raise ArgumentError(f"{what} is empty")
    out = []
    for v in values:
        if not isinstance(v, str):
            raise ArgumentError(f"{what} must be strings, got {v!r}")
        out.append(_encode(v, what))
    return (c_char_p * len(out))(*out), len(out)


def _name(value, what):
    """An HDF5 object name (str, or bytes as given) as bytes for the library;
    ArgumentError for anything else."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ArgumentError(f"{what} must be a str (an HDF5 path such as '/x'), got {value!r}")
    return value.encode()


def _key(key):
    if key is None:
        return None
    if key is False:
        return b""
    if not isinstance(key, str):
        raise ArgumentError(f"key must be None (customer_id if present), False or '' (no key) "
                            f"or a name, got {key!r}")
    return _encode(key, "key")


def read_frame(path, columns=None, table=None, dataset=None, key=None):
    """Read customer features from an HDF5 file with the library's readers.

    Exactly one layout:
        ``columns`` alone: 1-D datasets of equal length (paths), named by
            their base names ("/customers/recency" -> "recency");
        ``table``: a compound dataset, a pandas frame (its to_hdf key) or a
            group of 1-D datasets; ``columns`` then picks columns by name
            (None: every numeric column except the key; pandas dates,
            durations and categories are no features, and an error where
            named; bool columns are features of 0 and 1);
        ``dataset``: an n x d matrix (names from its "feature_names"
            attribute, else x0, x1, ...).
    key: None finds a "customer_id" column (or pandas index of that name);
        False or "" reads no key; a name (or dataset path) must exist.

    Returns a pandas DataFrame (float64 columns named by the features),
    indexed by the key when there is one. Errors raise strata.Error
    subclasses with the library's message (FileError for missing files,
    datasets and columns; ArgumentError for bad values and keys).
    """
    path = os.fsencode(os.fspath(path))
    if dataset is not None:
        if columns is not None or table is not None or key is not None:
            raise ArgumentError("dataset= reads a matrix: give no columns, table or key with it")
        frame = _call(lib.strata_frame_read_matrix, path, _name(dataset, "dataset"))
    elif table is not None:
        cols, d = _strings(columns, "columns") if columns is not None else (None, 0)
        frame = _call(lib.strata_frame_read_table, path, _name(table, "table"), cols, d, _key(key))
    elif columns is not None:
        cols, d = _strings(columns, "columns")
        frame = _call(lib.strata_frame_read_columns, path, cols, d, _key(key))
    else:
        raise ArgumentError("read_frame needs columns=, table= or dataset=")
    try:
        return frame.to_pandas()
    finally:
        frame.close()


def frame_of(df):
    """A library Frame of a float64 DataFrame's values, column names and (an
    integer index named like a key, e.g. customer_id) row keys; None when df
    does not qualify (not float64, or column names not all strings)."""
    names = list(df.columns)
    if not names or not all(isinstance(c, str) for c in names):
        return None
    x = df.to_numpy()  # checked before converting: other dtypes go the matrix way
    if x.dtype != np.float64:
        return None
    x = np.ascontiguousarray(x)
    n, d = x.shape
    index = df.index
    key = key_name = None
    if index.name is not None and isinstance(index.name, str) and \
            isinstance(index.dtype, np.dtype) and index.dtype.kind in "iu" and index.is_unique:
        key = index.to_numpy()
        if key.dtype.kind == "u" and n and key.max() > np.iinfo(np.int64).max:
            # the library's keys are int64: a cast would write these ids wrapped to negatives
            row = int(np.argmax(key > np.iinfo(np.int64).max))
            raise ArgumentError(f"the row key {index.name!r} (the DataFrame's index) holds "
                                f"{key[row]} at row {row}, beyond int64, the type of libstrata's "
                                f"row keys; rename the index (or set its name to None) to fit "
                                f"without a key")
        key = np.ascontiguousarray(key, np.int64)
        key_name = _encode(index.name, "the row key's name (the DataFrame's index name)")
    cnames = (c_char_p * d)(*[_encode(c, "a DataFrame column name") for c in names])
    return _call(lib.strata_frame_from_arrays, x.ctypes.data_as(POINTER(c_double)), n, d, 0,
                 cnames, None if key is None else key.ctypes.data_as(POINTER(c_int64)), key_name)
