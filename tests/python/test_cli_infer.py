# ctest-label: fixture
"""Issue 11, item 4: `tarius infer FILE` prints a starter feed, and `tarius validate FILE --feeds DOC` takes it.

Oracles the project did not write: PyYAML (the document as a YAML 1.1 reader sees it: names, quoting, comments), json,
Python's csv module (the cells and the row count), a type rule written here from the documentation (a DynamoDB number
is canonical when Python's Decimal and a plain regular expression agree it is written without exponent, sign `+`,
leading or trailing zeros; at most 38 significant digits, magnitude 1E-130 to 1E+126), gzip and the zstd tool.
"""
import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
import tarius_stack  # noqa: E402

try:
    import yaml
except ImportError:  # the document is then read back by tarius validate alone
    yaml = None

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")
SEED = os.path.join(tarius_stack.source_dir(), "..", "shared", "seed-data", "products.csv")


def run(*args, **kwargs):
    kwargs.setdefault("capture_output", True)
    return subprocess.run([TARIUS, *args], timeout=120, **kwargs)


def one_line_error(test, proc):
    """Exit status 2 and a single 'tarius ...' line on stderr; returns that line."""
    err = proc.stderr.decode("utf-8", "replace")
    test.assertEqual(proc.returncode, 2, err)
    test.assertEqual(len(err.strip().splitlines()), 1, err)
    test.assertTrue(err.startswith("tarius "), err)
    return err.strip()


# --- the type rules, written from the documentation --------------------------------------------------------------

CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
BOOLS = {"true", "false", "yes", "no", "y", "n", "1", "0"}


def dynamo_canonical(text):
    if not CANONICAL.fullmatch(text) or text == "-0":
        return False
    value = Decimal(text)
    if value == 0:
        return True
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    return len(digits) <= 38 and -130 <= value.adjusted() <= 125


def json_container(text):
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, (dict, list))


def blank_trimmed(cell):
    return cell.strip(" \t")


def expected_type(cells):
    values = [blank_trimmed(c) for c in cells if blank_trimmed(c)]
    if not values:
        return "string"
    if all(dynamo_canonical(v) for v in values):
        return "number"
    if all(v.lower() in BOOLS for v in values):
        return "bool"
    if all(json_container(v) for v in values):
        return "json"
    return "string"


def read_rows(text, delimiter=",", sep_line=False):
    if text.startswith("\ufeff"):
        text = text[1:]
    if sep_line:
        text = text.split("\n", 1)[1]
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    return rows[0], rows[1:]


def expected_columns(header, rows):
    """name -> (type, empty count, key candidate)"""
    out = {}
    for idx, name in enumerate(header):
        cells = [r[idx] for r in rows]
        values = [blank_trimmed(c) for c in cells]
        kind = expected_type(cells)
        candidate = (
            all(values)
            and len(set(values)) == len(values)
            and kind in ("string", "number")
            and max(len(v.encode()) for v in values) <= 2048
        )
        out[blank_trimmed(name)] = (kind, sum(1 for v in values if not v), candidate)
    return out


# --- reading what infer printed ------------------------------------------------------------------------------------


def column_table(doc):
    """The comment table of columns: name -> (type, empty, distinct, notes)."""
    lines = doc.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# column "))
    table = {}
    for line in lines[start + 1:]:
        if not line.startswith("# "):
            break
        parts = re.split(r"\s{2,}", line[2:].strip(), maxsplit=4)
        name = json.loads(parts[0]) if parts[0].startswith('"') else parts[0]
        table[name] = (parts[1], int(parts[2]), int(parts[3]), parts[4] if len(parts) > 4 else "")
    return table


def key_name(text):
    name, _, kind = text.rpartition(":")
    return name, kind


