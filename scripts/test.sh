#!/usr/bin/env bash
# Build and run every test (C tests, CLI tests, Python tests) through ctest,
# then the distributed build's tests (scripts/test-mpi.sh: strata-mpi under
# mpirun -np 1, 2, 3). Arguments go to the serial ctest run and skip the MPI
# tests (a subset was asked for); STRATA_TEST_MPI=0 skips them too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
if [ $# -eq 0 ] && [ "${STRATA_TEST_MPI:-1}" != 0 ]; then
  bash scripts/test-mpi.sh
fi
