/// The DynamoDB client against the in-process fake: the exact JSON 1.0 requests, response parsing, the retries
/// of throttling, 5xx, resets, timeouts, truncated bodies and bad checksums, and many asynchronous calls in flight.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fake/http_fake.hpp"
#include "tarius/aws/dynamodb.hpp"
#include "unit/aws/client_test_support.hpp"

namespace {

using tarius::errc;
using tarius::aws::dynamodb_client;
using tarius::aws::test::ddb_error;
using tarius::aws::test::ddb_ok;
using tarius::aws::test::make_test_context;
using tarius::fake::fake_action;
using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

// A fake answering scripted responses in order, then `fallback`.
struct scripted_fake {
    explicit scripted_fake(std::vector<fake_response> script, fake_response fallback = ddb_ok("{}"))
        : script_(std::move(script)), fallback_(std::move(fallback)) {
        server.set_handler([this](const fake_request&) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (next_ < script_.size()) return script_[next_++];
            return fallback_;
        });
        auto started = server.start();
        EXPECT_TRUE(started.has_value());
    }
    http_fake server;

private:
    std::mutex mutex_;
    std::vector<fake_response> script_;
    fake_response fallback_;
    size_t next_ = 0;
};

std::unique_ptr<dynamodb_client> make_client(const http_fake& server, tarius::aws::test::context_options options = {}) {
    auto client = dynamodb_client::create(make_test_context(server.url(), std::move(options)));
    EXPECT_TRUE(client.has_value());
    return std::move(client).value();
}

constexpr const char* BATCH_BODY =
    R"({"RequestItems":{"items":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}},{"PutRequest":{"Item":{"pk":{"S":"b"}}}}]}})";

TEST(dynamodb_client, describe_table_request_is_json_1_0_and_signed) {
    scripted_fake fake({ddb_ok(R"({"Table":{"TableName":"items","TableArn":"arn:aws:dynamodb:us-east-1:1:table/items",
        "TableStatus":"ACTIVE",
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
        "AttributeDefinitions":[{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"pk","AttributeType":"S"}],
        "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":7}}})")});
    auto client = make_client(fake.server);
    auto table = client->describe_table("items");
    ASSERT_TRUE(table.has_value()) << table.err().message;
    EXPECT_EQ(table->name, "items");
    EXPECT_EQ(table->arn, "arn:aws:dynamodb:us-east-1:1:table/items");
    EXPECT_EQ(table->status, "ACTIVE");
    EXPECT_EQ(table->keys.partition.name, "pk");
    EXPECT_EQ(table->keys.partition.type, tarius::mapping::key_type::S);
    ASSERT_TRUE(table->keys.sort.has_value());
    EXPECT_EQ(table->keys.sort->name, "sk");
    EXPECT_EQ(table->keys.sort->type, tarius::mapping::key_type::N);
    EXPECT_EQ(table->billing_mode, "PROVISIONED");
    EXPECT_EQ(table->write_capacity, 7u);

    auto requests = fake.server.requests();
    ASSERT_EQ(requests.size(), 1u);
    const fake_request& r = requests[0];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/");
    EXPECT_EQ(r.header("X-Amz-Target").value_or(""), "DynamoDB_20120810.DescribeTable");
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/x-amz-json-1.0");
    EXPECT_EQ(r.body, R"({"TableName":"items"})");
    EXPECT_EQ(r.header("X-Amz-Security-Token").value_or(""), tarius::aws::test::TEST_TOKEN);
    EXPECT_EQ(r.header("X-Amz-Date").value_or("").size(), 16u);
    std::string auth(r.header("Authorization").value_or(""));
    EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDTARIUSUNIT000000/", 0), 0u) << auth;
    EXPECT_NE(auth.find("/us-east-1/dynamodb/aws4_request"), std::string::npos) << auth;
    EXPECT_NE(auth.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"),
              std::string::npos)
        << auth;
}

