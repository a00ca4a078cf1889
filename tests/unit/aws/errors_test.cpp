// AWS error parsing, the minimal XML reader and DynamoDB's crc32 check.

#include <gtest/gtest.h>

#include "aws/xml.hpp"
#include "tarius/aws/errors.hpp"

namespace tarius::aws {
namespace {

http_response make_response(long status, std::vector<http_header> headers, std::string body) {
    http_response response;
    response.status = status;
    response.headers = std::move(headers);
    response.body = std::move(body);
    response.body_bytes = response.body.size();
    return response;
}

TEST(aws_errors, parse_table) {
    struct case_t {
        const char* label;
        long status;
        std::vector<http_header> headers;
        std::string body;
        std::string code;
        std::string message;
        std::string request_id;
        bool retryable;
        bool throttling;
        errc kind;
    };
    const std::vector<case_t> cases = {
        {"dynamodb json __type with namespace",
         400,
         {{"x-amzn-RequestId", "RID1"}},
         R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
         R"("message":"Rate exceeded"})",
         "ProvisionedThroughputExceededException",
         "Rate exceeded",
         "RID1",
         true,
         true,
         errc::SERVICE},
        {"json Message capitalised",
         400,
         {{"x-amzn-requestid", "RID2"}},
         R"({"__type":"com.amazon.coral.validate#ValidationException","Message":"bad key"})",
         "ValidationException",
         "bad key",
         "RID2",
         false,
         false,
         errc::SERVICE},
        {"json code field",
         400,
         {},
         R"({"code":"ResourceNotFoundException","message":"no table"})",
         "ResourceNotFoundException",
         "no table",
         "",
         false,
         false,
         errc::NOT_FOUND},
        {"x-amzn-ErrorType header wins, URI suffix dropped",
         400,
         {{"X-Amzn-ErrorType", "ConditionalCheckFailedException:http://internal.amazon.com/coral/"}},
         R"({"__type":"Other","message":"The conditional request failed"})",
         "ConditionalCheckFailedException",
         "The conditional request failed",
         "",
         false,
         false,
         errc::CONFLICT},
        {"sqs json query-compatible header",
         400,
         {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}},
         R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"queue"})",
         "AWS.SimpleQueueService.NonExistentQueue",
         "queue",
         "",
         false,
         false,
         errc::NOT_FOUND},
        {"query protocol ErrorResponse",
         400,
         {},
         "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
         "<Code>InvalidIdentityToken</Code><Message>Couldn&apos;t retrieve &lt;keys&gt;</Message></Error>"
         "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>",
         "InvalidIdentityToken",
         "Couldn't retrieve <keys>",
         "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
         false,
         false,
         errc::SERVICE},
        {"sns throttling xml",
         400,
         {},
         "<?xml version=\"1.0\"?>\n<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
         "</Error><RequestId>r-3</RequestId></ErrorResponse>",
         "Throttling",
         "Rate exceeded",
         "r-3",
         true,
         true,
         errc::SERVICE},
        {"s3 error with header request id",
         404,
         {{"x-amz-request-id", "4442587FB7D0A2F9"}},
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The resource you requested "
         "does not exist</Message><Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId>"
         "</Error>",
         "NoSuchKey",
         "The resource you requested does not exist",
         "4442587FB7D0A2F9",
         false,
         false,
         errc::NOT_FOUND},
        {"s3 SlowDown 503",
         503,
         {},
         "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message>"
         "<RequestId>R5</RequestId></Error>",
         "SlowDown",
         "Reduce your request rate.",
         "R5",
         true,
         true,
         errc::SERVICE},
        {"s3 AccessDenied",
         403,
         {},
         "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
         "AccessDenied",
         "Access Denied",
         "",
         false,
         false,
         errc::AUTH},
        {"ec2 style Response/Errors",
         503,
         {},
         "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>m</Message></Error></Errors>"
         "<RequestID>E1</RequestID></Response>",
         "RequestLimitExceeded",
         "m",
         "E1",
         true,
         true,
         errc::SERVICE},
        {"empty body 500", 500, {}, "", "", "", "", true, false, errc::SERVICE},
        {"html body 502", 502, {}, "<html><body>Bad Gateway</body></html>", "", "", "", true, false, errc::SERVICE},
        {"head 404 without body", 404, {}, "", "", "", "", false, false, errc::NOT_FOUND},
        {"unparseable json 400", 400, {}, "{not json", "", "", "", false, false, errc::SERVICE},
        {"InternalError code transient",
         500,
         {},
         "<Error><Code>InternalError</Code></Error>",
         "InternalError",
         "",
         "",
         true,
         false,
         errc::SERVICE},
        {"expired token json",
         400,
         {},
         R"({"__type":"com.amazon.coral.service#ExpiredTokenException","message":"x"})",
         "ExpiredTokenException",
         "x",
         "",
         false,
         false,
         errc::AUTH},
        {"lambda TooManyRequests 429",
         429,
         {{"x-amzn-ErrorType", "TooManyRequestsException"}},
         R"({"message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"})",
         "TooManyRequestsException",
         "Rate Exceeded.",
         "",
         true,
         true,
         errc::SERVICE},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        service_error err = parse_service_error("svc", "Op", make_response(c.status, c.headers, c.body));
        EXPECT_EQ(err.service, "svc");
        EXPECT_EQ(err.operation, "Op");
        EXPECT_EQ(err.http_status, c.status);
        EXPECT_EQ(err.code, c.code);
        EXPECT_EQ(err.message, c.message);
        EXPECT_EQ(err.request_id, c.request_id);
        EXPECT_EQ(err.retryable, c.retryable);
        EXPECT_EQ(err.throttling, c.throttling);
        error converted = err.to_error();
        EXPECT_EQ(converted.code, c.kind);
        EXPECT_EQ(converted.retryable, c.retryable);
        EXPECT_EQ(converted.message, err.describe());
    }
}

