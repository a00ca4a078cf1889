"""Minimal root file systems for running the Lambda package the way provided.al2023 does, with nothing of this machine
but the C library: the unzipped package under /var/task, glibc's shared objects, a CA bundle (at Debian's and at
Amazon Linux's path), /etc/hosts, /tmp and the /dev nodes a process expects. Running `bootstrap` chrooted there proves
that the package needs nothing of this machine but glibc (no LD_LIBRARY_PATH is set).

arm64 packages run under qemu-aarch64 (Debian qemu-user) *inside* the root: qemu and its own x86_64 libraries are
copied to /.qemu, away from the guest's paths, so the arm64 loader cannot fall back to the host's libraries (qemu's
`-L` alone would try the root first and then silently the host).

Needs root (chroot, mknod, a mount namespace for /proc) and the `unzip` and `unshare` commands.

    root = package_root.build_minimal_root("build/package/tarius-lambda-x86_64.zip", tmpdir, "x86_64")
    subprocess.run(root.command(["/var/task/bootstrap", "--version"]), env={...})
"""

import os
import shutil
import stat
import subprocess

# glibc's shared objects a program may load (those present are copied); the loader is handled apart.
GLIBC_LIBRARIES = ("libc.so.6", "libm.so.6", "libresolv.so.2", "libpthread.so.0", "libdl.so.2", "librt.so.1")

ARCHES = {
    "x86_64": {
        "loader": "ld-linux-x86-64.so.2",
        "interpreter": "/lib64/ld-linux-x86-64.so.2",  # PT_INTERP of every x86_64 program
        "libdir": "/lib/x86_64-linux-gnu",  # where Debian's loader looks by default
        "sources": ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"],
    },
    "arm64": {
        "loader": "ld-linux-aarch64.so.1",
        "interpreter": "/lib/ld-linux-aarch64.so.1",
        "libdir": "/lib/aarch64-linux-gnu",
        # libc6:arm64 (multiarch) first, else the cross toolchain's copy; one directory for all, never mixed.
        "sources": ["/lib/aarch64-linux-gnu", "/usr/aarch64-linux-gnu/lib"],
    },
}

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CA_PATHS = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
DEVICES = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}
QEMU_DIR = "/.qemu"


def glibc_source_dir(arch):
    """The directory of this machine holding the target architecture's glibc (loader and libc.so.6 together)."""
    spec = ARCHES[arch]
    for directory in spec["sources"]:
        if all(os.path.exists(os.path.join(directory, name)) for name in (spec["loader"], "libc.so.6")):
            return directory
    raise FileNotFoundError(f"no {arch} glibc on this machine (looked in {', '.join(spec['sources'])})")


class minimal_root:
    """A root built by build_minimal_root: its path, architecture and the command line that runs a program in it."""

    def __init__(self, root, arch):
        self.root = root
        self.arch = arch
        self.task_dir = os.path.join(root, "var", "task")

    def command(self, argv):
        """The host command running `argv` (paths inside the root) chrooted in the root, under qemu for arm64.

        /proc is mounted in the root for the command's lifetime only, in a mount namespace of its own (`unshare`):
        the loader resolves $ORIGIN through /proc/self/exe, as on Lambda. The process keeps its PID and network
        (loopback servers of the test are reachable), and receives signals sent to the returned command's PID."""
        prefix = [_tool("unshare"), f"--mount-proc={os.path.join(self.root, 'proc')}", _tool("chroot"), self.root]
        if self.arch == "x86_64":
            return [*prefix, *argv]
        loader = f"{QEMU_DIR}/{ARCHES['x86_64']['loader']}"
        return [*prefix, loader, "--library-path", QEMU_DIR, f"{QEMU_DIR}/qemu-aarch64", "-L", "/", *argv]


