# ctest-label: unit
"""Checks the literal expectations of the AWS-convention unit tests (tests/unit/aws/{config,endpoints,retry,
errors}_test.cpp) against botocore, an independent implementation of the same SDK conventions.

The C++ tests assert that Tarius produces these values; this file asserts that botocore does too, so a wrong
expectation cannot hide in both the code and its test. Known, deliberate differences are listed where they occur.
"""

import os
import tempfile
import unittest
import zlib
from unittest import mock

import botocore.session
from botocore import configloader, parsers
from botocore.retries import adaptive, bucket, quota, standard, throttling

# --- retry (retry_test.cpp) -------------------------------------------------------------------------------------

THROTTLING_CODES = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException",
}
TRANSIENT_CODES = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "InternalFailure",
    "InternalServerError", "InternalServerErrorException", "ServiceUnavailable", "ServiceUnavailableException",
    "IDPCommunicationError",
}

# retry_test.cpp adaptive_matches_botocore_sequence
ADAPTIVE_AFTER_SUCCESSES = (19.999993856, 39.999987712)
ADAPTIVE_AFTER_THROTTLE = (19.999998771199998, 13.999999139839998)
ADAPTIVE_AFTER_SECOND_THROTTLE = 9.799999397887998
ADAPTIVE_PER_SECOND = [13.326344101076408, 13.997265944033426, 14.212764926752506, 16.372841049227098,
                       22.87749431145065, 36.12672471341662, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0]


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def current_time(self):
        return self.now


class _Detector:
    throttled = False

    def is_throttling_error(self, **_kwargs):
        return self.throttled


class RetryConventions(unittest.TestCase):
    def test_throttling_codes_match_botocore(self):
        self.assertEqual(set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES), THROTTLING_CODES)

    def test_transient_codes_cover_botocore(self):
        self.assertLessEqual(set(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES), TRANSIENT_CODES)
        self.assertEqual(set(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES), {500, 502, 503, 504})

    def test_constants(self):
        self.assertEqual(standard.DEFAULT_MAX_ATTEMPTS, 3)
        self.assertEqual(standard.ExponentialBackoff._MAX_BACKOFF, 20)
        self.assertEqual(standard.ExponentialBackoff._BASE, 2)
        self.assertEqual(quota.RetryQuota.INITIAL_CAPACITY, 500)
        self.assertEqual(standard.RetryQuotaChecker._RETRY_COST, 5)
        self.assertEqual(standard.RetryQuotaChecker._TIMEOUT_RETRY_REQUEST, 10)
        self.assertEqual(standard.RetryQuotaChecker._NO_RETRY_INCREMENT, 1)
        self.assertEqual(throttling.CubicCalculator._BETA, 0.7)
        self.assertEqual(throttling.CubicCalculator._SCALE_CONSTANT, 0.4)
        self.assertEqual(adaptive.RateClocker._DEFAULT_SMOOTHING, 0.8)
        self.assertEqual(adaptive.RateClocker._TIME_BUCKET_RANGE, 0.5)
        self.assertEqual(bucket.TokenBucket._MIN_RATE, 0.5)

    def test_2026_rules_constants(self):
        service_max = getattr(standard, "_SERVICE_MAX_ATTEMPTS", None)
        if service_max is None:
            self.skipTest("this botocore predates the 2026 retry rules")
        self.assertEqual(service_max.get("dynamodb"), 4)
        self.assertEqual(standard.RetryQuotaChecker._RETRY_COST_V2, 14)
        self.assertEqual(standard.RetryQuotaChecker._THROTTLING_RETRY_COST, 5)
        config = standard.ExponentialBackoff._DEFAULT_BACKOFF_CONFIG
        self.assertEqual(config["throttling_base_scale"], 1)
        self.assertEqual(config["non_throttling_base_scale"], 0.05)
        self.assertEqual(standard.ExponentialBackoff._SERVICE_BACKOFF_CONFIG["dynamodb"]["non_throttling_base_scale"],
                         0.025)
        self.assertEqual(standard.ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL, 5)

    def test_adaptive_sequence(self):
        clock = _Clock()
        detector = _Detector()
        limiter = adaptive.ClientRateLimiter(
            rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=clock.current_time()),
            rate_clocker=adaptive.RateClocker(clock),
            token_bucket=bucket.TokenBucket(max_rate=1, clock=clock),
            throttling_detector=detector,
            clock=clock,
        )

        def update(throttled):
            detector.throttled = throttled
            limiter.on_receiving_response()

        for _ in range(100):
            clock.now += 0.05
            update(False)
        self.assertAlmostEqual(limiter._rate_clocker.measured_rate, ADAPTIVE_AFTER_SUCCESSES[0], places=6)
        self.assertAlmostEqual(limiter._token_bucket.max_rate, ADAPTIVE_AFTER_SUCCESSES[1], places=6)
        clock.now += 0.05
        update(True)
        self.assertAlmostEqual(limiter._rate_clocker.measured_rate, ADAPTIVE_AFTER_THROTTLE[0], places=6)
        self.assertAlmostEqual(limiter._token_bucket.max_rate, ADAPTIVE_AFTER_THROTTLE[1], places=6)
        clock.now += 0.05
        update(True)
        self.assertAlmostEqual(limiter._token_bucket.max_rate, ADAPTIVE_AFTER_SECOND_THROTTLE, places=6)
        for expected in ADAPTIVE_PER_SECOND:
            for _ in range(20):
                clock.now += 0.05
                update(False)
            self.assertAlmostEqual(limiter._token_bucket.max_rate, expected, places=6)


