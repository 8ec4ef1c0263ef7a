#!/usr/bin/env bash
# Install libstrata's build, test and benchmark dependencies from Debian 12's
# archive. Idempotent: packages already present are left as they are.
# Extra package names given as arguments are installed too (the sanitizer
# builds add clang and libomp-dev).
set -euo pipefail
PKGS=(build-essential cmake pkg-config libopenblas-openmp-dev libopenblas-dev libhdf5-dev zlib1g-dev
      hdf5-tools python3 python3-numpy python3-pytest python3-h5py python3-sklearn python3-pandas
      python3-pip python3-setuptools python3-tables
      # ABI and reference-doc checks (ctest -L abi, scripts/docs.sh)
      abigail-tools doxygen
      # Debian packages (scripts/build-debs.sh, tests/deb/test_debs.sh)
      dpkg-dev debhelper dh-python help2man lintian fakeroot man-db
      # the distributed build (-DSTRATA_MPI=ON, scripts/test-mpi.sh): Open MPI and
      # HDF5's parallel build (libstrata itself keeps linking the serial one)
      openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
      # CLV reference tests (scipy) and the CLV tracking picture (matplotlib)
      python3-scipy python3-matplotlib "$@")
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