def _tool(name):
    """Absolute path of a system tool (chroot lives in /usr/sbin, often not in a test's PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin") or name


def _copy(source, root, path, mode=None):
    """Copies the host file `source` (following symlinks) to `path` inside the root."""
    target = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target)
    os.chmod(target, mode if mode is not None else stat.S_IMODE(os.stat(source).st_mode))
    return target


def _host_libraries(program):
    """The shared objects `ldd` reports for a host (x86_64) program: {name: path}, the loader included."""
    out = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
    libraries = {}
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libraries[parts[0]] = parts[2]
        elif parts and parts[0].startswith("/"):
            libraries[os.path.basename(parts[0])] = parts[0]
    return libraries


def _add_qemu(root):
    """Copies qemu-aarch64 and its x86_64 libraries (loader included) into /.qemu of the root."""
    qemu = shutil.which("qemu-aarch64")
    if qemu is None:
        raise FileNotFoundError("qemu-aarch64 not found (Debian package qemu-user; scripts/setup installs it)")
    _copy(qemu, root, f"{QEMU_DIR}/qemu-aarch64", 0o755)
    for name, path in _host_libraries(qemu).items():
        _copy(path, root, f"{QEMU_DIR}/{name}", 0o755)


def build_minimal_root(zip_path, root_dir, arch="x86_64"):
    """Builds in `root_dir` (absent or empty) a root holding only the unzipped package at /var/task, the `arch` glibc,
    a CA bundle, /etc/hosts, /tmp, an empty /proc and /dev/{null,zero,random,urandom}; for arm64 also qemu under
    /.qemu.
    Returns a minimal_root. Requires root privileges (mknod; running it needs chroot)."""
    if arch not in ARCHES:
        raise ValueError(f"arch must be one of {sorted(ARCHES)}, not {arch!r}")
    if os.path.isdir(root_dir) and os.listdir(root_dir):
        raise ValueError(f"{root_dir} is not empty")
    spec = ARCHES[arch]
    task = os.path.join(root_dir, "var", "task")
    os.makedirs(task)
    # unzip restores the modes stored in the zip (bootstrap 0755), as Lambda does.
    subprocess.run(["unzip", "-q", "-o", zip_path, "-d", task], check=True)

    source = glibc_source_dir(arch)
    _copy(os.path.join(source, spec["loader"]), root_dir, spec["interpreter"], 0o755)
    _copy(os.path.join(source, spec["loader"]), root_dir, f"{spec['libdir']}/{spec['loader']}", 0o755)
    for name in GLIBC_LIBRARIES:
        if os.path.exists(os.path.join(source, name)):
            _copy(os.path.join(source, name), root_dir, f"{spec['libdir']}/{name}", 0o755)

    for path in CA_PATHS:
        _copy(CA_BUNDLE, root_dir, path, 0o644)
    os.makedirs(os.path.join(root_dir, "etc"), exist_ok=True)
    with open(os.path.join(root_dir, "etc", "hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n::1 localhost\n")
    os.makedirs(os.path.join(root_dir, "proc"))  # mounted by minimal_root.command, for the command only
    os.makedirs(os.path.join(root_dir, "tmp"))
    os.chmod(os.path.join(root_dir, "tmp"), 0o1777)
    os.makedirs(os.path.join(root_dir, "dev"))
    for name, (major, minor) in DEVICES.items():
        os.mknod(os.path.join(root_dir, "dev", name), 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(os.path.join(root_dir, "dev", name), 0o666)
    if arch == "arm64":
        _add_qemu(root_dir)
    return minimal_root(root_dir, arch)


def root_files(root):
    """Every regular file of a root, as paths relative to it (for reports and assertions)."""
    files = []
    for directory, _, names in os.walk(root.root if isinstance(root, minimal_root) else root):
        for name in names:
            full = os.path.join(directory, name)
            if os.path.isfile(full) and not os.path.islink(full):
                files.append(os.path.relpath(full, root.root if isinstance(root, minimal_root) else root))
    return sorted(files)
