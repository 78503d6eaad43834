# Shared part of the toolchain files beside this one: Debian's cross
# compilers (g++-<triplet>), the target's libraries from Debian's multiarch
# -dev packages, tests run under qemu-user. The including file sets
# CMAKE_SYSTEM_PROCESSOR, TANDEM_CROSS_TRIPLET and TANDEM_CROSS_QEMU.
#
# Where the target's libraries are found, in this order:
#  - TANDEM_CROSS_SYSROOT (cache variable or environment): a folder where
#    the target's -dev packages were unpacked (scripts/cross.sh unpacks
#    libsqlite3-dev and libsodium-dev there, which changes nothing on the machine);
#  - the cross compiler's own folder /usr/<triplet> (C and C++ runtime);
#  - / with CMAKE_LIBRARY_ARCHITECTURE: Debian's multiarch folders
#    (/usr/lib/<triplet>, e.g. after `dpkg --add-architecture arm64` and
#    `apt-get install libsqlite3-dev:arm64`). Host libraries live in
#    /usr/lib/x86_64-linux-gnu and are never searched; arch-independent
#    CMake packages (nlohmann_json, Catch2, CLI11: header-only) are found
#    in /usr/share/cmake and /usr/lib/cmake, and Debian's cross compilers
#    search /usr/include after their own headers.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${TANDEM_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${TANDEM_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${TANDEM_CROSS_TRIPLET})

if(NOT TANDEM_CROSS_SYSROOT AND DEFINED ENV{TANDEM_CROSS_SYSROOT})
  set(TANDEM_CROSS_SYSROOT "$ENV{TANDEM_CROSS_SYSROOT}")
endif()
# try_compile projects read this file again: hand them the variable.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TANDEM_CROSS_SYSROOT)
set(CMAKE_FIND_ROOT_PATH ${TANDEM_CROSS_SYSROOT} /usr/${TANDEM_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libsodium) reads the target's .pc files only, never the
# host's: the sysroot's (paths prefixed with it), else the multiarch ones.
if(TANDEM_CROSS_SYSROOT)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${TANDEM_CROSS_SYSROOT}")
  set(ENV{PKG_CONFIG_LIBDIR}
      "${TANDEM_CROSS_SYSROOT}/usr/lib/${TANDEM_CROSS_TRIPLET}/pkgconfig:${TANDEM_CROSS_SYSROOT}/usr/share/pkgconfig")
else()
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${TANDEM_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
endif()

# ctest and Catch2's test discovery run the target's programs through qemu;
# -L: the target's dynamic loader and C/C++ runtime of the cross compiler.
set(CMAKE_CROSSCOMPILING_EMULATOR ${TANDEM_CROSS_QEMU} -L /usr/${TANDEM_CROSS_TRIPLET})
