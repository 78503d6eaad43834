# cmake --install [--prefix P]: the public headers, the static libraries, the
# C API's libtandem.so when it is built, the CMake package
# (find_package(tandem): tandem::core, tandem::sync, tandem::capi) and
# tandem.pc for pkg-config. Both are relocatable: `--prefix` is chosen at
# install time. core/src/internal (the SQLite wrappers) is never installed:
# apps see no SQLite.
include(CMakePackageConfigHelpers)

set(TANDEM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tandem)

# Components: Development (headers, static libraries, package files),
# Runtime (libtandem.so), Programs (the CLI and the server).
install(DIRECTORY core/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development)
if(TANDEM_WITH_CURL)
  install(DIRECTORY sync/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development)
else()
  install(DIRECTORY sync/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development
          PATTERN curl_transport.hpp EXCLUDE)
endif()

# Exported names: tandem::core, tandem::sync, tandem::capi (static) and
# tandem::capi_shared (libtandem.so). tandem::options only carries the
# sanitizer link flags of a sanitized build (its compile flags are ours).
set_target_properties(tandem_core PROPERTIES EXPORT_NAME core)
set_target_properties(tandem_sync PROPERTIES EXPORT_NAME sync)
set_target_properties(tandem_options PROPERTIES EXPORT_NAME options)
set(TANDEM_INSTALL_TARGETS tandem_core tandem_sync tandem_options)
set(TANDEM_HAVE_CAPI OFF)
if(TARGET tandem_capi)
  set_target_properties(tandem_capi PROPERTIES EXPORT_NAME capi)
  list(APPEND TANDEM_INSTALL_TARGETS tandem_capi)
  set(TANDEM_HAVE_CAPI ON)
endif()
if(TARGET tandem_capi_shared)
  set_target_properties(tandem_capi_shared PROPERTIES EXPORT_NAME capi_shared)
  list(APPEND TANDEM_INSTALL_TARGETS tandem_capi_shared)
  set(TANDEM_HAVE_CAPI ON)
endif()
if(TANDEM_HAVE_CAPI)
  install(DIRECTORY platform/capi/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT Development)
endif()

install(TARGETS ${TANDEM_INSTALL_TARGETS} EXPORT tandemTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime
                NAMELINK_COMPONENT Development
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime)
install(EXPORT tandemTargets NAMESPACE tandem:: DESTINATION ${TANDEM_INSTALL_CMAKEDIR}
        COMPONENT Development)
configure_package_config_file(cmake/tandemConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tandemConfig.cmake
  INSTALL_DESTINATION ${TANDEM_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tandemConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tandemConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/tandemConfigVersion.cmake
        DESTINATION ${TANDEM_INSTALL_CMAKEDIR} COMPONENT Development)

# tandem.pc: the C API for C programs (-ltandem = libtandem.so). Its prefix is
# found from the .pc file's own place (${pcfiledir}), so it stays right
# whatever --prefix the install was given. Until the C API is built, it
# names the static C++ libraries instead.
file(RELATIVE_PATH TANDEM_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
set(TANDEM_PC_REQUIRES_PRIVATE "sqlite3 libsodium")
if(TANDEM_WITH_CURL)
  string(APPEND TANDEM_PC_REQUIRES_PRIVATE " libcurl openssl")
endif()
if(TARGET tandem_capi_shared)
  set(TANDEM_PC_LIBS "-ltandem")
  set(TANDEM_PC_LIBS_PRIVATE "")
else()
  # TODO(capi): drop this branch once platform/capi builds libtandem.so.
  set(TANDEM_PC_LIBS "-ltandem_sync -ltandem_core")
  set(TANDEM_PC_LIBS_PRIVATE "-lstdc++")
endif()
configure_file(cmake/tandem.pc.in ${CMAKE_CURRENT_BINARY_DIR}/tandem.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tandem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT Development)
