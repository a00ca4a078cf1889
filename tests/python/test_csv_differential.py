# ctest-label: fixture
"""Differential test of the CSV reader against Python's csv module (the independent observer).

A seeded generator writes thousands of small CSV files (quotes, doubled quotes, embedded delimiters, LF / CRLF /
lone CR inside and between rows, 2- to 4-byte UTF-8, NUL, empty fields, blank lines, optional BOM, optional
missing final line break, each of the four delimiters, some gzip or zstd compressed). Each file is parsed by
csv.reader (newline='', strict=False) and by bin/csv_dump; fields, line numbers, byte offsets, bad-row reasons
and stats must agree exactly. Line numbers come from reader.line_num, offsets from a byte-level line split.
"""
import csv
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

TARIUS_BIN = os.environ.get("TARIUS_BIN", "")
CSV_DUMP = os.path.join(TARIUS_BIN, "csv_dump")
DELIMITERS = [",", "\t", "|", ";"]
ALPHABET = list("abcxyz019 -_.'") + ["é", "ß", "€", "中", "😀", "𝄞", "\x00", "\x0b", "\\", " "]
LINE_BREAKS = ["\n", "\r\n", "\r"]
SEED = 20261124
CASES = 3200

csv.field_size_limit(sys.maxsize)


def plain_text(rnd, delimiter, allow_quote):
    """Unquoted field text: no delimiter, CR or LF; a quote only past the first character (literal there)."""
    chars = []
    for pos in range(rnd.randint(0, 12)):
        c = rnd.choice(ALPHABET + [d for d in DELIMITERS if d != delimiter])
        if allow_quote and pos > 0 and rnd.random() < 0.1:
            c = '"'
        chars.append(c)
    return "".join(chars)


def quoted_text(rnd, delimiter):
    parts = []
    for _ in range(rnd.randint(0, 6)):
        kind = rnd.random()
        if kind < 0.15:
            parts.append('""')
        elif kind < 0.3:
            parts.append(delimiter)
        elif kind < 0.45:
            parts.append(rnd.choice(LINE_BREAKS))
        else:
            parts.append(plain_text(rnd, delimiter, False))
    body = '"' + "".join(parts) + '"'
    if rnd.random() < 0.08:  # lenient: text after the closing quote is appended
        body += plain_text(rnd, delimiter, True)
    return body


def field(rnd, delimiter):
    kind = rnd.random()
    if kind < 0.1:
        return ""
    if kind < 0.55:
        return plain_text(rnd, delimiter, True)
    return quoted_text(rnd, delimiter)


def make_case(rnd, index):
    """Returns (bytes, delimiter option, expectations)."""
    delimiter = DELIMITERS[index % 4]
    sniff = index % 9 == 0
    columns = rnd.randint(2 if sniff else 1, 6)
    names = []
    for col in range(columns):
        name = rnd.choice(["id", "name", "prix", "größe", "名前", "v"]) + str(col)
        if rnd.random() < 0.2:
            name = " " + name + (" " if delimiter == "\t" or sniff else "\t")
        if rnd.random() < 0.2 and not sniff:
            name = '"' + name + '"'
        names.append(name)
    text = ""
    if rnd.random() < 0.1:
        text += rnd.choice(LINE_BREAKS)  # blank line before the header
    text += delimiter.join(names) + rnd.choice(LINE_BREAKS)
    rows = rnd.randint(0, 12)
    for row_idx in range(rows):
        if rnd.random() < 0.1:
            text += rnd.choice(LINE_BREAKS)  # blank line
        count = columns if rnd.random() < 0.85 else max(1, columns + rnd.choice([-1, 1]))
        text += delimiter.join(field(rnd, delimiter) for _ in range(count))
        if row_idx + 1 < rows or rnd.random() < 0.7:
            text += rnd.choice(LINE_BREAKS)
    unterminated = False
    if rnd.random() < 0.03:
        if text and text[-1] not in "\r\n":
            text += rnd.choice(LINE_BREAKS)
        text += '"open' + rnd.choice(["", "\n", "\r\nmore", '""x'])
        unterminated = True
    data = text.encode("utf-8")
    if rnd.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    return data, ("auto" if sniff else delimiter), delimiter, unterminated


def python_parse(data, delimiter):
    """Rows (with start line, end line) as Python's csv module reads the file; blank lines kept as []."""
    text = data.decode("utf-8-sig", errors="replace")
    import io
    rdr = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    out = []
    prev = 0
    for fields in rdr:
        out.append((fields, prev + 1, rdr.line_num))
        prev = rdr.line_num
    return out