# --- shared config (config_test.cpp) ----------------------------------------------------------------------------

# config_test.cpp parse_config_file_table, without the inline comments: botocore keeps "value  # comment" as the
# value while Tarius (like the Java SDK v2 and the CRT) drops a '#'/';' comment that follows whitespace.
CONFIG_TEXT = (
    "# a comment\n"
    "; another comment\n"
    "[default]\n"
    "region = us-west-2\n"
    "output=json\n"
    "\n"
    "[profile  dev ]\n"
    "Region = eu-west-1\n"
    "  \t\n"
    "s3 =\n"
    "  addressing_style = path\n"
    "  max_concurrent_requests = 20\n"
    "role_arn = arn:aws:iam::123456789012:role/x#y\n"
    "services = local\n"
    "\n"
    "[services local]\n"
    "dynamodb =\n"
    "    endpoint_url = http://localhost:8000\n"
    "s3 =\n"
    "    endpoint_url = http://localhost:9000/base\n"
    "\n"
    "[sso-session corp]\n"
    "sso_region = us-east-1\n"
    "[profile multi]\n"
    "note = first\n"
    "  second line\n"
)
CONFIG_VALUES = [
    ("default", "region", "us-west-2"),
    ("default", "output", "json"),
    ("dev", "region", "eu-west-1"),
    ("dev", "role_arn", "arn:aws:iam::123456789012:role/x#y"),
    ("dev", "services", "local"),
    ("multi", "note", "first\nsecond line"),
]


class ConfigConventions(unittest.TestCase):
    def test_config_file_values(self):
        with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as handle:
            handle.write(CONFIG_TEXT)
        try:
            loaded = configloader.load_config(handle.name)
        finally:
            os.unlink(handle.name)
        profiles = loaded["profiles"]
        self.assertEqual(set(profiles), {"default", "dev", "multi"})
        for profile, key, value in CONFIG_VALUES:
            with self.subTest(profile=profile, key=key):
                self.assertEqual(profiles[profile][key], value)
        self.assertEqual(profiles["dev"]["s3"], {"addressing_style": "path", "max_concurrent_requests": "20"})
        self.assertEqual(loaded["services"]["local"]["dynamodb"]["endpoint_url"], "http://localhost:8000")

    def test_profile_default_prefix_wins(self):
        # Only the order where botocore agrees: botocore lets the later of the two sections win, Tarius (like the
        # Java SDK v2) always prefers `[profile default]`.
        for text in ("[default]\nregion = a\n[profile default]\nregion = b\n",):
            with self.subTest(text=text):
                with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as handle:
                    handle.write(text)
                try:
                    loaded = configloader.load_config(handle.name)
                finally:
                    os.unlink(handle.name)
                self.assertEqual(loaded["profiles"]["default"]["region"], "b")


