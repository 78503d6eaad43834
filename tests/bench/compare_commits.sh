#!/usr/bin/env bash
# One benchmark at several commits, alternating in the same minutes.
#
#   tests/bench/compare_commits.sh [--rounds N] [--bench sync|sync_100k] [--keep] COMMIT...
#
# This VM's speed moves by up to 1.5x within hours (the same binary: 5.3 s
# and 7.4-9.0 s for the 100k sync an hour apart), so a figure means something
# only beside another commit's figure taken in the same run. Each COMMIT
# (anything `git rev-parse` takes) is checked out into a worktree under
# ${TMPDIR:-/tmp}/tandem-compare/, built (Release, only the benchmark's
# targets; ccache is used when CMAKE_CXX_COMPILER_LAUNCHER says so) and run
# with its own benchmark code, one commit after the other, round after round.
# Prints every run and the median per commit. --keep leaves the worktrees
# (a rerun then builds nothing).
#
# Benchmarks:
#   sync       bench_server_rps: 64 keep-alive clients in schools of 8, each
#              request pushes one change (durable) and pulls; 10 s after 2 s.
#              req/s, higher is better.
#   sync_100k  tests/bench/sync_100k/run.sh: 100k field changes tablet A ->
#              server -> tablet B (PouchDB not run). Seconds, lower is better.
set -euo pipefail
ROUNDS=3 BENCH=sync KEEP=0
COMMITS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --bench) BENCH=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) COMMITS+=("$1"); shift ;;
  esac
done
[[ ${#COMMITS[@]} -ge 1 ]] || { echo "usage: $0 [--rounds N] [--bench sync|sync_100k] [--keep] COMMIT..." >&2; exit 2; }
case $BENCH in
  sync) TARGETS=(tandem-server bench_server_rps) ;;
  sync_100k) TARGETS=(tandem-server tandem-bench-sync) ;;
  *) echo "--bench: sync or sync_100k" >&2; exit 2 ;;
esac
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "--rounds: a positive number" >&2; exit 2; }

REPO=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
BASE=${TMPDIR:-/tmp}/tandem-compare
mkdir -p "$BASE"
SHAS=() TREES=()
cleanup() {
  [[ $KEEP == 1 ]] && return
  for t in "${TREES[@]}"; do git -C "$REPO" worktree remove --force "$t" 2>/dev/null || true; done
}
trap cleanup EXIT

for c in "${COMMITS[@]}"; do
  sha=$(git -C "$REPO" rev-parse --verify --short=10 "$c^{commit}") ||
    { echo "not a commit: $c" >&2; exit 2; }
  tree=$BASE/$sha
  if [[ ! -d $tree ]]; then
    git -C "$REPO" worktree add --force --detach "$tree" "$sha" >/dev/null 2>&1 ||
      { echo "cannot check out $sha into $tree" >&2; exit 1; }
  fi
  echo "building $sha ($(git -C "$REPO" log -1 --format=%s "$sha" | cut -c1-70))" >&2
  cmake -S "$tree" -B "$tree/build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTANDEM_BUILD_TESTS=ON >"$tree/configure.log" 2>&1 ||
    { echo "configure failed: $tree/configure.log" >&2; exit 1; }
  cmake --build "$tree/build/release" -j"$(nproc)" --target "${TARGETS[@]}" >"$tree/build.log" 2>&1 ||
    { echo "build failed: $tree/build.log" >&2; exit 1; }
  SHAS+=("$sha") TREES+=("$tree")
done

# Older run.sh scripts install PouchDB when npm is found: a failing npm in
# front of PATH keeps every commit's run to Tandem alone.
SHIM=$(mktemp -d "$BASE/shim.XXXXXX")
printf '#!/bin/sh\nexit 1\n' >"$SHIM/npm" && chmod +x "$SHIM/npm"

run_one() {  # tree -> one figure on stdout
  local tree=$1 out
  if [[ $BENCH == sync ]]; then
    local args=(--clients 64 --seconds 10 --warmup 2)
    # Since the PostgreSQL modes the benchmark takes --modes/--loads; before,
    # it ran every load and printed each.
    if grep -q '"--loads"' "$tree"/tests/bench/server_rps/*.cpp; then
      args+=(--modes sqlite --loads sync --rounds 1)
    fi
    out=$("$tree/build/release/tests/bench/server_rps/bench_server_rps" "${args[@]}" 2>/dev/null)
    awk '/sync \(push 1 \+ pull\)/ { sub(/.*\(push 1 \+ pull\)/, ""); print $2; exit }' <<<"$out"
  else
    out=$(cd "$tree" && PATH="$SHIM:$PATH" TANDEM_BENCH_POUCH=0 bash tests/bench/sync_100k/run.sh build/release 2>/dev/null)
    sed -n 's/^| \*\*A -> server -> B total\*\* | \*\*\([0-9.]*\)\*\*.*/\1/p' <<<"$out"
  fi
}

declare -A RESULTS
unit=req/s; [[ $BENCH == sync_100k ]] && unit=s
echo "$BENCH, $ROUNDS rounds; $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
for r in $(seq "$ROUNDS"); do
  for i in "${!SHAS[@]}"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    v=$(run_one "${TREES[$i]}")
    [[ -n $v ]] || { echo "no figure from ${SHAS[$i]} (round $r)" >&2; exit 1; }
    echo "round $r  ${SHAS[$i]}  $v $unit  (load $load, $(date +%H:%M:%S))"
    RESULTS[$i]="${RESULTS[$i]:-} $v"
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo
for i in "${!SHAS[@]}"; do
  # shellcheck disable=SC2086
  echo "${SHAS[$i]}  median $(median ${RESULTS[$i]}) $unit  (runs:${RESULTS[$i]})  $(git -C "$REPO" log -1 --format=%s "${SHAS[$i]}" | cut -c1-60)"
done
rm -rf "$SHIM"
