# ctest-label: integration
"""The mapping layer's DynamoDB rules (number syntax and canonical form, number sizes, the item size limit, currency
cells) checked against dynalite.

ddb_number (tests/tools/ddb_number.cpp) prints what the C++ code decides, and `tarius convert` shows what the
encoder emits; dynalite, a DynamoDB implementation in Node.js, is the independent observer. Where dynalite and
AWS's documentation disagree (docs/dynamodb-numbers.md), a test says which side the code takes: the item size is
never below either (nothing either refuses passes), and a leading "+" is accepted as documented and never sent.
"""

import json
import os
import random
import socket
import subprocess
import time
import unittest
from pathlib import Path

import boto3
import botocore.config
from botocore.exceptions import ClientError

TABLE = "rules"
MAX_ITEM_SIZE = 400 * 1024


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_tool(args, lines):
    tool = Path(os.environ["TARIUS_BIN"]) / "ddb_number"
    proc = subprocess.run([str(tool), *args], input="".join(line + "\n" for line in lines), capture_output=True,
                          text=True, timeout=60, check=True)
    out = proc.stdout.splitlines()
    assert len(out) == len(lines), (len(out), len(lines))
    return out


# Literal cases: canonical forms, syntax errors, digit and magnitude limits.
NUMBERS = [
    "0", "-0", "0.0", "-0.000", "00", "0e999999", "1", "-1", "7", "10", "100", "1000.000", "0.00100",
    "-0012.50", "12.345", "1e3", "1E3", "1e+3", "1e-3", "1.5e-3", "12.345e1", "12.345e3", ".5", "-.5",
    "123456789012345678901234567890.12345678", "12345678901234567890123456789012345678",
    "123456789012345678901234567890123456789", "12345678901234567890123456789012345678901",
    "1.234567890123456789012345678901234567891", "100000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000012", "1.00000000000000000000000000000000000000000000000000",
    "1E-130", "-1E-130", "0.1e-129", "1E-131", "0.9E-130", "1234E-133", "12345E-134",
    "9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
    "1E125", "1E126", "10E125", "1e99999999", "1e-99999999",
    "", "-", ".", "e5", "1e", "1e+", "1,000", "0x10", "--1", "NaN", "Infinity", "1.2.3", " 1", "1 ", "abc",
    "1_0", "1e5.5",
    # A point with digits on one side only (README, "Numbers").
    "1.", "5.", "-1.", "1.e5", "-1.e3", "0.", "-.5e1", "-.", ".e5", "1.e",
]

# A leading "+": DynamoDB's documentation allows positive numbers and fixes no spelling, real DynamoDB accepts the
# sign (reported in nubo-db/dynoxide#109); dynalite's parser (big.js) refuses it. The code accepts it and sends the
# canonical form, without the sign.
PLUS_SIGNED = ["+5", "+0", "+1.5e2", "+.5", "+5.", "+12345678901234567890123456789012345678"]

# Numbers of every size shape: sign, digit count (odd/even), exponent of the leading digit (odd/even), zero.
SIZE_SHAPES = ["0", "-0"] + [
    sign + shape
    for sign in ("", "-")
    for digits in (1, 2, 3, 4, 5, 37, 38)
    for shape in ("12345678901234567890123456789012345678"[:digits],  # leading digit at exponent digits-1
                  "1." + "2345678901234567890123456789012345678"[:digits - 1],  # at exponent 0 (even)
                  "12." + "345678901234567890123456789012345678"[:max(digits - 2, 0)],  # at exponent 1 (odd)
                  "0.0" + "12345678901234567890123456789012345678"[:digits],  # at exponent -2 (even)
                  "0." + "12345678901234567890123456789012345678"[:digits])  # at exponent -1 (odd)
    if not shape.endswith(".")
] + ["1E-130", "-1E-130", "1234E-133", "-1234E-133", "9.9999999999999999999999999999999999999E+125",
     "-9.9999999999999999999999999999999999999E+125", "1E+125", "-1E+125", "1000", "-100", "0.001", "-0.0100"]


