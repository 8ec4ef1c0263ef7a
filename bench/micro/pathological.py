#!/usr/bin/env python3
"""Two costs that grew without bound on valid input, for one build
(docs/performance.md, "Session 21"):

- a CLV fit whose calibration end lies far past the log (600 rows of 120
  customers over 400 days, weekly periods): seconds per calibration end, or
  the error a build gives;
- strata_silhouette_sample(n, 2, 0) for large n: seconds.

    /usr/bin/python3 bench/micro/pathological.py BUILD_ROOT [--timeout 60]

BUILD_ROOT: a source tree with its build in BUILD_ROOT/build. Each case runs
in a child process, stopped after --timeout seconds.
"""
import argparse
import os
import subprocess
import sys

CASE = r"""
import sys, time, numpy as np, strata
what, arg = sys.argv[1], int(sys.argv[2])
t = time.time()
if what == "clv":
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 120, 600)
    days = 10000 + rng.integers(0, 400, 600)
    amt = np.round(rng.gamma(2, 20, 600), 2)
    try:
        strata.CLV(arg).fit(ids, days, amt)
    except strata.Error as e:
        print(f"refused ({str(e)[:60]}...)")
        sys.exit(0)
else:
    strata.silhouette_sample_rows(arg, 2, 0)
print(f"{time.time() - t:.2f} s")
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=os.path.join(a.root, "bindings", "python"),
               STRATA_LIBRARY=os.path.join(a.root, "build", "libstrata.so.0"))
    cases = [("clv", c) for c in (20_000, 46_900, 100_000, 200_000, 400_000)]
    cases += [("sample", n) for n in (10**8, 10**9, 2**33, 2**62)]
    for what, arg in cases:
        try:
            p = subprocess.run([sys.executable, "-c", CASE, what, str(arg)], env=env,
                               capture_output=True, text=True, timeout=a.timeout)
            out = p.stdout.strip() or p.stderr.strip().splitlines()[-1]
        except subprocess.TimeoutExpired:
            out = f"not done after {a.timeout:.0f} s"
        print(f"{what:6s} {arg:>22d}  {out}")


if __name__ == "__main__":
    main()
