/// The S3 client against the in-process fake: REST requests (encoded keys, Range, versionId, If-Match, SSE-KMS,
/// x-amz-content-sha256), streamed bodies, truncation and error mapping.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake/http_fake.hpp"
#include "tarius/aws/s3.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::errc;
using tarius::aws::s3_client;
using tarius::aws::test::make_test_context;
using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

class string_sink final : public tarius::byte_sink {
public:
    tarius::result<void> write(std::string_view chunk) override {
        data.append(chunk);
        return tarius::ok();
    }
    tarius::result<void> finish() override { return tarius::ok(); }
    std::string data;
};

std::unique_ptr<s3_client> make_client(const http_fake& server) {
    auto client = s3_client::create(make_test_context(server.url()));
    EXPECT_TRUE(client.has_value());
    return std::move(client).value();
}

TEST(s3_client, put_object_encodes_key_and_signs_payload) {
    struct case_t {
        std::string key;
        std::string path;
    };
    const std::vector<case_t> cases = {
        {"plain.csv", "/bucket/plain.csv"},
        {"dir/a b+c&d.csv", "/bucket/dir/a%20b%2Bc%26d.csv"},
        {"é/!*()';=?", "/bucket/%C3%A9/%21%2A%28%29%27%3B%3D%3F"},
    };
    http_fake server([](const fake_request&) {
        fake_response r;
        r.headers = {{"ETag", "\"5d41402abc4b2a76b9719d911017c592\""}, {"x-amz-version-id", "v1"}};
        return r;
    });
    ASSERT_TRUE(server.start().has_value());
    auto client = make_client(server);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.key);
        server.clear_requests();
        tarius::aws::s3_put_options options;
        options.sse_kms_key_id = "arn:aws:kms:us-east-1:1:key/k";
        options.content_type = "text/csv";
        auto put = client->put_object("bucket", c.key, "hello", options);
        ASSERT_TRUE(put.has_value()) << put.err().message;
        EXPECT_EQ(put->etag, "5d41402abc4b2a76b9719d911017c592");
        EXPECT_EQ(put->version_id, "v1");
        auto requests = server.requests();
        ASSERT_EQ(requests.size(), 1u);
        const auto& r = requests[0];
        EXPECT_EQ(r.method, "PUT");
        EXPECT_EQ(r.path, c.path);
        EXPECT_EQ(r.body, "hello");
        // SHA-256("hello"), a well-known value.
        EXPECT_EQ(r.header("x-amz-content-sha256").value_or(""),
                  "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        EXPECT_EQ(r.header("x-amz-server-side-encryption").value_or(""), "aws:kms");
        EXPECT_EQ(r.header("x-amz-server-side-encryption-aws-kms-key-id").value_or(""),
                  "arn:aws:kms:us-east-1:1:key/k");
        EXPECT_EQ(r.header("x-amz-server-side-encryption-bucket-key-enabled").value_or(""), "true");
        EXPECT_EQ(r.header("Content-Type").value_or(""), "text/csv");
        std::string auth(r.header("Authorization").value_or(""));
        EXPECT_NE(auth.find("/us-east-1/s3/aws4_request"), std::string::npos) << auth;
        EXPECT_NE(auth.find("x-amz-content-sha256"), std::string::npos) << auth;
        EXPECT_NE(auth.find("x-amz-server-side-encryption-aws-kms-key-id"), std::string::npos) << auth;
    }
}

