#!/usr/bin/env python3
"""Peak memory of `tarius load` on hostile inputs (issue 10, item 5): rows of 400 KB (a 646 KB .gz of 1,600 of
them), and rows of 400 KB of control characters (six bytes of JSON each), against a loopback DynamoDB stub that
answers after `--latency-ms`, for each writer memory bound (TARIUS_MAX_BUFFER_MB; in Lambda the bound is a tenth of
the function's memory, so the bound × 10 is the function size it stands for).

The peak is the process's own high-water mark (VmHWM, sampled every 20 ms while it runs): wait4's ru_maxrss would
also count the Python parent, whose memory a child keeps until it execs.

usage: bench/memory_bench.py [--build build/release] [--tools build/dev/bin] [--bounds 8,12.8,25.6,51.2,64]
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
import tarius_stack  # noqa: E402

ROW_BYTES = 399 * 1000


def hwm_bytes(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_of(argv, env):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, hwm_bytes(proc.pid))
        time.sleep(0.02)
    if proc.returncode not in (0, 1):
        sys.exit("failed (%d): %s\n%s" % (proc.returncode, " ".join(argv), proc.stderr.read().decode()[-2000:]))
    return peak, time.perf_counter() - start


def write_gz(path, make_value):
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(b"ID,Data\n")
        for i in range(1600):
            f.write(b"m%05d,%s\n" % (i, make_value(i)))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--tools", default="build/dev/bin")
    parser.add_argument("--bounds", default="8,12.8,25.6,51.2,64")
    parser.add_argument("--latency-ms", type=int, default=5)
    args = parser.parse_args()
    tarius = os.path.join(args.build, "bin", "tarius")
    os.environ["TARIUS_BIN"] = os.path.abspath(args.tools)
    with tempfile.TemporaryDirectory() as tmp:
        big = write_gz(os.path.join(tmp, "rows400k.csv.gz"), lambda i: b"x" * ROW_BYTES)
        controls = write_gz(os.path.join(tmp, "controls.csv.gz"), lambda i: bytes(range(1, 9)) * (ROW_BYTES // 8))
        inputs = [("400 KB rows", big), ("control characters", controls)]
        print("| writer bound (MB) | function it stands for | input | peak RSS | share of the function | time |")
        print("| --- | --- | --- | --- | --- | --- |")
        with tarius_stack.stack(fault_server_args=["--latency-ms", str(args.latency_ms)]) as st:
            env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_REGION="us-east-1", AWS_ENDPOINT_URL=st.fault_server.url, AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
                       NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", TARIUS_PROGRESS_SECONDS="0")
            for bound in [b for b in args.bounds.split(",") if b] + ["default"]:
                run_env = dict(env)
                if bound != "default":
                    run_env["TARIUS_MAX_BUFFER_MB"] = bound
                function_mb = float(bound) * 10 if bound != "default" else None
                for label, path in inputs:
                    peak, seconds = peak_of([tarius, "load", path, "--table", "t", "--key", "ID"], run_env)
                    share = "%.0f %%" % (100 * peak / (function_mb * 1024 * 1024)) if function_mb else "–"
                    print("| %s | %s | %s | %.1f MiB | %s | %.1f s |" % (
                        bound if bound != "default" else "64 (default)",
                        "%.0f MB" % function_mb if function_mb else "CLI", label, peak / 1048576, share, seconds))
                    sys.stdout.flush()


if __name__ == "__main__":
    main()
