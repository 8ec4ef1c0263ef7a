#!/usr/bin/env python3
"""Plot the holdout check of a `strata clv` output file (docs/clv.md).

    python3 tools/clv_plot.py OUT.h5 -o docs/clv-tracking-cdnow.png [--table]

Reads /tracking/cumulative_actual and /tracking/cumulative_expected (one value
per period from the first purchase day of the model's customers) and the root
attributes calibration_end, period and holdout_days, and draws the papers'
figure: cumulative repeat purchases per period, actual and predicted, with a
vertical line at the end of the calibration period. With --table it also
prints the papers' conditional-expectation table as Markdown: customers
grouped by their calibration frequency x (0, 1, ..., 7+), the mean actual
repeat purchases in the holdout and the mean the model predicted for them
(/holdout_actual, /holdout_predicted). Needs numpy, h5py and matplotlib
(Agg backend: no display).
"""

import argparse
import sys

import h5py
import numpy as np


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def conditional_table(x, actual, predicted, top=7):
    """Rows (label, customers, mean actual, mean predicted) by x = 0..top-1, top+."""
    rows = []
    for k in range(top + 1):
        sel = (x == k) if k < top else (x >= top)
        if sel.any():
            rows.append((f"{k}+" if k == top else str(k), int(sel.sum()),
                         float(actual[sel].mean()), float(predicted[sel].mean())))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="a strata clv output file")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--title", default=None, help="figure title")
    ap.add_argument("--table", action="store_true",
                    help="print the conditional-expectation table (Markdown)")
    args = ap.parse_args(argv)
    with h5py.File(args.input, "r") as f:
        if "tracking" not in f:
            sys.exit(f"{args.input}: no /tracking group (a summary fit has no tracking curve)")
        actual = f["tracking/cumulative_actual"][()]
        expected = f["tracking/cumulative_expected"][()]
        period = _text(f.attrs.get("period", "weeks"))
        first = int(f["first_day"][()].min())
        cal_end = int(f.attrs["calibration_end"])
        x = f["x"][()]
        hold_a, hold_p = f["holdout_actual"][()], f["holdout_predicted"][()]
        holdout_days = int(f.attrs.get("holdout_days", 0))
    length = 7 if period == "weeks" else 1
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = np.arange(1, len(actual) + 1)
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=120)
    ax.plot(t, actual, "-", color="black", lw=1.6, label="actual")
    ax.plot(t, expected, "--", color="tab:red", lw=1.6, label="BG/NBD")
    cal = (cal_end - first + 1) / length
    ax.axvline(cal, color="grey", ls=":", lw=1)
    ax.text(cal, ax.get_ylim()[1] * 0.02, " calibration end", color="grey", fontsize=8,
            ha="left", va="bottom")
    ax.set_xlabel(period)
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_title(args.title or "Tracking cumulative repeat purchases")
    ax.legend(loc="upper left", frameon=False)
    ax.set_xlim(0, len(actual))
    ax.set_ylim(0, None)
    fig.tight_layout()
    fig.savefig(args.output)
    if args.table:
        weeks = holdout_days / length
        print(f"| x (calibration) | customers | actual, mean over the next {weeks:g} {period} "
              "| predicted (BG/NBD) |")
        print("|---:|---:|---:|---:|")
        for label, n, a, p in conditional_table(x, hold_a, hold_p):
            print(f"| {label} | {n} | {a:.3f} | {p:.3f} |")
        print(f"| all | {len(x)} | {hold_a.mean():.3f} | {hold_p.mean():.3f} |")
        print(f"\ntotal holdout repeat purchases: actual {hold_a.sum():.0f}, "
              f"predicted {hold_p.sum():.1f}; cumulative at the end: actual {actual[-1]:.0f}, "
              f"expected {expected[-1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
