#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: unit tests first, then
# the integration tests that start the real processes on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash tools/build.sh
BUILD_DIR="${BUILD_DIR:-build}"
cd "$BUILD_DIR"
# One CTest run for every label (unit, integration, ...), so its closing
# line counts every test. Integration cases each start their own processes on
# kernel-chosen ports, so they can run side by side.
ctest --output-on-failure -j"$(nproc)"
