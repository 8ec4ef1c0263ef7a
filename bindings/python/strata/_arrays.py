"""Turning Python inputs into buffers the library can read.

Data matrices are passed without a copy when they are 2-D float32 or float64
numpy arrays (native byte order, aligned) whose rows are contiguous: C order,
or a view that skips rows or whole columns at either end (``X[::2]``,
``big[:, 1:5]``), passed with ``row_stride = strides[0] // itemsize``. Anything else (other dtypes,
Fortran order, column-strided views, lists, DataFrames) is copied once into a
C-contiguous array: float32 stays float32, everything else becomes float64.
Object arrays of numbers are read as numbers; of anything else (strings,
dicts) they raise DTypeError (a TypeError), as do string arrays.
DataFrames are read column by column: a column that does not hold numbers
(strings, datetimes, durations; a category holds its categories' values)
raises DTypeError naming it, and
missing values (NaN, None, pd.NA, NaT) become NaN, which the library reports
with the row and column.
Weights and initial centroids are always float64 and C-contiguous.
"""

import ctypes

import numpy as np

from . import _ffi
from .errors import ArgumentError, DTypeError

_DTYPES = {np.dtype(np.float32): _ffi.FLOAT32, np.dtype(np.float64): _ffi.FLOAT64}


def frame_column(df, name, what="the DataFrame"):
    """The column `name` of a DataFrame, or its index (a level of it) of that
    name, as the HDF5 readers read a frame's named index (pd.read_hdf gives
    back ``df.set_index("customer_id")`` as written); ArgumentError naming
    both otherwise."""
    if name in df.columns:
        return df[name]
    if name is not None and name in [n for n in df.index.names if n is not None]:
        return df.index.get_level_values(name).to_series(index=df.index, name=name)
    index = [n for n in df.index.names if n is not None]
    raise ArgumentError(f"{what} has no column {name!r} (its columns: "
                        f"{', '.join(map(str, df.columns))}"
                        + (f"; its index: {', '.join(map(str, index))}" if index else "") + ")",
                        -102)


def _frame_values(df, name):
    """A DataFrame's values as one numpy array, each column checked first:
    numpy's own conversion of a mixed frame fails with an error that names
    neither the column nor strata (and pd.NA cannot become a float at all)."""
    import pandas as pd
    dtypes = list(df.dtypes)
    if all(isinstance(t, np.dtype) and t.kind in "biufc" for t in dtypes):
        return df.to_numpy()  # numpy's common type: an all-float32 frame stays float32
    columns = []
    for j, dtype in enumerate(dtypes):
        what = f"{name} column {df.columns[j]!r}"
        col = df.iloc[:, j]
        if dtype.kind == "O" and (isinstance(dtype, np.dtype) or
                                  isinstance(dtype, pd.CategoricalDtype)):  # its values
            values = col.to_numpy(dtype=object, copy=True)
            values[np.asarray(pd.isna(values), bool)] = np.nan  # None, pd.NA: missing
        elif isinstance(dtype, np.dtype) and dtype.kind in "biufc":
            values = col.to_numpy()
        elif not isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)  # Int64, Float64, sparse
        else:  # datetimes, durations, pandas strings, periods, intervals
            raise DTypeError(f"{what} must hold numbers (integers or floats), got dtype {dtype}")
        columns.append(_numeric(values, what))
    return np.column_stack(columns)


def _numeric(value, name):
    """``value`` as a numpy array of a real numeric dtype, or ArgumentError."""
    if hasattr(value, "toarray") and hasattr(value, "nnz"):
        raise ArgumentError(f"{name}: sparse input is not supported; pass a dense array "
                            f"({name}.toarray())")
    if hasattr(value, "columns") and hasattr(value, "dtypes") and hasattr(value, "iloc"):
        value = _frame_values(value, name)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nesting, mostly
        cls = DTypeError if isinstance(exc, TypeError) else ArgumentError
        raise cls(f"{name} cannot be converted to a numeric array: {exc}") from None
    if array.dtype.kind == "O":  # numbers as objects are read as numbers, as scikit-learn does
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:  # strings, dicts, ...
            raise DTypeError(f"{name} cannot be converted to a numeric array: {exc}") from None
    if array.dtype.kind == "c":
        raise ArgumentError(f"Complex data not supported: {name} has dtype {array.dtype}")
    if array.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold real numbers (float32, float64, integers), "
                         f"got dtype {array.dtype}")
    return array


def _rows_contiguous(x):
    """True if the library can read ``x`` in place (see the module docstring)."""
    n, d = x.shape
    item = x.itemsize
    row, col = x.strides
    return (x.dtype in _DTYPES and x.flags.aligned and (d == 1 or col == item)
            and (n == 1 or (row % item == 0 and row >= d * item)))


def as_matrix(x, name="X"):
    """Return ``(array, dtype_code, n, d, row_stride)`` describing ``x`` to the library.

    ``array`` is ``x`` itself when it can be read in place, else a converted
    copy; keep it alive until the call returns.
    """
    if not (isinstance(x, np.ndarray) and x.ndim == 2 and _rows_contiguous(x)):
        x = _numeric(x, name)
        if x.ndim != 2:
            hint = (" Reshape your data either using array.reshape(-1, 1) if your data has a "
                    "single feature or array.reshape(1, -1) if it contains a single sample."
                    if x.ndim == 1 else "")
            raise ArgumentError(f"{name} must be a 2-D array (n_samples, n_features), got "
                                f"{x.ndim}-D with shape {x.shape}.{hint}")
        x = np.ascontiguousarray(x, np.float32 if x.dtype.type is np.float32 else np.float64)
    n, d = x.shape
    for size, what in ((n, "sample"), (d, "feature")):  # scikit-learn's words
        if size == 0:
            raise ArgumentError(f"Found array with 0 {what}(s) (shape={x.shape}) while a "
                                f"minimum of 1 is required.")
    row_stride = x.strides[0] // x.itemsize if n > 1 else d
    return x, _DTYPES[x.dtype], n, d, row_stride


def as_weights(sample_weight, n):
    """``sample_weight`` (None, a scalar or n values) as n contiguous float64, or None."""
    if sample_weight is None:
        return None
    w = _numeric(sample_weight, "sample_weight")
    if w.ndim == 0:
        w = np.full(n, w, dtype=np.float64)
    if w.shape != (n,):
        raise ArgumentError(f"sample_weight must have shape ({n},), got {w.shape}")
    return np.ascontiguousarray(w, np.float64)


def check_weights(w):
    """The library's check of fit weights (finite, >= 0), for calls that do not
    pass weights to it (KMeans.score); all zeros are allowed there (a score of 0)."""
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
    if bad.size:
        raise ArgumentError(f"sample weight at row {bad[0]} is {w[bad[0]]:g}; weights must be "
                            f"finite and >= 0", -104)
    return w


def as_centroids(init, k):
    """Initial centroids given as an array: k x d contiguous float64."""
    c = _numeric(init, "init")
    if c.ndim != 2 or c.shape[0] != k:
        raise ArgumentError(f"init must be an array of shape (n_clusters={k}, n_features), "
                            f"got shape {c.shape}")
    return np.ascontiguousarray(c, np.float64)


def pointer(array, ctype):
    """A typed ctypes pointer to ``array``'s data (None for None)."""
    return None if array is None else array.ctypes.data_as(ctypes.POINTER(ctype))
