#!/usr/bin/env bash
# Reference documentation: Doxygen (docs/Doxyfile) over include/strata.h and
# the Markdown pages, HTML into OUTDIR/html (default build/docs), then a check
# that fails when a public function, type, macro, enum or enum value of the
# header lacks documentation or a doc comment is malformed
# (scripts/check-docs.py). Also run by ctest as docs.reference.
# Usage: bash scripts/docs.sh [OUTDIR [HEADER]]   (HEADER, named strata.h,
# replaces include/strata.h: tests/abi/selftest.sh checks a broken copy)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build/docs}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
header="${2:-include/strata.h}"
rm -rf "$out/html" "$out/xml" "$out/warnings.log"
# The checked-in settings, plus where this run writes.
{ cat docs/Doxyfile
  echo "OUTPUT_DIRECTORY = $out"
  echo "WARN_LOGFILE = $out/warnings.log"
  echo "GENERATE_XML = YES"
  echo "INPUT = $header README.md docs"
} | doxygen -
python3 scripts/check-docs.py "$out"
echo "HTML: $out/html/index.html"
