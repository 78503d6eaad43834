#!/usr/bin/env bash
# Tandem end to end, in one go: a school server, three tablets, a co-teaching
# course and an observation recorded OFFLINE (with concurrent edits of the
# same records) and a resource-team meeting, one sync, each tablet holding what
# its person may see, and the school's consolidated view from the server (its
# overview for the leadership, and the leaders' web page with a login code).
#
#   scripts/demo.sh [BUILD_DIR]      (default: build/demo, built if needed)
#
# Self-contained and idempotent: everything lives in a fresh temp directory
# (removed at the end; KEEP=1 keeps it), the server runs on a free loopback
# port over HTTPS with a certificate from a private CA made here (the
# tablets trust it with --ca), and is stopped on exit, whatever happens.
# Needs: cmake + ninja (only when it must build), jq, openssl, sha256sum.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-${TANDEM_BUILD_DIR:-$ROOT/build/demo}}
TANDEM=$BUILD/platform/tandem
SERVER=$BUILD/server/tandem-server

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
# Install whatever is missing (build tools, libraries, jq); idempotent.
bash "$ROOT/scripts/deps.sh" jq
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
command -v openssl >/dev/null || die "openssl is needed (apt-get install openssl)"

# Configured once; built every run (incremental: seconds when up to date), so
# the demo never runs binaries older than the sources. Compiler output is shown
# only when the build fails or warns.
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  say "Building tandem and tandem-server in $BUILD (first run: a few minutes)"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_BUILD_TESTS=OFF >/dev/null
fi
if ! BUILD_LOG=$(cmake --build "$BUILD" --target tandem tandem-server 2>&1); then
  echo "$BUILD_LOG" >&2
  die "the build failed"
fi
grep -E "warning:" <<<"$BUILD_LOG" >&2 || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-demo.XXXXXX")
SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
cleanup() {
  stop_server
  if [[ ${KEEP:-0} == 1 ]]; then echo "demo: files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DATA=$WORK/server
admin() { "$SERVER" --data "$DATA" "$@"; }

# The school's private CA and the server's certificate (127.0.0.1 and
# localhost), made now: what a municipality's IT would hand out. EC P-256.
TLS=$WORK/tls
make_certificates() {
  mkdir -p "$TLS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=Skovbakkeskolen demo CA" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$TLS/server.key" -out "$TLS/server.csr" &&
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
      "extendedKeyUsage=serverAuth" >"$TLS/server.ext" &&
    openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
      -days 30 -extfile "$TLS/server.ext" -out "$TLS/server.pem"
}

# start_server [PORT]: port 0 (default) picks a free one; sets PORT and URL.
start_server() {
  : >"$WORK/server.out"
  "$SERVER" --data "$DATA" --listen "127.0.0.1:${1:-0}" --tls-cert "$TLS/server.pem" \
    --tls-key "$TLS/server.key" --quiet >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    PORT=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/server.out" 2>/dev/null | head -1 | cut -d: -f2 || true)
    [[ -n $PORT ]] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "demo: tandem-server did not start: $(cat "$WORK/server.err")" >&2
      SERVER_PID=
      return 1
    fi
    sleep 0.1
  done
  [[ -n $PORT ]] || die "tandem-server did not report its port"
  URL=https://127.0.0.1:$PORT
}

# t NAME ARGS...: run the CLI on NAME's tablet.
t() { local who=$1; shift; "$TANDEM" --db "$WORK/$who.db" "$@"; }
tj() { local who=$1; shift; "$TANDEM" --db "$WORK/$who.db" --json "$@"; }
id_of() { jq -r '.id'; }

# Dates relative to today, so "open" and "overdue" mean something whenever it runs.
day() { date -u -d "$1 days" +%F; }
START=$(day -21); LESSON1=$(day -14)T08:00:00Z; LESSON2=$(day -7)T08:00:00Z; OBSERVED=$(day -10)T09:00:00Z

say "School server (HTTPS, private CA made now)"
mkdir -p "$DATA"
if ! TLS_LOG=$(make_certificates 2>&1); then
  echo "$TLS_LOG" >&2
  die "cannot make the demo's certificates"
fi
SCHOOL=$(admin --json school create --name "Skovbakkeskolen" | id_of)
ANNA=$(admin --json person add --school "$SCHOOL" --name "Anna Holm" --role resource_person | id_of)
MIKKEL=$(admin --json person add --school "$SCHOOL" --name "Mikkel Dahl" --role resource_person | id_of)
BO=$(admin --json person add --school "$SCHOOL" --name "Bo Jensen" --role teacher | id_of)
LENE=$(admin --json person add --school "$SCHOOL" --name "Lene Berg" --role leader | id_of)
start_server || die "cannot start tandem-server"
echo "tandem-server on $URL (data in $DATA; certificate from $TLS/ca.pem)"
echo "school $SCHOOL: Anna Holm and Mikkel Dahl (resource persons), Bo Jensen (teacher), Lene Berg (leader)"

say "Enrolling three tablets with one-time codes"
for who in anna mikkel bo; do
  case $who in anna) P=$ANNA ;; mikkel) P=$MIKKEL ;; bo) P=$BO ;; esac
  CODE=$(admin enroll-code --person "$P")
  # --ca: the school's CA (remembered for later syncs); peer and host verified.
  DEV=$(tj "$who" enroll --server "$URL" --code "$CODE" --ca "$TLS/ca.pem" --device-name "$who's tablet" --quiet | jq -r '.device_id')
  echo "$who: code $CODE -> device $DEV"
