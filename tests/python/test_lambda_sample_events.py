# ctest-label: e2e
"""Every one of AWS's sample Lambda events (aws-lambda-go's events/testdata, in ../shared/testdata/lambda-events)
through the real `bootstrap`, on the local stack (moto, dynalite), with TARIUS_LANDING_PREFIX='' (and the samples'
.jpg suffix accepted) so that the samples' keys pass the landing filter.

What is expected of each event is decided here from the event itself (not by the code under test):
- an S3 notification of a created object (direct, in an SQS message, wrapped by SNS in an SQS message, or as an
  EventBridge "Object Created" event): its bucket does not exist on the stack, so each record fails alone and
  cleanly: a success answer naming the failed load, never retried (one invocation, nothing dead-lettered), not in
  batchItemFailures;
- an S3 notification of another kind (restore, lifecycle, replication, tiering): a success answer, nothing loaded;
- an SQS message that is not an S3 event: that message alone in batchItemFailures;
- every other kind of event: a typed error (errorType, errorMessage) naming what was received: the eventSource of
  its records, the source or detail-type of an EventBridge event, a top-level field of anything else, or that it
  is not JSON;
- none crashes or hangs: the same bootstrap process answers every event and a last s3:TestEvent.

All events go through the project's fake Runtime API (fast, and it models asynchronous retries and the DLQ); a
subset also goes through AWS's Runtime Interface Emulator, whose recorded error types are printed on stderr."""
import glob
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fake_runtime  # noqa: E402
import lambda_support as ls  # noqa: E402
import local_loader  # noqa: E402
import rie_support  # noqa: E402
import tarius_stack  # noqa: E402

EVENTS_DIR = os.path.join(os.path.dirname(os.path.abspath(tarius_stack.source_dir())), "shared", "testdata",
                          "lambda-events")
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:loads"
# The emulator's share: one of each family.
EMULATOR_SUBSET = ["s3-event.json", "s3-lifecycle-event.json", "sqs-event.json", "sns-event.json",
                   "kinesis-event.json", "apigw-request.json", "autoscaling-event-launch-successful.json",
                   "dynamodb-event-malformed.2.json", "cloudwatch-logs-event.json"]


def sample_files():
    return sorted(glob.glob(os.path.join(EVENTS_DIR, "*.json")))


def read_sample(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def expectation(text):
    """(kind, detail) of a sample event, decided from its content: "s3_created" (detail: [(bucket, key)]),
    "s3_other", "sqs_poison" (detail: message ids), or "unsupported" (detail: words one of which the error
    must contain)."""
    try:
        event = json.loads(text)
    except ValueError:
        return "unsupported", ["JSON", "json"]
    if not isinstance(event, dict):
        return "unsupported", ["JSON", "object", "array"]
    records = event.get("Records")
    if isinstance(records, list) and records:
        sources = {r.get("eventSource") or r.get("EventSource") or "" for r in records if isinstance(r, dict)}
        if sources == {"aws:s3"}:
            created = [(r["s3"]["bucket"]["name"], r["s3"]["object"]["key"]) for r in records
                       if str(r.get("eventName", "")).startswith("ObjectCreated:")]
            return ("s3_created", created) if created else ("s3_other", [])
        if sources == {"aws:sqs"}:
            return "sqs_poison", [r["messageId"] for r in records]
        return "unsupported", sorted(s for s in sources if s) or ["Records"]
    if "detail-type" in event and "source" in event:
        if event["source"] == "aws.s3" and event["detail-type"] == "Object Created":
            return "s3_created", [(event["detail"]["bucket"]["name"], event["detail"]["object"]["key"])]
        return "unsupported", [event["source"], event["detail-type"]]
    return "unsupported", list(event)


def derived_events():
    """Supported kinds built from s3-event.json (each with its own key, so each is a first delivery): in an SQS
    message, wrapped by SNS in an SQS message, as an EventBridge Object Created event; and a direct SNS trigger
    wrapping it (not a documented trigger: a clean failure or a typed error naming aws:sns)."""
    base = json.loads(read_sample(os.path.join(EVENTS_DIR, "s3-event.json")))

    def with_key(suffix):
        event = json.loads(json.dumps(base))
        event["Records"][0]["s3"]["object"]["key"] = "Happy%20Face-" + suffix + ".jpg"
        return event

    sns_envelope = {"Type": "Notification", "MessageId": "d1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                    "Message": json.dumps(with_key("sns-in-sqs"))}
    s3 = base["Records"][0]["s3"]
    eventbridge = {"version": "0", "id": "eb-1", "detail-type": "Object Created", "source": "aws.s3",
                   "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
                   "resources": ["arn:aws:s3:::" + s3["bucket"]["name"]],
                   "detail": {"version": "0", "bucket": {"name": s3["bucket"]["name"]},
                              "object": {"key": "Happy%20Face-eventbridge.jpg", "size": 1024,
                                         "etag": s3["object"]["eTag"], "sequencer": "0055AED6DCD90281E5"},
                              "request-id": "R1", "requester": "123456789012", "reason": "PutObject"}}
    sns_direct = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                               "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:t:1",
                               "Sns": {"Type": "Notification", "MessageId": "d2", "TopicArn": "arn:aws:sns:t",
                                       "Subject": "", "Message": json.dumps(with_key("sns-direct")),
                                       "Timestamp": "2026-01-01T00:00:00Z"}}]}
    bucket = s3["bucket"]["name"]
    return [
        ("derived: s3-event.json in an SQS message", "sqs_clean", [(bucket, "Happy%20Face-sqs.jpg")],
         ls.sqs_event([("d-sqs", json.dumps(with_key("sqs")))], QUEUE_ARN)),
        ("derived: s3-event.json wrapped by SNS in an SQS message", "sqs_clean",
         [(bucket, "Happy%20Face-sns-in-sqs.jpg")], ls.sqs_event([("d-sns", json.dumps(sns_envelope))], QUEUE_ARN)),
        ("derived: EventBridge Object Created for s3-event.json's object", "s3_created",
         [(bucket, "Happy%20Face-eventbridge.jpg")], eventbridge),
        ("derived: s3-event.json wrapped by a direct SNS trigger", "sns_direct",
         [(bucket, "Happy%20Face-sns-direct.jpg")], sns_direct),
    ]


