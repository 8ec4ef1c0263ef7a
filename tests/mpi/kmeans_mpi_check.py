#!/usr/bin/python3
"""strata-mpi kmeans under mpirun against the serial strata, bitwise.

Usage: kmeans_mpi_check.py STRATA STRATA_MPI MPIRUN NP [--errors]

For every case (small generated data: several n that do not divide into
4096-row chunks evenly, n smaller than NP x 4096 so that some ranks hold no
rows, float32 and float64, k-means++, random and given-centroid inits,
n_init > 1, Hamerly and Yinyang, a run whose given centroids leave clusters
empty so that rows are relocated) the serial program `strata kmeans` writes the reference
OUT.h5 once; then `mpirun -np NP strata-mpi kmeans` with 1 and 2 OpenMP
threads must write the same labels, centroids, inertia, n_iter and every
other root attribute bit for bit (only `created` and the added `mpi_ranks`
may differ). With --errors: bad input under MPI (a missing file, k > n, a
missing dataset, a NaN, an algorithm or option not distributed, an existing
output) fails on
every rank with the same message and exit status, writes no output and does
not hang (a timeout fails the test).
"""
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

STRATA, STRATA_MPI, MPIRUN, NP = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ERRORS = "--errors" in sys.argv[5:]
TIMEOUT = 300
failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, **kw)


def mpirun(np_, args, threads=None):
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return run([MPIRUN, str(np_), STRATA_MPI] + args, env=env)


def bits(v):
    """The bytes of a value, so that equal means bitwise equal."""
    a = np.asarray(v)
    if a.dtype.kind in "fiu":
        return a.dtype.str + a.tobytes().hex()
    return repr(v)


def compare(ref_path, got_path, what, np_):
    with h5py.File(ref_path, "r") as r, h5py.File(got_path, "r") as g:
        if sorted(r.keys()) != sorted(g.keys()):
            fail(f"{what}: datasets {sorted(g.keys())} != {sorted(r.keys())}")
            return
        for name in r.keys():
            a, b = r[name][...], g[name][...]
            if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                diff = int(np.sum(a != b)) if a.shape == b.shape else -1
                fail(f"{what}: /{name} differs ({diff} elements, {a.dtype} vs {b.dtype})")
        # stored as the serial writer stores them: chunked, shuffle + gzip
        if len(g["labels"]) and not (g["labels"].chunks and g["labels"].compression == "gzip"
                                     and g["labels"].shuffle):
            fail(f"{what}: /labels chunks {g['labels'].chunks}, filters "
                 f"{g['labels'].compression}")
        ra, ga = dict(r.attrs), dict(g.attrs)
        for key in sorted(set(ra) | set(ga)):
            if key in ("created", "mpi_ranks"):
                continue
            if key not in ra or key not in ga:
                fail(f"{what}: attribute {key} only in {'serial' if key in ra else 'mpi'} output")
            elif bits(ra[key]) != bits(ga[key]):
                fail(f"{what}: attribute {key}: {ga[key]!r} != serial {ra[key]!r}")
        if int(ga.get("mpi_ranks", -1)) != np_:
            fail(f"{what}: mpi_ranks {ga.get('mpi_ranks')} != {np_}")


def write(path, x, name="x"):
    with h5py.File(path, "w") as f:
        f.create_dataset(name, data=x)


def blobs(rs, n, d, centres, dtype):
    c = rs.normal(0.0, 6.0, (centres, d))
    x = c[rs.randint(0, centres, n)] + rs.normal(0.0, 1.0, (n, d))
    return x.astype(dtype)


def cases(tmp):
    rs = np.random.RandomState(15)
    out = []
    # name, data, k, extra options
    out.append(("n1000_f64_kpp", blobs(rs, 1000, 3, 4, np.float64), 4, []))  # one chunk: rank 0 only
    out.append(("n12305_f64_kpp", blobs(rs, 3 * 4096 + 17, 5, 6, np.float64), 6, []))
    out.append(("n20480_f32_kpp", blobs(rs, 5 * 4096, 4, 5, np.float32), 5, []))
    out.append(("n9000_f32_random", blobs(rs, 9000, 2, 3, np.float32), 7, ["--init", "random"]))
    out.append(("n13000_f64_random_ninit3", blobs(rs, 13000, 6, 8, np.float64), 8,
                ["--init", "random", "--n-init", "3", "--seed", "7"]))
    out.append(("n8193_f64_kpp_k33", blobs(rs, 2 * 4096 + 1, 3, 10, np.float64), 33,
                ["--seed", "11", "--max-iter", "25"]))
    # a wide exchange: k d = 2880 (tree buffers of 4 vectors of 3122 doubles)
    out.append(("n12000_f64_kpp_k120_d24", blobs(rs, 12000, 24, 60, np.float64), 120,
                ["--seed", "2", "--max-iter", "10"]))
    # the bounded algorithms: each rank keeps its rows' bounds
    out.append(("n12305_f64_hamerly", blobs(rs, 3 * 4096 + 17, 4, 6, np.float64), 6,
                ["--algorithm", "hamerly"]))
    out.append(("n10000_f32_hamerly_random", blobs(rs, 10000, 3, 5, np.float32), 5,
                ["--algorithm", "hamerly", "--init", "random", "--n-init", "2"]))
    out.append(("n12305_f64_yinyang_k40", blobs(rs, 3 * 4096 + 17, 3, 12, np.float64), 40,
                ["--algorithm", "yinyang", "--max-iter", "30"]))
    out.append(("n9000_f32_yinyang", blobs(rs, 9000, 5, 20, np.float32), 24,
                ["--algorithm", "yinyang"]))
    # empty clusters: given centroids in equal pairs leave one of each pair
    # empty after the first assignment; the farthest rows are relocated
    x = blobs(rs, 3 * 4096 + 100, 2, 2, np.float64)
    init = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [2.0, -1.0]])
    write(os.path.join(tmp, "init.h5"), init, "c")
    out.append(("n12388_f64_given_empty", x, 5,
                ["--init", os.path.join(tmp, "init.h5") + ":/c", "--max-iter", "50"]))
    return out


