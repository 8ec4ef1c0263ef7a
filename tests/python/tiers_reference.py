"""The pandas + scikit-learn way of doing what `strata tiers` does, step by step.

Used by the tests (the same tiers from the same initial centroids) and by
bench/compare_tiers.py (the time the usual Python stack takes). Each step is
the common recipe an analyst writes; the rules are the ones docs/tiers.md
documents for libstrata:

1. cleaning and aggregation: rows without a customer id and rows with a
   negative amount are dropped, zero amounts kept; per customer: recency =
   reference day - last purchase day (reference = the day after the last kept
   row), frequency = kept rows, monetary = their sum, first day;
2. scaling (transform "auto"): log1p for a feature whose values are all >= 0
   and whose sample skewness (scipy's biased Fisher-Pearson, as pandas'
   without the small-sample correction) is > 1, then z-scores with the
   population standard deviation (StandardScaler);
3. KMeans (lloyd, n_init=1) on the scaled features;
4. value score of a cluster = sum over features of weight x scaled centroid,
   weights -1 for recency and +1 otherwise; clusters ranked by value (ties by
   cluster index), the ranking cut into as many contiguous groups as there
   are tier names;
5. lifecycle: new if reference - first day < 30, else active if recency <=
   90, dormant if recency <= 365, else lost.
"""

import numpy as np
import pandas as pd


def aggregate(customer_id, day, amount):
    df = pd.DataFrame({"customer_id": customer_id, "day": day, "amount": amount})
    df = df[df.customer_id.notna() & (df.amount >= 0)]
    df = df.astype({"customer_id": np.int64})
    g = df.groupby("customer_id").agg(first_day=("day", "min"), last_day=("day", "max"),
                                      frequency=("day", "count"), monetary=("amount", "sum"))
    reference = int(df.day.max()) + 1
    g["recency"] = reference - g.last_day
    return g, reference


def skewness(v):
    v = np.asarray(v, dtype=np.float64)
    m = v.mean()
    s2 = ((v - m) ** 2).mean()
    return 0.0 if s2 == 0 else ((v - m) ** 3).mean() / s2 ** 1.5


def scale_auto(frame):
    """Returns (scaled n x d array, log1p flags, centres, scales)."""
    cols, logs, centres, scales = [], [], [], []
    for name in frame.columns:
        v = frame[name].to_numpy(np.float64)
        log = bool(v.min() >= 0 and skewness(v) > 1)
        if log:
            v = np.log1p(v)
        mu, sd = v.mean(), v.std()
        sd = sd if sd > 0 else 1.0
        cols.append((v - mu) / sd)
        logs.append(log)
        centres.append(mu)
        scales.append(sd)
    return np.column_stack(cols), logs, np.array(centres), np.array(scales)


def value_weights(names):
    return np.array([-1.0 if ("recency" in n or "days_since" in n or "inactive" in n) else 1.0
                     for n in names])


def tiers_of_clusters(centroids, weights, n_tiers):
    """cluster -> tier index (0 = most valuable), contiguous groups of the ranking."""
    k = len(centroids)
    score = centroids @ weights
    order = sorted(range(k), key=lambda j: (-score[j], j))
    tier = np.empty(k, np.int32)
    # T groups as equal as possible, the larger ones last (lower tiers)
    base, extra = divmod(k, n_tiers)
    sizes = [base + (1 if t >= n_tiers - extra else 0) for t in range(n_tiers)]
    pos = 0
    for t, size in enumerate(sizes):
        for j in order[pos:pos + size]:
            tier[j] = t
        pos += size
    return tier, score


def lifecycle(first_day, recency, reference, new_days=30, active_days=90, lost_days=365):
    tenure = reference - np.asarray(first_day)
    recency = np.asarray(recency)
    stage = np.where(recency <= active_days, 1, np.where(recency <= lost_days, 2, 3))
    return np.where(tenure < new_days, 0, stage).astype(np.int32)
