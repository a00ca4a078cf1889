"""Shared by the feeds and sync-mode tests: a local stack (moto + dynalite) for a test class, and boto3/csv
oracles for what landed (tables by key, counts that reconcile)."""
import csv
import io
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import local_loader
import tarius_stack

# Every count of a report that accounts for rows (absent_deleted counts items, not rows).
ROW_COUNTS = ("items_written", "deleted", "rejected", "duplicates_collapsed", "skipped_existing", "skipped_stale",
              "resent_uncertain", "unchanged", "not_loaded")


def csv_rows(data):
    """The rows of CSV bytes as dicts, read with Python's csv module."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def create_table(ddb, name, key="ID"):
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})


def scan(ddb, table, key="ID"):
    """Every item of `table` by its key (boto3 Scan, consistent, every page)."""
    items, kwargs = {}, {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        for item in page["Items"]:
            items[item[key]["S"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_reconciles(test, counts):
    """rows == the sum of the row counts, and the report's flag says so."""
    test.assertEqual(counts["rows"], sum(counts.get(name, 0) for name in ROW_COUNTS), counts)
    test.assertTrue(counts["reconciles"], counts)


def signal_after_checkpoint(test, local, source, command, env, sig=signal.SIGKILL, timeout=300):
    """Starts `command` (a `tarius load` of `source` with a ledger), sends it `sig` once the ledger holds a
    checkpoint past 0, and waits for it to end. The load must still be running then."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            record = local_loader.ledger_load_record(local, source)
            if record and int(record.get("checkpoint_offset", {"N": "0"})["N"]) > 0:
                break
            time.sleep(0.2)
        test.assertIsNone(proc.poll(), "the load ended before it could be stopped")
        proc.send_signal(sig)
    finally:
        proc.communicate()


class stack_case(unittest.TestCase):
    """A test class with its own local stack, a scratch directory and an environment for `tarius` whose feeds name
    their tables (no TARIUS_TABLE)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tarius-%s-" % cls.__name__)
        cls.stack_cm = tarius_stack.stack(moto=True, dynalite=True)
        cls.st = cls.stack_cm.__enter__()
        try:
            cls.local = local_loader.provisioned(cls.st, max_receive_count=5, table="unused")
        except Exception:
            cls.stack_cm.__exit__(None, None, None)
            raise
        cls.s3, cls.ddb = cls.local.s3, cls.local.ddb
        cls.env = {k: v for k, v in cls.local.env.items() if k != "TARIUS_TABLE"}

    @classmethod
    def tearDownClass(cls):
        cls.stack_cm.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, data):
        """Writes `data` to a file of the scratch directory; returns its path."""
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path
