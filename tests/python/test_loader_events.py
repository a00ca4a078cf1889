# ctest-label: e2e
"""S3 events out of order and twice, through the queue and `tarius worker`, checked with boto3: an older version's
event processed after a newer one is skipped as stale (the table keeps the newer rows), and a real multipart upload
(boto3 upload_file over a small threshold, so S3 sends ObjectCreated:CompleteMultipartUpload) delivered twice, plus
the Put-style event moto also sends for it, is loaded exactly once."""
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

import boto3.s3.transfer

sys.path.insert(0, os.path.dirname(__file__))
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402

TARIUS = local_loader.tarius_exe()
BUCKET = local_loader.BUCKET
MIB = 1024 * 1024

# Sequencers as S3 writes them (hex, growing for later events on a key; lengths may differ: compare after
# right-padding the shorter with zeros). moto's queue notifications carry none, so the tests add them.
OLDER_SEQUENCER = "0062E99A88DC407460"
NEWER_SEQUENCER = "0062E99A88DC40746000A1"


def take_events(local):
    """Every object-created event in the queue (received and deleted), in arrival order; test events dropped."""
    return [body for body in local.drain(local.queue_url) if "Records" in body]


def run_worker(test, local):
    """One `tarius worker --exit-when-idle` run; returns its `load …` log lines."""
    proc = subprocess.run([TARIUS, "worker", "--queue-url", local.queue_url, "--exit-when-idle", "--wait-seconds",
                           "1", "--visibility-timeout", "30"], env=local.env, capture_output=True, timeout=600)
    test.assertEqual(proc.returncode, 0, proc.stderr.decode()[-2000:])
    logs = [json.loads(l) for l in proc.stdout.decode().splitlines() if l.startswith("{")]
    return [l for l in logs if l.get("msg", "").startswith("load ")]


def queue_is_empty(test, local):
    attrs = local.sqs.get_queue_attributes(QueueUrl=local.queue_url, AttributeNames=["All"])["Attributes"]
    test.assertEqual((attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]),
                     ("0", "0"), attrs)


