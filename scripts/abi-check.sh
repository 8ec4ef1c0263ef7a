#!/usr/bin/env bash
# Compare the ABI of a built libstrata.so with the committed baseline
# (docs/abi-policy.md). Run by ctest as abi.compat; needs the library's
# debug information (the shared library is always built with -g).
#
#   bash scripts/abi-check.sh [LIB]            check (default build/libstrata.so)
#   bash scripts/abi-check.sh [LIB] --update   write the baseline from LIB instead
#                                              (scripts/abi-baseline.sh does this)
#
# The baseline is tests/abi/baseline.abi (abidw, public types only: the
# opaque handles stay opaque) with tests/abi/baseline/strata.h, the header it
# was built from (the old client test compiles against it). The check fails
# when abidiff finds an incompatible change (exit bit 8, e.g. a function
# removed or its symbol version changed) or any change to an existing
# function or variable (exit bit 4 with something removed or changed: a
# parameter or return type, a type it reaches); added functions pass.
# Enum values are not in the binary's ABI (the functions take int), so the
# pinned values are compared between the two headers (check-enums.py).
set -euo pipefail
cd "$(dirname "$0")/.."
lib="build/libstrata.so"
update=0
for a in "$@"; do
  case "$a" in
    --update) update=1 ;;
    *) lib="$a" ;;
  esac
done
# (STRATA_ABI_BASELINE: another baseline file; tests/abi/selftest.sh uses it.)
baseline="${STRATA_ABI_BASELINE:-tests/abi/baseline.abi}"
# Stable output: no absolute paths, hashed type ids, public types only.
dump() {
  abidw --no-corpus-path --no-comp-dir-path --short-locs --type-id-style hash \
    --headers-dir include --headers-dir "$(dirname "$1")/include" --drop-private-types --exported-interfaces-only --out-file "$2" "$1"
}
sections="$(readelf -S "$lib")"
if ! grep -q '\.debug_info' <<<"$sections"; then
  echo "abi-check: $lib has no debug information (abidw needs it; build with -g)" >&2
  exit 1
fi
if [ "$update" = 1 ]; then
  dump "$lib" "$baseline"
  mkdir -p tests/abi/baseline
  cp include/strata.h tests/abi/baseline/strata.h
  # strata.h includes the version header CMake generates beside the library.
  cp "$(dirname "$lib")/include/strata_version.h" tests/abi/baseline/strata_version.h
  echo "abi-check: wrote $baseline and tests/abi/baseline/strata.h from $lib"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dump "$lib" "$tmp/current.abi"
set +e
abidiff "$baseline" "$tmp/current.abi" > "$tmp/report.txt"
rc=$?
set -e
cat "$tmp/report.txt"
status=0
if (( rc & 3 )); then
  echo "abi-check: abidiff failed (exit $rc)" >&2
  exit 1
fi
if (( rc & 8 )); then
  echo "abi-check: INCOMPATIBLE ABI change against $baseline (abidiff exit $rc)" >&2
  status=1
elif (( rc & 4 )) && grep -Eq '(^|[^0-9])[1-9][0-9]* (Removed|Changed)' "$tmp/report.txt"; then
  echo "abi-check: an existing function or variable changed against $baseline (abidiff exit $rc)" >&2
  status=1
fi
python3 scripts/check-enums.py tests/abi/baseline/strata.h include/strata.h || status=1
if [ "$status" = 0 ]; then
  echo "abi-check: compatible with the baseline ($( ((rc & 4)) && echo 'additions only' || echo 'no change'))"
else
  echo "abi-check: if the change is meant (before a release, or with a new SONAME), regenerate" \
       "the baseline: bash scripts/abi-baseline.sh (docs/abi-policy.md)" >&2
fi
exit "$status"
