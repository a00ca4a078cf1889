// The function's handler with a fake loader and a fake handover: one record, one outcome; transient failures
// retried through the platform, permanent ones not; deadlines handed over; answers bounded.

#include "tarius/lambda/handler.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "tarius/lambda/continuation.hpp"
#include "tarius/loader/log.hpp"

namespace {

using tarius::aws::error_class;
using tarius::lambda::event_handler;
using tarius::lambda::handler_options;
using tarius::lambda::handler_result;
using tarius::lambda::handover;
using tarius::lambda::invocation;
using tarius::loader::load_outcome;
using tarius::loader::load_status;
using tarius::loader::object_ref;

// A loader whose outcome per key is scripted; it records what it was asked to load.
class fake_loader final : public tarius::lambda::object_loader {
public:
    std::map<std::string, std::pair<load_status, error_class>> scripted;  // key → outcome (default: succeeded)
    std::vector<std::string> loaded;
    std::string table_name = "products";

    load_outcome load(const object_ref& obj, const std::string&, const tarius::loader::stop_predicate&,
                      const tarius::loader::load_options&) override {
        loaded.push_back(obj.key);
        load_outcome out;
        out.source = obj.uri();
        out.table = table_name;
        out.load_id = "id-" + obj.key;
        auto it = scripted.find(obj.key);
        out.status = it == scripted.end() ? load_status::SUCCEEDED : it->second.first;
        out.failure = it == scripted.end() ? error_class::RECORD : it->second.second;
        if (out.status != load_status::SUCCEEDED) out.message = "scripted " + obj.key;
        out.counts.rows = out.counts.items_written = out.status == load_status::SUCCEEDED ? 3 : 0;
        if (out.status == load_status::STOPPED) out.resume.offset = 100;
        return out;
    }
    // The one feed of these tests loads what lies under raw-data/.
    bool accepts(const object_ref& obj) const override { return obj.key.rfind("raw-data/", 0) == 0; }
};

struct recorded_handover {
    std::vector<std::string> invoked;                         // payloads of self-invocations
    std::vector<std::pair<std::string, std::string>> queued;  // (queue ARN, body)
    handover make() {
        handover h;
        h.invoke_self = [this](const std::string&, const std::string& payload) {
            invoked.push_back(payload);
            return tarius::ok();
        };
        h.enqueue = [this](const std::string& arn, const std::string& body) {
            queued.emplace_back(arn, body);
            return tarius::ok();
        };
        return h;
    }
};

std::string s3_record(const std::string& key) {
    return R"({"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"landing"},)"
           R"("object":{"key":")" +
           key + R"(","size":10,"eTag":"e"}}})";
}

std::string s3_event(const std::vector<std::string>& keys) {
    std::string out = R"({"Records":[)";
    for (size_t idx = 0; idx < keys.size(); ++idx) out += (idx ? "," : "") + s3_record(keys[idx]);
    return out + "]}";
}

std::string sqs_event(const std::vector<std::pair<std::string, std::string>>& messages) {
    std::string out = R"({"Records":[)";
    for (size_t idx = 0; idx < messages.size(); ++idx) {
        std::string body;
        for (char c : messages[idx].second) {
            if (c == '"' || c == '\\') body.push_back('\\');
            body.push_back(c);
        }
        out += std::string(idx ? "," : "") + R"({"messageId":")" + messages[idx].first + R"(","body":")" + body +
               R"(","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:123456789012:events"})";
    }
    return out + "]}";
}

invocation invocation_of(std::string payload, int64_t deadline_ms = 0) {
    invocation inv;
    inv.request_id = "req-1";
    inv.function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tarius";
    inv.deadline_ms = deadline_ms;
    inv.payload = std::move(payload);
    return inv;
}

// The handler logs every load and its metrics; the tests read its answers, not its logs.
class quiet_logs : public ::testing::Environment {
public:
    void SetUp() override { tarius::loader::set_log_stream(std::fopen("/dev/null", "w")); }
};
const auto* const QUIET = ::testing::AddGlobalTestEnvironment(new quiet_logs);

