/// S3 multipart uploads against the in-process fake: the four REST calls (query strings, SSE-KMS on create, the
/// completion document), upload_file() choosing PutObject or parts of at least 5 MiB, the parts reassembling to the
/// file byte for byte, an abort on every failure, and an error document inside a 200 completion.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fake/http_fake.hpp"
#include "tarius/aws/s3.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::errc;
using tarius::aws::s3_client;
using tarius::aws::S3_MIN_PART_SIZE;
using tarius::aws::test::make_test_context;
using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

constexpr const char* UPLOAD_ID = "up+load/id=1";              // needs query encoding
constexpr const char* UPLOAD_ID_QUERY = "up%2Bload%2Fid%3D1";  // as it must appear in the query

std::unique_ptr<s3_client> make_client(const http_fake& server) {
    auto client = s3_client::create(make_test_context(server.url()));
    EXPECT_TRUE(client.has_value());
    return std::move(client).value();
}

// A file in the temporary directory, removed at the end of the test.
class temp_file {
public:
    explicit temp_file(const std::string& content)
        : path_((std::filesystem::temp_directory_path() /
                 ("tarius-s3-multipart-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                  std::to_string(counter_++) + ".bin"))
                    .string()) {
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        EXPECT_NE(f, nullptr);
        if (f) {
            EXPECT_EQ(std::fwrite(content.data(), 1, content.size(), f), content.size());
            std::fclose(f);
        }
    }
    ~temp_file() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    const std::string& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::string path_;
};

// Deterministic content that shows a lost, repeated or reordered part.
std::string pattern(size_t size) {
    std::string out(size, '\0');
    for (size_t idx = 0; idx < size; ++idx) out[idx] = tarius::fake::pattern_byte(idx);
    return out;
}

// A scripted S3 that keeps multipart uploads: parts by number, the completed object, and faults on request.
class fake_s3 {
public:
    int fail_part = 0;                 // UploadPart of this part number answers 403
    int complete_errors_in_200 = 0;    // this many completions answer 200 with an <Error> document
    std::string completed;             // the object assembled by the last successful completion
    std::string completion_document;   // the body of the last CompleteMultipartUpload
    std::map<int, std::string> parts;  // part number → body

    fake_response handle(const fake_request& r) {
        std::lock_guard<std::mutex> lock(mutex_);
        fake_response out;
        if (r.method == "POST" && r.query == "uploads=") {
            out.body = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") +
                       "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                       "<Bucket>bucket</Bucket><Key>k</Key><UploadId>" +
                       "up+load/id=1" + "</UploadId></InitiateMultipartUploadResult>";
            return out;
        }
        if (r.method == "PUT" && r.query.rfind("partNumber=", 0) == 0) {
            const int number = std::stoi(r.query.substr(11));
            if (number == fail_part) {
                out.status = 403;
                out.body = "<Error><Code>AccessDenied</Code><Message>no</Message><RequestId>R1</RequestId></Error>";
                return out;
            }
            parts[number] = r.body;
            out.headers = {{"ETag", "\"etag-" + std::to_string(number) + "\""}};
            return out;
        }
        if (r.method == "POST" && r.query.rfind("uploadId=", 0) == 0) {
            completion_document = r.body;
            if (complete_errors_in_200 > 0) {
                --complete_errors_in_200;
                out.body =
                    "\n  <Error><Code>InternalError</Code><Message>We encountered an internal error.</Message>"
                    "<RequestId>R2</RequestId></Error>";
                return out;
            }
            completed.clear();
            for (const auto& [number, body] : parts) completed += body;
            out.headers = {{"x-amz-version-id", "v7"}};
            out.body =
                "<CompleteMultipartUploadResult><Location>x</Location><Bucket>bucket</Bucket><Key>k</Key>"
                "<ETag>\"abc-3\"</ETag></CompleteMultipartUploadResult>";
            return out;
        }
        if (r.method == "DELETE") {
            out.status = 204;
            return out;
        }
        if (r.method == "PUT") {
            completed = r.body;
            out.headers = {{"ETag", "\"single\""}};
            return out;
        }
        out.status = 400;
        return out;
    }

private:
    std::mutex mutex_;
};

void expect_sse_kms(const fake_request& r) {
    EXPECT_EQ(r.header("x-amz-server-side-encryption").value_or(""), "aws:kms");
    EXPECT_EQ(r.header("x-amz-server-side-encryption-aws-kms-key-id").value_or(""), "arn:aws:kms:us-east-1:1:key/k");
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/csv");
}

tarius::aws::s3_put_options kms_options() {
    tarius::aws::s3_put_options options;
    options.content_type = "text/csv";
    options.sse_kms_key_id = "arn:aws:kms:us-east-1:1:key/k";
    return options;
}

TEST(s3_multipart, small_file_is_one_put_object) {
    fake_s3 s3;
    http_fake server([&](const fake_request& r) { return s3.handle(r); });
    ASSERT_TRUE(server.start().has_value());
    for (size_t size : {size_t{0}, size_t{1}, size_t{100000}, size_t{S3_MIN_PART_SIZE}}) {
        SCOPED_TRACE(size);
        server.clear_requests();
        const std::string content = pattern(size);
        temp_file file(content);
        auto put = tarius::aws::upload_file(*make_client(server), "bucket", "dir/a b.csv", file.path(), kms_options(),
                                            S3_MIN_PART_SIZE);
        ASSERT_TRUE(put.has_value()) << put.err().message;
        EXPECT_EQ(put->etag, "single");
        auto requests = server.requests();
        ASSERT_EQ(requests.size(), 1u);
        EXPECT_EQ(requests[0].method, "PUT");
        EXPECT_EQ(requests[0].path, "/bucket/dir/a%20b.csv");
        EXPECT_EQ(requests[0].query, "");
        EXPECT_TRUE(requests[0].body == content);
        expect_sse_kms(requests[0]);
    }
}

TEST(s3_multipart, large_file_goes_up_in_parts_of_at_least_5_mib_and_reassembles) {
    struct case_t {
        uint64_t size;
        uint64_t part_size;  // asked for; below 5 MiB it is raised
        std::vector<uint64_t> expected_parts;
    };
    const uint64_t mib = 1024 * 1024;
    const std::vector<case_t> cases = {
        {12 * mib + 123, 1000, {5 * mib, 5 * mib, 2 * mib + 123}},
        {10 * mib, 5 * mib, {5 * mib, 5 * mib}},
        {S3_MIN_PART_SIZE + 1, 0, {5 * mib, 1}},
        {13 * mib, 6 * mib, {6 * mib, 6 * mib, mib}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.size);
        fake_s3 s3;
        http_fake server([&](const fake_request& r) { return s3.handle(r); });
        ASSERT_TRUE(server.start().has_value());
        const std::string content = pattern(static_cast<size_t>(c.size));
        temp_file file(content);
        auto put = tarius::aws::upload_file(*make_client(server), "bucket", "k é.csv", file.path(), kms_options(),
                                            c.part_size);
        ASSERT_TRUE(put.has_value()) << put.err().message;
        EXPECT_EQ(put->etag, "abc-3");
        EXPECT_EQ(put->version_id, "v7");
        EXPECT_TRUE(s3.completed == content) << "reassembled object differs from the file";

        auto requests = server.requests();
        ASSERT_EQ(requests.size(), c.expected_parts.size() + 2);
        EXPECT_EQ(requests.front().method, "POST");
        EXPECT_EQ(requests.front().path, "/bucket/k%20%C3%A9.csv");
        EXPECT_EQ(requests.front().query, "uploads=");
        expect_sse_kms(requests.front());
        for (size_t idx = 0; idx < c.expected_parts.size(); ++idx) {
            const auto& part = requests[idx + 1];
            EXPECT_EQ(part.method, "PUT");
            EXPECT_EQ(part.query, "partNumber=" + std::to_string(idx + 1) + "&uploadId=" + UPLOAD_ID_QUERY);
            EXPECT_EQ(part.body_bytes, c.expected_parts[idx]) << "part " << idx + 1;
            // Parts are signed over their payload (no unsigned streaming).
            EXPECT_EQ(part.header("x-amz-content-sha256").value_or("").size(), 64u);
            EXPECT_FALSE(part.header("x-amz-server-side-encryption").has_value());
        }
        const auto& complete = requests.back();
        EXPECT_EQ(complete.method, "POST");
        EXPECT_EQ(complete.query, std::string("uploadId=") + UPLOAD_ID_QUERY);
        std::string expected_document = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
        for (size_t idx = 1; idx <= c.expected_parts.size(); ++idx) {
            expected_document += "<Part><PartNumber>" + std::to_string(idx) + "</PartNumber><ETag>&quot;etag-" +
                                 std::to_string(idx) + "&quot;</ETag></Part>";
        }
        expected_document += "</CompleteMultipartUpload>";
        EXPECT_EQ(complete.body, expected_document);
    }
}

TEST(s3_multipart, failed_part_aborts_the_upload) {
    fake_s3 s3;
    s3.fail_part = 2;
    http_fake server([&](const fake_request& r) { return s3.handle(r); });
    ASSERT_TRUE(server.start().has_value());
    temp_file file(pattern(11 * 1024 * 1024));
    auto put = tarius::aws::upload_file(*make_client(server), "bucket", "k", file.path(), {}, S3_MIN_PART_SIZE);
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.err().code, errc::AUTH) << put.err().message;
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 4u);  // create, part 1, part 2 (refused), abort; no part 3, no completion
    EXPECT_EQ(requests[2].query, std::string("partNumber=2&uploadId=") + UPLOAD_ID_QUERY);
    EXPECT_EQ(requests[3].method, "DELETE");
    EXPECT_EQ(requests[3].path, "/bucket/k");
    EXPECT_EQ(requests[3].query, std::string("uploadId=") + UPLOAD_ID_QUERY);
}

