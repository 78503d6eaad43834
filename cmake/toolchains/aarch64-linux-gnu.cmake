# 64-bit ARM Linux (phones, tablets, Raspberry Pi OS 64-bit) with Debian's
# cross compiler g++-aarch64-linux-gnu; programs run under qemu-aarch64
# (qemu-user). See debian-cross.cmake; scripts/cross.sh uses it:
#   cmake -S . -B build/cross-aarch64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#     -DTANDEM_BUILD_SERVER=OFF -DTANDEM_BUILD_CLI=OFF -DTANDEM_WITH_CURL=OFF
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TANDEM_CROSS_TRIPLET aarch64-linux-gnu)
set(TANDEM_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
