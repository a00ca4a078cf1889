# ctest-label: fixture
"""The original system's feed, ../shared/seed-data/products.csv (1,000 rows, key ID), validates to 1,000 items in
40 requests with 0 rejects, and every item equals its row as Python's csv module reads it."""
import csv
import json
import os
import subprocess
import unittest

BIN = os.environ.get("TARIUS_BIN", "")
SOURCE = os.environ.get("TARIUS_SOURCE_DIR", "../..")
SEED = os.path.join(SOURCE, "..", "shared", "seed-data", "products.csv")


class seed_sample(unittest.TestCase):
    def test_validate_reports_1000_items_in_40_requests(self):
        proc = subprocess.run([os.path.join(BIN, "tarius"), "validate", SEED, "--key", "ID", "--json"],
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        summary = json.loads(proc.stdout)
        self.assertEqual(summary["rows_read"], 1000)
        self.assertEqual(summary["items"], 1000)
        self.assertEqual(summary["batches"], 40)
        self.assertEqual(summary["rows_rejected"], 0)
        self.assertTrue(summary["reconciles"])

    def test_items_equal_the_rows_as_python_reads_them(self):
        proc = subprocess.run([os.path.join(BIN, "tarius"), "convert", SEED, "--key", "ID", "--table", "product",
                               "--out", "-"], capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.decode().splitlines()
        self.assertEqual(len(lines), 40)
        items = [p["PutRequest"]["Item"] for line in lines for p in json.loads(line)["RequestItems"]["product"]]
        with open(SEED, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(items), len(rows))
        for item, row in zip(items, rows):
            # Default mapping: every column a string, empty cells omitted (sparse items), unquoted cells trimmed;
            # the feed quotes exactly the cells that need it (QUOTE_MINIMAL), and quoted content is kept as is.
            def cell(v):
                return v if any(c in v for c in ',"\r\n') else v.strip()
            want = {k.strip(): {"S": cell(v)} for k, v in row.items() if cell(v) != ""}
            self.assertEqual(item, want)


if __name__ == "__main__":
    unittest.main()
