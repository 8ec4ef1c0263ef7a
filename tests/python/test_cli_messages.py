"""Messages of the strata program for inputs it does not take, found by a
test pass from outside: each names the problem in the user's terms.

- a 24-bit integer dataset (libhdf5 writes such types) was called corrupt,
  and `strata info` offered a kmeans command for it;
- predict on a dataset of 0 rows named an internal function;
- a junk $STRATA_KMEANS_MEMORY failed a run that gave --memory;
- an integer option beyond int64 said "must be an integer >= 1";
- rows whose squared distances underflow were "only 1 distinct points"
  without a word on why.

The program is $STRATA_CLI (set by CTest); skipped without it."""
import json
import os
import subprocess

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="h5py is not installed")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")


def run(*args, cwd, env=None):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=env)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("messages")
    x = np.random.default_rng(1).normal(size=(200, 3))
    with h5py.File(d / "m.h5", "w") as f:
        f["X"] = x
        f["empty"] = np.zeros((0, 3))
        f["tiny"] = x * 1e-310
        t = h5py.h5t.STD_I32LE.copy()
        t.set_size(3)
        ds = h5py.h5d.create(f.id, b"i24", t, h5py.h5s.create_simple((200, 3)))
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray((x * 100).astype("i4")),
                 mtype=h5py.h5t.NATIVE_INT32)
    return d


def test_odd_sized_integers_are_unsupported_not_corrupt(data):
    p = run("kmeans", "m.h5:/i24", "-k", 2, "-o", "o.h5", cwd=data)
    assert p.returncode == 1
    assert "'/i24' in 'm.h5' holds 3-byte integers (strata reads integers of 1, 2, 4 or 8 " \
           "bytes" in p.stderr
    assert "corrupt" not in p.stderr
    objs = {o["path"]: o for o in json.loads(run("info", "m.h5", "--json", cwd=data).stdout)
            ["objects"]}
    assert objs["/i24"]["use"] == "none" and objs["/i24"]["command"] == ""
    assert objs["/X"]["use"] == "matrix"


def test_predict_on_no_rows(data):
    p = run("gen", "transactions", "-o", "tx.h5", "--customers", 300, "--seed", 2, cwd=data)
    assert p.returncode == 0, p.stderr
    p = run("tiers", "tx.h5", "--customer", "/tx/customer_id", "--time", "/tx/day", "--amount",
            "/tx/amount", "-k", 3, "-o", "t.h5", "--quiet", cwd=data)
    assert p.returncode == 0, p.stderr
    with h5py.File(data / "t.h5") as f:
        d = len(f["model/feature_names"])
    with h5py.File(data / "rows.h5", "w") as f:
        f["none"] = np.zeros((0, d))
    p = run("predict", "t.h5", "rows.h5:/none", "-o", "p.h5", cwd=data)
    assert p.returncode == 1 and not (data / "p.h5").exists()
    assert f"'rows.h5:/none' has 0 rows (shape 0 x {d}): nothing to assign" in p.stderr


def test_junk_memory_variable_when_the_option_is_given(data):
    env = dict(os.environ, STRATA_KMEANS_MEMORY="junk")
    p = run("kmeans", "m.h5:/X", "-k", 2, "-o", "a.h5", "--memory", "1G", "--quiet", cwd=data,
            env=env)
    assert p.returncode == 0, p.stderr
    p = run("kmeans", "m.h5:/X", "-k", 2, "-o", "b.h5", "--quiet", cwd=data, env=env)
    assert p.returncode == 2 and "STRATA_KMEANS_MEMORY" in p.stderr and "'junk'" in p.stderr


def test_integers_beyond_int64(data):
    p = run("kmeans", "m.h5:/X", "-k", "99999999999999999999", "-o", "c.h5", cwd=data)
    assert p.returncode == 2
    assert "-k is too large: '99999999999999999999' (at most 9223372036854775807)" in p.stderr
    p = run("kmeans", "m.h5:/X", "-k", "2", "--seed", "-99999999999999999999", "-o", "c.h5",
            cwd=data)
    assert p.returncode == 2 and "--seed must be an integer >= 0" in p.stderr


def test_rows_whose_distances_underflow(data):
    p = run("kmeans", "m.h5:/tiny", "-k", 2, "-o", "d.h5", cwd=data)
    assert p.returncode == 1
    assert "found only 1 distinct points for k = 2" in p.stderr and "rescale" in p.stderr


def test_unix_seconds_read_as_days_are_pointed_out(data):
    """Unix seconds read as days gave recencies in the millions with no word
    (strata info suggests --time without a unit: it reads metadata only)."""
    rng = np.random.default_rng(3)
    with h5py.File(data / "sec.h5", "w") as f:
        f["c"] = rng.integers(0, 50, 1000)
        f["ts"] = 1_700_000_000 + rng.integers(0, 86400 * 300, 1000)
        f["a"] = rng.gamma(2.0, 3.0, 1000)
    args = ["rfm", "sec.h5", "--customer", "/c", "--time", "/ts", "--amount", "/a", "--force"]
    p = run(*args, "-o", "days.h5", cwd=data)
    assert p.returncode == 0, p.stderr
    assert "warning: the times were read as days" in p.stderr and "--time-unit seconds" in p.stderr
    p = run(*args, "-o", "secs.h5", "--time-unit", "seconds", cwd=data)
    assert p.returncode == 0 and p.stderr == ""
    with h5py.File(data / "secs.h5") as f:
        assert f["recency"][()].max() <= 301


