"""Checks of `strata tiers --clv` (issue 16) for test_tiers_clv_cli.sh.

    tiers_clv_check.py fixtures DIR            DIR/cdnow.h5 (the CDNOW sample log)
    tiers_clv_check.py check OUT.h5 TX.h5 [--calibration-end DAY] [--value clv|rfm]
                                               [--period weeks|days] [--months M]
                                               [--discount D]

check: the /clv columns against the numpy/scipy reference (tests/python/clv_reference.py):
the summary exactly, the fitted parameters to 1e-4 of scipy's optimum, every per-customer
value to 1e-6 at the file's parameters; rows aligned with /customer_id; the calibration end
(default: the reference day of /rfm); and, with --value clv, the tiers ordered by the
clusters' scaled CLV (k-means centroids are the clusters' means of /scaled).
"""

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import clv_reference as R  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"


def fail(msg):
    print(f"tiers_clv_check: {msg}")
    sys.exit(1)


def close(name, got, want, rtol=1e-6, atol=1e-10):
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol,
                                                  equal_nan=True):
        bad = np.max(np.abs(got - want)) if got.shape == want.shape else got.shape
        fail(f"{name}: differs from the reference (max abs difference {bad})")


def check(args):
    with h5py.File(args.tx, "r") as f:
        ids, days, amounts = (f["tx"][k][()] for k in ("customer_id", "day", "amount"))
    with h5py.File(args.out, "r") as f:
        if "clv" not in f:
            fail("no /clv group")
        g = f["clv"]
        cols = {k: g[k][()] for k in g}
        attrs = dict(g.attrs)
        cust = f["customer_id"][()]
        ref_day = int(f["rfm"].attrs["reference_day"])
        tier = f["tier"][()]
        labels = f["labels"][()]
        scaled = f["scaled"][()]
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in f["scaled"].attrs["feature_names"]]
    end = args.calibration_end if args.calibration_end is not None else ref_day
    if attrs["calibration_end"] != end:
        fail(f"calibration_end {attrs['calibration_end']}, expected {end}")
    s = R.summary(ids, days, amounts, end, period=args.period)
    at = np.searchsorted(s["customer_id"], cust)
    inside = (at < len(s["customer_id"]))
    inside[inside] = s["customer_id"][at[inside]] == cust[inside]
    if attrs["missing"] != int((~inside).sum()):
        fail(f"missing {attrs['missing']}, expected {(~inside).sum()}")
    for k in ("x", "t_x", "T"):
        if not np.array_equal(cols[k][inside], s[k][at[inside]]):
            fail(f"/clv/{k} is not the reference summary")
        if not np.isnan(cols[k][~inside]).all():
            fail(f"/clv/{k} is not NaN for the customers without a CLV row")
    close("/clv/zbar", cols["zbar"][inside], s["zbar"][at[inside]], rtol=1e-13)
    bg = (attrs["bgnbd_r"], attrs["bgnbd_alpha"], attrs["bgnbd_a"], attrs["bgnbd_b"])
    gg = (attrs["gg_p"], attrs["gg_q"], attrs["gg_gamma"])
    want_bg, _ = R.bgnbd_fit(s["x"], s["t_x"], s["T"])
    close("BG/NBD parameters", bg, want_bg, rtol=1e-4)
    ref = R.score(s, period=args.period, months=args.months, discount_rate=args.discount,
                  bg=bg, gg=gg)
    for k in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        close(f"/clv/{k}", cols[k][inside], ref[k][at[inside]])
    close("bgnbd_loglik", attrs["bgnbd_loglik"], ref["bgnbd_loglik"], rtol=1e-10)
    if attrs["value"] != args.value:
        fail(f"value {attrs['value']!r}, expected {args.value!r}")
    if args.value == "clv":
        if "clv" not in names:
            fail(f"--value clv: clv is not among the features {names}")
        j = names.index("clv")
        k = labels.max() + 1
        mean = np.array([scaled[labels == c, j].mean() for c in range(k)])
        ctier = np.array([tier[labels == c][0] for c in range(k)])
        for a in range(k):
            for b in range(k):
                if ctier[a] < ctier[b] and mean[a] < mean[b] - 1e-9:
                    fail(f"cluster {a} (tier {ctier[a]}) has a lower CLV centroid than "
                         f"cluster {b} (tier {ctier[b]})")
        # the feature column is the CLV (0 where there is none)
        close("clv feature", np.nan_to_num(cols["clv"]), _unscaled_clv(args.out, j), rtol=1e-9)


def _unscaled_clv(path, j):
    """The clv feature in original units: /scaled's column j through the inverse of
    the model's transform (/model/center, scale, transform; 16 = the log1p flag)."""
    with h5py.File(path, "r") as f:
        z = f["scaled"][:, j]
        m = f["model"]
        center, scale = m["center"][j], m["scale"][j]
        transform = int(m["transform"][j])
    t = z * scale + center
    return np.expm1(t) if transform & 16 else t


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    fx = sub.add_parser("fixtures")
    fx.add_argument("dir")
    ck = sub.add_parser("check")
    ck.add_argument("out")
    ck.add_argument("tx")
    ck.add_argument("--calibration-end", type=int)
    ck.add_argument("--value", default="rfm")
    ck.add_argument("--period", default="weeks")
    ck.add_argument("--months", type=int, default=12)
    ck.add_argument("--discount", type=float, default=0.01)
    args = ap.parse_args()
    if args.cmd == "fixtures":
        R.write_cdnow_h5(Path(args.dir) / "cdnow.h5", SAMPLE)
    else:
        check(args)


if __name__ == "__main__":
    main()
