# The malloc of the server executables.
#
# profilestore_server_allocator(<target>) links jemalloc (Debian package
# libjemalloc-dev) into an executable when PROFILESTORE_JEMALLOC is on, which
# makes it the malloc of the whole process. Why: every storage call of a node
# allocates and frees CAF messages, response promises and records on several
# threads; with glibc's malloc, bursts of session starts spent about a quarter
# of the worker's time growing arenas and faulting pages back in after the
# previous burst had been freed and trimmed. On the 2-core test machine,
# jemalloc raised save-throughput from 42-51k to 70-77k saves/s and lowered
# session-start p99 from 21-25 ms to 14-18 ms (docs/benchmarks, README).
# The libraries never link it: an application keeps its own choice.
# Under the sanitizers it is left out, since they replace malloc themselves.
option(PROFILESTORE_JEMALLOC "Link jemalloc into profilestore-node and profilestore-bench" ON)

if(PROFILESTORE_JEMALLOC AND NOT PROFILESTORE_SANITIZE)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  set(PROFILESTORE_USES_JEMALLOC ON)
else()
  set(PROFILESTORE_USES_JEMALLOC OFF)
endif()

function(profilestore_server_allocator target)
  if(PROFILESTORE_USES_JEMALLOC)
    # --no-as-needed: the executable calls no jemalloc function by name, and
    # a linker that drops unreferenced libraries would drop it.
    target_link_options(${target} PRIVATE "LINKER:--no-as-needed")
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()
