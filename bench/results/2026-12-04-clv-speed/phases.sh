#!/bin/bash
# phases.sh BIN LOG CAL HOLD: wall of each step from --progress json
$1 clv $2 --customer /tx/customer_id --time /tx/day --amount /tx/amount --calibration-end $3 --holdout-end $4 --threads 0 -o /tmp/clvspeed/ph.h5 --force --progress json 2>&1 >/dev/null | /usr/bin/python3 -c '
import sys, json
ev=[json.loads(l) for l in sys.stdin if l.startswith("{")]
first={}; last={}
for e in ev:
    s=e["step"]; first.setdefault(s,e["elapsed_s"]); last[s]=e["elapsed_s"]
prev=0
for s in first:
    print(f"{s:10s} start {first[s]:7.2f} end {last[s]:7.2f} (gap before {first[s]-prev:6.2f}) dur {last[s]-first[s]:6.2f}")
    prev=last[s]
'
