#!/usr/bin/env bash
# I/O faults and kill -9 during the writes of `strata kmeans`, `strata rfm`
# and `strata gen` (the streamed writer)
# (issue 12; docs/reliability.md). Through the LD_PRELOAD shim faultfs, which
# fails chosen calls on files of the output folder only:
#  - every file-system step of a write fails once, with EIO (and ENOSPC);
#    a disk that fills up at several points (short write, then ENOSPC);
#    permission denied, read-only file system, fsync and rename failures:
#    exit 1, one line on stderr naming the output and the system's error,
#    the previous output byte-identical (or none when there was none), no
#    temporary left, the inputs unchanged. A few steps may fail harmlessly
#    (closing a descriptor already synced, removing a stale temporary): then
#    exit 0 with the complete new output. A failed fsync of the folder after
#    the rename: exit 1, the new output in place (the message says so);
#  - SIGTERM right after the rename (the new output in place, the write's
#    last report not yet made): exit 0 with the complete new output;
#  - kill -9 at every step (writes cut into short pieces to make more
#    moments): the output is the old one or the complete new one, never
#    partial; the next run into the folder removes the temporary left.
# Then the real thing where the system allows: a full 1 MiB tmpfs, a
# read-only mount (in a private mount namespace: root with CAP_SYS_ADMIN, else
# skipped with a message) and a folder without write permission (as user
# nobody when run as root).
#
#   test_faults.sh STRATA_BINARY FAULTFS_LIBRARY
#
# Needs a Python with numpy and h5py ($STRATA_TEST_PYTHON, default Debian's
# /usr/bin/python3); exits 77 (skipped) without one.
set -u

