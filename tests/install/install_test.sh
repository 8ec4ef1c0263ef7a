#!/usr/bin/env bash
# One packaging check (tests/install/CMakeLists.txt lists them) against the
# installation in $work/prefix; prints what it checked, exits non-zero with a
# message naming what differs.
set -euo pipefail
mode=$1 here=$2 work=$3 build=$4 libdir=$5 version=$6 cc=$7 cmake=$8 example=$9
built_example=${10} pkgconfig=${11:-}
prefix=$work/prefix
major=${version%%.*}
fail() { printf "FAIL: %b\n" "$*" >&2; exit 1; }
need_pkgconfig() { [ -n "$pkgconfig" ] && [ -x "$pkgconfig" ] || fail "pkg-config not found (Debian: pkg-config)"; }
expected_output() { "$built_example"; }

# The example's output against the build tree's own run of it (whose
# inertia the test example_quickstart pins).
check_run() {
  local exe=$1 want got
  want=$(expected_output) || fail "the build's example failed"
  got=$("$exe") || fail "$exe failed"
  [ "$got" = "$want" ] || fail "$exe printed:\n$got\nthe build's example:\n$want"
  grep -q "inertia 22812.7" <<<"$got" || fail "$exe: no 'inertia 22812.7' in its output"
}
# Linked against libstrata.so.MAJOR from $prefix (shared) or with no libstrata at all (static).
check_linkage() {
  local exe=$1 kind=$2 needed
  needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  if [ "$kind" = shared ]; then
    grep -qx "libstrata.so.$major" <<<"$needed" || fail "$exe does not need libstrata.so.$major: $needed"
    # Captured first: grep -q closing the pipe early would make ldd die of
    # SIGPIPE, which pipefail turns into a spurious failure.
    local loaded
    loaded=$(ldd "$exe")
    grep -q "libstrata.so.$major => $prefix/$libdir/libstrata.so.$major" <<<"$loaded" ||
      fail "$exe does not load libstrata from $prefix: $(grep strata <<<"$loaded")"
  else
    ! grep -q libstrata <<<"$needed" || fail "$exe (static) needs a shared libstrata: $needed"
  fi
}
check_version_output() {
  local exe=$1 number got
  IFS=. read -r ma mi pa <<<"$version"
  number=$((ma * 10000 + mi * 100 + pa))
  got=$("$exe") || fail "$exe failed"
  [ "$got" = "header $version $number runtime $version $number" ] ||
    fail "version_check printed '$got', want 'header $version $number runtime $version $number'"
}

case "$mode" in
setup)
  rm -rf "$prefix" "$work/prefix-static"
  "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
    { cat "$work/install.log"; fail "cmake --install"; }
  for f in bin/strata include/strata.h include/strata_version.h "$libdir/libstrata.a" \
      "$libdir/libstrata.so" "$libdir/libstrata.so.$major" "$libdir/libstrata.so.$version" \
      "$libdir/pkgconfig/strata.pc" "$libdir/cmake/strata/strataConfig.cmake" \
      "$libdir/cmake/strata/strataConfigVersion.cmake" \
      "$libdir/cmake/strata/strata-shared-targets.cmake" \
      "$libdir/cmake/strata/strata-static-targets.cmake"; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
  done
  # A prefix with the static library alone: pkg-config --static must then suffice.
  cp -a "$prefix" "$work/prefix-static"
  rm -f "$work/prefix-static/$libdir"/libstrata.so*
  grep -qx "strata $version" <<<"$("$prefix/bin/strata" --version)" ||
    fail "installed strata --version: $("$prefix/bin/strata" --version)"
  echo "installed into $prefix"
  ;;
