#!/usr/bin/env python3
"""Assembles the Lambda deployment package from a built `bootstrap` (called by scripts/package).

bootstrap (stripped, mode 0755) goes to the zip's root; every shared library of its dependency closure that is not
part of glibc goes to lib/ under the name the loader asks for (then bootstrap must carry DT_RPATH $ORIGIN/lib). The
package build links everything but glibc statically, so today there is no lib/. The zip is reproducible: entries
sorted, fixed timestamps and permissions, no extra fields, so the same inputs give the same bytes. Fails when a file
of the package references a GLIBC_ symbol version above --max-glibc (provided.al2023 has glibc 2.34), when a library
is missing, or when a bundled library carries DT_RUNPATH (which would hide bootstrap's DT_RPATH from that library's
own dependencies).

The ELF reading is done here with the standard library only (64-bit little-endian objects: x86_64 and aarch64).
"""
import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

# What provided.al2023 (and any glibc system) supplies: the C library's own shared objects. Everything else the
# closure needs is bundled.
GLIBC_SONAMES = frozenset({
    "libc.so.6", "libm.so.6", "libmvec.so.1", "libresolv.so.2", "libpthread.so.0", "libdl.so.2", "librt.so.1",
    "libutil.so.1", "libanl.so.1", "libBrokenLocale.so.1", "libthread_db.so.1", "libc_malloc_debug.so.0",
    "libnss_files.so.2", "libnss_dns.so.2", "libnss_compat.so.2", "libnss_hesiod.so.2", "libnsl.so.1",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
})