TEST(dynamodb_client, describe_table_on_demand_binary_key) {
    scripted_fake fake({ddb_ok(R"({"Table":{"TableName":"t","KeySchema":[{"AttributeName":"b","KeyType":"HASH"}],
        "AttributeDefinitions":[{"AttributeName":"b","AttributeType":"B"}],
        "BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"},
        "ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":0}}})")});
    auto table = make_client(fake.server)->describe_table("t");
    ASSERT_TRUE(table.has_value()) << table.err().message;
    EXPECT_EQ(table->keys.partition.type, tarius::mapping::key_type::B);
    EXPECT_FALSE(table->keys.sort.has_value());
    EXPECT_EQ(table->billing_mode, "PAY_PER_REQUEST");
    EXPECT_EQ(table->write_capacity, 0u);
}

TEST(dynamodb_client, describe_missing_table_is_not_found_with_request_id) {
    scripted_fake fake({ddb_error(400, "ResourceNotFoundException", "RID-MISSING-1")});
    auto table = make_client(fake.server)->describe_table("nope");
    ASSERT_FALSE(table.has_value());
    EXPECT_EQ(table.err().code, errc::NOT_FOUND);
    EXPECT_FALSE(table.err().retryable);
    for (const char* part : {"dynamodb", "DescribeTable", "ResourceNotFoundException", "400", "RID-MISSING-1"}) {
        EXPECT_NE(table.err().message.find(part), std::string::npos) << part << " in " << table.err().message;
    }
    EXPECT_EQ(fake.server.request_count(), 1u);
}

fake_response truncated_ok() {
    fake_response r = ddb_ok(R"({"UnprocessedItems":{},"padding":"0123456789012345678901234567890123456789"})");
    r.truncate_after = 10;
    return r;
}

fake_response bad_crc_ok() {
    fake_response r = ddb_ok(R"({"UnprocessedItems":{}})");
    r.headers[2].second = "12345";
    return r;
}

fake_response reset() {
    fake_response r;
    r.action = fake_action::RESET;
    return r;
}

fake_response slow_ok() {
    fake_response r = ddb_ok(R"({"UnprocessedItems":{}})");
    r.delay = std::chrono::milliseconds(1500);
    return r;
}

TEST(dynamodb_client, transient_failures_are_retried_until_success) {
    struct case_t {
        const char* name;
        std::vector<fake_response> faults;
        int throttled;
    };
    const std::vector<case_t> cases = {
        {"throttling", {ddb_error(400, "ProvisionedThroughputExceededException")}, 1},
        {"throttling twice", {ddb_error(400, "ThrottlingException"), ddb_error(400, "ThrottlingException")}, 2},
        {"500", {ddb_error(500, "InternalServerError")}, 0},
        {"503", {ddb_error(503, "ServiceUnavailable")}, 0},
        {"connection reset", {reset()}, 0},
        {"truncated body", {truncated_ok()}, 0},
        {"bad crc32", {bad_crc_ok()}, 0},
        {"slow beyond the timeout", {slow_ok()}, 0},
        // A reset on a reused connection may be replayed by libcurl itself, so the reset comes first here.
        {"mixed", {reset(), ddb_error(503, "ServiceUnavailable"), bad_crc_ok()}, 0},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        scripted_fake fake(c.faults, ddb_ok(R"({"UnprocessedItems":{}})"));
        tarius::aws::test::context_options options;
        options.request_timeout = std::chrono::milliseconds(300);
        options.env["AWS_MAX_ATTEMPTS"] = "5";
        auto result = make_client(fake.server, options)->batch_write_item(BATCH_BODY);
        ASSERT_TRUE(result.has_value()) << result.err().message;
        EXPECT_EQ(result->attempts, static_cast<int>(c.faults.size()) + 1);
        EXPECT_EQ(result->throttled_attempts, c.throttled);
        EXPECT_TRUE(result->unprocessed_items.empty());
        auto requests = fake.server.requests();
        ASSERT_EQ(requests.size(), c.faults.size() + 1);
        for (const auto& r : requests) {
            EXPECT_EQ(r.body, BATCH_BODY);  // the same payload on every attempt
            EXPECT_TRUE(r.header("Authorization").has_value());
            EXPECT_EQ(r.header("X-Amz-Target").value_or(""), "DynamoDB_20120810.BatchWriteItem");
        }
    }
}