version)
  need_pkgconfig
  soname=$(readelf -d "$prefix/$libdir/libstrata.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ "$soname" = "libstrata.so.$major" ] || fail "SONAME $soname, want libstrata.so.$major"
  pc=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" "$pkgconfig" --modversion strata)
  [ "$pc" = "$version" ] || fail "strata.pc says $pc, want $version"
  grep -q "^set(PACKAGE_VERSION \"$version\")" "$prefix/$libdir/cmake/strata/strataConfigVersion.cmake" ||
    fail "strataConfigVersion.cmake does not say $version"
  py=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$here/../../bindings/python/strata/_version.py")
  [ "$py" = "$version" ] || fail "bindings/python/strata/_version.py says $py, want $version"
  grep -q "^SONAME = \"libstrata.so.$major\"$" "$here/../../bindings/python/strata/_version.py" ||
    fail "_version.py's SONAME is not libstrata.so.$major"
  exe=$work/version_check
  "$cc" -Wall -Wextra -Werror "$here/version_check.c" -o "$exe" \
    $(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" "$pkgconfig" --cflags --libs strata) \
    -Wl,-rpath,"$prefix/$libdir"
  check_linkage "$exe" shared
  check_version_output "$exe"
  echo "version $version everywhere: run time, header, SONAME $soname, strata.pc," \
    "strataConfigVersion.cmake, Python"
  ;;
cmake_shared | cmake_static)
  kind=${mode#cmake_}
  dir=$work/consumer-$kind
  rm -rf "$dir"
  "$cmake" -S "$here/consumer" -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" \
    -DSTRATA_KIND="$kind" -DSTRATA_EXPECTED_VERSION="$version" -DSTRATA_EXAMPLE="$example" \
    >"$dir.log" 2>&1 || { cat "$dir.log"; fail "configuring the consumer project ($kind)"; }
  "$cmake" --build "$dir" >>"$dir.log" 2>&1 || { cat "$dir.log"; fail "building the consumer ($kind)"; }
  check_linkage "$dir/quickstart" "$kind"
  check_run "$dir/quickstart"
  check_version_output "$dir/version_check"
  echo "find_package(strata) + strata::$([ "$kind" = shared ] && echo strata || echo strata_static):" \
    "the README's example builds and runs"
  ;;
pkgconfig_shared)
  need_pkgconfig
  exe=$work/quickstart-pc-shared
  flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" "$pkgconfig" --cflags --libs strata)
  "$cc" -std=c11 -Wall -Wextra -Werror "$example" -o "$exe" $flags -Wl,-rpath,"$prefix/$libdir"
  check_linkage "$exe" shared
  check_run "$exe"
  echo "cc \$(pkg-config --cflags --libs strata) = $flags: the README's example builds and runs"
  ;;
pkgconfig_static)
  need_pkgconfig
  exe=$work/quickstart-pc-static
  sprefix=$work/prefix-static
  # strata.pc's prefix is the installed one: point pkg-config at the copy.
  flags=$(PKG_CONFIG_PATH="$sprefix/$libdir/pkgconfig" "$pkgconfig" --define-variable=prefix="$sprefix" \
    --static --cflags --libs strata)
  grep -q -- "-L$sprefix/" <<<"$flags" || fail "pkg-config did not take the copy's prefix: $flags"
  "$cc" -std=c11 -Wall -Wextra -Werror "$example" -o "$exe" $flags
  check_linkage "$exe" static
  check_run "$exe"
  echo "cc \$(pkg-config --static --cflags --libs strata) = $flags: the example builds and runs"
  # Beside libstrata.so, -lstrata takes the .so: docs/using.md names the archive.
  exe=$work/quickstart-pc-static-named
  flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" "$pkgconfig" --static --cflags --libs strata |
    sed 's/-lstrata\b/-l:libstrata.a/')
  "$cc" -std=c11 -Wall -Wextra -Werror "$example" -o "$exe" $flags
  check_linkage "$exe" static
  check_run "$exe"
  echo "and with libstrata.so beside it: $flags"
  ;;
*) fail "unknown mode $mode" ;;
esac
