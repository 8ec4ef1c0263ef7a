"""Progress of long runs in the `strata` program (issue 13): --progress json
lines (parsed, in step order, monotone), --quiet, the bar only on a terminal
(a pseudo-terminal from pty), and Ctrl-C / SIGTERM cancelling through the
step callback with no output and no temporary left.

The program is $STRATA_CLI (set by CTest); skipped without it."""
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="h5py is not installed")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")


def run(*args, timeout=120):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("progress")
    rng = np.random.default_rng(5)
    centres = rng.uniform(-50, 50, size=(6, 3))
    x = centres[np.arange(6000) % 6] + rng.normal(size=(6000, 3))
    with h5py.File(d / "x.h5", "w") as f:
        f["x"] = x
    # rows enough for a fit that runs hundreds of iterations (tol 0, many clusters)
    with h5py.File(d / "big.h5", "w") as f:
        f["x"] = rng.normal(size=(200_000, 4)).astype(np.float32)
    n = 4000
    with h5py.File(d / "tx.h5", "w") as f:
        f["c"] = rng.integers(0, 300, size=n)
        f["t"] = rng.integers(18000, 18400, size=n)
        f["a"] = np.round(rng.gamma(2.0, 30.0, size=n), 2) + 0.01
    return d


def check_monotone(lines):
    """done within total, never back within a step (READ only to 0: a new pass)."""
    elapsed = [l["elapsed_s"] for l in lines]
    assert elapsed == sorted(elapsed)
    for a, b in zip(lines, lines[1:]):
        assert b["total"] < 0 or 0 <= b["done"] <= b["total"], b
        if (a["step"], a["run"]) == (b["step"], b["run"]) and \
                not (b["step"] == "read" and b["done"] == 0):
            assert b["done"] >= a["done"], (a, b)


def step_order(lines):
    """The steps in order of first appearance, consecutive repeats collapsed."""
    out = []
    for l in lines:
        if not out or out[-1] != l["step"]:
            out.append(l["step"])
    return out


def test_kmeans_json(data, tmp_path):
    out = tmp_path / "km.h5"
    p = run("kmeans", f"{data}/x.h5:/x", "-k", 6, "--n-init", 2, "-o", out, "--progress", "json")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("strata kmeans:")  # the summary is unchanged
    lines = json_lines(p.stderr)
    assert step_order(lines) == ["read", "seed", "iterate", "seed", "iterate", "write"]
    check_monotone(lines)
    reads = [l for l in lines if l["step"] == "read"]
    assert (reads[0]["done"], reads[-1]["done"], reads[-1]["total"]) == (0, 6000, 6000)
    writes = [l for l in lines if l["step"] == "write"]
    assert [(w["done"], w["total"]) for w in writes] == [(0, 1), (1, 1)]
    for r in (0, 1):  # k-means++: a report per centre
        seeds = [(l["done"], l["total"]) for l in lines if l["step"] == "seed" and l["run"] == r]
        assert seeds == [(c, 6) for c in range(7)]
    with h5py.File(out) as f:
        inertia, n_iter = f.attrs["inertia"], f.attrs["n_iter"]
    for r in (0, 1):
        its = [l for l in lines if l["step"] == "iterate" and l["run"] == r]
        assert [l["iteration"] for l in its] == list(range(1, len(its) + 1))
        assert all(l["total"] == 300 for l in its)
        inertias = [l["inertia"] for l in its]
        assert all(b <= a * (1 + 1e-9) for a, b in zip(inertias, inertias[1:]))  # Lloyd
    # the kept run's last reported inertia is the file's (up to the sums' rounding)
    best = min((l for l in lines if l["step"] == "iterate"), key=lambda l: l["inertia"])
    assert best["inertia"] == pytest.approx(inertia, rel=1e-9)
    assert any(l["iteration"] == n_iter for l in lines if l["step"] == "iterate")


def test_errors_are_json_lines_too(data, tmp_path):
    """With --progress json every stderr line parses, errors included: a
    runtime error after some progress, one naming a file with quotes and a
    newline in its name, and a usage error; the exit status is in the line."""
    odd = tmp_path / 'say "hi"\n.h5'
    for args, status, words in (
            (("kmeans", f"{data}/x.h5:/nope", "-k", 2), 1, "nope"),
            (("kmeans", f"{odd}:/x", "-k", 2), 1, 'say "hi"\n.h5'),
            (("kmeans", f"{data}/x.h5:/x", "-k", 0), 2, "-k must be an integer")):
        p = run(*args, "-o", tmp_path / "o.h5", "--progress", "json")
        assert p.returncode == status, p.stderr
        lines = json_lines(p.stderr)  # raises where a line is not JSON
        assert lines[-1]["step"] == "error" and lines[-1]["exit_status"] == status
        assert words in lines[-1]["message"]
        assert "strata: error" not in p.stderr
        assert not (tmp_path / "o.h5").exists()
    p = run("kmeans", f"{data}/x.h5:/nope", "-k", 2, "-o", tmp_path / "o.h5")
    assert p.stderr.startswith("strata: error: ")  # other modes: the plain line


