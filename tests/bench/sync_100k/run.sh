#!/usr/bin/env bash
# 100k field changes from one tablet through tandem-server down to a second
# tablet, and PouchDB replicating as many small documents, on this machine.
#
#   tests/bench/sync_100k/run.sh BUILD_DIR [N]        (N defaults to 100000)
#
# Steps, each durable when it returns (device: SQLite WAL, synchronous=FULL;
# server: one committed transaction per push):
#   write   tablet A records N field changes (1 create + 99 sets per record)
#   push    tablet A pushes its outbox (batches of 500)           -> server merges
#   pull    tablet B pulls the school's changes (pages of 1000)   -> B merges
#   echo    tablet A's next sync: the server does not send a device its own
#           changes back, so this is one request whose cursor moves past
#           them (reported, not in the total)
# Measured: wall seconds per step, bytes on the wire as libcurl counts them
# (request + response, headers included), peak RSS of each tablet process
# (getrusage) and of the server (VmHWM). PouchDB: `npm install pouchdb` into
# BUILD_DIR/pouch (LevelDB on disk via leveldown; falls back to
# pouchdb-adapter-memory, and says so, when leveldown cannot load).
# Release builds give the meaningful numbers; the script warns otherwise.
# TANDEM_BENCH_ENCRYPTED=1: both tablets encrypted at rest (keys in a
# private TANDEM_KEY_DIR); TANDEM_BENCH_POUCH=0: PouchDB not run.
# compare_encrypted.sh runs both and gives the ratio.
# TANDEM_BENCH_STORE=postgres: the server serves from PostgreSQL, a private
# server started for the run (tandem-bench-postgres: the tests' own, fsync
# and synchronous_commit on), and the CPU of its processes is reported
# beside the server's; TANDEM_BENCH_STORE=postgresql://USER@HOST:PORT/DB: that
# (empty) database, its CPU not measured. Default: SQLite (--data).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [N]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
N=${2:-100000}
SERVER=$BUILD/server/tandem-server
BENCH=$BUILD/tests/bench/sync_100k/tandem-bench-sync
PGTOOL=$BUILD/tests/bench/postgres/tandem-bench-postgres
STORE=${TANDEM_BENCH_STORE:-sqlite}
case $STORE in
  sqlite | postgres | postgresql://*) ;;
  *) echo "TANDEM_BENCH_STORE: sqlite, postgres or a postgresql:// URL" >&2; exit 2 ;;
esac
if [[ ! -x $SERVER || ! -x $BENCH ]]; then
  cmake --build "$BUILD" --target tandem-server tandem-bench-sync
fi
if [[ $STORE == postgres && ! -x $PGTOOL ]]; then
  cmake --build "$BUILD" --target tandem-bench-postgres
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
[[ $BUILD_TYPE == Release || $BUILD_TYPE == RelWithDebInfo ]] ||
  echo "warning: $BUILD is a '${BUILD_TYPE:-?}' build; use a Release build for real numbers" >&2

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-bench.XXXXXX")
SERVER_PID=
PG_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ -n $PG_PID ]]; then kill -TERM "$PG_PID" 2>/dev/null || true; wait "$PG_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DATA=$WORK/server
mkdir -p "$DATA"
export TANDEM_KEY_DIR=$WORK/keys
TABLETS=plain
[[ ${TANDEM_BENCH_ENCRYPTED:-0} == 1 ]] && TABLETS="encrypted at rest"
STORE_ARGS=(--data "$DATA")
POSTMASTER=
STORE_NAME=SQLite
if [[ $STORE == postgres ]]; then
  "$PGTOOL" serve >"$WORK/pg.out" 2>"$WORK/pg.err" &
  PG_PID=$!
  for _ in $(seq 600); do
    [[ -s $WORK/pg.out ]] && break
    kill -0 "$PG_PID" 2>/dev/null || break
    sleep 0.1
  done
  read -r PG_URL POSTMASTER <"$WORK/pg.out" || { echo "PostgreSQL did not start: $(cat "$WORK/pg.err")" >&2; exit 1; }
  STORE_ARGS+=(--store "$PG_URL")
  STORE_NAME="PostgreSQL (private server, fsync + synchronous_commit on)"
