#!/usr/bin/env python3
"""Writing at a table's capacity (issue 13): `tarius load` against tests/tools/capacity_table, a stand-in for a
provisioned DynamoDB table (a token bucket of W write units per second, partial batches, ConsumedCapacity, W on a
schedule, optionally partitions with their own limit).

Each run loads a `tarius gen` file (rows under 1 KB: one write unit each) with 64 requests in flight and reads what
the stand-in accepted (GET /stats and its per-second log). Reported per run:

- share: write units accepted / the capacity the table offered over the load (its burst at the start plus W
  integrated over the time from the first request to the last; with a budget B below W, B is the reference);
- steady: median over the whole seconds of the per-second accepted units / capacity (first and last left out);
- extra requests: requests sent / ceil(items / 25) - 1;
- failed: the load's exit status was not 0; lost: rows in the file the table did not accept;
- counts: the report's items_written == the items the stand-in accepted.

usage: bench/capacity_bench.py [--build build/release] [--tools build/dev/bin] [--repeat 2] [SCENARIO ...]
scenarios: converge budget change counts partitions (default: converge budget change)
"""
import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
import tarius_stack  # noqa: E402

ITEMS_PER_REQUEST = 25


def stand_in_env(url, extra=None):
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "AKIDBENCH", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": url, "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
                "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "TARIUS_PROGRESS_SECONDS": "1"})
    env.update(extra or {})
    return env


def get_stats(server):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(server.url + "/stats", timeout=30) as response:
        return json.loads(response.read())


def parse_schedule(text):
    steps = []
    for part in text.split(","):
        at, _, wcu = part.rpartition(":")
        steps.append((float(at) if at else 0.0, float(wcu)))
    return sorted(steps)


def capacity_at(schedule, t):
    wcu = schedule[0][1]
    for at, w in schedule:
        if at <= t:
            wcu = w
    return wcu


def offered(schedule, burst, span):
    """Write units the table offered over [0, span]: its burst at the start plus the schedule integrated."""
    total = schedule[0][1] * burst
    steps = [at for at, _ in schedule if at < span] + [span]
    for start, end in zip(steps, steps[1:]):
        total += capacity_at(schedule, start) * (end - start)
    return total


def keyed_file(path, users, rows_per_user, interleaved):
    """A file keyed on (USER, SEQ): `users` partition key values of `rows_per_user` rows each, sorted by USER (all of
    one user's rows, then the next user's) or interleaved (the first row of every user, then the second, ...: the
    order a writer spreading keys would send; rows of one key keep their order either way)."""
    if os.path.exists(path):
        return path
    import csv
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["USER", "SEQ", "PAYLOAD"])
        pairs = ([(u, s) for s in range(rows_per_user) for u in range(users)] if interleaved
                 else [(u, s) for u in range(users) for s in range(rows_per_user)])
        for u, s in pairs:
            w.writerow(["user%04d" % u, s, "x" * 200])
    return path


def gen_file(tarius, path, rows):
    if not os.path.exists(path):
        subprocess.run([tarius, "gen", "--rows", str(rows), "--out", path], check=True)
    return path


