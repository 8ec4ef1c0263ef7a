#!/usr/bin/env bash
# Regenerate the ABI baseline from the current tree: builds (scripts/build.sh),
# then writes tests/abi/baseline.abi (abidw of build/libstrata.so) and
# tests/abi/baseline/strata.h (the header the old client test compiles
# against). Run it when an ABI is released, or to accept a deliberate
# change before one (docs/abi-policy.md), and commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
bash scripts/abi-check.sh build/libstrata.so --update
ctest --test-dir build -L abi --output-on-failure
