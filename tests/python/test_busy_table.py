# ctest-label: integration
"""A busy table never fails a load (issue 13): `tarius load` with 64 requests in flight against the stand-in for a
provisioned table (tests/tools/capacity_table: a token bucket of W write units per second, partial batches,
ConsumedCapacity), whose counters are the oracle of what the table accepted. No timing assertions: what is checked
is the outcome (exit 0, every row accepted once, items_written equal to what the table accepted) and that the
report says the table was the limit, with its measured capacity.

On a5a9233 a table of 4,000 units per second made a 200,000-row load fail with status retry and a report claiming
more items than the table held."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import tarius_stack  # noqa: E402

ROWS = 20000


def stand_in_env(url):
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": url, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
                "TARIUS_PROGRESS_SECONDS": "0"})
    return env


def stats(server):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(server.url + "/stats", timeout=30) as response:
        return json.loads(response.read())


class busy_table(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.tarius = os.path.join(tarius_stack.bin_dir(), "tarius")
        cls.path = os.path.join(cls.tmp.name, "rows.csv")
        subprocess.run([cls.tarius, "gen", "--rows", str(ROWS), "--out", cls.path], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def load(self, schedule, *flags):
        with tarius_stack.start_capacity_table("--wcu", schedule, "--burst-seconds", "1",
                                               "--max-seconds", "600") as server:
            done = subprocess.run([self.tarius, "load", self.path, "--table", "t", "--json", "--concurrency", "64",
                                   *flags], capture_output=True, env=stand_in_env(server.url), timeout=600)
            table = stats(server)["totals"]
        report = json.loads(done.stdout)
        return done, report, table

    def assert_every_row_once(self, done, report, table):
        self.assertEqual(done.returncode, 0, done.stderr.decode()[-3000:])
        self.assertEqual(report["status"], "succeeded")
        counts = report["counts"]
        self.assertTrue(counts["reconciles"], counts)
        self.assertEqual(counts["items_written"], table["items"])  # acknowledged = accepted by the table
        self.assertEqual(table["items"], ROWS)  # `tarius gen` keys are unique: every row is one item
        self.assertEqual(counts["wcu_consumed"], table["wcu"])

    def test_a_table_smaller_than_the_writer_slows_the_load_and_never_fails_it(self):
        done, report, table = self.load("2000")
        self.assert_every_row_once(done, report, table)
        counts = report["counts"]
        # The table was the limit, and the report says by how much: its capacity measured while it throttled,
        # and the pace the writer kept before the first throttle (what the table would need).
        self.assertGreater(counts["requests_throttled"], 0)
        self.assertGreater(counts["table_capacity_wcu"], 2000 * 0.5)
        self.assertLess(counts["table_capacity_wcu"], 2000 * 2)
        # 0: not measured (the table throttled within the first 30 ms, before the writer's own pace could be told).
        self.assertTrue(counts["demand_wcu"] == 0 or counts["demand_wcu"] > counts["table_capacity_wcu"], counts)
        # Partial batches are sent again, not multiplied: extra requests stay a small share of the needed ones.
        needed = -(-ROWS // 25)
        self.assertLess(table["requests"], needed * 1.5, table)

    def test_a_capacity_that_drops_and_comes_back_is_followed_without_failing(self):
        done, report, table = self.load("0:3000,2:800,5:3000")
        self.assert_every_row_once(done, report, table)

    def test_a_budget_below_the_table_is_never_throttled(self):
        done, report, table = self.load("5000", "--max-wcu", "2500")
        self.assert_every_row_once(done, report, table)
        self.assertEqual(report["counts"]["requests_throttled"], 0)
        self.assertEqual(table["throttled_requests"], 0)


if __name__ == "__main__":
    unittest.main()
