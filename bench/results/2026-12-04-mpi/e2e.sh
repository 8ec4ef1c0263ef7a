W=/work/wt-mpi-kmeans
t() { local s=$(date +%s.%N); "$@" > /dev/null 2>&1; local e=$(date +%s.%N); echo "$e - $s" | bc; }
for rep in 1 2 3; do
for it in 1 21; do
  echo "serial it=$it $(t $W/build-mpi/tools/strata kmeans /tmp/mpik/big.h5:/x -k 8 --init random --max-iter $it --tol 0 --threads 1 -o /tmp/mpik/o.h5 --force)"
  for np in 1 2; do
  echo "np=$np it=$it $(t $W/tests/mpi/mpirun.sh $np $W/build-mpi/tools/strata-mpi kmeans /tmp/mpik/big.h5:/x -k 8 --init random --max-iter $it --tol 0 --threads 1 -o /tmp/mpik/o$np.h5 --force)"
  done
done
done
