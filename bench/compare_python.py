#!/usr/bin/env python3
"""Parse + map + encode: Tarius vs the original system's Python path, on the same generated file, in one run.

The Python path is what the original loader did per row, minus the network: csv.DictReader, boto3's
TypeSerializer on every attribute (all strings), and json.dumps of one BatchWriteItem request per 25 items.
Also measures Tarius's peak RSS on the file (constant memory) and, with --rss-gb, on a larger file.

usage: bench/compare_python.py [--mb 200] [--rss-gb 1] [--build build/release] [--workdir bench/data] [--threads N]
                                [--repeat N]

Tarius is timed as a whole process (start-up included; the start-up alone, on a two-line file, is printed too);
the Python path in-process, after its imports, which favours Python. The like-for-like ratio, both in-process, uses
Tarius's own elapsed_seconds (open to summary, as the Python timing is) and is printed beside it. With --repeat N both are run N times, alternating, and the ratio
is given for the medians and for the best times (on a shared machine the best times are the least disturbed).
"""
import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def tarius_bin(build):
    return os.path.join(build, "bin", "tarius")


def generate(build, path, megabytes):
    if os.path.exists(path) and os.path.getsize(path) >= megabytes * 1_000_000:
        return
    rows = int(megabytes * 1_000_000 / 260) + 1  # generated rows average ~265 bytes
    subprocess.run([tarius_bin(build), "gen", "--rows", str(rows), "--out", path], check=True)


def run_measured(cmd):
    """Runs cmd in a child; returns (seconds, peak RSS in MB of that child alone, stdout)."""
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "p=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE);d=time.perf_counter()-t;"
             "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
             "sys.stderr.write('%f %d\\n'%(d,r));sys.stdout.buffer.write(p.stdout);sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, check=True)
    seconds, rss_kb = proc.stderr.decode().split()[-2:]
    return float(seconds), int(rss_kb) / 1024, proc.stdout


def python_path(path):
    from boto3.dynamodb.types import TypeSerializer
    serializer = TypeSerializer()
    rows = 0
    out_bytes = 0
    batch = []
    start = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows += 1
            batch.append({"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in row.items() if v}}})
            if len(batch) == 25:
                out_bytes += len(json.dumps({"RequestItems": {"product": batch}}))
                batch = []
    if batch:
        out_bytes += len(json.dumps({"RequestItems": {"product": batch}}))
    return time.perf_counter() - start, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200)
    parser.add_argument("--rss-gb", type=float, default=0)
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--workdir", default="bench/data")
    parser.add_argument("--threads", type=int, default=0, help="tarius --threads (default: tarius's own default)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side, alternating (default 1)")
    args = parser.parse_args()
    threads = ["--threads", str(args.threads)] if args.threads else []
    os.makedirs(args.workdir, exist_ok=True)
    path = os.path.join(args.workdir, "products-%dmb.csv" % args.mb)
    generate(args.build, path, args.mb)
    size = os.path.getsize(path)

    tiny = os.path.join(args.workdir, "tiny.csv")
    with open(tiny, "w") as f:
        f.write("ID,Title\n1,x\n")
    startup, _, _ = run_measured([tarius_bin(args.build), "validate", tiny, "--key", "ID", "--json", *threads])

    label = "--threads %d" % args.threads if args.threads else "default threads"
    print(f"file: {path} {size / 1e6:.1f} MB")
    tarius_times, engine_times, py_times = [], [], []
    for _ in range(max(args.repeat, 1)):
        seconds, rss, out = run_measured([tarius_bin(args.build), "validate", path, "--key", "ID", "--json", *threads])
        summary = json.loads(out)
        tarius_times.append(seconds)
        engine_times.append(summary["elapsed_seconds"])
        print(f"tarius validate ({label}; parse+map+encode, whole process): {seconds:.3f} s, "
              f"{size / seconds / 1e6:.0f} MB/s, {summary['rows_read'] / seconds:,.0f} rows/s, peak RSS {rss:.1f} MB "
              f"(start-up alone: {startup:.3f} s)")
        py_seconds, py_rows = python_path(path)
        py_times.append(py_seconds)
        print(f"python csv.DictReader+TypeSerializer+json.dumps: {py_seconds:.2f} s, {size / py_seconds / 1e6:.1f} MB/s, "
              f"{py_rows / py_seconds:,.0f} rows/s")
        print(f"ratio tarius/python: {py_seconds / seconds:.1f}x (tarius whole process, python in-process); "
              f"in-process both: {py_seconds / summary['elapsed_seconds']:.1f}x "
              f"(tarius engine {summary['elapsed_seconds']:.3f} s)")
    if len(tarius_times) > 1:
        tarius_median, py_median = statistics.median(tarius_times), statistics.median(py_times)
        engine_median = statistics.median(engine_times)
        print(f"median of {len(tarius_times)}: tarius {tarius_median:.3f} s ({size / tarius_median / 1e6:.0f} MB/s), "
              f"python {py_median:.2f} s, ratio {py_median / tarius_median:.1f}x; in-process both: tarius engine "
              f"{engine_median:.3f} s, ratio {py_median / engine_median:.1f}x")
        print(f"best of {len(tarius_times)}: tarius {min(tarius_times):.3f} s ({size / min(tarius_times) / 1e6:.0f} MB/s), "
              f"python {min(py_times):.2f} s, ratio {min(py_times) / min(tarius_times):.1f}x")

    if args.rss_gb:
        big = os.path.join(args.workdir, "products-%dgb.csv" % args.rss_gb)
        generate(args.build, big, args.rss_gb * 1000)
        seconds, rss, out = run_measured([tarius_bin(args.build), "validate", big, "--key", "ID", "--json", *threads])
        print(f"tarius validate on {os.path.getsize(big) / 1e9:.2f} GB: {seconds:.2f} s, "
              f"{os.path.getsize(big) / seconds / 1e6:.0f} MB/s, peak RSS {rss:.1f} MB")


if __name__ == "__main__":
    main()
