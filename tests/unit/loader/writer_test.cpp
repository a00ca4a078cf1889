#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tarius/loader/writer.hpp"

namespace {

using tarius::aws::batch_write_callback;
using tarius::aws::batch_write_result;
using tarius::loader::ddb_writer;
using tarius::loader::writer_options;
using tarius::pipeline::batch;

// A DynamoDB that applies puts to an in-memory table, answers in a scripted order and can return
// UnprocessedItems or errors. It also checks the invariant the writer promises: no two requests in flight hold
// the same key.
class fake_dynamodb final : public tarius::aws::dynamodb_client {
public:
    struct pending_call {
        std::string body;
        batch_write_callback done;
    };
    std::deque<pending_call> in_flight;
    std::map<std::string, std::string> table;                               // ID → V
    std::function<size_t(size_t)> pick = [](size_t) { return size_t{0}; };  // which in-flight call completes next
    std::function<size_t(const std::string&)> leave_unprocessed = [](const std::string&) { return size_t{0}; };
    std::function<bool(size_t)> fail_call = [](size_t) { return false; };
    size_t calls = 0;
    size_t max_in_flight = 0;
    bool overlap_seen = false;

    tarius::result<tarius::aws::table_description> describe_table(const std::string&) override {
        return tarius::make_error(tarius::errc::INTERNAL, "unused");
    }
    tarius::result<batch_write_result> batch_write_item(std::string) override {
        return tarius::make_error(tarius::errc::INTERNAL, "unused");
    }
    tarius::result<std::string> call(const std::string&, std::string) override {
        return tarius::make_error(tarius::errc::INTERNAL, "unused");
    }
    void batch_write_item_async(std::string body, batch_write_callback done) override {
        auto keys = ids_of(body);
        for (const auto& other : in_flight) {
            for (const auto& id : ids_of(other.body)) overlap_seen |= keys.count(id) > 0;
        }
        in_flight.push_back({std::move(body), std::move(done)});
        max_in_flight = std::max(max_in_flight, in_flight.size());
    }
    size_t poll(std::chrono::milliseconds) override {
        if (in_flight.empty()) return 0;
        const size_t index = pick(in_flight.size()) % in_flight.size();
        pending_call c = std::move(in_flight[index]);
        in_flight.erase(in_flight.begin() + static_cast<long>(index));
        const size_t number = calls++;
        if (fail_call(number)) {
            c.done(tarius::make_error(tarius::errc::SERVICE, "ValidationException: nope"));
            return in_flight.size();
        }
        simdjson::dom::parser parser;
        simdjson::dom::element doc = parser.parse(c.body);
        std::vector<std::string> puts;
        for (auto table_entry : doc["RequestItems"].get_object()) {
            for (simdjson::dom::element put : table_entry.value.get_array()) puts.push_back(simdjson::minify(put));
        }
        const size_t left = std::min(puts.size(), leave_unprocessed(c.body));
        batch_write_result r;
        std::string unprocessed;
        for (size_t put_idx = 0; put_idx < puts.size(); ++put_idx) {
            simdjson::dom::element put = parser.parse(puts[put_idx]);
            if (put_idx < left) {
                unprocessed += (unprocessed.empty() ? "" : ",") + puts[put_idx];
                continue;
            }
            table[std::string(put["PutRequest"]["Item"]["ID"]["S"].get_string().value())] =
                std::string(put["PutRequest"]["Item"]["V"]["S"].get_string().value());
        }
        if (left) {
            r.unprocessed_items = R"({"t":[)" + unprocessed + "]}";
            r.unprocessed_count = left;
        }
        r.consumed_capacity = static_cast<double>(puts.size() - left);
        c.done(std::move(r));
        return in_flight.size();
    }

