#!/usr/bin/env python3
"""Snapshot feeds (issue 11, item 6): a 1M-row snapshot loaded after one that differs by 1 % changed rows and
0.5 % removed rows, against a loopback DynamoDB stub answering BatchWriteItem after 5 ms (digests in a local
directory; the stub reports 1 write unit per item, the rows being under 1 KB). Targets: writes + deletes <= 2 % of the rows, WCU consumed <= 3 % of a full load's, elapsed <= 1.5x the
first load's. The first load (no base) writes every row; the second writes only what changed.

usage: bench/snapshot_bench.py [--build build/release] [--tools build/dev/bin] [--rows 1000000]
"""
import argparse
import json
import os
import random
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
import tarius_stack  # noqa: E402
from loader_compare import measured, stub_env  # noqa: E402


def write_files(first, second, rows, seed=11):
    """Day 1: rows K0..K(rows-1) of about 250 bytes; day 2: 1 % of them changed, 0.5 % removed."""
    rng = random.Random(seed)
    filler = "x" * 180
    with open(first, "w") as a, open(second, "w") as b:
        a.write("ID,Title,Price,Notes\n")
        b.write("ID,Title,Price,Notes\n")
        changed = removed = 0
        for n in range(rows):
            line = "K%09d,Product %d,%d.%02d,%s\n" % (n, n, rng.randrange(1000), rng.randrange(100), filler)
            a.write(line)
            roll = rng.random()
            if roll < 0.005:
                removed += 1
                continue
            if roll < 0.015:
                changed += 1
                line = "K%09d,Product %d,%d.%02d,%s\n" % (n, n, 2000 + rng.randrange(1000), 0, filler)
            b.write(line)
    return changed, removed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--tools", default="build/dev/bin")
    parser.add_argument("--rows", type=int, default=1000000)
    args = parser.parse_args()
    tarius = os.path.abspath(os.path.join(args.build, "bin", "tarius"))
    os.environ["TARIUS_BIN"] = os.path.abspath(args.tools)
    with tempfile.TemporaryDirectory() as tmp:
        first, second = os.path.join(tmp, "day1.csv"), os.path.join(tmp, "day2.csv")
        changed, removed = write_files(first, second, args.rows)
        doc = os.path.join(tmp, "feeds.yaml")
        with open(doc, "w") as f:
            f.write("feeds:\n  prices:\n    match: {prefix: x/}\n    table: t\n    mode: snapshot\n"
                    "    mapping: {partition_key: ID:S, columns: {Price: {type: number}}}\n")
        with tarius_stack.stack(fault_server_args=["--latency-ms", "5", "--report-capacity"]) as st:
            env = dict(stub_env(st.fault_server.url), TARIUS_SNAPSHOT_DIR=os.path.join(tmp, "digests"))
            runs = []
            for path in (first, second):
                seconds, rss, out = measured([tarius, "load", path, "--feeds", doc, "--feed", "prices", "--json"],
                                             env)
                counts = json.loads(out)["counts"]
                runs.append((seconds, rss, counts))
                print(f"{os.path.basename(path)}: {counts['rows']:,} rows in {seconds:.2f} s, written "
                      f"{counts['items_written']:,}, unchanged {counts['unchanged']:,}, removed "
                      f"{counts['absent_deleted']:,}, {counts['requests']:,} requests, "
                      f"{counts['wcu_consumed']:,.0f} WCU, peak RSS {rss:.1f} MB, reconciles {counts['reconciles']}")
        (s1, _, c1), (s2, _, c2) = runs
        writes = c2["items_written"] + c2["absent_deleted"]
        print(f"second file: {changed:,} rows changed, {removed:,} removed")
        print(f"writes + deletes: {writes:,} = {100 * writes / c2['rows']:.2f} % of the rows (target <= 2 %)")
        print(f"WCU: {c2['wcu_consumed']:,.0f} / {c1['wcu_consumed']:,.0f} = "
              f"{100 * c2['wcu_consumed'] / c1['wcu_consumed']:.2f} % of a full load's (target <= 3 %)")
        print(f"elapsed: {s2:.2f} s / {s1:.2f} s = {s2 / s1:.2f}x the first load's (target <= 1.5x)")


if __name__ == "__main__":
    main()
