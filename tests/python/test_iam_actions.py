# ctest-label: e2e
"""The function's role, proved against the calls the code makes (issue 12, item 1).

moto and dynalite enforce no IAM, so a missing grant would only show in a real account. Instead the real binaries
run with TARIUS_RECORD_ACTIONS set (src/aws/action_log.cpp: every AWS call the service clients make, as
`service:Operation` with the resource it names) through every way a load can be started:

- direct trigger (devl, prod): `bootstrap` under the fake Runtime API with a direct S3 event (the seed sample), an
  EventBridge "Object Created" event, a file with rejects, rejects large enough for a multipart upload, the same
  with every UploadPart refused (so the upload is aborted), a load continued by a self-invocation before a short
  deadline, and a duplicate delivery (the ledger's skip);
- queue trigger (test): an SQS batch (S3 notifications, one wrapped by SNS, one poisoned, one file with rejects)
  and a load continued through a message on the queue;
- `tarius worker` on the queue (test), checked against the worker policy the configuration outputs;
- feeds (devl with FEEDS_TFVARS: a snapshot, an insert, a merge and a newer feed, each table granted its mode's
  calls only, DescribeTable only where the feed's mapping names no keys): `bootstrap` under the fake Runtime API
  with the planned TARIUS_FEEDS, its bucket and tables rewritten to the local ones, loads a snapshot file twice
  (the first load finds no state), an insert file with a reject, a merge file and a newer file; then, with every
  UploadPart refused, a snapshot whose digest is above the multipart threshold and rejects large enough for a
  multipart upload (both aborted); then a load continued by a self-invocation.

Every load writes its report, publishes its summary and goes through the ledger. The calls recorded (never a list
written here: the loader may change what it calls) are translated to the ARNs of each environment's plan (terraform
plan JSON of devl, test, prod and devl with feeds through tf_support; with feeds each feed's local table stands
for its planned table) and checked both ways: every call is allowed by the planned role on the resource it was made
on, and every grant of the role (action x resource x condition value) is used by some call. Two kinds of use are
not recorded because the code does not make the call, and are derived from AWS's documentation and the plan
instead:
- KMS use by S3, SNS and SQS on the caller's behalf (SSE-KMS objects, the encrypted topic and queues), and
- what Lambda itself does with the role: write the function's logs, send failed asynchronous events to the
  on-failure destination, poll the event queue for the event source mapping, send X-Ray segments.
A third is derived because the record does not say how a call ended: a GetObject of a key that does not exist
answers 404 NoSuchKey only to a caller allowed s3:ListBucket on the bucket, 403 AccessDenied to any other (S3 API
Reference, GetObject, Permissions). The first snapshot of a feed reads its state.json before there is one and must
get the 404 (the loader reads "not found" as "no snapshot yet"; an AccessDenied stays an error). Action records
carry no HTTP status, so every recorded GetObject of a snapshot area's state.json also counts as s3:ListBucket on
the bucket with {s3:prefix: that key} (the key as the prefix, as the role's FindSnapshotState statement assumes:
the reference does not say which s3:prefix S3 evaluates in that check, so only a real account can confirm it); the
test makes sure one of them was made before any state existed (the area was empty, listed with boto3).
"""

import collections
import contextlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import fake_runtime  # noqa: E402
import lambda_support as ls  # noqa: E402
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402
import tf_support  # noqa: E402

SEED = os.path.join(tarius_stack.source_dir(), "..", "shared", "seed-data", "products.csv")
TARIUS = os.path.join(ls.BIN, "tarius")
EXISTING_KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:tarius-loader"

