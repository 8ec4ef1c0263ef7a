#!/usr/bin/env bash
# Configure and build libstrata (Release) into ./build. Installs Debian
# dependencies first when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