def line_offsets(data):
    """Byte offset of the start of each physical line (1-based index), split on LF, CRLF and lone CR."""
    starts = [None, 0]
    for match in re.finditer(rb"\r\n|\r|\n", data):
        starts.append(match.end())
    return starts


def run_dump(args, files):
    proc = subprocess.run([CSV_DUMP] + args + files, capture_output=True, check=False)
    outputs = {}
    current = None
    for raw in proc.stdout.decode("utf-8").splitlines():
        obj = json.loads(raw)
        if "file" in obj:
            current = obj["file"]
            outputs[current] = []
        else:
            outputs[current].append(obj)
    return outputs


def compress(rnd, data, kind, tmp, name):
    if kind == "gzip":
        if rnd.random() < 0.5 and len(data) > 2:  # two concatenated members
            cut = rnd.randint(1, len(data) - 1)
            return gzip.compress(data[:cut]) + gzip.compress(data[cut:])
        return gzip.compress(data)
    plain = os.path.join(tmp, name + ".raw")
    with open(plain, "wb") as f:
        f.write(data)
    return subprocess.run(["zstd", "-q", "-c", plain], capture_output=True, check=True).stdout


@unittest.skipUnless(os.path.exists(CSV_DUMP), "csv_dump not built (set TARIUS_BIN)")
class csv_differential(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tarius_csv_diff_")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check_file(self, name, data, delimiter, unterminated, got, compression="none"):
        ctx = name
        py = python_parse(data, delimiter)
        non_blank = [entry for entry in py if entry[0] != []]
        blank = len(py) - len(non_blank)
        starts = line_offsets(data)
        total_lines = len(starts) - 2 + (1 if data and data[-1:] not in (b"\n", b"\r") and data != b"\xef\xbb\xbf" else 0)
        self.assertTrue(got and "header" in got[0], f"{ctx}: {got[:2]}")
        header = [n.strip(" \t") for n in non_blank[0][0]]
        self.assertEqual(got[0]["header"], header, ctx)
        self.assertEqual(got[0]["delimiter"], delimiter, ctx)
        rows = got[1:-1]
        self.assertEqual(len(rows), len(non_blank) - 1, f"{ctx}: {rows} vs {non_blank}")
        for index, (ours, (fields, first_line, last_line)) in enumerate(zip(rows, non_blank[1:])):
            where = f"{ctx} row {index}"
            self.assertEqual(ours["fields"], fields, where)
            self.assertEqual(ours["line"], first_line, where)
            self.assertEqual(ours["offset"], starts[first_line], where)
            end = starts[last_line + 1] if last_line + 1 < len(starts) else len(data)
            self.assertEqual(ours["end"], end, where)
            last = index == len(rows) - 1
            if unterminated and last:
                self.assertEqual(ours.get("bad"), "unterminated_quote", where)
            elif len(fields) != len(header):
                self.assertEqual(ours.get("bad"), "field_count", where)
            else:
                self.assertNotIn("bad", ours, where)
        stats = got[-1]
        self.assertEqual(stats.get("compression"), compression, f"{ctx}: {stats}")
        self.assertEqual(stats["stats"]["rows"], len(rows), ctx)
        self.assertEqual(stats["stats"]["blank_lines"], blank, ctx)
        self.assertEqual(stats["stats"]["lines"], total_lines, ctx)
        self.assertEqual(stats["stats"]["bytes"], len(data), ctx)

    def test_random_files_match_python(self):
        rnd = random.Random(SEED)
        cases = {}  # path -> (data, option, delimiter, unterminated, compression)
        for index in range(CASES):
            data, option, delimiter, unterminated = make_case(rnd, index)
            name = f"case{index:05d}.csv"
            kind = "none"
            stored = data
            if index % 40 == 7:
                kind = "gzip"
            elif index % 40 == 23:
                kind = "zstd"
            if kind != "none":
                stored = compress(rnd, data, kind, self.tmp, name)
            path = os.path.join(self.tmp, name)
            with open(path, "wb") as f:
                f.write(stored)
            cases[path] = (data, option, delimiter, unterminated, kind)
        by_option = {}
        for path, case in cases.items():
            by_option.setdefault(case[1], []).append(path)
        checked = 0
        for option, paths in by_option.items():
            whole = run_dump(["--delimiter", option], paths)
            small = run_dump(["--delimiter", option, "--chunk", "7"], paths)
            for path in paths:
                data, _, delimiter, unterminated, kind = cases[path]
                self.check_file(path, data, delimiter, unterminated, whole[path], kind)
                self.assertEqual(small[path], whole[path], f"{path}: 7-byte chunks differ")
                checked += 1
        self.assertEqual(checked, CASES)
        # One-byte chunks on a sample (slower per byte).
        sample = sorted(cases)[:300]
        for option in by_option:
            paths = [p for p in sample if cases[p][1] == option]
            whole = run_dump(["--delimiter", option], paths)
            single = run_dump(["--delimiter", option, "--chunk", "1"], paths)
            for path in paths:
                self.assertEqual(single[path], whole[path], f"{path}: 1-byte chunks differ")

    def test_invalid_utf8_offset_matches_python_decoder(self):
        rnd = random.Random(SEED + 1)
        bad_sequences = [b"\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3",
                         b"\xe2\x82", b"\xf0\x9f\x98", b"\x80", b"\xf8\x88\x80\x80\x80"]
        paths = {}
        for index in range(200):
            data, _, delimiter, _, = make_case(rnd, index * 4)[:4]
            body_start = data.find(b"\n") + 1
            if body_start <= 0 or body_start >= len(data):
                continue
            at = rnd.randint(body_start, len(data))
            # Insert only between characters and away from the line structure of quoted fields.
            while at < len(data) and (data[at] & 0xC0) == 0x80:
                at += 1
            corrupted = data[:at] + rnd.choice(bad_sequences) + b"z" + data[at:]
            path = os.path.join(self.tmp, f"bad{index:04d}.csv")
            with open(path, "wb") as f:
                f.write(corrupted)
            paths[path] = corrupted
        got = run_dump(["--delimiter", ","], list(paths))
        for path, data in paths.items():
            try:
                data.decode("utf-8")
                self.fail(f"{path} decodes")
            except UnicodeDecodeError as exc:
                first_bad = exc.start
            entries = got[path]
            bad = [e for e in entries if e.get("bad") == "invalid_utf8"]
            if "error" in entries[-1]:  # the bad bytes landed in the header line
                self.assertIn("not valid UTF-8 at byte offset " + str(first_bad), entries[-1]["message"], path)
                continue
            self.assertTrue(bad, f"{path}: {entries}")
            self.assertEqual(bad[0]["problem_offset"], first_bad, path)
            self.assertEqual(bad[0]["fields"], [], path)

    def test_hand_computed_lines_and_offsets(self):
        cases = [
            # (bytes, [(line, offset, end, fields)...], blank_lines, lines)
            (b"h\n1\n2\n", [(2, 2, 4, ["1"]), (3, 4, 6, ["2"])], 0, 3),
            (b"h\r\n\r\n1\r\n\r2", [(3, 5, 8, ["1"]), (5, 9, 10, ["2"])], 2, 5),
            (b"a,b\n\"x\ny\",1\n2,\"\r\n\"\n3,4", [(2, 4, 12, ["x\ny", "1"]), (4, 12, 19, ["2", "\r\n"]),
                                                 (6, 19, 22, ["3", "4"])], 0, 6),
            (b"\xef\xbb\xbfh\r1\r\r2\r", [(2, 5, 7, ["1"]), (4, 8, 10, ["2"])], 1, 4),
        ]
        paths = []
        for index, case in enumerate(cases):
            path = os.path.join(self.tmp, f"hand{index}.csv")
            with open(path, "wb") as f:
                f.write(case[0])
            paths.append(path)
        got = run_dump([], paths)
        for path, (_, rows, blank, lines) in zip(paths, cases):
            entries = got[path]
            self.assertEqual([(e["line"], e["offset"], e["end"], e["fields"]) for e in entries[1:-1]],
                             [tuple(r) for r in rows], path)
            self.assertEqual(entries[-1]["stats"]["blank_lines"], blank, path)
            self.assertEqual(entries[-1]["stats"]["lines"], lines, path)

    def test_stdin_and_unsupported_compression(self):
        proc = subprocess.run([CSV_DUMP, "-"], input=gzip.compress(b"a,b\n1,2\n"), capture_output=True, check=False)
        lines = [json.loads(l) for l in proc.stdout.decode().splitlines()]
        self.assertEqual(lines[2]["fields"], ["1", "2"])
        self.assertEqual(lines[-1]["compression"], "gzip")
        path = os.path.join(self.tmp, "x.zip")
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04rest of a zip")
        got = run_dump([], [path])[path]
        self.assertEqual(got[-1]["error"], "csv_file")
        self.assertIn("unsupported compression: zip", got[-1]["message"])


if __name__ == "__main__":
    unittest.main()
