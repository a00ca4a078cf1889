# ctest-label: integration
"""The stand-ins for a provisioned table (tests/tools/capacity_table, and ddb_fault_proxy.py --capacity), seen by
boto3 as a DynamoDB client: a token bucket of W write units per second (W on a schedule), one unit per started KB
of each item; a BatchWriteItem gets what the tokens cover and the rest back byte for byte as UnprocessedItems;
nothing at all is a ProvisionedThroughputExceededException; ConsumedCapacity when asked; x-amz-crc32 that botocore
checks; counters and a per-second log of accepted write units."""
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.request

import botocore.exceptions

sys.path.insert(0, os.path.dirname(__file__))
import tarius_stack  # noqa: E402

TABLE = "capacity"


def start_python(*args):
    """ddb_fault_proxy.py in capacity mode, through the same starter as the fault proxy (no upstream needed)."""
    args = list(args)
    schedule = args[args.index("--wcu") + 1]
    args[args.index("--wcu")] = "--capacity"
    args[args.index("--capacity") + 1] = schedule
    server = tarius_stack.start_ddb_fault_proxy("", *args)
    server.stats_path = "/__proxy/capacity"
    return server


def start_cpp(*args):
    server = tarius_stack.start_capacity_table(*args)
    server.stats_path = "/stats"
    return server


def partition_of(key_json, partitions):
    """The stand-in's partition of a partition key value: FNV-1a (64 bits) of its minified JSON, modulo N."""
    h = 0xcbf29ce484222325
    for byte in key_json.encode():
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h % partitions


