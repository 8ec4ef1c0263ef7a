#!/usr/bin/env bash
# The file rules of `strata kmeans` and `strata rfm` (issue 12): no file the
# run reads is ever replaced, even with --force and under another name; only a
# regular file is replaced, keeping its mode; a FIFO input is refused at once;
# SIGINT/SIGTERM/SIGHUP during a write leave no temporary; the temporary a
# kill -9 leaves is removed by the next run into the same folder, and a live
# process's is not.
#
#   test_files_cli.sh STRATA_BINARY
#
# Needs a Python with numpy and h5py ($STRATA_TEST_PYTHON, default Debian's
# /usr/bin/python3); exits 77 (skipped) without one.
set -u

STRATA=${1:?usage: test_files_cli.sh STRATA_BINARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
FILES="$HERE/files_check.py"

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi

T_NAME=strata-files-test
# shellcheck source=harness.sh
. "$HERE/harness.sh"

"$PY" "$HERE/cli_check.py" fixtures "$T" && "$PY" "$FILES" fixtures "$T" ||
  { echo "FAIL: cannot write fixtures"; exit 1; }
B=$T/blobs.h5 I=$T/init.h5 X=$T/tx.h5 BIG=$T/big.h5
TX=(--customer /c --time /t --amount /a)
printf 'Top: m=4-5\nRest:\n' >"$T/rules.txt"
ln "$B" "$T/hard.h5"
ln -s blobs.h5 "$T/soft.h5"
ln -s init.h5 "$T/init_link.h5"
ln -s tx.h5 "$T/tx_link.h5"
mkfifo "$T/fifo" "$T/fifo.h5"
declare -A before
for f in "$B" "$I" "$X" "$T/rules.txt"; do before[$f]=$(sum "$f"); done
unchanged() { # NAME: every input still has its content
  local f
  for f in "${!before[@]}"; do
    [ "$(sum "$f")" = "${before[$f]}" ] || { bad "$1: $f changed"; return; }
  done
  ok
}

# --- no input is ever an output (exit 2, even with --force) ---
km() { timeout 60 "$STRATA" kmeans "$@"; }
rfm() { timeout 60 "$STRATA" rfm "$@"; }
expect "kmeans: --init file as output" 2 "output '$I' is the --init file" km "$B:/data/x" -k 5 --init "$I:/c" -o "$I" --force
unchanged "kmeans: --init file as output"
expect "kmeans: --init file via a symlink" 2 "is the --init file, under another name" km "$B:/data/x" -k 5 --init "$I:/c" -o "$T/init_link.h5" --force
expect "kmeans: hard link to the input" 2 "output '$T/hard.h5' is the input file, under another name" km "$B:/data/x" -k 5 -o "$T/hard.h5" --force
expect "kmeans: symlink to the input" 2 "is the input file, under another name" km "$B:/data/x" -k 5 -o "$T/soft.h5" --force
expect "kmeans: the input itself" 2 "is the input file" km "$B:/data/x" -k 5 -o "$B" --force
unchanged "kmeans: input as output"
[ -L "$T/soft.h5" ] && [ "$(stat -c %h "$B")" = 2 ] && ok || bad "a link to the input was replaced"
expect "rfm: --segments file as output" 2 "output '$T/rules.txt' is the --segments file" rfm "$X" "${TX[@]}" --segments "$T/rules.txt" -o "$T/rules.txt" --force
expect "rfm: symlink to the input" 2 "is the input file, under another name" rfm "$X" "${TX[@]}" -o "$T/tx_link.h5" --force
unchanged "rfm: input as output"

# --- only a regular file is replaced (exit 2, even with --force) ---
expect "kmeans: /dev/null" 2 "output '/dev/null' is a character device" km "$B:/data/x" -k 5 -o /dev/null --force
[ -c /dev/null ] && ok || bad "/dev/null is no longer a character device"
expect "kmeans: FIFO output" 2 "is a FIFO: only a regular file" km "$B:/data/x" -k 5 -o "$T/fifo" --force
expect "rfm: FIFO output" 2 "is a FIFO" rfm "$X" "${TX[@]}" -o "$T/fifo" --force
[ -p "$T/fifo" ] && ok || bad "the FIFO was replaced"
ln -s nowhere.h5 "$T/dangling.h5"
expect "kmeans: dangling symlink output" 2 "is a symbolic link" km "$B:/data/x" -k 5 -o "$T/dangling.h5" --force
[ -L "$T/dangling.h5" ] && [ ! -e "$T/nowhere.h5" ] && ok || bad "a symlink output was followed or replaced"

# --- a replaced file keeps its mode ---
expect "kmeans: first output" 0 "" km "$B:/data/x" -k 5 -o "$T/m.h5"
chmod 600 "$T/m.h5"
expect "kmeans: --force over a 600 file" 0 "" km "$B:/data/x" -k 4 -o "$T/m.h5" --force
[ "$(stat -c %a "$T/m.h5")" = 600 ] && ok || bad "--force changed mode 600 to $(stat -c %a "$T/m.h5")"
[ "$("$PY" "$HERE/cli_check.py" attr "$T/m.h5" k)" = 4 ] && ok || bad "--force did not replace the 600 file"
expect "rfm: first output" 0 "" rfm "$X" "${TX[@]}" -o "$T/r.h5"
chmod 640 "$T/r.h5"
expect "rfm: --force over a 640 file" 0 "" rfm "$X" "${TX[@]}" -o "$T/r.h5" --force --bins 3
[ "$(stat -c %a "$T/r.h5")" = 640 ] && ok || bad "--force changed mode 640 to $(stat -c %a "$T/r.h5")"

# --- FIFO inputs: refused at once (exit 1), nothing written ---
expect "kmeans: FIFO input" 1 "cannot read input file '$T/fifo.h5': it is a FIFO" km "$T/fifo.h5:/x" -k 2 -o "$T/f1.h5"
expect "kmeans: FIFO --init" 1 "cannot read --init file '$T/fifo.h5': it is a FIFO" km "$B:/data/x" -k 2 --init "$T/fifo.h5:/c" -o "$T/f1.h5"
expect "rfm: FIFO input" 1 "cannot read input file '$T/fifo.h5': it is a FIFO" rfm "$T/fifo.h5" "${TX[@]}" -o "$T/f1.h5"
expect "rfm: FIFO --segments" 1 "cannot read --segments file '$T/fifo': it is a FIFO" rfm "$X" "${TX[@]}" --segments "$T/fifo" -o "$T/f1.h5"
expect "kmeans: device input" 1 "it is a character device" km "/dev/zero:/x" -k 2 -o "$T/f1.h5"
[ ! -e "$T/f1.h5" ] && ok || bad "a refused run wrote $T/f1.h5"

# --- signals during a large write: no temporary left, no output ---
BIGRUN=("$STRATA" kmeans "$BIG:/x" -k 4 --max-iter 1 --threads 1 -o "$T/big_out.h5")
for sig in TERM INT HUP; do
  left=$("$PY" "$FILES" interrupt $sig "$T/big_out.h5" "${BIGRUN[@]}" 2>"$T/tries")
  if [ $? -ne 0 ]; then
    bad "SIG$sig: $(cat "$T/tries")"
  elif [ -n "$left" ]; then
    bad "SIG$sig during the write left: $left"
  else
    ok
  fi
done

# --- kill -9 leaves a temporary; the next run removes it, not a live one's ---
left=$("$PY" "$FILES" interrupt KILL "$T/big_out.h5" "${BIGRUN[@]}" 2>"$T/tries")
if [ $? -ne 0 ] || [ -z "$left" ]; then
  bad "kill -9 during the write left no temporary (the test needs one): $left $(cat "$T/tries")"
else
  ok
  sleep 300 &
  live=$!
  printf 'x' >"$T/big_out.h5.tmp.$live.1"    # a live process's (not ours)
  printf 'x' >"$T/other.h5.tmp.999999999.1" # another output's
  expect "run after kill -9" 0 "" "$STRATA" kmeans "$B:/data/x" -k 3 -o "$T/big_out.h5"
  for name in $left; do
    [ ! -e "$T/$name" ] && ok || bad "the temporary of the killed run stayed: $name"
  done
  [ -e "$T/big_out.h5.tmp.$live.1" ] && ok || bad "the temporary of live process $live was removed"
  [ -e "$T/other.h5.tmp.999999999.1" ] && ok || bad "another output's temporary was removed"
  kill "$live"
  wait "$live" 2>/dev/null
fi

finish
