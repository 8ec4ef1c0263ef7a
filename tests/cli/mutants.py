#!/usr/bin/env python3
"""Corrupted HDF5 inputs for `strata rfm` and `strata kmeans` (issue 12).

    mutants.py seeds DIR               small valid files (the mutation seeds)
    mutants.py targeted DIR            the hand-made cases of issue 12 (see targeted())
    mutants.py make DIR COUNT SEED     seeds + COUNT mutants, deterministic in SEED
    mutants.py run STRATA DIR [--timeout S] [--report FILE]
                                       run every file of DIR through the CLI; print
                                       a line per failure, exit 1 if any

A mutant is a seed with one of: truncation at a random offset, a few random
byte flips, or an edit of a header field found by searching the file for
the bytes HDF5 wrote there (a dataspace extent, a datatype size, a compound
member offset), so the edits hit the fields that h5py would validate.

`run` checks what issue 12 asks of every bad input: exit status 0, 1, 2 or 3
(never a signal or a timeout), one line on stderr when it fails, the input
byte-for-byte unchanged (sha256), and no output file after a failure.
Names: <layout>-<seed>-<kind>-<n>.h5; the layout says which command reads it.
"""
import hashlib
import os
import random
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

# The command line each layout is read with (input path appended first).
COMMANDS = {
    "cols": ["rfm", "--customer", "/cust", "--time", "/day", "--amount", "/amt"],
    "table": ["rfm", "--table", "/tx", "--customer", "cust", "--time", "day",
              "--amount", "amt"],
    "chunked": ["rfm", "--table", "/tx", "--customer", "cust", "--time", "day",
                "--amount", "amt"],
    "matrix": ["kmeans", "-k", "2"],   # input given as FILE:/x
    "matrixz": ["kmeans", "-k", "2"],
}


def write_seeds(d):
    os.makedirs(d, exist_ok=True)
    n = 5
    cust = np.array([1, 2, 3, 4, 5], dtype=np.int64)
    day = np.array([10, 11, 12, 13, 14], dtype=np.int64)
    amt = np.array([1.5, 2.5, 3.5, 4.5, 5.5])
    with h5py.File(os.path.join(d, "cols.h5"), "w") as f:
        f["cust"], f["day"], f["amt"] = cust, day, amt
    rec = np.zeros(n, dtype=[("cust", "<i8"), ("day", "<i4"), ("amt", "<f8")])
    rec["cust"], rec["day"], rec["amt"] = cust, day, amt
    with h5py.File(os.path.join(d, "table.h5"), "w") as f:
        f["tx"] = rec
    with h5py.File(os.path.join(d, "chunked.h5"), "w") as f:
        f.create_dataset("tx", data=rec, chunks=(2,), compression="gzip")
    x = np.arange(24, dtype=np.float64).reshape(6, 4)
    with h5py.File(os.path.join(d, "matrix.h5"), "w") as f:
        f["x"] = x
    with h5py.File(os.path.join(d, "matrixz.h5"), "w") as f:
        f.create_dataset("x", data=x.astype(np.float32), chunks=(2, 4), compression="gzip")


def header_edits(data, rng):
    """Offsets of little-endian fields worth editing: the dataspace extents
    (the seeds' row counts 5 and 6 as 8-byte values), datatype sizes (4-byte
    8s and 4s just after a class byte) and compound member offsets."""
    spots = []
    for value in (5, 6, 4, 2):
        pat = struct.pack("<Q", value)
        i = data.find(pat)
        while i >= 0:
            spots.append((i, 8))
            i = data.find(pat, i + 1)
    for value in (8, 4, 20, 24):
        pat = struct.pack("<I", value)
        i = data.find(pat)
        while i >= 0:
            spots.append((i, 4))
            i = data.find(pat, i + 1)
    return spots


BIG = [2**31, 2**32 - 1, 2**40, 2**63 - 1, 2**64 - 1, 15 << 20, 2700000000, 255, 65535, 0, 1, 3]


def mutate(data, rng):
    kind = rng.choice(["trunc", "flip", "field", "field", "flip"])
    b = bytearray(data)
    if kind == "trunc":
        return kind, bytes(b[:rng.randrange(0, len(b))])
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    spots = header_edits(data, rng)
    off, width = rng.choice(spots)
    v = rng.choice(BIG) % (1 << (8 * width))
    b[off:off + width] = v.to_bytes(width, "little")
    return kind, bytes(b)


def patch_type_size(data, cls, old, new):
    """Set the size of the first datatype message of class cls (HDF5 file
    format: byte 0 = version << 4 | class, bytes 4-7 = size) from old to new."""
    for version in (1, 2, 3):
        head = bytes([version << 4 | cls])
        i = data.find(head)
        while i >= 0:
            if data[i + 4:i + 8] == struct.pack("<I", old):
                return data[:i + 4] + struct.pack("<I", new) + data[i + 8:]
            i = data.find(head, i + 1)
    raise ValueError("datatype message not found")


def patch_extent(data, old, new):
    """Set the extent (and the maximum extent, when stored) of the first 1-D
    dataspace message of `old` elements (format version 1: version, rank,
    flags, 5 reserved bytes, then the 8-byte sizes) to `new`."""
    for flags in (0, 1):
        pat = bytes([1, 1, flags, 0, 0, 0, 0, 0]) + struct.pack("<Q", old)
        i = data.find(pat)
        if i >= 0:
            b = bytearray(data)
            b[i + 8:i + 16] = struct.pack("<Q", new)
            if flags & 1:
                b[i + 16:i + 24] = struct.pack("<Q", new)
            return bytes(b)
    raise ValueError("dataspace message not found")


