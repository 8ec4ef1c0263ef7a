#!/usr/bin/env bash
# Build the libFuzzer targets (CMake preset `fuzz`: clang, ASan+UBSan) and run
# each from its seed corpus (tests/fuzz/corpus/<target>).
#   bash scripts/fuzz.sh                 short run (CI): 2000 inputs per target
#   bash scripts/fuzz.sh --runs N        N inputs per target
#   bash scripts/fuzz.sh --time S [-j J] S seconds per target on J processes
#                                        (long runs; the corpus grows in
#                                        build-fuzz/corpus)
#   --only TARGET                        that target alone (e.g. fuzz_h5_rfm)
# Runs go on after a failing input (libFuzzer's fork mode); at the end every
# kept input is run again alone and sorted by tests/fuzz/triage.py: one that
# fails inside libhdf5 (1.10 crashes on some corrupted metadata whatever its
# caller checks, docs/reliability.md) is listed and kept in
# build-fuzz/libhdf5/, one that fails in libstrata fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=2000 time_s="" jobs=1 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --time) time_s=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N | --time S] [-j J] [--only TARGET]" >&2; exit 2 ;;
  esac
done
bash scripts/install-deps.sh clang libomp-dev
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)"
# libhdf5's own leaks on corrupted files are not ours (tests/lsan.supp); a
# malloc of an absurd size returns NULL, as it does outside ASan (libhdf5 asks
# for what a corrupted header declares)
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="allocator_may_return_null=1"
status=0
for t in fuzz_h5_matrix fuzz_h5_rfm fuzz_params fuzz_segments; do
  [ -z "$only" ] || [ "$only" = "$t" ] || continue
  work=build-fuzz/corpus/$t art=build-fuzz/artifacts/$t
  mkdir -p "$work" "$art"
  if [ -n "$time_s" ]; then
    limit=(-max_total_time="$time_s" -fork="$jobs")
  else
    limit=(-seed=1 -runs="$runs" -fork=1)
  fi
  echo "== $t ${limit[*]}"
  build-fuzz/tests/fuzz/$t "${limit[@]}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -rss_limit_mb=4096 -timeout=30 -artifact_prefix="$art/" "$work" tests/fuzz/corpus/$t 2>&1 |
    grep -E '^#[0-9]+: cov|^INFO: (fuzzed|exiting)|ERROR' | tail -n 4
  python3 tests/fuzz/triage.py build-fuzz/tests/fuzz/$t "$art" build-fuzz/libhdf5/$t . || status=1
done
[ "$status" -eq 0 ] && echo "fuzzing: no defect in libstrata" || echo "fuzzing: defects in libstrata (above)"
exit "$status"
