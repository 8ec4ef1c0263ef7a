#!/usr/bin/env bash
# Build the libFuzzer targets (CMake preset `fuzz`: clang, ASan+UBSan) and run
# each from its seed corpus (tests/fuzz/corpus/<target>).
#   bash scripts/fuzz.sh                 short run (CI): 2000 inputs per target
#   bash scripts/fuzz.sh --runs N        N inputs per target
#   bash scripts/fuzz.sh --time S [-j J] S seconds per target on J processes
#                                        (long runs; the corpus grows in
#                                        build-fuzz/corpus)
#   bash scripts/fuzz.sh --cpu S         each target until its processes have
#                                        used S CPU seconds (the long run of
#                                        docs/reliability.md: --cpu 3600; with
#                                        `nice -n 19` on a shared machine the
#                                        wall time is longer, the CPU the same)
#   --only TARGET                        that target alone (e.g. fuzz_h5_rfm)
# Runs go on after a failing input (libFuzzer's fork mode); at the end every
# kept input is run again alone and sorted by tests/fuzz/triage.py: one that
# fails inside libhdf5 (1.10 crashes on some corrupted metadata whatever its
# caller checks, docs/reliability.md) is listed and kept in
# build-fuzz/libhdf5/, one that fails in libstrata fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=2000 time_s="" cpu_s="" jobs=1 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --time) time_s=$2; shift 2 ;;
    --cpu) cpu_s=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N | --time S | --cpu S] [-j J] [--only TARGET]" >&2; exit 2 ;;
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
# CPU seconds used so far by process $1 and every live descendant (the
# reaped fork-mode jobs are in the parent's cutime/cstime)
tree_cpu() {
  local ticks=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null) $(for c in $(pgrep -P "$1" 2>/dev/null); do pgrep -P "$c"; done); do
    [ -r /proc/$p/stat ] || continue
    ticks=$((ticks + $(sed 's/.*) //' /proc/$p/stat | awk '{print $12 + $13 + $14 + $15}')))
  done
  echo $((ticks / $(getconf CLK_TCK)))
}
status=0
for t in fuzz_h5_matrix fuzz_h5_rfm fuzz_params fuzz_segments fuzz_h5_frame fuzz_h5_model \
    fuzz_h5_tiering fuzz_h5_catalog; do
  [ -z "$only" ] || [ "$only" = "$t" ] || continue
  work=build-fuzz/corpus/$t art=build-fuzz/artifacts/$t
  mkdir -p "$work" "$art"
  if [ -n "$cpu_s" ]; then
    limit=(-max_total_time=$((cpu_s * 100)) -fork="$jobs")
  elif [ -n "$time_s" ]; then
    limit=(-max_total_time="$time_s" -fork="$jobs")
  else
    limit=(-seed=1 -runs="$runs" -fork=1)
  fi
  echo "== $t ${limit[*]}"
  log=build-fuzz/$t.log
  start=$(date +%s)
  build-fuzz/tests/fuzz/$t "${limit[@]}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -rss_limit_mb=4096 -timeout=30 -artifact_prefix="$art/" "$work" tests/fuzz/corpus/$t >"$log" 2>&1 &
  pid=$!
  if [ -n "$cpu_s" ]; then
    used=0
    while kill -0 "$pid" 2>/dev/null; do
      used=$(tree_cpu "$pid")
      [ "$used" -lt "$cpu_s" ] || { pkill -TERM -P "$pid" || true; kill -TERM "$pid"; break; }
      sleep 10
    done
  fi
  wait "$pid" || true
  { grep -E '^#[0-9]+: cov|^INFO: (fuzzed|exiting)|ERROR' "$log" || true; } | tail -n 4
  [ -z "$cpu_s" ] || echo "$t: ${used} CPU seconds in $(( $(date +%s) - start )) s of wall time," \
    "$(ls "$work" | wc -l) inputs in the corpus, $(ls "$art" | wc -l) kept"
  python3 tests/fuzz/triage.py build-fuzz/tests/fuzz/$t "$art" build-fuzz/libhdf5/$t . || status=1
done
[ "$status" -eq 0 ] && echo "fuzzing: no defect in libstrata" || echo "fuzzing: defects in libstrata (above)"
exit "$status"
