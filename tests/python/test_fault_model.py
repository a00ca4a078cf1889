# ctest-label: integration
"""A model check of `tarius load` under faults made by a proxy in front of dynalite (ddb_fault_proxy.py): the table
itself is the witness, read with boto3 straight from dynalite, and the file is read with Python's csv module.

Per seed: a small CSV (keys repeating within and across batches, rows the mapping rejects, rows carrying a marker
that the proxy refuses with a ValidationException as DynamoDB refuses an invalid item) and a fault profile
(throttling errors, partial UnprocessedItems, 500s before and after the write, answers dropped after the write,
resets, delays that reorder requests; for one class in ten, an outage: every request fails after the first few).
Then, for a load that could finish:

- the table equals putting the accepted rows (neither rejected by the mapping nor refused) one by one in file order;
- the rejects CSV holds exactly the rejected and refused rows (the original header and row bytes), and the reasons
  file names every refused row `refused_by_dynamodb` at its line and byte offset, with DynamoDB's message;
- every count of the report is what the file and the table say: rows, items_written (acknowledged puts: one per
  batch and key, the earlier rows of a key within one 25-item batch being collapsed), rejected (by reason),
  duplicates_collapsed, reconciles; wcu_consumed is the capacity of the acknowledged writes;
- the exit code is 0 (succeeded), 1 (succeeded with rejects).

For a load under an outage: exit code 2, status retry (or failed), items_written and wcu_consumed are exactly what
DynamoDB acknowledged, rows = items_written + rejected + duplicates_collapsed + not_loaded, and every item in the
table is an accepted row of its key.

The proxy's log gives a second view of the same facts (which rows DynamoDB acknowledged); a difference names the
seed, the CSV, the proxy log and the fault class. A second test SIGKILLs `tarius load s3://...` with a ledger at
random points and runs the same command again: the same table, counts and load id as an uninterrupted load.

Environment: TARIUS_FAULT_SEEDS (default 200), TARIUS_FAULT_FIRST_SEED (1), TARIUS_FAULT_PARALLEL (loads at once,
default 4), TARIUS_FAULT_KEEP=1 keeps every seed's files (failing seeds' files are always kept),
TARIUS_FAULT_KILL_SCENARIOS (default 3).
"""
import collections
import concurrent.futures
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import tarius_stack  # noqa: E402

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")
SEEDS = int(os.environ.get("TARIUS_FAULT_SEEDS", "200"))
FIRST_SEED = int(os.environ.get("TARIUS_FAULT_FIRST_SEED", "1"))
PARALLEL = int(os.environ.get("TARIUS_FAULT_PARALLEL", "4"))
KEEP = bool(os.environ.get("TARIUS_FAULT_KEEP"))
KILL_SCENARIOS = int(os.environ.get("TARIUS_FAULT_KILL_SCENARIOS", "3"))
LOAD_TIMEOUT_S = 180
MARKER = "POISON"
HEADER = ["ID", "Row", "Title", "Note"]
BATCH_ITEMS = 25

# The fault class a seed stresses (seed % len): its failures are reported per class.
# "outage": every BatchWriteItem after the first few fails with a 500, so the load fails: its counts must still be
# what DynamoDB acknowledged.
CLASSES = ["throttle", "partial", "error_before", "error_after", "drop_after", "reset", "reorder", "poison", "mixed",
           "outage"]
FAULTS = ["throttle", "throttling", "partial", "error_before", "error_after", "drop_after", "reset", "reset_after"]


# ------------------------------------------------------------------------------------------------------------------
# The input: a CSV written byte by byte, so each row's bytes, line and offset are known.

class csv_row:
    """One data row as written: its fields, raw bytes (with the line break), 1-based line and byte offset."""

    def __init__(self, index, fields, raw, line, offset):
        self.index = index
        self.fields = fields
        self.raw = raw
        self.line = line
        self.offset = offset
        self.mapping_rejected = len(fields) != len(HEADER) or fields[0] == ""
        self.key = fields[0] if len(fields) > 0 else ""
        self.row_id = fields[1] if len(fields) > 1 else ""
        self.poison = len(fields) == len(HEADER) and any(MARKER in f for f in fields)

    def item(self):
        """The DynamoDB item the default mapping makes of this row (every column a string)."""
        return {name: {"S": value} for name, value in zip(HEADER, self.fields)}

    def __repr__(self):
        return "row %d (line %d, %s)" % (self.index, self.line, self.row_id)


def _quote(field, force):
    if force or any(c in field for c in ',"\n\r'):
        return '"' + field.replace('"', '""') + '"'
    return field


WORDS = ["alpha", "beta", "gamma", "delta", "épée", "naïve", "日本", "Ünïcode", "x", "100%", "a;b", "tab\there"]


