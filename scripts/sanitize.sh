#!/usr/bin/env bash
# Build and run the C and CLI tests under the sanitizers (CMakePresets.json):
#   asan-ubsan  AddressSanitizer + UndefinedBehaviorSanitizer (gcc), into
#               ./build-asan (`asan` names it too)
#   tsan        ThreadSanitizer (clang with LLVM's OpenMP runtime and its Archer
#         tool, so OpenMP barriers count as synchronisation), into ./build-tsan
# Usage: bash scripts/sanitize.sh [asan-ubsan] [tsan]   (both when none is named)
# Any report fails the run. The Python tests are left out: the interpreter
# is not instrumented.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh clang libomp-dev
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(asan-ubsan tsan)
for p in "${presets[@]}"; do
  [ "$p" != asan ] || p=asan-ubsan
  echo "== sanitizer preset: $p"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j"$(nproc)"
  ctest --preset "$p" -j"$(nproc)"
done
