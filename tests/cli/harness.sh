# Shared by the CLI test scripts (sourced, not run). Before sourcing, set
# T_NAME (temporary folder prefix). Provides $T (removed on exit), the
# counters and:
#   run CMD...               exit code in $rc, stdout in $T/out, stderr in $T/err
#   expect NAME CODE TEXT CMD...   CMD exits with CODE and, if TEXT is not
#                            empty, stderr is exactly one line containing TEXT
#   check NAME CMD...        CMD (a Python check) succeeds
#   sum FILE                 sha256 of FILE
#   finish                   prints the counts; fails if anything failed

T=$(mktemp -d "${TMPDIR:-/tmp}/$T_NAME.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }

expect() {
  local name=$1 code=$2 text=$3
  shift 3
  run "$@"
  if [ "$rc" -ne "$code" ]; then
    bad "$name: exit $rc, expected $code; stderr: $(cat "$T/err")"
  elif [ -n "$text" ] && ! { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF -- "$text" "$T/err"; }; then
    bad "$name: stderr is not one line containing '$text': $(cat "$T/err")"
  else
    ok
  fi
}

check() {
  local name=$1
  shift
  if "$@" >"$T/check" 2>&1; then ok; else bad "$name: $(cat "$T/check")"; fi
}

sum() { sha256sum "$1" | cut -d' ' -f1; }

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
