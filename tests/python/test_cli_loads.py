# ctest-label: e2e
"""`tarius load s3://…` with a ledger and `tarius loads`, on the local stack, checked with boto3: the listing shows
every load with the status, version, load id and counts the ledger holds; and rejects larger than S3's 5 MiB part
minimum go up as a multipart upload and arrive byte for byte (the raw bytes of the bad rows, built here)."""
import csv
import io
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402

TARIUS = local_loader.tarius_exe()
BUCKET = local_loader.BUCKET
MIB = 1024 * 1024


class cli_loads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack_cm = tarius_stack.stack(moto=True, dynalite=True)
        st = cls.stack_cm.__enter__()
        try:
            cls.local = local_loader.provisioned(st)
        except Exception:
            cls.stack_cm.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack_cm.__exit__(None, None, None)

    def load(self, key, *flags):
        proc = subprocess.run([TARIUS, "load", "s3://%s/%s" % (BUCKET, key), "--table", self.local.table, *flags,
                               "--json"], env=self.local.env, capture_output=True, timeout=600)
        return proc.returncode, json.loads(proc.stdout), proc.stderr.decode()

    def loads(self, *flags, env=None):
        proc = subprocess.run([TARIUS, "loads", *flags], env=env or self.local.env, capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc.stdout.decode().splitlines()

    def test_loads_lists_every_load_as_the_ledger_holds_it(self):
        s3 = self.local.s3
        files = {
            "listing/good.csv": (b"ID,Title\nL1,one\nL2,two\nL3,three\n", "succeeded", 0),
            "listing/bad rows.csv": (b"ID,Title\nL4,four\nL5,too,many\n,empty key\n", "succeeded_with_rejects", 1),
            "listing/nokey.csv": (b"Title,Brand\na,b\n", "failed", 2),
        }
        expected_rows = {}
        for key, (body, status, exit_code) in files.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            code, report, err = self.load(key, "--ledger-table", "ledger")
            self.assertEqual((code, report["status"]), (exit_code, status), err)
            expected_rows[key] = len(list(csv.reader(io.StringIO(body.decode())))) - 1 if status != "failed" else 0
        # Loading a file again is skipped by the ledger and adds no load.
        code, report, _ = self.load("listing/good.csv", "--ledger-table", "ledger")
        self.assertEqual((code, report["status"]), (0, "skipped"))

        ledger = {r["source"]["S"]: r for r in self.local.ddb.scan(TableName="ledger", ConsistentRead=True)["Items"]
                  if "load_id" in r and r["source"]["S"].startswith("s3://%s/listing/" % BUCKET)}
        self.assertEqual(len(ledger), 3)

        listed = [json.loads(l) for l in self.loads("--ledger-table", "ledger", "--json")]
        listed = {l["source"]: l for l in listed if l["source"].startswith("s3://%s/listing/" % BUCKET)}
        self.assertEqual(set(listed), set(ledger))
        for source, record in ledger.items():
            with self.subTest(source=source):
                entry = listed[source]
                key = source[len("s3://%s/" % BUCKET):]
                self.assertEqual(entry["status"], record["load_status"]["S"])
                self.assertEqual(entry["status"], files[key][1])
                self.assertEqual(entry["version"], record["object_version"]["S"])
                self.assertEqual(entry["load_id"], record["load_id"]["S"])
                self.assertEqual(entry["started_at"], int(record["started_at"]["N"]))
                ledger_report = json.loads(record["report"]["S"])
                self.assertEqual(entry["report"]["counts"], ledger_report["counts"])
                self.assertEqual(entry["report"]["counts"]["rows"], expected_rows[key])
                self.assertEqual(entry["report"]["status"], files[key][1])

        # The human listing: one line per load with its status, source, version, load id and attempts.
        lines = self.loads("--ledger-table", "ledger")
        for source, record in ledger.items():
            matching = [l for l in lines if ("  " + source + "  ") in l]
            self.assertEqual(len(matching), 1, lines)
            self.assertRegex(matching[0], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  %s +" % re.escape(
                record["load_status"]["S"]))
            self.assertIn("version %s, load %s, attempts %s" % (record["object_version"]["S"],
                                                                record["load_id"]["S"], record["attempts"]["N"]),
                          matching[0])
        # TARIUS_LEDGER_TABLE instead of the flag, and --limit.
        self.assertEqual(len(self.loads("--limit", "2", env=dict(self.local.env, TARIUS_LEDGER_TABLE="ledger"))), 2)

    def test_rejects_over_5_mib_arrive_byte_for_byte_through_a_multipart_upload(self):
        header = b"ID,Title,Availability\n"
        rows, good, bad, bad_lines = [], [], [], []
        for i in range(30000):
            if i % 10 == 0:
                row = b"R%d,good %d,In Stock\n" % (i, i)
                good.append(row)
            else:
                row = [b"R%d,too,many,fields,%s\n" % (i, b"x" * 200),
                       b",empty key %d %s,x\n" % (i, b"y" * 200),
                       b"R%d,bad \xff utf8 %s,x\n" % (i, b"z" * 200)][i % 3]
                bad.append(row)
                bad_lines.append(i + 2)  # line 1 is the header
            rows.append(row)
        body = header + b"".join(rows)
        expected_rejects = header + b"".join(bad)
        self.assertGreater(len(expected_rejects), 5 * MIB)
        key = "backfill/many bad rows.csv"
        self.local.s3.put_object(Bucket=BUCKET, Key=key, Body=body)

        code, report, err = self.load(key)
        self.assertEqual(code, 1, err)
        self.assertEqual(report["status"], "succeeded_with_rejects")
        self.assertEqual(report["counts"]["rows"], len(good) + len(bad))
        self.assertEqual(report["counts"]["rejected"], len(bad))
        rejects_key = report["rejects"]["csv"][len("s3://%s/" % BUCKET):]
        self.assertTrue(rejects_key.startswith("invalid-records/" + key + "/"), rejects_key)
        got = self.local.s3.get_object(Bucket=BUCKET, Key=rejects_key)
        data = got["Body"].read()
        self.assertEqual(len(data), len(expected_rejects))
        self.assertTrue(data == expected_rejects, "the rejects differ from the bad rows")
        self.assertEqual(got["ContentType"], "text/csv")
        # Stored as a multipart upload of 5 MiB parts: the ETag names the part count.
        parts = -(-len(expected_rejects) // (5 * MIB))
        self.assertRegex(got["ETag"].strip('"'), r"^[0-9a-f]{32}-%d$" % parts)
        reasons = self.local.s3.get_object(Bucket=BUCKET, Key=report["rejects"]["reasons"][len("s3://%s/" % BUCKET):])
        reasons = [json.loads(l) for l in reasons["Body"].read().decode().splitlines()]
        self.assertEqual([r["line"] for r in reasons], bad_lines)
        self.assertEqual({r["reason"] for r in reasons}, {"field_count", "empty_key", "invalid_utf8"})
        # The good rows are in the table.
        items = self.local.items()
        for row in csv.reader(io.StringIO((header + b"".join(good)).decode())):
            if row[0] != "ID":
                self.assertEqual(items[row[0]]["Title"]["S"], row[1])


if __name__ == "__main__":
    unittest.main()
