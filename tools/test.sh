#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: unit tests first, then
# the integration tests that start the real processes on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash tools/build.sh
BUILD_DIR="${BUILD_DIR:-build}"
cd "$BUILD_DIR"
echo "== unit tests"
ctest --output-on-failure -L unit -j"$(nproc)"
echo "== integration tests"
ctest --output-on-failure -L integration
