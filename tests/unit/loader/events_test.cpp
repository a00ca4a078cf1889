#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tarius/loader/events.hpp"

namespace {

using tarius::loader::compare_sequencers;
using tarius::loader::decode_event_key;
using tarius::loader::object_filter;
using tarius::loader::object_ref;
using tarius::loader::parse_s3_message;

// Shaped like the S3 User Guide's "Event message structure" example.
constexpr const char* DIRECT = R"({"Records":[
 {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-24T05:00:00.000Z",
  "eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"landing","arn":"arn:aws:s3:::landing"},
  "object":{"key":"raw-data/my+file%C3%A9+%2B%26.csv","size":1234,"eTag":"0123abcd","versionId":"v1",
  "sequencer":"0055AED6DCD90281E5"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectRemoved:Delete",
  "s3":{"bucket":{"name":"landing"},"object":{"key":"raw-data/gone.csv","sequencer":"0055AED6DCD90281E6"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:CompleteMultipartUpload",
  "s3":{"bucket":{"name":"landing"},"object":{"key":"raw-data/big.csv.gz","size":"99","eTag":"\"abc-2\""}}}]})";

TEST(events, direct_notification_yields_created_objects_with_decoded_keys) {
    auto parsed = parse_s3_message(DIRECT);
    ASSERT_TRUE(parsed) << parsed.err().message;
    ASSERT_EQ(parsed->objects.size(), 2u);
    EXPECT_EQ(parsed->skipped_records, 1u);
    const object_ref& first = parsed->objects[0];
    EXPECT_EQ(first.bucket, "landing");
    EXPECT_EQ(first.key, "raw-data/my file\xC3\xA9 +&.csv");
    EXPECT_EQ(first.version_id, "v1");
    EXPECT_EQ(first.etag, "0123abcd");
    EXPECT_EQ(first.sequencer, "0055AED6DCD90281E5");
    EXPECT_EQ(first.size, 1234u);
    EXPECT_EQ(first.event_name, "ObjectCreated:Put");
    EXPECT_EQ(first.uri(), "s3://landing/raw-data/my file\xC3\xA9 +&.csv");
    EXPECT_EQ(parsed->objects[1].etag, "abc-2");
    EXPECT_EQ(parsed->objects[1].size, 99u);
}

TEST(events, sns_wrapped_notification_is_unwrapped) {
    std::string inner = DIRECT;
    std::string escaped;
    for (char c : inner) {
        if (c == '"' || c == '\\') escaped.push_back('\\');
        if (c == '\n') {
            escaped += "\\n";
            continue;
        }
        escaped.push_back(c);
    }
    const std::string sns = R"({"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:1:t",)"
                            R"("Subject":"Amazon S3 Notification","Message":")" +
                            escaped + R"("})";
    auto parsed = parse_s3_message(sns);
    ASSERT_TRUE(parsed) << parsed.err().message;
    ASSERT_EQ(parsed->objects.size(), 2u);
    EXPECT_EQ(parsed->objects[0].key, "raw-data/my file\xC3\xA9 +&.csv");
}

TEST(events, eventbridge_object_created) {
    const char* event = R"({"version":"0","id":"e-1","detail-type":"Object Created","source":"aws.s3",
      "account":"111122223333","time":"2026-11-24T05:00:00Z","region":"us-east-1","resources":["arn:aws:s3:::landing"],
      "detail":{"version":"0","bucket":{"name":"landing"},"object":{"key":"raw-data/a%20b.csv","size":5,
      "etag":"e1","version-id":"v9","sequencer":"00617F08299329D189"},"request-id":"r","reason":"PutObject"}})";
    auto parsed = parse_s3_message(event);
    ASSERT_TRUE(parsed) << parsed.err().message;
    ASSERT_EQ(parsed->objects.size(), 1u);
    EXPECT_EQ(parsed->objects[0].key, "raw-data/a b.csv");
    EXPECT_EQ(parsed->objects[0].version_id, "v9");
    EXPECT_EQ(parsed->objects[0].size, 5u);
    EXPECT_EQ(parsed->objects[0].event_time, "2026-11-24T05:00:00Z");
}

TEST(events, test_event_is_recognised) {
    auto parsed = parse_s3_message(R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-24T05:00:00Z",
      "Bucket":"landing","RequestId":"r","HostId":"h"})");
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->test_event);
    EXPECT_TRUE(parsed->objects.empty());
}

TEST(events, unsupported_shapes_are_errors_naming_what_was_seen) {
    const struct {
        const char* json;
        const char* expected;
    } cases[] = {
        {"not json", "not JSON"},
        {"[1,2]", "not a JSON object"},
        {R"({"hello":"world","foo":1})", "unsupported event: a JSON object with fields hello, foo"},
        {R"({"Records":[{"eventSource":"aws:sqs","body":"x"}]})", "not an S3 event record"},
        {R"({"Records":{}})", "not an array"},
        // Found by fuzz_s3_event: a missing object must be an error, not an exception.
        {R"({"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"obj?ect":{}}})",
         "no detail.bucket or detail.object"},
        {R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}}}]})",
         "without s3.bucket or s3.object"},
        {R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},)"
         R"("object":{"key":"bad%zzkey"}}}]})",
         "bad %-escape"},
    };
    for (const auto& c : cases) {
        auto parsed = parse_s3_message(c.json);
        ASSERT_FALSE(parsed) << c.json;
        EXPECT_NE(parsed.err().message.find(c.expected), std::string::npos) << parsed.err().message;
    }
}

