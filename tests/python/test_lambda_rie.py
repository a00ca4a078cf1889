# ctest-label: e2e
"""bootstrap's Lambda end-to-end tests under AWS's Runtime Interface Emulator (aws-lambda-rie), an independent
Runtime API that enforces the function timeout, the 6 MiB response limit and the API's state machine; the local
stack (moto: S3, SQS, SNS; dynalite: DynamoDB) is read back with boto3 and Python's csv module.

- the seed sample (1,000 rows) from a direct S3 event: 1,000 items, the report in S3, one SNS message;
- an SQS batch with a poisoned message: only that message in batchItemFailures;
- a continuation forced by the deadline: the load finishes across invocations with exact counts;
- issue 10 item 4, the timeout kill: AWS_LAMBDA_FUNCTION_TIMEOUT=8, TARIUS_MAX_WCU=100,
  TARIUS_DEADLINE_MARGIN_MS=4000, 1,000 rows: finished through continuations, the ledger checkpoint advancing,
  never "Task timed out";
- issue 10 item 6, the 6 MiB limit: an event whose answer would exceed 6 MiB gets an answer under the limit and
  the same bootstrap process serves the next invocation;
- an init error (TARIUS_TABLE unset), and the error types the emulator records for the function's errors (it
  records a type not shaped (Runtime|Function).X as Runtime.Unknown): printed on stderr for the record."""
import csv
import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import lambda_support as ls  # noqa: E402
import local_loader  # noqa: E402
import rie_support  # noqa: E402
import tarius_stack  # noqa: E402

SEED = os.path.join(os.path.dirname(os.path.abspath(tarius_stack.source_dir())), "shared", "seed-data",
                    "products.csv")
BUCKET = local_loader.BUCKET


def create_table(ddb, name, key="ID"):
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})


