#!/usr/bin/env bash
# Benchmarks tandem::text::Document (via tandem-trace) against Yjs and
# Automerge on the same editing traces and prints a markdown table.
#
# Usage: tests/bench/text_js/run.sh BUILD_DIR [TRACE...]
#   BUILD_DIR  a configured build tree; tandem-trace is built there if needed.
#   TRACE      trace names (default: automerge-paper seph-blog1 json-crdt-patch
#              friendsforever_flat) or paths to .json.gz files.
# Env: TEXT_JS_LIBS="yjs automerge" (subset to run), TRACE_DIR (default: the
#      shared editing-traces folder next to the repo).
#
# Installs yjs and @automerge/automerge from the npm registry into
# BUILD_DIR/text_js (not a dependency of the tests). Every run uses one
# process per (library, trace) so peak RSS is per replay. Measures: replay
# time (wall and CPU ms, replay only; the machine may be shared, CPU time is
# the steadier number), encoded size (Y.encodeStateAsUpdate, Automerge.save,
# Document::encode), peak RSS of the process (getrusage maxrss).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,17p' "$0"
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
TRACE_DIR=${TRACE_DIR:-$REPO/../shared/data/editing-traces}
LIBS=${TEXT_JS_LIBS:-"yjs automerge"}
TRACES=("$@")
if [[ ${#TRACES[@]} -eq 0 ]]; then
  TRACES=(automerge-paper seph-blog1 json-crdt-patch friendsforever_flat)
fi

PREFIX=$BUILD_DIR/text_js
if [[ ! -d $PREFIX/node_modules/yjs || ! -d $PREFIX/node_modules/@automerge/automerge ]]; then
  mkdir -p "$PREFIX"
  echo "installing yjs and @automerge/automerge into $PREFIX ..." >&2
  npm install --prefix "$PREFIX" --no-audit --no-fund yjs @automerge/automerge >&2
fi
if [[ ! -x $BUILD_DIR/tests/bench/trace/tandem-trace ]]; then
  ninja -C "$BUILD_DIR" tandem-trace >&2
fi
TRACE_BIN=$BUILD_DIR/tests/bench/trace/tandem-trace

resolve() {
  if [[ -f $1 ]]; then echo "$1"; return; fi
  local f
  f=$(find "$TRACE_DIR" -name "$1.json.gz" | head -n1)
  [[ -n $f ]] || { echo "no trace named $1 in $TRACE_DIR" >&2; exit 2; }
  echo "$f"
}

ver() { node -p "require('$PREFIX/node_modules/$1/package.json').version"; }
field() { node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));const v=j[process.argv[1]];process.stdout.write(v===undefined?"-":String(v))' "$1"; }

rows=()
for name in "${TRACES[@]}"; do
  file=$(resolve "$name")
  base=$(basename "$file" .json.gz)
  out=$("$TRACE_BIN" "$file" || true)
  rows+=("$base|tandem (C++)|$out")
  for lib in $LIBS; do
    out=$(TEXT_JS_PREFIX=$PREFIX node --expose-gc --max-old-space-size=4096 "$HERE/replay.mjs" "$lib" "$file" || true)
    rows+=("$base|$lib|$out")
  done
done

echo
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n1); node $(node --version); yjs $(ver yjs); @automerge/automerge $(ver @automerge/automerge)"
echo
echo "| trace | implementation | ok | replay wall ms | replay CPU ms | edits | final len | encoded bytes | peak RSS MiB |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
  IFS='|' read -r base impl json <<<"$row"
  if [[ -z $json ]]; then
    echo "| $base | $impl | failed | | | | | | |"
    continue
  fi
  rss=$(field peak_rss_kb <<<"$json")
  [[ $rss != - ]] && rss=$(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}')
  echo "| $base | $impl | $(field ok <<<"$json") | $(field ms <<<"$json") | $(field cpu_ms <<<"$json") | $(field ops <<<"$json") | $(field final_len <<<"$json") | $(field encoded_bytes <<<"$json") | $rss |"
done