TEST(s3_multipart, a_stop_between_parts_aborts_the_upload) {
    fake_s3 s3;
    http_fake server([&](const fake_request& r) { return s3.handle(r); });
    ASSERT_TRUE(server.start().has_value());
    temp_file file(pattern(11 * 1024 * 1024));
    int asked = 0;
    auto put = tarius::aws::upload_file(*make_client(server), "bucket", "k", file.path(), {}, S3_MIN_PART_SIZE,
                                        [&asked] { return ++asked > 1; });  // the deadline comes after part 1
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.err().code, errc::CANCELLED) << put.err().message;
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);  // create, part 1, abort: no part 2, no completion
    EXPECT_EQ(requests[1].query, std::string("partNumber=1&uploadId=") + UPLOAD_ID_QUERY);
    EXPECT_EQ(requests[2].method, "DELETE");
    EXPECT_EQ(requests[2].query, std::string("uploadId=") + UPLOAD_ID_QUERY);
}

TEST(s3_multipart, error_document_in_a_200_completion_is_an_error) {
    struct case_t {
        int errors_in_200;
        bool succeeds;
        size_t completions;
    };
    // upload_file tries a completion three times; the client itself does not retry a 200.
    const std::vector<case_t> cases = {{1, true, 2}, {2, true, 3}, {3, false, 3}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.errors_in_200);
        fake_s3 s3;
        s3.complete_errors_in_200 = c.errors_in_200;
        http_fake server([&](const fake_request& r) { return s3.handle(r); });
        ASSERT_TRUE(server.start().has_value());
        const std::string content = pattern(6 * 1024 * 1024);
        temp_file file(content);
        auto put = tarius::aws::upload_file(*make_client(server), "bucket", "k", file.path(), {}, S3_MIN_PART_SIZE);
        auto requests = server.requests();
        size_t completions = 0, aborts = 0;
        for (const auto& r : requests) {
            if (r.method == "POST" && r.query.rfind("uploadId=", 0) == 0) ++completions;
            if (r.method == "DELETE") ++aborts;
        }
        EXPECT_EQ(completions, c.completions);
        if (c.succeeds) {
            ASSERT_TRUE(put.has_value()) << put.err().message;
            EXPECT_TRUE(s3.completed == content);
            EXPECT_EQ(aborts, 0u);
        } else {
            ASSERT_FALSE(put.has_value());
            EXPECT_EQ(put.err().code, errc::SERVICE);
            EXPECT_TRUE(put.err().retryable);
            EXPECT_NE(put.err().message.find("InternalError"), std::string::npos) << put.err().message;
            EXPECT_EQ(aborts, 1u);
        }
    }
}

