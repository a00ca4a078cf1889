#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "tarius/pipeline/batch.hpp"

namespace {

using tarius::mapping::encoded_item;
using tarius::pipeline::batch;
using tarius::pipeline::batcher;

struct collecting_sink final : tarius::pipeline::batch_sink {
    std::vector<batch> batches;
    tarius::result<void> on_batch(batch&& b) override {
        batches.push_back(std::move(b));
        return tarius::ok();
    }
};

encoded_item make_item(const std::string& id, const std::string& payload, uint64_t hash = 0) {
    encoded_item item;
    item.json = R"({"ID":{"S":")" + id + R"("},"P":{"S":")" + payload + R"("}})";
    item.key = "S" + id;
    item.key_hash = hash ? hash : std::hash<std::string>{}(item.key);
    item.size = 2 + id.size() + 1 + payload.size();
    return item;
}

// Returns the items of a batch body as (ID, P) pairs, parsed by simdjson (an independent reader).
std::vector<std::pair<std::string, std::string>> parse_body(const std::string& body, const std::string& table) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(body);
    std::vector<std::pair<std::string, std::string>> out;
    for (simdjson::dom::element request : doc["RequestItems"][table].get_array()) {
        simdjson::dom::element item = request["PutRequest"]["Item"];
        out.emplace_back(std::string(item["ID"]["S"].get_string().value()),
                         std::string(item["P"]["S"].get_string().value()));
    }
    return out;
}

TEST(batcher, packs_at_most_25_items_per_request) {
    const struct {
        size_t items;
        std::vector<size_t> expected_sizes;
    } cases[] = {
        {0, {}}, {1, {1}}, {25, {25}}, {26, {25, 1}}, {60, {25, 25, 10}}, {1000, std::vector<size_t>(40, 25)},
    };
    for (const auto& c : cases) {
        collecting_sink sink;
        batcher b("product", sink);
        for (size_t idx = 0; idx < c.items; ++idx) {
            ASSERT_TRUE(b.add(make_item("id" + std::to_string(idx), "x"), idx + 1, idx + 2));
        }
        ASSERT_TRUE(b.flush());
        std::vector<size_t> sizes;
        size_t seen = 0;
        for (const auto& out : sink.batches) {
            sizes.push_back(out.items);
            EXPECT_EQ(out.items_info.size(), out.items);
            for (size_t item_idx = 0; item_idx < out.items; ++item_idx) {
                // Each item's JSON is where the batch says it is, inside the body.
                EXPECT_EQ(out.item_json(item_idx), make_item("id" + std::to_string(seen + item_idx), "x").json);
            }
            auto parsed = parse_body(out.body, "product");
            ASSERT_EQ(parsed.size(), out.items);
            for (const auto& [id, payload] : parsed) EXPECT_EQ(id, "id" + std::to_string(seen++));
        }
        EXPECT_EQ(sizes, c.expected_sizes) << c.items << " items";
        EXPECT_EQ(b.items_emitted(), c.items);
        EXPECT_EQ(b.collapsed_duplicates(), 0u);
    }
}

TEST(batcher, later_row_with_same_key_replaces_earlier_in_open_batch) {
    collecting_sink sink;
    batcher b("t", sink);
    ASSERT_TRUE(b.add(make_item("a", "first"), 10, 2));
    ASSERT_TRUE(b.add(make_item("b", "only"), 20, 3));
    ASSERT_TRUE(b.add(make_item("a", "second"), 30, 4));
    ASSERT_TRUE(b.add(make_item("a", "third"), 40, 5));
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 1u);
    EXPECT_EQ(sink.batches[0].items, 2u);
    const std::vector<std::pair<std::string, std::string>> expected = {{"a", "third"}, {"b", "only"}};
    EXPECT_EQ(parse_body(sink.batches[0].body, "t"), expected);
    EXPECT_EQ(b.collapsed_duplicates(), 2u);
    EXPECT_EQ(b.items_emitted(), 2u);
}

TEST(batcher, keeps_rows_and_the_rows_a_later_row_replaced) {
    collecting_sink sink;
    batcher b("t", sink, 25, tarius::pipeline::MAX_BATCH_BYTES, true);
    using tarius::pipeline::row_origin;
    ASSERT_TRUE(b.add(make_item("a", "first"), make_item("a", "first").json, 10, 3, row_origin{"a,first\n", 2, 0}));
    ASSERT_TRUE(b.add(make_item("b", "only"), make_item("b", "only").json, 20, 4, row_origin{"b,only\n", 3, 10}));
    ASSERT_TRUE(b.add(make_item("a", "second"), make_item("a", "second").json, 30, 5, row_origin{"a,second\n", 4, 20}));
    ASSERT_TRUE(b.add(make_item("a", "third"), make_item("a", "third").json, 40, 6, row_origin{"a,third\n", 5, 30}));
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 1u);
    const batch& out = sink.batches[0];
    ASSERT_EQ(out.items_info.size(), 2u);
    EXPECT_EQ(out.collapsed, 2u);
    EXPECT_EQ(out.item_json(0), make_item("a", "third").json);
    EXPECT_EQ(out.raw_row(out.items_info[0].origin), "a,third\n");
    EXPECT_EQ(out.items_info[0].origin.line, 5u);
    EXPECT_EQ(out.raw_row(out.items_info[1].origin), "b,only\n");
    // The chain of replaced rows, newest first: second, then first.
    ASSERT_GE(out.items_info[0].replaced, 0);
    const auto& second = out.replaced[static_cast<size_t>(out.items_info[0].replaced)];
    EXPECT_EQ(out.replaced_item_json(second), make_item("a", "second").json);
    EXPECT_EQ(out.raw_row(second.origin), "a,second\n");
    ASSERT_GE(second.replaced, 0);
    const auto& first = out.replaced[static_cast<size_t>(second.replaced)];
    EXPECT_EQ(out.replaced_item_json(first), make_item("a", "first").json);
    EXPECT_EQ(first.origin.line, 2u);
    EXPECT_EQ(first.replaced, -1);
    EXPECT_EQ(out.items_info[1].replaced, -1);
}

