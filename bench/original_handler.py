"""The original system's Lambda handler, as its behaviour is described (Python, boto3): clients created when the
module is imported, the whole object read into memory, one GetItem + PutItem per row, every attribute a string.
Used by bench/lambda_bench.py to compare cold starts (import time) in the same run."""
import csv
import io
import os
import urllib.parse

import boto3

s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")
TABLE = os.environ.get("TABLE_NAME", "product")


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        loaded = 0
        for row in csv.DictReader(io.StringIO(body)):
            dynamodb.get_item(TableName=TABLE, Key={"ID": {"S": row["ID"]}})
            dynamodb.put_item(TableName=TABLE, Item={k: {"S": v} for k, v in row.items() if v})
            loaded += 1
        topic = os.environ.get("TOPIC_ARN")
        if topic:
            sns.publish(TopicArn=topic, Message="Loaded %d rows from s3://%s/%s" % (loaded, bucket, key))
    return {"status": "ok"}