# Debian multiarch library directories, searched in the loader's order (/lib before /usr/lib).
ARCHES = {
    "x86_64": {"machine": 62, "triplet": "x86_64-linux-gnu", "strip": "strip",
               "dirs": ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"]},
    "arm64": {"machine": 183, "triplet": "aarch64-linux-gnu", "strip": "aarch64-linux-gnu-strip",
              "dirs": ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/aarch64-linux-gnu/lib"]},
}

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NEEDED, DT_STRTAB, DT_SONAME, DT_RPATH, DT_RUNPATH = 1, 5, 14, 15, 29
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


class elf_info:
    """The dynamic-linking facts of one ELF file: machine, DT_NEEDED, SONAME, RPATH, RUNPATH, version needs."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError(f"{path}: not a 64-bit little-endian ELF file")
        self.path = path
        self.machine = struct.unpack_from("<H", data, 18)[0]
        phoff, = struct.unpack_from("<Q", data, 32)
        phentsize, phnum = struct.unpack_from("<HH", data, 54)
        loads, dynamic = [], None
        for idx in range(phnum):
            header = struct.unpack_from("<IIQQQQQQ", data, phoff + idx * phentsize)
            p_type, p_offset, p_vaddr, p_filesz = header[0], header[2], header[3], header[5]
            if p_type == PT_LOAD:
                loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == PT_DYNAMIC:
                dynamic = (p_offset, p_filesz)
        self.needed, self.soname, self.rpath, self.runpath = [], None, None, None
        self.version_needs = {}  # file name -> [version names]
        if dynamic is None:
            return

        def file_offset(vaddr):
            for start, offset, size in loads:
                if start <= vaddr < start + size:
                    return offset + vaddr - start
            raise ValueError(f"{path}: address {vaddr:#x} outside the file's segments")

        entries = []
        for pos in range(dynamic[0], dynamic[0] + dynamic[1], 16):
            tag, value = struct.unpack_from("<qQ", data, pos)
            if tag == 0:
                break
            entries.append((tag, value))
        strtab = file_offset(next(value for tag, value in entries if tag == DT_STRTAB))

        def string(offset):
            end = data.index(b"\0", strtab + offset)
            return data[strtab + offset:end].decode()

        for tag, value in entries:
            if tag == DT_NEEDED:
                self.needed.append(string(value))
            elif tag == DT_SONAME:
                self.soname = string(value)
            elif tag == DT_RPATH:
                self.rpath = string(value)
            elif tag == DT_RUNPATH:
                self.runpath = string(value)
        tags = dict(entries)
        if DT_VERNEED in tags:
            pos = file_offset(tags[DT_VERNEED])
            for _ in range(tags.get(DT_VERNEEDNUM, 0)):
                _, count, file_name, aux, next_entry = struct.unpack_from("<HHIII", data, pos)
                names, aux_pos = [], pos + aux
                for _ in range(count):
                    _, _, _, name, aux_next = struct.unpack_from("<IHHII", data, aux_pos)
                    names.append(string(name))
                    aux_pos += aux_next
                self.version_needs.setdefault(string(file_name), []).extend(names)
                if next_entry == 0:
                    break
                pos += next_entry

    def glibc_versions(self):
        """Every GLIBC_x.y version this file references."""
        return sorted({name for names in self.version_needs.values() for name in names if name.startswith("GLIBC_")},
                      key=version_key)


def version_key(name):
    """GLIBC_2.34 -> (2, 34), for ordering versions numerically (GLIBC_2.4 < GLIBC_2.34)."""
    return tuple(int(part) for part in name.split("_", 1)[1].split("."))


def highest_glibc(versions):
    """The highest of the GLIBC_x.y names given, or None."""
    versions = [name for name in versions if name.startswith("GLIBC_") and name[6:7].isdigit()]
    return max(versions, key=version_key) if versions else None


def find_library(name, arch):
    """Path of the target architecture's library `name` in the multiarch directories, or None."""
    for directory in ARCHES[arch]["dirs"]:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and elf_info(candidate).machine == ARCHES[arch]["machine"]:
            return candidate
    return None


def closure(executable, arch):
    """The non-glibc libraries `executable` needs, directly or not: {soname: source path}."""
    bundled, queue = {}, list(elf_info(executable).needed)
    while queue:
        name = queue.pop(0)
        if name in GLIBC_SONAMES or name in bundled:
            continue
        path = find_library(name, arch)
        if path is None:
            raise SystemExit(f"package: library {name} (needed by the closure of {executable}) not found for {arch}")
        bundled[name] = path
        queue.extend(elf_info(path).needed)
    return bundled


def bundled_libraries(stage):
    """The names of the libraries staged in lib/ (none when the directory is absent)."""
    lib = os.path.join(stage, "lib")
    return sorted(os.listdir(lib)) if os.path.isdir(lib) else []


def check_package(stage, arch, max_glibc):
    """Checks the staged package; returns (problems, highest GLIBC version, libraries)."""
    problems, highest = [], None
    libs = bundled_libraries(stage)
    files = [os.path.join(stage, "bootstrap")] + [os.path.join(stage, "lib", name) for name in libs]
    for path in files:
        info = elf_info(path)
        rel = os.path.relpath(path, stage)
        if info.machine != ARCHES[arch]["machine"]:
            problems.append(f"{rel}: ELF machine {info.machine}, not {arch}")
        top = highest_glibc(info.glibc_versions())
        if top and version_key(top) > version_key(max_glibc):
            problems.append(f"{rel}: references {top} (> {max_glibc}): "
                            + ", ".join(v for v in info.glibc_versions() if version_key(v) > version_key(max_glibc)))
        if top and (highest is None or version_key(top) > version_key(highest)):
            highest = top
        for name in info.needed:
            if name not in GLIBC_SONAMES and name not in libs:
                problems.append(f"{rel}: needs {name}, which is neither bundled nor part of glibc")
        if rel != "bootstrap" and info.runpath:
            problems.append(f"{rel}: has DT_RUNPATH {info.runpath!r}, which would hide bootstrap's RPATH")
    boot = elf_info(files[0])
    if libs and (boot.rpath != "$ORIGIN/lib" or boot.runpath):
        problems.append(f"bootstrap: RPATH {boot.rpath!r} RUNPATH {boot.runpath!r}, expected DT_RPATH $ORIGIN/lib")
    return problems, highest, libs


def write_zip(stage, output):
    """Zips the staged tree reproducibly: sorted entries, fixed time, bootstrap 0755 and libraries 0644."""
    names = ["bootstrap"] + ["lib/" + name for name in bundled_libraries(stage)]
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    partial = output + ".partial"
    with zipfile.ZipFile(partial, "w") as archive:
        for name in names:
            entry = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            entry.create_system = 3  # Unix: the high 16 bits of external_attr are the file mode
            entry.external_attr = ((0o100755 if name == "bootstrap" else 0o100644) << 16)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(stage, name), "rb") as f:
                archive.writestr(entry, f.read(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(partial, output)
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", required=True, choices=sorted(ARCHES))
    parser.add_argument("--bootstrap", required=True, help="the built bootstrap executable")
    parser.add_argument("--output", required=True, help="the zip to write")
    parser.add_argument("--max-glibc", default="GLIBC_2.34", help="highest GLIBC_ version allowed (provided.al2023)")
    parser.add_argument("--stage", help="keep the unzipped package in this directory (default: a temporary one)")
    args = parser.parse_args()

    stage = args.stage or tempfile.mkdtemp(prefix="tarius-package-")
    try:
        if os.path.exists(os.path.join(stage, "lib")):
            shutil.rmtree(os.path.join(stage, "lib"))
        os.makedirs(stage, exist_ok=True)
        boot = os.path.join(stage, "bootstrap")
        subprocess.run([ARCHES[args.arch]["strip"], "--strip-all", "-o", boot, args.bootstrap], check=True)
        os.chmod(boot, 0o755)
        for name, source in sorted(closure(args.bootstrap, args.arch).items()):
            os.makedirs(os.path.join(stage, "lib"), exist_ok=True)
            shutil.copyfile(source, os.path.join(stage, "lib", name))  # the file itself, never a symlink
            os.chmod(os.path.join(stage, "lib", name), 0o644)
        problems, highest, libs = check_package(stage, args.arch, args.max_glibc)
        if problems:
            print("package: not deployable on provided.al2023:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        write_zip(stage, args.output)
    finally:
        if not args.stage:
            shutil.rmtree(stage, ignore_errors=True)
    with open(args.output, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    size = os.path.getsize(args.output)
    print(f"package: {args.output}")
    print(f"  arch {args.arch}, {len(libs)} bundled libraries, highest {highest} (limit {args.max_glibc})")
    print(f"  size {size} bytes ({size / 1048576:.2f} MiB)")
    print(f"  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
