/// The SNS client (query protocol) against the in-process fake: the form body and the XML answer.

#include <gtest/gtest.h>

#include <string>

#include "fake/http_fake.hpp"
#include "tarius/aws/sns.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::aws::sns_client;
using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

TEST(sns_client, publish_sends_query_form_and_reads_message_id) {
    http_fake server([](const fake_request&) {
        fake_response r;
        r.headers = {{"Content-Type", "text/xml"}};
        r.body =
            "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>"
            "<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>"
            "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>";
        return r;
    });
    ASSERT_TRUE(server.start().has_value());
    auto client = sns_client::create(tarius::aws::test::make_test_context(server.url()));
    ASSERT_TRUE(client.has_value());

    struct case_t {
        tarius::aws::sns_message message;
        std::string body;
    };
    tarius::aws::sns_message plain;
    plain.topic_arn = "arn:aws:sns:us-east-1:1:t";
    plain.message = "a b&c=d+é";
    tarius::aws::sns_message structured = plain;
    structured.message = R"({"default":"x","sqs":"y"})";
    structured.json_structure = true;
    structured.subject = "Load done";
    structured.string_attributes = {{"status", "ok"}, {"file", "s3://b/k 1"}};
    const std::vector<case_t> cases = {
        {plain,
         "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At"
         "&Message=a%20b%26c%3Dd%2B%C3%A9"},
        {structured,
         "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At"
         "&Message=%7B%22default%22%3A%22x%22%2C%22sqs%22%3A%22y%22%7D&Subject=Load%20done"
         "&MessageStructure=json"
         "&MessageAttributes.entry.1.Name=file&MessageAttributes.entry.1.Value.DataType=String"
         "&MessageAttributes.entry.1.Value.StringValue=s3%3A%2F%2Fb%2Fk%201"
         "&MessageAttributes.entry.2.Name=status&MessageAttributes.entry.2.Value.DataType=String"
         "&MessageAttributes.entry.2.Value.StringValue=ok"},
    };
    for (const auto& c : cases) {
        server.clear_requests();
        auto id = (*client)->publish(c.message);
        ASSERT_TRUE(id.has_value()) << id.err().message;
        EXPECT_EQ(*id, "94f20ce6-13c5-43a0-9a9e-ca52d816e90b");
        auto requests = server.requests();
        ASSERT_EQ(requests.size(), 1u);
        EXPECT_EQ(requests[0].method, "POST");
        EXPECT_EQ(requests[0].path, "/");
        EXPECT_EQ(requests[0].body, c.body);
        EXPECT_EQ(requests[0].header("Content-Type").value_or(""), "application/x-www-form-urlencoded; charset=utf-8");
        EXPECT_NE(std::string(requests[0].header("Authorization").value_or("")).find("/us-east-1/sns/aws4_request"),
                  std::string::npos);
    }
}

TEST(sns_client, xml_errors_name_code_and_request_id) {
    http_fake server([](const fake_request&) {
        fake_response r;
        r.status = 404;
        r.body =
            "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist"
            "</Message></Error><RequestId>SNS-RID-9</RequestId></ErrorResponse>";
        return r;
    });
    ASSERT_TRUE(server.start().has_value());
    auto client = sns_client::create(tarius::aws::test::make_test_context(server.url()));
    ASSERT_TRUE(client.has_value());
    tarius::aws::sns_message m;
    m.topic_arn = "arn:aws:sns:us-east-1:1:none";
    m.message = "x";
    auto id = (*client)->publish(m);
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.err().code, tarius::errc::NOT_FOUND);
    EXPECT_NE(id.err().message.find("SNS-RID-9"), std::string::npos) << id.err().message;
    EXPECT_NE(id.err().message.find("sns Publish"), std::string::npos) << id.err().message;
}

}  // namespace
