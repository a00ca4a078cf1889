/// The SQS client (JSON protocol) against the in-process fake: targets, bodies and response parsing.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake/http_fake.hpp"
#include "tarius/aws/sqs.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::aws::sqs_client;
using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

constexpr const char* QUEUE = "http://127.0.0.1:1/123456789012/work";

fake_response json_ok(std::string body) {
    fake_response r;
    r.headers = {{"Content-Type", "application/x-amz-json-1.0"}, {"x-amzn-RequestId", "SQS-RID"}};
    r.body = std::move(body);
    return r;
}

TEST(sqs_client, operations_send_json_1_0_requests_and_parse_answers) {
    http_fake server([](const fake_request& r) {
        auto target = r.header("X-Amz-Target").value_or("");
        if (target == "AmazonSQS.ReceiveMessage") {
            return json_ok(R"({"Messages":[{"MessageId":"m1","ReceiptHandle":"h1","MD5OfBody":"x","Body":"{\"a\":1}",
                "Attributes":{"ApproximateReceiveCount":"3","SentTimestamp":"1"}}]})");
        }
        if (target == "AmazonSQS.DeleteMessageBatch") {
            return json_ok(R"({"Successful":[{"Id":"0"}],"Failed":[{"Id":"1","Code":"ReceiptHandleIsInvalid",
                "Message":"bad","SenderFault":true}]})");
        }
        if (target == "AmazonSQS.SendMessage") return json_ok(R"({"MessageId":"sent-1","MD5OfMessageBody":"m"})");
        return json_ok("{}");
    });
    ASSERT_TRUE(server.start().has_value());
    auto client = sqs_client::create(tarius::aws::test::make_test_context(server.url()));
    ASSERT_TRUE(client.has_value());

    tarius::aws::sqs_receive_options options;
    options.max_messages = 5;
    options.wait_seconds = 1;
    options.visibility_timeout = 30;
    auto messages = (*client)->receive_message(QUEUE, options);
    ASSERT_TRUE(messages.has_value()) << messages.err().message;
    ASSERT_EQ(messages->size(), 1u);
    EXPECT_EQ((*messages)[0].message_id, "m1");
    EXPECT_EQ((*messages)[0].receipt_handle, "h1");
    EXPECT_EQ((*messages)[0].body, "{\"a\":1}");
    EXPECT_EQ((*messages)[0].attributes.at("ApproximateReceiveCount"), "3");

    auto failed = (*client)->delete_message_batch(QUEUE, {"h1", "h2"});
    ASSERT_TRUE(failed.has_value()) << failed.err().message;
    ASSERT_EQ(failed->size(), 1u);
    EXPECT_EQ((*failed)[0].id, "1");
    EXPECT_EQ((*failed)[0].code, "ReceiptHandleIsInvalid");

    ASSERT_TRUE((*client)->change_message_visibility(QUEUE, "h1", 120).has_value());
    auto sent = (*client)->send_message(QUEUE, "body \"q\"", 2);
    ASSERT_TRUE(sent.has_value()) << sent.err().message;
    EXPECT_EQ(*sent, "sent-1");

    struct expected_t {
        std::string target;
        std::string body;
    };
    const std::vector<expected_t> expected = {
        {"AmazonSQS.ReceiveMessage",
         std::string(R"({"QueueUrl":")") + QUEUE +
             R"(","MaxNumberOfMessages":5,"WaitTimeSeconds":1,"VisibilityTimeout":30,"AttributeNames":["All"],)"
             R"("MessageSystemAttributeNames":["All"]})"},
        {"AmazonSQS.DeleteMessageBatch",
         std::string(R"({"QueueUrl":")") + QUEUE +
             R"(","Entries":[{"Id":"0","ReceiptHandle":"h1"},{"Id":"1","ReceiptHandle":"h2"}]})"},
        {"AmazonSQS.ChangeMessageVisibility",
         std::string(R"({"QueueUrl":")") + QUEUE + R"(","ReceiptHandle":"h1","VisibilityTimeout":120})"},
        {"AmazonSQS.SendMessage",
         std::string(R"({"QueueUrl":")") + QUEUE + R"(","MessageBody":"body \"q\"","DelaySeconds":2})"},
    };
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), expected.size());
    for (size_t idx = 0; idx < expected.size(); ++idx) {
        SCOPED_TRACE(expected[idx].target);
        EXPECT_EQ(requests[idx].method, "POST");
        EXPECT_EQ(requests[idx].path, "/");
        EXPECT_EQ(requests[idx].header("X-Amz-Target").value_or(""), expected[idx].target);
        EXPECT_EQ(requests[idx].header("Content-Type").value_or(""), "application/x-amz-json-1.0");
        EXPECT_EQ(requests[idx].body, expected[idx].body);
        EXPECT_NE(std::string(requests[idx].header("Authorization").value_or("")).find("/us-east-1/sqs/aws4_request"),
                  std::string::npos);
    }
}

TEST(sqs_client, queue_errors_and_bad_batches) {
    http_fake server([](const fake_request&) {
        fake_response r;
        r.status = 400;
        r.headers = {{"x-amzn-RequestId", "SQS-ERR-1"}};
        r.body = R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})";
        return r;
    });
    ASSERT_TRUE(server.start().has_value());
    auto client = sqs_client::create(tarius::aws::test::make_test_context(server.url()));
    ASSERT_TRUE(client.has_value());
    auto sent = (*client)->send_message(QUEUE, "x");
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.err().code, tarius::errc::SERVICE);
    EXPECT_FALSE(sent.err().retryable);
    EXPECT_NE(sent.err().message.find("QueueDoesNotExist"), std::string::npos) << sent.err().message;
    EXPECT_NE(sent.err().message.find("SQS-ERR-1"), std::string::npos) << sent.err().message;

    auto none = (*client)->delete_message_batch(QUEUE, {});
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.err().code, tarius::errc::INVALID_ARGUMENT);
    auto too_many = (*client)->delete_message_batch(QUEUE, std::vector<std::string>(11, "h"));
    ASSERT_FALSE(too_many.has_value());
    EXPECT_EQ(server.request_count(), 1u);
}

}  // namespace
