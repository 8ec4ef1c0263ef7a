#!/usr/bin/env bash
# mpirun as the tests need it here and in CI: -np N, more ranks than cores
# (--oversubscribe), as root in CI containers (--allow-run-as-root), the
# shared-memory transport without the single-copy mechanism containers
# often forbid (CMA/ptrace). Usage: mpirun.sh N command args...
set -euo pipefail
np=$1
shift
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
exec mpirun -np "$np" --oversubscribe --allow-run-as-root --bind-to none \
  --mca btl self,vader "$@"