# --- endpoints (endpoints_test.cpp resolution_table) ------------------------------------------------------------

SERVICES_PROFILE = ("[default]\nendpoint_url = http://profile-global:1000\nservices = local\n"
                    "[services local]\ndynamodb =\n  endpoint_url = http://localhost:8000\n"
                    "s3 =\n  endpoint_url = https://minio.local:9000/base/\n")
GLOBAL_PROFILE = "[default]\nendpoint_url = http://profile-global:1000\n"
IGNORE_PROFILE = "[default]\nendpoint_url = http://profile-global:1000\nignore_configured_endpoint_urls = true\n"

ENDPOINT_CASES = [
    # service, region, environment, config file, expected URL (trailing '/' ignored)
    ("dynamodb", "eu-west-1", {}, None, "https://dynamodb.eu-west-1.amazonaws.com"),
    ("sqs", "cn-north-1", {}, None, "https://sqs.cn-north-1.amazonaws.com.cn"),
    ("sns", "us-gov-west-1", {}, None, "https://sns.us-gov-west-1.amazonaws.com"),
    ("sts", "ap-southeast-2", {}, None, "https://sts.ap-southeast-2.amazonaws.com"),
    ("lambda", "eu-north-1", {}, None, "https://lambda.eu-north-1.amazonaws.com"),
    ("dynamodb", "us-east-1", {"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:4566",
                               "AWS_ENDPOINT_URL": "http://global:1"}, SERVICES_PROFILE, "http://localhost:4566"),
    ("sqs", "us-east-1", {"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:4566"}, None,
     "https://sqs.us-east-1.amazonaws.com"),
    ("dynamodb", "us-east-1", {"AWS_ENDPOINT_URL": "http://global:1"}, SERVICES_PROFILE, "http://global:1"),
    ("dynamodb", "us-east-1", {}, SERVICES_PROFILE, "http://localhost:8000"),
    ("s3", "us-east-1", {}, SERVICES_PROFILE, "https://minio.local:9000/base"),
    ("sns", "eu-west-1", {}, SERVICES_PROFILE, "http://profile-global:1000"),
    ("sqs", "us-west-2", {}, GLOBAL_PROFILE, "http://profile-global:1000"),
    ("dynamodb", "us-east-1", {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
                               "AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:4566"}, SERVICES_PROFILE,
     "https://dynamodb.us-east-1.amazonaws.com"),
    ("sqs", "us-east-1", {"AWS_ENDPOINT_URL_SQS": "http://localhost:4566"}, IGNORE_PROFILE,
     "https://sqs.us-east-1.amazonaws.com"),
    ("sqs", "us-east-1", {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false", "AWS_ENDPOINT_URL_SQS": "http://localhost:4566"},
     IGNORE_PROFILE, "http://localhost:4566"),
]


def _botocore_client(service, region, env, config_text):
    """A botocore client built under exactly `env` (plus a config file holding `config_text`)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
                        "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/creds",
                        "AWS_EC2_METADATA_DISABLED": "true"})
    path = None
    if config_text is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as handle:
            handle.write(config_text)
        path = handle.name
        environment["AWS_CONFIG_FILE"] = path
    environment.update(env)
    try:
        with mock.patch.dict(os.environ, environment, clear=True):
            return botocore.session.Session().create_client(service, region_name=region)
    finally:
        if path:
            os.unlink(path)


class EndpointConventions(unittest.TestCase):
    def test_resolution_table(self):
        for service, region, env, config_text, expected in ENDPOINT_CASES:
            with self.subTest(service=service, region=region, env=env, config=config_text):
                client = _botocore_client(service, region, env, config_text)
                self.assertEqual(client.meta.endpoint_url.rstrip("/"), expected)

    def test_s3_addressing(self):
        # endpoints_test.cpp s3_request_targets: the URL botocore actually sends for the same buckets. (Tarius uses
        # s3.us-east-1 in us-east-1 where botocore's legacy default is the global s3.amazonaws.com, so these cases
        # use eu-west-1.)
        cases = [
            ("eu-west-1", {}, "my-bucket", "dir/a b.csv", "https://my-bucket.s3.eu-west-1.amazonaws.com/dir/a%20b.csv"),
            ("eu-west-1", {}, "my.bucket", "k", "https://s3.eu-west-1.amazonaws.com/my.bucket/k"),
            ("cn-north-1", {}, "data", "x", "https://data.s3.cn-north-1.amazonaws.com.cn/x"),
            ("us-east-1", {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, "my-bucket", "k/v",
             "http://127.0.0.1:9000/my-bucket/k/v"),
        ]
        for region, env, bucket_name, key, url in cases:
            with self.subTest(bucket=bucket_name, region=region):
                self.assertEqual(_sent_url(_botocore_client("s3", region, env, None), bucket_name, key), url)


class _Captured(Exception):
    """Stops a botocore request once its URL is known."""


def _sent_url(client, bucket_name, key):
    sent = []

    def capture(request, **_kwargs):
        sent.append(request.url)
        raise _Captured()

    client.meta.events.register("before-send", capture)
    try:
        client.head_object(Bucket=bucket_name, Key=key)
    except _Captured:
        pass
    return sent[0].split("?")[0]


# --- errors (errors_test.cpp parse_table) -----------------------------------------------------------------------
# Header names are lower case as botocore's case-insensitive header dict presents them. Tarius reads the
# x-amzn-ErrorType header first for every JSON protocol; botocore does so for rest-json only (awsJson services send
# the same code in both places).

ERROR_CASES = [
    # protocol, status, headers, body, code, message
    ("json", 400, {"x-amzn-requestid": "RID1"},
     '{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate exceeded"}',
     "ProvisionedThroughputExceededException", "Rate exceeded"),
    ("json", 400, {}, '{"__type":"com.amazon.coral.validate#ValidationException","Message":"bad key"}',
     "ValidationException", "bad key"),
    ("rest-json", 400, {"x-amzn-errortype": "ConditionalCheckFailedException:http://internal.amazon.com/coral/"},
     '{"__type":"Other","message":"The conditional request failed"}', "ConditionalCheckFailedException",
     "The conditional request failed"),
    ("query", 400, {},
     '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
     "<Code>InvalidIdentityToken</Code><Message>Couldn&apos;t retrieve &lt;keys&gt;</Message></Error>"
     "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>",
     "InvalidIdentityToken", "Couldn't retrieve <keys>"),
    ("rest-xml", 404, {"x-amz-request-id": "4442587FB7D0A2F9"},
     '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The resource you requested '
     "does not exist</Message><Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId>"
     "</Error>",
     "NoSuchKey", "The resource you requested does not exist"),
    ("rest-xml", 503, {}, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message>"
                          "<RequestId>R5</RequestId></Error>", "SlowDown", "Reduce your request rate."),
    ("rest-json", 429, {"x-amzn-errortype": "TooManyRequestsException"},
     '{"message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}',
     "TooManyRequestsException", "Rate Exceeded."),
]


class ErrorConventions(unittest.TestCase):
    def test_error_codes_and_messages(self):
        for protocol, status, headers, body, code, message in ERROR_CASES:
            with self.subTest(protocol=protocol, code=code):
                parser = parsers.create_parser(protocol)
                parsed = parser.parse({"status_code": status, "headers": headers, "body": body.encode()}, None)
                self.assertEqual(parsed["Error"]["Code"], code)
                self.assertEqual(parsed["Error"]["Message"], message)

    def test_crc32_vectors(self):
        # errors_test.cpp crc32_matches_zlib
        vectors = {b"": 0, b"a": 3904355907, b"123456789": 3421780262,
                   b"The quick brown fox jumps over the lazy dog": 1095738169, b'{"Item":{}}': 49613676,
                   b"{}": 2745614147}
        for data, crc in vectors.items():
            with self.subTest(data=data):
                self.assertEqual(zlib.crc32(data), crc)


if __name__ == "__main__":
    unittest.main()
