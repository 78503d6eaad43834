#!/usr/bin/env bash
# The school's view on a school year: overview latency, the full-school
# export's time and size (README, "Benchmarks").
#
#   tests/bench/school_view/run.sh BUILD_DIR [REQUESTS] [SCALE]
#
# Seeds a school (40 people: 6 resource persons, 30 teachers, 2 leaders, 2
# externals) with a school year through one real tablet
# (tandem-bench-sync school-year: 300 courses, 2,000 sessions, 20,000
# entries, 200 meetings with 600 agenda items, 1,000 actions, times SCALE),
# pushed to a real tandem-server; then, as a leader's device over HTTP on
# loopback: the first overview (records loaded from the store), REQUESTS
# more (default 200; round trip on loopback, an upper bound of the
# server-side time), the same after one new change each time (the cache
# brought up to date from the sequence), the archive export, and the
# leader page's first render in headless Chromium (tests/web/page_timing.mjs).
# Prints one JSON line. A benchmark measures; it asserts nothing, so it is no ctest.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [REQUESTS] [SCALE]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
REQUESTS=${2:-200}
SCALE=${3:-1}
SERVER=$BUILD/server/tandem-server
BENCH=$BUILD/tests/bench/sync_100k/tandem-bench-sync
if [[ ! -x $SERVER || ! -x $BENCH ]]; then
  cmake --build "$BUILD" --target tandem-server tandem-bench-sync
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-bench-view.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DATA=$WORK/server
mkdir -p "$DATA"
admin() { "$SERVER" --data "$DATA" --json "$@"; }
SCHOOL=$(admin school create --name "Skoleår skole" | jq -r .id)
PEOPLE=()
add() { PEOPLE+=("$(admin person add --school "$SCHOOL" --name "$1" --role "$2" ${3:+--profession "$3"} | jq -r .id)"); }
for i in 1 2 3 4 5 6; do add "Ressourceperson $i" resource_person; done
for i in $(seq 30); do add "Lærer $i" teacher; done
add "Leder 1" leader; LEADER=${PEOPLE[-1]}
add "Leder 2" leader
add "Psykolog" external psykolog
add "Talepædagog" external talepædagog
"$SERVER" --data "$DATA" --listen 127.0.0.1:0 --quiet >"$WORK/server.out" 2>"${SERVER_ERR:-$WORK/server.err}" &
SERVER_PID=$!
PORT=
for _ in $(seq 100); do
  PORT=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/server.out" | head -1 | cut -d: -f2 || true)
  [[ -n $PORT ]] && break
  sleep 0.1
done
[[ -n $PORT ]] || { echo "server did not start: $(cat "$WORK/server.err")" >&2; exit 1; }
URL=http://127.0.0.1:$PORT

"$BENCH" enroll --db "$WORK/rp.db" --server "$URL" --code "$(admin enroll-code --person "${PEOPLE[0]}" | jq -r .code)" >/dev/null
SEED=$("$BENCH" school-year --db "$WORK/rp.db" --people "$(IFS=,; echo "${PEOPLE[*]:0:36}")" --scale "$SCALE")
PUSH=$("$BENCH" sync --db "$WORK/rp.db" --push-only --batch 500)
TOKEN=$(curl -sf -X POST "$URL/v1/enroll" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$(admin enroll-code --person "$LEADER" | jq -r .code)\",\"device_name\":\"leader\"}" | jq -r .token)
get() { curl -sf -o "${2:-/dev/null}" -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$URL$1"; }
OVERVIEW=/v1/schools/$SCHOOL/overview
COLD=$(get "$OVERVIEW")
: >"$WORK/warm"
for _ in $(seq "$REQUESTS"); do get "$OVERVIEW" >>"$WORK/warm"; done
# After a change: the tablet records one action, pushes it, then the overview.
: >"$WORK/changed"
for i in $(seq 20); do
  "$BENCH" write-action --db "$WORK/rp.db" --text "ny aftale $i" >/dev/null 2>&1 || break
  "$BENCH" sync --db "$WORK/rp.db" --push-only >/dev/null
  get "$OVERVIEW" >>"$WORK/changed"
done
stats() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR == 0) {print "null"; exit}
  printf "{\"n\":%d,\"p50_ms\":%.1f,\"p95_ms\":%.1f,\"max_ms\":%.1f}", NR, a[int(NR*0.5)+(NR*0.5>int(NR*0.5))]*1000,
  a[int(NR*0.95)+(NR*0.95>int(NR*0.95))]*1000, a[NR]*1000}'; }
ARCHIVE_S=$(get "/v1/schools/$SCHOOL/archive" "$WORK/archive.json")
ARCHIVE_BYTES=$(stat -c %s "$WORK/archive.json")
CSV_S=$(get "/v1/schools/$SCHOOL/tables/sessions?format=csv" "$WORK/sessions.csv")
RECORDS=$(jq '.records | length' "$WORK/archive.json")
# The leader page in headless Chromium (when tests/web's packages and Debian's
# chromium are installed: scripts/deps.sh --test).
PAGE=null
WEB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../web" && pwd)
if [[ -d $WEB/node_modules/playwright-core && -x /usr/bin/chromium ]]; then
  PAGE=$(node "$WEB/page_timing.mjs" "$URL" "$(admin login-code --person "$LEADER" | jq -r .code)" \
    "from=2025-08-01&to=2026-07-31" 5)
fi
T0=$(date +%s.%N)
admin report overview --school "$SCHOOL" >/dev/null
CLI_S=$(echo "$(date +%s.%N) - $T0" | bc)
jq -cn --argjson seed "$SEED" --argjson push "$PUSH" --argjson cold "$COLD" --argjson warm "$(stats "$WORK/warm")" \
  --argjson changed "$(stats "$WORK/changed")" --argjson archive_s "$ARCHIVE_S" --argjson archive_bytes "$ARCHIVE_BYTES" \
  --argjson records "$RECORDS" --argjson csv_s "$CSV_S" --argjson cli_s "$CLI_S" --arg cpu "$(nproc) cores" \
  --argjson page "$PAGE" '
  {records: $records, seed_s: $seed.seconds, push_s: $push.seconds,
   overview_first_ms: ($cold * 1000), overview_warm: $warm, overview_after_a_change: $changed,
   archive_ms: ($archive_s * 1000), archive_bytes: $archive_bytes, sessions_csv_ms: ($csv_s * 1000),
   admin_cli_overview_s: $cli_s, leader_page: $page, machine: $cpu}'
