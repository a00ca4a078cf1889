// The two-thread engine (engine_options::threads = 2) against the one-thread engine: the same batches, rejects,
// reasons, errors and summary on generated data, edge cases, errors in the middle of the input and sinks that
// fail, whatever the chunking.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "engine_harness.hpp"

namespace {

using namespace engine_harness;

// Everything but the wall time, and the write that reported an error: with two threads an error found while
// encoding surfaces at a later write() or at finish(), never earlier.
void expect_same(const run_result& one, const run_result& two, const std::string& what) {
    EXPECT_EQ(two.ok, one.ok) << what;
    EXPECT_EQ(two.error, one.error) << what;
    EXPECT_EQ(two.totals.rows_read, one.totals.rows_read) << what;
    EXPECT_EQ(two.totals.items, one.totals.items) << what;
    EXPECT_EQ(two.totals.rows_rejected, one.totals.rows_rejected) << what;
    EXPECT_EQ(two.totals.rejected_by_reason, one.totals.rejected_by_reason) << what;
    EXPECT_EQ(two.totals.duplicates_collapsed, one.totals.duplicates_collapsed) << what;
    EXPECT_EQ(two.totals.blank_lines, one.totals.blank_lines) << what;
    EXPECT_EQ(two.totals.batches, one.totals.batches) << what;
    EXPECT_EQ(two.totals.bytes_in, one.totals.bytes_in) << what;
    EXPECT_EQ(two.totals.compressed_bytes_in, one.totals.compressed_bytes_in) << what;
    EXPECT_EQ(two.totals.compression, one.totals.compression) << what;
    ASSERT_EQ(two.totals.first_errors.size(), one.totals.first_errors.size()) << what;
    for (size_t error_idx = 0; error_idx < one.totals.first_errors.size(); ++error_idx) {
        const auto& expected = one.totals.first_errors[error_idx];
        const auto& actual = two.totals.first_errors[error_idx];
        EXPECT_EQ(actual.line, expected.line) << what;
        EXPECT_EQ(actual.byte_offset, expected.byte_offset) << what;
        EXPECT_EQ(actual.reason, expected.reason) << what;
        EXPECT_EQ(actual.column, expected.column) << what;
        EXPECT_EQ(actual.message, expected.message) << what;
    }
    ASSERT_EQ(two.batches.size(), one.batches.size()) << what;
    for (size_t batch_idx = 0; batch_idx < one.batches.size(); ++batch_idx) {
        const batch& expected = one.batches[batch_idx];
        const batch& actual = two.batches[batch_idx];
        EXPECT_EQ(actual.body, expected.body) << what << " batch " << batch_idx;
        ASSERT_EQ(actual.items_info.size(), expected.items_info.size()) << what << " batch " << batch_idx;
        for (size_t item_idx = 0; item_idx < expected.items_info.size(); ++item_idx) {
            EXPECT_EQ(actual.items_info[item_idx].key_hash, expected.items_info[item_idx].key_hash) << what;
            EXPECT_EQ(actual.items_info[item_idx].origin.line, expected.items_info[item_idx].origin.line) << what;
        }
        EXPECT_EQ(actual.rows, expected.rows) << what << " batch " << batch_idx;
        EXPECT_EQ(actual.sequence, expected.sequence) << what;
        EXPECT_EQ(actual.start_offset, expected.start_offset) << what;
        EXPECT_EQ(actual.end_offset, expected.end_offset) << what;
        EXPECT_EQ(actual.end_line, expected.end_line) << what;
        EXPECT_EQ(actual.item_bytes, expected.item_bytes) << what;
    }
    EXPECT_EQ(two.rejects_csv, one.rejects_csv) << what;
    EXPECT_EQ(two.reasons, one.reasons) << what;
    EXPECT_EQ(two.rejects_finished, one.rejects_finished) << what;
    if (one.failed_write != SIZE_MAX) {
        EXPECT_GE(two.failed_write, one.failed_write) << what;
    }
}

TEST(engine_threads, same_output_as_one_thread_on_generated_data) {
    // ~5 MB: many 512 KiB blocks, with bad rows, duplicates and edge cases (quotes, newlines, unicode).
    const std::string data = generated(20000, 41, 13);
    for (size_t chunk : {size_t{1} << 20, size_t{65536}, size_t{4093}}) {
        const run_result one = run(data, chunk, products_options(1));
        ASSERT_TRUE(one.ok) << one.error;
        EXPECT_TRUE(one.totals.reconciles());
        EXPECT_GT(one.totals.rows_rejected, 0u);
        EXPECT_GT(one.totals.duplicates_collapsed, 0u);
        expect_same(one, run(data, chunk, products_options(2)), "chunk " + std::to_string(chunk));
    }
}

TEST(engine_threads, same_output_on_small_chunks_and_crlf) {
    const std::string data = generated(1500, 7, 5, true, 3);
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{300}}) {
        const run_result one = run(data, chunk, products_options(1));
        ASSERT_TRUE(one.ok) << one.error;
        expect_same(one, run(data, chunk, products_options(2)), "crlf chunk " + std::to_string(chunk));
    }
}

