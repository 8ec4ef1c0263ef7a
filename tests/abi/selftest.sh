#!/usr/bin/env bash
# The ABI and documentation checks must fail on what they are there to
# catch: each is run on a broken copy and must refuse it (ctest abi.selftest).
#   bash tests/abi/selftest.sh LIB
set -uo pipefail
cd "$(dirname "$0")/../.."
lib="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fails=0
expect_fail() { # name, command...
  local name="$1"; shift
  if "$@" > "$tmp/out.txt" 2>&1; then
    echo "FAILED: $name: the check passed"; sed 's/^/  /' "$tmp/out.txt"; fails=$((fails + 1))
  elif ! grep -q "$want" "$tmp/out.txt"; then
    echo "FAILED: $name: no \"$want\" in:"; sed 's/^/  /' "$tmp/out.txt"; fails=$((fails + 1))
  else
    echo "ok: $name refused"
  fi
}
differs() { # original, edited copy: the edit must have applied
  if cmp -s "$1" "$2"; then
    echo "FAILED: the edit of $1 made by this script no longer applies: update tests/abi/selftest.sh"
    fails=$((fails + 1))
  fi
}
symbols() { # map, expected, header
  cmake -DLIB="$lib" -DMAJOR=0 -DEXPECTED="$2" -DMAP="$1" -DHEADER="$3" \
    -P tests/abi/check_symbols.cmake
}

# A function in the map but not in symbols.txt (and so not in the library).
sed 's/^  global:$/  global:\n    strata_not_there;/' lib/strata.map > "$tmp/extra.map"
differs lib/strata.map "$tmp/extra.map"
want="strata_not_there@@STRATA_0.1" expect_fail "map with an unlisted function" \
  symbols "$tmp/extra.map" tests/abi/symbols.txt include/strata.h
# A wildcard instead of names.
printf 'STRATA_0.1 {\n  global:\n    strata_*;\n  local:\n    *;\n};\n' > "$tmp/wild.map"
want="wildcard" expect_fail "wildcard map" symbols "$tmp/wild.map" tests/abi/symbols.txt include/strata.h
# A function declared in the header but listed nowhere.
sed 's/^STRATA_API const char \*strata_last_error(void);/&\nSTRATA_API int strata_new_probe(int x);/' \
  include/strata.h > "$tmp/strata.h"
differs include/strata.h "$tmp/strata.h"
want="strata_new_probe" expect_fail "header function not listed" \
  symbols lib/strata.map tests/abi/symbols.txt "$tmp/strata.h"
# A symbol under another version node than the list says.
sed 's/^strata_crosstab@@STRATA_0.1$/strata_crosstab@@STRATA_0.2/' tests/abi/symbols.txt > "$tmp/moved.txt"
differs tests/abi/symbols.txt "$tmp/moved.txt"
want="strata_crosstab@@STRATA_0.2" expect_fail "moved version node" \
  symbols lib/strata.map "$tmp/moved.txt" include/strata.h

# abidiff: baselines edited to hold what the library no longer has.
# A function the library lost (the baseline's strata_crosstab renamed):
sed "s/strata_crosstab'/strata_crosstab_gone'/; s/strata_crosstab@@/strata_crosstab_gone@@/" \
  tests/abi/baseline.abi > "$tmp/removed.abi"
differs tests/abi/baseline.abi "$tmp/removed.abi"
STRATA_ABI_BASELINE="$tmp/removed.abi" want="INCOMPATIBLE ABI change" expect_fail "removed function" \
  bash scripts/abi-check.sh "$lib"
# A parameter type changed (the baseline's strata_kernel_available took an
# int64_t where the library takes int):
python3 - tests/abi/baseline.abi "$tmp/changed.abi" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
i64 = re.search(r"<typedef-decl name='int64_t' [^>]* id='([^']+)'", s).group(1)
start = s.index("<function-decl name='strata_kernel_available'")
end = s.index("</function-decl>", start)
block = re.sub(r"<parameter type-id='[^']+'", "<parameter type-id='%s'" % i64, s[start:end], count=1)
open(sys.argv[2], "w").write(s[:start] + block + s[end:])
PY
differs tests/abi/baseline.abi "$tmp/changed.abi"
STRATA_ABI_BASELINE="$tmp/changed.abi" want="an existing function or variable changed" \
  expect_fail "changed parameter type" bash scripts/abi-check.sh "$lib"

# Pinned enum values: one renumbered, one renamed, one left implicit.
sed 's/STRATA_E_IO = -200/STRATA_E_IO = -299/' include/strata.h > "$tmp/renum.h"
differs include/strata.h "$tmp/renum.h"
want="STRATA_E_IO was -200, is now -299" expect_fail "renumbered enum value" \
  python3 scripts/check-enums.py include/strata.h "$tmp/renum.h"
sed 's/STRATA_KERNEL_AVX2 = 2,/STRATA_KERNEL_AVX2_FMA = 2,/' include/strata.h > "$tmp/renamed.h"
differs include/strata.h "$tmp/renamed.h"
want="STRATA_KERNEL_AVX2 = 2 (enum strata_kernel) is gone" expect_fail "renamed enum value" \
  python3 scripts/check-enums.py include/strata.h "$tmp/renamed.h"
sed 's/STRATA_FLOAT64 = 2,/STRATA_FLOAT64,/' include/strata.h > "$tmp/implicit.h"
differs include/strata.h "$tmp/implicit.h"
want="STRATA_FLOAT64 in enum strata_dtype: no explicit" expect_fail "implicit enum value" \
  python3 scripts/check-enums.py include/strata.h "$tmp/implicit.h"

# Documentation: a function, an enum value without a comment; a bad @param.
mkdir -p "$tmp/h"
sed 's|^/\*\* Static English description|STRATA_API int strata_undocumented(int x);\n\n&|' \
  include/strata.h > "$tmp/h/strata.h"
differs include/strata.h "$tmp/h/strata.h"
want="function strata_undocumented is not documented" expect_fail "undocumented function" \
  bash scripts/docs.sh "$tmp/docs" "$tmp/h/strata.h"
sed 's|^    STRATA_OK = 0, .*|    STRATA_OK = 0,|' include/strata.h > "$tmp/h/strata.h"
differs include/strata.h "$tmp/h/strata.h"
want="enum value STRATA_OK (of strata_status) is not documented" expect_fail "undocumented enum value" \
  bash scripts/docs.sh "$tmp/docs" "$tmp/h/strata.h"
sed 's|^/\*\* Static English description|/** @param nosuch x */\n&|' include/strata.h > "$tmp/h/strata.h"
differs include/strata.h "$tmp/h/strata.h"
want="argument 'nosuch' of command @param" expect_fail "bad @param" \
  bash scripts/docs.sh "$tmp/docs" "$tmp/h/strata.h"

echo "$fails failed"
exit $((fails > 0))
