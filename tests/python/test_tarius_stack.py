# ctest-label: integration
"""Self-test of tarius_stack: moto and dynalite start, serve boto3 and stop by PID; fault_server's scripted
DynamoDB faults look to boto3 (an independent client) exactly like DynamoDB's."""

import os
import unittest

import botocore.exceptions

import tarius_stack as ts


def batch(table, keys):
    """A BatchWriteItem RequestItems map putting one item per key."""
    return {table: [{"PutRequest": {"Item": {"pk": {"S": k}, "n": {"N": str(i)}, "note": {"S": 'q"uote\\ ü'}}}}
                    for i, k in enumerate(keys)]}


class StackTest(unittest.TestCase):
    def test_moto_and_dynalite_serve_boto3_and_stop(self):
        with ts.stack(moto=True, dynalite=True) as st:
            pids = [s.pid for s in st.servers()]
            self.assertEqual(len(pids), 2)
            self.assertTrue(all(ts.pid_exists(p) for p in pids))

            s3 = ts.s3_client(st.moto.url)
            s3.create_bucket(Bucket="tarius-input")
            s3.put_object(Bucket="tarius-input", Key="dir/rows.csv", Body=b"id,name\n1,a\n")
            body = s3.get_object(Bucket="tarius-input", Key="dir/rows.csv")["Body"].read()
            self.assertEqual(body, b"id,name\n1,a\n")

            ddb = ts.dynamodb_client(st.dynalite.url)
            ddb.create_table(TableName="items", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
            ddb.get_waiter("table_exists").wait(TableName="items", WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
            ddb.put_item(TableName="items", Item={"pk": {"S": "k1"}, "v": {"N": "7"}})
            item = ddb.get_item(TableName="items", Key={"pk": {"S": "k1"}})["Item"]
            self.assertEqual(item["v"], {"N": "7"})
        for pid in pids:
            self.assertFalse(ts.pid_exists(pid), "server %d still running" % pid)

    def test_servers_stop_when_the_test_raises(self):
        pids = []
        with self.assertRaises(ZeroDivisionError):
            with ts.stack(dynalite=True, fault_server_args=[]) as st:
                pids = [s.pid for s in st.servers()]
                raise ZeroDivisionError()
        self.assertEqual(len(pids), 2)
        for pid in pids:
            self.assertFalse(ts.pid_exists(pid), "server %d still running" % pid)


class FaultServerTest(unittest.TestCase):
    def test_scripted_faults_seen_by_boto3(self):
        faults = "throttle:2,500:1,503:1,throttling:1,unprocessed:1,reset:1,close:1,truncate:1"
        with ts.stack(fault_server_args=["--faults", faults]) as st:
            ddb = ts.dynamodb_client(st.fault_server.url)  # no retries: every fault surfaces
            keys = ["k%d" % i for i in range(25)]

            def error_of(call):
                with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                    call()
                return ctx.exception.response["Error"]["Code"], ctx.exception.response["ResponseMetadata"]

            put = lambda: ddb.batch_write_item(RequestItems=batch("tbl", keys))  # noqa: E731
            expected_errors = [("ProvisionedThroughputExceededException", 400),
                               ("ProvisionedThroughputExceededException", 400),
                               ("InternalServerError", 500),
                               ("ServiceUnavailableException", 503),
                               ("ThrottlingException", 400)]
            for code, status in expected_errors:
                got_code, meta = error_of(put)
                self.assertEqual((got_code, meta["HTTPStatusCode"]), (code, status))
                self.assertTrue(meta["RequestId"].startswith("FAULTSRV"))

            # UnprocessedItems: the second half of the request's items, echoed exactly.
            request = batch("tbl", keys)
            request.update(batch("other", ["x", "y", "z"]))
            answer = ddb.batch_write_item(RequestItems=request)
            self.assertEqual(answer["UnprocessedItems"]["tbl"], request["tbl"][13:])
            self.assertEqual(answer["UnprocessedItems"]["other"], request["other"][2:])

            for _ in range(3):  # reset, close, truncate: the connection ends without a full answer
                with self.assertRaises((botocore.exceptions.ConnectionClosedError,
                                        botocore.exceptions.EndpointConnectionError)):
                    put()

            answer = put()  # faults used up: ok
            self.assertEqual(answer["UnprocessedItems"], {})
            self.assertEqual(answer["ResponseMetadata"]["RetryAttempts"], 0)

    def test_crc32_checked_by_botocore(self):
        # botocore retries a DynamoDB answer whose x-amz-crc32 does not match: exactly one retry proves the bad
        # CRC is detected and the good one accepted.
        with ts.stack(fault_server_args=["--faults", "badcrc:1"]) as st:
            ddb = ts.dynamodb_client(st.fault_server.url, max_attempts=3)
            answer = ddb.batch_write_item(RequestItems=batch("tbl", ["a"]))
            self.assertEqual(answer["ResponseMetadata"]["RetryAttempts"], 1)
            self.assertEqual(answer["UnprocessedItems"], {})

    def test_log_and_unprocessed_mode(self):
        log_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tarius-fault-log-%d.jsonl" % os.getpid())
        try:
            with ts.stack(fault_server_args=["--mode", "ddb-unprocessed", "--faults", "throttle", "--log",
                                             log_path]) as st:
                ddb = ts.dynamodb_client(st.fault_server.url, max_attempts=2)
                answer = ddb.batch_write_item(RequestItems=batch("tbl", ["a", "b", "c", "d"]))
                self.assertEqual(answer["ResponseMetadata"]["RetryAttempts"], 1)
                self.assertEqual([r["PutRequest"]["Item"]["pk"]["S"] for r in answer["UnprocessedItems"]["tbl"]],
                                 ["c", "d"])
            with open(log_path) as f:
                lines = f.read().splitlines()
            self.assertEqual(len(lines), 2)
            self.assertIn('"fault":"throttle"', lines[0])
            self.assertIn('"fault":"unprocessed"', lines[1])
            self.assertIn('"target":"DynamoDB_20120810.BatchWriteItem"', lines[1])
        finally:
            if os.path.exists(log_path):
                os.unlink(log_path)


if __name__ == "__main__":
    unittest.main()