TEST(engine_threads, same_output_on_edge_cases) {
    struct edge_case {
        const char* name;
        std::string data;
    };
    const std::string header = "ID,Title,Price (USD)\n";
    const std::vector<edge_case> cases = {
        {"empty file", ""},
        {"header only", header},
        {"header without line break", "ID,Title,Price (USD)"},
        {"no key column", "Title,Price (USD)\na,1\n"},
        {"duplicate header names", "ID,ID,Price (USD)\n1,2,3\n"},
        {"last row without line break", header + "a,b,1\nc,d,2"},
        {"blank lines", header + "\n\na,b,1\n\r\n\nc,d,2\n\n"},
        {"quoted fields with escapes", header + "\"a\",\"x \"\"q\"\" y\",\"$1,299.00 \"\n\"b\nc\",\"\\\\ \t\",3\n"},
        {"control bytes", header + "a,\"\x01\x1f\x7f\",1\n"},
        {"field count", header + "a,b\nc,d,1,2\ne,f,3\n"},
        {"unterminated quote", header + "a,b,1\nc,\"open,2\nmore\n"},
        {"invalid utf-8", header + "a,b\xff\xfe,1\nc,d,2\n"},
        {"bad numbers and empty keys", header + ",b,1\nc,d,x\ne,f,1e999\ng,h,5\n"},
        {"duplicate keys", header + "a,1,1\na,2,2\nb,3,3\na,4,4\n"},
        {"bom and crlf", "\xEF\xBB\xBF" + std::string("ID,Title,Price (USD)\r\na,b,1\r\nc,d,2\r\n")},
        {"lone cr", "ID,Title,Price (USD)\ra,b,1\rc,d,2\r"},
    };
    for (const edge_case& c : cases) {
        for (size_t chunk : {size_t{1}, size_t{3}, size_t{1} << 20}) {
            const run_result one = run(c.data, chunk, products_options(1));
            expect_same(one, run(c.data, chunk, products_options(2)),
                        std::string(c.name) + " chunk " + std::to_string(chunk));
        }
    }
}

TEST(engine_threads, rejects_past_the_threshold_stop_at_the_same_row) {
    const std::string data = generated(20000, 3, 0);
    for (uint64_t max_rejects : {uint64_t{0}, uint64_t{5}, uint64_t{3000}}) {
        for (size_t chunk : {size_t{4096}, size_t{1} << 20}) {
            engine_options options1 = products_options(1);
            options1.max_rejects = max_rejects;
            engine_options options2 = products_options(2);
            options2.max_rejects = max_rejects;
            const run_result one = run(data, chunk, std::move(options1));
            ASSERT_FALSE(one.ok);
            EXPECT_NE(one.error.find("rows rejected"), std::string::npos) << one.error;
            EXPECT_EQ(one.totals.rows_rejected, max_rejects + 1);
            // Every reject counted is written out, though the file stopped before finish().
            EXPECT_TRUE(one.rejects_finished);
            EXPECT_EQ(static_cast<uint64_t>(std::count(one.reasons.begin(), one.reasons.end(), '\n')), max_rejects + 1);
            expect_same(one, run(data, chunk, std::move(options2)),
                        "max_rejects " + std::to_string(max_rejects) + " chunk " + std::to_string(chunk));
        }
    }
}

