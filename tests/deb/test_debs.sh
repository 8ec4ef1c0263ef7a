#!/usr/bin/env bash
# Debian packages end to end: build them from this tree (scripts/build-debs.sh),
# lintian (no error or warning), install them on this machine, use them the way
# a user would, then purge them again.
#
# - the README's C example (examples/quickstart.c) compiled against the
#   installed header and library with plain gcc -lstrata, with pkg-config and
#   with CMake's find_package when the package ships strata.pc and
#   strataConfig.cmake (shared, and static through pkg-config --static), run and
#   checked against the hand-computed answer;
# - /usr/bin/strata demo, and the strata(1) man page found by man -w;
# - /usr/bin/python3 importing strata from dist-packages (outside the tree,
#   no PYTHONPATH or STRATA_LIBRARY) and fitting the same six customers.
#
# Needs root (dpkg); exits 77 without it. Refuses to run when any of the
# packages is installed already, so that it never removes someone's install.
# DEB_BUILD_OPTIONS defaults to "nocheck": CI runs every test suite on the same
# tree just before; set it (e.g. to "parallel=2") to run the C tests in the
# package build too. STRATA_DEBS=DIR tests the packages already in DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pkgs=(libstrata0 libstrata-dev strata python3-strata)

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: tests/deb/test_debs.sh installs packages and needs root"
  exit 77
fi
present() { # PACKAGE: known to dpkg in any state but not-installed
  local s
  s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [ -n "$s" ] && [[ $s != *not-installed ]]
}
for p in "${pkgs[@]}"; do
  if present "$p"; then
    echo "FAIL: $p is installed already; purge it first (dpkg --purge ${pkgs[*]})" >&2
    exit 1
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-debtest.XXXXXX")
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then
    dpkg --purge "${pkgs[@]}" >/dev/null || echo "WARNING: dpkg --purge ${pkgs[*]} failed" >&2
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# The library's symbols file names the same functions as the checked-in ABI list.
step "debian/libstrata0.symbols against tests/abi/symbols.txt"
diff <(sed -n 's/^ \(strata_[A-Za-z0-9_]*\)@.*/\1/p' debian/libstrata0.symbols | sort) \
     <(sed "s/@@.*//" tests/abi/symbols.txt | sort) ||
  fail "debian/libstrata0.symbols and tests/abi/symbols.txt differ (scripts/build-debs.sh --update-symbols)"

# The changelog/project(VERSION) check the package build runs must refuse a
# version that differs (the build itself shows that it accepts the real one).
step "debian/check-version refuses a different project version"
printf 'CMAKE_PROJECT_VERSION:STATIC=9.9.9\n' > "$tmp/CMakeCache.txt"
if sh debian/check-version "$tmp/CMakeCache.txt" 2> "$tmp/check-version.log"; then
  fail "debian/check-version accepts project version 9.9.9"
fi
grep -q 'project(VERSION) is 9.9.9' "$tmp/check-version.log" ||
  fail "debian/check-version: unexpected message: $(cat "$tmp/check-version.log")"

debs=${STRATA_DEBS:-$tmp/debs}
if [ -z "${STRATA_DEBS:-}" ]; then
  step "build (DEB_BUILD_OPTIONS='${DEB_BUILD_OPTIONS-nocheck}')"
  DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} bash scripts/build-debs.sh -o "$debs"
fi

