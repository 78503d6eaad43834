#!/usr/bin/env bash
# The README's reliability table, regenerated: builds (preset `ci`), runs the
# fault, abuse, clock and fuzz suites, collects the lines they print
#   TANDEM_RELIABILITY {"fault":...,"cases":N,"result":...,"command":...}
# and rewrites the table between <!-- reliability:begin --> and
# <!-- reliability:end --> in README.md (one row per fault; the last line
# printed for a fault wins).
#
# A suite takes part by carrying one of the labels below (ctest) and
# printing such lines; the script depends on none of them in particular.
# The libFuzzer targets (preset `fuzz`, clang) run through scripts/fuzz.sh
# --ci, which prints one such line per target, when the labels name fuzz.
#
# Usage: scripts/reliability.sh [--soak]   (--soak: TANDEM_SOAK=1, the soak tiers)
# Env:   TANDEM_RELIABILITY_LABELS  ctest label regex (default fault|abuse|clock|fuzz)
#        TANDEM_SEED                passed on: replay the suites' seeded runs
#        TANDEM_FUZZ_SECONDS        seconds per fuzz target (default 45)
set -euo pipefail
cd "$(dirname "$0")/.."

LABELS="${TANDEM_RELIABILITY_LABELS:-fault|abuse|clock|fuzz}"
if [ "${1:-}" = "--soak" ]; then
  export TANDEM_SOAK=1
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/reliability.sh [--soak]" >&2
  exit 2
fi

bash scripts/deps.sh --test python3
mkdir -p build
LOG="build/reliability.log"  # every suite's output, kept for the failures
: >"$LOG"

status=0
echo "== preset ci: build" >&2
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)" >&2
if ctest --preset ci -N -L "$LABELS" | grep -q 'Total Tests: 0'; then
  echo "== preset ci: no test labelled $LABELS" >&2
else
  echo "== preset ci: ctest -L '$LABELS'" >&2
  # -V: the suites' stdout, where the lines are. A failing suite fails the
  # script, after the table is written (its rows say what passed).
  if ! ctest --preset ci -L "$LABELS" -V --timeout 3600 >>"$LOG" 2>&1; then
    status=1
    echo "== preset ci: some suites FAILED (details in $LOG):" >&2
    sed -n '/The following tests FAILED/,/^Errors while running/p' "$LOG" >&2
  fi
fi

# The fuzz preset has no ctest suites: scripts/fuzz.sh builds it and runs
# every target from its seeds, as the CI tier does.
if [[ $LABELS == *fuzz* ]]; then
  FUZZ_SECONDS=${TANDEM_FUZZ_SECONDS:-45}
  echo "== fuzz: scripts/fuzz.sh --ci $FUZZ_SECONDS" >&2
  if ! bash scripts/fuzz.sh --ci "$FUZZ_SECONDS" >>"$LOG" 2>&1; then
    status=1
    echo "== fuzz: a finding or a failed build (details in $LOG)" >&2
  fi
fi

python3 - "$LOG" README.md <<'EOF'
import json, re, sys

log, readme = sys.argv[1], sys.argv[2]
rows = {}
for line in open(log, encoding="utf-8", errors="replace"):
    at = line.find("TANDEM_RELIABILITY ")
    if at < 0:
        continue
    try:
        row = json.loads(line[at + len("TANDEM_RELIABILITY "):])
    except json.JSONDecodeError:
        print("not a reliability line: " + line.strip()[:200], file=sys.stderr)
        continue
    rows[row.get("fault", "?")] = row  # last wins; first appearance keeps its place

# A suite that failed may not have printed its line: it gets a row saying so.
failed = re.findall(r"^\s*\d+ - (.+?) \((?:Failed|Timeout|Not Run|SEGFAULT|Subprocess aborted)[^)]*\)\s*$",
                    open(log, encoding="utf-8", errors="replace").read(), re.M)
for name in failed:
    rows["FAILED: " + name] = {"fault": name, "cases": "", "result": "**FAILED** (output in " + log + ")",
                               "command": "ctest --preset ci -V -R '" + re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name) + "'"}

def cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")

out = ["| fault | cases | result | command |", "|---|---:|---|---|"]
for row in rows.values():
    out.append("| %s | %s | %s | `%s` |" % (cell(row.get("fault", "")), cell(row.get("cases", "")),
                                           cell(row.get("result", "")), cell(row.get("command", ""))))
if not rows:
    out.append("| (no suite printed a reliability line) | | | |")

text = open(readme, encoding="utf-8").read()
begin, end = "<!-- reliability:begin -->", "<!-- reliability:end -->"
if begin not in text or end not in text:
    sys.exit("README.md has no %s ... %s markers" % (begin, end))
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(readme, "w", encoding="utf-8").write(head + begin + "\n" + "\n".join(out) + "\n" + end + tail)
print("README.md: %d reliability rows (suite output: %s)" % (len(rows), log))
EOF
exit "$status"
