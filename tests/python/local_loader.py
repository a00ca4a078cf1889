"""Shared by the loader's end-to-end tests: provisions the landing bucket (notifications → queue with a DLQ), the
target table, the ledger and the topic (with an SQS subscription) on the local stack, and the environment the
`tarius` processes need."""
import json
import os

import tarius_stack

BUCKET = "landing"


class provisioned:
    """The resources of one test class, created with boto3."""

    def __init__(self, st, max_receive_count=2, table="product"):
        moto, dyn = st.moto.url, st.dynalite.url
        self.s3 = tarius_stack.s3_client(moto)
        self.sqs = tarius_stack.sqs_client(moto)
        self.sns = tarius_stack.client("sns", moto)
        self.ddb = tarius_stack.dynamodb_client(dyn, max_attempts=5)
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.dlq_url = self.sqs.create_queue(QueueName="loads-dlq")["QueueUrl"]
        self.queue_url = self.sqs.create_queue(QueueName="loads", Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": self.arn(self.dlq_url), "maxReceiveCount": str(max_receive_count)})})["QueueUrl"]
        self.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": self.arn(self.queue_url), "Events": ["s3:ObjectCreated:*"],
                                     "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "raw-data/"},
                                                                        {"Name": "suffix", "Value": ".csv"}]}}}]})
        self.topic_arn = self.sns.create_topic(Name="loads")["TopicArn"]
        self.notify_url = self.sqs.create_queue(QueueName="notify")["QueueUrl"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self.arn(self.notify_url))
        for name, key in ((table, "ID"), ("ledger", "pk")):
            self.ddb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                                  BillingMode="PAY_PER_REQUEST")
            self.ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
        self.table = table
        self.env = dict(os.environ)
        self.env.update({
            "AWS_ACCESS_KEY_ID": tarius_stack.ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": tarius_stack.SECRET_ACCESS_KEY,
            "AWS_REGION": tarius_stack.REGION, "AWS_ENDPOINT_URL": moto, "AWS_ENDPOINT_URL_DYNAMODB": dyn,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true", "TARIUS_TABLE": table, "TARIUS_LEDGER_TABLE": "ledger",
            "TARIUS_TOPIC_ARN": self.topic_arn, "TARIUS_LANDING_BUCKET": BUCKET,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})

    def arn(self, queue_url):
        return self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def items(self):
        """Every item of the target table by ID (boto3 Scan)."""
        items, start = {}, None
        while True:
            kwargs = {"TableName": self.table}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self.ddb.scan(**kwargs)
            for item in page["Items"]:
                items[item["ID"]["S"]] = item
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def drain(self, queue_url):
        """Every message body in the queue (JSON-decoded, received and deleted), in arrival order, until a receive
        waits a second for nothing."""
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            if not got.get("Messages"):
                return out
            for m in got["Messages"]:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    def notifications(self):
        """The SNS envelopes delivered to the subscription queue so far (consumed)."""
        return self.drain(self.notify_url)

    def load_records(self):
        """The ledger's load records (boto3 Scan)."""
        return [i for i in self.ddb.scan(TableName="ledger")["Items"] if "load_id" in i]


# --- Helpers of the CLI signal, ledger listing and event tests (test_cli_signals.py, test_cli_loads.py,
# test_loader_events.py). ---

def tarius_exe():
    """The tarius binary under test ($TARIUS_BIN/tarius)."""
    return os.path.join(os.environ.get("TARIUS_BIN", ""), "tarius")


def gen_csv(path, rows, *flags):
    """Writes `tarius gen --rows N [flags]` to `path`."""
    import subprocess

    subprocess.run([tarius_exe(), "gen", "--rows", str(rows), *flags, "--out", path], check=True)
    return path


def rows_by_id(path):
    """(data rows, {ID: row}) of a CSV file read with Python's csv module, last row winning for repeated IDs."""
    import csv

    rows, by_id = 0, {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows += 1
            by_id[row["ID"]] = row
    return rows, by_id


class line_reader:
    """Collects the lines a child process writes to one pipe, on a thread, so a test can wait for a line while the
    process keeps running (and read the rest after it exits)."""

    def __init__(self, pipe):
        import queue
        import threading

        self.lines = []
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._thread.start()

    def _pump(self, pipe):
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, condition, timeout):
        """The first line (from now on) for which condition(line) is true; None at end of stream or timeout."""
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if condition(line):
                return line

    def join(self, timeout=30):
        """Waits until the pipe is closed."""
        self._thread.join(timeout)


def progress_line(line):
    """The parsed `tarius load` progress log line, or None for any other line."""
    if not line.startswith("{"):
        return None
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if parsed.get("msg") == "load progress" else None


def ledger_load_record(local, source):
    """The ledger's load record of `source` (s3://bucket/key), read with boto3 (ConsistentRead Scan), or None."""
    records = [r for r in local.ddb.scan(TableName="ledger", ConsistentRead=True)["Items"]
               if "load_id" in r and r["source"]["S"] == source]
    assert len(records) <= 1, records
    return records[0] if records else None
