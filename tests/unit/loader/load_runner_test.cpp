// The load runner with fakes of its services (S3, DynamoDB, SNS): how a load ends for each kind of failure,
// what it publishes, and that a failure to publish is counted, never silent.

#include "tarius/loader/load_job.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "tarius/aws/errors.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/loader/output_keys.hpp"
#include "unit/loader/writer_harness.hpp"

namespace {

using tarius::loader::load_outcome;
using tarius::loader::load_status;
using tarius::loader::object_ref;

tarius::error s3_error(long status, const char* code) {
    tarius::aws::service_error e;
    e.service = "s3";
    e.operation = "Op";
    e.http_status = status;
    e.code = code;
    e.retryable = status >= 500;
    return e.to_error();
}

// An S3 of objects in memory; keys longer than S3's limit are refused as S3 refuses them; puts can be made to
// fail by key prefix.
class fake_s3 final : public tarius::aws::s3_client {
public:
    std::map<std::string, std::string> objects;  // "bucket/key" → body
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> metadata;
    std::map<std::string, tarius::error> fail_puts_under;  // key prefix → error

    tarius::result<tarius::aws::s3_object_info> head_object(const std::string& bucket, const std::string& key,
                                                            const tarius::aws::s3_get_options&) override {
        auto it = objects.find(bucket + "/" + key);
        if (it == objects.end()) return s3_error(404, "");
        tarius::aws::s3_object_info info;
        info.size = it->second.size();
        return info;
    }
    tarius::result<tarius::aws::s3_object_info> get_object(const std::string& bucket, const std::string& key,
                                                           const tarius::aws::s3_get_options&,
                                                           tarius::byte_sink& body) override {
        auto it = objects.find(bucket + "/" + key);
        if (it == objects.end()) return s3_error(404, "NoSuchKey");
        TARIUS_TRY(body.write(it->second));
        tarius::aws::s3_object_info info;
        info.size = it->second.size();
        return info;
    }
    tarius::result<tarius::aws::s3_put_result> put_object(const std::string& bucket, const std::string& key,
                                                          std::string body,
                                                          const tarius::aws::s3_put_options& options) override {
        if (key.size() > tarius::loader::MAX_S3_KEY_BYTES) return s3_error(400, "KeyTooLongError");
        for (const auto& [prefix, failure] : fail_puts_under) {
            if (key.rfind(prefix, 0) == 0) return failure;
        }
        objects[bucket + "/" + key] = std::move(body);
        metadata[bucket + "/" + key] = options.metadata;
        return tarius::aws::s3_put_result{};
    }
    tarius::result<void> delete_object(const std::string& bucket, const std::string& key) override {
        objects.erase(bucket + "/" + key);
        metadata.erase(bucket + "/" + key);
        return tarius::ok();
    }
};

class fake_sns final : public tarius::aws::sns_client {
public:
    std::vector<tarius::aws::sns_message> published;
    std::optional<tarius::error> failure;
    tarius::result<std::string> publish(const tarius::aws::sns_message& message) override {
        if (failure) return *failure;
        published.push_back(message);
        return std::string("mid");
    }
};

class quiet_logs : public ::testing::Environment {
public:
    void SetUp() override { tarius::loader::set_log_stream(std::fopen("/dev/null", "w")); }
};
const auto* const QUIET = ::testing::AddGlobalTestEnvironment(new quiet_logs);

struct harness {
    std::shared_ptr<fake_s3> s3 = std::make_shared<fake_s3>();
    std::shared_ptr<writer_harness::fake_dynamodb> ddb = std::make_shared<writer_harness::fake_dynamodb>();
    std::shared_ptr<fake_sns> sns = std::make_shared<fake_sns>();
    std::unique_ptr<tarius::loader::load_runner> runner;

