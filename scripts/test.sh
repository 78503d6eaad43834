#!/usr/bin/env bash
# The whole test suite: install what is missing, build (preset `ci`: warnings
# as errors), run every ctest suite, then the fuzz tier: every libFuzzer
# target (preset `fuzz`, clang + ASan/UBSan) for TANDEM_FUZZ_SECONDS each
# (default 45; 0 skips it). Usage: scripts/test.sh [PRESET] (default ci;
# `dev` = ASan+UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-ci}"
bash scripts/deps.sh --test
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" -j "$(nproc)"
ctest --preset "$PRESET" -j "$(nproc)" --timeout 900
FUZZ_SECONDS="${TANDEM_FUZZ_SECONDS:-45}"
if [ "$FUZZ_SECONDS" != 0 ]; then
  bash scripts/fuzz.sh --ci "$FUZZ_SECONDS"
fi