def scan_ids(ddb, table):
    """Every ID of `table` (boto3 Scan, consistent, all pages)."""
    ids, start = set(), None
    while True:
        kwargs = {"TableName": table, "ConsistentRead": True, "ProjectionExpression": "ID"}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.scan(**kwargs)
        ids.update(item["ID"]["S"] for item in page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return ids


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def count_of(load, *names):
    """A count of an answer's or report's load entry, under the first of `names` present (top level or "counts")."""
    for name in names:
        if name in load:
            return load[name]
        if name in load.get("counts", {}):
            return load["counts"][name]
    raise AssertionError("none of %s in %r" % (names, load))


def ledger_record(local, source):
    records = [r for r in local.ddb.scan(TableName="ledger", ConsistentRead=True)["Items"]
               if "load_id" in r and r["source"]["S"] == source]
    return records[0] if len(records) == 1 else None


def reports_in_s3(local, key):
    """The JSON reports written for the source key `key` (under load-reports/), read with boto3."""
    out = []
    listing = local.s3.list_objects_v2(Bucket=BUCKET, Prefix="load-reports/")
    for obj in listing.get("Contents", []):
        report = json.loads(local.s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
        if report.get("source") == "s3://%s/%s" % (BUCKET, key):
            out.append(report)
    return out


def notifications_for(local, key):
    return [json.loads(n["Message"]) for n in local.notifications()
            if json.loads(n["Message"]).get("source") == "s3://%s/%s" % (BUCKET, key)]


class lambda_rie(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tarius-rie-test-")
        cls.stack_cm = tarius_stack.stack(moto=True, dynalite=True)
        cls.st = cls.stack_cm.__enter__()
        try:
            cls.local = local_loader.provisioned(cls.st, max_receive_count=3)
            cls.queue_arn = cls.local.arn(cls.local.queue_url)
        except BaseException:
            cls.stack_cm.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack_cm.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def env(self, table, **extra):
        """The function's environment on the local stack, its target table `table` (created here)."""
        create_table(self.local.ddb, table)
        env = dict(self.local.env, TARIUS_TABLE=table)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def emulator(self, env, **kwargs):
        log = os.path.join(self.tmp, self.id().rsplit(".", 1)[-1] + ".log")
        return rie_support.Emulator(env, log_path=log, **kwargs)

    def write_csv(self, name, rows, header="ID,Title,Price"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(header + "\n" + "".join(r + "\n" for r in rows))
        return path

    def assert_response(self, answer, emu):
        self.assertFalse(answer.failed, "%r\n%s" % (answer, emu.log_text()[-4000:]))
        return answer.json()

    # -- the seed sample
    def test_seed_sample_from_a_direct_s3_event(self):
        key = "raw-data/rie/seed/products.csv"
        event = ls.upload(self.local, SEED, key)
        with self.emulator(self.env("rie_seed"), timeout_s=120) as emu:
            answer = emu.invoke(event)
            body = self.assert_response(answer, emu)
        expected = {row["ID"]: row for row in csv_rows(SEED)}
        self.assertEqual(len(expected), 1000)
        self.assertEqual(scan_ids(self.local.ddb, "rie_seed"), set(expected))
        self.assertEqual([load["status"] for load in body["loads"]], ["succeeded"])
        self.assertEqual(count_of(body["loads"][0], "items_written", "items"), 1000)
        # A sample of attributes, as Python's csv module reads the file (cells trimmed by default).
        for row_id in sorted(expected)[:25]:
            item = self.local.ddb.get_item(TableName="rie_seed", Key={"ID": {"S": row_id}},
                                           ConsistentRead=True)["Item"]
            self.assertEqual(item["Title"]["S"], expected[row_id]["Title"].strip())
            self.assertEqual(item["SellerID"]["S"], expected[row_id]["SellerID"].strip())
        reports = reports_in_s3(self.local, key)
        self.assertEqual(len(reports), 1, reports)
        counts = reports[0]["counts"]
        self.assertEqual((reports[0]["status"], counts["rows"], counts["items_written"], counts["rejected"]),
                         ("succeeded", 1000, 1000, 0))
        self.assertTrue(counts["reconciles"])
        sns = notifications_for(self.local, key)
        self.assertEqual([(m["status"], m["counts"]["items_written"]) for m in sns], [("succeeded", 1000)])
        record = ledger_record(self.local, "s3://%s/%s" % (BUCKET, key))
        self.assertEqual(record["load_status"]["S"], "succeeded")

    # -- SQS
    def test_sqs_batch_reports_only_the_poisoned_message(self):
        good = self.write_csv("sqs-good.csv", ["q1,a,1", "q2,b,2"])
        other = self.write_csv("sqs-other.csv", ["q3,c,3"])
        events = [ls.upload(self.local, good, "raw-data/rie/sqs/good.csv"),
                  ls.upload(self.local, other, "raw-data/rie/sqs/other.csv")]
        batch = ls.sqs_event([("m-good", json.dumps(events[0])), ("m-poison", "this is not an S3 event"),
                              ("m-other", json.dumps(events[1]))], self.queue_arn)
        with self.emulator(self.env("rie_sqs"), timeout_s=120) as emu:
            body = self.assert_response(emu.invoke(batch), emu)
        self.assertEqual(body["batchItemFailures"], [{"itemIdentifier": "m-poison"}])
        self.assertEqual(scan_ids(self.local.ddb, "rie_sqs"), {"q1", "q2", "q3"})

    # -- continuations
    def gen(self, name, rows, *flags):
        return local_loader.gen_csv(os.path.join(self.tmp, name), rows, *flags)

    def run_continued(self, env, key, path, timeout_s, table):
        """Runs the asynchronous event of `key` to its end; returns (run, ledger checkpoints after each invocation)."""
        event = ls.upload(self.local, path, key)
        source = "s3://%s/%s" % (BUCKET, key)
        checkpoints = []

        def after_each(attempt):
            record = ledger_record(self.local, source)
            checkpoints.append((record["load_status"]["S"], int(record.get("checkpoint_offset", {"N": "0"})["N"]))
                               if record else None)

        with self.emulator(env, timeout_s=timeout_s) as emu:
            run = emu.run_async(event, after_each=after_each)
            log = emu.log_text()
        return run, checkpoints, log

    def assert_finished_through_continuations(self, run, checkpoints, log, path, table, key):
        described = run.describe()
        self.assertFalse([a for a in run.attempts if a.answer.timed_out],
                         "killed by the function timeout: %r\n%s" % (described, log[-4000:]))
        self.assertEqual(run.dead_letters, [], described)
        self.assertTrue(all(not a.answer.failed for a in run.attempts), (described, log[-4000:]))
        self.assertGreaterEqual(len(run.attempts), 2, described)  # the deadline forced a handover
        self.assertEqual(len(run.self_invocations), len(run.attempts) - 1, described)
        # The checkpoint advanced with every handover and the last invocation finished the load.
        offsets = [c[1] for c in checkpoints[:-1]]
        self.assertTrue(all(c is not None for c in checkpoints), checkpoints)
        self.assertTrue(all(b > a for a, b in zip([0] + offsets, offsets)), checkpoints)
        self.assertIn(checkpoints[-1][0], ("succeeded", "succeeded_with_rejects"), checkpoints)
        final = run.attempts[-1].answer.json()["loads"][-1]
        rows = csv_rows(path)
        expected = {row["ID"] for row in rows}
        self.assertEqual(count_of(final, "rows"), len(rows))
        self.assertEqual(count_of(final, "items_written", "items"), len(expected))
        self.assertEqual(scan_ids(self.local.ddb, table), expected)
        reports = reports_in_s3(self.local, key)
        self.assertEqual(len(reports), 1, reports)
        self.assertEqual(reports[0]["counts"]["items_written"], len(expected))
        self.assertEqual(reports[0]["counts"]["rows"], len(rows))

    def test_continuation_forced_by_the_deadline(self):
        # 20,000 rows of about 1 WCU at 2,500 WCU/s take 8 s or more; the function has 10 s and stops 5 s before
        # its deadline (the margin is capped at half of the time left): at least two invocations.
        path = self.gen("cont.csv", 20000, "--seed", "21")
        key = "raw-data/rie/cont/file.csv"
        env = self.env("rie_cont", TARIUS_MAX_WCU=2500, TARIUS_DEADLINE_MARGIN_MS=6000, TARIUS_HEARTBEAT_SECONDS=1)
        run, checkpoints, log = self.run_continued(env, key, path, 10, "rie_cont")
        self.assert_finished_through_continuations(run, checkpoints, log, path, "rie_cont", key)

    def test_timeout_witness_finishes_through_continuations(self):
        # Issue 10 item 4: 1,000 rows at 100 WCU/s need 10 s; the function has 8 s and must stop 4 s before the
        # deadline in every phase, also while its writes drain.
        key = "raw-data/rie/timeout/products.csv"
        env = self.env("rie_timeout", TARIUS_MAX_WCU=100, TARIUS_DEADLINE_MARGIN_MS=4000)
        run, checkpoints, log = self.run_continued(env, key, SEED, 8, "rie_timeout")
        self.assert_finished_through_continuations(run, checkpoints, log, SEED, "rie_timeout", key)

    # -- the 6 MiB response limit
    def test_answer_that_would_exceed_6_mib_stays_under_it_in_the_same_process(self):
        # Issue 10 item 6. One small object, delivered 3,400 times in one event: the first record loads it, every
        # other one is a duplicate (cheap: one ledger read). Its key is 300 control characters: 3 bytes each in
        # the event (URL-encoded, %01), 6 in a JSON answer (\u0001), so an answer listing every record would be
        # about 6.6 MB while the event stays about 3.5 MB (the emulator also caps events at 6 MiB).
        key = "raw-data/rie/big/" + "\x01" * 300 + ".csv"
        self.local.s3.put_object(Bucket=BUCKET, Key=key, Body=b"ID,Title\nz1,one\n")
        record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
                  "s3": {"bucket": {"name": BUCKET}, "object": {"key": urllib.parse.quote(key, safe="/")}}}
        records = 3400
        event = json.dumps({"Records": [record] * records})
        self.assertLess(len(event), rie_support.MAX_RESPONSE_BYTES)
        with self.emulator(self.env("rie_big"), timeout_s=300) as emu:
            warm = emu.invoke({"Event": "s3:TestEvent"})
            self.assertFalse(warm.failed, warm)
            first_pids = warm.runtime_pids
            self.assertEqual(len(first_pids), 1, first_pids)
            big = emu.invoke(event)
            after = emu.invoke({"Event": "s3:TestEvent"})
            log = emu.log_text()
        # Every fact at once, so that a failure shows the whole picture.
        try:
            body = big.json()
        except ValueError:
            body = None
        facts = {
            "answer within 6 MiB": len(big.body) <= rie_support.MAX_RESPONSE_BYTES,
            "not refused as too large": not big.too_large,
            "a success answer": not big.failed and isinstance(body, dict),
            "next invocation answered": not after.failed,
            "served by the same process": after.runtime_pids == first_pids,
            "one init (no cold start)": log.count("INIT START") == 1,
        }
        self.assertEqual(facts, dict.fromkeys(facts, True),
                         "big answer: %r; next: %r; pids %s then %s" % (big, after, first_pids, after.runtime_pids))
        self.assertEqual(scan_ids(self.local.ddb, "rie_big"), {"z1"})

    # -- errors
    def test_init_error_when_the_table_is_not_set(self):
        env = dict(self.local.env)
        env.pop("TARIUS_TABLE")
        with self.emulator(env, timeout_s=30) as emu:
            first = emu.invoke({"Event": "s3:TestEvent"})
            second = emu.invoke({"Event": "s3:TestEvent"})
        for answer in (first, second):  # answered every time: no hang, no crash loop
            self.assertTrue(answer.failed, answer)
            self.assertTrue(answer.init_error, answer.log[-2000:])
            self.assertIn("TARIUS_TABLE", answer.body.decode("utf-8", "replace"))
        sys.stderr.write("\n[rie] init error (TARIUS_TABLE unset): emulator recorded %r, body %s\n"
                         % (first.recorded_error_type, first.body[:300]))

    def test_error_types_recorded_by_the_emulator(self):
        """The function's error answers under AWS's emulator: an unsupported event and a transient failure (DynamoDB
        unreachable). Asserts the error shape and message; prints the type the emulator recorded."""
        path = self.write_csv("transient.csv", ["t1,a,1"])
        event = ls.upload(self.local, path, "raw-data/rie/transient/t.csv")
        env = self.env("rie_errors", AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:%d" % tarius_stack.free_port(),
                       AWS_MAX_ATTEMPTS=1)
        with self.emulator(env, timeout_s=60) as emu:
            unsupported = emu.invoke({"hello": "world"})
            transient = emu.invoke(event)
            pids = emu.runtime_pids()
        recorded = {}
        for name, answer, needle in (("unsupported event", unsupported, "hello"),
                                     ("transient failure", transient, "raw-data/rie/transient/t.csv")):
            error = answer.function_error
            self.assertIsNotNone(error, answer)
            self.assertTrue(error.get("errorType"), error)
            self.assertIn(needle, error.get("errorMessage", ""), error)
            recorded[name] = (error.get("errorType"), answer.recorded_error_type)
        self.assertEqual(len(pids), 1)  # still serving after both errors
        for name, (posted, kept) in recorded.items():
            sys.stderr.write("\n[rie] %s: the function posted %r, the emulator recorded %r\n" % (name, posted, kept))


if __name__ == "__main__":
    unittest.main()
