#!/usr/bin/env bash
# Stripped sizes of the libraries for the README's table (Packaging and ARM):
# x86-64 from build/ci (bash scripts/test.sh builds it), aarch64 from
# build/cross-aarch64 (bash scripts/cross.sh aarch64). Each library is
# stripped as a package would ship it (a copy: the build is left as it is):
# shared objects with --strip-unneeded, static archives of their debug
# information (strip -g; their symbols are needed to link).
#   scripts/lib_sizes.sh   -> one markdown table row per library
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# size LIB STRIP MODE -> "123 KiB" (or "not built")
size() {
  local lib=$1 strip=$2 mode=$3
  if [ ! -e "$lib" ]; then echo "not built"; return; fi
  cp -L "$lib" "$tmp/lib"
  "$strip" "$mode" "$tmp/lib"
  echo "$(( ($(stat -c %s "$tmp/lib") + 512) / 1024 )) KiB"
}

find_lib() { find "$1" -name "$2" -not -path '*/consumer/*' 2>/dev/null | head -1; }

echo "| library | x86-64 | aarch64 |"
echo "|---|---|---|"
for row in "libtandem.so (C API):libtandem.so:--strip-unneeded" \
           "libtandem_core.a:libtandem_core.a:-g" \
           "libtandem_sync.a (no libcurl transport on aarch64):libtandem_sync.a:-g"; do
  IFS=: read -r label name mode <<<"$row"
  x86=$(size "$(find_lib build/ci "$name")" strip "$mode")
  arm=$(size "$(find_lib build/cross-aarch64 "$name")" aarch64-linux-gnu-strip "$mode")
  echo "| $label | $x86 | $arm |"
done
