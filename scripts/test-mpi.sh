#!/usr/bin/env bash
# The distributed build (-DSTRATA_MPI=ON, preset mpi, into ./build-mpi) and
# its tests (ctest -L mpi): strata-mpi under mpirun -np 1, 2, 3 against the
# serial strata of the same tree, bitwise (docs/distributed.md). Installs
# Open MPI and HDF5's parallel build first when they are missing. The serial
# build and tests are scripts/test.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset mpi >/dev/null
cmake --build --preset mpi -j"$(nproc)"
ctest --preset mpi -j"$(nproc)" "$@"
