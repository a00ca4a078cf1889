# yaml-cpp for the Lambda package and the arm64 build: Debian's static libyaml-cpp.a, so the executable carries no
# shared C++ library (which would need libstdc++.so.6; see ../simdjson/simdjson-config.cmake). For arm64 the
# library comes from libyaml-cpp-dev:arm64 unpacked by scripts/setup (it cannot be installed beside the host's).
if(TARGET yaml-cpp)
  return()
endif()
include("${CMAKE_CURRENT_LIST_DIR}/../deps_dir.cmake")
set(yaml-cpp_VERSION 0.7.0)
find_library(TARIUS_YAML_CPP_STATIC NAMES libyaml-cpp.a
             PATHS "${TARIUS_DEPS_DIR}/${CMAKE_LIBRARY_ARCHITECTURE}/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}"
             NO_CMAKE_FIND_ROOT_PATH)
find_path(TARIUS_YAML_CPP_INCLUDE_DIR yaml-cpp/yaml.h
          PATHS "${TARIUS_DEPS_DIR}/${CMAKE_LIBRARY_ARCHITECTURE}/usr/include" NO_CMAKE_FIND_ROOT_PATH)
if(NOT TARIUS_YAML_CPP_STATIC OR NOT TARIUS_YAML_CPP_INCLUDE_DIR)
  set(yaml-cpp_FOUND FALSE)
  set(yaml-cpp_NOT_FOUND_MESSAGE "no static libyaml-cpp.a for ${CMAKE_LIBRARY_ARCHITECTURE}: run scripts/setup")
  return()
endif()
add_library(yaml-cpp STATIC IMPORTED)
set_target_properties(yaml-cpp PROPERTIES IMPORTED_LOCATION "${TARIUS_YAML_CPP_STATIC}"
                      INTERFACE_INCLUDE_DIRECTORIES "${TARIUS_YAML_CPP_INCLUDE_DIR}")
set(yaml-cpp_FOUND TRUE)
