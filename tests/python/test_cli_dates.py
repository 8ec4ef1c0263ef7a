"""Calendar dates where the strata program takes a day: --reference-day,
--min-day, --max-day (rfm, tiers), --calibration-end (clv, tiers) and
--holdout-end (clv) take YYYY-MM-DD as well as a day number (days since
1970-01-01; with --time-unit seconds still a day, floor(t / 86400)). A date
runs exactly as its day number (the output files bitwise equal); the day
number pandas gives a date is the reference; bad dates are usage errors naming
the option and the text; printed days carry their date.

The program is $STRATA_CLI (set by CTest); skipped without it."""
import os
import subprocess

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="h5py is not installed")
pd = pytest.importorskip("pandas", reason="pandas is not installed")

CLI = os.environ.get("STRATA_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="STRATA_CLI (the strata program) is not set")

COLS = ["--customer", "/tx/customer_id", "--time", "/tx/day", "--amount", "/tx/amount"]
SECS = ["--customer", "/tx/customer_id", "--time", "/tx/t", "--amount", "/tx/amount",
        "--time-unit", "seconds"]


def run(*args, cwd):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def day(text):
    """pandas' day number of an ISO date: days since 1970-01-01."""
    return int((pd.Timestamp(text) - pd.Timestamp("1970-01-01")).days)


def date(n):
    return (pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(n))).strftime("%Y-%m-%d")


def assert_same_file(a_path, b_path):
    """Every dataset bitwise equal, every attribute equal but the time of writing."""
    def objects(f):
        out = {"/": f}
        f.visititems(lambda name, obj: out.__setitem__(name, obj))
        return out
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        oa, ob = objects(a), objects(b)
        assert sorted(oa) == sorted(ob)
        for name, x in oa.items():
            y = ob[name]
            if isinstance(x, h5py.Dataset):
                assert (x.dtype, x.shape) == (y.dtype, y.shape), name
                vx, vy = np.asarray(x[()]), np.asarray(y[()])
                if vx.dtype.kind == "O":  # variable-length strings
                    assert vx.tolist() == vy.tolist(), name
                else:
                    assert vx.tobytes() == vy.tobytes(), name
            assert set(x.attrs) == set(y.attrs), name
            for k in x.attrs:
                if k != "created":
                    assert np.array_equal(x.attrs[k], y.attrs[k]), (name, k)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    """strata gen's log (days ending on day 20000, 2024-10-04), with the same
    times as Unix seconds at odd hours (/tx/t) for --time-unit seconds."""
    d = tmp_path_factory.mktemp("dates")
    p = run("gen", "transactions", "-o", "tx.h5", "--customers", 400, "--seed", 5, "--quiet",
            cwd=d)
    assert p.returncode == 0, p.stderr
    with h5py.File(d / "tx.h5", "a") as f:
        days = f["tx/day"][()].astype(np.int64)
        f["tx/t"] = days * 86400 + np.random.default_rng(1).integers(0, 86400, len(days))
        frame = pd.DataFrame({"c": f["tx/customer_id"][()], "day": days,
                              "amount": f["tx/amount"][()]})
    return d, frame


def test_rfm_days_as_dates(log):
    d, frame = log
    assert frame.day.max() == day("2024-10-04") == 20000
    dates = ["--reference-day", "2024-10-10", "--min-day", "2019-02-28", "--max-day", "2024-09-30"]
    days = ["--reference-day", day("2024-10-10"), "--min-day", day("2019-02-28"),
            "--max-day", day("2024-09-30")]
    p = run("rfm", "tx.h5", *COLS, *dates, "-o", "a.h5", "--force", cwd=d)
    assert p.returncode == 0, p.stderr
    q = run("rfm", "tx.h5", *COLS, *days, "-o", "b.h5", "--force", cwd=d)
    assert q.returncode == 0, q.stderr
    assert_same_file(d / "a.h5", d / "b.h5")
    # the range and reference as pandas gives them, each with its date
    kept = frame[(frame.day >= day("2019-02-28")) & (frame.day <= day("2024-09-30"))]
    first, last = kept.day.min(), kept.day.max()
    line = f"days {first} ({date(first)})..{last} ({date(last)}), reference day " \
           f"{day('2024-10-10')} (2024-10-10);"
    assert line in p.stdout, p.stdout
    with h5py.File(d / "a.h5") as f:  # recency to the date's day, as pandas counts it
        want = day("2024-10-10") - kept[kept.amount > 0].groupby("c").day.max()
        got = pd.Series(f["recency"][()], index=f["customer_id"][()])
        np.testing.assert_array_equal(got.loc[want.index].to_numpy(), want.to_numpy())


def test_rfm_seconds_reference_date_is_that_day(log):
    """--time-unit seconds: a day option stays a day (floor(t / 86400)), so a
    date is the day it names, not a second."""
    d, frame = log
    p = run("rfm", "tx.h5", *SECS, "--reference-day", "2024-10-05", "--max-day", "2024-10-04",
            "-o", "s.h5", "--force", cwd=d)
    assert p.returncode == 0, p.stderr
    q = run("rfm", "tx.h5", *COLS, "--reference-day", 20001, "-o", "n.h5", "--force", cwd=d)
    assert q.returncode == 0, q.stderr
    with h5py.File(d / "s.h5") as s, h5py.File(d / "n.h5") as n:
        for name in ("customer_id", "recency", "frequency", "monetary", "first_day"):
            assert s[name][()].tobytes() == n[name][()].tobytes(), name
    assert "reference day 20001 (2024-10-05);" in p.stdout