def function_env(local):
    env = dict(local.env, TARIUS_LANDING_PREFIX="", TARIUS_LANDING_SUFFIXES=".jpg,.csv,.csv.gz,.csv.zst",
               AWS_MAX_ATTEMPTS="2")
    env.pop("TARIUS_LANDING_BUCKET", None)
    return env


class checks:
    """Assertions on one answer, shared by the fake runtime's and the emulator's runs: `failed` (an invocation
    error), `error` ({"errorType", "errorMessage"} or None), `body` (the parsed success answer or None)."""

    maxDiff = None

    def check(self, kind, detail, failed, error, body, invocations, dead_letters, repeat=False):
        """`repeat`: the event's objects failed before (a second delivery may also be skipped as done)."""
        if kind == "unsupported":
            self.assertTrue(failed, "expected a typed error, got %r" % (body,))
            self.assertTrue(error and error.get("errorType"), error)
            message = error.get("errorMessage", "")
            self.assertTrue(any(word in message for word in detail),
                            "the error names none of %r: %r" % (detail, message))
            return
        if kind == "sns_direct":
            if failed:
                self.assertIn("aws:sns", (error or {}).get("errorMessage", ""), error)
                return
            kind = "s3_created"
        self.assertFalse(failed, "expected an answer, got the error %r" % (error,))
        self.assertEqual(invocations, 1, "retried: %d invocations" % invocations)
        self.assertEqual(dead_letters, 0)
        if kind == "sqs_poison":
            self.assertEqual(sorted(f["itemIdentifier"] for f in body["batchItemFailures"]), sorted(detail))
            return
        statuses = [load.get("status") for load in body.get("loads", [])]
        if kind == "sqs_clean":
            self.assertEqual(body["batchItemFailures"], [], "a permanent failure must not return to the queue")
            self.assertEqual(len(statuses), len(detail), body)
            self.assertFalse([s for s in statuses if s != "failed"], body)
        elif kind == "s3_created":
            allowed = ("failed", "skipped") if repeat else ("failed",)
            self.assertEqual(len(statuses), len(detail), body)
            self.assertFalse([s for s in statuses if s not in allowed], body)
        elif kind == "s3_other":
            self.assertFalse([s for s in statuses if s not in ("skipped", "ignored")], body)


