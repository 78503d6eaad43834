# Driver of the consumer tests (CMakeLists.txt beside this file):
#   cmake -DMODE=install|cmake|pkgconfig -DPREFIX=... [...] -P run.cmake
# Every step's failure fails the test with what the step printed.

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(STEP_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  foreach(component Development Runtime)
    run_step("cmake --install (${component})" ${CMAKE_COMMAND} --install ${BUILD_DIR}
             --prefix ${PREFIX} --component ${component})
  endforeach()
  # What an app must never see: core's internal headers (the SQLite wrappers).
  file(GLOB_RECURSE headers RELATIVE ${PREFIX}/include ${PREFIX}/include/*)
  foreach(h IN LISTS headers)
    if(h MATCHES "internal|/sqlite\\.hpp$")
      message(FATAL_ERROR "internal header installed: include/${h}")
    endif()
  endforeach()
  if(NOT EXISTS ${PREFIX}/include/tandem/core/store.hpp)
    message(FATAL_ERROR "public headers missing from ${PREFIX}/include")
  endif()
  list(LENGTH headers n)
  message("installed ${n} headers into ${PREFIX}")

elseif(MODE STREQUAL "cmake")
  file(REMOVE_RECURSE ${WORK})
  run_step("configure" ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK} -G ${GENERATOR}
           -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
           -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=
           "-DCMAKE_CXX_FLAGS=${FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${FLAGS}")
  run_step("build" ${CMAKE_COMMAND} --build ${WORK})
  run_step("run" ${WORK}/consumer ${WORK}/consumer.db)
  message("${STEP_OUTPUT}")

elseif(MODE STREQUAL "pkgconfig")
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK})
  set(ENV{PKG_CONFIG_PATH} ${PREFIX}/${LIBDIR}/pkgconfig)
  run_step("pkg-config" pkg-config --cflags --libs tandem)
  string(STRIP "${STEP_OUTPUT}" pc_flags)
  message("pkg-config --cflags --libs tandem: ${pc_flags}")
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  separate_arguments(extra UNIX_COMMAND "${FLAGS}")
  set(defs "")
  if(EXISTS ${PREFIX}/include/tandem.h)
    set(defs -DTANDEM_CONSUMER_HAVE_CAPI)
  endif()
  run_step("compile" ${CC} -std=c99 -Wall -Wextra -Wpedantic -Werror ${extra} ${defs}
           ${SOURCE}/main.c -o ${WORK}/consumer_c ${pc_flags})
  run_step("run" ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${PREFIX}/${LIBDIR} ${WORK}/consumer_c
           ${WORK}/consumer.db)
  message("${STEP_OUTPUT}")

else()
  message(FATAL_ERROR "MODE must be install, cmake or pkgconfig")
endif()