TEST(dynamodb_client, an_attempt_timeout_bounds_each_attempt_of_a_client) {
    // The transport would wait a minute; the client's own limit ends the slow attempt and the next one answers.
    scripted_fake fake({slow_ok()}, ddb_ok(R"({"UnprocessedItems":{}})"));
    tarius::aws::test::context_options options;
    options.request_timeout = std::chrono::milliseconds(60000);
    auto client =
        dynamodb_client::create(make_test_context(fake.server.url(), options), false, std::chrono::milliseconds(300));
    ASSERT_TRUE(client.has_value());
    auto result = client.value()->batch_write_item(BATCH_BODY);
    ASSERT_TRUE(result.has_value()) << result.err().message;
    EXPECT_EQ(result->attempts, 2);
}

TEST(dynamodb_client, retries_exhausted_carry_code_status_and_request_id) {
    struct case_t {
        fake_response answer;
        errc code;
        bool retryable;
        size_t requests;
        std::vector<std::string> parts;
    };
    const std::vector<case_t> cases = {
        {ddb_error(500, "InternalServerError", "RID-500"),
         errc::SERVICE,
         true,
         4,
         {"dynamodb BatchWriteItem", "InternalServerError", "HTTP 500", "RID-500", "4 attempts"}},
        {ddb_error(400, "ProvisionedThroughputExceededException", "RID-T"),
         errc::SERVICE,
         true,
         4,
         {"ProvisionedThroughputExceededException", "HTTP 400", "RID-T"}},
        {ddb_error(400, "ValidationException", "RID-V"), errc::SERVICE, false, 1, {"ValidationException", "RID-V"}},
        {ddb_error(400, "UnrecognizedClientException", "RID-A"), errc::AUTH, false, 1, {"RID-A"}},
        {reset(), errc::NETWORK, true, 4, {"dynamodb BatchWriteItem"}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.parts[0]);
        scripted_fake fake({}, c.answer);
        auto result = make_client(fake.server)->batch_write_item(BATCH_BODY);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.err().code, c.code) << result.err().message;
        EXPECT_EQ(result.err().retryable, c.retryable);
        EXPECT_EQ(fake.server.request_count(), c.requests);  // DynamoDB's default: 4 attempts
        for (const auto& part : c.parts) {
            EXPECT_NE(result.err().message.find(part), std::string::npos) << part << " in " << result.err().message;
        }
        EXPECT_EQ(result.err().message.find(tarius::aws::test::TEST_SECRET), std::string::npos);
        EXPECT_EQ(result.err().message.find("PutRequest"), std::string::npos);  // never the request body
    }
}

TEST(dynamodb_client, unprocessed_items_returned_byte_exact) {
    // Odd spacing, escapes and unicode must survive untouched: the caller sends these bytes again.
    const std::string unprocessed =
        "{ \"items\" : [ {\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"a\\\"b\\u00e9\"}}}},\n"
        "{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"}{][\"}}}} ], "
        "\"other\":[{\"DeleteRequest\":{\"Key\":{\"k\":{\"N\":\"1e3\"}}}}]}";
    const std::string body =
        "{\"ConsumedCapacity\":[{\"TableName\":\"items\",\"CapacityUnits\":2.5},"
        "{\"TableName\":\"other\",\"CapacityUnits\":1}],\"UnprocessedItems\":" +
        unprocessed + "}";
    scripted_fake fake({ddb_ok(body)});
    auto result = make_client(fake.server)->batch_write_item(BATCH_BODY);
    ASSERT_TRUE(result.has_value()) << result.err().message;
    EXPECT_EQ(result->unprocessed_items, unprocessed);
    EXPECT_EQ(result->unprocessed_count, 3u);
    EXPECT_DOUBLE_EQ(result->consumed_capacity, 3.5);

    scripted_fake empty({ddb_ok(R"({"UnprocessedItems":{}})")});
    auto none = make_client(empty.server)->batch_write_item(BATCH_BODY);
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->unprocessed_items, "");
    EXPECT_EQ(none->unprocessed_count, 0u);
}