class infer_helpers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def read(self, path):
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()

    def write_csv(self, name, header, rows, delimiter=","):
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return self.write(name, out.getvalue())

    def infer(self, path, *flags):
        proc = run("infer", path, *flags)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stderr, b"")
        return proc.stdout.decode()

    def parse(self, doc, path):
        """The document as PyYAML reads it, checked against --json; None without PyYAML."""
        as_json = json.loads(self.infer(path, "--json"))
        if yaml is None:
            return as_json
        parsed = yaml.safe_load(doc)
        self.assertEqual(parsed, as_json)
        return parsed

    def validate(self, path, doc, *flags):
        """tarius validate FILE --feeds DOC: exit 0 or 1, never 2; returns the summary."""
        feeds = os.path.join(self.dir, "feeds-%d.yaml" % len(os.listdir(self.dir)))
        with open(feeds, "w") as f:
            f.write(doc)
        proc = run("validate", path, "--feeds", feeds, "--json", *flags)
        self.assertIn(proc.returncode, (0, 1), proc.stderr.decode() + proc.stdout.decode())
        summary = json.loads(proc.stdout)
        self.assertEqual(summary["rows_rejected"] > 0, proc.returncode == 1)
        return summary

    def check(self, path, text, delimiter=",", sep_line=False, validate_flags=()):
        """Infers `path` (whose decoded content is `text`), checks the document against the rules and Python's csv
        module, validates the file with it; returns (doc, parsed feed, summary)."""
        doc = self.infer(path)
        parsed = self.parse(doc, path)
        header, rows = read_rows(text, delimiter, sep_line)
        expected = expected_columns(header, rows)
        table = column_table(doc)
        self.assertEqual(list(table), list(expected))
        for name, (kind, empty, _) in expected.items():
            self.assertEqual(table[name][0], kind, name)
            self.assertEqual(table[name][1], empty, name)
        (feed_name, feed), = parsed["feeds"].items()
        mapping = feed["mapping"]
        self.assertEqual(set(feed), {"match", "table", "mapping"} | ({"delimiter"} if delimiter != "," else set()))
        self.assertTrue(feed["match"]["prefix"].endswith("/"))
        keys = [key_name(mapping["partition_key"])[0]]
        if "sort_key" in mapping:
            keys.append(key_name(mapping["sort_key"])[0])
        for name in keys:
            self.assertIn(name, expected)
            self.assertEqual(key_name(mapping["partition_key"])[1] == "N" and name == keys[0],
                             expected[name][0] == "number" and name == keys[0])
        candidates = [n for n, (_, _, c) in expected.items() if c]
        if candidates:
            self.assertEqual(len(keys), 1)
            self.assertIn(keys[0], candidates)
        rules = {name: {"type": kind} for name, (kind, _, _) in expected.items()
                 if kind != "string" and name not in keys}
        self.assertEqual(mapping.get("columns", {}), rules)
        summary = self.validate(path, doc, *validate_flags)
        self.assertEqual(summary["rows_read"], len(rows))
        return doc, feed, summary


class infer_seed(infer_helpers):
    def test_seed_sample(self):
        if not os.path.exists(SEED):
            self.skipTest(SEED + " is not on this machine")
        with open(SEED, newline="", encoding="utf-8") as f:
            text = f.read()
        doc, feed, summary = self.check(SEED, text)
        self.assertEqual(feed["mapping"]["partition_key"], "ID:S")
        self.assertEqual(feed["table"], "products")
        self.assertEqual(summary["rows_rejected"], 0)
        self.assertIn("# Delimiter: \",\" (comma), sniffed from the header line.", doc)
        self.assertIn("# Header: line 1 names the 9 columns", doc)
        self.assertIn("Other key candidates (non-empty and unique in the sample): Title, Url.", doc)
        price = column_table(doc)["Price (USD)"]
        self.assertIn("currency: true", price[3])  # "$12.99 " is an amount, not a number as DynamoDB writes it


