#pragma once
// Shared fixtures of the service-client tests: a client context pointed at an in-process fake, with fixed
// credentials, a literal environment (no files, no process environment) and a large retry quota.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "fake/http_fake.hpp"
#include "tarius/aws/client.hpp"
#include "tarius/aws/errors.hpp"
#include "tarius/aws/retry.hpp"
#include "tarius/aws/sigv4.hpp"

namespace tarius::aws::test {

inline constexpr const char* TEST_ACCESS_KEY = "AKIDTARIUSUNIT000000";
inline constexpr const char* TEST_SECRET = "unit-test-secret-never-printed";
inline constexpr const char* TEST_TOKEN = "unit-test-session-token";

/// Always the same credentials (with a session token, so its header is checked too).
class fixed_credentials final : public credentials_provider {
public:
    result<credentials> get() override {
        credentials c;
        c.access_key_id = TEST_ACCESS_KEY;
        c.secret_access_key = TEST_SECRET;
        c.session_token = TEST_TOKEN;
        c.source = "test";
        return c;
    }
};

/// Settings of a test context.
struct context_options {
    std::map<std::string, std::string, std::less<>> env;  ///< extra or overriding variables
    std::chrono::milliseconds request_timeout{5000};      ///< transport default timeout
    size_t max_connections = 64;                          ///< transport pool size
};

/// A context whose every service endpoint is `url`. Fast retries: botocore's 2026 rules (25-50 ms transient base).
inline std::shared_ptr<client_context> make_test_context(const std::string& url, context_options options = {}) {
    std::map<std::string, std::string, std::less<>> vars = {
        {"AWS_ENDPOINT_URL", url},
        {"AWS_REGION", "us-east-1"},
        {"AWS_CONFIG_FILE", "/nonexistent/tarius/config"},
        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tarius/credentials"},
        {"AWS_NEW_RETRIES_2026", "true"},
    };
    for (auto& [k, v] : options.env) vars[k] = v;
    auto context = std::make_shared<client_context>();
    context->env = map_environment(vars);
    auto config = load_shared_config(context->env);
    if (config) context->config = std::move(*config);
    context->region = "us-east-1";
    http_options http;
    http.request_timeout = options.request_timeout;
    http.max_connections = options.max_connections;
    context->http = make_curl_http_client(http);
    context->credentials = std::make_shared<fixed_credentials>();
    context->signer = std::make_shared<sigv4_signer>();
    context->quota = std::make_shared<retry_quota>(1000000);
    return context;
}

/// A 200 response carrying a correct x-amz-crc32, as DynamoDB sends.
inline fake::fake_response ddb_ok(std::string body, std::string request_id = "RID-OK") {
    fake::fake_response r;
    r.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                 {"x-amzn-RequestId", std::move(request_id)},
                 {"x-amz-crc32", std::to_string(crc32(body))}};
    r.body = std::move(body);
    return r;
}

/// A DynamoDB-style JSON error.
inline fake::fake_response ddb_error(int status, const std::string& code, const std::string& request_id = "RID-ERR") {
    fake::fake_response r;
    r.status = status;
    r.body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#" + code + "\",\"message\":\"scripted " + code + "\"}";
    r.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                 {"x-amzn-RequestId", request_id},
                 {"x-amz-crc32", std::to_string(crc32(r.body))}};
    return r;
}

}  // namespace tarius::aws::test