handler_options options() {
    return handler_options{};
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& body) {
    return parser.parse(body);
}

TEST(event_handler, every_record_gets_its_own_outcome) {
    const struct {
        const char* label;
        std::vector<std::string> keys;
        std::map<std::string, std::pair<load_status, error_class>> scripted;
        bool failed;
        const char* error_type;
    } cases[] = {
        {"a missing object fails alone, for good",
         {"raw-data/missing.csv", "raw-data/good.csv"},
         {{"raw-data/missing.csv", {load_status::FAILED, error_class::RECORD}}},
         false,
         ""},
        {"a transient failure is retried by the platform, the others still load",
         {"raw-data/busy.csv", "raw-data/good.csv"},
         {{"raw-data/busy.csv", {load_status::RETRY, error_class::TRANSIENT}}},
         true,
         tarius::lambda::ERROR_TRANSIENT},
        {"a deployment error is named as such",
         {"raw-data/a.csv", "raw-data/good.csv"},
         {{"raw-data/a.csv", {load_status::FAILED, error_class::FATAL}}},
         true,
         tarius::lambda::ERROR_CONFIGURATION},
        {"skipped and rejected loads need nothing more",
         {"raw-data/dup.csv", "raw-data/bad.csv"},
         {{"raw-data/dup.csv", {load_status::SKIPPED, error_class::RECORD}},
          {"raw-data/bad.csv", {load_status::SUCCEEDED_WITH_REJECTS, error_class::RECORD}}},
         false,
         ""},
    };
    for (const auto& c : cases) {
        fake_loader loader;
        loader.scripted = c.scripted;
        recorded_handover hand;
        event_handler handler(loader, options(), hand.make());
        const handler_result out = handler.handle(invocation_of(s3_event(c.keys)));
        EXPECT_EQ(loader.loaded, c.keys) << c.label;
        EXPECT_EQ(out.failed, c.failed) << c.label << ": " << out.body;
        if (c.failed) {
            EXPECT_EQ(out.error_type, c.error_type) << c.label;
        } else {
            simdjson::dom::parser parser;
            auto doc = parse(parser, out.body);
            EXPECT_EQ(doc["loads"].get_array().size(), c.keys.size()) << c.label;
            EXPECT_FALSE(doc["continued"].get_bool().value()) << c.label;
        }
        EXPECT_TRUE(hand.invoked.empty()) << c.label;
    }
}

TEST(event_handler, a_stopped_load_and_those_not_started_are_handed_over) {
    fake_loader loader;
    loader.scripted = {{"raw-data/b.csv", {load_status::STOPPED, error_class::TRANSIENT}},
                       {"raw-data/a.csv", {load_status::RETRY, error_class::TRANSIENT}}};
    recorded_handover hand;
    event_handler handler(loader, options(), hand.make());
    const handler_result out =
        handler.handle(invocation_of(s3_event({"raw-data/a.csv", "raw-data/b.csv", "raw-data/c.csv"})));
    ASSERT_FALSE(out.failed) << out.body;
    EXPECT_EQ(loader.loaded, (std::vector<std::string>{"raw-data/a.csv", "raw-data/b.csv"}));
    ASSERT_EQ(hand.invoked.size(), 1u);
    auto next = tarius::loader::parse_s3_message(hand.invoked[0]);
    ASSERT_TRUE(next);
    std::vector<std::string> keys;
    for (const auto& obj : next->objects) keys.push_back(obj.key);
    // The stopped one first, then those not started, then the one that failed transiently.
    EXPECT_EQ(keys, (std::vector<std::string>{"raw-data/b.csv", "raw-data/c.csv", "raw-data/a.csv"}));
    auto marker = tarius::lambda::read_continuation(hand.invoked[0]);
    ASSERT_TRUE(marker);
    EXPECT_EQ(marker->load_id, "id-raw-data/b.csv");
    EXPECT_EQ(marker->offset, 100u);
    EXPECT_EQ(marker->generation, 1u);
}

