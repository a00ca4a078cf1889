/// The Lambda client against the in-process fake: Invoke with InvocationType=Event.

#include <gtest/gtest.h>

#include <string>

#include "fake/http_fake.hpp"
#include "tarius/aws/lambda.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

TEST(lambda_client, invoke_async_posts_event_invocation) {
    struct case_t {
        std::string function;
        std::string path;
        int status;
        bool ok;
    };
    const std::vector<case_t> cases = {
        {"tarius-loader", "/2015-03-31/functions/tarius-loader/invocations", 202, true},
        {"arn:aws:lambda:us-east-1:1:function:f:live",
         "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af%3Alive/invocations", 202, true},
        {"f", "/2015-03-31/functions/f/invocations", 200, false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.function);
        http_fake server([&](const fake_request&) {
            fake_response r;
            r.status = c.status;
            return r;
        });
        ASSERT_TRUE(server.start().has_value());
        auto client = tarius::aws::lambda_client::create(tarius::aws::test::make_test_context(server.url()));
        ASSERT_TRUE(client.has_value());
        auto invoked = (*client)->invoke_async(c.function, R"({"resume":42})");
        EXPECT_EQ(invoked.has_value(), c.ok);
        auto requests = server.requests();
        ASSERT_EQ(requests.size(), 1u);
        EXPECT_EQ(requests[0].method, "POST");
        EXPECT_EQ(requests[0].path, c.path);
        EXPECT_EQ(requests[0].header("X-Amz-Invocation-Type").value_or(""), "Event");
        EXPECT_EQ(requests[0].body, R"({"resume":42})");
        EXPECT_NE(std::string(requests[0].header("Authorization").value_or("")).find("/us-east-1/lambda/aws4_request"),
                  std::string::npos);
    }
}

}  // namespace
