#!/bin/bash
# bench for docs/performance.md "Yinyang (issue 10; 2026-12-03, fourth session)"
export LD_LIBRARY_PATH=/tmp/yybench
B=/tmp/yybench/bench_converged
O=/work/wt-yinyang/bench/results/2026-12-03-yinyang
{ lscpu; echo; } > $O/env.txt
for kern in avx512 avx2; do
  for d in 6 8; do
    echo "load $(cat /proc/loadavg) customers d=$d $kern" >> $O/load.txt
    $B --data customers --n 1000000 --d $d --k 8,16,64,256 --kernel $kern --max-iter 50 --repeats 2 --no-minibatch >> $O/converged.jsonl
  done
  echo "load $(cat /proc/loadavg) blobs d=16 $kern" >> $O/load.txt
  $B --data blobs --n 1000000 --d 16 --k 8,16,64,256 --kernel $kern --max-iter 50 --repeats 2 --no-minibatch >> $O/converged.jsonl
done
echo "done $(cat /proc/loadavg)" >> $O/load.txt
