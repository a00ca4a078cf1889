# ctest-label: e2e
"""The sync modes insert, newer and merge against dynalite (a DynamoDB emulator that implements PutItem and
UpdateItem with condition expressions), with boto3 as the oracle for what landed and Python's csv module for what
the files hold. Each test compares the table and the counts with a model of applying the rows one by one in file
order (model_insert, model_newer, model_merge below), which is what the modes promise:
1. insert: new keys written, keys already in the table and later rows of a key counted skipped_existing; loading
   the same file again skips every row; the seed sample loaded twice. The seed sample through merge (an attribute
   another system wrote is kept) and newer (loaded twice: the second time every row is stale).
2. newer (number and timestamp versions): only rows whose version is above the stored one are written; two files
   delivered out of order leave the newer versions; rows of one key out of order in one file; empty, unreadable
   and offset-less timestamps rejected as invalid_version with their line.
3. merge: attributes the file does not carry are kept; `empty: remove` removes an attribute; `omit` leaves it;
   several rows of one key apply in file order.
4. SIGKILL (insert, merge) or SIGTERM (newer) mid-load, then resume (--ledger-table): exact table, exact counts;
   newer after SIGKILL: exact table, and the rows whose fate the dead run took with it counted resent_uncertain.
5. Bad documents: row_marker outside insert/newer, empty: remove outside merge, a version rule of another type.

TARIUS_BIN is the directory of the binaries (as ctest sets it).
"""
import csv
import decimal
import io
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
from feed_support import assert_reconciles, create_table, csv_rows, scan  # noqa: E402
import tarius_stack  # noqa: E402

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")
BUCKET = local_loader.BUCKET
SEED = os.path.join(tarius_stack.source_dir(), "..", "shared", "seed-data", "products.csv")
MARKER = "tarius_row"


def strings(row, skip=()):
    """The attributes a row writes when every column is a string: non-empty cells, trimmed."""
    return {c: {"S": v.strip()} for c, v in row.items() if c not in skip and v is not None and v.strip()}


def trimmed(item, skip=()):
    """A stored item of string attributes, trimmed, without the attributes in `skip`."""
    return {a: {"S": v["S"].strip()} for a, v in item.items() if a not in skip}


def model_insert(table, rows, key="ID"):
    """Applies insert rows one by one: (written, skipped_existing)."""
    written = skipped = 0
    for row in rows:
        k = row[key].strip()
        if k in table:
            skipped += 1
        else:
            table[k] = strings(row)
            written += 1
    return written, skipped


def version_value(cell, kind):
    if kind == "number":
        return decimal.Decimal(cell)
    # ISO-8601 with an offset: the instant (Python's own parser, not the project's).
    from datetime import datetime, timezone
    text = cell.strip().replace("Z", "+00:00").replace("z", "+00:00")
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def model_newer(table, versions, rows, column, kind, key="ID"):
    """Applies newer rows one by one: a row is written when the stored version is absent or lower.
    Returns (written, skipped_stale)."""
    written = stale = 0
    for row in rows:
        k = row[key].strip()
        v = version_value(row[column], kind)
        if k in versions and not versions[k] < v:
            stale += 1
            continue
        versions[k] = v
        table[k] = row
        written += 1
    return written, stale


def without_marker(item):
    return {k: v for k, v in item.items() if k != MARKER}


def feed_document(name, prefix, table, mode, extra=""):
    return ("feeds:\n"
            "  %s:\n"
            "    match: {prefix: %s}\n"
            "    table: %s\n"
            "    mode: %s\n" % (name, prefix, table, mode)) + extra


