#!/bin/bash
# run.sh BIN OUT LOG
/usr/bin/time -f "%e wall %U user %S sys %M KB" $1 clv $3 --customer /tx/customer_id --time /tx/day --amount /tx/amount --calibration-end 10272 --holdout-end 10545 --threads 0 -o $2 --force