# API operation -> the IAM action that authorises it (Service Authorization Reference), where they differ.
API_TO_IAM = {
    "s3:HeadObject": "s3:GetObject",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    "s3:ListParts": "s3:ListMultipartUploadParts",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "lambda:Invoke": "lambda:InvokeFunction",
}
# Operations whose IAM action is the operation's own name.
SAME_NAME = {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject",
             "dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
             "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan",
             "dynamodb:TransactWriteItems", "sns:Publish", "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
             "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
# KMS actions S3, SNS and SQS perform with the caller's permissions (S3 User Guide "Using SSE-KMS" and multipart
# upload permissions; SNS Developer Guide "Key management" for publishers; SQS Developer Guide "Key management"
# for producers and consumers). DynamoDB uses the grants made at table creation and needs none from the caller.
KMS_USE = {
    "s3:GetObject": ["kms:Decrypt"],
    "s3:PutObject": ["kms:GenerateDataKey"],
    "s3:CreateMultipartUpload": ["kms:GenerateDataKey"],
    "s3:UploadPart": ["kms:Decrypt"],
    "s3:CompleteMultipartUpload": ["kms:Decrypt"],
    "sns:Publish": ["kms:GenerateDataKey", "kms:Decrypt"],
    "sqs:SendMessage": ["kms:GenerateDataKey", "kms:Decrypt"],
    "sqs:SendMessageBatch": ["kms:GenerateDataKey", "kms:Decrypt"],
    "sqs:ReceiveMessage": ["kms:Decrypt"],
}

Request = collections.namedtuple("Request", "action resource context origin")


# ---- the local stack ----------------------------------------------------------------------------------------------

class failing_upload_parts:
    """An HTTP relay in front of moto's S3 that refuses every UploadPart (400 InvalidRequest, a permanent refusal, or
    the status and code given) and passes everything else on, so a multipart upload of rejects fails after it was
    created and the loader aborts it."""

    def __init__(self, target_url, status=400, code="InvalidRequest"):
        target = urllib.parse.urlsplit(target_url)
        relay = self

        class handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
                if self.command == "PUT" and "partNumber" in query:
                    relay.refused += 1
                    reply = (b"<?xml version=\"1.0\"?><Error><Code>" + code.encode() + b"</Code>"
                             b"<Message>UploadPart refused by the test relay</Message></Error>")
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = target.netloc
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        self.refused = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def with_versions(local, event):
    """The S3 notification as S3 sends it for a versioned bucket: each record carries the object's versionId
    (moto's notifications leave it out; AWS's sample event s3-event.json has it)."""
    for record in event.get("Records", []):
        obj = record["s3"]["object"]
        if not obj.get("versionId"):
            key = urllib.parse.unquote_plus(obj["key"])
            obj["versionId"] = local.s3.head_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["VersionId"]
    return event


def write_rows(path, rows, header="ID,Title,Price"):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        for row in rows:
            f.write(row + "\n")
    return path


def large_rejects_file(path, rows=60000):
    """Rows without a key value: all rejected, enough bytes for multipart uploads of the rejects (> 5 MiB)."""
    padding = "x" * 90
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("ID,Title,Price\n")
        for row_idx in range(rows):
            f.write(",%s%06d,1\n" % (padding, row_idx))
    return path


def read_records(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def snapshot_above_multipart(path, keep, rows=170000, seed=31):
    """A snapshot file whose digest is above S3's 5 MiB part size, so it goes up as a multipart upload: `keep` (the
    feed's present rows, so the delete guard passes) and `rows` random 12-character keys. A digest entry is 26
    bytes of hashes and length plus the key's JSON, zstd-compressed (src/loader/snapshot/digest.cpp): the hashes and
    random keys do not compress, about 35 bytes an entry, 170,000 entries about 6 MB."""
    rng = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("ID,Title,Price\n")
        for row in keep:
            f.write(row + "\n")
        for _ in range(rows):
            f.write("%s,t,1\n" % "".join(rng.choice(alphabet) for _ in range(12)))
    return path


# devl with one feed of each mode the function's role grants differently: snapshot (BatchWriteItem, its state and
# digests, the lock in the ledger), insert and newer (PutItem), merge (UpdateItem). Every planned table is keyed on
# ID, like the local ones; the newer feed's mapping names no keys, so the loader describes its table (DescribeTable
# is granted on that table alone).
FEEDS_TFVARS = """
feeds = {
  snap = {
    match    = { prefix = "raw-data/snap/" }
    mapping  = { partition_key = "ID:S" }
    mode     = "snapshot"
    snapshot = { max_delete_fraction = 0.5 }
  }
  ins = {
    match   = { prefix = "raw-data/ins/" }
    mapping = { partition_key = "ID:S" }
    mode    = "insert"
  }
  mrg = {
    match   = { prefix = "raw-data/mrg/" }
    mapping = { partition_key = "ID:S" }
    mode    = "merge"
  }
  nwr = {
    match   = { prefix = "raw-data/nwr/" }
    table   = { hash_key = { name = "ID" } }
    mode    = "newer"
    version = { column = "Version", type = "number" }
  }
}
"""


# ---- the plans ----------------------------------------------------------------------------------------------------

class planned_stack:
    """What one environment's plan says about the function: names, ARNs, its role and the Lambda features that use
    the role (log group, on-failure destination, event source mapping, tracing)."""

    def __init__(self, env, plan):
        self.env = env
        self.plan = plan
        changes = {rc["address"]: rc for rc in plan["resource_changes"] if rc["mode"] == "managed"}
        self.changes = changes

        def one(rtype):
            found = [rc["change"]["after"] for rc in changes.values() if rc["type"] == rtype]
            assert len(found) == 1, (env, rtype, len(found))
            return found[0]

        def all_of(rtype):
            return [rc["change"]["after"] for rc in changes.values() if rc["type"] == rtype]

        fn = one("aws_lambda_function")
        self.function_env = fn["environment"][0]["variables"]
        self.function_name = fn["function_name"]
        self.function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + self.function_name
        self.tracing = (fn.get("tracing_config") or [{}])[0].get("mode")
        self.key_arn = self.function_env["TARIUS_KMS_KEY_ARN"]
        self.bucket = [b["bucket"] for b in all_of("aws_s3_bucket") if "-landing-" in b["bucket"]][0]
        table = "arn:aws:dynamodb:eu-west-1:123456789012:table/"
        # Feeds: the document names each feed's table and (snapshot feeds) where its state and digests live.
        document = self.function_env.get("TARIUS_FEEDS")
        if document is not None and document.startswith("s3://"):
            raise AssertionError("%s: the feeds document went to S3; keep the test's feeds small" % env)
        self.feeds = json.loads(document)["feeds"] if document else None
        self.table_arn = table + self.function_env["TARIUS_TABLE"] if "TARIUS_TABLE" in self.function_env else None
        self.feed_table_arns = {n: table + f["table"] for n, f in (self.feeds or {}).items()}
        self.snapshot_areas = sorted(f["snapshot"]["digests_prefix"] + n + "/" for n, f in (self.feeds or {}).items()
                                     if f["mode"] == "snapshot")
        self.ledger_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/" + self.function_env["TARIUS_LEDGER_TABLE"]
        self.topic_arn = self.function_env["TARIUS_TOPIC_ARN"]
        queues = {q["name"] for q in all_of("aws_sqs_queue")}
        self.events_queue_arn = next(("arn:aws:sqs:eu-west-1:123456789012:" + q for q in queues if "-events-" in q),
                                     None)
        self.dlq_arn = next("arn:aws:sqs:eu-west-1:123456789012:" + q for q in queues if "-dlq-" in q)
        self.log_group = one("aws_cloudwatch_log_group")["name"]
        self.role_policy = json.loads(one("aws_iam_role_policy")["policy"])
        worker = tf_support.planned_output(plan, "worker_policy_json")
        self.worker_policy = json.loads(worker) if worker else None
        self.destinations = [c["destination_config"][0]["on_failure"][0]["destination"]
                             for c in all_of("aws_lambda_function_event_invoke_config")]
        # The mapping's queue ARN is known only after apply: it is the event queue (checked in the plan tests).
        self.mappings = [self.events_queue_arn for _ in all_of("aws_lambda_event_source_mapping")]
        self.trigger = "queue" if self.events_queue_arn else "direct"


# ---- records -> IAM requests --------------------------------------------------------------------------------------

def kms_requests(api, key_arn, service, origin):
    return [Request(kms, key_arn, {"kms:ViaService": "%s.eu-west-1.amazonaws.com" % service}, origin + " (via " +
                    service + ")") for kms in KMS_USE.get(api, [])]


class translator:
    """Maps the local stack's resources onto one environment's planned ARNs."""

    def __init__(self, local, stack, queue_urls, tables=None):
        self.local = local
        self.stack = stack
        self.queue_urls = queue_urls  # local queue URL -> planned ARN (None: this env has no such queue)
        # local table name -> planned ARN: the target table, or with feeds each feed's table.
        self.tables = dict(tables if tables is not None else {local.table: stack.table_arn}, ledger=stack.ledger_arn)

    def resource(self, service, name):
        s = self.stack
        if service == "s3":
            bucket, _, key = name.partition("/")
            if bucket != local_loader.BUCKET:
                raise AssertionError("s3 call on a bucket the stack does not have: " + name)
            return "arn:aws:s3:::%s/%s" % (s.bucket, key)
        if service == "dynamodb":
            arn = self.tables.get(name)
            if arn is None:
                raise AssertionError("dynamodb call on a table the stack does not have: " + name)
            return arn
        if service == "sqs":
            if name not in self.queue_urls or self.queue_urls[name] is None:
                raise AssertionError("sqs call on a queue %s does not have: %s" % (s.env, name))
            return self.queue_urls[name]
        if service == "sns":
            if name != self.local.topic_arn:
                raise AssertionError("sns call on a topic the stack does not have: " + name)
            return s.topic_arn
        if service == "lambda":
            if name not in (FUNCTION_ARN, "tarius-loader"):
                raise AssertionError("lambda call on a function the stack does not have: " + name)
            return s.function_arn
        raise AssertionError("no translation for service " + service)

    def requests(self, record, origin):
        api = record["action"]
        service = api.split(":", 1)[0]
        if api in API_TO_IAM:
            action = API_TO_IAM[api]
        elif api in SAME_NAME:
            action = api
        else:
            raise AssertionError("the code calls %s: add the IAM action that authorises it to API_TO_IAM or "
                                 "SAME_NAME (Service Authorization Reference)" % api)
        if service == "s3" and api in ("s3:GetObject", "s3:HeadObject") and "versionId" in record["params"]:
            action = "s3:GetObjectVersion"
        out = []
        for name in record["resources"] or [""]:
            arn = self.resource(service, name)
            out.append(Request(action, arn, {}, origin))
            if service == "s3":
                out += kms_requests(api, record["kms_key_id"] or self.stack.key_arn, "s3", origin)
                out += self.missing_state_requests(api, name, origin)
            elif service in ("sns", "sqs"):
                out += kms_requests(api, self.stack.key_arn, service, origin)
        return out

    def missing_state_requests(self, api, name, origin):
        """A GetObject of a snapshot area's state.json may find none (a feed's first snapshot): S3 answers that 404
        only when s3:ListBucket allows the key as s3:prefix (see the module's docstring)."""
        key = name.partition("/")[2]
        if api != "s3:GetObject" or not any(key == area + "state.json" for area in self.stack.snapshot_areas):
            return []
        return [Request("s3:ListBucket", "arn:aws:s3:::" + self.stack.bucket, {"s3:prefix": key},
                        origin + " (a missing state answers 404 with s3:ListBucket)")]


def platform_requests(stack):
    """What Lambda does with the function's role, from the plan (Lambda Developer Guide: execution role, logging,
    asynchronous invocation destinations, SQS event source mappings, X-Ray)."""
    out = []
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:%s" % stack.log_group
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        out.append(Request(action, group + ":log-stream:2026/01/01/[$LATEST]0123456789abcdef", {},
                           "Lambda writes the function's output"))
    for destination in stack.destinations:
        origin = "Lambda sends failed asynchronous events to the on-failure destination"
        out.append(Request("sqs:SendMessage", destination, {}, origin))
        out += kms_requests("sqs:SendMessage", stack.key_arn, "sqs", origin)
    for source in stack.mappings:
        origin = "the event source mapping polls the queue"
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            out.append(Request(action, source, {}, origin))
        out += kms_requests("sqs:ReceiveMessage", stack.key_arn, "sqs", origin)
    if stack.tracing == "Active":
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            out.append(Request(action, "*", {}, "Lambda sends the function's trace segments"))
    return out


def denied(policy, requests):
    """The requests `policy` does not allow, one line each."""
    return sorted({"%s on %s %s (%s)" % (r.action, r.resource, r.context or "", r.origin)
                   for r in requests if not tf_support.allows([policy], r.action, r.resource, r.context)})


def unused_grants(policy, requests):
    """Every (Allow statement, action, resource, condition value) of `policy` that no request uses."""
    out = []
    for st in tf_support.as_list(policy["Statement"]):
        if st.get("Effect") != "Allow":
            continue
        # Each value of a multi-valued condition must be used on its own (e.g. every kms:ViaService service).
        variants = [None]
        for op, keys in (st.get("Condition") or {}).items():
            for key, values in keys.items():
                if len(tf_support.as_list(values)) > 1:
                    variants = [(op, key, v) for v in tf_support.as_list(values)]
        for action in tf_support.as_list(st["Action"]):
            for resource in tf_support.as_list(st["Resource"]):
                for variant in variants:
                    single = dict(st, Action=action, Resource=resource)
                    if variant:
                        op, key, value = variant
                        single["Condition"] = dict(st["Condition"], **{op: dict(st["Condition"][op], **{key: value})})
                    if not any(tf_support.statement_applies(single, r.action, r.resource, r.context)
                               for r in requests):
                        out.append("%s: %s on %s%s" % (st.get("Sid"), action, resource,
                                                       " with %s=%s" % (variant[1], variant[2]) if variant else ""))
    return out


# ---- the test -----------------------------------------------------------------------------------------------------

class iam_actions(unittest.TestCase):
    """Runs every mode once (recorded), plans devl, test and prod once, then compares."""

    @classmethod
    def setUpClass(cls):
        reason = tf_support.terraform_available()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix="tarius-iam-")
        cls.outcomes = {}
        cls.plan_all()
        cls.stack_cm = tarius_stack.stack(moto=True, dynalite=True)
        cls.st = cls.stack_cm.__enter__()
        try:
            cls.local = local_loader.provisioned(cls.st, max_receive_count=3)
            cls.queue_arn = cls.local.arn(cls.local.queue_url)
            cls.records = {
                "direct": cls.run_direct_modes(cls.stacks["devl"]),
                "queue": cls.run_queue_modes(cls.stacks["test"]),
                "worker": cls.run_worker(cls.stacks["test"]),
                "feeds": cls.run_feeds(cls.stacks["feeds"]),
            }
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "stack_cm", None):
            cls.stack_cm.__exit__(None, None, None)
            cls.stack_cm = None
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def plan_all(cls):
        moto = tf_support.MotoServer()
        ws = tf_support.TerraformWorkspace()
        try:
            ws.use_local_backend()
            package = ws.placeholder_package()
            cls.stacks = {}
            for env in ("devl", "test", "prod"):
                values = {"local_endpoint": moto.endpoint, "package_path": package,
                          "kms": '{create=false,key_arn="%s"}' % EXISTING_KEY,
                          "allowed_account_ids": '["123456789012"]'}
                cls.stacks[env] = planned_stack(env, tf_support.plan_json(ws, ["envs/%s.tfvars" % env], values))
            feeds_tfvars = os.path.join(ws.tmp, "feeds.tfvars")
            with open(feeds_tfvars, "w") as f:
                f.write(FEEDS_TFVARS)
            cls.stacks["feeds"] = planned_stack("devl with feeds", tf_support.plan_json(
                ws, ["envs/devl.tfvars", feeds_tfvars], values))
        finally:
            moto.stop()
            ws.cleanup()

    # -- running the binaries

    @classmethod
    def function_env(cls, stack, record_path, **overrides):
        """The planned function's environment on the local stack: the plan's TARIUS_* settings with the local
        table (or with feeds the planned feeds document, its bucket and tables the local ones), ledger and topic
        names, and the action record."""
        env = dict(cls.local.env)
        env.update({k: v for k, v in stack.function_env.items() if k.startswith("TARIUS_")})
        env.update({"TARIUS_TABLE": cls.local.table, "TARIUS_LEDGER_TABLE": "ledger",
                    "TARIUS_TOPIC_ARN": cls.local.topic_arn, "TARIUS_RECORD_ACTIONS": record_path,
                    "TARIUS_LOG_LEVEL": "info"})
        if stack.feeds is not None:
            for name in ("TARIUS_TABLE", "TARIUS_LANDING_PREFIX"):  # the planned function has neither
                env.pop(name, None)
            document = json.loads(json.dumps(stack.feeds))
            for name, feed in document.items():
                feed["match"]["bucket"] = local_loader.BUCKET
                feed["table"] = cls.feed_table(name)
            env["TARIUS_FEEDS"] = json.dumps({"feeds": document})
        env.update(overrides)
        return env

    @staticmethod
    def feed_table(feed):
        """The local table of a feed."""
        return "feed-" + feed

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    @classmethod
    def upload(cls, path, key):
        return with_versions(cls.local, ls.upload(cls.local, path, key))

    @classmethod
    def run_direct_modes(cls, stack):
        record = cls.path("direct.jsonl")
        out = cls.outcomes
        env = cls.function_env(stack, record)
        with fake_runtime.FakeRuntime(timeout_s=120, function_arn=FUNCTION_ARN) as rt:
            proc = ls.start_bootstrap(rt, env, log_path=cls.path("direct.log"))
            try:
                event = cls.upload(SEED, "raw-data/iam/direct/products.csv")
                out["direct S3 event"] = rt.invoke_and_wait(event, asynchronous=True)
                out["duplicate delivery"] = rt.invoke_and_wait(event, asynchronous=True)
                small = write_rows(cls.path("eb.csv"), ["e1,a,1", "e2,b,2"])
                cls.local.s3.upload_file(small, local_loader.BUCKET, "raw-data/iam/eb/file.csv")
                ls.s3_event_for(cls.local, "raw-data/iam/eb/file.csv")  # the queue's copy is not used here
                out["EventBridge event"] = rt.invoke_and_wait(
                    ls.eventbridge_event(cls.local, "raw-data/iam/eb/file.csv"), asynchronous=True)
                bad = write_rows(cls.path("rejects.csv"), ["r1,a,1", ",no key,2", "r3,c,3"])
                out["file with rejects"] = rt.invoke_and_wait(cls.upload(bad, "raw-data/iam/rejects/file.csv"),
                                                              asynchronous=True)
                large = large_rejects_file(cls.path("large-rejects.csv"))
                out["multipart rejects"] = rt.invoke_and_wait(
                    cls.upload(large, "raw-data/iam/rejects/large.csv"), asynchronous=True, wait_s=300)
            finally:
                ls.stop(proc)
        # Every UploadPart refused: the rejects upload fails after CreateMultipartUpload and is aborted.
        event = cls.upload(cls.path("large-rejects.csv"), "raw-data/iam/rejects/refused-direct.csv")
        with cls.refusing_relay("direct") as relay_url:
            with fake_runtime.FakeRuntime(timeout_s=120, function_arn=FUNCTION_ARN) as rt:
                proc = ls.start_bootstrap(rt, dict(env, AWS_ENDPOINT_URL_S3=relay_url, AWS_MAX_ATTEMPTS="2"),
                                          log_path=cls.path("abort-direct.log"))
                try:
                    rt.invoke_and_wait(event, asynchronous=False, wait_s=300)
                finally:
                    ls.stop(proc)
        # A load longer than one invocation: 3 s of work each (6 s timeout, 3 s margin) at 2,500 WCU/s.
        long_file = cls.path("long-direct.csv")
        subprocess.run([TARIUS, "gen", "--rows", "15000", "--seed", "21", "--out", long_file], check=True)
        with fake_runtime.FakeRuntime(timeout_s=6, function_arn=FUNCTION_ARN) as rt:
            proc = ls.start_bootstrap(rt, dict(env, TARIUS_DEADLINE_MARGIN_MS="3000", TARIUS_MAX_WCU="2500"),
                                      log_path=cls.path("continuation.log"))
            try:
                rt.invoke(cls.upload(long_file, "raw-data/iam/long/direct.csv"), asynchronous=True)
                rt.wait_idle(300, settle_s=2)
            finally:
                ls.stop(proc)
            out["self-invocations"] = len(rt.self_invocations)
            out["continued invocations"] = [i.outcome for i in rt.invocations]
        return read_records(record)

    @classmethod
    def run_queue_modes(cls, stack):
        record = cls.path("queue.jsonl")
        out = cls.outcomes
        env = cls.function_env(stack, record)
        with fake_runtime.FakeRuntime(timeout_s=120, function_arn=FUNCTION_ARN) as rt:
            proc = ls.start_bootstrap(rt, env, log_path=cls.path("queue.log"))
            try:
                good = cls.upload(write_rows(cls.path("q-good.csv"), ["q1,a,1", "q2,b,2"]), "raw-data/iam/q/good.csv")
                bad = cls.upload(write_rows(cls.path("q-bad.csv"), ["q3,a,1", ",no key,2"]), "raw-data/iam/q/bad.csv")
                wrapped = cls.upload(write_rows(cls.path("q-sns.csv"), ["q4,a,1"]), "raw-data/iam/q/sns.csv")
                envelope = {"Type": "Notification", "MessageId": "n-1", "Message": json.dumps(wrapped),
                            "TopicArn": "arn:aws:sns:us-east-1:123456789012:fanout"}
                batch = ls.sqs_event([("m-good", json.dumps(good)), ("m-bad", json.dumps(bad)),
                                      ("m-sns", json.dumps(envelope)), ("m-poison", "not an S3 event")],
                                     cls.queue_arn)
                out["SQS batch"] = rt.invoke_and_wait(batch, asynchronous=False)
            finally:
                ls.stop(proc)
        event = cls.upload(cls.path("large-rejects.csv"), "raw-data/iam/rejects/refused-queue.csv")
        with cls.refusing_relay("queue") as relay_url:
            with fake_runtime.FakeRuntime(timeout_s=120, function_arn=FUNCTION_ARN) as rt:
                proc = ls.start_bootstrap(rt, dict(env, AWS_ENDPOINT_URL_S3=relay_url, AWS_MAX_ATTEMPTS="2"),
                                          log_path=cls.path("abort-queue.log"))
                try:
                    rt.invoke_and_wait(ls.sqs_event([("m-refused", json.dumps(event))], cls.queue_arn),
                                       asynchronous=False, wait_s=300)
                finally:
                    ls.stop(proc)
        # A load continued through a message on the queue; the test plays the event source mapping.
        long_file = cls.path("long-queue.csv")
        subprocess.run([TARIUS, "gen", "--rows", "15000", "--seed", "22", "--out", long_file], check=True)
        event = cls.upload(long_file, "raw-data/iam/long/queued.csv")
        continuations = 0
        with fake_runtime.FakeRuntime(timeout_s=6, function_arn=FUNCTION_ARN) as rt:
            proc = ls.start_bootstrap(rt, dict(env, TARIUS_DEADLINE_MARGIN_MS="3000", TARIUS_MAX_WCU="2500"),
                                      log_path=cls.path("queue-continuation.log"))
            try:
                message = ("m0", json.dumps(event))
                for _ in range(30):
                    inv = rt.invoke_and_wait(ls.sqs_event([message], cls.queue_arn), asynchronous=False, wait_s=60)
                    got = cls.local.sqs.receive_message(QueueUrl=cls.local.queue_url, WaitTimeSeconds=1)
                    if not got.get("Messages"):
                        break
                    m = got["Messages"][0]
                    cls.local.sqs.delete_message(QueueUrl=cls.local.queue_url, ReceiptHandle=m["ReceiptHandle"])
                    continuations += 1
                    message = (m["MessageId"], m["Body"])
                out["queue continuation last answer"] = inv
            finally:
                ls.stop(proc)
        out["queue continuations"] = continuations
        return read_records(record)

    @classmethod
    def run_worker(cls, stack):
        record = cls.path("worker.jsonl")
        env = cls.function_env(stack, record)

        def enqueue(path, key):
            # What S3 would put on the queue for a versioned bucket (the notification with its versionId).
            cls.local.sqs.send_message(QueueUrl=cls.local.queue_url, MessageBody=json.dumps(cls.upload(path, key)))

        def worker(extra_env):
            proc = subprocess.run([TARIUS, "worker", "--queue-url", cls.local.queue_url, "--exit-when-idle",
                                   "--wait-seconds", "2"], env=dict(env, **extra_env), capture_output=True,
                                  timeout=300)
            return (proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))

        for name, rows in (("w-good.csv", ["w1,a,1", "w2,b,2"]), ("w-bad.csv", ["w3,a,1", ",no key,2"])):
            enqueue(write_rows(cls.path(name), rows), "raw-data/iam/w/" + name)
        cls.outcomes["worker"] = worker({})
        enqueue(cls.path("large-rejects.csv"), "raw-data/iam/rejects/refused-worker.csv")
        with cls.refusing_relay("worker") as relay_url:
            cls.outcomes["worker, refused multipart"] = worker({"AWS_ENDPOINT_URL_S3": relay_url,
                                                                 "AWS_MAX_ATTEMPTS": "2"})
        # A transient failure (S3 answering 503 to every part): the load ends as retry and the worker hands the
        # message back to the queue for later (ChangeMessageVisibility).
        enqueue(cls.path("large-rejects.csv"), "raw-data/iam/rejects/transient-worker.csv")
        with cls.refusing_relay("worker, transient", status=503, code="SlowDown") as relay_url:
            cls.outcomes["worker, transient failure"] = worker({"AWS_ENDPOINT_URL_S3": relay_url,
                                                                 "AWS_MAX_ATTEMPTS": "1"})
        return read_records(record)

    @classmethod
    def run_feeds(cls, stack):
        """devl with feeds: a load through each feed (the snapshot feed twice, the first finding no state), then
        a digest and rejects whose multipart uploads are refused (aborted), then a load continued by a
        self-invocation."""
        record = cls.path("feeds.jsonl")
        out = cls.outcomes
        s3, ddb = cls.local.s3, cls.local.ddb
        for feed in stack.feeds:
            name = cls.feed_table(feed)
            ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "ID", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "ID", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST")
            ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
        (area,) = stack.snapshot_areas
        out["snapshot area before the first load"] = [
            o["Key"] for o in s3.list_objects_v2(Bucket=local_loader.BUCKET, Prefix=area).get("Contents", [])]
        env = cls.function_env(stack, record)
        second = ["s1,one again,10", "s2,two,2", "s4,four,4"]
        with fake_runtime.FakeRuntime(timeout_s=120, function_arn=FUNCTION_ARN) as rt:
            proc = ls.start_bootstrap(rt, env, log_path=cls.path("feeds.log"))
            try:
                for scenario, key, rows, header in (
                        ("first snapshot", "raw-data/snap/day-1.csv", ["s1,one,1", "s2,two,2", "s3,three,3"], None),
                        ("second snapshot", "raw-data/snap/day-2.csv", second, None),
                        ("insert", "raw-data/ins/file.csv", ["i1,a,1", ",no key,2"], None),
                        ("merge", "raw-data/mrg/file.csv", ["m1,a,1", "m2,b,2"], None),
                        ("newer", "raw-data/nwr/file.csv", ["n1,a,1", "n2,b,2"], "ID,Title,Version")):
                    path = write_rows(cls.path(key.replace("/", "-")), rows, **({"header": header} if header else {}))
                    out["feeds: " + scenario] = rt.invoke_and_wait(cls.upload(path, key), asynchronous=True)
            finally:
                ls.stop(proc)
        out["snapshot table"] = sorted(i["ID"]["S"] for i in ddb.scan(TableName=cls.feed_table("snap"))["Items"])
        # Every UploadPart refused: the digest of a snapshot above 5 MiB and the rejects of the insert feed go up as
        # multipart uploads, fail after CreateMultipartUpload, and are aborted.
        big = snapshot_above_multipart(cls.path("snap-big.csv"), second)
        events = [cls.upload(big, "raw-data/snap/day-3.csv"),
                  cls.upload(cls.path("large-rejects.csv"), "raw-data/ins/large-rejects.csv")]
        with cls.refusing_relay("feeds") as relay_url:
            with fake_runtime.FakeRuntime(timeout_s=120, function_arn=FUNCTION_ARN) as rt:
                proc = ls.start_bootstrap(rt, dict(env, AWS_ENDPOINT_URL_S3=relay_url, AWS_MAX_ATTEMPTS="2"),
                                          log_path=cls.path("abort-feeds.log"))
                try:
                    for scenario, event in zip(("refused digest", "refused rejects"), events):
                        out["feeds: " + scenario] = rt.invoke_and_wait(event, asynchronous=False, wait_s=300)
                finally:
                    ls.stop(proc)
        # A load longer than one invocation: 3 s of work each (6 s timeout, 3 s margin) at 500 WCU/s.
        long_file = cls.path("long-feeds.csv")
        subprocess.run([TARIUS, "gen", "--rows", "3000", "--seed", "23", "--out", long_file], check=True)
        with fake_runtime.FakeRuntime(timeout_s=6, function_arn=FUNCTION_ARN) as rt:
            proc = ls.start_bootstrap(rt, dict(env, TARIUS_DEADLINE_MARGIN_MS="3000", TARIUS_MAX_WCU="500"),
                                      log_path=cls.path("feeds-continuation.log"))
            try:
                rt.invoke(cls.upload(long_file, "raw-data/ins/long.csv"), asynchronous=True)
                rt.wait_idle(300, settle_s=2)
            finally:
                ls.stop(proc)
            out["feeds: self-invocations"] = len(rt.self_invocations)
            out["feeds: continued invocations"] = [(i.outcome, i.body) for i in rt.invocations]
        return read_records(record)

    @classmethod
    @contextlib.contextmanager
    def refusing_relay(cls, mode, status=400, code="InvalidRequest"):
        """S3 through a relay that refuses every UploadPart; records how many it refused for `mode`."""
        relay = failing_upload_parts(cls.st.moto.url, status, code)
        try:
            yield relay.url
        finally:
            cls.outcomes["UploadParts refused, " + mode] = relay.refused
            relay.close()

    # -- helpers

    def translate(self, stack, mode):
        queue_urls = {self.local.queue_url: stack.events_queue_arn, self.local.dlq_url: stack.dlq_arn}
        tables = None
        if stack.feeds is not None:
            tables = {self.feed_table(feed): arn for feed, arn in stack.feed_table_arns.items()}
        tr = translator(self.local, stack, queue_urls, tables)
        # One request per (action, resource, context), with the first call that made it: thousands of writes of a
        # table are one request to IAM.
        out = {}
        for record in self.records[mode]:
            for r in tr.requests(record, "%s: %s %s" % (mode, record["action"], record["resources"])):
                out.setdefault((r.action, r.resource, tuple(sorted(r.context.items()))), r)
        return list(out.values())

    def direct_and_queue_envs(self):
        return [(env, "direct" if self.stacks[env].trigger == "direct" else "queue") for env in ("devl", "test",
                                                                                                 "prod")] + [
            ("feeds", "feeds")]

    # -- the modes really ran

    def test_every_mode_ran_as_intended(self):
        o = self.outcomes
        for name in ("direct S3 event", "duplicate delivery", "EventBridge event", "file with rejects",
                     "multipart rejects"):
            with self.subTest(scenario=name):
                self.assertEqual(o[name].outcome, "response", o[name].body)
        self.assertEqual(o["duplicate delivery"].json_body()["loads"][0]["status"], "skipped")
        self.assertEqual(o["file with rejects"].json_body()["loads"][0]["counts"]["rejected"], 1)
        for mode in ("direct", "queue", "worker"):
            self.assertGreater(o["UploadParts refused, " + mode], 0,
                               "%s: the relay saw no UploadPart: no multipart upload was made" % mode)
        self.assertGreaterEqual(o["self-invocations"], 1, o["continued invocations"])
        self.assertEqual(o["SQS batch"].outcome, "response", o["SQS batch"].body)
        self.assertEqual(o["SQS batch"].json_body()["batchItemFailures"], [{"itemIdentifier": "m-poison"}])
        self.assertGreaterEqual(o["queue continuations"], 1)
        self.assertEqual(o["worker"][0], 0, o["worker"][2][-3000:])
        for mode in ("direct", "queue", "worker", "feeds"):
            self.assertTrue(self.records[mode], "nothing recorded in mode " + mode)

    def test_every_feed_loaded_as_intended(self):
        """The feeds' loads did what the comparison assumes: each feed's load succeeded (the insert one with its
        reject), the first snapshot found an empty area (its GetObject of state.json was a missing key) and the
        second deleted the absent key, the refused digest and rejects were multipart uploads, and the long load
        continued in a new invocation."""
        o = self.outcomes
        stack = self.stacks["feeds"]
        for scenario, feed, status in (("first snapshot", "snap", "succeeded"),
                                       ("second snapshot", "snap", "succeeded"),
                                       ("insert", "ins", "succeeded_with_rejects"),
                                       ("merge", "mrg", "succeeded"), ("newer", "nwr", "succeeded")):
            with self.subTest(scenario=scenario):
                inv = o["feeds: " + scenario]
                self.assertEqual(inv.outcome, "response", inv.body)
                (load,) = inv.json_body()["loads"]
                self.assertEqual((load["feed"], load["status"]), (feed, status), load)
        self.assertEqual(o["snapshot area before the first load"], [])
        self.assertEqual(o["snapshot table"], ["s1", "s2", "s4"])
        self.assertGreater(o["UploadParts refused, feeds"], 0)
        aborted = [r["resources"][0].partition("/")[2] for r in self.records["feeds"]
                   if r["action"] == "s3:AbortMultipartUpload"]
        (area,) = stack.snapshot_areas
        self.assertTrue([k for k in aborted if k.startswith(area) and k.endswith(".digest")], aborted)
        self.assertTrue([k for k in aborted if k.startswith("invalid-records/")], aborted)
        self.assertGreaterEqual(o["feeds: self-invocations"], 1, o["feeds: continued invocations"])

    # -- the comparison

    def test_every_call_is_granted_on_its_resource(self):
        for env, mode in self.direct_and_queue_envs():
            with self.subTest(env=env, mode=mode):
                stack = self.stacks[env]
                self.assertEqual(denied(stack.role_policy, self.translate(stack, mode)), [],
                                 "the %s role of %s lacks these grants" % (mode, env))

    def test_the_worker_policy_grants_every_call_of_the_worker(self):
        stack = self.stacks["test"]
        self.assertIsNotNone(stack.worker_policy, "test (queue trigger) outputs no worker_policy_json")
        self.assertEqual(denied(stack.worker_policy, self.translate(stack, "worker")), [])

    def test_nothing_is_granted_that_no_mode_uses(self):
        for env, mode in self.direct_and_queue_envs():
            with self.subTest(env=env, mode=mode):
                stack = self.stacks[env]
                used = self.translate(stack, mode) + platform_requests(stack)
                self.assertEqual(unused_grants(stack.role_policy, used), [],
                                 "grants of the %s role no call uses" % env)

    def test_nothing_in_the_worker_policy_is_unused(self):
        stack = self.stacks["test"]
        self.assertEqual(unused_grants(stack.worker_policy, self.translate(stack, "worker")), [])

    def test_controls_detect_a_missing_and_an_unused_grant(self):
        """Negative controls: the two comparisons fail when a used grant is removed or an unused one added."""
        for env, mode in (("devl", "direct"), ("feeds", "feeds")):
            stack = self.stacks[env]
            used = self.translate(stack, mode) + platform_requests(stack)
            for sid in [st["Sid"] for st in stack.role_policy["Statement"]]:
                with self.subTest(env=env, removed=sid):
                    without = dict(stack.role_policy,
                                   Statement=[st for st in stack.role_policy["Statement"] if st["Sid"] != sid])
                    self.assertNotEqual(denied(without, used), [], "removing %s goes unnoticed" % sid)
        stack = self.stacks["devl"]
        used = self.translate(stack, "direct") + platform_requests(stack)
        extra = {"Sid": "Unused", "Effect": "Allow", "Action": "dynamodb:Query", "Resource": stack.ledger_arn}
        with_extra = dict(stack.role_policy, Statement=stack.role_policy["Statement"] + [extra])
        self.assertEqual(unused_grants(with_extra, used), ["Unused: dynamodb:Query on %s" % stack.ledger_arn])
        narrowed = [dict(st, Condition={"StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com",
                                                                             "ec2.eu-west-1.amazonaws.com"]}})
                    if st["Sid"] == "UseKey" else st for st in stack.role_policy["Statement"]]
        self.assertIn("UseKey: kms:Decrypt on %s with kms:ViaService=ec2.eu-west-1.amazonaws.com" % stack.key_arn,
                      unused_grants(dict(stack.role_policy, Statement=narrowed), used))
        # A feed whose mapping names its keys: the loader never describes its table.
        feeds = self.stacks["feeds"]
        used = self.translate(feeds, "feeds") + platform_requests(feeds)
        mapped = feeds.feed_table_arns["ins"]
        extra = {"Sid": "Describe", "Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": mapped}
        self.assertEqual(unused_grants(dict(feeds.role_policy, Statement=feeds.role_policy["Statement"] + [extra]),
                                       used), ["Describe: dynamodb:DescribeTable on " + mapped])


if __name__ == "__main__":
    unittest.main()
