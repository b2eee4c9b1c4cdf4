#!/usr/bin/env bash
# Runs every benchmark of bench/ and appends their tables to docs/PERFORMANCE.md.
#
#   bash tools/bench.sh            # full run (about 15-25 min on 2 cores)
#   bash tools/bench.sh --smoke    # a quick check that they all still work (CI)
#
# Each program measures the relay and its baselines side by side in the same
# run (these machines are noisy: compare ratios and medians, not absolutes):
#   fanout_bench  gateway sessions on one mgmt_server vs a bare gRPC server
#   print_bench   push-to-print latency vs printing straight to the device
#   tunnel_bench  1 GiB print and scan vs raw TCP, a bare gRPC stream, ssh -R
# Full runs install openssh-server/-client (the ssh -R baseline) and
# need root for the file-descriptor limit of 100,000 sessions (the program
# raises it itself when allowed). Nothing asserts on timing: a benchmark
# fails only if it could not run. Set BENCH_ARGS_<NAME>="..." to pass extra
# flags (e.g. BENCH_ARGS_FANOUT="--sessions=1000,10000").
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=full
if [ "${1:-}" = "--smoke" ]; then MODE=smoke; fi

BUILD_DIR="${BUILD_DIR:-build}"
DOC="${BENCH_DOC:-docs/PERFORMANCE.md}"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  bash tools/install_deps.sh
  if [ "$MODE" = full ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
        openssh-server openssh-client || echo "bench: no openssh-server: the ssh -R row will say n/a"
    fi
  fi
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}" --target fanout_bench print_bench tunnel_bench
fi
BIN="$BUILD_DIR/bin"
mkdir -p "$(dirname "$DOC")"

status=0
run() {  # run NAME ARGS...
  local name="$1"; shift
  echo "=== $name ($MODE) ==="
  if ! "$BIN/$name" "$@"; then
    echo "bench: $name failed" >&2
    status=1
  fi
}
if [ "$MODE" = smoke ]; then
  # Small sizes; the figures land in a scratch file, not in the document.
  SMOKE_DOC="$(mktemp /tmp/relay-bench-smoke-XXXXXX.md)"
  run fanout_bench --smoke --doc="$SMOKE_DOC"
  run print_bench --smoke --doc="$SMOKE_DOC"
  run tunnel_bench --smoke --doc="$SMOKE_DOC"
  rm -f "$SMOKE_DOC"
else
  # shellcheck disable=SC2086
  run tunnel_bench --doc="$DOC" ${BENCH_ARGS_TUNNEL:-}
  # shellcheck disable=SC2086
  run print_bench --doc="$DOC" ${BENCH_ARGS_PRINT:-}
  # shellcheck disable=SC2086
  run fanout_bench --doc="$DOC" ${BENCH_ARGS_FANOUT:-}
  echo "bench: tables appended to $DOC"
fi
exit $status
