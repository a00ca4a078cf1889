# ctest-label: unit
"""The deploy (apply) role, the plan role, their trust policies, the permissions boundary of the roles they create
and the state bucket's policy (infra/iam/*.json, issue 12 items 2 and 3), statement by statement and through the
requests that would escalate.

The documents are templates: docs/deploy.md renders them with envsubst for one account, region, environment and
repository. Each is rendered here the same way and evaluated with tf_support's IAM evaluation (explicit Deny first,
then Allow; wildcards; condition operators). Every check that a control holds is paired with the request that the
control is there to stop.
"""

import json
import os
import re
import unittest

import tf_support

PLACEHOLDERS = {"ACCOUNT_ID": "111111111111", "AWS_REGION": "eu-west-1", "ENV": "prod", "GITHUB_REPO": "acme/tarius"}
DOCUMENTS = ["deploy-role-policy", "deploy-role-force-destroy", "deploy-role-trust", "plan-role-policy",
             "plan-role-trust", "workload-boundary", "state-bucket-policy"]
# Statements of the apply role and what each is for; a statement not listed here fails the review test.
DEPLOY_STATEMENTS = {
    "StateList", "State", "StateLock", "Buckets", "Tables", "Queues", "Topic", "Subs", "Function", "CreateMapping",
    "Mappings", "LogGroup", "ListLogGroups", "Alarms", "PutAlarms", "Dashboard", "Trail", "ListTrails",
    "RoleBounded", "Role", "PassRole", "CreateKey", "TagNewKey", "Alias", "ListAliases", "KeyViaServices",
    "KeyGrants", "DenyDataRead", "FeedsDocument", "DenyNoBoundary", "DenyBoundaryDelete", "DenyBoundaryEdit", "DenyAssumeRole",
}
# Allow statements whose resource may be "*", and why (the action has no resource-level permission, or the
# resource does not exist yet and a condition limits it).
STAR_RESOURCE = {
    ("deploy-role-policy", "CreateMapping"): "CreateEventSourceMapping has no resource; limited by lambda:FunctionArn",
    ("deploy-role-policy", "CreateKey"): "a new key has no ARN; limited by its tags (aws:RequestTag, aws:TagKeys)",
    ("deploy-role-policy", "TagNewKey"): "tagging on CreateKey must not be limited to keys (KMS Developer Guide)",
    ("deploy-role-policy", "ListAliases"): "ListAliases has no resource-level permission",
    ("deploy-role-policy", "ListTrails"): "DescribeTrails has no resource-level permission",
    ("plan-role-policy", "ListAliases"): "ListAliases has no resource-level permission",
    ("plan-role-policy", "ListTrails"): "DescribeTrails has no resource-level permission",
    ("workload-boundary", "Tracing"): "X-Ray has no resource-level permission",
}
READ_PREFIXES = ("Get", "List", "Describe")


def render(name, **overrides):
    """infra/iam/<name>.json with the placeholders filled (as docs/deploy.md does with envsubst)."""
    values = dict(PLACEHOLDERS, **overrides)
    with open(os.path.join(tf_support.IAM_DIR, name + ".json")) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("${%s}" % key, value)
    assert "${" not in text, name + ": unknown placeholder left"
    return json.loads(text)


def names(env="prod", account="111111111111", region="eu-west-1"):
    """The resource ARNs of one environment, as infra/terraform names them."""
    return {
        "landing": "arn:aws:s3:::tarius-landing-%s-%s-%s" % (env, region, account),
        "logs": "arn:aws:s3:::tarius-logs-%s-%s-%s" % (env, region, account),
        "state": "arn:aws:s3:::tarius-tfstate-%s-%s" % (account, region),
        "state_key": "arn:aws:s3:::tarius-tfstate-%s-%s/tarius/%s/terraform.tfstate" % (account, region, env),
        "table": "arn:aws:dynamodb:%s:%s:table/tarius-data-%s-%s" % (region, account, env, region),
        "queue": "arn:aws:sqs:%s:%s:tarius-events-%s-%s" % (region, account, env, region),
        "topic": "arn:aws:sns:%s:%s:tarius-summary-%s-%s" % (region, account, env, region),
        "function": "arn:aws:lambda:%s:%s:function:tarius-loader-%s-%s" % (region, account, env, region),
        "role": "arn:aws:iam::%s:role/tarius-loader-%s-%s" % (account, env, region),
        "boundary": "arn:aws:iam::%s:policy/tarius-workload-boundary" % account,
        "key": "arn:aws:kms:%s:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % (region, account),
        "alarm": "arn:aws:cloudwatch:%s:%s:alarm:tarius-alarms-%s-%s-function-errors" % (region, account, env,
                                                                                          region),
        "esm": "arn:aws:lambda:%s:%s:event-source-mapping:0f2c3e4a-1111-2222-3333-444455556666" % (region, account),
    }


