#!/usr/bin/env bash
# The whole test suite (every CTest label: unit, integration, security, ...)
# built with AddressSanitizer + UndefinedBehaviorSanitizer (RELAY_SANITIZE) in
# build-asan/. Any report fails the run. CI runs it after tools/test.sh.
#
#   tools/sanitize.sh            # build + run everything
#   tools/sanitize.sh -L unit    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
start=$(date +%s)
BUILD_DIR=build-asan CMAKE_EXTRA_ARGS="-DRELAY_SANITIZE=ON" bash tools/build.sh
built=$(date +%s)
# Integration tests start the sanitized binaries: they inherit these.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tools/lsan.supp}"
cd build-asan
ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@"
end=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, tests $((end - built)) s"