def test_error_lines_are_utf8(tmp_path):
    """Bytes that are not UTF-8 in a file name, and a message the library cut
    at its length limit inside a character, still give lines that decode
    (JSON: U+FFFD for the bad bytes; plain: the cut character left out)."""
    bad = os.fsencode(str(tmp_path)) + b"/bad\xff\xfe.h5"
    deep = tmp_path / ("\u6237" * 60) / ("\u6237" * 60)  # 3-byte characters past 512 bytes
    deep.mkdir(parents=True)
    for target, json_mode in ((bad + b":/x", True), (os.fsencode(str(deep / "in.h5")) + b":/x",
                                                     True), (os.fsencode(str(deep / "in.h5")) +
                                                             b":/x", False)):
        args = [os.fsencode(CLI), b"kmeans", target, b"-k", b"2", b"-o",
                os.fsencode(str(tmp_path / "o.h5"))] + ([b"--progress", b"json"] if json_mode
                                                        else [])
        p = subprocess.run(args, capture_output=True, timeout=60)
        assert p.returncode == 1
        text = p.stderr.decode("utf-8")  # raises where a line is not UTF-8
        if json_mode:
            line = json_lines(text)[-1]
            assert line["step"] == "error" and "cannot open" in line["message"]
        else:
            assert text.startswith("strata: error: cannot open")


def test_rfm_json(data, tmp_path):
    out = tmp_path / "rfm.h5"
    p = run("rfm", data / "tx.h5", "--customer", "/c", "--time", "/t", "--amount", "/a", "-o",
            out, "--progress", "json")
    assert p.returncode == 0, p.stderr
    lines = json_lines(p.stderr)
    assert step_order(lines) == ["read", "aggregate", "score", "write"]
    check_monotone(lines)
    with h5py.File(out) as f:
        customers = len(f["customer_id"])
    agg = [l for l in lines if l["step"] == "aggregate"]
    assert (agg[-1]["done"], agg[-1]["total"]) == (4000, 4000)
    score = [l for l in lines if l["step"] == "score"]
    assert (score[-1]["done"], score[-1]["total"]) == (customers, customers)
    assert len(np.unique(h5py.File(data / "tx.h5")["c"][()])) == customers


def test_sweep_tiers_predict_json(data, tmp_path):
    p = run("sweep", f"{data}/x.h5:/x", "-k", "2:4", "-o", tmp_path / "s.h5", "--progress", "json")
    assert p.returncode == 0, p.stderr
    lines = json_lines(p.stderr)
    # SCORE: 0 of 4 (three k and the silhouettes), a report after each k (or
    # each round of k fitted in parallel), 4 of 4; the seedings of k fitted
    # one after another (one thread) within it
    order = step_order(lines)
    assert order[:2] == ["read", "score"] and order[-4:] == ["score", "silhouette", "score", "write"]
    assert set(order) <= {"read", "score", "seed", "silhouette", "write"}
    check_monotone([l for l in lines if l["step"] == "score"])
    scores = [(l["done"], l["total"]) for l in lines if l["step"] == "score"]
    assert scores[0] == (0, 4) and scores[-1] == (4, 4) and len(scores) >= 3
    # the silhouettes of the 6000 rows (all of them: fewer than --sample's
    # 10000), between SCORE 3 and 4 of 4
    sil = [i for i, l in enumerate(lines) if l["step"] == "silhouette"]
    assert [lines[i]["done"] for i in (sil[0], sil[-1])] == [0, 6000]
    assert {lines[i]["total"] for i in sil} == {6000}
    assert lines[sil[0] - 1]["step"] == "score" and lines[sil[0] - 1]["done"] == 3
    tx = ["--customer", "/c", "--time", "/t", "--amount", "/a"]
    p = run("tiers", data / "tx.h5", *tx, "-k", 3, "-o", tmp_path / "t.h5", "--progress", "json")
    assert p.returncode == 0, p.stderr
    order = step_order(json_lines(p.stderr))
    assert order[:4] == ["read", "aggregate", "score", "seed"] and order[-1] == "write"
    assert "iterate" in order
    rows = np.column_stack([h5py.File(tmp_path / "t.h5")["rfm/" + c][()] for c in
                            ("recency", "frequency", "monetary")]).astype(float)
    with h5py.File(tmp_path / "rows.h5", "w") as f:
        f["rows"] = rows
    p = run("predict", tmp_path / "t.h5", f"{tmp_path}/rows.h5:/rows", "-o", tmp_path / "p.h5",
            "--progress", "json")
    assert p.returncode == 0, p.stderr
    assert step_order(json_lines(p.stderr)) == ["read", "write"]