TEST(aws_errors, describe_format) {
    service_error err;
    err.service = "dynamodb";
    err.operation = "BatchWriteItem";
    err.http_status = 400;
    err.code = "ValidationException";
    err.message = "One or more parameter values were invalid";
    err.request_id = "ABC";
    EXPECT_EQ(err.describe(),
              "dynamodb BatchWriteItem: ValidationException (HTTP 400): One or more parameter values were invalid "
              "[request id ABC]");
    service_error bare;
    bare.service = "s3";
    bare.operation = "HeadObject";
    bare.http_status = 404;
    EXPECT_EQ(bare.describe(), "s3 HeadObject: error (HTTP 404)");
}

TEST(aws_errors, crc32_matches_zlib) {
    // Expected values computed with Python's zlib.crc32.
    struct case_t {
        std::string data;
        uint32_t crc;
    };
    const std::vector<case_t> cases = {
        {"", 0U},
        {"a", 3904355907U},
        {"123456789", 3421780262U},
        {"The quick brown fox jumps over the lazy dog", 1095738169U},
        {"{\"Item\":{}}", 49613676U},
        {"{}", 2745614147U},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.data);
        EXPECT_EQ(crc32(c.data), c.crc);
        // Incremental use gives the same result.
        if (c.data.size() > 1) {
            EXPECT_EQ(crc32(c.data.substr(1), crc32(c.data.substr(0, 1))), c.crc);
        }
    }
}