def test_a_repeating_default_key_says_how_to_go_without(data):
    """A table whose customer_id repeats (a row per transaction) is offered
    to kmeans by strata info, where its default key fails: the message says
    how to cluster without a key, and that works."""
    with h5py.File(data / "rep.h5", "w") as f:
        g = f.create_group("t")
        g["customer_id"] = np.array([1, 1, 2, 3, 3, 4])
        g["x"] = np.arange(6.0)
        g["y"] = np.arange(6.0) ** 2
    p = run("kmeans", "rep.h5", "--table", "/t", "-k", 2, "-o", "rep_o.h5", cwd=data)
    assert p.returncode == 1
    assert "key 'customer_id' repeats: 1 in rows 0 and 1" in p.stderr and "--key none" in p.stderr
    p = run("kmeans", "rep.h5", "--table", "/t", "-k", 2, "-o", "rep_o.h5", "--key", "none",
            "--quiet", cwd=data)
    assert p.returncode == 0, p.stderr
    with h5py.File(data / "rep_o.h5") as f:
        assert "customer_id" not in f and f["labels"].shape == (6,)


def test_booleans_days_and_budgets_named_as_users_know_them(data, tmp_path):
    """A bool amount column (h5py stores it as an HDF5 enum) said only "holds
    enum values"; --reference-day 1e3 asked for an integer >= -2^63 + 1 where
    a 32-bit day is meant; memory=2**64 in Python said "must be an int >= 0"."""
    with h5py.File(tmp_path / "b.h5", "w") as f:
        f["c"], f["t"], f["a"] = [1, 2, 3], [10, 11, 12], np.array([True, False, True])
    p = run("rfm", "b.h5", "--customer", "/c", "--time", "/t", "--amount", "/a", "-o", "o.h5",
            cwd=tmp_path)
    assert p.returncode == 1 and "enum (h5py's bool)" in p.stderr, p.stderr
    p = run("rfm", "b.h5", "--customer", "/c", "--time", "/t", "--amount", "/a", "-o", "o.h5",
            "--reference-day", "1e3", cwd=tmp_path)
    assert p.returncode == 2 and "-2147483648" in p.stderr, p.stderr
    strata = pytest.importorskip("strata")
    with pytest.raises(strata.ArgumentError, match=r"below 2\*\*63, got 18446744073709551616"):
        strata.rfm_h5(tmp_path / "b.h5", "/c", "/t", "/c", memory=2**64)


def test_holdout_end_before_the_calibration_end_is_pointed_out(tmp_path):
    """--holdout-end at or before --calibration-end is valid (no holdout) but
    was silent: "holdout 0 days" only."""
    rng = np.random.default_rng(3)
    with h5py.File(tmp_path / "tx.h5", "w") as f:
        f["c"], f["t"] = rng.integers(0, 50, 400), rng.integers(10000, 10300, 400)
        f["a"] = np.round(rng.gamma(2, 20, 400), 2) + 0.01
    args = ["clv", "tx.h5", "--customer", "/c", "--time", "/t", "--amount", "/a",
            "--calibration-end", 10200, "-o", "o.h5", "--force"]
    p = run(*args, "--holdout-end", 10100, cwd=tmp_path)
    assert p.returncode == 0 and "warning: --holdout-end 10100 (1997-08-27) is not after " \
        "--calibration-end 10200 (1997-12-05)" in p.stderr, p.stderr
    p = run(*args, "--holdout-end", 10250, cwd=tmp_path)
    assert p.returncode == 0 and "warning" not in p.stderr, p.stderr


def test_holdout_end_past_the_log_is_pointed_out(tmp_path):
    """--holdout-end after the log's last purchase day counts the days
    between as days without purchases (documented), which biases the
    holdout comparison, and was silent: a warning names both days, the
    run succeeds and its results are those documented (pandas' count of
    each customer's purchase days in the holdout; its length in days)."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    n = 500
    with h5py.File(tmp_path / "tx.h5", "w") as f:
        f["c"], f["t"] = rng.integers(0, 60, n), rng.integers(10000, 10290, n)
        f["a"] = np.round(rng.gamma(2, 20, n), 2) + 0.01
        log = pd.DataFrame({"c": f["c"][()], "t": f["t"][()]})
    last = int(log.t.max())
    args = ["clv", "tx.h5", "--customer", "/c", "--time", "/t", "--amount", "/a",
            "--calibration-end", 10200, "--force"]
    p = run(*args, "--holdout-end", 10400, "-o", "o.h5", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    warning = [ln for ln in p.stderr.splitlines() if "warning" in ln]
    assert len(warning) == 1 and "--holdout-end 10400" in warning[0], p.stderr
    last_date = (pd.Timestamp("1970-01-01") + pd.Timedelta(days=last)).strftime("%Y-%m-%d")
    assert f"the log's last day {last} ({last_date}):" in warning[0], warning
    assert f"the {10400 - last} day(s) between" in warning[0], warning
    first = log.groupby("c").t.min()
    model = first[first <= 10200].index
    hold = log[(log.t > 10200) & (log.t <= 10400) & log.c.isin(model)]
    want = hold.groupby("c").t.nunique().reindex(model, fill_value=0)
    with h5py.File(tmp_path / "o.h5") as f:
        np.testing.assert_array_equal(f["customer_id"][()], model.to_numpy())
        np.testing.assert_array_equal(f["holdout_actual"][()], want.to_numpy())
        assert f.attrs["holdout_days"] == 200
    for extra in (["--holdout-end", last], ["--holdout-end", last - 5], []):
        p = run(*args, *extra, "-o", "q.h5", cwd=tmp_path)
        assert p.returncode == 0 and "warning" not in p.stderr, (extra, p.stderr)