TEST(event_handler, a_continuation_that_made_no_progress_fails_instead_of_looping) {
    fake_loader loader;
    loader.scripted = {{"raw-data/b.csv", {load_status::STOPPED, error_class::TRANSIENT}}};
    recorded_handover hand;
    event_handler handler(loader, options(), hand.make());
    object_ref b;
    b.bucket = "landing";
    b.key = "raw-data/b.csv";
    const std::string again = tarius::lambda::continuation_event({b}, {3, "id-raw-data/b.csv", 100});
    const handler_result out = handler.handle(invocation_of(again));
    ASSERT_TRUE(out.failed);
    EXPECT_EQ(out.error_type, std::string(tarius::lambda::ERROR_NO_PROGRESS));
    EXPECT_TRUE(hand.invoked.empty());
}

TEST(event_handler, sqs_messages_fail_alone) {
    fake_loader loader;
    loader.scripted = {{"raw-data/busy.csv", {load_status::RETRY, error_class::TRANSIENT}},
                       {"raw-data/gone.csv", {load_status::FAILED, error_class::RECORD}}};
    recorded_handover hand;
    event_handler handler(loader, options(), hand.make());
    const handler_result out = handler.handle(invocation_of(sqs_event({
        {"m1", s3_event({"raw-data/busy.csv", "raw-data/ok1.csv"})},
        {"m2", s3_event({"raw-data/gone.csv"})},
        {"m3", R"({"not":"an event"})"},
        {"m4", s3_event({"raw-data/ok2.csv"})},
    })));
    ASSERT_FALSE(out.failed) << out.body;
    simdjson::dom::parser parser;
    auto doc = parse(parser, out.body);
    std::vector<std::string> failures;
    for (auto failure : doc["batchItemFailures"].get_array()) {
        failures.emplace_back(failure["itemIdentifier"].get_string().value());
    }
    EXPECT_EQ(failures, (std::vector<std::string>{"m1", "m3"}));
    EXPECT_EQ(loader.loaded, (std::vector<std::string>{"raw-data/busy.csv", "raw-data/ok1.csv", "raw-data/gone.csv",
                                                       "raw-data/ok2.csv"}));
}

TEST(event_handler, the_answer_stays_small_whatever_the_number_of_records) {
    fake_loader loader;
    recorded_handover hand;
    event_handler handler(loader, options(), hand.make());
    std::vector<std::string> keys;
    for (int idx = 0; idx < 45000; ++idx) keys.push_back("raw-data/f" + std::to_string(idx) + ".csv");
    const handler_result out = handler.handle(invocation_of(s3_event(keys)));
    ASSERT_FALSE(out.failed);
    EXPECT_LT(out.body.size(), 256u * 1024u);
    simdjson::dom::parser parser;
    auto doc = parse(parser, out.body);
    EXPECT_EQ(doc["loads"].get_array().size(), options().max_loads_listed);
    EXPECT_EQ(doc["loads_omitted"].get_uint64().value(), 45000u - options().max_loads_listed);
    EXPECT_EQ(doc["by_status"]["succeeded"].get_uint64().value(), 45000u);
}

TEST(event_handler, a_large_handover_is_split_into_events_that_fit) {
    fake_loader loader;
    std::vector<std::string> keys;
    for (int idx = 0; idx < 5000; ++idx)
        keys.push_back("raw-data/" + std::string(100, 'k') + std::to_string(idx) + ".csv");
    // The deadline has passed at once: every object is handed over untouched.
    recorded_handover hand;
    auto opts = options();
    opts.max_event_bytes = 64 * 1024;
    event_handler handler(loader, opts, hand.make());
    int64_t clock = 1000;
    const handler_result out = handler.handle(invocation_of(s3_event(keys), 1001), [&clock] { return clock++; });
    ASSERT_FALSE(out.failed) << out.body;
    EXPECT_TRUE(loader.loaded.empty());
    ASSERT_GT(hand.invoked.size(), 1u);
    size_t handed = 0;
    for (const auto& event : hand.invoked) {
        EXPECT_LE(event.size(), opts.max_event_bytes);
        handed += tarius::loader::parse_s3_message(event)->objects.size();
    }
    EXPECT_EQ(handed, keys.size());
}

}  // namespace