def test_sweep_json_names_the_k_of_each_fit(data, tmp_path):
    """The fits of a sweep (strata sweep, strata tiers -k A:B) restart `run`
    at 0 for every k: without a "k" a harness could not tell them apart."""
    p = run("sweep", f"{data}/x.h5:/x", "-k", "2:4", "--threads", 1, "-o", tmp_path / "s.h5",
            "--progress", "json")
    assert p.returncode == 0, p.stderr
    lines = json_lines(p.stderr)
    fits = [l for l in lines if l["step"] in ("seed", "iterate")]
    assert fits and all("k" in l for l in fits)
    ks = [l["k"] for l in fits]
    assert sorted(set(ks)) == [2, 3, 4] and ks == sorted(ks)  # one k after another
    assert all(l["total"] == l["k"] for l in fits if l["step"] == "seed")  # a centre each
    assert not any("k" in l for l in lines if l["step"] not in ("seed", "iterate"))
    # k follows the SCORE line before it (k_min + its done)
    current = None
    for l in lines:
        if l["step"] == "score":
            current = 2 + l["done"]
        elif "k" in l:
            assert l["k"] == current
    # tiers: the sweep's fits name their k, the final fit at the chosen k does not
    tx = ["--customer", "/c", "--time", "/t", "--amount", "/a"]
    p = run("tiers", data / "tx.h5", *tx, "-k", "2:3", "--threads", 1, "-o", tmp_path / "t.h5",
            "--progress", "json")
    assert p.returncode == 0, p.stderr
    lines = json_lines(p.stderr)
    sweep = [i for i, l in enumerate(lines) if l["step"] == "score" and l["total"] == 3]
    first_score, last_score = sweep[0], sweep[-1]
    assert {l["k"] for l in lines[first_score:last_score] if l["step"] == "seed"} == {2, 3}
    after = [l for l in lines[last_score:] if l["step"] in ("seed", "iterate")]
    assert after and not any("k" in l for l in after)
    # a plain fit has no "k"
    p = run("kmeans", f"{data}/x.h5:/x", "-k", 3, "-o", tmp_path / "k.h5", "--progress", "json")
    assert p.returncode == 0 and not any("k" in l for l in json_lines(p.stderr))


def test_clv_json_names_the_log_likelihood(data, tmp_path):
    """A CLV fit's ITERATE reports (after each optimiser start of BG/NBD, run
    0, then Gamma-Gamma, run 1) carry the model's best log-likelihood so far
    as "loglik", not as an inertia; the last of each is the file's."""
    out = tmp_path / "clv.h5"
    p = run("clv", data / "tx.h5", "--customer", "/c", "--time", "/t", "--amount", "/a",
            "--calibration-end", 18300, "-o", out, "--progress", "json")
    assert p.returncode == 0, p.stderr
    its = [l for l in json_lines(p.stderr) if l["step"] == "iterate"]
    assert its and all("inertia" not in l and "loglik" in l for l in its)
    with h5py.File(out) as f:
        want = {0: f.attrs["bgnbd_loglik"], 1: f.attrs["gg_loglik"]}
        assert f.attrs["time_unit"] == "days"  # provenance: how the log's times were read
    for run_, ll in want.items():
        mine = [l for l in its if l["run"] == run_]
        assert mine[0]["done"] == 0 and mine[0]["loglik"] is None
        assert all(l["loglik"] < 0 for l in mine[1:]) and mine[-1]["loglik"] == ll
        assert mine[-1]["done"] == mine[-1]["total"]


def test_streamed_kmeans_json(data, tmp_path):
    """--memory below the file: every pass reports READ per block of rows,
    within the seeding (a pass per centre) and within each iteration."""
    out = tmp_path / "s.h5"
    p = run("kmeans", f"{data}/big.h5:/x", "-k", 3, "--max-iter", 3, "--tol", 0, "--memory",
            "26M", "-o", out, "--progress", "json")
    assert p.returncode == 0, p.stderr
    with h5py.File(out) as f:
        assert f.attrs["streamed"]
    lines = json_lines(p.stderr)
    check_monotone(lines)
    assert step_order(lines)[-1] == "write"
    n = 200_000
    reads = [l for l in lines if l["step"] == "read"]
    assert all(l["total"] == n for l in reads)
    starts = [i for i, l in enumerate(lines) if l["step"] == "read" and l["done"] == 0]
    ends = [i for i, l in enumerate(lines) if l["step"] == "read" and l["done"] == n]
    assert len(ends) >= 3 + 3  # a pass per centre, one per iteration at least
    blocks = {b["done"] - a["done"] for a, b in zip(lines, lines[1:])
              if a["step"] == b["step"] == "read" and b["done"] not in (0, n)}
    assert len(blocks) == 1 and blocks.pop() < n  # equal blocks, several a pass
    seeds = [i for i, l in enumerate(lines) if l["step"] == "seed"]
    assert [lines[i]["done"] for i in seeds] == [0, 1, 2, 3]
    for a, b in zip(seeds, seeds[1:]):  # a whole pass between two centres
        assert any(a < s < e < b for s in starts for e in ends)
    its = [i for i, l in enumerate(lines) if l["step"] == "iterate"]
    assert len(its) == 3
    for a, b in zip([seeds[-1]] + its, its):  # each iteration read the file
        assert any(a < s < e < b for s in starts for e in ends)


