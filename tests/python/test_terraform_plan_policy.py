# ctest-label: integration
"""Policy checks on real Terraform plans of infra/terraform for devl, test and prod (issue 12).

Each plan runs against a moto server through the root's local mode (`local_endpoint`), with dummy credentials, so
no real AWS endpoint is contacted; the plan is read back with `terraform show -json`. The envs' own tfvars are used
unchanged apart from local_endpoint, package_path (a placeholder zip), allowed_account_ids (moto's account) and,
where said, kms (an existing key ARN makes every encryption attribute and policy known at plan time, so they can
be compared exactly).

No policy scanner (tflint, checkov, tfsec, trivy) is installable here, so each control is a function returning the
violations it finds in a plan; a test asserts there are none in devl, test and prod, and a negative control removes
the control from a copy of the plan (or from the configuration, where Terraform itself enforces it) and asserts the
check then fails.
"""

import copy
import json
import os
import unittest

import test_terraform_deploy_roles as deploy_roles
import tf_support

EXISTING_KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
ACCOUNT = "123456789012"
ENVS = ("devl", "test", "prod")
BOUNDARY = "arn:aws:iam::123456789012:policy/tarius-workload-boundary"

# Where "*" is legitimately a resource in an Allow statement, and why.
STAR_RESOURCE_EXCEPTIONS = {
    # In a key policy "Resource": "*" means "this key"; AWS accepts nothing else there.
    ("aws_kms_key", None): "a key policy's resource is always '*' (the key itself)",
    ("aws_iam_role_policy", "Tracing"): "X-Ray has no resource-level permissions",
}
CRYPTO_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt", "kms:CreateGrant")

ENCRYPTED = {
    # resource type -> path of the key attribute in `after`
    "aws_s3_bucket_server_side_encryption_configuration": ["rule", 0, "apply_server_side_encryption_by_default", 0,
                                                           "kms_master_key_id"],
    "aws_dynamodb_table": ["server_side_encryption", 0, "kms_key_arn"],
    "aws_sns_topic": ["kms_master_key_id"],
    "aws_sqs_queue": ["kms_master_key_id"],
    "aws_cloudwatch_log_group": ["kms_key_id"],
    "aws_lambda_function": ["kms_key_arn"],
    "aws_cloudtrail": ["kms_key_id"],
}
# Buckets that cannot use the stack's key, and why.
SSE_S3_BUCKETS = {"tarius-logs-": "S3 server access log delivery does not support SSE-KMS target buckets"}


def dig(value, path):
    """Follow path (keys and indices) into value; None when it is missing."""
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


as_list = tf_support.as_list


def of_type(changes, rtype):
    return [rc for rc in changes.values() if rc["type"] == rtype]


def afters(changes, rtype):
    return [rc["change"]["after"] for rc in of_type(changes, rtype)]


def doc_of(rc, attr="policy"):
    return json.loads(rc["change"]["after"][attr])


def statements(doc):
    return as_list(doc["Statement"])


def role_policy(changes):
    (rc,) = of_type(changes, "aws_iam_role_policy")
    return doc_of(rc)


def sids(doc):
    return {st.get("Sid"): st for st in statements(doc)}


def env_of(changes):
    (fn,) = afters(changes, "aws_lambda_function")
    return fn["tags_all"]["Environment"]


def replace_policy(changes, rtype, change, attr="policy"):
    """A copy of changes where `change(doc)` rewrote the policy of every resource of rtype."""
    out = copy.deepcopy(changes)
    for rc in of_type(out, rtype):
        rc["change"]["after"][attr] = json.dumps(change(json.loads(rc["change"]["after"][attr])))
    return out


def edit_afters(changes, rtype, change):
    """A copy of changes where `change(after)` edited the `after` of every resource of rtype."""
    out = copy.deepcopy(changes)
    for rc in of_type(out, rtype):
        change(rc["change"]["after"])
    return out


def drop_resources(changes, predicate):
    return {a: rc for a, rc in copy.deepcopy(changes).items() if not predicate(rc)}


# ---- the controls: each returns the violations it finds ------------------------------------------------------------

def boundary_violations(changes):
    """Item 2: every role the configuration creates carries the workload boundary."""
    return ["%s has boundary %r" % (rc["address"], rc["change"]["after"].get("permissions_boundary"))
            for rc in of_type(changes, "aws_iam_role")
            if rc["change"]["after"].get("permissions_boundary") != BOUNDARY]


def policies(changes):
    """(resource type, address, attribute, parsed document) of every policy in the plan."""
    out = []
    for rc in changes.values():
        after = rc["change"]["after"] or {}
        for attr in ("policy", "assume_role_policy"):
            if after.get(attr):
                out.append((rc["type"], rc["address"], attr, json.loads(after[attr])))
    return out


def wildcard_violations(changes):
    """No Allow statement with a service-wide action wildcard, NotAction, an unexplained '*' resource, or a '*'
    principal."""
    out = []
    for rtype, address, attr, doc in policies(changes):
        for st in statements(doc):
            if st.get("Effect", "Allow") != "Allow":
                continue
            where = "%s %s %s" % (address, attr, st.get("Sid"))
            for action in as_list(st.get("Action", [])):
                if action == "*" or action.endswith(":*"):
                    out.append(where + ": " + action)
            if "NotAction" in st:
                out.append(where + ": NotAction")
            if "*" in as_list(st.get("Resource", [])) and (rtype, None) not in STAR_RESOURCE_EXCEPTIONS and \
                    (rtype, st.get("Sid")) not in STAR_RESOURCE_EXCEPTIONS:
                out.append(where + ": Resource *")
            principal = st.get("Principal")
            if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS", []))):
                out.append(where + ": Principal *")
    return out


def role_key_violations(changes):
    """Item 1/2: the function's role uses the key only through S3, SNS and SQS (kms:ViaService)."""
    out = []
    for st in statements(role_policy(changes)):
        actions = [a for a in as_list(st["Action"]) if a.startswith("kms:")]
        if not actions:
            continue
        via = dig(st, ["Condition", "StringEquals", "kms:ViaService"])
        services = {v.split(".")[0] for v in as_list(via)}
        if not via or not services <= {"s3", "sns", "sqs"}:
            out.append("%s: %s without kms:ViaService limited to s3/sns/sqs" % (st.get("Sid"), actions))
    return out


def boundary_containment_violations(changes):
    """Item 2: the function's planned policy stays inside the boundary docs/deploy.md creates (what the boundary
    does not allow, the role cannot do)."""
    boundary = deploy_roles.render("workload-boundary", ACCOUNT_ID=ACCOUNT)
    out = []
    for st in statements(role_policy(changes)):
        context = deploy_roles.satisfying_context(st)
        variants = [context]
        via = dig(st, ["Condition", "StringEquals", "kms:ViaService"])
        if via:
            variants = [dict(context, **{"kms:ViaService": v}) for v in as_list(via)]
        for action in as_list(st["Action"]):
            for resource in as_list(st["Resource"]):
                for ctx in variants:
                    if not tf_support.allows([boundary], action, resource.replace("*", "x"), ctx):
                        out.append("%s: %s on %s %s" % (st.get("Sid"), action, resource, ctx))
    return out


def expected_service_principals(changes):
    """The services that must use the key on their own behalf, from what the plan contains: S3 sending event
    notifications to the encrypted queue, CloudWatch alarms publishing to the encrypted topic, SNS redriving into
    the encrypted delivery DLQ, CloudTrail encrypting its files."""
    out = set()
    if any("s3.amazonaws.com" in rc["change"]["after"]["policy"] for rc in of_type(changes, "aws_sqs_queue_policy")):
        out.add("s3.amazonaws.com")
    if of_type(changes, "aws_cloudwatch_metric_alarm"):
        out.add("cloudwatch.amazonaws.com")
    if any(a["protocol"] in ("https", "sqs") for a in afters(changes, "aws_sns_topic_subscription")):
        out.add("sns.amazonaws.com")
    if of_type(changes, "aws_cloudtrail"):
        out.add("cloudtrail.amazonaws.com")
    return out


def key_policy_violations(changes):
    """Item 5: the root administers but cannot use the key (else any IAM policy could grant use and the user
    statements are decorative); the deploy role administers it; each service principal is limited by aws:SourceArn
    (or the Logs encryption context) and the account, and only the services that need the key are named."""
    out = []
    for rc in of_type(changes, "aws_kms_key"):
        doc = doc_of(rc)
        for st in statements(doc):
            principal = st.get("Principal", {})
            actions = as_list(st["Action"])
            roots = [p for p in as_list(principal.get("AWS", [])) if p.endswith(":root")]
            if roots and "Condition" not in st:
                bad = [a for a in actions if a == "kms:*" or a.startswith(CRYPTO_ACTIONS) or "*" in a]
                if bad:
                    out.append("%s: the root may %s" % (st.get("Sid"), bad))
            services = as_list(principal.get("Service", []))
            for service in services:
                cond = json.dumps(st.get("Condition", {}))
                if service.startswith("logs."):
                    if "kms:EncryptionContext:aws:logs:arn" not in cond:
                        out.append("%s: logs without the encryption context" % st.get("Sid"))
                elif "aws:SourceArn" not in cond or "aws:SourceAccount" not in cond:
                    out.append("%s: %s not limited by aws:SourceArn and aws:SourceAccount" % (st.get("Sid"), service))
        named = {s for st in statements(doc) for s in as_list(st.get("Principal", {}).get("Service", []))
                 if not s.startswith("logs.")}
        if named != expected_service_principals(changes):
            out.append("service principals %s, needed %s" % (sorted(named), sorted(expected_service_principals(
                changes))))
        admins = sids(doc).get("Administrators")
        deploy = "arn:aws:iam::%s:role/tarius-deploy-%s" % (ACCOUNT, env_of(changes))
        if not admins or as_list(admins["Principal"]["AWS"]) != [deploy]:
            out.append("the deploy role does not administer the key")
    return out


