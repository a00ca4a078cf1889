# ctest-label: integration
"""The Lambda deployment package (scripts/package): deployable on provided.al2023 (glibc 2.34), self-contained and
reproducible, for x86_64 and arm64.

Uses the zips in TARIUS_PACKAGE_DIR (tarius-lambda-<arch>.zip) when set, otherwise builds them with scripts/package.
Observers independent of the packager: objdump (GLIBC_ versions, DT_NEEDED, RPATH), unzip and Python's zipfile (the
archive), and a chroot holding only the unzipped package, the C library and a CA bundle (tests/python/package_root.py;
arm64 runs under qemu-aarch64 inside that root). Needs root (chroot); arm64 needs scripts/setup's cross toolchain.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

import package_root

SOURCE_DIR = os.environ.get("TARIUS_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE_DIR = os.environ.get("TARIUS_PACKAGE_DIR", "")
MAX_GLIBC = (2, 34)  # provided.al2023
# The C library's shared objects, present on every glibc system: the only libraries the package may leave out.
GLIBC = {"libc.so.6", "libm.so.6", "libmvec.so.1", "libresolv.so.2", "libpthread.so.0", "libdl.so.2", "librt.so.1",
         "libutil.so.1", "libanl.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}
OBJDUMP = {"x86_64": "objdump", "arm64": "aarch64-linux-gnu-objdump"}
MACHINE = {"x86_64": "x86-64", "arm64": "aarch64"}


def glibc_versions(objdump_output):
    """Every GLIBC_x.y named in `objdump -T -p` output (dynamic symbols and version references), as (x, y) tuples."""
    found = re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", objdump_output)
    return {tuple(int(part) for part in version.split(".")) for version in found}


def assert_glibc_at_most(test, versions_by_file, limit=MAX_GLIBC):
    """Fails `test` naming every file whose highest GLIBC_ version is above `limit`."""
    above = {name: ".".join(map(str, max(versions))) for name, versions in versions_by_file.items()
             if versions and max(versions) > limit}
    test.assertEqual(above, {}, f"GLIBC_ versions above {'.'.join(map(str, limit))}")


def objdump(arch, *args):
    return subprocess.run([OBJDUMP[arch], *args], capture_output=True, text=True, check=True).stdout


def dynamic_section(arch, path):
    """(DT_NEEDED names, DT_RPATH, DT_RUNPATH) as objdump -p prints them."""
    needed, rpath, runpath = [], None, None
    for line in objdump(arch, "-p", path).splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "NEEDED":
            needed.append(fields[1])
        elif len(fields) == 2 and fields[0] == "RPATH":
            rpath = fields[1]
        elif len(fields) == 2 and fields[0] == "RUNPATH":
            runpath = fields[1]
    return needed, rpath, runpath


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def package(arch, output):
    """Runs scripts/package; returns its stdout."""
    proc = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "package"), "--arch", arch, "--output", output],
                          cwd=SOURCE_DIR, capture_output=True, text=True, timeout=3000)
    if proc.returncode != 0:
        raise AssertionError(f"scripts/package --arch {arch} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


class glibc_check(unittest.TestCase):
    """The GLIBC_ version check itself, on fabricated input: it must fail above 2.34."""

    def test_versions_are_read_from_symbols_and_version_references(self):
        text = ("0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.2.5) free\n"
                "0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) __libc_start_main\n"
                "  required from libc.so.6:\n    0x09691974 0x00 04 GLIBC_2.3.4\n")
        self.assertEqual(glibc_versions(text), {(2, 2, 5), (2, 34), (2, 3, 4)})

    def test_versions_compare_numerically(self):
        self.assertEqual(max(glibc_versions("GLIBC_2.4 GLIBC_2.34 GLIBC_2.17")), (2, 34))

    def test_at_or_below_the_limit_passes(self):
        assert_glibc_at_most(self, {"bootstrap": {(2, 2, 5), (2, 34)}, "lib/libz.so.1": {(2, 14)}, "empty": set()})

    def test_above_the_limit_fails_naming_the_file(self):
        with self.assertRaises(AssertionError) as caught:
            assert_glibc_at_most(self, {"bootstrap": {(2, 34)}, "lib/libstdc++.so.6": {(2, 36), (2, 4)}})
        self.assertIn("lib/libstdc++.so.6", str(caught.exception))
        self.assertIn("2.36", str(caught.exception))
        with self.assertRaises(AssertionError):
            assert_glibc_at_most(self, {"bootstrap": {(2, 35)}})


class packager_refuses(unittest.TestCase):
    """scripts/package_bundle.py's own checks reject an undeployable package."""

    def test_library_above_glibc_2_34_or_unbundled_dependency_is_reported(self):
        sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
        try:
            import package_bundle
        finally:
            sys.path.pop(0)
        host_libstdcxx = subprocess.run(["g++", "-print-file-name=libstdc++.so.6"], capture_output=True,
                                        text=True).stdout.strip()
        if (not os.path.exists(host_libstdcxx)
                or max(glibc_versions(objdump("x86_64", "-T", "-p", host_libstdcxx))) <= MAX_GLIBC):
            self.skipTest("needs the host's libstdc++.so.6 referencing a GLIBC_ version above 2.34 (Debian 12)")
        with tempfile.TemporaryDirectory() as stage:
            os.makedirs(os.path.join(stage, "lib"))
            shutil.copyfile("/bin/true", os.path.join(stage, "bootstrap"))  # an ELF file without DT_RPATH
            shutil.copyfile(host_libstdcxx, os.path.join(stage, "lib", "libstdc++.so.6"))
            problems, _, _ = package_bundle.check_package(stage, "x86_64", "GLIBC_2.34")
        text = "\n".join(problems)
        self.assertRegex(text, r"lib/libstdc\+\+\.so\.6: references GLIBC_2\.3[5-9]")
        self.assertIn("libgcc_s.so.1, which is neither bundled nor part of glibc", text)  # libstdc++'s dependency
        self.assertIn("expected DT_RPATH $ORIGIN/lib", text)