class sync_modes(feed_support.stack_case):
    def load(self, path, document, feed, *args, expect=0):
        doc = self.write(feed + "-feeds.yaml", document.encode())
        proc = subprocess.run([TARIUS, "load", path, "--feeds", doc, "--feed", feed, "--json", *args],
                              env=self.env, capture_output=True, timeout=600)
        self.assertEqual(proc.returncode, expect, proc.stderr.decode()[-3000:])
        if expect == 2 and not proc.stdout.strip():
            return None
        report = json.loads(proc.stdout)
        assert_reconciles(self, report["counts"])
        return report

    # 1 -----------------------------------------------------------------------------------------------------------
    def test_1_insert_writes_absent_keys_only(self):
        table = "m1-insert"
        create_table(self.ddb, table)
        # Already in the table: I1 and I3 (another system wrote them; insert must not touch them).
        self.ddb.put_item(TableName=table, Item={"ID": {"S": "I1"}, "Title": {"S": "theirs"}, "Extra": {"S": "x"}})
        self.ddb.put_item(TableName=table, Item={"ID": {"S": "I3"}, "Title": {"S": "theirs 3"}})
        lines = ["I1,mine 1", "I2,mine 2", "I3,mine 3", "I2,second I2", "I4,mine 4"]
        rng = random.Random(11)
        for n in range(300):  # more rows than one batch, keys repeating across and within batches
            lines.append("R%03d,r %d" % (rng.randrange(120), n))
        data = ("ID,Title\n" + "".join(l + "\n" for l in lines)).encode()
        expected = {k: without_marker(v) for k, v in scan(self.ddb, table).items()}
        written, skipped = model_insert(expected, csv_rows(data))
        document = feed_document("ins", "m1/", table, "insert")

        report = self.load(self.write("m1.csv", data), document, "ins")
        counts = report["counts"]
        self.assertEqual((counts["items_written"], counts["skipped_existing"], counts["duplicates_collapsed"]),
                         (written, skipped, 0), counts)
        self.assertEqual(report["status"], "succeeded")
        got = scan(self.ddb, table)
        self.assertEqual({k: without_marker(v) for k, v in got.items()}, expected)
        self.assertNotIn(MARKER, got["I1"], "an existing item was rewritten")
        self.assertTrue(got["I2"][MARKER]["S"].endswith(":3"), got["I2"])  # the row marker: load id and line

        # The same file again: every row is skipped, nothing changes.
        report = self.load(self.write("m1.csv", data), document, "ins")
        counts = report["counts"]
        self.assertEqual((counts["items_written"], counts["skipped_existing"]), (0, len(lines)), counts)
        self.assertEqual(scan(self.ddb, table), got)

    def test_1b_insert_seed_sample_twice(self):
        table = "m1b-products"
        self.ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "ID", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "ID", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        self.ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2})
        with open(SEED, "rb") as f:
            head = f.read()  # the original feed, 1,000 rows
        rows = csv_rows(head)
        key_column = "ID"
        document = feed_document("seed", "m1b/", table, "insert")
        distinct = len({r[key_column].strip() for r in rows})
        first = self.load(self.write("seed.csv", head), document, "seed")["counts"]
        self.assertEqual((first["items_written"], first["skipped_existing"]), (distinct, len(rows) - distinct))
        self.assertEqual(len(scan(self.ddb, table, key_column)), distinct)
        second = self.load(self.write("seed.csv", head), document, "seed")["counts"]
        self.assertEqual((second["items_written"], second["skipped_existing"]), (0, len(rows)))

    def test_1c_the_seed_sample_in_merge_and_newer(self):
        with open(SEED, "rb") as f:
            data = f.read()
        rows = csv_rows(data)
        # merge: an item another system wrote keeps the attribute the file does not carry.
        table = "m1c-merge"
        create_table(self.ddb, table)
        first = rows[0]["ID"]
        self.ddb.put_item(TableName=table, Item={"ID": {"S": first}, "Owner": {"S": "theirs"}})
        counts = self.load(self.write("m1c.csv", data), feed_document("mg", "m1c/", table, "merge"), "mg")["counts"]
        self.assertEqual((counts["items_written"], counts["rejected"]), (len(rows), 0), counts)
        got = scan(self.ddb, table)
        self.assertEqual(got[first]["Owner"], {"S": "theirs"})
        # Quoted cells keep their spaces ("$1,485.00 "), which Python's csv module does not tell apart: compare
        # trimmed.
        self.assertEqual({k: trimmed(item, skip=("Owner",)) for k, item in got.items()},
                         {r["ID"]: strings(r) for r in rows})
        # newer: the seed with a version column; the same file again is stale row for row (equal versions).
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        header = list(rows[0].keys())
        writer.writerow(header + ["v"])
        for index, row in enumerate(rows):
            writer.writerow([row[h] for h in header] + [index + 1])
        versioned = out.getvalue().encode()
        table = "m1c-newer"
        create_table(self.ddb, table)
        document = feed_document("nw1c", "m1c-n/", table, "newer", "    version: {column: v, type: number}\n")
        counts = self.load(self.write("m1c-n.csv", versioned), document, "nw1c")["counts"]
        self.assertEqual((counts["items_written"], counts["skipped_stale"]), (len(rows), 0), counts)
        counts = self.load(self.write("m1c-n.csv", versioned), document, "nw1c")["counts"]
        self.assertEqual((counts["items_written"], counts["skipped_stale"]), (0, len(rows)), counts)
        got = scan(self.ddb, table)
        self.assertEqual({k: trimmed(without_marker(item), skip=("v",)) for k, item in got.items()},
                         {r["ID"]: strings(r) for r in rows})

    # 2 -----------------------------------------------------------------------------------------------------------
    def newer_case(self, table, kind, files, column="updated_at", expect_rejects=()):
        create_table(self.ddb, table)
        document = feed_document("nw", table + "/", table, "newer",
                                 "    version: {column: %s, type: %s}\n" % (column, kind))
        table_model, versions = {}, {}
        for index, data in enumerate(files):
            rows = csv_rows(data)
            good = [r for i, r in enumerate(rows) if i not in expect_rejects]
            written, stale = model_newer(table_model, versions, good, column, kind)
            report = self.load(self.write("%s-%d.csv" % (table, index), data), document, "nw",
                               expect=1 if expect_rejects else 0)
            counts = report["counts"]
            self.assertEqual((counts["items_written"], counts["skipped_stale"], counts["duplicates_collapsed"]),
                             (written, stale, 0), (index, counts))
        got = scan(self.ddb, table)
        self.assertEqual(sorted(got), sorted(table_model))
        for key, row in table_model.items():
            item = without_marker(got[key])
            stored = item.pop(column)
            if kind == "number":
                self.assertEqual(decimal.Decimal(stored["N"]), version_value(row[column], kind), key)
            else:
                self.assertEqual(version_value(stored["S"], kind), version_value(row[column], kind), key)
                self.assertEqual(len(stored["S"]), 30, stored)  # canonical: fixed width, UTC
            self.assertEqual(item, strings(row, skip=(column,)), key)
        return report

    def test_2_newer_numbers_out_of_order_files(self):
        rng = random.Random(22)
        def file_of(low, high, seed):
            r = random.Random(seed)
            lines = ["N%02d,v%d,%d" % (r.randrange(60), n, r.randrange(low, high)) for n in range(200)]
            return ("ID,Title,updated_at\n" + "".join(l + "\n" for l in lines)).encode()
        newer, older = file_of(100, 200, 1), file_of(0, 150, 2)
        # The newer file arrives first; the older one's rows are mostly stale. Equal versions are not written.
        self.newer_case("m2-numbers", "number", [newer, older])
        del rng

    def test_2b_newer_timestamps_with_offsets_and_bad_cells(self):
        data = ("ID,Title,updated_at\n"
                "T1,first,2026-12-06T10:00:00Z\n"
                "T1,older by offset,2026-12-06T11:30:00+02:00\n"   # 09:30Z: stale
                "T1,newer by offset,2026-12-06T05:30:00-05:00\n"   # 10:30Z: written
                "T2,date only,2026-12-05\n"
                "T2,same instant,2026-12-05T00:00:00.000Z\n"       # equal: stale
                "T3,fraction,2026-12-06T10:00:00.5Z\n"
                "T3,longer fraction,2026-12-06T10:00:00.123456789Z\n"  # earlier than .5: stale
                "T4,no offset,2026-12-06T10:00:00\n"               # rejected: ambiguous
                "T5,bad month,2026-13-01T00:00:00Z\n"              # rejected
                "T6,empty,\n").encode()                            # rejected
        report = self.newer_case("m2b-times", "timestamp", [data], expect_rejects=(7, 8, 9))
        self.assertEqual(report["counts"]["rejected_by_reason"], {"invalid_version": 3})
        lines = sorted(e["line"] for e in report.get("first_errors", []))
        self.assertEqual(lines, [9, 10, 11])

    # 3 -----------------------------------------------------------------------------------------------------------
    def test_3_merge_keeps_what_the_file_does_not_carry(self):
        table = "m3-merge"
        create_table(self.ddb, table)
        self.ddb.put_item(TableName=table, Item={"ID": {"S": "M1"}, "Title": {"S": "old"}, "Stock": {"N": "4"},
                                                 "Color": {"S": "red"}, "Notes": {"S": "keep me"}})
        self.ddb.put_item(TableName=table, Item={"ID": {"S": "M2"}, "Color": {"S": "blue"}, "Notes": {"S": "n"}})
        document = feed_document("mg", "m3/", table, "merge",
                                 "    mapping:\n"
                                 "      partition_key: ID:S\n"
                                 "      columns: {Price: {type: number}, Color: {empty: remove}}\n")
        data = ("ID,Title,Price,Color\n"
                "M1,new,12.50,\n"        # Title set, Price set, Color removed; Stock and Notes kept
                "M2,,3,green\n"          # Title empty (omit): not touched; Color set
                "M3,fresh,1,\n"          # absent key: created (Color absent, nothing to remove)
                "M2,again,4,\n").encode()  # second row of M2, in order: Color removed, Price 4
        report = self.load(self.write("m3.csv", data), document, "mg")
        counts = report["counts"]
        self.assertEqual((counts["items_written"], counts["duplicates_collapsed"], counts["rejected"]), (4, 0, 0))
        got = scan(self.ddb, table)
        self.assertEqual(got["M1"], {"ID": {"S": "M1"}, "Title": {"S": "new"}, "Price": {"N": "12.5"},
                                     "Stock": {"N": "4"}, "Notes": {"S": "keep me"}})
        self.assertEqual(got["M2"], {"ID": {"S": "M2"}, "Title": {"S": "again"}, "Price": {"N": "4"},
                                     "Notes": {"S": "n"}})
        self.assertEqual(got["M3"], {"ID": {"S": "M3"}, "Title": {"S": "fresh"}, "Price": {"N": "1"}})

    # 4 -----------------------------------------------------------------------------------------------------------
    def killed_and_resumed(self, table, mode, data, extra, check, sig=signal.SIGKILL):
        create_table(self.ddb, table)
        prefix = table + "/"
        document = feed_document("big", prefix, table, mode, extra)
        self.s3.put_object(Bucket=BUCKET, Key="config/%s.yaml" % table, Body=document.encode())
        key = prefix + "big.csv"
        source = "s3://%s/%s" % (BUCKET, key)
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        command = [TARIUS, "load", source, "--feeds", "s3://%s/config/%s.yaml" % (BUCKET, table), "--ledger-table",
                   "ledger", "--json", "--concurrency", "2", "--max-wcu", "800"]
        env = dict(self.env, TARIUS_LEASE_SECONDS="3", TARIUS_HEARTBEAT_SECONDS="1")
        feed_support.signal_after_checkpoint(self, self.local, source, command, env, sig)
        record = local_loader.ledger_load_record(self.local, source)
        self.assertEqual(record["load_status"]["S"], "in_progress")
        self.assertGreater(int(record["checkpoint_offset"]["N"]), 0)
        time.sleep(4)  # the killed run's lease expires
        final = subprocess.run(command, env=env, capture_output=True, timeout=900)
        self.assertEqual(final.returncode, 0, final.stderr.decode()[-2000:])
        report = json.loads(final.stdout)
        self.assertEqual(report["load_id"], record["load_id"]["S"], "the rerun resumed the same load")
        assert_reconciles(self, report["counts"])
        check(report["counts"], scan(self.ddb, table))

    def test_4_insert_killed_mid_load_resumes_exactly(self):
        rng = random.Random(44)
        table = "m4-insert"
        lines = ["K%05d,t%d" % (rng.randrange(9000), n) for n in range(12000)]
        data = ("ID,Title\n" + "".join(l + "\n" for l in lines)).encode()
        expected = {}
        written, skipped = model_insert(expected, csv_rows(data))

        def check(counts, got):
            self.assertEqual((counts["items_written"], counts["skipped_existing"]), (written, skipped), counts)
            self.assertEqual({k: without_marker(v) for k, v in got.items()}, expected)
            # Every false condition is charged (1 unit for these rows), in whichever run it happened.
            self.assertGreaterEqual(counts["wcu_estimated"], skipped, counts)

        self.killed_and_resumed(table, "insert", data, "", check)

    def newer_stopped_and_resumed(self, table, sig, check_counts):
        rng = random.Random(45)
        lines = ["K%04d,t%d,%d" % (rng.randrange(3000), n, rng.randrange(1000)) for n in range(12000)]
        data = ("ID,Title,v\n" + "".join(l + "\n" for l in lines)).encode()
        model, versions = {}, {}
        written, stale = model_newer(model, versions, csv_rows(data), "v", "number")

        def check(counts, got):
            check_counts(counts, written, stale)
            self.assertEqual(sorted(got), sorted(model))
            for key, row in model.items():
                self.assertEqual(got[key]["Title"]["S"], row["Title"], key)

        self.killed_and_resumed(table, "newer", data, "    version: {column: v, type: number}\n", check, sig=sig)

    def test_4b_newer_stopped_mid_load_resumes_exactly(self):
        # SIGTERM: the load stops with its checkpoint saved, as a function at its deadline does: exact counts.
        def exact(counts, written, stale):
            self.assertEqual((counts["items_written"], counts["skipped_stale"], counts["resent_uncertain"]),
                             (written, stale, 0), counts)

        self.newer_stopped_and_resumed("m4b-newer", signal.SIGTERM, exact)

    def test_4d_newer_killed_mid_load_counts_what_it_cannot_know_apart(self):
        # SIGKILL: a row the dead run wrote after its last saved checkpoint, and a later row of its key then wrote
        # over, fails its condition when sent again, like a stale row: counted resent_uncertain, never guessed (the
        # dead run sent nothing beyond the checkpoint's uncertain_through). So neither count exceeds the truth.
        def bounded(counts, written, stale):
            uncertain = counts["resent_uncertain"]
            self.assertLessEqual(counts["items_written"], written, counts)
            self.assertLessEqual(counts["skipped_stale"], stale, counts)
            self.assertEqual(counts["items_written"] + counts["skipped_stale"] + uncertain, written + stale, counts)

        self.newer_stopped_and_resumed("m4d-newer", signal.SIGKILL, bounded)

    def test_4c_merge_killed_mid_load_resumes_exactly(self):
        rng = random.Random(46)
        table = "m4c-merge"
        lines = ["K%04d,t%d" % (rng.randrange(4000), n) for n in range(12000)]
        data = ("ID,Title\n" + "".join(l + "\n" for l in lines)).encode()
        last = {}
        for row in csv_rows(data):
            last[row["ID"]] = row["Title"]

        def check(counts, got):
            self.assertEqual(counts["items_written"], len(lines), counts)
            self.assertEqual({k: v["Title"]["S"] for k, v in got.items()}, last)

        self.killed_and_resumed(table, "merge", data, "", check)

    # 5 -----------------------------------------------------------------------------------------------------------
    def test_5_bad_documents_are_refused_before_anything_is_written(self):
        table = "m5-bad"
        create_table(self.ddb, table)
        data = self.write("m5.csv", b"ID,Title,v\nB1,x,1\n")
        cases = [
            (feed_document("f", "m5/", table, "put", "    row_marker: false\n"), "row_marker"),
            (feed_document("f", "m5/", table, "insert",
                           "    mapping: {partition_key: ID:S, columns: {Title: {empty: remove}}}\n"), "remove"),
            (feed_document("f", "m5/", table, "newer", "    version: {column: v, type: timestamp}\n"
                           "    mapping: {partition_key: ID:S, columns: {v: {type: number}}}\n"), "version"),
            (feed_document("f", "m5/", table, "newer", ""), "version"),
        ]
        for document, word in cases:
            doc = self.write("m5-feeds.yaml", document.encode())
            proc = subprocess.run([TARIUS, "load", data, "--feeds", doc, "--feed", "f", "--json"], env=self.env,
                                  capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 2, document)
            self.assertIn(word, proc.stderr.decode(), document)
        # Without a feed a load is a put: --empty remove is refused the same way.
        proc = subprocess.run([TARIUS, "load", data, "--table", table, "--key", "ID", "--empty", "remove"],
                              env=self.env, capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("only merge feeds remove attributes", proc.stderr.decode())
        # A column named like the row marker: the file is refused at its header, not each row by DynamoDB.
        marked = self.write("m5-marker.csv", b"ID,tarius_row\nB1,x\nB2,y\n")
        doc = self.write("m5-feeds.yaml", feed_document("f", "m5/", table, "insert").encode())
        proc = subprocess.run([TARIUS, "load", marked, "--feeds", doc, "--feed", "f", "--json"], env=self.env,
                              capture_output=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("column tarius_row maps to attribute tarius_row", proc.stderr.decode() + proc.stdout.decode())
        self.assertEqual(scan(self.ddb, table), {})


if __name__ == "__main__":
    unittest.main()
