# ctest-label: e2e
"""Snapshot feeds against dynalite, with boto3 as the oracle for what landed and Python's csv module for the files:
1. Three successive snapshots (rows added, changed, removed; duplicates and a rejected row): after each, the table
   equals the file (last row of a key wins; the rejected row's item stays as it was); the second and third reports
   write only the changed and new rows and delete only the removed keys; counts reconcile. The seed sample, then
   the seed sample with 3 rows removed and 2 changed: 2 writes, 3 deletes.
2. A truncated file (most keys gone) fails before anything is written or deleted, naming the limit.
3. A load killed mid-write (SIGKILL) and a new file after it: the new load writes every row (an unfinished load's
   changes cannot be trusted) and deletes the keys of the base and of the unfinished load that the file lacks.
4. An S3 snapshot killed mid-write and resumed (--ledger-table): the same load goes on, deletes each absent key
   once; exact table, exact counts.
5. Bad documents: a snapshot feed sharing its table with another feed.

TARIUS_BIN is the directory of the binaries (as ctest sets it).
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
import unittest

if os.path.isfile(os.environ.get("TARIUS_BIN", "")):
    os.environ["TARIUS_BIN"] = os.path.dirname(os.path.abspath(os.environ["TARIUS_BIN"]))

sys.path.insert(0, os.path.dirname(__file__))
import feed_support  # noqa: E402
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402
from feed_support import assert_reconciles, create_table, scan  # noqa: E402

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")
BUCKET = local_loader.BUCKET


def item_of(row):
    return {c: {"S": v.strip()} for c, v in row.items() if v is not None and v.strip()}


def snapshot_csv(items):
    """A file of {ID: Title} rows in a shuffled order."""
    keys = sorted(items)
    random.Random(len(keys)).shuffle(keys)
    return ("ID,Title\n" + "".join("%s,%s\n" % (k, items[k]) for k in keys)).encode()


def document(feed, prefix, table, extra=""):
    return ("feeds:\n  %s:\n    match: {prefix: %s}\n    table: %s\n    mode: snapshot\n" % (feed, prefix, table)
            + extra)


class snapshot_feeds(feed_support.stack_case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["TARIUS_SNAPSHOT_DIR"] = os.path.join(cls.tmp, "digests")

    def load(self, data, doc_text, name, expect=0, extra=()):
        doc = self.write("feeds-%s.yaml" % name, doc_text.encode())
        proc = subprocess.run([TARIUS, "load", self.write(name + ".csv", data), "--feeds", doc, "--json", *extra],
                              env=self.env, capture_output=True, timeout=600)
        self.assertEqual(proc.returncode, expect, proc.stderr.decode()[-3000:])
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def assert_table_is(self, table, items):
        got = scan(self.ddb, table)
        self.assertEqual({k: v for k, v in got.items()}, {k: item_of({"ID": k, "Title": t}) for k, t in items.items()})

    # 1 -----------------------------------------------------------------------------------------------------------
    def test_1_three_snapshots_leave_the_table_equal_to_the_last_file(self):
        table = "s1-products"
        create_table(self.ddb, table)
        doc = document("products", "s1/", table, "    snapshot: {max_delete_fraction: 0.5}\n"
                                                 "    mapping: {partition_key: ID:S}\n")
        first = {"P%04d" % n: "title %d" % n for n in range(1000)}
        report = self.load(snapshot_csv(first), doc, "s1-a", extra=("--feed", "products"))
        counts = report["counts"]
        self.assertEqual((counts["items_written"], counts["unchanged"], counts["absent_deleted"]), (1000, 0, 0))
        self.assertTrue(report["snapshot"]["first_load"], report["snapshot"])
        assert_reconciles(self, counts)
        self.assert_table_is(table, first)

        # 2: 10 changed, 5 removed, 7 added, one key twice (the last row wins), one row rejected (empty key).
        second = dict(first)
        for n in range(10):
            second["P%04d" % (n * 50)] = "changed %d" % n
        for n in range(5):
            del second["P%04d" % (n * 50 + 1)]
        for n in range(7):
            second["N%04d" % n] = "new %d" % n
        data = snapshot_csv(second) + b"P0002,an earlier row of P0002\n,no key\nP0002,title 2\n"
        report = self.load(data, doc, "s1-b", expect=1, extra=("--feed", "products"))
        counts = report["counts"]
        self.assertEqual((counts["items_written"], counts["absent_deleted"], counts["rejected"]), (17, 5, 1), counts)
        self.assertEqual(counts["unchanged"], len(second) - 17, counts)
        self.assertEqual(counts["duplicates_collapsed"], 2, counts)  # P0002's two earlier rows
        self.assertFalse(report["snapshot"]["first_load"])
        self.assertEqual(report["snapshot"]["items_to_delete"], 5)
        assert_reconciles(self, counts)
        self.assert_table_is(table, second)

        # 3: the same file again writes nothing; then a third file removes and changes more.
        report = self.load(snapshot_csv(second), doc, "s1-c", extra=("--feed", "products"))
        counts = report["counts"]
        self.assertEqual((counts["items_written"], counts["absent_deleted"], counts["unchanged"]),
                         (0, 0, len(second)), counts)
        self.assertEqual(counts["requests"], 0, counts)
        third = {k: v for k, v in second.items() if not k.endswith("7")}
        third["P0003"] = "changed again"
        report = self.load(snapshot_csv(third), doc, "s1-d", extra=("--feed", "products"))
        counts = report["counts"]
        removed = len(second) - len(third)
        self.assertEqual((counts["items_written"], counts["absent_deleted"]), (1, removed), counts)
        assert_reconciles(self, counts)
        self.assert_table_is(table, third)

    def test_1b_the_seed_sample_twice(self):
        seed = os.path.join(tarius_stack.source_dir(), "..", "shared", "seed-data", "products.csv")
        with open(seed, "rb") as f:
            data = f.read()
        table = "s1b-products"
        create_table(self.ddb, table)
        doc = document("seed", "s1b/", table)
        counts = self.load(data, doc, "s1b-a", extra=("--feed", "seed"))["counts"]
        self.assertEqual((counts["items_written"], counts["unchanged"]), (counts["rows"], 0), counts)
        # The same feed a day later: 3 rows gone, 2 URLs changed (by editing the bytes, not re-writing the CSV).
        lines = data.split(b"\n")
        changed = [lines[10] + b"?ref=changed", lines[20] + b"?ref=changed"]
        later = b"\n".join(lines[:10] + [changed[0]] + lines[11:20] + [changed[1]] + lines[21:30] + lines[33:])
        counts = self.load(later, doc, "s1b-b", extra=("--feed", "seed"))["counts"]
        self.assertEqual((counts["items_written"], counts["absent_deleted"]), (2, 3), counts)
        self.assertEqual(counts["unchanged"], counts["rows"] - 2, counts)
        assert_reconciles(self, counts)
        self.assertEqual(len(scan(self.ddb, table)), counts["rows"])

    # 2 -----------------------------------------------------------------------------------------------------------
    def test_2_a_truncated_file_fails_before_anything_is_written(self):
        table = "s2-products"
        create_table(self.ddb, table)
        doc = document("s2", "s2/", table)
        full = {"Q%04d" % n: "t %d" % n for n in range(500)}
        self.load(snapshot_csv(full), doc, "s2-a", extra=("--feed", "s2"))
        truncated = {k: "changed" for k in list(sorted(full))[:100]}
        proc = subprocess.run([TARIUS, "load", self.write("s2-b.csv", snapshot_csv(truncated)), "--feeds",
                               self.write("feeds-s2.yaml", doc.encode()), "--feed", "s2", "--json"],
                              env=self.env, capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("400 of the feed's 500 items are absent", proc.stderr.decode() + proc.stdout.decode())
        self.assertIn("max_delete_fraction", proc.stderr.decode() + proc.stdout.decode())
        self.assert_table_is(table, full)  # nothing written, nothing deleted

    # 3 -----------------------------------------------------------------------------------------------------------
    def test_3_after_an_unfinished_load_every_row_is_written_and_its_keys_are_deleted(self):
        table = "s3-products"
        create_table(self.ddb, table)
        doc = document("s3", "s3/", table, "    snapshot: {max_delete_fraction: 1}\n")
        base = {"B%05d" % n: "t %d" % n for n in range(3000)}
        self.load(snapshot_csv(base), doc, "s3-a", extra=("--feed", "s3"))
        # The unfinished load: half the keys changed, 1,000 new keys; killed while it writes.
        unfinished = {k: ("u" if n % 2 else v) for n, (k, v) in enumerate(sorted(base.items()))}
        unfinished.update({"U%05d" % n: "new" for n in range(1000)})
        proc = subprocess.Popen([TARIUS, "load", self.write("s3-b.csv", snapshot_csv(unfinished)), "--feeds",
                                 self.write("feeds-s3.yaml", doc.encode()), "--feed", "s3", "--json",
                                 "--concurrency", "1", "--max-wcu", "400"], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(scan(self.ddb, table)) == len(base):
            time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        self.assertGreater(len(scan(self.ddb, table)), len(base), "the killed load wrote nothing")
        # The next file: the base's keys back to their base titles except 100, none of the unfinished load's.
        final = dict(base)
        for n in range(100):
            final["B%05d" % n] = "final"
        report = self.load(snapshot_csv(final), doc, "s3-c", extra=("--feed", "s3"))
        counts = report["counts"]
        self.assertIn("every_row_written_because", report["snapshot"])
        self.assertEqual(counts["items_written"], len(final), counts)
        self.assertEqual(counts["absent_deleted"], 1000, counts)  # the unfinished load's new keys
        assert_reconciles(self, counts)
        self.assert_table_is(table, final)
        # Then the feed is trusted again: the same file writes nothing.
        counts = self.load(snapshot_csv(final), doc, "s3-d", extra=("--feed", "s3"))["counts"]
        self.assertEqual((counts["items_written"], counts["unchanged"]), (0, len(final)), counts)
        # Of the four loads' digests (one of them never committed), only the base is kept.
        area = os.path.join(self.env["TARIUS_SNAPSHOT_DIR"], "s3")
        with open(os.path.join(area, "state.json")) as f:
            state = json.load(f)
        self.assertEqual(sorted(os.listdir(area)), sorted(["state.json", state["base"]["digest"]]))

    # 4 -----------------------------------------------------------------------------------------------------------
    def test_4_an_s3_snapshot_killed_and_resumed_deletes_each_absent_key_once(self):
        table = "s4-products"
        create_table(self.ddb, table)
        doc = document("s4", "s4/", table, "    snapshot: {max_delete_fraction: 0.5}\n")
        self.s3.put_object(Bucket=BUCKET, Key="config/s4.yaml", Body=doc.encode())
        command = lambda key: [TARIUS, "load", "s3://%s/%s" % (BUCKET, key), "--feeds",  # noqa: E731
                               "s3://%s/config/s4.yaml" % BUCKET, "--ledger-table", "ledger", "--json"]
        env = dict(self.env, TARIUS_LEASE_SECONDS="3", TARIUS_HEARTBEAT_SECONDS="1")
        base = {"K%05d" % n: "t %d" % n for n in range(6000)}
        self.s3.put_object(Bucket=BUCKET, Key="s4/a.csv", Body=snapshot_csv(base))
        first = subprocess.run(command("s4/a.csv"), env=env, capture_output=True, timeout=600)
        self.assertEqual(first.returncode, 0, first.stderr.decode()[-2000:])
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix="snapshots/s4/").get("Contents", [])
        self.assertIn("snapshots/s4/state.json", [o["Key"] for o in listed])

        second = {k: ("c" if n % 3 == 0 else v) for n, (k, v) in enumerate(sorted(base.items())) if n % 5}
        self.s3.put_object(Bucket=BUCKET, Key="s4/b.csv", Body=snapshot_csv(second))
        source = "s3://%s/s4/b.csv" % BUCKET
        feed_support.signal_after_checkpoint(self, self.local, source,
                                             command("s4/b.csv") + ["--concurrency", "1", "--max-wcu", "300"], env)
        record = local_loader.ledger_load_record(self.local, source)
        time.sleep(4)
        final = subprocess.run(command("s4/b.csv"), env=env, capture_output=True, timeout=900)
        self.assertEqual(final.returncode, 0, final.stderr.decode()[-2000:])
        report = json.loads(final.stdout)
        self.assertEqual(report["load_id"], record["load_id"]["S"], "the rerun resumed the same load")
        counts = report["counts"]
        changed = sum(1 for k, v in second.items() if base[k] != v)
        self.assertEqual((counts["items_written"], counts["absent_deleted"], counts["unchanged"]),
                         (changed, len(base) - len(second), len(second) - changed), counts)
        assert_reconciles(self, counts)
        self.assert_table_is(table, second)
        # The first load's digest went when the second committed: the state and its base remain.
        state = json.loads(self.s3.get_object(Bucket=BUCKET, Key="snapshots/s4/state.json")["Body"].read())
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix="snapshots/s4/").get("Contents", [])
        self.assertEqual(sorted(o["Key"] for o in listed),
                         sorted(["snapshots/s4/state.json", "snapshots/s4/" + state["base"]["digest"]]))

    # 4b ----------------------------------------------------------------------------------------------------------
    def test_4b_a_failed_snapshot_releases_the_feed_for_the_next_file(self):
        """A file the guard refuses ends for good: the feed's lock is released, and the corrected file loads at
        once (not after the lock's lease)."""
        table = "s4b-products"
        create_table(self.ddb, table)
        doc = document("s4b", "s4b/", table)
        self.s3.put_object(Bucket=BUCKET, Key="config/s4b.yaml", Body=doc.encode())

        def load(key, body):
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            proc = subprocess.run([TARIUS, "load", "s3://%s/%s" % (BUCKET, key), "--feeds",
                                   "s3://%s/config/s4b.yaml" % BUCKET, "--ledger-table", "ledger", "--json"],
                                  env=self.env, capture_output=True, timeout=120)
            return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}

        full = {"L%02d" % n: "t" for n in range(20)}
        self.assertEqual(load("s4b/a.csv", snapshot_csv(full))[0], 0)
        code, report = load("s4b/b.csv", snapshot_csv({"L01": "t"}))
        self.assertEqual((code, report["status"]), (2, "failed"), report)
        self.assertIn("max_delete_fraction", report["error"])
        full["L99"] = "new"
        code, report = load("s4b/c.csv", snapshot_csv(full))
        self.assertEqual((code, report["status"]), (0, "succeeded"), report)
        self.assertEqual(report["counts"]["items_written"], 1, report["counts"])
        self.assert_table_is(table, full)

    def test_4c_rejected_rows_keep_their_items_unreadable_rows_refuse_the_file(self):
        """A row the mapping rejects keeps its item, whatever the order of the key columns in the header; a row the
        CSV reader cannot read names no key, so the file is refused before anything is written or deleted."""
        name = "s4c-stock"
        self.ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                         {"AttributeName": "sk", "KeyType": "RANGE"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                    {"AttributeName": "sk", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        self.ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
        doc = document("s4c", "s4c/", name, "    mapping: {partition_key: pk:S, sort_key: sk:S, "
                                             "columns: {qty: {type: number}}}\n")
        rows = ["w%d,P%02d,%d" % (n % 2, n, n) for n in range(20)]  # the sort key first in the header
        first = ("sk,pk,qty\n" + "".join(r + "\n" for r in rows)).encode()
        self.load(first, doc, "s4c-a", extra=("--feed", "s4c"))
        bad = list(rows)
        bad[5] = "w1,P05,not a number"
        report = self.load(("sk,pk,qty\n" + "".join(r + "\n" for r in bad)).encode(), doc, "s4c-b", expect=1,
                           extra=("--feed", "s4c"))
        counts = report["counts"]
        self.assertEqual((counts["rejected"], counts["absent_deleted"], counts["items_written"]), (1, 0, 0), counts)
        items = self.ddb.scan(TableName=name)["Items"]
        self.assertEqual(len(items), 20)
        self.assertIn({"pk": {"S": "P05"}, "sk": {"S": "w1"}, "qty": {"N": "5"}}, items)
        # Bytes that are not UTF-8 in one row: refused whole, nothing written or deleted.
        unreadable = first.replace(b"w1,P07,7", b"w1,P07,\xe97")
        proc = subprocess.run([TARIUS, "load", self.write("s4c-c.csv", unreadable), "--feeds",
                               self.write("feeds-s4c.yaml", doc.encode()), "--feed", "s4c", "--json"],
                              env=self.env, capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 2, proc.stdout)
        self.assertIn("cannot be read (line 9", json.loads(proc.stdout)["error"])
        self.assertEqual(len(self.ddb.scan(TableName=name)["Items"]), 20)

    # 5 -----------------------------------------------------------------------------------------------------------
    def test_5_a_snapshot_feed_must_own_its_table(self):
        doc = (document("a", "s5a/", "shared") + "  b:\n    match: {prefix: s5b/}\n    table: shared\n")
        proc = subprocess.run([TARIUS, "load", self.write("s5.csv", b"ID,Title\nA,x\n"), "--feeds",
                               self.write("feeds-s5.yaml", doc.encode()), "--feed", "a"],
                              env=self.env, capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 2, proc.stdout.decode())
        self.assertIn("must own its table", proc.stderr.decode())


if __name__ == "__main__":
    unittest.main()
