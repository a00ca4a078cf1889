# ctest-label: e2e
"""The loader end to end on the local stack (moto for S3/SQS/SNS, dynalite for DynamoDB), verified with boto3:
S3 notification → queue → `tarius worker` → items in the table, ledger, rejects and report in S3, SNS summary."""
import csv
import io
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402

BIN = os.environ.get("TARIUS_BIN", "")
SOURCE = os.environ.get("TARIUS_SOURCE_DIR", "../..")
SEED = os.path.join(SOURCE, "..", "shared", "seed-data", "products.csv")
BUCKET = local_loader.BUCKET


class loader_e2e(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack_cm = tarius_stack.stack(moto=True, dynalite=True)
        cls.stack = cls.stack_cm.__enter__()
        try:
            cls.local = local_loader.provisioned(cls.stack)
        except Exception:
            cls.stack_cm.__exit__(None, None, None)
            raise
        cls.s3, cls.sqs, cls.ddb = cls.local.s3, cls.local.sqs, cls.local.ddb
        cls.queue_url, cls.dlq_url, cls.env = cls.local.queue_url, cls.local.dlq_url, cls.local.env

    @classmethod
    def tearDownClass(cls):
        cls.stack_cm.__exit__(None, None, None)

    def run_worker(self, extra_env=None, timeout=180):
        env = dict(self.env)
        env.update(extra_env or {})
        proc = subprocess.run([os.path.join(BIN, "tarius"), "worker", "--queue-url", self.queue_url,
                               "--exit-when-idle", "--wait-seconds", "2", "--visibility-timeout", "30"],
                              env=env, capture_output=True, timeout=timeout)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return [json.loads(line) for line in proc.stdout.decode().splitlines() if line.startswith("{")]

    def notifications(self):
        return self.local.notifications()

    def items(self):
        return self.local.items()

    def test_1_seed_sample_loads_exactly_once(self):
        with open(SEED, "rb") as f:
            data = f.read()
        self.s3.put_object(Bucket=BUCKET, Key="raw-data/products.csv", Body=data)
        # Keep the notification S3 sent, to deliver it again later (at-least-once delivery).
        peeked = self.sqs.receive_message(QueueUrl=self.queue_url, WaitTimeSeconds=5, VisibilityTimeout=0)
        original_event = peeked["Messages"][0]["Body"]
        logs = self.run_worker()
        loads = [l for l in logs if l.get("msg", "").startswith("load ")]
        self.assertEqual([l["msg"] for l in loads], ["load succeeded"], logs)
        items = self.items()
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        self.assertEqual(len(items), 1000)
        for row in rows:
            item = items[row["ID"]]
            for column, value in row.items():
                want = value if any(c in value for c in ',"\r\n') else value.strip()
                if want:
                    self.assertEqual(item[column]["S"], want)
        ledger = self.ddb.scan(TableName="ledger")["Items"]
        loads_recorded = [i for i in ledger if "load_id" in i]
        self.assertEqual(len(loads_recorded), 1)
        self.assertEqual(loads_recorded[0]["load_status"]["S"], "succeeded")
        notes = self.notifications()
        self.assertEqual(len(notes), 1)
        report = json.loads(notes[0]["Message"])
        self.assertEqual(report["status"], "succeeded")
        self.assertEqual(report["counts"]["rows"], 1000)
        self.assertEqual(report["counts"]["items_written"], 1000)
        self.assertEqual(notes[0]["MessageAttributes"]["status"]["Value"], "succeeded")
        self.assertEqual(notes[0]["MessageAttributes"]["table"]["Value"], "product")

        # The same event delivered three more times (at-least-once): no second load.
        for _ in range(3):
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=original_event)
        logs = self.run_worker()
        self.assertTrue(all(l["msg"] == "load skipped" for l in logs if l.get("msg", "").startswith("load ")), logs)
        self.assertEqual(len([i for i in self.ddb.scan(TableName="ledger")["Items"] if "load_id" in i]), 1)
        self.assertEqual(self.notifications(), [])

    def test_2_header_without_key_fails_once_without_retry(self):
        self.s3.put_object(Bucket=BUCKET, Key="raw-data/nokey.csv", Body=b"Title,Brand\na,b\n")
        before = len(self.items())
        logs = self.run_worker()
        loads = [l for l in logs if l.get("msg", "").startswith("load ")]
        self.assertEqual([l["msg"] for l in loads], ["load failed"], logs)
        self.assertIn("column ID (partition key) not in header", loads[0]["detail"])
        self.assertEqual(len(self.items()), before)
        notes = self.notifications()
        self.assertEqual(len(notes), 1)
        self.assertEqual(json.loads(notes[0]["Message"])["status"], "failed")
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "0")

    def test_3_bad_rows_go_to_rejects_byte_for_byte(self):
        good = "G1,Good one,In Stock\nG2,\"Good, two\",In Stock\n"
        bad_lines = ["B1,too,many,fields\n", ",empty key,x\n", "B3,bad \xff utf8,x\n"]
        body = b"ID,Title,Availability\n" + good.encode() + b"".join(l.encode("latin-1") for l in bad_lines)
        key = "raw-data/with bad + rows é.csv"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        logs = self.run_worker()
        loads = [l for l in logs if l.get("msg", "").startswith("load ")]
        self.assertEqual([l["msg"] for l in loads], ["load succeeded_with_rejects"], logs)
        self.assertEqual(loads[0]["source"], "s3://landing/" + key)
        items = self.items()
        self.assertEqual(items["G2"]["Title"]["S"], "Good, two")
        report = json.loads(self.notifications()[0]["Message"])
        self.assertEqual(report["counts"]["rejected"], 3)
        rejects_key = report["rejects"]["csv"][len("s3://landing/"):]
        self.assertTrue(rejects_key.startswith("invalid-records/" + key + "/"))
        rejects = self.s3.get_object(Bucket=BUCKET, Key=rejects_key)["Body"].read()
        self.assertEqual(rejects, b"ID,Title,Availability\n" + b"".join(l.encode("latin-1") for l in bad_lines))
        reasons = self.s3.get_object(Bucket=BUCKET, Key=report["rejects"]["reasons"][len("s3://landing/"):])["Body"]
        reasons = [json.loads(l) for l in reasons.read().decode().splitlines()]
        self.assertEqual([r["reason"] for r in reasons], ["field_count", "empty_key", "invalid_utf8"])
        self.assertEqual([r["line"] for r in reasons], [4, 5, 6])

    def test_4_missing_table_fails_the_load_once_and_is_never_retried(self):
        self.s3.put_object(Bucket=BUCKET, Key="raw-data/orphan.csv", Body=b"ID,V\n1,a\n")
        # A missing table is permanent (DynamoDB ResourceNotFoundException): the load fails once, is recorded and
        # notified, and the message is deleted instead of being redelivered into the dead-letter queue.
        logs = self.run_worker({"TARIUS_TABLE": "no-such-table"})
        loads = [l for l in logs if l.get("msg", "").startswith("load ")]
        self.assertEqual([l["msg"] for l in loads], ["load failed"], logs)
        self.assertIn("no-such-table", loads[0]["detail"])
        notes = [json.loads(n["Message"]) for n in self.notifications()]
        self.assertEqual([n["status"] for n in notes if n["source"].endswith("/orphan.csv")], ["failed"])
        for queue in (self.queue_url, self.dlq_url):
            attrs = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
            self.assertEqual(attrs["ApproximateNumberOfMessages"], "0", queue)
            self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "0", queue)

    def test_5_transient_failure_ends_in_the_dead_letter_queue(self):
        self.s3.put_object(Bucket=BUCKET, Key="raw-data/unreachable.csv", Body=b"ID,V\n1,a\n")
        # DynamoDB unreachable (a closed port) is transient: the message is left for redelivery each time (the
        # worker makes it visible again after 10 s) until the redrive policy (2 receives) moves it.
        closed = "http://127.0.0.1:%d" % tarius_stack.free_port()
        in_dlq = "0"
        logs = []
        for _ in range(5):
            logs += self.run_worker({"AWS_ENDPOINT_URL_DYNAMODB": closed, "AWS_MAX_ATTEMPTS": "1"})
            attrs = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
            in_dlq = attrs["Attributes"]["ApproximateNumberOfMessages"]
            if in_dlq == "1":
                break
            time.sleep(11)
        self.assertEqual(in_dlq, "1", logs)
        self.assertTrue(any(l.get("msg") == "load retry" for l in logs), logs)


if __name__ == "__main__":
    unittest.main()
