"""Markdown rows of the Yinyang table from converged*.jsonl (this folder)."""
import glob, json, os
here = os.path.dirname(os.path.abspath(__file__))
rows = []
for f in sorted(glob.glob(os.path.join(here, "converged*.jsonl"))):
    for line in open(f):
        if line.startswith("{"):
            rows.append(json.loads(line))
rows.sort(key=lambda r: (r["kernel"] != "avx512", r["data"] != "customers", r["d"], r["k"]))
print("| data | d | k | kernel | iterations | Lloyd s | Hamerly s | Yinyang s | Lloyd / Hamerly | Lloyd / Yinyang | bitwise |")
print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|")
for r in rows:
    it = f'{r["n_iter"]}' + (" (converged)" if r["converged"] else "")
    print(f'| {r["data"]} | {r["d"]} | {r["k"]} | {r["kernel"]} | {it} | {r["lloyd_s"]:.3f} | '
          f'{r["hamerly_s"]:.3f} | {r["yinyang_s"]:.3f} | {r["speedup"]:.2f} | {r["speedup_yinyang"]:.2f} | '
          f'{"yes" if r["same"] and r["same_yinyang"] else "NO"} |')
