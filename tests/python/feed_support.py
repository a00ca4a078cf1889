"""Shared by the feeds and sync-mode tests: a local stack (moto + dynalite) for a test class, and boto3/csv
oracles for what landed (tables by key, counts that reconcile)."""
import csv
import io
import os
import shutil
import tempfile
import unittest

import local_loader
import tarius_stack

# Every count of a report that accounts for rows (absent_deleted counts items, not rows).
ROW_COUNTS = ("items_written", "deleted", "rejected", "duplicates_collapsed", "skipped_existing", "skipped_stale",
              "unchanged", "not_loaded")


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
