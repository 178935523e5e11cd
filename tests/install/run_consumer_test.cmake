# Installs the build tree into a fresh prefix, then configures, builds and
# runs tests/install/consumer against it. Variables: BUILD_DIR, SOURCE_DIR,
# WORK_DIR, CONFIG, CXX_FLAGS (the sanitizer flags when the build has them).
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${step}: ok")
endfunction()

run("install" ${CMAKE_COMMAND} --install "${BUILD_DIR}"
    --prefix "${WORK_DIR}/prefix" --config "${CONFIG}")
run("configure consumer" ${CMAKE_COMMAND} -S "${SOURCE_DIR}"
    -B "${WORK_DIR}/build" "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_BUILD_TYPE=${CONFIG}")
run("build consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("run consumer" "${WORK_DIR}/build/consumer")
