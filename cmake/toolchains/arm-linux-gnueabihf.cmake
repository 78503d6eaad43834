# 32-bit ARM Linux, hard float (armhf: older tablets, Raspberry Pi OS 32-bit)
# with Debian's cross compiler g++-arm-linux-gnueabihf; programs run under
# qemu-arm (qemu-user). See debian-cross.cmake and aarch64-linux-gnu.cmake.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(TANDEM_CROSS_TRIPLET arm-linux-gnueabihf)
set(TANDEM_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
# GCC notes at every std::map/std::vector of a by-value iterator that the
# parameter passing changed in GCC 7.1 (-Wpsabi): about mixing objects built
# by GCC < 7, which never happens here; hundreds of lines of noise.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