def targeted(d):
    """Hand-made inputs: a 15 MB record type, a 15 MB integer type, a 2.7e9
    row extent in a 5 KB file, truncations, uint64 ids and times >= 2**63,
    a filtered chunk that decodes short (libhdf5 over-reads it, see
    docs/reliability.md: written, never run by the tests)."""
    write_seeds(d)
    table = open(os.path.join(d, "table.h5"), "rb").read()
    cols = open(os.path.join(d, "cols.h5"), "rb").read()
    with open(os.path.join(d, "big_record.h5"), "wb") as f:
        f.write(patch_type_size(table, 6, 20, 15 << 20))
    with open(os.path.join(d, "big_integer.h5"), "wb") as f:
        f.write(patch_type_size(cols, 0, 8, 15 << 20))
    with open(os.path.join(d, "huge_extent.h5"), "wb") as f:
        f.write(patch_extent(cols, 5, 2700000000))
    for cut in (100, len(table) // 2, len(table) - 40):
        with open(os.path.join(d, f"truncated_{cut}.h5"), "wb") as f:
            f.write(table[:cut])
    # 1,000 hashed ids: 500 below 2**63 (kept), 500 at or above (bad ids)
    rng = np.random.default_rng(12)
    low = rng.integers(0, 2**62, 500, dtype=np.uint64)
    high = rng.integers(2**63, 2**64 - 1, 500, dtype=np.uint64, endpoint=True)
    ids = np.concatenate([low, high])
    with h5py.File(os.path.join(d, "u64_ids.h5"), "w") as f:
        f["cust"] = ids
        f["day"] = np.arange(1000, dtype=np.int64) % 50
        f["amt"] = np.full(1000, 2.0)
        f["uday"] = np.where(np.arange(1000) % 10 == 0, np.uint64(2**63 + 5),
                             np.arange(1000, dtype=np.uint64) % 50)
    rec = np.zeros(5, dtype=[("cust", "<i8"), ("day", "<i4"), ("amt", "<f8")])
    rec["cust"] = np.arange(5)
    with h5py.File(os.path.join(d, "short_chunk.h5"), "w") as f:
        f.create_dataset("tx", data=rec, chunks=(2,), compression="gzip")
    data = open(os.path.join(d, "short_chunk.h5"), "rb").read()
    with open(os.path.join(d, "short_chunk.h5"), "wb") as f:
        f.write(patch_type_size(data, 6, 20, 65535))


def make(d, count, seed):
    write_seeds(d)
    rng = random.Random(seed)
    seeds = {name: open(os.path.join(d, name + ".h5"), "rb").read() for name in COMMANDS}
    for i in range(count):
        name = rng.choice(sorted(seeds))
        kind, data = mutate(seeds[name], rng)
        with open(os.path.join(d, f"{name}-{seed}-{kind}-{i}.h5"), "wb") as f:
            f.write(data)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def run(strata, d, timeout, report):
    failures = 0
    out_dir = tempfile.mkdtemp(prefix="strata-mutants-")
    lines = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".h5"):
            continue
        path = os.path.join(d, name)
        layout = name.split("-")[0].removesuffix(".h5")
        cmd = COMMANDS[layout]
        out = os.path.join(out_dir, "out.h5")
        src = path + ":/x" if cmd[0] == "kmeans" else path
        argv = [strata, cmd[0], src] + cmd[1:] + ["-o", out, "--force"]
        before = sha(path)
        try:
            p = subprocess.run(argv, capture_output=True, timeout=timeout, text=True,
                               errors="replace")
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = "timeout", ""
        problems = []
        if rc not in (0, 1, 2, 3):
            problems.append(f"exit {rc}")
        if rc in (1, 2, 3) and len(err.strip().splitlines()) != 1:
            problems.append(f"{len(err.strip().splitlines())} stderr lines")
        if rc == 0 and err.strip():
            problems.append("stderr on success")
        if "unknown HDF5 error" in err:
            problems.append("unknown HDF5 error")
        if sha(path) != before:
            problems.append("input changed")
        if rc != 0 and os.path.exists(out):
            problems.append("output left after failure")
        if os.path.exists(out):
            os.unlink(out)
        first = err.strip().splitlines()[0] if err.strip() else ""
        lines.append(f"{name}\t{rc}\t{first}")
        if problems:
            failures += 1
            print(f"FAIL {name}: {', '.join(problems)}: {err.strip()[:400]}")
    os.rmdir(out_dir)
    if report:
        with open(report, "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"{len(lines)} files, {failures} failures")
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "seeds":
        write_seeds(argv[1])
        return 0
    if len(argv) == 2 and argv[0] == "targeted":
        targeted(argv[1])
        return 0
    if len(argv) == 4 and argv[0] == "make":
        make(argv[1], int(argv[2]), int(argv[3]))
        return 0
    if len(argv) >= 3 and argv[0] == "run":
        timeout, report = 20.0, None
        rest = argv[3:]
        while rest:
            if rest[0] == "--timeout":
                timeout = float(rest[1])
            elif rest[0] == "--report":
                report = rest[1]
            rest = rest[2:]
        return run(argv[1], argv[2], timeout, report)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
