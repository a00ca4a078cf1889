"""Helpers for the Terraform tests: temp copies of infra/terraform, terraform runs and a moto server.

Nothing here writes into the source tree: each test copies infra/terraform into a temp directory, keeps
TF_DATA_DIR, the lock file and the state there, and installs the AWS provider from the offline mirror
(TARIUS_TF_PLUGIN_DIR, default /opt/tf-plugins) without contacting any registry.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

SOURCE_DIR = os.environ.get("TARIUS_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
TF_ROOT = os.path.join(SOURCE_DIR, "infra", "terraform")
WORKFLOWS_DIR = os.path.join(SOURCE_DIR, ".github", "workflows")
TERRAFORM = os.environ.get("TARIUS_TERRAFORM", shutil.which("terraform") or "/usr/local/bin/terraform")
PLUGIN_DIR = os.environ.get("TARIUS_TF_PLUGIN_DIR", "/opt/tf-plugins")
MODULES = ["alarms", "audit-logs", "dlq", "kms", "landing-bucket", "loader-function", "notifications", "table"]
IAM_DIR = os.path.join(SOURCE_DIR, "infra", "iam")

# Dummy credentials: the local stack accepts anything, and real AWS must never be reached from a test.
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def terraform_available():
    """Return a reason string when terraform or the offline provider is missing, else None."""
    if not os.path.exists(TERRAFORM):
        return "terraform not installed"
    if not os.path.isdir(os.path.join(PLUGIN_DIR, "registry.terraform.io", "hashicorp", "aws")):
        return "offline AWS provider not found under " + PLUGIN_DIR
    return None


def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TerraformWorkspace:
    """A throw-away copy of infra/terraform with its own data dir, plugin cache and CLI config."""

    def __init__(self, prefix="tarius-tf-"):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.copy = os.path.join(self.tmp, "terraform")
        # The root's committed .terraform.lock.hcl comes along: init then checks the offline provider against it.
        shutil.copytree(TF_ROOT, self.copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        cli_config = os.path.join(self.tmp, "terraformrc")
        with open(cli_config, "w") as f:
            f.write("# empty: no registry, no credentials\n")
        self.base_env = dict(os.environ)
        self.base_env.update(DUMMY_AWS_ENV)
        self.base_env.update({
            "TF_CLI_CONFIG_FILE": cli_config,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        })

    def path(self, *parts):
        """Path inside the copy of infra/terraform."""
        return os.path.join(self.copy, *parts)

    def run(self, args, cwd=None, data_dir_name="root", check=True, timeout=600, extra_env=None):
        """Run terraform with a data dir of its own; return the CompletedProcess."""
        env = dict(self.base_env)
        env["TF_DATA_DIR"] = os.path.join(self.tmp, "data", data_dir_name)
        # A plugin cache per data dir: concurrent inits sharing one cache race inside Terraform ("after installing
        # registry.terraform.io/hashicorp/aws it is still not detected", seen in CI).
        env["TF_PLUGIN_CACHE_DIR"] = os.path.join(self.tmp, "plugin-cache", data_dir_name)
        os.makedirs(env["TF_PLUGIN_CACHE_DIR"], exist_ok=True)
        if extra_env:
            env.update(extra_env)
        proc = subprocess.run([TERRAFORM] + args, cwd=cwd or self.copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError("terraform %s failed (%d) in %s:\n%s\n%s" % (
                " ".join(args), proc.returncode, cwd or self.copy, proc.stdout[-4000:], proc.stderr[-6000:]))
        return proc

    def lockfile_args(self, cwd):
        """-lockfile=readonly where a lock file is committed (the root): the offline provider must match it."""
        return ["-lockfile=readonly"] if os.path.exists(os.path.join(cwd or self.copy, ".terraform.lock.hcl")) else []

    def init(self, cwd=None, data_dir_name="root"):
        """terraform init from the offline provider mirror, without a backend."""
        return self.run(["init", "-backend=false", "-plugin-dir=" + PLUGIN_DIR, "-input=false", "-no-color"] +
                        self.lockfile_args(cwd), cwd=cwd, data_dir_name=data_dir_name)

    def use_local_backend(self):
        """Replace the root's s3 backend by a local one (an override file in the copy only)."""
        with open(self.path("backend_override.tf"), "w") as f:
            state = os.path.join(self.tmp, "terraform.tfstate")
            f.write('terraform {\n  backend "local" {\n    path = "%s"\n  }\n}\n' % state)
        return self.run(["init", "-plugin-dir=" + PLUGIN_DIR, "-input=false", "-no-color"] +
                        self.lockfile_args(None))

    def placeholder_package(self, name="tarius-lambda.zip"):
        """A zip holding an executable `bootstrap` stub (scripts/package builds the real one)."""
        path = os.path.join(self.tmp, name)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            z.writestr(info, "#!/bin/sh\necho placeholder bootstrap >&2\nexit 1\n")
        return path

    def cleanup(self):
        """Remove the temp directory."""
        shutil.rmtree(self.tmp, ignore_errors=True)