TEST(engine_threads, a_failing_batch_sink_stops_at_the_same_row) {
    const std::string data = generated(20000, 0, 0);
    for (size_t fail_batch : {size_t{0}, size_t{1}, size_t{300}, size_t{799}}) {
        const run_result one = run(data, 65536, products_options(1), fail_batch);
        ASSERT_FALSE(one.ok);
        EXPECT_EQ(one.error, "sink gave up");
        EXPECT_EQ(one.batches.size(), fail_batch);
        expect_same(one, run(data, 65536, products_options(2), fail_batch), "fail " + std::to_string(fail_batch));
    }
}

TEST(engine_threads, corrupt_gzip_after_good_rows_reports_the_same_error_and_counts) {
    const std::string data = generated(8000, 17, 0);
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

    const run_result whole1 = run(packed, 65536, products_options(1));
    ASSERT_TRUE(whole1.ok) << whole1.error;
    expect_same(whole1, run(packed, 65536, products_options(2)), "gzip");

    std::string corrupt = packed;
    for (size_t idx = corrupt.size() * 2 / 3; idx < corrupt.size() * 2 / 3 + 64; ++idx) corrupt[idx] ^= 0x5a;
    const run_result one = run(corrupt, 4096, products_options(1));
    ASSERT_FALSE(one.ok);
    EXPECT_GT(one.batches.size(), 0u);
    expect_same(one, run(corrupt, 4096, products_options(2)), "corrupt gzip");

    const std::string truncated = packed.substr(0, packed.size() / 2);
    const run_result cut = run(truncated, 4096, products_options(1));
    ASSERT_FALSE(cut.ok);
    expect_same(cut, run(truncated, 4096, products_options(2)), "truncated gzip");
}

TEST(engine_threads, resuming_gives_the_same_batches) {
    const std::string data = generated(6000, 11, 7);
    const run_result whole = run(data, 65536, products_options(1));
    ASSERT_TRUE(whole.ok) << whole.error;
    ASSERT_GT(whole.batches.size(), 100u);
    for (size_t cut : {size_t{0}, size_t{57}, whole.batches.size() - 2}) {
        const batch& done = whole.batches[cut];
        const run_result one = run(data, 65536, products_options(1), SIZE_MAX, done.end_offset, done.end_line);
        ASSERT_TRUE(one.ok) << one.error;
        expect_same(one, run(data, 65536, products_options(2), SIZE_MAX, done.end_offset, done.end_line),
                    "resume after batch " + std::to_string(cut));
    }
}

TEST(engine_threads, oversized_rows_and_fields_match) {
    std::string data = "ID,Title,Price (USD)\n";
    for (int row_idx = 0; row_idx < 3000; ++row_idx) {
        const size_t width = static_cast<size_t>(row_idx % 50 == 0 ? 3000 : 40 + row_idx % 300);
        data += "k" + std::to_string(row_idx) + ",\"" + std::string(width, static_cast<char>('a' + row_idx % 26)) +
                (row_idx % 7 == 0 ? "\"\"x\"\"" : "") + "\"," + std::to_string(row_idx) + "\n";
    }
    for (size_t chunk : {size_t{997}, size_t{1} << 20}) {
        engine_options options1 = products_options(1);
        options1.dialect.max_field_size = 2000;
        options1.dialect.max_row_size = 2500;
        engine_options options2 = products_options(2);
        options2.dialect.max_field_size = 2000;
        options2.dialect.max_row_size = 2500;
        const run_result one = run(data, chunk, std::move(options1));
        ASSERT_TRUE(one.ok) << one.error;
        EXPECT_EQ(one.totals.rows_rejected, 60u);
        expect_same(one, run(data, chunk, std::move(options2)), "oversized chunk " + std::to_string(chunk));
    }
}

