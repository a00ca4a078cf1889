# ctest-label: fixture
"""Issue 10, items 8 and 11: outputs never destroy inputs, and clear errors.

Oracles the project did not write: the file system (os.stat: device and inode; the input's bytes before and after),
Python's csv module (how the rows of an Excel `sep=` file read once the line is taken as the directive Excel takes
it for: Python's csv itself has no such rule and would read `sep=;` as a one-field row), the zstd command-line tool
(it writes the data frames and decodes the file with a skippable frame; the skippable frame is built by hand, as
RFC 8878 3.1.2 lays it out) and json.loads.
"""
import csv
import hashlib
import io
import json
import os
import struct
import subprocess
import tempfile
import unittest

BIN = os.environ.get("TARIUS_BIN", "")
TARIUS = os.path.join(BIN, "tarius")


def run(*args, **kwargs):
    kwargs.setdefault("capture_output", True)
    return subprocess.run([TARIUS, *args], timeout=120, **kwargs)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def one_line_error(test, proc):
    """Exit status 2 and a single 'tarius ...' line on stderr; returns that line."""
    err = proc.stderr.decode("utf-8", "replace")
    test.assertEqual(proc.returncode, 2, err)
    test.assertEqual(len(err.strip().splitlines()), 1, err)
    test.assertTrue(err.startswith("tarius "), err)
    return err.strip()


def skippable_frame(variant, content):
    """A zstd skippable frame: magic 0x184D2A50 + variant, content size, content (little endian)."""
    return struct.pack("<II", 0x184D2A50 + variant, len(content)) + content


def items_of(jsonl, table="t"):
    items = []
    for line in jsonl.decode().splitlines():
        items += [p["PutRequest"]["Item"] for p in json.loads(line)["RequestItems"][table]]
    return items


