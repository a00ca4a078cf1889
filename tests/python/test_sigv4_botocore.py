# ctest-label: fixture
"""Cross-checks Tarius' SigV4 signer (bin/sigv4_sign) against botocore's SigV4Auth / S3SigV4Auth.

Each case is one literal request; botocore signs it at a fixed time (get_current_datetime patched, as in
botocore's own tests) and the canonical request, string to sign, Authorization header and the added
X-Amz-* headers must be identical.
"""

import datetime
import json
import os
import subprocess
import unittest
from unittest import mock
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

BIN = os.environ.get("TARIUS_BIN", "")
SIGN_TOOL = os.path.join(BIN, "sigv4_sign")
FIXED_TIME = datetime.datetime(2026, 11, 24, 5, 30, 15)
AMZ_DATE = "20261124T053015Z"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token/with+slash=="

JSON_10 = "application/x-amz-json-1.0"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def s3_url(bucket, key, region="eu-west-1", query=""):
    """A virtual-hosted S3 URL with the key encoded as botocore's REST serializer does (safe '/~')."""
    url = f"https://{bucket}.s3.{region}.amazonaws.com/{quote(key.encode('utf-8'), safe='/~')}"
    return url + ("?" + query if query else "")


def batch_write_body():
    items = []
    for index in range(3):
        items.append({"PutRequest": {"Item": {
            "pk": {"S": f"user#{index}"},
            "name": {"S": "Zoë “quoted” ünïcode"},
            "n": {"N": str(index * 1.5)},
        }}})
    return json.dumps({"RequestItems": {"tarius-table": items}}, ensure_ascii=False)


def form(pairs):
    """A query-protocol body, encoded like botocore's query serializer."""
    return percent_encode_sequence(pairs)