    harness() {
        tarius::loader::loader_config config;
        config.table = "t";
        config.topic_arn = "arn:aws:sns:eu-west-1:123456789012:loads";
        config.mapping.keys = tarius::mapping::key_schema{{"ID", tarius::mapping::key_type::S}, std::nullopt};
        config.writer.retry_base_delay = std::chrono::milliseconds(1);
        auto ddb_ptr = ddb;
        runner = std::make_unique<tarius::loader::load_runner>(
            s3, ddb, [ddb_ptr] { return std::shared_ptr<tarius::aws::dynamodb_client>(ddb_ptr); }, sns,
            std::move(config));
    }

    load_outcome load(const std::string& key, const std::string& body) {
        if (!body.empty()) s3->objects["landing/" + key] = body;
        object_ref obj;
        obj.bucket = "landing";
        obj.key = key;
        obj.etag = "e";
        obj.size = body.size();
        return runner->load_object(obj, "req");
    }

    std::string object_under(const std::string& prefix) const {
        for (const auto& [name, body] : s3->objects) {
            if (name.rfind("landing/" + prefix, 0) == 0) return body;
        }
        return {};
    }
};

TEST(load_runner, a_missing_object_fails_for_good_and_says_so) {
    harness h;
    load_outcome out = h.load("raw-data/missing.csv", "");
    EXPECT_EQ(out.status, load_status::FAILED);
    EXPECT_EQ(out.failure, tarius::aws::error_class::RECORD);
    EXPECT_NE(out.message.find("NoSuchKey"), std::string::npos) << out.message;
    ASSERT_EQ(h.sns->published.size(), 1u);
    EXPECT_EQ(h.sns->published[0].string_attributes.at("status"), "failed");
    simdjson::dom::parser parser;
    auto report = parser.parse(h.object_under("load-reports/raw-data/missing.csv/"));
    EXPECT_EQ(std::string_view(report["status"]), "failed");
    EXPECT_EQ(uint64_t(report["counts"]["items_written"]), 0u);
}

TEST(load_runner, a_refused_row_is_published_as_a_reject_and_the_rest_loads) {
    harness h;
    load_outcome out = h.load("raw-data/p.csv", "ID,V\na,1\nb,POISON\nc,3\n");
    EXPECT_EQ(out.status, load_status::SUCCEEDED_WITH_REJECTS) << out.message;
    EXPECT_EQ(out.counts.rows, 3u);
    EXPECT_EQ(out.counts.items_written, 2u);
    EXPECT_EQ(out.counts.rejected, 1u);
    EXPECT_TRUE(out.counts.reconciles());
    EXPECT_EQ(h.object_under("invalid-records/raw-data/p.csv/"), "ID,V\nb,POISON\n");
    EXPECT_EQ(h.ddb->table.size(), 2u);
    ASSERT_EQ(out.first_errors.size(), 1u);
    EXPECT_EQ(out.first_errors[0].line, 3u);
    EXPECT_EQ(out.first_errors[0].reason, tarius::reject_reason::REFUSED_BY_DYNAMODB);
}

TEST(load_runner, failures_to_publish_are_counted_and_transient_ones_retried) {
    const struct {
        const char* label;
        const char* failing_prefix;
        tarius::error failure;
        bool sns_fails;
        load_status status;
        uint64_t reports_not_written;
        uint64_t notifications_not_sent;
    } cases[] = {
        {"report refused", "load-reports/", s3_error(403, "AccessDenied"), false, load_status::SUCCEEDED_WITH_REJECTS,
         1, 0},
        {"rejects refused for good", "invalid-records/", s3_error(403, "AccessDenied"), false,
         load_status::SUCCEEDED_WITH_REJECTS, 0, 0},
        {"rejects failed transiently", "invalid-records/", s3_error(503, "SlowDown"), false, load_status::RETRY, 0, 0},
        {"notification refused", "nothing/", s3_error(403, "AccessDenied"), true, load_status::SUCCEEDED_WITH_REJECTS,
         0, 1},
    };
    for (const auto& c : cases) {
        harness h;
        h.s3->fail_puts_under[c.failing_prefix] = c.failure;
        if (c.sns_fails) h.sns->failure = tarius::make_error(tarius::errc::AUTH, "sns Publish: AuthorizationError");
        load_outcome out = h.load("raw-data/p.csv", "ID,V\na,1\nb,POISON\n");
        EXPECT_EQ(out.status, c.status) << c.label << ": " << out.message;
        EXPECT_EQ(out.counts.reports_not_written, c.reports_not_written) << c.label;
        EXPECT_EQ(out.counts.notifications_not_sent, c.notifications_not_sent) << c.label;
        if (std::string(c.label) == "rejects refused for good") {
            EXPECT_FALSE(out.rejects_error.empty()) << c.label;
            EXPECT_NE(out.report_json.find("\"rejects\":{\"error\""), std::string::npos) << out.report_json;
        }
        if (c.reports_not_written) {
            ASSERT_EQ(h.sns->published.size(), 1u) << c.label;
            EXPECT_NE(h.sns->published[0].message.find("reports_not_written\\\":1"), std::string::npos)
                << h.sns->published[0].message;
        }
    }
}

TEST(load_runner, output_keys_fit_s3s_limit_and_carry_the_full_source) {
    harness h;
    const std::string key = "raw-data/" + std::string(1000, 'k') + ".csv";
    load_outcome out = h.load(key, "ID,V\na,1\nb,POISON\n");
    EXPECT_EQ(out.status, load_status::SUCCEEDED_WITH_REJECTS) << out.message;
    EXPECT_FALSE(out.report_uri.empty());
    EXPECT_FALSE(out.rejects_csv_uri.empty());
    EXPECT_EQ(out.source, "s3://landing/" + key);
    for (const auto& [name, body] : h.s3->objects) {
        if (name.rfind("landing/raw-data/", 0) == 0) continue;
        EXPECT_LE(name.size() - std::string("landing/").size(), tarius::loader::MAX_S3_KEY_BYTES) << name;
        const auto& meta = h.s3->metadata[name];
        ASSERT_FALSE(meta.empty()) << name;
        EXPECT_EQ(meta[0].first, "tarius-source");
        EXPECT_EQ(meta[0].second, "s3%3A//landing/" + key);
    }
}

TEST(load_runner, output_keys_are_shortened_on_a_character_boundary) {
    std::string ascii_key = "raw-data/" + std::string(1000, 'a') + ".csv";
    std::string utf8_key = "raw-data/";
    for (int idx = 0; idx < 500; ++idx) utf8_key += "\xC3\xA9";  // é, two bytes each
    for (const std::string& source : {ascii_key, utf8_key}) {
        const auto keys =
            tarius::loader::make_output_keys("invalid-records/", "load-reports/", source, "0123456789abcdef");
        for (const std::string& out : {keys.rejects_csv, keys.rejects_reasons, keys.report}) {
            EXPECT_LE(out.size(), tarius::loader::MAX_S3_KEY_BYTES);
            const size_t tilde = out.find('~');
            ASSERT_NE(tilde, std::string::npos) << out;
            // The head is cut between characters: before '~' comes the last byte of a whole one.
            EXPECT_NE(static_cast<unsigned char>(out[tilde - 1]), 0xC3) << out;
        }
        // Two long keys with the same head do not share outputs.
        const auto other =
            tarius::loader::make_output_keys("invalid-records/", "load-reports/", source + "x", "0123456789abcdef");
        EXPECT_NE(other.report, keys.report);
    }
    const auto short_keys =
        tarius::loader::make_output_keys("invalid-records/", "load-reports/", "raw-data/p.csv", "0123456789abcdef");
    EXPECT_EQ(short_keys.rejects_csv, "invalid-records/raw-data/p.csv/0123456789abcdef.csv");
    EXPECT_EQ(short_keys.report, "load-reports/raw-data/p.csv/0123456789abcdef.json");
}

}  // namespace
