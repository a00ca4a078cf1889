#!/usr/bin/env python3
"""Loader benchmarks (issue 4), each comparison measured in one run:

1. items/s of `tarius load` against a loopback DynamoDB stub that answers BatchWriteItem after 5 ms, vs boto3's
   `batch_writer` on the same file and stub;
2. peak RSS of `tarius load` on a ~1 GB file (same stub);
3. end to end on the local stack (moto + dynalite): the seed sample uploaded → the worker's summary, vs the original
   system's handler logic (GetItem + PutItem per row through boto3) on the same stack.

usage: bench/loader_compare.py [--build build/release] [--tools build/dev/bin] [--rows 300000] [--rss-gb 1]
"""
import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
import tarius_stack  # noqa: E402


def measured(cmd, env, cpu=False):
    """Runs `cmd`: (seconds, peak RSS MB, stdout), and with `cpu` its CPU seconds (user + system) as well."""
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "p=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE);d=time.perf_counter()-t;"
             "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
             "sys.stderr.write('%f %f %d\\n'%(d,u.ru_utime+u.ru_stime,u.ru_maxrss));"
             "sys.stdout.buffer.write(p.stdout);sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, env=env)
    if proc.returncode not in (0, 1):
        sys.exit("failed: %s\n%s" % (" ".join(cmd), proc.stderr.decode()[-2000:]))
    seconds, cpu_seconds, rss_kb = proc.stderr.decode().split()[-3:]
    if cpu:
        return float(seconds), int(rss_kb) / 1024, proc.stdout, float(cpu_seconds)
    return float(seconds), int(rss_kb) / 1024, proc.stdout


def stub_env(url):
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "AKIDBENCH", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": url, "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
                "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    return env


def boto3_batch_writer(path, url, limit_rows):
    import boto3
    os.environ.update(stub_env(url))
    table = boto3.resource("dynamodb", endpoint_url=url).Table("t")
    rows = 0
    start = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as f, table.batch_writer() as writer:
        for row in csv.DictReader(f):
            writer.put_item(Item={k: v for k, v in row.items() if v})
            rows += 1
            if rows >= limit_rows:
                break
    return time.perf_counter() - start, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--tools", default="build/dev/bin")
    parser.add_argument("--rows", type=int, default=300000)
    parser.add_argument("--boto3-rows", type=int, default=20000)
    parser.add_argument("--rss-gb", type=float, default=1)
    parser.add_argument("--seed-sample", default=os.path.join(HERE, "..", "..", "shared", "seed-data", "products.csv"))
    args = parser.parse_args()
    tarius = os.path.join(args.build, "bin", "tarius")
    os.environ["TARIUS_BIN"] = os.path.abspath(args.tools)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "products.csv")
        subprocess.run([tarius, "gen", "--rows", str(args.rows), "--out", path], check=True)
        with tarius_stack.stack(fault_server_args=["--latency-ms", "5"]) as st:
            env = stub_env(st.fault_server.url)
            seconds, rss, out = measured([tarius, "load", path, "--table", "t", "--key", "ID", "--json",
                                          "--concurrency", "64"], env)
            report = json.loads(out)
            tarius_rate = report["counts"]["items_written"] / seconds
            print(f"tarius load, stub answering after 5 ms, 64 in flight: {report['counts']['items_written']:,} items "
                  f"in {seconds:.2f} s = {tarius_rate:,.0f} items/s, peak RSS {rss:.1f} MB")
            b_seconds, b_rows = boto3_batch_writer(path, st.fault_server.url, args.boto3_rows)
            boto_rate = b_rows / b_seconds
            print(f"boto3 batch_writer, same stub: {b_rows:,} items in {b_seconds:.2f} s = {boto_rate:,.0f} items/s")
            print(f"ratio: {tarius_rate / boto_rate:.1f}x")
            if args.rss_gb:
                big = os.path.join(tmp, "big.csv")
                subprocess.run([tarius, "gen", "--rows", str(int(args.rss_gb * 1e9 / 265)), "--out", big], check=True)
                seconds, rss, out = measured([tarius, "load", big, "--table", "t", "--key", "ID", "--json"], env)
                report = json.loads(out)
                print(f"tarius load of {os.path.getsize(big) / 1e9:.2f} GB: {report['counts']['items_written']:,} "
                      f"items in {seconds:.1f} s, peak RSS {rss:.1f} MB")

        # 3. The seed sample end to end on the local stack.
        import local_loader
        with tarius_stack.stack(moto=True, dynalite=True) as st:
            local = local_loader.provisioned(st, table="product")
            local.ddb.create_table(TableName="product_py", KeySchema=[{"AttributeName": "ID", "KeyType": "HASH"}],
                                   AttributeDefinitions=[{"AttributeName": "ID", "AttributeType": "S"}],
                                   BillingMode="PAY_PER_REQUEST")
            env = dict(local.env)
            start = time.perf_counter()
            local.s3.upload_file(args.seed_sample, local_loader.BUCKET, "raw-data/products.csv")
            subprocess.run([tarius, "worker", "--queue-url", local.queue_url, "--exit-when-idle",
                            "--wait-seconds", "1"], env=env, check=True, stdout=subprocess.DEVNULL)
            notes = local.notifications()
            tarius_e2e = time.perf_counter() - start
            load_seconds = json.loads(notes[0]["Message"])["counts"]["seconds"]
            # The original handler: GetItem + PutItem per row, every attribute a string.
            table = local.ddb
            start = time.perf_counter()
            body = local.s3.get_object(Bucket=local_loader.BUCKET, Key="raw-data/products.csv")["Body"].read()
            rows = list(csv.DictReader(body.decode("utf-8").splitlines()))
            for row in rows:
                table.get_item(TableName="product_py", Key={"ID": {"S": row["ID"]}})
                table.put_item(TableName="product_py", Item={k: {"S": v} for k, v in row.items() if v})
            python_seconds = time.perf_counter() - start
            print(f"seed sample end to end (upload → notification) with tarius worker: {tarius_e2e:.2f} s "
                  f"(load itself {load_seconds:.2f} s); original Python handler logic: {python_seconds:.2f} s; "
                  f"ratio on the load: {python_seconds / load_seconds:.1f}x")


if __name__ == "__main__":
    main()
