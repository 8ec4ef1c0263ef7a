# The distributed build (-DSTRATA_MPI=ON; docs/distributed.md): libstrata_mpi,
# the library's sources compiled again against MPI and HDF5's parallel build
# (Debian: libhdf5-openmpi-dev, pkg-config name hdf5-openmpi) plus lib/mpi/,
# exporting the whole serial API and include/strata_mpi.h's functions; and
# the program strata-mpi (tools/ linked to it), to run under mpirun. The
# serial libstrata and strata of the same tree are untouched: serial and
# parallel HDF5 cannot both be linked into one process, hence two libraries.
find_package(MPI REQUIRED COMPONENTS C)
find_package(PkgConfig REQUIRED)
set(STRATA_HDF5_MPI_PC hdf5-openmpi CACHE STRING
  "pkg-config name of HDF5's parallel build that libstrata_mpi links")
pkg_check_modules(STRATA_HDF5_MPI REQUIRED IMPORTED_TARGET ${STRATA_HDF5_MPI_PC})
if(NOT STRATA_BUILD_SHARED)
  message(FATAL_ERROR "STRATA_MPI builds the shared library libstrata_mpi: STRATA_BUILD_SHARED must be ON")
endif()

file(GLOB STRATA_MPI_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/mpi/*.c)
# The version script: libstrata's (every serial function, STRATA_0.1) and a
# node of its own for strata_mpi.h's functions.
file(READ ${PROJECT_SOURCE_DIR}/lib/strata.map STRATA_MAP_SERIAL)
file(READ ${PROJECT_SOURCE_DIR}/lib/strata_mpi.map STRATA_MAP_MPI)
file(WRITE ${PROJECT_BINARY_DIR}/strata_mpi.map "${STRATA_MAP_SERIAL}\n${STRATA_MAP_MPI}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/lib/strata.map ${PROJECT_SOURCE_DIR}/lib/strata_mpi.map)

add_library(strata_mpi SHARED ${STRATA_LIB_SOURCES} ${STRATA_MPI_SOURCES} ${STRATA_OBJS})
set_target_properties(strata_mpi PROPERTIES VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME strata_mpi C_VISIBILITY_PRESET hidden
  LINK_DEPENDS ${PROJECT_BINARY_DIR}/strata_mpi.map)
target_link_options(strata_mpi PRIVATE "LINKER:--version-script=${PROJECT_BINARY_DIR}/strata_mpi.map")
if(NOT STRATA_SANITIZE)
  target_link_options(strata_mpi PRIVATE "LINKER:--no-undefined")
endif()
target_include_directories(strata_mpi PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}> PRIVATE lib ${STRATA_CBLAS_INCLUDE})
target_compile_definitions(strata_mpi PRIVATE STRATA_BUILDING_LIBRARY STRATA_MPI_BUILD
  STRATA_BLAS_LIBRARY="${STRATA_BLAS_LOADED}")
target_compile_options(strata_mpi PRIVATE ${STRATA_WARNINGS} -O2 -g)
# MPI::MPI_C is PUBLIC: strata_mpi.h names MPI_Comm.
target_link_libraries(strata_mpi PUBLIC MPI::MPI_C PRIVATE PkgConfig::STRATA_HDF5_MPI
  ZLIB::ZLIB OpenMP::OpenMP_C Threads::Threads ${CMAKE_DL_LIBS} m)
add_library(strata::strata_mpi ALIAS strata_mpi)

# Installed beside libstrata (no CMake package of its own yet: its users
# build with mpicc and -lstrata_mpi; docs/distributed.md).
install(TARGETS strata_mpi
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(FILES include/strata_mpi.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

# The all-reduce a distributed iteration makes, timed (docs/distributed.md).
add_executable(bench_mpi_allreduce bench/bench_mpi_allreduce.c)
target_compile_options(bench_mpi_allreduce PRIVATE ${STRATA_WARNINGS} -O2)
target_link_libraries(bench_mpi_allreduce PRIVATE MPI::MPI_C m)
set_target_properties(bench_mpi_allreduce PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