class MotoServer:
    """moto's server on 127.0.0.1 at a free port, started and stopped by PID."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)
        env = dict(os.environ)
        env.update(DUMMY_AWS_ENV)
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1):
                    break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not start; log: " + self.log.name)
                time.sleep(0.2)

    def client(self, service):
        """A boto3 client of the server."""
        import boto3
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def log_tail(self, n=4000):
        """The last n characters of the server's log."""
        try:
            with open(self.log.name) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def stop(self):
        """Stop the server by PID."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


def plan_json(ws, var_files=(), variables=None, data_dir_name="root"):
    """terraform plan with the given var files and -var values, returned as `terraform show -json` data."""
    plan_file = os.path.join(ws.tmp, "plan-%d.tfplan" % int(time.monotonic() * 1000))
    args = ["plan", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-out=" + plan_file]
    for vf in var_files:
        args += ["-var-file=" + vf]
    for k, v in (variables or {}).items():
        args += ["-var", "%s=%s" % (k, v)]
    ws.run(args, data_dir_name=data_dir_name)
    shown = ws.run(["show", "-json", plan_file], data_dir_name=data_dir_name)
    return json.loads(shown.stdout)


def planned_output(plan, name):
    """The planned value of root output `name` (None when unknown at plan time or absent)."""
    return plan.get("planned_values", {}).get("outputs", {}).get(name, {}).get("value")


# ---- IAM policy evaluation -----------------------------------------------------------------------------------------
# Enough of IAM's evaluation logic for the policies of this repository, written from the IAM User Guide ("Policy
# evaluation logic", "IAM JSON policy elements: Condition operators", "Creating a condition with multiple keys or
# values"): an explicit Deny wins, then any Allow; wildcards * and ? in actions (case-insensitive) and resources;
# the string, ARN, Bool and Null operators with IfExists and the ForAllValues/ForAnyValue qualifiers. A statement
# with an operator it does not know never matches (an Allow is then not counted, a Deny is reported by
# unknown_operators()).

KNOWN_OPERATORS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                   "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool", "Null"}


def as_list(value):
    """value if it is a list, else [value] ([] for None)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def iam_glob(pattern, value, ignore_case=False):
    """True when value matches pattern, where * is any run of characters and ? any one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S | (re.I if ignore_case else 0)) is not None


def _split_operator(op):
    qualifier = None
    for q in ("ForAllValues:", "ForAnyValue:"):
        if op.startswith(q):
            qualifier, op = q[:-1], op[len(q):]
    if_exists = op.endswith("IfExists") and op != "IfExists"
    if if_exists:
        op = op[:-len("IfExists")]
    return qualifier, op, if_exists


def _value_matches(op, wanted, got):
    if op in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        return wanted == got
    if op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return wanted.lower() == got.lower()
    if op in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        return iam_glob(wanted, got)
    if op == "Bool":
        return wanted.lower() == str(got).lower()
    raise ValueError(op)


def condition_holds(condition, context):
    """True when every operator/key/values block of `condition` holds in `context` (key -> value or list)."""
    for raw_op, keys in (condition or {}).items():
        qualifier, op, if_exists = _split_operator(raw_op)
        if op not in KNOWN_OPERATORS:
            return False
        negated = "Not" in op
        for key, wanted in keys.items():
            wanted = [str(w) for w in as_list(wanted)]
            present = key in context
            got = [str(g) for g in as_list(context.get(key))]
            if op == "Null":
                if (wanted[0].lower() == "true") != (not present):
                    return False
                continue
            if not present:
                if if_exists or qualifier == "ForAllValues" or (negated and qualifier is None):
                    continue
                return False
            if qualifier == "ForAllValues":
                ok = all(any(_value_matches(op, w, g) for w in wanted) != negated for g in got)
            elif qualifier == "ForAnyValue":
                ok = any(any(_value_matches(op, w, g) for w in wanted) != negated for g in got)
            else:
                hit = any(_value_matches(op, w, g) for w in wanted for g in got)
                ok = (not hit) if negated else hit
            if not ok:
                return False
    return True


def unknown_operators(policy):
    """Condition operators of `policy` that condition_holds() does not evaluate."""
    out = set()
    for st in as_list(policy.get("Statement")):
        for raw_op in (st.get("Condition") or {}):
            if _split_operator(raw_op)[1] not in KNOWN_OPERATORS:
                out.add(raw_op)
    return out


def statement_applies(st, action, resource, context=None):
    """True when statement `st` covers `action` on `resource` in `context` (its effect aside)."""
    context = context or {}
    if "Action" in st:
        if not any(iam_glob(a, action, ignore_case=True) for a in as_list(st["Action"])):
            return False
    elif any(iam_glob(a, action, ignore_case=True) for a in as_list(st.get("NotAction"))):
        return False
    if "Resource" in st:
        if not any(iam_glob(r, resource) for r in as_list(st["Resource"])):
            return False
    elif "NotResource" in st and any(iam_glob(r, resource) for r in as_list(st["NotResource"])):
        return False
    return condition_holds(st.get("Condition"), context)


def evaluate(policies, action, resource, context=None):
    """"deny" (an explicit Deny applies), "allow" (an Allow applies and no Deny) or "implicit" over the identity
    policies `policies` (parsed documents) for one request."""
    allowed = False
    for policy in policies:
        for st in as_list(policy.get("Statement")):
            if not statement_applies(st, action, resource, context):
                continue
            if st.get("Effect") == "Deny":
                return "deny"
            allowed = True
    return "allow" if allowed else "implicit"


def allows(policies, action, resource, context=None):
    """True when `policies` allow the request (no explicit Deny)."""
    return evaluate(policies, action, resource, context) == "allow"
