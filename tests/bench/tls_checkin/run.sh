#!/usr/bin/env bash
# A TLS check-in vs a plain one, same machine, same run: one tandem-server
# over HTTPS (certificate from a private CA made here with openssl) and one
# plain, each with a school and a device; ROUNDS alternating rounds of
# check-ins (pull from an up-to-date cursor) against each, CLIENTS threads
# for SECONDS, each thread on one kept-alive connection (as a tablet's sync:
# the handshake is paid once per sync, not per request). Then one round each
# with a new connection per check-in (--fresh: a full handshake every time,
# the worst case). Prints each round and the TLS/plain ratio.
#
#   tests/bench/tls_checkin/run.sh BUILD_DIR [ROUNDS] [CLIENTS] [SECONDS]
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [ROUNDS] [CLIENTS] [SECONDS]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
ROUNDS=${2:-3}
CLIENTS=${3:-4}
SECONDS_EACH=${4:-5}
SERVER=$BUILD/server/tandem-server
BENCH=$BUILD/tests/bench/tls_checkin/tandem_bench_tls_checkin
if [[ ! -x $SERVER || ! -x $BENCH ]]; then
  cmake --build "$BUILD" --target tandem-server tandem_bench_tls_checkin
fi
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-bench-tls.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

TLS=$WORK/tls
mkdir -p "$TLS"
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=Bench CA" -keyout "$TLS/ca.key" -out "$TLS/ca.pem"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$TLS/server.key" -out "$TLS/server.csr"
  printf '%s\n' "subjectAltName=IP:127.0.0.1" "extendedKeyUsage=serverAuth" >"$TLS/server.ext"
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
    -days 30 -extfile "$TLS/server.ext" -out "$TLS/server.pem"
} >"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log" >&2; exit 1; }

# start NAME [TLS ARGS...]: a server with a school; sets URL_NAME and PERSON_NAME.
start() {
  local name=$1; shift
  local data=$WORK/$name
  mkdir -p "$data"
  local school person
  school=$("$SERVER" --data "$data" --json school create --name "Bench $name" | jq -r .id)
  person=$("$SERVER" --data "$data" --json person add --school "$school" --name P --role resource_person | jq -r .id)
  "$SERVER" --data "$data" --listen 127.0.0.1:0 --quiet "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  local port=
  for _ in $(seq 100); do
    port=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/$name.out" | head -1 | cut -d: -f2 || true)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { echo "$name server did not start: $(cat "$WORK/$name.err")" >&2; exit 1; }
  printf -v "PERSON_$name" '%s' "$person"
  if [[ $# -gt 0 ]]; then printf -v "URL_$name" 'https://127.0.0.1:%s' "$port"; else printf -v "URL_$name" 'http://127.0.0.1:%s' "$port"; fi
}
start plain
start tls --tls-cert "$TLS/server.pem" --tls-key "$TLS/server.key"
code() { "$SERVER" --data "$WORK/$1" --json enroll-code --person "$2" | jq -r .code; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # run NAME [--fresh]
  local name=$1; shift
  local url_var=URL_$name person_var=PERSON_$name
  local ca=()
  [[ $name == tls ]] && ca=(--ca "$TLS/ca.pem")
  "$BENCH" --url "${!url_var}" --code "$(code "$name" "${!person_var}")" "${ca[@]}" \
    --clients "$CLIENTS" --seconds "$SECONDS_EACH" "$@"
}
for r in $(seq "$ROUNDS"); do
  p=$(run plain); t=$(run tls)
  echo "round $r kept-alive: plain $p"
  echo "round $r kept-alive: tls   $t"
  jq -rn --argjson p "$p" --argjson t "$t" \
    '"round \($ARGS.named.r) kept-alive: TLS \($t.per_second) vs plain \($p.per_second) check-ins/s = \(($t.per_second / $p.per_second * 100) | round) % of plain (target 50 %)"' --arg r "$r"
done
p=$(run plain --fresh); t=$(run tls --fresh)
echo "new connection each: plain $p"
echo "new connection each: tls   $t"
jq -rn --argjson p "$p" --argjson t "$t" \
  '"new connection per check-in: TLS \($t.per_second) vs plain \($p.per_second) check-ins/s = \(($t.per_second / $p.per_second * 100) | round) % of plain"'
