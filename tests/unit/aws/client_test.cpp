/// make_client_context and the shared call core: environment-driven setup, endpoint selection, raw JSON members.

#include <gtest/gtest.h>

#include <string>

#include "aws/service_call.hpp"
#include "fake/http_fake.hpp"
#include "tarius/aws/client.hpp"
#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/retry.hpp"
#include "tarius/aws/sigv4.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::aws::make_client_context;
using tarius::aws::map_environment;

TEST(client_context, needs_a_region) {
    auto context = make_client_context(
        map_environment({{"AWS_CONFIG_FILE", "/nonexistent/c"}, {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/k"}}));
    ASSERT_FALSE(context.has_value());
    EXPECT_EQ(context.err().code, tarius::errc::INVALID_ARGUMENT);
    EXPECT_NE(context.err().message.find("AWS_REGION"), std::string::npos) << context.err().message;
}

TEST(client_context, built_from_the_environment_and_used_by_a_client) {
    tarius::fake::http_fake server(
        [](const tarius::fake::fake_request&) { return tarius::aws::test::ddb_ok(R"({"Item":{}})"); });
    ASSERT_TRUE(server.start().has_value());
    auto context = make_client_context(map_environment({{"AWS_CONFIG_FILE", "/nonexistent/c"},
                                                        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/k"},
                                                        {"AWS_DEFAULT_REGION", "eu-west-3"},
                                                        {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                        {"AWS_SECRET_ACCESS_KEY", "secret-env"},
                                                        {"AWS_ENDPOINT_URL", "http://127.0.0.1:1"},
                                                        {"AWS_ENDPOINT_URL_DYNAMODB", server.url()}}));
    ASSERT_TRUE(context.has_value()) << context.err().message;
    EXPECT_EQ((*context)->region, "eu-west-3");
    ASSERT_TRUE((*context)->http && (*context)->credentials && (*context)->signer && (*context)->quota);
    auto ddb = tarius::aws::dynamodb_client::create(*context);
    ASSERT_TRUE(ddb.has_value());
    auto got = (*ddb)->call("GetItem", "{}");
    ASSERT_TRUE(got.has_value()) << got.err().message;  // AWS_ENDPOINT_URL_DYNAMODB wins over AWS_ENDPOINT_URL
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    std::string auth(requests[0].header("Authorization").value_or(""));
    EXPECT_NE(auth.find("Credential=AKIDENV/"), std::string::npos) << auth;
    EXPECT_NE(auth.find("/eu-west-3/dynamodb/aws4_request"), std::string::npos) << auth;
    EXPECT_FALSE(requests[0].header("X-Amz-Security-Token").has_value());
}

TEST(client_context, missing_credentials_fail_the_call_not_the_setup) {
    auto context = make_client_context(map_environment({{"AWS_CONFIG_FILE", "/nonexistent/c"},
                                                        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/k"},
                                                        {"AWS_REGION", "us-east-1"},
                                                        {"AWS_EC2_METADATA_DISABLED", "true"},
                                                        {"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}}));
    ASSERT_TRUE(context.has_value()) << context.err().message;
    auto ddb = tarius::aws::dynamodb_client::create(*context);
    ASSERT_TRUE(ddb.has_value());
    auto got = (*ddb)->call("GetItem", "{}");
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.err().code, tarius::errc::AUTH) << got.err().message;
}

TEST(service_call, raw_json_member_is_byte_exact) {
    struct case_t {
        const char* json;
        const char* name;
        const char* raw;
    };
    const case_t cases[] = {
        {R"({"a":1,"b":{"x":[1,2,{"y":"}"}]},"c":"z"})", "b", R"({"x":[1,2,{"y":"}"}]})"},
        {R"( { "a" : "q\"}" , "b" : [ ] } )", "a", R"("q\"}")"},
        {R"( { "a" : "q\"}" , "b" : [ ] } )", "b", "[ ]"},
        {R"({"a":true,"b":-1.5e3})", "b", "-1.5e3"},
        {R"({"a":1})", "missing", ""},
        {R"([1,2])", "a", ""},
        {R"({"a":{"unterminated":)", "a", ""},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(tarius::aws::detail::raw_json_member(c.json, c.name), c.raw) << c.json << " " << c.name;
    }
}

}  // namespace
