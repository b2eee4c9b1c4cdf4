#!/usr/bin/env bash
# The full-stack demo on one machine: installs what is needed, builds, starts
# the management server, the cloud server, a LAN of seven simulated MFPs and a
# gateway, then shows a cloud print to an unregistered device (a registration
# swap) and a scan arriving in the cloud. The stack keeps running for you to
# try relayctl; Ctrl-C stops it cleanly. Every link is TLS (mutual TLS for
# the gateway and between the servers): the demo creates a development CA,
# enrols the gateway and creates the users' tokens (SECURITY.md).
#
#   tools/demo.sh              # install, build, run, keep running
#   tools/demo.sh --no-build   # reuse build/
#   tools/demo.sh --exit       # stop after the walkthrough (used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
BIN="$ROOT/$BUILD_DIR/bin"
DATA="$ROOT/demo-data"
LOGS="$DATA/logs"
BUILD=1
STAY=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    --exit) STAY=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step() { printf '\033[36m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

if [ "$BUILD" = 1 ]; then
  bold "Installing Debian packages (if missing) and building"
  bash tools/install_deps.sh
  bash tools/build.sh
fi

for port in 50051 50061 50071 50081; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "demo.sh: port $port is in use: is another demo running? Stop it first." >&2
    exit 1
  fi
done

rm -rf "$DATA"
mkdir -p "$LOGS"
PIDS=()
stop_stack() {
  trap - INT TERM EXIT
  if [ ${#PIDS[@]} -gt 0 ]; then
    bold "Stopping the stack (SIGTERM)"
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
    echo "stopped. Logs are in $LOGS"
  fi
}
trap stop_stack INT TERM EXIT

start() {  # start NAME BINARY ARGS...
  local name="$1"; shift
  rm -f "$DATA/$name.ready"
  "$@" --ready_file="$DATA/$name.ready" >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    [ -f "$DATA/$name.ready" ] && { echo "started $name (pid $!, log $LOGS/$name.log)"; return 0; }
    kill -0 $! 2>/dev/null || { echo "$name failed to start:"; cat "$LOGS/$name.log"; exit 1; }
    sleep 0.1
  done
  echo "$name did not become ready; see $LOGS/$name.log"; exit 1
}

CERTS="$DATA/certs"
bold "Security set-up: a development CA and certificates, and two users"
run bash tools/make_dev_certs.sh "$CERTS" gw-demo
step "$BIN/cloud_server users add alice --gateways=gw-demo --token_file=$DATA/alice.token --data_dir=$DATA/cloud"
"$BIN/cloud_server" users add alice --gateways=gw-demo --token_file="$DATA/alice.token" \
  --data_dir="$DATA/cloud" >/dev/null
step "$BIN/cloud_server users add bob --gateways=gw-demo --token_file=$DATA/bob.token --data_dir=$DATA/cloud"
"$BIN/cloud_server" users add bob --gateways=gw-demo --token_file="$DATA/bob.token" \
  --data_dir="$DATA/cloud" >/dev/null

bold "Starting the three services (TLS) and a LAN of 7 simulated MFPs"
start mgmt "$BIN/mgmt_server" --db="$DATA/mgmt/management.db" --tls_dir="$CERTS"
start cloud "$BIN/cloud_server" --data_dir="$DATA/cloud" --tls_dir="$CERTS"
start mfp_sim "$BIN/mfp_sim" serve --devices=7 --print_time=2s --out_dir="$DATA/printed"
start gateway "$BIN/gateway" --state_dir="$DATA/gateway" --gateway_id=gw-demo \
  --tls_dir="$CERTS" --nmax=5 --mode=swap --after_job=revert --discovery_interval=5s

RELAYCTL="$BIN/relayctl"
MFP="$BIN/mfp_sim"

bold "Enrolment: the new gateway is refused until an operator approves it"
for _ in $(seq 1 50); do
  "$BIN/mgmt_server" gateways list --db="$DATA/mgmt/management.db" | grep -q gw-demo && break
  sleep 0.1
done
run "$BIN/mgmt_server" gateways list --db="$DATA/mgmt/management.db"
grep -h "event=session_lost" "$LOGS/gateway.log" | head -1 || true
run "$BIN/mgmt_server" gateways approve gw-demo --db="$DATA/mgmt/management.db"

bold "The gateway found the LAN's devices; it manages at most Nmax=5 of them"
for _ in $(seq 1 100); do
  n=$("$RELAYCTL" printers 2>/dev/null | grep -c mfp- || true)
  [ "$n" -ge 7 ] && break
  sleep 0.2
done
run "$RELAYCTL" printers

bold "Cloud print to mfp-207, which is NOT registered: the gateway swaps it in"
DOC_FILE="$DATA/quarterly-report.pdf"
{ printf '%%PDF-1.4\n%% Cloud relay demo document\n'; head -c 200000 /dev/urandom | base64; } >"$DOC_FILE"
step "$RELAYCTL upload $DOC_FILE"
# (Output is captured, then shown: `tee /dev/stderr` would truncate a log
# file that stdout and stderr both point to.)
UPLOADED=$("$RELAYCTL" upload "$DOC_FILE"); echo "$UPLOADED"
DOC_ID=$(awk '/^uploaded/ {print $2}' <<<"$UPLOADED")
step "$RELAYCTL print $DOC_ID mfp-207"
SUBMITTED=$("$RELAYCTL" print "$DOC_ID" mfp-207); echo "$SUBMITTED"
JOB_ID=$(awk '/^job / {print $2; exit}' <<<"$SUBMITTED")
for _ in $(seq 1 100); do
  "$RELAYCTL" job "$JOB_ID" 2>/dev/null | grep -q PRINTING && break
  sleep 0.1
done
echo "While the job prints, mfp-207 holds the slot another idle device gave up:"
run "$RELAYCTL" printers
run "$RELAYCTL" watch "$JOB_ID"
echo "After the job (--after_job=revert) the swapped-out device is registered again:"
run "$RELAYCTL" printers

bold "The bytes that reached the device are the bytes uploaded"
run "$MFP" printed mfp-207
step "sha256sum $DOC_FILE"; sha256sum "$DOC_FILE"

bold "Cloud scan: at mfp-206's panel, alice scans 3 pages to the cloud"
run "$MFP" scan mfp-206 --user=alice --pages=3
for _ in $(seq 1 100); do
  "$RELAYCTL" scans 2>/dev/null | grep -q mfp-206 && break
  sleep 0.2
done
run "$RELAYCTL" scans

bold "Follow one job across the three processes by its id"
step "grep -h job=$JOB_ID $LOGS/*.log"
grep -h "job=$JOB_ID" "$LOGS"/*.log | sort | head -30 || true

if [ "$STAY" = 0 ]; then
  exit 0
fi
bold "The stack is running. Try:"
cat <<EOT
  $RELAYCTL printers                 # as alice (token in demo-data/alice.token)
  $RELAYCTL --user=bob jobs          # bob sees none of alice's jobs
  $RELAYCTL --token=bogus printers   # refused: UNAUTHENTICATED
  $BIN/mgmt_server gateways revoke gw-demo --db=$DATA/mgmt/management.db
  $RELAYCTL upload FILE
  $RELAYCTL print DOCUMENT_ID mfp-204 --wait
  $RELAYCTL jobs
  $RELAYCTL scans
  $MFP scan mfp-203 --user=alice --pages=2
  $MFP add-device mfp-250          # a new device appears in the LAN
  tail -f $LOGS/*.log
Press Ctrl-C to stop the stack.
EOT
wait