def bucket_violations(changes):
    """Every bucket: public access blocked, owner enforced, versioned, TLS only, and a bucket-wide rule aborting
    incomplete multipart uploads (item 5: not only under the landing prefix)."""
    out = []
    buckets = {a["bucket"] for a in afters(changes, "aws_s3_bucket")}
    by_bucket = {}
    for rtype in ("aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls",
                  "aws_s3_bucket_versioning", "aws_s3_bucket_policy", "aws_s3_bucket_lifecycle_configuration"):
        for rc in of_type(changes, rtype):
            # The bucket attribute is unknown until the bucket exists: match by module.
            by_bucket.setdefault(rc["address"].split(".aws_")[0], {})[rtype] = rc["change"]["after"]
    if len(by_bucket) != len(buckets):
        out.append("%d buckets, %d sets of settings" % (len(buckets), len(by_bucket)))
    for module, settings in by_bucket.items():
        pab = settings.get("aws_s3_bucket_public_access_block") or {}
        if not all(pab.get(f) is True for f in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                                 "restrict_public_buckets")):
            out.append(module + ": public access not blocked")
        own = settings.get("aws_s3_bucket_ownership_controls")
        if dig(own, ["rule", 0, "object_ownership"]) != "BucketOwnerEnforced":
            out.append(module + ": ownership not enforced")
        if dig(settings.get("aws_s3_bucket_versioning"), ["versioning_configuration", 0, "status"]) != "Enabled":
            out.append(module + ": not versioned")
        policy = settings.get("aws_s3_bucket_policy")
        tls = [st for st in statements(json.loads(policy["policy"])) if st.get("Effect") == "Deny" and
               st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} and "s3:*" in as_list(st["Action"])
               and len(as_list(st["Resource"])) == 2] if policy else []
        if not tls:
            out.append(module + ": plain HTTP not refused")
        rules = (settings.get("aws_s3_bucket_lifecycle_configuration") or {}).get("rule", [])
        if not any(r["status"] == "Enabled" and r.get("abort_incomplete_multipart_upload") and
                   dig(r, ["filter", 0, "prefix"]) in ("", None) and not dig(r, ["filter", 0, "and"]) and
                   not dig(r, ["filter", 0, "tag"]) for r in rules):
            out.append(module + ": no bucket-wide abort of incomplete multipart uploads")
    return out


def topic_violations(changes):
    """Item 5: the topic refuses plain HTTP for every action its policy allows, not only Publish."""
    out = []
    for rc in of_type(changes, "aws_sns_topic_policy"):
        doc = doc_of(rc)
        allowed = {a for st in statements(doc) if st.get("Effect") == "Allow" for a in as_list(st["Action"])}
        denied = {a for st in statements(doc) if st.get("Effect") == "Deny" and
                  st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for a in as_list(st["Action"])}
        if not allowed <= denied or "sns:Publish" not in denied:
            out.append("plain HTTP still allowed for %s" % sorted(allowed - denied))
    return out


def queue_violations(changes):
    """Item 5: every dead-letter queue says which queues may redrive into it (the event queue, or none); the event
    queue redrives into the DLQ."""
    out = []
    queues = {a["name"]: a for a in afters(changes, "aws_sqs_queue")}
    events = next((n for n in queues if "-events-" in n), None)
    for name, q in queues.items():
        if "-dlq-" in name or "-delivery-" in name:
            allow = json.loads(q.get("redrive_allow_policy") or "null")
            if not allow:
                out.append(name + ": no redrive_allow_policy")
                continue
            if "-dlq-" in name and events:
                expected = {"redrivePermission": "byQueue",
                            "sourceQueueArns": ["arn:aws:sqs:eu-west-1:%s:%s" % (ACCOUNT, events)]}
            else:
                expected = {"redrivePermission": "denyAll"}
            if allow != expected:
                out.append("%s: redrive_allow_policy %s, expected %s" % (name, allow, expected))
    return out


def concurrency_violations(changes):
    """Item 5: every environment reserves the function's concurrency (a runaway stays bounded)."""
    return ["%s: reserved concurrency %s" % (fn["function_name"], fn["reserved_concurrent_executions"])
            for fn in afters(changes, "aws_lambda_function") if fn["reserved_concurrent_executions"] < 1]


def alarm_violations(changes):
    """Item 4: the detection gaps are closed."""
    out = []
    (fn,) = afters(changes, "aws_lambda_function")
    env = fn["tags_all"]["Environment"]
    prefix = "tarius-alarms-%s-eu-west-1-" % env
    alarms = {a["alarm_name"].replace(prefix, ""): a for a in afters(changes, "aws_cloudwatch_metric_alarm")}
    required = {"dynamodb-user-errors", "dynamodb-system-errors", "ledger-write-throttles", "ledger-read-throttles",
                "notifications-failed", "function-duration"}
    if of_type(changes, "aws_lambda_function_event_invoke_config"):
        required |= {"async-events-dropped", "destination-delivery-failures"}
    if any(a["protocol"] in ("https", "sqs") for a in afters(changes, "aws_sns_topic_subscription")):
        required.add("delivery-dlq-visible")
    for name in sorted(required - set(alarms)):
        out.append("missing alarm " + name)
    metrics = {"async-events-dropped": ("AWS/Lambda", "AsyncEventsDropped"),
               "destination-delivery-failures": ("AWS/Lambda", "DestinationDeliveryFailures"),
               "dynamodb-user-errors": ("AWS/DynamoDB", "UserErrors"),
               "ledger-write-throttles": ("AWS/DynamoDB", "WriteThrottleEvents"),
               "notifications-failed": ("AWS/SNS", "NumberOfNotificationsFailed")}
    for name, (namespace, metric) in metrics.items():
        if name in alarms and (alarms[name]["namespace"], alarms[name]["metric_name"]) != (namespace, metric):
            out.append("%s watches %s/%s" % (name, alarms[name]["namespace"], alarms[name]["metric_name"]))
    system = alarms.get("dynamodb-system-errors")
    if system:
        tables = {dig(q, ["metric", 0, "dimensions", "TableName"]) for q in system["metric_query"]
                  if q.get("metric")}
        if not {fn["environment"][0]["variables"]["TARIUS_TABLE"],
                fn["environment"][0]["variables"]["TARIUS_LEDGER_TABLE"]} <= tables:
            out.append("SystemErrors alarm does not cover both tables: %s" % tables)
    duration = alarms.get("function-duration")
    if duration:
        timeout_ms = fn["timeout"] * 1000
        margin = int(fn["environment"][0]["variables"]["TARIUS_DEADLINE_MARGIN_MS"])
        if not (timeout_ms - margin < duration["threshold"] < timeout_ms) or duration["statistic"] != "Maximum":
            out.append("Duration alarm at %s (%s): a continued load (stops at %d ms) %s" % (
                duration["threshold"], duration["statistic"] or duration["extended_statistic"], timeout_ms - margin,
                "fires it" if duration["threshold"] <= timeout_ms - margin else "is not told apart from a timeout"))
    return out


def redrive_violations(changes):
    """Item 4: HTTPS and SQS subscriptions keep what SNS cannot deliver in the delivery DLQ, which accepts SNS only
    for this topic."""
    out = []
    subs = [rc for rc in of_type(changes, "aws_sns_topic_subscription") if rc["change"]["after"]["protocol"] in
            ("https", "sqs")]
    for rc in subs:
        if not (rc["change"]["after"].get("redrive_policy") or rc["change"]["after_unknown"].get("redrive_policy")):
            out.append(rc["address"] + ": no redrive policy")
    if subs:
        topic = fn_env(changes)["TARIUS_TOPIC_ARN"]
        delivery = [doc_of(rc) for rc in of_type(changes, "aws_sqs_queue_policy") if "delivery" in rc["address"]]
        allows = [st for d in delivery for st in statements(d) if st.get("Effect") == "Allow"]
        if not allows or not all(st["Principal"] == {"Service": "sns.amazonaws.com"} and
                                 dig(st, ["Condition", "ArnLike", "aws:SourceArn"]) == topic for st in allows):
            out.append("the delivery DLQ does not accept exactly SNS for the topic")
    return out


def fn_env(changes):
    (fn,) = afters(changes, "aws_lambda_function")
    return fn["environment"][0]["variables"]


