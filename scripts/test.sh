#!/usr/bin/env bash
# Build and run every test (C tests, CLI tests, Python tests) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
