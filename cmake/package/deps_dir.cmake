# TARIUS_DEPS_DIR: where scripts/setup keeps the build inputs Debian cannot install side by side (the simdjson source,
# the arm64 yaml-cpp, the static libcurl): the CMake variable, else the environment variable, else /opt/tarius-deps.
if(NOT TARIUS_DEPS_DIR)
  if(DEFINED ENV{TARIUS_DEPS_DIR})
    set(TARIUS_DEPS_DIR "$ENV{TARIUS_DEPS_DIR}")
  else()
    set(TARIUS_DEPS_DIR /opt/tarius-deps)
  endif()
endif()
