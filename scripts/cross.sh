#!/usr/bin/env bash
# ARM cross builds, tested under qemu-user: the core, sync and C API suites
# (ctest labels unit, property, capi, and fuzz: the fuzz targets' corpora
# replayed, the sync protocol's decoder among them) cross-built with Debian's cross
# compilers (cmake/toolchains/) and run under qemu-aarch64 / qemu-arm.
# Prints exactly one summary line per architecture on stdout:
#   cross aarch64: N passed, 0 failed
#   cross armhf: N passed, 0 failed     (or: cross armhf: skipped (<reason>))
# A failing cross test fails this script; a package mirror that refuses an
# architecture's indexes makes it skip that architecture instead (aarch64
# never skips). Installs what it needs (like deps.sh: apt-get, sudo when not
# root, idempotent, quiet) and changes nothing in the machine's apt set-up:
# the target's SQLite comes from `apt-get download` with apt lists of its
# own (build/cross-sysroot/<arch>/apt), unpacked into
# build/cross-sysroot/<arch> (the toolchain's TANDEM_CROSS_SYSROOT).
#   scripts/cross.sh [ARCH...]   (default: aarch64 armhf; TANDEM_CROSS_ARCHS too)
# Uses ccache when it is on PATH (CCACHE_BASEDIR: the checkout, so that
# another clone of the repository hits the same cache).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARCHS=("$@")
# The native build whose server and e2e test run the cross-built C story.
NATIVE_BUILD=${TANDEM_NATIVE_BUILD:-$ROOT/build/ci}
if [ ${#ARCHS[@]} -eq 0 ]; then read -r -a ARCHS <<<"${TANDEM_CROSS_ARCHS:-aarch64 armhf}"; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { echo "cross: $*" >&2; }

# Debian's names for an architecture: dpkg's, the toolchain triplet.
arch_info() {
  case $1 in
    aarch64) DEB_ARCH=arm64 TRIPLET=aarch64-linux-gnu QEMU=qemu-aarch64 ;;
    armhf) DEB_ARCH=armhf TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm ;;
    *) log "unknown architecture '$1' (aarch64, armhf)"; return 1 ;;
  esac
}