TEST(aws_errors, dynamodb_crc32_check) {
    struct case_t {
        const char* label;
        std::vector<http_header> headers;
        std::string body;
        bool ok;
    };
    const std::vector<case_t> cases = {
        {"absent header", {}, "{}", true},
        {"matching", {{"x-amz-crc32", "2745614147"}}, "{}", true},
        {"matching, header case", {{"X-Amz-Crc32", "49613676"}}, "{\"Item\":{}}", true},
        {"mismatch", {{"x-amz-crc32", "2745614146"}}, "{}", false},
        {"truncated body", {{"x-amz-crc32", "49613676"}}, "{\"Item\":{", false},
        {"garbage header", {{"x-amz-crc32", "abc"}}, "{}", false},
        {"out of range", {{"x-amz-crc32", "4294967296"}}, "", false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        auto checked = verify_dynamodb_crc32(make_response(200, c.headers, c.body));
        EXPECT_EQ(checked.has_value(), c.ok);
        if (!checked) {
            EXPECT_EQ(checked.err().code, errc::NETWORK);
            EXPECT_TRUE(checked.err().retryable);
        }
    }
}

std::string nested(int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "<a>";
    for (int i = 0; i < depth; ++i) s += "</a>";
    return s;
}

TEST(aws_xml, parse_table) {
    using detail::parse_xml;
    auto doc = parse_xml(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<a:Root xmlns:a=\"urn:x\" k='v>w'>"
        "<a:Child>one &amp; two</a:Child><Child>second</Child><Empty/><Data><![CDATA[<raw> & stuff]]></Data>"
        "<Ref>&#65;&#x42;&#xe9;&#x1F600;&quot;&apos;&gt;</Ref></a:Root>  ");
    ASSERT_TRUE(doc) << doc.err().message;
    EXPECT_EQ(doc->name, "Root");
    ASSERT_EQ(doc->children.size(), 5U);
    EXPECT_EQ(doc->child("Child")->text, "one & two");
    EXPECT_EQ(doc->children[1].text, "second");
    EXPECT_EQ(doc->child("Empty")->text, "");
    EXPECT_EQ(doc->child("Data")->text, "<raw> & stuff");
    EXPECT_EQ(doc->child("Ref")->text, "AB\xC3\xA9\xF0\x9F\x98\x80\"'>");
    EXPECT_EQ(doc->find({"Nope"}), nullptr);
    EXPECT_NE(doc->descendant("Data"), nullptr);

    const std::vector<std::pair<const char*, std::string>> bad = {
        {"doctype refused", "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>"},
        {"unknown entity", "<x>&nbsp;</x>"},
        {"mismatched tag", "<x><y></x></y>"},
        {"unterminated", "<x><y>"},
        {"trailing content", "<x/><y/>"},
        {"empty", ""},
        {"text only", "hello"},
        {"nul character reference", "<x>&#0;</x>"},
        {"surrogate reference", "<x>&#xD800;</x>"},
        {"out of range reference", "<x>&#x110000;</x>"},
        {"too deep", nested(100)},
    };
    EXPECT_TRUE(parse_xml(nested(60)));
    for (const auto& [label, text] : bad) {
        SCOPED_TRACE(label);
        auto parsed = parse_xml(text);
        EXPECT_FALSE(parsed);
        if (!parsed) {
            EXPECT_EQ(parsed.err().code, errc::DECODE);
        }
    }
}

TEST(aws_xml, sts_response) {
    const char* body =
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
        "  <AssumeRoleWithWebIdentityResult>\n"
        "    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>\n"
        "    <Credentials>\n"
        "      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>\n"
        "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
        "      <Expiration>2014-10-24T23:00:23Z</Expiration>\n"
        "      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
        "    </Credentials>\n"
        "  </AssumeRoleWithWebIdentityResult>\n"
        "  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>\n"
        "</AssumeRoleWithWebIdentityResponse>\n";
    auto doc = detail::parse_xml(body);
    ASSERT_TRUE(doc) << doc.err().message;
    const auto* key = doc->find({"AssumeRoleWithWebIdentityResult", "Credentials", "AccessKeyId"});
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(key->text, "ASgeIAIOSFODNN7EXAMPLE");
    EXPECT_EQ(doc->descendant("RequestId")->text, "ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE");
}

}  // namespace
}  // namespace tarius::aws
