# Compile options shared by every profilestore target.
#
# profilestore_target_defaults(<target>) turns on the warning set the project
# keeps clean (-Wall -Wextra and a few more), and the sanitizers when
# PROFILESTORE_SANITIZE is on.

add_library(profilestore_compile_options INTERFACE)
target_compile_options(profilestore_compile_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
if(PROFILESTORE_WERROR)
  target_compile_options(profilestore_compile_options INTERFACE -Werror)
endif()
if(PROFILESTORE_SANITIZE)
  target_compile_options(profilestore_compile_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(profilestore_compile_options INTERFACE
    -fsanitize=address,undefined)
endif()

function(profilestore_target_defaults target)
  target_link_libraries(${target} PRIVATE
    $<BUILD_INTERFACE:profilestore_compile_options>)
endfunction()
