"""Sorts the inputs a fuzzing run kept (crash-*, timeout-*, leak-*, oom-*)
into defects of libhdf5 and defects of libstrata: each input is run again
alone and its sanitizer report read from the top; the first frame in either
libhdf5 or libstrata's sources decides. libhdf5 1.10 crashes on some
corrupted metadata whatever its caller checks first (docs/reliability.md):
those are listed and kept, and only libstrata's fail the run.

    python3 triage.py TARGET_BINARY ARTIFACT_DIR KNOWN_DIR SOURCE_DIR
Exit 1 if any input shows a defect of libstrata."""
import os
import re
import shutil
import subprocess
import sys

FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ in (\S+) (.*)$")


def blame(report, source_dir):
    for line in report.splitlines():
        m = FRAME.match(line)
        if not m:
            continue
        where = m.group(2)
        if "libhdf5" in where:
            return "libhdf5", m.group(1)
        if source_dir + "/lib/" in where or source_dir + "/tests/fuzz/" in where:
            return "libstrata", f"{m.group(1)} {where.split()[0]}"
    return "unknown", ""


def main():
    binary, artifacts, known, source_dir = sys.argv[1:5]
    source_dir = os.path.realpath(source_dir)
    ours = 0
    for name in sorted(os.listdir(artifacts)):
        path = os.path.join(artifacts, name)
        run = subprocess.run([binary, "-timeout=30", path], capture_output=True, text=True,
                             errors="replace", timeout=600)
        report = run.stdout + run.stderr
        if run.returncode == 0:
            print(f"  {name}: does not fail when run alone (kept for a look)")
            who, frame = "unknown", ""
        else:
            who, frame = blame(report, source_dir)
        if who == "libhdf5":
            os.makedirs(known, exist_ok=True)
            shutil.move(path, os.path.join(known, name))
            print(f"  {name}: inside libhdf5 ({frame}); kept in {known}")
        elif run.returncode != 0:
            ours += 1
            print(f"  {name}: DEFECT in libstrata or unattributed ({who} {frame}):")
            print("\n".join("    " + l for l in report.splitlines() if "ERROR" in l or
                            FRAME.match(l))[:4000])
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
