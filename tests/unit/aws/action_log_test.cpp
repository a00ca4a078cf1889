/// The action log (TARIUS_RECORD_ACTIONS): what each request is recorded as, the JSON line, and that the real
/// service clients record through service_core (in a re-executed child, so the variable is read fresh).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "aws/action_log.hpp"
#include "fake/http_fake.hpp"
#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/lambda.hpp"
#include "tarius/aws/s3.hpp"
#include "tarius/aws/sns.hpp"
#include "tarius/aws/sqs.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::aws::endpoint;
using tarius::aws::detail::action_record;
using tarius::aws::detail::call_request;
using tarius::aws::detail::describe_action;

endpoint local_endpoint() {
    endpoint ep;
    ep.scheme = "http";
    ep.host = "127.0.0.1";
    ep.port = 4566;
    ep.custom = true;
    return ep;
}

endpoint aws_s3_endpoint() {
    endpoint ep;
    ep.host = "s3.eu-west-1.amazonaws.com";
    return ep;
}

call_request request(std::string operation, std::string url, std::string body = {}) {
    call_request r;
    r.operation = std::move(operation);
    r.url = std::move(url);
    r.body = std::move(body);
    return r;
}

TEST(aws_action_log, describes_each_service_and_resource) {
    struct case_t {
        std::string service;
        endpoint ep;
        call_request req;
        std::string action;
        std::vector<std::string> resources;
        std::vector<std::string> params;
    };
    const endpoint local = local_endpoint();
    const std::vector<case_t> cases = {
        {"dynamodb",
         local,
         request("DescribeTable", "http://127.0.0.1:4566/", R"({"TableName":"product"})"),
         "dynamodb:DescribeTable",
         {"product"},
         {}},
        {"dynamodb",
         local,
         request("BatchWriteItem", "http://127.0.0.1:4566/",
                 R"({"RequestItems":{"product":[{"PutRequest":{"Item":{}}}],"other":[]}})"),
         "dynamodb:BatchWriteItem",
         {"product", "other"},
         {}},
        {"dynamodb",
         local,
         request("TransactWriteItems", "http://127.0.0.1:4566/",
                 R"({"TransactItems":[{"Put":{"TableName":"ledger"}},{"ConditionCheck":{"TableName":"t2"}}]})"),
         "dynamodb:TransactWriteItems",
         {"ledger", "t2"},
         {}},
        {"dynamodb", local, request("GetItem", "http://127.0.0.1:4566/", "not json"), "dynamodb:GetItem", {}, {}},
        {"s3",
         local,
         request("GetObject", "http://127.0.0.1:4566/landing/raw-data/a%20b.csv?versionId=v%2B1"),
         "s3:GetObject",
         {"landing/raw-data/a b.csv"},
         {"versionId"}},
        {"s3",
         local,
         request("UploadPart", "http://127.0.0.1:4566/landing/invalid-records/k.csv?partNumber=2&uploadId=u"),
         "s3:UploadPart",
         {"landing/invalid-records/k.csv"},
         {"partNumber", "uploadId"}},
        {"s3",
         local,
         request("CreateMultipartUpload", "http://127.0.0.1:4566/landing/r/k.csv?uploads="),
         "s3:CreateMultipartUpload",
         {"landing/r/k.csv"},
         {"uploads"}},
        {"s3",
         aws_s3_endpoint(),
         request("PutObject", "https://landing.s3.eu-west-1.amazonaws.com/load-reports/x%2Fy.json"),
         "s3:PutObject",
         {"landing/load-reports/x/y.json"},
         {}},
        {"s3",
         aws_s3_endpoint(),
         request("HeadObject", "https://s3.eu-west-1.amazonaws.com/my.bucket/k"),
         "s3:HeadObject",
         {"my.bucket/k"},
         {}},
        {"sqs",
         local,
         request("SendMessage", "http://127.0.0.1:4566/",
                 R"({"QueueUrl":"http://127.0.0.1:4566/123456789012/loads","MessageBody":"{}"})"),
         "sqs:SendMessage",
         {"http://127.0.0.1:4566/123456789012/loads"},
         {}},
        {"sqs",
         local,
         request("ReceiveMessage", "http://127.0.0.1:4566/", "Action=ReceiveMessage&QueueUrl=http%3A%2F%2Fh%2F1%2Fq"),
         "sqs:ReceiveMessage",
         {"http://h/1/q"},
         {}},
        {"sns",
         local,
         request("Publish", "http://127.0.0.1:4566/",
                 "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3Aloads&Message=x"),
         "sns:Publish",
         {"arn:aws:sns:us-east-1:1:loads"},
         {}},
        {"lambda",
         local,
         request("Invoke",
                 "http://127.0.0.1:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af/"
                 "invocations"),
         "lambda:Invoke",
         {"arn:aws:lambda:eu-west-1:1:function:f"},
         {}},
        {"lambda",
         local,
         request("Invoke", "http://127.0.0.1:4566/2015-03-31/functions/tarius-loader/invocations"),
         "lambda:Invoke",
         {"tarius-loader"},
         {}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.req.url + " " + c.req.body);
        const action_record got = describe_action(c.service, c.ep, c.req);
        EXPECT_EQ(got.action, c.action);
        EXPECT_EQ(got.resources, c.resources);
        EXPECT_EQ(got.params, c.params);
        EXPECT_EQ(got.kms_key_id, "");
    }
}

TEST(aws_action_log, custom_endpoint_base_path_is_not_part_of_the_resource) {
    endpoint ep = local_endpoint();
    ep.base_path = "/proxy";
    EXPECT_EQ(describe_action("s3", ep, request("GetObject", "http://127.0.0.1:4566/proxy/b/k")).resources,
              std::vector<std::string>{"b/k"});
    EXPECT_EQ(describe_action("lambda", ep,
                              request("Invoke",
                                      "http://127.0.0.1:4566/proxy/2015-03-31/functions/f/"
                                      "invocations"))
                  .resources,
              std::vector<std::string>{"f"});
}

TEST(aws_action_log, s3_write_records_the_requested_kms_key) {
    call_request req = request("PutObject", "http://127.0.0.1:4566/b/k");
    req.headers = {{"Content-Type", "text/csv"},
                   {"x-amz-server-side-encryption", "aws:kms"},
                   {"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "arn:aws:kms:eu-west-1:1:key/k"}};
    EXPECT_EQ(describe_action("s3", local_endpoint(), req).kms_key_id, "arn:aws:kms:eu-west-1:1:key/k");
}

TEST(aws_action_log, json_line) {
    action_record r;
    r.action = "s3:GetObject";
    r.resources = {"b/k \"q\""};
    r.params = {"versionId"};
    EXPECT_EQ(tarius::aws::detail::action_record_json(r),
              "{\"action\":\"s3:GetObject\",\"resources\":[\"b/k \\\"q\\\"\"],\"params\":[\"versionId\"],"
              "\"kms_key_id\":\"\"}\n");
    EXPECT_EQ(tarius::aws::detail::action_record_json(action_record{"sns:Publish", {}, {}, ""}),
              "{\"action\":\"sns:Publish\",\"resources\":[],\"params\":[],\"kms_key_id\":\"\"}\n");
}

std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string record_path(const char* name) {
    return ::testing::TempDir() + "tarius_aws_action_log_" + name + ".jsonl";
}

// Each client once, through its public API, against a fake that answers everything with a plausible 2xx.
void call_every_client(const std::string& url) {
    auto context = tarius::aws::test::make_test_context(url);
    auto ddb = tarius::aws::dynamodb_client::create(context);
    auto s3 = tarius::aws::s3_client::create(context);
    auto sqs = tarius::aws::sqs_client::create(context);
    auto sns = tarius::aws::sns_client::create(context);
    auto lambda = tarius::aws::lambda_client::create(context);
    if (!ddb || !s3 || !sqs || !sns || !lambda) std::_Exit(3);
    (void)(*ddb)->call("GetItem", R"({"TableName":"ledger","Key":{"pk":{"S":"x"}}})");
    tarius::aws::s3_put_options put;
    put.sse_kms_key_id = "arn:aws:kms:us-east-1:1:key/k";
    (void)(*s3)->put_object("landing", "load-reports/r.json", "{}", put);
    (void)(*sqs)->send_message("http://127.0.0.1:1/123456789012/loads", "{}");
    tarius::aws::sns_message message;
    message.topic_arn = "arn:aws:sns:us-east-1:123456789012:loads";
    message.message = "m";
    (void)(*sns)->publish(message);
    (void)(*lambda)->invoke_async("tarius-loader", "{}");
}

TEST(aws_action_log, clients_record_every_call_when_the_variable_names_a_file) {
    ::testing::FLAGS_gtest_death_test_style = "threadsafe";  // a fresh process: the variable is read once
    const std::string path = record_path("on");
    std::remove(path.c_str());
    tarius::fake::http_fake server([](const tarius::fake::fake_request&) {
        tarius::fake::fake_response r;
        r.status = 202;
        r.body = "{}";
        return r;
    });
    ASSERT_TRUE(server.start().has_value());
    EXPECT_EXIT(
        {
            ::setenv("TARIUS_RECORD_ACTIONS", path.c_str(), 1);
            call_every_client(server.url());
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "");
    std::vector<std::string> actions;
    for (const std::string& line : read_lines(path)) {
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
        std::string_view action;
        ASSERT_EQ(doc["action"].get_string().get(action), simdjson::SUCCESS) << line;
        simdjson::dom::array resources;
        ASSERT_EQ(doc["resources"].get_array().get(resources), simdjson::SUCCESS) << line;
        std::string entry(action);
        for (simdjson::dom::element r : resources) {
            std::string_view resource;
            ASSERT_EQ(r.get_string().get(resource), simdjson::SUCCESS) << line;
            entry += " " + std::string(resource);
        }
        std::string_view key;
        if (doc["kms_key_id"].get_string().get(key) == simdjson::SUCCESS && !key.empty()) {
            entry += " kms=" + std::string(key);
        }
        actions.push_back(entry);
    }
    const std::vector<std::string> expected = {
        "dynamodb:GetItem ledger",
        "s3:PutObject landing/load-reports/r.json kms=arn:aws:kms:us-east-1:1:key/k",
        "sqs:SendMessage http://127.0.0.1:1/123456789012/loads",
        "sns:Publish arn:aws:sns:us-east-1:123456789012:loads",
        "lambda:Invoke tarius-loader",
    };
    EXPECT_EQ(actions, expected);
    std::remove(path.c_str());
}

TEST(aws_action_log, nothing_is_written_when_the_variable_is_unset) {
    ::testing::FLAGS_gtest_death_test_style = "threadsafe";
    const std::string path = record_path("off");
    std::remove(path.c_str());
    tarius::fake::http_fake server([](const tarius::fake::fake_request&) {
        tarius::fake::fake_response r;
        r.status = 202;
        r.body = "{}";
        return r;
    });
    ASSERT_TRUE(server.start().has_value());
    EXPECT_EXIT(
        {
            ::unsetenv("TARIUS_RECORD_ACTIONS");
            call_every_client(server.url());
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "");
    std::ifstream in(path);
    EXPECT_FALSE(in.good()) << path << " was created";
}

}  // namespace
