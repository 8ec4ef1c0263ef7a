# OpenBLAS for the GEMM path. It is not linked but loaded (dlopen) on the
# first GEMM-path fit (lib/kernels/blas.c says why): building needs cblas.h,
# and the library records the file to load, STRATA_BLAS_LOADED.
#
# Found through pkg-config's `openblas` (on Debian its openblas.pc follows the
# libopenblas alternative, the OpenMP build when libopenblas-openmp-dev is
# installed) or else CMake's FindBLAS with BLA_VENDOR=OpenBLAS; never through
# fixed paths. Another OpenBLAS: PKG_CONFIG_PATH, CMAKE_PREFIX_PATH, or
# -DSTRATA_BLAS_RUNTIME=<path or SONAME> for the file loaded at run time
# (the environment variable STRATA_BLAS_LIBRARY still overrides it then).
#
# The OpenMP build is wanted: called inside our OpenMP regions it runs
# single-threaded (no oversubscription, docs/design.md); any other build is
# used with a warning.
set(STRATA_BLAS_RUNTIME "" CACHE STRING
  "OpenBLAS file loaded at run time, a path or a SONAME (empty: the one found at configure time)")

find_package(PkgConfig QUIET)
set(_strata_blas_config "")
if(PKG_CONFIG_FOUND)
  pkg_check_modules(STRATA_PC_OPENBLAS QUIET openblas)
endif()
if(STRATA_PC_OPENBLAS_FOUND)
  pkg_get_variable(_strata_blas_config openblas openblas_config)
  find_library(STRATA_OPENBLAS NAMES openblas HINTS ${STRATA_PC_OPENBLAS_LIBRARY_DIRS}
    NO_DEFAULT_PATH)
  find_path(STRATA_CBLAS_INCLUDE cblas.h HINTS ${STRATA_PC_OPENBLAS_INCLUDE_DIRS}
    NO_DEFAULT_PATH)
endif()
if(NOT STRATA_OPENBLAS)
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS REQUIRED)
  foreach(_strata_item IN LISTS BLAS_LIBRARIES)
    if(_strata_item MATCHES "openblas" AND EXISTS "${_strata_item}")
      set(STRATA_OPENBLAS "${_strata_item}" CACHE FILEPATH "OpenBLAS found by FindBLAS" FORCE)
      break()
    endif()
  endforeach()
  if(NOT STRATA_OPENBLAS)
    message(FATAL_ERROR "FindBLAS (BLA_VENDOR=OpenBLAS) named no OpenBLAS library file: "
      "${BLAS_LIBRARIES}; install OpenBLAS (Debian: libopenblas-openmp-dev)")
  endif()
endif()
# cblas.h: beside the library's own headers when pkg-config named them,
# else wherever the compiler's default search finds it.
get_filename_component(_strata_blas_dir "${STRATA_OPENBLAS}" DIRECTORY)
get_filename_component(_strata_blas_prefix "${_strata_blas_dir}" DIRECTORY)
find_path(STRATA_CBLAS_INCLUDE cblas.h HINTS "${_strata_blas_prefix}/include"
  PATH_SUFFIXES openblas REQUIRED)

if(STRATA_BLAS_RUNTIME)
  set(STRATA_BLAS_LOADED "${STRATA_BLAS_RUNTIME}")
elseif(EXISTS "${_strata_blas_dir}/libopenblas.so.0")
  set(STRATA_BLAS_LOADED "${_strata_blas_dir}/libopenblas.so.0")
else()
  get_filename_component(STRATA_BLAS_LOADED "${STRATA_OPENBLAS}" REALPATH)
endif()
if(_strata_blas_config AND NOT _strata_blas_config MATCHES "USE_OPENMP=1")
  message(WARNING "The OpenBLAS found (${STRATA_OPENBLAS}) is not its OpenMP build: called "
    "inside libstrata's OpenMP regions it may start threads of its own. Debian: install "
    "libopenblas-openmp-dev, or point PKG_CONFIG_PATH at that build's openblas.pc.")
endif()
message(STATUS "OpenBLAS: ${STRATA_BLAS_LOADED}, loaded at run time (cblas.h in ${STRATA_CBLAS_INCLUDE})")
