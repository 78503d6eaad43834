#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Tandem needs, only those missing.
# Idempotent; uses sudo when not root; never prompts.
set -euo pipefail
PACKAGES=(build-essential cmake ninja-build pkg-config libsqlite3-dev nlohmann-json3-dev
          libcurl4-openssl-dev libboost-dev libboost-system-dev catch2 libcli11-dev
          zlib1g-dev libssl-dev libbenchmark-dev
          faketime)  # faketime: the clock suite (tests/fault/clock_suite.cpp)
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
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
