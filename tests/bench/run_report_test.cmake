# Runs profilestore-bench --scenario codec --quick --report OUT and checks
# that report.md (with its table and machine) and a PNG chart are there.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${BENCH} --scenario codec --quick --report ${OUT}
  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "profilestore-bench exited ${rc}: ${err}")
endif()
if(NOT EXISTS ${OUT}/report.md)
  message(FATAL_ERROR "no report.md in ${OUT}")
endif()
file(READ ${OUT}/report.md md)
# ALLOCATOR: what the build linked as the bench's malloc ("jemalloc" or
# "glibc malloc"), so a build that meant to link jemalloc and did not fails.
foreach(part "| scenario | figure | value | baseline | ratio | target | met |"
             "| codec | encode 1 KiB value" "| CPU |" "| cores |"
             "| allocator | ${ALLOCATOR}" "codec-ratios.png")
  string(FIND "${md}" "${part}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "report.md lacks '${part}':\n${md}")
  endif()
endforeach()
file(GLOB pngs ${OUT}/*.png)
if(NOT pngs)
  message(FATAL_ERROR "no PNG chart in ${OUT}")
endif()
file(READ ${OUT}/codec-ratios.png head LIMIT 8 HEX)
if(NOT head STREQUAL "89504e470d0a1a0a")
  message(FATAL_ERROR "codec-ratios.png is not a PNG (starts ${head})")
endif()
# The script names its files relative to the report folder, so a report
# moved elsewhere (docs/benchmarks) can be drawn again there.
file(READ ${OUT}/codec-ratios.gp gp)
foreach(part "set output 'codec-ratios.png'" "plot 'codec-ratios.dat'")
  string(FIND "${gp}" "${part}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "codec-ratios.gp lacks \"${part}\":\n${gp}")
  endif()
endforeach()
string(FIND "${gp}" "${OUT}" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "codec-ratios.gp names the report folder:\n${gp}")
endif()
