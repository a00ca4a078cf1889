#!/usr/bin/env python3
"""Helpers of scripts/demo: provision the local stack, upload a file, show the outcome (boto3 as the observer).

usage: demo_stack.py provision | upload FILE KEY | stock FILE ROWS DELETE_EVERY | prices FILE ROWS DAY |
       show N_NOTIFICATIONS
Reads AWS_ENDPOINT_URL (moto) and AWS_ENDPOINT_URL_DYNAMODB (dynalite) from the environment."""
import json
import os
import sys
import time

import boto3

BUCKET = "tarius-landing-local"
TABLE = "product"
STOCK = "stock"
PRICES = "prices"
LEDGER = "tarius-ledger-local"


def client(service):
    endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB" if service == "dynamodb" else "AWS_ENDPOINT_URL"]
    config = boto3.session.Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 10})
    return boto3.client(service, endpoint_url=endpoint, config=config)


def wait_for(check, what, seconds=20):
    deadline = time.time() + seconds
    while True:
        try:
            return check()
        except Exception:  # noqa: BLE001 - servers still starting
            if time.time() > deadline:
                sys.exit("demo: %s did not come up" % what)
            time.sleep(0.1)


def provision():
    s3, sqs, sns, ddb = client("s3"), client("sqs"), client("sns"), client("dynamodb")
    wait_for(lambda: s3.list_buckets(), "moto")
    wait_for(lambda: ddb.list_tables(), "dynalite")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dlq = sqs.create_queue(QueueName="tarius-dlq-local")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="tarius-loads-local", Attributes={
        "VisibilityTimeout": "60", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "raw-data/"}]}}}]})
    topic = sns.create_topic(Name="tarius-loads-local")["TopicArn"]
    inbox = sqs.create_queue(QueueName="tarius-notifications-local")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    for name, key in ((TABLE, "ID"), (STOCK, "SKU"), (PRICES, "SKU"), (LEDGER, "pk")):
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    for name in (TABLE, STOCK, PRICES, LEDGER):
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    for key, value in {"TARIUS_QUEUE_URL": queue, "TARIUS_LEDGER_TABLE": LEDGER,
                       "TARIUS_TOPIC_ARN": topic, "TARIUS_LANDING_BUCKET": BUCKET,
                       "TARIUS_DEMO_INBOX": inbox, "TARIUS_DEMO_DLQ": dlq}.items():
        print("export %s=%s" % (key, value))


def upload(path, key):
    client("s3").upload_file(path, BUCKET, key)
    print("demo: uploaded %s to s3://%s/%s (%.1f MB)" % (path, BUCKET, key, os.path.getsize(path) / 1e6))


def stock(path, rows, delete_every):
    """A stock-levels file of the delete feed: every row a put (U) of SKU-0..rows-1, except every `delete_every`-th,
    which deletes that SKU (0: none)."""
    import csv
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["SKU", "Warehouse", "Qty", "op"])
        for n in range(rows):
            deletes = delete_every and n % delete_every == 0
            out.writerow(["SKU-%05d" % n, "" if deletes else "WH-%d" % (n % 3), "" if deletes else n % 500,
                          "D" if deletes else "U"])


def prices(path, rows, day):
    """A price list of the snapshot feed: SKU-0..rows-1 on day 1; on day 2, 1 % of the prices changed and 0.5 % of
    the SKUs gone."""
    import csv
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["SKU", "Price", "Currency"])
        for n in range(rows):
            if day == 2 and n % 200 == 7:
                continue  # discontinued
            price = 10 + n % 90 + (0.5 if day == 2 and n % 100 == 3 else 0)
            out.writerow(["SKU-%05d" % n, "%.2f" % price, "EUR"])


def count_items(ddb, table):
    scanned = ddb.scan(TableName=table, Select="COUNT")
    total = scanned["Count"]
    while "LastEvaluatedKey" in scanned:
        scanned = ddb.scan(TableName=table, Select="COUNT", ExclusiveStartKey=scanned["LastEvaluatedKey"])
        total += scanned["Count"]
    return total


def show(expected):
    sqs, ddb = client("sqs"), client("dynamodb")
    inbox = os.environ["TARIUS_DEMO_INBOX"]
    notes = []
    deadline = time.time() + 60
    while len(notes) < expected and time.time() < deadline:
        got = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in got.get("Messages", []):
            notes.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=inbox, ReceiptHandle=m["ReceiptHandle"])
    if len(notes) < expected:
        sys.exit("demo: only %d of %d notifications arrived; see .demo/worker.log" % (len(notes), expected))
    print("\n== notifications (what the e-mail subscribers read)")
    for note in notes:
        report = json.loads(note["Message"])
        print("  [%s] feed %s: %s" % (report["status"], report.get("feed", "-"), note.get("Subject", "")))
        counts = report["counts"]
        text = report.get("error") or "rows %d, items %d, deleted %d, rejected %d" % (
            counts["rows"], counts["items_written"], counts.get("deleted", 0), counts["rejected"])
        if "snapshot" in report and not report.get("error"):
            text = ("rows %d: written %d, unchanged %d (not sent), items removed %d, rejected %d; %d write requests, "
                    "%.0f WCU" % (counts["rows"], counts["items_written"], counts["unchanged"],
                                  counts["absent_deleted"], counts["rejected"], counts["requests"],
                                  counts["wcu_consumed"]))
        print("    " + text)
        if "rejects" in report:
            print("    rejects: %s\n             %s" % (report["rejects"]["csv"], report["rejects"]["reasons"]))
    for table in (TABLE, STOCK, PRICES):
        print("\n== table %s: %d items (counted with Scan); three of them:" % (table, count_items(ddb, table)))
        for item in ddb.scan(TableName=table, Limit=3)["Items"]:
            print("  " + json.dumps(item, ensure_ascii=False)[:300])


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "provision":
        provision()
    elif len(sys.argv) == 4 and sys.argv[1] == "upload":
        upload(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "stock":
        stock(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "prices":
        prices(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "show":
        show(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