class outputs_never_destroy_inputs(unittest.TestCase):
    """Item 8: an output that is an input (same file by device and inode) is refused with exit 2, before anything
    is opened for writing; the message names both paths."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.csv = os.path.join(self.dir, "big.csv")
        self.assertEqual(run("gen", "--rows", "2000", "--bad-every", "50", "--out", self.csv).returncode, 0)
        self.before = digest(self.csv)

    def tearDown(self):
        self.tmp.cleanup()

    def assert_refused(self, proc, *named):
        line = one_line_error(self, proc)
        self.assertIn("same file", line)
        for path in named:
            self.assertIn(path, line)
        self.assertEqual(digest(self.csv), self.before, "the input was changed")
        return line

    def test_convert_out_is_the_input(self):
        # The witness: convert big.csv --out big.csv replaced the CSV with JSON.
        proc = run("convert", self.csv, "--key", "ID", "--table", "t", "--out", self.csv)
        line = self.assert_refused(proc, "--out " + self.csv, "the input FILE " + self.csv)
        self.assertIn("refusing to overwrite an input", line)

    def test_validate_rejects_is_the_input(self):
        # The witness: validate s.csv --rejects s.csv kept only the rejected rows.
        proc = run("validate", self.csv, "--key", "ID", "--rejects", self.csv)
        self.assert_refused(proc, "--rejects " + self.csv, self.csv)

    def test_the_same_file_by_another_name(self):
        hard = os.path.join(self.dir, "hard.csv")
        os.link(self.csv, hard)
        sub = os.path.join(self.dir, "sub")
        os.mkdir(sub)
        soft = os.path.join(sub, "soft.csv")
        os.symlink(self.csv, soft)
        os.symlink(self.dir, os.path.join(self.dir, "again"))
        through_dir = os.path.join(self.dir, "again", "big.csv")
        self.assertEqual(os.stat(hard).st_ino, os.stat(self.csv).st_ino)
        for out in (hard, soft, through_dir, os.path.join(sub, "..", "big.csv")):
            with self.subTest(out=out):
                proc = run("convert", self.csv, "--key", "ID", "--table", "t", "--out", out)
                self.assert_refused(proc, out, self.csv)
        relative = run("convert", "big.csv", "--key", "ID", "--table", "t", "--out", "./big.csv", cwd=self.dir)
        self.assert_refused(relative, "./big.csv", "big.csv")

    def test_the_reasons_file_of_rejects(self):
        data = os.path.join(self.dir, "r.reasons.jsonl")
        os.rename(self.csv, data)
        self.csv = data
        proc = run("validate", data, "--key", "ID", "--rejects", os.path.join(self.dir, "r"))
        self.assert_refused(proc, "the reasons file of --rejects " + data, "the input FILE " + data)

    def test_the_mapping_file_is_an_input_too(self):
        mapping = os.path.join(self.dir, "mapping.yaml")
        with open(mapping, "w") as f:
            f.write("partition_key: ID\n")
        proc = run("convert", self.csv, "--mapping", mapping, "--table", "t", "--out", mapping)
        self.assert_refused(proc, "--out " + mapping, "the --mapping file " + mapping)
        with open(mapping) as f:
            self.assertEqual(f.read(), "partition_key: ID\n")

    def test_standard_streams_are_compared_too(self):
        # stdin read from the file that --out names, and stdout appending to the input.
        with open(self.csv, "rb") as stdin:
            proc = run("convert", "-", "--key", "ID", "--table", "t", "--out", self.csv, stdin=stdin)
        self.assert_refused(proc, "--out " + self.csv, "the input FILE - (standard input)")
        with open(self.csv, "ab") as stdout:
            proc = subprocess.run([TARIUS, "convert", self.csv, "--key", "ID", "--table", "t", "--out", "-"],
                                  stdout=stdout, stderr=subprocess.PIPE, timeout=120)
        self.assert_refused(proc, "--out - (standard output)", self.csv)

    def test_two_outputs_on_one_path(self):
        out = os.path.join(self.dir, "out.jsonl")
        proc = run("convert", self.csv, "--key", "ID", "--table", "t", "--out", out, "--rejects", out)
        line = one_line_error(self, proc)
        self.assertIn("--out " + out + " and --rejects " + out + " are the same file", line)
        self.assertFalse(os.path.exists(out))

    def test_load_refuses_before_any_aws_call(self):
        env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
        proc = run("load", self.csv, "--table", "t", "--key", "ID", "--rejects", self.csv, env=env)
        self.assert_refused(proc, "--rejects " + self.csv, "the input FILE " + self.csv)

    def test_distinct_outputs_and_devices_still_work(self):
        out = os.path.join(self.dir, "out.jsonl")
        rejects = os.path.join(self.dir, "rejects.csv")
        proc = run("convert", self.csv, "--key", "ID", "--table", "t", "--out", out, "--rejects", rejects)
        self.assertEqual(proc.returncode, 1, proc.stderr)  # every 50th row is bad
        with open(out, "rb") as f:
            self.assertEqual(len(items_of(f.read())), 1970)  # 30 of the 40 bad rows: prices are strings
        # The same output twice (a device, not a file) destroys nothing: /dev/null is allowed.
        proc = run("convert", self.csv, "--key", "ID", "--table", "t", "--out", "/dev/null")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        # Overwriting a previous output is fine: it is not an input.
        proc = run("convert", self.csv, "--key", "ID", "--table", "t", "--out", out, "--rejects", rejects)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(digest(self.csv), self.before)


SEP_FILE = b"sep=;\r\nID;Name;Price\r\n1;a;2\r\n2;b\r\n3;\"c;d\";4\r\n"


class excel_sep_line(unittest.TestCase):
    """Item 11: `sep=;` on line 1 with --delimiter auto said "empty header name in column 2"."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "excel.csv")
        with open(self.path, "wb") as f:
            f.write(SEP_FILE)

    def tearDown(self):
        self.tmp.cleanup()

    def expected_rows(self):
        # Python's csv on the file after its first line, with the delimiter that line names.
        text = SEP_FILE.decode()
        first, rest = text.split("\r\n", 1)
        self.assertEqual(first, "sep=;")
        return list(csv.reader(io.StringIO(rest, newline=""), delimiter=";"))

    def test_the_line_names_the_delimiter_and_is_no_row(self):
        rows = self.expected_rows()
        header, data = rows[0], rows[1:]
        good = [r for r in data if len(r) == len(header)]
        for flags in ([], ["--delimiter", "auto"], ["--delimiter", ";"], ["--delimiter", "semicolon"]):
            with self.subTest(flags=flags):
                out = os.path.join(self.tmp.name, "out.jsonl")
                rejects = os.path.join(self.tmp.name, "rejects.csv")
                proc = run("convert", self.path, "--key", "ID", "--table", "t", "--out", out, "--rejects", rejects,
                           "--json", *flags)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                summary = json.loads(proc.stdout)
                self.assertEqual(summary["rows_read"], len(data))
                self.assertEqual(summary["rows_rejected"], 1)
                self.assertEqual(items_of(open(out, "rb").read()),
                                 [{k: {"S": v} for k, v in zip(header, r)} for r in good])
                # The rejects file starts with the sep= line and the header: it reads back the same way.
                lines = SEP_FILE.splitlines(keepends=True)
                with open(rejects, "rb") as f:
                    self.assertEqual(f.read(), lines[0] + lines[1] + lines[3])
                with open(rejects + ".reasons.jsonl") as f:
                    reasons = [json.loads(line) for line in f]
                self.assertEqual(len(reasons), 1)
                self.assertEqual(reasons[0]["line"], 4)  # physical line, the sep= line counted
                self.assertEqual(reasons[0]["byte_offset"], len(lines[0] + lines[1] + lines[2]))
                self.assertEqual(reasons[0]["reason"], "field_count")
                again = run("validate", rejects, "--key", "ID", "--json", *flags)
                self.assertEqual(again.returncode, 1, again.stderr)
                self.assertEqual(json.loads(again.stdout)["rows_read"], 1)

    def test_a_delimiter_that_contradicts_the_line_is_an_error(self):
        proc = run("validate", self.path, "--key", "ID", "--delimiter", ",")
        line = one_line_error(self, proc)
        self.assertIn("line 1: the Excel sep= line names ';' as the delimiter, but the delimiter given is ','", line)
        self.assertNotIn("empty header name", line)


