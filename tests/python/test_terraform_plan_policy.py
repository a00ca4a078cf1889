# ctest-label: integration
"""Policy checks on real Terraform plans of infra/terraform for devl, test and prod.

Each plan runs against a moto server through the root's local mode (`local_endpoint`), with dummy credentials, so
no real AWS endpoint is contacted; the plan is read back with `terraform show -json`. The envs' own tfvars are used
unchanged apart from local_endpoint, package_path (a placeholder zip) and, where said, kms (an existing key ARN
makes every encryption attribute and policy known at plan time, so they can be compared exactly).
"""

import json
import os
import unittest

import tf_support

EXISTING_KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"

# Where "*" is legitimately a resource in an Allow statement, and why.
STAR_RESOURCE_EXCEPTIONS = {
    # In a key policy "Resource": "*" means "this key"; AWS accepts nothing else there.
    "aws_kms_key": "a key policy's resource is always '*' (the key itself)",
}
# Where an Allow statement may use a service-wide action wildcard, and why.
STAR_ACTION_EXCEPTIONS = {
    # The account root keeps kms:* so the key can never become unmanageable (AWS's default key policy statement).
    ("aws_kms_key", "AccountAdministration"): "the account root must keep full control of its key",
}

ENCRYPTED = {
    # resource type -> path of the key attribute in `after`
    "aws_s3_bucket_server_side_encryption_configuration": ["rule", 0, "apply_server_side_encryption_by_default", 0,
                                                           "kms_master_key_id"],
    "aws_dynamodb_table": ["server_side_encryption", 0, "kms_key_arn"],
    "aws_sns_topic": ["kms_master_key_id"],
    "aws_sqs_queue": ["kms_master_key_id"],
    "aws_cloudwatch_log_group": ["kms_key_id"],
    "aws_lambda_function": ["kms_key_arn"],
}


def dig(value, path):
    """Follow path (keys and indices) into value; None when it is missing."""
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def as_list(value):
    return value if isinstance(value, list) else [value]


