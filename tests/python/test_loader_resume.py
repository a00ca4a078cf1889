# ctest-label: e2e
"""The worker killed (SIGKILL) at random points of a 200,000-row load, then restarted: the load is taken over when
its lease expires and resumed from its checkpoint; the final table equals the file's rows with last-row-wins and
the report's counts equal those of an uninterrupted run (`tarius validate` of the same file)."""
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")


class loader_resume(unittest.TestCase):
    def test_killed_worker_resumes_with_exact_counts(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st, max_receive_count=20)
            path = os.path.join(tmp, "big.csv")
            subprocess.run([TARIUS, "gen", "--rows", "200000", "--seed", "5", "--duplicate-every", "97",
                            "--bad-every", "1001", "--out", path], check=True)
            uninterrupted = json.loads(subprocess.run([TARIUS, "validate", path, "--key", "ID", "--json"],
                                                      capture_output=True).stdout)
            local.s3.upload_file(path, local_loader.BUCKET, "raw-data/big.csv")

            env = dict(local.env, TARIUS_LEASE_SECONDS="3", TARIUS_HEARTBEAT_SECONDS="1", TARIUS_CONCURRENCY="16")
            worker = [TARIUS, "worker", "--queue-url", local.queue_url, "--wait-seconds", "1",
                      "--visibility-timeout", "5"]
            rng = random.Random(20261124)
            killed_with_progress = 0
            for _ in range(3):
                proc = subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(2.0, 7.0))
                proc.kill()
                proc.wait()
                records = local.load_records()
                if records and int(records[0].get("checkpoint_offset", {"N": "0"})["N"]) > 0:
                    killed_with_progress += 1
                time.sleep(3.5)  # let the lease expire

            notes = []
            deadline = time.time() + 900
            while not notes and time.time() < deadline:
                subprocess.run(worker + ["--exit-when-idle"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=900)
                notes = local.notifications()
                if not notes:
                    time.sleep(2)
            self.assertEqual(len(notes), 1, "exactly one load finished")
            report = json.loads(notes[0]["Message"])
            self.assertIn(report["status"], ("succeeded", "succeeded_with_rejects"))
            self.assertEqual(report["counts"]["rows"], uninterrupted["rows_read"])
            self.assertEqual(report["counts"]["items_written"], uninterrupted["items"])
            self.assertEqual(report["counts"]["rejected"], uninterrupted["rows_rejected"])
            self.assertEqual(report["counts"]["duplicates_collapsed"], uninterrupted["duplicates_collapsed"])
            self.assertGreater(killed_with_progress, 0, "no kill landed in the middle of the load")
            record = local.load_records()[0]
            self.assertGreaterEqual(int(record["attempts"]["N"]), 2)

            expected = {}
            with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
                for row in csv.DictReader(f):
                    if row["ID"] and row.get("Url") and None not in row and "\udcff" not in row["Title"]:
                        expected[row["ID"]] = row["Title"].strip()
            items = local.items()
            self.assertEqual(len(items), len(expected))
            for key, title in expected.items():
                self.assertEqual(items[key]["Title"]["S"], title, key)


if __name__ == "__main__":
    unittest.main()
