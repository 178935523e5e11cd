# Installation: headers, libraries and a CMake package, so that an outside
# project can write
#
#   find_package(profilestore REQUIRED)
#   target_link_libraries(app PRIVATE profilestore::store)
#
# The package re-finds the dependencies the static libraries need (LMDB
# through the FindLMDB module installed beside it, msgpack-cxx, nlohmann_json,
# CAF through the FindCAF module).

include(CMakePackageConfigHelpers)

set(PROFILESTORE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/profilestore")

install(TARGETS profilestore_codec profilestore_store profilestore_actors
  EXPORT profilestoreTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY codec/include/ store/include/ actors/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT profilestoreTargets
  NAMESPACE profilestore::
  DESTINATION ${PROFILESTORE_INSTALL_CMAKEDIR})

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/profilestoreConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/profilestoreConfig.cmake"
  INSTALL_DESTINATION ${PROFILESTORE_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/profilestoreConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/profilestoreConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/profilestoreConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/FindLMDB.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/FindCAF.cmake"
  DESTINATION ${PROFILESTORE_INSTALL_CMAKEDIR})
