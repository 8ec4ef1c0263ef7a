# Installation: the libraries, the headers, a CMake package (find_package:
# strataConfig.cmake, strataConfigVersion.cmake, one export set per kind of
# library) and a pkg-config file (strata.pc). Paths from GNUInstallDirs, so
# -DCMAKE_INSTALL_PREFIX=/usr on Debian gives lib/<multiarch>. The program is
# installed by tools/CMakeLists.txt. docs/using.md tells users how to find it.
include(CMakePackageConfigHelpers)

set(STRATA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/strata CACHE STRING
  "Where strataConfig.cmake is installed, relative to the prefix")
mark_as_advanced(STRATA_CMAKE_DIR)

if(STRATA_BUILD_SHARED)
  install(TARGETS strata EXPORT strata-shared-targets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT strata-shared-targets NAMESPACE strata:: DESTINATION ${STRATA_CMAKE_DIR}
    COMPONENT dev)
endif()
if(STRATA_BUILD_STATIC)
  install(TARGETS strata_static EXPORT strata-static-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT strata-static-targets NAMESPACE strata:: DESTINATION ${STRATA_CMAKE_DIR}
    COMPONENT dev)
endif()
install(FILES include/strata.h ${PROJECT_BINARY_DIR}/include/strata_version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

# strataConfigVersion.cmake: SameMajorVersion, the rule the SONAME
# (libstrata.so.MAJOR) and strata.h's contract state: backward compatible
# within one major version, 0.x included (find_package(strata 0.1) accepts
# 0.3, not 1.0). docs/using.md.
configure_package_config_file(cmake/strataConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/strataConfig.cmake INSTALL_DESTINATION ${STRATA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/strataConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/strataConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/strataConfigVersion.cmake
  DESTINATION ${STRATA_CMAKE_DIR} COMPONENT dev)

# strata.pc. Libs.private and Requires.private: what `pkg-config --static`
# adds for libstrata.a, the same dependencies as the static target's.
set(STRATA_PC_REQUIRES_PRIVATE "")
set(libs "")
# Debian's hdf5.pc is an alternative that libhdf5-openmpi-dev points at the
# MPI build of HDF5; libstrata links the serial one (FindHDF5's), so name it
# as hdf5-serial where that exists (Debian, Ubuntu), else as hdf5.
if(PKG_CONFIG_FOUND)
  pkg_check_modules(STRATA_PC_HDF5 QUIET hdf5-serial)
  if(STRATA_PC_HDF5_FOUND)
    set(STRATA_PC_HDF5_NAME hdf5-serial)
  else()
    pkg_check_modules(STRATA_PC_HDF5 QUIET hdf5)
    set(STRATA_PC_HDF5_NAME hdf5)
  endif()
endif()
if(STRATA_PC_HDF5_FOUND)
  set(STRATA_PC_REQUIRES_PRIVATE "${STRATA_PC_HDF5_NAME}")
else()
  list(APPEND libs ${HDF5_C_LIBRARIES})
endif()
if(PKG_CONFIG_FOUND)
  pkg_check_modules(STRATA_PC_ZLIB QUIET zlib)
endif()
if(STRATA_PC_ZLIB_FOUND)
  string(APPEND STRATA_PC_REQUIRES_PRIVATE " zlib")
else()
  list(APPEND libs -lz)
endif()
# OpenMP by its run-time library (libgomp with gcc), not a compiler flag, so
# that any compiler can link it; then Threads, dl and libm.
foreach(lib IN LISTS OpenMP_C_LIB_NAMES CMAKE_DL_LIBS ITEMS pthread m)
  list(APPEND libs -l${lib})
endforeach()
list(REMOVE_DUPLICATES libs)
list(JOIN libs " " STRATA_PC_LIBS_PRIVATE)
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(STRATA_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(STRATA_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
# The prefix is the one installed to (cmake --install --prefix may change it
# after configuring): written at install time.
set(STRATA_PC_PREFIX "@STRATA_PC_PREFIX@")
configure_file(cmake/strata.pc.in ${PROJECT_BINARY_DIR}/cmake/strata.pc.in @ONLY)
install(CODE "set(STRATA_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/cmake/strata.pc.in\"
    \"${PROJECT_BINARY_DIR}/cmake/strata.pc\" @ONLY)" COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/cmake/strata.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