def generate_csv(seed, cls, n_rows=None, poison_rate=None):
    """The file's bytes, the header's raw bytes and its rows, from the seed (`poison_rate`: the share of rows
    carrying the refused marker, else chosen from the seed and class)."""
    rng = random.Random("csv-%d" % seed)
    poison_rate_override = poison_rate
    n_rows = n_rows or rng.randint(40, 400)
    n_keys = max(8, int(n_rows / rng.choice([1.1, 1.5, 2, 3, 6])))
    keys = ["k%03d%s" % (i, rng.choice(["", "", "é", "-x"])) for i in range(n_keys)]
    eol = rng.choice(["\n", "\n", "\r\n"])
    # Refused rows in every "poison" and "mixed" seed, and in every other seed of the other classes (so that each
    # fault class is also seen alone).
    if cls in ("poison", "mixed"):
        poison_rate = rng.choice([0.03, 0.08, 0.2])
    else:
        poison_rate = rng.choice([0.03, 0.08, 0.2]) if (seed // len(CLASSES)) % 2 else 0.0
    if poison_rate_override is not None:
        poison_rate = poison_rate_override
    reject_rate = rng.choice([0.0, 0.0, 0.03, 0.08])
    header_raw = (",".join(HEADER) + eol).encode()
    out = bytearray(header_raw)
    line = 2
    rows = []
    for index in range(n_rows):
        key = rng.choice(keys)
        roll = rng.random()
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.15:
            title = title.replace(" ", ", ", 1) + ' "quoted"'
        if rng.random() < 0.08:
            title = title + "\nsecond line"
        note = "n%d" % rng.randint(0, 10 ** 6)
        if rng.random() < poison_rate:
            note = "bad %s here %d" % (MARKER, index)
        fields = [key, "r%05d" % index, title, note]
        if roll < reject_rate / 2:
            fields[0] = ""  # empty key: rejected by the mapping
        elif roll < reject_rate:
            fields = fields + ["extra"] if rng.random() < 0.5 else fields[:3]  # field count: rejected
        text = ",".join(_quote(f, rng.random() < 0.05) for f in fields) + eol
        raw = text.encode("utf-8")
        rows.append(csv_row(index, fields, raw, line, len(out)))
        out += raw
        line += text.count("\n")
    return bytes(out), header_raw, rows


# ------------------------------------------------------------------------------------------------------------------
# The model: what the contract says the load must do with these rows.

class expectation:
    """What a correct load of `rows` leaves: the table, and which rows are written, collapsed, refused, rejected."""

    def __init__(self, rows):
        self.rows = rows
        self.mapping_rejected = [r for r in rows if r.mapping_rejected]
        accepted = [r for r in rows if not r.mapping_rejected]
        # The batcher's 25-item batches of distinct keys, in file order: a later row of a key already in the open
        # batch replaces the earlier one. The refused item of a key falls back to that key's previous row in the
        # same batch (which may be refused too).
        batches = []
        current = collections.OrderedDict()
        for r in accepted:
            if r.key not in current and len(current) == BATCH_ITEMS:
                batches.append(current)
                current = collections.OrderedDict()
            current.setdefault(r.key, []).append(r)
        if current:
            batches.append(current)
        self.written, self.collapsed, self.refused = [], [], []
        for batch in batches:
            for key_rows in batch.values():
                good = [i for i, r in enumerate(key_rows) if not r.poison]
                last_good = good[-1] if good else -1
                self.collapsed += key_rows[:max(last_good, 0)]
                if last_good >= 0:
                    self.written.append(key_rows[last_good])
                self.refused += key_rows[last_good + 1:]
        self.table = {}
        for r in sorted(self.written, key=lambda r: r.index):
            self.table[r.key] = r
        self.rejected = sorted(self.mapping_rejected + self.refused, key=lambda r: r.index)
        self.batches = len(batches)

    def status(self):
        return "succeeded_with_rejects" if self.rejected else "succeeded"

    def exit_code(self):
        return 1 if self.rejected else 0


# ------------------------------------------------------------------------------------------------------------------
# Fault profiles.

def fault_profile(seed, cls, table, log_path):
    """The proxy profile of a seed: its class's fault made likely, others sometimes, delays, the refused marker."""
    rng = random.Random("profile-%d" % seed)
    spec = {"table": table, "seed": seed, "poison": MARKER, "max_faults": 2, "log": log_path}
    if cls in FAULTS or cls == "reset":
        spec[cls] = rng.uniform(0.25, 0.5)
        others = [f for f in FAULTS if f != cls]
        for f in rng.sample(others, rng.randint(0, 2)):
            spec[f] = rng.uniform(0.02, 0.08)
    elif cls == "mixed":
        budget = rng.uniform(0.3, 0.6)
        chosen = rng.sample(FAULTS, rng.randint(3, len(FAULTS)))
        weights = [rng.random() for _ in chosen]
        for f, w in zip(chosen, weights):
            spec[f] = budget * w / sum(weights)
    elif cls in ("poison", "outage"):
        for f in rng.sample(FAULTS, 2):
            spec[f] = rng.uniform(0.02, 0.1)
    if cls in ("reorder", "mixed") or rng.random() < 0.3:
        spec["delay"] = rng.uniform(0.3, 0.9) if cls == "reorder" else rng.uniform(0.05, 0.3)
        spec["delay_max_ms"] = rng.choice([50, 150, 400])
        spec["delay_response"] = rng.uniform(0.0, 0.5 if cls == "reorder" else 0.2)
        spec["delay_response_max_ms"] = rng.choice([50, 200])
    return spec


def set_profile(proxy_url, spec):
    req = urllib.request.Request(proxy_url + "/__proxy/profile", data=json.dumps(spec).encode(), method="POST")
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as response:
        response.read()


# ------------------------------------------------------------------------------------------------------------------
# Reading the outcome back: the table (boto3 on dynalite), the proxy's log, the rejects.

def create_table(ddb, name):
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "ID", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "ID", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})


