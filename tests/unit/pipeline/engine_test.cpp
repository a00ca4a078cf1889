#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "engine_harness.hpp"

namespace {

using namespace engine_harness;

TEST(engine, counts_reconcile_and_do_not_depend_on_chunking) {
    const std::string data = generated(3000, 37, 11);
    const run_result whole = run(data, data.size(), products_options());
    ASSERT_TRUE(whole.ok) << whole.error;
    EXPECT_EQ(whole.totals.rows_read, 3000u);
    EXPECT_TRUE(whole.totals.reconciles());
    EXPECT_GT(whole.totals.rows_rejected, 0u);
    EXPECT_GT(whole.totals.duplicates_collapsed, 0u);
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}}) {
        const run_result split = run(data, chunk, products_options());
        ASSERT_TRUE(split.ok) << split.error;
        EXPECT_EQ(split.totals.items, whole.totals.items) << chunk;
        EXPECT_EQ(split.totals.rows_rejected, whole.totals.rows_rejected) << chunk;
        EXPECT_EQ(split.totals.rejected_by_reason, whole.totals.rejected_by_reason) << chunk;
        ASSERT_EQ(split.batches.size(), whole.batches.size()) << chunk;
        for (size_t batch_idx = 0; batch_idx < split.batches.size(); ++batch_idx) {
            EXPECT_EQ(split.batches[batch_idx].body, whole.batches[batch_idx].body);
        }
        EXPECT_EQ(split.rejects_csv, whole.rejects_csv);
    }
}

TEST(engine, resuming_at_a_batch_boundary_gives_the_remaining_batches) {
    const std::string data = generated(2000, 13, 9);
    const run_result whole = run(data, 65536, products_options());
    ASSERT_TRUE(whole.ok) << whole.error;
    ASSERT_GT(whole.batches.size(), 10u);
    for (size_t cut : {size_t{0}, size_t{5}, whole.batches.size() - 2}) {
        const batch& done = whole.batches[cut];
        const run_result rest = run(data, 65536, products_options(), SIZE_MAX, done.end_offset, done.end_line);
        ASSERT_TRUE(rest.ok) << rest.error;
        ASSERT_EQ(rest.batches.size(), whole.batches.size() - cut - 1);
        uint64_t items_before = 0;
        for (size_t batch_idx = 0; batch_idx <= cut; ++batch_idx) items_before += whole.batches[batch_idx].items;
        for (size_t batch_idx = 0; batch_idx < rest.batches.size(); ++batch_idx) {
            EXPECT_EQ(rest.batches[batch_idx].body, whole.batches[cut + 1 + batch_idx].body);
            EXPECT_EQ(rest.batches[batch_idx].end_offset, whole.batches[cut + 1 + batch_idx].end_offset);
            EXPECT_EQ(rest.batches[batch_idx].end_line, whole.batches[cut + 1 + batch_idx].end_line);
        }
        EXPECT_EQ(items_before + rest.totals.items, whole.totals.items);
    }
}

TEST(engine, needs_a_key_schema) {
    collecting_sink batches;
    engine_options options;
    options.table = "t";
    auto eng = engine::create(std::move(options), batches, nullptr);
    ASSERT_FALSE(eng);
    EXPECT_EQ(eng.err().code, tarius::errc::INVALID_ARGUMENT);
}

TEST(engine, header_without_the_key_fails_the_file_not_the_rows) {
    const run_result r = run("Title,Brand,Price (USD)\na,b,1\nc,d,2\n", 4, products_options());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("column ID (partition key) not in header"), std::string::npos) << r.error;
    EXPECT_EQ(r.totals.rows_rejected, 0u);
    EXPECT_TRUE(r.batches.empty());
}

TEST(engine, stops_when_rejects_pass_the_threshold) {
    engine_options options = products_options();
    options.max_rejects = 5;
    const run_result r = run(generated(1000, 2, 0), 4096, std::move(options));
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("more than 5 rows rejected"), std::string::npos) << r.error;
}

