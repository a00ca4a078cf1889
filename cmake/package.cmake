# The Lambda deployment package (issue 5): `bootstrap` plus the shared libraries it needs, zipped reproducibly
# by scripts/package. provided.al2023 has glibc 2.34 while we build on Debian 12 (glibc 2.36), so the package build
# (presets lambda-x86_64, lambda-arm64: TARIUS_LAMBDA_PACKAGE=ON)
#  - links libstdc++ and libgcc statically (Debian's shared ones reference GLIBC_2.35/2.36), with simdjson and
#    yaml-cpp static too (cmake/package/*/…-config.cmake) so no shared C++ library is left;
#  - defines the two newer glibc functions the static runtime calls (cmake/package/glibc_compat.cpp);
#  - sets DT_RPATH (not RUNPATH: DT_RPATH also applies to the bundled libraries' own dependencies) to
#    $ORIGIN/lib, where scripts/package copies every non-glibc library of the dependency closure.
option(TARIUS_LAMBDA_PACKAGE "Link tarius_lambda for the Lambda package (static C++ runtime, RPATH \$ORIGIN/lib)" OFF)

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
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc LINKER:--disable-new-dtags)
  set_target_properties(${target} PROPERTIES BUILD_RPATH "\$ORIGIN/lib" INSTALL_RPATH "\$ORIGIN/lib"
                                             BUILD_WITH_INSTALL_RPATH OFF)
endfunction()

if(TARIUS_LAMBDA_PACKAGE)
  tarius_package_executable(tarius_lambda)
  tarius_package_executable(tarius_cli)
  tarius_lambda_arch(TARIUS_PACKAGE_ARCH "${CMAKE_SYSTEM_PROCESSOR}")
  # In the package build itself: zip this build's bootstrap (building it first), without reconfiguring.
  add_custom_target(package
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/package --arch ${TARIUS_PACKAGE_ARCH} --build-dir ${PROJECT_BINARY_DIR}
            --output ${PROJECT_SOURCE_DIR}/build/package/tarius-lambda-${TARIUS_PACKAGE_ARCH}.zip
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    USES_TERMINAL
    COMMENT "Lambda package for ${TARIUS_PACKAGE_ARCH}")
  add_dependencies(package tarius_lambda)
else()
  # From any other build (dev, release, ...): scripts/package configures and builds the lambda-<host arch>
  # preset in its own directory.
  tarius_lambda_arch(TARIUS_PACKAGE_ARCH "${CMAKE_HOST_SYSTEM_PROCESSOR}")
  add_custom_target(package
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/package --arch ${TARIUS_PACKAGE_ARCH}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    USES_TERMINAL
    COMMENT "Lambda package for ${TARIUS_PACKAGE_ARCH} (preset lambda-${TARIUS_PACKAGE_ARCH})")
endif()
