# ctest-label: integration
"""Tarius's AWS clients (through tests/tools/aws_call) against moto (S3, SNS, SQS, STS, Lambda) and dynalite
(DynamoDB), with boto3 as the independent observer: what Tarius writes boto3 reads, and the other way round."""

import base64
import json
import os
import subprocess
import tempfile
import unittest
import zipfile
import io

import tarius_stack as ts

AWS_CALL = os.path.join(ts.bin_dir(), "aws_call")

# Keys that exercise S3's URI encoding: spaces, '+', '&', non-ASCII, and every sub-delimiter.
TRICKY_KEYS = ["plain.csv", "dir/with space.csv", "a+b&c.csv", "caf\u00e9/\u00e9t\u00e9.csv", "odd/!*()';=?.csv",
               "deep/a/b/c d+e"]


def tarius_env(st, **extra):
    """The environment aws_call reads: endpoints of the local stack, dummy keys, no shared files, no IMDS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and "proxy" not in k.lower()}
    env.update({
        "AWS_ENDPOINT_URL": st.moto.url if st.moto else "http://127.0.0.1:9",
        "AWS_REGION": ts.REGION,
        "AWS_ACCESS_KEY_ID": ts.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": ts.SECRET_ACCESS_KEY,
        "AWS_CONFIG_FILE": "/nonexistent/tarius/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/tarius/credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
    })
    if st.dynalite:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = st.dynalite.url
    env.update(extra)
    return env


def aws_call(env, *args, check=True):
    """Runs aws_call; returns (exit code, stdout lines parsed as JSON, stderr)."""
    proc = subprocess.run([AWS_CALL, *args], env=env, capture_output=True, timeout=120)
    out = proc.stdout.decode()
    err = proc.stderr.decode()
    if check and proc.returncode != 0:
        raise AssertionError("aws_call %s failed (%d): %s" % (args[0], proc.returncode, err))
    return proc.returncode, [json.loads(line) for line in out.splitlines() if line.strip()], err


class S3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack_cm = ts.stack(moto=True)
        cls.st = cls.stack_cm.__enter__()
        cls.env = tarius_env(cls.st)
        cls.s3 = ts.s3_client(cls.st.moto.url)
        cls.s3.create_bucket(Bucket="tarius-in")
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        cls.stack_cm.__exit__(None, None, None)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_tricky_keys_round_trip_both_ways(self):
        for idx, key in enumerate(TRICKY_KEYS):
            with self.subTest(key=key):
                data = os.urandom(1000 + idx * 37) + key.encode()
                src = self.path("src%d" % idx)
                with open(src, "wb") as f:
                    f.write(data)
                # Tarius writes, boto3 reads.
                _, out, _ = aws_call(self.env, "s3-put", "tarius-in", "t/" + key, src)
                got = self.s3.get_object(Bucket="tarius-in", Key="t/" + key)
                self.assertEqual(got["Body"].read(), data)
                self.assertEqual(got["ETag"].strip('"'), out[0]["etag"])
                # boto3 writes, Tarius reads (whole, ranged, head).
                self.s3.put_object(Bucket="tarius-in", Key="b/" + key, Body=data)
                dst = self.path("dst%d" % idx)
                _, info, _ = aws_call(self.env, "s3-get", "tarius-in", "b/" + key, dst)
                with open(dst, "rb") as f:
                    self.assertEqual(f.read(), data)
                self.assertEqual(info[0]["size"], len(data))
                aws_call(self.env, "s3-get", "tarius-in", "b/" + key, dst, "--range", "10-99")
                with open(dst, "rb") as f:
                    self.assertEqual(f.read(), data[10:100])
                aws_call(self.env, "s3-get", "tarius-in", "b/" + key, dst, "--range", "900-")
                with open(dst, "rb") as f:
                    self.assertEqual(f.read(), data[900:])
                _, head, _ = aws_call(self.env, "s3-head", "tarius-in", "b/" + key)
                meta = self.s3.head_object(Bucket="tarius-in", Key="b/" + key)
                self.assertEqual(head[0]["size"], meta["ContentLength"])
                self.assertEqual(head[0]["etag"], meta["ETag"].strip('"'))

    def test_versions_if_match_and_missing(self):
        self.s3.create_bucket(Bucket="tarius-versioned")
        self.s3.put_bucket_versioning(Bucket="tarius-versioned", VersioningConfiguration={"Status": "Enabled"})
        v1 = self.s3.put_object(Bucket="tarius-versioned", Key="k v", Body=b"first")["VersionId"]
        v2 = self.s3.put_object(Bucket="tarius-versioned", Key="k v", Body=b"second!")["VersionId"]
        dst = self.path("ver")
        _, info, _ = aws_call(self.env, "s3-get", "tarius-versioned", "k v", dst, "--version-id", v1)
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), b"first")
        self.assertEqual(info[0]["version_id"], v1)
        _, info, _ = aws_call(self.env, "s3-head", "tarius-versioned", "k v")
        self.assertEqual(info[0]["version_id"], v2)
        # Tarius's put on a versioned bucket reports the version boto3 sees.
        src = self.path("v3")
        with open(src, "wb") as f:
            f.write(b"third")
        _, put, _ = aws_call(self.env, "s3-put", "tarius-versioned", "k v", src)
        self.assertEqual(put[0]["version_id"],
                         self.s3.head_object(Bucket="tarius-versioned", Key="k v")["VersionId"])

        etag = self.s3.head_object(Bucket="tarius-versioned", Key="k v")["ETag"].strip('"')
        code, _, _ = aws_call(self.env, "s3-get", "tarius-versioned", "k v", dst, "--if-match", etag)
        self.assertEqual(code, 0)
        code, _, err = aws_call(self.env, "s3-get", "tarius-versioned", "k v", dst, "--if-match",
                                "0123456789abcdef0123456789abcdef", check=False)
        self.assertEqual(code, 3, err)  # CONFLICT
        self.assertIn("412", err)
        code, _, err = aws_call(self.env, "s3-head", "tarius-in", "no/such key", check=False)
        self.assertEqual(code, 4, err)  # NOT_FOUND
        code, _, err = aws_call(self.env, "s3-get", "no-such-bucket-x", "k", dst, check=False)
        self.assertEqual(code, 4, err)
        self.assertIn("NoSuchBucket", err)

    def test_put_with_sse_kms(self):
        kms = ts.client("kms", self.st.moto.url)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        src = self.path("kms")
        with open(src, "wb") as f:
            f.write(b"secret rows\n")
        aws_call(self.env, "s3-put", "tarius-in", "kms/obj.csv", src, "--kms", key_id, "--content-type", "text/csv")
        meta = self.s3.head_object(Bucket="tarius-in", Key="kms/obj.csv")
        self.assertEqual(meta["ServerSideEncryption"], "aws:kms")
        self.assertIn(key_id, meta["SSEKMSKeyId"])
        self.assertEqual(meta["ContentType"], "text/csv")


class DynamoDBTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack_cm = ts.stack(dynalite=True)
        cls.st = cls.stack_cm.__enter__()
        cls.env = tarius_env(cls.st)
        cls.ddb = ts.dynamodb_client(cls.st.dynalite.url)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        cls.stack_cm.__exit__(None, None, None)

    def create(self, name, keys, **kwargs):
        defs = [{"AttributeName": n, "AttributeType": t} for n, t, _ in keys]
        schema = [{"AttributeName": n, "KeyType": k} for n, _, k in keys]
        self.ddb.create_table(TableName=name, AttributeDefinitions=defs, KeySchema=schema, **kwargs)
        self.ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})

    def test_describe_table_key_schemas(self):
        cases = [
            ("t_s_n", [("pk", "S", "HASH"), ("sk", "N", "RANGE")], {"BillingMode": "PAY_PER_REQUEST"},
             {"name": "pk", "type": "S"}, {"name": "sk", "type": "N"}, "PAY_PER_REQUEST", 0),
            ("t_b", [("bin", "B", "HASH")],
             {"ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 9}},
             {"name": "bin", "type": "B"}, None, "PROVISIONED", 9),
            ("t_n_s", [("n", "N", "HASH"), ("s", "S", "RANGE")], {"BillingMode": "PAY_PER_REQUEST"},
             {"name": "n", "type": "N"}, {"name": "s", "type": "S"}, "PAY_PER_REQUEST", 0),
        ]
        for name, keys, kwargs, hash_key, range_key, mode, wcu in cases:
            with self.subTest(table=name):
                self.create(name, keys, **kwargs)
                _, out, _ = aws_call(self.env, "ddb-describe", name)
                desc = self.ddb.describe_table(TableName=name)["Table"]
                self.assertEqual(out[0]["name"], name)
                self.assertEqual(out[0]["arn"], desc["TableArn"])
                self.assertEqual(out[0]["status"], "ACTIVE")
                self.assertEqual(out[0]["hash"], hash_key)
                self.assertEqual(out[0].get("range"), range_key)
                self.assertEqual(out[0]["billing_mode"], mode)
                self.assertEqual(out[0]["write_capacity"], wcu)
        code, _, err = aws_call(self.env, "ddb-describe", "no_such_table", check=False)
        self.assertEqual(code, 4, err)
        self.assertIn("ResourceNotFoundException", err)

    def test_batch_write_25_items_read_back(self):
        self.create("batch", [("pk", "S", "HASH"), ("n", "N", "RANGE")], BillingMode="PAY_PER_REQUEST")
        items = [{"pk": {"S": "k\u00e9 %d \"q\"" % i}, "n": {"N": str(i)}, "payload": {"B": "AAEC"},
                  "tags": {"SS": ["a", "b"]}} for i in range(25)]
        bodies = self.path_of("bodies.jsonl")
        with open(bodies, "w") as f:
            f.write(json.dumps({"RequestItems": {"batch": [{"PutRequest": {"Item": it}} for it in items]},
                                "ReturnConsumedCapacity": "TOTAL"}) + "\n")
        _, out, _ = aws_call(self.env, "ddb-batch", bodies)
        self.assertEqual(out[0]["items_sent"], 25)
        self.assertEqual(out[0]["items_accepted"], 25)
        got = self.ddb.scan(TableName="batch")["Items"]
        key = lambda it: int(it["n"]["N"])  # noqa: E731
        # boto3 hands binary values back decoded.
        expected = [dict(it, payload={"B": base64.b64decode(it["payload"]["B"])}) for it in items]
        self.assertEqual(sorted(got, key=key), sorted(expected, key=key))

        # The generic call: a conditional put that loses is CONFLICT.
        cond = json.dumps({"TableName": "batch", "Item": items[0], "ConditionExpression": "attribute_not_exists(pk)"})
        code, _, err = aws_call(self.env, "ddb-call", "PutItem", cond, check=False)
        self.assertEqual(code, 3, err)
        self.assertIn("ConditionalCheckFailedException", err)
        _, out, _ = aws_call(self.env, "ddb-call", "GetItem",
                             json.dumps({"TableName": "batch", "Key": {"pk": items[3]["pk"], "n": items[3]["n"]}}))
        self.assertEqual(out[0]["Item"], items[3])

    def test_validation_errors_are_clear(self):
        self.create("valid", [("pk", "S", "HASH")], BillingMode="PAY_PER_REQUEST")
        dup = {"PutRequest": {"Item": {"pk": {"S": "same"}}}}
        cases = [
            ({"RequestItems": {"valid": [dup, dup]}}, "duplicates"),
            ({"RequestItems": {"valid": [{"PutRequest": {"Item": {"other": {"S": "x"}}}}]}}, "key"),
            ({"RequestItems": {"missing_table": [dup]}}, "ResourceNotFoundException"),
        ]
        for body, needle in cases:
            with self.subTest(needle=needle):
                path = self.path_of("bad.jsonl")
                with open(path, "w") as f:
                    f.write(json.dumps(body) + "\n")
                code, _, err = aws_call(self.env, "ddb-batch", path, check=False)
                self.assertNotEqual(code, 0)
                self.assertIn("BatchWriteItem", err)
                self.assertIn(needle, err)
                self.assertRegex(err, r"HTTP 400")
        self.assertEqual(self.ddb.scan(TableName="valid")["Count"], 0)

    def path_of(self, name):
        return os.path.join(self.tmp.name, name)


class MessagingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack_cm = ts.stack(moto=True)
        cls.st = cls.stack_cm.__enter__()
        cls.env = tarius_env(cls.st)
        cls.sqs = ts.sqs_client(cls.st.moto.url)
        cls.sns = ts.client("sns", cls.st.moto.url)

    @classmethod
    def tearDownClass(cls):
        cls.stack_cm.__exit__(None, None, None)

    def test_sns_publish_json_structure_with_attributes_to_sqs(self):
        queue_url = self.sqs.create_queue(QueueName="notify")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        topic = self.sns.create_topic(Name="tarius-events")["TopicArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                           Attributes={"RawMessageDelivery": "false"})
        message = json.dumps({"default": "load finished", "sqs": "{\"rows\": 25, \"file\": \"s3://b/k \u00e9\"}"})
        _, out, _ = aws_call(self.env, "sns-publish", topic, message, "--json", "--subject", "Tarius load",
                             "--attr", "status=ok", "--attr", "file=s3://b/k 1&2")
        received = self.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2)["Messages"]
        self.assertEqual(len(received), 1)
        envelope = json.loads(received[0]["Body"])
        self.assertEqual(envelope["MessageId"], out[0]["message_id"])
        self.assertEqual(envelope["TopicArn"], topic)
        self.assertEqual(envelope["Subject"], "Tarius load")
        self.assertEqual(envelope["Message"], "{\"rows\": 25, \"file\": \"s3://b/k \u00e9\"}")
        self.assertEqual(envelope["MessageAttributes"]["status"], {"Type": "String", "Value": "ok"})
        self.assertEqual(envelope["MessageAttributes"]["file"], {"Type": "String", "Value": "s3://b/k 1&2"})

    def test_sqs_send_receive_visibility_delete(self):
        queue_url = self.sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        # Tarius sends, boto3 receives.
        _, out, _ = aws_call(self.env, "sqs-send", queue_url, "hello \"w\u00f6rld\"")
        got = self.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, VisibilityTimeout=0)["Messages"]
        self.assertEqual(got[0]["Body"], "hello \"w\u00f6rld\"")
        self.assertEqual(got[0]["MessageId"], out[0]["message_id"])
        # Tarius receives (attributes asked for), extends the visibility, deletes.
        _, msgs, _ = aws_call(self.env, "sqs-receive", queue_url, "--wait", "1", "--visibility", "5")
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]["body"], "hello \"w\u00f6rld\"")
        self.assertIn("ApproximateReceiveCount", msgs[0]["attributes"])
        self.assertEqual(msgs[0]["attributes"]["ApproximateReceiveCount"], "2")
        aws_call(self.env, "sqs-visibility", queue_url, msgs[0]["receipt_handle"], "0")
        # Visible again at once: boto3 sees it.
        again = self.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, VisibilityTimeout=0)
        self.assertEqual(len(again.get("Messages", [])), 1)
        _, msgs, _ = aws_call(self.env, "sqs-receive", queue_url, "--wait", "1")
        _, deleted, _ = aws_call(self.env, "sqs-delete", queue_url, msgs[0]["receipt_handle"])
        self.assertEqual(deleted[0]["failed"], [])
        attrs = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "0")
        code, _, err = aws_call(self.env, "sqs-send", queue_url.replace("work", "nope"), "x", check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("SendMessage", err)

    def test_web_identity_credentials_through_sts(self):
        """The default chain's web identity source against moto's STS, then a real call with what it got."""
        with tempfile.NamedTemporaryFile("w", suffix=".jwt", delete=False) as token:
            token.write("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0YXJpdXMifQ.c2ln")
        try:
            env = tarius_env(self.st, AWS_WEB_IDENTITY_TOKEN_FILE=token.name,
                             AWS_ROLE_ARN="arn:aws:iam::123456789012:role/tarius-loader",
                             AWS_ROLE_SESSION_NAME="tarius-test")
            del env["AWS_ACCESS_KEY_ID"]
            del env["AWS_SECRET_ACCESS_KEY"]
            queue_url = self.sqs.create_queue(QueueName="wi")["QueueUrl"]
            _, out, _ = aws_call(env, "sqs-send", queue_url, "via web identity")
            got = self.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
            self.assertEqual(got[0]["MessageId"], out[0]["message_id"])
            # No STS endpoint answering: the chain's failure is an AUTH error naming the source.
            bad = dict(env, AWS_ENDPOINT_URL_STS="http://127.0.0.1:9")
            code, _, err = aws_call(bad, "sqs-send", queue_url, "x", check=False)
            self.assertEqual(code, 5, err)
            self.assertNotIn("c2ln", err)  # the token never shows up
        finally:
            os.unlink(token.name)

    def test_lambda_invoke_event(self):
        lam = ts.client("lambda", self.st.moto.url)
        iam = ts.client("iam", self.st.moto.url)
        role = iam.create_role(RoleName="tarius-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\n")
        lam.create_function(FunctionName="tarius-loader", Runtime="provided.al2023", Role=role,
                            Handler="bootstrap", Code={"ZipFile": buf.getvalue()})
        code, _, err = aws_call(self.env, "lambda-invoke", "tarius-loader", "{\"resume\": 1}", check=False)
        if code != 0 and "docker" in err.lower():
            self.skipTest("moto cannot run Lambda invocations without docker: " + err)
        self.assertEqual(code, 0, err)
        code, _, err = aws_call(self.env, "lambda-invoke", "no-such-function", "{}", check=False)
        self.assertEqual(code, 4, err)


if __name__ == "__main__":
    unittest.main()
