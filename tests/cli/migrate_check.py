"""Fixtures and checks of tests/cli/test_migrate_cli.sh (numpy + h5py).

    migrate_check.py fixtures DIR   two tiered-customer files and bad ones
    migrate_check.py check OUT.h5   OUT.h5 holds the hand-computed migration
"""
import sys

import h5py
import numpy as np

NAMES = ["high", "mid", "low"]
# old: 10 high, 20 mid, 30 low, 40 mid, 50 high, 70 low (ids unsorted)
OLD = ([30, 10, 20, 40, 50, 70], [2, 0, 1, 1, 0, 2])
# new: 10 high (same), 20 high (up), 30 mid (up), 40 low (down), 60 mid (new),
# 70 low (same); 50 gone
NEW = ([20, 10, 30, 40, 60, 70], [0, 0, 1, 2, 1, 2])


def tiering(path, ids, tiers, names=NAMES, id_dtype=np.int64, tier_dtype=np.int32):
    with h5py.File(path, "w") as f:
        f["customer_id"] = np.asarray(ids, id_dtype)
        t = f.create_dataset("tier", data=np.asarray(tiers, tier_dtype))
        if names is not None:
            t.attrs["names"] = names


def fixtures(d):
    tiering(f"{d}/old.h5", *OLD)
    tiering(f"{d}/new.h5", *NEW)
    # tiers numbered (no names), stored as float ids and int8 tiers
    tiering(f"{d}/old_plain.h5", *OLD, names=None, id_dtype=np.float64, tier_dtype=np.int8)
    tiering(f"{d}/new_plain.h5", *NEW, names=None)
    tiering(f"{d}/dup.h5", [1, 2, 1], [0, 1, 2])
    tiering(f"{d}/out_of_range.h5", [1, 2], [0, 3])
    tiering(f"{d}/other_names.h5", *NEW, names=["gold", "silver", "bronze"])
    tiering(f"{d}/fraction.h5", [1.5, 2], [0, 1], id_dtype=np.float64)
    with h5py.File(f"{d}/no_tier.h5", "w") as f:
        f["customer_id"] = np.arange(3)
    with h5py.File(f"{d}/lengths.h5", "w") as f:
        f["customer_id"] = np.arange(3)
        f["tier"] = np.zeros(2, np.int32)


def check(path, names):
    with h5py.File(path) as f:
        assert list(f["customer_id"][()]) == [10, 20, 30, 40, 50, 60, 70]
        assert list(f["old_tier"][()]) == [0, 1, 2, 1, 0, -1, 2]
        assert list(f["new_tier"][()]) == [0, 0, 1, 2, -1, 1, 2]
        move_names = [s.decode() if isinstance(s, bytes) else s for s in f["move"].attrs["names"]]
        assert move_names == ["same", "up", "down", "new", "gone"], move_names
        moves = [move_names[m] for m in f["move"][()]]
        assert moves == ["same", "up", "up", "down", "gone", "new", "same"], moves
        np.testing.assert_array_equal(f["migration/matrix"][()], [[1, 0, 0], [1, 0, 1], [0, 1, 1]])
        np.testing.assert_array_equal(f["migration/counts"][()], [2, 2, 1, 1, 1])
        tier_names = [s.decode() for s in f["migration/tier_names"][()]]
        assert tier_names == names, tier_names
        assert f["old_tier"].dtype == np.int32 and f["customer_id"].dtype == np.int64


if __name__ == "__main__":
    if sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3].split(","))
