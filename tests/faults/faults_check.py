"""Content checks of test_faults.sh (needs numpy and h5py).

  faults_check.py same REF FILE...   every FILE is a complete HDF5 file with
                                     the datasets (names, types, shapes,
                                     values) and root attributes of REF

A file cut short or half-written fails to open or differs; an output that
was complete is equal to the reference run, which had the same inputs and
options (HDF5's modification times and the root attribute "created" differ,
hence no byte comparison and only the presence of "created" compared; so is
"memory", the budget of an out-of-core run compared with one in memory).
"""
import sys

import h5py
import numpy as np


VARIES = {"created", "memory"}


def content(path):
    items = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                items["dataset " + name] = (obj.dtype.str, obj.shape, obj[()])
            for key, value in obj.attrs.items():
                # provenance that may differ: the time of the write, and the
                # memory budget (an out-of-core run is compared with one in memory)
                items[f"attribute {name}:{key}"] = "<varies>" if key in VARIES else value
        visit("/", f)
        f.visititems(visit)
    return items


def equal(a, b):
    if isinstance(a, tuple):
        return a[:2] == b[:2] and equal(a[2], b[2])
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all((a == b) | ((a != a) & (b != b))))


def same(ref, files):
    want = content(ref)
    bad = 0
    for path in files:
        try:
            got = content(path)
        except Exception as e:  # a damaged file: the very thing looked for
            print(f"{path}: not a readable HDF5 file: {e}")
            bad += 1
            continue
        diff = sorted(set(want) ^ set(got)) or [k for k in want if not equal(want[k], got[k])]
        if diff:
            print(f"{path}: differs from {ref} in {', '.join(diff[:5])}")
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(f"unknown command {sys.argv[1]!r}")
