#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Tandem needs, only those missing.
# Idempotent; uses sudo when not root; never prompts.
#   deps.sh [--test] [extra packages...]
# --test adds what only the test suites need (the main job does without).
set -euo pipefail
PACKAGES=(build-essential cmake ninja-build pkg-config libsqlite3-dev nlohmann-json3-dev
          libcurl4-openssl-dev libboost-dev libboost-system-dev catch2 libcli11-dev
          zlib1g-dev libssl-dev libbenchmark-dev)
if [ "${1:-}" = --test ]; then
  shift
  PACKAGES+=(faketime   # the clock suite (tests/fault/clock_suite.cpp)
             python3    # the CSV tests read exports back with Python's csv module
             # Fuzzing (scripts/fuzz.sh): clang, its libFuzzer runtime, and
             # llvm-symbolizer for readable sanitizer stack traces.
             clang libclang-rt-dev llvm)
fi
missing=()
for p in "${PACKAGES[@]}" "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# libclang-rt-dev is its own package on Debian 12; releases without it ship
# libFuzzer in clang's libclang-common-*-dev.
installable=()
for p in "${missing[@]}"; do
  if [ "$p" = libclang-rt-dev ] && ! apt-cache show "$p" >/dev/null 2>&1; then continue; fi
  installable+=("$p")
done
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${installable[@]}" >/dev/null
