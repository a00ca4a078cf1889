# ctest-label: fixture
"""cmake/package/glibc_compat.cpp: the package's definitions of _dl_find_object (glibc 2.35) and arc4random
(glibc 2.36), which let a program with a static libstdc++/libgcc built on Debian 12 run on glibc 2.34 (provided.al2023).

Small probe programs are compiled here with the package's link options and checked against independent observers:
objdump (no GLIBC_ version above 2.34 once the file is linked in; both newer versions without it, so the check can
fail), glibc's own _dl_find_object (the replacement must give the same answer field by field), and C++ exceptions
unwinding through a C shared library (libgcc's unwinder calls the replacement for every frame). arm64 runs the same
under qemu-aarch64 when the cross compiler is installed (scripts/setup).
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

SOURCE_DIR = os.environ.get("TARIUS_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPAT = os.path.join(SOURCE_DIR, "cmake", "package", "glibc_compat.cpp")
MAX_GLIBC = (2, 34)

PROBE = r"""
#include <cstdio>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
extern "C" void probe_call(void (*callback)(void));
[[gnu::noinline]] static void thrower() { throw std::runtime_error("caught across the C library"); }
int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "unwind") {
        try {
            probe_call(thrower);
        } catch (const std::runtime_error& caught) {
            std::puts(caught.what());
            return 0;
        }
        return 1;
    }
    if (mode == "random") {
        std::random_device device(argc > 2 ? argv[2] : "default");
        std::set<unsigned> seen;
        for (int draw = 0; draw < 64; ++draw) seen.insert(device());
        std::printf("%zu\n", seen.size());
        return 0;
    }
    return 2;
}
"""

# Exceptions cross this C function's frame: the unwinder must find its FDE in the shared library.
CALLBACK = "void probe_call(void (*callback)(void)) { callback(); }\n"

# Compares the replacement (renamed at compile time) with glibc's real function on addresses of every kind.
COMPARE = r"""
#include <dlfcn.h>
#include <cstdio>
#include <cstdlib>
extern "C" int tarius_compat_dl_find_object(void* address, dl_find_object* result) noexcept;
extern "C" void probe_call(void (*callback)(void));
static int static_data = 1;
int main() {
    int on_stack = 0;
    void* heap = std::malloc(16);
    void* addresses[] = {reinterpret_cast<void*>(&main), reinterpret_cast<void*>(&probe_call),
                         reinterpret_cast<void*>(&std::printf), &static_data, &on_stack, heap, nullptr};
    for (void* address : addresses) {
        dl_find_object real{}, ours{};
        int real_rc = _dl_find_object(address, &real);
        int our_rc = tarius_compat_dl_find_object(address, &ours);
        std::printf("%d %p %p %p %p %llu | %d %p %p %p %p %llu\n", real_rc, real.dlfo_map_start, real.dlfo_map_end,
                    real.dlfo_eh_frame, static_cast<void*>(real.dlfo_link_map), real.dlfo_flags, our_rc,
                    ours.dlfo_map_start, ours.dlfo_map_end, ours.dlfo_eh_frame, static_cast<void*>(ours.dlfo_link_map),
                    ours.dlfo_flags);
    }
    std::free(heap);
    return 0;
}
"""

ARM64_SYSROOT = "/" if os.path.exists("/lib/ld-linux-aarch64.so.1") else "/usr/aarch64-linux-gnu"
TOOLCHAINS = {
    "x86_64": {"cxx": "g++", "cc": "gcc", "objdump": "objdump", "run": []},
    "arm64": {"cxx": "aarch64-linux-gnu-g++", "cc": "aarch64-linux-gnu-gcc", "objdump": "aarch64-linux-gnu-objdump",
              "run": ["qemu-aarch64", "-L", ARM64_SYSROOT]},
}


def glibc_versions(objdump, path):
    """Every GLIBC_x.y version `objdump -T -p` shows for the file (symbols and version references), as tuples."""
    out = subprocess.run([objdump, "-T", "-p", path], capture_output=True, text=True, check=True).stdout
    return {tuple(int(part) for part in found.split(".")) for found in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", out)}


def imported(objdump, path):
    """Names of the undefined dynamic symbols of the file."""
    out = subprocess.run([objdump, "-T", path], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if "*UND*" in line}


class compat_base:
    arch = None

    @classmethod
    def setUpClass(cls):
        tools = TOOLCHAINS[cls.arch]
        needed = (tools["cxx"], tools["cc"], tools["objdump"], *tools["run"][:1])
        missing = [tool for tool in needed if not shutil.which(tool)]
        if missing:
            raise unittest.SkipTest(f"{cls.arch} toolchain missing ({', '.join(missing)}): run scripts/setup")
        cls.tools = tools
        cls.dir = tempfile.mkdtemp(prefix=f"tarius-compat-{cls.arch}-")
        for name, text in (("probe.cpp", PROBE), ("callback.c", CALLBACK), ("compare.cpp", COMPARE)):
            with open(cls.path(name), "w") as f:
                f.write(text)
        cls.compile([tools["cc"], "-shared", "-fPIC", "-fexceptions", "-O2", "-o", cls.path("libprobe.so"),
                     cls.path("callback.c")])
        link = ["-L", cls.dir, "-lprobe", "-Wl,-rpath,$ORIGIN", "-static-libstdc++", "-static-libgcc"]
        cls.compile([tools["cxx"], "-std=c++20", "-O2", "-o", cls.path("with_compat"), cls.path("probe.cpp"), COMPAT,
                     *link])
        cls.compile([tools["cxx"], "-std=c++20", "-O2", "-o", cls.path("without_compat"), cls.path("probe.cpp"), *link])
        cls.compile([tools["cxx"], "-std=c++20", "-O2", "-c", "-o", cls.path("compat_renamed.o"), COMPAT,
                     "-D_dl_find_object=tarius_compat_dl_find_object", "-Darc4random=tarius_compat_arc4random"])
        cls.compile([tools["cxx"], "-std=c++20", "-O2", "-o", cls.path("compare"), cls.path("compare.cpp"),
                     cls.path("compat_renamed.o"), "-L", cls.dir, "-lprobe", "-Wl,-rpath,$ORIGIN"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(getattr(cls, "dir", ""), ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    @classmethod
    def compile(cls, argv):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed:\n{proc.stderr}")

    def run_probe(self, *argv):
        return subprocess.run([*self.tools["run"], *argv], capture_output=True, text=True, timeout=120)

    def test_without_the_file_the_static_runtime_needs_glibc_2_35_and_2_36(self):
        # The negative control: what the package would reference if glibc_compat.cpp were not linked in.
        versions = glibc_versions(self.tools["objdump"], self.path("without_compat"))
        self.assertIn((2, 35), versions)
        self.assertIn((2, 36), versions)
        undefined = imported(self.tools["objdump"], self.path("without_compat"))
        self.assertTrue({"_dl_find_object", "arc4random"} <= undefined, sorted(undefined))

    def test_with_the_file_nothing_above_glibc_2_34_is_referenced(self):
        versions = glibc_versions(self.tools["objdump"], self.path("with_compat"))
        self.assertTrue(versions)
        self.assertLessEqual(max(versions), MAX_GLIBC, sorted(versions))
        self.assertFalse({"_dl_find_object", "arc4random"} & imported(self.tools["objdump"], self.path("with_compat")))

    def test_exceptions_unwind_through_a_shared_library(self):
        proc = self.run_probe(self.path("with_compat"), "unwind")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "caught across the C library")

    def test_random_device_draws_distinct_values(self):
        for token in ("default", "arc4random"):
            proc = self.run_probe(self.path("with_compat"), "random", token)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            # 64 draws of 32 random bits: a repeated value is a 1-in-10^6 event, all equal never.
            self.assertGreaterEqual(int(proc.stdout), 60, token)

    def test_dl_find_object_matches_glibc(self):
        proc = self.run_probe(self.path("compare"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertEqual(len(lines), 7)
        found = 0
        for line in lines:
            real, ours = (part.split() for part in line.split("|"))
            self.assertEqual(real, ours, line)
            found += real[0] == "0"
        self.assertEqual(found, 4, proc.stdout)  # main, the library, libc, static data: found; stack, heap, null: not


class compat_x86_64(compat_base, unittest.TestCase):
    arch = "x86_64"


class compat_arm64(compat_base, unittest.TestCase):
    arch = "arm64"


if __name__ == "__main__":
    unittest.main()
