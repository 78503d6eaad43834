#!/usr/bin/env bash
# The 100k sync with plain and with encrypted tablets, alternating, in one
# run (issue 15: encrypted within 1.3x of plain):
#   tests/bench/sync_100k/compare_encrypted.sh BUILD_DIR [N] [ROUNDS]
# Prints each run's A -> server -> B wall seconds and the ratio of the
# medians (encrypted / plain).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [N] [ROUNDS]" >&2; exit 2; }
BUILD=$1 N=${2:-100000} ROUNDS=${3:-3}
total() { sed -n 's/^| \*\*A -> server -> B total\*\* | \*\*\([0-9.]*\)\*\*.*/\1/p'; }
plain=() enc=()
for r in $(seq "$ROUNDS"); do
  p=$(TANDEM_BENCH_POUCH=0 TANDEM_BENCH_ENCRYPTED=0 bash "$HERE/run.sh" "$BUILD" "$N" | total)
  e=$(TANDEM_BENCH_POUCH=0 TANDEM_BENCH_ENCRYPTED=1 bash "$HERE/run.sh" "$BUILD" "$N" | total)
  echo "round $r: plain $p s, encrypted $e s"
  plain+=("$p") enc+=("$e")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mp=$(median "${plain[@]}") me=$(median "${enc[@]}")
awk -v p="$mp" -v e="$me" 'BEGIN {r = e / p; printf "median plain %.2f s, encrypted %.2f s: %.2fx (target <= 1.3x: %s)\n", p, e, r, (r <= 1.3 ? "met" : "NOT met")}'