STRATA=${1:?usage: test_faults.sh STRATA_BINARY FAULTFS_LIBRARY}
SHIM=${2:?usage: test_faults.sh STRATA_BINARY FAULTFS_LIBRARY}
PY=${STRATA_TEST_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
CLI=$(cd "$HERE/../cli" && pwd)

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  echo "skipped: $PY cannot import numpy and h5py"
  exit 77
fi

T_NAME=strata-faults-test
# shellcheck source=../cli/harness.sh
. "$CLI/harness.sh"

# ---- the real file systems, run by the section at the end in a private
# ---- mount namespace: test_faults.sh STRATA SHIM --real-fs INPUT_FOLDER
if [ "${3:-}" = --real-fs ]; then
  IN=$4 MNT=$T/mnt
  mkdir "$MNT"
  if ! mount -t tmpfs -o size=1m,mode=755 tmpfs "$MNT" 2>"$T/mount"; then
    echo "skipped: cannot mount a tmpfs ($(cat "$T/mount"))"
    exit 77
  fi
  trap 'umount "$MNT" 2>/dev/null; rm -rf "$T"' EXIT
  O=$MNT/o.h5
  NEW=("$STRATA" kmeans "$IN/blobs.h5:/data/x" -k 4 --seed 1 -o "$O" --force)
  fill() { # leave $1 bytes free on the tmpfs
    cat /dev/zero >"$MNT/fill" 2>/dev/null
    truncate -s "-$1" "$MNT/fill"
  }
  tidy() { # NAME: nothing but o.h5 (and the filler) in the folder
    local extra
    extra=$(ls "$MNT" | grep -vxE 'o\.h5|fill')
    [ -z "$extra" ] && ok || bad "$1: left $extra"
  }
  fill 8192
  expect "tmpfs full, no old output" 1 "No space left on device" "${NEW[@]}"
  [ ! -e "$O" ] && ok || bad "tmpfs full: an output appeared"
  tidy "tmpfs full, no old output"
  rm "$MNT/fill"
  "$STRATA" kmeans "$IN/blobs.h5:/data/x" -k 3 -o "$O" >/dev/null || bad "old output"
  old=$(sum "$O")
  fill 8192
  expect "tmpfs full, old output" 1 "No space left on device" "${NEW[@]}"
  [ "$(sum "$O")" = "$old" ] && ok || bad "tmpfs full: the old output changed"
  tidy "tmpfs full, old output"
  rm "$MNT/fill"
  mount -o remount,ro "$MNT"
  expect "read-only mount" 1 "Read-only file system" "${NEW[@]}"
  [ "$(sum "$O")" = "$old" ] && ok || bad "read-only mount: the old output changed"
  mount -o remount,rw "$MNT"
  expect "tmpfs with room" 0 "" "${NEW[@]}"
  tidy "tmpfs with room"
  # strata gen refuses a file whose floating-point columns alone exceed the
  # free space (2 MB on 1 MiB) before writing anything
  expect "gen, larger than the disk" 1 "free on the file system" \
    "$STRATA" gen blobs --n 250000 --d 2 -o "$O" --force
  tidy "gen, larger than the disk"
  # the streamed writer: a file larger than the disk (~3 MB on 1 MiB, its
  # amounts 0.4 MB) fails when its disk space is reserved, before libhdf5
  # writes what cannot fit
  GEN=("$STRATA" gen transactions --customers 50000 -o "$O" --force)
  old=$(sum "$O")
  expect "streamed, larger than the disk" 1 "No space left on device" "${GEN[@]}"
  [ "$(sum "$O")" = "$old" ] && ok || bad "streamed, larger than the disk: the old output changed"
  tidy "streamed, larger than the disk"
  rm "$O"
  expect "streamed, no old output" 1 "No space left on device" "${GEN[@]}"
  [ ! -e "$O" ] && ok || bad "streamed: an output appeared"
  tidy "streamed, no old output"
  GEN=("$STRATA" gen blobs --n 5000 --d 2 -o "$O")
  expect "streamed, with room" 0 "" "${GEN[@]}"
  tidy "streamed, with room"
  finish
  exit
fi

IN=$T/in OUT=$T/dest NEWS=$T/new
mkdir "$IN" "$OUT" "$NEWS"
chmod 755 "$T" "$IN" # readable by user nobody (permission test)
"$PY" "$CLI/cli_check.py" fixtures "$IN" && "$PY" "$CLI/files_check.py" fixtures "$IN" ||
  { echo "FAIL: cannot write fixtures"; exit 1; }
rm -f "$IN/big.h5" # not needed here
O=$OUT/o.h5
declare -A before
for f in "$IN"/*; do before[$f]=$(sum "$f"); done
inputs_unchanged() { # NAME
  local f
  for f in "${!before[@]}"; do
    [ "$(sum "$f")" = "${before[$f]}" ] || { bad "$1: input $f changed"; return 1; }
  done
}

# The run under test (NEW_*) and an earlier, different output (OLD_*).
TX=(--customer /c --time /t --amount /a)
NEW_kmeans=("$STRATA" kmeans "$IN/blobs.h5:/data/x" -k 4 --seed 1 -o "$O" --force)
OLD_kmeans=("$STRATA" kmeans "$IN/blobs.h5:/data/x" -k 3 -o "$O")
NEW_rfm=("$STRATA" rfm "$IN/tx.h5" "${TX[@]}" --bins 3 -o "$O" --force)
OLD_rfm=("$STRATA" rfm "$IN/tx.h5" "${TX[@]}" -o "$O")
# the streamed writer: HDF5 writes the temporary itself (disk space reserved ahead)
NEW_gen=("$STRATA" gen transactions --customers 2000 --n 40000 -o "$O" --force)
OLD_gen=("$STRATA" gen transactions --customers 100 -o "$O")

shim() { env FAULTFS_DIR="$OUT" LD_PRELOAD="$SHIM" "$@"; }
kept=0
keep_new() { # the output is the new one: checked against the reference at the end
  kept=$((kept + 1))
  cp "$O" "$NEWS/$cmd.$kept.h5"
}

# prepare WITH_OLD: an empty output folder, with the old output when WITH_OLD=1
prepare() {
  rm -rf "$OUT" "$T/trace"
  mkdir "$OUT"
  old=""
  if [ "$1" = 1 ]; then
    eval '"${OLD_'"$cmd"'[@]}"' >/dev/null 2>&1 || bad "$cmd: the old output failed"
    old=$(sum "$O")
  fi
}

# verdict NAME TEXT: after a run with one fault injected
verdict() {
  local name=$1 text=$2 left fault
  left=$(ls "$OUT" | grep -F .tmp.)
  fault=$(cat "$T/trace" 2>/dev/null)
  if [ -n "$left" ]; then
    bad "$name ($fault): temporaries left: $left"
  elif ! inputs_unchanged "$name"; then
    :
  elif [ "$rc" -eq 1 ]; then
    if ! { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF -- "$text" "$T/err" && grep -qF -- "'$O'" "$T/err"; }; then
      bad "$name ($fault): stderr is not one line naming '$O' and '$text': $(cat "$T/err")"
    elif grep -qF "could not be flushed" "$T/err"; then # the folder's fsync, after the rename
      [ -e "$O" ] && { ok; keep_new; } || bad "$name: folder not synced, and no output"
    elif [ -n "$old" ]; then
      [ -e "$O" ] && [ "$(sum "$O")" = "$old" ] && ok || bad "$name ($fault): the old output changed"
    else
      [ ! -e "$O" ] && ok || bad "$name ($fault): an output appeared"
    fi
  elif [ "$rc" -eq 0 ]; then
    # Harmless: closing a read-only or already synced descriptor, a stale
    # temporary not removed, an owner not given back; or no fault at all (the
    # step was an open that creates nothing, which the shim never fails).
    case $fault in
      "" | "close "* | "unlink "* | "chown "*) [ -e "$O" ] && { ok; keep_new; } || bad "$name: exit 0, no output" ;;
      # the streamed writer giving back disk space reserved beyond the end
      # (HDF5's own ftruncate failing fails its close: exit 1)
      "truncate ftruncate"*) [ "$cmd" = gen ] && [ -e "$O" ] && { ok; keep_new; } || bad "$name: exit 0 although '$fault' failed" ;;
      *) bad "$name: exit 0 although '$fault' failed" ;;
    esac
  else
    bad "$name ($fault): exit $rc; stderr: $(cat "$T/err")"
  fi
}

# count WITH_OLD [VAR=value...]: the shim's count of "any" steps in a run
count() {
  local with_old=$1
  shift
  prepare "$with_old"
  rm -f "$T/count"
  eval 'shim FAULTFS_COUNT="$T/count" "$@" "${NEW_'"$cmd"'[@]}"' >/dev/null 2>&1
  awk '$1 == "any" { print $2 }' "$T/count"
}

for cmd in kmeans rfm gen; do
  eval 'NEW=("${NEW_'"$cmd"'[@]}")'
  # the reference: the same run, no fault
  prepare 0
  run "${NEW[@]}"
  [ "$rc" -eq 0 ] || { bad "$cmd: reference run: exit $rc $(cat "$T/err")"; continue; }
  cp "$O" "$T/ref.$cmd.h5"
  size=$(stat -c %s "$O")
  piece=$((size / 12 + 1)) # kill -9 sweep: about 12 writes of the image
  for with_old in 1 0; do
    steps=$(count "$with_old")
    [ "${steps:-0}" -ge 8 ] && ok || bad "$cmd: the shim saw only '${steps}' steps"
    errs=(EIO:"Input/output error")
    [ "$with_old" = 1 ] && errs+=(ENOSPC:"No space left on device") # once is enough
    for err in "${errs[@]}"; do
      for ((n = 1; n <= steps; n++)); do
        prepare "$with_old"
        run shim FAULTFS_FAIL="any:$n:${err%%:*}" FAULTFS_TRACE="$T/trace" "${NEW[@]}"
        verdict "$cmd, old=$with_old, step $n fails with ${err%%:*}" "${err#*:}"
      done
    done
    # named faults, with what they must say
    for f in "open:1:EACCES:Permission denied" "open:1:EROFS:Read-only file system" \
      "sync:1:EIO:Input/output error" "sync:2:EIO:could not be flushed" \
      "rename:1:EACCES:Permission denied" "rename:1:ENOSPC:No space left on device" \
      "write:1+:EDQUOT:Disk quota exceeded"; do
      prepare "$with_old"
      run shim FAULTFS_FAIL="${f%:*}" FAULTFS_TRACE="$T/trace" "${NEW[@]}"
      verdict "$cmd, old=$with_old, ${f%:*}" "${f##*:}"
    done
    # SIGTERM right after the rename, before the write's last report: the
    # new output is in place, so exit 0 (it ended by the signal: "nothing
    # written", the old output replaced)
    prepare "$with_old"
    expect "$cmd, old=$with_old, SIGTERM right after the rename" 0 "" \
      shim FAULTFS_FAIL=rename:1:TERM_AFTER "${NEW[@]}"
    [ -e "$O" ] && [ "$(sum "$O")" != "$old" ] && keep_new ||
      bad "$cmd, old=$with_old, SIGTERM right after the rename: not the new output"
    [ "$(ls "$OUT")" = o.h5 ] && ok || bad "$cmd: SIGTERM after the rename left $(ls "$OUT")"
    if [ "$with_old" = 1 ]; then
      prepare 1
      run shim FAULTFS_FAIL=chmod:1:EPERM FAULTFS_TRACE="$T/trace" "${NEW[@]}"
      verdict "$cmd, fchmod fails" "Operation not permitted"
    fi
    # a disk that fills up at several points (the write cut short there)
    for q in 0 1 4095 $((size / 2)) $((size - 1)); do
      prepare "$with_old"
      run shim FAULTFS_QUOTA="$q" FAULTFS_MAXIO=4096 "${NEW[@]}"
      verdict "$cmd, old=$with_old, disk full after $q bytes" "No space left on device"
    done
    prepare "$with_old"
    if [ "$cmd" = gen ]; then
      # a streamed file grows in place (HDF5 rewrites its metadata as it
      # goes): it needs more room than its final size, and says so
      run shim FAULTFS_QUOTA="$size" FAULTFS_MAXIO=4096 "${NEW[@]}"
      verdict "$cmd, old=$with_old, room for exactly the output" "No space left on device"
    else
      expect "$cmd, old=$with_old, output exactly fits" 0 "" shim FAULTFS_QUOTA="$size" FAULTFS_MAXIO=4096 "${NEW[@]}"
      keep_new
    fi
    # kill -9 at every step, the image written in ~12 pieces
    ksteps=$(count "$with_old" FAULTFS_MAXIO="$piece")
    [ "${ksteps:-0}" -ge 18 ] && ok || bad "$cmd: only '${ksteps}' steps with short writes"
    for ((n = 1; n <= ksteps; n++)); do
      name="$cmd, old=$with_old, kill -9 at step $n"
      prepare "$with_old"
      run shim FAULTFS_FAIL="any:$n:KILL" FAULTFS_MAXIO="$piece" "${NEW[@]}"
      if [ "$rc" -ne 137 ]; then
        bad "$name: exit $rc, not killed; stderr: $(cat "$T/err")"
        continue
      fi
      if [ ! -e "$O" ]; then
        [ -z "$old" ] && ok || bad "$name: the old output is gone"
      elif [ -n "$old" ] && [ "$(sum "$O")" = "$old" ]; then
        ok
      else
        ok
        keep_new # must be the complete new one
      fi
      left=$(ls "$OUT" | grep -vxF o.h5 | grep -vE '^o\.h5\.tmp\.[0-9]+\.[0-9]+$')
      [ -z "$left" ] && ok || bad "$name: left $left"
      expect "$name, the next run" 0 "" "${NEW[@]}"
      [ "$(ls "$OUT")" = o.h5 ] && ok || bad "$name: the next run left $(ls "$OUT" | tr '\n' ' ')"
    done
  done
  # every output that counted as new is the complete new one
  if [ "$kept" -gt 0 ]; then
    check "$cmd: complete new outputs ($kept)" "$PY" "$HERE/faults_check.py" same "$T/ref.$cmd.h5" "$NEWS"/"$cmd".*.h5
  fi
  rm -f "$NEWS"/*
  kept=0
done

# ---- permission denied for real: a folder the user cannot write to (root
# ---- bypasses permission bits: then as user nobody)
cmd=kmeans
prepare 1
chmod 555 "$OUT"
as=()
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv >/dev/null && setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
    chmod 755 "$OUT"
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  else
    echo "skipped: permission denied for real (root, and cannot run as nobody)"
  fi
fi
if [ "$(id -u)" != 0 ] || [ ${#as[@]} -gt 0 ]; then
  expect "no write permission" 1 "Permission denied" "${as[@]}" "${NEW_kmeans[@]}"
  [ "$(sum "$O")" = "$old" ] && [ "$(ls "$OUT")" = o.h5 ] && ok || bad "no write permission: the folder changed"
fi
chmod 755 "$OUT"

# ---- out-of-core RFM (issue 13): the temporary files of `strata rfm --memory`
# ---- (tx.h5: 600 rows, 60 customers; 10000 bytes spill them into 8 parts)
# ---- fail at every create and every write, and the disk fills up at several
# ---- points: exit 1, one line naming the temporary folder and the system's
# ---- error, no output, nothing left in the temporary folder
SPILL=$T/spill
mkdir "$SPILL"
cmd=rfm
OOC=("$STRATA" rfm "$IN/tx.h5" "${TX[@]}" --bins 3 -o "$O" --force --memory $((25165824 + 10000)) --tmpdir "$SPILL")
spill_verdict() { # NAME TEXT
  if [ "$rc" -ne 1 ]; then
    bad "$1: exit $rc, not 1; stderr: $(cat "$T/err")"
  elif ! { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF -- "$2" "$T/err" && grep -qF -- "$SPILL" "$T/err"; }; then
    bad "$1: stderr is not one line naming $SPILL and '$2': $(cat "$T/err")"
  elif [ -e "$O" ]; then
    bad "$1: an output appeared"
  elif [ -n "$(ls -A "$SPILL")" ]; then
    bad "$1: left $(ls -AR "$SPILL" | tr '\n' ' ')"
  else
    ok
  fi
}
prepare 0
rm -f "$T/count"
env FAULTFS_DIR="$SPILL" LD_PRELOAD="$SHIM" FAULTFS_COUNT="$T/count" "${OOC[@]}" >/dev/null 2>"$T/err"
[ $? -eq 0 ] && [ -e "$O" ] && [ -z "$(ls -A "$SPILL")" ] && ok || bad "out of core: reference run: $(cat "$T/err")"
check "out of core: the same output as in memory" "$PY" "$HERE/faults_check.py" same "$T/ref.rfm.h5" "$O"
for class in open write; do
  steps=$(awk -v c="$class" '$1 == c { print $2 }' "$T/count")
  [ "${steps:-0}" -ge 9 ] && ok || bad "out of core: the shim saw only '${steps}' $class steps"
  for ((n = 1; n <= steps; n++)); do
    prepare 0
    run env FAULTFS_DIR="$SPILL" LD_PRELOAD="$SHIM" FAULTFS_FAIL="$class:$n:ENOSPC" "${OOC[@]}"
    spill_verdict "out of core, $class $n fails with ENOSPC" "No space left on device"
  done
done
for q in 0 1 4095 8000; do
  prepare 0
  run env FAULTFS_DIR="$SPILL" LD_PRELOAD="$SHIM" FAULTFS_QUOTA="$q" FAULTFS_MAXIO=4096 "${OOC[@]}"
  spill_verdict "out of core, disk full after $q bytes" "No space left on device"
done
# kill -9 while spilling leaves the directory; the next run into the same
# folder removes it (its process is gone, its lock free) and leaves nothing
wsteps=$(awk '$1 == "write" { print $2 }' "$T/count")
for n in 1 $((wsteps / 2)) "$wsteps"; do
  prepare 0
  run env FAULTFS_DIR="$SPILL" LD_PRELOAD="$SHIM" FAULTFS_FAIL="write:$n:KILL" "${OOC[@]}"
  [ "$rc" -eq 137 ] && [ -n "$(ls -A "$SPILL")" ] && ok || bad "out of core, kill -9 at write $n: exit $rc, left '$(ls -A "$SPILL")'"
  expect "out of core, kill -9 at write $n, the next run" 0 "" "${OOC[@]}"
  [ -z "$(ls -A "$SPILL")" ] && ok || bad "out of core, kill -9 at write $n: the next run left $(ls -A "$SPILL")"
done
# a live owner's directory is never taken: this shell's, locked by nobody
mkdir "$SPILL/strata-$$-abcdef"
expect "out of core, a live process's directory" 0 "" "${OOC[@]}"
[ "$(ls -A "$SPILL")" = "strata-$$-abcdef" ] && ok || bad "out of core: a live process's directory: $(ls -A "$SPILL")"
rmdir "$SPILL/strata-$$-abcdef"

# ---- a full disk and a read-only mount for real (private mount namespace)
if command -v unshare >/dev/null && unshare -m --propagation private true 2>/dev/null; then
  unshare -m --propagation private bash "$0" "$STRATA" "$SHIM" --real-fs "$IN" >"$T/real" 2>&1
  case $? in
    0) ok; echo "real file systems: $(tail -1 "$T/real")" ;;
    77) cat "$T/real" ;;
    *) bad "real file systems: $(cat "$T/real")" ;;
  esac
else
  echo "skipped: a full tmpfs and a read-only mount (no private mount namespace: needs CAP_SYS_ADMIN)"
fi

finish