class infer_types(infer_helpers):
    def test_numbers_only_when_they_round_trip(self):
        rows = []
        for i in range(60):
            rows.append([
                str(i + 1),                                      # id: number
                ["-2", "3.25", "0", "0.001", "9" * 38][i % 5],   # canonical: number
                "%03d" % i,                                      # 007: DynamoDB would store 7
                "+%d" % i,                                       # +5
                "%d.50" % i,                                     # 1.50
                "1e%d" % (i % 5),                                # 1e3
                "1" * 39,                                        # 39 significant digits
                "$%d,299.00" % (i + 1),                          # an amount
                "1" + "0" * 126 if i == 30 else str(i),          # 1E+126: out of DynamoDB's range
                "1.0e500" if i == 45 else str(i * 7),            # not a DynamoDB number at all
            ])
        header = ["id", "canonical", "padded", "plus", "trailing", "exponent", "digits39", "amount", "range", "huge"]
        path = self.write_csv("numbers.csv", header, rows)
        doc, feed, _ = self.check(path, self.read(path))
        self.assertEqual(feed["mapping"]["partition_key"], "id:N")
        self.assertEqual(feed["mapping"]["columns"], {"canonical": {"type": "number"}})
        table = column_table(doc)
        self.assertIn('"000" (line 2) would be stored as 0 by {type: number}', table["padded"][3])
        self.assertIn('"$1,299.00" (line 2) as 1299', table["amount"][3])

    def test_bools_json_and_flags(self):
        rows = []
        for i in range(40):
            rows.append([
                "k%d" % i,
                ["true", "False", "YES", "no", "Y", "n"][i % 6],
                str(i % 2),
                ["true", "maybe"][i % 2],
                json.dumps({"a": i, "b": [1, "x", None, True]}) if i % 3 else "",
                json.dumps([i, "x"]),
                json.dumps("just a string"),
                "{oops" if i == 7 else "{}",
            ])
        header = ["key", "flag", "bits", "mixed", "object", "array", "jstring", "broken"]
        path = self.write_csv("flags.csv", header, rows)
        doc, feed, summary = self.check(path, self.read(path))
        self.assertEqual(summary["rows_rejected"], 0)
        self.assertEqual(feed["mapping"]["partition_key"], "key:S")
        self.assertEqual(feed["mapping"]["columns"], {
            "flag": {"type": "bool"}, "bits": {"type": "number"}, "object": {"type": "json"},
            "array": {"type": "json"}})
        self.assertIn("only 0 and 1", column_table(doc)["bits"][3])

    def test_empty_cells_are_counted(self):
        rows = [[str(i), "" if i % 3 == 0 else str(i * 2), "   " if i % 2 else "x", "", "v%d" % i] for i in range(30)]
        path = self.write_csv("sparse.csv", ["n", "sparse", "blanks", "nothing", "label"], rows)
        doc, feed, _ = self.check(path, self.read(path))
        table = column_table(doc)
        self.assertEqual(table["sparse"][:2], ("number", 10))
        self.assertEqual(table["blanks"][:2], ("string", 15))
        self.assertEqual(table["nothing"][:3], ("string", 30, 0))
        self.assertIn("always empty in the sample", table["nothing"][3])
        self.assertEqual(feed["mapping"]["partition_key"], "n:N")

    def test_names_that_need_quoting(self):
        header = ["Price (USD)", "true", "123", "a: b", "#x", 'say "hi"', "Caf\u00e9", "yes", "-dash", "~", "ID"]
        rows = [["p%d" % i, "x", "y", "z", "w", "v", "u", "t", "s", "r", "id-%d" % i] for i in range(5)]
        path = self.write_csv("names.csv", header, rows)
        doc, feed, _ = self.check(path, self.read(path))
        self.assertEqual(feed["mapping"]["partition_key"], "ID:S")
        for name in header:
            self.assertIn(name, column_table(doc))
        self.assertIn('"Price (USD)"', doc)

    def test_a_quoted_name_as_key_and_typed_rules(self):
        header = ["key: one", "#n", "y", "Zip Code"]
        rows = [["k%d" % i, str(i), ["yes", "no"][i % 2], "%05d" % i] for i in range(5)]
        path = self.write_csv("quoted.csv", header, rows)
        doc, feed, _ = self.check(path, self.read(path))
        self.assertEqual(feed["mapping"]["partition_key"], "key: one:S")
        self.assertEqual(feed["mapping"]["columns"], {"#n": {"type": "number"}, "y": {"type": "bool"}})


