# ctest-label: e2e
"""Feeds end to end on the local stack (moto: S3, SQS, SNS; dynalite: DynamoDB), with boto3 as the oracle for what
landed and Python's csv module for what the files hold:
1. `tarius load FILE --feeds DOC --feed NAME` and `tarius load s3://... --feeds s3://DOC` (feed found by its match)
   with two feeds and two tables: each table holds exactly its file's rows; the report names the feed.
2. A delete feed: puts and deletes of the same keys in file order (across batches and collapsed inside one), deletes
   of absent keys and of keys an earlier file loaded, invalid operations and a delete row without its key rejected
   with their line: the table equals applying the rows one by one; the counts reconcile.
3. A 30,000-row delete feed load SIGKILLed after a checkpoint and run again (--ledger-table): the same load resumes;
   exact table, exact counts, nothing counted twice.
4. `tarius worker` and `bootstrap` (fake Runtime API) with TARIUS_FEEDS and two feeds: each object lands in its
   feed's table, an object matching no feed is ignored and logged (with its ObjectsUnmatched EMF line), the ledger
   and the SNS message attribute `feed` name the feed.
5. Bad documents (unknown field, overlapping feeds, newer without version, an option its mode does not take): exit 2
   with an error naming the field; nothing written.

TARIUS_BIN is the directory of the binaries (as ctest sets it); a path to the tarius binary itself is accepted too.
"""
import collections
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
import urllib.request

if os.path.isfile(os.environ.get("TARIUS_BIN", "")):  # TARIUS_BIN=/path/to/tarius: its directory holds the rest
    os.environ["TARIUS_BIN"] = os.path.dirname(os.path.abspath(os.environ["TARIUS_BIN"]))

sys.path.insert(0, os.path.dirname(__file__))
import fake_runtime  # noqa: E402
import feed_support  # noqa: E402
import lambda_support  # noqa: E402
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402
from feed_support import assert_reconciles, create_table, scan  # noqa: E402

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")
BUCKET = local_loader.BUCKET
BATCH = 25  # BatchWriteItem's limit: the unit inside which a later row with the same key replaces an earlier one


# --- Oracles: what the files hold (csv module) and what the table must hold after applying them in order. ---

def csv_rows(data):
    """(header, [row dict]) of CSV bytes, read with Python's csv module."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    return reader.fieldnames, list(reader)


def item_of(row, skip=()):
    """The DynamoDB item a put of `row` writes with string attributes: every non-empty cell, unquoted cells
    trimmed (the test files quote only cells without surrounding spaces, so strip() is exact)."""
    return {column: {"S": value.strip()} for column, value in row.items()
            if column not in skip and value is not None and value.strip()}


class op_feed:
    """A delete feed's rules: the operation column and its delete and put values."""

    def __init__(self, column="op", delete=("D",), put=("U", "I")):
        self.column, self.delete, self.put = column, set(delete), set(put)

    def kind(self, row):
        """'delete', 'put', or the rejection reason of `row`."""
        if not row.get("ID", "").strip():
            return "empty_key"
        cell = (row.get(self.column) or "").strip()
        if cell in self.delete:
            return "delete"
        if cell in self.put:
            return "put"
        return "invalid_operation"


def apply_in_order(table, rows, feed, skip=()):
    """Applies `rows` one by one in file order to `table` ({ID: item}); returns [(row index, reason)] rejected.
    Rows whose index is in `skip` (refused by DynamoDB) are left out."""
    rejected = []
    for index, row in enumerate(rows):
        if index in skip:
            continue
        kind = feed.kind(row)
        if kind == "delete":
            table.pop(row["ID"].strip(), None)
        elif kind == "put":
            table[row["ID"].strip()] = item_of(row, skip=(feed.column,))
        else:
            rejected.append((index, kind))
    return rejected


def batch_outcome(rows, feed, refused=lambda row, kind: False):
    """What the writer does with the accepted rows: batches of 25 distinct keys, a later row with the same key
    replacing an earlier one of the open batch. A row DynamoDB refuses (`refused(row, kind)`) is rejected alone,
    and the row it replaced, if any, is written instead. Returns (items_written, deleted, duplicates_collapsed,
    [indices of refused rows])."""
    written = deleted = collapsed = 0
    refused_rows = []
    batch = {}  # key -> [(row index, kind)], the rows of the key in the open batch, in file order

    def flush():
        nonlocal written, deleted, collapsed
        for chain in batch.values():
            index, kind = chain[-1]
            if refused(rows[index], kind):
                refused_rows.append(index)
                chain = chain[:-1]
                if not chain:
                    continue
                kind = chain[-1][1]
            written += kind == "put"
            deleted += kind == "delete"
            collapsed += len(chain) - 1
        batch.clear()

    for index, row in enumerate(rows):
        kind = feed.kind(row)
        if kind not in ("put", "delete"):
            continue
        key = row["ID"].strip()
        if key not in batch and len(batch) == BATCH:
            flush()
        batch.setdefault(key, []).append((index, kind))
    flush()
    return written, deleted, collapsed, sorted(refused_rows)