class loader_events(unittest.TestCase):
    def test_older_version_event_after_newer_one_is_skipped_as_stale(self):
        with tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            key = "raw-data/stale.csv"
            source = "s3://%s/%s" % (BUCKET, key)
            old_body = b"ID,Title\nS-1,old one\nS-2,old two\nS-OLD,only in the old file\n"
            new_body = b"ID,Title\nS-1,new one\nS-2,new two\nS-3,new three\n"
            old_put = local.s3.put_object(Bucket=BUCKET, Key=key, Body=old_body)
            new_put = local.s3.put_object(Bucket=BUCKET, Key=key, Body=new_body)
            self.assertNotEqual(old_put["VersionId"], new_put["VersionId"])
            events = take_events(local)
            self.assertEqual(len(events), 2, events)
            by_etag = {e["Records"][0]["s3"]["object"]["eTag"].strip('"'): e for e in events}
            older = copy.deepcopy(by_etag[old_put["ETag"].strip('"')])
            newer = copy.deepcopy(by_etag[new_put["ETag"].strip('"')])
            older["Records"][0]["s3"]["object"].update(versionId=old_put["VersionId"], sequencer=OLDER_SEQUENCER)
            newer["Records"][0]["s3"]["object"].update(versionId=new_put["VersionId"], sequencer=NEWER_SEQUENCER)

            # The newer version's event arrives (or is processed) first ...
            local.sqs.send_message(QueueUrl=local.queue_url, MessageBody=json.dumps(newer))
            loads = run_worker(self, local)
            self.assertEqual([(l["msg"], l["source"]) for l in loads], [("load succeeded", source)], loads)
            # ... then the older one: skipped as stale, its message deleted (no retry).
            local.sqs.send_message(QueueUrl=local.queue_url, MessageBody=json.dumps(older))
            loads = run_worker(self, local)
            self.assertEqual([l["msg"] for l in loads], ["load skipped"], loads)
            self.assertIn("stale", loads[0]["detail"])
            queue_is_empty(self, local)

            items = local.items()
            self.assertEqual({k: v["Title"]["S"] for k, v in items.items()},
                             {"S-1": "new one", "S-2": "new two", "S-3": "new three"})
            ledger = local.ddb.scan(TableName="ledger", ConsistentRead=True)["Items"]
            loads_recorded = [r for r in ledger if "load_id" in r]
            self.assertEqual(len(loads_recorded), 1, loads_recorded)
            self.assertEqual(loads_recorded[0]["object_version"]["S"], new_put["VersionId"])
            self.assertEqual(loads_recorded[0]["load_status"]["S"], "succeeded")
            key_record = [r for r in ledger if r["pk"]["S"] == source]
            self.assertEqual(len(key_record), 1, ledger)
            self.assertEqual(key_record[0]["sequencer"]["S"].rstrip("0"), NEWER_SEQUENCER.rstrip("0"))
            notes = local.notifications()
            self.assertEqual([json.loads(n["Message"])["status"] for n in notes], ["succeeded"])
            self.assertEqual(json.loads(notes[0]["Message"])["version"], new_put["VersionId"])

    def test_multipart_upload_delivered_twice_loads_once(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            path = local_loader.gen_csv(os.path.join(tmp, "multi.csv"), 50000, "--seed", "21",
                                        "--duplicate-every", "61")
            self.assertGreater(os.path.getsize(path), 10 * MIB)
            rows, by_id = local_loader.rows_by_id(path)
            key = "raw-data/multi part.csv"
            source = "s3://%s/%s" % (BUCKET, key)
            config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB,
                                                      max_concurrency=2)
            local.s3.upload_file(path, BUCKET, key, Config=config)
            etag = local.s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
            self.assertRegex(etag, r"^[0-9a-f]{32}-3$", "not stored as a 3-part multipart upload")

            events = take_events(local)
            names = [e["Records"][0]["eventName"] for e in events]
            self.assertIn("ObjectCreated:CompleteMultipartUpload", names)
            for e in events:
                self.assertEqual(e["Records"][0]["s3"]["object"]["eTag"].strip('"'), etag)
            completion = events[names.index("ObjectCreated:CompleteMultipartUpload")]
            # At-least-once: the completion event twice, and every other event S3 (moto) sent for the upload.
            deliveries = [completion] + events
            for event in deliveries:
                local.sqs.send_message(QueueUrl=local.queue_url, MessageBody=json.dumps(event))
            loads = run_worker(self, local)
            self.assertEqual(sorted(l["msg"] for l in loads),
                             ["load skipped"] * (len(deliveries) - 1) + ["load succeeded"], loads)
            self.assertTrue(all(l["source"] == source for l in loads), loads)
            queue_is_empty(self, local)

            loads_recorded = [r for r in local.ddb.scan(TableName="ledger", ConsistentRead=True)["Items"]
                              if "load_id" in r]
            self.assertEqual(len(loads_recorded), 1, loads_recorded)
            self.assertEqual(loads_recorded[0]["source"]["S"], source)
            self.assertEqual(loads_recorded[0]["object_version"]["S"], etag)
            self.assertEqual(loads_recorded[0]["load_status"]["S"], "succeeded")
            self.assertEqual(loads_recorded[0]["attempts"]["N"], "1")
            notes = local.notifications()
            self.assertEqual(len(notes), 1, notes)
            report = json.loads(notes[0]["Message"])
            self.assertEqual(report["counts"]["rows"], rows)
            self.assertEqual(report["counts"]["items_written"] + report["counts"]["duplicates_collapsed"], rows)
            items = local.items()
            self.assertEqual(set(items), set(by_id))
            for item_key, row in by_id.items():
                self.assertEqual(items[item_key]["Title"]["S"], row["Title"].strip(), item_key)


if __name__ == "__main__":
    unittest.main()
