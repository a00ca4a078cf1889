# Cross-compiling for arm64 (Lambda on Graviton) on a Debian x86_64 host with Debian's multiarch packages:
# g++-aarch64-linux-gnu, the target's libraries as <package>:arm64 in /usr/lib/aarch64-linux-gnu, headers in
# /usr/include (shared with the host). No sysroot: the cross compiler already searches the multiarch paths.
# scripts/setup installs all of it; programs run under qemu-aarch64 (Debian qemu-user).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Libraries, headers and packages: only the target's (find_library searches lib/aarch64-linux-gnu under the usual
# prefixes); programs: the host's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)

# pkg-config (libzstd, libcurl, openssl) must read the arm64 .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# simdjson and yaml-cpp come as static libraries for arm64 builds (their arm64 -dev packages cannot be installed
# beside the host's): the config packages in cmake/package/ (see there).
set(simdjson_DIR "${CMAKE_CURRENT_LIST_DIR}/../package/simdjson" CACHE PATH "")
set(yaml-cpp_DIR "${CMAKE_CURRENT_LIST_DIR}/../package/yaml-cpp" CACHE PATH "")

# Running target programs (GoogleTest discovery, ctest): qemu's user-mode emulator with the arm64 C library.
# Debian's libc6:arm64 puts the loader at /lib/ld-linux-aarch64.so.1, so the host root is the sysroot; with only
# the cross toolchain's copy, its directory is.
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(TARIUS_AARCH64_SYSROOT / CACHE PATH "Sysroot qemu-aarch64 loads the arm64 C library from")
else()
  set(TARIUS_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "Sysroot qemu-aarch64 loads the arm64 C library from")
endif()
find_program(TARIUS_QEMU_AARCH64 qemu-aarch64)
if(TARIUS_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TARIUS_QEMU_AARCH64} -L ${TARIUS_AARCH64_SYSROOT})
endif()
