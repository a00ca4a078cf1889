# Self-contained executables (TARIUS_STATIC=ON: presets lambda-x86_64, lambda-arm64 and release), above all the Lambda
# deployment package (issue 5): `bootstrap`, zipped reproducibly by scripts/package. provided.al2023 has glibc 2.34
# while we build on Debian 12 (glibc 2.36), and every shared library mapped at start-up costs cold-start time, so
# `bootstrap` and `tarius` in such a build
#  - link every dependency statically except glibc: libcurl (a minimal HTTP(S)-only build, cmake/package/curl),
#    OpenSSL, zlib, zstd, simdjson and yaml-cpp (cmake/package/*), and libstdc++/libgcc (Debian's shared ones
#    reference GLIBC_2.35/2.36);
#  - define the two newer glibc functions the static runtime calls (cmake/package/glibc_compat.cpp);
#  - are not position independent (see tarius_package_executable).
# scripts/package still bundles any non-glibc shared library the executable would need under lib/ (none today) and
# then insists on DT_RPATH $ORIGIN/lib; a package without lib/ needs no RPATH and saves the loader the look-ups.

# The package's architecture name (Lambda's): x86_64 or arm64.
function(tarius_lambda_arch out processor)
  if(processor MATCHES "^(aarch64|arm64|ARM64)$")
    set(${out} arm64 PARENT_SCOPE)
  else()
    set(${out} x86_64 PARENT_SCOPE)
  endif()
endfunction()

# Applies the package's link options to an executable (tarius_lambda; the CLI too, so tests can run the same
# library closure through a real code path).
function(tarius_package_executable target)
  target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/package/glibc_compat.cpp)
  # Not position independent: a PIE this size carries ~23,000 relative relocations that the loader applies at every
  # cold start (copy-on-write page faults), which was most of the remaining start-up time.
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc -no-pie)
endfunction()

if(TARIUS_STATIC)
  tarius_package_executable(tarius_lambda)
  tarius_package_executable(tarius_cli)
  tarius_lambda_arch(TARIUS_PACKAGE_ARCH "${CMAKE_SYSTEM_PROCESSOR}")
  # In a self-contained build: zip this build's bootstrap (building it first), without reconfiguring.
  add_custom_target(package
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/package --arch ${TARIUS_PACKAGE_ARCH} --build-dir ${PROJECT_BINARY_DIR}
            --output ${PROJECT_SOURCE_DIR}/build/package/tarius-lambda-${TARIUS_PACKAGE_ARCH}.zip
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    USES_TERMINAL
    COMMENT "Lambda package for ${TARIUS_PACKAGE_ARCH}")
  add_dependencies(package tarius_lambda)
else()
  # From any other build (dev, asan, ...): scripts/package configures and builds the lambda-<host arch>
  # preset in its own directory.
  tarius_lambda_arch(TARIUS_PACKAGE_ARCH "${CMAKE_HOST_SYSTEM_PROCESSOR}")
  add_custom_target(package
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/package --arch ${TARIUS_PACKAGE_ARCH}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    USES_TERMINAL
    COMMENT "Lambda package for ${TARIUS_PACKAGE_ARCH} (preset lambda-${TARIUS_PACKAGE_ARCH})")
endif()