TEST(dynamodb_client, generic_call_maps_conditional_failure_to_conflict) {
    scripted_fake fake({ddb_ok(R"({"Item":{"pk":{"S":"x"}}})"), ddb_error(400, "ConditionalCheckFailedException")});
    auto client = make_client(fake.server);
    auto got = client->call("GetItem", R"({"TableName":"t","Key":{"pk":{"S":"x"}}})");
    ASSERT_TRUE(got.has_value()) << got.err().message;
    EXPECT_EQ(*got, R"({"Item":{"pk":{"S":"x"}}})");
    auto put = client->call("PutItem", R"({"TableName":"t","Item":{"pk":{"S":"x"}},"ConditionExpression":"x"})");
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.err().code, errc::CONFLICT);
    auto requests = fake.server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].header("X-Amz-Target").value_or(""), "DynamoDB_20120810.GetItem");
    EXPECT_EQ(requests[1].header("X-Amz-Target").value_or(""), "DynamoDB_20120810.PutItem");
}

// 100 asynchronous BatchWriteItem calls with scripted faults (chosen per request from its id): every callback runs
// exactly once with the outcome that request's script implies, and at least 64 were in flight at once.
TEST(dynamodb_client, async_many_in_flight_with_faults) {
    constexpr int COUNT = 100;
    std::mutex mutex;
    std::map<int, int> seen;  // id -> attempts received
    std::atomic<int> active{0};
    std::atomic<int> max_active{0};
    http_fake server([&](const fake_request& r) {
        int id = std::stoi(r.body.substr(r.body.find("req-") + 4));
        int attempt = 0;
        {
            std::lock_guard<std::mutex> lock(mutex);
            attempt = ++seen[id];
        }
        int now = ++active;
        int prev = max_active.load();
        while (now > prev && !max_active.compare_exchange_weak(prev, now)) {
        }
        // First attempts wait so that the whole batch is in flight together.
        if (attempt == 1) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        --active;
        if (id % 10 == 9) return ddb_error(400, "ValidationException", "RID-" + std::to_string(id));
        if (attempt == 1) {
            switch (id % 5) {
                case 0: return ddb_error(400, "ProvisionedThroughputExceededException");
                case 1: return ddb_error(500, "InternalServerError");
                case 2: return reset();
                case 3: return bad_crc_ok();
                default: break;
            }
        }
        if (id % 4 == 0) {
            return ddb_ok("{\"UnprocessedItems\":{\"t\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"req-" +
                          std::to_string(id) + "\"}}}}]}}");
        }
        return ddb_ok(R"({"UnprocessedItems":{}})");
    });
    ASSERT_TRUE(server.start().has_value());
    tarius::aws::test::context_options options;
    options.max_connections = 128;
    auto client = make_client(server, options);

    std::map<int, int> callbacks;
    std::map<int, tarius::result<tarius::aws::batch_write_result>> outcomes;
    for (int id = 0; id < COUNT; ++id) {
        std::string body = "{\"RequestItems\":{\"t\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"req-" +
                           std::to_string(id) + "\"}}}}]}}";
        client->batch_write_item_async(body, [&, id](tarius::result<tarius::aws::batch_write_result> r) {
            ++callbacks[id];
            outcomes.insert_or_assign(id, std::move(r));
        });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (client->poll(std::chrono::milliseconds(100)) > 0) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "async calls did not complete";
    }
    EXPECT_GE(max_active.load(), 64);
    ASSERT_EQ(callbacks.size(), static_cast<size_t>(COUNT));
    for (int id = 0; id < COUNT; ++id) {
        SCOPED_TRACE(id);
        EXPECT_EQ(callbacks[id], 1);
        const auto& r = outcomes.at(id);
        if (id % 10 == 9) {
            ASSERT_FALSE(r.has_value());
            EXPECT_NE(r.err().message.find("RID-" + std::to_string(id)), std::string::npos);
            EXPECT_EQ(seen[id], 1);
            continue;
        }
        ASSERT_TRUE(r.has_value()) << r.err().message;
        EXPECT_EQ(r->attempts, id % 5 < 4 ? 2 : 1);
        EXPECT_EQ(r->throttled_attempts, id % 5 == 0 ? 1 : 0);
        EXPECT_EQ(r->unprocessed_count, id % 4 == 0 ? 1u : 0u);
        if (id % 4 == 0) {
            EXPECT_NE(r->unprocessed_items.find("\"req-" + std::to_string(id) + "\""), std::string::npos);
        }
        // A reset attempt may never reach the handler; every other attempt does.
        if (id % 5 != 2) {
            EXPECT_EQ(seen[id], r->attempts);
        }
    }
}

}  // namespace

