#!/bin/bash
export LD_LIBRARY_PATH=/tmp/yybench
B=/tmp/yybench/bench_converged
O=/work/wt-yinyang/bench/results/2026-12-03-yinyang
echo "load $(cat /proc/loadavg) blobs d=16 avx512" >> $O/load.txt
$B --data blobs --n 1000000 --d 16 --k 64,256 --kernel avx512 --max-iter 50 --repeats 2 --no-minibatch >> $O/converged2.jsonl
echo "load $(cat /proc/loadavg) customers d=8 avx2" >> $O/load.txt
$B --data customers --n 1000000 --d 8 --k 16,64,256 --kernel avx2 --max-iter 50 --repeats 2 --no-minibatch >> $O/converged2.jsonl
echo "load $(cat /proc/loadavg) blobs d=16 avx2" >> $O/load.txt
$B --data blobs --n 1000000 --d 16 --k 64,256 --kernel avx2 --max-iter 50 --repeats 2 --no-minibatch >> $O/converged2.jsonl
echo "done $(cat /proc/loadavg)" >> $O/load.txt