def test_out_of_core_rfm_json(data, tmp_path):
    """--memory below the log: READ per block of its two passes (4 n values),
    AGGREGATE per part; the same file as in memory."""
    tx = ["--customer", "/c", "--time", "/t", "--amount", "/a"]
    p = run("rfm", data / "tx.h5", *tx, "--memory", (24 << 20) + 100_000, "-o", tmp_path / "o.h5",
            "--progress", "json")
    assert p.returncode == 0, p.stderr
    lines = json_lines(p.stderr)
    check_monotone(lines)
    assert step_order(lines) == ["read", "aggregate", "score", "write"]
    reads = [(l["done"], l["total"]) for l in lines if l["step"] == "read"]
    assert reads[0] == (0, 16000) and reads[-1] == (16000, 16000) and len(reads) >= 6
    assert (4000, 16000) in reads  # the end of the id pass
    agg = [l["done"] for l in lines if l["step"] == "aggregate"]
    assert len(agg) >= 3 and agg[-1] == 4000
    q = run("rfm", data / "tx.h5", *tx, "-o", tmp_path / "m.h5")
    assert q.returncode == 0, q.stderr
    with h5py.File(tmp_path / "o.h5") as a, h5py.File(tmp_path / "m.h5") as b:
        for name in ("customer_id", "recency", "frequency", "monetary"):
            assert np.array_equal(a[name][()], b[name][()]), name


def test_quiet_prints_nothing(data, tmp_path):
    for args in (["kmeans", f"{data}/x.h5:/x", "-k", 3],
                 ["rfm", data / "tx.h5", "--customer", "/c", "--time", "/t", "--amount", "/a"],
                 ["sweep", f"{data}/x.h5:/x", "-k", "2:3"]):
        out = tmp_path / f"{args[0]}.h5"
        p = run(*args, "-o", out, "--quiet")
        assert (p.returncode, p.stdout, p.stderr) == (0, "", ""), args
        assert out.exists()
    # errors still show
    p = run("kmeans", f"{data}/x.h5:/nope", "-k", 3, "-o", tmp_path / "e.h5", "--quiet")
    assert p.returncode == 1 and "nope" in p.stderr and p.stdout == ""


def test_no_terminal_no_progress(data, tmp_path):
    p = run("kmeans", f"{data}/x.h5:/x", "-k", 3, "-o", tmp_path / "o.h5")
    assert p.returncode == 0 and p.stderr == "" and "inertia" in p.stdout


def test_bad_progress_value(data, tmp_path):
    p = run("kmeans", f"{data}/x.h5:/x", "-k", 3, "-o", tmp_path / "o.h5", "--progress", "loud")
    assert p.returncode == 2 and "--progress must be bar, json or none" in p.stderr
    assert not (tmp_path / "o.h5").exists()


