#!/usr/bin/env bash
# Configure and build libstrata (Release) into ./build. Installs Debian
# dependencies first when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null   # CMakePresets.json: Release into ./build
cmake --build --preset release -j"$(nproc)"