TEST(s3_multipart, client_calls_check_their_arguments_and_read_the_upload_id) {
    fake_s3 s3;
    http_fake server([&](const fake_request& r) { return s3.handle(r); });
    ASSERT_TRUE(server.start().has_value());
    auto client = make_client(server);
    auto id = client->create_multipart_upload("bucket", "k", {});
    ASSERT_TRUE(id.has_value()) << id.err().message;
    EXPECT_EQ(*id, UPLOAD_ID);
    EXPECT_EQ(server.requests()[0].header("Content-Type").value_or(""), "application/octet-stream");
    EXPECT_FALSE(server.requests()[0].header("x-amz-server-side-encryption").has_value());
    const size_t before = server.requests().size();
    for (int bad : {0, 10001}) {
        auto part = client->upload_part("bucket", "k", *id, bad, "x");
        ASSERT_FALSE(part.has_value());
        EXPECT_EQ(part.err().code, errc::INVALID_ARGUMENT);
    }
    auto empty = client->complete_multipart_upload("bucket", "k", *id, {});
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.err().code, errc::INVALID_ARGUMENT);
    EXPECT_EQ(server.requests().size(), before);  // nothing sent for bad arguments
    auto aborted = client->abort_multipart_upload("bucket", "k", *id);
    EXPECT_TRUE(aborted.has_value()) << aborted.err().message;
}

TEST(s3_multipart, missing_file_is_an_io_error_without_requests) {
    fake_s3 s3;
    http_fake server([&](const fake_request& r) { return s3.handle(r); });
    ASSERT_TRUE(server.start().has_value());
    auto put = tarius::aws::upload_file(*make_client(server), "bucket", "k", "/nonexistent/tarius/rejects.csv");
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.err().code, errc::IO);
    EXPECT_EQ(server.request_count(), 0u);
}

}  // namespace
