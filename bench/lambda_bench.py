#!/usr/bin/env python3
"""Lambda function benchmarks (issue 5), through the fake Runtime API on the local stack, in one run:

1. cold start of `bootstrap`: exec → first GET of the next invocation, and exec → first response for a small file
   (a fresh process per run), against the original Python handler module being imported by Python (boto3 clients
   created; exec → import done);
2. peak RSS (VmHWM) of bootstrap after loading the seed sample, and after a ~1 GB object (DynamoDB writes go to the
   loopback stub; the key comes from an inline mapping so no DescribeTable is needed).

usage: bench/lambda_bench.py [--build build/release | --package ZIP] [--tools build/dev/bin] [--runs 20] [--rss-gb 1]
(--package: the bootstrap of a deployment zip, unzipped to a temporary directory)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
import fake_runtime  # noqa: E402
import lambda_support as ls  # noqa: E402
import local_loader  # noqa: E402
import tarius_stack  # noqa: E402

SEED = os.path.join(HERE, "..", "..", "shared", "seed-data", "products.csv")


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cold_start_runs(bootstrap, local, runs, tmp):
    small = os.path.join(tmp, "small.csv")
    with open(small, "w") as f:
        f.write("ID,Title,Price\n" + "".join("c%d,t,%d\n" % (i, i) for i in range(20)))
    init_ms, first_ms, main_ms = [], [], []
    log = os.path.join(tmp, "cold.log")
    for i in range(runs):
        event = ls.upload(local, small, "raw-data/cold/%d.csv" % i)
        with fake_runtime.FakeRuntime() as rt:
            rt.invoke(event)
            t0 = time.monotonic()
            proc = ls.start_bootstrap(rt, local.env, exe=bootstrap, log_path=log)
            try:
                while not rt.invocations or not rt.invocations[0].done.is_set():
                    time.sleep(0.001)
                inv = rt.invocations[0]
                assert inv.outcome == "response", inv.body
                init_ms.append((rt.first_next_at - t0) * 1000)
                first_ms.append((rt.first_response_at - t0) * 1000)
            finally:
                ls.stop(proc)
            with open(log) as f:
                init = [json.loads(line) for line in f if '"init done"' in line]
            main_ms.append(init[0]["init_us"] / 1000.0)
    return init_ms, first_ms, main_ms


def python_import_runs(local, runs):
    times = []
    env = dict(local.env, AWS_DEFAULT_REGION=tarius_stack.REGION, PYTHONPATH=HERE)
    for _ in range(runs):
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", "import original_handler; print('ready', flush=True)"],
                                env=env, stdout=subprocess.PIPE)
        proc.stdout.readline()
        times.append((time.monotonic() - t0) * 1000)
        proc.wait()
    return times


def rss_seed(bootstrap, local):
    event = ls.upload(local, SEED, "raw-data/rss/products.csv")
    with fake_runtime.FakeRuntime() as rt:
        proc = ls.start_bootstrap(rt, local.env, exe=bootstrap)
        try:
            inv = rt.invoke_and_wait(event, wait_s=300)
            assert inv.outcome == "response", inv.body
            return peak_rss_mb(proc.pid)
        finally:
            ls.stop(proc)


def rss_big(bootstrap, tools, local, gb, tmp):
    path = os.path.join(tmp, "big.csv")
    rows = int(gb * 1e9 / 265)
    subprocess.run([os.path.join(tools, "tarius"), "gen", "--rows", str(rows), "--seed", "3", "--out", path],
                   check=True)
    size = os.path.getsize(path)
    event = ls.upload(local, path, "raw-data/rss/big.csv")
    os.unlink(path)
    stub = tarius_stack.start_fault_server()
    try:
        env = dict(local.env, AWS_ENDPOINT_URL_DYNAMODB=stub.url,
                   TARIUS_MAPPING=json.dumps({"partition_key": "ID:S"}))
        with fake_runtime.FakeRuntime() as rt:
            proc = ls.start_bootstrap(rt, env, exe=bootstrap)
            try:
                t0 = time.monotonic()
                inv = rt.invoke_and_wait(event, wait_s=3600)
                seconds = time.monotonic() - t0
                assert inv.outcome == "response", inv.body
                load = inv.json_body()["loads"][0]
                return size, load, seconds, peak_rss_mb(proc.pid)
            finally:
                ls.stop(proc)
    finally:
        stub.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--tools", default="build/dev/bin")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rss-gb", type=float, default=1.0)
    parser.add_argument("--package", help="deployment zip whose bootstrap to measure")
    args = parser.parse_args()
    bootstrap = os.path.abspath(os.path.join(args.build, "bin", "bootstrap"))
    tools = os.path.abspath(args.tools)
    os.environ["TARIUS_BIN"] = tools
    with tempfile.TemporaryDirectory() as tmp, tarius_stack.stack(moto=True, dynalite=True) as st:
        if args.package:
            subprocess.run(["unzip", "-q", args.package, "-d", os.path.join(tmp, "task")], check=True)
            bootstrap = os.path.join(tmp, "task", "bootstrap")
        baseline = []
        for _ in range(args.runs):
            t0 = time.monotonic()
            subprocess.run(["/bin/true"])
            baseline.append((time.monotonic() - t0) * 1000)
        local = local_loader.provisioned(st)
        init_ms, first_ms, main_ms = cold_start_runs(bootstrap, local, args.runs, tmp)
        py_ms = python_import_runs(local, args.runs)
        print("cold start over %d runs (median, min, max in ms):" % args.runs)
        for name, values in (("baseline: spawn and wait for /bin/true", baseline),
                             ("bootstrap exec -> first GET next", init_ms),
                             ("  of which main() -> clients, config, handler ready", main_ms),
                             ("bootstrap exec -> first response (20-row file)", first_ms),
                             ("python: exec -> original handler imported (boto3 clients)", py_ms)):
            print("  %-58s %8.1f %8.1f %8.1f" % (name, statistics.median(values), min(values), max(values)))
        # What Lambda reports as Init Duration starts at the runtime process, not at our parent's fork/exec.
        print("  %-58s %8.1f" % ("bootstrap init net of the spawn baseline (medians)",
                                 statistics.median(init_ms) - statistics.median(baseline)))
        print("  ratio python import / bootstrap init: %.0fx" % (statistics.median(py_ms) / statistics.median(init_ms)))
        print("peak RSS, seed sample (1,000 rows): %.1f MB" % rss_seed(bootstrap, local))
        if args.rss_gb > 0:
            size, load, seconds, rss = rss_big(bootstrap, tools, local, args.rss_gb, tmp)
            print("peak RSS, %.2f GB object (%d rows, %d items, %.0f s): %.1f MB" %
                  (size / 1e9, load["rows"], load["items"], seconds, rss))


if __name__ == "__main__":
    main()