elif [[ $STORE == postgresql://* ]]; then
  STORE_ARGS+=(--store "$STORE")
  STORE_NAME="PostgreSQL (--store given; its CPU not measured)"
fi
admin() { "$SERVER" "${STORE_ARGS[@]}" --json "$@"; }
SCHOOL=$(admin school create --name "Benchmark skole" | jq -r .id)
PA=$(admin person add --school "$SCHOOL" --name "Tablet A" --role resource_person | jq -r .id)
PB=$(admin person add --school "$SCHOOL" --name "Tablet B" --role resource_person | jq -r .id)
"$SERVER" "${STORE_ARGS[@]}" --listen 127.0.0.1:0 --quiet >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 100); do
  PORT=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/server.out" | head -1 | cut -d: -f2 || true)
  [[ -n $PORT ]] && break
  sleep 0.1
done
[[ -n $PORT ]] || { echo "server did not start: $(cat "$WORK/server.err")" >&2; exit 1; }
URL=http://127.0.0.1:$PORT

"$BENCH" enroll --db "$WORK/a.db" --server "$URL" --code "$(admin enroll-code --person "$PA" | jq -r .code)" >/dev/null
"$BENCH" enroll --db "$WORK/b.db" --server "$URL" --code "$(admin enroll-code --person "$PB" | jq -r .code)" >/dev/null
# Server CPU seconds so far (utime + stime of the process).
TICKS=$(getconf CLK_TCK)
server_cpu() { awk -v t="$TICKS" '{printf "%.2f", ($14 + $15) / t}' "/proc/$SERVER_PID/stat"; }
# PostgreSQL's CPU seconds so far: the postmaster and every process it
# started, ended backends included (proc_cpu.hpp); 0 without one.
pg_cpu() { if [[ -n $POSTMASTER ]]; then "$PGTOOL" cpu "$POSTMASTER"; else echo 0; fi; }
WRITE=$("$BENCH" write --db "$WORK/a.db" --changes "$N")
C0=$(server_cpu) P0=$(pg_cpu)
PUSH=$("$BENCH" sync --db "$WORK/a.db" --push-only --batch 500)
C1=$(server_cpu) P1=$(pg_cpu)
PULL=$("$BENCH" sync --db "$WORK/b.db" --page 1000)
C2=$(server_cpu) P2=$(pg_cpu)
ECHO=$("$BENCH" sync --db "$WORK/a.db" --page 1000)
C3=$(server_cpu) P3=$(pg_cpu)
SCPU=$(jq -n --argjson a "$C0" --argjson b "$C1" --argjson c "$C2" --argjson d "$C3" '{push: ($b - $a), pull: ($c - $b), echo: ($d - $c)}')
PCPU=$(jq -n --argjson a "$P0" --argjson b "$P1" --argjson c "$P2" --argjson d "$P3" '{push: ($b - $a), pull: ($c - $b), echo: ($d - $c)}')
SERVER_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
DB_BYTES=$(du -cb "$WORK"/b.db* | tail -1 | cut -f1)
if [[ $TABLETS != plain ]] && [[ $(head -c 15 "$WORK/b.db") == "SQLite format 3" ]]; then
  echo "tablet B's database is not encrypted" >&2; exit 1
fi

# PouchDB: install once into BUILD_DIR/pouch (npm registry), then run.
POUCH_DIR=$BUILD/pouch
POUCH="null"
if [[ ${TANDEM_BENCH_POUCH:-1} == 1 ]] && command -v npm >/dev/null && command -v node >/dev/null; then
  if [[ ! -d $POUCH_DIR/node_modules/pouchdb ]]; then
    npm install --prefix "$POUCH_DIR" --no-audit --no-fund --loglevel=error pouchdb pouchdb-adapter-memory >&2 || true
  fi
  if [[ -d $POUCH_DIR/node_modules/pouchdb ]]; then
    mkdir -p "$WORK/pouch"
    (cd "$WORK/pouch" && NODE_PATH=$POUCH_DIR/node_modules node "$HERE/pouch_bench.cjs" "$N" "$WORK/pouch" "$POUCH_DIR" \
      2>"$WORK/pouch.err") >"$WORK/pouch.json" && POUCH=$(cat "$WORK/pouch.json") ||
      echo "pouchdb run failed: $(tail -5 "$WORK/pouch.err")" >&2
  fi
fi

MACHINE="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), load average at start $LOAD"
jq -rn --argjson w "$WRITE" --argjson p "$PUSH" --argjson l "$PULL" --argjson e "$ECHO" --argjson pouch "$POUCH" \
  --argjson scpu "$SCPU" --argjson pcpu "$PCPU" --arg pg "${POSTMASTER:+measured}" --arg store "$STORE_NAME" --arg n "$N" --arg tablets "$TABLETS" --arg srss "$SERVER_RSS_KB" --arg machine "$MACHINE" --arg build "$BUILD_TYPE" --arg db "$DB_BYTES" '
  def mb: . / 1024 | . * 10 | round / 10;
  def mib: . / 1048576 | . * 10 | round / 10;
  def s: . * 100 | round / 100;
  def pgc: if $pg == "" then "-" else (. | s | tostring) end;
  "tandem sync, \($n) field changes, tablets \($tablets), server store \($store) (\($build) build; \($machine))",
  "",
  "| step | wall s | CPU s (tablet / server / postgres) | requests | wire MiB (sent / received) | peak RSS MiB |",
  "|---|---|---|---|---|---|",
  "| A writes \($n) changes locally (1 transaction) | \($w.seconds | s) | \($w.cpu_seconds | s) / - / - | - | - | \($w.peak_rss_kb | mb) |",
  "| A push (server merges, commits per batch) | \($p.seconds | s) | \($p.cpu_seconds | s) / \($scpu.push | s) / \($pcpu.push | pgc) | \($p.requests) | \($p.bytes_sent | mib) / \($p.bytes_received | mib) | \($p.peak_rss_kb | mb) |",
  "| B pull + merge (cursor per page) | \($l.seconds | s) | \($l.cpu_seconds | s) / \($scpu.pull | s) / \($pcpu.pull | pgc) | \($l.requests) | \($l.bytes_sent | mib) / \($l.bytes_received | mib) | \($l.peak_rss_kb | mb) |",
  "| **A -> server -> B total** | **\(($p.seconds + $l.seconds) | s)** | \(($p.cpu_seconds + $l.cpu_seconds) | s) / \(($scpu.push + $scpu.pull) | s) / \(($pcpu.push + $pcpu.pull) | pgc) | \($p.requests + $l.requests) | \((($p.bytes_sent + $p.bytes_received + $l.bytes_sent + $l.bytes_received)) | mib) total | server \($srss | tonumber | mb) |",
  "| (A next sync: \($e.pulled) of its own changes sent back) | \($e.seconds | s) | \($e.cpu_seconds | s) / \($scpu.echo | s) / \($pcpu.echo | pgc) | \($e.requests) | \($e.bytes_sent | mib) / \($e.bytes_received | mib) | \($e.peak_rss_kb | mb) |",
  "",
  "B database after: \($db | tonumber | mib) MiB. B applied \($l.applied) new changes of \($l.pulled) pulled.",
  "",
  (if $pouch == null then "PouchDB: not run (npm install failed or node missing)" else
   "PouchDB \($pouch.adapter) adapter, \($pouch.docs) docs: write \($pouch.write_seconds | s) s, replicate \($pouch.replicate_seconds | s) s wall, \($pouch.replicate_cpu_seconds | s) s CPU (\($pouch.docs_written) written), peak RSS \($pouch.peak_rss_kb | mb) MiB; " +
   "tandem A->B vs PouchDB replicate: \(($pouch.replicate_seconds / ($p.seconds + $l.seconds)) * 10 | round / 10)x by wall time, " +
   "\(($pouch.replicate_cpu_seconds / ($p.cpu_seconds + $l.cpu_seconds + $scpu.push + $scpu.pull + $pcpu.push + $pcpu.pull)) * 10 | round / 10)x by CPU (tablets + server + postgres)" end)'