done

say "Online: Anna plans a co-teaching course with Bo; Mikkel plans an observation"
COURSE=$(tj anna course create --kind co_teaching --title "Dansk 4.b: læsning i fællesskab" --target group \
  --horizon long --character anticipatory --focus-areas relations --tovholder "$ANNA" \
  --participants "$ANNA,$BO" --status planned --start-date "$START" | id_of)
t anna set "$COURSE" goals "Alle elever læser med i fællesskabet. " >/dev/null
S1=$(tj anna session create --course "$COURSE" --approach station --started-at "$LESSON1" | id_of)
t anna set "$S1" log "Lektion 1. " >/dev/null
OBS=$(tj mikkel course create --kind observation --title "Klasseledelse 6.a" --target group \
  --character preventive --focus-areas classroom_management --tovholder "$MIKKEL" --participants "$MIKKEL" | id_of)
# The school's copy of the COPUS interval template (codes + collapsed categories).
COPUS_DEF=$(jq -cn '
  def codes($g; $cs): $cs | map({code: "\($g)-\(.)", group: $g});
  def cat($g; $n; $cs): {name: $n, group: $g, codes: ($cs | map("\($g)-\(.)"))};
  {groups: [{group: "I"}, {group: "S"}],
   codes: (codes("I"; ["Lec","RtW","FUp","PQ","CQ","AnQ","MG","1o1","D/V","Adm","W","O"]) +
           codes("S"; ["L","Ind","CG","WG","OG","AnQ","SQ","WC","Prd","SP","TQ","W","O"])),
   categories: [cat("I"; "Presenting"; ["Lec","RtW","D/V"]), cat("I"; "Guiding"; ["FUp","PQ","CQ","AnQ","MG","1o1"]),
                cat("I"; "Administration"; ["Adm"]), cat("I"; "Other"; ["W","O"]),
                cat("S"; "Receiving"; ["L"]), cat("S"; "Talking to class"; ["AnQ","SQ","WC","SP"]),
                cat("S"; "Working"; ["Ind","CG","WG","OG","Prd","TQ"]), cat("S"; "Other"; ["W","O"])]}')
COPUS=$(tj mikkel template create --name "COPUS" --kind interval --interval-seconds 120 --definition "$COPUS_DEF" | id_of)
OS=$(tj mikkel session create --course "$OBS" --template "$COPUS" --interval-seconds 120 \
  --started-at "$OBSERVED" --observer "$MIKKEL" --focus "Overgange mellem aktiviteter" | id_of)
for who in anna mikkel bo anna; do t "$who" sync --quiet >/dev/null; done
echo "course $COURSE, session $S1 (Anna, Mikkel, Bo); observation $OBS, session $OS (Anna, Mikkel: Bo takes no part)"

say "Server down (the Wi-Fi is gone): everyone records offline"
OLD_PORT=$PORT
stop_server
# Anna and Bo write in the same lesson log, and both edit the course's title
# and status: a field conflict to resolve, text that must merge.
t anna set "$S1" log "Lektion 1. Anna: stationerne virkede, gruppe 2 læste højt. " >/dev/null
t bo set "$S1" log "Lektion 1. Bo: gruppe 3 var urolig i overgangen. " >/dev/null
t anna set "$COURSE" title "Dansk 4.b: læsning i fællesskab (forår)" >/dev/null
t bo set "$COURSE" title "Dansk 4.b: fælles læsning" >/dev/null
t anna set "$COURSE" status active >/dev/null
t bo add "$COURSE" focus_areas classroom_management >/dev/null
t anna add "$COURSE" focus_areas inclusion_plan >/dev/null
tj anna reflection create --session "$S1" --author "$ANNA" --text "Rollefordelingen holdt; næste gang parallel undervisning." >/dev/null
tj bo reflection create --session "$S1" --author "$BO" --text "Jeg vil gerne prøve holddeling i næste lektion." >/dev/null
S2=$(tj bo session create --course "$COURSE" --approach parallel --started-at "$LESSON2" | id_of)
tj anna action create --text "Lav læseplan for gruppe 3" --tovholder "$BO" --due "$(day 7)" --source "$S1" >/dev/null
tj bo action create --text "Aftal forældresamtale om læsning" --tovholder "$ANNA" --due "$(day 30)" --source "$COURSE" >/dev/null
DONE=$(tj bo action create --text "Kopiér læsetekster" --tovholder "$BO" --due "$(day -12)" | id_of)
t bo set "$DONE" done true >/dev/null
# Mikkel codes the observation with COPUS: every 2 minutes, every code seen
# (one command per interval; the codes are checked against the template).
tick() { local iv=$1; shift; local IFS=,; t mikkel record "$OS" --tick "$*" --interval "$iv" >/dev/null; }
tick 0 I-Lec S-L
tick 1 I-Lec I-RtW S-L
tick 2 I-PQ S-AnQ S-L
tick 3 I-MG S-WG
tick 4 I-MG I-1o1 S-WG S-SQ
tick 5 I-FUp S-WC
t mikkel record "$OS" --note "Overgangen fra oplæg til gruppearbejde tog 4 minutter." >/dev/null
# The resource team met (Anna's tablet): a theme, two need situations, a follow-up.
MEETING=$(tj anna meeting create --date "$(day -5)" --title "Ressourceteam" --participants "$ANNA,$MIKKEL,$LENE" \
  --themes reading,wellbeing | id_of)
tj anna agenda_item create --meeting "$MEETING" --need group_intervention --title "Uro i 6.a" >/dev/null
ITEM=$(tj anna agenda_item create --meeting "$MEETING" --need staff_learning --title "Læsevejledning" | id_of)
tj anna action create --text "Oplæg om læsevejledning på teammødet" --tovholder "$ANNA" --due "$(day 14)" --source "$ITEM" >/dev/null
tj mikkel action create --text "Feedbacksamtale med klasseteamet" --tovholder "$MIKKEL" --due "$(day -3)" --source "$OBS" >/dev/null
for who in anna bo mikkel; do
  printf '%-7s outbox: %s changes waiting\n' "$who" "$(tj "$who" status | jq -r .outbox)"
done

say "Back online: sync all (Bo, Mikkel, Anna, then Bo and Mikkel again)"
# Same address as before if it is still free; otherwise any port (then the
# tablets are told the new address with --server).
start_server "$OLD_PORT" || start_server 0 || die "cannot restart tandem-server"
for who in bo mikkel anna bo mikkel; do
  printf '%-7s ' "$who"
  tj "$who" sync --quiet --server "$URL" | jq -r '"pushed \(.pushed) (accepted \(.accepted), rejected \(.rejected)), pulled \(.pulled), clock offset \(.clock_offset_ms) ms"'
done

say "Each tablet holds what its person may see"
for who in anna bo mikkel; do
  t "$who" dump | sha256sum | awk -v w="$who" '{printf "  %-7s %s\n", w, $1}'
  t "$who" dump | sha256sum | cut -d' ' -f1 >"$WORK/$who.hash"
done
# The resource persons see the whole school: identical. Bo (a teacher) holds
# his co-teaching course, not Mikkel's observation.
if cmp -s "$WORK/anna.hash" "$WORK/mikkel.hash"; then
  echo "  Anna and Mikkel (resource persons): identical"
else
  die "the resource persons' tablets differ"
fi
t bo show "$COURSE" >/dev/null || die "Bo's tablet lacks his course"
if t bo show "$OBS" >/dev/null 2>&1; then die "Bo's tablet holds an observation he takes no part in"; fi
echo "  Bo (teacher): his course, not the observation he takes no part in"
say "The school's consolidated view: the server's overview for the leadership"
admin report overview --school "$SCHOOL"
echo "Overdue and open actions (export, as the leaders' page downloads it):"
admin export --school "$SCHOOL" --table actions --format json |
  jq -r '[.rows[] | select(.done | not)] | sort_by(.due)[] | "  \(.due)  \(.tovholder_name)  \(.text)\(if .overdue then "  (OVERDUE)" else "" end)"'
say "The leaders' web page"
LOGIN=$(admin --json login-code --person "$LENE" | jq -r '.code')
echo "  $URL/login  (Lene Berg, leader; one-time login code: $LOGIN, valid 10 minutes;"
echo "   the browser must trust the demo's CA, $TLS/ca.pem, or it warns: run with KEEP=1 to keep it)"
if [[ -t 0 && -t 1 && -z ${CI:-} ]]; then
  read -r -p "  The server runs until you press Enter. " _ || true
fi
say "Done (the server is stopped on exit)"
