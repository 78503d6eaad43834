#!/usr/bin/env bash
# Fuzzing with libFuzzer, ASan and UBSan (clang; preset `fuzz`). Targets are
# tests/fuzz/<target>.cpp; seeds in tests/fuzz/corpus/<target>/.
#
#   bash scripts/fuzz.sh TARGET [SECONDS]  soak one target (default 600 s); what it
#                                          learns stays in build/fuzz/work/TARGET
#   bash scripts/fuzz.sh --ci [SECONDS]    every target for SECONDS (default 45),
#                                          from its seeds only (scripts/test.sh runs this)
#   bash scripts/fuzz.sh --list            the targets
#
# TANDEM_SEED sets libFuzzer's -seed (default: random; printed either way).
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout,
# broken invariant); the input is saved in build/fuzz/findings/TARGET/.
# Prints one TANDEM_RELIABILITY line per target run.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(http sync_protocol bundle text_ops text_state)
BIN=build/fuzz/tests/fuzz

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build() {
  bash scripts/deps.sh --test
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)" >/dev/null
}

# run TARGET SECONDS WORKDIR: fuzzes, prints the reliability line, returns
# non-zero on a finding.
run() {
  local target=$1 seconds=$2 work=$3
  local seeds=tests/fuzz/corpus/$target dict=tests/fuzz/$target.dict options=tests/fuzz/$target.options
  local findings=build/fuzz/findings/$target log=build/fuzz/logs/$target.log
  local seed=${TANDEM_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  local args=(-max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048
              -print_final_stats=1 -artifact_prefix="$findings/")
  [ -f "$dict" ] && args+=(-dict="$dict")
  # Flags of the target's own (one per line, # comments), as OSS-Fuzz keeps them.
  [ -f "$options" ] && while read -r flag; do args+=("$flag"); done < <(grep -v '^ *#' "$options" | grep .)
  echo "fuzz $target: ${seconds} s, seed $seed (log: $log)" >&2
  local rc=0
  ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$BIN/fuzz_$target" "${args[@]}" "$work" "$seeds" >"$log" 2>&1 || rc=$?
  local execs corpus secs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  local command="TANDEM_SEED=$seed bash scripts/fuzz.sh $target $seconds"
  if [ "$rc" -ne 0 ]; then
    tail -60 "$log" >&2
    local artifact
    artifact=$(ls -t "$findings" 2>/dev/null | head -1)
    echo "FUZZ FINDING in $target (exit $rc): $findings/$artifact" >&2
    printf 'TANDEM_RELIABILITY {"fault":"fuzz %s","cases":%s,"result":"FINDING after %s executions: %s","command":"%s"}\n' \
      "$target" "${execs:-0}" "${execs:-0}" "$findings/$artifact" "$command"
    return 1
  fi
  local rate=$(( ${execs:-0} / ${secs:-1} ))
  printf 'TANDEM_RELIABILITY {"fault":"fuzz %s","cases":%s,"result":"%s executions in %s s (%s/s, libFuzzer+ASan+UBSan), corpus %s inputs, 0 findings","command":"%s"}\n' \
    "$target" "$execs" "$execs" "$secs" "$rate" "${corpus:-?}" "$command"
}

[ $# -ge 1 ] || usage
case "$1" in
  --list)
    printf '%s\n' "${TARGETS[@]}"
    ;;
  --ci)
    seconds=${2:-45}
    build
    failed=0
    for t in "${TARGETS[@]}"; do
      rm -rf "build/fuzz/ci-work/$t"
      run "$t" "$seconds" "build/fuzz/ci-work/$t" || failed=1
    done
    exit "$failed"
    ;;
  -*)
    usage
    ;;
  *)
    target=$1
    [ -f "tests/fuzz/$target.cpp" ] || { echo "no fuzz target '$target' (see --list)" >&2; exit 2; }
    build
    run "$target" "${2:-600}" "build/fuzz/work/$target"
    ;;
esac