step "lintian"
rc=0
lintian --fail-on error,warning -I --pedantic "$debs"/*.changes > "$tmp/lintian.log" 2>&1 || rc=$?
grep -v '^running with root privileges is not recommended!$' "$tmp/lintian.log" || true
[ "$rc" = 0 ] || fail "lintian reports errors or warnings (above; exit status $rc)"

step "install"
debfiles=()
for p in "${pkgs[@]}"; do
  f=$(ls "$debs"/"${p}"_*.deb 2>/dev/null | head -n 1)
  [ -n "$f" ] || fail "no ${p}_*.deb in $debs"
  debfiles+=("$f")
done
installed=1
apt-get install -y --no-install-recommends "${debfiles[@]}" > "$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log" >&2; fail "apt-get install of the packages failed"; }
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
syslib=/usr/lib/$multiarch/libstrata.so.0
# The libstrata a program loads, as a real path (/lib is /usr/lib on Debian 12).
loaded_lib() { realpath "$(ldd "$1" | awk '$1 == "libstrata.so.0" {print $3}')"; }
uses_syslib() { # PROGRAM
  [ "$(loaded_lib "$1")" = "$(realpath "$syslib")" ] ||
    fail "$1 does not load $syslib: $(ldd "$1" | grep strata)"
}

# Nothing from the tree may be found instead of the installed files.
unset LD_LIBRARY_PATH PYTHONPATH STRATA_LIBRARY STRATA_CLI
cd "$tmp"

check_example() { # NAME PROGRAM: runs it and checks the README's answer
  local out
  out=$("$2") || fail "$1: the example exits non-zero"
  # Hand-computed: {0,1,2} and {3,4,5}, centroids (5.33, 1000) and (210, 50),
  # inertia (0.11+7.11+5.44+10000+10000) + (100+1600+900+100+100) = 22812.67.
  grep -q '^inertia 22812\.7$' <<<"$out" || fail "$1: no 'inertia 22812.7' in: $out"
  local l
  l=$(sed -n 's/^customer [0-9] -> tier \([01]\)$/\1/p' <<<"$out" | tr -d '\n')
  [[ $l == 000111 || $l == 111000 ]] || fail "$1: labels $l, expected 000111 or 111000"
  echo "$1: ok ($(grep -c '' <<<"$out") lines, inertia 22812.7, labels $l)"
}

step "the README's C example against the installed package"
cp "$root/examples/quickstart.c" .
gcc -Wall -o quick_plain quickstart.c -lstrata
uses_syslib ./quick_plain
check_example "gcc -lstrata" ./quick_plain
if pkg-config --exists strata; then
  # shellcheck disable=SC2046
  gcc -Wall -o quick_pc quickstart.c $(pkg-config --cflags --libs strata)
  uses_syslib ./quick_pc
  check_example "pkg-config strata" ./quick_pc
  # shellcheck disable=SC2046
  gcc -Wall -o quick_static quickstart.c $(pkg-config --cflags strata) \
    "/usr/lib/$multiarch/libstrata.a" $(pkg-config --libs --static strata | sed 's/-lstrata\b//')
  ldd ./quick_static | grep -q libstrata && fail "quick_static still loads libstrata.so"
  check_example "pkg-config --static strata (libstrata.a)" ./quick_static
else
  echo "NOTE: the package ships no strata.pc (CMakeLists.txt installs none yet): pkg-config not tested"
fi
if ls /usr/lib/"$multiarch"/cmake/strata/strataConfig.cmake >/dev/null 2>&1 ||
   ls /usr/lib/"$multiarch"/cmake/strata/strata-config.cmake >/dev/null 2>&1; then
  mkdir fp && cp quickstart.c fp/
  cat > fp/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.25)
project(quick LANGUAGES C)
find_package(strata REQUIRED)
add_executable(quick quickstart.c)
target_link_libraries(quick PRIVATE strata::strata)
CM
  cmake -S fp -B fp/build >/dev/null && cmake --build fp/build >/dev/null ||
    fail "find_package(strata) build failed"
  uses_syslib fp/build/quick
  check_example "find_package(strata)" fp/build/quick
else
  echo "NOTE: the package ships no strataConfig.cmake (CMakeLists.txt installs none yet): find_package not tested"
fi

step "/usr/bin/strata"
[ "$(command -v strata)" = /usr/bin/strata ] || fail "strata on PATH is $(command -v strata), not /usr/bin/strata"
uses_syslib /usr/bin/strata
version=$(dpkg-query -W -f='${Version}' strata)
[ "$(strata --version)" = "strata ${version%%[+~-]*}" ] ||
  fail "strata --version says '$(strata --version)', the package is $version"
strata demo -o demo --n 2000 > demo.log 2>&1 || { cat demo.log >&2; fail "strata demo exits non-zero"; }
grep -q 'customers 1994$' demo.log || { cat demo.log >&2; fail "strata demo: no 'customers 1994' line"; }
[ -s demo/tiers.h5 ] && [ -s demo/transactions.h5 ] || fail "strata demo wrote no tiers.h5/transactions.h5"
echo "strata demo: ok ($(grep -c '' demo.log) lines, demo/tiers.h5 $(stat -c %s demo/tiers.h5) bytes)"

step "man pages"
page=$(man -w strata) || fail "man -w strata finds no page"
[ "$page" = /usr/share/man/man1/strata.1.gz ] || fail "man -w strata gives $page"
man -w strata-kmeans >/dev/null || fail "man -w strata-kmeans finds no page"
MANWIDTH=80 man -P cat strata 2>/dev/null | grep -q 'kmeans' || fail "strata(1) does not list kmeans"
echo "man: ok ($page)"

step "python3-strata"
/usr/bin/python3 - "$syslib" <<'PY'
import sys
import numpy as np
import strata
from strata import _lib

syslib = sys.argv[1]
assert strata.__file__.startswith("/usr/lib/python3/dist-packages/strata/"), strata.__file__
assert _lib.path == "libstrata.so.0", f"loaded {_lib.path}, not the system's libstrata.so.0"
with open("/proc/self/maps") as maps:
    mapped = {line.split()[-1] for line in maps if "libstrata" in line}
import os
assert {os.path.realpath(m) for m in mapped} == {os.path.realpath(syslib)}, mapped
x = np.array([[5, 900], [8, 1100], [3, 1000], [200, 40], [250, 60], [180, 50]], dtype=np.float64)
km = strata.KMeans(n_clusters=2, random_state=42).fit(x)
labels = list(km.labels_)
assert labels[:3] == [labels[0]] * 3 and labels[3:] == [1 - labels[0]] * 3, labels
# numpy reference: the inertia of that split
ref = sum(((x[km.labels_ == j] - x[km.labels_ == j].mean(axis=0)) ** 2).sum() for j in (0, 1))
assert abs(km.inertia_ - ref) < 1e-6 * ref and abs(ref - 22812.6667) < 1e-3, (km.inertia_, ref)
print(f"python3-strata: ok ({strata.__file__}, {_lib.path}, inertia {km.inertia_:.4f})")
PY

cd "$root"
step "purge"
dpkg --purge "${pkgs[@]}" > /dev/null
installed=0
for p in "${pkgs[@]}"; do
  ! present "$p" || fail "$p is still known to dpkg after the purge"
done
[ ! -e "$syslib" ] || fail "$syslib is still there after the purge"
echo "PASS: tests/deb/test_debs.sh"
