#!/usr/bin/env bash
# libtandem.so exports exactly the C API: every symbol it defines is a
# tandem_* function declared TANDEM_API in tandem.h, and every one of those
# is exported.  check_exports.sh LIBTANDEM.SO TANDEM.H
set -euo pipefail
lib=$1 header=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtDdBbRrVvWw]$/ {print $3}' | sort -u)
declared=$(tr '\n' ' ' <"$header" | grep -o 'TANDEM_API[^(;]*(' | grep -o 'tandem_[a-z_0-9]*[[:space:]]*($' |
  sed 's/[[:space:]]*($//' | sort -u)
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
echo "libtandem.so: $(echo "$exported" | wc -l) symbols exported, $(echo "$declared" | wc -l) declared in tandem.h"
if [ -n "$extra" ]; then echo "exported but not in tandem.h:"; echo "$extra" | head -20; fi
if [ -n "$missing" ]; then echo "in tandem.h but not exported:"; echo "$missing"; fi
[ -z "$extra" ] && [ -z "$missing" ]