def scan_table(ddb, name):
    items = {}
    kwargs = {"TableName": name, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        for item in page["Items"]:
            items[item["ID"]["S"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class proxy_view:
    """The proxy's log of one table: acknowledged rows, refused rows, errors answered."""

    def __init__(self, path):
        self.acked = collections.Counter()  # row id -> times acknowledged
        self.refused = set()
        self.consumed = 0.0
        self.throttles_answered = 0
        self.actions = collections.Counter()
        self.requests = 0
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                if "action" not in record:
                    continue
                self.requests += 1
                self.actions[record["action"]] += 1
                if record.get("delay_ms") or record.get("delay_response_ms"):
                    self.actions["delayed"] += 1
                if record["action"] == "refuse":
                    self.refused.update(i["Row"]["S"] for i in record["items"] if "Row" in i)
                if record["action"] in ("throttle", "throttling"):
                    self.throttles_answered += 1
                if record.get("status") == 200:
                    for item in record.get("acked", []):
                        self.acked[item.get("Row", {}).get("S", "?")] += 1
                    for entry in record.get("consumed") or []:
                        self.consumed += float(entry.get("CapacityUnits", 0))


def read_rejects(path):
    """(csv bytes or None, reasons as a list of dicts)."""
    data = None
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    reasons = []
    if os.path.exists(path + ".reasons.jsonl"):
        with open(path + ".reasons.jsonl", encoding="utf-8") as f:
            reasons = [json.loads(line) for line in f if line.strip()]
    return data, reasons


# ------------------------------------------------------------------------------------------------------------------
# The checks: each difference is (code, text).

def check_table(expected, items):
    diffs = []
    missing = [k for k in expected.table if k not in items]
    extra = [k for k in items if k not in expected.table]
    if missing:
        diffs.append(("table_missing_keys", "%d keys missing from the table, e.g. %s (expected %s)" % (
            len(missing), missing[:3], [expected.table[k] for k in missing[:3]])))
    if extra:
        diffs.append(("table_extra_keys", "%d keys in the table that no accepted row puts, e.g. %s" % (
            len(extra), [(k, items[k].get("Row")) for k in extra[:3]])))
    wrong = []
    for key, row in expected.table.items():
        if key in items and items[key] != row.item():
            wrong.append((key, "expected %s" % row.row_id, "got %s" % items[key].get("Row", {}).get("S")))
    if wrong:
        diffs.append(("table_wrong_item", "%d items differ from the last accepted row of their key, e.g. %s" % (
            len(wrong), wrong[:3])))
    return diffs


def check_counts(expected, report, view, single_run=True):
    """The report's counts against the model; against the proxy's acknowledgements when one run did the load."""
    diffs = []
    counts = report.get("counts", {})
    want = {"rows": len(expected.rows), "items_written": len(expected.written), "rejected": len(expected.rejected),
            "duplicates_collapsed": len(expected.collapsed)}
    for name, value in want.items():
        if counts.get(name) != value:
            diffs.append(("count_" + name, "counts.%s = %s, expected %d" % (name, counts.get(name), value)))
    by_reason = counts.get("rejected_by_reason", {})
    if by_reason.get("refused_by_dynamodb", 0) != len(expected.refused):
        diffs.append(("count_refused", "rejected_by_reason.refused_by_dynamodb = %s, expected %d" % (
            by_reason.get("refused_by_dynamodb"), len(expected.refused))))
    if sum(by_reason.values()) != counts.get("rejected"):
        diffs.append(("count_by_reason", "rejected_by_reason %s does not add up to rejected %s" % (
            by_reason, counts.get("rejected"))))
    if counts.get("reconciles") is not True:
        diffs.append(("count_reconciles", "reconciles is %s" % counts.get("reconciles")))
    if isinstance(counts.get("rows"), int) and isinstance(counts.get("items_written"), int):
        total = (counts["items_written"] + counts.get("rejected", 0) + counts.get("duplicates_collapsed", 0) +
                 counts.get("not_loaded", 0))
        if total != counts["rows"]:
            diffs.append(("count_sum", "rows %d != items_written + rejected + duplicates_collapsed + not_loaded = %d"
                          % (counts["rows"], total)))
    if not single_run:
        return diffs
    # The proxy saw what DynamoDB acknowledged: the report's items and capacity are those, no more.
    if counts.get("items_written") != len(view.acked):
        diffs.append(("items_written_vs_acks", "items_written %s, but DynamoDB acknowledged %d distinct rows" % (
            counts.get("items_written"), len(view.acked))))
    if abs(float(counts.get("wcu_consumed", -1)) - view.consumed) > 1e-6:
        diffs.append(("wcu_vs_acks", "wcu_consumed %s, but the acknowledged writes consumed %s" % (
            counts.get("wcu_consumed"), view.consumed)))
    if view.throttles_answered and not counts.get("requests_throttled"):
        diffs.append(("throttles", "requests_throttled %s, but %d throttling errors were answered" % (
            counts.get("requests_throttled"), view.throttles_answered)))
    return diffs


def check_acks(expected, view, single_run=True):
    """The rows DynamoDB acknowledged are exactly the rows to write; the refused ones reached it and were refused.
    Across a SIGKILL a row may be acknowledged twice (written after the checkpoint, written again on resume)."""
    diffs = []
    want = {r.row_id for r in expected.written}
    got = set(view.acked)
    if got - want:
        diffs.append(("acked_unexpected", "rows acknowledged that the model does not write: %s" % (
            sorted(got - want)[:5],)))
    if want - got:
        diffs.append(("acked_missing", "rows never acknowledged by DynamoDB: %s" % sorted(want - got)[:5]))
    twice = sorted(k for k, n in view.acked.items() if n > 1)
    if twice and single_run:
        diffs.append(("acked_twice", "rows written again after DynamoDB acknowledged them: %s" % twice[:5]))
    refused_ids = {r.row_id for r in expected.refused}
    if refused_ids - view.refused:
        diffs.append(("refused_never_sent", "rows to be refused that never reached DynamoDB: %s" % sorted(
            refused_ids - view.refused)[:5]))
    return diffs


def check_rejects(expected, header_raw, data, reasons):
    diffs = []
    if not expected.rejected:
        if data and data != header_raw:
            diffs.append(("rejects_csv", "no rows to reject, but the rejects CSV holds %r" % data[:200]))
        if reasons:
            diffs.append(("rejects_reasons", "no rows to reject, but %d reasons" % len(reasons)))
        return diffs
    if data is None:
        return [("rejects_csv", "no rejects CSV (expected %d rows)" % len(expected.rejected))]
    if not data.startswith(header_raw):
        diffs.append(("rejects_csv", "the rejects CSV does not start with the original header: %r" % data[:80]))
    else:
        rest = data[len(header_raw):]
        pending = {r.raw: r for r in expected.rejected}
        found = []
        while rest:
            match = next((raw for raw in pending if rest.startswith(raw)), None)
            if match is None:
                diffs.append(("rejects_csv", "rejects CSV holds bytes that are no rejected row: %r (missing %s)" % (
                    rest[:120], sorted(pending.values(), key=lambda r: r.index)[:3])))
                break
            found.append(pending.pop(match))
            rest = rest[len(match):]
        else:
            if pending:
                diffs.append(("rejects_csv_missing", "rows missing from the rejects CSV: %s" % sorted(
                    pending.values(), key=lambda r: r.index)[:5]))
    problems = []
    by_line = {}
    for reason in reasons:
        by_line.setdefault(reason.get("line"), []).append(reason)
    refused = {r.line for r in expected.refused}
    for r in expected.rejected:
        got = by_line.get(r.line, [])
        if len(got) != 1:
            problems.append("%d reasons for %s, expected 1" % (len(got), r))
            continue
        reason = got[0]
        if r.line in refused:
            if reason.get("reason") != "refused_by_dynamodb" or reason.get("byte_offset") != r.offset:
                problems.append("refused %s: reason %s at byte %s, expected refused_by_dynamodb at %d" % (
                    r, reason.get("reason"), reason.get("byte_offset"), r.offset))
            elif "refused marker" not in reason.get("message", ""):
                problems.append("refused %s: message %r is not DynamoDB's" % (r, reason.get("message")))
        elif reason.get("reason") == "refused_by_dynamodb" or not (
                r.offset <= reason.get("byte_offset", -1) < r.offset + len(r.raw)):
            problems.append("rejected %s: %s" % (r, reason))
    extra = set(by_line) - {r.line for r in expected.rejected}
    if extra:
        problems.append("reasons for rows not rejected, lines %s" % sorted(extra)[:5])
    if problems:
        diffs.append(("rejects_reasons", "%d problems with the reasons, e.g. %s" % (len(problems), problems[:3])))
    return diffs


def check_failed_load(expected, proc, report, items, view):
    """A load that could not finish (the table kept failing): exit 2, and counts that are what DynamoDB
    acknowledged; whatever is in the table is some accepted row of its key."""
    diffs = []
    if report is None:
        return [("report_json", "stdout is not a JSON report: %r; stderr %r" % (
            proc.stdout[:300], proc.stderr[-600:]))]
    if report.get("status") not in ("retry", "failed") or proc.returncode != 2:
        diffs.append(("status", "status %s, exit code %d; expected retry (or failed) and 2" % (
            report.get("status"), proc.returncode)))
    counts = report.get("counts", {})
    if not isinstance(counts.get("rows"), int) or counts["rows"] > len(expected.rows):
        diffs.append(("count_rows", "counts.rows = %s, the file has %d" % (counts.get("rows"), len(expected.rows))))
    total = sum(counts.get(name, 0) for name in ("items_written", "rejected", "duplicates_collapsed", "not_loaded"))
    if total != counts.get("rows"):
        diffs.append(("count_sum", "rows %s != items_written + rejected + duplicates_collapsed + not_loaded = %d (%s)"
                      % (counts.get("rows"), total, counts)))
    if counts.get("items_written") != len(view.acked):
        diffs.append(("items_written_vs_acks", "items_written %s, but DynamoDB acknowledged %d distinct rows" % (
            counts.get("items_written"), len(view.acked))))
    if abs(float(counts.get("wcu_consumed", -1)) - view.consumed) > 1e-6:
        diffs.append(("wcu_vs_acks", "wcu_consumed %s, but the acknowledged writes consumed %s" % (
            counts.get("wcu_consumed"), view.consumed)))
    by_id = {r.row_id: r for r in expected.rows}
    wrong = []
    for key, item in items.items():
        row = by_id.get(item.get("Row", {}).get("S"))
        if row is None or row.key != key or row.mapping_rejected or row.poison or item != row.item():
            wrong.append((key, item.get("Row")))
    if wrong:
        diffs.append(("table_wrong_item", "%d items that no accepted row of their key puts, e.g. %s" % (
            len(wrong), wrong[:3])))
    lost = sorted({by_id[i].key for i in view.acked if i in by_id} - set(items))
    if lost:
        diffs.append(("table_missing_keys", "keys acknowledged but not in the table: %s" % lost[:5]))
    return diffs


def check_report(expected, proc, report):
    diffs = []
    if report is None:
        return [("report_json", "stdout is not a JSON report: %r; stderr %r" % (
            proc.stdout[:300], proc.stderr[-600:]))]
    if report.get("status") != expected.status():
        diffs.append(("status", "status %s (%s), expected %s" % (
            report.get("status"), report.get("error", ""), expected.status())))
    if proc.returncode != expected.exit_code():
        diffs.append(("exit_code", "exit code %d, expected %d" % (proc.returncode, expected.exit_code())))
    return diffs


def parse_report(stdout):
    try:
        report = json.loads(stdout)
        return report if isinstance(report, dict) else None
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------------------------------

def tool_env(ddb_url, s3_url=None):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("AWS_"):
            del env[name]
    env.update({"AWS_ACCESS_KEY_ID": tarius_stack.ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY":
                tarius_stack.SECRET_ACCESS_KEY, "AWS_REGION": tarius_stack.REGION,
                "AWS_ENDPOINT_URL_DYNAMODB": ddb_url, "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "TARIUS_PROGRESS_SECONDS": "0",
                # A load that makes no progress (an outage) stops as transient after this long; a killed load's
                # lease lapses after this long, so that its resumption does not wait minutes.
                "TARIUS_NO_PROGRESS_SECONDS": "15", "TARIUS_LEASE_SECONDS": "8", "TARIUS_HEARTBEAT_SECONDS": "2"})
    env["AWS_ENDPOINT_URL"] = s3_url or ddb_url
    if s3_url:
        env["AWS_ENDPOINT_URL_S3"] = s3_url
    return env


class seed_result:
    def __init__(self, seed, cls, directory):
        self.seed = seed
        self.cls = cls
        self.directory = directory
        self.diffs = []
        self.seconds = 0.0
        self.notes = ""
        self.refused = 0  # rows the model expects refused
        self.actions = collections.Counter()  # the proxy's decisions for this seed

    def describe(self):
        lines = ["seed %d (class %s, %.1f s): %s" % (self.seed, self.cls, self.seconds, self.notes),
                 "  csv %s" % os.path.join(self.directory, "input.csv"),
                 "  proxy log %s" % os.path.join(self.directory, "proxy.jsonl")]
        lines += ["  [%s] %s" % d for d in self.diffs]
        return "\n".join(lines)


def run_seed(seed, st, ddb, root):
    cls = CLASSES[seed % len(CLASSES)]
    directory = os.path.join(root, "seed-%04d" % seed)
    os.makedirs(directory)
    result = seed_result(seed, cls, directory)
    started = time.monotonic()
    data, header_raw, rows = generate_csv(seed, cls)
    expected = expectation(rows)
    result.refused = len(expected.refused)
    csv_path = os.path.join(directory, "input.csv")
    with open(csv_path, "wb") as f:
        f.write(data)
    # The oracle's own reading of the file must agree with how it was written.
    with open(csv_path, newline="", encoding="utf-8") as f:
        parsed = list(csv.reader(f))
    assert parsed == [HEADER] + [r.fields for r in rows], "generator and csv module disagree (seed %d)" % seed

    table = "fm-%04d" % seed
    create_table(ddb, table)
    log_path = os.path.join(directory, "proxy.jsonl")
    spec = fault_profile(seed, cls, table, log_path)
    if cls == "outage":
        spec["outage_after"] = random.Random("outage-%d" % seed).randint(0, max(0, expected.batches - 2))
    set_profile(st.ddb_proxy.url, spec)
    rejects = os.path.join(directory, "rejects.csv")
    concurrency = random.Random("concurrency-%d" % seed).choice([1, 2, 4, 16, 64])
    argv = [TARIUS, "load", csv_path, "--table", table, "--key", "ID", "--rejects", rejects, "--json",
            "--concurrency", str(concurrency)]
    result.notes = "%d rows, %d batches, concurrency %d; %s" % (
        len(rows), expected.batches, concurrency, " ".join(argv[1:]))
    try:
        proc = subprocess.run(argv, env=tool_env(st.ddb_proxy.url), capture_output=True, timeout=LOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        result.diffs.append(("timeout", "no exit within %d s (endless retry?); stderr %r" % (
            LOAD_TIMEOUT_S, (e.stderr or b"")[-400:])))
        result.seconds = time.monotonic() - started
        return result
    with open(os.path.join(directory, "stdout.json"), "wb") as f:
        f.write(proc.stdout)
    with open(os.path.join(directory, "stderr.txt"), "wb") as f:
        f.write(proc.stderr)
    report = parse_report(proc.stdout)
    view = proxy_view(log_path)
    items = scan_table(ddb, table)
    result.notes += "; proxy: %d requests %s" % (view.requests, dict(view.actions))
    result.actions = view.actions
    if cls == "outage":
        result.diffs += check_failed_load(expected, proc, report, items, view)
        ddb.delete_table(TableName=table)
        result.seconds = time.monotonic() - started
        return result
    result.diffs += check_report(expected, proc, report)
    result.diffs += check_table(expected, items)
    if report is not None:
        result.diffs += check_counts(expected, report, view)
    result.diffs += check_acks(expected, view)
    data_rejects, reasons = read_rejects(rejects)
    result.diffs += check_rejects(expected, header_raw, data_rejects, reasons)
    ddb.delete_table(TableName=table)
    result.seconds = time.monotonic() - started
    return result



# ------------------------------------------------------------------------------------------------------------------
# SIGKILL and resume: `tarius load s3://...` with a ledger, killed at random points, then run again.

KILL_BUCKET = "fm-kill"
LEDGER = "fm-ledger"


def ledger_records(ddb, source):
    """The ledger's load records of `source` (boto3 straight on dynalite)."""
    out = []
    kwargs = {"TableName": LEDGER, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        out += [i for i in page["Items"] if i.get("source", {}).get("S") == source and "load_id" in i]
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def s3_bytes(s3, uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def run_kill_scenario(index, st, ddb, s3, root):
    seed = 10000 + index
    cls = "kill"
    directory = os.path.join(root, "kill-%d" % index)
    os.makedirs(directory)
    result = seed_result(seed, cls, directory)
    started = time.monotonic()
    rng = random.Random("kill-%d" % seed)
    # Refused rows in every other scenario only, so that a kill is also seen alone.
    data, header_raw, rows = generate_csv(seed, "mixed", n_rows=rng.randint(3000, 4000),
                                          poison_rate=0.01 if index % 2 else 0.0)
    expected = expectation(rows)
    result.refused = len(expected.refused)
    csv_path = os.path.join(directory, "input.csv")
    with open(csv_path, "wb") as f:
        f.write(data)
    key = "raw-data/kill-%d.csv" % index
    s3.put_object(Bucket=KILL_BUCKET, Key=key, Body=data)
    source = "s3://%s/%s" % (KILL_BUCKET, key)
    table = "fk-%04d" % seed
    create_table(ddb, table)
    log_path = os.path.join(directory, "proxy.jsonl")
    spec = fault_profile(seed, "mixed", table, log_path)
    # Every request waits a little, so that the load lasts long enough to be killed in its middle.
    spec.update(delay=1.0, delay_max_ms=700)
    set_profile(st.ddb_proxy.url, spec)
    env = tool_env(st.ddb_proxy.url, st.moto.url)
    env.update(TARIUS_LEASE_SECONDS="4", TARIUS_HEARTBEAT_SECONDS="1")
    argv = [TARIUS, "load", source, "--table", table, "--ledger-table", LEDGER, "--json", "--concurrency", "2"]
    result.notes = "%d rows, %d batches; %s" % (len(rows), expected.batches, " ".join(argv[1:]))
    load_ids, kills = set(), []
    final = None
    for attempt in range(rng.randint(1, 3)):
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # The first kill comes after a checkpoint was saved (the CLI's heartbeat is 15 s unless
        # TARIUS_HEARTBEAT_SECONDS is honoured), so that the resume skips written batches; later ones anywhere.
        pause = rng.uniform(16.0, 22.0) if attempt == 0 else rng.uniform(0.5, 8.0)
        try:
            out, err = proc.communicate(timeout=pause)
            final = subprocess.CompletedProcess(argv, proc.returncode, out, err)  # it finished before the kill
            break
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
        records = ledger_records(ddb, source)
        kills.append("%.1f s: checkpoint %s" % (pause, [r.get("checkpoint_offset", {}).get("N") for r in records]))
        load_ids.update(r["load_id"]["S"] for r in records)
    result.notes += "; kills at " + ", ".join(kills)
    if final is None:
        try:
            final = subprocess.run(argv, env=env, capture_output=True, timeout=LOAD_TIMEOUT_S + 240)
        except subprocess.TimeoutExpired as e:
            result.diffs.append(("timeout", "the resumed load did not end; stderr %r" % (e.stderr or b"")[-400:]))
            result.seconds = time.monotonic() - started
            return result
    with open(os.path.join(directory, "stdout.json"), "wb") as f:
        f.write(final.stdout)
    with open(os.path.join(directory, "stderr.txt"), "wb") as f:
        f.write(final.stderr)
    report = parse_report(final.stdout)
    result.diffs += check_report(expected, final, report)
    result.diffs += check_table(expected, scan_table(ddb, table))
    view = proxy_view(log_path)
    result.diffs += check_acks(expected, view, single_run=False)
    if report is None:
        result.seconds = time.monotonic() - started
        return result
    result.diffs += check_counts(expected, report, view, single_run=False)

    # One load, one id: the ledger's record, the report and the report's object all name the id of the first run.
    records = ledger_records(ddb, source)
    load_ids.update(r["load_id"]["S"] for r in records)
    if len(records) != 1 or load_ids != {report.get("load_id")}:
        result.diffs.append(("load_id", "load ids %s in the ledger/kills, report says %s" % (
            sorted(load_ids), report.get("load_id"))))
    elif records[0].get("load_status", {}).get("S") != expected.status():
        result.diffs.append(("ledger_status", "ledger status %s, expected %s" % (
            records[0].get("load_status"), expected.status())))
    reports = [o["Key"] for o in s3.list_objects_v2(Bucket=KILL_BUCKET, Prefix="load-reports/" + key + "/")
               .get("Contents", [])]
    if reports != ["load-reports/%s/%s.json" % (key, report.get("load_id"))]:
        result.diffs.append(("report_objects", "report objects %s" % reports))

    # The rejects next to the file: exactly the rejected and refused rows, whatever the kills interrupted.
    rejects = report.get("rejects") or {}
    data_rejects, reasons = None, []
    if rejects.get("csv"):
        data_rejects = s3_bytes(s3, rejects["csv"])
        reasons = [json.loads(line) for line in s3_bytes(s3, rejects["reasons"]).decode().splitlines() if line]
    result.diffs += check_rejects(expected, header_raw, data_rejects, reasons)

    # The same command once more: nothing to do, the same load.
    again = subprocess.run(argv, env=env, capture_output=True, timeout=LOAD_TIMEOUT_S)
    again_report = parse_report(again.stdout)
    if again.returncode != 0 or not again_report or again_report.get("load_id") != report.get("load_id"):
        result.diffs.append(("rerun", "the same command after the load: exit %d, %s" % (
            again.returncode, again.stdout[:300])))
    result.seconds = time.monotonic() - started
    return result


def summarize(results):
    """Failing seeds per class and per kind of difference, for the report."""
    by_class = collections.defaultdict(lambda: [0, 0, 0, 0])
    by_code = collections.Counter()
    codes_by_class = collections.defaultdict(collections.Counter)
    for r in results:
        column = 2 if r.refused else 0
        by_class[r.cls][column] += 1
        if r.diffs:
            by_class[r.cls][column + 1] += 1
        for code in {d[0] for d in r.diffs}:
            by_code[code] += 1
            codes_by_class[(r.cls, bool(r.refused))][code] += 1
    lines = ["class         without refused rows   with refused rows",
             "              seeds failing          seeds failing"]
    for cls in CLASSES + sorted(set(by_class) - set(CLASSES)):
        a, b, c, d = by_class[cls]
        lines.append("%-13s %5d %7d          %5d %7d" % (cls, a, b, c, d))
    for (cls, refused), codes in sorted(codes_by_class.items()):
        lines.append("  %s%s: %s" % (cls, " (refused rows)" if refused else "",
                                      ", ".join("%s %d" % kv for kv in codes.most_common())))
    lines.append("differences (seeds showing each): " + ", ".join("%s %d" % kv for kv in by_code.most_common()))
    return "\n".join(lines)


class fault_model(unittest.TestCase):
    def test_model_check_over_seeds(self):
        root = tempfile.mkdtemp(prefix="tarius-fault-model-")
        log = os.path.join(root, "proxy-all.jsonl")
        started = time.monotonic()
        with tarius_stack.stack(ddb_proxy_args=["--log", log]) as st:
            ddb = tarius_stack.dynamodb_client(st.dynalite.url, max_attempts=5)
            seeds = range(FIRST_SEED, FIRST_SEED + SEEDS)
            with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
                results = list(pool.map(lambda s: run_seed(s, st, ddb, root), seeds))
        failing = [r for r in results if r.diffs]
        for r in results:
            if not r.diffs and not KEEP:
                shutil.rmtree(r.directory, ignore_errors=True)
        # The check is only as good as the faults it made: every kind must have happened.
        made = sum((r.actions for r in results), collections.Counter())
        print("proxy decisions over all seeds: %s" % dict(made), file=sys.stderr)
        elapsed = time.monotonic() - started
        print("\n%d seeds in %.0f s (%d at once), %d failing; files in %s" % (
            len(results), elapsed, PARALLEL, len(failing), root), file=sys.stderr)
        print(summarize(results), file=sys.stderr)
        for r in failing:
            print(r.describe(), file=sys.stderr)
        with open(os.path.join(root, "summary.txt"), "w") as f:
            f.write(summarize(results) + "\n\n" + "\n\n".join(r.describe() for r in failing) + "\n")
        if not failing and not KEEP:
            shutil.rmtree(root, ignore_errors=True)
        if SEEDS >= 100:
            self.assertEqual([a for a in FAULTS + ["refuse", "outage", "delayed", "pass"] if not made[a]], [],
                             "fault kinds the proxy never made")
        self.assertEqual([r.seed for r in failing], [], "seeds with differences (details above, summary in %s)" %
                         os.path.join(root, "summary.txt"))

    def test_sigkill_and_resume_through_the_proxy(self):
        root = tempfile.mkdtemp(prefix="tarius-fault-kill-")
        log = os.path.join(root, "proxy-all.jsonl")
        with tarius_stack.stack(moto=True, ddb_proxy_args=["--log", log]) as st:
            ddb = tarius_stack.dynamodb_client(st.dynalite.url, max_attempts=5)
            s3 = tarius_stack.s3_client(st.moto.url)
            s3.create_bucket(Bucket=KILL_BUCKET)
            ddb.create_table(TableName=LEDGER, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST")
            with concurrent.futures.ThreadPoolExecutor(max(1, KILL_SCENARIOS)) as pool:
                results = list(pool.map(lambda i: run_kill_scenario(i, st, ddb, s3, root), range(KILL_SCENARIOS)))
        failing = [r for r in results if r.diffs]
        for r in results:
            print(r.describe(), file=sys.stderr)
        if not failing and not KEEP:
            shutil.rmtree(root, ignore_errors=True)
        self.assertEqual([r.seed for r in failing], [], "kill scenarios with differences (details above)")


if __name__ == "__main__":
    unittest.main()