# The target's libsqlite3-dev and libsodium-dev unpacked into the sysroot (once; the stamp names
# the packages' versions). Private apt lists: an architecture the machine does
# not have configured, and an index the mirror refuses, touch nothing else.
# Fails (returns 1, reason in SKIP_REASON) when the packages cannot be had.
sysroot_sqlite() {
  local dir=$1 apt=$1/apt
  if [ -f "$dir/.sqlite-stamp" ] && [ -e "$dir/usr/lib/$TRIPLET/libsqlite3.so" ] &&
     [ -e "$dir/usr/lib/$TRIPLET/libsodium.so" ]; then return 0; fi
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  local opts=(-q -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
              -o "APT::Architecture=$DEB_ARCH" -o "APT::Architectures::=$DEB_ARCH"
              -o "APT::Sandbox::User=root")
  # apt-get update exits 100 when any index fails (for armhf the mirror
  # often refuses the security suite's index, "File has unexpected size"):
  # the indexes it did get may still serve the packages.
  if ! apt-get "${opts[@]}" update >"$apt/update.log" 2>&1; then
    log "$DEB_ARCH: apt-get update (private lists) failed in part: $(grep -m1 '^E:' "$apt/update.log" || true)"
  fi
  rm -f "$apt/debs"/*.deb
  if ! (cd "$apt/debs" && apt-get "${opts[@]}" download "libsqlite3-0:$DEB_ARCH" \
          "libsqlite3-dev:$DEB_ARCH" "libsodium23:$DEB_ARCH" "libsodium-dev:$DEB_ARCH" \
          >"$apt/download.log" 2>&1); then
    SKIP_REASON="the package mirror served no libsqlite3-dev/libsodium-dev:$DEB_ARCH: $(grep -m1 '^E:' "$apt/download.log" || echo 'apt-get download failed')"
    return 1
  fi
  for deb in "$apt/debs"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
  (cd "$apt/debs" && ls) >"$dir/.sqlite-stamp"
}

# Configure, build the suites, run them under qemu; sets SUMMARY.
cross_arch() {
  local arch=$1 build=$ROOT/build/cross-$1 sysroot=$ROOT/build/cross-sysroot/$1
  arch_info "$arch" || return 1
  SKIP_REASON=""
  SUMMARY="cross $arch: failed (see above)"
  # The cross compiler and qemu: required for aarch64; for armhf a package
  # that cannot be installed is a skip.
  if ! bash scripts/deps.sh "g++-$TRIPLET" qemu-user ccache >&2; then
    if [ "$arch" = aarch64 ]; then log "cannot install g++-$TRIPLET/qemu-user"; return 1; fi
    SUMMARY="cross $arch: skipped (g++-$TRIPLET or qemu-user could not be installed)"
    return 0
  fi
  if [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null; then
    export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}" CCACHE_NOHASHDIR=1
  fi
  if ! sysroot_sqlite "$sysroot"; then
    if [ "$arch" = aarch64 ]; then log "$SKIP_REASON"; return 1; fi
    SUMMARY="cross $arch: skipped ($SKIP_REASON)"
    return 0
  fi
  # No server (Boost), no CLI, no libcurl: the host brings its transport.
  mkdir -p "$build"
  cmake -S . -B "$build" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/$TRIPLET.cmake" \
    -DTANDEM_CROSS_SYSROOT="$sysroot" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
    -DTANDEM_WERROR=ON -DTANDEM_BUILD_SERVER=OFF -DTANDEM_BUILD_CLI=OFF -DTANDEM_WITH_CURL=OFF \
    >"$build/cross-configure.log" 2>&1 || { cat "$build/cross-configure.log" >&2; return 1; }
  # The suites that exist in this checkout (the C API's land with it). The
  # list is read once: `grep -q` in a pipe would SIGPIPE cmake (pipefail).
  local targets=(tandem_sync tandem_unit_tests tandem_property_tests) known
  known=$(cmake --build "$build" --target help 2>/dev/null)
  for t in fuzz_sync_protocol fuzz_bundle fuzz_text_ops fuzz_text_state \
           tandem_capi_tests tandem_capi_story tandem_capi_shared; do
    if grep -q "^$t:" <<<"$known"; then targets+=("$t"); fi
  done
  cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >"$build/cross-build.log" 2>&1 ||
    { tail -50 "$build/cross-build.log" >&2; return 1; }
  # Every test of the suites under qemu; the property tests run 50 histories
  # in a cross build (tests/CMakeLists.txt; TANDEM_HISTORIES overrides).
  local out=$build/cross-ctest.log rc=0
  ctest --test-dir "$build" -L '^(unit|property|capi|fuzz)$' -j "$(nproc)" --timeout 900 \
    --output-on-failure >"$out" 2>&1 || rc=$?
  local total failed
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$out")
  failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$out")
  if [ -z "$total" ] || [ "$total" -eq 0 ]; then
    tail -30 "$out" >&2
    log "$arch: no test ran"
    return 1
  fi
  if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then grep -v '^\s*$' "$out" | tail -60 >&2; fi
  # The plain-C story (tests/capi/c/story.c) of this architecture against a
  # real server: the native e2e test starts tandem-server and runs the
  # cross-built program under qemu (needs the native build, $NATIVE_BUILD).
  local story=$build/tests/capi/c/tandem_capi_story e2e=$NATIVE_BUILD/tests/tandem_e2e_tests
  if [ -x "$story" ] && [ -x "$e2e" ] && [ -x "$NATIVE_BUILD/server/tandem-server" ]; then
    total=$((total + 1))
    if TANDEM_CAPI_STORY_CMD="$(command -v "$QEMU") -L /usr/$TRIPLET $story" "$e2e" "[capi]" >"$build/cross-story.log" 2>&1; then
      log "$arch: the C story passed under $QEMU against the native server"
    else
      failed=$((failed + 1))
      rc=1
      tail -40 "$build/cross-story.log" >&2
    fi
  else
    log "$arch: C story not run (no native build at $NATIVE_BUILD: run the ci preset first)"
  fi
  SUMMARY="cross $arch: $((total - failed)) passed, $failed failed"
  [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
}

status=0
for arch in "${ARCHS[@]}"; do
  t0=$SECONDS
  SUMMARY="cross $arch: failed (see above)"
  cross_arch "$arch" || status=1
  echo "$SUMMARY"
  log "$arch took $((SECONDS - t0)) s"
done
exit $status
