# ctest-label: integration
"""Tarius's DynamoDB client (aws_call ddb-batch) against fault_server's scripted faults: throttling,
UnprocessedItems, 500/503, resets, closes, truncated bodies and bad checksums. Every item must end up accepted,
none lost, and fault_server's own request log must show each fault was really met."""

import json
import os
import subprocess
import tempfile
import unittest

import tarius_stack as ts

AWS_CALL = os.path.join(ts.bin_dir(), "aws_call")


def bodies_file(directory, count, per_body=25):
    """`count` BatchWriteItem bodies of `per_body` distinct puts each; returns (path, total items)."""
    path = os.path.join(directory, "bodies.jsonl")
    with open(path, "w") as f:
        for b in range(count):
            items = [{"PutRequest": {"Item": {"pk": {"S": "b%d-i%d" % (b, i)}, "v": {"N": str(i)}}}}
                     for i in range(per_body)]
            f.write(json.dumps({"RequestItems": {"items": items}}) + "\n")
    return path, count * per_body


def run_batch(url, path, *extra, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and "proxy" not in k.lower()}
    env.update({
        "AWS_ENDPOINT_URL": url, "AWS_REGION": ts.REGION, "AWS_ACCESS_KEY_ID": ts.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": ts.SECRET_ACCESS_KEY, "AWS_CONFIG_FILE": "/nonexistent/tarius/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/tarius/credentials", "AWS_EC2_METADATA_DISABLED": "true",
        # botocore's 2026 rules: 25 ms base for DynamoDB's transient errors keeps the test quick.
        "AWS_NEW_RETRIES_2026": "true", "AWS_MAX_ATTEMPTS": "10",
    })
    env.update(env_extra or {})
    proc = subprocess.run([AWS_CALL, "ddb-batch", path, *extra], env=env, capture_output=True, timeout=180)
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]
    return proc.returncode, (lines[-1] if lines else None), proc.stderr.decode()


def read_log(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class FaultTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def run_with_faults(self, faults, bodies, *extra, mode="ddb-ok"):
        log = os.path.join(self.tmp.name, "server.jsonl")
        if os.path.exists(log):
            os.unlink(log)
        path, total = bodies_file(self.tmp.name, bodies)
        args = ["--mode", mode, "--log", log, "--max-seconds", "300"]
        if faults:
            args += ["--faults", faults]
        with ts.stack(fault_server_args=args) as st:
            code, summary, err = run_batch(st.fault_server.url, path, *extra)
        return code, summary, err, total, read_log(log)

    def assert_all_accepted(self, code, summary, err, total):
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["items_sent"], total)
        self.assertEqual(summary["items_accepted"], total)
        self.assertEqual(summary["left_over"], [])

    def test_each_fault_kind_is_survived(self):
        cases = [
            ("throttle:2", 2),
            ("throttling:1", 1),
            ("500:2", 2),
            ("503:2", 2),
            ("reset:2", 2),
            ("close:1", 1),
            ("truncate:2", 2),
            ("badcrc:2", 2),
            ("unprocessed:2", 2),
        ]
        for faults, count in cases:
            with self.subTest(faults=faults):
                code, summary, err, total, log = self.run_with_faults(faults, 1)
                self.assert_all_accepted(code, summary, err, total)
                kind = faults.split(":")[0]
                met = [r for r in log if r["fault"] == kind]
                self.assertEqual(len(met), count, log)
                if kind == "unprocessed":
                    self.assertGreater(summary["unprocessed_returned"], 0)
                    self.assertEqual(summary["calls"], count + 1)  # the remainder went out again each time
                else:
                    # Every fault cost one attempt; the final, clean answer is the last one.
                    self.assertEqual(summary["attempts"], count + 1, summary)
                    self.assertEqual(log[-1]["fault"], "none")
                if kind in ("throttle", "throttling"):
                    self.assertEqual(summary["throttled_attempts"], count)

    def test_mixed_faults_many_bodies_sync_and_async(self):
        faults = "throttle:2,500:1,503:1,reset:1,truncate:1,badcrc:1,unprocessed:2,close:1,throttling:1"
        for extra in ([], ["--in-flight", "8"]):
            with self.subTest(extra=extra):
                code, summary, err, total, log = self.run_with_faults(faults, 12, *extra)
                self.assert_all_accepted(code, summary, err, total)
                met = {r["fault"] for r in log}
                for kind in ("throttle", "500", "503", "reset", "truncate", "badcrc", "unprocessed", "close"):
                    self.assertIn(kind, met)
                # Every request body reached the server intact at least once without a fault.
                clean = [r for r in log if r["fault"] in ("none", "unprocessed")]
                self.assertGreaterEqual(len(clean), 12)

    def test_server_that_always_leaves_half_unprocessed(self):
        code, summary, err, total, log = self.run_with_faults("", 3, mode="ddb-unprocessed")
        self.assert_all_accepted(code, summary, err, total)
        self.assertGreater(summary["unprocessed_returned"], 0)
        self.assertEqual(len(log), summary["attempts"])

    def test_exhausted_retries_report_code_status_and_request_id(self):
        code, summary, err, total, log = self.run_with_faults("500:20", 1)
        self.assertNotEqual(code, 0)
        self.assertEqual(summary["items_accepted"], 0)
        self.assertIn("dynamodb BatchWriteItem", err)
        self.assertIn("HTTP 500", err)
        self.assertIn("request id", err)
        self.assertIn("10 attempts", err)
        self.assertEqual(len(log), 10)
        self.assertNotIn(ts.SECRET_ACCESS_KEY, err)


if __name__ == "__main__":
    unittest.main()