class package_base:
    arch = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (chroot, mknod)")
        if not shutil.which(OBJDUMP[cls.arch]):
            raise unittest.SkipTest(f"{OBJDUMP[cls.arch]} missing: run scripts/setup")
        if cls.arch == "arm64" and not shutil.which("qemu-aarch64"):
            raise unittest.SkipTest("qemu-aarch64 missing: run scripts/setup")
        cls.tmp = tempfile.mkdtemp(prefix=f"tarius-package-{cls.arch}-")
        name = f"tarius-lambda-{cls.arch}.zip"
        if PACKAGE_DIR and os.path.exists(os.path.join(PACKAGE_DIR, name)):
            cls.zip = os.path.join(PACKAGE_DIR, name)
        else:
            cls.zip = os.path.join(cls.tmp, name)
            package(cls.arch, cls.zip)
        cls.unzipped = os.path.join(cls.tmp, "unzipped")
        subprocess.run(["unzip", "-q", cls.zip, "-d", cls.unzipped], check=True)
        lib = os.path.join(cls.unzipped, "lib")
        cls.libs = sorted(os.listdir(lib)) if os.path.isdir(lib) else []
        cls.files = ["bootstrap"] + ["lib/" + lib for lib in cls.libs]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(getattr(cls, "tmp", ""), ignore_errors=True)

    def root(self, name):
        return package_root.build_minimal_root(self.zip, os.path.join(self.tmp, name), self.arch)

    def test_archive_layout_modes_and_timestamps(self):
        with zipfile.ZipFile(self.zip) as archive:
            entries = archive.infolist()
        names = [entry.filename for entry in entries]
        self.assertEqual(names, sorted(names))
        self.assertEqual(names[0], "bootstrap")
        for name in names[1:]:
            self.assertRegex(name, r"^lib/[^/]+\.so[.0-9]*$")
        for entry in entries:
            mode = entry.external_attr >> 16
            self.assertEqual(mode, 0o100755 if entry.filename == "bootstrap" else 0o100644, entry.filename)
            self.assertEqual(entry.date_time, (1980, 1, 1, 0, 0, 0), entry.filename)
        self.assertTrue(os.access(os.path.join(self.unzipped, "bootstrap"), os.X_OK))

    def test_every_file_is_for_the_architecture_and_stripped_bootstrap(self):
        for name in self.files:
            header = objdump(self.arch, "-f", os.path.join(self.unzipped, name))
            self.assertIn(MACHINE[self.arch], header, name)
        self.assertNotIn(".symtab", objdump(self.arch, "-h", os.path.join(self.unzipped, "bootstrap")))
        self.assertNotIn(".debug_info", objdump(self.arch, "-h", os.path.join(self.unzipped, "bootstrap")))

    def test_no_glibc_version_above_2_34(self):
        versions = {name: glibc_versions(objdump(self.arch, "-T", "-p", os.path.join(self.unzipped, name)))
                    for name in self.files}
        self.assertTrue(versions["bootstrap"], "bootstrap references no GLIBC_ version at all: objdump misread?")
        assert_glibc_at_most(self, versions)

    def test_every_needed_library_is_bundled_or_glibc(self):
        missing = {}
        for name in self.files:
            needed, _, runpath = dynamic_section(self.arch, os.path.join(self.unzipped, name))
            absent = [lib for lib in needed if lib not in GLIBC and lib not in self.libs]
            if absent:
                missing[name] = absent
            if name != "bootstrap":
                self.assertIsNone(runpath, f"{name} has DT_RUNPATH, which hides bootstrap's DT_RPATH")
        self.assertEqual(missing, {})

    def test_bootstrap_needs_nothing_but_glibc(self):
        # Cold start: libcurl, OpenSSL, zlib, zstd, simdjson, yaml-cpp and the C++ runtime are linked statically, so
        # the loader maps glibc alone and the package bundles no library (and needs no RPATH to find one).
        needed, rpath, runpath = dynamic_section(self.arch, os.path.join(self.unzipped, "bootstrap"))
        self.assertTrue(needed, "no DT_NEEDED at all: objdump misread?")
        self.assertEqual(set(needed) - GLIBC, set())
        self.assertEqual(self.libs, [])
        self.assertIsNone(rpath)
        self.assertIsNone(runpath)

    def test_bootstrap_runs_in_a_root_with_only_the_package_and_glibc(self):
        root = self.root("root")
        proc = subprocess.run(root.command(["/var/task/bootstrap", "--version"]), capture_output=True, text=True,
                              timeout=120, env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"^tarius-bootstrap \d+\.\d+\.\d+")

    def test_the_root_check_fails_without_a_needed_library(self):
        # The negative control of the test above: the same root less one library bootstrap needs must not start.
        root = self.root("root-without-libm")
        os.remove(os.path.join(root.root, package_root.ARCHES[self.arch]["libdir"].lstrip("/"), "libm.so.6"))
        proc = subprocess.run(root.command(["/var/task/bootstrap", "--version"]), capture_output=True, text=True,
                              timeout=120, env={"PATH": "/usr/bin:/bin"})
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("libm.so.6", proc.stderr)

    def test_cli_built_like_bootstrap_catches_exceptions_in_the_root(self):
        # The CLI of the package build (same link options, same libraries) reading an invalid YAML mapping: yaml-cpp
        # throws and the core catches, so the unwinder (static libgcc and cmake/package/glibc_compat.cpp's
        # _dl_find_object) works in the package's environment.
        build = os.path.join(SOURCE_DIR, "build", f"lambda-{self.arch}")
        if not os.path.exists(os.path.join(build, "build.ninja")):
            self.skipTest(f"no {build} to build the CLI in")
        subprocess.run(["cmake", "--build", build, "--target", "tarius_cli"], check=True, capture_output=True,
                       timeout=1800)
        root = self.root("root-cli")
        shutil.copy(os.path.join(build, "bin", "tarius"), os.path.join(root.task_dir, "tarius"))
        with open(os.path.join(root.root, "tmp", "rows.csv"), "w") as f:
            f.write("ID,Name\n1,a\n2,b\n")
        with open(os.path.join(root.root, "tmp", "bad.yaml"), "w") as f:
            f.write("columns: [unclosed\n  - : :\n")
        env = {"PATH": "/usr/bin:/bin"}
        good = subprocess.run(root.command(["/var/task/tarius", "validate", "/tmp/rows.csv", "--key", "ID"]),
                              capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertIn("2 rows read", good.stdout + good.stderr)
        bad = subprocess.run(root.command(["/var/task/tarius", "validate", "/tmp/rows.csv", "--key", "ID", "--mapping",
                                           "/tmp/bad.yaml"]), capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertIn("invalid YAML", bad.stderr)

    def test_packaging_twice_gives_the_same_bytes(self):
        # Two runs, the second relinking bootstrap from the same objects: identical zips.
        first = os.path.join(self.tmp, "first.zip")
        second = os.path.join(self.tmp, "second.zip")
        package(self.arch, first)
        bootstrap = os.path.join(SOURCE_DIR, "build", f"lambda-{self.arch}", "bin", "bootstrap")
        if os.path.exists(bootstrap):
            os.remove(bootstrap)
        out = package(self.arch, second)
        self.assertEqual(sha256(first), sha256(second))
        self.assertIn(f"sha256 {sha256(second)}", out)


class package_x86_64(package_base, unittest.TestCase):
    arch = "x86_64"


class package_arm64(package_base, unittest.TestCase):
    arch = "arm64"


if __name__ == "__main__":
    unittest.main()
