# ctest-label: e2e
"""The witnesses of issue 10, items 1, 2, 3, 5, 7 and 10, as black-box tests of the CLI, the worker and bootstrap.
Every outcome is read by observers the project did not write: boto3 (dynalite's table, moto's S3, SQS and SNS),
Python's csv and gzip modules, dynalite's own refusal message, the kernel's peak RSS of the child (wait4), and
recording servers written from AWS's documentation (witness_servers.py).

- item 1: a row DynamoDB refuses as invalid (a GSI keyed on a number, Cat=abc under --types Cat=auto) is rejected
  alone as refused_by_dynamodb with DynamoDB's message; the other 59 rows are written; the worker finishes the
  message (deleted, report, rejects, SNS, `tarius loads`: succeeded_with_rejects);
- item 2: a gzip file cut at 60 % fails, and its report counts exactly the items the table holds;
- item 3: a notification (or an SQS message) holding [missing.csv, good.csv] loads good.csv and fails
  missing.csv permanently (ledger, SNS, report), with no retry and nothing dead-lettered;
- item 5: peak RSS ≤ 256 MiB at default settings for 400 KB rows (a 646 KB .gz of 1,600 rows) and for rows of
  control characters; ≤ 40 % of AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 in bootstrap;
- item 7: --max-wcu B never exceeded: in any window of T ≥ 1 s at most B × (T + 1) write units reach the server;
  an item costing more than B goes alone, followed by a pause of cost/B seconds; --max-wcu 0 is refused;
- item 10: a source key near 1,024 bytes with rejects: the rejects and report keys fit S3's limit (enforced by a
  proxy, moto does not), the status is not retry, the full key is in the report and the objects' metadata."""
import csv
import gzip
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import fake_runtime  # noqa: E402
import lambda_support as ls  # noqa: E402
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402
import witness_servers as ws  # noqa: E402

TARIUS = os.path.join(tarius_stack.bin_dir(), "tarius")
BOOTSTRAP = os.path.join(tarius_stack.bin_dir(), "bootstrap")
BUCKET = local_loader.BUCKET
MIB = 1024 * 1024
# A child whose RSS passes this is killed (and fails): the witnesses reached GBs on a5a9233, on a shared machine.
RSS_KILL_BYTES = int(os.environ.get("TARIUS_TEST_RSS_KILL_MB", "1024")) * MIB