def observability_violations(changes, on):
    """Item 4 (Lambda.7, S3.9/S3.22/S3.23): tracing, access logs and data events, on where `on`."""
    out = []
    (fn,) = afters(changes, "aws_lambda_function")
    if (dig(fn, ["tracing_config", 0, "mode"]) == "Active") != on:
        out.append("tracing is %s" % dig(fn, ["tracing_config", 0, "mode"]))
    logging = afters(changes, "aws_s3_bucket_logging")
    trails = afters(changes, "aws_cloudtrail")
    if on:
        if not logging or not logging[0]["target_bucket"].startswith("tarius-logs-"):
            out.append("no access logs of the landing bucket")
        landing = [b["bucket"] for b in afters(changes, "aws_s3_bucket") if "-landing-" in b["bucket"]][0]
        selectors = json.dumps(trails[0]["advanced_event_selector"]) if trails else ""
        if not trails or "arn:aws:s3:::%s/" % landing not in selectors or '"Data"' not in selectors or \
                not trails[0]["enable_log_file_validation"]:
            out.append("no data-event trail of the landing bucket")
    elif logging or trails:
        out.append("audit logs on where they were not asked for")
    return out


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

    def values(self, existing_key=True, **variables):
        values = {"local_endpoint": self.moto.endpoint, "package_path": self.package,
                  "allowed_account_ids": '["%s"]' % ACCOUNT}
        if existing_key:
            values["kms"] = '{create=false,key_arn="%s"}' % EXISTING_KEY
        values.update(variables)
        return values

    def plan(self, env, existing_key=True, extra_tfvars=None, **variables):
        """Plan envs/<env>.tfvars (cached per argument set) and return its resource changes by address."""
        cache_key = (env, existing_key, extra_tfvars, tuple(sorted(variables.items())))
        if cache_key not in self.plans:
            var_files = ["envs/%s.tfvars" % env] + ([self.extra_file(extra_tfvars)] if extra_tfvars else [])
            data = tf_support.plan_json(self.ws, var_files, self.values(existing_key, **variables))
            self.plans[cache_key] = {rc["address"]: rc for rc in data["resource_changes"]
                                     if rc["mode"] == "managed"}
        return self.plans[cache_key]

    def extra_file(self, text):
        path = os.path.join(self.ws.tmp, "extra-%d.tfvars" % (abs(hash(text)) % 10 ** 8))
        with open(path, "w") as f:
            f.write(text)
        return path

    def plan_fails(self, env, extra_tfvars=None, **variables):
        """The output of a plan expected to fail (assertion when it succeeds)."""
        var_files = ["envs/%s.tfvars" % env] + ([self.extra_file(extra_tfvars)] if extra_tfvars else [])
        args = ["plan", "-input=false", "-no-color", "-lock=false", "-refresh=false"]
        args += ["-var-file=" + v for v in var_files]
        for k, v in self.values(**variables).items():
            args += ["-var", "%s=%s" % (k, v)]
        proc = self.ws.run(args, check=False)
        self.assertNotEqual(proc.returncode, 0, "the plan succeeded")
        return " ".join((proc.stdout + proc.stderr).replace("│", " ").split())

    def each_env(self, check, existing_key=True):
        for env in ENVS:
            with self.subTest(env=env):
                self.assertEqual(check(self.plan(env, existing_key=existing_key)), [])

    def assert_caught(self, check, mutated, what):
        self.assertNotEqual(check(mutated), [], "the check missed: " + what)

    # ---- item 2: roles ---------------------------------------------------------------------------------------------

    def test_roles_carry_the_permissions_boundary(self):
        self.each_env(boundary_violations)
        self.assert_caught(boundary_violations, edit_afters(self.plan("prod"), "aws_iam_role",
                                                            lambda a: a.update(permissions_boundary=None)),
                           "a role without boundary")

    def test_function_role_stays_inside_the_boundary(self):
        self.each_env(boundary_containment_violations)
        extra = {"Sid": "Escalate", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
        self.assert_caught(boundary_containment_violations, replace_policy(
            self.plan("devl"), "aws_iam_role_policy", lambda d: dict(d, Statement=statements(d) + [extra])),
            "a grant outside the boundary")

    def test_no_wildcards_in_allow_statements(self):
        self.each_env(wildcard_violations)
        self.each_env(wildcard_violations, existing_key=False)
        extra = {"Sid": "Admin", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
        self.assert_caught(wildcard_violations, replace_policy(
            self.plan("test"), "aws_iam_role_policy", lambda d: dict(d, Statement=statements(d) + [extra])),
            "kms:* on *")

    def test_function_uses_the_key_only_through_services(self):
        self.each_env(role_key_violations)
        self.assert_caught(role_key_violations, replace_policy(
            self.plan("prod"), "aws_iam_role_policy",
            lambda d: dict(d, Statement=[{k: v for k, v in st.items() if k != "Condition"} for st in statements(d)])),
            "UseKey without kms:ViaService")

    def test_apply_role_can_create_what_the_plan_contains(self):
        """The documented apply role (infra/iam) allows the create call of every resource each plan contains, on
        its planned name; a statement removed from it is noticed."""
        for env in ENVS:
            with self.subTest(env=env):
                self.assertEqual(apply_role_gaps(self.plan(env, existing_key=False), env), [])
        without_tables = lambda doc: dict(doc, Statement=[st for st in doc["Statement"] if st["Sid"] != "Tables"])  # noqa: E731
        self.assertNotEqual(apply_role_gaps(self.plan("prod", existing_key=False), "prod", without_tables), [])

    # ---- item 1: the role's statements (their completeness is test_iam_actions.py's) ---------------------------------

    def test_role_statements_name_exact_resources(self):
        direct = sids(role_policy(self.plan("devl")))
        queue = sids(role_policy(self.plan("test")))
        bucket = "arn:aws:s3:::tarius-landing-devl-eu-west-1-123456789012"
        self.assertEqual(as_list(direct["ReadLanding"]["Resource"]), [bucket + "/raw-data/*"])
        self.assertEqual(sorted(as_list(direct["WriteRejectsAndReports"]["Resource"])),
                         [bucket + "/invalid-records/*", bucket + "/load-reports/*"])
        self.assertEqual(as_list(direct["AbortRejectsUploads"]["Resource"]), [bucket + "/invalid-records/*"])
        self.assertEqual(direct["WriteTable"]["Resource"],
                         "arn:aws:dynamodb:eu-west-1:123456789012:table/tarius-data-devl-eu-west-1")
        self.assertEqual(direct["Continuation"]["Resource"],
                         "arn:aws:lambda:eu-west-1:123456789012:function:tarius-loader-devl-eu-west-1")
        self.assertEqual(direct["DeadLetter"]["Resource"], "arn:aws:sqs:eu-west-1:123456789012:tarius-dlq-devl-eu-west-1")
        events = "arn:aws:sqs:eu-west-1:123456789012:tarius-events-test-eu-west-1"
        self.assertEqual(queue["ConsumeEvents"]["Resource"], events)
        self.assertEqual(queue["ContinueThroughQueue"]["Resource"], events)
        self.assertNotIn("Continuation", queue)
        self.assertNotIn("DeadLetter", queue)  # SQS redrives into the DLQ itself
        self.assertNotIn("ReadMapping", direct)

    def test_mapping_in_s3_is_readable_and_nothing_else_of_its_bucket(self):
        mapping = 's3://tarius-config-123456789012/mappings/products.yaml'
        changes = self.plan("devl", extra_tfvars='function = {\n  timeout = 300\n  reserved_concurrent_executions = 5\n'
                                                 '  mapping = "%s"\n}\n' % mapping)
        read = sids(role_policy(changes))["ReadMapping"]
        self.assertEqual((as_list(read["Action"]), read["Resource"]),
                         (["s3:GetObject"], "arn:aws:s3:::tarius-config-123456789012/mappings/products.yaml"))

    # ---- issue 11: feeds ---------------------------------------------------------------------------------------------

    def test_feeds_render_the_document_tables_and_exact_grants(self):
        """A feeds map renders TARIUS_FEEDS (the loader's document shape, src/loader/feeds.cpp), creates the tables
        it asks for and no target table, and every statement naming a table names exactly the feeds' tables (no
        wildcard, no index) with exactly the calls of their modes; notifications and alarms follow the feeds."""
        changes = self.plan("devl", extra_tfvars=FEEDS_TFVARS)
        env = fn_env(changes)
        self.assertNotIn("TARIUS_TABLE", env)
        self.assertNotIn("TARIUS_LANDING_PREFIX", env)
        self.assertEqual(json.loads(env["TARIUS_FEEDS"]), expected_feeds_document("devl"))
        self.assertEqual(sorted(a["name"] for a in afters(changes, "aws_dynamodb_table")),
                         ["tarius-ledger-devl-eu-west-1", "tarius-products-devl-eu-west-1",
                          "tarius-stock-devl-eu-west-1"])
        stock = [a for a in afters(changes, "aws_dynamodb_table") if "-stock-" in a["name"]][0]
        self.assertEqual((stock["hash_key"], stock["range_key"]), ("SKU", "Warehouse"))

        doc = role_policy(changes)
        # DescribeTable only where the loader reads the key schema from the table: a feed whose mapping names no keys.
        self.assertEqual(feed_table_grants(doc), {
            ("dynamodb:BatchWriteItem",): [t for t in feed_table_arns("devl") if "-orders-" not in t],
            ("dynamodb:BatchWriteItem", "dynamodb:DescribeTable"): [t for t in feed_table_arns("devl")
                                                                    if "-orders-" in t],
            ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"): [
                "arn:aws:dynamodb:eu-west-1:123456789012:table/tarius-ledger-devl-eu-west-1"],
        })
        self.assertEqual(sorted(sid for sid in sids(doc) if sid.startswith("Write") and "Table" in sid),
                         ["WriteMappedTable", "WriteTable"])
        self.assertEqual(wildcard_violations(changes), [])
        self.assertEqual(boundary_containment_violations(changes), [])
        bucket = "arn:aws:s3:::tarius-landing-devl-eu-west-1-123456789012"
        self.assertEqual(sorted(as_list(sids(doc)["ReadLanding"]["Resource"])),
                         [bucket + "/raw-data/orders/*", bucket + "/raw-data/products/*", bucket + "/raw-data/stock/*"])
        self.assertEqual(sorted(as_list(sids(doc)["WriteRejectsAndReports"]["Resource"])),
                         [bucket + "/invalid-records/*", bucket + "/load-reports/*"])
        self.assertNotIn("ReadFeeds", sids(doc))  # inline document: nothing more of the bucket is read

        (notif,) = afters(changes, "aws_s3_bucket_notification")
        self.assertEqual(sorted((l["filter_prefix"], l["filter_suffix"]) for l in notif["lambda_function"]), [
            ("raw-data/orders/", ".csv"), ("raw-data/products/", ".csv"), ("raw-data/products/", ".csv.gz"),
            ("raw-data/products/", ".csv.zst"), ("raw-data/stock/", ".csv"), ("raw-data/stock/", ".csv.gz")])

        alarms = {a["alarm_name"].replace("tarius-alarms-devl-eu-west-1-", ""): a
                  for a in afters(changes, "aws_cloudwatch_metric_alarm")}
        for feed in ("orders", "products", "stock"):
            self.assertEqual(alarms["loads-failed-" + feed]["dimensions"], {"feed": feed, "status": "failed"})
            rejected = [q["metric"][0]["dimensions"] for q in alarms["rows-rejected-" + feed]["metric_query"]
                        if q.get("metric")]
            self.assertTrue(rejected and all(d["feed"] == feed and set(d) == {"feed", "status"} for d in rejected))
        self.assertNotIn("loads-failed", alarms)
        unmatched = alarms["objects-unmatched"]
        self.assertEqual((unmatched["metric_name"], unmatched["namespace"], unmatched.get("dimensions") or {}),
                         ("ObjectsUnmatched", "Tarius", {}))
        throttled = {a["dimensions"]["TableName"] for n, a in alarms.items() if n.startswith("table-write-throttles")}
        self.assertEqual(sorted(throttled), sorted(arn.split("/")[-1] for arn in feed_table_arns("devl")))
        system = {q["metric"][0]["dimensions"]["TableName"] for n, a in alarms.items()
                  if n.startswith("dynamodb-system-errors") for q in a["metric_query"] if q.get("metric")}
        self.assertEqual(system, set(arn.split("/")[-1] for arn in feed_table_arns("devl")) |
                         {"tarius-ledger-devl-eu-west-1"})

    def test_feeds_worker_policy_names_exactly_the_feeds_tables(self):
        """Queue trigger: the policy for `tarius worker` (an output) carries the same table grants."""
        data = tf_support.plan_json(self.ws, ["envs/test.tfvars", self.extra_file(FEEDS_TFVARS)], self.values())
        worker = json.loads(tf_support.planned_output(data, "worker_policy_json"))
        grants = feed_table_grants(worker)
        self.assertEqual(grants[("dynamodb:BatchWriteItem",)],
                         [t for t in feed_table_arns("test") if "-orders-" not in t])
        self.assertEqual(grants[("dynamodb:BatchWriteItem", "dynamodb:DescribeTable")],
                         [t for t in feed_table_arns("test") if "-orders-" in t])
        self.assertIn("WorkerConsumeEvents", sids(worker))

    def test_feeds_document_too_large_for_the_environment_goes_to_s3(self):
        """A document above 2 KB is an object of the landing bucket (KMS), TARIUS_FEEDS names it, and the role may
        read that object and nothing else outside its prefixes."""
        columns = "".join('        "Column %02d" = { attribute = "column_%02d", type = "number" }\n' % (i, i)
                          for i in range(60))
        big = FEEDS_TFVARS.replace('      columns       = { "Price (USD)" = { attribute = "price_usd", type = '
                                   '"number", currency = true } }\n', "      columns = {\n" + columns + "      }\n")
        self.assertNotEqual(big, FEEDS_TFVARS)
        changes = self.plan("devl", extra_tfvars=big)
        (obj,) = afters(changes, "aws_s3_object")
        self.assertGreater(len(obj["content"]), 2048)
        self.assertRegex(obj["key"], r"^tarius-config/feeds-[0-9a-f]{16}\.json$")
        self.assertEqual((obj["server_side_encryption"], obj["kms_key_id"]), ("aws:kms", EXISTING_KEY))
        document = json.loads(obj["content"])
        self.assertEqual(len(document["feeds"]["products"]["mapping"]["columns"]), 60)
        bucket = "tarius-landing-devl-eu-west-1-123456789012"
        env = fn_env(changes)
        self.assertEqual(env["TARIUS_FEEDS"], "s3://%s/%s" % (bucket, obj["key"]))
        read = sids(role_policy(changes))["ReadFeeds"]
        self.assertEqual((as_list(read["Action"]), as_list(read["Resource"])),
                         (["s3:GetObject"], ["arn:aws:s3:::%s/%s" % (bucket, obj["key"])]))

    def test_a_feed_taking_over_the_shorthand_table_keeps_it(self):
        """A feed whose table is named data loads the shorthand's table: the same planned table resource (a
        deployment moves to feeds without recreating its table), and the grants name it alone."""
        shorthand = self.plan("prod")
        extra = ('feeds = {\n  products = {\n    match = { prefix = "raw-data/products/" }\n'
                 '    table = { name = "data" }\n  }\n}\n')
        feeds = self.plan("prod", extra_tfvars=extra)
        address = "module.table.aws_dynamodb_table.this[0]"
        self.assertEqual(feeds[address]["change"]["after"], shorthand[address]["change"]["after"])
        self.assertEqual(len(afters(feeds, "aws_dynamodb_table")), 2)  # the data table and the ledger
        document = json.loads(fn_env(feeds)["TARIUS_FEEDS"])
        self.assertEqual(document["feeds"]["products"]["table"], "tarius-data-prod-eu-west-1")
        # A feed without a budget on a provisioned table takes the table's write capacity.
        self.assertEqual(document["feeds"]["products"]["max_wcu"],
                         shorthand[address]["change"]["after"]["write_capacity"])
        grants = feed_table_grants(role_policy(feeds))
        self.assertEqual(grants[("dynamodb:BatchWriteItem", "dynamodb:DescribeTable")],
                         ["arn:aws:dynamodb:eu-west-1:123456789012:table/tarius-data-prod-eu-west-1"])

    def test_feeds_refused_by_the_loaders_rules(self):
        """Every rule the loader applies to a feed's mode and its options (src/loader/feeds.cpp), and the places a
        snapshot feed may keep its digests, fail the plan with the field named and the loader's words: one plan
        with a feed breaking each rule reports them all."""
        out = self.plan_fails("devl", extra_tfvars=REFUSED_FEEDS_TFVARS)
        for message in REFUSED_FEEDS_MESSAGES:
            with self.subTest(message=message):
                self.assertIn(message, out)
        # The feeds that break nothing are named by no message.
        for fine in ("feeds.i_put.mode", "feeds.d_insert.version", "feeds.h_snap.table",
                     "feeds.f_newer.mapping.columns.w"):
            self.assertNotIn(fine, out)

    def test_feeds_of_every_mode_get_exactly_their_calls(self):
        """One feed of each mode: the document carries each mode's options as the loader parses them (nulls left
        out; a snapshot feed's digests prefix always named), and the role grants each table exactly its mode's
        calls (a merge table UpdateItem only, an insert or newer table PutItem only), and the snapshot feeds their
        state and digests under <digests_prefix><feed>/ and nothing beside."""
        changes = self.plan("devl", extra_tfvars=MODES_TFVARS)
        self.assertEqual(json.loads(fn_env(changes)["TARIUS_FEEDS"]), expected_modes_document("devl"))
        doc = role_policy(changes)
        table = "arn:aws:dynamodb:eu-west-1:123456789012:table/tarius-%s-devl-eu-west-1"
        # DescribeTable only for the feeds whose mapping names no keys (products and prices name theirs).
        self.assertEqual(feed_table_grants(doc), {
            ("dynamodb:BatchWriteItem",): [table % "products"],
            ("dynamodb:BatchWriteItem", "dynamodb:DescribeTable"): sorted(
                table % f for f in ("stock", "inventory", "assortment")),
            ("dynamodb:DescribeTable", "dynamodb:PutItem"): sorted(table % f for f in ("events", "catalog")),
            ("dynamodb:UpdateItem",): [table % "prices"],
            # The ledger: a snapshot's lock item (snapshot#<feed>) is taken and released with UpdateItem.
            ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"): [table % "ledger"],
        })
        for feed, calls in (("products", {"BatchWriteItem"}), ("stock", {"BatchWriteItem"}),
                            ("inventory", {"BatchWriteItem"}), ("prices", {"UpdateItem"}),
                            ("events", {"PutItem"}), ("catalog", {"PutItem"})):
            for call in ("BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan"):
                with self.subTest(feed=feed, call=call):
                    self.assertEqual(tf_support.allows([doc], "dynamodb:" + call, table % feed), call in calls)
            with self.subTest(feed=feed, call="DescribeTable"):
                self.assertEqual(tf_support.allows([doc], "dynamodb:DescribeTable", table % feed),
                                 feed not in ("products", "prices"))

        bucket = "arn:aws:s3:::tarius-landing-devl-eu-west-1-123456789012"
        areas = ["snapshots/inventory/", "tarius-snapshots/assortment/"]
        stmts = sids(doc)
        digests = stmts["SnapshotDigests"]
        self.assertEqual((sorted(as_list(digests["Action"])), sorted(as_list(digests["Resource"]))),
                         (["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                          sorted(bucket + "/" + a + "*" for a in areas)))
        self.assertNotIn("Condition", digests)
        find = stmts["FindSnapshotState"]
        self.assertEqual((as_list(find["Action"]), as_list(find["Resource"])), (["s3:ListBucket"], [bucket]))
        condition = {op: {k: sorted(as_list(v)) for k, v in keys.items()} for op, keys in find["Condition"].items()}
        self.assertEqual(condition, {"StringLike": {"s3:prefix": sorted(a + "*" for a in areas)}})
        # What a snapshot load does (src/loader/snapshot/digest_store.cpp) is allowed, on its feed's area only.
        via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
        for area in areas:
            for name in ("state.json", "0123456789abcdef.digest"):
                for action in ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"):
                    with self.subTest(action=action, key=area + name):
                        self.assertTrue(tf_support.allows([doc], action, bucket + "/" + area + name))
                # A GetObject of a missing state.json answers NoSuchKey: S3 checks ListBucket with the key as prefix.
                self.assertTrue(tf_support.allows([doc], "s3:ListBucket", bucket, {"s3:prefix": area + name}))
        for kms in ("kms:GenerateDataKey", "kms:Decrypt"):
            self.assertTrue(tf_support.allows([doc], kms, EXISTING_KEY, via_s3))
        for action, resource, context in (
                ("s3:GetObject", bucket + "/snapshots/products/state.json", {}),  # a feed that is no snapshot
                ("s3:PutObject", bucket + "/snapshots/state.json", {}),
                ("s3:GetObject", bucket + "/tarius-snapshots/inventory/state.json", {}),  # another feed's prefix
                ("s3:DeleteObject", bucket + "/snapshots/products/0123456789abcdef.digest", {}),
                ("s3:DeleteObject", bucket + "/raw-data/inventory/day-1.csv", {}),
                ("s3:GetObject", bucket + "/raw-data/inventory/day-1.csv", {}),  # files are read by version only
                ("s3:ListBucket", bucket, {}),
                ("s3:ListBucket", bucket, {"s3:prefix": "snapshots/"}),
                ("s3:ListBucket", bucket, {"s3:prefix": "raw-data/inventory/"}),
                ("s3:ListBucketVersions", bucket, {"s3:prefix": "snapshots/inventory/"})):
            with self.subTest(refused=action, resource=resource, context=context):
                self.assertFalse(tf_support.allows([doc], action, resource, context))
        self.assertEqual(wildcard_violations(changes), [])
        self.assertEqual(role_key_violations(changes), [])
        # The workload boundary lets these grants through (its LandingList statement carries the ListBucket).
        self.assertEqual(boundary_containment_violations(changes), [])
        # The versions a snapshot feed replaces (state.json at every load) or deletes (its old digests) expire.
        (lifecycle,) = [rc["change"]["after"] for rc in of_type(changes, "aws_s3_bucket_lifecycle_configuration")
                        if rc["address"].startswith("module.bucket.")]
        expiring = {dig(r, ["filter", 0, "prefix"]): r for r in lifecycle["rule"]
                    if dig(r, ["noncurrent_version_expiration", 0, "noncurrent_days"])}
        for prefix in ("snapshots/", "tarius-snapshots/"):
            with self.subTest(lifecycle=prefix):
                self.assertIn(prefix, expiring)
                self.assertEqual(expiring[prefix]["status"], "Enabled")
                self.assertEqual(dig(expiring[prefix], ["expiration", 0, "days"]), 0)  # the current versions stay

    # ---- item 5: key, buckets, topic, queues, concurrency, capacity, accounts ----------------------------------------

    def test_key_policy(self):
        self.each_env(key_policy_violations, existing_key=False)
        prod = self.plan("prod", existing_key=False)

        def root_gets_everything(doc):
            for st in statements(doc):
                if st.get("Sid") == "AccountAdministration":
                    st["Action"] = "kms:*"
            return doc

        def no_source_arn(doc):
            for st in statements(doc):
                st.get("Condition", {}).pop("ArnLike", None)
            return doc

        def extra_service(doc):
            st = {"Sid": "Sqs", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*",
                  "Principal": {"Service": "sqs.amazonaws.com"},
                  "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sqs:*"},
                                "StringEquals": {"aws:SourceAccount": ACCOUNT}}}
            return dict(doc, Statement=statements(doc) + [st])

        for label, change in (("root with kms:*", root_gets_everything), ("no aws:SourceArn", no_source_arn),
                              ("a service that needs nothing", extra_service)):
            with self.subTest(control=label):
                self.assert_caught(key_policy_violations, replace_policy(prod, "aws_kms_key", change), label)

    def test_created_key_encrypts_everything(self):
        changes = self.plan("prod", existing_key=False)
        (key,) = afters(changes, "aws_kms_key")
        self.assertTrue(key["enable_key_rotation"])
        policy = sids(json.loads(key["policy"]))
        self.assertTrue({"AccountAdministration", "Administrators", "CloudWatchAlarms", "SNSDeliveryDeadLetters",
                         "CloudTrailLogs", "CloudWatchLogs", "KeyUsers", "DynamoDBViaService"} <= set(policy), policy)
        self.assertIn("kms:EncryptionContext:aws:logs:arn", json.dumps(policy["CloudWatchLogs"]["Condition"]))
        self.assertIn(":role/tarius-loader-prod-eu-west-1", json.dumps(policy["KeyUsers"]["Condition"]))
        self.assertEqual(policy["CloudTrailLogs"]["Condition"]["ArnLike"]["aws:SourceArn"],
                         "arn:aws:cloudtrail:eu-west-1:123456789012:trail/tarius-trail-prod-eu-west-1")
        # The key ARN is only known after apply: every encryption attribute must wait for it (unknown in the plan).
        for rtype, path in ENCRYPTED.items():
            for rc in of_type(changes, rtype):
                if rc["address"].startswith("module.audit_logs.aws_s3"):  # SSE_S3_BUCKETS
                    continue
                self.assertIs(dig(rc["change"]["after_unknown"], path), True, rc["address"])

    def test_encryption_with_existing_key_every_env(self):
        for env in ENVS:
            with self.subTest(env=env):
                changes = self.plan(env)
                for rtype, path in ENCRYPTED.items():
                    for rc in of_type(changes, rtype):
                        if rc["address"].startswith("module.audit_logs.aws_s3"):
                            # SSE_S3_BUCKETS: the log bucket
                            self.assertEqual(dig(rc["change"]["after"], ["rule", 0,
                                                 "apply_server_side_encryption_by_default", 0, "sse_algorithm"]),
                                             "AES256")
                            continue
                        self.assertEqual(dig(rc["change"]["after"], path), EXISTING_KEY, rc["address"])
                for rc in of_type(changes, "aws_s3_bucket_server_side_encryption_configuration"):
                    if rc["address"].startswith("module.audit_logs"):
                        continue
                    rule = rc["change"]["after"]["rule"][0]
                    self.assertEqual(rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"], "aws:kms")
                    self.assertTrue(rule["bucket_key_enabled"])
                self.assertFalse(of_type(changes, "aws_kms_key"), "an existing key was given, none may be created")

    def test_buckets_are_private_tls_only_and_abort_multipart_everywhere(self):
        self.each_env(bucket_violations)
        prod = self.plan("prod")

        def tls_removed(doc):
            return dict(doc, Statement=[st for st in statements(doc) if st.get("Sid") != "DenyInsecureTransport"])

        def abort_only_under_landing(after):
            for rule in after["rule"]:
                if rule.get("abort_incomplete_multipart_upload"):
                    rule["filter"][0]["prefix"] = "raw-data/"

        self.assert_caught(bucket_violations, replace_policy(prod, "aws_s3_bucket_policy", tls_removed), "no TLS")
        self.assert_caught(bucket_violations, edit_afters(prod, "aws_s3_bucket_lifecycle_configuration",
                                                          abort_only_under_landing), "abort under landing only")
        (pol,) = [rc for rc in of_type(prod, "aws_s3_bucket_policy") if rc["address"].startswith("module.bucket")]
        stmts = sids(doc_of(pol))
        self.assertEqual(stmts["DenyWrongKey"]["Condition"]["StringNotEqualsIfExists"],
                         {"s3:x-amz-server-side-encryption-aws-kms-key-id": EXISTING_KEY})
        self.assertEqual(stmts["DenyOtherEncryption"]["Condition"]["StringNotEqualsIfExists"],
                         {"s3:x-amz-server-side-encryption": "aws:kms"})

    def test_topic_refuses_plain_http_for_every_action(self):
        self.each_env(topic_violations)

        def publish_only(doc):
            for st in statements(doc):
                if st.get("Sid") == "DenyInsecureTransport":
                    st["Action"] = "sns:Publish"
            return doc

        self.assert_caught(topic_violations, replace_policy(self.plan("prod"), "aws_sns_topic_policy", publish_only),
                           "Publish-only TLS deny")

    def test_dead_letter_queues_name_their_sources(self):
        self.each_env(queue_violations)
        self.assert_caught(queue_violations, edit_afters(self.plan("test"), "aws_sqs_queue",
                                                         lambda a: a.update(redrive_allow_policy=None)),
                           "DLQ without redrive_allow_policy")

    def test_every_env_reserves_concurrency(self):
        self.each_env(concurrency_violations)
        self.assert_caught(concurrency_violations, edit_afters(self.plan("devl"), "aws_lambda_function",
                                                               lambda a: a.update(reserved_concurrent_executions=-1)),
                           "unreserved")

    def test_write_budget_follows_a_provisioned_tables_capacity(self):
        changes = self.plan("prod")
        table = [a for a in afters(changes, "aws_dynamodb_table") if "-data-" in a["name"]][0]
        self.assertEqual(table["billing_mode"], "PROVISIONED")
        self.assertEqual(int(fn_env(changes)["TARIUS_MAX_WCU"]), table["write_capacity"])
        self.assertEqual(fn_env(self.plan("test"))["TARIUS_MAX_WCU"], "500")  # on demand: as configured
        self.assertNotIn("TARIUS_MAX_WCU", fn_env(self.plan("devl")))
        # Negative control: a budget above the capacity is refused by Terraform's validation.
        out = self.plan_fails("prod", extra_tfvars='function = {\n  timeout = 900\n  max_wcu = 2000\n}\n')
        self.assertIn("function.max_wcu exceeds table.write_capacity", out)

    def test_allowed_account_ids_guard_the_account(self):
        """Every env names its account (test_terraform_static checks the tfvars); the provider then refuses moto's
        account, which is not in the list."""
        for env in ENVS:
            with self.subTest(env=env):
                out = self.plan_fails(env, allowed_account_ids='["111111111111"]')
                self.assertIn("123456789012", out)
                self.assertIn("not allowed", out.lower())

    # ---- item 4: detection ---------------------------------------------------------------------------------------

    def test_alarms_close_the_detection_gaps(self):
        self.each_env(alarm_violations)
        prod = self.plan("prod")
        self.assert_caught(alarm_violations, drop_resources(prod, lambda rc: rc["type"] == "aws_cloudwatch_metric_alarm"
                                                            and "destination-delivery" in rc["address"]),
                           "no DestinationDeliveryFailures alarm")
        self.assert_caught(alarm_violations, edit_afters(prod, "aws_cloudwatch_metric_alarm", lambda a: a.update(
            threshold=0.8 * 900 * 1000) if a["alarm_name"].endswith("function-duration") else None),
            "Duration alarm at 80 %")
        alarms = {a["alarm_name"]: a for a in afters(prod, "aws_cloudwatch_metric_alarm")}
        self.assertEqual(alarms["tarius-alarms-prod-eu-west-1-function-duration"]["threshold"], 900000 - 30000)

    def test_undeliverable_notifications_are_kept(self):
        self.each_env(redrive_violations)
        mutated = copy.deepcopy(self.plan("prod"))
        for rc in of_type(mutated, "aws_sns_topic_subscription"):
            rc["change"]["after"]["redrive_policy"] = None
            rc["change"]["after_unknown"]["redrive_policy"] = False
        self.assert_caught(redrive_violations, mutated, "HTTPS subscription without redrive")

    def test_tracing_access_logs_and_data_events_on_in_prod(self):
        for env in ENVS:
            with self.subTest(env=env):
                self.assertEqual(observability_violations(self.plan(env), on=(env == "prod")), [])
        self.assert_caught(lambda c: observability_violations(c, on=True),
                           edit_afters(self.plan("prod"), "aws_lambda_function",
                                       lambda a: a.update(tracing_config=[{"mode": "PassThrough"}])), "tracing off")
        self.assert_caught(lambda c: observability_violations(c, on=True),
                           drop_resources(self.plan("prod"), lambda rc: rc["type"] == "aws_cloudtrail"), "no trail")

    # ---- trigger modes and settings (unchanged behaviour) ----------------------------------------------------------

    def test_direct_trigger_retries_and_dlq(self):
        for env in ("devl", "prod"):
            with self.subTest(env=env):
                changes = self.plan(env)
                (cfg,) = afters(changes, "aws_lambda_function_event_invoke_config")
                self.assertEqual(cfg["maximum_retry_attempts"], 2)
                self.assertEqual(cfg["destination_config"][0]["on_failure"][0]["destination"],
                                 "arn:aws:sqs:eu-west-1:123456789012:tarius-dlq-%s-eu-west-1" % env)
                (perm,) = afters(changes, "aws_lambda_permission")
                self.assertEqual(perm["principal"], "s3.amazonaws.com")
                self.assertEqual(perm["source_arn"], "arn:aws:s3:::tarius-landing-%s-eu-west-1-123456789012" % env)
                self.assertFalse(of_type(changes, "aws_lambda_event_source_mapping"))
                (notif,) = afters(changes, "aws_s3_bucket_notification")
                lambdas = notif["lambda_function"]
                self.assertEqual(sorted(l["filter_suffix"] for l in lambdas), [".csv", ".csv.gz", ".csv.zst"])
                self.assertEqual({l["filter_prefix"] for l in lambdas}, {"raw-data/"})

    def test_queue_trigger_redrive(self):
        changes = self.plan("test")
        queues = {a["name"]: a for a in afters(changes, "aws_sqs_queue")}
        events = queues["tarius-events-test-eu-west-1"]
        dlq = queues["tarius-dlq-test-eu-west-1"]
        self.assertEqual(dlq["message_retention_seconds"], 14 * 86400)
        self.assertEqual(json.loads(events["redrive_policy"]),
                         {"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:123456789012:tarius-dlq-test-eu-west-1",
                          "maxReceiveCount": 5})
        (fn,) = afters(changes, "aws_lambda_function")
        self.assertGreaterEqual(events["visibility_timeout_seconds"], 6 * fn["timeout"])
        (esm,) = afters(changes, "aws_lambda_event_source_mapping")
        self.assertEqual(esm["function_response_types"], ["ReportBatchItemFailures"])
        self.assertFalse(of_type(changes, "aws_lambda_function_event_invoke_config"))
        self.assertFalse(of_type(changes, "aws_lambda_permission"))
        docs = [doc_of(rc) for rc in of_type(changes, "aws_sqs_queue_policy")]
        allow_s3 = [s for p in docs for s in statements(p) if s.get("Sid") == "AllowLandingBucket"]
        self.assertEqual(len(allow_s3), 1)
        self.assertEqual(allow_s3[0]["Condition"]["ArnEquals"]["aws:SourceArn"],
                         "arn:aws:s3:::tarius-landing-test-eu-west-1-123456789012")
        (notif,) = afters(changes, "aws_s3_bucket_notification")
        self.assertEqual(len(notif["queue"]), 3)

    def test_function_environment_and_settings(self):
        (fn,) = afters(self.plan("prod"), "aws_lambda_function")
        self.assertEqual((fn["runtime"], fn["handler"], fn["architectures"], fn["memory_size"]),
                         ("provided.al2023", "bootstrap", ["arm64"], 1769))
        self.assertEqual(fn["reserved_concurrent_executions"], 50)
        env = fn["environment"][0]["variables"]
        self.assertEqual(env["TARIUS_TABLE"], "tarius-data-prod-eu-west-1")
        self.assertEqual(env["TARIUS_LEDGER_TABLE"], "tarius-ledger-prod-eu-west-1")
        self.assertEqual((env["TARIUS_LANDING_PREFIX"], env["TARIUS_REJECTS_PREFIX"], env["TARIUS_REPORTS_PREFIX"]),
                         ("raw-data/", "invalid-records/", "load-reports/"))
        self.assertEqual(env["TARIUS_KMS_KEY_ARN"], EXISTING_KEY)
        self.assertEqual((env["TARIUS_MAX_WCU"], env["TARIUS_LOG_LEVEL"], env["TARIUS_DEADLINE_MARGIN_MS"]),
                         ("1000", "info", "60000"))
        self.assertNotIn("TARIUS_MAPPING", env)
        self.assertEqual(env["TARIUS_TOPIC_ARN"], "arn:aws:sns:eu-west-1:123456789012:tarius-summary-prod-eu-west-1")
        tags = fn["tags_all"]
        self.assertEqual((tags["Project"], tags["Environment"], tags["ManagedBy"]), ("tarius", "prod", "terraform"))

    def test_deletion_protection_on_in_prod_only(self):
        for env, on in (("devl", False), ("test", False), ("prod", True)):
            with self.subTest(env=env):
                tables = afters(self.plan(env), "aws_dynamodb_table")
                self.assertEqual(len(tables), 2)
                for after in tables:
                    self.assertIs(after["deletion_protection_enabled"], on, after["name"])
                    self.assertTrue(after["point_in_time_recovery"][0]["enabled"], after["name"])
        ledger = [a for a in afters(self.plan("prod"), "aws_dynamodb_table") if "ledger" in a["name"]][0]
        self.assertEqual(ledger["ttl"][0], {"enabled": True, "attribute_name": "expires_at"})
        self.assertEqual(ledger["hash_key"], "pk")


# Three feeds: a put feed creating its table (key from the mapping), a delete feed creating a table with a sort key,
# and a put feed loading an existing table named by name.
FEEDS_TFVARS = """
feeds = {
  products = {
    match = { prefix = "raw-data/products/" }
    mapping = {
      partition_key = "ID:S"
      columns       = { "Price (USD)" = { attribute = "price_usd", type = "number", currency = true } }
    }
  }
  stock = {
    match   = { prefix = "raw-data/stock/", suffixes = [".csv", ".csv.gz"] }
    table   = { hash_key = { name = "SKU" }, range_key = { name = "Warehouse" } }
    mapping = { partition_key = "SKU:S", sort_key = "Warehouse:S" }
    mode    = "delete"
    op   = { column = "op", delete = ["D"] }
    max_wcu = 100
  }
  orders = {
    match          = { prefix = "raw-data/orders/", suffixes = [".csv"] }
    table          = { create = false, name = "tarius-orders-shared" }
    mode = "put"
    rejects_prefix = "invalid-records/orders/"
    concurrency    = 4
  }
}
"""


def expected_feeds_document(env):
    """The document FEEDS_TFVARS renders (written out by hand from the loader's document shape)."""
    bucket = "tarius-landing-%s-eu-west-1-123456789012" % env
    return {"feeds": {
        "orders": {"match": {"bucket": bucket, "prefix": "raw-data/orders/", "suffixes": [".csv"]},
                   "table": "tarius-orders-shared", "mode": "put", "rejects_prefix": "invalid-records/orders/",
                   "concurrency": 4},
        "products": {"match": {"bucket": bucket, "prefix": "raw-data/products/",
                               "suffixes": [".csv", ".csv.gz", ".csv.zst"]},
                     "table": "tarius-products-%s-eu-west-1" % env, "mode": "put",
                     "mapping": {"partition_key": "ID:S", "columns": {"Price (USD)": {
                         "attribute": "price_usd", "type": "number", "currency": True}}}},
        "stock": {"match": {"bucket": bucket, "prefix": "raw-data/stock/", "suffixes": [".csv", ".csv.gz"]},
                  "table": "tarius-stock-%s-eu-west-1" % env, "mode": "delete",
                  "op": {"column": "op", "delete": ["D"]}, "max_wcu": 100,
                  "mapping": {"partition_key": "SKU:S", "sort_key": "Warehouse:S"}},
    }}


def feed_table_arns(env):
    return ["arn:aws:dynamodb:eu-west-1:123456789012:table/" + t for t in (
        "tarius-orders-shared", "tarius-products-%s-eu-west-1" % env, "tarius-stock-%s-eu-west-1" % env)]


def feed_table_grants(doc):
    """(sorted actions) -> sorted resources of every Allow statement with a DynamoDB action; a wildcard or an index
    in a table ARN fails the test that reads it (it cannot equal an exact list)."""
    out = {}
    for st in statements(doc):
        actions = tuple(sorted(as_list(st["Action"])))
        if st.get("Effect", "Allow") == "Allow" and any(a.startswith("dynamodb:") for a in actions):
            out.setdefault(actions, []).extend(as_list(st["Resource"]))
    return {k: sorted(v) for k, v in out.items()}


# One feed of each mode, with each mode's options; two snapshot feeds, one keeping its digests where the loader does
# by default, one under a prefix of its own.
MODES_TFVARS = """
feeds = {
  products = {
    match   = { prefix = "raw-data/products/" }
    mapping = { partition_key = "ID:S" }
  }
  prices = {
    match   = { prefix = "raw-data/prices/" }
    mode    = "merge"
    mapping = { partition_key = "ID:S", columns = { "Note" = { empty = "remove" } } }
  }
  events = {
    match      = { prefix = "raw-data/events/" }
    mode       = "insert"
    row_marker = "loaded_by"
  }
  stock = {
    match = { prefix = "raw-data/stock/" }
    mode  = "delete"
    op    = { column = "op", delete = ["D"] }
  }
  catalog = {
    match      = { prefix = "raw-data/catalog/" }
    mode       = "newer"
    version    = { column = "updated_at", type = "timestamp" }
    row_marker = false
  }
  inventory = {
    match    = { prefix = "raw-data/inventory/" }
    mode     = "snapshot"
    snapshot = { max_delete_fraction = 0.05 }
  }
  assortment = {
    match    = { prefix = "raw-data/assortment/" }
    mode     = "snapshot"
    snapshot = { digests_prefix = "tarius-snapshots/" }
  }
}
"""


def expected_modes_document(env):
    """The document MODES_TFVARS renders (written out by hand from the loader's document shape)."""
    bucket = "tarius-landing-%s-eu-west-1-123456789012" % env

    def feed(name, **fields):
        return dict({"match": {"bucket": bucket, "prefix": "raw-data/%s/" % name,
                               "suffixes": [".csv", ".csv.gz", ".csv.zst"]},
                     "table": "tarius-%s-%s-eu-west-1" % (name, env)}, **fields)

    return {"feeds": {
        "products": feed("products", mode="put", mapping={"partition_key": "ID:S"}),
        "prices": feed("prices", mode="merge", mapping={"partition_key": "ID:S", "columns": {"Note": {
            "empty": "remove"}}}),
        "events": feed("events", mode="insert", row_marker="loaded_by"),
        "stock": feed("stock", mode="delete", op={"column": "op", "delete": ["D"]}),
        "catalog": feed("catalog", mode="newer", version={"column": "updated_at", "type": "timestamp"},
                        row_marker=False),
        "inventory": feed("inventory", mode="snapshot", snapshot={"max_delete_fraction": 0.05,
                                                                  "digests_prefix": "snapshots/"}),
        "assortment": feed("assortment", mode="snapshot", snapshot={"digests_prefix": "tarius-snapshots/"}),
    }}


# A feed breaking each rule of the modes and their options (the feeds named *_put, i_put aside, break it with the
# options they take).
REFUSED_FEEDS_TFVARS = """
feeds = {
  a_unknown = {
    match = { prefix = "raw-data/a/" }
    mode  = "upsert"
  }
  b_newer = {
    match = { prefix = "raw-data/b/" }
    mode  = "newer"
  }
  c_put = {
    match      = { prefix = "raw-data/c/" }
    version    = { column = "updated_at" }
    row_marker = "loaded_by"
    snapshot   = {}
  }
  d_insert = {
    match      = { prefix = "raw-data/d/" }
    mode       = "insert"
    row_marker = ""
  }
  e_newer = {
    match   = { prefix = "raw-data/e/" }
    mode    = "newer"
    version = { column = "updated_at", type = "date" }
  }
  f_newer = {
    match   = { prefix = "raw-data/f/" }
    mode    = "newer"
    version = { column = "v", type = "timestamp" }
    mapping = { columns = { v = { type = "number" }, w = { type = "number" } } }
  }
  g_put = {
    match   = { prefix = "raw-data/g/" }
    mapping = { defaults = { empty = "remove" }, columns = { note = { empty = "drop" } } }
  }
  h_snap = {
    match    = { prefix = "raw-data/h/" }
    mode     = "snapshot"
    table    = { create = false, name = "tarius-shared" }
    snapshot = { max_delete_fraction = 1.5 }
  }
  i_put = {
    match = { prefix = "raw-data/i/" }
    table = { create = false, name = "tarius-shared" }
  }
  j_snap = {
    match    = { prefix = "raw-data/j/" }
    mode     = "snapshot"
    snapshot = { max_delete_fraction = 0, digests_prefix = "raw-data/" }
  }
  k_snap = {
    match    = { prefix = "raw-data/k/" }
    mode     = "snapshot"
    snapshot = { digests_prefix = "invalid-records/snapshots/" }
  }
  l_snap = {
    match    = { prefix = "raw-data/l/" }
    mode     = "snapshot"
    snapshot = { digests_prefix = "snapshots/h_snap/" }
  }
  m_delete = {
    match = { prefix = "raw-data/m/" }
    mode  = "delete"
  }
  n_put = {
    match = { prefix = "raw-data/m/more/" }
  }
  o_put = {
    match = { prefix = "raw-data/o/" }
    table = { name = "orders" }
  }
  p_merge = {
    match = { prefix = "raw-data/p/" }
    mode  = "merge"
    table = { name = "orders" }
  }
}
"""
REFUSED_FEEDS_MESSAGES = [
    'feeds.a_unknown.mode: unknown mode "upsert" (expected put, merge, insert, delete, newer or snapshot)',
    "feeds.b_newer.version: missing: a newer feed names its version column",
    "feeds.c_put.version: only newer feeds take a version column (mode is put)",
    "feeds.c_put.row_marker: only insert and newer feeds mark their rows (mode is put)",
    "feeds.c_put.snapshot: only snapshot feeds take snapshot options (mode is put)",
    "feeds.d_insert.row_marker: expected an attribute name, or false",
    'feeds.e_newer.version.type: unknown version type "date" (expected number or timestamp)',
    "feeds.f_newer.mapping.columns.v.type: column v has type number, but it is the feed's version of type timestamp",
    "feeds.g_put.mapping.defaults.empty: remove is for merge feeds only",
    'feeds.g_put.mapping.columns.note.empty: unknown empty policy "drop"',
    "feeds.h_snap.snapshot.max_delete_fraction: a share of the items: at most 1",
    "feeds.i_put.table: feed h_snap writes table tarius-shared too: a snapshot feed must own its table",
    'feeds.j_snap.snapshot.max_delete_fraction: expected a number above 0, not "0"',
    # The first feed reading there, as the loader names it.
    'feeds.j_snap.snapshot.digests_prefix: "raw-data/" lies where feed a_unknown reads (match prefix "raw-data/a/"): '
    "it would load its own outputs",
    'feeds.k_snap.snapshot.digests_prefix: "invalid-records/snapshots/" lies under bucket.rejects_prefix',
    "feeds.l_snap.snapshot.digests_prefix: its digests (snapshots/h_snap/l_snap/) lie among feed h_snap's "
    "(snapshots/h_snap/)",
    "feeds.m_delete.op: missing",
    "feeds.n_put.match: overlaps feed m_delete",
    "feeds.p_merge.table: feed o_put creates table tarius-orders-devl-eu-west-1 too: one feed creates a table, the "
    "others load it with create = false and its name",
]


# What the apply role must be allowed to do for each planned resource type: (action, ARN of the planned resource,
# extra request context), from the resource's planned `after` and the environment's names (`bucket` and `queue` are
# those of the resource's module: sub-resources know their bucket or queue only after apply).
CREATE_CALLS = {
    "aws_s3_bucket": lambda a, n: [("s3:CreateBucket", "arn:aws:s3:::" + a["bucket"], {})],
    "aws_s3_bucket_policy": lambda a, n: [("s3:PutBucketPolicy", n["bucket"], {})],
    "aws_s3_bucket_public_access_block": lambda a, n: [("s3:PutBucketPublicAccessBlock", n["bucket"], {})],
    "aws_s3_bucket_versioning": lambda a, n: [("s3:PutBucketVersioning", n["bucket"], {})],
    "aws_s3_bucket_lifecycle_configuration": lambda a, n: [("s3:PutLifecycleConfiguration", n["bucket"], {})],
    "aws_s3_bucket_notification": lambda a, n: [("s3:PutBucketNotification", n["bucket"], {})],
    "aws_s3_bucket_logging": lambda a, n: [("s3:PutBucketLogging", n["bucket"], {})],
    "aws_s3_bucket_ownership_controls": lambda a, n: [("s3:PutBucketOwnershipControls", n["bucket"], {})],
    "aws_s3_bucket_server_side_encryption_configuration": lambda a, n: [("s3:PutEncryptionConfiguration",
                                                                         n["bucket"], {})],
    "aws_dynamodb_table": lambda a, n: [("dynamodb:CreateTable", n["table_of"](a["name"]), {}),
                                        ("dynamodb:UpdateContinuousBackups", n["table_of"](a["name"]), {})],
    "aws_sqs_queue": lambda a, n: [("sqs:CreateQueue", n["queue_of"](a["name"]), {})],
    "aws_sqs_queue_policy": lambda a, n: [("sqs:SetQueueAttributes", n["queue"], {})],
    "aws_sns_topic": lambda a, n: [("sns:CreateTopic", n["topic"], {})],
    "aws_sns_topic_policy": lambda a, n: [("sns:SetTopicAttributes", n["topic"], {})],
    "aws_sns_topic_subscription": lambda a, n: [("sns:Subscribe", n["topic"], {})],
    "aws_lambda_function": lambda a, n: [("lambda:CreateFunction", n["function"], {}),
                                         ("iam:PassRole", n["role"], {"iam:PassedToService": "lambda.amazonaws.com"})],
    "aws_lambda_permission": lambda a, n: [("lambda:AddPermission", n["function"], {})],
    "aws_lambda_function_event_invoke_config": lambda a, n: [("lambda:PutFunctionEventInvokeConfig", n["function"],
                                                              {})],
    "aws_lambda_event_source_mapping": lambda a, n: [("lambda:CreateEventSourceMapping", "*",
                                                      {"lambda:FunctionArn": n["function"]})],
    "aws_iam_role": lambda a, n: [("iam:CreateRole", n["role"], {"iam:PermissionsBoundary": n["boundary"]})],
    "aws_iam_role_policy": lambda a, n: [("iam:PutRolePolicy", n["role"], {"iam:PermissionsBoundary": n["boundary"]})],
    "aws_cloudwatch_log_group": lambda a, n: [("logs:CreateLogGroup", n["log_group"], {}),
                                              ("logs:AssociateKmsKey", n["log_group"], {})],
    "aws_cloudwatch_metric_alarm": lambda a, n: [("cloudwatch:PutMetricAlarm", n["alarm_of"](a["alarm_name"]),
                                                  {"cloudwatch:AlarmActions": a.get("alarm_actions") or [n["topic"]]})],
    "aws_cloudwatch_dashboard": lambda a, n: [("cloudwatch:PutDashboard", n["dashboard"], {})],
    "aws_kms_key": lambda a, n: [("kms:CreateKey", "*", {"aws:RequestTag/Project": a["tags_all"]["Project"],
                                                          "aws:TagKeys": sorted(a["tags_all"])}),
                                 ("kms:TagResource", "*", {"aws:RequestTag/Project": a["tags_all"]["Project"],
                                                           "aws:TagKeys": sorted(a["tags_all"])})],
    "aws_kms_alias": lambda a, n: [("kms:CreateAlias", n["alias"], {})],
    "aws_cloudtrail": lambda a, n: [("cloudtrail:CreateTrail", n["trail"], {}),
                                    ("cloudtrail:PutEventSelectors", n["trail"], {})],
}


def apply_role_gaps(changes, env, change=None):
    """The create calls of the planned resources that infra/iam/deploy-role-policy.json (rendered for moto's account
    and eu-west-1) does not allow; `change` may rewrite the document first."""
    doc = deploy_roles.render("deploy-role-policy", ACCOUNT_ID=ACCOUNT, ENV=env)
    if change:
        doc = change(doc)
    base = deploy_roles.names(env, ACCOUNT)
    n = dict(base,
             table_of=lambda name: "arn:aws:dynamodb:eu-west-1:%s:table/%s" % (ACCOUNT, name),
             queue_of=lambda name: "arn:aws:sqs:eu-west-1:%s:%s" % (ACCOUNT, name),
             alarm_of=lambda name: "arn:aws:cloudwatch:eu-west-1:%s:alarm:%s" % (ACCOUNT, name),
             log_group="arn:aws:logs:eu-west-1:%s:log-group:/aws/lambda/tarius-loader-%s-eu-west-1" % (ACCOUNT, env),
             dashboard="arn:aws:cloudwatch::%s:dashboard/tarius-alarms-%s-eu-west-1" % (ACCOUNT, env),
             alias="arn:aws:kms:eu-west-1:%s:alias/tarius-key-%s-eu-west-1" % (ACCOUNT, env),
             trail="arn:aws:cloudtrail:eu-west-1:%s:trail/tarius-trail-%s-eu-west-1" % (ACCOUNT, env))
    queue_names = {"module.dlq.": "dlq", "module.delivery_dlq.": "delivery", "module.loader.": "events"}
    gaps = []
    for rc in changes.values():
        calls = CREATE_CALLS.get(rc["type"])
        if calls is None:
            gaps.append("%s: no create call known for %s (add it to CREATE_CALLS)" % (rc["address"], rc["type"]))
            continue
        n["bucket"] = base["logs"] if rc["address"].startswith("module.audit_logs.") else base["landing"]
        n["queue"] = next((n["queue_of"]("tarius-%s-%s-eu-west-1" % (q, env)) for prefix, q in queue_names.items()
                           if rc["address"].startswith(prefix)), None)
        for action, resource, context in calls(rc["change"]["after"], n):
            if not tf_support.allows([doc], action, resource, context):
                gaps.append("%s: %s on %s %s" % (rc["address"], action, resource, context))
    return gaps


if __name__ == "__main__":
    unittest.main()
