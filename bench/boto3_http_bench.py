#!/usr/bin/env python3
"""Requests per second of boto3's DynamoDB batch_write_item against fault_server --mode ddb-ok, with the same
~12 KB body as bench/http_bench.cpp, on 1 thread and on 8 threads (one client per thread). The baseline for the
claim that Tarius's transport with 64 requests in flight does at least 10x boto3 with 8 threads.

Usage: bench/boto3_http_bench.py [--seconds S] [--threads N ...]
The stub: TARIUS_STUB_URL, else fault_server from TARIUS_BIN (default build/dev/bin) started and stopped here.
"""

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import tarius_stack  # noqa: E402


def batch_items():
    """25 PutRequests, ~12 KB on the wire: the body http_bench.cpp sends."""
    items = []
    for idx in range(25):
        items.append({"PutRequest": {"Item": {
            "pk": {"S": "customer#%d" % (100000 + idx)},
            "sk": {"S": "order#2024-01-01T00:00:00Z"},
            "amount": {"N": "1234.56"},
            "status": {"S": "SHIPPED"},
            "note": {"S": chr(ord("a") + idx % 26) * 300},
        }}})
    return {"bench-table": items}


def run(url, threads, seconds):
    """Runs `threads` threads for `seconds`; returns (requests, elapsed, failures)."""
    items = batch_items()
    clients = [tarius_stack.dynamodb_client(url, max_attempts=1,
                                            max_pool_connections=max(10, threads)) for _ in range(threads)]
    for c in clients:  # warm-up: connection and botocore's lazy model loading outside the timing
        c.batch_write_item(RequestItems=items)
    counts = [0] * threads
    failures = [0] * threads
    stop_at = [0.0]
    start = threading.Barrier(threads + 1)

    def worker(i):
        c = clients[i]
        start.wait()
        while time.monotonic() < stop_at[0]:
            try:
                answer = c.batch_write_item(RequestItems=items)
                if answer["UnprocessedItems"]:
                    failures[i] += 1
            except Exception:  # noqa: BLE001 - counted and reported
                failures[i] += 1
            counts[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    began = time.monotonic()
    stop_at[0] = began + seconds
    start.wait()
    for t in pool:
        t.join()
    return sum(counts), time.monotonic() - began, sum(failures)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per thread count (default 5)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8], help="thread counts (default 1 8)")
    args = parser.parse_args()

    url = os.environ.get("TARIUS_STUB_URL")
    server = None
    if not url:
        server = tarius_stack.start_fault_server("--mode", "ddb-ok", "--max-seconds", "3600")
        url = server.url
    try:
        for threads in args.threads:
            requests, elapsed, failures = run(url, threads, args.seconds)
            print("boto3 batch_write_item threads=%d: %d requests in %.2f s = %.0f req/s (failures: %d)"
                  % (threads, requests, elapsed, requests / elapsed, failures))
            if failures:
                return 1
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