def check_fits(tmp):
    for name, x, k, extra in cases(tmp):
        path = os.path.join(tmp, name + ".h5")
        write(path, x)
        ref = os.path.join(tmp, name + ".serial.h5")
        args = ["kmeans", path + ":/x", "-k", str(k)] + extra
        if "--seed" not in extra:
            args += ["--seed", "3"]
        r = run([STRATA] + args + ["-o", ref, "--force"])
        if r.returncode != 0:
            fail(f"{name}: serial strata failed: {r.stderr.strip()}")
            continue
        for threads in (1, 2):
            got = os.path.join(tmp, f"{name}.np{NP}.t{threads}.h5")
            r = mpirun(NP, args + ["--threads", str(threads), "-o", got, "--force"], threads)
            what = f"{name} np={NP} threads={threads}"
            if r.returncode != 0:
                fail(f"{what}: strata-mpi failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
                continue
            compare(ref, got, what, NP)
            print("ok", what, flush=True)


def check_errors(tmp):
    path = os.path.join(tmp, "small.h5")
    write(path, np.random.RandomState(2).normal(size=(5000, 3)))
    nan = os.path.join(tmp, "nan.h5")  # a NaN in the last rank's rows only
    xn = np.random.RandomState(3).normal(size=(3 * 4096 + 5, 2))
    xn[3 * 4096 + 2, 1] = np.nan
    write(nan, xn)
    exists = os.path.join(tmp, "exists.h5")
    with open(exists, "w") as f:
        f.write("keep me")
    bad = [
        ("missing file", ["kmeans", os.path.join(tmp, "nope.h5") + ":/x", "-k", "3"], 1,
         "nope.h5"),
        ("k > n", ["kmeans", path + ":/x", "-k", "6000"], 1, "k = 6000 is larger"),
        ("missing dataset", ["kmeans", path + ":/y", "-k", "3"], 1, "/y"),
        ("minibatch", ["kmeans", path + ":/x", "-k", "3", "--algorithm", "minibatch"], 1,
         "not distributed yet"),
        ("k-means||", ["kmeans", path + ":/x", "-k", "3", "--init", "k-means||"], 1,
         "not distributed yet"),
        ("memory", ["kmeans", path + ":/x", "-k", "3", "--memory", "1M"], 1,
         "not distributed yet"),
        ("NaN", ["kmeans", nan + ":/x", "-k", "3"], 1, "NaN at row 12290, column 1"),
    ]
    for what, args, code, text in bad:
        out = os.path.join(tmp, "out_" + what.replace(" ", "_").replace(">", "gt") + ".h5")
        r = mpirun(NP, args + ["-o", out])
        lines = [l for l in r.stderr.splitlines() if "strata: error:" in l]
        if r.returncode != code:
            fail(f"{what}: exit status {r.returncode}, expected {code}: {r.stderr.strip()}")
        if len(lines) != NP or len(set(lines)) != 1 or text not in lines[0]:
            fail(f"{what}: expected one message naming '{text}' from each of {NP} ranks, got "
                 f"{lines}")
        if os.path.exists(out):
            fail(f"{what}: {out} was written")
        leftovers = [f for f in os.listdir(tmp) if ".tmp." in f]
        if leftovers:
            fail(f"{what}: temporary files left: {leftovers}")
        print("ok error:", what, "->", lines[0] if lines else r.stderr.strip(), flush=True)
    r = mpirun(NP, ["kmeans", path + ":/x", "-k", "3", "-o", exists])
    with open(exists) as f:
        kept = f.read() == "keep me"
    if r.returncode != 3 or not kept:
        fail(f"existing output: exit {r.returncode} (expected 3), file kept: {kept}")
    else:
        print("ok error: existing output kept, exit 3", flush=True)


def main():
    with tempfile.TemporaryDirectory(prefix="strata_mpi_") as tmp:
        if ERRORS:
            check_errors(tmp)
        else:
            check_fits(tmp)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