// AWS's sample events (shared/testdata/lambda-events, from its Go runtime library): records of other services
// are named by their source. SNS spells the field EventSource, the others eventSource.
TEST(events, records_of_other_services_are_named_by_their_source) {
    const std::filesystem::path dir =
        std::filesystem::path(TARIUS_SOURCE_DIR) / ".." / "shared" / "testdata" / "lambda-events";
    const struct {
        const char* file;
        const char* expected;
    } cases[] = {
        {"sns-event.json", "S3 notification: a record from 'aws:sns' is not an S3 event record"},
        {"cloudwatch-alarm-sns-payload-single-metric.json",
         "S3 notification: a record from 'aws:sns' is not an S3 event record"},
        {"sqs-event.json", "S3 notification: a record from 'aws:sqs' is not an S3 event record"},
        {"ses-sns-event.json", "S3 notification: a record from 'aws:ses' is not an S3 event record"},
        {"dynamodb-event.json", "S3 notification: a record from 'aws:dynamodb' is not an S3 event record"},
    };
    for (const auto& c : cases) {
        std::ifstream in(dir / c.file, std::ios::binary);
        ASSERT_TRUE(in) << (dir / c.file);
        std::ostringstream text;
        text << in.rdbuf();
        auto parsed = parse_s3_message(text.str());
        ASSERT_FALSE(parsed) << c.file;
        EXPECT_EQ(parsed.err().message, c.expected) << c.file;
    }
    auto unnamed = parse_s3_message(R"({"Records":[{"body":"x"}]})");
    ASSERT_FALSE(unnamed);
    EXPECT_EQ(unnamed.err().message, "S3 notification: a record with no eventSource is not an S3 event record");
}

TEST(events, keys_decode_like_form_urlencoding) {
    const struct {
        const char* encoded;
        const char* decoded;
    } cases[] = {
        {"plain.csv", "plain.csv"},
        {"a+b.csv", "a b.csv"},
        {"a%2Bb.csv", "a+b.csv"},
        {"%C3%A9t%C3%A9.csv", "\xC3\xA9t\xC3\xA9.csv"},
        {"x%21%2A%28%29%27%3B%3D%3F", "x!*()';=?"},
        {"dir%2Fsub/file", "dir/sub/file"},
        {"", ""},
    };
    for (const auto& c : cases) {
        auto decoded = decode_event_key(c.encoded);
        ASSERT_TRUE(decoded) << c.encoded;
        EXPECT_EQ(*decoded, c.decoded);
    }
    for (const char* bad : {"%", "%4", "%G0", "abc%"}) EXPECT_FALSE(decode_event_key(bad)) << bad;
}

TEST(events, sequencers_compare_after_right_padding) {
    const struct {
        const char* a;
        const char* b;
        int expected;
    } cases[] = {
        {"0055AED6DCD90281E5", "0055AED6DCD90281E5", 0},
        {"0055AED6DCD90281E5", "0055AED6DCD90281E6", -1},
        {"0055AED6DCD90281F0", "0055AED6DCD90281E6", 1},
        {"0055AED6DCD90281E5", "0055AED6DCD90281E500", 0},  // padding with zeros changes nothing
        {"0055AED6DCD90281E5", "0055AED6DCD90281E50001", -1},
        {"", "00", 0},
    };
    for (const auto& c : cases) {
        const int got = compare_sequencers(c.a, c.b);
        EXPECT_EQ((got > 0) - (got < 0), c.expected) << c.a << " vs " << c.b;
        const int reverse = compare_sequencers(c.b, c.a);
        EXPECT_EQ((reverse > 0) - (reverse < 0), -c.expected);
    }
}

TEST(events, filter_by_bucket_prefix_and_suffix) {
    object_filter filter{"landing", "raw-data/", {".csv", ".csv.gz", ".csv.zst"}};
    const struct {
        const char* bucket;
        const char* key;
        bool accepted;
    } cases[] = {
        {"landing", "raw-data/a.csv", true},         {"landing", "raw-data/sub/a.csv.gz", true},
        {"landing", "raw-data/a.csv.zst", true},     {"landing", "raw-data/a.txt", false},
        {"landing", "invalid-records/a.csv", false}, {"other", "raw-data/a.csv", false},
        {"landing", "raw-data.csv", false},
    };
    for (const auto& c : cases) {
        object_ref obj;
        obj.bucket = c.bucket;
        obj.key = c.key;
        EXPECT_EQ(filter.accepts(obj), c.accepted) << c.bucket << "/" << c.key;
    }
    object_ref anything;
    anything.bucket = "any";
    anything.key = "thing";
    EXPECT_TRUE(object_filter{}.accepts(anything));
}

}  // namespace
