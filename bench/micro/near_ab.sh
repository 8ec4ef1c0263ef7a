#!/bin/bash
# Streamed Lloyd passes with the half test (kmeans/near.c) against without
# (STRATA_STREAM_NEAR=0): iter_passes.py alternated REPS times, then the
# per-iteration minimum of each side (iterations from the second).
#
#   K=avx2 bash bench/micro/near_ab.sh FILE.h5 1G 7 4 [RAW_OUT]
#
# (docs/performance.md, "The half test in streamed Lloyd passes").
set -eu
F=$1 M=$2 I=$3 R=$4 OUT=${5:-$(mktemp)}
K=${K:-avx2}
HERE=$(cd "$(dirname "$0")" && pwd)
: > "$OUT"
for r in $(seq "$R"); do
    for v in 1 0; do
        line=$(STRATA_STREAM_NEAR=$v STRATA_KERNEL=$K /usr/bin/python3 "$HERE/iter_passes.py" "$F" lloyd "$I" "$M")
        echo "$v $line" >> "$OUT"
    done
done
/usr/bin/python3 - "$OUT" <<'P'
import ast, re, sys
rows = {}
for line in open(sys.argv[1]):
    rows.setdefault(line.split()[0], []).append(
        ast.literal_eval(re.search(r"wall (\[.*?\])", line).group(1)))
for v in sorted(rows, reverse=True):
    print("near" if v == "1" else "off ", " ".join("%.3f" % min(c) for c in zip(*rows[v])))
P
