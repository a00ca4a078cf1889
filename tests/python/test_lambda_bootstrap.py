# ctest-label: e2e
"""The real `bootstrap` through a fake Lambda Runtime API, on the local stack (moto: S3, SQS, SNS; dynalite:
DynamoDB). Every outcome is checked with boto3 and Python's csv module, and through what the function posted to
the Runtime API: direct S3 events (one and several records), an SQS batch with a poisoned message, an
EventBridge event, an unsupported event, a bad configuration (init error), duplicate deliveries, a transient
failure retried then dead-lettered, and a load continued across invocations before a 15 s deadline."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fake_runtime  # noqa: E402
import lambda_support as ls  # noqa: E402
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402

SEED = os.path.join(tarius_stack.source_dir(), "..", "shared", "seed-data", "products.csv")
TARIUS = os.path.join(ls.BIN, "tarius")


class lambda_bootstrap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tarius-lambda-")
        cls.stack_cm = tarius_stack.stack(moto=True, dynalite=True)
        cls.st = cls.stack_cm.__enter__()
        cls.local = local_loader.provisioned(cls.st, max_receive_count=3)
        cls.queue_arn = cls.local.arn(cls.local.queue_url)

    @classmethod
    def tearDownClass(cls):
        cls.stack_cm.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.rt = fake_runtime.FakeRuntime(timeout_s=120)
        self.rt.__enter__()
        self.log = os.path.join(self.tmp, self.id().rsplit(".", 1)[-1] + ".log")
        self.proc = ls.start_bootstrap(self.rt, self.local.env, log_path=self.log)

    def tearDown(self):
        ls.stop(self.proc)
        self.rt.close()

    def function_log(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def assert_response(self, inv):
        self.assertEqual(inv.outcome, "response", "%s: %s\n%s" % (inv.error_type, inv.body, self.function_log()))
        return inv.json_body()

    def write_csv(self, name, rows, header="ID,Title,Price"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(header + "\n" + "".join(r + "\n" for r in rows))
        return path

    def test_direct_s3_event_loads_the_seed_sample_and_notifies(self):
        event = ls.upload(self.local, SEED, "raw-data/direct/products.csv")
        body = self.assert_response(self.rt.invoke_and_wait(event))
        self.assertEqual([load["status"] for load in body["loads"]], ["succeeded"])
        self.assertEqual(body["loads"][0]["counts"]["items_written"], 1000)
        items = self.local.items()
        expected = ls.expected_items(SEED)
        for key, row in expected.items():
            self.assertEqual(items[key]["Title"]["S"], row["Title"].strip())
        reports = [json.loads(n["Message"]) for n in self.local.notifications()]
        mine = [r for r in reports if r.get("source", "").endswith("raw-data/direct/products.csv")]
        self.assertEqual(len(mine), 1, reports)
        self.assertEqual(mine[0]["status"], "succeeded")
        self.assertEqual(mine[0]["counts"]["rows"], 1000)
        self.assertEqual(mine[0]["counts"]["items_written"], 1000)

    def test_several_records_in_one_event_are_each_loaded(self):
        one = self.write_csv("one.csv", ["m1,a,1", "m2,b,2"])
        two = self.write_csv("two.csv", ["m3,c,3"])
        first = ls.upload(self.local, one, "raw-data/multi/one.csv")
        second = ls.upload(self.local, two, "raw-data/multi/two.csv")
        event = {"Records": first["Records"] + second["Records"]}
        body = self.assert_response(self.rt.invoke_and_wait(event))
        self.assertEqual(sorted(load["counts"]["items_written"] for load in body["loads"]), [1, 2])
        items = self.local.items()
        self.assertTrue({"m1", "m2", "m3"} <= set(items))

    def test_sqs_batch_reports_only_the_poisoned_message(self):
        good = self.write_csv("sqs-good.csv", ["q1,a,1", "q2,b,2"])
        other = self.write_csv("sqs-other.csv", ["q3,c,3"])
        events = [ls.upload(self.local, good, "raw-data/sqs/good.csv"),
                  ls.upload(self.local, other, "raw-data/sqs/other.csv")]
        batch = ls.sqs_event([("m-good", json.dumps(events[0])), ("m-poison", "this is not an S3 event"),
                              ("m-other", json.dumps(events[1]))], self.queue_arn)
        body = self.assert_response(self.rt.invoke_and_wait(batch, asynchronous=False))
        self.assertEqual(body["batchItemFailures"], [{"itemIdentifier": "m-poison"}])
        self.assertTrue({"q1", "q2", "q3"} <= set(self.local.items()))

    def test_sns_wrapped_notification_in_an_sqs_message_is_loaded(self):
        path = self.write_csv("sns.csv", ["w1,a,1"])
        event = ls.upload(self.local, path, "raw-data/sns/wrapped.csv")
        envelope = {"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                    "Message": json.dumps(event)}
        body = self.assert_response(self.rt.invoke_and_wait(
            ls.sqs_event([("m-sns", json.dumps(envelope))], self.queue_arn), asynchronous=False))
        self.assertEqual(body["batchItemFailures"], [])
        self.assertIn("w1", self.local.items())

    def test_eventbridge_object_created_event_is_loaded(self):
        path = self.write_csv("eb.csv", ["e1,a,1", "e2,b,2"])
        self.local.s3.upload_file(path, local_loader.BUCKET, "raw-data/eb/file.csv")
        ls.s3_event_for(self.local, "raw-data/eb/file.csv")  # drain the queue's copy
        body = self.assert_response(self.rt.invoke_and_wait(ls.eventbridge_event(self.local, "raw-data/eb/file.csv")))
        self.assertEqual(body["loads"][0]["status"], "succeeded")
        self.assertTrue({"e1", "e2"} <= set(self.local.items()))

    def test_mapping_from_an_s3_uri_types_the_attributes(self):
        self.local.s3.put_object(Bucket=local_loader.BUCKET, Key="config/mapping.yaml",
                                 Body=b"partition_key: ID:S\ncolumns:\n  Price: {type: number}\n")
        log = os.path.join(self.tmp, "typed.log")
        with fake_runtime.FakeRuntime() as rt:
            proc = ls.start_bootstrap(rt, dict(self.local.env, TARIUS_LOG_LEVEL="error",
                                               TARIUS_MAPPING="s3://%s/config/mapping.yaml" % local_loader.BUCKET),
                                      log_path=log)
            try:
                path = self.write_csv("typed.csv", ["p1,a,12.50", "p2,b,-0003"])
                inv = rt.invoke_and_wait(ls.upload(self.local, path, "raw-data/typed/file.csv"))
            finally:
                ls.stop(proc)
        self.assertEqual(inv.outcome, "response", inv.body)
        with open(log) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        # TARIUS_LOG_LEVEL=error: no info lines, but the load's metrics (EMF) still.
        self.assertEqual([l for l in lines if l.get("level") == "info"], [])
        self.assertEqual([l["ItemsWritten"] for l in lines if "_aws" in l], [2])
        items = self.local.items()
        self.assertEqual(items["p1"]["Price"], {"N": "12.5"})
        self.assertEqual(items["p2"]["Price"], {"N": "-3"})

    def test_mapping_uri_that_does_not_exist_is_an_init_error(self):
        with fake_runtime.FakeRuntime() as rt:
            proc = ls.start_bootstrap(rt, dict(self.local.env, TARIUS_MAPPING="s3://%s/config/missing.yaml"
                                               % local_loader.BUCKET))
            self.assertEqual(proc.wait(60), 1)
            self.assertIn("missing.yaml", json.loads(rt.init_errors[0][1])["errorMessage"])

    def test_unsupported_event_is_an_error_not_a_crash(self):
        inv = self.rt.invoke_and_wait({"hello": "world"}, asynchronous=False)
        self.assertEqual(inv.outcome, "error")
        self.assertEqual(inv.error_type, "Function.UnsupportedEvent")
        error = inv.json_body()
        self.assertEqual(error["errorType"], "Function.UnsupportedEvent")
        self.assertIn("hello", error["errorMessage"])
        # Still serving: the next invocation is answered.
        self.assertEqual(self.rt.invoke_and_wait({"Event": "s3:TestEvent"}).outcome, "response")
        self.assertIsNone(self.proc.poll())

    def test_duplicate_deliveries_load_once(self):
        path = self.write_csv("dup.csv", ["d1,a,1", "d2,b,2", "d3,c,3"])
        event = ls.upload(self.local, path, "raw-data/dup/file.csv")
        statuses = [self.assert_response(self.rt.invoke_and_wait(event))["loads"][0]["status"] for _ in range(3)]
        self.assertEqual(statuses, ["succeeded", "skipped", "skipped"])
        records = [r for r in self.local.load_records() if r["source"]["S"].endswith("raw-data/dup/file.csv")]
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["load_status"]["S"], "succeeded")

    def test_file_without_the_key_column_fails_once_without_retry(self):
        path = self.write_csv("nokey.csv", ["x,1"], header="Name,Price")
        event = ls.upload(self.local, path, "raw-data/nokey/file.csv")
        inv = self.rt.invoke_and_wait(event)
        body = self.assert_response(inv)  # permanent: recorded and notified, not retried
        self.assertEqual(body["loads"][0]["status"], "failed")
        self.rt.wait_idle(30)
        self.assertEqual(len([i for i in self.rt.invocations if i.payload == inv.payload]), 1)


class lambda_bootstrap_init(unittest.TestCase):
    def test_bad_configuration_posts_an_init_error_and_exits(self):
        with fake_runtime.FakeRuntime() as rt:
            env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", AWS_REGION="us-east-1",
                       AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
            env.pop("TARIUS_TABLE", None)
            proc = ls.start_bootstrap(rt, env)
            self.assertNotEqual(proc.wait(30), 0)
            self.assertEqual(len(rt.init_errors), 1)
            error_type, body = rt.init_errors[0]
            self.assertEqual(error_type, "Function.InitError")
            self.assertIn("TARIUS_TABLE", json.loads(body)["errorMessage"])
            self.assertIsNone(rt.first_next_at)  # never asked for work

    def test_invalid_log_level_is_an_init_error(self):
        with fake_runtime.FakeRuntime() as rt:
            env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", AWS_REGION="us-east-1",
                       AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", TARIUS_TABLE="t",
                       TARIUS_LEDGER_TABLE="l", TARIUS_LOG_LEVEL="chatty")
            proc = ls.start_bootstrap(rt, env)
            self.assertNotEqual(proc.wait(30), 0)
            self.assertIn("TARIUS_LOG_LEVEL", json.loads(rt.init_errors[0][1])["errorMessage"])

    def test_missing_ledger_is_an_init_error(self):
        with fake_runtime.FakeRuntime() as rt:
            env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", AWS_REGION="us-east-1",
                       AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", TARIUS_TABLE="t")
            env.pop("TARIUS_LEDGER_TABLE", None)
            proc = ls.start_bootstrap(rt, env)
            self.assertNotEqual(proc.wait(30), 0)
            self.assertIn("TARIUS_LEDGER_TABLE", json.loads(rt.init_errors[0][1])["errorMessage"])


class lambda_bootstrap_transient(unittest.TestCase):
    def test_transient_failure_is_retried_twice_then_dead_lettered(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            path = os.path.join(tmp, "t.csv")
            with open(path, "w") as f:
                f.write("ID,Title\nt1,a\n")
            event = ls.upload(local, path, "raw-data/transient/t.csv")
            # DynamoDB unreachable (a closed port): every attempt fails transiently.
            env = dict(local.env, AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:%d" % tarius_stack.free_port(),
                       AWS_MAX_ATTEMPTS="1")
            with fake_runtime.FakeRuntime(async_retries=2) as rt:
                proc = ls.start_bootstrap(rt, env)
                try:
                    rt.invoke(event, asynchronous=True)
                    rt.wait_idle(120)
                finally:
                    ls.stop(proc)
                self.assertEqual([i.outcome for i in rt.invocations], ["error"] * 3)
                self.assertEqual(rt.invocations[0].error_type, "Function.TransientFailure")
                self.assertEqual(len(rt.dead_letters), 1)


class lambda_bootstrap_continuation(unittest.TestCase):
    def test_load_longer_than_the_deadline_finishes_across_invocations_with_exact_counts(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            path = os.path.join(tmp, "long.csv")
            subprocess.run([TARIUS, "gen", "--rows", "60000", "--seed", "11", "--duplicate-every", "89",
                            "--bad-every", "997", "--out", path], check=True)
            uninterrupted = json.loads(subprocess.run([TARIUS, "validate", path, "--key", "ID", "--json"],
                                                      capture_output=True).stdout)
            event = ls.upload(local, path, "raw-data/long/file.csv")
            # A 15 s function timeout, stopping 10 s before it (5 s of work per invocation); a write budget of
            # 2,500 WCU/s (one WCU per item) makes the file need about 24 s whatever the machine's speed.
            env = dict(local.env, TARIUS_DEADLINE_MARGIN_MS="10000", TARIUS_MAX_WCU="2500",
                       TARIUS_HEARTBEAT_SECONDS="1")
            log = os.path.join(tmp, "bootstrap.log")
            with fake_runtime.FakeRuntime(timeout_s=15) as rt:
                proc = ls.start_bootstrap(rt, env, log_path=log)
                try:
                    rt.invoke(event, asynchronous=True)
                    rt.wait_idle(600, settle_s=2)
                finally:
                    ls.stop(proc)
                with open(log, encoding="utf-8", errors="replace") as f:
                    function_log = f.read()
                outcomes = [(i.origin, i.outcome, i.error_type) for i in rt.invocations]
                self.assertGreaterEqual(len(rt.invocations), 2, function_log[-3000:])
                self.assertTrue(all(o[1] == "response" for o in outcomes), (outcomes, function_log[-3000:]))
                self.assertEqual(len(rt.self_invocations), len(rt.invocations) - 1)
                bodies = [i.json_body() for i in rt.invocations]
                self.assertTrue(all(b["continued"] for b in bodies[:-1]))
                self.assertFalse(bodies[-1]["continued"])
                final = bodies[-1]["loads"][0]
                self.assertEqual(final["status"], "succeeded_with_rejects")
                self.assertEqual(final["counts"]["rows"], uninterrupted["rows_read"])
                self.assertEqual(final["counts"]["items_written"], uninterrupted["items"])
                self.assertEqual(final["counts"]["rejected"], uninterrupted["rows_rejected"])
            # The table equals the file's good rows, last row wins (checked by ID set and a sample of titles).
            items = local.items()
            self.assertEqual(len(items), uninterrupted["items"])
            records = local.load_records()
            self.assertEqual(len(records), 1)
            self.assertEqual(records[0]["load_status"]["S"], "succeeded_with_rejects")

    def test_sqs_triggered_load_continues_through_a_queue_message(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            queue_arn = local.arn(local.queue_url)
            path = os.path.join(tmp, "long.csv")
            subprocess.run([TARIUS, "gen", "--rows", "40000", "--seed", "12", "--out", path], check=True)
            uninterrupted = json.loads(subprocess.run([TARIUS, "validate", path, "--key", "ID", "--json"],
                                                      capture_output=True).stdout)
            event = ls.upload(local, path, "raw-data/long/queued.csv")
            env = dict(local.env, TARIUS_DEADLINE_MARGIN_MS="10000", TARIUS_MAX_WCU="2500")
            bodies = []
            with fake_runtime.FakeRuntime(timeout_s=15) as rt:
                proc = ls.start_bootstrap(rt, env)
                try:
                    # The test plays the event source mapping: each batch is what the queue holds next.
                    message = ("m0", json.dumps(event))
                    for _ in range(30):
                        inv = rt.invoke_and_wait(ls.sqs_event([message], queue_arn), asynchronous=False, wait_s=60)
                        self.assertEqual(inv.outcome, "response", inv.body)
                        bodies.append(inv.json_body())
                        self.assertEqual(bodies[-1]["batchItemFailures"], [])
                        got = local.sqs.receive_message(QueueUrl=local.queue_url, WaitTimeSeconds=1)
                        if not got.get("Messages"):
                            break
                        m = got["Messages"][0]
                        local.sqs.delete_message(QueueUrl=local.queue_url, ReceiptHandle=m["ReceiptHandle"])
                        self.assertIn("tariusContinuation", json.loads(m["Body"]))
                        message = (m["MessageId"], m["Body"])
                finally:
                    ls.stop(proc)
            self.assertGreaterEqual(len(bodies), 2)
            final = bodies[-1]["loads"][-1]
            self.assertEqual(final["status"], "succeeded")
            self.assertEqual(final["counts"]["rows"], uninterrupted["rows_read"])
            self.assertEqual(final["counts"]["items_written"], uninterrupted["items"])
            self.assertEqual(len(local.items()), uninterrupted["items"])

    def test_redelivery_takes_over_the_load_of_a_crashed_function(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            path = os.path.join(tmp, "crash.csv")
            subprocess.run([TARIUS, "gen", "--rows", "30000", "--seed", "13", "--out", path], check=True)
            uninterrupted = json.loads(subprocess.run([TARIUS, "validate", path, "--key", "ID", "--json"],
                                                      capture_output=True).stdout)
            event = ls.upload(local, path, "raw-data/crash/file.csv")
            env = dict(local.env, TARIUS_MAX_WCU="2500", TARIUS_LEASE_SECONDS="6", TARIUS_HEARTBEAT_SECONDS="1")
            with fake_runtime.FakeRuntime() as rt:
                first = ls.start_bootstrap(rt, env)
                try:
                    rt.invoke(event)
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:  # until a checkpoint is saved mid-file
                        records = local.load_records()
                        if records and int(records[0].get("checkpoint_offset", {}).get("N", "0")) > 0:
                            break
                        time.sleep(0.2)
                    self.assertEqual(records[0]["load_status"]["S"], "in_progress")
                finally:
                    first.kill()  # the execution environment dies: no handover, the lease is left to lapse
                    first.wait()
            # Lambda's retry (or a duplicate) arrives while the dead owner's lease is still live.
            with fake_runtime.FakeRuntime() as rt:
                second = ls.start_bootstrap(rt, env)
                try:
                    inv = rt.invoke_and_wait(event, wait_s=120)
                finally:
                    ls.stop(second)
            self.assertEqual(inv.outcome, "response", inv.body)
            load = inv.json_body()["loads"][0]
            self.assertEqual(load["status"], "succeeded")
            self.assertEqual(load["counts"]["rows"], uninterrupted["rows_read"])
            records = local.load_records()
            self.assertEqual(len(records), 1)
            self.assertEqual(records[0]["load_status"]["S"], "succeeded")
            self.assertEqual(records[0]["attempts"]["N"], "2")
            self.assertEqual(len(local.items()), uninterrupted["items"])


if __name__ == "__main__":
    unittest.main()
