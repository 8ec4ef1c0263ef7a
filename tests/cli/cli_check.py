"""Fixtures and result checks for test_cli.sh (needs numpy and h5py).

  cli_check.py fixtures DIR                  write the input files into DIR
  cli_check.py lloyd OUT IN DSET INIT DSET   compare OUT with a brute-force Lloyd
               [--source S] [--version V] [--seed N] [--rtol X]
  cli_check.py demo DIR N                    check the files of `strata demo`
  cli_check.py attr OUT NAME                 print one root attribute

Exits non-zero with a message on the first failed check.
"""
import sys

import h5py
import numpy as np


def fail(msg):
    sys.exit("check failed: " + msg)


def blobs(rng, n, d, k, spread):
    centres = rng.uniform(-spread, spread, size=(k, d))
    return centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, d)), centres


def fixtures(folder):
    rng = np.random.default_rng(7)
    # Overlapping blobs started from their first rows: Lloyd needs many
    # iterations, so the comparison with the reference means something.
    x, _ = blobs(rng, 3000, 4, 5, 3.0)
    xint = np.round(x * 100)
    # Well-separated blobs for float32, where labels must not hinge on rounding.
    x32, centres = blobs(rng, 3000, 4, 5, 20.0)
    with h5py.File(f"{folder}/blobs.h5", "w") as f:
        f["data/x"] = x
        f["data/xint"] = xint.astype(np.int16)
        f.create_dataset("data/x32gz", data=x32.astype(np.float32), chunks=(256, 2),
                         compression="gzip", compression_opts=6, shuffle=True)
    with h5py.File(f"{folder}/init.h5", "w") as f:
        f["c"] = x[:5]
        f["c3"] = x[:3]
        f["cint"] = xint[:5]
        f["c32"] = centres + rng.normal(scale=1.0, size=centres.shape)
    with h5py.File(f"{folder}/bad.h5", "w") as f:
        f["one_d"] = np.arange(10.0)
        f.create_dataset("null", data=h5py.Empty("f8"))
        f["scalar"] = 3.0
        f["strings"] = np.array([[b"a", b"b"], [b"c", b"d"]])
        f["empty"] = np.zeros((0, 4))
        f["small"] = x[:3]
        nan = x[:50].copy()
        nan[17, 2] = np.nan
        f["nan"] = nan
        f.create_group("group")
    with open(f"{folder}/text.h5", "w") as f:
        f.write("not an HDF5 file\n")


def lloyd(x, c, max_iter=300):
    """Plain Lloyd to a fixed point: stop when no label changes."""
    prev = None
    for it in range(1, max_iter + 1):
        lab = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1).argmin(1)
        if prev is not None and np.array_equal(lab, prev):
            break
        if len(np.unique(lab)) < len(c):
            fail("the reference run emptied a cluster: change the fixture")
        c = np.array([x[lab == j].mean(0) for j in range(len(c))])
        prev = lab
    return lab, c, float(((x - c[lab]) ** 2).sum()), it


def check_lloyd(args):
    out, inp, dset, init, idset = args[:5]
    opts = dict(zip(args[5::2], args[6::2]))
    rtol = float(opts.get("--rtol", "1e-9"))
    with h5py.File(inp, "r") as f:
        x = f[dset][...].astype(np.float64)
    with h5py.File(init, "r") as f:
        c0 = f[idset][...].astype(np.float64)
    lab, c, inertia, n_iter = lloyd(x, c0)
    with h5py.File(out, "r") as f:
        got_lab, got_c, a = f["labels"][...], f["centroids"][...], dict(f.attrs)
        if f["labels"].dtype != np.int32 or f["centroids"].dtype != np.float64:
            fail(f"dtypes {f['labels'].dtype}, {f['centroids'].dtype}")
    if got_lab.shape != lab.shape or not np.array_equal(got_lab, lab):
        fail(f"labels differ from the reference in {int((got_lab != lab).sum())} rows")
    if not np.allclose(got_c, c, rtol=rtol, atol=rtol):
        fail(f"centroids differ: max abs diff {np.abs(got_c - c).max()}")
    if not np.isclose(a["inertia"], inertia, rtol=max(rtol, 1e-9)):
        fail(f"inertia {a['inertia']} != reference {inertia}")
    expect = {"k": len(c0), "converged": 1, "algorithm": opts.get("--algorithm", "lloyd")}
    if "--source" in opts:
        expect["source"] = opts["--source"]
    if "--version" in opts:
        expect["strata_version"] = opts["--version"]
    if "--seed" in opts:
        expect["seed"] = int(opts["--seed"])
    for key, value in expect.items():
        got = a.get(key)
        got = got.decode() if isinstance(got, bytes) else got
        if got != value:
            fail(f"attribute {key} = {got!r}, expected {value!r}")
    if abs(int(a["n_iter"]) - n_iter) > 1:
        fail(f"n_iter = {a['n_iter']}, reference {n_iter}")


def check_demo(folder, n):
    """The demo's log and strata tiers' output on it: one row per customer
    (every customer has orders), 5 clusters named high/mid/low, every stage
    valid, the RFM part at reference day 20000, and the tier profile
    consistent with the per-customer tiers."""
    n = int(n)
    with h5py.File(f"{folder}/transactions.h5", "r") as f:
        ids = f["tx/customer_id"][...]
        if ids.dtype != np.int64 or f["tx/day"].shape != ids.shape or f["tx/amount"].shape != ids.shape:
            fail(f"transactions: {ids.dtype} {ids.shape}")
        customers = len(np.unique(ids))
    with h5py.File(f"{folder}/tiers.h5", "r") as f:
        cid, lab, tier, stage = (f[k][...] for k in ("customer_id", "labels", "tier", "stage"))
        m = len(cid)
        if not (0 < m <= customers <= n) or (np.diff(cid) <= 0).any():
            fail(f"tiers: {m} customers of {customers} in the log, ids not ascending")
        if f["model/centroids"].shape != (5, 3) or lab.min() < 0 or lab.max() > 4:
            fail(f"tiers: centroids {f['model/centroids'].shape}, labels {lab.min()}..{lab.max()}")
        names = [s.decode() if isinstance(s, bytes) else s for s in f["tier"].attrs["names"]]
        if names != ["high", "mid", "low"] or tier.min() < 0 or tier.max() > 2:
            fail(f"tiers: names {names}, tiers {tier.min()}..{tier.max()}")
        if stage.min() < 0 or stage.max() > 3:
            fail("tiers: stage out of range")
        if int(f["rfm"].attrs["reference_day"]) != 20000:
            fail("tiers: the RFM part is not at reference day 20000")
        counts = np.bincount(tier, minlength=3)
        if list(f["tier_profile/count"][:3]) != list(counts) or f["tier_stage"][...].sum() != m:
            fail("tiers: tier profile or tier x stage counts disagree with /tier")


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "fixtures":
        fixtures(*args)
    elif cmd == "lloyd":
        check_lloyd(args)
    elif cmd == "demo":
        check_demo(*args)
    elif cmd == "attr":
        with h5py.File(args[0], "r") as f:
            v = f.attrs[args[1]]
            print(v.decode() if isinstance(v, bytes) else v)
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