TEST(s3_client, get_object_streams_with_range_version_and_if_match) {
    http_fake server([](const fake_request& r) {
        fake_response out;
        out.status = r.header("Range") ? 206 : 200;
        out.pattern_body_bytes = r.header("Range") ? 5 : 1 << 20;
        out.headers = {{"ETag", "\"abc\""}, {"x-amz-version-id", "v+1"}, {"Content-Type", "text/csv"}};
        return out;
    });
    ASSERT_TRUE(server.start().has_value());
    auto client = make_client(server);

    string_sink whole;
    auto info = client->get_object("bucket", "k", {}, whole);
    ASSERT_TRUE(info.has_value()) << info.err().message;
    ASSERT_EQ(whole.data.size(), 1u << 20);
    for (size_t idx = 0; idx < whole.data.size(); ++idx) {
        if (whole.data[idx] != tarius::fake::pattern_byte(idx)) FAIL() << "byte " << idx;
    }
    EXPECT_EQ(info->size, 1u << 20);
    EXPECT_EQ(info->etag, "abc");
    EXPECT_EQ(info->version_id, "v+1");

    tarius::aws::s3_get_options options;
    options.has_range = true;
    options.range_start = 5;
    options.range_end = 9;
    options.version_id = "v+1";
    options.if_match = "abc";
    string_sink part;
    auto ranged = client->get_object("bucket", "k", options, part);
    ASSERT_TRUE(ranged.has_value()) << ranged.err().message;
    EXPECT_EQ(part.data.size(), 5u);
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[1].method, "GET");
    EXPECT_EQ(requests[1].path, "/bucket/k");
    EXPECT_EQ(requests[1].query, "versionId=v%2B1");
    EXPECT_EQ(requests[1].header("Range").value_or(""), "bytes=5-9");
    EXPECT_EQ(requests[1].header("If-Match").value_or(""), "\"abc\"");
    EXPECT_EQ(requests[1].header("x-amz-content-sha256").value_or(""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // SHA-256 of ""
}

TEST(s3_client, truncated_body_is_a_network_error_naming_the_offset_and_not_retried) {
    struct case_t {
        uint64_t range_start;
        bool has_range;
        std::string resume_at;
    };
    const std::vector<case_t> cases = {{0, false, "resume at object offset 1000"},
                                       {5000, true, "resume at object offset 6000"}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.resume_at);
        http_fake server([](const fake_request&) {
            fake_response out;
            out.pattern_body_bytes = 4000;
            out.truncate_after = 1000;
            return out;
        });
        ASSERT_TRUE(server.start().has_value());
        tarius::aws::s3_get_options options;
        options.has_range = c.has_range;
        options.range_start = c.range_start;
        string_sink sink;
        auto got = make_client(server)->get_object("bucket", "k", options, sink);
        ASSERT_FALSE(got.has_value());
        EXPECT_EQ(got.err().code, errc::NETWORK);
        EXPECT_TRUE(got.err().retryable);
        EXPECT_NE(got.err().message.find(c.resume_at), std::string::npos) << got.err().message;
        EXPECT_EQ(sink.data.size(), 1000u);
        EXPECT_EQ(server.request_count(), 1u);
    }
}

TEST(s3_client, errors_map_to_codes_and_5xx_is_retried_before_any_byte) {
    struct case_t {
        int status;
        std::string body;
        errc code;
        size_t requests;
    };
    const std::vector<case_t> cases = {
        {404, "", errc::NOT_FOUND, 1},
        {412, "<Error><Code>PreconditionFailed</Code><RequestId>R412</RequestId></Error>", errc::CONFLICT, 1},
        {403, "<Error><Code>AccessDenied</Code><Message>no</Message><RequestId>R403</RequestId></Error>", errc::AUTH,
         1},
        {503, "<Error><Code>SlowDown</Code><RequestId>R503</RequestId></Error>", errc::SERVICE, 3},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.status);
        http_fake server([&](const fake_request&) {
            fake_response out;
            out.status = c.status;
            out.body = c.body;
            out.headers = {{"x-amz-request-id", "REQ" + std::to_string(c.status)}};
            return out;
        });
        ASSERT_TRUE(server.start().has_value());
        auto client = make_client(server);
        auto head = client->head_object("bucket", "missing");
        ASSERT_FALSE(head.has_value());
        EXPECT_EQ(head.err().code, c.code) << head.err().message;
        EXPECT_NE(head.err().message.find("REQ" + std::to_string(c.status)), std::string::npos) << head.err().message;
        EXPECT_EQ(server.request_count(), c.requests);
        EXPECT_EQ(server.requests()[0].method, "HEAD");
    }
}

TEST(s3_client, head_object_reads_metadata) {
    http_fake server([](const fake_request&) {
        fake_response out;
        out.headers = {{"Content-Length", "12345"},
                       {"ETag", "\"e1\""},
                       {"x-amz-version-id", "null"},
                       {"Content-Encoding", "gzip"},
                       {"Last-Modified", "Tue, 24 Nov 2026 05:00:00 GMT"}};
        return out;
    });
    ASSERT_TRUE(server.start().has_value());
    auto info = make_client(server)->head_object("bucket", "k");
    ASSERT_TRUE(info.has_value()) << info.err().message;
    EXPECT_EQ(info->size, 12345u);
    EXPECT_EQ(info->etag, "e1");
    EXPECT_EQ(info->version_id, "");
    EXPECT_EQ(info->content_encoding, "gzip");
    EXPECT_EQ(info->last_modified, "Tue, 24 Nov 2026 05:00:00 GMT");
}

}  // namespace
