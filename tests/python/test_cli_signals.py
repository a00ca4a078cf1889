# ctest-label: e2e
"""Progress, and Ctrl-C and SIGTERM in the middle of a load. On a terminal `tarius load` draws a progress bar.
`tarius load` of a local file and of an s3:// object with a ledger stops cleanly on a signal (exit status 2, the
requests in flight completed and counted, the checkpoint saved in the ledger) and running it again resumes and
finishes with exact counts; `tarius worker` on SIGTERM stops taking work, checkpoints, makes its message visible
again and exits 0. Observed with the fault_server's record of accepted writes, boto3 (ledger, table, queue) and
Python's csv module; the loads are slowed down by the fault_server's latency or by dynalite itself so that a signal
lands mid-way (the tests wait for progress before signalling)."""
import csv
import io
import json
import os
import pty
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402

TARIUS = local_loader.tarius_exe()
BUCKET = local_loader.BUCKET


def running_progress(min_items):
    """A line condition: a running (not final) progress line with at least `min_items` items written."""
    def condition(line):
        p = local_loader.progress_line(line)
        return p is not None and not p["done"] and p["items_written"] >= min_items
    return condition


def final_progress(lines):
    """The `done` progress line among `lines`."""
    finals = [p for p in map(local_loader.progress_line, lines) if p and p["done"]]
    assert len(finals) == 1, lines[-5:]
    return finals[0]


def signal_mid_load(test, command, env, min_items, sig, timeout):
    """Starts `command` (a `tarius load` printing progress), sends `sig` once at least `min_items` items are
    written, and waits for the exit; returns (exit status, stdout, stderr lines)."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = local_loader.line_reader(proc.stdout), local_loader.line_reader(proc.stderr)
        seen = stderr.wait_for(running_progress(min_items), timeout=timeout)
        test.assertIsNotNone(seen, "no progress before the load ended: %s" % stderr.lines[-5:])
        proc.send_signal(sig)
        proc.wait(timeout=120)
        stdout.join()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr.join()
    proc.stdout.close()
    proc.stderr.close()
    return proc.returncode, "\n".join(stdout.lines), stderr.lines


def accepted_items(path):
    """The fault_server's record: every item it accepted, in order."""
    with open(path) as f:
        return [json.loads(line) for line in f]


def fault_server_env(st):
    """The environment of a `tarius load` against the fault_server."""
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": st.fault_server.url, "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
                "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    return env