TEST(engine, gzip_input_is_decoded_and_counted) {
    const std::string data = generated(500, 0, 0);
    std::string packed(compressBound(static_cast<uLong>(data.size())) + 64, '\0');
    z_stream zs{};
    ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(packed.data());
    zs.avail_out = static_cast<uInt>(packed.size());
    ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    packed.resize(zs.total_out);
    deflateEnd(&zs);

    const run_result plain = run(data, 4096, products_options());
    const run_result gz = run(packed, 333, products_options());
    ASSERT_TRUE(gz.ok) << gz.error;
    EXPECT_EQ(gz.totals.items, plain.totals.items);
    EXPECT_EQ(gz.totals.bytes_in, data.size());
    EXPECT_EQ(gz.totals.compressed_bytes_in, packed.size());
    EXPECT_EQ(gz.totals.compression, "gzip");
    ASSERT_EQ(gz.batches.size(), plain.batches.size());
    EXPECT_EQ(gz.batches.back().body, plain.batches.back().body);
}

}  // namespace

// A delete feed's operation column: delete rows become DeleteRequests of their key alone (other cells unread), put
// rows stay puts, in one file-ordered stream; a cell that is neither is rejected with its reason.
TEST(engine, operation_column_makes_rows_deletes) {
    using namespace engine_harness;
    const std::string input =
        "ID,Price,op\n"
        "a,1,U\n"
        "b,not a number,D\n"  // a delete reads only the key: the bad price is no reason to refuse it
        "a,2,D\n"             // a put then a delete of a: the delete wins in the batch
        "c,3,X\n"             // neither: rejected
        "d,4,\n";
    engine_options options;
    options.source = "ops.csv";
    options.table = "t";
    options.mapping.keys = tarius::mapping::key_schema{{"ID", tarius::mapping::key_type::S}, std::nullopt};
    tarius::mapping::column_rule price;
    price.column = "Price";
    price.type = tarius::mapping::value_type::NUMBER;
    options.mapping.columns.push_back(price);
    tarius::mapping::column_rule op;
    op.column = "op";
    op.skip = true;
    options.mapping.columns.push_back(op);
    options.operation = tarius::pipeline::row_operation{"op", {"D"}, {"U", ""}};
    const run_result out = run(input, 7, options);
    ASSERT_TRUE(out.ok) << out.error;
    ASSERT_EQ(out.batches.size(), 1u);
    EXPECT_EQ(
        out.batches[0].body,
        R"({"RequestItems":{"t":[{"DeleteRequest":{"Key":{"ID":{"S":"a"}}}},{"DeleteRequest":{"Key":{"ID":{"S":"b"}}}},)"
        R"({"PutRequest":{"Item":{"ID":{"S":"d"},"Price":{"N":"4"}}}}]}})");
    EXPECT_EQ(out.totals.rows_read, 5u);
    EXPECT_EQ(out.totals.rows_rejected, 1u);
    EXPECT_EQ(out.totals.duplicates_collapsed, 1u);
    EXPECT_EQ(out.totals.rejected_by_reason[static_cast<size_t>(tarius::reject_reason::INVALID_OPERATION)], 1u);
    EXPECT_NE(out.reasons.find(R"(operation column op holds \"X\": expected \"D\" (delete) or \"U\", \"\" (put))"),
              std::string::npos)
        << out.reasons;
    EXPECT_EQ(out.batches[0].items_info[0].kind, tarius::pipeline::write_kind::DELETE);
    EXPECT_EQ(out.batches[0].items_info[2].kind, tarius::pipeline::write_kind::PUT);
}

TEST(engine, a_missing_operation_column_is_a_file_error) {
    using namespace engine_harness;
    engine_options options;
    options.source = "ops.csv";
    options.table = "t";
    options.mapping.keys = tarius::mapping::key_schema{{"ID", tarius::mapping::key_type::S}, std::nullopt};
    options.operation = tarius::pipeline::row_operation{"op", {"D"}, {}};
    const run_result out = run("ID,V\na,1\n", 64, options);
    ASSERT_FALSE(out.ok);
    EXPECT_NE(out.error.find("operation column op not in header: ID, V"), std::string::npos) << out.error;
}
