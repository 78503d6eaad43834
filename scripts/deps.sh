#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Tandem needs, only those missing.
# Idempotent; uses sudo when not root; never prompts.
#   deps.sh [--test] [extra packages...]
# --test adds what only the test suites need (the main job does without).
set -euo pipefail
PACKAGES=(build-essential cmake ninja-build pkg-config libsqlite3-dev nlohmann-json3-dev
          libcurl4-openssl-dev libboost-dev libboost-system-dev catch2 libcli11-dev
          zlib1g-dev libssl-dev libbenchmark-dev libsodium-dev
          libpq-dev  # the server's PostgreSQL store (--store postgresql://...)
          openssl)  # the main job and the TLS tests make a private CA at run time
if [ "${1:-}" = --test ]; then
  shift
  PACKAGES+=(faketime   # the clock suite (tests/fault/clock_suite.cpp), the lease test
             # The PostgreSQL store's tests: each test process runs a private
             # server of its own (initdb, pg_ctl; tests/support/postgres_server.hpp)
             # on loopback. Debian's cluster service is not needed or used.
             postgresql
             python3    # the CSV tests read exports back with Python's csv module
             # Fuzzing (scripts/fuzz.sh): clang, its libFuzzer runtime, and
             # llvm-symbolizer for readable sanitizer stack traces.
             clang libclang-rt-dev llvm
             # The browser test (tests/web): Debian's Chromium, never a
             # browser downloaded by a test tool.
             chromium)
  # Node.js and npm for tests/web (OpenAPI lint, response validation, the
  # browser test): Debian's packages unless a node is already on PATH (the
  # machine's may come from another source, with npm inside it).
  command -v node >/dev/null || PACKAGES+=(nodejs)
  command -v npm >/dev/null || PACKAGES+=(npm)
  WEB_TESTS=1
fi
missing=()
for p in "${PACKAGES[@]}" "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# tests/web's npm packages, exactly as locked (npm ci, from the npm registry),
# when node_modules is missing or was installed from another lock file.
web_modules() {
  [ "${WEB_TESTS:-0}" = 1 ] || return 0
  local web stamp
  web="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/web" && pwd)"
  stamp="$web/node_modules/.tandem-lock.sha256"
  if [ -f "$stamp" ] && (cd "$web" && sha256sum --quiet --status -c "$stamp"); then return 0; fi
  echo "npm ci in tests/web" >&2
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
   sha256sum package-lock.json >"$stamp")
}
if [ ${#missing[@]} -eq 0 ]; then
  web_modules
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
# The PostgreSQL tests start private servers of their own (initdb in
# $TMPDIR): when the package is new here, it makes no default cluster that
# would run as a system service.
if [[ " ${installable[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  $SUDO mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${installable[@]}" >/dev/null
web_modules