    static std::set<std::string> ids_of(const std::string& body) {
        std::set<std::string> ids;
        simdjson::dom::parser parser;
        simdjson::dom::element doc = parser.parse(body);
        for (auto table_entry : doc["RequestItems"].get_object()) {
            for (simdjson::dom::element put : table_entry.value.get_array()) {
                ids.insert(std::string(put["PutRequest"]["Item"]["ID"]["S"].get_string().value()));
            }
        }
        return ids;
    }
};

// Batches of (ID, V) rows; each batch spans 100 input bytes per row.
std::vector<batch> make_batches(const std::vector<std::vector<std::pair<std::string, std::string>>>& groups) {
    std::vector<batch> out;
    uint64_t offset = 0;
    for (const auto& rows : groups) {
        batch b;
        b.sequence = out.size();
        b.body = R"({"RequestItems":{"t":[)";
        b.start_offset = offset;
        for (size_t row_idx = 0; row_idx < rows.size(); ++row_idx) {
            if (row_idx) b.body += ",";
            b.body += R"({"PutRequest":{"Item":{"ID":{"S":")" + rows[row_idx].first + R"("},"V":{"S":")" +
                      rows[row_idx].second + R"("}}}})";
            b.key_hashes.push_back(std::hash<std::string>{}(rows[row_idx].first));
            offset += 100;
        }
        b.body += "]}}";
        b.items = rows.size();
        b.item_bytes = rows.size() * 10;
        b.end_offset = offset;
        b.end_line = offset / 100 + 2;
        out.push_back(std::move(b));
    }
    return out;
}

std::vector<std::vector<std::pair<std::string, std::string>>> rows_with_repeats(size_t batches, size_t per_batch,
                                                                                size_t distinct_keys) {
    std::vector<std::vector<std::pair<std::string, std::string>>> groups(batches);
    size_t serial = 0;
    for (auto& group : groups) {
        std::set<std::string> in_this;
        while (group.size() < per_batch) {
            const std::string id = "k" + std::to_string((serial * 7919) % distinct_keys);
            ++serial;
            if (!in_this.insert(id).second) continue;  // the batcher never puts a key twice in one request
            group.emplace_back(id, "v" + std::to_string(serial));
        }
    }
    return groups;
}

TEST(ddb_writer, final_table_equals_file_order_whatever_the_completion_order) {
    const auto groups = rows_with_repeats(60, 25, 90);
    std::map<std::string, std::string> expected;
    for (const auto& group : groups) {
        for (const auto& [id, v] : group) expected[id] = v;
    }
    for (uint64_t seed : {1u, 2u, 3u, 4u}) {
        fake_dynamodb ddb;
        uint64_t state = seed;
        ddb.pick = [&state](size_t n) {  // random completion order
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            return static_cast<size_t>(state >> 33) % n;
        };
        writer_options options;
        options.max_in_flight = 8;
        ddb_writer writer(ddb, options);
        for (auto& b : make_batches(groups)) ASSERT_TRUE(writer.on_batch(std::move(b)));
        ASSERT_TRUE(writer.drain());
        EXPECT_EQ(ddb.table, expected) << "seed " << seed;
        EXPECT_FALSE(ddb.overlap_seen) << "two requests in flight held the same key";
        EXPECT_GT(writer.stats().held_back, 0u);
        EXPECT_LE(ddb.max_in_flight, 8u);
        EXPECT_EQ(writer.stats().items_written, 60u * 25u);
        EXPECT_EQ(writer.current_checkpoint().batches_done, 60u);
        EXPECT_EQ(writer.current_checkpoint().offset, 60u * 25u * 100u);
    }
}

