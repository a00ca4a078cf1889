// The Runtime API client against an in-process loopback fake of the Runtime API: the protocol's paths, headers
// and bodies as the Lambda custom-runtime reference gives them, and the bounded retries.
#include "tarius/lambda/runtime_api.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>

#include "fake/http_fake.hpp"

namespace {

using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

std::string endpoint_of(const http_fake& server) {
    return "127.0.0.1:" + std::to_string(server.port());
}

tarius::lambda::runtime_api make_api(const http_fake& server) {
    tarius::lambda::runtime_api_options options;
    options.backoff = std::chrono::milliseconds(1);
    return tarius::lambda::runtime_api(endpoint_of(server), tarius::aws::make_curl_http_client(), options);
}

TEST(runtime_api, next_reads_the_invocation_headers_and_payload) {
    http_fake server([](const fake_request& req) {
        fake_response r;
        if (req.method == "GET" && req.path == "/2018-06-01/runtime/invocation/next") {
            r.headers = {{"Lambda-Runtime-Aws-Request-Id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd"},
                         {"Lambda-Runtime-Deadline-Ms", "1542409706888"},
                         {"Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-2:123456789012:function:f"},
                         {"Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"}};
            r.body = R"({"Records":[]})";
        } else {
            r.status = 404;
        }
        return r;
    });
    ASSERT_TRUE(server.start());
    auto api = make_api(server);
    auto inv = api.next();
    ASSERT_TRUE(inv) << inv.err().message;
    EXPECT_EQ(inv->request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    EXPECT_EQ(inv->deadline_ms, 1542409706888);
    EXPECT_EQ(inv->function_arn, "arn:aws:lambda:us-east-2:123456789012:function:f");
    EXPECT_EQ(inv->trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1");
    EXPECT_EQ(inv->payload, R"({"Records":[]})");
}

TEST(runtime_api, next_without_a_request_id_is_an_error) {
    http_fake server([](const fake_request&) { return fake_response{}; });
    ASSERT_TRUE(server.start());
    auto api = make_api(server);
    auto inv = api.next();
    ASSERT_FALSE(inv);
    EXPECT_NE(inv.err().message.find("Lambda-Runtime-Aws-Request-Id"), std::string::npos);
}

TEST(runtime_api, response_and_error_posts_use_the_documented_paths_and_bodies) {
    http_fake server([](const fake_request&) {
        fake_response r;
        r.status = 202;
        return r;
    });
    ASSERT_TRUE(server.start());
    auto api = make_api(server);
    ASSERT_TRUE(api.respond("id-1", R"({"ok":true})"));
    ASSERT_TRUE(api.report_error("id-2", "Tarius.TransientFailure", "DynamoDB \"unreachable\""));
    ASSERT_TRUE(api.report_init_error("Tarius.InitError", "TARIUS_TABLE is not set"));
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].path, "/2018-06-01/runtime/invocation/id-1/response");
    EXPECT_EQ(requests[0].body, R"({"ok":true})");
    EXPECT_EQ(requests[1].path, "/2018-06-01/runtime/invocation/id-2/error");
    EXPECT_EQ(requests[1].header("Lambda-Runtime-Function-Error-Type").value_or(""), "Tarius.TransientFailure");
    EXPECT_EQ(requests[2].path, "/2018-06-01/runtime/init/error");
    EXPECT_EQ(requests[2].header("Lambda-Runtime-Function-Error-Type").value_or(""), "Tarius.InitError");
    // The error document parses back (independent JSON parser) to what was posted.
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(requests[1].body);
    EXPECT_EQ(std::string_view(doc["errorType"]), "Tarius.TransientFailure");
    EXPECT_EQ(std::string_view(doc["errorMessage"]), "DynamoDB \"unreachable\"");
    EXPECT_EQ(simdjson::dom::array(doc["stackTrace"]).size(), 0u);
}

TEST(runtime_api, transient_failures_are_retried_a_bounded_number_of_times) {
    std::atomic<int> calls{0};
    http_fake server([&calls](const fake_request&) {
        fake_response r;
        r.status = ++calls < 3 ? 500 : 202;
        return r;
    });
    ASSERT_TRUE(server.start());
    auto api = make_api(server);
    ASSERT_TRUE(api.respond("id", "{}"));
    EXPECT_EQ(calls.load(), 3);

    calls = -100;  // always failing now: four attempts, then the error
    auto failed = api.respond("id", "{}");
    ASSERT_FALSE(failed);
    EXPECT_EQ(calls.load(), -96);
    EXPECT_TRUE(failed.err().retryable);
}

TEST(runtime_api, client_errors_are_not_retried) {
    std::atomic<int> calls{0};
    http_fake server([&calls](const fake_request&) {
        ++calls;
        fake_response r;
        r.status = 413;
        r.body = R"({"errorType":"RequestEntityTooLarge"})";
        return r;
    });
    ASSERT_TRUE(server.start());
    auto api = make_api(server);
    auto failed = api.respond("id", std::string(7 * 1024 * 1024, 'x'));
    ASSERT_FALSE(failed);
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(failed.err().code, tarius::errc::INVALID_ARGUMENT);
}

TEST(runtime_api, connection_refused_is_a_network_error_after_retries) {
    http_fake server;
    ASSERT_TRUE(server.start());
    const std::string endpoint = endpoint_of(server);
    server.stop();
    tarius::lambda::runtime_api_options options;
    options.backoff = std::chrono::milliseconds(1);
    tarius::lambda::runtime_api api(endpoint, tarius::aws::make_curl_http_client(), options);
    auto inv = api.next();
    ASSERT_FALSE(inv);
    EXPECT_EQ(inv.err().code, tarius::errc::NETWORK);
}

}  // namespace
