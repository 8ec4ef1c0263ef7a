#!/usr/bin/env bash
# Build, then run the main job on the built-in synthetic customer base.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
./build/tools/strata demo "$@"