TEST(engine_threads, abandoning_a_running_engine_joins_cleanly) {
    const std::string data = generated(20000, 0, 0);
    for (size_t stop_after : {size_t{1}, size_t{3}, size_t{40}}) {
        collecting_sink batches;
        auto eng = engine::create(products_options(2), batches, nullptr);
        ASSERT_TRUE(eng);
        for (size_t offset = 0, writes = 0; offset < data.size() && writes < stop_after; offset += 65536, ++writes) {
            ASSERT_TRUE((*eng)->input().write(std::string_view(data).substr(offset, 65536)));
        }
        eng->reset();  // destroyed without finish(): the worker is stopped and joined
    }
}

TEST(engine_threads, rows_read_into_the_engines_own_buffers_match) {
    const std::string data = generated(20000, 29, 17);
    for (size_t chunk : {size_t{1} << 20, size_t{262144}, size_t{4096}, size_t{1}}) {
        const std::string what = "input buffers, chunk " + std::to_string(chunk);
        const std::string& input = chunk == 1 ? generated(300, 7, 5) : data;
        const run_result one = run(input, chunk, products_options(1));
        ASSERT_TRUE(one.ok) << one.error;
        expect_same(one, run(input, chunk, products_options(2), SIZE_MAX, 0, 0, feeding::INPUT_BUFFER), what);
    }
    for (uint64_t max_rejects : {uint64_t{3}, uint64_t{400}}) {
        engine_options options1 = products_options(1);
        options1.max_rejects = max_rejects;
        engine_options options2 = products_options(2);
        options2.max_rejects = max_rejects;
        const run_result one = run(data, 65536, std::move(options1));
        ASSERT_FALSE(one.ok);
        expect_same(one, run(data, 65536, std::move(options2), SIZE_MAX, 0, 0, feeding::INPUT_BUFFER),
                    "input buffers, max_rejects " + std::to_string(max_rejects));
    }
    const run_result one = run(data, 65536, products_options(1), 123);
    expect_same(one, run(data, 65536, products_options(2), 123, 0, 0, feeding::INPUT_BUFFER),
                "input buffers, failing sink");
}

TEST(engine_threads, a_file_pumped_with_two_threads_matches) {
    const std::string data = generated(12000, 23, 19, true, 5);
    char path[] = "/tmp/tarius_engine_threads_XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    close(fd);
    const run_result one = run(data, 1 << 20, products_options(1));
    ASSERT_TRUE(one.ok) << one.error;
    for (size_t chunk : {size_t{1} << 20, size_t{65536}, size_t{1000}}) {
        for (const unsigned threads : {1U, 2U}) {
            for (const bool ahead : {false, true}) {
                collecting_sink batches;
                string_sink csv, reasons;
                tarius::pipeline::rejects_writer rejects(csv, reasons, 4096);
                auto eng = engine::create(products_options(threads), batches, &rejects);
                ASSERT_TRUE(eng);
                tarius::pump_options pump;
                pump.chunk_size = chunk;
                pump.read_ahead = ahead;
                ASSERT_TRUE(tarius::pump_file(path, (*eng)->input(), pump));
                run_result two;
                two.ok = true;
                two.totals = (*eng)->current_summary();
                two.batches = std::move(batches.batches);
                two.rejects_csv = csv.data();
                two.reasons = reasons.data();
                two.rejects_finished = csv.finished();
                expect_same(one, two,
                            "pump_file chunk " + std::to_string(chunk) + " engine threads " + std::to_string(threads) +
                                (ahead ? " read ahead" : ""));
            }
        }
    }
    std::remove(path);
}

}  // namespace