TEST(batcher, same_key_in_a_later_batch_is_written_again_and_exposed) {
    collecting_sink sink;
    batcher b("t", sink, 2);
    ASSERT_TRUE(b.add(make_item("a", "1"), 1, 2));
    ASSERT_TRUE(b.add(make_item("b", "1"), 2, 3));
    ASSERT_TRUE(b.add(make_item("c", "1"), 3, 4));  // seals [a, b]
    ASSERT_TRUE(b.add(make_item("a", "2"), 4, 5));  // a again, in the second batch
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 2u);
    EXPECT_EQ(b.collapsed_duplicates(), 0u);
    EXPECT_EQ(sink.batches[0].items_info[0].key_hash, sink.batches[1].items_info[1].key_hash);
    EXPECT_EQ(parse_body(sink.batches[1].body, "t")[1].second, "2");
}

TEST(batcher, a_full_batch_is_sealed_lazily_so_a_repeat_still_collapses) {
    collecting_sink sink;
    batcher b("t", sink, 2);
    ASSERT_TRUE(b.add(make_item("a", "1"), 1, 2));
    ASSERT_TRUE(b.add(make_item("b", "1"), 2, 3));
    ASSERT_TRUE(b.add(make_item("a", "2"), 3, 4));  // the full batch is still open: a replaces a
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 1u);
    EXPECT_EQ(b.collapsed_duplicates(), 1u);
    EXPECT_EQ(parse_body(sink.batches[0].body, "t")[0].second, "2");
}

TEST(batcher, equal_hash_with_different_key_is_not_a_duplicate) {
    collecting_sink sink;
    batcher b("t", sink);
    ASSERT_TRUE(b.add(make_item("a", "1", 42), 1, 2));
    ASSERT_TRUE(b.add(make_item("b", "2", 42), 2, 3));
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 1u);
    EXPECT_EQ(sink.batches[0].items, 2u);
    EXPECT_EQ(b.collapsed_duplicates(), 0u);
}

TEST(batcher, seals_before_the_byte_limit) {
    collecting_sink sink;
    const std::string payload(1000, 'x');
    batcher b("t", sink, 25, 2500);  // room for two items of ~1 KB each
    for (int idx = 0; idx < 5; ++idx) ASSERT_TRUE(b.add(make_item(std::to_string(idx), payload), 1, 1));
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 3u);
    for (const auto& out : sink.batches) EXPECT_LE(out.body.size(), 2500u);
}

TEST(batcher, spans_cover_rejected_rows_and_give_resume_points) {
    collecting_sink sink;
    batcher b("t", sink, 2);
    b.advance(100, 2);                                // header consumed
    ASSERT_TRUE(b.add(make_item("a", "1"), 150, 3));  // row 2
    b.advance(200, 4);                                // row 3 rejected
    ASSERT_TRUE(b.add(make_item("b", "1"), 250, 6));  // row 4 spans two lines
    b.advance(300, 7);                                // row 6 rejected
    ASSERT_TRUE(b.add(make_item("c", "1"), 350, 8));  // seals [100, 300)
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 2u);
    EXPECT_EQ(sink.batches[0].start_offset, 100u);
    EXPECT_EQ(sink.batches[0].end_offset, 300u);
    EXPECT_EQ(sink.batches[0].end_line, 7u);
    EXPECT_EQ(sink.batches[1].start_offset, 300u);
    EXPECT_EQ(sink.batches[1].end_offset, 350u);
    EXPECT_EQ(sink.batches[1].end_line, 8u);
    EXPECT_EQ(sink.batches[0].sequence, 0u);
    EXPECT_EQ(sink.batches[1].sequence, 1u);
}

TEST(batcher, table_name_is_escaped_in_the_body) {
    collecting_sink sink;
    batcher b("we\"ird\\name", sink);
    ASSERT_TRUE(b.add(make_item("a", "1"), 1, 2));
    ASSERT_TRUE(b.flush());
    ASSERT_EQ(sink.batches.size(), 1u);
    EXPECT_EQ(parse_body(sink.batches[0].body, "we\"ird\\name").size(), 1u);
}

TEST(batcher, flush_without_items_emits_nothing) {
    collecting_sink sink;
    batcher b("t", sink);
    b.advance(10, 2);
    ASSERT_TRUE(b.flush());
    ASSERT_TRUE(b.flush());
    EXPECT_TRUE(sink.batches.empty());
    EXPECT_EQ(b.batches_emitted(), 0u);
}

}  // namespace
