# ctest-label: fixture
"""The tarius command line: help texts, one-line errors for bad usage, exit codes, the sample generator."""
import csv
import io
import json
import os
import subprocess
import tempfile
import unittest

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")


def run(*args, **kwargs):
    return subprocess.run([TARIUS, *args], capture_output=True, timeout=120, **kwargs)


class cli(unittest.TestCase):
    def test_help_explains_every_flag(self):
        top = run("--help")
        self.assertEqual(top.returncode, 0)
        for command in ("validate", "convert", "gen"):
            self.assertIn(command, top.stdout.decode())
            proc = run(command, "--help")
            self.assertEqual(proc.returncode, 0, command)
            text = proc.stdout.decode()
            self.assertIn("usage: tarius " + command, text)
            for line in text.splitlines():
                if line.strip().startswith("--"):
                    # every flag line carries an explanation after the flag
                    self.assertGreater(len(line.strip().split(None, 2)), 1, line)

    def test_bad_usage_is_a_one_line_error_and_exit_2(self):
        cases = [
            ("validate", "x.csv", "--bogus"),
            ("validate",),
            ("convert", "x.csv", "--key", "ID"),
            ("gen", "--rows", "ten"),
            ("nosuchcommand",),
            ("validate", "x.csv", "--key"),
            ("validate", "x.csv", "--key", "ID:Q"),
        ]
        for args in cases:
            with self.subTest(args=args):
                proc = run(*args)
                self.assertEqual(proc.returncode, 2)
                err = proc.stderr.decode()
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertTrue(err.startswith("tarius"), err)

    def test_missing_file_is_exit_2(self):
        proc = run("validate", "/nonexistent/file.csv", "--key", "ID")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("/nonexistent/file.csv", proc.stderr.decode())

    def test_gen_is_deterministic_and_python_readable(self):
        a = run("gen", "--rows", "500", "--edge-cases", "--seed", "7").stdout
        b = run("gen", "--rows", "500", "--edge-cases", "--seed", "7").stdout
        c = run("gen", "--rows", "500", "--edge-cases", "--seed", "8").stdout
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        rows = list(csv.reader(io.StringIO(a.decode("utf-8"), newline="")))
        self.assertEqual(rows[0], ["ID", "Title", "Availability", "Brand", "Categories", "Price (USD)", "SellerID",
                                   "SellerName", "Url"])
        self.assertEqual(len(rows) - 1, 500)
        self.assertTrue(all(len(r) == 9 for r in rows))
        self.assertEqual(len({r[0] for r in rows[1:]}), 500)

    def test_validate_counts_generated_bad_rows_and_duplicates(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "p.csv")
            self.assertEqual(run("gen", "--rows", "1000", "--bad-every", "10", "--duplicate-every", "7",
                                 "--out", path).returncode, 0)
            mapping = os.path.join(tmp, "mapping.yaml")
            with open(mapping, "w") as f:
                f.write('partition_key: ID\ncolumns:\n  "Price (USD)": {type: number, currency: true}\n')
            proc = run("validate", path, "--mapping", mapping, "--json",
                       "--rejects", os.path.join(tmp, "rejects.csv"))
            proc_mapping = json.loads(proc.stdout)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc_mapping["rows_read"], 1000)
            self.assertEqual(proc_mapping["rows_rejected"], 100)  # every 10th row, four kinds in turn
            self.assertEqual(proc_mapping["rejected_by_reason"],
                             {"field_count": 25, "empty_key": 25, "invalid_number": 25, "invalid_utf8": 25})
            self.assertTrue(proc_mapping["reconciles"])
            with open(os.path.join(tmp, "rejects.csv"), "rb") as f:
                self.assertEqual(len(f.read().splitlines()), 101)


if __name__ == "__main__":
    unittest.main()
