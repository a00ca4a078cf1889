# ctest-label: integration
"""`tarius load` against the fault-injecting DynamoDB fake: throttling, UnprocessedItems, 500/503, resets, truncated
answers and wrong checksums are recovered; the fake's record of accepted writes, replayed in order, must equal the
file's rows with last-row-wins: nothing lost, nothing out of order."""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import tarius_stack  # noqa: E402

BIN = os.environ.get("TARIUS_BIN", "")
FAULTS = "throttle:3,unprocessed:4,500:2,reset:1,truncate:1,badcrc:1,503:1,throttling:2,unprocessed:6,slow:1"


def fault_server_env(st):
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": st.fault_server.url,
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    return env


class loader_faults(unittest.TestCase):
    def test_max_rejects_stops_the_file_with_every_reject_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            path, rejects = os.path.join(tmp, "bad.csv"), os.path.join(tmp, "rejects.csv")
            with open(path, "w", newline="") as f:  # ten good rows, then ten with an empty key (rejected)
                f.write("ID,Title\n" + "".join("k%d,good\n" % i for i in range(10)) +
                        "".join(",bad %d\n" % i for i in range(10)))
            with tarius_stack.stack(fault_server_args=[]) as st:
                proc = subprocess.run([os.path.join(BIN, "tarius"), "load", path, "--table", "t", "--key", "ID",
                                       "--max-rejects", "3", "--rejects", rejects, "--json"],
                                      env=fault_server_env(st), capture_output=True, timeout=120)
            self.assertNotEqual(proc.returncode, 0, proc.stdout.decode())
            report = json.loads(proc.stdout)
            self.assertEqual(report["status"], "failed", report)
            self.assertIn("more than 3 rows rejected", report["error"])
            # The four rejects counted (the fourth crossed the limit) are all in the outputs, not lost in a buffer.
            with open(rejects, newline="", encoding="utf-8") as f:
                written = list(csv.reader(f))
            self.assertEqual(written, [["ID", "Title"]] + [["", "bad %d" % i] for i in range(4)])
            with open(rejects + ".reasons.jsonl", encoding="utf-8") as f:
                reasons = [json.loads(line) for line in f]
            self.assertEqual([r["line"] for r in reasons], [12, 13, 14, 15])

    def test_every_row_lands_in_file_order_despite_faults(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "p.csv")
            subprocess.run([os.path.join(BIN, "tarius"), "gen", "--rows", "5000", "--duplicate-every", "40",
                            "--out", path], check=True)
            accepted = os.path.join(tmp, "accepted.jsonl")
            with tarius_stack.stack(fault_server_args=["--faults", FAULTS, "--slow-ms", "300",
                                                       "--accepted", accepted]) as st:
                proc = subprocess.run([os.path.join(BIN, "tarius"), "load", path, "--table", "t", "--key", "ID",
                                       "--concurrency", "16", "--json"], env=fault_server_env(st),
                                      capture_output=True, timeout=300)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode() + proc.stdout.decode())
            report = json.loads(proc.stdout)
            self.assertEqual(report["status"], "succeeded")
            self.assertEqual(report["counts"]["rows"], 5000)
            self.assertGreater(report["counts"]["requests_throttled"], 0)

            final = {}
            with open(accepted) as f:
                for line in f:
                    item = json.loads(line)
                    final[item["ID"]["S"]] = item
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            expected = {}
            for row in rows:
                expected[row["ID"]] = row  # last row wins
            self.assertEqual(set(final), set(expected))
            for key, row in expected.items():
                self.assertEqual(final[key]["Title"]["S"], row["Title"].strip(), key)
                self.assertEqual(final[key]["SellerID"]["S"], row["SellerID"], key)
            self.assertEqual(report["counts"]["items_written"] + report["counts"]["duplicates_collapsed"], 5000)


if __name__ == "__main__":
    unittest.main()