TEST(ddb_writer, unprocessed_items_are_resent_until_written_and_shrink_the_window) {
    fake_dynamodb ddb;
    size_t rounds = 0;
    ddb.leave_unprocessed = [&rounds](const std::string&) { return rounds++ % 3 == 0 ? size_t{10} : size_t{0}; };
    writer_options options;
    options.max_in_flight = 16;
    options.unprocessed_base_delay = std::chrono::milliseconds(1);
    ddb_writer writer(ddb, options);
    const auto groups = rows_with_repeats(20, 25, 100000);
    for (auto& b : make_batches(groups)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(ddb.table.size(), 500u);
    EXPECT_EQ(writer.stats().items_written, 500u);
    EXPECT_GT(writer.stats().unprocessed_resent, 0u);
    EXPECT_GT(writer.stats().throttles, 0u);
    EXPECT_LT(writer.window(), 16u);
}

TEST(ddb_writer, leftovers_that_never_clear_fail_the_load_as_transient) {
    fake_dynamodb ddb;
    ddb.leave_unprocessed = [](const std::string&) { return size_t{1}; };
    writer_options options;
    options.max_unprocessed_rounds = 3;
    options.unprocessed_base_delay = std::chrono::milliseconds(1);
    ddb_writer writer(ddb, options);
    for (auto& b : make_batches(rows_with_repeats(2, 5, 1000))) (void)writer.on_batch(std::move(b));
    auto drained = writer.drain();
    ASSERT_FALSE(drained);
    EXPECT_TRUE(drained.err().retryable);
    EXPECT_NE(drained.err().message.find("still unprocessed"), std::string::npos) << drained.err().message;
}

TEST(ddb_writer, checkpoint_covers_only_the_contiguous_prefix_of_finished_batches) {
    fake_dynamodb ddb;
    ddb.pick = [](size_t n) { return n - 1; };  // newest first: batch 0 finishes last
    writer_options options;
    options.max_in_flight = 4;
    ddb_writer writer(ddb, options);
    auto batches = make_batches(rows_with_repeats(4, 2, 1000));
    for (auto& b : batches) ASSERT_TRUE(writer.on_batch(std::move(b)));
    // Complete three of four (the newest ones): the checkpoint must not move past batch 0.
    ddb.poll({});
    ddb.poll({});
    ddb.poll({});
    EXPECT_EQ(writer.current_checkpoint().batches_done, 0u);
    EXPECT_EQ(writer.current_checkpoint().offset, 0u);
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(writer.current_checkpoint().batches_done, 4u);
    EXPECT_EQ(writer.current_checkpoint().offset, 800u);
    EXPECT_EQ(writer.current_checkpoint().line, 10u);
}

TEST(ddb_writer, a_failed_request_fails_the_load_and_later_batches_are_refused) {
    fake_dynamodb ddb;
    ddb.fail_call = [](size_t call_number) { return call_number == 1; };
    writer_options options;
    options.max_in_flight = 2;
    ddb_writer writer(ddb, options);
    bool refused = false;
    for (auto& b : make_batches(rows_with_repeats(10, 3, 1000))) refused |= !writer.on_batch(std::move(b));
    auto drained = writer.drain();
    EXPECT_TRUE(refused);
    ASSERT_FALSE(drained);
    EXPECT_NE(drained.err().message.find("ValidationException"), std::string::npos);
}

TEST(ddb_writer, batches_below_a_resume_point_are_counted_not_sent) {
    fake_dynamodb ddb;
    writer_options options;
    options.already_written_through = 1000;  // the first two batches (5 rows × 100 bytes each)
    ddb_writer writer(ddb, options);
    for (auto& b : make_batches(rows_with_repeats(4, 5, 1000))) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(ddb.table.size(), 10u);
    EXPECT_EQ(writer.stats().batches_skipped, 2u);
    EXPECT_EQ(writer.current_checkpoint().batches_done, 4u);
    EXPECT_EQ(writer.current_checkpoint().items_written, 20u);
}

TEST(ddb_writer, write_budget_is_never_exceeded) {
    fake_dynamodb ddb;
    auto now = std::chrono::steady_clock::time_point{};
    std::vector<std::pair<double, double>> sends;  // (time in s, WCU estimate)
    writer_options options;
    options.max_wcu_per_second = 100;  // each batch of 25 items of 10 bytes is ≤ 25 WCU
    ddb_writer writer(ddb, options, [&now] { return now += std::chrono::milliseconds(5); });
    for (auto& b : make_batches(rows_with_repeats(40, 25, 100000))) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(ddb.table.size(), 1000u);
    // 1,000 WCU at 100 WCU/s (plus a one-second burst) takes at least 9 s of (fake) time.
    EXPECT_GE(std::chrono::duration<double>(now.time_since_epoch()).count(), 9.0);
}

}  // namespace
