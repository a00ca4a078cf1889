# libcurl for the Lambda package and the release CLI (presets inheriting `static-network`): the static
# HTTP(S)-only build of Debian's curl source that scripts/setup makes (scripts/build_static_curl) in
# TARIUS_DEPS_DIR/curl-<arch>, linked with static OpenSSL (the preset sets OPENSSL_USE_STATIC_LIBS). Debian's shared
# libcurl4 brings 30-odd libraries (HTTP/2, IDN, LDAP, SSH, Kerberos, ...) into every process start.
if(TARGET CURL::libcurl)
  return()
endif()
include("${CMAKE_CURRENT_LIST_DIR}/../deps_dir.cmake")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(_tarius_curl_root "${TARIUS_DEPS_DIR}/curl-arm64")
else()
  set(_tarius_curl_root "${TARIUS_DEPS_DIR}/curl-x86_64")
endif()
if(NOT EXISTS "${_tarius_curl_root}/lib/cmake/CURL/CURLConfig.cmake")
  set(CURL_FOUND FALSE)
  set(CURL_NOT_FOUND_MESSAGE "no static libcurl in ${_tarius_curl_root}: run scripts/setup")
  return()
endif()
include("${_tarius_curl_root}/lib/cmake/CURL/CURLConfig.cmake")
# The threaded resolver needs pthreads, which curl's exported target leaves out.
find_package(Threads REQUIRED)
set_property(TARGET CURL::libcurl APPEND PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
file(READ "${_tarius_curl_root}/.version" CURL_VERSION)
string(STRIP "${CURL_VERSION}" CURL_VERSION)