def batch_counts(rows, feed):
    """(items_written, deleted, duplicates_collapsed) of `rows` when DynamoDB refuses none."""
    return batch_outcome(rows, feed)[:3]


def delete_feed_csv(count, seed):
    """`count` rows of a delete feed over 8,000 keys: about 30 % deletes, 0.2 % invalid operations, puts."""
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        key = "K%05d" % rng.randrange(8000)
        roll = rng.random()
        if roll < 0.30:
            lines.append("%s,D,," % key)
        elif roll < 0.302:
            lines.append("%s,BAD,x,1" % key)
        else:
            lines.append("%s,%s,title %d,%d" % (key, rng.choice("UI"), index, index))
    return ("ID,op,Title,Price\n" + "".join(l + "\n" for l in lines)).encode()


# --- Reports. ---


def json_lines(text):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class feeds_e2e(feed_support.stack_case):
    def path(self, name):
        return os.path.join(self.tmp, name)

    def load(self, *args, env=None, timeout=600):
        return subprocess.run([TARIUS, "load", *args], env=env or self.env, capture_output=True, timeout=timeout)

    def report_of(self, proc):
        self.assertTrue(proc.stdout.strip(), "no report on stdout; exit %d, stderr %s" % (
            proc.returncode, proc.stderr.decode()[-2000:]))
        return json.loads(proc.stdout)

    def assert_table_equals_rows(self, table, rows, skip=()):
        """The table holds exactly one item per row, equal to the row (last row of a key wins)."""
        expected = {}
        for row in rows:
            expected[row["ID"].strip()] = item_of(row, skip)
        got = scan(self.ddb, table)
        self.assertEqual(sorted(got), sorted(expected))
        for key, item in expected.items():
            self.assertEqual(got[key], item, key)

    # 1 -----------------------------------------------------------------------------------------------------------
    def test_1_two_feeds_two_tables_local_file_and_s3_match(self):
        create_table(self.ddb, "t1-products")
        create_table(self.ddb, "t1-prices")
        document = ("feeds:\n"
                    "  products:\n"
                    "    match: {prefix: t1/products/}\n"
                    "    table: t1-products\n"
                    "    mapping: {partition_key: ID:S}\n"
                    "  prices:\n"
                    "    match: {prefix: t1/prices/, suffixes: [.csv]}\n"
                    "    table: t1-prices\n"
                    "    mapping: {partition_key: ID:S, columns: {Price: {type: number}}}\n")
        doc_path = self.write("t1-feeds.yaml", document.encode())
        self.s3.put_object(Bucket=BUCKET, Key="config/t1-feeds.yaml", Body=document.encode())
        products = (b'ID,Title,Brand\nP1,Lamp,Acme\nP2,"Chair, oak",Woodco\nP3,Desk,\nP2,"Chair, pine",Woodco\n'
                    b"P4,Shelf,Acme\n")
        prices = b"ID,Price,Currency\nP1,12.50,EUR\nP3,99,USD\nP5,1,EUR\n"

        proc = self.load(self.write("products.csv", products), "--feeds", doc_path, "--feed", "products", "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-2000:])
        report = self.report_of(proc)
        self.assertEqual((report["feed"], report["table"], report["status"]), ("products", "t1-products", "succeeded"))
        self.assertEqual(report["counts"]["rows"], 5)
        self.assertEqual(report["counts"]["rejected"], 0)
        assert_reconciles(self, report["counts"])
        self.assert_table_equals_rows("t1-products", csv_rows(products)[1])
        self.assertEqual(scan(self.ddb, "t1-prices"), {}, "the other feed's table was written")

        self.s3.put_object(Bucket=BUCKET, Key="t1/prices/2026-12-06.csv", Body=prices)
        proc = self.load("s3://%s/t1/prices/2026-12-06.csv" % BUCKET,
                         "--feeds", "s3://%s/config/t1-feeds.yaml" % BUCKET, "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-2000:])
        report = self.report_of(proc)
        self.assertEqual((report["feed"], report["table"], report["status"]), ("prices", "t1-prices", "succeeded"))
        self.assertEqual(report["source"], "s3://%s/t1/prices/2026-12-06.csv" % BUCKET)
        self.assertEqual((report["counts"]["rows"], report["counts"]["items_written"]), (3, 3))
        assert_reconciles(self, report["counts"])
        # The prices feed's own mapping types Price as a number (compared by value: DynamoDB normalises "12.50").
        price_rows = csv_rows(prices)[1]
        got = scan(self.ddb, "t1-prices")
        self.assertEqual(sorted(got), sorted(r["ID"] for r in price_rows))
        for row in price_rows:
            item = dict(got[row["ID"]])
            self.assertEqual(decimal.Decimal(item.pop("Price")["N"]), decimal.Decimal(row["Price"]), row)
            self.assertEqual(item, item_of(row, skip=("Price",)), row)
        self.assert_table_equals_rows("t1-products", csv_rows(products)[1])  # untouched

        # An s3:// source that matches no feed of the document is refused, naming it; nothing written.
        self.s3.put_object(Bucket=BUCKET, Key="t1/other/x.csv", Body=b"ID,V\nX1,a\n")
        proc = self.load("s3://%s/t1/other/x.csv" % BUCKET, "--feeds", doc_path, "--json")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("matches no feed", proc.stderr.decode())
        self.assertNotIn("X1", scan(self.ddb, "t1-products"))
        self.assertNotIn("X1", scan(self.ddb, "t1-prices"))

    # 2 -----------------------------------------------------------------------------------------------------------
    def delete_feed_document(self, table, prefix):
        return ("feeds:\n"
                "  events:\n"
                "    match: {prefix: %s}\n"
                "    table: %s\n"
                "    mode: delete\n"
                "    op: {column: op, delete: [D], put: [U, I]}\n" % (prefix, table))

    def test_2_delete_feed_applies_rows_in_file_order(self):
        table = "t2-events"
        create_table(self.ddb, table)
        doc_path = self.write("t2-feeds.yaml", self.delete_feed_document(table, "t2/").encode())
        feed = op_feed()
        header = "ID,op,Title,Price"

        # The earlier file: E1..E8 put.
        first = (header + "\n" + "".join("E%d,U,early %d,%d\n" % (i, i, i) for i in range(1, 9))).encode()
        proc = self.load(self.write("t2-first.csv", first), "--feeds", doc_path, "--feed", "events", "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-2000:])
        self.assertEqual(self.report_of(proc)["counts"]["items_written"], 8)

        lines = []
        # Batch 1: 25 distinct keys (+ rejected rows, which take no place in a batch).
        lines += ["A%02d,U,a %d,%d" % (i, i, i) for i in range(20)]
        lines += ["E1,D,,", "E2,D,ignored title,ignored",  # deletes of keys the earlier file loaded (cells unread)
                  "NOPE1,D,,",  # a delete of a key that does not exist
                  "A05,Z,bad op,1",  # invalid operation: rejected
                  "X,U,\"x, first\",1",
                  ",D,,",  # a delete without its key: rejected
                  "E3,D,,",  # a delete whose other cells are empty
                  "A06,,no op,1"]  # an empty operation cell: neither delete nor put
        # Batch 2: 25 distinct keys: X deleted after its put in batch 1, A00..A09 deleted, E1 put again.
        lines += ["X,D,,"] + ["A%02d,D,," % i for i in range(10)] + ["E1,I,E1 back,11"]
        lines += ["B%02d,U,b %d,%d" % (i, i, i) for i in range(13)]
        # Tail batch: the same keys again and again inside one batch.
        lines += ["X,U,x third,3",
                  "Y,U,y first,1", "Y,D,,", "Y,U,y again,2",
                  "Z,U,z first,1", "Z,I,z second,2",
                  "W,U,w,1", "W,D,,",
                  "A10,D,,", "A10,U,a10 back,10",
                  "NOPE2,D,,", "E4,D,,", "E5,delete,,", "B00,U,b0 last,100"]
        data = (header + "\n" + "".join(l + "\n" for l in lines)).encode()
        rows = csv_rows(data)[1]

        expected = {key: item_of(row, skip=("op",)) for key, row in
                    ((r["ID"], r) for r in csv_rows(first)[1])}
        rejected = apply_in_order(expected, rows, feed)
        self.assertEqual([reason for _, reason in rejected],
                         ["invalid_operation", "empty_key", "invalid_operation", "invalid_operation"])
        written, deleted, collapsed = batch_counts(rows, feed)

        rejects_path = self.path("t2-rejects.csv")
        proc = self.load(self.write("t2-second.csv", data), "--feeds", doc_path, "--feed", "events", "--json",
                         "--rejects", rejects_path)
        self.assertEqual(proc.returncode, 1, proc.stderr.decode()[-2000:])
        report = self.report_of(proc)
        self.assertEqual((report["feed"], report["status"]), ("events", "succeeded_with_rejects"))

        got = scan(self.ddb, table)
        self.assertEqual(sorted(got), sorted(expected))
        for key, item in expected.items():
            self.assertEqual(got[key], item, key)

        counts = report["counts"]
        self.assertEqual(counts["rows"], len(rows))
        self.assertEqual(counts["rejected"], len(rejected))
        self.assertEqual(counts["rejected_by_reason"], {"invalid_operation": 3, "empty_key": 1})
        self.assertEqual((counts["items_written"], counts["deleted"], counts["duplicates_collapsed"]),
                         (written, deleted, collapsed))
        assert_reconciles(self, counts)

        # The rejects CSV: the header and exactly the rejected rows, byte for byte; their reasons with their lines
        # (no row spans lines here: line = data row index + 2).
        with open(rejects_path, "rb") as f:
            rejects = f.read()
        self.assertEqual(rejects, (header + "\n" + "".join(lines[i] + "\n" for i, _ in rejected)).encode())
        with open(rejects_path + ".reasons.jsonl", encoding="utf-8") as f:
            reasons = [json.loads(l) for l in f if l.strip()]
        self.assertEqual([(r["line"], r["reason"]) for r in reasons], [(i + 2, reason) for i, reason in rejected])
        bad = [r for r in reasons if r["reason"] == "invalid_operation"][0]
        self.assertIn("op", bad["message"])
        self.assertIn('"Z"', bad["message"])
        self.assertEqual(bad["byte_offset"], data.index(b"\nA05,Z,") + 1)

    def test_2b_delete_feed_through_faults_and_refusals(self):
        """The same file-order promise when DynamoDB answers with UnprocessedItems, throttles, 500s and delays
        (ddb_fault_proxy in front of dynalite, 8 requests in flight), and refuses (ValidationException) any request
        holding the marker POISON: a refused put or delete is rejected alone (refused_by_dynamodb), the row it
        replaced in its batch is written instead, and a delete row's other cells are never sent, so a marker there
        refuses nothing."""
        table = "t2b-events"
        create_table(self.ddb, table)
        doc_path = self.write("t2b-feeds.yaml", self.delete_feed_document(table, "t2b/").encode())
        feed = op_feed()
        header = "ID,op,Title"
        first = (header + "\n" + "".join("E%d,U,early %d\n" % (i, i) for i in range(1, 9))).encode()
        proc = self.load(self.write("t2b-first.csv", first), "--feeds", doc_path, "--feed", "events", "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-2000:])

        rng = random.Random(2026120602)
        lines = ["E1,D,", "E1,U,POISON title",  # refused: the delete it replaced is written instead
                 "E2,U,e2 new", "E2,D,", "E2,U,POISON again",  # refused: the delete is written, the put collapsed
                 "E3,D,POISON unread",  # a delete never sends its other cells: not refused
                 "POISON-K1,D,",  # a delete refused for its key
                 "E4,U,POISON only"]  # refused, nothing replaced: E4 keeps the earlier file's item
        for index in range(220):
            key = "R%02d" % rng.randrange(30)
            roll = rng.random()
            if roll < 0.33:
                lines.append("%s,D," % key)
            elif roll < 0.36:
                lines.append("%s,U,POISON %d" % (key, index))
            elif roll < 0.37:
                lines.append("%s,?,bad %d" % (key, index))
            else:
                lines.append("%s,%s,title %d" % (key, rng.choice("UI"), index))
        data = (header + "\n" + "".join(l + "\n" for l in lines)).encode()
        rows = csv_rows(data)[1]

        def refused(row, kind):
            cells = [row["ID"]] if kind == "delete" else [v for k, v in row.items() if k != "op"]
            return any("POISON" in cell for cell in cells)

        written, deleted, collapsed, refused_rows = batch_outcome(rows, feed, refused)
        expected = {r["ID"]: item_of(r, skip=("op",)) for r in csv_rows(first)[1]}
        invalid = apply_in_order(expected, rows, feed, skip=set(refused_rows))
        self.assertIn(1, refused_rows)
        self.assertNotIn(5, refused_rows)
        self.assertNotIn("E1", expected)
        self.assertNotIn("E2", expected)
        self.assertEqual(expected["E4"], {"ID": {"S": "E4"}, "Title": {"S": "early 4"}})

        log_path = self.path("t2b-proxy.jsonl")
        with tarius_stack.start_ddb_fault_proxy(self.st.dynalite.url) as proxy:
            spec = {"table": table, "seed": 7, "poison": "POISON", "max_faults": 2, "log": log_path,
                    "partial": 0.3, "throttle": 0.1, "error_before": 0.05, "delay": 0.3, "delay_max_ms": 150}
            request = urllib.request.Request(proxy.url + "/__proxy/profile", data=json.dumps(spec).encode(),
                                             method="POST")
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
                answer.read()
            rejects_path = self.path("t2b-rejects.csv")
            proc = self.load(self.write("t2b-second.csv", data), "--feeds", doc_path, "--feed", "events", "--json",
                             "--rejects", rejects_path, "--concurrency", "8",
                             env=dict(self.env, AWS_ENDPOINT_URL_DYNAMODB=proxy.url))
        self.assertEqual(proc.returncode, 1, proc.stderr.decode()[-2000:])
        report = self.report_of(proc)
        with open(log_path, encoding="utf-8") as f:
            actions = collections.Counter(json.loads(l).get("action") for l in f if l.strip())
        self.assertGreater(actions["partial"] + actions["throttle"] + actions["error_before"], 0, actions)
        self.assertGreater(actions["refuse"], 0, actions)

        got = scan(self.ddb, table)
        self.assertEqual(sorted(got), sorted(expected))
        for key, item in expected.items():
            self.assertEqual(got[key], item, key)

        counts = report["counts"]
        self.assertEqual(counts["rows"], len(rows))
        self.assertEqual(counts["rejected_by_reason"], {"invalid_operation": len(invalid),
                                                        "refused_by_dynamodb": len(refused_rows)})
        self.assertEqual((counts["items_written"], counts["deleted"], counts["duplicates_collapsed"]),
                         (written, deleted, collapsed))
        assert_reconciles(self, counts)
        with open(rejects_path + ".reasons.jsonl", encoding="utf-8") as f:
            reasons = sorted((json.loads(l)["line"], json.loads(l)["reason"]) for l in f if l.strip())
        self.assertEqual(reasons, sorted([(i + 2, "invalid_operation") for i, _ in invalid] +
                                         [(i + 2, "refused_by_dynamodb") for i in refused_rows]))

    # 3 -----------------------------------------------------------------------------------------------------------
    def test_3_delete_feed_killed_mid_load_resumes_exactly(self):
        table = "t3-events"
        create_table(self.ddb, table)
        document = self.delete_feed_document(table, "t3/") + ("    rejects_prefix: rejects/events/\n"
                                                              "    reports_prefix: reports/events/\n")
        self.s3.put_object(Bucket=BUCKET, Key="config/t3-feeds.yaml", Body=document.encode())
        feed = op_feed()
        data = delete_feed_csv(30000, 20261206)
        rows = csv_rows(data)[1]
        expected = {}
        rejected = apply_in_order(expected, rows, feed)
        written, deleted, collapsed = batch_counts(rows, feed)

        key = "t3/big.csv"
        source = "s3://%s/%s" % (BUCKET, key)
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        command = [TARIUS, "load", source, "--feeds", "s3://%s/config/t3-feeds.yaml" % BUCKET, "--ledger-table",
                   "ledger", "--json", "--concurrency", "4", "--max-wcu", "1500"]
        env = dict(self.env, TARIUS_LEASE_SECONDS="3", TARIUS_HEARTBEAT_SECONDS="1")

        feed_support.signal_after_checkpoint(self, self.local, source, command, env, signal.SIGKILL)
        record = local_loader.ledger_load_record(self.local, source)
        self.assertEqual(record["load_status"]["S"], "in_progress")
        self.assertEqual(record["feed"]["S"], "events")
        offset = int(record["checkpoint_offset"]["N"])
        self.assertTrue(0 < offset < len(data), offset)
        self.assertLess(len(scan(self.ddb, table)), len(expected) + 1)
        load_id = record["load_id"]["S"]

        time.sleep(4)  # the killed run's lease expires
        final = subprocess.run(command, env=env, capture_output=True, timeout=900)
        self.assertEqual(final.returncode, 1, final.stderr.decode()[-2000:])
        report = self.report_of(final)
        self.assertEqual(report["load_id"], load_id, "the rerun resumed the same load")
        self.assertEqual((report["feed"], report["status"]), ("events", "succeeded_with_rejects"))
        counts = report["counts"]
        self.assertEqual(counts["rows"], len(rows))
        self.assertEqual(counts["rejected"], len(rejected))
        self.assertEqual(counts["rejected_by_reason"], {"invalid_operation": len(rejected)})
        # Nothing counted twice: the counts of an uninterrupted run, and they reconcile.
        self.assertEqual((counts["items_written"], counts["deleted"], counts["duplicates_collapsed"]),
                         (written, deleted, collapsed))
        assert_reconciles(self, counts)

        got = scan(self.ddb, table)
        self.assertEqual(sorted(got), sorted(expected))
        for item_key, item in expected.items():
            self.assertEqual(got[item_key], item, item_key)

        record = local_loader.ledger_load_record(self.local, source)
        self.assertEqual(record["load_status"]["S"], "succeeded_with_rejects")
        self.assertEqual(record["attempts"]["N"], "2")
        self.assertEqual(record["feed"]["S"], "events")
        # The feed's own prefixes: the rejects and the one report of the load are there.
        reasons_key = report["rejects"]["reasons"][len("s3://%s/" % BUCKET):]
        self.assertTrue(reasons_key.startswith("rejects/events/" + key + "/"), reasons_key)
        reasons = self.s3.get_object(Bucket=BUCKET, Key=reasons_key)
        reasons = [json.loads(l) for l in reasons["Body"].read().decode().splitlines() if l]
        self.assertEqual([r["line"] for r in reasons], [i + 2 for i, _ in rejected], "each rejected row once")
        reports = [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET, Prefix="reports/events/")
                   .get("Contents", [])]
        self.assertEqual(reports, ["reports/events/%s/%s.json" % (key, load_id)])
        stored = json.loads(self.s3.get_object(Bucket=BUCKET, Key=reports[0])["Body"].read())
        self.assertEqual((stored["feed"], stored["counts"]), ("events", counts))

        # `tarius loads` names the feed of the load.
        listing = subprocess.run([TARIUS, "loads", "--ledger-table", "ledger", "--json"], env=self.env,
                                 capture_output=True, timeout=60)
        self.assertEqual(listing.returncode, 0, listing.stderr.decode())
        mine = [l for l in json_lines(listing.stdout.decode()) if l.get("source") == source]
        self.assertEqual([l.get("feed") for l in mine], ["events"], listing.stdout.decode())

    # 4 -----------------------------------------------------------------------------------------------------------
    def service_feeds(self, tag):
        """Two put feeds under raw-data/<tag>-products/ and raw-data/<tag>-prices/ (the bucket notifies raw-data/*.csv),
        their tables created; returns the inline document."""
        for name in ("products", "prices"):
            create_table(self.ddb, "%s-%s" % (tag, name))
        return json.dumps({"feeds": {
            "products": {"match": {"prefix": "raw-data/%s-products/" % tag}, "table": "%s-products" % tag},
            "prices": {"match": {"prefix": "raw-data/%s-prices/" % tag}, "table": "%s-prices" % tag,
                       "mode": "delete", "op": {"column": "op", "delete": ["D"], "put": ["U"]}}}})

    def service_files(self, tag):
        products = b'ID,Title\nS1,"Lamp, brass"\nS2,Chair\n'
        prices = b"ID,op,Price\nS1,U,10\nS3,U,30\nS1,D,\nS4,U,40\nS5,D,\nS4,U,44\n"
        unmatched = b"ID,Title\nU1,nobody's\n"
        keys = {"products": "raw-data/%s-products/a.csv" % tag, "prices": "raw-data/%s-prices/b.csv" % tag,
                None: "raw-data/%s-unmatched/c.csv" % tag}
        return {"products": products, "prices": prices, None: unmatched}, keys

    def assert_service_outcome(self, tag, bodies, keys, log_lines):
        self.assert_table_equals_rows("%s-products" % tag, csv_rows(bodies["products"])[1])
        expected_prices = {}
        self.assertEqual(apply_in_order(expected_prices, csv_rows(bodies["prices"])[1], op_feed()), [])
        self.assertEqual(scan(self.ddb, "%s-prices" % tag), expected_prices)
        unmatched = "s3://%s/%s" % (BUCKET, keys[None])
        ignored = [l for l in log_lines if l.get("msg") == "object matches no feed: ignored"]
        self.assertEqual([l.get("source") for l in ignored], [unmatched], log_lines)
        emf = [l for l in log_lines if "_aws" in l and "ObjectsUnmatched" in l]
        self.assertEqual(len(emf), 1, log_lines)
        self.assertEqual(emf[0]["ObjectsUnmatched"], 1)
        self.assertEqual(emf[0].get("source"), unmatched)
        names = [m["Name"] for d in emf[0]["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        self.assertIn("ObjectsUnmatched", names)

        records = {r["source"]["S"]: r for r in self.local.load_records()
                   if r["source"]["S"].startswith("s3://%s/raw-data/%s-" % (BUCKET, tag))}
        self.assertEqual(sorted(records), sorted("s3://%s/%s" % (BUCKET, keys[f]) for f in ("products", "prices")))
        for name in ("products", "prices"):
            record = records["s3://%s/%s" % (BUCKET, keys[name])]
            self.assertEqual(record["feed"]["S"], name)
            self.assertEqual(record["load_status"]["S"], "succeeded")

        notes = [n for n in self.local.notifications()
                 if json.loads(n["Message"])["source"].startswith("s3://%s/raw-data/%s-" % (BUCKET, tag))]
        by_feed = {n["MessageAttributes"]["feed"]["Value"]: n for n in notes}
        self.assertEqual(len(notes), 2, notes)
        self.assertEqual(sorted(by_feed), ["prices", "products"])
        for name in ("products", "prices"):
            note = by_feed[name]
            report = json.loads(note["Message"])
            self.assertEqual(report["feed"], name)
            self.assertEqual(report["source"], "s3://%s/%s" % (BUCKET, keys[name]))
            self.assertEqual(note["MessageAttributes"]["table"]["Value"], "%s-%s" % (tag, name))
            rows = csv_rows(bodies[name])[1]
            written, deleted, collapsed = batch_counts(rows, op_feed()) if name == "prices" else (len(rows), 0, 0)
            self.assertEqual((report["counts"]["items_written"], report["counts"]["deleted"],
                              report["counts"]["duplicates_collapsed"]), (written, deleted, collapsed))
            assert_reconciles(self, report["counts"])
            # The load's metrics (EMF) count the deletes too, with the feed as a dimension.
            metrics = [l for l in log_lines if "_aws" in l and l.get("feed") == name and "ItemsWritten" in l]
            self.assertEqual([(m["ItemsWritten"], m.get("ItemsDeleted")) for m in metrics], [(written, deleted)],
                             log_lines)
            self.assertIn(["feed", "status"], metrics[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"])

    def test_4a_worker_routes_objects_to_their_feeds(self):
        document = self.service_feeds("t4w")
        bodies, keys = self.service_files("t4w")
        self.local.drain(self.local.queue_url)
        self.local.notifications()
        for feed in ("products", "prices", None):
            self.s3.put_object(Bucket=BUCKET, Key=keys[feed], Body=bodies[feed])
        proc = subprocess.run([TARIUS, "worker", "--queue-url", self.local.queue_url, "--exit-when-idle",
                               "--wait-seconds", "2", "--visibility-timeout", "30"],
                              env=dict(self.env, TARIUS_FEEDS=document), capture_output=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-2000:])
        log_lines = json_lines(proc.stdout.decode()) + json_lines(proc.stderr.decode())
        loads = [l for l in log_lines if l.get("msg", "").startswith("load ")]
        self.assertEqual(sorted(l["msg"] for l in loads), ["load succeeded"] * 2, log_lines)
        self.assert_service_outcome("t4w", bodies, keys, log_lines)
        attrs = self.local.sqs.get_queue_attributes(QueueUrl=self.local.queue_url, AttributeNames=["All"])
        self.assertEqual(attrs["Attributes"]["ApproximateNumberOfMessages"], "0")
        self.assertEqual(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"], "0")

    def test_4b_bootstrap_routes_the_records_of_one_event_to_their_feeds(self):
        document = self.service_feeds("t4l")
        bodies, keys = self.service_files("t4l")
        self.local.drain(self.local.queue_url)
        self.local.notifications()
        records = []
        for feed in ("products", "prices", None):
            path = self.write("t4l-%s.csv" % (feed or "unmatched"), bodies[feed])
            records += lambda_support.upload(self.local, path, keys[feed])["Records"]
        log_path = self.path("t4l-bootstrap.log")
        with fake_runtime.FakeRuntime(timeout_s=120) as rt:
            proc = lambda_support.start_bootstrap(rt, dict(self.env, TARIUS_FEEDS=document), log_path=log_path)
            try:
                inv = rt.invoke_and_wait({"Records": records})
            finally:
                lambda_support.stop(proc)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log_text = f.read()
        self.assertEqual(inv.outcome, "response", "%s: %s\n%s" % (inv.error_type, inv.body, log_text[-3000:]))
        body = inv.json_body()
        # The answer lists each load with its source and feed, and counts the ignored object.
        self.assertEqual(sorted((l["source"], l.get("feed"), l["status"]) for l in body["loads"]),
                         sorted(("s3://%s/%s" % (BUCKET, keys[f]), f, "succeeded") for f in ("products", "prices")),
                         body)
        self.assertEqual(body.get("ignored"), 1, body)
        self.assert_service_outcome("t4l", bodies, keys, json_lines(log_text))

    def test_4c_bootstrap_continues_a_delete_feed_load_across_invocations(self):
        """A delete feed load longer than the function's deadline (15 s timeout, stopping 10 s before it, a
        2,500 WCU/s budget): continued by self-invocation, exactly the table and counts of one run."""
        table = "t4c-events"
        create_table(self.ddb, table)
        document = json.dumps({"feeds": {"events": {
            "match": {"prefix": "raw-data/t4c/"}, "table": table, "mode": "delete",
            "op": {"column": "op", "delete": ["D"], "put": ["U", "I"]}}}})
        feed = op_feed()
        data = delete_feed_csv(40000, 2026120604)
        rows = csv_rows(data)[1]
        expected = {}
        rejected = apply_in_order(expected, rows, feed)
        written, deleted, collapsed = batch_counts(rows, feed)
        self.local.drain(self.local.queue_url)
        self.local.notifications()
        key = "raw-data/t4c/big.csv"
        event = lambda_support.upload(self.local, self.write("t4c.csv", data), key)
        env = dict(self.env, TARIUS_FEEDS=document, TARIUS_DEADLINE_MARGIN_MS="10000", TARIUS_MAX_WCU="2500",
                   TARIUS_HEARTBEAT_SECONDS="1")
        log_path = self.path("t4c-bootstrap.log")
        with fake_runtime.FakeRuntime(timeout_s=15) as rt:
            proc = lambda_support.start_bootstrap(rt, env, log_path=log_path)
            try:
                rt.invoke(event, asynchronous=True)
                rt.wait_idle(600, settle_s=2)
            finally:
                lambda_support.stop(proc)
            with open(log_path, encoding="utf-8", errors="replace") as f:
                log_text = f.read()
            outcomes = [(i.origin, i.outcome, i.error_type) for i in rt.invocations]
            self.assertGreaterEqual(len(rt.invocations), 2, log_text[-3000:])
            self.assertTrue(all(o[1] == "response" for o in outcomes), (outcomes, log_text[-3000:]))
            bodies = [i.json_body() for i in rt.invocations]
        self.assertTrue(all(b["continued"] for b in bodies[:-1]), bodies)
        final = bodies[-1]["loads"][0]
        self.assertEqual(final["status"], "succeeded_with_rejects")
        counts = final["counts"]
        self.assertEqual(counts["rows"], len(rows))
        self.assertEqual(counts["rejected_by_reason"], {"invalid_operation": len(rejected)})
        self.assertEqual((counts["items_written"], counts["deleted"], counts["duplicates_collapsed"]),
                         (written, deleted, collapsed))
        assert_reconciles(self, counts)
        got = scan(self.ddb, table)
        self.assertEqual(sorted(got), sorted(expected))
        for item_key, item in expected.items():
            self.assertEqual(got[item_key], item, item_key)
        source = "s3://%s/%s" % (BUCKET, key)
        record = local_loader.ledger_load_record(self.local, source)
        self.assertEqual((record["feed"]["S"], record["load_status"]["S"]), ("events", "succeeded_with_rejects"))
        notes = [n for n in self.local.notifications() if json.loads(n["Message"])["source"] == source]
        self.assertEqual(len(notes), 1, notes)
        self.assertEqual(notes[0]["MessageAttributes"]["feed"]["Value"], "events")
        self.assertEqual(json.loads(notes[0]["Message"])["counts"], counts)

    # 5 -----------------------------------------------------------------------------------------------------------
    def test_5_bad_documents_exit_2_naming_the_field_and_write_nothing(self):
        table = "t5-target"
        create_table(self.ddb, table)
        path = self.write("t5.csv", b"ID,op,Title,updated_at\nB1,U,one,1\nB2,U,two,2\n")
        cases = [
            ("unknown field",
             "feeds: {a: {match: {prefix: t5/}, table: %s, tabel: x}}" % table, "feeds.a.tabel"),
            ("overlapping feeds",
             "feeds: {a: {match: {prefix: t5/}, table: %s}, b: {match: {prefix: t5/b/}, table: %s}}" % (table, table),
             "feeds.b.match"),
            ("newer without version",
             "feeds: {a: {match: {prefix: t5/}, table: %s, mode: newer}}" % table, "feeds.a.version"),
            ("an option its mode does not take",
             "feeds: {a: {match: {prefix: t5/}, table: %s, row_marker: false}}" % table, "feeds.a.row_marker"),
        ]
        for name, document, field in cases:
            with self.subTest(name):
                doc_path = self.write("t5-feeds.yaml", document.encode())
                proc = self.load(path, "--feeds", doc_path, "--feed", "a", "--json")
                self.assertEqual(proc.returncode, 2, (proc.stdout, proc.stderr))
                err = proc.stderr.decode()
                self.assertIn(field, err)
                self.assertEqual(scan(self.ddb, table), {})

                # The worker refuses the same document at start (exit 2, the field named) and takes no message.
                worker = subprocess.run([TARIUS, "worker", "--queue-url", self.local.queue_url, "--exit-when-idle",
                                         "--wait-seconds", "1"], env=dict(self.env, TARIUS_FEEDS=document),
                                        capture_output=True, timeout=120)
                self.assertEqual(worker.returncode, 2, (worker.stdout, worker.stderr))
                self.assertIn(field, worker.stdout.decode() + worker.stderr.decode())

                # The function posts an init error naming the field and exits without asking for work.
                with fake_runtime.FakeRuntime() as rt:
                    proc = lambda_support.start_bootstrap(rt, dict(self.env, TARIUS_FEEDS=document))
                    self.assertNotEqual(proc.wait(60), 0)
                    self.assertEqual(len(rt.init_errors), 1)
                    error_type, body = rt.init_errors[0]
                    self.assertEqual(error_type, "Function.InitError")
                    self.assertIn(field, json.loads(body)["errorMessage"])
                    self.assertIsNone(rt.first_next_at)
                self.assertEqual(scan(self.ddb, table), {})

    def test_5b_feed_flags_misused_exit_2_and_write_nothing(self):
        table = "t5b-target"
        create_table(self.ddb, table)
        path = self.write("t5b.csv", b"ID,Title\nM1,one\n")
        two = self.write("t5b-two.yaml", ("feeds: {a: {match: {prefix: t5b/a/}, table: %s}, "
                                          "b: {match: {prefix: t5b/b/}, table: %s}}" % (table, table)).encode())
        self.s3.put_object(Bucket=BUCKET, Key="t5b/a/file.txt", Body=b"ID,Title\nM2,two\n")
        cases = [
            ("several feeds and no --feed", [path, "--feeds", two], "--feed"),
            ("--feed naming no feed", [path, "--feeds", two, "--feed", "nope"], "nope"),
            ("--table with --feeds", [path, "--feeds", two, "--feed", "a", "--table", table], "--table"),
            ("a document that does not exist", [path, "--feeds", self.path("missing.yaml")], "missing.yaml"),
            ("an object no feed matches (suffix)", ["s3://%s/t5b/a/file.txt" % BUCKET, "--feeds", two],
             "matches no feed"),
        ]
        for name, args, named in cases:
            with self.subTest(name):
                proc = self.load(*args, "--json")
                self.assertEqual(proc.returncode, 2, (proc.stdout, proc.stderr))
                self.assertIn(named, proc.stderr.decode())
                self.assertEqual(scan(self.ddb, table), {})


if __name__ == "__main__":
    unittest.main()
