#!/bin/bash
# Peak RSS of `strata rfm --memory B` against B, from the least budget a
# refusal names upward, on logs of default and 100-row chunks, columns and
# compound (session 23). Each row: log, build, budget, exit status, peak RSS
# (/usr/bin/time %M), peak - budget.
#   bash bench/micro/rfm_least_budget.sh STRATA DIR [LIBDIR...]
# STRATA: the program; DIR: scratch folder for the logs and spills; each
# LIBDIR holds a libstrata.so.0 to run under (LD_LIBRARY_PATH; none: the
# program's own), alternated run by run.
set -u
S=$1; D=$2; shift 2
LIBS=("$@"); [ ${#LIBS[@]} -eq 0 ] && LIBS=("")
mkdir -p "$D/spill"
for lay in columns compound; do
    for c in 0 100; do
        f="$D/tx-$lay-$c.h5"
        [ -e "$f" ] || "$S" gen transactions -o "$f" --customers 300000 --n 1M --seed 4 \
            --layout $lay $([ $c = 0 ] || echo --chunk-rows $c) --quiet
    done
done
args() { [ $1 = columns ] && echo "--customer /tx/customer_id --time /tx/day --amount /tx/amount" \
         || echo "--table /tx --customer customer_id --time day --amount amount"; }
one() { # lib log layout budget
    /usr/bin/time -f %M -o "$D/time" env ${1:+LD_LIBRARY_PATH=$1} "$S" rfm "$2" $(args $3) \
        -o "$D/out.h5" --force --quiet --memory $4 --tmpdir "$D/spill" 2>"$D/err"
    local rc=$? kb=$(tail -1 "$D/time")
    echo "$(basename $2) ${1:-own} $4 $rc $((kb * 1024)) $((kb * 1024 - $4))"
}
echo "log build budget status peak_rss peak_minus_budget"
for lay in columns compound; do
    for c in 0 100; do
        f="$D/tx-$lay-$c.h5"
        one "${LIBS[0]}" "$f" $lay $((30 << 20)) >/dev/null
        least=$(grep -o 'at least [0-9]*' "$D/err" | cut -d' ' -f3)
        for b in $((30 << 20)) $((40 << 20)) $least $((least + (4 << 20))) \
                 $((least + (16 << 20))) $((100 << 20)); do
            for l in "${LIBS[@]}"; do one "$l" "$f" $lay $b; done
        done
    done
done