class infer_keys(infer_helpers):
    def test_a_unique_pair_when_no_column_is_unique(self):
        rows = [["s%d" % store, "sku-%d" % sku, str(store * sku)] for store in range(3) for sku in range(5)]
        path = self.write_csv("stock.csv", ["store", "item", "qty"], rows)
        doc, feed, summary = self.check(path, self.read(path))
        self.assertEqual(feed["mapping"]["partition_key"], "store:S")
        self.assertEqual(feed["mapping"]["sort_key"], "item:S")
        self.assertEqual(summary["duplicates_collapsed"], 0)
        self.assertEqual(summary["items"], len(rows))

    def test_duplicate_keys(self):
        rows = [["a%d" % (i % 4), "x"] for i in range(12)]
        path = self.write_csv("dups.csv", ["code", "v"], rows)
        doc, feed, summary = self.check(path, self.read(path))
        self.assertEqual(feed["mapping"]["partition_key"], "code:S")
        self.assertIn("No column, nor pair of columns, is non-empty and unique", doc)
        self.assertEqual(summary["rows_read"], 12)
        self.assertEqual(summary["rows_rejected"], 0)

    def test_a_key_with_empty_cells_rejects_those_rows(self):
        # Both columns have empty cells: a, with more distinct values, is the better key of the two.
        rows = [["" if i % 4 == 0 else "a%d" % (i % 3), "" if i % 6 == 1 else str(i % 2)] for i in range(12)]
        path = self.write_csv("holes.csv", ["a", "b"], rows)
        doc, feed, summary = self.check(path, self.read(path))
        self.assertEqual(feed["mapping"]["partition_key"], "a:S")  # more distinct values than b
        self.assertEqual(summary["rows_rejected"], 3)  # exit status 1, not 2


class infer_dialects(infer_helpers):
    ROWS = [["id", "name", "price"]] + [[str(i), "n %d" % i, "%d.25" % i] for i in range(1, 21)]

    def text(self, delimiter):
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(self.ROWS)
        return out.getvalue()

    def test_other_delimiters(self):
        for delimiter, word in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            with self.subTest(delimiter=word):
                text = self.text(delimiter)
                path = self.write("d-%s.csv" % word, text)
                doc = self.infer(path)
                # The feed names its delimiter: validate (and the worker, the function) need no flag; a
                # --delimiter that repeats it is accepted, one that contradicts it refused.
                self.assertIn("    delimiter: " + word, doc)
                self.check(path, text, delimiter=delimiter)
                self.check(path, text, delimiter=delimiter, validate_flags=("--delimiter", word))
                feeds = self.write("d-%s.feeds.yaml" % word, doc)
                done = run("validate", path, "--feeds", feeds, "--delimiter", "comma")
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertIn(b"contradicts feeds.", done.stderr)

    def test_an_excel_sep_line(self):
        text = "sep=;\n" + self.text(";")
        path = self.write("sep.csv", text)
        doc, _, _ = self.check(path, text, delimiter=";", sep_line=True)
        self.assertIn("named by the file's Excel sep= line", doc)
        self.assertIn("# Header: line 2 names the 3 columns", doc)

    def test_crlf_and_a_bom(self):
        text = "\ufeff" + self.text(",").replace("\n", "\r\n")
        path = self.write("bom.csv", text)
        self.check(path, text)

    def test_gzip_and_zstd(self):
        text = self.text(",")
        plain = self.infer(self.write("plain.csv", text))
        gz = self.write("packed.csv.gz", gzip.compress(text.encode()))
        doc, _, _ = self.check(gz, text)
        self.assertIn("(gzip)", doc.splitlines()[0])
        self.assertEqual(doc.split("feeds:", 1)[1].replace("packed", "plain"), plain.split("feeds:", 1)[1])
        if shutil.which("zstd") is None:
            return
        zst = self.write("packed.csv.zst", subprocess.run(["zstd", "-q", "-c"], input=text.encode(),
                                                          capture_output=True, check=True).stdout)
        doc, _, _ = self.check(zst, text)
        self.assertIn("(zstd)", doc.splitlines()[0])

    def test_standard_input(self):
        text = self.text(",")
        proc = run("infer", "-", input=text.encode())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = proc.stdout.decode()
        if yaml is not None:
            self.assertEqual(list(yaml.safe_load(doc)["feeds"]), ["feed"])
        path = self.write("stdin.csv", text)
        self.validate(path, doc)


