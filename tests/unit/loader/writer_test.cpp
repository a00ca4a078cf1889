// The DynamoDB writer: file-order semantics whatever the completion order, counts from acknowledgements only,
// refused rows found by bisection and rejected alone, throttling that slows but never fails a load that
// progresses, the exact write budget, the memory bound, and the tick that runs while writes are in flight.

#include "tarius/loader/writer.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "unit/loader/writer_harness.hpp"

namespace {

using tarius::loader::ddb_writer;
using tarius::loader::writer_options;
using namespace writer_harness;

writer_options options_for_tests() {
    writer_options options;
    options.table = "t";
    options.keys.partition = {"ID", tarius::mapping::key_type::S};
    options.retry_base_delay = std::chrono::milliseconds(1);
    options.retry_max_delay = std::chrono::milliseconds(4);
    return options;
}

struct refused_row {
    tarius::row_problem problem;
    std::string raw;
};

TEST(ddb_writer, final_table_equals_file_order_whatever_the_completion_order) {
    const auto rows = rows_with_repeats(1500, 90);
    for (uint64_t seed : {1u, 2u, 3u, 4u}) {
        fake_dynamodb ddb;
        uint64_t state = seed;
        ddb.pick = [&state](size_t n) {  // random completion order
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            return static_cast<size_t>(state >> 33) % n;
        };
        auto options = options_for_tests();
        options.max_in_flight = 8;
        ddb_writer writer(ddb, options);
        auto batches = make_batches(rows);
        uint64_t items = 0;
        for (auto& b : batches) items += b.items;
        for (auto& b : batches) ASSERT_TRUE(writer.on_batch(std::move(b)));
        ASSERT_TRUE(writer.drain());
        EXPECT_EQ(ddb.table, one_by_one(rows)) << "seed " << seed;
        EXPECT_FALSE(ddb.overlap_seen) << "two requests in flight held the same key";
        EXPECT_GT(writer.stats().held_back, 0u);
        EXPECT_LE(ddb.max_in_flight, 8u);
        EXPECT_EQ(writer.stats().items_written, items);
        EXPECT_EQ(writer.current_checkpoint().items_written, items);
        EXPECT_EQ(writer.current_checkpoint().offset, 1500u * 100u);
    }
}

TEST(ddb_writer, unprocessed_items_are_resent_until_written_and_counted_once) {
    const struct {
        const char* label;
        bool renumber;  // DynamoDB answers with the attributes in another order
    } cases[] = {{"same spelling", false}, {"other spelling", true}};
    for (const auto& c : cases) {
        fake_dynamodb ddb;
        ddb.renumber_unprocessed = c.renumber;
        ddb.leave_unprocessed = [](size_t call, size_t items) { return call % 3 == 0 ? items / 2 : size_t{0}; };
        auto options = options_for_tests();
        options.max_in_flight = 16;
        ddb_writer writer(ddb, options);
        const auto rows = rows_with_repeats(500, 100000);
        for (auto& b : make_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
        ASSERT_TRUE(writer.drain()) << c.label;
        EXPECT_EQ(ddb.table, one_by_one(rows)) << c.label;
        EXPECT_EQ(writer.stats().items_written, 500u) << c.label;
        EXPECT_GT(writer.stats().items_resent, 0u) << c.label;
        EXPECT_GT(writer.stats().requests_throttled, 0u) << c.label;
    }
}

TEST(ddb_writer, sustained_throttling_slows_a_progressing_load_but_never_fails_it) {
    fake_dynamodb ddb;
    // Every request for the first 300 calls: one item accepted, the rest unprocessed, or a throttling error.
    ddb.leave_unprocessed = [](size_t call, size_t items) { return call < 300 && items > 1 ? items - 1 : size_t{0}; };
    ddb.fail_call = [](size_t call) -> std::optional<tarius::error> {
        if (call < 300 && call % 4 == 1) {
            return service_error(400, "ProvisionedThroughputExceededException", "Rate exceeded");
        }
        return std::nullopt;
    };
    auto options = options_for_tests();
    ddb_writer writer(ddb, options);
    const auto rows = rows_with_repeats(200, 100000);
    for (auto& b : make_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(ddb.table, one_by_one(rows));
    EXPECT_EQ(writer.stats().items_written, 200u);
}

TEST(ddb_writer, a_load_without_progress_stops_as_transient_with_its_checkpoint) {
    fake_dynamodb ddb;
    ddb.leave_unprocessed = [](size_t, size_t items) { return items; };  // the table accepts nothing
    auto options = options_for_tests();
    options.no_progress_limit = std::chrono::milliseconds(300);
    ddb_writer writer(ddb, options);
    for (auto& b : make_batches(rows_with_repeats(50, 1000))) (void)writer.on_batch(std::move(b));
    auto drained = writer.drain();
    ASSERT_FALSE(drained);
    EXPECT_TRUE(drained.err().retryable);
    EXPECT_NE(drained.err().message.find("no row written"), std::string::npos) << drained.err().message;
    EXPECT_EQ(writer.stats().items_written, 0u);
    EXPECT_EQ(writer.current_checkpoint().offset, 0u);
}

TEST(ddb_writer, checkpoint_covers_only_the_contiguous_prefix_of_finished_batches) {
    fake_dynamodb ddb;
    ddb.pick = [](size_t n) { return n - 1; };  // newest first: batch 0 finishes last
    auto options = options_for_tests();
    options.max_in_flight = 4;
    ddb_writer writer(ddb, options);
    auto batches = make_batches(rows_with_repeats(8, 1000), 2);
    for (auto& b : batches) ASSERT_TRUE(writer.on_batch(std::move(b)));
    // Complete three of four (the newest ones): the checkpoint must not move past batch 0.
    ddb.poll({});
    ddb.poll({});
    ddb.poll({});
    EXPECT_EQ(writer.current_checkpoint().batches_done, 0u);
    EXPECT_EQ(writer.current_checkpoint().offset, 0u);
    EXPECT_EQ(writer.stats().items_written, 6u);  // what was acknowledged, checkpoint or not
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(writer.current_checkpoint().batches_done, 4u);
    EXPECT_EQ(writer.current_checkpoint().offset, 800u);
    EXPECT_EQ(writer.current_checkpoint().line, 10u);
}

TEST(ddb_writer, a_refused_row_is_rejected_alone_and_the_others_are_written) {
    const struct {
        const char* label;
        std::vector<size_t> poisoned;  // row indexes
        size_t rows;
    } cases[] = {
        {"one in a full batch", {7}, 25},
        {"first and last", {0, 24}, 25},
        {"several batches", {3, 30, 31, 70}, 100},
        {"all of a batch", {0, 1, 2, 3, 4}, 5},
    };
    for (const auto& c : cases) {
        std::vector<row> rows;
        for (size_t idx = 0; idx < c.rows; ++idx) rows.push_back({"k" + std::to_string(idx), "v", 0});
        for (size_t idx : c.poisoned) rows[idx].v = "POISON";
        fake_dynamodb ddb;
        std::vector<refused_row> refused;
        auto options = options_for_tests();
        ddb_writer writer(ddb, options, [&refused](const tarius::row_problem& p, std::string_view raw) {
            refused.push_back({p, std::string(raw)});
            return tarius::ok();
        });
        for (auto& b : make_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
        ASSERT_TRUE(writer.drain()) << c.label;
        EXPECT_EQ(ddb.table, one_by_one(rows, [](const row& r) { return r.v == "POISON"; })) << c.label;
        EXPECT_EQ(writer.stats().items_written, c.rows - c.poisoned.size()) << c.label;
        EXPECT_EQ(writer.stats().items_refused, c.poisoned.size()) << c.label;
        ASSERT_EQ(refused.size(), c.poisoned.size()) << c.label;
        for (const auto& r : refused) {
            EXPECT_EQ(r.problem.reason, tarius::reject_reason::REFUSED_BY_DYNAMODB);
            EXPECT_NE(r.problem.message.find("ValidationException: One or more parameter values were invalid"),
                      std::string::npos)
                << r.problem.message;
            const size_t row_idx = r.problem.line - 2;
            EXPECT_EQ(r.raw, rows[row_idx].id + ",POISON\n") << c.label;
            EXPECT_EQ(r.problem.byte_offset, 100 * row_idx);
        }
        EXPECT_EQ(writer.current_checkpoint().refused.size(), c.poisoned.size()) << c.label;
    }
}

TEST(ddb_writer, a_refused_row_leaves_the_row_it_replaced_in_the_table) {
    // a=1 then a=POISON in one batch (collapsed): writing the rows one by one leaves a=1. Likewise b=1, b=2,
    // b=POISON leaves b=2, and c=POISON, c=POISON2 (both refused) leaves no c at all.
    const std::vector<row> rows = {{"a", "1", 0},      {"b", "1", 0},      {"a", "POISON", 0},  {"b", "2", 0},
                                   {"b", "POISON", 0}, {"c", "POISON", 0}, {"c", "POISON2", 0}, {"d", "1", 0}};
    fake_dynamodb ddb;
    size_t refusals = 0;
    auto options = options_for_tests();
    ddb_writer writer(ddb, options, [&refusals](const tarius::row_problem&, std::string_view) {
        ++refusals;
        return tarius::ok();
    });
    for (auto& b : make_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    const std::map<std::string, std::string> expected = {{"a", "1"}, {"b", "2"}, {"d", "1"}};
    EXPECT_EQ(ddb.table, expected);
    EXPECT_EQ(refusals, 4u);
    EXPECT_EQ(writer.stats().items_refused, 4u);
    EXPECT_EQ(writer.stats().items_written, 3u);  // a=1, b=2, d=1
    EXPECT_EQ(writer.stats().items_revived, 3u);  // a=1, b=2, c=POISON were tried in place of a later row
}

TEST(ddb_writer, a_stop_while_a_replaced_row_waits_keeps_its_batch_below_the_checkpoint) {
    // a=1 then a=POISON in one batch: the refusal comes back after the writer was told to stop, so the row a=1
    // that writing the rows one by one would leave in the table is not sent. The batch must stay open (the
    // checkpoint below it), so that the resumed load sends it again and writes a=1.
    const std::vector<row> rows = {{"a", "1", 0}, {"a", "POISON", 0}};
    fake_dynamodb ddb;
    auto options = options_for_tests();
    ddb_writer first(ddb, options);
    for (auto& b : make_batches(rows)) ASSERT_TRUE(first.on_batch(std::move(b)));
    first.stop();
    auto drained = first.drain();
    ASSERT_FALSE(drained);
    EXPECT_EQ(first.stats().items_refused, 1u);
    EXPECT_EQ(first.current_checkpoint().offset, 0u);
    EXPECT_TRUE(first.current_checkpoint().refused.empty());

    auto resumed_options = options_for_tests();
    resumed_options.resume = first.current_checkpoint();
    ddb_writer resumed(ddb, resumed_options);
    for (auto& b : make_batches(rows)) ASSERT_TRUE(resumed.on_batch(std::move(b)));
    ASSERT_TRUE(resumed.drain());
    EXPECT_EQ(ddb.table, (std::map<std::string, std::string>{{"a", "1"}}));
    EXPECT_EQ(resumed.stats().items_written, 1u);
    EXPECT_EQ(resumed.stats().items_refused, 1u);
}

TEST(ddb_writer, a_record_level_failure_fails_the_load_and_is_not_retried) {
    fake_dynamodb ddb;
    ddb.fail_call = [](size_t) -> std::optional<tarius::error> {
        return service_error(400, "ResourceNotFoundException", "Requested resource not found");
    };
    auto options = options_for_tests();
    options.max_in_flight = 2;
    ddb_writer writer(ddb, options);
    bool refused = false;
    for (auto& b : make_batches(rows_with_repeats(60, 1000), 1)) refused |= !writer.on_batch(std::move(b));
    auto drained = writer.drain();
    EXPECT_TRUE(refused);
    ASSERT_FALSE(drained);
    EXPECT_FALSE(drained.err().retryable);
    EXPECT_NE(drained.err().message.find("ResourceNotFoundException"), std::string::npos);
    EXPECT_LE(ddb.calls, 2u);  // the requests in flight answered; nothing was sent again
}

TEST(ddb_writer, batches_below_a_resume_point_are_counted_not_sent_and_earlier_refusals_rejected_again) {
    std::vector<row> rows = rows_with_repeats(20, 1000);
    rows[2].v = "POISON";  // line 4, in the first batch: refused by the earlier run
    fake_dynamodb ddb;
    std::vector<refused_row> refused;
    auto options = options_for_tests();
    options.resume.offset = 1000;  // the first two batches (5 rows × 100 bytes each)
    options.resume.batches_done = 2;
    options.resume.items_written = 9;
    options.resume.refused = {{4, "ValidationException: from the first run"}};
    ddb_writer writer(ddb, options, [&refused](const tarius::row_problem& p, std::string_view raw) {
        refused.push_back({p, std::string(raw)});
        return tarius::ok();
    });
    for (auto& b : make_batches(rows, 5)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(ddb.table.size(), 10u);
    EXPECT_EQ(writer.stats().batches_skipped, 2u);
    EXPECT_EQ(writer.stats().items_written, 19u);
    EXPECT_EQ(writer.stats().items_refused, 1u);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].problem.line, 4u);
    EXPECT_EQ(refused[0].problem.message, "ValidationException: from the first run");
    EXPECT_EQ(refused[0].raw, rows[2].id + ",POISON\n");
    EXPECT_EQ(writer.current_checkpoint().batches_done, 4u);
    EXPECT_EQ(writer.current_checkpoint().items_written, 19u);
    ASSERT_EQ(writer.current_checkpoint().refused.size(), 1u);
}

// Write units sent in every window of `window` seconds, from the fake's send times.
double most_units_in_a_window(const fake_dynamodb& ddb, double units_per_item, double window) {
    double most = 0;
    for (size_t first = 0; first < ddb.sent.size(); ++first) {
        double units = 0;
        for (size_t idx = first; idx < ddb.sent.size(); ++idx) {
            if (std::chrono::duration<double>(ddb.sent[idx].at - ddb.sent[first].at).count() >= window) break;
            units += units_per_item * static_cast<double>(ddb.sent[idx].items);
        }
        most = std::max(most, units);
    }
    return most;
}

TEST(ddb_writer, the_write_budget_is_never_exceeded_and_delivered) {
    const struct {
        const char* label;
        double budget;
        size_t item_size;
        double units_per_item;
    } cases[] = {
        {"small items", 100, 10, 1},
        {"5 KB items, budget 10", 10, 5 * 1024, 5},
        {"items larger than the budget", 2, 3 * 1024 - 100, 3},
    };
    for (const auto& c : cases) {
        fake_dynamodb ddb;
        auto now = std::chrono::steady_clock::time_point{};
        auto clock = [&now] { return now += std::chrono::milliseconds(5); };
        ddb.clock = [&now] { return now; };
        ddb.units_per_item = c.units_per_item;
        auto options = options_for_tests();
        options.max_wcu_per_second = c.budget;
        options.follow_capacity = false;
        ddb_writer writer(ddb, options, {}, {}, clock);
        std::vector<row> rows;
        const size_t count = static_cast<size_t>(c.budget * 8 / c.units_per_item);
        for (size_t idx = 0; idx < count; ++idx) rows.push_back({"k" + std::to_string(idx), "v", c.item_size});
        for (auto& b : make_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
        ASSERT_TRUE(writer.drain());
        EXPECT_EQ(ddb.table.size(), count) << c.label;
        for (double window : {1.0, 2.0, 5.0}) {
            EXPECT_LE(most_units_in_a_window(ddb, c.units_per_item, window), c.budget * (window + 1))
                << c.label << ", window " << window << " s";
        }
        // Delivered: the sends span no more than the units at the budget's rate (plus one request's worth).
        const double span = std::chrono::duration<double>(ddb.sent.back().at - ddb.sent.front().at).count();
        const double units = c.units_per_item * static_cast<double>(count);
        EXPECT_LE(span, units / c.budget * 1.05 + 0.1) << c.label;
        EXPECT_GE(span, (units - c.budget - c.units_per_item * 25) / c.budget) << c.label;
    }
}

TEST(ddb_writer, requests_answered_with_a_fault_after_they_were_written_stay_within_the_budget) {
    // A 500 does not say the request was not written: sent again, its items are written (and consumed) twice.
    // Every send counts against the budget.
    fake_dynamodb ddb;
    auto now = std::chrono::steady_clock::time_point{};
    auto clock = [&now] { return now += std::chrono::milliseconds(5); };
    ddb.clock = [&now] { return now; };
    ddb.written_then_failed = [](size_t call) { return call % 2 == 0; };
    auto options = options_for_tests();
    options.max_wcu_per_second = 50;
    options.follow_capacity = false;
    ddb_writer writer(ddb, options, {}, {}, clock);
    std::vector<row> rows;
    for (size_t idx = 0; idx < 400; ++idx) rows.push_back({"k" + std::to_string(idx), "v", 10});
    for (auto& b : make_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(ddb.table.size(), 400u);
    EXPECT_GT(ddb.sent.size(), 16u);  // some requests were sent twice
    for (double window : {1.0, 2.0, 5.0}) {
        EXPECT_LE(most_units_in_a_window(ddb, 1, window), 50 * (window + 1)) << "window " << window << " s";
    }
}

TEST(ddb_writer, memory_held_stays_within_the_bound) {
    fake_dynamodb ddb;
    auto options = options_for_tests();
    options.max_held_bytes = 1 << 20;
    ddb_writer writer(ddb, options);
    std::vector<row> rows;
    for (size_t idx = 0; idx < 400; ++idx) rows.push_back({"k" + std::to_string(idx), std::string(20000, 'x'), 0});
    size_t largest_batch = 0;
    auto batches = make_batches(rows);
    for (const auto& b : batches) largest_batch = std::max(largest_batch, b.held_bytes());
    for (auto& b : batches) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(ddb.table.size(), 400u);
    EXPECT_LE(writer.stats().peak_held_bytes, options.max_held_bytes + 3 * largest_batch);
}

TEST(ddb_writer, the_tick_runs_while_writes_are_in_flight_and_can_stop_the_writer) {
    fake_dynamodb ddb;
    bool answering = true;
    size_t ticks = 0;
    auto options = options_for_tests();
    options.tick_every = std::chrono::milliseconds(1);
    options.stop_grace = std::chrono::milliseconds(50);
    options.max_in_flight = 2;
    // The table stops answering after the first two requests: only ticks run while the writer waits.
    struct stalling final : tarius::aws::dynamodb_client {
        fake_dynamodb& inner;
        bool& answering;
        stalling(fake_dynamodb& i, bool& a) : inner(i), answering(a) {}
        tarius::result<tarius::aws::table_description> describe_table(const std::string& t) override {
            return inner.describe_table(t);
        }
        tarius::result<tarius::aws::batch_write_result> batch_write_item(std::string b) override {
            return inner.batch_write_item(std::move(b));
        }
        tarius::result<std::string> call(const std::string& o, std::string b) override { return inner.call(o, b); }
        void batch_write_item_async(std::string b, tarius::aws::batch_write_callback d) override {
            inner.batch_write_item_async(std::move(b), std::move(d));
        }
        size_t poll(std::chrono::milliseconds wait) override {
            if (answering && inner.calls >= 2) answering = false;
            return answering ? inner.poll(wait) : inner.in_flight.size();
        }
    } client(ddb, answering);
    ddb_writer writer(client, options, {}, [&ticks]() -> tarius::result<void> {
        if (++ticks == 50) return tarius::make_error(tarius::errc::CANCELLED, "deadline near");
        return tarius::ok();
    });
    for (auto& b : make_batches(rows_with_repeats(20, 1000), 5)) {
        if (!writer.on_batch(std::move(b))) break;
    }
    auto drained = writer.drain();
    ASSERT_FALSE(drained);
    EXPECT_EQ(drained.err().code, tarius::errc::CANCELLED);
    EXPECT_GE(ticks, 50u);
    EXPECT_EQ(writer.stats().items_written, 10u);
    EXPECT_EQ(writer.current_checkpoint().offset, 1000u);
}

// ---- one row per request (insert) --------------------------------------------------------------------------

writer_options insert_options() {
    auto options = options_for_tests();
    tarius::loader::write_settings settings;
    settings.method = tarius::loader::write_method::INSERT;
    options.strategy = tarius::loader::make_write_strategy(settings, "t", options.keys, "0123456789abcdef");
    return options;
}

std::vector<tarius::pipeline::batch> insert_batches(const std::vector<row>& rows, size_t per_batch = 25) {
    return make_batches(rows, per_batch, tarius::pipeline::duplicate_policy::SEAL);
}

TEST(ddb_writer, an_insert_writes_absent_keys_and_counts_the_others_skipped_in_file_order) {
    // k0..k39 repeat: each key's first row is written, every later row finds the key and is skipped; rows of one
    // key never overlap in flight although answers come back in any order.
    const std::vector<row> rows = rows_with_repeats(200, 40);
    fake_dynamodb ddb;
    ddb.pick = [n = 0u](size_t in_flight) mutable { return (n += 7) % in_flight; };
    ddb.table["k3"] = "theirs";  // another writer's item: never overwritten
    auto options = insert_options();
    options.max_in_flight = 16;
    ddb_writer writer(ddb, options);
    for (auto& b : insert_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    std::map<std::string, std::string> expected = {{"k3", "theirs"}};
    for (const row& r : rows) expected.emplace(r.id, r.v);  // first row of a key wins
    EXPECT_EQ(ddb.table, expected);
    EXPECT_EQ(writer.stats().items_written, 39u);
    EXPECT_EQ(writer.stats().items_skipped_existing, 161u);
    EXPECT_EQ(writer.stats().requests_sent, 200u);  // one row per request
    EXPECT_GE(writer.stats().peak_in_flight, 8u);
    EXPECT_DOUBLE_EQ(writer.stats().wcu_estimated, 161.0);  // a failed condition costs the row's units
    const auto at = writer.current_checkpoint();
    EXPECT_EQ(at.offset, 20000u);
    EXPECT_EQ(at.items_written + at.skipped_existing, 200u);
    EXPECT_EQ(at.skipped_existing, 161u);
}

TEST(ddb_writer, a_resumed_insert_counts_the_earlier_runs_rows_once_and_its_marker_passes_its_own_condition) {
    const std::vector<row> rows = rows_with_repeats(100, 30);
    fake_dynamodb ddb;
    auto options = insert_options();
    options.max_in_flight = 4;
    // The first run stops after some batches: its acknowledged rows are in the table with their markers.
    tarius::loader::checkpoint at;
    {
        ddb_writer first(ddb, options);
        auto batches = insert_batches(rows);
        for (size_t idx = 0; idx < 2; ++idx) ASSERT_TRUE(first.on_batch(std::move(batches[idx])));
        ASSERT_TRUE(first.drain());
        at = first.current_checkpoint();
        // Then it sent the third batch, which the table wrote, and died before any answer came back.
        ASSERT_TRUE(first.on_batch(std::move(batches[2])));
        first.stop();
        while (!ddb.in_flight.empty()) ddb.poll(std::chrono::milliseconds(0));
    }
    ASSERT_GT(at.offset, 0u);
    auto resumed_options = insert_options();
    resumed_options.resume = at;
    ddb_writer resumed(ddb, resumed_options);
    for (auto& b : insert_batches(rows)) ASSERT_TRUE(resumed.on_batch(std::move(b)));
    ASSERT_TRUE(resumed.drain());
    // The counts of one uninterrupted run.
    fake_dynamodb once;
    ddb_writer whole(once, insert_options());
    for (auto& b : insert_batches(rows)) ASSERT_TRUE(whole.on_batch(std::move(b)));
    ASSERT_TRUE(whole.drain());
    EXPECT_EQ(ddb.table, once.table);
    EXPECT_EQ(resumed.stats().items_written, whole.stats().items_written);
    EXPECT_EQ(resumed.stats().items_skipped_existing, whole.stats().items_skipped_existing);
    EXPECT_EQ(resumed.current_checkpoint().skipped_existing, whole.current_checkpoint().skipped_existing);
}

TEST(ddb_writer, a_row_resent_after_its_write_was_lost_passes_its_own_marker) {
    // A run that died wrote these rows (with their markers) but never counted them: sent again by the same load,
    // each passes its own condition and is counted written, not skipped. Another load's marker does not pass.
    const std::vector<row> rows = rows_with_repeats(30, 30);
    fake_dynamodb ddb;
    for (size_t idx = 0; idx < rows.size(); ++idx) {
        ddb.table[rows[idx].id] = rows[idx].v;
        ddb.markers[rows[idx].id] = (idx < 20 ? "0123456789abcdef:" : "fedcba9876543210:") + std::to_string(idx + 2);
    }
    ddb_writer writer(ddb, insert_options());
    for (auto& b : insert_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(writer.stats().items_written, 20u);
    EXPECT_EQ(writer.stats().items_skipped_existing, 10u);
}

writer_options insert_options_without_marker() {
    auto options = options_for_tests();
    tarius::loader::write_settings settings;
    settings.method = tarius::loader::write_method::INSERT;
    settings.marker_attribute.clear();
    options.strategy = tarius::loader::make_write_strategy(settings, "t", options.keys, "0123456789abcdef");
    return options;
}

TEST(ddb_writer, without_the_marker_a_row_whose_lost_write_landed_is_counted_uncertain_not_skipped) {
    // Every first send is written and its answer lost (a 5xx): the resend finds the key. With the marker it passes
    // its own condition (written); without, the writer cannot tell its own write from another's, and says so.
    const std::vector<row> rows = rows_with_repeats(20, 20);
    for (bool marker : {true, false}) {
        SCOPED_TRACE(marker ? "marker" : "no marker");
        fake_dynamodb ddb;
        ddb.written_then_failed = [](size_t call) { return call < 20; };
        ddb_writer writer(ddb, marker ? insert_options() : insert_options_without_marker());
        for (auto& b : insert_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
        ASSERT_TRUE(writer.drain());
        EXPECT_EQ(ddb.table.size(), 20u);
        EXPECT_EQ(writer.stats().items_written, marker ? 20u : 0u);
        EXPECT_EQ(writer.stats().items_resent_uncertain, marker ? 0u : 20u);
        EXPECT_EQ(writer.stats().items_skipped_existing, 0u);
        EXPECT_EQ(writer.current_checkpoint().resent_uncertain, marker ? 0u : 20u);
    }
}

TEST(ddb_writer, a_resumed_load_counts_uncertain_the_rows_a_stopped_run_may_have_sent) {
    // Without the marker, the rows the first run sent after its last checkpoint come back with a false condition:
    // below `uncertain_through` they are uncertain (written by the dead run, or skipped then too), above it skipped.
    const std::vector<row> rows = rows_with_repeats(100, 60);  // keys repeat from row 61 on
    fake_dynamodb ddb;
    auto options = insert_options_without_marker();
    options.max_in_flight = 4;
    tarius::loader::checkpoint at;
    {
        ddb_writer first(ddb, options);
        auto batches = insert_batches(rows);
        ASSERT_TRUE(first.on_batch(std::move(batches[0])));
        ASSERT_TRUE(first.drain());
        // Rows of the second batch are sent and written; the run dies before their answers, with the heartbeat's
        // checkpoint.
        ASSERT_TRUE(first.on_batch(std::move(batches[1])));
        at = first.current_checkpoint();
        first.stop();
        while (!ddb.in_flight.empty()) ddb.poll(std::chrono::milliseconds(0));
    }
    const size_t landed = ddb.table.size() - 25;  // rows of the second batch the dead run wrote
    ASSERT_GT(landed, 0u);
    EXPECT_EQ(at.offset, 2500u);
    EXPECT_EQ(at.uncertain_through, 5000u);
    auto resumed_options = insert_options_without_marker();
    resumed_options.resume = at;
    ddb_writer resumed(ddb, resumed_options);
    for (auto& b : insert_batches(rows)) ASSERT_TRUE(resumed.on_batch(std::move(b)));
    ASSERT_TRUE(resumed.drain());
    EXPECT_EQ(ddb.table.size(), 60u);
    const auto& s = resumed.stats();
    EXPECT_EQ(s.items_resent_uncertain, landed);             // the dead run wrote them
    EXPECT_EQ(s.items_written, 25u + (25u - landed) + 10u);  // the first batch, the rest of the second, rows 51..60
    EXPECT_EQ(s.items_skipped_existing, 40u);                // rows 61..100: rows 1..40 wrote their keys
    EXPECT_EQ(s.items_written + s.items_resent_uncertain + s.items_skipped_existing, rows.size());
    EXPECT_EQ(resumed.current_checkpoint().resent_uncertain, landed);
}

TEST(ddb_writer, a_resumable_load_sends_no_row_beyond_its_last_saved_checkpoint) {
    // Without the marker a false condition does not tell a row's fate: a load whose checkpoints are saved sends
    // rows only up to the last saved uncertain_through, so that a run resumed after a SIGKILL knows them all.
    const std::vector<row> rows = rows_with_repeats(200000, 150000);  // 100 bytes each: 20 MB of input
    fake_dynamodb ddb;
    auto options = insert_options_without_marker();
    options.checkpoints_saved = true;
    options.max_in_flight = 64;
    std::vector<tarius::loader::checkpoint> saved;
    uint64_t in_force = 0;       // the last saved uncertain_through (none yet: nothing may go)
    uint64_t furthest_sent = 0;  // where the furthest row sent ends (row n spans bytes 100n..100n+100)
    uint64_t beyond = 0;         // rows sent past what the ledger said
    ddb.on_send = [&](const std::string& body) {
        const size_t at = body.find("\"v");
        const uint64_t serial = std::stoull(body.substr(at + 2));
        furthest_sent = std::max(furthest_sent, 100 * serial + 100);
        if (furthest_sent > in_force) ++beyond;
    };
    tarius::loader::ddb_writer* self = nullptr;
    size_t early = 0;
    options.tick_every = std::chrono::milliseconds(0);
    ddb_writer writer(ddb, options, {}, [&]() -> tarius::result<void> {
        // The heartbeat: saves when asked early (and only then, to see the gate hold).
        if (self != nullptr && self->wants_checkpoint_saved()) {
            ++early;
            const auto at = self->current_checkpoint();
            saved.push_back(at);
            self->checkpoint_saved(at);
            in_force = at.uncertain_through;
        }
        return tarius::ok();
    });
    self = &writer;
    for (auto& b : insert_batches(rows)) ASSERT_TRUE(writer.on_batch(std::move(b)));
    ASSERT_TRUE(writer.drain());
    EXPECT_EQ(beyond, 0u);
    ASSERT_GE(early, 2u);
    for (size_t idx = 1; idx < saved.size(); ++idx) {
        EXPECT_GE(saved[idx].uncertain_through, saved[idx - 1].uncertain_through);
    }
    EXPECT_GE(saved.back().uncertain_through, 100u * rows.size());  // the whole input went out, promised first
    EXPECT_EQ(writer.stats().items_written + writer.stats().items_skipped_existing, rows.size());
}

TEST(ddb_writer, a_resumed_load_whose_input_changed_fails_instead_of_miscounting) {
    const std::vector<row> rows = rows_with_repeats(50, 1000);
    fake_dynamodb ddb;
    auto options = options_for_tests();
    options.resume.offset = 1000;
    options.resume.batches_done = 3;  // the replay finds 2 batches below offset 1000
    ddb_writer writer(ddb, options);
    bool failed = false;
    for (auto& b : make_batches(rows, 5)) failed |= !writer.on_batch(std::move(b));
    auto drained = writer.drain();
    EXPECT_TRUE(failed || !drained);
    ASSERT_FALSE(drained);
    EXPECT_NE(drained.err().message.find("input changed"), std::string::npos) << drained.err().message;
}

}  // namespace