def via(service, region="eu-west-1"):
    return {"kms:ViaService": "%s.%s.amazonaws.com" % (service, region)}


def minified_size(doc):
    """IAM's policy size: characters without white space."""
    return len(json.dumps(doc, separators=(",", ":")))


class deploy_role_documents(unittest.TestCase):

    def setUp(self):
        self.deploy = render("deploy-role-policy")
        self.plan = render("plan-role-policy")
        self.boundary = render("workload-boundary")
        self.n = names()

    def decide(self, policies, action, resource, context=None):
        return tf_support.evaluate(policies, action, resource, context or {})

    # ---- statement by statement ------------------------------------------------------------------------------------

    def test_every_document_parses_and_is_evaluable(self):
        for name in DOCUMENTS:
            with self.subTest(document=name):
                doc = render(name)
                self.assertEqual(doc["Version"], "2012-10-17")
                self.assertEqual(tf_support.unknown_operators(doc), set())
                sids = [st.get("Sid") for st in doc["Statement"]]
                self.assertEqual(len(sids), len(set(sids)), "duplicate Sid")
                self.assertTrue(all(sids), "a statement without Sid")

    def test_the_apply_role_has_exactly_the_reviewed_statements(self):
        self.assertEqual({st["Sid"] for st in self.deploy["Statement"]}, DEPLOY_STATEMENTS)

    def test_no_wildcard_action_and_no_unexplained_star_resource(self):
        for name in ("deploy-role-policy", "deploy-role-force-destroy", "plan-role-policy", "workload-boundary"):
            for st in render(name)["Statement"]:
                where = "%s %s" % (name, st["Sid"])
                with self.subTest(statement=where):
                    self.assertNotIn("NotAction", st)
                    self.assertNotIn("NotResource", st)
                    if st["Effect"] != "Allow":
                        continue
                    for action in tf_support.as_list(st["Action"]):
                        self.assertNotIn("*", action, where)
                    if "*" in tf_support.as_list(st["Resource"]):
                        self.assertIn((name, st["Sid"]), STAR_RESOURCE, where)

    def test_role_statements_require_the_boundary(self):
        st = next(s for s in self.deploy["Statement"] if s["Sid"] == "RoleBounded")
        self.assertEqual(st["Condition"], {"StringEquals": {"iam:PermissionsBoundary": self.n["boundary"]}})
        self.assertEqual(sorted(st["Action"]), ["iam:CreateRole", "iam:DeleteRolePolicy",
                                                "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"])
        unbounded = [a for s in self.deploy["Statement"] if s["Effect"] == "Allow" and s["Sid"] != "RoleBounded"
                     for a in tf_support.as_list(s["Action"])
                     if a in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary")]
        self.assertEqual(unbounded, [])

    def test_pass_role_only_to_lambda(self):
        st = next(s for s in self.deploy["Statement"] if s["Sid"] == "PassRole")
        self.assertEqual(st["Condition"], {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})
        self.assertEqual(st["Resource"], self.n["role"])

    def test_key_statements_never_rely_on_key_tags(self):
        """Tags are not a boundary: a principal that may tag keys could move a foreign key under a tag condition. No
        statement grants anything on existing keys by aws:ResourceTag."""
        for name in ("deploy-role-policy", "plan-role-policy"):
            for st in render(name)["Statement"]:
                self.assertNotIn("aws:ResourceTag", json.dumps(st.get("Condition", {})), "%s %s" % (name, st["Sid"]))

    def test_key_use_only_through_services(self):
        for name, sid in (("deploy-role-policy", "KeyViaServices"), ("deploy-role-policy", "KeyGrants"),
                          ("plan-role-policy", "EnvViaLambda")):
            st = next(s for s in render(name)["Statement"] if s["Sid"] == sid)
            self.assertIn("kms:ViaService", st["Condition"]["StringEquals"], sid)
        for name in ("deploy-role-policy", "plan-role-policy"):
            for st in render(name)["Statement"]:
                crypto = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"}
                if st["Effect"] == "Allow" and crypto & set(tf_support.as_list(st["Action"])):
                    self.assertIn("kms:ViaService", json.dumps(st["Condition"]), "%s %s" % (name, st["Sid"]))

    def test_mapping_statements_limited_to_the_function(self):
        for sid in ("CreateMapping", "Mappings"):
            st = next(s for s in self.deploy["Statement"] if s["Sid"] == sid)
            self.assertEqual(st["Condition"], {"ArnLike": {"lambda:FunctionArn": self.n["function"]}}, sid)

    def test_s3_actions_are_listed_and_objects_are_not_read(self):
        for name in ("deploy-role-policy", "plan-role-policy"):
            doc = render(name)
            deny = next(s for s in doc["Statement"] if s["Sid"] == "DenyDataRead")
            self.assertEqual(deny["Effect"], "Deny")
            for st in doc["Statement"]:
                for action in tf_support.as_list(st["Action"]):
                    if action.startswith("s3:"):
                        self.assertNotIn("*", action, "%s %s" % (name, st["Sid"]))

    # ---- the escalations of the issue, request by request ------------------------------------------------------------

    def test_the_apply_role_cannot_make_itself_an_administrator(self):
        n, d = self.n, [self.deploy]
        admin = "arn:aws:iam::aws:policy/AdministratorAccess"
        bounded = {"iam:PermissionsBoundary": n["boundary"]}
        cases = [
            # (action, resource, context, expected)
            ("iam:CreateRole", n["role"], bounded, "allow"),
            ("iam:CreateRole", n["role"], {}, "deny"),  # no boundary
            ("iam:CreateRole", n["role"], {"iam:PermissionsBoundary": admin}, "deny"),
            ("iam:CreateRole", "arn:aws:iam::111111111111:role/tarius-escalate", bounded, "implicit"),
            ("iam:PutRolePolicy", n["role"], bounded, "allow"),
            ("iam:PutRolePolicy", n["role"], {}, "deny"),
            ("iam:AttachRolePolicy", n["role"], dict(bounded, **{"iam:PolicyARN": admin}), "implicit"),
            ("iam:AttachRolePolicy", n["role"], {"iam:PolicyARN": admin}, "deny"),
            ("iam:DeleteRolePermissionsBoundary", n["role"], bounded, "deny"),
            ("iam:PutRolePermissionsBoundary", n["role"], {"iam:PermissionsBoundary": admin}, "deny"),
            ("iam:CreatePolicyVersion", n["boundary"], {}, "deny"),
            ("iam:SetDefaultPolicyVersion", n["boundary"], {}, "deny"),
            ("iam:PassRole", n["role"], {"iam:PassedToService": "lambda.amazonaws.com"}, "allow"),
            ("iam:PassRole", n["role"], {"iam:PassedToService": "ec2.amazonaws.com"}, "implicit"),
            ("iam:PassRole", "arn:aws:iam::111111111111:role/tarius-deploy-prod",
             {"iam:PassedToService": "lambda.amazonaws.com"}, "implicit"),
            ("sts:AssumeRole", n["role"], {}, "deny"),
            ("iam:UpdateAssumeRolePolicy", "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole", {},
             "implicit"),
        ]
        for action, resource, context, expected in cases:
            with self.subTest(action=action, resource=resource, context=context):
                self.assertEqual(self.decide(d, action, resource, context), expected)

    def test_the_apply_role_cannot_take_over_keys(self):
        n, d = self.n, [self.deploy]
        foreign = "arn:aws:kms:eu-west-1:111111111111:key/99999999-aaaa-bbbb-cccc-dddddddddddd"
        project_tags = {"aws:RequestTag/Project": "tarius", "aws:TagKeys": ["Project", "Environment", "ManagedBy"]}
        cases = [
            ("kms:CreateKey", "*", project_tags, "allow"),
            ("kms:CreateKey", "*", {}, "implicit"),
            ("kms:CreateKey", "*", {"aws:RequestTag/Project": "tarius", "aws:TagKeys": ["Project", "Owner"]},
             "implicit"),
            ("kms:TagResource", foreign, {"aws:RequestTag/Project": "other", "aws:TagKeys": ["Project"]}, "implicit"),
            # Tagging a foreign key into the project grants nothing: no statement reads key tags.
            ("kms:PutKeyPolicy", foreign, {"aws:ResourceTag/Project": "tarius"}, "implicit"),
            ("kms:ScheduleKeyDeletion", foreign, {"aws:ResourceTag/Project": "tarius"}, "implicit"),
            ("kms:Decrypt", foreign, {"aws:ResourceTag/Project": "tarius"}, "implicit"),
            ("kms:Decrypt", n["key"], {}, "implicit"),
            ("kms:Decrypt", n["key"], via("ec2"), "implicit"),
            ("kms:Decrypt", n["key"], via("lambda"), "allow"),
            ("kms:CreateGrant", n["key"], dict(via("dynamodb"), **{"kms:GrantIsForAWSResource": "true"}), "allow"),
            ("kms:CreateGrant", n["key"], via("dynamodb"), "implicit"),
            ("kms:CreateAlias", "arn:aws:kms:eu-west-1:111111111111:alias/tarius-key-prod-eu-west-1", {}, "allow"),
            ("kms:CreateAlias", "arn:aws:kms:eu-west-1:111111111111:alias/payments", {}, "implicit"),
        ]
        for action, resource, context, expected in cases:
            with self.subTest(action=action, resource=resource, context=context):
                self.assertEqual(self.decide(d, action, resource, context), expected)

    def test_ci_reads_no_landing_file(self):
        n = self.n
        obj = n["landing"] + "/raw-data/products.csv"
        for name, docs in (("apply", [self.deploy]), ("apply+force-destroy", [self.deploy, render(
                "deploy-role-force-destroy")]), ("plan", [self.plan])):
            for action, resource in (("s3:GetObject", obj), ("s3:GetObjectVersion", obj),
                                     ("s3:GetObject", n["logs"] + "/s3-access/x"), ("s3:PutObject", obj)):
                with self.subTest(role=name, action=action, resource=resource):
                    self.assertNotEqual(self.decide(docs, action, resource), "allow")
            for action, resource in (("dynamodb:Scan", n["table"]), ("dynamodb:GetItem", n["table"]),
                                     ("sqs:ReceiveMessage", n["queue"]), ("lambda:InvokeFunction", n["function"])):
                with self.subTest(role=name, action=action):
                    self.assertEqual(self.decide(docs, action, resource), "implicit")
        # The state is readable (and the apply role's also writable); only the lock by the plan role.
        self.assertEqual(self.decide([self.deploy], "s3:PutObject", n["state_key"]), "allow")
        self.assertEqual(self.decide([self.plan], "s3:GetObject", n["state_key"]), "allow")
        self.assertEqual(self.decide([self.plan], "s3:PutObject", n["state_key"]), "implicit")
        self.assertEqual(self.decide([self.plan], "s3:PutObject", n["state_key"] + ".tflock"), "allow")

    def test_the_apply_role_writes_and_reads_the_feeds_document_only(self):
        # infra/terraform/feeds.tf keeps a large feeds document as tarius-config/feeds-<hash>.json, tagged
        # tarius-config=feeds: the apply role creates, refreshes and deletes that object and reads nothing else.
        n, d = self.n, [self.deploy]
        doc = n["landing"] + "/tarius-config/feeds-0123456789abcdef.json"
        tagged = {"s3:ExistingObjectTag/tarius-config": "feeds"}
        for action in ("s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"):
            self.assertEqual(self.decide(d, action, doc), "allow", action)
        for action in ("s3:GetObject", "s3:GetObjectTagging"):
            self.assertEqual(self.decide(d, action, doc, tagged), "allow", action)
        # Untagged under tarius-config/ (something a producer put there), or tagged elsewhere: never read.
        self.assertEqual(self.decide(d, "s3:GetObject", doc), "deny")
        self.assertNotEqual(self.decide(d, "s3:GetObject", n["landing"] + "/raw-data/products.csv", tagged), "allow")
        self.assertNotEqual(self.decide(d, "s3:PutObject", n["landing"] + "/raw-data/products.csv"), "allow")
        self.assertNotEqual(self.decide(d, "s3:GetObjectVersion", doc, tagged), "allow")

    def test_mappings_and_alarms_are_limited(self):
        n, d = self.n, [self.deploy]
        other = "arn:aws:lambda:eu-west-1:111111111111:function:payments"
        self.assertEqual(self.decide(d, "lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": n["function"]}),
                         "allow")
        self.assertEqual(self.decide(d, "lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": other}),
                         "implicit")
        self.assertEqual(self.decide(d, "lambda:DeleteEventSourceMapping", n["esm"], {"lambda:FunctionArn": other}),
                         "implicit")
        self.assertEqual(self.decide(d, "cloudwatch:PutMetricAlarm", n["alarm"], {"cloudwatch:AlarmActions": [
            n["topic"]]}), "allow")
        self.assertEqual(self.decide(d, "cloudwatch:PutMetricAlarm", n["alarm"], {"cloudwatch:AlarmActions": [
            "arn:aws:automate:eu-west-1:ec2:terminate"]}), "implicit")

    def test_one_environment_cannot_touch_another(self):
        devl = render("deploy-role-policy", ENV="devl")
        prod = names("prod")
        for action, resource in (("dynamodb:DeleteTable", prod["table"]), ("s3:DeleteBucket", prod["landing"]),
                                 ("lambda:UpdateFunctionCode", prod["function"]), ("sqs:DeleteQueue", prod["queue"]),
                                 ("s3:PutObject", prod["state_key"]), ("iam:PutRolePolicy", prod["role"])):
            with self.subTest(action=action):
                self.assertNotEqual(tf_support.evaluate([devl], action, resource,
                                                        {"iam:PermissionsBoundary": prod["boundary"]}), "allow")

    def test_the_plan_role_writes_nothing_but_the_lock(self):
        """Every request the apply role may make: the plan role allows it only when it is a read (or the lock)."""
        lock = self.n["state_key"] + ".tflock"
        for st in self.deploy["Statement"]:
            if st["Effect"] != "Allow":
                continue
            context = satisfying_context(st)
            for action in tf_support.as_list(st["Action"]):
                for resource in tf_support.as_list(st["Resource"]):
                    resource = resource.replace("*", "x")
                    verb = action.split(":", 1)[1]
                    allowed = self.decide([self.plan], action, resource, context) == "allow"
                    with self.subTest(sid=st["Sid"], action=action, resource=resource):
                        if allowed:
                            self.assertTrue(verb.startswith(READ_PREFIXES) or resource == lock,
                                            "the plan role may " + action)
                        elif verb.startswith(READ_PREFIXES) and not action.startswith("s3:GetObject"):
                            self.fail("the plan role cannot read what the apply role reads: %s on %s" %
                                      (action, resource))

    def test_the_boundary_caps_any_role_the_apply_role_creates(self):
        b, n = [self.boundary], self.n
        for action, resource in (("iam:CreateRole", n["role"]), ("sts:AssumeRole", n["role"]),
                                 ("s3:GetObject", "arn:aws:s3:::payroll/2026.csv"),
                                 ("s3:PutBucketPolicy", n["landing"]), ("dynamodb:DeleteTable", n["table"]),
                                 ("kms:Decrypt", n["key"]), ("lambda:UpdateFunctionCode", n["function"]),
                                 ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:111111111111:payments")):
            with self.subTest(action=action, resource=resource):
                self.assertEqual(self.decide(b, action, resource), "implicit")
        self.assertEqual(self.decide(b, "kms:Decrypt", n["key"], via("s3")), "allow")
        self.assertEqual(self.decide(b, "s3:GetObjectVersion", n["landing"] + "/raw-data/x.csv"), "allow")

    # ---- trust -----------------------------------------------------------------------------------------------------

    def assume(self, doc, sub, aud="sts.amazonaws.com"):
        return tf_support.evaluate([doc], "sts:AssumeRoleWithWebIdentity", "*", {
            "token.actions.githubusercontent.com:sub": sub, "token.actions.githubusercontent.com:aud": aud})

    def test_the_apply_role_trusts_only_the_reviewed_environment_on_main(self):
        doc = render("deploy-role-trust")
        main = "acme/tarius/.github/workflows/%s@refs/heads/main"
        self.assertEqual(self.assume(doc, "repo:acme/tarius:environment:prod:job_workflow_ref:" + main % "deploy.yml"),
                         "allow")
        self.assertEqual(self.assume(doc, "repo:acme/tarius:environment:prod:job_workflow_ref:" + main % "destroy.yml"),
                         "allow")
        for sub in ("repo:acme/tarius:environment:prod-plan:job_workflow_ref:" + main % "deploy.yml",
                    "repo:acme/tarius:environment:prod:job_workflow_ref:acme/tarius/.github/workflows/deploy.yml"
                    "@refs/heads/feature",
                    "repo:acme/tarius:environment:prod:job_workflow_ref:acme/tarius/.github/workflows/evil.yml"
                    "@refs/heads/main",
                    "repo:acme/tarius:environment:prod",
                    "repo:acme/tarius:pull_request", "repo:acme/tarius:ref:refs/heads/main",
                    "repo:mallory/tarius:environment:prod:job_workflow_ref:" + main % "deploy.yml"):
            with self.subTest(sub=sub):
                self.assertEqual(self.assume(doc, sub), "implicit")
        self.assertEqual(self.assume(doc, "repo:acme/tarius:environment:prod:job_workflow_ref:" + main % "deploy.yml",
                                     aud="https://example.com"), "implicit")
        self.assertNotIn("StringLike", json.dumps(doc))

    def test_the_plan_role_trusts_only_the_plan_environment(self):
        doc = render("plan-role-trust")
        main = "acme/tarius/.github/workflows/deploy.yml@refs/heads/main"
        self.assertEqual(self.assume(doc, "repo:acme/tarius:environment:prod-plan:job_workflow_ref:" + main), "allow")
        for sub in ("repo:acme/tarius:environment:prod:job_workflow_ref:" + main, "repo:acme/tarius:pull_request",
                    "repo:acme/tarius:environment:test-plan:job_workflow_ref:" + main):
            with self.subTest(sub=sub):
                self.assertEqual(self.assume(doc, sub), "implicit")

    # ---- sizes and the state bucket ----------------------------------------------------------------------------------

    def test_documents_fit_iam_limits(self):
        # Inline policies of one role: 10,240 characters together; a managed policy (the boundary): 6,144.
        for env in ("devl", "test", "prod"):
            with self.subTest(env=env):
                inline = minified_size(render("deploy-role-policy", ENV=env))
                if env == "devl":
                    inline += minified_size(render("deploy-role-force-destroy", ENV=env))
                self.assertLessEqual(inline, 10240)
                self.assertLessEqual(minified_size(render("plan-role-policy", ENV=env)), 10240)
        self.assertLessEqual(minified_size(self.boundary), 6144)

    def test_state_bucket_refuses_plain_http(self):
        doc = render("state-bucket-policy")
        state = self.n["state"]
        self.assertEqual(tf_support.evaluate([doc], "s3:GetObject", self.n["state_key"],
                                             {"aws:SecureTransport": "false"}), "deny")
        self.assertEqual(tf_support.evaluate([doc], "s3:ListBucket", state, {"aws:SecureTransport": "false"}), "deny")
        self.assertEqual(tf_support.evaluate([doc], "s3:GetObject", self.n["state_key"],
                                             {"aws:SecureTransport": "true"}), "implicit")

    def test_docs_render_exactly_these_placeholders(self):
        found = set()
        for name in DOCUMENTS:
            with open(os.path.join(tf_support.IAM_DIR, name + ".json")) as f:
                found |= set(re.findall(r"\$\{([A-Z_]+)\}", f.read()))
        self.assertEqual(found, set(PLACEHOLDERS))
        with open(os.path.join(tf_support.SOURCE_DIR, "docs", "deploy.md")) as f:
            docs = f.read()
        self.assertIn("envsubst '$ACCOUNT_ID $AWS_REGION $ENV $GITHUB_REPO'", docs)
        for name in DOCUMENTS:
            self.assertIn("infra/iam/%s.json" % name, docs, name + " is not used by docs/deploy.md")


def satisfying_context(st):
    """A request context under which statement `st`'s conditions hold (its first value for each key)."""
    context = {}
    for op, keys in (st.get("Condition") or {}).items():
        for key, values in keys.items():
            values = tf_support.as_list(values)
            context[key] = values if op.startswith("ForAllValues") else values[0]
    return context


class controls_of_this_file(unittest.TestCase):
    """Negative controls: removing a control from the documents makes the checks above fail."""

    def run_checks(self, deploy=None, trust=None):
        """Runs the escalation tests of deploy_role_documents on modified documents; returns how many failed."""
        suite = unittest.TestSuite()
        for name in ("test_the_apply_role_cannot_make_itself_an_administrator",
                     "test_the_apply_role_cannot_take_over_keys", "test_ci_reads_no_landing_file",
                     "test_the_apply_role_trusts_only_the_reviewed_environment_on_main",
                     "test_role_statements_require_the_boundary", "test_pass_role_only_to_lambda"):
            case = deploy_role_documents(name)
            original_set_up = case.setUp

            def set_up(case=case, original_set_up=original_set_up):
                original_set_up()
                if deploy:
                    case.deploy = deploy(case.deploy)

            case.setUp = set_up
            suite.addTest(case)
        if trust:
            global render
            original = render

            def patched(name, **overrides):
                doc = original(name, **overrides)
                return trust(doc) if name == "deploy-role-trust" else doc

            render = patched
        try:
            result = unittest.TestResult()
            suite.run(result)
        finally:
            if trust:
                render = original
        return len(result.failures) + len(result.errors)

    @staticmethod
    def without(sid):
        return lambda doc: dict(doc, Statement=[st for st in doc["Statement"] if st["Sid"] != sid])

    @staticmethod
    def unconditioned(sid):
        return lambda doc: dict(doc, Statement=[{k: v for k, v in st.items() if k != "Condition"}
                                                if st["Sid"] == sid else st for st in doc["Statement"]])

    def test_the_checks_pass_on_the_documents(self):
        self.assertEqual(self.run_checks(), 0)

    def test_each_control_is_needed(self):
        for label, change in (("boundary condition", self.unconditioned("RoleBounded")),
                              ("deny without boundary", self.without("DenyNoBoundary")),
                              ("deny boundary removal", self.without("DenyBoundaryDelete")),
                              ("deny boundary edit", self.without("DenyBoundaryEdit")),
                              ("PassRole condition", self.unconditioned("PassRole")),
                              ("deny assume role", self.without("DenyAssumeRole")),
                              ("key tag condition", self.unconditioned("CreateKey")),
                              ("key ViaService", self.unconditioned("KeyViaServices")),
                              ("deny data read", self.without("DenyDataRead"))):
            with self.subTest(control=label):
                if label == "deny data read":
                    def change(doc, base=change):  # a broad read the explicit deny must still stop
                        doc = base(doc)
                        extra = {"Sid": "Broad", "Effect": "Allow", "Action": ["s3:GetObject"],
                                 "Resource": names()["landing"] + "/*"}
                        return dict(doc, Statement=doc["Statement"] + [extra])
                self.assertGreater(self.run_checks(deploy=change), 0, label + " removed and no check failed")
        loose = lambda doc: json.loads(json.dumps(doc).replace(  # noqa: E731
            '"StringEquals": {"token.actions.githubusercontent.com:aud"',
            '"StringLike": {"token.actions.githubusercontent.com:aud"').replace(
            "@refs/heads/main", "@*"))
        self.assertGreater(self.run_checks(trust=loose), 0, "a trust on any ref went unnoticed")


if __name__ == "__main__":
    unittest.main()