def _random_numbers(count):
    rng = random.Random(20261124)
    numbers = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 45)))
        point = rng.randint(0, len(digits))
        text = digits[:point] + ("." + digits[point:] if point < len(digits) or rng.random() < 0.2 else "")
        if text.startswith("."):
            text = "0" + text
        if rng.random() < 0.6:
            text += "e" + str(rng.randint(-170, 160))
        if rng.random() < 0.3:
            text = "-" + text
        numbers.append(text)
    return numbers


class dynalite_rules_test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        source = Path(os.environ.get("TARIUS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
        cli = source / "node_modules" / "dynalite" / "cli.js"
        if not cli.exists():
            raise unittest.SkipTest(f"dynalite not installed at {cli} (run scripts/setup)")
        cls.port = _free_port()
        cls.proc = subprocess.Popen(
            ["node", str(cli), "--host", "127.0.0.1", "--port", str(cls.port), "--createTableMs", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            os.environ.pop(name, None)
        cls.ddb = boto3.client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{cls.port}", region_name="us-east-1",
            aws_access_key_id="dummy", aws_secret_access_key="dummy",
            config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=30))
        deadline = time.monotonic() + 30
        while True:
            try:
                cls.ddb.list_tables()
                break
            except Exception:  # not listening yet
                if time.monotonic() > deadline or cls.proc.poll() is not None:
                    cls.tearDownClass()
                    raise
                time.sleep(0.1)
        cls.ddb.create_table(TableName=TABLE, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
        while cls.ddb.describe_table(TableName=TABLE)["Table"]["TableStatus"] != "ACTIVE":
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        proc = getattr(cls, "proc", None)
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, 15)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, 9)
                proc.wait()

    def _dynalite_number(self, key, text):
        """Stores `text` as an N attribute; returns the N text read back, or None when dynalite rejects it."""
        try:
            self.ddb.put_item(TableName=TABLE, Item={"pk": {"S": key}, "v": {"N": text}})
        except ClientError as err:
            self.assertEqual(err.response["Error"]["Code"], "ValidationException", text)
            return None
        got = self.ddb.get_item(TableName=TABLE, Key={"pk": {"S": key}}, ConsistentRead=True)
        return got["Item"]["v"]["N"]

    def _compare_numbers(self, numbers, prefix):
        ours = _run_tool([], numbers)
        accepted = rejected = 0
        for idx, (text, mine) in enumerate(zip(numbers, ours)):
            with self.subTest(number=text):
                theirs = self._dynalite_number(f"{prefix}{idx}", text)
                if theirs is None:
                    self.assertTrue(mine.startswith("ERR "), f"dynalite rejects {text!r}, ddb_number gives {mine!r}")
                    rejected += 1
                else:
                    self.assertEqual(mine, theirs, f"canonical form of {text!r}")
                    accepted += 1
        return accepted, rejected

    def test_numbers_literal(self):
        accepted, rejected = self._compare_numbers(NUMBERS, "lit")
        self.assertGreater(accepted, 30)
        self.assertGreater(rejected, 20)

    def test_numbers_random(self):
        accepted, rejected = self._compare_numbers(_random_numbers(400), "rnd")
        self.assertGreater(accepted, 50)
        self.assertGreater(rejected, 50)

    def test_numbers_plus_signed(self):
        """dynalite refuses a leading "+", which the code accepts; what the code sends is the canonical form, which
        dynalite accepts and stores unchanged."""
        ours = _run_tool([], PLUS_SIGNED)
        for idx, (text, mine) in enumerate(zip(PLUS_SIGNED, ours)):
            with self.subTest(number=text):
                self.assertFalse(mine.startswith("ERR "), mine)
                self.assertFalse(mine.startswith("+"), mine)
                self.assertIsNone(self._dynalite_number(f"plus{idx}", text), "dynalite now accepts a leading '+'")
                self.assertEqual(self._dynalite_number(f"plus{idx}", mine), mine)
                self.assertEqual(self._dynalite_number(f"plus{idx}", text[1:]), mine)

    def _item_sizes(self, items):
        import json
        out = _run_tool(["--item-size"], [json.dumps(item, ensure_ascii=False) for item in items])
        return [int(line) for line in out]

    def _put_accepted(self, item):
        try:
            self.ddb.put_item(TableName=TABLE, Item=item)
            return True
        except ClientError as err:
            self.assertEqual(err.response["Error"]["Code"], "ValidationException")
            self.assertIn("Item size has exceeded", err.response["Error"]["Message"])
            return False

    def _near_limit_items(self, body, key):
        """Items of size 400 KB - 1, 400 KB and 400 KB + 1 by our rules, padded with an ASCII string."""
        base = dict(body)
        base["pk"] = {"S": key}
        base["pad"] = {"S": ""}
        base_size = self._item_sizes([self._to_json(base)])[0] + len(str(MAX_ITEM_SIZE)) + 1
        items = []
        for target in (MAX_ITEM_SIZE - 1, MAX_ITEM_SIZE, MAX_ITEM_SIZE + 1):
            item = dict(base)
            item["pk"] = {"S": f"{key}-{target}"}
            item["pad"] = {"S": "x" * (target - base_size)}
            items.append((target, item))
        return items

    def test_item_size_limit(self):
        bodies = [
            {},
            {"n": {"N": "123"}, "big": {"N": "12345678901234567890123456789012345678901"[:37]}},
            {"flag": {"BOOL": True}, "nothing": {"NULL": True}, "bin": {"B": b"\x00\x01\x02\x03\x04"}},
            {"tags": {"SS": ["a", "bb", "ccc"]}, "nums": {"NS": ["1", "333", "55555"]}},
            {"list": {"L": [{"S": "ab"}, {"N": "7"}, {"L": []}, {"M": {}}]}},
            {"map": {"M": {"k1": {"S": "v"}, "k2": {"M": {"deep": {"BOOL": False}}}}}},
        ]
        for idx, body in enumerate(bodies):
            for target, item in self._near_limit_items(body, f"size{idx}"):
                with self.subTest(body=idx, size=target):
                    self.assertEqual(self._item_sizes([self._to_json(item)])[0], target)
                    self.assertEqual(self._put_accepted(item), target <= MAX_ITEM_SIZE)

    @staticmethod
    def _to_json(item):
        """boto3 takes B as bytes; the tool takes DynamoDB JSON with base64 text."""
        import base64

        def convert(value):
            (kind, inner), = value.items()
            if kind == "B":
                return {"B": base64.b64encode(inner).decode()}
            if kind == "L":
                return {"L": [convert(elem) for elem in inner]}
            if kind == "M":
                return {"M": {key: convert(elem) for key, elem in inner.items()}}
            return value

        return {name: convert(value) for name, value in item.items()}

    def _check_at_the_limit(self, body, key):
        """Tarius keeps the item of 400 KB by its rules and refuses the one of 400 KB + 1: dynalite must agree."""
        near = self._near_limit_items(body, key)[1:]
        sizes = self._item_sizes([self._to_json(item) for _, item in near])
        for (target, item), size in zip(near, sizes):
            with self.subTest(key=key, size=target):
                self.assertEqual(size, target)
                self.assertEqual(self._put_accepted(item), target <= MAX_ITEM_SIZE)

    def test_item_size_number_shapes(self):
        """Every sign / digit-count / exponent-parity shape, alone and 200 times in a list, where a byte too few
        per number would pass 200 bytes too much."""
        self.assertTrue(all(not line.startswith("ERR") for line in _run_tool([], SIZE_SHAPES)))
        for idx, shape in enumerate(SIZE_SHAPES):
            self._check_at_the_limit({"v": {"N": shape}}, f"shape{idx}")
            self._check_at_the_limit({"l": {"L": [{"N": shape}] * 200}}, f"list{idx}")

    def test_item_size_random_number_sets(self):
        """Thousands of random numbers in number sets and maps: the sizes must add up exactly as dynalite's."""
        numbers = _random_numbers(6000)
        canonical = _run_tool([], numbers)
        valid = sorted({c for c in canonical if not c.startswith("ERR")})
        self.assertGreater(len(valid), 2000)
        for idx in range(0, len(valid), 1000):
            chunk = valid[idx:idx + 1000]
            self._check_at_the_limit({"ns": {"NS": chunk}}, f"ns{idx}")
            self._check_at_the_limit({"m": {"M": {f"k{n}": {"N": v} for n, v in enumerate(chunk)}}}, f"m{idx}")

    def test_item_size_strings_are_utf8_bytes(self):
        """The documented rule counts UTF-8 bytes; dynalite counts UTF-16 code units, never more: the code keeps
        the documented (larger) count, so dynalite accepts everything it keeps, and also the item one byte over
        that it refuses."""
        for idx, text in enumerate(("é" * 100, "€" * 100, "\U0001F600" * 100)):
            for target, item in self._near_limit_items({"s": {"S": text}, "n": {"N": "-1.5"}}, f"utf{idx}"):
                with self.subTest(text=text[0], size=target):
                    self.assertEqual(self._item_sizes([self._to_json(item)])[0], target)
                    self.assertTrue(self._put_accepted(item))

    # `tarius convert` end to end: the encoder's decisions on CSV cells, checked against dynalite.

    def _convert(self, rows, mapping, workdir):
        """Runs `tarius convert` on a CSV of `rows` (header first); returns (items by ID, reasons by line)."""
        import csv
        source = Path(workdir) / "in.csv"
        with open(source, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
        (Path(workdir) / "m.yaml").write_text(mapping, encoding="utf-8")
        out = Path(workdir) / "out.jsonl"
        rejects = Path(workdir) / "rejects.csv"
        proc = subprocess.run([str(Path(os.environ["TARIUS_BIN"]) / "tarius"), "convert", str(source), "--table",
                               TABLE, "--out", str(out), "--rejects", str(rejects), "--mapping",
                               str(Path(workdir) / "m.yaml"), "--json"], capture_output=True, timeout=120)
        self.assertIn(proc.returncode, (0, 1), proc.stderr.decode(errors="replace"))
        items = {}
        for line in out.read_text(encoding="utf-8").splitlines():
            for put in json.loads(line)["RequestItems"][TABLE]:
                item = put["PutRequest"]["Item"]
                items[item["pk"]["S"]] = item
        reasons = {}
        reasons_path = Path(str(rejects) + ".reasons.jsonl")
        if reasons_path.exists():
            for line in reasons_path.read_text(encoding="utf-8").splitlines():
                reason = json.loads(line)
                reasons[reason["line"]] = reason
        return items, reasons

    def _first_refused_pad(self, item):
        """The shortest padding with which dynalite refuses `item` for its size (found by bisection: dynalite
        alone decides)."""
        low, high = 0, MAX_ITEM_SIZE  # accepted with `low` bytes, refused with `high`
        probe = dict(item)
        probe["Pad"] = {"S": "x"}
        self.assertTrue(self._put_accepted(probe))
        low = 1
        while high - low > 1:
            middle = (low + high) // 2
            probe["Pad"] = {"S": "x" * middle}
            if self._put_accepted(probe):
                low = middle
            else:
                high = middle
        return high

    def test_convert_at_the_size_limit(self):
        """Rows whose items sit one byte either side of dynalite's limit: the encoder keeps exactly those
        dynalite accepts and rejects the others as item_too_large."""
        import tempfile
        mapping = ("partition_key: pk:S\n"
                   "columns:\n"
                   "  N: {type: number, currency: true}\n"
                   "  A: {type: auto}\n"
                   "  NS: {type: number_set, separator: \"|\"}\n"
                   "  J: {type: json}\n")
        header = ["pk", "Pad", "N", "A", "NS", "J"]
        cells = [
            {"N": "7"}, {"N": "-7"}, {"N": "-1.5"}, {"N": "1.5"}, {"N": "-1.2345678901234567890123456789012345678"},
            {"N": "$-1,00,000.5"}, {"N": "-0.015"}, {"A": "-1.234"}, {"A": "12.5"},
            {"NS": "-1.5|-2.5|-3.5|1234|-0.015|+7"}, {"J": '{"a":-1.5,"b":[-2.5,1.25,-100]}'},
        ]
        with tempfile.TemporaryDirectory() as workdir:
            probes, _ = self._convert([header] + [[f"p{idx:02}", "x"] + [row.get(name, "") for name in header[2:]]
                                                  for idx, row in enumerate(cells)], mapping, workdir)
            self.assertEqual(len(probes), len(cells))
            rows = [header]
            expected_items, expected_rejects = set(), {}
            for idx, row in enumerate(cells):
                item = dict(probes[f"p{idx:02}"])
                item["pk"] = {"S": f"a{idx:02}"}
                boundary = self._first_refused_pad(item)
                self.assertGreater(boundary, MAX_ITEM_SIZE - 200)
                for prefix, pad in (("a", boundary - 1), ("b", boundary)):
                    rows.append([f"{prefix}{idx:02}", "x" * pad] + [row.get(name, "") for name in header[2:]])
                expected_items.add(f"a{idx:02}")
                expected_rejects[len(rows)] = f"b{idx:02}"
            items, reasons = self._convert(rows, mapping, workdir)
            self.assertEqual(set(items), expected_items)
            self.assertEqual(set(reasons), set(expected_rejects))
            for line, reason in reasons.items():
                self.assertEqual(reason["reason"], "item_too_large", (expected_rejects[line], reason))
            for key, item in items.items():
                with self.subTest(item=key):
                    self.assertTrue(self._put_accepted(item))

    def test_convert_currency_cells(self):
        """currency: true: well-grouped amounts (groups of three, Indian lakh grouping) land in dynalite with their
        exact value; malformed grouping is rejected as invalid_number with the cell in the message."""
        import tempfile
        accepted = [
            ("$1,299.00", "1299"), ("1,000", "1000"), ("1,234,567", "1234567"), ("-$1,234,567.891", "-1234567.891"),
            ("1,00,000", "100000"), ("12,34,567", "1234567"), ("₹ 1,23,45,67,890.50", "1234567890.5"),
            ("€12.50", "12.5"), ("$5.", "5"), ("+$5", "5"), ("42", "42"),
        ]
        malformed = ["1,5", "1,0", "1,000,00", ",100", "1,,000", "1,000,", "0,50", "01,000", "1234,567", "12,34,56",
                     "€12,50", "$1,5", "1,00"]
        rows = [["pk", "Price"]] + [[f"ok{idx}", cell] for idx, (cell, _) in enumerate(accepted)] + \
               [[f"bad{idx}", cell] for idx, cell in enumerate(malformed)]
        mapping = "partition_key: pk:S\ncolumns:\n  Price: {type: number, currency: true}\n"
        with tempfile.TemporaryDirectory() as workdir:
            items, reasons = self._convert(rows, mapping, workdir)
        for item in items.values():
            self.ddb.put_item(TableName=TABLE, Item=item)
        for idx, (cell, value) in enumerate(accepted):
            with self.subTest(cell=cell):
                got = self.ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"ok{idx}"}}, ConsistentRead=True)
                self.assertEqual(got["Item"]["Price"], {"N": value})
        self.assertEqual(len(items), len(accepted))
        for idx, cell in enumerate(malformed):
            with self.subTest(cell=cell):
                reason = reasons[len(accepted) + idx + 2]
                self.assertEqual(reason["reason"], "invalid_number")
                self.assertEqual(reason["column"], "Price")
                self.assertIn(f'"{cell}"', reason["message"])
                self.assertIn("malformed digit grouping", reason["message"])


if __name__ == "__main__":
    unittest.main()