# (name, service, region, method, url, headers, body, query params given to botocore (None = in url), token,
#  flags). For the query-params cases botocore encodes the params itself; our tool gets the URL built from them.
CASES = [
    # S3 object keys (REST protocol): encoded once, never normalised, x-amz-content-sha256 on every request.
    ("s3_get_space", "s3", "eu-west-1", "GET", s3_url("b", "dir/my file.csv"), {}, b"", None, None, {}),
    ("s3_get_plus", "s3", "eu-west-1", "GET", s3_url("b", "a+b.csv"), {}, b"", None, None, {}),
    ("s3_get_ampersand", "s3", "eu-west-1", "GET", s3_url("b", "a&b.csv"), {}, b"", None, TOKEN, {}),
    ("s3_get_e_acute", "s3", "eu-west-1", "GET", s3_url("b", "caf\u00e9/\u00e9t\u00e9.csv"), {}, b"", None, None, {}),
    ("s3_get_sub_delims", "s3", "eu-west-1", "GET", s3_url("b", "x!*()';=?.csv"), {}, b"", None, TOKEN, {}),
    ("s3_get_tilde", "s3", "eu-west-1", "GET", s3_url("b", "~user/a~b.csv"), {}, b"", None, None, {}),
    ("s3_get_percent", "s3", "eu-west-1", "GET", s3_url("b", "100%/50%25.csv"), {}, b"", None, None, {}),
    ("s3_get_nested_dots", "s3", "eu-west-1", "GET", s3_url("b", "a//b/../c"), {}, b"", None, None, {}),
    ("s3_get_dot_segments", "s3", "eu-west-1", "GET", s3_url("b", "./x/./y/.."), {}, b"", None, TOKEN, {}),
    ("s3_put_space_plus", "s3", "eu-west-1", "PUT", s3_url("b", "in/my file+1.csv"),
     {"Content-Type": "text/csv"}, b"id,name\n1,caf\xc3\xa9\n", None, None, {}),
    ("s3_put_token", "s3", "eu-west-1", "PUT", s3_url("b", "caf\u00e9 & co/r\u00e9sum\u00e9 (1).csv"),
     {"Content-Type": "text/csv"}, b"a,b\n", None, TOKEN, {}),
    ("s3_put_unsigned", "s3", "eu-west-1", "PUT", s3_url("b", "big/part 1.csv"),
     {"Content-Type": "text/csv", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, b"x" * 1000, None, None,
     {"unsigned_payload": True}),
    ("s3_put_unsigned_token", "s3", "eu-west-1", "PUT", s3_url("b", "a//b/../c"), {}, b"body", None, TOKEN,
     {"unsigned_payload": True}),
    ("s3_list_objects", "s3", "eu-west-1", "GET", s3_url("b", ""), {}, b"",
     [("list-type", "2"), ("prefix", "in/my dir+\u00e9/"), ("max-keys", "1000"), ("continuation-token", "a/b=c")],
     None, {}),
    ("s3_localhost_port", "s3", "us-east-1", "GET", "http://127.0.0.1:4566/b/key%20one", {}, b"", None, None, {}),
    # JSON protocol (DynamoDB, SQS): POST / with X-Amz-Target.
    ("ddb_batch_write", "dynamodb", "us-east-1", "POST", "https://dynamodb.us-east-1.amazonaws.com/",
     {"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.BatchWriteItem"},
     batch_write_body().encode("utf-8"), None, None, {}),
    ("ddb_batch_write_token", "dynamodb", "eu-central-1", "POST", "https://dynamodb.eu-central-1.amazonaws.com/",
     {"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.BatchWriteItem"},
     batch_write_body().encode("utf-8"), None, TOKEN, {}),
    ("sqs_send_message", "sqs", "us-east-1", "POST", "https://sqs.us-east-1.amazonaws.com/",
     {"Content-Type": JSON_10, "X-Amz-Target": "AmazonSQS.SendMessage"},
     json.dumps({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/tarius",
                 "MessageBody": "h\u00e9llo \u2603 {\"k\": 1}"}, ensure_ascii=False).encode("utf-8"),
     None, TOKEN, {}),
    ("sqs_header_whitespace", "sqs", "us-east-1", "POST", "https://sqs.us-east-1.amazonaws.com/",
     {"Content-Type": JSON_10, "X-Amz-Target": "  AmazonSQS.ReceiveMessage  ", "X-Custom": "a   b \t c"},
     b"{}", None, None, {}),
    # Query protocol (SNS, STS): form-encoded POST bodies and GET queries.
    ("sns_publish_form", "sns", "us-east-1", "POST", "https://sns.us-east-1.amazonaws.com/",
     {"Content-Type": FORM},
     form([("Action", "Publish"), ("Version", "2010-03-31"),
           ("TopicArn", "arn:aws:sns:us-east-1:123456789012:tarius"),
           ("Message", "L\u00e4dt fertig: 12 345 Zeilen \u2714 & mehr+")]).encode("utf-8"), None, TOKEN, {}),
    ("sts_assume_role_form", "sts", "us-east-1", "POST", "https://sts.us-east-1.amazonaws.com/",
     {"Content-Type": FORM},
     form([("Action", "AssumeRole"), ("Version", "2011-06-15"),
           ("RoleArn", "arn:aws:iam::123456789012:role/tarius"),
           ("RoleSessionName", "s\u00e9ssion-\u00fc")]).encode("utf-8"), None, None, {}),
    ("sts_get_caller_identity_get", "sts", "us-east-1", "GET", "https://sts.amazonaws.com/", {}, b"",
     [("Version", "2011-06-15"), ("Action", "GetCallerIdentity")], TOKEN, {}),
    ("sns_get_repeated_unsorted", "sns", "eu-west-1", "GET", "https://sns.eu-west-1.amazonaws.com/", {}, b"",
     [("b", "2"), ("a", "3"), ("a", "1"), ("a", "10"), ("Message", "\u00fc & + = / ~ *"), ("Action", "Publish"),
      ("empty", "")], None, {}),
    ("sns_get_unicode_keys", "sns", "eu-west-1", "GET", "https://sns.eu-west-1.amazonaws.com/", {}, b"",
     [("\u00e9t\u00e9", "\u2603"), ("Z", "z"), ("_", "u"), ("a b", "c d")], TOKEN, {}),
    # A non-S3 service path is normalised and double-encoded.
    ("service_path_double_encoded", "execute-api", "us-east-1", "GET",
     "https://api.example.com/stage/a%20b//c/./d/../e", {}, b"", None, None, {}),
]


def sign_with_botocore(service, region, method, url, headers, body, params, token, flags):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, region)
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body, params=params or {})
    if flags.get("unsigned_payload"):
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    captured = {}
    canonical_request = auth.canonical_request
    string_to_sign = auth.string_to_sign

    def capture_canonical(req):
        captured["canonical_request"] = canonical_request(req)
        return captured["canonical_request"]

    def capture_string_to_sign(req, creq):
        captured["string_to_sign"] = string_to_sign(req, creq)
        return captured["string_to_sign"]

    auth.canonical_request = capture_canonical
    auth.string_to_sign = capture_string_to_sign
    with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED_TIME):
        auth.add_auth(request)
    captured["headers"] = {name.lower(): value for name, value in request.headers.items()}
    return captured