class infer_sample(infer_helpers):
    def test_rows_limits_the_sample(self):
        rows = [[str(i), str(i)] for i in range(1, 8)] + [["8", "eight"]]
        path = self.write_csv("late.csv", ["id", "v"], rows)
        whole = self.infer(path)
        self.assertIn("from all 8 rows of the file", whole)
        self.assertEqual(column_table(whole)["v"][0], "string")
        first = self.infer(path, "--rows", "7")
        self.assertIn("from the first 7 rows", first)
        self.assertEqual(column_table(first)["v"][0], "number")
        # The sample said number; the whole file says otherwise: validate rejects the row (exit 1, not 2).
        summary = self.validate(path, first)
        self.assertEqual((summary["rows_read"], summary["rows_rejected"]), (8, 1))
        self.assertEqual(self.infer(path, "--rows=8"), whole)

    def test_malformed_rows_are_left_out_and_named(self):
        text = "id,v\n1,2\n2,3,4\n3,4\n"
        path = self.write("bad.csv", text)
        doc = self.infer(path)
        self.assertIn("Malformed rows in the sample, left out of what follows: 1 (line 3: ", doc)
        self.assertEqual(column_table(doc)["v"][:2], ("number", 0))
        summary = self.validate(path, doc)
        self.assertEqual((summary["rows_read"], summary["rows_rejected"]), (3, 1))