class cli_signals(unittest.TestCase):
    def test_progress_bar_on_a_terminal(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = local_loader.gen_csv(os.path.join(tmp, "p.csv"), 20000, "--seed", "10")
            with tarius_stack.stack(fault_server_args=["--latency-ms", "20", "--max-seconds", "300"]) as st:
                master, slave = pty.openpty()  # stderr is a terminal, stdout a pipe
                proc = subprocess.Popen([TARIUS, "load", path, "--table", "t", "--key", "ID", "--concurrency", "2",
                                         "--json"], env=fault_server_env(st), stdout=subprocess.PIPE, stderr=slave)
                os.close(slave)
                screen = b""
                try:
                    while True:
                        try:
                            data = os.read(master, 65536)
                        except OSError:  # EIO: the child closed the terminal
                            break
                        if not data:
                            break
                        screen += data
                    out, _ = proc.communicate(timeout=300)
                finally:
                    os.close(master)
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
            self.assertEqual(proc.returncode, 0, screen[-2000:])
            self.assertEqual(json.loads(out)["counts"]["rows"], 20000)
            text = screen.decode()
            redraws = re.findall(r"\r *(\d+)% \[#*\.*\]  [\d,]+ rows  [\d.]+k? rows/s  [\d.]+ MB/s  ETA \d+:\d\d", text)
            self.assertGreater(len(redraws), 1, text[-2000:])
            percents = [int(p) for p in redraws]
            self.assertEqual(percents, sorted(percents), "the bar went backwards")
            self.assertRegex(text, r"\r100% \[#+\]  20,000 rows in [\d.]+ s \([\d.]+k? rows/s, [\d.]+ MB/s\)")
            self.assertNotIn("load progress", text)  # no log lines on a terminal

    def test_local_load_stops_cleanly_on_sigint_and_a_rerun_completes(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = local_loader.gen_csv(os.path.join(tmp, "big.csv"), 60000, "--seed", "11",
                                        "--duplicate-every", "50")
            rows, by_id = local_loader.rows_by_id(path)
            accepted = os.path.join(tmp, "accepted.jsonl")
            with tarius_stack.stack(fault_server_args=["--latency-ms", "20", "--accepted", accepted,
                                                       "--max-seconds", "600"]) as st:
                env = fault_server_env(st)
                command = [TARIUS, "load", path, "--table", "t", "--key", "ID", "--concurrency", "2",
                           "--progress-seconds", "0.2", "--json"]
                status, out, err_lines = signal_mid_load(self, command, env, 500, signal.SIGINT, timeout=120)
                self.assertEqual(status, 2, err_lines[-5:])
                report = json.loads(out)
                self.assertEqual(report["status"], "stopped")
                self.assertIn("stopped on request", report["error"])
                self.assertTrue(any("no ledger: running it again starts over" in l for l in err_lines))
                final = final_progress(err_lines)
                # The report of the stopped load counts what was read so far, as the last progress line does.
                self.assertGreater(report["counts"]["rows"], 0)
                self.assertEqual(report["counts"]["rows"], final["rows"])
                self.assertGreaterEqual(report["counts"]["items_written"], final["items_written"])
                written_before = accepted_items(accepted)
                # Stopped in the middle, and cleanly: every request sent was answered and counted.
                self.assertGreater(len(written_before), 0)
                self.assertLess(len(written_before), rows)
                self.assertEqual(final["items_written"], len(written_before))
                self.assertLess(final["rows"], rows)
                self.assertEqual({i["ID"]["S"] for i in written_before} - set(by_id), set())

                # Without a ledger a rerun starts over; rewriting the same items is harmless.
                rerun = subprocess.run(command, env=env, capture_output=True, timeout=600)
                self.assertEqual(rerun.returncode, 0, rerun.stderr.decode()[-2000:])
                report = json.loads(rerun.stdout)
                self.assertEqual(report["status"], "succeeded")
                self.assertEqual(report["counts"]["rows"], rows)
                self.assertEqual(report["counts"]["rejected"], 0)
                self.assertEqual(report["counts"]["items_written"] + report["counts"]["duplicates_collapsed"], rows)
            final_table = {}
            for item in accepted_items(accepted):  # replayed in order: last write wins
                final_table[item["ID"]["S"]] = item
            self.assertEqual(set(final_table), set(by_id))
            for key, row in by_id.items():
                self.assertEqual(final_table[key]["Title"]["S"], row["Title"].strip(), key)

    def test_s3_load_with_ledger_stops_on_sigterm_and_resumes_with_exact_counts(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            path = local_loader.gen_csv(os.path.join(tmp, "big.csv"), 120000, "--seed", "12",
                                        "--duplicate-every", "97")
            rows, by_id = local_loader.rows_by_id(path)
            key = "backfill/big.csv"  # outside raw-data/: no notification, only the CLI loads it
            local.s3.upload_file(path, BUCKET, key)
            source = "s3://%s/%s" % (BUCKET, key)
            command = [TARIUS, "load", source, "--table", local.table, "--ledger-table", "ledger",
                       "--concurrency", "4", "--progress-seconds", "0.2", "--json"]
            status, out, err_lines = signal_mid_load(self, command, local.env, 2000, signal.SIGTERM, timeout=300)
            self.assertEqual(status, 2, err_lines[-5:])
            self.assertEqual(json.loads(out)["status"], "stopped")
            self.assertTrue(any("checkpoint saved in the ledger" in l for l in err_lines), err_lines[-3:])

            record = local_loader.ledger_load_record(local, source)
            self.assertIsNotNone(record)
            self.assertEqual(record["load_status"]["S"], "in_progress")
            self.assertEqual(record["lease_expires_at"]["N"], "0")  # released: a rerun takes over at once
            offset = int(record["checkpoint_offset"]["N"])
            self.assertGreater(offset, 0)
            self.assertGreater(int(record["checkpoint_items"]["N"]), 0)
            with open(path, "rb") as f:
                data = f.read()
            self.assertLess(offset, len(data), "the load was not stopped mid-way")
            # The checkpoint is a row boundary below which every row is in the table.
            self.assertEqual(data[offset - 1:offset], b"\n")
            table = local.items()
            below = list(csv.DictReader(io.StringIO(data[:offset].decode("utf-8"), newline="")))
            self.assertGreater(len(below), 0)
            missing = [r["ID"] for r in below if r["ID"] not in table]
            self.assertEqual(missing, [], "rows below the checkpoint not in the table")
            self.assertLess(len(table), len(by_id))
            load_id = record["load_id"]["S"]

            rerun = subprocess.run(command, env=local.env, capture_output=True, timeout=900)
            self.assertEqual(rerun.returncode, 0, rerun.stderr.decode()[-2000:])
            report = json.loads(rerun.stdout)
            self.assertEqual(report["status"], "succeeded")
            self.assertEqual(report["load_id"], load_id, "the rerun resumed the same load")
            self.assertEqual(report["counts"]["rows"], rows)
            self.assertEqual(report["counts"]["rejected"], 0)
            self.assertEqual(report["counts"]["items_written"] + report["counts"]["duplicates_collapsed"], rows)
            self.assertTrue(report["counts"]["reconciles"])
            # The resumed run skipped what the first run had written: it wrote fewer items itself.
            self.assertLess(final_progress(rerun.stderr.decode().splitlines())["items_written"],
                            report["counts"]["items_written"])

            record = local_loader.ledger_load_record(local, source)
            self.assertEqual(record["load_status"]["S"], "succeeded")
            self.assertEqual(record["attempts"]["N"], "2")
            self.assertEqual(json.loads(record["report"]["S"])["counts"], report["counts"])
            table = local.items()
            self.assertEqual(set(table), set(by_id))
            for item_key, row in by_id.items():
                self.assertEqual(table[item_key]["Title"]["S"], row["Title"].strip(), item_key)

            # A third run finds the load done in the ledger and does nothing.
            again = subprocess.run(command, env=local.env, capture_output=True, timeout=120)
            self.assertEqual(again.returncode, 0)
            self.assertEqual(json.loads(again.stdout)["status"], "skipped")

    def test_worker_on_sigterm_checkpoints_releases_its_message_and_exits_0(self):
        with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st)
            path = local_loader.gen_csv(os.path.join(tmp, "big.csv"), 120000, "--seed", "13")
            rows, by_id = local_loader.rows_by_id(path)
            with open(path, "rb") as f:  # one PutObject, one event (upload_file would go multipart: two events)
                local.s3.put_object(Bucket=BUCKET, Key="raw-data/big.csv", Body=f.read())
            source = "s3://%s/raw-data/big.csv" % BUCKET
            env = dict(local.env, TARIUS_HEARTBEAT_SECONDS="1", TARIUS_CONCURRENCY="4", TARIUS_PARALLEL_LOADS="1")
            worker = subprocess.Popen([TARIUS, "worker", "--queue-url", local.queue_url, "--wait-seconds", "1",
                                       "--visibility-timeout", "30"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 300
                record = None
                while time.monotonic() < deadline:
                    record = local_loader.ledger_load_record(local, source)
                    if record and int(record.get("checkpoint_offset", {"N": "0"})["N"]) > 0:
                        break
                    time.sleep(0.3)
                self.assertTrue(record and int(record["checkpoint_offset"]["N"]) > 0, "no checkpoint seen")
                # A second file arrives while the only slot is busy: the stopping worker must not take it.
                local.s3.put_object(Bucket=BUCKET, Key="raw-data/small.csv", Body=b"ID,Title\ns1,one\n")
                worker.send_signal(signal.SIGTERM)
                out, err = worker.communicate(timeout=180)
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
            self.assertEqual(worker.returncode, 0, err.decode()[-2000:])
            logs = [json.loads(l) for l in out.decode().splitlines() if l.startswith("{")]
            self.assertIn("load stopped", [l.get("msg") for l in logs])
            # (moto's s3:TestEvent, sent when the notification was configured, is the other message received)
            self.assertIn("0 loads, 0 skipped, 1 left for retry", err.decode())

            record = local_loader.ledger_load_record(local, source)
            self.assertEqual(record["load_status"]["S"], "in_progress")
            self.assertEqual(record["lease_expires_at"]["N"], "0")
            self.assertGreater(int(record["checkpoint_offset"]["N"]), 0)
            self.assertIsNone(local_loader.ledger_load_record(local, "s3://%s/raw-data/small.csv" % BUCKET))
            attrs = local.sqs.get_queue_attributes(QueueUrl=local.queue_url, AttributeNames=["All"])["Attributes"]
            self.assertEqual(attrs["ApproximateNumberOfMessages"], "2", attrs)  # big (made visible again) + small
            self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "0", attrs)
            self.assertLess(len(local.items()), len(by_id))

            drained = subprocess.run([TARIUS, "worker", "--queue-url", local.queue_url, "--wait-seconds", "1",
                                      "--visibility-timeout", "30", "--exit-when-idle"],
                                     env=dict(env, TARIUS_PARALLEL_LOADS="2"), capture_output=True, timeout=900)
            self.assertEqual(drained.returncode, 0, drained.stderr.decode()[-2000:])
            reports = {json.loads(n["Message"])["source"]: json.loads(n["Message"]) for n in local.notifications()}
            self.assertEqual(set(reports), {source, "s3://%s/raw-data/small.csv" % BUCKET})
            report = reports[source]
            self.assertEqual(report["status"], "succeeded")
            self.assertEqual(report["counts"]["rows"], rows)
            self.assertEqual(report["counts"]["items_written"], rows)  # no repeated IDs in this file
            self.assertEqual(local_loader.ledger_load_record(local, source)["attempts"]["N"], "2")
            table = local.items()
            self.assertEqual(set(table), set(by_id) | {"s1"})
            for item_key, row in by_id.items():
                self.assertEqual(table[item_key]["Title"]["S"], row["Title"].strip(), item_key)


if __name__ == "__main__":
    unittest.main()
