#!/usr/bin/env python3
"""Sync modes with one row per request (issue 11, item 6): items/s of `tarius load` in the modes insert, newer and
merge against a loopback DynamoDB stub that answers every PutItem / UpdateItem after 5 ms (and, with --ccf-every N,
answers every Nth with ConditionalCheckFailedException: rows counted skipped), on 2 cores. Target: >= 50,000
items/s. The put mode (BatchWriteItem, 25 rows per request) on the same file and stub is printed for comparison.

usage: bench/sync_modes_bench.py [--build build/release] [--tools build/dev/bin] [--rows 300000] [--ccf-every 10]
                                 [--modes insert,newer,merge,put] [--stub-cpu] [--concurrency N]
--stub-cpu also prints the CPU per request of tarius (getrusage) and of the stub (fault_server, /proc/<pid>/stat).
--concurrency N is tarius's flag, the requests in flight (one-row modes default to 256, whose ceiling at 5 ms is
51,200 requests/s).
"""
import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
import tarius_stack  # noqa: E402
from loader_compare import measured, stub_env  # noqa: E402

DOCUMENTS = {
    "put": "    mapping: {partition_key: ID:S}\n",
    "insert": "    mapping: {partition_key: ID:S}\n",
    "merge": "    mapping: {partition_key: ID:S, columns: {Price: {type: number}, Color: {empty: remove}}}\n",
    "newer": "    mapping: {partition_key: ID:S}\n    version: {column: updated_at, type: timestamp}\n",
}


def write_rows(path, rows, seed=6):
    """ID,Title,Price,Color,updated_at: distinct keys, about 200 bytes a row."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("ID,Title,Price,Color,updated_at\n")
        for n in range(rows):
            color = rng.choice(["red", "green", "", "blue"])
            f.write("K%09d,Product title number %d with some words to fill the row,%d.%02d,%s,"
                    "2026-12-%02dT%02d:%02d:%02d.%03d+01:00\n"
                    % (n, n, rng.randrange(1000), rng.randrange(100), color, rng.randrange(1, 29),
                       rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(1000)))


def process_cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far (all its threads), from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after "(comm)": fields 3.. of proc(5)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--tools", default="build/dev/bin")
    parser.add_argument("--rows", type=int, default=300000)
    parser.add_argument("--ccf-every", type=int, default=10)
    parser.add_argument("--modes", default="insert,newer,merge,put")
    parser.add_argument("--stub-cpu", action="store_true", help="print the stub's CPU per request")
    parser.add_argument("--concurrency", type=int, default=0, help="tarius --concurrency (0: its default)")
    args = parser.parse_args()
    tarius = os.path.abspath(os.path.join(args.build, "bin", "tarius"))
    os.environ["TARIUS_BIN"] = os.path.abspath(args.tools)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rows.csv")
        write_rows(path, args.rows)
        for mode in args.modes.split(","):
            # Conditional writes (insert, newer) see every Nth condition fail; merge and put have none.
            ccf = str(args.ccf_every) if mode in ("insert", "newer") else "0"
            with tarius_stack.stack(fault_server_args=["--latency-ms", "5", "--ccf-every", ccf]) as st:
                env = stub_env(st.fault_server.url)
                doc = os.path.join(tmp, mode + ".yaml")
                with open(doc, "w") as f:
                    f.write("feeds:\n  f:\n    match: {prefix: x/}\n    table: t\n    mode: %s\n%s"
                            % (mode, DOCUMENTS[mode]))
                stub_cpu_before = process_cpu_seconds(st.fault_server.pid)
                flags = ["--concurrency", str(args.concurrency)] if args.concurrency else []
                seconds, rss, out, cpu = measured(
                    [tarius, "load", path, "--feeds", doc, "--feed", "f", "--json", *flags], env, cpu=True)
                stub_cpu = process_cpu_seconds(st.fault_server.pid) - stub_cpu_before
                counts = json.loads(out)["counts"]
                done = (counts["items_written"] + counts.get("skipped_existing", 0) + counts.get("skipped_stale", 0) +
                        counts.get("resent_uncertain", 0))
                print(f"{mode:6}: {counts['rows']:,} rows in {seconds:.2f} s = {done / seconds:,.0f} items/s "
                      f"({counts['requests']:,} requests; written {counts['items_written']:,}, skipped "
                      f"{counts.get('skipped_existing', 0) + counts.get('skipped_stale', 0):,}; "
                      f"reconciles {counts['reconciles']}), peak RSS {rss:.1f} MB")
                if args.stub_cpu:
                    requests = max(counts["requests"], 1)
                    print(f"        tarius CPU {cpu:.2f} s = {cpu / requests * 1e6:.1f} us per request; stub CPU "
                          f"{stub_cpu:.2f} s = {stub_cpu / requests * 1e6:.1f} us per request "
                          f"({stub_cpu / seconds * 100:.0f}% of one core)")


if __name__ == "__main__":
    main()
