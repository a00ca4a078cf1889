#pragma once
// The engine driven like its callers drive it, for the engine's unit tests: generated input written in chunks of any
// size (or through the engine's own input buffers), batches and rejects collected, the outcome and summary kept.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "tarius/pipeline/engine.hpp"
#include "tarius/sample.hpp"

namespace engine_harness {

using tarius::pipeline::batch;
using tarius::pipeline::engine;
using tarius::pipeline::engine_options;
using tarius::pipeline::string_sink;
using tarius::pipeline::summary;

// Keeps every batch; optionally fails on the Nth one (0-based) like a writer that gives up.
struct collecting_sink final : tarius::pipeline::batch_sink {
    std::vector<batch> batches;
    size_t fail_at = SIZE_MAX;
    tarius::result<void> on_batch(batch&& b) override {
        if (batches.size() == fail_at) return tarius::make_error(tarius::errc::IO, "sink gave up");
        batches.push_back(std::move(b));
        return tarius::ok();
    }
};

inline std::string generated(uint64_t rows, uint64_t bad_every, uint64_t duplicate_every, bool crlf = false,
                             uint64_t seed = 1) {
    string_sink sink;
    tarius::sample::options opts;
    opts.rows = rows;
    opts.seed = seed;
    opts.edge_cases = true;
    opts.bad_every = bad_every;
    opts.duplicate_every = duplicate_every;
    opts.crlf = crlf;
    EXPECT_TRUE(tarius::sample::generate(opts, sink));
    return sink.data();
}

inline engine_options products_options(unsigned threads = 1) {
    engine_options options;
    options.source = "products.csv";
    options.table = "product";
    options.threads = threads;
    options.mapping.keys = tarius::mapping::key_schema{{"ID", tarius::mapping::key_type::S}, std::nullopt};
    tarius::mapping::column_rule price;
    price.column = "Price (USD)";
    price.type = tarius::mapping::value_type::NUMBER;
    price.currency = true;
    options.mapping.columns.push_back(price);
    return options;
}

struct run_result {
    summary totals;
    std::vector<batch> batches;
    std::string rejects_csv;
    std::string reasons;
    bool rejects_finished = false;
    bool ok = false;
    std::string error;
    size_t failed_write = SIZE_MAX;  // index of the write() that failed, SIZE_MAX for finish() or none
};

// How the input reaches the engine: write() of slices of `data`, or like pump_file when the engine offers its
// own memory (byte_sink::input_buffer): each chunk is copied into that buffer first, and the previous buffer is
// scribbled over, so that a row still pointing into a buffer after it was given back would show up.
enum class feeding : uint8_t { SLICES, INPUT_BUFFER };

inline run_result run(const std::string& data, size_t chunk, engine_options options, size_t fail_batch = SIZE_MAX,
                      uint64_t resume_offset = 0, uint64_t resume_line = 0, feeding how = feeding::SLICES) {
    run_result out;
    collecting_sink batches;
    batches.fail_at = fail_batch;
    string_sink csv, reasons;
    tarius::pipeline::rejects_writer rejects(csv, reasons, 4096);
    auto eng = engine::create(std::move(options), batches, &rejects);
    EXPECT_TRUE(eng);
    if (resume_offset) (*eng)->resume_at(resume_offset, resume_line);
    tarius::result<void> status;
    size_t write_idx = 0;
    std::vector<std::string> own_buffers(2, std::string(chunk, '\0'));
    for (size_t offset = 0; offset < data.size() && status; offset += chunk, ++write_idx) {
        const std::string_view piece = std::string_view(data).substr(offset, chunk);
        if (how == feeding::SLICES) {
            status = (*eng)->input().write(piece);
        } else {
            const std::span<char> offered = (*eng)->input().input_buffer(chunk);
            std::string& own = own_buffers[write_idx % 2];
            char* target = offered.size() >= chunk ? offered.data() : own.data();
            std::memcpy(target, piece.data(), piece.size());
            status = (*eng)->input().write(std::string_view(target, piece.size()));
            std::memset(own.data(), '#', own.size());  // the engine may not keep views into the caller's memory
        }
        if (!status) out.failed_write = write_idx;
    }
    if (status) status = (*eng)->finish();
    out.ok = bool(status);
    if (!status) out.error = status.err().message;
    out.totals = (*eng)->current_summary();
    out.batches = std::move(batches.batches);
    out.rejects_csv = csv.data();
    out.reasons = reasons.data();
    out.rejects_finished = csv.finished();
    return out;
}

}  // namespace engine_harness
