#!/usr/bin/env python3
"""Markdown table from bench_lloyd JSON lines (standard library only).

    python3 bench/table.py lloyd.jsonl [more.jsonl ...]
    python3 bench/table.py --pivot assign.jsonl    # s/iter, one column per assign/kernel

One row per case; with several lines for the same case (n, d, k, threads,
dtype, assign, kernel) the fastest is kept. Flags: "bound>3x" where k <= 64
and sec_per_iter > 3 x bound_sec; "early" where the fit stopped before
max_iter; "busy" where fewer than 3 repeat pairs ran while other processes
used < 10% of the CPUs.
"""
import json
import sys


def pivot(best):
    cols = sorted({(k[5], k[6]) for k in best}, key=lambda c: (
        ["avx512", "avx2", "scalar"].index(c[1]) if c[1] in ("avx512", "avx2", "scalar") else 9, c[0]))
    rows = sorted({k[:5] for k in best})
    print("| n | d | k | T | dtype | " + " | ".join(f"{a}/{k}" for a, k in cols) + " |")
    print("|---:|---:|---:|---:|---|" + "|".join("---:" for _ in cols) + "|")
    for r in rows:
        vals = [best.get(r + c) for c in cols]
        fastest = min(v["sec_per_iter"] for v in vals if v)
        cells = []
        for v in vals:
            if not v:
                cells.append("-")
                continue
            t = f"{v['sec_per_iter']:.4f}"
            cells.append(f"**{t}**" if v["sec_per_iter"] == fastest else t)
        n = r[0]
        ns = f"{n // 10**6}M" if n % 10**6 == 0 else str(n)
        print(f"| {ns} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | " + " | ".join(cells) + " |")


def main(paths):
    do_pivot = "--pivot" in paths
    paths = [p for p in paths if p != "--pivot"]
    best = {}
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                if "error" in r or r.get("sec_per_iter") is None:
                    print(f"<!-- error: {line} -->")
                    continue
                key = (r["n"], r["d"], r["k"], r["threads"], r["dtype"], r["assign"], r["kernel"])
                if key not in best or r["sec_per_iter"] < best[key]["sec_per_iter"]:
                    best[key] = r
    if do_pivot:
        pivot(best)
        return
    head = ["n", "d", "k", "T", "dtype", "assign/kernel", "s/iter", "GB/s", "GFLOP/s", "bound s",
            "ratio to bound", "flags"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" if i not in (4, 5, 11) else "---" for i in range(len(head))) + "|")
    for key in sorted(best):
        r = best[key]
        flags = []
        rb = r.get("ratio_to_bound")
        if r["k"] <= 64 and rb is not None and rb > 3:
            flags.append("bound>3x")
        if r.get("early_stop"):
            flags.append(f"early ({r['n_iter']}/{r['max_iter']})")
        if r.get("clean_repeats") is not None and r["clean_repeats"] < 3:
            flags.append(f"busy: {r['clean_repeats']}/{r['repeats']} pairs clean")
        n = r["n"]
        ns = f"{n // 10**6}M" if n % 10**6 == 0 else str(n)
        print(f"| {ns} | {r['d']} | {r['k']} | {r['threads']} | {r['dtype']} | "
              f"{r['assign']}/{r['kernel']} | {r['sec_per_iter']:.4f} | {r['GB_per_s']:.1f} | "
              f"{r['GFLOP_per_s']:.0f} | "
              f"{'-' if r.get('bound_sec') is None else format(r['bound_sec'], '.4f')} | "
              f"{'-' if rb is None else format(rb, '.2f')} | {', '.join(flags)} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
