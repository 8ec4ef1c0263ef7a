"""Fixtures and the signal driver of test_files_cli.sh (needs numpy and h5py).

  files_check.py fixtures DIR             write DIR/tx.h5 (RFM columns /c /t /a)
                                          and DIR/big.h5 (/x, rows enough for a
                                          write that lasts some milliseconds)
  files_check.py interrupt SIG OUT CMD... run CMD, send SIG (TERM, INT, HUP,
                                          KILL) as soon as a new temporary
                                          OUT.tmp.* exists, until a try ends by
                                          SIG with OUT not written (up to 8
                                          tries); then print the temporaries
                                          left (old ones too), one a line

The timing decides only how many tries it takes, never the verdict: a try the
signal reached too late (OUT complete) is simply repeated.
"""
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np


def fixtures(folder):
    rng = np.random.default_rng(11)
    n = 600
    with h5py.File(f"{folder}/tx.h5", "w") as f:
        f["c"] = rng.integers(0, 60, size=n)
        f["t"] = rng.integers(18000, 18400, size=n)
        f["a"] = np.round(rng.gamma(2.0, 30.0, size=n), 2)
    with h5py.File(f"{folder}/big.h5", "w") as f:
        f["x"] = rng.normal(size=(1_500_000, 2)).astype(np.float32)


def temporaries(out):
    folder, base = os.path.split(out)
    prefix = base + ".tmp."
    return sorted(name for name in os.listdir(folder or ".") if name.startswith(prefix))


def interrupt(sig_name, out, cmd):
    sig = getattr(signal, "SIG" + sig_name)

    def default_signals():  # a SIGINT ignored by whoever started us must reach the child
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_DFL)

    for attempt in range(1, 9):
        if os.path.exists(out):
            os.remove(out)
        old = set(temporaries(out))  # left by earlier runs: not a sign of this one's write
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=default_signals)
        seen = False
        while proc.poll() is None:
            if set(temporaries(out)) - old:
                seen = True
                proc.send_signal(sig)
                break
            time.sleep(0.0005)
        _, err = proc.communicate(timeout=120)
        hit = seen and proc.returncode == -sig and not os.path.exists(out)
        print(f"try {attempt}: temporary seen {seen}, exit {proc.returncode}, "
              f"output written {os.path.exists(out)}", file=sys.stderr)
        if proc.returncode not in (0, -sig):
            sys.exit(f"unexpected exit {proc.returncode}: {err.decode(errors='replace')}")
        if hit:
            for name in temporaries(out):
                print(name)
            return
    sys.exit(f"no try was ended by SIG{sig_name} during the write")


def main(argv):
    if argv[1] == "fixtures":
        fixtures(argv[2])
    elif argv[1] == "interrupt":
        interrupt(argv[2], argv[3], argv[4:])
    else:
        sys.exit(f"unknown command {argv[1]!r}")


if __name__ == "__main__":
    main(sys.argv)