namespace {

TEST(dynamodb_client, retry_after_is_honoured_and_every_attempt_is_signed_afresh) {
    fake_response busy = ddb_error(503, "ServiceUnavailable");
    busy.headers.emplace_back("x-amz-retry-after", "1100");
    scripted_fake fake({busy}, ddb_ok(R"({"UnprocessedItems":{}})"));
    auto started = std::chrono::steady_clock::now();
    auto result = make_client(fake.server)->batch_write_item(BATCH_BODY);
    auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(result.has_value()) << result.err().message;
    EXPECT_EQ(result->attempts, 2);
    // The 2026 rules wait at least the hinted 1.1 s (the computed backoff alone is ~50 ms).
    EXPECT_GE(elapsed, std::chrono::milliseconds(1050));
    auto requests = fake.server.requests();
    ASSERT_EQ(requests.size(), 2u);
    // More than a second apart: a new X-Amz-Date and so a new signature.
    EXPECT_NE(requests[0].header("X-Amz-Date"), requests[1].header("X-Amz-Date"));
    EXPECT_NE(requests[0].header("Authorization"), requests[1].header("Authorization"));
}

TEST(dynamodb_client, adaptive_mode_retries_throttling) {
    struct case_t {
        const char* mode;
        int throttles;
    };
    const case_t cases[] = {{"adaptive", 2}, {"standard", 1}, {"legacy", 1}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.mode);
        std::vector<fake_response> faults(static_cast<size_t>(c.throttles),
                                          ddb_error(400, "ProvisionedThroughputExceededException"));
        scripted_fake fake(faults, ddb_ok(R"({"UnprocessedItems":{}})"));
        tarius::aws::test::context_options options;
        options.env["AWS_RETRY_MODE"] = c.mode;
        auto result = make_client(fake.server, options)->batch_write_item(BATCH_BODY);
        ASSERT_TRUE(result.has_value()) << result.err().message;
        EXPECT_EQ(result->attempts, c.throttles + 1);
        EXPECT_EQ(result->throttled_attempts, c.throttles);
    }
}

TEST(dynamodb_client, bad_retry_settings_fail_creation) {
    tarius::aws::test::context_options options;
    options.env["AWS_MAX_ATTEMPTS"] = "zero";
    auto client = dynamodb_client::create(make_test_context("http://127.0.0.1:9", options));
    ASSERT_FALSE(client.has_value());
    EXPECT_EQ(client.err().code, errc::INVALID_ARGUMENT);
}

}  // namespace
