#!/usr/bin/env bash
# The whole test suite: install what is missing, build (preset `ci`: warnings
# as errors), run every ctest suite. Usage: scripts/test.sh [PRESET] (default ci;
# `dev` = ASan+UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-ci}"
bash scripts/deps.sh
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" -j "$(nproc)"
ctest --preset "$PRESET" -j "$(nproc)" --timeout 900