def run_cli(args, env, timeout=600):
    """`tarius ARGS`: (exit status, stdout text, stderr text)."""
    proc = subprocess.run([TARIUS, *args], env=env, capture_output=True, timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def table_count(ddb, table):
    """Items in `table` (boto3 Scan, Select=COUNT, consistent, all pages)."""
    total, start = 0, None
    while True:
        kwargs = {"TableName": table, "Select": "COUNT", "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.scan(**kwargs)
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def table_ids(ddb, table):
    ids, start = set(), None
    while True:
        kwargs = {"TableName": table, "ConsistentRead": True, "ProjectionExpression": "ID"}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.scan(**kwargs)
        ids.update(i["ID"]["S"] for i in page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return ids


def create_table(ddb, name, gsi_on_number=None):
    """A table keyed on ID (string); with `gsi_on_number`, a global secondary index keyed on that number attribute."""
    kwargs = {"TableName": name, "KeySchema": [{"AttributeName": "ID", "KeyType": "HASH"}],
              "AttributeDefinitions": [{"AttributeName": "ID", "AttributeType": "S"}],
              "BillingMode": "PAY_PER_REQUEST"}
    if gsi_on_number:
        kwargs["AttributeDefinitions"].append({"AttributeName": gsi_on_number, "AttributeType": "N"})
        kwargs["GlobalSecondaryIndexes"] = [{"IndexName": "by_" + gsi_on_number.lower(),
                                             "KeySchema": [{"AttributeName": gsi_on_number, "KeyType": "HASH"}],
                                             "Projection": {"ProjectionType": "ALL"}}]
    ddb.create_table(**kwargs)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})


def s3_objects(local, prefix):
    """{key: body bytes} of the landing bucket's objects under `prefix` (boto3)."""
    out = {}
    for page in local.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = local.s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    return out


def reports_for(local, source):
    return [json.loads(body) for body in s3_objects(local, "load-reports/").values()
            if json.loads(body).get("source") == source]


def sns_for(local, source):
    return [m for m in (json.loads(n["Message"]) for n in local.notifications()) if m.get("source") == source]


def queue_depth(local, url):
    attrs = local.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def csv_records(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


class stack_case(unittest.TestCase):
    maxDiff = None

    """A test class on its own local stack (moto + dynalite) with the landing resources provisioned."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tarius-issue10-")
        cls.stack_cm = tarius_stack.stack(moto=True, dynalite=True)
        cls.st = cls.stack_cm.__enter__()
        try:
            cls.local = local_loader.provisioned(cls.st)
        except BaseException:
            cls.stack_cm.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack_cm.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)


# ---------------------------------------------------------------------------------------------------------- item 1
class item1_row_refused_by_dynamodb(stack_case):
    BAD_INDEX = 10  # in the first 25-item batch

    def write_cat_csv(self, name):
        rows = [("r%02d" % i, "abc" if i == self.BAD_INDEX else str(i % 7), "title %d" % i) for i in range(60)]
        path = self.path(name)
        with open(path, "w", newline="", encoding="utf-8") as f:
            f.write("ID,Cat,Title\n" + "".join("%s,%s,%s\n" % r for r in rows))
        return path, rows

    def dynamodb_message(self, table, row):
        """What DynamoDB itself (dynalite) says when the bad row is put alone, as --types Cat=auto types it."""
        import botocore.exceptions

        with self.assertRaises(botocore.exceptions.ClientError) as refused:
            self.local.ddb.put_item(TableName=table, Item={"ID": {"S": row[0]}, "Cat": {"S": row[1]},
                                                           "Title": {"S": row[2]}})
        self.assertEqual(refused.exception.response["Error"]["Code"], "ValidationException")
        return refused.exception.response["Error"]["Message"]

    def test_cli_rejects_only_the_refused_row_with_dynamodbs_message(self):
        create_table(self.local.ddb, "cat_cli", gsi_on_number="Cat")
        path, rows = self.write_cat_csv("cat.csv")
        bad = rows[self.BAD_INDEX]
        message = self.dynamodb_message("cat_cli", bad)
        rejects = self.path("cat.rejects.csv")
        code, out, err = run_cli(["load", path, "--table", "cat_cli", "--key", "ID", "--types", "Cat=auto",
                                  "--rejects", rejects, "--json"], self.local.env, timeout=300)
        report = json.loads(out)
        counts = report["counts"]
        facts = {"exit": code, "status": report["status"], "rows": counts["rows"],
                 "items_written": counts["items_written"], "rejected": counts["rejected"],
                 "rejected_by_reason": counts["rejected_by_reason"], "reconciles": counts["reconciles"],
                 "items in the table": table_count(self.local.ddb, "cat_cli")}
        self.assertEqual(facts, {"exit": 1, "status": "succeeded_with_rejects", "rows": 60, "items_written": 59,
                                 "rejected": 1, "rejected_by_reason": {"refused_by_dynamodb": 1}, "reconciles": True,
                                 "items in the table": 59}, out + err)
        self.assertEqual(table_ids(self.local.ddb, "cat_cli"), {r[0] for r in rows} - {bad[0]})
        with open(rejects, "rb") as f:
            self.assertEqual(csv_records(f.read()), [["ID", "Cat", "Title"], list(bad)])
        with open(rejects + ".reasons.jsonl", encoding="utf-8") as f:
            reasons = [json.loads(line) for line in f if line.strip()]
        self.assertEqual([(r["line"], r["reason"]) for r in reasons], [(self.BAD_INDEX + 2, "refused_by_dynamodb")])
        self.assertIn(message, reasons[0]["message"])

    def test_worker_finishes_the_message_with_report_rejects_and_sns(self):
        create_table(self.local.ddb, "cat_worker", gsi_on_number="Cat")
        path, rows = self.write_cat_csv("cat-worker.csv")
        bad = rows[self.BAD_INDEX]
        message = self.dynamodb_message("cat_worker", bad)
        key = "raw-data/item1/cat.csv"
        source = "s3://%s/%s" % (BUCKET, key)
        self.local.s3.upload_file(path, BUCKET, key)
        env = dict(self.local.env, TARIUS_TABLE="cat_worker",
                   TARIUS_MAPPING="partition_key: ID:S\ncolumns:\n  Cat: {type: auto}\n")
        worker = subprocess.Popen([TARIUS, "worker", "--queue-url", self.local.queue_url, "--exit-when-idle",
                                   "--wait-seconds", "2", "--visibility-timeout", "5"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            worker_log, _ = worker.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            worker.kill()  # by its PID: it kept going (e.g. redelivering the message)
            worker_log, _ = worker.communicate()
        worker_log = worker_log.decode("utf-8", "replace")[-3000:]
        record = local_loader.ledger_load_record(self.local, source)
        facts = {
            "ledger status": record and record["load_status"]["S"],
            "messages left in the queue": queue_depth(self.local, self.local.queue_url),
            "messages in the DLQ": queue_depth(self.local, self.local.dlq_url),
            "report statuses": [r["status"] for r in reports_for(self.local, source)],
            "SNS statuses": [m["status"] for m in sns_for(self.local, source)],
        }
        self.assertEqual(facts, {"ledger status": "succeeded_with_rejects", "messages left in the queue": 0,
                                 "messages in the DLQ": 0, "report statuses": ["succeeded_with_rejects"],
                                 "SNS statuses": ["succeeded_with_rejects"]}, worker_log)
        self.assertEqual(table_ids(self.local.ddb, "cat_worker"), {r[0] for r in rows} - {bad[0]})
        report = reports_for(self.local, source)[0]
        self.assertEqual((report["counts"]["items_written"], report["counts"]["rejected"]), (59, 1))
        rejected = s3_objects(self.local, "invalid-records/" + key + "/")
        csvs = [body for name, body in rejected.items() if name.endswith(".csv")]
        self.assertEqual([csv_records(body) for body in csvs], [[["ID", "Cat", "Title"], list(bad)]])
        reasons = [json.loads(line) for name, body in rejected.items() if name.endswith(".reasons.jsonl")
                   for line in body.decode().splitlines() if line.strip()]
        self.assertEqual([r["reason"] for r in reasons], ["refused_by_dynamodb"])
        self.assertIn(message, reasons[0]["message"])
        code, out, err = run_cli(["loads", "--ledger-table", "ledger", "--json"], self.local.env)
        listed = [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]
        mine = [entry for entry in listed if entry.get("source") == source]
        self.assertEqual([entry.get("status") for entry in mine], ["succeeded_with_rejects"], out + err)


# ---------------------------------------------------------------------------------------------------------- item 2
class item2_counts_from_acknowledgements(stack_case):
    def test_gzip_cut_at_60_percent_reports_what_the_table_holds(self):
        full = local_loader.gen_csv(self.path("full.csv"), 30000, "--seed", "7")
        with open(full, "rb") as f:
            packed = gzip.compress(f.read(), compresslevel=6)
        cut = self.path("cut.csv.gz")
        with open(cut, "wb") as f:
            f.write(packed[:len(packed) * 6 // 10])
        create_table(self.local.ddb, "cut")
        code, out, err = run_cli(["load", cut, "--table", "cut", "--key", "ID", "--json"], self.local.env)
        report = json.loads(out)
        counts = report["counts"]
        in_table = table_count(self.local.ddb, "cut")
        self.assertEqual((code, report["status"]), (2, "failed"), out + err)
        self.assertEqual(counts["items_written"], in_table, "report %s, table %d" % (counts, in_table))
        self.assertEqual(counts["rows"], counts["items_written"] + counts["rejected"] +
                         counts["duplicates_collapsed"] + counts.get("not_loaded", 0), counts)
        self.assertGreater(in_table, 0)


# ---------------------------------------------------------------------------------------------------------- item 3
class item3_one_record_one_outcome(stack_case):
    def setUp(self):
        self.rt = fake_runtime.FakeRuntime(timeout_s=120, async_retries=2)
        self.rt.__enter__()
        self.proc = ls.start_bootstrap(self.rt, self.local.env, exe=BOOTSTRAP,
                                       log_path=self.path(self.id().rsplit(".", 1)[-1] + ".log"))

    def tearDown(self):
        ls.stop(self.proc)
        self.rt.close()

    def records(self, folder):
        """[missing.csv's record, good.csv's record] of one S3 notification; good.csv is uploaded."""
        good = self.path(folder + "-good.csv")
        with open(good, "w") as f:
            f.write("ID,Title\n%s-1,a\n%s-2,b\n" % (folder, folder))
        good_record = ls.upload(self.local, good, "raw-data/%s/good.csv" % folder)["Records"][0]
        missing_record = json.loads(json.dumps(good_record))
        missing_record["s3"]["object"] = {"key": "raw-data/%s/missing.csv" % folder, "size": 20}
        return [missing_record, good_record]

    def assert_outcomes(self, folder, loads):
        missing = "s3://%s/raw-data/%s/missing.csv" % (BUCKET, folder)
        good = "s3://%s/raw-data/%s/good.csv" % (BUCKET, folder)
        by_source = {load["source"]: load["status"] for load in loads}
        self.assertEqual(by_source, {missing: "failed", good: "succeeded"}, loads)
        self.assertTrue({"%s-1" % folder, "%s-2" % folder} <= table_ids(self.local.ddb, "product"))
        ledger = {s: local_loader.ledger_load_record(self.local, s) for s in (missing, good)}
        self.assertEqual({s: r and r["load_status"]["S"] for s, r in ledger.items()},
                         {missing: "failed", good: "succeeded"})
        notes = [m for m in (json.loads(n["Message"]) for n in self.local.notifications())]
        self.assertEqual(sorted((m["source"], m["status"]) for m in notes if m.get("source") in (missing, good)),
                         sorted([(missing, "failed"), (good, "succeeded")]))
        self.assertEqual([r["status"] for r in reports_for(self.local, missing)], ["failed"])

    def test_direct_notification_with_a_missing_object(self):
        event = {"Records": self.records("item3direct")}
        first = self.rt.invoke(event, asynchronous=True)
        self.rt.wait_idle(300)
        mine = [i for i in self.rt.invocations if i.payload == first.payload]
        self.assertEqual([(i.outcome, i.error_type) for i in mine], [("response", None)],
                         [i.body for i in mine])
        self.assertEqual(self.rt.dead_letters, [])
        self.assert_outcomes("item3direct", mine[0].json_body()["loads"])

    def test_sqs_message_holding_a_missing_object(self):
        body = json.dumps({"Records": self.records("item3sqs")})
        batch = ls.sqs_event([("m-both", body)], self.local.arn(self.local.queue_url))
        inv = self.rt.invoke_and_wait(batch, asynchronous=False)
        self.assertEqual(inv.outcome, "response", inv.body)
        answer = inv.json_body()
        self.assertEqual(answer["batchItemFailures"], [], "a permanent failure must not return to the queue")
        self.assert_outcomes("item3sqs", answer["loads"])


# ---------------------------------------------------------------------------------------------------------- item 5
def peak_rss_of(argv, env, timeout, poll_s=0.05):
    """Runs argv; returns (exit status, peak RSS in bytes from the kernel's wait4 accounting, output tail,
    killed). A watchdog kills the child by its PID once its RSS passes RSS_KILL_BYTES."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return _watch(proc, timeout, poll_s)


def _status_bytes(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rss_bytes(pid):
    return _status_bytes(pid, "VmRSS")


def _watch(proc, timeout, poll_s=0.05, stop=None):
    """Waits for `proc` (or sends SIGTERM when stop() turns true), killing it past RSS_KILL_BYTES or `timeout`;
    returns (exit status, peak RSS bytes, output tail, killed)."""
    output = []
    reader = threading.Thread(target=lambda: output.append(proc.stdout.read()), daemon=True)
    reader.start()
    killed, terminated = None, False
    deadline = time.monotonic() + timeout
    # The peak is the child's own high-water mark (VmHWM, kept since its exec), sampled while it runs: wait4's
    # ru_maxrss would also count this Python process, whose memory the child inherits until it execs.
    peak = 0
    while True:
        peak = max(peak, _status_bytes(proc.pid, "VmHWM"))
        waited = os.wait4(proc.pid, os.WNOHANG)
        if waited[0] == proc.pid:
            _, status, usage = waited
            break
        if _rss_bytes(proc.pid) > RSS_KILL_BYTES:
            killed = "RSS over %d MiB" % (RSS_KILL_BYTES // MIB)
            proc.kill()
        elif time.monotonic() > deadline:
            killed = "timeout"
            proc.kill()
        elif stop is not None and not terminated and stop():
            terminated = True
            proc.terminate()
        time.sleep(poll_s)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    proc.stdout.close()
    tail = (output[0] if output else b"")[-3000:].decode("utf-8", "replace")
    return proc.returncode, peak, tail, killed


def write_gz_rows(path, rows, make_value):
    """A .csv.gz of `rows` rows "ID,Data" whose Data is make_value(i), streamed (never all in memory)."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(b"ID,Data\n")
        for i in range(rows):
            f.write(b"m%05d,%s\n" % (i, make_value(i)))
    return path


class item5_memory(unittest.TestCase):
    maxDiff = None

    ROW_BYTES = 399 * 1000  # the item stays under DynamoDB's 400 KB

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tarius-memory-")
        value = b"x" * cls.ROW_BYTES
        cls.big_rows = write_gz_rows(os.path.join(cls.tmp, "rows400k.csv.gz"), 1600, lambda i: value)
        controls = bytes(range(1, 9)) * (cls.ROW_BYTES // 8)  # no tab, newline or quote: 6 bytes each in JSON
        cls.control_rows = write_gz_rows(os.path.join(cls.tmp, "controls.csv.gz"), 1600, lambda i: controls)
        sys.stderr.write("\n[memory] %s: %d bytes; %s: %d bytes\n" % (
            os.path.basename(cls.big_rows), os.path.getsize(cls.big_rows), os.path.basename(cls.control_rows),
            os.path.getsize(cls.control_rows)))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def cli_peak(self, path):
        with tarius_stack.stack(fault_server_args=[]) as st:
            env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_REGION="us-east-1", AWS_ENDPOINT_URL=st.fault_server.url, AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
                       NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
            code, peak, tail, killed = peak_rss_of([TARIUS, "load", path, "--table", "t", "--key", "ID", "--json",
                                                    "--progress-seconds", "0"], env, timeout=600)
        sys.stderr.write("\n[memory] tarius load %s: exit %s, peak RSS %.1f MiB%s\n" % (
            os.path.basename(path), code, peak / MIB, " (killed: %s)" % killed if killed else ""))
        self.assertIsNone(killed, tail)
        self.assertEqual(code, 0, tail)
        reports = [json.loads(line) for line in tail.splitlines() if line.startswith('{"source"')]
        self.assertEqual([r["counts"]["items_written"] for r in reports], [1600], tail)
        return peak

    def test_cli_400_kb_rows_stay_under_256_mib(self):
        self.assertLessEqual(self.cli_peak(self.big_rows), 256 * MIB)

    def test_cli_control_character_rows_stay_under_256_mib(self):
        self.assertLessEqual(self.cli_peak(self.control_rows), 256 * MIB)

    def bootstrap_peak(self, path):
        """Peak RSS of bootstrap (AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512) loading `path` from a direct S3 event."""
        name = os.path.basename(path)
        with tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            key = "raw-data/memory/" + name
            local.s3.upload_file(path, BUCKET, key)  # no notification: the queue's filter wants .csv
            head = local.s3.head_object(Bucket=BUCKET, Key=key)
            event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
                                  "s3": {"bucket": {"name": BUCKET},
                                         "object": {"key": key, "size": head["ContentLength"],
                                                    "eTag": head["ETag"].strip('"'),
                                                    "versionId": head.get("VersionId", "")}}}]}
            # The product table's writes are accepted (and dropped) by the recorder; the ledger lives in dynalite.
            with ws.DynamoRecorder(["product"], forward_url=st.dynalite.url, record_items=False) as ddb, \
                    fake_runtime.FakeRuntime(timeout_s=900) as rt:
                env = dict(local.env, AWS_ENDPOINT_URL_DYNAMODB=ddb.url, AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512")
                proc = ls.start_bootstrap(rt, env, exe=BOOTSTRAP)
                done = rt.invoke(event, asynchronous=False)
                code, peak, tail, killed = _watch_bootstrap(proc, done)
                requests = len(ddb.accepted)
        sys.stderr.write("\n[memory] bootstrap (512 MB) %s: peak RSS %.1f MiB%s; %d BatchWriteItem; answer %s\n"
                         % (name, peak / MIB, " (killed: %s)" % killed if killed else "", requests,
                            (done.body or "")[:300]))
        self.assertIsNone(killed)
        self.assertEqual(done.outcome, "response", done.body)
        self.assertEqual(json.loads(done.body)["loads"][0]["status"], "succeeded", done.body)
        return peak

    def test_bootstrap_400_kb_rows_stay_under_40_percent_of_512_mb(self):
        self.assertLessEqual(self.bootstrap_peak(self.big_rows), 0.40 * 512 * MIB)

    def test_bootstrap_control_character_rows_stay_under_40_percent_of_512_mb(self):
        self.assertLessEqual(self.bootstrap_peak(self.control_rows), 0.40 * 512 * MIB)


def _watch_bootstrap(proc, invocation, timeout=600):
    """Peak RSS of a bootstrap process serving `invocation`: SIGTERM once it is answered, then wait4."""
    proc.stdout = io.BytesIO()  # start_bootstrap sent its output elsewhere: nothing to read here
    return _watch(proc, timeout, stop=invocation.done.is_set)


# ---------------------------------------------------------------------------------------------------------- item 7
# Arrival times are measured where the requests arrive, on a shared machine: a window's measured span may be
# shorter than the span at which the client sent them. This much is added to every span.
ARRIVAL_JITTER_S = 0.25


def window_excess(accepted, budget, jitter_s=ARRIVAL_JITTER_S):
    """The largest excess over B × (T + 1) of write units accepted in a window [t_i, t_j]
    (T = max(1, t_j - t_i + jitter_s)), with that window: (excess, T, units). An excess > 0 breaks the budget."""
    worst = (float("-inf"), 0.0, 0)
    for i in range(len(accepted)):
        units = 0
        for j in range(i, len(accepted)):
            units += accepted[j].wcu
            span = max(1.0, accepted[j].at - accepted[i].at + jitter_s)
            excess = units - budget * (span + 1)
            if excess > worst[0]:
                worst = (excess, span, units)
    return worst


class item7_max_wcu(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tarius-wcu-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def load(self, rows, *flags):
        path = os.path.join(self.tmp, "items.csv")
        with open(path, "w", newline="") as f:
            f.write("ID,Data\n" + "".join("%s,%s\n" % r for r in rows))
        with ws.DynamoRecorder(["t"]) as ddb:
            env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_REGION="us-east-1", AWS_ENDPOINT_URL=ddb.url, AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
                       NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
            code, out, err = run_cli(["load", path, "--table", "t", "--key", "ID", "--json",
                                      "--progress-seconds", "0", *flags], env, timeout=300)
        return code, out, err, ddb.accepted

    def test_budget_holds_in_every_window(self):
        # 50 items of 5 KB (5 WCU each) under --max-wcu 10: 250 units, so at least 24 s.
        rows = [("w%02d" % i, "x" * 5000) for i in range(50)]
        code, out, err, accepted = self.load(rows, "--max-wcu", "10")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(sorted(item["ID"]["S"] for r in accepted for item in r.items), [r[0] for r in rows])
        self.assertEqual({u for r in accepted for u in r.units}, {5})
        excess, span, units = window_excess(accepted, 10)
        elapsed = accepted[-1].at - accepted[0].at
        sys.stderr.write("\n[wcu] --max-wcu 10, 50 x 5 KB: %d requests over %.1f s; worst window %d units in "
                         "%.2f s (excess %.1f)\n" % (len(accepted), elapsed, units, span, excess))
        self.assertLessEqual(excess, 0, "%d units in a window of %.2f s: over 10 x (T + 1)" % (units, span))

    def test_item_costing_more_than_the_budget_goes_alone_then_pauses(self):
        # Three 200 KB items (196 WCU each) under --max-wcu 100: each alone, then a pause of 1.96 s.
        rows = [("b%d" % i, "x" * 200000) for i in range(3)]
        code, out, err, accepted = self.load(rows, "--max-wcu", "100")
        self.assertEqual(code, 0, out + err)
        self.assertEqual([len(r.items) for r in accepted], [1, 1, 1])
        gaps = [b.at - a.at for a, b in zip(accepted, accepted[1:])]
        sys.stderr.write("\n[wcu] --max-wcu 100, 3 x 200 KB: units %s, gaps %s s\n"
                         % ([r.wcu for r in accepted], ["%.2f" % g for g in gaps]))
        for request, gap in zip(accepted, gaps):
            self.assertGreaterEqual(gap, request.wcu / 100 - ARRIVAL_JITTER_S, gaps)

    def test_zero_budget_is_refused(self):
        code, out, err, accepted = self.load([("z1", "a")], "--max-wcu", "0")
        self.assertEqual(code, 2, out + err)
        self.assertIn("max-wcu", err)
        self.assertEqual(accepted, [])


# --------------------------------------------------------------------------------------------------------- item 10
class item10_long_source_key(stack_case):
    def test_rejects_and_report_keys_fit_with_the_full_key_kept(self):
        key = "raw-data/" + "k" * 1000 + ".csv"
        self.assertLessEqual(len(key.encode()), ws.S3_MAX_KEY_BYTES)
        source = "s3://%s/%s" % (BUCKET, key)
        body = b"ID,Title\nl1,a\n,empty key\nl2,b\n"
        self.local.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        create_table(self.local.ddb, "longkey")
        self.local.notifications()
        with ws.S3KeyLimitProxy(self.st.moto.url) as proxy:
            env = dict(self.local.env, AWS_ENDPOINT_URL_S3=proxy.url)
            code, out, err = run_cli(["load", source, "--table", "longkey", "--key", "ID", "--ledger-table",
                                      "ledger", "--topic-arn", self.local.topic_arn, "--json"], env)
            refused = list(proxy.refused)
        report = json.loads(out)
        record = local_loader.ledger_load_record(self.local, source)
        facts = {"exit": code, "status": report["status"], "ledger": record and record["load_status"]["S"],
                 "keys refused by S3": [(m, len(k.encode())) for m, k in refused]}
        self.assertEqual(facts, {"exit": 1, "status": "succeeded_with_rejects", "ledger": "succeeded_with_rejects",
                                 "keys refused by S3": []}, out + err)
        self.assertEqual(report["source"], source)
        rejects = s3_objects(self.local, "invalid-records/")
        reports = s3_objects(self.local, "load-reports/")
        self.assertTrue(rejects and reports, (list(rejects), list(reports)))
        for name in list(rejects) + list(reports):
            self.assertLessEqual(len(name.encode()), ws.S3_MAX_KEY_BYTES, name)
            metadata = self.local.s3.head_object(Bucket=BUCKET, Key=name)["Metadata"]
            self.assertTrue(any(key in urllib.parse.unquote(v) for v in metadata.values()),
                            "the full source key is not in the metadata of %s: %r" % (name, metadata))
        csvs = [b for name, b in rejects.items() if name.endswith(".csv")]
        self.assertEqual([csv_records(b) for b in csvs], [[["ID", "Title"], ["", "empty key"]]])
        self.assertEqual([json.loads(b)["source"] for b in reports.values()], [source])
        self.assertEqual([m["status"] for m in sns_for(self.local, source)], ["succeeded_with_rejects"])


if __name__ == "__main__":
    unittest.main()