def run_load(tarius, path, rows, schedule, burst=1.0, flags=(), env_extra=None, stand_in_flags=(),
             stop_after=None, budget=None, reference=None):
    """One load against a fresh stand-in; returns the measures of the run."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "seconds.jsonl")
        with tarius_stack.start_capacity_table("--wcu", schedule, "--burst-seconds", str(burst), "--log", log,
                                               "--max-seconds", "3600", *stand_in_flags) as server:
            cmd = [tarius, "load", path, "--table", "t", "--json", "--concurrency", "64", *flags]
            if "--sort-key" in stand_in_flags:
                cmd += ["--types", "SEQ=number"]
            if budget:
                cmd += ["--max-wcu", str(budget)]
            started = time.monotonic()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=stand_in_env(server.url, env_extra))
            if stop_after is not None:
                time.sleep(stop_after)
                proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate()
            elapsed = time.monotonic() - started
            stats = get_stats(server)
    report = None
    try:
        report = json.loads(out)
    except ValueError:
        pass
    totals = stats["totals"]
    sched = parse_schedule(schedule)
    span = totals.get("span_seconds") or (report or {}).get("counts", {}).get("seconds", elapsed)
    ref_offered = offered(sched, burst, span) if reference is None else reference * span
    counts = (report or {}).get("counts", {})
    needed = math.ceil(totals["items"] / ITEMS_PER_REQUEST) if totals["items"] else 1
    seconds = stats["seconds"]
    steady = [s["wcu"] / s["capacity"] for s in seconds[1:-1]]
    if budget:
        steady = [s["wcu"] / min(budget, s["capacity"]) for s in seconds[1:-1]]
    return {
        "rc": proc.returncode,
        "status": (report or {}).get("status"),
        "elapsed": elapsed,
        "span": span,
        "accepted_items": totals["items"],
        "accepted_wcu": totals["wcu"],
        "share": totals["wcu"] / ref_offered if ref_offered else 0,
        "rate_over_w": totals["wcu"] / span / (reference or sched[0][1]) if span else 0,
        "steady": statistics.median(steady) if steady else float("nan"),
        "requests": totals["requests"],
        "extra": totals["requests"] / needed - 1,
        "throttled_requests": totals["throttled_requests"],
        "partial_requests": totals["partial_requests"],
        "items_written": counts.get("items_written"),
        "counts_match": counts.get("items_written") == totals["items"],
        "lost": rows - totals["items"] if stop_after is None else None,
        "seconds": seconds,
        "stderr_tail": err.decode("utf-8", "replace")[-3000:],
        "stderr": err.decode("utf-8", "replace"),
        "report": report,
    }


def line(label, r):
    return ("%-34s rc=%s share=%.3f rate/W=%.3f steady=%.3f extra=%+.1f%% req=%d thr=%d part=%d items=%d "
            "written=%s match=%s lost=%s %.1fs" %
            (label, r["rc"], r["share"], r["rate_over_w"], r["steady"], 100 * r["extra"], r["requests"],
             r["throttled_requests"], r["partial_requests"], r["accepted_items"], r["items_written"],
             r["counts_match"], r["lost"], r["elapsed"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--tools", default="build/dev/bin")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rows", type=int, default=200000)
    parser.add_argument("--burst", type=float, default=1.0)
    parser.add_argument("--wcu", default="1000,4000,10000,20000")
    parser.add_argument("--json-out", default=None)
    parser.add_argument("scenarios", nargs="*", default=["converge", "budget", "change"])
    args = parser.parse_args()
    tarius = os.path.abspath(os.path.join(args.build, "bin", "tarius"))
    os.environ["TARIUS_BIN"] = os.path.abspath(args.tools)
    workdir = args.workdir or tempfile.mkdtemp(prefix="tarius-capacity-")
    os.makedirs(workdir, exist_ok=True)
    results = []

    def record(scenario, label, r):
        r = dict(r, scenario=scenario, label=label)
        results.append(r)
        print(line(label, r), flush=True)
        if r["rc"] not in (0,) and scenario not in ("counts",):
            print(r["stderr_tail"][-1500:], flush=True)

    for scenario in args.scenarios:
        for rep in range(args.repeat):
            if scenario == "converge":
                for w in [int(x) for x in args.wcu.split(",")]:
                    rows = args.rows if w >= 4000 else min(args.rows, 50000)
                    path = gen_file(tarius, os.path.join(workdir, "rows%d.csv" % rows), rows)
                    record(scenario, "W=%d burst=%g" % (w, args.burst),
                           run_load(tarius, path, rows, str(w), burst=args.burst))
            elif scenario == "budget":
                path = gen_file(tarius, os.path.join(workdir, "rows%d.csv" % args.rows), args.rows)
                for w, b in ((10000, 8000), (4000, 2000)):
                    r = run_load(tarius, path, args.rows, str(w), burst=args.burst, budget=b, reference=b)
                    record(scenario, "W=%d budget=%d" % (w, b), r)
            elif scenario == "partitions":
                # A table of 10,000 WCU split into 10 partitions of 1,000 each (DynamoDB's limit per partition).
                flags = ["--key", "USER:S", "--sort-key", "SEQ:N", "--partitions", "10", "--partition-wcu", "1000"]
                for users, per_user in ((200, 500), (20, 5000)):
                    for order in ("sorted", "interleaved"):
                        path = keyed_file(os.path.join(workdir, "keyed-%s-%dx%d.csv" % (order, users, per_user)),
                                          users, per_user, order == "interleaved")
                        record(scenario, "partitions 10x1000 %s %dx%d" % (order, users, per_user),
                               run_load(tarius, path, users * per_user, "10000", burst=args.burst,
                                        stand_in_flags=flags))
            elif scenario == "counts":
                # Loads stopped (SIGTERM) while the table throttles: the report's items_written must equal what the
                # table accepted, whatever was in flight.
                path = gen_file(tarius, os.path.join(workdir, "rows%d.csv" % args.rows), args.rows)
                for w, after in ((4000, 3.0), (1000, 2.0)):
                    record(scenario, "W=%d SIGTERM at %gs" % (w, after),
                           run_load(tarius, path, args.rows, str(w), burst=args.burst, stop_after=after))
            elif scenario == "change":
                path = gen_file(tarius, os.path.join(workdir, "rows%d.csv" % args.rows), args.rows)
                record(scenario, "W=10000>2000>10000",
                       run_load(tarius, path, args.rows, "0:10000,6:2000,14:10000", burst=args.burst))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump([{k: v for k, v in r.items() if k not in ("report",)} for r in results], f, indent=1)


if __name__ == "__main__":
    main()
