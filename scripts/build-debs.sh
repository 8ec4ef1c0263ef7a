#!/usr/bin/env bash
# Build the Debian packages (libstrata0, libstrata-dev, strata, python3-strata,
# their -dbgsym and the native source package) with dpkg-buildpackage from a
# copy of the working tree (tracked and untracked, not ignored, files), so the
# tree itself gets no build directory and no files beside it.
#
#   scripts/build-debs.sh [-o OUTDIR] [--update-symbols]
#
# OUTDIR (default ./out/debs, git-ignored) receives the .deb, .dsc, .tar.xz,
# .changes, .buildinfo files and build.log; it is emptied of those first.
# DEB_BUILD_OPTIONS is passed through (e.g. "nocheck parallel=2" skips the C
# tests); unset, it is parallel=$(nproc).
# --update-symbols: after the build, merge the built library's symbols into
# debian/libstrata0.symbols (new symbols get this version, old ones keep
# theirs; vanished ones are dropped). Review the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=out/debs
update_symbols=0
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=${2:?-o needs a folder}; shift 2 ;;
    --update-symbols) update_symbols=1; shift ;;
    -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "build-debs.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for tool in dpkg-buildpackage dh dh_python3 help2man; do
  command -v "$tool" >/dev/null || {
    echo "build-debs.sh: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-parallel=$(nproc)}
# A symbol gone from the library fails dh_makeshlibs (an ABI break); when
# updating the list, build anyway and let the update below report it.
[ "$update_symbols" = 0 ] || export DPKG_GENSYMBOLS_CHECK_LEVEL=0

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/strata"
git ls-files -z -co --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$work/strata"

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.deb "$out"/*.dsc "$out"/*.tar.xz "$out"/*.changes "$out"/*.buildinfo \
  "$out"/build.log
echo "build-debs.sh: building in $work (DEB_BUILD_OPTIONS='$DEB_BUILD_OPTIONS'), log in $out/build.log"
start=$(date +%s)
if ! (cd "$work/strata" && dpkg-buildpackage -us -uc) > "$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log" >&2
  echo "build-debs.sh: dpkg-buildpackage failed; full log: $out/build.log" >&2
  exit 1
fi
cp "$work"/*.deb "$work"/*.dsc "$work"/*.tar.xz "$work"/*.changes "$work"/*.buildinfo "$out"/
echo "build-debs.sh: built in $(( $(date +%s) - start )) s:"
ls -1 "$out"

if [ "$update_symbols" = 1 ]; then
  x="$work/libstrata0"
  dpkg-deb -x "$out"/libstrata0_*.deb "$x"
  mkdir -p "$x/DEBIAN"
  version=$(dpkg-parsechangelog -SVersion)
  # The library's symbols as of now, all at this version; then each keeps
  # the version the checked-in file gives it, and symbols gone are dropped.
  dpkg-gensymbols -plibstrata0 -P"$x" -v"${version%%-*}" -c0 -q -O"$work/fresh"
  # (header fields such as Build-Depends-Package come once, from the
  # checked-in file, though dpkg-gensymbols repeats them)
  awk 'NR == FNR { if ($0 ~ /^ /) old[$1] = $2;
                   else if (FNR > 1 && !($0 in inhead)) { inhead[$0] = 1; head = head $0 "\n" }
                   next }
       FNR == 1 { printf "%s\n%s", $0, head; next }
       /^ / { print " " $1 " " ($1 in old ? old[$1] : $2); next }
       !($0 in inhead) { print }' "$root/debian/libstrata0.symbols" "$work/fresh" > "$work/symbols"
  cp "$work/symbols" "$root/debian/libstrata0.symbols"
  echo "build-debs.sh: updated debian/libstrata0.symbols:"
  git -C "$root" diff --stat -- debian/libstrata0.symbols
fi