def test_clv_days_as_dates(log):
    d, frame = log
    cal, hold = "2023-12-31", "2024-10-04"
    p = run("clv", "tx.h5", *COLS, "--calibration-end", cal, "--holdout-end", hold,
            "-o", "a.h5", "--force", cwd=d)
    assert p.returncode == 0 and "warning" not in p.stderr, p.stderr
    q = run("clv", "tx.h5", *COLS, "--calibration-end", day(cal), "--holdout-end", day(hold),
            "-o", "b.h5", "--force", cwd=d)
    assert q.returncode == 0, q.stderr
    assert_same_file(d / "a.h5", d / "b.h5")
    assert f"calibration end day {day(cal)} ({cal})," in p.stdout, p.stdout
    with h5py.File(d / "a.h5") as f:
        assert f.attrs["calibration_end"] == day(cal) == 19722
        # the customers of the model: first purchase on or before the date (pandas)
        good = frame[frame.amount >= 0]
        first = good.groupby("c").day.min()
        np.testing.assert_array_equal(f["customer_id"][()], first[first <= day(cal)].index)
    # seconds: the same days, so the same model
    s = run("clv", "tx.h5", *SECS, "--calibration-end", cal, "--holdout-end", hold,
            "-o", "s.h5", "--force", cwd=d)
    assert s.returncode == 0, s.stderr
    with h5py.File(d / "s.h5") as a, h5py.File(d / "a.h5") as b:
        for name in ("customer_id", "x", "t_x", "T", "zbar", "holdout_actual"):
            assert a[name][()].tobytes() == b[name][()].tobytes(), name


def test_clv_warnings_show_dates(log):
    d, frame = log
    last = int(frame.day.max())
    p = run("clv", "tx.h5", *COLS, "--calibration-end", "2023-12-31", "--holdout-end",
            "2024-12-31", "-o", "w.h5", "--force", cwd=d)
    assert p.returncode == 0, p.stderr
    assert f"--holdout-end {day('2024-12-31')} (2024-12-31) is after the log's last day " \
           f"{last} ({date(last)}): the {day('2024-12-31') - last} day(s) between" in p.stderr
    p = run("clv", "tx.h5", *COLS, "--calibration-end", "2023-12-31", "--holdout-end",
            "2023-06-30", "-o", "w.h5", "--force", cwd=d)
    assert p.returncode == 0, p.stderr
    assert f"--holdout-end {day('2023-06-30')} (2023-06-30) is not after --calibration-end " \
           f"{day('2023-12-31')} (2023-12-31)" in p.stderr


def test_tiers_days_as_dates(log):
    d, _ = log
    common = ["-k", 3, "--seed", 1, "--clv", "--force", "--progress", "none"]
    p = run("tiers", "tx.h5", *COLS, *common, "--reference-day", "2024-10-05",
            "--calibration-end", "2024-03-31", "-o", "a.h5", cwd=d)
    assert p.returncode == 0, p.stderr
    q = run("tiers", "tx.h5", *COLS, *common, "--reference-day", 20001,
            "--calibration-end", day("2024-03-31"), "-o", "b.h5", cwd=d)
    assert q.returncode == 0, q.stderr
    assert_same_file(d / "a.h5", d / "b.h5")
    assert f"calibration end day {day('2024-03-31')} (2024-03-31)," in p.stdout, p.stdout


@pytest.mark.parametrize("command,option", [
    ("rfm", "--reference-day"), ("rfm", "--min-day"), ("rfm", "--max-day"),
    ("tiers", "--reference-day"), ("tiers", "--calibration-end"),
    ("clv", "--calibration-end"), ("clv", "--holdout-end")])
@pytest.mark.parametrize("text", ["1997-02-30", "1997-9-3", "1997-09-30x", "0000-01-01",
                                  "10000-01-01", "1997-13-01", "2023-02-29", "1997/09/30"])
def test_bad_dates_are_usage_errors(log, command, option, text):
    d, _ = log
    extra = ["--calibration-end", "2024-01-01"] if command == "clv" and option != \
        "--calibration-end" else []
    p = run(command, "tx.h5", *COLS, *extra, option, text, "-o", "never.h5", cwd=d)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.startswith(f"strata: error: {option}") and f"'{text}'" in p.stderr, p.stderr
    assert "date" in p.stderr, p.stderr  # says what was wrong with it
    assert not (d / "never.h5").exists()


def test_day_numbers_work_as_before(log):
    """The contract: integer days, negative ones too, and their old errors."""
    d, _ = log
    p = run("rfm", "tx.h5", *COLS, "--min-day", -100000, "--reference-day", 20001, "-o",
            "i.h5", "--force", cwd=d)
    assert p.returncode == 0, p.stderr
    p = run("rfm", "tx.h5", *COLS, "--reference-day", "1e3", "-o", "never.h5", cwd=d)
    assert p.returncode == 2 and "an integer >= -2147483648" in p.stderr, p.stderr
    assert "YYYY-MM-DD" in p.stderr


@pytest.mark.parametrize("command", ["rfm", "clv", "tiers"])
def test_help_names_dates(command):
    p = subprocess.run([CLI, command, "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "YYYY-MM-DD" in p.stdout