def run_on_pty(args, columns=None, env=None):
    """Run with stderr on a pseudo-terminal (stdout a pipe), `columns` wide if
    given; (status, stdout, terminal text)."""
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen([CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=slave,
                         stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    seen = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        seen += chunk
    out = p.stdout.read()
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, out.decode(), seen.decode(errors="replace")


def test_bar_on_a_terminal_only(data, tmp_path):
    status, out, tty = run_on_pty(["kmeans", f"{data}/x.h5:/x", "-k", 6, "-o", tmp_path / "a.h5"])
    assert status == 0 and "inertia" in out
    assert "\r" in tty and "iterate" in tty and "inertia" in tty and "read" in tty
    assert tty.endswith("\r\x1b[K")  # the bar is cleared at the end
    status, out, tty = run_on_pty(["kmeans", f"{data}/x.h5:/x", "-k", 6, "-o", tmp_path / "b.h5",
                                   "--progress", "none"])
    assert status == 0 and tty == ""
    status, out, tty = run_on_pty(["kmeans", f"{data}/x.h5:/x", "-k", 6, "-o", tmp_path / "c.h5",
                                   "--quiet"])
    assert (status, out, tty) == (0, "", "")


def bar_lines(tty):
    """What each redraw of the bar wrote (the text between carriage returns)."""
    return [part.replace("\x1b[K", "") for part in tty.replace("\n", "\r").split("\r") if part]


def test_bar_fits_the_terminal_and_dumb_terminals_get_no_escapes(data, tmp_path):
    """A bar line wider than the terminal wraps, and \\r then erases only its
    last row: a 40-column terminal kept a column of stale bars. TERM=dumb
    (Emacs' shell, a compile buffer) showed the escape code as ^[[K."""
    args = ["sweep", f"{data}/big.h5:/x", "-k", "2:3", "--threads", 1, "-o", tmp_path / "s.h5"]
    status, _, tty = run_on_pty(args, columns=40)
    assert status == 0
    lines = bar_lines(tty)
    assert lines and max(map(len, lines)) <= 39, [x for x in lines if len(x) > 39]
    env = dict(os.environ, TERM="dumb")
    status, _, tty = run_on_pty(args + ["--force"], columns=60, env=env)
    assert status == 0 and "\x1b" not in tty and "\r" in tty and "score" in tty
    parts = tty.split("\r")
    assert parts[-1] == "" and parts[-2].strip() == ""  # spaces cleared the last bar
    assert max(map(len, bar_lines(tty))) <= 59


def test_sweep_reports_iterations_and_cancels_within_one(data, tmp_path):
    """A sweep's fits made one after another report ITERATE (nested in SCORE)
    like strata kmeans: Ctrl-C then ends the run at the next iteration. It
    went unnoticed until the fit of that k had finished (seconds to minutes
    on large data), and a harness saw no line meanwhile."""
    args = ["sweep", f"{data}/big.h5:/x", "-k", "8:8", "--threads", 1, "-o", tmp_path / "s.h5"]
    full = [x for x in json_lines(run(*args, "--progress", "json").stderr)
            if x["step"] == "iterate"]
    assert len(full) >= 30 and [x["iteration"] for x in full[:3]] == [1, 2, 3]
    assert full[0]["total"] == 300  # max_iter
    status, lines, _ = signal_at([*args, "--force"], "iterate", 3)
    assert status == -signal.SIGINT
    its = [x for x in lines if x["step"] == "iterate"]
    assert 3 <= len(its) <= len(full) // 2, its  # soon after the signal, not at the fit's end
    assert not any(x["step"] == "score" and x["done"] > 0 for x in lines)


def test_progress_json_follows_the_last_option_and_times_every_line(data, tmp_path):
    r = run("kmeans", f"{data}/x.h5:/x", "-k", "abc", "-o", tmp_path / "a.h5",
            "--progress", "json", "--progress", "none")
    assert r.returncode == 2 and not r.stderr.startswith("{")  # the last --progress wins
    out = tmp_path / "b.h5"
    out.write_bytes(b"x")
    r = run("kmeans", f"{data}/x.h5:/x", "-k", 3, "-o", out, "--progress", "json")
    err = json_lines(r.stderr)[-1]
    assert r.returncode == 3 and err["step"] == "error" and err["elapsed_s"] >= 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_through_the_callback(data, tmp_path, sig):
    out = tmp_path / "big_out.h5"

    def default_signals():  # a SIGINT ignored by whoever started us must reach the child
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_DFL)

    p = subprocess.Popen([CLI, "kmeans", f"{data}/big.h5:/x", "-k", "48", "--tol", "0",
                          "--max-iter", "100000", "-o", str(out), "--progress", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=default_signals)
    seen = b""
    while seen.count(b'"iterate"') < 3:  # the fit is iterating: well before any write
        chunk = os.read(p.stderr.fileno(), 4096)
        assert chunk, seen
        seen += chunk
    p.send_signal(sig)
    rest, err = p.communicate(timeout=120)
    lines = json_lines((seen + err).decode())
    assert p.returncode == -sig  # ends by the signal, as the shell expects (130, 143)
    assert not out.exists()
    assert [n for n in os.listdir(tmp_path) if ".tmp." in n] == []
    assert all(l["step"] != "write" for l in lines)  # cancelled before the write
    assert b"error" not in err and rest == b""


def test_signal_during_the_silhouettes(data, tmp_path):
    """A sweep's silhouettes (O(s^2 d), most of its time with a big sample)
    report after each share of the sample's rows, and a signal stops them at
    the next share: not after the ~50 shares that are left."""
    out = tmp_path / "s.h5"
    status, lines, other = signal_at(["sweep", f"{data}/big.h5:/x", "-k", "2:4", "--sample", 60000,
                                      "-o", out], "silhouette", 2)
    assert status == -signal.SIGINT, other
    sil = [l for l in lines if l["step"] == "silhouette"]
    assert sil[0]["done"] == 0 and sil[0]["total"] == 60000
    assert 0 < sil[1]["done"] < 60000 // 20  # shares of at most a twentieth
    assert len(sil) <= 3 and sil[-1]["done"] < 60000
    assert not out.exists() and [n for n in os.listdir(tmp_path) if ".tmp." in n] == []
    assert not any(l["step"] == "score" and l["done"] == l["total"] for l in lines)


def default_signals():  # a SIGINT ignored by whoever started us must reach the child
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def signal_at(cmd, step, nth, sig=signal.SIGINT, delay=0.0):
    """Run cmd with --progress json and send sig when the nth report of step
    arrives (delay seconds later); returns (status, every JSON line, the rest
    of stderr)."""
    p = subprocess.Popen([CLI, *map(str, cmd), "--progress", "json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=default_signals)
    seen, lines, other = 0, [], []
    for raw in p.stderr:
        line = raw.decode()
        if not line.startswith("{"):
            other.append(line)
            continue
        lines.append(json.loads(line))
        if lines[-1]["step"] == step:
            seen += 1
            if seen == nth:
                time.sleep(delay)
                p.send_signal(sig)
    p.communicate(timeout=120)
    return p.returncode, lines, "".join(other)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    """A 100,000-customer log (623,004 rows): its result file takes ~75 ms to
    write, far longer than a signal takes to arrive."""
    d = tmp_path_factory.mktemp("log")
    p = run("gen", "transactions", "-o", d / "tx.h5", "--customers", 100_000, "--seed", 5)
    assert p.returncode == 0, p.stderr
    return d / "tx.h5"


TX = ["--customer", "/tx/customer_id", "--time", "/tx/day", "--amount", "/tx/amount"]


@pytest.mark.parametrize("cmd", ["rfm", "kmeans"])
def test_signal_at_the_write_writes_nothing(data, log, tmp_path, cmd):
    """A signal right after the WRITE report (0 of 1): no step report comes
    between it and the file in place, so the command must end at once, not
    finish the write (it did: exit status 0 and the file replaced)."""
    out = tmp_path / "out.h5"
    args = ([cmd, log, *TX] if cmd == "rfm" else
            [cmd, f"{data}/big.h5:/x", "-k", "8", "--max-iter", "3"]) + ["-o", out]
    p = run(*args)
    assert p.returncode == 0, p.stderr
    before = out.read_bytes()
    for _ in range(3):
        status, lines, err = signal_at(args + ["--force"], "write", 1)
        assert status == -signal.SIGINT, err
        assert lines[-1]["step"] == "write" and lines[-1]["done"] == 0
        assert out.read_bytes() == before  # the old file, untouched
        assert sorted(os.listdir(tmp_path)) == ["out.h5"]  # no temporary left


@pytest.mark.parametrize("sig", [signal.SIGPIPE, signal.SIGQUIT, signal.SIGUSR1, signal.SIGXCPU])
def test_other_ending_signals_at_the_write(log, tmp_path, sig):
    """Signals whose default action ends a process, sent to the strata
    program during its write: passed on to the run, which removes its
    temporary and ends by the signal. The program did not pass them on: it
    died by the signal and the run was killed with its temporary left.
    20 ms into the write (~75 ms): the temporary exists then; a signal after
    the new file is in place may only end the run normally."""
    out = tmp_path / "out.h5"
    args = ["rfm", log, *TX, "-o", out]
    p = run(*args)
    assert p.returncode == 0, p.stderr
    before = out.read_bytes()
    status, lines, err = signal_at(args + ["--force"], "write", 1, sig, delay=0.02)
    assert sorted(os.listdir(tmp_path)) == ["out.h5"]  # no temporary left
    steps = [l for l in lines if l["step"] != "error"]
    if status == 0:  # too late: the new file is in place, whole
        assert steps[-1]["step"] == "write" and steps[-1]["done"] == 1
        return
    assert status == -sig, err
    assert steps[-1]["step"] == "write" and steps[-1]["done"] == 0
    assert out.read_bytes() == before  # the old file, untouched
    if sig == signal.SIGXCPU:  # not called a crash on a corrupt input
        assert "CPU time limit" in lines[-1]["message"] and "corrupt" not in lines[-1]["message"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_in_out_of_core_aggregation(log, tmp_path, sig):
    """A signal while an out-of-core RFM fit aggregates its spilled parts
    cancels it through the callback (it ended as a read error: the handler
    removed the spill folder under the running fit)."""
    spill = tmp_path / "spill"
    spill.mkdir()
    out = tmp_path / "o.h5"
    status, lines, err = signal_at(["rfm", log, *TX, "-o", out, "--memory", "32M",
                                    "--tmpdir", spill], "aggregate", 2, sig)
    assert status == -sig, err
    assert "error" not in err
    assert sum(l["step"] == "aggregate" for l in lines) >= 2
    assert not out.exists() and os.listdir(spill) == []


def write_reports(lines, total):
    """gen's reports: every one the step write, done from 0 up by blocks, then
    total of total once the file is in place."""
    assert lines and all(l["step"] == "write" and l["total"] == total for l in lines), lines
    done = [l["done"] for l in lines]
    assert done[0] == 0 and done[-1] == total and done == sorted(done)
    return done


@pytest.mark.parametrize("what", ["blobs", "customers", "transactions"])
def test_gen_json(tmp_path, what):
    """strata gen reports its write (it printed nothing while it wrote, for
    minutes on a file of hundreds of millions of rows)."""
    size = ["--customers", 30_000] if what == "transactions" else ["--n", 30_000]
    p = run("gen", what, "-o", tmp_path / "g.h5", *size, "--block-rows", 4096,
            "--progress", "json")
    assert p.returncode == 0, p.stderr
    assert "strata gen" in p.stdout
    lines = json_lines(p.stderr)
    check_monotone(lines)
    done = write_reports(lines, 30_000)
    if what != "transactions":  # a report before each block of rows
        assert done[:-1] == list(range(0, 30_000, 4096))
    else:  # customers drawn, a block of rows at a time (about 6 orders each)
        assert 30 <= len(done) <= 80
    with h5py.File(tmp_path / "g.h5", "r") as f:  # the file as without the option
        q = run("gen", what, "-o", tmp_path / "q.h5", *size, "--quiet")
        assert (q.returncode, q.stdout, q.stderr) == (0, "", "")
        with h5py.File(tmp_path / "q.h5", "r") as g:
            name = {"blobs": "x", "customers": "features", "transactions": "tx/amount"}[what]
            np.testing.assert_array_equal(f[name][()], g[name][()])


def test_gen_bar_on_a_terminal(tmp_path):
    status, out, tty = run_on_pty(["gen", "blobs", "-o", tmp_path / "a.h5", "--n", 200_000,
                                   "--block-rows", 8192])
    assert status == 0 and "strata gen blobs" in out
    assert "\r" in tty and "write" in tty and "%" in tty
    assert tty.endswith("\r\x1b[K")
    status, out, tty = run_on_pty(["gen", "blobs", "-o", tmp_path / "b.h5", "--n", 200_000,
                                   "--progress", "none"])
    assert status == 0 and tty == ""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_in_gen_writes_nothing(tmp_path, sig):
    """A signal while gen writes ends it at once: the file it replaces
    (--force) untouched, no temporary left, status by the signal."""
    out = tmp_path / "g.h5"
    p = run("gen", "blobs", "-o", out, "--n", 1000)
    assert p.returncode == 0, p.stderr
    before = out.read_bytes()
    status, lines, err = signal_at(["gen", "blobs", "-o", out, "--n", 2_000_000, "--force",
                                    "--block-rows", 8192], "write", 3, sig)
    assert status == -sig, err
    assert "error" not in err
    assert lines[-1]["done"] < 2_000_000
    assert out.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["g.h5"]


def test_demo_json_and_quiet(tmp_path):
    """strata demo takes --progress and --quiet: the log's write, then the
    steps of strata tiers, on one clock."""
    p = run("demo", "-o", tmp_path / "a", "--n", "3K", "--progress", "json")
    assert p.returncode == 0, p.stderr
    lines = json_lines(p.stderr)
    elapsed = [l["elapsed_s"] for l in lines]
    assert elapsed == sorted(elapsed)
    steps = [l["step"] for l in lines]
    first_other = next(i for i, s in enumerate(steps) if s != "write")
    write_reports(lines[:first_other], 3000)
    assert {"read", "aggregate", "iterate"} <= set(steps[first_other:])
    assert steps[-1] == "write" and lines[-1]["done"] == lines[-1]["total"] == 1
    assert "tiers.h5" in p.stdout
    q = run("demo", "-o", tmp_path / "b", "--n", 3000, "--quiet")
    assert (q.returncode, q.stdout, q.stderr) == (0, "", "")
    assert (tmp_path / "b" / "tiers.h5").exists()


def test_gen_transactions_progress_counts_both_passes(tmp_path):
    """With --n the customers are drawn twice (the first pass shares out the
    rows): total 2 C, the first pass reported too; done counts the customers
    written, not those begun."""
    p = run("gen", "transactions", "-o", tmp_path / "t.h5", "--customers", 200_000, "--n",
            300_000, "--block-rows", 20_000, "--progress", "json")
    assert p.returncode == 0, p.stderr
    done = write_reports(json_lines(p.stderr), 400_000)
    assert any(0 < d < 200_000 for d in done)  # the first pass
    assert any(200_000 < d < 400_000 for d in done)
    p = run("gen", "transactions", "-o", tmp_path / "u.h5", "--customers", 3, "--n", 90_000,
            "--block-rows", 30_000, "--progress", "json")
    assert p.returncode == 0, p.stderr
    done = write_reports(json_lines(p.stderr), 6)
    # the first customer's orders fill blocks: it counts once written (was: at once)
    assert done[:4] == [0, 3, 3, 3] and done[-1] == 6


def test_signal_after_the_file_is_in_place_is_no_failure(tmp_path):
    """A signal sent on the last write report (the file in place) cancels
    nothing: status 0 (it ended by the signal, as if nothing was written)."""
    out = tmp_path / "g.h5"
    for _ in range(10):  # the old order failed 2 runs in 5
        p = subprocess.Popen([CLI, *map(str, ["gen", "customers", "-o", out, "--n", 100_000, "--force",
                              "--progress", "json"])], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=default_signals)
        for raw in p.stderr:
            line = json.loads(raw)
            if line["done"] == line["total"]:
                p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)
        assert p.returncode == 0
        assert out.exists() and sorted(os.listdir(tmp_path)) == ["g.h5"]


def test_closed_pipe_leaves_no_temporary(tmp_path):
    """The reader of stderr goes away (... --progress json 2>&1 | head -1):
    the run ends by SIGPIPE with no output and no temporary (one was left)."""
    for mode in ("json", "bar"):
        p = subprocess.Popen([CLI, *map(str, ["gen", "customers", "-o", tmp_path / "p.h5", "--n",
                              3_000_000, "--progress", mode])], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, preexec_fn=default_signals)
        p.stderr.read(40)
        p.stderr.close()
        assert p.wait(timeout=60) == -signal.SIGPIPE
        assert os.listdir(tmp_path) == [], mode


def test_killed_runs_leave_whole_json_lines(tmp_path):
    """Every JSON line is written whole (a signal that ends the run at once
    left half a line, which a script cannot parse)."""
    import random
    rng = random.Random(4)
    for i in range(8):
        p = subprocess.Popen([CLI, *map(str, ["gen", "blobs", "-o", tmp_path / "b.h5", "--n", 2_000_000,
                              "--d", 4, "--block-rows", 500, "--progress", "json", "--force"])],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             preexec_fn=default_signals)
        time.sleep(0.3)  # its stderr pipe fills: the run waits, mid-write, for us
        seen, at = 0, 50 + rng.randrange(200)
        for raw in p.stderr:
            seen += 1
            if seen == at:
                p.send_signal(signal.SIGINT if i % 2 else signal.SIGTERM)
                break
        rest = p.stderr.read()  # the buffered lines too (communicate reads the pipe)
        p.wait(timeout=60)
        assert p.returncode < 0
        json_lines(rest.decode())  # every line parses (the last one too)
        assert not rest or rest.endswith(b"\n")
        assert os.listdir(tmp_path) == []


def test_demo_folder_removed_on_ctrl_c(tmp_path):
    """strata demo without -o makes a folder; Ctrl-C while the log is written
    leaves nothing, that folder included."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    p = subprocess.Popen([CLI, *map(str, ["demo", "--n", "2M", "--progress", "json"])],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                         preexec_fn=default_signals)
    for raw in p.stderr:
        if json.loads(raw)["step"] == "write":
            p.send_signal(signal.SIGINT)
            break
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGINT
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("dir_given", [False, True])
def test_demo_log_removed_on_ctrl_c_after_it_is_written(tmp_path, dir_given):
    """Ctrl-C once the log was written (strata tiers reading it) left the
    demo's 100 MB transactions.h5 behind, and the same command then refused
    to run again (\"already holds transactions.h5\")."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    out = tmp_path / "given"
    cmd = ["demo", "--n", "300K", "--progress", "json", *(["-o", out] if dir_given else [])]
    p = subprocess.Popen([CLI, *map(str, cmd)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env, preexec_fn=default_signals)
    steps = []
    for raw in p.stderr:
        steps.append(json.loads(raw)["step"])
        if steps[-1] == "aggregate":  # strata tiers, after the log is in place
            p.send_signal(signal.SIGINT)
            break
    p.communicate(timeout=60)
    assert "write" in steps and p.returncode == -signal.SIGINT
    assert os.listdir(tmp_path) == []  # the log, and the folder the run made


def test_gen_bar_cleared_on_ctrl_c(tmp_path):
    master, slave = pty.openpty()
    p = subprocess.Popen([CLI, *map(str, ["gen", "blobs", "-o", tmp_path / "a.h5", "--n", 20_000_000,
                          "--block-rows", 8192])], stdout=subprocess.DEVNULL, stderr=slave,
                         stdin=subprocess.DEVNULL, preexec_fn=default_signals)
    os.close(slave)
    seen = b""
    while b"%" not in seen:
        seen += os.read(master, 4096)
    p.send_signal(signal.SIGINT)
    while True:
        r, _, _ = select.select([master], [], [], 30)
        try:
            chunk = os.read(master, 4096) if r else b""
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=60)
    os.close(master)
    assert p.returncode == -signal.SIGINT
    assert seen.endswith(b"\r\x1b[K")  # the line left clean
    assert os.listdir(tmp_path) == []