class plan_policy(unittest.TestCase):
    """One moto server and one initialised copy of infra/terraform for all plans."""

    plans = {}

    @classmethod
    def setUpClass(cls):
        reason = tf_support.terraform_available()
        if reason:
            raise unittest.SkipTest(reason)
        cls.moto = tf_support.MotoServer()
        cls.ws = tf_support.TerraformWorkspace()
        try:
            cls.ws.use_local_backend()
            cls.package = cls.ws.placeholder_package()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "moto", None):
            cls.moto.stop()
        if getattr(cls, "ws", None):
            cls.ws.cleanup()

    def plan(self, env, existing_key=True, **variables):
        """Plan envs/<env>.tfvars (cached per argument set) and return its resource changes by address."""
        cache_key = (env, existing_key, tuple(sorted(variables.items())))
        if cache_key not in self.plans:
            values = {"local_endpoint": self.moto.endpoint, "package_path": self.package}
            if existing_key:
                values["kms"] = '{create=false,key_arn="%s"}' % EXISTING_KEY
            values.update(variables)
            data = tf_support.plan_json(self.ws, ["envs/%s.tfvars" % env], values)
            self.plans[cache_key] = {rc["address"]: rc for rc in data["resource_changes"]
                                     if rc["mode"] == "managed"}
        return self.plans[cache_key]

    @staticmethod
    def of_type(changes, rtype):
        return [rc for rc in changes.values() if rc["type"] == rtype]

    # ---- encryption ----------------------------------------------------------------------------------------------

    def check_encryption_exact(self, changes):
        for rtype, path in ENCRYPTED.items():
            found = self.of_type(changes, rtype)
            self.assertTrue(found, "no %s planned" % rtype)
            for rc in found:
                self.assertEqual(dig(rc["change"]["after"], path), EXISTING_KEY, rc["address"])
        for rc in self.of_type(changes, "aws_s3_bucket_server_side_encryption_configuration"):
            rule = rc["change"]["after"]["rule"][0]
            self.assertEqual(rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"], "aws:kms")
            self.assertTrue(rule["bucket_key_enabled"])
        for rc in self.of_type(changes, "aws_dynamodb_table"):
            self.assertTrue(rc["change"]["after"]["server_side_encryption"][0]["enabled"], rc["address"])
        self.assertFalse(self.of_type(changes, "aws_kms_key"), "an existing key was given, none may be created")

    def test_encryption_with_existing_key_every_env(self):
        for env in ("devl", "test", "prod"):
            with self.subTest(env=env):
                self.check_encryption_exact(self.plan(env))

    def test_created_key_encrypts_everything(self):
        changes = self.plan("prod", existing_key=False)
        keys = self.of_type(changes, "aws_kms_key")
        self.assertEqual(len(keys), 1)
        key = keys[0]["change"]["after"]
        self.assertTrue(key["enable_key_rotation"])
        policy = json.loads(key["policy"])
        sids = {s.get("Sid") for s in policy["Statement"]}
        self.assertTrue({"ServicesOfThisAccount", "CloudWatchLogs", "KeyUsers", "DynamoDBViaService"} <= sids, sids)
        logs = next(s for s in policy["Statement"] if s.get("Sid") == "CloudWatchLogs")
        self.assertIn("kms:EncryptionContext:aws:logs:arn", json.dumps(logs["Condition"]))
        users = next(s for s in policy["Statement"] if s.get("Sid") == "KeyUsers")
        self.assertIn(":role/tarius-loader-prod-eu-west-1", json.dumps(users["Condition"]))
        # The key ARN is only known after apply: every encryption attribute must wait for it (unknown in the plan).
        for rtype, path in ENCRYPTED.items():
            for rc in self.of_type(changes, rtype):
                self.assertIs(dig(rc["change"]["after_unknown"], path), True, rc["address"])

    # ---- IAM and resource policies -------------------------------------------------------------------------------

    def policies(self, changes):
        """(resource type, address, attribute, parsed document) of every policy in the plan."""
        out = []
        for rc in changes.values():
            after = rc["change"]["after"] or {}
            for attr in ("policy", "assume_role_policy"):
                if attr in after:
                    doc = after[attr]
                    self.assertTrue(doc, "%s.%s unknown at plan time" % (rc["address"], attr))
                    out.append((rc["type"], rc["address"], attr, json.loads(doc)))
        return out

    def test_no_wildcards_in_allow_statements(self):
        for env in ("devl", "test", "prod"):
            for rtype, address, attr, doc in self.policies(self.plan(env)):
                for st in as_list(doc["Statement"]):
                    if st.get("Effect", "Allow") != "Allow":
                        continue
                    where = "%s %s %s %s" % (env, address, attr, st.get("Sid"))
                    with self.subTest(where=where):
                        for action in as_list(st.get("Action", [])):
                            if action == "*" or action.endswith(":*"):
                                self.assertIn((rtype, st.get("Sid")), STAR_ACTION_EXCEPTIONS, where + " " + action)
                        self.assertNotIn("NotAction", st)
                        if "*" in as_list(st.get("Resource", [])):
                            self.assertIn(rtype, STAR_RESOURCE_EXCEPTIONS, where)
                        principal = st.get("Principal")
                        self.assertNotEqual(principal, "*", where)
                        if isinstance(principal, dict):
                            self.assertNotIn("*", as_list(principal.get("AWS", [])), where)

    def role_policy(self, changes):
        (rc,) = [rc for rc in self.of_type(changes, "aws_iam_role_policy")]
        return {st["Sid"]: st for st in json.loads(rc["change"]["after"]["policy"])["Statement"]}

    def test_role_is_least_privilege(self):
        direct = self.role_policy(self.plan("devl"))
        queue = self.role_policy(self.plan("test"))
        expected = {
            "Logs": {"logs:CreateLogStream", "logs:PutLogEvents"},
            "ReadLanding": {"s3:GetObject", "s3:GetObjectVersion"},
            "WriteRejectsAndReports": {"s3:PutObject"},
            "WriteTable": {"dynamodb:BatchWriteItem", "dynamodb:DescribeTable"},
            "Ledger": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
            "PublishSummary": {"sns:Publish"},
            "UseKey": {"kms:Decrypt", "kms:GenerateDataKey"},
            "Continuation": {"lambda:InvokeFunction"},
            "DeadLetter": {"sqs:SendMessage"},
        }
        self.assertEqual({k: set(as_list(v["Action"])) for k, v in direct.items()}, expected)
        expected["ConsumeEvents"] = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                     "sqs:ChangeMessageVisibility"}
        self.assertEqual({k: set(as_list(v["Action"])) for k, v in queue.items()}, expected)
        self.assertEqual(as_list(direct["ReadLanding"]["Resource"]),
                         ["arn:aws:s3:::tarius-landing-devl-eu-west-1-123456789012/raw-data/*"])
        self.assertEqual(sorted(as_list(direct["WriteRejectsAndReports"]["Resource"])),
                         ["arn:aws:s3:::tarius-landing-devl-eu-west-1-123456789012/invalid-records/*",
                          "arn:aws:s3:::tarius-landing-devl-eu-west-1-123456789012/load-reports/*"])
        self.assertEqual(direct["WriteTable"]["Resource"],
                         "arn:aws:dynamodb:eu-west-1:123456789012:table/tarius-data-devl-eu-west-1")
        self.assertEqual(direct["Continuation"]["Resource"],
                         "arn:aws:lambda:eu-west-1:123456789012:function:tarius-loader-devl-eu-west-1")
        self.assertEqual(queue["ConsumeEvents"]["Resource"],
                         "arn:aws:sqs:eu-west-1:123456789012:tarius-events-test-eu-west-1")

    # ---- bucket ---------------------------------------------------------------------------------------------------

    def test_bucket_public_access_blocked_and_tls_only(self):
        for env in ("devl", "test", "prod"):
            with self.subTest(env=env):
                changes = self.plan(env)
                (pab,) = self.of_type(changes, "aws_s3_bucket_public_access_block")
                for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                             "restrict_public_buckets"):
                    self.assertIs(pab["change"]["after"][flag], True, flag)
                (own,) = self.of_type(changes, "aws_s3_bucket_ownership_controls")
                self.assertEqual(own["change"]["after"]["rule"][0]["object_ownership"], "BucketOwnerEnforced")
                (ver,) = self.of_type(changes, "aws_s3_bucket_versioning")
                self.assertEqual(ver["change"]["after"]["versioning_configuration"][0]["status"], "Enabled")
                (pol,) = self.of_type(changes, "aws_s3_bucket_policy")
                stmts = {s["Sid"]: s for s in json.loads(pol["change"]["after"]["policy"])["Statement"]}
                tls = stmts["DenyInsecureTransport"]
                self.assertEqual(tls["Effect"], "Deny")
                self.assertEqual(tls["Condition"], {"Bool": {"aws:SecureTransport": "false"}})
                self.assertEqual(stmts["DenyWrongKey"]["Condition"]["StringNotEqualsIfExists"],
                                 {"s3:x-amz-server-side-encryption-aws-kms-key-id": EXISTING_KEY})
                self.assertEqual(stmts["DenyOtherEncryption"]["Condition"]["StringNotEqualsIfExists"],
                                 {"s3:x-amz-server-side-encryption": "aws:kms"})
                (lc,) = self.of_type(changes, "aws_s3_bucket_lifecycle_configuration")
                prefixes = {r["filter"][0]["prefix"] for r in lc["change"]["after"]["rule"]}
                self.assertEqual(prefixes, {"raw-data/", "invalid-records/", "load-reports/"})

    # ---- trigger modes ---------------------------------------------------------------------------------------------

    def test_direct_trigger_retries_and_dlq(self):
        for env, variables in (("devl", {}), ("prod", {})):
            with self.subTest(env=env):
                changes = self.plan(env, **variables)
                (cfg,) = self.of_type(changes, "aws_lambda_function_event_invoke_config")
                after = cfg["change"]["after"]
                self.assertEqual(after["maximum_retry_attempts"], 2)
                self.assertEqual(after["destination_config"][0]["on_failure"][0]["destination"],
                                 "arn:aws:sqs:eu-west-1:123456789012:tarius-dlq-%s-eu-west-1" % env)
                (perm,) = self.of_type(changes, "aws_lambda_permission")
                self.assertEqual(perm["change"]["after"]["principal"], "s3.amazonaws.com")
                self.assertEqual(perm["change"]["after"]["source_arn"],
                                 "arn:aws:s3:::tarius-landing-%s-eu-west-1-123456789012" % env)
                self.assertFalse(self.of_type(changes, "aws_lambda_event_source_mapping"))
                (notif,) = self.of_type(changes, "aws_s3_bucket_notification")
                lambdas = notif["change"]["after"]["lambda_function"]
                self.assertEqual(sorted(l["filter_suffix"] for l in lambdas), [".csv", ".csv.gz", ".csv.zst"])
                self.assertEqual({l["filter_prefix"] for l in lambdas}, {"raw-data/"})

    def test_queue_trigger_redrive(self):
        changes = self.plan("test")
        queues = {rc["change"]["after"]["name"]: rc["change"]["after"] for rc in self.of_type(changes, "aws_sqs_queue")}
        events = queues["tarius-events-test-eu-west-1"]
        dlq = queues["tarius-dlq-test-eu-west-1"]
        self.assertEqual(dlq["message_retention_seconds"], 14 * 86400)
        self.assertEqual(json.loads(events["redrive_policy"]),
                         {"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:123456789012:tarius-dlq-test-eu-west-1",
                          "maxReceiveCount": 5})
        (fn,) = self.of_type(changes, "aws_lambda_function")
        self.assertGreaterEqual(events["visibility_timeout_seconds"], 6 * fn["change"]["after"]["timeout"])
        (esm,) = self.of_type(changes, "aws_lambda_event_source_mapping")
        self.assertEqual(esm["change"]["after"]["function_response_types"], ["ReportBatchItemFailures"])
        self.assertFalse(self.of_type(changes, "aws_lambda_function_event_invoke_config"))
        self.assertFalse(self.of_type(changes, "aws_lambda_permission"))
        policies = [json.loads(rc["change"]["after"]["policy"]) for rc in self.of_type(changes, "aws_sqs_queue_policy")]
        allow_s3 = [s for p in policies for s in p["Statement"] if s.get("Sid") == "AllowLandingBucket"]
        self.assertEqual(len(allow_s3), 1)
        self.assertEqual(allow_s3[0]["Condition"]["ArnEquals"]["aws:SourceArn"],
                         "arn:aws:s3:::tarius-landing-test-eu-west-1-123456789012")
        (notif,) = self.of_type(changes, "aws_s3_bucket_notification")
        self.assertEqual(len(notif["change"]["after"]["queue"]), 3)

    # ---- environment settings -------------------------------------------------------------------------------------

    def test_function_environment_and_settings(self):
        (fn,) = self.of_type(self.plan("prod"), "aws_lambda_function")
        after = fn["change"]["after"]
        self.assertEqual(after["runtime"], "provided.al2023")
        self.assertEqual(after["handler"], "bootstrap")
        self.assertEqual(after["architectures"], ["arm64"])
        self.assertEqual(after["memory_size"], 1769)
        self.assertEqual(after["reserved_concurrent_executions"], 50)
        env = after["environment"][0]["variables"]
        self.assertEqual(env["TARIUS_TABLE"], "tarius-data-prod-eu-west-1")
        self.assertEqual(env["TARIUS_LEDGER_TABLE"], "tarius-ledger-prod-eu-west-1")
        self.assertEqual(env["TARIUS_LANDING_PREFIX"], "raw-data/")
        self.assertEqual(env["TARIUS_REJECTS_PREFIX"], "invalid-records/")
        self.assertEqual(env["TARIUS_REPORTS_PREFIX"], "load-reports/")
        self.assertEqual(env["TARIUS_KMS_KEY_ARN"], EXISTING_KEY)
        self.assertEqual(env["TARIUS_MAX_WCU"], "2000")
        self.assertEqual(env["TARIUS_LOG_LEVEL"], "info")
        self.assertNotIn("TARIUS_MAPPING", env)
        self.assertIn("TARIUS_TOPIC_ARN", env)  # unknown until the topic exists
        tags = after["tags_all"]
        self.assertEqual((tags["Project"], tags["Environment"], tags["ManagedBy"]), ("tarius", "prod", "terraform"))

    def test_alarms_present(self):
        expected = {"function-errors", "function-throttles", "function-duration", "dlq-visible",
                    "table-write-throttles", "loads-failed", "rows-rejected"}
        for env, extra in (("devl", set()), ("test", {"function-concurrency", "queue-age"}),
                           ("prod", {"function-concurrency"})):
            with self.subTest(env=env):
                changes = self.plan(env)
                names = {rc["change"]["after"]["alarm_name"].replace("tarius-alarms-%s-eu-west-1-" % env, "")
                         for rc in self.of_type(changes, "aws_cloudwatch_metric_alarm")}
                self.assertEqual(names, expected | extra)
                self.assertEqual(len(self.of_type(changes, "aws_cloudwatch_dashboard")), 1)
        alarms = {rc["change"]["after"]["alarm_name"]: rc["change"]["after"]
                  for rc in self.of_type(self.plan("prod"), "aws_cloudwatch_metric_alarm")}
        duration = alarms["tarius-alarms-prod-eu-west-1-function-duration"]
        self.assertEqual((duration["extended_statistic"], duration["threshold"]), ("p99", 0.8 * 900 * 1000))
        self.assertEqual(alarms["tarius-alarms-prod-eu-west-1-function-concurrency"]["threshold"], 40)
        failed = alarms["tarius-alarms-prod-eu-west-1-loads-failed"]
        self.assertEqual((failed["namespace"], failed["metric_name"]), ("Tarius", "LoadsFailed"))

    def test_deletion_protection_on_in_prod_only(self):
        for env, on in (("devl", False), ("test", False), ("prod", True)):
            with self.subTest(env=env):
                tables = self.of_type(self.plan(env), "aws_dynamodb_table")
                self.assertEqual(len(tables), 2)
                for rc in tables:
                    after = rc["change"]["after"]
                    self.assertIs(after["deletion_protection_enabled"], on, rc["address"])
                    self.assertTrue(after["point_in_time_recovery"][0]["enabled"], rc["address"])
        ledger = [rc["change"]["after"] for rc in self.of_type(self.plan("prod"), "aws_dynamodb_table")
                  if "ledger" in rc["change"]["after"]["name"]][0]
        self.assertEqual(ledger["ttl"][0], {"enabled": True, "attribute_name": "expires_at"})
        self.assertEqual(ledger["hash_key"], "pk")


if __name__ == "__main__":
    unittest.main()
