#!/usr/bin/env bash
# Installs the Debian 12 packages the relay needs to build, test and run.
# Safe to run again: apt-get skips what is installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libssl-dev openssl libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev
  iproute2 nftables
)

# `install_deps.sh --list` prints the list (for .ci/run and Dockerfiles).
if [ "${1:-}" = "--list" ]; then
  echo "${PACKAGES[@]}"
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: every package is already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