class infer_errors(infer_helpers):
    def test_files_that_give_nothing_to_infer(self):
        cases = [
            (b"", "file is empty"),
            (b"\xef\xbb\xbf", "file is empty"),
            (b"a,b,c\n", "no rows after the header (line 1)"),
            (b"a,b,c\n\n\n", "no rows after the header (line 1)"),
            (b"a,b\n1\n1,2,3\n", "every sampled row is malformed"),
            (gzip.compress(b"a,b\n1,2\n")[:-6], "gzip"),  # truncated
            (b"PK\x03\x04rest", "unsupported compression"),
        ]
        for data, message in cases:
            with self.subTest(data=data[:12]):
                path = self.write("x.csv", data)
                err = one_line_error(self, run("infer", path))
                self.assertIn(path, err)
                self.assertIn(message, err)

    def test_bad_usage(self):
        path = self.write("ok.csv", "a\n1\n")
        cases = [
            (("infer",), "expected one FILE"),
            (("infer", path, path), "expected one FILE"),
            (("infer", path, "--rows", "0"), "--rows: not a number of rows to sample: '0'"),
            (("infer", path, "--rows", "-1"), "--rows"),
            (("infer", path, "--rows", "ten"), "--rows"),
            (("infer", path, "--rows"), "--rows needs a value"),
            (("infer", path, "--delimiter", "x"), "unknown delimiter"),
            (("infer", path, "--bogus"), "unknown flag --bogus"),
            (("infer", os.path.join(self.dir, "missing.csv")), "missing.csv"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assertIn(message, one_line_error(self, run(*args)))

    def test_help(self):
        proc = run("infer", "--help")
        self.assertEqual(proc.returncode, 0)
        text = proc.stdout.decode()
        self.assertIn("usage: tarius infer", text)
        for flag in ("--rows", "--delimiter", "--json"):
            self.assertIn(flag, text)
        self.assertIn("infer", run("--help").stdout.decode())


class validate_feeds(infer_helpers):
    DOC = """feeds:
  first:
    match: {prefix: a/}
    table: t1
    mapping: {partition_key: id:S}
  second:
    match: {prefix: b/}
    table: t2
    mapping: {partition_key: name:S, columns: {id: {type: number}}}
"""

    def setUp(self):
        super().setUp()
        self.csv = self.write("in.csv", "id,name\n1,a\nx,b\n")
        self.doc = self.write("feeds.yaml", self.DOC)

    def test_the_named_feed_applies(self):
        first = run("validate", self.csv, "--feeds", self.doc, "--feed", "first", "--json")
        self.assertEqual(first.returncode, 0, first.stderr)
        second = run("validate", self.csv, "--feeds", self.doc, "--feed", "second", "--json")
        self.assertEqual(second.returncode, 1, second.stderr)  # "x" is not a number
        self.assertEqual(json.loads(second.stdout)["rejected_by_reason"], {"invalid_number": 1})

    def test_one_feed_is_chosen_and_inline_json_works(self):
        doc = json.dumps({"feeds": {"only": {"match": {"prefix": "p/"}, "table": "t",
                                             "mapping": {"partition_key": "name:S"}}}})
        proc = run("validate", self.csv, "--feeds", doc, "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["rows_read"], 2)

    def test_feeds_errors(self):
        no_key = self.write("nokey.yaml", "feeds:\n  f:\n    match: {prefix: a/}\n    table: t\n")
        bad = self.write("bad.yaml", "feeds:\n  f:\n    match: {prefix: a/}\n    table: t\n    bogus: 1\n")
        cases = [
            (("--feeds", self.doc, "--key", "id"), "--key cannot be combined with --feeds: the feed's table and "
                                                   "mapping apply"),
            (("--feeds", self.doc, "--table", "t"), "--table cannot be combined with --feeds"),
            (("--feeds", self.doc, "--mapping", self.doc), "--mapping cannot be combined with --feeds"),
            (("--feeds", self.doc, "--types", "id=number"), "--types cannot be combined with --feeds"),
            (("--feeds", self.doc, "--sort-key", "id"), "--sort-key cannot be combined with --feeds"),
            (("--feeds", self.doc, "--default-type", "auto"), "--default-type cannot be combined with --feeds"),
            (("--feeds", self.doc, "--empty", "keep"), "--empty cannot be combined with --feeds"),
            (("--feeds", self.doc, "--no-trim"), "--no-trim cannot be combined with --feeds"),
            (("--feed", "first", "--key", "id"), "--feed NAME needs --feeds DOC"),
            (("--feeds", self.doc, "--feed", "third"), "--feed third: no such feed in the document"),
            (("--feeds", self.doc), "name the feed of %s with --feed (the document has first, second)" % self.csv),
            (("--feeds", no_key), "feed f: its mapping has no partition_key"),
            (("--feeds", bad), "feeds.f.bogus"),
            (("--feeds", os.path.join(self.dir, "missing.yaml")), "--feeds: cannot read the file"),
            (("--feeds", self.doc, "--feed", "first", "--rejects", self.doc), "refusing to overwrite an input"),
        ]
        for flags, message in cases:
            with self.subTest(flags=flags):
                self.assertIn(message, one_line_error(self, run("validate", self.csv, *flags)))
        with open(self.doc) as f:
            self.assertEqual(f.read(), self.DOC)  # the --rejects refusal wrote nothing


if __name__ == "__main__":
    unittest.main()
