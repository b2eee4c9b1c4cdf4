#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) in
# build-fuzz/ and runs each for a while, starting from the seeds in
# fuzz/corpus/<target>/ (new inputs go to build-fuzz/corpus/<target>/; a crash
# leaves build-fuzz/crash-* and fails the script).
#
#   tools/fuzz.sh                 # every target, 20 s each (what CI runs)
#   tools/fuzz.sh 600             # every target, 10 minutes each (by hand)
#   tools/fuzz.sh 60 config_fuzz  # one target
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
SECONDS_EACH="${1:-20}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(discovery_fuzz tunnel_frames_fuzz tunnel_token_fuzz config_fuzz mgmt_request_fuzz)
BUILD="${FUZZ_BUILD_DIR:-build-fuzz}"
JOBS="${JOBS:-$(nproc)}"

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang and libFuzzer"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends clang libclang-rt-14-dev
fi

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELAY_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  echo "== $t: ${SECONDS_EACH}s"
  if ! (cd "$BUILD" && "./bin/$t" -max_total_time="$SECONDS_EACH" -max_len=65536 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "corpus/$t" "$ROOT/fuzz/corpus/$t" 2>"$t.log"); then
    echo "fuzz.sh: $t FAILED; see $BUILD/$t.log and $BUILD/crash-*" >&2
    tail -40 "$BUILD/$t.log" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$BUILD/$t.log" | tr '\n' ' '
  echo
done
exit $status