class sample_events_fake_runtime(unittest.TestCase, checks):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tarius-samples-")
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

    def setUp(self):
        self.rt = fake_runtime.FakeRuntime(timeout_s=120, async_retries=2)
        self.rt.__enter__()
        self.log = os.path.join(self.tmp, "bootstrap.log")
        self.proc = None
        self.crashes = []
        self.seen_objects = set()

    def tearDown(self):
        if self.proc is not None:
            ls.stop(self.proc)
        self.rt.close()

    def serving(self):
        """The bootstrap process, started again (and the crash recorded) if it exited."""
        if self.proc is not None and self.proc.poll() is not None:
            self.crashes.append(self.proc.returncode)
            self.proc = None
        if self.proc is None:
            self.proc = ls.start_bootstrap(self.rt, function_env(self.local), log_path=self.log)
        return self.proc

    def deliver(self, payload, asynchronous):
        """Invokes once and waits for every retry; returns (last invocation, invocations, dead letters)."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        before_dead = len(self.rt.dead_letters)
        self.serving()
        first = self.rt.invoke(text, asynchronous=asynchronous)
        if not first.done.wait(120):
            raise AssertionError("no answer within 120 s (a hang); the function's log:\n" + self.log_tail())
        if asynchronous:
            self.rt.wait_idle(300)  # Lambda's retries of a failed asynchronous invocation
        mine = [i for i in self.rt.invocations if i.payload == first.payload]
        return mine[-1], len(mine), len(self.rt.dead_letters) - before_dead

    def log_tail(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()[-3000:]

    def run_one(self, kind, detail, payload, asynchronous):
        pid = self.serving().pid
        inv, invocations, dead = self.deliver(payload, asynchronous)
        error = inv.json_body() if inv.outcome == "error" else None
        body = inv.json_body() if inv.outcome == "response" else None
        objects = set(detail) if kind in ("s3_created", "sqs_clean", "sns_direct") else set()
        repeat = bool(objects) and objects <= self.seen_objects
        self.seen_objects |= objects
        self.check(kind, detail, inv.outcome == "error", error, body, invocations, dead, repeat)
        self.assertIsNone(self.proc.poll(), "bootstrap exited")
        self.assertEqual(self.proc.pid, pid)

    def test_every_sample_event(self):
        files = sample_files()
        self.assertGreaterEqual(len(files), 100, EVENTS_DIR)
        for path in files:
            name = os.path.basename(path)
            text = read_sample(path)
            kind, detail = expectation(text)
            # S3 notifications and EventBridge events arrive asynchronously; SQS batches and the rest are invoked
            # synchronously here (an unsupported event retried by Lambda tells nothing more).
            with self.subTest(event=name, kind=kind):
                self.run_one(kind, detail, text, asynchronous=kind in ("s3_created", "s3_other"))
        with self.subTest(event="derived events"):
            for name, kind, detail, payload in derived_events():
                with self.subTest(event=name):
                    self.run_one(kind, detail, payload, asynchronous=kind in ("s3_created", "sns_direct"))
        # Still serving, and no process died on the way.
        last = self.rt.invoke_and_wait({"Event": "s3:TestEvent"}, wait_s=60)
        self.assertEqual(last.outcome, "response")
        self.assertEqual(self.crashes, [], "bootstrap exited during the run (exit statuses)")

    def test_failed_samples_are_recorded_and_notified(self):
        """The direct S3 sample's record failed permanently: the ledger says failed, SNS says failed."""
        payload = read_sample(os.path.join(EVENTS_DIR, "s3-event.json"))
        self.deliver(payload, asynchronous=True)
        source = "s3://sourcebucket/Happy Face.jpg"
        record = local_loader.ledger_load_record(self.local, source)
        self.assertIsNotNone(record, "no ledger record for " + source)
        self.assertEqual(record["load_status"]["S"], "failed")
        notes = [json.loads(n["Message"]) for n in self.local.notifications()]
        self.assertIn("failed", [n.get("status") for n in notes if n.get("source") == source], notes)


class sample_events_emulator(unittest.TestCase, checks):
    """A subset through AWS's Runtime Interface Emulator (synchronous invocations only)."""

    def test_subset_under_the_emulator(self):
        recorded = []
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            with rie_support.Emulator(function_env(local), timeout_s=60,
                                      log_path=os.path.join(tmp, "emulator.log")) as emu:
                pids = None
                for name in EMULATOR_SUBSET:
                    text = read_sample(os.path.join(EVENTS_DIR, name))
                    kind, detail = expectation(text)
                    answer = emu.invoke(text)
                    with self.subTest(event=name, kind=kind):
                        self.assertFalse(answer.timed_out)
                        error = answer.function_error
                        body = None if answer.failed else answer.json()
                        self.check(kind, detail, answer.failed, error, body, 1, 0)
                        pids = pids or answer.runtime_pids
                        self.assertEqual(answer.runtime_pids, pids, "a new bootstrap process")
                    recorded.append((name, (error or {}).get("errorType"), answer.recorded_error_type))
                self.assertEqual(emu.log_text().count("INIT START"), 1)
        for name, posted, kept in recorded:
            sys.stderr.write("\n[rie] %s: posted %r, emulator recorded %r" % (name, posted, kept))
        sys.stderr.write("\n")


if __name__ == "__main__":
    unittest.main()
