# FindCAF: locate the C++ Actor Framework 0.17 (Debian: libcaf-dev), which
# ships neither a CMake package nor a pkg-config file.
#
# Components: core (always), io, openssl. Defines imported targets CAF::core,
# CAF::io and CAF::openssl, and CAF_FOUND, CAF_INCLUDE_DIR, CAF_VERSION.

find_path(CAF_INCLUDE_DIR NAMES caf/config.hpp)
if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line
       REGEX "#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE ".*#define CAF_VERSION ([0-9]+).*" "\\1" _caf_v
         "${_caf_version_line}")
  math(EXPR _caf_major "${_caf_v} / 10000")
  math(EXPR _caf_minor "(${_caf_v} / 100) % 100")
  math(EXPR _caf_patch "${_caf_v} % 100")
  set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
endif()

set(_caf_required_vars CAF_INCLUDE_DIR)
set(_caf_components core ${CAF_FIND_COMPONENTS})
list(REMOVE_DUPLICATES _caf_components)
foreach(_comp IN LISTS _caf_components)
  find_library(CAF_${_comp}_LIBRARY NAMES caf_${_comp})
  mark_as_advanced(CAF_${_comp}_LIBRARY)
  if(CAF_${_comp}_LIBRARY)
    set(CAF_${_comp}_FOUND TRUE)
  endif()
endforeach()
list(APPEND _caf_required_vars CAF_core_LIBRARY)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS ${_caf_required_vars}
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS)

if(CAF_FOUND)
  find_package(Threads REQUIRED)
  foreach(_comp IN LISTS _caf_components)
    if(CAF_${_comp}_FOUND AND NOT TARGET CAF::${_comp})
      add_library(CAF::${_comp} UNKNOWN IMPORTED)
      set_target_properties(CAF::${_comp} PROPERTIES
        IMPORTED_LOCATION "${CAF_${_comp}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
      if(NOT _comp STREQUAL "core")
        set_property(TARGET CAF::${_comp} APPEND PROPERTY
          INTERFACE_LINK_LIBRARIES CAF::core)
      endif()
    endif()
  endforeach()
  set_property(TARGET CAF::core APPEND PROPERTY
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(CAF_INCLUDE_DIR)
