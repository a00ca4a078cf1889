// Continuation events parse back as S3 notifications with the same objects, and their marker reads back.
#include "tarius/lambda/continuation.hpp"

#include <gtest/gtest.h>

#include "tarius/lambda/handler.hpp"

namespace {

using tarius::lambda::continuation;
using tarius::loader::object_ref;

TEST(continuation, event_round_trips_through_the_s3_event_parser) {
    object_ref a;
    a.bucket = "landing";
    a.key = "raw-data/2026/ä file+plus%percent.csv";
    a.version_id = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
    a.etag = "d41d8cd98f00b204e9800998ecf8427e";
    a.sequencer = "0055AED6DCD90281E5";
    a.size = 1234567;
    a.event_name = "ObjectCreated:CompleteMultipartUpload";
    a.event_time = "2026-11-24T08:00:00.000Z";
    object_ref b = a;
    b.key = "raw-data/b.csv";
    b.version_id.clear();
    b.event_name = "Object Created";  // from EventBridge

    const std::string event = tarius::lambda::continuation_event({a, b}, continuation{3, "load-1", 987654});
    auto parsed = tarius::loader::parse_s3_message(event);
    ASSERT_TRUE(parsed) << parsed.err().message;
    ASSERT_EQ(parsed->objects.size(), 2u);
    EXPECT_EQ(parsed->objects[0].key, a.key);
    EXPECT_EQ(parsed->objects[0].version_id, a.version_id);
    EXPECT_EQ(parsed->objects[0].etag, a.etag);
    EXPECT_EQ(parsed->objects[0].sequencer, a.sequencer);
    EXPECT_EQ(parsed->objects[0].size, a.size);
    EXPECT_EQ(parsed->objects[0].event_name, a.event_name);
    EXPECT_EQ(parsed->objects[1].key, "raw-data/b.csv");
    EXPECT_EQ(parsed->objects[1].event_name, "ObjectCreated:Put");

    auto marker = tarius::lambda::read_continuation(event);
    ASSERT_TRUE(marker.has_value());
    EXPECT_EQ(marker->generation, 3u);
    EXPECT_EQ(marker->load_id, "load-1");
    EXPECT_EQ(marker->offset, 987654u);
    EXPECT_EQ(tarius::lambda::event_kind(event), "continuation");
}

TEST(continuation, ordinary_events_have_no_marker) {
    EXPECT_FALSE(tarius::lambda::read_continuation(R"({"Records":[]})").has_value());
    EXPECT_FALSE(tarius::lambda::read_continuation("not json").has_value());
    EXPECT_FALSE(tarius::lambda::read_continuation(R"({"tariusContinuation":{"generation":"x"}})").has_value());
}

TEST(continuation, keys_encode_as_s3_does_and_decode_back) {
    EXPECT_EQ(tarius::lambda::encode_event_key("raw-data/a b+c.csv"), "raw-data/a+b%2Bc.csv");
    EXPECT_EQ(tarius::lambda::encode_event_key("ä"), "%C3%A4");
    for (std::string key : {"a", "a b", "x+y", "%41", "raw-data/日本語 file.csv", "~._-/"}) {
        auto decoded = tarius::loader::decode_event_key(tarius::lambda::encode_event_key(key));
        ASSERT_TRUE(decoded);
        EXPECT_EQ(*decoded, key);
    }
}

TEST(event_kind, names_each_shape) {
    EXPECT_EQ(tarius::lambda::event_kind(R"({"Records":[{"eventSource":"aws:sqs","body":"{}"}]})"), "sqs");
    EXPECT_EQ(tarius::lambda::event_kind(R"({"Records":[{"eventSource":"aws:s3"}]})"), "s3");
    EXPECT_EQ(tarius::lambda::event_kind(R"({"source":"aws.s3","detail-type":"Object Created"})"), "eventbridge");
    EXPECT_EQ(tarius::lambda::event_kind(R"({"Event":"s3:TestEvent"})"), "s3");
    EXPECT_EQ(tarius::lambda::event_kind(R"({"hello":1})"), "unknown");
    EXPECT_EQ(tarius::lambda::event_kind("]"), "unknown");
}

TEST(queue_url_from_arn, builds_the_queue_url_on_the_endpoint) {
    auto url = tarius::lambda::queue_url_from_arn("arn:aws:sqs:eu-west-1:123456789012:tarius-loads",
                                                  "https://sqs.eu-west-1.amazonaws.com/");
    ASSERT_TRUE(url);
    EXPECT_EQ(*url, "https://sqs.eu-west-1.amazonaws.com/123456789012/tarius-loads");
    auto local = tarius::lambda::queue_url_from_arn("arn:aws:sqs:us-east-1:123456789012:q", "http://127.0.0.1:4566");
    ASSERT_TRUE(local);
    EXPECT_EQ(*local, "http://127.0.0.1:4566/123456789012/q");
    EXPECT_FALSE(tarius::lambda::queue_url_from_arn("arn:aws:sns:us-east-1:123456789012:t", "http://x"));
    EXPECT_FALSE(tarius::lambda::queue_url_from_arn("arn:aws:sqs:us-east-1:123456789012", "http://x"));
    EXPECT_FALSE(tarius::lambda::queue_url_from_arn("", "http://x"));
}

}  // namespace
