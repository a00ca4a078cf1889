"""Shared by the Lambda tests and benchmarks: runs the real `bootstrap` against the fake Runtime API and the
local stack, and builds the event shapes Lambda delivers (S3 notifications taken from moto, SQS batches,
EventBridge events)."""
import csv
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import local_loader

BIN = os.environ.get("TARIUS_BIN", "")
BOOTSTRAP = os.path.join(BIN, "bootstrap")


def start_bootstrap(rt, env, extra=None, exe=BOOTSTRAP, argv_prefix=(), log_path=None):
    """Starts bootstrap with the loader's environment pointed at the fake Runtime API (and at it for Invoke)."""
    full = dict(env, AWS_LAMBDA_RUNTIME_API=rt.endpoint, AWS_ENDPOINT_URL_LAMBDA=rt.url,
                AWS_LAMBDA_FUNCTION_NAME="tarius-loader", _HANDLER="bootstrap")
    full.update(extra or {})
    if not log_path:
        return subprocess.Popen([*argv_prefix, exe], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    with open(log_path, "wb") as out:
        return subprocess.Popen([*argv_prefix, exe], env=full, stdout=out, stderr=subprocess.STDOUT)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def s3_event_for(local, key, timeout_s=20):
    """The S3 event notification moto delivered to the landing queue for `key` (consumed from the queue)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        got = local.sqs.receive_message(QueueUrl=local.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in got.get("Messages", []):
            local.sqs.delete_message(QueueUrl=local.queue_url, ReceiptHandle=m["ReceiptHandle"])
            body = json.loads(m["Body"])
            records = body.get("Records", [])
            if records and urllib.parse.unquote_plus(records[0]["s3"]["object"]["key"]) == key:
                return body
    raise AssertionError("no S3 notification for %s reached the queue" % key)


def upload(local, path, key):
    """Uploads `path` to the landing bucket and returns the S3 notification moto sent for it."""
    local.s3.upload_file(path, local_loader.BUCKET, key)
    return s3_event_for(local, key)


def sqs_event(messages, queue_arn):
    """An SQS event as Lambda's event source mapping delivers it: messages = [(message id, body string)]."""
    records = []
    for message_id, body in messages:
        records.append({"messageId": message_id, "receiptHandle": "rh-" + message_id, "body": body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn, "awsRegion": "us-east-1"})
    return {"Records": records}


def eventbridge_event(local, key):
    """The EventBridge "Object Created" event S3 sends for `key` (shape from the S3 user guide)."""
    head = local.s3.head_object(Bucket=local_loader.BUCKET, Key=key)
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": "2026-11-24T08:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:s3:::" + local_loader.BUCKET],
            "detail": {"version": "0", "bucket": {"name": local_loader.BUCKET},
                       "object": {"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"'),
                                  "version-id": head.get("VersionId", ""), "sequencer": "0055AED6DCD90281E5"},
                       "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                       "reason": "PutObject"}}


def expected_items(path):
    """The rows of a CSV file by ID, last row wins (Python's csv module: the independent observer)."""
    with open(path, newline="", encoding="utf-8") as f:
        return {row["ID"]: row for row in csv.DictReader(f)}


def ids_equal(testcase, local, path):
    """Asserts the table holds exactly the IDs of `path`'s rows."""
    testcase.assertEqual(set(local.items()), set(expected_items(path)))
