# simdjson for the Lambda package and the arm64 build: compiled from its single-file source as a static library.
# Debian ships simdjson only as a shared library that needs libstdc++.so.6, and Debian's libstdc++ references
# GLIBC_2.36 (arc4random), which provided.al2023 (glibc 2.34) lacks; linked statically, simdjson shares the
# executable's static libstdc++ instead. The source (pinned by hash) is put in place by scripts/setup.
if(TARGET simdjson::simdjson)
  return()
endif()
include("${CMAKE_CURRENT_LIST_DIR}/../deps_dir.cmake")
set(simdjson_VERSION 3.1.0)
set(TARIUS_SIMDJSON_SOURCE_DIR "${TARIUS_DEPS_DIR}/simdjson-3.1.0-wmelon1"
    CACHE PATH "simdjson single-file source (simdjson.h, simdjson.cpp), installed by scripts/setup")
if(NOT EXISTS "${TARIUS_SIMDJSON_SOURCE_DIR}/simdjson.cpp")
  set(simdjson_FOUND FALSE)
  set(simdjson_NOT_FOUND_MESSAGE "no ${TARIUS_SIMDJSON_SOURCE_DIR}/simdjson.cpp: run scripts/setup")
  return()
endif()
find_package(Threads REQUIRED)
add_library(tarius_simdjson STATIC "${TARIUS_SIMDJSON_SOURCE_DIR}/simdjson.cpp")
target_include_directories(tarius_simdjson SYSTEM PUBLIC "${TARIUS_SIMDJSON_SOURCE_DIR}")
# Debian's build enables threads (parse_many's worker thread); keep the same API.
target_compile_definitions(tarius_simdjson PUBLIC SIMDJSON_THREADS_ENABLED=1)
target_compile_features(tarius_simdjson PUBLIC cxx_std_17)
target_link_libraries(tarius_simdjson PUBLIC Threads::Threads)
set_target_properties(tarius_simdjson PROPERTIES POSITION_INDEPENDENT_CODE ON)
add_library(simdjson::simdjson ALIAS tarius_simdjson)
set(simdjson_FOUND TRUE)