class zstd_skippable_frames(unittest.TestCase):
    """Item 11: a zstd file opening with a skippable frame (valid zstd) was called "not valid UTF-8"."""

    def test_a_skippable_frame_before_the_data(self):
        with tempfile.TemporaryDirectory() as tmp:
            plain = os.path.join(tmp, "p.csv")
            self.assertEqual(run("gen", "--rows", "3000", "--edge-cases", "--out", plain).returncode, 0)
            data = os.path.join(tmp, "p.csv.zst")
            subprocess.run(["zstd", "-q", "-f", plain, "-o", data], check=True)
            with open(data, "rb") as f:
                frames = f.read()
            wrapped = os.path.join(tmp, "wrapped.csv.zst")
            with open(wrapped, "wb") as f:
                f.write(skippable_frame(0, b"written by a tool that labels its files") + frames +
                        skippable_frame(15, b""))
            # The zstd tool reads it as valid zstd: the oracle that the file is well formed.
            decoded = subprocess.run(["zstd", "-d", "-c", wrapped], capture_output=True, check=True).stdout
            with open(plain, "rb") as f:
                self.assertEqual(decoded, f.read())
            want = run("convert", plain, "--key", "ID", "--table", "t", "--out", "-")
            got = run("convert", wrapped, "--key", "ID", "--table", "t", "--out", "-")
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, want.stdout)
            summary = json.loads(run("validate", wrapped, "--key", "ID", "--json").stdout)
            with open(plain, newline="", encoding="utf-8") as f:
                self.assertEqual(summary["rows_read"], len(list(csv.reader(f))) - 1)
            self.assertEqual(summary["compression"], "zstd")

    def test_only_skippable_frames_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "meta.csv.zst")
            with open(path, "wb") as f:
                f.write(skippable_frame(0, b"meta") + skippable_frame(1, b"more"))
            line = one_line_error(self, run("validate", path, "--key", "ID"))
            self.assertIn("only skippable frames", line)
            self.assertNotIn("UTF-8", line)


class count_flags(unittest.TestCase):
    """Item 11: negative values of count flags said "not a size ... (e.g. 1M)"."""

    def test_negative_and_invalid_counts(self):
        env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.csv")
            with open(path, "w") as f:
                f.write("ID\n1\n")
            cases = [
                (["validate", path, "--key", "ID", "--max-rejects"], "--max-rejects: not a count"),
                (["validate", path, "--key", "ID", "--errors"], "--errors: not a count"),
                (["validate", path, "--key", "ID", "--threads"], "--threads: not a number of threads"),
                (["convert", path, "--key", "ID", "--table", "t", "--out", "-", "--max-rejects"],
                 "--max-rejects: not a count"),
                (["gen", "--rows"], "--rows: not a count"),
                (["gen", "--bad-every"], "--bad-every: not a count"),
                (["gen", "--seed"], "--seed: not a seed"),
                (["load", path, "--table", "t", "--key", "ID", "--concurrency"], "--concurrency: not a count"),
                (["load", path, "--table", "t", "--key", "ID", "--max-wcu"],
                 "--max-wcu: not a number of WCU per second"),
                (["load", path, "--table", "t", "--key", "ID", "--max-rejects"], "--max-rejects: not a count"),
                (["loads", "--ledger-table", "ledger", "--limit"], "--limit: not a count"),
                (["worker", "--queue-url", "http://127.0.0.1:9/q", "--wait-seconds"],
                 "--wait-seconds: not a number of seconds"),
                (["worker", "--queue-url", "http://127.0.0.1:9/q", "--parallel-loads"], "--parallel-loads: not a count"),
                (["worker", "--queue-url", "http://127.0.0.1:9/q", "--visibility-timeout"],
                 "--visibility-timeout: not a number of seconds"),
            ]
            for args, expected in cases:
                for value in ("-1", "1.5", "1K", "x"):
                    with self.subTest(args=args, value=value):
                        line = one_line_error(self, run(*args, value, env=env))
                        self.assertIn(expected + ": '" + value + "' (a whole number, 0 or more, e.g. ", line)
                        self.assertNotIn("size", line)
            # A size stays a size.
            line = one_line_error(self, run("validate", path, "--key", "ID", "--max-field-size", "-1"))
            self.assertIn("--max-field-size: not a size: '-1'", line)
            line = one_line_error(self, run("validate", path, "--key", "ID", "--max-rejects",
                                            "99999999999999999999999"))
            self.assertIn("is too large for a count", line)