def sign_with_tarius(service, region, method, url, headers, body, params, token, flags):
    if params:
        url = url + "?" + percent_encode_sequence(params)
    spec = {
        "method": method, "url": url, "headers": [[k, v] for k, v in headers.items()],
        "body": body.decode("utf-8"), "service": service, "region": region, "time": AMZ_DATE,
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "token": token or "",
        "flags": dict(flags, s3=(service == "s3")),
    }
    done = subprocess.run([SIGN_TOOL], input=json.dumps(spec).encode("utf-8"), capture_output=True, timeout=30,
                          check=False)
    if done.returncode != 0:
        raise AssertionError(f"sigv4_sign exited {done.returncode}: {done.stdout!r} {done.stderr!r}")
    result = json.loads(done.stdout)
    result["headers"] = {name.lower(): value for name, value in result["headers"]}
    return result


class sigv4_botocore(unittest.TestCase):
    def test_tool_exists(self):
        self.assertTrue(os.access(SIGN_TOOL, os.X_OK), f"{SIGN_TOOL} not built (set TARIUS_BIN)")

    def test_cases_match_botocore(self):
        for case in CASES:
            name, args = case[0], case[1:]
            with self.subTest(case=name):
                expected = sign_with_botocore(*args)
                actual = sign_with_tarius(*args)
                self.assertEqual(actual["canonical_request"], expected["canonical_request"])
                self.assertEqual(actual["string_to_sign"], expected["string_to_sign"])
                self.assertEqual(actual["authorization"], expected["headers"]["authorization"])
                self.assertEqual(actual["headers"]["authorization"], expected["headers"]["authorization"])
                for header in ("x-amz-date", "x-amz-security-token", "x-amz-content-sha256"):
                    self.assertEqual(actual["headers"].get(header), expected["headers"].get(header), header)

    def test_s3_path_is_not_normalised(self):
        # Guards the observer itself: botocore and Tarius both keep "//" and ".." for S3 and drop them otherwise.
        url = s3_url("b", "a//b/../c")
        s3 = sign_with_tarius("s3", "eu-west-1", "GET", url, {}, b"", None, None, {})
        self.assertIn("\n/a//b/../c\n", s3["canonical_request"])
        other = sign_with_tarius("sqs", "eu-west-1", "GET", url, {}, b"", None, None, {})
        self.assertIn("\n/a/c\n", other["canonical_request"])

    def test_bad_input_is_rejected(self):
        for spec, status in ((b"not json", 2), (b'{"url": "/relative", "time": "20261124T053015Z"}', 2),
                             (b'{"url": "https://h/", "time": "20261124T053015Z", "service": "s3", '
                              b'"region": "us-east-1"}', 1)):
            with self.subTest(spec=spec):
                done = subprocess.run([SIGN_TOOL], input=spec, capture_output=True, timeout=30, check=False)
                self.assertEqual(done.returncode, status, done.stdout)
                self.assertIn("error", json.loads(done.stdout))


if __name__ == "__main__":
    unittest.main()