def puts(n, size=10, prefix="k"):
    return [{"PutRequest": {"Item": {"ID": {"S": "%s%03d" % (prefix, i)}, "V": {"S": "é" * (size // 2)}}}}
            for i in range(n)]


class stand_in_checks:
    start = None

    def stats(self, server):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(server.url + server.stats_path, timeout=10) as response:
            return json.loads(response.read())

    def test_bucket_partial_batches_throttling_and_schedule(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "seconds.jsonl")
            # 1 unit per second at first: a batch gets one item, the next (within the second) nothing.
            with type(self).start("--wcu", "0:1,1:1000", "--log", log) as server:
                ddb = tarius_stack.dynamodb_client(server.url)
                described = ddb.describe_table(TableName=TABLE)["Table"]
                self.assertEqual(described["KeySchema"], [{"AttributeName": "ID", "KeyType": "HASH"}])
                self.assertEqual(described["ProvisionedThroughput"]["WriteCapacityUnits"], 1)

                items = puts(25)
                first = ddb.batch_write_item(RequestItems={TABLE: items}, ReturnConsumedCapacity="TOTAL")
                self.assertEqual(first["UnprocessedItems"], {TABLE: items[1:]})
                self.assertEqual(first["ConsumedCapacity"], [{"TableName": TABLE, "CapacityUnits": 1.0}])
                with self.assertRaises(botocore.exceptions.ClientError) as refused:
                    ddb.batch_write_item(RequestItems={TABLE: items[1:]})
                self.assertEqual(refused.exception.response["Error"]["Code"],
                                 "ProvisionedThroughputExceededException")
                self.assertEqual(refused.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

                time.sleep(1.5)  # the schedule's second step: 1,000 units per second
                rest = ddb.batch_write_item(RequestItems={TABLE: items[1:]}, ReturnConsumedCapacity="TOTAL")
                self.assertEqual(rest["UnprocessedItems"], {})
                self.assertEqual(rest["ConsumedCapacity"][0]["CapacityUnits"], 24.0)
                # Without ReturnConsumedCapacity, no ConsumedCapacity.
                self.assertNotIn("ConsumedCapacity", ddb.batch_write_item(RequestItems={TABLE: puts(1, 10, "z")}))
                # One unit per started KB of the item (names and values): 2,500 bytes of value is 3 units.
                big = ddb.batch_write_item(RequestItems={TABLE: puts(1, 2500, "b")}, ReturnConsumedCapacity="TOTAL")
                self.assertEqual(big["ConsumedCapacity"][0]["CapacityUnits"], 3.0)

                totals = self.stats(server)["totals"]
                self.assertEqual(totals["items"], 1 + 24 + 1 + 1)
                self.assertEqual(totals["wcu"], 1 + 24 + 1 + 3)
                self.assertEqual(totals["throttled_requests"], 1)
                self.assertEqual(totals["partial_requests"], 1)
                self.assertEqual(totals["unprocessed_items"], 24)
            with open(log) as f:
                seconds = [json.loads(line) for line in f]
            self.assertEqual(sum(s.get("wcu", 0) for s in seconds), 29)
            self.assertEqual(seconds[0]["capacity"], 1)
            self.assertEqual(seconds[-1]["capacity"], 1000)


class capacity_table_cpp(stand_in_checks, unittest.TestCase):
    start = staticmethod(start_cpp)

    def test_partitions_limit_each_key_range_and_a_sort_key_is_described(self):
        # Four partitions of 10 units each (2 per second, a burst of 5 seconds); the table itself has plenty.
        with start_cpp("--wcu", "100000", "--burst-seconds", "5", "--sort-key", "SK:N", "--partitions", "4",
                       "--partition-wcu", "2") as server:
            ddb = tarius_stack.dynamodb_client(server.url)
            described = ddb.describe_table(TableName=TABLE)["Table"]
            self.assertEqual(described["KeySchema"], [{"AttributeName": "ID", "KeyType": "HASH"},
                                                      {"AttributeName": "SK", "KeyType": "RANGE"}])
            self.assertIn({"AttributeName": "SK", "AttributeType": "N"}, described["AttributeDefinitions"])
            # One partition key value: one partition, 10 tokens. The first 10 items are taken, the other 15 come
            # back byte for byte, in order.
            one_key = [{"PutRequest": {"Item": {"ID": {"S": "u1"}, "SK": {"N": str(i)}}}} for i in range(25)]
            first = ddb.batch_write_item(RequestItems={TABLE: one_key}, ReturnConsumedCapacity="TOTAL")
            self.assertEqual(first["UnprocessedItems"], {TABLE: one_key[10:]})
            self.assertEqual(first["ConsumedCapacity"][0]["CapacityUnits"], 10.0)
            # 25 partition key values over the four partitions (FNV-1a of the key value's JSON, modulo 4): the
            # items of a partition with tokens are taken even after an item of the request was handed back.
            tokens = [10] * 4
            tokens[partition_of('{"S":"u1"}', 4)] = 0
            spread = [{"PutRequest": {"Item": {"ID": {"S": "k%02d" % i}, "SK": {"N": "1"}}}} for i in range(25)]
            expected_back = []
            for i, item in enumerate(spread):
                p = partition_of('{"S":"k%02d"}' % i, 4)
                if tokens[p] >= 1:
                    tokens[p] -= 1
                else:
                    expected_back.append(item)
            self.assertTrue(expected_back and expected_back[0] != spread[-len(expected_back)],
                            "the key values chosen must mix taken and handed-back items")
            second = ddb.batch_write_item(RequestItems={TABLE: spread}, ReturnConsumedCapacity="TOTAL")
            self.assertEqual(second["UnprocessedItems"], {TABLE: expected_back})
            self.assertEqual(second["ConsumedCapacity"][0]["CapacityUnits"], 25.0 - len(expected_back))
            totals = self.stats(server)["totals"]
            self.assertEqual(totals["items"], 10 + 25 - len(expected_back))
            self.assertEqual(totals["partition_refused"], 15 + len(expected_back))
            self.assertGreaterEqual(totals["span_seconds"], 0)


class capacity_table_python(stand_in_checks, unittest.TestCase):
    start = staticmethod(start_python)


if __name__ == "__main__":
    unittest.main()