class silently_accepted_flags(unittest.TestCase):
    """Item 11: --types 'A=number,A=bool' and convert --table '' were accepted silently."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "s.csv")
        with open(self.path, "w") as f:
            f.write("ID,A,B\n1,2,true\n")

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_column_typed_twice(self):
        for types in ("A=number,A=bool", "A=number, B=bool, A = number"):
            with self.subTest(types=types):
                for command in (["validate", self.path], ["convert", self.path, "--table", "t", "--out", "-"]):
                    line = one_line_error(self, run(*command, "--key", "ID", "--types", types))
                    self.assertIn('--types names column "A" twice', line)
        # A --types entry may still override the mapping document's type for a column.
        mapping = os.path.join(self.tmp.name, "m.yaml")
        with open(mapping, "w") as f:
            f.write("partition_key: ID\ncolumns:\n  A: {type: bool}\n")
        proc = run("convert", self.path, "--mapping", mapping, "--types", "A=number", "--table", "t", "--out", "-")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(items_of(proc.stdout)[0]["A"], {"N": "2"})

    def test_table_names(self):
        for name in ("", "my table", "t/x", "x" * 256):
            for command in (["convert", self.path, "--out", "-"], ["validate", self.path]):
                with self.subTest(name=name, command=command[0]):
                    line = one_line_error(self, run(*command, "--key", "ID", "--table", name))
                    self.assertIn("--table: ", line)
                    self.assertIn("DynamoDB table names are 3-255 characters", line)
        for name in ("t", "Products.v2-eu_1", "arn:aws:dynamodb:us-east-1:123456789012:table/Products"):
            with self.subTest(name=name):
                proc = run("convert", self.path, "--key", "ID", "--table", name, "--out", "-")
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertIn(name, json.loads(proc.stdout)["RequestItems"])


class output_streams(unittest.TestCase):
    """Item 11: convert --out - printed the summary JSON on stderr without --json; --json output must end with a
    newline everywhere."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "s.csv")
        self.assertEqual(run("gen", "--rows", "60", "--bad-every", "20", "--out", self.path).returncode, 0)

    def tearDown(self):
        self.tmp.cleanup()

    def test_convert_to_stdout_writes_only_the_data_there(self):
        proc = run("convert", self.path, "--key", "ID", "--table", "t", "--out", "-")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(len(items_of(proc.stdout)), 58)
        err = proc.stderr.decode()
        self.assertIn("60 rows read: 58 items", err)  # the human summary
        for line in err.splitlines():
            self.assertFalse(line.startswith("{"), err)
        with_json = run("convert", self.path, "--key", "ID", "--table", "t", "--out", "-", "--json")
        self.assertEqual(with_json.stdout, proc.stdout)
        self.assertTrue(with_json.stderr.endswith(b"}\n"), with_json.stderr)
        self.assertEqual(json.loads(with_json.stderr)["rows_rejected"], 2)

    def test_json_ends_with_a_newline(self):
        out = os.path.join(self.tmp.name, "out.jsonl")
        env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", TARIUS_PROGRESS_SECONDS="0")
        runs = {
            "validate": (run("validate", self.path, "--key", "ID", "--json"), "stdout"),
            "convert": (run("convert", self.path, "--key", "ID", "--table", "t", "--out", out, "--json"), "stdout"),
            "convert to stdout": (run("convert", self.path, "--key", "ID", "--table", "t", "--out", "-", "--json"),
                                  "stderr"),
            # A load that cannot run (no such file) still prints its report.
            "load": (run("load", os.path.join(self.tmp.name, "missing.csv"), "--table", "t", "--key", "ID", "--json",
                         env=env), "stdout"),
        }
        for name, (proc, stream) in runs.items():
            with self.subTest(command=name):
                text = getattr(proc, stream)
                self.assertTrue(text.endswith(b"\n") and not text.endswith(b"\n\n"), text[-40:])
                json.loads(text.splitlines()[-1])


if __name__ == "__main__":
    unittest.main()
