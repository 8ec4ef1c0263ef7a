#!/usr/bin/env python3
"""Which rows a bounded streamed pass could skip, simulated in float64 on
the first ROWS rows of FILE:/x (k = 16 from its first 16 rows, as
iter_passes.py starts), Lloyd's trajectory, for three kinds of bounds
(rounding margins left out, so these are upper limits):

- gap: one bound a row, l - u (lib/kmeans/gaps.c), shrunk by the own
  centroid's move plus the largest move of the others;
- gap + half test: a row whose gap fails is tested again with its exact
  distance u to its centroid: kept if u < s_a (half the distance from c_a to
  its nearest other centroid), its gap then 2 s_a - 2u;
- hamerly: two bounds a row (u up by the own move, l down by the largest
  other), u tightened to the exact distance when the test fails;
- half test alone: no bound a row, only the exact distance u to the previous
  centroid, kept if u < s_a (what a streamed Lloyd pass tests,
  lib/kmeans/near.c).

Prints, per iteration from the second, the fraction of rows each keeps
without scoring (docs/performance.md, "Zen 5, session 12").

    /usr/bin/python3 bench/micro/gap_sim.py FILE.h5 [ROWS=1000000] [ITERS=8]
"""
import sys

import h5py
import numpy as np

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
iters = int(sys.argv[3]) if len(sys.argv) > 3 else 8
with h5py.File(path, "r") as f:
    X = f["x"][:n].astype(np.float64)
k = 16
C = X[:k].copy()
rows = np.arange(n)
xx = (X * X).sum(1)[:, None]


def distances(C):
    return np.sqrt(np.maximum(xx - 2 * X @ C.T + (C * C).sum(1)[None, :], 0.0))


gap = gap_h = U = L = lab = half = None
for it in range(1, iters + 1):
    D = distances(C)
    new = D.argmin(1)
    srt = np.sort(D, 1)
    fresh = srt[:, 1] - srt[:, 0]
    if lab is None:
        gap, gap_h, U, L = fresh.copy(), fresh.copy(), srt[:, 0].copy(), srt[:, 1].copy()
    else:
        ue = D[rows, lab]
        keep_gap = gap > 0
        keep_gh = gap_h > 0
        keep_half = keep_gh | (ue < half[lab])
        pre = np.maximum(L, 2 * half[lab] - U) > U
        keep_ham = pre | (np.maximum(L, 2 * half[lab] - ue) > ue)
        assert not np.any(new[keep_gap] != lab[keep_gap])
        print(f"iteration {it}: kept unscored: gap {keep_gap.mean():.3f}, gap + half test "
              f"{keep_half.mean():.3f}, hamerly {keep_ham.mean():.3f}, half test alone "
              f"{(ue < half[lab]).mean():.3f}")
        gap = np.where(keep_gap, gap, fresh)
        gap_h = np.where(keep_gh, gap_h, np.where(keep_half, 2 * half[lab] - 2 * ue, fresh))
        U = np.where(pre, U, np.where(keep_ham, ue, srt[:, 0]))
        L = np.where(keep_ham, L, srt[:, 1])
    lab = new
    Cn = np.array([X[lab == j].mean(0) for j in range(k)])
    shift = np.sqrt(((Cn - C) ** 2).sum(1))
    order = np.argsort(shift)[::-1]
    other = np.where(np.arange(k) == order[0], shift[order[1]], shift[order[0]])
    gap -= shift[lab] + other[lab]
    gap_h -= shift[lab] + other[lab]
    U += shift[lab]
    L -= other[lab]
    C = Cn
    cd = np.sqrt(((C[:, None, :] - C[None, :, :]) ** 2).sum(2))
    np.fill_diagonal(cd, np.inf)
    half = cd.min(1) / 2
