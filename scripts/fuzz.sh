#!/usr/bin/env bash
# Build the libFuzzer targets (CMake preset `fuzz`: clang, ASan+UBSan) and run
# each from its seed corpus (tests/fuzz/corpus/<target>).
#   bash scripts/fuzz.sh                 short, deterministic run (CI): a fixed
#                                        seed and a fixed number of inputs
#   bash scripts/fuzz.sh --runs N        N inputs per target (default 2000)
#   bash scripts/fuzz.sh --time S [-j J] S seconds per target, J jobs (long runs;
#                                        the corpus grows in build-fuzz/corpus)
# A crash, a leak in our code, or a timeout fails the run; the input is kept
# in build-fuzz/artifacts/. HDF5's own leaks on corrupted files are
# suppressed (tests/lsan.supp).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=2000 time_s="" jobs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --time) time_s=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N | --time S] [-j J]" >&2; exit 2 ;;
  esac
done
bash scripts/install-deps.sh clang libomp-dev
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
# malloc of an absurd size returns NULL, as it does outside ASan (libhdf5 asks for
# what a corrupted header declares, and handles the NULL)
export ASAN_OPTIONS="allocator_may_return_null=1"
mkdir -p build-fuzz/artifacts
for t in fuzz_h5_matrix fuzz_h5_rfm fuzz_params; do
  work=build-fuzz/corpus/$t
  mkdir -p "$work"
  if [ -n "$time_s" ]; then
    limit=(-max_total_time="$time_s" -jobs="$jobs" -workers="$jobs")
  else
    limit=(-seed=1 -runs="$runs")
  fi
  echo "== $t ${limit[*]}"
  build-fuzz/tests/fuzz/$t "${limit[@]}" -rss_limit_mb=4096 -timeout=30 \
    -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1 \
    "$work" tests/fuzz/corpus/$t 2>&1 | grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)|NEW_FUNC|Uses:'
done
