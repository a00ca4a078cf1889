# ctest-label: fixture
"""The fixture corpus: each tests/fixtures/load/<case>.csv is converted by `tarius convert` with the flags in
<case>.flags; the items, rejects, summary and exit code must equal <case>.expected.json, written by hand."""
import json
import os
import shlex
import subprocess
import tempfile
import unittest

BIN = os.environ.get("TARIUS_BIN", "")
FIXTURES = os.path.join(os.environ.get("TARIUS_SOURCE_DIR", "../.."), "tests", "fixtures", "load")


def normalise(value):
    """Sets are unordered in DynamoDB: compare them sorted."""
    if isinstance(value, dict):
        return {k: (sorted(v) if k in ("SS", "NS", "BS") else normalise(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def run_case(name, workdir):
    with open(os.path.join(FIXTURES, name + ".flags")) as f:
        flags = shlex.split(f.read())
    out = os.path.join(workdir, name + ".jsonl")
    rejects = os.path.join(workdir, name + ".rejects.csv")
    cmd = [os.path.join(BIN, "tarius"), "convert", name + ".csv", "--table", "t", "--out", out,
           "--rejects", rejects, "--json"] + flags
    proc = subprocess.run(cmd, cwd=FIXTURES, capture_output=True, timeout=60)
    return proc, out, rejects


class load_fixtures(unittest.TestCase):
    def test_every_case(self):
        cases = sorted(f[:-len(".expected.json")] for f in os.listdir(FIXTURES) if f.endswith(".expected.json"))
        self.assertGreaterEqual(len(cases), 10)
        with tempfile.TemporaryDirectory() as workdir:
            for name in cases:
                with self.subTest(case=name):
                    self.check_case(name, workdir)

    def check_case(self, name, workdir):
        with open(os.path.join(FIXTURES, name + ".expected.json")) as f:
            expected = json.load(f)
        proc, out, rejects = run_case(name, workdir)
        stderr = proc.stderr.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, expected["exit"], stderr)
        for fragment in expected.get("stderr_contains", []):
            self.assertIn(fragment, stderr)
        if "items" not in expected:
            return
        items = []
        with open(out) as f:
            for line in f:
                request = json.loads(line)
                puts = request["RequestItems"]["t"]
                self.assertLessEqual(len(puts), 25)
                items += [p["PutRequest"]["Item"] for p in puts]
        self.assertEqual([normalise(i) for i in items], [normalise(i) for i in expected["items"]])

        summary = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        for key, value in expected["summary"].items():
            self.assertEqual(summary[key], value, key)
        self.assertTrue(summary["reconciles"])
        self.assertEqual(summary["rows_read"], summary["items"] + summary["rows_rejected"] +
                         summary["duplicates_collapsed"])

        with open(rejects + ".reasons.jsonl") as f:
            reasons = [json.loads(line) for line in f]
        self.assertEqual(len(reasons), len(expected["rejects"]))
        for got, want in zip(reasons, expected["rejects"]):
            for key, value in want.items():
                self.assertEqual(got.get(key), value, (key, got))
            self.assertTrue(got["message"])
        if "rejects_lines" in expected:
            with open(os.path.join(FIXTURES, name + ".csv"), "rb") as f:
                lines = f.read().splitlines(keepends=True)
            want = lines[0] + b"".join(lines[n - 1] for n in expected["rejects_lines"])
            with open(rejects, "rb") as f:
                self.assertEqual(f.read(), want)

    def test_gzip_and_zstd_inputs_give_the_same_items(self):
        import gzip
        with tempfile.TemporaryDirectory() as workdir:
            src = os.path.join(FIXTURES, "types.csv")
            with open(src, "rb") as f:
                data = f.read()
            plain = subprocess.run([os.path.join(BIN, "tarius"), "convert", src, "--table", "t", "--out", "-",
                                    "--mapping", os.path.join(FIXTURES, "types.yaml")], capture_output=True)
            self.assertEqual(plain.returncode, 0, plain.stderr)
            gz = os.path.join(workdir, "types.csv.gz")
            with open(gz, "wb") as f:
                f.write(gzip.compress(data))
            zst = os.path.join(workdir, "types.csv.zst")
            subprocess.run(["zstd", "-q", "-f", src, "-o", zst], check=True)
            for path in (gz, zst):
                got = subprocess.run([os.path.join(BIN, "tarius"), "convert", path, "--table", "t", "--out", "-",
                                      "--mapping", os.path.join(FIXTURES, "types.yaml")], capture_output=True)
                self.assertEqual(got.returncode, 0, got.stderr)
                self.assertEqual(got.stdout, plain.stdout)


if __name__ == "__main__":
    unittest.main()
