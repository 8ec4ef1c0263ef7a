#!/bin/bash
cd /tmp/clvspeed
OLD=/tmp/clvspeed/old/build/tools/strata; NEW=/work/wt-clv-speed/build/tools/strata
lscpu | grep -E "Model name|CPU family|^Model:|^CPU\(s\)"
one() { # label bin log cal hold
  echo "== $1 $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "TIME %e wall %U user %S sys %M KB" $2 clv $3 --customer /tx/customer_id --time /tx/day --amount /tx/amount --calibration-end $4 --holdout-end $5 --threads 0 -o out-$1.h5 --force --progress none 2>&1 | grep TIME
}
for k in 1 2 3; do
  one old-2M $OLD log2M.h5 10272 10545; one new-2M $NEW log2M.h5 10272 10545
done
/usr/bin/python3 cmp.py out-old-2M.h5 out-new-2M.h5
for k in 1 2 3; do
  one old-gen100k $OLD gen100k.h5 19818 20000; one new-gen100k $NEW gen100k.h5 19818 20000
done
/usr/bin/python3 cmp.py out-old-gen100k.h5 out-new-gen100k.h5
one new-10M $NEW log10M.h5 10272 10545; one old-10M $OLD log10M.h5 10272 10545; one new-10M $NEW log10M.h5 10272 10545
/usr/bin/python3 cmp.py out-old-10M.h5 out-new-10M.h5
uptime
