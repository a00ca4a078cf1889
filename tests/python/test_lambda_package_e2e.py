# ctest-label: e2e
"""The deployment package loads a file end to end with nothing of this machine but the C library: the zip is
unzipped into an empty root holding only it, glibc and a CA bundle (tests/python/package_root.py), `bootstrap` runs
chrooted there (arm64: under qemu-aarch64 inside the root) against the fake Runtime API and the local stack, and the
seed sample must arrive in DynamoDB (checked with boto3 and Python's csv module), over plain HTTP and over TLS
(tests/python/tls_relay.py in front of the local stack).

Uses the zips in TARIUS_PACKAGE_DIR (default build/package), building a missing one with scripts/package."""
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import fake_runtime  # noqa: E402
import lambda_support as ls  # noqa: E402
import local_loader  # noqa: E402
import package_root  # noqa: E402
import tarius_stack  # noqa: E402
import tls_relay  # noqa: E402

SOURCE_DIR = tarius_stack.source_dir()
SEED = os.path.join(SOURCE_DIR, "..", "shared", "seed-data", "products.csv")
PACKAGE_DIR = os.environ.get("TARIUS_PACKAGE_DIR") or os.path.join(SOURCE_DIR, "build", "package")


def package_zip(arch):
    path = os.path.join(PACKAGE_DIR, "tarius-lambda-%s.zip" % arch)
    if not os.path.exists(path):
        subprocess.run([os.path.join(SOURCE_DIR, "scripts", "package"), "--arch", arch, "--output", path],
                       check=True, cwd=SOURCE_DIR)
    return path


def tls_endpoints(env, cert, stack):
    """Points env's AWS endpoints at TLS relays in front of the local stack's servers; returns the relay contexts."""
    relays = contextlib.ExitStack()
    for name, server in (("AWS_ENDPOINT_URL", stack.moto), ("AWS_ENDPOINT_URL_DYNAMODB", stack.dynalite)):
        port = relays.enter_context(tls_relay.relay(cert, urllib.parse.urlsplit(server.url).port))
        env[name] = "https://127.0.0.1:%d" % port
    return relays


class lambda_package_e2e(unittest.TestCase):
    def load_seed_with_package(self, arch, tls=None):
        """Loads the seed sample through the package in a bare root. tls: None (plain HTTP to the local stack),
        "trusted" (HTTPS through relays whose certificate is in the root's Amazon Linux CA bundle, the path the
        transport picks on provided.al2023) or "untrusted" (HTTPS, certificate in no bundle: the load must fail)."""
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st, \
                contextlib.ExitStack() as cleanup:
            root = package_root.build_minimal_root(package_zip(arch), os.path.join(tmp, "root"), arch)
            local = local_loader.provisioned(st)
            key = "raw-data/package-%s/products.csv" % arch
            event = ls.upload(local, SEED, key)
            # Only what Lambda would set: no PATH tricks, no LD_LIBRARY_PATH; the HOME-less AWS config is disabled.
            env = {name: value for name, value in local.env.items()
                   if name.startswith(("AWS_", "TARIUS_")) or name in ("NO_PROXY", "no_proxy")}
            env.update(LAMBDA_TASK_ROOT="/var/task", TZ=":UTC", LANG="en_US.UTF-8")
            env.pop("AWS_CA_BUNDLE", None)  # this machine's, and a path absent from the root; Lambda sets none
            if tls:
                cert = cleanup.enter_context(tls_relay.certificate(tmp))
                cleanup.enter_context(tls_endpoints(env, cert, st))
                if tls == "trusted":
                    with open(os.path.join(root.root, "etc/pki/tls/certs/ca-bundle.crt"), "a") as bundle:
                        bundle.write(cert.pem())
            log = os.path.join(tmp, "bootstrap.log")
            with fake_runtime.FakeRuntime() as rt:
                # start_bootstrap adds the Runtime API endpoint; the command is the chroot (and qemu) wrapper.
                argv = root.command(["/var/task/bootstrap"])
                proc = ls.start_bootstrap(rt, env, exe=argv[-1], argv_prefix=argv[:-1], log_path=log)
                try:
                    inv = rt.invoke_and_wait(event, wait_s=600 if arch == "arm64" else 120)
                finally:
                    ls.stop(proc)
            with open(log, encoding="utf-8", errors="replace") as f:
                function_log = f.read()
            if tls == "untrusted":
                self.assertEqual(inv.outcome, "error", inv.body)
                self.assertRegex(inv.body + function_log, r"(?i)certificate")
                self.assertEqual(local.items(), {})
                return
            self.assertEqual(inv.outcome, "response", "%s %s\n%s" % (inv.error_type, inv.body, function_log))
            body = inv.json_body()
            self.assertEqual(body["loads"][0]["status"], "succeeded", body)
            self.assertEqual(body["loads"][0]["counts"]["items_written"], 1000)
            items = local.items()
            expected = ls.expected_items(SEED)
            self.assertEqual(set(items), set(expected))
            for item_id, row in expected.items():
                self.assertEqual(items[item_id]["Title"]["S"], row["Title"].strip())

    def init_error_through_a_cpp_exception(self, arch):
        # A malformed YAML mapping makes yaml-cpp throw inside the core (caught there): the statically linked C++
        # runtime must unwind on Amazon Linux's glibc (cmake/package/glibc_compat.cpp supplies _dl_find_object).
        with tempfile.TemporaryDirectory() as tmp, fake_runtime.FakeRuntime() as rt:
            root = package_root.build_minimal_root(package_zip(arch), os.path.join(tmp, "root"), arch)
            env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_REGION": "us-east-1",
                   "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                   "TARIUS_TABLE": "t", "TARIUS_LEDGER_TABLE": "l", "TARIUS_MAPPING": "partition_key: [unclosed"}
            argv = root.command(["/var/task/bootstrap"])
            proc = ls.start_bootstrap(rt, env, exe=argv[-1], argv_prefix=argv[:-1])
            self.assertEqual(proc.wait(300), 1)  # an orderly exit, not std::terminate's SIGABRT
            self.assertEqual(len(rt.init_errors), 1)
            self.assertIn("TARIUS_MAPPING", json.loads(rt.init_errors[0][1])["errorMessage"])

    def test_x86_64_package_unwinds_cpp_exceptions(self):
        self.init_error_through_a_cpp_exception("x86_64")

    def test_arm64_package_unwinds_cpp_exceptions(self):
        self.init_error_through_a_cpp_exception("arm64")

    def test_x86_64_package_loads_the_seed_sample_in_a_bare_root(self):
        self.load_seed_with_package("x86_64")

    def test_arm64_package_loads_the_seed_sample_in_a_bare_root_under_qemu(self):
        self.load_seed_with_package("arm64")

    # AWS endpoints are HTTPS: the statically linked libcurl and OpenSSL must verify against the system bundle.
    def test_x86_64_package_loads_over_tls_trusting_the_amazon_linux_bundle(self):
        self.load_seed_with_package("x86_64", tls="trusted")

    def test_x86_64_package_refuses_an_untrusted_certificate(self):
        self.load_seed_with_package("x86_64", tls="untrusted")

    def test_arm64_package_loads_over_tls_under_qemu(self):
        self.load_seed_with_package("arm64", tls="trusted")


if __name__ == "__main__":
    unittest.main()
